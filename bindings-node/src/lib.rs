//! Node.js addon of meterwire (napi-rs).
//!
//! The raw native API that `wrap.js` turns into the public one. This crate converts types and
//! maps errors, and does nothing else: every function reads bytes or hex (through the core's
//! `parse_hex`), calls the core and hands back the core's own JSON text, which the wrapper
//! turns into objects with `JSON.parse`. So `decode(x)` is by construction
//! `JSON.parse(decodeJson(x))`, integers above 2^32 (41-bit storage numbers) stay numbers,
//! and the native and WASM packages (same raw API, see `bindings-wasm`) cannot drift apart.
//!
//! Errors: a meterwire [`Error`](meterwire::Error) is thrown as a JS `Error` carrying `kind`,
//! `code` (= kind), `offset` and `layer`; the wrapper re-throws it as `MeterwireError`. A Rust
//! panic is caught and thrown as an `Error` with code `ERR_METERWIRE_PANIC`: it never takes
//! the Node process down.
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::borrow::Cow;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use meterwire::{Error as MwError, Keys, ModbusProfile, Options, Session};
use napi::bindgen_prelude::{Either, Env, Object, Uint8Array, Uint8ArraySlice};
use napi::Status;
use napi_derive::napi;

/// Decoding options as the wrapper passes them (already type-checked there).
#[napi(object)]
pub struct DecodeOptions {
    /// `"auto"` (default) or a protocol name (`"mbus"`, `"modbus-rtu"`, …).
    pub protocol: Option<String>,
    /// Fill `spans` with every byte's place in the model.
    pub explain: Option<bool>,
    /// AES-128 keys: one key as hex (or the `ID=HEX,ID=HEX` text), or `[id, hex, id, hex, …]`.
    pub keys: Option<Either<String, Vec<String>>>,
    /// `decodeMany` only: `"raise"` (default), `"skip"` or `"collect"`.
    pub on_error: Option<String>,
    /// Modbus: the request a response answers, as bytes or hex text.
    pub request: Option<Either<Uint8Array, String>>,
    /// Modbus: a register profile as JSON text (the wrapper writes an object as JSON).
    pub modbus_profile: Option<String>,
    /// MQTT: the version packets are read as (`"3.1.1"`, `"5.0"`).
    pub mqtt_version: Option<String>,
    /// CoAP / MQTT: the payload cipher scheme (`"sm4-cbc"`, …).
    pub payload_cipher: Option<String>,
    /// CoAP / MQTT: a vendor TLV layout as JSON text (the wrapper writes an object as JSON).
    pub tlv_schema: Option<String>,
    /// A secret (hex; the wrapper writes bytes as hex): redact ids and raw bytes with it.
    pub redact_key: Option<String>,
}

/// One input: bytes (`Buffer` or `Uint8Array`) or hex text.
type Input<'a> = Either<Uint8ArraySlice<'a>, String>;

/// Where a failed call stopped.
enum Failure {
    /// The core refused the input; `index` is the frame's position in `decodeMany`.
    Meterwire(MwError, Option<u32>),
    /// A bad argument the wrapper should have caught (unknown `onError`).
    Argument(&'static str),
    /// Rust panicked (a bug in meterwire).
    Panic(String),
}

impl From<MwError> for Failure {
    fn from(e: MwError) -> Self {
        Failure::Meterwire(e, None)
    }
}

/// Runs `f`, catching a panic, and turns a failure into the thrown JS error.
fn guard<T>(env: &Env, f: impl FnOnce() -> Result<T, Failure>) -> napi::Result<T> {
    let outcome = catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|payload| {
        let text = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        Err(Failure::Panic(text))
    });
    outcome.map_err(|failure| match failure {
        Failure::Meterwire(e, index) => throw(env, &e.to_string(), |obj| {
            obj.set("kind", e.kind().as_str())?;
            obj.set("code", e.kind().as_str())?;
            // Byte offsets: f64 holds them exactly and is a plain JS number.
            obj.set("offset", e.offset() as f64)?;
            obj.set("layer", e.layer().as_str())?;
            match index {
                Some(i) => obj.set("index", i),
                None => Ok(()),
            }
        }),
        Failure::Argument(text) => napi::Error::new(Status::InvalidArg, text),
        Failure::Panic(text) => throw(
            env,
            &format!("meterwire panicked (a bug, please report it): {text}"),
            |obj| obj.set("code", "ERR_METERWIRE_PANIC"),
        ),
    })
}

