// The refresh logic, as a small state machine with the clock passed in: no timers, no I/O of its
// own. `rotate` (given by session.ts) does the exchange; this decides when, and what its result
// is worth when it arrives.
import { NotSignedInError } from "./errors.ts";
import type { StoredSession } from "./storage.ts";

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export type RefreshState =
  | { name: "signed_out" }
  | { name: "ready" }
  | { name: "refreshing" }
  | { name: "cooldown"; until: number; error: unknown };

export type ChangeType = "signed_in" | "restored" | "refreshed" | "adopted" | "signed_out";

/** Why a session ended: a sign-out here, in another tab, a refresh token refused, the account deleted. */
export type SignOutReason = "signed_out" | "other_tab" | "expired" | "account_deleted";

export interface Change {
  type: ChangeType;
  session: StoredSession | null;
  reason?: SignOutReason;
}

/** What a rotation asks for besides new tokens: another active organization (`null`: none). */
export interface RotationRequest {
  organizationId?: string | null;
}

export interface MachineOptions {
  clock: Clock;
  /**
   * Exchanges `from` for a newer session (asking for `request` too). `isCurrent()` turns false
   * once the machine has moved on (signed out, signed in anew, adopted another tab's session):
   * the result will be discarded.
   */
  rotate(from: StoredSession, isCurrent: () => boolean, request: RotationRequest): Promise<StoredSession>;
  /** Whether a rotation's error means the session is over (the refresh token was refused). */
  isFatal(error: unknown): boolean;
  /**
   * Whether a rotation's error refused only what it asked for (an organization the account is not
   * a member of): the refresh token is unspent, and the session goes on as it was, without a cooldown.
   */
  isRefusal?(error: unknown): boolean;
  /** Refresh this long before the access token expires (capped at a quarter of its life). */
  leewayMs?: number;
  /** After a failed refresh, this long without another try. */
  cooldownMs?: number;
}

export class RefreshMachine {
  readonly #options: Required<MachineOptions>;
  #state: RefreshState = { name: "signed_out" };
  #session: StoredSession | null = null;
  #issuedAt = 0;
  #inFlight: Promise<StoredSession> | null = null;
  /** Bumped whenever the session is replaced or ended: a rotation of an older epoch is stale. */
  #epoch = 0;
  readonly #listeners = new Set<(change: Change) => void>();

  constructor(options: MachineOptions) {
    this.#options = { leewayMs: 30_000, cooldownMs: 5_000, isRefusal: () => false, ...options };
  }

  get state(): RefreshState {
    return this.#state;
  }

  get session(): StoredSession | null {
    return this.#session;
  }

