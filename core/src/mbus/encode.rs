//! Wired M-Bus encoding: a [`Decoded`] model back to bytes.
//!
//! The model carries every encoding choice: `raw` keeps each record's DIF/DIFE and VIF/VIFE
//! bytes and its data; the link and header fields keep the codes. So `encode(decode(x)) == x`
//! for every well-formed frame. When a record's value was changed (a meter simulator), the
//! new value is written in the same data coding as before; a record without `raw` gets a DIF
//! and VIF chosen from its quantity, unit, storage, tariff, subunit and function.

use alloc::vec::Vec;

use super::app::{fixed, long_header};
use super::link::{self, field, LongFrame, ShortFrame};
use super::record::{self, Context, Lvar};
use super::tables;
use super::vif::Coding;
use crate::decimal::Decimal;
use crate::error::{Detail, Error, ErrorKind, Layer, Result};
use crate::model::{
    Decoded, Function, LinkFunction, MbusFrameKind, MbusLink, Meter, Record, Timestamp, Value,
};
use crate::reader::Reader;

/// An error about the model given to `encode`.
fn model_error(text: &'static str) -> Error {
    Error::model(text)
}

/// Encodes one wired M-Bus frame from the model.
pub fn encode(d: &Decoded) -> Result<Vec<u8>> {
    let link = d
        .mbus_link()
        .ok_or(model_error("link fields are not M-Bus link fields"))?;
    match link.kind {
        MbusFrameKind::Ack => Ok(alloc::vec![link::ACK]),
        MbusFrameKind::Short => {
            let mut out = alloc::vec![0u8; field::SHORT_LEN];
            ShortFrame::new_unchecked(&mut out[..]).emit(c_field(link)?, link.a.unwrap_or(0));
            Ok(out)
        }
        MbusFrameKind::Control | MbusFrameKind::Long => {
            let ci = link
                .ci
                .ok_or(model_error("a long or control frame needs link.ci"))?
                .0;
            let mut user_data = Vec::new();
            if link.kind == MbusFrameKind::Long {
                emit_application(ci, d, link, &mut user_data)?;
            }
            long_frame(c_field(link)?, link.a.unwrap_or(0), ci, &user_data)
        }
    }
}

/// A control or long frame around `user_data`.
pub fn long_frame(c: u8, a: u8, ci: u8, user_data: &[u8]) -> Result<Vec<u8>> {
    if user_data.len() > 252 {
        return Err(Error::new(
            ErrorKind::Length,
            Layer::Link,
            0,
            Detail::TooMany {
                what: "bytes of user data in one frame (L is one byte)",
                max: 252,
            },
        ));
    }
    let mut out = alloc::vec![0u8; LongFrame::<&[u8]>::buffer_len(user_data.len())];
    let mut frame = LongFrame::new_unchecked(&mut out[..]);
    frame.set_envelope();
    frame.set_c_field(c);
    frame.set_a_field(a);
    frame.set_ci_field(ci);
    frame.user_data_mut().copy_from_slice(user_data);
    frame.fill_checksum();
    Ok(out)
}

/// The C field: `link.c` when given, else built from the function and its bits.
fn c_field(link: &MbusLink) -> Result<u8> {
    if let Some(c) = link.c {
        return Ok(c.0);
    }
    let bit = |b: Option<bool>, mask: u8| if b.unwrap_or(false) { mask } else { 0 };
    Ok(match link.function {
        Some(LinkFunction::SndNke) => 0x40,
        Some(LinkFunction::SndUd) => {
            0x43 | bit(link.fcb, 0x20) | bit(link.fcv.or(Some(true)), 0x10)
        }
        Some(LinkFunction::ReqUd1) => {
            0x4A | bit(link.fcb, 0x20) | bit(link.fcv.or(Some(true)), 0x10)
        }
        Some(LinkFunction::ReqUd2) => {
            0x4B | bit(link.fcb, 0x20) | bit(link.fcv.or(Some(true)), 0x10)
        }
        Some(LinkFunction::RspUd) => 0x08 | bit(link.acd, 0x20) | bit(link.dfc, 0x10),
        None => return Err(model_error("link needs c or function")),
    })
}

