//! `JsHost`: the [`Host`] trait over the duck-typed JS host object built by `forge/host.js`
//! (docs/internals.md "Host object").
//!
//! Every method looks the JS method up by name, calls it with plain JSON-able arguments
//! (`serde-wasm-bindgen`, maps as objects) and awaits the result with `JsFuture` when it is a
//! Promise. A rejected Promise or a thrown error becomes a [`HostError`] with the error's `code`
//! property (or `HOST`). The only exception is [`Host::cataam`], which calls the global `fetch`
//! through `gloo-net` (Forge's egress allowlist wraps it) with a timeout derived from the time the
//! invocation has left.

use crate::host::{
    CataamRequest, Host, HostError, HostResult, HttpResponse, JiraRequest, LogLevel, QueryPage,
    QueueEvent, SetOptions, TxOp,
};
use gloo_net::http::{Method, RequestBuilder};
use js_sys::{Function, Promise, Reflect};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// Longest CATAAM request, whatever the budget (ms).
pub const CATAAM_TIMEOUT_MAX_MS: i64 = 20_000;
/// Shortest CATAAM request timeout (ms).
pub const CATAAM_TIMEOUT_MIN_MS: i64 = 1_000;
/// Time kept back from the invocation's remaining time when sizing a CATAAM timeout (ms).
pub const CATAAM_TIMEOUT_MARGIN_MS: i64 = 3_000;

/// Serializes a Rust value to a plain JS value (objects, not `Map`s; 64-bit integers as numbers).
pub fn to_js<T: Serialize + ?Sized>(v: &T) -> Result<JsValue, HostError> {
    v.serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| HostError::new("SERDE", e.to_string()))
}

/// Deserializes a plain JS value (`undefined` reads as `null`).
pub fn from_js<T: DeserializeOwned>(v: JsValue) -> Result<T, HostError> {
    let v = if v.is_undefined() { JsValue::NULL } else { v };
    serde_wasm_bindgen::from_value(v).map_err(|e| HostError::new("SERDE", e.to_string()))
}

/// A JS error (thrown value or rejection) as a `HostError`: its `code` and `message` properties.
pub fn host_error(e: &JsValue) -> HostError {
    let prop = |name: &str| {
        Reflect::get(e, &JsValue::from_str(name))
            .ok()
            .and_then(|v| v.as_string())
    };
    let code = prop("code")
        .filter(|c| !c.is_empty() && c.len() <= 64)
        .unwrap_or_else(|| "HOST".to_string());
    let message = prop("message")
        .or_else(|| e.as_string())
        .unwrap_or_else(|| "host call failed".to_string());
    HostError::new(code, message)
}

/// The Forge host object seen through the [`Host`] trait.
pub struct JsHost {
    obj: JsValue,
}

impl JsHost {
    /// Wraps the host object passed to an export.
    pub fn new(obj: JsValue) -> Self {
        Self { obj }
    }

    fn method(&self, name: &str) -> HostResult<Function> {
        Reflect::get(&self.obj, &JsValue::from_str(name))
            .ok()
            .and_then(|f| f.dyn_into::<Function>().ok())
            .ok_or_else(|| HostError::new("HOST", format!("host object has no method {name}")))
    }

    /// Calls `name(args…)` and awaits the result if it is a Promise (plain values pass through).
    async fn call(&self, name: &str, args: &[JsValue]) -> HostResult<JsValue> {
        let f = self.method(name)?;
        let arr: js_sys::Array = args.iter().collect();
        let ret = f.apply(&self.obj, &arr).map_err(|e| host_error(&e))?;
        if ret.is_instance_of::<Promise>() || has_then(&ret) {
            JsFuture::from(Promise::resolve(&ret))
                .await
                .map_err(|e| host_error(&e))
        } else {
            Ok(ret)
        }
    }

    /// Calls a synchronous method returning a number; `fallback` if it is missing or not a number.
    fn call_number(&self, name: &str, fallback: f64) -> f64 {
        self.method(name)
            .ok()
            .and_then(|f| f.call0(&self.obj).ok())
            .and_then(|v| v.as_f64())
            .filter(|n| n.is_finite())
            .unwrap_or(fallback)
    }
}

fn has_then(v: &JsValue) -> bool {
    v.is_object()
        && Reflect::get(v, &JsValue::from_str("then"))
            .map(|t| t.is_function())
            .unwrap_or(false)
}

fn js_str(s: &str) -> JsValue {
    JsValue::from_str(s)
}

fn opt_str(s: Option<&str>) -> JsValue {
    s.map(JsValue::from_str).unwrap_or(JsValue::NULL)
}

