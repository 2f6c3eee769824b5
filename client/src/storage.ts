// Where the session lives between page loads. Any object with these three methods will do (sync
// or async): a cookie, IndexedDB, a native app's keychain.

/** What is kept of a session. `expiresAt` is the access token's expiry, in ms since the epoch. */
export interface StoredSession {
  token: string;
  refresh: string;
  expiresAt: number;
  user: { email: string; username: string | null; email_verified: boolean } | null;
}

export interface SessionStore {
  get(): StoredSession | null | Promise<StoredSession | null>;
  set(session: StoredSession): void | Promise<void>;
  remove(): void | Promise<void>;
}

/** Kept in this object only: gone on reload, never shared between tabs. */
export function memoryStore(): SessionStore {
  let session: StoredSession | null = null;
  return {
    get: () => session,
    set: (value) => void (session = value),
    remove: () => void (session = null),
  };
}

/**
 * Kept in `localStorage` under `key`: survives reloads, and the tabs of one origin read the same
 * session (what lets a tab adopt another's rotation before refreshing itself). Anything that runs
 * script on the origin can read it, as with every token store a page can reach.
 */
export function localStorageStore(key = "edge-auth.session", storage: Storage = globalThis.localStorage): SessionStore {
  return {
    get() {
      const text = storage.getItem(key);
      if (!text) return null;
      try {
        return JSON.parse(text) as StoredSession;
      } catch {
        return null;
      }
    },
    set: (session) => storage.setItem(key, JSON.stringify(session)),
    remove: () => storage.removeItem(key),
  };
}

/** `localStorage` where there is one (browsers, Deno), memory elsewhere (Workers, Node). */
export function defaultStore(): SessionStore {
  try {
    if (globalThis.localStorage) return localStorageStore();
  } catch {
    // localStorage throws where storage is blocked (some private modes, sandboxed frames)
  }
  return memoryStore();
}
