//! Admin resolver operations over a fake host: admin gate, every operation's success and failure
//! answers, and that no secret leaks into answers, logs or storage.

mod admin_fake;

use admin_fake::{block_on, http, FakeHost};
use cataam_jira::admin::{handle, FUNCTIONS};
use cataam_jira::host::{CataamRequest, HostError};
use cataam_jira::settings::{Settings, SECRET_API_KEY, SECRET_WEBHOOK, SECRET_WEBHOOK_PREVIOUS};
use cataam_jira::store;
use serde_json::{json, Value};

const KEY: &str = "cataam_live_5c1f0e2d9b8a7f6e";
const NEW_KEY: &str = "cataam_live_0a1b2c3d4e5f6789";
const WEBHOOK_SECRET: &str = "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a0f9e8d";

fn ctx() -> Value {
    json!({ "accountId": "5b10ac8d82e05b22cc7d4ef5" })
}

fn call(h: &FakeHost, f: &str, payload: Value) -> Value {
    block_on(handle(h, f, &payload, &ctx()))
}

fn code(answer: &Value) -> &str {
    assert_eq!(answer["ok"], json!(false), "{answer}");
    answer["error"]["code"].as_str().unwrap()
}

fn ok(answer: &Value) -> &Value {
    assert_eq!(answer["ok"], json!(true), "{answer}");
    answer
}

fn header<'a>(req: &'a CataamRequest, name: &str) -> Option<&'a str> {
    req.headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// A CATAAM that knows `KEY` and `NEW_KEY`, answers the org and accepts webhook registrations.
fn cataam_ok(h: &FakeHost) {
    h.set_cataam(|req| {
        let auth = header(req, "authorization").unwrap_or("");
        if auth != format!("Bearer {KEY}") && auth != format!("Bearer {NEW_KEY}") {
            return Ok(http(401, json!({"error": {"code": "KEY_REJECTED", "message": "no"}})));
        }
        let path = req.url.split_once(".cataam.com").map(|(_, p)| p).unwrap_or("");
        Ok(match (req.method.as_str(), path) {
            ("GET", "/api/v1/org") => http(200, json!({"id": "org_1", "name": "Acme Security"})),
            ("PUT", "/api/v1/integrations/jira-forge/webhook") => http(
                200,
                json!({"url": req.body.as_ref().unwrap()["url"], "registeredAt": "2026-12-04T20:00:00Z"}),
            ),
            ("GET", p) if p.starts_with("/api/v1/findings?") => {
                http(200, json!({"items": [], "nextCursor": null}))
            }
            ("GET", p) if p.starts_with("/api/v1/findings/") => {
                http(404, json!({"error": {"code": "NOT_FOUND", "message": "no such finding"}}))
            }
            _ => http(404, json!({"error": {"code": "NOT_FOUND", "message": "?"}})),
        })
    });
}

/// A configured installation: settings with a project, a stored key and webhook secret.
fn configured() -> FakeHost {
    let h = FakeHost::new();
    cataam_ok(&h);
    let s = Settings {
        project_id: Some("10000".into()),
        project_key: Some("SEC".into()),
        ..Settings::default()
    };
    h.put(store::SETTINGS, serde_json::to_value(&s).unwrap());
    h.put_secret(SECRET_API_KEY, KEY);
    h.put_secret(SECRET_WEBHOOK, WEBHOOK_SECRET);
    h
}

fn save_payload() -> Value {
    json!({
        "baseUrl": "https://service.cataam.com/",
        "apiKey": NEW_KEY,
        "projectId": "10001",
        "projectKey": "OPS",
        "issueType": "Bug",
        "minSeverity": "HIGH",
        "kinds": ["IASM"],
        "priorities": {"critical": "Highest", "high": "High", "medium": "Medium", "low": "Low", "info": "Lowest"}
    })
}

fn health_of(h: &FakeHost) -> store::Health {
    block_on(store::read_health(h)).unwrap()
}

fn stored_settings(h: &FakeHost) -> Settings {
    serde_json::from_value(h.get(store::SETTINGS).unwrap()).unwrap()
}

fn payload_for(f: &str) -> Value {
    match f {
        "saveSettings" => save_payload(),
        "testConnection" => json!({"baseUrl": "https://service.cataam.com", "apiKey": NEW_KEY}),
        "listProjects" => json!({"query": "", "startAt": 0}),
        "retryDeadLetter" => json!({"findingId": "fnd_1"}),
        _ => json!({}),
    }
}

