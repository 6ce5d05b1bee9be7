//! MQTT control packets (OASIS MQTT 3.1.1 and 5.0): the uplink of LTE Cat.1 water meters and
//! DTUs to IoT platforms. PUBLISH is decoded in full — fixed header, topic, packet
//! identifier, MQTT 5.0 properties — and its payload is read through [`crate::payload`] (a
//! CJ/T 188, M-Bus, wM-Bus or Modbus RTU frame nested in `payload`, JSON records, or opaque
//! bytes). The other packet types are recognised by name, with their packet identifier where
//! they carry one and the rest of the packet kept as `application_data`: connection
//! management is not a meter's data.
//!
//! ```
//! use meterwire::{decode, parse_hex, Options};
//!
//! // A QoS 0 PUBLISH to "m/1" whose payload is an M-Bus short frame (REQ_UD2 to address 5).
//! let packet = parse_hex("30 0A 00 03 6D 2F 31 10 5B 05 60 16")?;
//! let d = decode(&packet, &Options::default())?;
//! let link = d.mqtt_link().unwrap();
//! assert_eq!((link.packet_type.as_ref(), link.topic.as_deref()), ("PUBLISH", Some("m/1")));
//! assert_eq!(d.payload.unwrap().protocol.as_str(), "mbus");
//! # Ok::<(), meterwire::Error>(())
//! ```
//!
//! # Mapping into the model
//!
//! * `link` (design §2.2): `packet_type`, `version` (`3.1.1` unless the caller's
//!   [`crate::Options::mqtt_version`] says `5.0`: a PUBLISH does not say which version sent
//!   it; a CONNECT does, by its protocol level, and is read as that), and for PUBLISH `dup`,
//!   `qos`, `retain`, `remaining_length`, `topic`, `packet_id` (QoS 1 and 2), `properties`
//!   (5.0: `[{id, name, key?, value}]`; numbers for integers, text for strings, hex for
//!   binary data, `key` for a user property's name).
//! * Documented additions: `flags` (the fixed header's low four bits of other packet types),
//!   `remaining_length_bytes` (only when the remaining length took more bytes than its value
//!   needs, so the round trip is exact), `protocol_level` (CONNECT), `payload_format`.
//! * The payload: a 5.0 Content Type property `application/json` reads it as JSON; otherwise
//!   it is detected in the digest's order.
//!
//! # Errors (design §3)
//!
//! Empty → `empty`. Fewer than 2 bytes, a remaining length running past the input, a packet
//! longer than the input → `truncated` at the input length. A remaining length whose fourth
//! byte still has its continuation bit → `malformed` at that byte. Bytes after the packet →
//! `length` at offset 1 (the remaining length field). Packet type 0 → `malformed` at 0.
//! PUBLISH: QoS 3 → `malformed` at 0; a topic or packet identifier past the packet's end →
//! `malformed` where it starts; a topic that is not UTF-8 → `malformed` at the topic; an
//! unknown 5.0 property, or a property running past the property length → `malformed` at
//! the property. Reserved fixed-header flags of other packets, a packet identifier 0 and a
//! 3.1.1 AUTH are warnings.
//!
//! # Detection and streams
//!
//! MQTT is detected only in the [`Stage::Fallback`] stage after every other family, and
//! only for a PUBLISH that is the whole input: remaining length equal to the bytes after it,
//! QoS 0–2, a non-empty UTF-8 topic without control characters or wildcards, and a non-zero
//! packet identifier for QoS 1 and 2. Other packet types, and 5.0 packets whose properties
//! would read as topic bytes, need `protocol: mqtt`. `decode_stream` cuts packets by their
//! remaining length when the caller names `mqtt` (a TCP capture).

pub mod model;

use alloc::borrow::Cow;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::error::{Detail, Error, ErrorKind, Layer, Result};
use crate::explain::Spans;
use crate::framing::{Lead, Scan, Search, StreamContext};
use crate::hex;
use crate::model::{Bytes, Decoded, Link, Name, Protocol};
use crate::payload::{self, FieldValue, Hint};
use crate::protocol::{Codec, DetectStep, Detection, Framing, Stage};
use crate::reader::Reader;
use crate::Options;
pub use model::{MqttLink, MqttProperty, MqttVersion};

/// The registry entry of MQTT ([`crate::protocol`]): PUBLISH detected last; packets cut
/// from streams when named.
pub static CODEC: Codec = Codec {
    protocol: Protocol::Mqtt,
    title: "MQTT (3.1.1 / 5.0)",
    detect: &[DetectStep::new(Stage::Fallback, detect)],
    decode,
    encode: Some(encode_model),
    framing: Some(Framing::new(
        Search::OnlyNamed,
        Lead::First(&[]),
        scan,
        Framing::no_requests,
    )),
};

/// Byte offsets and limits of the fixed header.
pub mod field {
    /// Packet type (bits 7–4) and flags (bits 3–0).
    pub const TYPE_FLAGS: usize = 0;
    /// The first byte of the remaining length.
    pub const REMAINING_LENGTH: usize = 1;
    /// The most bytes a variable byte integer takes.
    pub const MAX_VARINT_LEN: usize = 4;
    /// The largest variable byte integer.
    pub const MAX_VARINT: u32 = 268_435_455;
    /// The offset of the last byte a variable byte integer may take, from its first.
    pub const LAST_VARINT_BYTE: usize = 3;
    /// The PUBLISH packet type.
    pub const PUBLISH: u8 = 3;
}

/// The control packet types, by number (0 is reserved).
const PACKET_TYPES: [&str; 16] = [
    "RESERVED",
    "CONNECT",
    "CONNACK",
    "PUBLISH",
    "PUBACK",
    "PUBREC",
    "PUBREL",
    "PUBCOMP",
    "SUBSCRIBE",
    "SUBACK",
    "UNSUBSCRIBE",
    "UNSUBACK",
    "PINGREQ",
    "PINGRESP",
    "DISCONNECT",
    "AUTH",
];

/// The name of packet type `t`.
pub fn packet_type_name(t: u8) -> &'static str {
    PACKET_TYPES
        .get(usize::from(t))
        .copied()
        .unwrap_or("RESERVED")
}

