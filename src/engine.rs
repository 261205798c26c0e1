//! The engine: a thin driver generic over [`Host`] that feeds every trigger into one
//! level-triggered reconcile. It loads links, reads both sides fresh, asks the pure planner
//! ([`crate::plan::plan`]) what to do, executes the actions idempotently, stores the new base,
//! and keeps cursors, retries, dead letters and health. It stops with margin before the
//! invocation's time budget runs out and continues through the app's queue.
//!
//! No duplicates: an issue is only created under a per-finding create lock (`lock:create:<id>`,
//! written "if not exists" before the bulk request and removed in the same transaction that
//! stores the link). A lock without a link means a create may have happened: the engine then
//! searches the issue property `cataam.finding`, confirms a hit with a read-after-write `GET`
//! and adopts it; it only creates again once the lock's holder has ended (its recorded deadline)
//! plus the search index lag window, and the search found nothing (taking the stale lock over through a one-shot guard key).

use crate::cataam::{CataamClient, CataamError, FindingPatch};
use crate::host::{Host, HostError, LogLevel, QueueEvent, SetOptions, TxOp};
use crate::jira::transitions::{move_to, MoveError, Target};
use crate::jira::{adf, BulkOutcome, Category, IssueState, JiraClient, JiraError};
use crate::model::{Finding, FindingStatus};
use crate::plan::{self, Action, Plan, Policy, SkipReason};
use crate::settings::Settings;
use crate::store::{self, CreateLock, DeadLetter, Link, RerunRecord, RetryRecord};
use futures::future::join_all;
use serde::Serialize;
use serde_json::{json, Value};
use std::cell::RefCell;
use std::collections::BTreeMap;

/// Overlap applied to the CATAAM poll cursor (clock skew between CATAAM and the app).
pub const CURSOR_OVERLAP_MS: i64 = 120_000;
/// Stop starting new work when fewer than this many ms remain in the invocation.
pub const BUDGET_MARGIN_MS: i64 = 8_000;
/// CATAAM page size.
pub const PAGE_LIMIT: u32 = 200;
/// Findings reconciled together by the scan (several pages): creation then fills whole bulk
/// requests instead of one partial request per page.
pub const SCAN_GROUP: usize = 1_000;
/// Concurrent requests per wave.
pub const CONCURRENCY: usize = 6;
/// Bulk create size (Jira's maximum).
pub const BULK_SIZE: usize = 50;
/// Failed attempts before an item becomes a dead letter.
pub const MAX_ATTEMPTS: u32 = 6;
/// TTL of the per-finding create lock.
pub const CREATE_LOCK_TTL_S: u64 = 7 * 24 * 3600;
/// How long after its holder's end a create lock stays young: a bulk request sent just before
/// the holder died may still be processed by Jira and must then become visible to the property
/// search (Jira's index lag). After this, a lock whose search found nothing may be taken over.
pub const INDEX_LAG_MARGIN_MS: i64 = 60_000;
/// TTL of a stale-lock takeover guard: just above the longest function timeout (60 s in the
/// manifest), so the guard of a run killed mid-takeover expires instead of blocking forever.
pub const TAKEOVER_GUARD_TTL_S: u64 = 90;
/// Most finding ids in one queued retry message.
pub const RETRY_BATCH: usize = 50;
/// Longest an invocation can run (the manifest's function timeout): a create lock older than
/// this has no live holder, so a property search can tell whether its create happened.
pub const HOLDER_MAX_MS: i64 = 60_000;
/// TTL of a per-finding sync lock: above the longest invocation (60 s), so the lock of a
/// killed holder expires.
pub const SYNC_LOCK_TTL_S: u64 = 90;
/// Re-check delay for a finding another invocation is syncing.
pub const SYNC_BUSY_DELAY_S: u32 = 5;
/// Findings per pre-create orphan search (`findingId IN (…)`).
pub const ORPHAN_SEARCH_SIZE: usize = 200;
/// TTL of the scheduled poll's run lock.
pub const POLL_LOCK_TTL_S: u64 = 60;
/// Delay between compliance re-run polls.
pub const RERUN_POLL_DELAY_S: u32 = 10;
/// Polls of a compliance re-run before giving up.
pub const RERUN_MAX_POLLS: u32 = 30;
/// How long after its poll message was due a pending re-run counts as having lost it.
pub const RERUN_OVERDUE_MS: i64 = 5 * 60_000;
/// Scheduled poll interval.
pub const POLL_INTERVAL_MS: i64 = 5 * 60_000;

/// What one run did. Numbers and codes only.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunReport {
    /// Findings looked at.
    pub findings_seen: u64,
    /// Issues created.
    pub created: u64,
    /// Issues whose owned content was updated.
    pub updated: u64,
    /// Issues transitioned.
    pub transitioned: u64,
    /// Comments posted.
    pub commented: u64,
    /// CATAAM findings updated.
    pub cataam_updates: u64,
    /// Compliance re-runs started.
    pub reruns_started: u64,
    /// Skipped findings by reason.
    pub skipped: BTreeMap<String, u64>,
    /// Orphan issues adopted.
    pub adopted: u64,
    /// Items scheduled for retry.
    pub retried: u64,
    /// Items that became dead letters.
    pub dead_lettered: u64,
    /// Queue messages pushed (continuations, retries, re-run polls).
    pub queued: u64,
    /// Per-item errors by code.
    pub errors: BTreeMap<String, u64>,
    /// Jira requests sent.
    pub jira_requests: u32,
    /// CATAAM requests sent.
    pub cataam_requests: u32,
    /// The run stopped early to stay within its time budget (a continuation was queued).
    pub stopped_for_budget: bool,
}

impl RunReport {
    /// Jira + CATAAM writes (creates, updates, transitions, comments, CATAAM updates, re-runs).
    pub fn writes(&self) -> u64 {
        self.created
            + self.updated
            + self.transitioned
            + self.commented
            + self.cataam_updates
            + self.reruns_started
    }
}

/// Why a run failed as a whole (per-item failures are in the [`RunReport`] instead).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineError {
    /// No API key or no settings: the admin must finish the configuration page.
    NotConfigured,
    /// CATAAM rejected the API key: the admin must enter a new key.
    KeyRejected,
    /// CATAAM failed or could not be reached; the run will be retried.
    Cataam {
        /// Stable code (`CATAAM_HTTP`, `CATAAM_UNREACHABLE`, …).
        code: &'static str,
    },
    /// Jira failed; the run will be retried.
    Jira {
        /// Stable code.
        code: &'static str,
    },
    /// The app's storage failed; the run will be retried.
    Kvs {
        /// Host error code.
        detail: String,
    },
    /// A queue message or argument was malformed (a bug or a stale message; dropped).
    InvalidInput,
}

impl EngineError {
    /// Stable SCREAMING_SNAKE code crossing the wasm boundary.
    pub fn code(&self) -> &'static str {
        match self {
            EngineError::NotConfigured => "NOT_CONFIGURED",
            EngineError::KeyRejected => "KEY_REJECTED",
            EngineError::Cataam { code } => match *code {
                "CATAAM_UNREACHABLE" => "CATAAM_UNREACHABLE",
                _ => "CATAAM_HTTP",
            },
            EngineError::Jira { .. } => "JIRA_HTTP",
            EngineError::Kvs { .. } => "KVS",
            EngineError::InvalidInput => "INVALID_INPUT",
        }
    }
}

impl std::fmt::Display for EngineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EngineError::NotConfigured => {
                write!(f, "the app is not configured (API key or project missing)")
            }
            EngineError::KeyRejected => write!(
                f,
                "CATAAM rejected the API key; enter a new key in the settings"
            ),
            EngineError::Cataam { code } => write!(f, "CATAAM request failed ({code}); will retry"),
            EngineError::Jira { code } => write!(f, "Jira request failed ({code}); will retry"),
            EngineError::Kvs { detail } => write!(f, "storage failed ({detail}); will retry"),
            EngineError::InvalidInput => write!(f, "invalid input"),
        }
    }
}

impl std::error::Error for EngineError {}

impl From<HostError> for EngineError {
    fn from(e: HostError) -> Self {
        EngineError::Kvs { detail: e.code }
    }
}

impl From<CataamError> for EngineError {
    fn from(e: CataamError) -> Self {
        match e {
            CataamError::KeyRejected => EngineError::KeyRejected,
            other => EngineError::Cataam { code: other.code() },
        }
    }
}

