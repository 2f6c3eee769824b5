// Organizations in the client: each call on its route (the path's ids filled in, the body, the
// bearer), and the switch of the active organization: a refresh that asks for it, run by the
// session's refresh machinery, so the tokens rotate and are stored as in any refresh, a refresh in
// flight is waited for rather than raced, and a refusal leaves the session as it was.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ApiError, createClient } from "../src/index.ts";
import { memoryStore } from "../src/storage.ts";

/** A JWT-shaped token with these claims (the client reads the payload only). */
const jwt = (claims: Record<string, unknown>) =>
  ["{}", JSON.stringify(claims)].map((part) => Buffer.from(part).toString("base64url")).join(".") + ".sig";

const ORG = { id: "org_AAAAAAAAAAAAAAAAAAAAAA", name: "Acme", slug: "acme", created_at: "2025-01-01T00:00:00Z", role: "owner", permissions: ["org:read"] };
const OTHER = "org_BBBBBBBBBBBBBBBBBBBBBB";

/**
 * The API as far as these tests need it: user 7, a member of ORG only. Each rotation spends the
 * refresh token it was given (a spent one is a 401); `organization_id` makes an organization the
 * active one, whose claims every later token carries. `/refresh` waits for `gate` when one is set.
 */
function fakeApi() {
  const calls: { method: string; path: string; body: unknown; auth: string | null }[] = [];
  let n = 1;
  let active: string | null = null;
  let gate: Promise<void> | null = null;
  const tokens = () => {
    const org = active ? { org_id: active, org_role: "owner", org_permissions: ["org:read", "org:delete"] } : {};
    return { token: jwt({ sub: "7", exp: 2_000_000_000, ...org }), refresh: `r${n}`, token_type: "Bearer", expires_in: 900 };
  };
  const fetch = async (input: Request | string | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    const text = await request.text();
    const body = text ? JSON.parse(text) : undefined;
    calls.push({ method: request.method, path: `${url.pathname}${url.search}`, body, auth: request.headers.get("Authorization") });
    const json = (status: number, answer: unknown) =>
      new Response(JSON.stringify(answer), { status, headers: { "Content-Type": "application/json" } });
    if (url.pathname === "/login") return json(200, { message: "Login successful", username: null, email: "ada@x.io", email_verified: true, ...tokens() });
    if (url.pathname === "/refresh") {
      if (gate) await gate;
      if (body.refresh !== `r${n}`) return json(401, { message: "Unauthorized", error: "unauthorized" });
      if (body.organization_id !== undefined) {
        if (body.organization_id !== null && body.organization_id !== ORG.id) {
          return json(403, { message: "You are not a member of this organization", error: "not_a_member" });
        }
        active = body.organization_id;
      }
      n++;
      return json(200, { message: "Token refreshed", ...tokens() });
    }
    if (url.pathname === `/organizations/${ORG.id}/members/7` && request.method === "DELETE") active = null;
    return json(request.method === "POST" && !url.pathname.endsWith("/resend") && !url.pathname.endsWith("/accept") ? 201 : 200, { message: "ok" });
  };
  return {
    fetch,
    calls,
    refreshes: () => calls.filter((c) => c.path === "/refresh").map((c) => c.body),
    /** Holds every `/refresh` until the returned function is called. */
    hold() {
      let release!: () => void;
      gate = new Promise((resolve) => (release = resolve));
      return () => {
        gate = null;
        release();
      };
    },
  };
}

async function signedIn(api = fakeApi(), store = memoryStore()) {
  const client = createClient({ baseUrl: "http://api.test", fetch: api.fetch, store });
  await client.login({ email: "ada@x.io", password: "pw" });
  return { api, client, store };
}

test("each organization call goes to its route: the ids in the path, the body, the bearer", async () => {
  const { api, client } = await signedIn();
  const o = ORG.id;
  await client.createOrganization({ name: "Acme", slug: "acme" });
  await client.listOrganizations().catch(() => undefined);
  await client.getOrganization(o);
  await client.updateOrganization(o, { name: "Acme Inc" });
  await client.listMembers(o).catch(() => undefined);
  await client.changeMemberRole(o, 12, "admin");
  await client.removeMember(o, 12);
  await client.invite(o, { email: "bob@x.io", role: "member", teams: ["team_1"] });
  await client.listInvitations(o).catch(() => undefined);
  await client.revokeInvitation(o, "inv_1");
  await client.resendInvitation(o, "inv/2");
  await client.myInvitations().catch(() => undefined);
  await client.acceptInvitation("t".repeat(43));
  await client.listTeams(o).catch(() => undefined);
  await client.createTeam(o, "Ops");
  await client.setTeamMember(o, "team_1", 12, "lead");
  await client.removeTeamMember(o, "team_1", 12);
  await client.deleteTeam(o, "team_1");
  await client.organizationEvents(o, { limit: 20 });
  await client.deleteOrganization(o);
  const sent = api.calls.slice(1).map((c) => [`${c.method} ${c.path}`, c.body]);
  assert.deepEqual(sent, [
    ["POST /organizations", { name: "Acme", slug: "acme" }],
    ["GET /organizations", undefined],
    [`GET /organizations/${o}`, undefined],
    [`PATCH /organizations/${o}`, { name: "Acme Inc" }],
    [`GET /organizations/${o}/members`, undefined],
    [`PATCH /organizations/${o}/members/12`, { role: "admin" }],
    [`DELETE /organizations/${o}/members/12`, undefined],
    [`POST /organizations/${o}/invitations`, { email: "bob@x.io", role: "member", teams: ["team_1"] }],
    [`GET /organizations/${o}/invitations`, undefined],
    [`DELETE /organizations/${o}/invitations/inv_1`, undefined],
    [`POST /organizations/${o}/invitations/inv%2F2/resend`, undefined],
    ["GET /invitations", undefined],
    ["POST /invitations/accept", { token: "t".repeat(43) }],
    [`GET /organizations/${o}/teams`, undefined],
    [`POST /organizations/${o}/teams`, { name: "Ops" }],
    [`PUT /organizations/${o}/teams/team_1/members/12`, { role: "lead" }],
    [`DELETE /organizations/${o}/teams/team_1/members/12`, undefined],
    [`DELETE /organizations/${o}/teams/team_1`, undefined],
    [`GET /organizations/${o}/events?limit=20`, undefined],
    [`DELETE /organizations/${o}`, undefined],
  ]);
  assert.ok(api.calls.slice(1).every((c) => c.auth?.startsWith("Bearer ")));
  client.dispose();
});

