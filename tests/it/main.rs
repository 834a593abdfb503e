//! Cross-crate integration tests, one binary (link time).

mod generated_router;
mod guide_requests;
mod guide_samples;
mod path_ids;
mod support_validation;
