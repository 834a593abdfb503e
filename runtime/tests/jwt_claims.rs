//! JWT registered claims (`iss`, `aud`, `exp`, `nbf`, `iat`) over a real loopback
//! server, as one table: two HS256 entries (one with `issuer` + `audience` and a 30 s
//! leeway, one with neither and the default 60 s) × `iss` × `aud` × time claims, each
//! token sent to `GET /topic`: 200 when accepted, 401 with a TMF `Error` naming the
//! claim when refused.

mod common;

use std::sync::Arc;

use common::jwt::jwt_config;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Map, Value, json};
use tmf688_runtime::auth::{AuthConfig, JwtConfig};
use tmf688_runtime::{AppConfig, Authenticator};

const ISSUER: &str = "https://idp.test";
const AUDIENCE: &str = "tmf688-hub";
const SECRET_CONFIGURED: &str = "test-only secret of the entry with iss + aud";
const SECRET_BARE: &str = "test-only secret of the entry with neither";

/// One `[[auth.jwt]]` entry of the table and what it accepts.
struct Entry {
    name: &'static str,
    secret: &'static str,
    issuer: Option<&'static str>,
    audience: Option<&'static str>,
    leeway_seconds: Option<u64>,
    /// The leeway in force (the configured one or the default, 60).
    leeway: i64,
    /// Accepted per [`ISS`] column.
    iss_ok: [bool; 3],
    /// Accepted per [`AUD`] column.
    aud_ok: [bool; 5],
}

const ENTRIES: [Entry; 2] = [
    Entry {
        name: "issuer+audience",
        secret: SECRET_CONFIGURED,
        issuer: Some(ISSUER),
        audience: Some(AUDIENCE),
        leeway_seconds: Some(30),
        leeway: 30,
        //      missing wrong  right
        iss_ok: [false, false, true],
        //      missing wrong  right in-list empty-list
        aud_ok: [false, false, true, true, false],
    },
    Entry {
        name: "neither",
        secret: SECRET_BARE,
        issuer: None,
        audience: None,
        leeway_seconds: None,
        leeway: 60,
        // `iss` is not checked without `issuer`.
        iss_ok: [true, true, true],
        // Without `audience`, any `aud` means the token was meant for someone else.
        aud_ok: [true, false, false, false, false],
    },
];

/// `iss` columns: the claim's value, `None` = absent.
const ISS: [(&str, Option<&str>); 3] = [
    ("iss missing", None),
    ("iss wrong", Some("https://evil.test")),
    ("iss right", Some(ISSUER)),
];

