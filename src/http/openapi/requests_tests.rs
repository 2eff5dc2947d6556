//! The request schemas against the checks they describe.

use super::*;
use serde_json::json;
use utoipa::OpenApi;

/// The schemas a request body reaches, by name.
fn request_schemas(document: &Value) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let mut pending: Vec<&Value> = document["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| item.as_object().unwrap().values())
        .filter_map(|operation| operation.get("requestBody"))
        .collect();
    while let Some(value) = pending.pop() {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(reference)) = map.get("$ref") {
                    let name = reference.rsplit('/').next().unwrap().to_owned();
                    if !names.contains(&name) {
                        pending.push(&document["components"]["schemas"][&name]);
                        names.push(name);
                    }
                }
                pending.extend(map.values());
            }
            Value::Array(items) => pending.extend(items),
            _ => {}
        }
    }
    names
}

#[test]
fn every_request_text_says_what_the_handler_refuses() {
    let document = serde_json::to_value(crate::http::openapi::ApiDoc::openapi()).unwrap();
    // Read and ignored (`PUT /calendars/{name}` takes what `GET` returns).
    let ignored = [("PutCalendarRequest", "source")];
    let mut unconstrained = Vec::new();
    for name in request_schemas(&document) {
        let schema = &document["components"]["schemas"][&name];
        let mut objects = vec![schema];
        objects.extend(schema["oneOf"].as_array().into_iter().flatten());
        for object in objects {
            for (field, property) in object["properties"].as_object().into_iter().flatten() {
                let texts = if property["type"] == "array" || property["type"][0] == "array" {
                    &property["items"]
                } else {
                    property
                };
                let is_text = texts["type"] == "string" || texts["type"][0] == "string";
                let constrained = ["pattern", "format", "enum"]
                    .iter()
                    .any(|key| texts.get(*key).is_some());
                if is_text && !constrained && !ignored.contains(&(name.as_str(), field)) {
                    unconstrained.push(format!("{name}.{field}"));
                }
            }
        }
    }
    unconstrained.dedup();
    assert!(
        unconstrained.is_empty(),
        "add these to TEXT_FIELDS or EMAIL_FIELDS: {unconstrained:?}"
    );
}

#[test]
fn an_event_schema_per_type_requires_what_the_type_needs() {
    let document = serde_json::to_value(crate::http::openapi::ApiDoc::openapi()).unwrap();
    let variants = document["components"]["schemas"]["CreateEventRequest"]["oneOf"]
        .as_array()
        .unwrap();
    let reply = variants
        .iter()
        .find(|v| v["properties"]["type"]["enum"] == json!(["reply"]))
        .unwrap();
    assert_eq!(reply["required"], json!(["type", "channel", "message"]));
    assert_eq!(reply["additionalProperties"], json!(false));
    assert_eq!(reply["properties"]["message"]["minLength"], json!(1));
    assert!(reply["properties"].get("resolution").is_none());
    let posted = Action::ALL
        .iter()
        .filter(|a| !is_recorded_by_service(**a))
        .count();
    assert_eq!(variants.len(), posted);
}

#[test]
fn text_patterns_refuse_what_the_checker_refuses() {
    // Read as a regular expression engine would, the classes must name the characters
    // `Checker` refuses: a spot check of the edges.
    let line = Text::Line.pattern();
    for refused in [
        r"\u0000-\u001F",
        r"\u007F-\u009F",
        r"\u2028\u2029",
        r"\uFFFE\uFFFF",
    ] {
        assert!(line.contains(refused), "{line} lacks {refused}");
    }
    let text = Text::Free.pattern();
    assert!(
        text.contains(r"\u0000-\u0008\u000B\u000C\u000E-\u001F"),
        "{text}"
    );
    assert!(
        !text.contains(r"\u2028"),
        "a text may hold a line separator"
    );
    assert!(Text::RequiredFree.pattern().contains(r"[^\s"));
}
