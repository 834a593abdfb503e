//! `tmfgen diff`: each fixture of `spec/fixtures/diff/` changes one thing of `base.yaml`;
//! the change is found, classified for server implementers and client users, and the
//! binary's exit code and JSON follow.

use std::path::Path;
use std::process::Command;

use tmfgen::diff::{Audience, Diff};

const DIR: &str = "../spec/fixtures/diff";

fn fixture(name: &str) -> String {
    format!("{DIR}/{name}")
}

fn diff(new: &str) -> Diff {
    tmfgen::diff::diff(
        Path::new(&fixture("base.yaml")),
        Path::new(&fixture(new)),
        None,
    )
    .unwrap_or_else(|e| panic!("{new}: {e}"))
}

/// (fixture, expected kinds, breaks server, breaks client)
const CASES: &[(&str, &[&str], bool, bool)] = &[
    ("base.yaml", &[], false, false),
    // The same API written as Swagger 2.0 compares equal: the comparison is on the IR.
    ("base.swagger.json", &[], false, false),
    // `Widget` is a response: clients that read `name` lose it.
    (
        "removed_required_field.yaml",
        &["field_removed"],
        false,
        true,
    ),
    ("renamed_operation.yaml", &["operation_renamed"], true, true),
    // number → integer and string → enum in a response: the server must answer less.
    (
        "narrowed_type.yaml",
        &["field_type_changed", "field_type_changed"],
        true,
        false,
    ),
    // … in a request: the client must send less.
    (
        "narrowed_request_type.yaml",
        &["field_type_changed"],
        false,
        true,
    ),
    ("added_optional_field.yaml", &["field_added"], false, false),
    (
        "added_required_request_field.yaml",
        &["field_added"],
        false,
        true,
    ),
    // Implementers must implement it; callers need not call it.
    ("added_operation.yaml", &["operation_added"], true, false),
];

#[test]
fn each_fixture_gives_its_change_and_classification() {
    for &(name, kinds, server, client) in CASES {
        let diff = diff(name);
        let found: Vec<&str> = diff.changes.iter().map(|c| c.kind.as_str()).collect();
        assert_eq!(found, kinds, "{name}: {:#?}", diff.changes);
        assert_eq!(diff.breaks(Audience::Server), server, "{name}: server");
        assert_eq!(diff.breaks(Audience::Client), client, "{name}: client");
        assert_eq!(diff.breaks(Audience::Any), server || client, "{name}: any");
    }
}

#[test]
fn narrowing_names_both_types() {
    let diff = diff("narrowed_type.yaml");
    let details: Vec<String> = diff
        .changes
        .iter()
        .map(|c| format!("{}: {}", c.location, c.detail))
        .collect();
    assert_eq!(
        details,
        [
            "field size: number → int64 (narrowed)",
            "field state: string → WidgetState (narrowed)"
        ]
    );
}

fn run(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_tmfgen"))
        .arg("diff")
        .args(args)
        .output()
        .expect("tmfgen runs");
    (
        output.status.code().expect("exit code"),
        String::from_utf8(output.stdout).expect("utf-8"),
        String::from_utf8(output.stderr).expect("utf-8"),
    )
}

fn run_pair(new: &str, extra: &[&str]) -> (i32, String, String) {
    let (old, new) = (fixture("base.yaml"), fixture(new));
    let mut args = vec!["--old", old.as_str(), "--new", new.as_str()];
    args.extend_from_slice(extra);
    run(&args)
}

#[test]
fn exit_codes() {
    // (fixture, --for, expected exit code)
    let cases: &[(&str, &str, i32)] = &[
        ("base.yaml", "any", 0),
        ("added_optional_field.yaml", "any", 0),
        ("removed_required_field.yaml", "any", 1),
        ("removed_required_field.yaml", "client", 1),
        ("removed_required_field.yaml", "server", 0),
        ("added_operation.yaml", "server", 1),
        ("added_operation.yaml", "client", 0),
        ("renamed_operation.yaml", "server", 1),
        ("narrowed_type.yaml", "any", 1),
    ];
    for &(name, audience, code) in cases {
        let (got, stdout, stderr) = run_pair(name, &["--for", audience]);
        assert_eq!(got, code, "{name} --for {audience}\n{stdout}{stderr}");
    }
}

