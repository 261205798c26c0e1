//! A small, dumb, in-memory simulated world for engine tests: a fake Jira (default or custom
//! multi-hop workflow, bulk create with per-element failures, search index lag, 429/5xx
//! injection), a fake CATAAM (findings, PATCH, compliance runs), an in-memory KVS with TTLs,
//! a queue, a virtual clock and time budget, and crash injection after the Nth write.
#![allow(dead_code)]

use cataam_jira::host::*;
use cataam_jira::model::*;
use cataam_jira::settings::Settings;
use serde_json::{json, Value};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

/// Runs a future whose every await is immediately ready (the fakes never pend).
pub fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..1_000_000 {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
    panic!("future did not complete: livelock");
}

pub const API_KEY: &str = "cataam_testkey";
pub const BASE: &str = "https://service.cataam.com";
pub const T0: i64 = 1_796_000_000_000; // 2026-11-30

pub fn rfc3339(ms: i64) -> String {
    cataam_jira::jira::format_time_ms(ms)
}

#[derive(Clone, Debug)]
pub struct Status {
    pub id: &'static str,
    pub name: &'static str,
    pub cat: &'static str,
}

#[derive(Clone, Debug)]
pub struct Tr {
    pub id: &'static str,
    pub name: &'static str,
    /// `None`: global transition (from any status).
    pub from: Option<&'static str>,
    pub to: &'static str,
    pub resolution: bool,
}

#[derive(Clone, Debug)]
pub struct Workflow {
    pub statuses: Vec<Status>,
    pub transitions: Vec<Tr>,
    pub initial: &'static str,
}

impl Workflow {
    /// Jira's simplified default workflow: global transitions to every status.
    pub fn default_simplified() -> Self {
        Workflow {
            statuses: vec![
                Status {
                    id: "10000",
                    name: "To Do",
                    cat: "new",
                },
                Status {
                    id: "3",
                    name: "In Progress",
                    cat: "indeterminate",
                },
                Status {
                    id: "10001",
                    name: "Done",
                    cat: "done",
                },
            ],
            transitions: vec![
                Tr {
                    id: "11",
                    name: "To Do",
                    from: None,
                    to: "10000",
                    resolution: false,
                },
                Tr {
                    id: "21",
                    name: "In Progress",
                    from: None,
                    to: "3",
                    resolution: false,
                },
                Tr {
                    id: "31",
                    name: "Done",
                    from: None,
                    to: "10001",
                    resolution: true,
                },
            ],
            initial: "10000",
        }
    }

    /// A custom workflow with no direct edge from Open to Closed (4 hops), a back edge, and a
    /// reopen path through a separate new-category status.
    pub fn custom() -> Self {
        Workflow {
            statuses: vec![
                Status {
                    id: "1",
                    name: "Open",
                    cat: "new",
                },
                Status {
                    id: "2",
                    name: "Triage",
                    cat: "indeterminate",
                },
                Status {
                    id: "3",
                    name: "In Progress",
                    cat: "indeterminate",
                },
                Status {
                    id: "4",
                    name: "In Review",
                    cat: "indeterminate",
                },
                Status {
                    id: "5",
                    name: "Closed",
                    cat: "done",
                },
                Status {
                    id: "6",
                    name: "Reopened",
                    cat: "new",
                },
            ],
            transitions: vec![
                Tr {
                    id: "101",
                    name: "Start triage",
                    from: Some("1"),
                    to: "2",
                    resolution: false,
                },
                Tr {
                    id: "102",
                    name: "Back to open",
                    from: Some("2"),
                    to: "1",
                    resolution: false,
                },
                Tr {
                    id: "103",
                    name: "Work",
                    from: Some("2"),
                    to: "3",
                    resolution: false,
                },
                Tr {
                    id: "104",
                    name: "Back to triage",
                    from: Some("3"),
                    to: "2",
                    resolution: false,
                },
                Tr {
                    id: "105",
                    name: "Review",
                    from: Some("3"),
                    to: "4",
                    resolution: false,
                },
                Tr {
                    id: "106",
                    name: "Rework",
                    from: Some("4"),
                    to: "3",
                    resolution: false,
                },
                Tr {
                    id: "107",
                    name: "Close",
                    from: Some("4"),
                    to: "5",
                    resolution: true,
                },
                Tr {
                    id: "108",
                    name: "Reopen",
                    from: Some("5"),
                    to: "6",
                    resolution: false,
                },
                Tr {
                    id: "109",
                    name: "Triage again",
                    from: Some("6"),
                    to: "2",
                    resolution: false,
                },
            ],
            initial: "1",
        }
    }

    pub fn status(&self, id: &str) -> &Status {
        self.statuses.iter().find(|s| s.id == id).expect("status")
    }

    pub fn status_by_name(&self, name: &str) -> &Status {
        self.statuses
            .iter()
            .find(|s| s.name == name)
            .expect("status name")
    }
}

