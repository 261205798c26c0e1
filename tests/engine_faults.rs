//! Engine robustness on the simulated world: crash injection between every pair of writes (zero
//! duplicates, convergence), bulk partial failure, search index lag, 429 with Retry-After,
//! time budget + continuation, dead letters, and the bulk request ratio on a backlog.

mod common;

use cataam_jira::model::*;
use cataam_jira::plan::CommentKind;
use cataam_jira::store;
use common::*;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Runs polls and queue messages (each with a fresh budget) until quiet, advancing the clock.
fn settle(h: &TestHost, rounds: usize) {
    for _ in 0..rounds {
        h.advance(61_000);
        h.set_budget(55_000);
        let _ = block_on(engine(h).run_poll());
        for ev in h.take_queue() {
            h.advance(ev.delay_in_seconds as i64 * 1000);
            h.set_budget(55_000);
            let _ = block_on(engine(h).run_queue_message(&ev.body));
        }
    }
}

fn assert_one_issue_each(h: &TestHost, ids: &[&str]) {
    for id in ids {
        assert_eq!(
            h.issues_for(id),
            1,
            "finding {id} must have exactly one issue"
        );
        let link = h.kvs_value(&store::link_by_finding(id)).expect("link");
        let issue = h.issue_for(id).expect("issue");
        assert_eq!(link["issueId"], issue.id.as_str());
        assert_eq!(
            h.kvs_value(&store::link_by_issue(&issue.id))
                .expect("reverse")["findingId"],
            *id
        );
        assert!(
            h.kvs_value(&store::create_lock(id)).is_none(),
            "lock released for {id}"
        );
    }
}

/// Keeps the output readable: injected crashes are expected panics.
fn quiet_injected_crashes() {
    std::panic::set_hook(Box::new(|info| {
        if !info.to_string().contains("injected crash") {
            eprintln!("{info}");
        }
    }));
}

fn seed(h: &TestHost) -> Vec<&'static str> {
    h.add_finding(iasm("fnd_a", Severity::High, T0 - 60_000));
    h.add_finding(iasm("fnd_b", Severity::Medium, T0 - 50_000));
    h.add_finding(compliance("fnd_c", "ct_1", T0 - 40_000));
    vec!["fnd_a", "fnd_b", "fnd_c"]
}

#[test]
fn crash_between_every_pair_of_writes_never_duplicates_creates() {
    quiet_injected_crashes();
    for (wf, lag) in [
        (Workflow::default_simplified(), 0),
        (Workflow::custom(), 90_000),
    ] {
        let mut n = 1;
        loop {
            let h = TestHost::new(wf.clone());
            h.w.borrow_mut().jira.index_lag_ms = lag;
            let ids = seed(&h);
            h.w.borrow_mut().crash_after = Some(n);
            let crashed =
                catch_unwind(AssertUnwindSafe(|| block_on(engine(&h).run_poll()))).is_err();
            h.w.borrow_mut().crash_after = None;
            settle(&h, 6);
            assert_one_issue_each(&h, &ids);
            assert_eq!(h.issue_count(), ids.len(), "crash after write {n}");
            // Converged.
            h.advance(300_000);
            let r = block_on(engine(&h).run_poll()).expect("poll");
            assert_eq!(r.writes(), 0, "crash after write {n}: {r:?}");
            if !crashed {
                break;
            }
            n += 1;
        }
        assert!(n > 5, "the scenario has several writes");
    }
}

