//! Push ingress over a fake host: every accept and reject path of `push::handle_push_with`, in the
//! order authenticate → parse → dispatch → answer.

mod admin_fake;

use admin_fake::{block_on, FakeHost};
use cataam_jira::push::{
    handle_push_with, sign, DispatchFailure, WebTriggerRequest, WebTriggerResponse,
    EVENT_TTL_SECONDS, MAX_BODY_BYTES, TOLERANCE_SECONDS,
};
use cataam_jira::settings::{Settings, SECRET_WEBHOOK, SECRET_WEBHOOK_PREVIOUS};
use cataam_jira::store;
use serde_json::{json, Value};
use std::cell::RefCell;
use std::collections::BTreeMap;

const SECRET: &str = "4f1c0b9e8d7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c";
const OLD_SECRET: &str = "0000000000000000000000000000000000000000000000000000000000000001";

fn host() -> FakeHost {
    let h = FakeHost::new();
    h.put_secret(SECRET_WEBHOOK, SECRET);
    h
}

fn now_s(h: &FakeHost) -> i64 {
    h.now.get() / 1000
}

fn body(event_id: &str, ids: &[&str]) -> String {
    json!({
        "id": event_id, "type": "finding.updated", "createdAt": "2026-05-28T20:26:40Z",
        "findingIds": ids
    })
    .to_string()
}

fn request(event_id: &str, signature: &str, body: &str) -> WebTriggerRequest {
    let mut headers = BTreeMap::new();
    headers.insert(
        "content-type".to_string(),
        vec!["application/json".to_string()],
    );
    headers.insert("x-cataam-event-id".to_string(), vec![event_id.to_string()]);
    headers.insert(
        "x-cataam-signature".to_string(),
        vec![signature.to_string()],
    );
    WebTriggerRequest {
        method: "POST".into(),
        path: "/".into(),
        headers,
        query_parameters: BTreeMap::new(),
        body: Some(body.to_string()),
    }
}

fn signed(
    h: &FakeHost,
    secret: &str,
    event_id: &str,
    body: &str,
    skew_s: i64,
) -> WebTriggerRequest {
    let t = now_s(h) + skew_s;
    request(
        event_id,
        &format!("t={t},v1={}", sign(secret, t, body)),
        body,
    )
}

/// Runs the handler with a dispatcher that records the ids and answers `result`.
fn run(
    h: &FakeHost,
    req: &WebTriggerRequest,
    result: Result<(), DispatchFailure>,
) -> (WebTriggerResponse, Option<Vec<String>>) {
    let seen = RefCell::new(None);
    let resp = block_on(handle_push_with(h, req, |ids| {
        *seen.borrow_mut() = Some(ids);
        let r = result.clone();
        async move { r }
    }));
    (resp, seen.into_inner())
}

fn assert_error(resp: &WebTriggerResponse, status: u16, code: &str) {
    assert_eq!(resp.status_code, status, "{}", resp.body);
    // Exactly the code, nothing that would help an attacker.
    assert_eq!(resp.body_json(), json!({"error": {"code": code}}));
    assert_eq!(resp.headers["Content-Type"], vec!["application/json"]);
}

#[test]
fn valid_push_is_dispatched_and_answered_202() {
    let h = host();
    let b = body("evt_1", &["fnd_a", "fnd_b", "fnd_a"]);
    let (resp, ids) = run(&h, &signed(&h, SECRET, "evt_1", &b, 0), Ok(()));
    assert_eq!(resp.status_code, 202);
    assert_eq!(resp.body_json(), json!({"accepted": 2}));
    assert_eq!(ids.unwrap(), ["fnd_a", "fnd_b"]);
    let claim = h
        .entry(&store::push_event("evt_1"))
        .expect("event id remembered");
    let ttl_ms = claim.expires_at_ms.unwrap() - h.now.get();
    assert_eq!(ttl_ms, EVENT_TTL_SECONDS as i64 * 1000);
    assert!(ttl_ms >= 2 * TOLERANCE_SECONDS * 1000);
}