#[test]
fn non_admins_are_refused_and_nothing_changes() {
    let h = configured();
    h.caller_is_admin.set(false);
    h.put(
        &store::dead_letter("fnd_1"),
        json!({"findingId": "fnd_1", "code": "X", "attempts": 6, "at": 1}),
    );
    let kvs_before = format!("{:?}", h.kvs.borrow());
    let secrets_before = h.secrets.borrow().clone();
    for f in FUNCTIONS {
        let answer = call(&h, f, payload_for(f));
        assert_eq!(code(&answer), "FORBIDDEN", "{f}");
        assert!(answer.get("settings").is_none() && answer.get("secret").is_none());
    }
    assert_eq!(format!("{:?}", h.kvs.borrow()), kvs_before);
    assert_eq!(*h.secrets.borrow(), secrets_before);
    assert_eq!(
        h.secret_reads.get(),
        0,
        "no secret is even read for a non-admin"
    );
    assert!(h.cataam_log.borrow().is_empty());
    assert!(h.queue.borrow().is_empty());
    // Every check was made as the user, on the ADMINISTER permission.
    let log = h.jira_log.borrow();
    assert_eq!(log.len(), FUNCTIONS.len());
    assert!(log
        .iter()
        .all(|r| r.as_user && r.path == "/rest/api/3/mypermissions?permissions=ADMINISTER"));
}

#[test]
fn admin_check_fails_closed() {
    let h = configured();
    // No user in the context: refused without asking Jira.
    let answer = block_on(handle(
        &h,
        "getSettings",
        &json!({}),
        &json!({"accountId": null}),
    ));
    assert_eq!(code(&answer), "FORBIDDEN");
    assert!(h.jira_log.borrow().is_empty());
    // Jira down: refused with a retryable code, nothing read.
    h.jira_down.set(true);
    assert_eq!(
        code(&call(&h, "getSettings", json!({}))),
        "JIRA_UNREACHABLE"
    );
    assert_eq!(h.secret_reads.get(), 0);
}

#[test]
fn unknown_function_is_refused() {
    let h = configured();
    assert_eq!(code(&call(&h, "dropTables", json!({}))), "UNKNOWN_FUNCTION");
}

#[test]
fn get_settings_reports_flags_never_secrets() {
    let h = FakeHost::new();
    let a = call(&h, "getSettings", json!({}));
    ok(&a);
    assert_eq!(a["apiKeySet"], json!(false));
    assert_eq!(a["webhookSecretSet"], json!(false));
    assert_eq!(
        a["settings"]["baseUrl"],
        json!("https://service.cataam.com")
    );
    assert_eq!(a["webTriggerUrl"], json!(h.trigger_url));

    let h = configured();
    let a = call(&h, "getSettings", json!({}));
    ok(&a);
    assert_eq!(a["apiKeySet"], json!(true));
    assert_eq!(a["webhookSecretSet"], json!(true));
    assert_eq!(a["settings"]["projectId"], json!("10000"));
    let text = a.to_string();
    assert!(!text.contains(KEY) && !text.contains(WEBHOOK_SECRET));
}

#[test]
fn save_settings_stores_validates_and_registers_the_webhook() {
    let h = FakeHost::new();
    cataam_ok(&h);
    h.put_secret(SECRET_WEBHOOK, WEBHOOK_SECRET);
    let a = call(&h, "saveSettings", save_payload());
    ok(&a);
    assert_eq!(a["webhook"]["registered"], json!(true));
    assert_eq!(a["webhook"]["url"], json!(h.trigger_url));
    assert_eq!(a["apiKeySet"], json!(true));
    let s = stored_settings(&h);
    assert_eq!(s.base_url, "https://service.cataam.com");
    assert_eq!(s.project_id.as_deref(), Some("10001"));
    assert_eq!(s.project_key.as_deref(), Some("OPS"));
    assert_eq!(s.min_severity, cataam_jira::model::Severity::High);
    assert_eq!(s.kinds, vec![cataam_jira::model::FindingKind::Iasm]);
    assert_eq!(h.secret(SECRET_API_KEY).as_deref(), Some(NEW_KEY));
    let reqs = h.cataam_log.borrow();
    let put = reqs.last().unwrap();
    assert_eq!(put.method, "PUT");
    assert_eq!(
        put.url,
        "https://service.cataam.com/api/v1/integrations/jira-forge/webhook"
    );
    assert_eq!(put.body, Some(json!({"url": h.trigger_url})));
    assert_eq!(
        header(put, "authorization"),
        Some(format!("Bearer {NEW_KEY}").as_str())
    );
    drop(reqs);
    // The registration proved the key: the health panel says so.
    let health = health_of(&h);
    assert_eq!(health.connection.as_deref(), Some("ok"));
    assert!(!a.to_string().contains(NEW_KEY));
}

