//! Step `config`: the effective NATS_URL, NATS_ENABLED and NATS_SUBJECT_PREFIX and where
//! each came from. Messaging switched off ends the check here (exit 0).

use super::{CheckOptions, Outcome, Status};
use crate::connection::{Connection, Setting};
use crate::runbook::Step;
use serde_json::json;
use std::time::Instant;

pub fn probe(connection: &Connection, options: &CheckOptions) -> Outcome {
    let started = Instant::now();
    let settings = &connection.settings;
    let shown = |setting: &Setting, masked: bool| {
        let value = if masked {
            super::masked_list(&setting.value)
        } else {
            setting.value.clone()
        };
        json!({"value": value, "source": setting.source.label(), "from": setting.source.to_string()})
    };
    let enabled_text = settings.enabled.value.to_lowercase();
    let enabled_valid = enabled_text == "true" || enabled_text == "false";
    let mut status = Status::Pass;
    let mut runbook = Vec::new();
    let summary = if !settings.messaging_enabled() {
        let why = if enabled_valid {
            ""
        } else {
            " — not `true`, so the services read it as false"
        };
        format!(
            "messaging is disabled (NATS_ENABLED={} from {}{why}); the service sends nothing, nothing to check",
            settings.enabled.value, settings.enabled.source
        )
    } else {
        if settings.url.source == crate::connection::Source::Default {
            // The services fall back to localhost: inside a pod that is the pod itself.
            status = Status::Warn;
            runbook.push(Step::WrongUrl);
        }
        format!(
            "NATS_URL={} ({}), NATS_ENABLED={} ({}), NATS_SUBJECT_PREFIX={} ({})",
            super::masked_list(&settings.url.value),
            settings.url.source,
            settings.enabled.value,
            settings.enabled.source,
            settings.subject_prefix.value,
            settings.subject_prefix.source
        )
    };
    let mut notes = Vec::new();
    if !enabled_valid {
        notes.push(format!(
            "NATS_ENABLED={:?} is neither true nor false; the services read it as false",
            settings.enabled.value
        ));
        status = Status::Warn;
        runbook.push(Step::MessagesNotReceived);
    }
    if settings.url.source == crate::connection::Source::Default && settings.messaging_enabled() {
        notes.push(
            "NATS_URL is not set; the services fall back to nats://localhost:4222".to_string(),
        );
    }
    Outcome {
        name: "config",
        status,
        duration: started.elapsed(),
        summary,
        detail: json!({
            "NATS_URL": shown(&settings.url, true),
            "NATS_ENABLED": shown(&settings.enabled, false),
            "NATS_SUBJECT_PREFIX": shown(&settings.subject_prefix, false),
            "messaging_enabled": settings.messaging_enabled(),
            "namespace": options.namespace,
            "timeout_ms": super::millis(connection.timeout),
            "notes": notes,
        }),
        runbook,
    }
}
