//! IEC 62056-21 data sets into records: the data block's lines `address(value*unit)…`, the
//! identification and option-select characters, and the OBIS identifiers meterwire knows.
//!
//! A data block is cut into *pieces* that tile it exactly: a piece is the line breaks in
//! front of it, the data-set address when it opens a data set, one value group `( … )`, and
//! the line break closing the data set. Every piece becomes one record whose `raw.data` holds
//! the piece's bytes, so the encoder can give them back unchanged ([`super::encode`]). Text
//! that is no data set becomes a record with quantity `other`, its text as value, and a
//! warning.

use alloc::borrow::Cow;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::ops::Range;

use super::link::{CR, END_MARK, LF};
use crate::decimal::Decimal;
use crate::model::{Address, Name, RawRecord, Record, RecordFields, Timestamp, Value};

/// One piece of a data block (offsets of the input).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Piece {
    /// All bytes of the piece.
    pub range: Range<usize>,
    /// The data-set address written in this piece (the first group of a data set).
    pub address: Option<Range<usize>>,
    /// The content between `(` and `)`; `None` for text that is no data set.
    pub group: Option<Range<usize>>,
}

/// How a data block ended.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Block {
    /// The pieces, in order.
    pub pieces: Vec<Piece>,
    /// The block ends with the end line `! CR LF` (a readout).
    pub end_mark: bool,
}

fn is_break(b: u8) -> bool {
    b == CR || b == LF
}

/// Cuts `text[range]` into pieces. With `end_mark_allowed`, a final `! CR LF` is the readout's
/// end line instead of a piece.
pub fn pieces(text: &[u8], range: Range<usize>, end_mark_allowed: bool) -> Block {
    let mut end = range.end;
    let mut end_mark = false;
    if end_mark_allowed
        && end >= range.start.saturating_add(3)
        && text.get(end.saturating_sub(3)..end) == Some(&[END_MARK, CR, LF][..])
        && (end.saturating_sub(3) == range.start
            || text
                .get(end.saturating_sub(4))
                .copied()
                .is_some_and(is_break))
    {
        end = end.saturating_sub(3);
        end_mark = true;
    }
    let byte = |i: usize| text.get(i).copied().unwrap_or(0);
    let mut out: Vec<Piece> = Vec::new();
    let mut i = range.start;
    while i < end {
        let start = i;
        while i < end && is_break(byte(i)) {
            i = i.saturating_add(1);
        }
        if i >= end {
            // Line breaks after the last piece belong to it.
            match out.last_mut() {
                Some(last) => last.range.end = end,
                None => out.push(Piece {
                    range: start..end,
                    address: None,
                    group: None,
                }),
            }
            break;
        }
        // The address runs to the first '(' on the line.
        let addr_start = i;
        while i < end && !is_break(byte(i)) && byte(i) != b'(' {
            i = i.saturating_add(1);
        }
        let addr = addr_start..i;
        if byte(i) != b'(' || i >= end {
            // No value group on this line: text that is no data set.
            out.push(Piece {
                range: start..line_after(text, i, end),
                address: None,
                group: None,
            });
            i = line_after(text, i, end);
            continue;
        }
        let mut first = true;
        let mut piece_start = start;
        loop {
            // At '('.
            let open = i;
            let close =
                (open.saturating_add(1)..end).find(|j| byte(*j) == b')' || is_break(byte(*j)));
            let Some(close) = close.filter(|j| byte(*j) == b')') else {
                // An unclosed group: the rest of the line is text that is no data set.
                let stop = line_after(text, open, end);
                out.push(Piece {
                    range: piece_start..stop,
                    address: None,
                    group: None,
                });
                i = stop;
                break;
            };
            i = close.saturating_add(1);
            let piece_end = if byte(i) == b'(' && i < end {
                i
            } else {
                // The data set ends: its line break (CR LF, or a lone CR or LF) is in the piece.
                let mut j = i;
                if byte(j) == CR && j < end {
                    j = j.saturating_add(1);
                }
                if byte(j) == LF && j < end {
                    j = j.saturating_add(1);
                }
                j
            };
            out.push(Piece {
                range: piece_start..piece_end,
                address: (first && !addr.is_empty()).then(|| addr.clone()),
                group: Some(open.saturating_add(1)..close),
            });
            first = false;
            piece_start = piece_end;
            if piece_end == i && byte(i) == b'(' && i < end {
                continue;
            }
            i = piece_end;
            break;
        }
    }
    Block {
        pieces: out,
        end_mark,
    }
}