/// The fixed-header flags a packet type other than PUBLISH must carry.
const fn required_flags(t: u8) -> u8 {
    match t {
        6 | 8 | 10 => 0x02,
        _ => 0,
    }
}

/// Whether packet type `t` (other than PUBLISH) starts with a packet identifier.
const fn has_packet_id(t: u8) -> bool {
    matches!(t, 4..=11)
}

/// How a property's value is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PropertyType {
    Byte,
    Two,
    Four,
    Varint,
    Utf8,
    Binary,
    Pair,
}

/// The MQTT 5.0 properties: id, name, type.
const PROPERTIES: [(u8, &str, PropertyType); 27] = [
    (0x01, "payload_format_indicator", PropertyType::Byte),
    (0x02, "message_expiry_interval", PropertyType::Four),
    (0x03, "content_type", PropertyType::Utf8),
    (0x08, "response_topic", PropertyType::Utf8),
    (0x09, "correlation_data", PropertyType::Binary),
    (0x0B, "subscription_identifier", PropertyType::Varint),
    (0x11, "session_expiry_interval", PropertyType::Four),
    (0x12, "assigned_client_identifier", PropertyType::Utf8),
    (0x13, "server_keep_alive", PropertyType::Two),
    (0x15, "authentication_method", PropertyType::Utf8),
    (0x16, "authentication_data", PropertyType::Binary),
    (0x17, "request_problem_information", PropertyType::Byte),
    (0x18, "will_delay_interval", PropertyType::Four),
    (0x19, "request_response_information", PropertyType::Byte),
    (0x1A, "response_information", PropertyType::Utf8),
    (0x1C, "server_reference", PropertyType::Utf8),
    (0x1F, "reason_string", PropertyType::Utf8),
    (0x21, "receive_maximum", PropertyType::Two),
    (0x22, "topic_alias_maximum", PropertyType::Two),
    (0x23, "topic_alias", PropertyType::Two),
    (0x24, "maximum_qos", PropertyType::Byte),
    (0x25, "retain_available", PropertyType::Byte),
    (0x26, "user_property", PropertyType::Pair),
    (0x27, "maximum_packet_size", PropertyType::Four),
    (0x28, "wildcard_subscription_available", PropertyType::Byte),
    (
        0x29,
        "subscription_identifier_available",
        PropertyType::Byte,
    ),
    (0x2A, "shared_subscription_available", PropertyType::Byte),
];

fn property_info(id: u8) -> Option<(&'static str, PropertyType)> {
    PROPERTIES
        .iter()
        .find(|(i, _, _)| *i == id)
        .map(|(_, n, t)| (*n, *t))
}

fn empty() -> Error {
    Error::new(
        ErrorKind::Empty,
        Layer::Input,
        0,
        Detail::Text("no input bytes"),
    )
}

/// Reads a variable byte integer at `at`: `(value, bytes)`.
fn varint(buf: &[u8], at: usize) -> Result<(u32, usize)> {
    let mut value = 0u32;
    for i in 0..field::MAX_VARINT_LEN {
        let pos = at.saturating_add(i);
        let b = buf.get(pos).copied().ok_or(Error::truncated(
            Layer::Link,
            pos.saturating_add(1),
            buf.len(),
        ))?;
        value |= u32::from(b & 0x7F).wrapping_shl(7u32.saturating_mul(i as u32));
        if b & 0x80 == 0 {
            return Ok((value, i.saturating_add(1)));
        }
    }
    Err(Error::link(
        ErrorKind::Malformed,
        at.saturating_add(field::LAST_VARINT_BYTE),
        Detail::Text("variable byte integer longer than 4 bytes"),
    ))
}

/// The bytes a variable byte integer needs.
fn varint_len(value: u32) -> usize {
    match value {
        0..=127 => 1,
        128..=16_383 => 2,
        16_384..=2_097_151 => 3,
        _ => 4,
    }
}

/// Writes `value` as a variable byte integer of at least `min_len` bytes.
fn put_varint(out: &mut Vec<u8>, value: u32, min_len: usize) -> Result<()> {
    if value > field::MAX_VARINT {
        return Err(Error::model("MQTT length over 268435455"));
    }
    let len = varint_len(value).max(min_len.min(field::MAX_VARINT_LEN));
    let mut v = value;
    for i in 0..len {
        let more = if i.saturating_add(1) < len { 0x80 } else { 0 };
        out.push(u8::try_from(v & 0x7F).unwrap_or(0) | more);
        v >>= 7;
    }
    Ok(())
}

/// A checked view of one MQTT control packet: fixed header and the bytes it counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MqttPacket<T: AsRef<[u8]>> {
    buffer: T,
    length_bytes: usize,
    remaining_length: u32,
}

impl<T: AsRef<[u8]>> MqttPacket<T> {
    /// Wraps `buffer` after checking that it is exactly one packet (module docs, Errors).
    pub fn new_checked(buffer: T) -> Result<Self> {
        let buf = buffer.as_ref();
        if buf.is_empty() {
            return Err(empty());
        }
        if buf.len() < 2 {
            return Err(Error::truncated(Layer::Link, 2, buf.len()));
        }
        let (remaining_length, length_bytes) = varint(buf, field::REMAINING_LENGTH)?;
        let total = field::REMAINING_LENGTH
            .saturating_add(length_bytes)
            .saturating_add(usize::try_from(remaining_length).unwrap_or(usize::MAX));
        if total > buf.len() {
            return Err(Error::truncated(Layer::Link, total, buf.len()));
        }
        if total < buf.len() {
            return Err(Error::link(
                ErrorKind::Length,
                field::REMAINING_LENGTH,
                Detail::Trailing {
                    frame_len: total,
                    extra: buf.len().saturating_sub(total),
                },
            ));
        }
        if buf.first().is_some_and(|b| b >> 4 == 0) {
            return Err(Error::link(
                ErrorKind::Malformed,
                field::TYPE_FLAGS,
                Detail::Text("packet type 0 is reserved"),
            ));
        }
        Ok(MqttPacket {
            buffer,
            length_bytes,
            remaining_length,
        })
    }

