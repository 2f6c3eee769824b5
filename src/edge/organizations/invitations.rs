//! Invitations: `POST /organizations/{id}/invitations {email, role, teams?, redirect_to?}` mails
//! the address a link (or a token) to accept; `GET` lists them, `DELETE
//! /organizations/{id}/invitations/{invitation_id}` revokes one, `POST …/resend` mails a new token
//! with a new expiry. `GET /invitations` shows the caller's, and `POST /invitations/accept {token}`
//! accepts one, only for the account that verified the invited address: holding the link is not
//! enough (OWASP Authorization Cheat Sheet: verify the authorization on every request).

use serde_json::{json, Value};
use worker::{Request, Response};

use crate::core::accounts::email::Email;
use crate::core::config::Config;
use crate::core::email_sign_in::link::LinkToken;
use crate::core::events::security_event::{Detail, EventKind};
use crate::core::organizations::config::INVITATION_MAILS_PER_DAY;
use crate::core::organizations::mail;
use crate::core::organizations::requests::NewInvitation;
use crate::core::organizations::rules::may_assign;
use crate::core::random;
use crate::core::violation::Violation;
use crate::edge::bindings::now;
use crate::edge::context::RouteContext;
use crate::edge::error::ApiError;
use crate::edge::http::{json, read_body, rfc3339};
use crate::edge::mailer::send_later;
use crate::edge::organizations::sql::invitations::{
    self, Invitation, Invited, Invitee, Sending, PURPOSE,
};
use crate::edge::organizations::sql::organizations::Named;
use crate::edge::organizations::{member, settings, shown, Member};
use crate::edge::sessions::bearer::{live_reader, principal, LiveCaller};
use crate::edge::social::flow::{oauth, refuse_unlisted};

/// `POST /organizations/{id}/invitations`: for roles with `members:invite`, never to a role above
/// the caller's own. A pending invitation of the same address is replaced (its link stops working).
pub async fn create(mut req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let config = &ctx.data.config;
    let body = read_body(&mut req).await?;
    // Strangers learn nothing of the organization's settings: membership first.
    let member = member(&req, &ctx, &Named::default()).await?;
    let settings = settings(config)?;
    let request = NewInvitation::parse(&body, &settings.roles)?;
    let page = link_page(&ctx, body.optional_string("redirect_to")?)?;
    may_assign(&member.role, None, &request.role)?;
    let assignable = member.assignable(&settings.roles);
    // Before anything is stored: an invitation that cannot be mailed must not exist.
    config.mail_transport().map_err(ApiError::Misconfigured)?;
    let token = LinkToken::generate();
    let id = random::identifier();
    let token_hash = token_hash(config, &token);
    let expires_at = member.now + settings.invitation_ttl;
    let teams = serde_json::to_string(&request.teams).unwrap_or_else(|_| "[]".to_owned());
    let invitee = Invitee {
        email: request.email.as_str(),
        role: &request.role.name,
        teams: &teams,
        page: page.as_deref(),
    };
    let sending = Sending {
        id: &id,
        token_hash: &token_hash,
        expires_at,
        mails_per_day: INVITATION_MAILS_PER_DAY,
        assignable: &assignable,
    };
    let asker = member.asker();
    match invitations::create(&member.db, &asker, &invitee, &sending, settings.max_members).await? {
        Invited::Made => {}
        Invited::AlreadyMember => return Err(ApiError::AlreadyMember),
        Invited::UnknownTeam => {
            return Err(Violation::new(
                "teams",
                "invalid",
                "teams must name teams of this organization",
            )
            .into())
        }
        Invited::MemberLimit => return Err(ApiError::MemberLimit),
        Invited::MailCap => {
            return Err(ApiError::TooManyAttempts {
                retry_after: 86_400,
            })
        }
        Invited::Moved => return Err(ApiError::NotAllowed),
    }
    mail_invitation(
        &ctx,
        &member,
        &request.email,
        &request.role.name,
        &token,
        page.as_deref(),
        settings.invitation_ttl,
    );
    let detail = Detail::new()
        .with("role", request.role.name.as_str())
        .with("invitation", id.as_str());
    let user_id = member.principal.user_id;
    member.record(&ctx, &req, user_id, EventKind::InvitationCreated, detail);
    let shown = invitation_json(&Invitation {
        id,
        email: request.email.as_str().to_owned(),
        role: request.role.name.clone(),
        teams,
        created_at: member.now,
        expires_at,
        invited_by: Some(user_id),
        page: None,
    });
    Ok(json(201, &shown))
}

