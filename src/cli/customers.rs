//! Day-2 commands for many customers (issue 12): `customers` (every customer at a glance, as
//! text, `--json` or `--csv`) and `request create --customers FILE.csv` (requests to many
//! customers at once, safe to re-run). The folding and loading live in `crate::customers`.

use super::{AppError, Ctx, exit, with_flow};
use crate::altinn::client::{AltinnClient, SCOPE_REQUEST_READ, SCOPE_REQUEST_WRITE};
use crate::altinn::model::{CreateRequest, RequestInfo, RequestStatus};
use crate::customers::{self as domain, CustomerRow, LoadProgress};
use crate::env::EnvKind;
use crate::flow::{Failure, RequestForm};
use crate::profile::{CustomerRequest, CustomerStatus, Profile, RequestKind};
use crate::secret::Secret;
use chrono::Utc;
use clap::Args;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::Path;
use std::sync::Mutex;

#[derive(Debug, Args)]
pub struct CustomersArgs {
    /// Print CSV (a header, then one row per customer) instead of text.
    #[arg(long, conflicts_with = "json")]
    pub csv: bool,
}

/// `customers --json`: stable, typed; `customers` holds one [`CustomerRow`] per customer.
#[derive(Debug, Serialize)]
pub struct CustomersOutput {
    pub system_id: String,
    pub environment: String,
    pub count: usize,
    /// Pages read from Altinn over the three lists.
    pub pages: usize,
    /// How many customers have each status (only the statuses that occur).
    pub by_status: BTreeMap<&'static str, usize>,
    pub customers: Vec<CustomerRow>,
}

/// Progress on stderr for lists of more than one page (a single page needs no news).
fn report_progress(ctx: &Ctx) -> impl FnMut(LoadProgress) + Send + '_ {
    move |p: LoadProgress| {
        if p.more || p.page > 1 {
            ctx.out.info(format!(
                "{}: page {}, {} so far{}",
                p.list.label(),
                p.page,
                p.items,
                if p.more { "..." } else { "" }
            ));
        }
    }
}

pub async fn list(ctx: &Ctx, a: CustomersArgs) -> Result<i32, AppError> {
    with_flow(ctx, |mut flow, session| async move {
        let r = async {
            let mut progress = report_progress(ctx);
            let listing =
                domain::load_for_profile(&session.runner, &flow.profile, &mut progress).await?;
            let sandbox = session.env.kind == EnvKind::Sandbox;
            let rows = domain::rows(&listing, &flow.profile.customers, &|org| {
                sandbox.then(|| domain::sandbox_name(org)).flatten()
            });
            domain::remember(&mut flow.profile, &listing, &rows, Utc::now());
            ctx.save(&mut flow.profile)?;
            if a.csv {
                print_csv(&rows)?;
                return Ok(exit::OK);
            }
            let v = CustomersOutput {
                system_id: listing.system_id.clone(),
                environment: session.env.kind.to_string(),
                count: rows.len(),
                pages: listing.pages,
                by_status: domain::tally(&rows),
                customers: rows,
            };
            ctx.out.result(&v, || text_table(&v));
            Ok(exit::OK)
        }
        .await;
        (r, session)
    })
    .await
}

