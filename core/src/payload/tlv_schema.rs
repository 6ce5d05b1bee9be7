//! Vendor TLV payloads read through a user-supplied schema ([`crate::Options::tlv_schema`]):
//! the binary tag-length-value bodies of NB-IoT meters (Fujian DB35/T 2106-style reports,
//! platform codec "compact binary" formats) whose tags each vendor defines. The digest (§4)
//! asks not to hard-code such product layouts, so the caller describes them:
//!
//! ```json
//! {"tag_bytes": 1, "length_bytes": 1, "endian": "big",
//!  "fields": {
//!    "01": {"quantity": "volume", "type": "u32", "scale": "0.001", "unit": "m3", "label": "total"},
//!    "02": {"quantity": "battery", "type": "u16", "scale": "0.01", "unit": "V"},
//!    "03": {"quantity": "signal", "type": "i8", "unit": "dBm", "label": "rsrp"},
//!    "0A": {"quantity": "fabrication_no", "type": "ascii"}}}
//! ```
//!
//! | key | meaning |
//! |---|---|
//! | `tag_bytes` | 1 or 2: bytes of each tag |
//! | `length_bytes` | 1 or 2: bytes of each length (the value's byte count) |
//! | `endian` | `big` (default) or `little`: of tags, lengths and numbers |
//! | `fields` | tag (hex, `"01"`, `"0x1F01"`) → `quantity` (required), `type`, `scale` (an exact decimal string, default `"1"`), `unit`, `label` |
//!
//! Types: `u8` `u16` `u32` `u64` `i8` `i16` `i32` `i64` (the value must have that many
//! bytes), `uint` / `int` (any length up to 8), `bcd` (packed BCD, most significant digit
//! first), `f32` `f64`, `ascii` (text), `hex` (bytes, the default). Numbers are multiplied by
//! `scale` exactly (the result keeps the scale's decimals: 360 × `"0.01"` = `3.60`).
//!
//! A payload the schema reads from its first to its last byte (every tag, length and value
//! complete) becomes one record per element, in order: the field's `quantity`, `label` (or
//! `tag_XX`), value and `unit`, `address` = the tag as hex text (`"0x01"`), `raw.data` = the
//! value bytes; tags the schema does not name, `hex` fields and values that do not fit their
//! type (with a warning) have no `value`, only `raw.data`. A payload the
//! schema does not read whole stays opaque, with a warning naming the byte. The payload bytes
//! stay in `application_data` (the records are a view; encoding writes the bytes).

use alloc::borrow::Cow;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde_json::Value as Json;

use crate::decimal::Decimal;
use crate::error::{Detail, Error, ErrorKind, Layer, Result};
use crate::model::{Address, Bytes, Name, RawRecord, Record, RecordFields, Value};

/// A value type of a schema field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldType {
    /// Unsigned integer of exactly `n` bytes (0 = any length up to 8).
    Unsigned(u8),
    /// Two's complement integer of exactly `n` bytes (0 = any length up to 8).
    Signed(u8),
    /// Packed BCD, most significant digit first.
    Bcd,
    /// IEEE 754 single.
    F32,
    /// IEEE 754 double.
    F64,
    /// ASCII / UTF-8 text.
    Ascii,
    /// Bytes, as hex.
    Hex,
}

/// What the schema says about one tag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlvField {
    /// The model's quantity.
    pub quantity: String,
    /// A label (default `tag_XX`).
    pub label: Option<String>,
    /// The value type.
    pub field_type: FieldType,
    /// The exact factor numbers are multiplied by.
    pub scale: Decimal,
    /// The unit.
    pub unit: Option<String>,
}

/// A vendor TLV layout (module docs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlvSchema {
    /// Bytes of a tag: 1 or 2.
    pub tag_bytes: u8,
    /// Bytes of a length: 1 or 2.
    pub length_bytes: u8,
    /// Tags, lengths and numbers little-endian.
    pub little_endian: bool,
    /// The tags the schema names.
    pub fields: Vec<(u16, TlvField)>,
}

fn bad(text: &'static str) -> Error {
    Error::new(ErrorKind::Malformed, Layer::Input, 0, Detail::Text(text))
}

impl TlvSchema {
    /// Reads a schema from its JSON text; a `malformed` error names what is wrong.
    pub fn from_json(text: &str) -> Result<TlvSchema> {
        let json: Json = serde_json::from_str(text).map_err(|_| bad("tlv schema: not JSON"))?;
        TlvSchema::from_value(&json)
    }

