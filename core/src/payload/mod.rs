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
//! 6. otherwise **opaque** bytes — or, with the caller's [`crate::Options::tlv_schema`], a
//!    **vendor TLV** body that the schema reads whole ([`tlv_schema`], format `tlv`).
//!
//! A frame (1–4) becomes the nested [`Decoded::payload`], decoded by its family with the
//! caller's options (keys, Modbus request and profile apply inside); JSON becomes records of
//! the transport's own model ([`json`]); opaque bytes are kept in `application_data`. The
//! link's `payload_format` names which (`cjt188`, `mbus`, `wmbus`, `modbus_rtu`, `json`,
//! `opaque`). A transport that names its content format reads it as that format directly:
//! CoAP Content-Format 50 `application/json` as JSON, 11542 as LwM2M TLV and 110 as SenML
//! JSON ([`lwm2m`]: `lwm2m_tlv`, `senml_json`; a Binary App Data Container value holding a
//! frame becomes the nested payload).
//!
//! A nested frame that the caller's key does not open (wM-Bus `decrypt` or `auth`) is that
//! error, at its offset in the outermost input: a wrong key is never read as opaque bytes.
//!
//! Nesting is limited to [`MAX_DEPTH`] levels (the outermost message is level 1); deeper
//! payloads are not looked at for frames (a warning; JSON and opaque still apply). In explain mode the nested model's `spans` are
//! offsets in the **outermost input**, so a viewer can mark each level's bytes in one dump.

pub mod cipher;
pub mod json;
pub mod lwm2m;
pub mod tlv_schema;
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
    /// The transport names LwM2M TLV (CoAP Content-Format 11542); the Uri-Path's ids.
    Lwm2mTlv(lwm2m::Path),
    /// The transport names SenML JSON (CoAP Content-Format 110).
    SenmlJson,
    /// The transport names SenML CBOR (CoAP Content-Format 112).
    SenmlCbor,
}

/// What [`read`] found: the payload's format name and, for formats explained byte by byte
/// (LwM2M TLV), the spans of the payload's bytes (offsets of the outermost input).
#[derive(Clone, Debug, Default)]
pub(crate) struct Read {
    /// `payload_format`; `None` without payload.
    pub(crate) format: Option<&'static str>,
    /// Spans of the payload bytes, when the format explains them itself.
    pub(crate) spans: alloc::vec::Vec<crate::model::Span>,
}

/// The name of a payload format in `payload_format`.
pub(crate) const OPAQUE: &str = "opaque";
/// JSON payloads.
pub(crate) const JSON: &str = "json";
/// LwM2M TLV payloads.
pub(crate) const LWM2M_TLV: &str = "lwm2m_tlv";
/// SenML JSON payloads.
pub(crate) const SENML_JSON: &str = "senml_json";
/// SenML CBOR payloads.
pub(crate) const SENML_CBOR: &str = "senml_cbor";
/// Vendor TLV payloads read through the caller's schema.
pub(crate) const TLV: &str = "tlv";

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

/// Tries the frame families on `bytes` (at `base` of the outermost input) in the digest's
/// order; `Ok(Some(protocol))` when one validates (then `out.payload` is set).
fn nested_frame(
    bytes: &[u8],
    base: usize,
    opts: &Options,
    out: &mut Decoded,
) -> crate::Result<Option<&'static str>> {
    let depth = opts.payload_depth.saturating_add(1);
    if depth >= MAX_DEPTH {
        out.warnings.push(format!(
            "payload at nesting level {}: frames nest at most {MAX_DEPTH} levels, not looked for",
            depth.saturating_add(1)
        ));
        return Ok(None);
    }
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
    Ok(None)
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
) -> crate::Result<Read> {
    let done = |format: &'static str| Read {
        format: Some(format),
        spans: alloc::vec::Vec::new(),
    };
    if bytes.is_empty() {
        return Ok(Read::default());
    }
    match hint {
        Hint::Detect => {
            if let Some(found) = nested_frame(bytes, base, opts, out)? {
                return Ok(done(found));
            }
        }
        Hint::Lwm2mTlv(path) => match lwm2m::read_tlv(bytes, path) {
            Ok(p) => {
                let spans = lwm2m_into(p, base, opts, out)?;
                out.application_data = Some(Bytes::new(bytes));
                return Ok(Read {
                    format: Some(LWM2M_TLV),
                    spans,
                });
            }
            Err(e) => out.warnings.push(format!(
                "payload named LwM2M TLV does not read as TLV ({e} at payload byte {}): kept as bytes",
                e.offset()
            )),
        },
        Hint::SenmlJson => match lwm2m::read_senml_json(bytes) {
            Some(p) => {
                lwm2m_into(p, base, opts, out)?;
                out.application_data = Some(Bytes::new(bytes));
                return Ok(done(SENML_JSON));
            }
            None => out
                .warnings
                .push("payload named SenML JSON is not a SenML array: read as JSON or bytes".into()),
        },
        Hint::SenmlCbor => match lwm2m::read_senml_cbor(bytes) {
            Some(p) => {
                lwm2m_into(p, base, opts, out)?;
                out.application_data = Some(Bytes::new(bytes));
                return Ok(done(SENML_CBOR));
            }
            None => out
                .warnings
                .push("payload named SenML CBOR is not a SenML array: kept as bytes".into()),
        },
        Hint::Json => {}
    }
    if let Some(parsed) = json::read(bytes) {
        out.application_data = Some(Bytes::new(bytes));
        if out.meter.is_none() {
            out.meter = parsed.meter;
        }
        out.records.extend(parsed.records);
        return Ok(done(JSON));
    }
    if hint == Hint::Json {
        out.warnings
            .push("payload named JSON does not parse as JSON: kept as bytes".into());
    }
    out.application_data = Some(Bytes::new(bytes));
    if let Some(schema) = &opts.tlv_schema {
        match schema.read(bytes) {
            Ok((records, warnings)) => {
                out.records.extend(records);
                out.warnings.extend(warnings);
                return Ok(done(TLV));
            }
            Err(at) => out.warnings.push(format!(
                "tlv schema does not fit the payload at its byte {at}: kept as bytes"
            )),
        }
    }
    Ok(done(OPAQUE))
}

