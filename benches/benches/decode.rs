//! `cargo bench -p meterwire-bench`: meterwire's `decode` (fully decoded, owned model),
//! `decode_json` and the zero-copy views (`mbus::view`, `wmbus::view`) against m-bus-parser
//! 0.5.3 on the same ~100-byte RSP_UD frames and ~80-byte wM-Bus telegrams, and Modbus RTU
//! (decode, request, register profile) against modbus-core 0.2.0, in one run.
//! After criterion's report it prints the medians per frame and the ratios.

use std::hint::black_box;
use std::time::Instant;

use criterion::{criterion_group, Criterion, Throughput};
use m_bus_parser::{mbus_data::MbusData, WiredFrame};
use meterwire::{decode, decode_json, Options};
use meterwire_bench::{WMBUS_KEY, WMBUS_PLAIN};

/// m-bus-parser's own "full decode" workload (its benches/full_decode.rs): parse the frame
/// and walk every record with its value information, labels and units.
fn mbus_parser_full_decode(data: &[u8]) -> u32 {
    let mut records = 0;
    if let Ok(parsed) = MbusData::<WiredFrame>::try_from(data) {
        black_box(&parsed.user_data);
        if let Some(iter) = parsed.data_records {
            for record in iter.flatten() {
                if let Some(info) = record.value_information() {
                    for label in info.labels() {
                        black_box(label);
                    }
                    for unit in info.units() {
                        black_box(unit);
                    }
                }
                black_box(record.value());
                records += 1;
            }
        }
    }
    records
}

fn bench(c: &mut Criterion) {
    let (frames, source) = meterwire_bench::frames();
    let hex: Vec<String> = frames.iter().map(|f| meterwire::hex::to_hex(f)).collect();
    eprintln!(
        "frames: {} {source}, mean {} bytes",
        frames.len(),
        frames.iter().map(Vec::len).sum::<usize>() / frames.len().max(1)
    );
    let opts = Options::default();
    let mut g = c.benchmark_group("decode");
    g.throughput(Throughput::Elements(frames.len() as u64));
    g.bench_function("meterwire", |b| {
        b.iter(|| {
            for f in &frames {
                black_box(decode(black_box(f), &opts).ok());
            }
        })
    });
    g.bench_function("m-bus-parser", |b| {
        b.iter(|| {
            for f in &frames {
                black_box(mbus_parser_full_decode(black_box(f)));
            }
        })
    });
    g.finish();
    let mut g = c.benchmark_group("decode_json");
    g.throughput(Throughput::Elements(frames.len() as u64));
    g.bench_function("meterwire", |b| {
        b.iter(|| {
            for f in &frames {
                black_box(decode_json(black_box(f), &opts).ok());
            }
        })
    });
    g.bench_function("m-bus-parser", |b| {
        b.iter(|| {
            for h in &hex {
                black_box(m_bus_parser::serialize_mbus_data(
                    black_box(h),
                    "json",
                    None,
                ));
            }
        })
    });
    g.finish();
}

