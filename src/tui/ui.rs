//! Drawing: header (name, environment badge, profile), step list, the current step, footer with
//! the keys that work now, and overlays. Pure functions of `&App`; text is wrapped here (not by
//! the Paragraph widget) so the layout knows every line's height and where the cursor goes.

use super::app::{App, Overlay, idx};
use super::form::{Field, Widget};
use super::keymap;
use super::strings;
use super::theme::Theme;
use crate::env::EnvKind;
use crate::flow::{ErrorKind, Step, StepState};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph};

const LABEL_W: usize = 18;
/// Below this width the step list is hidden and the header names the step instead.
pub const SIDEBAR_MIN_WIDTH: u16 = 60;
const SIDEBAR_W: u16 = 27;
/// The approval text needs at least this many columns beside the QR code.
const QR_TEXT_MIN: usize = 30;

pub fn draw(frame: &mut Frame, app: &App) {
    let area = frame.area();
    let [header, body, footer] = area.layout(&Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(1),
    ]));
    let sidebar = show_sidebar(app, area);
    draw_header(frame, app, header, sidebar);
    let main = if sidebar {
        let [side, main] = body.layout(&Layout::horizontal([
            Constraint::Length(SIDEBAR_W),
            Constraint::Min(0),
        ]));
        draw_steps(frame, app, side);
        main
    } else {
        body
    };
    draw_main(frame, app, main);
    draw_footer(frame, app, footer);
    match app.overlay {
        Overlay::None => {}
        Overlay::Help => draw_help(frame, app, area),
        Overlay::ConfirmQuit => draw_confirm_quit(frame, app, area),
        Overlay::Qr => draw_qr_overlay(frame, app, area),
    }
}

/// The step list needs 60 columns; on the approval step it also gives way to the QR code.
fn show_sidebar(app: &App, area: Rect) -> bool {
    if area.width < SIDEBAR_MIN_WIDTH {
        return false;
    }
    if app.flow.step == Step::Approval
        && let Some(q) = approval_qr(app, area.height.saturating_sub(4) as usize)
    {
        return area.width as usize > SIDEBAR_W as usize + 2 + QR_TEXT_MIN + q.width;
    }
    true
}

fn draw_header(frame: &mut Frame, app: &App, area: Rect, sidebar: bool) {
    let t = app.theme();
    let kind = app.env_kind();
    let step = app.flow.step;
    let mut spans = vec![
        Span::styled(format!(" {} ", strings::APP_NAME), t.header()),
        Span::styled(format!(" {} ", kind.badge()), t.badge(kind)),
        Span::styled(format!("  profile {}", app.flow.profile.name), t.dim()),
    ];
    let right = format!("step {}/{} ", step.index() + 1, Step::ALL.len());
    let right = if !sidebar {
        format!("{}/{} {} ", step.index() + 1, Step::ALL.len(), step.title())
    } else {
        right
    };
    let used: usize = spans.iter().map(|s| s.width()).sum();
    let pad = (area.width as usize).saturating_sub(used + right.chars().count());
    if pad > 0 {
        spans.push(Span::raw(" ".repeat(pad)));
        spans.push(Span::styled(right, t.title()));
    }
    frame.render_widget(Line::from(spans), area);
}

fn mark(state: StepState) -> &'static str {
    match state {
        StepState::Done => "✓",
        StepState::Current => "▶",
        StepState::Pending => "·",
        StepState::Failed => "✗",
    }
}

fn draw_steps(frame: &mut Frame, app: &App, area: Rect) {
    let t = app.theme();
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(t.border())
        .title(" Steps ");
    let lines: Vec<Line> = Step::ALL
        .iter()
        .map(|s| {
            let state = app.flow.step_state(*s);
            let style = match state {
                StepState::Done => t.ok(),
                StepState::Current => t.current(),
                StepState::Pending => t.dim(),
                StepState::Failed => t.error(),
            };
            let title_style = if state == StepState::Current {
                t.current()
            } else if state == StepState::Pending {
                t.dim()
            } else {
                t.text()
            };
            Line::from(vec![
                Span::styled(format!(" {} ", mark(state)), style),
                Span::styled(format!("{} {}", s.index() + 1, s.title()), title_style),
            ])
        })
        .collect();
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

fn draw_footer(frame: &mut Frame, app: &App, area: Rect) {
    let t = app.theme();
    let mut spans = vec![Span::raw(" ")];
    for (i, (key, label)) in keymap::active_hints(app).into_iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(" · ", t.dim()));
        }
        spans.push(Span::styled(key, t.key()));
        spans.push(Span::raw(format!(" {label}")));
    }
    frame.render_widget(Line::from(spans), area);
}

