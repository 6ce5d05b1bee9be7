//! `encode(decode(x)) == x` for every well-formed frame: the project's own vectors and the
//! public corpora, both directly from the Rust model and through its JSON text (the path
//! every binding takes).

use meterwire::{decode, decode_json, encode, encode_json, hex::to_hex, parse_hex, Options};
use meterwire_conformance::{
    line_options, line_protocol, own_vectors_dir, read_jsonl, shared_vectors_dir,
};

fn check(name: &str, bytes: &[u8]) -> bool {
    check_with(name, bytes, &Options::default())
}

/// The explain spans of `d` follow each other from byte 0 to `len`, none empty.
fn spans_cover_every_byte(name: &str, d: &meterwire::Decoded, len: usize) {
    let mut next = 0;
    for span in &d.spans {
        assert_eq!(span.start, next, "{name}: gap or overlap at byte {next}");
        assert!(span.end > span.start, "{name}: empty span {span:?}");
        next = span.end;
    }
    assert_eq!(next, len, "{name}: spans end at {next}");
}

/// [`check`] with the vector's own options (its `protocol`: a family that auto-detection
/// cannot find is decoded only when named).
fn check_with(name: &str, bytes: &[u8], opts: &Options) -> bool {
    let Ok(decoded) = decode(bytes, opts) else {
        return false;
    };
    let direct = encode(&decoded).unwrap_or_else(|e| panic!("{name}: encode failed: {e}"));
    assert_eq!(
        to_hex(&direct),
        to_hex(bytes),
        "{name}: encode(decode(x)) != x"
    );
    let json = decode_json(bytes, opts).unwrap();
    let via_json = encode_json(&json).unwrap_or_else(|e| panic!("{name}: encode_json failed: {e}"));
    assert_eq!(
        to_hex(&via_json),
        to_hex(bytes),
        "{name}: encode_json(decode_json(x)) != x"
    );
    true
}

#[test]
fn own_vectors_round_trip() {
    let mut n = 0;
    for entry in std::fs::read_dir(own_vectors_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|x| x == "jsonl") {
            for line in read_jsonl(&path) {
                let bytes = parse_hex(line["hex"].as_str().unwrap()).unwrap();
                // Without the key: an encrypted frame encodes back to its encrypted bytes.
                let opts = line_options(&line).with_keys(meterwire::Keys::None);
                if check_with(line["name"].as_str().unwrap(), &bytes, &opts) {
                    n += 1;
                }
            }
        }
    }
    eprintln!("own vectors: {n} frames round-trip");
    assert!(n >= 15);
}

#[test]
fn public_corpora_round_trip() {
    let Some(dir) = shared_vectors_dir() else {
        return;
    };
    let mut n = 0;
    let mut libmbus_ok = 0;
    for file in [
        "mbus-libmbus.jsonl",
        "mbus-pymeterbus.jsonl",
        "mbus-jmbus.jsonl",
    ] {
        for line in read_jsonl(&dir.join(file)) {
            let Ok(bytes) = parse_hex(line["hex"].as_str().unwrap_or("")) else {
                continue;
            };
            let ok = check(line["name"].as_str().unwrap_or("?"), &bytes);
            if ok {
                n += 1;
                if file == "mbus-libmbus.jsonl" && line["expected"]["kind"] == "ok" {
                    libmbus_ok += 1;
                }
            }
        }
    }
    eprintln!("public corpora: {n} decodable frames round-trip ({libmbus_ok} libmbus ok frames)");
    assert_eq!(libmbus_ok, 76);
}

