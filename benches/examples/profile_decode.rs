//! A loop over the benchmark frames for profilers (`perf record`, `valgrind --tool=callgrind`):
//! `cargo build --release -p meterwire-bench --example profile_decode`, then
//! `profile_decode ROUNDS [json|write|view|mbp|wview|wnum|wwalk]` (`view`: the zero-copy record walk
//! over the wired frames; `mbp`: m-bus-parser's record walk over them; `write`: the JSON
//! writer alone over models decoded once; `wview`, `wnum`, `wwalk`: over the benchmark's wM-Bus telegram,
//! reading value and storage — also timed, in ns per telegram — the number only, or nothing).
//! Instructions per telegram, free of the machine's noise: the difference of two callgrind
//! runs, e.g. `valgrind --tool=callgrind profile_decode 10000 wview` and `… 20000 wview`.

/// One telegram through the view: header, then every record's value and storage (kept apart
/// so its machine code can be read with `objdump --disassemble=profile_decode::view_telegram`).
#[inline(never)]
fn view_telegram(bytes: &[u8]) -> usize {
    let mut records = 0;
    if let Ok(walk) = meterwire::wmbus::view::Telegram::new_checked(bytes).and_then(|t| t.records())
    {
        for r in walk {
            let Ok(r) = r else { break };
            std::hint::black_box((r.value(), r.storage()));
            records += 1;
        }
    }
    records
}

/// m-bus-parser's record walk (as `benches/decode.rs`), for instruction counts beside ours.
fn mbus_parser_walk(data: &[u8]) -> usize {
    use m_bus_parser::{mbus_data::MbusData, WiredFrame};
    let mut records = 0;
    if let Ok(parsed) = MbusData::<WiredFrame>::try_from(data) {
        std::hint::black_box(&parsed.user_data);
        if let Some(iter) = parsed.data_records {
            for record in iter.flatten() {
                if let Some(info) = record.value_information() {
                    for label in info.labels() {
                        std::hint::black_box(label);
                    }
                    for unit in info.units() {
                        std::hint::black_box(unit);
                    }
                }
                std::hint::black_box(record.value());
                records += 1;
            }
        }
    }
    records
}

fn main() {
    let (frames, _) = meterwire_bench::frames();
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20_000);
    let opts = meterwire::Options::default();
    let mode = std::env::args().nth(2).unwrap_or_default();
    let json = mode == "json";
    let mut records = 0usize;
    if mode == "wview" {
        let plain = meterwire::parse_hex(meterwire_bench::WMBUS_PLAIN).unwrap_or_default();
        let start = std::time::Instant::now();
        for _ in 0..rounds {
            records += view_telegram(std::hint::black_box(&plain));
        }
        let ns = start.elapsed().as_nanos() as f64 / rounds as f64;
        println!("{records} records, {ns:.1} ns per telegram");
        return;
    }
    if matches!(mode.as_str(), "wwalk" | "wnum") {
        let plain = meterwire::parse_hex(meterwire_bench::WMBUS_PLAIN).unwrap_or_default();
        for _ in 0..rounds {
            let telegram =
                meterwire::wmbus::view::Telegram::new_checked(std::hint::black_box(&plain));
            let Ok(walk) = telegram.and_then(|t| t.records()) else {
                continue;
            };
            for r in walk {
                let Ok(r) = r else { break };
                match mode.as_str() {
                    "wwalk" => drop(std::hint::black_box(r.data().len())),
                    _ => drop(std::hint::black_box(r.number())),
                }
                records += 1;
            }
        }
        println!("{records} records");
        return;
    }
    if mode == "write" {
        // The JSON writer alone, over models decoded once.
        let decoded: Vec<meterwire::Decoded> = frames
            .iter()
            .filter_map(|f| meterwire::decode(f, &opts).ok())
            .collect();
        for _ in 0..rounds {
            for d in &decoded {
                records += meterwire::to_json(std::hint::black_box(d)).len();
            }
        }
        println!("{records} JSON bytes written");
        return;
    }
    for _ in 0..rounds {
        for f in &frames {
            if mode == "view" {
                if let Ok(frame) = meterwire::mbus::link::LongFrame::new_checked(f.as_slice()) {
                    let data = frame.user_data().get(12..).unwrap_or(&[]);
                    for r in meterwire::mbus::view::Records::new(data, 19).flatten() {
                        std::hint::black_box((r.value(), r.storage()));
                        records += 1;
                    }
                }
            } else if mode == "mbp" {
                records += mbus_parser_walk(std::hint::black_box(f));
            } else if json {
                if let Ok(text) = meterwire::decode_json(std::hint::black_box(f), &opts) {
                    records += text.len();
                }
            } else if let Ok(d) = meterwire::decode(std::hint::black_box(f), &opts) {
                records += d.records.len();
            }
        }
    }
    println!("{records} records (or JSON bytes) decoded");
}