/// Splits `url` into the part before `?` and its decoded query pairs. gloo-net 0.6 appends a
/// stray `&` to a URL that already has a query, so parameters are re-added with `.query()`.
pub fn split_query(url: &str) -> (&str, Vec<(String, String)>) {
    match url.split_once('?') {
        Some((base, q)) => (
            base,
            url::form_urlencoded::parse(q.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        ),
        None => (url, vec![]),
    }
}

/// Timeout of one CATAAM request: the remaining time minus a margin, within
/// [[`CATAAM_TIMEOUT_MIN_MS`], [`CATAAM_TIMEOUT_MAX_MS`]].
pub fn cataam_timeout_ms(remaining_ms: i64) -> u32 {
    (remaining_ms - CATAAM_TIMEOUT_MARGIN_MS).clamp(CATAAM_TIMEOUT_MIN_MS, CATAAM_TIMEOUT_MAX_MS)
        as u32
}

impl Host for JsHost {
    async fn kvs_get(&self, key: &str) -> HostResult<Option<Value>> {
        let v = self.call("kvsGet", &[js_str(key)]).await?;
        if v.is_null() || v.is_undefined() {
            return Ok(None);
        }
        from_js(v).map(Some)
    }

    async fn kvs_set(&self, key: &str, value: &Value, opts: SetOptions) -> HostResult<bool> {
        let v = self
            .call("kvsSet", &[js_str(key), to_js(value)?, to_js(&opts)?])
            .await?;
        // `false` only when the "if not exists" condition failed.
        Ok(v.as_bool().unwrap_or(true))
    }

    async fn kvs_delete(&self, key: &str) -> HostResult<()> {
        self.call("kvsDelete", &[js_str(key)]).await.map(|_| ())
    }

    async fn kvs_query(
        &self,
        prefix: &str,
        cursor: Option<&str>,
        limit: u32,
    ) -> HostResult<QueryPage> {
        let v = self
            .call(
                "kvsQuery",
                &[js_str(prefix), opt_str(cursor), JsValue::from(limit)],
            )
            .await?;
        from_js(v)
    }

    async fn kvs_transact(&self, ops: &[TxOp]) -> HostResult<()> {
        self.call("kvsTransact", &[to_js(ops)?]).await.map(|_| ())
    }

    async fn secret_get(&self, name: &str) -> HostResult<Option<String>> {
        let v = self.call("secretGet", &[js_str(name)]).await?;
        Ok(v.as_string())
    }

    async fn secret_set(&self, name: &str, value: &str) -> HostResult<()> {
        self.call("secretSet", &[js_str(name), js_str(value)])
            .await
            .map(|_| ())
    }

    async fn secret_delete(&self, name: &str) -> HostResult<()> {
        self.call("secretDelete", &[js_str(name)]).await.map(|_| ())
    }

    async fn jira(&self, req: JiraRequest) -> HostResult<HttpResponse> {
        let body = match &req.body {
            Some(b) => to_js(b)?,
            None => JsValue::NULL,
        };
        let v = self
            .call(
                "jira",
                &[
                    js_str(&req.method),
                    js_str(&req.path),
                    body,
                    JsValue::from_bool(req.as_user),
                ],
            )
            .await?;
        from_js(v)
    }

    async fn cataam(&self, req: CataamRequest) -> HostResult<HttpResponse> {
        let method = Method::from_bytes(req.method.as_bytes())
            .map_err(|_| HostError::new("INVALID_INPUT", "unsupported HTTP method"))?;
        let (base, query) = split_query(&req.url);
        let timeout = cataam_timeout_ms(self.remaining_ms());
        let signal = web_sys::AbortSignal::timeout_with_u32(timeout);
        let mut builder = RequestBuilder::new(base)
            .method(method)
            .abort_signal(Some(&signal));
        if !query.is_empty() {
            builder = builder.query(query.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        }
        for (k, v) in &req.headers {
            builder = builder.header(k, v);
        }
        let request = match &req.body {
            Some(b) => builder.body(b.to_string()),
            None => builder.build(),
        }
        .map_err(|_| HostError::new("INVALID_INPUT", "the CATAAM request could not be built"))?;
        let resp = match request.send().await {
            Ok(r) => r,
            Err(gloo_net::Error::JsError(e)) => {
                let code = match e.name.as_str() {
                    "TimeoutError" | "AbortError" => "TIMEOUT",
                    "ExternalEndpointNotAllowedError" => "EGRESS_BLOCKED",
                    _ => "NETWORK",
                };
                return Err(HostError::new(
                    code,
                    format!("CATAAM request failed: {}", e.name),
                ));
            }
            Err(_) => return Err(HostError::new("NETWORK", "CATAAM request failed")),
        };
        let status = resp.status();
        let headers: Vec<(String, String)> = resp
            .headers()
            .entries()
            .map(|(k, v)| (k.to_ascii_lowercase(), v))
            .collect();
        let text = match resp.text().await {
            Ok(t) => t,
            Err(gloo_net::Error::JsError(e))
                if e.name == "TimeoutError" || e.name == "AbortError" =>
            {
                return Err(HostError::new("TIMEOUT", "CATAAM response body timed out"))
            }
            Err(_) => return Err(HostError::new("NETWORK", "CATAAM response body failed")),
        };
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::Null)
        };
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }

    async fn queue_push(&self, events: &[QueueEvent]) -> HostResult<()> {
        self.call("queuePush", &[to_js(events)?]).await.map(|_| ())
    }

    async fn web_trigger_url(&self) -> HostResult<String> {
        let v = self.call("webTriggerUrl", &[]).await?;
        v.as_string()
            .ok_or_else(|| HostError::new("HOST", "webTriggerUrl did not return a string"))
    }

    async fn random_hex(&self, n: usize) -> HostResult<String> {
        let v = self.call("randomBytes", &[JsValue::from(n as u32)]).await?;
        v.as_string()
            .ok_or_else(|| HostError::new("HOST", "randomBytes did not return a string"))
    }

    fn now_ms(&self) -> i64 {
        self.call_number("now", js_sys::Date::now()) as i64
    }

    fn remaining_ms(&self) -> i64 {
        self.call_number("remainingMs", 25_000.0) as i64
    }

    fn log(&self, level: LogLevel, message: &str, fields: &Value) {
        let Ok(f) = self.method("log") else {
            return;
        };
        let level = match level {
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
        };
        let fields = to_js(fields).unwrap_or(JsValue::NULL);
        // Logging must never fail an operation.
        let _ = f.call3(&self.obj, &js_str(level), &js_str(message), &fields);
    }
}
