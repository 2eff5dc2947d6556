//! Field-level validation errors, in the shape the API reports them.

use serde::Serialize;
use utoipa::ToSchema;

/// One invalid input field and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// The field's name as the caller wrote it (`requester.email`, `at`, `items[3].start`).
    #[schema(max_length = 200)]
    pub field: String,
    /// What is wrong, in plain words.
    #[schema(max_length = 1000)]
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// One or more invalid fields; the request is refused as a whole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid input: {}", .0.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; "))]
pub struct Invalid(pub Vec<FieldError>);

impl Invalid {
    pub fn one(field: impl Into<String>, message: impl Into<String>) -> Self {
        Invalid(vec![FieldError::new(field, message)])
    }
}

/// Collects field errors while a request is checked, then fails once with all of them.
#[derive(Debug, Default)]
pub struct Checker {
    errors: Vec<FieldError>,
}

impl Checker {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records an error; the same error twice (a field checked by two rules) is kept once.
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        let error = FieldError::new(field, message);
        if !self.errors.contains(&error) {
            self.errors.push(error);
        }
    }

    /// A required text: present, not blank, at most `max` characters.
    pub fn required_text(&mut self, field: &str, value: Option<&str>, max: usize) {
        match value {
            None => self.add(field, "is required"),
            Some(text) if text.trim().is_empty() => self.add(field, "must not be blank"),
            Some(text) => self.max_chars(field, text, max),
        }
    }

    /// An optional text of at most `max` characters.
    pub fn optional_text(&mut self, field: &str, value: Option<&str>, max: usize) {
        if let Some(text) = value {
            self.max_chars(field, text, max);
        }
    }

    /// A required one-line text (a subject, a name): as `required_text`, and without line
    /// breaks or other control characters, which would end a header line in an e-mail or a
    /// row in a report.
    pub fn required_line(&mut self, field: &str, value: Option<&str>, max: usize) {
        self.required_text(field, value, max);
        if let Some(text) = value {
            self.one_line(field, text);
        }
    }

    /// An optional one-line text.
    pub fn optional_line(&mut self, field: &str, value: Option<&str>, max: usize) {
        if let Some(text) = value {
            self.max_chars(field, text, max);
            self.one_line(field, text);
        }
    }

    /// Line breaks and tabs (the other control characters `max_chars` refuses already).
    fn one_line(&mut self, field: &str, text: &str) {
        if text
            .chars()
            .any(|c| matches!(c, '\n' | '\r' | '\t' | '\u{2028}' | '\u{2029}'))
        {
            self.add(
                field,
                "must be one line, without line breaks or control characters",
            );
        }
    }

    /// At most `max` characters, and no control characters but line breaks and tabs.
    pub fn max_chars(&mut self, field: &str, text: &str, max: usize) {
        // PostgreSQL cannot store NUL in text; refuse it on both backends alike.
        if text.contains('\0') {
            self.add(field, "must not contain NUL characters");
        } else if text
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            // An escape sequence in a cause would recolour (or rewrite) the terminal of
            // whoever prints the text report.
            self.add(
                field,
                "must not contain control characters other than line breaks and tabs",
            );
        } else if text.chars().any(is_noncharacter) {
            // XML (the Atom feed) cannot carry them: one would break the feed for everyone.
            self.add(
                field,
                "must not contain Unicode noncharacters (such as U+FFFE, U+FFFF)",
            );
        } else if text.chars().count() > max {
            self.add(field, format!("must be at most {max} characters"));
        }
    }

    /// A plausible e-mail address: one `@`, something on both sides, a dot in the domain.
    pub fn email(&mut self, field: &str, value: &str) {
        if !is_plausible_email(value) {
            self.add(field, "must be an e-mail address like name@example.org");
        } else {
            self.max_chars(field, value, 254);
        }
    }

    pub fn finish(self) -> Result<(), Invalid> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(Invalid(self.errors))
        }
    }
}

fn is_plausible_email(value: &str) -> bool {
    let Some((local, domain)) = value.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !value.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// U+FDD0–U+FDEF and the last two code points of every plane: never text.
fn is_noncharacter(c: char) -> bool {
    let code = c as u32;
    (0xFDD0..=0xFDEF).contains(&code) || (code & 0xFFFE) == 0xFFFE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_fields_refuse_line_breaks_and_control_characters() {
        let mut checker = Checker::new();
        checker.required_line("a", Some("Portale giù — pagamenti"), 200);
        checker.required_line("b", Some("Oggetto\r\nBcc: x@example.org"), 200);
        checker.optional_line("c", Some("tab\there"), 200);
        checker.optional_line("d", Some("riga\u{2028}nuova"), 200);
        checker.optional_line("e", None, 200);
        checker.optional_text("f", Some("riga uno\r\nriga due\tcon tab"), 200);
        checker.optional_text("g", Some("rosso \u{1b}[31m"), 200);
        let errors = checker.finish().unwrap_err().0;
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["b", "c", "d", "g"]);
    }

    #[test]
    fn plausible_emails_are_accepted_and_others_named() {
        let mut checker = Checker::new();
        checker.email("a", "ufficio@comune.fi.it");
        checker.email("b", "no-at-sign");
        checker.email("c", "two@@example.org");
        checker.email("d", "space @example.org");
        let errors = checker.finish().unwrap_err().0;
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["b", "c", "d"]);
    }
}
