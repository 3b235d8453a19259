//! Step 7, waiting for the customer's answer: the request's status, checks made, elapsed time
//! and the countdown to the next check while the flow polls with backoff.

use super::StepScreen;
use crate::env::EnvKind;
use crate::flow::{ApprovalRefusal, Msg};
use crate::tui::app::App;
use crate::tui::keymap::{Action, key_for};
use crate::tui::ui::{Content, LABEL_W, wrapped};
use ratatui::text::{Line, Span};
use std::time::Duration;

/// Minutes and seconds, for the countdown.
fn secs(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 60 {
        format!("{}m {:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

impl App {
    /// Elapsed polling time and time to the next check, for the polling screen.
    pub fn poll_timing(&self) -> (Duration, Option<Duration>) {
        let elapsed = self
            .poll_started
            .map(|s| self.now.saturating_duration_since(s))
            .unwrap_or_default();
        let next = self
            .next_poll_at
            .map(|t| t.saturating_duration_since(self.now));
        (elapsed, next)
    }
}

/// A refused approval (sandbox only): which code, which right or package, why, what to
/// change; full width, since the texts are long and the narrow layout has 48 columns.
pub fn refusal_lines(app: &App, c: &mut Content, r: &ApprovalRefusal, w: usize) {
    let t = app.theme();
    c.extend(wrapped(
        &format!(
            "✗ the customer's approval was refused: {} (tried by {})",
            r.code, r.person_name
        ),
        w,
        t.error(),
    ));
    if let Some(s) = &r.subject {
        c.extend(wrapped(&format!("Right/package: {s}"), w, t.code()));
    }
    c.extend(wrapped(&format!("Why: {}", r.detail), w, t.text()));
    c.extend(wrapped(&format!("Change: {}", r.fix), w, t.warning()));
    c.blank();
}

pub struct Screen;

impl StepScreen for Screen {
    fn explanation(&self, _env: EnvKind) -> &'static str {
        "Waiting for the customer's answer. The wizard asks Altinn for the request's status, \
         backing off between checks; approval or rejection shows up within one interval."
    }

    /// Once polling stopped (rejected, gave up), Enter checks once more.
    fn submit_label(&self, app: &App) -> Option<&'static str> {
        (!app.polling_active()).then_some("poll again")
    }

    fn submit(&self, app: &mut App) -> Option<Msg> {
        (!app.polling_active()).then_some(Msg::PollNow)
    }

    fn body(&self, app: &App, c: &mut Content, w: usize) {
        let t = app.theme();
        let status = app
            .flow
            .profile
            .current_request()
            .map(|r| r.status.to_string())
            .unwrap_or_else(|| "?".into());
        let Some(p) = &app.flow.polling else {
            c.push(Line::raw(format!(
                "Not polling. Enter (or {}) starts.",
                key_for(Action::StartPolling)
            )));
            return;
        };
        let active = p.active;
        c.push(Line::from(vec![
            Span::styled(format!("{:<LABEL_W$}", "Status"), t.dim()),
            Span::styled(status, if active { t.current() } else { t.text() }),
            Span::raw(if active {
                format!("  {} waiting", app.spinner_frame())
            } else {
                "  (stopped)".to_string()
            }),
        ]));
        if let Some(r) = &p.refusal {
            refusal_lines(app, c, r, w);
        }
        c.kv(&t, "Request", p.request_id.clone(), w);
        c.kv(&t, "Checks", p.attempts.to_string(), w);
        let (elapsed, next) = app.poll_timing();
        c.kv(&t, "Elapsed", secs(elapsed), w);
        if active {
            let n = match next {
                Some(d) if !d.is_zero() => {
                    format!("in {}", secs(d + Duration::from_millis(999)))
                }
                _ => "checking now…".to_string(),
            };
            c.kv(&t, "Next check", n, w);
            c.kv(
                &t,
                "Interval",
                format!("{:.1}s (backs off)", p.interval.as_secs_f64()),
                w,
            );
        }
        if let Some(e) = &p.last_error {
            c.blank();
            c.extend(wrapped(
                &format!("⚠ last check failed (still polling): {e}"),
                w,
                t.warning(),
            ));
        }
    }
}
