//! The flat reading (design §2.1) read straight from the zero-copy views, for tables of many
//! frames: no model is built and nothing is allocated per frame. It covers the wired M-Bus
//! response (a long frame with CI 72, records not encrypted) whose records the view reads
//! whole: fixed-length data (numbers, dates, identifiers) and variable-length data (text, BCD,
//! binary), under any VIF, plain-text unit and combinable VIFEs (modifiers, unit suffixes,
//! scaling, record errors); for any other frame [`view_reading`] says so and the caller
//! decodes it ([`crate::decode`] then [`crate::to_reading`]). Where it answers, it gives the
//! keys and values of `to_reading(decode(bytes))` in the same order (a test checks this on
//! every own and public frame).

use alloc::string::String;
use alloc::vec::Vec;

use core::fmt::Write;
use core::ops::Range;

use crate::decimal::Decimal;
use crate::mbus::app::{self, long_header};
use crate::mbus::datatypes::bcd_digits;
use crate::mbus::link::{is_master_to_slave, Frame};
use crate::mbus::record::{
    apply_vife, date_quantity, lvar_of, read_data, Context, DataValue, Vib, VifeChain, PLAIN_TEXT,
};
use crate::mbus::tables;
use crate::mbus::view::{plain_text_vifes, RecordView, Records};
use crate::mbus::vif::{self, Coding};
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
    /// A text value being written (variable-length text).
    text: String,
    /// The records of the frame, read once in the checking pass.
    records: Vec<PlainRecord>,
    /// The modifiers of the frame's records (each record has a range of them).
    modifiers: Vec<&'static str>,
    /// The frame's layout ([`ViewFrame::layout`]).
    layout: Vec<u8>,
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
    /// The record's quantity (a date's as the decoder adjusts it by length).
    quantity: &'static str,
    /// The record's modifiers in [`ViewScratch::modifiers`].
    modifiers: Range<usize>,
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
/// the decoded model): decode those. The same as [`view_frame`] then [`ViewFrame::fields`].
pub fn view_reading(
    bytes: &[u8],
    opts: &Options,
    scratch: &mut ViewScratch,
    emit: impl FnMut(&str, ViewField<'_>),
) -> bool {
    match view_frame(bytes, opts, scratch) {
        Some(frame) => {
            frame.fields(emit);
            true
        }
        None => false,
    }
}

/// A frame the zero-copy views read whole ([`view_frame`]): its records checked and read
/// into the scratch, its reading not yet emitted.
#[derive(Debug)]
pub struct ViewFrame<'a> {
    /// The application header (ID, manufacturer, version, medium, access number, status,
    /// configuration).
    header: &'a [u8],
    /// The records after the header.
    data: &'a [u8],
    scratch: &'a mut ViewScratch,
}

/// The checking pass of [`view_reading`]: the frame read into `scratch` when the zero-copy
/// views read it whole (the frames [`view_reading`] answers for), else `None`.
pub fn view_frame<'a>(
    bytes: &'a [u8],
    opts: &Options,
    scratch: &'a mut ViewScratch,
) -> Option<ViewFrame<'a>> {
    if opts.redact.is_some() {
        return None;
    }
    match opts.protocol {
        Some(Protocol::Mbus) => {}
        None if crate::detect(bytes).ok() == Some(Protocol::Mbus) => {}
        _ => return None,
    }
    let Ok(Frame::Long(frame)) = Frame::parse(bytes) else {
        return None;
    };
    if frame.ci_field() != 0x72 {
        return None;
    }
    let master_to_slave = is_master_to_slave(frame.c_field());
    // The user data, borrowed from `bytes` (the frame's own accessor borrows the frame).
    let user = bytes.get(USER_DATA_AT..USER_DATA_AT.checked_add(frame.user_data().len())?)?;
    let header = user.get(..long_header::LEN)?;
    let data = user.get(long_header::LEN..).unwrap_or(&[]);
    // Encrypted records (as the decoder decides): the decoder says so, the reading has none.
    let config = match header.get(long_header::CONFIG) {
        Some(&[low, high]) => u16::from_le_bytes([low, high]),
        _ => return None,
    };
    if app::encryption_announced(config, data) && !data.starts_with(&[0x2F, 0x2F]) {
        return None;
    }
    let base = USER_DATA_AT.saturating_add(long_header::LEN);
    // Every record is one the view reads as the full decoder would.
    scratch.records.clear();
    scratch.modifiers.clear();
    scratch.layout.clear();
    scratch.layout.push(u8::from(master_to_slave));
    for record in Records::new(data, base) {
        let view = record.ok()?;
        let record = plain(&view, data, base, master_to_slave, &mut scratch.modifiers)?;
        push_layout(&mut scratch.layout, &view, &record, data, base)?;
        scratch.records.push(record);
    }
    Some(ViewFrame {
        header,
        data,
        scratch,
    })
}