/// A per-item failure.
#[derive(Debug, Clone)]
enum ItemError {
    Cataam(CataamError),
    Jira(JiraError),
    Kvs(HostError),
}

impl ItemError {
    fn code(&self) -> &'static str {
        match self {
            ItemError::Cataam(e) => e.code(),
            ItemError::Jira(e) => e.code(),
            ItemError::Kvs(_) => "KVS",
        }
    }
    fn retry_after_s(&self) -> Option<u32> {
        match self {
            ItemError::Cataam(e) => e.retry_after_s(),
            ItemError::Jira(e) => e.retry_after_s(),
            ItemError::Kvs(_) => None,
        }
    }
}

impl From<CataamError> for ItemError {
    fn from(e: CataamError) -> Self {
        ItemError::Cataam(e)
    }
}
impl From<JiraError> for ItemError {
    fn from(e: JiraError) -> Self {
        ItemError::Jira(e)
    }
}
impl From<HostError> for ItemError {
    fn from(e: HostError) -> Self {
        ItemError::Kvs(e)
    }
}
impl From<MoveError> for ItemError {
    fn from(e: MoveError) -> Self {
        match e {
            MoveError::Jira(e) => ItemError::Jira(e),
            MoveError::Storage(e) => ItemError::Kvs(e),
        }
    }
}

/// A finding paired with its stored link and current issue.
struct Item {
    finding: Finding,
    link: Option<Link>,
    issue: Option<IssueState>,
}

/// The sync engine of one installation for one invocation.
pub struct Engine<'h, H: Host> {
    host: &'h H,
    settings: Settings,
    policy: Policy,
    api_key: String,
    cataam: CataamClient<'h, H>,
    jira: JiraClient<'h, H>,
    report: RefCell<RunReport>,
    activity: RefCell<Vec<store::Activity>>,
    retries: RefCell<Vec<(String, u32)>>,
    deferred: RefCell<Vec<String>>,
    last_error: RefCell<Option<String>>,
}

impl<'h, H: Host> Engine<'h, H> {
    /// `settings` loaded by the caller from KVS; `api_key` from secret storage.
    pub fn new(host: &'h H, settings: Settings, api_key: String) -> Self {
        let cataam = CataamClient::new(host, &settings.base_url, &api_key);
        Self {
            host,
            policy: Policy::from_settings(&settings),
            settings,
            api_key,
            cataam,
            jira: JiraClient::new(host),
            report: RefCell::new(RunReport::default()),
            activity: RefCell::new(vec![]),
            retries: RefCell::new(vec![]),
            deferred: RefCell::new(vec![]),
            last_error: RefCell::new(None),
        }
    }

    fn check_configured(&self) -> Result<(), EngineError> {
        if self.api_key.trim().is_empty() || self.settings.base_url.trim().is_empty() {
            return Err(EngineError::NotConfigured);
        }
        Ok(())
    }

    /// Sets `key` only if it does not exist (with a TTL): `Ok(true)` when this run took it.
    async fn try_lock(&self, key: &str, value: &Value, ttl_s: u64) -> Result<bool, HostError> {
        self.host
            .kvs_set(
                key,
                value,
                SetOptions {
                    ttl_seconds: Some(ttl_s),
                    if_not_exists: true,
                },
            )
            .await
    }

    fn out_of_budget(&self) -> bool {
        self.host.remaining_ms() < BUDGET_MARGIN_MS
    }

    /// Scheduled poll: CATAAM → Jira from the stored cursor (with overlap), then Jira → CATAAM for
    /// managed issues updated since the last Jira poll (JQL on the indexed property), then due retries.
    pub async fn run_poll(&self) -> Result<RunReport, EngineError> {
        self.check_configured()?;
        let now = self.host.now_ms();
        let locked = self
            .try_lock(store::POLL_LOCK, &json!({ "at": now }), POLL_LOCK_TTL_S)
            .await?;
        if !locked {
            self.skip_count("poll_already_running");
            return self.finish(false).await;
        }
        let result = self.poll_inner().await;
        // A lock that cannot be released expires with its TTL.
        let _ = self.host.kvs_delete(store::POLL_LOCK).await;
        match result {
            Ok(()) => self.finish(true).await,
            Err(e) => {
                self.fail_run(&e).await;
                Err(e)
            }
        }
    }

    async fn poll_inner(&self) -> Result<(), EngineError> {
        let scan_done = self.scan_cataam().await?;
        if scan_done && !self.out_of_budget() {
            self.scan_jira().await?;
        }
        if !self.out_of_budget() {
            self.run_due_retries().await?;
        }
        if !self.out_of_budget() {
            self.requeue_lost_reruns().await?;
        }
        Ok(())
    }

    /// CATAAM → Jira scan; `Ok(true)` when the scan reached the end.
    ///
    /// Pages are reconciled in groups of up to [`SCAN_GROUP`] findings so that creation fills
    /// whole bulk requests across page boundaries. The in-memory cursor always points just past
    /// the group; it is stored only after the group is reconciled (an interrupted run re-reads
    /// the group's pages from the stored cursor).
    async fn scan_cataam(&self) -> Result<bool, EngineError> {
        let mut cursor: store::PollCursor = store::get(self.host, store::POLL_CURSOR)
            .await?
            .unwrap_or_default();
        let mut health = store::read_health(self.host).await?;
        if cursor.since.is_none()
            && cursor.page.is_none()
            && !health.backlog.active
            && health.backlog.finished_at.is_none()
        {
            health.backlog = store::Backlog {
                active: true,
                processed: 0,
                started_at: Some(self.host.now_ms()),
                finished_at: None,
            };
            store::put(self.host, store::HEALTH, &health).await?;
        }
        let mut group: Vec<Finding> = vec![];
        let mut stored = cursor.clone();
        loop {
            if self.out_of_budget() {
                self.flush_group(&mut group, &cursor, &mut stored).await?;
                self.queue_continuation(0).await?;
                return Ok(false);
            }
            if cursor.page.is_none() {
                cursor.scan_since = cursor
                    .since
                    .as_deref()
                    .and_then(crate::jira::parse_time_ms)
                    .map(|ms| crate::jira::format_time_ms(ms - CURSOR_OVERLAP_MS));
                cursor.scan_max = None;
            }
            let page = match self
                .cataam
                .list_findings(
                    cursor.scan_since.as_deref(),
                    cursor.page.as_deref(),
                    PAGE_LIMIT,
                )
                .await
            {
                Ok(p) => p,
                Err(CataamError::KeyRejected) => return Err(EngineError::KeyRejected),
                Err(e) if e.is_retryable() => {
                    self.error_count(e.code());
                    self.flush_group(&mut group, &cursor, &mut stored).await?;
                    self.queue_continuation(e.retry_after_s().unwrap_or(60))
                        .await?;
                    return Ok(false);
                }
                Err(e) => return Err(e.into()),
            };
            let page_max = page
                .items
                .iter()
                .map(|f| f.updated_at.clone())
                .max_by_key(|s| crate::jira::parse_time_ms(s).unwrap_or(0));
            group.extend(page.items);
            // Advance (in memory) past this page; stored with the group.
            if let Some(m) = page_max {
                let newer = cursor
                    .scan_max
                    .as_deref()
                    .and_then(crate::jira::parse_time_ms)
                    .unwrap_or(i64::MIN)
                    < crate::jira::parse_time_ms(&m).unwrap_or(0);
                if newer {
                    cursor.scan_max = Some(m);
                }
            }
            match page.next_cursor {
                Some(c) => cursor.page = Some(c),
                None => {
                    cursor.page = None;
                    if let Some(m) = cursor.scan_max.take() {
                        let old = cursor
                            .since
                            .as_deref()
                            .and_then(crate::jira::parse_time_ms)
                            .unwrap_or(i64::MIN);
                        if crate::jira::parse_time_ms(&m).unwrap_or(0) > old {
                            cursor.since = Some(m);
                        }
                    }
                    if cursor.since.is_none() {
                        cursor.since = Some(crate::jira::format_time_ms(self.host.now_ms()));
                    }
                    cursor.scan_since = None;
                }
            }
            if cursor.page.is_none() {
                self.flush_group(&mut group, &cursor, &mut stored).await?;
                return Ok(true);
            }
            if group.len() >= SCAN_GROUP {
                self.flush_group(&mut group, &cursor, &mut stored).await?;
            }
        }
    }

