//! Text the wizard shows that belongs to no single step: the name, what the spinner says per
//! kind of work, the help overlay's introduction. Each step's own texts are in its module
//! under `steps`.

pub const APP_NAME: &str = "altinn-onboard";

/// What the spinner says while an effect runs.
pub fn busy_text(busy: crate::flow::Busy) -> &'static str {
    use crate::flow::Busy;
    match busy {
        Busy::Key => "working on the key (generating a 2048-bit RSA key takes a moment)…",
        Busy::Client => "registering the Maskinporten client…",
        Busy::System => "getting a token and registering the system…",
        Busy::Request => "creating the system user request…",
        Busy::Change => "finding the system user and creating the change request…",
        Busy::Browser => "opening the browser…",
        Busy::Polling => "waiting for approval…",
        Busy::TestCall => "getting a system-user token and calling the API…",
    }
}

pub const HELP_INTRO: &str = "The wizard walks through every step needed for a working Altinn \
    system user. Progress is saved in the profile after each step: quit at any time and run \
    `altinn-onboard` again to continue where you left off.";

pub const CUSTOMERS_HELP: &str = "Every customer of the system, from every page of Altinn's lists \
    of requests, agent requests and system users: one row per organisation. A row's keys act on \
    the customer selected (it becomes the wizard's current customer); pgup/pgdn and home/end \
    scroll. The list is saved in the profile; `altinn-onboard customers` prints it too.";
