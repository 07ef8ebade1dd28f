//! nats-doctor: will this service reach NATS, and if not, why?
//!
//! Where things are: `commands/` is where every command starts (settings read, the run,
//! the report, the exit code); `cli.rs` is the command line as typed. The lint half:
//! `manifest/` → `lint/` → `rules/` → `report/lint/`. The check half: `connection.rs`
//! (settings as objects) → `probe/` (one file per step, each with its detail type;
//! `verdict.rs`, `runbook.rs`) → `report/check/`. The messaging half: `messaging/`
//! (on the client of `nats/` and the schema of `events/`) → `report/messaging/`.

pub mod cli;
pub mod commands;
pub mod connection;
pub mod diagnostic;
pub mod events;
pub mod files;
pub mod lint;
pub mod manifest;
pub mod memory;
pub mod messaging;
pub mod nats;
pub mod natsurl;
pub mod probe;
pub mod report;
pub mod rfc3339;
pub mod rules;
pub mod runbook;
pub mod secret;
pub mod settings;
pub mod subject;

pub use commands::{parse, run};
