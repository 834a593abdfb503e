//! Exact numbers through the generated models of the `numbers` fixture (issue 12):
//! every placement (closed and open objects, arrays, maps, nullable, a union, an alias)
//! keeps the number as written, read from text and from a `serde_json::Value`;
//! integers accept any number with no fractional part and refuse the others naming
//! the JSON path; the accessors and equality are on the exact value.

use std::collections::HashSet;

use fixture_numbers::models::{Measure, MeasureEither};
use fixture_numbers::support::{Integer, Number, from_value_exact, from_value_exact_at};
use serde::de::DeserializeOwned;

/// Reads `json` as a `T`, or says why and where not.
fn read<T: DeserializeOwned>(json: &str) -> Result<T, String> {
    let deserializer = &mut serde_json::Deserializer::from_str(json);
    serde_path_to_error::deserialize::<_, T>(deserializer)
        .map_err(|error| format!("{} at {}", error.inner(), error.path()))
}

/// How serde_json writes number text back: the exponent as `e` with its sign.
fn spelt(text: &str) -> String {
    match text.find(['e', 'E']) {
        Some(at) => {
            let exponent = &text[at + 1..];
            let sign = if exponent.starts_with(['+', '-']) { "" } else { "+" };
            format!("{}e{sign}{exponent}", &text[..at])
        }
        None => text.to_owned(),
    }
}

/// (number as sent, as written back: serde_json spells an exponent `e` with its sign).
const NUMBERS: &[(&str, &str)] = &[
    ("123456789012345678901234567890", "123456789012345678901234567890"),
    ("-123456789012345678901234567890", "-123456789012345678901234567890"),
    ("18446744073709551616", "18446744073709551616"),
    ("-9223372036854775809", "-9223372036854775809"),
    ("-17", "-17"),
    ("1e2", "1e+2"),
    ("1E+400", "1e+400"),
    ("1e400", "1e+400"),
    ("1e-400", "1e-400"),
    ("-0", "-0"),
    ("-0.0", "-0.0"),
    ("1.0", "1.0"),
    ("0.1000000000000000000001", "0.1000000000000000000001"),
    ("4.9406564584124654e-324", "4.9406564584124654e-324"),
    ("1.7976931348623157e308", "1.7976931348623157e+308"),
    ("1.5", "1.5"),
];

/// Where a `number` goes in a `Measure`: (JSON with `@` for the number).
const NUMBER_PLACES: &[&str] = &[
    r#"{"f":@}"#,
    r#"{"single":@}"#,
    r#"{"double":@}"#,
    r#"{"maybe":@}"#,
    r#"{"byName":{"a":@}}"#,
    r#"{"amount":@}"#,
    r#"{"open":{"f":@}}"#,
    r#"{"open":{"undeclared":[@]}}"#,
];

