//! Engine tests on the in-memory simulated world: CATAAM → Jira and Jira → CATAAM behaviour,
//! convergence, compliance re-runs, filters and the data policy.

mod common;

use cataam_jira::model::*;
use cataam_jira::store;
use common::*;
use serde_json::Value;

fn writes_to_jira(h: &TestHost) -> usize {
    h.w.borrow()
        .jira
        .log
        .iter()
        .filter(|(m, p, _)| m != "GET" && !p.starts_with("/rest/api/3/search"))
        .count()
}

fn adf_text(v: &Value) -> String {
    let mut out = String::new();
    fn walk(v: &Value, out: &mut String) {
        if let Some(t) = v.get("text").and_then(Value::as_str) {
            out.push_str(t);
            out.push('\n');
        }
        if let Some(h) = v.pointer("/attrs/href").and_then(Value::as_str) {
            out.push_str(h);
            out.push('\n');
        }
        if let Some(marks) = v.get("marks").and_then(Value::as_array) {
            for m in marks {
                walk(m, out);
            }
        }
        if let Some(c) = v.get("content").and_then(Value::as_array) {
            for x in c {
                walk(x, out);
            }
        }
    }
    walk(v, &mut out);
    out
}

#[test]
fn creates_issues_with_full_content_then_converges() {
    let h = TestHost::new(Workflow::default_simplified());
    h.add_finding(iasm("fnd_1", Severity::Critical, T0 - 60_000));
    h.add_finding(iasm("fnd_2", Severity::Low, T0 - 50_000));
    h.add_finding(compliance("fnd_3", "ct_1", T0 - 40_000));
    let r = poll(&h);
    assert_eq!(r.created, 3, "{r:?}");
    assert_eq!(h.issues().len(), 3);

    let i1 = h.issue_for("fnd_1").expect("issue for fnd_1");
    assert_eq!(i1.priority, "Highest");
    assert!(i1.labels.contains(&"cataam".to_string()));
    assert!(i1.labels.contains(&"severity-critical".to_string()));
    assert!(i1.summary.starts_with("Exposed admin panel"));
    let text = adf_text(&i1.description);
    for needle in [
        "CRITICAL",
        "the admin panel is reachable",
        "restrict access",
        "ISO 27001 A.8.8",
        "T1059.001 — PowerShell",
        "https://attack.mitre.org/techniques/T1059/001/",
        "secret-host.example.com",
        "203.0.113.7",
        "https://app.cataam.com/findings/fnd_1",
    ] {
        assert!(text.contains(needle), "description lacks {needle}: {text}");
    }
    let i3 = h.issue_for("fnd_3").expect("compliance issue");
    for l in [
        "cataam",
        "severity-high",
        "framework-iso27001",
        "control-a-8-8",
    ] {
        assert!(i3.labels.contains(&l.to_string()), "{:?}", i3.labels);
    }
    let t3 = adf_text(&i3.description);
    assert!(
        t3.contains("S3 buckets block public access") && t3.contains("bucket public-read"),
        "{t3}"
    );
    assert_eq!(h.issue_for("fnd_2").expect("low").priority, "Low");

    // The bulk path: one Jira request for three creates (plus the Jira poll search).
    let creates = h.jira_requests_to("POST", "/issue/bulk");
    assert_eq!(creates, 1);

    // Second run: nothing to do.
    let before = writes_to_jira(&h);
    h.advance(300_000);
    let r2 = poll(&h);
    assert_eq!(r2.writes(), 0, "{r2:?}");
    assert_eq!(writes_to_jira(&h), before);
    assert_eq!(h.issues().len(), 3);
}

