//! The decoded data model of design §2: one set of serde types for every protocol and runtime.
//!
//! Everything is owned and fully decoded. Optional fields are omitted from JSON, never `null`.
//! Field order in the Rust structs is the key order of the JSON text, so `decode_json` is
//! deterministic. The types are built so a typical record needs no heap allocation: a
//! [`Record`] keeps its number or time, `'static` names borrowed from the tables and up to 16
//! raw bytes in place (112 bytes), and is read through accessors; [`RecordFields`] is the
//! same record with public owned fields, for building and editing one.

use alloc::borrow::Cow;
use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::{self, Write};

use serde::de::{self, Deserializer};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};

use crate::decimal::{Decimal, StackText};
use crate::hex;

/// The version of this model; bumped on any breaking change (design §2).
pub const SCHEMA_VERSION: u32 = 1;

/// A static or owned name (`"volume"`, `"m3"`): tables lend `'static` strings, decoding JSON
/// owns them.
pub type Name = Cow<'static, str>;

/// The protocols of the model's `protocol` key.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Protocol {
    /// Wired M-Bus, EN 13757-2/-3.
    Mbus,
    /// Wireless M-Bus, EN 13757-4 / OMS.
    Wmbus,
    /// CJ/T 188 (2004 / 2018).
    Cjt188,
    /// Modbus RTU.
    ModbusRtu,
    /// Modbus TCP.
    ModbusTcp,
    /// IEC 62056-21 (optical).
    #[serde(rename = "iec62056_21")]
    Iec62056_21,
    /// CoAP.
    Coap,
    /// MQTT.
    Mqtt,
}

impl Protocol {
    /// The model's name of the protocol (`"mbus"`, `"modbus_rtu"`, …).
    pub const fn as_str(self) -> &'static str {
        match self {
            Protocol::Mbus => "mbus",
            Protocol::Wmbus => "wmbus",
            Protocol::Cjt188 => "cjt188",
            Protocol::ModbusRtu => "modbus_rtu",
            Protocol::ModbusTcp => "modbus_tcp",
            Protocol::Iec62056_21 => "iec62056_21",
            Protocol::Coap => "coap",
            Protocol::Mqtt => "mqtt",
        }
    }

    /// Every protocol of the model.
    pub const ALL: [Protocol; 8] = [
        Protocol::Mbus,
        Protocol::Wmbus,
        Protocol::Cjt188,
        Protocol::ModbusRtu,
        Protocol::ModbusTcp,
        Protocol::Iec62056_21,
        Protocol::Coap,
        Protocol::Mqtt,
    ];

    /// Reads a protocol name; the hyphen spellings (`modbus-rtu`, `iec62056-21`) are accepted.
    pub fn from_name(name: &str) -> Option<Protocol> {
        let mut buf = StackText::new();
        for c in name.chars() {
            let c = if c == '-' {
                '_'
            } else {
                c.to_ascii_lowercase()
            };
            buf.write_char(c).ok()?;
        }
        let key = buf.as_str();
        Protocol::ALL.into_iter().find(|p| p.as_str() == key)
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A byte-valued code, written `"0x08"` in JSON (upper-case digits, `0x` prefix).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Code8(pub u8);

/// A 16-bit code, written `"0x2C2D"` in JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Code16(pub u16);

impl fmt::Display for Code8 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{:02X}", self.0)
    }
}

impl fmt::Display for Code16 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{:04X}", self.0)
    }
}

fn parse_code(text: &str) -> Option<u32> {
    let digits = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))?;
    u32::from_str_radix(digits, 16).ok()
}

impl Serialize for Code8 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl Serialize for Code16 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Code8 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text: Cow<'de, str> = Deserialize::deserialize(d)?;
        parse_code(&text)
            .and_then(|v| u8::try_from(v).ok())
            .map(Code8)
            .ok_or_else(|| de::Error::custom("expected a byte code like \"0x08\""))
    }
}

impl<'de> Deserialize<'de> for Code16 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text: Cow<'de, str> = Deserialize::deserialize(d)?;
        parse_code(&text)
            .and_then(|v| u16::try_from(v).ok())
            .map(Code16)
            .ok_or_else(|| de::Error::custom("expected a 16-bit code like \"0x2C2D\""))
    }
}

/// Bytes kept inline up to 30 bytes (raw record parts are almost always that short), on the
/// heap beyond. Written as upper-case hex in JSON.
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum Bytes {
    /// Up to 30 bytes stored in place.
    Inline {
        /// How many of `buf` are used.
        len: u8,
        /// The storage.
        buf: [u8; 30],
    },
    /// Longer byte strings.
    Heap(Vec<u8>),
}

impl Bytes {
    /// No bytes.
    pub const EMPTY: Bytes = Bytes::Inline {
        len: 0,
        buf: [0; 30],
    };

    /// A copy of `src`.
    pub fn new(src: &[u8]) -> Bytes {
        let mut buf = [0u8; 30];
        match (buf.get_mut(..src.len()), u8::try_from(src.len())) {
            (Some(dst), Ok(len)) => {
                dst.copy_from_slice(src);
                Bytes::Inline { len, buf }
            }
            _ => Bytes::Heap(src.to_vec()),
        }
    }

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        match self {
            Bytes::Inline { len, buf } => buf.get(..usize::from(*len)).unwrap_or(&[]),
            Bytes::Heap(v) => v,
        }
    }

    /// The number of bytes.
    pub fn len(&self) -> usize {
        self.as_slice().len()
    }

    /// Whether there are no bytes.
    pub fn is_empty(&self) -> bool {
        self.as_slice().is_empty()
    }
}

impl Default for Bytes {
    fn default() -> Self {
        Bytes::EMPTY
    }
}

impl fmt::Debug for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Bytes({})", hex::to_hex(self.as_slice()))
    }
}

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        HexSlice(self.as_slice()).serialize(s)
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text: Cow<'de, str> = Deserialize::deserialize(d)?;
        if text.is_empty() {
            return Ok(Bytes::EMPTY);
        }
        let bytes = hex::parse_hex(&text).map_err(de::Error::custom)?;
        Ok(Bytes::new(&bytes))
    }
}

/// A short text kept inline (meter ids, manufacturer letters): up to 30 bytes.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct ShortText {
    len: u8,
    buf: [u8; 30],
}

impl ShortText {
    /// `text` if it fits in 30 bytes.
    pub fn new(text: &str) -> Option<ShortText> {
        let mut buf = [0u8; 30];
        let dst = buf.get_mut(..text.len())?;
        dst.copy_from_slice(text.as_bytes());
        Some(ShortText {
            len: u8::try_from(text.len()).ok()?,
            buf,
        })
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        self.buf
            .get(..usize::from(self.len))
            .and_then(|b| core::str::from_utf8(b).ok())
            .unwrap_or("")
    }
}

impl Write for ShortText {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let start = usize::from(self.len);
        let end = start.checked_add(s.len()).ok_or(fmt::Error)?;
        let dst = self.buf.get_mut(start..end).ok_or(fmt::Error)?;
        dst.copy_from_slice(s.as_bytes());
        self.len = u8::try_from(end).map_err(|_| fmt::Error)?;
        Ok(())
    }
}

impl fmt::Debug for ShortText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for ShortText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ShortText {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ShortText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text: Cow<'de, str> = Deserialize::deserialize(d)?;
        ShortText::new(&text).ok_or_else(|| de::Error::custom("text longer than 30 bytes"))
    }
}

/// One decoded frame: the JSON model of design §2.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Decoded {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Which protocol the frame is.
    pub protocol: Protocol,
    /// The protocol's own header fields (design §2.2).
    pub link: Link,
    /// The meter's identity, when the frame carries one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meter: Option<Meter>,
    /// One record per value.
    #[serde(default)]
    pub records: Vec<Record>,
    /// The normalised status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    /// An application error reported by the meter (M-Bus CI 70).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_error: Option<ApplicationError>,
    /// An alarm byte (M-Bus CI 71, type D bits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alarm: Option<u8>,
    /// Manufacturer-specific data after the records (M-Bus DIF 0F/1F), kept as hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manufacturer_data: Option<Bytes>,
    /// The meter has more records for the next request (M-Bus DIF 1F).
    #[serde(default, skip_serializing_if = "is_false")]
    pub more_records_follow: bool,
    /// Application data meterwire does not decode (an unknown CI), kept as hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_data: Option<Bytes>,
    /// Idle filler bytes (M-Bus `2F`) after the last record, counted so encoding is exact.
    #[serde(default, skip_serializing_if = "is_zero_u16")]
    pub trailing_fill: u16,
    /// `true` when a payload could not be decrypted (no key).
    #[serde(default, skip_serializing_if = "is_false")]
    pub encrypted: bool,
    /// The encrypted bytes, when `encrypted`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encrypted_data: Option<Bytes>,
    /// A nested frame carried as payload, in the same model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<Box<Decoded>>,
    /// Oddities that did not stop decoding (unknown codes, reserved bits).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Explain mode only: every input byte, once, with its place in the model.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub spans: Vec<Span>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_zero_u16(v: &u16) -> bool {
    *v == 0
}

impl Decoded {
    /// An empty frame of `protocol` with the given link fields.
    pub fn new(protocol: Protocol, link: Link) -> Decoded {
        Decoded {
            schema_version: SCHEMA_VERSION,
            protocol,
            link,
            meter: None,
            records: Vec::new(),
            status: None,
            application_error: None,
            alarm: None,
            manufacturer_data: None,
            more_records_follow: false,
            application_data: None,
            trailing_fill: 0,
            encrypted: false,
            encrypted_data: None,
            payload: None,
            warnings: Vec::new(),
            spans: Vec::new(),
        }
    }

    /// The M-Bus link fields, when this is an M-Bus frame.
    pub fn mbus_link(&self) -> Option<&MbusLink> {
        match &self.link {
            Link::Mbus(link) => Some(link),
            #[allow(unreachable_patterns)]
            _ => None,
        }
    }

    /// The wireless M-Bus link fields, when this is a wM-Bus telegram.
    pub fn wmbus_link(&self) -> Option<&WmbusLink> {
        match &self.link {
            Link::Wmbus(link) => Some(link),
            #[allow(unreachable_patterns)]
            _ => None,
        }
    }

    /// The CJ/T 188 link fields, when this is a CJ/T 188 frame.
    pub fn cjt188_link(&self) -> Option<&Cjt188Link> {
        match &self.link {
            Link::Cjt188(link) => Some(link),
            #[allow(unreachable_patterns)]
            _ => None,
        }
    }
}