fn text_table(v: &CustomersOutput) -> String {
    if v.customers.is_empty() {
        return format!(
            "no customers yet for {}: `request create --customer-org ORG` or `--customers FILE.csv`",
            v.system_id
        );
    }
    let mut out = format!(
        "{} customers of {} ({})\n",
        v.count,
        v.system_id,
        v.by_status
            .iter()
            .map(|(s, n)| format!("{n} {s}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    out += &format!(
        "{:<9}  {:<10} {:<8} {:<36}  {:<22}  {}\n",
        "org", "status", "kind", "system user", "last token check", "name"
    );
    for r in &v.customers {
        let check = match &r.last_token_check {
            Some(c) => format!(
                "{} {}",
                if c.ok { "ok" } else { "failed" },
                c.at.format("%Y-%m-%d %H:%M")
            ),
            None => "-".into(),
        };
        out += &format!(
            "{:<9}  {:<10} {:<8} {:<36}  {:<22}  {}\n",
            r.org,
            r.status.as_str(),
            kind_str(r.kind),
            r.system_user_id.as_deref().unwrap_or("-"),
            check,
            r.name.as_deref().unwrap_or("")
        );
    }
    out.trim_end().to_string()
}

fn kind_str(k: RequestKind) -> &'static str {
    match k {
        RequestKind::Standard => "standard",
        RequestKind::Agent => "agent",
        RequestKind::Change => "change",
    }
}

const CSV_HEADER: [&str; 13] = [
    "org",
    "name",
    "status",
    "kind",
    "request_id",
    "request_status",
    "requested_at",
    "external_refs",
    "system_user_id",
    "rights",
    "last_token_check_at",
    "last_token_check_ok",
    "last_token_check_result",
];

fn print_csv(rows: &[CustomerRow]) -> Result<(), AppError> {
    let mut w = csv::Writer::from_writer(std::io::stdout().lock());
    let failed = |e: csv::Error| AppError::new(exit::USAGE, format!("cannot write CSV: {e}"));
    w.write_record(CSV_HEADER).map_err(failed)?;
    for r in rows {
        let check = r.last_token_check.as_ref();
        w.write_record([
            r.org.as_str(),
            r.name.as_deref().unwrap_or(""),
            r.status.as_str(),
            kind_str(r.kind),
            r.request_id.as_deref().unwrap_or(""),
            r.request_status.as_ref().map(|s| s.as_str()).unwrap_or(""),
            r.requested_at.as_deref().unwrap_or(""),
            &r.external_refs.join(" "),
            r.system_user_id.as_deref().unwrap_or(""),
            &r.rights.join(" "),
            &check.map(|c| c.at.to_rfc3339()).unwrap_or_default(),
            check
                .map(|c| if c.ok { "true" } else { "false" })
                .unwrap_or(""),
            check.map(|c| c.result.as_str()).unwrap_or(""),
        ])
        .map_err(failed)?;
    }
    w.flush()
        .map_err(|e| AppError::new(exit::USAGE, format!("cannot write CSV: {e}")))
}

// ---------------------------------------------------------------------------------------------
// request create --customers FILE.csv
// ---------------------------------------------------------------------------------------------

/// One row of the customers file, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerLine {
    /// 1-based line of the file (the header is line 1).
    pub line: u64,
    pub org: String,
    pub external_ref: String,
}

const ORG_COLUMNS: [&str; 7] = [
    "org",
    "orgno",
    "org_no",
    "org_number",
    "orgnr",
    "organisation_number",
    "customer_org",
];
const REF_COLUMNS: [&str; 5] = ["external_ref", "externalref", "ext_ref", "reference", "ref"];

fn column_name(s: &str) -> String {
    s.trim()
        .trim_start_matches('\u{feff}')
        .to_ascii_lowercase()
        .replace([' ', '-'], "_")
}

