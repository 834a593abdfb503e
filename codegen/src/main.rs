//! `tmfgen`: generate a TM Forum API crate from an OpenAPI/Swagger document, or check
//! that a checked-in crate is what the spec produces.
//!
//! Run from the repository root with no flags, both subcommands use the project's own
//! `spec/tmf688.yaml` + `spec/psi-profile.yaml` and `generated/`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "tmfgen",
    version,
    about = "Generate a TM Forum API crate from its spec"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write the crate.
    Generate(Target),
    /// Exit non-zero, with a diff summary, when the crate differs from a fresh generation.
    Check(Target),
    /// What an implementer must change from one spec to the next (exit 1 when breaking).
    Diff(DiffArgs),
}

/// Exit codes: 0 nothing breaks (for `--for`), 1 something breaks, 2 a document does
/// not load.
#[derive(Args)]
struct DiffArgs {
    /// The document implemented today.
    #[arg(long)]
    old: PathBuf,
    /// The new document.
    #[arg(long)]
    new: PathBuf,
    /// The topic profile, applied to both.
    #[arg(long)]
    profile: Option<PathBuf>,
    /// Print the JSON report (shape: `tmfgen::diff::report`).
    #[arg(long)]
    json: bool,
    /// Whose breakage decides the exit code.
    #[arg(long = "for", value_enum, default_value = "any")]
    audience: Audience,
    /// List every change, not only the breaking ones.
    #[arg(long)]
    all: bool,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Audience {
    Server,
    Client,
    Any,
}

#[derive(Args)]
struct Target {
    /// The OpenAPI 3.0 (YAML/JSON) or Swagger 2.0 document.
    #[arg(long)]
    spec: Option<PathBuf>,
    /// The topic profile (YAML).
    #[arg(long)]
    profile: Option<PathBuf>,
    /// The crate directory.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Package name of the generated crate (default: from the spec title).
    #[arg(long)]
    crate_name: Option<String>,
    /// Do not declare a `[workspace]` in the generated Cargo.toml (for a workspace member).
    #[arg(long)]
    workspace_member: bool,
}

/// The project's own inputs, used when no `--spec` is given.
const DEFAULT_SPEC: &str = "spec/tmf688.yaml";
const DEFAULT_PROFILE: &str = "spec/psi-profile.yaml";
const DEFAULT_OUT: &str = "generated";
const DEFAULT_CRATE: &str = "tmf688-api";

impl Target {
    fn settings(&self) -> (tmfgen::Settings, PathBuf) {
        let defaults = self.spec.is_none();
        let mut settings =
            tmfgen::Settings::new(self.spec.clone().unwrap_or_else(|| DEFAULT_SPEC.into()));
        match (&self.profile, defaults) {
            (Some(profile), _) => {
                settings.with_profile(profile);
            }
            (None, true) => {
                settings.with_profile(DEFAULT_PROFILE);
            }
            (None, false) => {}
        }
        match (&self.crate_name, defaults) {
            (Some(name), _) => {
                settings.with_crate_name(name);
            }
            (None, true) => {
                settings.with_crate_name(DEFAULT_CRATE);
            }
            (None, false) => {}
        }
        settings.with_standalone(!(self.workspace_member || defaults));
        (
            settings,
            self.out.clone().unwrap_or_else(|| DEFAULT_OUT.into()),
        )
    }
}

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}

fn run() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    match cli.command {
        Command::Generate(target) => {
            let (settings, out) = target.settings();
            let started = Instant::now();
            let files = tmfgen::generate(&settings)
                .with_context(|| format!("generating from {}", settings.spec.display()))?;
            for warning in &files.warnings {
                eprintln!("warning: {warning}");
            }
            files
                .write(&out)
                .with_context(|| format!("writing {}", out.display()))?;
            eprintln!(
                "generated {} files in {} ({} ms)",
                files.files.len(),
                out.display(),
                started.elapsed().as_millis()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Diff(args) => diff(&args),
        Command::Check(target) => {
            let (settings, out) = target.settings();
            let files = tmfgen::generate(&settings)
                .with_context(|| format!("generating from {}", settings.spec.display()))?;
            let drift = files.diff(&out);
            if drift.is_empty() {
                eprintln!(
                    "{} is up to date with {}",
                    out.display(),
                    settings.spec.display()
                );
                Ok(ExitCode::SUCCESS)
            } else {
                eprintln!(
                    "{} differs from a fresh generation of {}:",
                    out.display(),
                    settings.spec.display()
                );
                for line in drift {
                    eprintln!("  {line}");
                }
                eprintln!(
                    "run `cargo run --release --bin tmfgen -- generate` and commit the result"
                );
                Ok(ExitCode::from(1))
            }
        }
    }
}

fn diff(args: &DiffArgs) -> anyhow::Result<ExitCode> {
    let diff = tmfgen::diff::diff(&args.old, &args.new, args.profile.as_deref())
        .context("comparing specs")?;
    let (old, new) = (
        args.old.display().to_string(),
        args.new.display().to_string(),
    );
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&tmfgen::diff::report::json(&diff, &old, &new))?
        );
    } else {
        print!(
            "{}",
            tmfgen::diff::report::text(&diff, &old, &new, args.all)
        );
    }
    let audience = match args.audience {
        Audience::Server => tmfgen::diff::Audience::Server,
        Audience::Client => tmfgen::diff::Audience::Client,
        Audience::Any => tmfgen::diff::Audience::Any,
    };
    Ok(if diff.breaks(audience) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
