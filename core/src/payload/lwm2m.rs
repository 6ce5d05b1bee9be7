//! LwM2M payloads of CoAP messages: TLV (Content-Format 11542, OMA LwM2M 1.0/1.1 TS §7.4.3),
//! SenML JSON (Content-Format 110) and SenML CBOR (112, RFC 8428 §6, read with `minicbor`),
//! read into records named and typed by the OMA objects a water meter uses.
//!
//! # Objects
//!
//! | object | resources named here |
//! |---|---|
//! | 3 Device | 0 manufacturer, 1 model_number, 2 serial_number, 3 firmware_version, 6 available_power_sources, 7 power_source_voltage, 8 power_source_current, 9 battery_level, 10 memory_free, 11 error_code, 13 current_time, 14 utc_offset, 15 timezone, 16 supported_binding_and_modes, 17 device_type, 18 hardware_version, 19 software_version, 20 battery_status, 21 memory_total |
//! | 4 Connectivity Monitoring | 0 network_bearer, 1 available_network_bearer, 2 radio_signal_strength, 3 link_quality, 4 ip_addresses, 5 router_ip_addresses, 6 link_utilization, 7 apn, 8 cell_id, 9 smnc, 10 smcc, 11 signal_snr, 12 lac |
//! | 19 Binary App Data Container | 0 data, 1 data_priority, 2 data_creation_time, 3 data_description, 4 data_format, 5 app_id |
//! | 3424 Water meter (uCIFI, OMA registry, object version 1.1) | 1 cumulated_water_volume, 3 type_of_meter, 4 cumulated_pulse_value, 6 pulse_ratio, 7 minimum_flow_rate, 8 maximum_flow_rate, 9 leak_suspected, 10 leak_detected, 11 back_flow_detected, 12 blocked_meter, 13 fraud_detected, 5518 timestamp, 6042 measurement_quality_indicator, 6049 measurement_quality_level, 6050 fractional_timestamp |
//!
//! The digest names no water meter object id and asks to look it up in the OMA registry: the
//! registry's object named "Water meter" is 3424 (uCIFI Alliance, `urn:oma:lwm2m:ext:3424:1.1`).
//!
//! # Records
//!
//! One record per resource (instance) value, in wire order: `address` is the path
//! (`/3/0/9`, `/3/0/7/1` for a resource instance), `label` the resource's name, `raw.data`
//! the value's bytes (TLV). Values are typed by the object definition: integers (1, 2, 4, 8
//! bytes, two's complement) and floats (4, 8 bytes, their shortest decimal) as exact
//! numbers, booleans and strings as text, times (seconds since 1970, UTC) as date-times
//! without offset, object links as `object:instance`; opaque values have no `value`, their
//! bytes are `raw.data`. Quantities:
//! `battery` (% of 3/9), `voltage` (3/7, mV written in V), `current` (3/8, mA in A),
//! `datetime` (3/13, 3424/5518, 19/2), `signal` (4/2 dBm, 4/3, 4/11 dB), `volume` (3424/1,
//! m3), `volume_flow` (3424/7 minimum, 3424/8 maximum, m3/s), `other` for the rest. The
//! object of a TLV whose top level is not an object instance comes from the CoAP Uri-Path
//! (`/3/0`); without one (a notification) the records keep the relative path
//! (`/?/0/9`), their raw bytes and no name. The serial number (3/x/2) is `meter.id`. Water
//! meter flags that are true set `status` flags: leak suspected / detected → `leak`, back
//! flow → `reverse_flow`, fraud → `tamper`, blocked → `valve_fault` (raw: bit 0 = resource
//! 9 … bit 4 = resource 13).
//!
//! The first data resource of object 19 (`/19/x/0`, the platforms' transparent uplink) — or,
//! when the message does not name its object (a notification), the first value of the
//! unknown object — that holds a CJ/T 188, M-Bus, wM-Bus or Modbus RTU frame becomes the
//! nested `payload`; other data stays a hex record. The payload bytes stay in `application_data`, and encoding writes
//! those bytes: TLV and SenML are read-only views (an edited nested frame is not written
//! back into the TLV).

use alloc::borrow::Cow;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::decimal::Decimal;
use crate::error::{Error, ErrorKind, Layer, Result};
use crate::model::{
    Meter, Name, RawRecord, Record, RecordFields, ShortText, Span, Status, StatusFlag, Value,
};

/// How a resource's value is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// UTF-8 text.
    String,
    /// Signed integer, 1/2/4/8 bytes.
    Integer,
    /// IEEE 754 float, 4/8 bytes.
    Float,
    /// One byte, 0 or 1.
    Boolean,
    /// Seconds since 1970-01-01 UTC, as an integer.
    Time,
    /// Bytes.
    Opaque,
    /// Object link: object id and instance id, 2 bytes each.
    Objlnk,
}