/// Throws a JS `Error` with `message` and the properties `fill` sets.
fn throw(
    env: &Env,
    message: &str,
    fill: impl FnOnce(&mut Object<'_>) -> napi::Result<()>,
) -> napi::Error {
    let thrown = (|| -> napi::Result<()> {
        let mut obj = env.create_error(napi::Error::new(Status::GenericFailure, message))?;
        fill(&mut obj)?;
        env.throw(obj)
    })();
    match thrown {
        Ok(()) => napi::Error::new(Status::PendingException, message.to_owned()),
        Err(napi_error) => napi_error,
    }
}

/// The core's options from the JS ones (unknown protocol names and bad keys are the core's
/// errors).
fn options(opts: Option<&DecodeOptions>) -> Result<Options, MwError> {
    let mut out = Options::default();
    if let Some(o) = opts {
        if let Some(p) = &o.protocol {
            out = out.with_protocol(Options::parse_protocol(p)?);
        }
        out = out.with_explain(o.explain.unwrap_or(false));
        match &o.keys {
            None => {}
            Some(Either::A(text)) => out = out.with_keys(Keys::parse(text)?),
            Some(Either::B(flat)) => {
                let pairs = flat.chunks(2).map(|p| match p {
                    [id, key] => (id.as_str(), key.as_str()),
                    [id] => (id.as_str(), ""),
                    _ => ("", ""),
                });
                out = out.with_keys(Keys::from_pairs(pairs)?);
            }
        }
        match &o.request {
            None => {}
            Some(Either::A(bytes)) => out = out.with_request(Some(bytes.to_vec())),
            Some(Either::B(text)) => out = out.with_request(Some(meterwire::parse_hex(text)?)),
        }
        if let Some(text) = &o.modbus_profile {
            out = out.with_modbus_profile(Some(Arc::new(ModbusProfile::from_json(text)?)));
        }
        if let Some(text) = &o.mqtt_version {
            out = out.with_mqtt_version(Options::parse_mqtt_version(text)?);
        }
        if let Some(text) = &o.payload_cipher {
            out = out.with_payload_cipher(Options::parse_payload_cipher(text)?);
        }
        if let Some(text) = &o.tlv_schema {
            out = out.with_tlv_schema(Some(Arc::new(
                meterwire::payload::tlv_schema::TlvSchema::from_json(text)?,
            )));
        }
        if let Some(hex) = &o.redact_key {
            out = out.with_redact(Some(meterwire::RedactKey::from_hex(hex)?));
        }
    }
    Ok(out)
}

/// The input's bytes: a typed array in place, hex text parsed by the core.
fn bytes<'a>(data: &'a Input<'_>) -> Result<Cow<'a, [u8]>, MwError> {
    match data {
        Either::A(bytes) => Ok(Cow::Borrowed(bytes)),
        Either::B(text) => meterwire::parse_hex(text).map(Cow::Owned),
    }
}

/// Decodes one frame into the core's JSON text (`decode_json`), byte for byte.
#[napi(catch_unwind)]
pub fn decode_json(env: Env, data: Input<'_>, opts: Option<DecodeOptions>) -> napi::Result<String> {
    guard(&env, || {
        let opts = options(opts.as_ref())?;
        Ok(meterwire::decode_json(&bytes(&data)?, &opts)?)
    })
}

/// Decodes many frames in order, with one wM-Bus session (compact frames use the format of
/// an earlier full frame), into the JSON text of an array: each element is the frame's
/// `decode_json` text, or with `onError: "collect"` the §3 error object; `"skip"` leaves
/// failed frames out; `"raise"` (default) throws the first failure with its `index`.
#[napi(catch_unwind)]
pub fn decode_many_json(
    env: Env,
    frames: Vec<Input<'_>>,
    opts: Option<DecodeOptions>,
) -> napi::Result<String> {
    guard(&env, || {
        let mode = opts
            .as_ref()
            .and_then(|o| o.on_error.as_deref())
            .unwrap_or("raise");
        if !matches!(mode, "raise" | "skip" | "collect") {
            return Err(Failure::Argument(
                "onError must be \"raise\", \"skip\" or \"collect\"",
            ));
        }
        let core_opts = options(opts.as_ref())?;
        let mut session = Session::new();
        let mut out = String::from("[");
        for (i, frame) in frames.iter().enumerate() {
            let text = match bytes(frame).and_then(|b| session.decode(&b, &core_opts)) {
                Ok(d) => meterwire::to_json(&d),
                Err(e) => match mode {
                    "skip" => continue,
                    "collect" => meterwire::error_json(&e),
                    _ => return Err(Failure::Meterwire(e, u32::try_from(i).ok())),
                },
            };
            if out.len() > 1 {
                out.push(',');
            }
            out.push_str(&text);
        }
        out.push(']');
        Ok(out)
    })
}

/// Cuts a byte stream into frames and garbage (`decode_stream`) and returns the JSON text of
/// the items: `{"start","end","frame"}`, `{"start","end","error"}` (offsets in the stream)
/// or `{"start","end","garbage":"HEX","reason",…}`.
#[napi(catch_unwind)]
pub fn decode_stream_json(
    env: Env,
    data: Input<'_>,
    opts: Option<DecodeOptions>,
) -> napi::Result<String> {
    guard(&env, || {
        let opts = options(opts.as_ref())?;
        Ok(meterwire::decode_stream_json(&bytes(&data)?, &opts))
    })
}

/// The core's stateful stream decoder (`meterwire::Decoder`); the wrapper's `Decoder` class
/// parses the JSON text its methods return.
#[napi]
pub struct StreamDecoder {
    inner: meterwire::Decoder,
}

#[napi]
impl StreamDecoder {
    /// A decoder for one stream with the decoding options.
    #[napi(constructor)]
    pub fn new(env: Env, opts: Option<DecodeOptions>) -> napi::Result<Self> {
        guard(&env, || {
            Ok(StreamDecoder {
                inner: meterwire::Decoder::new(options(opts.as_ref())?),
            })
        })
    }

    /// Adds bytes (or hex text); returns the JSON array of the items they completed.
    #[napi(catch_unwind)]
    pub fn feed_json(&mut self, env: Env, data: Input<'_>) -> napi::Result<String> {
        guard(&env, || {
            self.inner.feed(&bytes(&data)?);
            Ok(self.inner.take_items_json())
        })
    }

    /// Ends the stream; returns the JSON array of the last items.
    #[napi(catch_unwind)]
    pub fn finish_json(&mut self, env: Env) -> napi::Result<String> {
        guard(&env, || {
            self.inner.finish();
            Ok(self.inner.take_items_json())
        })
    }

    /// Decodes one already cut frame in the decoder's session: the core's JSON text.
    #[napi(catch_unwind)]
    pub fn decode_json(&mut self, env: Env, data: Input<'_>) -> napi::Result<String> {
        guard(&env, || {
            let decoded = self.inner.decode(&bytes(&data)?)?;
            Ok(meterwire::to_json(&decoded))
        })
    }

    /// Bytes the pending frame still needs (a lower bound), or `null`.
    #[napi(getter)]
    pub fn needed(&self) -> Option<u32> {
        self.inner
            .needed()
            .map(|n| u32::try_from(n).unwrap_or(u32::MAX))
    }

    /// Bytes fed but not yet in a returned item.
    #[napi(getter)]
    pub fn pending(&self) -> f64 {
        self.inner.pending() as f64
    }

    /// The stream offset of the next byte to be fed.
    #[napi(getter)]
    pub fn position(&self) -> f64 {
        self.inner.stream_len() as f64
    }
}

/// Encodes the JSON text of a model (what `decodeJson` returns, or `JSON.stringify` of what
/// `decode` returns) back to its frame (`encode_json`); with `keys`, wM-Bus payloads of
/// security mode 5/7 are encrypted (`encode_with`).
#[napi(catch_unwind)]
pub fn encode_json(
    env: Env,
    json: String,
    opts: Option<DecodeOptions>,
) -> napi::Result<Uint8Array> {
    guard(&env, || {
        let bytes = match &opts {
            Some(o) if o.keys.is_some() => {
                let decoded = meterwire::model_from_json(&json)?;
                meterwire::encode_with(&decoded, &options(Some(o))?)?
            }
            _ => meterwire::encode_json(&json)?,
        };
        Ok(Uint8Array::new(bytes))
    })
}

/// The flat reading view (design §2.1, `to_reading`) of a model given as JSON text, as JSON
/// text; `timestamp` is the reception time to add (UTC, `…Z`), if the caller has one;
/// `redactKey` (hex) redacts the model first.
#[napi(catch_unwind)]
pub fn to_reading_json(
    env: Env,
    json: String,
    timestamp: Option<String>,
    redact_key: Option<String>,
) -> napi::Result<String> {
    guard(&env, || {
        let key = redact_key
            .as_deref()
            .map(meterwire::RedactKey::from_hex)
            .transpose()?;
        Ok(meterwire::to_reading_json_redacted(
            &json,
            timestamp.as_deref(),
            key.as_ref(),
        )?)
    })
}

/// The protocols this build decodes (the core's registry) as JSON text:
/// `[{"name","title","encode","detect"}, …]` in the model's order.
#[napi(catch_unwind)]
pub fn protocols_json() -> String {
    meterwire::protocols_json()
}

/// A Modbus master's request from its spec's JSON text (the core's
/// `modbus::request::RequestSpec`: `{"function","unit","framing"?,"transaction"?,…}`).
#[napi(catch_unwind)]
pub fn modbus_request_json(env: Env, spec: String) -> napi::Result<Uint8Array> {
    guard(&env, || {
        Ok(meterwire::modbus::request::RequestSpec::build_json(&spec)?.into())
    })
}

/// An IEC 62056-21 message from its spec's JSON text (the core's
/// `iec62056_21::request::MessageSpec`: `{"message","address"?,"value"?,…}`).
#[napi(catch_unwind)]
pub fn iec62056_message_json(env: Env, spec: String) -> napi::Result<Uint8Array> {
    guard(&env, || {
        Ok(meterwire::iec62056_21::request::MessageSpec::build_json(&spec)?.into())
    })
}

/// Panics on purpose, so the tests can check that a panic becomes a thrown JS error and the
/// process lives on. Not part of the public API (the wrapper does not export it).
#[napi(js_name = "__panicProbe", catch_unwind)]
pub fn panic_probe(env: Env) -> napi::Result<()> {
    guard(&env, || -> Result<(), Failure> {
        #[allow(clippy::panic)]
        {
            panic!("panic probe")
        }
    })
}