#[test]
fn crash_between_every_pair_of_writes_in_two_way_sync_converges() {
    quiet_injected_crashes();
    let mut n = 1;
    loop {
        let h = TestHost::new(Workflow::custom());
        let ids = seed(&h);
        poll(&h);
        let ia = h.issue_for("fnd_a").expect("a").id;
        let ic = h.issue_for("fnd_c").expect("c").id;
        h.w.borrow_mut()
            .cataam
            .outcomes
            .insert("ct_1".into(), ("FAIL", "still failing".into()));
        h.cataam_edit("fnd_b", |f| f.status = FindingStatus::FalsePositive);
        h.cataam_edit("fnd_a", |f| f.title = "changed title".into());
        h.human_status(&ia, "In Progress", None);
        h.human(&ia, |i, _| i.duedate = Some("2027-02-01".into()));
        h.human_status(&ic, "Closed", Some("Done"));
        h.advance(1000);
        let w0 = h.w.borrow().writes;
        h.w.borrow_mut().crash_after = Some(w0 + n);
        let crashed = catch_unwind(AssertUnwindSafe(|| block_on(engine(&h).run_poll()))).is_err();
        h.w.borrow_mut().crash_after = None;
        settle(&h, 6);
        assert_one_issue_each(&h, &ids);
        let st = |id: &str| {
            let i = h.issue_for(id).expect("issue");
            h.w.borrow().jira.workflow.status(&i.status).cat
        };
        assert_eq!(
            h.finding("fnd_a").status,
            FindingStatus::Acknowledged,
            "crash {n}"
        );
        assert_eq!(h.finding("fnd_a").due_date.as_deref(), Some("2027-02-01"));
        assert_eq!(h.issue_for("fnd_a").expect("a").summary, "changed title");
        assert_eq!(st("fnd_b"), "done", "crash {n}");
        assert_eq!(h.finding("fnd_b").status, FindingStatus::FalsePositive);
        // The failing re-run wins: issue reopened, finding OPEN — also when the crash lost the
        // re-run's poll message (the scheduled poll queues it again once overdue).
        assert_eq!(h.finding("fnd_c").status, FindingStatus::Open, "crash {n}");
        assert_ne!(st("fnd_c"), "done", "crash {n}");
        h.advance(300_000);
        let r = block_on(engine(&h).run_poll()).expect("poll");
        assert_eq!(r.writes(), 0, "crash after write {n}: {r:?}");
        if !crashed {
            break;
        }
        n += 1;
    }
    assert!(n > 10);
}

#[test]
fn a_change_made_after_a_crashed_write_landed_is_never_overwritten() {
    quiet_injected_crashes();
    // Each side writes, the run is killed after any of its writes, then the other side changes
    // again. The later change must win on both sides — whether or not the killed write landed.
    for wf in [Workflow::default_simplified(), Workflow::custom()] {
        // (a) CATAAM reopens → the app reopens the issue … then a person closes it again.
        // (b) A person closes the issue → the app resolves the finding … then CATAAM reopens it.
        for case in ["jira_last", "cataam_last"] {
            let mut n = 1;
            loop {
                let h = TestHost::new(wf.clone());
                h.add_finding(iasm("fnd_a", Severity::High, T0 - 60_000));
                poll(&h);
                let ia = h.issue_for("fnd_a").expect("a").id;
                let done_name = if wf.statuses.iter().any(|s| s.name == "Closed") {
                    "Closed"
                } else {
                    "Done"
                };
                if case == "jira_last" {
                    // Settled as resolved on both sides, then CATAAM reopens.
                    h.cataam_edit("fnd_a", |f| f.status = FindingStatus::Resolved);
                    settle(&h, 2);
                    h.cataam_edit("fnd_a", |f| f.status = FindingStatus::Open);
                } else {
                    h.human_status(&ia, done_name, Some("Done"));
                }
                h.advance(61_000);
                h.set_budget(55_000);
                let w0 = h.w.borrow().writes;
                h.w.borrow_mut().crash_after = Some(w0 + n);
                let crashed =
                    catch_unwind(AssertUnwindSafe(|| block_on(engine(&h).run_poll()))).is_err();
                h.w.borrow_mut().crash_after = None;
                h.advance(5_000);
                let cat = |h: &TestHost| {
                    let i = h.issue_for("fnd_a").expect("issue");
                    h.w.borrow().jira.workflow.status(&i.status).cat
                };
                // The other side reacts to what it sees: only a landed write prompts it.
                let reacted = if case == "jira_last" {
                    let reopened = cat(&h) != "done";
                    if reopened {
                        h.human_status(&ia, done_name, Some("Done"));
                    }
                    reopened
                } else {
                    let resolved = h.finding("fnd_a").status == FindingStatus::Resolved;
                    if resolved {
                        h.cataam_edit("fnd_a", |f| f.status = FindingStatus::Open);
                    }
                    resolved
                };
                settle(&h, 4);
                let closed = (case == "jira_last") == reacted;
                if closed {
                    assert_eq!(cat(&h), "done", "{case} crash {n} (reacted {reacted})");
                    assert_eq!(
                        h.finding("fnd_a").status,
                        FindingStatus::Resolved,
                        "{case} crash {n} (reacted {reacted})"
                    );
                } else {
                    assert_ne!(cat(&h), "done", "{case} crash {n} (reacted {reacted})");
                    assert_eq!(
                        h.finding("fnd_a").status,
                        FindingStatus::Open,
                        "{case} crash {n} (reacted {reacted})"
                    );
                }
                assert_one_issue_each(&h, &["fnd_a"]);
                if !crashed {
                    break;
                }
                n += 1;
            }
            assert!(n > 2, "{case}: the sync has several writes");
        }
    }
}