fn emit_application(ci: u8, d: &Decoded, link: &MbusLink, out: &mut Vec<u8>) -> Result<()> {
    let master_to_slave = link::is_master_to_slave(c_field(link)?);
    let msb_first = link.byte_order.as_deref() == Some("msb_first");
    let ctx = Context {
        master_to_slave,
        msb_first,
    };
    match ci {
        0x72 | 0x76 | 0x53 | 0x55 | 0x5B => {
            let meter = d
                .meter
                .as_ref()
                .ok_or(model_error("a long header needs meter"))?;
            emit_address(meter, msb_first, false, out)?;
            out.push(meter.access_no.unwrap_or(0));
            out.push(meter.status.unwrap_or(0));
            push_u16(out, link.config.map_or(0, |c| c.0), msb_first);
            emit_body(d, ctx, out)
        }
        0x7A | 0x5A => {
            let meter = d.meter.as_ref();
            out.push(meter.and_then(|m| m.access_no).unwrap_or(0));
            out.push(meter.and_then(|m| m.status).unwrap_or(0));
            push_u16(out, link.config.map_or(0, |c| c.0), false);
            emit_body(d, ctx, out)
        }
        0x78 | 0x51 => emit_body(d, ctx, out),
        0x52 | 0x56 => {
            let meter = d
                .meter
                .as_ref()
                .ok_or(model_error("a selection needs meter"))?;
            emit_address(meter, false, true, out)?;
            emit_body(d, ctx, out)
        }
        0x73 | 0x77 => emit_fixed(d, msb_first, out),
        0x70 => {
            if let Some(e) = &d.application_error {
                out.push(e.code);
                out.extend_from_slice(e.detail.as_slice());
            }
            Ok(())
        }
        0x71 => {
            out.push(d.alarm.ok_or(model_error("CI 71 needs alarm"))?);
            extend_opt(out, d.application_data.as_ref());
            Ok(())
        }
        0xA0..=0xB7 => {
            extend_opt(out, d.manufacturer_data.as_ref());
            Ok(())
        }
        _ => {
            extend_opt(out, d.application_data.as_ref());
            Ok(())
        }
    }
}

fn extend_opt(out: &mut Vec<u8>, bytes: Option<&crate::model::Bytes>) {
    if let Some(b) = bytes {
        out.extend_from_slice(b.as_slice());
    }
}

fn push_u16(out: &mut Vec<u8>, v: u16, msb_first: bool) {
    if msb_first {
        out.extend_from_slice(&v.to_be_bytes());
    } else {
        out.extend_from_slice(&v.to_le_bytes());
    }
}

/// The 8 hex digits of an id as 4 BCD bytes, LSB first (`F` digits are selection wildcards).
fn id_bytes(id: &str) -> Result<[u8; 4]> {
    if id.is_empty() || id.len() > 8 {
        return Err(model_error("meter.id must be 1 to 8 hex digits for M-Bus"));
    }
    let mut digits = [0u8; 8];
    let pad = 8usize.saturating_sub(id.len());
    for (i, c) in id.bytes().enumerate() {
        let v = (c as char)
            .to_digit(16)
            .ok_or(model_error("meter.id must be hex digits"))?;
        if let Some(slot) = digits.get_mut(pad.saturating_add(i)) {
            *slot = u8::try_from(v).unwrap_or(0);
        }
    }
    let mut out = [0u8; 4];
    for (i, slot) in out.iter_mut().enumerate() {
        let hi = digits
            .get(6usize.saturating_sub(i.saturating_mul(2)))
            .copied()
            .unwrap_or(0);
        let lo = digits
            .get(7usize.saturating_sub(i.saturating_mul(2)))
            .copied()
            .unwrap_or(0);
        *slot = (hi << 4) | lo;
    }
    Ok(out)
}

