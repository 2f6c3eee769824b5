//! Webhooks through a Cloudflare Queue: a request puts one message per endpoint on the queue
//! `WEBHOOKS` (`publish`) and never waits for a receiver; the `queue` entry, in this worker too,
//! signs each attempt (`core/webhook.rs`) and posts it. A failed attempt is retried with the
//! backoff of `WEBHOOK_RETRY_BASE_SECONDS`; after the consumer's `max_retries` (wrangler.toml)
//! the queue moves the message to the dead-letter queue, whose consumer logs it as an error.
//! Delivery is at least once: a receiver de-duplicates by `webhook-id`.

use std::time::Duration;

use futures_util::future::{select, Either};
use serde_json::{json, Map, Value};
use worker::js_sys::{Array, Reflect};
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::worker_sys::{Context as ContextSys, Message as MessageSys, MessageBatch};
use worker::{
    AbortController, Delay, Env, Fetch, Headers, Message, MessageExt, Method,
    QueueRetryOptionsBuilder, RawMessage, Request, RequestInit, RequestRedirect,
};

use crate::core::config::Config;
use crate::core::events::webhook::{signature_header, Event};
use crate::core::events::webhook_config::{Endpoint, WebhookConfig};
use crate::core::events::webhook_delivery::{Delivery, Outcome};
use crate::core::random;
use crate::edge::bindings::{self, now};
use crate::edge::log::{self, Level};

/// The producer binding of wrangler.toml's `[[queues.producers]]`.
pub const QUEUE_BINDING: &str = "WEBHOOKS";
/// The queues of wrangler.toml's `[[queues.consumers]]`: deliveries, and where they end up after
/// their last retry.
const DELIVERY_QUEUE: &str = "edge-auth-webhooks";
const DEAD_LETTER_QUEUE: &str = "edge-auth-webhooks-dlq";
/// How long a receiver has to answer one attempt (the spec suggests 15 to 30 s).
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(15);

/// Queues `event` for every configured endpoint under the `webhook-id` `id` (the security
/// event's own id, so a re-queued event keeps it). The caller waits for the queue to take the
/// messages (the point from which delivery is guaranteed), never for a receiver. `Ok(false)`:
/// no endpoint is configured.
pub async fn publish(config: &Config, env: &Env, id: &str, event: &Event) -> Result<bool, String> {
    let endpoints = match &config.webhooks {
        Ok(webhooks) if webhooks.endpoints.is_empty() => return Ok(false),
        Ok(webhooks) => webhooks.endpoints.iter().map(|e| e.url.as_str()),
        Err(e) => return Err(e.to_string()),
    };
    let deliveries = Delivery::fan_out(id, event, endpoints);
    let queue = env.queue(QUEUE_BINDING).map_err(|e| e.to_string())?;
    queue
        .send_batch(deliveries)
        .await
        .map_err(|e| e.to_string())?;
    Ok(true)
}

/// The `queue` entry, for both queues. Written out rather than with `#[event(queue)]`, which
/// expands to the same export: workers-rs 0.8.7's `Message` does not expose the runtime's
/// `attempts`, and the backoff is a function of it.
#[worker::wasm_bindgen::prelude::wasm_bindgen(
    wasm_bindgen = ::worker::wasm_bindgen,
    wasm_bindgen_futures = ::worker::wasm_bindgen_futures,
    js_sys = ::worker::js_sys
)]
pub async fn queue(batch: MessageBatch, env: Env, _ctx: ContextSys) -> Result<JsValue, JsValue> {
    console_error_panic_hook::set_once();
    let name: String = batch.queue()?.into();
    let messages = batch.messages()?;
    let webhooks = bindings::config(&env)
        .map_err(|e| e.to_string())
        .and_then(|config| config.webhooks.clone().map_err(|e| e.to_string()));
    match (name.as_str(), webhooks) {
        (DELIVERY_QUEUE, Ok(webhooks)) => deliver_all(&webhooks, &messages).await,
        (DEAD_LETTER_QUEUE, _) => record_dead_letters(&messages),
        (DELIVERY_QUEUE, Err(e)) => {
            // Retried after retry_delay: delivered once the setting is fixed, or dead-lettered.
            log::event(Level::Error, format!("webhooks not delivered: {e}"));
            batch.retry_all(JsValue::NULL)?;
        }
        (other, _) => {
            log::event(
                Level::Error,
                format!("messages of unknown queue {other} kept"),
            );
            batch.retry_all(JsValue::NULL)?;
        }
    }
    Ok(JsValue::UNDEFINED)
}