#[test]
fn filters_record_reason_codes_only() {
    let h = TestHost::new(Workflow::default_simplified());
    h.add_finding(iasm("fnd_info", Severity::Info, T0 - 1000));
    h.add_finding(compliance("fnd_c", "ct_9", T0 - 900));
    let mut closed = iasm("fnd_closed", Severity::High, T0 - 800);
    closed.status = FindingStatus::Resolved;
    h.add_finding(closed);
    let mut settings = TestHost::settings();
    settings.min_severity = Severity::Medium;
    settings.kinds = vec![FindingKind::Iasm];
    let r =
        common::block_on(cataam_jira::engine::Engine::new(&h, settings, API_KEY.into()).run_poll())
            .expect("poll");
    assert_eq!(r.created, 0);
    assert_eq!(
        h.kvs_value(&store::skip("fnd_info")).expect("skip")["reason"],
        "below_threshold"
    );
    assert_eq!(
        h.kvs_value(&store::skip("fnd_c")).expect("skip")["reason"],
        "filtered_kind"
    );
    assert_eq!(
        h.kvs_value(&store::skip("fnd_closed")).expect("skip")["reason"],
        "closed_unlinked"
    );

    // No project configured.
    let h2 = TestHost::new(Workflow::default_simplified());
    h2.add_finding(iasm("fnd_x", Severity::High, T0 - 1000));
    let mut s2 = TestHost::settings();
    s2.project_id = None;
    let r2 = common::block_on(cataam_jira::engine::Engine::new(&h2, s2, API_KEY.into()).run_poll())
        .expect("poll");
    assert_eq!(r2.skipped.get("project_misconfigured"), Some(&1));
    let rec = h2.kvs_value(&store::skip("fnd_x")).expect("skip");
    assert_eq!(rec["reason"], "project_misconfigured");
    assert_eq!(
        rec.as_object().map(|o| o.len()),
        Some(2),
        "reason + time only: {rec}"
    );
    let health = common::block_on(store::read_health(&h2)).expect("health");
    assert_eq!(health.skipped.get("project_misconfigured"), Some(&1));
}

fn setup_linked(wf: Workflow) -> (TestHost, String) {
    let h = TestHost::new(wf);
    h.add_finding(iasm("fnd_1", Severity::High, T0 - 60_000));
    let r = poll(&h);
    assert_eq!(r.created, 1);
    let id = h.issue_for("fnd_1").expect("issue").id;
    (h, id)
}

fn resolve_and_false_positive(wf: Workflow) {
    let (h, id) = setup_linked(wf.clone());
    h.cataam_edit("fnd_1", |f| f.status = FindingStatus::Resolved);
    let r = common::block_on(engine(&h).run_findings(&["fnd_1".into()])).expect("run");
    assert_eq!(r.transitioned, 1, "{r:?}");
    let i = h.w.borrow().jira.issues[&id].clone();
    let st = h.w.borrow().jira.workflow.status(&i.status).clone();
    assert_eq!(st.cat, "done");
    assert_eq!(i.resolution.as_deref(), Some("Done"));
    // No echo: the finding stays RESOLVED and the next run does nothing.
    let r2 = poll(&h);
    assert_eq!(r2.writes(), 0, "{r2:?}");
    assert_eq!(h.finding("fnd_1").status, FindingStatus::Resolved);

    let (h, id) = setup_linked(wf);
    h.cataam_edit("fnd_1", |f| f.status = FindingStatus::FalsePositive);
    let r = common::block_on(engine(&h).run_findings(&["fnd_1".into()])).expect("run");
    assert_eq!(r.transitioned, 1);
    let i = h.w.borrow().jira.issues[&id].clone();
    assert_eq!(i.resolution.as_deref(), Some("Won't Do"));
    let r2 = poll(&h);
    assert_eq!(r2.writes(), 0, "{r2:?}");
    assert_eq!(h.finding("fnd_1").status, FindingStatus::FalsePositive);
}

#[test]
fn resolve_and_false_positive_on_default_workflow() {
    resolve_and_false_positive(Workflow::default_simplified());
}

#[test]
fn resolve_and_false_positive_on_custom_multi_hop_workflow() {
    resolve_and_false_positive(Workflow::custom());
}

