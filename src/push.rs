//! CATAAM push ingress: the web trigger `cataam-push` (contract: docs/internals.md "Push").
//!
//! Order, as for every webhook receiver: **authenticate → parse → dispatch → answer**.
//!
//! 1. Cheap structural checks that read no secret and parse nothing: method, body size
//!    ([`MAX_BODY_BYTES`]), content type, required headers.
//! 2. Authenticate: `X-Cataam-Signature: t=<unix>,v1=<hex>[,v1=<hex>…]` must carry an
//!    HMAC-SHA256 of `"<t>.<raw body>"` under the current shared secret, or under the previous one
//!    while `settings.previous_secret_expires_at` lies in the future; compared in constant time
//!    (`hmac`'s `verify_slice`); then `t` must be within ±[`TOLERANCE_SECONDS`] of the host clock.
//! 3. Parse the JSON body (only now), check that its `id` equals the `X-Cataam-Event-Id` header
//!    (the header is not signed, the body is) and claim the event id in KVS with "set if not exists"
//!    and a TTL: a replay answers 200 `{"duplicate":true}` and does nothing.
//! 4. Dispatch the finding ids to the engine (`Engine::run_findings`), which reconciles within the
//!    invocation budget and queues the rest; answer 202 `{"accepted":n}` only then.
//!
//! Answers never explain *why* a signature failed beyond a stable code, and 5xx is used only when a
//! retry can help (KVS or CATAAM outage); the event claim is released first so the retry is not
//! mistaken for a replay. The verification steps are pure functions ([`precheck`],
//! [`verify_signature`], [`parse_event`]) tested natively; [`handle_push_with`] drives them over a
//! [`Host`].

use crate::engine::{Engine, EngineError};
use crate::host::{Host, HostError, LogLevel, SetOptions};
use crate::settings::{Settings, SECRET_API_KEY, SECRET_WEBHOOK, SECRET_WEBHOOK_PREVIOUS};
use crate::store;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::Sha256;
use std::collections::BTreeMap;
use std::future::Future;

/// Largest accepted request body, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Accepted clock difference between the signature timestamp and the host clock, in seconds.
pub const TOLERANCE_SECONDS: i64 = 300;
/// How long a seen event id is remembered (must exceed the ± tolerance window; CATAAM re-deliveries
/// of the same event within a day are also recognised).
pub const EVENT_TTL_SECONDS: u64 = 24 * 3600;
/// Longest accepted event or finding id.
pub const MAX_ID_LEN: usize = 128;
/// Most finding ids one event may name.
pub const MAX_FINDINGS_PER_EVENT: usize = 500;
/// Header carrying the signature.
pub const SIGNATURE_HEADER: &str = "x-cataam-signature";
/// Header carrying the event id.
pub const EVENT_ID_HEADER: &str = "x-cataam-event-id";
/// Seconds CATAAM is asked to wait before retrying after a 503.
pub const RETRY_AFTER_SECONDS: u32 = 30;

type HmacSha256 = Hmac<Sha256>;

/// The Forge web trigger request object (`{ method, path, headers: { name: [values] },
/// queryParameters, body }`), as the shim passes it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct WebTriggerRequest {
    /// HTTP method.
    pub method: String,
    /// Request path (unused).
    pub path: String,
    /// Headers; names in any case, each with one or more values (a single string is accepted too).
    #[serde(deserialize_with = "one_or_many")]
    pub headers: BTreeMap<String, Vec<String>>,
    /// Query parameters (unused).
    #[serde(deserialize_with = "one_or_many")]
    pub query_parameters: BTreeMap<String, Vec<String>>,
    /// Raw body text exactly as received (the signature covers these bytes).
    pub body: Option<String>,
}

/// Reads `{ name: [values] }`, also tolerating `{ name: value }` and `null`.
fn one_or_many<'de, D>(d: D) -> Result<BTreeMap<String, Vec<String>>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        Many(Vec<String>),
        One(String),
    }
    let raw: Option<BTreeMap<String, OneOrMany>> = Option::deserialize(d)?;
    Ok(raw
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| match v {
            OneOrMany::Many(v) => (k, v),
            OneOrMany::One(v) => (k, vec![v]),
        })
        .collect())
}

