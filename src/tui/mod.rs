//! PLACEHOLDER: the wizard is being built (owner: the TUI helper).

pub async fn run_wizard(_ctx: &crate::cli::Ctx) -> Result<i32, crate::cli::CliError> {
    Err(crate::cli::CliError::usage("the wizard is not built yet; use the subcommands (see --help)"))
}
