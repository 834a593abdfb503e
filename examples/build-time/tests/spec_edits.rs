//! Build-time generation as a team lives with it: a crate whose build script points at
//! a spec is built, its spec is edited (Cargo reruns the generator and the new
//! attribute is there), so is a sibling file the spec `$ref`s (the same), then broken (the build fails with the generator's message:
//! file, JSON pointer, schema, as a Cargo error). The crate is a throw-away copy under
//! the target directory, built with the workspace's `Cargo.lock` so that dependencies
//! are the ones already built.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const SPEC: &str = r#"openapi: 3.0.3
info: {title: Things, version: 1.0.0}
paths:
  /thing/{id}:
    get:
      operationId: retrieveThing
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      responses:
        '200':
          description: The thing
          content: {application/json: {schema: {$ref: '#/components/schemas/Thing'}}}
components:
  schemas:
    Thing:
      type: object
      required: [id]
      properties:
        id: {type: string}
        owner: {$ref: 'common.yaml#/components/schemas/Owner'}
"#;

/// A sibling file the spec refers to (`$ref: 'common.yaml#/…'`), bundled by the loader.
const COMMON: &str = r#"components:
  schemas:
    Owner:
      type: object
      properties:
        name: {type: string}
"#;

const LIB: &str = "include!(concat!(env!(\"OUT_DIR\"), \"/things_api.rs\"));\n";

/// Uses the attribute the edited spec adds: compiles only after a regeneration.
const PROBE: &str = "\n/// The edited spec's new attribute.\npub fn red_thing() -> models::Thing {\n    let mut thing = models::Thing::new(\"1\".into());\n    thing.colour = Some(\"red\".into());\n    thing\n}\n";

/// Uses the attribute the edited sibling file adds: compiles only after a regeneration.
const SIBLING_PROBE: &str = "\n/// The edited sibling's new attribute.\npub fn reachable_owner() -> models::Owner {\n    let mut owner = models::Owner::default();\n    owner.email = Some(\"owner@example.org\".into());\n    owner\n}\n";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn target() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}

fn manifest(codegen: &Path) -> String {
    // The dependencies of the Cargo.toml `tmfgen generate` writes (generated/Cargo.toml).
    format!(
        r#"[package]
name = "things-build-time"
version = "0.1.0"
edition = "2024"
publish = false

[workspace]

[dependencies]
axum = {{ version = "0.8", default-features = false, features = ["http1", "tokio", "query", "original-uri", "matched-path"] }}
bytes = "1"
http = "1"
http-body-util = "0.1"
hyper-util = {{ version = "0.1", default-features = false, features = ["client-legacy", "http1", "tokio"] }}
tokio = {{ version = "1", features = ["time"] }}
tower-service = "0.3"
percent-encoding = "2"
reqwest = {{ version = "0.13", default-features = false, features = ["query"] }}
serde = {{ version = "1", features = ["derive"] }}
serde_json = {{ version = "1", features = ["arbitrary_precision"] }}
serde_path_to_error = "0.1"

[features]
# https callbacks (off here), as in generated/Cargo.toml but without its TLS crates
tls = []

[build-dependencies]
tmfgen = {{ path = {codegen:?} }}
"#
    )
}

const BUILD_RS: &str = r#"fn main() {
    tmfgen::build::run(&tmfgen::Settings::new("spec/things.yaml"), "things_api");
}
"#;

fn build(dir: &Path) -> Output {
    Command::new(env!("CARGO"))
        .args(["build", "--offline", "--manifest-path"])
        .arg(dir.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", target())
        .output()
        .expect("cargo runs")
}

#[test]
fn an_edited_spec_regenerates_and_a_broken_one_fails_the_build_naming_file_and_pointer() {
    let dir = target().join("build-time-spec-edits");
    std::fs::remove_dir_all(&dir).ok();
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::create_dir_all(dir.join("spec")).unwrap();
    let codegen = root().join("codegen").canonicalize().unwrap();
    std::fs::write(dir.join("Cargo.toml"), manifest(&codegen)).unwrap();
    std::fs::copy(root().join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    std::fs::write(dir.join("build.rs"), BUILD_RS).unwrap();
    std::fs::write(dir.join("src/lib.rs"), LIB).unwrap();
    let spec = dir.join("spec/things.yaml");
    std::fs::write(&spec, SPEC).unwrap();
    let common = dir.join("spec/common.yaml");
    std::fs::write(&common, COMMON).unwrap();

    let first = build(&dir);
    assert!(
        first.status.success(),
        "first build:\n{}",
        String::from_utf8_lossy(&first.stderr)
    );

    // The spec gains an attribute; code using it compiles only if Cargo reran the
    // generator (`rerun-if-changed`).
    std::fs::write(
        &spec,
        SPEC.replace(
            "        id: {type: string}\n",
            "        id: {type: string}\n        colour: {type: string}\n",
        ),
    )
    .unwrap();
    std::fs::write(dir.join("src/lib.rs"), format!("{LIB}{PROBE}")).unwrap();
    let edited = build(&dir);
    assert!(
        edited.status.success(),
        "after the edit:\n{}",
        String::from_utf8_lossy(&edited.stderr)
    );

    // Only the sibling file changes (the spec is untouched): Cargo must rerun the
    // generator all the same, or the probe does not compile.
    std::fs::write(
        &common,
        COMMON.replace(
            "        name: {type: string}\n",
            "        name: {type: string}\n        email: {type: string}\n",
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("src/lib.rs"),
        format!("{LIB}{PROBE}{SIBLING_PROBE}"),
    )
    .unwrap();
    let sibling_edited = build(&dir);
    assert!(
        sibling_edited.status.success(),
        "after the sibling's edit:\n{}",
        String::from_utf8_lossy(&sibling_edited.stderr)
    );

    // A spec the generator refuses: a Cargo error with file and JSON pointer.
    std::fs::write(
        &spec,
        SPEC.replace("id: {type: string}", "id: {type: strnig}"),
    )
    .unwrap();
    let broken = build(&dir);
    let stderr = String::from_utf8_lossy(&broken.stderr);
    assert!(
        !broken.status.success(),
        "a broken spec must fail the build"
    );
    // Cargo shows it as `error: things-build-time@0.1.0: tmfgen: spec/things.yaml at …`.
    for needle in [
        "error: things-build-time",
        "tmfgen: spec/things.yaml at /components/schemas/Thing/properties/id/type",
        "strnig",
    ] {
        assert!(stderr.contains(needle), "no {needle:?} in:\n{stderr}");
    }
    std::fs::remove_dir_all(&dir).ok();
}
