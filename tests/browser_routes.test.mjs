// Every route of the API, called from a page on an allowed origin through the web client in
// Chromium: CORS (preflight and answer) and headers proven route by route against the real worker.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { STRONG_PASSWORD, uniqueEmail } from "./support/app.mjs";
import { awayFromStepEdge, totpCode } from "./support/totp.mjs";
import { startOidcProvider } from "./support/oidc.mjs";
import { call, freePort, ok, startRig, throughProvider, virtualAuthenticator } from "./support/browser.mjs";
import { authorize, cookieFor, pkcePair, providerVars, registerClient } from "./support/provider.mjs";

// Social sign-in's routes need a provider: a real OpenID provider, whose client's callback is the
// worker's, on a port chosen before the worker starts.
const port = await freePort();
const social = { sub: "routes-1", email: uniqueEmail("social"), email_verified: true, name: "Social Routes" };
const linked = { sub: "routes-2", email: uniqueEmail("linked"), email_verified: true, name: "Linked" };
const oidc = await startOidcProvider({ redirectUris: [`http://127.0.0.1:${port}/oauth/test/callback`], accounts: { social, linked } });
after(() => oidc.close());
// Passkeys' routes need a site whose host can be the RP id: http://localhost:<port>, with Chromium's
// virtual authenticator on the page.
const rig = await startRig(after, {
  miniflare: { port },
  siteHost: "localhost",
  vars: (site) => ({
    RP_ID: "localhost",
    RP_ORIGINS: site,
    OIDC_PROVIDERS: "test",
    OIDC_TEST_ISSUER: oidc.issuer,
    OIDC_TEST_CLIENT_ID: oidc.clientId,
    OIDC_TEST_CLIENT_SECRET: oidc.clientSecret,
    OAUTH_REDIRECT_URLS: `${site}/test/`,
    ...providerVars(),
  }),
});
/** The OAuth routes' browser navigations (no Origin header, so no CORS answer): start and callback. */
const NAVIGATIONS = ["GET /oauth/{provider}/start", "GET /oauth/{provider}/callback"];
const doc = JSON.parse(readFileSync(new URL("../api/openapi.json", import.meta.url), "utf8"));
// The admin API is for the operator's backend (a key no page may hold): tests/admin.test.mjs.
const isAdmin = (operation) => (operation.security ?? []).some((s) => "adminKey" in s);
// The OAuth 2.1 / OpenID provider's routes are its protocol's (a relying party's browser
// navigations and back-channel calls, its hosted pages), not the web client's: they run in
// Chromium in tests/browser_provider.test.mjs and against openid-client in tests/provider*.test.mjs.
// The apps an account allowed (`/oauth2/grants`) are the client's, and called here.
const isProvider = (path) => (path.startsWith("/oauth2/") && !path.startsWith("/oauth2/grants")) || path.startsWith("/.well-known/o");
const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
  Object.entries(ops)
    .filter(([m, operation]) => ["get", "post", "put", "delete", "patch"].includes(m) && !isAdmin(operation) && !isProvider(path))
    .map(([m]) => `${m.toUpperCase()} ${path}`),
);

