//! IEC 62056-21 (GB/T 19897.1): the character protocol of the optical (infrared) port, and
//! DSMR P1 telegrams, its mode D derivative on Dutch, Belgian and Luxembourg smart meters.
//!
//! Layers: [`link`] strips 7E1 parity bits and checks a message once ([`link::Message`]:
//! start, structure, BCC, DSMR CRC); [`app`] turns data sets into records; [`encode`] writes
//! the model back; [`request`] builds the messages a reading head sends (and the others, for
//! meter simulators); [`explain`] annotates every byte.
//!
//! ```
//! use meterwire::{decode, Options};
//!
//! // Digest §5 I7: a readout data message, BCC 0x13.
//! let mut frame = b"\x020.0.0(12345678)\r\n8.0(001234.567*m3)\r\n8.1(000012.345*m3)\r\n".to_vec();
//! frame.extend_from_slice(b"0.9.1(083000)\r\n0.9.2(250315)\r\n!\r\n\x03\x13");
//! let d = decode(&frame, &Options::default())?;
//! let link = d.iec62056_21_link().unwrap();
//! assert_eq!(link.message.as_str(), "data");
//! assert_eq!(d.records[1].number().unwrap().to_string(), "1234.567");
//! assert_eq!(d.records[1].unit(), Some("m3"));
//! assert_eq!(meterwire::encode(&d)?, frame);
//! # Ok::<(), meterwire::Error>(())
//! ```
//!
//! # Mapping into the model
//!
//! * `link` (design §2.2): `message` is `sign_on`, `identification`, `ack_option_select`,
//!   `data`, `command`, `ack`, `nak`, `break`, `error`, or `dsmr` for a DSMR telegram. Sign-on:
//!   `device_address` (`""` when none). Identification and DSMR: `manufacturer` (as sent),
//!   `reaction_time_ms_min` (20 when the third letter is lower case, else 200), `baud_char`,
//!   `baud`, `protocol_mode` (`C` for `0`–`9`, `E` when the enhanced identification is `2`,
//!   `B` for `A`–`F`, `A` otherwise; `D` for DSMR telegrams), `enhanced_id`,
//!   `identification`. Option select: `protocol_char`, `baud_char`, `baud`, `mode_char`,
//!   `mode`. Command and break: `command`, `command_type`, `command_name`. Error:
//!   `error_text`. `bcc` on every message that has one, `crc` on DSMR telegrams with one.
//! * `records`: one per value group of a data set, in wire order. `address` is the data-set
//!   identifier (`8.0`, `1-0:1.8.1`, `0-1:24.2.1`), inherited by the further groups of the
//!   same data set. `raw.data` holds the group's source bytes (with the address and line
//!   breaks that belong to it), so encoding is exact. Values with a unit are exact decimals
//!   (`001234.567*m3` → `1234.567`, unit `m3`, quantity `volume`); the unit vocabulary of the
//!   model is used where it has the unit (`m3`, `L`, `m3/h`, `kWh`, `kW`, `V`, `A`, `Hz`, …),
//!   any other unit text goes to `unit_text`. Values without a unit stay text (`0.0.0`
//!   serial numbers keep their leading zeros), except the identifiers meterwire knows:
//!   `0.9.1` time (`hhmmss`) and `0.9.2` date (`YYMMDD`), DSMR time stamps
//!   `YYMMDDhhmmss` + `W`/`S` (`datetime`, `dst` for `S`), `24.1.0` device type (quantity
//!   `device_type`, label the M-Bus medium: `gas`, `water`, …), counters (`96.7.21`,
//!   `96.14.0`, `32.32.0`…). Labels: `import`/`export` (C = 1/2, with `tariff` = E for
//!   energy registers), `serial_number` (`0.0.0`), `equipment_id` (`96.1.x`, quantity
//!   `fabrication_no`), `mbus_reading` and `capture_time` (`24.2.1`: the value and time an
//!   M-Bus sub-meter reported), `timestamp`, `version`, `tariff_indicator`,
//!   `text_message`, `power_failure_log`. Modifiers: `export` (energy delivered by the
//!   client, C = 2, 22, 42, 62) and `at_phase_l1`…`l3` (C = 21–80), so the flat reading keeps
//!   import and export registers and the phases apart. An empty group `()` is a record
//!   without value.
//! * Text that is no data set (a line without `(`) becomes a record with quantity `other`,
//!   its text as value and a warning — kept, never an error.
//! * `meter`: DSMR telegrams name the meter by `0-0:96.1.1` (its hex-of-ASCII decoded when
//!   printable), the header's manufacturer in upper case and medium `electricity`; a data
//!   message with a `0.0.0` or `C.1.0` serial number names the meter by it.
//!
//! # Choices where the standard is lenient, and deviations
//!
//! * **Parity.** A capture taken at 8N1 of a 7E1 line keeps the parity bits in bit 7. When any
//!   byte has bit 7 set, every byte must have even parity (else `malformed` at the first that
//!   does not); bit 7 is stripped before decoding and `link.parity` is set. Encoding sets
//!   even parity on every byte again when `link.parity` is true, so the round trip is exact;
//!   without it, encoding writes 7-bit text (what an 8N1 DSMR port and most logs carry).
//! * **BCC** is the XOR of the 7-bit characters after SOH or STX through ETX/EOT; a wrong BCC
//!   is `checksum` at the BCC's offset. A DSMR CRC (CRC-16/ARC over `/` … `!`) that does not
//!   verify is `crc` at its first hex digit. A DSMR telegram with a bare `!` (DSMR 2.2/3) has
//!   no CRC to verify.
//! * **Error messages** (`STX (ERxx) ETX BCC`): a data block that is one group without
//!   address whose text starts `ER` is `message: error` with `error_text`; any other data
//!   block is `data`. The design contract lists no `dsmr` message, `command_name`,
//!   `error_text`, `reaction_time_ms_min`, `end_mark`, `partial`, `empty_data`, `crc` or
//!   `parity`: they are additions users need (DSMR, round trip).
//! * **Lines.** Data lines normally end CR LF; a lone CR or LF is accepted inside a data
//!   block and kept in `raw`. A line feed without carriage return on a sign-on,
//!   identification or DSMR header line is `malformed` at the LF.
//! * **Identification text** longer than 16 characters (common on DSMR meters) is accepted.
//! * **Streams.** `decode_stream` cuts every message whose structure verifies strictly (BCC or
//!   CRC over text characters, line messages of printable text). A lone ACK or NAK byte is
//!   not cut from a stream (one byte cannot be told from noise): it is reported as garbage;
//!   decode it on its own.
//!
//! # Sources and where they disagree
//!
//! The digest `shared/spec/iec62056-21.md` (worked examples I1–I13, BCCs verified) and the
//! DSMR P1 companion standard. The DSMR 5.0 standard prints its example telegram with the
//! CRC `EF2F`, which does not verify over the printed text: CRC-16/ARC over it is `E47C`
//! (the own vectors use that); the algorithm agrees with real meters' telegrams. The spec
//! corpus files `SOH B0 ETX` under `message: command`; design §2.2 (followed here) has a
//! `break` message for it (`command` and `command_type` still say `B`, `0`).
//!
//! # Detection
//!
//! Auto-detection takes a whole message whose structure verifies strictly (before the other
//! families' rules, which never start with these characters). When no family committed, a
//! message that starts `/` + text, STX + text, SOH + a command letter, ACK + a digit commits
//! to IEC 62056-21, so a broken message is this family's error; frames of the other
//! families that reach the optical port (M-Bus `10`/`68`/`E5`, CJ/T 188 `FE* 68`) still go to
//! their own decoders, and a Modbus RTU frame of unit 1 or 2 (`01 03 …`) is not taken for a
//! command.