/// The link fields of one protocol (design §2.2). Written without a tag: `protocol` says which.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum Link {
    /// Wired M-Bus.
    Mbus(MbusLink),
    /// CJ/T 188 (2004 / 2018).
    Cjt188(Cjt188Link),
    /// Wireless M-Bus (EN 13757-4 / OMS).
    Wmbus(WmbusLink),
    /// Modbus RTU and Modbus TCP (the MBAP fields only for TCP).
    Modbus(ModbusLink),
    /// IEC 62056-21 (optical interface) messages and DSMR P1 telegrams.
    Iec62056_21(Iec62056Link),
    /// CoAP (RFC 7252).
    Coap(crate::coap::CoapLink),
    /// MQTT (3.1.1 / 5.0).
    Mqtt(crate::mqtt::MqttLink),
}

/// The four wired M-Bus frame kinds (EN 13757-2).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MbusFrameKind {
    /// Single character `E5`.
    Ack,
    /// `10 C A CS 16`.
    Short,
    /// `68 03 03 68 C A CI CS 16`.
    Control,
    /// `68 L L 68 C A CI data CS 16`.
    #[default]
    Long,
}

impl MbusFrameKind {
    /// The model's name (`ack`, `short`, `control`, `long`).
    pub const fn as_str(self) -> &'static str {
        match self {
            MbusFrameKind::Ack => "ack",
            MbusFrameKind::Short => "short",
            MbusFrameKind::Control => "control",
            MbusFrameKind::Long => "long",
        }
    }
}

/// Link-layer functions named by the C field.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum LinkFunction {
    /// Link reset (C 40).
    SndNke,
    /// Send user data (C 53/73).
    SndUd,
    /// Request class 1 data (C 5A/7A).
    ReqUd1,
    /// Request class 2 data (C 5B/7B).
    ReqUd2,
    /// Respond with user data (C 08/18/28/38).
    RspUd,
}

impl LinkFunction {
    /// The model's name (`SND_NKE`, `RSP_UD`, …).
    pub const fn as_str(self) -> &'static str {
        match self {
            LinkFunction::SndNke => "SND_NKE",
            LinkFunction::SndUd => "SND_UD",
            LinkFunction::ReqUd1 => "REQ_UD1",
            LinkFunction::ReqUd2 => "REQ_UD2",
            LinkFunction::RspUd => "RSP_UD",
        }
    }
}

/// How the application header after the CI is laid out (`mbus-tables.md` §8).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tpl {
    /// 12-byte long header (ID, M, version, medium, access number, status, config).
    Long,
    /// 4-byte short header (access number, status, config).
    Short,
    /// No header.
    None,
    /// The fixed data structure (CI 73/77 wired).
    Fixed,
}

impl Tpl {
    /// The model's name (`long`, `short`, `none`, `fixed`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Tpl::Long => "long",
            Tpl::Short => "short",
            Tpl::None => "none",
            Tpl::Fixed => "fixed",
        }
    }
}

/// Wired M-Bus link fields (design §2.2) plus `tpl` and `config` (documented additions).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct MbusLink {
    /// Frame kind.
    pub kind: MbusFrameKind,
    /// C field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub c: Option<Code8>,
    /// The function named by the C field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<LinkFunction>,
    /// Frame count bit (master → slave).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fcb: Option<bool>,
    /// Frame count bit valid (master → slave).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fcv: Option<bool>,
    /// Access demand (slave → master).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acd: Option<bool>,
    /// Data flow control (slave → master).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dfc: Option<bool>,
    /// Primary address (A field).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub a: Option<u8>,
    /// CI field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ci: Option<Code8>,
    /// Application header layout after the CI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tpl: Option<Tpl>,
    /// The 2-byte signature / configuration field of a long or short header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<Code16>,
    /// Byte order of multi-byte fields: `msb_first` for CI 76/77 (mode 2); omitted for LSB first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub byte_order: Option<Name>,
}

/// The meter's identity (design §2).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct Meter {
    /// Identification number as a string, leading zeros kept.
    pub id: ShortText,
    /// Three-letter manufacturer code (FLAG association), bit 15 masked off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manufacturer: Option<ShortText>,
    /// The raw 16-bit manufacturer field (keeps bit 15 and codes that are not letters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manufacturer_code: Option<Code16>,
    /// Version (generation) byte.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u8>,
    /// Medium / device type name (design §2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub medium: Option<Name>,
    /// The raw medium / device type code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub medium_code: Option<Code8>,
    /// Access number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_no: Option<u8>,
    /// The header's raw status byte.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u8>,
}

/// Record function (DIF bits 5–4).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Function {
    /// Instantaneous value.
    Instantaneous,
    /// Maximum value.
    Maximum,
    /// Minimum value.
    Minimum,
    /// Value during error state.
    Error,
}

impl Function {
    /// The model's name (`instantaneous`, `maximum`, `minimum`, `error`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Function::Instantaneous => "instantaneous",
            Function::Maximum => "maximum",
            Function::Minimum => "minimum",
            Function::Error => "error",
        }
    }
}

/// A point in time as the meter sent it: meter-local, fields possibly "not specified" (0) or
/// "every" (all ones), printed ISO 8601–style with those numbers kept as they are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Timestamp {
    /// Full year (e.g. 2026), or `None` for a time of day only.
    pub year: Option<u16>,
    /// Month 1–12 (0 = not specified, 15 = every month).
    pub month: u8,
    /// Day 1–31 (0 = not specified / every day).
    pub day: u8,
    /// Hour, when the type has one.
    pub hour: Option<u8>,
    /// Minute, when the type has one.
    pub minute: Option<u8>,
    /// Second, when the type has one.
    pub second: Option<u8>,
}

impl fmt::Display for Timestamp {
    /// `2026-11-23`, `2026-11-23T14:35`, `2026-11-23T14:35:07`, or `14:35:07` for a time.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut text = TimestampText::default();
        if self.write_short(|part| text.extend(part)) {
            return f.write_str(text.as_str());
        }
        // A field too wide for its digits (an invalid date read from a frame).
        if let Some(year) = self.year {
            write!(f, "{year:04}-{:02}-{:02}", self.month, self.day)?;
            if self.hour.is_some() {
                f.write_str("T")?;
            }
        }
        if let Some(hour) = self.hour {
            write!(f, "{hour:02}:{:02}", self.minute.unwrap_or(0))?;
            if let Some(second) = self.second {
                write!(f, ":{second:02}")?;
            }
        }
        Ok(())
    }
}

/// The printed form of a [`Timestamp`] being put together for `Display`: at most
/// `YYYY-MM-DDTHH:MM:SS`.
#[derive(Default)]
struct TimestampText {
    bytes: [u8; 19],
    len: usize,
}

impl TimestampText {
    fn extend(&mut self, part: &[u8]) {
        let end = self.len.saturating_add(part.len());
        if let Some(slot) = self.bytes.get_mut(self.len..end) {
            slot.copy_from_slice(part);
            self.len = end;
        }
    }

    fn as_str(&self) -> &str {
        core::str::from_utf8(self.bytes.get(..self.len).unwrap_or(&[])).unwrap_or("")
    }
}

impl Timestamp {
    /// Writes the printed form through `put`, in one or two fixed-size pieces of digit pairs
    /// (`YYYY-MM-DD` or `YYYY-MM-DDT`, then `HH:MM` or `HH:MM:SS`), when every field fits its
    /// digits (a year up to 9999, the others up to 99): the usual case, and the one renderer
    /// of `Display` and the JSON writer (which copies each piece in one go). `false`,
    /// nothing written, for a wider field (`Display` pads it with `write!`).
    #[inline]
    pub(crate) fn write_short(&self, mut put: impl FnMut(&[u8])) -> bool {
        let pair = |v: u16| crate::decimal::digit_pair(v.into());
        let date = |year: u16| {
            let ([c0, c1], [y0, y1]) = (pair(year / 100)?, pair(year % 100)?);
            let ([m0, m1], [d0, d1]) = (pair(self.month.into())?, pair(self.day.into())?);
            Some([c0, c1, y0, y1, b'-', m0, m1, b'-', d0, d1, b'T'])
        };
        let time = |hour: u8| {
            let [h0, h1] = pair(hour.into())?;
            let [i0, i1] = pair(self.minute.unwrap_or(0).into())?;
            let [s0, s1] = pair(self.second.unwrap_or(0).into())?;
            Some([h0, h1, b':', i0, i1, b':', s0, s1])
        };
        let (date, time) = match (self.year.map(date), self.hour.map(time)) {
            (Some(None), _) | (_, Some(None)) => return false,
            (date, time) => (date.flatten(), time.flatten()),
        };
        if let Some(date) = &date {
            // The `T` only before a time.
            put(if time.is_some() {
                date
            } else {
                date.get(..10).unwrap_or(&[])
            });
        }
        if let Some(time) = &time {
            put(if self.second.is_some() {
                time
            } else {
                time.get(..5).unwrap_or(&[])
            });
        }
        true
    }
}

impl Timestamp {
    /// Reads the printed form back.
    pub fn parse(text: &str) -> Option<Timestamp> {
        fn num<T: core::str::FromStr>(s: &str, len: usize) -> Option<T> {
            if s.len() == len && s.bytes().all(|b| b.is_ascii_digit()) {
                s.parse().ok()
            } else {
                None
            }
        }
        fn time(t: &str) -> Option<(u8, u8, Option<u8>)> {
            let mut parts = t.split(':');
            let h = num(parts.next()?, 2)?;
            let m = num(parts.next()?, 2)?;
            let s = match parts.next() {
                Some(p) => Some(num(p, 2)?),
                None => None,
            };
            if parts.next().is_some() {
                return None;
            }
            Some((h, m, s))
        }
        if text.len() >= 10 && text.as_bytes().get(4) == Some(&b'-') {
            let (date, rest) = text.split_at(10);
            let mut parts = date.split('-');
            let year = num(parts.next()?, 4)?;
            let month = num(parts.next()?, 2)?;
            let day = num(parts.next()?, 2)?;
            let (hour, minute, second) = if rest.is_empty() {
                (None, None, None)
            } else {
                let (h, m, s) = time(rest.strip_prefix('T')?)?;
                (Some(h), Some(m), s)
            };
            Some(Timestamp {
                year: Some(year),
                month,
                day,
                hour,
                minute,
                second,
            })
        } else {
            let (h, m, s) = time(text)?;
            Some(Timestamp {
                year: None,
                month: 0,
                day: 0,
                hour: Some(h),
                minute: Some(m),
                second: s,
            })
        }
    }
}

