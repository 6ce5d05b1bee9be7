//! # meterwire
//!
//! One exact codec for the wire frames of smart water meter reading systems. Every frame
//! decodes into one documented model ([`Decoded`], design §2 of the project docs) that
//! serialises to the same JSON in every runtime; bad input returns an [`Error`] with a
//! stable [`ErrorKind`] and the byte offset of the problem, never a panic.
//!
//! ```
//! use meterwire::{decode, parse_hex, Options};
//!
//! // A wired M-Bus RSP_UD with one record: 8-digit BCD volume in litres.
//! let frame = parse_hex(
//!     "68 15 15 68 08 05 72 78 56 34 12 2D 2C 01 07 2A 00 00 00 0C 13 67 45 23 01 0D 16",
//! )?;
//! let decoded = decode(&frame, &Options::default())?;
//! let meter = decoded.meter.as_ref().unwrap();
//! assert_eq!(meter.id.as_str(), "12345678");
//! let volume = &decoded.records[0];
//! assert_eq!(volume.quantity(), "volume");
//! assert_eq!(volume.unit(), Some("m3"));
//! assert_eq!(volume.number().unwrap().to_string(), "1234.567");
//! # Ok::<(), meterwire::Error>(())
//! ```
//!
//! Layers: [`mbus::link`] holds checked zero-copy frame views with `emit`;
//! [`mbus::app`] and [`mbus::record`] read the application layer into the model.
//!
//! For hot paths that only need the numbers, [`mbus::view::Records`] walks the records of a
//! frame in place (no allocation) and [`wmbus::view::Telegram`] reads a wM-Bus telegram's
//! header and records, decrypting security mode 5 into a caller's buffer:
//!
//! ```
//! use meterwire::{parse_hex, wmbus::view::Telegram};
//!
//! // CRC-free wM-Bus telegram, short header, unencrypted: volume 1234.567 m3.
//! let bytes = parse_hex("14 44 2D2C 78563412 01 07 7A 2A 00 0000 0C 13 67452301")?;
//! let telegram = Telegram::new_checked(&bytes)?;
//! assert_eq!(telegram.id(), Some(12345678));
//! for record in telegram.records()? {
//!     let value = record?.value();
//!     assert_eq!((value.meaning.quantity, value.meaning.unit), ("volume", Some("m3")));
//!     assert_eq!(value.number.unwrap().to_string(), "1234.567");
//! }
//! # Ok::<(), meterwire::Error>(())
//! ```
#![cfg_attr(not(feature = "std"), no_std)]
#![forbid(unsafe_code)]
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects
    )
)]

extern crate alloc;

pub mod cjt188;
pub mod coap;
pub mod decimal;
pub mod error;
mod explain;
pub mod framing;
pub mod hex;
pub mod iec62056_21;
mod json;
pub mod keys;
pub mod mbus;
pub mod modbus;
pub mod model;
pub mod mqtt;
pub mod payload;
pub mod protocol;
pub mod reader;
pub mod reading;
pub mod redact;
#[cfg(feature = "schema")]
pub mod schema;
pub mod stream;
pub mod view_reading;
pub mod wmbus;

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

pub use decimal::Decimal;
pub use error::{Detail, Error, ErrorKind, Layer, Result};
pub use hex::parse_hex;
pub use keys::{Key, Keys};
pub use modbus::profile::ModbusProfile;
pub use model::{Cjt188Link, DiOrder, Iec62056Link, Iec62056Message};
pub use model::{
    Decoded, Function, Link, MbusLink, Meter, Protocol, RawRef, Record, RecordFields, Status,
    StatusFlag, Value, SCHEMA_VERSION,
};
pub use mqtt::MqttVersion;
pub use protocol::{protocols, protocols_json, ProtocolInfo};
pub use reading::{readings, to_reading, Column, Columns, Reading, ReadingValue};
pub use redact::{redact, RedactKey};
pub use stream::{decode_stream, decode_stream_json, Decoder, GarbageReason, StreamItem};
pub use wmbus::Session;