/// Word-wrap `text` to `width` columns (long words are cut).
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut out = Vec::new();
    for para in text.split('\n') {
        let mut line = String::new();
        for word in para.split_whitespace() {
            let mut word = word.to_string();
            loop {
                let wl = word.chars().count();
                let ll = line.chars().count();
                if ll == 0 && wl <= width {
                    line = word;
                    break;
                }
                if ll > 0 && ll + 1 + wl <= width {
                    line.push(' ');
                    line.push_str(&word);
                    break;
                }
                if ll > 0 {
                    out.push(std::mem::take(&mut line));
                    continue;
                }
                // A word longer than the line: cut it.
                let head: String = word.chars().take(width).collect();
                let tail: String = word.chars().skip(width).collect();
                out.push(head);
                word = tail;
                if word.is_empty() {
                    break;
                }
            }
        }
        out.push(line);
    }
    out
}

fn wrapped(text: &str, width: usize, style: Style) -> Vec<Line<'static>> {
    wrap(text, width)
        .into_iter()
        .map(|l| Line::styled(l, style))
        .collect()
}

/// Lines for the main area plus, when a text field is focused, the cursor (row, column).
struct Content {
    lines: Vec<Line<'static>>,
    cursor: Option<(usize, u16)>,
}

impl Content {
    fn new() -> Self {
        Content {
            lines: Vec::new(),
            cursor: None,
        }
    }
    fn push(&mut self, l: Line<'static>) {
        self.lines.push(l);
    }
    fn extend(&mut self, ls: Vec<Line<'static>>) {
        self.lines.extend(ls);
    }
    fn blank(&mut self) {
        if self.lines.last().is_some_and(|l| l.width() > 0) {
            self.lines.push(Line::raw(""));
        }
    }
    /// A label and a value; long values wrap under the value column.
    fn kv(&mut self, t: &Theme, k: &str, v: impl Into<String>, w: usize) {
        let v = v.into();
        let vw = w.saturating_sub(LABEL_W).max(8);
        for (i, part) in wrap(&v, vw).into_iter().enumerate() {
            let label = if i == 0 { k } else { "" };
            self.lines.push(Line::from(vec![
                Span::styled(format!("{label:<LABEL_W$}"), t.dim()),
                Span::raw(part),
            ]));
        }
    }
}

fn draw_main(frame: &mut Frame, app: &App, area: Rect) {
    let t = app.theme();
    let step = app.flow.step;
    let failed = app.flow.step_state(step) == StepState::Failed;
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(if failed { t.error() } else { t.border_focus() })
        .title(Span::styled(
            format!(" {}. {} ", step.index() + 1, step.title()),
            t.title(),
        ));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.width < 4 || inner.height < 2 {
        return;
    }
    let w = inner.width as usize;

    // The QR code sits beside the text when there is room, else below it, else behind `z`.
    let height = inner.height as usize;
    let mut qr_side: Option<Qr> = None;
    let mut text_w = w;
    let qr = if step == Step::Approval {
        approval_qr(app, height)
    } else {
        None
    };
    let mut qr_below = None;
    if let Some(q) = qr {
        if w >= q.width + QR_TEXT_MIN && height >= q.lines.len() {
            text_w = w - q.width - 1;
            qr_side = Some(q);
        } else {
            qr_below = Some(q);
        }
    }

    let mut body = Content::new();
    step_body(app, &mut body, text_w);
    if let Some(q) = qr_below {
        let used = body.lines.len() + status_lines(app, text_w).len() + 2;
        if q.width <= w && used + q.lines.len() <= height {
            body.blank();
            body.extend(q.lines);
        } else {
            body.extend(wrapped(
                "(no room for the QR code here: press z for a full-screen one)",
                text_w,
                t.dim(),
            ));
        }
    }
    // Status (spinner, error with its choices, notice) is pinned to the bottom so it is
    // never scrolled away; the explanation and the step's content scroll above it.
    let mut status = status_lines(app, text_w);
    status.truncate(height.saturating_sub(3).max(1));
    let status_h = if status.is_empty() {
        0
    } else {
        status.len() + 1
    };
    let body_h = height.saturating_sub(status_h);

    let expl = wrapped(strings::explanation(step, app.env_kind()), text_w, t.text());
    let needed = expl.len() + 1 + body.lines.len();
    let mut lines: Vec<Line> = Vec::new();
    let expl_len = if needed <= body_h {
        lines.extend(expl);
        lines.push(Line::raw(""));
        lines.len()
    } else {
        // Keep the first line of the explanation as a reminder of what the step is.
        let mut first: Line = expl.into_iter().next().unwrap_or_default();
        first.push_span(Span::styled(" …", t.dim()));
        lines.push(first);
        1
    };
    lines.extend(body.lines);
    let hidden = lines.len().saturating_sub(body_h);
    app.overflow.set(hidden);
    let scroll = app.scroll.min(hidden);
    let cursor = body
        .cursor
        .map(|(r, c)| (r + expl_len, c))
        .filter(|(r, _)| *r >= scroll)
        .map(|(r, c)| (r - scroll, c));
    if hidden > 0 {
        // Say that there is more, on the last visible row's right edge.
        let more = if scroll < hidden {
            "↓ more (pgdn)"
        } else {
            "↑ (pgup)"
        };
        let row = (body_h.saturating_sub(1) + scroll).min(lines.len().saturating_sub(1));
        if let Some(l) = lines.get_mut(row) {
            let used = l.width();
            let pad = text_w.saturating_sub(used + more.chars().count());
            if pad > 0 {
                l.push_span(Span::raw(" ".repeat(pad)));
                l.push_span(Span::styled(more, t.dim()));
            }
        }
    }
    let body_area = Rect {
        width: text_w as u16,
        height: body_h as u16,
        ..inner
    };
    frame.render_widget(Paragraph::new(lines).scroll((scroll as u16, 0)), body_area);
    if !status.is_empty() {
        let status_area = Rect {
            y: inner.y + (height - status.len()) as u16,
            height: status.len() as u16,
            width: text_w as u16,
            ..inner
        };
        frame.render_widget(Paragraph::new(status), status_area);
    }
    if let Some(q) = qr_side {
        let qa = Rect {
            x: inner.x + inner.width - q.width as u16,
            y: inner.y,
            width: q.width as u16,
            height: inner.height.min(q.lines.len() as u16),
        };
        frame.render_widget(Paragraph::new(q.lines), qa);
    }
    if let Some((row, col)) = cursor
        && app.overlay == Overlay::None
        && row < body_h
        && col < inner.width
    {
        frame.set_cursor_position(Position::new(inner.x + col, inner.y + row as u16));
    }
}

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

