//! The `link` of a CoAP message (design §2.2): header, token and options.

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use serde::de::{self, Deserializer};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};

use crate::model::{Bytes, Name};
use crate::payload::FieldValue;

/// The four CoAP message types (RFC 7252 §3, the T field).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum CoapType {
    /// 0: confirmable.
    #[default]
    #[serde(rename = "CON")]
    Con,
    /// 1: non-confirmable.
    #[serde(rename = "NON")]
    Non,
    /// 2: acknowledgement.
    #[serde(rename = "ACK")]
    Ack,
    /// 3: reset.
    #[serde(rename = "RST")]
    Rst,
}

impl CoapType {
    /// The type of the two T bits.
    pub const fn from_bits(bits: u8) -> CoapType {
        match bits & 0x03 {
            0 => CoapType::Con,
            1 => CoapType::Non,
            2 => CoapType::Ack,
            _ => CoapType::Rst,
        }
    }

    /// The two T bits.
    pub const fn bits(self) -> u8 {
        match self {
            CoapType::Con => 0,
            CoapType::Non => 1,
            CoapType::Ack => 2,
            CoapType::Rst => 3,
        }
    }

    /// The model's name (`CON`, `NON`, `ACK`, `RST`).
    pub const fn as_str(self) -> &'static str {
        match self {
            CoapType::Con => "CON",
            CoapType::Non => "NON",
            CoapType::Ack => "ACK",
            CoapType::Rst => "RST",
        }
    }
}

/// A CoAP code byte (`class << 5 | detail`), written `"c.dd"` in JSON (`"0.02"`, `"2.05"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct CoapCode(pub u8);

impl CoapCode {
    /// The class (0 request, 2 success, 4 client error, 5 server error).
    pub const fn class(self) -> u8 {
        self.0 >> 5
    }

    /// The detail (0–31).
    pub const fn detail(self) -> u8 {
        self.0 & 0x1F
    }
}

impl CoapCode {
    /// Reads a code: `c.dd` (`"0.02"`, `"2.05"`), a method (`GET`, `POST`, `PUT`, `DELETE`,
    /// `FETCH`, `PATCH`, `iPATCH`, any case) or a response name (`content`, `changed`, …).
    pub fn parse(text: &str) -> Option<CoapCode> {
        if let Some((class, detail)) = text.split_once('.') {
            let class: u8 = class.parse().ok().filter(|c| *c <= 7)?;
            let detail: u8 = detail.parse().ok().filter(|d| *d <= 31)?;
            return Some(CoapCode(class << 5 | detail));
        }
        (0u8..=0xBF).map(CoapCode).find(|c| {
            super::method_name(c.0).is_some_and(|m| m.eq_ignore_ascii_case(text))
                || super::response_name(c.0) == Some(text)
        })
    }
}

impl fmt::Display for CoapCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.class(), self.detail())
    }
}

impl Serialize for CoapCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for CoapCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text: Cow<'de, str> = Deserialize::deserialize(d)?;
        let bad = || de::Error::custom("expected a CoAP code like \"0.02\"");
        let (class, detail) = text.split_once('.').ok_or_else(bad)?;
        let class: u8 = class.parse().map_err(|_| bad())?;
        let detail: u8 = detail.parse().map_err(|_| bad())?;
        if class > 7 || detail > 31 || text.len() != 4 {
            return Err(bad());
        }
        Ok(CoapCode(class << 5 | detail))
    }
}

#[cfg(feature = "schema")]
impl schemars::JsonSchema for CoapCode {
    fn schema_name() -> Cow<'static, str> {
        "CoapCode".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({"type": "string", "pattern": "^[0-7]\\.[0-3][0-9]$", "description": "A CoAP code as class.detail, e.g. \"0.02\" (POST), \"2.05\" (Content)."})
    }
}

/// The block fields of a Block1 / Block2 option (RFC 7959 §2.2), read from its value.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoapBlock {
    /// The block number (NUM).
    pub num: u32,
    /// More blocks follow (M).
    pub more: bool,
    /// The block size in bytes, 2^(SZX + 4).
    pub size: u16,
}

/// One CoAP option (RFC 7252 §5.4): its number, name and value.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct CoapOption {
    /// The option number (11 Uri-Path, 12 Content-Format, …).
    pub number: u16,
    /// Its registered name as the IANA registry spells it (`Uri-Path`, `Content-Format`,
    /// `Observe`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<Name>,
    /// The value by the option's format: a number (`uint`), text (`string`), or hex
    /// (`opaque`, and options meterwire does not know); `""` for empty options.
    #[serde(default)]
    pub value: FieldValue,
    /// The value's bytes, when `value` does not give them back exactly (a `uint` with
    /// leading zero bytes, a `string` that is not UTF-8); encoding prefers it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<Bytes>,
    /// Block1 / Block2: the block number, more flag and size read from the value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block: Option<CoapBlock>,
}

/// CoAP link fields (design §2.2), plus the documented additions `uri_path` and
/// `content_format_name` (read from `options`) and `payload_format` (what the payload was
/// detected as).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct CoapLink {
    /// Message type.
    #[serde(rename = "type")]
    pub message_type: CoapType,
    /// The code as class.detail (`"0.02"`).
    pub code: CoapCode,
    /// The request method of codes 0.01–0.07 (`GET`, `POST`, `PUT`, `DELETE`, `FETCH`,
    /// `PATCH`, `iPATCH`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<Name>,
    /// The response of codes 2.xx–5.xx in snake_case (`content`, `changed`, `not_found`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<Name>,
    /// Message ID.
    pub message_id: u16,
    /// The token (0–8 bytes) as hex; omitted when empty.
    #[serde(default, skip_serializing_if = "Bytes::is_empty")]
    pub token: Bytes,
    /// The options in wire order (ascending numbers). Encoding writes these.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<CoapOption>,
    /// The Uri-Path options joined as `/t/d` (read from `options`; ignored when encoding).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri_path: Option<String>,
    /// The Content-Format option's number (read from `options`; ignored when encoding).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_format: Option<u16>,
    /// The media type of `content_format` (`application/octet-stream`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_format_name: Option<Name>,
    /// What the payload was read as: `cjt188`, `mbus`, `wmbus`, `modbus_rtu` (a nested
    /// frame in `payload`), `json`, `lwm2m_tlv`, `senml_json`, `senml_cbor`, `tlv` (records),
    /// or `opaque` (`application_data`); omitted without payload. Ignored when encoding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload_format: Option<Name>,
    /// The scheme the payload was encrypted with (`sm4-cbc-pkcs7`, …), when the
    /// `payload_cipher` option named one: encoding encrypts the payload again with the key of
    /// the `keys` option (without a key it is written in the clear).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload_cipher: Option<String>,
}
