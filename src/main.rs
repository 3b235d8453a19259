//! The `altinn-onboard` binary: parse arguments, set up logging, run the CLI or the wizard.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = altinn_onboard::cli::args::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(3);
        }
    };
    let code = runtime.block_on(altinn_onboard::cli::run(cli));
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}
