//! Rendering of CATAAM-owned Jira content: summary, ADF description, labels, and the comments
//! the app posts. Pure functions; long text is truncated cleanly (on a character boundary,
//! preferring whitespace) with a visible note, keeping every document within Jira's
//! 32,767-character field limit.

use crate::model::{Finding, FindingKind};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// Jira's limit for a text field (the serialized ADF document must stay below it).
pub const JIRA_TEXT_LIMIT: usize = 32_767;
/// Safety margin kept below [`JIRA_TEXT_LIMIT`].
pub const DESCRIPTION_BUDGET: usize = 32_000;
/// Maximum summary length.
pub const SUMMARY_LIMIT: usize = 255;
/// Note appended to truncated text.
pub const TRUNCATION_NOTE: &str = "… [truncated — see the full text in CATAAM]";
/// Label every managed issue carries.
pub const LABEL_APP: &str = "cataam";

/// Prefixes of the labels the app owns (it never touches other labels).
pub const OWNED_LABEL_PREFIXES: [&str; 3] = ["severity-", "framework-", "control-"];

/// CATAAM-owned content of an issue.
#[derive(Debug, Clone, PartialEq)]
pub struct Content {
    /// Summary (≤ 255 chars, one line).
    pub summary: String,
    /// ADF description.
    pub description: Value,
    /// Owned labels, sorted.
    pub labels: Vec<String>,
}

/// Version of the rendering; bump it to rewrite every issue's owned content once.
pub const RENDER_VERSION: u32 = 1;

/// Short fingerprint of a finding's owned content (stored in the base, never the content
/// itself). Hashes the inputs of [`render`], so it is cheap and needs no rendering.
pub fn fingerprint(f: &Finding) -> String {
    let inputs = serde_json::json!([
        RENDER_VERSION,
        f.kind,
        f.severity,
        f.title,
        f.description,
        f.remediation,
        f.compliance_controls,
        f.mitre,
        f.asset,
        f.compliance,
        f.url,
    ]);
    let d = Sha256::digest(inputs.to_string().as_bytes());
    hex::encode(&d[..8])
}

/// `true` when the label is one the app owns.
pub fn is_owned_label(l: &str) -> bool {
    l == LABEL_APP || OWNED_LABEL_PREFIXES.iter().any(|p| l.starts_with(p))
}

/// Short hash of an optional value (due dates, assignee ids) for the base.
pub fn short_hash(v: Option<&str>) -> String {
    match v {
        None => "-".into(),
        Some(s) => {
            let d = Sha256::digest(s.as_bytes());
            hex::encode(&d[..6])
        }
    }
}

/// Label slug: lower case, whitespace dropped, other non-alphanumerics → `-`, collapsed and trimmed.
/// `ISO 27001` → `iso27001`, `A.8.8` → `a-8-8`.
pub fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_whitespace() {
            continue;
        }
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let t = out.trim_matches('-').to_string();
    if t.is_empty() {
        "unknown".into()
    } else {
        t.chars().take(200).collect()
    }
}

/// Truncates to at most `max` characters on a char boundary, preferring a whitespace break, and
/// appends `note` when shortened (the result including the note stays within `max`).
pub fn truncate_chars(s: &str, max: usize, note: &str) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let note_len = note.chars().count();
    let keep = max.saturating_sub(note_len);
    let cut: String = s.chars().take(keep).collect();
    let head = match cut.rfind(char::is_whitespace) {
        Some(i) if i > keep / 2 => &cut[..i],
        _ => cut.as_str(),
    };
    format!("{}{}", head.trim_end(), note)
}

/// The one-line summary (≤ 255 chars).
pub fn summary(f: &Finding) -> String {
    let one_line: String = f.title.split_whitespace().collect::<Vec<_>>().join(" ");
    let t = if one_line.is_empty() {
        format!("CATAAM finding {}", f.id)
    } else {
        one_line
    };
    truncate_chars(&t, SUMMARY_LIMIT, "…")
}

