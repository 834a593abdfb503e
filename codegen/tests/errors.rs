//! Malformed inputs give located errors (file, JSON pointer or line, what was
//! expected) and never a panic.

fn error_of(spec: &str, profile: Option<&str>) -> String {
    let mut settings = tmfgen::Settings::new(spec);
    if let Some(profile) = profile {
        settings.with_profile(profile);
    }
    match tmfgen::generate(&settings) {
        Ok(_) => panic!("{spec} generated, but it is malformed"),
        Err(error) => error.to_string(),
    }
}

#[test]
fn broken_yaml_names_file_and_line() {
    let message = error_of("../spec/fixtures/malformed/broken.yaml", None);
    assert!(
        message.starts_with("../spec/fixtures/malformed/broken.yaml:7"),
        "{message}"
    );
    assert!(message.contains("not valid YAML/JSON"), "{message}");
}

#[test]
fn dangling_internal_refs_are_any_json_with_a_warning_naming_the_pointer() {
    let set = tmfgen::generate(&tmfgen::Settings::new("../spec/fixtures/dangling_ref.yaml"))
        .expect("a dangling internal $ref is a tolerated defect");
    for pointer in [
        "/components/schemas/Check/properties/entity:",
        "/components/schemas/Check/properties/entities/items:",
        "/components/schemas/Alias:",
        "/components/schemas/Extended/allOf/0:",
        "/paths/~1check/post/requestBody/content/application~1json/schema:",
    ] {
        assert!(
            set.warnings.iter().any(|w| w.contains("dangling_ref.yaml")
                && w.contains(&format!(" at {pointer}"))
                && w.contains("dangling $ref")
                && w.contains("generated as any JSON")),
            "no warning for {pointer}: {:?}",
            set.warnings
        );
    }
}

#[test]
fn merge_conflict_markers_name_file_line_and_column() {
    let message = error_of("../spec/fixtures/malformed/merge_conflict.yaml", None);
    assert!(
        message.starts_with("../spec/fixtures/malformed/merge_conflict.yaml:"),
        "{message}"
    );
    assert!(message.contains("not valid YAML/JSON"), "{message}");
    assert!(
        message.contains("line ") && message.contains("column "),
        "{message}"
    );
}

#[test]
fn alias_loop_is_reported_with_its_chain() {
    let message = error_of("../spec/fixtures/malformed/ref_loop.yaml", None);
    assert!(message.contains("$ref loop"), "{message}");
    assert!(message.contains(" -> "), "{message}");
}

#[test]
fn unknown_schema_type_says_what_was_expected() {
    let message = error_of("../spec/fixtures/malformed/unknown_type.yaml", None);
    assert!(
        message.contains("unknown schema type \"widget\""),
        "{message}"
    );
    assert!(message.contains("/type"), "{message}");
    assert!(
        message.contains("expected one of string, number"),
        "{message}"
    );
}

#[test]
fn profile_naming_an_unknown_schema_points_into_the_profile() {
    let message = error_of(
        "../spec/fixtures/malformed/profile_doc.yaml",
        Some("../spec/fixtures/malformed/profile_unknown_schema.yaml"),
    );
    assert!(
        message.starts_with(
            "../spec/fixtures/malformed/profile_unknown_schema.yaml at /topics/0/payload"
        ),
        "{message}"
    );
    assert!(message.contains("NoSuchSchema"), "{message}");
}

#[test]
fn missing_file_is_an_io_error_naming_it() {
    let message = error_of("../spec/fixtures/malformed/no-such-file.yaml", None);
    assert!(message.contains("no-such-file.yaml"), "{message}");
}

#[test]
fn not_an_openapi_document_is_rejected() {
    let dir = std::env::temp_dir().join(format!("tmfgen-errors-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cases = [
        ("list.yaml", "- a\n- b\n", "expected an OpenAPI document"),
        (
            "v31.yaml",
            "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths: {}\n",
            "unsupported OpenAPI version",
        ),
        (
            "nover.yaml",
            "info: {title: t, version: '1'}\n",
            "expected an `openapi: 3.0.x`",
        ),
        (
            "badpaths.yaml",
            "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: 7\n",
            "/paths",
        ),
    ];
    for (name, text, expected) in cases {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        let message = error_of(path.to_str().unwrap(), None);
        assert!(message.contains(expected), "{name}: {message}");
    }
}

#[test]
fn swagger2_definitions_refs_in_openapi3_resolve_or_are_any_json_with_a_warning() {
    let set = tmfgen::generate(&tmfgen::Settings::new(
        "../spec/fixtures/definitions_ref.yaml",
    ))
    .expect("a #/definitions/ reference is a tolerated defect");
    // (JSON pointer of the reference, what became of it)
    for (pointer, outcome) in [
        (
            "/paths/~1note/post/requestBody/content/application~1json/schema",
            "resolved to #/components/schemas/Note",
        ),
        (
            "/components/schemas/Note/properties/author",
            "resolved to #/components/schemas/Author",
        ),
        (
            "/components/schemas/Note/properties/tags/items",
            "has no \"Tag\"; generated as any JSON",
        ),
    ] {
        assert!(
            set.warnings
                .iter()
                .any(|w| w.contains("definitions_ref.yaml")
                    && w.contains(&format!(" at {pointer}:"))
                    && w.contains("Swagger 2.0's form")
                    && w.contains(outcome)),
            "no warning for {pointer}: {:?}",
            set.warnings
        );
    }
    assert_eq!(set.warnings.len(), 3, "{:?}", set.warnings);
}
