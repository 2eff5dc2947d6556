//! `OidcVerifier` against a real OpenID provider on 127.0.0.1 (tests/oidc/provider.mjs), with
//! an injected `now`: what a token must say and how it must be signed here; key selection,
//! rotation, the refetch throttle and an unreachable provider in `oidc_provider/keys.rs`.

mod common;
#[path = "oidc_provider/keys.rs"]
mod keys;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, TimeDelta, Utc};
use common::oidc::OidcProvider;
use helpdesk::oidc::{OidcConfig, OidcError, OidcVerifier, VerifiedIdentity, looks_like_jwt};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

/// Settings for `provider`, with groups, and the refetch throttle off unless a test is about it.
fn config_for(provider: &OidcProvider) -> OidcConfig {
    OidcConfig {
        groups_claim: Some("groups".into()),
        http_timeout: Duration::from_secs(5),
        jwks_refetch_interval: Duration::ZERO,
        ..OidcConfig::new(provider.issuer(), "helpdesk")
    }
}

fn verifier_for(provider: &OidcProvider) -> OidcVerifier {
    OidcVerifier::new(config_for(provider)).expect("a valid configuration")
}

fn now() -> DateTime<Utc> {
    Utc::now()
}

fn rejection(result: Result<VerifiedIdentity, OidcError>) -> String {
    match result {
        Err(OidcError::Rejected(reason)) => reason,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

/// `token` with its payload replaced by `claims` (the signature kept).
fn with_payload(token: &str, claims: &Value) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    format!("{}.{payload}.{}", parts[0], parts[2])
}

fn payload_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

fn header_of(token: &str) -> Value {
    let header = token.split('.').next().unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap()
}

#[test]
fn a_valid_token_names_its_subject_groups_and_expiry() {
    let provider = OidcProvider::start();
    let verifier = verifier_for(&provider);
    let token = provider.token(json!({"sub": "alice", "groups": ["urp", "cst"]}), 300);
    assert!(looks_like_jwt(&token));
    let identity = verifier.verify(&token, now()).unwrap();
    assert_eq!(identity.subject, "alice");
    assert_eq!(identity.groups, ["urp", "cst"]);
    let exp = payload_of(&token)["exp"].as_i64().unwrap();
    assert_eq!(identity.expires_at.timestamp(), exp);

    let single_group = provider.token(json!({"groups": "urp"}), 300);
    assert_eq!(
        verifier.verify(&single_group, now()).unwrap().groups,
        ["urp"]
    );
}

#[test]
fn the_identity_can_be_read_from_the_email_claim() {
    let provider = OidcProvider::start();
    let verifier = OidcVerifier::new(OidcConfig {
        identity_claim: "email".into(),
        ..config_for(&provider)
    })
    .unwrap();
    let token = provider.token(
        json!({"sub": "f81d4fae", "email": "alice@comune.example.it", "email_verified": true}),
        300,
    );
    let identity = verifier.verify(&token, now()).unwrap();
    assert_eq!(identity.subject, "alice@comune.example.it");

    let without_email = provider.token(json!({"sub": "f81d4fae"}), 300);
    assert_eq!(
        rejection(verifier.verify(&without_email, now())),
        "token has no `email` claim with a non-empty string"
    );
}

#[test]
fn a_token_from_the_providers_token_endpoint_verifies() {
    let provider = OidcProvider::start();
    let verifier = verifier_for(&provider);
    let reply: Value = ureq::post(&format!("{}/token", provider.issuer()))
        .send_form(&[
            ("grant_type", "password"),
            ("username", "bob"),
            ("scope", "openid"),
        ])
        .expect("a token from the token endpoint")
        .into_json()
        .unwrap();
    let token = reply["access_token"].as_str().expect("an access token");
    assert_eq!(verifier.verify(token, now()).unwrap().subject, "bob");
}

#[test]
fn expiry_allows_the_leeway_and_no_more() {
    let provider = OidcProvider::start();
    let verifier = verifier_for(&provider);
    let token = provider.token(json!({}), 300);
    let exp = DateTime::from_timestamp(payload_of(&token)["exp"].as_i64().unwrap(), 0).unwrap();
    // Leeway 60 s by default.
    assert!(
        verifier
            .verify(&token, exp + TimeDelta::seconds(59))
            .is_ok()
    );
    assert_eq!(
        rejection(verifier.verify(&token, exp + TimeDelta::seconds(61))),
        "token has expired"
    );
    let expired = provider.token(json!({}), -120);
    assert_eq!(
        rejection(verifier.verify(&expired, now())),
        "token has expired"
    );
    let no_exp = provider.token(json!({"exp": null}), 300);
    assert!(rejection(verifier.verify(&no_exp, now())).contains("no `exp`"));
}

#[test]
fn tokens_not_valid_yet_are_rejected_beyond_the_leeway() {
    let provider = OidcProvider::start();
    let verifier = verifier_for(&provider);
    let t = now().timestamp();
    let soon = provider.token(json!({"nbf": t + 30}), 300);
    assert!(verifier.verify(&soon, now()).is_ok());
    let later = provider.token(json!({"nbf": t + 600}), 900);
    assert!(rejection(verifier.verify(&later, now())).contains("nbf"));
    let future_iat = provider.token(json!({"iat": t + 600}), 900);
    assert!(rejection(verifier.verify(&future_iat, now())).contains("iat"));
}

#[test]
fn a_token_for_another_audience_is_rejected() {
    let provider = OidcProvider::start();
    let verifier = verifier_for(&provider);
    let other = provider.token(json!({"aud": "another-service"}), 300);
    assert_eq!(
        rejection(verifier.verify(&other, now())),
        "token audience does not include `helpdesk`"
    );
    let both = provider.token(json!({"aud": ["another-service", "helpdesk"]}), 300);
    assert!(verifier.verify(&both, now()).is_ok());
    let none = provider.token(json!({"aud": null}), 300);
    assert!(rejection(verifier.verify(&none, now())).contains("no `aud`"));
}

#[test]
fn a_token_from_another_issuer_is_rejected() {
    let provider = OidcProvider::start();
    let verifier = verifier_for(&provider);
    let forged = provider.token(json!({"iss": "https://sso.example.it/realms/csi"}), 300);
    assert!(rejection(verifier.verify(&forged, now())).contains("`iss`"));
    let slash = provider.token(json!({"iss": format!("{}/", provider.issuer())}), 300);
    assert!(rejection(verifier.verify(&slash, now())).contains("`iss`"));
}

#[test]
fn a_configured_issuer_may_carry_one_trailing_slash() {
    let provider = OidcProvider::start();
    let verifier = OidcVerifier::new(OidcConfig {
        issuer: format!("{}/", provider.issuer()),
        ..config_for(&provider)
    })
    .unwrap();
    assert!(
        verifier
            .verify(&provider.token(json!({}), 300), now())
            .is_ok()
    );
}

#[test]
fn a_discovery_document_naming_another_issuer_makes_the_provider_unavailable() {
    let provider = OidcProvider::start();
    // `..` is resolved before the request: discovery is the provider's own, and it names the
    // issuer http://127.0.0.1:PORT, not the configured one.
    let verifier = OidcVerifier::new(OidcConfig {
        issuer: format!("{}/realms/..", provider.issuer()),
        ..config_for(&provider)
    })
    .unwrap();
    let result = verifier.verify(&provider.token(json!({}), 300), now());
    let Err(OidcError::Unavailable(reason)) = result else {
        panic!("expected the provider to be unavailable, got {result:?}");
    };
    assert!(reason.contains("another issuer"), "{reason}");
}

#[test]
fn a_tampered_payload_or_signature_is_rejected() {
    let provider = OidcProvider::start();
    let verifier = verifier_for(&provider);
    let token = provider.token(json!({"sub": "alice", "groups": ["urp"]}), 300);
    assert!(verifier.verify(&token, now()).is_ok());

    let mut claims = payload_of(&token);
    claims["groups"] = json!(["urp", "admin"]);
    assert_eq!(
        rejection(verifier.verify(&with_payload(&token, &claims), now())),
        "token signature does not verify"
    );

    let (message, signature) = token.rsplit_once('.').unwrap();
    let mut bytes = URL_SAFE_NO_PAD.decode(signature).unwrap();
    bytes[0] ^= 0x80;
    let flipped = format!("{message}.{}", URL_SAFE_NO_PAD.encode(&bytes));
    let reason = rejection(verifier.verify(&flipped, now()));
    assert_eq!(reason, "token signature does not verify");
    assert!(!reason.contains(signature) && !reason.contains(message));
}

#[test]
fn an_unsigned_token_is_rejected() {
    let provider = OidcProvider::start();
    let verifier = verifier_for(&provider);
    let token = provider.token(json!({}), 300);
    let kid = header_of(&token)["kid"].clone();
    let header =
        URL_SAFE_NO_PAD.encode(json!({"alg": "none", "typ": "JWT", "kid": kid}).to_string());
    let payload = token.split('.').nth(1).unwrap();
    for unsigned in [
        format!("{header}.{payload}."),
        format!("{header}.{payload}.{}", token.rsplit('.').next().unwrap()),
    ] {
        assert!(rejection(verifier.verify(&unsigned, now())).contains("alg none"));
    }
    // The verifier is unharmed.
    assert!(verifier.verify(&token, now()).is_ok());
}

#[test]
fn a_token_signed_with_a_shared_secret_is_rejected() {
    let provider = OidcProvider::start();
    let verifier = verifier_for(&provider);
    let token = provider.token(json!({}), 300);
    let claims = payload_of(&token);
    let kid = header_of(&token)["kid"].as_str().unwrap().to_owned();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.kid = Some(kid);
    // A plain secret, and the provider's public modulus as the secret (key confusion).
    let modulus = provider.jwks()["keys"][0]["n"].as_str().unwrap().to_owned();
    for secret in [b"some shared secret".as_slice(), modulus.as_bytes()] {
        let key = jsonwebtoken::EncodingKey::from_secret(secret).unwrap();
        let hs256 = jsonwebtoken::encode(&header, &claims, &key).unwrap();
        assert!(rejection(verifier.verify(&hs256, now())).contains("shared secret"));
    }
}