#[test]
fn numbers_are_kept_exactly_in_every_place() {
    let mut failures = Vec::new();
    for (sent, kept) in NUMBERS {
        for place in NUMBER_PLACES {
            let json = place.replace('@', sent);
            let expected = place.replace('@', kept);
            // From text, and from a Value (as a hub types a payload it holds).
            let from_text = read::<Measure>(&json).map(|m| serde_json::to_string(&m).unwrap());
            let value: serde_json::Value = serde_json::from_str(&json).unwrap();
            let from_value = from_value_exact::<Measure>(&value)
                .map(|m| serde_json::to_string(&m).unwrap())
                .map_err(|e| e.to_string());
            for (how, got) in [("text", from_text), ("value", from_value)] {
                if got.as_deref() != Ok(expected.as_str()) {
                    failures.push(format!("{json} from {how}: expected {expected}, got {got:?}"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// (integer as sent, accepted).
const INTEGERS: &[(&str, bool)] = &[
    ("12", true),
    ("-12", true),
    ("-0", true),
    ("1e2", true),
    ("1E2", true),
    ("1.0", true),
    ("1.50e1", true),
    ("0.0e-5", true),
    ("123456789012345678901234567890", true),
    ("-123456789012345678901234567890", true),
    ("1e400", true),
    ("1.5", false),
    ("-1.5", false),
    ("0.1", false),
    ("1e-400", false),
    ("1.05e1", false),
    ("123456789012345678901234567890.5", false),
    ("1e-100000000000000000000000000000000000000", false),
];

/// Where an `integer` goes: (JSON with `@`, the JSON path of `@`).
const INTEGER_PLACES: &[(&str, &str)] = &[
    (r#"{"i":@}"#, "i"),
    (r#"{"small":@}"#, "small"),
    (r#"{"wide":@}"#, "wide"),
    (r#"{"list":[1,@]}"#, "list[1]"),
    (r#"{"open":{"i":@}}"#, "open.i"),
];

#[test]
fn integers_are_numbers_with_no_fractional_part() {
    let mut failures = Vec::new();
    for (sent, accepted) in INTEGERS {
        for (place, path) in INTEGER_PLACES {
            let json = place.replace('@', sent);
            match (read::<Measure>(&json), accepted) {
                (Ok(measure), true) => {
                    // Kept as written (the exponent spelt `e+`).
                    let back = serde_json::to_string(&measure).unwrap();
                    if back != place.replace('@', &spelt(sent)) {
                        failures.push(format!("{json}: written back as {back}"));
                    }
                }
                (Err(message), false) => {
                    // serde_json adds where in the text (`at line 1 column 9`).
                    let expected = format!(
                        "invalid value: number {}, expected an integer (a JSON number with no fractional part, e.g. 12, 1e2 or 1.0) at line 1 ",
                        spelt(sent)
                    );
                    if !message.starts_with(&expected) || !message.ends_with(&format!(" at {path}")) {
                        failures.push(format!("{json}: refused with {message:?}, expected {expected:?}"));
                    }
                }
                (Ok(measure), false) => failures.push(format!("{json}: accepted as {measure:?}")),
                (Err(message), true) => failures.push(format!("{json}: refused: {message}")),
            }
        }
    }
    // A hub types a payload it holds as a Value: the refusal names the path too.
    let value: serde_json::Value = serde_json::from_str(r#"{"list":[1,2.5]}"#).unwrap();
    let message = from_value_exact_at::<Measure>(&value).unwrap_err().to_string();
    assert!(message.ends_with("at `list[1]`"), "{message}");
    assert!(message.contains("number 2.5, expected an integer"), "{message}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_union_takes_an_integer_written_with_an_exponent_as_the_integer() {
    let measure: Measure = read(r#"{"either":1e2}"#).unwrap();
    match &measure.either {
        Some(MeasureEither::Integer(n)) => assert_eq!(n.as_i64(), Some(100)),
        other => panic!("1e2 read as {other:?}"),
    }
    let measure: Measure = read(r#"{"either":"1e2"}"#).unwrap();
    assert!(matches!(measure.either, Some(MeasureEither::String(_))));
    assert!(read::<Measure>(r#"{"either":1.5}"#).is_err());
}

fn number(text: &str) -> Number {
    text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
}

#[test]
fn accessors_say_what_fits() {
    // (text, as_i64, as_u64, to_f64_lossy)
    let rows: &[(&str, Option<i64>, Option<u64>, f64)] = &[
        ("1e2", Some(100), Some(100), 100.0),
        ("1.0", Some(1), Some(1), 1.0),
        ("-0", Some(0), Some(0), -0.0),
        ("-1", Some(-1), None, -1.0),
        ("9223372036854775807", Some(i64::MAX), Some(i64::MAX as u64), 9.223372036854776e18),
        ("9223372036854775808", None, Some(1 << 63), 9.223372036854776e18),
        ("-9223372036854775808", Some(i64::MIN), None, -9.223372036854776e18),
        ("18446744073709551616", None, None, 1.8446744073709552e19),
        ("1.5", None, None, 1.5),
        ("1e400", None, None, f64::INFINITY),
        ("-1e400", None, None, f64::NEG_INFINITY),
        ("1e-400", None, None, 0.0),
        ("0.1000000000000000000001", None, None, 0.1),
    ];
    for (text, i, u, f) in rows {
        let n = number(text);
        assert_eq!((n.as_i64(), n.as_u64()), (*i, *u), "{text}");
        assert_eq!(n.to_f64_lossy().to_bits(), f.to_bits(), "{text}");
        assert_eq!(n.as_str(), spelt(text));
        assert_eq!(n.to_string(), spelt(text));
        assert_eq!(n.is_integer(), i.is_some() || u.is_some() || *text == "18446744073709551616" || text.starts_with("1e4") || text.starts_with("-1e4"), "{text}");
    }
    let integer: Integer = "1e2".parse().unwrap();
    assert_eq!((integer.as_i64(), integer.as_u64(), integer.to_f64_lossy()), (Some(100), Some(100), 100.0));
    assert_eq!(integer.as_str(), "1e+2");
    assert_eq!(integer.to_string(), "1e+2");
    assert_eq!(integer.as_number(), &number("100"));
    let refused = "1.5".parse::<Integer>().unwrap_err();
    assert_eq!(refused.text(), "1.5");
    for bad in ["", " 1", "1 ", "+1", "01", "1.", ".5", "NaN", "Infinity", "0x10", "1e"] {
        assert!(bad.parse::<Number>().is_err(), "{bad:?} parsed");
    }
}

#[test]
fn conversions_are_exact_or_refused() {
    assert_eq!(Number::from(-5i64).as_str(), "-5");
    assert_eq!(Number::from(u64::MAX).as_str(), "18446744073709551615");
    assert_eq!(Integer::from(7u8).as_i64(), Some(7));
    assert_eq!(Number::try_from(0.5).unwrap(), number("0.5"));
    assert!(Number::try_from(f64::NAN).is_err());
    assert!(Number::try_from(f64::INFINITY).is_err());
    assert_eq!(Integer::try_from(3.0).unwrap().as_i64(), Some(3));
    assert!(Integer::try_from(3.5).is_err());
    assert!(Integer::try_from(number("2.5")).is_err());
    assert_eq!(Number::from(Integer::from(4i32)), number("4.0"));
}

#[test]
fn equality_and_hashing_are_on_the_exact_value() {
    let same: &[(&str, &str)] = &[
        ("1e2", "100"),
        ("100", "100.000"),
        ("-0", "0"),
        ("-0.0", "0e7"),
        ("1.23456789012345678901234567890e29", "123456789012345678901234567890"),
        ("1e400", "10e399"),
        ("0.001", "1e-3"),
        ("1e100000000000000000000000000000000000000", "10e99999999999999999999999999999999999999"),
        ("1e-100000000000000000000000000000000000000", "0.1e-99999999999999999999999999999999999999"),
        ("-25e-100000000000000000000000000000000000000", "-2.5e-99999999999999999999999999999999999999"),
    ];
    let different: &[(&str, &str)] = &[
        ("123456789012345678901234567890", "123456789012345678901234567891"),
        ("0.1", "0.1000000000000000000001"),
        ("1", "-1"),
        ("1e400", "1e401"),
        ("1e100000000000000000000000000000000000000", "1e100000000000000000000000000000000000001"),
        ("1e100000000000000000000000000000000000000", "1e-100000000000000000000000000000000000000"),
    ];
    for (a, b) in same {
        assert_eq!(number(a), number(b), "{a} = {b}");
        let set: HashSet<Number> = [number(a), number(b)].into_iter().collect();
        assert_eq!(set.len(), 1, "{a} and {b} hash alike");
    }
    for (a, b) in different {
        assert_ne!(number(a), number(b), "{a} ≠ {b}");
    }
    let big: Integer = "123456789012345678901234567890".parse().unwrap();
    assert_eq!(big, "1.2345678901234567890123456789e29".parse::<Integer>().unwrap());
}