impl WebTriggerRequest {
    /// The first value of a header, matching the name case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| v.first())
            .map(String::as_str)
    }

    /// Every value of a header (several header lines or repeated values).
    pub fn header_values(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .flat_map(|(_, v)| v.iter().map(String::as_str))
            .collect()
    }
}

/// The dynamic web trigger response (`{ statusCode, headers: { name: [values] }, body }`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebTriggerResponse {
    /// HTTP status.
    pub status_code: u16,
    /// Response headers.
    pub headers: BTreeMap<String, Vec<String>>,
    /// JSON text.
    pub body: String,
}

impl WebTriggerResponse {
    /// A JSON answer with `Content-Type: application/json` and `Cache-Control: no-store`.
    pub fn json(status_code: u16, body: &Value) -> Self {
        let mut headers = BTreeMap::new();
        headers.insert("Content-Type".into(), vec!["application/json".into()]);
        headers.insert("Cache-Control".into(), vec!["no-store".into()]);
        Self {
            status_code,
            headers,
            body: body.to_string(),
        }
    }

    /// The body parsed as JSON (`Null` if it is not JSON).
    pub fn body_json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

/// Why a push is refused. Each maps to one HTTP status and one stable code; nothing else is
/// revealed to the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushRejection {
    /// Not a `POST` (405).
    MethodNotAllowed,
    /// Body larger than [`MAX_BODY_BYTES`] (413).
    PayloadTooLarge,
    /// Content type is not `application/json` (415).
    UnsupportedMediaType,
    /// `X-Cataam-Signature` or `X-Cataam-Event-Id` missing or unusable (400).
    MissingHeader,
    /// No `v1` signature matches under an accepted secret, or the header is malformed (401).
    BadSignature,
    /// Valid signature, but the timestamp is outside the tolerance (401).
    StaleTimestamp,
    /// The body is not JSON (400).
    MalformedJson,
    /// JSON, but not a push event: wrong shape, bad ids, or `id` ≠ the event id header (400).
    InvalidEvent,
    /// The push channel or the app is not configured (no shared secret, API key or project) (403).
    /// The admin sets it up on the app's settings page; the scheduled poll catches up afterwards.
    NotConfigured,
    /// Authentic push, but CATAAM rejects the app's API key, so the findings cannot be read (403).
    /// The admin enters a new key; the scheduled poll catches up afterwards.
    KeyRejected,
    /// KVS, secret storage or CATAAM failed transiently: retry later (503 with `Retry-After`).
    Unavailable,
}

impl PushRejection {
    /// HTTP status of the answer.
    pub fn status(self) -> u16 {
        match self {
            PushRejection::MethodNotAllowed => 405,
            PushRejection::PayloadTooLarge => 413,
            PushRejection::UnsupportedMediaType => 415,
            PushRejection::MissingHeader
            | PushRejection::MalformedJson
            | PushRejection::InvalidEvent => 400,
            PushRejection::BadSignature | PushRejection::StaleTimestamp => 401,
            PushRejection::NotConfigured | PushRejection::KeyRejected => 403,
            PushRejection::Unavailable => 503,
        }
    }