/// A record's value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// An exact number: written as `value` (JSON number) and `exact` (its decimal text).
    Number(Decimal),
    /// A date, time or date-time.
    Time(Timestamp),
    /// Text (LVAR strings, identifiers written as digits).
    Text(String),
    /// Bytes with no numeric reading (e.g. binary numbers wider than 128 bits), as hex.
    Bytes(Bytes),
}

/// Where a record's value sits in protocols that name each value (Modbus register,
/// IEC 62056-21 data-set id, CJ/T 188 DI).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Address {
    /// A numeric address (Modbus register).
    Number(u32),
    /// A textual address (OBIS code, DI).
    Text(Name),
}

/// The source bytes of a record: idle fillers before it, its data information block (DIF and
/// DIFEs), value information block (VIF, VIFEs, plain-text unit) and data. Stored as one byte
/// string with the split points; written as `{"fill"?, "dif", "vif", "data"}` in JSON.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct RawRecord {
    /// Idle filler bytes (`2F`) directly before the record.
    pub fill: u16,
    bytes: Bytes,
    dif_len: u16,
    vif_len: u16,
}

impl RawRecord {
    /// A record's parts: DIF+DIFEs, VIF+VIFEs(+text), data.
    pub fn new(fill: u16, dif: &[u8], vif: &[u8], data: &[u8]) -> RawRecord {
        let mut all = Vec::with_capacity(
            dif.len()
                .saturating_add(vif.len())
                .saturating_add(data.len()),
        );
        all.extend_from_slice(dif);
        all.extend_from_slice(vif);
        all.extend_from_slice(data);
        RawRecord::from_parts(fill, &all, dif.len(), vif.len())
    }

    /// `record` split after `dif_len` and `dif_len + vif_len` bytes (no allocation when short).
    pub fn from_parts(fill: u16, record: &[u8], dif_len: usize, vif_len: usize) -> RawRecord {
        RawRecord {
            fill,
            bytes: Bytes::new(record),
            dif_len: u16::try_from(dif_len).unwrap_or(u16::MAX),
            vif_len: u16::try_from(vif_len).unwrap_or(u16::MAX),
        }
    }

    /// The record's parts, borrowed.
    pub fn as_raw_ref(&self) -> RawRef<'_> {
        RawRef::new(
            self.fill,
            self.bytes.as_slice(),
            usize::from(self.dif_len),
            usize::from(self.vif_len),
        )
    }

    /// DIF and DIFEs.
    pub fn dif(&self) -> &[u8] {
        self.as_raw_ref().dif()
    }

    /// VIF, VIFEs and plain-text unit bytes.
    pub fn vif(&self) -> &[u8] {
        self.as_raw_ref().vif()
    }

    /// The data field (with its LVAR byte for variable-length data).
    pub fn data(&self) -> &[u8] {
        self.as_raw_ref().data()
    }

    /// The whole record without fillers.
    pub fn bytes(&self) -> &[u8] {
        self.bytes.as_slice()
    }
}

#[derive(Serialize, Deserialize)]
struct RawRecordRepr {
    #[serde(default, skip_serializing_if = "is_zero_u16")]
    fill: u16,
    #[serde(default, skip_serializing_if = "Bytes::is_empty")]
    dif: Bytes,
    #[serde(default, skip_serializing_if = "Bytes::is_empty")]
    vif: Bytes,
    #[serde(default)]
    data: Bytes,
}

impl Serialize for RawRecord {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.as_raw_ref().serialize(s)
    }
}

impl<'de> Deserialize<'de> for RawRecord {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let r = RawRecordRepr::deserialize(d)?;
        Ok(RawRecord::new(
            r.fill,
            r.dif.as_slice(),
            r.vif.as_slice(),
            r.data.as_slice(),
        ))
    }
}

/// Serialises a byte slice as upper-case hex.
struct HexSlice<'a>(&'a [u8]);

impl Serialize for HexSlice<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut text = StackText::new();
        if self.0.len() <= 96 {
            for &b in self.0 {
                text.write_char(hex::hex_digit(b >> 4))
                    .and_then(|()| text.write_char(hex::hex_digit(b)))
                    .map_err(serde::ser::Error::custom)?;
            }
            s.serialize_str(text.as_str())
        } else {
            s.serialize_str(&hex::to_hex(self.0))
        }
    }
}

/// One value of a frame (design §2 `records[]`) with public, owned fields: the form in which
/// decoders build a record and callers edit one. [`Record`] is the compact form the model
/// stores; `Record::from(fields)` and [`Record::to_fields`] convert.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct RecordFields {
    /// What is measured (`volume`, `energy`, `datetime`, …).
    pub quantity: Name,
    /// The value.
    pub value: Option<Value>,
    /// Unit from the documented list (`m3`, `kWh`, `C`, …).
    pub unit: Option<Name>,
    /// A plain-text unit sent by the meter (VIF 7C/FC), instead of `unit`.
    pub unit_text: Option<String>,
    /// Storage number: 0 current, k > 0 the k-th stored value.
    pub storage: Option<u64>,
    /// Tariff number (0 = total).
    pub tariff: Option<u32>,
    /// Subunit (device unit) number.
    pub subunit: Option<u32>,
    /// Function.
    pub function: Option<Function>,
    /// A protocol-specific meaning in words.
    pub label: Option<Name>,
    /// Qualifiers from VIF extensions (`backward_flow`, `per_hour`, `at_phase_l1`, …).
    pub modifiers: Vec<Name>,
    /// A record error reported by the meter (combinable VIFE 00–1F, slave → master).
    pub record_error: Option<Name>,
    /// An object action (combinable VIFE 00–0F, master → slave).
    pub action: Option<Name>,
    /// The date's invalid flag was set.
    pub invalid: bool,
    /// The date's summer-time flag was set.
    pub dst: bool,
    /// The record's address in protocols that name each value.
    pub address: Option<Address>,
    /// The record's source bytes.
    pub raw: Option<RawRecord>,
}

impl RecordFields {
    /// A record of `quantity` with no value yet.
    pub fn new(quantity: impl Into<Name>) -> RecordFields {
        RecordFields {
            quantity: quantity.into(),
            ..RecordFields::default()
        }
    }
}

/// A record's source bytes, borrowed from the [`Record`] that holds them (see [`RawRecord`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawRef<'a> {
    /// Idle filler bytes (`2F`) directly before the record.
    pub fill: u16,
    dif: &'a [u8],
    vif: &'a [u8],
    data: &'a [u8],
    bytes: &'a [u8],
}

impl<'a> RawRef<'a> {
    fn new(fill: u16, bytes: &'a [u8], dif_len: usize, vif_len: usize) -> RawRef<'a> {
        let (dif, rest) = bytes.split_at(dif_len.min(bytes.len()));
        let (vif, data) = rest.split_at(vif_len.min(rest.len()));
        RawRef {
            fill,
            dif,
            vif,
            data,
            bytes,
        }
    }

    /// DIF and DIFEs.
    pub fn dif(&self) -> &'a [u8] {
        self.dif
    }

    /// VIF, VIFEs and plain-text unit bytes.
    pub fn vif(&self) -> &'a [u8] {
        self.vif
    }

    /// The data field (with its LVAR byte for variable-length data).
    pub fn data(&self) -> &'a [u8] {
        self.data
    }

    /// The whole record without fillers.
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// An owned copy.
    pub fn to_raw_record(&self) -> RawRecord {
        RawRecord::from_parts(self.fill, self.bytes, self.dif.len(), self.vif.len())
    }
}

impl Serialize for RawRef<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        if self.fill != 0 {
            map.serialize_entry("fill", &self.fill)?;
        }
        if !self.dif.is_empty() {
            map.serialize_entry("dif", &HexSlice(self.dif))?;
        }
        if !self.vif.is_empty() {
            map.serialize_entry("vif", &HexSlice(self.vif))?;
        }
        map.serialize_entry("data", &HexSlice(self.data))?;
        map.end()
    }
}

/// How many record bytes a [`Record`] keeps in place (DIF, VIF and up to 8 data bytes with a
/// few extensions); longer records keep theirs on the heap.
const RAW_INLINE: usize = 16;

/// A record's source bytes stored in place.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct InlineRaw {
    fill: u16,
    len: u8,
    dif_len: u8,
    vif_len: u8,
    buf: [u8; RAW_INLINE],
}

/// Up to 16 bytes, zero-padded to 16 (`None` for more), put together in two 64-bit words
/// from overlapping fixed-size reads: no call to `memcpy` for the few bytes of a record, and
/// one 16-byte store where the record is written (small stores read back as one 16-byte load
/// would stall the copy of the record into the records' vector).
#[inline]
fn short_bytes(src: &[u8]) -> Option<[u8; RAW_INLINE]> {
    let len = src.len();
    // The bits of `n` bytes (`n` ≤ 16 here).
    let bits = |n: usize| u32::try_from(n).unwrap_or(0).wrapping_mul(8);
    // Bytes `len - N..len` of `src` as an `N`-byte little-endian word.
    let word4 = |chunk: Option<&[u8; 4]>| chunk.map(|c| u64::from(u32::from_le_bytes(*c)));
    let word8 = |chunk: Option<&[u8; 8]>| chunk.map(|c| u64::from_le_bytes(*c));
    let (low, high) = match len {
        0 => (0, 0),
        1..=3 => {
            let mut low = 0u64;
            for (&b, shift) in src.iter().zip([0, 8, 16]) {
                low |= u64::from(b) << shift;
            }
            (low, 0)
        }
        4..=7 => {
            let head = word4(src.first_chunk())?;
            let tail = word4(src.last_chunk())?;
            // The tail's bytes overlap the head's where both hold the same bytes.
            (head | tail.wrapping_shl(bits(len.wrapping_sub(4))), 0)
        }
        8..=RAW_INLINE => {
            let head = word8(src.first_chunk())?;
            let tail = word8(src.last_chunk())?;
            // Bytes 8..len are the tail's last len - 8 bytes.
            let high = tail
                .checked_shr(bits(RAW_INLINE.wrapping_sub(len)))
                .unwrap_or(0);
            (head, high)
        }
        _ => return None,
    };
    let mut buf = [0u8; RAW_INLINE];
    let (first, second) = buf.split_at_mut(8);
    first.copy_from_slice(&low.to_le_bytes());
    second.copy_from_slice(&high.to_le_bytes());
    Some(buf)
}

impl InlineRaw {
    /// `record` split after `dif_len` and `dif_len + vif_len` bytes, if it fits.
    #[inline]
    fn new(fill: u16, record: &[u8], dif_len: usize, vif_len: usize) -> Option<InlineRaw> {
        let buf = short_bytes(record)?;
        Some(InlineRaw {
            fill,
            len: u8::try_from(record.len()).ok()?,
            dif_len: u8::try_from(dif_len).ok()?,
            vif_len: u8::try_from(vif_len).ok()?,
            buf,
        })
    }

