//! `tmfgen`: a spec-driven generator of TM Forum API crates.
//!
//! The pipeline is **load → lower → emit → output**:
//!
//! * [`load`] reads the OpenAPI 3.0 document (or converts a Swagger 2.0 one), bundles
//!   external references and the profile's payload schemas into it, and parses it
//!   with `openapiv3`;
//! * [`lower`] turns it into the [`ir`], which knows nothing of either;
//! * [`emit`] turns the IR into Rust token streams, and [`render`] the rest
//!   (Cargo.toml, README, lib.rs) through askama templates;
//! * [`output`] formats, labels, writes, or diffs the files; or, at build time,
//!   [`build`] writes the modules as one file into a build script's `OUT_DIR`.
//!
//! Every error names the input file and the JSON pointer of the offending node. The
//! defects that are warnings instead are listed in one place: the README's
//! "Tolerated input defects" (under "Generality").

pub mod build;
pub mod diff;
pub mod emit;
pub mod error;
pub mod ir;
pub mod load;
pub mod lower;
pub mod output;
pub mod render;

use std::path::{Path, PathBuf};

use askama::Template;

pub use error::{Error, Location, Result};
pub use output::FileSet;

/// What to generate from what.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The OpenAPI (or Swagger 2.0) document.
    pub spec: PathBuf,
    /// The topic profile, if any.
    pub profile: Option<PathBuf>,
    /// The package name of the generated crate.
    pub crate_name: String,
    /// Declare an empty `[workspace]` so the crate builds outside any workspace.
    pub standalone: bool,
}

impl Settings {
    /// Settings for `spec` with a crate name derived from its title.
    pub fn new(spec: impl Into<PathBuf>) -> Self {
        Self {
            spec: spec.into(),
            profile: None,
            crate_name: String::new(),
            standalone: true,
        }
    }

    /// Uses `profile`.
    pub fn with_profile(&mut self, profile: impl Into<PathBuf>) -> &mut Self {
        self.profile = Some(profile.into());
        self
    }

    /// Names the generated package.
    pub fn with_crate_name(&mut self, name: impl Into<String>) -> &mut Self {
        self.crate_name = name.into();
        self
    }

    /// Whether the crate declares its own workspace.
    pub fn with_standalone(&mut self, standalone: bool) -> &mut Self {
        self.standalone = standalone;
        self
    }
}

/// The display form of an input path (relative paths stay as given, for stable output).
fn display(path: &Path) -> String {
    path.to_string_lossy().replace('\\', "/")
}

/// Runs the whole pipeline and returns the crate's files.
pub fn generate(settings: &Settings) -> Result<FileSet> {
    // The templates are the same for every document: rustfmt formats them while the
    // document is loaded and lowered.
    let mut rust = output::RustFormatter::new();
    rust.start(vec![
        output::RustFile::from_static_template("src/support.rs", support_source()?),
        output::RustFile::from_static_template("src/params.rs", params_source()?),
    ]);
    let loaded = load::load(&settings.spec, settings.profile.as_deref())?;
    let api = lower::lower(&loaded)?;
    let mut set = FileSet {
        warnings: [loaded.warnings.clone(), api.warnings.clone()].concat(),
        ..FileSet::default()
    };
    let source = display(&settings.spec);
    let crate_name = if settings.crate_name.is_empty() {
        format!("{}-api", ir::names::snake(&api.title).replace('_', "-"))
    } else {
        settings.crate_name.clone()
    };
    let lib = render::LibRs {
        source: &source,
        title: &api.title,
        version: &api.version,
        has_profile: api.profile.is_some(),
    }
    .render()
    .map_err(|e| render_error("src/lib.rs", e))?;
    let mut files = vec![output::RustFile::from_text("src/lib.rs", lib)?];
    for (name, tokens) in modules(&api) {
        files.push(output::RustFile::from_tokens(
            format!("src/{name}.rs"),
            tokens,
        )?);
    }
    rust.start(files);
    let header = output::rust_header(&source);
    for (path, text) in rust.finish(&mut set.warnings) {
        set.files.insert(path, format!("{header}{text}"));
    }

    let description = format!("{} {} API, generated from {source}", api.title, api.version)
        .replace(['"', '\\', '\n'], " ");
    let cargo = render::CargoToml {
        source: &source,
        crate_name: &crate_name,
        version: &cargo_version(&api.version),
        description: &description,
        standalone: settings.standalone,
    }
    .render()
    .map_err(|e| render_error("Cargo.toml", e))?;
    set.files.insert("Cargo.toml".into(), ensure_newline(cargo));

    let profile_display = settings.profile.as_deref().map(display);
    let readme = render::Readme {
        source: &source,
        crate_name: &crate_name,
        title: &api.title,
        version: &api.version,
        profile: profile_display.as_deref(),
        type_count: api.types.len(),
        operation_count: api.operations.len(),
        operations: api
            .operations
            .iter()
            .map(|o| {
                (
                    o.id.clone(),
                    o.method.clone(),
                    o.path.clone(),
                    o.trait_name.clone(),
                )
            })
            .collect(),
        has_listener: api.traits.iter().any(|t| t.listener),
    }
    .render()
    .map_err(|e| render_error("README.md", e))?;
    set.files.insert("README.md".into(), ensure_newline(readme));

    let json = serde_json::to_string_pretty(&loaded.json).map_err(|e| Error::Internal {
        file: "src/openapi.json".into(),
        message: e.to_string(),
    })?;
    set.files
        .insert("src/openapi.json".into(), ensure_newline(json));
    Ok(set)
}

