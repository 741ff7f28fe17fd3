//! The publisher: in-repo skill → validated, tagged, verified Hub repo. `plan` is the
//! dry run; `run` publishes; `sign` writes the weights lock and the signature; `bump` pins upstream revisions; `collection` keeps a
//! collection of the published skills.

pub mod bump;
pub mod collection;
pub mod files;
pub mod group;
pub mod plan;
pub mod run;
pub mod sign;

pub use plan::{Plan, PublishOptions, plan};
pub use run::{Outcome, PublishStatus, publish, publish_all};
