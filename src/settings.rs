//! Installation settings (non-secret, stored in KVS) and the names of the secrets.

use crate::model::{FindingKind, Severity};
use serde::{Deserialize, Serialize};

/// Secret storage name of the CATAAM API key.
pub const SECRET_API_KEY: &str = "cataam-api-key";
/// Secret storage name of the current webhook shared secret.
pub const SECRET_WEBHOOK: &str = "webhook-secret";
/// Secret storage name of the previous webhook shared secret (accepted during the grace period).
pub const SECRET_WEBHOOK_PREVIOUS: &str = "webhook-secret-previous";

/// Default CATAAM API base URL.
pub const DEFAULT_BASE_URL: &str = "https://service.cataam.com";

/// Jira priority name per severity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PriorityMap {
    /// For CRITICAL.
    pub critical: String,
    /// For HIGH.
    pub high: String,
    /// For MEDIUM.
    pub medium: String,
    /// For LOW.
    pub low: String,
    /// For INFO.
    pub info: String,
}

impl Default for PriorityMap {
    fn default() -> Self {
        Self {
            critical: "Highest".into(),
            high: "High".into(),
            medium: "Medium".into(),
            low: "Low".into(),
            info: "Lowest".into(),
        }
    }
}

impl PriorityMap {
    /// Priority name for a severity.
    pub fn for_severity(&self, s: Severity) -> &str {
        match s {
            Severity::Critical => &self.critical,
            Severity::High => &self.high,
            Severity::Medium => &self.medium,
            Severity::Low => &self.low,
            Severity::Info => &self.info,
        }
    }
}

/// Non-secret settings of one installation (KVS key `settings`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Settings {
    /// CATAAM API base URL (https, `*.cataam.com`).
    pub base_url: String,
    /// Jira project id where issues are created (`None` until configured).
    pub project_id: Option<String>,
    /// Jira project key (display and JQL).
    pub project_key: Option<String>,
    /// Issue type name for new issues.
    pub issue_type: String,
    /// Findings less severe than this are not ticketed.
    pub min_severity: Severity,
    /// Finding kinds that are ticketed.
    pub kinds: Vec<FindingKind>,
    /// Severity → Jira priority name.
    pub priorities: PriorityMap,
    /// Grace period during which the previous webhook secret is still accepted.
    pub secret_grace_seconds: u64,
    /// When the previous webhook secret stops being accepted (ms since epoch), if any.
    pub previous_secret_expires_at: Option<i64>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.into(),
            project_id: None,
            project_key: None,
            issue_type: "Bug".into(),
            min_severity: Severity::Info,
            kinds: vec![FindingKind::Iasm, FindingKind::Compliance],
            priorities: PriorityMap::default(),
            secret_grace_seconds: 24 * 3600,
            previous_secret_expires_at: None,
        }
    }
}
