//! The `altinn-onboard` binary: parse arguments, run the CLI or the wizard, exit with the
//! documented code.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match altinn_onboard::cli::args::Cli::try_parse() {
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
    // The wizard logs to a file of its own; only commands log to stderr.
    if !matches!(
        cli.command,
        None | Some(altinn_onboard::cli::args::Command::Wizard)
    ) {
        altinn_onboard::cli::init_logging(&cli.global);
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
    let code = runtime.block_on(altinn_onboard::cli::run(cli));
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}
