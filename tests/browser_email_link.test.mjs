// An email sign-in link in Chromium: a mail scanner that fetches the link, and one that runs its
// page, spend nothing, and the user's click still signs in; the link opened in a second browser
// (another profile: no verifier) fails, while the mail's code works there.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { uniqueEmail } from "./support/app.mjs";
import { call, startRig } from "./support/browser.mjs";

const rig = await startRig(after, { vars: (site) => ({ OAUTH_REDIRECT_URLS: `${site}/test/` }) });
const { app, site } = rig;

/** The newest sign-in mail to `email` once `count` arrived: its link and its code. */
async function signInMail(email, count) {
  const mails = await app.mailbox.to(email, { count, subject: /sign-in code/ });
  assert.ok(mails.length >= count, `${count} sign-in mails to ${email}`);
  const text = mails.at(-1).text;
  return { link: text.match(/https?:\/\/\S+#sign_in_token=[A-Za-z0-9_-]{43}/)[0], code: text.match(/code is (\d{6})/)[1] };
}

/** Opens `url` in a new tab of `context` and waits for its client. */
async function open(context, url) {
  const page = await context.newPage();
  page.on("pageerror", (error) => console.error(`[page] ${error.message}`));
  await page.goto(url);
  await page.waitForFunction(() => window.ready === true);
  return page;
}

test("a scanner's fetch and a scanner that runs the page spend nothing; the user's click signs in", async () => {
  const user = await app.signedInUser("scanned");
  const browser = await rig.browser();
  const asker = await rig.testPage(browser);
  assert.equal((await call(asker, "startEmailSignIn", user.email, { redirectTo: `${site.url}/test/` })).ok, true);
  const { link } = await signInMail(user.email, 1);
  assert.equal(new URL(link).origin + new URL(link).pathname, `${site.url}/test/`);

  // The scanner's GET: the fragment never leaves it, so the worker sees nothing at all.
  const seen = rig.recordRequests(browser);
  const fetched = await fetch(link);
  assert.equal(fetched.status, 200);
  // A scanner that runs the page (its own profile): no verifier, so nothing is posted.
  const scanner = await rig.browser();
  const scannerTab = await rig.testPage(scanner);
  const scannerSeen = rig.recordRequests(scanner);
  await scannerTab.goto(link);
  await scannerTab.waitForFunction(() => window.ready === true);
  const refused = await call(scannerTab, "completeEmailLink");
  assert.deepEqual([refused.ok, refused.error.name, refused.error.code], [false, "EmailLinkError", "no_verifier"]);
  assert.deepEqual(scannerSeen, [], "the scanner's page posted nothing");
  assert.equal(new URL(scannerTab.url()).hash, "", "the token left the address bar");

  // The user's click: a new tab of the browser that asked.
  const clicked = await open(browser, link);
  const signedIn = await call(clicked, "completeEmailLink");
  assert.equal(signedIn.ok, true, JSON.stringify(signedIn.error));
  assert.deepEqual([signedIn.value.status, signedIn.value.user.email], ["signed_in", user.email]);
  assert.equal(await clicked.evaluate(() => window.client.signedIn), true);
  assert.equal(new URL(clicked.url()).hash, "", "a reload cannot post the spent token again");
  assert.deepEqual(seen, ["POST /email-sign-in/link"], "only the click reached the worker");
});

test("the link opened in a second browser fails there, while the mail's code signs in there", async () => {
  const user = await app.signedInUser("forwarded");
  const asker = await rig.testPage(await rig.browser());
  assert.equal((await call(asker, "startEmailSignIn", user.email, { redirectTo: `${site.url}/test/` })).ok, true);
  const { link, code } = await signInMail(user.email, 1);

  const elsewhere = await rig.testPage(await rig.browser());
  await elsewhere.goto(link);
  await elsewhere.waitForFunction(() => window.ready === true);
  const refused = await call(elsewhere, "completeEmailLink");
  assert.deepEqual([refused.ok, refused.error.code], [false, "no_verifier"]);
  const byCode = await call(elsewhere, "completeEmailSignIn", { email: user.email, code });
  assert.equal(byCode.ok, true, JSON.stringify(byCode.error));
  assert.equal(byCode.value.user.email, user.email);
  // The mail's one sign-in is spent: the asking browser's link is worth nothing now.
  const late = await open(asker.context(), link);
  const spent = await call(late, "completeEmailLink");
  assert.deepEqual([spent.ok, spent.error.status, spent.error.code], [false, 400, "invalid_code"]);
});
