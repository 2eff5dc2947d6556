//! Key selection, rotation, the refetch throttle, and a provider that cannot be reached.

use super::*;

#[test]
fn a_token_without_kid_needs_a_single_published_key() {
    let provider = OidcProvider::start();
    let verifier = verifier_for(&provider);
    let no_kid = json!({"claims": {}, "expires_in": 300, "header": {"kid": null}});
    let token = provider.token_with(no_kid.clone());
    assert!(header_of(&token).get("kid").is_none());
    assert!(verifier.verify(&token, now()).is_ok());

    provider.rotate(false);
    // The verifier sees the second key once it fetches the set again (prompted here).
    let (unknown, _) = provider.token_with_unpublished_key(json!({}), 300);
    assert!(verifier.verify(&unknown, now()).is_err());
    let token = provider.token_with(no_kid);
    assert!(rejection(verifier.verify(&token, now())).contains("several"));
}

#[test]
fn an_unknown_key_is_rejected_until_the_provider_publishes_it() {
    let provider = OidcProvider::start();
    let verifier = verifier_for(&provider);
    let old = provider.token(json!({"sub": "alice"}), 300);
    assert!(verifier.verify(&old, now()).is_ok());

    // Signed by a key the provider holds but does not publish: refetched, still unknown.
    let (early, next_kid) = provider.token_with_unpublished_key(json!({"sub": "bob"}), 300);
    let before = provider.jwks_requests();
    assert_eq!(
        rejection(verifier.verify(&early, now())),
        "token is signed by a key the provider does not publish"
    );
    assert_eq!(provider.jwks_requests(), before + 1, "one refetch");

    // The provider rotates to that key: the verifier refetches and accepts it, and the old
    // key stays published, so its tokens stay valid.
    provider.rotate_to(&next_kid, false);
    assert_eq!(verifier.verify(&early, now()).unwrap().subject, "bob");
    let fresh = provider.token(json!({"sub": "carol"}), 300);
    assert_eq!(header_of(&fresh)["kid"], json!(next_kid));
    assert_eq!(verifier.verify(&fresh, now()).unwrap().subject, "carol");
    assert_eq!(verifier.verify(&old, now()).unwrap().subject, "alice");
}

#[test]
fn keys_the_provider_dropped_are_rejected_after_the_next_refetch() {
    let provider = OidcProvider::start();
    let verifier = verifier_for(&provider);
    let old = provider.token(json!({"sub": "alice"}), 300);
    assert!(verifier.verify(&old, now()).is_ok());

    provider.rotate(true);
    // Until a token names a key it lacks, the verifier keeps the set it has (and its
    // `jwks_max_age`, an hour by default, bounds that).
    assert!(verifier.verify(&old, now()).is_ok());
    let fresh = provider.token(json!({"sub": "bob"}), 300);
    assert_eq!(verifier.verify(&fresh, now()).unwrap().subject, "bob");
    // That refetch replaced the whole set: the dropped key is gone.
    assert_eq!(
        rejection(verifier.verify(&old, now())),
        "token is signed by a key the provider does not publish"
    );
}

#[test]
fn an_expired_key_set_is_fetched_again_before_use() {
    let provider = OidcProvider::start();
    let verifier = OidcVerifier::new(OidcConfig {
        jwks_max_age: Duration::ZERO,
        ..config_for(&provider)
    })
    .unwrap();
    let old = provider.token(json!({}), 300);
    assert!(verifier.verify(&old, now()).is_ok());
    provider.rotate(true);
    assert!(rejection(verifier.verify(&old, now())).contains("does not publish"));
}

