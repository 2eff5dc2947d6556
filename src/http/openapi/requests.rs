//! What the request schemas say beyond the annotations, so that a generated request is one
//! the handlers accept: the `pattern` of each text field as `Checker` reads it (one line or
//! free text, blank or not), e-mail addresses, and the requests whose fields depend on one of
//! them (an event's `type`, a user's `role`, a report's period) split into one variant each.
//! Added after the annotations are read; the schemas and fields named must exist.

use crate::domain::Action;
use crate::domain::lifecycle::{event_fields, is_recorded_by_service, required_event_fields};
use serde_json::Value;
use std::collections::BTreeMap;
use utoipa::openapi::schema::{
    AdditionalProperties, ArrayItems, Object, ObjectBuilder, OneOfBuilder, Schema, SchemaFormat,
    SchemaType, Type,
};
use utoipa::openapi::{Components, RefOr};

/// How a handler checks a text field (`domain::validation::Checker`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Text {
    /// `required_line`: one line, not blank.
    Line,
    /// `optional_line`: one line, may be blank.
    OptionalLine,
    /// `optional_text` and `max_chars`: line breaks and tabs allowed.
    Free,
    /// `required_text`: as `Free`, not blank.
    RequiredFree,
}

/// What a one-line field refuses: control characters, line and paragraph separators, and
/// the noncharacters XML cannot carry (of the first plane: a pattern cannot name the others).
const NOT_IN_A_LINE: &str = r"\u0000-\u001F\u007F-\u009F\u2028\u2029\uFDD0-\uFDEF\uFFFE\uFFFF";
/// What any text refuses: the same, but for tabs, line breaks and the separators.
const NOT_IN_A_TEXT: &str =
    r"\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\uFDD0-\uFDEF\uFFFE\uFFFF";

impl Text {
    /// The pattern of the field's values.
    pub(super) fn pattern(self) -> String {
        let (refused, blank_allowed) = match self {
            Text::Line => (NOT_IN_A_LINE, false),
            Text::OptionalLine => (NOT_IN_A_LINE, true),
            Text::Free => (NOT_IN_A_TEXT, true),
            Text::RequiredFree => (NOT_IN_A_TEXT, false),
        };
        if blank_allowed {
            format!("^[^{refused}]*$")
        } else {
            format!(r"^[^{refused}]*[^\s{refused}][^{refused}]*$")
        }
    }

    fn required(self) -> bool {
        matches!(self, Text::Line | Text::RequiredFree)
    }
}

/// The text fields of the request bodies (an array's items for a list), by schema, as their
/// handlers check them. A test finds any request text left out.
pub(super) const TEXT_FIELDS: &[(&str, &str, Text)] = &[
    ("CreateTicketRequest", "subject", Text::Line),
    ("CreateTicketRequest", "description", Text::Free),
    ("CreateTicketRequest", "affected_services", Text::Line),
    ("CreateTicketRequest", "cause", Text::Free),
    ("CreateTicketRequest", "actions_taken", Text::Free),
    ("Requester", "name", Text::OptionalLine),
    ("Requester", "phone", Text::OptionalLine),
    ("UpdateTicketRequest", "affected_services", Text::Line),
    ("UpdateTicketRequest", "cause", Text::Free),
    ("UpdateTicketRequest", "actions_taken", Text::Free),
    ("CreateEventRequest", "message", Text::Free),
    ("CreateEventRequest", "resolution", Text::Free),
    ("CreateEventRequest", "reason", Text::Free),
    ("CreateEventRequest", "service", Text::OptionalLine),
    ("CreateAgencyRequest", "name", Text::Line),
    ("UpdateAgencyRequest", "name", Text::Line),
    ("CreateUserRequest", "name", Text::Line),
    ("CreateUserRequest", "oidc_subject", Text::Line),
    ("UpdateUserRequest", "name", Text::Line),
    ("UpdateUserRequest", "oidc_subject", Text::Line),
    ("CreateTokenRequest", "name", Text::Line),
    ("CreateClosureRequest", "reason", Text::Line),
    ("HolidayDefinition", "name", Text::Line),
    ("ClosureResponse", "reason", Text::Line),
    ("PutSystemRequest", "name", Text::Line),
    ("PutSystemRequest", "services", Text::Line),
    ("MonitoringEventRequest", "problem_id", Text::OptionalLine),
    ("MonitoringEventRequest", "output", Text::Free),
    ("CheckResultItem", "output", Text::Free),
    ("CreateDowntimeRequest", "reason", Text::OptionalLine),
    ("AlertmanagerAlert", "fingerprint", Text::Line),
];

/// The fields that hold e-mail addresses (`Checker::email`), by schema.
const EMAIL_FIELDS: &[(&str, &str)] = &[
    ("Requester", "email"),
    ("CreateAgencyRequest", "contacts"),
    ("UpdateAgencyRequest", "contacts"),
    ("CreateEventRequest", "cc"),
];

/// Longest address `Checker::email` takes.
const MAX_EMAIL: usize = 254;

