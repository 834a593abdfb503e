//! The delivery engine (DESIGN §4): every stored event goes to every qualified hub of
//! its topic, in order per hub, at least once, with retries, halt and resume.
//!
//! * [`config`]: [`DeliveryConfig`], the `[delivery]` table of the server configuration.

pub mod config;

pub use config::{CallbackHost, DeliveryConfig, OutboundAuth, PoolConfig, RetryConfig};
