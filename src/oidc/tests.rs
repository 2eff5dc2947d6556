//! Verification without a provider: tokens signed here with a fixed Ed25519 key. The tests
//! against a real provider are in `tests/oidc_provider.rs`.

use super::*;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::TimeDelta;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use keys::KeySet;
use serde_json::{Value, json};

const ISSUER: &str = "https://sso.example.it/realms/csi";
/// A test-only Ed25519 key (PKCS#8 DER) and its public half (JWK `x`).
const ED25519_PKCS8: &str = "MC4CAQAwBQYDK2VwBCIEIKv9GiyMRAIelvoIfT2NiuLG1l7D7D9MNIE1VGsOFOZS";
const ED25519_X: &str = "5G09wS3Cntfqm9K7Lmz4NTzS0nvKbtPBR3UQuRyuRLY";

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-02T09:00:00Z")
        .unwrap()
        .to_utc()
}

fn config() -> OidcConfig {
    OidcConfig::new(ISSUER, "helpdesk")
}

fn key_set() -> KeySet {
    let jwk = json!({"kty": "OKP", "crv": "Ed25519", "kid": "ed1", "use": "sig", "x": ED25519_X});
    KeySet::from_document(&json!({ "keys": [jwk] })).unwrap()
}

fn sign(claims: &Value, kid: Option<&str>) -> String {
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = kid.map(str::to_owned);
    let key = EncodingKey::from_ed_der(&STANDARD.decode(ED25519_PKCS8).unwrap());
    jsonwebtoken::encode(&header, claims, &key).unwrap()
}

fn valid_claims() -> Value {
    let t = now().timestamp();
    json!({"iss": ISSUER, "aud": "helpdesk", "sub": "alice", "iat": t, "nbf": t, "exp": t + 300})
}

fn verify_at(token: &str, now: DateTime<Utc>) -> Result<VerifiedIdentity, OidcError> {
    let header = claims::read_header(token)?;
    let keys = key_set();
    match keys.find(&header) {
        KeyLookup::Found(key) => check_token(token, &header, key, ISSUER, &config(), now),
        KeyLookup::Unfit(reason) => Err(OidcError::Rejected(reason.into())),
        KeyLookup::Unknown => Err(unknown_key(&header)),
    }
}

fn rejection(result: Result<VerifiedIdentity, OidcError>) -> String {
    match result {
        Err(OidcError::Rejected(reason)) => reason,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

#[test]
fn the_verifier_can_be_shared_between_threads() {
    fn shareable<T: Send + Sync>() {}
    shareable::<OidcVerifier>();
}

#[test]
fn a_locally_signed_token_verifies_at_the_injected_now() {
    let token = sign(&valid_claims(), Some("ed1"));
    let identity = verify_at(&token, now()).unwrap();
    assert_eq!(identity.subject, "alice");
    assert_eq!(identity.expires_at, now() + TimeDelta::seconds(300));
    // The only Ed25519 key also verifies a token without kid.
    assert!(verify_at(&sign(&valid_claims(), None), now()).is_ok());
}

#[test]
fn time_checks_follow_the_injected_now_not_the_system_clock() {
    let token = sign(&valid_claims(), Some("ed1"));
    let later = now() + TimeDelta::seconds(300 + 60);
    assert_eq!(rejection(verify_at(&token, later)), "token has expired");
    assert!(verify_at(&token, later - TimeDelta::seconds(1)).is_ok());
    let earlier = now() - TimeDelta::seconds(61);
    assert!(rejection(verify_at(&token, earlier)).contains("nbf"));
}

#[test]
fn a_tampered_payload_or_signature_fails_the_signature_check() {
    let token = sign(&valid_claims(), Some("ed1"));
    let parts: Vec<&str> = token.split('.').collect();
    let mut claims = valid_claims();
    claims["sub"] = json!("mallory");
    let forged_payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let forged = format!("{}.{forged_payload}.{}", parts[0], parts[2]);
    assert_eq!(
        rejection(verify_at(&forged, now())),
        "token signature does not verify"
    );

    let mut signature = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
    signature[10] ^= 0x01;
    let flipped = format!(
        "{}.{}.{}",
        parts[0],
        parts[1],
        URL_SAFE_NO_PAD.encode(signature)
    );
    assert_eq!(
        rejection(verify_at(&flipped, now())),
        "token signature does not verify"
    );
}

#[test]
fn a_token_for_an_unknown_kid_or_another_key_type_is_rejected() {
    let token = sign(&valid_claims(), Some("other"));
    assert!(rejection(verify_at(&token, now())).contains("does not publish"));
    // An RS256 header naming the Ed25519 key.
    let header = URL_SAFE_NO_PAD.encode(json!({"alg": "RS256", "kid": "ed1"}).to_string());
    let token = token.replacen(token.split('.').next().unwrap(), &header, 1);
    assert!(rejection(verify_at(&token, now())).contains("does not match its key"));
}

#[test]
fn unsigned_and_symmetric_tokens_are_rejected_before_any_network() {
    // Nothing listens on the discard port: a fetch would answer `Unavailable`.
    let verifier = OidcVerifier::new(OidcConfig::new("http://127.0.0.1:9", "helpdesk")).unwrap();
    let payload = URL_SAFE_NO_PAD.encode(valid_claims().to_string());
    for header in [
        json!({"alg": "none"}),
        json!({"alg": "none", "kid": "ed1"}),
        json!({"alg": "HS256", "kid": "ed1"}),
    ] {
        let header = URL_SAFE_NO_PAD.encode(header.to_string());
        let token = format!("{header}.{payload}.");
        assert!(looks_like_jwt(&token));
        let reason = rejection(verifier.verify(&token, now()));
        assert!(!reason.contains(&payload), "{reason}");
    }
    let hs256 = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &valid_claims(),
        &EncodingKey::from_secret(b"some shared secret").unwrap(),
    )
    .unwrap();
    assert!(rejection(verifier.verify(&hs256, now())).contains("shared secret"));
    assert!(matches!(
        verifier.verify(&sign(&valid_claims(), Some("ed1")), now()),
        Err(OidcError::Unavailable(_))
    ));
}

#[test]
fn errors_read_as_sentences() {
    assert_eq!(
        OidcError::Rejected("token has expired".into()).to_string(),
        "token rejected: token has expired"
    );
    assert!(matches!(
        OidcVerifier::new(OidcConfig::new("http://sso.example.it", "helpdesk")),
        Err(OidcError::Config(_))
    ));
}
