//! A dumb in-memory `Host` for the push and admin tests: a KVS with TTL and "if not exists", secret
//! storage, a tiny Jira (permissions of the caller, paged project search), a programmable CATAAM,
//! a queue log, a virtual clock and a log capture. Every call is recorded so tests can assert what
//! was (not) touched, and failures can be switched on per subsystem.
#![allow(dead_code)]

use cataam_jira::host::{
    CataamRequest, Host, HostError, HostResult, HttpResponse, JiraRequest, KeyValue, LogLevel,
    QueryPage, QueueEvent, SetOptions, TxOp,
};
use serde_json::{json, Value};
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

/// Runs a future whose awaits all complete immediately (every fake host call does).
pub fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..10_000 {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
    panic!("future did not complete: the fake host never blocks");
}

/// A programmable CATAAM: answers a request with a response or a transport error.
pub type CataamHandler = Box<dyn Fn(&CataamRequest) -> HostResult<HttpResponse>>;

/// One stored KVS entry.
#[derive(Debug, Clone)]
pub struct Entry {
    pub value: Value,
    pub expires_at_ms: Option<i64>,
}

pub struct FakeHost {
    pub kvs: RefCell<BTreeMap<String, Entry>>,
    pub secrets: RefCell<BTreeMap<String, String>>,
    pub kvs_down: Cell<bool>,
    pub secrets_down: Cell<bool>,
    pub jira_down: Cell<bool>,
    /// Whether the invoking user is a Jira administrator.
    pub caller_is_admin: Cell<bool>,
    /// Projects `(id, key, name)` the caller can browse.
    pub projects: RefCell<Vec<(String, String, String)>>,
    pub cataam_handler: RefCell<CataamHandler>,
    pub jira_log: RefCell<Vec<JiraRequest>>,
    pub cataam_log: RefCell<Vec<CataamRequest>>,
    pub queue: RefCell<Vec<QueueEvent>>,
    pub logs: RefCell<Vec<(LogLevel, String, Value)>>,
    pub secret_reads: Cell<u32>,
    pub kvs_reads: Cell<u32>,
    pub random_calls: Cell<u32>,
    pub now: Cell<i64>,
    pub remaining: Cell<i64>,
    pub trigger_url: String,
}

/// A JSON HTTP response.
pub fn http(status: u16, body: Value) -> HttpResponse {
    HttpResponse {
        status,
        headers: vec![("content-type".into(), "application/json".into())],
        body,
    }
}

impl Default for FakeHost {
    fn default() -> Self {
        Self::new()
    }
}

impl FakeHost {
    pub fn new() -> Self {
        Self {
            kvs: RefCell::default(),
            secrets: RefCell::default(),
            kvs_down: Cell::new(false),
            secrets_down: Cell::new(false),
            jira_down: Cell::new(false),
            caller_is_admin: Cell::new(true),
            projects: RefCell::new(vec![]),
            cataam_handler: RefCell::new(Box::new(|_| Ok(http(404, json!({}))))),
            jira_log: RefCell::default(),
            cataam_log: RefCell::default(),
            queue: RefCell::default(),
            logs: RefCell::default(),
            secret_reads: Cell::new(0),
            kvs_reads: Cell::new(0),
            random_calls: Cell::new(0),
            now: Cell::new(1_780_000_000_000),
            remaining: Cell::new(50_000),
            trigger_url: "https://example.atlassian-dev.net/x1/abcdef".into(),
        }
    }

    pub fn set_cataam(&self, f: impl Fn(&CataamRequest) -> HostResult<HttpResponse> + 'static) {
        *self.cataam_handler.borrow_mut() = Box::new(f);
    }

    pub fn put_secret(&self, name: &str, value: &str) {
        self.secrets.borrow_mut().insert(name.into(), value.into());
    }

    pub fn secret(&self, name: &str) -> Option<String> {
        self.secrets.borrow().get(name).cloned()
    }