    /// Stable code sent in `{"error":{"code":…}}`.
    pub fn code(self) -> &'static str {
        match self {
            PushRejection::MethodNotAllowed => "METHOD_NOT_ALLOWED",
            PushRejection::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            PushRejection::UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
            PushRejection::MissingHeader => "MISSING_HEADER",
            PushRejection::BadSignature => "BAD_SIGNATURE",
            PushRejection::StaleTimestamp => "STALE_TIMESTAMP",
            PushRejection::MalformedJson => "MALFORMED_JSON",
            PushRejection::InvalidEvent => "INVALID_EVENT",
            PushRejection::NotConfigured => "NOT_CONFIGURED",
            PushRejection::KeyRejected => "KEY_REJECTED",
            PushRejection::Unavailable => "TEMPORARILY_UNAVAILABLE",
        }
    }

    /// The HTTP answer: `{"error":{"code":…}}` (plus `Retry-After` for 503, `Allow` for 405).
    pub fn response(self) -> WebTriggerResponse {
        let mut r =
            WebTriggerResponse::json(self.status(), &json!({"error": {"code": self.code()}}));
        match self {
            PushRejection::Unavailable => {
                r.headers
                    .insert("Retry-After".into(), vec![RETRY_AFTER_SECONDS.to_string()]);
            }
            PushRejection::MethodNotAllowed => {
                r.headers.insert("Allow".into(), vec!["POST".into()]);
            }
            _ => {}
        }
        r
    }
}

/// What [`precheck`] extracts from a structurally acceptable request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prechecked<'a> {
    /// The raw signature header.
    pub signature: &'a str,
    /// The event id header.
    pub event_id: &'a str,
    /// The raw body.
    pub body: &'a str,
}

/// `true` for ids that are safe as KVS key parts and in logs: 1–[`MAX_ID_LEN`] characters of
/// `A–Z a–z 0–9 _ - . :`.
pub fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':'))
}

/// Structural checks that need no secret and parse nothing: method `POST`, body ≤
/// [`MAX_BODY_BYTES`], `Content-Type: application/json` (parameters such as `charset` allowed),
/// signature and event id headers present (the event id well-formed).
pub fn precheck(req: &WebTriggerRequest) -> Result<Prechecked<'_>, PushRejection> {
    if !req.method.eq_ignore_ascii_case("POST") {
        return Err(PushRejection::MethodNotAllowed);
    }
    let body = req.body.as_deref().unwrap_or("");
    if body.len() > MAX_BODY_BYTES {
        return Err(PushRejection::PayloadTooLarge);
    }
    let media_type = req
        .header("content-type")
        .map(|v| v.split(';').next().unwrap_or("").trim())
        .unwrap_or("");
    if !media_type.eq_ignore_ascii_case("application/json") {
        return Err(PushRejection::UnsupportedMediaType);
    }
    let signature = req
        .header(SIGNATURE_HEADER)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or(PushRejection::MissingHeader)?;
    let event_id = req
        .header(EVENT_ID_HEADER)
        .map(str::trim)
        .filter(|s| is_valid_id(s))
        .ok_or(PushRejection::MissingHeader)?;
    Ok(Prechecked {
        signature,
        event_id,
        body,
    })
}

/// A parsed `X-Cataam-Signature` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureHeader {
    /// Signing time, Unix seconds.
    pub timestamp: i64,
    /// Every `v1` signature (raw bytes); unknown schemes are ignored.
    pub v1: Vec<Vec<u8>>,
}

/// Parses `t=<unix>,v1=<hex>[,v1=<hex>…]` (spaces around parts tolerated, unknown keys ignored).
/// Exactly one `t` and at least one well-formed 32-byte `v1` are required.
pub fn parse_signature_header(value: &str) -> Option<SignatureHeader> {
    let mut timestamp = None;
    let mut v1 = Vec::new();
    for part in value.split(',') {
        let (k, v) = part.split_once('=')?;
        match k.trim() {
            "t" => {
                let v = v.trim();
                if timestamp.is_some()
                    || v.is_empty()
                    || v.len() > 12
                    || !v.bytes().all(|b| b.is_ascii_digit())
                {
                    return None;
                }
                timestamp = Some(v.parse::<i64>().ok()?);
            }
            "v1" => {
                let bytes = hex::decode(v.trim()).ok()?;
                if bytes.len() != 32 {
                    return None;
                }
                if v1.len() < 8 {
                    v1.push(bytes);
                }
            }
            _ => {}
        }
    }
    if v1.is_empty() {
        return None;
    }
    Some(SignatureHeader {
        timestamp: timestamp?,
        v1,
    })
}

