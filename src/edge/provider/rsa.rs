//! RS256 signatures of ID tokens through workerd's WebCrypto (RSASSA-PKCS1-v1_5, SHA-256): the
//! runtime's native RSA, not big-number arithmetic in wasm (and not the `rsa` crate's private-key
//! path, RUSTSEC-2023-0071); nothing added to the upload. The key is imported once per isolate.

use std::cell::RefCell;

use worker::js_sys::{Array, Function, Object, Promise, Reflect, Uint8Array, JSON};
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::wasm_bindgen_futures::JsFuture;

use crate::core::provider::config::RsaKey;
use crate::edge::error::ApiError;

const ALGORITHM: &str = "RSASSA-PKCS1-v1_5";

thread_local! {
    /// The imported signing key and its kid (a new configuration means a new isolate).
    static KEY: RefCell<Option<(String, JsValue)>> = const { RefCell::new(None) };
}

fn failed(context: &'static str) -> impl Fn(JsValue) -> ApiError {
    move |e| ApiError::internal(context, format!("{e:?}"))
}

fn subtle() -> Result<JsValue, ApiError> {
    let crypto =
        Reflect::get(&worker::js_sys::global(), &"crypto".into()).map_err(failed("WebCrypto"))?;
    Reflect::get(&crypto, &"subtle".into()).map_err(failed("WebCrypto"))
}

fn method(subtle: &JsValue, name: &str) -> Result<Function, ApiError> {
    Reflect::get(subtle, &name.into())
        .map_err(failed("WebCrypto"))?
        .dyn_into::<Function>()
        .map_err(failed("WebCrypto"))
}

async fn key(rsa: &RsaKey, subtle: &JsValue) -> Result<JsValue, ApiError> {
    let cached = KEY.with(|k| {
        k.borrow()
            .as_ref()
            .filter(|(kid, _)| *kid == rsa.kid)
            .map(|(_, key)| key.clone())
    });
    if let Some(key) = cached {
        return Ok(key);
    }
    let jwk = JSON::parse(&rsa.private_jwk).map_err(failed("read ID_TOKEN_RSA_KEY"))?;
    let algorithm = Object::new();
    Reflect::set(&algorithm, &"name".into(), &ALGORITHM.into()).map_err(failed("WebCrypto"))?;
    Reflect::set(&algorithm, &"hash".into(), &"SHA-256".into()).map_err(failed("WebCrypto"))?;
    let arguments = Array::of5(
        &"jwk".into(),
        &jwk,
        &algorithm,
        &JsValue::FALSE,
        &Array::of1(&"sign".into()),
    );
    let promise: Promise = method(subtle, "importKey")?
        .apply(subtle, &arguments)
        .map_err(failed("import ID_TOKEN_RSA_KEY"))?
        .dyn_into()
        .map_err(failed("import ID_TOKEN_RSA_KEY"))?;
    let key = JsFuture::from(promise)
        .await
        .map_err(failed("import ID_TOKEN_RSA_KEY"))?;
    KEY.with(|k| *k.borrow_mut() = Some((rsa.kid.clone(), key.clone())));
    Ok(key)
}

/// The RS256 signature of `input` with the configured key.
pub async fn sign(rsa: &RsaKey, input: &[u8]) -> Result<Vec<u8>, ApiError> {
    let subtle = subtle()?;
    let key = key(rsa, &subtle).await?;
    let promise: Promise = method(&subtle, "sign")?
        .call3(&subtle, &ALGORITHM.into(), &key, &Uint8Array::from(input))
        .map_err(failed("sign ID token"))?
        .dyn_into()
        .map_err(failed("sign ID token"))?;
    let signature = JsFuture::from(promise)
        .await
        .map_err(failed("sign ID token"))?;
    Ok(Uint8Array::new(&signature).to_vec())
}
