//! Every KVS key the app uses is built here, and nowhere else.
//!
//! Data policy: values hold only ids and sync metadata (status enums, version stamps, short
//! fingerprints, cursors, locks, counters) — never titles, descriptions, asset names or logs.

/// Non-secret installation settings (`settings::Settings`).
pub const SETTINGS: &str = "settings";
/// CATAAM → Jira poll cursor (`updatedSince` high-water mark and page cursor).
pub const POLL_CURSOR: &str = "cursor:cataam";
/// Jira → CATAAM poll cursor (last `updated` seen on managed issues).
pub const JIRA_CURSOR: &str = "cursor:jira";
/// Run lock of the scheduled poll (set with "if not exists" + TTL).
pub const POLL_LOCK: &str = "lock:poll";
/// Health counters and timestamps for the admin page.
pub const HEALTH: &str = "health:stats";
/// Recent activity ring (ids and actions only).
pub const ACTIVITY: &str = "health:activity";
/// Connection state (e.g. last CATAAM auth failure code) for the admin page.
pub const CONNECTION: &str = "health:connection";
/// Prefix of finding → issue links.
pub const LINK_BY_FINDING_PREFIX: &str = "link:f:";
/// Prefix of issue → finding links.
pub const LINK_BY_ISSUE_PREFIX: &str = "link:i:";
/// Prefix of dead letters.
pub const DEAD_LETTER_PREFIX: &str = "dead:";
/// Prefix of skip records (why a finding was not ticketed).
pub const SKIP_PREFIX: &str = "skip:";

/// Link record of a finding (`link:f:<findingId>`).
pub fn link_by_finding(finding_id: &str) -> String {
    format!("{LINK_BY_FINDING_PREFIX}{finding_id}")
}

/// Reverse link of an issue (`link:i:<issueId>`).
pub fn link_by_issue(issue_id: &str) -> String {
    format!("{LINK_BY_ISSUE_PREFIX}{issue_id}")
}

/// Per-finding create lock (`lock:create:<findingId>`).
pub fn create_lock(finding_id: &str) -> String {
    format!("lock:create:{finding_id}")
}

/// Per-finding sync lock (`lock:sync:<findingId>`, with TTL): one invocation at a time writes a
/// finding's issue, finding and base, so a slower run can never store a base older than a
/// faster one's writes.
pub fn sync_lock(finding_id: &str) -> String {
    format!("lock:sync:{finding_id}")
}

/// Dead letter of a finding (`dead:<findingId>`).
pub fn dead_letter(finding_id: &str) -> String {
    format!("{DEAD_LETTER_PREFIX}{finding_id}")
}

/// Retry bookkeeping of a finding (`retry:<findingId>`).
pub fn retry(finding_id: &str) -> String {
    format!("retry:{finding_id}")
}

/// Skip record of a finding (`skip:<findingId>`): reason code only.
pub fn skip(finding_id: &str) -> String {
    format!("{SKIP_PREFIX}{finding_id}")
}

/// Seen push event id (`evt:<eventId>`, with TTL) for replay protection.
pub fn push_event(event_id: &str) -> String {
    format!("evt:{event_id}")
}

/// Pending compliance re-run of a finding (`rerun:<findingId>`).
pub fn rerun(finding_id: &str) -> String {
    format!("rerun:{finding_id}")
}

/// Takeover guard of a stale create lock (`lock:create:<findingId>:<staleAt>`): only one run may
/// take over a given stale generation.
pub fn create_lock_takeover(finding_id: &str, stale_at: i64) -> String {
    format!("lock:create:{finding_id}:{stale_at}")
}

/// Prefix of retry bookkeeping records.
pub const RETRY_PREFIX: &str = "retry:";
/// Prefix of pending compliance re-runs.
pub const RERUN_PREFIX: &str = "rerun:";