/// One past the line break after `from` (or `end`).
fn line_after(text: &[u8], from: usize, end: usize) -> usize {
    let mut i = from;
    while i < end && !is_break(text.get(i).copied().unwrap_or(0)) {
        i = i.saturating_add(1);
    }
    if i < end && text.get(i) == Some(&CR) {
        i = i.saturating_add(1);
    }
    if i < end && text.get(i) == Some(&LF) {
        i = i.saturating_add(1);
    }
    i
}

/// A data-set identifier read as an OBIS code `A-B:C.D.E*F` (IEC 62056-61), of which IEC
/// 62056-21 readouts mostly send the reduced `C.D.E` or `C.D` forms. The letters `C`, `F`,
/// `L`, `P` in the C field stand for 96, 97, 98, 99.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Obis {
    /// Medium (A): 1 electricity, 6 heat, 7 gas, 8 cold water, 9 hot water, 0 abstract.
    pub a: Option<u8>,
    /// Channel (B): DSMR M-Bus channels 1–4.
    pub b: Option<u8>,
    /// Quantity (C).
    pub c: u8,
    /// Processing (D).
    pub d: u8,
    /// Tariff / classification (E).
    pub e: Option<u8>,
}

impl Obis {
    /// Parses an identifier; `None` when it is not OBIS-like (vendor codes).
    pub fn parse(id: &str) -> Option<Obis> {
        let (ab, cde) = match id.split_once(':') {
            Some((ab, cde)) => (Some(ab), cde),
            None => (None, id),
        };
        let (a, b) = match ab {
            Some(ab) => {
                let (a, b) = ab.split_once('-')?;
                (Some(a.parse().ok()?), Some(b.parse().ok()?))
            }
            None => (None, None),
        };
        let cde = cde.split(['*', '&']).next()?;
        let mut parts = cde.split('.');
        let field = |p: &str| -> Option<u8> {
            match p {
                "C" => Some(96),
                "F" => Some(97),
                "L" => Some(98),
                "P" => Some(99),
                _ if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => p.parse().ok(),
                _ => None,
            }
        };
        let c = field(parts.next()?)?;
        let d = field(parts.next()?)?;
        let e = match parts.next() {
            Some(p) => Some(field(p)?),
            None => None,
        };
        if parts.next().is_some() {
            return None;
        }
        Some(Obis { a, b, c, d, e })
    }

    fn cde(&self) -> (u8, u8, Option<u8>) {
        (self.c, self.d, self.e)
    }
}

/// What meterwire knows about an identifier.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Known {
    quantity: Option<&'static str>,
    label: Option<&'static str>,
    numeric: bool,
    tariff: Option<u32>,
}

/// Qualifiers of an OBIS quantity C (IEC 62056-61): the energy flow direction (C = 2, 22, 42,
/// 62: delivered by the client, `export`) and the phase (C = 21–40 L1, 41–60 L2, 61–80 L3),
/// named like the M-Bus VIF extensions (`at_phase_l1`).
fn modifiers_of(obis: Option<Obis>) -> &'static [&'static str] {
    let Some(o) = obis else {
        return &[];
    };
    if o.a.is_some_and(|a| a != 1) {
        return &[];
    }
    match o.c {
        2 => &["export"],
        22 => &["export", "at_phase_l1"],
        42 => &["export", "at_phase_l2"],
        62 => &["export", "at_phase_l3"],
        21..=40 => &["at_phase_l1"],
        41..=60 => &["at_phase_l2"],
        61..=80 => &["at_phase_l3"],
        _ => &[],
    }
}