/// Decoding options (design §4). `Options::default()` auto-detects the protocol.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Options {
    /// The protocol to decode as; `None` detects it from the leading bytes.
    pub protocol: Option<Protocol>,
    /// Fill `spans` with every byte's place in the model.
    pub explain: bool,
    /// AES-128 keys for encrypted payloads (wM-Bus / OMS): none, one for every meter, or
    /// one per meter id. `Debug` never prints key bytes.
    pub keys: Keys,
    /// CJ/T 188: the byte order of a data identifier that matches no DI of the table in
    /// either order (`None`: high byte first). Table DIs are read in the order they match.
    pub cjt188_di_order: Option<DiOrder>,
    /// Modbus: the bytes of the request that the frame answers, in the frame's framing (RTU
    /// with its CRC, TCP with its MBAP). It gives a read response's records their addresses
    /// (request start + index) and settles a frame that reads both as a request and as a
    /// response; a request the frame does not answer is a warning ([`modbus::pair`]).
    /// Other protocols ignore it.
    pub request: Option<Vec<u8>>,
    /// Modbus: the register profile that turns registers into values
    /// ([`modbus::profile`]); shared, so options stay cheap to clone.
    pub modbus_profile: Option<Arc<ModbusProfile>>,
    /// MQTT: the version a packet is read as (`None`: 3.1.1). A PUBLISH does not say which
    /// version sent it; 5.0 reads its properties. Other protocols ignore it.
    pub mqtt_version: Option<MqttVersion>,
    /// CoAP / MQTT: the scheme a payload is encrypted with (`sm4-cbc`, …,
    /// [`payload::cipher`]), opened with the key `keys` gives for the device the topic or
    /// Uri-Path names. `None`: payloads are not encrypted. Other protocols ignore it.
    pub payload_cipher: Option<payload::cipher::PayloadCipher>,
    /// CoAP / MQTT: the layout of vendor TLV payloads ([`payload::tlv_schema`]), tried on a
    /// payload that is no frame and no JSON; shared, so options stay cheap to clone.
    pub tlv_schema: Option<Arc<payload::tlv_schema::TlvSchema>>,
    /// Redaction for sharing with third parties ([`mod@redact`]): with a key, every frame
    /// decoded has its identities replaced by keyed pseudonyms and its raw bytes dropped.
    pub redact: Option<RedactKey>,
    /// How many transports enclose the frame being decoded (0 for the caller's input); set
    /// by the nested payload reader ([`payload`]) to stop at its depth limit.
    pub(crate) payload_depth: u8,
}

impl Options {
    /// Decode as `protocol` instead of detecting it.
    pub fn with_protocol(mut self, protocol: Option<Protocol>) -> Self {
        self.protocol = protocol;
        self
    }

    /// Fill `spans` (explain mode) or not.
    pub fn with_explain(mut self, explain: bool) -> Self {
        self.explain = explain;
        self
    }

    /// CJ/T 188: read data identifiers outside the DI table in `order` (high byte first
    /// when `None`).
    pub fn with_cjt188_di_order(mut self, order: Option<DiOrder>) -> Self {
        self.cjt188_di_order = order;
        self
    }

    /// Modbus: the request that the frame answers (its bytes, framed like the frame), or
    /// none.
    pub fn with_request(mut self, request: Option<Vec<u8>>) -> Self {
        self.request = request;
        self
    }

    /// Modbus: read registers through this profile, or none.
    pub fn with_modbus_profile(mut self, profile: Option<Arc<ModbusProfile>>) -> Self {
        self.modbus_profile = profile;
        self
    }

    /// MQTT: read packets as `version` (`None`: 3.1.1).
    pub fn with_mqtt_version(mut self, version: Option<MqttVersion>) -> Self {
        self.mqtt_version = version;
        self
    }

    /// Reads the MQTT version option: `3.1.1` or `5.0` (also `5`, `311`); `auto` or empty
    /// is `None` (3.1.1). Anything else is a `malformed` error.
    pub fn parse_mqtt_version(name: &str) -> Result<Option<MqttVersion>> {
        if name.is_empty() || name.eq_ignore_ascii_case("auto") {
            return Ok(None);
        }
        MqttVersion::from_name(name).map(Some).ok_or(Error::new(
            ErrorKind::Malformed,
            Layer::Input,
            0,
            Detail::Text("unknown MQTT version (3.1.1, 5.0)"),
        ))
    }

    /// CoAP / MQTT: read opaque payloads through this vendor TLV schema, or not.
    pub fn with_tlv_schema(mut self, schema: Option<Arc<payload::tlv_schema::TlvSchema>>) -> Self {
        self.tlv_schema = schema;
        self
    }

    /// CoAP / MQTT: payloads are encrypted with `cipher` (or not).
    pub fn with_payload_cipher(mut self, cipher: Option<payload::cipher::PayloadCipher>) -> Self {
        self.payload_cipher = cipher;
        self
    }

