//! The admin page's resolver operations (docs/internals.md "Resolver functions").
//!
//! [`handle`] is the single entry: it first checks **server-side** that the invoking user is a Jira
//! administrator (`GET /rest/api/3/mypermissions?permissions=ADMINISTER` as the user); anyone else
//! gets `{ ok: false, error: { code: "FORBIDDEN" } }` and nothing is read or changed. Then it runs
//! the named operation and answers `{ ok: true, ... }` or `{ ok: false, error: { code, message,
//! field?, fields? } }` — always a value, never an exception, so the page can show a specific message.
//!
//! Secrets (the CATAAM API key, the webhook shared secrets) are only ever written to secret storage:
//! answers carry `apiKeySet` / `webhookSecretSet` flags, the single exception being the freshly
//! generated secret in the answer of `generateSecret` (shown once). Logs carry the operation name
//! and outcome codes only.

use crate::cataam::{CataamClient, CataamError};
use crate::host::{Host, HostError, JiraRequest, LogLevel};
use crate::model::{FindingKind, Severity};
use crate::push::is_valid_id;
use crate::settings::{
    normalize_base_url, validate_api_key, FieldError, Settings, SECRET_API_KEY, SECRET_WEBHOOK,
    SECRET_WEBHOOK_PREVIOUS,
};
use crate::store;
use serde_json::{json, Map, Value};

/// Names of the resolver functions, as the admin page invokes them.
pub const FUNCTIONS: [&str; 9] = [
    "getSettings",
    "saveSettings",
    "testConnection",
    "listProjects",
    "generateSecret",
    "reregisterWebhook",
    "getHealth",
    "retryDeadLetter",
    "syncNow",
];

/// Bytes of randomness in a generated webhook shared secret (64 hex characters).
pub const SECRET_BYTES: usize = 32;
/// Page size of `project/search` (Jira's maximum).
pub const PROJECT_PAGE_SIZE: u32 = 100;
/// Most project pages fetched by one `listProjects` call before answering with `nextStartAt`.
pub const MAX_PROJECT_PAGES_PER_CALL: u32 = 20;
/// `listProjects` stops fetching further pages when less than this much time is left (ms).
pub const PROJECT_BUDGET_MARGIN_MS: i64 = 5_000;

/// An operation's failure: `{ code, message, field?, fields? }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminError {
    /// Stable code (`FORBIDDEN`, `VALIDATION`, `KEY_REJECTED`, …).
    pub code: String,
    /// What happened and what to do; never a secret.
    pub message: String,
    /// The form field concerned, if one.
    pub field: Option<String>,
    /// Every field error (for `VALIDATION`).
    pub fields: Vec<FieldError>,
}

impl AdminError {
    /// An error without field information.
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
            field: None,
            fields: vec![],
        }
    }

    /// An error about one field.
    pub fn field(e: FieldError) -> Self {
        Self {
            code: e.code.clone(),
            message: e.message.clone(),
            field: Some(e.field.clone()),
            fields: vec![],
        }
    }

    /// `VALIDATION` with every field error.
    pub fn validation(fields: Vec<FieldError>) -> Self {
        Self {
            code: "VALIDATION".into(),
            message: "Some fields need attention.".into(),
            field: None,
            fields,
        }
    }

    /// The non-admin refusal.
    pub fn forbidden() -> Self {
        Self::new(
            "FORBIDDEN",
            "Only Jira administrators can view or change the CATAAM integration.",
        )
    }

    /// Storage failed.
    pub fn storage(e: &HostError) -> Self {
        Self::new(
            "KVS",
            format!(
                "The app's storage is unavailable ({}). Try again in a moment.",
                e.code
            ),
        )
    }

    /// The answer value `{ ok: false, error: {...} }`.
    pub fn to_answer(&self) -> Value {
        let mut err = Map::new();
        err.insert("code".into(), json!(self.code));
        err.insert("message".into(), json!(self.message));
        if let Some(f) = &self.field {
            err.insert("field".into(), json!(f));
        }
        if !self.fields.is_empty() {
            err.insert("fields".into(), json!(self.fields));
        }
        json!({ "ok": false, "error": Value::Object(err) })
    }
}