fn known(obis: Option<Obis>) -> Known {
    let Some(o) = obis else {
        return Known::default();
    };
    let k = |quantity, label, numeric| Known {
        quantity,
        label,
        numeric,
        tariff: None,
    };
    match o.cde() {
        (0, 0, _) if o.a.is_none_or(|a| a == 0) => {
            k(Some("fabrication_no"), Some("serial_number"), false)
        }
        (0, 2, Some(8)) => k(None, Some("version"), false),
        (1, 0, Some(0)) if o.a == Some(0) => k(Some("datetime"), Some("timestamp"), false),
        (0, 9, Some(1)) => k(Some("time"), Some("time"), false),
        (0, 9, Some(2)) => k(Some("date"), Some("date"), false),
        (96, 1, _) => k(Some("fabrication_no"), Some("equipment_id"), false),
        (96, 13, _) => k(None, Some("text_message"), false),
        (96, 14, Some(0)) => k(None, Some("tariff_indicator"), true),
        (96, 3, Some(10)) => k(None, Some("switch_position"), true),
        (96, 7, Some(21)) => k(None, Some("power_failures"), true),
        (96, 7, Some(9)) => k(None, Some("long_power_failures"), true),
        (99, 97, Some(0)) => k(None, Some("power_failure_log"), false),
        (24, 1, Some(0)) => k(Some("device_type"), None, true),
        (24, 2, Some(1 | 3)) | (24, 3, Some(0)) => k(Some("volume"), Some("mbus_reading"), false),
        (32 | 52 | 72, 32 | 36, Some(0)) => k(None, None, true),
        (1 | 2, 8, e) => Known {
            quantity: Some("energy"),
            label: Some(if o.c == 1 { "import" } else { "export" }),
            numeric: true,
            tariff: e.map(u32::from),
        },
        (1 | 2, 7, _) => k(
            Some("power"),
            Some(if o.c == 1 { "import" } else { "export" }),
            true,
        ),
        // OBIS media 7 (gas), 8 (cold water), 9 (hot water): C 1-3 are volumes.
        (1..=3, _, _) if matches!(o.a, Some(7..=9)) => k(Some("volume"), None, true),
        _ => Known::default(),
    }
}

/// The model's unit for a data set's unit text, and the quantity it implies.
pub fn unit_of(text: &str) -> Option<(&'static str, &'static str)> {
    Some(match text {
        "m3" | "m\u{b3}" => ("m3", "volume"),
        "l" | "L" => ("L", "volume"),
        "m3/h" => ("m3/h", "volume_flow"),
        "m3/min" => ("m3/min", "volume_flow"),
        "m3/s" => ("m3/s", "volume_flow"),
        "l/h" | "L/h" => ("L/h", "volume_flow"),
        "Wh" => ("Wh", "energy"),
        "kWh" => ("kWh", "energy"),
        "MWh" => ("MWh", "energy"),
        "J" => ("J", "energy"),
        "kJ" => ("kJ", "energy"),
        "MJ" => ("MJ", "energy"),
        "GJ" => ("GJ", "energy"),
        "kvarh" => ("kvarh", "reactive_energy"),
        "kVAh" => ("kVAh", "apparent_energy"),
        "kvar" => ("kvar", "reactive_power"),
        "kVA" => ("kVA", "apparent_power"),
        "W" => ("W", "power"),
        "kW" => ("kW", "power"),
        "MW" => ("MW", "power"),
        "V" => ("V", "voltage"),
        "A" => ("A", "current"),
        "Hz" => ("Hz", "frequency"),
        "kg" => ("kg", "mass"),
        "t" => ("t", "mass"),
        "kg/h" => ("kg/h", "mass_flow"),
        "bar" => ("bar", "pressure"),
        "Pa" => ("Pa", "pressure"),
        "K" => ("K", "temperature_difference"),
        "C" | "\u{b0}C" => ("C", "temperature"),
        "s" => ("s", "duration"),
        "min" => ("min", "duration"),
        "h" => ("h", "duration"),
        "d" => ("d", "duration"),
        "%" => ("%", "other"),
        _ => return None,
    })
}

/// The wire spelling of a model unit when a record without its source text is written.
pub fn wire_unit(unit: &str) -> &str {
    unit
}