    /// Reads a schema from a JSON value.
    pub fn from_value(json: &Json) -> Result<TlvSchema> {
        let obj = json
            .as_object()
            .ok_or(bad("tlv schema: a JSON object is expected"))?;
        for key in obj.keys() {
            if !matches!(
                key.as_str(),
                "tag_bytes" | "length_bytes" | "endian" | "fields" | "name" | "description"
            ) {
                return Err(bad("tlv schema: unknown key (tag_bytes, length_bytes, endian, fields, name, description)"));
            }
        }
        let width = |key: &str| -> Result<u8> {
            match obj.get(key).map(Json::as_u64) {
                None => Ok(1),
                Some(Some(1)) => Ok(1),
                Some(Some(2)) => Ok(2),
                Some(_) => Err(bad("tlv schema: tag_bytes and length_bytes are 1 or 2")),
            }
        };
        let tag_bytes = width("tag_bytes")?;
        let length_bytes = width("length_bytes")?;
        let little_endian = match obj.get("endian").map(Json::as_str) {
            None | Some(Some("big")) => false,
            Some(Some("little")) => true,
            Some(_) => return Err(bad("tlv schema: endian is \"big\" or \"little\"")),
        };
        let mut fields = Vec::new();
        let list = obj.get("fields").and_then(Json::as_object).ok_or(bad(
            "tlv schema: `fields` (an object of tag → field) is required",
        ))?;
        for (tag, field) in list {
            let digits = tag
                .strip_prefix("0x")
                .or_else(|| tag.strip_prefix("0X"))
                .unwrap_or(tag);
            let tag = u16::from_str_radix(digits, 16)
                .ok()
                .filter(|t| tag_bytes == 2 || *t <= 0xFF)
                .ok_or(bad(
                    "tlv schema: a field's tag is not hex that fits tag_bytes",
                ))?;
            let f = field
                .as_object()
                .ok_or(bad("tlv schema: a field is a JSON object"))?;
            for key in f.keys() {
                if !matches!(
                    key.as_str(),
                    "quantity" | "type" | "scale" | "unit" | "label"
                ) {
                    return Err(bad(
                        "tlv schema: unknown field key (quantity, type, scale, unit, label)",
                    ));
                }
            }
            let text = |key: &str| f.get(key).and_then(Json::as_str).map(String::from);
            let quantity = text("quantity")
                .filter(|q| !q.is_empty())
                .ok_or(bad("tlv schema: a field needs a `quantity`"))?;
            let field_type = match f.get("type").map(Json::as_str) {
                None => FieldType::Hex,
                Some(Some(t)) => parse_type(t)?,
                Some(None) => return Err(bad("tlv schema: `type` is a string")),
            };
            let scale = match f.get("scale") {
                None => Decimal::from_int(1),
                Some(Json::String(s)) => Decimal::parse(s).ok_or(bad(
                    "tlv schema: `scale` is not a decimal string such as \"0.001\"",
                ))?,
                Some(Json::Number(n)) if n.is_i64() || n.is_u64() => {
                    Decimal::parse(&n.to_string()).ok_or(bad("tlv schema: bad `scale`"))?
                }
                Some(_) => return Err(bad(
                    "tlv schema: write a fractional `scale` as a string such as \"0.001\" (exact)",
                )),
            };
            fields.push((
                tag,
                TlvField {
                    quantity,
                    label: text("label"),
                    field_type,
                    scale,
                    unit: text("unit"),
                },
            ));
        }
        Ok(TlvSchema {
            tag_bytes,
            length_bytes,
            little_endian,
            fields,
        })
    }

    fn number(&self, bytes: &[u8]) -> u64 {
        let fold = |acc: u64, b: &u8| acc.wrapping_shl(8) | u64::from(*b);
        if self.little_endian {
            bytes.iter().rev().fold(0, fold)
        } else {
            bytes.iter().fold(0, fold)
        }
    }

    /// Reads `bytes` whole into records and warnings; `Err(offset)` is the byte where the
    /// schema stops fitting.
    pub fn read(&self, bytes: &[u8]) -> core::result::Result<(Vec<Record>, Vec<String>), usize> {
        let mut records = Vec::new();
        let mut warnings = Vec::new();
        let mut at = 0usize;
        let tag_len = usize::from(self.tag_bytes);
        let len_len = usize::from(self.length_bytes);
        while at < bytes.len() {
            let tag_end = at.saturating_add(tag_len);
            let len_end = tag_end.saturating_add(len_len);
            let tag = bytes.get(at..tag_end).ok_or(at)?;
            let len = bytes.get(tag_end..len_end).ok_or(at)?;
            let tag = u16::try_from(self.number(tag)).map_err(|_| at)?;
            let len = usize::try_from(self.number(len)).map_err(|_| at)?;
            let value_end = len_end.saturating_add(len);
            let value = bytes.get(len_end..value_end).ok_or(at)?;
            records.push(self.record(tag, value, &mut warnings).into());
            at = value_end;
        }
        Ok((records, warnings))
    }

