//! Mail transports behind one function, chosen by `EMAIL_PROVIDER`. Mail goes out after the
//! response (`wait_until`), so its latency and failures never show in what the client sees.

use serde_json::json;
use wasm_bindgen::JsValue;
use worker::{console_log, Env, Fetch, Headers, Method, Request, RequestInit, SendEmailBuilder};

use crate::core::config::{Config, EmailProvider};
use crate::core::mail::Message;
use crate::edge::log::Level;
use crate::edge::state::State;

/// Sends `message` once the response is on its way; a failure is logged (with the request's id),
/// never raised.
pub fn send_later(state: &State, env: &Env, message: Message) {
    let env = env.clone();
    let config = state.config.clone();
    let log = state.log.clone();
    state.ctx.wait_until(async move {
        let sent = match config.mail_transport() {
            Ok(provider) => send(&env, &config, provider, &message)
                .await
                .map_err(|cause| format!("{}: {cause}", provider_name(provider))),
            Err(e) => Err(e.to_string()),
        };
        if let Err(cause) = sent {
            // A transport's error may quote the recipient; the log never holds an address
            // (OWASP Logging Cheat Sheet: no personal data).
            let cause = cause.replace(message.to.as_str(), "[recipient]");
            log.event(Level::Error, format!("mail not sent ({cause})"));
        }
    });
}

fn provider_name(provider: &EmailProvider) -> &'static str {
    match provider {
        EmailProvider::Console => "console",
        EmailProvider::Resend { .. } => "resend",
        EmailProvider::Cloudflare => "cloudflare",
    }
}

async fn send(
    env: &Env,
    config: &Config,
    provider: &EmailProvider,
    message: &Message,
) -> Result<(), String> {
    match provider {
        EmailProvider::Console => {
            // The local-development transport: the whole message, code included, in the log.
            console_log!(
                "[mail] to: {}\n[mail] subject: {}\n{}",
                message.to,
                message.subject,
                message.text
            );
            Ok(())
        }
        EmailProvider::Resend { api_base, api_key } => {
            let body = json!({
                "from": config.email_from,
                "to": [message.to],
                "subject": message.subject,
                "text": message.text,
                "html": message.html,
            });
            let headers = Headers::new();
            headers
                .set("Authorization", &format!("Bearer {}", api_key.expose()))
                .and_then(|()| headers.set("Content-Type", "application/json"))
                .map_err(|e| e.to_string())?;
            let mut init = RequestInit::new();
            init.with_method(Method::Post)
                .with_headers(headers)
                .with_body(Some(JsValue::from_str(&body.to_string())));
            let request = Request::new_with_init(&format!("{api_base}/emails"), &init)
                .map_err(|e| e.to_string())?;
            let response = Fetch::Request(request)
                .send()
                .await
                .map_err(|e| e.to_string())?;
            match response.status_code() {
                200..=299 => Ok(()),
                status => Err(format!("Resend answered {status}")),
            }
        }
        EmailProvider::Cloudflare => {
            let binding = env.send_email("EMAIL").map_err(|e| e.to_string())?;
            let email =
                SendEmailBuilder::builder(&config.email_from, &message.to, &message.subject)
                    .text(&message.text)
                    .html(&message.html)
                    .build();
            binding
                .send_with_builder(&email)
                .await
                .map(|_| ())
                .map_err(|e| format!("{e:?}"))
        }
    }
}
