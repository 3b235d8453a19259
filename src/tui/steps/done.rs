//! Step 9, done: what was created, and the CLI commands that repeat the onboarding without
//! the wizard (for scripts and CI).

use super::StepScreen;
use crate::env::EnvKind;
use crate::tui::app::App;
use crate::tui::keymap::{Action, key_for};
use crate::tui::ui::{Content, wrap, wrapped};
use ratatui::text::Line;

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

    fn body(&self, app: &App, c: &mut Content, w: usize) {
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
