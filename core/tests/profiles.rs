//! The example register profiles of `profiles/` against the vectors of
//! `profiles/examples.jsonl` (built by `profiles/make_examples.py`, independently of
//! meterwire: register words from Python's `struct`, CRCs bit by bit, expected values written
//! by hand).
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::expect_used,
    clippy::panic
)]

use std::path::PathBuf;
use std::sync::Arc;

use meterwire::{decode, parse_hex, ModbusProfile, Options, Protocol};
use serde_json::Value;

fn profiles_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../profiles")
}

#[test]
fn every_example_profile_reads() {
    let mut n = 0;
    for entry in std::fs::read_dir(profiles_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let text = std::fs::read_to_string(&path).unwrap();
            let profile = ModbusProfile::from_json(&text)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert_eq!(
                path.file_stem().unwrap().to_str().unwrap(),
                profile.name,
                "the file is named after the profile"
            );
            n += 1;
        }
    }
    assert_eq!(n, 3);
}

#[test]
fn example_vectors_decode_to_their_values() {
    let text = std::fs::read_to_string(profiles_dir().join("examples.jsonl")).unwrap();
    let mut n = 0;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(line).unwrap();
        let name = v["name"].as_str().unwrap();
        let profile_text =
            std::fs::read_to_string(profiles_dir().join(v["profile"].as_str().unwrap())).unwrap();
        let profile = Arc::new(ModbusProfile::from_json(&profile_text).unwrap());
        let protocol = Protocol::from_name(v["protocol"].as_str().unwrap()).unwrap();
        let opts = Options::default()
            .with_protocol(Some(protocol))
            .with_request(Some(parse_hex(v["request"].as_str().unwrap()).unwrap()))
            .with_modbus_profile(Some(profile));
        let frame = parse_hex(v["response"].as_str().unwrap()).unwrap();
        let d = decode(&frame, &opts).unwrap();
        assert!(d.warnings.is_empty(), "{name}: {:?}", d.warnings);
        let got: Vec<Value> = d
            .records
            .iter()
            .map(|r| {
                serde_json::json!([
                    r.label().unwrap_or(""),
                    r.number().unwrap().to_string(),
                    r.unit()
                ])
            })
            .collect();
        assert_eq!(Value::Array(got), v["expected"], "{name}");
        let status = serde_json::to_value(d.status.unwrap()).unwrap();
        assert_eq!(status, v["status"], "{name}");
        // The JSON text carries the same exact values.
        let json = meterwire::to_json(&d);
        for e in v["expected"].as_array().unwrap() {
            assert!(
                json.contains(&format!("\"exact\":\"{}\"", e[1].as_str().unwrap())),
                "{name}"
            );
        }
        n += 1;
    }
    assert_eq!(n, 6);
}