type OpResult = Result<Map<String, Value>, AdminError>;

/// Runs resolver function `function_key` for the caller described by `context` (`{ accountId }`)
/// and answers `{ ok: true, ... }` or `{ ok: false, error }`.
pub async fn handle<H: Host>(
    host: &H,
    function_key: &str,
    payload: &Value,
    context: &Value,
) -> Value {
    let outcome = match require_admin(host, context).await {
        Ok(()) => dispatch(host, function_key, payload).await,
        Err(e) => Err(e),
    };
    match outcome {
        Ok(mut fields) => {
            host.log(
                LogLevel::Info,
                "admin: operation done",
                &json!({ "function": loggable(function_key) }),
            );
            fields.insert("ok".into(), json!(true));
            Value::Object(fields)
        }
        Err(e) => {
            host.log(
                LogLevel::Warn,
                "admin: operation failed",
                &json!({ "function": loggable(function_key), "code": e.code }),
            );
            e.to_answer()
        }
    }
}

/// The function name if it is one of ours, else a placeholder (never log caller-supplied text).
fn loggable(function_key: &str) -> &str {
    FUNCTIONS
        .iter()
        .find(|f| **f == function_key)
        .copied()
        .unwrap_or("unknown")
}

async fn dispatch<H: Host>(host: &H, function_key: &str, payload: &Value) -> OpResult {
    match function_key {
        "getSettings" => get_settings(host).await,
        "saveSettings" => save_settings(host, payload).await,
        "testConnection" => test_connection(host, payload).await,
        "listProjects" => list_projects(host, payload).await,
        "generateSecret" => generate_secret(host).await,
        "reregisterWebhook" => reregister_webhook(host).await,
        "getHealth" => get_health(host).await,
        "retryDeadLetter" => retry_dead_letter(host, payload).await,
        "syncNow" => sync_now(host).await,
        _ => Err(AdminError::new(
            "UNKNOWN_FUNCTION",
            "The page asked for an operation this app version does not have. Reload the page.",
        )),
    }
}

/// Confirms with Jira, as the invoking user, that they hold the `ADMINISTER` global permission.
/// Fails closed: no user, a Jira error or an unexpected answer all refuse.
pub async fn require_admin<H: Host>(host: &H, context: &Value) -> Result<(), AdminError> {
    let has_user = context
        .get("accountId")
        .and_then(Value::as_str)
        .is_some_and(|a| !a.is_empty());
    if !has_user {
        return Err(AdminError::forbidden());
    }
    let resp = host
        .jira(JiraRequest {
            method: "GET".into(),
            path: "/rest/api/3/mypermissions?permissions=ADMINISTER".into(),
            body: None,
            as_user: true,
        })
        .await
        .map_err(|e| {
            AdminError::new(
                "JIRA_UNREACHABLE",
                format!(
                    "Jira could not confirm your permissions ({}). Try again.",
                    e.code
                ),
            )
        })?;
    if resp.status == 401 || resp.status == 403 {
        return Err(AdminError::forbidden());
    }
    if !resp.is_success() {
        return Err(AdminError::new(
            "JIRA_HTTP",
            format!(
                "Jira could not confirm your permissions (HTTP {}). Try again.",
                resp.status
            ),
        ));
    }
    let admin = resp
        .body
        .pointer("/permissions/ADMINISTER/havePermission")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if admin {
        Ok(())
    } else {
        Err(AdminError::forbidden())
    }
}

// ---------------------------------------------------------------------------------------------
// Shared reads

async fn load_settings<H: Host>(host: &H) -> Result<Settings, AdminError> {
    store::load_settings(host)
        .await
        .map_err(|e| AdminError::storage(&e))
}

async fn stored_secret<H: Host>(host: &H, name: &str) -> Result<Option<String>, AdminError> {
    Ok(host
        .secret_get(name)
        .await
        .map_err(|e| AdminError::storage(&e))?
        .filter(|s| !s.is_empty()))
}

