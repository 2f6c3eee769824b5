// The device authorization grant (RFC 8628), driven by openid-client 6's device-flow functions
// (initiateDeviceAuthorization, pollDeviceAuthorizationGrant): a CLI asks for codes, the person
// signs in on the device page, types the user code and allows or denies, and the CLI's polling
// gets tokens, access_denied, expired_token or slow_down. User codes are short, unambiguous,
// single use and limited in how often they may be guessed.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import * as oidc from "openid-client";
import { appsClosedAfter } from "./support/app.mjs";
import { providerVars, registerClient, signedInBrowser } from "./support/provider.mjs";
import { randomIp } from "./support/ways_in.mjs";

const spawn = appsClosedAfter(after);
const app = await spawn({ vars: providerVars() });
// Device codes of a second worker expire after a second: its first poll, five seconds on, is late.
const brief = await spawn({ vars: providerVars({ OAUTH_DEVICE_CODE_TTL_SECONDS: "1" }) });
const USER_CODE = /^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/;
const API = "https://api.example/";

/** A public client allowed the device grant, as openid-client sees it. */
async function cli(target, fields = {}) {
  const client = await registerClient(target, { name: "Notes CLI", type: "public", device_grant: true, ...fields });
  const config = await oidc.discovery(new URL(target.base), client.client_id, {}, oidc.None(), { execute: [oidc.allowInsecureRequests] });
  return { client, config };
}

/** The person's answer on the device page: type the code, then Allow or Deny. */
async function answer(target, person, userCode, decision, { ip = randomIp() } = {}) {
  const page = await fetch(`${target.base}/oauth2/device?user_code=${encodeURIComponent(userCode)}`, {
    headers: { Cookie: person.cookie, "CF-Connecting-IP": ip },
  });
  const html = await page.text();
  assert.equal(page.status, 200, html.slice(0, 400));
  const shown = userCode.toUpperCase().replace(/[\s-]/g, "").replace(/^(.{4})/, "$1-");
  assert.match(html, new RegExp(`Check that your device shows this code: <strong class="user-code">${shown}</strong>`));
  const csrf = html.match(/name="csrf" value="([^"]+)"/)[1];
  const response = await fetch(`${target.base}/oauth2/device`, {
    method: "POST",
    headers: { Cookie: person.cookie, Origin: target.base, "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ user_code: userCode, csrf, decision }),
  });
  return { status: response.status, text: await response.text() };
}

/** The error a poll ended with. */
async function pollError(config, started, options) {
  try {
    await oidc.pollDeviceAuthorizationGrant(config, started, undefined, options);
  } catch (error) {
    return error.error ?? error.name;
  }
  assert.fail("the poll got tokens");
}

test("a device approved on the device page gets tokens for its resource, once", async () => {
  const { client, config } = await cli(app);
  const person = await signedInBrowser(app);
  const started = await oidc.initiateDeviceAuthorization(config, { scope: "openid email offline_access", resource: API });
  assert.match(started.user_code, USER_CODE);
  assert.equal(started.verification_uri, `${app.base}/oauth2/device`);
  assert.equal(started.verification_uri_complete, `${app.base}/oauth2/device?user_code=${started.user_code}`);
  assert.equal(started.expires_in, 600);
  assert.equal(started.interval, 5);

  // Signed out, the device page sends the person to sign in and back, code kept.
  const signedOut = await fetch(started.verification_uri_complete, { redirect: "manual" });
  assert.equal(signedOut.status, 302);
  const back = new URL(signedOut.headers.get("location"), app.base).searchParams.get("return_to");
  assert.equal(back, `/oauth2/device?user_code=${started.user_code}`);

  // Typed in lower case with spaces, the code still works.
  const typed = started.user_code.toLowerCase().replace("-", " ");
  const allowed = await answer(app, person, typed, "allow");
  assert.equal(allowed.status, 200);
  assert.match(allowed.text, /Your device is connected/);

  // A poll naming another resource is refused, and spends nothing.
  const otherResource = await fetch(`${app.base}/oauth2/token`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "urn:ietf:params:oauth:grant-type:device_code", device_code: started.device_code, client_id: client.client_id, resource: "https://other.example/" }),
  });
  assert.equal((await otherResource.json()).error, "invalid_target");

  const tokens = await oidc.pollDeviceAuthorizationGrant(config, started);
  assert.ok(tokens.access_token && tokens.refresh_token && tokens.id_token);
  const claims = tokens.claims();
  assert.equal(claims.sub, String(person.id));
  assert.equal(claims.email, person.email);
  const access = JSON.parse(Buffer.from(tokens.access_token.split(".")[1], "base64url"));
  assert.equal(access.aud, API, "the access token is for the resource asked for (RFC 8707)");
  assert.equal(access.client_id, client.client_id);

  // A token for another resource is not one for UserInfo.
  const userinfo = await fetch(`${app.base}/oauth2/userinfo`, { headers: { Authorization: `Bearer ${tokens.access_token}` } });
  assert.equal(userinfo.status, 401);

  // The device code is spent: polling again gets invalid_grant.
  const again = await fetch(`${app.base}/oauth2/token`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "urn:ietf:params:oauth:grant-type:device_code", device_code: started.device_code, client_id: client.client_id }),
  });
  assert.equal(again.status, 400);
  assert.equal((await again.json()).error, "invalid_grant");

  // The grant refreshes, for its resource only.
  const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token);
  assert.ok(refreshed.access_token);
  const wrongResource = await fetch(`${app.base}/oauth2/token`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: refreshed.refresh_token, client_id: client.client_id, resource: "https://other.example/" }),
  });
  assert.equal(wrongResource.status, 400);
  assert.equal((await wrongResource.json()).error, "invalid_target");
  // Refused before it was spent: the same refresh token still works, and the grant goes on.
  const still = await oidc.refreshTokenGrant(config, refreshed.refresh_token, { resource: API });
  assert.ok(still.access_token);
});