#[test]
fn replay_is_a_no_op_answering_duplicate() {
    let h = host();
    let b = body("evt_2", &["fnd_a"]);
    let req = signed(&h, SECRET, "evt_2", &b, 0);
    assert_eq!(run(&h, &req, Ok(())).0.status_code, 202);
    h.now.set(h.now.get() + 60_000);
    let (resp, ids) = run(&h, &req, Ok(()));
    assert_eq!(resp.status_code, 200);
    assert_eq!(resp.body_json(), json!({"duplicate": true}));
    assert!(ids.is_none(), "a replay must not dispatch");
}

#[test]
fn replay_with_a_fresh_event_id_header_is_caught_by_the_signed_body_id() {
    let h = host();
    let b = body("evt_3", &["fnd_a"]);
    let t = now_s(&h);
    let sig = format!("t={t},v1={}", sign(SECRET, t, &b));
    assert_eq!(
        run(&h, &request("evt_3", &sig, &b), Ok(())).0.status_code,
        202
    );
    // The header is not signed: an attacker can change it, but it must equal the signed body id.
    let (resp, ids) = run(&h, &request("evt_attacker", &sig, &b), Ok(()));
    assert_error(&resp, 400, "INVALID_EVENT");
    assert!(ids.is_none());
}

#[test]
fn one_of_several_v1_signatures_may_match() {
    let h = host();
    let b = body("evt_4", &["fnd_a"]);
    let t = now_s(&h);
    let sig = format!(
        "t={t}, v1={}, v1={}",
        sign("some-other-secret", t, &b),
        sign(SECRET, t, &b)
    );
    let (resp, ids) = run(&h, &request("evt_4", &sig, &b), Ok(()));
    assert_eq!(resp.status_code, 202);
    assert!(ids.is_some());
}

#[test]
fn bad_signatures_are_rejected_without_parsing_or_storing() {
    let h = host();
    let t = now_s(&h);
    let b = body("evt_5", &["fnd_a"]);
    let good = sign(SECRET, t, &b);
    let mut tampered = b.clone();
    tampered.push(' ');
    for (sig, body) in [
        (format!("t={t},v1={}", sign("wrong", t, &b)), b.clone()),
        (format!("t={t},v1={good}"), tampered),
        (format!("t={},v1={good}", t + 1), b.clone()),
        (format!("v1={good}"), b.clone()),
        (format!("t={t}"), b.clone()),
        (format!("t={t},v1=zz{}", &good[2..]), b.clone()),
        (format!("t={t},v1={}", &good[..62]), b.clone()),
        (format!("t=-{t},v1={good}"), b.clone()),
        ("garbage".to_string(), b.clone()),
        (format!("t={t},t={t},v1={good}"), b.clone()),
    ] {
        let (resp, ids) = run(&h, &request("evt_5", &sig, &body), Ok(()));
        assert_error(&resp, 401, "BAD_SIGNATURE");
        assert!(ids.is_none());
    }
    // Not JSON, but unsigned: the signature fails first (JSON is parsed only after it passes).
    let (resp, _) = run(
        &h,
        &request("evt_5", &format!("t={t},v1={good}"), "{not json"),
        Ok(()),
    );
    assert_error(&resp, 401, "BAD_SIGNATURE");
    assert!(
        h.kvs.borrow().is_empty(),
        "nothing stored for rejected pushes"
    );
}

#[test]
fn timestamps_outside_tolerance_are_stale() {
    let h = host();
    for (i, (skew, ok)) in [
        (0, true),
        (TOLERANCE_SECONDS, true),
        (-TOLERANCE_SECONDS, true),
        (TOLERANCE_SECONDS + 1, false),
        (-TOLERANCE_SECONDS - 1, false),
        (-86_400, false),
    ]
    .into_iter()
    .enumerate()
    {
        let id = format!("evt_skew_{i}");
        let b = body(&id, &["fnd_a"]);
        let (resp, _) = run(&h, &signed(&h, SECRET, &id, &b, skew), Ok(()));
        if ok {
            assert_eq!(resp.status_code, 202, "skew {skew}");
        } else {
            assert_error(&resp, 401, "STALE_TIMESTAMP");
        }
    }
}

