//! `#[wasm_bindgen]` exports called by `forge/index.js` (one per manifest handler, plus
//! `version`). Each wraps the host object in a [`JsHost`], converts the arguments with
//! `serde-wasm-bindgen`, runs the matching function of [`crate::entry`], [`crate::push`] or
//! [`crate::admin`], and converts the answer back (maps as plain objects). Failures cross as a
//! JS `Error` whose `code` property is a stable SCREAMING_SNAKE code (docs/internals.md "Errors
//! across the boundary"); messages never carry secrets or finding content.

use super::host::{from_js, to_js, JsHost};
use crate::entry::{self, EntryError};
use crate::host::HostError;
use crate::push::{self, WebTriggerRequest};
use serde_json::Value;
use wasm_bindgen::prelude::*;

/// A JS `Error` with a `code` property.
fn js_error(code: &str, message: &str) -> JsValue {
    let err = js_sys::Error::new(message);
    // Setting a property on a fresh Error object cannot fail.
    let _ = js_sys::Reflect::set(&err, &JsValue::from_str("code"), &JsValue::from_str(code));
    err.into()
}

fn entry_error(e: EntryError) -> JsValue {
    js_error(&e.code, &e.message)
}

fn input_error(e: HostError) -> JsValue {
    js_error(
        "INVALID_INPUT",
        &format!("argument could not be read: {}", e.message),
    )
}

fn output(v: &Value) -> Result<JsValue, JsValue> {
    to_js(v).map_err(|e| js_error("SERDE", &e.message))
}

fn init() {
    console_error_panic_hook::set_once();
}

/// Scheduled trigger `cataam-poll`: `poll(host) → { ran, report? , reason? }`.
#[wasm_bindgen]
pub async fn poll(host: JsValue) -> Result<JsValue, JsValue> {
    init();
    let host = JsHost::new(host);
    let v = entry::poll(&host).await.map_err(entry_error)?;
    output(&v)
}

/// Product trigger `jira-issue-events`: `issueEvent(host, event) → { ran, report?, reason? }`.
#[wasm_bindgen(js_name = issueEvent)]
pub async fn issue_event(host: JsValue, event: JsValue) -> Result<JsValue, JsValue> {
    init();
    let host = JsHost::new(host);
    let event: Value = from_js(event).map_err(input_error)?;
    let v = entry::issue_event(&host, &event)
        .await
        .map_err(entry_error)?;
    output(&v)
}

/// Web trigger `cataam-push`: `push(host, request) → { statusCode, headers, body }`. Never throws
/// for a bad request: an unreadable request object is answered 400.
#[wasm_bindgen]
pub async fn push(host: JsValue, request: JsValue) -> Result<JsValue, JsValue> {
    init();
    let host = JsHost::new(host);
    let response = match from_js::<WebTriggerRequest>(request) {
        Ok(req) => push::handle_push(&host, &req).await,
        Err(_) => push::PushRejection::InvalidEvent.response(),
    };
    to_js(&response).map_err(|e| js_error("SERDE", &e.message))
}

/// Queue consumer `cataam-sync-consumer`: `consume(host, body) → { ran, report?, dropped? }`;
/// throws (so Forge redelivers) only for retryable failures.
#[wasm_bindgen]
pub async fn consume(host: JsValue, body: JsValue) -> Result<JsValue, JsValue> {
    init();
    let host = JsHost::new(host);
    let body: Value = from_js(body).map_err(input_error)?;
    let v = entry::consume(&host, &body).await.map_err(entry_error)?;
    output(&v)
}

/// Admin page resolver: `resolver(host, functionKey, payload, context) → { ok, ... }`.
#[wasm_bindgen]
pub async fn resolver(
    host: JsValue,
    #[wasm_bindgen(js_name = functionKey)] function_key: String,
    payload: JsValue,
    context: JsValue,
) -> Result<JsValue, JsValue> {
    init();
    let host = JsHost::new(host);
    let payload: Value = from_js(payload).map_err(input_error)?;
    let context: Value = from_js(context).map_err(input_error)?;
    let v = crate::admin::handle(&host, &function_key, &payload, &context).await;
    output(&v)
}

/// The crate version (`Cargo.toml`).
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}
