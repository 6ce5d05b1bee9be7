//! The `redact` option over every conformance frame: no identity of the input survives in the
//! redacted JSON (the identities are gathered from the unredacted model by this test's own
//! reading of the model, not by the redactor), the same key gives the same pseudonym, two
//! keys give different ones, and the values stay as decoded. Also checks the shared
//! cross-runtime file `tests/conformance/redaction/redacted.jsonl` (rewrite it with
//! `MW_REGENERATE=1 cargo test -p meterwire-conformance --test redaction`).

use std::collections::BTreeSet;

use meterwire::{decode, decode_json, parse_hex, to_reading, Options, RedactKey};
use meterwire_conformance::{line_options, own_vectors_dir, read_jsonl};
use serde_json::Value as Json;

/// The key of the shared vectors (32 bytes, hex).
const KEY_A: &str = "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F";
/// A second key: its pseudonyms must differ from `KEY_A`'s.
const KEY_B: &str = "F0E1D2C3B4A5968778695A4B3C2D1E0FF0E1D2C3B4A5968778695A4B3C2D1E0F";

fn key(hex: &str) -> RedactKey {
    RedactKey::from_hex(hex).expect("key")
}

fn all_lines() -> Vec<Json> {
    let mut files: Vec<_> = std::fs::read_dir(own_vectors_dir())
        .expect("tests/conformance")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    files.sort();
    files.iter().flat_map(|f| read_jsonl(f)).collect()
}

/// Record quantities and JSON member names that carry an identity (docs/model.md).
fn is_identity_record(record: &Json) -> bool {
    let quantity = record["quantity"].as_str().unwrap_or("");
    let label: String = record["label"]
        .as_str()
        .unwrap_or("")
        .rsplit('.')
        .next()
        .unwrap_or("")
        .chars()
        .filter(|c| *c != '_' && *c != '-')
        .collect::<String>()
        .to_ascii_lowercase();
    matches!(
        quantity,
        "fabrication_no" | "enhanced_id" | "bus_address" | "customer" | "serial_number"
    ) || matches!(
        label.as_str(),
        "id" | "imei" | "imsi" | "iccid" | "sn" | "serialnumber" | "deviceid" | "meterid"
    )
}

/// Every identity text of an unredacted model: meter ids, addresses, device ids, topic and
/// path levels with digits, identity record values.
fn identities(model: &Json, out: &mut BTreeSet<String>) {
    let mut add = |s: &str| {
        out.insert(s.to_string());
    };
    let link = &model["link"];
    for id in [
        &model["meter"]["id"],
        &link["dll_address"]["id"],
        &link["ell"]["address"]["id"],
        &link["device_address"],
        &link["identification"],
    ] {
        if let Some(s) = id.as_str() {
            add(s);
        }
    }
    if model["protocol"] == "cjt188" {
        if let Some(s) = link["address"].as_str() {
            add(s);
        }
    }
    for path in [&link["topic"], &link["uri_path"]] {
        for level in path.as_str().unwrap_or("").split(['/', '&', '=']) {
            if level.chars().any(|c| c.is_ascii_digit()) {
                add(level);
            }
        }
    }
    for option in link["options"].as_array().into_iter().flatten() {
        if matches!(option["number"].as_u64(), Some(3 | 11 | 15)) {
            for level in option["value"].as_str().unwrap_or("").split('=') {
                if level.chars().any(|c| c.is_ascii_digit()) {
                    add(level);
                }
            }
        }
    }
    for record in model["records"].as_array().into_iter().flatten() {
        if is_identity_record(record) {
            if let Some(s) = record["exact"].as_str().or(record["value"].as_str()) {
                add(s);
            }
        }
    }
    if model["payload"].is_object() {
        identities(&model["payload"], out);
    }
}

/// The forms an identity text takes in the output or the frame: as is, and for digit strings
/// the BCD bytes in wire order (least significant first) as hex.
fn forms(identity: &str) -> Vec<String> {
    let mut forms = vec![identity.to_ascii_uppercase()];
    let digits = identity.chars().all(|c| c.is_ascii_hexdigit());
    if digits && identity.len() % 2 == 0 {
        let pairs: Vec<&str> = (0..identity.len() / 2)
            .map(|i| &identity[2 * i..2 * i + 2])
            .rev()
            .collect();
        forms.push(pairs.concat().to_ascii_uppercase());
    }
    // Short texts (a one-digit id, "up") occur in unrelated values; ids are longer.
    forms.retain(|f| f.len() >= 6);
    forms
}

