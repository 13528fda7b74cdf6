//! Shared harness code for the fuzz targets in `fuzz_targets/`.
//!
//! * [`cognito`]: a `Cognito` service on an in-memory SQLite store, with a fixed clock,
//!   deterministic randomness, cheap password hashing and no trigger runtime, plus a pool, a
//!   client, a confirmed user and a group; and the input format of the `cognito_request` target.
//! * [`sigv4`]: the server's SigV4 verifier, compiled from its source file (the module is private
//!   to `cognate-server`, whose other dependencies the fuzz build does not need).

#[allow(dead_code, clippy::all)]
#[path = "../../crates/cognate-server/src/access_keys.rs"]
pub mod access_keys;
#[allow(dead_code, clippy::all)]
#[path = "../../crates/cognate-server/src/sigv4.rs"]
pub mod sigv4;

pub mod cognito;
pub mod seeds;

/// A single-threaded tokio runtime, built once per process (one per fuzz target).
pub fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("building the tokio runtime")
    })
}
