//! IEC 62056-21 encoding: a [`Decoded`] model back to the message's bytes.
//!
//! The delimiters, BCC and CRC are written from `link`; the data sets from `records`. A record
//! whose `raw.data` still says what the record says (same address, value and unit when read
//! again) is written from those bytes, so `encode(decode(x)) == x` keeps zero padding, line
//! breaks and the grouping of values on a line. A record without `raw`, or whose value, unit
//! or address was changed, is written `address(value*unit)` CR LF (further values of the same
//! data set on the same line; a command's data set without line break), numbers in their exact digits, DSMR time stamps
//! `YYMMDDhhmmss` + `W`/`S`. `link.parity` sets 7E1 even-parity bits on every byte.
//!
//! DSMR telegrams: the CRC is computed again (written when `link.crc` is present, whatever its
//! value); a telegram whose first record has no `raw` gets the customary empty line after the
//! identification line.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt::Write;

use super::app;
use super::link::{self, ACK, CR, END_MARK, EOT, ETX, LF, NAK, SOH, STX};
use crate::error::{Error, Result};
use crate::model::{Address, Decoded, Iec62056Link, Iec62056Message, Record, Value};

fn model_error(text: &'static str) -> Error {
    Error::model(text)
}

/// Encodes one IEC 62056-21 message (or DSMR telegram) from the model.
pub fn encode(d: &Decoded) -> Result<Vec<u8>> {
    let link = d
        .iec62056_21_link()
        .ok_or(model_error("link fields are not IEC 62056-21 link fields"))?;
    let mut out = Vec::new();
    match link.message {
        Iec62056Message::SignOn => {
            out.extend_from_slice(b"/?");
            out.extend_from_slice(text_field(link.device_address.as_deref(), "")?.as_bytes());
            out.extend_from_slice(b"!\r\n");
        }
        Iec62056Message::Identification => ident_line(link, &mut out)?,
        Iec62056Message::AckOptionSelect => {
            out.push(ACK);
            out.push(one_char(link.protocol_char.as_deref(), Some(b'0'))?);
            let baud = link.baud.and_then(baud_char);
            out.push(one_char(link.baud_char.as_deref(), baud)?);
            let mode = link.mode.as_deref().and_then(mode_char);
            out.push(one_char(link.mode_char.as_deref(), mode)?);
            out.extend_from_slice(&[CR, LF]);
        }
        Iec62056Message::Ack => out.push(ACK),
        Iec62056Message::Nak => out.push(NAK),
        Iec62056Message::Data => {
            out.push(STX);
            write_block(&d.records, &mut out, Block::Data);
            if link.end_mark {
                out.extend_from_slice(&[END_MARK, CR, LF]);
            }
            close_block(link, &mut out);
        }
        Iec62056Message::Error => {
            out.push(STX);
            out.push(b'(');
            out.extend_from_slice(text_field(link.error_text.as_deref(), "ER")?.as_bytes());
            out.push(b')');
            close_block(link, &mut out);
        }
        Iec62056Message::Command | Iec62056Message::Break => {
            out.push(SOH);
            let default_c = (link.message == Iec62056Message::Break).then_some(b'B');
            out.push(one_char(link.command.as_deref(), default_c)?);
            out.push(one_char(link.command_type.as_deref(), Some(b'0'))?);
            if !d.records.is_empty() || link.empty_data {
                out.push(STX);
                write_block(&d.records, &mut out, Block::Command);
            }
            close_block(link, &mut out);
        }
        Iec62056Message::Dsmr => {
            ident_line(link, &mut out)?;
            write_block(&d.records, &mut out, Block::Dsmr);
            out.push(END_MARK);
            if link.crc.is_some() {
                let crc = link::DSMR_CRC.checksum(&out);
                let mut digits = String::new();
                let _ = write!(digits, "{crc:04X}");
                out.extend_from_slice(digits.as_bytes());
            }
            out.extend_from_slice(&[CR, LF]);
        }
    }
    if link.parity {
        for b in &mut out {
            *b = link::with_parity(*b);
        }
    }
    Ok(out)
}

/// ETX (EOT for a partial block) and the BCC over everything after the opening SOH/STX.
fn close_block(link: &Iec62056Link, out: &mut Vec<u8>) {
    out.push(if link.partial { EOT } else { ETX });
    let bcc = link::bcc(out.get(1..).unwrap_or(&[]));
    out.push(bcc);
}