#[test]
fn text_report_starts_with_the_summary() {
    let (code, stdout, _) = run_pair("removed_required_field.yaml", &[]);
    assert_eq!(code, 1);
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines[0].ends_with("removed_required_field.yaml (1.0.0)"),
        "{stdout}"
    );
    assert_eq!(
        lines[1],
        "1 change: 0 break servers (trait implementers), 1 break clients (client users)"
    );
    assert!(
        stdout.contains("\nschema Widget\n  BREAKS client        field name: removed (required)\n"),
        "{stdout}"
    );

    let (code, stdout, _) = run_pair("base.yaml", &[]);
    assert_eq!(code, 0);
    assert!(stdout.ends_with("no changes\n"), "{stdout}");
}

#[test]
fn json_shape() {
    let (code, stdout, _) = run_pair("renamed_operation.yaml", &["--json"]);
    assert_eq!(code, 1);
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    let expected = serde_json::json!({
        "format": "tmfgen-diff/1",
        "old": { "spec": fixture("base.yaml"), "version": "1.0.0" },
        "new": { "spec": fixture("renamed_operation.yaml"), "version": "1.0.0" },
        "breaking": { "server": true, "client": true },
        "summary": {
            "changes": 1,
            "breaking_server": 1,
            "breaking_client": 1,
            "by_kind": { "operation_renamed": { "total": 1, "server": 1, "client": 1 } }
        },
        "changes": [{
            "group": "operation",
            "name": "getWidget",
            "kind": "operation_renamed",
            "location": "operationId",
            "detail": "retrieveWidget → getWidget (Rust method retrieve_widget → get_widget)",
            "breaks": { "server": true, "client": true }
        }]
    });
    assert_eq!(report, expected);

    let (code, stdout, _) = run_pair("base.yaml", &["--json"]);
    assert_eq!(code, 0);
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(report["summary"]["changes"], 0);
    assert_eq!(report["changes"], serde_json::json!([]));
}

#[test]
fn load_errors_exit_2_and_name_the_file() {
    let (code, _, stderr) = run_pair("missing.yaml", &[]);
    assert_eq!(code, 2);
    assert!(stderr.contains("missing.yaml"), "{stderr}");

    let broken = "../spec/fixtures/malformed/broken.yaml";
    let (code, _, stderr) = run(&["--old", &fixture("base.yaml"), "--new", broken]);
    assert_eq!(code, 2);
    assert!(stderr.contains(&format!("{broken}:7")), "{stderr}");
}

#[test]
fn breaking_rules() {
    use tmfgen::diff::{Effect, Uses};
    let both = Uses::REQUEST.union(Uses::RESPONSE);
    // (effect, uses, breaks server, breaks client)
    let cases = [
        (Effect::AddedRequired, Uses::REQUEST, false, true),
        (Effect::AddedRequired, Uses::RESPONSE, true, false),
        (Effect::AddedOptional, both, false, false),
        (
            Effect::Removed {
                was_required: false,
            },
            Uses::REQUEST,
            false,
            true,
        ),
        (
            Effect::Removed { was_required: true },
            Uses::REQUEST,
            true,
            true,
        ),
        (
            Effect::Removed { was_required: true },
            Uses::RESPONSE,
            false,
            true,
        ),
        (Effect::Narrowed, Uses::REQUEST, false, true),
        (Effect::Narrowed, Uses::RESPONSE, true, false),
        (Effect::Widened, Uses::REQUEST, true, false),
        (Effect::Widened, Uses::RESPONSE, false, true),
        (Effect::BecameOptional, Uses::REQUEST, true, false),
        (Effect::BecameOptional, Uses::RESPONSE, false, true),
        (Effect::BecameRequired, Uses::REQUEST, false, true),
        (Effect::BecameRequired, Uses::RESPONSE, true, false),
        (Effect::Narrowed, both, true, true),
        (Effect::Replaced, Uses::REQUEST, true, true),
        (Effect::Neutral, both, false, false),
    ];
    for (effect, uses, server, client) in cases {
        assert_eq!(
            effect.breaks(uses),
            (server, client),
            "{effect:?} in {}",
            uses.label()
        );
    }
}