    fn get(&self) -> RawRef<'_> {
        RawRef::new(
            self.fill,
            self.buf.get(..usize::from(self.len)).unwrap_or(&[]),
            usize::from(self.dif_len),
            usize::from(self.vif_len),
        )
    }
}

/// The rarer parts of a record, on the heap when a record has any: names that are not
/// `'static`, and the fields wired M-Bus numbers seldom carry.
#[derive(Clone, Debug, Default, PartialEq)]
struct RecordExtra {
    quantity: Option<String>,
    unit: Option<String>,
    unit_text: Option<String>,
    label: Option<Name>,
    modifiers: Vec<Name>,
    record_error: Option<Name>,
    action: Option<Name>,
    address: Option<Address>,
    raw: Option<RawRecord>,
}

/// A record as a decoder's general path reads it, for [`Record::push_read_record`]: names
/// from the decoder's tables, the text it had to build, the source bytes as `(fill, record,
/// dif_len, vif_len)`.
pub(crate) struct ReadRecord<'a> {
    pub(crate) quantity: &'static str,
    pub(crate) unit: Option<&'static str>,
    /// A unit built from the table's unit and suffixes (`m3/h`), in place of `unit`.
    pub(crate) owned_unit: Option<String>,
    pub(crate) unit_text: Option<String>,
    pub(crate) value: Option<Value>,
    pub(crate) storage: u64,
    pub(crate) tariff: u32,
    pub(crate) subunit: u32,
    pub(crate) function: Function,
    pub(crate) invalid: bool,
    pub(crate) dst: bool,
    pub(crate) label: Option<&'static str>,
    pub(crate) modifiers: &'a [&'static str],
    pub(crate) record_error: Option<&'static str>,
    pub(crate) action: Option<&'static str>,
    pub(crate) raw: (u16, &'a [u8], usize, usize),
}

/// `flags` bits of a [`Record`].
const HAS_STORAGE: u8 = 1;
const HAS_TARIFF: u8 = 2;
const HAS_SUBUNIT: u8 = 4;
const INVALID: u8 = 8;
const DST: u8 = 16;
const HAS_INLINE_RAW: u8 = 32;

/// One value of a frame (design §2 `records[]`), stored compactly: the value, its storage,
/// tariff, subunit and function, `'static` names and up to 16 raw bytes in place (112 bytes,
/// nothing to free for a number), anything else in one heap part. Read it through its
/// accessors (same names as the JSON keys); build one from [`RecordFields`], or for the
/// common case with [`Record::push_number_record`].
#[derive(Clone, Default)]
pub struct Record {
    value: Option<Value>,
    storage: u64,
    quantity: &'static str,
    unit: Option<&'static str>,
    tariff: u32,
    subunit: u32,
    extra: Option<Box<RecordExtra>>,
    raw: InlineRaw,
    function: Option<Function>,
    flags: u8,
}

/// A name split into its `'static` part (kept in place) or owned text (kept in the extra part).
fn split_name(name: Name) -> (&'static str, Option<String>) {
    match name {
        Cow::Borrowed(s) => (s, None),
        Cow::Owned(s) => ("", Some(s)),
    }
}

impl From<RecordFields> for Record {
    fn from(f: RecordFields) -> Record {
        let RecordFields {
            quantity,
            value,
            unit,
            unit_text,
            storage,
            tariff,
            subunit,
            function,
            label,
            modifiers,
            record_error,
            action,
            invalid,
            dst,
            address,
            raw,
        } = f;
        let mut extra = RecordExtra::default();
        let (quantity, extra_quantity) = split_name(quantity);
        extra.quantity = extra_quantity;
        let unit = match unit.map(split_name) {
            Some((s, None)) => Some(s),
            Some((_, owned)) => {
                extra.unit = owned;
                None
            }
            None => None,
        };
        let mut flags = 0;
        for (set, bit) in [
            (storage.is_some(), HAS_STORAGE),
            (tariff.is_some(), HAS_TARIFF),
            (subunit.is_some(), HAS_SUBUNIT),
            (invalid, INVALID),
            (dst, DST),
        ] {
            if set {
                flags |= bit;
            }
        }
        let inline_raw = raw
            .as_ref()
            .map(RawRecord::as_raw_ref)
            .and_then(|r| InlineRaw::new(r.fill, r.bytes(), r.dif().len(), r.vif().len()));
        let raw_inline = match inline_raw {
            Some(inline) => {
                flags |= HAS_INLINE_RAW;
                inline
            }
            None => {
                extra.raw = raw;
                InlineRaw::default()
            }
        };
        let needs_extra = extra.quantity.is_some()
            || extra.unit.is_some()
            || extra.raw.is_some()
            || unit_text.is_some()
            || label.is_some()
            || !modifiers.is_empty()
            || record_error.is_some()
            || action.is_some()
            || address.is_some();
        let extra = needs_extra.then(|| {
            Box::new(RecordExtra {
                unit_text,
                label,
                modifiers,
                record_error,
                action,
                address,
                ..extra
            })
        });
        Record {
            value,
            storage: storage.unwrap_or(0),
            quantity,
            unit,
            tariff: tariff.unwrap_or(0),
            subunit: subunit.unwrap_or(0),
            extra,
            raw: raw_inline,
            function,
            flags,
        }
    }
}

impl Record {
    /// A record of `quantity` with no value yet.
    pub fn new(quantity: impl Into<Name>) -> Record {
        Record::from(RecordFields::new(quantity))
    }

    /// Appends the common record of the decoders' fast paths to `records`: its `'static`
    /// quantity and unit names, a value (number, time or identifier), its storage, tariff,
    /// subunit and function, its date flags `(invalid, dst)`, and its source bytes `(fill,
    /// record, dif_len, vif_len)` split after `dif_len` and `dif_len + vif_len` bytes.
    /// Nothing on the heap but an identifier's text or raw bytes longer than 16.
    ///
    /// The record is written field by field into its slot of the vector: a record put
    /// together on the stack and then copied in is read back in wide loads over the narrow
    /// stores that built it, and the processor stalls on each (store forwarding fails).
    #[inline(always)]
    pub fn push_number_record(
        records: &mut Vec<Record>,
        (quantity, unit): (&'static str, Option<&'static str>),
        value: Value,
        place: (u64, u32, u32),
        function: Function,
        date_flags: (bool, bool),
        raw: (u16, &[u8], usize, usize),
    ) {
        let value = Some(value);
        let Some(slot) =
            Record::push_placed(records, (quantity, value), place, function, date_flags)
        else {
            return;
        };
        slot.unit = unit;
        slot.set_raw_parts(raw);
    }