/// Text written into a message: 7-bit characters only.
fn text_field<'a>(text: Option<&'a str>, default: &'a str) -> Result<&'a str> {
    let text = text.unwrap_or(default);
    if text.is_ascii() {
        Ok(text)
    } else {
        Err(model_error(
            "IEC 62056-21 text fields hold 7-bit ASCII only",
        ))
    }
}

/// One 7-bit character from `text`, or `default`.
fn one_char(text: Option<&str>, default: Option<u8>) -> Result<u8> {
    match text.map(str::as_bytes) {
        Some([c]) if c.is_ascii() => Ok(*c),
        Some(_) => Err(model_error(
            "IEC 62056-21 character fields (baud_char, mode_char, protocol_char, command, command_type, enhanced_id) hold one 7-bit character",
        )),
        None => default.ok_or(model_error(
            "IEC 62056-21 message needs its character fields (baud_char, mode_char, command)",
        )),
    }
}

/// The mode C/E baud character of a baud rate.
pub fn baud_char(baud: u32) -> Option<u8> {
    Some(match baud {
        300 => b'0',
        600 => b'1',
        1200 => b'2',
        2400 => b'3',
        4800 => b'4',
        9600 => b'5',
        19200 => b'6',
        _ => return None,
    })
}

/// The mode control character of a mode name.
pub fn mode_char(mode: &str) -> Option<u8> {
    Some(match mode {
        "data_readout" => b'0',
        "programming" => b'1',
        "binary" => b'2',
        _ => return None,
    })
}

/// `/ XXX Z [\W] ident CR LF`.
fn ident_line(link: &Iec62056Link, out: &mut Vec<u8>) -> Result<()> {
    let manufacturer = text_field(link.manufacturer.as_deref(), "")?;
    if manufacturer.len() != 3 {
        return Err(model_error("IEC 62056-21 manufacturer must be 3 letters"));
    }
    out.push(b'/');
    out.extend_from_slice(manufacturer.as_bytes());
    let baud = link.baud.and_then(baud_char);
    out.push(one_char(link.baud_char.as_deref(), baud)?);
    if let Some(e) = link.enhanced_id.as_deref() {
        out.push(b'\\');
        out.push(one_char(Some(e), None)?);
    }
    out.extend_from_slice(text_field(link.identification.as_deref(), "")?.as_bytes());
    out.extend_from_slice(&[CR, LF]);
    Ok(())
}

fn address_text(rec: &Record) -> Option<&str> {
    match &rec.address() {
        Some(Address::Text(a)) => Some(a.as_ref()),
        _ => None,
    }
}

/// The parts of a raw piece: its address (if written) and group content (if any).
struct RawPiece<'a> {
    address: Option<&'a str>,
    group: Option<&'a str>,
    line: &'a str,
}

fn read_piece(raw: &[u8]) -> Option<RawPiece<'_>> {
    if !raw.is_ascii() {
        return None;
    }
    let text = core::str::from_utf8(raw).ok()?;
    let body = text.trim_matches(['\r', '\n']);
    if body.contains(['\r', '\n']) {
        return None;
    }
    let group = body
        .split_once('(')
        .and_then(|(address, rest)| Some((address, rest.strip_suffix(')')?)))
        .filter(|(_, group)| !group.contains(')'));
    Some(RawPiece {
        address: group.and_then(|(a, _)| (!a.is_empty()).then_some(a)),
        group: group.map(|(_, g)| g),
        line: body,
    })
}

/// Whether two values say the same: equal, or a text and a time that print alike (a text
/// value shaped like a time reads back from JSON as a time).
fn same_value(a: Option<&Value>, b: Option<&Value>) -> bool {
    match (a, b) {
        (Some(Value::Text(t)), Some(Value::Time(ts)))
        | (Some(Value::Time(ts)), Some(Value::Text(t))) => ts.to_string() == **t,
        _ => a == b,
    }
}

