//! Step 1, the environment: sandbox, TT02, production, or a custom server by its two URLs.
//! Choosing another environment than the profile's makes the driver open a new session.

use super::{Forms, StepScreen};
use crate::env::{EnvKind, EnvSetting};
use crate::flow::{Msg, Step};
use crate::profile::Profile;
use crate::tui::app::App;
use crate::tui::form::{Field, Fields, Form, check};
use crate::tui::ui::{Content, FormLook, columns, form, wrapped};
use ratatui::text::Line;

/// What must be in place before a first try on TT02 (or production): without them the
/// portal shows no client, or a client without the scopes a vendor needs.
pub const TT02_BEFORE: &str = "Before you start: (1) your organisation has accepted Digdir's \
     terms of use for Maskinporten; (2) you have a user in Samarbeidsportalen with access to \
     the self-service portal for your organisation; (3) your organisation is registered as a \
     system vendor with Altinn (ask Digdir/Altinn): only then do the altinn:authentication \
     scopes appear in the portal.";

/// One line per environment in the list, in `EnvKind::ALL` order.
const ABOUT: [&str; 4] = [
    "embedded emulator, no accounts needed",
    "Altinn test environment + Maskinporten test",
    "production: real customers and rights",
    "any compatible server (URLs below)",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Kind,
    MaskinportenUrl,
    AltinnUrl,
}

#[derive(Debug, Clone)]
pub struct EnvFields {
    pub kind: Field,
    pub maskinporten_url: Field,
    pub altinn_url: Field,
    pub focus: Option<Focus>,
}

impl EnvFields {
    pub fn new(p: &Profile) -> Self {
        let kinds = EnvKind::ALL
            .iter()
            .map(|k| k.as_str().to_string())
            .collect::<Vec<_>>();
        let kind_index = EnvKind::ALL
            .iter()
            .position(|k| *k == p.environment.kind)
            .unwrap_or(0);
        EnvFields {
            kind: Field::choice(
                "Environment",
                "↑↓ choose; sandbox needs nothing else",
                kinds,
                kind_index,
            ),
            maskinporten_url: Field::text(
                "Maskinporten URL",
                "custom only: the issuer, e.g. http://127.0.0.1:8080/",
                p.environment.maskinporten_url.as_deref().unwrap_or(""),
            )
            .validated(check::service_url),
            altinn_url: Field::text(
                "Altinn URL",
                "custom only: the platform base, e.g. http://127.0.0.1:8080",
                p.environment.altinn_url.as_deref().unwrap_or(""),
            )
            .validated(check::service_url),
            focus: None,
        }
    }

    /// The environment chosen in the list.
    pub fn selected(&self) -> EnvKind {
        EnvKind::ALL
            .get(self.kind.selected())
            .copied()
            .unwrap_or_default()
    }
}

impl Fields for EnvFields {
    type Focus = Focus;
    const ALL: &'static [Focus] = &[Focus::Kind, Focus::MaskinportenUrl, Focus::AltinnUrl];

    fn field(&self, at: Focus) -> &Field {
        match at {
            Focus::Kind => &self.kind,
            Focus::MaskinportenUrl => &self.maskinporten_url,
            Focus::AltinnUrl => &self.altinn_url,
        }
    }

    fn field_mut(&mut self, at: Focus) -> &mut Field {
        match at {
            Focus::Kind => &mut self.kind,
            Focus::MaskinportenUrl => &mut self.maskinporten_url,
            Focus::AltinnUrl => &mut self.altinn_url,
        }
    }

    fn focus(&self) -> Option<Focus> {
        self.focus
    }

    fn set_focus(&mut self, at: Option<Focus>) {
        self.focus = at;
    }

    /// The URLs only matter for `custom`.
    fn tab_order(&self) -> Vec<Focus> {
        if self.selected() == EnvKind::Custom {
            Self::ALL.to_vec()
        } else {
            vec![Focus::Kind]
        }
    }
}

pub struct Screen;

impl StepScreen for Screen {
    fn explanation(&self, _env: EnvKind) -> &'static str {
        "Choose where to onboard. The sandbox runs inside this program and needs no accounts, \
         so it is the place to learn; TT02 is Altinn's test environment and PROD reaches real \
         customers."
    }

    fn form<'a>(&self, forms: &'a Forms) -> Option<&'a dyn Form> {
        Some(&forms.env)
    }

    fn form_mut<'a>(&self, forms: &'a mut Forms) -> Option<&'a mut dyn Form> {
        Some(&mut forms.env)
    }

    fn submit_label(&self, _app: &App) -> Option<&'static str> {
        Some("use this environment")
    }

    fn submit(&self, app: &mut App) -> Option<Msg> {
        let f = &app.forms.env;
        let kind = f.selected();
        let url = |field: &Field| {
            let v = field.value().trim();
            (!v.is_empty() && kind == EnvKind::Custom).then(|| v.to_string())
        };
        Some(Msg::SelectEnvironment(EnvSetting {
            kind,
            maskinporten_url: url(&f.maskinporten_url),
            altinn_url: url(&f.altinn_url),
        }))
    }

    /// The list has the focus at once: the arrows choose.
    fn arrive(&self, app: &mut App) {
        app.forms.env.focus = Some(Focus::Kind);
    }

    fn body(&self, app: &App, c: &mut Content, w: usize) {
        let t = app.theme();
        let fields = &app.forms.env;
        let sel = fields.kind.selected();
        for (i, k) in EnvKind::ALL.iter().enumerate() {
            let on = i == sel;
            let style = if on { t.focused() } else { t.text() };
            let text = format!(
                "{} {:<8} {}",
                if on { "▶" } else { " " },
                k.as_str(),
                ABOUT[i]
            );
            let text = columns(&text, 0, w);
            c.push(Line::styled(
                text,
                if *k == EnvKind::Prod && on {
                    t.error()
                } else {
                    style
                },
            ));
        }
        if fields.selected() == EnvKind::Custom {
            c.blank();
            form(
                app,
                c,
                w,
                fields,
                &[Focus::MaskinportenUrl, Focus::AltinnUrl],
                FormLook::default(),
            );
        }
        let chosen = fields.selected();
        if matches!(chosen, EnvKind::Tt02 | EnvKind::Prod) {
            c.blank();
            c.extend(wrapped(TT02_BEFORE, w, t.warning()));
        }
        let p = &app.flow.profile;
        let has_work = p.client_registered || !p.requests.is_empty();
        if chosen != p.environment.kind && (has_work || !p.environments.is_empty()) {
            c.blank();
            c.extend(wrapped(
                &format!(
                    "Switching keeps {}'s client, system and requests in this profile; they come back when you switch back.{}",
                    p.environment.kind,
                    if p.environments.contains_key(crate::profile::env_key(&EnvSetting::new(chosen))) {
                        format!(" {chosen}'s progress comes back now.")
                    } else {
                        String::new()
                    }
                ),
                w,
                t.dim(),
            ));
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
}
