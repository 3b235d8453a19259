//! Step 6, the customer's approval: the request's confirm URL as text and as a QR code
//! (beside the text when there is room, else below it, else full-screen behind `z`); Enter
//! opens the browser (or, with no browser here, starts polling).

use super::StepScreen;
use crate::env::EnvKind;
use crate::flow::Msg;
use crate::tui::app::{App, Overlay};
use crate::tui::keymap::{Action, key_for};
use crate::tui::theme::Theme;
use crate::tui::ui::{Aside, Content, wrapped};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

/// A QR code ready to draw.
pub struct Qr {
    pub width: usize,
    pub lines: Vec<Line<'static>>,
}

/// The QR code of `url`, two modules per cell vertically, with a `quiet`-module margin.
/// With colours the modules are black on white whatever the terminal's theme; without
/// (NO_COLOR) light modules are drawn as blocks, which phones read as an inverted code on
/// a dark terminal.
pub fn qr(url: &str, theme: &Theme, quiet: usize) -> Option<Qr> {
    use ratatui::style::Color;
    let code =
        qrcode::QrCode::with_error_correction_level(url.as_bytes(), qrcode::EcLevel::L).ok()?;
    let n = code.width();
    let colors = code.to_colors();
    let size = n + 2 * quiet;
    // None: outside the code and its margin (the last half row).
    let dark = |x: usize, y: usize| -> Option<bool> {
        if y >= size {
            return None;
        }
        let inside = x >= quiet && y >= quiet && x < quiet + n && y < quiet + n;
        Some(inside && colors[(y - quiet) * n + (x - quiet)] == qrcode::Color::Dark)
    };
    let mut lines = Vec::new();
    for row in (0..size).step_by(2) {
        let spans: Vec<Span<'static>> = if theme.color {
            let c = |d: Option<bool>| match d {
                Some(true) => Color::Black,
                Some(false) => Color::White,
                None => Color::Reset,
            };
            (0..size)
                .map(|x| {
                    Span::styled(
                        "▀",
                        Style::new().fg(c(dark(x, row))).bg(c(dark(x, row + 1))),
                    )
                })
                .collect()
        } else {
            let text: String = (0..size)
                .map(|x| match (dark(x, row), dark(x, row + 1)) {
                    (Some(false), Some(false)) => '█',
                    (Some(false), _) => '▀',
                    (_, Some(false)) => '▄',
                    _ => ' ',
                })
                .collect();
            vec![Span::raw(text)]
        };
        lines.push(Line::from(spans));
    }
    Some(Qr { width: size, lines })
}

/// The approval QR code in the largest margin that fits `height` rows.
fn approval_qr(app: &App, height: usize) -> Option<Qr> {
    let url = app.confirm_url()?;
    let t = app.theme();
    qr(url, &t, 2)
        .filter(|q| q.lines.len() <= height)
        .or_else(|| qr(url, &t, 1))
}

impl App {
    /// Where the customer approves the current request.
    pub fn confirm_url(&self) -> Option<&str> {
        self.flow
            .profile
            .current_request()
            .and_then(|r| r.confirm_url.as_deref())
    }
}

pub struct Screen;

