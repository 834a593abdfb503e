//! Cross-crate integration tests, one binary (link time).

mod generated_router;
mod guide_requests;
mod guide_samples;
mod support_validation;