/// Fields that hold raw bytes or byte spans; none may appear in a redacted model (`status.raw`
/// is the status word, a number, not bytes).
fn raw_keys(model: &Json, path: &str, found: &mut Vec<String>) {
    match model {
        Json::Object(map) => {
            for (k, v) in map {
                if matches!(
                    k.as_str(),
                    "raw"
                        | "spans"
                        | "application_data"
                        | "manufacturer_data"
                        | "encrypted_data"
                        | "mac"
                        | "a"
                ) && !(k == "raw" && v.is_number())
                {
                    found.push(format!("{path}.{k}"));
                }
                raw_keys(v, &format!("{path}.{k}"), found);
            }
        }
        Json::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                raw_keys(v, &format!("{path}[{i}]"), found);
            }
        }
        _ => {}
    }
}

#[test]
fn no_identity_of_any_conformance_frame_survives() {
    let (key_a, key_b) = (key(KEY_A), key(KEY_B));
    let mut checked = 0;
    let mut ids_checked = 0;
    for line in all_lines() {
        let name = line["name"].as_str().unwrap_or("?");
        let hex = line["hex"].as_str().unwrap_or("");
        let bytes = parse_hex(hex).expect("hex");
        let opts = line_options(&line).with_explain(true);
        let Ok(plain) = decode(&bytes, &opts) else {
            continue;
        };
        let plain_json: Json = serde_json::from_str(&meterwire::to_json(&plain)).unwrap();
        let text = decode_json(&bytes, &opts.clone().with_redact(Some(key_a.clone()))).unwrap();
        let redacted: Json = serde_json::from_str(&text).unwrap();
        let upper = text.to_ascii_uppercase();

        let mut ids = BTreeSet::new();
        identities(&plain_json, &mut ids);
        for id in &ids {
            for form in forms(id) {
                assert!(
                    !upper.contains(&form),
                    "{name}: identity {id:?} (as {form}) survives in {text}"
                );
            }
            ids_checked += 1;
        }
        let frame_hex = meterwire::hex::to_hex(&bytes).replace(' ', "");
        if frame_hex.len() >= 8 {
            assert!(
                !upper.replace(' ', "").contains(&frame_hex),
                "{name}: frame hex"
            );
        }
        let mut found = Vec::new();
        raw_keys(&redacted, "", &mut found);
        assert!(found.is_empty(), "{name}: raw fields {found:?} in {text}");

        // The meter id's pseudonym is the key's pseudonym of the id; another key's differs.
        if let Some(id) = plain.meter.as_ref().map(|m| m.id.as_str().to_string()) {
            if !id.is_empty() {
                let pseudonym = redacted["meter"]["id"].as_str().unwrap();
                assert_eq!(pseudonym, key_a.pseudonym(&id), "{name}");
                assert_eq!(pseudonym.len(), 24, "{name}");
                let other = decode(&bytes, &opts.clone().with_redact(Some(key_b.clone())))
                    .unwrap()
                    .meter
                    .unwrap();
                assert_ne!(
                    other.id.as_str(),
                    pseudonym,
                    "{name}: two keys, one pseudonym"
                );
            }
        }

        // Values stay: the reading has the same keys, and a value differs only where the
        // redacted one is the pseudonym of the plain one.
        let fields = |r: meterwire::Reading| -> Vec<(String, String)> {
            r.fields
                .into_iter()
                .map(|(k, v)| (k, serde_json::to_string(&v).unwrap()))
                .collect()
        };
        let redacted_model = decode(&bytes, &opts.clone().with_redact(Some(key_a.clone())));
        let reading_plain = fields(to_reading(&plain, None));
        let reading_redacted = fields(to_reading(&redacted_model.unwrap(), None));
        assert_eq!(reading_plain.len(), reading_redacted.len(), "{name}");
        for ((k, plain_value), (k2, redacted_value)) in reading_plain.iter().zip(&reading_redacted)
        {
            assert_eq!(k, k2, "{name}");
            if plain_value != redacted_value {
                let pseudonym: String = serde_json::from_str(redacted_value).unwrap();
                assert!(
                    pseudonym.len() == 24 && pseudonym.bytes().all(|b| b.is_ascii_hexdigit()),
                    "{name}: {k} = {redacted_value}"
                );
                if let Ok(text) = serde_json::from_str::<String>(plain_value) {
                    assert_eq!(pseudonym, key_a.pseudonym(&text), "{name}: {k}");
                }
            }
        }
        checked += 1;
    }
    assert!(checked > 150, "{checked} frames checked");
    assert!(ids_checked > 100, "{ids_checked} identities checked");
}