#[test]
fn blank_api_key_keeps_the_stored_one() {
    let h = configured();
    let mut p = save_payload();
    p["apiKey"] = json!("  ");
    ok(&call(&h, "saveSettings", p.clone()));
    assert_eq!(h.secret(SECRET_API_KEY).as_deref(), Some(KEY));
    assert_eq!(
        h.cataam_log
            .borrow()
            .last()
            .map(|r| header(r, "authorization").unwrap().to_string()),
        Some(format!("Bearer {KEY}"))
    );

    let fresh = FakeHost::new();
    cataam_ok(&fresh);
    let a = call(&fresh, "saveSettings", p);
    assert_eq!(code(&a), "VALIDATION");
    assert_eq!(a["error"]["fields"][0]["field"], json!("apiKey"));
    assert_eq!(a["error"]["fields"][0]["code"], json!("REQUIRED"));
    assert!(fresh.get(store::SETTINGS).is_none());
}

#[test]
fn invalid_settings_answer_every_field_error_and_store_nothing() {
    let h = configured();
    let before = h.get(store::SETTINGS);
    let a = call(
        &h,
        "saveSettings",
        json!({
            "baseUrl": "https://evil.example.com",
            "apiKey": "sk_live_123",
            "projectId": "",
            "issueType": " ",
            "minSeverity": "SEVERE",
            "kinds": ["IASM", "MALWARE"],
            "priorities": {"critical": "", "high": "High", "medium": "Medium", "low": "Low", "info": "Lowest"}
        }),
    );
    assert_eq!(code(&a), "VALIDATION");
    let mut got: Vec<(String, String)> = a["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["field"].as_str().unwrap().to_string(),
                f["code"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    got.sort();
    let want = [
        ("apiKey", "INVALID_API_KEY"),
        ("baseUrl", "HOST_NOT_ALLOWED"),
        ("issueType", "REQUIRED"),
        ("kinds", "INVALID_VALUE"),
        ("minSeverity", "INVALID_VALUE"),
        ("priorities.critical", "REQUIRED"),
        ("projectId", "REQUIRED"),
    ];
    assert_eq!(got, want.map(|(a, b)| (a.to_string(), b.to_string())));
    assert!(
        !a.to_string().contains("sk_live_123"),
        "the submitted key is never echoed"
    );
    assert_eq!(h.get(store::SETTINGS), before);
    assert_eq!(h.secret(SECRET_API_KEY).as_deref(), Some(KEY));
    assert!(h.cataam_log.borrow().is_empty());
    // A payload that is not an object at all.
    assert_eq!(code(&call(&h, "saveSettings", json!("x"))), "VALIDATION");
}

#[test]
fn webhook_registration_failure_is_reported_not_swallowed() {
    let h = configured();
    h.set_cataam(|_| {
        Ok(http(
            401,
            json!({"error": {"code": "KEY_REJECTED", "message": "revoked"}}),
        ))
    });
    let mut p = save_payload();
    p["apiKey"] = json!("");
    let a = call(&h, "saveSettings", p);
    ok(&a);
    assert_eq!(a["webhook"]["registered"], json!(false));
    assert_eq!(a["webhook"]["error"]["code"], json!("KEY_REJECTED"));
    assert_eq!(
        stored_settings(&h).project_id.as_deref(),
        Some("10001"),
        "settings still saved"
    );
    assert_eq!(health_of(&h).connection.as_deref(), Some("key_rejected"));

    h.set_cataam(|_| Err(HostError::new("NETWORK", "down")));
    let mut p = save_payload();
    p["apiKey"] = json!("");
    let a = call(&h, "saveSettings", p);
    assert_eq!(a["webhook"]["registered"], json!(false));
    assert_eq!(a["webhook"]["error"]["code"], json!("UNREACHABLE"));
}

#[test]
fn save_keeps_the_previous_secret_expiry() {
    let h = configured();
    let mut s = stored_settings(&h);
    s.previous_secret_expires_at = Some(h.now.get() + 1000);
    h.put(store::SETTINGS, serde_json::to_value(&s).unwrap());
    let mut p = save_payload();
    p["previousSecretExpiresAt"] = json!(0);
    ok(&call(&h, "saveSettings", p));
    assert_eq!(
        stored_settings(&h).previous_secret_expires_at,
        Some(h.now.get() + 1000)
    );
}

#[test]
fn test_connection_answers_org_or_a_specific_error() {
    let h = configured();
    let a = call(&h, "testConnection", json!({}));
    assert_eq!(ok(&a)["org"]["name"], json!("Acme Security"));
    assert_eq!(
        h.cataam_log.borrow().last().unwrap().url,
        "https://service.cataam.com/api/v1/org"
    );

    let a = call(
        &h,
        "testConnection",
        json!({"baseUrl": "https://app.cataam.com/", "apiKey": NEW_KEY}),
    );
    ok(&a);
    let last = h.cataam_log.borrow().last().unwrap().clone();
    assert_eq!(last.url, "https://app.cataam.com/api/v1/org");
    assert_eq!(
        header(&last, "authorization"),
        Some(format!("Bearer {NEW_KEY}").as_str())
    );

    let a = call(&h, "testConnection", json!({"apiKey": "cataam_wrong"}));
    assert_eq!(code(&a), "KEY_REJECTED");
    assert!(!a.to_string().contains("cataam_wrong"));

    for (url, want) in [
        ("http://service.cataam.com", "INVALID_URL"),
        ("https://service.cataam.com/?x=1", "INVALID_URL"),
        ("https://u:p@service.cataam.com", "INVALID_URL"),
        ("https://evil.com", "HOST_NOT_ALLOWED"),
        ("https://10.0.0.1", "HOST_NOT_ALLOWED"),
    ] {
        let a = call(&h, "testConnection", json!({"baseUrl": url}));
        assert_eq!(code(&a), want, "{url}");
        assert_eq!(a["error"]["field"], json!("baseUrl"));
    }
    assert_eq!(
        code(&call(&h, "testConnection", json!({"apiKey": "nope"}))),
        "INVALID_API_KEY"
    );

    h.set_cataam(|_| Err(HostError::new("TIMEOUT", "slow")));
    assert_eq!(code(&call(&h, "testConnection", json!({}))), "UNREACHABLE");
    h.set_cataam(|_| Ok(http(503, json!(null))));
    assert_eq!(code(&call(&h, "testConnection", json!({}))), "UNREACHABLE");
    h.set_cataam(|_| Ok(http(200, json!({"unexpected": true}))));
    assert_eq!(code(&call(&h, "testConnection", json!({}))), "UNREACHABLE");

    let fresh = FakeHost::new();
    cataam_ok(&fresh);
    assert_eq!(
        code(&call(&fresh, "testConnection", json!({}))),
        "NOT_CONFIGURED"
    );
}

#[test]
fn test_connection_of_the_stored_config_updates_the_health_state() {
    let h = configured();
    h.set_cataam(|_| Ok(http(401, json!({"error": {"code": "KEY_REJECTED"}}))));
    assert_eq!(code(&call(&h, "testConnection", json!({}))), "KEY_REJECTED");
    assert_eq!(health_of(&h).connection.as_deref(), Some("key_rejected"));
    // Testing a different key does not touch the stored state.
    cataam_ok(&h);
    ok(&call(&h, "testConnection", json!({"apiKey": NEW_KEY})));
    assert_eq!(health_of(&h).connection.as_deref(), Some("key_rejected"));
}

fn projects(n: usize) -> Vec<(String, String, String)> {
    (0..n)
        .map(|i| {
            (
                format!("{}", 10000 + i),
                format!("P{i}"),
                format!("Project {i:03}"),
            )
        })
        .collect()
}

#[test]
fn list_projects_reads_every_page_as_the_user() {
    let h = configured();
    *h.projects.borrow_mut() = projects(250);
    let a = call(&h, "listProjects", json!({"query": "", "startAt": 0}));
    ok(&a);
    let list = a["projects"].as_array().unwrap();
    assert_eq!(list.len(), 250);
    assert_eq!(
        list[0],
        json!({"id": "10000", "key": "P0", "name": "Project 000"})
    );
    assert_eq!(a["isLast"], json!(true));
    assert_eq!(a["nextStartAt"], Value::Null);
    let log = h.jira_log.borrow();
    let searches: Vec<_> = log
        .iter()
        .filter(|r| r.path.contains("project/search"))
        .collect();
    assert_eq!(searches.len(), 3);
    assert!(searches.iter().all(|r| r.as_user && r.method == "GET"));
    assert!(searches[1].path.contains("startAt=100&maxResults=100"));
}

#[test]
fn list_projects_query_start_and_budget() {
    let h = configured();
    *h.projects.borrow_mut() = projects(250);
    let a = call(
        &h,
        "listProjects",
        json!({"query": "Project 24", "startAt": 0}),
    );
    assert_eq!(ok(&a)["projects"].as_array().unwrap().len(), 10);
    assert!(h
        .jira_log
        .borrow()
        .last()
        .unwrap()
        .path
        .ends_with("&query=Project+24"));

    let a = call(&h, "listProjects", json!({"startAt": 200}));
    assert_eq!(ok(&a)["projects"].as_array().unwrap().len(), 50);

    // Little time left: answer the first page and where to continue.
    h.remaining.set(1000);
    let a = call(&h, "listProjects", json!({"startAt": 0}));
    ok(&a);
    assert_eq!(a["projects"].as_array().unwrap().len(), 100);
    assert_eq!(a["isLast"], json!(false));
    assert_eq!(a["nextStartAt"], json!(100));

    assert_eq!(
        code(&call(&h, "listProjects", json!({"startAt": "x"}))),
        "INVALID_INPUT"
    );
    h.remaining.set(50_000);
    let empty = configured();
    let a = call(&empty, "listProjects", json!({}));
    assert_eq!(ok(&a)["projects"], json!([]));
    assert_eq!(a["isLast"], json!(true));
}

#[test]
fn generate_secret_rotates_with_a_grace_period_and_shows_the_secret_once() {
    let h = FakeHost::new();
    let a = call(&h, "generateSecret", json!({}));
    let first = ok(&a)["secret"].as_str().unwrap().to_string();
    assert_eq!(first.len(), 64);
    assert!(first.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(h.secret(SECRET_WEBHOOK).as_deref(), Some(first.as_str()));
    assert_eq!(h.secret(SECRET_WEBHOOK_PREVIOUS), None);
    assert_eq!(a["previousSecretValidUntil"], Value::Null);

    h.now.set(h.now.get() + 10_000);
    let a = call(&h, "generateSecret", json!({}));
    let second = ok(&a)["secret"].as_str().unwrap().to_string();
    assert_ne!(first, second);
    assert_eq!(h.secret(SECRET_WEBHOOK).as_deref(), Some(second.as_str()));
    assert_eq!(
        h.secret(SECRET_WEBHOOK_PREVIOUS).as_deref(),
        Some(first.as_str())
    );
    let until = h.now.get() + 24 * 3600 * 1000;
    assert_eq!(a["previousSecretValidUntil"], json!(until));
    assert_eq!(stored_settings(&h).previous_secret_expires_at, Some(until));
    // Shown once: getSettings and storage only know that a secret is set.
    let s = call(&h, "getSettings", json!({}));
    assert_eq!(s["webhookSecretSet"], json!(true));
    let observable = format!("{}{}", s, h.observable_text());
    assert!(!observable.contains(&first) && !observable.contains(&second));
}

#[test]
fn generate_secret_refuses_bad_randomness_and_storage_failures() {
    let h = FakeHost::new();
    h.secrets_down.set(true);
    assert_eq!(code(&call(&h, "generateSecret", json!({}))), "KVS");
    assert!(h.secrets.borrow().is_empty());
}

#[test]
fn reregister_webhook() {
    let h = configured();
    let a = call(&h, "reregisterWebhook", json!({}));
    assert_eq!(ok(&a)["url"], json!(h.trigger_url));
    assert_eq!(a["registeredAt"], json!("2026-12-04T20:00:00Z"));
    h.set_cataam(|_| Ok(http(500, json!(null))));
    assert_eq!(
        code(&call(&h, "reregisterWebhook", json!({}))),
        "UNREACHABLE"
    );
    h.set_cataam(|_| Ok(http(401, json!(null))));
    assert_eq!(
        code(&call(&h, "reregisterWebhook", json!({}))),
        "KEY_REJECTED"
    );
    let fresh = FakeHost::new();
    assert_eq!(
        code(&call(&fresh, "reregisterWebhook", json!({}))),
        "NOT_CONFIGURED"
    );
}

#[test]
fn get_health_reports_state_counts_dead_letters_and_activity() {
    let fresh = FakeHost::new();
    let a = call(&fresh, "getHealth", json!({}));
    assert_eq!(
        ok(&a)["health"]["connection"]["state"],
        json!("not_configured")
    );

    let h = configured();
    let a = call(&h, "getHealth", json!({}));
    assert_eq!(ok(&a)["health"]["connection"]["state"], json!("unknown"));

    let mut health = store::Health {
        created: 3,
        transitioned: 1,
        last_poll_at: Some(1_780_000_000_000),
        connection: Some("key_rejected".into()),
        last_error: Some(store::LastError {
            code: "KEY_REJECTED".into(),
            at: 5,
        }),
        ..Default::default()
    };
    health.skipped.insert("below_threshold".into(), 2);
    h.put(store::HEALTH, serde_json::to_value(&health).unwrap());
    h.put(
        &store::dead_letter("fnd_9"),
        json!({"findingId": "fnd_9", "code": "JIRA_HTTP", "attempts": 6, "at": 7}),
    );
    h.put(
        store::ACTIVITY,
        json!([{"findingId": "fnd_1", "issueKey": "SEC-1", "action": "created", "at": 8}]),
    );
    let a = call(&h, "getHealth", json!({}));
    let hl = &ok(&a)["health"];
    assert_eq!(hl["connection"]["state"], json!("key_rejected"));
    assert_eq!(
        hl["connection"]["message"],
        json!("Last error: KEY_REJECTED")
    );
    assert_eq!(hl["counts"]["created"], json!(3));
    assert_eq!(hl["counts"]["skipped"], json!({"below_threshold": 2}));
    assert_eq!(hl["counts"]["skippedTotal"], json!(2));
    assert_eq!(hl["lastPollAt"], json!(1_780_000_000_000i64));
    assert_eq!(
        hl["deadLetters"],
        json!([{"findingId": "fnd_9", "code": "JIRA_HTTP", "attempts": 6, "at": 7}])
    );
    assert_eq!(hl["activity"][0]["issueKey"], json!("SEC-1"));
    assert_eq!(hl["webhookSecretSet"], json!(true));
}

#[test]
fn retry_dead_letter_reconciles_the_finding_now() {
    let h = configured();
    assert_eq!(
        code(&call(&h, "retryDeadLetter", json!({}))),
        "INVALID_INPUT"
    );
    assert_eq!(
        code(&call(&h, "retryDeadLetter", json!({"findingId": "a b"}))),
        "INVALID_INPUT"
    );
    assert_eq!(
        code(&call(&h, "retryDeadLetter", json!({"findingId": "fnd_1"}))),
        "NOT_FOUND"
    );

    h.put(
        &store::dead_letter("fnd_1"),
        json!({"findingId": "fnd_1", "code": "JIRA_HTTP", "attempts": 6, "at": 7}),
    );
    let a = call(&h, "retryDeadLetter", json!({"findingId": "fnd_1"}));
    ok(&a);
    assert_eq!(a["findingId"], json!("fnd_1"));
    assert!(
        h.get(&store::dead_letter("fnd_1")).is_none(),
        "the dead letter is lifted"
    );
    assert!(h
        .cataam_log
        .borrow()
        .iter()
        .any(|r| r.url.ends_with("/api/v1/findings/fnd_1")));
}

#[test]
fn sync_now_runs_a_poll() {
    let fresh = FakeHost::new();
    assert_eq!(code(&call(&fresh, "syncNow", json!({}))), "NOT_CONFIGURED");
    let h = configured();
    let a = call(&h, "syncNow", json!({}));
    ok(&a);
    assert!(a["report"].is_object());
    assert!(h
        .cataam_log
        .borrow()
        .iter()
        .any(|r| r.url.contains("/api/v1/findings?")));
}

#[test]
fn secrets_never_leak_through_any_operation() {
    let h = configured();
    *h.projects.borrow_mut() = projects(3);
    let mut answers = String::new();
    for f in FUNCTIONS.iter().filter(|f| **f != "generateSecret") {
        answers.push_str(&call(&h, f, payload_for(f)).to_string());
    }
    // Failure paths too.
    h.set_cataam(|_| {
        Ok(http(
            401,
            json!({"error": {"code": "KEY_REJECTED", "message": "bad key"}}),
        ))
    });
    for f in [
        "testConnection",
        "saveSettings",
        "reregisterWebhook",
        "syncNow",
    ] {
        answers.push_str(&call(&h, f, payload_for(f)).to_string());
    }
    let everything = format!("{answers}{}", h.observable_text());
    for secret in [KEY, NEW_KEY, WEBHOOK_SECRET] {
        assert!(!everything.contains(secret), "leaked a secret");
    }
}