use crate::host::{Host, HostResult, SetOptions, TxOp};
use crate::jira::Category;
use crate::model::FindingStatus;
use crate::settings::Settings;
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// The stored base of a finding ↔ issue pair (`link:f:<findingId>`): ids, the last-synced
/// state of both sides, and fingerprints — never content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Link {
    /// Jira issue id.
    pub issue_id: String,
    /// Jira issue key.
    pub issue_key: String,
    /// Finding status at the last sync.
    pub finding_status: FindingStatus,
    /// Finding `updatedAt` at the last sync (version stamp).
    pub finding_version: String,
    /// Jira status category at the last sync.
    pub jira_category: Category,
    /// Whether Jira was done as "Won't Do" at the last sync.
    pub jira_wont_do: bool,
    /// Fingerprint of the owned content we last wrote.
    pub content_fp: String,
    /// Hash of the due date both sides agreed on.
    pub due_hash: String,
    /// Hash of the assignee account id both sides agreed on.
    pub assignee_hash: String,
    /// `true` when the issue no longer exists in Jira (deleted by a human).
    #[serde(default)]
    pub issue_deleted: bool,
    /// Set before the app starts a (possibly multi-hop) transition driven by this finding
    /// status, so intermediate statuses left by an interrupted run are recognised as our own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_status: Option<FindingStatus>,
    /// With `pending_status`: where the transition started (status id and status category
    /// change time, ms). An issue no longer there — or back there after a category change —
    /// tells that the transition landed, so what Jira shows beyond it is a person's change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_from: Option<(String, i64)>,
    /// With `pending_status`: intermediate statuses the walk moved (or was about to move) the
    /// issue to, recorded before each such hop. An issue in one of them is still ours.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pending_via: Vec<String>,
    /// With `pending_status`: the transition is followed by the reopen comment; the issue's
    /// status category change time before it (ms). When the transition landed but the run
    /// died, the comment is posted unless one was posted since.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_comment: Option<i64>,
    /// Set before the app patches the finding's status from Jira: the status sent, the finding
    /// `updatedAt` it was derived from, and the Jira category (and Won't Do) it mirrors. A finding
    /// whose `updatedAt` moved on since tells that the patch landed (or a newer change superseded
    /// it), so the base is what the patch made agreed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_patch: Option<PendingPatch>,
}

impl Link {
    /// Drops every write intent (`pending_*`): the state they describe is settled.
    pub fn clear_intents(&mut self) {
        self.pending_status = None;
        self.pending_from = None;
        self.pending_via.clear();
        self.pending_comment = None;
        self.pending_patch = None;
    }
}

/// A finding patch in flight (see [`Link::pending_patch`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingPatch {
    /// The status sent to CATAAM, when the patch sets one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<FindingStatus>,
    /// The finding's `updatedAt` before the patch.
    pub from_version: String,
    /// The Jira status category the patch mirrors.
    pub jira_category: Category,
    /// Whether Jira was done as "Won't Do".
    pub jira_wont_do: bool,
    /// The finding's content fingerprint before the patch: a version that moved while the
    /// status stayed and the content changed was moved by that content change (a compliance
    /// re-run's result, a scanner update), not by the patch. Absent in older intents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_content: Option<String>,
    /// The finding's status when the patch was decided (it may differ from the base's when
    /// both sides had changed and Jira's change won). Absent in older intents: the base's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_status: Option<FindingStatus>,
    /// Hash of the due date sent (see [`Link::due_hash`]), when the patch sets one: a finding
    /// showing it tells that the patch landed, so Jira's value is agreed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_hash: Option<String>,
    /// Hash of the assignee account id sent, when the patch sets one (as `due_hash`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee_hash: Option<String>,
}

/// Reverse link (`link:i:<issueId>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IssueLink {
    /// Finding id.
    pub finding_id: String,
}