    /// Reconciles a scan group, then stores the cursor that points past it (only after the group
    /// is stored) and the backlog progress.
    async fn flush_group(
        &self,
        group: &mut Vec<Finding>,
        cursor: &store::PollCursor,
        stored: &mut store::PollCursor,
    ) -> Result<(), EngineError> {
        let findings = std::mem::take(group);
        let n = findings.len() as u64;
        if n > 0 {
            self.reconcile_findings(findings).await?;
        }
        if cursor != stored {
            store::put(self.host, store::POLL_CURSOR, cursor).await?;
            *stored = cursor.clone();
        }
        // Backlog progress is bookkeeping for the admin page: a storage fault here must not
        // fail a run whose group and cursor are already stored.
        if let Ok(mut health) = store::read_health(self.host).await {
            if health.backlog.active {
                health.backlog.processed += n;
                if cursor.page.is_none() {
                    health.backlog.active = false;
                    health.backlog.finished_at = Some(self.host.now_ms());
                }
                let _ = store::put(self.host, store::HEALTH, &health).await;
            }
        }
        Ok(())
    }

    /// Jira → CATAAM: managed issues updated since the last Jira poll.
    async fn scan_jira(&self) -> Result<(), EngineError> {
        let started = self.host.now_ms();
        let Some(cur) = store::get::<H, store::JiraCursor>(self.host, store::JIRA_CURSOR).await?
        else {
            // First poll: every managed issue was just created by the CATAAM scan.
            return Ok(store::put(
                self.host,
                store::JIRA_CURSOR,
                &store::JiraCursor { since_ms: started },
            )
            .await?);
        };
        let jql = crate::jira::jql_managed_updated_since(
            (cur.since_ms - CURSOR_OVERLAP_MS).max(0),
            started,
        );
        let mut token: Option<String> = None;
        let mut incomplete = false;
        loop {
            if self.out_of_budget() {
                return Ok(());
            }
            let (hits, next) = match self.jira.search(&jql, token.as_deref(), 100).await {
                Ok(x) => x,
                Err(e) => {
                    self.error_count(e.code());
                    return Ok(());
                }
            };
            let links = join_all(hits.iter().map(|h| {
                let k = store::link_by_issue(&h.state.id);
                async move { store::get::<H, store::IssueLink>(self.host, &k).await }
            }))
            .await;
            let mut ids = vec![];
            let mut linked = vec![];
            for (hit, link) in hits.iter().zip(links) {
                let link = match link {
                    Ok(l) => l,
                    Err(e) => {
                        // Per-item storage fault: keep the cursor so the overlap rescans it.
                        self.error_count("KVS");
                        self.host.log(
                            LogLevel::Warn,
                            "storage error",
                            &json!({ "issueId": hit.state.id, "code": e.code }),
                        );
                        incomplete = true;
                        continue;
                    }
                };
                match (link, &hit.finding_id) {
                    (Some(l), _) => linked.push((hit, l.finding_id)),
                    // An orphan carrying our property (its create's link was lost): adopt it.
                    (None, Some(fid)) => {
                        if let Err(e) = self.adopt_orphan(fid, &hit.state.id).await {
                            if matches!(e, ItemError::Cataam(CataamError::KeyRejected)) {
                                return Err(EngineError::KeyRejected);
                            }
                            self.record_failure(fid, &e).await;
                        }
                    }
                    (None, None) => {}
                }
            }
            // Only issues whose Jira-owned state differs from the base need work; a base that
            // cannot be read is reconciled (which reads it again). The bases are read together.
            let bases = join_all(linked.iter().map(|(_, fid)| {
                let k = store::link_by_finding(fid);
                async move { store::get::<H, Link>(self.host, &k).await.unwrap_or(None) }
            }))
            .await;
            for ((hit, fid), base) in linked.into_iter().zip(bases) {
                if base.is_none_or(|b| jira_side_changed(&b, &hit.state)) {
                    ids.push(fid);
                }
            }
            ids.sort();
            ids.dedup();
            self.reconcile_ids(&ids).await?;
            match next {
                Some(t) => token = Some(t),
                None => break,
            }
        }
        if incomplete {
            return Ok(());
        }
        store::put(
            self.host,
            store::JIRA_CURSOR,
            &store::JiraCursor { since_ms: started },
        )
        .await?;
        Ok(())
    }

    async fn run_due_retries(&self) -> Result<(), EngineError> {
        let now = self.host.now_ms();
        let due: Vec<String> = store::list::<H, RetryRecord>(self.host, store::RETRY_PREFIX)
            .await?
            .into_iter()
            .filter(|(_, r)| r.next_at <= now)
            .map(|(_, r)| r.finding_id)
            .collect();
        self.reconcile_ids(&due).await
    }

    /// Reconcile these findings now (push path, "sync now", dead-letter retry).
    pub async fn run_findings(&self, finding_ids: &[String]) -> Result<RunReport, EngineError> {
        self.check_configured()?;
        if finding_ids.iter().any(|i| i.is_empty() || i.len() > 200) {
            return Err(EngineError::InvalidInput);
        }
        let result = async {
            // An explicit request retries dead letters.
            let dead = join_all(finding_ids.iter().map(|id| {
                let k = store::dead_letter(id);
                async move { self.host.kvs_get(&k).await }
            }))
            .await;
            for (id, d) in finding_ids.iter().zip(dead) {
                if d?.is_some() {
                    self.host
                        .kvs_transact(&[
                            TxOp::Delete {
                                key: store::dead_letter(id),
                            },
                            TxOp::Delete {
                                key: store::retry(id),
                            },
                        ])
                        .await?;
                }
            }
            self.reconcile_ids(finding_ids).await
        }
        .await;
        self.end(result).await
    }

    /// A Jira issue event named this issue: cheap no-op (one KVS read) if it is not managed.
    pub async fn run_issue(&self, issue_id: &str) -> Result<RunReport, EngineError> {
        let link: Option<store::IssueLink> =
            store::get(self.host, &store::link_by_issue(issue_id)).await?;
        let Some(link) = link else {
            self.skip_count("unmanaged_issue");
            return Ok(self.report.borrow().clone());
        };
        self.check_configured()?;
        let result = self.reconcile_ids(&[link.finding_id]).await;
        self.end(result).await
    }

    /// A message from the app's queue (continuations, delayed retries, compliance-run polls).
    pub async fn run_queue_message(&self, body: &Value) -> Result<RunReport, EngineError> {
        match body.get("type").and_then(Value::as_str) {
            Some("continue") => self.run_poll().await,
            Some("retry") => {
                self.check_configured()?;
                let ids: Vec<String> = body
                    .get("findingIds")
                    .and_then(Value::as_array)
                    .ok_or(EngineError::InvalidInput)?
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect();
                // Items dead-lettered meanwhile stay dead until an explicit retry.
                let dead = join_all(ids.iter().map(|id| {
                    let k = store::dead_letter(id);
                    async move { self.host.kvs_get(&k).await }
                }))
                .await;
                let mut live = vec![];
                for (id, d) in ids.into_iter().zip(dead) {
                    match d {
                        Ok(Some(_)) => {}
                        // Unknown: try it (the dead-letter check only saves work).
                        Ok(None) | Err(_) => live.push(id),
                    }
                }
                let result = self.reconcile_ids(&live).await;
                match result {
                    Ok(()) => self.finish(false).await,
                    // The queue redelivers this message (every id in it): queueing this run's
                    // retries as well would double the messages on every failure.
                    Err(e) => {
                        self.retries.borrow_mut().clear();
                        self.deferred.borrow_mut().clear();
                        self.fail_run(&e).await;
                        Err(e)
                    }
                }
            }
            Some("rerun") => {
                self.check_configured()?;
                let id = body
                    .get("findingId")
                    .and_then(Value::as_str)
                    .ok_or(EngineError::InvalidInput)?;
                let result = self.poll_rerun(id).await;
                self.end(result).await
            }
            _ => Err(EngineError::InvalidInput),
        }
    }

    async fn end(&self, result: Result<(), EngineError>) -> Result<RunReport, EngineError> {
        match result {
            Ok(()) => self.finish(false).await,
            Err(e) => {
                self.fail_run(&e).await;
                Err(e)
            }
        }
    }

    // ---------------------------------------------------------------- reconcile

