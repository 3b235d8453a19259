//! Form fields for the wizard's steps: single-line text (tui-input), toggles and choices, each
//! with an optional validator that runs as the user types; and [`Fields`], the shape of a step's
//! form (ratatui's input-form example: a struct of named fields plus a `Focus` enum cycled with
//! Tab). The forms live in the `App` for the whole session, so nothing typed is lost when a step
//! fails or the user goes back.

use tui_input::{Input, InputRequest};

/// Checks a field's text; `Err` carries the message shown under the form.
pub type Validator = fn(&str) -> Result<(), String>;

#[derive(Debug, Clone)]
pub enum Widget {
    Text(Input),
    Toggle(bool),
    Choice {
        options: Vec<String>,
        selected: usize,
    },
}

#[derive(Debug, Clone)]
pub struct Field {
    pub label: &'static str,
    /// One line shown while the field has focus: what to type, with an example.
    pub hint: &'static str,
    pub widget: Widget,
    pub validator: Option<Validator>,
    /// Shown dimmed when the text is empty (e.g. the default that applies).
    pub placeholder: String,
}

impl Field {
    pub fn text(label: &'static str, hint: &'static str, value: &str) -> Self {
        Field {
            label,
            hint,
            widget: Widget::Text(Input::new(value.to_string())),
            validator: None,
            placeholder: String::new(),
        }
    }

    pub fn toggle(label: &'static str, hint: &'static str, on: bool) -> Self {
        Field {
            label,
            hint,
            widget: Widget::Toggle(on),
            validator: None,
            placeholder: String::new(),
        }
    }

    pub fn choice(
        label: &'static str,
        hint: &'static str,
        options: Vec<String>,
        selected: usize,
    ) -> Self {
        Field {
            label,
            hint,
            widget: Widget::Choice { options, selected },
            validator: None,
            placeholder: String::new(),
        }
    }

    pub fn validated(mut self, v: Validator) -> Self {
        self.validator = Some(v);
        self
    }

    pub fn placeholder(mut self, p: impl Into<String>) -> Self {
        self.placeholder = p.into();
        self
    }

    pub fn is_text(&self) -> bool {
        matches!(self.widget, Widget::Text(_))
    }

    /// The text of a text field ("" otherwise).
    pub fn value(&self) -> &str {
        match &self.widget {
            Widget::Text(i) => i.value(),
            _ => "",
        }
    }

    pub fn set_value(&mut self, v: &str) {
        if let Widget::Text(i) = &mut self.widget {
            *i = Input::new(v.to_string());
        }
    }

    pub fn on(&self) -> bool {
        matches!(self.widget, Widget::Toggle(true))
    }

    pub fn selected(&self) -> usize {
        match &self.widget {
            Widget::Choice { selected, .. } => *selected,
            _ => 0,
        }
    }

    /// Toggle a toggle; a choice moves to its next option.
    pub fn flip(&mut self) {
        match &mut self.widget {
            Widget::Toggle(b) => *b = !*b,
            Widget::Choice { options, selected } if !options.is_empty() => {
                *selected = (*selected + 1) % options.len();
            }
            _ => {}
        }
    }

    pub fn step_choice(&mut self, delta: isize) {
        if let Widget::Choice { options, selected } = &mut self.widget {
            let n = options.len() as isize;
            if n > 0 {
                *selected = ((*selected as isize + delta).rem_euclid(n)) as usize;
            }
        }
    }

    /// Inline validation: `None` when empty (nothing to complain about yet) or valid.
    pub fn problem(&self) -> Option<String> {
        let v = self.value();
        if v.trim().is_empty() {
            return None;
        }
        self.validator.and_then(|f| f(v).err())
    }

    pub fn handle(&mut self, req: InputRequest) -> bool {
        match &mut self.widget {
            Widget::Text(i) => i.handle(req).is_some(),
            _ => false,
        }
    }

    pub fn insert_str(&mut self, s: &str) {
        for c in s.chars().filter(|c| !c.is_control()) {
            self.handle(InputRequest::InsertChar(c));
        }
    }
}

/// A step's form: named [`Field`]s and a `Focus` enum naming them, so code says
/// `form.field(Focus::Customer)`, never a position that breaks silently when a field moves.
/// Implementing it gives the form everything [`Form`] offers the app.
pub trait Fields {
    type Focus: Copy + Eq + 'static;
    /// Every field, in screen order.
    const ALL: &'static [Self::Focus];
    fn field(&self, at: Self::Focus) -> &Field;
    fn field_mut(&mut self, at: Self::Focus) -> &mut Field;
    /// The focused field; `None` means command keys are active.
    fn focus(&self) -> Option<Self::Focus>;
    fn set_focus(&mut self, at: Option<Self::Focus>);
    /// The fields Tab visits now (a form may hide some, e.g. URLs that do not apply).
    fn tab_order(&self) -> Vec<Self::Focus> {
        Self::ALL.to_vec()
    }