    /// Reads the payload cipher option: a scheme of [`payload::cipher`] (`sm4-cbc`,
    /// `aes-128-ecb-zero`, …); empty or `none` is `None`. Anything else is `malformed`.
    pub fn parse_payload_cipher(text: &str) -> Result<Option<payload::cipher::PayloadCipher>> {
        if text.trim().is_empty() || text.trim().eq_ignore_ascii_case("none") {
            return Ok(None);
        }
        payload::cipher::PayloadCipher::parse(text).map(Some)
    }

    /// Redact every decoded frame with `key` ([`redact()`]), or not.
    pub fn with_redact(mut self, key: Option<RedactKey>) -> Self {
        self.redact = key;
        self
    }

    /// Use these keys for encrypted payloads.
    pub fn with_keys(mut self, keys: Keys) -> Self {
        self.keys = keys;
        self
    }

    /// Use one key for every meter.
    pub fn with_key(mut self, key: Key) -> Self {
        self.keys = Keys::One(key);
        self
    }

    /// Reads the keys option's text forms: one hex key, or `ID=HEX,ID=HEX` ([`Keys::parse`]).
    pub fn parse_keys(text: &str) -> Result<Keys> {
        Keys::parse(text)
    }

    /// Reads a protocol option: `auto` (or empty) detects, otherwise a name of
    /// [`Protocol::from_name`].
    pub fn parse_protocol(name: &str) -> Result<Option<Protocol>> {
        if name.is_empty() || name.eq_ignore_ascii_case("auto") {
            return Ok(None);
        }
        Protocol::from_name(name).map(Some).ok_or(Error::new(
            ErrorKind::UnknownProtocol,
            Layer::Input,
            0,
            Detail::Text("unknown protocol name (auto, mbus, wmbus, cjt188, modbus_rtu, modbus_tcp, iec62056_21, coap, mqtt)"),
        ))
    }
}

/// Detects the protocol of one frame from its leading bytes (design §3): bytes that commit
/// to a protocol's structure choose it, even if the frame turns out to be broken. The rules
/// are the registered families' detection steps, in the order [`protocol`] describes.
pub fn detect(bytes: &[u8]) -> Result<Protocol> {
    if bytes.is_empty() {
        return Err(Error::new(
            ErrorKind::Empty,
            Layer::Input,
            0,
            Detail::Text("no input bytes"),
        ));
    }
    protocol::detect(bytes)
}

/// Decodes one frame into the model.
pub fn decode(bytes: &[u8], opts: &Options) -> Result<Decoded> {
    let protocol = match opts.protocol {
        Some(p) => p,
        None => detect(bytes)?,
    };
    let Some(codec) = protocol::codec(protocol) else {
        return Err(protocol::no_decoder());
    };
    if !redact::applies(opts) {
        // The codec's result straight to the caller: a decoded frame is large.
        return codec.decode(bytes, opts);
    }
    let mut result = codec.decode(bytes, opts);
    redact::apply(&mut result, opts);
    result
}

/// Decodes one frame into its JSON text (compact, keys in model order): the same bytes in
/// every runtime.
pub fn decode_json(bytes: &[u8], opts: &Options) -> Result<String> {
    let decoded = decode(bytes, opts)?;
    Ok(to_json(&decoded))
}

/// The JSON text of a decoded frame.
pub fn to_json(decoded: &Decoded) -> String {
    json::to_json(decoded)
}

/// The JSON text of a decoded frame through serde (the definition `to_json` is checked
/// against; both give the same bytes).
pub fn to_json_serde(decoded: &Decoded) -> String {
    // The model contains no maps with non-string keys, so serialisation cannot fail.
    serde_json::to_string(decoded).unwrap_or_default()
}

/// The JSON error object of design §3: `{"error":{"kind":…,"offset":…,"message":…}}`.
pub fn error_json(error: &Error) -> String {
    #[derive(serde::Serialize)]
    struct Body<'a> {
        kind: &'a str,
        offset: usize,
        message: String,
    }
    #[derive(serde::Serialize)]
    struct Wrapper<'a> {
        error: Body<'a>,
    }
    let mut message = String::new();
    let _ = core::fmt::Write::write_fmt(&mut message, format_args!("{error}"));
    let body = Body {
        kind: error.kind().as_str(),
        offset: error.offset(),
        message,
    };
    serde_json::to_string(&Wrapper { error: body }).unwrap_or_default()
}

/// Encodes a decoded model back to its frame: `encode(&decode(x)?)? == x` for every
/// well-formed frame. Records whose value was changed are written in their original coding;
/// records without `raw` get a DIF and VIF chosen from quantity, unit and storage.
pub fn encode(decoded: &Decoded) -> Result<Vec<u8>> {
    encode_with(decoded, &Options::default())
}