/// The same meter id in frames of different protocols gets one pseudonym: tables join.
#[test]
fn one_id_one_pseudonym_across_frames() {
    let k = key(KEY_A);
    let opts = Options::default().with_redact(Some(k.clone()));
    // Wired M-Bus RSP_UD and a wM-Bus telegram of the same meter 12345678.
    let wired = parse_hex(
        "68 15 15 68 08 05 72 78 56 34 12 2D 2C 01 07 2A 00 00 00 0C 13 67 45 23 01 0D 16",
    )
    .unwrap();
    let wireless = parse_hex("14 44 2D2C 78563412 01 07 7A 2A 00 0000 0C 13 67452301").unwrap();
    let a = decode(&wired, &opts).unwrap().meter.unwrap();
    let b = decode(&wireless, &opts).unwrap().meter.unwrap();
    // Python: hmac.new(bytes(range(32)), b"12345678", "sha256").hexdigest()[:24]
    assert_eq!(a.id.as_str(), "b2be66f797c511bd2a34dfb0");
    assert_eq!(a.id, b.id);
    assert_eq!(a.manufacturer.unwrap().as_str(), "KAM");
}

/// Stream items lose their frame and garbage bytes.
#[test]
fn streams_drop_garbage_bytes() {
    let bytes = parse_hex("00 11 22 33 E5 44 55").unwrap();
    let opts = Options::default().with_redact(Some(key(KEY_A)));
    let text = meterwire::decode_stream_json(&bytes, &opts);
    assert!(!text.contains("0011"), "{text}");
    assert!(text.contains("\"garbage\":\"\""), "{text}");
}

/// The frames of the shared redaction vectors: each family's identities (meter ids, secondary
/// and primary addresses, CJ/T 188 addresses, wM-Bus ids, IEC 62056-21 device addresses and
/// serials, Modbus device identification, CoAP Uri-Path/Query, MQTT topics and JSON ids).
const SHARED: [&str; 18] = [
    "rsp-ud-digest-r1-r6",
    "select-with-fabrication-no",
    "req-ud2-addr5",
    "wmbus-w3-mode5",
    "wmbus-oms-annex-n-mode5",
    "e2-reply-901f-water",
    "write-address",
    "fc2b-device-id-response",
    "m2-m1-profile-ultrasonic-f32-cdab",
    "t2-fc03-response",
    "iec-i2-sign-on-address",
    "iec-i3-identification-mode-c",
    "dsmr5-example-telegram",
    "coap-con-get-uri-query-block2",
    "coap-lwm2m-tlv-write-device-3-0",
    "coap-mb1-non-post-cjt188-reply",
    "mqtt-mq1-publish-qos1-json",
    "mqtt5-publish-properties-json",
];

/// The shared file's text: each chosen conformance line with `redact_key` (key A, hex), its
/// redacted model as `expected` and its flat reading as `reading` (Python `to_reading`, JS
/// `decodeUplink`'s `data`).
fn shared_vectors_text() -> String {
    let lines = all_lines();
    let mut out = String::new();
    for name in SHARED {
        let line = lines
            .iter()
            .find(|l| l["name"] == name)
            .unwrap_or_else(|| panic!("no conformance line {name}"));
        let bytes = parse_hex(line["hex"].as_str().unwrap()).unwrap();
        let opts = line_options(line).with_redact(Some(key(KEY_A)));
        let expected: Json = serde_json::from_str(&decode_json(&bytes, &opts).unwrap()).unwrap();
        let mut shared = line.as_object().unwrap().clone();
        shared.insert("name".into(), Json::String(format!("redacted-{name}")));
        shared.insert("redact_key".into(), Json::String(KEY_A.into()));
        shared.remove("note");
        let reading = to_reading(&decode(&bytes, &opts).unwrap(), None);
        shared.insert("expected".into(), expected);
        shared.insert("reading".into(), serde_json::to_value(&reading).unwrap());
        out.push_str(&serde_json::to_string(&Json::Object(shared)).unwrap());
        out.push('\n');
    }
    out
}

#[test]
fn shared_redaction_vectors_are_current() {
    let path = own_vectors_dir().join("redaction").join("redacted.jsonl");
    let want = shared_vectors_text();
    if std::env::var_os("MW_REGENERATE").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &want).unwrap();
    }
    let have = std::fs::read_to_string(&path).expect("tests/conformance/redaction/redacted.jsonl");
    assert_eq!(have, want, "stale: MW_REGENERATE=1 rewrites it");
}
