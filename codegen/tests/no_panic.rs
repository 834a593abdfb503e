//! Panics on input are bugs: thousands of mutated variants of the fixture specs and of
//! our TMF688 document (nodes deleted, replaced by values of the wrong type, `$ref`s
//! pointed elsewhere, documents truncated) must each generate or fail with an error —
//! and whatever generates must be valid Rust.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

/// A small deterministic generator (xorshift64*): the same mutations on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Every JSON pointer of a document.
fn pointers(value: &Value, at: String, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let child_at = format!("{at}/{}", key.replace('~', "~0").replace('/', "~1"));
                out.push(child_at.clone());
                pointers(child, child_at, out);
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                let child_at = format!("{at}/{index}");
                out.push(child_at.clone());
                pointers(child, child_at, out);
            }
        }
        _ => {}
    }
}

const REPLACEMENTS: &[fn() -> Value] = &[
    || json!(null),
    || json!(7),
    || json!("widget"),
    || json!([]),
    || json!({}),
    || json!({"$ref": "#/components/schemas/Nowhere"}),
    || json!({"$ref": "#/components/schemas/Event"}),
    || json!({"$ref": "other.yaml#/x"}),
    || json!({"type": "object", "properties": {"@type": {"type": "strange"}}}),
    || json!({"allOf": [{"$ref": "#/components/schemas/Topic"}, {"type": "string"}]}),
    || json!({"oneOf": [], "discriminator": {"propertyName": "@type"}}),
    || json!({"type": "array"}),
    || json!({"enum": [null, 1, "x"]}),
];

fn mutate(document: &Value, rng: &mut Rng) -> Value {
    let mut document = document.clone();
    let mut all = Vec::new();
    pointers(&document, String::new(), &mut all);
    for _ in 0..=rng.below(3) {
        let Some(pointer) = all.get(rng.below(all.len())).cloned() else {
            break;
        };
        let (parent, last) = pointer.rsplit_once('/').unwrap_or(("", &pointer));
        let choice = rng.below(REPLACEMENTS.len() + 1);
        match document.pointer_mut(parent) {
            Some(Value::Object(map)) if choice == REPLACEMENTS.len() => {
                map.remove(&last.replace("~1", "/").replace("~0", "~"));
            }
            _ => {
                if let Some(node) = document.pointer_mut(&pointer) {
                    *node = REPLACEMENTS[choice.min(REPLACEMENTS.len() - 1)]();
                }
            }
        }
    }
    document
}

fn assert_no_panic(spec: &Path, profile: Option<&Path>, rounds: usize, seed: u64) {
    let text = std::fs::read_to_string(spec).unwrap();
    let document: Value = if text.trim_start().starts_with('{') {
        serde_json::from_str(&text).unwrap()
    } else {
        yaml_serde::from_str(&text).unwrap()
    };
    let dir = std::env::temp_dir().join(format!("tmfgen-no-panic-{}-{seed}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // The profile names its document by file name: mutate under the same name.
    let target = dir.join(spec.file_name().unwrap());
    let mut rng = Rng(seed);
    let (mut generated, mut rejected) = (0, 0);
    for round in 0..rounds {
        let mutated = mutate(&document, &mut rng);
        let mut text = serde_json::to_string(&mutated).unwrap();
        if round % 10 == 9 {
            text.truncate(rng.below(text.len()));
        }
        std::fs::write(&target, &text).unwrap();
        let profile_copy = profile.map(|p| {
            let copy = dir.join(p.file_name().unwrap());
            std::fs::copy(p, &copy).unwrap();
            copy
        });
        let mut settings = tmfgen::Settings::new(&target);
        if let Some(profile) = &profile_copy {
            settings.with_profile(profile);
        }
        let outcome = std::panic::catch_unwind(|| tmfgen::emit_modules(&settings));
        match outcome {
            Err(_) => panic!(
                "round {round} (seed {seed}) panicked; input kept at {}",
                target.display()
            ),
            Ok(Ok(modules)) => {
                for (name, tokens) in modules {
                    if let Err(error) = syn::parse2::<syn::File>(tokens) {
                        panic!(
                            "round {round}: {name} is not valid Rust ({error}); input at {}",
                            target.display()
                        );
                    }
                }
                generated += 1;
            }
            Ok(Err(error)) => {
                let message = error.to_string();
                assert!(
                    message.contains(target.file_name().unwrap().to_str().unwrap())
                        || message.contains("profile"),
                    "round {round}: the error does not name the file: {message}"
                );
                rejected += 1;
            }
        }
    }
    assert!(
        generated > 0 && rejected > 0,
        "mutations should both pass and fail: {generated}/{rejected}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn mutated_tmf688_spec_never_panics() {
    let spec = root().join("spec/tmf688.yaml");
    assert_no_panic(
        &spec,
        Some(&root().join("spec/psi-profile.yaml")),
        400,
        0x5eed_0001,
    );
}

#[test]
fn mutated_fixtures_never_panic() {
    let mut fixtures: Vec<PathBuf> = std::fs::read_dir(root().join("spec/fixtures"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    fixtures.sort();
    for (index, fixture) in fixtures.iter().enumerate() {
        assert_no_panic(fixture, None, 150, 0xf1c5_0000 + index as u64);
    }
}
