//! The pure planner: a table of CATAAM state × Jira state × base → expected actions (both
//! directions, conflicts, echo suppression), the unlinked filters, the transition hop choice,
//! and property tests: applying a plan's effects and re-planning yields an empty plan.

use cataam_jira::cataam::FindingPatch;
use cataam_jira::jira::transitions::{choose_hop, parse_transitions, Target, Walk};
use cataam_jira::jira::{adf, format_time_ms, Category, IssueState, JiraUser};
use cataam_jira::model::*;
use cataam_jira::plan::{base_after_create, plan, Action, CommentKind, Policy, SkipReason};
use cataam_jira::store::Link;
use proptest::prelude::*;
use serde_json::json;

const T: i64 = 1_796_000_000_000;

fn finding(status: FindingStatus, updated_ms: i64) -> Finding {
    Finding {
        id: "fnd_1".into(),
        kind: FindingKind::Iasm,
        status,
        severity: Severity::High,
        title: "t".into(),
        description: "d".into(),
        remediation: "r".into(),
        compliance_controls: vec![],
        mitre: None,
        asset: None,
        compliance: None,
        due_date: None,
        assigned_to: None,
        url: None,
        created_at: format_time_ms(T),
        updated_at: format_time_ms(updated_ms),
    }
}

fn issue(cat: Category, resolution: Option<&str>, updated_ms: i64) -> IssueState {
    let (id, name) = match cat {
        Category::New => ("1", "To Do"),
        Category::Indeterminate => ("3", "In Progress"),
        Category::Done => ("5", "Done"),
    };
    IssueState {
        id: "10001".into(),
        key: "SEC-1".into(),
        status_id: id.into(),
        status_name: name.into(),
        category: cat,
        resolution: resolution.map(String::from),
        updated_ms,
        status_changed_ms: updated_ms,
        due_date: None,
        assignee: None,
        labels: adf::labels(&finding(FindingStatus::Open, T)),
    }
}

fn base(fs: FindingStatus, cat: Category, wont: bool) -> Link {
    let mut b = base_after_create(&finding(fs, T), "10001", "SEC-1");
    b.jira_category = cat;
    b.jira_wont_do = wont;
    b
}

fn policy() -> Policy {
    Policy {
        min_severity: Severity::Info,
        kinds: vec![FindingKind::Iasm, FindingKind::Compliance],
        project_configured: true,
    }
}

fn status_patch(s: FindingStatus) -> Action {
    Action::PatchFinding(FindingPatch {
        status: Some(s),
        ..Default::default()
    })
}

use Category::*;
use FindingStatus::*;

