//! The pure reconcile planner: `plan(finding, issue, base, policy, now) -> Plan`.
//!
//! A level-triggered three-way merge of the current finding, the current Jira issue and the
//! stored base (the state both sides agreed on after the last successful sync, see
//! [`crate::store::Link`]). Each field has one owner: summary/description/owned labels belong to
//! CATAAM, due date and assignee to Jira, status to whichever side changed it last (a failing
//! compliance re-run always wins; that path lives in the engine). The plan records the base to
//! store once its actions succeed, so running the planner again on the resulting world plans
//! nothing — our own writes never echo.

use crate::cataam::FindingPatch;
use crate::jira::adf;
use crate::jira::transitions::Target;
use crate::jira::{parse_time_ms, Category, IssueState};
use crate::model::{Finding, FindingKind, FindingStatus, Severity, TestResult};
use crate::settings::Settings;
use crate::store::Link;

/// Why a finding is not ticketed (stored as `skip:<id>`, reason code only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SkipReason {
    /// Severity below `settings.min_severity`.
    BelowThreshold,
    /// Kind not in `settings.kinds`.
    FilteredKind,
    /// No target project configured, or Jira rejected the project/issue type/fields.
    ProjectMisconfigured,
    /// Already RESOLVED / FALSE_POSITIVE when first seen: nothing to track.
    ClosedUnlinked,
    /// Compliance test currently passes: nothing to track.
    CompliancePassed,
    /// The linked issue was deleted in Jira; the app does not recreate it.
    IssueDeleted,
}

impl SkipReason {
    /// Stable reason code.
    pub fn code(self) -> &'static str {
        match self {
            SkipReason::BelowThreshold => "below_threshold",
            SkipReason::FilteredKind => "filtered_kind",
            SkipReason::ProjectMisconfigured => "project_misconfigured",
            SkipReason::ClosedUnlinked => "closed_unlinked",
            SkipReason::CompliancePassed => "compliance_passed",
            SkipReason::IssueDeleted => "issue_deleted",
        }
    }
}

/// Why the app posts a comment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommentKind {
    /// The finding was reopened in CATAAM.
    ReopenedInCataam,
}

impl CommentKind {
    /// The comment text.
    pub fn text(self) -> &'static str {
        match self {
            CommentKind::ReopenedInCataam => {
                "This issue was reopened because the CATAAM finding is open again (reopened in CATAAM)."
            }
        }
    }
}

/// One action the engine must perform.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Do not ticket this finding.
    Skip(SkipReason),
    /// Create the issue (bulk create with the `cataam.finding` property).
    Create,
    /// Set summary and description; add/remove owned labels (other labels untouched).
    UpdateContent {
        /// Owned labels to add.
        labels_add: Vec<String>,
        /// Owned labels to remove.
        labels_remove: Vec<String>,
    },
    /// Move the issue to a status category by path search.
    Transition(Target),
    /// Post a comment.
    Comment(CommentKind),
    /// Post a comment unless one of this kind was posted at or after the time (ms): the comment
    /// of a transition that landed in a run that died before posting it (or after).
    CommentUnlessPosted(CommentKind, i64),
    /// Update the finding in CATAAM.
    PatchFinding(FindingPatch),
    /// Start a compliance re-run (and poll it through the queue).
    StartRerun,
}

/// The outcome of planning one finding.
#[derive(Debug, Clone, PartialEq)]
#[must_use]
pub struct Plan {
    /// Actions, in execution order.
    pub actions: Vec<Action>,
    /// Base to store after the actions succeeded (`None`: unchanged).
    pub base: Option<Link>,
    /// The base the plan started from, once earlier intents were resolved (linked findings
    /// only): what an intent recorded before this plan's writes must carry.
    pub start: Option<Link>,
}

impl Plan {
    /// `true` when there is nothing to do and nothing to store.
    pub fn is_empty(&self) -> bool {
        self.actions.is_empty() && self.base.is_none()
    }

    /// `true` when the plan contains a write to Jira or CATAAM.
    pub fn has_writes(&self) -> bool {
        self.actions.iter().any(|a| !matches!(a, Action::Skip(_)))
    }
}

