//! Step 4, the system registration: name, texts, rights, access packages and visibility of
//! `{vendorOrg}_{name}` in Altinn's system register. `v` shows the JSON Enter would send.

use super::{Forms, StepScreen};
use crate::env::EnvKind;
use crate::flow::{Msg, PickerMsg, SystemForm};
use crate::profile::Profile;
use crate::tui::app::App;
use crate::tui::form::{Field, Fields, Form, check};
use crate::tui::keymap::{Action, key_for};
use crate::tui::ui::{Content, FormLook, form, wrap, wrapped};
use ratatui::text::Line;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Name,
    DisplayName,
    Description,
    Rights,
    AccessPackages,
    Visible,
    /// The rights picker's search text (focused while the picker is open; Tab does not
    /// visit it).
    Search,
}

#[derive(Debug, Clone)]
pub struct SystemFields {
    pub name: Field,
    pub display_name: Field,
    pub description: Field,
    pub rights: Field,
    pub access_packages: Field,
    pub visible: Field,
    /// The rights picker's search text.
    pub search: Field,
    pub focus: Option<Focus>,
    /// Show the JSON that will be sent instead of the form.
    pub show_json: bool,
}

impl SystemFields {
    pub fn new(p: &Profile) -> Self {
        let sandbox = p.environment.kind == EnvKind::Sandbox;
        let sys = p.system.as_ref().map(SystemForm::from_spec);
        // The saved system's value, else (on the sandbox) a demo one.
        let value = |f: fn(&SystemForm) -> String, demo: &str| {
            sys.as_ref().map(f).unwrap_or_else(|| {
                if sandbox {
                    demo.to_string()
                } else {
                    String::new()
                }
            })
        };
        SystemFields {
            name: Field::text(
                "Name",
                "short name; the system id becomes {vendor org}_{name}",
                &value(|s| s.name.clone(), "onboard-demo"),
            )
            .validated(check::system_name),
            display_name: Field::text(
                "Display name",
                "what the customer sees when approving (empty: the name)",
                &value(|s| s.display_name.clone(), "Onboard demo"),
            ),
            description: Field::text(
                "Description",
                "one sentence for the customer (empty: the display name)",
                &value(
                    |s| s.description.clone(),
                    "Demo system created with altinn-onboard",
                ),
            ),
            rights: Field::text(
                "Rights",
                "resource ids, space-separated, e.g. ske-krav-og-betalinger; ctrl-f searches and picks",
                &value(|s| s.rights.clone(), "altinn-onboard-sandbox-reference"),
            )
            .validated(check::rights),
            access_packages: Field::text(
                "Access packages",
                "package URNs or names, e.g. skatt-naering; ctrl-f searches and picks",
                &value(|s| s.access_packages.clone(), ""),
            )
            .validated(check::packages),
            visible: Field::toggle(
                "Visible",
                "space toggles: visible systems can be found by customers in Altinn",
                sys.as_ref().map(|s| s.is_visible).unwrap_or(true),
            ),
            search: Field::text(
                "Search",
                "",
                "",
            ),
            focus: None,
            show_json: false,
        }
    }
}

/// The registration form's fields, in screen order (without the picker's search text).
const FORM: &[Focus] = &[
    Focus::Name,
    Focus::DisplayName,
    Focus::Description,
    Focus::Rights,
    Focus::AccessPackages,
    Focus::Visible,
];

impl Fields for SystemFields {
    type Focus = Focus;
    const ALL: &'static [Focus] = &[
        Focus::Name,
        Focus::DisplayName,
        Focus::Description,
        Focus::Rights,
        Focus::AccessPackages,
        Focus::Visible,
        Focus::Search,
    ];

    /// The form's fields; the search text has the focus only while the picker is open.
    fn tab_order(&self) -> Vec<Focus> {
        FORM.to_vec()
    }

    fn field(&self, at: Focus) -> &Field {
        match at {
            Focus::Name => &self.name,
            Focus::DisplayName => &self.display_name,
            Focus::Description => &self.description,
            Focus::Rights => &self.rights,
            Focus::AccessPackages => &self.access_packages,
            Focus::Visible => &self.visible,
            Focus::Search => &self.search,
        }
    }

    fn field_mut(&mut self, at: Focus) -> &mut Field {
        match at {
            Focus::Name => &mut self.name,
            Focus::DisplayName => &mut self.display_name,
            Focus::Description => &mut self.description,
            Focus::Rights => &mut self.rights,
            Focus::AccessPackages => &mut self.access_packages,
            Focus::Visible => &mut self.visible,
            Focus::Search => &mut self.search,
        }
    }

    fn focus(&self) -> Option<Focus> {
        self.focus
    }

    fn set_focus(&mut self, at: Option<Focus>) {
        self.focus = at;
    }
}

impl App {
    /// The system form as typed (the flow validates it).
    pub fn system_form(&self) -> SystemForm {
        let f = &self.forms.system;
        SystemForm {
            name: f.name.value().to_string(),
            display_name: f.display_name.value().to_string(),
            description: f.description.value().to_string(),
            rights: f.rights.value().to_string(),
            access_packages: f.access_packages.value().to_string(),
            redirect_urls: self
                .flow
                .profile
                .system
                .as_ref()
                .map(|s| s.allowed_redirect_urls.join(" "))
                .unwrap_or_default(),
            is_visible: f.visible.on(),
        }
    }

