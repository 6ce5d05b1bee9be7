//! Every decoding entry point on arbitrary bytes: no panic, and every error keeps the
//! contract of design §3 (a documented kind, an offset inside the input). `decode_stream`
//! must cover every input byte exactly once, in order. Protocols tried: auto-detection,
//! M-Bus, CJ/T 188, Modbus RTU and Modbus TCP (whose decodable frames must also encode back
//! to the same bytes; also with the `request` option and a register profile), IEC 62056-21
//! (messages, DSMR telegrams, 7E1 parity captures: they encode back too), CoAP and MQTT
//! 3.1.1 / 5.0 with their nested payloads (which must encode back too); and the zero-copy
//! views of `mbus::view` and `wmbus::view`.
#![no_main]

use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use meterwire::{
    decode, decode_json, decode_stream, parse_hex, Error, ErrorKind, ModbusProfile, Options,
    Protocol, StreamItem,
};

/// Digest M1 asking 12 registers (`profiles/examples.jsonl`), RTU.
const RTU_REQUEST: [u8; 8] = [0x01, 0x03, 0x00, 0x00, 0x00, 0x0C, 0x45, 0xCF];
/// 15 input registers from 0 of unit 3, TCP transaction 7 (`profiles/examples.jsonl`).
const TCP_REQUEST: [u8; 12] = [0x00, 0x07, 0x00, 0x00, 0x00, 0x06, 0x03, 0x04, 0x00, 0x00, 0x00, 0x0F];

/// The example profiles of `profiles/`, read once.
fn profiles() -> (Arc<ModbusProfile>, Arc<ModbusProfile>) {
    static PROFILES: OnceLock<(Arc<ModbusProfile>, Arc<ModbusProfile>)> = OnceLock::new();
    PROFILES
        .get_or_init(|| {
            let read = |text: &str| Arc::new(ModbusProfile::from_json(text).expect("profile"));
            (
                read(include_str!("../../profiles/ultrasonic-f32-cdab.json")),
                read(include_str!("../../profiles/split-integer-fraction.json")),
            )
        })
        .clone()
}

fn check_error(e: &Error, len: usize) {
    assert!(
        e.offset() <= len,
        "offset {} beyond {len} bytes: {e}",
        e.offset()
    );
    assert!(ErrorKind::ALL.contains(&e.kind()), "{:?}", e.kind());
    let _ = e.to_string();
    let _ = meterwire::error_json(e);
}

