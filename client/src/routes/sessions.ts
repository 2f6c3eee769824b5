// The account's sessions (its signed-in devices) and the apps it allowed.
import type { Context } from "../context.ts";
import type * as T from "../types.ts";
import { authorizedCall } from "./account.ts";
import { ROUTES } from "./table.ts";

export function sessionRoutes(context: Context) {
  const call = authorizedCall(context);
  return {
    /** `GET /sessions`: newest first; `current` marks this one. */
    listSessions: async () => (await call<{ sessions: T.SessionEntry[] }>(ROUTES.listSessions)).sessions,
    /** `DELETE /sessions/{id}`: ends one (ending the current one signs out at its next refresh). */
    endSession: (id: string) => call<T.Message>(ROUTES.endSession, undefined, { id }),
    /** `GET /oauth2/grants`: the apps the account allowed through this service's OpenID provider, newest first. */
    listApps: async () => (await call<{ apps: T.GrantedApp[] }>(ROUTES.listApps)).apps,
    /** `DELETE /oauth2/grants/{id}`: revokes an app (its consent and every token it holds, at once). */
    revokeApp: (clientId: string) => call<T.Message>(ROUTES.revokeApp, undefined, { id: clientId }),
    /** `GET /me/events`: the account's security trail, newest first (`cursor`: the previous page's `next_cursor`). */
    myEvents: ({ cursor, limit }: { cursor?: string; limit?: number } = {}) =>
      call<T.EventsPage>(ROUTES.myEvents, undefined, {
        query: { ...(cursor !== undefined && { cursor }), ...(limit !== undefined && { limit: String(limit) }) },
      }),
  };
}
