//! `GET|POST /oauth2/authorize` and `POST /oauth2/consent`: the authorization request, checked
//! against its client, answered with the sign-in page, the consent page, a code, or an error
//! sent back to the client (with `state` and `iss`, RFC 9207).

use worker::{Method, Request, Response};

use crate::core::events::security_event::{Detail, EventKind};
use crate::core::provider::authorize::{
    self, after_sign_in, decide, Authorization, Decision, Refusal, SignedIn,
};
use crate::core::provider::clients::redirect_matches;
use crate::core::provider::config::CODE_TTL_SECONDS;
use crate::core::provider::scopes::Scopes;
use crate::core::query;
use crate::core::random;
use crate::core::secret::constant_time_eq;
use crate::core::sessions::refresh_token::digest_of;
use crate::edge::bindings::now;
use crate::edge::context::RouteContext;
use crate::edge::db::{batch, leading, took_effect, Db};
use crate::edge::error::ApiError;
use crate::edge::http::read_form;
use crate::edge::provider::browser::{form_mac, same_origin, signed_in};
use crate::edge::provider::pages::{consent_page, error_page, ConsentPage};
use crate::edge::provider::sql::clients::Client;
use crate::edge::provider::sql::grants::Browser;
use crate::edge::provider::sql::{clients, codes, consents};
use crate::edge::provider::{issuer, metadata_document, organization, provider};
use crate::edge::social::flow::{redirect, with_query};

/// A checked request and what it was checked against.
struct Checked {
    client: Client,
    request: Authorization,
    pairs: Vec<(String, String)>,
    issuer: String,
    db: Db,
}

/// Reads the request's parameters (the query, or the form of a POST, OpenID Connect Core
/// §3.1.2.1) and checks them against the client. `Err` is the answer already: an error page
/// when the client or redirect URI is unknown, else a redirect with the error.
async fn checked(
    req: &mut Request,
    ctx: &RouteContext,
) -> Result<Result<Checked, Response>, ApiError> {
    let provider = provider(ctx)?;
    let issuer = issuer(req, provider);
    let pairs = if req.method() == Method::Post {
        read_form(req).await?
    } else {
        query::pairs(&req.inner().url())
    };
    let (client_id, redirect_uri) = match authorize::target(&pairs) {
        Ok(target) => target,
        Err(Refusal::Page(message)) => {
            return Ok(Err(error_page(
                400,
                "This sign-in request is not valid",
                message,
            )))
        }
        Err(Refusal::Redirect { .. }) => unreachable!("target refuses with pages only"),
    };
    let db = ctx.data.database(&ctx.env)?;
    let Some(client) = metadata_document::client(req, ctx, &db, &client_id, now()).await? else {
        return Ok(Err(error_page(
            400,
            "Unknown app",
            "The app that sent you here is not registered with this service.",
        )));
    };
    // Exact string match (RFC 9700 §4.1.3): no prefixes, no patterns.
    if !client
        .redirect_uris()
        .iter()
        .any(|registered| redirect_matches(registered, &redirect_uri))
    {
        return Ok(Err(error_page(
            400,
            "This sign-in request is not valid",
            "The app asked to send you back to an address it did not register.",
        )));
    }
    let allowed = Scopes::parse(&client.scopes).unwrap_or_default();
    match authorize::parse(
        &pairs,
        client_id,
        redirect_uri.clone(),
        &allowed,
        &provider.resources,
    ) {
        Ok(request) => Ok(Ok(Checked {
            client,
            request,
            pairs,
            issuer,
            db,
        })),
        Err(Refusal::Redirect { error, description }) => {
            let state = authorize::state(&pairs);
            Ok(Err(back_to_client(
                &redirect_uri,
                &[("error", error), ("error_description", &description)],
                state.as_deref(),
                &issuer,
                req.method(),
            )))
        }
        Err(Refusal::Page(message)) => Ok(Err(error_page(
            400,
            "This sign-in request is not valid",
            message,
        ))),
    }
}

