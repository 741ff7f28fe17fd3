//! rskill: the tool set around a Hugging Face Hub-backed catalog of robot skills.
//!
//! The library holds every concern; the binaries (`rskill`, and those under `tools/`)
//! are thin command-line fronts over it.

pub mod agent_skill;
pub mod card;
pub mod cli;
pub mod corpus;
pub mod diagnostic;
pub mod digest;
pub mod drift;
pub mod fixtures;
pub mod fsutil;
pub mod hub;
pub mod hub_names;
pub mod hub_server;
pub mod install;
pub mod license;
pub mod manifest;
pub mod publish;
pub mod registry;
pub mod rules;
pub mod schema;
pub mod search;
pub mod search_facets;
pub mod seed;
pub mod skill;
pub mod skill_file;
pub mod smoke;
pub mod string_enum;
pub mod tags;
pub mod validate;
pub mod yaml;
