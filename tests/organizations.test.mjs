// Organizations (docs/organizations.md): members with one role each, the last owner kept, caps
// exact under concurrency, invitations only the verified invitee can accept (once), teams, the
// active organization in the tokens, the organization's trail and webhooks, and the admin API.
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { appsClosedAfter, uniqueEmail, STRONG_PASSWORD } from "./support/app.mjs";
import { ADMIN, admin, eventually, payloadOf, sleep } from "./support/ways_in.mjs";
import { newSecret, queueOptions, startReceiver } from "./support/webhooks.mjs";
import { organizationsOf, slug } from "./support/organizations.mjs";

const spawn = appsClosedAfter(after);
const PAGE = "https://app.example/auth/done";
const HOOK_SECRET = newSecret();
let app;
let receiver;
before(async () => {
  receiver = await startReceiver({ secrets: { "/hooks": HOOK_SECRET }, answers: () => 204 });
  app = await spawn({
    mail: true,
    vars: {
      ...ADMIN,
      ORG_MAX_PER_USER: "3",
      ORG_MAX_MEMBERS: "4",
      ORG_ROLES: JSON.stringify({ billing: ["invoices:read", "invoices:write"] }),
      OAUTH_REDIRECT_URLS: PAGE,
      WEBHOOK_ENDPOINTS: `${receiver.url}/hooks ${HOOK_SECRET}`,
    },
    miniflare: queueOptions(),
  });
});
after(() => receiver?.close());

const { call, person, organization, invitationToken, join } = organizationsOf(() => app);
const roleOf = async (org, token, id) =>
  (await call("GET", `/organizations/${org.id}/members`, token)).body.members.find((m) => m.user_id === id)?.role;

test("an organization is made, read, renamed and deleted by its owner; others see nothing", async () => {
  const owner = await person("org-owner");
  const stranger = await person("org-stranger");
  const name = slug("acme");
  const made = await call("POST", "/organizations", owner.token, { name: " Acme ", slug: name.toUpperCase() });
  assert.equal(made.status, 201, made.text);
  assert.equal(made.body.name, "Acme");
  assert.equal(made.body.slug, name, "slugs are kept in lower case");
  assert.equal(made.body.role, "owner");
  assert.ok(made.body.permissions.includes("org:delete"));
  const id = made.body.id;

  const taken = await call("POST", "/organizations", stranger.token, { name: "Other", slug: name });
  assert.equal(taken.status, 409);
  assert.equal(taken.body.error, "slug_taken");
  const bad = await call("POST", "/organizations", owner.token, { name: "", slug: "-no" });
  assert.equal(bad.status, 400);
  assert.deepEqual(Object.keys(bad.body.fields), ["name", "slug"]);
  assert.equal((await call("POST", "/organizations", undefined, { name: "x", slug: "xx" })).status, 401);

  assert.equal((await call("GET", `/organizations/${id}`, stranger.token)).status, 404, "not a member: as if absent");
  assert.equal((await call("PATCH", `/organizations/${id}`, stranger.token, { name: "Mine" })).status, 404);
  const mine = await call("GET", "/organizations", owner.token);
  assert.deepEqual(mine.body.organizations.map((o) => o.id), [id]);
  assert.deepEqual((await call("GET", "/organizations", stranger.token)).body.organizations, []);

  const renamed = await call("PATCH", `/organizations/${id}`, owner.token, { name: "Acme Two", slug: `${name}-two` });
  assert.equal(renamed.status, 200, renamed.text);
  assert.equal(renamed.body.slug, `${name}-two`);
  assert.equal((await call("GET", `/organizations/${id}`, owner.token)).body.name, "Acme Two");
  const freed = await call("POST", "/organizations", stranger.token, { name: "Other", slug: name });
  assert.equal(freed.status, 201, "the old slug is free again");
  const clash = await call("PATCH", `/organizations/${id}`, owner.token, { slug: name });
  assert.equal(clash.body.error, "slug_taken");

  assert.equal((await call("DELETE", `/organizations/${id}`, owner.token)).status, 200);
  assert.equal((await call("GET", `/organizations/${id}`, owner.token)).status, 404);
  assert.deepEqual((await call("GET", "/organizations", owner.token)).body.organizations, []);
});