    /// Focus the first text field that is invalid, or empty while `needed`; `None` (command
    /// keys) when the form is complete, so Enter submits it and letters are commands.
    fn focus_missing(&mut self, needed: &[Self::Focus])
    where
        Self: Sized,
    {
        let at = Self::ALL.iter().copied().find(|&at| {
            let f = self.field(at);
            f.is_text()
                && (f.problem().is_some() || (needed.contains(&at) && f.value().trim().is_empty()))
        });
        self.set_focus(at);
    }
}

/// What the app does with whichever form the current step has (object safe, so the step list
/// can hand out `&dyn Form`).
pub trait Form {
    fn focused(&self) -> Option<&Field>;
    fn focused_mut(&mut self) -> Option<&mut Field>;
    /// How many fields Tab visits now.
    fn tab_stops(&self) -> usize;
    /// Tab (`forward`) or shift-tab; from command mode to the first (last) field.
    fn cycle(&mut self, forward: bool);
    /// Back to command keys.
    fn leave(&mut self);
    /// `e`: the first field with a problem, else the first field.
    fn edit(&mut self);
    /// Where the cursor goes on arriving at the step: the first invalid text field, if any.
    fn focus_problem(&mut self);
}

impl<T: Fields> Form for T {
    fn focused(&self) -> Option<&Field> {
        self.focus().map(|at| self.field(at))
    }

    fn focused_mut(&mut self) -> Option<&mut Field> {
        self.focus().map(|at| self.field_mut(at))
    }

    fn tab_stops(&self) -> usize {
        self.tab_order().len()
    }

    fn cycle(&mut self, forward: bool) {
        let order = self.tab_order();
        let n = order.len();
        if n == 0 {
            return;
        }
        let pos = self
            .focus()
            .and_then(|f| order.iter().position(|o| *o == f));
        let next = match (pos, forward) {
            (None, true) => 0,
            (None, false) => n - 1,
            (Some(p), true) => (p + 1) % n,
            (Some(p), false) => (p + n - 1) % n,
        };
        self.set_focus(Some(order[next]));
    }

    fn leave(&mut self) {
        self.set_focus(None);
    }

    fn edit(&mut self) {
        let first_bad = T::ALL
            .iter()
            .copied()
            .find(|&at| self.field(at).problem().is_some());
        self.set_focus(first_bad.or(T::ALL.first().copied()));
    }

    fn focus_problem(&mut self) {
        self.focus_missing(&[]);
    }
}

/// Validators adapting the core's checks (which also normalise) to "ok or message".
pub mod check {
    use crate::validate;

    pub fn org(s: &str) -> Result<(), String> {
        validate::org_number(s)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    pub fn client_id(s: &str) -> Result<(), String> {
        validate::client_id(s.trim())
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    pub fn scopes(s: &str) -> Result<(), String> {
        validate::scopes(s).map(|_| ()).map_err(|e| e.to_string())
    }

    pub fn system_name(s: &str) -> Result<(), String> {
        validate::system_name(s)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    fn each(s: &str, f: fn(&str) -> Result<(), String>) -> Result<(), String> {
        s.split(|c: char| c.is_whitespace() || c == ',')
            .filter(|p| !p.is_empty())
            .try_for_each(f)
    }

    pub fn rights(s: &str) -> Result<(), String> {
        each(s, |r| {
            validate::resource_id(r)
                .map(|_| ())
                .map_err(|e| e.to_string())
        })
    }

    pub fn packages(s: &str) -> Result<(), String> {
        each(s, |p| {
            validate::access_package(p)
                .map(|_| ())
                .map_err(|e| e.to_string())
        })
    }

    pub fn urls(s: &str) -> Result<(), String> {
        each(s, |u| {
            validate::https_url(u)
                .map(|_| ())
                .map_err(|e| e.to_string())
        })
    }

    pub fn https_url(s: &str) -> Result<(), String> {
        validate::https_url(s.trim())
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    pub fn external_ref(s: &str) -> Result<(), String> {
        validate::external_ref(s.trim())
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    pub fn service_url(s: &str) -> Result<(), String> {
        crate::env::parse_service_url("URL", s)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}
