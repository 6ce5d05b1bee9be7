//! CoAP (RFC 7252, with Observe RFC 7641 and Block RFC 7959 options): the message format of
//! NB-IoT water meters talking to operator platforms (raw CoAP, or LwM2M over CoAP).
//!
//! Layers: [`link`] holds the checked view of one message and its `emit`; this module maps
//! it into the model, reads the payload through [`crate::payload`] (a CJ/T 188, M-Bus,
//! wM-Bus or Modbus RTU frame nested in `payload`, JSON records, or opaque bytes), writes
//! it back and annotates every byte.
//!
//! ```
//! use meterwire::{decode, parse_hex, Options, Protocol};
//!
//! // Digest MB2: a CON 2.05 Content notification, Observe 5, Content-Format 42.
//! let msg = parse_hex("42 45 00 42 01 02 61 05 61 2A FF 00 01 02 03 04")?;
//! let d = decode(&msg, &Options::default().with_protocol(Some(Protocol::Coap)))?;
//! let link = d.coap_link().unwrap();
//! assert_eq!((link.code.to_string().as_str(), link.message_id), ("2.05", 0x42));
//! assert_eq!(link.content_format, Some(42));
//! # Ok::<(), meterwire::Error>(())
//! ```
//!
//! # Mapping into the model
//!
//! * `link` (design §2.2): `type` (`CON`, `NON`, `ACK`, `RST`), `code` (`"0.02"`), `method`
//!   (`GET`, `POST`, `PUT`, `DELETE`, `FETCH`, `PATCH`, `iPATCH`) or `response` (snake_case
//!   of the RFC 7252 / 7959 / 8132 / 8516 names: `created`, `deleted`, `valid`, `changed`,
//!   `content`, `continue`, `bad_request`, …, `too_many_requests`, …, `proxying_not_supported`),
//!   `message_id`, `token` (hex, omitted when empty), `options` (`[{number, name, value}]`,
//!   wire order). Option names are spelled as in the IANA CoAP option registry (`Uri-Path`,
//!   `Content-Format`, `Observe`, `Block2`, …: what CoAP tools print); values are typed by the option's format: a
//!   number for `uint`, text for `string`, hex for `opaque` and unknown options, `""` for
//!   `empty`. A value whose bytes its typed form does not give back (a `uint` with leading
//!   zero bytes, a non-UTF-8 `string`) also carries `raw` (hex), which encoding prefers.
//!   Block1/Block2 options add `block: {num, more, size}`.
//! * Documented additions: `uri_path` (the Uri-Path options joined, `/t/d`),
//!   `content_format` and `content_format_name` (`application/octet-stream`, …), and
//!   `payload_format` (what the payload was read as, [`crate::payload`]). They are read from
//!   `options` and the payload; encoding ignores them.
//! * The payload: Content-Format 50 (`application/json`) is read as JSON, 11542 as LwM2M
//!   TLV, 110 as SenML JSON and 112 as SenML CBOR (records named and typed by the OMA objects,
//!   [`crate::payload::lwm2m`], with the Uri-Path giving the object of a TLV that does not
//!   start with an object instance); other formats (42, none, …) are detected in the
//!   digest's order. A nested frame is `payload` (the same
//!   model); JSON gives `records` (and `meter.id`); everything else stays in
//!   `application_data`. A nested frame that decodes with warnings keeps them inside.
//!
//! # Errors (design §3)
//!
//! Empty input → `empty`. Fewer than 4 bytes, a token, option header or value running past
//! the input → `truncated` at the input length. A version other than 1 → `unsupported` at 0
//! (RFC 7252 §3: other versions are not this format). Token length 9–15 → `malformed` at 0.
//! A reserved option nibble (15), an option number over 65535 → `malformed` at the option's
//! first byte. A payload marker followed by nothing → `malformed` at the marker (§3: a
//! message format error). Codes and types that do not go together (a request in an ACK, a
//! non-empty RST, an empty message with a token or options) and reserved code classes are
//! warnings when the caller names `coap`.
//!
//! # Detection
//!
//! CoAP's header has no start byte, so it is detected only in the [`Stage::Fallback`] stage
//! after every other family, and only when the whole input is one consistent message: the
//! checks above, a code of class 0 (0.00–0.07), 2, 4 or 5, and a type that goes with the
//! code (an empty message is exactly 4 bytes). Frames of the other families never reach it;
//! name `coap` for anything else.

pub mod link;
pub mod model;