test("revoking the app drops a device code the person approved that no poll has spent", async () => {
  const { client, config } = await cli(app);
  const person = await signedInBrowser(app);
  const started = await oidc.initiateDeviceAuthorization(config, { scope: "openid" });
  assert.equal((await answer(app, person, started.user_code, "allow")).status, 200);
  const revoked = await fetch(`${app.base}/oauth2/grants/${encodeURIComponent(client.client_id)}`, {
    method: "DELETE",
    headers: { Authorization: `Bearer ${person.token}` },
  });
  assert.equal(revoked.status, 200);
  assert.equal(await pollError(config, started), "invalid_grant");
});

test("a device the person denies gets access_denied", async () => {
  const { config } = await cli(app);
  const person = await signedInBrowser(app);
  const started = await oidc.initiateDeviceAuthorization(config, { scope: "openid" });
  const denied = await answer(app, person, started.user_code, "deny");
  assert.equal(denied.status, 200);
  assert.match(denied.text, /Access denied/);
  assert.equal(await pollError(config, started), "access_denied");
  // The code cannot be answered again.
  const page = await fetch(`${app.base}/oauth2/device?user_code=${started.user_code}`, { headers: { Cookie: person.cookie, "CF-Connecting-IP": randomIp() } });
  assert.equal(page.status, 400);
  assert.match(await page.text(), /not right, or it has expired/);
});

test("a device code nobody answered expires: expired_token", async () => {
  const { config } = await cli(brief);
  const started = await oidc.initiateDeviceAuthorization(config, { scope: "openid" });
  assert.equal(started.expires_in, 1);
  // openid-client stops polling at expires_in by itself; a longer signal lets it ask the server.
  assert.equal(await pollError(config, started, { signal: AbortSignal.timeout(60_000) }), "expired_token");
});

test("a device that polls too fast is told slow_down, and gets its tokens once it slows", async () => {
  const { config } = await cli(app);
  const person = await signedInBrowser(app);
  const started = await oidc.initiateDeviceAuthorization(config, { scope: "openid" });
  const answers = [];
  let approved;
  config[oidc.customFetch] = async (url, options) => {
    const response = await fetch(url, options);
    if (new URL(url).pathname === "/oauth2/token") {
      const body = await response.clone().json();
      answers.push(body.error ?? "tokens");
      // The person allows it once the device has been told to slow down.
      if (body.error === "slow_down") approved ??= answer(app, person, started.user_code, "allow");
    }
    return response;
  };
  // A device that ignores the interval it was given.
  const tokens = await oidc.pollDeviceAuthorizationGrant(config, { ...started, interval: 0 });
  assert.equal((await approved).status, 200);
  assert.ok(tokens.access_token);
  assert.deepEqual(answers.slice(0, 2), ["authorization_pending", "slow_down"]);
  assert.equal(answers.at(-1), "tokens");
});

test("user codes are guess-limited per account, and the device grant is for clients allowed it", async () => {
  const { config } = await cli(app);
  const person = await signedInBrowser(app);
  const started = await oidc.initiateDeviceAuthorization(config, { scope: "openid" });
  const ip = randomIp();
  const guess = (code) =>
    fetch(`${app.base}/oauth2/device?user_code=${code}`, { headers: { Cookie: person.cookie, "CF-Connecting-IP": ip } });
  const wrong = await Promise.all(Array.from({ length: 10 }, () => guess("BBBB-BBBB")));
  assert.deepEqual(wrong.map((r) => r.status), Array(10).fill(400));
  // The eleventh entry is refused, even with the right code: a guesser gets ten tries per 15 minutes.
  const right = await guess(started.user_code);
  assert.equal(right.status, 429);
  assert.match(await right.text(), /Too many codes were entered/);

  // Another site's link to the page fills the form in and spends no entry.
  const linked = await fetch(`${app.base}/oauth2/device?user_code=${started.user_code}`, {
    headers: { Cookie: person.cookie, "CF-Connecting-IP": randomIp(), "Sec-Fetch-Site": "cross-site" },
  });
  assert.equal(linked.status, 200);
  assert.match(await linked.text(), new RegExp(`name="user_code" value="${started.user_code}"`));

  const { config: notAllowed } = await cli(app, { device_grant: false });
  await assert.rejects(oidc.initiateDeviceAuthorization(notAllowed, { scope: "openid" }), (e) => e.error === "unauthorized_client");
});