/// Stored settings and API key, or `NOT_CONFIGURED` when either the key or the project is missing.
async fn configured<H: Host>(host: &H) -> Result<(Settings, String), AdminError> {
    let settings = load_settings(host).await?;
    let key = stored_secret(host, SECRET_API_KEY).await?;
    match key {
        Some(k) if settings.project_id.is_some() => Ok((settings, k)),
        _ => Err(AdminError::new(
            "NOT_CONFIGURED",
            "Enter and save the CATAAM base URL, API key and Jira project first.",
        )),
    }
}

/// A CATAAM failure as an admin error with a specific, secret-free message.
fn cataam_error(e: &CataamError) -> AdminError {
    match e {
        CataamError::KeyRejected => AdminError {
            field: Some("apiKey".into()),
            ..AdminError::new(
                "KEY_REJECTED",
                "CATAAM rejected the API key (HTTP 401): it is wrong or was revoked. Create a new \
                 key at Org Settings → Integrations → API Keys.",
            )
        },
        CataamError::Unreachable { code } => AdminError::new(
            "UNREACHABLE",
            format!("CATAAM could not be reached at the base URL ({code})."),
        ),
        CataamError::Server { status } => AdminError::new(
            "UNREACHABLE",
            format!("CATAAM answered HTTP {status}; it may be down. Try again later."),
        ),
        CataamError::RateLimited { retry_after_s } => AdminError::new(
            "UNREACHABLE",
            format!("CATAAM is rate limiting the app; try again in {retry_after_s} s."),
        ),
        CataamError::NotFound => AdminError {
            field: Some("baseUrl".into()),
            ..AdminError::new(
                "UNREACHABLE",
                "The base URL answered, but not as the CATAAM API (HTTP 404). Check the base URL.",
            )
        },
        CataamError::BadResponse => AdminError {
            field: Some("baseUrl".into()),
            ..AdminError::new(
                "UNREACHABLE",
                "The base URL answered, but not as the CATAAM API. Check the base URL.",
            )
        },
        CataamError::Rejected { status, code } => AdminError::new(
            "CATAAM_REJECTED",
            format!("CATAAM refused the request (HTTP {status} {code})."),
        ),
    }
}

/// Records the connection state the admin just observed (`ok` / `key_rejected` / `unreachable`)
/// in the health record the sync engine maintains. Best effort: a storage failure only logs.
async fn note_connection<H: Host>(host: &H, outcome: &Result<(), CataamError>) {
    let state = match outcome {
        Ok(()) => "ok",
        Err(CataamError::KeyRejected) => "key_rejected",
        Err(e) if e.is_retryable() => "unreachable",
        Err(_) => return,
    };
    let result = async {
        let mut health = store::read_health(host).await?;
        if health.connection.as_deref() != Some(state) {
            health.connection = Some(state.to_string());
            store::put(host, store::HEALTH, &health).await?;
        }
        Ok::<(), HostError>(())
    }
    .await;
    if let Err(e) = result {
        host.log(
            LogLevel::Warn,
            "admin: could not record connection state",
            &json!({ "code": e.code }),
        );
    }
}

/// Registers the web trigger URL with CATAAM (`PUT /api/v1/integrations/jira-forge/webhook`).
async fn register_webhook<H: Host>(
    host: &H,
    base_url: &str,
    api_key: &str,
) -> Result<Value, AdminError> {
    let url = host.web_trigger_url().await.map_err(|e| {
        AdminError::new(
            "WEBTRIGGER_URL",
            format!("Forge did not give the app its webhook URL ({}).", e.code),
        )
    })?;
    let client = CataamClient::new(host, base_url, api_key);
    let result = client.put_webhook(&url).await;
    note_connection(host, &result.as_ref().map(|_| ()).map_err(Clone::clone)).await;
    match result {
        Ok(w) => Ok(json!({
            "url": w.url.unwrap_or(url),
            "registeredAt": w.registered_at,
        })),
        Err(e) => Err(cataam_error(&e)),
    }
}

// ---------------------------------------------------------------------------------------------
// Operations

