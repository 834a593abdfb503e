//! Snapshot tests: each fixture spec under `spec/fixtures/` (one concern each) is
//! generated as a single file into `tests/output/<fixture>.rs`, compared with the
//! checked-in snapshot (accept changes with `EXPECTORATE=overwrite`), and every
//! snapshot is compiled by trybuild with `#![deny(warnings)]`.
//!
//! The support module, the same for every fixture, is the generated crate's
//! `generated/src/support.rs` (kept fresh by `tmfgen check`); each fixture's file
//! includes it with `#[path = "../../../generated/src/support.rs"] pub mod support;`.
//! trybuild compiles each snapshot from where it lies (its bin target's path is the file
//! under `tests/output/`), so the relative path resolves and the support module is
//! compiled, under the snapshot's `#![deny(warnings)]`, as part of every fixture.

use std::path::{Path, PathBuf};

mod common;

use common::fixtures;

const OUTPUT: &str = "tests/output";

fn snapshot_path(fixture: &Path) -> PathBuf {
    let stem = fixture
        .file_stem()
        .and_then(|s| s.to_str())
        .expect("utf-8 name");
    PathBuf::from(format!("{OUTPUT}/{stem}.rs"))
}

#[test]
fn fixtures_match_their_snapshots() {
    let fixtures = fixtures();
    assert!(
        fixtures.len() >= 10,
        "expected the fixture specs, found {fixtures:?}"
    );
    for fixture in &fixtures {
        let settings = tmfgen::Settings::new(fixture);
        let text = tmfgen::generate_single_file(&settings)
            .unwrap_or_else(|e| panic!("{} does not generate: {e}", fixture.display()));
        expectorate::assert_contents(snapshot_path(fixture), &text);
    }
}

#[test]
fn snapshots_compile_without_warnings() {
    let cases = trybuild::TestCases::new();
    for fixture in fixtures() {
        cases.pass(snapshot_path(&fixture));
    }
}