    fn record(&self, tag: u16, value: &[u8], warnings: &mut Vec<String>) -> RecordFields {
        let tag_text = if self.tag_bytes == 2 {
            format!("0x{tag:04X}")
        } else {
            format!("0x{tag:02X}")
        };
        let field = self.fields.iter().find(|(t, _)| *t == tag).map(|(_, f)| f);
        let mut r = RecordFields::new(Name::Owned(
            field.map_or_else(|| "other".to_string(), |f| f.quantity.clone()),
        ));
        r.label = Some(Name::Owned(match field.and_then(|f| f.label.clone()) {
            Some(l) => l,
            None => format!("tag_{}", tag_text.trim_start_matches("0x")),
        }));
        r.address = Some(Address::Text(Cow::Owned(tag_text.clone())));
        r.raw = Some(RawRecord::new(0, &[], &[], value));
        // Bytes without a reading are `raw.data` only (a hex `value` would read back as text).
        let Some(field) = field else {
            return r;
        };
        r.unit = field.unit.clone().map(Cow::Owned);
        let typed = self.typed(field, value);
        if typed.is_none() {
            warnings.push(format!(
                "tlv schema: the {} bytes of tag {tag_text} do not fit its type: kept as raw bytes",
                value.len()
            ));
        }
        r.value = typed.filter(|v| !matches!(v, Value::Bytes(_)));
        r
    }

    fn typed(&self, field: &TlvField, value: &[u8]) -> Option<Value> {
        let fits = |n: u8| n == 0 || usize::from(n) == value.len();
        let raw: Decimal = match field.field_type {
            FieldType::Hex => return Some(Value::Bytes(Bytes::new(value))),
            FieldType::Ascii => {
                return core::str::from_utf8(value)
                    .ok()
                    .map(|t| Value::Text(t.trim_end_matches('\0').to_string()))
            }
            FieldType::Unsigned(n) if fits(n) && value.len() <= 8 && !value.is_empty() => {
                Decimal::from_int(i128::from(self.number(value)))
            }
            FieldType::Signed(n) if fits(n) && value.len() <= 8 && !value.is_empty() => {
                let bits = u32::try_from(value.len().saturating_mul(8)).ok()?;
                let v = self.number(value);
                let shift = 64u32.saturating_sub(bits);
                let signed =
                    i64::from_ne_bytes(v.wrapping_shl(shift).to_ne_bytes()).wrapping_shr(shift);
                Decimal::from_int(i128::from(signed))
            }
            FieldType::Bcd => {
                // bcd_digits reads least significant byte first (M-Bus order).
                let lsb_first: Vec<u8> = if self.little_endian {
                    value.to_vec()
                } else {
                    value.iter().rev().copied().collect()
                };
                let mut digits = String::new();
                crate::mbus::datatypes::bcd_digits(&lsb_first, &mut digits).ok()?;
                if !digits.bytes().all(|b| b.is_ascii_digit()) || digits.is_empty() {
                    return None;
                }
                Decimal::parse(&digits)?
            }
            FieldType::F32 if value.len() == 4 => {
                let mut b = [0u8; 4];
                b.copy_from_slice(value);
                let f = if self.little_endian {
                    f32::from_le_bytes(b)
                } else {
                    f32::from_be_bytes(b)
                };
                Decimal::from_f32_shortest(f)?
            }
            FieldType::F64 if value.len() == 8 => {
                let mut b = [0u8; 8];
                b.copy_from_slice(value);
                let f = if self.little_endian {
                    f64::from_le_bytes(b)
                } else {
                    f64::from_be_bytes(b)
                };
                Decimal::from_f64_shortest(f)?
            }
            _ => return None,
        };
        let scaled = Decimal::new(
            raw.mantissa().checked_mul(field.scale.mantissa())?,
            raw.exponent().checked_add(field.scale.exponent())?,
        )?;
        Some(Value::Number(scaled))
    }
}