/// Hex HMAC-SHA256 of `"<t>.<body>"` under `secret` (the secret string's UTF-8 bytes are the
/// key) — how CATAAM signs; used by tests, the benchmark and the simulators' fixtures.
pub fn sign(secret: &str, timestamp: i64, body: &str) -> String {
    let mac = mac_for(secret, timestamp, body);
    hex::encode(mac.finalize().into_bytes())
}

fn mac_for(secret: &str, timestamp: i64, body: &str) -> HmacSha256 {
    // HMAC accepts keys of any length; `new_from_slice` cannot fail for it.
    let mut mac = <HmacSha256 as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    mac
}

/// Verifies a signature header against the accepted secrets (current first, then the previous
/// one while its grace period lasts) and the clock `now_s` (Unix seconds).
///
/// Every `v1` is checked under every secret with the constant-time `verify_slice`. A match with a
/// timestamp outside ±[`TOLERANCE_SECONDS`] is [`PushRejection::StaleTimestamp`]; no match (or an
/// unparsable header, or no secret) is [`PushRejection::BadSignature`].
pub fn verify_signature(
    header: &str,
    body: &str,
    secrets: &[&str],
    now_s: i64,
) -> Result<(), PushRejection> {
    let parsed = parse_signature_header(header).ok_or(PushRejection::BadSignature)?;
    let mut matched = false;
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        let mac = mac_for(secret, parsed.timestamp, body);
        for sig in &parsed.v1 {
            if mac.clone().verify_slice(sig).is_ok() {
                matched = true;
            }
        }
    }
    if !matched {
        return Err(PushRejection::BadSignature);
    }
    if (now_s - parsed.timestamp).abs() > TOLERANCE_SECONDS {
        return Err(PushRejection::StaleTimestamp);
    }
    Ok(())
}

/// A verified, parsed push event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PushEvent {
    /// Event id (`evt_…`), equal to the `X-Cataam-Event-Id` header.
    pub id: String,
    /// Event type (`finding.created`, …); informational — reconcile is level-triggered.
    #[serde(rename = "type")]
    pub kind: String,
    /// When CATAAM created the event (RFC 3339), informational.
    #[serde(default)]
    pub created_at: Option<String>,
    /// The findings to reconcile, deduplicated, in first-seen order.
    pub finding_ids: Vec<String>,
}

/// Parses the body of an authenticated push. Not JSON → [`PushRejection::MalformedJson`]; a JSON
/// value that is not an event (missing/ill-typed fields, invalid ids, more than
/// [`MAX_FINDINGS_PER_EVENT`] ids, `id` ≠ `header_event_id`) → [`PushRejection::InvalidEvent`].
pub fn parse_event(body: &str, header_event_id: &str) -> Result<PushEvent, PushRejection> {
    let value: Value = serde_json::from_str(body).map_err(|_| PushRejection::MalformedJson)?;
    let mut event: PushEvent =
        serde_json::from_value(value).map_err(|_| PushRejection::InvalidEvent)?;
    if event.id != header_event_id || !is_valid_id(&event.id) || event.kind.len() > 64 {
        return Err(PushRejection::InvalidEvent);
    }
    if event.finding_ids.len() > MAX_FINDINGS_PER_EVENT
        || !event.finding_ids.iter().all(|id| is_valid_id(id))
    {
        return Err(PushRejection::InvalidEvent);
    }
    let mut seen = std::collections::BTreeSet::new();
    event.finding_ids.retain(|id| seen.insert(id.clone()));
    Ok(event)
}

/// The answer for an accepted event: 202 `{"accepted": n}`.
pub fn accepted_response(n: usize) -> WebTriggerResponse {
    WebTriggerResponse::json(202, &json!({ "accepted": n }))
}

/// The answer for a replayed event id: 200 `{"duplicate": true}`.
pub fn duplicate_response() -> WebTriggerResponse {
    WebTriggerResponse::json(200, &json!({ "duplicate": true }))
}

