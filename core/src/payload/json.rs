//! JSON payloads (MQTT and CoAP uplinks of Cat.1 meters, platforms' "non-transparent" mode)
//! read into records of the transport's model.
//!
//! Vendors name their JSON members freely, and the mobile digest (§4.4) asks not to
//! hard-code product profiles, so the mapping is generic:
//!
//! * every scalar member becomes one record, in document order, with `label` = the member's
//!   path (`vol`, `data.flow`, `values[2]`); objects and arrays are walked up to 4 levels;
//! * numbers — and strings that are exact decimal numbers (`"1234.567"`) — keep their exact
//!   decimal text (`exact`), never a float's; other strings and booleans are text values;
//!   `null` is skipped;
//! * the quantity comes from the member's name where a name is common enough to be
//!   unambiguous (case, `_` and `-` ignored): `vol`, `volume`, `total`, `totalflow`,
//!   `cumulativeflow`, `reading` → `volume`; `flow`, `flowrate` → `volume_flow`; `battery`,
//!   `bat`, `batt` → `battery`; `voltage`, `batteryvoltage` → `voltage`; `rssi`, `rsrp`,
//!   `rsrq`, `snr`, `sinr`, `csq`, `ecl`, `signal` → `signal`; `valve` → `valve`;
//!   `pressure` → `pressure`; every other member is `other`;
//! * a top-level `id`, `meterid`, `meterno`, `meteraddr`, `deviceid`, `imei`, `sn`, `addr`
//!   (string or integer) is `meter.id` rather than a record;
//! * a top-level `unit` whose value is a unit of the model (`m3`, `L`, …) is the unit of the
//!   `volume` records rather than a record.
//!
//! The payload's bytes stay in `application_data`; encoding writes those bytes back.

use alloc::borrow::Cow;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use serde::de::{Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::decimal::Decimal;
use crate::model::{Meter, Name, Record, RecordFields, ShortText, Value};

/// What a JSON payload holds for the model.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct JsonPayload {
    /// The meter's id, from a top-level id member.
    pub meter: Option<Meter>,
    /// One record per scalar member.
    pub records: Vec<Record>,
}

/// The deepest object / array nesting walked.
const MAX_LEVELS: usize = 4;

/// Units of the model a `unit` member may name.
const UNITS: [&str; 12] = [
    "m3", "L", "m3/h", "L/h", "kWh", "MWh", "GJ", "C", "V", "%", "dBm", "bar",
];

/// Members in document order.
struct Members<'a>(Vec<(String, &'a RawValue)>);

impl<'de> Deserialize<'de> for Members<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Members<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, &'de RawValue>()? {
                    out.push((k, v));
                }
                Ok(Members(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// Elements in order.
struct Elements<'a>(Vec<&'a RawValue>);

impl<'de> Deserialize<'de> for Elements<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Elements<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON array")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(v) = seq.next_element::<&'de RawValue>()? {
                    out.push(v);
                }
                Ok(Elements(out))
            }
        }
        d.deserialize_seq(V)
    }
}

/// The member name folded for matching: lower case, without `_`, `-` and spaces.
fn fold(name: &str) -> String {
    name.chars()
        .filter(|c| !matches!(c, '_' | '-' | ' '))
        .flat_map(char::to_lowercase)
        .collect()
}

/// The quantity of a member name (module docs).
fn quantity_of(name: &str) -> &'static str {
    match fold(name).as_str() {
        "vol" | "volume" | "total" | "totalflow" | "totalvolume" | "cumulativeflow" | "reading" => {
            "volume"
        }
        "flow" | "flowrate" => "volume_flow",
        "battery" | "bat" | "batt" => "battery",
        "voltage" | "batteryvoltage" => "voltage",
        "rssi" | "rsrp" | "rsrq" | "snr" | "sinr" | "csq" | "ecl" | "signal" => "signal",
        "valve" => "valve",
        "pressure" => "pressure",
        _ => "other",
    }
}

fn is_id(name: &str) -> bool {
    matches!(
        fold(name).as_str(),
        "id" | "meterid" | "meterno" | "meteraddr" | "deviceid" | "imei" | "sn" | "addr"
    )
}

/// The exact number of a JSON number's text, or of a string that is one.
fn number(text: &str) -> Option<Decimal> {
    let plain = text
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E'));
    if plain && text.bytes().any(|b| b.is_ascii_digit()) {
        Decimal::parse(text)
    } else {
        None
    }
}