#[test]
fn status_matrix() {
    let done = Action::Transition(Target::Done { wont_do: false });
    let wont = Action::Transition(Target::Done { wont_do: true });
    let reopen = vec![
        Action::Transition(Target::Reopened),
        Action::Comment(CommentKind::ReopenedInCataam),
    ];
    // (name, finding status, finding updated, jira category, resolution, jira updated, base, expected actions)
    #[allow(clippy::type_complexity)]
    let rows: Vec<(
        &str,
        FindingStatus,
        i64,
        Category,
        Option<&str>,
        i64,
        Link,
        Vec<Action>,
    )> = vec![
        (
            "in sync open",
            Open,
            T,
            New,
            None,
            T,
            base(Open, New, false),
            vec![],
        ),
        (
            "cataam resolved",
            Resolved,
            T + 10,
            New,
            None,
            T,
            base(Open, New, false),
            vec![done.clone()],
        ),
        (
            "cataam false positive",
            FalsePositive,
            T + 10,
            Indeterminate,
            None,
            T,
            base(Open, Indeterminate, false),
            vec![wont.clone()],
        ),
        (
            "cataam resolved, jira already done",
            Resolved,
            T + 10,
            Done,
            Some("Done"),
            T,
            base(Open, Done, false),
            vec![],
        ),
        (
            "cataam reopened",
            Open,
            T + 10,
            Done,
            Some("Done"),
            T,
            base(Resolved, Done, false),
            reopen.clone(),
        ),
        (
            "cataam acknowledged, jira done",
            Acknowledged,
            T + 10,
            Done,
            Some("Done"),
            T,
            base(FalsePositive, Done, true),
            reopen.clone(),
        ),
        (
            "cataam ack never overwrites jira status",
            Acknowledged,
            T + 10,
            New,
            None,
            T,
            base(Open, New, false),
            vec![],
        ),
        (
            "cataam open again, human in progress",
            Open,
            T + 10,
            Indeterminate,
            None,
            T,
            base(Acknowledged, Indeterminate, false),
            vec![],
        ),
        (
            "jira in progress",
            Open,
            T,
            Indeterminate,
            None,
            T + 10,
            base(Open, New, false),
            vec![status_patch(Acknowledged)],
        ),
        (
            "jira done",
            Acknowledged,
            T,
            Done,
            Some("Done"),
            T + 10,
            base(Acknowledged, Indeterminate, false),
            vec![status_patch(Resolved)],
        ),
        (
            "jira won't do (resolution)",
            Open,
            T,
            Done,
            Some("Won't Do"),
            T + 10,
            base(Open, New, false),
            vec![status_patch(FalsePositive)],
        ),
        (
            "jira reopened after done",
            Resolved,
            T,
            New,
            None,
            T + 10,
            base(Resolved, Done, false),
            vec![status_patch(Open)],
        ),
        (
            "jira back to new from in progress: no change",
            Acknowledged,
            T,
            New,
            None,
            T + 10,
            base(Acknowledged, Indeterminate, false),
            vec![],
        ),
        (
            "jira done, finding already resolved (echo)",
            Resolved,
            T,
            Done,
            Some("Done"),
            T + 10,
            base(Resolved, Indeterminate, false),
            vec![],
        ),
        (
            "human changed Won't Do to Done",
            FalsePositive,
            T,
            Done,
            Some("Done"),
            T + 10,
            base(FalsePositive, Done, true),
            vec![status_patch(Resolved)],
        ),
        (
            "conflict: finding newer wins",
            Resolved,
            T + 20,
            Indeterminate,
            None,
            T + 10,
            base(Open, New, false),
            vec![done.clone()],
        ),
        (
            "conflict: jira newer wins",
            Resolved,
            T + 10,
            Indeterminate,
            None,
            T + 20,
            base(Open, New, false),
            vec![status_patch(Acknowledged)],
        ),
        (
            "conflict: jira reopen newer wins",
            FalsePositive,
            T + 10,
            New,
            None,
            T + 20,
            base(Resolved, Done, false),
            vec![status_patch(Open)],
        ),
        (
            "echo of our transition (base records it)",
            Resolved,
            T,
            Done,
            Some("Done"),
            T + 30,
            base(Resolved, Done, false),
            vec![],
        ),
    ];
    for (name, fs, fu, cat, res, ju, b, expected) in rows {
        let f = finding(fs, fu);
        let i = issue(cat, res, ju);
        let p = plan(&f, Some(&i), Some(&b), &policy(), T + 100);
        assert_eq!(p.actions, expected, "row: {name}");
        // Re-planning on the base the plan stores, with the world the actions produce, is empty.
        let (f2, i2) = apply(&f, &i, &p.actions);
        let b2 = p.base.clone().unwrap_or(b);
        let p2 = plan(&f2, Some(&i2), Some(&b2), &policy(), T + 200);
        assert!(p2.is_empty(), "row {name}: second plan {p2:?}");
    }
}

#[test]
fn compliance_done_starts_a_rerun() {
    let mut f = finding(Open, T);
    f.kind = FindingKind::Compliance;
    f.compliance = Some(Compliance {
        test_id: "ct_1".into(),
        test_name: "n".into(),
        framework: "ISO 27001".into(),
        control_id: "A.8.8".into(),
        result: TestResult::Fail,
        logs: None,
    });
    let mut b = base_after_create(&f, "10001", "SEC-1");
    b.jira_category = New;
    let i = issue(Done, Some("Done"), T + 10);
    let p = plan(&f, Some(&i), Some(&b), &policy(), T + 100);
    assert_eq!(p.actions, vec![Action::StartRerun, status_patch(Resolved)]);
    // Won't Do does not re-run.
    let i = issue(Done, Some("Won't Do"), T + 10);
    let p = plan(&f, Some(&i), Some(&b), &policy(), T + 100);
    assert_eq!(p.actions, vec![status_patch(FalsePositive)]);
}