/// The record's `raw.data`, when it still says what the record says.
fn usable_raw(rec: &Record) -> Option<&[u8]> {
    let raw = rec.raw()?.data();
    let piece = read_piece(raw)?;
    let Some(group) = piece.group else {
        // Text that is no data set: its line is the value.
        let line = (!piece.line.is_empty()).then(|| Value::Text(piece.line.to_string()));
        let plain = rec.address().is_none() && rec.unit().is_none() && rec.unit_text().is_none();
        return (plain && same_value(line.as_ref(), rec.value())).then_some(raw);
    };
    let own = address_text(rec);
    if piece.address.is_some() && piece.address != own {
        return None;
    }
    again_matches(rec, own, group).then_some(raw)
}

/// Whether reading `group` again (as the decoder did) gives the record's value and unit.
fn again_matches(rec: &Record, own: Option<&str>, group: &str) -> bool {
    let unit_before = rec.unit_text().or(rec.unit());
    let again = app::record(own, group, unit_before.filter(|_| !group.contains('*')));
    same_value(again.value.as_ref(), rec.value())
        && again.unit.as_deref() == rec.unit()
        && again.unit_text.as_deref() == rec.unit_text()
        && again.dst == rec.dst()
}

/// The value text of a record written without its source bytes.
fn value_text(rec: &Record) -> String {
    let mut text = String::new();
    match &rec.value() {
        Some(Value::Number(d)) => {
            let _ = write!(text, "{d}");
        }
        Some(Value::Time(t)) => {
            let yy = t.year.map(|y| y % 100);
            match (yy, t.hour) {
                (Some(yy), Some(h)) => {
                    let _ = write!(
                        text,
                        "{yy:02}{:02}{:02}{h:02}{:02}{:02}{}",
                        t.month,
                        t.day,
                        t.minute.unwrap_or(0),
                        t.second.unwrap_or(0),
                        if rec.dst() { 'S' } else { 'W' }
                    );
                }
                (Some(yy), None) => {
                    let _ = write!(text, "{yy:02}{:02}{:02}", t.month, t.day);
                }
                (None, h) => {
                    let _ = write!(
                        text,
                        "{:02}{:02}{:02}",
                        h.unwrap_or(0),
                        t.minute.unwrap_or(0),
                        t.second.unwrap_or(0)
                    );
                }
            }
        }
        Some(Value::Text(t)) => text.push_str(t),
        Some(Value::Bytes(b)) => text.push_str(&crate::hex::to_hex(b.as_slice())),
        None => {}
    }
    text
}

/// Which block the records are written into: data sets of readouts and DSMR telegrams end
/// their lines CR LF; a command's data set has no line break (`R1 STX 8.0() ETX`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Block {
    Data,
    Command,
    Dsmr,
}

/// Writes the records as a data block.
fn write_block(records: &[Record], out: &mut Vec<u8>, block: Block) {
    let dsmr = block == Block::Dsmr;
    let line_break: &[u8] = if block == Block::Command {
        &[]
    } else {
        &[CR, LF]
    };
    let mut line_open = false;
    let mut prev_address: Option<&str> = None;
    for (i, rec) in records.iter().enumerate() {
        let address = address_text(rec);
        if let Some(raw) = usable_raw(rec) {
            // Raw bytes carry their own line breaks (two data sets may share a line).
            out.extend_from_slice(raw);
            line_open = !matches!(raw.last(), Some(&CR | &LF));
        } else {
            if dsmr && i == 0 {
                out.extend_from_slice(&[CR, LF]);
            }
            let continues = line_open && address == prev_address && address.is_some();
            if line_open && !continues {
                out.extend_from_slice(line_break);
            }
            if !continues {
                if let Some(a) = address {
                    out.extend_from_slice(a.as_bytes());
                }
            }
            out.push(b'(');
            out.extend_from_slice(value_text(rec).as_bytes());
            if let Some(unit) = rec.unit_text().or(rec.unit()) {
                out.push(b'*');
                out.extend_from_slice(app::wire_unit(unit).as_bytes());
            }
            out.push(b')');
            let next_continues = records.get(i.saturating_add(1)).is_some_and(|next| {
                address.is_some()
                    && address_text(next) == address
                    && next
                        .raw()
                        .as_ref()
                        .is_none_or(|r| r.data().first() == Some(&b'('))
            });
            if next_continues {
                line_open = true;
            } else {
                out.extend_from_slice(line_break);
                line_open = false;
            }
        }
        prev_address = address;
    }
}
