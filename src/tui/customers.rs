//! The customers screen (issue 12): every customer of the profile's system at a glance, over
//! the wizard's current step (`l` opens it once the system is registered; the Done step names
//! the key). The rows come from the flow's [`crate::flow::CustomersView`], loaded page by page
//! in a task while this screen keeps taking keys; here are only what the screen itself needs:
//! the selected row, the status filter, the scroll position, and the drawing. Row actions are
//! flow messages: a pending customer's approval link and QR code (the approval step's QR
//! overlay), a token check (the test call for that customer), a change request.

use super::app::App;
use super::keymap::{self, Action};
use super::theme::Theme;
use super::ui::{fit, status_lines, wrapped};
use crate::customers::CustomerRow;
use crate::flow::{Msg, status_words};
use crate::profile::{CustomerStatus, RequestKind};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Paragraph};
use std::cell::Cell;
use unicode_width::UnicodeWidthStr;

/// What `f` steps through.
pub const FILTERS: [Option<CustomerStatus>; 6] = [
    None,
    Some(CustomerStatus::Pending),
    Some(CustomerStatus::Accepted),
    Some(CustomerStatus::Rejected),
    Some(CustomerStatus::TimedOut),
    Some(CustomerStatus::Withdrawn),
];

/// The screen's own state (the rows are the flow's).
#[derive(Debug, Clone, Default)]
pub struct CustomersUi {
    /// Index into the filtered rows.
    pub selected: usize,
    /// Only rows with this status; `None`: all.
    pub filter: Option<CustomerStatus>,
    /// The first row shown, and how many fit; written by the renderer so the selection stays
    /// in view and PgDn moves by a screenful.
    pub offset: Cell<usize>,
    pub page: Cell<usize>,
}

impl App {
    /// The customers screen is up (it takes the keys, over the current step).
    pub fn customers_shown(&self) -> bool {
        self.flow.customers.shown
    }

    /// The rows the filter lets through, in order.
    pub fn customer_rows(&self) -> Vec<&CustomerRow> {
        let filter = self.customers.filter;
        self.flow
            .customers
            .rows
            .iter()
            .flatten()
            .filter(|r| filter.is_none_or(|f| r.status == f))
            .collect()
    }

    /// The row the selection is on.
    pub fn selected_customer(&self) -> Option<&CustomerRow> {
        let rows = self.customer_rows();
        let i = self.customers.selected.min(rows.len().checked_sub(1)?);
        rows.get(i).copied()
    }

    pub fn selected_customer_is(&self, status: CustomerStatus) -> bool {
        self.selected_customer().is_some_and(|r| r.status == status)
    }

    pub fn customers_loading(&self) -> bool {
        self.flow.customers.loading.is_some()
    }

    /// Move the selection by `delta` rows (clamped to the list).
    pub(super) fn move_customer_selection(&mut self, delta: isize) {
        let n = self.customer_rows().len();
        let cur = self.customers.selected.min(n.saturating_sub(1)) as isize;
        self.customers.selected = (cur + delta).clamp(0, n.saturating_sub(1) as isize) as usize;
    }

    /// A key of the customers screen: what it asks of the flow, if anything.
    pub(super) fn customers_action(&mut self, action: Action) -> Option<Msg> {
        let page = self.customers.page.get().max(1) as isize;
        let org = self.selected_customer().map(|r| r.org.clone());
        match action {
            Action::OpenCustomers => Some(Msg::OpenCustomers),
            Action::CloseCustomers => Some(Msg::CloseCustomers),
            Action::ReloadCustomers => Some(Msg::LoadCustomers),
            Action::CustomerPrev => {
                self.move_customer_selection(-1);
                None
            }
            Action::CustomerNext => {
                self.move_customer_selection(1);
                None
            }
            Action::CustomerPagePrev => {
                self.move_customer_selection(-page);
                None
            }
            Action::CustomerPageNext => {
                self.move_customer_selection(page);
                None
            }
            Action::CustomerFirst => {
                self.customers.selected = 0;
                None
            }
            Action::CustomerLast => {
                self.move_customer_selection(isize::MAX / 2);
                None
            }
            Action::CustomerFilter => {
                let i = FILTERS
                    .iter()
                    .position(|f| *f == self.customers.filter)
                    .unwrap_or(0);
                self.customers.filter = FILTERS[(i + 1) % FILTERS.len()];
                self.customers.selected = 0;
                self.customers.offset.set(0);
                None
            }
            Action::CustomerToken => org.map(|org| Msg::CheckCustomerToken { org }),
            // After the change-requests branch: also open the Done step's change form for
            // `org` here (the flow has selected the customer and gone to the Done step).
            Action::CustomerChange => org.map(|org| Msg::StartChange { org }),
            Action::CustomerQr => org.map(|org| Msg::SelectCustomer { org }),
            _ => None,
        }
    }
}