#[derive(Clone, Debug)]
pub struct Issue {
    pub id: String,
    pub key: String,
    pub status: String,
    pub summary: String,
    pub description: Value,
    pub labels: Vec<String>,
    pub priority: String,
    pub duedate: Option<String>,
    pub assignee: Option<String>,
    pub resolution: Option<String>,
    pub updated_ms: i64,
    /// Last status category change (Jira's `statuscategorychangedate`).
    pub status_changed_ms: i64,
    pub created_ms: i64,
    pub properties: BTreeMap<String, Value>,
    pub comments: Vec<Value>,
    /// Creation time (ms) of each of `comments`.
    pub comment_times: Vec<i64>,
}

pub struct User {
    pub account_id: &'static str,
    pub display_name: &'static str,
    pub email: Option<&'static str>,
}

pub struct FakeJira {
    pub workflow: Workflow,
    pub issues: BTreeMap<String, Issue>,
    pub next_id: u64,
    pub index_lag_ms: i64,
    /// Finding id → element status to fail with in bulk creates.
    pub fail_elements: BTreeMap<String, u16>,
    /// Answer the next n requests with 429 (Retry-After 7).
    pub rate_limit_next: u32,
    /// Answer requests touching this issue id with 503.
    pub broken_issue: Option<String>,
    /// Answer every request with 503.
    pub down: bool,
    pub priorities: Vec<&'static str>,
    pub users: Vec<User>,
    pub log: Vec<(String, String, u16)>,
}

pub struct Run {
    pub run_id: String,
    pub test_id: String,
    pub status: &'static str,
    pub logs: Option<String>,
    pub polls_left: u32,
}

pub struct FakeCataam {
    pub findings: BTreeMap<String, Finding>,
    pub key: String,
    /// Outcome of the next runs per test id: ("PASS"|"FAIL", logs).
    pub outcomes: BTreeMap<String, (&'static str, String)>,
    /// How many GETs a run stays RUNNING.
    pub run_polls: u32,
    pub runs: Vec<Run>,
    pub rate_limit_next: u32,
    /// Answer the next n finding PATCHes with 503 (not applied).
    pub fail_patch_next: u32,
    /// Apply the next n finding PATCHes, then answer 503 (the answer lost).
    pub lose_patch_answer_next: u32,
    /// Finding ids whose GET answers 503.
    pub broken: BTreeSet<String>,
    pub log: Vec<(String, String, u16)>,
}

pub struct World {
    pub now: i64,
    pub deadline: i64,
    pub step_ms: i64,
    pub kvs: BTreeMap<String, (Value, Option<i64>)>,
    pub secrets: BTreeMap<String, String>,
    pub queue: Vec<QueueEvent>,
    pub jira: FakeJira,
    pub cataam: FakeCataam,
    pub writes: usize,
    pub crash_after: Option<usize>,
    pub kvs_reads: usize,
    /// Key → number of upcoming KVS operations on it that fail with a `KVS` host error
    /// (a transaction fails when any of its keys is listed).
    pub kvs_fail: BTreeMap<String, u32>,
}

/// A hook run (once) when a create lock is about to be written: lets a test interleave another
/// run exactly between a link read and the lock.
pub type LockHook = Box<dyn FnOnce(&TestHost)>;

pub struct TestHost {
    pub w: RefCell<World>,
    pub before_create_lock: RefCell<Option<LockHook>>,
}

impl TestHost {
    pub fn new(workflow: Workflow) -> Self {
        TestHost {
            before_create_lock: RefCell::new(None),
            w: RefCell::new(World {
                now: T0,
                deadline: i64::MAX,
                step_ms: 5,
                kvs: BTreeMap::new(),
                secrets: BTreeMap::new(),
                queue: vec![],
                jira: FakeJira {
                    workflow,
                    issues: BTreeMap::new(),
                    next_id: 10_000,
                    index_lag_ms: 0,
                    fail_elements: BTreeMap::new(),
                    rate_limit_next: 0,
                    broken_issue: None,
                    down: false,
                    priorities: vec!["Highest", "High", "Medium", "Low", "Lowest"],
                    users: vec![
                        User {
                            account_id: "acc-alice",
                            display_name: "Alice",
                            email: Some("alice@example.com"),
                        },
                        User {
                            account_id: "acc-bob",
                            display_name: "Bob",
                            email: None,
                        },
                    ],
                    log: vec![],
                },
                cataam: FakeCataam {
                    findings: BTreeMap::new(),
                    key: API_KEY.into(),
                    outcomes: BTreeMap::new(),
                    run_polls: 0,
                    runs: vec![],
                    rate_limit_next: 0,
                    fail_patch_next: 0,
                    lose_patch_answer_next: 0,
                    broken: BTreeSet::new(),
                    log: vec![],
                },
                writes: 0,
                crash_after: None,
                kvs_reads: 0,
                kvs_fail: BTreeMap::new(),
            }),
        }
    }

    pub fn settings() -> Settings {
        Settings {
            project_id: Some("10000".into()),
            project_key: Some("SEC".into()),
            ..Settings::default()
        }
    }

    pub fn advance(&self, ms: i64) {
        self.w.borrow_mut().now += ms;
    }

    pub fn now(&self) -> i64 {
        self.w.borrow().now
    }

    pub fn set_budget(&self, ms: i64) {
        let mut w = self.w.borrow_mut();
        w.deadline = w.now + ms;
    }

    pub fn add_finding(&self, f: Finding) {
        self.w.borrow_mut().cataam.findings.insert(f.id.clone(), f);
    }