#[test]
fn due_date_and_assignee_rows() {
    let f = finding(Open, T);
    let b = base(Open, New, false);
    let mut i = issue(New, None, T + 10);
    i.due_date = Some("2026-12-31".into());
    i.assignee = Some(JiraUser {
        account_id: "acc-1".into(),
        display_name: Some("Ann".into()),
        email: Some("ann@example.com".into()),
    });
    let p = plan(&f, Some(&i), Some(&b), &policy(), T + 100);
    assert_eq!(
        p.actions,
        vec![Action::PatchFinding(FindingPatch {
            status: None,
            due_date: Some(Some("2026-12-31".into())),
            assigned_to: Some(Some(Assignee {
                account_id: "acc-1".into(),
                display_name: Some("Ann".into()),
                email: Some("ann@example.com".into()),
            })),
        })]
    );
    // Cleared in Jira → cleared in CATAAM.
    let b2 = p.base.expect("base");
    let mut f2 = f.clone();
    f2.due_date = Some("2026-12-31".into());
    f2.assigned_to = Some(Assignee {
        account_id: "acc-1".into(),
        display_name: None,
        email: None,
    });
    let mut i2 = i.clone();
    i2.due_date = None;
    i2.assignee = None;
    let p = plan(&f2, Some(&i2), Some(&b2), &policy(), T + 100);
    assert_eq!(
        p.actions,
        vec![Action::PatchFinding(FindingPatch {
            status: None,
            due_date: Some(None),
            assigned_to: Some(None),
        })]
    );
    // A CATAAM-side due date change does not overwrite Jira (Jira owns it): nothing planned.
    let mut f3 = f.clone();
    f3.due_date = Some("2030-01-01".into());
    let p = plan(
        &f3,
        Some(&issue(New, None, T)),
        Some(&b),
        &policy(),
        T + 100,
    );
    assert!(p.is_empty(), "{p:?}");
}

#[test]
fn content_change_updates_owned_labels_only() {
    let f = finding(Open, T);
    let b = base(Open, New, false);
    let mut f2 = f.clone();
    f2.severity = Severity::Critical;
    let mut i = issue(New, None, T);
    i.labels.push("team-red".into());
    let p = plan(&f2, Some(&i), Some(&b), &policy(), T + 100);
    assert_eq!(
        p.actions,
        vec![Action::UpdateContent {
            labels_add: vec!["severity-critical".into()],
            labels_remove: vec!["severity-high".into()],
        }]
    );
    assert_eq!(p.base.expect("base").content_fp, adf::fingerprint(&f2));
}

#[test]
fn unlinked_findings_are_created_or_skipped_with_a_reason() {
    let p = |f: &Finding, pol: &Policy| plan(f, None, None, pol, T).actions;
    let open = finding(Open, T);
    assert_eq!(p(&open, &policy()), vec![Action::Create]);
    let mut low = open.clone();
    low.severity = Severity::Low;
    let strict = Policy {
        min_severity: Severity::High,
        ..policy()
    };
    assert_eq!(
        p(&low, &strict),
        vec![Action::Skip(SkipReason::BelowThreshold)]
    );
    let only_compliance = Policy {
        kinds: vec![FindingKind::Compliance],
        ..policy()
    };
    assert_eq!(
        p(&open, &only_compliance),
        vec![Action::Skip(SkipReason::FilteredKind)]
    );
    let unconfigured = Policy {
        project_configured: false,
        ..policy()
    };
    assert_eq!(
        p(&open, &unconfigured),
        vec![Action::Skip(SkipReason::ProjectMisconfigured)]
    );
    assert_eq!(
        p(&finding(Resolved, T), &policy()),
        vec![Action::Skip(SkipReason::ClosedUnlinked)]
    );
    // A deleted issue is recorded once, then nothing.
    let b = base(Open, New, false);
    let p1 = plan(&open, None, Some(&b), &policy(), T);
    assert_eq!(p1.actions, vec![Action::Skip(SkipReason::IssueDeleted)]);
    let p2 = plan(&open, None, p1.base.as_ref(), &policy(), T);
    assert!(p2.is_empty());
}

