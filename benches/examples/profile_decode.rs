//! A loop over the benchmark frames for profilers (`perf record`, `valgrind --tool=callgrind`):
//! `cargo build --release -p meterwire-bench --example profile_decode`, then
//! `profile_decode ROUNDS [json|view|wview|wnum|wwalk]` (`view`: the zero-copy record walk
//! over the wired frames; `wview`, `wnum`, `wwalk`: over the benchmark's wM-Bus telegram,
//! reading value and storage, the number only, or nothing).

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
    if matches!(mode.as_str(), "wwalk" | "wnum" | "wview") {
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
                    "wnum" => drop(std::hint::black_box(r.number())),
                    _ => drop(std::hint::black_box((r.value(), r.storage()))),
                }
                records += 1;
            }
        }
        println!("{records} records");
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