/// `YYMMDDhhmmss` + `W`/`S` (DSMR time stamps): the time and whether it is summer time.
pub fn dsmr_timestamp(text: &str) -> Option<(Timestamp, bool)> {
    let b = text.as_bytes();
    let (digits, dst) = match b.split_last()? {
        (b'W', d) => (d, false),
        (b'S', d) => (d, true),
        _ => return None,
    };
    if digits.len() != 12 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let two = |i: usize| -> Option<u8> {
        let hi = digits.get(i)?.checked_sub(b'0')?;
        let lo = digits.get(i.checked_add(1)?)?.checked_sub(b'0')?;
        hi.checked_mul(10)?.checked_add(lo)
    };
    Some((
        Timestamp {
            year: Some(2000u16.checked_add(u16::from(two(0)?))?),
            month: two(2)?,
            day: two(4)?,
            hour: Some(two(6)?),
            minute: Some(two(8)?),
            second: Some(two(10)?),
        },
        dst,
    ))
}

/// Six digits `YYMMDD` as a date or `hhmmss` as a time.
fn six_digits(text: &str, date: bool) -> Option<Timestamp> {
    let b = text.as_bytes();
    if b.len() != 6 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let two = |i: usize| -> Option<u8> {
        let hi = b.get(i)?.checked_sub(b'0')?;
        let lo = b.get(i.checked_add(1)?)?.checked_sub(b'0')?;
        hi.checked_mul(10)?.checked_add(lo)
    };
    Some(if date {
        Timestamp {
            year: Some(2000u16.checked_add(u16::from(two(0)?))?),
            month: two(2)?,
            day: two(4)?,
            hour: None,
            minute: None,
            second: None,
        }
    } else {
        Timestamp {
            year: None,
            month: 0,
            day: 0,
            hour: Some(two(0)?),
            minute: Some(two(2)?),
            second: Some(two(4)?),
        }
    })
}

/// The record of one value group. `address` is the data set's identifier (written in this
/// piece or inherited from the data set's first piece), `content` the text between the
/// parentheses; `unit_before` is the unit of a preceding unit-only group of the same data set
/// (DSMR 2.2 gas: `…(m3)` then `(value)` on the next line).
pub fn record(address: Option<&str>, content: &str, unit_before: Option<&str>) -> RecordFields {
    let obis = address.and_then(Obis::parse);
    let knowledge = known(obis);
    let (value_text, unit_wire) = match content.split_once('*') {
        Some((v, u)) => (v, Some(u)),
        None => (content, None),
    };
    let unit_wire = unit_wire.or(unit_before.filter(|_| !value_text.is_empty()));
    let mut rec = RecordFields::new("other");
    rec.address = address.map(|a| Address::Text(Cow::Owned(a.to_string())));
    rec.label = knowledge.label.map(Cow::Borrowed);
    rec.tariff = knowledge.tariff;
    rec.modifiers = modifiers_of(obis)
        .iter()
        .map(|m| Cow::Borrowed(*m))
        .collect();
    let mut unit_quantity = None;
    if let Some(u) = unit_wire {
        match unit_of(u) {
            Some((unit, quantity)) => {
                rec.unit = Some(Cow::Borrowed(unit));
                unit_quantity = Some(quantity);
            }
            None => rec.unit_text = Some(u.to_string()),
        }
    }
    let is = |q: &str| knowledge.quantity == Some(q);
    if value_text.is_empty() {
        rec.value = None;
    } else if let Some((ts, dst)) = dsmr_timestamp(value_text) {
        rec.value = Some(Value::Time(ts));
        rec.dst = dst;
        rec.quantity = Cow::Borrowed("datetime");
        if !is("datetime") {
            rec.label = Some(Cow::Borrowed("capture_time"));
        }
        return rec;
    } else if let Some(ts) = (is("time") || is("date"))
        .then(|| six_digits(value_text, is("date")))
        .flatten()
    {
        rec.value = Some(Value::Time(ts));
        rec.quantity = Cow::Borrowed(if is("date") { "date" } else { "time" });
        return rec;
    } else if unit_wire.is_some() || knowledge.numeric {
        rec.value = Some(match Decimal::parse(value_text) {
            Some(d) => Value::Number(d),
            None => Value::Text(value_text.to_string()),
        });
    } else {
        rec.value = Some(Value::Text(value_text.to_string()));
    }
    // Measured quantities come from the unit (kWh on a channel reading is energy); the
    // identifier names the others.
    let quantity: Name = match (unit_quantity, knowledge.quantity) {
        (Some(q), _) => Cow::Borrowed(q),
        (None, Some("volume" | "energy" | "power" | "datetime" | "time" | "date")) => {
            Cow::Borrowed("other")
        }
        (None, Some(k)) if rec.value.is_some() => Cow::Borrowed(k),
        _ => Cow::Borrowed("other"),
    };
    rec.quantity = quantity;
    if knowledge.label == Some("mbus_reading") && unit_quantity.is_none() {
        // The other groups of a channel's profile (DSMR 2.2: period, count, OBIS, unit).
        rec.label = None;
    }
    if rec.quantity == "device_type" {
        if let Some(Value::Number(d)) = &rec.value {
            let code = d.to_i128().and_then(|v| u8::try_from(v).ok());
            rec.label = code.map(|c| Cow::Borrowed(crate::mbus::tables::medium_name(c)));
        }
    }
    rec
}