#[test]
fn interrupted_transition_keeps_driving_not_echoing() {
    // A crash left the issue in an intermediate status of our multi-hop walk.
    let f = finding(Resolved, T);
    let mut b = base(Open, New, false);
    b.pending_status = Some(Resolved);
    let i = issue(Indeterminate, None, T + 50);
    let p = plan(&f, Some(&i), Some(&b), &policy(), T + 100);
    assert_eq!(
        p.actions,
        vec![Action::Transition(Target::Done { wont_do: false })]
    );
}

/// An issue in status `id` (category `cat`) whose category last changed at `changed`.
fn issue_at(id: &str, cat: Category, changed: i64) -> IssueState {
    let mut i = issue(cat, (cat == Done).then_some("Done"), changed);
    i.status_id = id.into();
    i.status_changed_ms = changed;
    i
}

#[test]
fn both_changed_compares_cataams_change_with_jiras_status_change_not_a_later_edit() {
    // A person moved the issue to In Progress at T+50; CATAAM reopened the finding at T+100; a
    // due date edited at T+150 moved the issue's `updated`. CATAAM's status change is the newer.
    let b = base(Acknowledged, New, false);
    let reopened = finding(Open, T + 100);
    let plan_at = |i: &IssueState| plan(&reopened, Some(i), Some(&b), &policy(), T + 1000);
    let mut i = issue_at("3", Indeterminate, T + 50);
    i.updated_ms = T + 150;
    let p = plan_at(&i);
    assert!(
        !p.actions.contains(&status_patch(Acknowledged)),
        "{:?}",
        p.actions
    );
    assert_eq!(p.base.expect("stored").finding_status, Open);
    // The status change itself after CATAAM's: Jira's In Progress wins.
    let p = plan_at(&issue_at("3", Indeterminate, T + 120));
    assert_eq!(p.actions, vec![status_patch(Acknowledged)]);
}

