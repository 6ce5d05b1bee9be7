//! CJ/T 188 encoding: a [`Decoded`] model back to bytes.
//!
//! The model carries every encoding choice: `preamble_len`, the control code, `di_order`, and
//! each record's source bytes in `raw.data`. So `encode(decode(x)) == x` for every frame that
//! decodes. A record whose value was changed (a meter simulator) is written in its field's
//! coding, keeping its unit code where the unit did not change; a record without `raw` gets
//! the ×1 unit code of its unit. Records follow the DI's layout in order (`label` names the
//! field; a record whose label names another field is an error).

use alloc::vec::Vec;

use super::app::{self, Field, Kind, Layout};
use super::link::{self, Cjt188Frame, FrameRepr};
use crate::error::{Detail, Error, ErrorKind, Layer, Result};
use crate::model::{Cjt188Link, Decoded, Record, Timestamp, Value};

/// The most wake-up bytes the encoder writes.
pub const MAX_PREAMBLE: usize = 0xFFFF;

/// An error about the model given to `encode`.
fn model_error(text: &'static str) -> Error {
    Error::model(text)
}

/// Encodes one CJ/T 188 frame from the model.
pub fn encode(d: &Decoded) -> Result<Vec<u8>> {
    let link = d
        .cjt188_link()
        .ok_or(model_error("link fields are not CJ/T 188 link fields"))?;
    let address = address_of(d, link)?;
    let control = control_of(link)?;
    let preamble_len = usize::try_from(link.preamble_len)
        .ok()
        .filter(|p| *p <= MAX_PREAMBLE)
        .ok_or(model_error("preamble_len above 65535"))?;
    let data = data_field(d, link, control)?;
    frame(
        FrameRepr {
            preamble_len,
            meter_type: link.meter_type.0,
            address,
            control,
        },
        &data,
    )
}

/// A whole frame around `data` (at most 255 bytes: L is one byte).
pub fn frame(repr: FrameRepr, data: &[u8]) -> Result<Vec<u8>> {
    if data.len() > usize::from(u8::MAX) {
        return Err(Error::new(
            ErrorKind::Length,
            Layer::Link,
            0,
            Detail::TooMany {
                what: "bytes in one data field (L is one byte)",
                max: 255,
            },
        ));
    }
    let mut out = alloc::vec![0u8; repr.buffer_len(data.len())];
    repr.emit(&mut Cjt188Frame::new_unchecked(&mut out[..]), data);
    Ok(out)
}

fn address_of(d: &Decoded, link: &Cjt188Link) -> Result<[u8; 7]> {
    let text = if link.address.as_str().is_empty() {
        d.meter.as_ref().map_or("", |m| m.id.as_str())
    } else {
        link.address.as_str()
    };
    link::parse_address(text).ok_or(model_error(
        "link.address (or meter.id) must be 14 hex digits A6...A0, or up to 14 decimal digits",
    ))
}

fn control_of(link: &Cjt188Link) -> Result<u8> {
    if let Some(c) = link.control {
        return Ok(c.0);
    }
    let function = link.function.ok_or(model_error(
        "link needs control, or function (with direction and exception)",
    ))?;
    Ok(link::control_code(function, link.direction, link.exception))
}

/// The data field for control code `c`. The status word is written in two bytes, or in one
/// when `link.length` says the frame had the one-byte variant.
pub fn data_field(d: &Decoded, link: &Cjt188Link, c: u8) -> Result<Vec<u8>> {
    let (data, status) = data_with(d, link, c, 2)?;
    let short_status = status.is_some_and(|raw| raw <= 0xFF);
    if short_status && usize::from(link.length).saturating_add(1) == data.len() {
        return Ok(data_with(d, link, c, 1)?.0);
    }
    Ok(data)
}

/// The data field with a status word of `st_width` bytes; also says whether a status word
/// was written (its raw value).
fn data_with(
    d: &Decoded,
    link: &Cjt188Link,
    c: u8,
    st_width: usize,
) -> Result<(Vec<u8>, Option<u32>)> {
    let mut out = Vec::new();
    let mut status = None;
    let order = link.di_order.unwrap_or_default();
    let exception = c & link::control::EXCEPTION != 0;
    match link::function_of(c) {
        None => {}
        Some(_) if exception => {
            if let Some(di) = link.di {
                out.extend_from_slice(&order.bytes(di.0));
            }
            if let Some(ser) = link.ser {
                out.push(ser);
                if let Some(st) = &d.status {
                    push_status(&mut out, st.raw, st_width)?;
                    status = Some(st.raw);
                }
            }
        }
        Some(function) => {
            if let Some(di) = link.di {
                let di = di.0;
                out.extend_from_slice(&order.bytes(di));
                out.push(link.ser.unwrap_or(0));
                let hint = metering_hint(d);
                match app::layout(function, link::direction_of(c), di, link.meter_type.0, hint) {
                    Some(fields) => {
                        if emit_layout(fields, d, di, st_width, &mut out)? {
                            status = d.status.map(|s| s.raw);
                        }
                    }
                    None => {
                        for rec in &d.records {
                            emit_raw(rec, &mut out)?;
                        }
                    }
                }
            }
        }
    }
    if let Some(a) = &d.application_data {
        out.extend_from_slice(a.as_slice());
    }
    Ok((out, status))
}