/// Back to the client's redirect URI with `answer` (a code, or an error, RFC 6749 §4.1.2,
/// §4.1.2.1), the request's `state`, and `iss` (RFC 9207).
fn back_to_client(
    redirect_uri: &str,
    answer: &[(&str, &str)],
    state: Option<&str>,
    issuer: &str,
    method: Method,
) -> Response {
    let mut pairs = answer.to_vec();
    if let Some(state) = state {
        pairs.push(("state", state));
    }
    pairs.push(("iss", issuer));
    see_other(&with_query(redirect_uri, &pairs), method)
}

/// To the sign-in page, which comes back to this request once the person signed in.
fn to_sign_in(pairs: &[(String, String)], now: i64, method: Method) -> Response {
    let back = after_sign_in(pairs, now);
    see_other(
        &with_query("/oauth2/sign-in", &[("return_to", &back)]),
        method,
    )
}

/// The scopes `browser`'s person allowed the client before, if any.
async fn remembered(checked: &Checked, browser: &Browser) -> Result<Option<Scopes>, ApiError> {
    let client = &checked.client;
    let before = consents::remembered(
        &checked.db,
        browser.user_id,
        &client.id,
        checked.request.resource.as_deref(),
    )
    .await?;
    // A client the operator never vetted is asked about every time: its id is public and its
    // loopback redirect takes any port, so any local program could reuse a consent (RFC 8252
    // §8.6; MCP authorization 2025-11-25, "Localhost Redirect URI Risks").
    Ok(before.filter(|_| client.origin == "admin"))
}

/// A redirect: `303` after a POST, so the browser follows with a GET (RFC 9110 §15.4.4).
fn see_other(location: &str, method: Method) -> Response {
    let response = redirect(location);
    if method == Method::Post {
        response.with_status(303)
    } else {
        response
    }
}

/// The consent form's CSRF token: bound to the browser session and to what is being allowed
/// (OWASP CSRF Prevention Cheat Sheet, "Synchronizer token" with an HMAC).
fn form_token(ctx: &RouteContext, browser: &Browser, request: &Authorization) -> String {
    let message = [
        browser.id.as_str(),
        &request.client_id,
        &request.redirect_uri,
        &request.scope.to_string(),
        &request.code_challenge,
        request.resource.as_deref().unwrap_or_default(),
    ]
    .join("\n");
    form_mac(ctx, &message)
}

/// `GET|POST /oauth2/authorize`.
pub async fn authorize(mut req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let checked = match checked(&mut req, &ctx).await? {
        Ok(checked) => checked,
        Err(answer) => return Ok(answer),
    };
    let now = now();
    let method = req.method();
    let browser = signed_in(&req, &checked.db, now).await?;
    let consented = match &browser {
        Some(person) => remembered(&checked, person).await?,
        None => None,
    };
    let person = browser.as_ref().map(|b| SignedIn {
        user_id: b.user_id,
        auth_time: b.auth_time,
    });
    let request = &checked.request;
    match decide(
        request,
        person.as_ref(),
        consented.as_ref(),
        checked.client.skip_consent != 0,
        now,
    ) {
        Decision::SignIn => Ok(to_sign_in(&checked.pairs, now, method)),
        Decision::Refuse(error) => Ok(back_to_client(
            &request.redirect_uri,
            &[
                ("error", error),
                (
                    "error_description",
                    "The user must sign in or consent first",
                ),
            ],
            request.state.as_deref(),
            &checked.issuer,
            method,
        )),
        Decision::Consent => {
            let browser = browser.expect("consent is asked of a signed-in person");
            let csrf = form_token(&ctx, &browser, request);
            let organizations = organization::choices(&checked.db, request, &browser, now).await?;
            Ok(consent_page(&ConsentPage {
                client_name: &checked.client.shown_name(),
                user_email: &browser.email,
                request,
                pairs: &checked.pairs,
                csrf: &csrf,
                organizations: organizations.as_deref(),
            }))
        }
        Decision::Issue => {
            // Never for `organization`, which is chosen on the consent page (`decide`).
            let browser = browser.expect("codes are issued to a signed-in person");
            let approval = Approval {
                consented: consented.as_ref(),
                org_id: None,
            };
            Ok(issue(&ctx, &checked, &browser, &approval, now, method)
                .await?
                .0)
        }
    }
}