    /// A human/console change in CATAAM (bumps `updatedAt`).
    pub fn cataam_edit(&self, id: &str, edit: impl FnOnce(&mut Finding)) {
        let mut w = self.w.borrow_mut();
        w.now += 1000;
        let now = w.now;
        let f = w.cataam.findings.get_mut(id).expect("finding");
        edit(f);
        f.updated_at = rfc3339(now);
    }

    pub fn finding(&self, id: &str) -> Finding {
        self.w.borrow().cataam.findings[id].clone()
    }

    pub fn issues(&self) -> Vec<Issue> {
        self.w.borrow().jira.issues.values().cloned().collect()
    }

    fn finding_of(i: &Issue) -> Option<&str> {
        i.properties
            .get("cataam.finding")
            .and_then(|p| p.get("findingId"))
            .and_then(Value::as_str)
    }

    pub fn issue_for(&self, finding_id: &str) -> Option<Issue> {
        let w = self.w.borrow();
        w.jira
            .issues
            .values()
            .find(|i| Self::finding_of(i) == Some(finding_id))
            .cloned()
    }

    pub fn issues_for(&self, finding_id: &str) -> usize {
        let w = self.w.borrow();
        w.jira
            .issues
            .values()
            .filter(|i| Self::finding_of(i) == Some(finding_id))
            .count()
    }

    pub fn issue_count(&self) -> usize {
        self.w.borrow().jira.issues.len()
    }

    pub fn status_name(&self, issue: &Issue) -> String {
        self.w
            .borrow()
            .jira
            .workflow
            .status(&issue.status)
            .name
            .to_string()
    }

    /// Status category (`new`, `indeterminate`, `done`) of the issue carrying this finding.
    pub fn category_of(&self, finding_id: &str) -> &'static str {
        let issue = self.issue_for(finding_id).expect("issue");
        self.w.borrow().jira.workflow.status(&issue.status).cat
    }

    /// A human changes an issue in Jira (bumps `updated`).
    pub fn human(&self, issue_id: &str, edit: impl FnOnce(&mut Issue, &Workflow)) {
        let mut w = self.w.borrow_mut();
        w.now += 1000;
        let now = w.now;
        let wf = w.jira.workflow.clone();
        let i = w.jira.issues.get_mut(issue_id).expect("issue");
        let cat_before = wf.status(&i.status).cat;
        edit(i, &wf);
        i.updated_ms = now;
        if wf.status(&i.status).cat != cat_before {
            i.status_changed_ms = now;
        }
    }

    /// A human moves an issue to a status by name (any edge), with a resolution for done.
    pub fn human_status(&self, issue_id: &str, status: &str, resolution: Option<&str>) {
        self.human(issue_id, |i, wf| {
            let s = wf.status_by_name(status);
            i.status = s.id.to_string();
            i.resolution = if s.cat == "done" {
                Some(resolution.unwrap_or("Done").to_string())
            } else {
                None
            };
        });
    }

    pub fn kvs_dump(&self) -> BTreeMap<String, Value> {
        self.w
            .borrow()
            .kvs
            .iter()
            .map(|(k, (v, _))| (k.clone(), v.clone()))
            .collect()
    }

    pub fn kvs_value(&self, key: &str) -> Option<Value> {
        self.w.borrow().kvs.get(key).map(|(v, _)| v.clone())
    }

    /// How many Jira requests of this method went to a path ending in `suffix`.
    pub fn jira_requests_to(&self, method: &str, suffix: &str) -> usize {
        self.w
            .borrow()
            .jira
            .log
            .iter()
            .filter(|(m, p, _)| m == method && p.ends_with(suffix))
            .count()
    }

    pub fn take_queue(&self) -> Vec<QueueEvent> {
        std::mem::take(&mut self.w.borrow_mut().queue)
    }

    fn tick(&self) {
        let mut w = self.w.borrow_mut();
        w.now += w.step_ms;
    }

    fn wrote(&self) {
        let mut w = self.w.borrow_mut();
        w.writes += 1;
        if Some(w.writes) == w.crash_after {
            w.crash_after = None;
            drop(w);
            panic!("injected crash");
        }
    }

    /// Fails the next `times` KVS operations touching `key`.
    pub fn fail_kvs(&self, key: &str, times: u32) {
        self.w.borrow_mut().kvs_fail.insert(key.into(), times);
    }

    fn injected_kvs_fault(&self, key: &str) -> HostResult<()> {
        let mut w = self.w.borrow_mut();
        match w.kvs_fail.get_mut(key) {
            Some(n) if *n > 0 => {
                *n -= 1;
                Err(HostError::new("KVS", "injected storage fault"))
            }
            _ => Ok(()),
        }
    }

    fn expire(&self) {
        let mut w = self.w.borrow_mut();
        let now = w.now;
        w.kvs.retain(|_, (_, exp)| exp.is_none_or(|e| e > now));
    }
}

fn resp(status: u16, body: Value) -> HttpResponse {
    HttpResponse {
        status,
        headers: vec![],
        body,
    }
}