/// A cell of `w` columns: cut with "…" or padded.
fn cell(s: &str, w: usize) -> String {
    let s = fit(s, w);
    let pad = w.saturating_sub(s.width());
    format!("{s}{}", " ".repeat(pad))
}

fn status_style(t: &Theme, s: CustomerStatus) -> Style {
    match s {
        CustomerStatus::Accepted => t.ok(),
        CustomerStatus::Pending => t.warning(),
        CustomerStatus::Rejected | CustomerStatus::Withdrawn => t.error(),
        CustomerStatus::TimedOut | CustomerStatus::Unknown => t.dim(),
    }
}

/// Rights as short names: resource ids, and access packages without their URN prefix.
fn short_rights(rights: &[String]) -> String {
    rights
        .iter()
        .map(|r| {
            r.strip_prefix("urn:altinn:accesspackage:")
                .or_else(|| r.strip_prefix("urn:altinn:resource:"))
                .unwrap_or(r)
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// "✓ 11-24 12:05", "✗ 11-24 12:05" or "–".
fn check_cell(r: &CustomerRow) -> String {
    match &r.last_token_check {
        Some(c) => format!(
            "{} {}",
            if c.ok { "✓" } else { "✗" },
            c.at.format("%m-%d %H:%M")
        ),
        None => "–".into(),
    }
}

fn short_id(id: Option<&str>) -> String {
    id.map(|s| s.chars().take(8).collect())
        .unwrap_or_else(|| "–".into())
}

/// Which columns fit `w`: (name width, with rights).
fn columns_for(w: usize) -> (usize, bool) {
    // marker 2, org 9, status 9, system user 8, check 13, and a space between each.
    let fixed = 2 + 9 + 1 + 9 + 1 + 8 + 1 + 13;
    let rights = 15;
    // Rights and a name of at least ten columns, each with a space after it.
    if w >= fixed + (rights + 1) + (10 + 1) {
        (w - fixed - rights - 2, true)
    } else if w >= fixed + 8 {
        (w - fixed - 1, false)
    } else {
        (0, false)
    }
}

fn header_line(t: &Theme, w: usize) -> Line<'static> {
    let (name_w, rights) = columns_for(w);
    let mut s = format!("  {} ", cell("ORG", 9));
    if name_w > 0 {
        s.push_str(&format!("{} ", cell("NAME", name_w)));
    }
    s.push_str(&format!("{} {} ", cell("STATUS", 9), cell("USER", 8)));
    if rights {
        s.push_str(&format!("{} ", cell("RIGHTS", 15)));
    }
    s.push_str("TOKEN CHECK");
    Line::styled(fit(&s, w), t.dim())
}

fn row_line(t: &Theme, r: &CustomerRow, selected: bool, w: usize) -> Line<'static> {
    let (name_w, rights) = columns_for(w);
    let base = if selected { t.focused() } else { t.text() };
    let mut spans = vec![
        Span::styled(if selected { "▸ " } else { "  " }, t.focused()),
        Span::styled(format!("{} ", cell(&r.org, 9)), base),
    ];
    if name_w > 0 {
        let name = r.name.clone().unwrap_or_default();
        spans.push(Span::styled(format!("{} ", cell(&name, name_w)), base));
    }
    spans.push(Span::styled(
        format!("{} ", cell(status_words(r.status), 9)),
        status_style(t, r.status),
    ));
    spans.push(Span::styled(
        format!("{} ", cell(&short_id(r.system_user_id.as_deref()), 8)),
        t.code(),
    ));
    if rights {
        spans.push(Span::styled(
            format!("{} ", cell(&short_rights(&r.rights), 15)),
            base,
        ));
    }
    let check_style = match &r.last_token_check {
        Some(c) if c.ok => t.ok(),
        Some(_) => t.error(),
        None => t.dim(),
    };
    spans.push(Span::styled(check_cell(r), check_style));
    Line::from(spans)
}

/// The tally: "120 customers: 80 accepted · 30 pending · …".
fn tally_text(rows: &[CustomerRow]) -> String {
    let n = rows.len();
    let mut parts = Vec::new();
    for s in [
        CustomerStatus::Accepted,
        CustomerStatus::Pending,
        CustomerStatus::Rejected,
        CustomerStatus::TimedOut,
        CustomerStatus::Withdrawn,
        CustomerStatus::Unknown,
    ] {
        let k = rows.iter().filter(|r| r.status == s).count();
        if k > 0 {
            parts.push(format!("{k} {}", status_words(s)));
        }
    }
    let noun = if n == 1 { "customer" } else { "customers" };
    if parts.is_empty() {
        format!("{n} {noun}")
    } else {
        format!("{n} {noun}: {}", parts.join(" · "))
    }
}

/// Lines about the selected row that the table has no room for.
fn detail_lines(app: &App, r: &CustomerRow, w: usize) -> Vec<Line<'static>> {
    let t = app.theme();
    let mut head = format!("{}: {}", crate::flow::row_label(r), status_words(r.status));
    if r.kind == RequestKind::Agent {
        head.push_str(" (agent)");
    }
    match &r.system_user_id {
        Some(id) => head.push_str(&format!(", system user {id}")),
        None => {
            if let Some(id) = &r.request_id {
                head.push_str(&format!(", request {id}"));
            }
        }
    }
    let rights = if r.rights.is_empty() {
        "rights: –".to_string()
    } else {
        format!("rights: {}", r.rights.join(", "))
    };
    let third = match (&r.last_token_check, r.status) {
        (Some(c), _) => format!(
            "token check {}: {} ({})",
            if c.ok { "passed" } else { "failed" },
            c.result,
            c.at.format("%Y-%m-%d %H:%M UTC")
        ),
        (None, CustomerStatus::Accepted) => format!(
            "no token checked yet: {} checks one",
            keymap::key_for(Action::CustomerToken)
        ),
        (None, CustomerStatus::Pending) => format!(
            "waiting for the customer since {}: {} shows the approval link and QR code",
            r.requested_at.as_deref().unwrap_or("?"),
            keymap::key_for(Action::CustomerQr)
        ),
        (None, CustomerStatus::Withdrawn) => {
            "its request was accepted, but the system user is gone: the customer deleted it".into()
        }
        (None, CustomerStatus::TimedOut) => format!(
            "the request passed its lifetime unanswered (still New, timedOut) since {}: send a new one",
            r.requested_at.as_deref().unwrap_or("?")
        ),
        (None, _) => match (&r.request_id, &r.request_status) {
            (Some(id), Some(s)) => format!("request {id}: {s}"),
            _ => "no request known".into(),
        },
    };
    vec![
        Line::styled(fit(&head, w), t.text()),
        Line::styled(fit(&rights, w), t.dim()),
        Line::styled(fit(&third, w), t.dim()),
    ]
}

