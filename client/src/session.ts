// The session of one tab: the refresh machine, wired to storage, the API's /refresh, the other
// tabs and a timer that refreshes before expiry.
import { ApiError, NotSignedInError, type ErrorCode } from "./errors.ts";
import type { Http } from "./http.ts";
import { RefreshMachine, type Change, type Clock, type RotationRequest, type SignOutReason } from "./refresh.ts";
import { ROUTES } from "./routes/table.ts";
import type { SessionStore, StoredSession } from "./storage.ts";
import { tabs, type Tabs } from "./tabs.ts";
import type { LoginAnswer, RefreshAnswer, RefreshRequest, User } from "./types.ts";

export interface SessionOptions {
  store: SessionStore;
  clock?: Clock;
  /** The BroadcastChannel and lock name shared by the tabs (one per API). */
  channel?: string;
  leewayMs?: number;
  cooldownMs?: number;
}

/** What `onChange` listeners get. */
export interface SessionEvent {
  type: Change["type"];
  signedIn: boolean;
  user: User | null;
  reason?: SignOutReason;
}

/**
 * A refresh's refusals of the organization it asked for (not a member; not an organization id):
 * the API refuses them before it spends the refresh token.
 */
const REFUSALS: ReadonlySet<ErrorCode> = new Set(["not_a_member", "validation_failed"]);

export class Session {
  readonly machine: RefreshMachine;
  /** Settles once the stored session (if any) is loaded. */
  readonly ready: Promise<void>;
  readonly #http: Http;
  readonly #store: SessionStore;
  readonly #clock: Clock;
  readonly #tabs: Tabs;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #disposed = false;

