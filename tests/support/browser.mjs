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
 * A worker, the static site and a browser profile. `vars` go to the worker; its CORS allows
 * exactly the site's origin. Pass node:test's `after` to close it all after the file's tests.
 */
export async function startRig(after, { vars = {} } = {}) {
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
  const app = await spawnApp({ mail: true, vars: { CORS_ALLOWED_ORIGINS: site.url, ...vars } });
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
