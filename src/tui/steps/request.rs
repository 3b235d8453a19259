//! Step 5, the system user request: which customer organisation (on the sandbox ↑↓ pick one
//! of the seeded organisations), standard or agent, and an optional external reference.

use super::{Forms, StepScreen};
use crate::env::EnvKind;
use crate::flow::{Msg, RequestForm};
use crate::profile::{Profile, RequestKind};
use crate::tui::app::{App, AppOptions};
use crate::tui::form::{Field, Fields, Form, check};
use crate::tui::ui::{Content, FormLook, form, wrapped};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Customer,
    Agent,
    ExternalRef,
}

#[derive(Debug, Clone)]
pub struct RequestFields {
    pub customer: Field,
    pub agent: Field,
    pub external_ref: Field,
    pub focus: Option<Focus>,
}

impl RequestFields {
    pub fn new(p: &Profile, opts: &AppOptions) -> Self {
        let sandbox = p.environment.kind == EnvKind::Sandbox;
        let last_req = p.current_request();
        let customer = p
            .customer_org
            .clone()
            .or_else(|| {
                sandbox
                    .then(|| opts.seeded_orgs.first().map(|(no, _)| no.clone()))
                    .flatten()
            })
            .unwrap_or_default();
        RequestFields {
            customer: Field::text(
                "Customer org",
                if sandbox {
                    "↑↓ picks a sandbox organisation; or type any valid number"
                } else {
                    "the customer's organisation number (9 digits)"
                },
                &customer,
            )
            .validated(check::org),
            agent: Field::toggle(
                "Agent request",
                "space toggles: agent (client relation) instead of standard",
                last_req.is_some_and(|r| r.kind == RequestKind::Agent),
            ),
            external_ref: Field::text(
                "External ref",
                "optional: tells several system users for one customer apart",
                last_req
                    .and_then(|r| r.external_ref.as_deref())
                    .unwrap_or(""),
            )
            .validated(check::external_ref),
            focus: None,
        }
    }

    /// The arrows pick the customer while it has the focus, and in command mode (it is the
    /// one list on screen).
    fn picks_customer(&self) -> bool {
        matches!(self.focus, None | Some(Focus::Customer))
    }
}

impl Fields for RequestFields {
    type Focus = Focus;
    const ALL: &'static [Focus] = &[Focus::Customer, Focus::Agent, Focus::ExternalRef];

    fn field(&self, at: Focus) -> &Field {
        match at {
            Focus::Customer => &self.customer,
            Focus::Agent => &self.agent,
            Focus::ExternalRef => &self.external_ref,
        }
    }

    fn field_mut(&mut self, at: Focus) -> &mut Field {
        match at {
            Focus::Customer => &mut self.customer,
            Focus::Agent => &mut self.agent,
            Focus::ExternalRef => &mut self.external_ref,
        }
    }

    fn focus(&self) -> Option<Focus> {
        self.focus
    }

    fn set_focus(&mut self, at: Option<Focus>) {
        self.focus = at;
    }
}

/// The name of the seeded organisation typed in the customer field, if it is one.
fn seeded_name(app: &App) -> Option<&str> {
    let typed = app.forms.request.customer.value().trim();
    app.opts
        .seeded_orgs
        .iter()
        .find(|(no, _)| no == typed)
        .map(|(_, name)| name.as_str())
}

pub struct Screen;

impl StepScreen for Screen {
    fn explanation(&self, _env: EnvKind) -> &'static str {
        "Ask a customer organisation for a system user: an identity inside the customer's \
         organisation that your system acts as. Standard requests ask for the system's \
         rights; agent requests are for client relations (e.g. accounting firms)."
    }

    fn form<'a>(&self, forms: &'a Forms) -> Option<&'a dyn Form> {
        Some(&forms.request)
    }

    fn form_mut<'a>(&self, forms: &'a mut Forms) -> Option<&'a mut dyn Form> {
        Some(&mut forms.request)
    }

    fn submit_label(&self, _app: &App) -> Option<&'static str> {
        Some("send request")
    }

    fn submit(&self, app: &mut App) -> Option<Msg> {
        let f = &app.forms.request;
        Some(Msg::SubmitRequest(RequestForm {
            customer_org: f.customer.value().to_string(),
            agent: f.agent.on(),
            external_ref: f.external_ref.value().to_string(),
        }))
    }

    fn arrive(&self, app: &mut App) {
        app.forms.request.focus_missing(&[Focus::Customer]);
    }

    fn pickable(&self, app: &App) -> bool {
        app.forms.request.picks_customer() && !app.opts.seeded_orgs.is_empty()
    }

    /// The next (previous) seeded organisation; from a number not in the list, the first
    /// (last).
    fn pick(&self, app: &mut App, delta: isize) -> bool {
        if !app.forms.request.picks_customer() {
            return false;
        }
        let orgs = &app.opts.seeded_orgs;
        if orgs.is_empty() {
            return true;
        }
        let cur = app.forms.request.customer.value().trim();
        let n = orgs.len() as isize;
        let next = match orgs.iter().position(|(no, _)| no == cur) {
            Some(i) => (i as isize + delta).rem_euclid(n),
            None if delta > 0 => 0,
            None => n - 1,
        };
        let org = orgs[next as usize].0.clone();
        app.forms.request.customer.set_value(&org);
        true
    }

    fn body(&self, app: &App, c: &mut Content, w: usize) {
        let t = app.theme();
        let f = &app.forms.request;
        let name = seeded_name(app);
        let look = FormLook {
            command_hint: Some(
                name.map(|n| format!("{n} (↑↓ picks another sandbox organisation). "))
                    .unwrap_or_default(),
            ),
            field_lead: match name {
                Some(n) if f.focus == Some(Focus::Customer) => format!("{n} · "),
                _ => String::new(),
            },
            ..FormLook::default()
        };
        form(app, c, w, f, RequestFields::ALL, look);
        if app.is_real_env() {
            c.blank();
            c.extend(wrapped(TT02_CUSTOMERS, w, t.warning()));
        }
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
}

/// Where TT02 customers come from (shown on TT02/production only).
pub const TT02_CUSTOMERS: &str = "Customers in TT02 are synthetic test organisations from Tenor \
     (Skatteetaten's test data search, testdata.skatteetaten.no): find one, note its \
     organisation number and, under its roles, the general manager (daglig leder, DAGL) who \
     will approve.";
