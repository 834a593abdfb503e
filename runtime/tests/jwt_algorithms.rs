//! Every algorithm `[[auth.jwt]]` accepts (HS256/384/512, RS256/384/512, PS256/384/512,
//! ES256/384, EdDSA) verifies with the crypto backend jsonwebtoken is built with
//! (aws-lc), and a token whose payload was swapped under a valid signature is refused.
//! Keys: `tests/fixtures` (see its README).

mod common;

use common::jwt::{fixture, jwt_config};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;
use tmf688_runtime::Authenticator;
use tmf688_runtime::auth::{AuthConfig, Issuer, JwtConfig, Principal, Role};

const SECRET: &str = "test-only secret for the HS* algorithms";

/// The key signing `alg` in the test, and the `[[auth.jwt]]` entry verifying it (the
/// shared secret, or the public half of a fixture key pair).
fn signer_and_entry(name: &str, alg: Algorithm) -> (EncodingKey, JwtConfig) {
    let pair = |signing: EncodingKey, public: &str| {
        let entry = JwtConfig {
            public_key_pem: Some(fixture(public)),
            ..jwt_config(name)
        };
        (signing, entry)
    };
    let private = |file: &str| fixture(file).into_bytes();
    match alg {
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => (
            EncodingKey::from_secret(SECRET.as_bytes()),
            JwtConfig {
                secret: Some(SECRET.into()),
                ..jwt_config(name)
            },
        ),
        Algorithm::ES256 => pair(
            EncodingKey::from_ec_pem(&private("ec-p256-private.pem")).unwrap(),
            "ec-p256-public.pem",
        ),
        Algorithm::ES384 => pair(
            EncodingKey::from_ec_pem(&private("ec-p384-private.pem")).unwrap(),
            "ec-p384-public.pem",
        ),
        Algorithm::EdDSA => pair(
            EncodingKey::from_ed_pem(&private("ed25519-private.pem")).unwrap(),
            "ed25519-public.pem",
        ),
        // RSA: the public key as SubjectPublicKeyInfo, and for RS384 as PKCS#1.
        rsa => pair(
            EncodingKey::from_rsa_pem(&private("rsa-private.pem")).unwrap(),
            if rsa == Algorithm::RS384 {
                "rsa-public-pkcs1.pem"
            } else {
                "rsa-public.pem"
            },
        ),
    }
}

#[test]
fn every_supported_algorithm_verifies() {
    let exp = jsonwebtoken::get_current_timestamp() + 600;
    let mut checked = 0;
    for name in [
        "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256",
        "ES384", "EdDSA",
    ] {
        let alg: Algorithm = name.parse().unwrap();
        let (signing, config) = signer_and_entry(name, alg);
        let auth = Authenticator::from_config(&AuthConfig {
            api_keys: Vec::new(),
            jwt: vec![config],
        })
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        let sign = |role: &str| {
            jsonwebtoken::encode(
                &Header::new(alg),
                &json!({"sub": format!("{name}-caller"), "role": role, "exp": exp}),
                &signing,
            )
            .unwrap()
        };
        let token = sign("pss");
        let principal = auth
            .authenticate_credential(&token)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            principal,
            // The only entry, without an `issuer`: namespace `#1`.
            Principal::new(
                format!("{name}-caller"),
                Role::Pss,
                Issuer::Jwt("#1".into())
            ),
            "{name}"
        );
        // The payload of another token under this signature: refused.
        let admin = sign("admin");
        let mut parts: Vec<&str> = token.split('.').collect();
        parts[1] = admin.split('.').nth(1).unwrap();
        let forged = parts.join(".");
        let refused = auth.authenticate_credential(&forged).unwrap_err();
        assert!(
            refused.to_string().contains("signature"),
            "{name}: {refused}"
        );
        checked += 1;
    }
    assert_eq!(checked, 12);
}