fn manufacturer_field(meter: &Meter) -> Option<u16> {
    meter.manufacturer_code.map(|c| c.0).or_else(|| {
        meter
            .manufacturer
            .as_ref()
            .and_then(|m| tables::manufacturer_code(m.as_str()))
    })
}

fn medium_field(meter: &Meter) -> Option<u8> {
    meter.medium_code.map(|c| c.0).or_else(|| {
        let name = meter.medium.as_deref()?;
        (0..=u8::MAX).find(|code| tables::medium_name(*code) == name && name != "reserved")
    })
}

/// ID, manufacturer, version, medium: the long header's first 8 bytes (the secondary
/// address). In a selection, missing fields are wildcards (all ones).
pub(crate) fn emit_address(
    meter: &Meter,
    msb_first: bool,
    select: bool,
    out: &mut Vec<u8>,
) -> Result<()> {
    let mut id = id_bytes(meter.id.as_str())?;
    if msb_first {
        id.reverse();
    }
    out.extend_from_slice(&id);
    let wildcard = |what| {
        if select {
            Ok(0xFFFF)
        } else {
            Err(model_error(what))
        }
    };
    let manufacturer = match manufacturer_field(meter) {
        Some(m) => m,
        None => wildcard("meter.manufacturer or manufacturer_code is needed")?,
    };
    push_u16(out, manufacturer, msb_first);
    let byte_or = |v: Option<u8>, what| match v {
        Some(v) => Ok(v),
        None if select => Ok(0xFF),
        None => Err(model_error(what)),
    };
    out.push(byte_or(meter.version, "meter.version is needed")?);
    out.push(byte_or(
        medium_field(meter),
        "meter.medium_code (or a medium name) is needed",
    )?);
    debug_assert_eq!(long_header::ADDRESS_LEN, 8);
    Ok(())
}

/// Records, trailing fillers and manufacturer data, or the encrypted bytes.
pub(crate) fn emit_body(d: &Decoded, ctx: Context, out: &mut Vec<u8>) -> Result<()> {
    if d.encrypted {
        extend_opt(out, d.encrypted_data.as_ref());
        return Ok(());
    }
    // Records read out of manufacturer data are written back as those bytes, below.
    for rec in d
        .records
        .iter()
        .filter(|r| !crate::wmbus::vendor::is_read_from_manufacturer_data(r))
    {
        emit_record(rec, ctx, out)?;
    }
    out.extend(core::iter::repeat_n(
        record::FILLER,
        usize::from(d.trailing_fill),
    ));
    if let Some(m) = &d.manufacturer_data {
        out.push(if d.more_records_follow { 0x1F } else { 0x0F });
        out.extend_from_slice(m.as_slice());
    } else if d.more_records_follow {
        out.push(0x1F);
    }
    Ok(())
}

/// One record: its raw bytes when its value is unchanged, else the value written in the
/// record's coding, or a DIF/VIF chosen for it when it has no raw bytes.
pub fn emit_record(rec: &Record, ctx: Context, out: &mut Vec<u8>) -> Result<()> {
    let Some(raw) = &rec.raw() else {
        return emit_fresh_record(rec, out);
    };
    out.extend(core::iter::repeat_n(record::FILLER, usize::from(raw.fill)));
    let dif = raw.dif();
    let vif = raw.vif();
    if dif.is_empty() || (vif.is_empty() && dif != [0x7F]) {
        return Err(model_error("record.raw needs dif and vif"));
    }
    out.extend_from_slice(dif);
    out.extend_from_slice(vif);
    if dif == [0x7F] {
        return Ok(());
    }
    // Re-read the raw record: if it says what the record says, its data bytes stand.
    let mut bytes = Vec::with_capacity(
        dif.len()
            .saturating_add(vif.len())
            .saturating_add(raw.data().len()),
    );
    bytes.extend_from_slice(dif);
    bytes.extend_from_slice(vif);
    bytes.extend_from_slice(raw.data());
    let mut warnings = Vec::new();
    let mut r = Reader::new(&bytes, 0);
    if let Ok(original) = record::parse_record(&mut r, ctx, raw.fill, &mut warnings) {
        if r.is_empty()
            && original.value() == rec.value()
            && original.invalid() == rec.invalid()
            && original.dst() == rec.dst()
        {
            out.extend_from_slice(raw.data());
            return Ok(());
        }
    }
    // The value changed: write it in the coding the DIF and VIF name.
    let mut head = Reader::new(&bytes, 0);
    let dib = record::read_dib(&mut head)?;
    let vib = record::read_vib(&mut head, ctx, &mut warnings)?;
    let lvar = if record::data_len(dib.data_field).is_none() {
        let mut data = Reader::new(raw.data(), 0);
        Some(record::read_lvar(&mut data)?.0)
    } else {
        None
    };
    let data = encode_value(
        rec,
        dib.data_field,
        lvar,
        vib.meaning.coding,
        vib.exponent,
        vib.meaning.factor,
        vib.additive,
    )?;
    let data = if ctx.msb_first && lvar.is_none() {
        data.into_iter().rev().collect()
    } else {
        data
    };
    out.extend_from_slice(&data);
    Ok(())
}

