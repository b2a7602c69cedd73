//! How the command-line client prints what it got: for people, as aligned text; with the global
//! `--output json` (`-o json`), for scripts, each answer as one line of JSON (the proto3 JSON mapping with the
//! `.proto` field names, as the REST surface writes it), a list one line per item.

use std::sync::OnceLock;

use serde::Serialize;

/// `--output`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

static JSON: OnceLock<bool> = OnceLock::new();

/// Chooses JSON output for this process (once, from the command line).
pub fn use_json(json: bool) {
    let _ = JSON.set(json);
}

/// Whether answers are printed as JSON.
pub fn json() -> bool {
    JSON.get().copied().unwrap_or(false)
}

/// Prints `value`: as a JSON line, or as `human` writes it.
pub fn show<T: Serialize>(value: &T, human: impl FnOnce(&T)) {
    if json() {
        match serde_json::to_string(value) {
            Ok(line) => println!("{line}"),
            Err(err) => eprintln!("error: the answer could not be written as JSON: {err}"),
        }
    } else {
        human(value);
    }
}

#[cfg(test)]
mod tests {
    use herald_proto::v1::{Device, DeviceState, Platform};

    #[test]
    fn answers_are_written_in_the_proto3_json_mapping() {
        let device = Device {
            device_id: "dev_1".into(),
            platform: Platform::Android as i32,
            state: DeviceState::Active as i32,
            created_at_ms: 1_700_000_000_000,
            ..Default::default()
        };
        let line = serde_json::to_string(&device).unwrap();
        assert_eq!(
            line,
            r#"{"device_id":"dev_1","platform":"PLATFORM_ANDROID","state":"DEVICE_STATE_ACTIVE","created_at_ms":"1700000000000"}"#
        );
    }
}
