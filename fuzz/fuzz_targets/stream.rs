//! Fuzzes the stream deframer: `decode_stream` and a `Decoder` fed in pieces must cover every
//! input byte exactly once, in order, with garbage bytes equal to the input and frame errors
//! inside their frames.
//!
//! The first input byte picks the options and the piece size; the rest is the stream.
#![no_main]

use libfuzzer_sys::fuzz_target;
use meterwire::{decode_stream, Decoder, Options, Protocol, StreamItem};

/// Checks that `items` cover `data` once, in order.
fn check_cover(items: &[StreamItem], data: &[u8]) {
    let mut next = 0usize;
    for item in items {
        let range = item.range();
        assert_eq!(range.start, next, "stream items must be contiguous");
        assert!(range.end > range.start, "empty stream item");
        match item {
            StreamItem::Frame { result: Err(e), .. } => {
                assert!(range.contains(&e.offset()) || e.offset() == range.end);
            }
            StreamItem::Garbage { bytes, .. } => {
                assert_eq!(Some(bytes.as_slice()), data.get(range.clone()));
            }
            StreamItem::Frame { .. } => {}
        }
        // Every item writes valid JSON.
        let json = item.to_json();
        assert!(serde_json::from_str::<serde_json::Value>(&json).is_ok());
        next = range.end;
    }
    assert_eq!(next, data.len(), "stream items must cover the input");
}

fuzz_target!(|input: &[u8]| {
    let Some((&selector, data)) = input.split_first() else {
        return;
    };
    let protocol = match selector % 5 {
        0 => None,
        1 => Some(Protocol::Mbus),
        2 => Some(Protocol::Wmbus),
        3 => Some(Protocol::ModbusRtu),
        _ => Some(Protocol::ModbusTcp),
    };
    let opts = Options::default().with_protocol(protocol);
    let whole = decode_stream(data, &opts);
    check_cover(&whole, data);
    // The same stream in pieces of 1 to 32 bytes.
    let piece = usize::from(selector / 5 % 32) + 1;
    let mut decoder = Decoder::new(opts);
    let mut items = Vec::new();
    for chunk in data.chunks(piece) {
        decoder.feed(chunk);
        items.extend(decoder.take_items());
        assert!(decoder.pending() <= data.len());
    }
    decoder.finish();
    items.extend(decoder.take_items());
    check_cover(&items, data);
});
