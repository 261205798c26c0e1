//! Moving an issue to a status *category* without knowing the workflow: a bounded path search
//! over the transitions Jira offers from the current status (`GET transitions?expand=
//! transitions.fields`), one hop at a time, never revisiting a status, filling a required
//! `resolution` field. Works on the simplified default workflow (direct edges) and on custom
//! multi-hop workflows with no direct edge. The choice of a hop is a pure function.

use super::{Category, JiraClient, JiraError};
use crate::host::{Host, HostError};
use serde_json::{json, Value};
use std::future::Future;

/// Most hops tried before giving up.
pub const MAX_HOPS: usize = 12;

/// A transition offered from the current status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    /// Transition id.
    pub id: String,
    /// Transition name.
    pub name: String,
    /// Target status id.
    pub to_id: String,
    /// Target status name.
    pub to_name: String,
    /// Target status category.
    pub to_category: Category,
    /// `Some(allowed resolution names)` when the screen has a resolution field.
    pub resolution_values: Option<Vec<String>>,
    /// Whether the resolution field is required.
    pub resolution_required: bool,
}

/// Parses `GET /rest/api/3/issue/{id}/transitions?expand=transitions.fields`.
pub fn parse_transitions(body: &Value) -> Vec<Transition> {
    body.get("transitions")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter(|t| t.get("isAvailable").and_then(Value::as_bool) != Some(false))
                .filter_map(|t| {
                    let to = t.get("to")?;
                    let res = t.pointer("/fields/resolution");
                    Some(Transition {
                        id: t.get("id")?.as_str()?.to_string(),
                        name: t.get("name").and_then(Value::as_str).unwrap_or("").into(),
                        to_id: to.get("id").and_then(Value::as_str).unwrap_or("").into(),
                        to_name: to.get("name").and_then(Value::as_str).unwrap_or("").into(),
                        to_category: Category::from_key(
                            to.pointer("/statusCategory/key")
                                .and_then(Value::as_str)
                                .unwrap_or("new"),
                        ),
                        resolution_values: res.map(|r| {
                            r.get("allowedValues")
                                .and_then(Value::as_array)
                                .map(|v| {
                                    v.iter()
                                        .filter_map(|x| x.get("name").and_then(Value::as_str))
                                        .map(str::to_string)
                                        .collect()
                                })
                                .unwrap_or_default()
                        }),
                        resolution_required: res
                            .and_then(|r| r.get("required"))
                            .and_then(Value::as_bool)
                            .unwrap_or(false),
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Where to move an issue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A done-category status; `wont_do` selects resolution "Won't Do" (else "Done").
    Done {
        /// Close as "Won't Do".
        wont_do: bool,
    },
    /// Out of done, into a new-category status (indeterminate accepted when no new is reachable).
    Reopened,
}

impl Target {
    fn accepts(self, c: Category) -> bool {
        match self {
            Target::Done { .. } => c == Category::Done,
            Target::Reopened => c == Category::New,
        }
    }

    /// Preference of an intermediate hop's category (lower is better).
    fn hop_rank(self, c: Category) -> u8 {
        match (self, c) {
            (Target::Done { .. }, Category::Indeterminate) => 0,
            (Target::Done { .. }, Category::New) => 1,
            (Target::Reopened, Category::Indeterminate) => 0,
            (Target::Reopened, Category::Done) => 2,
            _ => 1,
        }
    }
}

/// The next hop: a transition reaching the target category if one exists (for Won't Do, one
/// whose status is named like it or offers that resolution first), else the best unused edge out of the current status: least-visited target status first, then the
/// category closest to the target, then names that do not read as going backwards. `None` when
/// every edge out of the current status was already used (stuck: never loop).
pub fn choose_hop<'t>(ts: &'t [Transition], target: Target, walk: &Walk) -> Option<&'t Transition> {
    let direct: Vec<&Transition> = ts
        .iter()
        .filter(|t| target.accepts(t.to_category))
        .collect();
    if !direct.is_empty() {
        let score = |t: &Transition| -> u8 {
            match target {
                Target::Done { wont_do: true } => {
                    if super::is_wont_do_name(&t.to_name) {
                        0
                    } else if resolution_for(t, target).is_some_and(|r| super::is_wont_do_name(&r))
                    {
                        1
                    } else {
                        2
                    }
                }
                Target::Done { wont_do: false } => {
                    if super::is_wont_do_name(&t.to_name) {
                        3
                    } else {
                        0
                    }
                }
                Target::Reopened => 0,
            }
        };
        return direct.into_iter().min_by_key(|t| score(t));
    }
    ts.iter()
        .filter(|t| !walk.used.contains(&(walk.current.clone(), t.id.clone())))
        .min_by_key(|t| {
            (
                walk.visits.get(&t.to_id).copied().unwrap_or(0),
                target.hop_rank(t.to_category),
                looks_backwards(&t.name),
            )
        })
}

/// Where a walk has been: visits per status id and the edges (from status, transition id) used.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Walk {
    /// Current status id.
    pub current: String,
    /// Visits per status id (the start counts as one).
    pub visits: std::collections::BTreeMap<String, u32>,
    /// Edges already taken.
    pub used: Vec<(String, String)>,
}

impl Walk {
    /// A walk starting at this status.
    pub fn start(status_id: &str) -> Self {
        let mut w = Walk {
            current: status_id.to_string(),
            ..Walk::default()
        };
        w.visits.insert(status_id.to_string(), 1);
        w
    }

    /// Records taking `t` from the current status.
    pub fn take(&mut self, t: &Transition) {
        self.used.push((self.current.clone(), t.id.clone()));
        *self.visits.entry(t.to_id.clone()).or_default() += 1;
        self.current = t.to_id.clone();
    }
}

/// `1` when a transition name reads as a step back (`Back to …`, `Rework`, `Reopen`, `… again`).
fn looks_backwards(name: &str) -> u8 {
    let n = name.to_lowercase();
    u8::from(
        ["back", "rework", "reopen", "again", "return"]
            .iter()
            .any(|w| n.contains(w)),
    )
}

/// The resolution to send with this transition, if its screen has the field.
pub fn resolution_for(t: &Transition, target: Target) -> Option<String> {
    let values = t.resolution_values.as_ref()?;
    let Target::Done { wont_do } = target else {
        return None;
    };
    let want = if wont_do { "Won't Do" } else { "Done" };
    let pick = values
        .iter()
        .find(|v| v.eq_ignore_ascii_case(want) || (wont_do && super::is_wont_do_name(v)))
        .cloned();
    match pick {
        Some(p) => Some(p),
        None if t.resolution_required => values.first().cloned().or(Some(want.to_string())),
        None if values.is_empty() => Some(want.to_string()),
        None => None,
    }
}

/// The `POST …/transitions` body.
pub fn transition_body(t: &Transition, target: Target) -> Value {
    match (target.accepts(t.to_category), resolution_for(t, target)) {
        (true, Some(r)) => {
            json!({ "transition": { "id": t.id }, "fields": { "resolution": { "name": r } } })
        }
        _ => json!({ "transition": { "id": t.id } }),
    }
}

/// Where a move ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    /// Final status category.
    pub category: Category,
    /// Final status name.
    pub status_name: String,
    /// Resolution we set (done targets), if any.
    pub resolution: Option<String>,
    /// Transitions performed.
    pub hops: usize,
}