/// Busy spinner, error with its choices, notices.
fn status_lines(app: &App, w: usize) -> Vec<Line<'static>> {
    let t = app.theme();
    let mut out = Vec::new();
    if let Some(b) = app.flow.busy
        && b != crate::flow::Busy::Polling
    {
        out.push(Line::from(vec![
            Span::styled(format!("{} ", app.spinner_frame()), t.current()),
            Span::raw(strings::busy_text(b)),
        ]));
    }
    if let Some(e) = &app.flow.error {
        let head = match e.kind {
            ErrorKind::Validation => "✗ ",
            _ => "✗ failed: ",
        };
        out.extend(wrapped(&format!("{head}{}", e.message), w, t.error()));
        let mut choices = vec![];
        if e.kind != ErrorKind::Validation {
            choices.push(("r", "retry"));
        }
        if !app.fields().is_empty() {
            choices.push(("e", "edit"));
        }
        if app.flow.step != Step::Environment {
            choices.push(("b", "back"));
        }
        if !choices.is_empty() {
            let mut spans = vec![Span::styled("  ", t.dim())];
            for (i, (k, l)) in choices.into_iter().enumerate() {
                if i > 0 {
                    spans.push(Span::styled(" / ", t.dim()));
                }
                spans.push(Span::styled(k, t.key()));
                spans.push(Span::raw(format!(" {l}")));
            }
            out.push(Line::from(spans));
        }
    } else if let Some(n) = &app.flow.notice {
        out.extend(wrapped(&format!("✓ {n}"), w, t.ok()));
    }
    if let Some(f) = &app.flash {
        out.extend(wrapped(f, w, t.ok()));
    }
    out
}

fn looks_like_key_material(v: &str) -> bool {
    let v = v.trim_start();
    v.starts_with("-----") || v.starts_with('{') || (v.len() > 120 && !v.contains('/'))
}

