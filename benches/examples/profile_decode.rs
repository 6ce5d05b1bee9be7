//! A loop over the benchmark frames for profilers (`perf record`, `valgrind --tool=callgrind`):
//! `cargo build --release -p meterwire-bench --example profile_decode`, then
//! `profile_decode ROUNDS [json]`.

fn main() {
    let (frames, _) = meterwire_bench::frames();
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20_000);
    let opts = meterwire::Options::default();
    let json = std::env::args().nth(2).is_some_and(|a| a == "json");
    let mut records = 0usize;
    for _ in 0..rounds {
        for f in &frames {
            if json {
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
