//! EN 13757-3 application layer of wired M-Bus: the CI field (`mbus-tables.md` §8), the long
//! and short headers, the fixed data structure (§13), application errors (§9.2), alarms,
//! selection (§14) and baud-rate switches.

use alloc::borrow::Cow;
use alloc::format;
use alloc::string::String;

use super::datatypes::{bcd, bcd_digits, int_le};
use super::record::{self, Context};
use super::tables;
use crate::decimal::Decimal;
use crate::error::{Detail, Error, ErrorKind, Layer, Result};
use crate::model::{
    ApplicationError, Bytes, Code16, Code8, Decoded, Function, Link, Meter, RecordFields,
    ShortText, StatusFlag, Tpl, Value,
};
use crate::reader::Reader;

/// Offsets inside the 12-byte long header (after the CI).
pub mod long_header {
    use core::ops::Range;
    /// Identification number, 8 BCD digits.
    pub const ID: Range<usize> = 0..4;
    /// Manufacturer.
    pub const MANUFACTURER: Range<usize> = 4..6;
    /// Version.
    pub const VERSION: usize = 6;
    /// Medium / device type.
    pub const MEDIUM: usize = 7;
    /// Length of the part shared with the secondary address (ID, M, version, medium).
    pub const ADDRESS_LEN: usize = 8;
    /// Access number.
    pub const ACCESS: usize = 8;
    /// Status.
    pub const STATUS: usize = 9;
    /// Signature / configuration field.
    pub const CONFIG: Range<usize> = 10..12;
    /// Total length.
    pub const LEN: usize = 12;
}

/// Offsets inside the 16-byte fixed data structure (after CI 73/77).
pub mod fixed {
    use core::ops::Range;
    /// Identification number, 8 BCD digits.
    pub const ID: Range<usize> = 0..4;
    /// Access number.
    pub const ACCESS: usize = 4;
    /// Status (bit 0 binary counters, bit 1 stored values).
    pub const STATUS: usize = 5;
    /// Medium bits 1–0 and counter 1 unit.
    pub const MEDIUM_UNIT_1: usize = 6;
    /// Medium bits 3–2 and counter 2 unit.
    pub const MEDIUM_UNIT_2: usize = 7;
    /// Counter 1.
    pub const COUNTER_1: Range<usize> = 8..12;
    /// Counter 2.
    pub const COUNTER_2: Range<usize> = 12..16;
    /// Total length.
    pub const LEN: usize = 16;
}

fn byte(bytes: &[u8], at: usize) -> u8 {
    bytes.get(at).copied().unwrap_or(0)
}

fn word(bytes: &[u8], range: core::ops::Range<usize>, msb_first: bool) -> u16 {
    let b = bytes.get(range).unwrap_or(&[]);
    let pair = [
        b.first().copied().unwrap_or(0),
        b.get(1).copied().unwrap_or(0),
    ];
    if msb_first {
        u16::from_be_bytes(pair)
    } else {
        u16::from_le_bytes(pair)
    }
}

/// The 8 hex digits of an LSB-first (or MSB-first) BCD identification number.
fn id_text(bytes: &[u8], msb_first: bool) -> ShortText {
    let mut text = ShortText::default();
    if msb_first {
        let mut reversed = [0u8; 4];
        for (d, s) in reversed.iter_mut().zip(bytes.iter().rev()) {
            *d = *s;
        }
        let _ = bcd_digits(&reversed, &mut text);
    } else {
        let _ = bcd_digits(bytes, &mut text);
    }
    text
}

/// The meter identity of the 8-byte secondary address (ID, M, version, medium).
fn secondary_address(h: &[u8], msb_first: bool) -> Meter {
    let manufacturer = word(h, long_header::MANUFACTURER, msb_first);
    let medium = byte(h, long_header::MEDIUM);
    Meter {
        id: id_text(h.get(long_header::ID).unwrap_or(&[]), msb_first),
        manufacturer: Some(tables::manufacturer_letters(manufacturer)),
        manufacturer_code: Some(Code16(manufacturer)),
        version: Some(byte(h, long_header::VERSION)),
        medium: Some(Cow::Borrowed(tables::medium_name(medium))),
        medium_code: Some(Code8(medium)),
        access_no: None,
        status: None,
    }
}

fn set_tpl(out: &mut Decoded, tpl: Tpl, config: Option<u16>, msb_first: bool) {
    #[allow(irrefutable_let_patterns)]
    let Link::Mbus(link) = &mut out.link
    else {
        return;
    };
    link.tpl = Some(tpl);
    link.config = config.map(Code16);
    if msb_first {
        link.byte_order = Some(Cow::Borrowed("msb_first"));
    }
}

/// Security mode of a configuration field (bits 12–8), as in OMS.
fn security_mode(config: u16) -> u8 {
    u8::try_from((config >> 8) & 0x1F).unwrap_or(0)
}