/// One form row: marker, label, value (scrolled to keep the cursor visible), validity mark.
fn field_row(
    t: &Theme,
    f: &Field,
    focused: bool,
    width: usize,
    secret_like: bool,
) -> (Line<'static>, Option<u16>) {
    let marker = if focused { "▸ " } else { "  " };
    let label_style = if focused { t.focused() } else { t.dim() };
    let mut spans = vec![
        Span::styled(marker, t.focused()),
        Span::styled(format!("{:<w$}", f.label, w = LABEL_W - 2), label_style),
    ];
    let vw = width.saturating_sub(LABEL_W + 2).max(1);
    let mut cursor = None;
    match &f.widget {
        Widget::Text(input) => {
            let value = input.value();
            if value.is_empty() && !f.placeholder.is_empty() {
                let mut ph: String = f.placeholder.chars().take(vw).collect();
                if f.placeholder.chars().count() > vw && vw > 1 {
                    ph = ph.chars().take(vw - 1).collect::<String>() + "…";
                }
                spans.push(Span::styled(format!("{ph:<vw$}"), t.dim()));
                if focused {
                    cursor = Some(LABEL_W as u16);
                }
            } else if secret_like && looks_like_key_material(value) {
                // Pasted key material is never echoed.
                let shown: String = crate::secret::redact(value).chars().take(vw).collect();
                spans.push(Span::styled(format!("{shown:<vw$}"), t.input()));
                if focused {
                    cursor = Some((LABEL_W + shown.chars().count().min(vw)) as u16);
                }
            } else {
                // Unfocused fields show their start; the focused one scrolls with the cursor.
                let scroll = if focused { input.visual_scroll(vw) } else { 0 };
                let mut shown: String = value.chars().skip(scroll).take(vw).collect();
                if !focused && value.chars().count() > vw && vw > 1 {
                    shown = shown.chars().take(vw - 1).collect::<String>() + "…";
                }
                let style = if focused { t.input() } else { t.text() };
                spans.push(Span::styled(format!("{shown:<vw$}"), style));
                if focused {
                    let c = input.visual_cursor().saturating_sub(scroll).min(vw);
                    cursor = Some((LABEL_W + c) as u16);
                }
            }
            if f.problem().is_some() {
                spans.push(Span::styled(" ✗", t.error()));
            } else if f.validator.is_some() && !value.trim().is_empty() {
                spans.push(Span::styled(" ✓", t.ok()));
            }
        }
        Widget::Toggle(on) => {
            let s = if *on { "[x] yes" } else { "[ ] no" };
            let style = if focused { t.focused() } else { t.text() };
            spans.push(Span::styled(s, style));
        }
        Widget::Choice { options, selected } => {
            let s = options.get(*selected).cloned().unwrap_or_default();
            spans.push(Span::styled(format!("◀ {s} ▶"), t.focused()));
        }
    }
    (Line::from(spans), cursor)
}

/// The form, plus under it the focused field's hint or its validation problem.
fn form(app: &App, c: &mut Content, w: usize, only: &[usize]) {
    let t = app.theme();
    let secret_like = app.flow.step == Step::Key;
    for (i, f) in app.fields().iter().enumerate() {
        if !only.contains(&i) {
            continue;
        }
        let focused = app.focus == Some(i) && !app.busy_blocking();
        let (line, cur) = field_row(&t, f, focused, w, secret_like);
        if let Some(col) = cur {
            c.cursor = Some((c.lines.len(), col));
        }
        c.push(line);
    }
    if app.focus.is_none() && !app.busy_blocking() && app.flow.step != Step::Key {
        let mut hint = String::new();
        if app.flow.step == Step::Request
            && let Some((_, name)) = app
                .opts
                .seeded_orgs
                .iter()
                .find(|(no, _)| no == app.forms.request[idx::REQ_CUSTOMER].value().trim())
        {
            hint = format!("{name} (↑↓ picks another sandbox organisation). ");
        }
        if let Some(label) = app.submit_label() {
            hint.push_str(&format!(
                "Enter: {label} as shown; tab or e edits the form."
            ));
        }
        c.extend(wrapped(&hint, w, t.dim()));
    }
    if let Some(f) = app.focused_field()
        && app.focus.is_some_and(|i| only.contains(&i))
    {
        match f.problem() {
            Some(p) => c.extend(wrapped(&format!("✗ {p}"), w, t.error())),
            None => {
                let mut hint = f.hint.to_string();
                if app.flow.step == Step::Request && app.focus == Some(idx::REQ_CUSTOMER) {
                    let cur = f.value().trim();
                    if let Some((_, name)) = app.opts.seeded_orgs.iter().find(|(no, _)| no == cur) {
                        hint = format!("{name} · {hint}");
                    }
                }
                c.extend(wrapped(&hint, w, t.dim()));
            }
        }
    }
}

fn all(app: &App) -> Vec<usize> {
    (0..app.fields().len()).collect()
}

