//! Talking to a Hugging Face Hub (huggingface.co or any compatible server such as
//! `rskill-hub`): configuration from the environment, the client, and the calls
//! rskill needs.

pub mod cache;
pub mod client;
pub mod download;
pub mod env;
pub mod error;
pub mod ids;
pub mod listing;
pub mod repo;
pub mod write;

pub use client::{Ctx, HubClient};
pub use env::{HubEnv, Token, TokenSource};
pub use error::HubError;
pub use repo::{RepoId, RepoInfo, Sibling};