#[test]
fn reopened_in_cataam_moves_issue_out_of_done_with_comment() {
    for wf in [Workflow::default_simplified(), Workflow::custom()] {
        let (h, id) = setup_linked(wf);
        h.cataam_edit("fnd_1", |f| f.status = FindingStatus::Resolved);
        poll(&h);
        h.cataam_edit("fnd_1", |f| f.status = FindingStatus::Open);
        let r = common::block_on(engine(&h).run_findings(&["fnd_1".into()])).expect("run");
        assert_eq!((r.transitioned, r.commented), (1, 1), "{r:?}");
        let i = h.w.borrow().jira.issues[&id].clone();
        assert_eq!(h.w.borrow().jira.workflow.status(&i.status).cat, "new");
        assert_eq!(i.resolution, None);
        assert!(adf_text(&i.comments[0]).contains("reopened"));
        assert_eq!(poll(&h).writes(), 0);
        assert_eq!(h.finding("fnd_1").status, FindingStatus::Open);
    }
}

#[test]
fn content_change_updates_owned_fields_only() {
    let (h, id) = setup_linked(Workflow::default_simplified());
    // A human owns priority, assignee, due date, extra labels and an intermediate status.
    h.human(&id, |i, _| {
        i.priority = "Lowest".into();
        i.labels.push("team-red".into());
    });
    h.human_status(&id, "In Progress", None);
    poll(&h); // picks up Jira → CATAAM (ACKNOWLEDGED)
    assert_eq!(h.finding("fnd_1").status, FindingStatus::Acknowledged);
    h.cataam_edit("fnd_1", |f| {
        f.title = "Renamed finding".into();
        f.severity = Severity::Critical;
        f.description = "new text".into();
    });
    h.advance(10_000);
    let r = poll(&h);
    assert_eq!(r.updated, 1, "{r:?}");
    assert_eq!(r.transitioned, 0);
    let i = h.w.borrow().jira.issues[&id].clone();
    assert_eq!(i.summary, "Renamed finding");
    assert_eq!(
        i.priority, "Lowest",
        "priority is human-owned after creation"
    );
    assert!(i.labels.contains(&"team-red".to_string()));
    assert!(i.labels.contains(&"severity-critical".to_string()));
    assert!(!i.labels.contains(&"severity-high".to_string()));
    assert_eq!(
        h.w.borrow().jira.workflow.status(&i.status).name,
        "In Progress"
    );
    assert!(adf_text(&i.description).contains("new text"));
    assert_eq!(poll(&h).writes(), 0);
}

#[test]
fn jira_status_changes_flow_to_cataam() {
    let (h, id) = setup_linked(Workflow::default_simplified());
    let e = |h: &TestHost| common::block_on(engine(h).run_issue(&id)).expect("run");
    h.human_status(&id, "In Progress", None);
    assert_eq!(e(&h).cataam_updates, 1);
    assert_eq!(h.finding("fnd_1").status, FindingStatus::Acknowledged);
    h.human_status(&id, "Done", Some("Done"));
    e(&h);
    assert_eq!(h.finding("fnd_1").status, FindingStatus::Resolved);
    h.human_status(&id, "To Do", None);
    e(&h);
    assert_eq!(h.finding("fnd_1").status, FindingStatus::Open);
    h.human_status(&id, "Done", Some("Won't Do"));
    e(&h);
    assert_eq!(h.finding("fnd_1").status, FindingStatus::FalsePositive);
    // Our own writes do not echo.
    let r = e(&h);
    assert_eq!(r.writes(), 0);
    assert_eq!(poll(&h).writes(), 0);
}

