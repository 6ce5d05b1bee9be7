//! JSON Schema of the model (feature `schema`): the derived schemas of the model's structs,
//! and hand-written ones for the types that serialise themselves (codes, hex bytes, records,
//! status flags). `schema/meterwire.schema.json` in the repository is generated from here.

use alloc::borrow::Cow;
use alloc::string::String;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};

use crate::model::{
    Address, Bytes, Code16, Code8, Decoded, Function, RawRecord, Record, ShortText, StatusFlag,
    StatusFlags,
};

impl JsonSchema for Code8 {
    fn schema_name() -> Cow<'static, str> {
        "Code8".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"type": "string", "pattern": "^0x[0-9A-F]{2}$", "description": "A byte code, e.g. \"0x08\"."})
    }
}

impl JsonSchema for Code16 {
    fn schema_name() -> Cow<'static, str> {
        "Code16".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"type": "string", "pattern": "^0x[0-9A-F]{4}$", "description": "A 16-bit code, e.g. \"0x2C2D\"."})
    }
}

impl JsonSchema for Bytes {
    fn schema_name() -> Cow<'static, str> {
        "HexBytes".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"type": "string", "pattern": "^([0-9A-F]{2})*$", "description": "Bytes as upper-case hex without separators."})
    }
}

impl JsonSchema for ShortText {
    fn schema_name() -> Cow<'static, str> {
        "ShortText".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"type": "string", "maxLength": 30})
    }
}

impl JsonSchema for StatusFlags {
    fn schema_name() -> Cow<'static, str> {
        "StatusFlags".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let names: alloc::vec::Vec<&str> = StatusFlag::ALL.iter().map(|f| f.as_str()).collect();
        json_schema!({"type": "array", "items": {"type": "string", "enum": names}, "uniqueItems": true})
    }
}

impl JsonSchema for Record {
    fn schema_name() -> Cow<'static, str> {
        "Record".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let function = generator.subschema_for::<Function>();
        let raw = generator.subschema_for::<RawRecord>();
        let address = generator.subschema_for::<Address>();
        json_schema!({
            "type": "object",
            "description": "One value of a frame (design §2 records[]).",
            "required": ["quantity"],
            "additionalProperties": false,
            "properties": {
                "quantity": {"type": "string", "description": "volume, energy, datetime, …"},
                "value": {"type": ["number", "string"], "description": "The JSON number parsed from `exact`, or a date/time/text/hex string."},
                "exact": {"type": "string", "pattern": "^-?[0-9]+(\\.[0-9]+)?$", "description": "The exact decimal text of a numeric value."},
                "unit": {"type": "string"},
                "unit_text": {"type": "string"},
                "storage": {"type": "integer", "minimum": 0},
                "tariff": {"type": "integer", "minimum": 0},
                "subunit": {"type": "integer", "minimum": 0},
                "function": function,
                "label": {"type": "string"},
                "modifiers": {"type": "array", "items": {"type": "string"}},
                "record_error": {"type": "string"},
                "action": {"type": "string"},
                "invalid": {"type": "boolean", "const": true},
                "dst": {"type": "boolean", "const": true},
                "address": address,
                "raw": raw
            }
        })
    }
}

impl JsonSchema for RawRecord {
    fn schema_name() -> Cow<'static, str> {
        "RawRecord".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let hex = generator.subschema_for::<Bytes>();
        json_schema!({
            "type": "object",
            "description": "The record's source bytes: idle fillers before it, DIF+DIFEs, VIF+VIFEs (and plain-text unit), data.",
            "required": ["data"],
            "additionalProperties": false,
            "properties": {
                "fill": {"type": "integer", "minimum": 1, "description": "Idle filler bytes (2F) directly before the record."},
                "dif": hex,
                "vif": hex,
                "data": hex
            }
        })
    }
}

