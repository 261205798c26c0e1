//! Jira Cloud REST v3: the issue projection the planner reasons about, request builders and
//! response parsers (`/work/shared/jira/swagger-v3.v3.json` shapes), and classification of
//! answers. No I/O here except through the thin [`JiraClient`] over [`Host::jira`].

pub mod adf;
pub mod transitions;

use crate::host::{Host, HttpResponse, JiraRequest};
use crate::model::{Assignee, Finding};
use crate::settings::Settings;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Issue property key holding `{"findingId": "…"}` (indexed by the manifest's entity property).
pub const FINDING_PROPERTY: &str = "cataam.finding";

/// Fields requested when reading an issue's sync-relevant state.
pub const STATE_FIELDS: &str =
    "status,resolution,updated,statuscategorychangedate,duedate,assignee,labels";

/// Jira status category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    /// "To Do"-like (`new`).
    New,
    /// "In Progress"-like (`indeterminate`).
    Indeterminate,
    /// "Done"-like (`done`).
    Done,
}

impl Category {
    /// Parses Jira's `statusCategory.key` (`new`, `indeterminate`, `done`; `undefined` → new).
    pub fn from_key(key: &str) -> Category {
        match key {
            "done" => Category::Done,
            "indeterminate" => Category::Indeterminate,
            _ => Category::New,
        }
    }
}

/// A Jira user as exposed on an issue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JiraUser {
    /// Account id.
    pub account_id: String,
    /// Display name.
    pub display_name: Option<String>,
    /// E-mail when Jira exposes it (privacy settings permitting).
    pub email: Option<String>,
}

impl JiraUser {
    /// As a CATAAM assignee.
    pub fn to_assignee(&self) -> Assignee {
        Assignee {
            account_id: self.account_id.clone(),
            display_name: self.display_name.clone(),
            email: self.email.clone(),
        }
    }
}

/// The sync-relevant projection of a Jira issue (read fresh on every reconcile; never stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueState {
    /// Issue id.
    pub id: String,
    /// Issue key.
    pub key: String,
    /// Current status id.
    pub status_id: String,
    /// Current status name.
    pub status_name: String,
    /// Current status category.
    pub category: Category,
    /// Resolution name, if resolved.
    pub resolution: Option<String>,
    /// Last update, ms since epoch.
    pub updated_ms: i64,
    /// Last status category change (`statuscategorychangedate`), ms since epoch; 0 if absent.
    pub status_changed_ms: i64,
    /// Due date `YYYY-MM-DD`.
    pub due_date: Option<String>,
    /// Assignee.
    pub assignee: Option<JiraUser>,
    /// Labels.
    pub labels: Vec<String>,
}

impl IssueState {
    /// `true` when the issue is done as "Won't Do" (resolution or status name).
    pub fn is_wont_do(&self) -> bool {
        self.category == Category::Done
            && (is_wont_do_name(&self.status_name)
                || self.resolution.as_deref().is_some_and(is_wont_do_name))
    }

    /// Parses `GET /rest/api/3/issue/{id}` (or a search hit) with [`STATE_FIELDS`].
    pub fn from_json(v: &Value) -> Option<IssueState> {
        let f = v.get("fields")?;
        let status = f.get("status")?;
        let assignee = f.get("assignee").filter(|a| !a.is_null()).and_then(|a| {
            Some(JiraUser {
                account_id: a.get("accountId")?.as_str()?.to_string(),
                display_name: a
                    .get("displayName")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                email: a
                    .get("emailAddress")
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string),
            })
        });
        Some(IssueState {
            id: v.get("id")?.as_str()?.to_string(),
            key: v
                .get("key")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            status_id: status
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            status_name: status
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            category: Category::from_key(
                status
                    .pointer("/statusCategory/key")
                    .and_then(Value::as_str)
                    .unwrap_or("new"),
            ),
            resolution: f
                .pointer("/resolution/name")
                .and_then(Value::as_str)
                .map(str::to_string),
            updated_ms: f
                .get("updated")
                .and_then(Value::as_str)
                .and_then(parse_time_ms)
                .unwrap_or(0),
            status_changed_ms: f
                .get("statuscategorychangedate")
                .and_then(Value::as_str)
                .and_then(parse_time_ms)
                .unwrap_or(0),
            due_date: f.get("duedate").and_then(Value::as_str).map(str::to_string),
            assignee,
            labels: f
                .get("labels")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default(),
        })
    }
}

