//! The readiness panel, shown before the key step on TT02 and production (and with `p` on the
//! key step): what is ready at Digdir for this profile, checked without credentials
//! ([`crate::readiness`]), what could not be checked and why, and the ready e-mail where the
//! fix is to ask a service desk or a scope owner. The check runs as an effect in a tokio task
//! (`Effect::CheckReadiness`); this only draws the flow's [`Readiness`].

use crate::flow::Readiness;
use crate::readiness::Level;
use crate::tui::app::App;
use crate::tui::keymap::{Action, key_for};
use crate::tui::ui::wrapped;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph};

fn mark(level: Level) -> &'static str {
    match level {
        Level::Pass => "ok",
        Level::Warn => "warn",
        Level::Fail => "FAIL",
        Level::Skip => "not checked",
    }
}

/// The panel's lines, `w` columns wide.
pub fn lines(app: &App, w: usize) -> Vec<Line<'static>> {
    let t = app.theme();
    let env = app.env_kind();
    let mut out: Vec<Line<'static>> = Vec::new();
    out.extend(wrapped(
        &format!(
            "Before the key: is {} ready for you? Checked without credentials, from Digdir's public \
             scope catalogue; what cannot be seen from outside says why and how to check it.",
            env.badge()
        ),
        w,
        t.dim(),
    ));
    out.push(Line::raw(""));
    let report = match &app.flow.readiness {
        Readiness::NotRun => {
            out.extend(wrapped(
                &format!(
                    "Not checked yet: press {}.",
                    key_for(Action::RecheckReadiness)
                ),
                w,
                t.dim(),
            ));
            return out;
        }
        Readiness::Running => {
            out.extend(wrapped(
                &format!("{} checking…", app.spinner_frame()),
                w,
                t.dim(),
            ));
            return out;
        }
        Readiness::Done(r) => r,
    };
    for item in &report.items {
        let style = match item.level {
            Level::Pass => t.ok(),
            Level::Warn => t.warning(),
            Level::Fail => t.error(),
            Level::Skip => t.dim(),
        };
        out.extend(wrapped(
            &format!("[{}] {}: {}", mark(item.level), item.name, item.detail),
            w,
            style,
        ));
        if let Some(fix) = &item.fix {
            out.extend(wrapped(&format!("   fix: {fix}"), w, t.dim()));
        }
    }
    let skipped = report.skipped().count();
    if skipped > 0 {
        out.push(Line::raw(""));
        out.extend(wrapped(
            &format!(
                "{skipped} could not be checked (the reason is on each); the rest of the wizard works without them."
            ),
            w,
            t.warning(),
        ));
    }
    for mail in &report.emails {
        out.push(Line::raw(""));
        out.extend(wrapped("A ready e-mail (copy it):", w, t.title()));
        for l in mail.as_text().lines() {
            out.extend(wrapped(l, w, t.code()));
        }
    }
    out
}

pub fn draw_overlay(frame: &mut ratatui::Frame, app: &App, area: Rect) {
    let t = app.theme();
    frame.render_widget(Clear, area);
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(t.border())
        .title(format!(" Readiness for {} ", app.env_kind().badge()));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [body, hint] = inner.layout(&Layout::vertical([
        Constraint::Min(0),
        Constraint::Length(1),
    ]));
    let all = lines(app, body.width as usize);
    let hidden = all.len().saturating_sub(body.height as usize);
    app.readiness_overflow.set(hidden);
    let scroll = app.readiness_scroll.min(hidden);
    frame.render_widget(
        Paragraph::new(all.into_iter().skip(scroll).collect::<Vec<_>>()),
        body,
    );
    let mut spans = vec![
        Span::styled("enter", t.key()),
        Span::raw(" continue · "),
        Span::styled(key_for(Action::RecheckReadiness), t.key()),
        Span::raw(" check again"),
    ];
    if hidden > 0 {
        spans.push(Span::raw(" · "));
        spans.push(Span::styled("↑↓", t.key()));
        spans.push(Span::raw(format!(" scroll ({scroll}/{hidden})")));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), hint);
}