test("the organizations a user may create are capped exactly, even all at once", async () => {
  const owner = await person("org-cap");
  const answers = await Promise.all(
    Array.from({ length: 6 }, (_, i) => call("POST", "/organizations", owner.token, { name: `Org ${i}`, slug: slug("cap") })),
  );
  const statuses = answers.map((a) => a.status).sort();
  assert.deepEqual(statuses, [201, 201, 201, 403, 403, 403], "ORG_MAX_PER_USER is 3");
  assert.ok(answers.filter((a) => a.status === 403).every((a) => a.body.error === "organization_limit"));
  assert.equal((await call("GET", "/organizations", owner.token)).body.organizations.length, 3);
});

test("an invitation is accepted only by the account that verified the invited address, once", async () => {
  const owner = await person("inv-owner");
  const org = await organization(owner);
  const inviteeEmail = uniqueEmail("invitee");
  const invited = await call("POST", `/organizations/${org.id}/invitations`, owner.token, {
    email: inviteeEmail.toUpperCase(),
    role: "billing",
    redirect_to: PAGE,
  });
  assert.equal(invited.status, 201, invited.text);
  assert.equal(invited.body.email, inviteeEmail);
  assert.equal(invited.body.role, "billing");
  const [mail] = await app.mailbox.to(inviteeEmail, { subject: /invited to join/ });
  assert.match(mail.text, new RegExp(`${PAGE}#invitation=[A-Za-z0-9_-]{43}`), "the token rides in the link's fragment");
  const token = await invitationToken(inviteeEmail);

  // Someone else holding the link is refused.
  const other = await person("inv-other");
  const wrong = await call("POST", "/invitations/accept", other.token, { token });
  assert.equal(wrong.status, 403);
  assert.equal(wrong.body.error, "wrong_account");

  // A squatter who registered the invited address without proving it is refused too.
  const squat = await app.signedInUser("squat");
  const squatter = { ...squat };
  const changed = await app.database();
  await changed.prepare("UPDATE users SET email = ?1 WHERE email = ?2").bind(inviteeEmail, squat.email).run();
  const unverified = await call("POST", "/invitations/accept", squatter.token, { token });
  assert.equal(unverified.status, 403);
  assert.equal(unverified.body.error, "email_not_verified");
  assert.deepEqual((await call("GET", "/invitations", squatter.token)).body.invitations, [], "nor listed to it");
  await changed.prepare("UPDATE users SET email_verified_at = 1 WHERE email = ?1").bind(inviteeEmail).run();

  const listed = await call("GET", "/invitations", squatter.token);
  assert.deepEqual(listed.body.invitations.map((i) => [i.organization.id, i.role]), [[org.id, "billing"]]);
  // Two acceptances at once: one membership.
  const [a, b] = await Promise.all([
    call("POST", "/invitations/accept", squatter.token, { token }),
    call("POST", "/invitations/accept", squatter.token, { token }),
  ]);
  assert.deepEqual([a.status, b.status].sort(), [200, 404]);
  const joined = a.status === 200 ? a : b;
  assert.equal(joined.body.id, org.id);
  assert.equal(joined.body.role, "billing");
  assert.deepEqual(joined.body.permissions, ["invoices:read", "invoices:write"]);
  const members = (await call("GET", `/organizations/${org.id}/members`, owner.token)).body.members;
  assert.equal(members.length, 2);
  assert.equal((await call("POST", "/invitations/accept", squatter.token, { token })).body.error, "invitation_not_found");
  const again = await call("POST", `/organizations/${org.id}/invitations`, owner.token, { email: inviteeEmail, role: "member" });
  assert.equal(again.status, 409);
  assert.equal(again.body.error, "already_member");
});