  onChange(listener: (change: Change) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** A new session: signed in here (`signed_in`), read from storage (`restored`), or from another tab (`adopted`). */
  set(session: StoredSession, type: "signed_in" | "restored" | "adopted"): void {
    if (type === "adopted" && this.#session?.refresh === session.refresh) return;
    this.#epoch++;
    this.#inFlight = null;
    this.#session = session;
    this.#issuedAt = this.#options.clock.now();
    this.#state = { name: "ready" };
    this.#emit({ type, session });
  }

  /** Ends the session here; a rotation still in flight is discarded when it lands. */
  signOut(reason: SignOutReason): void {
    if (!this.#session) return;
    this.#epoch++;
    this.#inFlight = null;
    this.#session = null;
    this.#state = { name: "signed_out" };
    this.#emit({ type: "signed_out", session: null, reason });
  }

  /** When the next refresh is due (ms since the epoch), or null when signed out. */
  refreshAt(): number | null {
    const session = this.#session;
    if (!session) return null;
    if (this.#state.name === "cooldown") return this.#state.until;
    const life = Math.max(0, session.expiresAt - this.#issuedAt);
    return session.expiresAt - Math.min(this.#options.leewayMs, life / 4);
  }

  /** An access token to send: the current one while it is not due, else a refreshed one. */
  async token(): Promise<string> {
    const session = this.#session;
    if (!session) throw new NotSignedInError();
    const now = this.#options.clock.now();
    if (now < (this.refreshAt() ?? 0) && this.#state.name !== "cooldown") return session.token;
    if (this.#state.name === "cooldown" && now < this.#state.until) {
      // No new try before the cooldown ends; a token that is due but not yet expired still works.
      if (now < session.expiresAt) return session.token;
      throw this.#state.error;
    }
    try {
      return (await this.refresh()).token;
    } catch (error) {
      if (this.#session && now < this.#session.expiresAt && !this.#options.isFatal(error)) return this.#session.token;
      throw error;
    }
  }

  /**
   * The API refused `rejected` (401): a newer token when there is one already, else one refresh.
   */
  async afterUnauthorized(rejected: string): Promise<string> {
    const session = this.#session;
    if (!session) throw new NotSignedInError();
    if (session.token !== rejected) return session.token;
    return (await this.refresh()).token;
  }

  /**
   * Refreshes now. Concurrent callers share one rotation; during the cooldown after a failure it
   * rejects at once with that failure, without a request.
   */
  refresh(): Promise<StoredSession> {
    if (!this.#session) return Promise.reject(new NotSignedInError());
    return this.#inFlight ?? this.#rotate({});
  }

  /**
   * A rotation that asks for `request` too (another active organization). It waits for the
   * rotation in flight, if any, whose refresh token it would otherwise spend a second time;
   * callers of `refresh` and `token` meanwhile share it. Overtaken by another tab's rotation
   * (adopted while it waited), it is asked again, from that one.
   */
  async refreshWith(request: RotationRequest): Promise<StoredSession> {
    for (;;) {
      while (this.#inFlight) await this.#inFlight.catch(() => undefined);
      const epoch = this.#epoch;
      const next = await this.#rotate(request);
      if (epoch === this.#epoch) return next;
    }
  }

  #rotate(request: RotationRequest): Promise<StoredSession> {
    const from = this.#session;
    if (!from) return Promise.reject(new NotSignedInError());
    const state = this.#state;
    const now = this.#options.clock.now();
    if (state.name === "cooldown" && now < state.until) return Promise.reject(state.error);
    const epoch = this.#epoch;
    const isCurrent = () => epoch === this.#epoch;
    // Only a rotation that asked for something can be refused for it (a plain one that could
    // would be retried at once, for ever).
    const isRefusal = (error: unknown) => request.organizationId !== undefined && this.#options.isRefusal(error);
    this.#state = { name: "refreshing" };
    const attempt = (async () => {
      try {
        const next = await this.#options.rotate(from, isCurrent, request);
        if (!isCurrent()) return this.#current();
        this.#inFlight = null;
        this.#session = next;
        this.#issuedAt = this.#options.clock.now();
        this.#state = { name: "ready" };
        this.#emit({ type: "refreshed", session: next });
        return next;
      } catch (error) {
        if (!isCurrent()) return this.#current();
        this.#inFlight = null;
        if (isRefusal(error)) {
          this.#state = { name: "ready" };
        } else if (this.#options.isFatal(error)) {
          this.signOut("expired");
        } else {
          this.#state = { name: "cooldown", until: this.#options.clock.now() + this.#options.cooldownMs, error };
        }
        throw error;
      }
    })();
    // Those who share it asked for tokens only: a refusal of what it asked for leaves them the
    // session as it was.
    const shared = attempt.catch((error: unknown) => {
      if (isRefusal(error)) return this.#current();
      throw error;
    });
    // Shared by nobody, its failure is its first caller's alone: not an unhandled rejection.
    shared.catch(() => undefined);
    this.#inFlight = shared;
    return attempt;
  }

  /** What a stale rotation resolves to: the session that replaced it, if any. */
  #current(): StoredSession {
    if (!this.#session) throw new NotSignedInError();
    return this.#session;
  }

  #emit(change: Change): void {
    for (const listener of this.#listeners) listener(change);
  }
}