/// The fields that hold mail domains (`check_mail_domains` of `http/agencies.rs`), by schema.
const DOMAIN_FIELDS: &[(&str, &str)] = &[
    ("CreateAgencyRequest", "mail_domains"),
    ("UpdateAgencyRequest", "mail_domains"),
];

/// A host name with a dot: labels of letters, digits and inner `-`.
const DOMAIN_PATTERN: &str =
    r"^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+$";

/// Completes the request schemas in `components`.
///
/// # Panics
/// When a schema or field named here is missing from the document.
pub(super) fn constrain_requests(components: &mut Components) {
    for &(schema, field, text) in TEXT_FIELDS {
        let strings = strings_of(property(components, schema, field));
        strings.pattern = Some(text.pattern());
        if text.required() {
            strings.min_length = Some(1);
        }
    }
    for &(schema, field) in EMAIL_FIELDS {
        let strings = strings_of(property(components, schema, field));
        strings.format = Some(SchemaFormat::Custom("email".into()));
        strings.max_length = Some(MAX_EMAIL);
    }
    for &(schema, field) in DOMAIN_FIELDS {
        let strings = strings_of(property(components, schema, field));
        strings.pattern = Some(DOMAIN_PATTERN.into());
        strings.max_length = Some(253);
    }
    // `CalendarDefinition::check` and `check_request`: a time zone it knows; only `24x7` is
    // always open.
    let time_zones: Vec<&str> = chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name()).collect();
    strings_of(property(components, "PutCalendarRequest", "time_zone")).enum_values =
        Some(time_zones.into_iter().map(Into::into).collect());
    strings_of(property(components, "PutCalendarRequest", "always_open")).enum_values =
        Some(vec![false.into(), Value::Null]);
    let events: Vec<Variant> = Action::ALL
        .iter()
        .filter(|action| !is_recorded_by_service(**action))
        .map(|action| Variant {
            title: action.as_str(),
            values: vec![action.as_str().into()],
            fields: [&["type", "at"], event_fields(*action)].concat(),
            required: [&["type"], required_event_fields(*action)].concat(),
        })
        .collect();
    // A required `message`, `resolution` or `reason` must not be blank.
    split(
        components,
        "CreateEventRequest",
        Some("type"),
        events,
        |_| Some(Text::RequiredFree),
    );
    // `check_role_fields`: an agent has a level, an agency user an agency, nobody else either.
    let users = [
        (
            "admin, supervisor",
            vec!["admin".into(), "supervisor".into()],
            None,
        ),
        ("agent", vec!["agent".into()], Some("level")),
        ("agency", vec!["agency".into()], Some("agency_id")),
    ];
    let users = users
        .into_iter()
        .map(|(title, values, own)| Variant {
            title,
            values,
            fields: [&["name", "role", "oidc_subject"][..], own.as_slice()].concat(),
            required: [&["name", "role"][..], own.as_slice()].concat(),
        })
        .collect();
    split(components, "CreateUserRequest", Some("role"), users, |_| {
        None
    });
    // `CreateTicketRequest::validate`: the details of a malfunction only on a malfunction.
    let report = [
        "subject",
        "description",
        "channel",
        "reported_at",
        "agency_id",
        "requester",
        "malfunction",
    ];
    let details = [
        "affected_services",
        "affected_agency_ids",
        "cause",
        "actions_taken",
    ];
    let tickets = vec![
        Variant {
            title: "report",
            values: vec![false.into(), Value::Null],
            fields: report.to_vec(),
            required: vec!["subject", "channel"],
        },
        Variant {
            title: "malfunction",
            values: vec![true.into()],
            fields: [&report[..], &details[..]].concat(),
            required: vec!["subject", "channel", "malfunction"],
        },
    ];
    split(
        components,
        "CreateTicketRequest",
        Some("malfunction"),
        tickets,
        |_| None,
    );
    // `requested_period`: a named period, or both ends.
    let periods = vec![
        Variant {
            title: "period",
            values: Vec::new(),
            fields: vec!["period", "agency_ids", "resend"],
            required: vec!["period"],
        },
        Variant {
            title: "from, to",
            values: Vec::new(),
            fields: vec!["from", "to", "agency_ids", "resend"],
            required: vec!["from", "to"],
        },
    ];
    split(components, "CreateDeliveriesRequest", None, periods, |_| {
        None
    });
}

/// One shape of a request: its title, the values of its discriminating field, the fields it
/// takes and those it requires.
struct Variant {
    title: &'static str,
    values: Vec<Value>,
    fields: Vec<&'static str>,
    required: Vec<&'static str>,
}

