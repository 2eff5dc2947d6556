//! The message, report and public-notice templates (`templates/`), compiled into the binary.
//! Templates whose name ends in `.html` or `.xml` escape what they insert; `.txt` ones do not.

use minijinja::Environment;
use std::sync::OnceLock;

/// `(name, source)` of a file under `templates/`, named by its file name.
macro_rules! template {
    ($dir:literal, $name:literal) => {
        (
            $name,
            include_str!(concat!("../templates/", $dir, "/", $name)),
        )
    };
}

const TEMPLATES: &[(&str, &str)] = &[
    template!("mail", "layout.html"),
    template!("mail", "facts.html"),
    template!("mail", "facts.txt"),
    template!("mail", "notify_agency.html"),
    template!("mail", "notify_agency.txt"),
    template!("mail", "notify_users.html"),
    template!("mail", "notify_users.txt"),
    template!("mail", "acknowledgement.html"),
    template!("mail", "acknowledgement.txt"),
    template!("mail", "reply.html"),
    template!("mail", "reply.txt"),
    template!("reports", "report_layout.html"),
    template!("reports", "sla_compliance.html"),
    template!("reports", "availability.html"),
    template!("reports", "malfunction_report.html"),
    template!("reports", "malfunction_report.txt"),
    template!("public", "status_page.html"),
    template!("public", "notice_card.html"),
    template!("public", "notices.atom.xml"),
];

fn environment() -> &'static Environment<'static> {
    static ENVIRONMENT: OnceLock<Environment<'static>> = OnceLock::new();
    ENVIRONMENT.get_or_init(|| {
        let mut environment = Environment::new();
        environment.set_keep_trailing_newline(true);
        environment.set_formatter(escape_keeping_slashes);
        for (name, source) in TEMPLATES {
            environment
                .add_template(name, source)
                .unwrap_or_else(|e| panic!("template {name} does not parse: {e}"));
        }
        environment
    })
}

/// minijinja's HTML escaping also escapes `/` (as `&#x2f;`), which is safe but makes every
/// date in a message's source read `26&#x2f;11&#x2f;2026`; text needs only these five.
fn escape_keeping_slashes(
    out: &mut minijinja::Output,
    state: &minijinja::State,
    value: &minijinja::Value,
) -> Result<(), minijinja::Error> {
    let Some(text) = value
        .as_str()
        .filter(|_| !value.is_safe() && matches!(state.auto_escape(), minijinja::AutoEscape::Html))
    else {
        return minijinja::escape_formatter(out, state, value);
    };
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#x27;"),
            c => escaped.push(c),
        }
    }
    out.write_str(&escaped).map_err(minijinja::Error::from)
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
    fn html_escapes_markup_but_not_slashes() {
        let html = super::render(
            "facts.html",
            serde_json::json!({
                "number": "2016-000001", "subject": "<b>giù</b> & \"altro\"", "services": [],
                "interruption_started": "26/11/2026 10:35", "time_zone": "Europe/Rome",
            }),
        )
        .unwrap();
        assert!(
            html.contains("&lt;b&gt;giù&lt;&#x2f;b&gt;") || html.contains("&lt;b&gt;giù&lt;/b&gt;"),
            "{html}"
        );
        assert!(html.contains("&amp; &quot;altro&quot;"), "{html}");
        assert!(html.contains("26/11/2026 10:35"), "{html}");
    }

    #[test]
    fn every_template_parses() {
        for (name, _) in super::TEMPLATES {
            assert!(super::environment().get_template(name).is_ok(), "{name}");
        }
    }
}
