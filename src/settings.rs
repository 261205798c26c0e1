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

/// Hosts the app may call besides any other `*.cataam.com` host (the manifest's egress allowlist).
pub const ALLOWED_HOSTS: [&str; 2] = ["service.cataam.com", "app.cataam.com"];

/// Prefix every CATAAM API key carries.
pub const API_KEY_PREFIX: &str = "cataam_";

/// Longest accepted API key (it travels in an `Authorization` header).
pub const API_KEY_MAX_LEN: usize = 512;

/// Longest accepted grace period of the previous webhook secret (7 days).
pub const MAX_SECRET_GRACE_SECONDS: u64 = 7 * 24 * 3600;

/// One rejected settings field, shown next to that field in the admin page.
///
/// `message` says what to fix; it never echoes the submitted value (which may be a secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// Field name as the admin page sends it (`baseUrl`, `apiKey`, `projectId`, `issueType`, ...).
    pub field: String,
    /// Stable code: `REQUIRED`, `INVALID_URL`, `HOST_NOT_ALLOWED`, `INVALID_API_KEY`, `INVALID_VALUE`.
    pub code: String,
    /// Human-readable explanation.
    pub message: String,
}

impl FieldError {
    /// Builds a field error.
    pub fn new(field: &str, code: &str, message: &str) -> Self {
        Self {
            field: field.into(),
            code: code.into(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.field, self.code, self.message)
    }
}

/// `true` when `host` (lower-case, no port) is one the app may call: `service.cataam.com`,
/// `app.cataam.com` or any `<label>.cataam.com`.
pub fn is_allowed_host(host: &str) -> bool {
    if ALLOWED_HOSTS.contains(&host) {
        return true;
    }
    match host.strip_suffix(".cataam.com") {
        Some(sub) => {
            !sub.is_empty()
                && sub.split('.').all(|label| {
                    !label.is_empty()
                        && label.len() <= 63
                        && !label.starts_with('-')
                        && !label.ends_with('-')
                        && label
                            .bytes()
                            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                })
        }
        None => false,
    }
}

/// Checks and normalises a CATAAM API base URL.
///
/// Accepts only `https` URLs without user info, query or fragment, on an allowed host
/// ([`is_allowed_host`]) and the default port; returns the URL without a trailing slash, e.g.
/// `https://service.cataam.com` or `https://acme.cataam.com/api-gw`. Errors carry the field `baseUrl`
/// and the code `REQUIRED`, `INVALID_URL` or `HOST_NOT_ALLOWED`.
pub fn normalize_base_url(input: &str) -> Result<String, FieldError> {
    const FIELD: &str = "baseUrl";
    let raw = input.trim();
    if raw.is_empty() {
        return Err(FieldError::new(
            FIELD,
            "REQUIRED",
            "Enter the CATAAM API base URL.",
        ));
    }
    let invalid = |msg: &str| FieldError::new(FIELD, "INVALID_URL", msg);
    let url = url::Url::parse(raw).map_err(|_| invalid("This is not a valid URL."))?;
    if url.scheme() != "https" {
        return Err(invalid("The URL must start with https://."));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("The URL must not contain a user name or password."));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid(
            "The URL must not contain a query (?) or fragment (#).",
        ));
    }
    let host = match url.host() {
        Some(url::Host::Domain(d)) => d.trim_end_matches('.').to_string(),
        Some(_) => {
            return Err(FieldError::new(
                FIELD,
                "HOST_NOT_ALLOWED",
                "Use a *.cataam.com host name, not an IP address.",
            ))
        }
        None => return Err(invalid("The URL has no host.")),
    };
    if !is_allowed_host(&host) {
        return Err(FieldError::new(
            FIELD,
            "HOST_NOT_ALLOWED",
            "The host must be service.cataam.com, app.cataam.com or another *.cataam.com host.",
        ));
    }
    if url.port().is_some() {
        return Err(FieldError::new(
            FIELD,
            "HOST_NOT_ALLOWED",
            "Use the default HTTPS port (remove the :port part).",
        ));
    }
    let path = url.path().trim_end_matches('/');
    Ok(format!("https://{host}{path}"))
}