/// Explain mode: the spans of every decodable test frame cover each byte exactly once.
#[test]
fn spans_cover_every_byte_once() {
    let mut frames: Vec<(String, Vec<u8>, Options)> = Vec::new();
    for entry in std::fs::read_dir(own_vectors_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|x| x == "jsonl") {
            for line in read_jsonl(&path) {
                frames.push((
                    line["name"].as_str().unwrap().to_string(),
                    parse_hex(line["hex"].as_str().unwrap()).unwrap(),
                    line_options(&line),
                ));
            }
        }
    }
    if let Some(dir) = shared_vectors_dir() {
        for file in [
            "mbus-libmbus.jsonl",
            "mbus-pymeterbus.jsonl",
            "mbus-jmbus.jsonl",
            "wmbus-wmbusmeters.jsonl",
            "wmbus-m-bus-parser.jsonl",
        ] {
            for line in read_jsonl(&dir.join(file)) {
                if let Ok(bytes) = parse_hex(line["hex"].as_str().unwrap_or("")) {
                    frames.push((
                        line["name"].as_str().unwrap_or("?").to_string(),
                        bytes,
                        Options::default(),
                    ));
                }
            }
        }
    }
    let mut checked = 0;
    for (name, bytes, opts) in &frames {
        let opts = opts.clone().with_explain(true);
        let Ok(d) = decode(bytes, &opts) else {
            continue;
        };
        let mut next = 0;
        for span in &d.spans {
            assert_eq!(span.start, next, "{name}: gap or overlap at byte {next}");
            assert!(span.end > span.start, "{name}: empty span {span:?}");
            assert!(
                !span.label.is_empty() && !span.path.is_empty(),
                "{name}: {span:?}"
            );
            next = span.end;
        }
        assert_eq!(
            next,
            bytes.len(),
            "{name}: spans end at {next} of {}",
            bytes.len()
        );
        nested_spans_cover_their_payload(name, &d);
        checked += 1;
    }
    eprintln!("explain: spans cover every byte of {checked} frames");
    assert!(checked >= 100 || shared_vectors_dir().is_none());
}

/// A nested payload's spans (offsets in the outermost input) cover exactly the bytes its
/// parent's `payload` span marks, level by level.
fn nested_spans_cover_their_payload(name: &str, d: &meterwire::Decoded) {
    let Some(inner) = &d.payload else {
        return;
    };
    // A frame decoded from text (SenML base64) has no bytes of the input to explain.
    if inner.spans.is_empty() {
        return;
    }
    let outer = d
        .spans
        .iter()
        .find(|s| s.path == "payload")
        .unwrap_or_else(|| panic!("{name}: a nested payload without a payload span"));
    let mut next = outer.start;
    for span in &inner.spans {
        assert_eq!(
            span.start, next,
            "{name}: nested gap or overlap at byte {next}"
        );
        assert!(span.end > span.start, "{name}: empty nested span {span:?}");
        next = span.end;
    }
    assert_eq!(next, outer.end, "{name}: nested spans end at {next}");
    nested_spans_cover_their_payload(name, inner);
}

/// The fast JSON writer behind `decode_json` gives the serde text byte for byte, on every
/// decodable test frame, with and without explain spans.
#[test]
fn fast_json_equals_serde_json() {
    let mut frames: Vec<(Vec<u8>, Options)> = Vec::new();
    for entry in std::fs::read_dir(own_vectors_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|x| x == "jsonl") {
            for line in read_jsonl(&path) {
                let bytes = parse_hex(line["hex"].as_str().unwrap()).unwrap();
                frames.push((bytes, line_options(&line)));
            }
        }
    }
    if let Some(dir) = shared_vectors_dir() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|x| x == "jsonl") {
                for line in read_jsonl(&path) {
                    if let Ok(bytes) = parse_hex(line["hex"].as_str().unwrap_or("")) {
                        frames.push((bytes, Options::default()));
                    }
                }
            }
        }
    }
    let mut checked = 0;
    for explain in [false, true] {
        for (bytes, opts) in &frames {
            let opts = opts.clone().with_explain(explain);
            if let Ok(d) = decode(bytes, &opts) {
                assert_eq!(
                    meterwire::to_json(&d),
                    meterwire::to_json_serde(&d),
                    "{}",
                    to_hex(bytes)
                );
                checked += 1;
            }
        }
    }
    eprintln!("fast JSON writer: {checked} decodings identical to serde");
    assert!(checked > 20);
}

/// The `cjt188` lines of the spec corpus (`cjt188-and-others.jsonl`): `encode(decode(x)) ==
/// x` directly and through JSON, and explain spans cover every byte once. (The project's own
/// CJ/T 188 vectors run in the tests above with every other file of `tests/conformance`.)
#[test]
fn cjt188_corpus_round_trips_with_spans() {
    assert_spec_corpus_round_trips("cjt188", 13);
}

