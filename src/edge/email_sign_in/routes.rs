//! `POST /email-sign-in` mails a sign-in code (and, when the app asks, a link);
//! `POST /email-sign-in/code` and `POST /email-sign-in/link` spend one and end like every other
//! way in, in `start_session`: the disabled check, the second-factor step, the session, the
//! login answer and the event.

use serde_json::json;
use worker::{Request, Response};

use crate::core::accounts::email::Email;
use crate::core::body::Body;
use crate::core::codes::otp::OtpCode;
use crate::core::config::Config;
use crate::core::email_sign_in::link::{LinkToken, PURPOSE};
use crate::core::email_sign_in::mail::{self as sign_in_mail, Purpose as MailPurpose};
use crate::core::email_sign_in::requests::{CodeSignIn, LinkSignIn, SignInStart};
use crate::core::events::security_event::{Detail, EventKind};
use crate::core::mail::Message;
use crate::core::random;
use crate::core::sessions::amr::Method;
use crate::core::social::oauth_config::OAuthConfig;
use crate::core::social::pkce;
use crate::edge::accounts::sql::users;
use crate::edge::bindings::now;
use crate::edge::codes::sql::sign_in::{self, Issued, NewLink, NewSignIn, Presented, Tried, Try};
use crate::edge::codes::verification::tell_what_first_proof_removed;
use crate::edge::context::RouteContext;
use crate::edge::db::{first, NO_CANDIDATES};
use crate::edge::error::ApiError;
use crate::edge::http::{client_address, json, read_body};
use crate::edge::mailer::send_later;
use crate::edge::sessions::start::{start_session, Start};
use crate::edge::social::flow::{oauth, refuse_unlisted};

/// Mails a code, within the cooldown and the caps of the address and of the client. Every
/// address, known or not, gets the same answer after the same batch; the mail leaves after the
/// response and says what applies (a code to sign in or to create the account, or that no
/// account exists).
pub async fn start(mut req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let config = turned_on(&ctx)?;
    // Before anything is stored: a code that cannot be mailed must not exist.
    config.mail_transport().map_err(ApiError::Misconfigured)?;
    let body = read_body(&mut req).await?;
    let allow_list = link_pages(&ctx, &body)?;
    let request = SignInStart::parse(&body, |to| {
        allow_list.is_some_and(|list| list.allows_redirect(to))
    })?;
    let address = request.email.as_str();
    let code = OtpCode::generate();
    let code_hash = config
        .keys
        .stamp(|keys| code.purpose_hash(&keys.otp, PURPOSE, address));
    let token = LinkToken::generate();
    let link_hash = config.keys.stamp(|keys| token.keyed_hash(&keys.otp));
    let link = request.link.as_ref().map(|start| NewLink {
        link_hash: &link_hash,
        code_challenge: &start.code_challenge,
        redirect_to: &start.redirect_to,
    });
    let client = client_address(&req);
    let new = NewSignIn {
        address,
        code_hash: &code_hash,
        link,
        client: client.as_str(),
    };
    let db = ctx.data.database(&ctx.env)?;
    let issued = sign_in::issue(&db, &new, now(), &config.otp_policy()).await?;
    let url = request
        .link
        .as_ref()
        .map(|start| token.url(&start.redirect_to));
    if let Some(message) = mail_for(config, issued, &request.email, &code, url.as_deref()) {
        send_later(&ctx.data, &ctx.env, message);
    }
    Ok(json(200, &json!({"message": "Check your email"})))
}

/// When the start asks for a link, the allow-list its page must be on (`400 redirect_not_allowed`
/// for another page; `500` when the list's setting is broken).
fn link_pages<'a>(ctx: &'a RouteContext, body: &Body) -> Result<Option<&'a OAuthConfig>, ApiError> {
    let Ok(Some(link)) = body.object("link") else {
        return Ok(None);
    };
    let allow_list = oauth(&ctx.data)?;
    refuse_unlisted(
        allow_list,
        link.optional_string("redirect_to").ok().flatten(),
    )?;
    Ok(Some(allow_list))
}