test("lists come back as arrays; an error answer is an ApiError with the API's code", async () => {
  const answers: Record<string, [number, unknown]> = {
    "/organizations": [200, { organizations: [ORG] }],
    "/invitations": [200, { invitations: [{ id: "inv_1", organization: { id: ORG.id, name: "Acme", slug: "acme" }, role: "member", expires_at: "2025-01-08T00:00:00Z" }] }],
    "/invitations/accept": [403, { message: "This invitation is for another address", error: "wrong_account" }],
  };
  const api = fakeApi();
  const fetch = async (input: Request | string | URL, init?: RequestInit) => {
    const answer = answers[new URL(new Request(input, init).url).pathname];
    return answer ? new Response(JSON.stringify(answer[1]), { status: answer[0] }) : api.fetch(input, init);
  };
  const { client } = await signedIn({ ...api, fetch });
  assert.deepEqual(await client.listOrganizations(), [ORG]);
  assert.equal((await client.myInvitations())[0]!.organization.slug, "acme");
  await assert.rejects(client.acceptInvitation("t".repeat(43)), (e) => e instanceof ApiError && e.code === "wrong_account" && e.status === 403);
  client.dispose();
});

test("a switch is a refresh that asks for the organization: the tokens rotate, are stored, and carry its claims", async () => {
  const { api, client, store } = await signedIn();
  const events: string[] = [];
  client.onChange((e) => events.push(e.type));
  assert.equal(client.activeOrganization, null);
  const active = await client.switchOrganization(ORG.id);
  assert.deepEqual(active, { org_id: ORG.id, org_role: "owner", org_permissions: ["org:read", "org:delete"] });
  assert.deepEqual(client.activeOrganization, active);
  assert.deepEqual(api.refreshes(), [{ refresh: "r1", organization_id: ORG.id }]);
  assert.equal((await store.get())?.refresh, "r2", "stored as any refresh is");
  assert.deepEqual(events, ["refreshed"]);
  // A later plain refresh keeps it (the API's rule); null clears it.
  await client.refresh();
  assert.equal(client.activeOrganization?.org_id, ORG.id);
  assert.equal(await client.switchOrganization(null), null);
  assert.deepEqual(api.refreshes().at(-1), { refresh: "r3", organization_id: null });
  assert.equal(client.activeOrganization, null);
  client.dispose();
});

test("a switch waits for the refresh in flight and rotates from its tokens: never a spent token", async () => {
  const { api, client } = await signedIn();
  const release = api.hold();
  const refreshed = client.refresh();
  const switched = client.switchOrganization(ORG.id);
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(api.refreshes().length, 1, "the switch is not sent while the refresh is in flight");
  release();
  await refreshed;
  assert.equal((await switched)?.org_id, ORG.id);
  assert.deepEqual(api.refreshes(), [{ refresh: "r1" }, { refresh: "r2", organization_id: ORG.id }]);
  assert.equal(client.signedIn, true);
  client.dispose();
});

test("a switch to an organization the account is not in is refused, and the session goes on as it was", async () => {
  const { api, client, store } = await signedIn();
  await assert.rejects(client.switchOrganization(OTHER), (e) => e instanceof ApiError && e.code === "not_a_member");
  assert.equal(client.signedIn, true);
  assert.equal((await store.get())?.refresh, "r1", "the refresh token was not spent");
  // No cooldown: the next switch goes out at once, from the same tokens.
  assert.equal((await client.switchOrganization(ORG.id))?.org_id, ORG.id);
  assert.deepEqual(api.refreshes(), [{ refresh: "r1", organization_id: OTHER }, { refresh: "r1", organization_id: ORG.id }]);
  client.dispose();
});

test("two tabs on one store: a switch in a tab that missed the other's rotation switches from that rotation", async () => {
  const api = fakeApi();
  const store = memoryStore();
  const { client: a } = await signedIn(api, store);
  const b = createClient({ baseUrl: "http://api.test", fetch: api.fetch, store });
  await b.ready;
  await a.refresh(); // b has not heard of it yet: its session still holds r1
  assert.equal((await b.switchOrganization(ORG.id))?.org_id, ORG.id);
  assert.deepEqual(api.refreshes(), [{ refresh: "r1" }, { refresh: "r2", organization_id: ORG.id }]);
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(a.activeOrganization?.org_id, ORG.id, "the other tab adopts the switched session");
  assert.ok(a.signedIn && b.signedIn);
  a.dispose();
  b.dispose();
});

test("leaving the active organization removes the account by its token's id, and the tokens drop it", async () => {
  const { api, client } = await signedIn();
  await client.switchOrganization(ORG.id);
  await client.leaveOrganization(ORG.id);
  assert.deepEqual(api.calls.slice(-2).map((c) => `${c.method} ${c.path}`), [`DELETE /organizations/${ORG.id}/members/7`, "POST /refresh"]);
  assert.equal(client.activeOrganization, null);
  client.dispose();
});
