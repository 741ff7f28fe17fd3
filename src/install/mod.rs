//! `rskill install`: resolve the skill, validate its manifest, apply the license and
//! pickle guard, download (verified, resumable, into the shared cache), smoke-load,
//! and only then register it.

pub mod guard;
pub mod id;
pub mod plan;
