//! CATAAM REST client: request builders for every contract endpoint (`docs/internals.md`), and
//! classification of the answers into [`CataamError`]s the engine can act on.
//!
//! All I/O goes through [`Host::cataam`]; this module only builds requests (with
//! `Authorization: Bearer <key>`) and parses answers. Error values never carry the key or any
//! finding content.

use crate::host::{CataamRequest, Host, HostError, HttpResponse};
use crate::model::{Assignee, Finding, FindingStatus};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// Why a CATAAM call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CataamError {
    /// 401: the API key is missing, unknown or revoked. The admin must enter a new key.
    KeyRejected,
    /// 429: rate limited; retry after this many seconds.
    RateLimited {
        /// `Retry-After` in seconds (default 30 when absent).
        retry_after_s: u32,
    },
    /// 5xx answer: CATAAM failed; retry later with back-off.
    Server {
        /// HTTP status.
        status: u16,
    },
    /// Network error or timeout: CATAAM could not be reached; retry later.
    Unreachable {
        /// Host error code (`NETWORK`, `TIMEOUT`, …).
        code: String,
    },
    /// 404 `NOT_FOUND`.
    NotFound,
    /// Another 4xx answer (not retryable).
    Rejected {
        /// HTTP status.
        status: u16,
        /// CATAAM error code from the body, if any.
        code: String,
    },
    /// A 2xx answer whose body does not match the contract.
    BadResponse,
}

impl CataamError {
    /// `true` when trying again later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            CataamError::RateLimited { .. }
                | CataamError::Server { .. }
                | CataamError::Unreachable { .. }
        )
    }

    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            CataamError::KeyRejected => "KEY_REJECTED",
            CataamError::RateLimited { .. } => "CATAAM_RATE_LIMITED",
            CataamError::Server { .. } => "CATAAM_HTTP",
            CataamError::Unreachable { .. } => "CATAAM_UNREACHABLE",
            CataamError::NotFound => "CATAAM_NOT_FOUND",
            CataamError::Rejected { .. } => "CATAAM_REJECTED",
            CataamError::BadResponse => "CATAAM_BAD_RESPONSE",
        }
    }

    /// Suggested retry delay in seconds for retryable errors.
    pub fn retry_after_s(&self) -> Option<u32> {
        match self {
            CataamError::RateLimited { retry_after_s } => Some(*retry_after_s),
            _ => None,
        }
    }
}

impl std::fmt::Display for CataamError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CataamError::KeyRejected => write!(f, "CATAAM rejected the API key"),
            CataamError::RateLimited { retry_after_s } => {
                write!(f, "CATAAM rate limit, retry after {retry_after_s} s")
            }
            CataamError::Server { status } => write!(f, "CATAAM answered HTTP {status}"),
            CataamError::Unreachable { code } => write!(f, "CATAAM unreachable ({code})"),
            CataamError::NotFound => write!(f, "CATAAM resource not found"),
            CataamError::Rejected { status, code } => {
                write!(f, "CATAAM rejected the request: HTTP {status} {code}")
            }
            CataamError::BadResponse => write!(f, "CATAAM answer does not match the contract"),
        }
    }
}

impl std::error::Error for CataamError {}

/// Parses `Retry-After` (seconds form) with a default.
pub fn retry_after_seconds(resp: &HttpResponse, default_s: u32) -> u32 {
    resp.header("retry-after")
        .and_then(|v| v.trim().parse::<u32>().ok())
        .unwrap_or(default_s)
        .min(900)
}

/// Classifies an HTTP answer: `Ok` for 2xx, the matching [`CataamError`] otherwise.
pub fn classify(resp: &HttpResponse) -> Result<(), CataamError> {
    match resp.status {
        200..=299 => Ok(()),
        401 => Err(CataamError::KeyRejected),
        404 => Err(CataamError::NotFound),
        429 => Err(CataamError::RateLimited {
            retry_after_s: retry_after_seconds(resp, 30),
        }),
        500..=599 => Err(CataamError::Server {
            status: resp.status,
        }),
        s => Err(CataamError::Rejected {
            status: s,
            code: resp
                .body
                .pointer("/error/code")
                .and_then(Value::as_str)
                .unwrap_or("")
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                .take(40)
                .collect(),
        }),
    }
}