/// What meterwire knows about one resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Resource {
    /// Its name in snake_case.
    pub name: &'static str,
    /// Its data type.
    pub kind: Kind,
    /// The model's quantity of its values.
    pub quantity: &'static str,
    /// The model's unit, when it has one.
    pub unit: Option<&'static str>,
    /// Powers of ten to apply to reach `unit` (mV → V: −3).
    pub scale: i16,
}

const fn res(name: &'static str, kind: Kind) -> Resource {
    Resource {
        name,
        kind,
        quantity: "other",
        unit: None,
        scale: 0,
    }
}

const fn measured(
    name: &'static str,
    kind: Kind,
    quantity: &'static str,
    unit: Option<&'static str>,
    scale: i16,
) -> Resource {
    Resource {
        name,
        kind,
        quantity,
        unit,
        scale,
    }
}

/// The Device object (3).
pub const DEVICE: u16 = 3;
/// The Connectivity Monitoring object (4).
pub const CONNECTIVITY: u16 = 4;
/// The Binary App Data Container object (19).
pub const APP_DATA: u16 = 19;
/// The Water meter object of the OMA registry (3424, uCIFI).
pub const WATER_METER: u16 = 3424;

/// The resource `object`/`resource`, when meterwire knows it (module docs).
pub fn resource(object: u16, resource: u16) -> Option<Resource> {
    use Kind::*;
    Some(match (object, resource) {
        (DEVICE, 0) => res("manufacturer", String),
        (DEVICE, 1) => res("model_number", String),
        (DEVICE, 2) => res("serial_number", String),
        (DEVICE, 3) => res("firmware_version", String),
        (DEVICE, 6) => res("available_power_sources", Integer),
        (DEVICE, 7) => measured("power_source_voltage", Integer, "voltage", Some("V"), -3),
        (DEVICE, 8) => measured("power_source_current", Integer, "current", Some("A"), -3),
        (DEVICE, 9) => measured("battery_level", Integer, "battery", Some("%"), 0),
        (DEVICE, 10) => res("memory_free", Integer),
        (DEVICE, 11) => res("error_code", Integer),
        (DEVICE, 13) => measured("current_time", Time, "datetime", None, 0),
        (DEVICE, 14) => res("utc_offset", String),
        (DEVICE, 15) => res("timezone", String),
        (DEVICE, 16) => res("supported_binding_and_modes", String),
        (DEVICE, 17) => res("device_type", String),
        (DEVICE, 18) => res("hardware_version", String),
        (DEVICE, 19) => res("software_version", String),
        (DEVICE, 20) => res("battery_status", Integer),
        (DEVICE, 21) => res("memory_total", Integer),
        (CONNECTIVITY, 0) => res("network_bearer", Integer),
        (CONNECTIVITY, 1) => res("available_network_bearer", Integer),
        (CONNECTIVITY, 2) => measured("radio_signal_strength", Integer, "signal", Some("dBm"), 0),
        (CONNECTIVITY, 3) => measured("link_quality", Integer, "signal", None, 0),
        (CONNECTIVITY, 4) => res("ip_addresses", String),
        (CONNECTIVITY, 5) => res("router_ip_addresses", String),
        (CONNECTIVITY, 6) => measured("link_utilization", Integer, "other", Some("%"), 0),
        (CONNECTIVITY, 7) => res("apn", String),
        (CONNECTIVITY, 8) => res("cell_id", Integer),
        (CONNECTIVITY, 9) => res("smnc", Integer),
        (CONNECTIVITY, 10) => res("smcc", Integer),
        (CONNECTIVITY, 11) => measured("signal_snr", Integer, "signal", Some("dB"), 0),
        (CONNECTIVITY, 12) => res("lac", Integer),
        (APP_DATA, 0) => res("data", Opaque),
        (APP_DATA, 1) => res("data_priority", Integer),
        (APP_DATA, 2) => measured("data_creation_time", Time, "datetime", None, 0),
        (APP_DATA, 3) => res("data_description", String),
        (APP_DATA, 4) => res("data_format", String),
        (APP_DATA, 5) => res("app_id", Integer),
        (WATER_METER, 1) => measured("cumulated_water_volume", Float, "volume", Some("m3"), 0),
        (WATER_METER, 3) => res("type_of_meter", String),
        (WATER_METER, 4) => res("cumulated_pulse_value", Integer),
        (WATER_METER, 6) => res("pulse_ratio", Integer),
        (WATER_METER, 7) => measured("minimum_flow_rate", Float, "volume_flow", Some("m3/s"), 0),
        (WATER_METER, 8) => measured("maximum_flow_rate", Float, "volume_flow", Some("m3/s"), 0),
        (WATER_METER, 9) => res("leak_suspected", Boolean),
        (WATER_METER, 10) => res("leak_detected", Boolean),
        (WATER_METER, 11) => res("back_flow_detected", Boolean),
        (WATER_METER, 12) => res("blocked_meter", Boolean),
        (WATER_METER, 13) => res("fraud_detected", Boolean),
        (WATER_METER, 5518) => measured("timestamp", Time, "datetime", None, 0),
        (WATER_METER, 6042) => res("measurement_quality_indicator", Integer),
        (WATER_METER, 6049) => res("measurement_quality_level", Integer),
        (WATER_METER, 6050) => measured("fractional_timestamp", Float, "other", Some("s"), 0),
        _ => return None,
    })
}