test("invitations are listed, re-sent with a new token, revoked, and expire", async () => {
  const owner = await person("inv-life");
  const org = await organization(owner);
  const invitee = await person("inv-life-invitee");
  const first = await call("POST", `/organizations/${org.id}/invitations`, owner.token, { email: invitee.email, role: "member" });
  const oldToken = await invitationToken(invitee.email);
  const listed = await call("GET", `/organizations/${org.id}/invitations`, owner.token);
  assert.deepEqual(listed.body.invitations.map((i) => i.id), [first.body.id]);
  const resent = await call("POST", `/organizations/${org.id}/invitations/${first.body.id}/resend`, owner.token);
  assert.equal(resent.status, 200, resent.text);
  const newToken = await invitationToken(invitee.email, 2);
  assert.notEqual(newToken, oldToken);
  assert.equal((await call("POST", "/invitations/accept", invitee.token, { token: oldToken })).body.error, "invitation_not_found");
  const revoked = await call("DELETE", `/organizations/${org.id}/invitations/${first.body.id}`, owner.token);
  assert.equal(revoked.status, 200);
  assert.equal((await call("POST", "/invitations/accept", invitee.token, { token: newToken })).body.error, "invitation_not_found");
  assert.deepEqual((await call("GET", `/organizations/${org.id}/invitations`, owner.token)).body.invitations, []);
  assert.equal((await call("POST", `/organizations/${org.id}/invitations/${first.body.id}/resend`, owner.token)).status, 404);

  // Expiry: an app whose invitations last one second, accepted later than that.
  const short = await spawn({ mail: true, vars: { ORG_INVITATION_TTL_SECONDS: "1" } });
  const boss = await short.verifiedUser("short-owner");
  const made = await short.request("POST", "/organizations", { token: boss.token, json: { name: "Short", slug: slug("short") } });
  const late = await short.verifiedUser("short-invitee");
  await short.request("POST", `/organizations/${made.body.id}/invitations`, { token: boss.token, json: { email: late.email, role: "member" } });
  const [mail] = await short.mailbox.to(late.email, { subject: /invited to join/ });
  const token = mail.text.match(/token:\n([A-Za-z0-9_-]{43})/)[1];
  await sleep(2_100);
  const expired = await short.request("POST", "/invitations/accept", { token: late.token, json: { token } });
  assert.equal(expired.status, 404);
  assert.equal(expired.body.error, "invitation_not_found");
});

test("roles: members read, admins manage up to admin, only owners touch owners", async () => {
  const owner = await person("roles-owner");
  const org = await organization(owner);
  const adminUser = await person("roles-admin");
  const member = await person("roles-member");
  await join(org, owner, adminUser, "admin");
  await join(org, adminUser, member, "member");

  const refused = await call("POST", `/organizations/${org.id}/invitations`, adminUser.token, { email: uniqueEmail("x"), role: "owner" });
  assert.equal(refused.status, 403);
  assert.equal(refused.body.error, "role_above_own");
  // An owner's pending invitation to owner is neither replaced, re-sent nor revoked by an admin.
  const future = uniqueEmail("future-owner");
  const ownerInvite = await call("POST", `/organizations/${org.id}/invitations`, owner.token, { email: future, role: "owner" });
  const replaced = await call("POST", `/organizations/${org.id}/invitations`, adminUser.token, { email: future, role: "member" });
  assert.equal(replaced.status, 403, replaced.text);
  const path = `/organizations/${org.id}/invitations/${ownerInvite.body.id}`;
  assert.equal((await call("POST", `${path}/resend`, adminUser.token)).body.error, "role_above_own");
  assert.equal((await call("DELETE", path, adminUser.token)).body.error, "role_above_own");
  const pending = (await call("GET", `/organizations/${org.id}/invitations`, owner.token)).body.invitations;
  assert.deepEqual(pending.map((i) => [i.id, i.role]), [[ownerInvite.body.id, "owner"]]);
  const byMember = await call("POST", `/organizations/${org.id}/invitations`, member.token, { email: uniqueEmail("y"), role: "member" });
  assert.equal(byMember.body.error, "not_allowed");
  assert.equal((await call("PATCH", `/organizations/${org.id}`, adminUser.token, { name: "No" })).body.error, "not_allowed");
  assert.equal((await call("DELETE", `/organizations/${org.id}`, adminUser.token)).body.error, "not_allowed");
  const demote = await call("PATCH", `/organizations/${org.id}/members/${owner.id}`, adminUser.token, { role: "member" });
  assert.equal(demote.body.error, "role_above_own");
  assert.equal((await call("DELETE", `/organizations/${org.id}/members/${owner.id}`, adminUser.token)).body.error, "role_above_own");
  const badRole = await call("PATCH", `/organizations/${org.id}/members/${member.id}`, adminUser.token, { role: "boss" });
  assert.equal(badRole.status, 400);

  const promoted = await call("PATCH", `/organizations/${org.id}/members/${member.id}`, adminUser.token, { role: "billing" });
  assert.equal(promoted.status, 200, promoted.text);
  assert.equal(await roleOf(org, owner.token, member.id), "billing");
  // The change counts at once for this worker's routes: billing cannot read members.
  assert.equal((await call("GET", `/organizations/${org.id}/members`, member.token)).body.error, "not_allowed");
  assert.equal((await call("GET", `/organizations/${org.id}`, member.token)).body.role, "billing");

  const removed = await call("DELETE", `/organizations/${org.id}/members/${member.id}`, adminUser.token);
  assert.equal(removed.status, 200);
  assert.equal((await call("GET", `/organizations/${org.id}`, member.token)).status, 404, "gone at once");
  assert.equal((await call("DELETE", `/organizations/${org.id}/members/${member.id}`, adminUser.token)).status, 404);
});