/// The parts of the settings the planner needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Least severe severity that is ticketed.
    pub min_severity: Severity,
    /// Ticketed kinds.
    pub kinds: Vec<FindingKind>,
    /// A target project is configured.
    pub project_configured: bool,
}

impl Policy {
    /// From the installation settings.
    pub fn from_settings(s: &Settings) -> Self {
        Self {
            min_severity: s.min_severity,
            kinds: s.kinds.clone(),
            project_configured: s.project_id.as_deref().is_some_and(|p| !p.is_empty()),
        }
    }
}

/// The base right after the app created the issue for `f` (computed from what was sent, so no
/// read-after-create is needed).
pub fn base_after_create(f: &Finding, issue_id: &str, issue_key: &str) -> Link {
    Link {
        issue_id: issue_id.to_string(),
        issue_key: issue_key.to_string(),
        finding_status: f.status,
        finding_version: f.updated_at.clone(),
        jira_category: Category::New,
        jira_wont_do: false,
        content_fp: adf::fingerprint(f),
        due_hash: adf::short_hash(f.due_date.as_deref()),
        assignee_hash: adf::short_hash(None),
        issue_deleted: false,
        pending_status: None,
        pending_from: None,
        pending_via: vec![],
        pending_comment: None,
        pending_patch: None,
    }
}

/// The base after adopting an issue that carries the finding's id but has no link (a create
/// whose answer or link was lost, or an earlier installation): the state the app creates issues
/// in ([`base_after_create`] with an OPEN finding) — and owned content assumed stale (rewritten
/// once). Whatever either side shows beyond that was changed since the create and is planned as
/// such: a person's work on the orphan flows to CATAAM, a CATAAM change
/// to Jira, and when both changed the newer change wins.
pub fn base_for_adoption(f: &Finding, issue: &IssueState) -> Link {
    Link {
        finding_status: FindingStatus::Open,
        content_fp: String::new(),
        ..base_after_create(f, &issue.id, &issue.key)
    }
}

/// The finding status a Jira state implies, given the category at the last sync.
pub fn implied_status(
    issue: &IssueState,
    base_category: Category,
    current: FindingStatus,
) -> FindingStatus {
    match issue.category {
        Category::Done if issue.is_wont_do() => FindingStatus::FalsePositive,
        Category::Done => FindingStatus::Resolved,
        Category::Indeterminate => FindingStatus::Acknowledged,
        Category::New if base_category == Category::Done => FindingStatus::Open,
        Category::New => current,
    }
}

