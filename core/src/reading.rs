//! Views of decoded frames for people and tables (design §2.1): the flat reading of one
//! frame ([`to_reading`]) and the columnar table of many ([`readings`]).

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

use crate::decimal::Decimal;
use crate::model::{Address, Decoded, Function, Record, Value};

/// A value of the flat reading: a number (written as a JSON number) or text.
#[derive(Clone, Debug, PartialEq)]
pub enum ReadingValue {
    /// An exact number in the key's unit.
    Number(Decimal),
    /// Text (ids, dates, status).
    Text(String),
}

impl Serialize for ReadingValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            ReadingValue::Number(d) => s.serialize_f64(d.to_f64()),
            ReadingValue::Text(t) => s.serialize_str(t),
        }
    }
}

/// The flat reading of one frame: keys in a fixed order, written as one JSON object.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Reading {
    /// Key → value, in output order; a key appears once.
    pub fields: Vec<(String, ReadingValue)>,
}

impl Reading {
    fn put(&mut self, key: String, value: ReadingValue) {
        if !self.fields.iter().any(|(k, _)| *k == key) {
            self.fields.push((key, value));
        }
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&ReadingValue> {
        self.fields.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
}

impl Serialize for Reading {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.fields.len()))?;
        for (k, v) in &self.fields {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// The reading's unit suffix and the value converted to it, exactly (only conversions by a
/// power of ten or an integer factor; other units keep their own suffix).
pub(crate) fn converted(quantity: &str, unit: &str, d: Decimal) -> Option<(&'static str, Decimal)> {
    let scale = |shift: i16| d.scaled(shift);
    let times = |k: i128| Decimal::new(d.mantissa().checked_mul(k)?, d.exponent());
    Some(match (quantity, unit) {
        (_, "m3") => ("m3", d),
        (_, "L") => ("m3", scale(-3)?),
        (_, "m3/h") => ("m3h", d),
        (_, "m3/min") => ("m3h", times(60)?),
        (_, "m3/s") => ("m3h", times(3600)?),
        (_, "L/h") => ("m3h", scale(-3)?),
        (_, "Wh") => ("kwh", scale(-3)?),
        (_, "kWh") => ("kwh", d),
        (_, "MWh") => ("kwh", scale(3)?),
        (_, "MJ") => ("mj", d),
        (_, "GJ") => ("mj", scale(3)?),
        (_, "kJ") => ("mj", scale(-3)?),
        (_, "W") => ("kw", scale(-3)?),
        (_, "kW") => ("kw", d),
        (_, "MW") => ("kw", scale(3)?),
        (_, "MJ/h") => ("mjh", d),
        (_, "C") => ("c", d),
        (_, "K") => ("k", d),
        (_, "F") => ("f", d),
        (_, "bar") => ("bar", d),
        (_, "V") => ("v", d),
        (_, "A") => ("a", d),
        (_, "kg") => ("kg", d),
        (_, "kg/h") => ("kgh", d),
        (_, "%") => ("pct", d),
        (_, "dBm") => ("dbm", d),
        (_, "Hz") => ("hz", d),
        (_, "s") => ("s", d),
        (_, "min") => ("min", d),
        (_, "h") => ("h", d),
        (_, "d") => ("d", d),
        (_, "month") => ("month", d),
        (_, "year") => ("year", d),
        _ => return None,
    })
}

/// The key stem of a numeric record: design §2.1 names for the common ones, else the
/// quantity, qualified by function, storage, tariff, subunit and modifiers.
fn stem(rec: &Record) -> String {
    // A value a register profile names (Modbus: a register address and the profile's label)
    // is keyed by that label, so a meter's forward, reverse and net totals — all `volume` —
    // stay apart: `forward_total_m3`, `reverse_total_m3`, `net_total_m3`.
    if let (Some(Address::Number(_)), Some(label)) = (&rec.address(), &rec.label()) {
        let mut key = String::new();
        push_key_words(&mut key, label);
        return key;
    }
    let mut key = String::new();
    push_stem(
        &mut key,
        rec.quantity(),
        rec.storage().unwrap_or(0),
        rec.function().unwrap_or(Function::Instantaneous),
        rec.tariff().unwrap_or(0),
        rec.subunit().unwrap_or(0),
    );
    for m in rec.modifiers() {
        key.push('_');
        key.push_str(m);
    }
    // A manufacturer layout's value without a storage number (e.g. a Hydrodigit's total at
    // the end of a month) is told apart by its label: `total_end_of_january_m3`.
    if rec.storage().is_none() && crate::wmbus::vendor::is_read_from_manufacturer_data(rec) {
        if let Some(label) = &rec.label() {
            key.push('_');
            push_key_words(&mut key, label);
        }
    }
    key
}

/// Appends the key stem of a value without modifiers or label (design §2.1 names for the
/// common ones, else the quantity qualified by function, storage, tariff and subunit): the
/// part of [`stem`] the zero-copy reading ([`crate::view_reading`]) shares.
pub(crate) fn push_stem(
    key: &mut String,
    quantity: &str,
    storage: u64,
    function: Function,
    tariff: u32,
    subunit: u32,
) {
    use core::fmt::Write;
    match (quantity, storage, function) {
        ("volume", 0, Function::Instantaneous) => key.push_str("total"),
        ("volume", 1, Function::Instantaneous) => key.push_str("target"),
        ("energy", 0, Function::Instantaneous) => key.push_str("total_energy"),
        ("energy", 1, Function::Instantaneous) => key.push_str("target_energy"),
        ("volume_flow", _, Function::Instantaneous) => key.push_str("flow"),
        ("volume_flow", _, Function::Maximum) => key.push_str("max_flow"),
        ("volume_flow", _, Function::Minimum) => key.push_str("min_flow"),
        (q, _, Function::Maximum) => {
            key.push_str("max_");
            key.push_str(q);
        }
        (q, _, Function::Minimum) => {
            key.push_str("min_");
            key.push_str(q);
        }
        (q, _, Function::Error) => {
            key.push_str(q);
            key.push_str("_at_error");
        }
        (q, _, Function::Instantaneous) => key.push_str(q),
    }
    let named_storage = matches!(quantity, "volume" | "energy") && storage <= 1;
    // Writing to a String cannot fail.
    if storage > 0 && !named_storage {
        let _ = write!(key, "_storage_{storage}");
    }
    if tariff > 0 {
        let _ = write!(key, "_tariff_{tariff}");
    }
    if subunit > 0 {
        let _ = write!(key, "_subunit_{subunit}");
    }
}

/// Appends `words` as a key part: ASCII letters and digits in lower case, every other run of
/// characters one `_`.
fn push_key_words(key: &mut String, words: &str) {
    let mut last_was_separator = false;
    for c in words.chars() {
        if c.is_ascii_alphanumeric() {
            key.push(c.to_ascii_lowercase());
            last_was_separator = false;
        } else if !last_was_separator {
            key.push('_');
            last_was_separator = true;
        }
    }
}

/// The frame whose values a reading shows: a transport message (CoAP, MQTT) that carries a
/// nested frame and has no values of its own reads as the frame it carries.
fn carried(d: &Decoded) -> &Decoded {
    match &d.payload {
        Some(inner) if d.records.is_empty() && d.meter.is_none() => carried(inner),
        _ => d,
    }
}

/// The flat reading of one frame (design §2.1). `timestamp` is the reception time to add
/// (UTC, e.g. `2026-11-25T16:00:00Z`), if the caller has one. A CoAP or MQTT message that
/// carries a frame reads as that frame, except `protocol`, which stays the message's.
pub fn to_reading(d: &Decoded, timestamp: Option<&str>) -> Reading {
    let protocol = d.protocol;
    let d = carried(d);
    let mut r = Reading::default();
    let text = |s: &str| ReadingValue::Text(s.to_string());
    if let Some(m) = &d.meter {
        if let Some(medium) = &m.medium {
            r.put("media".into(), text(medium));
        }
        if !m.id.as_str().is_empty() {
            r.put("id".into(), text(m.id.as_str()));
        }
        if let Some(man) = &m.manufacturer {
            r.put("manufacturer".into(), text(man.as_str()));
        }
    }
    r.put("protocol".into(), text(protocol.as_str()));
    for rec in &d.records {
        if rec.record_error().is_some() {
            continue;
        }
        let storage = rec.storage().unwrap_or(0);
        match &rec.value() {
            Some(Value::Number(n)) => {
                let Some((suffix, value)) =
                    rec.unit().and_then(|u| converted(rec.quantity(), u, *n))
                else {
                    if rec.unit().is_none() && rec.unit_text().is_none() {
                        r.put(stem(rec), ReadingValue::Number(*n));
                    }
                    continue;
                };
                r.put(
                    format!("{}_{suffix}", stem(rec)),
                    ReadingValue::Number(value),
                );
            }
            Some(Value::Time(t)) => {
                let key = match (rec.quantity(), storage) {
                    ("datetime", 0) if rec.modifiers().is_empty() => "meter_datetime".to_string(),
                    ("date" | "datetime", 1) if rec.modifiers().is_empty() => {
                        "target_date".to_string()
                    }
                    _ => stem(rec),
                };
                r.put(key, ReadingValue::Text(t.to_string()));
            }
            Some(Value::Text(t)) if rec.quantity() == "fabrication_no" => {
                r.put("fabrication_no".into(), text(t));
            }
            Some(Value::Text(t)) => r.put(stem(rec), text(t)),
            _ => {}
        }
    }
    let status = match &d.status {
        Some(s) if !s.flags.is_empty() => s
            .flags
            .iter()
            .map(|f| f.as_str().to_ascii_uppercase())
            .collect::<Vec<_>>()
            .join(" "),
        _ => "OK".to_string(),
    };
    r.put("status".into(), ReadingValue::Text(status));
    if let Some(ts) = timestamp {
        r.put("timestamp".into(), text(ts));
    }
    r
}

/// One column of [`Columns`].
#[derive(Clone, Debug, PartialEq)]
pub enum Column {
    /// Whole numbers (frame index, storage, tariff, subunit).
    Int(Vec<Option<u64>>),
    /// JSON numbers (values).
    Float(Vec<Option<f64>>),
    /// Text.
    Text(Vec<Option<String>>),
}

impl Serialize for Column {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Column::Int(v) => v.serialize(s),
            Column::Float(v) => v.serialize(s),
            Column::Text(v) => v.serialize(s),
        }
    }
}