    /// Fetches the findings and reconciles them.
    async fn reconcile_ids(&self, ids: &[String]) -> Result<(), EngineError> {
        for chunk in ids.chunks(PAGE_LIMIT as usize) {
            if self.out_of_budget() {
                for id in chunk {
                    self.defer(id);
                }
                continue;
            }
            let mut findings = vec![];
            for wave in chunk.chunks(CONCURRENCY) {
                let got = join_all(wave.iter().map(|id| self.cataam.get_finding(id))).await;
                for (id, r) in wave.iter().zip(got) {
                    match r {
                        Ok(f) => findings.push(f),
                        Err(CataamError::KeyRejected) => return Err(EngineError::KeyRejected),
                        Err(CataamError::NotFound) => self.skip_count("finding_not_found"),
                        Err(e) => self.record_failure(id, &ItemError::Cataam(e)).await,
                    }
                }
            }
            self.reconcile_findings(findings).await?;
        }
        Ok(())
    }

    /// Reconciles a batch of findings read from CATAAM.
    async fn reconcile_findings(&self, findings: Vec<Finding>) -> Result<(), EngineError> {
        self.report.borrow_mut().findings_seen += findings.len() as u64;
        // Links.
        let mut items: Vec<Item> = vec![];
        for wave in findings.chunks(25) {
            let links = join_all(wave.iter().map(|f| {
                let k = store::link_by_finding(&f.id);
                async move { store::get::<H, Link>(self.host, &k).await }
            }))
            .await;
            for (f, l) in wave.iter().zip(links) {
                match l {
                    Ok(link) => items.push(Item {
                        finding: f.clone(),
                        link,
                        issue: None,
                    }),
                    // Per-item storage fault: retry this finding, go on with the others.
                    Err(e) => self.record_failure(&f.id, &ItemError::Kvs(e)).await,
                }
            }
        }
        // Current issues of linked findings.
        let linked: Vec<usize> = items
            .iter()
            .enumerate()
            .filter(|(_, it)| it.link.as_ref().is_some_and(|l| !l.issue_deleted))
            .map(|(i, _)| i)
            .collect();
        let mut failed = vec![false; items.len()];
        for wave in linked.chunks(CONCURRENCY) {
            if self.out_of_budget() {
                for &i in wave {
                    failed[i] = true;
                    self.defer(&items[i].finding.id);
                }
                continue;
            }
            let got = join_all(wave.iter().map(|&i| {
                let id = items[i]
                    .link
                    .as_ref()
                    .map(|l| l.issue_id.clone())
                    .unwrap_or_default();
                async move { self.jira.get_issue(&id).await }
            }))
            .await;
            for (&i, r) in wave.iter().zip(got) {
                match r {
                    Ok(s) => items[i].issue = Some(s),
                    Err(JiraError::NotFound) => {}
                    Err(e) => {
                        failed[i] = true;
                        self.record_failure(&items[i].finding.id.clone(), &ItemError::Jira(e))
                            .await;
                    }
                }
            }
        }
        let now = self.host.now_ms();
        let mut creates: Vec<Finding> = vec![];
        let mut work: Vec<(usize, Plan)> = vec![];
        for (i, it) in items.iter().enumerate() {
            if failed[i] {
                continue;
            }
            let p = plan::plan(
                &it.finding,
                it.issue.as_ref(),
                it.link.as_ref(),
                &self.policy,
                now,
            );
            if p.actions == [Action::Create] {
                creates.push(it.finding.clone());
            } else if !p.is_empty() {
                work.push((i, p));
            }
        }
        for wave in work.chunks(CONCURRENCY) {
            if self.out_of_budget() {
                for (i, _) in wave {
                    self.defer(&items[*i].finding.id);
                }
                continue;
            }
            let results =
                join_all(wave.iter().map(|(i, p)| self.execute_locked(&items[*i], p))).await;
            for ((i, _), r) in wave.iter().zip(results) {
                if let Err(e) = r {
                    if matches!(e, ItemError::Cataam(CataamError::KeyRejected)) {
                        return Err(EngineError::KeyRejected);
                    }
                    self.record_failure(&items[*i].finding.id, &e).await;
                }
            }
        }
        self.create_all(creates).await
    }

    /// Runs `work` under the finding's sync lock (one invocation at a time writes a linked
    /// finding); `Ok(None)` without running it when another invocation holds the lock. The lock
    /// is released afterwards; one that cannot be deleted expires with its TTL.
    async fn with_sync_lock<T, Fut>(
        &self,
        finding_id: &str,
        work: impl FnOnce() -> Fut,
    ) -> Result<Option<T>, ItemError>
    where
        Fut: std::future::Future<Output = Result<T, ItemError>>,
    {
        let key = store::sync_lock(finding_id);
        let now = self.host.now_ms();
        if !self
            .try_lock(&key, &json!({ "at": now }), SYNC_LOCK_TTL_S)
            .await?
        {
            self.skip_count("sync_busy");
            return Ok(None);
        }
        let result = work().await;
        let _ = self.host.kvs_delete(&key).await;
        result.map(Some)
    }

    /// Executes a plan under the finding's sync lock. Busy (another invocation is syncing the
    /// finding) → re-checked shortly. The lock taken, a base that changed since it was read
    /// means another run synced meanwhile: the plan is stale, so the finding is re-checked at
    /// once (fresh reads) instead.
    async fn execute_locked(&self, it: &Item, p: &Plan) -> Result<(), ItemError> {
        if it.link.is_none() {
            // Unlinked: only a skip record (creation has its own lock).
            return self.execute(it, p).await;
        }
        let id = &it.finding.id;
        let ran = self
            .with_sync_lock(id, || async {
                let current: Option<Link> =
                    store::get(self.host, &store::link_by_finding(id)).await?;
                if current != it.link {
                    self.skip_count("sync_stale");
                    self.schedule_retry_no_attempt(id, 1);
                    return Ok(());
                }
                self.execute(it, p).await
            })
            .await?;
        if ran.is_none() {
            self.schedule_retry_no_attempt(id, SYNC_BUSY_DELAY_S);
        }
        Ok(())
    }

