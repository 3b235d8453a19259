//! The system step's rights picker on screen: the search text, a table of resources or access
//! packages (name, owner, type, and whether a standard and an agent system user can hold
//! each), the picks, the refusal of a right that cannot be picked with its fix, and the
//! offline note. The state is the flow's ([`crate::flow::picker`]); the keys are in the key
//! map (space picks, tab switches, ↑↓ move, enter uses the picks, esc cancels).

use super::system::Focus;
use crate::flow::picker::{Picked, RightsPicker, Row, Verdict};
use crate::rights::{Fit, RightCandidate, RightKind, SearchKind};
use crate::tui::app::App;
use crate::tui::keymap::{Action, key_for};
use crate::tui::theme::Theme;
use crate::tui::ui::{Content, FormLook, fit, form, wrapped};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use unicode_width::UnicodeWidthStr;

/// Lines the picker needs besides its rows: the explanation's first line, the search text,
/// its hint and the table header.
const CHROME: usize = 4;
/// The table shows at least this many rows, however small the screen (the rest scrolls).
const MIN_ROWS: usize = 3;

/// Column widths of the table for a body `w` columns wide.
struct Columns {
    name: usize,
    owner: usize,
    kind: usize,
}

impl Columns {
    fn for_width(w: usize) -> Self {
        // cursor + mark (6), then name, owner, type, and the two fit marks (3 and 5).
        let (owner, kind) = if w >= 70 { (12, 21) } else { (6, 10) };
        let fixed = 6 + 1 + owner + 1 + kind + 1 + 3 + 1 + 5;
        Columns {
            name: w.saturating_sub(fixed).max(8),
            owner,
            kind,
        }
    }
}

fn pad(s: &str, w: usize) -> String {
    let s = fit(s, w);
    let n = w.saturating_sub(s.width());
    format!("{s}{}", " ".repeat(n))
}

fn owner_label(c: &RightCandidate) -> String {
    match c.kind {
        RightKind::Resource => c
            .owner
            .as_ref()
            .map(|o| o.label().to_string())
            .unwrap_or_default(),
        RightKind::Package => c.area.as_ref().map(|a| a.name.clone()).unwrap_or_default(),
    }
}

fn type_label(c: &RightCandidate) -> String {
    match c.kind {
        RightKind::Resource => c.resource_type.clone().unwrap_or_default(),
        RightKind::Package => "access package".into(),
    }
}

/// A package urn without its prefix, a resource id as it is.
fn short(id: &str) -> &str {
    id.strip_prefix(crate::rights::PACKAGE_URN_PREFIX)
        .unwrap_or(id)
}

fn fit_style(t: &Theme, f: &Fit) -> Style {
    match f {
        Fit::Yes => t.ok(),
        Fit::No { .. } => t.error(),
        Fit::Unknown => t.dim(),
    }
}

