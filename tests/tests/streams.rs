//! The Rust runner of the stream vectors (`tests/conformance/streams/*.jsonl`): each line is
//! a capture whose `expected` is the list of `decode_stream` items (design §4), the same
//! lines the Python, Node and WASM runners read. Also checks that the stateful `Decoder`, fed
//! the capture in pieces, gives the same items.

use std::fs;

use meterwire::{decode_stream_json, parse_hex, Decoder};
use meterwire_conformance::{line_options, line_text, own_vectors_dir, read_jsonl};
use serde_json::Value as Json;

fn stream_files() -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = fs::read_dir(own_vectors_dir().join("streams"))
        .expect("tests/conformance/streams exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    files.sort();
    files
}

fn lines() -> Vec<Json> {
    stream_files().iter().flat_map(|f| read_jsonl(f)).collect()
}

#[test]
fn every_stream_gives_its_expected_items() {
    let mut count = 0;
    for line in lines() {
        let name = line["name"].as_str().unwrap_or("?");
        let bytes = parse_hex(line["hex"].as_str().unwrap_or("")).expect("hex");
        let opts = line_options(&line);
        let got: Json = serde_json::from_str(&decode_stream_json(&bytes, &opts)).expect("JSON");
        assert_eq!(got, line["expected"], "{name}");
        // Fed in pieces of every size from 1 to 9 bytes: the same items.
        for piece in 1..10 {
            let mut decoder = Decoder::new(opts.clone());
            let mut items = Vec::new();
            for chunk in bytes.chunks(piece) {
                decoder.feed(chunk);
                items.extend(decoder.take_items());
            }
            decoder.finish();
            items.extend(decoder.take_items());
            let json: Vec<Json> = items
                .iter()
                .map(|i| serde_json::from_str(&i.to_json()).expect("JSON"))
                .collect();
            assert_eq!(
                Json::Array(json),
                line["expected"],
                "{name} in pieces of {piece}"
            );
        }
        count += 1;
    }
    assert!(count >= 6, "only {count} stream vectors");
}

