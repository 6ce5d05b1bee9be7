//! The flat reading (design §2.1) read straight from the zero-copy views, for tables of many
//! frames: no model is built and nothing is allocated per frame. It covers the common wired
//! M-Bus response (a long frame with CI 72, no security, every record a plain number the
//! view reads: [`crate::mbus::view`]); for any other frame [`view_reading`] says so and the
//! caller decodes it ([`crate::decode`] then [`crate::to_reading`]). Where it answers, it
//! gives the keys and values of `to_reading(decode(bytes))` in the same order (a test
//! checks this on every own and public frame).

use alloc::string::String;
use alloc::vec::Vec;

use core::fmt::Write;

use crate::decimal::Decimal;
use crate::mbus::app::long_header;
use crate::mbus::datatypes::{bcd_digits, int_le_u64, time_point};
use crate::mbus::link::Frame;
use crate::mbus::tables;
use crate::mbus::view::{RecordView, Records};
use crate::mbus::vif::{Coding, Meaning};
use crate::model::Protocol;
use crate::model::{Function, ShortText, Timestamp};
use crate::reading::{converted, push_stem};
use crate::Options;

/// A value of the flat reading, borrowed for the call of the caller's `emit`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ViewField<'a> {
    /// An exact number in the key's unit.
    Number(Decimal),
    /// Text (ids, names, status).
    Text(&'a str),
}

/// Offset of the user data after the CI field in a long frame (`68 L L 68 C A CI`).
const USER_DATA_AT: usize = 7;

/// The caller's buffers for [`view_reading`], reused from frame to frame so that reading a
/// frame allocates nothing once they have grown.
#[derive(Debug, Default)]
pub struct ViewScratch {
    /// The key being written.
    key: String,
    /// The records of the frame, read once in the checking pass.
    records: Vec<PlainRecord>,
}

impl ViewScratch {
    /// Empty buffers.
    pub fn new() -> ViewScratch {
        ViewScratch::default()
    }
}

/// One record of the checking pass, with what its key and value need.
#[derive(Debug)]
struct PlainRecord {
    plain: Plain,
    meaning: &'static Meaning,
    storage: u64,
    function: Function,
    tariff: u32,
    subunit: u32,
}