pub fn body(app: &App, p: &RightsPicker, c: &mut Content, w: usize) {
    let t = app.theme();
    let (this, other) = match p.kind {
        SearchKind::Resources => ("Resources", "packages"),
        SearchKind::Packages => ("Access packages", "resources"),
    };
    let state = if p.loading {
        format!("{} searching…", app.spinner_frame())
    } else {
        format!("{} found", p.results.len())
    };
    form(
        app,
        c,
        w,
        &app.forms.system,
        &[Focus::Search],
        FormLook {
            command_hint: None,
            field_lead: format!(
                "{this}, {state} · {}: {other}",
                key_for(Action::PickerSwitch)
            ),
            ..FormLook::default()
        },
    );

    let mut tail: Vec<Line<'static>> = Vec::new();
    let rows = p.rows();
    // The row under the cursor in full, unless a refusal (which names it) takes the room.
    if let Some(row) = rows.get(p.cursor)
        && p.refusal.is_none()
    {
        tail.extend(detail(&t, p, *row, w));
    }
    if let Some(f) = &p.refusal {
        let code = f
            .code
            .as_deref()
            .map(|c| format!(" [{c}]"))
            .unwrap_or_default();
        tail.extend(wrapped(
            &format!("✗ cannot pick {}{code}: {}", short(&f.subject), f.reason),
            w,
            t.error(),
        ));
        if let Some(fix) = &f.fix {
            tail.extend(wrapped(&format!("  fix: {fix}"), w, t.error()));
        }
    }
    let picked = if p.picked.is_empty() {
        "Picked: none yet".to_string()
    } else {
        format!(
            "Picked ({}): {}",
            p.picked.len(),
            p.picked
                .iter()
                .map(|x| short(&x.id))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let mut picked_lines = wrapped(&picked, w, t.ok());
    picked_lines.truncate(2);
    tail.extend(picked_lines);
    if let Some(n) = &p.note {
        tail.extend(wrapped(&format!("⚠ {n}"), w, t.warning()));
    }

    let height = app.body_height.get().max(CHROME + MIN_ROWS);
    // With a refusal on screen one row (the cursor's) is enough: its fix matters more.
    let min_rows = if p.refusal.is_some() { 1 } else { MIN_ROWS };
    let room = height.saturating_sub(CHROME + tail.len()).max(min_rows);

    let cols = Columns::for_width(w);
    if let Some(e) = &p.error {
        c.extend(wrapped(&format!("✗ {e}"), w, t.error()));
    } else if p.results.is_empty() && !p.loading {
        let what = match p.kind {
            SearchKind::Resources => "resources",
            SearchKind::Packages => "access packages",
        };
        let msg = if p.term.trim().is_empty() {
            format!("No {what} to show.")
        } else {
            format!(
                "No {what} match \"{}\". Try another word, or {} to search {other}.",
                p.term.trim(),
                key_for(Action::PickerSwitch)
            )
        };
        c.extend(wrapped(&msg, w, t.dim()));
    }
    if !rows.is_empty() {
        let owner = if p.kind == SearchKind::Packages {
            "area"
        } else {
            "owner"
        };
        c.push(Line::styled(
            fit(
                &format!(
                    "      {} {} {} std agent",
                    pad("name", cols.name),
                    pad(owner, cols.owner),
                    pad("type", cols.kind),
                ),
                w,
            ),
            t.dim(),
        ));
        // A window of rows that keeps the cursor in view.
        let start = p
            .cursor
            .saturating_sub(room.saturating_sub(1))
            .min(rows.len().saturating_sub(room));
        let end = (start + room).min(rows.len());
        for (i, row) in rows.iter().enumerate().take(end).skip(start) {
            // Arrows in the cursor column say that the list goes on above or below.
            let edge = if i == start && start > 0 {
                Some("↑ ")
            } else if i + 1 == end && end < rows.len() {
                Some("↓ ")
            } else {
                None
            };
            c.push(row_line(&t, p, *row, i == p.cursor, edge, &cols));
        }
    }
    c.extend(tail);
}

/// One row: cursor, mark, name, owner or area, type, std and agent fit.
fn row_line(
    t: &Theme,
    p: &RightsPicker,
    row: Row,
    at: bool,
    edge: Option<&'static str>,
    cols: &Columns,
) -> Line<'static> {
    let (cursor, cursor_style) = match (at, edge) {
        (true, _) => ("▸ ", t.focused()),
        (false, Some(arrow)) => (arrow, t.dim()),
        (false, None) => ("  ", t.dim()),
    };
    let (mark, mark_style, cand) = match row {
        Row::Result(c, true) => ("[x] ", t.ok(), Some(c)),
        Row::Result(c, false) => match p.judge(c) {
            Verdict::Refused(_) => (" ✗  ", t.error(), Some(c)),
            _ => ("[ ] ", t.text(), Some(c)),
        },
        Row::Picked(x) => match &x.verdict {
            Verdict::Refused(_) => ("[✗] ", t.error(), x.candidate.as_ref()),
            _ => ("[x] ", t.ok(), x.candidate.as_ref()),
        },
    };
    let name_style = if at { t.focused() } else { t.text() };
    let mut spans = vec![
        Span::styled(cursor, cursor_style),
        Span::styled(mark, mark_style),
    ];
    match cand {
        Some(c) => {
            let (std, agent) = (c.standard(), c.agent());
            spans.push(Span::styled(pad(c.name.get(false), cols.name), name_style));
            spans.push(Span::styled(
                format!(
                    " {} {} ",
                    pad(&owner_label(c), cols.owner),
                    pad(&type_label(c), cols.kind)
                ),
                t.dim(),
            ));
            spans.push(Span::styled(pad(std.mark(), 3), fit_style(t, &std)));
            spans.push(Span::raw(" "));
            spans.push(Span::styled(agent.mark(), fit_style(t, &agent)));
        }
        None => {
            let Row::Picked(x) = row else {
                unreachable!("results always have a candidate")
            };
            let what = match &x.verdict {
                Verdict::Pending => "looking it up…",
                Verdict::Unchecked(_) => "could not be checked",
                Verdict::Refused(_) => "refused",
                Verdict::Ok => "",
            };
            spans.push(Span::styled(
                fit(
                    &format!("{}  {what}", x.id),
                    cols.name + cols.owner + cols.kind + 2,
                ),
                name_style,
            ));
        }
    }
    Line::from(spans)
}

/// The row under the cursor in full: its id, type and owner, and why it cannot be picked.
fn detail(t: &Theme, p: &RightsPicker, row: Row, w: usize) -> Vec<Line<'static>> {
    let (cand, verdict): (Option<&RightCandidate>, Verdict) = match row {
        Row::Result(c, _) => (Some(c), p.judge(c)),
        Row::Picked(Picked {
            candidate, verdict, ..
        }) => (candidate.as_ref(), verdict.clone()),
    };
    let mut out = Vec::new();
    if let Some(c) = cand {
        let owner = match c.kind {
            RightKind::Resource => c
                .owner
                .as_ref()
                .map(|o| match &o.code {
                    Some(code) if !code.is_empty() && code != &o.name => {
                        format!("{} ({code})", o.name)
                    }
                    _ => o.name.clone(),
                })
                .unwrap_or_default(),
            RightKind::Package => c.area.as_ref().map(|a| a.name.clone()).unwrap_or_default(),
        };
        let mut parts = vec![short(&c.id).to_string(), type_label(c)];
        if !owner.is_empty() {
            parts.push(owner);
        }
        out.push(Line::styled(fit(&parts.join(" · "), w), t.dim()));
    }
    match verdict {
        Verdict::Refused(f) => {
            let code = f
                .code
                .as_deref()
                .map(|c| format!(" [{c}]"))
                .unwrap_or_default();
            let mut l = wrapped(&format!("✗ {}{code}", f.reason), w, t.error());
            l.truncate(2);
            out.extend(l);
        }
        Verdict::Unchecked(why) => {
            let mut l = wrapped(&format!("? not checked: {why}"), w, t.warning());
            l.truncate(1);
            out.extend(l);
        }
        Verdict::Ok | Verdict::Pending => {
            if let Some(c) = cand
                && c.kind == RightKind::Package
            {
                let fits = |f: Fit| match f {
                    Fit::Yes => "yes".to_string(),
                    Fit::No { code, .. } => format!("no ({code})"),
                    Fit::Unknown => "?".into(),
                };
                out.extend(wrapped(
                    &format!(
                        "standard user: {} · agent user: {}",
                        fits(c.standard()),
                        fits(c.agent())
                    ),
                    w,
                    t.dim(),
                ));
            }
        }
    }
    out
}