fn split_query(path: &str) -> (String, BTreeMap<String, String>) {
    let (p, q) = path.split_once('?').unwrap_or((path, ""));
    let q = url::form_urlencoded::parse(q.as_bytes())
        .into_owned()
        .collect();
    (p.to_string(), q)
}

impl FakeJira {
    fn issue_json(&self, i: &Issue, with_props: bool) -> Value {
        let s = self.workflow.status(&i.status);
        let assignee = i.assignee.as_ref().map(|a| {
            let u = self.users.iter().find(|u| u.account_id == a).expect("user");
            let mut v = json!({ "accountId": u.account_id, "displayName": u.display_name });
            if let Some(e) = u.email {
                v["emailAddress"] = json!(e);
            }
            v
        });
        let mut v = json!({
            "id": i.id, "key": i.key,
            "fields": {
                "status": { "id": s.id, "name": s.name, "statusCategory": { "key": s.cat } },
                "resolution": i.resolution.as_ref().map(|r| json!({ "name": r })),
                "updated": jira_time(i.updated_ms),
                "statuscategorychangedate": jira_time(i.status_changed_ms),
                "duedate": i.duedate, "assignee": assignee, "labels": i.labels,
            }
        });
        if with_props {
            v["properties"] = json!(i.properties);
        }
        v
    }

    fn available(&self, i: &Issue) -> Vec<&Tr> {
        self.workflow
            .transitions
            .iter()
            .filter(|t| t.from.is_none_or(|f| f == i.status) && t.to != i.status)
            .collect()
    }

