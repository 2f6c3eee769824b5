//! The hosted pages: sign-in (`GET /oauth2/sign-in`), consent and errors (rendered by the
//! authorize endpoint), and their stylesheet and script. Strict CSP, no inline code, no framing
//! (OWASP Content Security Policy and Clickjacking Defense cheat sheets).

use worker::{Headers, Request, Response};

use crate::core::provider::authorize;
use crate::core::provider::organization::FIELD;
use crate::core::provider::pages::{escape, fill, is_device_page, is_return_to};
use crate::core::provider::scopes::Scopes;
use crate::core::query;
use crate::edge::context::RouteContext;
use crate::edge::error::ApiError;
use crate::edge::provider::sql::clients;
use crate::edge::provider::{issuer, provider};
use crate::edge::social::flow::with_query;

const LAYOUT: &str = include_str!("pages/layout.html");
const SIGN_IN: &str = include_str!("pages/sign_in.html");
const CONSENT: &str = include_str!("pages/consent.html");
const ERROR: &str = include_str!("pages/error.html");
const DEVICE: &str = include_str!("pages/device.html");
const DEVICE_CONFIRM: &str = include_str!("pages/device_confirm.html");
const STYLES: &str = include_str!("pages/pages.css");
const SCRIPT: &str = include_str!("pages/sign-in.js");
const SCRIPT_TAG: &str = r#"<script src="/oauth2/assets/sign-in.js" defer></script>"#;

/// A whole page: the layout around `body`, with the CSP that lets its forms post to `form_to`
/// too (the consent form's answer redirects to the client, and `form-action` covers redirects).
fn page(status: u16, title: &str, body: &str, scripts: &str, form_to: Option<&str>) -> Response {
    let html = fill(
        LAYOUT,
        &[
            ("title", &escape(title)),
            ("body", body),
            ("scripts", scripts),
        ],
    );
    let form_action = match form_to {
        Some(origin) => format!("'self' {origin}"),
        None => "'self'".to_owned(),
    };
    let headers = Headers::new();
    let _ = headers.set("Content-Type", "text/html; charset=utf-8");
    let _ = headers.set(
        "Content-Security-Policy",
        &format!("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action {form_action}; frame-ancestors 'none'; base-uri 'none'"),
    );
    let _ = headers.set("X-Frame-Options", "DENY");
    // Not `no-referrer`: with it, a form posted from the page says `Origin: null`, and the
    // consent form is checked by its origin. `same-origin` still tells other sites nothing.
    let _ = headers.set("Referrer-Policy", "same-origin");
    Response::from_bytes(html.into_bytes())
        .expect("a byte body always builds a response")
        .with_status(status)
        .with_headers(headers)
}

/// An error page: what went wrong, with no redirect (an unknown client, a redirect URI that was
/// not registered, a form that expired).
pub fn error_page(status: u16, heading: &str, message: &str) -> Response {
    let body = fill(
        ERROR,
        &[("heading", &escape(heading)), ("message", &escape(message))],
    );
    page(status, heading, &body, "", None)
}

/// What the consent page shows: the app, the signed-in person, the request with its parameters
/// (carried by the form), the form's CSRF token, and the organizations to choose from.
pub struct ConsentPage<'a> {
    pub client_name: &'a str,
    pub user_email: &'a str,
    pub request: &'a authorize::Authorization,
    pub pairs: &'a [(String, String)],
    pub csrf: &'a str,
    /// The person's organizations to choose from, when the request asks for `organization`.
    pub organizations: Option<&'a [OrgChoice]>,
}

/// One of the person's organizations, as the consent page offers it.
pub struct OrgChoice {
    pub id: String,
    pub name: String,
    pub role: String,
}

