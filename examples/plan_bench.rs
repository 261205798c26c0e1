//! Planner cost for one 50-finding page: parse the CATAAM page and the 50 issue states the engine
//! reads (JSON, as they arrive), then plan every finding (half already linked with a drifted
//! status and new due date/assignee in Jira, half new). Prints `figure plan_page_us <v>`, the mean
//! wall time per page in microseconds, plus `figure plan_finding_us <v>`.
//!
//! Run: `cargo run --release --example plan_bench`

use cataam_jira::cataam::FindingsPage;
use cataam_jira::jira::IssueState;
use cataam_jira::plan::{base_after_create, plan, Policy};
use cataam_jira::settings::Settings;
use serde_json::{json, Value};
use std::hint::black_box;
use std::time::Instant;

const PAGE: usize = 50;

fn finding_json(i: usize) -> Value {
    let compliance = i % 8 == 0;
    let sev = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "INFO"][i % 5];
    json!({
        "id": format!("fnd_01JD{i:022}"),
        "kind": if compliance { "COMPLIANCE" } else { "IASM" },
        "status": "OPEN",
        "severity": sev,
        "title": format!("Exposed administrative interface on host-{i}.prod.example.com"),
        "description": "The administrative interface of the service answers on the public internet \
            without network restriction. Attackers can enumerate users and attempt credential \
            stuffing against it; the login form shows no rate limiting and the TLS configuration \
            still accepts TLS 1.0 with CBC ciphers. The host was observed in three consecutive scans.",
        "remediation": "Restrict the interface to the VPN range, enable rate limiting and MFA, and \
            disable TLS 1.0/1.1 in the load balancer policy.",
        "complianceControls": ["ISO 27001 A.8.8", "SOC 2 CC7.1", "PCI DSS 6.3.3"],
        "mitre": { "techniqueId": "T1190", "name": "Exploit Public-Facing Application" },
        "asset": if compliance { Value::Null } else { json!({
            "hostname": format!("host-{i}.prod.example.com"), "ip": format!("203.0.113.{}", i % 250),
            "port": 443, "service": "https", "cloudAccount": "aws:123456789012" }) },
        "compliance": if compliance { json!({
            "testId": format!("ct_{i:06}"), "testName": "S3 buckets enforce TLS",
            "framework": "ISO 27001", "controlId": "A.8.24", "result": "FAIL",
            "logs": "bucket acme-logs-311: policy lacks aws:SecureTransport=false deny" }) } else { Value::Null },
        "dueDate": if i % 3 == 0 { json!("2026-12-31") } else { Value::Null },
        "assignedTo": Value::Null,
        "url": format!("https://app.cataam.com/findings/fnd_{i}"),
        "createdAt": "2026-11-20T10:00:00.000Z",
        "updatedAt": format!("2026-12-01T10:{:02}:{:02}.000Z", i / 60, i % 60),
    })
}

fn issue_json(i: usize) -> Value {
    let (name, cat) = if i % 4 == 1 {
        ("Done", "done")
    } else {
        ("In Progress", "indeterminate")
    };
    json!({
        "id": format!("{}", 10_000 + i), "key": format!("SEC-{}", i + 1),
        "fields": {
            "status": { "name": name, "statusCategory": { "key": cat } },
            "resolution": if cat == "done" { json!({ "name": "Done" }) } else { Value::Null },
            "updated": "2026-12-02T09:00:00.000+0000",
            "duedate": "2027-01-15",
            "assignee": { "accountId": "557058:bob-dev", "displayName": "Bob Developer" },
            "labels": ["cataam", "severity-high", "team-red"],
        },
        "properties": { "cataam.finding": { "findingId": format!("fnd_01JD{i:022}") } },
    })
}

fn main() {
    let page_text = serde_json::to_string(&json!({
        "items": (0..PAGE).map(finding_json).collect::<Vec<_>>(), "nextCursor": "abc",
    }))
    .expect("page serialises");
    let issue_texts: Vec<String> = (0..PAGE).map(|i| issue_json(i).to_string()).collect();
    let policy = Policy::from_settings(&Settings {
        project_id: Some("10000".into()),
        ..Settings::default()
    });
    let now_ms = 1_764_700_000_000_i64;
    // The stored bases (what the engine reads from KVS), computed once outside the timed loop.
    let bases: Vec<_> = {
        let page: FindingsPage = serde_json::from_str(&page_text).expect("page parses");
        page.items
            .iter()
            .enumerate()
            .map(|(i, f)| {
                base_after_create(f, &format!("{}", 10_000 + i), &format!("SEC-{}", i + 1))
            })
            .collect()
    };

    let run_page = || {
        let page: FindingsPage = serde_json::from_str(&page_text).expect("page parses");
        let mut actions = 0usize;
        for (i, f) in page.items.iter().enumerate() {
            if i % 2 == 0 {
                let v: Value = serde_json::from_str(&issue_texts[i]).expect("issue parses");
                let issue = IssueState::from_json(&v).expect("issue state");
                let p = plan(f, Some(&issue), Some(&bases[i]), &policy, now_ms);
                actions += p.actions.len();
            } else {
                let p = plan(f, None, None, &policy, now_ms);
                actions += p.actions.len();
            }
        }
        actions
    };

    // Warm up, then measure.
    let mut total = 0usize;
    for _ in 0..50 {
        total += black_box(run_page());
    }
    let iterations = 2_000u32;
    let t0 = Instant::now();
    for _ in 0..iterations {
        total += black_box(run_page());
    }
    let per_page_us = t0.elapsed().as_secs_f64() * 1e6 / f64::from(iterations);
    assert!(total > 0, "the planner planned nothing");
    println!("figure plan_page_us {per_page_us:.1}");
    println!("figure plan_finding_us {:.2}", per_page_us / PAGE as f64);
}