/// Moves an LwM2M payload's records, identity and status into `out`, and tries its first
/// Binary App Data Container value as a nested frame. Returns the TLV spans (offsets of the
/// outermost input), the data value's span named `payload` when it holds a frame.
fn lwm2m_into(
    p: lwm2m::Lwm2mPayload,
    base: usize,
    opts: &Options,
    out: &mut Decoded,
) -> crate::Result<alloc::vec::Vec<crate::model::Span>> {
    let lwm2m::Lwm2mPayload {
        records,
        meter,
        status,
        app_data,
        mut spans,
    } = p;
    out.records.extend(records);
    if out.meter.is_none() {
        out.meter = meter;
    }
    if status.is_some() {
        out.status = status;
    }
    for s in &mut spans {
        s.start = s.start.saturating_add(base);
        s.end = s.end.saturating_add(base);
    }
    for (at, data) in app_data {
        let mut inner_opts = opts.clone();
        // Bytes decoded from text (SenML base64) have no place in the input to explain.
        if at.is_none() {
            inner_opts.explain = false;
        }
        let data_base = base.saturating_add(at.unwrap_or(0));
        if nested_frame(&data, data_base, &inner_opts, out)?.is_some() {
            if let Some(s) = spans.iter_mut().find(|s| s.start == data_base) {
                s.path = "payload".into();
                s.label = span_label(out, None);
            }
            break;
        }
    }
    Ok(spans)
}

/// The key of `keys` for a payload of a transport that names `device_ids` (CoAP Uri-Path
/// segments and Uri-Query values, MQTT topic levels): the single key, or the first id the
/// map knows (ids of zeros only are skipped: `/19/0/0` names no device).
fn key_for<'k>(keys: &'k crate::Keys, device_ids: &[&str]) -> Option<&'k crate::Key> {
    match keys {
        crate::Keys::None => None,
        crate::Keys::One(k) => Some(k),
        crate::Keys::ById(_) => device_ids
            .iter()
            .filter(|id| id.bytes().any(|b| b != b'0'))
            .find_map(|id| keys.for_meter(id)),
    }
}

/// [`read`] for a payload that `opts.payload_cipher` says is encrypted ([`cipher`]): opened
/// with the key of `device_ids`, then read like any payload (never explained byte by byte:
/// the plaintext is not in the input). Without a key: `encrypted`, `encrypted_data` and a
/// warning. A key that opens nothing readable — padding that does not verify, or a
/// plaintext that is neither a frame nor JSON — is the `decrypt` error at the payload.
/// Returns what `read` returns and the scheme's name, when one applied.
pub(crate) fn read_encrypted(
    bytes: &[u8],
    base: usize,
    hint: Hint,
    opts: &Options,
    out: &mut Decoded,
    device_ids: &[&str],
) -> crate::Result<(Read, Option<alloc::string::String>)> {
    let Some(scheme) = opts.payload_cipher else {
        return Ok((read(bytes, base, hint, opts, out)?, None));
    };
    if bytes.is_empty() {
        return Ok((Read::default(), None));
    }
    let name = alloc::string::ToString::to_string(&scheme);
    let Some(key) = key_for(&opts.keys, device_ids) else {
        out.encrypted = true;
        out.encrypted_data = Some(Bytes::new(bytes));
        out.warnings
            .push(format!("payload encrypted with {name}: no key given"));
        return Ok((Read::default(), Some(name)));
    };
    let plain = scheme.decrypt(key, bytes).map_err(|e| e.shifted(base))?;
    let mut inner = opts.clone();
    inner.explain = false;
    inner.payload_cipher = None;
    let found = read(&plain, base, hint, &inner, out)?;
    if found.format == Some(OPAQUE) {
        return Err(crate::Error::new(
            ErrorKind::Decrypt,
            crate::Layer::Security,
            base,
            crate::Detail::Text(
                "the decrypted payload is neither a frame nor JSON: wrong key or scheme",
            ),
        ));
    }
    Ok((
        Read {
            format: found.format,
            spans: alloc::vec::Vec::new(),
        },
        Some(name),
    ))
}