    pub fn put(&self, key: &str, value: Value) {
        self.kvs.borrow_mut().insert(
            key.into(),
            Entry {
                value,
                expires_at_ms: None,
            },
        );
    }

    pub fn get(&self, key: &str) -> Option<Value> {
        self.live(key).map(|e| e.value)
    }

    pub fn entry(&self, key: &str) -> Option<Entry> {
        self.live(key)
    }

    fn live(&self, key: &str) -> Option<Entry> {
        let now = self.now.get();
        self.kvs
            .borrow()
            .get(key)
            .filter(|e| e.expires_at_ms.is_none_or(|t| t > now))
            .cloned()
    }

    /// Everything an operator could see: every KVS key and value and every log line, as text.
    pub fn observable_text(&self) -> String {
        let mut s = String::new();
        for (k, e) in self.kvs.borrow().iter() {
            s.push_str(k);
            s.push(' ');
            s.push_str(&e.value.to_string());
            s.push('\n');
        }
        for (_, m, f) in self.logs.borrow().iter() {
            s.push_str(m);
            s.push(' ');
            s.push_str(&f.to_string());
            s.push('\n');
        }
        s
    }

    fn kvs_check(&self) -> HostResult<()> {
        if self.kvs_down.get() {
            Err(HostError::new("KVS", "storage unavailable (test)"))
        } else {
            Ok(())
        }
    }

    fn secrets_check(&self) -> HostResult<()> {
        if self.secrets_down.get() {
            Err(HostError::new("KVS", "secret storage unavailable (test)"))
        } else {
            Ok(())
        }
    }

    fn query_param(path: &str, name: &str) -> Option<String> {
        let q = path.split_once('?')?.1;
        url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }

    fn fake_jira(&self, req: &JiraRequest) -> HttpResponse {
        let path = req.path.as_str();
        if path.starts_with("/rest/api/3/mypermissions") {
            if !req.as_user {
                return http(400, json!({"errorMessages": ["as app has no user"]}));
            }
            return http(
                200,
                json!({"permissions": {"ADMINISTER": {
                    "id": "0", "key": "ADMINISTER", "havePermission": self.caller_is_admin.get()
                }}}),
            );
        }
        if path.starts_with("/rest/api/3/project/search") {
            let start: usize = Self::query_param(path, "startAt")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            let max: usize = Self::query_param(path, "maxResults")
                .and_then(|v| v.parse().ok())
                .unwrap_or(50)
                .min(100);
            let query = Self::query_param(path, "query")
                .unwrap_or_default()
                .to_lowercase();
            let all: Vec<_> = self
                .projects
                .borrow()
                .iter()
                .filter(|(_, k, n)| {
                    query.is_empty()
                        || k.to_lowercase().contains(&query)
                        || n.to_lowercase().contains(&query)
                })
                .cloned()
                .collect();
            let page: Vec<Value> = all
                .iter()
                .skip(start)
                .take(max)
                .map(|(id, key, name)| json!({"id": id, "key": key, "name": name}))
                .collect();
            let is_last = start + page.len() >= all.len();
            return http(
                200,
                json!({"startAt": start, "maxResults": max, "total": all.len(),
                       "isLast": is_last, "values": page}),
            );
        }
        if path.starts_with("/rest/api/3/search/jql") {
            return http(200, json!({"issues": [], "isLast": true}));
        }
        http(404, json!({"errorMessages": ["not faked"]}))
    }
}

impl Host for FakeHost {
    async fn kvs_get(&self, key: &str) -> HostResult<Option<Value>> {
        self.kvs_reads.set(self.kvs_reads.get() + 1);
        self.kvs_check()?;
        Ok(self.get(key))
    }