#[test]
fn due_date_and_assignee_flow_to_cataam() {
    let (h, id) = setup_linked(Workflow::default_simplified());
    let e = |h: &TestHost| common::block_on(engine(h).run_issue(&id)).expect("run");
    h.human(&id, |i, _| i.duedate = Some("2026-12-31".into()));
    e(&h);
    assert_eq!(h.finding("fnd_1").due_date.as_deref(), Some("2026-12-31"));
    h.human(&id, |i, _| i.duedate = Some("2027-01-15".into()));
    e(&h);
    assert_eq!(h.finding("fnd_1").due_date.as_deref(), Some("2027-01-15"));
    h.human(&id, |i, _| i.duedate = None);
    e(&h);
    assert_eq!(h.finding("fnd_1").due_date, None);

    h.human(&id, |i, _| i.assignee = Some("acc-alice".into()));
    e(&h);
    let a = h.finding("fnd_1").assigned_to.expect("assigned");
    assert_eq!(a.account_id, "acc-alice");
    assert_eq!(a.display_name.as_deref(), Some("Alice"));
    assert_eq!(a.email.as_deref(), Some("alice@example.com"));
    h.human(&id, |i, _| i.assignee = Some("acc-bob".into()));
    e(&h);
    let a = h.finding("fnd_1").assigned_to.expect("assigned");
    assert_eq!(
        (a.account_id.as_str(), a.email.as_deref()),
        ("acc-bob", None)
    );
    h.human(&id, |i, _| i.assignee = None);
    e(&h);
    assert_eq!(h.finding("fnd_1").assigned_to, None);
    assert_eq!(e(&h).writes(), 0);

    // A PATCH that landed but whose answer was lost, then the person changes the field back:
    // the finding follows the person's latest value, not the one the lost answer carried.
    h.human(&id, |i, _| i.assignee = Some("acc-alice".into()));
    h.w.borrow_mut().cataam.lose_patch_answer_next = 1;
    assert_eq!(e(&h).retried, 1, "the lost answer is retried");
    assert_eq!(
        h.finding("fnd_1").assigned_to.map(|a| a.account_id),
        Some("acc-alice".into())
    );
    h.human(&id, |i, _| i.assignee = None);
    e(&h);
    assert_eq!(h.finding("fnd_1").assigned_to, None);
    assert_eq!(e(&h).writes(), 0);
}

#[test]
fn unmanaged_issue_event_is_one_kvs_read_and_no_cataam_call() {
    let h = TestHost::new(Workflow::default_simplified());
    let reads_before = h.w.borrow().kvs_reads;
    let r = common::block_on(engine(&h).run_issue("99999")).expect("run");
    assert_eq!(h.w.borrow().kvs_reads - reads_before, 1);
    assert!(h.w.borrow().cataam.log.is_empty());
    assert!(h.w.borrow().jira.log.is_empty());
    assert_eq!(r.skipped.get("unmanaged_issue"), Some(&1));
}

fn compliance_setup(outcome: &'static str) -> (TestHost, String) {
    let h = TestHost::new(Workflow::custom());
    h.add_finding(compliance("fnd_c", "ct_1", T0 - 60_000));
    h.w.borrow_mut().cataam.outcomes.insert(
        "ct_1".into(),
        (outcome, "SECRET-LOGS: still public\n".repeat(3)),
    );
    h.w.borrow_mut().cataam.run_polls = 1;
    poll(&h);
    let id = h.issue_for("fnd_c").expect("issue").id;
    h.human_status(&id, "Closed", Some("Done"));
    let r = common::block_on(engine(&h).run_issue(&id)).expect("run");
    assert_eq!((r.cataam_updates, r.reruns_started), (1, 1), "{r:?}");
    assert_eq!(h.finding("fnd_c").status, FindingStatus::Resolved);
    (h, id)
}

#[test]
fn compliance_rerun_fail_reopens_issue_with_logs_and_reopens_finding() {
    let (h, id) = compliance_setup("FAIL");
    let reports = drain_queue(&h, 10);
    assert!(reports.len() >= 2, "one RUNNING poll then the result");
    let i = h.w.borrow().jira.issues[&id].clone();
    assert_ne!(h.w.borrow().jira.workflow.status(&i.status).cat, "done");
    let last = i.comments.last().expect("comment");
    assert!(last.to_string().contains("codeBlock"));
    assert!(adf_text(last).contains("still public"));
    assert_eq!(h.finding("fnd_c").status, FindingStatus::Open);
    assert!(h.kvs_value(&store::rerun("fnd_c")).is_none());
    // The new failure logs reach the description once; then everything is converged.
    let r = poll(&h);
    assert_eq!((r.updated, r.writes()), (1, 1), "{r:?}");
    assert!(adf_text(&h.w.borrow().jira.issues[&id].description).contains("still public"));
    assert_eq!(poll(&h).writes(), 0);
    assert_eq!(
        common::block_on(engine(&h).run_issue(&id))
            .expect("run")
            .writes(),
        0
    );
}

