//! Governance of published skills, kept in each skill repo so it works on any Hub:
//! version statuses (draft, active, deprecated, deleted), aliases (`production`,
//! `staging`, …; `latest` resolved at read time) and the append-only history of every
//! change, in `rskill.registry.json` on `main` (layout in `docs/governance.md`).
//!
//! [`model`] holds the pure rules (transitions, aliases, validation of a hostile file);
//! [`remote`] reads and changes the state on a Hub with optimistic concurrency;
//! [`seen`] remembers what this machine saw (rewritten histories, offline audits);
//! [`resolve`] turns `ID@production`, `@latest`, `@1.2.0` … into a commit;
//! [`audit`] checks installed skills against the current state;
//! [`scan_record`] holds the scan records kept per commit;
//! [`signed`] checks and makes the signed governance state (`rskill.registry.sig`).

pub mod audit;
pub mod model;
pub mod remote;
pub mod resolve;
pub mod scan_record;
pub mod seen;
pub mod signed;

pub use model::{Event, GovError, Registry, Status};
pub use remote::{LifecycleError, Op, SkillState};
pub use seen::Seen;