/// The published v4 → v5 pairs (in `../shared`, when present) compare without a panic
/// and find breaking changes.
#[test]
fn real_pairs() {
    let corpus = "../../shared/spec/corpus";
    for (old, new) in [
        (
            "TMF622-ProductOrdering-v4.0.0.swagger.json",
            "TMF622-ProductOrdering-v5.0.0.oas.yaml",
        ),
        (
            "TMF642-Alarm-v4.0.0.swagger.json",
            "TMF642-Alarm-v5.0.1.oas.yaml",
        ),
    ] {
        let (old, new) = (format!("{corpus}/{old}"), format!("{corpus}/{new}"));
        if !Path::new(&old).exists() {
            eprintln!("skipped: {old} is absent");
            continue;
        }
        let diff = tmfgen::diff::diff(Path::new(&old), Path::new(&new), None).expect("loads");
        assert!(diff.breaks(Audience::Server) && diff.breaks(Audience::Client));
        let text = tmfgen::diff::report::text(&diff, &old, &new, false);
        assert!(
            text.lines()
                .nth(1)
                .is_some_and(|l| l.contains(" changes: ")),
            "{text}"
        );
    }
}

/// (what the case changes, line of `wire.yaml` replaced, its replacement, expected
/// kinds, breaks server, breaks client)
type WireCase = (
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
    bool,
    bool,
);

const STATUS: &str =
    "        - {name: status, in: query, schema: {type: array, items: {type: string}}}\n";
const TAGS: &str =
    "        - {name: tags, in: header, schema: {type: array, items: {type: string}}}\n";
const LIMIT: &str = "        - {name: limit, in: query, schema: {type: integer}}\n";
const ID: &str = "        - {name: id, in: path, required: true, schema: {type: string}}\n";
const RESPONSE_JSON: &str =
    "          description: Ok\n          content:\n            application/json:\n";
const REQUEST_JSON: &str =
    "        required: true\n        content:\n          application/json:\n";