    /// Appends a default record with its quantity, value, storage, tariff, subunit, function
    /// and date flags set (the value first: writing it later measured 5 % slower), for the
    /// caller to write the rest in place: the one writer of those fields for
    /// [`Record::push_number_record`] and [`Record::push_read_record`].
    #[inline(always)]
    fn push_placed<'r>(
        records: &'r mut Vec<Record>,
        (quantity, value): (&'static str, Option<Value>),
        (storage, tariff, subunit): (u64, u32, u32),
        function: Function,
        (invalid, dst): (bool, bool),
    ) -> Option<&'r mut Record> {
        let mut flags = HAS_STORAGE | HAS_TARIFF | HAS_SUBUNIT;
        if invalid {
            flags |= INVALID;
        }
        if dst {
            flags |= DST;
        }
        records.resize_with(records.len().saturating_add(1), Record::default);
        let slot = records.last_mut()?;
        slot.value = value;
        slot.storage = storage;
        slot.quantity = quantity;
        slot.tariff = tariff;
        slot.subunit = subunit;
        slot.function = Some(function);
        slot.flags = flags;
        Some(slot)
    }

    /// Appends a record that a decoder's general path read (names from its tables, text it
    /// owns, any value or none) to `records`, written in its slot like
    /// [`Record::push_number_record`]: no [`RecordFields`] in between, and a heap part only
    /// for what does not fit in place.
    pub(crate) fn push_read_record(records: &mut Vec<Record>, read: ReadRecord<'_>) {
        let ReadRecord {
            quantity,
            unit,
            owned_unit,
            unit_text,
            value,
            storage,
            tariff,
            subunit,
            function,
            invalid,
            dst,
            label,
            modifiers,
            record_error,
            action,
            raw,
        } = read;
        let place = (storage, tariff, subunit);
        let Some(slot) =
            Record::push_placed(records, (quantity, value), place, function, (invalid, dst))
        else {
            return;
        };
        match owned_unit {
            Some(text) => slot.extra_mut().unit = Some(text),
            None => slot.unit = unit,
        }
        let named =
            label.is_some() || !modifiers.is_empty() || record_error.is_some() || action.is_some();
        if unit_text.is_some() || named {
            let extra = slot.extra_mut();
            extra.unit_text = unit_text;
            if named {
                extra.label = label.map(Cow::Borrowed);
                extra.modifiers = modifiers.iter().map(|m| Cow::Borrowed(*m)).collect();
                extra.record_error = record_error.map(Cow::Borrowed);
                extra.action = action.map(Cow::Borrowed);
            }
        }
        slot.set_raw_parts(raw);
    }

    fn extra(&self) -> Option<&RecordExtra> {
        self.extra.as_deref()
    }

    fn flag(&self, bit: u8) -> bool {
        self.flags & bit != 0
    }

    /// What is measured (`volume`, `energy`, `datetime`, …).
    #[inline]
    pub fn quantity(&self) -> &str {
        match self.extra().and_then(|e| e.quantity.as_deref()) {
            Some(q) => q,
            None => self.quantity,
        }
    }

    /// The quantity and unit when both are `'static` names from meterwire's tables (plain
    /// identifiers and units: nothing to escape in JSON), for the JSON writer.
    #[inline]
    pub(crate) fn static_names(&self) -> Option<(&'static str, Option<&'static str>)> {
        match &self.extra {
            Some(e) if e.quantity.is_some() || e.unit.is_some() => None,
            _ => Some((self.quantity, self.unit)),
        }
    }

    /// The value.
    #[inline]
    pub fn value(&self) -> Option<&Value> {
        self.value.as_ref()
    }

    /// The value as an exact decimal, if it is a number.
    pub fn number(&self) -> Option<Decimal> {
        match self.value {
            Some(Value::Number(d)) => Some(d),
            _ => None,
        }
    }

    /// Unit from the documented list (`m3`, `kWh`, `C`, …).
    #[inline]
    pub fn unit(&self) -> Option<&str> {
        match self.unit {
            Some(u) => Some(u),
            None => self.extra().and_then(|e| e.unit.as_deref()),
        }
    }

    /// A plain-text unit sent by the meter (VIF 7C/FC), instead of `unit`.
    pub fn unit_text(&self) -> Option<&str> {
        self.extra().and_then(|e| e.unit_text.as_deref())
    }

    /// Storage number: 0 current, k > 0 the k-th stored value.
    pub fn storage(&self) -> Option<u64> {
        self.flag(HAS_STORAGE).then_some(self.storage)
    }

    /// Tariff number (0 = total).
    pub fn tariff(&self) -> Option<u32> {
        self.flag(HAS_TARIFF).then_some(self.tariff)
    }

    /// Subunit (device unit) number.
    pub fn subunit(&self) -> Option<u32> {
        self.flag(HAS_SUBUNIT).then_some(self.subunit)
    }

    /// Function.
    pub fn function(&self) -> Option<Function> {
        self.function
    }

    /// A protocol-specific meaning in words.
    pub fn label(&self) -> Option<&str> {
        self.extra().and_then(|e| e.label.as_deref())
    }

    /// Qualifiers from VIF extensions (`backward_flow`, `per_hour`, `at_phase_l1`, …).
    pub fn modifiers(&self) -> &[Name] {
        self.extra().map_or(&[], |e| e.modifiers.as_slice())
    }

    /// A record error reported by the meter (combinable VIFE 00–1F, slave → master).
    pub fn record_error(&self) -> Option<&str> {
        self.extra().and_then(|e| e.record_error.as_deref())
    }

    /// An object action (combinable VIFE 00–0F, master → slave).
    pub fn action(&self) -> Option<&str> {
        self.extra().and_then(|e| e.action.as_deref())
    }

    /// The date's invalid flag was set.
    pub fn invalid(&self) -> bool {
        self.flag(INVALID)
    }

    /// The date's summer-time flag was set.
    pub fn dst(&self) -> bool {
        self.flag(DST)
    }

    /// The record's address in protocols that name each value.
    pub fn address(&self) -> Option<&Address> {
        self.extra().and_then(|e| e.address.as_ref())
    }

    /// The record's source bytes.
    #[inline]
    pub fn raw(&self) -> Option<RawRef<'_>> {
        if self.flag(HAS_INLINE_RAW) {
            Some(self.raw.get())
        } else {
            self.extra()
                .and_then(|e| e.raw.as_ref())
                .map(RawRecord::as_raw_ref)
        }
    }

    /// The record's fields as owned values (to edit them, then `Record::from`).
    pub fn to_fields(&self) -> RecordFields {
        let name = |owned: Option<&String>, fixed: &'static str| match owned {
            Some(s) => Cow::Owned(s.clone()),
            None => Cow::Borrowed(fixed),
        };
        let extra = self.extra();
        RecordFields {
            quantity: name(extra.and_then(|e| e.quantity.as_ref()), self.quantity),
            value: self.value.clone(),
            unit: match self.unit {
                Some(u) => Some(Cow::Borrowed(u)),
                None => extra.and_then(|e| e.unit.clone()).map(Cow::Owned),
            },
            unit_text: extra.and_then(|e| e.unit_text.clone()),
            storage: self.storage(),
            tariff: self.tariff(),
            subunit: self.subunit(),
            function: self.function,
            label: extra.and_then(|e| e.label.clone()),
            modifiers: extra.map(|e| e.modifiers.clone()).unwrap_or_default(),
            record_error: extra.and_then(|e| e.record_error.clone()),
            action: extra.and_then(|e| e.action.clone()),
            invalid: self.invalid(),
            dst: self.dst(),
            address: extra.and_then(|e| e.address.clone()),
            raw: self.raw().map(|r| r.to_raw_record()),
        }
    }

    fn extra_mut(&mut self) -> &mut RecordExtra {
        self.extra.get_or_insert_with(Box::default)
    }

    /// Replaces the value.
    pub fn set_value(&mut self, value: Option<Value>) {
        self.value = value;
    }

    /// The value, to change it in place.
    pub fn value_mut(&mut self) -> Option<&mut Value> {
        self.value.as_mut()
    }

    /// Replaces the unit.
    pub fn set_unit(&mut self, unit: Option<Name>) {
        match unit.map(split_name) {
            Some((fixed, None)) => {
                self.unit = Some(fixed);
                if let Some(e) = &mut self.extra {
                    e.unit = None;
                }
            }
            Some((_, owned)) => {
                self.unit = None;
                self.extra_mut().unit = owned;
            }
            None => {
                self.unit = None;
                if let Some(e) = &mut self.extra {
                    e.unit = None;
                }
            }
        }
    }

    /// Replaces the address.
    pub fn set_address(&mut self, address: Option<Address>) {
        if address.is_some() || self.extra.is_some() {
            self.extra_mut().address = address;
        }
    }

    /// Sets the number of idle fillers (`2F`) before the record's source bytes, if it has any.
    pub fn set_fill(&mut self, fill: u16) {
        if self.flag(HAS_INLINE_RAW) {
            self.raw.fill = fill;
        } else if let Some(raw) = self.extra.as_mut().and_then(|e| e.raw.as_mut()) {
            raw.fill = fill;
        }
    }

    /// Sets the source bytes: `(fill, record, dif_len, vif_len)` as in
    /// [`Record::push_number_record`], in place when they fit (up to 16 bytes), else on the
    /// heap. A decoder's general path sets them here, after the conversion from
    /// [`RecordFields`], so short records never copy their bytes to the heap and back.
    #[inline]
    pub fn set_raw_parts(&mut self, (fill, record, dif_len, vif_len): (u16, &[u8], usize, usize)) {
        match InlineRaw::new(fill, record, dif_len, vif_len) {
            Some(inline) => {
                self.flags |= HAS_INLINE_RAW;
                self.raw = inline;
                if let Some(e) = &mut self.extra {
                    e.raw = None;
                }
            }
            None => {
                self.flags &= !HAS_INLINE_RAW;
                self.raw = InlineRaw::default();
                self.extra_mut().raw = Some(RawRecord::from_parts(fill, record, dif_len, vif_len));
            }
        }
    }

    /// Drops the source bytes.
    pub fn clear_raw(&mut self) {
        self.flags &= !HAS_INLINE_RAW;
        self.raw = InlineRaw::default();
        if let Some(e) = &mut self.extra {
            e.raw = None;
        }
    }

    /// Edits the record through its owned fields.
    pub fn edit(&mut self, change: impl FnOnce(&mut RecordFields)) {
        let mut fields = self.to_fields();
        change(&mut fields);
        *self = Record::from(fields);
    }
}

impl From<Record> for RecordFields {
    fn from(r: Record) -> RecordFields {
        r.to_fields()
    }
}

impl PartialEq for Record {
    /// Records are equal when every field reads the same, however each is stored.
    fn eq(&self, other: &Record) -> bool {
        self.quantity() == other.quantity()
            && self.value() == other.value()
            && self.unit() == other.unit()
            && self.unit_text() == other.unit_text()
            && self.storage() == other.storage()
            && self.tariff() == other.tariff()
            && self.subunit() == other.subunit()
            && self.function == other.function
            && self.label() == other.label()
            && self.modifiers() == other.modifiers()
            && self.record_error() == other.record_error()
            && self.action() == other.action()
            && self.invalid() == other.invalid()
            && self.dst() == other.dst()
            && self.address() == other.address()
            && self.raw() == other.raw()
    }
}

impl fmt::Debug for Record {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.to_fields(), f)
    }
}

impl Serialize for Record {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("quantity", self.quantity())?;
        match self.value() {
            Some(Value::Number(d)) => {
                let v = d.to_f64();
                if v.is_finite() {
                    map.serialize_entry("value", &v)?;
                }
                map.serialize_entry("exact", &DisplayStr(d))?;
            }
            Some(Value::Time(t)) => map.serialize_entry("value", &DisplayStr(t))?,
            Some(Value::Text(t)) => map.serialize_entry("value", t)?,
            Some(Value::Bytes(b)) => map.serialize_entry("value", b)?,
            None => {}
        }
        if let Some(u) = self.unit() {
            map.serialize_entry("unit", u)?;
        }
        if let Some(u) = self.unit_text() {
            map.serialize_entry("unit_text", u)?;
        }
        if let Some(v) = self.storage() {
            map.serialize_entry("storage", &v)?;
        }
        if let Some(v) = self.tariff() {
            map.serialize_entry("tariff", &v)?;
        }
        if let Some(v) = self.subunit() {
            map.serialize_entry("subunit", &v)?;
        }
        if let Some(v) = self.function() {
            map.serialize_entry("function", &v)?;
        }
        if let Some(v) = self.label() {
            map.serialize_entry("label", v)?;
        }
        if !self.modifiers().is_empty() {
            map.serialize_entry("modifiers", self.modifiers())?;
        }
        if let Some(v) = self.record_error() {
            map.serialize_entry("record_error", v)?;
        }
        if let Some(v) = self.action() {
            map.serialize_entry("action", v)?;
        }
        if self.invalid() {
            map.serialize_entry("invalid", &true)?;
        }
        if self.dst() {
            map.serialize_entry("dst", &true)?;
        }
        if let Some(v) = self.address() {
            map.serialize_entry("address", v)?;
        }
        if let Some(v) = self.raw() {
            map.serialize_entry("raw", &v)?;
        }
        map.end()
    }
}

/// Serialises a `Display` value as a string without allocating (up to 192 bytes).
struct DisplayStr<'a, T: fmt::Display>(&'a T);

impl<T: fmt::Display> Serialize for DisplayStr<'_, T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut text = StackText::new();
        if write!(text, "{}", self.0).is_ok() {
            s.serialize_str(text.as_str())
        } else {
            s.collect_str(self.0)
        }
    }
}

/// The JSON shape of a record, read back for `encode`.
#[derive(Deserialize)]
struct RecordRepr {
    quantity: String,
    #[serde(default)]
    value: Option<ValueRepr>,
    #[serde(default)]
    exact: Option<String>,
    #[serde(default)]
    unit: Option<String>,
    #[serde(default)]
    unit_text: Option<String>,
    #[serde(default)]
    storage: Option<u64>,
    #[serde(default)]
    tariff: Option<u32>,
    #[serde(default)]
    subunit: Option<u32>,
    #[serde(default)]
    function: Option<Function>,
    #[serde(default)]
    label: Option<String>,
    #[serde(default)]
    modifiers: Vec<String>,
    #[serde(default)]
    record_error: Option<String>,
    #[serde(default)]
    action: Option<String>,
    #[serde(default)]
    invalid: bool,
    #[serde(default)]
    dst: bool,
    #[serde(default)]
    address: Option<Address>,
    #[serde(default)]
    raw: Option<RawRecord>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ValueRepr {
    Number(f64),
    Text(String),
}

impl<'de> Deserialize<'de> for Record {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        RecordFields::deserialize(d).map(Record::from)
    }
}