/// `true` for "Won't Do" spelled in the usual ways.
pub fn is_wont_do_name(s: &str) -> bool {
    let n: String = s
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    n == "wontdo" || n == "wontfix"
}

/// Parses RFC 3339 and Jira's `2026-01-02T03:04:05.678+0000` into ms since epoch.
pub fn parse_time_ms(s: &str) -> Option<i64> {
    use time::format_description::well_known::Rfc3339;
    let parse = |t: &str| {
        time::OffsetDateTime::parse(t, &Rfc3339)
            .ok()
            .map(|d| (d.unix_timestamp_nanos() / 1_000_000) as i64)
    };
    if let Some(ms) = parse(s) {
        return Some(ms);
    }
    // Jira writes the offset without a colon: +0000 → +00:00.
    let b = s.as_bytes();
    if b.len() > 5 && (b[b.len() - 5] == b'+' || b[b.len() - 5] == b'-') {
        let (head, off) = s.split_at(s.len() - 5);
        return parse(&format!("{head}{}:{}", &off[..3], &off[3..]));
    }
    None
}

/// Formats ms since epoch as RFC 3339 UTC with milliseconds.
pub fn format_time_ms(ms: i64) -> String {
    use time::format_description::well_known::Rfc3339;
    time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .ok()
        .and_then(|d| d.format(&Rfc3339).ok())
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".into())
}

/// Why a Jira call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JiraError {
    /// 429: retry after this many seconds.
    RateLimited {
        /// `Retry-After` seconds.
        retry_after_s: u32,
    },
    /// 5xx: retry later.
    Server {
        /// HTTP status.
        status: u16,
    },
    /// Network error / timeout.
    Unreachable {
        /// Host error code.
        code: String,
    },
    /// 404: the issue (or resource) does not exist or is not visible.
    NotFound,
    /// Another 4xx (e.g. invalid project, issue type or field): not retryable.
    Rejected {
        /// HTTP status.
        status: u16,
    },
    /// The answer did not have the expected shape.
    BadResponse,
}

impl JiraError {
    /// `true` when trying again later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            JiraError::RateLimited { .. }
                | JiraError::Server { .. }
                | JiraError::Unreachable { .. }
        )
    }

    /// Stable code.
    pub fn code(&self) -> &'static str {
        match self {
            JiraError::RateLimited { .. } => "JIRA_RATE_LIMITED",
            JiraError::Server { .. } => "JIRA_HTTP",
            JiraError::Unreachable { .. } => "JIRA_UNREACHABLE",
            JiraError::NotFound => "JIRA_NOT_FOUND",
            JiraError::Rejected { .. } => "JIRA_REJECTED",
            JiraError::BadResponse => "JIRA_BAD_RESPONSE",
        }
    }

    /// Suggested retry delay for rate limits.
    pub fn retry_after_s(&self) -> Option<u32> {
        match self {
            JiraError::RateLimited { retry_after_s } => Some(*retry_after_s),
            _ => None,
        }
    }
}

impl std::fmt::Display for JiraError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JiraError::RateLimited { retry_after_s } => {
                write!(f, "Jira rate limit, retry after {retry_after_s} s")
            }
            JiraError::Server { status } => write!(f, "Jira answered HTTP {status}"),
            JiraError::Unreachable { code } => write!(f, "Jira unreachable ({code})"),
            JiraError::NotFound => write!(f, "Jira resource not found"),
            JiraError::Rejected { status } => write!(f, "Jira rejected the request: HTTP {status}"),
            JiraError::BadResponse => write!(f, "Jira answer has an unexpected shape"),
        }
    }
}

impl std::error::Error for JiraError {}