#[test]
fn a_compliance_rerun_interrupted_at_any_write_is_still_polled_to_its_result() {
    quiet_injected_crashes();
    // A person closes a compliance issue whose control still fails; the run is killed after
    // any of its writes — including between the re-run's record and its poll message.
    let mut n = 1;
    loop {
        let h = TestHost::new(Workflow::custom());
        h.add_finding(compliance("fnd_c", "ct_1", T0 - 60_000));
        h.w.borrow_mut()
            .cataam
            .outcomes
            .insert("ct_1".into(), ("FAIL", "still failing".into()));
        poll(&h);
        let ic = h.issue_for("fnd_c").expect("c").id;
        h.human_status(&ic, "Closed", Some("Done"));
        h.advance(1000);
        h.w.borrow_mut().cataam.run_polls = 1;
        let w0 = h.w.borrow().writes;
        h.w.borrow_mut().crash_after = Some(w0 + n);
        // The crash point runs through the issue event and the re-run's polls that follow.
        let mut crashed =
            catch_unwind(AssertUnwindSafe(|| block_on(engine(&h).run_issue(&ic)))).is_err();
        while !crashed {
            let queue = h.take_queue();
            if queue.is_empty() {
                break;
            }
            for ev in queue {
                h.advance(ev.delay_in_seconds as i64 * 1000);
                h.set_budget(55_000);
                let run = || block_on(engine(&h).run_queue_message(&ev.body));
                crashed |= catch_unwind(AssertUnwindSafe(run)).is_err();
            }
        }
        h.w.borrow_mut().crash_after = None;
        settle(&h, 8);
        let cat = h.category_of("fnd_c");
        assert_eq!(h.finding("fnd_c").status, FindingStatus::Open, "crash {n}");
        assert_ne!(cat, "done", "crash {n}");
        assert!(h.kvs_value(&store::rerun("fnd_c")).is_none(), "crash {n}");
        if !crashed {
            break;
        }
        n += 1;
    }
    assert!(n > 3, "the re-run start has several writes");
}

#[test]
fn a_reopen_interrupted_at_any_write_leaves_exactly_one_reopen_comment() {
    quiet_injected_crashes();
    let reopen_comments = |h: &TestHost, id: &str| {
        h.w.borrow().jira.issues[id]
            .comments
            .iter()
            .filter(|c| {
                cataam_jira::jira::adf::plain_text(c).contains(CommentKind::ReopenedInCataam.text())
            })
            .count()
    };
    let mut n = 1;
    loop {
        let h = TestHost::new(Workflow::custom());
        h.add_finding(iasm("fnd_a", Severity::High, T0 - 60_000));
        poll(&h);
        let ia = h.issue_for("fnd_a").expect("a").id;
        h.cataam_edit("fnd_a", |f| f.status = FindingStatus::Resolved);
        settle(&h, 2);
        h.cataam_edit("fnd_a", |f| f.status = FindingStatus::Open);
        h.advance(1000);
        let w0 = h.w.borrow().writes;
        h.w.borrow_mut().crash_after = Some(w0 + n);
        let crashed = catch_unwind(AssertUnwindSafe(|| block_on(engine(&h).run_poll()))).is_err();
        h.w.borrow_mut().crash_after = None;
        h.advance(61_000);
        settle(&h, 4);
        let cat = h.category_of("fnd_a");
        assert_ne!(cat, "done", "crash {n}");
        assert_eq!(reopen_comments(&h, &ia), 1, "crash {n}");
        if !crashed {
            break;
        }
        n += 1;
    }
    assert!(n > 3, "the reopen has several writes");
}