use alloc::borrow::Cow;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::error::Result;
use crate::explain::Spans;
use crate::hex;
use crate::model::{Bytes, Decoded, Link, Name, Protocol};
use crate::payload::{self, FieldValue, Hint};
use crate::protocol::{Codec, DetectStep, Detection, Stage};
use crate::Options;
use link::{field, CoapMessage, CoapRepr};
pub use model::{CoapBlock, CoapCode, CoapLink, CoapOption, CoapType};

/// The registry entry of CoAP ([`crate::protocol`]): detected last, when the whole input is
/// one consistent message; not framed in streams (CoAP rides on datagrams).
pub static CODEC: Codec = Codec {
    protocol: Protocol::Coap,
    title: "CoAP (RFC 7252)",
    detect: &[DetectStep::new(Stage::Fallback, detect)],
    decode,
    encode: Some(encode_model),
    framing: None,
};

/// The value format of an option (RFC 7252 §3.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OptionFormat {
    /// Zero-length.
    Empty,
    /// Bytes.
    Opaque,
    /// A big-endian unsigned integer without leading zero bytes.
    Uint,
    /// UTF-8 text.
    String,
}

/// The registered options meterwire names: number, name, format.
const OPTIONS: [(u16, &str, OptionFormat); 22] = [
    (1, "If-Match", OptionFormat::Opaque),
    (3, "Uri-Host", OptionFormat::String),
    (4, "ETag", OptionFormat::Opaque),
    (5, "If-None-Match", OptionFormat::Empty),
    (6, "Observe", OptionFormat::Uint),
    (7, "Uri-Port", OptionFormat::Uint),
    (8, "Location-Path", OptionFormat::String),
    (9, "OSCORE", OptionFormat::Opaque),
    (11, "Uri-Path", OptionFormat::String),
    (12, "Content-Format", OptionFormat::Uint),
    (14, "Max-Age", OptionFormat::Uint),
    (15, "Uri-Query", OptionFormat::String),
    (17, "Accept", OptionFormat::Uint),
    (20, "Location-Query", OptionFormat::String),
    (23, "Block2", OptionFormat::Uint),
    (27, "Block1", OptionFormat::Uint),
    (28, "Size2", OptionFormat::Uint),
    (35, "Proxy-Uri", OptionFormat::String),
    (39, "Proxy-Scheme", OptionFormat::String),
    (60, "Size1", OptionFormat::Uint),
    (258, "No-Response", OptionFormat::Uint),
    (292, "Request-Tag", OptionFormat::Opaque),
];

/// Option numbers used by name here.
pub mod number {
    /// Observe.
    pub const OBSERVE: u16 = 6;
    /// Uri-Path.
    pub const URI_PATH: u16 = 11;
    /// Content-Format.
    pub const CONTENT_FORMAT: u16 = 12;
    /// Block2.
    pub const BLOCK2: u16 = 23;
    /// Block1.
    pub const BLOCK1: u16 = 27;
}

/// The name and format of option `number` (unknown options: no name, opaque).
pub fn option_info(number: u16) -> (Option<&'static str>, OptionFormat) {
    OPTIONS
        .iter()
        .find(|(n, _, _)| *n == number)
        .map_or((None, OptionFormat::Opaque), |(_, name, f)| {
            (Some(*name), *f)
        })
}

/// The media type of a Content-Format number (the registry entries a meter meets).
pub fn content_format_name(cf: u16) -> Option<&'static str> {
    Some(match cf {
        0 => "text/plain;charset=utf-8",
        40 => "application/link-format",
        41 => "application/xml",
        42 => "application/octet-stream",
        47 => "application/exi",
        50 => "application/json",
        60 => "application/cbor",
        110 => "application/senml+json",
        112 => "application/senml+cbor",
        11542 => "application/vnd.oma.lwm2m+tlv",
        11543 => "application/vnd.oma.lwm2m+json",
        11544 => "application/vnd.oma.lwm2m+cbor",
        _ => return None,
    })
}

/// The method of a request code (0.01–0.07).
pub fn method_name(code: u8) -> Option<&'static str> {
    Some(match code {
        0x01 => "GET",
        0x02 => "POST",
        0x03 => "PUT",
        0x04 => "DELETE",
        0x05 => "FETCH",
        0x06 => "PATCH",
        0x07 => "iPATCH",
        _ => return None,
    })
}