/// Appends a record's part of [`ViewFrame::layout`]: the kind of its value, then the bytes its
/// key is read from — the DIB, the VIB and the LVAR byte (the data's length and type); for a
/// VIB with VIF FC (whose VIFEs the bytes after it place) every byte from the record on.
fn push_layout(
    layout: &mut Vec<u8>,
    view: &RecordView<'_>,
    record: &PlainRecord,
    records: &[u8],
    base: usize,
) -> Option<()> {
    let kind = match record.plain {
        Plain::Nothing => 0,
        Plain::Number(None, _) => 1,
        Plain::Number(Some(_), _) => 2,
        Plain::Time(_) => 3,
        Plain::Text(_) => 4,
    };
    let bytes = view.bytes();
    let keyed = if view.vib().first() == Some(&0xFC) {
        records.get(view.offset().checked_sub(base)?..)?
    } else {
        bytes.get(..bytes.len().checked_sub(view.data().len())?)?
    };
    layout.push(kind);
    layout.extend_from_slice(&u16::try_from(keyed.len()).ok()?.to_le_bytes());
    layout.extend_from_slice(keyed);
    Some(())
}

impl ViewFrame<'_> {
    /// The frame's layout: bytes that decide every key of its reading. Two frames with the
    /// same layout have the same keys in the same order ([`ViewFrame::fields`]), whatever
    /// their values: a caller may key a cache of the keys (or of what it made of them) by the
    /// layout and then take only the values ([`ViewFrame::values`]). The layout holds the
    /// direction of the frame and, for each record, the kind of its value and the bytes its
    /// key is read from.
    pub fn layout(&self) -> &[u8] {
        &self.scratch.layout
    }

    /// Calls `emit(key, value)` for every key of the frame's reading, in the order of
    /// [`view_reading`].
    pub fn fields(self, emit: impl FnMut(&str, ViewField<'_>)) {
        self.emit(true, emit);
    }

    /// Calls `emit(value)` for every key of the frame's reading, in the order of
    /// [`ViewFrame::fields`], without writing the keys.
    pub fn values(self, mut emit: impl FnMut(ViewField<'_>)) {
        self.emit(false, |_, value| emit(value));
    }

    /// Emits the reading; with `keyed` false every key is empty (not written).
    fn emit(self, keyed: bool, mut emit: impl FnMut(&str, ViewField<'_>)) {
        let ViewFrame {
            header,
            data,
            scratch,
        } = self;
        let ViewScratch {
            key,
            text,
            records,
            modifiers,
            ..
        } = scratch;
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
            key.clear();
            if keyed {
                push_record_key(key, record, modifiers);
            }
            match &record.plain {
                Plain::Nothing => {}
                Plain::Number(_, value) => emit(key, ViewField::Number(*value)),
                Plain::Time(timestamp) => {
                    let mut time = ShortText::default();
                    // A timestamp is at most 19 characters: cannot fail.
                    let _ = write!(time, "{timestamp}");
                    emit(key, ViewField::Text(time.as_str()));
                }
                Plain::Text(value) => {
                    text.clear();
                    match value {
                        Text::Digits(range) => {
                            // Writing to a String cannot fail.
                            let _ = bcd_digits(data.get(range.clone()).unwrap_or(&[]), text);
                        }
                        Text::Integer(n) => {
                            let _ = write!(text, "{n}");
                        }
                        Text::Reversed(range) => {
                            let bytes = data.get(range.clone()).unwrap_or(&[]);
                            text.extend(bytes.iter().rev().map(|&b| char::from(b)));
                        }
                    }
                    emit(key, ViewField::Text(text));
                }
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
    }
}

/// Writes the key of a record's value (none for a record without one): the key stem of
/// `to_reading` (the quantity qualified by function, storage, tariff, subunit, then the
/// modifiers) with the unit suffix, or the reading's own name of a date or identifier.
fn push_record_key(key: &mut String, record: &PlainRecord, modifiers: &[&'static str]) {
    let record_modifiers = modifiers.get(record.modifiers.clone()).unwrap_or(&[]);
    let stem = |key: &mut String| {
        push_stem(
            key,
            record.quantity,
            record.storage,
            record.function,
            record.tariff,
            record.subunit,
        );
        for modifier in record_modifiers {
            key.push('_');
            key.push_str(modifier);
        }
    };
    let plain_key = record_modifiers.is_empty();
    match &record.plain {
        Plain::Nothing => {}
        Plain::Number(suffix, _) => {
            stem(key);
            if let Some(suffix) = suffix {
                key.push('_');
                key.push_str(suffix);
            }
        }
        Plain::Time(_) => match (record.quantity, record.storage) {
            ("datetime", 0) if plain_key => key.push_str("meter_datetime"),
            ("date" | "datetime", 1) if plain_key => key.push_str("target_date"),
            _ => stem(key),
        },
        Plain::Text(_) => {
            if record.quantity == "fabrication_no" {
                key.push_str("fabrication_no");
            } else {
                stem(key);
            }
        }
    }
}

/// What the reading takes from one record the view reads whole.
#[derive(Debug)]
enum Plain {
    /// A number in the reading's unit, with the key's unit suffix (`None`: a number without
    /// a unit, keyed by its stem alone).
    Number(Option<&'static str>, Decimal),
    /// A date, time or date-time (types G, J, F, I).
    Time(Timestamp),
    /// Text: an identifier or variable-length text.
    Text(Text),
    /// Nothing: no value, a record error, or a number whose unit the reading does not
    /// convert (or a plain-text unit).
    Nothing,
}

/// A text value, read from the records' bytes when it is emitted.
#[derive(Debug)]
enum Text {
    /// BCD digits of the bytes at this range of the records (leading zeros kept).
    Digits(Range<usize>),
    /// An unsigned integer, in decimal.
    Integer(i128),
    /// Variable-length text at this range of the records, last character first (one
    /// character per byte).
    Reversed(Range<usize>),
}

/// The VIB of a record as the decoder reads it (`mbus::record`'s VIB state and VIFE rules),
/// and whether its unit is plain text. `from_vib` is the records' bytes from the VIB on (a
/// VIF FC reads its text before or after its VIFEs, which the bytes after the VIB settle, as
/// in the walk).
fn read_vib(vib: &[u8], from_vib: &[u8], master_to_slave: bool) -> Option<(Vib, bool)> {
    let (&first, rest) = vib.split_first()?;
    let (mut info, vifes, unit_text) = match first {
        0xFB | 0xFD => {
            let (&code, rest) = rest.split_first()?;
            if first == 0xFD && code == 0xFD {
                let (&second, rest) = rest.split_first()?;
                (Vib::new(*vif::fd_second_level(second)), rest, false)
            } else if first == 0xFB {
                (Vib::new(*vif::fb(code)), rest, false)
            } else {
                (Vib::new(*vif::fd(code)), rest, false)
            }
        }
        0xEF => (Vib::new(vif::RESERVED), rest.get(1..)?, false),
        // The plain-text unit and no VIFE (the walk read its length).
        0x7C => return Some((Vib::new(PLAIN_TEXT), true)),
        0xFC => (Vib::new(PLAIN_TEXT), plain_text_vifes(from_vib)?, true),
        _ => (Vib::new(*vif::primary(first)), rest, false),
    };
    // The walk read the VIFEs by their extension bits: `vifes` are exactly the combinable
    // VIFEs. Warnings are the decoder's business: the reading has none.
    let ctx = Context {
        master_to_slave,
        msb_first: false,
    };
    let mut chain = VifeChain::new(&info);
    let mut warnings = Vec::new();
    for &vife in vifes {
        apply_vife(&mut info, vife, ctx, &mut chain, 0, &mut warnings);
    }
    if unit_text {
        // A plain-text unit replaces any unit a VIFE gave.
        info.unit = None;
    }
    Some((info, unit_text))
}

/// The reading's part of a record, or `None` for a record only the full decoder reads (and
/// for one whose key the reading keeps for itself). `records` are the frame's records, at
/// offset `base` of the frame.
fn plain(
    view: &RecordView<'_>,
    records: &[u8],
    base: usize,
    master_to_slave: bool,
    modifiers: &mut Vec<&'static str>,
) -> Option<PlainRecord> {
    if view.dib() == [0x7F] {
        return None;
    }
    let vib = view.vib();
    let meaning = view.meaning();
    // The common record: a known VIF without combinable VIFEs and fixed-length numeric data,
    // whose number the walk reads as the decoder does (`plain_record` in `mbus::record`).
    if view.is_plain()
        && meaning.known
        && !matches!(
            meaning.coding,
            Coding::Date | Coding::Ident | Coding::Container
        )
        && !matches!(meaning.quantity, "status" | "timestamp")
    {
        if let Some(number) = view.number() {
            let plain = match meaning.unit {
                Some(unit) => match converted(meaning.quantity, unit, number) {
                    Some((suffix, value)) => Plain::Number(Some(suffix), value),
                    None => Plain::Nothing,
                },
                None => Plain::Number(None, number),
            };
            return Some(PlainRecord {
                plain,
                quantity: meaning.quantity,
                modifiers: modifiers.len()..modifiers.len(),
                storage: view.storage(),
                function: view.function(),
                tariff: view.tariff(),
                subunit: view.subunit(),
            });
        }
    }
    // A VIB without combinable VIFEs (and not a plain-text unit): the walk's meaning is the
    // decoder's.
    let (info, unit_text) = if !view.has_combinable_vifes() && vib.first() != Some(&0x7C) {
        (Vib::new(*meaning), false)
    } else {
        let vib_at = view
            .offset()
            .checked_sub(base)?
            .checked_add(view.dib().len())?;
        read_vib(vib, records.get(vib_at..)?, master_to_slave)?
    };
    let mut quantity = info.meaning.quantity;
    if matches!(quantity, "status" | "timestamp") {
        return None;
    }
    let data = view.data();
    // Where the data is in the records (it ends the record).
    let data_at = view
        .offset()
        .checked_sub(base)?
        .checked_add(view.bytes().len().checked_sub(data.len())?)?;
    let data_range = data_at..data_at.checked_add(data.len())?;
    let data_field = view.dib().first().copied().unwrap_or(0) & 0x0F;
    let lvar = match view.lvar() {
        Some(byte) => Some(lvar_of(byte)?.0),
        None => None,
    };
    // The decoder's value (`None`: no value) — or `None` from this function where decoding
    // fails (a number out of range after scaling).
    let value: Option<Value> = match read_data(data, lvar, data_field, &info) {
        DataValue::Nothing
        | DataValue::InvalidBcd
        | DataValue::NotANumber
        | DataValue::Bytes(_) => None,
        DataValue::OutOfRange => return None,
        DataValue::Number(d) => Some(Value::Number(d)),
        DataValue::Time(point) => {
            quantity = date_quantity(quantity, info.label.is_some(), data.len());
            Some(Value::Time(point.timestamp))
        }
        DataValue::DateAsNumber(v) => v.map(|v| Value::Number(Decimal::from_int(v))),
        DataValue::ReversedText(_) => Some(Value::Text(Text::Reversed(data_range))),
        DataValue::Digits(_) => Some(Value::Text(Text::Digits(data_range))),
        DataValue::Integer(v) => Some(Value::Text(Text::Integer(v))),
    };
    let plain = match value {
        _ if info.record_error.is_some() => Plain::Nothing,
        None => Plain::Nothing,
        Some(Value::Number(n)) => match info.unit {
            Some(unit) if info.unit_suffixes.as_slice().is_empty() => {
                match converted(quantity, unit, n) {
                    Some((suffix, value)) => Plain::Number(Some(suffix), value),
                    None => Plain::Nothing,
                }
            }
            Some(unit) => {
                let mut full = ShortText::default();
                let written = full.write_str(unit).is_ok()
                    && info
                        .unit_suffixes
                        .as_slice()
                        .iter()
                        .all(|s| full.write_str(s).is_ok());
                match converted(quantity, full.as_str(), n) {
                    Some((suffix, value)) if written => Plain::Number(Some(suffix), value),
                    _ => Plain::Nothing,
                }
            }
            None if unit_text => Plain::Nothing,
            None => Plain::Number(None, n),
        },
        Some(Value::Time(t)) => Plain::Time(t),
        Some(Value::Text(t)) => Plain::Text(t),
    };
    let modifiers_at = modifiers.len();
    modifiers.extend_from_slice(info.modifiers.as_slice());
    Some(PlainRecord {
        plain,
        quantity,
        modifiers: modifiers_at..modifiers.len(),
        storage: view.storage(),
        function: view.function(),
        tariff: view.tariff(),
        subunit: view.subunit(),
    })
}

/// A record's value as the decoder reads it.
enum Value {
    Number(Decimal),
    Time(Timestamp),
    Text(Text),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hex::to_hex;
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

    /// The view's fields of a frame, checked to have `keys` between the meter's keys (media,
    /// id, manufacturer, protocol) and `status`.
    fn fields_with_keys(bytes: &[u8], keys: &[&str]) -> Vec<(String, ReadingValue)> {
        let got = fields(bytes, &Options::default()).unwrap();
        let got_keys: Vec<&str> = got.iter().map(|(k, _)| k.as_str()).collect();
        let want: Vec<&str> = ["media", "id", "manufacturer", "protocol"]
            .into_iter()
            .chain(keys.iter().copied())
            .chain(["status"])
            .collect();
        assert_eq!(got_keys, want);
        got
    }

    #[test]
    fn kamstrup_frame() {
        let bytes = parse_hex(
            "68 15 15 68 08 05 72 78 56 34 12 2D 2C 01 07 2A 00 00 00 0C 13 67 45 23 01 0D 16",
        )
        .unwrap();
        let got = fields_with_keys(&bytes, &["total_m3"]);
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

    #[test]
    fn records_with_combinable_vifes_and_text() {
        // Volume 12345.678 m3; 1 L backward flow (VIFE 3C); 1000 L per hour (VIFE 22: m3/h,
        // 1 m3h); a flow temperature with record error 15 (no data: left out); a type G date
        // 2024-01-31 in storage 1 with VIFE 7E (future value); parameter set "WFH21" as
        // variable-length text (LVAR 05, last character first).
        let bytes = parse_hex(
            "68 36 36 68 08 05 72 78 56 34 12 2D 2C 01 07 2A 00 00 00 0C 13 78 56 34 12 04 93 3C \
             01 00 00 00 04 93 22 E8 03 00 00 02 DA 15 2C 01 42 EC 7E 1F 31 0D FD 0B 05 31 32 48 \
             46 57 45 16",
        )
        .unwrap();
        let got = fields(&bytes, &Options::default()).unwrap();
        let number = |m: i128, e: i16| ReadingValue::Number(Decimal::new(m, e).unwrap());
        let text = |t: &str| ReadingValue::Text(t.into());
        let expected = [
            ("media", text("water")),
            ("id", text("12345678")),
            ("manufacturer", text("KAM")),
            ("protocol", text("mbus")),
            ("total_m3", number(12345678, -3)),
            ("total_backward_flow_m3", number(1, -3)),
            ("total_per_hour_m3h", number(1000, -3)),
            ("date_storage_1_future_value", text("2024-01-31")),
            ("parameter_set_id", text("WFH21")),
            ("status", text("OK")),
        ];
        let expected: Vec<(String, ReadingValue)> = expected
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        assert_eq!(got, expected);
        assert_eq!(
            got,
            to_reading(&decode(&bytes, &Options::default()).unwrap(), None).fields
        );
        // VIFE 00 after the flow temperature: in a meter's response, record error "none"
        // (left out); in a master's frame (C 53, SND_UD), the object action "write", which
        // keeps the value (300 x 0.1 C).
        let mut answer = bytes.clone();
        answer[41] = 0x00;
        answer[58] = answer[58].wrapping_sub(0x15);
        let mut sent = answer.clone();
        sent[4] = 0x53;
        sent[58] = sent[58].wrapping_add(0x53 - 0x08);
        let from_meter = fields(&answer, &Options::default()).unwrap();
        assert_eq!(from_meter, expected);
        let from_master = fields(&sent, &Options::default()).unwrap();
        assert_eq!(
            from_master.get(7),
            Some(&("flow_temperature_c".to_string(), number(300, -1)))
        );
        for frame in [&answer, &sent] {
            let decoded = decode(frame, &Options::default()).unwrap();
            assert_eq!(
                fields(frame, &Options::default()).unwrap(),
                to_reading(&decoded, None).fields
            );
        }
    }

    #[test]
    fn plain_text_units_with_vifes_in_either_order() {
        // VIF FC, VIFE 6F (last end: a date), then the text "ab" (2013 order): the type G
        // date 2024-01-31 keyed `date_last_end`; VIF FC, the text "%RH" then VIFE 74 (x 0.01,
        // the older order): a number in a unit of its own, which the reading leaves out.
        let bytes = parse_hex(
            "68 20 20 68 08 05 72 78 56 34 12 2D 2C 01 07 2A 00 00 00 02 FC 6F 02 62 61 1F 31 02 \
             FC 03 48 52 25 74 22 15 0B 16",
        )
        .unwrap();
        let got = fields_with_keys(&bytes, &["date_last_end"]);
        assert_eq!(got[4].1, ReadingValue::Text("2024-01-31".into()));
        assert_eq!(
            got,
            to_reading(&decode(&bytes, &Options::default()).unwrap(), None).fields
        );
    }

    /// The `.jsonl` vector files: the own ones and (when `../shared/vectors` is there) the
    /// public corpora.
    fn corpus_files() -> Vec<std::path::PathBuf> {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
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
        files.sort();
        files
    }

    /// Every frame of [`corpus_files`] whose `hex` parses: its file and its bytes.
    fn corpus_frames() -> Vec<(std::path::PathBuf, Vec<u8>)> {
        let mut frames = Vec::new();
        for file in corpus_files() {
            let text = std::fs::read_to_string(&file).unwrap();
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                let v: serde_json::Value = serde_json::from_str(line).unwrap();
                if let Some(Ok(bytes)) = v["hex"].as_str().map(parse_hex) {
                    frames.push((file.clone(), bytes));
                }
            }
        }
        frames
    }

    /// The raw emission of a frame the view reads: its layout, every `(key, value)` of
    /// `fields` (repeats kept) and every value of `values`.
    #[allow(clippy::type_complexity)]
    fn emission(bytes: &[u8]) -> Option<(Vec<u8>, Vec<(String, ReadingValue)>, Vec<ReadingValue>)> {
        let owned = |v: ViewField<'_>| match v {
            ViewField::Number(d) => ReadingValue::Number(d),
            ViewField::Text(t) => ReadingValue::Text(t.to_string()),
        };
        let opts = Options::default();
        let mut scratch = ViewScratch::new();
        let mut values = Vec::new();
        view_frame(bytes, &opts, &mut scratch)?.values(|v| values.push(owned(v)));
        let frame = view_frame(bytes, &opts, &mut scratch)?;
        let layout = frame.layout().to_vec();
        let mut fields = Vec::new();
        frame.fields(|k, v| fields.push((k.to_string(), owned(v))));
        Some((layout, fields, values))
    }

    /// The layout decides the keys: every corpus frame the view reads, with each byte of its
    /// records changed to a few other values (checksum mended), gives the same keys as every
    /// other such frame of the same layout; `values` gives the values of `fields` in order.
    #[test]
    fn layout_decides_the_keys() {
        let mut keys_of: std::collections::HashMap<Vec<u8>, (Vec<u8>, Vec<String>)> =
            std::collections::HashMap::new();
        let (mut frames, mut shared) = (0usize, 0usize);
        for (_, bytes) in corpus_frames() {
            if emission(&bytes).is_none() || bytes.len() < 22 {
                continue;
            }
            let end = bytes.len() - 2;
            for at in 19..end {
                for change in [0x01, 0x80, 0x0F, 0x40] {
                    let mut mutant = bytes.clone();
                    mutant[at] ^= change;
                    mutant[end] = crate::framing::checksum(&mutant[4..end]);
                    let Some((layout, fields, values)) = emission(&mutant) else {
                        continue;
                    };
                    frames += 1;
                    let field_values: Vec<ReadingValue> =
                        fields.iter().map(|(_, v)| v.clone()).collect();
                    assert_eq!(values, field_values, "{}", to_hex(&mutant));
                    let keys: Vec<String> = fields.into_iter().map(|(k, _)| k).collect();
                    match keys_of.get(&layout) {
                        Some((first, known)) => {
                            shared += usize::from(*first != mutant);
                            assert_eq!(
                                &keys,
                                known,
                                "{} and {} have one layout",
                                to_hex(first),
                                to_hex(&mutant)
                            );
                        }
                        None => {
                            keys_of.insert(layout, (mutant, keys));
                        }
                    }
                }
            }
        }
        std::eprintln!(
            "layout: {frames} frames read, {} layouts, {shared} frames sharing one",
            keys_of.len()
        );
        // Most changes are to values: most frames share a layout with another.
        assert!(shared > frames / 2, "{shared} of {frames}");
    }

    /// Every frame of the own vectors and (when `../shared/vectors` is there) of the public
    /// corpora: where the view answers, its reading is `to_reading(decode(..))`, key for key.
    #[test]
    fn equals_to_reading_on_every_corpus_frame() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
        let corpora = std::path::PathBuf::from(root)
            .join("../shared/vectors")
            .is_dir();
        let (mut read, mut total, mut own) = (0, 0, 0);
        for (file, bytes) in corpus_frames() {
            let is_own = file.starts_with(std::path::PathBuf::from(root).join("tests"));
            let opts = Options::default();
            total += 1;
            let Some(got) = fields(&bytes, &opts) else {
                continue;
            };
            read += 1;
            own += usize::from(is_own);
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
                to_hex(&bytes)
            );
        }
        std::eprintln!("view_reading: read {read} of {total} frames ({own} of the own vectors)");
        // The own vectors hold four frames the view reads whole; the public corpora, about
        // two hundred (67 before records with combinable VIFEs and text were read).
        let floor = if corpora { 195 } else { 4 };
        assert!(read >= floor, "the view read {read} of {total} frames");
    }
}