/// The customers screen in `area` (between the header and the footer).
pub fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let t = app.theme();
    let view = &app.flow.customers;
    let system = app.flow.profile.system_id().unwrap_or_default();
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(t.border_focus())
        .title(Span::styled(format!(" Customers of {system} "), t.title()));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.width < 4 || inner.height < 2 {
        return;
    }
    let w = inner.width as usize;
    let h = inner.height as usize;

    let mut top: Vec<Line<'static>> = Vec::new();
    if let Some(rows) = &view.rows {
        let mut s = tally_text(rows);
        if let Some(at) = view.loaded_at {
            s.push_str(&format!(
                " (read {} UTC, {} page{})",
                at.format("%H:%M"),
                view.pages,
                if view.pages == 1 { "" } else { "s" }
            ));
        }
        top.extend(wrapped(&s, w, t.text()));
    }
    if let Some(l) = &view.loading {
        let what = match l.last {
            Some(p) => format!(
                "loading: page {}, {} so far ({} page {})…",
                l.pages,
                l.items(),
                p.list.label(),
                p.page
            ),
            None => "loading: asking Altinn for the first page…".to_string(),
        };
        top.push(Line::from(vec![
            Span::styled(format!("{} ", app.spinner_frame()), t.current()),
            Span::raw(fit(&what, w.saturating_sub(2))),
        ]));
    }
    if let Some(e) = &view.error {
        top.extend(wrapped(
            &format!(
                "✗ could not load the customers: {} ({} tries again)",
                e.message,
                keymap::key_for(Action::ReloadCustomers)
            ),
            w,
            t.error(),
        ));
    }

    let rows = app.customer_rows();
    let all = view.rows.as_ref().map_or(0, Vec::len);
    let mut status = status_lines(app, w);
    status.truncate(3);
    // The selected row's details need three rows; a short terminal keeps them for the table.
    let details_h = if h >= top.len() + 2 + status.len() + 3 + 5 {
        3
    } else {
        0
    };
    let table_h = h
        .saturating_sub(top.len() + 2 + details_h + status.len())
        .max(1);

    let sel = app.customers.selected.min(rows.len().saturating_sub(1));
    let mut offset = app.customers.offset.get();
    if sel < offset {
        offset = sel;
    } else if sel >= offset + table_h {
        offset = sel + 1 - table_h;
    }
    offset = offset.min(rows.len().saturating_sub(table_h));
    app.customers.offset.set(offset);
    app.customers.page.set(table_h);

    let filter = match (app.customers.filter, &view.rows) {
        (None, None) => "all".to_string(),
        (Some(f), None) => format!("{} only", status_words(f)),
        (None, Some(_)) => format!("all {all}"),
        (Some(f), Some(_)) => format!("{} only: {} of {all}", status_words(f), rows.len()),
    };
    let range = if rows.is_empty() {
        String::new()
    } else {
        format!(
            " · rows {}-{}",
            offset + 1,
            (offset + table_h).min(rows.len())
        )
    };
    let more = if offset + table_h < rows.len() {
        " ↓"
    } else {
        ""
    };
    top.push(Line::styled(
        fit(
            &format!(
                "showing {filter}{range}{more} · {} filters",
                keymap::key_for(Action::CustomerFilter)
            ),
            w,
        ),
        t.dim(),
    ));

    let mut lines = top;
    lines.push(header_line(&t, w));
    let table_start = lines.len();
    if rows.is_empty() {
        let empty = match (&view.rows, app.customers.filter) {
            // A row needs all three lists (a request and its system user), so the table
            // fills in when the last page is read.
            (None, _) if view.loading.is_some() => {
                "The rows appear when every page is read (a customer's row needs its requests \
                 and its system user)."
                    .to_string()
            }
            (None, _) => "Not loaded yet.".to_string(),
            (Some(all), _) if all.is_empty() => format!(
                "No customers yet: Altinn lists no request or system user for {system}. Send a \
                 request from the request step, or many with `altinn-onboard request create \
                 --customers FILE.csv`."
            ),
            (Some(_), Some(f)) => format!("No {} customers.", status_words(f)),
            (Some(_), None) => String::new(),
        };
        lines.extend(wrapped(&empty, w, t.dim()).into_iter().take(table_h));
    } else {
        for (i, r) in rows.iter().enumerate().skip(offset).take(table_h) {
            lines.push(row_line(&t, r, i == sel, w));
        }
    }
    while lines.len() < table_start + table_h {
        lines.push(Line::raw(""));
    }
    if details_h > 0 {
        match rows.get(sel) {
            Some(r) => lines.extend(detail_lines(app, r, w)),
            None => lines.extend(std::iter::repeat_n(Line::raw(""), details_h)),
        }
    }
    lines.extend(status);
    frame.render_widget(Paragraph::new(lines), inner);
}