/// The items' ranges and reasons, counted by hand from the frames each capture was built of
/// (their lengths in the digests), independent of the decoder.
#[test]
fn hand_checked_stream_items() {
    let shape = |name: &str| -> Vec<(u64, u64, String)> {
        let line = lines()
            .into_iter()
            .find(|l| l["name"] == name)
            .expect("vector");
        line["expected"]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| {
                let what = if i.get("frame").is_some() {
                    "frame".to_owned()
                } else if let Some(e) = i.get("error") {
                    format!("error {}", e["kind"].as_str().unwrap_or(""))
                } else {
                    i["reason"].as_str().unwrap_or("").to_owned()
                };
                (
                    i["start"].as_u64().unwrap(),
                    i["end"].as_u64().unwrap(),
                    what,
                )
            })
            .collect()
    };
    let s = |a: u64, b: u64, w: &str| (a, b, w.to_owned());
    // 1 noise byte, SND_NKE (5), E5 (1), REQ_UD2 (5), RSP_UD (27), E5, 68 15 15.
    assert_eq!(
        shape("stream-mbus-dialogue"),
        [
            s(0, 1, "noise"),
            s(1, 6, "frame"),
            s(6, 7, "frame"),
            s(7, 12, "frame"),
            s(12, 39, "frame"),
            s(39, 40, "unsolicited_ack"),
            s(40, 43, "truncated"),
        ]
    );
    // FF, E2 (2 + 35 bytes), DL/T 645 (4 + 16), broken E2 (37), 00.
    assert_eq!(
        shape("stream-cjt188-dlt645-broken"),
        [
            s(0, 1, "noise"),
            s(1, 38, "frame"),
            s(38, 58, "error unsupported"),
            s(58, 95, "invalid_frame"),
            s(95, 96, "noise"),
        ]
    );
    // 3 noise bytes, W1 format A (36 bytes), 2 noise bytes, W2 format B (32 bytes).
    assert_eq!(
        shape("stream-wmbus-formats-a-b"),
        [
            s(0, 3, "noise"),
            s(3, 39, "frame"),
            s(39, 41, "noise"),
            s(41, 73, "frame"),
        ]
    );
    assert_eq!(
        shape("stream-wmbus-named-compact"),
        [s(0, 21, "frame"), s(21, 42, "frame")]
    );
    assert_eq!(
        shape("stream-modbus-rtu-named"),
        [s(0, 8, "frame"), s(8, 17, "frame"), s(17, 19, "truncated")]
    );
    assert_eq!(
        shape("stream-modbus-tcp-named"),
        [s(0, 12, "frame"), s(12, 29, "frame")]
    );
    // FF 00, the I7 readout (93 bytes), 5A, I7 with parity bits (93), the DSMR 5.0 water
    // example (1071), the DSMR 2.2 telegram without CRC (184, noise unless named).
    assert_eq!(
        shape("stream-iec62056-readouts-and-dsmr"),
        [
            s(0, 2, "noise"),
            s(2, 95, "frame"),
            s(95, 96, "noise"),
            s(96, 189, "frame"),
            s(189, 1260, "frame"),
            s(1260, 1444, "noise"),
        ]
    );
    // Named: sign-on (5), identification (15), readout (93), DSMR 2.2 (184).
    assert_eq!(
        shape("stream-iec62056-named-session"),
        [
            s(0, 5, "frame"),
            s(5, 20, "frame"),
            s(20, 113, "frame"),
            s(113, 297, "frame"),
        ]
    );
    // CONNECT (14), PUBLISH (49), PUBACK (4), PUBLISH with 84 01 (135), PINGREQ (2), 30 81.
    assert_eq!(
        shape("stream-mqtt-tcp-capture"),
        [
            s(0, 14, "frame"),
            s(14, 63, "frame"),
            s(63, 67, "frame"),
            s(67, 202, "frame"),
            s(202, 204, "frame"),
            s(204, 206, "truncated"),
        ]
    );
    // The compact frame decoded with the format its full frame taught: 12.345 m3.
    let compact = lines()
        .into_iter()
        .find(|l| l["name"] == "stream-wmbus-named-compact")
        .expect("vector");
    let second = &compact["expected"][1]["frame"];
    assert_eq!(second["link"]["format_signature"], "0xEAE9");
    assert_eq!(second["records"][0]["exact"], "12.345");
    assert_eq!(second["records"][0]["unit"], "m3");
    // Digest I7: 8.0 = 1234.567 m3; the DSMR water channel 0-1:24.2.1 = 12785.123 m3.
    let iec = lines()
        .into_iter()
        .find(|l| l["name"] == "stream-iec62056-readouts-and-dsmr")
        .expect("vector");
    let value_at = |item: &Json, address: &str| -> Option<String> {
        item["frame"]["records"]
            .as_array()?
            .iter()
            .find(|r| r["address"] == address && r["quantity"] == "volume")
            .and_then(|r| r["exact"].as_str().map(str::to_owned))
    };
    assert_eq!(
        value_at(&iec["expected"][1], "8.0").as_deref(),
        Some("1234.567")
    );
    assert_eq!(
        value_at(&iec["expected"][3], "8.0").as_deref(),
        Some("1234.567")
    );
    assert_eq!(
        value_at(&iec["expected"][4], "0-1:24.2.1").as_deref(),
        Some("12785.123")
    );
    // The DL/T 645 error points at its first start byte in the stream (38 + 4 wake-up bytes).
    let dlt = lines()
        .into_iter()
        .find(|l| l["name"] == "stream-cjt188-dlt645-broken")
        .expect("vector");
    assert_eq!(dlt["expected"][2]["error"]["offset"], 42);
    assert_eq!(dlt["expected"][3]["kind"], "checksum");
    assert_eq!(dlt["expected"][3]["protocol"], "cjt188");
}

/// Fills in `expected` of the lines that have none (review the diff by hand).
#[test]
#[ignore]
fn regenerate() {
    for file in stream_files() {
        let mut out = String::new();
        for mut line in read_jsonl(&file) {
            if line["expected"].is_null() {
                let bytes = parse_hex(line["hex"].as_str().unwrap_or("")).expect("hex");
                let text = decode_stream_json(&bytes, &line_options(&line));
                line["expected"] = serde_json::from_str(&text).expect("JSON");
            }
            out.push_str(&line_text(&line));
            out.push('\n');
        }
        fs::write(&file, out).expect("written");
    }
}
