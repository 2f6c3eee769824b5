// The signed-in account: profile, password, address, deletion.
import type { Context } from "../context.ts";
import type { CallOptions } from "../http.ts";
import type { Route } from "./table.ts";
import type * as T from "../types.ts";
import { ROUTES } from "./table.ts";

/** A call with the session's bearer token, refreshed and retried once on a 401. */
export function authorizedCall({ http, session }: Context) {
  return <A, B = never>(route: Route<B>, body?: B, options: Pick<CallOptions, "id" | "params" | "query"> = {}) =>
    session.authorized((token) => http.call<A, B>(route, body, { ...options, token }));
}

export function accountRoutes(context: Context) {
  const call = authorizedCall(context);
  return {
    /** `GET /me`: the profile. */
    me: () => call<T.Profile>(ROUTES.me),
    /** `PUT /update-profile`: the display name (`null` or `""` clears it). */
    updateProfile: (body: T.UpdateProfileRequest) => call<T.Message, T.UpdateProfileRequest>(ROUTES.updateProfile, body),
    /** `POST /change-password`: every other session ends; this one goes on. */
    changePassword: (body: T.ChangePasswordRequest) =>
      call<T.Message, T.ChangePasswordRequest>(ROUTES.changePassword, body),
    /** `POST /change-email`: mails a code to the new address. */
    changeEmail: (body: T.ChangeEmailRequest) => call<T.Message, T.ChangeEmailRequest>(ROUTES.changeEmail, body),
    /** `POST /confirm-email-change` with that code. */
    confirmEmailChange: (body: T.ConfirmEmailChangeRequest) =>
      call<T.EmailChanged, T.ConfirmEmailChangeRequest>(ROUTES.confirmEmailChange, body),
    /** `DELETE /me`: deletes the account and everything it owns; every tab signs out. */
    async deleteAccount(body: T.DeleteMeRequest): Promise<T.Message> {
      const answer = await call<T.Message, T.DeleteMeRequest>(ROUTES.deleteMe, body);
      await context.session.signedOut("account_deleted");
      return answer;
    },
  };
}