/// Decodes the application layer of one long or control frame.
///
/// `user_data` starts at absolute offset `base` of the input; `c` is the link C field.
pub fn decode(ci: u8, user_data: &[u8], base: usize, c: u8, out: &mut Decoded) -> Result<()> {
    let master_to_slave = super::link::is_master_to_slave(c);
    let ctx = Context {
        master_to_slave,
        msb_first: false,
    };
    match ci {
        0x72 | 0x76 | 0x53 | 0x55 | 0x5B => {
            let msb_first = ci == 0x76;
            let mut r = Reader::new(user_data, base);
            let h = r.take(long_header::LEN, "long header (CI 72)")?;
            let config = word(h, long_header::CONFIG, msb_first);
            let mut meter = secondary_address(h, msb_first);
            meter.access_no = Some(byte(h, long_header::ACCESS));
            let status = byte(h, long_header::STATUS);
            meter.status = Some(status);
            out.meter = Some(meter);
            out.status = Some(tables::header_status(status));
            set_tpl(out, Tpl::Long, Some(config), msb_first);
            records_or_encrypted(&mut r, Context { msb_first, ..ctx }, config, out)
        }
        0x7A | 0x5A => {
            let mut r = Reader::new(user_data, base);
            let h = r.take(4, "short header (CI 7A)")?;
            let config = word(h, 2..4, false);
            let status = byte(h, 1);
            out.status = Some(tables::header_status(status));
            set_tpl(out, Tpl::Short, Some(config), false);
            // A short header carries access number and status but no identity.
            out.meter = Some(Meter {
                access_no: Some(byte(h, 0)),
                status: Some(status),
                ..Meter::default()
            });
            records_or_encrypted(&mut r, ctx, config, out)
        }
        0x78 | 0x51 => {
            set_tpl(out, Tpl::None, None, false);
            let mut r = Reader::new(user_data, base);
            record::parse_records(&mut r, ctx, out)
        }
        0x73 | 0x77 => decode_fixed(user_data, base, ci == 0x77, out),
        0x70 => {
            let code = user_data.first().copied();
            let code_value = code.unwrap_or(0);
            out.application_error = Some(ApplicationError {
                code: code_value,
                name: Cow::Borrowed(tables::application_error_name(code_value)),
                detail: Bytes::new(user_data.get(1..).unwrap_or(&[])),
            });
            let mut status = crate::model::Status {
                raw: u32::from(code_value),
                ..crate::model::Status::default()
            };
            status.flags.insert(if code_value == 0x08 {
                StatusFlag::ApplicationBusy
            } else {
                StatusFlag::ApplicationError
            });
            out.status = Some(status);
            Ok(())
        }
        0x71 => {
            let Some(&alarm) = user_data.first() else {
                return Err(Error::new(
                    ErrorKind::Malformed,
                    Layer::Application,
                    base,
                    Detail::Short {
                        what: "alarm (CI 71)",
                        needed: 1,
                        available: 0,
                    },
                ));
            };
            out.alarm = Some(alarm);
            if let Some(rest) = user_data.get(1..).filter(|r| !r.is_empty()) {
                out.application_data = Some(Bytes::new(rest));
            }
            Ok(())
        }
        0x52 | 0x56 => {
            let mut r = Reader::new(user_data, base);
            let h = r.take(long_header::ADDRESS_LEN, "secondary address (CI 52)")?;
            let mut meter = secondary_address(h, false);
            // All-ones fields of a selection are wildcards (§14.1): keep the codes, drop the
            // names they would otherwise print as.
            if meter.manufacturer_code == Some(Code16(0xFFFF)) {
                meter.manufacturer = None;
            }
            if meter.version == Some(0xFF) {
                meter.version = None;
            }
            if meter.medium_code == Some(Code8(0xFF)) {
                meter.medium = None;
            }
            out.meter = Some(meter);
            set_tpl(out, Tpl::None, None, false);
            if ci == 0x56 {
                out.warnings.push(String::from(
                    "CI 56: selection mode 2 in the old CI list, deselection for some masters",
                ));
            }
            record::parse_records(&mut r, ctx, out)
        }
        0x50 => {
            if !user_data.is_empty() {
                out.application_data = Some(Bytes::new(user_data));
            }
            Ok(())
        }
        0xB8..=0xBF => {
            let baud = 300i128.wrapping_shl(u32::from(ci.wrapping_sub(0xB8)));
            let mut rec = RecordFields::new("baud_rate");
            rec.value = Some(Value::Number(Decimal::from_int(baud)));
            rec.unit = Some(Cow::Borrowed("Bd"));
            out.records.push(rec.into());
            if !user_data.is_empty() {
                out.application_data = Some(Bytes::new(user_data));
            }
            Ok(())
        }
        0xA0..=0xB7 => {
            out.manufacturer_data = Some(Bytes::new(user_data));
            Ok(())
        }
        _ => {
            out.warnings.push(format!(
                "CI 0x{ci:02X} is not decoded; its data is kept as hex"
            ));
            if !user_data.is_empty() {
                out.application_data = Some(Bytes::new(user_data));
            }
            Ok(())
        }
    }
}