    fn first(&self) -> u8 {
        self.buffer.as_ref().first().copied().unwrap_or(0)
    }

    /// The packet type (1–15).
    pub fn packet_type(&self) -> u8 {
        self.first() >> 4
    }

    /// The fixed header's low four bits.
    pub fn flags(&self) -> u8 {
        self.first() & 0x0F
    }

    /// The remaining length.
    pub fn remaining_length(&self) -> u32 {
        self.remaining_length
    }

    /// Bytes of the remaining length field.
    pub fn length_bytes(&self) -> usize {
        self.length_bytes
    }

    /// The offset of the variable header.
    pub fn body_start(&self) -> usize {
        field::REMAINING_LENGTH.saturating_add(self.length_bytes)
    }

    /// Variable header and payload.
    pub fn body(&self) -> &[u8] {
        self.buffer.as_ref().get(self.body_start()..).unwrap_or(&[])
    }
}

/// What starts `rest` in a TCP capture of MQTT (searched only when the caller names MQTT:
/// a packet has no start byte): a packet whose fixed header and remaining length hold, the
/// beginning of one, or nothing.
fn scan(rest: &[u8], _: &StreamContext) -> Scan {
    let Some(&first) = rest.first() else {
        return Scan::Incomplete(1);
    };
    if first >> 4 == 0 {
        return Scan::None;
    }
    match varint(rest, field::REMAINING_LENGTH) {
        Ok((len, n)) => {
            let total = usize::try_from(len)
                .ok()
                .and_then(|len| len.checked_add(n)?.checked_add(1));
            match total {
                Some(total) if total > rest.len() => Scan::Incomplete(total),
                Some(total) => Scan::Frame(total),
                None => Scan::None,
            }
        }
        // The remaining length is still arriving: its bytes so far all say "more follows".
        Err(_)
            if rest.len() <= field::REMAINING_LENGTH.saturating_add(3)
                && rest.iter().skip(1).all(|b| b & 0x80 != 0) =>
        {
            Scan::Incomplete(rest.len().saturating_add(1))
        }
        Err(_) => Scan::None,
    }
}

/// A whole 3.1.1-looking PUBLISH (module docs).
fn detect(bytes: &[u8]) -> Detection {
    if bytes.first()? >> 4 != field::PUBLISH {
        return None;
    }
    let packet = MqttPacket::new_checked(bytes).ok()?;
    let qos = (packet.flags() >> 1) & 0x03;
    let body = packet.body();
    let topic_len = usize::from(u16::from_be_bytes([*body.first()?, *body.get(1)?]));
    let topic = core::str::from_utf8(body.get(2..2usize.checked_add(topic_len)?)?).ok()?;
    let id_ok = qos == 0
        || body
            .get(topic_len.checked_add(2)?..topic_len.checked_add(4)?)
            .is_some_and(|id| id != [0, 0]);
    let plausible = qos < 3
        && !topic.is_empty()
        && !topic
            .chars()
            .any(|c| c.is_control() || c == '+' || c == '#')
        && id_ok;
    plausible.then_some(Ok(Protocol::Mqtt))
}

/// Reads the properties of `bytes` (starting at absolute `base`).
fn properties(bytes: &[u8], base: usize) -> Result<(Vec<MqttProperty>, Vec<usize>)> {
    let mut r = Reader::new(bytes, base);
    let mut out = Vec::new();
    let mut sizes = Vec::new();
    while !r.is_empty() {
        let at = r.position();
        let start = r.local_position();
        let id = r.u8("property identifier")?;
        let (name, kind) = property_info(id).ok_or(Error::new(
            ErrorKind::Malformed,
            Layer::Application,
            at,
            Detail::Code {
                what: "MQTT property identifier",
                value: id,
            },
        ))?;
        let mut property = MqttProperty {
            id,
            name: Some(Cow::Borrowed(name)),
            ..MqttProperty::default()
        };
        let be = |b: &[u8]| {
            b.iter()
                .fold(0u64, |a, &x| a.wrapping_shl(8) | u64::from(x))
        };
        let text = |r: &mut Reader<'_>| -> Result<String> {
            let at = r.position();
            let len = usize::from(u16::from_be_bytes(
                r.take(2, "string length")?.try_into().unwrap_or([0, 0]),
            ));
            let raw = r.take(len, "string")?;
            core::str::from_utf8(raw)
                .map(String::from)
                .map_err(|_| Error::malformed(at, "MQTT string is not UTF-8"))
        };
        property.value = match kind {
            PropertyType::Byte => FieldValue::Number(be(r.take(1, "property value")?)),
            PropertyType::Two => FieldValue::Number(be(r.take(2, "property value")?)),
            PropertyType::Four => FieldValue::Number(be(r.take(4, "property value")?)),
            PropertyType::Varint => {
                let local = r.local_position();
                let (v, n) = varint(bytes, local).map_err(|e| e.shifted(base))?;
                if n != varint_len(v) {
                    return Err(Error::malformed(
                        r.position(),
                        "MQTT variable byte integer not in its shortest form",
                    ));
                }
                r.take(n, "property value")?;
                FieldValue::Number(u64::from(v))
            }
            PropertyType::Utf8 => FieldValue::Text(text(&mut r)?),
            PropertyType::Binary => {
                let len = usize::from(u16::from_be_bytes(
                    r.take(2, "binary length")?.try_into().unwrap_or([0, 0]),
                ));
                FieldValue::Text(hex::to_hex(r.take(len, "binary data")?))
            }
            PropertyType::Pair => {
                property.key = Some(text(&mut r)?);
                FieldValue::Text(text(&mut r)?)
            }
        };
        sizes.push(r.local_position().saturating_sub(start));
        out.push(property);
    }
    Ok((out, sizes))
}