    /// Executes a linked (or skip) plan.
    async fn execute(&self, it: &Item, p: &Plan) -> Result<(), ItemError> {
        let f = &it.finding;
        let mut base = p.base.clone();
        for a in &p.actions {
            match a {
                Action::Skip(r) => {
                    self.write_skip(&f.id, *r).await?;
                }
                Action::Create => {}
                Action::UpdateContent {
                    labels_add,
                    labels_remove,
                } => {
                    let (Some(link), Some(_)) = (&it.link, &it.issue) else {
                        continue;
                    };
                    let c = adf::render(f);
                    let mut ops: Vec<Value> = labels_remove
                        .iter()
                        .map(|l| json!({ "remove": l }))
                        .collect();
                    ops.extend(labels_add.iter().map(|l| json!({ "add": l })));
                    let mut body =
                        json!({ "fields": { "summary": c.summary, "description": c.description } });
                    if !ops.is_empty() {
                        body["update"] = json!({ "labels": ops });
                    }
                    self.jira.edit_issue(&link.issue_id, body).await?;
                    self.bump(|r| r.updated += 1);
                    self.note(f, &link.issue_key, "updated");
                }
                Action::Transition(target) => {
                    let (Some(link), Some(issue)) = (&it.link, &it.issue) else {
                        continue;
                    };
                    // Record the intent first, with where the issue starts from: a crash
                    // between hops must not read as a human change, and a person's change
                    // after the transition landed must not read as ours.
                    let key = store::link_by_finding(&f.id);
                    // From the base the plan started from (earlier intents resolved), never a
                    // stale intent of an earlier interrupted run.
                    let mut intent = p.start.clone().unwrap_or_else(|| link.clone());
                    intent.clear_intents();
                    intent.pending_status = Some(f.status);
                    intent.pending_from = Some((issue.status_id.clone(), issue.status_changed_ms));
                    if p.actions.iter().any(|a| matches!(a, Action::Comment(_))) {
                        intent.pending_comment = Some(issue.status_changed_ms);
                    }
                    store::put(self.host, &key, &intent).await?;
                    let intent = RefCell::new(intent);
                    let moved = move_to(
                        &self.jira,
                        &link.issue_id,
                        &issue.status_id,
                        &issue.status_name,
                        issue.category,
                        *target,
                        |via: &str| {
                            intent.borrow_mut().pending_via.push(via.to_string());
                            let v = intent.borrow().clone();
                            let k = key.clone();
                            async move { store::put(self.host, &k, &v).await }
                        },
                    )
                    .await?;
                    if moved.hops > 0 {
                        self.bump(|r| r.transitioned += 1);
                        self.note(f, &link.issue_key, "transitioned");
                    }
                    if let Some(b) = base.as_mut() {
                        b.jira_category = moved.category;
                        b.jira_wont_do = moved.category == Category::Done
                            && (crate::jira::is_wont_do_name(&moved.status_name)
                                || moved
                                    .resolution
                                    .as_deref()
                                    .is_some_and(crate::jira::is_wont_do_name));
                    }
                    if !target_reached(*target, moved.category) {
                        self.error_count("NO_TRANSITION_PATH");
                    }
                }
                Action::Comment(kind) => {
                    let Some(link) = &it.link else { continue };
                    self.jira
                        .add_comment(&link.issue_id, adf::reopen_comment(kind.text()))
                        .await?;
                    self.bump(|r| r.commented += 1);
                }
                Action::CommentUnlessPosted(kind, since) => {
                    let Some(link) = &it.link else { continue };
                    if !self
                        .jira
                        .has_comment_since(&link.issue_id, *since, kind.text())
                        .await?
                    {
                        self.jira
                            .add_comment(&link.issue_id, adf::reopen_comment(kind.text()))
                            .await?;
                        self.bump(|r| r.commented += 1);
                    }
                }
                Action::StartRerun => {
                    self.start_rerun(f).await?;
                }
                Action::PatchFinding(patch) => {
                    if let (Some(link), Some(issue)) = (&it.link, &it.issue) {
                        // Record the intent first: after a crash (or a lost answer) the finding
                        // tells whether the patch landed (`plan::resolve_intents`).
                        let mut intent = p.start.clone().unwrap_or_else(|| link.clone());
                        intent.clear_intents();
                        intent.pending_patch = Some(store::PendingPatch {
                            status: patch.status,
                            from_version: f.updated_at.clone(),
                            jira_category: issue.category,
                            jira_wont_do: issue.is_wont_do(),
                            from_content: Some(adf::fingerprint(f)),
                            from_status: Some(f.status),
                            due_hash: patch
                                .due_date
                                .as_ref()
                                .map(|d| adf::short_hash(d.as_deref())),
                            assignee_hash: patch.assigned_to.as_ref().map(|a| {
                                adf::short_hash(a.as_ref().map(|a| a.account_id.as_str()))
                            }),
                        });
                        store::put(self.host, &store::link_by_finding(&f.id), &intent).await?;
                    }
                    let updated = self.cataam.patch_finding(&f.id, patch).await?;
                    self.bump(|r| r.cataam_updates += 1);
                    self.note(
                        f,
                        it.link.as_ref().map(|l| l.issue_key.as_str()).unwrap_or(""),
                        "cataam_updated",
                    );
                    if let Some(b) = base.as_mut() {
                        b.finding_version = updated.updated_at.clone();
                        b.finding_status = updated.status;
                    }
                }
            }
        }
        if let Some(b) = base {
            store::put(self.host, &store::link_by_finding(&f.id), &b).await?;
        }
        if p.has_writes() {
            self.host.kvs_delete(&store::retry(&f.id)).await?;
        }
        Ok(())
    }

    async fn write_skip(&self, finding_id: &str, r: SkipReason) -> Result<(), HostError> {
        self.skip_count(r.code());
        store::put(
            self.host,
            &store::skip(finding_id),
            &store::SkipRecord {
                reason: r.code().into(),
                at: self.host.now_ms(),
            },
        )
        .await
    }

    // ---------------------------------------------------------------- creation

    /// Creates issues for these findings without ever duplicating one.
    async fn create_all(&self, findings: Vec<Finding>) -> Result<(), EngineError> {
        if findings.is_empty() {
            return Ok(());
        }
        let now = self.host.now_ms();
        let mut to_create: Vec<Finding> = vec![];
        for wave in findings.chunks(25) {
            if self.out_of_budget() {
                for f in wave {
                    self.defer(&f.id);
                }
                continue;
            }
            let got = join_all(wave.iter().map(|f| {
                let k = store::create_lock(&f.id);
                let v = serde_json::to_value(self.new_lock(now)).unwrap_or(Value::Null);
                async move {
                    self.host
                        .kvs_set(
                            &k,
                            &v,
                            SetOptions {
                                ttl_seconds: Some(CREATE_LOCK_TTL_S),
                                if_not_exists: true,
                            },
                        )
                        .await
                }
            }))
            .await;
            let mut acquired = vec![];
            for (f, r) in wave.iter().zip(got) {
                let won = match r {
                    Ok(w) => w,
                    Err(e) => {
                        // Unknown whether the lock was written: a stale lock is recovered later.
                        self.record_failure(&f.id, &ItemError::Kvs(e)).await;
                        continue;
                    }
                };
                if won {
                    acquired.push(f);
                } else {
                    match self.recover(f).await {
                        Ok(true) => to_create.push(f.clone()),
                        Ok(false) => {}
                        Err(e) => self.record_failure(&f.id, &e).await,
                    }
                }
            }
            // Another run may have created and linked it between our link read and our lock
            // (it writes the link and deletes the lock atomically): re-check under the lock.
            let links = join_all(acquired.iter().map(|f| {
                let k = store::link_by_finding(&f.id);
                async move { self.host.kvs_get(&k).await }
            }))
            .await;
            for (f, l) in acquired.into_iter().zip(links) {
                let l = match l {
                    Ok(l) => l,
                    Err(e) => {
                        self.release_lock(&f.id).await;
                        self.record_failure(&f.id, &ItemError::Kvs(e)).await;
                        continue;
                    }
                };
                if l.is_some() {
                    self.release_lock(&f.id).await;
                    self.skip_count("already_linked");
                } else {
                    to_create.push(f.clone());
                }
            }
        }
        let to_create = self.adopt_existing(to_create).await?;
        let batches: Vec<&[Finding]> = to_create.chunks(BULK_SIZE).collect();
        for wave in batches.chunks(4) {
            if self.out_of_budget() {
                // Nothing was sent for these: release their locks and defer them.
                for b in wave {
                    for f in b.iter() {
                        self.release_lock(&f.id).await;
                        self.defer(&f.id);
                    }
                }
                continue;
            }
            let results = join_all(wave.iter().map(|b| self.create_batch(b))).await;
            for r in results {
                r?;
            }
        }
        Ok(())
    }

    /// Before creating, looks for issues already carrying these findings' ids (state lost, an
    /// earlier install): one property search per 200 findings; hits are confirmed by `GET` and
    /// adopted. Returns the findings that still need an issue. Issues younger than the search
    /// index lag are covered by the create locks instead.
    async fn adopt_existing(&self, findings: Vec<Finding>) -> Result<Vec<Finding>, EngineError> {
        let mut remaining = vec![];
        for chunk in findings.chunks(ORPHAN_SEARCH_SIZE) {
            let ids: Vec<&str> = chunk.iter().map(|f| f.id.as_str()).collect();
            let jql = crate::jira::jql_by_findings(&ids);
            let mut found: BTreeMap<String, String> = BTreeMap::new();
            let mut token: Option<String> = None;
            let mut failed: Option<JiraError> = None;
            loop {
                match self.jira.search(&jql, token.as_deref(), 100).await {
                    Ok((hits, next)) => {
                        for h in hits {
                            if let Some(fid) = h.finding_id {
                                found.entry(fid).or_insert(h.state.id);
                            }
                        }
                        match next {
                            Some(t) => token = Some(t),
                            None => break,
                        }
                    }
                    Err(e) => {
                        failed = Some(e);
                        break;
                    }
                }
            }
            if let Some(e) = failed {
                // Unknown: release the locks and retry these later.
                for f in chunk {
                    self.release_lock(&f.id).await;
                    self.record_failure(&f.id, &ItemError::Jira(e.clone()))
                        .await;
                }
                continue;
            }
            for f in chunk {
                let Some(issue_id) = found.get(&f.id) else {
                    remaining.push(f.clone());
                    continue;
                };
                let confirmed = match self.jira.get_issue_with_finding(issue_id).await {
                    Ok(h) if h.finding_id.as_deref() == Some(f.id.as_str()) => Some(h.state),
                    Ok(_) | Err(JiraError::NotFound) => None,
                    Err(e) => {
                        self.release_lock(&f.id).await;
                        self.record_failure(&f.id, &ItemError::Jira(e)).await;
                        continue;
                    }
                };
                match confirmed {
                    Some(state) => {
                        if let Err(e) = self.adopt(f, &state).await {
                            self.record_failure(&f.id, &e).await;
                        }
                    }
                    None => remaining.push(f.clone()),
                }
            }
        }
        Ok(remaining)
    }