/// The path a CoAP Uri-Path names: object, instance, resource (each when numeric).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Path {
    /// Object id.
    pub object: Option<u16>,
    /// Object instance id.
    pub instance: Option<u16>,
    /// Resource id.
    pub resource: Option<u16>,
}

impl Path {
    /// Reads `/3/0/9`-style paths; anything non-numeric ends the path.
    pub fn parse(uri: &str) -> Path {
        let mut ids = uri
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| s.parse::<u16>().ok());
        let object = ids.next().flatten();
        let instance = object.and(ids.next().flatten());
        let resource = instance.and(ids.next().flatten());
        Path {
            object,
            instance,
            resource,
        }
    }
}

/// What an LwM2M payload holds for the model.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Lwm2mPayload {
    /// One record per value.
    pub records: Vec<Record>,
    /// The device's serial number (3/x/2).
    pub meter: Option<Meter>,
    /// Status flags of the water meter object.
    pub status: Option<Status>,
    /// Values to try as a nested frame, in order: Binary App Data Container data (`/19/x/0`)
    /// and values of an unknown object (a notification does not name its object); each with
    /// its offset in the payload (TLV; none for SenML) and bytes.
    pub app_data: Vec<(Option<usize>, Vec<u8>)>,
    /// Explain spans of the payload bytes (TLV), offsets from the payload's start.
    pub spans: Vec<Span>,
}

/// The kinds of TLV identifier (type byte bits 7–6).
const OBJECT_INSTANCE: u8 = 0;
const RESOURCE_INSTANCE: u8 = 1;
const MULTIPLE_RESOURCE: u8 = 2;
const RESOURCE_VALUE: u8 = 3;

/// One TLV element.
struct Tlv<'a> {
    kind: u8,
    id: u16,
    header_len: usize,
    value: &'a [u8],
}

fn malformed(at: usize, text: &'static str) -> Error {
    Error::new(
        ErrorKind::Malformed,
        Layer::Application,
        at,
        crate::error::Detail::Text(text),
    )
}

/// Reads the TLV element at `at` of `buf`.
fn tlv_at(buf: &[u8], at: usize) -> Result<Tlv<'_>> {
    let ty = *buf.get(at).ok_or(malformed(at, "TLV element missing"))?;
    let id_len = if ty & 0x20 != 0 { 2 } else { 1 };
    let len_len = usize::from((ty >> 3) & 0x03);
    let mut pos = at.saturating_add(1);
    let id_bytes = buf
        .get(pos..pos.saturating_add(id_len))
        .ok_or(malformed(at, "TLV identifier runs past the payload"))?;
    let id = id_bytes
        .iter()
        .fold(0u16, |a, &b| a.wrapping_shl(8) | u16::from(b));
    pos = pos.saturating_add(id_len);
    let len = if len_len == 0 {
        usize::from(ty & 0x07)
    } else {
        let bytes = buf
            .get(pos..pos.saturating_add(len_len))
            .ok_or(malformed(at, "TLV length runs past the payload"))?;
        pos = pos.saturating_add(len_len);
        bytes
            .iter()
            .fold(0usize, |a, &b| a.wrapping_shl(8) | usize::from(b))
    };
    let value = buf
        .get(pos..pos.saturating_add(len))
        .ok_or(malformed(at, "TLV value runs past the payload"))?;
    Ok(Tlv {
        kind: ty >> 6,
        id,
        header_len: pos.saturating_sub(at),
        value,
    })
}

/// The elements of `buf[start..end]`, with their offsets.
fn elements(buf: &[u8], start: usize, end: usize) -> Result<Vec<(usize, Tlv<'_>)>> {
    let mut out = Vec::new();
    let mut at = start;
    while at < end {
        let t = tlv_at(buf, at)?;
        let next = at
            .saturating_add(t.header_len)
            .saturating_add(t.value.len());
        if next > end {
            return Err(malformed(at, "TLV element runs past its container"));
        }
        out.push((at, t));
        at = next;
    }
    Ok(out)
}

fn be_int(bytes: &[u8]) -> Option<i128> {
    let v: i64 = match bytes.len() {
        1 => i64::from(i8::from_be_bytes(bytes.try_into().ok()?)),
        2 => i64::from(i16::from_be_bytes(bytes.try_into().ok()?)),
        4 => i64::from(i32::from_be_bytes(bytes.try_into().ok()?)),
        8 => i64::from_be_bytes(bytes.try_into().ok()?),
        _ => return None,
    };
    Some(i128::from(v))
}

