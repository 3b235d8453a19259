//! Drawing: header (name, environment badge, profile), step list, the current step (its body
//! comes from its module in `steps`), footer with the keys that work now, and overlays; plus
//! the pieces step bodies are made of ([`Content`], [`form`], [`wrap`]). Pure functions of
//! `&App`; text is wrapped here (not by the Paragraph widget) so the layout knows every line's
//! height and where the cursor goes.

use super::app::{App, Overlay};
use super::form::{Field, Fields, Widget};
use super::keymap::{self, Action};
use super::steps;
use super::strings;
use super::theme::Theme;
use crate::flow::{Step, StepState};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// The label column of forms and key/value rows.
pub const LABEL_W: usize = 18;
/// Below this width the step list is hidden and the header names the step instead.
pub const SIDEBAR_MIN_WIDTH: u16 = 60;
const SIDEBAR_W: u16 = 27;
/// The body text needs at least this many columns beside an aside (the approval QR code).
const ASIDE_TEXT_MIN: usize = 30;

pub fn draw(frame: &mut Frame, app: &App) {
    let area = frame.area();
    if area.width < super::MIN_WIDTH || area.height < super::MIN_HEIGHT {
        draw_too_small(frame, app, area);
        return;
    }
    let [header, body, footer] = area.layout(&Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(1),
    ]));
    if app.customers_shown() {
        // The customers screen has the whole width: its table needs it more than the steps.
        draw_header(frame, app, header, false);
        super::customers::draw(frame, app, body);
        draw_footer(frame, app, footer);
        draw_overlay(frame, app, area);
        return;
    }
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
    draw_overlay(frame, app, area);
}

fn draw_overlay(frame: &mut Frame, app: &App, area: Rect) {
    match app.overlay {
        Overlay::None => {}
        Overlay::Help => draw_help(frame, app, area),
        Overlay::ConfirmQuit => draw_confirm_quit(frame, app, area),
        Overlay::Qr => steps::approval::draw_qr_overlay(frame, app, area),
        Overlay::Jwk => steps::key::draw_jwk_overlay(frame, app, area),
        Overlay::Readiness => steps::readiness::draw_overlay(frame, app, area),
    }
}

/// The step list needs 60 columns; it also gives way to a step's aside (the approval QR code).
fn show_sidebar(app: &App, area: Rect) -> bool {
    if area.width < SIDEBAR_MIN_WIDTH || steps::screen(app.flow.step).wide(app) {
        return false;
    }
    if let Some(a) = steps::screen(app.flow.step).aside(app, area.height.saturating_sub(4) as usize)
    {
        return area.width as usize > SIDEBAR_W as usize + 2 + ASIDE_TEXT_MIN + a.width;
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
    let right = if app.customers_shown() {
        "customers ".to_string()
    } else if !sidebar {
        format!("{}/{} {} ", step.index() + 1, Step::ALL.len(), step.title())
    } else {
        right
    };
    let used: usize = spans.iter().map(|s| s.width()).sum();
    let pad = (area.width as usize).saturating_sub(used + right.width());
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

/// Word-wrap `text` to `width` display columns (long words are cut), one paragraph per `\n`.
/// Runs of whitespace count as one space, so error messages' indented hint lines read as
/// sentences. Greedy (first-fit) like a terminal, and never at hyphens: ids and URLs stay whole
/// where they fit.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let options = textwrap::Options::new(width.max(1))
        .word_separator(textwrap::WordSeparator::AsciiSpace)
        .word_splitter(textwrap::WordSplitter::NoHyphenation)
        .wrap_algorithm(textwrap::WrapAlgorithm::FirstFit)
        .break_words(true);
    let mut out = Vec::new();
    for para in text.split('\n') {
        let words = para.split_whitespace().collect::<Vec<_>>().join(" ");
        out.extend(
            textwrap::wrap(&words, &options)
                .into_iter()
                .map(std::borrow::Cow::into_owned),
        );
    }
    out
}

/// The part of `s` from display column `skip` that fits in `width` columns; a wide character
/// cut by either edge is left out.
pub fn columns(s: &str, skip: usize, width: usize) -> String {
    let mut out = String::new();
    let mut col = 0;
    for c in s.chars() {
        let start = col;
        col += c.width().unwrap_or(0);
        if start < skip {
            continue;
        }
        if col - skip > width {
            break;
        }
        out.push(c);
    }
    out
}

/// `s` cut to `width` display columns, ending in "…" when cut (if there is room for it).
pub fn fit(s: &str, width: usize) -> String {
    if s.width() <= width {
        s.to_string()
    } else if width > 1 {
        columns(s, 0, width - 1) + "…"
    } else {
        columns(s, 0, width)
    }
}

/// `s` padded with spaces to `width` display columns (`format!("{s:<w$}")` counts chars).
fn pad(s: &str, width: usize) -> String {
    format!("{s}{}", " ".repeat(width.saturating_sub(s.width())))
}

/// [`wrap`]ped lines in one style.
pub fn wrapped(text: &str, width: usize, style: Style) -> Vec<Line<'static>> {
    wrap(text, width)
        .into_iter()
        .map(|l| Line::styled(l, style))
        .collect()
}