/// `aud` columns.
fn aud() -> [(&'static str, Option<Value>); 5] {
    [
        ("aud missing", None),
        ("aud wrong", Some(json!("another-hub"))),
        ("aud right", Some(json!(AUDIENCE))),
        (
            "aud right in a list",
            Some(json!(["another-hub", AUDIENCE])),
        ),
        ("aud empty list", Some(json!([]))),
    ]
}

/// Time rows: the claim a row sets (and a refusal must name), how, whether the token is
/// accepted, and the claim's value given the entry's leeway: a number is an offset from
/// now, `Null` removes the claim. Every row starts from `exp` an hour ahead.
type Time = (&'static str, &'static str, bool, fn(leeway: i64) -> Value);

const TIMES: [Time; 14] = [
    ("exp", "an hour ahead", true, |_| json!(3600)),
    ("nbf", "future beyond leeway", false, |l| json!(l + 30)),
    ("nbf", "future within leeway", true, |l| json!(l - 15)),
    ("nbf", "past", true, |_| json!(-600)),
    ("iat", "future beyond leeway", false, |l| json!(l + 30)),
    ("iat", "future within leeway", true, |l| json!(l - 15)),
    ("iat", "past", true, |_| json!(-600)),
    ("iat", "not a number", false, |_| json!("yesterday")),
    ("exp", "past beyond leeway", false, |l| json!(-l - 30)),
    ("exp", "past within leeway", true, |l| json!(-l + 15)),
    ("exp", "missing", false, |_| Value::Null),
    // RFC 7519 NumericDates may have fractions (read exactly: arbitrary_precision).
    ("exp", "fractional, an hour ahead", true, |_| json!(3600.5)),
    ("exp", "fractional, past beyond leeway", false, |l| {
        json!(-l as f64 - 30.5)
    }),
    ("nbf", "fractional, future beyond leeway", false, |l| {
        json!(l as f64 + 30.5)
    }),
];

/// A token for `entry` with these `iss` and `aud`, and the time row's claim.
fn token(entry: &Entry, iss: Option<&str>, aud: Option<&Value>, time: &Time) -> String {
    let (claim, _, _, value) = time;
    let now = jsonwebtoken::get_current_timestamp() as i64;
    let mut claims = Map::new();
    claims.insert("sub".into(), json!("claims-test"));
    claims.insert("role".into(), json!("provider"));
    claims.insert("exp".into(), json!(now + 3600));
    if let Some(iss) = iss {
        claims.insert("iss".into(), json!(iss));
    }
    if let Some(aud) = aud {
        claims.insert("aud".into(), aud.clone());
    }
    match value(entry.leeway) {
        Value::Null => claims.remove(*claim),
        Value::Number(offset) => match offset.as_i64() {
            Some(offset) => claims.insert(claim.to_string(), json!(now + offset)),
            None => claims.insert(
                claim.to_string(),
                json!(now as f64 + offset.as_f64().unwrap()),
            ),
        },
        other => claims.insert(claim.to_string(), other),
    };
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(entry.secret.as_bytes()),
    )
    .unwrap()
}

