//! The integration tests of `rskill-hub` (the server library and its binary), one
//! test binary; the test server and request helpers live in `rskill-test-support`.

mod binary;
mod hfhub;
mod http;
mod immutable;
mod import;
mod import_governance;
mod lfs;
mod s3;
mod security;
