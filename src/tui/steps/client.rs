//! Step 3, the Maskinporten client: the vendor's organisation number, client id and scopes.
//! On the sandbox Enter registers the client with the key; on TT02 and production the client
//! is made in Digdir's portal, and the step waits until the user says the JWK is uploaded (`u`).

use super::{Forms, StepScreen};
use crate::altinn::client::VENDOR_SCOPES;
use crate::env::EnvKind;
use crate::flow::Msg;
use crate::profile::Profile;
use crate::tui::app::{App, AppOptions};
use crate::tui::form::{Field, Fields, Form, check};
use crate::tui::keymap::{Action, key_for, keys_for};
use crate::tui::ui::{Content, FormLook, form, wrapped};
use ratatui::text::Line;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    VendorOrg,
    ClientId,
    Scopes,
}

#[derive(Debug, Clone)]
pub struct ClientFields {
    pub vendor_org: Field,
    pub client_id: Field,
    pub scopes: Field,
    pub focus: Option<Focus>,
}

impl ClientFields {
    pub fn new(p: &Profile, opts: &AppOptions) -> Self {
        let sandbox = p.environment.kind == EnvKind::Sandbox;
        let vendor_default = match (&p.vendor_org, sandbox) {
            (Some(v), _) => v.clone(),
            // A custom server is usually a shared `sandbox serve` (a workshop): an org of one's
            // own, so participants never share a system and its requests (issue 17 item 7).
            (None, false) if p.environment.kind == EnvKind::Custom => {
                crate::portal::participant_vendor_org()
            }
            // The last seeded organisation, so the customer picker (which starts at the first)
            // does not suggest the vendor itself.
            (None, true) => opts
                .seeded_orgs
                .last()
                .map(|(no, _)| no.clone())
                .unwrap_or_default(),
            (None, false) => String::new(),
        };
        let scopes = if p.scopes.is_empty() {
            VENDOR_SCOPES.join(" ")
        } else {
            p.scopes.join(" ")
        };
        ClientFields {
            vendor_org: Field::text(
                "Vendor org",
                "your organisation number (9 digits), e.g. 310904473",
                &vendor_default,
            )
            .validated(check::org),
            client_id: Field::text(
                "Client id",
                if sandbox {
                    "optional on the sandbox: leave empty and one is assigned"
                } else {
                    "the client id from the self-service portal (a UUID)"
                },
                p.client_id.as_deref().unwrap_or(""),
            )
            .validated(check::client_id)
            .placeholder(if sandbox {
                "(assigned by the sandbox)"
            } else {
                ""
            }),
            scopes: Field::text(
                "Scopes",
                "space-separated; the three altinn:authentication scopes are what a vendor needs",
                &scopes,
            )
            .validated(check::scopes),
            focus: None,
        }
    }
}

impl Fields for ClientFields {
    type Focus = Focus;
    const ALL: &'static [Focus] = &[Focus::VendorOrg, Focus::ClientId, Focus::Scopes];

    fn field(&self, at: Focus) -> &Field {
        match at {
            Focus::VendorOrg => &self.vendor_org,
            Focus::ClientId => &self.client_id,
            Focus::Scopes => &self.scopes,
        }
    }