/// Replaces the object schema `name` by a `oneOf` of `variants`, each with the object's own
/// description of its fields; `key`, when given, takes the variant's `values` (strings or
/// booleans, and `null`).
/// A required text field gets the pattern `required_text` gives it, if any.
///
/// # Panics
/// When a variant names a field the object lacks, or no variant takes one of its fields.
fn split(
    components: &mut Components,
    name: &str,
    key: Option<&str>,
    variants: Vec<Variant>,
    required_text: impl Fn(&str) -> Option<Text>,
) {
    let Some(RefOr::T(Schema::Object(base))) = components.schemas.get(name) else {
        panic!("no object schema {name}");
    };
    let base = base.clone();
    // A field of the request that no variant takes would vanish from the contract.
    for field in base.properties.keys() {
        assert!(
            variants.iter().any(|v| v.fields.contains(&field.as_str())),
            "no variant of {name} takes its field {field}"
        );
    }
    let items = variants.into_iter().map(|variant| {
        let mut properties = BTreeMap::new();
        for field in &variant.fields {
            let mut schema = base
                .properties
                .get(*field)
                .unwrap_or_else(|| panic!("{name} has no field {field}"))
                .clone();
            let required = variant.required.contains(field);
            if required {
                schema = non_null(schema);
            }
            if key == Some(*field) {
                let mut values = one_of_values(&variant.values);
                values.description = match &schema {
                    RefOr::T(Schema::Object(object)) => object.description.clone(),
                    RefOr::T(Schema::OneOf(one_of)) => one_of.description.clone(),
                    _ => None,
                };
                schema = RefOr::T(Schema::Object(values));
            } else if let (true, Some(text), RefOr::T(Schema::Object(strings))) =
                (required, required_text(field), &mut schema)
                && strings.pattern.is_some()
            {
                strings.pattern = Some(text.pattern());
                strings.min_length = Some(1);
            }
            properties.insert((*field).to_owned(), schema);
        }
        let mut object = ObjectBuilder::new()
            .schema_type(Type::Object)
            .title(Some(variant.title))
            .additional_properties(Some(AdditionalProperties::<Schema>::FreeForm(false)))
            .build();
        object.properties = properties;
        object.required = variant.required.iter().map(|f| (*f).to_owned()).collect();
        RefOr::T(Schema::Object(object))
    });
    let mut one_of = OneOfBuilder::new()
        .description(base.description.clone())
        .build();
    one_of.items = items.collect();
    components
        .schemas
        .insert(name.to_owned(), RefOr::T(Schema::OneOf(one_of)));
}

/// A schema taking exactly `values`.
fn one_of_values(values: &[Value]) -> Object {
    let mut types: Vec<Type> = Vec::new();
    for value in values {
        let kind = match value {
            Value::Null => Type::Null,
            Value::Bool(_) => Type::Boolean,
            _ => Type::String,
        };
        if !types.contains(&kind) {
            types.push(kind);
        }
    }
    let schema_type = match types.as_slice() {
        [only] => SchemaType::Type(only.clone()),
        _ => SchemaType::Array(types),
    };
    ObjectBuilder::new()
        .schema_type(schema_type)
        .enum_values(Some(values.to_vec()))
        .build()
}

/// The schema of `field` in the object schema `schema`.
fn property<'a>(components: &'a mut Components, schema: &str, field: &str) -> &'a mut Schema {
    match components.schemas.get_mut(schema) {
        Some(RefOr::T(Schema::Object(object))) => match object.properties.get_mut(field) {
            Some(RefOr::T(property)) => property,
            _ => panic!("{schema} has no inline field {field}"),
        },
        _ => panic!("no object schema {schema}"),
    }
}

/// The schema of a scalar field (a text), or of a list's items.
fn strings_of(schema: &mut Schema) -> &mut Object {
    match schema {
        Schema::Object(object) => object,
        Schema::Array(array) => match &mut array.items {
            ArrayItems::RefOrSchema(items) => match items.as_mut() {
                RefOr::T(Schema::Object(object)) => object,
                _ => panic!("a list of texts has inline string items"),
            },
            ArrayItems::False => panic!("a list of texts has items"),
        },
        _ => panic!("a text field is a string or a list of strings"),
    }
}

/// The schema without `null`: what a required field must be.
pub(super) fn non_null(schema: RefOr<Schema>) -> RefOr<Schema> {
    let without_null = |types: &mut SchemaType| {
        if let SchemaType::Array(list) = types {
            list.retain(|t| *t != Type::Null);
            if let [only] = list.as_slice() {
                *types = SchemaType::Type(only.clone());
            }
        }
    };
    match schema {
        RefOr::T(Schema::Object(mut object)) => {
            without_null(&mut object.schema_type);
            RefOr::T(Schema::Object(object))
        }
        RefOr::T(Schema::Array(mut array)) => {
            without_null(&mut array.schema_type);
            RefOr::T(Schema::Array(array))
        }
        // `Option<Enum>` is `oneOf: [null, $ref]`: the reference alone.
        RefOr::T(Schema::OneOf(one_of)) => {
            let mut rest: Vec<RefOr<Schema>> = one_of
                .items
                .into_iter()
                .filter(|item| {
                    !matches!(item, RefOr::T(Schema::Object(o))
                        if o.schema_type == SchemaType::Type(Type::Null))
                })
                .collect();
            match rest.len() {
                1 => rest.remove(0),
                _ => {
                    let mut one_of = OneOfBuilder::new().build();
                    one_of.items = rest;
                    RefOr::T(Schema::OneOf(one_of))
                }
            }
        }
        other => other,
    }
}

#[cfg(test)]
#[path = "requests_tests.rs"]
mod tests;
