//! Command-line arguments (clap derive). Flags override `ALTINN_ONBOARD_*` environment
//! variables, which override the profile.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

// The options every command and the wizard share live with the shared context.
pub use crate::app::{EnvArg, GlobalArgs};

#[derive(Debug, Parser)]
#[command(
    name = "altinn-onboard",
    version,
    about = "Onboard a vendor system to Altinn 3 system users: Maskinporten client, system register, customer approval, test call.",
    long_about = "Onboard a vendor system to Altinn 3 system users (systembruker).\n\n\
        Without a command, opens the step-by-step wizard. Every step is also a command below, \
        for scripts and CI (add --json for machine-readable output).\n\n\
        The default environment is the embedded sandbox, which emulates Maskinporten and the \
        Altinn authentication API locally.",
    after_help = "Exit codes: 0 success, 1 usage or validation error (also: a failed doctor check), 2 rejected by the remote (4xx), \
        3 network or server failure, 4 request rejected or denied by the customer, 5 still pending when --wait timed out."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open the interactive wizard (the default).
    Wizard,
    /// Generate, import or show the client's RSA key.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Maskinporten client details.
    #[command(subcommand)]
    Client(ClientCommand),
    /// The vendor's system in Altinn's system register.
    #[command(subcommand)]
    System(SystemCommand),
    /// System user requests to a customer.
    #[command(subcommand)]
    Request(RequestCommand),
    /// Search resources and access packages; check the system's rights before sending them.
    #[command(subcommand)]
    Rights(super::rights::RightsCommand),
    /// An agent (client) system user: which clients it may act for; the facilitator's
    /// add/remove client (sandbox only; on TT02/prod the facilitator does it in Altinn).
    #[command(subcommand)]
    Agent(super::agent::AgentCommand),
    /// Get a Maskinporten token (a vendor token, or with --system-user a system-user token).
    Token(TokenArgs),
    /// Call an API with a system-user token and show status, timing and body.
    Call(CallArgs),
    /// Every customer of the system at a glance: one row per customer (all pages of Altinn's
    /// requests and system users), with status, system user, rights and the last token check.
    Customers(super::customers::CustomersArgs),
    /// List, show or remove profiles.
    #[command(subcommand)]
    Profile(ProfileCommand),
    /// Check the profile, key, clock, connectivity and the system-user setup; explain failures.
    Doctor,
    /// The embedded Maskinporten + Altinn emulator.
    #[command(subcommand)]
    Sandbox(SandboxCommand),
    /// A local token service for your own code (texas-compatible; it holds the key).
    #[command(subcommand)]
    Tokens(super::tokens::TokensCommand),
    /// Write settings or code that gets the system-user token in your own product.
    Export(super::tokens::ExportArgs),
    /// Print shell completions.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), or write altinn-onboard.1 and a page per subcommand into DIR.
    #[command(hide = true)]
    Man {
        /// Directory to write the pages into (created if missing).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Generate a new RSA key pair; the private key is written 0600 under the config directory.
    Generate {
        #[arg(long, default_value_t = 2048, value_parser = parse_bits)]
        bits: u32,
        /// Key id (default: the RFC 7638 thumbprint).
        #[arg(long)]
        kid: Option<String>,
        /// Replace a key that is already registered with the profile's client (the client
        /// must then get the new public key: `client set`, or an upload in the portal).
        #[arg(long)]
        replace: bool,
    },
    /// Import an existing private key: a file (PEM, JWK or base64 JWK) or `-` for stdin.
    Import {
        source: String,
        #[arg(long)]
        kid: Option<String>,
        /// Replace a key that is already registered with the profile's client.
        #[arg(long)]
        replace: bool,
    },
    /// Show the kid, key path and public JWK.
    Show {
        /// Print the JWKS (`{"keys": [...]}`) as Maskinporten's API takes it.
        #[arg(long)]
        jwks: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Set the vendor org, client id and scopes. On the sandbox this also registers the client.
    Set {
        /// The vendor's organisation number. Optional when the profile has one; on a shared
        /// sandbox (a `sandbox serve`, `--env custom`) a fresh one of your own is made up, so
        /// workshop participants never share a system; on the embedded sandbox a seeded one.
        #[arg(long)]
        vendor_org: Option<String>,
        /// Client id from Maskinporten's self-service portal (assigned by the sandbox if left out there).
        #[arg(long)]
        client_id: Option<String>,
        /// Space-separated scopes.
        #[arg(
            long,
            default_value = "altinn:authentication/systemregister.write altinn:authentication/systemuser.request.write altinn:authentication/systemuser.request.read"
        )]
        scope: String,
        /// TT02/prod: confirm the public JWK is uploaded to this client in the portal.
        #[arg(long)]
        confirm_uploaded: bool,
        /// TT02/prod: the kid the self-service portal shows for your key, when it is not the
        /// key's own (a key uploaded as PEM gets one from the portal; an uploaded JWK keeps its
        /// kid). Grants then name this kid. `--kid ""` goes back to the key's own.
        #[arg(long)]
        kid: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum SystemCommand {
    /// Create or update the system (idempotent; shows what changed).
    Register(SystemArgs),
    /// Show the system as the register has it.
    Show,
}

#[derive(Debug, Args)]
pub struct SystemArgs {
    /// A system definition in the register's JSON format (id, name, description, rights, accessPackages, ...).
    #[arg(long)]
    pub file: Option<PathBuf>,
    /// Short name; the system id becomes `<vendorOrg>_<name>`.
    #[arg(long)]
    pub name: Option<String>,
    #[arg(long)]
    pub display_name: Option<String>,
    #[arg(long)]
    pub description: Option<String>,
    /// Resource id for a right (repeatable), e.g. ske-krav-og-betalinger.
    #[arg(long = "resource")]
    pub resources: Vec<String>,
    /// Access package URN (repeatable), e.g. urn:altinn:accesspackage:skatt-naering.
    #[arg(long = "access-package")]
    pub access_packages: Vec<String>,
    /// Allowed redirect URL (repeatable).
    #[arg(long = "redirect-url")]
    pub redirect_urls: Vec<String>,
    /// Register the system as not visible in the customer's system list.
    #[arg(long)]
    pub invisible: bool,
    /// Skip the pre-flight check of the rights against the public metadata (the register
    /// then decides alone).
    #[arg(long)]
    pub no_preflight: bool,
}

#[derive(Debug, Subcommand)]
pub enum RequestCommand {
    /// Ask a customer organisation for a system user.
    Create {
        #[arg(long)]
        agent: bool,
        /// Customer organisation number (defaults to the profile's).
        #[arg(long)]
        customer_org: Option<String>,
        #[arg(long)]
        external_ref: Option<String>,
        /// Open the approval page in the browser (on the embedded sandbox this implies --wait:
        /// the page only exists while the command runs).
        #[arg(long)]
        open: bool,
        /// Keep the approval page up and wait for the customer's answer, showing the status
        /// (exit 0 accepted, 4 rejected, 5 still pending at the timeout). On the embedded
        /// sandbox this is what keeps the printed confirmUrl working.
        #[arg(long)]
        wait: bool,
        /// Seconds to wait with --wait.
        #[arg(long, default_value_t = 600, requires = "wait")]
        timeout: u64,
        /// Ask many customers at once: a CSV file with a header and the columns org number,
        /// external reference (then any others, ignored). Every row is checked before anything
        /// is sent; safe to re-run (existing requests are found, not made again).
        #[arg(long, value_name = "FILE.csv", conflicts_with_all = ["customer_org", "external_ref", "open", "wait"])]
        customers: Option<PathBuf>,
        /// Skip the pre-flight check of the rights against the public metadata (the service
        /// then decides alone).
        #[arg(long)]
        no_preflight: bool,
    },
    /// Add rights or access packages to a customer's existing system user: a change request
    /// the customer approves (exit codes as `request create --wait`; a system user that has
    /// them already is `NoChangeNeeded`, exit 0).
    Change {
        /// Resource id to add (repeatable); it must be registered on the system.
        #[arg(long = "add-resource", value_name = "RESOURCE")]
        add_resources: Vec<String>,
        /// Access package to add (repeatable), e.g. skatt-naering; registered on the system.
        #[arg(long = "add-package", value_name = "PACKAGE")]
        add_packages: Vec<String>,
        /// Customer organisation number (defaults to the profile's).
        #[arg(long)]
        customer_org: Option<String>,
        /// Open the approval page in the browser (on the embedded sandbox this implies --wait).
        #[arg(long)]
        open: bool,
        /// Wait for the customer's answer (exit 0 accepted, 4 rejected, 5 still pending).
        #[arg(long)]
        wait: bool,
        /// Seconds to wait with --wait.
        #[arg(long, default_value_t = 600, requires = "wait")]
        timeout: u64,
    },
    /// Show the current request's status.
    Status {
        /// Request or change request id (default: the profile's newest).
        #[arg(long)]
        id: Option<String>,
        /// Poll until it is accepted, rejected or the timeout passes (exit 5 if still pending).
        #[arg(long)]
        wait: bool,
        /// Seconds the whole command may take, connects and reads included (with --wait: how
        /// long to wait for a final answer). Exit 5 when an answer came and is still pending,
        /// exit 3 when no answer came in time.
        #[arg(long, default_value_t = 600)]
        timeout: u64,
    },
    /// List the system's requests (all pages).
    List,
}

#[derive(Debug, Args)]
pub struct TokenArgs {
    /// A system-user token for the profile's customer (authorization_details urn:altinn:systemuser).
    #[arg(long)]
    pub system_user: bool,
    /// Print the token itself (it is a credential: handle with care).
    #[arg(long)]
    pub show: bool,
    /// Bypass the token cache.
    #[arg(long)]
    pub fresh: bool,
    /// Scopes to ask for (default: the client's scopes).
    #[arg(long)]
    pub scope: Option<String>,
}

#[derive(Debug, Args)]
pub struct CallArgs {
    /// The URL to call (default: the environment's reference API).
    pub url: Option<String>,
    #[arg(long, default_value = "GET")]
    pub method: String,
    /// JSON body (for POST/PUT).
    #[arg(long)]
    pub data: Option<String>,
    /// Scopes for the system-user token (default: the client's scopes).
    #[arg(long)]
    pub scope: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum ProfileCommand {
    List,
    Show,
    Rm { name: String },
}

#[derive(Debug, Subcommand)]
pub enum SandboxCommand {
    /// Run the sandbox as a server (Ctrl-C stops it).
    Serve {
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// Address to bind (loopback unless you mean to share it, e.g. in a workshop: 0.0.0.0).
        #[arg(long, default_value = "127.0.0.1")]
        bind: std::net::IpAddr,
        /// Keep state in this JSON file (default: in memory).
        #[arg(long)]
        state: Option<PathBuf>,
        /// Let system rights name resources the sandbox's catalogue lacks (any well-formed id
        /// then counts as a delegable resource). Default: unknown resources are refused with
        /// AUTH.VLD-00003, as in TT02.
        #[arg(long)]
        any_resource: bool,
        /// Accepted for old scripts; strict resources are now the default (no effect).
        #[arg(long, hide = true, conflicts_with = "any_resource")]
        strict_resources: bool,
        /// Inject faults from this JSON plan (latency, 5xx, 429, dropped connections, bad
        /// JSON, a skewed clock); see `PUT /sandbox/faults` to change it while running.
        #[arg(long)]
        faults: Option<PathBuf>,
        /// The URL others reach this sandbox at (e.g. http://192.168.1.20:8088): confirmUrl
        /// links and the issuer use it. Default: the address each caller's connection
        /// reached. Requests naming another Host get 421.
        #[arg(long, value_parser = parse_public_url)]
        public_url: Option<url::Url>,
    },
    /// List the seeded organisations and their people (who approves, who is refused and why).
    Orgs,
    /// Approve a request as the customer would (sandbox only), with the checks Altinn makes
    /// at approval; a refusal says which right or package and what to change (exit 2).
    Approve {
        /// Request id (default: the profile's newest request).
        id: Option<String>,
        /// Act as this seeded person of the customer organisation (handle or name, see
        /// `sandbox orgs`); default: its access manager.
        #[arg(long = "as", value_name = "PERSON")]
        person: Option<String>,
    },
    /// Reject a request as the customer would (sandbox only).
    Reject {
        /// Request id (default: the profile's newest request).
        id: Option<String>,
        /// Act as this seeded person of the customer organisation (see `sandbox orgs`).
        #[arg(long = "as", value_name = "PERSON")]
        person: Option<String>,
    },
}

fn parse_public_url(s: &str) -> Result<url::Url, String> {
    let u = url::Url::parse(s.trim()).map_err(|e| format!("not a URL ({e})"))?;
    if !matches!(u.scheme(), "http" | "https")
        || u.host_str().is_none()
        || u.path() != "/"
        || u.query().is_some()
        || u.fragment().is_some()
        || !u.username().is_empty()
    {
        return Err("give the base only, e.g. http://192.168.1.20:8088".into());
    }
    Ok(u)
}

fn parse_bits(s: &str) -> Result<u32, String> {
    match s.trim() {
        "2048" => Ok(2048),
        "3072" => Ok(3072),
        "4096" => Ok(4096),
        other => Err(format!(
            "`{other}` is not a supported key size: use 2048 (what Maskinporten's portal expects), 3072 or 4096"
        )),
    }
}