/// The emitted Rust modules, by name.
fn modules(api: &ir::Api) -> Vec<(&'static str, proc_macro2::TokenStream)> {
    let mut modules = vec![
        ("models", emit::models::emit(api)),
        ("operations", emit::operations::emit(api, true, true)),
        ("server", emit::server::emit(api)),
        ("client", emit::client::emit(api)),
    ];
    if let Some(profile) = &api.profile {
        modules.push(("profile", emit::profile::emit(api, profile)));
    }
    modules
}

fn render_error(file: &str, error: askama::Error) -> Error {
    Error::Internal {
        file: file.to_owned(),
        message: error.to_string(),
    }
}

fn support_source() -> Result<String> {
    render::SupportRs {
        server: true,
        client: true,
    }
    .render()
    .map_err(|e| render_error("src/support.rs", e))
}

fn params_source() -> Result<String> {
    render::ParamsRs {
        server: true,
        client: true,
    }
    .render()
    .map_err(|e| render_error("src/params.rs", e))
}

/// Loads, lowers and emits without formatting or writing: every Rust module as a token
/// stream, for tools and tests that only need to know that generation succeeds.
pub fn emit_modules(settings: &Settings) -> Result<Vec<(&'static str, proc_macro2::TokenStream)>> {
    let loaded = load::load(&settings.spec, settings.profile.as_deref())?;
    let api = lower::lower(&loaded)?;
    Ok(modules(&api))
}

/// Where a [`generate_single_file`] snapshot finds its support module, relative to
/// `codegen/tests/output/` where the snapshots lie: the generated crate's own
/// `src/support.rs`. It does not depend on the spec, and `tmfgen check` keeps it equal
/// to a fresh rendering of the template, so the snapshots need no copy of it.
pub const SNAPSHOT_SUPPORT_PATH: &str = "../../../generated/src/support.rs";

/// Where a [`generate_single_file`] snapshot finds its `params` module, like
/// [`SNAPSHOT_SUPPORT_PATH`].
pub const SNAPSHOT_PARAMS_PATH: &str = "../../../generated/src/params.rs";

/// The whole crate as one Rust file (`#![deny(warnings)]`, the generated modules inline,
/// a `main`): what snapshot tests review and compile. The hand-written support module,
/// the same for every spec, is not inlined: the file includes it from
/// [`SNAPSHOT_SUPPORT_PATH`].
pub fn generate_single_file(settings: &Settings) -> Result<String> {
    let loaded = load::load(&settings.spec, settings.profile.as_deref())?;
    let api = lower::lower(&loaded)?;
    let mut text = String::from("#![deny(warnings)]\n");
    for (name, tokens) in modules(&api) {
        text.push_str(&format!("pub mod {name} {{ {tokens} }}\n"));
    }
    text.push_str(&format!(
        "#[path = \"{SNAPSHOT_SUPPORT_PATH}\"]\npub mod support;\n\
         #[path = \"{SNAPSHOT_PARAMS_PATH}\"]\npub mod params;\n"
    ));
    text.push_str("fn main() {}\n");
    let mut warnings = Vec::new();
    let formatted = output::format_rust_text("snapshot", &text, &mut warnings)?;
    Ok(format!(
        "{}{formatted}",
        output::rust_header(&display(&settings.spec))
    ))
}

fn ensure_newline(mut text: String) -> String {
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text
}

/// A Cargo-acceptable version from a spec version (`4.0.0` stays, `5.0` → `5.0.0`).
fn cargo_version(version: &str) -> String {
    let numbers: Vec<u64> = version
        .split(['.', '-', '+'])
        .map_while(|part| part.parse().ok())
        .collect();
    let pick = |i: usize| numbers.get(i).copied().unwrap_or(0);
    format!("{}.{}.{}", pick(0), pick(1), pick(2))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `RustFile::from_static_template` takes on trust: the templates that are the
    /// same for every document are Rust and declare no out-of-line module.
    #[test]
    fn static_templates_are_rust() {
        for (name, text) in [
            ("support.rs", support_source().unwrap()),
            ("params.rs", params_source().unwrap()),
        ] {
            let file = syn::parse_file(&text).unwrap_or_else(|error| panic!("{name}: {error}"));
            assert_eq!(
                output::out_of_line_modules(&file),
                Vec::<String>::new(),
                "{name}"
            );
        }
    }
}