impl StepScreen for Screen {
    fn explanation(&self, _env: EnvKind) -> &'static str {
        "Someone with authority in the customer organisation must approve the request in \
         Altinn. Open the link (or scan the QR code) and approve; the wizard then waits for \
         the answer."
    }

    fn submit_label(&self, app: &App) -> Option<&'static str> {
        Some(if app.opts.headless.is_some() {
            "start polling"
        } else {
            "open browser"
        })
    }

    fn submit(&self, app: &mut App) -> Option<Msg> {
        Some(if app.opts.headless.is_some() {
            Msg::StartPolling
        } else {
            Msg::OpenBrowser
        })
    }

    fn act(&self, app: &mut App, action: Action) -> Option<Msg> {
        match action {
            Action::OpenBrowser => Some(Msg::OpenBrowser),
            Action::ShowQr => {
                app.overlay = Overlay::Qr;
                None
            }
            _ => None,
        }
    }

    fn aside(&self, app: &App, height: usize) -> Option<Aside> {
        approval_qr(app, height).map(|q| Aside {
            width: q.width,
            lines: q.lines,
            no_room: format!(
                "(no room for the QR code here: press {} for a full-screen one)",
                key_for(Action::ShowQr)
            ),
        })
    }

    fn body(&self, app: &App, c: &mut Content, w: usize) {
        let t = app.theme();
        let Some(r) = app.flow.profile.current_request() else {
            c.push(Line::raw(format!(
                "No request yet: go back ({}) and send one.",
                key_for(Action::Back)
            )));
            return;
        };
        c.kv(&t, "Request", r.id.clone(), w);
        let name = app
            .opts
            .seeded_orgs
            .iter()
            .find(|(no, _)| *no == r.customer_org)
            .map(|(_, n)| format!(" ({n})"))
            .unwrap_or_default();
        c.kv(&t, "Customer", format!("{}{name}", r.customer_org), w);
        c.kv(&t, "Status", r.status.to_string(), w);
        c.blank();
        if let Some(refusal) = app
            .flow
            .polling
            .as_ref()
            .filter(|p| p.request_id == r.id)
            .and_then(|p| p.refusal.as_ref())
        {
            super::polling::refusal_lines(app, c, refusal, w);
        }
        match &r.confirm_url {
            Some(url) => {
                c.push(Line::styled("The customer approves at:", t.dim()));
                c.extend(wrapped(url, w, t.code()));
            }
            None => c.push(Line::styled("(no confirm URL was returned)", t.warning())),
        }
        if let Some(why) = &app.opts.headless {
            c.extend(wrapped(
                &format!(
                    "No browser here ({why}): open the URL on another device or scan the QR \
                     code, then press {}.",
                    key_for(Action::StartPolling)
                ),
                w,
                t.warning(),
            ));
        }
        if app.env_kind() == EnvKind::Sandbox {
            c.extend(wrapped(
                "On the sandbox the page has an Approve button; log-in is simulated.",
                w,
                t.dim(),
            ));
        }
        if app.is_real_env() {
            c.extend(wrapped(TT02_APPROVAL, w, t.dim()));
        }
    }
}

/// Who approves on TT02 and how they log in (shown on TT02/production only).
pub const TT02_APPROVAL: &str = "Who approves: the customer's general manager (DAGL) from Tenor. Open \
     the link, log in with TestID (ID-porten's test login: choose TestID and enter the DAGL's \
     national identity number from Tenor), pick the organisation and approve. The status \
     changes 10-20 s later.";

/// `z`: the QR code on the whole screen (for projectors and phones), the URL under it.
pub fn draw_qr_overlay(frame: &mut Frame, app: &App, area: Rect) {
    let t = app.theme();
    frame.render_widget(Clear, area);
    let Some(url) = app.confirm_url().map(str::to_string) else {
        // The customers screen's lists carry no confirmUrl: it is being fetched.
        let mut lines = wrapped(
            "No approval link known for this request yet: asking Altinn for it. If none \
             comes, the request may be gone (reload the customer list).",
            area.width as usize,
            t.warning(),
        );
        lines.push(Line::styled("esc closes", t.dim()));
        frame.render_widget(Paragraph::new(lines), area);
        return;
    };
    let mut lines: Vec<Line> = Vec::new();
    let rows = area.height.saturating_sub(2) as usize;
    let code = qr(&url, &t, 2)
        .filter(|q| q.lines.len() <= rows)
        .or_else(|| qr(&url, &t, 1));
    match code {
        Some(q) if q.lines.len() <= rows && q.width <= area.width as usize => lines.extend(q.lines),
        Some(q) => lines.extend(wrapped(
            &format!(
                "The QR code needs {}x{} characters: enlarge the terminal (or zoom out).",
                q.width,
                q.lines.len() + 2
            ),
            area.width as usize,
            t.warning(),
        )),
        None => lines.push(Line::raw("(the URL is too long for a QR code)")),
    }
    lines.extend(wrapped(&url, area.width as usize, t.code()));
    lines.push(Line::styled("esc closes", t.dim()));
    frame.render_widget(Paragraph::new(lines), area);
}