/// Checks the shape of a CATAAM API key (`cataam_` prefix, printable ASCII without spaces).
/// Errors carry the field `apiKey` and never the key itself.
pub fn validate_api_key(key: &str) -> Result<(), FieldError> {
    const FIELD: &str = "apiKey";
    if key.is_empty() {
        return Err(FieldError::new(
            FIELD,
            "REQUIRED",
            "Enter a CATAAM API key.",
        ));
    }
    if !key.starts_with(API_KEY_PREFIX) || key.len() == API_KEY_PREFIX.len() {
        return Err(FieldError::new(
            FIELD,
            "INVALID_API_KEY",
            "CATAAM API keys start with cataam_ (Org Settings → Integrations → API Keys).",
        ));
    }
    if key.len() > API_KEY_MAX_LEN || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(FieldError::new(
            FIELD,
            "INVALID_API_KEY",
            "The API key contains characters a CATAAM key never has; paste it again.",
        ));
    }
    Ok(())
}

impl Settings {
    /// Validates every field and returns the normalised settings, or all field errors at once.
    ///
    /// Checks: base URL ([`normalize_base_url`]); project id required (digits, as Jira ids are);
    /// issue type non-empty; at least one finding kind; every priority name non-empty; grace period
    /// at most [`MAX_SECRET_GRACE_SECONDS`]. Text fields are trimmed.
    pub fn validated(&self) -> Result<Settings, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut out = self.clone();
        match normalize_base_url(&self.base_url) {
            Ok(u) => out.base_url = u,
            Err(e) => errors.push(e),
        }
        let project = self.project_id.as_deref().map(str::trim).unwrap_or("");
        if project.is_empty() {
            errors.push(FieldError::new(
                "projectId",
                "REQUIRED",
                "Choose the Jira project for new issues.",
            ));
        } else if !project.bytes().all(|b| b.is_ascii_digit()) || project.len() > 20 {
            errors.push(FieldError::new(
                "projectId",
                "INVALID_VALUE",
                "Choose a project from the list.",
            ));
        } else {
            out.project_id = Some(project.to_string());
        }
        out.project_key = self
            .project_key
            .as_deref()
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .map(str::to_string);
        let issue_type = self.issue_type.trim();
        if issue_type.is_empty() {
            errors.push(FieldError::new(
                "issueType",
                "REQUIRED",
                "Enter the issue type for new issues (for example Bug).",
            ));
        } else if issue_type.chars().count() > 255 {
            errors.push(FieldError::new(
                "issueType",
                "INVALID_VALUE",
                "The issue type name is too long.",
            ));
        } else {
            out.issue_type = issue_type.to_string();
        }
        if self.kinds.is_empty() {
            errors.push(FieldError::new(
                "kinds",
                "REQUIRED",
                "Select at least one kind of finding to ticket.",
            ));
        }
        let mut kinds = Vec::with_capacity(out.kinds.len());
        for k in &self.kinds {
            if !kinds.contains(k) {
                kinds.push(*k);
            }
        }
        out.kinds = kinds;
        let p = &self.priorities;
        for (name, value) in [
            ("critical", &p.critical),
            ("high", &p.high),
            ("medium", &p.medium),
            ("low", &p.low),
            ("info", &p.info),
        ] {
            if value.trim().is_empty() {
                errors.push(FieldError::new(
                    &format!("priorities.{name}"),
                    "REQUIRED",
                    "Enter a Jira priority name.",
                ));
            }
        }
        out.priorities = PriorityMap {
            critical: p.critical.trim().into(),
            high: p.high.trim().into(),
            medium: p.medium.trim().into(),
            low: p.low.trim().into(),
            info: p.info.trim().into(),
        };
        if self.secret_grace_seconds > MAX_SECRET_GRACE_SECONDS {
            errors.push(FieldError::new(
                "secretGraceSeconds",
                "INVALID_VALUE",
                "The grace period of the previous secret can be at most 7 days.",
            ));
        }
        if errors.is_empty() {
            Ok(out)
        } else {
            Err(errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_url_normalised() {
        for (input, want) in [
            ("https://service.cataam.com", "https://service.cataam.com"),
            (
                "  https://service.cataam.com/ ",
                "https://service.cataam.com",
            ),
            ("https://APP.cataam.com//", "https://app.cataam.com"),
            (
                "https://acme.eu.cataam.com/gw/",
                "https://acme.eu.cataam.com/gw",
            ),
            (
                "https://service.cataam.com:443/",
                "https://service.cataam.com",
            ),
        ] {
            assert_eq!(normalize_base_url(input).as_deref(), Ok(want), "{input}");
        }
    }

    #[test]
    fn base_url_rejections() {
        for (input, code) in [
            ("", "REQUIRED"),
            ("service.cataam.com", "INVALID_URL"),
            ("http://service.cataam.com", "INVALID_URL"),
            ("https://user:pw@service.cataam.com", "INVALID_URL"),
            ("https://user@service.cataam.com", "INVALID_URL"),
            ("https://service.cataam.com/?x=1", "INVALID_URL"),
            ("https://service.cataam.com/?", "INVALID_URL"),
            ("https://service.cataam.com/#frag", "INVALID_URL"),
            ("https://cataam.com", "HOST_NOT_ALLOWED"),
            ("https://evil.com", "HOST_NOT_ALLOWED"),
            ("https://service.cataam.com.evil.com", "HOST_NOT_ALLOWED"),
            ("https://evilcataam.com", "HOST_NOT_ALLOWED"),
            ("https://127.0.0.1", "HOST_NOT_ALLOWED"),
            ("https://[::1]", "HOST_NOT_ALLOWED"),
            ("https://service.cataam.com:8443", "HOST_NOT_ALLOWED"),
        ] {
            let err = normalize_base_url(input).expect_err(input);
            assert_eq!(err.code, code, "{input}");
            assert_eq!(err.field, "baseUrl");
        }
    }

    #[test]
    fn api_key_shape() {
        assert!(validate_api_key("cataam_abc123").is_ok());
        assert_eq!(validate_api_key("").unwrap_err().code, "REQUIRED");
        for bad in ["abc", "cataam_", "CATAAM_x", "cataam_ a", "cataam_\u{e9}"] {
            let e = validate_api_key(bad).unwrap_err();
            assert_eq!(e.code, "INVALID_API_KEY", "{bad}");
            assert!(bad == API_KEY_PREFIX || !e.message.contains(bad));
        }
        assert!(validate_api_key(&format!("cataam_{}", "a".repeat(600))).is_err());
    }

    #[test]
    fn settings_validated_collects_every_error() {
        let s = Settings {
            base_url: "http://x.com".into(),
            project_id: None,
            issue_type: "  ".into(),
            kinds: vec![],
            ..Settings::default()
        };
        let errs = s.validated().unwrap_err();
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["baseUrl", "projectId", "issueType", "kinds"]);
    }

    #[test]
    fn settings_validated_normalises() {
        let s = Settings {
            base_url: "https://service.cataam.com/".into(),
            project_id: Some(" 10000 ".into()),
            project_key: Some("SEC".into()),
            issue_type: " Bug ".into(),
            ..Settings::default()
        };
        let v = s.validated().unwrap();
        assert_eq!(v.base_url, "https://service.cataam.com");
        assert_eq!(v.project_id.as_deref(), Some("10000"));
        assert_eq!(v.issue_type, "Bug");
        let dup = Settings {
            kinds: vec![
                FindingKind::Iasm,
                FindingKind::Compliance,
                FindingKind::Iasm,
            ],
            ..s.clone()
        };
        assert_eq!(
            dup.validated().unwrap().kinds,
            [FindingKind::Iasm, FindingKind::Compliance]
        );
        let bad = Settings {
            project_id: Some("SEC".into()),
            ..s
        };
        assert_eq!(bad.validated().unwrap_err()[0].code, "INVALID_VALUE");
    }
}