/// Plans the actions converging `finding` and `issue` from `base`. Pure and deterministic.
pub fn plan(
    finding: &Finding,
    issue: Option<&IssueState>,
    base: Option<&Link>,
    policy: &Policy,
    now_ms: i64,
) -> Plan {
    let Some(base) = base else {
        return plan_unlinked(finding, policy);
    };
    let stored = base;
    let Some(issue) = issue else {
        if base.issue_deleted {
            return Plan {
                actions: vec![],
                base: None,
                start: None,
            };
        }
        let mut nb = base.clone();
        nb.issue_deleted = true;
        return Plan {
            actions: vec![Action::Skip(SkipReason::IssueDeleted)],
            base: Some(nb),
            start: None,
        };
    };
    let resolved = resolve_intents(base, finding, issue);
    let base = &resolved;
    let mut actions = vec![];
    let mut nb = base.clone();
    nb.issue_key = issue.key.clone();
    nb.issue_deleted = false;
    nb.clear_intents();

    // Owned content (CATAAM → Jira), only when its fingerprint changed.
    let fp = adf::fingerprint(finding);
    if fp != base.content_fp {
        let labels = adf::labels(finding);
        let labels_add: Vec<String> = labels
            .iter()
            .filter(|l| !issue.labels.contains(l))
            .cloned()
            .collect();
        let labels_remove: Vec<String> = issue
            .labels
            .iter()
            .filter(|l| adf::is_owned_label(l) && !labels.contains(l))
            .cloned()
            .collect();
        actions.push(Action::UpdateContent {
            labels_add,
            labels_remove,
        });
        nb.content_fp = fp;
    }

    // Status: the side that changed since the base wins; both → the newer change wins.
    let wont = issue.is_wont_do();
    let f_changed = finding.status != base.finding_status;
    let j_changed = issue.category != base.jira_category || wont != base.jira_wont_do;
    // An interrupted transition of ours left an intermediate status: keep driving it.
    let ours = base.pending_status.is_some_and(|s| s == finding.status);
    let finding_wins = ours
        || match (f_changed, j_changed) {
            (true, true) => {
                let f_ms = parse_time_ms(&finding.updated_at).unwrap_or(now_ms);
                // Jira's side of the race is its status category change, when it has one:
                // `updated` also moves with a later due date, assignee or comment.
                let j_ms = if issue.category != base.jira_category && issue.status_changed_ms > 0 {
                    issue.status_changed_ms
                } else {
                    issue.updated_ms
                };
                f_ms >= j_ms
            }
            (true, false) => true,
            _ => false,
        };
    let mut patch = FindingPatch::default();
    nb.jira_category = issue.category;
    nb.jira_wont_do = wont;
    if finding_wins {
        match finding.status {
            FindingStatus::Resolved | FindingStatus::FalsePositive => {
                if issue.category != Category::Done {
                    let w = finding.status == FindingStatus::FalsePositive;
                    actions.push(Action::Transition(Target::Done { wont_do: w }));
                    nb.jira_category = Category::Done;
                    nb.jira_wont_do = w;
                }
            }
            FindingStatus::Open | FindingStatus::Acknowledged => {
                if issue.category == Category::Done {
                    actions.push(Action::Transition(Target::Reopened));
                    actions.push(Action::Comment(CommentKind::ReopenedInCataam));
                    nb.jira_category = Category::New;
                    nb.jira_wont_do = false;
                }
            }
        }
        nb.finding_status = finding.status;
    } else if j_changed {
        let implied = implied_status(issue, base.jira_category, finding.status);
        if implied != finding.status {
            patch.status = Some(implied);
            if implied == FindingStatus::Resolved
                && finding.kind == FindingKind::Compliance
                && finding.compliance.is_some()
            {
                actions.push(Action::StartRerun);
            }
            nb.finding_status = implied;
        } else {
            nb.finding_status = finding.status;
        }
    }

    // A transition of ours landed in a run that died before its comment was known posted.
    if let (Some(since), None) = (base.pending_comment, base.pending_status) {
        if !actions.iter().any(|a| matches!(a, Action::Comment(_))) {
            actions.push(Action::CommentUnlessPosted(
                CommentKind::ReopenedInCataam,
                since,
            ));
        }
    }

    // Due date and assignee (Jira → CATAAM), when Jira's value changed since the base.
    let due_hash = adf::short_hash(issue.due_date.as_deref());
    if due_hash != base.due_hash {
        if finding.due_date != issue.due_date {
            patch.due_date = Some(issue.due_date.clone());
        }
        nb.due_hash = due_hash;
    }
    let assignee_id = issue.assignee.as_ref().map(|a| a.account_id.as_str());
    let assignee_hash = adf::short_hash(assignee_id);
    if assignee_hash != base.assignee_hash {
        if finding.assigned_to.as_ref().map(|a| a.account_id.as_str()) != assignee_id {
            patch.assigned_to = Some(issue.assignee.as_ref().map(|a| a.to_assignee()));
        }
        nb.assignee_hash = assignee_hash;
    }
    if !patch.is_empty() {
        actions.push(Action::PatchFinding(patch));
    }
    if !actions.is_empty() {
        nb.finding_version = finding.updated_at.clone();
    }
    Plan {
        actions,
        // Compared with the stored base: a resolved intent is stored even without actions.
        base: (nb != *stored).then_some(nb),
        start: Some(resolved),
    }
}

