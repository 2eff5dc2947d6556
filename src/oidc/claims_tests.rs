use super::*;
use serde_json::json;

const ISSUER: &str = "https://sso.example.it/realms/csi";

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

fn token_with_header(header: Value) -> String {
    format!("{}.{}.c2ln", b64(&header), b64(&json!({"sub": "alice"})))
}

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-02T09:00:00Z")
        .unwrap()
        .to_utc()
}

fn config() -> OidcConfig {
    OidcConfig {
        groups_claim: Some("groups".into()),
        ..OidcConfig::new(ISSUER, "helpdesk")
    }
}

/// Valid claims at `now()`, with `changes` merged (null removes a claim).
fn claims(changes: Value) -> Claims {
    let t = now().timestamp();
    let mut claims = json!({
        "iss": ISSUER, "aud": "helpdesk", "sub": "alice", "email": "alice@example.it",
        "iat": t - 10, "nbf": t - 10, "exp": t + 300, "groups": ["urp", "cst"],
    });
    for (name, value) in changes.as_object().unwrap() {
        if value.is_null() {
            claims.as_object_mut().unwrap().remove(name);
        } else {
            claims[name] = value.clone();
        }
    }
    claims.as_object().unwrap().clone()
}

fn check(claims: &Claims) -> Result<VerifiedIdentity, OidcError> {
    check_claims(claims, ISSUER, &config(), now())
}