test("the last owner cannot leave, be removed or be demoted, however many ask at once", async () => {
  const owner = await person("last-owner");
  const org = await organization(owner);
  const leave = await call("DELETE", `/organizations/${org.id}/members/${owner.id}`, owner.token);
  assert.equal(leave.status, 409);
  assert.equal(leave.body.error, "last_owner");
  const demote = await call("PATCH", `/organizations/${org.id}/members/${owner.id}`, owner.token, { role: "admin" });
  assert.equal(demote.body.error, "last_owner");

  // Two owners removing each other at once: one owner stays.
  const second = await person("second-owner");
  await join(org, owner, second, "owner");
  const [a, b] = await Promise.all([
    call("DELETE", `/organizations/${org.id}/members/${second.id}`, owner.token),
    call("DELETE", `/organizations/${org.id}/members/${owner.id}`, second.token),
  ]);
  // The second is refused: the last owner (409), or, if it was read after the first landed, no
  // member any more (404).
  assert.equal([a, b].filter((r) => r.status === 200).length, 1, `${a.text} ${b.text}`);
  assert.ok([a, b].some((r) => r.status === 409 || r.status === 404), `${a.text} ${b.text}`);
  const survivor = a.status === 200 ? owner : second;
  const members = (await call("GET", `/organizations/${org.id}/members`, survivor.token)).body.members;
  assert.deepEqual(members.map((m) => [m.user_id, m.role]), [[survivor.id, "owner"]]);

  // Two owners leaving at once, and two demoting each other at once: one owner stays.
  const third = await person("third-owner");
  await join(org, survivor, third, "owner");
  const left = await Promise.all([
    call("DELETE", `/organizations/${org.id}/members/${survivor.id}`, survivor.token),
    call("DELETE", `/organizations/${org.id}/members/${third.id}`, third.token),
  ]);
  assert.deepEqual(left.map((r) => r.status).sort(), [200, 409], left.map((r) => r.text).join(" "));
  const stayed = left[0].status === 200 ? third : survivor;
  const fourth = await person("fourth-owner");
  await join(org, stayed, fourth, "owner");
  const demoted = await Promise.all([
    call("PATCH", `/organizations/${org.id}/members/${fourth.id}`, stayed.token, { role: "member" }),
    call("PATCH", `/organizations/${org.id}/members/${stayed.id}`, fourth.token, { role: "member" }),
  ]);
  // The second is refused: the last owner (409), or, read after the first landed, a member who
  // may no longer touch an owner (403).
  assert.equal(demoted.filter((r) => r.status === 200).length, 1, demoted.map((r) => r.text).join(" "));
  assert.ok(demoted.some((r) => r.status === 409 || r.status === 403), demoted.map((r) => r.text).join(" "));
  const owners = (await call("GET", `/organizations/${org.id}/members`, stayed.token)).body.members.filter((m) => m.role === "owner");
  assert.equal(owners.length, 1);

  // Nor does the last owner delete their account from under the organization.
  const lastOwner = owners[0].user_id === stayed.id ? stayed : fourth;
  const gone = await app.deleteMe(lastOwner.token, lastOwner.password);
  assert.equal(gone.status, 409);
  assert.equal(gone.body.error, "last_owner");
  assert.equal((await call("GET", "/me", lastOwner.token)).status, 200, "the account stays");
});