test("every route answers the page through the client, CORS included", async () => {
  const { app, site } = rig;
  const context = await rig.browser();
  const answered = new Map(); // "METHOD /pattern" -> [status, Access-Control-Allow-Origin]
  context.on("response", (response) => {
    const request = response.request();
    const url = new URL(response.url());
    if (url.origin !== app.base || request.method() === "OPTIONS") return;
    const pattern = url.pathname
      .replace(/^\/sessions\/[^/]+$/, "/sessions/{id}")
      .replace(/^\/oauth\/(?!token$)[^/]+\//, "/oauth/{provider}/")
      .replace(/^\/identities\/[^/]+$/, "/identities/{provider}")
      .replace(/^\/passkeys\/(?!register$|login$|signup$)[^/]+$/, "/passkeys/{id}")
      .replace(/^\/oauth2\/grants\/[^/]+$/, "/oauth2/grants/{id}")
      .replace(/^\/organizations\/[^/]+/, "/organizations/{id}")
      .replace(/^(\/organizations\/\{id\}\/(?:members|teams\/[^/]+\/members))\/[^/]+$/, "$1/{user_id}")
      .replace(/^(\/organizations\/\{id\}\/invitations)\/[^/]+/, "$1/{invitation_id}")
      .replace(/^(\/organizations\/\{id\}\/teams)\/[^/]+/, "$1/{team_id}");
    const key = `${request.method()} ${pattern}`;
    answered.set(key, [...(answered.get(key) ?? []), [response.status(), response.headers()["access-control-allow-origin"]]]);
  });
  const failed = [];
  context.on("requestfailed", (request) => failed.push(`${request.method()} ${new URL(request.url()).pathname}: ${request.failure()?.errorText}`));
  const page = await rig.testPage(context);
  await virtualAuthenticator(page);
  const problems = [];
  /** A call that must succeed; a failure is recorded and the walk goes on where it can. */
  const step = async (method, ...args) => {
    const result = await call(page, method, ...args);
    if (!result.ok) problems.push(`${method}: ${JSON.stringify(result.error)}`);
    return result.value;
  };

  assert.deepEqual(await ok(page, "health"), { status: "ok" });
  assert.equal((await ok(page, "jwks")).keys[0].alg, "EdDSA");
  assert.equal((await ok(page, "openapi")).openapi, "3.1.0");

  let email = uniqueEmail("browser");
  let password = STRONG_PASSWORD;
  await step("register", { email, password, username: "Browser User" });
  await step("verifyEmail", { email, code: await app.mailbox.codeFor(email, { kind: "verification" }) });
  await step("resendVerification", { email });
  assert.equal((await step("login", { email, password }))?.status, "signed_in");
  assert.equal((await step("me"))?.email_verified, true);
  await step("updateProfile", { name: "Renamed" });
  assert.equal((await step("me"))?.username, "Renamed");
  const trail = await step("myEvents", { limit: 5 });
  assert.ok(trail?.events.some((e) => e.type === "sign_in.succeeded"), "the sign-in is in the trail");

  // Organizations: one made, read, renamed and switched to from the page (the access token then
  // carries it); another account's invitation to this address listed and accepted with the mailed
  // token; the page's invitations (resent, revoked) and the other account joining, its role
  // changed, a team with it, the trail; then it removed, the other organization left, this one
  // deleted.
  const helper = await app.verifiedUser("org-helper");
  const api = (method, path, json) => app.request(method, path, { token: helper.token, json });
  const theirs = (await api("POST", "/organizations", { name: "Helper Org", slug: `helper-${process.pid}` })).body;
  assert.equal((await api("POST", `/organizations/${theirs.id}/invitations`, { email, role: "member" })).status, 201);
  const made = await step("createOrganization", { name: "Routes Org", slug: `routes-${process.pid}` });
  const orgId = made?.id;
  assert.equal(made?.role, "owner");
  assert.deepEqual((await step("listOrganizations"))?.map((o) => o.id), [orgId]);
  assert.equal((await step("getOrganization", orgId))?.name, "Routes Org");
  assert.equal((await step("updateOrganization", orgId, { name: "Routes Renamed" }))?.name, "Routes Renamed");
  assert.equal((await step("switchOrganization", orgId))?.org_id, orgId);
  assert.equal(await page.evaluate(() => window.client.activeOrganization?.org_role), "owner");
  assert.deepEqual((await step("myInvitations"))?.map((i) => i.organization.id), [theirs.id]);
  const [invitedMail] = await app.mailbox.to(email, { subject: /invited to join/ });
  const invitedToken = invitedMail.text.match(/token:\n([A-Za-z0-9_-]{43})/)[1];
  assert.equal((await step("acceptInvitation", invitedToken))?.id, theirs.id);
  const nobody = await step("invite", orgId, { email: uniqueEmail("nobody"), role: "member" });
  const invitation = await step("invite", orgId, { email: helper.email, role: "admin" });
  assert.deepEqual((await step("listInvitations", orgId))?.map((i) => i.email).sort(), [nobody?.email, helper.email].sort());
  assert.deepEqual(await step("revokeInvitation", orgId, nobody?.id), { message: "Invitation revoked" });
  assert.equal((await step("resendInvitation", orgId, invitation?.id))?.email, helper.email);
  const [, resent] = await app.mailbox.to(helper.email, { count: 2, subject: /invited to join/ });
  const joined = await api("POST", "/invitations/accept", { token: resent.text.match(/token:\n([A-Za-z0-9_-]{43})/)[1] });
  assert.equal(joined.status, 200, joined.text);
  const helperId = (await step("listMembers", orgId))?.find((m) => m.email === helper.email)?.user_id;
  assert.equal((await step("changeMemberRole", orgId, helperId, "member"))?.role, "member");
  const team = await step("createTeam", orgId, "Core");
  assert.deepEqual(await step("setTeamMember", orgId, team?.id, helperId, "member"), { user_id: helperId, role: "member" });
  assert.deepEqual((await step("listTeams", orgId))?.[0]?.members, [{ user_id: helperId, role: "member" }]);
  await step("removeTeamMember", orgId, team?.id, helperId);
  await step("deleteTeam", orgId, team?.id);
  assert.ok((await step("organizationEvents", orgId, { limit: 5 }))?.events.length > 0, "the organization's trail");
  await step("removeMember", orgId, helperId);
  await step("leaveOrganization", theirs.id);
  await step("deleteOrganization", orgId);
  assert.equal(await page.evaluate(() => window.client.activeOrganization), null, "the deleted organization left the tokens");
  assert.deepEqual(await step("listOrganizations"), []);

  // A second session (another device), listed and ended from the page.
  const other = await app.login(email, password);
  assert.equal(other.status, 200);
  const sessions = (await step("listSessions")) ?? [];
  assert.equal(sessions.length, 2);
  const otherId = sessions.find((s) => !s.current)?.id;
  if (await step("endSession", otherId)) {
    assert.equal((await app.me(other.body.token)).status, 401, "the ended session's token is refused");
  }

  // An app allowed through the provider (its consent given on the hosted page's form), listed and
  // revoked from the page.
  const rp = await registerClient(app, { name: "Browser RP" });
  const providerLogin = await app.login(email, password);
  const cookie = await cookieFor(app, providerLogin.body.token);
  const granted = await authorize(app, cookie, { client_id: rp.client_id, redirect_uri: "https://rp.example/cb", scope: "openid", code_challenge: pkcePair().challenge });
  assert.match(granted.location, /[?&]code=/);
  assert.deepEqual(((await step("listApps")) ?? []).map((a) => a.name), ["Browser RP"]);
  await step("revokeApp", rp.client_id);
  assert.deepEqual(await step("listApps"), []);

  const newEmail = uniqueEmail("moved");
  await step("changeEmail", { new_email: newEmail, password });
  const changed = await step("confirmEmailChange", { code: await app.mailbox.codeFor(newEmail, { kind: "email change" }) });
  assert.equal(changed?.email, newEmail);
  email = newEmail;
  await step("changePassword", { current_password: password, new_password: `${password} 2` });
  password = `${password} 2`;

  const enrolment = await step("enrollTotp", { password });
  await awayFromStepEdge();
  const confirmed = await step("confirmTotp", { code: totpCode(enrolment.secret) });
  const recovery = confirmed?.recovery_codes ?? [];
  assert.equal(recovery.length, 10);
  await step("logout");
  const challenge = await step("login", { email, password });
  assert.equal(challenge?.status, "mfa_required", "the second step is a result");
  assert.equal((await step("loginMfa", { mfa_token: challenge.mfaToken, code: recovery[0] }))?.status, "signed_in");

  // A passkey: registered (options, then the authenticator's answer; a code asked again, as the
  // factor is on), the second step after the password, listed, renamed, signed in with
  // (options, then the assertion), deleted.
  const passkey = await step("addPasskey", { password, mfa_code: recovery[1], name: "Routes" });
  await step("logout");
  const withPassword = await step("login", { email, password });
  assert.equal(withPassword?.status, "mfa_required");
  assert.equal((await step("completeLoginWithPasskey", withPassword?.mfaToken))?.status, "signed_in", "a passkey as the second step");
  assert.equal((await step("passkeys"))?.[0]?.id, passkey?.id);
  assert.equal((await step("renamePasskey", passkey?.id, "Renamed"))?.name, "Renamed");
  await step("logout");
  assert.equal((await step("signInWithPasskey", { email }))?.status, "signed_in");
  assert.deepEqual(await step("deletePasskey", passkey?.id, { password, mfa_code: recovery[2] }), { message: "Passkey deleted" });
  await step("disableTotp", { password, code: totpCode(enrolment.secret, 1) });

  await step("refresh");
  await step("resetPassword", { email });
  await step("updatePassword", { email, otp: await app.mailbox.codeFor(email), new_password: `${password} 3` });
  password = `${password} 3`;
  assert.equal((await step("login", { email, password }))?.status, "signed_in");


  // Link a provider (the password asked again; the page navigates to the URL the API gives, the
  // browser comes back to the test page with a link_code, completed by this tab's session and
  // verifier), list it, unlink it.
  const returnTo = `${site.url}/test/`;
  const linkUrl = await step("linkProvider", "test", returnTo, { password });
  await page.goto(linkUrl);
  await throughProvider(page, oidc.issuer, { login: "linked" });
  await page.waitForFunction(() => window.ready === true);
  assert.deepEqual(await step("completeSocialSignIn"), { status: "linked", provider: "test" });
  assert.deepEqual((await step("identities"))?.map((i) => [i.provider, i.email]), [["test", linked.email]]);
  assert.deepEqual(await step("unlink", "test", { password }), { message: "Unlinked" });

  if (await step("deleteAccount", { password })) {
    assert.equal((await app.login(email, password)).status, 401, "the account is gone");
    assert.equal(await page.evaluate(() => window.client.signedIn), false);
  }

  // Sign in with the provider (as another of its accounts): a new account, signed in on the page.
  await context.clearCookies(); // out at the provider: in as `social` this time
  await page.goto(await step("socialSignInUrl", "test", returnTo));
  await throughProvider(page, oidc.issuer, { login: "social" });
  await page.waitForFunction(() => window.ready === true);
  const signedIn = await step("completeSocialSignIn");
  assert.equal(signedIn?.status, "signed_in");
  assert.equal(signedIn?.user.email, social.email);
  assert.equal((await step("me"))?.email, social.email);

  // An account with a passkey and no password: the code mailed, then the code and the new
  // passkey together (the client's two-step helper; its pending sign-up stays in the page).
  const passwordless = uniqueEmail("nopass");
  const pending = await page.evaluate(async (body) => {
    window.pendingSignUp = await window.client.startPasskeySignUp(body);
    return { expiresIn: window.pendingSignUp.expiresIn };
  }, { email: passwordless, name: "No Password" });
  assert.equal(pending.expiresIn, 300);
  const signUpCode = await app.mailbox.codeFor(passwordless, { kind: "verification" });
  const created = await page.evaluate((code) => window.pendingSignUp.finishPasskeySignUp(code, { name: "First" }), signUpCode);
  assert.deepEqual([created.status, created.user.email, created.user.email_verified], ["signed_in", passwordless, true]);
  assert.equal((await step("me"))?.email, passwordless);

  // Email sign-in: the mailed code, then the link of a second mail, opened on this page (its
  // token in the fragment, the verifier in this browser).
  await step("startEmailSignIn", passwordless);
  const mailedCode = await app.mailbox.codeFor(passwordless, { kind: "sign-in" });
  assert.equal((await step("completeEmailSignIn", { email: passwordless, code: mailedCode }))?.status, "signed_in");
  await step("startEmailSignIn", passwordless, { redirectTo: `${site.url}/test/` });
  const [, linkMail] = await app.mailbox.to(passwordless, { count: 2, subject: /sign-in code/ });
  await page.goto(linkMail.text.match(/https?:\/\/\S+#sign_in_token=\S+/)[0]);
  await page.waitForFunction(() => window.ready === true);
  assert.equal((await step("completeEmailLink"))?.status, "signed_in");

  assert.deepEqual(problems, [], `calls that failed (requests that failed: ${failed.join("; ") || "none"})`);
  const notCovered = documented.filter((route) => !answered.has(route));
  assert.deepEqual(notCovered, [], "every documented route was called from the page");
  for (const [route, answers] of answered) {
    for (const [status, allowOrigin] of answers) {
      assert.ok(status < 400, `${route} answered ${status}`);
      // The JWKS is public to every origin; the rest echo the page's origin.
      if (NAVIGATIONS.includes(route)) continue;
      assert.equal(allowOrigin, route === "GET /.well-known/jwks.json" ? "*" : site.url, `${route}: Access-Control-Allow-Origin`);
    }
  }
  console.log(`routes called from the browser: ${answered.size} of ${documented.length}`);
});