/// Median ns per frame of `f` over the frame set (`rounds` timed passes).
fn median_ns(frames: usize, rounds: usize, mut f: impl FnMut()) -> f64 {
    let mut samples: Vec<f64> = (0..rounds)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_nanos() as f64 / frames as f64
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// Timed passes per measurement: 2000, or 3 under `cargo bench -- --test` (CI's smoke run).
fn rounds() -> usize {
    if std::env::args().any(|a| a == "--test") {
        3
    } else {
        2000
    }
}

/// Median ns of one call of `f`, timed in batches of 64 calls (one item each).
fn per_item_ns(rounds: usize, f: &mut dyn FnMut()) -> f64 {
    const BATCH: usize = 64;
    median_ns(BATCH, rounds, || {
        for _ in 0..BATCH {
            f();
        }
    })
}

/// The zero-copy path on a wired frame: the link view, then every record's number, quantity,
/// unit and storage read in place (no model, no allocation).
fn view_wired(data: &[u8]) -> u32 {
    let mut records = 0;
    if let Ok(frame) = meterwire::mbus::link::LongFrame::new_checked(data) {
        let header = match frame.ci_field() {
            0x72 => 12,
            0x7A => 4,
            _ => 0,
        };
        let user = frame.user_data();
        for r in meterwire::mbus::view::Records::new(user.get(header..).unwrap_or(&[]), 7 + header)
        {
            let Ok(r) = r else { break };
            black_box((r.value(), r.storage()));
            records += 1;
        }
    }
    records
}

/// The zero-copy path on a wM-Bus telegram: header view, then every record as in
/// [`view_wired`]; with a key, the mode-5 payload is decrypted into `buf` first (a caller's
/// buffer, reused from telegram to telegram as a receiver would).
fn view_wireless(data: &[u8], key: Option<&meterwire::Key>, buf: &mut [u8]) -> u32 {
    let mut records = 0;
    if let Ok(t) = meterwire::wmbus::view::Telegram::new_checked(data) {
        let walk = match key {
            Some(k) => t.decrypt(k, buf),
            None => t.records(),
        };
        if let Ok(walk) = walk {
            for r in walk {
                let Ok(r) = r else { break };
                black_box((r.value(), r.storage()));
                records += 1;
            }
        }
    }
    records
}

fn summary() {
    let (frames, _) = meterwire_bench::frames();
    let hex: Vec<String> = frames.iter().map(|f| meterwire::hex::to_hex(f)).collect();
    let opts = Options::default();
    let n = frames.len();
    let rounds = rounds();
    let ours = median_ns(n, rounds, || {
        for f in &frames {
            black_box(decode(black_box(f), &opts).ok());
        }
    });
    let theirs = median_ns(n, rounds, || {
        for f in &frames {
            black_box(mbus_parser_full_decode(black_box(f)));
        }
    });
    let ours_json = median_ns(n, rounds, || {
        for f in &frames {
            black_box(decode_json(black_box(f), &opts).ok());
        }
    });
    let theirs_json = median_ns(n, rounds.min(200), || {
        for h in &hex {
            black_box(m_bus_parser::serialize_mbus_data(
                black_box(h),
                "json",
                None,
            ));
        }
    });
    let ours_view = median_ns(n, rounds, || {
        for f in &frames {
            black_box(view_wired(black_box(f)));
        }
    });
    println!("summary over {n} frames (median of {rounds} passes, ns per frame):");
    println!("  zero-copy    meterwire {ours_view:>9.1}   m-bus-parser {theirs:>9.1}   meterwire is {:.1}x faster (view: every record's number, quantity, unit, storage in place)", theirs / ours_view);
    println!("  decode       meterwire {ours:>9.1}   m-bus-parser {theirs:>9.1}   meterwire is {:.1}x faster", theirs / ours);
    println!("  decode_json  meterwire {ours_json:>9.1}   m-bus-parser {theirs_json:>9.1}   meterwire is {:.1}x faster", theirs_json / ours_json);
}

/// m-bus-parser's wireless path: parse the CRC-free telegram and walk every record.
fn mbus_parser_wireless(data: &[u8]) -> u32 {
    let mut records = 0;
    if let Ok(parsed) = MbusData::<m_bus_parser::WirelessFrame>::try_from(data) {
        if let Some(iter) = parsed.data_records {
            for record in iter.flatten() {
                black_box(record.value());
                records += 1;
            }
        }
    }
    records
}

fn wireless_summary() {
    let plain = meterwire::parse_hex(WMBUS_PLAIN).unwrap();
    let wmbus = Options::default().with_protocol(Some(meterwire::Protocol::Wmbus));
    let mut model = decode(&plain, &wmbus).unwrap();
    if let meterwire::model::Link::Wmbus(l) = &mut model.link {
        l.config = Some(meterwire::model::Code16(0x0540));
        l.security_mode = Some(5);
        l.encrypted_blocks = Some(4);
    }
    let keyed = wmbus.clone().with_key(meterwire::Key::new(WMBUS_KEY));
    let mode5 = meterwire::encode_with(&model, &keyed).unwrap();
    let check = decode(&mode5, &keyed).unwrap();
    assert!(!check.encrypted && check.records.len() == model.records.len());
    let hex5 = meterwire::hex::to_hex(&mode5);
    let auto = Options::default().with_key(meterwire::Key::new(WMBUS_KEY));
    let rounds = rounds();
    let run = |f: &mut dyn FnMut()| per_item_ns(rounds, f);
    let ours_plain = run(&mut || {
        black_box(decode(black_box(&plain), &wmbus).ok());
    });
    let ours_plain_auto = run(&mut || {
        black_box(decode(black_box(&plain), &Options::default()).ok());
    });
    let theirs_plain = run(&mut || {
        black_box(mbus_parser_wireless(black_box(&plain)));
    });
    let ours_mode5 = run(&mut || {
        black_box(decode(black_box(&mode5), &keyed).ok());
    });
    let ours_mode5_auto = run(&mut || {
        black_box(decode(black_box(&mode5), &auto).ok());
    });
    let key = meterwire::Key::new(WMBUS_KEY);
    let mut buf = [0u8; 256];
    let view_plain = run(&mut || {
        black_box(view_wireless(black_box(&plain), None, &mut buf));
    });
    let view_mode5 = run(&mut || {
        black_box(view_wireless(black_box(&mode5), Some(&key), &mut buf));
    });
    assert_eq!(
        view_wireless(&mode5, Some(&key), &mut buf),
        view_wireless(&plain, None, &mut buf)
    );
    let theirs_mode5 = median_ns(1, rounds.min(200), || {
        black_box(m_bus_parser::serialize_mbus_data(
            black_box(&hex5),
            "json",
            Some(&WMBUS_KEY),
        ));
    });
    let theirs_plain_json = median_ns(1, rounds.min(200), || {
        black_box(m_bus_parser::serialize_mbus_data(
            black_box(WMBUS_PLAIN),
            "json",
            None,
        ));
    });
    println!(
        "wireless ({} bytes, {} records; median ns per telegram):",
        plain.len(),
        model.records.len()
    );
    println!("  plain decode  meterwire {ours_plain:>8.1} (auto-detect {ours_plain_auto:.1})   m-bus-parser WirelessFrame+records {theirs_plain:>8.1}   (its JSON path {theirs_plain_json:.1})");
    println!("  mode 5        meterwire {ours_mode5:>8.1} (auto-detect {ours_mode5_auto:.1})   m-bus-parser decryption (JSON path only) {theirs_mode5:>8.1}");
    println!("  zero-copy     plain {view_plain:>8.1}   mode 5 (decrypt + records) {view_mode5:>8.1}   (wmbus::view::Telegram, every record's number, quantity, unit, storage)");
}

/// modbus-core's client path on an RTU read response: CRC, PDU, then every register word
/// read — the walk a caller of that crate writes before any scaling.
fn modbus_core_registers(data: &[u8]) -> u32 {
    use modbus_core::rtu::client::decode_response;
    use modbus_core::Response;
    let mut words = 0;
    if let Ok(Some(adu)) = decode_response(data) {
        if let Ok(Response::ReadHoldingRegisters(regs)) = adu.pdu.0 {
            for w in regs {
                black_box(w);
                words += 1;
            }
        }
    }
    words
}

/// A water meter's RTU read response (12 registers: float flow and velocity, three 32-bit
/// totals, status word, battery), as `profiles/examples.jsonl` builds it: meterwire plain,
/// with the request (register addresses) and with the register profile that turns the
/// registers into exact readings, beside modbus-core reading the same registers.
fn modbus_summary() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let examples = std::fs::read_to_string(root.join("profiles/examples.jsonl")).unwrap();
    let line: serde_json::Value = examples
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["protocol"] == "modbus_rtu" && v["profile"] == "electromagnetic-u32-abcd.json")
        .unwrap();
    let response = meterwire::parse_hex(line["response"].as_str().unwrap()).unwrap();
    let request = meterwire::parse_hex(line["request"].as_str().unwrap()).unwrap();
    let profile_text = std::fs::read_to_string(
        root.join("profiles")
            .join(line["profile"].as_str().unwrap()),
    )
    .unwrap();
    let profile = meterwire::modbus::profile::ModbusProfile::from_json(&profile_text).unwrap();
    let plain = Options::default().with_protocol(Some(meterwire::Protocol::ModbusRtu));
    let addressed = plain.clone().with_request(Some(request));
    let profiled = addressed
        .clone()
        .with_modbus_profile(Some(std::sync::Arc::new(profile)));
    let check = decode(&response, &profiled).unwrap();
    assert!(check
        .records
        .iter()
        .any(|r| r.label() == Some("forward_total")));
    assert_eq!(modbus_core_registers(&response), 12);
    let rounds = rounds();
    let run = |f: &mut dyn FnMut()| per_item_ns(rounds, f);
    let theirs = run(&mut || {
        black_box(modbus_core_registers(black_box(&response)));
    });
    let ours_plain = run(&mut || {
        black_box(decode(black_box(&response), &plain).ok());
    });
    let ours_addressed = run(&mut || {
        black_box(decode(black_box(&response), &addressed).ok());
    });
    let ours_profiled = run(&mut || {
        black_box(decode(black_box(&response), &profiled).ok());
    });
    let ours_json = run(&mut || {
        black_box(decode_json(black_box(&response), &profiled).ok());
    });
    println!(
        "modbus RTU read response ({} bytes, 12 registers; median ns per ADU):",
        response.len()
    );
    println!("  modbus-core decode_response + every register {theirs:>8.1}");
    println!("  meterwire decode {ours_plain:>8.1}   with request (addresses) {ours_addressed:>8.1}   with request + profile (7 exact readings) {ours_profiled:>8.1}   decode_json with profile {ours_json:>8.1}");
}

