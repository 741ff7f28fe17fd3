//! The integration tests of `rskill` (the library and its `rskill` and
//! `rskill-publisher` binaries), one test binary; shared helpers live in
//! `rskill-test-support`.

mod airgap;
mod cli;
mod client_security;
mod credentials;
mod downloads;
mod governance;
mod groups;
mod hub_load;
mod install;
mod publish;
mod registry;
mod rollback;
mod scan;
mod scan_records;
mod search;
mod signed;
mod smoke_fixtures;