    fn handle(&mut self, now: i64, req: &JiraRequest) -> HttpResponse {
        let (path, q) = split_query(&req.path);
        let m = req.method.as_str();
        if self.down {
            return resp(503, Value::Null);
        }
        if self.rate_limit_next > 0 {
            self.rate_limit_next -= 1;
            return HttpResponse {
                status: 429,
                headers: vec![("retry-after".into(), "7".into())],
                body: Value::Null,
            };
        }
        let parts: Vec<&str> = path.trim_start_matches("/rest/api/3/").split('/').collect();
        if let (Some(b), Some(id)) = (&self.broken_issue, parts.get(1)) {
            if parts[0] == "issue" && b == id {
                return resp(503, Value::Null);
            }
        }
        match (m, parts.as_slice()) {
            ("POST", ["issue", "bulk"]) => {
                let ups = req
                    .body
                    .as_ref()
                    .and_then(|b| b.get("issueUpdates"))
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                assert!(ups.len() <= 50, "bulk create over 50");
                let (mut issues, mut errors) = (vec![], vec![]);
                for (n, u) in ups.iter().enumerate() {
                    let f = &u["fields"];
                    let fid = u["properties"][0]["value"]["findingId"]
                        .as_str()
                        .unwrap_or("")
                        .to_string();
                    let bad = f["project"]["id"] != "10000"
                        || !self
                            .priorities
                            .contains(&f["priority"]["name"].as_str().unwrap_or(""))
                        || f["summary"]
                            .as_str()
                            .is_none_or(|s| s.chars().count() > 255 || s.is_empty())
                        || f["description"].to_string().chars().count() > 32_767
                        || f["labels"].as_array().is_none_or(|l| {
                            l.iter().any(|x| x.as_str().is_none_or(|s| s.contains(' ')))
                        });
                    if let Some(st) = self.fail_elements.get(&fid).copied().or(bad.then_some(400)) {
                        errors.push(json!({ "status": st, "failedElementNumber": n, "elementErrors": { "errors": {}, "errorMessages": ["rejected"] } }));
                        continue;
                    }
                    self.next_id += 1;
                    let id = self.next_id.to_string();
                    let key = format!("SEC-{}", self.next_id - 10_000);
                    let mut props = BTreeMap::new();
                    for p in u["properties"].as_array().cloned().unwrap_or_default() {
                        props.insert(
                            p["key"].as_str().unwrap_or("").to_string(),
                            p["value"].clone(),
                        );
                    }
                    self.issues.insert(
                        id.clone(),
                        Issue {
                            id: id.clone(),
                            key: key.clone(),
                            status: self.workflow.initial.into(),
                            summary: f["summary"].as_str().unwrap_or("").into(),
                            description: f["description"].clone(),
                            labels: f["labels"]
                                .as_array()
                                .map(|a| {
                                    a.iter()
                                        .filter_map(|x| x.as_str().map(String::from))
                                        .collect()
                                })
                                .unwrap_or_default(),
                            priority: f["priority"]["name"].as_str().unwrap_or("").into(),
                            duedate: f["duedate"].as_str().map(String::from),
                            assignee: None,
                            resolution: None,
                            updated_ms: now,
                            created_ms: now,
                            status_changed_ms: now,
                            properties: props,
                            comments: vec![],
                            comment_times: vec![],
                        },
                    );
                    issues.push(json!({ "id": id, "key": key, "self": format!("https://x.atlassian.net/rest/api/3/issue/{id}") }));
                }
                let status = if issues.is_empty() && !errors.is_empty() {
                    400
                } else {
                    201
                };
                resp(status, json!({ "issues": issues, "errors": errors }))
            }
            ("POST", ["search", "jql"]) => {
                let b = req.body.clone().unwrap_or(Value::Null);
                let jql = b["jql"].as_str().unwrap_or("").to_string();
                let max = b["maxResults"].as_u64().unwrap_or(50) as usize;
                let start: usize = b["nextPageToken"]
                    .as_str()
                    .and_then(|t| t.parse().ok())
                    .unwrap_or(0);
                let lag = self.index_lag_ms;
                let mut hits: Vec<&Issue> = self
                    .issues
                    .values()
                    .filter(|i| i.created_ms + lag <= now)
                    .collect();
                if let Some(rest) =
                    jql.strip_prefix("issue.property[cataam.finding].findingId = \"")
                {
                    let fid = rest.trim_end_matches('"');
                    hits.retain(|i| {
                        i.properties
                            .get("cataam.finding")
                            .and_then(|p| p["findingId"].as_str())
                            == Some(fid)
                    });
                } else if let Some(rest) =
                    jql.strip_prefix("issue.property[cataam.finding].findingId IN (")
                {
                    let ids: Vec<String> = rest
                        .trim_end_matches(')')
                        .split(", ")
                        .map(|x| x.trim_matches('"').to_string())
                        .collect();
                    hits.retain(|i| {
                        i.properties
                            .get("cataam.finding")
                            .and_then(|p| p["findingId"].as_str())
                            .is_some_and(|f| ids.iter().any(|x| x == f))
                    });
                } else if let Some(rest) = jql.strip_prefix(
                    "issue.property[cataam.finding].findingId IS NOT EMPTY AND updated >= \"-",
                ) {
                    // A period relative to now ("-17m"), as the app sends it.
                    let minutes: i64 = rest
                        .split_once("m\"")
                        .and_then(|(n, _)| n.parse().ok())
                        .expect("jql period");
                    let since = now - minutes * 60_000;
                    hits.retain(|i| {
                        i.properties.contains_key("cataam.finding") && i.updated_ms >= since
                    });
                    hits.sort_by_key(|i| i.updated_ms);
                } else {
                    return resp(400, json!({ "errorMessages": ["unsupported jql"] }));
                }
                let page: Vec<Value> = hits
                    .iter()
                    .skip(start)
                    .take(max)
                    .map(|i| self.issue_json(i, true))
                    .collect();
                let mut out = json!({ "issues": page });
                if start + max < hits.len() {
                    out["nextPageToken"] = json!((start + max).to_string());
                }
                resp(200, out)
            }
            ("GET", ["issue", id]) => match self.issues.get(*id) {
                Some(i) => resp(200, self.issue_json(i, q.contains_key("properties"))),
                None => resp(404, json!({ "errorMessages": ["Issue does not exist"] })),
            },
            ("PUT", ["issue", id]) => {
                let Some(i) = self.issues.get_mut(*id) else {
                    return resp(404, Value::Null);
                };
                let b = req.body.clone().unwrap_or(Value::Null);
                if let Some(s) = b["fields"]["summary"].as_str() {
                    assert!(s.chars().count() <= 255);
                    i.summary = s.into();
                }
                if b["fields"].get("description").is_some() {
                    i.description = b["fields"]["description"].clone();
                }
                for op in b["update"]["labels"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                {
                    if let Some(a) = op["add"].as_str() {
                        if !i.labels.iter().any(|l| l == a) {
                            i.labels.push(a.into());
                        }
                    }
                    if let Some(r) = op["remove"].as_str() {
                        i.labels.retain(|l| l != r);
                    }
                }
                i.updated_ms = now;
                resp(204, Value::Null)
            }
            ("GET", ["issue", id, "transitions"]) => {
                let Some(i) = self.issues.get(*id) else {
                    return resp(404, Value::Null);
                };
                let ts: Vec<Value> = self
                    .available(i)
                    .into_iter()
                    .map(|t| {
                        let s = self.workflow.status(t.to);
                        let mut v = json!({ "id": t.id, "name": t.name, "isAvailable": true, "to": { "id": s.id, "name": s.name, "statusCategory": { "key": s.cat } }, "fields": {} });
                        if t.resolution {
                            v["fields"]["resolution"] = json!({ "required": true, "name": "Resolution", "allowedValues": [{ "id": "1", "name": "Done" }, { "id": "2", "name": "Won't Do" }, { "id": "3", "name": "Duplicate" }] });
                        }
                        v
                    })
                    .collect();
                resp(200, json!({ "transitions": ts }))
            }
            ("POST", ["issue", id, "transitions"]) => {
                let Some(i) = self.issues.get(*id).cloned() else {
                    return resp(404, Value::Null);
                };
                let b = req.body.clone().unwrap_or(Value::Null);
                let tid = b["transition"]["id"].as_str().unwrap_or("");
                let Some(t) = self
                    .available(&i)
                    .into_iter()
                    .find(|t| t.id == tid)
                    .cloned()
                else {
                    return resp(
                        400,
                        json!({ "errorMessages": ["transition not available"] }),
                    );
                };
                let res = b["fields"]["resolution"]["name"].as_str().map(String::from);
                if t.resolution && res.is_none() {
                    return resp(400, json!({ "errors": { "resolution": "required" } }));
                }
                let to_cat = self.workflow.status(t.to).cat;
                let i = self.issues.get_mut(*id).expect("issue");
                if self.workflow.status(&i.status).cat != to_cat {
                    i.status_changed_ms = now;
                }
                i.status = t.to.into();
                i.resolution = if to_cat == "done" {
                    res.or(Some("Done".into()))
                } else {
                    None
                };
                i.updated_ms = now;
                resp(204, Value::Null)
            }
            ("GET", ["issue", id, "comment"]) => {
                let Some(i) = self.issues.get(*id) else {
                    return resp(404, Value::Null);
                };
                assert_eq!(q.get("orderBy").map(String::as_str), Some("-created"));
                let comments: Vec<Value> = i
                    .comments
                    .iter()
                    .zip(&i.comment_times)
                    .rev()
                    .map(|(b, t)| json!({ "body": b, "created": jira_time(*t) }))
                    .collect();
                resp(
                    200,
                    json!({ "comments": comments, "total": comments.len() }),
                )
            }
            ("POST", ["issue", id, "comment"]) => {
                let Some(i) = self.issues.get_mut(*id) else {
                    return resp(404, Value::Null);
                };
                i.comments
                    .push(req.body.clone().unwrap_or(Value::Null)["body"].clone());
                i.comment_times.push(now);
                i.updated_ms = now;
                resp(201, json!({ "id": i.comments.len().to_string() }))
            }
            _ => resp(404, json!({ "errorMessages": ["no such route"] })),
        }
    }
}

pub fn jira_time(ms: i64) -> String {
    // Jira style: 2026-11-30T10:00:00.000+0000
    let s = rfc3339(ms);
    let d = time::OffsetDateTime::parse(&s, &time::format_description::well_known::Rfc3339)
        .expect("time");
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}+0000",
        d.year(),
        d.month() as u8,
        d.day(),
        d.hour(),
        d.minute(),
        d.second(),
        d.millisecond()
    )
}