/// The data bytes of a value in a DIF's data field.
fn encode_value(
    rec: &Record,
    data_field: u8,
    lvar: Option<Lvar>,
    coding: Coding,
    exponent: i16,
    factor: u32,
    additive: Option<Decimal>,
) -> Result<Vec<u8>> {
    let len = record::data_len(data_field);
    match (&rec.value(), lvar) {
        (None, _) => Ok(alloc::vec![0u8; len.unwrap_or(0)]),
        (Some(Value::Time(ts)), None) => time_bytes(ts, len.unwrap_or(0), rec.invalid(), rec.dst())
            .ok_or(model_error(
                "a date or time needs a 2, 3, 4 or 6-byte data field",
            )),
        (Some(Value::Number(d)), _) => {
            let m = mantissa_at(*d, exponent, factor, additive)?;
            match (data_field, lvar) {
                (0x5, _) => {
                    let unscaled = d
                        .checked_add(additive.map(neg).unwrap_or(Decimal::from_int(0)))
                        .and_then(|v| v.scaled(exponent.checked_neg()?))
                        .ok_or(model_error("value out of range"))?;
                    let f: f32 = alloc::format!("{unscaled}")
                        .parse()
                        .map_err(|_| model_error("value is not a real number"))?;
                    Ok(f.to_le_bytes().to_vec())
                }
                (0x9..=0xC | 0xE, None) => bcd_bytes(m, len.unwrap_or(0)),
                (_, Some(Lvar::Bcd { negative })) => {
                    let digits = alloc::format!("{}", m.unsigned_abs());
                    let n = digits.len().div_ceil(2);
                    let mut v = alloc::vec![if negative { 0xD0u8 } else { 0xC0u8 }
                        .wrapping_add(u8::try_from(n).unwrap_or(0))];
                    v.extend(bcd_bytes(if negative { m.saturating_neg() } else { m }, n)?);
                    Ok(v)
                }
                (_, Some(Lvar::Binary)) => {
                    let bytes = m.to_le_bytes();
                    let n = 16usize
                        .saturating_sub(usize::from(
                            u8::try_from((if m < 0 { !m } else { m }).leading_zeros() / 8)
                                .unwrap_or(0),
                        ))
                        .max(1);
                    let mut v = alloc::vec![0xE0u8.wrapping_add(u8::try_from(n).unwrap_or(0))];
                    v.extend_from_slice(bytes.get(..n).unwrap_or(&[]));
                    Ok(v)
                }
                _ => int_bytes(m, len.unwrap_or(0), coding == Coding::Signed),
            }
        }
        (Some(Value::Text(t)), None) => match data_field {
            0x9..=0xC | 0xE => digit_bytes(t, len.unwrap_or(0)),
            _ => {
                let v: i128 = t
                    .parse()
                    .map_err(|_| model_error("identifier text is not a number"))?;
                int_bytes(v, len.unwrap_or(0), false)
            }
        },
        (Some(Value::Text(t)), Some(Lvar::Bcd { .. })) => {
            let n = t.len().div_ceil(2);
            let mut v = alloc::vec![0xC0u8.wrapping_add(u8::try_from(n).unwrap_or(0))];
            v.extend(digit_bytes(t, n)?);
            Ok(v)
        }
        (Some(Value::Text(t)), Some(_)) => {
            let bytes: Vec<u8> = t
                .chars()
                .rev()
                .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
                .collect();
            let n = u8::try_from(bytes.len())
                .ok()
                .filter(|n| *n <= 0xBF)
                .ok_or(model_error("text longer than 191 characters"))?;
            let mut v = alloc::vec![n];
            v.extend(bytes);
            Ok(v)
        }
        (Some(Value::Bytes(b)), Some(_)) => {
            let n = u8::try_from(b.len())
                .ok()
                .filter(|n| *n <= 0xBF)
                .ok_or(model_error("container longer than 191 bytes"))?;
            let mut v = alloc::vec![n];
            v.extend_from_slice(b.as_slice());
            Ok(v)
        }
        (Some(Value::Bytes(b)), None) => Ok(b.as_slice().to_vec()),
        (Some(Value::Time(_)), Some(_)) => {
            Err(model_error("dates in variable-length data are not encoded"))
        }
    }
}