async fn get_settings<H: Host>(host: &H) -> OpResult {
    let settings = load_settings(host).await?;
    let api_key_set = stored_secret(host, SECRET_API_KEY).await?.is_some();
    let secret_set = stored_secret(host, SECRET_WEBHOOK).await?.is_some();
    let url = match host.web_trigger_url().await {
        Ok(u) => Some(u),
        Err(e) => {
            host.log(
                LogLevel::Warn,
                "admin: web trigger URL unavailable",
                &json!({ "code": e.code }),
            );
            None
        }
    };
    let mut out = Map::new();
    out.insert("settings".into(), json!(settings));
    out.insert("apiKeySet".into(), json!(api_key_set));
    out.insert("webhookSecretSet".into(), json!(secret_set));
    out.insert("webTriggerUrl".into(), json!(url));
    Ok(out)
}

/// A string field of the payload: `Ok(None)` when absent or null, an error when not a string.
fn opt_str(payload: &Value, field: &str, errors: &mut Vec<FieldError>) -> Option<String> {
    match payload.get(field) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.trim().to_string()),
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(_) => {
            errors.push(FieldError::new(
                field,
                "INVALID_VALUE",
                "Enter a text value.",
            ));
            None
        }
    }
}

/// Builds the settings to save from the stored ones and the payload of `saveSettings`, plus the
/// new API key if one was typed. Collects every field error.
fn settings_from_payload(
    stored: &Settings,
    payload: &Value,
) -> Result<(Settings, Option<String>), Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut s = stored.clone();
    if !payload.is_object() {
        return Err(vec![FieldError::new(
            "settings",
            "INVALID_VALUE",
            "The page sent no settings. Reload it and try again.",
        )]);
    }
    s.base_url = opt_str(payload, "baseUrl", &mut errors).unwrap_or_default();
    s.project_id = opt_str(payload, "projectId", &mut errors).filter(|p| !p.is_empty());
    s.project_key = opt_str(payload, "projectKey", &mut errors).filter(|p| !p.is_empty());
    if let Some(t) = opt_str(payload, "issueType", &mut errors) {
        s.issue_type = t;
    } else if payload.get("issueType").is_some() {
        s.issue_type = String::new();
    }
    if let Some(v) = payload.get("minSeverity").filter(|v| !v.is_null()) {
        match serde_json::from_value::<Severity>(v.clone()) {
            Ok(sev) => s.min_severity = sev,
            Err(_) => errors.push(FieldError::new(
                "minSeverity",
                "INVALID_VALUE",
                "Choose a minimum severity.",
            )),
        }
    }
    if let Some(v) = payload.get("kinds").filter(|v| !v.is_null()) {
        match serde_json::from_value::<Vec<FindingKind>>(v.clone()) {
            Ok(kinds) => s.kinds = kinds,
            Err(_) => errors.push(FieldError::new(
                "kinds",
                "INVALID_VALUE",
                "Choose iASM findings, compliance failures, or both.",
            )),
        }
    }
    if let Some(p) = payload.get("priorities").filter(|v| !v.is_null()) {
        let Some(obj) = p.as_object() else {
            errors.push(FieldError::new(
                "priorities",
                "INVALID_VALUE",
                "Enter a Jira priority name for every severity.",
            ));
            return Err(errors);
        };
        let slots = [
            ("critical", &mut s.priorities.critical),
            ("high", &mut s.priorities.high),
            ("medium", &mut s.priorities.medium),
            ("low", &mut s.priorities.low),
            ("info", &mut s.priorities.info),
        ];
        for (name, slot) in slots {
            match obj.get(name) {
                Some(Value::String(v)) if v.chars().count() <= 255 => *slot = v.clone(),
                Some(Value::String(_)) => errors.push(FieldError::new(
                    &format!("priorities.{name}"),
                    "INVALID_VALUE",
                    "The priority name is too long.",
                )),
                None | Some(Value::Null) => {}
                Some(_) => errors.push(FieldError::new(
                    &format!("priorities.{name}"),
                    "INVALID_VALUE",
                    "Enter a Jira priority name.",
                )),
            }
        }
    }
    if let Some(v) = payload.get("secretGraceSeconds").filter(|v| !v.is_null()) {
        match v.as_u64() {
            Some(g) => s.secret_grace_seconds = g,
            None => errors.push(FieldError::new(
                "secretGraceSeconds",
                "INVALID_VALUE",
                "Enter a number of seconds.",
            )),
        }
    }
    let api_key = opt_str(payload, "apiKey", &mut errors).filter(|k| !k.is_empty());
    if let Some(k) = &api_key {
        if let Err(e) = validate_api_key(k) {
            errors.push(e);
        }
    }
    let validated = match s.validated() {
        Ok(v) => Some(v),
        Err(mut es) => {
            errors.append(&mut es);
            None
        }
    };
    match validated {
        Some(v) if errors.is_empty() => Ok((v, api_key)),
        _ => {
            // One error per field, in a stable order: the first reported wins.
            let mut seen = std::collections::BTreeSet::new();
            errors.retain(|e| seen.insert(e.field.clone()));
            Err(errors)
        }
    }
}