fn rejection(result: Result<VerifiedIdentity, OidcError>) -> String {
    match result {
        Err(OidcError::Rejected(reason)) => reason,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

#[test]
fn jwt_shapes_are_recognised_cheaply() {
    let header = b64(&json!({"alg": "RS256", "kid": "k1"}));
    assert!(looks_like_jwt(&format!("{header}.eyJzdWIiOiJhIn0.c2ln")));
    // Unsigned tokens still look like JWTs (and are then rejected by the verifier).
    assert!(looks_like_jwt(&format!("{header}.eyJzdWIiOiJhIn0.")));
    for not_a_jwt in [
        "",
        "hd_0123456789abcdefghijABCDEFGHIJ-_0123456789",
        "a.b",
        "a.b.c.d",
        &format!("{header}..c2ln"),
        &format!("{}.eyJ9.c2ln", URL_SAFE_NO_PAD.encode("[1,2]")),
        &format!("{}.eyJ9.c2ln", URL_SAFE_NO_PAD.encode("not json")),
        &format!("{header}=.eyJ9.c2ln"),
        &format!("{header}.ey J9.c2ln"),
        &format!("{header}.eyJ9.c2/n"),
        &format!("{header}.{}.c2ln", "a".repeat(MAX_TOKEN_LENGTH)),
    ] {
        assert!(!looks_like_jwt(not_a_jwt), "{not_a_jwt:.60}");
    }
}

#[test]
fn asymmetric_algorithms_pass_the_header_check_with_their_kid() {
    for (name, alg) in [
        ("RS256", Algorithm::RS256),
        ("PS512", Algorithm::PS512),
        ("ES256", Algorithm::ES256),
        ("ES384", Algorithm::ES384),
        ("EdDSA", Algorithm::EdDSA),
    ] {
        let header = read_header(&token_with_header(json!({"alg": name, "kid": "k1"})));
        assert_eq!(
            header,
            Ok(TokenHeader {
                alg,
                kid: Some("k1".into())
            })
        );
    }
    let header = read_header(&token_with_header(json!({"alg": "RS256"}))).unwrap();
    assert_eq!(header.kid, None);
}

#[test]
fn unsigned_symmetric_and_unknown_algorithms_are_rejected_cleanly() {
    let cases = [
        (json!({"alg": "none"}), "alg none"),
        (json!({"alg": "NONE", "kid": "k1"}), "alg none"),
        (json!({"alg": "HS256", "kid": "k1"}), "shared secret"),
        (json!({"alg": "HS512"}), "shared secret"),
        (json!({"alg": "ES512"}), "not supported"),
        (json!({"alg": 256}), "no `alg`"),
        (json!({"typ": "JWT"}), "no `alg`"),
        (json!({"alg": "RS256", "kid": 7}), "`kid` is not a string"),
    ];
    for (header, reason) in cases {
        let token = format!(
            "{}.{}.",
            b64(&header),
            b64(&json!({"sub": "alice", "secret": "s3cr3t"}))
        );
        let Err(OidcError::Rejected(message)) = read_header(&token) else {
            panic!("{header} passed");
        };
        assert!(message.contains(reason), "{header}: {message}");
        assert!(!message.contains(&token) && !message.contains("s3cr3t"));
    }
    for garbage in ["", "a.b", "%%%.b.c", "e30.b.c.d"] {
        assert!(matches!(read_header(garbage), Err(OidcError::Rejected(_))));
    }
}

#[test]
fn valid_claims_give_the_identity_groups_and_expiry() {
    let identity = check(&claims(json!({}))).unwrap();
    assert_eq!(identity.subject, "alice");
    assert_eq!(identity.groups, ["urp", "cst"]);
    assert_eq!(identity.expires_at, now() + TimeDelta::seconds(300));

    let by_email = OidcConfig {
        identity_claim: "email".into(),
        ..config()
    };
    let verified = claims(json!({"email_verified": true}));
    let identity = check_claims(&verified, ISSUER, &by_email, now()).unwrap();
    assert_eq!(identity.subject, "alice@example.it");
    // An address the provider has not verified is no identity.
    for unverified in [
        json!({}),
        json!({"email_verified": false}),
        json!({"email_verified": "true"}),
    ] {
        let refused = check_claims(&claims(unverified), ISSUER, &by_email, now());
        assert!(
            matches!(refused, Err(OidcError::Rejected(reason)) if reason.contains("not verified"))
        );
    }
}

#[test]
fn expiry_is_checked_against_the_injected_now_with_leeway() {
    let t = now().timestamp();
    // Leeway 60: expired 59 s ago passes, 60 s ago does not.
    assert!(check(&claims(json!({"exp": t - 59}))).is_ok());
    assert_eq!(
        rejection(check(&claims(json!({"exp": t - 60})))),
        "token has expired"
    );
    assert!(rejection(check(&claims(json!({"exp": null})))).contains("no `exp`"));
    assert!(rejection(check(&claims(json!({"exp": "tomorrow"})))).contains("`exp`"));
    assert!(check(&claims(json!({"exp": (t + 10) as f64 + 0.5}))).is_ok());
    let strict = OidcConfig {
        leeway_seconds: 0,
        ..config()
    };
    let result = check_claims(&claims(json!({"exp": t})), ISSUER, &strict, now());
    assert_eq!(rejection(result), "token has expired");
}

#[test]
fn not_before_and_issued_at_may_not_lie_in_the_future_beyond_leeway() {
    let t = now().timestamp();
    assert!(check(&claims(json!({"nbf": t + 60, "iat": t + 60}))).is_ok());
    assert!(rejection(check(&claims(json!({"nbf": t + 61})))).contains("nbf"));
    assert!(rejection(check(&claims(json!({"iat": t + 61})))).contains("iat"));
    assert!(check(&claims(json!({"nbf": null, "iat": null}))).is_ok());
}

#[test]
fn issuer_and_audience_must_match() {
    assert!(rejection(check(&claims(json!({"iss": "https://evil.example"})))).contains("iss"));
    assert!(rejection(check(&claims(json!({"iss": format!("{ISSUER}/")})))).contains("iss"));
    assert!(rejection(check(&claims(json!({"iss": null})))).contains("no `iss`"));
    assert!(check(&claims(json!({"aud": ["other", "helpdesk"]}))).is_ok());
    assert!(rejection(check(&claims(json!({"aud": "other"})))).contains("`helpdesk`"));
    assert!(rejection(check(&claims(json!({"aud": ["other"]})))).contains("`helpdesk`"));
    assert!(rejection(check(&claims(json!({"aud": ["helpdesk", 1]})))).contains("`aud`"));
    assert!(rejection(check(&claims(json!({"aud": null})))).contains("no `aud`"));
}

#[test]
fn the_identity_claim_must_be_a_non_empty_string() {
    for sub in [
        json!(null),
        json!(""),
        json!("  "),
        json!(42),
        json!(["alice"]),
    ] {
        let reason = rejection(check(&claims(json!({ "sub": sub }))));
        assert_eq!(reason, "token has no `sub` claim with a non-empty string");
    }
}

#[test]
fn groups_may_be_missing_one_string_or_an_array_of_strings() {
    assert!(
        check(&claims(json!({"groups": null})))
            .unwrap()
            .groups
            .is_empty()
    );
    assert_eq!(
        check(&claims(json!({"groups": "urp"}))).unwrap().groups,
        ["urp"]
    );
    assert!(rejection(check(&claims(json!({"groups": ["urp", 1]})))).contains("groups"));
    assert!(rejection(check(&claims(json!({"groups": {"a": 1}})))).contains("groups"));
    let without = OidcConfig {
        groups_claim: None,
        ..config()
    };
    let identity = check_claims(&claims(json!({})), ISSUER, &without, now()).unwrap();
    assert!(identity.groups.is_empty());
}