/// Writes the properties of the model.
fn put_properties(out: &mut Vec<u8>, props: &[MqttProperty]) -> Result<()> {
    let bad = || Error::model("MQTT property value does not fit its type");
    let put_text = |out: &mut Vec<u8>, t: &[u8]| -> Result<()> {
        let len = u16::try_from(t.len()).map_err(|_| bad())?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(t);
        Ok(())
    };
    for p in props {
        let (_, kind) =
            property_info(p.id).ok_or(Error::model("unknown MQTT property identifier"))?;
        out.push(p.id);
        let number = match &p.value {
            FieldValue::Number(v) => Some(*v),
            FieldValue::Text(_) => None,
        };
        let text = match &p.value {
            FieldValue::Text(t) => Some(t.as_bytes()),
            FieldValue::Number(_) => None,
        };
        match kind {
            PropertyType::Byte => {
                out.push(number.and_then(|v| u8::try_from(v).ok()).ok_or_else(bad)?)
            }
            PropertyType::Two => out.extend_from_slice(
                &number
                    .and_then(|v| u16::try_from(v).ok())
                    .ok_or_else(bad)?
                    .to_be_bytes(),
            ),
            PropertyType::Four => out.extend_from_slice(
                &number
                    .and_then(|v| u32::try_from(v).ok())
                    .ok_or_else(bad)?
                    .to_be_bytes(),
            ),
            PropertyType::Varint => put_varint(
                out,
                number.and_then(|v| u32::try_from(v).ok()).ok_or_else(bad)?,
                1,
            )?,
            PropertyType::Utf8 => put_text(out, text.ok_or_else(bad)?)?,
            PropertyType::Binary => {
                let t = core::str::from_utf8(text.ok_or_else(bad)?).map_err(|_| bad())?;
                let data = if t.is_empty() {
                    Vec::new()
                } else {
                    hex::parse_hex(t).map_err(|_| bad())?
                };
                put_text(out, &data)?;
            }
            PropertyType::Pair => {
                put_text(out, p.key.as_deref().unwrap_or("").as_bytes())?;
                put_text(out, text.ok_or_else(bad)?)?;
            }
        }
    }
    Ok(())
}

/// Where the parts of a PUBLISH are, for explain mode.
#[derive(Clone, Copy, Debug, Default)]
struct Layout {
    topic_len: usize,
    packet_id: bool,
    properties_len_bytes: usize,
    payload_start: usize,
}

/// Decodes exactly one MQTT control packet.
pub fn decode(bytes: &[u8], opts: &Options) -> Result<Decoded> {
    let packet = MqttPacket::new_checked(bytes)?;
    let t = packet.packet_type();
    let mut version = opts.mqtt_version.unwrap_or_default();
    let mut link = MqttLink {
        packet_type: Cow::Borrowed(packet_type_name(t)),
        remaining_length: packet.remaining_length(),
        remaining_length_bytes: (packet.length_bytes() != varint_len(packet.remaining_length()))
            .then(|| u8::try_from(packet.length_bytes()).unwrap_or(4)),
        ..MqttLink::default()
    };
    let mut out = Decoded::new(Protocol::Mqtt, Link::Mqtt(MqttLink::default()));
    if link.remaining_length_bytes.is_some() {
        out.warnings.push(format!(
            "remaining length {} written in {} bytes, more than it needs",
            packet.remaining_length(),
            packet.length_bytes()
        ));
    }
    let body = packet.body();
    let base = packet.body_start();
    let mut layout = Layout::default();
    let mut sizes = Vec::new();
    if t == field::PUBLISH {
        let flags = packet.flags();
        let qos = (flags >> 1) & 0x03;
        if qos == 3 {
            return Err(Error::link(
                ErrorKind::Malformed,
                field::TYPE_FLAGS,
                Detail::Text("PUBLISH QoS 3 is reserved"),
            ));
        }
        link.dup = Some(flags & 0x08 != 0);
        link.qos = Some(qos);
        link.retain = Some(flags & 0x01 != 0);
        let mut r = Reader::new(body, base);
        let len = r.take(2, "topic length")?;
        let topic_len = usize::from(u16::from_be_bytes(len.try_into().unwrap_or([0, 0])));
        let topic_at = r.position();
        let topic = r.take(topic_len, "topic")?;
        link.topic =
            Some(String::from(core::str::from_utf8(topic).map_err(|_| {
                Error::malformed(topic_at, "MQTT topic is not UTF-8")
            })?));
        layout.topic_len = topic_len;
        if qos > 0 {
            let id = r.take(2, "packet identifier")?;
            let id = u16::from_be_bytes(id.try_into().unwrap_or([0, 0]));
            if id == 0 {
                out.warnings
                    .push("packet identifier 0 (QoS 1 and 2 need a non-zero one)".into());
            }
            link.packet_id = Some(id);
            layout.packet_id = true;
        }
        let mut hint = Hint::Detect;
        if version == MqttVersion::V5 {
            let local = r.local_position();
            let (len, n) = varint(body, local).map_err(|e| e.shifted(base))?;
            r.take(n, "property length")?;
            layout.properties_len_bytes = n;
            let props_at = r.position();
            let props = r.take(usize::try_from(len).unwrap_or(usize::MAX), "properties")?;
            let (list, s) = properties(props, props_at)?;
            sizes = s;
            let json = list.iter().any(|p| {
                p.id == 0x03
                    && matches!(&p.value, FieldValue::Text(t) if t.starts_with("application/json"))
            });
            if json {
                hint = Hint::Json;
            }
            link.properties = list;
        }
        layout.payload_start = r.position();
        let topic = link.topic.clone().unwrap_or_default();
        let ids: Vec<&str> = topic.split('/').collect();
        let (read, cipher) =
            payload::read_encrypted(r.rest(), r.position(), hint, opts, &mut out, &ids)?;
        link.payload_format = read.format.map(Name::from);
        link.payload_cipher = cipher;
    } else {
        let flags = packet.flags();
        link.flags = Some(flags);
        if flags != required_flags(t) && t != 15 {
            out.warnings.push(format!(
                "{} fixed-header flags 0x{flags:X}, the specification requires 0x{:X}",
                packet_type_name(t),
                required_flags(t)
            ));
        }
        let mut rest = body;
        if has_packet_id(t) {
            if let Some(&[hi, lo]) = body.get(..2) {
                link.packet_id = Some(u16::from_be_bytes([hi, lo]));
                rest = body.get(2..).unwrap_or(&[]);
            }
        }
        if t == 1 {
            // CONNECT: protocol name (length-prefixed), then the protocol level.
            let name_len = match body.get(..2) {
                Some(&[hi, lo]) => usize::from(u16::from_be_bytes([hi, lo])),
                _ => 0,
            };
            if let Some(&level) = body.get(name_len.saturating_add(2)) {
                link.protocol_level = Some(level);
                version = if level == 5 {
                    MqttVersion::V5
                } else {
                    MqttVersion::V311
                };
            }
        }
        if t == 15 && version == MqttVersion::V311 {
            out.warnings
                .push("AUTH is an MQTT 5.0 packet (type 15 is reserved in 3.1.1)".into());
        }
        if !rest.is_empty() {
            out.application_data = Some(Bytes::new(rest));
        }
    }
    link.version = version;
    out.link = Link::Mqtt(link);
    if opts.explain {
        out.spans = spans(&packet, &out, layout, &sizes);
    }
    Ok(out)
}