#[test]
fn previous_secret_is_accepted_only_during_its_grace_period() {
    let h = host();
    h.put_secret(SECRET_WEBHOOK_PREVIOUS, OLD_SECRET);
    let settings = Settings {
        previous_secret_expires_at: Some(h.now.get() + 3_600_000),
        ..Settings::default()
    };
    h.put(store::SETTINGS, serde_json::to_value(&settings).unwrap());
    let b = body("evt_6", &["fnd_a"]);
    assert_eq!(
        run(&h, &signed(&h, OLD_SECRET, "evt_6", &b, 0), Ok(()))
            .0
            .status_code,
        202
    );

    h.now.set(h.now.get() + 3_600_001);
    let b = body("evt_7", &["fnd_a"]);
    let (resp, _) = run(&h, &signed(&h, OLD_SECRET, "evt_7", &b, 0), Ok(()));
    assert_error(&resp, 401, "BAD_SIGNATURE");
    // The current secret still works.
    assert_eq!(
        run(&h, &signed(&h, SECRET, "evt_7", &b, 0), Ok(()))
            .0
            .status_code,
        202
    );
}

#[test]
fn previous_secret_without_expiry_is_not_accepted() {
    let h = host();
    h.put_secret(SECRET_WEBHOOK_PREVIOUS, OLD_SECRET);
    let b = body("evt_8", &["fnd_a"]);
    let (resp, _) = run(&h, &signed(&h, OLD_SECRET, "evt_8", &b, 0), Ok(()));
    assert_error(&resp, 401, "BAD_SIGNATURE");
}

#[test]
fn structural_checks() {
    let h = host();
    let b = body("evt_9", &["fnd_a"]);
    let good = signed(&h, SECRET, "evt_9", &b, 0);

    let mut r = good.clone();
    r.method = "GET".into();
    let (resp, _) = run(&h, &r, Ok(()));
    assert_error(&resp, 405, "METHOD_NOT_ALLOWED");
    assert_eq!(resp.headers["Allow"], vec!["POST"]);

    for ct in [
        "text/plain",
        "application/jsonx",
        "application/x-www-form-urlencoded",
    ] {
        let mut r = good.clone();
        r.headers.insert("content-type".into(), vec![ct.into()]);
        assert_error(&run(&h, &r, Ok(())).0, 415, "UNSUPPORTED_MEDIA_TYPE");
    }
    let mut r = good.clone();
    r.headers.remove("content-type");
    assert_error(&run(&h, &r, Ok(())).0, 415, "UNSUPPORTED_MEDIA_TYPE");

    for header in ["x-cataam-signature", "x-cataam-event-id"] {
        let mut r = good.clone();
        r.headers.remove(header);
        assert_error(&run(&h, &r, Ok(())).0, 400, "MISSING_HEADER");
    }
    let mut r = good.clone();
    r.headers
        .insert("x-cataam-event-id".into(), vec!["evt/../../x".into()]);
    assert_error(&run(&h, &r, Ok(())).0, 400, "MISSING_HEADER");
    assert_eq!(
        h.secret_reads.get(),
        0,
        "no secret is read for malformed requests"
    );

    // Header names are case-insensitive, content type parameters allowed.
    let mut r = good.clone();
    let sig = r.headers.remove("x-cataam-signature").unwrap();
    r.headers.insert("X-Cataam-Signature".into(), sig);
    r.headers.insert(
        "content-type".into(),
        vec!["Application/JSON; charset=utf-8".into()],
    );
    assert_eq!(run(&h, &r, Ok(())).0.status_code, 202);
}

