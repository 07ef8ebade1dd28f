//! Properties of everything that reads hostile input, checked on generated inputs: the
//! YAML reader and the whole lint path (`yaml`, `lint_inputs`), the env-file parser
//! (`dotenv`), the URL parser and its masking (`natsurl`), the event validator
//! (`events`) and the terminal escaping (`escape`). The NATS wire reader has its own.
//!
//! Each property runs a bounded number of cases (from 32 for the one that starts
//! `nats-doctor check` to 4,096 for the cheap ones; 4 for the million-node budget) from
//! a fixed seed, so CI sees the same cases on every run. A failure prints the smallest
//! input that still fails (proptest shrinks it) and is saved under
//! `tests/proptest-regressions/`, whose cases run first from then on: commit that file
//! with the fix.
//!
//! Cost: the whole suite takes about 15 s in a debug build (`cargo test --test
//! properties`: three runs of 13.8–14.9 s wall time, 9.1–9.6 s of CPU, on the shared
//! 2-core machine at load 4–6, measured with GNU time after the build). The lint path
//! (256 cases, each linting six files three times, once through the binary) takes most.
//!
//! More cases: `PROPTEST_CASES=100000 cargo test --release --test properties` (the
//! node-budget property then takes a thousandth as many); another seed:
//! `PROPTEST_RNG_SEED=N`.

#[path = "../support/mod.rs"]
mod support;

mod dotenv;
mod escape;
mod events;
mod lint_inputs;
mod natsurl;
mod strategies;
mod yaml;