#[test]
fn a_finding_another_invocation_is_syncing_is_rechecked_not_written_twice() {
    let h = TestHost::new(Workflow::default_simplified());
    h.add_finding(iasm("fnd_1", Severity::High, T0 - 60_000));
    poll(&h);
    h.cataam_edit("fnd_1", |f| f.status = FindingStatus::Resolved);
    // Another invocation holds the finding's sync lock.
    let now = h.now();
    h.w.borrow_mut().kvs.insert(
        store::sync_lock("fnd_1"),
        (serde_json::json!({ "at": now }), None),
    );
    let r = block_on(engine(&h).run_findings(&["fnd_1".into()])).expect("run");
    assert_eq!(r.skipped.get("sync_busy"), Some(&1), "{r:?}");
    assert_eq!(r.writes(), 0, "{r:?}");
    let q = h.take_queue();
    assert_eq!(q.len(), 1, "{q:?}");
    assert_eq!(
        q[0].delay_in_seconds,
        cataam_jira::engine::SYNC_BUSY_DELAY_S
    );
    // The holder is done: the re-check syncs, and leaves no lock behind.
    h.w.borrow_mut().kvs.remove(&store::sync_lock("fnd_1"));
    h.advance(5_000);
    let r = block_on(engine(&h).run_queue_message(&q[0].body)).expect("retry");
    assert_eq!(r.transitioned, 1, "{r:?}");
    assert!(h.kvs_value(&store::sync_lock("fnd_1")).is_none());
    let i = h.issue_for("fnd_1").expect("issue");
    assert_eq!(h.w.borrow().jira.workflow.status(&i.status).cat, "done");
}

#[test]
fn bulk_partial_failure_maps_elements_and_retries_the_retryable() {
    let h = TestHost::new(Workflow::default_simplified());
    for (i, id) in ["fnd_1", "fnd_2", "fnd_3", "fnd_4"].iter().enumerate() {
        h.add_finding(iasm(id, Severity::High, T0 - 10_000 + i as i64));
    }
    h.w.borrow_mut()
        .jira
        .fail_elements
        .insert("fnd_2".into(), 400);
    h.w.borrow_mut()
        .jira
        .fail_elements
        .insert("fnd_3".into(), 503);
    let r = poll(&h);
    assert_eq!(r.created, 2, "{r:?}");
    assert_eq!(r.retried, 1);
    assert_eq!(
        h.kvs_value(&store::skip("fnd_2")).expect("skip")["reason"],
        "project_misconfigured"
    );
    assert!(h.kvs_value(&store::retry("fnd_3")).is_some());
    assert_one_issue_each(&h, &["fnd_1", "fnd_4"]);
    h.w.borrow_mut().jira.fail_elements.clear();
    let q = h.take_queue();
    assert_eq!(q.len(), 1);
    assert_eq!(q[0].body["findingIds"][0], "fnd_3");
    h.advance(q[0].delay_in_seconds as i64 * 1000);
    let r = block_on(engine(&h).run_queue_message(&q[0].body)).expect("retry");
    assert_eq!(r.created, 1);
    assert_one_issue_each(&h, &["fnd_1", "fnd_3", "fnd_4"]);
    assert!(h.kvs_value(&store::retry("fnd_3")).is_none());
}

#[test]
fn lost_bulk_answer_with_index_lag_is_adopted_not_duplicated() {
    quiet_injected_crashes();
    let h = TestHost::new(Workflow::default_simplified());
    h.w.borrow_mut().jira.index_lag_ms = 90_000;
    h.add_finding(iasm("fnd_1", Severity::High, T0 - 10_000));
    // Crash right after the bulk create (the answer is lost).
    // Writes before the bulk create: poll lock, health (backlog start), create lock.
    let writes_before_bulk = 3;
    h.w.borrow_mut().crash_after = Some(writes_before_bulk + 1);
    let crashed = catch_unwind(AssertUnwindSafe(|| block_on(engine(&h).run_poll()))).is_err();
    assert!(crashed);
    assert_eq!(h.issue_count(), 1, "the issue exists in Jira");
    assert!(h.kvs_value(&store::link_by_finding("fnd_1")).is_none());
    assert!(h.kvs_value(&store::create_lock("fnd_1")).is_some());
    // Within the lag window: the search cannot see it yet, the young lock blocks a re-create.
    h.advance(30_000);
    let r = block_on(engine(&h).run_findings(&["fnd_1".into()])).expect("run");
    assert_eq!(r.created, 0);
    assert_eq!(r.skipped.get("create_pending"), Some(&1), "{r:?}");
    // After the lag: found by property, confirmed by GET, adopted.
    h.advance(70_000);
    let r = block_on(engine(&h).run_findings(&["fnd_1".into()])).expect("run");
    assert_eq!((r.created, r.adopted), (0, 1), "{r:?}");
    assert_one_issue_each(&h, &["fnd_1"]);
    assert_eq!(h.issue_count(), 1);
}

