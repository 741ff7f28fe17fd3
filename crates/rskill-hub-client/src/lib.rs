//! Talking to a Hugging Face Hub (huggingface.co or any compatible server such as
//! `rskill-hub`): configuration from the environment, the client, and the calls
//! rskill needs.
//!
//! Owns: the client side of the Hub protocol (environment, HTTP calls, listing,
//! downloads, the local blob cache). Must never depend on the server (`rskill-hub`):
//! it talks to any Hub over HTTP. Depends on `rskill-hub-protocol` for the shared
//! protocol types and on `rskill-manifest` for the manifest size limit.

pub mod cache;
pub mod client;
pub mod download;
pub mod env;
pub mod error;
pub mod listing;
pub mod ranged;
pub mod ratelimit;
pub mod redirect;
pub mod repo;
pub mod tls;
pub mod write;

pub use rskill_hub_protocol::ids;
// Paths the modules use from the shared crates, under their historical names.
use rskill_hub_protocol::{digest, fsutil};
use rskill_manifest::validate;

pub use client::{Ctx, HubClient};
pub use env::{HubEnv, Token, TokenSource};
pub use error::HubError;
pub use repo::{RepoId, RepoInfo, Sibling};