/// Pending-create marker / create lock (`lock:create:<findingId>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateLock {
    /// When the create attempt started (ms); the bulk request is sent after this.
    pub at: i64,
    /// When the holder's invocation must have ended (ms): after this nobody is still creating
    /// under the lock, so a property search can decide (absent in locks of older versions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<i64>,
}

/// CATAAM poll cursor (`cursor:cataam`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PollCursor {
    /// High-water mark of fully processed scans (RFC 3339), `None` before the first full scan.
    pub since: Option<String>,
    /// `updatedSince` of the scan in progress.
    pub scan_since: Option<String>,
    /// CATAAM page cursor of the scan in progress.
    pub page: Option<String>,
    /// Highest `updatedAt` seen in the scan in progress.
    pub scan_max: Option<String>,
}

/// Jira poll cursor (`cursor:jira`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JiraCursor {
    /// Last poll start time (ms).
    pub since_ms: i64,
}

/// Retry bookkeeping (`retry:<findingId>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RetryRecord {
    /// Finding id.
    pub finding_id: String,
    /// Failed attempts so far.
    pub attempts: u32,
    /// Last error code.
    pub code: String,
    /// Earliest next attempt (ms).
    pub next_at: i64,
}

/// A dead letter (`dead:<findingId>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeadLetter {
    /// Finding id.
    pub finding_id: String,
    /// Last error code.
    pub code: String,
    /// Attempts made.
    pub attempts: u32,
    /// When it was dead-lettered (ms).
    pub at: i64,
}

/// A pending compliance re-run (`rerun:<findingId>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RerunRecord {
    /// Finding id.
    pub finding_id: String,
    /// Test id.
    pub test_id: String,
    /// Run id.
    pub run_id: String,
    /// Polls made so far.
    pub polls: u32,
    /// Start time (ms).
    pub started_at: i64,
    /// When the poll message queued for it is due (ms; 0 in older records: `started_at`). A
    /// record long overdue lost its message with the run that queued it: the scheduled poll
    /// queues it again.
    #[serde(default)]
    pub next_at: i64,
}

/// Skip record (`skip:<findingId>`): reason code only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SkipRecord {
    /// Reason code (`below_threshold`, `filtered_kind`, …).
    pub reason: String,
    /// When (ms).
    pub at: i64,
}

/// Backlog (first sync) progress.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Backlog {
    /// `true` while the first full scan is in progress.
    pub active: bool,
    /// Findings processed by the first scan so far.
    pub processed: u64,
    /// When the first scan started (ms).
    pub started_at: Option<i64>,
    /// When it finished (ms).
    pub finished_at: Option<i64>,
}

/// Health counters and timestamps (`health:stats`): numbers and codes only.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Health {
    /// Issues created.
    pub created: u64,
    /// Issues whose owned content was updated.
    pub updated: u64,
    /// Issues transitioned.
    pub transitioned: u64,
    /// Comments posted.
    pub commented: u64,
    /// CATAAM finding updates (PATCH).
    pub cataam_updates: u64,
    /// Orphans adopted.
    pub adopted: u64,
    /// Dead letters created.
    pub dead_lettered: u64,
    /// Skips by reason.
    pub skipped: BTreeMap<String, u64>,
    /// Errors by code.
    pub errors: BTreeMap<String, u64>,
    /// Last completed scheduled poll (ms).
    pub last_poll_at: Option<i64>,
    /// Expected next scheduled poll (ms).
    pub next_poll_at: Option<i64>,
    /// Last push received (ms).
    pub last_push_at: Option<i64>,
    /// Last error code and time.
    pub last_error: Option<LastError>,
    /// First-sync progress.
    pub backlog: Backlog,
    /// CATAAM connection state: `ok`, `key_rejected`, `unreachable`, or `unknown`.
    pub connection: Option<String>,
}

/// Last error seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LastError {
    /// Code.
    pub code: String,
    /// When (ms).
    pub at: i64,
}

