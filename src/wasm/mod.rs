//! The only wasm-specific code: [`JsHost`] adapts the JS host object built by `forge/host.js` to
//! the [`Host`](crate::host::Host) trait, and `exports` holds the `#[wasm_bindgen]` entry points
//! `poll`, `issueEvent`, `push`, `consume`, `resolver` and `version`, which take and return plain
//! JSON-able values. What each entry point decides lives in the target-independent
//! [`crate::entry`], [`crate::push`] and [`crate::admin`] modules, tested natively.

mod exports;
mod host;

pub use exports::*;
pub use host::{cataam_timeout_ms, from_js, host_error, split_query, to_js, JsHost};