/// How a dispatch of the finding ids failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DispatchFailure {
    /// The app is not configured (no API key or project): 403 `NOT_CONFIGURED`. The scheduled
    /// poll catches up once the admin finishes the settings page.
    NotConfigured,
    /// CATAAM rejected the app's API key: 403 `KEY_REJECTED` (a retry cannot help until the admin
    /// enters a new key; the poll catches up afterwards).
    KeyRejected,
    /// The engine refused the ids: 400 `INVALID_EVENT`.
    InvalidInput,
    /// A transient failure (storage, CATAAM or Jira outage): 503; the event claim is released so
    /// CATAAM's retry is processed.
    Retryable {
        /// Stable error code, for the log only.
        code: String,
    },
}

/// The verified request (the outcome of authenticate + parse + replay claim).
enum Authenticated {
    Fresh(PushEvent),
    Duplicate,
}

fn kvs_down(host: &impl Host, what: &str, e: &HostError) -> PushRejection {
    host.log(
        LogLevel::Error,
        "push: storage unavailable",
        &json!({ "step": what, "code": e.code }),
    );
    PushRejection::Unavailable
}

async fn authenticate<H: Host>(
    host: &H,
    req: &WebTriggerRequest,
) -> Result<Authenticated, PushRejection> {
    let pre = precheck(req)?;
    let now_ms = host.now_ms();
    let now_s = now_ms.div_euclid(1000);
    let current = host
        .secret_get(SECRET_WEBHOOK)
        .await
        .map_err(|e| kvs_down(host, "secret", &e))?
        .filter(|s| !s.is_empty());
    let mut outcome = match &current {
        Some(c) => verify_signature(pre.signature, pre.body, &[c], now_s),
        None => Err(PushRejection::BadSignature),
    };
    if outcome == Err(PushRejection::BadSignature) {
        // Only now consult the previous secret (a rotation in progress), so a flood of forged
        // requests costs one secret read each.
        let settings = store::load_settings(host)
            .await
            .map_err(|e| kvs_down(host, "settings", &e))?;
        let previous = match settings.previous_secret_expires_at {
            Some(exp) if exp > now_ms => host
                .secret_get(SECRET_WEBHOOK_PREVIOUS)
                .await
                .map_err(|e| kvs_down(host, "secret", &e))?
                .filter(|s| !s.is_empty()),
            _ => None,
        };
        match (&current, &previous) {
            (None, None) => {
                host.log(
                    LogLevel::Warn,
                    "push: no shared secret configured",
                    &json!({}),
                );
                return Err(PushRejection::NotConfigured);
            }
            (_, Some(p)) => outcome = verify_signature(pre.signature, pre.body, &[p], now_s),
            (Some(_), None) => {}
        }
    }
    if let Err(r) = outcome {
        host.log(
            LogLevel::Warn,
            "push: rejected",
            &json!({ "code": r.code() }),
        );
        return Err(r);
    }
    let event = parse_event(pre.body, pre.event_id)?;
    let claimed = host
        .kvs_set(
            &store::push_event(&event.id),
            &json!({ "at": now_ms }),
            SetOptions {
                ttl_seconds: Some(EVENT_TTL_SECONDS),
                if_not_exists: true,
            },
        )
        .await
        .map_err(|e| kvs_down(host, "claim", &e))?;
    if claimed {
        Ok(Authenticated::Fresh(event))
    } else {
        Ok(Authenticated::Duplicate)
    }
}