/// The base once the app's own interrupted writes are accounted for. A write whose intent is
/// recorded and that landed becomes agreed, so what either side shows beyond it is a person's
/// change, planned like any other; one that did not land is planned again.
///
/// - Transition intent (`pending_status`, `pending_from`): the issue is still where it started
///   (same status, no status category change since) or in an intermediate status of our walk →
///   unchanged (the planner keeps driving it). Anywhere else, or back where it started after a
///   category change → it landed: Jira agreed on the target category, CATAAM on the status.
///   Intents of older versions (no `pending_from`) keep the old meaning: still ours.
/// - Patch intent (`pending_patch`), due date and assignee: the finding shows the value sent →
///   landed, agreed; otherwise planned again from Jira's value.
/// - Patch intent, status: the finding shows the patched status → it landed: both
///   sides agreed on it and the Jira state it mirrored. Its `updatedAt` did not move → not
///   landed, planned again. It moved and shows another status than the patch started from →
///   a CATAAM change after (or instead of) the patch: counted as landed, so that change is
///   planned as CATAAM's and wins as the newer one. It moved, still shows the starting status
///   and its content changed → the content change moved it (a compliance re-run we started, a
///   scanner update): not landed, planned again. Same status, same content → the patch landed
///   and CATAAM set the status back since: that change wins. Not landed, the finding's status
///   when the patch was decided becomes the base's: the decision for Jira stands.
pub fn resolve_intents(base: &Link, finding: &Finding, issue: &IssueState) -> Link {
    let mut b = base.clone();
    if let (Some(status), Some((from_id, from_changed))) = (b.pending_status, &b.pending_from) {
        let untouched = issue.status_id == *from_id && issue.status_changed_ms == *from_changed;
        let mid_walk = b.pending_via.contains(&issue.status_id);
        if !untouched && !mid_walk {
            b.finding_status = status;
            match status {
                FindingStatus::Resolved | FindingStatus::FalsePositive => {
                    b.jira_category = Category::Done;
                    b.jira_wont_do = status == FindingStatus::FalsePositive;
                }
                FindingStatus::Open | FindingStatus::Acknowledged => {
                    b.jira_category = Category::New;
                    b.jira_wont_do = false;
                }
            }
            b.pending_status = None;
            b.pending_from = None;
            b.pending_via.clear();
        }
    }
    if let Some(p) = b.pending_patch.take() {
        if let Some(status) = p.status {
            let from_status = p.from_status.unwrap_or(b.finding_status);
            let moved = finding.updated_at != p.from_version;
            let content_moved = p
                .from_content
                .as_ref()
                .is_some_and(|c| *c != adf::fingerprint(finding));
            let landed = finding.status == status
                || (moved && (finding.status != from_status || !content_moved));
            if landed {
                b.finding_status = status;
                b.jira_category = p.jira_category;
                b.jira_wont_do = p.jira_wont_do;
            } else {
                // Jira's change was judged to win over the finding as it stood, which it still
                // does: decided again the same way, not re-raced against an `updatedAt` that
                // content moved since.
                b.finding_status = from_status;
            }
        }
        // Due date and assignee flow one way: the finding showing the value sent means agreed.
        let due = adf::short_hash(finding.due_date.as_deref());
        if p.due_hash.as_ref() == Some(&due) {
            b.due_hash = due;
        }
        let assignee = adf::short_hash(finding.assigned_to.as_ref().map(|a| a.account_id.as_str()));
        if p.assignee_hash.as_ref() == Some(&assignee) {
            b.assignee_hash = assignee;
        }
    }
    b
}

fn plan_unlinked(f: &Finding, policy: &Policy) -> Plan {
    let skip = |r| Plan {
        actions: vec![Action::Skip(r)],
        base: None,
        start: None,
    };
    if !policy.kinds.contains(&f.kind) {
        return skip(SkipReason::FilteredKind);
    }
    if !f.severity.at_least(policy.min_severity) {
        return skip(SkipReason::BelowThreshold);
    }
    if f.status.is_closed() {
        return skip(SkipReason::ClosedUnlinked);
    }
    if f.compliance
        .as_ref()
        .is_some_and(|c| c.result == TestResult::Pass)
    {
        return skip(SkipReason::CompliancePassed);
    }
    if !policy.project_configured {
        return skip(SkipReason::ProjectMisconfigured);
    }
    Plan {
        actions: vec![Action::Create],
        base: None,
        start: None,
    }
}