/// The consent page: the app's name and where it sends the person back, the scopes in words,
/// the organization to choose, and a form carrying the request and its CSRF token.
pub fn consent_page(consent: &ConsentPage<'_>) -> Response {
    let request = consent.request;
    let host = query::origin(&request.redirect_uri).to_owned();
    let scopes = scope_items(&request.scope);
    let mut hidden: String = consent
        .pairs
        .iter()
        .filter(|(name, _)| !matches!(name.as_str(), "csrf" | "decision" | FIELD))
        .map(|(name, value)| {
            format!(
                r#"<input type="hidden" name="{}" value="{}">"#,
                escape(name),
                escape(value)
            )
        })
        .collect();
    hidden.push_str(&format!(
        r#"<input type="hidden" name="csrf" value="{}">"#,
        escape(consent.csrf)
    ));
    let organizations = consent
        .organizations
        .map_or_else(String::new, organization_choice);
    let body = fill(
        CONSENT,
        &[
            ("client_name", &escape(consent.client_name)),
            ("user_email", &escape(consent.user_email)),
            ("client_host", &escape(&host)),
            ("resource", &resource_line(request.resource.as_deref())),
            ("scopes", &scopes),
            ("hidden_fields", &hidden),
            ("organizations", &organizations),
        ],
    );
    page(
        200,
        &format!("Allow {}?", consent.client_name),
        &body,
        "",
        Some(&host),
    )
}

/// The organization to share: one of the person's, chosen (a required radio group), or a line
/// saying there is none to share.
fn organization_choice(organizations: &[OrgChoice]) -> String {
    if organizations.is_empty() {
        return r#"<p class="organizations">You are in no organization, so none will be shared.</p>"#
            .to_owned();
    }
    let options: String = organizations
        .iter()
        .map(|org| {
            format!(
                r#"<label><input type="radio" name="{FIELD}" value="{}" required><span>{} <span class="role">({})</span></span></label>"#,
                escape(&org.id),
                escape(&org.name),
                escape(&org.role)
            )
        })
        .collect();
    format!(
        r#"<fieldset class="organizations"><legend>Which organization will it see?</legend>{options}</fieldset>"#
    )
}

/// The resource server the access will be for (RFC 8707), when the request names one.
fn resource_line(resource: Option<&str>) -> String {
    resource.map_or_else(String::new, |r| {
        format!(
            r#"<p>The access is for <strong>{}</strong>.</p>"#,
            escape(r)
        )
    })
}

/// The scopes in words, as list items.
fn scope_items(scope: &Scopes) -> String {
    scope
        .iter()
        .map(|scope| format!("<li>{}</li>", escape(Scopes::describe(scope))))
        .collect()
}

/// A page that tells the person where things stand after a device's answer (no redirect).
pub fn notice_page(heading: &str, message: &str) -> Response {
    let body = fill(
        ERROR,
        &[("heading", &escape(heading)), ("message", &escape(message))],
    );
    page(200, heading, &body, "", None)
}