/// The response of a response code (2.xx–5.xx).
pub fn response_name(code: u8) -> Option<&'static str> {
    Some(match (code >> 5, code & 0x1F) {
        (2, 1) => "created",
        (2, 2) => "deleted",
        (2, 3) => "valid",
        (2, 4) => "changed",
        (2, 5) => "content",
        (2, 31) => "continue",
        (4, 0) => "bad_request",
        (4, 1) => "unauthorized",
        (4, 2) => "bad_option",
        (4, 3) => "forbidden",
        (4, 4) => "not_found",
        (4, 5) => "method_not_allowed",
        (4, 6) => "not_acceptable",
        (4, 8) => "request_entity_incomplete",
        (4, 9) => "conflict",
        (4, 12) => "precondition_failed",
        (4, 13) => "request_entity_too_large",
        (4, 15) => "unsupported_content_format",
        (4, 22) => "unprocessable_entity",
        (4, 29) => "too_many_requests",
        (5, 0) => "internal_server_error",
        (5, 1) => "not_implemented",
        (5, 2) => "bad_gateway",
        (5, 3) => "service_unavailable",
        (5, 4) => "gateway_timeout",
        (5, 5) => "proxying_not_supported",
        _ => return None,
    })
}

/// A big-endian unsigned integer of up to 8 bytes.
fn uint(bytes: &[u8]) -> Option<u64> {
    if bytes.len() > 8 {
        return None;
    }
    Some(
        bytes
            .iter()
            .fold(0u64, |acc, &b| acc.wrapping_shl(8) | u64::from(b)),
    )
}

/// The minimal big-endian bytes of `value` (none for 0).
fn uint_bytes(value: u64) -> Vec<u8> {
    let bytes = value.to_be_bytes();
    let skip = bytes.iter().take_while(|&&b| b == 0).count();
    bytes.get(skip..).unwrap_or(&[]).to_vec()
}

/// One option of the wire into the model.
fn option_model(number: u16, value: &[u8]) -> CoapOption {
    let (name, format) = option_info(number);
    let mut option = CoapOption {
        number,
        name: name.map(Cow::Borrowed),
        ..CoapOption::default()
    };
    let as_hex = || FieldValue::Text(hex::to_hex(value));
    match format {
        OptionFormat::Uint => match uint(value) {
            Some(v) => {
                option.value = FieldValue::Number(v);
                if value.first() == Some(&0) {
                    option.raw = Some(Bytes::new(value));
                }
                if matches!(number, number::BLOCK1 | number::BLOCK2) && value.len() <= 3 {
                    let szx = u32::try_from(v & 0x07).unwrap_or(0);
                    option.block = Some(CoapBlock {
                        num: u32::try_from(v >> 4).unwrap_or(0),
                        more: v & 0x08 != 0,
                        size: 16u16.checked_shl(szx).unwrap_or(0),
                    });
                }
            }
            None => {
                option.value = as_hex();
                option.raw = Some(Bytes::new(value));
            }
        },
        OptionFormat::String => match core::str::from_utf8(value) {
            Ok(text) => option.value = FieldValue::Text(String::from(text)),
            Err(_) => {
                option.value = as_hex();
                option.raw = Some(Bytes::new(value));
            }
        },
        OptionFormat::Opaque | OptionFormat::Empty => {
            option.value = as_hex();
        }
    }
    option
}

/// The bytes of one option of the model.
fn option_bytes(option: &CoapOption) -> Result<Vec<u8>> {
    if let Some(raw) = &option.raw {
        return Ok(raw.as_slice().to_vec());
    }
    let (_, format) = option_info(option.number);
    match (&option.value, format) {
        (FieldValue::Number(v), _) => Ok(uint_bytes(*v)),
        (FieldValue::Text(t), OptionFormat::String) => Ok(t.as_bytes().to_vec()),
        (FieldValue::Text(t), _) if t.is_empty() => Ok(Vec::new()),
        (FieldValue::Text(t), _) => hex::parse_hex(t).map_err(|_| {
            crate::Error::model("CoAP option value: hex expected for an opaque option")
        }),
    }
}

/// The device ids a message names, for per-device payload keys: its Uri-Path segments and
/// the values of its Uri-Query options (`ep=860000000000001`).
fn device_ids(options: &[CoapOption]) -> Vec<&str> {
    options
        .iter()
        .filter_map(|o| match (&o.value, o.number) {
            (FieldValue::Text(t), number::URI_PATH) => Some(t.as_str()),
            (FieldValue::Text(t), 15) => Some(t.split_once('=').map_or(t.as_str(), |(_, v)| v)),
            _ => None,
        })
        .collect()
}

/// What the message's type and code say together: `None` when they go together.
fn inconsistency(type_bits: u8, code: u8, len: usize) -> Option<&'static str> {
    let class = code >> 5;
    let empty = code == 0;
    let request = class == 0 && !empty;
    match CoapType::from_bits(type_bits) {
        _ if empty && len != field::HEADER_LEN => {
            Some("an empty message (code 0.00) has no token, options or payload")
        }
        _ if !matches!(class, 0 | 2 | 4 | 5) => Some("reserved code class"),
        _ if request && method_name(code).is_none() => Some("unassigned request code"),
        CoapType::Ack if request => Some("an ACK carries a response or nothing, not a request"),
        CoapType::Rst if !empty => Some("a RST message is empty (code 0.00)"),
        _ => None,
    }
}

