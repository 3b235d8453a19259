//! The rights picker of the system step, as pure state: search the Resource Registry or the
//! access packages, pick several, and hand the picks to the system's rights and access
//! packages. Part of [`crate::flow`] (no I/O, no clock): typing asks for a debounce timer
//! ([`PickerEffect::Wait`]); only the timer of the latest term starts a search
//! ([`PickerEffect::Search`]), and an answer for an older term is dropped, so a slow answer
//! can never replace a newer one. What is already chosen (the form's rights and packages,
//! typed by hand or from the profile) is looked up once ([`PickerEffect::Resolve`]) and shown
//! as picked, refusals included.
//!
//! Whether a candidate may be picked is the pre-flight's verdict for registering it
//! ([`rights::preflight`] with [`Purpose::Register`]): a MaskinportenSchema resource
//! (AUTH.VLD-00017), an undelegable one (AUTH-00070 at approval), a package that is neither
//! delegable nor assignable (AUTH.VLD-00008) or a client-only package on a visible system
//! (AUTH.VLD-00018) is refused with its reason and fix, never picked silently.

use super::Failure;
use crate::profile::SystemSpec;
use crate::rights::{
    self, Finding, Lookup, Outcome, Purpose, RightCandidate, RightKind, SearchKind, SearchResult,
};
use crate::validate;
use std::time::Duration;

/// How long typing must pause before a search is sent.
pub const DEBOUNCE: Duration = Duration::from_millis(250);

/// Messages of the picker (inside [`super::Msg::Picker`]).
#[derive(Debug, Clone, PartialEq)]
pub enum PickerMsg {
    /// Open the picker with what the form names now (resource ids; package urns or codes) and
    /// whether the system is visible (a visible system may not list client-only packages).
    Open {
        rights: Vec<String>,
        packages: Vec<String>,
        visible: bool,
    },
    /// The search text changed (each key press).
    Term(String),
    /// Resources <-> access packages; searches at once.
    SwitchKind,
    /// Move the cursor by this many rows.
    Move(isize),
    /// Pick or unpick the row under the cursor.
    Toggle,
    /// Take the picks into the form.
    Confirm,
    /// Close without changing anything.
    Cancel,
    // --- effect results ---
    /// The debounce timer of search `seq` ran out.
    Due { seq: u64 },
    /// The answer of search `seq`.
    Found {
        seq: u64,
        result: Result<SearchResult, Failure>,
    },
    /// What the rights chosen before opening resolved to.
    Resolved { seq: u64, lookup: Lookup },
}

/// Work for the runner (inside [`super::Effect::Picker`]).
#[derive(Debug, Clone, PartialEq)]
pub enum PickerEffect {
    /// Sleep, then answer [`PickerMsg::Due`] (local: no network).
    Wait { seq: u64, after: Duration },
    /// Search the environment's metadata; answer [`PickerMsg::Found`].
    Search {
        seq: u64,
        term: String,
        kind: SearchKind,
    },
    /// Look these up; answer [`PickerMsg::Resolved`].
    Resolve {
        seq: u64,
        rights: Vec<String>,
        packages: Vec<String>,
    },
}

impl PickerEffect {
    /// The timer is local; searches and look-ups need the environment.
    pub fn is_remote(&self) -> bool {
        !matches!(self, PickerEffect::Wait { .. })
    }
}

/// The picks, as the system's rights and access packages (what Confirm hands the form).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Selection {
    /// Resource ids.
    pub rights: Vec<String>,
    /// Access package urns.
    pub packages: Vec<String>,
}

/// A picked right: its reference, and what the metadata says about it once known.
#[derive(Debug, Clone, PartialEq)]
pub struct Picked {
    pub kind: RightKind,
    /// Resource id or package urn (normalised), or the text as typed when it is invalid.
    pub id: String,
    pub candidate: Option<RightCandidate>,
    pub verdict: Verdict,
}

/// Whether a right may stay picked.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Not looked up yet.
    Pending,
    Ok,
    /// Refused by the pre-flight (or not a valid id, or unknown to the service).
    Refused(Finding),
    /// The metadata could not be had; the service decides.
    Unchecked(String),
}