async fn save_settings<H: Host>(host: &H, payload: &Value) -> OpResult {
    let stored = load_settings(host).await?;
    let stored_key = stored_secret(host, SECRET_API_KEY).await?;
    let (settings, new_key) = match settings_from_payload(&stored, payload) {
        Ok(v) => v,
        Err(fields) => return Err(AdminError::validation(fields)),
    };
    let api_key = match (new_key, stored_key) {
        (Some(k), _) => {
            host.secret_set(SECRET_API_KEY, &k)
                .await
                .map_err(|e| AdminError::storage(&e))?;
            k
        }
        (None, Some(k)) => k,
        (None, None) => {
            return Err(AdminError::validation(vec![FieldError::new(
                "apiKey",
                "REQUIRED",
                "Enter a CATAAM API key (Org Settings → Integrations → API Keys).",
            )]))
        }
    };
    store::save_settings(host, &settings)
        .await
        .map_err(|e| AdminError::storage(&e))?;
    let secret_set = stored_secret(host, SECRET_WEBHOOK).await?.is_some();
    let webhook = match register_webhook(host, &settings.base_url, &api_key).await {
        Ok(mut w) => {
            w["registered"] = json!(true);
            w
        }
        Err(e) => json!({
            "registered": false,
            "error": { "code": e.code, "message": e.message },
        }),
    };
    let mut out = Map::new();
    out.insert("settings".into(), json!(settings));
    out.insert("apiKeySet".into(), json!(true));
    out.insert("webhookSecretSet".into(), json!(secret_set));
    out.insert("webhook".into(), webhook);
    Ok(out)
}

async fn test_connection<H: Host>(host: &H, payload: &Value) -> OpResult {
    let given_url = payload
        .get("baseUrl")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let base_url = match given_url {
        Some(u) => normalize_base_url(u).map_err(AdminError::field)?,
        None => load_settings(host).await?.base_url,
    };
    let given_key = payload
        .get("apiKey")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let key = match given_key {
        Some(k) => {
            validate_api_key(k).map_err(AdminError::field)?;
            k.to_string()
        }
        None => stored_secret(host, SECRET_API_KEY)
            .await?
            .ok_or_else(|| AdminError {
                field: Some("apiKey".into()),
                ..AdminError::new(
                    "NOT_CONFIGURED",
                    "Enter a CATAAM API key to test (none is saved yet).",
                )
            })?,
    };
    let client = CataamClient::new(host, &base_url, &key);
    let result = client.get_org().await;
    if given_key.is_none() && given_url.is_none() {
        // The stored configuration was tested: its state is what the health panel should show.
        note_connection(host, &result.as_ref().map(|_| ()).map_err(Clone::clone)).await;
    }
    let org = result.map_err(|e| cataam_error(&e))?;
    let mut out = Map::new();
    out.insert("org".into(), json!({ "name": org.name }));
    out.insert("baseUrl".into(), json!(base_url));
    Ok(out)
}

/// Percent-encodes a query value.
fn encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