#[test]
fn compliance_rerun_pass_records_verification() {
    let (h, id) = compliance_setup("PASS");
    drain_queue(&h, 10);
    let i = h.w.borrow().jira.issues[&id].clone();
    assert_eq!(h.w.borrow().jira.workflow.status(&i.status).cat, "done");
    assert!(adf_text(i.comments.last().expect("comment")).contains("PASSES"));
    assert_eq!(h.finding("fnd_c").status, FindingStatus::Resolved);
    let r = poll(&h);
    assert_eq!(r.transitioned + r.cataam_updates + r.created, 0, "{r:?}");
}

#[test]
fn a_failed_resolve_patch_is_retried_after_the_rerun_moved_the_finding() {
    // A person closes a compliance issue; the app starts the re-run, but its PATCH to RESOLVED
    // fails. The re-run passes and updates the finding (result, logs → a new `updatedAt`)
    // before the retry: the moved version is the re-run's, not our patch — the retry must
    // resolve the finding, not take it as CATAAM reopening it and reopen the issue. Also when
    // CATAAM had acknowledged the finding before the person's Done (both sides changed, Jira's
    // change the newer): the re-run's later `updatedAt` must not turn that race around.
    for acknowledged_first in [false, true] {
        let h = TestHost::new(Workflow::custom());
        h.add_finding(compliance("fnd_c", "ct_1", T0 - 60_000));
        poll(&h);
        let id = h.issue_for("fnd_c").expect("issue").id;
        if acknowledged_first {
            h.cataam_edit("fnd_c", |f| f.status = FindingStatus::Acknowledged);
            h.advance(1_000);
        }
        h.human_status(&id, "Closed", Some("Done"));
        h.w.borrow_mut().cataam.fail_patch_next = 1;
        let r = common::block_on(engine(&h).run_issue(&id)).expect("run");
        assert_eq!((r.cataam_updates, r.reruns_started), (0, 1), "{r:?}");
        assert_ne!(h.finding("fnd_c").status, FindingStatus::Resolved);
        h.advance(60_000);
        drain_queue(&h, 10);
        let cat = h.category_of("fnd_c");
        assert_eq!(cat, "done", "acknowledged first: {acknowledged_first}");
        assert_eq!(h.finding("fnd_c").status, FindingStatus::Resolved);
        assert_eq!(poll(&h).writes(), 0);
    }
}

#[test]
fn long_text_is_truncated_within_jira_limits() {
    let h = TestHost::new(Workflow::default_simplified());
    let mut f = compliance("fnd_long", "ct_2", T0 - 1000);
    f.title = "word ".repeat(200);
    f.description = "d".repeat(50_000);
    f.remediation = "r ".repeat(30_000);
    if let Some(c) = f.compliance.as_mut() {
        c.logs = Some("log line\n".repeat(10_000));
        c.framework = "SOC 2 Type II".into();
        c.control_id = "CC 7.1 (b)".into();
    }
    h.add_finding(f);
    let r = poll(&h);
    assert_eq!(r.created, 1, "{r:?}");
    let i = h.issue_for("fnd_long").expect("issue");
    assert!(i.summary.chars().count() <= 255);
    assert!(i.description.to_string().chars().count() <= 32_767);
    assert!(adf_text(&i.description).contains("truncated"));
    assert!(
        i.labels.contains(&"framework-soc2typeii".to_string()),
        "{:?}",
        i.labels
    );
    assert!(
        i.labels.contains(&"control-cc7-1-b".to_string()),
        "{:?}",
        i.labels
    );
}

