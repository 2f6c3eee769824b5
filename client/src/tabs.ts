// What the tabs of one origin tell each other: a new session (a sign-in or a rotation) and a
// sign-out, over a BroadcastChannel; and one lock so that only one tab rotates at a time.
import type { StoredSession } from "./storage.ts";

export type TabMessage = { type: "session"; session: StoredSession } | { type: "signed_out" };

export interface Tabs {
  post(message: TabMessage): void;
  /** Runs `task` while no other tab of the origin runs one under the same name. */
  exclusive<T>(task: () => Promise<T>): Promise<T>;
  close(): void;
}

interface LockManagerLike {
  request<T>(name: string, callback: () => Promise<T>): Promise<T>;
}

/** The tabs of this origin under `name`; where there is no BroadcastChannel or no Web Locks, just this one. */
export function tabs(name: string, onMessage: (message: TabMessage) => void): Tabs {
  const Channel = globalThis.BroadcastChannel;
  const channel = Channel ? new Channel(name) : null;
  if (channel) {
    channel.onmessage = (event: MessageEvent<TabMessage>) => onMessage(event.data);
    // Node keeps its process alive for an open channel; a client must not.
    (channel as { unref?: () => void }).unref?.();
  }
  const locks = (globalThis.navigator as { locks?: LockManagerLike } | undefined)?.locks;
  return {
    post: (message) => channel?.postMessage(message),
    exclusive: (task) => (locks ? locks.request(`${name}.refresh`, task) : task()),
    close: () => channel?.close(),
  };
}
