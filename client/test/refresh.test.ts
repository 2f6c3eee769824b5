// The refresh state machine, driven by a fake clock and rotations the test settles by hand: no
// timers, no network.
import { test } from "node:test";
import assert from "node:assert/strict";
import { RefreshMachine, type Change, type MachineOptions, type RotationRequest } from "../src/refresh.ts";
import { ApiError, NetworkError, NotSignedInError } from "../src/errors.ts";
import type { StoredSession } from "../src/storage.ts";

const MINUTE = 60_000;

class FakeClock {
  t = 1_000_000;
  now = () => this.t;
  advance(ms: number) {
    this.t += ms;
  }
}

/** A rotation the test resolves or rejects when it likes. */
interface Pending {
  from: StoredSession;
  isCurrent: () => boolean;
  request: RotationRequest;
  resolve(session: StoredSession): void;
  reject(error: unknown): void;
}

function session(n: number, expiresAt: number): StoredSession {
  return { token: `access-${n}`, refresh: `refresh-${n}`, expiresAt, user: null };
}

function setup(options: Partial<MachineOptions> = {}) {
  const clock = new FakeClock();
  const rotations: Pending[] = [];
  const changes: Change[] = [];
  const machine = new RefreshMachine({
    clock,
    rotate: (from, isCurrent, request) =>
      new Promise((resolve, reject) => rotations.push({ from, isCurrent, request, resolve, reject })),
    isFatal: (error) => error instanceof ApiError && error.status === 401,
    isRefusal: (error) => error instanceof ApiError && error.code === "not_a_member",
    leewayMs: 30_000,
    cooldownMs: 5_000,
    ...options,
  });
  machine.onChange((change) => changes.push(change));
  return { clock, machine, rotations, changes };
}

const unauthorized = () =>
  new ApiError(401, { message: "Unauthorized", error: "unauthorized" }, null);