/// Parse and check the whole file: a header naming the org number and external reference
/// columns (in that order), then at least one row; every org number valid (mod 11), every
/// reference valid, no (org, reference) twice. All problems are reported at once, with lines.
pub fn parse_customers_csv(bytes: &[u8], file: &str) -> Result<Vec<CustomerLine>, AppError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let header = reader
        .headers()
        .map_err(|e| AppError::usage(format!("{file}: cannot read the header line: {e}")))?;
    let cols: Vec<String> = header.iter().map(column_name).collect();
    let header_ok = cols.len() >= 2
        && ORG_COLUMNS.contains(&cols[0].as_str())
        && REF_COLUMNS.contains(&cols[1].as_str());
    if !header_ok {
        let seen = if cols.iter().all(|c| c.is_empty()) {
            "an empty file".to_string()
        } else {
            format!("`{}`", header.iter().collect::<Vec<_>>().join(","))
        };
        return Err(AppError::usage(format!(
            "{file}: line 1 must be a header naming the org number and external reference columns, e.g. `org,external_ref`; found {seen}\n  hint: the first column is the customer's organisation number, the second the external reference (any further columns are ignored)"
        )));
    }
    let mut problems = Vec::new();
    let mut lines = Vec::new();
    let mut first_line: HashMap<(String, String), u64> = HashMap::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                problems.push(format!("line {line}: not valid CSV ({e})"));
                continue;
            }
        };
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        if record.iter().all(|f| f.is_empty()) {
            continue;
        }
        let org = match crate::validate::org_number(record.get(0).unwrap_or("")) {
            Ok(o) => o,
            Err(e) => {
                problems.push(format!("line {line}: {e}"));
                continue;
            }
        };
        let external_ref = match record.get(1).unwrap_or("") {
            "" => org.clone(),
            r => match crate::validate::external_ref(r) {
                Ok(r) => r,
                Err(e) => {
                    problems.push(format!("line {line}: {e}"));
                    continue;
                }
            },
        };
        let key = (org.clone(), external_ref.clone());
        if let Some(first) = first_line.get(&key) {
            problems.push(format!(
                "line {line}: {org} with external reference `{external_ref}` repeats line {first}"
            ));
            continue;
        }
        first_line.insert(key, line);
        lines.push(CustomerLine {
            line,
            org,
            external_ref,
        });
    }
    if !problems.is_empty() {
        let n = problems.len();
        let shown: Vec<String> = problems.into_iter().take(50).collect();
        return Err(AppError::usage(format!(
            "{file}: {n} problem{} (nothing was sent):\n  {}{}",
            if n == 1 { "" } else { "s" },
            shown.join("\n  "),
            if n > 50 { "\n  ..." } else { "" }
        )));
    }
    if lines.is_empty() {
        return Err(AppError::usage(format!(
            "{file}: no customers after the header (nothing was sent)\n  hint: one line per customer: `<org number>,<external reference>`"
        )));
    }
    Ok(lines)
}

/// What happened to one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RowOutcome {
    /// A new request was made.
    Created,
    /// A request for this customer and reference existed already (it was not made again).
    Found,
    /// Altinn refused the request; `reason` says why.
    Refused,
}

#[derive(Debug, Clone, Serialize)]
pub struct BulkRow {
    pub line: u64,
    pub org: String,
    pub external_ref: String,
    pub outcome: RowOutcome,
    pub request_id: Option<String>,
    pub status: Option<RequestStatus>,
    /// The customer's status (pending, accepted, ...), as `customers` shows it.
    pub customer_status: Option<CustomerStatus>,
    /// Why it was refused: Altinn's code and message.
    pub reason: Option<String>,
}

/// `request create --customers FILE --json`.
#[derive(Debug, Serialize)]
pub struct BulkOutput {
    pub system_id: String,
    pub kind: &'static str,
    pub total: usize,
    pub created: usize,
    pub found: usize,
    pub refused: usize,
    pub rows: Vec<BulkRow>,
}

/// Requests in flight at once: enough to hide latency, few enough not to be throttled.
const CONCURRENCY: usize = 4;
/// The profile is saved after this many answered rows (and at the end).
const SAVE_EVERY: usize = 20;