/// The mail a stored code causes: the code (and link) to sign in, or to create the account while
/// sign-up is on, or the notice that no account uses the address; none when a cap held it.
fn mail_for(
    config: &Config,
    issued: Issued,
    to: &Email,
    code: &OtpCode,
    link: Option<&str>,
) -> Option<Message> {
    let ttl = config.otp_ttl;
    match issued {
        Issued::Held => None,
        Issued::Stored { known: true } => Some(sign_in_mail::code(
            to,
            MailPurpose::SignIn,
            code.expose(),
            link,
            ttl,
        )),
        Issued::Stored { known: false } if config.email_sign_up => Some(sign_in_mail::code(
            to,
            MailPurpose::SignUp,
            code.expose(),
            link,
            ttl,
        )),
        Issued::Stored { known: false } => Some(sign_in_mail::no_account(to)),
    }
}

/// The configuration, while email sign-in is on; its routes do not exist otherwise (`404`).
fn turned_on(ctx: &RouteContext) -> Result<&Config, ApiError> {
    let config = &ctx.data.config;
    if !config.email_sign_in {
        return Err(ApiError::NotFound);
    }
    Ok(config)
}

/// Signs in with the mailed code, from any device.
pub async fn with_code(mut req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let config = turned_on(&ctx)?;
    let request = CodeSignIn::try_from(&read_body(&mut req).await?)?;
    let address = request.email.as_str();
    // A code that is not six digits matches nothing and counts as a wrong try.
    let hashes = request.code.as_ref().map_or_else(
        || NO_CANDIDATES.to_owned(),
        |code| {
            config
                .keys
                .candidates(|keys| code.purpose_hash(&keys.otp, PURPOSE, address))
        },
    );
    let attempt = Presented::Code { address };
    finish(
        &req,
        &ctx,
        attempt,
        &hashes,
        Method::Emailed { link: false },
    )
    .await
}

/// Signs in with the mailed link's token and the verifier of the app that asked for it: only in
/// the browser that started the sign-in.
pub async fn with_link(mut req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let config = turned_on(&ctx)?;
    let request = LinkSignIn::try_from(&read_body(&mut req).await?)?;
    let hashes = request.token.as_ref().map_or_else(
        || NO_CANDIDATES.to_owned(),
        |token| config.keys.candidates(|keys| token.keyed_hash(&keys.otp)),
    );
    let challenge = pkce::challenge(&request.code_verifier);
    let attempt = Presented::Link {
        code_challenge: &challenge,
    };
    finish(&req, &ctx, attempt, &hashes, Method::Emailed { link: true }).await
}

/// Spends the code or link and, if this request used it, starts the session.
async fn finish(
    req: &Request,
    ctx: &RouteContext,
    presented: Presented<'_>,
    hashes: &str,
    method: Method,
) -> Result<Response, ApiError> {
    let config = &ctx.data.config;
    let client = client_address(req);
    let marker = random::identifier();
    let attempt = Try {
        presented,
        hashes,
        marker: &marker,
        client: client.as_str(),
        sign_up: config.email_sign_up,
    };
    let db = ctx.data.database(&ctx.env)?;
    let now = now();
    let (address, created, verified, removed) =
        match sign_in::try_sign_in(&db, &attempt, now, &config.otp_policy()).await? {
            Tried::Used {
                address,
                created,
                verified,
                removed,
            } => (address, created, verified, removed),
            Tried::LockedOut { until } => {
                return Err(ApiError::TooManyAttempts {
                    retry_after: (until - now).max(1),
                })
            }
            Tried::Refused => return Err(ApiError::InvalidCode),
        };
    let email = Email::parse(&address)
        .map_err(|_| ApiError::internal("read sign-in address", "not an address"))?;
    tell_what_first_proof_removed(ctx, &email, &removed);
    let account: users::Credentials = first(
        &db,
        users::find_credentials(&db, &email)?,
        "read signed-in account",
    )
    .await?
    .ok_or(ApiError::InvalidCode)?;
    ctx.data.log.set_user(account.id);
    let events = &ctx.data.events;
    if created {
        let detail = Detail::new().with("method", method.event_name());
        events.by_user(req, account.id, EventKind::AccountCreated, detail, now);
    }
    if verified {
        events.by_user(
            req,
            account.id,
            EventKind::EmailVerified,
            Detail::new(),
            now,
        );
    }
    let start = Start {
        session_id: random::identifier(),
        client,
        extra: Vec::new(),
        method,
    };
    start_session(req, &ctx.data, &db, &account, start, now).await
}
