//! The integration tests of `rskill-manifest`, one test binary (`util` holds the
//! shared manifest bases and case tables).

mod corpus;
mod enums_match_schema;
mod rules_branches;
mod schema_branches;
mod util;
mod yaml_and_files;