pub mod app;
pub mod encode;
pub mod explain;
pub mod link;
pub mod request;

use alloc::borrow::Cow;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::error::Result;
use crate::framing::{Lead, Search};
use crate::model::{
    Code16, Code8, Decoded, Iec62056Link, Iec62056Message, Link, Meter, Protocol, ShortText, Value,
};
use crate::protocol::{Codec, DetectStep, Detection, Framing, Stage};
use crate::Options;
use link::{IdentParts, Layout, Message};

/// The registry entry of IEC 62056-21 ([`crate::protocol`]).
pub static CODEC: Codec = Codec {
    protocol: Protocol::Iec62056_21,
    title: "IEC 62056-21 (optical)",
    detect: &[
        DetectStep::new(Stage::WholeFrame, detect_whole_message),
        DetectStep::new(Stage::Fallback, detect_leading_bytes),
    ],
    decode,
    encode: Some(encode_model),
    framing: Some(
        Framing::new(
            Search::AlwaysAloneWhenNamed,
            Lead::First(link::STREAM_LEAD),
            link::scan,
            Framing::no_requests,
        )
        .with_block_filter(link::block_filter),
    ),
};

/// A whole message whose structure verifies strictly.
fn detect_whole_message(bytes: &[u8]) -> Detection {
    // Every message opens with one of these (7E1 parity bit ignored): others are not looked
    // at further (and not copied to strip their parity bits).
    let first = bytes.first()? & 0x7F;
    if !matches!(
        first,
        link::SLASH | link::STX | link::SOH | link::ACK | link::NAK
    ) {
        return None;
    }
    let (text, _) = link::strip_parity(bytes).ok()?;
    link::verifies_strictly(&text).then_some(Ok(Protocol::Iec62056_21))
}