/// A whole consistent message (module docs).
fn detect(bytes: &[u8]) -> Detection {
    let msg = CoapMessage::new_checked(bytes).ok()?;
    inconsistency(msg.type_bits(), msg.code(), bytes.len())
        .is_none()
        .then_some(Ok(Protocol::Coap))
}

/// Decodes exactly one CoAP message.
pub fn decode(bytes: &[u8], opts: &Options) -> Result<Decoded> {
    let msg = CoapMessage::new_checked(bytes)?;
    let code = msg.code();
    let options: Vec<CoapOption> = msg
        .options()
        .map(|o| option_model(o.number, o.value))
        .collect();
    let mut uri_path: Option<String> = None;
    for o in options.iter().filter(|o| o.number == number::URI_PATH) {
        let path = uri_path.get_or_insert_with(String::new);
        path.push('/');
        if let FieldValue::Text(t) = &o.value {
            path.push_str(t);
        }
    }
    let content_format = options
        .iter()
        .find(|o| o.number == number::CONTENT_FORMAT)
        .and_then(|o| match o.value {
            FieldValue::Number(v) => u16::try_from(v).ok(),
            FieldValue::Text(_) => None,
        });
    let mut link = CoapLink {
        message_type: CoapType::from_bits(msg.type_bits()),
        code: CoapCode(code),
        method: method_name(code).map(Cow::Borrowed),
        response: response_name(code).map(Cow::Borrowed),
        message_id: msg.message_id(),
        token: Bytes::new(msg.token()),
        options,
        uri_path,
        content_format,
        content_format_name: content_format
            .and_then(content_format_name)
            .map(Cow::Borrowed),
        payload_format: None,
        payload_cipher: None,
    };
    let mut out = Decoded::new(Protocol::Coap, Link::Coap(CoapLink::default()));
    if let Some(problem) = inconsistency(msg.type_bits(), code, bytes.len()) {
        out.warnings.push(format!(
            "{} {}: {problem}",
            link.message_type.as_str(),
            link.code
        ));
    }
    let hint = match content_format {
        Some(50) => Hint::Json,
        Some(110) => Hint::SenmlJson,
        Some(112) => Hint::SenmlCbor,
        Some(11542) => Hint::Lwm2mTlv(payload::lwm2m::Path::parse(
            link.uri_path.as_deref().unwrap_or(""),
        )),
        _ => Hint::Detect,
    };
    let ids = device_ids(&link.options);
    let (read, cipher) = payload::read_encrypted(
        msg.payload(),
        msg.payload_start(),
        hint,
        opts,
        &mut out,
        &ids,
    )?;
    link.payload_format = read.format.map(Name::from);
    link.payload_cipher = cipher;
    out.link = Link::Coap(link);
    if opts.explain {
        out.spans = spans(&msg, &out, read.spans);
    }
    Ok(out)
}

/// Builds one CoAP message around `payload` (an encoded frame, JSON text, …): `options` are
/// (number, value) pairs in any order, written in ascending number order (pairs of one
/// number keep their order). [`uint_value`] and [`uri_path_options`] make common values.
///
/// ```
/// use meterwire::coap::{build, uri_path_options, uint_value, CoapCode, CoapType};
///
/// // Digest MB1's header: NON POST /t/d, token A1B2, MID 0x1234, Content-Format 42.
/// let mut options = uri_path_options("/t/d");
/// options.push((12, uint_value(42)));
/// let msg = build(CoapType::Non, CoapCode(0x02), 0x1234, &[0xA1, 0xB2], options, &[0x68])?;
/// assert_eq!(msg, [0x52, 0x02, 0x12, 0x34, 0xA1, 0xB2, 0xB1, 0x74, 0x01, 0x64, 0x11, 0x2A, 0xFF, 0x68]);
/// # Ok::<(), meterwire::Error>(())
/// ```
pub fn build(
    message_type: CoapType,
    code: CoapCode,
    message_id: u16,
    token: &[u8],
    mut options: Vec<(u16, Vec<u8>)>,
    payload: &[u8],
) -> Result<Vec<u8>> {
    options.sort_by_key(|(number, _)| *number);
    let repr = CoapRepr {
        type_bits: message_type.bits(),
        code: code.0,
        message_id,
        token,
        options,
        payload,
    };
    let mut out = Vec::new();
    repr.emit(&mut out)?;
    Ok(out)
}

