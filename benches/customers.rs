//! `customers` for many customers (issue 12): how long the overview of 500 customers takes on
//! the sandbox (11 pages of requests and 5 of system users at Altinn's 50 a page).
//!
//! `cargo bench --bench customers [-- --customers N --iters I]`
//!
//! One in-process sandbox that knows N generated organisation numbers; the flow registers a
//! client and a system; N requests are made (through the same client as `request create`) and
//! every other one approved. Then:
//! - in process: `customers::load_for_profile` (tokens from the cache after the first) plus
//!   `customers::rows`, I times;
//! - as the CLI: `altinn-onboard customers --json` on that profile (process start, profile,
//!   tokens from the file cache, every page, the fold, the profile's save), I times.

mod common;

use altinn_onboard::customers;
use altinn_onboard::env::{EnvKind, EnvSetting, Environment};
use altinn_onboard::flow::{Msg, RequestForm, Step};
use altinn_onboard::maskinporten::TokenCache;
use altinn_onboard::profile::ProfileStore;
use altinn_onboard::runner::Runner;
use altinn_onboard::sandbox::{self, SandboxConfig, SandboxOptions};
use altinn_onboard::validate::org_check_digit;
use common::{Samples, drive, expect_step, fmt};
use std::sync::Arc;
use std::time::Instant;

/// `n` valid organisation numbers (mod 11) outside the seeded ones.
fn org_numbers(n: usize) -> Vec<String> {
    (97_200_001u32..)
        .filter_map(|base| {
            let digits: Vec<u32> = base
                .to_string()
                .chars()
                .filter_map(|c| c.to_digit(10))
                .collect();
            org_check_digit(&digits).map(|check| format!("{base}{check}"))
        })
        .take(n)
        .collect()
}

fn main() {
    let n = common::arg_usize("--customers", 500);
    let iters = common::arg_usize("--iters", 10);
    println!("== customers: {n} customers, {iters} runs each");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let orgs = org_numbers(n);
        let sb = sandbox::start_with(
            SandboxConfig::default(),
            SandboxOptions {
                known_orgs: orgs.clone(),
                ..Default::default()
            },
        )
        .await
        .expect("sandbox");
        let env =
            Environment::from_parts(EnvKind::Sandbox, &sb.issuer(), &sb.base_url()).expect("env");
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Arc::new(ProfileStore::at(dir.path()));
        let runner = Runner::new(
            env.clone(),
            store.clone(),
            Arc::new(TokenCache::in_memory()),
        )
        .expect("http client");
        let mut flow = common::new_flow("bench");
        drive(
            &mut flow,
            &runner,
            Msg::SelectEnvironment(EnvSetting::new(EnvKind::Sandbox)),
        )
        .await;
        drive(
            &mut flow,
            &runner,
            Msg::GenerateKey {
                bits: 2048,
                kid: None,
            },
        )
        .await;
        drive(&mut flow, &runner, common::client_msg()).await;
        drive(
            &mut flow,
            &runner,
            Msg::SubmitSystem(common::system_form("customersbench")),
        )
        .await;
        expect_step(&flow, Step::Request, "system");

        let setup = Instant::now();
        let write = runner
            .vendor_token(
                &flow.profile,
                altinn_onboard::altinn::client::SCOPE_REQUEST_WRITE,
                false,
            )
            .await
            .expect("token")
            .token;
        let http = reqwest::Client::new();
        for (i, org) in orgs.iter().enumerate() {
            let body = flow
                .build_request(&RequestForm {
                    customer_org: org.clone(),
                    agent: false,
                    external_ref: format!("bench-{i}"),
                })
                .expect("body");
            let created = runner
                .altinn()
                .create_request(&write, &body, false)
                .await
                .expect("create");
            if i % 2 == 0 {
                let resp = http
                    .post(format!(
                        "{}/sandbox/requests/{}/approve",
                        sb.base_url(),
                        created.request.id
                    ))
                    .send()
                    .await
                    .expect("approve");
                assert!(resp.status().is_success());
            }
        }
        println!(
            "setup: {n} requests, {} approved, in {}",
            n.div_ceil(2),
            fmt(setup.elapsed())
        );

        let mut in_process = Samples::default();
        let mut pages = 0;
        for _ in 0..=iters {
            let t = Instant::now();
            let listing = customers::load_for_profile(&runner, &flow.profile, &mut |_| {})
                .await
                .expect("load");
            let rows = customers::rows(&listing, &flow.profile.customers, &|_| None);
            let d = t.elapsed();
            assert_eq!(rows.len(), n, "every customer");
            pages = listing.pages;
            // The first run fetched the two tokens; the rest measure the lists.
            if in_process.len() < iters && pages > 0 {
                in_process.push(d);
            }
        }

        store.save(&mut flow.profile).expect("save profile");
        let args = [
            "--profile".to_string(),
            "bench".into(),
            "--env".into(),
            "sandbox".into(),
            "--maskinporten-url".into(),
            sb.issuer(),
            "--altinn-url".into(),
            sb.base_url(),
            "--quiet".into(),
            "customers".into(),
            "--json".into(),
        ];
        let home = dir.path().to_path_buf();
        let mut cli = Samples::default();
        for i in 0..=iters {
            let (home, args) = (home.clone(), args.clone());
            let t = Instant::now();
            let out = tokio::task::spawn_blocking(move || {
                std::process::Command::new(common::bin())
                    .env("ALTINN_ONBOARD_HOME", &home)
                    .args(&args)
                    .output()
                    .expect("run")
            })
            .await
            .expect("join");
            let d = t.elapsed();
            assert!(
                out.status.success(),
                "customers failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
            assert_eq!(v["count"], n);
            // The first run fills the token cache.
            if i > 0 {
                cli.push(d);
            }
        }
        println!();
        in_process.report(&format!("in process: {pages} pages, fold"));
        cli.report("CLI `customers --json` (process)");
        println!(
            "median: in process {}   CLI {}   ({} pages)",
            fmt(in_process.median()),
            fmt(cli.median()),
            pages
        );
        sb.shutdown().await;
    });
}
