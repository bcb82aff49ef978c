//! portalgen: a static site generator for public transparency portals.
//!
//! Data flows one way, a module per stage:
//! [`load`] (find files, split front matter) → [`model`] (typed reports, by the format's
//! [`schema`]) → [`check`] (the format's cross-checks) → [`render`] ([`markdown`], [`tables`],
//! Tera with templates minified once by [`htmlmin`]) → [`write`] (atomic output). [`site`] runs them in order; `main.rs` only parses arguments.

pub mod agencies;
pub mod check;
pub mod compare;
pub mod config;
pub mod decimal;
pub mod error;
pub mod feeds;
pub mod fingerprint;
pub mod html;
pub mod htmlmin;
pub mod i18n;
pub mod import;
pub mod load;
pub mod markdown;
pub mod model;
pub mod opendata;
pub mod render;
pub mod scaffold;
pub mod schema;
pub mod schema_json;
pub mod search;
pub mod serve;
pub mod site;
pub mod synth;
pub mod tables;
pub mod theme;
pub mod write;
pub mod yaml;

pub use error::{Diagnostic, Error, Lang};
pub use site::{BuildOptions, BuildSummary, build};