test("members and pending invitations stay within the cap, even accepted all at once", async () => {
  const owner = await person("member-cap");
  const org = await organization(owner);
  const people = await Promise.all([1, 2, 3, 4].map((i) => person(`cap-${i}`)));
  for (const p of people.slice(0, 3)) {
    const invited = await call("POST", `/organizations/${org.id}/invitations`, owner.token, { email: p.email, role: "member" });
    assert.equal(invited.status, 201, invited.text);
  }
  const full = await call("POST", `/organizations/${org.id}/invitations`, owner.token, { email: people[3].email, role: "member" });
  assert.equal(full.status, 409, "the owner and three pending invitations fill ORG_MAX_MEMBERS=4");
  assert.equal(full.body.error, "member_limit");
  const tokens = await Promise.all(people.slice(0, 3).map((p) => invitationToken(p.email)));
  const accepted = await Promise.all(people.slice(0, 3).map((p, i) => call("POST", "/invitations/accept", p.token, { token: tokens[i] })));
  assert.deepEqual(accepted.map((a) => a.status), [200, 200, 200]);
  assert.equal((await call("GET", `/organizations/${org.id}/members`, owner.token)).body.members.length, 4);
});

test("the active organization rides in the tokens: switched by the refresh, read again at each", async () => {
  const owner = await person("switch-owner");
  const org = await organization(owner);
  const member = await person("switch-member");
  await join(org, owner, member, "admin");
  assert.equal((await call("GET", "/me", member.token)).body.organization, null);

  const switched = await app.request("POST", "/refresh", { json: { refresh: member.refresh, organization_id: org.id } });
  assert.equal(switched.status, 200, switched.text);
  const claims = payloadOf(switched.body.token);
  assert.equal(claims.org_id, org.id);
  assert.equal(claims.org_role, "admin");
  assert.ok(claims.org_permissions.includes("members:invite"));
  const me = await call("GET", "/me", switched.body.token);
  assert.deepEqual([me.body.organization.id, me.body.organization.role], [org.id, "admin"]);

  // Not a member: refused, and the refresh token is not spent.
  const elsewhere = await organization(owner, "elsewhere");
  const refused = await app.request("POST", "/refresh", { json: { refresh: switched.body.refresh, organization_id: elsewhere.id } });
  assert.equal(refused.status, 403);
  assert.equal(refused.body.error, "not_a_member");
  const plain = await app.request("POST", "/refresh", { json: { refresh: switched.body.refresh } });
  assert.equal(plain.status, 200, "the token still works");
  assert.equal(payloadOf(plain.body.token).org_id, org.id, "a plain refresh keeps the organization");

  // A new role counts at the next refresh; a removal at once for /me and at the next refresh.
  await call("PATCH", `/organizations/${org.id}/members/${member.id}`, owner.token, { role: "member" });
  const demoted = await app.request("POST", "/refresh", { json: { refresh: plain.body.refresh } });
  assert.equal(payloadOf(demoted.body.token).org_role, "member");
  await call("DELETE", `/organizations/${org.id}/members/${member.id}`, owner.token);
  assert.equal((await call("GET", "/me", demoted.body.token)).body.organization, null);
  const after = await app.request("POST", "/refresh", { json: { refresh: demoted.body.refresh } });
  assert.equal(payloadOf(after.body.token).org_id, undefined);

  const cleared = await app.request("POST", "/refresh", { json: { refresh: after.body.refresh, organization_id: null } });
  assert.equal(cleared.status, 200);
  const badId = await app.request("POST", "/refresh", { json: { refresh: cleared.body.refresh, organization_id: 7 } });
  assert.equal(badId.status, 400);
});