/// The picker's state while it is open.
#[derive(Debug, Clone, PartialEq)]
pub struct RightsPicker {
    pub kind: SearchKind,
    pub term: String,
    /// The latest search; answers for any other are dropped.
    pub seq: u64,
    /// A search for `seq` is waiting or in flight.
    pub loading: bool,
    /// The last answer's candidates (for the term and kind it was asked for).
    pub results: Vec<RightCandidate>,
    /// "offline: results from cache of <time>", when the results came from a stale cache.
    pub note: Option<String>,
    /// Why the last search failed.
    pub error: Option<String>,
    /// Row under the cursor: results first, then picks not among them.
    pub cursor: usize,
    /// In the order picked.
    pub picked: Vec<Picked>,
    /// The refusal of the last attempt to pick (or to confirm), shown with its fix.
    pub refusal: Option<Finding>,
    /// The system is visible (judges client-only packages).
    pub visible: bool,
    resolve_seq: u64,
}

/// One row of the list.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Row<'a> {
    /// A search result, and whether it is picked.
    Result(&'a RightCandidate, bool),
    /// A pick that the current results do not show.
    Picked(&'a Picked),
}

impl RightsPicker {
    fn new(visible: bool) -> Self {
        RightsPicker {
            kind: SearchKind::Resources,
            term: String::new(),
            seq: 0,
            loading: false,
            results: Vec::new(),
            note: None,
            error: None,
            cursor: 0,
            picked: Vec::new(),
            refusal: None,
            visible,
            resolve_seq: 0,
        }
    }

    fn is_picked(&self, c: &RightCandidate) -> bool {
        self.picked
            .iter()
            .any(|p| p.kind == c.kind && c.matches(&p.id))
    }

    /// The rows: every result, then the picks the results do not show (so they can be
    /// unpicked whatever the search).
    pub fn rows(&self) -> Vec<Row<'_>> {
        let mut rows: Vec<Row> = self
            .results
            .iter()
            .map(|c| Row::Result(c, self.is_picked(c)))
            .collect();
        for p in &self.picked {
            let shown = self
                .results
                .iter()
                .any(|c| c.kind == p.kind && c.matches(&p.id));
            if !shown {
                rows.push(Row::Picked(p));
            }
        }
        rows
    }

    /// The picks as rights and packages.
    pub fn selection(&self) -> Selection {
        let of = |k: RightKind| {
            self.picked
                .iter()
                .filter(|p| p.kind == k)
                .map(|p| p.id.clone())
                .collect()
        };
        Selection {
            rights: of(RightKind::Resource),
            packages: of(RightKind::Package),
        }
    }

    /// The pre-flight's verdict on registering `c` in this system.
    pub fn judge(&self, c: &RightCandidate) -> Verdict {
        let mut spec = SystemSpec::simple("picker", "picker", "picker");
        spec.is_visible = self.visible;
        match c.kind {
            RightKind::Resource => spec.rights.push(c.id.clone()),
            RightKind::Package => spec.access_packages.push(c.urn.clone()),
        }
        let report = rights::preflight(&spec, Purpose::Register, std::slice::from_ref(c));
        verdict_of(report.findings.into_iter().next())
    }

    /// A new search term or kind: the next search number, and what to do for it.
    fn next_search(&mut self, debounce: bool) -> PickerEffect {
        self.seq += 1;
        self.loading = true;
        if debounce {
            PickerEffect::Wait {
                seq: self.seq,
                after: DEBOUNCE,
            }
        } else {
            self.search_now()
        }
    }

    fn search_now(&self) -> PickerEffect {
        PickerEffect::Search {
            seq: self.seq,
            term: self.term.trim().to_string(),
            kind: self.kind,
        }
    }

    fn clamp_cursor(&mut self) {
        let n = self.rows().len();
        self.cursor = self.cursor.min(n.saturating_sub(1));
    }

    fn toggle(&mut self) {
        let Some(row) = self.rows().get(self.cursor).copied() else {
            return;
        };
        match row {
            Row::Result(c, true) => {
                let c = c.clone();
                self.picked
                    .retain(|p| !(p.kind == c.kind && c.matches(&p.id)));
                self.refusal = None;
            }
            Row::Picked(p) => {
                let (kind, id) = (p.kind, p.id.clone());
                self.picked.retain(|p| !(p.kind == kind && p.id == id));
                self.refusal = None;
                self.clamp_cursor();
            }
            Row::Result(c, false) => {
                let c = c.clone();
                match self.judge(&c) {
                    Verdict::Refused(f) => {
                        self.refusal = Some(Finding {
                            fix: Some(picking_fix(&f)),
                            ..f
                        })
                    }
                    verdict => {
                        self.refusal = None;
                        self.picked.push(Picked {
                            kind: c.kind,
                            id: match c.kind {
                                RightKind::Resource => c.id.clone(),
                                RightKind::Package => c.urn.clone(),
                            },
                            candidate: Some(c),
                            verdict,
                        });
                    }
                }
            }
        }
    }

    fn resolved(&mut self, lookup: &Lookup) {
        let mut judged = Vec::new();
        for p in &self.picked {
            if p.verdict != Verdict::Pending {
                judged.push(p.clone());
                continue;
            }
            let found = lookup
                .found
                .iter()
                .find(|c| c.kind == p.kind && c.matches(&p.id));
            let verdict = match found {
                Some(c) => self.judge(c),
                None => {
                    let mut spec = SystemSpec::simple("picker", "picker", "picker");
                    spec.is_visible = self.visible;
                    match p.kind {
                        RightKind::Resource => spec.rights.push(p.id.clone()),
                        RightKind::Package => spec.access_packages.push(p.id.clone()),
                    }
                    let report = rights::preflight_lookup(&spec, Purpose::Register, lookup);
                    verdict_of(report.findings.into_iter().next())
                }
            };
            judged.push(Picked {
                candidate: found.cloned(),
                verdict,
                ..p.clone()
            });
        }
        self.picked = judged;
    }
}