/// The payload bytes to write back: the nested frame encoded with `opts`, or
/// `application_data`, or nothing. LwM2M payloads (`format` `lwm2m_tlv`, `senml_json`) are
/// written from `application_data`: their records and nested frame are read-only views. A
/// payload that was decrypted (`cipher`) is encrypted again with the key `opts.keys` gives
/// for `device_ids` (without one it is written as the model holds it, in the clear); one
/// that was not (`encrypted`) is written from `encrypted_data`.
pub(crate) fn encoded_payload(
    d: &Decoded,
    format: Option<&str>,
    cipher: Option<&str>,
    device_ids: &[&str],
    opts: &Options,
) -> crate::Result<alloc::vec::Vec<u8>> {
    if d.encrypted {
        if let Some(data) = &d.encrypted_data {
            return Ok(data.as_slice().to_vec());
        }
    }
    let plain = bytes_of(d, format, opts)?;
    match (cipher, key_for(&opts.keys, device_ids)) {
        (Some(name), Some(key)) if !plain.is_empty() => {
            cipher::PayloadCipher::parse(name)?.encrypt(key, &plain)
        }
        _ => Ok(plain),
    }
}

/// The plaintext payload bytes (see [`encoded_payload`]).
fn bytes_of(
    d: &Decoded,
    format: Option<&str>,
    opts: &Options,
) -> crate::Result<alloc::vec::Vec<u8>> {
    if matches!(format, Some(LWM2M_TLV | SENML_JSON | SENML_CBOR | TLV)) {
        if let Some(data) = &d.application_data {
            return Ok(data.as_slice().to_vec());
        }
    }
    match (&d.payload, &d.application_data) {
        (Some(inner), _) => crate::encode_with(inner, opts),
        (None, Some(data)) => Ok(data.as_slice().to_vec()),
        (None, None) => Ok(alloc::vec::Vec::new()),
    }
}

/// The path and label of a transport's span over its payload bytes: `payload` when they are
/// the nested frame's bytes (its own spans explain them), `encrypted_data` when no key opened
/// them, `application_data` otherwise (JSON, opaque bytes, a frame decoded from text or
/// from a decrypted payload).
pub(crate) fn payload_span(
    d: &Decoded,
    format: Option<&str>,
    cipher: Option<&str>,
) -> (&'static str, alloc::string::String) {
    match cipher {
        Some(name) if d.encrypted => (
            "encrypted_data",
            format!("payload encrypted with {name} (no key)"),
        ),
        Some(name) => (
            if d.payload.is_some() {
                "payload"
            } else {
                "application_data"
            },
            format!(
                "payload encrypted with {name}, opened: {}",
                span_label(d, format)
            ),
        ),
        None if d.payload.as_ref().is_some_and(|p| !p.spans.is_empty()) => {
            ("payload", span_label(d, format))
        }
        None => ("application_data", span_label(d, format)),
    }
}

/// The explain label of a payload span.
pub(crate) fn span_label(d: &Decoded, format: Option<&str>) -> alloc::string::String {
    match (&d.payload, format) {
        (Some(inner), Some(SENML_JSON | SENML_CBOR)) => format!(
            "payload: SenML, {} records; a {} frame from its data value in payload",
            d.records.len(),
            inner.protocol
        ),
        (Some(inner), _) => format!(
            "payload: {} frame (its bytes explained in payload.spans)",
            inner.protocol
        ),
        (None, Some(JSON)) => format!("payload: JSON, {} records", d.records.len()),
        (None, Some(SENML_JSON | SENML_CBOR)) => {
            format!("payload: SenML, {} records", d.records.len())
        }
        (None, Some(TLV)) => format!(
            "payload: vendor TLV (tlv schema), {} records",
            d.records.len()
        ),
        _ => "payload: opaque bytes".into(),
    }
}
