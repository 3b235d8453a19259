//! The customers screen's part of the flow (issue 12): loading every customer of the
//! profile's system page by page, folding the lists into rows, remembering them in the
//! profile, and the row actions (re-show a pending customer's approval link, check a token
//! for a customer, start a change request). Pure like the rest of the flow: the load is an
//! [`Effect::LoadCustomers`], its pages come back as [`Msg::CustomersProgress`] and its
//! result as [`Msg::CustomersLoaded`] (with the time it was read, so no clock is needed here).

use super::{ApiCall, Busy, Effect, ErrorKind, Failure, Flow, Msg, Step, resume_step};
use crate::customers::{self, CustomerRow, ListKind, Listing, LoadProgress};
use crate::env::EnvKind;
use crate::profile::{CustomerStatus, RequestKind, TestCallRecord, TokenCheck};
use chrono::{DateTime, Utc};

/// A finished load: every page of the three lists, and when they were read.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomersLoad {
    pub listing: Listing,
    pub at: DateTime<Utc>,
}

/// How far a load in flight has come, from its pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LoadState {
    /// Pages read so far, over the three lists.
    pub pages: usize,
    /// The last page's report.
    pub last: Option<LoadProgress>,
    /// Items read so far per list (requests, agent requests, system users).
    items: [usize; 3],
}

impl LoadState {
    /// Items read so far, over the three lists.
    pub fn items(&self) -> usize {
        self.items.iter().sum()
    }

    fn note(&mut self, p: LoadProgress) {
        self.pages += 1;
        let i = match p.list {
            ListKind::Requests => 0,
            ListKind::AgentRequests => 1,
            ListKind::SystemUsers => 2,
        };
        self.items[i] = p.items;
        self.last = Some(p);
    }
}

/// What the customers screen shows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CustomersView {
    /// The screen is up (over the current step, which stays as it was).
    pub shown: bool,
    /// Bumped by every load (and by a switch of environment): a result or page of an older
    /// load is dropped.
    pub generation: u64,
    /// Some while a load runs.
    pub loading: Option<LoadState>,
    /// The rows of the last finished load; `None` before the first.
    pub rows: Option<Vec<CustomerRow>>,
    /// When those rows were read, and over how many pages.
    pub loaded_at: Option<DateTime<Utc>>,
    pub pages: usize,
    /// Why the last load failed (the rows of an earlier one stay).
    pub error: Option<Failure>,
}

impl CustomersView {
    /// The row of `org`, from the last load.
    pub fn row(&self, org: &str) -> Option<&CustomerRow> {
        self.rows.as_ref()?.iter().find(|r| r.org == org)
    }
}

impl Flow {
    /// The messages of the customers screen (dispatched here from [`Flow::update`]).
    pub(super) fn customers_update(&mut self, msg: Msg) -> Vec<Effect> {
        match msg {
            Msg::OpenCustomers => {
                if self.profile.system_id().is_none() || self.profile.system_registered.is_none() {
                    self.fail(
                        self.step,
                        ErrorKind::Validation,
                        "register the system first: the customers are the system's (step 4)",
                    );
                    return vec![];
                }
                self.customers.shown = true;
                self.error = None;
                if self.customers.rows.is_none() && self.customers.loading.is_none() {
                    return self.load_customers();
                }
                vec![]
            }
            Msg::CloseCustomers => {
                // A load in flight goes on: its rows are there when the screen opens again.
                self.customers.shown = false;
                vec![]
            }
            Msg::LoadCustomers => {
                if self.customers.loading.is_some() {
                    return vec![];
                }
                self.load_customers()
            }
            Msg::CustomersProgress {
                generation,
                progress,
            } => {
                if generation == self.customers.generation
                    && let Some(l) = &mut self.customers.loading
                {
                    l.note(progress);
                }
                vec![]
            }
            Msg::CustomersLoaded { generation, result } => {
                if generation != self.customers.generation || self.customers.loading.is_none() {
                    return vec![];
                }
                self.customers.loading = None;
                match result {
                    Ok(CustomersLoad { listing, at }) => {
                        let sandbox = self.profile.environment.kind == EnvKind::Sandbox;
                        let name_of = |org: &str| {
                            if sandbox {
                                customers::sandbox_name(org)
                            } else {
                                None
                            }
                        };
                        // What the flow changed in place since (a token check, a polled
                        // status) reaches the customer list first, as the store does on save;
                        // `remember` does it again and gives the flow's records the lists'
                        // answers.
                        self.profile.sync_customers();
                        let rows = customers::rows(&listing, &self.profile.customers, &name_of);
                        customers::remember(&mut self.profile, &listing, &rows, at);
                        self.customers.rows = Some(rows);
                        self.customers.loaded_at = Some(at);
                        self.customers.pages = listing.pages;
                        self.customers.error = None;
                        vec![self.save()]
                    }
                    Err(f) => {
                        self.customers.error = Some(f);
                        vec![]
                    }
                }
            }
            Msg::SelectCustomer { org } => {
                let Some(row) = self.customer_row(&org, "select") else {
                    return vec![];
                };
                self.select_row(&row);
                let mut fx = Vec::new();
                // Altinn's lists carry no confirmUrl: ask for the request itself, which has it
                // (the approval step's refresh, quiet on failure).
                if row.status == CustomerStatus::Pending
                    && let Some(req) = self.profile.current_request()
                    && req.customer_org == org
                {
                    fx.push(Effect::RefreshRequest {
                        request_id: req.id.clone(),
                        agent: req.kind == RequestKind::Agent,
                    });
                }
                fx.push(self.save());
                fx
            }
            Msg::CheckCustomerToken { org } => {
                let Some(row) = self.customer_row(&org, "check a token for") else {
                    return vec![];
                };
                if row.status != CustomerStatus::Accepted {
                    self.fail(
                        self.step,
                        ErrorKind::Validation,
                        format!(
                            "{org} has no system user ({}): only an accepted customer's token can be checked",
                            status_words(row.status)
                        ),
                    );
                    return vec![];
                }
                self.select_row(&row);
                self.step = Step::TestCall;
                self.submit_test_call(ApiCall::default(), false)
            }
            Msg::StartChange { org } => {
                let Some(row) = self.customer_row(&org, "change the rights of") else {
                    return vec![];
                };
                if row.status != CustomerStatus::Accepted {
                    self.fail(
                        self.step,
                        ErrorKind::Validation,
                        format!(
                            "{org} has no system user to change ({}): a change request asks an accepted customer for more rights",
                            status_words(row.status)
                        ),
                    );
                    return vec![];
                }
                self.select_row(&row);
                self.customers.shown = false;
                self.step = Step::Done;
                self.notice = Some(format!(
                    "{} is the current customer: the Done step's change action asks it for more rights",
                    row_label(&row)
                ));
                vec![self.save()]
            }
            _ => unreachable!("not a customers-screen message: {msg:?}"),
        }
    }