/// The typed value of `bytes` (TLV encoding), or `None` when the bytes do not fit the type.
pub fn tlv_value(kind: Kind, bytes: &[u8]) -> Option<Value> {
    Some(match kind {
        Kind::String => Value::Text(String::from(core::str::from_utf8(bytes).ok()?)),
        Kind::Integer => Value::Number(Decimal::from_int(be_int(bytes)?)),
        Kind::Float => Value::Number(match bytes.len() {
            4 => Decimal::from_f32_shortest(f32::from_be_bytes(bytes.try_into().ok()?))?,
            8 => Decimal::from_f64_shortest(f64::from_be_bytes(bytes.try_into().ok()?))?,
            _ => return None,
        }),
        Kind::Boolean => match bytes {
            [0] => Value::Text("false".into()),
            [1] => Value::Text("true".into()),
            _ => return None,
        },
        Kind::Time => time_value(be_int(bytes)?)?,
        Kind::Opaque => Value::Bytes(crate::model::Bytes::new(bytes)),
        Kind::Objlnk => match bytes {
            [a, b, c, d] => Value::Text(format!(
                "{}:{}",
                u16::from_be_bytes([*a, *b]),
                u16::from_be_bytes([*c, *d])
            )),
            _ => return None,
        },
    })
}

/// Seconds since 1970 (UTC) as a date-time; from 2000 on (earlier: the number).
fn time_value(seconds: i128) -> Option<Value> {
    let since_2000 = u64::try_from(seconds.checked_sub(946_684_800)?).ok();
    Some(match since_2000.filter(|s| *s <= u64::from(u32::MAX)) {
        Some(s) => Value::Time(crate::wmbus::vendor::timestamp_since_2000(s)),
        None => Value::Number(Decimal::from_int(seconds)),
    })
}

/// A record of one value at `path` (object, instance, resource, resource instance).
fn record(
    object: Option<u16>,
    ids: [Option<u16>; 3],
    value: Value,
    raw: Option<&[u8]>,
    known: Option<Resource>,
) -> RecordFields {
    let mut path = String::new();
    match object {
        Some(o) => path.push_str(&format!("/{o}")),
        None => path.push_str("/?"),
    }
    for id in ids.iter().flatten() {
        path.push_str(&format!("/{id}"));
    }
    let mut r = RecordFields::new(known.map_or("other", |k| k.quantity));
    let mut value = value;
    if let (Some(k), Value::Number(n)) = (known, &value) {
        if k.scale != 0 {
            if let Some(scaled) = n.scaled(k.scale) {
                value = Value::Number(scaled);
            }
        }
    }
    // Opaque values are their bytes: `raw.data` (a hex `value` would read back as text).
    let bytes_value = match &value {
        Value::Bytes(b) => Some(b.clone()),
        _ => None,
    };
    r.value = if bytes_value.is_some() {
        None
    } else {
        Some(value)
    };
    r.unit = known.and_then(|k| k.unit).map(Cow::Borrowed);
    r.label = known.map(|k| Cow::Borrowed(k.name));
    if let Some(k) = known {
        if k.name == "minimum_flow_rate" {
            r.function = Some(crate::model::Function::Minimum);
        } else if k.name == "maximum_flow_rate" {
            r.function = Some(crate::model::Function::Maximum);
        }
    }
    r.address = Some(crate::model::Address::Text(Name::Owned(path)));
    r.raw = raw
        .or(bytes_value.as_ref().map(|b| b.as_slice()))
        .map(|b| RawRecord::new(0, &[], &[], b));
    r
}

/// Builds the payload's records from its values (shared by TLV and SenML).
struct Builder {
    out: Lwm2mPayload,
    status_raw: u32,
    flags: crate::model::StatusFlags,
}

impl Builder {
    fn new() -> Builder {
        Builder {
            out: Lwm2mPayload::default(),
            status_raw: 0,
            flags: crate::model::StatusFlags::default(),
        }
    }

    /// Adds one value; `raw` are its TLV bytes (SenML: none); `at` its offset (TLV).
    fn value(
        &mut self,
        object: Option<u16>,
        ids: [Option<u16>; 3],
        typed: Option<Value>,
        raw: Option<&[u8]>,
        at: Option<usize>,
    ) -> usize {
        let known = object.zip(ids[1]).and_then(|(o, r)| resource(o, r));
        let kind = known.map(|k| k.kind);
        let value = match (typed, raw) {
            (Some(v), _) => v,
            (None, Some(bytes)) => kind
                .and_then(|k| tlv_value(k, bytes))
                .unwrap_or_else(|| Value::Bytes(crate::model::Bytes::new(bytes))),
            (None, None) => Value::Text(String::new()),
        };
        if (object == Some(APP_DATA) && ids[1] == Some(0)) || object.is_none() {
            if let Value::Bytes(b) = &value {
                self.out.app_data.push((at, b.as_slice().to_vec()));
            }
        }
        if object == Some(DEVICE) && ids[1] == Some(2) && self.out.meter.is_none() {
            if let Value::Text(t) = &value {
                if let Some(id) = ShortText::new(t) {
                    self.out.meter = Some(Meter {
                        id,
                        ..Meter::default()
                    });
                }
            }
        }
        if let (Some(WATER_METER), Some(r @ 9..=13), Value::Text(t)) = (object, ids[1], &value) {
            if t == "true" {
                self.status_raw |= 1u32.wrapping_shl(u32::from(r.saturating_sub(9)));
                self.flags.insert(match r {
                    9 | 10 => StatusFlag::Leak,
                    11 => StatusFlag::ReverseFlow,
                    12 => StatusFlag::ValveFault,
                    _ => StatusFlag::Tamper,
                });
            }
        }
        self.out
            .records
            .push(record(object, ids, value, raw, known).into());
        self.out.records.len().saturating_sub(1)
    }