/// The fix for a refused candidate about to be picked: the pre-flight's fixes say what to
/// remove from a system, which is no help for a right not in it yet; what to do instead is.
fn picking_fix(f: &Finding) -> String {
    match f.code.as_deref() {
        Some("AUTH.VLD-00018") => "for agent (client) system users set Visible to no in the form \
            (agent systems are not visible) and pick it again; for standard system users pick a \
            package marked std yes"
            .into(),
        Some("AUTH.VLD-00008") => {
            "no system user can hold it: pick a package marked std yes or agent yes".into()
        }
        _ => f
            .fix
            .as_deref()
            .and_then(|fix| fix.split_once("; ").map(|(_, rest)| rest.to_string()))
            .unwrap_or_else(|| "pick another one".into()),
    }
}

fn verdict_of(f: Option<Finding>) -> Verdict {
    match f {
        Some(f) if f.outcome == Outcome::Refused => Verdict::Refused(f),
        Some(f) if f.outcome == Outcome::Unchecked => Verdict::Unchecked(f.reason),
        _ => Verdict::Ok,
    }
}

/// A typed reference that is not a valid id: picked (so nothing typed is lost), but refused.
fn invalid(kind: RightKind, typed: &str, e: validate::ValidationError) -> Picked {
    Picked {
        kind,
        id: typed.to_string(),
        candidate: None,
        verdict: Verdict::Refused(Finding {
            subject: typed.to_string(),
            kind: Some(kind),
            outcome: Outcome::Refused,
            code: None,
            reason: e.to_string(),
            fix: Some("unpick it (space) and pick the right one from the search".into()),
        }),
    }
}