#[tokio::test]
async fn registered_claims_table_over_http() {
    let jwt = ENTRIES
        .iter()
        .map(|entry| JwtConfig {
            secret: Some(entry.secret.into()),
            issuer: entry.issuer.map(Into::into),
            audience: entry.audience.map(Into::into),
            leeway_seconds: entry.leeway_seconds,
            ..jwt_config("HS256")
        })
        .collect();
    let auth = Authenticator::from_config(&AuthConfig {
        api_keys: Vec::new(),
        jwt,
    })
    .expect("valid auth config");
    let server = common::spawn(AppConfig {
        auth: Some(Arc::new(auth)),
        ..AppConfig::default()
    })
    .await;
    let http = reqwest::Client::new();
    let url = format!("{}/tmf-api/event/v4/topic", server.url);

    let (mut accepted, mut refused, mut failures) = (0, 0, Vec::new());
    for entry in &ENTRIES {
        for (iss_column, (iss_name, iss)) in ISS.iter().enumerate() {
            for (aud_column, (aud_name, aud)) in aud().iter().enumerate() {
                for time @ (claim, how, ok, _) in &TIMES {
                    // What the token gets wrong, by claim; accepted when nothing.
                    let wrong: Vec<&str> = [
                        (!entry.iss_ok[iss_column]).then_some("iss"),
                        (!entry.aud_ok[aud_column]).then_some("aud"),
                        (!ok).then_some(*claim),
                    ]
                    .into_iter()
                    .flatten()
                    .collect();
                    let token = token(entry, *iss, aud.as_ref(), time);
                    let answer = common::json(&http, "GET", &url, Some(&token), None).await;
                    let case = format!(
                        "{} entry, {iss_name}, {aud_name}, {claim} {how}",
                        entry.name
                    );
                    let outcome = if wrong.is_empty() {
                        accepted += 1;
                        if answer.status == 200 {
                            Ok(())
                        } else {
                            Err(format!("refused ({}): {}", answer.status, answer.text))
                        }
                    } else {
                        refused += 1;
                        // With one fault, the 401 names its claim (and not "signature":
                        // the other entry's key did not sign it, this one did).
                        let needle = if wrong.len() == 1 { wrong[0] } else { "JWT" };
                        answer.tmf_error(401, needle).and_then(|()| {
                            let challenge = answer.header("www-authenticate").unwrap_or_default();
                            if challenge.starts_with("Bearer") {
                                Ok(())
                            } else {
                                Err(format!("WWW-Authenticate {challenge:?}"))
                            }
                        })
                    };
                    if let Err(why) = outcome {
                        failures.push(format!("{case}: {why}"));
                    }
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        accepted + refused,
        failures.join("\n")
    );
    // 2 entries × 3 iss × 5 aud × 14 time rows; accepted: 1 iss × 2 aud × 7 time rows
    // for the entry with both, 3 iss × 1 aud × 7 time rows for the one with neither.
    assert_eq!((accepted, refused), (14 + 21, 420 - 35));
}

/// Claims that are there but unusable are refused saying what is wrong with them (not
/// that they are missing), and principal names that could not be stored or logged as
/// they are (control characters, longer than the owner limit) are refused at
/// authentication: 401 with a TMF `Error`.
#[tokio::test]
async fn unusable_claims_and_names_are_refused_saying_why() {
    let auth = Authenticator::from_config(&AuthConfig {
        api_keys: Vec::new(),
        jwt: vec![JwtConfig {
            secret: Some(SECRET_BARE.into()),
            ..jwt_config("HS256")
        }],
    })
    .unwrap();
    let server = common::spawn(AppConfig {
        auth: Some(Arc::new(auth)),
        ..AppConfig::default()
    })
    .await;
    let http = reqwest::Client::new();
    let url = format!("{}/tmf-api/event/v4/topic", server.url);
    let in_an_hour = jsonwebtoken::get_current_timestamp() + 3600;
    // (case, claim, value, refusal naming … or None: accepted)
    let cases: Vec<(&str, &str, Value, Option<&str>)> = vec![
        ("plain", "sub", json!("provider-a"), None),
        ("sub at the limit", "sub", json!("x".repeat(256)), None),
        (
            "exp 1e30",
            "exp",
            json!(1e30),
            Some("`exp` claim is malformed"),
        ),
        (
            "exp with a fraction (a NumericDate may have one)",
            "exp",
            json!(in_an_hour as f64 + 0.5),
            None,
        ),
        (
            "exp a string",
            "exp",
            json!("tomorrow"),
            Some("`exp` claim is malformed"),
        ),
        (
            "exp negative",
            "exp",
            json!(-1),
            Some("`exp` claim is malformed"),
        ),
        (
            "sub with a line break",
            "sub",
            json!("provider-a\nadmin"),
            Some("control character U+000A"),
        ),
        (
            "sub with an escape",
            "sub",
            json!("a\u{1b}[2J"),
            Some("control character U+001B"),
        ),
        (
            "sub with a C1 control",
            "sub",
            json!("a\u{9b}"),
            Some("U+009B"),
        ),
        (
            "sub over the limit",
            "sub",
            json!("x".repeat(257)),
            Some("257 bytes"),
        ),
    ];
    let mut failures = Vec::new();
    for (case, claim, value, refusal) in cases {
        let mut claims = Map::new();
        claims.insert("sub".into(), json!("provider-a"));
        claims.insert("role".into(), json!("provider"));
        claims.insert("exp".into(), json!(in_an_hour));
        claims.insert(claim.into(), value);
        let token = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(SECRET_BARE.as_bytes()),
        )
        .unwrap();
        let answer = common::json(&http, "GET", &url, Some(&token), None).await;
        let outcome = match refusal {
            None if answer.status == 200 => Ok(()),
            None => Err(format!("refused: {} {}", answer.status, answer.text)),
            Some(needle) => answer.tmf_error(401, needle),
        };
        if let Err(why) = outcome {
            failures.push(format!("{case}: {why}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
