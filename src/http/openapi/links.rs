//! The OpenAPI `links` between operations: where the ids and versions in a response lead (a
//! new ticket to its events, its change and its history; the outbox to a retry), for
//! clients that follow them and for tools that test sequences of calls (schemathesis's
//! stateful phase). Added after the annotations are read; the operations must exist.

use utoipa::openapi::extensions::Extensions;
use utoipa::openapi::link::LinkBuilder;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::{OpenApi, RefOr};

/// One link: from a response (path, method, status) to an operation, with the values of its
/// parameters as runtime expressions (`header.` names a header parameter).
struct Link {
    from: (&'static str, &'static str, &'static str),
    name: &'static str,
    to: &'static str,
    parameters: &'static [(&'static str, &'static str)],
    description: &'static str,
}

const TICKET_ID: (&str, &str) = ("id", "$response.body#/id");
const RESPONSE_VERSION: (&str, &str) = ("header.If-Match", "$response.header.ETag");

const LINKS: &[Link] = &[
    Link {
        from: ("/tickets", "post", "201"),
        name: "ReadTicket",
        to: "read_ticket",
        parameters: &[TICKET_ID],
        description: "The ticket as it stands.",
    },
    Link {
        from: ("/tickets", "post", "201"),
        name: "RecordEvent",
        to: "create_ticket_event",
        parameters: &[TICKET_ID, RESPONSE_VERSION],
        description: "Record an event on the ticket (`take_charge` first), guarded by its version.",
    },
    Link {
        from: ("/tickets", "post", "201"),
        name: "ReadHistory",
        to: "list_ticket_events",
        parameters: &[TICKET_ID],
        description: "The ticket's history: its events, oldest first.",
    },
    Link {
        from: ("/tickets", "post", "201"),
        name: "UpdateTicket",
        to: "update_ticket",
        parameters: &[TICKET_ID, RESPONSE_VERSION],
        description: "Change the malfunction's details, guarded by the ticket's version.",
    },
    Link {
        from: ("/tickets/{id}/events", "post", "201"),
        name: "RecordNextEvent",
        to: "create_ticket_event",
        parameters: &[("id", "$request.path.id"), RESPONSE_VERSION],
        description: "Record the next event, guarded by the ticket's new version.",
    },
    Link {
        from: ("/tickets/{id}/events", "post", "201"),
        name: "ReadHistory",
        to: "list_ticket_events",
        parameters: &[("id", "$request.path.id")],
        description: "The ticket's history with the new event.",
    },
    Link {
        from: ("/tickets/{id}", "patch", "200"),
        name: "ReadHistory",
        to: "list_ticket_events",
        parameters: &[("id", "$request.path.id")],
        description: "The history, with the `malfunction_updated` event naming what changed.",
    },
    Link {
        from: ("/outbox", "get", "200"),
        name: "RetryNewest",
        to: "retry_outbox_entry",
        parameters: &[("id", "$response.body#/items/0/id")],
        description: "Retry the newest e-mail of the page.",
    },
    Link {
        from: ("/outbox", "get", "200"),
        name: "ReadNewest",
        to: "read_outbox_entry",
        parameters: &[("id", "$response.body#/items/0/id")],
        description: "The newest e-mail of the page, with the message.",
    },
    Link {
        from: ("/outbox/{id}/retry", "post", "202"),
        name: "ReadEntry",
        to: "read_outbox_entry",
        parameters: &[("id", "$request.path.id")],
        description: "The e-mail, to follow its delivery.",
    },
    Link {
        from: ("/agencies", "post", "201"),
        name: "ReadAgency",
        to: "read_agency",
        parameters: &[("id", "$response.body#/id")],
        description: "The agency as it stands.",
    },
    Link {
        from: ("/agencies", "post", "201"),
        name: "UpdateAgency",
        to: "update_agency",
        parameters: &[("id", "$response.body#/id"), RESPONSE_VERSION],
        description: "Change the agency, guarded by its version.",
    },
    Link {
        from: ("/users", "post", "201"),
        name: "ReadUser",
        to: "read_user",
        parameters: &[("id", "$response.body#/user/id")],
        description: "The user as it stands.",
    },
    Link {
        from: ("/users", "post", "201"),
        name: "UpdateUser",
        to: "update_user",
        parameters: &[("id", "$response.body#/user/id"), RESPONSE_VERSION],
        description: "Change the user, guarded by its version.",
    },
    Link {
        from: ("/users", "post", "201"),
        name: "CreateToken",
        to: "create_user_token",
        parameters: &[("id", "$response.body#/user/id")],
        description: "Give the user another token.",
    },
    Link {
        from: ("/users", "post", "201"),
        name: "ListTokens",
        to: "list_user_tokens",
        parameters: &[("id", "$response.body#/user/id")],
        description: "The user's tokens (its first one).",
    },
    Link {
        from: ("/users/{id}/tokens", "post", "201"),
        name: "RevokeToken",
        to: "revoke_user_token",
        parameters: &[
            ("id", "$request.path.id"),
            ("token_id", "$response.body#/id"),
        ],
        description: "Revoke the token just made.",
    },
    Link {
        from: ("/calendars/{name}/closures", "post", "201"),
        name: "RemoveClosure",
        to: "remove_closure",
        parameters: &[
            ("name", "$request.path.name"),
            ("date", "$request.body#/first_day"),
        ],
        description: "Open the closure's days again.",
    },
    Link {
        from: ("/calendars/{name}", "put", "201"),
        name: "ReadHolidays",
        to: "calendar_holidays",
        parameters: &[("name", "$request.path.name")],
        description: "The new calendar's closed days this year.",
    },
];

/// Adds the links to the responses they start from.
///
/// # Panics
/// When a link starts from a response, or leads to an operation, that the document lacks:
/// the document is generated once, at start and in the tests.
pub(super) fn add_links(api: &mut OpenApi) {
    let known: Vec<String> = api
        .paths
        .paths
        .values()
        .flat_map(operations)
        .filter_map(|operation| operation.operation_id.clone())
        .collect();
    for link in LINKS {
        let (path, method, status) = link.from;
        assert!(
            known.iter().any(|id| id == link.to),
            "link {} leads to no operation {}",
            link.name,
            link.to
        );
        let response = api
            .paths
            .paths
            .get_mut(path)
            .and_then(|item| operation_mut(item, method))
            .and_then(|operation| operation.responses.responses.get_mut(status));
        let Some(RefOr::T(response)) = response else {
            panic!(
                "link {} starts from no response {method} {path} {status}",
                link.name
            );
        };
        // utoipa 5.5 writes `operation_id` as `operation_id`, not `operationId`: the key goes
        // in through the extensions, which it writes flattened as they are named.
        let mut builder = LinkBuilder::new()
            .description(link.description)
            .extensions(Some(Extensions::from_iter([("operationId", link.to)])));
        for &(name, expression) in link.parameters {
            builder = builder.parameter(name, expression);
        }
        response
            .links
            .insert(link.name.into(), RefOr::T(builder.build()));
    }
}

fn operations(item: &PathItem) -> impl Iterator<Item = &Operation> {
    [&item.get, &item.post, &item.patch, &item.put, &item.delete]
        .into_iter()
        .flatten()
}

fn operation_mut<'a>(item: &'a mut PathItem, method: &str) -> Option<&'a mut Operation> {
    match method {
        "get" => item.get.as_mut(),
        "post" => item.post.as_mut(),
        "patch" => item.patch.as_mut(),
        "put" => item.put.as_mut(),
        "delete" => item.delete.as_mut(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use utoipa::OpenApi;

    #[test]
    fn links_name_their_operation_as_openapi_spells_it() {
        let document = serde_json::to_value(super::super::ApiDoc::openapi()).unwrap();
        let link =
            &document["paths"]["/tickets"]["post"]["responses"]["201"]["links"]["RecordEvent"];
        assert_eq!(link["operationId"], "create_ticket_event");
        assert!(link.get("operation_id").is_none(), "{link}");
        assert_eq!(link["parameters"]["id"], "$response.body#/id");
    }
}