#[test]
fn transition_intents_tell_our_landed_write_from_a_persons_later_change() {
    let reopen = vec![
        Action::Transition(Target::Reopened),
        Action::Comment(CommentKind::ReopenedInCataam),
    ];
    // CATAAM reopened a resolved finding; the app recorded its intent to reopen the issue
    // (Done, status 5, category changed at T) and was killed somewhere after that.
    let f = finding(Open, T + 100);
    let mut b = base(Resolved, Done, false);
    b.pending_status = Some(Open);
    b.pending_from = Some(("5".into(), T));
    // (what Jira shows now, expected plan)
    let rows: Vec<(&str, IssueState, Vec<Action>)> = vec![
        (
            "never left Done: reopen again",
            issue_at("5", Done, T),
            reopen.clone(),
        ),
        (
            "reopened (landed): nothing",
            issue_at("1", New, T + 200),
            vec![],
        ),
        (
            "reopened, then a person set In Progress: ACKNOWLEDGED",
            issue_at("3", Indeterminate, T + 300),
            vec![status_patch(Acknowledged)],
        ),
        (
            "reopened, then a person closed it again: RESOLVED, not reopened",
            issue_at("5", Done, T + 300),
            vec![status_patch(Resolved)],
        ),
    ];
    for (name, i, expected) in rows {
        let p = plan(&f, Some(&i), Some(&b), &policy(), T + 1000);
        assert_eq!(p.actions, expected, "{name}");
        let nb = p.base.expect("the resolved intent is stored");
        assert!(
            nb.pending_status.is_none() || !p.actions.is_empty(),
            "{name}: {nb:?}"
        );
        assert!(
            nb.pending_from.is_none() && nb.pending_via.is_empty(),
            "{name}: {nb:?}"
        );
    }
    // The reopen's comment was owed (the run died after the transition): once the transition
    // landed, the comment is posted unless one was posted since; not landed, both are redone.
    let mut owed = b.clone();
    owed.pending_comment = Some(T);
    let owed_comment = Action::CommentUnlessPosted(CommentKind::ReopenedInCataam, T);
    let plan_owed = |i: &IssueState| plan(&f, Some(i), Some(&owed), &policy(), T + 1000);
    let p = plan_owed(&issue_at("1", New, T + 200));
    assert_eq!(p.actions, vec![owed_comment.clone()]);
    assert!(p.base.expect("stored").pending_comment.is_none());
    let p = plan_owed(&issue_at("3", Indeterminate, T + 300));
    assert_eq!(p.actions, vec![owed_comment, status_patch(Acknowledged)]);
    assert_eq!(plan_owed(&issue_at("5", Done, T)).actions, reopen);

    // CATAAM resolved; the app started moving the issue to Done and was killed.
    let f = finding(Resolved, T + 100);
    let mut b = base(Open, New, false);
    b.pending_status = Some(Resolved);
    b.pending_from = Some(("1".into(), T));
    // Mid-walk on a multi-hop workflow: a status the walk recorded before its hop is ours.
    let mut mid = b.clone();
    mid.pending_via = vec!["7".into()];
    let p = plan(
        &f,
        Some(&issue_at("7", Indeterminate, T + 200)),
        Some(&mid),
        &policy(),
        T + 1000,
    );
    let done = vec![Action::Transition(Target::Done { wont_do: false })];
    assert_eq!(
        p.actions, done,
        "keeps driving from an intermediate status of ours"
    );
    // Landed, then a person reopened it: the person's In Progress wins.
    let p = plan(
        &f,
        Some(&issue_at("3", Indeterminate, T + 300)),
        Some(&b),
        &policy(),
        T + 1000,
    );
    assert_eq!(
        p.actions,
        vec![status_patch(Acknowledged)],
        "the person's In Progress wins"
    );
}

/// The finding is patched RESOLVED again and the issue left closed.
fn patched_again_not_reopened(actions: &[Action]) {
    assert!(actions.contains(&status_patch(Resolved)), "{actions:?}");
    assert!(
        !actions.contains(&Action::Transition(Target::Reopened)),
        "{actions:?}"
    );
}

#[test]
fn patch_intents_tell_our_landed_patch_from_a_later_cataam_change() {
    // A person closed the issue; the app recorded its intent to patch the finding RESOLVED
    // (finding version T) and was killed somewhere after that.
    let mut b = base(Open, New, false);
    b.pending_patch = Some(cataam_jira::store::PendingPatch {
        status: Some(Resolved),
        from_version: format_time_ms(T),
        jira_category: Done,
        jira_wont_do: false,
        from_content: Some(cataam_jira::jira::adf::fingerprint(&finding(Open, T))),
        from_status: Some(Open),
        due_hash: None,
        assignee_hash: None,
    });
    let i = issue_at("5", Done, T + 50);
    let plan_f = |f: &Finding| plan(f, Some(&i), Some(&b), &policy(), T + 1000);
    // Not landed (the finding is as it was): patch again.
    let p = plan_f(&finding(Open, T));
    assert_eq!(p.actions, vec![status_patch(Resolved)]);
    // Landed: nothing more.
    let p = plan_f(&finding(Resolved, T + 60));
    assert_eq!(p.actions, vec![]);
    assert!(p.base.expect("stored").pending_patch.is_none());
    // Landed, then CATAAM reopened the finding: the issue is reopened, not the finding resolved.
    let p = plan_f(&finding(Open, T + 90));
    assert_eq!(
        p.actions,
        vec![
            Action::Transition(Target::Reopened),
            Action::Comment(CommentKind::ReopenedInCataam)
        ]
    );
    // Not landed, and the version moved for another reason: the content changed (a compliance
    // re-run's result, a scanner update) with the status as it was → patch again, no reopen.
    let mut rescanned = finding(Open, T + 90);
    rescanned.title = "Rescanned title".into();
    let p = plan_f(&rescanned);
    patched_again_not_reopened(&p.actions);
    // Moved to a third status: CATAAM's change, the newer one, wins either way.
    let p = plan_f(&finding(Acknowledged, T + 90));
    assert_eq!(p.actions[0], Action::Transition(Target::Reopened));
    // Both sides had changed (CATAAM acknowledged at T, the person's Done at T+50 won) and the
    // patch did not land; the re-run's result then moved the finding's `updatedAt` past the
    // Done. The decision stands: patch again, no reopen.
    let mut raced = b.clone();
    let pp = raced.pending_patch.as_mut().expect("intent");
    pp.from_status = Some(Acknowledged);
    pp.from_content = Some(cataam_jira::jira::adf::fingerprint(&finding(
        Acknowledged,
        T,
    )));
    let mut rerun_moved = finding(Acknowledged, T + 90);
    rerun_moved.description = "re-run logs".into();
    let p = plan(&rerun_moved, Some(&i), Some(&raced), &policy(), T + 1000);
    patched_again_not_reopened(&p.actions);
    // An intent stored before content was recorded keeps the version-only reading.
    let mut old = b.clone();
    let pp = old.pending_patch.as_mut().expect("intent");
    (pp.from_content, pp.from_status) = (None, None);
    let p = plan(&rescanned, Some(&i), Some(&old), &policy(), T + 1000);
    assert!(p.actions.contains(&Action::Transition(Target::Reopened)));
}