impl FakeCataam {
    fn handle(&mut self, now: i64, req: &CataamRequest) -> HttpResponse {
        let auth = req
            .headers
            .iter()
            .find(|(k, _)| k == "Authorization")
            .map(|(_, v)| v.clone());
        if auth.as_deref() != Some(&format!("Bearer {}", self.key)) {
            return resp(
                401,
                json!({ "error": { "code": "KEY_REJECTED", "message": "bad key" } }),
            );
        }
        if self.rate_limit_next > 0 {
            self.rate_limit_next -= 1;
            return HttpResponse {
                status: 429,
                headers: vec![("retry-after".into(), "11".into())],
                body: json!({ "error": { "code": "RATE_LIMITED" } }),
            };
        }
        let url = req.url.strip_prefix(BASE).expect("base url");
        let (path, q) = split_query(url);
        let parts: Vec<&str> = path.trim_start_matches("/api/v1/").split('/').collect();
        match (req.method.as_str(), parts.as_slice()) {
            ("GET", ["org"]) => resp(200, json!({ "id": "org_1", "name": "Acme" })),
            ("GET", ["findings"]) => {
                let limit: usize = q.get("limit").and_then(|l| l.parse().ok()).unwrap_or(100);
                let since = q
                    .get("updatedSince")
                    .and_then(|s| cataam_jira::jira::parse_time_ms(s));
                let mut all: Vec<&Finding> = self
                    .findings
                    .values()
                    .filter(|f| {
                        since.is_none_or(|s| {
                            cataam_jira::jira::parse_time_ms(&f.updated_at).unwrap() >= s
                        })
                    })
                    .collect();
                all.sort_by(|a, b| {
                    (cataam_jira::jira::parse_time_ms(&a.updated_at), &a.id)
                        .cmp(&(cataam_jira::jira::parse_time_ms(&b.updated_at), &b.id))
                });
                let start: usize = q
                    .get("cursor")
                    .and_then(|c| c.strip_prefix("off:"))
                    .and_then(|c| c.parse().ok())
                    .unwrap_or(0);
                let items: Vec<&Finding> = all.iter().skip(start).take(limit).copied().collect();
                let next = (start + limit < all.len()).then(|| format!("off:{}", start + limit));
                resp(200, json!({ "items": items, "nextCursor": next }))
            }
            ("GET", ["findings", id]) => {
                if self.broken.contains(*id) {
                    return resp(503, Value::Null);
                }
                match self.findings.get(*id) {
                    Some(f) => resp(200, json!(f)),
                    None => resp(404, json!({ "error": { "code": "NOT_FOUND" } })),
                }
            }
            ("PATCH", ["findings", _]) if self.fail_patch_next > 0 => {
                self.fail_patch_next -= 1;
                resp(503, Value::Null)
            }
            ("PATCH", ["findings", id]) => {
                let Some(f) = self.findings.get_mut(*id) else {
                    return resp(404, json!({ "error": { "code": "NOT_FOUND" } }));
                };
                let b = req.body.clone().unwrap_or(Value::Null);
                if let Some(s) = b.get("status") {
                    f.status = serde_json::from_value(s.clone()).expect("status");
                }
                if let Some(d) = b.get("dueDate") {
                    f.due_date = d.as_str().map(String::from);
                }
                if let Some(a) = b.get("assignedTo") {
                    f.assigned_to = serde_json::from_value(a.clone()).expect("assignee");
                }
                f.updated_at = rfc3339(now);
                if self.lose_patch_answer_next > 0 {
                    self.lose_patch_answer_next -= 1;
                    return resp(503, Value::Null);
                }
                resp(200, json!(f))
            }
            ("POST", ["compliance-tests", tid, "runs"]) => {
                let run_id = format!("run_{}", self.runs.len() + 1);
                self.runs.push(Run {
                    run_id: run_id.clone(),
                    test_id: tid.to_string(),
                    status: "RUNNING",
                    logs: None,
                    polls_left: self.run_polls,
                });
                resp(
                    202,
                    json!({ "runId": run_id, "testId": tid, "status": "RUNNING", "logs": null, "startedAt": rfc3339(now), "finishedAt": null }),
                )
            }
            ("GET", ["compliance-tests", tid, "runs", rid]) => {
                let outcome = self
                    .outcomes
                    .get(*tid)
                    .cloned()
                    .unwrap_or(("PASS", String::new()));
                let Some(r) = self.runs.iter_mut().find(|r| r.run_id == *rid) else {
                    return resp(404, json!({ "error": { "code": "NOT_FOUND" } }));
                };
                if r.status == "RUNNING" {
                    if r.polls_left > 0 {
                        r.polls_left -= 1;
                    } else {
                        r.status = outcome.0;
                        r.logs = Some(outcome.1.clone());
                        for f in self.findings.values_mut() {
                            if let Some(c) = f.compliance.as_mut().filter(|c| c.test_id == *tid) {
                                c.result = if outcome.0 == "PASS" {
                                    TestResult::Pass
                                } else {
                                    TestResult::Fail
                                };
                                c.logs = Some(outcome.1.clone());
                                f.updated_at = rfc3339(now);
                            }
                        }
                    }
                }
                let r = self.runs.iter().find(|r| r.run_id == *rid).expect("run");
                resp(
                    200,
                    json!({ "runId": r.run_id, "testId": r.test_id, "status": r.status, "logs": r.logs, "startedAt": rfc3339(now), "finishedAt": null }),
                )
            }
            _ => resp(404, json!({ "error": { "code": "NOT_FOUND" } })),
        }
    }
}

