//! Step 8, the test call: a system-user token for the customer and a call to an API with it
//! (empty URL: the environment's reference API). Shows the status, the token's decoded claims
//! (never the token) and the response.

use super::{Forms, StepScreen};
use crate::env::EnvKind;
use crate::flow::Msg;
use crate::profile::Profile;
use crate::tui::app::{App, AppOptions};
use crate::tui::form::{Field, Fields, Form, check};
use crate::tui::theme::Theme;
use crate::tui::ui::{Content, FormLook, LABEL_W, fit, form, wrapped};
use ratatui::text::{Line, Span};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Url,
}

#[derive(Debug, Clone)]
pub struct TestCallFields {
    pub url: Field,
    pub focus: Option<Focus>,
}

impl TestCallFields {
    pub fn new(p: &Profile, opts: &AppOptions) -> Self {
        TestCallFields {
            url: Field::text(
                "API URL",
                "empty: the reference API; or any https API that accepts system-user tokens",
                p.test_url.as_deref().unwrap_or(""),
            )
            .validated(check::https_url)
            .placeholder(opts.default_test_url.clone()),
            focus: None,
        }
    }
}

impl Fields for TestCallFields {
    type Focus = Focus;
    const ALL: &'static [Focus] = &[Focus::Url];

    fn field(&self, at: Focus) -> &Field {
        match at {
            Focus::Url => &self.url,
        }
    }

    fn field_mut(&mut self, at: Focus) -> &mut Field {
        match at {
            Focus::Url => &mut self.url,
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
    /// The environment's reference API, known once its session is open: the test call's
    /// placeholder follows it.
    pub fn set_default_test_url(&mut self, url: String) {
        let f = &mut self.forms.test.url;
        if f.placeholder == self.opts.default_test_url {
            f.placeholder = url.clone();
        }
        self.opts.default_test_url = url;
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
        c.push(Line::styled(fit(r, w), t.code()));
    }
    if rows.len() > max {
        c.push(Line::styled(
            format!("  … {} more", rows.len() - max),
            t.dim(),
        ));
    }
}

pub struct Screen;

impl StepScreen for Screen {
    fn explanation(&self, _env: EnvKind) -> &'static str {
        "Prove that it works: get a system-user token from Maskinporten for the customer and \
         call an API with it. The token's decoded claims are shown; the token itself never is."
    }

    fn form<'a>(&self, forms: &'a Forms) -> Option<&'a dyn Form> {
        Some(&forms.test)
    }

    fn form_mut<'a>(&self, forms: &'a mut Forms) -> Option<&'a mut dyn Form> {
        Some(&mut forms.test)
    }

    fn submit_label(&self, _app: &App) -> Option<&'static str> {
        Some("run test call")
    }

    fn submit(&self, app: &mut App) -> Option<Msg> {
        let url = app.forms.test.url.value().trim().to_string();
        Some(Msg::SubmitTestCall {
            url: (!url.is_empty()).then_some(url),
        })
    }

    fn body(&self, app: &App, c: &mut Content, w: usize) {
        let t = app.theme();
        form(
            app,
            c,
            w,
            &app.forms.test,
            TestCallFields::ALL,
            FormLook::default(),
        );
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
}
