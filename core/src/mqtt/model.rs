//! The `link` of an MQTT control packet (design §2.2).

use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use crate::model::Name;
use crate::payload::FieldValue;

/// The MQTT protocol version a packet is read as. A PUBLISH does not say which version
/// sent it (the CONNECT of its session does), so the caller chooses
/// ([`crate::Options::mqtt_version`]); 3.1.1 unless told otherwise.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum MqttVersion {
    /// MQTT 3.1.1 (OASIS 2014, protocol level 4).
    #[default]
    #[serde(rename = "3.1.1")]
    V311,
    /// MQTT 5.0 (OASIS 2019, protocol level 5): PUBLISH carries properties.
    #[serde(rename = "5.0")]
    V5,
}

impl MqttVersion {
    /// The model's name (`3.1.1`, `5.0`).
    pub const fn as_str(self) -> &'static str {
        match self {
            MqttVersion::V311 => "3.1.1",
            MqttVersion::V5 => "5.0",
        }
    }

    /// Reads a version option: `3.1.1` (also `3`, `311`, `4`) or `5.0` (also `5`).
    pub fn from_name(name: &str) -> Option<MqttVersion> {
        match name.trim() {
            "3.1.1" | "3" | "311" | "4" => Some(MqttVersion::V311),
            "5.0" | "5" => Some(MqttVersion::V5),
            _ => None,
        }
    }
}

/// One MQTT 5.0 property (OASIS MQTT 5.0 §2.2.2.2).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct MqttProperty {
    /// The property identifier (1 payload format indicator, 3 content type, …).
    pub id: u8,
    /// Its name in snake_case (`payload_format_indicator`, `message_expiry_interval`,
    /// `topic_alias`, `response_topic`, `correlation_data`, `user_property`,
    /// `subscription_identifier`, `content_type`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<Name>,
    /// A user property's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The value: a number for integers, text for strings, hex for binary data.
    pub value: FieldValue,
}

/// MQTT link fields (design §2.2), plus the documented additions `flags` (the fixed
/// header's low bits of packets other than PUBLISH), `remaining_length_bytes` (a remaining
/// length written in more bytes than needed), `payload_format` and, for CONNECT,
/// `protocol_level`.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct MqttLink {
    /// The control packet type (`PUBLISH`, `CONNECT`, `PUBACK`, …).
    pub packet_type: Name,
    /// The version the packet was read as.
    #[serde(default)]
    pub version: MqttVersion,
    /// PUBLISH: duplicate delivery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dup: Option<bool>,
    /// PUBLISH: quality of service (0, 1, 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qos: Option<u8>,
    /// PUBLISH: retain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retain: Option<bool>,
    /// Other packets: the fixed header's four low bits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flags: Option<u8>,
    /// The remaining length (bytes after the fixed header). Encoding writes the real length.
    #[serde(default)]
    pub remaining_length: u32,
    /// The bytes the remaining length took when more than its value needs (kept for the
    /// round trip; MQTT 5.0 forbids it, 3.1.1 does not say).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remaining_length_bytes: Option<u8>,
    /// PUBLISH: the topic name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    /// The packet identifier (PUBLISH with QoS > 0, acknowledgements, SUBSCRIBE, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub packet_id: Option<u16>,
    /// CONNECT: the protocol level (4 = 3.1.1, 5 = 5.0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol_level: Option<u8>,
    /// MQTT 5.0 PUBLISH: the properties in wire order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub properties: Vec<MqttProperty>,
    /// What the PUBLISH payload was read as (`cjt188`, `mbus`, `wmbus`, `modbus_rtu`,
    /// `json`, `tlv`, `opaque`; [`crate::payload`]). Ignored when encoding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload_format: Option<Name>,
    /// The scheme the payload was encrypted with (`sm4-cbc-pkcs7`, …), when the
    /// `payload_cipher` option named one: encoding encrypts the payload again with the key of
    /// the `keys` option (without a key it is written in the clear).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload_cipher: Option<String>,
}
