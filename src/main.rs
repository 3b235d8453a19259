//! The `altinn-onboard` binary: parse arguments, then run the wizard or one command over the
//! shared context (`app`), and exit with the documented code. This is the one place that
//! knows both `cli` and `tui`.

use altinn_onboard::app::{Ctx, exit, init_logging};
use altinn_onboard::cli::args::{Cli, Command};
use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version are successes; every other parse error is a usage error,
            // which this tool documents as exit code 1 (clap's own default is 2, which here
            // means "rejected by the remote").
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let wizard = matches!(cli.command, None | Some(Command::Wizard));
    // The wizard logs to a file of its own; only commands log to stderr.
    if !wizard {
        init_logging(&cli.global);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(3);
        }
    };
    let code = runtime.block_on(async move {
        let ctx = match Ctx::from_env(cli.global) {
            Ok(ctx) => ctx,
            Err(e) => {
                eprintln!("error: {e}");
                return exit::USAGE;
            }
        };
        match cli.command {
            Some(cmd) if !wizard => altinn_onboard::cli::run(&ctx, cmd).await,
            _ => match altinn_onboard::tui::run_wizard(&ctx).await {
                Ok(code) => code,
                Err(e) => {
                    ctx.out.error(&e);
                    e.exit_code
                }
            },
        }
    });
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}
