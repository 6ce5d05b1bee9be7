//! Stream deframer throughput: `meterwire::decode_stream` over random bytes with frames
//! sprinkled in (wired M-Bus long and short frames, CJ/T 188 replies, wM-Bus format-A
//! telegrams and IEC 62056-21 readouts, one every ~4 KiB), at 1, 10 and 100 MB, so the time can be seen to grow linearly
//! with the size. Prints MB/s (10^6 bytes per second) per size; the goal is ≥ 500 MB/s.
//!
//!   cargo bench -p meterwire-bench --bench stream           # 1, 10, 100 MB, best of 3
//!   cargo bench -p meterwire-bench --bench stream -- --test # 1 MB once (CI)
//!
//! Not a criterion bench: one 100 MB sample takes long enough to time with `Instant`, and the
//! interesting figure is the rate at each size, not a distribution.

use std::time::Instant;

use meterwire::{decode_stream, parse_hex, Options, StreamItem};

/// Frames planted in the noise (digest worked examples).
const FRAMES: [&str; 5] = [
    // M-Bus RSP_UD: volume 1234.567 m3 (mbus.md).
    "68 15 15 68 08 05 72 78 56 34 12 2D 2C 01 07 2A 00 00 00 0C 13 67 45 23 01 0D 16",
    // M-Bus REQ_UD2 to address 5.
    "10 7B 05 80 16",
    // CJ/T 188 read-data reply with wake-up bytes (cjt188.md E2).
    "FEFE6810785634120001008116901F01563412002C000012002C0030081503252000006F16",
    // wM-Bus format A (wmbus.md W1).
    "1D443A63785634120107EA447A2A0000000C1367452301026C2F330B4D333B2001008560",
    // IEC 62056-21 readout with its BCC (iec62056-21.md I7).
    "02302E302E30283132333435363738290D0A382E30283030313233342E3536372A6D33290D0A382E31283030303031322E3334352A6D33290D0A302E392E3128303833303030290D0A302E392E3228323530333135290D0A210D0A0313",
];

/// A deterministic xorshift64* generator: the same noise on every run.
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

/// `len` bytes of noise with a frame about every 4 KiB; returns the stream and the number of
/// frames planted.
fn capture(len: usize, frames: &[Vec<u8>]) -> (Vec<u8>, usize) {
    let mut noise = Noise(0x9E37_79B9_7F4A_7C15);
    let mut out = Vec::with_capacity(len);
    let mut planted = 0usize;
    while out.len() < len {
        let gap = 2048 + (noise.next() % 4096) as usize;
        for _ in 0..gap.min(len - out.len()) / 8 {
            out.extend_from_slice(&noise.next().to_le_bytes());
        }
        let frame = &frames[planted % frames.len()];
        if out.len() + frame.len() <= len {
            out.extend_from_slice(frame);
            planted += 1;
        } else {
            break;
        }
    }
    while out.len() < len {
        out.push((noise.next() & 0xFF) as u8);
    }
    (out, planted)
}

fn main() {
    let test_mode = std::env::args().any(|a| a == "--test");
    let frames: Vec<Vec<u8>> = FRAMES
        .iter()
        .map(|h| parse_hex(h).expect("bench frames are valid hex"))
        .collect();
    let sizes: &[usize] = if test_mode {
        &[1_000_000]
    } else {
        &[1_000_000, 10_000_000, 100_000_000]
    };
    let runs = if test_mode { 1 } else { 3 };
    let opts = Options::default();
    println!("stream deframer over noise with frames sprinkled (best of {runs}):");
    for &size in sizes {
        let (stream, planted) = capture(size, &frames);
        let mut best = f64::INFINITY;
        let mut found = 0usize;
        for _ in 0..runs {
            let start = Instant::now();
            let items = decode_stream(&stream, &opts);
            best = best.min(start.elapsed().as_secs_f64());
            found = items
                .iter()
                .filter(|i| matches!(i, StreamItem::Frame { result: Ok(_), .. }))
                .count();
            assert_eq!(
                items.last().map(|i| i.range().end),
                Some(stream.len()),
                "the items cover the stream"
            );
        }
        // Random noise holds a few frames of its own (an M-Bus short frame is 3 fixed bytes
        // out of 5: about one in 16 M positions), so at least the planted ones are found.
        if std::env::var("DBG").is_ok() {
            let items = decode_stream(&stream, &opts);
            for i in &items {
                if let StreamItem::Frame {
                    bytes,
                    result: Ok(d),
                    ..
                } = i
                {
                    if !frames.iter().any(|f| f == bytes) {
                        println!("{:?} {}", d.protocol, meterwire::hex::to_hex(bytes));
                    }
                }
            }
        }
        assert!(
            found >= planted,
            "{found} frames decoded, {planted} planted"
        );
        println!(
            "  {:>4} MB: {:>8.1} ms  {:>7.0} MB/s  ({planted} frames planted, {found} decoded)",
            size / 1_000_000,
            best * 1e3,
            size as f64 / best / 1e6
        );
    }
}