test("teams: named subsets of members with a role each; invitations can name them", async () => {
  const owner = await person("team-owner");
  const org = await organization(owner);
  const adminUser = await person("team-admin");
  await join(org, owner, adminUser, "admin");
  const team = await call("POST", `/organizations/${org.id}/teams`, adminUser.token, { name: "Billing" });
  assert.equal(team.status, 201, team.text);
  const dup = await call("POST", `/organizations/${org.id}/teams`, owner.token, { name: "Billing" });
  assert.equal(dup.status, 409);
  assert.equal(dup.body.error, "team_name_taken");
  const set = await call("PUT", `/organizations/${org.id}/teams/${team.body.id}/members/${adminUser.id}`, adminUser.token, { role: "admin" });
  assert.equal(set.status, 200, set.text);
  const tooHigh = await call("PUT", `/organizations/${org.id}/teams/${team.body.id}/members/${owner.id}`, adminUser.token, { role: "owner" });
  assert.equal(tooHigh.body.error, "role_above_own");
  // A team role above the admin's, given by an owner, is not overwritten by the admin either.
  await call("PUT", `/organizations/${org.id}/teams/${team.body.id}/members/${owner.id}`, owner.token, { role: "owner" });
  const overwrite = await call("PUT", `/organizations/${org.id}/teams/${team.body.id}/members/${owner.id}`, adminUser.token, { role: "member" });
  assert.equal(overwrite.status, 404, overwrite.text);
  await call("DELETE", `/organizations/${org.id}/teams/${team.body.id}/members/${owner.id}`, owner.token);
  const stranger = await person("team-stranger");
  assert.equal((await call("PUT", `/organizations/${org.id}/teams/${team.body.id}/members/${stranger.id}`, owner.token, { role: "member" })).status, 404);

  const invitee = await person("team-invitee");
  const unknown = await call("POST", `/organizations/${org.id}/invitations`, owner.token, { email: invitee.email, role: "member", teams: ["nope"] });
  assert.equal(unknown.status, 400);
  const invited = await call("POST", `/organizations/${org.id}/invitations`, owner.token, { email: invitee.email, role: "member", teams: [team.body.id] });
  assert.equal(invited.status, 201, invited.text);
  await call("POST", "/invitations/accept", invitee.token, { token: await invitationToken(invitee.email) });
  const teams = (await call("GET", `/organizations/${org.id}/teams`, invitee.token)).body.teams;
  assert.deepEqual(
    teams[0].members.map((m) => [m.user_id, m.role]).sort(),
    [[adminUser.id, "admin"], [invitee.id, "member"]].sort(),
  );
  // Leaving the organization leaves its teams.
  assert.equal((await call("DELETE", `/organizations/${org.id}/members/${invitee.id}`, invitee.token)).status, 200);
  const after = (await call("GET", `/organizations/${org.id}/teams`, owner.token)).body.teams;
  assert.deepEqual(after[0].members.map((m) => m.user_id), [adminUser.id]);
  assert.equal((await call("DELETE", `/organizations/${org.id}/teams/${team.body.id}/members/${adminUser.id}`, owner.token)).status, 200);
  assert.equal((await call("DELETE", `/organizations/${org.id}/teams/${team.body.id}`, owner.token)).status, 200);
  assert.deepEqual((await call("GET", `/organizations/${org.id}/teams`, owner.token)).body.teams, []);
});