/// Reads the records after a header, or keeps them as encrypted data when the configuration
/// field names AES security mode 5 or 7 over whole 16-byte blocks and no key is at hand
/// (design §3). Other values of a wired header's signature field are common on meters that
/// predate the configuration field, so they do not mean encryption.
/// Whether the configuration word announces encrypted blocks (security mode 5 or 7) that the
/// records after the header (`rest`) can hold. Records that then begin with `2F 2F` were
/// decrypted already.
pub(crate) fn encryption_announced(config: u16, rest: &[u8]) -> bool {
    let blocks = usize::from(u8::try_from((config >> 4) & 0x0F).unwrap_or(0));
    matches!(security_mode(config), 5 | 7) && blocks > 0 && blocks.saturating_mul(16) <= rest.len()
}

fn records_or_encrypted(
    r: &mut Reader<'_>,
    ctx: Context,
    config: u16,
    out: &mut Decoded,
) -> Result<()> {
    if encryption_announced(config, r.rest()) {
        if r.rest().starts_with(&[0x2F, 0x2F]) {
            out.warnings.push(String::from("already_decrypted"));
        } else {
            let mode = security_mode(config);
            out.encrypted = true;
            out.encrypted_data = Some(Bytes::new(r.take_rest()));
            out.warnings.push(format!(
                "payload encrypted with security mode {mode}: no key given"
            ));
            return Ok(());
        }
    }
    record::parse_records(r, ctx, out)
}

/// The fixed data structure of CI 73/77 (§13).
fn decode_fixed(data: &[u8], base: usize, msb_first: bool, out: &mut Decoded) -> Result<()> {
    if data.len() != fixed::LEN {
        return Err(Error::new(
            ErrorKind::Malformed,
            Layer::Application,
            base.saturating_add(data.len().min(fixed::LEN)),
            Detail::Short {
                what: "fixed data structure (CI 73)",
                needed: fixed::LEN,
                available: data.len(),
            },
        ));
    }
    let status = byte(data, fixed::STATUS);
    let b1 = byte(data, fixed::MEDIUM_UNIT_1);
    let b2 = byte(data, fixed::MEDIUM_UNIT_2);
    let medium = ((b2 >> 6) << 2) | (b1 >> 6);
    out.meter = Some(Meter {
        id: id_text(data.get(fixed::ID).unwrap_or(&[]), msb_first),
        medium: Some(Cow::Borrowed(tables::fixed_medium_name(medium))),
        medium_code: Some(Code8(medium)),
        access_no: Some(byte(data, fixed::ACCESS)),
        status: Some(status),
        ..Meter::default()
    });
    out.status = Some(tables::fixed_status(status));
    set_tpl(out, Tpl::Fixed, None, msb_first);
    let binary = status & 0x01 != 0;
    let stored = status & 0x02 != 0;
    let unit1 = tables::fixed_unit(b1 & 0x3F);
    let code2 = b2 & 0x3F;
    let (unit2, historic) = if code2 == 0x3E {
        (unit1, true)
    } else {
        (tables::fixed_unit(code2), false)
    };
    for (i, (range, unit, code, historic)) in [
        (fixed::COUNTER_1, unit1, b1 & 0x3F, false),
        (fixed::COUNTER_2, unit2, code2, historic),
    ]
    .into_iter()
    .enumerate()
    {
        let raw = data.get(range.clone()).unwrap_or(&[]);
        let mut ordered = [0u8; 4];
        for (d, s) in ordered.iter_mut().zip(raw.iter()) {
            *d = *s;
        }
        if msb_first {
            ordered.reverse();
        }
        let mantissa = if binary {
            int_le(&ordered, true)
        } else {
            bcd(&ordered)
        };
        let mut rec = RecordFields::new(unit.map_or("other", |u| u.quantity));
        rec.storage = Some(u64::from(stored || historic));
        rec.function = Some(Function::Instantaneous);
        if historic {
            rec.label = Some(Cow::Borrowed("historic"));
        }
        match (unit, mantissa) {
            (Some(u), Some(m)) => {
                rec.unit = u.unit.map(Cow::Borrowed);
                rec.value = Decimal::new(m, u.exponent).map(Value::Number);
            }
            (None, Some(m)) => {
                out.warnings.push(format!(
                    "fixed structure counter {}: reserved unit code 0x{code:02X}",
                    i.saturating_add(1)
                ));
                rec.value = Some(Value::Number(Decimal::from_int(m)));
            }
            (_, None) => rec.invalid = true,
        }
        rec.raw = Some(crate::model::RawRecord::from_parts(0, raw, 0, 0));
        out.records.push(rec.into());
    }
    Ok(())
}