#[test]
fn field_patch_intents_tell_a_landed_assignee_from_one_to_send_again() {
    // A person assigned Alice; the app's PATCH of the assignee got no answer; then the person
    // unassigned the issue. Landed (the finding shows Alice): the unassignment is a new change.
    let alice = Assignee {
        account_id: "acc-alice".into(),
        display_name: Some("Alice".into()),
        email: None,
    };
    let mut b = base(Open, New, false);
    b.pending_patch = Some(cataam_jira::store::PendingPatch {
        status: None,
        from_version: format_time_ms(T),
        jira_category: New,
        jira_wont_do: false,
        from_content: None,
        from_status: Some(Open),
        due_hash: None,
        assignee_hash: Some(adf::short_hash(Some("acc-alice"))),
    });
    let unassigned = issue(New, None, T + 100);
    let mut f = finding(Open, T + 50);
    f.assigned_to = Some(alice.clone());
    let p = plan(&f, Some(&unassigned), Some(&b), &policy(), T + 1000);
    let unassign = Action::PatchFinding(FindingPatch {
        assigned_to: Some(None),
        ..Default::default()
    });
    assert_eq!(p.actions, vec![unassign]);
    // Not landed (the finding has no assignee), Jira still shows Alice: sent again.
    let mut assigned = issue(New, None, T + 100);
    assigned.assignee = Some(cataam_jira::jira::JiraUser {
        account_id: "acc-alice".into(),
        display_name: Some("Alice".into()),
        email: None,
    });
    let p = plan(
        &finding(Open, T),
        Some(&assigned),
        Some(&b),
        &policy(),
        T + 1000,
    );
    assert_eq!(
        p.actions,
        vec![Action::PatchFinding(FindingPatch {
            assigned_to: Some(Some(alice)),
            ..Default::default()
        })]
    );
}