/// IEC 62056-21: the digest's readout (I7, 5 data sets) and the DSMR 5.0 example telegram
/// (about 60 values, CRC-16), auto-detected: decode and decode_json per message.
fn iec62056_21_summary() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let readout = meterwire::parse_hex(
        "02 30 2E 30 2E 30 28 31 32 33 34 35 36 37 38 29 0D 0A 38 2E 30 28 30 30 31 32 33 34 2E 35 36 37 2A 6D 33 29 0D 0A 38 2E 31 28 30 30 30 30 31 32 2E 33 34 35 2A 6D 33 29 0D 0A 30 2E 39 2E 31 28 30 38 33 30 30 30 29 0D 0A 30 2E 39 2E 32 28 32 35 30 33 31 35 29 0D 0A 21 0D 0A 03 13",
    )
    .unwrap();
    let dsmr = std::fs::read(root.join("core/tests/data/dsmr5.txt")).unwrap();
    let opts = Options::default();
    assert_eq!(decode(&readout, &opts).unwrap().records.len(), 5);
    assert!(decode(&dsmr, &opts).unwrap().records.len() > 40);
    let rounds = rounds();
    let run = |f: &mut dyn FnMut()| per_item_ns(rounds, f);
    println!("IEC 62056-21 (median ns per message, auto-detected):");
    for (name, bytes) in [("readout I7", &readout), ("DSMR 5.0 telegram", &dsmr)] {
        let plain = run(&mut || {
            black_box(decode(black_box(bytes), &opts).ok());
        });
        let json = run(&mut || {
            black_box(decode_json(black_box(bytes), &opts).ok());
        });
        println!(
            "  {name} ({} bytes)  decode {plain:>9.1}   decode_json {json:>9.1}",
            bytes.len()
        );
    }
}

