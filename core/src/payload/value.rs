//! The value of a transport field whose type depends on its number (a CoAP option, an MQTT 5
//! property): an unsigned integer or a text.

use alloc::string::String;

use serde::{Deserialize, Serialize};

/// A CoAP option value or an MQTT property value, typed by the option or property number:
/// `uint` formats as a number; `string` formats as text; `opaque` formats (and binary MQTT
/// data) as upper-case hex text.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FieldValue {
    /// An unsigned integer (CoAP `uint`, MQTT byte / two / four byte integers, varints).
    Number(u64),
    /// A UTF-8 string, or hex for opaque / binary values.
    Text(String),
}

impl Default for FieldValue {
    fn default() -> Self {
        FieldValue::Text(String::new())
    }
}
