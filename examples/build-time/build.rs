//! Generates the TMF688 API with the PSI profile from `spec/` into `OUT_DIR` on every
//! build where the spec changed (`tmfgen::build`): the crate needs no checked-in copy.
//! A spec the generator refuses fails the build with its message (file, JSON pointer,
//! schema) as a Cargo error.

fn main() {
    let mut settings = tmfgen::Settings::new("../../spec/tmf688.yaml");
    settings.with_profile("../../spec/psi-profile.yaml");
    tmfgen::build::run(&settings, "tmf688_api");
}
