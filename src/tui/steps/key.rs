//! Step 2, the key pair: generate an RSA key (Enter or `g`) or import one (`i`: a file path,
//! or the key pasted into the field, which then shows only a redacted form). Shows the public
//! JWK to upload on TT02 and production.

use super::{Forms, StepScreen};
use crate::env::EnvKind;
use crate::flow::{Msg, Step};
use crate::tui::app::App;
use crate::tui::form::{Field, Fields, Form};
use crate::tui::keymap::{Action, key_for, keys_for};
use crate::tui::ui::{Content, FormLook, form, wrapped};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Source,
}

#[derive(Debug, Clone)]
pub struct KeyFields {
    /// Where to import from: a path, or the key itself.
    pub source: Field,
    pub focus: Option<Focus>,
}

impl KeyFields {
    pub fn new() -> Self {
        KeyFields {
            source: Field::text(
                "Import from",
                "a PEM/JWK file path, or paste the key; Enter imports, Esc cancels",
                "",
            )
            .placeholder(format!(
                "(press {} to import an existing key instead)",
                key_for(Action::Import)
            )),
            focus: None,
        }
    }
}

impl Default for KeyFields {
    fn default() -> Self {
        Self::new()
    }
}

impl Fields for KeyFields {
    type Focus = Focus;
    const ALL: &'static [Focus] = &[Focus::Source];

    fn field(&self, at: Focus) -> &Field {
        match at {
            Focus::Source => &self.source,
        }
    }

    fn field_mut(&mut self, at: Focus) -> &mut Field {
        match at {
            Focus::Source => &mut self.source,
        }
    }

    fn focus(&self) -> Option<Focus> {
        self.focus
    }

    fn set_focus(&mut self, at: Option<Focus>) {
        self.focus = at;
    }
}

/// The public JWK on one line, long values (the modulus) cut.
pub fn compact_jwk(jwk: &serde_json::Value) -> String {
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

fn generate() -> Msg {
    Msg::GenerateKey {
        bits: 2048,
        kid: None,
    }
}

pub struct Screen;

impl StepScreen for Screen {
    fn explanation(&self, env: EnvKind) -> &'static str {
        if matches!(env, EnvKind::Tt02 | EnvKind::Prod) {
            "Your system proves who it is to Maskinporten by signing with a private key. Generate \
             (or import) an RSA key here; it stays on this machine, and you upload only the \
             public part (the JWK) to your client in Digdir's self-service portal. Paste it as \
             JWK: the portal keeps its kid. A key pasted as PEM gets a kid from the portal; \
             then give that one to `client set --kid`."
        } else {
            "Your system proves who it is to Maskinporten by signing with a private key. Generate \
             (or import) an RSA key here; it stays on this machine and only its public part is \
             shared. On the sandbox the client is registered with it automatically next."
        }
    }

    fn form<'a>(&self, forms: &'a Forms) -> Option<&'a dyn Form> {
        Some(&forms.key)
    }

    fn form_mut<'a>(&self, forms: &'a mut Forms) -> Option<&'a mut dyn Form> {
        Some(&mut forms.key)
    }

    fn submit_label(&self, app: &App) -> Option<&'static str> {
        let f = &app.forms.key;
        Some(
            if f.focus == Some(Focus::Source) || !f.source.value().trim().is_empty() {
                "import key"
            } else if app.key_info().is_some() || app.flow.profile.kid.is_some() {
                "continue"
            } else {
                "generate key"
            },
        )
    }

    fn submit(&self, app: &mut App) -> Option<Msg> {
        let source = app.forms.key.source.value().trim().to_string();
        Some(if !source.is_empty() {
            app.forms.key.focus = None;
            Msg::ImportKey {
                source: crate::secret::Secret::new(source),
                kid: None,
            }
        } else if app.forms.key.focus == Some(Focus::Source) {
            // Importing nothing: the flow says what is missing.
            Msg::ImportKey {
                source: crate::secret::Secret::new(source),
                kid: None,
            }
        } else if app.flow.profile.kid.is_some() {
            Msg::GoTo(Step::Client)
        } else {
            generate()
        })
    }

    fn act(&self, app: &mut App, action: Action) -> Option<Msg> {
        match action {
            Action::Generate => {
                app.forms.key.focus = None;
                Some(generate())
            }
            Action::Import => {
                app.forms.key.focus = Some(Focus::Source);
                None
            }
            _ => None,
        }
    }

    fn body(&self, app: &App, c: &mut Content, w: usize) {
        let t = app.theme();
        let p = &app.flow.profile;
        let copy = keys_for(Action::CopyJwk);
        let whole = key_for(Action::ShowJwk);
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
                &format!(
                    "No key yet. Enter generates a new 2048-bit RSA key (what Maskinporten's \
                     portal expects); {} imports an existing one.",
                    key_for(Action::Import)
                ),
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
                     \"Keys\" → \"Add key\", and paste the public JWK ({copy} copies it; {whole} shows it \
                     whole)."
                ),
                w,
                t.warning(),
            ));
        }
        let f = &app.forms.key;
        if f.focus == Some(Focus::Source) || !f.source.value().is_empty() {
            c.blank();
            form(
                app,
                c,
                w,
                f,
                &[Focus::Source],
                FormLook {
                    // A pasted key is shown redacted.
                    secret_like: true,
                    // The body already says what Enter and i do.
                    command_hint: None,
                    ..FormLook::default()
                },
            );
        }
    }
}

