//! The formats of `test-messaging` and `watch`: `text` and `json`.

pub mod json;
pub mod text;
