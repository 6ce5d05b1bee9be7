//! WebAssembly build of meterwire (wasm-bindgen).
//!
//! The raw API that `wrap.js` turns into the public one (`index.js` in Node, `web.js` in
//! browsers). It is the native addon's raw API function for function (`bindings-node`): this
//! crate converts types and maps errors, and does nothing else. Inputs are bytes
//! (`Uint8Array`, `Buffer`) or hex text (read by the core's `parse_hex`); outputs are the
//! core's JSON text, which the wrapper parses. `decodeJson` is the core's `decode_json` text
//! byte for byte, and objects are `JSON.parse` of it: plain objects, no `Map`, no `undefined`,
//! no `null`. (Measured: one string and `JSON.parse` is 2–3× faster than building the objects
//! field by field through serde-wasm-bindgen, see `bindings-node/bench`.)
//!
//! Errors: a meterwire [`Error`](meterwire::Error) is thrown as a JS `Error` carrying `kind`,
//! `code` (= kind), `offset` and `layer`; the wrapper re-throws it as `MeterwireError`.
//! Arguments of the wrong type throw a `TypeError` with code `ERR_INVALID_ARG_TYPE`. A panic
//! traps (`WebAssembly.RuntimeError`), which the wrapper reports as `ERR_METERWIRE_PANIC`.
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;

use js_sys::{Array, Reflect, Uint8Array};
use meterwire::{Error as MwError, Keys, ModbusProfile, Options, Session};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// A JS `Error` with `kind`, `code` (= kind), `offset` and `layer` from a core error.
fn meterwire_error(e: &MwError, index: Option<usize>) -> JsValue {
    let err = js_sys::Error::new(&e.to_string());
    let kind = JsValue::from_str(e.kind().as_str());
    // Setting a property on a fresh Error object cannot fail.
    let _ = Reflect::set(&err, &"kind".into(), &kind);
    let _ = Reflect::set(&err, &"code".into(), &kind);
    let _ = Reflect::set(&err, &"offset".into(), &(e.offset() as f64).into());
    let _ = Reflect::set(&err, &"layer".into(), &e.layer().as_str().into());
    if let Some(i) = index {
        let _ = Reflect::set(&err, &"index".into(), &(i as f64).into());
    }
    err.into()
}

fn js(e: MwError) -> JsValue {
    meterwire_error(&e, None)
}

/// A `TypeError` with code `ERR_INVALID_ARG_TYPE` (Node's convention).
fn type_error(message: &str) -> JsValue {
    let err = js_sys::TypeError::new(message);
    let _ = Reflect::set(&err, &"code".into(), &"ERR_INVALID_ARG_TYPE".into());
    err.into()
}

/// `opts[name]`, `None` when absent (`undefined` or `null`).
fn field(opts: &JsValue, name: &str) -> Result<Option<JsValue>, JsValue> {
    let v = Reflect::get(opts, &name.into())?;
    Ok(if v.is_undefined() || v.is_null() {
        None
    } else {
        Some(v)
    })
}

fn string_field(opts: &JsValue, name: &str) -> Result<Option<String>, JsValue> {
    match field(opts, name)? {
        None => Ok(None),
        Some(v) => v
            .as_string()
            .map(Some)
            .ok_or_else(|| type_error(&format!("opts.{name} must be a string"))),
    }
}

/// The core's options from `{protocol, explain, keys, request, modbusProfile, mqttVersion,
/// payloadCipher, tlvSchema, redactKey}` (the wrapper checked their types;
/// unknown protocol names and bad keys are the core's errors).
fn options(opts: &JsValue) -> Result<Options, JsValue> {
    let mut out = Options::default();
    if opts.is_undefined() || opts.is_null() {
        return Ok(out);
    }
    if !opts.is_object() {
        return Err(type_error("opts must be an object"));
    }
    if let Some(p) = string_field(opts, "protocol")? {
        out = out.with_protocol(Options::parse_protocol(&p).map_err(js)?);
    }
    if let Some(e) = field(opts, "explain")? {
        let explain = e
            .as_bool()
            .ok_or_else(|| type_error("opts.explain must be a boolean"))?;
        out = out.with_explain(explain);
    }
    match field(opts, "keys")? {
        None => {}
        Some(k) if k.is_string() => {
            let text = k.as_string().unwrap_or_default();
            out = out.with_keys(Keys::parse(&text).map_err(js)?);
        }
        Some(k) if Array::is_array(&k) => {
            let flat: Vec<String> = Array::from(&k)
                .iter()
                .map(|v| v.as_string().unwrap_or_default())
                .collect();
            let pairs = flat.chunks(2).map(|p| match p {
                [id, key] => (id.as_str(), key.as_str()),
                [id] => (id.as_str(), ""),
                _ => ("", ""),
            });
            out = out.with_keys(Keys::from_pairs(pairs).map_err(js)?);
        }
        Some(_) => return Err(type_error("opts.keys must be a string or an array")),
    }
    if let Some(request) = field(opts, "request")? {
        let bytes = input_bytes(&request)
            .map_err(|_| type_error("opts.request must be a Uint8Array, a Buffer or a hex string"))?
            .map_err(js)?;
        out = out.with_request(Some(bytes));
    }
    if let Some(text) = string_field(opts, "modbusProfile")? {
        let profile = ModbusProfile::from_json(&text).map_err(js)?;
        out = out.with_modbus_profile(Some(Arc::new(profile)));
    }
    if let Some(text) = string_field(opts, "mqttVersion")? {
        out = out.with_mqtt_version(Options::parse_mqtt_version(&text).map_err(js)?);
    }
    if let Some(text) = string_field(opts, "payloadCipher")? {
        out = out.with_payload_cipher(Options::parse_payload_cipher(&text).map_err(js)?);
    }
    if let Some(text) = string_field(opts, "tlvSchema")? {
        let schema = meterwire::payload::tlv_schema::TlvSchema::from_json(&text).map_err(js)?;
        out = out.with_tlv_schema(Some(Arc::new(schema)));
    }
    if let Some(hex) = string_field(opts, "redactKey")? {
        out = out.with_redact(Some(meterwire::RedactKey::from_hex(&hex).map_err(js)?));
    }
    Ok(out)
}