/// Encodes a decoded model like [`encode`], encrypting wM-Bus payloads whose security mode is
/// 5 or 7 (or whose ELL names AES-CTR) with the key `opts.keys` gives for the meter. Without
/// a key such a payload is written as the model holds it (plaintext or `encrypted_data`).
pub fn encode_with(decoded: &Decoded, opts: &Options) -> Result<Vec<u8>> {
    match protocol::codec(decoded.protocol) {
        Some(codec) => codec.encode(decoded, opts),
        None => Err(protocol::no_encoder()),
    }
}

/// Decodes several frames in order with one [`Session`]: compact wM-Bus frames (CI 79/7B)
/// are decoded when a full frame earlier in `frames` taught their format signature.
pub fn decode_many(frames: &[&[u8]], opts: &Options) -> Vec<Result<Decoded>> {
    let mut session = Session::new();
    frames.iter().map(|f| session.decode(f, opts)).collect()
}

/// Encodes the JSON text of a model (as `decode_json` prints it) back to its frame.
pub fn encode_json(json: &str) -> Result<Vec<u8>> {
    encode(&model_from_json(json)?)
}

/// A model from its JSON text (what `decode_json` prints, or any runtime's re-serialisation of
/// the decoded object); refused as `malformed` at offset 0 when it is not a model.
pub fn model_from_json(json: &str) -> Result<Decoded> {
    serde_json::from_str(json).map_err(|_| {
        Error::new(
            ErrorKind::Malformed,
            Layer::Input,
            0,
            Detail::Text("not a meterwire JSON model"),
        )
    })
}

/// The flat reading (design §2.1) of a model given as JSON text, as JSON text.
pub fn to_reading_json(json: &str, timestamp: Option<&str>) -> Result<String> {
    to_reading_json_redacted(json, timestamp, None)
}

/// [`to_reading_json`] of the model redacted with `key` first ([`redact()`]), when given.
pub fn to_reading_json_redacted(
    json: &str,
    timestamp: Option<&str>,
    key: Option<&RedactKey>,
) -> Result<String> {
    let mut model = model_from_json(json)?;
    if let Some(key) = key {
        redact(&mut model, key);
    }
    let reading = to_reading(&model, timestamp);
    // A reading maps string keys to numbers and strings: writing it cannot fail.
    Ok(serde_json::to_string(&reading).unwrap_or_default())
}

/// The error object of design §3 without its `{"error": …}` wrapper:
/// `{"kind":…,"offset":…,"message":…}` (for lists that carry errors in place).
pub fn error_body_json(error: &Error) -> String {
    let full = error_json(error);
    full.strip_prefix("{\"error\":")
        .and_then(|s| s.strip_suffix('}'))
        .map(String::from)
        .unwrap_or(full)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detection_commits_on_structure() {
        assert_eq!(detect(&[0xE5]).unwrap(), Protocol::Mbus);
        assert_eq!(detect(&[0x68, 0x03, 0x03, 0x68]).unwrap(), Protocol::Mbus);
        assert_eq!(detect(&[0x68, 0x03]).unwrap(), Protocol::Mbus);
        assert_eq!(
            detect(&[0x42, 0x00]).unwrap_err().kind(),
            ErrorKind::UnknownProtocol
        );
        assert_eq!(detect(&[]).unwrap_err().kind(), ErrorKind::Empty);
        // A broken M-Bus frame is an M-Bus error, not unknown_protocol.
        let e = decode(
            &[0x68, 0x03, 0x03, 0x68, 0x53, 0x01, 0x50, 0x00, 0x16],
            &Options::default(),
        )
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Checksum);
    }

    /// The message lists every name the option takes: `auto` and [`Protocol::ALL`].
    #[test]
    fn protocol_name_error_lists_every_model_name() {
        let e = Options::parse_protocol("modbus").unwrap_err();
        let names: Vec<&str> = Protocol::ALL.iter().map(|p| p.as_str()).collect();
        assert_eq!(e.kind(), ErrorKind::UnknownProtocol);
        assert_eq!(
            e.to_string(),
            alloc::format!("unknown protocol name (auto, {})", names.join(", "))
        );
    }

    #[test]
    fn error_json_shape() {
        let e = decode(&[0x10, 0x7B, 0x05, 0x81, 0x16], &Options::default()).unwrap_err();
        assert_eq!(
            error_json(&e),
            r#"{"error":{"kind":"checksum","offset":3,"message":"checksum 0x81, computed 0x80"}}"#
        );
    }
}
