//! The TMF688 Event Management API with the PSI profile, generated at build time by
//! `build.rs` (`tmfgen::build::generate_to_out_dir`) from `spec/` — the same modules as
//! the checked-in `tmf688-api` crate (`models`, `operations`, `server`, `client`,
//! `profile`, `support`, `OPENAPI_JSON`), without a generated crate in the repository.

include!(concat!(env!("OUT_DIR"), "/tmf688_api.rs"));