/// Owned labels: `cataam`, `severity-<sev>`, and for compliance `framework-<slug>`, `control-<slug>`.
pub fn labels(f: &Finding) -> Vec<String> {
    let mut l = vec![
        LABEL_APP.to_string(),
        format!("severity-{}", f.severity.as_str()),
    ];
    if let Some(c) = &f.compliance {
        l.push(format!("framework-{}", slug(&c.framework)));
        l.push(format!("control-{}", slug(&c.control_id)));
    }
    l.sort();
    l.dedup();
    l
}

/// ATT&CK URL of a technique id: `T1059.001` → `https://attack.mitre.org/techniques/T1059/001/`.
pub fn mitre_url(technique_id: &str) -> Option<String> {
    let id = technique_id.trim();
    let valid = id.len() >= 5
        && id.starts_with('T')
        && id[1..].chars().all(|c| c.is_ascii_digit() || c == '.');
    if !valid {
        return None;
    }
    Some(format!(
        "https://attack.mitre.org/techniques/{}/",
        id.replace('.', "/")
    ))
}

/// An ADF text node.
pub fn text(s: &str) -> Value {
    json!({ "type": "text", "text": s })
}

fn strong(s: &str) -> Value {
    json!({ "type": "text", "text": s, "marks": [{ "type": "strong" }] })
}

fn link(s: &str, href: &str) -> Value {
    json!({ "type": "text", "text": s, "marks": [{ "type": "link", "attrs": { "href": href } }] })
}

/// An ADF paragraph of inline nodes (empty strings dropped, ADF forbids empty text nodes).
pub fn paragraph(inline: Vec<Value>) -> Value {
    let content: Vec<Value> = inline
        .into_iter()
        .filter(|n| n.get("text").and_then(Value::as_str) != Some(""))
        .collect();
    json!({ "type": "paragraph", "content": content })
}

fn heading(s: &str) -> Value {
    json!({ "type": "heading", "attrs": { "level": 3 }, "content": [text(s)] })
}

fn bullets(items: Vec<Vec<Value>>) -> Value {
    json!({ "type": "bulletList", "content": items.into_iter().map(|i| json!({
        "type": "listItem", "content": [paragraph(i)]
    })).collect::<Vec<_>>() })
}

/// An ADF code block (text kept verbatim, truncated to `max` chars with a note).
pub fn code_block(s: &str, max: usize) -> Value {
    let t = truncate_chars(s, max, "\n… [truncated — see the full logs in CATAAM]");
    if t.is_empty() {
        json!({ "type": "codeBlock", "content": [] })
    } else {
        json!({ "type": "codeBlock", "content": [text(&t)] })
    }
}

/// Paragraphs of multi-line text (blank lines separate paragraphs).
fn text_paragraphs(s: &str) -> Vec<Value> {
    s.split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| paragraph(vec![text(p)]))
        .collect()
}

/// A whole ADF document.
pub fn doc(content: Vec<Value>) -> Value {
    json!({ "type": "doc", "version": 1, "content": content })
}