/// `POST /oauth2/consent`: the person's answer on the consent page.
pub async fn consent(mut req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    if !same_origin(&req) {
        return Ok(error_page(
            403,
            "This form did not come from this site",
            "Go back to the app and start signing in again.",
        ));
    }
    let checked = match checked(&mut req, &ctx).await? {
        Ok(checked) => checked,
        Err(answer) => return Ok(answer),
    };
    let now = now();
    let request = &checked.request;
    let Some(browser) = signed_in(&req, &checked.db, now).await? else {
        return Ok(to_sign_in(&checked.pairs, now, Method::Post));
    };
    let expected = form_token(&ctx, &browser, request);
    let sent = query::value(&checked.pairs, "csrf").unwrap_or_default();
    if !constant_time_eq(sent.as_bytes(), expected.as_bytes()) {
        return Ok(error_page(
            400,
            "This page expired",
            "Go back to the app and start signing in again.",
        ));
    }
    match query::value(&checked.pairs, "decision").as_deref() {
        Some("allow") => {
            let chosen = organization::chosen(&checked.db, request, &checked.pairs, &browser, now);
            let org_id = match chosen.await? {
                Ok(org_id) => org_id,
                Err(answer) => return Ok(answer),
            };
            let consented = remembered(&checked, &browser).await?;
            let approval = Approval {
                consented: consented.as_ref(),
                org_id: org_id.as_deref(),
            };
            let (answer, issued) =
                issue(&ctx, &checked, &browser, &approval, now, Method::Post).await?;
            if !issued {
                return Ok(answer);
            }
            let detail = Detail::new()
                .with("client", checked.client.id.as_str())
                .with("scope", request.scope.to_string());
            ctx.data
                .events
                .by_user(&req, browser.user_id, EventKind::AppAuthorized, detail, now);
            Ok(answer)
        }
        _ => Ok(back_to_client(
            &request.redirect_uri,
            &[
                ("error", "access_denied"),
                ("error_description", "The user did not allow access"),
            ],
            request.state.as_deref(),
            &checked.issuer,
            Method::Post,
        )),
    }
}

/// What the person approved: the scopes allowed before, if any, and the organization chosen.
struct Approval<'a> {
    consented: Option<&'a Scopes>,
    org_id: Option<&'a str>,
}

/// A code for the request, with the consent remembered (the scopes now allowed, with those
/// allowed before), in one batch; back to the client with `code`, `state` and `iss`. The flag
/// says whether it was issued (not if the browser session ended meanwhile, or the person left the
/// organization chosen: sign in again).
async fn issue(
    ctx: &RouteContext,
    checked: &Checked,
    browser: &Browser,
    approval: &Approval<'_>,
    now: i64,
    method: Method,
) -> Result<(Response, bool), ApiError> {
    let request = &checked.request;
    let code = random::secret_256();
    let scope = request.scope.to_string();
    let digest = digest_of(&code);
    let new_code = codes::NewCode {
        digest: &digest,
        client_id: &checked.client.id,
        browser_session: &browser.id,
        redirect_uri: &request.redirect_uri,
        scope: &scope,
        nonce: request.nonce.as_deref(),
        code_challenge: &request.code_challenge,
        expires_at: now + CODE_TTL_SECONDS,
        resource: request.resource.as_deref(),
        org_id: approval.org_id,
    };
    let remembered = approval.consented.map_or_else(
        || request.scope.clone(),
        |before| before.union(&request.scope),
    );
    let statements = vec![
        codes::issue(&checked.db, &new_code, now)?,
        consents::record(
            &checked.db,
            browser.user_id,
            &checked.client.id,
            &remembered.to_string(),
            request.resource.as_deref(),
            &digest,
            now,
        )?,
        clients::used(&checked.db, &checked.client.id, now)?,
    ];
    let results = batch(&checked.db, statements, "issue code").await?;
    let [issued] = leading(&results, "issue code")?;
    if !took_effect(issued, "read issued code")? {
        // The browser session ended in between: sign in again.
        return Ok((to_sign_in(&checked.pairs, now, method), false));
    }
    ctx.data.log.set_user(browser.user_id);
    let answer = back_to_client(
        &request.redirect_uri,
        &[("code", &code)],
        request.state.as_deref(),
        &checked.issuer,
        method,
    );
    Ok((answer, true))
}