fn neg(d: Decimal) -> Decimal {
    Decimal::new(d.mantissa().saturating_neg(), d.exponent()).unwrap_or(d)
}

/// The integer the data field holds for value `d` under a VIF of `exponent`, `factor` and
/// `additive` correction: exact, or an error when the value has more decimals than the VIF.
fn mantissa_at(d: Decimal, exponent: i16, factor: u32, additive: Option<Decimal>) -> Result<i128> {
    let d = match additive {
        Some(a) => d
            .checked_add(neg(a))
            .ok_or(model_error("value out of range"))?,
        None => d,
    };
    let scaled = d
        .scaled(
            exponent
                .checked_neg()
                .ok_or(model_error("value out of range"))?,
        )
        .ok_or(model_error("value out of range"))?;
    let m = scaled.to_i128().ok_or(model_error(
        "the value has more decimals than its VIF can carry",
    ))?;
    if factor == 1 {
        return Ok(m);
    }
    let f = i128::from(factor);
    if m.checked_rem(f) != Some(0) {
        return Err(model_error(
            "the value is not a multiple of the VIF's factor",
        ));
    }
    m.checked_div(f).ok_or(model_error("value out of range"))
}

fn int_bytes(v: i128, len: usize, signed: bool) -> Result<Vec<u8>> {
    let bits = u32::try_from(len.saturating_mul(8)).unwrap_or(128).min(127);
    let (min, max) = if signed {
        let half = 1i128
            .checked_shl(bits.saturating_sub(1))
            .unwrap_or(i128::MAX);
        (half.saturating_neg(), half.saturating_sub(1))
    } else {
        (
            0,
            1i128
                .checked_shl(bits)
                .unwrap_or(i128::MAX)
                .saturating_sub(1),
        )
    };
    if v < min || v > max {
        return Err(model_error(
            "the value does not fit the record's data field",
        ));
    }
    Ok(v.to_le_bytes().get(..len).unwrap_or(&[]).to_vec())
}

fn bcd_bytes(v: i128, len: usize) -> Result<Vec<u8>> {
    let negative = v < 0;
    let mut magnitude = v.unsigned_abs();
    let mut out = alloc::vec![0u8; len];
    for (i, byte) in out.iter_mut().enumerate() {
        let lo = u8::try_from(magnitude % 10).unwrap_or(0);
        magnitude /= 10;
        let mut hi = u8::try_from(magnitude % 10).unwrap_or(0);
        magnitude /= 10;
        if negative && i.saturating_add(1) == len {
            if hi != 0 {
                return Err(model_error("the value does not fit the BCD field"));
            }
            hi = 0x0F;
        }
        *byte = (hi << 4) | lo;
    }
    if magnitude != 0 {
        return Err(model_error("the value does not fit the BCD field"));
    }
    Ok(out)
}