/// The leading characters of a message (parity bits ignored), when no family committed.
fn detect_leading_bytes(bytes: &[u8]) -> Detection {
    let c = |i: usize| bytes.get(i).map(|b| b & 0x7F);
    let text_or_end = |i: usize| {
        c(i).is_none_or(|b| (0x20..0x7F).contains(&b) || matches!(b, link::CR | link::LF))
    };
    let commits = match c(0)? {
        link::SLASH | link::STX => text_or_end(1) && text_or_end(2),
        link::SOH => {
            c(1).is_none_or(|b| matches!(b, b'P' | b'W' | b'R' | b'E' | b'B'))
                && c(2).is_none_or(|b| b.is_ascii_digit())
        }
        link::ACK => c(1).is_none_or(|b| b.is_ascii_digit()),
        _ => false,
    };
    commits.then_some(Ok(Protocol::Iec62056_21))
}

fn encode_model(decoded: &Decoded, _: &Options) -> Result<Vec<u8>> {
    encode::encode(decoded)
}

/// The identification fields of an identification line.
fn ident_fields(m: &Message<'_>, ident: &IdentParts, link: &mut Iec62056Link) {
    let manufacturer = m.str(ident.manufacturer.clone());
    let baud_char = m.byte(ident.baud_char);
    let (baud, mut mode) = app::baud_of(baud_char);
    let enhanced = ident.enhanced_id.map(|i| m.byte(i));
    if mode == "C" && enhanced == Some(b'2') {
        mode = "E";
    }
    link.reaction_time_ms_min = Some(
        if manufacturer
            .as_bytes()
            .get(2)
            .is_some_and(u8::is_ascii_lowercase)
        {
            20
        } else {
            200
        },
    );
    link.manufacturer = Some(manufacturer.to_string());
    link.baud_char = Some(char::from(baud_char).to_string());
    link.baud = baud;
    link.protocol_mode = Some(Cow::Borrowed(mode));
    link.enhanced_id = enhanced.map(|e| char::from(e).to_string());
    link.identification = Some(m.str(ident.identification.clone()).to_string());
}

/// Decodes exactly one IEC 62056-21 message or DSMR telegram (7E1 parity bits allowed).
pub fn decode(bytes: &[u8], opts: &Options) -> Result<Decoded> {
    // A first byte no message starts with is a start error, parity bit or not.
    if let Some(&first) = bytes.first().filter(|b| !link::starts_message(**b)) {
        return Err(link::start_error(first));
    }
    let (text, parity) = link::strip_parity(bytes)?;
    let m = Message::new_checked(&text)?;
    let mut out = decode_message(&m)?;
    if let Some(Link::Iec62056_21(link)) = Some(&mut out.link) {
        link.parity = parity;
    }
    if opts.explain {
        out.spans = explain::spans(&m, &out);
    }
    Ok(out)
}