/// The input's bytes: a copy of a `Uint8Array` (or `Buffer`), or hex text parsed by the core.
fn input_bytes(data: &JsValue) -> Result<Result<Vec<u8>, MwError>, JsValue> {
    if let Some(text) = data.as_string() {
        Ok(meterwire::parse_hex(&text))
    } else if let Some(bytes) = data.dyn_ref::<Uint8Array>() {
        Ok(Ok(bytes.to_vec()))
    } else {
        Err(type_error(
            "data must be a Uint8Array, a Buffer or a hex string",
        ))
    }
}

/// Decodes one frame into the core's JSON text (`decode_json`), byte for byte.
#[wasm_bindgen(js_name = decodeJson)]
pub fn decode_json(data: JsValue, opts: JsValue) -> Result<String, JsValue> {
    let opts = options(&opts)?;
    let bytes = input_bytes(&data)?.map_err(js)?;
    meterwire::decode_json(&bytes, &opts).map_err(js)
}

/// Decodes many frames in order, with one wM-Bus session (compact frames use the format of
/// an earlier full frame), into the JSON text of an array: each element is the frame's
/// `decode_json` text, or with `onError: "collect"` the §3 error object; `"skip"` leaves
/// failed frames out; `"raise"` (default) throws the first failure with its `index`.
#[wasm_bindgen(js_name = decodeManyJson)]
pub fn decode_many_json(frames: JsValue, opts: JsValue) -> Result<String, JsValue> {
    let core_opts = options(&opts)?;
    let mode = if opts.is_object() {
        string_field(&opts, "onError")?
    } else {
        None
    };
    let mode = mode.as_deref().unwrap_or("raise");
    if !matches!(mode, "raise" | "skip" | "collect") {
        return Err(type_error(
            "onError must be \"raise\", \"skip\" or \"collect\"",
        ));
    }
    if !Array::is_array(&frames) {
        return Err(type_error("frames must be an array"));
    }
    let mut session = Session::new();
    let mut out = String::from("[");
    for (i, frame) in Array::from(&frames).iter().enumerate() {
        let text = match input_bytes(&frame)?.and_then(|b| session.decode(&b, &core_opts)) {
            Ok(d) => meterwire::to_json(&d),
            Err(e) => match mode {
                "skip" => continue,
                "collect" => meterwire::error_json(&e),
                _ => return Err(meterwire_error(&e, Some(i))),
            },
        };
        if out.len() > 1 {
            out.push(',');
        }
        out.push_str(&text);
    }
    out.push(']');
    Ok(out)
}

/// Cuts a byte stream into frames and garbage (`decode_stream`) and returns the JSON text of
/// the items: `{"start","end","frame"}`, `{"start","end","error"}` (offsets in the stream)
/// or `{"start","end","garbage":"HEX","reason",…}`.
#[wasm_bindgen(js_name = decodeStreamJson)]
pub fn decode_stream_json(data: JsValue, opts: JsValue) -> Result<String, JsValue> {
    let opts = options(&opts)?;
    let bytes = input_bytes(&data)?.map_err(js)?;
    Ok(meterwire::decode_stream_json(&bytes, &opts))
}

/// The core's stateful stream decoder (`meterwire::Decoder`); the wrapper's `Decoder` class
/// parses the JSON text its methods return.
#[wasm_bindgen]
pub struct StreamDecoder {
    inner: meterwire::Decoder,
}

#[wasm_bindgen]
impl StreamDecoder {
    /// A decoder for one stream with the decoding options.
    #[wasm_bindgen(constructor)]
    pub fn new(opts: JsValue) -> Result<StreamDecoder, JsValue> {
        Ok(StreamDecoder {
            inner: meterwire::Decoder::new(options(&opts)?),
        })
    }

    /// Adds bytes (or hex text); returns the JSON array of the items they completed.
    #[wasm_bindgen(js_name = feedJson)]
    pub fn feed_json(&mut self, data: JsValue) -> Result<String, JsValue> {
        let bytes = input_bytes(&data)?.map_err(js)?;
        self.inner.feed(&bytes);
        Ok(self.inner.take_items_json())
    }