#[test]
fn adoption_plans_what_changed_since_the_create() {
    use cataam_jira::plan::base_for_adoption;
    // A person worked the orphan before the app adopted it: In Progress, a due date, an assignee.
    let f = finding(Open, T);
    let mut i = issue_at("3", Indeterminate, T + 100);
    i.due_date = Some("2027-01-31".into());
    i.assignee = Some(JiraUser {
        account_id: "acc-1".into(),
        display_name: None,
        email: None,
    });
    let b = base_for_adoption(&f, &i);
    let p = plan(&f, Some(&i), Some(&b), &policy(), T + 1000);
    let Some(Action::PatchFinding(patch)) = p
        .actions
        .iter()
        .find(|a| matches!(a, Action::PatchFinding(_)))
    else {
        panic!("no patch: {:?}", p.actions);
    };
    assert_eq!(patch.status, Some(Acknowledged));
    assert_eq!(patch.due_date, Some(Some("2027-01-31".into())));
    assert_eq!(
        patch
            .assigned_to
            .as_ref()
            .map(|a| a.as_ref().map(|x| x.account_id.clone())),
        Some(Some("acc-1".into()))
    );
    // The create sent the finding's due date; a person cleared it on the orphan: CATAAM's is
    // cleared too. Untouched, it is no change.
    let mut fd = finding(Open, T);
    fd.due_date = Some("2027-06-03".into());
    let plan_adopted = |i: &IssueState| {
        plan(
            &fd,
            Some(i),
            Some(&base_for_adoption(&fd, i)),
            &policy(),
            T + 1000,
        )
    };
    let mut i = issue_at("1", New, T);
    i.due_date = None;
    let p = plan_adopted(&i);
    let due = p.actions.iter().find_map(|a| match a {
        Action::PatchFinding(x) => x.due_date.clone(),
        _ => None,
    });
    assert_eq!(due, Some(None), "{:?}", p.actions);
    i.due_date = Some("2027-06-03".into());
    let p = plan_adopted(&i);
    assert!(
        !p.actions
            .iter()
            .any(|a| matches!(a, Action::PatchFinding(_))),
        "{:?}",
        p.actions
    );
    // CATAAM resolved the finding before the adoption; the orphan is untouched: Done.
    let i = issue_at("1", New, T);
    let p = plan(
        &finding(Resolved, T + 100),
        Some(&i),
        Some(&base_for_adoption(&f, &i)),
        &policy(),
        T + 1000,
    );
    assert!(
        p.actions
            .contains(&Action::Transition(Target::Done { wont_do: false })),
        "{:?}",
        p.actions
    );
}

#[test]
fn hop_choice_prefers_direct_then_unvisited_forward_edges() {
    let ts = parse_transitions(&json!({ "transitions": [
        { "id": "1", "name": "Back to triage", "to": { "id": "2", "name": "Triage", "statusCategory": { "key": "indeterminate" } } },
        { "id": "2", "name": "Review", "to": { "id": "4", "name": "In Review", "statusCategory": { "key": "indeterminate" } } },
        { "id": "3", "name": "Won't do", "to": { "id": "9", "name": "Won't Do", "statusCategory": { "key": "done" } } },
        { "id": "4", "name": "Close", "to": { "id": "5", "name": "Closed", "statusCategory": { "key": "done" } },
          "fields": { "resolution": { "required": true, "allowedValues": [{ "name": "Done" }, { "name": "Won't Do" }] } } },
    ]}));
    let walk = Walk::start("3");
    assert_eq!(
        choose_hop(&ts, Target::Done { wont_do: false }, &walk).map(|t| t.id.as_str()),
        Some("4")
    );
    assert_eq!(
        choose_hop(&ts, Target::Done { wont_do: true }, &walk).map(|t| t.id.as_str()),
        Some("3")
    );
    let indirect: Vec<_> = ts
        .iter()
        .filter(|t| t.to_category != Category::Done)
        .cloned()
        .collect();
    let mut walk = Walk::start("3");
    walk.visits.insert("2".into(), 1);
    assert_eq!(
        choose_hop(&indirect, Target::Done { wont_do: false }, &walk).map(|t| t.id.as_str()),
        Some("2")
    );
    // Every edge used: stuck, never loops.
    walk.used = vec![("3".into(), "1".into()), ("3".into(), "2".into())];
    assert_eq!(
        choose_hop(&indirect, Target::Done { wont_do: false }, &walk),
        None
    );
    let body =
        cataam_jira::jira::transitions::transition_body(&ts[3], Target::Done { wont_do: true });
    assert_eq!(body["fields"]["resolution"]["name"], "Won't Do");
}

