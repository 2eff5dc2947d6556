//! The message and report templates (`templates/`), compiled into the binary. Templates whose
//! name ends in `.html` escape what they insert; `.txt` ones do not.

use minijinja::Environment;
use std::sync::OnceLock;

const TEMPLATES: &[(&str, &str)] = &[
    ("layout.html", include_str!("../templates/mail/layout.html")),
    ("facts.html", include_str!("../templates/mail/facts.html")),
    ("facts.txt", include_str!("../templates/mail/facts.txt")),
    (
        "notify_agency.html",
        include_str!("../templates/mail/notify_agency.html"),
    ),
    (
        "notify_agency.txt",
        include_str!("../templates/mail/notify_agency.txt"),
    ),
    (
        "notify_users.html",
        include_str!("../templates/mail/notify_users.html"),
    ),
    (
        "notify_users.txt",
        include_str!("../templates/mail/notify_users.txt"),
    ),
];

fn environment() -> &'static Environment<'static> {
    static ENVIRONMENT: OnceLock<Environment<'static>> = OnceLock::new();
    ENVIRONMENT.get_or_init(|| {
        let mut environment = Environment::new();
        environment.set_keep_trailing_newline(true);
        for (name, source) in TEMPLATES {
            environment
                .add_template(name, source)
                .unwrap_or_else(|e| panic!("template {name} does not parse: {e}"));
        }
        environment
    })
}

/// Renders template `name` with `context`.
pub fn render<S: serde::Serialize>(name: &str, context: S) -> Result<String, String> {
    environment()
        .get_template(name)
        .and_then(|template| template.render(context))
        .map_err(|e| format!("template {name}: {e}"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_template_parses() {
        for (name, _) in super::TEMPLATES {
            assert!(super::environment().get_template(name).is_ok(), "{name}");
        }
    }
}