/// Builds a PUBLISH around `payload` (an encoded frame, JSON text, …). `packet_id` is written
/// for QoS 1 and 2 (0 when `None`); a 5.0 PUBLISH gets an empty property list.
///
/// ```
/// use meterwire::mqtt::{publish, MqttVersion};
///
/// let packet = publish("m/1", 1, Some(10), false, false, MqttVersion::V311, b"{}")?;
/// assert_eq!(packet, [0x32, 0x09, 0x00, 0x03, b'm', b'/', b'1', 0x00, 0x0A, b'{', b'}']);
/// # Ok::<(), meterwire::Error>(())
/// ```
pub fn publish(
    topic: &str,
    qos: u8,
    packet_id: Option<u16>,
    retain: bool,
    dup: bool,
    version: MqttVersion,
    payload: &[u8],
) -> Result<Vec<u8>> {
    let link = MqttLink {
        packet_type: Cow::Borrowed("PUBLISH"),
        version,
        dup: Some(dup),
        qos: Some(qos),
        retain: Some(retain),
        topic: Some(String::from(topic)),
        packet_id: packet_id.filter(|_| qos > 0),
        ..MqttLink::default()
    };
    let mut d = Decoded::new(Protocol::Mqtt, Link::Mqtt(link));
    if !payload.is_empty() {
        d.application_data = Some(Bytes::new(payload));
    }
    encode(&d, &Options::default())
}

fn encode_model(decoded: &Decoded, opts: &Options) -> Result<Vec<u8>> {
    encode(decoded, opts)
}

/// Writes an MQTT model back: fixed header, variable header from `link`, then the payload
/// (the nested frame encoded with `opts`, or `application_data`); the remaining length is
/// the real one.
pub fn encode(decoded: &Decoded, opts: &Options) -> Result<Vec<u8>> {
    let link = decoded
        .mqtt_link()
        .ok_or(Error::model("an MQTT model needs MQTT link fields"))?;
    let t = PACKET_TYPES
        .iter()
        .position(|n| *n == link.packet_type)
        .and_then(|i| u8::try_from(i).ok())
        .filter(|&t| t != 0)
        .ok_or(Error::model("unknown MQTT packet type"))?;
    let mut body = Vec::new();
    let first;
    if t == field::PUBLISH {
        let qos = link.qos.unwrap_or(0);
        if qos > 2 {
            return Err(Error::model("PUBLISH QoS must be 0, 1 or 2"));
        }
        first = t << 4
            | u8::from(link.dup.unwrap_or(false)) << 3
            | qos << 1
            | u8::from(link.retain.unwrap_or(false));
        let topic = link.topic.as_deref().unwrap_or("");
        let len = u16::try_from(topic.len()).map_err(|_| Error::model("MQTT topic too long"))?;
        body.extend_from_slice(&len.to_be_bytes());
        body.extend_from_slice(topic.as_bytes());
        if qos > 0 {
            body.extend_from_slice(&link.packet_id.unwrap_or(0).to_be_bytes());
        }
        if link.version == MqttVersion::V5 {
            let mut props = Vec::new();
            put_properties(&mut props, &link.properties)?;
            let len = u32::try_from(props.len()).unwrap_or(u32::MAX);
            put_varint(&mut body, len, 1)?;
            body.extend_from_slice(&props);
        }
        let ids: Vec<&str> = topic.split('/').collect();
        body.extend_from_slice(&payload::encoded_payload(
            decoded,
            link.payload_format.as_deref(),
            link.payload_cipher.as_deref(),
            &ids,
            opts,
        )?);
    } else {
        first = t << 4 | (link.flags.unwrap_or(required_flags(t)) & 0x0F);
        if let (Some(id), true) = (link.packet_id, has_packet_id(t)) {
            body.extend_from_slice(&id.to_be_bytes());
        }
        if let Some(data) = &decoded.application_data {
            body.extend_from_slice(data.as_slice());
        }
    }
    let mut out = Vec::with_capacity(body.len().saturating_add(5));
    out.push(first);
    let len = u32::try_from(body.len()).unwrap_or(u32::MAX);
    put_varint(
        &mut out,
        len,
        usize::from(link.remaining_length_bytes.unwrap_or(1)),
    )?;
    out.extend_from_slice(&body);
    Ok(out)
}