    /// A create lock exists without a link: adopt an orphan if one exists; `Ok(true)` when this
    /// run took the stale lock over and must create. The lock is left alone while its holder may
    /// still run (until its recorded deadline, at most [`HOLDER_MAX_MS`]; no search), then
    /// searched for an orphan, and only taken over once stale — [`INDEX_LAG_MARGIN_MS`] after
    /// the holder's end; until then the finding is re-checked later. Every path that neither
    /// adopts nor takes over schedules that re-check, so a finding is never left waiting for an
    /// unrelated trigger.
    async fn recover(&self, f: &Finding) -> Result<bool, ItemError> {
        let lock: Option<CreateLock> = store::get(self.host, &store::create_lock(&f.id)).await?;
        let now = self.host.now_ms();
        let Some(lock) = lock else {
            // The lock vanished meanwhile (another run finished or released it): look again soon.
            self.schedule_retry_no_attempt(&f.id, 1);
            return Ok(false);
        };
        let holder_gone_at = lock
            .until
            .unwrap_or(lock.at + HOLDER_MAX_MS)
            .min(lock.at + HOLDER_MAX_MS);
        if now < holder_gone_at {
            // The holder may still be running: no search yet.
            self.skip_count("create_pending");
            self.schedule_retry_no_attempt(&f.id, ((holder_gone_at - now) / 1000 + 1) as u32);
            return Ok(false);
        }
        let (hits, _) = self
            .jira
            .search(&crate::jira::jql_by_finding(&f.id), None, 5)
            .await?;
        for hit in hits {
            // Read-after-write confirmation: the issue exists and carries this finding's id.
            match self.jira.get_issue_with_finding(&hit.state.id).await {
                Ok(h) if h.finding_id.as_deref() == Some(f.id.as_str()) => {
                    self.adopt(f, &h.state).await?;
                    return Ok(false);
                }
                Ok(_) | Err(JiraError::NotFound) => {}
                Err(e) => return Err(e.into()),
            }
        }
        let stale_at = holder_gone_at + INDEX_LAG_MARGIN_MS;
        if now < stale_at {
            // Nothing found yet, but the index may still lag behind a create.
            self.skip_count("create_pending");
            self.schedule_retry_no_attempt(&f.id, ((stale_at - now) / 1000 + 1) as u32);
            return Ok(false);
        }
        // One-shot guard per stale generation. Its TTL only just exceeds the longest invocation:
        // a holder killed between the guard and the lock re-put below would otherwise leave a
        // guard nobody can win again (and the finding would never be created). A live holder
        // re-puts the lock (new generation) well within its own timeout, so the guard's expiry
        // can never let a second run take over the same generation.
        let won = self
            .try_lock(
                &store::create_lock_takeover(&f.id, lock.at),
                &json!({ "at": now }),
                TAKEOVER_GUARD_TTL_S,
            )
            .await?;
        if !won {
            // Another run is taking over: re-check after its guard would have expired.
            self.skip_count("create_pending");
            self.schedule_retry_no_attempt(&f.id, TAKEOVER_GUARD_TTL_S as u32 + 1);
            return Ok(false);
        }
        self.host
            .kvs_set(
                &store::create_lock(&f.id),
                &serde_json::to_value(self.new_lock(now)).unwrap_or(Value::Null),
                SetOptions {
                    ttl_seconds: Some(CREATE_LOCK_TTL_S),
                    if_not_exists: false,
                },
            )
            .await?;
        Ok(true)
    }