#[test]
fn kvs_holds_no_finding_content() {
    let h = TestHost::new(Workflow::custom());
    for n in 0..5 {
        h.add_finding(iasm(&format!("fnd_{n}"), Severity::High, T0 - 10_000 + n));
    }
    h.add_finding(compliance("fnd_c", "ct_1", T0 - 5_000));
    h.add_finding(iasm("fnd_low", Severity::Info, T0 - 4_000));
    poll(&h);
    let id = h.issue_for("fnd_c").expect("issue").id;
    h.human_status(&id, "Closed", Some("Done"));
    h.human(&id, |i, _| i.assignee = Some("acc-alice".into()));
    common::block_on(engine(&h).run_issue(&id)).expect("run");
    drain_queue(&h, 5);
    let dump = serde_json::to_string(&h.kvs_dump()).expect("json");
    for secret in [
        "SECRET",
        "secret-host",
        "203.0.113.7",
        "admin panel",
        "alice@example.com",
        "Alice",
        "PowerShell",
        "S3 buckets",
    ] {
        assert!(!dump.contains(secret), "KVS contains {secret}: {dump}");
    }
    assert!(dump.contains("link:f:fnd_0"));
}

#[test]
fn rejected_key_fails_closed_and_records_connection_state() {
    let h = TestHost::new(Workflow::default_simplified());
    h.add_finding(iasm("fnd_1", Severity::High, T0));
    let e = cataam_jira::engine::Engine::new(&h, TestHost::settings(), "cataam_wrong".into());
    let err = common::block_on(e.run_poll()).expect_err("must fail");
    assert_eq!(err.code(), "KEY_REJECTED");
    assert!(!err.to_string().contains("cataam_wrong"));
    let health = common::block_on(store::read_health(&h)).expect("health");
    assert_eq!(health.connection.as_deref(), Some("key_rejected"));
    assert!(h.issues().is_empty());
    // The poll lock was released.
    assert!(h.kvs_value(store::POLL_LOCK).is_none());
    let e2 = cataam_jira::engine::Engine::new(&h, TestHost::settings(), String::new());
    assert_eq!(
        common::block_on(e2.run_poll())
            .expect_err("not configured")
            .code(),
        "NOT_CONFIGURED"
    );
}

#[test]
fn health_and_activity_are_recorded() {
    let h = TestHost::new(Workflow::default_simplified());
    h.add_finding(iasm("fnd_1", Severity::High, T0 - 1000));
    h.add_finding(iasm("fnd_2", Severity::High, T0 - 900));
    poll(&h);
    let health = common::block_on(store::read_health(&h)).expect("health");
    assert_eq!(health.created, 2);
    assert_eq!(
        health.last_poll_at,
        Some(h.now()).filter(|_| false).or(health.last_poll_at)
    );
    assert!(health.last_poll_at.is_some() && health.next_poll_at.is_some());
    assert!(!health.backlog.active && health.backlog.processed == 2);
    assert_eq!(health.connection.as_deref(), Some("ok"));
    let act = common::block_on(store::recent_activity(&h)).expect("activity");
    assert_eq!(act.len(), 2);
    assert!(act
        .iter()
        .all(|a| a.action == "created" && a.issue_key.is_some()));
    common::block_on(store::record_push_received(&h, 42)).expect("push");
    assert_eq!(
        common::block_on(store::read_health(&h))
            .expect("health")
            .last_push_at,
        Some(42)
    );
}

#[test]
fn a_compliance_rerun_that_never_finishes_is_polled_a_bounded_number_of_times() {
    let h = TestHost::new(Workflow::default_simplified());
    h.add_finding(compliance("fnd_c", "ct_1", T0 - 60_000));
    h.w.borrow_mut().cataam.run_polls = 10_000;
    poll(&h);
    let id = h.issue_for("fnd_c").expect("issue").id;
    h.human_status(&id, "Done", Some("Done"));
    common::block_on(engine(&h).run_issue(&id)).expect("run");
    let reports = drain_queue(&h, 100);
    assert!(reports.len() <= 31, "bounded polls: {}", reports.len());
    assert!(reports
        .iter()
        .any(|r| r.errors.contains_key("RERUN_TIMEOUT")));
    assert!(h.kvs_value(&store::rerun("fnd_c")).is_none());
    assert!(h.take_queue().is_empty());
}