impl Host for TestHost {
    async fn kvs_get(&self, key: &str) -> HostResult<Option<Value>> {
        self.injected_kvs_fault(key)?;
        self.tick();
        self.expire();
        self.w.borrow_mut().kvs_reads += 1;
        Ok(self.w.borrow().kvs.get(key).map(|(v, _)| v.clone()))
    }
    async fn kvs_set(&self, key: &str, value: &Value, opts: SetOptions) -> HostResult<bool> {
        if key.starts_with("lock:create:") {
            let hook = self.before_create_lock.borrow_mut().take();
            if let Some(hook) = hook {
                hook(self);
            }
        }
        self.injected_kvs_fault(key)?;
        self.tick();
        self.expire();
        {
            let mut w = self.w.borrow_mut();
            if opts.if_not_exists && w.kvs.contains_key(key) {
                return Ok(false);
            }
            let exp = opts.ttl_seconds.map(|t| w.now + t as i64 * 1000);
            w.kvs.insert(key.into(), (value.clone(), exp));
        }
        self.wrote();
        Ok(true)
    }
    async fn kvs_delete(&self, key: &str) -> HostResult<()> {
        self.injected_kvs_fault(key)?;
        self.tick();
        self.w.borrow_mut().kvs.remove(key);
        self.wrote();
        Ok(())
    }
    async fn kvs_query(
        &self,
        prefix: &str,
        cursor: Option<&str>,
        limit: u32,
    ) -> HostResult<QueryPage> {
        assert!((1..=20).contains(&limit), "Forge KVS query limit is 1..=20");
        self.tick();
        self.expire();
        let w = self.w.borrow();
        let start: usize = cursor.and_then(|c| c.parse().ok()).unwrap_or(0);
        let all: Vec<KeyValue> = w
            .kvs
            .iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .map(|(k, (v, _))| KeyValue {
                key: k.clone(),
                value: v.clone(),
            })
            .collect();
        let results: Vec<KeyValue> = all
            .iter()
            .skip(start)
            .take(limit as usize)
            .cloned()
            .collect();
        let next_cursor =
            (start + (limit as usize) < all.len()).then(|| (start + limit as usize).to_string());
        Ok(QueryPage {
            results,
            next_cursor,
        })
    }
    async fn kvs_transact(&self, ops: &[TxOp]) -> HostResult<()> {
        assert!(ops.len() <= 25, "transaction over 25 ops");
        for op in ops {
            match op {
                TxOp::Set { key, .. } | TxOp::Delete { key } => self.injected_kvs_fault(key)?,
            }
        }
        self.tick();
        {
            let mut w = self.w.borrow_mut();
            for op in ops {
                match op {
                    TxOp::Set { key, value } => {
                        w.kvs.insert(key.clone(), (value.clone(), None));
                    }
                    TxOp::Delete { key } => {
                        w.kvs.remove(key);
                    }
                }
            }
        }
        self.wrote();
        Ok(())
    }
    async fn secret_get(&self, name: &str) -> HostResult<Option<String>> {
        Ok(self.w.borrow().secrets.get(name).cloned())
    }
    async fn secret_set(&self, name: &str, value: &str) -> HostResult<()> {
        self.w
            .borrow_mut()
            .secrets
            .insert(name.into(), value.into());
        Ok(())
    }
    async fn secret_delete(&self, name: &str) -> HostResult<()> {
        self.w.borrow_mut().secrets.remove(name);
        Ok(())
    }
    async fn jira(&self, req: JiraRequest) -> HostResult<HttpResponse> {
        self.tick();
        let r = {
            let mut w = self.w.borrow_mut();
            let now = w.now;
            let r = w.jira.handle(now, &req);
            w.jira
                .log
                .push((req.method.clone(), req.path.clone(), r.status));
            r
        };
        if req.method != "GET" && !req.path.starts_with("/rest/api/3/search") {
            self.wrote();
        }
        Ok(r)
    }
    async fn cataam(&self, req: CataamRequest) -> HostResult<HttpResponse> {
        self.tick();
        let r = {
            let mut w = self.w.borrow_mut();
            let now = w.now;
            let r = w.cataam.handle(now, &req);
            w.cataam
                .log
                .push((req.method.clone(), req.url.clone(), r.status));
            r
        };
        if req.method != "GET" {
            self.wrote();
        }
        Ok(r)
    }
    async fn queue_push(&self, events: &[QueueEvent]) -> HostResult<()> {
        assert!(events.len() <= 50);
        for e in events {
            assert!(e.delay_in_seconds <= 900);
        }
        self.w.borrow_mut().queue.extend(events.iter().cloned());
        self.wrote();
        Ok(())
    }
    async fn web_trigger_url(&self) -> HostResult<String> {
        Ok("https://example.invalid/x/1".into())
    }
    async fn random_hex(&self, n: usize) -> HostResult<String> {
        Ok("ab".repeat(n))
    }
    fn now_ms(&self) -> i64 {
        self.w.borrow().now
    }
    fn remaining_ms(&self) -> i64 {
        let w = self.w.borrow();
        w.deadline.saturating_sub(w.now)
    }
    fn log(&self, _level: LogLevel, message: &str, fields: &Value) {
        let _ = (message, fields);
    }
}