/// Hex digits (most significant first) as LSB-first BCD bytes, left-padded with zeros.
fn digit_bytes(text: &str, len: usize) -> Result<Vec<u8>> {
    let digits: Vec<u8> = text
        .chars()
        .map(|c| c.to_digit(16).and_then(|d| u8::try_from(d).ok()))
        .collect::<Option<_>>()
        .ok_or(model_error("identifier is not hex digits"))?;
    if digits.len() > len.saturating_mul(2) {
        return Err(model_error("identifier longer than its data field"));
    }
    let mut out = alloc::vec![0u8; len];
    for (i, d) in digits.iter().rev().enumerate() {
        if let Some(byte) = out.get_mut(i / 2) {
            *byte |= if i % 2 == 0 { *d } else { d << 4 };
        }
    }
    Ok(out)
}

/// Year field and hundred-year bits for a full year (the inverse of the decoder's rule).
fn year_parts(year: u16) -> (u8, u8) {
    let y = u8::try_from(year % 100).unwrap_or(0);
    let hy = u8::try_from(year.saturating_sub(1900) / 100).unwrap_or(0) & 0x03;
    (y, hy)
}

fn time_bytes(ts: &Timestamp, len: usize, invalid: bool, dst: bool) -> Option<Vec<u8>> {
    let year = ts.year.unwrap_or(2000);
    let (y, hy) = year_parts(year);
    let lo = |day: u8| ((y & 0x07) << 5) | (day & 0x1F);
    let hi = |month: u8| ((y & 0x78) << 1) | (month & 0x0F);
    let flag = |b: bool, mask: u8| if b { mask } else { 0 };
    let hour = ts.hour.unwrap_or(0) & 0x1F;
    let minute = ts.minute.unwrap_or(0) & 0x3F;
    let second = ts.second.unwrap_or(0) & 0x3F;
    Some(match len {
        2 => {
            if invalid {
                alloc::vec![0xFF, 0xFF]
            } else {
                alloc::vec![lo(ts.day), hi(ts.month)]
            }
        }
        3 => alloc::vec![second, minute, hour],
        4 => alloc::vec![
            minute | flag(invalid, 0x80),
            hour | (hy << 5) | flag(dst, 0x80),
            lo(ts.day),
            hi(ts.month)
        ],
        6 => alloc::vec![
            second | flag(dst, 0x40),
            minute | flag(invalid, 0x80),
            hour,
            lo(ts.day),
            hi(ts.month),
            0
        ],
        _ => return None,
    })
}

/// A VIF family: first code, the exponent of its first code, and how many codes it spans.
struct Family {
    prefix: Option<u8>,
    first: u8,
    base_exponent: i16,
    count: u8,
}

