// Secrets at rest under a key ring: rotating JWT_SECRET (the old one moved to
// JWT_SECRET_PREVIOUS) keeps every second factor, recovery code, emailed code in flight and
// refresh token working; a TOTP secret is re-sealed under the new key on use; values from before
// key ids still open; a refresh successor needs its stored salt, not just the key and the token.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { createHmac } from "node:crypto";
import { appsClosedAfter, TEST_SECRET } from "./support/app.mjs";
import { generateSync } from "otplib";
import { totpCode as code, awayFromStepEdge } from "./support/totp.mjs";

const app = appsClosedAfter(after);
const NEXT_SECRET = "the-next-jwt-secret-0123456789-abcdefghij";

/** The key id the worker derives from a secret: 8 hex digits of HMAC(secret, label). */
const keyId = (secret) => createHmac("sha256", secret).update("edge-auth key id v1").digest("hex").slice(0, 8);

async function factorRow(target, email) {
  const db = await target.database();
  return db.prepare("SELECT f.secret_sealed, f.user_id FROM totp_factors f JOIN users u ON u.id = f.user_id WHERE u.email = ?1").bind(email).first();
}

test("rotating JWT_SECRET with the old one in JWT_SECRET_PREVIOUS keeps factors, codes and sessions; then the old key can go", async () => {
  const shared = mkdtempSync(`${tmpdir()}/edge-auth-keyring-`);
  try {
    const before = await app({ mail: true, persistTo: shared, migrate: true });
    const user = await before.verifiedUser("ring");
    const enrolled = await before.request("POST", "/mfa/totp/enroll", { token: user.token, json: { password: user.password } });
    // Codes of three consecutive time steps from now, each accepted (±1 step) for a minute, so
    // each phase has a step newer than the one before it without waiting.
    await awayFromStepEdge();
    const now = Math.floor(Date.now() / 1000);
    const step = (n) => generateSync({ secret: enrolled.body.secret, epoch: now + n * 30 });
    const confirmed = await before.request("POST", "/mfa/totp/confirm", { token: user.token, json: { code: step(-1) } });
    assert.equal(confirmed.status, 200, confirmed.text);
    const recovery = confirmed.body.recovery_codes;
    assert.ok((await factorRow(before, user.email)).secret_sealed.startsWith(`${keyId(TEST_SECRET)}.`), "sealed with its key id");
    assert.equal((await before.resetPassword(user.email)).status, 200);
    const inFlight = await before.mailbox.codeFor(user.email);

    // The rotation: a new JWT_SECRET, the old one kept for what it sealed and hashed.
    const during = await app({ mail: true, persistTo: shared, secret: NEXT_SECRET, vars: { JWT_SECRET_PREVIOUS: TEST_SECRET } });
    assert.equal((await during.me(user.token)).status, 200);
    const refreshed = await during.refresh(user.refresh);
    assert.equal(refreshed.status, 200, "a refresh token from before works");
    const first = await during.login(user.email, user.password);
    const byTotp = await during.request("POST", "/login/mfa", { json: { mfa_token: first.body.mfa_token, code: step(0) } });
    assert.equal(byTotp.status, 200, `the TOTP secret opens with the previous key: ${byTotp.text}`);
    assert.ok((await factorRow(during, user.email)).secret_sealed.startsWith(`${keyId(NEXT_SECRET)}.`), "re-sealed under the new key on use");
    const second = await during.login(user.email, user.password);
    const byRecovery = await during.request("POST", "/login/mfa", { json: { mfa_token: second.body.mfa_token, code: recovery[0] } });
    assert.equal(byRecovery.status, 200, `a recovery code hashed under the previous key works: ${byRecovery.text}`);
    const reset = await during.updatePassword({ email: user.email, otp: inFlight, new_password: "a rotated passphrase 77", mfa_code: recovery[1] });
    assert.equal(reset.status, 200, `a reset code mailed before the rotation works: ${reset.text}`);

    // The old key is dropped: what was re-sealed keeps working.
    const afterwards = await app({ mail: true, persistTo: shared, secret: NEXT_SECRET });
    const third = await afterwards.login(user.email, "a rotated passphrase 77");
    const again = await afterwards.request("POST", "/login/mfa", { json: { mfa_token: third.body.mfa_token, code: step(1) } });
    assert.equal(again.status, 200, again.text);
  } finally {
    rmSync(shared, { recursive: true, force: true });
  }
});

test("a TOTP secret and recovery codes stored before key ids still open, and are re-sealed on use", async () => {
  const target = await app({ mail: true });
  const user = await target.verifiedUser("legacy");
  const enrolled = await target.request("POST", "/mfa/totp/enroll", { token: user.token, json: { password: user.password } });
  await awayFromStepEdge();
  const confirmed = await target.request("POST", "/mfa/totp/confirm", { token: user.token, json: { code: code(enrolled.body.secret) } });
  const db = await target.database();
  const row = await factorRow(target, user.email);
  // The format of the previous release: no key id before the sealed secret or the hashes.
  await db.prepare("UPDATE totp_factors SET secret_sealed = ?2 WHERE user_id = ?1").bind(row.user_id, row.secret_sealed.split(".")[1]).run();
  await db.prepare("UPDATE recovery_codes SET code_hash = substr(code_hash, 10) WHERE user_id = ?1").bind(row.user_id).run();
  const first = await target.login(user.email, user.password);
  const byTotp = await target.request("POST", "/login/mfa", { json: { mfa_token: first.body.mfa_token, code: code(enrolled.body.secret, 1) } });
  assert.equal(byTotp.status, 200, byTotp.text);
  assert.ok((await factorRow(target, user.email)).secret_sealed.startsWith(`${keyId(TEST_SECRET)}.`));
  const second = await target.login(user.email, user.password);
  const byRecovery = await target.request("POST", "/login/mfa", { json: { mfa_token: second.body.mfa_token, code: confirmed.body.recovery_codes[3] } });
  assert.equal(byRecovery.status, 200, byRecovery.text);
});

test("a refresh successor is salted per rotation: the spent token and the server key alone do not give it", async () => {
  const target = await app();
  const user = await target.signedInUser("salt");
  const rotated = await target.refresh(user.refresh);
  assert.equal(rotated.status, 200);
  const key = createHmac("sha256", TEST_SECRET).update("edge-auth refresh successor v1").digest();
  const unsalted = createHmac("sha256", key).update(user.refresh).digest("base64url");
  assert.notEqual(rotated.body.refresh, unsalted);
  // Within the grace window the same successor comes back (derived again from the stored salt).
  const repeat = await target.refresh(user.refresh);
  assert.equal(repeat.body.refresh, rotated.body.refresh);
  const db = await target.database();
  const { n } = await db.prepare("SELECT COUNT(*) AS n FROM refresh_tokens WHERE successor_salt IS NOT NULL AND successor_key = ?1").bind(keyId(TEST_SECRET)).first();
  assert.equal(n, 1, "one spent token, with its salt and key id");
});