/// The records of a data block: one per piece, `raw.data` holding its bytes. Returns the
/// warnings about text that is no data set.
pub fn records(text: &[u8], block: &Block, out: &mut Vec<Record>, warnings: &mut Vec<String>) {
    let s = |r: &Range<usize>| {
        text.get(r.clone())
            .and_then(|b| core::str::from_utf8(b).ok())
            .unwrap_or("")
    };
    let mut current: Option<&str> = None;
    let mut unit_before: Option<&str> = None;
    for piece in &block.pieces {
        let raw = text.get(piece.range.clone()).unwrap_or(&[]);
        let mut rec = match &piece.group {
            Some(group) => {
                // A group without an address continues its data set (on the same line, or
                // on a continuation line `(value)` as DSMR 2.2 gas readings do).
                if let Some(a) = &piece.address {
                    current = Some(s(a));
                    unit_before = None;
                }
                let content = s(group);
                let rec = record(current, content, unit_before);
                unit_before = (!content.contains('*') && unit_of(content).is_some())
                    .then_some(content)
                    .or(unit_before);
                rec
            }
            None => {
                let line = s(&piece.range).trim_matches(['\r', '\n']);
                warnings.push(format!(
                    "text that is no data set kept as a record: {}",
                    line.chars().take(40).collect::<String>()
                ));
                let mut rec = RecordFields::new("other");
                rec.value = (!line.is_empty()).then(|| Value::Text(line.to_string()));
                current = None;
                rec
            }
        };
        rec.raw = Some(RawRecord::new(0, &[], &[], raw));
        out.push(rec.into());
    }
}

/// The baud rate of a baud character and the protocol mode it implies (digest §3).
pub fn baud_of(c: u8) -> (Option<u32>, &'static str) {
    match c {
        b'0' => (Some(300), "C"),
        b'1' => (Some(600), "C"),
        b'2' => (Some(1200), "C"),
        b'3' => (Some(2400), "C"),
        b'4' => (Some(4800), "C"),
        b'5' => (Some(9600), "C"),
        b'6' => (Some(19200), "C"),
        b'7'..=b'9' => (None, "C"),
        b'A' => (Some(600), "B"),
        b'B' => (Some(1200), "B"),
        b'C' => (Some(2400), "B"),
        b'D' => (Some(4800), "B"),
        b'E' => (Some(9600), "B"),
        b'F' => (Some(19200), "B"),
        _ => (None, "A"),
    }
}

/// The mode named by the option select's mode control character Y.
pub fn mode_of(c: u8) -> &'static str {
    match c {
        b'0' => "data_readout",
        b'1' => "programming",
        b'2' => "binary",
        b'6'..=b'9' => "manufacturer",
        _ => "reserved",
    }
}