#[test]
fn rate_limits_honour_retry_after() {
    let h = TestHost::new(Workflow::default_simplified());
    h.add_finding(iasm("fnd_1", Severity::High, T0 - 10_000));
    h.w.borrow_mut().cataam.rate_limit_next = 1;
    let r = poll(&h);
    assert_eq!(r.errors.get("CATAAM_RATE_LIMITED"), Some(&1), "{r:?}");
    let q = h.take_queue();
    assert_eq!(q.len(), 1);
    assert_eq!(
        (q[0].body["type"].as_str(), q[0].delay_in_seconds),
        (Some("continue"), 11)
    );
    h.advance(11_000);
    // Jira 429 on the bulk create: nothing created, retried after Retry-After.
    h.w.borrow_mut().jira.rate_limit_next = 1;
    let r = block_on(engine(&h).run_queue_message(&q[0].body)).expect("continue");
    assert_eq!(r.errors.get("JIRA_RATE_LIMITED"), Some(&1), "{r:?}");
    let q = h.take_queue();
    assert_eq!(q.len(), 1);
    assert_eq!(
        (q[0].body["type"].as_str(), q[0].delay_in_seconds),
        (Some("retry"), 7)
    );
    h.advance(7_000);
    let r = block_on(engine(&h).run_queue_message(&q[0].body)).expect("retry");
    assert_eq!(r.created, 1, "{r:?}");
    assert_one_issue_each(&h, &["fnd_1"]);
}

#[test]
fn budget_stop_saves_progress_and_continues_through_the_queue() {
    let h = TestHost::new(Workflow::default_simplified());
    // More than one scan group: the first group runs out of time, the rest is never read.
    let total = cataam_jira::engine::SCAN_GROUP + 250;
    let ids: Vec<String> = (0..total).map(|n| format!("fnd_{n:04}")).collect();
    for (n, id) in ids.iter().enumerate() {
        h.add_finding(iasm(id, Severity::High, T0 - 1_000_000 + n as i64 * 100));
    }
    h.set_budget(10_000);
    let r = block_on(engine(&h).run_poll()).expect("poll");
    assert!(r.stopped_for_budget, "{r:?}");
    assert!(r.created < total as u64, "{r:?}");
    // Progress is saved: the cursor points at the page after the first group, and the deferred
    // items of that group plus a continuation are queued; no create lock is left behind.
    let cursor = h.kvs_value(store::POLL_CURSOR).expect("cursor saved");
    assert!(cursor["page"].is_string(), "{cursor}");
    let q: Vec<_> = h.w.borrow().queue.clone();
    assert!(q.iter().any(|e| e.body["type"] == "continue"), "{q:?}");
    assert!(h.kvs_dump().keys().all(|k| !k.starts_with("lock:create:")));
    let health = block_on(store::read_health(&h)).expect("health");
    assert!(health.backlog.active && health.backlog.processed > 0);
    let mut rounds = 0;
    loop {
        let q = h.take_queue();
        if q.is_empty() {
            break;
        }
        for ev in q {
            h.advance(ev.delay_in_seconds as i64 * 1000 + 1);
            h.set_budget(10_000);
            block_on(engine(&h).run_queue_message(&ev.body)).expect("continuation");
        }
        rounds += 1;
        assert!(rounds < 20, "livelock");
    }
    assert!(rounds >= 1);
    assert_eq!(h.issue_count(), total);
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    assert_one_issue_each(&h, &refs);
    let health = block_on(store::read_health(&h)).expect("health");
    assert!(
        !health.backlog.active && health.backlog.processed >= total as u64,
        "{health:?}"
    );
}

