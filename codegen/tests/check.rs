//! `tmfgen generate` / `tmfgen check` end to end: generation is deterministic, the
//! checked-in crate is up to date, and `check` fails (with a diff summary) on drift.

use std::path::Path;
use std::process::Command;

const TMFGEN: &str = env!("CARGO_BIN_EXE_tmfgen");

fn project_settings() -> tmfgen::Settings {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut settings = tmfgen::Settings::new(root.join("spec/tmf688.yaml"));
    settings
        .with_profile(root.join("spec/psi-profile.yaml"))
        .with_crate_name("tmf688-api")
        .with_standalone(false);
    settings
}

fn in_root(command: &mut Command) -> &mut Command {
    command.current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
}

#[test]
fn generation_is_deterministic() {
    let first = tmfgen::generate(&project_settings()).expect("spec generates");
    let second = tmfgen::generate(&project_settings()).expect("spec generates");
    assert_eq!(first, second);
    assert!(first.warnings.is_empty(), "{:?}", first.warnings);
}

#[test]
fn checked_in_crate_is_up_to_date() {
    let output = in_root(Command::new(TMFGEN).arg("check")).output().unwrap();
    assert!(
        output.status.success(),
        "generated/ drifted from spec/:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn check_fails_on_drift_and_says_where() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = std::env::temp_dir().join(format!("tmfgen-drift-{}", std::process::id()));
    let args = |command: &str| {
        let mut c = Command::new(TMFGEN);
        c.current_dir(&root).args([
            command,
            "--spec",
            "spec/tmf688.yaml",
            "--profile",
            "spec/psi-profile.yaml",
            "--out",
            out.to_str().unwrap(),
        ]);
        c
    };
    assert!(args("generate").status().unwrap().success());
    let clean = args("check").output().unwrap();
    assert!(
        clean.status.success(),
        "{}",
        String::from_utf8_lossy(&clean.stderr)
    );

    let models = out.join("src/models.rs");
    let text = std::fs::read_to_string(&models).unwrap();
    std::fs::write(
        &models,
        text.replacen(
            "pub struct Event {",
            "pub struct Event { // edited by hand\n",
            1,
        ),
    )
    .unwrap();
    std::fs::write(out.join("src/stale.rs"), "// left over\n").unwrap();
    std::fs::remove_file(out.join("README.md")).unwrap();

    let drift = args("check").output().unwrap();
    assert_eq!(drift.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&drift.stderr);
    assert!(
        stderr.contains("differs:") && stderr.contains("models.rs"),
        "{stderr}"
    );
    assert!(stderr.contains("edited by hand"), "{stderr}");
    assert!(
        stderr.contains("missing:") && stderr.contains("README.md"),
        "{stderr}"
    );
    assert!(
        stderr.contains("not generated any more") && stderr.contains("stale.rs"),
        "{stderr}"
    );

    // `generate` repairs all of it.
    assert!(args("generate").status().unwrap().success());
    assert!(args("check").status().unwrap().success());
    assert!(!out.join("src/stale.rs").exists());
    std::fs::remove_dir_all(&out).ok();
}
