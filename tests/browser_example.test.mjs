// The example app (examples/web) driven end to end in Chromium as a person would, against the
// real worker: sign up, verify, sign in, profile, two-step sign-in on and the sign-in with it,
// change password, sessions (end one), delete the account. Screenshots in tests/artifacts/example/.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { STRONG_PASSWORD, uniqueEmail } from "./support/app.mjs";
import { awayFromStepEdge, totpCode } from "./support/totp.mjs";
import { artifacts, startRig } from "./support/browser.mjs";

// The page itself is where email sign-in links come back to.
const rig = await startRig(after, { vars: (site) => ({ OAUTH_REDIRECT_URLS: `${site}/` }) });
const shots = artifacts("example");

/** A tab of the example app, and what its notice must come to say. */
async function examplePage(context, url) {
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (error) => errors.push(error.message));
  const notice = page.locator("#notice");
  const expectNotice = async (text) => {
    await page.waitForFunction((t) => document.getElementById("notice").textContent.includes(t), text, { timeout: 10_000 })
      .catch(async () => assert.fail(`notice "${await notice.textContent()}", expected "${text}"`));
  };
  await page.goto(url);
  return { page, errors, expectNotice };
}

test("the example app, from sign-up to deletion", async () => {
  const { app, site } = rig;
  const context = await rig.browser();
  const { page, errors, expectNotice } = await examplePage(context, `${site.url}/?api=${encodeURIComponent(app.base)}`);
  let n = 0;
  const shot = (name) => page.screenshot({ path: `${shots}/${String(++n).padStart(2, "0")}-${name}.png`, fullPage: true });
  const email = uniqueEmail("example");
  const password = STRONG_PASSWORD;

  await page.locator("#status", { hasText: "Signed out" }).waitFor();
  await shot("signed-out");

  await page.fill("#register-email", email);
  await page.fill("#register-password", password);
  await page.fill("#register-name", "Ada Example");
  await page.click("#register-form button");
  await expectNotice("User registered successfully");
  await page.fill("#verify-code", await app.mailbox.codeFor(email, { kind: "verification" }));
  await page.click("#verify-form button[type=submit], #verify-form button:not([type])");
  await expectNotice("Email verified");
  await shot("verified");

  await page.fill("#login-password", password);
  await page.click("#login-form button");
  await page.locator("#status", { hasText: `Signed in as ${email}` }).waitFor();
  await page.locator("#sessions tr").first().waitFor();
  await shot("signed-in");

  await page.fill("#profile-name", "Ada Lovelace");
  await page.click("#profile-form button");
  await expectNotice("Profile updated successfully");
  await page.locator("#profile dd", { hasText: "Ada Lovelace" }).waitFor();

  // Two-step sign-in on: the QR code, the first code, the recovery codes.
  await page.fill("#enroll-password", password);
  await page.click("#enroll-form button");
  await page.locator("#enrolment").waitFor();
  const secret = (await page.textContent("#enrol-secret")).trim();
  assert.match(secret, /^[A-Z2-7]{32}$/);
  await shot("totp-enrolment");
  await awayFromStepEdge();
  await page.fill("#confirm-code", totpCode(secret));
  await page.click("#confirm-form button");
  await page.locator("#recovery-codes li").first().waitFor();
  const recovery = await page.locator("#recovery-codes li").allTextContents();
  assert.equal(recovery.length, 10);
  await page.locator("#profile dd").filter({ hasText: /^on$/ }).waitFor();
  await shot("totp-on");

  await page.click("#logout");
  await page.locator("#status", { hasText: "Signed out" }).waitFor();
  await page.fill("#login-email", email);
  await page.fill("#login-password", password);
  await page.click("#login-form button");
  await page.locator("#mfa-form").waitFor();
  await shot("totp-step");
  await page.fill("#mfa-code", totpCode(secret, 1));
  await page.click("#mfa-form button");
  await page.locator("#status", { hasText: `Signed in as ${email}` }).waitFor();

  // The second factor is asked again where the API asks for it (a recovery code works once).
  const newPassword = `${password} too`;
  await page.fill("#password-current", password);
  await page.fill("#password-new", newPassword);
  await page.fill("#password-mfa", recovery[0]);
  await page.click("#password-form button");
  await expectNotice("Password changed");

  // Another device signs in; this page lists it and ends it.
  const other = await app.login(email, newPassword);
  assert.equal(other.status, 200, "with the factor on, login answers the second step");
  const signedInElsewhere = await app.request("POST", "/login/mfa", { json: { mfa_token: other.body.mfa_token, code: recovery[1] } });
  assert.equal(signedInElsewhere.status, 200);
  await page.click("#sessions-reload");
  await page.locator("#sessions tr").nth(1).waitFor();
  assert.equal(await page.locator("#sessions .end-session").count(), 1);
  await shot("sessions");
  await page.click("#sessions .end-session");
  await expectNotice("Session ended");
  await page.waitForFunction(() => document.querySelectorAll("#sessions tr").length === 1);
  assert.equal((await app.me(signedInElsewhere.body.token)).status, 401);

  await page.fill("#delete-password", newPassword);
  await page.fill("#delete-mfa", recovery[2]);
  await page.click("#delete-form button");
  await expectNotice("Account deleted");
  await page.locator("#status", { hasText: "Signed out" }).waitFor();
  await shot("deleted");
  assert.equal((await app.login(email, newPassword)).status, 401);
  assert.deepEqual(errors, []);
});

test("the example app's email sign-in: the mailed code, then the mailed link opened in a new tab", async () => {
  const { app, site } = rig;
  const user = await app.signedInUser("example-mail");
  const context = await rig.browser();
  const { page, errors, expectNotice } = await examplePage(context, `${site.url}/?api=${encodeURIComponent(app.base)}`);
  await page.locator("#status", { hasText: "Signed out" }).waitFor();
  await page.fill("#email-sign-in-email", user.email);
  await page.uncheck("#email-sign-in-link");
  await page.click("#email-start-form button");
  await expectNotice("Check your email: enter the code");
  await page.fill("#email-sign-in-code", await app.mailbox.codeFor(user.email, { kind: "sign-in" }));
  await page.click("#email-code-form button");
  await page.locator("#status", { hasText: `Signed in as ${user.email}` }).waitFor();
  await page.screenshot({ path: `${shots}/email-code-signed-in.png`, fullPage: true });
  await page.click("#logout");
  await page.locator("#status", { hasText: "Signed out" }).waitFor();

  await page.fill("#email-sign-in-email", user.email);
  await page.check("#email-sign-in-link");
  await page.click("#email-start-form button");
  await expectNotice("or open the link in this browser");
  const [, mail] = await app.mailbox.to(user.email, { count: 2, subject: /sign-in code/ });
  const link = mail.text.match(/https?:\/\/\S+#sign_in_token=\S+/)[0];
  assert.ok(link.startsWith(`${site.url}/#`), link);
  const clicked = await examplePage(context, link);
  await clicked.page.locator("#status", { hasText: `Signed in as ${user.email}` }).waitFor();
  await clicked.expectNotice("Signed in with the mailed link");
  assert.equal(new URL(clicked.page.url()).hash, "", "the token left the address bar");
  assert.deepEqual([...errors, ...clicked.errors], []);
});