test("every change is an event of the member and of the organization, and a webhook", async () => {
  const owner = await person("events-owner");
  const org = await organization(owner);
  const member = await person("events-member");
  await join(org, owner, member, "member");
  await call("PATCH", `/organizations/${org.id}/members/${member.id}`, owner.token, { role: "admin" });
  const trail = await eventually(
    () => call("GET", `/organizations/${org.id}/events`, owner.token),
    (r) => r.body.events?.length >= 5,
  );
  const kinds = trail.body.events.map((e) => [e.type, e.user_id]).reverse();
  assert.deepEqual(kinds, [
    ["organization.created", owner.id],
    ["organization.member_added", owner.id],
    ["organization.invitation_created", owner.id],
    ["organization.invitation_accepted", member.id],
    ["organization.member_added", member.id],
    ["organization.member_updated", member.id],
  ]);
  assert.ok(trail.body.events.every((e) => e.detail.organization === org.id));
  assert.ok(trail.body.events.every((e) => e.client === null), "members' addresses stay theirs");
  const own = await eventually(() => call("GET", "/me/events", member.token), (r) => r.body.events.some((e) => e.type === "organization.member_updated"));
  assert.ok(own.body.events.some((e) => e.type === "organization.member_updated" && e.detail.role === "admin"));
  assert.equal((await call("GET", `/organizations/${org.id}/events`, (await person("events-x")).token)).status, 404);

  const hooks = await receiver.received("/hooks", (p) => p.type === "organization.membership.updated" && p.data.detail.organization === org.id);
  assert.equal(hooks[0].payload.data.user_id, member.id);
  assert.equal(hooks[0].payload.data.detail.role, "admin");
});

test("the admin API lists organizations and acts on their members, keeping the last owner", async () => {
  const owner = await person("ops-owner");
  const org = await organization(owner, "ops");
  const member = await person("ops-member");
  await join(org, owner, member);
  const listed = await admin(app, "GET", "/admin/organizations?limit=100");
  assert.equal(listed.status, 200);
  assert.ok(listed.body.organizations.some((o) => o.id === org.id && o.members === 2));
  const one = await admin(app, "GET", `/admin/organizations/${org.id}`);
  assert.deepEqual(one.body.members.map((m) => m.role), ["owner", "member"]);
  const demote = await admin(app, "PATCH", `/admin/organizations/${org.id}/members/${owner.id}`, { json: { role: "member" } });
  assert.equal(demote.body.error, "last_owner");
  const promoted = await admin(app, "PATCH", `/admin/organizations/${org.id}/members/${member.id}`, { json: { role: "owner" } });
  assert.equal(promoted.status, 200);
  assert.equal((await admin(app, "DELETE", `/admin/organizations/${org.id}/members/${owner.id}`)).status, 200);
  const trail = await eventually(() => call("GET", `/organizations/${org.id}/events`, member.token), (r) => r.body.events?.some((e) => e.type === "organization.member_removed"));
  assert.equal(trail.body.events.find((e) => e.type === "organization.member_removed").actor, "operator");
  assert.equal((await admin(app, "DELETE", `/admin/organizations/${org.id}`)).status, 200);
  assert.equal((await admin(app, "GET", `/admin/organizations/${org.id}`)).status, 404);
  assert.equal((await call("GET", `/organizations/${org.id}`, member.token)).status, 404);
  assert.equal((await app.request("GET", "/admin/organizations", { token: member.token })).status, 401);
});

test("GET /me and the organization switch are one D1 round trip each", async () => {
  const owner = await person("trips-owner");
  const org = await organization(owner, "trips");
  const switched = await app.request("POST", "/refresh", { json: { refresh: owner.refresh, organization_id: org.id } });
  assert.equal(switched.status, 200);
  const me = await call("GET", "/me", switched.body.token);
  assert.equal(me.body.organization.id, org.id);
  const ids = [switched, me].map((answer) => answer.headers.get("x-request-id"));
  const lines = await eventually(
    () => app.logs().filter((l) => ids.includes(l.request_id) && "status" in l),
    (found) => found.length === 2,
  );
  assert.deepEqual(lines.map((l) => l.d1.round_trips), [1, 1]);
});