/// Every byte of the packet, once.
fn spans<T: AsRef<[u8]>>(
    packet: &MqttPacket<T>,
    d: &Decoded,
    layout: Layout,
    sizes: &[usize],
) -> Vec<crate::model::Span> {
    let total = packet.buffer.as_ref().len();
    let mut s = Spans::new(0, total);
    let Some(link) = d.mqtt_link() else {
        return s.spans;
    };
    let first = match (link.qos, link.flags) {
        (Some(qos), _) => format!(
            "{}, DUP {}, QoS {qos}, RETAIN {}",
            link.packet_type,
            u8::from(link.dup.unwrap_or(false)),
            u8::from(link.retain.unwrap_or(false))
        ),
        (None, flags) => format!("{}, flags 0x{:X}", link.packet_type, flags.unwrap_or(0)),
    };
    s.add(1, "link.packet_type", first);
    s.add(
        packet.length_bytes(),
        "link.remaining_length",
        format!("remaining length {}", link.remaining_length),
    );
    if link.qos.is_some() {
        s.add(
            2,
            "link.topic",
            format!("topic length {}", layout.topic_len),
        );
        s.add(
            layout.topic_len,
            "link.topic",
            format!("topic {:?}", link.topic.as_deref().unwrap_or("")),
        );
        if layout.packet_id {
            s.add(
                2,
                "link.packet_id",
                format!("packet identifier {}", link.packet_id.unwrap_or(0)),
            );
        }
        if link.version == MqttVersion::V5 {
            let len: usize = sizes.iter().sum();
            s.add(
                layout.properties_len_bytes,
                "link.properties",
                format!("property length {len}"),
            );
            for (i, (p, n)) in link.properties.iter().zip(sizes).enumerate() {
                let value = match &p.value {
                    FieldValue::Number(v) => format!("{v}"),
                    FieldValue::Text(t) => format!("{t:?}"),
                };
                s.add(
                    *n,
                    format!("link.properties[{i}]"),
                    format!("{} = {value}", p.name.as_deref().unwrap_or("property")),
                );
            }
        }
        let rest = total.saturating_sub(layout.payload_start);
        let (path, label) = payload::payload_span(
            d,
            link.payload_format.as_deref(),
            link.payload_cipher.as_deref(),
        );
        s.add(rest, path, label);
    } else {
        if link.packet_id.is_some() {
            s.add(
                2,
                "link.packet_id",
                format!("packet identifier {}", link.packet_id.unwrap_or(0)),
            );
        }
        let rest = total.saturating_sub(s.pos);
        s.add(rest, "application_data", "rest of the packet (not decoded)");
    }
    s.spans
}