fn step_body(app: &App, c: &mut Content, w: usize) {
    match app.flow.step {
        Step::Environment => env_body(app, c, w),
        Step::Key => key_body(app, c, w),
        Step::Client => client_body(app, c, w),
        Step::System => system_body(app, c, w),
        Step::Request => request_body(app, c, w),
        Step::Approval => approval_body(app, c, w),
        Step::Polling => polling_body(app, c, w),
        Step::TestCall => test_body(app, c, w),
        Step::Done => done_body(app, c, w),
    }
}

fn env_body(app: &App, c: &mut Content, w: usize) {
    let t = app.theme();
    let sel = app.forms.env[idx::ENV_KIND].selected();
    let about = [
        "embedded emulator, no accounts needed",
        "Altinn test environment + Maskinporten test",
        "production: real customers and rights",
        "any compatible server (URLs below)",
    ];
    for (i, k) in EnvKind::ALL.iter().enumerate() {
        let on = i == sel;
        let style = if on { t.focused() } else { t.text() };
        let text = format!(
            "{} {:<8} {}",
            if on { "▶" } else { " " },
            k.as_str(),
            about[i]
        );
        let text: String = text.chars().take(w).collect();
        c.push(Line::styled(
            text,
            if *k == EnvKind::Prod && on {
                t.error()
            } else {
                style
            },
        ));
    }
    if EnvKind::ALL.get(sel) == Some(&EnvKind::Custom) {
        c.blank();
        form(app, c, w, &[idx::ENV_MP, idx::ENV_ALTINN]);
    }
    let resume = crate::flow::resume_step(&app.flow.profile);
    if resume > Step::Key {
        c.blank();
        c.extend(wrapped(
            &format!(
                "This profile has saved progress: keeping the same environment continues at \"{}\".",
                resume.title()
            ),
            w,
            t.dim(),
        ));
    }
}

fn compact_jwk(jwk: &serde_json::Value) -> String {
    match jwk {
        serde_json::Value::Object(m) => {
            let parts: Vec<String> = m
                .iter()
                .map(|(k, v)| {
                    let s = v
                        .as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| v.to_string());
                    let s = if s.chars().count() > 24 {
                        format!("{}…", s.chars().take(12).collect::<String>())
                    } else {
                        s
                    };
                    format!("{k}: {s}")
                })
                .collect();
            parts.join(", ")
        }
        other => other.to_string(),
    }
}

fn key_body(app: &App, c: &mut Content, w: usize) {
    let t = app.theme();
    let p = &app.flow.profile;
    if let Some(k) = app.key_info() {
        c.kv(&t, "Key id (kid)", k.kid.clone(), w);
        c.kv(&t, "Saved to", k.path.display().to_string(), w);
        c.kv(
            &t,
            "Size",
            format!("{}-bit RSA (private part stays here)", k.bits),
            w,
        );
        c.extend(wrapped(
            &format!("Public JWK: {{{}}}", compact_jwk(&k.public_jwk)),
            w,
            t.code(),
        ));
        if let Some(warn) = &k.warning {
            c.extend(wrapped(&format!("⚠ {warn}"), w, t.warning()));
        }
    } else if let (Some(kid), Some(path)) = (&p.kid, &p.key_path) {
        c.kv(&t, "Key id (kid)", kid.clone(), w);
        c.kv(&t, "Saved to", path.display().to_string(), w);
    } else {
        c.extend(wrapped(
            "No key yet. Enter generates a new 2048-bit RSA key (what Maskinporten's portal \
             expects); i imports an existing one.",
            w,
            t.text(),
        ));
    }
    if let Some(portal) = app.env_kind().self_service_portal()
        && app.key_info().is_some()
    {
        c.blank();
        c.extend(wrapped(
            &format!(
                "Next, in {portal}: open your Maskinporten client (or create one), choose \
                 \"Keys\" → \"Add key\", and paste the public JWK (c copies it)."
            ),
            w,
            t.warning(),
        ));
    }
    let importing =
        app.focus == Some(idx::KEY_SOURCE) || !app.forms.key[idx::KEY_SOURCE].value().is_empty();
    if importing {
        c.blank();
        form(app, c, w, &[idx::KEY_SOURCE]);
    }
}

