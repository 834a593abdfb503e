//! Shared by the generator's test binaries: the fixture documents under `spec/fixtures/`.

use std::path::PathBuf;

/// Every fixture document (`*.yaml`, `*.json`, not those in subfolders), sorted.
pub fn fixtures() -> Vec<PathBuf> {
    let mut fixtures: Vec<PathBuf> = std::fs::read_dir("../spec/fixtures")
        .expect("spec/fixtures exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| {
            p.is_file()
                && matches!(
                    p.extension().and_then(|e| e.to_str()),
                    Some("yaml" | "json")
                )
        })
        .collect();
    fixtures.sort();
    fixtures
}
