//! Generates the TMF688 API with the PSI profile from `spec/` into `OUT_DIR` on every
//! build where the spec changed (`tmfgen::build`): the crate needs no checked-in copy.

fn main() {
    let mut settings = tmfgen::Settings::new("../../spec/tmf688.yaml");
    settings.with_profile("../../spec/psi-profile.yaml");
    if let Err(error) = tmfgen::build::generate_to_out_dir(&settings, "tmf688_api") {
        // The generator's message names the file, JSON pointer and schema.
        panic!("tmfgen: {error}");
    }
}