    /// Ends the stream; returns the JSON array of the last items.
    #[wasm_bindgen(js_name = finishJson)]
    pub fn finish_json(&mut self) -> String {
        self.inner.finish();
        self.inner.take_items_json()
    }

    /// Decodes one already cut frame in the decoder's session: the core's JSON text.
    #[wasm_bindgen(js_name = decodeJson)]
    pub fn decode_json(&mut self, data: JsValue) -> Result<String, JsValue> {
        let bytes = input_bytes(&data)?.map_err(js)?;
        let decoded = self.inner.decode(&bytes).map_err(js)?;
        Ok(meterwire::to_json(&decoded))
    }

    /// Bytes the pending frame still needs (a lower bound), or `undefined`.
    #[wasm_bindgen(getter)]
    pub fn needed(&self) -> Option<f64> {
        self.inner.needed().map(|n| n as f64)
    }

    /// Bytes fed but not yet in a returned item.
    #[wasm_bindgen(getter)]
    pub fn pending(&self) -> f64 {
        self.inner.pending() as f64
    }

    /// The stream offset of the next byte to be fed.
    #[wasm_bindgen(getter)]
    pub fn position(&self) -> f64 {
        self.inner.stream_len() as f64
    }
}

/// Encodes the JSON text of a model (what `decodeJson` returns, or `JSON.stringify` of what
/// `decode` returns) back to its frame (`encode_json`); with `keys`, wM-Bus payloads of
/// security mode 5/7 are encrypted (`encode_with`).
#[wasm_bindgen(js_name = encodeJson)]
pub fn encode_json(json: JsValue, opts: JsValue) -> Result<Vec<u8>, JsValue> {
    let text = json
        .as_string()
        .ok_or_else(|| type_error("encodeJson takes the model's JSON text"))?;
    let keyed = opts.is_object() && field(&opts, "keys")?.is_some();
    if keyed {
        let decoded = meterwire::model_from_json(&text).map_err(js)?;
        meterwire::encode_with(&decoded, &options(&opts)?).map_err(js)
    } else {
        meterwire::encode_json(&text).map_err(js)
    }
}

/// The flat reading view (design §2.1, `to_reading`) of a model given as JSON text, as JSON
/// text; `timestamp` is the reception time to add (UTC, `…Z`), if the caller has one;
/// `redactKey` (hex) redacts the model first.
#[wasm_bindgen(js_name = toReadingJson)]
pub fn to_reading_json(
    json: JsValue,
    timestamp: JsValue,
    redact_key: JsValue,
) -> Result<String, JsValue> {
    let text = json
        .as_string()
        .ok_or_else(|| type_error("toReadingJson takes the model's JSON text"))?;
    let timestamp = if timestamp.is_undefined() || timestamp.is_null() {
        None
    } else {
        Some(
            timestamp
                .as_string()
                .ok_or_else(|| type_error("timestamp must be a string"))?,
        )
    };
    let key = if redact_key.is_undefined() || redact_key.is_null() {
        None
    } else {
        let hex = redact_key
            .as_string()
            .ok_or_else(|| type_error("redactKey must be a hex string"))?;
        Some(meterwire::RedactKey::from_hex(&hex).map_err(js)?)
    };
    meterwire::to_reading_json_redacted(&text, timestamp.as_deref(), key.as_ref()).map_err(js)
}

/// The protocols this build decodes (the core's registry) as JSON text:
/// `[{"name","title","encode","detect"}, …]` in the model's order.
#[wasm_bindgen(js_name = protocolsJson)]
pub fn protocols_json() -> String {
    meterwire::protocols_json()
}

/// A Modbus master's request from its spec's JSON text (the core's
/// `modbus::request::RequestSpec`: `{"function","unit","framing"?,"transaction"?,…}`).
#[wasm_bindgen(js_name = modbusRequestJson)]
pub fn modbus_request_json(spec: JsValue) -> Result<Vec<u8>, JsValue> {
    let text = spec
        .as_string()
        .ok_or_else(|| type_error("modbusRequestJson takes the spec's JSON text"))?;
    meterwire::modbus::request::RequestSpec::build_json(&text).map_err(js)
}

/// An IEC 62056-21 message from its spec's JSON text (the core's
/// `iec62056_21::request::MessageSpec`: `{"message","address"?,"value"?,…}`).
#[wasm_bindgen(js_name = iec62056MessageJson)]
pub fn iec62056_message_json(spec: JsValue) -> Result<Vec<u8>, JsValue> {
    let text = spec
        .as_string()
        .ok_or_else(|| type_error("iec62056MessageJson takes the spec's JSON text"))?;
    meterwire::iec62056_21::request::MessageSpec::build_json(&text).map_err(js)
}

/// Panics on purpose, so the tests can check that a trap becomes a thrown JS error and the
/// module keeps working. Not part of the public API (the wrapper does not export it).
#[wasm_bindgen(js_name = __panicProbe)]
pub fn panic_probe() {
    #[allow(clippy::panic)]
    {
        panic!("panic probe")
    }
}
