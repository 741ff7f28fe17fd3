//! `rskill-object-store`: starts a throwaway Garage node (binary from `RSKILL_GARAGE_BIN`)
//! for scripts — the compatibility suite on the S3 backend and the upload benchmark —
//! prints `export` lines for the `AWS_*` variables and the bucket, and keeps the node
//! running until its standard input closes.
//!
//! Exit codes: 0 ok, 1 failure, 2 usage (no `RSKILL_GARAGE_BIN`).

use std::io::Read;
use std::process::ExitCode;

use rskill_test_support::object_store_server::{GARAGE_BIN_ENV, ObjectStoreServer};

fn main() -> ExitCode {
    let Some(bin) = ObjectStoreServer::binary() else {
        eprintln!("error: {GARAGE_BIN_ENV} is not set");
        eprintln!("hint: point it at a garage 2.x binary (scripts/ensure-garage.sh builds one)");
        return ExitCode::from(2);
    };
    let store = ObjectStoreServer::start(&bin);
    println!("export AWS_ENDPOINT_URL={}", store.endpoint);
    println!("export AWS_REGION={}", store.region);
    println!("export AWS_ACCESS_KEY_ID={}", store.access_key_id);
    println!("export AWS_SECRET_ACCESS_KEY={}", store.secret_access_key);
    println!("export RSKILL_S3_BUCKET={}", store.bucket);
    println!("ready");
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
    drop(store);
    ExitCode::SUCCESS
}