#[test]
fn oversized_body_is_refused_before_any_work() {
    let h = host();
    let pad = "x".repeat(MAX_BODY_BYTES);
    let b = json!({"id": "evt_big", "type": "finding.updated", "findingIds": [], "pad": pad})
        .to_string();
    let (resp, _) = run(&h, &signed(&h, SECRET, "evt_big", &b, 0), Ok(()));
    assert_error(&resp, 413, "PAYLOAD_TOO_LARGE");
    assert_eq!(h.secret_reads.get(), 0);
    // Exactly at the limit is fine.
    let base = json!({"id": "evt_max", "type": "finding.updated", "findingIds": [], "pad": ""})
        .to_string();
    let pad = "x".repeat(MAX_BODY_BYTES - base.len());
    let b = json!({"id": "evt_max", "type": "finding.updated", "findingIds": [], "pad": pad})
        .to_string();
    assert_eq!(b.len(), MAX_BODY_BYTES);
    assert_eq!(
        run(&h, &signed(&h, SECRET, "evt_max", &b, 0), Ok(()))
            .0
            .status_code,
        202
    );
}

#[test]
fn malformed_and_invalid_bodies_after_a_valid_signature() {
    let h = host();
    let (resp, _) = run(&h, &signed(&h, SECRET, "evt_10", "{not json", 0), Ok(()));
    assert_error(&resp, 400, "MALFORMED_JSON");
    for b in [
        json!([1, 2]).to_string(),
        json!({"id": "evt_10", "type": "finding.updated"}).to_string(),
        json!({"id": "evt_10", "type": "finding.updated", "findingIds": "fnd_a"}).to_string(),
        json!({"id": "evt_10", "type": "finding.updated", "findingIds": ["bad id"]}).to_string(),
        json!({"id": "evt_10", "type": "finding.updated", "findingIds": [""]}).to_string(),
        json!({"id": "evt_other", "type": "finding.updated", "findingIds": []}).to_string(),
    ] {
        let (resp, ids) = run(&h, &signed(&h, SECRET, "evt_10", &b, 0), Ok(()));
        assert_error(&resp, 400, "INVALID_EVENT");
        assert!(ids.is_none());
    }
    assert!(h.get(&store::push_event("evt_10")).is_none());
}

#[test]
fn event_without_findings_is_accepted_without_dispatch() {
    let h = host();
    let b = body("evt_11", &[]);
    let (resp, ids) = run(&h, &signed(&h, SECRET, "evt_11", &b, 0), Ok(()));
    assert_eq!(resp.status_code, 202);
    assert_eq!(resp.body_json(), json!({"accepted": 0}));
    assert!(ids.is_none());
}

#[test]
fn missing_secret_fails_closed() {
    let h = FakeHost::new();
    let b = body("evt_12", &["fnd_a"]);
    let (resp, ids) = run(&h, &signed(&h, SECRET, "evt_12", &b, 0), Ok(()));
    assert_error(&resp, 403, "NOT_CONFIGURED");
    assert!(ids.is_none());
    // An empty stored secret is no secret: an empty-key HMAC must not authenticate anything.
    h.put_secret(SECRET_WEBHOOK, "");
    let (resp, _) = run(&h, &signed(&h, "", "evt_12", &b, 0), Ok(()));
    assert_error(&resp, 403, "NOT_CONFIGURED");
}

#[test]
fn storage_outage_asks_for_a_retry() {
    let h = host();
    let b = body("evt_13", &["fnd_a"]);
    let req = signed(&h, SECRET, "evt_13", &b, 0);
    h.kvs_down.set(true);
    let (resp, ids) = run(&h, &req, Ok(()));
    assert_error(&resp, 503, "TEMPORARILY_UNAVAILABLE");
    assert_eq!(resp.headers["Retry-After"], vec!["30"]);
    assert!(ids.is_none());
    h.kvs_down.set(false);
    h.secrets_down.set(true);
    assert_error(&run(&h, &req, Ok(())).0, 503, "TEMPORARILY_UNAVAILABLE");
    h.secrets_down.set(false);
    assert_eq!(run(&h, &req, Ok(())).0.status_code, 202);
}