async fn list_projects<H: Host>(host: &H, payload: &Value) -> OpResult {
    let query: String = payload
        .get("query")
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim()
        .chars()
        .take(200)
        .collect();
    let mut start_at = match payload.get("startAt") {
        None | Some(Value::Null) => 0,
        Some(v) => v
            .as_u64()
            .filter(|n| *n <= 10_000_000)
            .ok_or_else(|| AdminError::new("INVALID_INPUT", "startAt must be a page offset."))?,
    };
    let mut projects = Vec::new();
    let mut is_last = false;
    for page in 0..MAX_PROJECT_PAGES_PER_CALL {
        if page > 0 && host.remaining_ms() < PROJECT_BUDGET_MARGIN_MS {
            break;
        }
        let mut path = format!(
            "/rest/api/3/project/search?startAt={start_at}&maxResults={PROJECT_PAGE_SIZE}&orderBy=name"
        );
        if !query.is_empty() {
            path.push_str("&query=");
            path.push_str(&encode(&query));
        }
        let resp = host
            .jira(JiraRequest {
                method: "GET".into(),
                path,
                body: None,
                as_user: true,
            })
            .await
            .map_err(|e| {
                AdminError::new(
                    "JIRA_UNREACHABLE",
                    format!("Jira could not list the projects ({}). Try again.", e.code),
                )
            })?;
        if !resp.is_success() {
            return Err(AdminError::new(
                "JIRA_HTTP",
                format!(
                    "Jira could not list the projects (HTTP {}). Try again.",
                    resp.status
                ),
            ));
        }
        let values = resp
            .body
            .get("values")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let n = values.len() as u64;
        for p in values {
            let id = match p.get("id") {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Number(n)) => n.to_string(),
                _ => continue,
            };
            projects.push(json!({
                "id": id,
                "key": p.get("key").and_then(Value::as_str).unwrap_or(""),
                "name": p.get("name").and_then(Value::as_str).unwrap_or(""),
            }));
        }
        start_at += n;
        let total = resp.body.get("total").and_then(Value::as_u64);
        is_last = n == 0
            || resp
                .body
                .get("isLast")
                .and_then(Value::as_bool)
                .unwrap_or_else(|| total.is_some_and(|t| start_at >= t));
        if is_last {
            break;
        }
    }
    let mut out = Map::new();
    out.insert("projects".into(), Value::Array(projects));
    out.insert("isLast".into(), json!(is_last));
    out.insert(
        "nextStartAt".into(),
        if is_last {
            Value::Null
        } else {
            json!(start_at)
        },
    );
    Ok(out)
}

async fn generate_secret<H: Host>(host: &H) -> OpResult {
    let secret = host
        .random_hex(SECRET_BYTES)
        .await
        .map_err(|e| AdminError::new("RANDOM", format!("No randomness available ({}).", e.code)))?;
    if secret.len() != SECRET_BYTES * 2 || !secret.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AdminError::new(
            "RANDOM",
            "The platform returned unusable random bytes. Try again.",
        ));
    }
    let now = host.now_ms();
    let mut settings = load_settings(host).await?;
    let old = stored_secret(host, SECRET_WEBHOOK).await?;
    // Order for crash safety: park the old secret first, then its expiry, then the new secret.
    let previous_valid_until = match old {
        Some(old) => {
            host.secret_set(SECRET_WEBHOOK_PREVIOUS, &old)
                .await
                .map_err(|e| AdminError::storage(&e))?;
            let until = now + (settings.secret_grace_seconds as i64) * 1000;
            settings.previous_secret_expires_at = Some(until);
            Some(until)
        }
        None => {
            host.secret_delete(SECRET_WEBHOOK_PREVIOUS)
                .await
                .map_err(|e| AdminError::storage(&e))?;
            settings.previous_secret_expires_at = None;
            None
        }
    };
    store::save_settings(host, &settings)
        .await
        .map_err(|e| AdminError::storage(&e))?;
    host.secret_set(SECRET_WEBHOOK, &secret)
        .await
        .map_err(|e| AdminError::storage(&e))?;
    let mut out = Map::new();
    out.insert("secret".into(), json!(secret));
    out.insert(
        "previousSecretValidUntil".into(),
        json!(previous_valid_until),
    );
    Ok(out)
}