/// The bytes of a `uint` option value (no leading zero bytes; none for 0).
pub fn uint_value(value: u64) -> Vec<u8> {
    uint_bytes(value)
}

/// Uri-Path options (number 11) of `/a/b` (empty segments left out).
pub fn uri_path_options(path: &str) -> Vec<(u16, Vec<u8>)> {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(|s| (number::URI_PATH, s.as_bytes().to_vec()))
        .collect()
}

fn encode_model(decoded: &Decoded, opts: &Options) -> Result<Vec<u8>> {
    encode(decoded, opts)
}

/// Writes a CoAP model back: header, token and `options` from `link`, then the payload (the
/// nested frame encoded with `opts`, or `application_data`).
pub fn encode(decoded: &Decoded, opts: &Options) -> Result<Vec<u8>> {
    let link = decoded
        .coap_link()
        .ok_or(crate::Error::model("a CoAP model needs CoAP link fields"))?;
    let options = link
        .options
        .iter()
        .map(|o| option_bytes(o).map(|v| (o.number, v)))
        .collect::<Result<Vec<_>>>()?;
    let payload = payload::encoded_payload(
        decoded,
        link.payload_format.as_deref(),
        link.payload_cipher.as_deref(),
        &device_ids(&link.options),
        opts,
    )?;
    let repr = CoapRepr {
        type_bits: link.message_type.bits(),
        code: link.code.0,
        message_id: link.message_id,
        token: link.token.as_slice(),
        options,
        payload: &payload,
    };
    let mut out = Vec::with_capacity(payload.len().saturating_add(32));
    repr.emit(&mut out)?;
    Ok(out)
}

/// Every byte of the message, once.
fn spans<T: AsRef<[u8]>>(
    msg: &CoapMessage<T>,
    d: &Decoded,
    payload_spans: Vec<crate::model::Span>,
) -> Vec<crate::model::Span> {
    let len = msg.payload_start().max(msg.options_start());
    let total = if msg.marker().is_some() {
        msg.payload_start().saturating_add(msg.payload().len())
    } else {
        len
    };
    let mut s = Spans::new(0, total);
    let link = d.coap_link();
    let type_name = link.map_or("?", |l| l.message_type.as_str());
    s.add(
        1,
        "link.type",
        format!(
            "version 1, type {type_name}, token length {}",
            msg.token_len()
        ),
    );
    let code = CoapCode(msg.code());
    let what = method_name(code.0)
        .or_else(|| response_name(code.0))
        .unwrap_or(if code.0 == 0 { "empty" } else { "unassigned" });
    s.add(1, "link.code", format!("code {code} {what}"));
    s.add(
        2,
        "link.message_id",
        format!("message ID {}", msg.message_id()),
    );
    s.add(msg.token_len(), "link.token", "token");
    for (i, o) in msg.options().enumerate() {
        let model = link.and_then(|l| l.options.get(i));
        let name = model.and_then(|m| m.name.as_deref()).unwrap_or("option");
        s.add(
            o.header_len,
            format!("link.options[{i}]"),
            format!("option {} {name}: delta and length", o.number),
        );
        let value = match model.map(|m| &m.value) {
            Some(FieldValue::Number(v)) => format!("{name} = {v}"),
            Some(FieldValue::Text(t)) => format!("{name} = {t:?}"),
            None => String::from(name),
        };
        s.add(o.value.len(), format!("link.options[{i}].value"), value);
    }
    if msg.marker().is_some() {
        s.add(1, "link.payload_marker", "payload marker 0xFF");
        if !payload_spans.is_empty() {
            s.spans.extend(payload_spans);
            return s.spans;
        }
        let format = link.and_then(|l| l.payload_format.as_deref());
        let cipher = link.and_then(|l| l.payload_cipher.as_deref());
        let (path, label) = payload::payload_span(d, format, cipher);
        s.add(msg.payload().len(), path, label);
    }
    s.spans
}