impl super::Flow {
    /// The picker's messages. Returns the effects to run.
    pub(super) fn update_picker(&mut self, msg: PickerMsg) -> Vec<super::Effect> {
        let fx = |e: PickerEffect| vec![super::Effect::Picker(e)];
        if let PickerMsg::Open {
            rights,
            packages,
            visible,
        } = msg
        {
            let mut p = RightsPicker::new(visible);
            let mut lookup = (Vec::new(), Vec::new());
            for r in rights {
                match validate::resource_id(&r) {
                    Ok(id) if !p.picked.iter().any(|x| x.id == id) => {
                        lookup.0.push(id.clone());
                        p.picked.push(Picked {
                            kind: RightKind::Resource,
                            id,
                            candidate: None,
                            verdict: Verdict::Pending,
                        });
                    }
                    Ok(_) => {}
                    Err(e) => p.picked.push(invalid(RightKind::Resource, &r, e)),
                }
            }
            for r in packages {
                match validate::access_package(&r) {
                    Ok(urn) if !p.picked.iter().any(|x| x.id == urn) => {
                        lookup.1.push(urn.clone());
                        p.picked.push(Picked {
                            kind: RightKind::Package,
                            id: urn,
                            candidate: None,
                            verdict: Verdict::Pending,
                        });
                    }
                    Ok(_) => {}
                    Err(e) => p.picked.push(invalid(RightKind::Package, &r, e)),
                }
            }
            // With only packages chosen, start where they are.
            if lookup.0.is_empty() && !lookup.1.is_empty() {
                p.kind = SearchKind::Packages;
            }
            let mut effects = vec![super::Effect::Picker(p.next_search(false))];
            if !lookup.0.is_empty() || !lookup.1.is_empty() {
                p.resolve_seq = p.seq;
                effects.push(super::Effect::Picker(PickerEffect::Resolve {
                    seq: p.seq,
                    rights: lookup.0,
                    packages: lookup.1,
                }));
            }
            self.picker = Some(p);
            self.error = None;
            self.notice = None;
            return effects;
        }
        let Some(p) = self.picker.as_mut() else {
            // A late answer, or a key, after the picker closed.
            return vec![];
        };
        match msg {
            PickerMsg::Open { .. } => unreachable!("handled above"),
            PickerMsg::Term(term) => {
                if term == p.term {
                    return vec![];
                }
                p.term = term;
                p.cursor = 0;
                p.refusal = None;
                fx(p.next_search(true))
            }
            PickerMsg::SwitchKind => {
                p.kind = match p.kind {
                    SearchKind::Resources => SearchKind::Packages,
                    SearchKind::Packages => SearchKind::Resources,
                };
                p.results.clear();
                p.note = None;
                p.error = None;
                p.refusal = None;
                p.cursor = 0;
                fx(p.next_search(false))
            }
            PickerMsg::Due { seq } => {
                if seq == p.seq {
                    fx(p.search_now())
                } else {
                    vec![]
                }
            }
            PickerMsg::Found { seq, result } => {
                if seq != p.seq {
                    // An answer for an older term or kind.
                    return vec![];
                }
                p.loading = false;
                match result {
                    Ok(r) => {
                        p.note = r.source.note();
                        p.results = r.candidates;
                        p.error = None;
                    }
                    Err(f) => {
                        p.results.clear();
                        p.note = None;
                        p.error = Some(f.message);
                    }
                }
                p.clamp_cursor();
                vec![]
            }
            PickerMsg::Resolved { seq, lookup } => {
                if seq == p.resolve_seq {
                    p.resolved(&lookup);
                    if p.note.is_none() {
                        p.note = lookup.note.clone();
                    }
                }
                vec![]
            }
            PickerMsg::Move(delta) => {
                let n = p.rows().len();
                if n > 0 {
                    p.cursor = (p.cursor as isize + delta).clamp(0, n as isize - 1) as usize;
                }
                // The refusal was about the row left behind.
                p.refusal = None;
                vec![]
            }
            PickerMsg::Toggle => {
                p.toggle();
                vec![]
            }
            PickerMsg::Confirm => {
                if let Some(bad) = p.picked.iter().find_map(|x| match &x.verdict {
                    Verdict::Refused(f) => Some(f.clone()),
                    _ => None,
                }) {
                    p.refusal = Some(Finding {
                        fix: Some(format!(
                            "{} — unpick it (space on its row) before using the picks",
                            bad.fix.as_deref().unwrap_or("remove it")
                        )),
                        ..bad
                    });
                    return vec![];
                }
                let sel = p.selection();
                self.notice = Some(format!(
                    "picked {} right(s) and {} access package(s); Enter registers the system with them",
                    sel.rights.len(),
                    sel.packages.len()
                ));
                self.picker = None;
                self.picked = Some(sel);
                vec![]
            }
            PickerMsg::Cancel => {
                self.picker = None;
                vec![]
            }
        }
    }
}

#[cfg(test)]
#[path = "flow_picker_tests.rs"]
mod tests;
