//! rskill manifests: everything about one `rskill.yaml` and the skill folder around
//! it, offline. YAML loading ([`yaml`]), the JSON Schema ([`schema`]), the typed
//! manifest ([`manifest`]), the cross-field rules ([`rules`]), license postures
//! ([`license`]), tags ([`tags`]), model cards ([`card`]), `SKILL.md` ([`agent_skill`]),
//! finding skills on disk ([`corpus`]) and validating them ([`validate`], [`skill`]).
//!
//! Owns: the manifest contract. Must never depend on the Hub client
//! (`rskill-hub-client`) nor the server (`rskill-hub`): both read manifests through
//! this crate. Its only rskill dependency is `rskill-hub-protocol` (the manifest
//! file name).

pub mod agent_skill;
pub mod card;
pub mod corpus;
pub mod diagnostic;
pub mod group;
pub mod license;
pub mod manifest;
pub mod rules;
pub mod schema;
pub mod skill;
pub mod skill_file;
pub mod string_enum;
pub mod tags;
pub mod validate;
pub mod yaml;
