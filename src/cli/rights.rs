//! `rights search` and `rights check`: the public metadata (resource registry, access
//! packages) of the profile's environment, and the pre-flight of the profile's system.

use super::output::{RightRow, RightsCheckOutput, RightsSearchOutput};
use super::{AppError, Ctx, exit};
use crate::profile::RequestKind;
use crate::rights::{
    Finding, Outcome, Purpose, Report, RightCandidate, RightKind, SearchKind, preflight_lookup,
};
use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum RightsCommand {
    /// Search resources (the Resource Registry) or, with --packages, access packages: name,
    /// id, owner, type, and whether a standard / agent system user can hold it.
    Search {
        /// Words to look for (resources: id, name, owner, keywords; packages: Access
        /// Management's own search). Empty lists everything.
        #[arg(default_value = "")]
        term: String,
        /// Search access packages instead of resources.
        #[arg(long)]
        packages: bool,
    },
    /// Check the profile's system: each right and access package, ok / refused (with the code
    /// the service would answer, the reason and the fix) / warning. Exit 1 when anything is
    /// refused, 3 when nothing could be checked (no network and no cache).
    Check {
        /// Judge for an agent (client) request instead of a standard one.
        #[arg(long)]
        agent: bool,
    },
}

pub async fn run(ctx: &Ctx, cmd: RightsCommand) -> Result<i32, AppError> {
    let (profile, env) = ctx.profile_and_env()?;
    let session = ctx.session(&env).await?;
    let r = match cmd {
        RightsCommand::Search { term, packages } => search(ctx, &session, &term, packages).await,
        RightsCommand::Check { agent } => check(ctx, &session, &profile, agent).await,
    };
    session.close().await;
    r
}

fn row(c: &RightCandidate) -> RightRow {
    let (standard, agent) = (c.standard(), c.agent());
    let code = |f: &crate::rights::Fit| match f {
        crate::rights::Fit::No { code, .. } if !code.is_empty() => Some(code.clone()),
        _ => None,
    };
    RightRow {
        kind: c.kind,
        id: c.id.clone(),
        name: c.name.nb.clone(),
        name_en: c.name.en.clone(),
        owner: c.owner.as_ref().map(|o| o.name.clone()),
        owner_code: c.owner.as_ref().and_then(|o| o.code.clone()),
        owner_org: c.owner.as_ref().and_then(|o| o.org_no.clone()),
        resource_type: c.resource_type.clone(),
        area: c.area.as_ref().map(|a| a.name.clone()),
        delegable: c.delegable,
        assignable: c.assignable,
        standard: standard.mark().to_string(),
        standard_code: code(&standard),
        agent: agent.mark().to_string(),
        agent_code: code(&agent),
    }
}

fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// A plain table: columns padded to their widest cell (by characters).
fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if i + 1 == cells.len() {
                    c.clone()
                } else {
                    format!("{c}{}", " ".repeat(widths[i] - c.chars().count()))
                }
            })
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    let mut out = vec![line(header.iter().map(|h| h.to_string()).collect())];
    out.extend(rows.iter().map(|r| line(r.clone())));
    out.join("\n")
}

async fn search(
    ctx: &Ctx,
    session: &crate::session::Session,
    term: &str,
    packages: bool,
) -> Result<i32, AppError> {
    let kind = if packages {
        SearchKind::Packages
    } else {
        SearchKind::Resources
    };
    let result = session
        .runner
        .metadata()
        .search(term, kind)
        .await
        .map_err(rights_error)?;
    let note = result.source.note();
    if let Some(n) = &note {
        ctx.out.info(n);
    }
    let rows: Vec<RightRow> = result.candidates.iter().map(row).collect();
    let v = RightsSearchOutput {
        term: term.to_string(),
        kind,
        source: result.source.clone(),
        note,
        results: rows,
    };
    ctx.out.result(&v, || {
        if v.results.is_empty() {
            return format!(
                "no {} match `{term}`",
                if packages {
                    "access packages"
                } else {
                    "resources"
                }
            );
        }
        let rows: Vec<Vec<String>> = v
            .results
            .iter()
            .map(|r| {
                let mut cells = vec![clip(&r.name, 40), r.id.clone()];
                if packages {
                    cells.push(clip(r.area.as_deref().unwrap_or("-"), 30));
                    cells.push(yes_no(r.delegable).into());
                    cells.push(yes_no(r.assignable).into());
                } else {
                    cells.push(
                        r.owner_code
                            .clone()
                            .or_else(|| r.owner.clone())
                            .unwrap_or_else(|| "-".into()),
                    );
                    cells.push(r.resource_type.clone().unwrap_or_else(|| "-".into()));
                    cells.push(yes_no(r.delegable).into());
                }
                cells.push(fit_cell(&r.standard, r.standard_code.as_deref()));
                cells.push(fit_cell(&r.agent, r.agent_code.as_deref()));
                cells
            })
            .collect();
        let header: &[&str] = if packages {
            &[
                "NAME",
                "URN",
                "AREA",
                "DELEGABLE",
                "ASSIGNABLE",
                "STANDARD",
                "AGENT",
            ]
        } else {
            &[
                "NAME",
                "ID",
                "OWNER",
                "TYPE",
                "DELEGABLE",
                "STANDARD",
                "AGENT",
            ]
        };
        format!(
            "{}\n{} {}",
            table(header, &rows),
            v.results.len(),
            if packages {
                "package(s)"
            } else {
                "resource(s)"
            }
        )
    });
    Ok(exit::OK)
}