/// The flat reading of `bytes` when the zero-copy views read the whole frame: calls
/// `emit(key, value)` for every key of `to_reading(decode(bytes, opts), None)`, in its order,
/// and returns `true`; a key may come again (two records of the same key), and as in
/// [`crate::Reading`] the first value is the reading's. Returns `false` without calling
/// `emit` for every other frame (another protocol, another CI, security, records that only
/// the full decoder reads, errors) and with [`Options::redact`] set (the redactor works on
/// the decoded model): decode those.
pub fn view_reading(
    bytes: &[u8],
    opts: &Options,
    scratch: &mut ViewScratch,
    mut emit: impl FnMut(&str, ViewField<'_>),
) -> bool {
    if opts.redact.is_some() {
        return false;
    }
    match opts.protocol {
        Some(Protocol::Mbus) => {}
        None if crate::detect(bytes).ok() == Some(Protocol::Mbus) => {}
        _ => return false,
    }
    let Ok(Frame::Long(frame)) = Frame::parse(bytes) else {
        return false;
    };
    if frame.ci_field() != 0x72 {
        return false;
    }
    let user = frame.user_data();
    let Some(header) = user.get(..long_header::LEN) else {
        return false;
    };
    let config = header.get(long_header::CONFIG).unwrap_or(&[1]);
    if config.iter().any(|&b| b != 0) {
        return false;
    }
    let data = user.get(long_header::LEN..).unwrap_or(&[]);
    let base = USER_DATA_AT.saturating_add(long_header::LEN);
    // First pass: every record is one the view reads as the full decoder would.
    scratch.records.clear();
    for record in Records::new(data, base) {
        let Ok(view) = record else {
            return false;
        };
        let Some(plain) = plain(&view) else {
            return false;
        };
        scratch.records.push(PlainRecord {
            plain,
            meaning: view.meaning(),
            storage: view.storage(),
            function: view.function(),
            tariff: view.tariff(),
            subunit: view.subunit(),
        });
    }
    let ViewScratch { key, records } = scratch;
    let byte = |at: usize| header.get(at).copied().unwrap_or(0);
    emit(
        "media",
        ViewField::Text(tables::medium_name(byte(long_header::MEDIUM))),
    );
    let mut id = ShortText::default();
    // Eight digits in a 30-byte text: cannot fail.
    let _ = bcd_digits(header.get(long_header::ID).unwrap_or(&[]), &mut id);
    emit("id", ViewField::Text(id.as_str()));
    let code = u16::from_le_bytes([
        byte(long_header::MANUFACTURER.start),
        byte(long_header::MANUFACTURER.start.saturating_add(1)),
    ]);
    emit(
        "manufacturer",
        ViewField::Text(tables::manufacturer_letters(code).as_str()),
    );
    emit("protocol", ViewField::Text(Protocol::Mbus.as_str()));
    for record in records.iter() {
        let meaning = record.meaning;
        key.clear();
        let stem = |key: &mut String, quantity: &str| {
            push_stem(
                key,
                quantity,
                record.storage,
                record.function,
                record.tariff,
                record.subunit,
            )
        };
        match &record.plain {
            Plain::Number(number) => {
                let value = match meaning.unit {
                    Some(unit) => converted(meaning.quantity, unit, *number)
                        .map(|(suffix, value)| (Some(suffix), value)),
                    None => Some((None, *number)),
                };
                let Some((suffix, value)) = value else {
                    continue;
                };
                stem(key, meaning.quantity);
                if let Some(suffix) = suffix {
                    key.push('_');
                    key.push_str(suffix);
                }
                emit(key, ViewField::Number(value));
            }
            Plain::Time(timestamp, quantity) => {
                match (*quantity, record.storage) {
                    ("datetime", 0) => key.push_str("meter_datetime"),
                    ("date" | "datetime", 1) => key.push_str("target_date"),
                    _ => stem(key, quantity),
                }
                let mut text = ShortText::default();
                // A timestamp is at most 19 characters: cannot fail.
                let _ = write!(text, "{timestamp}");
                emit(key, ViewField::Text(text.as_str()));
            }
            Plain::Fabrication(text) => emit("fabrication_no", ViewField::Text(text.as_str())),
        }
    }
    let status = tables::header_status(byte(long_header::STATUS));
    key.clear();
    for flag in status.flags.iter() {
        if !key.is_empty() {
            key.push(' ');
        }
        key.extend(flag.as_str().chars().map(|c| c.to_ascii_uppercase()));
    }
    if key.is_empty() {
        key.push_str("OK");
    }
    emit("status", ViewField::Text(key));
    true
}

/// What the reading takes from one record the view reads whole.
#[derive(Debug)]
enum Plain {
    /// A number (`plain_number_record` in `mbus::record`: fixed-length data, a known VIF
    /// without combinable VIFEs).
    Number(Decimal),
    /// A date or date-time of type G / J / F / I (integer data fields), with the quantity the
    /// full decoder gives it by its length.
    Time(Timestamp, &'static str),
    /// A fabrication number: BCD digits (leading zeros kept) or an unsigned integer, as text.
    Fabrication(ShortText),
}

/// The reading's part of a record, or `None` for a record only the full decoder reads (and
/// for one whose key the reading keeps for itself).
fn plain(view: &RecordView<'_>) -> Option<Plain> {
    let meaning = view.meaning();
    if !view.is_plain() || !meaning.known || view.dib() == [0x7F] {
        return None;
    }
    if matches!(meaning.quantity, "status" | "timestamp") {
        return None;
    }
    let data_field = view.dib().first().copied().unwrap_or(0) & 0x0F;
    match meaning.coding {
        Coding::Date => {
            // Integer data fields only (BCD dates are read as numbers by the decoder), and only
            // the primary date VIFs (6C, 6D), whose quantity the decoder adjusts by length.
            if !matches!(data_field, 0x2 | 0x3 | 0x4 | 0x6) || view.vib().len() != 1 {
                return None;
            }
            let point = time_point(view.data())?;
            let quantity = match (meaning.quantity, view.data().len()) {
                ("date", 2) => "date",
                ("date", _) => "datetime",
                ("datetime", 3) => "time",
                (q, _) => q,
            };
            Some(Plain::Time(point.timestamp, quantity))
        }
        Coding::Ident if meaning.quantity == "fabrication_no" => {
            if !matches!(data_field, 0x1..=0x4 | 0x6 | 0x7 | 0x9..=0xC | 0xE) {
                return None;
            }
            let mut text = ShortText::default();
            fabrication_text(view, &mut text);
            Some(Plain::Fabrication(text))
        }
        Coding::Ident | Coding::Container => None,
        _ => view.number().map(Plain::Number),
    }
}

/// The text of a fabrication number as the decoder writes it: BCD digits, or the unsigned
/// integer in decimal.
fn fabrication_text(view: &RecordView<'_>, out: &mut ShortText) {
    let data_field = view.dib().first().copied().unwrap_or(0) & 0x0F;
    // Writing at most 20 characters to a 30-byte text cannot fail.
    if matches!(data_field, 0x9..=0xC | 0xE) {
        let _ = bcd_digits(view.data(), out);
    } else {
        let _ = write!(out, "{}", int_le_u64(view.data(), false));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reading::{to_reading, ReadingValue};
    use crate::{decode, parse_hex};
    use alloc::string::ToString;
    use alloc::vec::Vec;

    /// The view's reading as `(key, value)` pairs, or `None` when it leaves the frame to decode.
    fn fields(bytes: &[u8], opts: &Options) -> Option<Vec<(String, ReadingValue)>> {
        let mut scratch = ViewScratch::new();
        let mut out = Vec::new();
        let read = view_reading(bytes, opts, &mut scratch, |k, v| {
            if out.iter().any(|(key, _)| key == k) {
                return;
            }
            out.push((
                k.to_string(),
                match v {
                    ViewField::Number(d) => ReadingValue::Number(d),
                    ViewField::Text(t) => ReadingValue::Text(t.to_string()),
                },
            ))
        });
        read.then_some(out)
    }

    #[test]
    fn kamstrup_frame() {
        let bytes = parse_hex(
            "68 15 15 68 08 05 72 78 56 34 12 2D 2C 01 07 2A 00 00 00 0C 13 67 45 23 01 0D 16",
        )
        .unwrap();
        let got = fields(&bytes, &Options::default()).unwrap();
        let keys: Vec<&str> = got.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "media",
                "id",
                "manufacturer",
                "protocol",
                "total_m3",
                "status"
            ]
        );
        assert_eq!(
            got[4].1,
            ReadingValue::Number(Decimal::new(1234567, -3).unwrap())
        );
        assert_eq!(got[1].1, ReadingValue::Text("12345678".into()));
        // A broken checksum, another protocol, another CI: left to the decoder.
        let mut broken = bytes.clone();
        broken[25] ^= 1;
        assert!(fields(&broken, &Options::default()).is_none());
        assert!(fields(
            &bytes,
            &Options::default().with_protocol(Some(Protocol::Wmbus))
        )
        .is_none());
    }

    /// Every frame of the own vectors and (when `../shared/vectors` is there) of the public
    /// corpora: where the view answers, its reading is `to_reading(decode(..))`, key for key.
    #[test]
    fn equals_to_reading_on_every_corpus_frame() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
        let corpora = std::path::PathBuf::from(root)
            .join("../shared/vectors")
            .is_dir();
        let mut files: Vec<std::path::PathBuf> = Vec::new();
        for dir in [
            std::path::PathBuf::from(root).join("tests/conformance"),
            std::path::PathBuf::from(root).join("../shared/vectors"),
        ] {
            if let Ok(entries) = std::fs::read_dir(&dir) {
                for e in entries.flatten() {
                    if e.path().extension().is_some_and(|x| x == "jsonl") {
                        files.push(e.path());
                    }
                }
            }
        }
        let (mut read, mut total) = (0, 0);
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                let v: serde_json::Value = serde_json::from_str(line).unwrap();
                let Some(Ok(bytes)) = v["hex"].as_str().map(parse_hex) else {
                    continue;
                };
                let opts = Options::default();
                total += 1;
                let Some(got) = fields(&bytes, &opts) else {
                    continue;
                };
                read += 1;
                let decoded = decode(&bytes, &opts).unwrap_or_else(|e| {
                    panic!(
                        "{}: the view read a frame decode rejects: {e}",
                        file.display()
                    )
                });
                assert_eq!(
                    got,
                    to_reading(&decoded, None).fields,
                    "{} {}",
                    file.display(),
                    v["hex"]
                );
            }
        }
        std::eprintln!("view_reading: read {read} of {total} frames");
        // The own vectors hold two frames the view reads whole; the public corpora, dozens.
        let floor = if corpora { 50 } else { 2 };
        assert!(read >= floor, "the view read {read} of {total} frames");
    }
}