#[test]
fn backlog_uses_bulk_creates_at_most_three_jira_requests_per_hundred() {
    let h = TestHost::new(Workflow::default_simplified());
    for n in 0..600 {
        h.add_finding(iasm(
            &format!("fnd_{n:05}"),
            Severity::High,
            T0 - 2_000_000 + n * 100,
        ));
    }
    let r = poll(&h);
    assert_eq!(r.created, 600, "{r:?}");
    let ratio = r.jira_requests as f64 / r.created as f64;
    assert!(
        ratio <= 0.03,
        "Jira requests per created finding: {ratio} ({r:?})"
    );
}

#[test]
fn bulk_creates_are_filled_across_page_boundaries() {
    let h = TestHost::new(Workflow::default_simplified());
    // 1,000 findings (five CATAAM pages), every fifth one resolved: 160 creates per page, which
    // page by page would take 4 bulk requests each (50 + 50 + 50 + 10) — 20 in all.
    for n in 0..1_000 {
        let mut f = iasm(
            &format!("fnd_{n:05}"),
            Severity::High,
            T0 - 2_000_000 + n * 100,
        );
        if n % 5 == 0 {
            f.status = FindingStatus::Resolved;
        }
        h.add_finding(f);
    }
    let r = poll(&h);
    assert_eq!(r.created, 800, "{r:?}");
    let bulk = h.jira_requests_to("POST", "/issue/bulk");
    assert_eq!(bulk, 16, "800 creates in whole bulk requests of 50");
}

#[test]
fn persistent_failures_become_dead_letters_and_explicit_retry_revives_them() {
    let h = TestHost::new(Workflow::default_simplified());
    h.add_finding(iasm("fnd_1", Severity::High, T0 - 10_000));
    h.w.borrow_mut().cataam.broken.insert("fnd_1".into());
    let r = block_on(engine(&h).run_findings(&["fnd_1".into()])).expect("run");
    assert_eq!(r.retried, 1);
    let mut guard = 0;
    while h.kvs_value(&store::dead_letter("fnd_1")).is_none() {
        let q = h.take_queue();
        assert!(
            !q.is_empty(),
            "a retry is always queued until the dead letter"
        );
        for ev in q {
            h.advance(ev.delay_in_seconds as i64 * 1000);
            block_on(engine(&h).run_queue_message(&ev.body)).expect("retry");
        }
        guard += 1;
        assert!(guard < 10);
    }
    let dead = block_on(store::list_dead_letters(&h)).expect("dead letters");
    assert_eq!(dead.len(), 1);
    assert_eq!(
        (
            dead[0].finding_id.as_str(),
            dead[0].code.as_str(),
            dead[0].attempts
        ),
        ("fnd_1", "CATAAM_HTTP", 6)
    );
    assert!(h.kvs_value(&store::retry("fnd_1")).is_none());
    // Queued retries no longer touch it; an explicit retry does.
    h.w.borrow_mut().cataam.broken.clear();
    let r = block_on(
        engine(&h)
            .run_queue_message(&serde_json::json!({ "type": "retry", "findingIds": ["fnd_1"] })),
    )
    .expect("q");
    assert_eq!(r.created, 0);
    let r = block_on(engine(&h).run_findings(&["fnd_1".into()])).expect("run");
    assert_eq!(r.created, 1);
    assert!(block_on(store::list_dead_letters(&h))
        .expect("dl")
        .is_empty());
    let health = block_on(store::read_health(&h)).expect("health");
    assert_eq!(health.dead_lettered, 1);
}

#[test]
fn jira_outage_during_reconcile_is_retried_not_lost() {
    let h = TestHost::new(Workflow::default_simplified());
    h.add_finding(iasm("fnd_1", Severity::High, T0 - 10_000));
    poll(&h);
    let id = h.issue_for("fnd_1").expect("issue").id;
    h.cataam_edit("fnd_1", |f| f.status = FindingStatus::Resolved);
    h.w.borrow_mut().jira.broken_issue = Some(id.clone());
    let r = block_on(engine(&h).run_findings(&["fnd_1".into()])).expect("run");
    assert_eq!(r.errors.get("JIRA_HTTP"), Some(&1), "{r:?}");
    h.w.borrow_mut().jira.broken_issue = None;
    drain_queue(&h, 5);
    let i = h.issue_for("fnd_1").expect("issue");
    assert_eq!(h.w.borrow().jira.workflow.status(&i.status).cat, "done");
}

