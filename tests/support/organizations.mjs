// Organizations in the black-box tests: verified people, their organizations, and joining one by
// the mailed invitation, against one app (spawned with `mail: true`).
import assert from "node:assert/strict";

let slugs = 0;
/** A slug no other test of this process uses. */
export const slug = (tag) => `${tag}-${process.pid}-${++slugs}`;

/** The helpers for `app` (or for what `app()` returns, for an app started in a `before`). */
export function organizationsOf(appOrGetter) {
  const current = typeof appOrGetter === "function" ? appOrGetter : () => appOrGetter;
  const call = (method, path, token, json) => current().request(method, path, { token, json });

  /** A verified, signed-in account: email, password, token, refresh, id. */
  async function person(tag) {
    const user = await current().verifiedUser(tag);
    const me = await call("GET", "/me", user.token);
    return { ...user, id: me.body.id };
  }

  /** An organization made by `owner`. */
  async function organization(owner, tag = "acme") {
    const made = await call("POST", "/organizations", owner.token, { name: `${tag} Inc`, slug: slug(tag) });
    assert.equal(made.status, 201, made.text);
    return made.body;
  }

  /** The token of the `count`-th invitation mail to `email` (from its link or its text). */
  async function invitationToken(email, count = 1) {
    const mails = await current().mailbox.to(email, { count, subject: /invited to join/ });
    const text = mails[count - 1].text;
    return (text.match(/#invitation=([A-Za-z0-9_-]{43})/) ?? text.match(/token:\n([A-Za-z0-9_-]{43})/))[1];
  }

  /** `invitee` joins `org` with `role`, invited by `by`; the organization as they see it. */
  async function join(org, by, invitee, role = "member") {
    const invited = await call("POST", `/organizations/${org.id}/invitations`, by.token, { email: invitee.email, role });
    assert.equal(invited.status, 201, invited.text);
    const accepted = await call("POST", "/invitations/accept", invitee.token, { token: await invitationToken(invitee.email) });
    assert.equal(accepted.status, 200, accepted.text);
    return accepted.body;
  }

  return { call, person, organization, invitationToken, join };
}