/// The meaning of a command message identifier and command type.
pub fn command_name(c: u8, d: u8) -> Option<&'static str> {
    Some(match (c, d) {
        (b'P', b'0') => "password_operand",
        (b'P', b'1') => "password",
        (b'P', b'2') => "password_secured",
        (b'W', b'1') => "write",
        (b'W', b'2') => "write_formatted",
        (b'W', _) => "write_partial",
        (b'R', b'1') => "read",
        (b'R', b'2') => "read_formatted",
        (b'R', _) => "read_partial",
        (b'E', _) => "execute",
        (b'B', b'0') => "exit",
        (b'B', _) => "break",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn obis_forms() {
        let o = Obis::parse("0-1:24.2.1").unwrap();
        assert_eq!(
            (o.a, o.b, o.c, o.d, o.e),
            (Some(0), Some(1), 24, 2, Some(1))
        );
        assert_eq!(Obis::parse("8.0").unwrap().cde(), (8, 0, None));
        assert_eq!(Obis::parse("C.1.0").unwrap().cde(), (96, 1, Some(0)));
        assert_eq!(Obis::parse("1.8.1*01").unwrap().cde(), (1, 8, Some(1)));
        assert!(Obis::parse("ABC").is_none());
    }

    #[test]
    fn pieces_tile_the_block() {
        let text =
            b"\r\n1-3:0.2.8(50)\r\n0-1:24.2.1(210204163500W)(00123.456*m3)\r\n(1)\r\nX\r\n!\r\n";
        let block = pieces(text, 0..text.len(), true);
        assert!(block.end_mark);
        let ranges: Vec<_> = block.pieces.iter().map(|p| p.range.clone()).collect();
        assert_eq!(ranges, [0..17, 17..42, 42..58, 58..63, 63..66]);
        assert!(block.pieces[3].address.is_none());
        assert!(block.pieces[4].group.is_none());
    }

    #[test]
    fn records_carry_exact_values_and_units() {
        let r = record(Some("8.0"), "001234.567*m3", None);
        assert_eq!(r.quantity, "volume");
        assert_eq!(
            Record::from(r.clone()).number().unwrap().to_string(),
            "1234.567"
        );
        assert_eq!(r.unit.as_deref(), Some("m3"));
        let r = record(Some("1-0:1.8.2"), "000456.789*kWh", None);
        assert_eq!((r.quantity.as_ref(), r.tariff), ("energy", Some(2)));
        assert!(r.modifiers.is_empty());
        let r = record(Some("1-0:2.8.1"), "000001.001*kWh", None);
        assert_eq!(r.modifiers, ["export"]);
        let r = record(Some("1-0:52.7.0"), "220.2*V", None);
        assert_eq!(
            (r.quantity.as_ref(), &r.modifiers[..]),
            ("voltage", &["at_phase_l2".into()][..])
        );
        let r = record(Some("0-1:24.2.1"), "210204163500W", None);
        assert_eq!(r.quantity, "datetime");
        assert_eq!(
            r.value,
            Some(Value::Time(
                Timestamp::parse("2021-02-04T16:35:00").unwrap()
            ))
        );
        let r = record(Some("0-1:24.1.0"), "007", None);
        assert_eq!(
            (r.quantity.as_ref(), r.label.as_deref()),
            ("device_type", Some("water"))
        );
        let r = record(Some("0.9.2"), "250315", None);
        assert_eq!(
            r.value,
            Some(Value::Time(Timestamp::parse("2025-03-15").unwrap()))
        );
        let r = record(Some("1.2.3"), "12*kvarh", None);
        assert_eq!(
            (r.quantity.as_ref(), r.unit.as_deref()),
            ("reactive_energy", Some("kvarh"))
        );
        let r = record(Some("1.2.3"), "12*Mvarh", None);
        assert_eq!(
            (r.unit.as_deref(), r.unit_text.as_deref()),
            (None, Some("Mvarh"))
        );
        let r = record(Some("0.0.0"), "00012345", None);
        assert_eq!(r.value, Some(Value::Text("00012345".into())));
        let r = record(Some("0-1:24.3.0"), "08", None);
        assert_eq!(r.quantity, "other");
        let r = record(Some("0-1:24.3.0"), "00124.477", Some("m3"));
        assert_eq!(
            (r.quantity.as_ref(), r.unit.as_deref()),
            ("volume", Some("m3"))
        );
        let r = record(Some("8.0"), "", None);
        assert_eq!((r.quantity.as_ref(), r.value.is_none()), ("other", true));
    }
}