pub async fn request_create_many(
    ctx: &Ctx,
    agent: bool,
    file: &Path,
    no_preflight: bool,
) -> Result<i32, AppError> {
    let shown = file.display().to_string();
    let bytes = crate::files::read_capped_nofollow(file, crate::files::MAX_SMALL_FILE)
        .map_err(|e| AppError::usage(format!("cannot read {shown}: {e}")))?;
    // Every row is checked before the profile, the network or the sandbox is touched.
    let lines = parse_customers_csv(&bytes, &shown)?;
    with_flow(ctx, |mut flow, session| async move {
        let r = async {
            // The body for each row is the flow's own (the system's rights and packages).
            let mut bodies = Vec::with_capacity(lines.len());
            for l in &lines {
                let form = RequestForm {
                    customer_org: l.org.clone(),
                    agent,
                    external_ref: l.external_ref.clone(),
                };
                bodies.push(flow.build_request(&form).map_err(|e| AppError::from(&e))?);
            }
            // The same rights go to every customer: one pre-flight for the whole file.
            session.runner.set_preflight(!no_preflight);
            let checked = session
                .runner
                .preflight_request(&flow.profile, &bodies[0], agent)
                .await;
            super::preflight_notes(ctx, &session);
            checked?;
            let write = session
                .runner
                .vendor_token(&flow.profile, SCOPE_REQUEST_WRITE, false)
                .await?
                .token;
            let read = session
                .runner
                .vendor_token(&flow.profile, SCOPE_REQUEST_READ, false)
                .await?
                .token;
            let system_id = bodies[0].system_id.clone();
            ctx.out.info(format!(
                "{} customers in {shown}; asking {CONCURRENCY} at a time",
                lines.len()
            ));
            let queue: Mutex<VecDeque<(CustomerLine, CreateRequest)>> =
                Mutex::new(lines.iter().cloned().zip(bodies).collect());
            let shared = Progress {
                profile: Mutex::new(flow.profile.clone()),
                rows: Mutex::new(Vec::new()),
                total: lines.len(),
            };
            let altinn = session.runner.altinn();
            let worker = || run_rows(ctx, altinn, &write, &read, agent, &queue, &shared);
            let results = tokio::join!(worker(), worker(), worker(), worker());
            // A save that failed midway is reported once the run is over.
            for r in [results.0, results.1, results.2, results.3] {
                r?;
            }
            let mut rows = shared.rows.into_inner().unwrap_or_else(|p| p.into_inner());
            rows.sort_by_key(|r| r.line);
            flow.profile = shared
                .profile
                .into_inner()
                .unwrap_or_else(|p| p.into_inner());
            ctx.save(&mut flow.profile)?;
            let count = |o| rows.iter().filter(|r| r.outcome == o).count();
            let v = BulkOutput {
                system_id,
                kind: if agent { "agent" } else { "standard" },
                total: rows.len(),
                created: count(RowOutcome::Created),
                found: count(RowOutcome::Found),
                refused: count(RowOutcome::Refused),
                rows,
            };
            ctx.out.result(&v, || {
                let mut text = format!(
                    "{} customers: {} created, {} found, {} refused",
                    v.total, v.created, v.found, v.refused
                );
                for r in v.rows.iter().filter(|r| r.outcome == RowOutcome::Refused) {
                    text += &format!(
                        "\n  line {}: {} ({}): {}",
                        r.line,
                        r.org,
                        r.external_ref,
                        r.reason.as_deref().unwrap_or("refused")
                    );
                }
                text
            });
            Ok(if v.refused > 0 {
                exit::REJECTED
            } else {
                exit::OK
            })
        }
        .await;
        (r, session)
    })
    .await
}

struct Progress {
    profile: Mutex<Profile>,
    rows: Mutex<Vec<BulkRow>>,
    total: usize,
}

/// One worker: take rows off the queue until it is empty; record each answer in the profile
/// and save it every [`SAVE_EVERY`] rows, so an interrupted run keeps what it learnt (and a
/// re-run finds the requests it made either way).
async fn run_rows(
    ctx: &Ctx,
    altinn: &AltinnClient,
    write: &Secret,
    read: &Secret,
    agent: bool,
    queue: &Mutex<VecDeque<(CustomerLine, CreateRequest)>>,
    shared: &Progress,
) -> Result<(), AppError> {
    loop {
        let next = queue.lock().unwrap_or_else(|p| p.into_inner()).pop_front();
        let Some((line, body)) = next else {
            return Ok(());
        };
        let (row, info) = one_row(altinn, write, read, agent, &line, &body).await;
        let done = {
            let mut rows = shared.rows.lock().unwrap_or_else(|p| p.into_inner());
            rows.push(row);
            rows.len()
        };
        let snapshot = {
            let mut p = shared.profile.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(info) = info {
                let kind = if agent {
                    RequestKind::Agent
                } else {
                    RequestKind::Standard
                };
                p.customer_mut(&line.org).note_request(CustomerRequest {
                    external_ref: Some(line.external_ref.clone()),
                    ..domain::listed_request(&info, kind, Utc::now())
                });
            } else {
                p.customer_mut(&line.org);
            }
            (done % SAVE_EVERY == 0).then(|| p.clone())
        };
        if done % 10 == 0 || done == shared.total {
            ctx.out.info(format!("{done}/{} customers", shared.total));
        }
        if let Some(mut p) = snapshot {
            // Whole-file atomic writes; the final save at the end writes the complete list.
            ctx.save(&mut p)?;
        }
    }
}

