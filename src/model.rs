//! Domain types shared by every layer: CATAAM findings as the API contract
//! (`docs/cataam-api.yaml`) describes them, and the enums the planner reasons about.

use serde::{Deserialize, Serialize};

/// Finding severity, most severe first (`Ord`: `Critical < High < … < Info`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Severity {
    /// Critical.
    Critical,
    /// High.
    High,
    /// Medium.
    Medium,
    /// Low.
    Low,
    /// Informational.
    Info,
}

impl Severity {
    /// All severities, most severe first.
    pub const ALL: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ];

    /// Lower-case label (`critical`), used in Jira labels and settings.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
            Severity::Info => "info",
        }
    }

    /// `true` when `self` is at least as severe as `min`.
    pub fn at_least(self, min: Severity) -> bool {
        self <= min
    }
}

/// What produced a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FindingKind {
    /// External attack-surface (iASM) finding.
    Iasm,
    /// A failed compliance test.
    Compliance,
}

/// CATAAM finding lifecycle status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FindingStatus {
    /// Needs attention.
    Open,
    /// Someone is working on it.
    Acknowledged,
    /// Fixed.
    Resolved,
    /// Not a real problem.
    FalsePositive,
}

impl FindingStatus {
    /// `true` for `Resolved` and `FalsePositive`.
    pub fn is_closed(self) -> bool {
        matches!(self, FindingStatus::Resolved | FindingStatus::FalsePositive)
    }
}

/// MITRE ATT&CK technique.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Mitre {
    /// Technique id, e.g. `T1190` or `T1059.001`.
    pub technique_id: String,
    /// Technique name.
    pub name: String,
}

/// The asset a finding is about.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Asset {
    /// Host name.
    #[serde(default)]
    pub hostname: Option<String>,
    /// IP address.
    #[serde(default)]
    pub ip: Option<String>,
    /// TCP/UDP port.
    #[serde(default)]
    pub port: Option<u32>,
    /// Service name.
    #[serde(default)]
    pub service: Option<String>,
    /// Cloud account reference.
    #[serde(default)]
    pub cloud_account: Option<String>,
}

/// Compliance test result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TestResult {
    /// The control passes.
    Pass,
    /// The control fails.
    Fail,
}

/// Compliance test details of a `COMPLIANCE` finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Compliance {
    /// Test id (re-run target).
    pub test_id: String,
    /// Test name.
    pub test_name: String,
    /// Framework, e.g. `ISO 27001`.
    pub framework: String,
    /// Control id within the framework, e.g. `A.8.8`.
    pub control_id: String,
    /// Latest result.
    pub result: TestResult,
    /// Failure logs of the latest run.
    #[serde(default)]
    pub logs: Option<String>,
}

/// A person a finding is assigned to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Assignee {
    /// Atlassian account id.
    pub account_id: String,
    /// Display name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// E-mail, when Jira exposes it.
    #[serde(default)]
    pub email: Option<String>,
}

/// A CATAAM finding (iASM finding or failed compliance test).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    /// Stable id, e.g. `fnd_01HX…`.
    pub id: String,
    /// Kind.
    pub kind: FindingKind,
    /// Status.
    pub status: FindingStatus,
    /// Severity.
    pub severity: Severity,
    /// Title (Jira summary).
    pub title: String,
    /// Description.
    #[serde(default)]
    pub description: String,
    /// Remediation advice.
    #[serde(default)]
    pub remediation: String,
    /// Compliance controls the finding maps to.
    #[serde(default)]
    pub compliance_controls: Vec<String>,
    /// MITRE ATT&CK technique.
    #[serde(default)]
    pub mitre: Option<Mitre>,
    /// Asset.
    #[serde(default)]
    pub asset: Option<Asset>,
    /// Compliance test (for `COMPLIANCE` findings).
    #[serde(default)]
    pub compliance: Option<Compliance>,
    /// Due date `YYYY-MM-DD`.
    #[serde(default)]
    pub due_date: Option<String>,
    /// Assignee.
    #[serde(default)]
    pub assigned_to: Option<Assignee>,
    /// Link to the finding in the CATAAM app.
    #[serde(default)]
    pub url: Option<String>,
    /// Creation time, RFC 3339.
    pub created_at: String,
    /// Last change, RFC 3339.
    pub updated_at: String,
}
