//! The `Host` trait: every effect the core may cause or observe.
//!
//! The engine is generic over `Host`; the wasm build implements it with the Forge SDKs (see
//! `src/wasm/`), native tests with an in-memory simulated world. Nothing else in the crate performs
//! I/O, reads a clock or draws randomness.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// An HTTP request to the Jira REST API, relative to the site (`/rest/api/3/...`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JiraRequest {
    /// HTTP method in upper case (`GET`, `POST`, `PUT`, `DELETE`).
    pub method: String,
    /// Path and query, already percent-encoded, starting with `/rest/`.
    pub path: String,
    /// JSON body, if any.
    pub body: Option<Value>,
    /// `true` to call as the invoking user (`asUser()`), `false` as the app (`asApp()`).
    pub as_user: bool,
}

/// An HTTP request to the CATAAM API (absolute URL; the API key header is added by the caller).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CataamRequest {
    /// HTTP method in upper case.
    pub method: String,
    /// Absolute `https://` URL.
    pub url: String,
    /// Request headers (name, value).
    pub headers: Vec<(String, String)>,
    /// JSON body, if any.
    pub body: Option<Value>,
}

/// An HTTP answer. `body` is the parsed JSON body, or `Value::Null` when empty or not JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Response headers with lower-case names.
    pub headers: Vec<(String, String)>,
    /// Parsed JSON body or `Null`.
    pub body: Value,
}

impl HttpResponse {
    /// The first header with this (lower-case) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// `true` for 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// Options of a KVS write.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetOptions {
    /// Expire the entry after this many seconds.
    pub ttl_seconds: Option<u64>,
    /// Write only if the key does not exist; the write then reports `false` instead of failing.
    pub if_not_exists: bool,
}

/// One operation of a KVS transaction (≤ 25 per transaction on Forge).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "camelCase")]
pub enum TxOp {
    /// Set `key` to `value`.
    Set {
        /// Key.
        key: String,
        /// Value.
        value: Value,
    },
    /// Delete `key`.
    Delete {
        /// Key.
        key: String,
    },
}

/// One page of a KVS prefix query.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryPage {
    /// Entries in key order.
    pub results: Vec<KeyValue>,
    /// Cursor of the next page, if any.
    pub next_cursor: Option<String>,
}

/// A KVS entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyValue {
    /// Key.
    pub key: String,
    /// Value.
    pub value: Value,
}

/// A message for the app's async queue (continuations, delayed retries, compliance-run polls).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueEvent {
    /// JSON body delivered to the consumer.
    pub body: Value,
    /// Delivery delay, 0–900 s.
    pub delay_in_seconds: u32,
}

/// Log severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    /// Diagnostic detail.
    Debug,
    /// Normal operation.
    Info,
    /// Something needs attention but the run continues.
    Warn,
    /// An operation failed.
    Error,
}

/// Why a host call failed (transport-level; HTTP error statuses are answers, not errors).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostError {
    /// Stable machine-readable code, e.g. `KVS`, `NETWORK`, `TIMEOUT`, `RATE_LIMITED`.
    pub code: String,
    /// Human-readable detail; never contains secrets or finding content.
    pub message: String,
}

impl HostError {
    /// Builds an error.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for HostError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for HostError {}

/// Result of a host call.
pub type HostResult<T> = Result<T, HostError>;

/// Every effect available to the core. Implemented by `wasm::JsHost` (Forge) and by test hosts.
#[allow(async_fn_in_trait)]
pub trait Host {
    /// Reads a KVS value; `None` when missing.
    async fn kvs_get(&self, key: &str) -> HostResult<Option<Value>>;
    /// Writes a KVS value; returns `false` only when `if_not_exists` was set and the key existed.
    async fn kvs_set(&self, key: &str, value: &Value, opts: SetOptions) -> HostResult<bool>;
    /// Deletes a KVS key (no error when missing).
    async fn kvs_delete(&self, key: &str) -> HostResult<()>;
    /// Lists entries whose key begins with `prefix`.
    async fn kvs_query(
        &self,
        prefix: &str,
        cursor: Option<&str>,
        limit: u32,
    ) -> HostResult<QueryPage>;
    /// Applies up to 25 operations atomically.
    async fn kvs_transact(&self, ops: &[TxOp]) -> HostResult<()>;
    /// Reads a secret from encrypted secret storage.
    async fn secret_get(&self, name: &str) -> HostResult<Option<String>>;
    /// Writes a secret to encrypted secret storage.
    async fn secret_set(&self, name: &str, value: &str) -> HostResult<()>;
    /// Deletes a secret.
    async fn secret_delete(&self, name: &str) -> HostResult<()>;
    /// Calls the Jira REST API.
    async fn jira(&self, req: JiraRequest) -> HostResult<HttpResponse>;
    /// Calls the CATAAM API (egress through the platform's allowlisted `fetch`).
    async fn cataam(&self, req: CataamRequest) -> HostResult<HttpResponse>;
    /// Pushes events to the app's async queue (≤ 50 per call).
    async fn queue_push(&self, events: &[QueueEvent]) -> HostResult<()>;
    /// The app's web trigger URL.
    async fn web_trigger_url(&self) -> HostResult<String>;
    /// `n` bytes from a CSPRNG, hex-encoded.
    async fn random_hex(&self, n: usize) -> HostResult<String>;
    /// Wall clock, milliseconds since the Unix epoch.
    fn now_ms(&self) -> i64;
    /// Milliseconds left before the platform kills this invocation.
    fn remaining_ms(&self) -> i64;
    /// Structured log line. Callers never pass secrets or finding content.
    fn log(&self, level: LogLevel, message: &str, fields: &Value);
}