/// Handles one push with an explicit dispatcher (the engine in production, a fake in tests).
///
/// Never panics and never returns an error: every outcome is an HTTP answer. `dispatch` receives
/// the deduplicated finding ids of a fresh, authenticated event and must return `Ok` only once
/// every id is processed or queued.
pub async fn handle_push_with<H, F, Fut>(
    host: &H,
    req: &WebTriggerRequest,
    dispatch: F,
) -> WebTriggerResponse
where
    H: Host,
    F: FnOnce(Vec<String>) -> Fut,
    Fut: Future<Output = Result<(), DispatchFailure>>,
{
    let event = match authenticate(host, req).await {
        Ok(Authenticated::Fresh(e)) => e,
        Ok(Authenticated::Duplicate) => {
            host.log(LogLevel::Info, "push: duplicate event ignored", &json!({}));
            return duplicate_response();
        }
        Err(r) => return r.response(),
    };
    if let Err(e) = store::record_push_received(host, host.now_ms()).await {
        host.log(
            LogLevel::Warn,
            "push: could not record the push in health",
            &json!({ "code": e.code }),
        );
    }
    let n = event.finding_ids.len();
    host.log(
        LogLevel::Info,
        "push: accepted",
        &json!({ "eventId": event.id, "type": event.kind, "findings": n }),
    );
    if n == 0 {
        return accepted_response(0);
    }
    match dispatch(event.finding_ids).await {
        Ok(()) => accepted_response(n),
        Err(failure) => {
            // Not processed: forget the event so CATAAM's retry (or a later one) is handled.
            if let Err(e) = host.kvs_delete(&store::push_event(&event.id)).await {
                host.log(
                    LogLevel::Warn,
                    "push: could not release event claim",
                    &json!({ "code": e.code }),
                );
            }
            match failure {
                DispatchFailure::NotConfigured => PushRejection::NotConfigured.response(),
                DispatchFailure::KeyRejected => PushRejection::KeyRejected.response(),
                DispatchFailure::InvalidInput => PushRejection::InvalidEvent.response(),
                DispatchFailure::Retryable { code } => {
                    host.log(
                        LogLevel::Warn,
                        "push: dispatch failed, asking CATAAM to retry",
                        &json!({ "code": code }),
                    );
                    PushRejection::Unavailable.response()
                }
            }
        }
    }
}

/// Handles one push end to end: [`handle_push_with`] dispatching to
/// [`Engine::run_findings`](crate::engine::Engine::run_findings), which reconciles the findings
/// within the web trigger's budget and queues what it cannot finish.
pub async fn handle_push<H: Host>(host: &H, req: &WebTriggerRequest) -> WebTriggerResponse {
    handle_push_with(host, req, |ids| dispatch_to_engine(host, ids)).await
}