fn describe(f: &Finding, text_max: usize, logs_max: usize) -> Value {
    let mut c = vec![paragraph(vec![
        strong("Severity: "),
        text(f.severity.as_str().to_uppercase().as_str()),
        text(match f.kind {
            FindingKind::Iasm => "  ·  iASM finding",
            FindingKind::Compliance => "  ·  Compliance test failure",
        }),
    ])];
    if !f.description.trim().is_empty() {
        c.push(heading("Description"));
        c.extend(text_paragraphs(&truncate_chars(
            &f.description,
            text_max,
            TRUNCATION_NOTE,
        )));
    }
    if !f.remediation.trim().is_empty() {
        c.push(heading("Remediation"));
        c.extend(text_paragraphs(&truncate_chars(
            &f.remediation,
            text_max,
            TRUNCATION_NOTE,
        )));
    }
    if let Some(t) = &f.compliance {
        c.push(heading("Compliance test"));
        c.push(bullets(vec![
            vec![strong("Test: "), text(&t.test_name)],
            vec![strong("Framework: "), text(&t.framework)],
            vec![strong("Control: "), text(&t.control_id)],
        ]));
        if let Some(logs) = t.logs.as_deref().filter(|l| !l.trim().is_empty()) {
            c.push(heading("What failed"));
            c.push(code_block(logs, logs_max));
        }
    }
    if !f.compliance_controls.is_empty() {
        c.push(heading("Compliance controls"));
        c.push(bullets(
            f.compliance_controls
                .iter()
                .take(50)
                .map(|x| vec![text(x)])
                .collect(),
        ));
    }
    if let Some(m) = &f.mitre {
        c.push(heading("MITRE ATT&CK"));
        let label = format!("{} — {}", m.technique_id, m.name);
        c.push(paragraph(vec![match mitre_url(&m.technique_id) {
            Some(u) => link(&label, &u),
            None => text(&label),
        }]));
    }
    if let Some(a) = &f.asset {
        let mut items = vec![];
        let mut add = |k: &str, v: Option<String>| {
            if let Some(v) = v.filter(|v| !v.is_empty()) {
                items.push(vec![strong(k), text(&v)]);
            }
        };
        add("Host: ", a.hostname.clone());
        add("IP: ", a.ip.clone());
        add("Port: ", a.port.map(|p| p.to_string()));
        add("Service: ", a.service.clone());
        add("Cloud account: ", a.cloud_account.clone());
        if !items.is_empty() {
            c.push(heading("Asset"));
            c.push(bullets(items));
        }
    }
    if let Some(u) = f
        .url
        .as_deref()
        .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
    {
        c.push(paragraph(vec![
            text("View this finding in CATAAM: "),
            link(u, u),
        ]));
    }
    doc(c)
}

/// The ADF description, shrunk until its serialized form fits [`DESCRIPTION_BUDGET`].
pub fn description(f: &Finding) -> Value {
    let (mut text_max, mut logs_max) = (12_000usize, 8_000usize);
    loop {
        let d = describe(f, text_max, logs_max);
        if d.to_string().chars().count() <= DESCRIPTION_BUDGET || text_max < 200 {
            return d;
        }
        text_max /= 2;
        logs_max /= 2;
    }
}

/// All owned content of a finding's issue.
pub fn render(f: &Finding) -> Content {
    Content {
        summary: summary(f),
        description: description(f),
        labels: labels(f),
    }
}

/// The text of an ADF node: its text nodes concatenated, depth first.
pub fn plain_text(node: &Value) -> String {
    fn walk(v: &Value, out: &mut String) {
        if let Some(t) = v.get("text").and_then(Value::as_str) {
            out.push_str(t);
        }
        for c in v
            .get("content")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            walk(c, out);
        }
    }
    let mut out = String::new();
    walk(node, &mut out);
    out
}

/// Comment posted when the app reopens an issue because the finding was reopened in CATAAM.
pub fn reopen_comment(reason: &str) -> Value {
    doc(vec![paragraph(vec![text(reason)])])
}

/// Comment with the failing compliance re-run logs (code block, truncated with a note).
pub fn rerun_failed_comment(logs: Option<&str>) -> Value {
    let mut c = vec![paragraph(vec![text(
        "CATAAM re-ran the compliance test after this issue was resolved: the control still FAILS. \
         The issue was reopened and the finding set back to OPEN.",
    )])];
    if let Some(l) = logs.filter(|l| !l.trim().is_empty()) {
        c.push(code_block(l, 20_000));
    }
    doc(c)
}

/// Comment recording a passing verification run.
pub fn rerun_passed_comment(run_id: &str) -> Value {
    doc(vec![paragraph(vec![text(&format!(
        "CATAAM re-ran the compliance test (run {run_id}): the control now PASSES. Resolution verified."
    ))])])
}
