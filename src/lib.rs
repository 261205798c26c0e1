//! # CATAAM ⇄ Jira sync core
//!
//! **Determinism contract.** Nothing in this crate performs I/O, reads a clock or draws randomness
//! on its own: every effect goes through the [`host::Host`] trait, and time is an argument. The
//! same inputs always give the same plan, so the core is tested natively in milliseconds and the
//! wasm build (see `wasm`) only adapts the Forge host object to the trait.

pub mod admin;
pub mod cataam;
pub mod engine;
#[path = "wasm/entry.rs"]
pub mod entry;
pub mod host;
pub mod jira;
pub mod model;
pub mod plan;
pub mod push;
pub mod settings;
pub mod store;
#[cfg(target_arch = "wasm32")]
pub mod wasm;