    /// Adopts an issue found carrying `finding_id` without any link, unless the finding is
    /// already linked (to another issue: that one stays the managed issue).
    async fn adopt_orphan(&self, finding_id: &str, issue_id: &str) -> Result<(), ItemError> {
        if store::get::<H, Link>(self.host, &store::link_by_finding(finding_id))
            .await?
            .is_some()
        {
            return Ok(());
        }
        let hit = match self.jira.get_issue_with_finding(issue_id).await {
            Ok(h) => h,
            Err(JiraError::NotFound) => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        if hit.finding_id.as_deref() != Some(finding_id) {
            return Ok(());
        }
        let f = self.cataam.get_finding(finding_id).await?;
        self.adopt(&f, &hit.state).await
    }

    async fn adopt(&self, f: &Finding, issue: &IssueState) -> Result<(), ItemError> {
        let base = plan::base_for_adoption(f, issue);
        self.host
            .kvs_transact(&[
                store::set_op(store::link_by_finding(&f.id), &base),
                TxOp::Set {
                    key: store::link_by_issue(&issue.id),
                    value: store::issue_link_value(&f.id),
                },
                TxOp::Delete {
                    key: store::create_lock(&f.id),
                },
            ])
            .await?;
        self.bump(|r| r.adopted += 1);
        self.note(f, &issue.key, "adopted");
        // Converge the adopted issue (owned content, status) right away.
        let it = Item {
            finding: f.clone(),
            link: Some(base.clone()),
            issue: Some(issue.clone()),
        };
        let p = plan::plan(
            f,
            Some(issue),
            Some(&base),
            &self.policy,
            self.host.now_ms(),
        );
        if !p.is_empty() {
            self.execute(&it, &p).await?;
        }
        Ok(())
    }

    async fn create_batch(&self, batch: &[Finding]) -> Result<(), EngineError> {
        let items: Vec<_> = batch
            .iter()
            .map(|f| crate::jira::new_issue(f, &self.settings))
            .collect();
        let outcomes = match self.jira.bulk_create(&items).await {
            Ok(o) => o,
            Err(e) => {
                // A 429 was refused before processing: nothing was created. Any other failure
                // has an unknown outcome: keep the locks (recovery searches before creating).
                if matches!(e, JiraError::RateLimited { .. }) {
                    for f in batch {
                        self.release_lock(&f.id).await;
                    }
                }
                for f in batch {
                    self.record_failure(&f.id, &ItemError::Jira(e.clone()))
                        .await;
                }
                return Ok(());
            }
        };
        let mut ops: Vec<TxOp> = vec![];
        let mut created = vec![];
        for (f, o) in batch.iter().zip(outcomes) {
            match o {
                BulkOutcome::Created { id, key } => {
                    let base = plan::base_after_create(f, &id, &key);
                    ops.push(store::set_op(store::link_by_finding(&f.id), &base));
                    ops.push(TxOp::Set {
                        key: store::link_by_issue(&id),
                        value: store::issue_link_value(&f.id),
                    });
                    ops.push(TxOp::Delete {
                        key: store::create_lock(&f.id),
                    });
                    ops.push(TxOp::Delete {
                        key: store::skip(&f.id),
                    });
                    ops.push(TxOp::Delete {
                        key: store::retry(&f.id),
                    });
                    created.push((f, key));
                }
                BulkOutcome::Failed { status } => {
                    // The element was not created: release its lock.
                    self.release_lock(&f.id).await;
                    if status == 429 || status >= 500 {
                        self.record_failure(&f.id, &ItemError::Jira(JiraError::Server { status }))
                            .await;
                    } else {
                        self.error_count("JIRA_REJECTED");
                        if let Err(e) = self
                            .write_skip(&f.id, SkipReason::ProjectMisconfigured)
                            .await
                        {
                            self.record_failure(&f.id, &ItemError::Kvs(e)).await;
                        }
                    }
                }
            }
        }
        // Five ops per created issue: each transaction covers whole findings.
        for (chunk, who) in ops.chunks(25).zip(created.chunks(5)) {
            // The ops are idempotent: one immediate second try rides out a transient fault.
            let mut stored = self.host.kvs_transact(chunk).await;
            if stored.is_err() {
                stored = self.host.kvs_transact(chunk).await;
            }
            match stored {
                Ok(()) => {
                    for (f, key) in who {
                        self.bump(|r| r.created += 1);
                        self.note(f, key, "created");
                    }
                }
                Err(e) => {
                    // The issues exist but their links were not stored: the create locks stay,
                    // and recovery adopts the issues (property search) once the locks are stale.
                    for (f, _) in who {
                        self.record_failure(&f.id, &ItemError::Kvs(e.clone())).await;
                    }
                }
            }
        }
        Ok(())
    }

    // ---------------------------------------------------------------- compliance re-runs

    async fn start_rerun(&self, f: &Finding) -> Result<(), ItemError> {
        let Some(c) = &f.compliance else {
            return Ok(());
        };
        let run = self.cataam.start_run(&c.test_id).await?;
        let rec = RerunRecord {
            finding_id: f.id.clone(),
            test_id: c.test_id.clone(),
            run_id: run.run_id.clone(),
            polls: 0,
            started_at: self.host.now_ms(),
            next_at: self.host.now_ms() + i64::from(RERUN_POLL_DELAY_S) * 1000,
        };
        store::put(self.host, &store::rerun(&f.id), &rec).await?;
        self.host
            .queue_push(&[QueueEvent {
                body: json!({ "type": "rerun", "findingId": f.id }),
                delay_in_seconds: RERUN_POLL_DELAY_S,
            }])
            .await?;
        self.bump(|r| {
            r.reruns_started += 1;
            r.queued += 1;
        });
        Ok(())
    }

    async fn poll_rerun(&self, finding_id: &str) -> Result<(), EngineError> {
        let Some(mut rec) =
            store::get::<H, RerunRecord>(self.host, &store::rerun(finding_id)).await?
        else {
            return Ok(());
        };
        let run = match self.cataam.get_run(&rec.test_id, &rec.run_id).await {
            Ok(r) => r,
            Err(CataamError::KeyRejected) => return Err(EngineError::KeyRejected),
            Err(CataamError::NotFound) => {
                self.host.kvs_delete(&store::rerun(finding_id)).await?;
                self.error_count("RERUN_NOT_FOUND");
                return Ok(());
            }
            Err(e) => {
                self.error_count(e.code());
                return self
                    .requeue_rerun(rec, e.retry_after_s().unwrap_or(RERUN_POLL_DELAY_S))
                    .await;
            }
        };
        match run.status {
            crate::cataam::RunStatus::Running => {
                rec.polls += 1;
                self.requeue_rerun(rec, RERUN_POLL_DELAY_S).await
            }
            crate::cataam::RunStatus::Pass => {
                if let Some(link) =
                    store::get::<H, Link>(self.host, &store::link_by_finding(finding_id)).await?
                {
                    match self
                        .jira
                        .add_comment(&link.issue_id, adf::rerun_passed_comment(&run.run_id))
                        .await
                    {
                        Ok(()) => self.bump(|r| r.commented += 1),
                        Err(e) if e.is_retryable() => {
                            self.error_count(e.code());
                            return self.requeue_rerun(rec, RERUN_POLL_DELAY_S).await;
                        }
                        Err(e) => self.error_count(e.code()),
                    }
                }
                self.host.kvs_delete(&store::rerun(finding_id)).await?;
                Ok(())
            }
            crate::cataam::RunStatus::Fail => match self
                .rerun_failed_locked(finding_id, run.logs.as_deref())
                .await
            {
                // Another invocation is syncing the finding: poll the result again shortly.
                Ok(false) => self.requeue_rerun(rec, SYNC_BUSY_DELAY_S).await,
                Ok(true) => {
                    self.host.kvs_delete(&store::rerun(finding_id)).await?;
                    Ok(())
                }
                Err(ItemError::Cataam(CataamError::KeyRejected)) => Err(EngineError::KeyRejected),
                Err(e) => {
                    self.error_count(e.code());
                    self.requeue_rerun(rec, e.retry_after_s().unwrap_or(RERUN_POLL_DELAY_S))
                        .await
                }
            },
        }
    }

    /// Queues again the polls of compliance re-runs whose message was lost: the run that
    /// recorded (or re-queued) the re-run died before queueing its poll.
    async fn requeue_lost_reruns(&self) -> Result<(), EngineError> {
        let now = self.host.now_ms();
        for (_, rec) in store::list::<H, RerunRecord>(self.host, store::RERUN_PREFIX).await? {
            let due = if rec.next_at > 0 {
                rec.next_at
            } else {
                rec.started_at
            };
            if now > due + RERUN_OVERDUE_MS {
                self.error_count("RERUN_POLL_LOST");
                self.requeue_rerun(rec, 1).await?;
            }
        }
        Ok(())
    }

    async fn requeue_rerun(&self, rec: RerunRecord, delay: u32) -> Result<(), EngineError> {
        if rec.polls >= RERUN_MAX_POLLS {
            self.host.kvs_delete(&store::rerun(&rec.finding_id)).await?;
            self.error_count("RERUN_TIMEOUT");
            return Ok(());
        }
        let id = rec.finding_id.clone();
        let mut rec = rec;
        rec.polls = rec.polls.max(1);
        let delay = delay.clamp(1, 900);
        rec.next_at = self.host.now_ms() + i64::from(delay) * 1000;
        store::put(self.host, &store::rerun(&id), &rec).await?;
        self.host
            .queue_push(&[QueueEvent {
                body: json!({ "type": "rerun", "findingId": id }),
                delay_in_seconds: delay,
            }])
            .await?;
        self.bump(|r| r.queued += 1);
        Ok(())
    }

    /// [`Self::rerun_failed`] under the finding's sync lock; `Ok(false)` when another
    /// invocation holds it.
    async fn rerun_failed_locked(
        &self,
        finding_id: &str,
        logs: Option<&str>,
    ) -> Result<bool, ItemError> {
        Ok(self
            .with_sync_lock(finding_id, || self.rerun_failed(finding_id, logs))
            .await?
            .is_some())
    }

    /// A failing re-run always wins: reopen the issue, comment the logs, finding back to OPEN.
    async fn rerun_failed(&self, finding_id: &str, logs: Option<&str>) -> Result<(), ItemError> {
        let Some(mut base) =
            store::get::<H, Link>(self.host, &store::link_by_finding(finding_id)).await?
        else {
            return Ok(());
        };
        let issue = self.jira.get_issue(&base.issue_id).await?;
        let f = self.cataam.get_finding(finding_id).await?;
        // The re-run's outcome wins over anything in flight: earlier intents are settled by it.
        base.clear_intents();
        if issue.category == Category::Done {
            let moved = move_to(
                &self.jira,
                &issue.id,
                &issue.status_id,
                &issue.status_name,
                issue.category,
                Target::Reopened,
                // A failed re-run always wins: nothing to tell apart after a crash.
                |_: &str| async { Ok(()) },
            )
            .await?;
            if moved.hops > 0 {
                self.bump(|r| r.transitioned += 1);
            }
            base.jira_category = moved.category;
            base.jira_wont_do = false;
            self.jira
                .add_comment(&issue.id, adf::rerun_failed_comment(logs))
                .await?;
            self.bump(|r| r.commented += 1);
        } else {
            base.jira_category = issue.category;
            base.jira_wont_do = false;
        }
        let mut version = f.updated_at.clone();
        if f.status != FindingStatus::Open {
            let upd = self
                .cataam
                .patch_finding(
                    finding_id,
                    &FindingPatch {
                        status: Some(FindingStatus::Open),
                        ..Default::default()
                    },
                )
                .await?;
            self.bump(|r| r.cataam_updates += 1);
            version = upd.updated_at;
        }
        base.finding_status = FindingStatus::Open;
        base.finding_version = version;
        store::put(self.host, &store::link_by_finding(finding_id), &base).await?;
        self.note(&f, &base.issue_key, "rerun_failed_reopened");
        Ok(())
    }

    // ---------------------------------------------------------------- retries, health

    /// Records a failed attempt: a retry with back-off through the queue, or a dead letter.
    /// Never fails the run: when the bookkeeping itself cannot be stored (a storage fault), the
    /// item is still queued for a retry (the run's one coalesced retry batch) and the run goes on.
    async fn record_failure(&self, finding_id: &str, e: &ItemError) {
        let code = e.code();
        self.error_count(code);
        if let ItemError::Kvs(h) = e {
            self.host.log(
                LogLevel::Warn,
                "storage error",
                &json!({ "findingId": finding_id, "code": h.code }),
            );
        }
        let retryable = match e {
            ItemError::Cataam(c) => c.is_retryable(),
            ItemError::Jira(j) => j.is_retryable(),
            ItemError::Kvs(_) => true,
        };
        let prev = match store::get::<H, RetryRecord>(self.host, &store::retry(finding_id)).await {
            Ok(p) => p,
            Err(_) => {
                // Attempts unknown: retry without counting (the record is kept as it was).
                self.retries.borrow_mut().push((finding_id.into(), 30));
                self.bump(|r| r.retried += 1);
                return;
            }
        };
        let attempts = prev.map(|r| r.attempts).unwrap_or(0) + 1;
        if !retryable || attempts >= MAX_ATTEMPTS {
            let dl = DeadLetter {
                finding_id: finding_id.into(),
                code: code.into(),
                attempts,
                at: self.host.now_ms(),
            };
            let stored = self
                .host
                .kvs_transact(&[
                    store::set_op(store::dead_letter(finding_id), &dl),
                    TxOp::Delete {
                        key: store::retry(finding_id),
                    },
                ])
                .await;
            if stored.is_err() {
                // Not dead-lettered: try again later rather than lose the item.
                self.retries.borrow_mut().push((finding_id.into(), 60));
                self.bump(|r| r.retried += 1);
                return;
            }
            self.bump(|r| r.dead_lettered += 1);
            self.host.log(
                LogLevel::Warn,
                "dead letter",
                &json!({ "findingId": finding_id, "code": code, "attempts": attempts }),
            );
            return;
        }
        let backoff = (30u32 << (attempts - 1).min(5)).min(900);
        let delay = e
            .retry_after_s()
            .map(|s| s.max(1))
            .unwrap_or(backoff)
            .min(900);
        let rec = RetryRecord {
            finding_id: finding_id.into(),
            attempts,
            code: code.into(),
            next_at: self.host.now_ms() + delay as i64 * 1000,
        };
        // Best effort: without the record the queued retry still happens (attempt not counted).
        let _ = store::put(self.host, &store::retry(finding_id), &rec).await;
        self.retries.borrow_mut().push((finding_id.into(), delay));
        self.bump(|r| r.retried += 1);
    }

    /// A create lock taken now; it records when this invocation must have ended.
    fn new_lock(&self, now: i64) -> CreateLock {
        CreateLock {
            at: now,
            until: Some(now + self.host.remaining_ms().clamp(0, HOLDER_MAX_MS)),
        }
    }

    /// Releases a create lock after nothing was sent for it. Best effort: a lock that cannot be
    /// deleted (storage fault) goes stale and is taken over by recovery.
    async fn release_lock(&self, finding_id: &str) {
        if let Err(e) = self.host.kvs_delete(&store::create_lock(finding_id)).await {
            self.host.log(
                LogLevel::Warn,
                "storage error",
                &json!({ "findingId": finding_id, "code": e.code }),
            );
        }
    }

    /// Defers an item for lack of time (no attempt counted): it is re-queued as a retry message
    /// (delay 0) when the run ends, so a scan's cursor may advance past it without losing it.
    fn defer(&self, finding_id: &str) {
        self.deferred.borrow_mut().push(finding_id.into());
    }

    /// Re-queues an item without counting an attempt (pending create).
    fn schedule_retry_no_attempt(&self, finding_id: &str, delay: u32) {
        self.retries.borrow_mut().push((finding_id.into(), delay));
    }

    async fn queue_continuation(&self, delay: u32) -> Result<(), EngineError> {
        self.host
            .queue_push(&[QueueEvent {
                body: json!({ "type": "continue" }),
                delay_in_seconds: delay.min(900),
            }])
            .await?;
        self.bump(|r| {
            r.queued += 1;
            r.stopped_for_budget |= delay == 0;
        });
        Ok(())
    }

    /// Queues this run's retries, coalesced: each id once (at its shortest delay; items deferred
    /// for lack of time at delay 0), one message per distinct delay and [`RETRY_BATCH`] ids.
    async fn flush_retries(&self) -> Result<(), EngineError> {
        let deferred: Vec<String> = self.deferred.borrow_mut().drain(..).collect();
        if !deferred.is_empty() {
            self.bump(|r| r.stopped_for_budget = true);
        }
        let mut delay_of: BTreeMap<String, u32> = BTreeMap::new();
        for id in deferred {
            delay_of.insert(id, 0);
        }
        for (id, d) in self.retries.borrow_mut().drain(..) {
            let d = d.min(900);
            delay_of
                .entry(id)
                .and_modify(|e| *e = (*e).min(d))
                .or_insert(d);
        }
        let mut by_delay: BTreeMap<u32, Vec<String>> = BTreeMap::new();
        for (id, d) in delay_of {
            by_delay.entry(d).or_default().push(id);
        }
        let mut events = vec![];
        for (delay, ids) in by_delay {
            for chunk in ids.chunks(RETRY_BATCH) {
                events.push(QueueEvent {
                    body: json!({ "type": "retry", "findingIds": chunk }),
                    delay_in_seconds: delay,
                });
            }
        }
        for chunk in events.chunks(50) {
            self.host.queue_push(chunk).await?;
            self.bump(|r| r.queued += chunk.len() as u64);
        }
        Ok(())
    }

    async fn fail_run(&self, e: &EngineError) {
        *self.last_error.borrow_mut() = Some(e.code().to_string());
        let _ = self.flush_retries().await;
        let _ = self.save_health(false, Some(e)).await;
    }

    async fn finish(&self, poll: bool) -> Result<RunReport, EngineError> {
        self.flush_retries().await?;
        // The run's work is done and stored: health bookkeeping failing must not fail it (a
        // failed run is redelivered and would redo all of it).
        if let Err(e) = self.save_health(poll, None).await {
            self.host.log(
                LogLevel::Warn,
                "health not saved",
                &json!({ "code": e.code() }),
            );
        }
        let mut r = self.report.borrow().clone();
        r.jira_requests = self.jira.request_count();
        r.cataam_requests = self.cataam.request_count();
        self.host.log(
            LogLevel::Info,
            "run finished",
            &serde_json::to_value(&r).unwrap_or(Value::Null),
        );
        Ok(r)
    }

    async fn save_health(&self, poll: bool, err: Option<&EngineError>) -> Result<(), EngineError> {
        let r = self.report.borrow().clone();
        let now = self.host.now_ms();
        let mut h = store::read_health(self.host).await?;
        h.created += r.created;
        h.updated += r.updated;
        h.transitioned += r.transitioned;
        h.commented += r.commented;
        h.cataam_updates += r.cataam_updates;
        h.adopted += r.adopted;
        h.dead_lettered += r.dead_lettered;
        for (k, v) in &r.skipped {
            *h.skipped.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &r.errors {
            *h.errors.entry(k.clone()).or_default() += v;
        }
        if poll {
            h.last_poll_at = Some(now);
            h.next_poll_at = Some(now + POLL_INTERVAL_MS);
        }
        let code = err
            .map(|e| e.code().to_string())
            .or_else(|| r.errors.keys().next().cloned());
        if let Some(c) = code {
            h.last_error = Some(store::LastError { code: c, at: now });
        }
        h.connection = Some(match err {
            Some(EngineError::KeyRejected) => "key_rejected".into(),
            Some(EngineError::Cataam { .. }) => "unreachable".into(),
            _ if r.cataam_requests > 0 || self.cataam.request_count() > 0 => "ok".into(),
            _ => h.connection.clone().unwrap_or_else(|| "unknown".into()),
        });
        store::put(self.host, store::HEALTH, &h).await?;
        let acts: Vec<store::Activity> = self.activity.borrow_mut().drain(..).collect();
        store::append_activity(self.host, acts).await?;
        Ok(())
    }

    fn bump(&self, f: impl FnOnce(&mut RunReport)) {
        f(&mut self.report.borrow_mut());
    }

    fn skip_count(&self, reason: &str) {
        *self
            .report
            .borrow_mut()
            .skipped
            .entry(reason.into())
            .or_default() += 1;
    }

    fn error_count(&self, code: &str) {
        *self
            .report
            .borrow_mut()
            .errors
            .entry(code.into())
            .or_default() += 1;
    }

    fn note(&self, f: &Finding, issue_key: &str, action: &str) {
        self.activity.borrow_mut().push(store::Activity {
            finding_id: f.id.clone(),
            issue_key: (!issue_key.is_empty()).then(|| issue_key.to_string()),
            action: action.into(),
            at: self.host.now_ms(),
        });
    }
}

/// `true` when the issue's Jira-owned state (status category, Won't Do, due date, assignee)
/// differs from what the base recorded.
fn jira_side_changed(b: &Link, i: &IssueState) -> bool {
    b.jira_category != i.category
        || b.jira_wont_do != i.is_wont_do()
        || b.due_hash != adf::short_hash(i.due_date.as_deref())
        || b.assignee_hash != adf::short_hash(i.assignee.as_ref().map(|a| a.account_id.as_str()))
}

fn target_reached(t: Target, c: Category) -> bool {
    match t {
        Target::Done { .. } => c == Category::Done,
        Target::Reopened => c != Category::Done,
    }
}