#[test]
fn failed_dispatch_releases_the_claim_so_the_retry_is_processed() {
    let h = host();
    let b = body("evt_14", &["fnd_a"]);
    let req = signed(&h, SECRET, "evt_14", &b, 0);
    let (resp, ids) = run(
        &h,
        &req,
        Err(DispatchFailure::Retryable {
            code: "CATAAM_UNREACHABLE".into(),
        }),
    );
    assert_error(&resp, 503, "TEMPORARILY_UNAVAILABLE");
    assert!(ids.is_some());
    assert!(h.get(&store::push_event("evt_14")).is_none());
    let (resp, ids) = run(&h, &req, Ok(()));
    assert_eq!(resp.status_code, 202);
    assert!(ids.is_some());

    let b = body("evt_15", &["fnd_a"]);
    let req = signed(&h, SECRET, "evt_15", &b, 0);
    let (resp, _) = run(&h, &req, Err(DispatchFailure::NotConfigured));
    assert_error(&resp, 403, "NOT_CONFIGURED");
    assert!(h.get(&store::push_event("evt_15")).is_none());
}

#[test]
fn secrets_never_reach_logs_answers_or_storage() {
    let h = host();
    h.put_secret(SECRET_WEBHOOK_PREVIOUS, OLD_SECRET);
    let b = body("evt_16", &["fnd_a"]);
    let mut answers: Vec<Value> = Vec::new();
    for req in [
        signed(&h, SECRET, "evt_16", &b, 0),
        signed(&h, SECRET, "evt_16", &b, 0),
        signed(&h, "wrong", "evt_17", &b, 0),
        signed(&h, SECRET, "evt_16", &b, 10_000),
    ] {
        let (resp, _) = run(&h, &req, Ok(()));
        answers.push(json!([resp.status_code, resp.body, resp.headers]));
    }
    let text = format!("{}{:?}", h.observable_text(), answers);
    assert!(!text.contains(SECRET));
    assert!(!text.contains(OLD_SECRET));
    assert!(!h.logs.borrow().is_empty());
}

/// A configured installation (settings with a project, an API key, the shared secret) whose
/// CATAAM answers every finding read with `status`.
fn configured_with_cataam(status: u16) -> FakeHost {
    let h = host();
    let s = Settings {
        project_id: Some("10000".into()),
        ..Settings::default()
    };
    h.put(store::SETTINGS, serde_json::to_value(&s).unwrap());
    h.put_secret(cataam_jira::settings::SECRET_API_KEY, "cataam_test_key");
    h.set_cataam(move |_| {
        Ok(admin_fake::http(
            status,
            json!({"error": {"code": "X", "message": "x"}}),
        ))
    });
    h
}

#[test]
fn end_to_end_through_the_engine() {
    use cataam_jira::push::handle_push;
    // Finding unknown to CATAAM: reconciled (skipped) → 202, push time recorded for the health panel.
    let h = configured_with_cataam(404);
    let b = body("evt_e1", &["fnd_gone"]);
    let resp = block_on(handle_push(&h, &signed(&h, SECRET, "evt_e1", &b, 0)));
    assert_eq!(resp.status_code, 202, "{}", resp.body);
    assert!(h
        .cataam_log
        .borrow()
        .iter()
        .any(|r| r.url.ends_with("/api/v1/findings/fnd_gone")));
    let health = block_on(store::read_health(&h)).unwrap();
    assert_eq!(health.last_push_at, Some(h.now.get()));

    // CATAAM rejects the app's key: authentic push, but nothing can be read → 403 KEY_REJECTED,
    // claim released.
    let h = configured_with_cataam(401);
    let b = body("evt_e2", &["fnd_a"]);
    let resp = block_on(handle_push(&h, &signed(&h, SECRET, "evt_e2", &b, 0)));
    assert_error(&resp, 403, "KEY_REJECTED");
    assert!(h.get(&store::push_event("evt_e2")).is_none());

    // No API key: the push channel works but the app is not configured.
    let h = host();
    let b = body("evt_e3", &["fnd_a"]);
    let resp = block_on(handle_push(&h, &signed(&h, SECRET, "evt_e3", &b, 0)));
    assert_error(&resp, 403, "NOT_CONFIGURED");
    assert!(h.cataam_log.borrow().is_empty());
}