fn client_body(app: &App, c: &mut Content, w: usize) {
    let t = app.theme();
    let p = &app.flow.profile;
    form(app, c, w, &all(app));
    if let Some(portal) = app.env_kind().self_service_portal() {
        c.blank();
        if let Some(k) = app.key_info() {
            c.extend(wrapped(
                &format!("Public JWK: {{{}}}", compact_jwk(&k.public_jwk)),
                w,
                t.code(),
            ));
        }
        let kid = p.kid.as_deref().unwrap_or("?");
        let text = if app.awaiting_upload() {
            format!(
                "In {portal}, open client {} and add the public JWK (kid {kid}; c copies it). \
                 Then press u.",
                p.client_id.as_deref().unwrap_or("?")
            )
        } else {
            format!(
                "In {portal}: create a Maskinporten client for your organisation with the scopes \
                 above, add the public JWK (kid {kid}; c copies it), then enter its client id."
            )
        };
        c.extend(wrapped(&text, w, t.warning()));
    }
    if p.client_registered
        && let Some(id) = &p.client_id
    {
        c.blank();
        c.push(Line::styled(
            format!(
                "✓ client {id} is registered with key {}",
                p.kid.as_deref().unwrap_or("?")
            ),
            t.ok(),
        ));
    }
}

fn system_body(app: &App, c: &mut Content, w: usize) {
    let t = app.theme();
    if app.show_json {
        c.extend(wrapped(
            "What Enter sends to the system register (v: back to the form):",
            w,
            t.dim(),
        ));
        match app.registration_preview() {
            Ok(serde_json::Value::Object(m)) => {
                // One member per line (wrapped), so the whole body fits on an 80x24 screen.
                c.push(Line::styled("{", t.code()));
                for (k, v) in &m {
                    let text = format!("\"{k}\": {v},");
                    for (i, l) in wrap(&text, w.saturating_sub(4).max(8))
                        .into_iter()
                        .enumerate()
                    {
                        let pad = if i == 0 { "  " } else { "    " };
                        c.push(Line::styled(format!("{pad}{l}"), t.code()));
                    }
                }
                c.push(Line::styled("}", t.code()));
            }
            Ok(v) => c.extend(wrapped(&v.to_string(), w, t.code())),
            Err(e) => c.extend(wrapped(&format!("✗ {e}"), w, t.error())),
        }
        return;
    }
    form(app, c, w, &all(app));
    if let Some(r) = &app.flow.registration {
        c.blank();
        c.push(Line::styled(
            format!("Last registration: {} {}", r.system_id, r.outcome),
            t.ok(),
        ));
        for ch in &r.changes {
            c.extend(wrapped(&format!("  {ch}"), w, t.dim()));
        }
    }
}

fn request_body(app: &App, c: &mut Content, w: usize) {
    let t = app.theme();
    form(app, c, w, &all(app));
    if let Some(r) = app.flow.profile.current_request() {
        c.blank();
        c.extend(wrapped(
            &format!(
                "Last request: {} for {} is {}",
                r.id, r.customer_org, r.status
            ),
            w,
            t.dim(),
        ));
    }
}