/// Classifies a transport failure.
pub fn classify_host_error(e: &HostError) -> CataamError {
    CataamError::Unreachable {
        code: e.code.clone(),
    }
}

/// One page of `GET /api/v1/findings`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FindingsPage {
    /// Findings ordered by `(updatedAt, id)`.
    pub items: Vec<Finding>,
    /// Cursor of the next page, `None` at the end.
    #[serde(default)]
    pub next_cursor: Option<String>,
}

/// `GET /api/v1/org` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Org {
    /// Organisation id.
    pub id: String,
    /// Organisation name.
    pub name: String,
}

/// Compliance run status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RunStatus {
    /// Still running.
    Running,
    /// The control passes.
    Pass,
    /// The control still fails.
    Fail,
}

/// A compliance test run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ComplianceRun {
    /// Run id.
    pub run_id: String,
    /// Test id.
    pub test_id: String,
    /// Status.
    pub status: RunStatus,
    /// Logs (failure output), if any.
    #[serde(default)]
    pub logs: Option<String>,
    /// Start time.
    #[serde(default)]
    pub started_at: Option<String>,
    /// Finish time.
    #[serde(default)]
    pub finished_at: Option<String>,
}

/// Webhook registration state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Webhook {
    /// Registered URL.
    #[serde(default)]
    pub url: Option<String>,
    /// Registration time.
    #[serde(default)]
    pub registered_at: Option<String>,
    /// Whether a shared secret is set on the CATAAM side (only in `GET`).
    #[serde(default)]
    pub shared_secret_set: Option<bool>,
}

/// A `PATCH /api/v1/findings/{id}` body; `None` fields are not sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FindingPatch {
    /// New status.
    pub status: Option<FindingStatus>,
    /// New due date (`Some(None)` clears it).
    pub due_date: Option<Option<String>>,
    /// New assignee (`Some(None)` clears it).
    pub assigned_to: Option<Option<Assignee>>,
}

impl FindingPatch {
    /// `true` when nothing would be sent.
    pub fn is_empty(&self) -> bool {
        self.status.is_none() && self.due_date.is_none() && self.assigned_to.is_none()
    }

    /// The JSON body.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        if let Some(s) = self.status {
            m.insert("status".into(), json!(s));
        }
        if let Some(d) = &self.due_date {
            m.insert("dueDate".into(), json!(d));
        }
        if let Some(a) = &self.assigned_to {
            m.insert("assignedTo".into(), json!(a));
        }
        Value::Object(m)
    }
}

/// Percent-encodes one path segment or query value.
pub fn encode_component(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// CATAAM API client bound to a host, base URL and API key.
pub struct CataamClient<'h, H: Host> {
    host: &'h H,
    base_url: String,
    api_key: String,
    requests: std::cell::Cell<u32>,
}

impl<'h, H: Host> CataamClient<'h, H> {
    /// Builds a client; `base_url` without trailing slash is expected (one is trimmed).
    pub fn new(host: &'h H, base_url: &str, api_key: &str) -> Self {
        Self {
            host,
            base_url: base_url.trim_end_matches('/').to_string(),
            api_key: api_key.to_string(),
            requests: std::cell::Cell::new(0),
        }
    }

    /// Number of requests sent so far.
    pub fn request_count(&self) -> u32 {
        self.requests.get()
    }