    fn finish(mut self, water_meter_seen: bool) -> Lwm2mPayload {
        if water_meter_seen {
            self.out.status = Some(Status {
                raw: self.status_raw,
                flags: self.flags,
            });
        }
        self.out
    }
}

/// Reads a TLV payload. `path` is the CoAP Uri-Path's object / instance / resource.
pub fn read_tlv(bytes: &[u8], path: Path) -> Result<Lwm2mPayload> {
    let mut b = Builder::new();
    let mut spans = Vec::new();
    let top = elements(bytes, 0, bytes.len())?;
    let mut water = false;
    for (at, t) in &top {
        match t.kind {
            OBJECT_INSTANCE => {
                let object = path.object;
                water |= object == Some(WATER_METER);
                spans.push(span(
                    *at,
                    t.header_len,
                    "application_data",
                    format!("TLV object instance {} ({} bytes)", t.id, t.value.len()),
                ));
                let start = at.saturating_add(t.header_len);
                let end = start.saturating_add(t.value.len());
                for (rat, r) in elements(bytes, start, end)? {
                    resource_tlv(&mut b, &mut spans, bytes, rat, &r, object, Some(t.id))?;
                }
            }
            RESOURCE_VALUE | MULTIPLE_RESOURCE => {
                water |= path.object == Some(WATER_METER);
                resource_tlv(
                    &mut b,
                    &mut spans,
                    bytes,
                    *at,
                    t,
                    path.object,
                    path.instance,
                )?;
            }
            _ => {
                // A resource instance at the top: the path names its resource.
                water |= path.object == Some(WATER_METER);
                let ids = [path.instance, path.resource, Some(t.id)];
                spans.push(span(
                    *at,
                    t.header_len,
                    "application_data",
                    format!("TLV resource instance {}", t.id),
                ));
                let i = b.value(
                    path.object,
                    ids,
                    None,
                    Some(t.value),
                    Some(at.saturating_add(t.header_len)),
                );
                spans.push(value_span(
                    &b,
                    i,
                    at.saturating_add(t.header_len),
                    t.value.len(),
                ));
            }
        }
    }
    let mut out = b.finish(water);
    out.spans = spans;
    Ok(out)
}

fn span(start: usize, len: usize, path: &str, label: String) -> Span {
    Span {
        start,
        end: start.saturating_add(len),
        path: path.into(),
        label,
    }
}

fn value_span(b: &Builder, i: usize, start: usize, len: usize) -> Span {
    let r = b.out.records.get(i);
    let name = r.and_then(|r| r.label()).unwrap_or("value").to_string();
    let shown = match r.and_then(|r| r.value()) {
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Text(t)) => format!("{t:?}"),
        Some(Value::Time(t)) => t.to_string(),
        Some(Value::Bytes(b)) => format!("{} bytes", b.len()),
        None => String::new(),
    };
    let unit = r.and_then(|r| r.unit()).unwrap_or("");
    span(
        start,
        len,
        &format!("records[{i}].raw.data"),
        format!("{name} = {shown} {unit}").trim_end().to_string(),
    )
}

/// One resource TLV (with a value, or a multiple resource) of `object`/`instance`.
fn resource_tlv(
    b: &mut Builder,
    spans: &mut Vec<Span>,
    bytes: &[u8],
    at: usize,
    t: &Tlv<'_>,
    object: Option<u16>,
    instance: Option<u16>,
) -> Result<()> {
    let name = object
        .and_then(|o| resource(o, t.id))
        .map_or("", |r| r.name);
    let start = at.saturating_add(t.header_len);
    match t.kind {
        RESOURCE_VALUE => {
            spans.push(span(
                at,
                t.header_len,
                "application_data",
                format!("TLV resource {} {name}", t.id)
                    .trim_end()
                    .to_string(),
            ));
            let i = b.value(
                object,
                [instance, Some(t.id), None],
                None,
                Some(t.value),
                Some(start),
            );
            spans.push(value_span(b, i, start, t.value.len()));
        }
        MULTIPLE_RESOURCE => {
            spans.push(span(
                at,
                t.header_len,
                "application_data",
                format!("TLV multiple resource {} {name}", t.id)
                    .trim_end()
                    .to_string(),
            ));
            let end = start.saturating_add(t.value.len());
            for (iat, inst) in elements(bytes, start, end)? {
                if inst.kind != RESOURCE_INSTANCE {
                    return Err(malformed(
                        iat,
                        "a multiple resource holds resource instances only",
                    ));
                }
                let vstart = iat.saturating_add(inst.header_len);
                spans.push(span(
                    iat,
                    inst.header_len,
                    "application_data",
                    format!("TLV resource instance {}", inst.id),
                ));
                let i = b.value(
                    object,
                    [instance, Some(t.id), Some(inst.id)],
                    None,
                    Some(inst.value),
                    Some(vstart),
                );
                spans.push(value_span(b, i, vstart, inst.value.len()));
            }
        }
        _ => return Err(malformed(at, "an object instance holds resources only")),
    }
    Ok(())
}

