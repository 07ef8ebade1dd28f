//! The messaging commands: `test-messaging` publishes the four documented sample events
//! and proves they arrive intact; `watch` subscribes and validates live events. Both use
//! the one event schema of `crate::events` and the connection settings of
//! `crate::connection`. Nothing here prints: the command edge (`crate::commands`)
//! hands the results to the printers of `crate::report::messaging`.

pub mod session;
pub mod test_messaging;
pub mod watch;