/// Applies a plan's effects to the two sides (what a successful execution produces).
fn apply(f: &Finding, i: &IssueState, actions: &[Action]) -> (Finding, IssueState) {
    let (mut f, mut i) = (f.clone(), i.clone());
    for a in actions {
        match a {
            Action::UpdateContent {
                labels_add,
                labels_remove,
            } => {
                i.labels.retain(|l| !labels_remove.contains(l));
                i.labels.extend(labels_add.iter().cloned());
            }
            Action::Transition(Target::Done { wont_do }) => {
                i.category = Done;
                i.resolution = Some(if *wont_do { "Won't Do" } else { "Done" }.into());
                i.updated_ms += 1;
            }
            Action::Transition(Target::Reopened) => {
                i.category = New;
                i.resolution = None;
                i.updated_ms += 1;
            }
            Action::PatchFinding(p) => {
                if let Some(s) = p.status {
                    f.status = s;
                }
                if let Some(d) = &p.due_date {
                    f.due_date = d.clone();
                }
                if let Some(a) = &p.assigned_to {
                    f.assigned_to = a.clone();
                }
                f.updated_at = format_time_ms(T + 500);
            }
            Action::Comment(_)
            | Action::CommentUnlessPosted(..)
            | Action::StartRerun
            | Action::Skip(_)
            | Action::Create => {}
        }
    }
    (f, i)
}

fn status() -> impl Strategy<Value = FindingStatus> {
    prop_oneof![
        Just(Open),
        Just(Acknowledged),
        Just(Resolved),
        Just(FalsePositive)
    ]
}

fn category() -> impl Strategy<Value = Category> {
    prop_oneof![Just(New), Just(Indeterminate), Just(Done)]
}

proptest! {
    #[test]
    fn applying_a_plan_then_replanning_is_empty(
        fs in status(), bs in status(), cat in category(), bcat in category(),
        wont in any::<bool>(), bwont in any::<bool>(),
        fu in 0i64..100, ju in 0i64..100,
        due in proptest::option::of(prop_oneof![Just("2026-12-31"), Just("2027-01-01")]),
        bdue in proptest::option::of(prop_oneof![Just("2026-12-31"), Just("2027-01-01")]),
        who in proptest::option::of(prop_oneof![Just("acc-1"), Just("acc-2")]),
        bwho in proptest::option::of(prop_oneof![Just("acc-1"), Just("acc-2")]),
        sev in prop_oneof![Just(Severity::High), Just(Severity::Low)],
        title in "[a-z ]{1,20}",
        pending in proptest::option::of(status()),
    ) {
        let mut f = finding(fs, T + fu);
        f.severity = sev;
        f.title = title;
        let mut i = issue(cat, if cat == Done { Some(if wont { "Won't Do" } else { "Done" }) } else { None }, T + ju);
        i.due_date = due.map(String::from);
        i.assignee = who.map(|a| JiraUser { account_id: a.into(), display_name: None, email: None });
        let mut b = base(bs, bcat, bwont && bcat == Done);
        b.due_hash = adf::short_hash(bdue);
        b.assignee_hash = adf::short_hash(bwho);
        b.pending_status = pending;
        let p = plan(&f, Some(&i), Some(&b), &policy(), T + 1000);
        let (f2, i2) = apply(&f, &i, &p.actions);
        let b2 = p.base.clone().unwrap_or(b);
        let p2 = plan(&f2, Some(&i2), Some(&b2), &policy(), T + 2000);
        prop_assert!(p2.is_empty(), "first {:?}\nsecond {:?}", p, p2);
    }

    #[test]
    fn summaries_and_labels_are_always_valid(title in "\\PC{0,400}", fw in "\\PC{0,40}", ctl in "\\PC{0,40}") {
        let mut f = finding(Open, T);
        f.title = title;
        f.compliance = Some(Compliance { test_id: "t".into(), test_name: "n".into(), framework: fw, control_id: ctl, result: TestResult::Fail, logs: None });
        let c = adf::render(&f);
        prop_assert!(c.summary.chars().count() <= 255 && !c.summary.is_empty() && !c.summary.contains('\n'));
        for l in &c.labels {
            prop_assert!(!l.is_empty() && l.len() <= 255 && !l.chars().any(char::is_whitespace), "{}", l);
            prop_assert_eq!(l.to_lowercase(), l.clone());
        }
    }
}
