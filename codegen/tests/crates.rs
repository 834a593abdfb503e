//! Every fixture under `spec/fixtures/` generated as a real crate and checked the way
//! `scripts/check-generality` checks the corpus: `cargo clippy --all-targets` with
//! `-D warnings`, as a library (so dead code, which trybuild's snapshot compile allows,
//! is a failure here: a document without operations, schemas or with one tag must
//! still give a warning-free crate).
//!
//! The crates are members of one throw-away workspace under the target directory that
//! shares it (and the workspace's `Cargo.lock`), so dependencies build once.

use std::path::{Path, PathBuf};
use std::process::Command;

mod common;

use common::fixtures;

#[test]
fn fixture_crates_pass_clippy_with_no_warnings() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let out = target.join("tmfgen-fixture-crates");
    std::fs::remove_dir_all(&out).ok();
    std::fs::create_dir_all(&out).unwrap();
    let mut members = Vec::new();
    for fixture in fixtures() {
        let stem = fixture.file_stem().unwrap().to_str().unwrap();
        let name = format!("fixture-{}", stem.replace('_', "-"));
        let mut settings = tmfgen::Settings::new(&fixture);
        settings.with_crate_name(&name).with_standalone(false);
        let files = tmfgen::generate(&settings)
            .unwrap_or_else(|e| panic!("{} does not generate: {e}", fixture.display()));
        files.write(&out.join(&name)).unwrap();
        members.push(format!("{name:?}"));
    }
    // What a compiler cannot check: behaviour of the generated types, as an
    // integration test of the fixture crate it is about.
    for (crate_name, test) in CHECKS {
        let dir = out.join(crate_name).join("tests");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("checks.rs"), test).unwrap();
        // Checks that serve the generated router need a runtime (already in the lock).
        let manifest = out.join(crate_name).join("Cargo.toml");
        let mut text = std::fs::read_to_string(&manifest).unwrap();
        text.push_str(
            "\n[dev-dependencies]\ntokio = { version = \"1\", features = [\"macros\", \"rt-multi-thread\", \"net\"] }\n",
        );
        std::fs::write(manifest, text).unwrap();
    }
    std::fs::write(
        out.join("Cargo.toml"),
        format!(
            "[workspace]\nresolver = \"3\"\nmembers = [{}]\n",
            members.join(", ")
        ),
    )
    .unwrap();
    std::fs::copy(root.join("Cargo.lock"), out.join("Cargo.lock")).unwrap();
    let output = Command::new(env!("CARGO"))
        .args([
            "clippy",
            "--quiet",
            "--workspace",
            "--all-targets",
            "--manifest-path",
        ])
        .arg(out.join("Cargo.toml"))
        .args(["--", "-D", "warnings"])
        .env("CARGO_TARGET_DIR", &target)
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "the fixture crates do not pass clippy -D warnings:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for (crate_name, _) in CHECKS {
        let output = Command::new(env!("CARGO"))
            .args([
                "test",
                "--quiet",
                "--test",
                "checks",
                "-p",
                crate_name,
                "--manifest-path",
            ])
            .arg(out.join("Cargo.toml"))
            .env("CARGO_TARGET_DIR", &target)
            .output()
            .expect("cargo runs");
        assert!(
            output.status.success(),
            "{crate_name}: checks fail:\n{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// Behaviour checks, by fixture crate.
const CHECKS: &[(&str, &str)] = &[
    ("fixture-parameters", include_str!("checks/parameters.rs")),
    ("fixture-numbers", include_str!("checks/numbers.rs")),
    (
        "fixture-enum-values",
        r##"
use fixture_enum_values::models::{Blank, Level, Reading, Sign};

fn refusal(json: &str) -> String {
    let deserializer = &mut serde_json::Deserializer::from_str(json);
    match serde_path_to_error::deserialize::<_, Reading>(deserializer) {
        Ok(reading) => panic!("{json} was accepted as {reading:?}"),
        Err(error) => format!("{} at {}", error.inner(), error.path()),
    }
}

#[test]
fn integer_enums_refuse_other_numbers_naming_the_path() {
    let message = refusal(r#"{"level": 7}"#);
    assert!(message.contains("invalid value: integer `7`"), "{message}");
    assert!(message.contains("one of -1, 0, 1"), "{message}");
    assert!(message.ends_with("at level"), "{message}");
    let message = refusal(r#"{"level": 0, "step": 3}"#);
    assert!(message.ends_with("at step"), "{message}");
}

#[test]
fn string_enums_refuse_other_strings_naming_the_path() {
    let message = refusal(r#"{"level": 1, "sign": "2"}"#);
    assert!(message.contains("unknown variant `2`"), "{message}");
    assert!(message.ends_with("at sign"), "{message}");
}

#[test]
fn integer_enums_read_the_same_value_written_otherwise() {
    let reading: Reading = serde_json::from_str(r#"{"level": 1.0, "step": 4e0}"#).unwrap();
    assert_eq!(reading.level, Level::V1);
    assert_eq!(serde_json::to_string(&reading).unwrap(), r#"{"level":1,"step":4}"#);
    let message = refusal(r#"{"level": 0.5}"#);
    assert!(message.contains("number 0.5, expected an integer"), "{message}");
    assert!(message.ends_with("at level"), "{message}");
}

#[test]
fn blank_enum_values_round_trip() {
    for blank in [Blank::Space, Blank::U9, Blank::SpaceSpace, Blank::ABacktickB] {
        let json = serde_json::to_string(&blank).unwrap();
        assert_eq!(serde_json::from_str::<Blank>(&json).unwrap(), blank);
        assert_eq!(json, serde_json::to_string(blank.as_str()).unwrap());
    }
    assert_eq!(Blank::Space.as_str(), " ");
    assert_eq!(Blank::U9.as_str(), "\t");
}

#[test]
fn enum_values_round_trip() {
    let reading: Reading = serde_json::from_str(r#"{"level": -1, "sign": "+1"}"#).unwrap();
    assert_eq!(reading.level, Level::Minus1);
    assert_eq!(reading.sign, Some(Sign::Plus1));
    assert_eq!(serde_json::to_string(&reading).unwrap(), r#"{"level":-1,"sign":"+1"}"#);
    assert_eq!(Sign::Empty.as_str(), "");
    assert_eq!(Sign::Minus1.as_str(), "-1");
    assert_eq!(Sign::V1.as_str(), "1");
    assert_eq!(Level::from_value(7), None);
    assert_eq!(Level::V1.to_string(), "1");
}
"##,
    ),
];