fn family(quantity: &str, unit: Option<&str>) -> Option<Family> {
    let f = |first, base_exponent, count| Family {
        prefix: None,
        first,
        base_exponent,
        count,
    };
    let fd = |first, base_exponent, count| Family {
        prefix: Some(0xFD),
        first,
        base_exponent,
        count,
    };
    let time = |first: u8| {
        let n = match unit? {
            "s" => 0,
            "min" => 1,
            "h" => 2,
            "d" => 3,
            _ => return None,
        };
        Some(f(first.wrapping_add(n), 0, 1))
    };
    Some(match (quantity, unit) {
        ("energy", Some("kWh")) => f(0x00, -6, 8),
        ("energy", Some("MJ")) => f(0x08, -6, 8),
        ("volume", Some("m3")) => f(0x10, -6, 8),
        ("mass", Some("kg")) => f(0x18, -3, 8),
        ("power", Some("kW")) => f(0x28, -6, 8),
        ("power", Some("MJ/h")) => f(0x30, -6, 8),
        ("volume_flow", Some("m3/h")) => f(0x38, -6, 8),
        ("volume_flow", Some("m3/min")) => f(0x40, -7, 8),
        ("volume_flow", Some("m3/s")) => f(0x48, -9, 8),
        ("mass_flow", Some("kg/h")) => f(0x50, -3, 8),
        ("flow_temperature", Some("C")) => f(0x58, -3, 4),
        ("return_temperature", Some("C")) => f(0x5C, -3, 4),
        ("temperature_difference", Some("K")) => f(0x60, -3, 4),
        ("external_temperature", Some("C")) => f(0x64, -3, 4),
        ("pressure", Some("bar")) => f(0x68, -3, 4),
        ("on_time", _) => time(0x20)?,
        ("operating_time", _) => time(0x24)?,
        ("averaging_duration", _) => time(0x70)?,
        ("actuality_duration", _) => time(0x74)?,
        ("date", None) => f(0x6C, 0, 1),
        ("datetime" | "time", None) => f(0x6D, 0, 1),
        ("hca", None) => f(0x6E, 0, 1),
        ("fabrication_no", None) => f(0x78, 0, 1),
        ("enhanced_id", None) => f(0x79, 0, 1),
        ("bus_address", None) => f(0x7A, 0, 1),
        ("access_number", None) => fd(0x08, 0, 1),
        ("error_flags", None) => fd(0x17, 0, 1),
        ("digital_output", None) => fd(0x1A, 0, 1),
        ("digital_input", None) => fd(0x1B, 0, 1),
        ("voltage", Some("V")) => fd(0x40, -9, 16),
        ("current", Some("A")) => fd(0x50, -12, 16),
        ("remaining_battery_life", Some("d")) => fd(0x74, 0, 1),
        ("dimensionless", None) => fd(0x3A, 0, 1),
        _ => return None,
    })
}

/// A record with no raw bytes: DIF, DIFEs and VIF chosen from its fields.
fn emit_fresh_record(rec: &Record, out: &mut Vec<u8>) -> Result<()> {
    if !rec.modifiers().is_empty() || rec.unit_text().is_some() {
        return Err(model_error(
            "a record with modifiers or a plain-text unit needs raw.vif",
        ));
    }
    let fam = family(rec.quantity(), rec.unit()).ok_or(model_error(
        "no VIF for this quantity and unit: give raw.dif and raw.vif",
    ))?;
    // Exponent: the coarsest code of the family that still carries every digit.
    let (code, _exponent, data_field, data) = match &rec.value() {
        Some(Value::Number(d)) => {
            let last = fam
                .base_exponent
                .saturating_add(i16::from(fam.count).saturating_sub(1));
            let mut chosen = None;
            for n in (0..fam.count).rev() {
                let e = fam.base_exponent.saturating_add(i16::from(n));
                if e <= last {
                    if let Some(m) = d.scaled(e.saturating_neg()).and_then(|s| s.to_i128()) {
                        chosen = Some((fam.first.wrapping_add(n), e, m));
                        break;
                    }
                }
            }
            let (code, e, m) = chosen.ok_or(model_error(
                "the value has more decimals than any VIF of its quantity",
            ))?;
            let (data_field, len) = if i32::try_from(m).is_ok() {
                (0x04, 4)
            } else if (-(1i128 << 47)..(1i128 << 47)).contains(&m) {
                (0x06, 6)
            } else {
                (0x07, 8)
            };
            (code, e, data_field, int_bytes(m, len, true)?)
        }
        Some(Value::Time(ts)) => {
            let (data_field, len) = match (rec.quantity(), ts.second.is_some()) {
                ("date", _) => (0x02, 2),
                ("time", _) => (0x03, 3),
                (_, true) => (0x06, 6),
                (_, false) => (0x04, 4),
            };
            let data =
                time_bytes(ts, len, rec.invalid(), rec.dst()).ok_or(model_error("bad date"))?;
            (fam.first, 0, data_field, data)
        }
        Some(Value::Text(t)) => (fam.first, 0, 0x0C, digit_bytes(t, 4)?),
        Some(Value::Bytes(_)) => return Err(model_error("byte values need raw.dif and raw.vif")),
        None => (fam.first, 0, 0x00, Vec::new()),
    };
    emit_dib(rec, data_field, out);
    if let Some(prefix) = fam.prefix {
        out.push(prefix);
    }
    out.push(code);
    out.extend_from_slice(&data);
    Ok(())
}

