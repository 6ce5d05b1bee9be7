//! The payloads carried by transports (CoAP, MQTT): detection in the order of the mobile
//! digest §4.2 and the decoded result, shared by every transport family.
//!
//! A payload is read as the first of these that validates:
//!
//! 1. a **CJ/T 188** frame (`FE* 68 T A×7 C L … CS 16`, checksum verified);
//! 2. a **wired M-Bus** long, control or short frame (`68 L L 68 … CS 16`, `10 … 16`);
//! 3. a **wM-Bus** telegram whose format A or B CRCs verify (a CRC-free telegram has too weak
//!    a signature to be told from other bytes);
//! 4. a **Modbus RTU** ADU whose CRC verifies;
//! 5. **JSON** (UTF-8 text whose first non-blank character is `{` or `[`, and that parses);
//! 6. otherwise **opaque** bytes.
//!
//! A frame (1–4) becomes the nested [`Decoded::payload`], decoded by its family with the
//! caller's options (keys, Modbus request and profile apply inside); JSON becomes records of
//! the transport's own model ([`json`]); opaque bytes are kept in `application_data`. The
//! link's `payload_format` names which (`cjt188`, `mbus`, `wmbus`, `modbus_rtu`, `json`,
//! `opaque`). A transport that names its content format (CoAP Content-Format 50
//! `application/json`) reads it as that format directly.
//!
//! A nested frame that the caller's key does not open (wM-Bus `decrypt` or `auth`) is that
//! error, at its offset in the outermost input: a wrong key is never read as opaque bytes.
//!
//! Nesting is limited to [`MAX_DEPTH`] levels (the outermost message is level 1); deeper
//! payloads are not looked at for frames (a warning; JSON and opaque still apply). In explain mode the nested model's `spans` are
//! offsets in the **outermost input**, so a viewer can mark each level's bytes in one dump.

pub mod json;
mod value;

use alloc::boxed::Box;
use alloc::format;

pub use value::FieldValue;

use crate::error::ErrorKind;
use crate::model::{Bytes, Decoded, FrameFormat, Link, MbusFrameKind, Protocol};
use crate::Options;

/// The deepest nesting of payloads (the outermost message is level 1).
pub const MAX_DEPTH: u8 = 4;

/// How a transport wants its payload read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Hint {
    /// Detect it (digest order).
    Detect,
    /// The transport names JSON.
    Json,
    /// The transport names opaque bytes that are not to be detected.
    Opaque,
}

/// The name of a payload format in `payload_format`.
pub(crate) const OPAQUE: &str = "opaque";
/// JSON payloads.
pub(crate) const JSON: &str = "json";

/// The frame families tried on a payload, in the digest's order.
const FRAME_ORDER: [Protocol; 4] = [
    Protocol::Cjt188,
    Protocol::Mbus,
    Protocol::Wmbus,
    Protocol::ModbusRtu,
];

/// Whether `bytes` could start a frame of `protocol` (a cheap filter before decoding).
fn may_start(protocol: Protocol, bytes: &[u8]) -> bool {
    let first = bytes.first().copied().unwrap_or(0);
    match protocol {
        Protocol::Cjt188 => bytes.iter().find(|&&b| b != 0xFE) == Some(&0x68),
        Protocol::Mbus => first == 0x68 || first == 0x10,
        Protocol::Wmbus => usize::from(first) < bytes.len(),
        _ => bytes.len() >= 4,
    }
}

/// Whether a successful decoding is strong enough evidence for the family.
fn validates(d: &Decoded) -> bool {
    match &d.link {
        Link::Mbus(l) => l.kind != MbusFrameKind::Ack,
        Link::Wmbus(l) => l.frame_format != FrameFormat::None,
        _ => true,
    }
}

/// Moves every span of `d` and of its nested payloads by `base`.
pub(crate) fn shift_spans(d: &mut Decoded, base: usize) {
    for span in &mut d.spans {
        span.start = span.start.saturating_add(base);
        span.end = span.end.saturating_add(base);
    }
    if let Some(inner) = d.payload.as_deref_mut() {
        shift_spans(inner, base);
    }
}

/// Reads the payload `bytes` (at offset `base` of the outermost input) into `out`, the
/// transport's model, and returns the name of its format (`None` when there is no payload).
/// A nested frame that the caller's key does not open is a `decrypt` (or `auth`) error at
/// its offset in the outermost input.
pub(crate) fn read(
    bytes: &[u8],
    base: usize,
    hint: Hint,
    opts: &Options,
    out: &mut Decoded,
) -> crate::Result<Option<&'static str>> {
    if bytes.is_empty() {
        return Ok(None);
    }
    let depth = opts.payload_depth.saturating_add(1);
    if hint == Hint::Detect && depth < MAX_DEPTH {
        let mut inner_opts = opts.clone();
        inner_opts.payload_depth = depth;
        for protocol in FRAME_ORDER {
            if !may_start(protocol, bytes) {
                continue;
            }
            inner_opts.protocol = Some(protocol);
            match crate::decode(bytes, &inner_opts) {
                Ok(mut inner) if validates(&inner) => {
                    shift_spans(&mut inner, base);
                    out.payload = Some(Box::new(inner));
                    return Ok(Some(protocol.as_str()));
                }
                // A frame that a given key does not open is the caller's error (design §3),
                // not a reason to read the bytes as something else.
                Err(e) if matches!(e.kind(), ErrorKind::Decrypt | ErrorKind::Auth) => {
                    return Err(e.shifted(base));
                }
                _ => {}
            }
        }
    } else if hint == Hint::Detect {
        out.warnings.push(format!(
            "payload at nesting level {}: frames nest at most {MAX_DEPTH} levels, not looked for",
            depth.saturating_add(1)
        ));
    }
    if hint != Hint::Opaque {
        if let Some(parsed) = json::read(bytes) {
            out.application_data = Some(Bytes::new(bytes));
            if out.meter.is_none() {
                out.meter = parsed.meter;
            }
            out.records.extend(parsed.records);
            return Ok(Some(JSON));
        }
        if hint == Hint::Json {
            out.warnings
                .push("payload named JSON does not parse as JSON: kept as bytes".into());
        }
    }
    out.application_data = Some(Bytes::new(bytes));
    Ok(Some(OPAQUE))
}

/// The payload bytes to write back: the nested frame encoded with `opts`, or
/// `application_data`, or nothing.
pub(crate) fn bytes_of(d: &Decoded, opts: &Options) -> crate::Result<alloc::vec::Vec<u8>> {
    match (&d.payload, &d.application_data) {
        (Some(inner), _) => crate::encode_with(inner, opts),
        (None, Some(data)) => Ok(data.as_slice().to_vec()),
        (None, None) => Ok(alloc::vec::Vec::new()),
    }
}

/// The explain label of a payload span.
pub(crate) fn span_label(d: &Decoded, format: Option<&str>) -> alloc::string::String {
    match (&d.payload, format) {
        (Some(inner), _) => format!(
            "payload: {} frame (its bytes explained in payload.spans)",
            inner.protocol
        ),
        (None, Some(JSON)) => format!("payload: JSON, {} records", d.records.len()),
        _ => "payload: opaque bytes".into(),
    }
}