impl<'de> Deserialize<'de> for RecordFields {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let r = RecordRepr::deserialize(d)?;
        let value = match (r.exact, r.value) {
            (Some(exact), _) => {
                Some(Value::Number(Decimal::parse(&exact).ok_or_else(|| {
                    de::Error::custom("`exact` is not a decimal number")
                })?))
            }
            (None, Some(ValueRepr::Number(n))) => Some(Value::Number(
                Decimal::from_f64_shortest(n)
                    .ok_or_else(|| de::Error::custom("`value` is not a finite number"))?,
            )),
            (None, Some(ValueRepr::Text(t))) => Some(match Timestamp::parse(&t) {
                Some(ts) => Value::Time(ts),
                None => Value::Text(t),
            }),
            (None, None) => None,
        };
        Ok(RecordFields {
            quantity: Cow::Owned(r.quantity),
            value,
            unit: r.unit.map(Cow::Owned),
            unit_text: r.unit_text,
            storage: r.storage,
            tariff: r.tariff,
            subunit: r.subunit,
            function: r.function,
            label: r.label.map(Cow::Owned),
            modifiers: r.modifiers.into_iter().map(Cow::Owned).collect(),
            record_error: r.record_error.map(Cow::Owned),
            action: r.action.map(Cow::Owned),
            invalid: r.invalid,
            dst: r.dst,
            address: r.address,
            raw: r.raw,
        })
    }
}

/// Status flags normalised across protocols (design §2 `status.flags`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StatusFlag {
    /// Valve open.
    ValveOpen,
    /// Valve closed.
    ValveClosed,
    /// Valve fault.
    ValveFault,
    /// Battery low.
    LowBattery,
    /// Power low (M-Bus status bit 2).
    PowerLow,
    /// Leak detected.
    Leak,
    /// Burst detected.
    Burst,
    /// Reverse flow.
    ReverseFlow,
    /// Tamper / manipulation.
    Tamper,
    /// Pipe empty / dry running.
    Dry,
    /// Temporary error (M-Bus status bit 4).
    TemporaryError,
    /// Permanent error (M-Bus status bit 3).
    PermanentError,
    /// Application busy (M-Bus status bits 1–0 = 01).
    ApplicationBusy,
    /// Application error (M-Bus status bits 1–0 = 10).
    ApplicationError,
    /// Abnormal condition / alarm (M-Bus status bits 1–0 = 11).
    Alarm,
}

impl StatusFlag {
    /// Every flag, in the order they are written.
    pub const ALL: [StatusFlag; 15] = [
        StatusFlag::ValveOpen,
        StatusFlag::ValveClosed,
        StatusFlag::ValveFault,
        StatusFlag::LowBattery,
        StatusFlag::PowerLow,
        StatusFlag::Leak,
        StatusFlag::Burst,
        StatusFlag::ReverseFlow,
        StatusFlag::Tamper,
        StatusFlag::Dry,
        StatusFlag::TemporaryError,
        StatusFlag::PermanentError,
        StatusFlag::ApplicationBusy,
        StatusFlag::ApplicationError,
        StatusFlag::Alarm,
    ];

    /// The flag's snake_case name.
    pub const fn as_str(self) -> &'static str {
        match self {
            StatusFlag::ValveOpen => "valve_open",
            StatusFlag::ValveClosed => "valve_closed",
            StatusFlag::ValveFault => "valve_fault",
            StatusFlag::LowBattery => "low_battery",
            StatusFlag::PowerLow => "power_low",
            StatusFlag::Leak => "leak",
            StatusFlag::Burst => "burst",
            StatusFlag::ReverseFlow => "reverse_flow",
            StatusFlag::Tamper => "tamper",
            StatusFlag::Dry => "dry",
            StatusFlag::TemporaryError => "temporary_error",
            StatusFlag::PermanentError => "permanent_error",
            StatusFlag::ApplicationBusy => "application_busy",
            StatusFlag::ApplicationError => "application_error",
            StatusFlag::Alarm => "alarm",
        }
    }

    const fn bit(self) -> u32 {
        1u32.wrapping_shl(self as u32)
    }
}

/// A set of [`StatusFlag`]s, stored as bits, written as a list of names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct StatusFlags(u32);

impl StatusFlags {
    /// Adds `flag`.
    pub fn insert(&mut self, flag: StatusFlag) {
        self.0 |= flag.bit();
    }

    /// Whether `flag` is set.
    pub const fn contains(&self, flag: StatusFlag) -> bool {
        self.0 & flag.bit() != 0
    }

    /// Whether no flag is set.
    pub const fn is_empty(&self) -> bool {
        self.0 == 0
    }

    /// The set flags in declaration order.
    pub fn iter(&self) -> impl Iterator<Item = StatusFlag> + '_ {
        StatusFlag::ALL.into_iter().filter(|f| self.contains(*f))
    }
}

impl Serialize for StatusFlags {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter().map(StatusFlag::as_str))
    }
}

impl<'de> Deserialize<'de> for StatusFlags {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let names: Vec<Cow<'de, str>> = Deserialize::deserialize(d)?;
        let mut flags = StatusFlags::default();
        for name in names {
            let flag = StatusFlag::ALL
                .into_iter()
                .find(|f| f.as_str() == name)
                .ok_or_else(|| de::Error::custom("unknown status flag"))?;
            flags.insert(flag);
        }
        Ok(flags)
    }
}

/// The normalised status (design §2 `status`).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Status {
    /// The protocol's raw status value.
    pub raw: u32,
    /// The flags it means.
    pub flags: StatusFlags,
}

/// An application error reported by the meter (M-Bus CI 70, `mbus-tables.md` §9.2).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationError {
    /// The error code byte.
    pub code: u8,
    /// Its meaning in snake_case.
    pub name: Name,
    /// Bytes after the code, if any.
    #[serde(default, skip_serializing_if = "Bytes::is_empty")]
    pub detail: Bytes,
}

/// One annotated byte range of explain mode (design §2 `spans`).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
    /// Where the bytes went in the model (`link.c`, `records[2].data`).
    pub path: String,
    /// What the bytes are, for people.
    pub label: String,
}

/// CJ/T 188 transfer direction: bit D7 of the control code.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cjt188Direction {
    /// D7 = 0: a request from the master (concentrator, reader).
    #[default]
    MasterToSlave,
    /// D7 = 1: a reply from the meter.
    SlaveToMaster,
}

impl Cjt188Direction {
    /// The model's name (`master_to_slave`, `slave_to_master`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Cjt188Direction::MasterToSlave => "master_to_slave",
            Cjt188Direction::SlaveToMaster => "slave_to_master",
        }
    }
}

/// The CJ/T 188 functions: bits D5–D0 of the control code.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cjt188Function {
    /// 01H: read data (读数据).
    ReadData,
    /// 03H: read address (读地址), DI 810AH.
    ReadAddress,
    /// 04H: write data (写数据).
    WriteData,
    /// 09H: read key version (读密钥版本号), DI 8106H.
    ReadKeyVersion,
    /// 15H: write address (写地址), DI A018H.
    WriteAddress,
    /// 16H: write meter-register synchronisation data (写机电同步数据), DI A016H.
    WriteSync,
}

impl Cjt188Function {
    /// Every function, in code order.
    pub const ALL: [Cjt188Function; 6] = [
        Cjt188Function::ReadData,
        Cjt188Function::ReadAddress,
        Cjt188Function::WriteData,
        Cjt188Function::ReadKeyVersion,
        Cjt188Function::WriteAddress,
        Cjt188Function::WriteSync,
    ];

    /// The function code (D5–D0 of the control code).
    pub const fn code(self) -> u8 {
        match self {
            Cjt188Function::ReadData => 0x01,
            Cjt188Function::ReadAddress => 0x03,
            Cjt188Function::WriteData => 0x04,
            Cjt188Function::ReadKeyVersion => 0x09,
            Cjt188Function::WriteAddress => 0x15,
            Cjt188Function::WriteSync => 0x16,
        }
    }

    /// The function of a code (D5–D0), if it is one of CJ/T 188's.
    pub fn from_code(code: u8) -> Option<Cjt188Function> {
        Cjt188Function::ALL.into_iter().find(|f| f.code() == code)
    }

    /// The model's name (`read_data`, `write_sync`, …).
    pub const fn as_str(self) -> &'static str {
        match self {
            Cjt188Function::ReadData => "read_data",
            Cjt188Function::ReadAddress => "read_address",
            Cjt188Function::WriteData => "write_data",
            Cjt188Function::ReadKeyVersion => "read_key_version",
            Cjt188Function::WriteAddress => "write_address",
            Cjt188Function::WriteSync => "write_sync",
        }
    }
}

/// The byte order of a CJ/T 188 data identifier on the wire.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiOrder {
    /// High byte first (`90 1F`): most 2004 devices.
    #[default]
    HiLo,
    /// Low byte first (`1F 90`): 2018 per one gateway vendor, and some 2004-era meters.
    LoHi,
}

impl DiOrder {
    /// The model's name (`hi_lo`, `lo_hi`).
    pub const fn as_str(self) -> &'static str {
        match self {
            DiOrder::HiLo => "hi_lo",
            DiOrder::LoHi => "lo_hi",
        }
    }

    /// The two wire bytes of `di` in this order.
    pub const fn bytes(self, di: u16) -> [u8; 2] {
        match self {
            DiOrder::HiLo => di.to_be_bytes(),
            DiOrder::LoHi => di.to_le_bytes(),
        }
    }

    /// The DI that two wire bytes carry in this order.
    pub const fn read(self, bytes: [u8; 2]) -> u16 {
        match self {
            DiOrder::HiLo => u16::from_be_bytes(bytes),
            DiOrder::LoHi => u16::from_le_bytes(bytes),
        }
    }
}