/// One recent activity entry: ids, action and time only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Activity {
    /// Finding id.
    pub finding_id: String,
    /// Issue key, if linked.
    pub issue_key: Option<String>,
    /// Action code (`created`, `updated`, `transitioned`, `cataam_updated`, …).
    pub action: String,
    /// When (ms).
    pub at: i64,
}

/// Most activity entries kept.
pub const ACTIVITY_MAX: usize = 50;

/// Reads and deserializes a record; a malformed value reads as missing.
pub async fn get<H: Host, T: DeserializeOwned>(h: &H, key: &str) -> HostResult<Option<T>> {
    Ok(h.kvs_get(key)
        .await?
        .and_then(|v| serde_json::from_value(v).ok()))
}

/// Serializes and writes a record.
pub async fn put<H: Host, T: Serialize>(h: &H, key: &str, v: &T) -> HostResult<()> {
    let value = serde_json::to_value(v).unwrap_or(Value::Null);
    h.kvs_set(key, &value, SetOptions::default())
        .await
        .map(|_| ())
}

/// A transaction op setting a record.
pub fn set_op<T: Serialize>(key: String, v: &T) -> TxOp {
    TxOp::Set {
        key,
        value: serde_json::to_value(v).unwrap_or(Value::Null),
    }
}

/// Largest page Forge KVS allows for a query.
pub const KVS_QUERY_LIMIT: u32 = 20;

/// Lists every record under a prefix (all pages of [`KVS_QUERY_LIMIT`]).
pub async fn list<H: Host, T: DeserializeOwned>(
    h: &H,
    prefix: &str,
) -> HostResult<Vec<(String, T)>> {
    let mut out = vec![];
    let mut cursor: Option<String> = None;
    loop {
        let page = h
            .kvs_query(prefix, cursor.as_deref(), KVS_QUERY_LIMIT)
            .await?;
        for kv in page.results {
            if let Ok(v) = serde_json::from_value(kv.value) {
                out.push((kv.key, v));
            }
        }
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => return Ok(out),
        }
    }
}

/// Loads the settings (defaults when never saved).
pub async fn load_settings<H: Host>(h: &H) -> HostResult<Settings> {
    Ok(get(h, SETTINGS).await?.unwrap_or_default())
}

/// Saves the settings.
pub async fn save_settings<H: Host>(h: &H, s: &Settings) -> HostResult<()> {
    put(h, SETTINGS, s).await
}

/// Reads the health record.
pub async fn read_health<H: Host>(h: &H) -> HostResult<Health> {
    Ok(get(h, HEALTH).await?.unwrap_or_default())
}

/// Recent activity, newest first.
pub async fn recent_activity<H: Host>(h: &H) -> HostResult<Vec<Activity>> {
    Ok(get(h, ACTIVITY).await?.unwrap_or_default())
}

/// Appends activity entries (newest first, capped at [`ACTIVITY_MAX`]).
pub async fn append_activity<H: Host>(h: &H, entries: Vec<Activity>) -> HostResult<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let mut all: Vec<Activity> = entries.into_iter().rev().collect();
    all.extend(recent_activity(h).await?);
    all.truncate(ACTIVITY_MAX);
    put(h, ACTIVITY, &all).await
}

/// Every dead letter.
pub async fn list_dead_letters<H: Host>(h: &H) -> HostResult<Vec<DeadLetter>> {
    Ok(list(h, DEAD_LETTER_PREFIX)
        .await?
        .into_iter()
        .map(|(_, v)| v)
        .collect())
}

/// Records that a push was received.
pub async fn record_push_received<H: Host>(h: &H, now_ms: i64) -> HostResult<()> {
    let mut health = read_health(h).await?;
    health.last_push_at = Some(now_ms);
    put(h, HEALTH, &health).await
}

/// The value written to `link:i:<issueId>`.
pub fn issue_link_value(finding_id: &str) -> Value {
    json!({ "findingId": finding_id })
}