/// Reads a JSON payload; `None` when the bytes are not a JSON object or array.
pub fn read(bytes: &[u8]) -> Option<JsonPayload> {
    let text = core::str::from_utf8(bytes).ok()?;
    let trimmed = text.trim_start();
    if !trimmed.starts_with('{') && !trimmed.starts_with('[') {
        return None;
    }
    let root: &RawValue = serde_json::from_str(text).ok()?;
    let mut out = JsonPayload::default();
    let mut unit: Option<&'static str> = None;
    if let Ok(Members(members)) = serde_json::from_str::<Members<'_>>(root.get()) {
        for (name, value) in members {
            let raw = value.get();
            if is_id(&name) && out.meter.is_none() {
                let id = serde_json::from_str::<String>(raw)
                    .ok()
                    .or_else(|| number(raw).map(|_| raw.to_string()));
                if let Some(id) = id.as_deref().and_then(ShortText::new) {
                    out.meter = Some(Meter {
                        id,
                        ..Meter::default()
                    });
                    continue;
                }
            }
            if fold(&name) == "unit" && unit.is_none() {
                if let Ok(text) = serde_json::from_str::<String>(raw) {
                    if let Some(u) = UNITS.iter().find(|u| **u == text) {
                        unit = Some(u);
                        continue;
                    }
                }
            }
            walk(&name, &name, value, 1, &mut out.records);
        }
    } else {
        walk("", "", root, 0, &mut out.records);
    }
    if let Some(unit) = unit {
        for r in out.records.iter_mut().filter(|r| r.quantity() == "volume") {
            if r.unit().is_none() && matches!(r.value(), Some(Value::Number(_))) {
                r.set_unit(Some(Cow::Borrowed(unit)));
            }
        }
    }
    Some(out)
}

/// Adds the records of `value` at `path` (`name` is the last member name, for the quantity).
fn walk(path: &str, name: &str, value: &RawValue, level: usize, records: &mut Vec<Record>) {
    let raw = value.get();
    let child = |suffix: &dyn fmt::Display, dot: bool| -> String {
        if path.is_empty() {
            alloc::format!("{suffix}")
        } else if dot {
            alloc::format!("{path}.{suffix}")
        } else {
            alloc::format!("{path}{suffix}")
        }
    };
    match raw.as_bytes().first() {
        Some(b'{') if level < MAX_LEVELS => {
            if let Ok(Members(members)) = serde_json::from_str::<Members<'_>>(raw) {
                for (key, v) in members {
                    walk(
                        &child(&key, true),
                        &key,
                        v,
                        level.saturating_add(1),
                        records,
                    );
                }
            }
        }
        Some(b'[') if level < MAX_LEVELS => {
            if let Ok(Elements(items)) = serde_json::from_str::<Elements<'_>>(raw) {
                for (i, v) in items.into_iter().enumerate() {
                    let index = alloc::format!("[{i}]");
                    walk(
                        &child(&index, false),
                        name,
                        v,
                        level.saturating_add(1),
                        records,
                    );
                }
            }
        }
        Some(b'n') => {}
        _ => {
            let value = if let Some(d) = number(raw) {
                Value::Number(d)
            } else if let Ok(text) = serde_json::from_str::<String>(raw) {
                match number(&text) {
                    Some(d) => Value::Number(d),
                    None => Value::Text(text),
                }
            } else {
                Value::Text(raw.to_string())
            };
            let mut record = RecordFields::new(quantity_of(name));
            record.value = Some(value);
            record.label = Some(Name::Owned(path.to_string()));
            records.push(record.into());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_mq1_payload() {
        let p = read(br#"{"id":"12345678","vol":"1234.567","unit":"m3"}"#).unwrap();
        assert_eq!(p.meter.unwrap().id.as_str(), "12345678");
        assert_eq!(p.records.len(), 1);
        let r = &p.records[0];
        assert_eq!(
            (r.quantity(), r.unit(), r.label()),
            ("volume", Some("m3"), Some("vol"))
        );
        assert_eq!(r.number().unwrap().to_string(), "1234.567");
    }

    #[test]
    fn nested_members_keep_exact_numbers_and_order() {
        let p = read(br#" {"data":{"flow":0.120,"rsrp":-95},"ok":true,"v":[1,null,"x"]}"#).unwrap();
        let got: Vec<(String, String)> = p
            .records
            .iter()
            .map(|r| {
                let v = match &r.value() {
                    Some(Value::Number(d)) => d.to_string(),
                    Some(Value::Text(t)) => t.clone(),
                    _ => String::new(),
                };
                (r.label().unwrap().to_string(), v)
            })
            .collect();
        let want = [
            ("data.flow", "0.120"),
            ("data.rsrp", "-95"),
            ("ok", "true"),
            ("v[0]", "1"),
            ("v[2]", "x"),
        ];
        assert_eq!(got.len(), want.len());
        for ((l, v), (wl, wv)) in got.iter().zip(want) {
            assert_eq!((l.as_str(), v.as_str()), (wl, wv));
        }
        assert_eq!(p.records[0].quantity(), "volume_flow");
        assert_eq!(p.records[1].quantity(), "signal");
    }

    #[test]
    fn not_json() {
        assert!(read(b"12345").is_none());
        assert!(read(b"{\"a\":").is_none());
        assert!(read(&[0x7B, 0xFF, 0x7D]).is_none());
    }
}