/// Adds one SenML value named `name` (a full LwM2M path); whether it is of the water meter.
fn senml_value(b: &mut Builder, name: &str, value: Value) -> bool {
    let p: Vec<Option<u16>> = name
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().ok())
        .collect();
    let object = p.first().copied().flatten();
    let ids = [
        p.get(1).copied().flatten(),
        p.get(2).copied().flatten(),
        p.get(3).copied().flatten(),
    ];
    // A value in a resource's own type where SenML's is looser (numbers for times).
    let known = object.zip(ids[1]).and_then(|(o, r)| resource(o, r));
    let value = match (known.map(|k| k.kind), &value) {
        (Some(Kind::Time), Value::Number(n)) => n.to_i128().and_then(time_value).unwrap_or(value),
        _ => value,
    };
    b.value(object, ids, Some(value), None, None);
    object == Some(WATER_METER)
}

/// Reads a SenML CBOR payload (RFC 8428 §6: an array of maps with the integer labels bn −2,
/// n 0, v 2, vs 3, vb 4, vd 8; other labels are skipped) whose names are LwM2M paths; `None`
/// when the bytes are not one such array (definite lengths), read to the end. Floats keep
/// their width: a half or single float is its shortest single-precision decimal.
pub fn read_senml_cbor(bytes: &[u8]) -> Option<Lwm2mPayload> {
    use minicbor::data::Type;
    let mut d = minicbor::Decoder::new(bytes);
    let records = d.array().ok()??;
    let mut b = Builder::new();
    let mut base_name = String::new();
    let mut water = false;
    for _ in 0..records {
        let entries = d.map().ok()??;
        let mut name = None;
        let mut value = None;
        for _ in 0..entries {
            match d.i64().ok()? {
                -2 => base_name = String::from(d.str().ok()?),
                0 => name = Some(String::from(d.str().ok()?)),
                2 => {
                    let n = match d.datatype().ok()? {
                        Type::F16 => {
                            let at = d.position().checked_add(1)?;
                            let half = bytes.get(at..at.checked_add(2)?)?;
                            d.skip().ok()?;
                            Decimal::from_f32_shortest(half_to_f32(u16::from_be_bytes([
                                *half.first()?,
                                *half.get(1)?,
                            ]))?)?
                        }
                        Type::F32 => Decimal::from_f32_shortest(d.f32().ok()?)?,
                        Type::F64 => Decimal::from_f64_shortest(d.f64().ok()?)?,
                        _ => Decimal::from_int(i128::from(d.int().ok()?)),
                    };
                    value = Some(Value::Number(n));
                }
                3 => value = Some(Value::Text(String::from(d.str().ok()?))),
                4 => value = Some(Value::Text(d.bool().ok()?.to_string())),
                8 => value = Some(Value::Bytes(crate::model::Bytes::new(d.bytes().ok()?))),
                _ => d.skip().ok()?,
            }
        }
        if let Some(value) = value {
            let full = format!("{base_name}{}", name.unwrap_or_default());
            water |= senml_value(&mut b, &full, value);
        }
    }
    (d.position() == bytes.len()).then(|| b.finish(water))
}

/// An IEEE 754 half-precision float as the (exactly equal) single; `None` for infinities and
/// NaN.
fn half_to_f32(h: u16) -> Option<f32> {
    let sign = u32::from(h >> 15).wrapping_shl(31);
    let exp = u32::from((h >> 10) & 0x1F);
    let mant = u32::from(h & 0x3FF);
    match exp {
        31 => None,
        // Subnormal: mant × 2^-24, exact in a single.
        0 => {
            // 2^-24 is 0x33800000 as a single; mant < 2^10 converts exactly.
            let value = f32::from(u16::try_from(mant).ok()?) * f32::from_bits(0x3380_0000);
            Some(if sign != 0 { -value } else { value })
        }
        _ => Some(f32::from_bits(
            sign | exp.wrapping_add(112).wrapping_shl(23) | mant.wrapping_shl(13),
        )),
    }
}

