//! Step 9, done: what was created, and the CLI commands that repeat the onboarding without
//! the wizard (for scripts and CI). `c` asks the customer for more rights on its system user:
//! a change request (resources and packages typed here; they must be registered on the
//! system), its confirmUrl and QR code, and its status while the flow polls it.

use super::{Forms, StepScreen};
use crate::env::EnvKind;
use crate::flow::{ChangeForm, Msg};
use crate::profile::{Profile, RequestKind, RequestRecord};
use crate::tui::app::App;
use crate::tui::form::{Field, Fields, Form, check};
use crate::tui::keymap::{Action, key_for};
use crate::tui::ui::{Aside, Content, FormLook, form, wrap, wrapped};
use ratatui::text::Line;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Customer,
    Rights,
    Packages,
}

/// The change-request form of the Done step, shown after `c`.
#[derive(Debug, Clone)]
pub struct ChangeFields {
    pub customer: Field,
    pub rights: Field,
    pub packages: Field,
    pub focus: Option<Focus>,
    /// The form is on screen (`c` opened it; sending closes it).
    pub open: bool,
}

impl ChangeFields {
    pub fn new(p: &Profile) -> Self {
        ChangeFields {
            customer: Field::text(
                "Customer org",
                "whose system user gets the rights",
                p.current_request()
                    .map(|r| r.customer_org.as_str())
                    .or(p.customer_org.as_deref())
                    .unwrap_or(""),
            )
            .validated(check::org),
            rights: Field::text(
                "Add resources",
                "resource ids registered on the system, separated by spaces",
                "",
            )
            .validated(check::rights),
            packages: Field::text(
                "Add packages",
                "access packages registered on the system, e.g. skatt-naering",
                "",
            )
            .validated(check::packages),
            focus: None,
            open: false,
        }
    }
}

impl Fields for ChangeFields {
    type Focus = Focus;
    const ALL: &'static [Focus] = &[Focus::Customer, Focus::Rights, Focus::Packages];

    fn field(&self, at: Focus) -> &Field {
        match at {
            Focus::Customer => &self.customer,
            Focus::Rights => &self.rights,
            Focus::Packages => &self.packages,
        }
    }

    fn field_mut(&mut self, at: Focus) -> &mut Field {
        match at {
            Focus::Customer => &mut self.customer,
            Focus::Rights => &mut self.rights,
            Focus::Packages => &mut self.packages,
        }
    }

    fn focus(&self) -> Option<Focus> {
        self.focus
    }

    fn set_focus(&mut self, at: Option<Focus>) {
        self.focus = at;
    }
}

/// The change request the Done step is about: the newest one in the profile.
fn change_record(app: &App) -> Option<&RequestRecord> {
    app.flow
        .profile
        .newest_request()
        .filter(|r| r.kind == RequestKind::Change)
}

/// Where the customer approves the change request, while it waits for an answer.
fn pending_change_url(app: &App) -> Option<&str> {
    app.flow.pending_change_url()
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

pub struct Screen;

impl StepScreen for Screen {
    fn explanation(&self, _env: EnvKind) -> &'static str {
        "Your system can now act for the customer. Below is what was created, and the CLI \
         commands that repeat it without the wizard (for scripts and CI)."
    }

    fn form<'a>(&self, forms: &'a Forms) -> Option<&'a dyn Form> {
        forms.change.open.then_some(&forms.change as &dyn Form)
    }

    fn form_mut<'a>(&self, forms: &'a mut Forms) -> Option<&'a mut dyn Form> {
        if forms.change.open {
            Some(&mut forms.change)
        } else {
            None
        }
    }

    fn submit_label(&self, app: &App) -> Option<&'static str> {
        app.forms.change.open.then_some("send change request")
    }

    fn submit(&self, app: &mut App) -> Option<Msg> {
        let f = &mut app.forms.change;
        if !f.open {
            return None;
        }
        f.open = false;
        f.focus = None;
        Some(Msg::SubmitChange(ChangeForm {
            customer_org: f.customer.value().to_string(),
            add_rights: f.rights.value().to_string(),
            add_access_packages: f.packages.value().to_string(),
        }))
    }

    fn act(&self, app: &mut App, action: Action) -> Option<Msg> {
        match action {
            Action::ChangeRights => {
                let f = &mut app.forms.change;
                f.open = true;
                f.focus_missing(&[Focus::Customer, Focus::Rights]);
                if f.focus.is_none() {
                    f.focus = Some(Focus::Rights);
                }
                None
            }
            Action::OpenBrowser => Some(Msg::OpenBrowser),
            _ => None,
        }
    }

    fn aside(&self, app: &App, height: usize) -> Option<Aside> {
        let url = pending_change_url(app)?;
        let t = app.theme();
        let q = super::approval::qr(url, &t, 2)
            .filter(|q| q.lines.len() <= height)
            .or_else(|| super::approval::qr(url, &t, 1))?;
        Some(Aside {
            width: q.width,
            lines: q.lines,
            no_room:
                "(no room for the QR code here: open the URL on a phone, or widen the terminal)"
                    .into(),
        })
    }

    fn body(&self, app: &App, c: &mut Content, w: usize) {
        let t = app.theme();
        let p = &app.flow.profile;
        if app.forms.change.open {
            c.extend(wrapped(
                "Ask the customer to add rights to its system user. Only resources and packages \
                 registered on the system can be asked for; the customer approves at a link, as \
                 for the first request.",
                w,
                t.dim(),
            ));
            form(
                app,
                c,
                w,
                &app.forms.change,
                ChangeFields::ALL,
                FormLook::default(),
            );
            c.blank();
        } else if let Some(r) = change_record(app) {
            let what = r
                .change
                .as_ref()
                .map(|ch| {
                    ch.add_rights
                        .iter()
                        .chain(ch.add_access_packages.iter())
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default();
            c.kv(&t, "Change request", r.id.clone(), w);
            c.kv(&t, "Adds", what, w);
            c.kv(
                &t,
                "Status",
                format!("{} ({})", r.status, r.customer_org),
                w,
            );
            if let Some(url) = pending_change_url(app) {
                c.extend(wrapped(
                    &format!(
                        "The customer approves at ({} opens it):",
                        key_for(Action::OpenBrowser)
                    ),
                    w,
                    t.dim(),
                ));
                c.extend(wrapped(url, w, t.code()));
            }
            c.blank();
        } else {
            c.push(Line::styled(
                format!(
                    "More rights for a customer's system user: press {}.",
                    key_for(Action::ChangeRights)
                ),
                t.dim(),
            ));
        }
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
                format!(
                    "  ({} shows the token's claims and the API's response)",
                    key_for(Action::Back)
                ),
                t.dim(),
            ));
        }
        c.extend(wrapped(
            &format!(
                "{} lists every customer of the system: status, system user, token checks.",
                key_for(Action::OpenCustomers)
            ),
            w,
            t.dim(),
        ));
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
}