fn decode_message(m: &Message<'_>) -> Result<Decoded> {
    let text = m.text();
    let mut warnings = Vec::new();
    let mut records = Vec::new();
    let link = match m.layout_ref() {
        Layout::SignOn { address } => {
            let mut link = Iec62056Link::new(Iec62056Message::SignOn);
            link.device_address = Some(m.str(address.clone()).to_string());
            link
        }
        Layout::Identification(ident) => {
            let mut link = Iec62056Link::new(Iec62056Message::Identification);
            ident_fields(m, ident, &mut link);
            link
        }
        Layout::OptionSelect => {
            let mut link = Iec62056Link::new(Iec62056Message::AckOptionSelect);
            let (v, z, y) = (m.byte(1), m.byte(2), m.byte(3));
            link.protocol_char = Some(char::from(v).to_string());
            link.baud_char = Some(char::from(z).to_string());
            link.baud = app::baud_of(z).0;
            link.mode_char = Some(char::from(y).to_string());
            link.mode = Some(Cow::Borrowed(app::mode_of(y)));
            link
        }
        Layout::Ack => Iec62056Link::new(Iec62056Message::Ack),
        Layout::Nak => Iec62056Link::new(Iec62056Message::Nak),
        Layout::Data { block, bcc_at } => {
            let content = m.str(block.clone());
            let error_text = content
                .strip_prefix('(')
                .and_then(|c| c.strip_suffix(')'))
                .filter(|c| {
                    c.starts_with("ER")
                        && c.bytes()
                            .all(|b| (0x20..0x7F).contains(&b) && b != b'(' && b != b')')
                });
            let mut link = match error_text {
                Some(e) => {
                    let mut link = Iec62056Link::new(Iec62056Message::Error);
                    link.error_text = Some(e.to_string());
                    link
                }
                None => {
                    let mut link = Iec62056Link::new(Iec62056Message::Data);
                    let b = app::pieces(text, block.clone(), true);
                    link.end_mark = b.end_mark;
                    app::records(text, &b, &mut records, &mut warnings);
                    link
                }
            };
            link.partial = m.byte(bcc_at.saturating_sub(1)) == link::EOT;
            link.bcc = Some(Code8(m.byte(*bcc_at)));
            link
        }
        Layout::Command { block, bcc_at } => {
            let (c, d) = (m.byte(1), m.byte(2));
            let mut link = Iec62056Link::new(if c == b'B' {
                Iec62056Message::Break
            } else {
                Iec62056Message::Command
            });
            link.command = Some(char::from(c).to_string());
            link.command_type = Some(char::from(d).to_string());
            link.command_name = app::command_name(c, d).map(Cow::Borrowed);
            if let Some(block) = block {
                let b = app::pieces(text, block.clone(), false);
                link.empty_data = b.pieces.is_empty();
                app::records(text, &b, &mut records, &mut warnings);
            }
            link.partial = m.byte(bcc_at.saturating_sub(1)) == link::EOT;
            link.bcc = Some(Code8(m.byte(*bcc_at)));
            link
        }
        Layout::Dsmr {
            ident,
            body,
            crc_at,
            ..
        } => {
            let mut link = Iec62056Link::new(Iec62056Message::Dsmr);
            ident_fields(m, ident, &mut link);
            link.protocol_mode = Some(Cow::Borrowed("D"));
            let b = app::pieces(text, body.clone(), false);
            app::records(text, &b, &mut records, &mut warnings);
            link.crc = crc_at
                .and_then(|at| u16::from_str_radix(m.str(at..at.saturating_add(4)), 16).ok())
                .map(Code16);
            link
        }
    };
    let meter = meter_of(&link, &records);
    let mut out = Decoded::new(Protocol::Iec62056_21, Link::Iec62056_21(link));
    out.meter = meter;
    out.records = records;
    out.warnings = warnings;
    Ok(out)
}

/// The hex-of-ASCII text of a DSMR equipment identifier, when it decodes to printable text.
fn hex_ascii(text: &str) -> Option<String> {
    if text.is_empty() || text.len() % 2 != 0 {
        return None;
    }
    let bytes = crate::hex::parse_hex(text).ok()?;
    bytes
        .iter()
        .all(|b| (0x20..0x7F).contains(b))
        .then(|| bytes.iter().map(|b| char::from(*b)).collect())
}

/// The meter named by a DSMR telegram's or a readout's identifiers.
fn meter_of(link: &Iec62056Link, records: &[crate::Record]) -> Option<Meter> {
    let text_of = |label: &str, main_channel: bool| {
        records.iter().find_map(|r| {
            let address = match &r.address() {
                Some(crate::model::Address::Text(a)) => a.as_ref(),
                _ => return None,
            };
            let on_main = !address.contains(':') || address.starts_with("0-0:");
            match (&r.value(), r.label()) {
                (Some(Value::Text(t)), Some(l)) if l == label && (on_main || !main_channel) => {
                    Some(t.clone())
                }
                _ => None,
            }
        })
    };
    match link.message {
        Iec62056Message::Dsmr => {
            let id = text_of("equipment_id", true)
                .map(|t| hex_ascii(&t).unwrap_or(t))
                .unwrap_or_default();
            let id = id.trim();
            Some(Meter {
                id: ShortText::new(id).unwrap_or_default(),
                manufacturer: link
                    .manufacturer
                    .as_deref()
                    .and_then(|m| ShortText::new(&m.to_ascii_uppercase())),
                medium: Some(Cow::Borrowed("electricity")),
                ..Meter::default()
            })
        }
        Iec62056Message::Data => {
            let id = text_of("serial_number", true).or_else(|| text_of("equipment_id", true))?;
            Some(Meter {
                id: ShortText::new(&id)?,
                ..Meter::default()
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests;
