//! Non-Rust files and file shells, rendered with askama templates from `templates/`.

use askama::Template;

/// `Cargo.toml` of the generated crate.
#[derive(Debug, Template)]
#[template(path = "Cargo.toml.askama", escape = "none")]
pub struct CargoToml<'a> {
    /// Spec path as given.
    pub source: &'a str,
    /// Package name.
    pub crate_name: &'a str,
    /// Package version.
    pub version: &'a str,
    /// One-line description.
    pub description: &'a str,
    /// Outside a workspace: declare an empty one.
    pub standalone: bool,
}

/// `README.md` of the generated crate.
#[derive(Debug, Template)]
#[template(path = "README.md.askama", escape = "none")]
pub struct Readme<'a> {
    /// Spec path as given.
    pub source: &'a str,
    /// Package name.
    pub crate_name: &'a str,
    /// API title.
    pub title: &'a str,
    /// API version.
    pub version: &'a str,
    /// Profile path, when one was given.
    pub profile: Option<&'a str>,
    /// Number of model types.
    pub type_count: usize,
    /// Number of operations.
    pub operation_count: usize,
    /// (id, method, path, trait) per operation.
    pub operations: Vec<(String, String, String, String)>,
    /// Whether there is a listener router.
    pub has_listener: bool,
}

/// `src/lib.rs` of the generated crate.
#[derive(Debug, Template)]
#[template(path = "lib.rs.askama", escape = "none")]
pub struct LibRs<'a> {
    /// Spec path as given.
    pub source: &'a str,
    /// API title.
    pub title: &'a str,
    /// API version.
    pub version: &'a str,
    /// Whether `profile.rs` exists.
    pub has_profile: bool,
}

/// `src/params.rs`: hand-written Rust that writes and reads parameters per style.
#[derive(Debug, Template)]
#[template(path = "params.rs", escape = "none")]
pub struct ParamsRs {
    /// Emit the server half.
    pub server: bool,
    /// Emit the client half.
    pub client: bool,
}

/// `src/support.rs`: hand-written Rust shared by the generated modules.
#[derive(Debug, Template)]
#[template(path = "support.rs", escape = "none")]
pub struct SupportRs {
    /// Emit the server half.
    pub server: bool,
    /// Emit the client half.
    pub client: bool,
}
