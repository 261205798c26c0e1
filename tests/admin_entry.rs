//! The target-independent entry points behind the wasm exports (`cataam_jira::entry`): issue id
//! extraction, cheap handling of unmanaged issues, not-configured behaviour, and the consumer's
//! retry-or-drop policy.

mod admin_fake;

use admin_fake::{block_on, http, FakeHost};
use cataam_jira::engine::EngineError;
use cataam_jira::entry::{self, issue_id_of};
use cataam_jira::host::HostError;
use cataam_jira::settings::{Settings, SECRET_API_KEY};
use cataam_jira::store;
use serde_json::json;

fn configured() -> FakeHost {
    let h = FakeHost::new();
    let s = Settings {
        project_id: Some("10000".into()),
        ..Settings::default()
    };
    h.put(store::SETTINGS, serde_json::to_value(&s).unwrap());
    h.put_secret(SECRET_API_KEY, "cataam_test_key");
    h
}

#[test]
fn issue_ids_are_taken_only_from_issue_events() {
    let ev = |t: &str, id: serde_json::Value| json!({"eventType": t, "issue": {"id": id, "key": "SEC-1"}});
    assert_eq!(
        issue_id_of(&ev("avi:jira:updated:issue", json!("10042"))).as_deref(),
        Some("10042")
    );
    assert_eq!(
        issue_id_of(&ev("avi:jira:created:issue", json!(10042))).as_deref(),
        Some("10042")
    );
    assert_eq!(
        issue_id_of(&json!({"issue": {"id": "7"}})).as_deref(),
        Some("7")
    );
    assert_eq!(issue_id_of(&ev("avi:jira:deleted:issue", json!("1"))), None);
    assert_eq!(
        issue_id_of(&ev("avi:jira:commented:issue", json!("1"))),
        None
    );
    assert_eq!(
        issue_id_of(&ev("avi:jira:updated:issue", json!("SEC-1"))),
        None
    );
    assert_eq!(
        issue_id_of(&ev("avi:jira:updated:issue", json!(null))),
        None
    );
    assert_eq!(
        issue_id_of(&json!({"eventType": "avi:jira:updated:issue"})),
        None
    );
    assert_eq!(issue_id_of(&json!(null)), None);
}

#[test]
fn unmanaged_issue_events_cost_one_kvs_read_and_foreign_events_none() {
    let h = configured();
    let out = block_on(entry::issue_event(
        &h,
        &json!({"eventType": "avi:jira:updated:issue", "issue": {"id": "10001"}}),
    ))
    .unwrap();
    assert_eq!(out, json!({"ran": false, "reason": "UNMANAGED"}));
    assert_eq!(h.kvs_reads.get(), 1);
    assert_eq!(h.secret_reads.get(), 0);
    assert!(h.jira_log.borrow().is_empty() && h.cataam_log.borrow().is_empty());

    let out = block_on(entry::issue_event(
        &h,
        &json!({"eventType": "avi:jira:deleted:issue"}),
    ))
    .unwrap();
    assert_eq!(out["reason"], json!("IGNORED"));
    assert_eq!(h.kvs_reads.get(), 1);
}

#[test]
fn managed_issue_events_reconcile_the_linked_finding() {
    let h = configured();
    h.put(
        &store::link_by_issue("10001"),
        store::issue_link_value("fnd_7"),
    );
    h.set_cataam(|_| {
        Ok(http(
            404,
            json!({"error": {"code": "NOT_FOUND", "message": "gone"}}),
        ))
    });
    let out = block_on(entry::issue_event(
        &h,
        &json!({"eventType": "avi:jira:updated:issue", "issue": {"id": "10001"}}),
    ))
    .unwrap();
    assert_eq!(out["ran"], json!(true));
    assert!(h
        .cataam_log
        .borrow()
        .iter()
        .any(|r| r.url.ends_with("/api/v1/findings/fnd_7")));
}

#[test]
fn nothing_runs_before_the_app_is_configured() {
    let h = FakeHost::new();
    assert_eq!(
        block_on(entry::poll(&h)).unwrap(),
        json!({"ran": false, "reason": "NOT_CONFIGURED"})
    );
    assert_eq!(
        block_on(entry::consume(&h, &json!({"type": "continue"}))).unwrap(),
        json!({"ran": false, "dropped": "NOT_CONFIGURED"})
    );
    h.put(&store::link_by_issue("5"), store::issue_link_value("fnd_1"));
    let out = block_on(entry::issue_event(&h, &json!({"issue": {"id": "5"}}))).unwrap();
    assert_eq!(out["reason"], json!("NOT_CONFIGURED"));
    assert!(h.cataam_log.borrow().is_empty());
}

#[test]
fn poll_runs_the_engine_and_surfaces_a_rejected_key() {
    let h = configured();
    h.set_cataam(|_| Ok(http(200, json!({"items": [], "nextCursor": null}))));
    let out = block_on(entry::poll(&h)).unwrap();
    assert_eq!(out["ran"], json!(true));
    assert!(out["report"].is_object());

    let h = configured();
    h.set_cataam(|_| {
        Ok(http(
            401,
            json!({"error": {"code": "KEY_REJECTED", "message": "no"}}),
        ))
    });
    let err = block_on(entry::poll(&h)).unwrap_err();
    assert_eq!(err.code, "KEY_REJECTED");
    assert!(!err.message.contains("cataam_test_key"));
}

#[test]
fn consumer_retries_outages_and_drops_hopeless_messages() {
    let h = configured();
    // Malformed message: dropped, not retried forever.
    let out = block_on(entry::consume(&h, &json!({"type": "retry"}))).unwrap();
    assert_eq!(out, json!({"ran": false, "dropped": "INVALID_INPUT"}));
    // Storage outage: an error, so Forge redelivers.
    h.kvs_down.set(true);
    let err = block_on(entry::consume(&h, &json!({"type": "continue"}))).unwrap_err();
    assert_eq!(err.code, "KVS");

    assert!(entry::is_retryable(&EngineError::Kvs {
        detail: "KVS".into()
    }));
    assert!(entry::is_retryable(&EngineError::Cataam {
        code: "CATAAM_HTTP"
    }));
    assert!(!entry::is_retryable(&EngineError::KeyRejected));
    assert!(!entry::is_retryable(&EngineError::NotConfigured));
    let e: entry::EntryError = HostError::new("RATE_LIMITED", "slow down").into();
    assert_eq!(e.code, "KVS");
}