/// Classifies a Jira answer.
pub fn classify(resp: &HttpResponse) -> Result<(), JiraError> {
    match resp.status {
        200..=299 => Ok(()),
        404 => Err(JiraError::NotFound),
        429 => Err(JiraError::RateLimited {
            retry_after_s: crate::cataam::retry_after_seconds(resp, 30),
        }),
        500..=599 => Err(JiraError::Server {
            status: resp.status,
        }),
        s => Err(JiraError::Rejected { status: s }),
    }
}

/// Everything needed to create one issue (the element of a bulk create).
#[derive(Debug, Clone, PartialEq)]
pub struct NewIssue {
    /// Finding id (written as the `cataam.finding` property).
    pub finding_id: String,
    /// `issueUpdates[]` element.
    pub body: Value,
}

/// Builds the create element for a finding (fields + `properties` in the same request).
pub fn new_issue(f: &Finding, settings: &Settings) -> NewIssue {
    let content = adf::render(f);
    let mut fields = json!({
        "project": { "id": settings.project_id.clone().unwrap_or_default() },
        "issuetype": { "name": settings.issue_type },
        "summary": content.summary,
        "description": content.description,
        "labels": content.labels,
        "priority": { "name": settings.priorities.for_severity(f.severity) },
    });
    if let Some(d) = &f.due_date {
        fields["duedate"] = json!(d);
    }
    NewIssue {
        finding_id: f.id.clone(),
        body: json!({
            "fields": fields,
            "properties": [{ "key": FINDING_PROPERTY, "value": { "findingId": f.id } }],
        }),
    }
}

/// Outcome of one element of a bulk create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BulkOutcome {
    /// Created.
    Created {
        /// Issue id.
        id: String,
        /// Issue key.
        key: String,
    },
    /// Failed with this HTTP-like status.
    Failed {
        /// Element status (400 invalid, 5xx server…).
        status: u16,
    },
}

/// Maps a `POST /rest/api/3/issue/bulk` answer (`CreatedIssues`) onto the `n` sent elements:
/// failures by `failedElementNumber`, successes in order of the remaining elements.
pub fn parse_bulk(body: &Value, n: usize) -> Vec<BulkOutcome> {
    let mut out: Vec<Option<BulkOutcome>> = vec![None; n];
    if let Some(errs) = body.get("errors").and_then(Value::as_array) {
        for e in errs {
            let idx = e.get("failedElementNumber").and_then(Value::as_u64);
            let status = e.get("status").and_then(Value::as_u64).unwrap_or(400) as u16;
            if let Some(i) = idx.map(|i| i as usize).filter(|i| *i < n) {
                out[i] = Some(BulkOutcome::Failed { status });
            }
        }
    }
    let mut created = body
        .get("issues")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
        .into_iter();
    for slot in out.iter_mut().filter(|s| s.is_none()) {
        *slot = created.next().and_then(|c| {
            Some(BulkOutcome::Created {
                id: c.get("id")?.as_str()?.to_string(),
                key: c
                    .get("key")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
            })
        });
    }
    out.into_iter()
        .map(|o| o.unwrap_or(BulkOutcome::Failed { status: 500 }))
        .collect()
}

/// Builds a JQL string literal.
pub fn jql_string(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// JQL finding an issue by its `cataam.finding` property.
pub fn jql_by_finding(finding_id: &str) -> String {
    format!(
        "issue.property[{FINDING_PROPERTY}].findingId = {}",
        jql_string(finding_id)
    )
}

/// JQL finding the issues of any of these findings by property (one search per create batch).
pub fn jql_by_findings(finding_ids: &[&str]) -> String {
    let list: Vec<String> = finding_ids.iter().map(|i| jql_string(i)).collect();
    format!(
        "issue.property[{FINDING_PROPERTY}].findingId IN ({})",
        list.join(", ")
    )
}

/// JQL of managed issues updated since `since_ms` (it is `now_ms`), oldest first.
///
/// The bound is a period relative to now (`"-17m"`, rounded up to whole minutes), not a date:
/// Jira reads an absolute JQL date as wall-clock time in the app user's time zone, which the app
/// does not know, so on a site west of UTC a UTC date would lie hours in the future.
pub fn jql_managed_updated_since(since_ms: i64, now_ms: i64) -> String {
    let minutes = ((now_ms - since_ms).max(0) + 59_999) / 60_000;
    format!(
        "issue.property[{FINDING_PROPERTY}].findingId IS NOT EMPTY AND updated >= \"-{}m\" ORDER BY updated ASC",
        minutes.max(1)
    )
}

/// A search hit: the state plus the finding id from the property (when requested).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchHit {
    /// Issue state.
    pub state: IssueState,
    /// `cataam.finding.findingId`, when the property was returned.
    pub finding_id: Option<String>,
}

