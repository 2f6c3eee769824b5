// Browser tests: Debian's Chromium driven by playwright-core, against the compiled worker in
// Miniflare (spawnApp, with the local mailbox), from pages served by a local static server on an
// origin the worker's CORS allows: the built web client, a test page, and the example app.
import { chromium } from "playwright-core";
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildClient } from "../../client/build.mjs";
import { startStatic } from "../../scripts/static-server.mjs";
import { spawnApp } from "./app.mjs";
export { freePort } from "./ports.mjs";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const ARTIFACTS = `${ROOT}tests/artifacts`;
export const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/**
 * A worker, the static site and a browser profile. `vars` go to the worker (an object, or a
 * function of the site's URL, for settings that name the site); its CORS allows exactly the site's
 * origin. `miniflare` adds Miniflare options (e.g. a fixed `port`). `siteHost: "localhost"` names
 * the site http://localhost:<port> (still served on 127.0.0.1), the host passkeys need: WebAuthn
 * refuses an IP address as the RP id. Pass node:test's `after` to close it all after the file's
 * tests.
 */
export async function startRig(after, { vars = {}, miniflare = {}, siteHost } = {}) {
  const scratch = mkdtempSync(join(tmpdir(), "edge-auth-browser-"));
  // Each test file builds its own copy: files run in parallel and must not rewrite each other's.
  await buildClient({ quiet: true, outfile: `${scratch}/client/edge-auth-client.js` });
  const site = await startStatic({
    mounts: {
      "/": `${ROOT}examples/web`,
      "/client/": `${scratch}/client`,
      "/test/": `${ROOT}tests/support/browser-page`,
    },
  });
  if (siteHost) site.url = site.url.replace("//127.0.0.1:", `//${siteHost}:`);
  const extra = typeof vars === "function" ? vars(site.url) : vars;
  const app = await spawnApp({ mail: true, miniflare, vars: { CORS_ALLOWED_ORIGINS: site.url, ...extra } });
  const contexts = [];
  const rig = {
    app,
    site,
    /** A fresh browser profile (its own user-data-dir): one context, whose pages are tabs of one origin. */
    async browser() {
      const profile = mkdtempSync(join(scratch, "profile-"));
      const context = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        args: CHROMIUM_ARGS,
        viewport: { width: 900, height: 1100 },
      });
      contexts.push(context);
      return context;
    },
    /** A tab on the test page, its client ready. */
    async testPage(context) {
      const page = await context.newPage();
      page.on("pageerror", (error) => console.error(`[page] ${error.message}`));
      await page.goto(`${site.url}/test/?api=${encodeURIComponent(app.base)}`);
      await page.waitForFunction(() => window.ready === true);
      return page;
    },
    /** The API requests (no preflights) the context sends from now on, as "METHOD /path". */
    recordRequests(context) {
      const seen = [];
      context.on("request", (request) => {
        const url = new URL(request.url());
        if (url.origin === app.base && request.method() !== "OPTIONS") seen.push(`${request.method()} ${url.pathname}`);
      });
      return seen;
    },
  };
  after(async () => {
    await Promise.all(contexts.map((c) => c.close().catch(() => {})));
    await app.close();
    await site.close();
    rmSync(scratch, { recursive: true, force: true });
  });
  return rig;
}

/** Calls `client[method](...args)` in the page; resolves to {ok, value} or {ok: false, error}. */
export function call(page, method, ...args) {
  return page.evaluate(([m, a]) => window.call(m, ...a), [method, args]);
}

/** Like `call`, but throws unless the call succeeded; resolves to its value. */
export async function ok(page, method, ...args) {
  const result = await call(page, method, ...args);
  if (!result.ok) throw new Error(`${method}: ${JSON.stringify(result.error)}`);
  return result.value;
}

/** The artifacts directory (gitignored), for screenshots. */
export function artifacts(name) {
  const dir = join(ARTIFACTS, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/**
 * Chromium's DevTools virtual authenticator on `page` (a platform authenticator with resident keys
 * and user verification, which says yes by itself): WebAuthn ceremonies run headless. Resolves to
 * `{cdp, authenticatorId, credentials(), add(credential)}`: the passkeys it holds (rpId, userHandle,
 * signCount, privateKey…), and one copied in (from another page's authenticator).
 */
export async function virtualAuthenticator(page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return {
    cdp,
    authenticatorId,
    credentials: async () => (await cdp.send("WebAuthn.getCredentials", { authenticatorId })).credentials,
    add: (credential) => cdp.send("WebAuthn.addCredential", { authenticatorId, credential }),
  };
}

/** A free local port: the worker's, fixed before it starts, so an OpenID provider can know its callback. */
/**
 * Clicks through the test OpenID provider's pages (tests/support/oidc.mjs) in `page`: signs in as
 * `login` when it asks, then allows (or with `consent: false` cancels). A provider that remembers
 * the browser may skip either page; this returns once the browser has left the provider.
 */
export async function throughProvider(page, issuer, { login, consent = true } = {}) {
  for (let step = 0; step < 4; step++) {
    await page.waitForLoadState();
    if (new URL(page.url()).origin !== issuer) return;
    const prompt = await page.locator("body[data-prompt]").getAttribute("data-prompt");
    const leaving = page.waitForNavigation();
    if (prompt === "login") {
      await page.fill("#login-name", login);
      await page.click("#sign-in");
    } else {
      await page.click(consent ? "#allow" : "#cancel");
    }
    await leaving;
  }
  throw new Error("throughProvider: still at the provider");
}