impl Decoded {
    /// The CoAP link fields, when this is a CoAP message.
    pub fn coap_link(&self) -> Option<&CoapLink> {
        match &self.link {
            Link::Coap(link) => Some(link),
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

    /// Digest MB1 with the digest's E2 reply (CJ/T 188 conformance line e2) as payload.
    const MB1: &str = "52 02 12 34 A1 B2 B1 74 01 64 11 2A FF \
        FEFE6810785634120001008116901F01563412002C000012002C0030081503252000006F16";

    fn coap() -> Options {
        Options::default().with_protocol(Some(Protocol::Coap))
    }

    #[test]
    fn mb1_non_post_carries_the_cjt188_reply() {
        let bytes = parse_hex(MB1).unwrap();
        let d = crate::decode(&bytes, &Options::default()).unwrap();
        assert_eq!(d.protocol, Protocol::Coap);
        let l = d.coap_link().unwrap();
        assert_eq!(l.message_type, CoapType::Non);
        assert_eq!(l.code.to_string(), "0.02");
        assert_eq!(l.method.as_deref(), Some("POST"));
        assert_eq!(l.message_id, 0x1234);
        assert_eq!(l.token.as_slice(), [0xA1, 0xB2]);
        let opts: Vec<(u16, &str, &FieldValue)> = l
            .options
            .iter()
            .map(|o| (o.number, o.name.as_deref().unwrap(), &o.value))
            .collect();
        assert_eq!(
            opts,
            [
                (11, "Uri-Path", &FieldValue::Text("t".into())),
                (11, "Uri-Path", &FieldValue::Text("d".into())),
                (12, "Content-Format", &FieldValue::Number(42)),
            ]
        );
        assert_eq!(l.uri_path.as_deref(), Some("/t/d"));
        assert_eq!(l.content_format, Some(42));
        assert_eq!(l.payload_format.as_deref(), Some("cjt188"));
        let inner = d.payload.as_deref().unwrap();
        assert_eq!(inner.protocol, Protocol::Cjt188);
        assert_eq!(inner.meter.as_ref().unwrap().id.as_str(), "00010012345678");
        let v: Vec<String> = inner
            .records
            .iter()
            .filter_map(Record::number)
            .map(|n| n.to_string())
            .collect();
        assert_eq!(v[..2], ["1234.56", "1200.00"]);
        assert_eq!(crate::encode(&d).unwrap(), bytes);
    }

    #[test]
    fn mb2_observe_notification() {
        let bytes = parse_hex("42 45 00 42 01 02 61 05 61 2A FF 00 01 02 03 04").unwrap();
        let d = crate::decode(&bytes, &coap()).unwrap();
        let l = d.coap_link().unwrap();
        assert_eq!(l.message_type, CoapType::Con);
        assert_eq!(l.response.as_deref(), Some("content"));
        assert_eq!(l.token.as_slice(), [0x01, 0x02]);
        assert_eq!(l.options[0].number, 6);
        assert_eq!(l.options[0].value, FieldValue::Number(5));
        assert_eq!(l.options[1].number, 12);
        assert_eq!(l.payload_format.as_deref(), Some("opaque"));
        assert_eq!(
            d.application_data.as_ref().unwrap().as_slice(),
            [0, 1, 2, 3, 4]
        );
        assert_eq!(crate::encode(&d).unwrap(), bytes);
        assert_eq!(crate::detect(&bytes).unwrap(), Protocol::Coap);
    }

    #[test]
    fn extended_deltas_and_lengths_round_trip() {
        // Option 60 Size1 (delta 60: 13 + 47), a 300-byte Uri-Query (length 14 + 31),
        // option 2000 (delta 1940: 14 + 1671), a uint with a leading zero byte.
        let mut repr = CoapRepr {
            type_bits: 0,
            code: 0x01,
            message_id: 7,
            token: &[],
            options: alloc::vec![
                (12, alloc::vec![0x00, 0x2A]),
                (15, alloc::vec![b'q'; 300]),
                (60, alloc::vec![0x01, 0x00]),
                (2000, alloc::vec![0xAB]),
            ],
            payload: b"x",
        };
        let mut bytes = Vec::new();
        repr.emit(&mut bytes).unwrap();
        assert_eq!(bytes[4..7], [0xC2, 0x00, 0x2A]);
        assert_eq!(bytes[7..10], [0x3E, 0x00, 31]);
        let d = crate::decode(&bytes, &coap()).unwrap();
        let l = d.coap_link().unwrap();
        assert_eq!(l.options[0].raw.as_ref().unwrap().as_slice(), [0x00, 0x2A]);
        assert_eq!(l.options[2].value, FieldValue::Number(256));
        assert_eq!(l.options[3].number, 2000);
        assert_eq!(l.options[3].value, FieldValue::Text("AB".into()));
        assert_eq!(crate::encode(&d).unwrap(), bytes);
        let json = crate::to_json(&d);
        assert_eq!(crate::encode_json(&json).unwrap(), bytes);
        // Out of order options are refused when encoding.
        repr.options.swap(0, 1);
        assert!(repr.emit(&mut Vec::new()).is_err());
    }

    #[test]
    fn block_options() {
        // Block2 NUM 2, M 1, SZX 2 (64 bytes): 0x2A.
        let bytes = parse_hex("44 45 12 34 01 02 03 04 D1 0A 2A").unwrap();
        let d = crate::decode(&bytes, &coap()).unwrap();
        let o = &d.coap_link().unwrap().options[0];
        assert_eq!(o.name.as_deref(), Some("Block2"));
        assert_eq!(
            o.block,
            Some(CoapBlock {
                num: 2,
                more: true,
                size: 64
            })
        );
        assert_eq!(crate::encode(&d).unwrap(), bytes);
    }

    #[test]
    fn errors_and_offsets() {
        let cases: &[(&str, ErrorKind, usize)] = &[
            ("52 02 12", ErrorKind::Truncated, 3),
            ("92 02 12 34", ErrorKind::Unsupported, 0),
            ("59 02 12 34", ErrorKind::Malformed, 0),
            ("52 02 12 34 A1", ErrorKind::Truncated, 5),
            ("50 02 12 34 B3 74", ErrorKind::Truncated, 6),
            ("50 02 12 34 F1 74", ErrorKind::Malformed, 4),
            ("50 02 12 34 D1", ErrorKind::Truncated, 5),
            ("50 02 12 34 B1 74 FF", ErrorKind::Malformed, 6),
            // 65535 + 1: option number over 65535.
            ("50 02 12 34 E0 FE F2 10", ErrorKind::Malformed, 7),
        ];
        for (hex, kind, offset) in cases {
            let e = crate::decode(&parse_hex(hex).unwrap(), &coap()).unwrap_err();
            assert_eq!((e.kind(), e.offset()), (*kind, *offset), "{hex}");
        }
    }

    #[test]
    fn inconsistent_messages_are_not_detected_but_decode_when_named() {
        for hex in [
            "60 01 00 01",    // ACK GET
            "70 45 00 01",    // RST 2.05
            "41 00 00 01 AA", // empty with a token
            "40 E1 00 01",    // class 7
            "40 1F 00 01",    // 0.31
        ] {
            let bytes = parse_hex(hex).unwrap();
            assert!(detect(&bytes).is_none(), "{hex}");
            let d = crate::decode(&bytes, &coap()).unwrap();
            assert_eq!(d.warnings.len(), 1, "{hex}");
            assert_eq!(crate::encode(&d).unwrap(), bytes);
        }
        assert!(detect(&parse_hex("60 00 00 01").unwrap()).is_some());
    }

    #[test]
    fn explain_covers_every_byte() {
        for hex in [
            MB1,
            "42 45 00 42 01 02 61 05 61 2A FF 00 01 02 03 04",
            "60 00 00 01",
        ] {
            let bytes = parse_hex(hex).unwrap();
            let d = crate::decode(&bytes, &coap().with_explain(true)).unwrap();
            let mut at = 0;
            for s in &d.spans {
                assert_eq!(s.start, at, "{hex}");
                at = s.end;
            }
            assert_eq!(at, bytes.len());
            if let Some(inner) = &d.payload {
                assert_eq!(inner.spans.first().unwrap().start, 13);
                assert_eq!(inner.spans.last().unwrap().end, bytes.len());
            }
        }
    }

    /// The caller's keys open a nested wM-Bus telegram (wmbus.md W3, mode 5); a wrong key is
    /// the `decrypt` error at the telegram's offset in the message, not an opaque payload.
    #[test]
    fn keys_reach_the_nested_frame() {
        let mut bytes = parse_hex("50 02 00 2B B1 74 FF").unwrap();
        bytes.extend(
            parse_hex(
                "2E443A6378563412010798357A2B00200557C963FC6297080B181B6684295ADA135C36E353451AACE87F97ED42BB1DE091FAEAF95B1C21",
            )
            .unwrap(),
        );
        let key = crate::Key::parse("000102030405060708090A0B0C0D0E0F").unwrap();
        let opts = Options::default().with_key(key);
        let d = crate::decode(&bytes, &opts).unwrap();
        let inner = d.payload.as_deref().unwrap();
        assert!(!inner.encrypted);
        assert_eq!(inner.records[0].number().unwrap().to_string(), "1234.567");
        assert_eq!(crate::encode_with(&d, &opts).unwrap(), bytes);
        // Without the key: decoded, the nested telegram flagged encrypted.
        let d = crate::decode(&bytes, &Options::default()).unwrap();
        assert!(d.payload.as_deref().unwrap().encrypted);
        assert_eq!(crate::encode(&d).unwrap(), bytes);
        // A wrong key.
        let wrong = Options::default().with_key(crate::Key::new([0x11; 16]));
        let e = crate::decode(&bytes, &wrong).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Decrypt);
        assert!(e.offset() >= 7, "{}", e.offset());
    }

    /// A CTWing/OceanConnect-style notification: CON 2.05, Observe 12, Content-Format 11542,
    /// a TLV resource 0 (the observed /19/0/0 data) holding the CJ/T 188 reply E2.
    #[test]
    fn lwm2m_tlv_notification_carries_a_frame() {
        let e2 = "FEFE6810785634120001008116901F01563412002C000012002C0030081503252000006F16";
        let bytes = parse_hex(&format!(
            "44 45 00 07 0A 0B 0C 0D 61 0C 62 2D 16 FF C8 00 25 {e2}"
        ))
        .unwrap();
        let d = crate::decode(&bytes, &Options::default().with_explain(true)).unwrap();
        let l = d.coap_link().unwrap();
        assert_eq!(l.content_format, Some(11542));
        assert_eq!(l.payload_format.as_deref(), Some("lwm2m_tlv"));
        let inner = d.payload.as_deref().unwrap();
        assert_eq!(inner.protocol, Protocol::Cjt188);
        assert_eq!(inner.records[0].number().unwrap().to_string(), "1234.56");
        assert_eq!(inner.spans.first().unwrap().start, 17);
        assert_eq!(crate::encode(&d).unwrap(), bytes);
        let mut at = 0;
        for s in &d.spans {
            assert_eq!(s.start, at, "{s:?}");
            at = s.end;
        }
        assert_eq!(at, bytes.len());
        assert!(d.spans.iter().any(|s| s.path == "payload" && s.start == 17));
    }

    /// A write to /3424/0 (the OMA registry's water meter object) as TLV, and the same values
    /// as SenML JSON.
    #[test]
    fn lwm2m_water_meter_tlv_and_senml() {
        // POST /3424/0, CF 11542: volume 1234.5 (float32 449A5000), leak detected.
        let bytes = parse_hex(
            "42 02 00 08 01 02 B4 33 34 32 34 01 30 12 2D 16 FF C4 01 44 9A 50 00 C1 0A 01",
        )
        .unwrap();
        let d = crate::decode(&bytes, &coap()).unwrap();
        assert_eq!(d.coap_link().unwrap().uri_path.as_deref(), Some("/3424/0"));
        let r = &d.records[0];
        assert_eq!(
            (r.quantity(), r.label(), r.unit()),
            ("volume", Some("cumulated_water_volume"), Some("m3"))
        );
        assert_eq!(r.number().unwrap().to_string(), "1234.5");
        assert!(d.status.unwrap().flags.contains(crate::StatusFlag::Leak));
        assert_eq!(crate::encode(&d).unwrap(), bytes);
        let senml = br#"[{"bn":"/3424/0/","n":"1","v":1234.5},{"n":"10","vb":true}]"#;
        let mut bytes = parse_hex("42 02 00 09 01 02 B4 33 34 32 34 01 30 11 6E FF").unwrap();
        bytes.extend_from_slice(senml);
        let d = crate::decode(&bytes, &coap()).unwrap();
        assert_eq!(
            d.coap_link().unwrap().payload_format.as_deref(),
            Some("senml_json")
        );
        assert_eq!(d.records[0].number().unwrap().to_string(), "1234.5");
        assert_eq!(d.records[0].label(), Some("cumulated_water_volume"));
        assert_eq!(crate::encode(&d).unwrap(), bytes);
        // Not TLV: a warning, the bytes kept.
        let bytes = parse_hex("42 02 00 08 01 02 C2 2D 16 FF C4 01").unwrap();
        let d = crate::decode(&bytes, &coap().with_explain(true)).unwrap();
        assert_eq!(
            d.coap_link().unwrap().payload_format.as_deref(),
            Some("opaque")
        );
        assert_eq!(d.warnings.len(), 1);
        assert_eq!(crate::encode(&d).unwrap(), bytes);
    }

    #[test]
    fn json_content_format() {
        let mut bytes = parse_hex("52 02 00 01 A1 B2 B1 74 11 32 FF").unwrap();
        bytes.extend_from_slice(br#"{"imei":"860000000000001","vol":12.5}"#);
        let d = crate::decode(&bytes, &Options::default()).unwrap();
        let l = d.coap_link().unwrap();
        assert_eq!(l.payload_format.as_deref(), Some("json"));
        assert_eq!(d.meter.as_ref().unwrap().id.as_str(), "860000000000001");
        assert_eq!(d.records[0].number().unwrap().to_string(), "12.5");
        assert_eq!(crate::encode(&d).unwrap(), bytes);
    }
}