    fn field_mut(&mut self, at: Focus) -> &mut Field {
        match at {
            Focus::VendorOrg => &mut self.vendor_org,
            Focus::ClientId => &mut self.client_id,
            Focus::Scopes => &mut self.scopes,
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
    /// TT02/prod: the client id is saved but the user has not yet confirmed the JWK upload.
    pub fn awaiting_upload(&self) -> bool {
        (self.is_real_env() || self.flow.client_awaits_upload)
            && self.flow.profile.client_id.is_some()
            && !self.flow.profile.client_registered
    }
}

pub struct Screen;

impl StepScreen for Screen {
    fn explanation(&self, env: EnvKind) -> &'static str {
        if matches!(env, EnvKind::Tt02 | EnvKind::Prod) {
            "A Maskinporten client is your system's identity. Create it in the self-service \
             portal for your organisation with the scopes below, upload the public JWK to it, \
             and enter its client id here."
        } else {
            "A Maskinporten client is your system's identity: it holds the public key and the \
             scopes your system may ask for. On the sandbox this step creates the client for \
             you; the client id is optional (one is assigned)."
        }
    }

    fn form<'a>(&self, forms: &'a Forms) -> Option<&'a dyn Form> {
        Some(&forms.client)
    }

    fn form_mut<'a>(&self, forms: &'a mut Forms) -> Option<&'a mut dyn Form> {
        Some(&mut forms.client)
    }

    fn submit_label(&self, app: &App) -> Option<&'static str> {
        Some(if app.is_real_env() {
            "save client"
        } else {
            "register client"
        })
    }

    fn submit(&self, app: &mut App) -> Option<Msg> {
        let f = &app.forms.client;
        Some(Msg::SubmitClient {
            vendor_org: f.vendor_org.value().to_string(),
            client_id: f.client_id.value().to_string(),
            scopes: f.scopes.value().to_string(),
        })
    }

    fn act(&self, _app: &mut App, action: Action) -> Option<Msg> {
        (action == Action::ConfirmUploaded).then_some(Msg::ConfirmClientUploaded)
    }

    /// The client id is needed only where the portal assigns it.
    fn arrive(&self, app: &mut App) {
        let needed: &[Focus] = if app.is_real_env() {
            &[Focus::VendorOrg, Focus::ClientId, Focus::Scopes]
        } else {
            &[Focus::VendorOrg, Focus::Scopes]
        };
        app.forms.client.focus_missing(needed);
    }

    /// "press u" and "c copies it" are command keys.
    fn commands_only(&self, app: &App) -> bool {
        app.awaiting_upload()
    }

    fn body(&self, app: &App, c: &mut Content, w: usize) {
        let t = app.theme();
        let p = &app.flow.profile;
        let copy = format!(
            "{} copies it, {} shows it whole",
            keys_for(Action::CopyJwk),
            key_for(Action::ShowJwk)
        );
        form(
            app,
            c,
            w,
            &app.forms.client,
            ClientFields::ALL,
            FormLook::default(),
        );
        if app.env_kind() == EnvKind::Custom && p.client_id.is_none() {
            c.blank();
            c.extend(wrapped(
                "On a shared sandbox (a workshop) everyone needs a vendor org of their own, or \
                 they share one system and its requests: the one suggested is made up for you.",
                w,
                t.dim(),
            ));
        }
        if let Some(portal) = app.env_kind().self_service_portal() {
            c.blank();
            if let Some(k) = app.key_info() {
                c.extend(wrapped(
                    &format!("Public JWK: {{{}}}", super::key::compact_jwk(&k.public_jwk)),
                    w,
                    t.code(),
                ));
            }
            let kid = p.kid.as_deref().unwrap_or("?");
            let text = if app.awaiting_upload() {
                format!(
                    "In {portal}, open client {} and add the public JWK (kid {kid}; {copy}). Then press {}.",
                    p.client_id.as_deref().unwrap_or("?"),
                    key_for(Action::ConfirmUploaded)
                )
            } else {
                format!(
                    "In {portal}: create a Maskinporten client for your organisation with the \
                     scopes above, add the public JWK (kid {kid}; {copy}), then enter \
                     its client id."
                )
            };
            c.extend(wrapped(&text, w, t.warning()));
            // Digdir's portal keeps the kid of a pasted JWK but gives a pasted PEM its own.
            let kid_note = match &p.portal_kid {
                Some(pk) => format!("Grants name the portal's kid {pk} (`client set --kid`)."),
                None => {
                    "Pasted a PEM? Then the portal's kid counts: `client set --kid`.".to_string()
                }
            };
            c.extend(wrapped(&kid_note, w, t.dim()));
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
}