#[test]
fn invalid_queue_messages_are_rejected() {
    let h = TestHost::new(Workflow::default_simplified());
    let e = block_on(engine(&h).run_queue_message(&serde_json::json!({ "type": "bogus" })))
        .expect_err("invalid");
    assert_eq!(e.code(), "INVALID_INPUT");
    let e = block_on(engine(&h).run_queue_message(&serde_json::json!({ "type": "retry" })))
        .expect_err("invalid");
    assert_eq!(e.code(), "INVALID_INPUT");
}

#[test]
fn a_run_that_links_between_our_link_read_and_our_lock_is_not_duplicated() {
    let h = TestHost::new(Workflow::default_simplified());
    h.add_finding(iasm("fnd_1", Severity::High, T0 - 10_000));
    // Run B completes entirely (create, link, lock released) after run A read "no link".
    *h.before_create_lock.borrow_mut() = Some(Box::new(|h: &TestHost| {
        let r = block_on(engine(h).run_findings(&["fnd_1".into()])).expect("run B");
        assert_eq!(r.created, 1);
    }));
    let r = block_on(engine(&h).run_findings(&["fnd_1".into()])).expect("run A");
    assert_eq!(r.created, 0, "{r:?}");
    assert_eq!(r.skipped.get("already_linked"), Some(&1), "{r:?}");
    assert_one_issue_each(&h, &["fnd_1"]);
    assert_eq!(h.issue_count(), 1);
}

#[test]
fn the_jira_poll_adopts_an_orphan_issue_carrying_our_property() {
    let h = TestHost::new(Workflow::default_simplified());
    h.add_finding(iasm("fnd_1", Severity::High, T0 - 10_000));
    h.add_finding(iasm("fnd_2", Severity::High, T0 - 9_000));
    poll(&h);
    let orphan = h.issue_for("fnd_2").expect("issue").id;
    // The app's records of fnd_2 are lost (e.g. storage restored from an older state) while
    // CATAAM has nothing new about it; a person then works the issue in Jira.
    h.w.borrow_mut()
        .kvs
        .remove(&store::link_by_finding("fnd_2"));
    h.w.borrow_mut().kvs.remove(&store::link_by_issue(&orphan));
    h.advance(60_000);
    h.human_status(&orphan, "In Progress", None);
    h.advance(240_000);
    let r = poll(&h);
    assert_eq!((r.created, r.adopted), (0, 1), "{r:?}");
    assert_one_issue_each(&h, &["fnd_1", "fnd_2"]);
    assert_eq!(h.issue_count(), 2);
    // The adoption took the human's status as agreed; the next poll converges the rest.
    h.advance(300_000);
    poll(&h);
    assert_eq!(poll(&h).writes(), 0);
}

#[test]
fn a_storage_fault_on_one_item_mid_poll_does_not_fail_the_run() {
    let h = TestHost::new(Workflow::default_simplified());
    let ids = ["fnd_1", "fnd_2", "fnd_3", "fnd_4", "fnd_5"];
    for (n, id) in ids.iter().enumerate() {
        h.add_finding(iasm(id, Severity::High, T0 - 60_000 + n as i64 * 1000));
    }
    // One link read and one create-lock write fail (0.5 % KVS errors hit some item per page).
    h.fail_kvs(&store::link_by_finding("fnd_2"), 1);
    h.fail_kvs(&store::create_lock("fnd_4"), 1);
    let r = block_on(engine(&h).run_poll()).expect("the run continues past per-item faults");
    assert_eq!(r.created, 3, "{r:?}");
    assert_eq!(r.errors.get("KVS"), Some(&2), "{r:?}");
    // The page's progress is kept: the scan finished and the cursor advanced.
    let cursor = h.kvs_value(store::POLL_CURSOR).expect("cursor");
    assert!(
        cursor["since"].is_string() && cursor["page"].is_null(),
        "{cursor}"
    );
    // The two failed items are retried through one queued batch, not one message each.
    let q = h.take_queue();
    assert_eq!(q.len(), 1, "{q:?}");
    assert_eq!(q[0].body["type"], "retry");
    let mut retried: Vec<&str> = q[0].body["findingIds"]
        .as_array()
        .expect("ids")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    retried.sort();
    assert_eq!(retried, ["fnd_2", "fnd_4"]);
    h.advance(q[0].delay_in_seconds as i64 * 1000);
    let r = block_on(engine(&h).run_queue_message(&q[0].body)).expect("retry");
    assert_eq!(r.created, 2, "{r:?}");
    assert_one_issue_each(&h, &ids);
    assert_eq!(h.issue_count(), ids.len());
}