/// Find the row's request (by external reference), or create it.
async fn one_row(
    altinn: &AltinnClient,
    write: &Secret,
    read: &Secret,
    agent: bool,
    line: &CustomerLine,
    body: &CreateRequest,
) -> (BulkRow, Option<RequestInfo>) {
    let row = |outcome, info: Option<&RequestInfo>, reason: Option<String>| BulkRow {
        line: line.line,
        org: line.org.clone(),
        external_ref: line.external_ref.clone(),
        outcome,
        request_id: info.map(|i| i.id.clone()),
        status: info.map(|i| i.status.clone()),
        customer_status: info.map(|i| CustomerStatus::of_request(&i.status, i.timed_out)),
        reason,
    };
    let refused = |e: crate::altinn::client::AltinnError| {
        let f = Failure::from(e);
        let reason = match &f.code {
            Some(code) if !f.message.contains(code.as_str()) => format!("{code}: {}", f.message),
            _ => f.message.clone(),
        };
        (
            row(RowOutcome::Refused, None, Some(first_line(&reason))),
            None,
        )
    };
    match altinn
        .get_request_by_external_ref(
            read,
            &body.system_id,
            &line.org,
            Some(&line.external_ref),
            agent,
        )
        .await
    {
        Ok(Some(info)) => return (row(RowOutcome::Found, Some(&info), None), Some(info)),
        Ok(None) => {}
        Err(e) => return refused(e),
    }
    match altinn.create_request(write, body, agent).await {
        Ok(c) => {
            let outcome = if c.newly_created {
                RowOutcome::Created
            } else {
                RowOutcome::Found
            };
            (row(outcome, Some(&c.request), None), Some(c.request))
        }
        Err(e) => refused(e),
    }
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or(s).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        parse_customers_csv(text.as_bytes(), "c.csv")
            .expect_err("refused")
            .message
    }

    #[test]
    fn a_good_file_with_extras_quotes_and_a_default_reference() {
        let rows = parse_customers_csv(
            "Org Number,External-Ref,Note\n312345676,havbris-1,\"Bakery, Bergen\"\n313456781,,\n\n"
                .as_bytes(),
            "c.csv",
        )
        .expect("parsed");
        assert_eq!(
            rows,
            [
                CustomerLine {
                    line: 2,
                    org: "312345676".into(),
                    external_ref: "havbris-1".into()
                },
                CustomerLine {
                    line: 3,
                    org: "313456781".into(),
                    external_ref: "313456781".into()
                },
            ]
        );
    }

    #[test]
    fn every_problem_is_reported_with_its_line() {
        assert!(err("").contains("an empty file"), "{}", err(""));
        assert!(err("name,org\nx,312345676\n").contains("line 1 must be a header"));
        assert!(err("org,external_ref\n").contains("no customers after the header"));
        let e = err(
            "org,external_ref\n312345676,a\n312345677,b\n312345676,a\n313456781,bad ref\n312345676,b\n",
        );
        assert!(e.contains("3 problems (nothing was sent)"), "{e}");
        assert!(e.contains("line 3: "), "{e}");
        assert!(
            e.contains("line 4: 312345676 with external reference `a` repeats line 2"),
            "{e}"
        );
        assert!(e.contains("line 5: "), "{e}");
        assert!(!e.contains("line 6"), "{e}");
    }
}