/// Many frames as one table: one row per record, the meter identity repeated on each row,
/// written as `{"column": [values…], …}` — the shape `pandas.DataFrame` and
/// `polars.DataFrame` take directly.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Columns {
    /// Column name → values, in column order; every column has one value per row.
    pub columns: Vec<(&'static str, Column)>,
}

impl Serialize for Columns {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.columns.len()))?;
        for (k, v) in &self.columns {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// The columnar view of many decoded frames (one row per record; a CoAP or MQTT message that
/// carries a frame contributes that frame's rows, under the message's protocol). `address` is
/// the record's register number (Modbus) or code (OBIS, DI) as text.
pub fn readings(frames: &[Decoded]) -> Columns {
    let rows: usize = frames.iter().map(|f| carried(f).records.len()).sum();
    let mut frame = Vec::with_capacity(rows);
    let mut protocol = Vec::with_capacity(rows);
    let mut meter_id = Vec::with_capacity(rows);
    let mut manufacturer = Vec::with_capacity(rows);
    let mut medium = Vec::with_capacity(rows);
    let mut quantity = Vec::with_capacity(rows);
    let mut value = Vec::with_capacity(rows);
    let mut exact = Vec::with_capacity(rows);
    let mut text = Vec::with_capacity(rows);
    let mut unit = Vec::with_capacity(rows);
    let mut storage = Vec::with_capacity(rows);
    let mut tariff = Vec::with_capacity(rows);
    let mut subunit = Vec::with_capacity(rows);
    let mut function = Vec::with_capacity(rows);
    let mut modifiers = Vec::with_capacity(rows);
    let mut label = Vec::with_capacity(rows);
    let mut address = Vec::with_capacity(rows);
    for (i, outer) in frames.iter().enumerate() {
        let f = carried(outer);
        let meter = f.meter.as_ref();
        for rec in &f.records {
            frame.push(u64::try_from(i).ok());
            protocol.push(Some(outer.protocol.as_str().to_string()));
            meter_id.push(meter.map(|m| m.id.to_string()).filter(|s| !s.is_empty()));
            manufacturer.push(
                meter
                    .and_then(|m| m.manufacturer.as_ref())
                    .map(|m| m.to_string()),
            );
            medium.push(
                meter
                    .and_then(|m| m.medium.as_deref())
                    .map(ToString::to_string),
            );
            quantity.push(Some(rec.quantity().to_string()));
            match &rec.value() {
                Some(Value::Number(d)) => {
                    value.push(Some(d.to_f64()).filter(|v| v.is_finite()));
                    exact.push(Some(d.to_string()));
                    text.push(None);
                }
                Some(Value::Time(t)) => {
                    value.push(None);
                    exact.push(None);
                    text.push(Some(t.to_string()));
                }
                Some(Value::Text(t)) => {
                    value.push(None);
                    exact.push(None);
                    text.push(Some(t.clone()));
                }
                Some(Value::Bytes(b)) => {
                    value.push(None);
                    exact.push(None);
                    text.push(Some(crate::hex::to_hex(b.as_slice())));
                }
                None => {
                    value.push(None);
                    exact.push(None);
                    text.push(None);
                }
            }
            unit.push(rec.unit().or(rec.unit_text()).map(ToString::to_string));
            storage.push(rec.storage());
            tariff.push(rec.tariff().map(u64::from));
            subunit.push(rec.subunit().map(u64::from));
            function.push(rec.function().map(|f| f.as_str().to_string()));
            modifiers.push((!rec.modifiers().is_empty()).then(|| rec.modifiers().join(" ")));
            label.push(rec.label().map(|l| l.to_string()));
            address.push(rec.address().as_ref().map(|a| match a {
                Address::Number(n) => n.to_string(),
                Address::Text(t) => t.to_string(),
            }));
        }
    }
    Columns {
        columns: alloc::vec![
            ("frame", Column::Int(frame)),
            ("protocol", Column::Text(protocol)),
            ("meter_id", Column::Text(meter_id)),
            ("manufacturer", Column::Text(manufacturer)),
            ("medium", Column::Text(medium)),
            ("quantity", Column::Text(quantity)),
            ("value", Column::Float(value)),
            ("exact", Column::Text(exact)),
            ("text", Column::Text(text)),
            ("unit", Column::Text(unit)),
            ("storage", Column::Int(storage)),
            ("tariff", Column::Int(tariff)),
            ("subunit", Column::Int(subunit)),
            ("function", Column::Text(function)),
            ("modifiers", Column::Text(modifiers)),
            ("label", Column::Text(label)),
            ("address", Column::Text(address)),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{decode, parse_hex, Options};

    #[test]
    fn labelled_manufacturer_values_get_their_own_keys() {
        // BMeters Hydrodigit (own vector wmbus-bmeters-hydrodigit): the total, then the
        // end-of-January and end-of-December totals from its DIF 0F data.
        let hex = format!(
            "4344B4097856341213077A010000000C13674523010F950C2610310A000000102700{}F82A0000",
            "FFFFFF".repeat(10)
        );
        let d = decode(&parse_hex(&hex).unwrap(), &Options::default()).unwrap();
        let r = to_reading(&d, None);
        let number = |k: &str| match r.get(k) {
            Some(ReadingValue::Number(n)) => n.to_string(),
            other => panic!("{k}: {other:?}"),
        };
        assert_eq!(number("total_m3"), "1234.567");
        assert_eq!(number("total_end_of_january_m3"), "100.00");
        assert_eq!(number("total_end_of_december_m3"), "110.00");
        assert_eq!(number("total_backward_flow_m3"), "0.010");
    }

    #[test]
    fn profile_values_are_keyed_by_their_labels() {
        // profiles/examples.jsonl, electromagnetic-u32-abcd (RTU): forward, reverse and net
        // totals are all `volume`; the profile's labels keep them apart.
        let profile = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../profiles/electromagnetic-u32-abcd.json"
        ))
        .unwrap();
        let opts = Options::default()
            .with_protocol(Some(crate::Protocol::ModbusRtu))
            .with_request(Some(parse_hex("02 03 00 00 00 0C 45 FC").unwrap()))
            .with_modbus_profile(Some(alloc::sync::Arc::new(
                crate::modbus::profile::ModbusProfile::from_json(&profile).unwrap(),
            )));
        let frame = parse_hex(
            "02 03 18 C0 70 00 00 3F 99 99 9A 00 12 D6 87 00 00 07 D0 00 12 CE B7 00 05 01 66 16 96",
        )
        .unwrap();
        let r = to_reading(&decode(&frame, &opts).unwrap(), None);
        let number = |k: &str| match r.get(k) {
            Some(ReadingValue::Number(n)) => n.to_string(),
            other => panic!("{k}: {other:?} in {r:?}"),
        };
        assert_eq!(number("forward_total_m3"), "1234.567");
        assert_eq!(number("reverse_total_m3"), "2.000");
        assert_eq!(number("net_total_m3"), "1232.567");
    }

    fn sample() -> Decoded {
        let bytes = parse_hex(
            "68 15 15 68 08 05 72 78 56 34 12 2D 2C 01 07 2A 00 00 00 0C 13 67 45 23 01 0D 16",
        )
        .unwrap();
        decode(&bytes, &Options::default()).unwrap()
    }

    #[test]
    fn flat_reading() {
        let r = to_reading(&sample(), Some("2026-11-25T16:00:00Z"));
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(
            json,
            r#"{"media":"water","id":"12345678","manufacturer":"KAM","protocol":"mbus","total_m3":1234.567,"status":"OK","timestamp":"2026-11-25T16:00:00Z"}"#
        );
    }

    #[test]
    fn columns_repeat_the_meter_on_every_row() {
        let d = sample();
        let c = readings(&[d.clone(), d]);
        let json = serde_json::to_value(&c).unwrap();
        assert_eq!(
            json["meter_id"],
            serde_json::json!(["12345678", "12345678"])
        );
        assert_eq!(json["value"], serde_json::json!([1234.567, 1234.567]));
        assert_eq!(json["frame"], serde_json::json!([0, 1]));
        assert_eq!(json["unit"], serde_json::json!(["m3", "m3"]));
    }
}