/// The JSON Schema of the whole model (`Decoded`), pretty-printed.
pub fn schema_json() -> String {
    let schema = schemars::schema_for!(Decoded);
    let mut value = serde_json::to_value(&schema).unwrap_or_default();
    drop_null(&mut value);
    serde_json::to_string_pretty(&value).unwrap_or_default()
}

/// Optional keys are omitted, never `null` (design §2), so the schema allows no `null`:
/// `"type": [T, "null"]` becomes `T`, and `anyOf: [S, {"type": "null"}]` becomes `S`.
fn drop_null(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            if let Some(Value::Array(types)) = map.get_mut("type") {
                types.retain(|t| t != "null");
                if types.len() == 1 {
                    let only = types.remove(0);
                    map.insert("type".into(), only);
                }
            }
            if let Some(Value::Array(any)) = map.get("anyOf") {
                let kept: alloc::vec::Vec<Value> = any
                    .iter()
                    .filter(|s| s.get("type").and_then(Value::as_str) != Some("null"))
                    .cloned()
                    .collect();
                if kept.len() == 1 {
                    map.remove("anyOf");
                    if let Some(Value::Object(only)) = kept.into_iter().next() {
                        for (k, v) in only {
                            map.entry(k).or_insert(v);
                        }
                    }
                }
            }
            map.values_mut().for_each(drop_null);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_null),
        _ => {}
    }
}

/// JSON Schema of one stream item (`decode_stream`, `Decoder`; design §4): a frame with its
/// byte range, a frame whose decoding failed, or garbage with its reason. The frame refers
/// to the model's schema (`meterwire.schema.json` beside it).
pub fn stream_item_schema_json() -> String {
    let kinds: alloc::vec::Vec<&str> = crate::ErrorKind::ALL.iter().map(|k| k.as_str()).collect();
    let protocols: alloc::vec::Vec<&str> =
        crate::Protocol::ALL.iter().map(|p| p.as_str()).collect();
    let range = json_schema!({
        "start": {"type": "integer", "minimum": 0, "description": "First byte of the item in the stream."},
        "end": {"type": "integer", "minimum": 1, "description": "One past its last byte."}
    });
    let schema = json_schema!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "meterwire stream item",
        "description": "One item of decode_stream / Decoder: every input byte is in exactly one item, in stream order.",
        "oneOf": [
            {
                "type": "object",
                "required": ["start", "end", "frame"],
                "additionalProperties": false,
                "properties": {
                    "start": range.get("start"),
                    "end": range.get("end"),
                    "frame": {"$ref": "meterwire.schema.json"}
                }
            },
            {
                "type": "object",
                "required": ["start", "end", "error"],
                "additionalProperties": false,
                "properties": {
                    "start": range.get("start"),
                    "end": range.get("end"),
                    "error": {
                        "type": "object",
                        "required": ["kind", "offset", "message"],
                        "additionalProperties": false,
                        "properties": {
                            "kind": {"enum": kinds},
                            "offset": {"type": "integer", "minimum": 0, "description": "Byte offset in the stream."},
                            "message": {"type": "string"}
                        }
                    }
                }
            },
            {
                "type": "object",
                "required": ["start", "end", "garbage", "reason"],
                "additionalProperties": false,
                "properties": {
                    "start": range.get("start"),
                    "end": range.get("end"),
                    "garbage": {"type": "string", "pattern": "^([0-9A-F]{2})+$", "description": "The bytes as upper-case hex."},
                    "reason": {
                        "enum": ["noise", "invalid_frame", "truncated", "unsolicited_ack"],
                        "description": "noise: no frame starts here; invalid_frame: a frame's whole structure whose check failed; truncated: a frame cut off by the end of the stream; unsolicited_ack: an acknowledgement after a frame that was not a request."
                    },
                    "protocol": {"enum": protocols, "description": "The family whose frame the bytes began (every reason but noise)."},
                    "kind": {"enum": kinds, "description": "invalid_frame: the check that failed."}
                }
            }
        ]
    });
    serde_json::to_string_pretty(&schema).unwrap_or_default()
}
