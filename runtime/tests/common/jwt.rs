//! JWT test helpers: the fixture keys (`tests/fixtures`, see its README) and a bare
//! `[[auth.jwt]]` entry to fill in.

use tmf688_runtime::auth::JwtConfig;

/// A file of `tests/fixtures`.
pub fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// An entry for `alg` with no key, issuer, audience or leeway, and the default claims.
pub fn jwt_config(alg: &str) -> JwtConfig {
    JwtConfig {
        alg: alg.into(),
        secret: None,
        secret_env: None,
        public_key_pem: None,
        public_key_file: None,
        issuer: None,
        audience: None,
        role_claim: "role".into(),
        name_claim: "sub".into(),
        leeway_seconds: None,
        subjects: None,
    }
}
