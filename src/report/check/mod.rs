//! The formats of `check`: `text` for people, `json`, `nagios` (one plugin line) and
//! `prometheus` (the node-exporter textfile collector). They read the typed step
//! results of `crate::probe` and the verdict of `crate::probe::verdict`.

pub mod json;
pub mod nagios;
pub mod prometheus;
pub mod text;