const WIRE_CASES: &[WireCase] = &[
    (
        "form, explode → pipeDelimited: `status=a&status=b` is now `status=a|b`",
        STATUS,
        "        - {name: status, in: query, style: pipeDelimited, explode: false, schema: {type: array, items: {type: string}}}\n",
        &["parameter_style_changed"],
        true,
        true,
    ),
    (
        "form, explode → form: `status=a,b`",
        STATUS,
        "        - {name: status, in: query, explode: false, schema: {type: array, items: {type: string}}}\n",
        &["parameter_style_changed"],
        true,
        true,
    ),
    (
        "exploded spaceDelimited arrays are written as exploded form ones",
        STATUS,
        "        - {name: status, in: query, style: spaceDelimited, explode: true, schema: {type: array, items: {type: string}}}\n",
        &[],
        false,
        false,
    ),
    (
        "explode of a scalar changes nothing on the wire",
        LIMIT,
        "        - {name: limit, in: query, explode: false, schema: {type: integer}}\n",
        &[],
        false,
        false,
    ),
    (
        "simple arrays are `a,b` exploded or not",
        TAGS,
        "        - {name: tags, in: header, explode: true, schema: {type: array, items: {type: string}}}\n",
        &[],
        false,
        false,
    ),
    (
        "a path parameter simple → label: `/thing/1` is now `/thing/.1`",
        ID,
        "        - {name: id, in: path, required: true, style: label, schema: {type: string}}\n",
        &["parameter_style_changed"],
        true,
        true,
    ),
    (
        "query → header (reported once, not also as a style change)",
        STATUS,
        "        - {name: status, in: header, schema: {type: array, items: {type: string}}}\n",
        &["parameter_location_changed"],
        true,
        true,
    ),
    (
        "query → cookie",
        LIMIT,
        "        - {name: limit, in: cookie, schema: {type: integer}}\n",
        &["parameter_location_changed"],
        true,
        true,
    ),
    (
        "response JSON → XML: the old client cannot read it, the old server does not write it",
        RESPONSE_JSON,
        "          description: Ok\n          content:\n            application/xml:\n",
        &["response_body_media_type_changed"],
        true,
        true,
    ),
    (
        "response media type added: old clients may get what they cannot read",
        RESPONSE_JSON,
        "          description: Ok\n          content:\n            application/xml:\n              schema: {$ref: '#/components/schemas/Thing'}\n            application/json:\n",
        &["response_body_media_type_changed"],
        false,
        true,
    ),
    (
        "media types compare case-insensitively",
        RESPONSE_JSON,
        "          description: Ok\n          content:\n            Application/JSON:\n",
        &[],
        false,
        false,
    ),
    (
        "media type parameters are not compared (`;charset=utf-8` of Swagger 2.0 documents)",
        RESPONSE_JSON,
        "          description: Ok\n          content:\n            application/json; charset=utf-8:\n",
        &[],
        false,
        false,
    ),
    (
        "request body JSON → merge-patch: the old client's body is refused",
        REQUEST_JSON,
        "        required: true\n        content:\n          application/merge-patch+json:\n",
        &["request_body_media_type_changed"],
        true,
        true,
    ),
    (
        "request media type added: the old server refuses what new clients may send",
        REQUEST_JSON,
        "        required: true\n        content:\n          application/merge-patch+json:\n            schema: {$ref: '#/components/schemas/Thing'}\n          application/json:\n",
        &["request_body_media_type_changed"],
        true,
        false,
    ),
];

#[test]
fn serialization_and_media_type_changes_are_found_and_classified() {
    let old_path = Path::new(DIR).join("wire.yaml");
    let old = std::fs::read_to_string(&old_path).expect("wire.yaml");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("diff-wire");
    std::fs::create_dir_all(&dir).unwrap();
    for (index, &(what, line, replacement, kinds, server, client)) in WIRE_CASES.iter().enumerate()
    {
        assert_eq!(old.matches(line).count(), 1, "{what}: {line:?} not unique");
        let new_path = dir.join(format!("case{index}.yaml"));
        std::fs::write(&new_path, old.replace(line, replacement)).unwrap();
        let diff = tmfgen::diff::diff(&old_path, &new_path, None)
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        let found: Vec<&str> = diff.changes.iter().map(|c| c.kind.as_str()).collect();
        assert_eq!(found, kinds, "{what}: {:#?}", diff.changes);
        assert_eq!(diff.breaks(Audience::Server), server, "{what}: server");
        assert_eq!(diff.breaks(Audience::Client), client, "{what}: client");
    }
}

#[test]
fn a_style_change_names_both_serializations_and_exits_1() {
    let old_path = Path::new(DIR).join("wire.yaml");
    let old = std::fs::read_to_string(&old_path).unwrap();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("diff-wire-cli");
    std::fs::create_dir_all(&dir).unwrap();
    let new_path = dir.join("pipe.yaml");
    std::fs::write(&new_path, old.replace(STATUS, WIRE_CASES[0].2)).unwrap();
    let (code, stdout, stderr) = run(&[
        "--old",
        old_path.to_str().unwrap(),
        "--new",
        new_path.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stdout.contains("query parameter status")
            && stdout.contains("form, explode → pipeDelimited"),
        "{stdout}"
    );
}