/// DIF and DIFEs for a record's storage, tariff, subunit and function.
fn emit_dib(rec: &Record, data_field: u8, out: &mut Vec<u8>) {
    let function = match rec.function().unwrap_or(Function::Instantaneous) {
        Function::Instantaneous => 0,
        Function::Maximum => 1,
        Function::Minimum => 2,
        Function::Error => 3,
    };
    let mut storage = rec.storage().unwrap_or(0);
    let mut tariff = rec.tariff().unwrap_or(0);
    let mut subunit = rec.subunit().unwrap_or(0);
    let mut dif = data_field | (function << 4) | (u8::try_from(storage & 1).unwrap_or(0) << 6);
    storage >>= 1;
    let mut extensions: Vec<u8> = Vec::new();
    while storage != 0 || tariff != 0 || subunit != 0 {
        let dife = u8::try_from(storage & 0x0F).unwrap_or(0)
            | (u8::try_from(tariff & 0x03).unwrap_or(0) << 4)
            | (u8::try_from(subunit & 0x01).unwrap_or(0) << 6);
        extensions.push(dife);
        storage >>= 4;
        tariff >>= 2;
        subunit >>= 1;
    }
    if !extensions.is_empty() {
        dif |= 0x80;
    }
    out.push(dif);
    let last = extensions.len().saturating_sub(1);
    for (i, dife) in extensions.into_iter().enumerate() {
        out.push(if i < last { dife | 0x80 } else { dife });
    }
}

/// The fixed data structure (CI 73/77) from the model.
fn emit_fixed(d: &Decoded, msb_first: bool, out: &mut Vec<u8>) -> Result<()> {
    let meter = d
        .meter
        .as_ref()
        .ok_or(model_error("the fixed structure needs meter"))?;
    let mut id = id_bytes(meter.id.as_str())?;
    if msb_first {
        id.reverse();
    }
    let start = out.len();
    out.extend_from_slice(&id);
    out.push(meter.access_no.unwrap_or(0));
    out.push(meter.status.unwrap_or(0));
    let raw_of = |i: usize| {
        d.records
            .get(i)
            .and_then(|r| r.raw())
            .map(|r| r.data().to_vec())
            .ok_or(model_error("fixed-structure records need raw.data"))
    };
    let medium = meter.medium_code.map_or(0, |c| c.0);
    let units = fixed_units(d)?;
    out.push(((medium & 0x03) << 6) | (units.0 & 0x3F));
    out.push(((medium & 0x0C) << 4) | (units.1 & 0x3F));
    out.extend(raw_of(0)?);
    out.extend(raw_of(1)?);
    if out.len().saturating_sub(start) != fixed::LEN {
        return Err(model_error(
            "fixed-structure counters need 4 data bytes each",
        ));
    }
    Ok(())
}

/// The two 6-bit unit codes of a fixed structure, from the records' units.
fn fixed_units(d: &Decoded) -> Result<(u8, u8)> {
    let code_of = |r: &Record| -> Option<u8> {
        let unit = r.unit();
        let exponent = r.number().map_or(0, |n| n.exponent());
        (0u8..0x40).find(|code| {
            tables::fixed_unit(*code).is_some_and(|u| {
                u.unit == unit && u.quantity == r.quantity() && u.exponent == exponent
            })
        })
    };
    let first = d
        .records
        .first()
        .ok_or(model_error("the fixed structure needs 2 records"))?;
    let second = d
        .records
        .get(1)
        .ok_or(model_error("the fixed structure needs 2 records"))?;
    let c1 = code_of(first).ok_or(model_error("counter 1 unit has no fixed-structure code"))?;
    let c2 = if second.label() == Some("historic") {
        0x3E
    } else {
        code_of(second).ok_or(model_error("counter 2 unit has no fixed-structure code"))?
    };
    Ok((c1, c2))
}