    async fn kvs_set(&self, key: &str, value: &Value, opts: SetOptions) -> HostResult<bool> {
        self.kvs_check()?;
        if opts.if_not_exists && self.live(key).is_some() {
            return Ok(false);
        }
        let expires_at_ms = opts.ttl_seconds.map(|s| self.now.get() + (s as i64) * 1000);
        self.kvs.borrow_mut().insert(
            key.into(),
            Entry {
                value: value.clone(),
                expires_at_ms,
            },
        );
        Ok(true)
    }

    async fn kvs_delete(&self, key: &str) -> HostResult<()> {
        self.kvs_check()?;
        self.kvs.borrow_mut().remove(key);
        Ok(())
    }

    async fn kvs_query(
        &self,
        prefix: &str,
        cursor: Option<&str>,
        limit: u32,
    ) -> HostResult<QueryPage> {
        self.kvs_check()?;
        let now = self.now.get();
        let all: Vec<KeyValue> = self
            .kvs
            .borrow()
            .iter()
            .filter(|(k, e)| k.starts_with(prefix) && e.expires_at_ms.is_none_or(|t| t > now))
            .filter(|(k, _)| cursor.is_none_or(|c| k.as_str() > c))
            .map(|(k, e)| KeyValue {
                key: k.clone(),
                value: e.value.clone(),
            })
            .collect();
        let limit = limit.max(1) as usize;
        let more = all.len() > limit;
        let results: Vec<KeyValue> = all.into_iter().take(limit).collect();
        let next_cursor = if more {
            results.last().map(|kv| kv.key.clone())
        } else {
            None
        };
        Ok(QueryPage {
            results,
            next_cursor,
        })
    }

    async fn kvs_transact(&self, ops: &[TxOp]) -> HostResult<()> {
        self.kvs_check()?;
        for op in ops {
            match op {
                TxOp::Set { key, value } => self.put(key, value.clone()),
                TxOp::Delete { key } => {
                    self.kvs.borrow_mut().remove(key);
                }
            }
        }
        Ok(())
    }

    async fn secret_get(&self, name: &str) -> HostResult<Option<String>> {
        self.secrets_check()?;
        self.secret_reads.set(self.secret_reads.get() + 1);
        Ok(self.secret(name))
    }

    async fn secret_set(&self, name: &str, value: &str) -> HostResult<()> {
        self.secrets_check()?;
        self.put_secret(name, value);
        Ok(())
    }

    async fn secret_delete(&self, name: &str) -> HostResult<()> {
        self.secrets_check()?;
        self.secrets.borrow_mut().remove(name);
        Ok(())
    }

    async fn jira(&self, req: JiraRequest) -> HostResult<HttpResponse> {
        self.jira_log.borrow_mut().push(req.clone());
        if self.jira_down.get() {
            return Err(HostError::new("NETWORK", "jira unreachable (test)"));
        }
        Ok(self.fake_jira(&req))
    }

    async fn cataam(&self, req: CataamRequest) -> HostResult<HttpResponse> {
        self.cataam_log.borrow_mut().push(req.clone());
        (self.cataam_handler.borrow())(&req)
    }

    async fn queue_push(&self, events: &[QueueEvent]) -> HostResult<()> {
        self.queue.borrow_mut().extend_from_slice(events);
        Ok(())
    }

    async fn web_trigger_url(&self) -> HostResult<String> {
        Ok(self.trigger_url.clone())
    }

    async fn random_hex(&self, n: usize) -> HostResult<String> {
        let c = self.random_calls.get() + 1;
        self.random_calls.set(c);
        Ok((0..n)
            .map(|i| format!("{:02x}", (i as u32 * 31 + c * 97) % 256))
            .collect())
    }

    fn now_ms(&self) -> i64 {
        self.now.get()
    }

    fn remaining_ms(&self) -> i64 {
        self.remaining.get()
    }

    fn log(&self, level: LogLevel, message: &str, fields: &Value) {
        self.logs
            .borrow_mut()
            .push((level, message.to_string(), fields.clone()));
    }
}
