//! Step `config`: the effective NATS_URL, NATS_ENABLED and NATS_SUBJECT_PREFIX and where
//! each came from. Messaging switched off ends the check here (exit 0).

use super::{CheckOptions, Detail, Status, StepOutcome};
use crate::connection::{ConnectionSettings, Setting, Source};
use serde::Serialize;
use std::time::Instant;

/// What `config` found.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ConfigDetail {
    #[serde(rename = "NATS_URL")]
    pub url: ShownSetting,
    #[serde(rename = "NATS_ENABLED")]
    pub enabled: ShownSetting,
    #[serde(rename = "NATS_SUBJECT_PREFIX")]
    pub subject_prefix: ShownSetting,
    pub messaging_enabled: bool,
    /// The pod's namespace, when known.
    pub namespace: Option<String>,
    pub timeout_ms: f64,
    pub notes: Vec<String>,
}

/// A setting as it may be printed (the URL with its credentials masked).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ShownSetting {
    pub value: String,
    /// `flag`, `env_file`, `env` or `default`.
    pub source: &'static str,
    /// The env file it was read from (`source` is `env_file`), else null.
    pub file: Option<String>,
}

impl ConfigDetail {
    /// NATS_URL was not set: the services fall back to localhost.
    pub fn url_is_default(&self) -> bool {
        self.url.source == "default"
    }

    /// NATS_ENABLED is `true` or `false` in any case, as it should be.
    pub fn enabled_is_boolean(&self) -> bool {
        matches!(self.enabled.value.to_lowercase().as_str(), "true" | "false")
    }
}

pub fn probe(connection: &ConnectionSettings, options: &CheckOptions) -> StepOutcome<ConfigDetail> {
    let started = Instant::now();
    let settings = &connection.settings;
    let shown = |setting: &Setting, masked: bool| ShownSetting {
        value: if masked {
            super::masked_list(&setting.value)
        } else {
            setting.value.clone()
        },
        source: setting.source.label(),
        file: match &setting.source {
            Source::EnvFile(path) => Some(path.display().to_string()),
            Source::Flag | Source::Env | Source::Default => None,
        },
    };
    let enabled_text = settings.enabled.value.to_lowercase();
    let enabled_valid = enabled_text == "true" || enabled_text == "false";
    let url_default = settings.url.source == Source::Default;
    let mut status = Status::Pass;
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
        if url_default {
            // The services fall back to localhost: inside a pod that is the pod itself.
            status = Status::Warn;
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
    }
    if url_default && settings.messaging_enabled() {
        notes.push(
            "NATS_URL is not set; the services fall back to nats://localhost:4222".to_string(),
        );
    }
    StepOutcome {
        name: "config",
        status,
        duration: started.elapsed(),
        summary,
        detail: Detail::Found(ConfigDetail {
            url: shown(&settings.url, true),
            enabled: shown(&settings.enabled, false),
            subject_prefix: shown(&settings.subject_prefix, false),
            messaging_enabled: settings.messaging_enabled(),
            namespace: options.namespace.clone(),
            timeout_ms: super::millis(connection.timeout),
            notes,
        }),
    }
}