fn yes_no(b: Option<bool>) -> &'static str {
    match b {
        Some(true) => "yes",
        Some(false) => "no",
        None => "?",
    }
}

fn fit_cell(mark: &str, code: Option<&str>) -> String {
    match code {
        Some(c) => format!("{mark} ({c})"),
        None => mark.to_string(),
    }
}

fn rights_error(e: crate::rights::RightsError) -> AppError {
    let code = match &e {
        crate::rights::RightsError::Unavailable { .. } => exit::NETWORK,
        crate::rights::RightsError::Rejected { .. } => exit::REJECTED,
        crate::rights::RightsError::BadResponse { .. } => exit::NETWORK,
    };
    AppError::new(code, e.to_string())
}

/// Both judgements in one list: registration first, then what the request adds (a refusal
/// replaces an ok of the same right; whole-system findings are not repeated).
fn merge(register: Report, request: Report) -> Vec<Finding> {
    let mut out = register.findings;
    for f in request.findings {
        match out
            .iter_mut()
            .find(|g| g.subject == f.subject && (f.subject != "system" || g.reason == f.reason))
        {
            Some(g) if g.outcome == Outcome::Ok && f.outcome == Outcome::Refused => *g = f,
            Some(_) => {}
            None => out.push(f),
        }
    }
    out
}

async fn check(
    ctx: &Ctx,
    session: &crate::session::Session,
    profile: &crate::profile::Profile,
    agent: bool,
) -> Result<i32, AppError> {
    let spec = profile.system.clone().ok_or_else(|| {
        AppError::usage(
            "no system in this profile yet: `system register --name <name> --resource <id>` (or `rights search` to find rights first)",
        )
    })?;
    let kind = if agent {
        RequestKind::Agent
    } else {
        RequestKind::Standard
    };
    let lookup = session.runner.lookup_rights(&spec).await;
    let register = preflight_lookup(&spec, Purpose::Register, &lookup);
    let request = preflight_lookup(&spec, Purpose::Request(kind), &lookup);
    let note = lookup.note.clone();
    let findings = merge(register, request);
    let refused = findings.iter().any(|f| f.outcome == Outcome::Refused);
    let total = spec.rights.len() + spec.access_packages.len();
    let unchecked = findings
        .iter()
        .filter(|f| f.outcome == Outcome::Unchecked)
        .count();
    if let Some(n) = &note {
        ctx.out.info(n);
    }
    let v = RightsCheckOutput {
        system_id: profile.system_id(),
        request_kind: kind,
        ok: !refused,
        note,
        findings,
    };
    ctx.out.result(&v, || {
        let mut s = format!(
            "{} for a {} request:",
            v.system_id.as_deref().unwrap_or(&spec.name),
            if agent { "agent" } else { "standard" }
        );
        if total == 0 {
            s.push_str("\n  the system has neither rights nor access packages");
        }
        for f in &v.findings {
            let mark = match f.outcome {
                Outcome::Ok => "ok       ",
                Outcome::Refused => "REFUSED  ",
                Outcome::Warning => "warning  ",
                Outcome::Unchecked => "unchecked",
            };
            let what = match f.kind {
                Some(RightKind::Resource) => "resource ",
                Some(RightKind::Package) => "package  ",
                None => "",
            };
            let code = f
                .code
                .as_deref()
                .map(|c| format!(" [{c}]"))
                .unwrap_or_default();
            if f.subject == "system" {
                s.push_str(&format!("\n  {mark} {}{code}", f.reason));
            } else {
                s.push_str(&format!(
                    "\n  {mark} {what}{}: {}{code}",
                    f.subject, f.reason
                ));
            }
            if let Some(fix) = &f.fix {
                s.push_str(&format!("\n            fix: {fix}"));
            }
        }
        s
    });
    Ok(if refused {
        exit::USAGE
    } else if total > 0 && unchecked == total {
        exit::NETWORK
    } else {
        exit::OK
    })
}