/** Lets the machine's promise callbacks run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

test("a token that is not due is handed out as it is, without a rotation", async () => {
  const { clock, machine, rotations } = setup();
  machine.set(session(1, clock.now() + 15 * MINUTE), "signed_in");
  clock.advance(14 * MINUTE);
  assert.equal(await machine.token(), "access-1");
  assert.equal(rotations.length, 0);
});

test("the refresh is due the leeway before expiry, or a quarter of a short life", () => {
  const { clock, machine } = setup();
  machine.set(session(1, clock.now() + 15 * MINUTE), "signed_in");
  assert.equal(machine.refreshAt(), clock.now() + 15 * MINUTE - 30_000);
  machine.set(session(2, clock.now() + 8_000), "signed_in");
  assert.equal(machine.refreshAt(), clock.now() + 6_000);
});

test("concurrent callers of a due token share one rotation", async () => {
  const { clock, machine, rotations, changes } = setup();
  machine.set(session(1, clock.now() + 15 * MINUTE), "signed_in");
  clock.advance(14.6 * MINUTE);
  const tokens = Promise.all([machine.token(), machine.token(), machine.refresh().then((s) => s.token)]);
  assert.equal(rotations.length, 1);
  assert.equal(machine.state.name, "refreshing");
  rotations[0]!.resolve(session(2, clock.now() + 15 * MINUTE));
  assert.deepEqual(await tokens, ["access-2", "access-2", "access-2"]);
  assert.equal(machine.state.name, "ready");
  assert.deepEqual(changes.map((c) => c.type), ["signed_in", "refreshed"]);
  assert.equal(await machine.token(), "access-2");
  assert.equal(rotations.length, 1);
});

test("a rotation that lands after a sign-out is discarded", async () => {
  const { clock, machine, rotations, changes } = setup();
  machine.set(session(1, clock.now() + 15 * MINUTE), "signed_in");
  const waiting = machine.refresh();
  machine.signOut("signed_out");
  assert.equal(rotations[0]!.isCurrent(), false);
  rotations[0]!.resolve(session(2, clock.now() + 15 * MINUTE));
  await assert.rejects(waiting, NotSignedInError);
  assert.equal(machine.session, null);
  assert.equal(machine.state.name, "signed_out");
  assert.deepEqual(changes.map((c) => c.type), ["signed_in", "signed_out"]);
});

test("a rotation that lands after a new sign-in leaves the new session in place", async () => {
  const { clock, machine, rotations } = setup();
  machine.set(session(1, clock.now() + 15 * MINUTE), "signed_in");
  const waiting = machine.refresh();
  machine.set(session(9, clock.now() + 15 * MINUTE), "signed_in");
  rotations[0]!.resolve(session(2, clock.now() + 15 * MINUTE));
  assert.equal((await waiting).token, "access-9");
  assert.equal(machine.session?.token, "access-9");
});

test("another tab's rotation, adopted while this one waits, is what the waiting callers get", async () => {
  const { clock, machine, rotations, changes } = setup();
  machine.set(session(1, clock.now() + 15 * MINUTE), "signed_in");
  clock.advance(15 * MINUTE);
  const waiting = machine.token();
  machine.set(session(2, clock.now() + 15 * MINUTE), "adopted");
  machine.set(session(2, clock.now() + 15 * MINUTE), "adopted"); // the same one again: nothing
  rotations[0]!.resolve(session(2, clock.now() + 15 * MINUTE));
  assert.equal(await waiting, "access-2");
  assert.deepEqual(changes.map((c) => c.type), ["signed_in", "adopted"]);
});

test("after a failed refresh, a cooldown: no new try until it ends, then one", async () => {
  const { clock, machine, rotations } = setup();
  machine.set(session(1, clock.now() + 15 * MINUTE), "signed_in");
  clock.advance(15 * MINUTE - 10_000); // due, not expired
  const offline = new NetworkError("offline");
  const first = machine.token();
  rotations[0]!.reject(offline);
  // The refresh failed, but the token has 10 s to live: it is still handed out.
  assert.equal(await first, "access-1");
  assert.equal(machine.state.name, "cooldown");
  assert.equal(machine.refreshAt(), clock.now() + 5_000);
  for (let i = 0; i < 20; i++) assert.equal(await machine.token(), "access-1");
  await assert.rejects(machine.refresh(), (e) => e === offline);
  clock.advance(10_000); // expired, still in the cooldown? no: 10 s > 5 s
  const second = machine.token();
  assert.equal(rotations.length, 2);
  rotations[1]!.resolve(session(2, clock.now() + 15 * MINUTE));
  assert.equal(await second, "access-2");
});

test("an expired token during the cooldown is refused with the refresh's error, without a request", async () => {
  const { clock, machine, rotations } = setup();
  machine.set(session(1, clock.now() + 15 * MINUTE), "signed_in");
  clock.advance(16 * MINUTE);
  const failure = new NetworkError("offline");
  const first = machine.token();
  rotations[0]!.reject(failure);
  await assert.rejects(first, (e) => e === failure);
  clock.advance(4_000);
  await assert.rejects(machine.token(), (e) => e === failure);
  assert.equal(rotations.length, 1);
});

test("a refused refresh token ends the session", async () => {
  const { clock, machine, rotations, changes } = setup();
  machine.set(session(1, clock.now() + 15 * MINUTE), "signed_in");
  clock.advance(16 * MINUTE);
  const first = machine.token();
  rotations[0]!.reject(unauthorized());
  await assert.rejects(first, ApiError);
  assert.equal(machine.state.name, "signed_out");
  assert.deepEqual(changes.at(-1), { type: "signed_out", session: null, reason: "expired" });
  await assert.rejects(machine.token(), NotSignedInError);
  assert.equal(machine.refreshAt(), null);
});

test("a 401 refreshes once, unless the refused token was already replaced", async () => {
  const { clock, machine, rotations } = setup();
  machine.set(session(1, clock.now() + 15 * MINUTE), "signed_in");
  const retries = Promise.all([machine.afterUnauthorized("access-1"), machine.afterUnauthorized("access-1")]);
  assert.equal(rotations.length, 1);
  rotations[0]!.resolve(session(2, clock.now() + 15 * MINUTE));
  assert.deepEqual(await retries, ["access-2", "access-2"]);
  // A call that was sent with the old token and refused after the rotation needs no new one.
  assert.equal(await machine.afterUnauthorized("access-1"), "access-2");
  assert.equal(rotations.length, 1);
});

test("a session restored after its token expired refreshes once on first use", async () => {
  const { clock, machine, rotations, changes } = setup();
  machine.set(session(1, clock.now() - 60_000), "restored");
  assert.ok((machine.refreshAt() ?? Infinity) <= clock.now());
  const calls = Promise.all([machine.token(), machine.token()]);
  await settle();
  assert.equal(rotations.length, 1);
  rotations[0]!.resolve(session(2, clock.now() + 15 * MINUTE));
  assert.deepEqual(await calls, ["access-2", "access-2"]);
  assert.deepEqual(changes.map((c) => c.type), ["restored", "refreshed"]);
});

test("signed out: no token, no rotation", async () => {
  const { machine, rotations } = setup();
  await assert.rejects(machine.token(), NotSignedInError);
  await assert.rejects(machine.refresh(), NotSignedInError);
  await assert.rejects(machine.afterUnauthorized("x"), NotSignedInError);
  machine.signOut("signed_out"); // nothing to end: no event
  assert.equal(rotations.length, 0);
});

test("a switch waits for the rotation in flight and rotates from its result; callers meanwhile share the switch", async () => {
  const { clock, machine, rotations, changes } = setup();
  machine.set(session(1, clock.now() + 15 * MINUTE), "signed_in");
  const plain = machine.refresh();
  const switched = machine.refreshWith({ organizationId: "org_1" });
  await settle();
  assert.equal(rotations.length, 1, "the switch does not spend the token the refresh in flight spends");
  rotations[0]!.resolve(session(2, clock.now() + 15 * MINUTE));
  assert.equal((await plain).token, "access-2");
  await settle();
  assert.equal(rotations.length, 2);
  assert.deepEqual([rotations[1]!.from.refresh, rotations[1]!.request], ["refresh-2", { organizationId: "org_1" }]);
  const sharing = machine.refresh();
  assert.equal(rotations.length, 2, "a refresh asked for meanwhile shares the switch");
  rotations[1]!.resolve(session(3, clock.now() + 15 * MINUTE));
  assert.equal((await switched).token, "access-3");
  assert.equal((await sharing).token, "access-3");
  assert.deepEqual(changes.map((c) => c.type), ["signed_in", "refreshed", "refreshed"]);
});

test("a refused switch leaves the session as it was: no sign-out, no cooldown; who shared it gets the session", async () => {
  const { clock, machine, rotations } = setup();
  machine.set(session(1, clock.now() + 15 * MINUTE), "signed_in");
  const switched = machine.refreshWith({ organizationId: "not-mine" });
  await settle();
  const sharing = machine.refresh();
  rotations[0]!.reject(new ApiError(403, { message: "You are not a member of this organization", error: "not_a_member" }, null));
  await assert.rejects(switched, { code: "not_a_member" });
  assert.equal((await sharing).token, "access-1");
  assert.equal(machine.state.name, "ready");
  assert.equal(machine.session?.token, "access-1");
  const again = machine.refreshWith({ organizationId: "org_1" });
  await settle();
  assert.equal(rotations.length, 2, "no cooldown: the next switch goes out at once");
  assert.equal(rotations[1]!.from.refresh, "refresh-1", "the refused switch spent nothing");
  rotations[1]!.resolve(session(2, clock.now() + 15 * MINUTE));
  assert.equal((await again).token, "access-2");
});

test("a plain refresh is never a refusal: the same error is fatal there", async () => {
  const { clock, machine, rotations } = setup({ isFatal: () => true });
  machine.set(session(1, clock.now() + 15 * MINUTE), "signed_in");
  const plain = machine.refresh();
  rotations[0]!.reject(new ApiError(403, { message: "no", error: "not_a_member" }, null));
  await assert.rejects(plain, { code: "not_a_member" });
  assert.equal(machine.state.name, "signed_out");
});

test("a switch overtaken by another tab's rotation is asked again, from the adopted session", async () => {
  const { clock, machine, rotations } = setup();
  machine.set(session(1, clock.now() + 15 * MINUTE), "signed_in");
  const switched = machine.refreshWith({ organizationId: "org_1" });
  await settle();
  // While it waited for the tabs' lock, another tab rotated: adopted, the first try is stale.
  machine.set(session(2, clock.now() + 15 * MINUTE), "adopted");
  assert.equal(rotations[0]!.isCurrent(), false);
  rotations[0]!.resolve(session(2, clock.now() + 15 * MINUTE));
  await settle();
  assert.equal(rotations.length, 2);
  assert.deepEqual([rotations[1]!.from.refresh, rotations[1]!.request], ["refresh-2", { organizationId: "org_1" }]);
  rotations[1]!.resolve(session(3, clock.now() + 15 * MINUTE));
  assert.equal((await switched).token, "access-3");
});

test("a switch after a sign-out, or during the cooldown, sends nothing", async () => {
  const { clock, machine, rotations } = setup();
  await assert.rejects(machine.refreshWith({ organizationId: "org_1" }), NotSignedInError);
  machine.set(session(1, clock.now() + 15 * MINUTE), "signed_in");
  const offline = new NetworkError("offline");
  const plain = machine.refresh();
  rotations[0]!.reject(offline);
  await assert.rejects(plain, (e) => e === offline);
  await assert.rejects(machine.refreshWith({ organizationId: "org_1" }), (e) => e === offline);
  assert.equal(rotations.length, 1);
});