/// `GET /organizations/{id}/invitations`: pending and expired ones, for roles that invite.
pub async fn list(req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let member = member(&req, &ctx, &Named::default()).await?;
    member.must("members:invite")?;
    let cap = settings(&ctx.data.config)?.max_members;
    let shown: Vec<Value> = invitations::list(&member.db, &member.asker(), cap)
        .await?
        .iter()
        .map(invitation_json)
        .collect();
    Ok(json(200, &json!({"invitations": shown})))
}

/// `DELETE /organizations/{id}/invitations/{invitation_id}`: for roles that could have made it.
pub async fn revoke(req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let (member, _) = invitation_of(&req, &ctx).await?;
    let id = ctx.param(1).unwrap_or_default();
    let assignable = member.assignable(&settings(&ctx.data.config)?.roles);
    let revoked = invitations::revoke(&member.db, &member.asker(), id, &assignable)
        .await?
        .ok_or(ApiError::NotAllowed)?;
    let detail = Detail::new()
        .with("role", revoked.role.as_str())
        .with("invitation", id);
    let user_id = member.principal.user_id;
    member.record(&ctx, &req, user_id, EventKind::InvitationRevoked, detail);
    Ok(json(200, &json!({"message": "Invitation revoked"})))
}

/// `POST /organizations/{id}/invitations/{invitation_id}/resend`: a new token and expiry, mailed
/// again within the address's daily mails.
pub async fn resend(req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let config = &ctx.data.config;
    let (member, role) = invitation_of(&req, &ctx).await?;
    let settings = settings(config)?;
    config.mail_transport().map_err(ApiError::Misconfigured)?;
    let id = ctx.param(1).unwrap_or_default();
    let token = LinkToken::generate();
    let token_hash = token_hash(config, &token);
    let assignable = member.assignable(&settings.roles);
    let sending = Sending {
        id,
        token_hash: &token_hash,
        expires_at: member.now + settings.invitation_ttl,
        mails_per_day: INVITATION_MAILS_PER_DAY,
        assignable: &assignable,
    };
    let Some(invitation) = invitations::resend(&member.db, &member.asker(), &sending).await? else {
        return Err(ApiError::TooManyAttempts {
            retry_after: 86_400,
        });
    };
    let to = Email::parse(&invitation.email)?;
    mail_invitation(
        &ctx,
        &member,
        &to,
        &role,
        &token,
        invitation.page.as_deref(),
        settings.invitation_ttl,
    );
    let detail = Detail::new()
        .with("role", role.as_str())
        .with("invitation", id)
        .with("reason", "resent");
    let user_id = member.principal.user_id;
    member.record(&ctx, &req, user_id, EventKind::InvitationCreated, detail);
    Ok(json(200, &invitation_json(&invitation)))
}

/// `GET /invitations`: the live invitations of the caller's address, once it is verified.
pub async fn mine(req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let LiveCaller {
        principal, db, now, ..
    } = live_reader(&req, &ctx).await?;
    let shown: Vec<Value> = invitations::for_me(&db, &principal.session_id, principal.user_id, now)
        .await?
        .into_iter()
        .map(|i| {
            json!({
                "id": i.id,
                "organization": {"id": i.org_id, "name": i.org_name, "slug": i.org_slug},
                "role": i.role,
                "expires_at": rfc3339(i.expires_at),
            })
        })
        .collect();
    Ok(json(200, &json!({"invitations": shown})))
}

