//! Support for rskill's tests, benchmarks and demos: generated but genuine weights
//! ([`fixtures`]: safetensors, shards, ONNX graphs), seeding a Hub with the upstream
//! repos a corpus points to ([`seed`], and the `rskill-seed` binary) or with hundreds of
//! generated skills ([`generated_catalog`]), an in-process
//! `rskill-hub` with tokens ([`test_hub`]), a scripted hostile Hub ([`hostile_hub`]), and
//! the repository paths and corpus-derived manifests tests share ([`paths`]), and the
//! hostile and benign weights the security scanner is tested on ([`scan_corpus`]), a
//! real S3-compatible store ([`object_store_server`], Garage) and a recording proxy to
//! put in front of it ([`recording_proxy`]), an object store stand-in for redirected and
//! ranged downloads ([`store_standin`]), a per-connection throttling proxy
//! ([`throttle_proxy`], the `rskill-throttle-proxy` binary of the benchmarks), and a proxy
//! that makes `rskill-hub` behave like huggingface.co under load ([`hf_proxy`]: quotas,
//! 429s without `Retry-After`, 503s, cursors, redirects to a second origin).
//!
//! Owns: test and demo scaffolding only. No library crate may depend on it outside
//! `[dev-dependencies]`; it may depend on every other rskill crate except `rskill`.

pub mod fixtures;
pub mod generated_catalog;
pub mod hf_proxy;
pub mod hostile_hub;
pub mod object_store_server;
pub mod paths;
pub mod recording_proxy;
pub mod scan_corpus;
pub mod seed;
pub mod store_standin;
pub mod test_hub;
pub mod throttle_proxy;