/// Parses a `search/jql` answer into hits and the next page token.
pub fn parse_search(body: &Value) -> (Vec<SearchHit>, Option<String>) {
    let hits = body
        .get("issues")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|i| {
                    let state = IssueState::from_json(i)?;
                    let finding_id = i
                        .pointer("/properties/cataam.finding/findingId")
                        .and_then(Value::as_str)
                        .map(str::to_string);
                    Some(SearchHit { state, finding_id })
                })
                .collect()
        })
        .unwrap_or_default();
    let next = body
        .get("nextPageToken")
        .and_then(Value::as_str)
        .map(str::to_string);
    (hits, next)
}

/// Thin Jira client over the host, counting requests.
pub struct JiraClient<'h, H: Host> {
    host: &'h H,
    requests: std::cell::Cell<u32>,
}

impl<'h, H: Host> JiraClient<'h, H> {
    /// Wraps a host.
    pub fn new(host: &'h H) -> Self {
        Self {
            host,
            requests: std::cell::Cell::new(0),
        }
    }

    /// Requests sent so far.
    pub fn request_count(&self) -> u32 {
        self.requests.get()
    }

    /// Sends a request as the app and classifies the answer.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Result<HttpResponse, JiraError> {
        self.requests.set(self.requests.get() + 1);
        let resp = self
            .host
            .jira(JiraRequest {
                method: method.into(),
                path: path.into(),
                body,
                as_user: false,
            })
            .await
            .map_err(|e| JiraError::Unreachable { code: e.code })?;
        classify(&resp)?;
        Ok(resp)
    }

    /// Reads an issue's sync state.
    pub async fn get_issue(&self, id: &str) -> Result<IssueState, JiraError> {
        Ok(self.get_issue_with_finding(id).await?.state)
    }

    /// Reads an issue with its `cataam.finding` property (read-after-write confirmation).
    pub async fn get_issue_with_finding(&self, id: &str) -> Result<SearchHit, JiraError> {
        let resp = self
            .send(
                "GET",
                &format!(
                    "/rest/api/3/issue/{}?fields={STATE_FIELDS}&properties={FINDING_PROPERTY}",
                    enc(id)
                ),
                None,
            )
            .await?;
        let state = IssueState::from_json(&resp.body).ok_or(JiraError::BadResponse)?;
        let finding_id = resp
            .body
            .pointer("/properties/cataam.finding/findingId")
            .and_then(Value::as_str)
            .map(str::to_string);
        Ok(SearchHit { state, finding_id })
    }

    /// `POST /rest/api/3/issue/bulk` (≤ 50 elements).
    pub async fn bulk_create(&self, items: &[NewIssue]) -> Result<Vec<BulkOutcome>, JiraError> {
        let body =
            json!({ "issueUpdates": items.iter().map(|i| i.body.clone()).collect::<Vec<_>>() });
        match self
            .send("POST", "/rest/api/3/issue/bulk", Some(body))
            .await
        {
            Ok(resp) => Ok(parse_bulk(&resp.body, items.len())),
            // Jira answers 400 with the same body when every element failed.
            Err(JiraError::Rejected { status: 400 }) => {
                Ok(vec![BulkOutcome::Failed { status: 400 }; items.len()])
            }
            Err(e) => Err(e),
        }
    }

    /// `POST /rest/api/3/search/jql` with the state fields and the finding property.
    pub async fn search(
        &self,
        jql: &str,
        next_page_token: Option<&str>,
        max_results: u32,
    ) -> Result<(Vec<SearchHit>, Option<String>), JiraError> {
        let mut body = json!({
            "jql": jql,
            "maxResults": max_results,
            "fields": STATE_FIELDS.split(',').collect::<Vec<_>>(),
            "properties": [FINDING_PROPERTY],
        });
        if let Some(t) = next_page_token {
            body["nextPageToken"] = json!(t);
        }
        let resp = self
            .send("POST", "/rest/api/3/search/jql", Some(body))
            .await?;
        Ok(parse_search(&resp.body))
    }

    /// `PUT /rest/api/3/issue/{id}` with `fields` and `update`.
    pub async fn edit_issue(&self, id: &str, body: Value) -> Result<(), JiraError> {
        self.send(
            "PUT",
            &format!("/rest/api/3/issue/{}?notifyUsers=false", enc(id)),
            Some(body),
        )
        .await
        .map(|_| ())
    }

    /// `POST /rest/api/3/issue/{id}/comment` with an ADF body.
    pub async fn add_comment(&self, id: &str, adf_body: Value) -> Result<(), JiraError> {
        self.send(
            "POST",
            &format!("/rest/api/3/issue/{}/comment", enc(id)),
            Some(json!({ "body": adf_body })),
        )
        .await
        .map(|_| ())
    }

    /// `true` when one of the issue's 50 newest comments was created at or after `since_ms` and
    /// its body contains `text` (`GET /rest/api/3/issue/{id}/comment?orderBy=-created`).
    pub async fn has_comment_since(
        &self,
        id: &str,
        since_ms: i64,
        text: &str,
    ) -> Result<bool, JiraError> {
        let resp = self
            .send(
                "GET",
                &format!(
                    "/rest/api/3/issue/{}/comment?orderBy=-created&maxResults=50",
                    enc(id)
                ),
                None,
            )
            .await?;
        let comments = resp.body.get("comments").and_then(Value::as_array);
        Ok(comments.into_iter().flatten().any(|c| {
            let created = c
                .get("created")
                .and_then(Value::as_str)
                .and_then(parse_time_ms)
                .unwrap_or(0);
            created >= since_ms
                && c.get("body")
                    .is_some_and(|b| adf::plain_text(b).contains(text))
        }))
    }

    /// `GET /rest/api/3/issue/{id}/transitions?expand=transitions.fields`.
    pub async fn get_transitions(
        &self,
        id: &str,
    ) -> Result<Vec<transitions::Transition>, JiraError> {
        let resp = self
            .send(
                "GET",
                &format!(
                    "/rest/api/3/issue/{}/transitions?expand=transitions.fields",
                    enc(id)
                ),
                None,
            )
            .await?;
        Ok(transitions::parse_transitions(&resp.body))
    }

    /// `POST /rest/api/3/issue/{id}/transitions`.
    pub async fn do_transition(&self, id: &str, body: Value) -> Result<(), JiraError> {
        self.send(
            "POST",
            &format!("/rest/api/3/issue/{}/transitions", enc(id)),
            Some(body),
        )
        .await
        .map(|_| ())
    }
}

fn enc(s: &str) -> String {
    crate::cataam::encode_component(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_jira_poll_bound_is_a_period_rounded_up_to_whole_minutes() {
        let jql = |since, now| jql_managed_updated_since(since, now);
        let now = 1_800_000_000_000;
        assert_eq!(
            jql(now - 17 * 60_000, now),
            "issue.property[cataam.finding].findingId IS NOT EMPTY AND updated >= \"-17m\" ORDER BY updated ASC"
        );
        // Rounded up, so the bound never starts after `since`; never less than a minute.
        assert!(jql(now - 17 * 60_000 - 1, now).contains("\"-18m\""));
        assert!(jql(now - 1, now).contains("\"-1m\""));
        assert!(jql(now, now).contains("\"-1m\""));
        assert!(jql(now + 5_000, now).contains("\"-1m\""));
    }
}
