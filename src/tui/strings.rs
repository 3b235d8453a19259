//! All explanatory text the wizard shows, in one place (gitui's `strings.rs` habit), so wording
//! can be reviewed and changed without reading layout code.

use crate::env::EnvKind;
use crate::flow::Step;

pub const APP_NAME: &str = "altinn-onboard";

/// Two or three plain sentences per step: what happens and why.
pub fn explanation(step: Step, env: EnvKind) -> &'static str {
    let real = matches!(env, EnvKind::Tt02 | EnvKind::Prod);
    match step {
        Step::Environment => {
            "Choose where to onboard. The sandbox runs inside this program and needs no accounts, \
             so it is the place to learn; TT02 is Altinn's test environment and PROD reaches real \
             customers."
        }
        Step::Key if real => {
            "Your system proves who it is to Maskinporten by signing with a private key. Generate \
             (or import) an RSA key here; it stays on this machine, and you upload only the \
             public part (the JWK) to your client in Digdir's self-service portal."
        }
        Step::Key => {
            "Your system proves who it is to Maskinporten by signing with a private key. Generate \
             (or import) an RSA key here; it stays on this machine and only its public part is \
             shared. On the sandbox the client is registered with it automatically next."
        }
        Step::Client if real => {
            "A Maskinporten client is your system's identity. Create it in the self-service \
             portal for your organisation with the scopes below, upload the public JWK to it, \
             and enter its client id here."
        }
        Step::Client => {
            "A Maskinporten client is your system's identity: it holds the public key and the \
             scopes your system may ask for. On the sandbox this step creates the client for \
             you; the client id is optional (one is assigned)."
        }
        Step::System => {
            "Register your system (the software product) in Altinn's system register. It lists \
             the rights (resources) or access packages a customer is asked to delegate, and \
             links the Maskinporten client to the system."
        }
        Step::Request => {
            "Ask a customer organisation for a system user: an identity inside the customer's \
             organisation that your system acts as. Standard requests ask for the system's \
             rights; agent requests are for client relations (e.g. accounting firms)."
        }
        Step::Approval => {
            "Someone with authority in the customer organisation must approve the request in \
             Altinn. Open the link (or scan the QR code) and approve; the wizard then waits for \
             the answer."
        }
        Step::Polling => {
            "Waiting for the customer's answer. The wizard asks Altinn for the request's status, \
             backing off between checks; approval or rejection shows up within one interval."
        }
        Step::TestCall => {
            "Prove that it works: get a system-user token from Maskinporten for the customer and \
             call an API with it. The token's decoded claims are shown; the token itself never is."
        }
        Step::Done => {
            "Your system can now act for the customer. Below is what was created, and the CLI \
             commands that repeat it without the wizard (for scripts and CI)."
        }
    }
}

/// What the spinner says while an effect runs.
pub fn busy_text(busy: crate::flow::Busy) -> &'static str {
    use crate::flow::Busy;
    match busy {
        Busy::Key => "working on the key (generating a 2048-bit RSA key takes a moment)…",
        Busy::Client => "registering the Maskinporten client…",
        Busy::System => "getting a token and registering the system…",
        Busy::Request => "creating the system user request…",
        Busy::Browser => "opening the browser…",
        Busy::Polling => "waiting for approval…",
        Busy::TestCall => "getting a system-user token and calling the API…",
    }
}

pub const HELP_INTRO: &str = "The wizard walks through every step needed for a working Altinn \
    system user. Progress is saved in the profile after each step: quit at any time and run \
    `altinn-onboard` again to continue where you left off.";