async fn reregister_webhook<H: Host>(host: &H) -> OpResult {
    let settings = load_settings(host).await?;
    let key = stored_secret(host, SECRET_API_KEY).await?.ok_or_else(|| {
        AdminError::new(
            "NOT_CONFIGURED",
            "Save the CATAAM base URL and API key first.",
        )
    })?;
    let w = register_webhook(host, &settings.base_url, &key).await?;
    let mut out = Map::new();
    out.insert("url".into(), w["url"].clone());
    out.insert("registeredAt".into(), w["registeredAt"].clone());
    Ok(out)
}

async fn get_health<H: Host>(host: &H) -> OpResult {
    let settings = load_settings(host).await?;
    let key_set = stored_secret(host, SECRET_API_KEY).await?.is_some();
    let secret_set = stored_secret(host, SECRET_WEBHOOK).await?.is_some();
    let health = store::read_health(host)
        .await
        .map_err(|e| AdminError::storage(&e))?;
    let activity = store::recent_activity(host)
        .await
        .map_err(|e| AdminError::storage(&e))?;
    let dead = store::list_dead_letters(host)
        .await
        .map_err(|e| AdminError::storage(&e))?;
    let configured = key_set && settings.project_id.is_some();
    let state = if !configured {
        "not_configured"
    } else {
        health
            .connection
            .as_deref()
            .filter(|s| matches!(*s, "ok" | "key_rejected" | "unreachable"))
            .unwrap_or("unknown")
    };
    let message = health
        .last_error
        .as_ref()
        .filter(|_| state != "ok" && state != "not_configured")
        .map(|e| format!("Last error: {}", e.code));
    let skipped_total: u64 = health.skipped.values().sum();
    let b = &health.backlog;
    let health_json = json!({
        "connection": { "state": state, "message": message },
        "lastPollAt": health.last_poll_at,
        "nextPollAt": health.next_poll_at,
        "lastPushAt": health.last_push_at,
        "lastError": health.last_error,
        "backlog": {
            "active": b.active,
            "done": b.processed,
            "startedAt": b.started_at,
            "finishedAt": b.finished_at,
        },
        "counts": {
            "created": health.created,
            "updated": health.updated,
            "transitioned": health.transitioned,
            "commented": health.commented,
            "cataamUpdates": health.cataam_updates,
            "adopted": health.adopted,
            "deadLettered": health.dead_lettered,
            "skipped": health.skipped,
            "skippedTotal": skipped_total,
            "errors": health.errors,
        },
        "deadLetters": dead,
        "activity": activity,
        "webhookSecretSet": secret_set,
        "projectKey": settings.project_key,
    });
    let mut out = Map::new();
    out.insert("health".into(), health_json);
    Ok(out)
}

async fn retry_dead_letter<H: Host>(host: &H, payload: &Value) -> OpResult {
    let finding_id = payload
        .get("findingId")
        .and_then(Value::as_str)
        .filter(|id| is_valid_id(id))
        .ok_or_else(|| AdminError::new("INVALID_INPUT", "findingId must be a finding id."))?
        .to_string();
    let dead: Option<store::DeadLetter> = store::get(host, &store::dead_letter(&finding_id))
        .await
        .map_err(|e| AdminError::storage(&e))?;
    if dead.is_none() {
        return Err(AdminError::new(
            "NOT_FOUND",
            "This finding is no longer a dead letter. Refresh the health panel.",
        ));
    }
    let (settings, key) = configured(host).await?;
    let report = crate::engine::Engine::new(host, settings, key)
        .run_findings(std::slice::from_ref(&finding_id))
        .await
        .map_err(|e| AdminError::new(e.code(), e.to_string()))?;
    let mut out = Map::new();
    out.insert("findingId".into(), json!(finding_id));
    out.insert("report".into(), json!(report));
    Ok(out)
}

async fn sync_now<H: Host>(host: &H) -> OpResult {
    let (settings, key) = configured(host).await?;
    let report = crate::engine::Engine::new(host, settings, key)
        .run_poll()
        .await
        .map_err(|e| AdminError::new(e.code(), e.to_string()))?;
    let mut out = Map::new();
    out.insert("report".into(), json!(report));
    Ok(out)
}
