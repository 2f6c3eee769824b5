// The example's organization screens: the account's organizations, the active one (switched by a
// refresh: the access token then carries its id, the account's role and its permissions), its
// members and pending invitations, the invitations to this account, and an invitation's link
// (`/#invitation=<token>`: the mail's, the token in the fragment, which never reaches a server;
// `/?invitation=<token>` too) opened on this page, whose token waits in this tab, through a
// sign-in, until it is accepted or dismissed.
import { ApiError } from "/client/edge-auth-client.js";

const INVITATION = "example.invitation";
const cell = (text, className = "") => Object.assign(document.createElement("td"), { textContent: text, className });
/** This page, without its query or fragment: where an invitation mail's link comes back to. */
const PAGE = new URL(location.pathname, location.href).href;
const slugOf = (name) => name.toLowerCase().normalize("NFKD").replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 48);

/**
 * Wires the screens to `client` with the page's helpers; returns what the page's render calls:
 * `render(me)` (signed in) and `renderInvitation()` (always).
 */
export function organizationScreens({ client, $, value, on, button }) {
  /** The signed-in account's user id (`GET /me`). */
  let myId = null;
  /** Whether the account's role in the active organization has `permission` (as the token says: the API decides). */
  const can = (permission) => client.activeOrganization?.org_permissions.includes(permission) ?? false;

  // The link's token leaves the address bar (and the history) at once, whichever part carried it;
  // the fragment's other parameters (a sign-in link's) stay for the page.
  const here = new URL(location.href);
  const fragment = new URLSearchParams(here.hash.slice(1));
  const invited = fragment.get("invitation") ?? here.searchParams.get("invitation");
  if (invited) {
    sessionStorage.setItem(INVITATION, invited);
    here.searchParams.delete("invitation");
    fragment.delete("invitation");
    here.hash = fragment.toString();
    history.replaceState(history.state, "", here);
  }

  async function renderOrganizations() {
    let organizations;
    try {
      organizations = await client.listOrganizations();
    } catch (error) {
      // 404: a worker without organizations.
      if (error instanceof ApiError && error.status === 404) {
        for (const id of ["organizations-section", "organization-section", "my-invitations-section"]) $(id).hidden = true;
        return;
      }
      throw error;
    }
    const active = client.activeOrganization;
    const current = organizations.find((o) => o.id === active?.org_id) ?? null;
    $("active-organization").textContent = current ? `${current.name} (${current.slug}), as ${active.org_role}` : "none";
    $("organization-clear").hidden = !active;
    $("organizations").replaceChildren(...organizations.map((organization) => {
      const item = Object.assign(document.createElement("li"), { textContent: `${organization.name} (${organization.slug}): ${organization.role} ` });
      Object.assign(item.dataset, { id: organization.id, slug: organization.slug });
      item.append(organization === current
        ? Object.assign(document.createElement("strong"), { textContent: "active", className: "active" })
        : button("Switch to", "switch-organization", () => switchTo(organization)));
      return item;
    }));
    const received = await client.myInvitations();
    $("my-invitations").replaceChildren(...received.map((invitation) => {
      const item = Object.assign(document.createElement("li"), {
        textContent: `${invitation.organization.name} (${invitation.organization.slug}) invites you as ${invitation.role}, until ${new Date(invitation.expires_at).toLocaleString()}`,
      });
      item.dataset.id = invitation.id;
      return item;
    }));
    await renderOrganization(current);
  }

  /** The active organization: its members (role, remove), Leave, and for who may invite the invitations. */
  async function renderOrganization(organization) {
    $("organization-section").hidden = !organization;
    if (!organization) return;
    $("organization-title").textContent = `Members of ${organization.name}`;
    const members = await client.listMembers(organization.id);
    $("members").replaceChildren(...members.map((member) => {
      const row = document.createElement("tr");
      Object.assign(row.dataset, { userId: member.user_id, email: member.email });
      row.append(cell(member.email), cell(member.name ?? "–"), cell(member.role, "role"));
      const actions = document.createElement("td");
      if (member.user_id === myId) actions.textContent = "(you)";
      if (member.user_id !== myId && can("members:update")) {
        const role = Object.assign(document.createElement("input"), { value: member.role, className: "member-role", ariaLabel: "New role" });
        role.setAttribute("list", "organization-roles");
        actions.append(role, button("Change role", "change-role", async () => {
          const changed = await client.changeMemberRole(organization.id, member.user_id, role.value.trim());
          await renderOrganization(organization);
          return `${changed.email} is now ${changed.role}`;
        }));
      }
      if (member.user_id !== myId && can("members:remove")) {
        actions.append(button("Remove", "remove-member", async () => {
          const said = await client.removeMember(organization.id, member.user_id);
          await renderOrganization(organization);
          return said.message;
        }));
      }
      row.append(actions);
      return row;
    }));
    $("invitations-panel").hidden = !can("members:invite");
    if (can("members:invite")) await renderInvitations(organization);
  }

  async function renderInvitations(organization) {
    const invitations = await client.listInvitations(organization.id);
    $("invitations").replaceChildren(...invitations.map((invitation) => {
      const item = Object.assign(document.createElement("li"), {
        textContent: `${invitation.email} as ${invitation.role}, until ${new Date(invitation.expires_at).toLocaleString()} `,
      });
      Object.assign(item.dataset, { id: invitation.id, email: invitation.email });
      item.append(
        button("Resend", "resend-invitation", async () => {
          const sent = await client.resendInvitation(organization.id, invitation.id);
          await renderInvitations(organization);
          return `Sent a new invitation to ${sent.email}`;
        }),
        button("Revoke", "revoke-invitation", async () => {
          const said = await client.revokeInvitation(organization.id, invitation.id);
          await renderInvitations(organization);
          return said.message;
        }),
      );
      return item;
    }));
  }

  async function switchTo(organization) {
    const active = await client.switchOrganization(organization?.id ?? null);
    await renderOrganizations();
    return active ? `Switched to ${organization.name}: you are ${active.org_role}` : "No active organization";
  }

  /** The invitation waiting in this tab: accepted once signed in (signed out, the page asks for a sign-in first). */
  function renderInvitation() {
    $("invitation").hidden = !sessionStorage.getItem(INVITATION);
    $("accept-invitation").hidden = !client.signedIn;
    $("invitation-hint").textContent = client.signedIn
      ? "You were invited to join an organization."
      : "You were invited to join an organization: sign in (or sign up with the invited address and verify it) to accept it.";
  }

  async function accept(token) {
    const organization = await client.acceptInvitation(token);
    if (sessionStorage.getItem(INVITATION) === token) sessionStorage.removeItem(INVITATION);
    renderInvitation();
    await renderOrganizations();
    return `Joined ${organization.name} as ${organization.role}; switch to it above`;
  }

  on("organization-form", "submit", async () => {
    const name = value("organization-name");
    const organization = await client.createOrganization({ name, slug: value("organization-slug") || slugOf(name) });
    $("organization-form").reset();
    await client.switchOrganization(organization.id);
    await renderOrganizations();
    return `Created ${organization.name}; it is your active organization`;
  });
  on("organization-clear", "click", () => switchTo(null));
  on("leave-organization", "click", async () => {
    const said = await client.leaveOrganization(client.activeOrganization.org_id);
    await renderOrganizations();
    return said.message;
  });
  on("invite-form", "submit", async () => {
    const organization = { id: client.activeOrganization.org_id };
    // The mail links back to this page (which the worker's OAUTH_REDIRECT_URLS must list), or
    // without the box ticked carries the token to paste under "Invitations for me".
    const link = $("invite-link").checked ? { redirect_to: PAGE } : {};
    const invitation = await client.invite(organization.id, { email: value("invite-email"), role: value("invite-role"), ...link });
    $("invite-form").reset();
    await renderInvitations(organization);
    return `Invited ${invitation.email} as ${invitation.role}`;
  });
  on("accept-invitation", "click", async () => {
    const token = sessionStorage.getItem(INVITATION);
    try {
      return await accept(token);
    } catch (error) {
      // Expired, revoked or used: nothing left to accept. (Another account's: it stays, for a sign-in with the right one.)
      if (error instanceof ApiError && error.code === "invitation_not_found") {
        sessionStorage.removeItem(INVITATION);
        renderInvitation();
      }
      throw error;
    }
  });
  on("dismiss-invitation", "click", async () => {
    sessionStorage.removeItem(INVITATION);
    renderInvitation();
  });
  on("accept-form", "submit", async () => {
    const text = value("accept-token");
    let token = text;
    try {
      const link = new URL(text);
      token = new URLSearchParams(link.hash.slice(1)).get("invitation") ?? link.searchParams.get("invitation") ?? text;
    } catch {
      // not a link: the token itself
    }
    const said = await accept(token);
    $("accept-form").reset();
    return said;
  });

  return {
    async render(me) {
      myId = me.id;
      await renderOrganizations();
    },
    renderInvitation,
  };
}