async fn dispatch_to_engine<H: Host>(host: &H, ids: Vec<String>) -> Result<(), DispatchFailure> {
    let retryable = |e: HostError| DispatchFailure::Retryable { code: e.code };
    let settings: Settings = store::load_settings(host).await.map_err(retryable)?;
    let key = host
        .secret_get(SECRET_API_KEY)
        .await
        .map_err(retryable)?
        .filter(|k| !k.is_empty());
    let Some(key) = key else {
        return Err(DispatchFailure::NotConfigured);
    };
    if settings.project_id.is_none() {
        return Err(DispatchFailure::NotConfigured);
    }
    match Engine::new(host, settings, key).run_findings(&ids).await {
        Ok(report) => {
            host.log(
                LogLevel::Info,
                "push: reconciled",
                &json!({
                    "findings": report.findings_seen,
                    "writes": report.writes(),
                    "queued": report.queued,
                    "stoppedForBudget": report.stopped_for_budget,
                }),
            );
            Ok(())
        }
        Err(EngineError::NotConfigured) => Err(DispatchFailure::NotConfigured),
        Err(EngineError::KeyRejected) => Err(DispatchFailure::KeyRejected),
        Err(EngineError::InvalidInput) => Err(DispatchFailure::InvalidInput),
        Err(e) => Err(DispatchFailure::Retryable {
            code: e.code().to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Known vector computed independently with Node's `crypto.createHmac('sha256', key)`.
    const VECTOR: &str = "c89214b5b5da833daed6f0b8c5bb6bd58cea9022bd80ccc78230f3942d632925";

    #[test]
    fn signing_matches_an_independent_implementation() {
        assert_eq!(
            sign("whsec_test", 1_700_000_000, r#"{"id":"evt_1"}"#),
            VECTOR
        );
    }

    #[test]
    fn signature_header_parsing() {
        let h = parse_signature_header(&format!("t=1700000000, v1={VECTOR} ,v0=abc,x=y")).unwrap();
        assert_eq!(h.timestamp, 1_700_000_000);
        assert_eq!(h.v1, vec![hex::decode(VECTOR).unwrap()]);
        let upper = VECTOR.to_uppercase();
        assert!(parse_signature_header(&format!("t=1,v1={upper}")).is_some());
        for bad in [
            "",
            "t=1",
            &format!("v1={VECTOR}"),
            &format!("t=,v1={VECTOR}"),
            &format!("t=1e9,v1={VECTOR}"),
            &format!("t=1,t=2,v1={VECTOR}"),
            &format!("t=1,v1={}", &VECTOR[..63]),
            &format!("t=1,v1={VECTOR}00"),
            &format!("t=1;v1={VECTOR}"),
            "t=1,v1",
            &format!("t=9999999999999,v1={VECTOR}"),
        ] {
            assert_eq!(parse_signature_header(bad), None, "{bad}");
        }
    }

    #[test]
    fn verification_accepts_any_secret_and_checks_time_after_the_mac() {
        let body = r#"{"id":"evt_1"}"#;
        let header = format!("t=1700000000,v1={VECTOR}");
        let now = 1_700_000_000;
        assert_eq!(
            verify_signature(&header, body, &["whsec_test"], now),
            Ok(())
        );
        assert_eq!(
            verify_signature(&header, body, &["other", "whsec_test"], now + 300),
            Ok(())
        );
        assert_eq!(
            verify_signature(&header, body, &["whsec_test"], now + 301),
            Err(PushRejection::StaleTimestamp)
        );
        assert_eq!(
            verify_signature(&header, body, &["other"], now + 301),
            Err(PushRejection::BadSignature),
            "a stale timestamp is only reported for an authentic request"
        );
        assert_eq!(
            verify_signature(&header, body, &[], now),
            Err(PushRejection::BadSignature)
        );
        assert_eq!(
            verify_signature(&header, body, &[""], now),
            Err(PushRejection::BadSignature)
        );
    }

    #[test]
    fn event_parsing() {
        let ok = parse_event(
            r#"{"id":"evt_1","type":"finding.created","findingIds":["fnd_a","fnd_b","fnd_a"]}"#,
            "evt_1",
        )
        .unwrap();
        assert_eq!(ok.finding_ids, ["fnd_a", "fnd_b"]);
        assert_eq!(ok.created_at, None);
        let many: Vec<String> = (0..=MAX_FINDINGS_PER_EVENT)
            .map(|i| format!("fnd_{i}"))
            .collect();
        let body = json!({"id": "evt_1", "type": "x", "findingIds": many}).to_string();
        assert_eq!(
            parse_event(&body, "evt_1"),
            Err(PushRejection::InvalidEvent)
        );
        assert_eq!(
            parse_event("nope", "evt_1"),
            Err(PushRejection::MalformedJson)
        );
    }

    #[test]
    fn forge_request_shapes() {
        let r: WebTriggerRequest = serde_json::from_value(json!({
            "method": "POST", "path": "/", "body": "{}",
            "headers": {"Content-Type": ["application/json"], "x-cataam-event-id": "evt_1"},
            "queryParameters": null, "userPath": "/x"
        }))
        .unwrap();
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert_eq!(r.header("X-Cataam-Event-Id"), Some("evt_1"));
        assert!(r.query_parameters.is_empty());
        let empty: WebTriggerRequest = serde_json::from_value(json!({})).unwrap();
        assert_eq!(precheck(&empty), Err(PushRejection::MethodNotAllowed));
    }

    #[test]
    fn ids() {
        assert!(is_valid_id("fnd_01JBXKQ2Z8M5T7P3R9W4C6D1EF"));
        assert!(is_valid_id("a:b.c-d_e"));
        for bad in ["", "a b", "a/b", "ä", &"x".repeat(MAX_ID_LEN + 1)] {
            assert!(!is_valid_id(bad), "{bad}");
        }
    }
}