/// Why a move stopped short.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MoveError {
    /// A Jira request failed.
    Jira(JiraError),
    /// Recording an intermediate hop (the caller's `before_intermediate`) failed.
    Storage(HostError),
}

impl From<JiraError> for MoveError {
    fn from(e: JiraError) -> Self {
        MoveError::Jira(e)
    }
}

/// Moves the issue (currently in status `from_status_id`, category `from_category`) towards `target`, hop by hop.
/// Returns where it ended; `Ok` with a non-matching category when no path exists within
/// [`MAX_HOPS`] (the caller records it and does not loop). Before a hop to a status that does
/// not reach the target (an intermediate one), `before_intermediate(status id)` runs, so the
/// caller can record it as its own before the issue can be seen there.
pub async fn move_to<H: Host, F, Fut>(
    client: &JiraClient<'_, H>,
    issue_id: &str,
    from_status_id: &str,
    from_status_name: &str,
    from_category: Category,
    target: Target,
    mut before_intermediate: F,
) -> Result<Moved, MoveError>
where
    F: FnMut(&str) -> Fut,
    Fut: Future<Output = Result<(), HostError>>,
{
    let mut walk = Walk::start(from_status_id);
    let mut cur = Moved {
        category: from_category,
        status_name: from_status_name.to_string(),
        resolution: None,
        hops: 0,
    };
    for _ in 0..MAX_HOPS {
        if target.accepts(cur.category) {
            break;
        }
        let ts = client.get_transitions(issue_id).await?;
        let Some(t) = choose_hop(&ts, target, &walk) else {
            break;
        };
        let t = t.clone();
        if !target.accepts(t.to_category) {
            before_intermediate(&t.to_id)
                .await
                .map_err(MoveError::Storage)?;
        }
        walk.take(&t);
        // Won't Do onto a done status whose transition has no screen: Jira may still accept the
        // resolution (simplified workflows do); if it refuses, take the plain transition.
        let optimistic = matches!(target, Target::Done { wont_do: true })
            && t.to_category == Category::Done
            && t.resolution_values.is_none()
            && !super::is_wont_do_name(&t.to_name);
        let mut wont_do_set = false;
        if optimistic {
            let body = json!({ "transition": { "id": t.id }, "fields": { "resolution": { "name": "Won't Do" } } });
            match client.do_transition(issue_id, body).await {
                Ok(()) => wont_do_set = true,
                Err(JiraError::Rejected { .. }) => {
                    client
                        .do_transition(issue_id, json!({ "transition": { "id": t.id } }))
                        .await?
                }
                Err(e) => return Err(e.into()),
            }
        } else {
            client
                .do_transition(issue_id, transition_body(&t, target))
                .await?;
        }
        cur.hops += 1;
        cur.category = t.to_category;
        cur.status_name = t.to_name.clone();
        cur.resolution = if wont_do_set {
            Some("Won't Do".into())
        } else if t.to_category == Category::Done {
            resolution_for(&t, target).or_else(|| {
                Some(match target {
                    Target::Done { wont_do: true } if super::is_wont_do_name(&t.to_name) => {
                        "Won't Do".into()
                    }
                    _ => "Done".into(),
                })
            })
        } else {
            None
        };
    }
    Ok(cur)
}
