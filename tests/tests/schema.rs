//! The model's JSON Schema is generated from the Rust types and shipped in
//! `schema/meterwire.schema.json`; this test fails when the two differ
//! (`MW_UPDATE_SCHEMA=1 cargo test -p meterwire-conformance --test schema` rewrites it).
//! A contract test pins the top-level keys and `schema_version`.

use std::path::Path;

use meterwire::{decode_json, parse_hex, Options, SCHEMA_VERSION};
use serde_json::Value as Json;

fn schema_path() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../schema/meterwire.schema.json")
}

#[test]
fn shipped_schema_matches_the_types() {
    let generated = meterwire::schema::schema_json() + "\n";
    let path = schema_path();
    if std::env::var_os("MW_UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let shipped = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        shipped == generated,
        "schema/meterwire.schema.json is stale: run MW_UPDATE_SCHEMA=1 cargo test -p meterwire-conformance --test schema"
    );
}

/// A rename of a top-level key, or a new schema version, must be a deliberate change here.
#[test]
fn canonical_json_has_a_versioned_stable_root() {
    assert_eq!(SCHEMA_VERSION, 1);
    let schema: Json = serde_json::from_str(&meterwire::schema::schema_json()).unwrap();
    let mut properties: Vec<&str> = schema["properties"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    properties.sort_unstable();
    assert_eq!(
        properties,
        [
            "alarm",
            "application_data",
            "application_error",
            "encrypted",
            "encrypted_data",
            "link",
            "manufacturer_data",
            "meter",
            "more_records_follow",
            "payload",
            "protocol",
            "records",
            "schema_version",
            "spans",
            "status",
            "trailing_fill",
            "warnings",
        ]
    );
    let mut required: Vec<&str> = schema["required"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Json::as_str)
        .collect();
    required.sort_unstable();
    assert_eq!(required, ["link", "protocol", "schema_version"]);

    let frame = parse_hex(
        "68 15 15 68 08 05 72 78 56 34 12 2D 2C 01 07 2A 00 00 00 0C 13 67 45 23 01 0D 16",
    )
    .unwrap();
    let text = decode_json(&frame, &Options::default()).unwrap();
    assert!(
        text.starts_with(r#"{"schema_version":1,"protocol":"mbus","link":{"#),
        "{text}"
    );
    let decoded: Json = serde_json::from_str(&text).unwrap();
    for key in decoded.as_object().unwrap().keys() {
        assert!(
            properties.contains(&key.as_str()),
            "key {key} is not in the schema"
        );
    }
    // Every record key is one the schema's Record lists.
    let record_keys = schema["$defs"]["Record"]["properties"].as_object().unwrap();
    for rec in decoded["records"].as_array().unwrap() {
        for key in rec.as_object().unwrap().keys() {
            assert!(
                record_keys.contains_key(key),
                "record key {key} is not in the schema"
            );
        }
    }
}

/// `schema/stream-item.schema.json` is generated from the core, and every item of the stream
/// vectors has exactly the keys of one of its branches, with a reason it lists.
#[test]
fn shipped_stream_item_schema_matches_and_fits_the_vectors() {
    let generated = meterwire::schema::stream_item_schema_json() + "\n";
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schema/stream-item.schema.json");
    if std::env::var_os("MW_UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let shipped = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        shipped == generated,
        "schema/stream-item.schema.json is stale: run MW_UPDATE_SCHEMA=1 cargo test -p meterwire-conformance --test schema"
    );
    let schema: Json = serde_json::from_str(&generated).unwrap();
    let branches = schema["oneOf"].as_array().unwrap();
    let reasons = &branches[2]["properties"]["reason"]["enum"];
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance/streams");
    let mut items = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        for line in meterwire_conformance::read_jsonl(&entry.unwrap().path()) {
            for item in line["expected"].as_array().unwrap() {
                let keys: Vec<&str> = item
                    .as_object()
                    .unwrap()
                    .keys()
                    .map(String::as_str)
                    .collect();
                let fits = branches.iter().any(|b| {
                    let allowed = b["properties"].as_object().unwrap();
                    b["required"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .all(|r| keys.contains(&r.as_str().unwrap()))
                        && keys.iter().all(|k| allowed.contains_key(*k))
                });
                assert!(fits, "{}: {item}", line["name"]);
                if let Some(reason) = item.get("reason") {
                    assert!(reasons.as_array().unwrap().contains(reason));
                }
                items += 1;
            }
        }
    }
    assert!(items >= 20, "only {items} stream items");
}
