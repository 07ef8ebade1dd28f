//! Docker Compose files: each service becomes a workload with one container whose env
//! is its `env_file` entries followed by its `environment` (list or map form).
//!
//! An `env_file` that does not exist is a note, not an error: it is usually left out of
//! the repository and created at deploy time. Only one marked `required: true` is an
//! input error when it is missing; one marked `required: false` is passed over, as
//! compose does.

use crate::diagnostic::{FileName, InputError, Location, Note};
use crate::manifest::dotenv;
use crate::manifest::model::{
    Container, DuplicateKey, EnvSource, EnvVar, Inventory, Object, Platform, Value, Workload,
};
use crate::manifest::yaml::{Document, Node, PathSegment};
use crate::memory::exact;
use std::io::ErrorKind;
use std::path::Path;
use std::sync::Arc;

/// Whether a document is a compose file (`services:` and no Kubernetes `kind`).
pub fn is_compose(document: &Node) -> bool {
    document.get("kind").is_none() && document.get("services").is_some_and(Node::is_mapping)
}

/// Reads the services of a compose file. `env_file` paths are relative to the file.
pub fn extract(
    file: &FileName,
    path: Option<&Path>,
    document: &Document,
    inventory: &mut Inventory,
    errors: &mut Vec<InputError>,
    notes: &mut Vec<Note>,
) {
    let location = |node: &Node| Location::new(file, node.line, node.column);
    let service_object = |name: &Node| {
        Some(Object {
            kind: "compose service".into(),
            name: name.as_str()?.into(),
            namespace: Default::default(),
            location: location(name),
            ignore: Box::default(),
        })
    };
    for duplicate in &document.duplicate_keys {
        let object = match duplicate.path.as_slice() {
            [PathSegment::Key(services), PathSegment::Key(service), ..]
                if services == "services" =>
            {
                document
                    .root
                    .get("services")
                    .and_then(|services| services.entry(service))
                    .and_then(|(name, _)| service_object(name))
            }
            _ => None,
        };
        inventory.duplicate_keys.push(DuplicateKey {
            object,
            platform: Platform::Compose,
            key: duplicate.key.as_str().into(),
            location: Location::new(file, duplicate.line, duplicate.column),
            width: duplicate.width,
            first: Location::new(file, duplicate.first_line, duplicate.first_column),
            secret_data: false,
        });
    }
    let document = &document.root;
    // Missing env files, once each, with the services that name them.
    let mut missing: Vec<(String, &Node, Vec<&str>)> = Vec::new();
    for (name, service) in document
        .get("services")
        .map(Node::entries)
        .unwrap_or_default()
    {
        let Some(service_name) = name.as_str() else {
            continue;
        };
        let mut base_env = Vec::new();
        let env_files: Vec<&Node> = match service.get("env_file") {
            Some(node) if node.as_str().is_some() => vec![node],
            Some(node) => node.items().iter().collect(),
            None => Vec::new(),
        };
        for entry in env_files {
            let (file_node, required) = match entry.get("path") {
                Some(path_node) => (path_node, entry.get("required").and_then(Node::as_bool)),
                None => (entry, None),
            };
            let Some(relative) = file_node.as_str() else {
                continue;
            };
            let resolved = path.and_then(Path::parent).map_or_else(
                || Path::new(relative).to_path_buf(),
                |dir| dir.join(relative),
            );
            let text = crate::files::read(&resolved, crate::files::MAX_INPUT_BYTES)
                .map_err(|error| match error {
                    crate::files::ReadError::Io(io) if io.kind() == ErrorKind::NotFound => None,
                    other => Some(other.to_string()),
                })
                .and_then(|bytes| {
                    crate::manifest::decode::decode(bytes).map_err(|e| Some(e.to_string()))
                });
            match text {
                Ok(text) => {
                    let env_file =
                        crate::diagnostic::FileName::from(resolved.display().to_string());
                    let (vars, problems) = dotenv::parse(&env_file, &text);
                    base_env.extend(vars);
                    errors.extend(problems.into_iter().map(|problem| InputError {
                        file: Arc::clone(&env_file),
                        line: Some(problem.line),
                        column: Some(problem.column),
                        message: problem.message,
                    }));
                }
                // Missing, and said to be required.
                Err(None) if required == Some(true) => errors.push(InputError {
                    file: Arc::clone(file),
                    line: Some(file_node.line),
                    column: Some(file_node.column),
                    message: format!(
                        "env_file `{relative}` does not exist, and is marked `required: true`"
                    ),
                }),
                Err(None) if required == Some(false) => {}
                Err(None) => match missing.iter_mut().find(|(path, ..)| path == relative) {
                    Some((_, _, services)) => services.push(service_name),
                    None => missing.push((relative.to_string(), file_node, vec![service_name])),
                },
                // There, but not readable: a broken input.
                Err(Some(error)) => errors.push(InputError {
                    file: Arc::clone(file),
                    line: Some(file_node.line),
                    column: Some(file_node.column),
                    message: format!("env_file `{relative}` cannot be read: {error}"),
                }),
            }
        }
        let mut env = Vec::new();
        match service.get("environment") {
            Some(list) if !list.items().is_empty() => {
                for item in list.items() {
                    let Some(text) = item.as_str() else { continue };
                    let (key, value) = match text.split_once('=') {
                        Some((key, value)) => (key, Some(value)),
                        None => (text, None),
                    };
                    let key_width = u32::try_from(key.chars().count()).unwrap_or(1);
                    let value_offset = u32::try_from(key.chars().count() + 1).unwrap_or(0);
                    let quoted = u32::from(
                        item.as_scalar()
                            .is_some_and(|s| s.style == crate::manifest::yaml::Style::Quoted),
                    );
                    // The value is located inside the entry only when the entry is
                    // written as its text on one line (no escapes, no folding);
                    // otherwise at the entry itself.
                    let as_written = u32::try_from(text.chars().count())
                        .is_ok_and(|length| length + 2 * quoted == item.width)
                        && !text.contains(['\n', '\r']);
                    env.push(EnvVar {
                        name: key.into(),
                        name_location: location(item),
                        name_width: key_width,
                        source: match value {
                            Some(value) if as_written => EnvSource::Value(Value {
                                text: value.into(),
                                location: Location::new(
                                    file,
                                    item.line,
                                    item.column + quoted + value_offset,
                                ),
                                width: u32::try_from(value.chars().count().max(1)).unwrap_or(1),
                                style: None,
                                not_scalar: false,
                            }),
                            Some(value) => EnvSource::Value(Value {
                                text: value.into(),
                                location: location(item),
                                width: item.width,
                                style: None,
                                not_scalar: false,
                            }),
                            // `- KEY` passes the variable through from the host.
                            None => EnvSource::Runtime,
                        },
                    });
                }
            }
            Some(map) => {
                for (key, value) in map.entries() {
                    let Some(name) = key.as_str() else { continue };
                    let source = match value.as_str() {
                        Some(text)
                            if !(text.is_empty()
                                && value.as_scalar().is_some_and(|s| {
                                    s.style == crate::manifest::yaml::Style::Plain
                                })) =>
                        {
                            EnvSource::Value(Value {
                                text: text.into(),
                                location: location(value),
                                width: value.width,
                                style: None,
                                not_scalar: false,
                            })
                        }
                        _ => EnvSource::Runtime,
                    };
                    env.push(EnvVar {
                        name: name.into(),
                        name_location: location(key),
                        name_width: key.width,
                        source,
                    });
                }
            }
            None => {}
        }
        inventory.objects += 1;
        let Some(object) = service_object(name) else {
            continue;
        };
        let image = service.str_at("image").unwrap_or_default();
        // `command` and `entrypoint` as a string or a list.
        let command = ["entrypoint", "command"].into_iter().flat_map(|key| {
            let node = service.get(key);
            node.and_then(Node::as_str).into_iter().chain(
                node.map(Node::items)
                    .unwrap_or_default()
                    .iter()
                    .filter_map(Node::as_str),
            )
        });
        inventory.workloads.push(Workload {
            object,
            platform: Platform::Compose,
            pod_labels: Default::default(),
            pod_ignore: Box::default(),
            containers: Box::new([Container {
                name: service_name.into(),
                location: location(name),
                width: name.width,
                nats_server: crate::manifest::integrations::runs_nats_server(image, command),
                base_env: exact(base_env),
                env_from: Box::default(),
                env: exact(env),
                ports: Box::default(),
            }]),
        });
    }
    for (relative, node, services) in missing {
        notes.push(Note {
            file: Arc::clone(file),
            line: Some(node.line),
            column: Some(node.column),
            message: format!(
                "env_file `{relative}` does not exist (it is usually created at deploy time); its variables are not linted for {} {}",
                if services.len() == 1 { "service" } else { "services" },
                services.join(", ")
            ),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::yaml;

    /// (line, column, width) of each value of the one service's list `environment`.
    fn value_places(text: &str) -> Vec<(u32, u32, u32)> {
        let file = crate::diagnostic::FileName::from("compose.yaml");
        let document = yaml::documents(text)
            .next()
            .expect("a document")
            .expect("valid YAML");
        let mut inventory = Inventory::default();
        extract(
            &file,
            None,
            &document,
            &mut inventory,
            &mut Vec::new(),
            &mut Vec::new(),
        );
        inventory.workloads[0].containers[0]
            .env
            .iter()
            .filter_map(|var| match &var.source {
                EnvSource::Value(value) => {
                    Some((value.location.line, value.location.column, value.width))
                }
                _ => None,
            })
            .collect()
    }

    #[test]
    fn list_values_are_located_inside_their_entry_or_at_it() {
        let text = "services:\n  app:\n    environment:\n      - NATS_URL=nats://a:4222\n      - \"B=x\"\n      - \"|\n        C=nats://10.1.2.3:4222\"\n      - \"D=\\u0041\"\n";
        assert_eq!(
            value_places(text),
            [
                // Written as it reads: at the value itself.
                (4, 18, 13),
                (5, 12, 1),
                // Folded over two lines, or with an escape: at the entry.
                (6, 9, 2),
                (8, 9, 10),
            ]
        );
    }
}