/// Lines for the main area plus, when a text field is focused, the cursor (row, column).
pub struct Content {
    pub lines: Vec<Line<'static>>,
    pub cursor: Option<(usize, u16)>,
}

impl Content {
    fn new() -> Self {
        Content {
            lines: Vec::new(),
            cursor: None,
        }
    }
    pub fn push(&mut self, l: Line<'static>) {
        self.lines.push(l);
    }
    pub fn extend(&mut self, ls: Vec<Line<'static>>) {
        self.lines.extend(ls);
    }
    /// One empty line, unless the last one is empty already.
    pub fn blank(&mut self) {
        if self.lines.last().is_some_and(|l| l.width() > 0) {
            self.lines.push(Line::raw(""));
        }
    }
    /// A label and a value; long values wrap under the value column.
    pub fn kv(&mut self, t: &Theme, k: &str, v: impl Into<String>, w: usize) {
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

    // An aside (the approval QR code) sits beside the text when there is room, else below
    // it, else the step says where to find it.
    let screen = steps::screen(step);
    let height = inner.height as usize;
    let mut aside_right: Option<Aside> = None;
    let mut text_w = w;
    let mut aside_below = None;
    if let Some(a) = screen.aside(app, height) {
        if w >= a.width + ASIDE_TEXT_MIN && height >= a.lines.len() {
            text_w = w - a.width - 1;
            aside_right = Some(a);
        } else {
            aside_below = Some(a);
        }
    }

    let mut body = Content::new();
    app.body_height.set(height);
    screen.body(app, &mut body, text_w);
    if let Some(a) = aside_below {
        let used = body.lines.len() + status_lines(app, text_w).len() + 2;
        if a.width <= w && used + a.lines.len() <= height {
            body.blank();
            body.extend(a.lines);
        } else {
            body.extend(wrapped(&a.no_room, text_w, t.dim()));
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

    let expl = wrapped(screen.explanation(app.env_kind()), text_w, t.text());
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
            let pad = text_w.saturating_sub(used + more.width());
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
    if let Some(a) = aside_right {
        let area = Rect {
            x: inner.x + inner.width - a.width as u16,
            y: inner.y,
            width: a.width as u16,
            height: inner.height.min(a.lines.len() as u16),
        };
        frame.render_widget(Paragraph::new(a.lines), area);
    }
    if let Some((row, col)) = cursor
        && app.overlay == Overlay::None
        && row < body_h
        && col < inner.width
    {
        frame.set_cursor_position(Position::new(inner.x + col, inner.y + row as u16));
    }
}

/// What a step draws beside its body when there is room (the approval QR code).
pub struct Aside {
    pub width: usize,
    pub lines: Vec<Line<'static>>,
    /// Shown instead when it fits neither beside nor below the body.
    pub no_room: String,
}

/// Busy spinner, error with its choices (from the key map, so only keys that work now),
/// notices.
pub(super) fn status_lines(app: &App, w: usize) -> Vec<Line<'static>> {
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
            crate::flow::ErrorKind::Validation => "✗ ",
            _ => "✗ failed: ",
        };
        out.extend(wrapped(&format!("{head}{}", e.message), w, t.error()));
        let choices = keymap::hints_for(app, &[Action::Retry, Action::Edit, Action::Back]);
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
                spans.push(Span::styled(pad(&fit(&f.placeholder, vw), vw), t.dim()));
                if focused {
                    cursor = Some(LABEL_W as u16);
                }
            } else if secret_like && looks_like_key_material(value) {
                // Pasted key material is never echoed.
                let shown = columns(&crate::secret::redact(value), 0, vw);
                spans.push(Span::styled(pad(&shown, vw), t.input()));
                if focused {
                    cursor = Some((LABEL_W + shown.width().min(vw)) as u16);
                }
            } else {
                // Unfocused fields show their start; the focused one scrolls with the cursor
                // (tui-input counts the scroll in display columns).
                let scroll = if focused { input.visual_scroll(vw) } else { 0 };
                let shown = if focused {
                    columns(value, scroll, vw)
                } else {
                    fit(value, vw)
                };
                let style = if focused { t.input() } else { t.text() };
                spans.push(Span::styled(pad(&shown, vw), style));
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

/// How a step shows its form with [`form`].
pub struct FormLook {
    /// Key material pasted into a field is shown redacted (the key step).
    pub secret_like: bool,
    /// In command mode, a line saying what Enter does, after this lead-in; `None` when the
    /// step's body says it already.
    pub command_hint: Option<String>,
    /// Put before the focused field's hint.
    pub field_lead: String,
}

impl Default for FormLook {
    fn default() -> Self {
        FormLook {
            secret_like: false,
            command_hint: Some(String::new()),
            field_lead: String::new(),
        }
    }
}

/// The fields `only` of a step's form, plus under them the focused field's hint or its
/// validation problem (or, in command mode, what Enter does).
pub fn form<F: Fields>(
    app: &App,
    c: &mut Content,
    w: usize,
    fields: &F,
    only: &[F::Focus],
    look: FormLook,
) {
    let t = app.theme();
    let blocked = app.busy_blocking();
    let focus = fields.focus();
    for &at in F::ALL.iter().filter(|at| only.contains(at)) {
        let focused = focus == Some(at) && !blocked;
        let (line, cur) = field_row(&t, fields.field(at), focused, w, look.secret_like);
        if let Some(col) = cur {
            c.cursor = Some((c.lines.len(), col));
        }
        c.push(line);
    }
    if focus.is_none()
        && !blocked
        && let Some(mut hint) = look.command_hint
    {
        if let Some(label) = app.submit_label() {
            hint.push_str(&format!(
                "Enter: {label} as shown; {} or {} edits the form.",
                keymap::key_for(Action::NextField),
                keymap::key_for(Action::Edit)
            ));
        }
        c.extend(wrapped(&hint, w, t.dim()));
    }
    if let Some(at) = focus.filter(|at| only.contains(at)) {
        let f = fields.field(at);
        match f.problem() {
            Some(p) => c.extend(wrapped(&format!("✗ {p}"), w, t.error())),
            None => c.extend(wrapped(
                &format!("{}{}", look.field_lead, f.hint),
                w,
                t.dim(),
            )),
        }
    }
}

/// A terminal shrunk below the minimum: say how big it must be instead of a mangled screen.
/// The keys keep working (q quits), and the next resize redraws the wizard.
fn draw_too_small(frame: &mut Frame, app: &App, area: Rect) {
    let t = app.theme();
    let text = format!(
        "Terminal too small ({}x{}): the wizard needs {}x{}. Enlarge it, or press {} to quit.",
        area.width,
        area.height,
        super::MIN_WIDTH,
        super::MIN_HEIGHT,
        keymap::key_for(Action::Quit)
    );
    frame.render_widget(
        Paragraph::new(wrapped(&text, area.width as usize, t.warning())),
        area,
    );
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
    let intro = if app.customers_shown() {
        strings::CUSTOMERS_HELP
    } else {
        strings::HELP_INTRO
    };
    let mut lines = wrapped(intro, w, t.text());
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
        if keymap::on_customers_screen(b.action) != app.customers_shown()
            && !matches!(b.action, Action::Help | Action::Quit)
        {
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
        row_w += cell.width();
    }
    if !row.is_empty() {
        lines.push(Line::from(row));
    }
    lines.push(Line::raw(""));
    if app.customers_shown() {
        frame.render_widget(Paragraph::new(lines), inner);
        return;
    }
    lines.extend(wrapped(
        &format!(
            "In a text field letters are typed; {} switches to the command keys, {} or {} goes \
             back to the form. {} always quits.",
            keymap::key_for(Action::LeaveField),
            keymap::key_for(Action::NextField),
            keymap::key_for(Action::Edit),
            keymap::key_for(Action::Quit),
        ),
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
    let mut spans = Vec::new();
    for (i, (key, label)) in keymap::hints_for(app, &[Action::ConfirmQuit, Action::CancelOverlay])
        .into_iter()
        .enumerate()
    {
        if i > 0 {
            spans.push(Span::raw(" · "));
        }
        spans.push(Span::styled(key, t.key()));
        spans.push(Span::raw(format!(" {label}")));
    }
    lines.push(Line::from(spans));
    frame.render_widget(Paragraph::new(lines), inner);
}

#[cfg(test)]
mod tests {
    use super::{columns, fit, wrap};

    #[test]
    fn wraps_greedily_and_cuts_long_words() {
        assert_eq!(wrap("the quick brown fox", 10), ["the quick", "brown fox"]);
        assert_eq!(wrap("abcdefghij xy", 4), ["abcd", "efgh", "ij", "xy"]);
        // Hyphens are no break points: ids and names stay whole where they fit.
        assert_eq!(wrap("a altinn-onboard", 14), ["a", "altinn-onboard"]);
    }

    #[test]
    fn whitespace_runs_are_one_space_and_newlines_start_paragraphs() {
        assert_eq!(
            wrap("failed\n  hint:   try   again", 40),
            ["failed", "hint: try again"]
        );
        assert_eq!(wrap("", 10), [""]);
        assert_eq!(wrap("a\n\nb", 10), ["a", "", "b"]);
    }

    #[test]
    fn wide_characters_count_by_display_width() {
        // Each of these takes two columns: six columns hold three, not six.
        assert_eq!(wrap("日本語のテキスト", 6), ["日本語", "のテキ", "スト"]);
        assert_eq!(wrap("名前 テスト", 6), ["名前", "テスト"]);
    }

    #[test]
    fn cuts_by_display_width() {
        assert_eq!(fit("abcdef", 4), "abc…");
        assert_eq!(fit("abcd", 4), "abcd");
        assert_eq!(fit("日本語", 4), "日…");
        assert_eq!(columns("ab日本c", 3, 3), "本");
        assert_eq!(columns("abcdef", 2, 3), "cde");
    }
}