/// The lines of `protocol` in the spec corpus (`cjt188-and-others.jsonl`, when present):
/// each decodes auto-detected, `encode(decode(x)) == x` directly and through JSON, and the
/// explain spans cover every byte once; `expected` lines in all.
fn assert_spec_corpus_round_trips(protocol: &str, expected: usize) {
    let Some(dir) = shared_vectors_dir() else {
        return;
    };
    let path = dir.join("cjt188-and-others.jsonl");
    if !path.exists() {
        return;
    }
    let mut n = 0;
    for line in read_jsonl(&path) {
        if line["protocol"] != protocol {
            continue;
        }
        let name = line["name"].as_str().unwrap_or("?");
        let bytes = parse_hex(line["hex"].as_str().unwrap_or("")).unwrap();
        assert!(check(name, &bytes), "{name}: does not decode");
        let d = decode(&bytes, &Options::default().with_explain(true)).unwrap();
        spans_cover_every_byte(name, &d, bytes.len());
        n += 1;
    }
    eprintln!("{protocol} corpus: {n} lines round-trip, spans cover every byte");
    assert_eq!(n, expected);
}

/// wM-Bus corpora: every telegram that decodes without a key round-trips (encrypted payloads
/// are kept as `encrypted_data`), and so does every keyed telegram re-encrypted with its key.
#[test]
fn wmbus_corpora_round_trip() {
    let Some(dir) = shared_vectors_dir() else {
        return;
    };
    let wmbus = Options::default().with_protocol(Some(meterwire::Protocol::Wmbus));
    let (mut n, mut keyed) = (0, 0);
    for file in ["wmbus-wmbusmeters.jsonl", "wmbus-m-bus-parser.jsonl"] {
        for line in read_jsonl(&dir.join(file)) {
            let hex = line["hex"].as_str().unwrap_or("");
            if hex.starts_with("68") && hex.get(6..8) == Some("68") {
                continue;
            }
            let name = line["name"].as_str().unwrap_or("?");
            let bytes = parse_hex(hex).unwrap();
            if let Ok(d) = decode(&bytes, &wmbus) {
                let back = encode(&d).unwrap_or_else(|e| panic!("{name}: encode failed: {e}"));
                assert_eq!(
                    to_hex(&back),
                    to_hex(&bytes),
                    "{name}: encode(decode(x)) != x"
                );
                let json = decode_json(&bytes, &wmbus).unwrap();
                assert_eq!(
                    to_hex(&encode_json(&json).unwrap()),
                    to_hex(&bytes),
                    "{name}: via JSON"
                );
                n += 1;
            }
            let Ok(keys) = Options::parse_keys(line["key"].as_str().unwrap_or("")) else {
                continue;
            };
            if keys.is_empty() {
                continue;
            }
            let opts = wmbus.clone().with_keys(keys);
            if let Ok(d) = decode(&bytes, &opts) {
                let back = meterwire::encode_with(&d, &opts).unwrap();
                assert_eq!(to_hex(&back), to_hex(&bytes), "{name}: re-encrypted");
                keyed += 1;
            }
        }
    }
    eprintln!("wM-Bus corpora: {n} telegrams round-trip, {keyed} of them also re-encrypted with their key");
    assert!(n >= 700, "{n}");
}

/// The `modbus_rtu` / `modbus_tcp` lines of the spec corpus, decoded with the protocol their
/// line names: `encode(decode(x)) == x` directly and through JSON, and explain spans cover
/// every byte once.
#[test]
fn modbus_corpus_round_trips_with_spans() {
    let Some(dir) = shared_vectors_dir() else {
        return;
    };
    let path = dir.join("cjt188-and-others.jsonl");
    if !path.exists() {
        return;
    }
    let mut n = 0;
    for line in read_jsonl(&path) {
        let Some(protocol @ (meterwire::Protocol::ModbusRtu | meterwire::Protocol::ModbusTcp)) =
            line_protocol(&line)
        else {
            continue;
        };
        let name = line["name"].as_str().unwrap_or("?");
        let bytes = parse_hex(line["hex"].as_str().unwrap_or("")).unwrap();
        let opts = Options::default().with_protocol(Some(protocol));
        assert!(check_with(name, &bytes, &opts), "{name}: does not decode");
        let d = decode(&bytes, &opts.with_explain(true)).unwrap();
        spans_cover_every_byte(name, &d, bytes.len());
        n += 1;
    }
    eprintln!("modbus corpus: {n} frames round-trip, spans cover every byte");
    assert_eq!(n, 18);
}

/// The IEC 62056-21 lines of the spec corpus (digest I1–I13) round-trip and explain covers
/// every byte, auto-detected.
#[test]
fn iec62056_21_corpus_round_trips_with_spans() {
    assert_spec_corpus_round_trips("iec62056_21", 13);
}