/// `POST /invitations/accept {token}`: the membership, made once (two acceptances at once make
/// one: the one that made it spent the invitation).
pub async fn accept(mut req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let now = now();
    let principal = principal(&req, &ctx.data, now)?;
    let body = read_body(&mut req).await?;
    let presented = body.string("token")?;
    let config = &ctx.data.config;
    let settings = settings(config)?;
    let token = LinkToken::presented(presented).ok_or(ApiError::InvitationNotFound)?;
    let candidates = config
        .keys
        .candidates(|keys| token.keyed_hash_for(&keys.otp, PURPOSE));
    let db = ctx.data.database(&ctx.env)?;
    let (joined, found) = invitations::accept(
        &db,
        &principal.session_id,
        principal.user_id,
        now,
        &candidates,
        settings.max_members,
    )
    .await?;
    let found = found.ok_or(ApiError::Unauthorized)?;
    if found.live == 0 {
        return Err(ApiError::Unauthorized);
    }
    let (Some(org_id), Some(role)) = (found.org_id.as_deref(), found.role.as_deref()) else {
        return Err(ApiError::InvitationNotFound);
    };
    if !joined {
        return Err(if found.same_address != Some(1) {
            ApiError::WrongAccount
        } else if found.verified == 0 {
            ApiError::InvitedAddressNotVerified
        } else if found.member == 1 {
            ApiError::AlreadyMember
        } else {
            ApiError::MemberLimit
        });
    }
    let held = settings.roles.held(role);
    let detail = Detail::new()
        .with("role", role)
        .with("organization", org_id);
    let invitation = found.id.as_deref().unwrap_or_default();
    let accepted = detail.clone().with("invitation", invitation);
    let events = &ctx.data.events;
    let user_id = principal.user_id;
    events.by_user(&req, user_id, EventKind::InvitationAccepted, accepted, now);
    events.by_user(&req, user_id, EventKind::MemberAdded, detail, now);
    Ok(json(
        200,
        &shown(
            org_id,
            found.org_name.as_deref().unwrap_or_default(),
            found.org_slug.as_deref().unwrap_or_default(),
            found.org_created_at.unwrap_or_default(),
            &held,
        ),
    ))
}

/// The caller as a member who may act on the path's invitation (`{invitation_id}`): one that
/// invites, for an invitation of a role not above their own; and the invitation's role.
async fn invitation_of(req: &Request, ctx: &RouteContext) -> Result<(Member, String), ApiError> {
    let named = Named {
        invitation: ctx.param(1),
        ..Named::default()
    };
    let member = member(req, ctx, &named).await?;
    let roles = &settings(&ctx.data.config)?.roles;
    let role = member
        .scene
        .invitation_role
        .clone()
        .ok_or(ApiError::NotFound)?;
    may_assign(&member.role, None, &roles.held(&role))?;
    Ok((member, role))
}

/// The stored form of an invitation's token, under the current key.
fn token_hash(config: &Config, token: &LinkToken) -> String {
    config
        .keys
        .stamp(|keys| token.keyed_hash_for(&keys.otp, PURPOSE))
}

/// The app page an invitation links to, if given: on the redirect allow-list
/// (`OAUTH_REDIRECT_URLS`, `400 redirect_not_allowed` otherwise), as every mailed link's page.
fn link_page(ctx: &RouteContext, page: Option<&str>) -> Result<Option<String>, ApiError> {
    let Some(page) = page else {
        return Ok(None);
    };
    refuse_unlisted(oauth(&ctx.data)?, Some(page))?;
    Ok(Some(page.to_owned()))
}

fn mail_invitation(
    ctx: &RouteContext,
    member: &Member,
    to: &Email,
    role: &str,
    token: &LinkToken,
    page: Option<&str>,
    ttl_seconds: i64,
) {
    let link = page.map(|page| mail::link(page, token.expose()));
    let organization = member.scene.org_name.as_deref().unwrap_or_default();
    let message = mail::invitation(
        to,
        &mail::Invitation {
            organization,
            role,
            token: token.expose(),
            link: link.as_deref(),
            ttl_seconds,
        },
    );
    send_later(&ctx.data, &ctx.env, message);
}

fn invitation_json(invitation: &Invitation) -> Value {
    let teams: Value = serde_json::from_str(&invitation.teams).unwrap_or_else(|_| json!([]));
    json!({
        "id": invitation.id,
        "email": invitation.email,
        "role": invitation.role,
        "teams": teams,
        "created_at": rfc3339(invitation.created_at),
        "expires_at": rfc3339(invitation.expires_at),
        "invited_by": invitation.invited_by,
    })
}
