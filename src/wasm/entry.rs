//! The Forge entry points as plain async functions over any [`Host`]: what each `#[wasm_bindgen]`
//! export does once the JS host object is wrapped. Kept target-independent (compiled natively as
//! `crate::entry`) so the decisions below are tested without a JS engine; `src/wasm/exports.rs`
//! only converts values and errors.
//!
//! | export | function | failure policy |
//! |---|---|---|
//! | `poll` | [`poll`] | not configured → `{ ran: false }`; other failures → error (logged by Forge) |
//! | `issueEvent` | [`issue_event`] | unmanaged or foreign events → one KVS read at most |
//! | `push` | [`crate::push::handle_push`] | always an HTTP answer |
//! | `consume` | [`consume`] | retryable failures → error (Forge redelivers); others dropped |
//! | `resolver` | [`crate::admin::handle`] | always `{ ok, ... }` |

use crate::engine::{Engine, EngineError};
use crate::host::{Host, HostError, LogLevel};
use crate::settings::{Settings, SECRET_API_KEY};
use crate::store;
use serde_json::{json, Value};

/// A failure that crosses the boundary as a JS `Error` with a stable `code`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryError {
    /// Stable SCREAMING_SNAKE code (`KEY_REJECTED`, `KVS`, `CATAAM_HTTP`, …).
    pub code: String,
    /// Message without secrets or finding content.
    pub message: String,
}

impl EntryError {
    /// Builds an error.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
        }
    }
}

impl From<EngineError> for EntryError {
    fn from(e: EngineError) -> Self {
        EntryError::new(e.code(), e.to_string())
    }
}

impl From<HostError> for EntryError {
    fn from(e: HostError) -> Self {
        EntryError::new("KVS", format!("storage failed ({})", e.code))
    }
}

impl std::fmt::Display for EntryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for EntryError {}

/// `true` for engine failures a later retry can fix without anyone acting (outages).
pub fn is_retryable(e: &EngineError) -> bool {
    matches!(
        e,
        EngineError::Cataam { .. } | EngineError::Jira { .. } | EngineError::Kvs { .. }
    )
}

/// Stored settings and API key; `None` when the app is not configured yet (no key or project).
pub async fn load_config<H: Host>(host: &H) -> Result<Option<(Settings, String)>, HostError> {
    let settings = store::load_settings(host).await?;
    let key = host
        .secret_get(SECRET_API_KEY)
        .await?
        .filter(|k| !k.is_empty());
    Ok(match key {
        Some(k) if settings.project_id.is_some() => Some((settings, k)),
        _ => None,
    })
}

fn report_json<T: serde::Serialize>(ran: bool, report: &T) -> Value {
    json!({ "ran": ran, "report": report })
}

/// Scheduled trigger `cataam-poll`.
pub async fn poll<H: Host>(host: &H) -> Result<Value, EntryError> {
    let Some((settings, key)) = load_config(host).await? else {
        host.log(
            LogLevel::Info,
            "poll: not configured, nothing to do",
            &json!({}),
        );
        return Ok(json!({ "ran": false, "reason": "NOT_CONFIGURED" }));
    };
    let report = Engine::new(host, settings, key).run_poll().await?;
    Ok(report_json(true, &report))
}

/// The Jira issue id a product event is about, if it is an issue created/updated event.
///
/// Accepts `issue.id` as a string or number; events of other types (or without an issue) give
/// `None` so they are ignored without any I/O.
pub fn issue_id_of(event: &Value) -> Option<String> {
    if let Some(t) = event.get("eventType").and_then(Value::as_str) {
        if !matches!(t, "avi:jira:updated:issue" | "avi:jira:created:issue") {
            return None;
        }
    }
    let id = match event.pointer("/issue/id")? {
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => n.as_u64()?.to_string(),
        _ => return None,
    };
    (!id.is_empty() && id.len() <= 20 && id.bytes().all(|b| b.is_ascii_digit())).then_some(id)
}

/// Product trigger `jira-issue-events`: reconcile the finding linked to the issue, if any.
/// Unmanaged issues cost one KVS read; foreign events none.
pub async fn issue_event<H: Host>(host: &H, event: &Value) -> Result<Value, EntryError> {
    let Some(issue_id) = issue_id_of(event) else {
        return Ok(json!({ "ran": false, "reason": "IGNORED" }));
    };
    let link: Option<store::IssueLink> = store::get(host, &store::link_by_issue(&issue_id)).await?;
    if link.is_none() {
        return Ok(json!({ "ran": false, "reason": "UNMANAGED" }));
    }
    let Some((settings, key)) = load_config(host).await? else {
        return Ok(json!({ "ran": false, "reason": "NOT_CONFIGURED" }));
    };
    let report = Engine::new(host, settings, key)
        .run_issue(&issue_id)
        .await?;
    Ok(report_json(true, &report))
}

/// Queue consumer `cataam-sync-consumer`. Retryable failures are returned as errors so Forge
/// redelivers the message; a message that can never succeed (not configured, key rejected, malformed)
/// is dropped with `{ ran: false, dropped: code }` — the scheduled poll covers its findings later.
pub async fn consume<H: Host>(host: &H, body: &Value) -> Result<Value, EntryError> {
    let Some((settings, key)) = load_config(host).await? else {
        return Ok(json!({ "ran": false, "dropped": "NOT_CONFIGURED" }));
    };
    match Engine::new(host, settings, key)
        .run_queue_message(body)
        .await
    {
        Ok(report) => Ok(report_json(true, &report)),
        Err(e) if is_retryable(&e) => Err(e.into()),
        Err(e) => {
            host.log(
                LogLevel::Warn,
                "consume: message dropped",
                &json!({ "code": e.code() }),
            );
            Ok(json!({ "ran": false, "dropped": e.code() }))
        }
    }
}