/// CJ/T 188 link fields (design §2.2): the frame header `FE* 68 T A0…A6 C L` and the
/// `DI SER` that open a normal data field.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Cjt188Link {
    /// Number of `FE` wake-up bytes before `68`.
    #[serde(default)]
    pub preamble_len: u32,
    /// Meter type T (`"0x10"` cold water, `"0x20"` heat, `"0x30"` gas, `"0xAA"` any).
    pub meter_type: Code8,
    /// The address A6…A0 as 14 hex digits, most significant byte first (BCD digits for a
    /// normal address, `AA` for wildcard bytes, any other byte as its two hex digits).
    pub address: ShortText,
    /// The control code C (`"0x81"`). When encoding, omitted means: built from `direction`,
    /// `exception` and `function`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control: Option<Code8>,
    /// Transfer direction (D7).
    #[serde(default)]
    pub direction: Cjt188Direction,
    /// Exception reply (D6).
    #[serde(default)]
    pub exception: bool,
    /// The function (D5–D0), when it is one of CJ/T 188's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<Cjt188Function>,
    /// The L field: bytes in the data field. Encoding writes the real length; this value only
    /// chooses between accepted layout variants (a 1-byte status).
    #[serde(default)]
    pub length: u8,
    /// The data identifier (`"0x901F"`), when the data field has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub di: Option<Code16>,
    /// The order the DI was sent in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub di_order: Option<DiOrder>,
    /// The sequence number SER chosen by the master and echoed by the meter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ser: Option<u8>,
}

impl Default for Cjt188Link {
    /// A request to a cold water meter (T = 10H) with no address yet (the encoder then takes
    /// `meter.id`).
    fn default() -> Self {
        Cjt188Link {
            preamble_len: 0,
            meter_type: Code8(0x10),
            address: ShortText::default(),
            control: None,
            direction: Cjt188Direction::MasterToSlave,
            exception: false,
            function: None,
            length: 0,
            di: None,
            di_order: None,
            ser: None,
        }
    }
}

/// How a wM-Bus telegram carried its link-layer CRCs (EN 13757-4).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum FrameFormat {
    /// Format A: a CRC after the first 10 bytes and after every 16 bytes; L excludes CRCs.
    #[serde(rename = "A")]
    A,
    /// Format B: one CRC over the first 126 bytes, one over the rest; L includes CRCs.
    #[serde(rename = "B")]
    B,
    /// The CRCs were already removed (the common form in logs); L counts the bytes given.
    #[default]
    #[serde(rename = "none")]
    None,
}

impl FrameFormat {
    /// The model's name (`A`, `B`, `none`).
    pub const fn as_str(self) -> &'static str {
        match self {
            FrameFormat::A => "A",
            FrameFormat::B => "B",
            FrameFormat::None => "none",
        }
    }
}

/// Wireless M-Bus link fields (design §2.2): data link layer, the CI of the transport /
/// application layer, its security fields, and the ELL and AFL when present.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct WmbusLink {
    /// `A`, `B`, or `none` when the CRCs were already removed.
    pub frame_format: FrameFormat,
    /// The L field as sent.
    #[serde(default)]
    pub l: u8,
    /// C field.
    pub c: Code8,
    /// The function named by the C field (`SND_NR`, `SND_IR`, `ACC_NR`, `RSP_UD`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<Name>,
    /// CI field of the transport / application layer (after any ELL and AFL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ci: Option<Code8>,
    /// Transport-layer header after the CI: `long`, `short` or `none`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tpl: Option<Tpl>,
    /// Access number of the transport layer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_no: Option<u8>,
    /// Security mode (configuration field bits 12–8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_mode: Option<u8>,
    /// Number of encrypted 16-byte blocks (modes 5 and 7).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encrypted_blocks: Option<u8>,
    /// The raw 16-bit configuration field (`"0x2520"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<Code16>,
    /// The configuration field extension of mode 7 (`"0x10"`: KDF 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_ext: Option<Code8>,
    /// The data-link address when a long transport header carries the meter's own address
    /// (repeaters, radio converters): `meter` is then the transport-layer address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dll_address: Option<Box<Meter>>,
    /// Extended link layer (CI 8C–8F).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ell: Option<Box<WmbusEll>>,
    /// Authentication and fragmentation layer (CI 90).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub afl: Option<Box<WmbusAfl>>,
    /// Format signature of a compact frame (CI 79/7B/73).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format_signature: Option<Code16>,
    /// The CRC over the full frame's data carried by a compact frame.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_crc: Option<Code16>,
    /// The manufacturer-specific layer that was read, e.g. `apator_na1` (CI A0–B7; its bytes
    /// are `manufacturer_data` (decrypted) or `encrypted_data`) or `diehl_real_data` (an
    /// LFSR-scrambled TPL payload).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manufacturer_format: Option<Name>,
    /// The manufacturer's published default key that opened the payload when no key was
    /// given (`diehl_aes`, `diehl_lfsr_1`, `diehl_lfsr_2`): its name, never its bytes.
    /// Encoding without a key uses it again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_key: Option<Name>,
}

/// The extended link layer (ELL, CI 8C–8F, `wmbus.md` §5).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct WmbusEll {
    /// Its CI (`"0x8C"` … `"0x8F"`).
    pub ci: Code8,
    /// Communication control field.
    pub cc: Code8,
    /// Access number.
    pub access_no: u8,
    /// The second address (ELL III / IV).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Meter>,
    /// Session number field (ELL II / IV); bits 31–29 name the encryption (1 = AES-128-CTR).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_number: Option<u32>,
    /// Payload CRC (ELL II / IV), when the payload is readable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload_crc: Option<Code16>,
}

/// The authentication and fragmentation layer (AFL, CI 90, `wmbus.md` §6).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct WmbusAfl {
    /// Fragmentation control field.
    pub fcl: Code16,
    /// Fragment id (FCL bits 7–0).
    #[serde(default)]
    pub fragment_id: u8,
    /// More fragments follow (FCL bit 14).
    #[serde(default, skip_serializing_if = "is_false")]
    pub more_fragments: bool,
    /// Message control field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcl: Option<Code8>,
    /// Key information field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_info: Option<Code16>,
    /// Message counter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_counter: Option<u32>,
    /// The MAC as sent (hex); meterwire reports it without verifying it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<Bytes>,
    /// Message length field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_length: Option<u16>,
}

impl Default for Code8 {
    /// `0x00`.
    fn default() -> Self {
        Code8(0)
    }
}

impl Default for Code16 {
    /// `0x0000`.
    fn default() -> Self {
        Code16(0)
    }
}

/// What a Modbus frame is, decided by its length (a frame does not say it).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModbusDirection {
    /// A client's (master's) request.
    Request,
    /// A server's (slave's) response, exception responses included.
    Response,
    /// Function codes 05 and 06: the response echoes the request byte for byte, so the frame
    /// is either.
    RequestOrEcho,
}

impl ModbusDirection {
    /// The model's name (`request`, `response`, `request_or_echo`).
    pub const fn as_str(self) -> &'static str {
        match self {
            ModbusDirection::Request => "request",
            ModbusDirection::Response => "response",
            ModbusDirection::RequestOrEcho => "request_or_echo",
        }
    }
}

/// One object of a Read Device Identification response (function 2B, MEI 0E).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct ModbusObject {
    /// The object id (`0` vendor name, `1` product code, `2` revision, …).
    pub id: u8,
    /// The object's name for ids 00–06 (`vendor_name`, `product_code`,
    /// `major_minor_revision`, `vendor_url`, `product_name`, `model_name`,
    /// `user_application_name`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<Name>,
    /// The value as text, when its bytes are printable ASCII.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// The value's bytes as hex, when they are not printable ASCII.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hex: Option<Bytes>,
}

/// Modbus RTU / TCP link fields (design §2.2): the ADU header (unit id; on TCP the MBAP) and
/// the fields of the PDU. Which PDU fields appear depends on the function and the direction.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct ModbusLink {
    /// TCP: the MBAP transaction identifier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<u16>,
    /// TCP: the MBAP protocol identifier (0 = Modbus).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol_id: Option<u16>,
    /// TCP: the MBAP length field (unit id + PDU). Encoding writes the real length.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<u16>,
    /// The unit (slave) address; on TCP the MBAP unit identifier.
    pub unit_id: u8,
    /// The function code, without the exception bit 0x80.
    pub function: u8,
    /// The function's name (`read_holding_registers`, …), for the public function codes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function_name: Option<Name>,
    /// Request, response, or `request_or_echo` (05, 06); omitted when the PDU's layout is not
    /// decoded (`application_data`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direction: Option<ModbusDirection>,
    /// An exception response (function code | 0x80).
    #[serde(default)]
    pub exception: bool,
    /// The exception code of an exception response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exception_code: Option<u8>,
    /// The exception's name (`illegal_data_address`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exception_name: Option<Name>,
    /// The first register or coil (function 05/06: the one written; 17: the first read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_address: Option<u16>,
    /// The number of registers or coils (17: the number read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<u16>,
    /// Function 17: the first register written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write_start_address: Option<u16>,
    /// Function 17: the number of registers written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write_quantity: Option<u16>,
    /// The byte count before the data of a read response or a multiple write.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub byte_count: Option<u8>,
    /// The registers of a read response (03, 04, 17), in wire order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub registers: Vec<u16>,
    /// Coils or discrete inputs (01, 02 responses: every bit of the data bytes; 0F requests:
    /// `quantity` bits; 05: the coil written).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub coils: Vec<bool>,
    /// Values written (05: the raw `0xFF00`/`0x0000`; 06: the register; 10, 17: the registers).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<u16>,
    /// Function 2B: the MEI type (14 = read device identification).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mei_type: Option<u8>,
    /// Function 2B/0E: the read device id code (1 basic, 2 regular, 3 extended, 4 one object).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_device_id_code: Option<u8>,
    /// Function 2B/0E request: the first object asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_id: Option<u8>,
    /// Function 2B/0E response: the conformity level.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conformity_level: Option<u8>,
    /// Function 2B/0E response: `0xFF` when more objects follow, `0x00` otherwise (as sent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub more_follows: Option<u8>,
    /// Function 2B/0E response: the object to ask for next.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_object_id: Option<u8>,
    /// Function 2B/0E response: the objects.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub objects: Vec<ModbusObject>,
}

impl Decoded {
    /// The Modbus link fields, when this is a Modbus RTU or TCP frame.
    pub fn modbus_link(&self) -> Option<&ModbusLink> {
        match &self.link {
            Link::Modbus(link) => Some(link),
            #[allow(unreachable_patterns)]
            _ => None,
        }
    }
}