fn approval_body(app: &App, c: &mut Content, w: usize) {
    let t = app.theme();
    let Some(r) = app.flow.profile.current_request() else {
        c.push(Line::raw("No request yet: go back (b) and send one."));
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
    match &r.confirm_url {
        Some(url) => {
            c.push(Line::styled("The customer approves at:", t.dim()));
            c.extend(wrapped(url, w, t.code()));
        }
        None => c.push(Line::styled("(no confirm URL was returned)", t.warning())),
    }
    if let Some(why) = &app.opts.headless {
        c.extend(wrapped(
            &format!("No browser here ({why}): open the URL on another device or scan the QR code, then press p."),
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
}

fn secs(d: std::time::Duration) -> String {
    let s = d.as_secs();
    if s >= 60 {
        format!("{}m {:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

fn polling_body(app: &App, c: &mut Content, w: usize) {
    let t = app.theme();
    let status = app
        .flow
        .profile
        .current_request()
        .map(|r| r.status.to_string())
        .unwrap_or_else(|| "?".into());
    let Some(p) = &app.flow.polling else {
        c.push(Line::raw("Not polling. Enter (or p) starts."));
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
    c.kv(&t, "Request", p.request_id.clone(), w);
    c.kv(&t, "Checks", p.attempts.to_string(), w);
    let (elapsed, next) = app.poll_timing();
    c.kv(&t, "Elapsed", secs(elapsed), w);
    if active {
        let n = match next {
            Some(d) if !d.is_zero() => {
                format!("in {}", secs(d + std::time::Duration::from_millis(999)))
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

/// A JSON object as one `key: value` line per member (values compact, cut to the width):
/// claims and responses stay readable in a few lines.
fn json_lines(c: &mut Content, t: &Theme, v: &serde_json::Value, w: usize, max: usize) {
    let rows: Vec<String> = match v {
        serde_json::Value::Object(m) => m
            .iter()
            .map(|(k, v)| {
                let v = v
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| v.to_string());
                format!("  {k}: {v}")
            })
            .collect(),
        other => vec![format!("  {other}")],
    };
    for r in rows.iter().take(max) {
        let mut l: String = r.chars().take(w).collect();
        if r.chars().count() > w && w > 1 {
            l = l.chars().take(w - 1).collect::<String>() + "…";
        }
        c.push(Line::styled(l, t.code()));
    }
    if rows.len() > max {
        c.push(Line::styled(
            format!("  … {} more", rows.len() - max),
            t.dim(),
        ));
    }
}

fn test_body(app: &App, c: &mut Content, w: usize) {
    let t = app.theme();
    form(app, c, w, &all(app));
    if let Some(r) = app.flow.profile.current_request() {
        c.kv(&t, "As system user of", r.customer_org.clone(), w);
    }
    if let Some(s) = &app.flow.test {
        c.blank();
        let ok = (200..300).contains(&s.record.status);
        c.push(Line::from(vec![
            Span::styled(format!("{:<LABEL_W$}", "Response"), t.dim()),
            Span::styled(
                format!("HTTP {}", s.record.status),
                if ok { t.ok() } else { t.error() },
            ),
            Span::raw(format!(" in {} ms", s.record.elapsed_ms)),
        ]));
        c.kv(
            &t,
            "Token",
            format!("expires in {}s (never shown)", s.token_expires_in),
            w,
        );
        c.push(Line::styled("Token claims:", t.dim()));
        json_lines(c, &t, &s.token_claims, w, 12);
        c.push(Line::styled("Response body:", t.dim()));
        match &s.response_json {
            Some(j) => json_lines(c, &t, j, w, 10),
            None => {
                let body = s.record.body_excerpt.clone().unwrap_or_default();
                c.extend(wrapped(&body, w, t.code()));
            }
        }
    }
}

/// Quote for a POSIX shell when needed.
fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// The CLI commands that repeat what the wizard did.
pub fn cli_commands(app: &App) -> Vec<String> {
    let p = &app.flow.profile;
    let mut out = Vec::new();
    let env = match p.environment.kind {
        EnvKind::Sandbox => String::new(),
        k => format!(" --env {k}"),
    };
    let prof = if p.name == crate::profile::DEFAULT_PROFILE {
        String::new()
    } else {
        format!(" --profile {}", p.name)
    };
    let g = format!("{prof}{env}");
    out.push(format!("altinn-onboard{g} keys generate"));
    let mut client = format!(
        "altinn-onboard{g} client set --vendor-org {}",
        p.vendor_org.as_deref().unwrap_or("<org>")
    );
    let default_scopes = crate::altinn::client::VENDOR_SCOPES.join(" ");
    if !p.scopes.is_empty() && p.scopes.join(" ") != default_scopes {
        client.push_str(&format!(" --scope {}", shell_quote(&p.scopes.join(" "))));
    }
    if matches!(p.environment.kind, EnvKind::Tt02 | EnvKind::Prod)
        && let Some(id) = &p.client_id
    {
        client.push_str(&format!(" --client-id {id} --confirm-uploaded"));
    }
    out.push(client);
    if let Some(s) = &p.system {
        let mut cmd = format!("altinn-onboard{g} system register --name {}", s.name);
        let first = |m: &std::collections::BTreeMap<String, String>| {
            m.get("nb").or_else(|| m.values().next()).cloned()
        };
        if let Some(d) = first(&s.display_name).filter(|d| *d != s.name) {
            cmd.push_str(&format!(" --display-name {}", shell_quote(&d)));
        }
        if let Some(d) =
            first(&s.description).filter(|d| Some(d) != first(&s.display_name).as_ref())
        {
            cmd.push_str(&format!(" --description {}", shell_quote(&d)));
        }
        if !s.is_visible {
            cmd.push_str(" --invisible");
        }
        for r in &s.rights {
            cmd.push_str(&format!(" --resource {r}"));
        }
        for a in &s.access_packages {
            cmd.push_str(&format!(" --access-package {a}"));
        }
        out.push(cmd);
    }
    if let Some(r) = p.current_request() {
        let mut cmd = format!(
            "altinn-onboard{g} request create --customer-org {}",
            r.customer_org
        );
        if r.kind == crate::profile::RequestKind::Agent {
            cmd.push_str(" --agent");
        }
        if let Some(x) = &r.external_ref {
            cmd.push_str(&format!(" --external-ref {x}"));
        }
        out.push(cmd);
    }
    if p.environment.kind == crate::env::EnvKind::Sandbox {
        // Without the wizard nobody clicks Approve: the command stands in for the customer.
        let id = p
            .current_request()
            .map(|r| r.id.as_str())
            .unwrap_or("<request id>");
        out.push(format!("altinn-onboard{g} sandbox approve {id}"));
    }
    out.push(format!("altinn-onboard{g} request status --wait"));
    out.push(format!("altinn-onboard{g} token --system-user"));
    // The default test URL follows the environment (the sandbox's port changes per run), so
    // only a URL the user chose is spelled out.
    match &p.test_url {
        Some(url) => out.push(format!("altinn-onboard{g} call {url}")),
        None => out.push(format!("altinn-onboard{g} call")),
    }
    out
}

fn done_body(app: &App, c: &mut Content, w: usize) {
    let t = app.theme();
    let p = &app.flow.profile;
    c.kv(&t, "Environment", p.environment.kind.badge(), w);
    c.kv(&t, "Key (kid)", p.kid.clone().unwrap_or_default(), w);
    c.kv(&t, "Client id", p.client_id.clone().unwrap_or_default(), w);
    c.kv(&t, "System", p.system_id().unwrap_or_default(), w);
    if let Some(r) = p.current_request() {
        c.kv(
            &t,
            "System user for",
            format!("{} ({})", r.customer_org, r.status),
            w,
        );
    }
    if let Some(tc) = &p.last_test_call {
        c.kv(
            &t,
            "Test call",
            format!("HTTP {} in {} ms", tc.status, tc.elapsed_ms),
            w,
        );
    }
    if app.flow.test.is_some() {
        c.push(Line::styled(
            "  (b shows the token's claims and the API's response)",
            t.dim(),
        ));
    }
    c.blank();
    c.push(Line::styled("The same, without the wizard:", t.dim()));
    for cmd in cli_commands(app) {
        // Hanging indent, so each command reads as one.
        for (i, l) in wrap(&cmd, w.saturating_sub(4).max(8))
            .into_iter()
            .enumerate()
        {
            let prefix = if i == 0 { "$ " } else { "    " };
            c.push(Line::styled(format!("{prefix}{l}"), t.code()));
        }
    }
}

fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

fn draw_help(frame: &mut Frame, app: &App, area: Rect) {
    let t = app.theme();
    let r = centered(area, 72, 22);
    frame.render_widget(Clear, r);
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(t.border_focus())
        .title(" Help (esc closes) ");
    let inner = block.inner(r);
    frame.render_widget(block, r);
    let w = inner.width as usize;
    let mut lines = wrapped(strings::HELP_INTRO, w, t.text());
    lines.push(Line::raw(""));
    let mut seen: Vec<&str> = Vec::new();
    let mut row: Vec<Span> = Vec::new();
    let mut row_w = 0usize;
    for b in keymap::BINDINGS {
        if b.label.is_empty() || b.key.is_empty() || seen.contains(&b.label) {
            continue;
        }
        if matches!(
            b.action,
            keymap::Action::ConfirmQuit | keymap::Action::CancelOverlay
        ) {
            continue;
        }
        seen.push(b.label);
        let cell = format!("{:<10}{:<24}", b.key, b.label);
        if row_w + 34 > w && !row.is_empty() {
            lines.push(Line::from(std::mem::take(&mut row)));
            row_w = 0;
        }
        row.push(Span::styled(format!("{:<10}", b.key), t.key()));
        row.push(Span::raw(format!("{:<24}", b.label)));
        row_w += cell.chars().count();
    }
    if !row.is_empty() {
        lines.push(Line::from(row));
    }
    lines.push(Line::raw(""));
    lines.extend(wrapped(
        "In a text field letters are typed; esc switches to the command keys, tab or e goes back \
         to the form. ctrl-c always quits.",
        w,
        t.dim(),
    ));
    frame.render_widget(Paragraph::new(lines), inner);
}

fn draw_confirm_quit(frame: &mut Frame, app: &App, area: Rect) {
    let t = app.theme();
    let r = centered(area, 50, 6);
    frame.render_widget(Clear, r);
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(t.warning())
        .title(" Quit? ");
    let inner = block.inner(r);
    frame.render_widget(block, r);
    let mut lines = wrapped(
        "A request is still in flight. Progress so far is saved; quit anyway?",
        inner.width as usize,
        t.text(),
    );
    lines.push(Line::from(vec![
        Span::styled("y", t.key()),
        Span::raw(" quit · "),
        Span::styled("n", t.key()),
        Span::raw(" stay"),
    ]));
    frame.render_widget(Paragraph::new(lines), inner);
}

fn draw_qr_overlay(frame: &mut Frame, app: &App, area: Rect) {
    let t = app.theme();
    frame.render_widget(Clear, area);
    let url = app.confirm_url().unwrap_or_default().to_string();
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
