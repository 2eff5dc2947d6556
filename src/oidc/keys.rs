//! The provider's key set (JWKS): which published keys can verify signatures, and which one
//! a token's header selects. Keys that cannot (encryption keys, symmetric keys, unknown
//! types or curves, malformed entries) are left out rather than failing the whole set.

use super::claims::TokenHeader;
use jsonwebtoken::jwk::{
    AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, KeyOperations, PublicKeyUse,
};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::Value;

/// A published key that can verify signatures.
#[derive(Debug)]
pub(crate) struct VerificationKey {
    kid: Option<String>,
    /// The one algorithm the key declares, if it does.
    alg: Option<Algorithm>,
    kind: KeyKind,
    pub(crate) key: DecodingKey,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyKind {
    Rsa,
    EcP256,
    EcP384,
    Ed25519,
}

impl KeyKind {
    fn fits(self, alg: Algorithm) -> bool {
        matches!(
            (self, alg),
            (
                KeyKind::Rsa,
                Algorithm::RS256
                    | Algorithm::RS384
                    | Algorithm::RS512
                    | Algorithm::PS256
                    | Algorithm::PS384
                    | Algorithm::PS512
            ) | (KeyKind::EcP256, Algorithm::ES256)
                | (KeyKind::EcP384, Algorithm::ES384)
                | (KeyKind::Ed25519, Algorithm::EdDSA)
        )
    }
}

impl VerificationKey {
    /// Whether this key may verify a signature made with `alg`: its type (and curve) fit,
    /// and so does its own `alg` if it names one.
    fn fits(&self, alg: Algorithm) -> bool {
        self.kind.fits(alg) && self.alg.is_none_or(|own| own == alg)
    }
}

/// The usable keys of one fetched key set.
#[derive(Debug, Default)]
pub(crate) struct KeySet {
    keys: Vec<VerificationKey>,
}

/// The outcome of looking a token's key up.
#[derive(Debug)]
pub(crate) enum KeyLookup<'a> {
    Found(&'a VerificationKey),
    /// No key with that kid (or, without a kid, none of the token's type): a fresher key set
    /// may have it.
    Unknown,
    /// The key is known but cannot verify this token; a fresher set will not change that.
    Unfit(&'static str),
}

impl KeySet {
    /// Reads a JWKS document; an error (for an "unavailable" answer) if it is not one.
    pub(crate) fn from_document(document: &Value) -> Result<KeySet, String> {
        let Some(entries) = document.get("keys").and_then(Value::as_array) else {
            return Err("the key set has no `keys` array".into());
        };
        let keys = entries.iter().filter_map(usable_key).collect();
        Ok(KeySet { keys })
    }

    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    /// The key that verifies a token with `header`: the one with its kid, or, for a token
    /// without a kid, the only key of its type.
    pub(crate) fn find(&self, header: &TokenHeader) -> KeyLookup<'_> {
        match &header.kid {
            Some(kid) => {
                let mut named = self
                    .keys
                    .iter()
                    .filter(|key| key.kid.as_deref() == Some(kid.as_str()))
                    .peekable();
                if named.peek().is_none() {
                    return KeyLookup::Unknown;
                }
                match named.find(|key| key.fits(header.alg)) {
                    Some(key) => KeyLookup::Found(key),
                    None => KeyLookup::Unfit("token algorithm does not match its key"),
                }
            }
            None => {
                let mut fitting = self.keys.iter().filter(|key| key.fits(header.alg));
                match (fitting.next(), fitting.next()) {
                    (Some(key), None) => KeyLookup::Found(key),
                    (None, _) => KeyLookup::Unknown,
                    (Some(_), Some(_)) => KeyLookup::Unfit(
                        "token names no key (`kid`) and the provider publishes several",
                    ),
                }
            }
        }
    }
}

fn usable_key(entry: &Value) -> Option<VerificationKey> {
    let jwk: Jwk = serde_json::from_value(entry.clone()).ok()?;
    let common = &jwk.common;
    if common
        .public_key_use
        .as_ref()
        .is_some_and(|usage| *usage != PublicKeyUse::Signature)
    {
        return None;
    }
    if common
        .key_operations
        .as_ref()
        .is_some_and(|ops| !ops.contains(&KeyOperations::Verify))
    {
        return None;
    }
    let alg = match common.key_algorithm {
        None => None,
        Some(KeyAlgorithm::UNKNOWN_ALGORITHM) => return None,
        Some(declared) => Some(Algorithm::try_from(declared).ok()?),
    };
    let kind = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => KeyKind::Rsa,
        AlgorithmParameters::EllipticCurve(params) => match params.curve {
            EllipticCurve::P256 => KeyKind::EcP256,
            EllipticCurve::P384 => KeyKind::EcP384,
            _ => return None,
        },
        AlgorithmParameters::OctetKeyPair(params) if params.curve == EllipticCurve::Ed25519 => {
            KeyKind::Ed25519
        }
        _ => return None,
    };
    if alg.is_some_and(|alg| !kind.fits(alg)) {
        return None;
    }
    let key = DecodingKey::from_jwk(&jwk).ok()?;
    Some(VerificationKey {
        kid: common.key_id.clone(),
        alg,
        kind,
        key,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rsa(kid: &str) -> Value {
        json!({"kty": "RSA", "kid": kid, "n": "sXch", "e": "AQAB"})
    }

    fn header(alg: Algorithm, kid: Option<&str>) -> TokenHeader {
        TokenHeader {
            alg,
            kid: kid.map(str::to_owned),
        }
    }

    fn set(keys: Vec<Value>) -> KeySet {
        KeySet::from_document(&json!({ "keys": keys })).unwrap()
    }

    #[test]
    fn keys_that_cannot_verify_signatures_are_left_out() {
        let keys = set(vec![
            rsa("plain"),
            json!({"kty": "RSA", "kid": "enc", "use": "enc", "n": "sXch", "e": "AQAB"}),
            json!({"kty": "RSA", "kid": "oaep", "alg": "RSA-OAEP", "n": "sXch", "e": "AQAB"}),
            json!({"kty": "RSA", "kid": "ops", "key_ops": ["encrypt"], "n": "sXch", "e": "AQAB"}),
            json!({"kty": "RSA", "kid": "odd", "alg": "ES256", "n": "sXch", "e": "AQAB"}),
            json!({"kty": "oct", "kid": "secret", "k": "c2VjcmV0"}),
            json!({"kty": "EC", "kid": "p521", "crv": "P-521", "x": "AA", "y": "AA"}),
            json!({"kty": "RSA", "kid": "broken"}),
            json!({"kty": "PQC", "kid": "future"}),
            json!("not a key"),
        ]);
        assert_eq!(keys.len(), 1);
        assert!(KeySet::from_document(&json!({"keys": {}})).is_err());
        assert!(KeySet::from_document(&json!([rsa("a")])).is_err());
    }

    #[test]
    fn a_kid_selects_its_key_if_the_algorithm_fits() {
        let keys = set(vec![
            rsa("r1"),
            json!({"kty": "RSA", "kid": "r256", "alg": "RS256", "n": "sXch", "e": "AQAB"}),
            json!({"kty": "EC", "kid": "e1", "crv": "P-256", "x": "AA", "y": "AA"}),
        ]);
        assert!(matches!(
            keys.find(&header(Algorithm::PS384, Some("r1"))),
            KeyLookup::Found(_)
        ));
        assert!(matches!(
            keys.find(&header(Algorithm::RS256, Some("r256"))),
            KeyLookup::Found(_)
        ));
        assert!(matches!(
            keys.find(&header(Algorithm::RS512, Some("r256"))),
            KeyLookup::Unfit(_)
        ));
        assert!(matches!(
            keys.find(&header(Algorithm::ES384, Some("e1"))),
            KeyLookup::Unfit(_)
        ));
        assert!(matches!(
            keys.find(&header(Algorithm::RS256, Some("e1"))),
            KeyLookup::Unfit(_)
        ));
        assert!(matches!(
            keys.find(&header(Algorithm::RS256, Some("gone"))),
            KeyLookup::Unknown
        ));
    }

    #[test]
    fn a_token_without_kid_needs_exactly_one_fitting_key() {
        let one_rsa = set(vec![
            rsa("r1"),
            json!({"kty": "EC", "kid": "e1", "crv": "P-256", "x": "AA", "y": "AA"}),
        ]);
        assert!(matches!(
            one_rsa.find(&header(Algorithm::RS256, None)),
            KeyLookup::Found(_)
        ));
        assert!(matches!(
            one_rsa.find(&header(Algorithm::EdDSA, None)),
            KeyLookup::Unknown
        ));
        let two_rsa = set(vec![rsa("r1"), rsa("r2")]);
        assert!(matches!(
            two_rsa.find(&header(Algorithm::RS256, None)),
            KeyLookup::Unfit(_)
        ));
    }
}