    /// Builds a request with auth headers.
    pub fn request(
        &self,
        method: &str,
        path_and_query: &str,
        body: Option<Value>,
    ) -> CataamRequest {
        let mut headers = vec![
            (
                "Authorization".to_string(),
                format!("Bearer {}", self.api_key),
            ),
            ("Accept".to_string(), "application/json".to_string()),
        ];
        if body.is_some() {
            headers.push(("Content-Type".to_string(), "application/json".to_string()));
        }
        CataamRequest {
            method: method.to_string(),
            url: format!("{}{}", self.base_url, path_and_query),
            headers,
            body,
        }
    }

    async fn send(&self, req: CataamRequest) -> Result<HttpResponse, CataamError> {
        self.requests.set(self.requests.get() + 1);
        let resp = self
            .host
            .cataam(req)
            .await
            .map_err(|e| classify_host_error(&e))?;
        classify(&resp)?;
        Ok(resp)
    }

    fn parse<T: for<'de> Deserialize<'de>>(resp: HttpResponse) -> Result<T, CataamError> {
        serde_json::from_value(resp.body).map_err(|_| CataamError::BadResponse)
    }

    /// `GET /api/v1/org` (connection test).
    pub async fn get_org(&self) -> Result<Org, CataamError> {
        Self::parse(self.send(self.request("GET", "/api/v1/org", None)).await?)
    }

    /// `GET /api/v1/findings` with optional `updatedSince`, `cursor` and `limit`.
    pub async fn list_findings(
        &self,
        updated_since: Option<&str>,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<FindingsPage, CataamError> {
        let mut q = vec![format!("limit={}", limit.clamp(1, 200))];
        if let Some(s) = updated_since {
            q.push(format!("updatedSince={}", encode_component(s)));
        }
        if let Some(c) = cursor {
            q.push(format!("cursor={}", encode_component(c)));
        }
        let path = format!("/api/v1/findings?{}", q.join("&"));
        Self::parse(self.send(self.request("GET", &path, None)).await?)
    }

    /// `GET /api/v1/findings/{id}`.
    pub async fn get_finding(&self, id: &str) -> Result<Finding, CataamError> {
        let path = format!("/api/v1/findings/{}", encode_component(id));
        Self::parse(self.send(self.request("GET", &path, None)).await?)
    }

    /// `PATCH /api/v1/findings/{id}`; answers the updated finding.
    pub async fn patch_finding(
        &self,
        id: &str,
        patch: &FindingPatch,
    ) -> Result<Finding, CataamError> {
        let path = format!("/api/v1/findings/{}", encode_component(id));
        Self::parse(
            self.send(self.request("PATCH", &path, Some(patch.to_json())))
                .await?,
        )
    }

    /// `POST /api/v1/compliance-tests/{testId}/runs`: starts a re-run.
    pub async fn start_run(&self, test_id: &str) -> Result<ComplianceRun, CataamError> {
        let path = format!(
            "/api/v1/compliance-tests/{}/runs",
            encode_component(test_id)
        );
        Self::parse(
            self.send(self.request("POST", &path, Some(json!({}))))
                .await?,
        )
    }

    /// `GET /api/v1/compliance-tests/{testId}/runs/{runId}`.
    pub async fn get_run(&self, test_id: &str, run_id: &str) -> Result<ComplianceRun, CataamError> {
        let path = format!(
            "/api/v1/compliance-tests/{}/runs/{}",
            encode_component(test_id),
            encode_component(run_id)
        );
        Self::parse(self.send(self.request("GET", &path, None)).await?)
    }

    /// `PUT /api/v1/integrations/jira-forge/webhook`.
    pub async fn put_webhook(&self, url: &str) -> Result<Webhook, CataamError> {
        Self::parse(
            self.send(self.request(
                "PUT",
                "/api/v1/integrations/jira-forge/webhook",
                Some(json!({ "url": url })),
            ))
            .await?,
        )
    }

    /// `GET /api/v1/integrations/jira-forge/webhook`.
    pub async fn get_webhook(&self) -> Result<Webhook, CataamError> {
        Self::parse(
            self.send(self.request("GET", "/api/v1/integrations/jira-forge/webhook", None))
                .await?,
        )
    }
}