#[test]
fn a_storage_fault_storing_created_links_is_recovered_without_duplicates() {
    let h = TestHost::new(Workflow::default_simplified());
    h.add_finding(iasm("fnd_1", Severity::High, T0 - 60_000));
    h.add_finding(iasm("fnd_2", Severity::High, T0 - 50_000));
    // The link transaction (it also clears `skip:fnd_1`) fails twice: the immediate second
    // try included.
    h.fail_kvs(&store::skip("fnd_1"), 2);
    let r = block_on(engine(&h).run_poll()).expect("the run continues");
    assert_eq!(r.errors.get("KVS"), Some(&2), "{r:?}");
    assert_eq!(h.issue_count(), 2, "both issues exist in Jira");
    // The create locks stay: recovery adopts the issues once the locks are stale.
    assert!(h.kvs_value(&store::create_lock("fnd_1")).is_some());
    assert!(h.kvs_value(&store::link_by_finding("fnd_2")).is_none());
    settle(&h, 4);
    assert_one_issue_each(&h, &["fnd_1", "fnd_2"]);
    assert_eq!(h.issue_count(), 2);
}

#[test]
fn a_run_killed_between_takeover_guard_and_lock_leaves_the_finding_creatable() {
    quiet_injected_crashes();
    let h = TestHost::new(Workflow::default_simplified());
    h.add_finding(iasm("fnd_1", Severity::High, T0 - 600_000));
    // A stale create lock without an issue (its holder died before the bulk request).
    h.w.borrow_mut().kvs.insert(
        store::create_lock("fnd_1"),
        (serde_json::json!({ "at": T0 - 300_000 }), None),
    );
    // Killed right after its first write: the one-shot takeover guard.
    let w0 = h.w.borrow().writes;
    h.w.borrow_mut().crash_after = Some(w0 + 1);
    let crashed = catch_unwind(AssertUnwindSafe(|| {
        block_on(engine(&h).run_findings(&["fnd_1".into()]))
    }))
    .is_err();
    assert!(crashed);
    assert!(h
        .kvs_dump()
        .keys()
        .any(|k| k.starts_with(&format!("{}:", store::create_lock("fnd_1")))));
    assert_eq!(h.issue_count(), 0);
    // Later triggers (after the longest invocation could have ended) take over and create.
    settle(&h, 3);
    assert_one_issue_each(&h, &["fnd_1"]);
    assert_eq!(h.issue_count(), 1);
}

#[test]
fn a_dead_holders_lock_goes_stale_one_index_lag_window_after_its_deadline() {
    use cataam_jira::engine::INDEX_LAG_MARGIN_MS;
    let h = TestHost::new(Workflow::default_simplified());
    h.add_finding(iasm("fnd_1", Severity::High, T0 - 600_000));
    // A holder with a 2 s deadline died before its bulk request: no issue exists.
    h.w.borrow_mut().kvs.insert(
        store::create_lock("fnd_1"),
        (serde_json::json!({ "at": T0, "until": T0 + 2_000 }), None),
    );
    let run = || block_on(engine(&h).run_findings(&["fnd_1".into()])).expect("run");
    // Until the holder's deadline plus the index lag window: searched, not taken over, and the
    // re-check is scheduled for the moment the lock goes stale.
    h.advance(2_000 + INDEX_LAG_MARGIN_MS - 5_000);
    let r = run();
    assert_eq!(
        (r.created, r.skipped.get("create_pending")),
        (0, Some(&1)),
        "{r:?}"
    );
    let q = h.take_queue();
    assert_eq!(q.len(), 1, "{q:?}");
    // (the fake host's requests take simulated time: the run ends a little later)
    assert!((5..=6).contains(&q[0].delay_in_seconds), "{q:?}");
    assert_eq!(h.issue_count(), 0);
    // Stale (long before the lock is two minutes old): taken over and created, once.
    h.advance(6_000);
    let r = run();
    assert_eq!(r.created, 1, "{r:?}");
    assert_one_issue_each(&h, &["fnd_1"]);
    assert!(h.kvs_value(&store::create_lock("fnd_1")).is_none());
}