fn check_bytes(data: &[u8]) {
    let mbus = Options::default().with_protocol(Some(Protocol::Mbus));
    let cjt188 = Options::default().with_protocol(Some(Protocol::Cjt188));
    let mut explain = Options::default();
    explain.explain = true;
    // A CJ/T 188 frame that decodes encodes back to the same bytes, directly and through JSON.
    if let Ok(d) = decode(data, &cjt188) {
        assert_eq!(meterwire::encode(&d).expect("encode(decode(x))"), data);
        let json = meterwire::to_json(&d);
        assert_eq!(meterwire::encode_json(&json).expect("encode_json(decode_json(x))"), data);
    }
    let cjt188_explain = cjt188.clone().with_explain(true);
    // Modbus RTU (named: no signature to detect) and TCP: a frame that decodes encodes back to
    // the same bytes, directly and through JSON.
    let modbus_rtu = Options::default().with_protocol(Some(Protocol::ModbusRtu));
    let modbus_tcp = Options::default().with_protocol(Some(Protocol::ModbusTcp));
    for opts in [&modbus_rtu, &modbus_tcp] {
        if let Ok(d) = decode(data, opts) {
            assert_eq!(meterwire::encode(&d).expect("encode(decode(x))"), data);
            let json = meterwire::to_json(&d);
            assert_eq!(meterwire::encode_json(&json).expect("encode_json(decode_json(x))"), data);
        }
    }
    // IEC 62056-21 (and DSMR): a message that decodes encodes back to the same bytes,
    // directly and through JSON, parity bits included.
    let iec = Options::default().with_protocol(Some(Protocol::Iec62056_21));
    if let Ok(d) = decode(data, &iec) {
        assert_eq!(meterwire::encode(&d).expect("encode(decode(x))"), data);
        let json = meterwire::to_json(&d);
        assert_eq!(meterwire::encode_json(&json).expect("encode_json(decode_json(x))"), data);
    }
    let iec_explain = iec.clone().with_explain(true);
    // CoAP and MQTT (3.1.1 and 5.0), with nested payloads: a message that decodes encodes
    // back to the same bytes, directly and through JSON, and explain covers every byte.
    let coap = Options::default().with_protocol(Some(Protocol::Coap));
    let mqtt = Options::default().with_protocol(Some(Protocol::Mqtt));
    let mqtt5 = mqtt
        .clone()
        .with_mqtt_version(Some(meterwire::MqttVersion::V5));
    for opts in [&coap, &mqtt, &mqtt5] {
        if let Ok(d) = decode(data, opts) {
            assert_eq!(meterwire::encode(&d).expect("encode(decode(x))"), data);
            let json = meterwire::to_json(&d);
            assert_eq!(meterwire::encode_json(&json).expect("encode_json(decode_json(x))"), data);
        }
    }
    // Encrypted payloads (SM4-CBC and AES-128-ECB with zero padding) under one key: whatever
    // opens re-encrypts to the same bytes.
    let sm4 = meterwire::payload::cipher::PayloadCipher::parse("sm4-cbc").expect("scheme");
    let aes = meterwire::payload::cipher::PayloadCipher::parse("aes-128-ecb-zero").expect("scheme");
    for (opts, scheme) in [(&coap, sm4), (&mqtt, aes)] {
        let sealed = opts
            .clone()
            .with_key(meterwire::Key::new([0x5A; 16]))
            .with_payload_cipher(Some(scheme));
        if let Ok(d) = decode(data, &sealed) {
            assert_eq!(meterwire::encode_with(&d, &sealed).expect("encode_with"), data);
        }
    }
    let coap_explain = coap.clone().with_explain(true);
    let mqtt5_explain = mqtt5.clone().with_explain(true);
    let modbus_rtu_explain = modbus_rtu.clone().with_explain(true);
    let modbus_tcp_explain = modbus_tcp.clone().with_explain(true);
    // Modbus with the request option and a register profile: a request for 12 holding (RTU)
    // or 15 input (TCP) registers from 0, and the profile of that layout; and the input as its
    // own request. Records change, never the frame: it still encodes back.
    let (rtu_profile, tcp_profile) = profiles();
    let modbus_rtu_paired = modbus_rtu
        .clone()
        .with_request(Some(RTU_REQUEST.to_vec()))
        .with_modbus_profile(Some(rtu_profile))
        .with_explain(true);
    let modbus_tcp_paired = modbus_tcp
        .clone()
        .with_request(Some(TCP_REQUEST.to_vec()))
        .with_modbus_profile(Some(tcp_profile.clone()));
    let modbus_self_paired = modbus_tcp
        .clone()
        .with_request(Some(data.to_vec()))
        .with_modbus_profile(Some(tcp_profile));
    for opts in [&modbus_rtu_paired, &modbus_tcp_paired, &modbus_self_paired] {
        if let Ok(d) = decode(data, opts) {
            assert_eq!(meterwire::encode(&d).expect("encode(decode(x))"), data);
        }
    }
    // wM-Bus with a key: CRC strip, ELL/AFL/TPL, AES-CBC/CTR and the KDF; encoding with the
    // key must not panic either.
    let wmbus = Options::default()
        .with_protocol(Some(Protocol::Wmbus))
        .with_key(meterwire::Key::new([0x5A; 16]))
        .with_explain(true);
    if let Ok(d) = decode(data, &wmbus) {
        let _ = meterwire::encode_with(&d, &wmbus);
        let frames: [&[u8]; 2] = [data, data];
        let _ = meterwire::decode_many(&frames, &wmbus);
    }
    // Redaction walks every decoded model (nested payloads, records, links) without a panic.
    let redacted = Options::default()
        .with_explain(true)
        .with_redact(meterwire::RedactKey::new(&[0x5A; 16]).ok());
    if let Ok(json) = decode_json(data, &redacted) {
        let _: serde_json::Value = serde_json::from_str(&json).expect("redacted JSON is valid");
    }
    for opts in [
        Options::default(),
        mbus,
        cjt188,
        cjt188_explain,
        explain,
        wmbus,
        modbus_rtu,
        modbus_rtu_explain,
        modbus_tcp,
        modbus_tcp_explain,
        modbus_rtu_paired,
        modbus_tcp_paired,
        modbus_self_paired,
        iec,
        iec_explain,
        coap,
        coap_explain,
        mqtt,
        mqtt5,
        mqtt5_explain,
    ] {
        let decoded = decode(data, &opts);
        if let Err(e) = &decoded {
            check_error(e, data.len());
        }
        match decode_json(data, &opts) {
            Ok(json) => {
                assert!(decoded.is_ok());
                let value: serde_json::Value =
                    serde_json::from_str(&json).expect("decode_json writes valid JSON");
                assert!(value.is_object());
            }
            Err(e) => {
                check_error(&e, data.len());
                assert_eq!(decoded.err(), Some(e));
            }
        }
        let mut next = 0usize;
        for item in decode_stream(data, &opts) {
            let (start, end) = match item {
                StreamItem::Frame {
                start, end, result, ..
            } => {
                    if let Err(e) = result {
                        check_error(&e, data.len());
                        assert!(start <= e.offset() && e.offset() <= end);
                    }
                    (start, end)
                }
                StreamItem::Garbage {
                    start, end, bytes, ..
                } => {
                    assert_eq!(Some(bytes.as_slice()), data.get(start..end));
                    (start, end)
                }
            };
            assert_eq!(start, next, "stream items must be contiguous");
            assert!(end > start, "empty stream item");
            next = end;
        }
        assert_eq!(next, data.len(), "stream items must cover the input");
    }
}

