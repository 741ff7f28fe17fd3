//! rskill: the tool set around a Hugging Face Hub-backed catalog of robot skills.
//!
//! The library holds every concern; the binaries (`rskill`, and those under `tools/`)
//! are thin command-line fronts over it.

pub mod card;
pub mod corpus;
pub mod diagnostic;
pub mod fsutil;
pub mod hub_server;
pub mod license;
pub mod manifest;
pub mod rules;
pub mod schema;
pub mod skill;
pub mod string_enum;
pub mod tags;
pub mod validate;
pub mod yaml;