/// Which 901FH layout the records were decoded with, by their labels: the payload length
/// that chooses it (design: the decoder chose by length, then by meter type).
fn metering_hint(d: &Decoded) -> Option<usize> {
    let in_layout = |layout: Layout, label: &str| layout.iter().any(|f| f.label == label);
    d.records.iter().find_map(|r| {
        let label = r.label()?;
        match (
            in_layout(app::WATER_METERING, label),
            in_layout(app::HEAT_METERING, label),
        ) {
            (true, false) => Some(app::WATER_METERING_LEN),
            (false, true) => Some(app::HEAT_METERING_LEN),
            _ => None,
        }
    })
}

fn push_status(out: &mut Vec<u8>, raw: u32, width: usize) -> Result<()> {
    let raw = u16::try_from(raw).map_err(|_| model_error("status.raw must fit 16 bits"))?;
    let [st0, st1] = raw.to_le_bytes();
    out.push(st0);
    if width > 1 {
        out.push(st1);
    }
    Ok(())
}

/// Writes the records and status along `fields`; stops at the first field with nothing to
/// write (a shorter payload). Returns whether a status word was written.
fn emit_layout(
    fields: Layout,
    d: &Decoded,
    di: u16,
    st_width: usize,
    out: &mut Vec<u8>,
) -> Result<bool> {
    let mut records = d.records.iter();
    let mut status = false;
    for fld in fields {
        if fld.kind == Kind::Status {
            match &d.status {
                Some(st) => {
                    push_status(out, st.raw, st_width)?;
                    status = true;
                }
                None => break,
            }
            continue;
        }
        let Some(rec) = records.next() else { break };
        if rec.label().is_some_and(|l| l != fld.label) {
            return Err(model_error(
                "records do not follow the DI's layout (a record's label names another field)",
            ));
        }
        emit_field(fld, rec, di, out)?;
    }
    if records.next().is_some() {
        return Err(model_error(
            "more records than the DI's layout has fields (extra bytes go in application_data)",
        ));
    }
    Ok(status)
}

/// A record of a payload without layout: its raw bytes.
fn emit_raw(rec: &Record, out: &mut Vec<u8>) -> Result<()> {
    match (&rec.raw(), &rec.value()) {
        (Some(raw), _) => out.extend_from_slice(raw.data()),
        (None, Some(Value::Bytes(b))) => out.extend_from_slice(b.as_slice()),
        _ => return Err(model_error("a record of a private DI needs raw.data")),
    }
    Ok(())
}

/// One field: the record's raw bytes when they still say what the record says, else the
/// record's value in the field's coding.
fn emit_field(fld: &Field, rec: &Record, di: u16, out: &mut Vec<u8>) -> Result<()> {
    let n = fld.kind.wire_len();
    let raw = rec.raw().map(|r| r.data()).filter(|b| b.len() == n);
    if let Some(raw) = raw {
        let mut warnings = Vec::new();
        let original = app::record_of(fld, raw, di, 0, &mut warnings);
        if original.value.as_ref() == rec.value()
            && original.unit.as_deref() == rec.unit()
            && original.invalid == rec.invalid()
        {
            out.extend_from_slice(raw);
            return Ok(());
        }
    }
    match fld.kind {
        Kind::Measured { bytes, decimals } => {
            let n = usize::from(bytes);
            let code = unit_code_for(rec, raw.and_then(|r| r.get(n)).copied())?;
            let scale = app::unit_of(code).map_or(0, |u| u.scale);
            let exponent = scale.saturating_sub(i16::from(decimals));
            out.extend(number_bytes(
                rec,
                raw.and_then(|r| r.get(..n)),
                n,
                exponent,
            )?);
            out.push(code);
        }
        Kind::Bcd {
            bytes,
            decimals,
            unit,
        } => {
            if rec.unit().is_some() && rec.unit() != unit {
                return Err(model_error(
                    "the record's unit is not the field's fixed unit (C for temperatures, h for operating time)",
                ));
            }
            let exponent = 0i16.saturating_sub(i16::from(decimals));
            out.extend(number_bytes(rec, raw, usize::from(bytes), exponent)?);
        }
        Kind::Byte => {
            let v = rec
                .number()
                .and_then(|d| d.to_i128())
                .and_then(|v| u8::try_from(v).ok())
                .ok_or(model_error("the value must be a whole number 0-255"))?;
            out.push(v);
        }
        Kind::DateTime => match &rec.value() {
            Some(Value::Time(ts)) => out.extend(time_bytes(ts)?),
            None => out.extend(raw.map_or_else(|| alloc::vec![0xFF; 7], <[u8]>::to_vec)),
            _ => return Err(model_error("a date-time field needs a date-time value")),
        },
        Kind::Address => {
            let text = match &rec.value() {
                Some(Value::Text(t)) => t.as_str(),
                _ => return Err(model_error("an address field needs 14 hex digits")),
            };
            let a = link::parse_address(text)
                .ok_or(model_error("an address field needs 14 hex digits"))?;
            out.extend_from_slice(&a);
        }
        Kind::Valve => {
            let code = match &rec.value() {
                Some(Value::Text(t)) => app::valve_code(t),
                Some(Value::Number(d)) => d.to_i128().and_then(|v| u8::try_from(v).ok()),
                Some(Value::Bytes(b)) if b.len() == 1 => b.as_slice().first().copied(),
                _ => None,
            }
            .ok_or(model_error(
                "a valve command is open, close, exercise, half_open or a byte 0xNN",
            ))?;
            out.push(code);
        }
        Kind::Raw { .. } => match (raw, &rec.value()) {
            (Some(raw), _) => out.extend_from_slice(raw),
            (None, Some(Value::Bytes(b))) if b.len() == n => out.extend_from_slice(b.as_slice()),
            _ => return Err(model_error("a raw field needs raw.data of its length")),
        },
        Kind::Status => {}
    }
    Ok(())
}