/// The zero-copy views: no panic, errors inside the input, and every record they yield lies
/// inside it.
fn check_views(data: &[u8]) {
    for r in meterwire::mbus::view::Records::new(data, 0) {
        match r {
            Ok(v) => {
                assert!(v.offset() < data.len().max(1));
                let _ = (v.value(), v.storage(), v.tariff(), v.subunit(), v.function());
            }
            Err(e) => check_error(&e, data.len()),
        }
    }
    match meterwire::wmbus::view::Telegram::new_checked(data) {
        Ok(t) => {
            let _ = (t.id(), t.manufacturer(), t.security_mode(), t.config());
            let mut buf = [0u8; 256];
            let walks = [
                t.records(),
                t.decrypt(&meterwire::Key::new([0x5A; 16]), &mut buf),
            ];
            for walk in walks {
                match walk {
                    Ok(records) => {
                        for r in records {
                            if let Err(e) = r {
                                check_error(&e, data.len());
                            }
                        }
                    }
                    Err(e) => check_error(&e, data.len()),
                }
            }
        }
        Err(e) => check_error(&e, data.len()),
    }
}

fuzz_target!(|data: &[u8]| {
    check_bytes(data);
    check_views(data);
    if let Ok(text) = core::str::from_utf8(data) {
        match parse_hex(text) {
            Ok(bytes) => check_bytes(&bytes),
            Err(e) => {
                assert!(matches!(e.kind(), ErrorKind::Hex | ErrorKind::Empty));
                assert!(e.offset() <= text.len());
            }
        }
    }
});