/// The device page: the code a device shows, typed in; `problem` says what was wrong with the
/// last one.
pub fn device_page(status: u16, user_email: &str, typed: &str, problem: Option<&str>) -> Response {
    let problem = problem.map_or_else(String::new, |p| {
        format!(r#"<p class="notice" role="alert">{}</p>"#, escape(p))
    });
    let body = fill(
        DEVICE,
        &[
            ("user_email", &escape(user_email)),
            ("typed", &escape(typed)),
            ("problem", &problem),
        ],
    );
    page(status, "Connect a device", &body, "", None)
}

/// The device's consent page: the app, the code to compare with the device's, the scopes, and a
/// form carrying the code and the form's CSRF token.
pub fn device_confirm_page(
    client_name: &str,
    user_email: &str,
    user_code: &str,
    scope: &Scopes,
    resource: Option<&str>,
    csrf: &str,
) -> Response {
    let hidden = format!(
        r#"<input type="hidden" name="user_code" value="{}"><input type="hidden" name="csrf" value="{}">"#,
        escape(user_code),
        escape(csrf)
    );
    let body = fill(
        DEVICE_CONFIRM,
        &[
            ("client_name", &escape(client_name)),
            ("user_email", &escape(user_email)),
            ("user_code", &escape(user_code)),
            ("resource", &resource_line(resource)),
            ("scopes", &scope_items(scope)),
            ("hidden_fields", &hidden),
        ],
    );
    page(200, &format!("Allow {client_name}?"), &body, "", None)
}

/// `GET /oauth2/sign-in?return_to=/oauth2/authorize?…`: the sign-in page, with every way in the
/// deployment has on. It goes back to the authorize request it came from, and nowhere else.
pub async fn sign_in(req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    let provider = provider(&ctx)?;
    let pairs = query::pairs(&req.inner().url());
    let Some(return_to) = query::value(&pairs, "return_to").filter(|to| is_return_to(to)) else {
        return Ok(error_page(
            400,
            "This sign-in link is not complete",
            "Go back to the app and start signing in again.",
        ));
    };
    let request_pairs = query::pairs(&return_to);
    let client_name = match authorize::target(&request_pairs) {
        // The device page: the app is named once the person has typed its code.
        _ if is_device_page(&return_to) => Some("connect your device".to_owned()),
        Ok((client_id, _)) => {
            let db = ctx.data.database(&ctx.env)?;
            clients::get(&db, &client_id).await?.map(|c| c.shown_name())
        }
        Err(_) => None,
    };
    let Some(client_name) = client_name else {
        return Ok(error_page(
            400,
            "Unknown app",
            "The app that sent you here is not registered with this service.",
        ));
    };
    let config = &ctx.data.config;
    let iss = issuer(&req, provider);
    // Social sign-in comes back to this very page, with its request (`is_hosted_sign_in`).
    let social_return = with_query(
        &format!("{iss}/oauth2/sign-in"),
        &[("return_to", &return_to)],
    );
    let providers = match &config.oauth {
        Ok(oauth) => oauth
            .providers
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>()
            .join(","),
        _ => String::new(),
    };
    let passkeys = matches!(config.passkeys, Ok(Some(_)));
    let email_code = config.email_sign_in && config.mail_transport().is_ok();
    let login_hint = query::value(&request_pairs, "login_hint").unwrap_or_default();
    let body = fill(
        SIGN_IN,
        &[
            ("return_to", &escape(&return_to)),
            ("passkeys", if passkeys { "true" } else { "false" }),
            ("email_code", if email_code { "true" } else { "false" }),
            ("providers", &escape(&providers)),
            ("social_return", &escape(&social_return)),
            ("client_name", &escape(&client_name)),
            ("login_hint", &escape(&login_hint)),
            ("service_name", &escape(&config.totp_issuer)),
        ],
    );
    Ok(page(
        200,
        &format!("Sign in to {client_name}"),
        &body,
        SCRIPT_TAG,
        None,
    ))
}

/// Whether `to` is this provider's sign-in page for an authorization request: where social sign-in
/// may send the browser back, beside `OAUTH_REDIRECT_URLS`. Only that exact shape (one
/// `return_to`, itself an authorize request of this origin), so it is no open redirect.
pub fn is_hosted_sign_in(req: &Request, ctx: &RouteContext, to: &str) -> bool {
    let Ok(provider) = provider(ctx) else {
        return false;
    };
    let page = format!("{}/oauth2/sign-in?", issuer(req, provider));
    let Some(query) = to.strip_prefix(&page) else {
        return false;
    };
    let pairs = query::pairs(&format!("?{query}"));
    !to.contains('#') && pairs.len() == 1 && pairs[0].0 == "return_to" && is_return_to(&pairs[0].1)
}

/// `GET /oauth2/assets/{id}`: the pages' stylesheet and script.
pub async fn asset(_req: Request, ctx: RouteContext) -> Result<Response, ApiError> {
    provider(&ctx)?;
    let (content_type, text) = match ctx.id() {
        Some("pages.css") => ("text/css; charset=utf-8", STYLES),
        Some("sign-in.js") => ("text/javascript; charset=utf-8", SCRIPT),
        _ => return Err(ApiError::NotFound),
    };
    let response = crate::edge::http::body(200, content_type, text.as_bytes().to_vec());
    let _ = response
        .headers()
        .set("Cache-Control", "public, max-age=3600");
    Ok(response)
}
