//! `rskill install`: resolve the skill, verify its signature (`signature`), validate its manifest, apply the license and
//! pickle guard, download (verified, resumable, into the shared cache), smoke-load,
//! and only then register it. Plus the lockfile that pins all of it, and uninstalling.

pub mod group;
pub mod guard;
pub mod id;
pub mod lockfile;
pub mod plan;
pub mod run;
pub mod scan_policy;
pub mod signature;
pub mod uninstall;

pub use run::{InstallError, InstallOptions, InstallReport, InstallUi, Preflight, install};
