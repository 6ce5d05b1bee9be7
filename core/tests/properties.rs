//! Property tests: no input makes the decoder panic, errors keep the contract of design §3,
//! well-formed frames decode, and exact decimals print back their own digits (style note 15).
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::expect_used,
    clippy::panic
)]

use meterwire::hex::{to_hex, to_hex_spaced};
use meterwire::{
    decode, decode_json, decode_stream, parse_hex, Decimal, Decoder, Error, ErrorKind, Options,
    Protocol, StreamItem,
};
use proptest::prelude::*;

/// The error kinds of design §3, by their stable names.
const DOCUMENTED_KINDS: [&str; 13] = [
    "empty",
    "hex",
    "truncated",
    "length",
    "start",
    "stop",
    "checksum",
    "crc",
    "unsupported",
    "malformed",
    "decrypt",
    "auth",
    "unknown_protocol",
];

fn mbus() -> Options {
    Options::default().with_protocol(Some(Protocol::Mbus))
}

fn explain() -> Options {
    let mut opts = Options::default();
    opts.explain = true;
    opts
}

fn assert_error_contract(e: &Error, len: usize) {
    assert!(
        e.offset() <= len,
        "offset {} beyond the input of {len} bytes: {e}",
        e.offset()
    );
    assert!(
        DOCUMENTED_KINDS.contains(&e.kind().as_str()),
        "undocumented kind {:?}",
        e.kind()
    );
    assert!(ErrorKind::ALL.contains(&e.kind()));
    // Display never panics and says something.
    assert!(!e.to_string().is_empty());
    let json = meterwire::error_json(e);
    assert!(json.starts_with(r#"{"error":{"kind":""#), "{json}");
}

/// Every entry point on `bytes`: nothing panics, every error keeps the contract.
fn check_all_entry_points(bytes: &[u8]) {
    let len = bytes.len();
    for opts in [Options::default(), mbus(), explain()] {
        let decoded = decode(bytes, &opts);
        if let Err(e) = &decoded {
            assert_error_contract(e, len);
        }
        match decode_json(bytes, &opts) {
            Ok(json) => {
                assert!(decoded.is_ok(), "decode_json succeeded where decode failed");
                let value: serde_json::Value = serde_json::from_str(&json).unwrap();
                assert!(value.is_object());
            }
            Err(e) => {
                assert_error_contract(&e, len);
                assert_eq!(Err(e), decoded.map(|_| ()));
            }
        }
        check_stream(bytes, &opts);
    }
}

/// `decode_stream` cuts `bytes` into items that cover every byte exactly once, in order.
fn check_stream(bytes: &[u8], opts: &Options) -> Vec<StreamItem> {
    let items = decode_stream(bytes, opts);
    let mut next = 0usize;
    for item in &items {
        let (start, end) = match item {
            StreamItem::Frame {
                start, end, result, ..
            } => {
                if let Err(e) = result {
                    assert_error_contract(e, bytes.len());
                    assert!(
                        (*start..=*end).contains(&e.offset()),
                        "stream error offset {} outside its frame {start}..{end}",
                        e.offset()
                    );
                }
                (*start, *end)
            }
            StreamItem::Garbage {
                start,
                end,
                bytes: garbage,
                ..
            } => {
                assert_eq!(Some(garbage.as_slice()), bytes.get(*start..*end));
                (*start, *end)
            }
        };
        assert_eq!(start, next, "items must be contiguous: {items:?}");
        assert!(end > start, "empty item {item:?}");
        next = end;
    }
    assert_eq!(next, bytes.len(), "items must reach the end: {items:?}");
    // The same items when the bytes arrive in three pieces.
    let mut decoder = Decoder::new(opts.clone());
    let (third, two_thirds) = (bytes.len() / 3, bytes.len() * 2 / 3);
    decoder.feed(&bytes[..third]);
    decoder.feed(&bytes[third..two_thirds]);
    decoder.feed(&bytes[two_thirds..]);
    decoder.finish();
    assert_eq!(
        decoder.take_items().collect::<Vec<_>>(),
        items,
        "fed in pieces"
    );
    items
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        check_all_entry_points(&bytes);
    }

    /// Arbitrary user data inside a valid long-frame envelope, so the application layer is
    /// reached (random bytes almost never pass the checksum).
    #[test]
    fn arbitrary_user_data_never_panics(
        c in any::<u8>(),
        a in any::<u8>(),
        ci in prop_oneof![
            Just(0x72u8), Just(0x76), Just(0x7A), Just(0x78), Just(0x73), Just(0x77),
            Just(0x70), Just(0x71), Just(0x52), Just(0x50), Just(0xB8), Just(0xA0),
            any::<u8>(),
        ],
        data in prop::collection::vec(any::<u8>(), 0..=249),
    ) {
        let frame = long_frame(c, a, ci, &data);
        check_all_entry_points(&frame);
        // A frame inside a noisy stream stays findable.
        let mut stream = vec![0x00, 0x68];
        stream.extend_from_slice(&frame);
        stream.push(0xE5);
        check_stream(&stream, &Options::default());
    }

    /// Frames sprinkled in random noise: every frame is found at its offset, whatever the
    /// noise around it, and the items cover the stream once (also when fed in pieces).
    #[test]
    fn sprinkled_frames_are_found_in_noise(
        pieces in prop::collection::vec(
            (prop::collection::vec(any::<u8>(), 0..40), any::<u8>(), prop::collection::vec(any::<u8>(), 0..20)),
            1..6,
        ),
    ) {
        let mut stream = Vec::new();
        let mut starts = Vec::new();
        for (noise, a, data) in &pieces {
            stream.extend_from_slice(noise);
            starts.push((stream.len(), long_frame(0x08, *a, 0x72, data)));
            stream.extend_from_slice(&starts.last().unwrap().1);
        }
        let items = check_stream(&stream, &Options::default());
        for (start, frame) in &starts {
            // Noise may hold a frame of its own that overlaps ours only by a checksum collision;
            // the planted frame is found unless an earlier frame ends inside it.
            let covered = items.iter().any(|i| matches!(i, StreamItem::Frame { start: s, end, .. }
                if *s < *start && *end > *start));
            if !covered {
                prop_assert!(items.iter().any(|i| matches!(i, StreamItem::Frame { start: s, end, .. }
                    if s == start && *end == start + frame.len())), "frame at {start} not found: {items:?}");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Well-formed wired M-Bus long frames.

/// Wraps `68 L L 68 C A CI data CS 16`; the checksum is the byte sum of C through the data.
fn long_frame(c: u8, a: u8, ci: u8, data: &[u8]) -> Vec<u8> {
    let l = u8::try_from(data.len() + 3).expect("user data fits one frame");
    let mut frame = vec![0x68, l, l, 0x68, c, a, ci];
    frame.extend_from_slice(data);
    let cs = frame[4..].iter().fold(0u8, |s, b| s.wrapping_add(*b));
    frame.push(cs);
    frame.push(0x16);
    frame
}

/// DIFs with a fixed data length, their length and whether the data is BCD.
const DIFS: [(u8, usize, bool); 12] = [
    (0x01, 1, false),
    (0x02, 2, false),
    (0x03, 3, false),
    (0x04, 4, false),
    (0x05, 4, false),
    (0x06, 6, false),
    (0x07, 8, false),
    (0x09, 1, true),
    (0x0A, 2, true),
    (0x0B, 3, true),
    (0x0C, 4, true),
    (0x0E, 6, true),
];

fn primary_vif() -> impl Strategy<Value = u8> {
    (0x00u8..=0x7A).prop_filter(
        "date, HCA, reserved and identity VIFs",
        |v| !matches!(v, 0x6C..=0x6F | 0x78..=0x7A),
    )
}

fn bcd_byte() -> impl Strategy<Value = u8> {
    (0u8..=9, 0u8..=9).prop_map(|(hi, lo)| (hi << 4) | lo)
}

/// One record: DIF, primary VIF and data of the right length (valid BCD for BCD DIFs).
fn record() -> impl Strategy<Value = Vec<u8>> {
    (prop::sample::select(&DIFS[..]), primary_vif()).prop_flat_map(|((dif, len, is_bcd), vif)| {
        let data = if is_bcd {
            prop::collection::vec(bcd_byte(), len).boxed()
        } else {
            prop::collection::vec(any::<u8>(), len).boxed()
        };
        data.prop_map(move |data| {
            let mut rec = vec![dif, vif];
            rec.extend(data);
            rec
        })
    })
}

/// The 12-byte long header: BCD ID, manufacturer, version, medium, access, status and a
/// configuration field with no security mode.
fn long_header() -> impl Strategy<Value = Vec<u8>> {
    (
        prop::collection::vec(bcd_byte(), 4),
        any::<[u8; 6]>(),
        any::<u16>().prop_map(|c| c & !0x1F00),
    )
        .prop_map(|(id, rest, config)| {
            let mut h = id;
            h.extend(rest);
            h.extend(config.to_le_bytes());
            h
        })
}

/// A well-formed RSP_UD long frame (CI 72) and its number of records.
fn rsp_ud() -> impl Strategy<Value = (Vec<u8>, usize)> {
    (
        prop::sample::select(&[0x08u8, 0x18, 0x28, 0x38][..]),
        any::<u8>(),
        long_header(),
        prop::collection::vec(record(), 0..=20),
    )
        .prop_map(|(c, a, header, records)| {
            let mut data = header;
            for r in &records {
                data.extend(r);
            }
            (long_frame(c, a, 0x72, &data), records.len())
        })
}

proptest! {
    #[test]
    fn well_formed_frames_decode((frame, n) in rsp_ud()) {
        for opts in [Options::default(), mbus()] {
            let decoded = decode(&frame, &opts)
                .unwrap_or_else(|e| panic!("{}: {e} at {}", to_hex_spaced(&frame), e.offset()));
            prop_assert_eq!(decoded.records.len(), n);
            prop_assert!(decoded.meter.is_some());
            let json = decode_json(&frame, &opts).unwrap();
            prop_assert_eq!(json, meterwire::to_json(&decoded));
        }
        // The whole stream is one frame, decoded the same way.
        let items = check_stream(&frame, &Options::default());
        prop_assert_eq!(items.len(), 1);
        match &items[0] {
            StreamItem::Frame { result: Ok(d), .. } => prop_assert_eq!(d.records.len(), n),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn checksum_flip_is_checksum_at_its_byte((frame, _) in rsp_ud(), mask in 1u8..=255) {
        let mut bad = frame;
        let cs_at = bad.len() - 2;
        bad[cs_at] ^= mask;
        for opts in [Options::default(), mbus()] {
            let e = decode(&bad, &opts).unwrap_err();
            prop_assert_eq!((e.kind(), e.offset()), (ErrorKind::Checksum, cs_at));
        }
    }

    #[test]
    fn bad_stop_byte_is_stop_at_its_byte(
        (frame, _) in rsp_ud(),
        stop in any::<u8>().prop_filter("not the stop byte", |b| *b != 0x16),
    ) {
        let mut bad = frame;
        let stop_at = bad.len() - 1;
        bad[stop_at] = stop;
        for opts in [Options::default(), mbus()] {
            let e = decode(&bad, &opts).unwrap_err();
            prop_assert_eq!((e.kind(), e.offset()), (ErrorKind::Stop, stop_at));
        }
    }

    #[test]
    fn truncation_is_truncated_at_the_input_length(
        (frame, _) in rsp_ud(),
        cut in any::<prop::sample::Index>(),
    ) {
        // Keep 1 ..= len-1 bytes.
        let keep = 1 + cut.index(frame.len() - 1);
        let short = &frame[..keep];
        for opts in [Options::default(), mbus()] {
            let e = decode(short, &opts).unwrap_err();
            prop_assert_eq!((e.kind(), e.offset()), (ErrorKind::Truncated, keep));
        }
    }
}

// ---------------------------------------------------------------------------------------
// Exact decimals.

/// `(mantissa, exponent)` with trailing zeros moved into the exponent (zero is `(0, 0)`).
fn normalised(d: Decimal) -> (i128, i16) {
    let (mut m, mut e) = (d.mantissa(), d.exponent());
    if m == 0 {
        return (0, 0);
    }
    while m % 10 == 0 {
        m /= 10;
        e += 1;
    }
    (m, e)
}

const MAX_15_DIGITS: i64 = 999_999_999_999_999;

proptest! {
    #[test]
    fn decimal_text_parses_back(m in -MAX_15_DIGITS..=MAX_15_DIGITS, e in -12i16..=6) {
        let d = Decimal::new(i128::from(m), e).unwrap();
        let text = d.to_string();
        let back = Decimal::parse(&text).unwrap();
        prop_assert_eq!(normalised(back), normalised(d), "{}", text);
        if e <= 0 {
            // Trailing zeros that show the resolution survive the round trip.
            prop_assert_eq!(back, d);
        }
    }

    /// Every decimal with at most 15 significant digits prints back its own digits through
    /// `f64` (style note 15): the shortest round-trip text of `to_f64()` is the same number.
    #[test]
    fn decimal_prints_back_its_digits(m in -MAX_15_DIGITS..=MAX_15_DIGITS, e in -12i16..=6) {
        let d = Decimal::new(i128::from(m), e).unwrap();
        let float = d.to_f64();
        prop_assert_eq!(float, d.to_string().parse::<f64>().unwrap());
        let shortest = format!("{float}");
        let back = Decimal::parse(&shortest)
            .unwrap_or_else(|| panic!("{shortest} is not plain decimal text"));
        prop_assert_eq!(normalised(back), normalised(d), "{} printed as {}", d, shortest);
    }
}

// ---------------------------------------------------------------------------------------
// Hex text.

proptest! {
    #[test]
    fn hex_round_trips(bytes in prop::collection::vec(any::<u8>(), 1..200)) {
        prop_assert_eq!(parse_hex(&to_hex_spaced(&bytes)).unwrap(), bytes.clone());
        prop_assert_eq!(parse_hex(&to_hex(&bytes).to_lowercase()).unwrap(), bytes.clone());
        prop_assert_eq!(parse_hex(&to_hex(&bytes)).unwrap(), bytes);
    }

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        match parse_hex(&text) {
            Ok(bytes) => prop_assert!(!bytes.is_empty()),
            Err(e) => {
                prop_assert!(matches!(e.kind(), ErrorKind::Hex | ErrorKind::Empty), "{:?}", e);
                prop_assert!(e.offset() <= text.len());
                prop_assert!(text.is_char_boundary(e.offset()));
            }
        }
    }
}

#[test]
fn empty_hex_is_empty() {
    assert_eq!(parse_hex("").unwrap_err().kind(), ErrorKind::Empty);
    assert_eq!(to_hex_spaced(&[]), "");
}
