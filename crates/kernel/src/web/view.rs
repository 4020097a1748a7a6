//! Named values for templates (never tuples, whose order a template
//! would have to remember): choices of a form control, label and value
//! rows, links, versions of an editor's history.

/// One choice of a select, radio group, checkbox list or button group.
#[derive(Clone, Debug, PartialEq)]
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

impl Choice {
    pub fn new(value: impl Into<String>, label: impl Into<String>) -> Self {
        Self {
            value: value.into(),
            label: label.into(),
            selected: false,
        }
    }

    pub fn selected(mut self, selected: bool) -> Self {
        self.selected = selected;
        self
    }

    /// Marks the choices whose value is `current`.
    pub fn select(choices: Vec<Choice>, current: &str) -> Vec<Choice> {
        choices
            .into_iter()
            .map(|c| {
                let on = c.value == current;
                c.selected(on)
            })
            .collect()
    }
}

/// A label and its value (summary lists).
#[derive(Clone, Debug, PartialEq)]
pub struct LabelValue {
    pub label: String,
    pub value: String,
}

impl LabelValue {
    pub fn new(label: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            label: label.into(),
            value: value.into(),
        }
    }
}

/// A link: breadcrumbs, lists of pages.
#[derive(Clone, Debug, PartialEq)]
pub struct Link {
    pub label: String,
    pub href: String,
}

/// A version in an editor's history: which, when, by whom.
#[derive(Clone, Debug, PartialEq)]
pub struct VersionLine {
    pub version: i64,
    pub at: String,
    pub by: String,
}

/// One language of the language switch: the page in that language.
#[derive(Clone, Debug, PartialEq)]
pub struct LanguageLink {
    pub href: String,
    /// The `lang` (and `hreflang`) attribute.
    pub tag: &'static str,
    /// The language's own name for itself.
    pub name: &'static str,
    pub current: bool,
}

/// A value a form carries through unchanged (`<input type="hidden">`).
#[derive(Clone, Debug, PartialEq)]
pub struct HiddenField {
    pub name: String,
    pub value: String,
}

impl HiddenField {
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            value: value.into(),
        }
    }
}
