// Organizations: the account's memberships, their members, invitations and teams, the invitations
// to the account's own address, and the session's active organization. A switch is a refresh that
// asks for the organization (`POST /refresh` with `organization_id`), run by the session's refresh
// machinery: after any rotation in flight and under the tabs' lock, so it never spends a refresh
// token another refresh spent; the new access token carries `org_id`, `org_role`, `org_permissions`.
import { accessClaims, organizationClaims } from "../claims.ts";
import type { Context } from "../context.ts";
import type * as T from "../types.ts";
import { authorizedCall } from "./account.ts";
import { ROUTES } from "./table.ts";

export function organizationRoutes(context: Context) {
  const { session } = context;
  const call = authorizedCall(context);
  const member = (organizationId: string, userId: number) => ({ id: organizationId, params: { user_id: userId } });
  const invitation = (organizationId: string, invitationId: string) => ({ id: organizationId, params: { invitation_id: invitationId } });
  const team = (organizationId: string, teamId: string) => ({ id: organizationId, params: { team_id: teamId } });
  const teamMember = (organizationId: string, teamId: string, userId: number) =>
    ({ id: organizationId, params: { team_id: teamId, user_id: userId } });
  /** The session's tokens lose a left or deleted organization's claims at once, not at the next refresh. */
  const dropIfActive = async (organizationId: string) => {
    const current = session.machine.session;
    if (current && organizationClaims(current.token)?.org_id === organizationId) await session.machine.refresh();
  };

  return {
    /** `POST /organizations`: a new organization, the account its owner (409 `slug_taken`, 403 `organization_limit`). */
    createOrganization: (body: T.CreateOrganizationRequest) =>
      call<T.Organization, T.CreateOrganizationRequest>(ROUTES.createOrganization, body),
    /** `GET /organizations`: the organizations the account is a member of. */
    listOrganizations: async () => (await call<{ organizations: T.Organization[] }>(ROUTES.listOrganizations)).organizations,
    /** `GET /organizations/{id}` (404 `not_found` unless the account is a member). */
    getOrganization: (id: string) => call<T.Organization>(ROUTES.getOrganization, undefined, { id }),
    /** `PATCH /organizations/{id}`: its name, its slug (needs `org:update`). */
    updateOrganization: (id: string, body: T.UpdateOrganizationRequest) =>
      call<T.Organization, T.UpdateOrganizationRequest>(ROUTES.updateOrganization, body, { id }),
    /** `DELETE /organizations/{id}` (needs `org:delete`); when it was the active one, the session's tokens drop it. */
    async deleteOrganization(id: string): Promise<T.Message> {
      const said = await call<T.Message>(ROUTES.deleteOrganization, undefined, { id });
      await dropIfActive(id);
      return said;
    },

    /** `GET /organizations/{id}/members`. */
    listMembers: async (organizationId: string) =>
      (await call<{ members: T.Member[] }>(ROUTES.listMembers, undefined, { id: organizationId })).members,
    /** `PATCH /organizations/{id}/members/{user_id}` (403 `not_allowed`, `role_above_own`; 409 `last_owner`). */
    changeMemberRole: (organizationId: string, userId: number, role: T.OrganizationRole) =>
      call<T.Member, T.UpdateMemberRequest>(ROUTES.updateMember, { role }, member(organizationId, userId)),
    /** `DELETE /organizations/{id}/members/{user_id}` (409 `last_owner`). */
    removeMember: (organizationId: string, userId: number) =>
      call<T.Message>(ROUTES.removeMember, undefined, member(organizationId, userId)),
    /**
     * Removes the signed-in account from the organization (its last owner may not: 409
     * `last_owner`); when it was the active one, the session's tokens drop it.
     */
    async leaveOrganization(organizationId: string): Promise<T.Message> {
      const own = accessClaims(await session.token())?.sub ?? (await call<T.Profile>(ROUTES.me)).id;
      const said = await call<T.Message>(ROUTES.removeMember, undefined, member(organizationId, Number(own)));
      await dropIfActive(organizationId);
      return said;
    },

    /** `POST /organizations/{id}/invitations`: mails `email` a link to accept (409 `already_member`, `member_limit`). */
    invite: (organizationId: string, body: T.InviteRequest) =>
      call<T.Invitation, T.InviteRequest>(ROUTES.invite, body, { id: organizationId }),
    /** `GET /organizations/{id}/invitations`: the pending ones (needs `members:invite`). */
    listInvitations: async (organizationId: string) =>
      (await call<{ invitations: T.Invitation[] }>(ROUTES.listInvitations, undefined, { id: organizationId })).invitations,
    /** `DELETE /organizations/{id}/invitations/{invitation_id}`: its link stops working. */
    revokeInvitation: (organizationId: string, invitationId: string) =>
      call<T.Message>(ROUTES.revokeInvitation, undefined, invitation(organizationId, invitationId)),
    /** `POST /organizations/{id}/invitations/{invitation_id}/resend`: a new mail, token and expiry. */
    resendInvitation: (organizationId: string, invitationId: string) =>
      call<T.Invitation>(ROUTES.resendInvitation, undefined, invitation(organizationId, invitationId)),
    /** `GET /invitations`: the pending invitations to the account's verified address. */
    myInvitations: async () => (await call<{ invitations: T.ReceivedInvitation[] }>(ROUTES.myInvitations)).invitations,
    /**
     * `POST /invitations/accept` with the token of the mail's link (`#invitation=`): the account
     * joins (403 `wrong_account` for another address, `email_not_verified`; 404
     * `invitation_not_found` once expired, revoked or used). It does not switch to it.
     */
    acceptInvitation: (token: string) =>
      call<T.Organization, T.AcceptInvitationRequest>(ROUTES.acceptInvitation, { token }),

    /** `GET /organizations/{id}/teams`, each with its members. */
    listTeams: async (organizationId: string) =>
      (await call<{ teams: T.Team[] }>(ROUTES.listTeams, undefined, { id: organizationId })).teams,
    /** `POST /organizations/{id}/teams` (needs `teams:manage`). */
    createTeam: (organizationId: string, name: string) =>
      call<T.Team, T.CreateTeamRequest>(ROUTES.createTeam, { name }, { id: organizationId }),
    /** `DELETE /organizations/{id}/teams/{team_id}`. */
    deleteTeam: (organizationId: string, teamId: string) =>
      call<T.Message>(ROUTES.deleteTeam, undefined, team(organizationId, teamId)),
    /** `PUT /organizations/{id}/teams/{team_id}/members/{user_id}`: adds an organization member to the team, or changes their role in it. */
    setTeamMember: (organizationId: string, teamId: string, userId: number, role: string) =>
      call<T.TeamMember, T.TeamMemberRequest>(ROUTES.setTeamMember, { role }, teamMember(organizationId, teamId, userId)),
    /** `DELETE /organizations/{id}/teams/{team_id}/members/{user_id}`. */
    removeTeamMember: (organizationId: string, teamId: string, userId: number) =>
      call<T.Message>(ROUTES.removeTeamMember, undefined, teamMember(organizationId, teamId, userId)),

    /** `GET /organizations/{id}/events`: its trail, as `myEvents` (needs `members:update`). */
    organizationEvents: (organizationId: string, { cursor, limit }: { cursor?: string; limit?: number } = {}) =>
      call<T.EventsPage>(ROUTES.organizationEvents, undefined, {
        id: organizationId,
        query: { ...(cursor !== undefined && { cursor }), ...(limit !== undefined && { limit: String(limit) }) },
      }),

    /**
     * Makes `organizationId` the session's active organization (`null`: none): a refresh that
     * asks for it, so the tokens rotate, here and in the other tabs, as in any refresh. Resolves
     * to the new token's organization claims; ApiError `not_a_member` leaves the session as it was.
     */
    switchOrganization: async (organizationId: string | null): Promise<T.OrganizationClaims | null> =>
      organizationClaims((await session.switchOrganization(organizationId)).token),
  };
}