#[test]
fn unknown_kids_cannot_make_the_verifier_hammer_the_provider() {
    let provider = OidcProvider::start();
    let verifier = OidcVerifier::new(OidcConfig {
        jwks_refetch_interval: Duration::from_secs(60),
        ..config_for(&provider)
    })
    .unwrap();
    let token = provider.token(json!({}), 300);
    assert!(verifier.verify(&token, now()).is_ok());
    let fetched = provider.jwks_requests();
    for n in 0..20 {
        let garbage = provider.token_with(json!({"header": {"kid": format!("garbage-{n}")}}));
        assert!(rejection(verifier.verify(&garbage, now())).contains("does not publish"));
    }
    // Even a real rotation goes unseen within the interval after the last fetch.
    provider.rotate(false);
    let rotated = provider.token(json!({}), 300);
    assert!(rejection(verifier.verify(&rotated, now())).contains("does not publish"));
    assert_eq!(
        provider.jwks_requests(),
        fetched,
        "no refetch within the interval"
    );
    assert!(verifier.verify(&token, now()).is_ok());
}

#[test]
fn a_rotation_is_seen_once_the_refetch_interval_has_passed() {
    let provider = OidcProvider::start();
    let interval = Duration::from_secs(1);
    let verifier = OidcVerifier::new(OidcConfig {
        jwks_refetch_interval: interval,
        ..config_for(&provider)
    })
    .unwrap();
    assert!(
        verifier
            .verify(&provider.token(json!({}), 300), now())
            .is_ok()
    );
    let fetched = provider.jwks_requests();
    provider.rotate(false);
    std::thread::sleep(interval + Duration::from_millis(100));
    let rotated = provider.token(json!({}), 300);
    assert!(verifier.verify(&rotated, now()).is_ok());
    assert_eq!(provider.jwks_requests(), fetched + 1);
}

#[test]
fn elliptic_curve_and_edwards_keys_verify_too() {
    let provider = OidcProvider::start();
    let verifier = verifier_for(&provider);
    for alg in ["ES256", "ES384", "EdDSA"] {
        let kid = provider.new_key(alg);
        provider.rotate_to(&kid, false);
        let token = provider.token(json!({"sub": alg}), 300);
        assert_eq!(header_of(&token)["alg"], json!(alg));
        assert_eq!(verifier.verify(&token, now()).unwrap().subject, alg);
    }
}

#[test]
fn a_provider_that_cannot_be_reached_is_unavailable() {
    let port = common::smtp::free_port();
    let verifier = OidcVerifier::new(OidcConfig {
        http_timeout: Duration::from_secs(2),
        ..OidcConfig::new(format!("http://127.0.0.1:{port}"), "helpdesk")
    })
    .unwrap();
    let provider = OidcProvider::start();
    let token = provider.token(json!({}), 300);
    for _ in 0..2 {
        let result = verifier.verify(&token, now());
        assert!(
            matches!(result, Err(OidcError::Unavailable(_))),
            "{result:?}"
        );
    }
    assert!(matches!(
        verifier.prefetch(),
        Err(OidcError::Unavailable(_))
    ));
}

#[test]
fn cached_keys_outlive_the_provider_but_unknown_keys_then_are_unavailable() {
    let provider = OidcProvider::start();
    let verifier = verifier_for(&provider);
    verifier.prefetch().unwrap();
    let token = provider.token(json!({}), 300);
    let (unknown, _) = provider.token_with_unpublished_key(json!({}), 300);
    drop(provider);
    assert!(verifier.verify(&token, now()).is_ok());
    let result = verifier.verify(&unknown, now());
    assert!(
        matches!(result, Err(OidcError::Unavailable(_))),
        "{result:?}"
    );
}

#[test]
fn one_verifier_serves_many_threads() {
    let provider = OidcProvider::start();
    let verifier = Arc::new(verifier_for(&provider));
    let tokens: Vec<String> = (0..4)
        .map(|n| provider.token(json!({"sub": format!("user-{n}")}), 300))
        .collect();
    let handles: Vec<_> = tokens
        .into_iter()
        .enumerate()
        .map(|(n, token)| {
            let verifier = verifier.clone();
            std::thread::spawn(move || {
                let identity = verifier.verify(&token, Utc::now()).unwrap();
                assert_eq!(identity.subject, format!("user-{n}"));
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
    assert_eq!(provider.jwks_requests(), 1, "one fetch for all threads");
}