    fn load_customers(&mut self) -> Vec<Effect> {
        self.customers.generation += 1;
        self.customers.loading = Some(LoadState::default());
        self.customers.error = None;
        vec![Effect::LoadCustomers {
            generation: self.customers.generation,
        }]
    }

    /// The session a load waited for could not open: the load never ran.
    pub(super) fn customers_load_dropped(&mut self, f: &Failure) {
        if self.customers.loading.take().is_some() {
            self.customers.error = Some(f.clone());
        }
    }

    /// A switch of environment or vendor: the rows belong to the old system.
    pub(super) fn reset_customers(&mut self) {
        self.customers = CustomersView {
            generation: self.customers.generation + 1,
            ..CustomersView::default()
        };
    }

    /// The row a row action is about; refused (with why) while other work runs or when the
    /// last load did not list it.
    fn customer_row(&mut self, org: &str, what: &str) -> Option<CustomerRow> {
        if self.busy.is_some_and(|b| b != Busy::Polling) {
            self.fail(
                self.step,
                ErrorKind::Validation,
                "wait for the work in progress to finish, then try again",
            );
            return None;
        }
        match self.customers.row(org).cloned() {
            Some(row) => Some(row),
            None => {
                self.fail(
                    self.step,
                    ErrorKind::Validation,
                    format!("cannot {what} {org}: the customer list does not name it; reload it"),
                );
                None
            }
        }
    }

    /// Make the row's customer the current one (the approval, polling and test-call steps
    /// are then about it); a poll for another customer's request stops.
    fn select_row(&mut self, row: &CustomerRow) {
        // The last test call is the current customer's token check: recorded as such before
        // another customer becomes current (the store's sync gives it to the current one),
        // and not shown as the new customer's.
        self.profile.sync_customers();
        let before = self.profile.customer_org.clone();
        self.profile.select_customer(&row.org);
        if before.as_deref() != Some(row.org.as_str()) {
            self.profile.last_test_call = None;
            self.test = None;
        }
        let current = self.profile.current_request().map(|r| r.id.clone());
        if let Some(p) = &mut self.polling
            && p.active
            && Some(&p.request_id) != current.as_ref()
        {
            p.active = false;
            self.poll_generation += 1;
            if self.busy == Some(Busy::Polling) {
                self.busy = None;
            }
        }
        self.step = resume_step(&self.profile).max(Step::Request);
        self.error = None;
        self.notice = None;
    }

    /// A test call finished: the current customer's row shows it as its last token check.
    pub(super) fn note_token_check(&mut self, record: &TestCallRecord) {
        let Some(org) = self.profile.customer_org.clone() else {
            return;
        };
        if let Some(row) = self
            .customers
            .rows
            .as_mut()
            .and_then(|rows| rows.iter_mut().find(|r| r.org == org))
        {
            row.last_token_check = Some(TokenCheck::from(record));
        }
    }
}

/// "pending", "timed out": a status as a sentence says it.
pub fn status_words(s: CustomerStatus) -> &'static str {
    match s {
        CustomerStatus::TimedOut => "timed out",
        s => s.as_str(),
    }
}

/// "310904473 (Fjellbekk Regnskap AS)", or the number alone.
pub fn row_label(row: &CustomerRow) -> String {
    match &row.name {
        Some(n) => format!("{} ({n})", row.org),
        None => row.org.clone(),
    }
}

#[cfg(test)]
#[path = "customers_screen_tests.rs"]
mod tests;