/// Base64url (RFC 4648 §5, padding optional) as bytes.
fn base64url(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len().saturating_mul(3) / 4);
    let mut acc = 0u32;
    let mut bits = 0u32;
    for c in text.bytes().filter(|c| *c != b'=') {
        let v = match c {
            b'A'..=b'Z' => c.wrapping_sub(b'A'),
            b'a'..=b'z' => c.wrapping_sub(b'a').wrapping_add(26),
            b'0'..=b'9' => c.wrapping_sub(b'0').wrapping_add(52),
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            _ => return None,
        };
        acc = acc.wrapping_shl(6) | u32::from(v);
        bits = bits.wrapping_add(6);
        if bits >= 8 {
            bits = bits.wrapping_sub(8);
            out.push(u8::try_from(acc.wrapping_shr(bits) & 0xFF).unwrap_or(0));
        }
    }
    Some(out)
}

/// Reads a SenML JSON payload (RFC 8428: `bn`, `n`, `v`, `vs`, `vb`, `vd`) whose names are
/// LwM2M paths; `None` when it is not a JSON array of SenML records. Record times (`bt`,
/// `t`) are not kept: the model's records carry no time of their own.
pub fn read_senml_json(bytes: &[u8]) -> Option<Lwm2mPayload> {
    use serde_json::value::RawValue;
    let text = core::str::from_utf8(bytes).ok()?;
    let list: Vec<&RawValue> = serde_json::from_str(text).ok()?;
    let mut b = Builder::new();
    let mut base_name = String::new();
    let mut water = false;
    for item in list {
        let fields: alloc::collections::BTreeMap<String, &RawValue> =
            serde_json::from_str(item.get()).ok()?;
        let text_of = |k: &str| {
            fields
                .get(k)
                .and_then(|v| serde_json::from_str::<String>(v.get()).ok())
        };
        if let Some(bn) = text_of("bn") {
            base_name = bn;
        }
        let name = format!("{base_name}{}", text_of("n").unwrap_or_default());
        let value = if let Some(v) = fields.get("v") {
            Some(Value::Number(Decimal::parse(v.get())?))
        } else if let Some(vs) = text_of("vs") {
            Some(Value::Text(vs))
        } else if let Some(vb) = fields.get("vb") {
            Some(Value::Text(vb.get().to_string()))
        } else if let Some(vd) = text_of("vd") {
            Some(Value::Bytes(crate::model::Bytes::new(&base64url(&vd)?)))
        } else {
            None
        };
        if let Some(value) = value {
            water |= senml_value(&mut b, &name, value);
        }
    }
    Some(b.finish(water))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hex::parse_hex;

    fn exact(r: &Record) -> String {
        match &r.value() {
            Some(Value::Number(n)) => n.to_string(),
            Some(Value::Text(t)) => t.clone(),
            Some(Value::Time(t)) => t.to_string(),
            Some(Value::Bytes(b)) => crate::hex::to_hex(b.as_slice()),
            None => r
                .raw()
                .as_ref()
                .map(|raw| crate::hex::to_hex(raw.data()))
                .unwrap_or_default(),
        }
    }

    /// The Device object instance example of the LwM2M 1.0 TS (§7.4.3.1 style): instance 0
    /// with manufacturer "Open Mobile Alliance", battery level 100, two power source
    /// voltages (multiple resource 7), current time 1367491215 (2013-05-02T10:40:15 UTC).
    #[test]
    fn device_instance() {
        let manufacturer = b"Open Mobile Alliance";
        let mut body = Vec::new();
        body.extend([0xC8, 0x00, manufacturer.len() as u8]);
        body.extend_from_slice(manufacturer);
        body.extend([0xC1, 0x09, 0x64]);
        body.extend(parse_hex("87 07 41 00 01 42 01 13 88").unwrap());
        body.extend(parse_hex("C4 0D 51 82 42 8F").unwrap());
        body.extend(parse_hex("C8 02 05 31 32 33 34 35").unwrap());
        let mut tlv = alloc::vec![0x08, 0x00, body.len() as u8];
        tlv.extend(&body);
        let p = read_tlv(&tlv, Path::parse("/3")).unwrap();
        let got: Vec<(String, String, String)> = p
            .records
            .iter()
            .map(|r| {
                let addr = match &r.address() {
                    Some(crate::model::Address::Text(t)) => t.to_string(),
                    _ => String::new(),
                };
                (addr, r.label().unwrap_or("").to_string(), exact(r))
            })
            .collect();
        let want = [
            ("/3/0/0", "manufacturer", "Open Mobile Alliance"),
            ("/3/0/9", "battery_level", "100"),
            ("/3/0/7/0", "power_source_voltage", "0.001"),
            ("/3/0/7/1", "power_source_voltage", "5.000"),
            ("/3/0/13", "current_time", "2013-05-02T10:40:15"),
            ("/3/0/2", "serial_number", "12345"),
        ];
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(want) {
            assert_eq!((g.0.as_str(), g.1.as_str(), g.2.as_str()), w);
        }
        assert_eq!(p.records[1].unit(), Some("%"));
        assert_eq!(p.records[3].unit(), Some("V"));
        assert_eq!(p.meter.unwrap().id.as_str(), "12345");
        // Spans cover every byte once.
        let mut at = 0;
        for s in &p.spans {
            assert_eq!(s.start, at, "{s:?}");
            at = s.end;
        }
        assert_eq!(at, tlv.len());
    }

    #[test]
    fn water_meter_and_app_data() {
        // /3424/0: volume 1234.5 (float32 0x449A5000), leak detected true.
        let tlv = parse_hex("C4 01 44 9A 50 00 C1 0A 01").unwrap();
        let p = read_tlv(&tlv, Path::parse("/3424/0")).unwrap();
        assert_eq!(p.records[0].quantity(), "volume");
        assert_eq!(exact(&p.records[0]), "1234.5");
        assert_eq!(p.records[0].unit(), Some("m3"));
        let st = p.status.unwrap();
        assert_eq!(st.raw, 2);
        assert!(st.flags.contains(StatusFlag::Leak));
        // /19/0/0 data (resource with value, 16-bit length field).
        let tlv = parse_hex("D0 00 00 03 68 10 16").unwrap();
        let p = read_tlv(&tlv, Path::parse("/19/0")).unwrap();
        assert_eq!(p.app_data, [(Some(4), alloc::vec![0x68, 0x10, 0x16])]);
    }

    #[test]
    fn errors() {
        assert!(read_tlv(&[0xC4, 0x01, 0x00], Path::default()).is_err());
        assert!(read_tlv(&[0x08, 0x00, 0x02, 0xC1], Path::default()).is_err());
        assert!(read_tlv(&[0xC8], Path::default()).is_err());
    }

    #[test]
    fn senml() {
        let text = br#"[{"bn":"/3424/0/","n":"1","v":1234.567},{"n":"10","vb":true},{"bn":"/19/0/","n":"0","vd":"aBAW"},{"bn":"/3/0/","n":"13","v":1367491215}]"#;
        let p = read_senml_json(text).unwrap();
        assert_eq!(exact(&p.records[0]), "1234.567");
        assert_eq!(p.records[0].label(), Some("cumulated_water_volume"));
        assert_eq!(exact(&p.records[1]), "true");
        assert_eq!(p.app_data, [(None, alloc::vec![0x68, 0x10, 0x16])]);
        assert_eq!(exact(&p.records[3]), "2013-05-02T10:40:15");
        assert!(p.status.unwrap().flags.contains(StatusFlag::Leak));
        assert!(read_senml_json(b"{}").is_none());
    }

    /// The same records as SenML CBOR: [{-2: "/3424/0/", 0: "1", 2: 1234.5 (float32)},
    /// {0: "10", 4: true}, {-2: "/19/0/", 0: "0", 8: h'681016'}].
    #[test]
    fn senml_cbor() {
        let cbor = parse_hex(
            "83 A3 21 68 2F333432342F302F 00 61 31 02 FA 449A5000 \
             A2 00 62 3130 04 F5 \
             A3 21 66 2F31392F302F 00 61 30 08 43 681016",
        )
        .unwrap();
        let p = read_senml_cbor(&cbor).unwrap();
        assert_eq!(exact(&p.records[0]), "1234.5");
        assert_eq!(p.records[0].unit(), Some("m3"));
        assert_eq!(exact(&p.records[1]), "true");
        assert_eq!(p.app_data, [(None, alloc::vec![0x68, 0x10, 0x16])]);
        assert!(p.status.unwrap().flags.contains(StatusFlag::Leak));
        // Trailing bytes, a map instead of an array, a truncated record: not SenML CBOR.
        let mut long = cbor.clone();
        long.push(0);
        assert!(read_senml_cbor(&long).is_none());
        assert!(read_senml_cbor(&parse_hex("A0").unwrap()).is_none());
        assert!(read_senml_cbor(&cbor[..cbor.len() - 1]).is_none());
        // Half floats: 0x3C00 = 1.0, 0xC000 = -2.0, 0x0001 = 2^-24, 0x7BFF = 65504.
        assert_eq!(half_to_f32(0x3C00), Some(1.0));
        assert_eq!(half_to_f32(0xC000), Some(-2.0));
        assert_eq!(half_to_f32(0x0001), Some(f32::from_bits(0x3380_0000)));
        assert_eq!(half_to_f32(0x7BFF), Some(65504.0));
        assert_eq!(half_to_f32(0x7C00), None);
        let half = parse_hex("81 A2 21 66 2F332F302F39 02 F9 5640").unwrap();
        // /3/9 is battery level (integer): a half 100.0 still reads as its number.
        let p = read_senml_cbor(&half).unwrap();
        assert_eq!(exact(&p.records[0]), "100");
    }
}