impl Decoded {
    /// The MQTT link fields, when this is an MQTT packet.
    pub fn mqtt_link(&self) -> Option<&MqttLink> {
        match &self.link {
            Link::Mqtt(link) => Some(link),
            #[allow(unreachable_patterns)]
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hex::parse_hex;
    use crate::{ErrorKind, Record};

    /// The M-Bus RSP_UD of the crate docs (volume 1234.567 m3 of meter 12345678).
    const MBUS: &str =
        "68 15 15 68 08 05 72 78 56 34 12 2D 2C 01 07 2A 00 00 00 0C 13 67 45 23 01 0D 16";

    fn mqtt() -> Options {
        Options::default().with_protocol(Some(Protocol::Mqtt))
    }

    fn publish(first: u8, topic: &str, id: Option<u16>, payload: &[u8]) -> Vec<u8> {
        let mut body = Vec::new();
        body.extend_from_slice(&(topic.len() as u16).to_be_bytes());
        body.extend_from_slice(topic.as_bytes());
        if let Some(id) = id {
            body.extend_from_slice(&id.to_be_bytes());
        }
        body.extend_from_slice(payload);
        let mut out = alloc::vec![first];
        put_varint(&mut out, body.len() as u32, 1).unwrap();
        out.extend_from_slice(&body);
        out
    }

    #[test]
    fn mq1_json_publish() {
        let payload = br#"{"id":"12345678","vol":"1234.567","unit":"m3"}"#;
        let bytes = publish(0x32, "meters/12345678/up", Some(10), payload);
        // The digest's header bytes; its remaining length 68 (0x44) counts a 46-byte
        // payload: 2 + 18 + 2 + 46 = 68.
        assert_eq!(payload.len(), 46);
        assert_eq!(bytes[..4], [0x32, 0x44, 0x00, 0x12]);
        assert_eq!(bytes[22..24], [0x00, 0x0A]);
        let d = crate::decode(&bytes, &Options::default()).unwrap();
        assert_eq!(d.protocol, Protocol::Mqtt);
        let l = d.mqtt_link().unwrap();
        assert_eq!(l.packet_type, "PUBLISH");
        assert_eq!(l.version, MqttVersion::V311);
        assert_eq!(
            (l.dup, l.qos, l.retain),
            (Some(false), Some(1), Some(false))
        );
        assert_eq!(l.remaining_length, 68);
        assert_eq!(l.topic.as_deref(), Some("meters/12345678/up"));
        assert_eq!(l.packet_id, Some(10));
        assert_eq!(l.payload_format.as_deref(), Some("json"));
        assert_eq!(d.meter.as_ref().unwrap().id.as_str(), "12345678");
        assert_eq!(d.records[0].quantity(), "volume");
        assert_eq!(d.records[0].number().unwrap().to_string(), "1234.567");
        assert_eq!(crate::encode(&d).unwrap(), bytes);
    }

    #[test]
    fn mbus_in_publish_with_one_and_two_byte_remaining_length() {
        let mbus = parse_hex(MBUS).unwrap();
        let short = publish(0x30, "meters/12345678/up", None, &mbus);
        assert_eq!(short[1], 2 + 18 + 27);
        let long_topic = "meters/12345678/up/".repeat(6);
        let long = publish(0x30, &long_topic, None, &mbus);
        // 2 + 114 + 27 = 143 = 0x8F 0x01.
        assert_eq!(long[1..3], [0x8F, 0x01]);
        for bytes in [short, long] {
            let d = crate::decode(&bytes, &Options::default()).unwrap();
            assert_eq!(
                d.mqtt_link().unwrap().payload_format.as_deref(),
                Some("mbus")
            );
            let inner = d.payload.as_deref().unwrap();
            assert_eq!(inner.meter.as_ref().unwrap().id.as_str(), "12345678");
            assert_eq!(
                inner
                    .records
                    .iter()
                    .find_map(Record::number)
                    .unwrap()
                    .to_string(),
                "1234.567"
            );
            assert_eq!(crate::encode(&d).unwrap(), bytes);
            // The flat reading is the carried meter's.
            let r = crate::to_reading(&d, None);
            assert_eq!(
                r.get("total_m3"),
                Some(&crate::ReadingValue::Number(
                    crate::Decimal::parse("1234.567").unwrap()
                ))
            );
            let columns = crate::readings(core::slice::from_ref(&d));
            let json = serde_json::to_string(&columns).unwrap();
            assert!(json.contains(r#""protocol":["mqtt"]"#), "{json}");
            assert!(json.contains(r#""meter_id":["12345678"]"#), "{json}");
            let e = crate::decode(&bytes, &mqtt().with_explain(true)).unwrap();
            let mut at = 0;
            for s in &e.spans {
                assert_eq!(s.start, at);
                at = s.end;
            }
            assert_eq!(at, bytes.len());
            let inner = e.payload.as_deref().unwrap();
            assert_eq!(inner.spans.last().unwrap().end, bytes.len());
            assert_eq!(inner.spans.first().unwrap().start, bytes.len() - 27);
        }
    }

    #[test]
    fn digest_remaining_length_220() {
        let mut out = Vec::new();
        put_varint(&mut out, 220, 1).unwrap();
        assert_eq!(out, [0xDC, 0x01]);
        assert_eq!(varint(&[0, 0xDC, 0x01], 1).unwrap(), (220, 2));
        assert_eq!(
            varint(&[0, 0xFF, 0xFF, 0xFF, 0x7F], 1).unwrap(),
            (268_435_455, 4)
        );
    }

    #[test]
    fn non_minimal_remaining_length_round_trips() {
        let bytes = parse_hex("30 85 00 00 01 61 68 69").unwrap();
        let d = crate::decode(&bytes, &mqtt()).unwrap();
        let l = d.mqtt_link().unwrap();
        assert_eq!((l.remaining_length, l.remaining_length_bytes), (5, Some(2)));
        assert_eq!(d.warnings.len(), 1);
        assert_eq!(crate::encode(&d).unwrap(), bytes);
    }

    #[test]
    fn v5_publish_with_properties() {
        // QoS 0, topic "a", properties: payload format indicator 1, content type
        // "application/json", user property ("k", "v"), correlation data 01 02.
        let props = parse_hex(
            "01 01 03 00 10 6170706C69636174696F6E2F6A736F6E 26 00 01 6B 00 01 76 09 00 02 01 02",
        )
        .unwrap();
        let mut body = parse_hex("00 01 61").unwrap();
        body.push(props.len() as u8);
        body.extend_from_slice(&props);
        body.extend_from_slice(br#"{"vol":1}"#);
        let mut bytes = alloc::vec![0x30, body.len() as u8];
        bytes.extend_from_slice(&body);
        let mut opts = mqtt();
        opts.mqtt_version = Some(MqttVersion::V5);
        let d = crate::decode(&bytes, &opts).unwrap();
        let l = d.mqtt_link().unwrap();
        assert_eq!(l.version, MqttVersion::V5);
        let names: Vec<&str> = l
            .properties
            .iter()
            .map(|p| p.name.as_deref().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "payload_format_indicator",
                "content_type",
                "user_property",
                "correlation_data"
            ]
        );
        assert_eq!(l.properties[2].key.as_deref(), Some("k"));
        assert_eq!(l.properties[3].value, FieldValue::Text("0102".into()));
        assert_eq!(l.payload_format.as_deref(), Some("json"));
        assert_eq!(crate::encode(&d).unwrap(), bytes);
        assert_eq!(crate::encode_json(&crate::to_json(&d)).unwrap(), bytes);
        let e = crate::decode(&bytes, &opts.clone().with_explain(true)).unwrap();
        assert_eq!(e.spans.last().unwrap().end, bytes.len());
        // Read as 3.1.1 the property bytes are payload.
        let d = crate::decode(&bytes, &mqtt()).unwrap();
        assert_eq!(
            d.mqtt_link().unwrap().payload_format.as_deref(),
            Some("opaque")
        );
    }

    #[test]
    fn other_packet_types_by_name() {
        for (hex, name, id) in [
            ("C0 00", "PINGREQ", None),
            ("D0 00", "PINGRESP", None),
            ("40 02 00 0A", "PUBACK", Some(10)),
            ("62 02 00 0B", "PUBREL", Some(11)),
            ("20 02 00 00", "CONNACK", None),
            ("82 08 00 01 00 03 61 2F 62 01", "SUBSCRIBE", Some(1)),
            ("10 0C 00 04 4D 51 54 54 04 02 00 3C 00 00", "CONNECT", None),
        ] {
            let bytes = parse_hex(hex).unwrap();
            let d = crate::decode(&bytes, &mqtt()).unwrap();
            let l = d.mqtt_link().unwrap();
            assert_eq!((l.packet_type.as_ref(), l.packet_id), (name, id), "{hex}");
            assert!(d.warnings.is_empty(), "{hex}");
            assert_eq!(crate::encode(&d).unwrap(), bytes, "{hex}");
            let e = crate::decode(&bytes, &mqtt().with_explain(true)).unwrap();
            assert_eq!(e.spans.last().unwrap().end, bytes.len());
        }
        let d = crate::decode(
            &parse_hex("10 0C 00 04 4D 51 54 54 05 02 00 3C 00 00").unwrap(),
            &mqtt(),
        )
        .unwrap();
        let l = d.mqtt_link().unwrap();
        assert_eq!((l.protocol_level, l.version), (Some(5), MqttVersion::V5));
    }

    #[test]
    fn errors_and_offsets() {
        let cases: &[(&str, ErrorKind, usize)] = &[
            ("30", ErrorKind::Truncated, 1),
            ("30 05 00 01 61", ErrorKind::Truncated, 5),
            ("30 03 00 01 61 62", ErrorKind::Length, 1),
            ("30 FF FF FF FF 01", ErrorKind::Malformed, 4),
            ("30 80", ErrorKind::Truncated, 2),
            ("00 00", ErrorKind::Malformed, 0),
            ("36 03 00 01 61", ErrorKind::Malformed, 0),
            ("30 03 00 05 61", ErrorKind::Malformed, 4),
            ("32 03 00 01 61", ErrorKind::Malformed, 5),
            ("30 03 00 01 FF", ErrorKind::Malformed, 4),
        ];
        for (hex, kind, offset) in cases {
            let e = crate::decode(&parse_hex(hex).unwrap(), &mqtt()).unwrap_err();
            assert_eq!((e.kind(), e.offset()), (*kind, *offset), "{hex}");
        }
    }

    #[test]
    fn detection_needs_a_plausible_publish() {
        assert!(detect(&parse_hex("30 03 00 01 61").unwrap()).is_some());
        for hex in [
            "30 03 00 01 23",       // wildcard topic
            "30 02 00 00",          // empty topic
            "32 05 00 01 61 00 00", // packet id 0
            "C0 00",                // PINGREQ
            "30 03 00 01 0A",       // control character
        ] {
            assert!(detect(&parse_hex(hex).unwrap()).is_none(), "{hex}");
        }
    }

    /// A PUBLISH whose payload (the CJ/T 188 reply E2) is SM4-CBC encrypted with the key of
    /// the device the topic names.
    #[test]
    fn encrypted_payload_opens_with_the_device_key() {
        use crate::payload::cipher::PayloadCipher;
        let e2 =
            parse_hex("FEFE6810785634120001008116901F01563412002C000012002C0030081503252000006F16")
                .unwrap();
        let key = crate::Key::parse("0123456789ABCDEFFEDCBA9876543210").unwrap();
        let scheme = PayloadCipher::parse("sm4-cbc").unwrap();
        let sealed = scheme.encrypt(&key, &e2).unwrap();
        assert_eq!(sealed.len(), 48);
        let bytes = publish(0x30, "meters/12345678/up", None, &sealed);
        let keys = crate::Keys::parse(
            "87654321=00000000000000000000000000000001,12345678=0123456789ABCDEFFEDCBA9876543210",
        )
        .unwrap();
        let opts = mqtt().with_keys(keys).with_payload_cipher(Some(scheme));
        let d = crate::decode(&bytes, &opts).unwrap();
        let l = d.mqtt_link().unwrap();
        assert_eq!(l.payload_cipher.as_deref(), Some("sm4-cbc-pkcs7"));
        assert_eq!(l.payload_format.as_deref(), Some("cjt188"));
        let inner = d.payload.as_deref().unwrap();
        assert_eq!(inner.records[0].number().unwrap().to_string(), "1234.56");
        assert_eq!(crate::encode_with(&d, &opts).unwrap(), bytes);
        // Without the key: the plaintext frame.
        assert_eq!(
            crate::encode(&d).unwrap(),
            publish(0x30, "meters/12345678/up", None, &e2)
        );
        let e = crate::decode(&bytes, &opts.clone().with_explain(true)).unwrap();
        assert_eq!(e.spans.last().unwrap().path, "payload");
        assert!(!format!("{:?}", e).contains("0123456789ABCDEF"));
        // No key for this device: encrypted, kept, written back.
        let none = mqtt().with_payload_cipher(Some(scheme));
        let d = crate::decode(&bytes, &none).unwrap();
        assert!(d.encrypted);
        assert_eq!(
            d.encrypted_data.as_ref().unwrap().as_slice(),
            sealed.as_slice()
        );
        assert_eq!(d.warnings.len(), 1);
        assert_eq!(crate::encode(&d).unwrap(), bytes);
        // A wrong key: decrypt, at the payload.
        let wrong = mqtt()
            .with_key(crate::Key::new([1; 16]))
            .with_payload_cipher(Some(scheme));
        let e = crate::decode(&bytes, &wrong).unwrap_err();
        assert_eq!((e.kind(), e.offset()), (ErrorKind::Decrypt, 22));
        // Zero padding cannot tell a wrong key: the plaintext's structure does.
        let zero = PayloadCipher::parse("sm4-ecb-zero").unwrap();
        let bytes = publish(0x30, "m/1", None, &zero.encrypt(&key, &e2).unwrap());
        let e = crate::decode(&bytes, &wrong.clone().with_payload_cipher(Some(zero))).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Decrypt);
        let d = crate::decode(
            &bytes,
            &mqtt().with_key(key.clone()).with_payload_cipher(Some(zero)),
        )
        .unwrap();
        assert_eq!(d.payload.unwrap().protocol, Protocol::Cjt188);
    }

    /// A vendor TLV body (profiles/tlv/vendor-tlv-example.json) read through the tlv_schema option.
    #[test]
    fn vendor_tlv_payload_through_a_schema() {
        let schema = crate::payload::tlv_schema::TlvSchema::from_json(include_str!(
            "../../../profiles/tlv/vendor-tlv-example.json"
        ))
        .unwrap();
        let body = parse_hex("01 04 00 12 D6 87 02 02 01 68 03 01 A1 0A 03 53 4E 31").unwrap();
        let bytes = publish(0x30, "dev/860000000000001/up", None, &body);
        let opts = mqtt().with_tlv_schema(Some(alloc::sync::Arc::new(schema)));
        let d = crate::decode(&bytes, &opts).unwrap();
        assert_eq!(
            d.mqtt_link().unwrap().payload_format.as_deref(),
            Some("tlv")
        );
        let v: Vec<String> = d
            .records
            .iter()
            .filter_map(Record::number)
            .map(|n| n.to_string())
            .collect();
        assert_eq!(v, ["1234.567", "3.60", "-95"]);
        assert_eq!(d.records[0].unit(), Some("m3"));
        assert_eq!(crate::encode(&d).unwrap(), bytes);
        // Without the schema: opaque; a schema that does not fit: opaque and a warning.
        let d = crate::decode(&bytes, &mqtt()).unwrap();
        assert_eq!(
            d.mqtt_link().unwrap().payload_format.as_deref(),
            Some("opaque")
        );
        let cut = publish(0x30, "dev/1/up", None, &body[..body.len() - 1]);
        let d = crate::decode(&cut, &opts).unwrap();
        assert_eq!(
            d.mqtt_link().unwrap().payload_format.as_deref(),
            Some("opaque")
        );
        assert_eq!(d.warnings.len(), 1);
    }

    #[test]
    fn stream_cuts_packets_when_named() {
        let stream = parse_hex("C0 00 30 03 00 01 61 D0 00").unwrap();
        let items = crate::decode_stream(&stream, &mqtt());
        assert_eq!(items.len(), 3);
        assert!(items
            .iter()
            .all(|i| matches!(i, crate::StreamItem::Frame { result: Ok(_), .. })));
    }
}