/// The unit code for a measured record: its original code while the unit is unchanged (this
/// keeps ×10 / ×100 codes and codes outside the table), else the unit's ×1 code.
fn unit_code_for(rec: &Record, original: Option<u8>) -> Result<u8> {
    match (rec.unit(), original) {
        (Some(unit), Some(code)) if app::unit_of(code).map(|u| u.unit) == Some(unit) => Ok(code),
        (Some(unit), _) => {
            app::unit_code(unit).ok_or(model_error("the unit has no CJ/T 188 unit code"))
        }
        (None, Some(code)) => Ok(code),
        (None, None) => Err(model_error("a measured value needs a unit")),
    }
}

/// The BCD bytes (LSB first) of a record's number at `10^exponent` resolution; a record
/// without value keeps its original bytes, or gets `FF` filler.
fn number_bytes(rec: &Record, raw: Option<&[u8]>, n: usize, exponent: i16) -> Result<Vec<u8>> {
    match &rec.value() {
        Some(Value::Number(d)) => {
            let m = exponent
                .checked_neg()
                .and_then(|e| d.scaled(e))
                .and_then(|s| s.to_i128())
                .ok_or(model_error(
                    "the value has more decimals than its CJ/T 188 field carries",
                ))?;
            bcd_bytes(m, n)
        }
        None => Ok(raw.map_or_else(|| alloc::vec![0xFF; n], <[u8]>::to_vec)),
        _ => Err(model_error("this field needs a number")),
    }
}

/// `v` as `n` BCD bytes, least significant first.
pub fn bcd_bytes(v: i128, n: usize) -> Result<Vec<u8>> {
    if v < 0 {
        return Err(model_error("CJ/T 188 BCD fields carry no sign"));
    }
    let mut rest = v;
    let mut out = alloc::vec![0u8; n];
    for byte in out.iter_mut() {
        let lo = u8::try_from(rest.rem_euclid(10)).unwrap_or(0);
        rest = rest.div_euclid(10);
        let hi = u8::try_from(rest.rem_euclid(10)).unwrap_or(0);
        rest = rest.div_euclid(10);
        *byte = (hi << 4) | lo;
    }
    if rest != 0 {
        return Err(model_error("the value does not fit its BCD field"));
    }
    Ok(out)
}

/// A number 0–99 as one BCD byte.
fn bcd2(v: u8) -> Result<u8> {
    if v > 99 {
        return Err(model_error("a date-time part above 99"));
    }
    Ok(((v / 10) << 4) | (v % 10))
}

/// The 7 bytes `ss mm hh DD MM YYlo YYhi` of a timestamp.
pub fn time_bytes(ts: &Timestamp) -> Result<[u8; 7]> {
    let year = ts.year.ok_or(model_error("a date-time needs a year"))?;
    if year > 9999 {
        return Err(model_error("a year above 9999"));
    }
    let hi = u8::try_from(year / 100).unwrap_or(0);
    let lo = u8::try_from(year % 100).unwrap_or(0);
    Ok([
        bcd2(ts.second.unwrap_or(0))?,
        bcd2(ts.minute.unwrap_or(0))?,
        bcd2(ts.hour.unwrap_or(0))?,
        bcd2(ts.day)?,
        bcd2(ts.month)?,
        bcd2(lo)?,
        bcd2(hi)?,
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bcd_fields() {
        assert_eq!(bcd_bytes(123456, 4).unwrap(), [0x56, 0x34, 0x12, 0x00]);
        assert!(bcd_bytes(100_000_000, 4).is_err());
        assert!(bcd_bytes(-1, 4).is_err());
        let ts = Timestamp::parse("2025-06-01T12:00:00").unwrap();
        assert_eq!(
            time_bytes(&ts).unwrap(),
            [0x00, 0x00, 0x12, 0x01, 0x06, 0x25, 0x20]
        );
    }
}
