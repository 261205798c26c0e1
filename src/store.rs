//! Every KVS key the app uses is built here, and nowhere else.
//!
//! Data policy: values hold only ids and sync metadata (status enums, version stamps, short
//! fingerprints, cursors, locks, counters) — never titles, descriptions, asset names or logs.

/// Non-secret installation settings (`settings::Settings`).
pub const SETTINGS: &str = "settings";
/// CATAAM → Jira poll cursor (`updatedSince` high-water mark and page cursor).
pub const POLL_CURSOR: &str = "cursor:cataam";
/// Jira → CATAAM poll cursor (last `updated` seen on managed issues).
pub const JIRA_CURSOR: &str = "cursor:jira";
/// Run lock of the scheduled poll (set with "if not exists" + TTL).
pub const POLL_LOCK: &str = "lock:poll";
/// Health counters and timestamps for the admin page.
pub const HEALTH: &str = "health:stats";
/// Recent activity ring (ids and actions only).
pub const ACTIVITY: &str = "health:activity";
/// Connection state (e.g. last CATAAM auth failure code) for the admin page.
pub const CONNECTION: &str = "health:connection";
/// Prefix of finding → issue links.
pub const LINK_BY_FINDING_PREFIX: &str = "link:f:";
/// Prefix of issue → finding links.
pub const LINK_BY_ISSUE_PREFIX: &str = "link:i:";
/// Prefix of dead letters.
pub const DEAD_LETTER_PREFIX: &str = "dead:";
/// Prefix of skip records (why a finding was not ticketed).
pub const SKIP_PREFIX: &str = "skip:";

/// Link record of a finding (`link:f:<findingId>`).
pub fn link_by_finding(finding_id: &str) -> String {
    format!("{LINK_BY_FINDING_PREFIX}{finding_id}")
}

/// Reverse link of an issue (`link:i:<issueId>`).
pub fn link_by_issue(issue_id: &str) -> String {
    format!("{LINK_BY_ISSUE_PREFIX}{issue_id}")
}

/// Per-finding create lock (`lock:create:<findingId>`).
pub fn create_lock(finding_id: &str) -> String {
    format!("lock:create:{finding_id}")
}

/// Dead letter of a finding (`dead:<findingId>`).
pub fn dead_letter(finding_id: &str) -> String {
    format!("{DEAD_LETTER_PREFIX}{finding_id}")
}

/// Retry bookkeeping of a finding (`retry:<findingId>`).
pub fn retry(finding_id: &str) -> String {
    format!("retry:{finding_id}")
}

/// Skip record of a finding (`skip:<findingId>`): reason code only.
pub fn skip(finding_id: &str) -> String {
    format!("{SKIP_PREFIX}{finding_id}")
}

/// Seen push event id (`evt:<eventId>`, with TTL) for replay protection.
pub fn push_event(event_id: &str) -> String {
    format!("evt:{event_id}")
}

/// Pending compliance re-run of a finding (`rerun:<findingId>`).
pub fn rerun(finding_id: &str) -> String {
    format!("rerun:{finding_id}")
}