  constructor(http: Http, options: SessionOptions) {
    this.#http = http;
    this.#store = options.store;
    this.#clock = options.clock ?? { now: () => Date.now() };
    this.machine = new RefreshMachine({
      clock: this.#clock,
      rotate: (from, isCurrent, request) => this.#tabs.exclusive(() => this.#rotate(from, isCurrent, request)),
      // The refresh token was refused: this session is over. Anything else (offline, 5xx, 429)
      // may pass, and is retried after the cooldown.
      isFatal: (error) =>
        error instanceof NotSignedInError || (error instanceof ApiError && error.status < 500 && error.status !== 429),
      isRefusal: (error) => error instanceof ApiError && REFUSALS.has(error.code),
      ...(options.leewayMs !== undefined && { leewayMs: options.leewayMs }),
      ...(options.cooldownMs !== undefined && { cooldownMs: options.cooldownMs }),
    });
    this.#tabs = tabs(options.channel ?? `edge-auth:${http.baseUrl}`, (message) => {
      if (message.type === "session") this.machine.set(message.session, "adopted");
      else this.machine.signOut("other_tab");
    });
    this.machine.onChange((change) => {
      // A refresh token refused here is refused everywhere: every tab signs out.
      if (change.type === "signed_out" && change.reason === "expired") {
        void this.#store.remove();
        this.#tabs.post({ type: "signed_out" });
      }
      this.#schedule();
    });
    const { store } = options;
    const machine = this.machine;
    this.ready = (async () => {
      const stored = await store.get();
      if (stored && !machine.session) machine.set(stored, "restored");
    })();
  }

  /** Listens to sign-ins, refreshes, sign-outs; returns the function that stops listening. */
  onChange(listener: (event: SessionEvent) => void): () => void {
    return this.machine.onChange((change) =>
      listener({
        type: change.type,
        signedIn: change.session !== null,
        user: change.session?.user ?? null,
        ...(change.reason && { reason: change.reason }),
      }),
    );
  }

  get user(): User | null {
    return this.machine.session?.user ?? null;
  }

  /** Stores a sign-in's tokens and tells the other tabs. */
  async signedIn(answer: LoginAnswer): Promise<void> {
    const session: StoredSession = {
      token: answer.token,
      refresh: answer.refresh,
      expiresAt: this.#clock.now() + answer.expires_in * 1000,
      user: { email: answer.email, username: answer.username, email_verified: answer.email_verified },
    };
    this.machine.set(session, "signed_in");
    await this.#store.set(session);
    this.#tabs.post({ type: "session", session });
  }

  /** Forgets the session here and in every tab (the API call, if any, is the caller's). */
  async signedOut(reason: SignOutReason): Promise<void> {
    this.machine.signOut(reason);
    await this.#store.remove();
    this.#tabs.post({ type: "signed_out" });
  }

  /** A current access token (refreshed first when due). */
  async token(): Promise<string> {
    await this.ready;
    return this.machine.token();
  }

  /**
   * Calls `send` with an access token; when the API answers 401 (a result `isUnauthorized` says
   * is one, or an ApiError of status 401), refreshes once (unless another call already did) and
   * calls it again.
   */
  async authorized<T>(send: (token: string) => Promise<T>, isUnauthorized: (result: T) => boolean = () => false): Promise<T> {
    const token = await this.token();
    try {
      const first = await send(token);
      if (!isUnauthorized(first)) return first;
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 401)) throw error;
    }
    return send(await this.machine.afterUnauthorized(token));
  }

  /**
   * Makes `organizationId` the session's active organization (`null`: none) by a refresh that
   * asks for it: the tokens rotate as in any refresh, in this tab and the others. After the
   * rotation in flight, if any; ApiError `not_a_member` leaves the session as it was.
   */
  async switchOrganization(organizationId: string | null): Promise<StoredSession> {
    await this.ready;
    return this.machine.refreshWith({ organizationId });
  }

  dispose(): void {
    this.#disposed = true;
    clearTimeout(this.#timer);
    this.#tabs.close();
  }

  /** One rotation, run while holding the tabs' lock. */
  async #rotate(from: StoredSession, isCurrent: () => boolean, request: RotationRequest): Promise<StoredSession> {
    // Another tab may have rotated while this one waited for the lock: adopt its session rather
    // than spend the refresh token a second time.
    const stored = await this.#store.get();
    if (!stored) throw new NotSignedInError();
    if (stored.refresh !== from.refresh) {
      // A switch is still to be made: adopted now (unless this tab moved on meanwhile, signed out
      // above all), the machine asks for it again from that session, and the same session
      // arriving later from the channel changes nothing.
      if (request.organizationId !== undefined && isCurrent()) this.machine.set(stored, "adopted");
      return stored;
    }
    const body: RefreshRequest = {
      refresh: from.refresh,
      ...(request.organizationId !== undefined && { organization_id: request.organizationId }),
    };
    const answer = await this.#http.call<RefreshAnswer, RefreshRequest>(ROUTES.refresh, body);
    const next: StoredSession = {
      token: answer.token,
      refresh: answer.refresh,
      expiresAt: this.#clock.now() + answer.expires_in * 1000,
      user: from.user,
    };
    // A refresh that lands after a sign-out (or a newer sign-in) is dropped, not stored.
    if (isCurrent()) {
      await this.#store.set(next);
      this.#tabs.post({ type: "session", session: next });
    }
    return next;
  }

  #schedule(): void {
    clearTimeout(this.#timer);
    const at = this.machine.refreshAt();
    if (this.#disposed || at === null) return;
    // setTimeout's delay is a signed 32-bit count of ms; longer waits are re-armed.
    const delay = Math.min(Math.max(0, at - this.#clock.now()), 2 ** 31 - 1);
    this.#timer = setTimeout(() => {
      // A refresh already in flight is shared; one refused during the cooldown re-arms the timer.
      if (this.#clock.now() >= at) this.machine.refresh().catch(() => this.#schedule());
      else this.#schedule();
    }, delay);
    (this.#timer as { unref?: () => void }).unref?.();
  }
}