criterion_group!(benches, bench);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    summary();
    wireless_summary();
    modbus_summary();
    iec62056_21_summary();
    mobile_summary();
}

/// CoAP and MQTT messages carrying frames (the own vectors: digest MB1 with the CJ/T 188
/// reply, an M-Bus RSP_UD in a PUBLISH, an LwM2M TLV notification), auto-detected, beside the
/// carried frame alone: what the transport layer and the nested detection add.
fn mobile_summary() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/conformance");
    let mut messages = Vec::new();
    for file in ["coap.jsonl", "mqtt.jsonl"] {
        let text = std::fs::read_to_string(root.join(file)).unwrap();
        for line in text
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        {
            if matches!(
                line["name"].as_str(),
                Some(
                    "coap-mb1-non-post-cjt188-reply"
                        | "mqtt-publish-mbus-rl-2-bytes"
                        | "coap-lwm2m-tlv-notify-data-cjt188"
                )
            ) {
                let bytes = meterwire::parse_hex(line["hex"].as_str().unwrap()).unwrap();
                messages.push((line["name"].as_str().unwrap().to_string(), bytes));
            }
        }
    }
    let opts = Options::default();
    let rounds = rounds();
    println!("coap / mqtt messages with a nested frame (median ns per message):");
    for (name, bytes) in &messages {
        let d = decode(bytes, &opts).unwrap();
        let inner = meterwire::encode(d.payload.as_deref().unwrap()).unwrap();
        let run = |f: &mut dyn FnMut()| per_item_ns(rounds, f);
        let whole = run(&mut || {
            black_box(decode(black_box(bytes), &opts).ok());
        });
        let json = run(&mut || {
            black_box(decode_json(black_box(bytes), &opts).ok());
        });
        let alone = run(&mut || {
            black_box(decode(black_box(&inner), &opts).ok());
        });
        println!(
            "  {name} ({} bytes): decode {whole:>8.1}   decode_json {json:>8.1}   the carried frame alone {alone:>8.1}",
            bytes.len()
        );
    }
}