fn parse_type(text: &str) -> Result<FieldType> {
    Ok(match text {
        "u8" => FieldType::Unsigned(1),
        "u16" => FieldType::Unsigned(2),
        "u32" => FieldType::Unsigned(4),
        "u64" => FieldType::Unsigned(8),
        "uint" => FieldType::Unsigned(0),
        "i8" => FieldType::Signed(1),
        "i16" => FieldType::Signed(2),
        "i32" => FieldType::Signed(4),
        "i64" => FieldType::Signed(8),
        "int" => FieldType::Signed(0),
        "bcd" => FieldType::Bcd,
        "f32" => FieldType::F32,
        "f64" => FieldType::F64,
        "ascii" | "string" => FieldType::Ascii,
        "hex" | "bytes" => FieldType::Hex,
        _ => {
            return Err(bad(
                "tlv schema: unknown `type` (u8 u16 u32 u64 i8 i16 i32 i64 uint int bcd f32 f64 ascii hex)",
            ))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hex::parse_hex;

    const SCHEMA: &str = r#"{"tag_bytes": 1, "length_bytes": 1, "endian": "big",
      "fields": {
        "01": {"quantity": "volume", "type": "u32", "scale": "0.001", "unit": "m3", "label": "total"},
        "02": {"quantity": "battery", "type": "u16", "scale": "0.01", "unit": "V"},
        "03": {"quantity": "signal", "type": "i8", "unit": "dBm", "label": "rsrp"},
        "04": {"quantity": "volume", "type": "bcd", "scale": "0.01", "unit": "m3", "label": "bcd_total"},
        "0A": {"quantity": "fabrication_no", "type": "ascii"}}}"#;

    fn text(r: &Record) -> String {
        match &r.value() {
            Some(Value::Number(n)) => n.to_string(),
            Some(Value::Text(t)) => t.clone(),
            Some(Value::Bytes(b)) => crate::hex::to_hex(b.as_slice()),
            _ => r
                .raw()
                .as_ref()
                .map(|raw| crate::hex::to_hex(raw.data()))
                .unwrap_or_default(),
        }
    }

    #[test]
    fn reads_a_report() {
        let s = TlvSchema::from_json(SCHEMA).unwrap();
        // 01: 0x0012D687 = 1234567 → 1234.567 m3; 02: 0x0168 = 360 → 3.60 V; 03: 0xA1 = -95;
        // 04: BCD 00 12 34 56 → 123456 × 0.01 = 1234.56; 0A: "SN1"; 7F: unknown.
        let bytes = parse_hex(
            "01 04 00 12 D6 87  02 02 01 68  03 01 A1  04 04 00 12 34 56  0A 03 53 4E 31  7F 01 FF",
        )
        .unwrap();
        let (records, warnings) = s.read(&bytes).unwrap();
        assert!(warnings.is_empty());
        let got: Vec<(String, String)> = records
            .iter()
            .map(|r| (r.label().unwrap().to_string(), text(r)))
            .collect();
        let want = [
            ("total", "1234.567"),
            ("tag_02", "3.60"),
            ("rsrp", "-95"),
            ("bcd_total", "1234.56"),
            ("tag_0A", "SN1"),
            ("tag_7F", "FF"),
        ];
        for ((l, v), (wl, wv)) in got.iter().zip(want) {
            assert_eq!((l.as_str(), v.as_str()), (wl, wv));
        }
        assert_eq!(records.len(), 6);
        assert_eq!(records[5].quantity(), "other");
        // Cut short: the byte where it stops fitting.
        assert_eq!(s.read(&bytes[..bytes.len() - 1]), Err(24));
        // A value that does not fit its type: hex and a warning.
        let (records, warnings) = s.read(&parse_hex("02 01 05").unwrap()).unwrap();
        assert_eq!(text(&records[0]), "05");
        assert_eq!(warnings.len(), 1);
    }

    #[test]
    fn little_endian_two_byte_tags() {
        let s = TlvSchema::from_json(
            r#"{"tag_bytes": 2, "length_bytes": 2, "endian": "little",
                "fields": {"0x1F01": {"quantity": "volume", "type": "u32", "scale": "0.1", "unit": "m3"}}}"#,
        )
        .unwrap();
        let (records, _) = s
            .read(&parse_hex("01 1F 04 00 39 30 00 00").unwrap())
            .unwrap();
        assert_eq!(text(&records[0]), "1234.5");
        assert_eq!(
            records[0].address(),
            Some(Address::Text(Cow::Borrowed("0x1F01"))).as_ref()
        );
    }

    #[test]
    fn schema_errors() {
        for bad in [
            "[]",
            r#"{"fields": {}, "x": 1}"#,
            r#"{"tag_bytes": 3, "fields": {}}"#,
            r#"{"endian": "middle", "fields": {}}"#,
            r#"{"fields": {"1FF": {"quantity": "volume"}}}"#,
            r#"{"fields": {"01": {"type": "u8"}}}"#,
            r#"{"fields": {"01": {"quantity": "volume", "type": "u24"}}}"#,
            r#"{"fields": {"01": {"quantity": "volume", "scale": 0.001}}}"#,
            r#"{"tag_bytes": 1}"#,
        ] {
            let e = TlvSchema::from_json(bad).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Malformed, "{bad}");
        }
    }
}