/// `j`: the whole public JWK (TT02/production upload it in the portal), pretty-printed and
/// scrollable, with the file it was written to. Drawn without a frame, so a mouse selection
/// picks up only JSON; long values are cut at the screen's edge, so the file and the
/// clipboard (ctrl-y, c) are the ways to copy it whole.
pub fn draw_jwk_overlay(frame: &mut ratatui::Frame, app: &App, area: ratatui::layout::Rect) {
    use ratatui::text::{Line, Span};
    use ratatui::widgets::{Clear, Paragraph};
    let t = app.theme();
    frame.render_widget(Clear, area);
    let w = area.width as usize;
    let Some(k) = app.key_info() else {
        return;
    };
    let mut lines: Vec<Line<'static>> = Vec::new();
    lines.extend(wrapped(
        &format!("Public JWK, kid {} ({}-bit RSA)", k.kid, k.bits),
        w,
        t.title(),
    ));
    match &app.jwk_file {
        Some(Ok(path)) => lines.extend(wrapped(
            &format!(
                "Written to {} (upload this file, or paste its content)",
                path.display()
            ),
            w,
            t.ok(),
        )),
        Some(Err(e)) => lines.extend(wrapped(e, w, t.warning())),
        None => {
            if let Some(path) = app.public_jwk_path() {
                lines.extend(wrapped(&format!("Writing {}…", path.display()), w, t.dim()));
            }
        }
    }
    lines.push(Line::raw(""));
    let json = serde_json::to_string_pretty(&k.public_jwk).unwrap_or_default();
    for l in json.lines() {
        lines.extend(wrapped(l, w, t.code()));
    }
    let [body, hint] = area.layout(&ratatui::layout::Layout::vertical([
        ratatui::layout::Constraint::Min(0),
        ratatui::layout::Constraint::Length(1),
    ]));
    let hidden = lines.len().saturating_sub(body.height as usize);
    app.jwk_overflow.set(hidden);
    let scroll = app.jwk_scroll.min(hidden);
    frame.render_widget(
        Paragraph::new(lines.into_iter().skip(scroll).collect::<Vec<_>>()),
        body,
    );
    let mut spans = vec![
        Span::styled(keys_for(Action::CopyJwk), t.key()),
        Span::raw(" copy · "),
    ];
    if hidden > 0 {
        spans.push(Span::styled("↑↓", t.key()));
        spans.push(Span::raw(format!(" scroll ({}/{}) · ", scroll, hidden)));
    }
    spans.push(Span::styled("esc", t.key()));
    spans.push(Span::raw(" close"));
    frame.render_widget(Paragraph::new(Line::from(spans)), hint);
}