/// One attempt per message, in turn (a batch holds at most `max_batch_size` of them).
async fn deliver_all(webhooks: &WebhookConfig, messages: &Array) {
    for value in messages.iter() {
        let attempt = attempts(&value);
        let Some(message) = typed(value) else {
            continue;
        };
        let delivery = message.body();
        let at = ("attempt", json!(attempt));
        let Some(endpoint) = webhooks.endpoint(&delivery.endpoint) else {
            let what = "webhook dropped: endpoint no longer configured";
            report(Level::Warn, what, delivery, [at]);
            message.ack();
            continue;
        };
        let cause = match attempt_delivery(endpoint, delivery).await {
            Ok(status) => match Outcome::of_status(status) {
                Outcome::Delivered => {
                    message.ack();
                    continue;
                }
                Outcome::Abandon => {
                    let what = "webhook refused with 410 Gone; not retried";
                    report(Level::Warn, what, delivery, [at]);
                    message.ack();
                    continue;
                }
                Outcome::Retry => format!("answered {status}"),
            },
            Err(cause) => cause,
        };
        let delay = webhooks
            .backoff
            .delay_seconds(attempt, random::bytes::<1>()[0]);
        let fields = [
            at,
            ("cause", json!(cause)),
            ("retry_in_seconds", json!(delay)),
        ];
        report(Level::Warn, "webhook attempt failed", delivery, fields);
        let options = QueueRetryOptionsBuilder::new()
            .with_delay_seconds(delay)
            .build();
        message.retry_with_options(&options);
    }
}

/// Messages past their last retry: one error line each, with what a replay needs (id, endpoint,
/// body). The log is their record; they are acknowledged so the dead-letter queue stays empty.
fn record_dead_letters(messages: &Array) {
    for value in messages.iter() {
        if let Some(message) = typed(value) {
            let body = ("body", json!(message.body().body));
            report(
                Level::Error,
                "webhook undeliverable",
                message.body(),
                [body],
            );
            message.ack();
        }
    }
}

/// The message with its body read as a `Delivery`; one that is not is acknowledged and logged,
/// as it never becomes deliverable.
fn typed(value: JsValue) -> Option<Message<Delivery>> {
    let raw: MessageSys = value.unchecked_into();
    match Message::<Delivery>::try_from(RawMessage::from(raw.clone())) {
        Ok(message) => Some(message),
        Err(e) => {
            let what = format!("malformed webhook message dropped: {e}");
            log::event(Level::Error, what);
            RawMessage::from(raw).ack();
            None
        }
    }
}

/// One signed POST, redirects not followed, given up after `ATTEMPT_TIMEOUT`: the answer's status.
async fn attempt_delivery(endpoint: &Endpoint, delivery: &Delivery) -> Result<u16, String> {
    let timestamp = now();
    let headers = Headers::new();
    let signature = signature_header(&endpoint.secrets, &delivery.id, timestamp, &delivery.body);
    for (name, value) in [
        ("Content-Type", "application/json"),
        ("webhook-id", &delivery.id),
        ("webhook-timestamp", &timestamp.to_string()),
        ("webhook-signature", &signature),
    ] {
        headers.set(name, value).map_err(|e| e.to_string())?;
    }
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_redirect(RequestRedirect::Manual)
        .with_body(Some(JsValue::from_str(&delivery.body)));
    let request = Request::new_with_init(&endpoint.url, &init).map_err(|e| e.to_string())?;
    let controller = AbortController::default();
    let signal = controller.signal();
    let sent = Box::pin(async move {
        let fetch = Fetch::Request(request);
        fetch.send_with_signal(&signal).await
    });
    match select(sent, Delay::from(ATTEMPT_TIMEOUT)).await {
        Either::Left((Ok(response), _)) => Ok(response.status_code()),
        Either::Left((Err(e), _)) => Err(e.to_string()),
        Either::Right(_) => {
            controller.abort();
            Err(format!("no answer within {} s", ATTEMPT_TIMEOUT.as_secs()))
        }
    }
}

/// The runtime's count of deliveries of this message, this one included (1 the first time).
fn attempts(message: &JsValue) -> u32 {
    Reflect::get(message, &JsValue::from_str("attempts"))
        .ok()
        .and_then(|n| n.as_f64())
        .map_or(1, |n| n as u32)
}

/// A log line about one delivery. The endpoint is logged without its query, which may hold a
/// receiver's token.
fn report<const N: usize>(
    level: Level,
    message: &str,
    delivery: &Delivery,
    extra: [(&str, Value); N],
) {
    let mut fields = Map::new();
    fields.insert("message".into(), json!(message));
    fields.insert("webhook_id".into(), json!(delivery.id));
    let endpoint = delivery.endpoint.split('?').next().unwrap_or_default();
    fields.insert("endpoint".into(), json!(endpoint));
    fields.extend(extra.map(|(name, value)| (name.to_owned(), value)));
    log::emit(level, fields);
}