    /// The register JSON for the form as typed now: what Enter would send.
    pub fn registration_preview(&self) -> Result<serde_json::Value, String> {
        let spec =
            crate::flow::parse_system_form(&self.system_form()).map_err(|e| e.to_string())?;
        let mut probe = self.flow.clone();
        probe.profile.system = Some(spec);
        let reg = probe.registration()?;
        serde_json::to_value(reg).map_err(|e| e.to_string())
    }
}

pub struct Screen;

impl StepScreen for Screen {
    fn explanation(&self, _env: EnvKind) -> &'static str {
        "Register your system (the software product) in Altinn's system register. It lists \
         the rights (resources) or access packages a customer is asked to delegate, and \
         links the Maskinporten client to the system."
    }

    fn form<'a>(&self, forms: &'a Forms) -> Option<&'a dyn Form> {
        Some(&forms.system)
    }

    fn form_mut<'a>(&self, forms: &'a mut Forms) -> Option<&'a mut dyn Form> {
        Some(&mut forms.system)
    }

    fn submit_label(&self, app: &App) -> Option<&'static str> {
        if app.flow.picker.is_some() {
            Some("use picks")
        } else {
            Some("register system")
        }
    }

    fn submit(&self, app: &mut App) -> Option<Msg> {
        if app.flow.picker.is_some() {
            return Some(Msg::Picker(PickerMsg::Confirm));
        }
        Some(Msg::SubmitSystem(app.system_form()))
    }

    fn act(&self, app: &mut App, action: Action) -> Option<Msg> {
        match action {
            Action::ToggleJson => {
                app.forms.system.show_json = !app.forms.system.show_json;
                app.scroll = 0;
                None
            }
            Action::OpenPicker => {
                let f = &mut app.forms.system;
                f.show_json = false;
                f.search.set_value("");
                let split = |s: &str| -> Vec<String> {
                    s.split(|c: char| c.is_whitespace() || c == ',')
                        .filter(|p| !p.is_empty())
                        .map(str::to_string)
                        .collect()
                };
                Some(Msg::Picker(PickerMsg::Open {
                    rights: split(f.rights.value()),
                    packages: split(f.access_packages.value()),
                    visible: f.visible.on(),
                }))
            }
            Action::PickerToggle => Some(Msg::Picker(PickerMsg::Toggle)),
            Action::PickerSwitch => Some(Msg::Picker(PickerMsg::SwitchKind)),
            Action::PickerCancel => Some(Msg::Picker(PickerMsg::Cancel)),
            _ => None,
        }
    }

    fn arrive(&self, app: &mut App) {
        app.forms.system.focus_missing(&[Focus::Name]);
    }

    fn leave(&self, app: &mut App) {
        app.forms.system.show_json = false;
        if app.forms.system.focus == Some(Focus::Search) {
            app.forms.system.focus = None;
        }
    }

    fn wide(&self, app: &App) -> bool {
        app.flow.picker.is_some()
    }

    fn pickable(&self, app: &App) -> bool {
        app.flow.picker.is_some()
    }

    /// ↑↓ move the picker's cursor.
    fn pick(&self, app: &mut App, delta: isize) -> bool {
        if app.flow.picker.is_none() {
            return false;
        }
        let fx = app.flow.update(Msg::Picker(PickerMsg::Move(delta)));
        debug_assert!(fx.is_empty(), "moving the cursor runs nothing: {fx:?}");
        app.scroll = 0;
        true
    }

    fn typed(&self, app: &mut App) -> Option<Msg> {
        let p = app.flow.picker.as_ref()?;
        let term = app.forms.system.search.value();
        (app.forms.system.focus == Some(Focus::Search) && term != p.term)
            .then(|| Msg::Picker(PickerMsg::Term(term.to_string())))
    }

    /// The picker opened: its search text takes the focus. It closed: back to the command
    /// keys, with the picks (on Enter) written into the rights and access-package fields.
    fn after_update(&self, app: &mut App) {
        let f = &mut app.forms.system;
        if let Some(sel) = app.flow.picked.take() {
            f.rights.set_value(&sel.rights.join(" "));
            f.access_packages.set_value(&sel.packages.join(" "));
        }
        match (&app.flow.picker, f.focus) {
            (Some(_), focus) if focus != Some(Focus::Search) => f.focus = Some(Focus::Search),
            (None, Some(Focus::Search)) => f.focus = None,
            _ => {}
        }
    }

    fn body(&self, app: &App, c: &mut Content, w: usize) {
        let t = app.theme();
        if let Some(p) = &app.flow.picker {
            super::rights_picker::body(app, p, c, w);
            return;
        }
        if app.forms.system.show_json {
            c.extend(wrapped(
                &format!(
                    "What Enter sends to the system register ({}: back to the form):",
                    key_for(Action::ToggleJson)
                ),
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
        form(app, c, w, &app.forms.system, FORM, FormLook::default());
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
}