/// Builds an iASM finding.
pub fn iasm(id: &str, severity: Severity, at_ms: i64) -> Finding {
    Finding {
        id: id.into(),
        kind: FindingKind::Iasm,
        status: FindingStatus::Open,
        severity,
        title: format!("Exposed admin panel SECRET-TITLE-{id}"),
        description: "SECRET-DESCRIPTION: the admin panel is reachable from the internet.".into(),
        remediation: "SECRET-REMEDIATION: restrict access.".into(),
        compliance_controls: vec!["ISO 27001 A.8.8".into(), "SOC 2 CC7.1".into()],
        mitre: Some(Mitre {
            technique_id: "T1059.001".into(),
            name: "PowerShell".into(),
        }),
        asset: Some(Asset {
            hostname: Some("secret-host.example.com".into()),
            ip: Some("203.0.113.7".into()),
            port: Some(443),
            service: Some("https".into()),
            cloud_account: Some("aws:1234".into()),
        }),
        compliance: None,
        due_date: None,
        assigned_to: None,
        url: Some(format!("https://app.cataam.com/findings/{id}")),
        created_at: rfc3339(at_ms),
        updated_at: rfc3339(at_ms),
    }
}

/// Builds a failing compliance finding.
pub fn compliance(id: &str, test_id: &str, at_ms: i64) -> Finding {
    let mut f = iasm(id, Severity::High, at_ms);
    f.kind = FindingKind::Compliance;
    f.mitre = None;
    f.asset = None;
    f.compliance = Some(Compliance {
        test_id: test_id.into(),
        test_name: "S3 buckets block public access".into(),
        framework: "ISO 27001".into(),
        control_id: "A.8.8".into(),
        result: TestResult::Fail,
        logs: Some("SECRET-LOGS: bucket public-read".into()),
    });
    f
}

/// An engine over the host with test settings and the right key.
pub fn engine(h: &TestHost) -> cataam_jira::engine::Engine<'_, TestHost> {
    cataam_jira::engine::Engine::new(h, TestHost::settings(), API_KEY.into())
}

/// Runs one scheduled poll.
pub fn poll(h: &TestHost) -> cataam_jira::engine::RunReport {
    block_on(engine(h).run_poll()).expect("poll")
}

/// Delivers every queued message (due or not, advancing the clock past its delay), repeatedly,
/// bounded; returns the reports.
pub fn drain_queue(h: &TestHost, max_rounds: usize) -> Vec<cataam_jira::engine::RunReport> {
    let mut out = vec![];
    for _ in 0..max_rounds {
        let q = h.take_queue();
        if q.is_empty() {
            return out;
        }
        for ev in q {
            h.advance(ev.delay_in_seconds as i64 * 1000);
            if let Ok(r) = block_on(engine(h).run_queue_message(&ev.body)) {
                out.push(r);
            }
        }
    }
    panic!("queue did not drain: livelock");
}