/// The kinds of IEC 62056-21 message (design §2.2 `link.message`), plus `dsmr` for a DSMR P1
/// telegram (identification line, data lines, `!` and an optional CRC-16).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Iec62056Message {
    /// Request (sign-on) `/ ? [device address] ! CR LF`.
    SignOn,
    /// Identification `/ XXX Z [\W] ident CR LF`.
    Identification,
    /// Acknowledgement / option select `ACK V Z Y CR LF`.
    AckOptionSelect,
    /// Data message `STX data-block ETX BCC` (readout, or the answer to a read command).
    Data,
    /// Programming command `SOH C D [STX data ETX|EOT] BCC` (password, write, read, execute).
    Command,
    /// A lone acknowledgement `ACK` (06).
    Ack,
    /// A lone negative acknowledgement `NAK` (15): repeat request.
    Nak,
    /// Break / exit command `SOH B D ETX BCC`.
    Break,
    /// Error message `STX (ERxx) ETX BCC`.
    Error,
    /// A DSMR P1 telegram (the mode D derivative of Dutch/Belgian smart meters).
    Dsmr,
}

impl Iec62056Message {
    /// The model's name (`sign_on`, `data`, …).
    pub const fn as_str(self) -> &'static str {
        match self {
            Iec62056Message::SignOn => "sign_on",
            Iec62056Message::Identification => "identification",
            Iec62056Message::AckOptionSelect => "ack_option_select",
            Iec62056Message::Data => "data",
            Iec62056Message::Command => "command",
            Iec62056Message::Ack => "ack",
            Iec62056Message::Nak => "nak",
            Iec62056Message::Break => "break",
            Iec62056Message::Error => "error",
            Iec62056Message::Dsmr => "dsmr",
        }
    }
}

/// IEC 62056-21 link fields (design §2.2). Which fields appear depends on `message`; the data
/// sets of data, command and DSMR messages are `records` (the data-set id as `address`).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Iec62056Link {
    /// The message kind.
    pub message: Iec62056Message,
    /// Sign-on: the device address between `/?` and `!` (`""` when none was sent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_address: Option<String>,
    /// Identification, DSMR: the three manufacturer letters as sent (a lower-case third
    /// letter announces a 20 ms minimum reaction time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manufacturer: Option<String>,
    /// Identification, DSMR: the meter's minimum reaction time in ms (20 or 200).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reaction_time_ms_min: Option<u16>,
    /// Identification, DSMR, option select: the baud-rate character.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baud_char: Option<String>,
    /// The baud rate the baud character stands for (mode A: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baud: Option<u32>,
    /// Identification, DSMR: the protocol mode the identification implies (`A` … `E`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol_mode: Option<Name>,
    /// Identification, DSMR: the identification text after the baud character.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identification: Option<String>,
    /// Identification, DSMR: the enhanced identification character after `\` (`2`: binary
    /// HDLC mode available).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enhanced_id: Option<String>,
    /// Option select: the protocol control character V.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol_char: Option<String>,
    /// Option select: the mode control character Y.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode_char: Option<String>,
    /// Option select: `data_readout`, `programming`, `binary`, `manufacturer` or `reserved`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<Name>,
    /// Command, break: the command message identifier C (`P`, `W`, `R`, `E`, `B`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// Command, break: the command type identifier D (`0` … `9`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command_type: Option<String>,
    /// Command, break: the command's meaning (`password_operand`, `password`, `write`,
    /// `read`, `execute`, `exit`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command_name: Option<Name>,
    /// Error message: the text between the parentheses (`ER12`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_text: Option<String>,
    /// Command: a data block `STX ETX` with nothing in it was sent.
    #[serde(default, skip_serializing_if = "is_false")]
    pub empty_data: bool,
    /// Data message: the data block ends with the end line `! CR LF` (a readout).
    #[serde(default, skip_serializing_if = "is_false")]
    pub end_mark: bool,
    /// Data, command: a partial block, closed by EOT instead of ETX.
    #[serde(default, skip_serializing_if = "is_false")]
    pub partial: bool,
    /// Data, command, break, error: the block check character (XOR after SOH/STX through
    /// ETX/EOT).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bcc: Option<Code8>,
    /// DSMR: the CRC-16 after `!` (DSMR 2.2/3 telegrams have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crc: Option<Code16>,
    /// The capture carried 7E1 even-parity bits in bit 7; they were stripped before decoding
    /// and encoding sets them again.
    #[serde(default, skip_serializing_if = "is_false")]
    pub parity: bool,
}

impl Iec62056Link {
    /// Link fields of a `message` with every optional field absent.
    pub fn new(message: Iec62056Message) -> Iec62056Link {
        Iec62056Link {
            message,
            device_address: None,
            manufacturer: None,
            reaction_time_ms_min: None,
            baud_char: None,
            baud: None,
            protocol_mode: None,
            identification: None,
            enhanced_id: None,
            protocol_char: None,
            mode_char: None,
            mode: None,
            command: None,
            command_type: None,
            command_name: None,
            error_text: None,
            empty_data: false,
            end_mark: false,
            partial: false,
            bcc: None,
            crc: None,
            parity: false,
        }
    }
}

impl Decoded {
    /// The IEC 62056-21 link fields, when this is an IEC 62056-21 message or DSMR telegram.
    pub fn iec62056_21_link(&self) -> Option<&Iec62056Link> {
        match &self.link {
            Link::Iec62056_21(link) => Some(link),
            #[allow(unreachable_patterns)]
            _ => None,
        }
    }
}
#[cfg(test)]
mod compact_record_tests {
    use super::*;

    /// Raw parts of every length up to 16 bytes are kept whole and zero-padded,
    /// longer ones are refused (they go to the heap part).
    #[test]
    fn short_copies_keep_every_byte() {
        let source: Vec<u8> = (1..=17).collect();
        for len in 0..=17 {
            let copied = short_bytes(&source[..len]);
            if len > RAW_INLINE {
                assert!(copied.is_none());
                continue;
            }
            let dst = copied.unwrap();
            assert_eq!(&dst[..len], &source[..len], "{len}");
            assert!(dst[len..].iter().all(|&b| b == 0), "{len}");
        }
    }

    /// The compact record stays small enough to be moved without a call to `memcpy`.
    #[test]
    fn record_is_compact() {
        assert!(core::mem::size_of::<Record>() <= 112);
    }

    /// A record keeps what it is given, however each part is stored: static and owned
    /// names, inline and heap raw bytes, the extra part's fields; `edit` and `to_fields`
    /// give the same fields back.
    #[test]
    fn fields_round_trip_through_the_compact_form() {
        let long_raw: Vec<u8> = (0u8..40).collect();
        let cases = [
            RecordFields {
                quantity: Cow::Borrowed("volume"),
                value: Decimal::new(1_234_567, -3).map(Value::Number),
                unit: Some(Cow::Borrowed("m3")),
                storage: Some(3),
                tariff: Some(1),
                subunit: Some(0),
                function: Some(Function::Maximum),
                raw: Some(RawRecord::new(
                    2,
                    &[0x8C, 0x01],
                    &[0x13],
                    &[0x67, 0x45, 0x23, 0x01],
                )),
                ..RecordFields::default()
            },
            RecordFields {
                quantity: Cow::Owned(String::from("tank_level")),
                value: Some(Value::Text(String::from("full"))),
                unit: Some(Cow::Owned(String::from("m3/h"))),
                unit_text: Some(String::from("cust. ID")),
                label: Some(Cow::Borrowed("forward_total")),
                modifiers: vec![Cow::Borrowed("per_hour"), Cow::Owned(String::from("x"))],
                record_error: Some(Cow::Borrowed("data_error")),
                action: Some(Cow::Borrowed("write")),
                invalid: true,
                dst: true,
                address: Some(Address::Number(40_001)),
                raw: Some(RawRecord::from_parts(0, &long_raw, 1, 1)),
                ..RecordFields::default()
            },
            RecordFields::new("other"),
        ];
        for fields in cases {
            let record = Record::from(fields.clone());
            assert_eq!(record.to_fields(), fields);
            assert_eq!(record.quantity(), fields.quantity.as_ref());
            assert_eq!(record.unit(), fields.unit.as_deref());
            assert_eq!(record.raw().map(|r| r.to_raw_record()), fields.raw);
            let mut edited = record.clone();
            edited.edit(|f| f.storage = Some(9));
            assert_eq!(edited.storage(), Some(9));
            assert_eq!(edited.quantity(), record.quantity());
        }
    }
}

#[cfg(test)]
mod timestamp_tests {
    use super::{edge_timestamps, Timestamp};
    use alloc::format;
    use alloc::string::{String, ToString};

    /// The printed form as `write!` pads it, field by field.
    fn reference(t: &Timestamp) -> String {
        let mut out = String::new();
        if let Some(year) = t.year {
            out.push_str(&format!("{year:04}-{:02}-{:02}", t.month, t.day));
            if t.hour.is_some() {
                out.push('T');
            }
        }
        if let Some(hour) = t.hour {
            out.push_str(&format!("{hour:02}:{:02}", t.minute.unwrap_or(0)));
            if let Some(second) = t.second {
                out.push_str(&format!(":{second:02}"));
            }
        }
        out
    }

    #[test]
    fn printed_digit_by_digit_as_write_pads_them() {
        let t = Timestamp {
            year: Some(2026),
            month: 11,
            day: 3,
            hour: Some(4),
            minute: Some(5),
            second: Some(7),
        };
        assert_eq!(t.to_string(), "2026-11-03T04:05:07");
        let mut checked = 0;
        for t in edge_timestamps() {
            assert_eq!(t.to_string(), reference(&t), "{t:?}");
            checked += 1;
        }
        assert_eq!(checked, 8 * 6 * 6 * 5 * 5 * 6);
    }
}

/// Timestamps at and beyond every field's limits (years of 1 to 5 digits, months and days of
/// 0 to 3 digits, hours, minutes and seconds absent, in range and too wide for two digits):
/// the tests of each printer of timestamps (`Display`, the JSON writer) run over them all.
#[cfg(test)]
pub(crate) fn edge_timestamps() -> impl Iterator<Item = Timestamp> {
    let years = [
        None,
        Some(0),
        Some(7),
        Some(999),
        Some(2026),
        Some(9999),
        Some(10_000),
        Some(65_535),
    ];
    let days = [0u8, 1, 9, 31, 99, 255];
    let months = [0u8, 1, 10, 12, 15, 100];
    let hours = [None, Some(0), Some(23), Some(31), Some(255)];
    let minutes = [None, Some(5), Some(59), Some(63), Some(200)];
    let seconds = [None, Some(7), Some(59), Some(60), Some(101), Some(200)];
    years.into_iter().flat_map(move |year| {
        months.into_iter().flat_map(move |month| {
            days.into_iter().flat_map(move |day| {
                hours.into_iter().flat_map(move |hour| {
                    minutes.into_iter().flat_map(move |minute| {
                        seconds.into_iter().map(move |second| Timestamp {
                            year,
                            month,
                            day,
                            hour,
                            minute,
                            second,
                        })
                    })
                })
            })
        })
    })
}
