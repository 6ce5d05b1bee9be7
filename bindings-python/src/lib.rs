//! Python bindings of meterwire: the extension module `meterwire._meterwire`, re-exported by
//! the pure-Python package `meterwire` (see `python/meterwire/`).
//!
//! This crate only converts types and maps errors (project style note 7): inputs become byte
//! slices (hex text goes through the core's `parse_hex`), the core's serde model becomes
//! Python objects through one generic serializer (`convert`), and every core error goes
//! through one funnel (`errors::to_py_err`). `decode_json` returns the core's own text.
#![forbid(unsafe_code)]
// Each pyfunction takes the keyword arguments of the Python API (design §4) one by one.
#![allow(clippy::too_many_arguments)]

use std::borrow::Cow;
use std::sync::Arc;

use meterwire::payload::tlv_schema::TlvSchema;
use meterwire::{Decoded, Key, Keys, ModbusProfile, Options, RedactKey, Session, StreamItem};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyDict, PyList, PyMemoryView, PyString, PyTuple};

#[cfg(feature = "arrow")]
mod arrow;
mod convert;
mod errors;

use convert::{from_py, to_py, type_name, Converter};
use errors::{
    error_body, error_dict, to_py_err, ChecksumError, FrameError, MeterwireError, SecurityError,
    UnsupportedError,
};

/// One `data` argument: bytes (borrowed from a `bytes` object when possible) or hex text.
enum Input<'a> {
    Bytes(Cow<'a, [u8]>),
    Hex(Cow<'a, str>),
}

impl Input<'_> {
    /// The frame's bytes: hex text is read by the core's `parse_hex`.
    fn bytes(&self) -> Result<Cow<'_, [u8]>, meterwire::Error> {
        match self {
            Input::Bytes(b) => Ok(Cow::Borrowed(b.as_ref())),
            Input::Hex(text) => meterwire::parse_hex(text).map(Cow::Owned),
        }
    }

    /// The same input owning its bytes (to leave the GIL with it).
    fn into_owned(self) -> Input<'static> {
        match self {
            Input::Bytes(b) => Input::Bytes(Cow::Owned(b.into_owned())),
            Input::Hex(t) => Input::Hex(Cow::Owned(t.into_owned())),
        }
    }
}

/// Reads `data`: `bytes`, `bytearray`, `memoryview` (or any other object with the buffer
/// protocol) or a hex `str`; anything else is a `TypeError`.
fn input<'a>(data: &'a Bound<'_, PyAny>) -> PyResult<Input<'a>> {
    if let Ok(b) = data.cast::<PyBytes>() {
        return Ok(Input::Bytes(Cow::Borrowed(b.as_bytes())));
    }
    if let Ok(s) = data.cast::<PyString>() {
        return Ok(Input::Hex(s.to_cow()?));
    }
    if let Ok(b) = data.cast::<PyByteArray>() {
        return Ok(Input::Bytes(Cow::Owned(b.to_vec())));
    }
    let not_data = || {
        PyTypeError::new_err(format!(
            "data must be bytes, bytearray, memoryview or a hex str, not {}",
            type_name(data)
        ))
    };
    let view = PyMemoryView::from(data).map_err(|_| not_data())?;
    let copy = view.call_method0(intern!(data.py(), "tobytes"))?;
    let bytes = copy.cast::<PyBytes>().map_err(|_| not_data())?;
    Ok(Input::Bytes(Cow::Owned(bytes.as_bytes().to_vec())))
}

/// The decoding options' keyword arguments beyond `protocol`, `keys` and `explain`: Modbus
/// `request` and `modbus_profile`, `mqtt_version`, `payload_cipher`, `tlv_schema` and
/// `redact_key`.
#[derive(Clone, Copy)]
struct OptionArgs<'a, 'py> {
    request: Option<&'a Bound<'py, PyAny>>,
    profile: Option<&'a Bound<'py, PyAny>>,
    mqtt_version: Option<&'a str>,
    payload_cipher: Option<&'a str>,
    tlv_schema: Option<&'a Bound<'py, PyAny>>,
    redact_key: Option<&'a Bound<'py, PyAny>>,
}

/// The core's options from the keyword arguments.
fn options(
    py: Python<'_>,
    protocol: &str,
    keys: Option<&Bound<'_, PyAny>>,
    explain: bool,
    args: OptionArgs<'_, '_>,
) -> PyResult<Options> {
    let protocol = Options::parse_protocol(protocol).map_err(|e| to_py_err(py, &e))?;
    Ok(Options::default()
        .with_protocol(protocol)
        .with_keys(keys_of(py, keys)?)
        .with_explain(explain)
        .with_request(request_of(py, args.request)?)
        .with_modbus_profile(profile_of(py, args.profile)?)
        .with_mqtt_version(
            Options::parse_mqtt_version(args.mqtt_version.unwrap_or(""))
                .map_err(|e| to_py_err(py, &e))?,
        )
        .with_payload_cipher(
            Options::parse_payload_cipher(args.payload_cipher.unwrap_or(""))
                .map_err(|e| to_py_err(py, &e))?,
        )
        .with_tlv_schema(tlv_schema_of(py, args.tlv_schema)?)
        .with_redact(redact_key_of(py, args.redact_key)?))
}

/// The `redact_key` option: the secret as bytes-like data, or as hex text; `None` does not
/// redact. Shorter than 16 bytes is the core's `malformed` error.
fn redact_key_of(py: Python<'_>, key: Option<&Bound<'_, PyAny>>) -> PyResult<Option<RedactKey>> {
    let Some(key) = key.filter(|k| !k.is_none()) else {
        return Ok(None);
    };
    let parsed = if let Ok(text) = key.cast::<PyString>() {
        RedactKey::from_hex(&text.to_cow()?)
    } else if let Ok(bytes) = key.cast::<PyBytes>() {
        RedactKey::new(bytes.as_bytes())
    } else if let Ok(bytes) = key.cast::<PyByteArray>() {
        RedactKey::new(&bytes.to_vec())
    } else {
        return Err(PyTypeError::new_err(format!(
            "redact_key must be None, bytes or hex str, not {}",
            type_name(key)
        )));
    };
    parsed.map(Some).map_err(|e| to_py_err(py, &e))
}

/// The `request` option: the Modbus request a response answers, as bytes-like data or hex
/// text (like a frame; hex parsed by the core).
fn request_of(py: Python<'_>, request: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Vec<u8>>> {
    let Some(request) = request.filter(|r| !r.is_none()) else {
        return Ok(None);
    };
    let input = input(request).map_err(|_| {
        PyTypeError::new_err(format!(
            "request must be bytes, bytearray, memoryview or a hex str, not {}",
            type_name(request)
        ))
    })?;
    let bytes = input.bytes().map_err(|e| to_py_err(py, &e))?;
    Ok(Some(bytes.into_owned()))
}

/// The `modbus_profile` option: a register profile as a dict or as JSON text, read by the
/// core (`ModbusProfile::from_value` / `from_json`), whose errors name the entry.
fn profile_of(
    py: Python<'_>,
    profile: Option<&Bound<'_, PyAny>>,
) -> PyResult<Option<Arc<ModbusProfile>>> {
    document_option(
        py,
        "modbus_profile",
        profile,
        ModbusProfile::from_json,
        ModbusProfile::from_value,
    )
}

/// The `tlv_schema` option: a vendor TLV layout as a dict or as JSON text, read by the core
/// (`TlvSchema`); a bad schema is the core's `malformed` error.
fn tlv_schema_of(
    py: Python<'_>,
    schema: Option<&Bound<'_, PyAny>>,
) -> PyResult<Option<Arc<TlvSchema>>> {
    document_option(
        py,
        "tlv_schema",
        schema,
        TlvSchema::from_json,
        TlvSchema::from_value,
    )
}

/// An option that is a JSON document (`name`): a dict, read by the core's `from_value`, or
/// JSON text, read by its `from_json`; `None` when absent.
fn document_option<T>(
    py: Python<'_>,
    name: &str,
    value: Option<&Bound<'_, PyAny>>,
    from_json: fn(&str) -> Result<T, meterwire::Error>,
    from_value: fn(&serde_json::Value) -> Result<T, meterwire::Error>,
) -> PyResult<Option<Arc<T>>> {
    let Some(value) = value.filter(|v| !v.is_none()) else {
        return Ok(None);
    };
    let parsed = if let Ok(text) = value.cast::<PyString>() {
        from_json(&text.to_cow()?)
    } else if value.is_instance_of::<PyDict>() {
        from_value(&from_py(value)?)
    } else {
        return Err(PyTypeError::new_err(format!(
            "{name} must be a dict or a JSON str, not {}",
            type_name(value)
        )));
    };
    parsed
        .map(|p| Some(Arc::new(p)))
        .map_err(|e| to_py_err(py, &e))
}

/// The `keys` option (design §4): `None`; one key for every meter as hex text (or
/// `ID=HEX,ID=HEX`) or as bytes (16 for AES-128, 8 for DES); or a dict meter id → hex key. Parsed by the core, whose
/// errors never repeat key bytes.
fn keys_of(py: Python<'_>, keys: Option<&Bound<'_, PyAny>>) -> PyResult<Keys> {
    let core = |r: Result<Keys, meterwire::Error>| r.map_err(|e| to_py_err(py, &e));
    let Some(keys) = keys.filter(|k| !k.is_none()) else {
        return Ok(Keys::None);
    };
    if let Ok(text) = keys.cast::<PyString>() {
        return core(Options::parse_keys(&text.to_cow()?));
    }
    if let Ok(map) = keys.cast::<PyDict>() {
        let mut pairs = Vec::with_capacity(map.len());
        for (id, key) in map.iter() {
            match (id.cast::<PyString>(), key.cast::<PyString>()) {
                (Ok(id), Ok(key)) => {
                    pairs.push((id.to_cow()?.into_owned(), key.to_cow()?.into_owned()))
                }
                _ => {
                    return Err(PyTypeError::new_err(
                        "keys: a dict must map meter id (str) to a hex key (str)",
                    ))
                }
            }
        }
        return core(Keys::from_pairs(
            pairs.iter().map(|(id, key)| (id.as_str(), key.as_str())),
        ));
    }
    if let Ok(bytes) = keys.cast::<PyBytes>() {
        return core(Key::from_slice(bytes.as_bytes()).map(Keys::One));
    }
    if let Ok(bytes) = keys.cast::<PyByteArray>() {
        return core(Key::from_slice(&bytes.to_vec()).map(Keys::One));
    }
    Err(PyTypeError::new_err(format!(
        "keys must be None, a hex str, 16 (or 8) bytes or a dict meter id -> hex key, not {}",
        type_name(keys)
    )))
}

/// Decodes one `data` argument.
fn decode_input(input: &Input<'_>, opts: &Options) -> Result<Decoded, meterwire::Error> {
    meterwire::decode(&input.bytes()?, opts)
}

/// Decodes one frame into the model as a dict (design §2).
#[pyfunction]
#[pyo3(
    signature = (
        data, *, protocol = Cow::Borrowed("auto"), keys = None, explain = false, request = None,
        modbus_profile = None, mqtt_version = None, payload_cipher = None,
        tlv_schema = None, redact_key = None
    ),
    text_signature = "(data, *, protocol='auto', keys=None, explain=False, request=None, modbus_profile=None, mqtt_version=None, payload_cipher=None, tlv_schema=None, redact_key=None)"
)]
fn decode<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    protocol: Cow<'_, str>,
    keys: Option<&Bound<'py, PyAny>>,
    explain: bool,
    request: Option<&Bound<'py, PyAny>>,
    modbus_profile: Option<&Bound<'py, PyAny>>,
    mqtt_version: Option<Cow<'_, str>>,
    payload_cipher: Option<Cow<'_, str>>,
    tlv_schema: Option<&Bound<'py, PyAny>>,
    redact_key: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let args = OptionArgs {
        request,
        profile: modbus_profile,
        mqtt_version: mqtt_version.as_deref(),
        payload_cipher: payload_cipher.as_deref(),
        tlv_schema,
        redact_key,
    };
    let opts = options(py, &protocol, keys, explain, args)?;
    let decoded = decode_input(&input(data)?, &opts).map_err(|e| to_py_err(py, &e))?;
    to_py(py, &decoded)
}

/// Decodes one frame into the core's JSON text, byte for byte what every runtime returns.
#[pyfunction]
#[pyo3(
    signature = (
        data, *, protocol = Cow::Borrowed("auto"), keys = None, explain = false, request = None,
        modbus_profile = None, mqtt_version = None, payload_cipher = None,
        tlv_schema = None, redact_key = None
    ),
    text_signature = "(data, *, protocol='auto', keys=None, explain=False, request=None, modbus_profile=None, mqtt_version=None, payload_cipher=None, tlv_schema=None, redact_key=None)"
)]
fn decode_json(
    py: Python<'_>,
    data: &Bound<'_, PyAny>,
    protocol: Cow<'_, str>,
    keys: Option<&Bound<'_, PyAny>>,
    explain: bool,
    request: Option<&Bound<'_, PyAny>>,
    modbus_profile: Option<&Bound<'_, PyAny>>,
    mqtt_version: Option<Cow<'_, str>>,
    payload_cipher: Option<Cow<'_, str>>,
    tlv_schema: Option<&Bound<'_, PyAny>>,
    redact_key: Option<&Bound<'_, PyAny>>,
) -> PyResult<String> {
    let args = OptionArgs {
        request,
        profile: modbus_profile,
        mqtt_version: mqtt_version.as_deref(),
        payload_cipher: payload_cipher.as_deref(),
        tlv_schema,
        redact_key,
    };
    let opts = options(py, &protocol, keys, explain, args)?;
    let input = input(data)?;
    input
        .bytes()
        .and_then(|bytes| meterwire::decode_json(&bytes, &opts))
        .map_err(|e| to_py_err(py, &e))
}

/// Keeps Python's cyclic garbage collector off while a batch of results is built, and turns
/// it back on (if it was on) when dropped, also on error.
///
/// Building thousands of dicts and lists would otherwise run the collector every 700 new
/// containers, and its full collections rescan every result built so far: more than half the
/// time of a large `decode_many`. The results hold no reference cycles and no Python code runs
/// while they are built (the GIL is held throughout), so pausing it changes nothing else.
struct GcPause<'py> {
    gc: Option<Bound<'py, PyModule>>,
}

impl<'py> GcPause<'py> {
    fn new(py: Python<'py>) -> Self {
        let gc = py.import(intern!(py, "gc")).ok().filter(|gc| {
            gc.call_method0(intern!(py, "isenabled"))
                .and_then(|on| on.is_truthy())
                .unwrap_or(false)
                && gc.call_method0(intern!(py, "disable")).is_ok()
        });
        GcPause { gc }
    }
}

impl Drop for GcPause<'_> {
    fn drop(&mut self) {
        if let Some(gc) = &self.gc {
            // Cannot fail for the gc module; there is nothing to do if it did.
            let _ = gc.call_method0(intern!(gc.py(), "enable"));
        }
    }
}

/// What `decode_many` does with a frame that does not decode.
#[derive(Clone, Copy, PartialEq, Eq)]
enum OnError {
    Raise,
    Skip,
    Collect,
}

/// Decodes many frames with the GIL released while decoding.
///
/// The inputs are copied while holding the GIL, decoded in `py.detach`, then converted.
/// `on_error`: `"raise"` raises the first frame's error (with `.index` set), `"skip"` leaves
/// failing frames out, `"collect"` puts the error dict `{"error": {...}}` in their place.
#[pyfunction]
#[pyo3(
    signature = (
        frames, *, protocol = Cow::Borrowed("auto"), keys = None, on_error = Cow::Borrowed("raise"),
        request = None, modbus_profile = None, mqtt_version = None, payload_cipher = None,
        tlv_schema = None, redact_key = None
    ),
    text_signature = "(frames, *, protocol='auto', keys=None, on_error='raise', request=None, modbus_profile=None, mqtt_version=None, payload_cipher=None, tlv_schema=None, redact_key=None)"
)]
fn decode_many<'py>(
    py: Python<'py>,
    frames: &Bound<'py, PyAny>,
    protocol: Cow<'_, str>,
    keys: Option<&Bound<'py, PyAny>>,
    on_error: Cow<'_, str>,
    request: Option<&Bound<'py, PyAny>>,
    modbus_profile: Option<&Bound<'py, PyAny>>,
    mqtt_version: Option<Cow<'_, str>>,
    payload_cipher: Option<Cow<'_, str>>,
    tlv_schema: Option<&Bound<'py, PyAny>>,
    redact_key: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyList>> {
    let mode = match on_error.as_ref() {
        "raise" => OnError::Raise,
        "skip" => OnError::Skip,
        "collect" => OnError::Collect,
        other => {
            return Err(PyValueError::new_err(format!(
                "on_error must be \"raise\", \"skip\" or \"collect\", not {other:?}"
            )))
        }
    };
    let args = OptionArgs {
        request,
        profile: modbus_profile,
        mqtt_version: mqtt_version.as_deref(),
        payload_cipher: payload_cipher.as_deref(),
        tlv_schema,
        redact_key,
    };
    let opts = options(py, &protocol, keys, false, args)?;
    let inputs = frames_of(frames)?
        .map(|item| input(&item?).map(Input::into_owned))
        .collect::<PyResult<Vec<_>>>()?;
    // One session for the batch, as the core's `decode_many`: compact wM-Bus frames decode
    // when an earlier frame of the batch taught their format signature.
    let results: Vec<Result<Decoded, meterwire::Error>> = py.detach(|| {
        let mut session = Session::new();
        inputs
            .iter()
            .map(|i| i.bytes().and_then(|b| session.decode(&b, &opts)))
            .collect()
    });
    let conv = Converter::new(py);
    let _pause = GcPause::new(py);
    let mut out = Vec::with_capacity(results.len());
    for (index, result) in results.iter().enumerate() {
        match (result, mode) {
            (Ok(decoded), _) => out.push(conv.convert(decoded)?),
            (Err(e), OnError::Raise) => {
                let err = to_py_err(py, e);
                err.value(py).setattr(intern!(py, "index"), index)?;
                return Err(err);
            }
            (Err(_), OnError::Skip) => {}
            (Err(e), OnError::Collect) => out.push(error_dict(py, e)?.into_any()),
        }
    }
    PyList::new(py, out)
}

/// Cuts a byte stream (a serial capture) into frames and garbage; every input byte is in
/// exactly one item: `{"start", "end", "frame": <model>}`, `{"start", "end", "error":
/// {"kind", "offset", "message"}}` (offsets in the stream) or `{"start", "end", "garbage":
/// "<hex>", "reason", "protocol"?, "kind"?}`.
#[pyfunction]
#[pyo3(
    signature = (
        data, *, protocol = Cow::Borrowed("auto"), keys = None, request = None,
        modbus_profile = None, mqtt_version = None, payload_cipher = None,
        tlv_schema = None, redact_key = None
    ),
    text_signature = "(data, *, protocol='auto', keys=None, request=None, modbus_profile=None, mqtt_version=None, payload_cipher=None, tlv_schema=None, redact_key=None)"
)]
fn decode_stream<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    protocol: Cow<'_, str>,
    keys: Option<&Bound<'py, PyAny>>,
    request: Option<&Bound<'py, PyAny>>,
    modbus_profile: Option<&Bound<'py, PyAny>>,
    mqtt_version: Option<Cow<'_, str>>,
    payload_cipher: Option<Cow<'_, str>>,
    tlv_schema: Option<&Bound<'py, PyAny>>,
    redact_key: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyList>> {
    let args = OptionArgs {
        request,
        profile: modbus_profile,
        mqtt_version: mqtt_version.as_deref(),
        payload_cipher: payload_cipher.as_deref(),
        tlv_schema,
        redact_key,
    };
    let opts = options(py, &protocol, keys, false, args)?;
    let input = input(data)?;
    let bytes = input.bytes().map_err(|e| to_py_err(py, &e))?;
    let items = py.detach(|| meterwire::decode_stream(&bytes, &opts));
    stream_items(py, items)
}

/// Stream items as a list of dicts (the shape of `decode_stream`).
fn stream_items(
    py: Python<'_>,
    items: impl IntoIterator<Item = StreamItem>,
) -> PyResult<Bound<'_, PyList>> {
    let conv = Converter::new(py);
    let _pause = GcPause::new(py);
    let mut out = Vec::new();
    for item in items {
        let dict = PyDict::new(py);
        let range = item.range();
        dict.set_item(intern!(py, "start"), range.start)?;
        dict.set_item(intern!(py, "end"), range.end)?;
        match &item {
            StreamItem::Frame {
                result: Ok(decoded),
                ..
            } => dict.set_item(intern!(py, "frame"), conv.convert(decoded.as_ref())?)?,
            StreamItem::Frame { result: Err(e), .. } => {
                dict.set_item(intern!(py, "error"), error_body(py, e)?)?
            }
            StreamItem::Garbage { bytes, reason, .. } => {
                dict.set_item(intern!(py, "garbage"), meterwire::hex::to_hex(bytes))?;
                dict.set_item(intern!(py, "reason"), reason.as_str())?;
                if let Some(protocol) = reason.protocol() {
                    dict.set_item(intern!(py, "protocol"), protocol.as_str())?;
                }
                if let meterwire::GarbageReason::InvalidFrame { kind, .. } = reason {
                    dict.set_item(intern!(py, "kind"), kind.as_str())?;
                }
            }
        }
        out.push(dict);
    }
    PyList::new(py, out)
}

/// A stateful stream decoder for serial and TCP readers and radio receivers: `feed` bytes as
/// they arrive and get the items they complete; bytes that may begin a frame wait for more
/// (`needed`) instead of becoming garbage. It is also the session of one source: compact
/// wM-Bus frames decode after their full frame, keys apply per meter, and an `E5` is an
/// acknowledgement only after an M-Bus request.
#[pyclass(name = "Decoder", module = "meterwire._meterwire")]
struct PyDecoder {
    inner: meterwire::Decoder,
}

#[pymethods]
impl PyDecoder {
    #[new]
    #[pyo3(
        signature = (
            *, protocol = Cow::Borrowed("auto"), keys = None, explain = false, request = None,
            modbus_profile = None, mqtt_version = None, payload_cipher = None, tlv_schema = None, redact_key = None
        ),
        text_signature = "(*, protocol='auto', keys=None, explain=False, request=None, modbus_profile=None, mqtt_version=None, payload_cipher=None, tlv_schema=None, redact_key=None)"
    )]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        protocol: Cow<'_, str>,
        keys: Option<&Bound<'_, PyAny>>,
        explain: bool,
        request: Option<&Bound<'_, PyAny>>,
        modbus_profile: Option<&Bound<'_, PyAny>>,
        mqtt_version: Option<Cow<'_, str>>,
        payload_cipher: Option<Cow<'_, str>>,
        tlv_schema: Option<&Bound<'_, PyAny>>,
        redact_key: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let args = OptionArgs {
            request,
            profile: modbus_profile,
            mqtt_version: mqtt_version.as_deref(),
            payload_cipher: payload_cipher.as_deref(),
            tlv_schema,
            redact_key,
        };
        let opts = options(py, &protocol, keys, explain, args)?;
        Ok(PyDecoder {
            inner: meterwire::Decoder::new(opts),
        })
    }

    /// Adds the next bytes of the stream (bytes-like or hex text); returns the items they
    /// completed, in stream order.
    fn feed<'py>(
        &mut self,
        py: Python<'py>,
        data: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyList>> {
        let input = input(data)?;
        let bytes = input.bytes().map_err(|e| to_py_err(py, &e))?;
        self.inner.feed(&bytes);
        stream_items(py, self.inner.take_items())
    }

    /// Ends the stream: returns the last items (bytes still waiting become frames if whole,
    /// else garbage). Feeding again continues at the next offset with the same session.
    fn finish<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        self.inner.finish();
        stream_items(py, self.inner.take_items())
    }

    /// Decodes one frame that is already cut (a line of a log) in this decoder's session,
    /// like `decode`; raises `MeterwireError` when it does not decode.
    fn decode<'py>(
        &mut self,
        py: Python<'py>,
        data: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let input = input(data)?;
        let bytes = input.bytes().map_err(|e| to_py_err(py, &e))?;
        let decoded = self.inner.decode(&bytes).map_err(|e| to_py_err(py, &e))?;
        Converter::new(py).convert(&decoded).map(Bound::into_any)
    }

    /// `decode`'s result as the core's JSON text, in this decoder's session.
    fn decode_json(&mut self, py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<String> {
        let input = input(data)?;
        let bytes = input.bytes().map_err(|e| to_py_err(py, &e))?;
        let decoded = self.inner.decode(&bytes).map_err(|e| to_py_err(py, &e))?;
        Ok(meterwire::to_json(&decoded))
    }

    /// Bytes the frame that may begin at the current position still needs before the decoder
    /// can decide (a lower bound), or `None` when nothing waits on a frame.
    #[getter]
    fn needed(&self) -> Option<usize> {
        self.inner.needed()
    }

    /// Bytes fed but not yet in a returned item.
    #[getter]
    fn pending(&self) -> usize {
        self.inner.pending()
    }

    /// The stream offset of the next byte to be fed.
    #[getter]
    fn position(&self) -> usize {
        self.inner.stream_len()
    }
}

/// Encodes a decoded model (a dict as `decode` returns it) back to its frame's bytes:
/// `encode(decode(x)) == x`. Without keys the dict is read by the core's own JSON reader
/// (`encode_json`), so a dict that is not a model fails the same way in every runtime; with
/// `keys`, wM-Bus payloads of security mode 5/7 are encrypted (`encode_with`).
#[pyfunction]
#[pyo3(signature = (obj, *, keys = None), text_signature = "(obj, *, keys=None)")]
fn encode<'py>(
    py: Python<'py>,
    obj: &Bound<'py, PyAny>,
    keys: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyBytes>> {
    let json = model_json(obj)?;
    let keys = keys_of(py, keys)?;
    let bytes = py
        .detach(|| {
            if keys.is_empty() {
                meterwire::encode_json(&json.to_string())
            } else {
                let opts = Options::default().with_keys(keys);
                Frame::Model(json)
                    .decoded(&opts, None)
                    .and_then(|d| meterwire::encode_with(&d, &opts))
            }
        })
        .map_err(|e| to_py_err(py, &e))?;
    Ok(PyBytes::new(py, &bytes))
}

/// A decoded model dict as JSON; anything but a dict is a `TypeError`.
fn model_json(obj: &Bound<'_, PyAny>) -> PyResult<serde_json::Value> {
    if !obj.is_instance_of::<PyDict>() {
        return Err(PyTypeError::new_err(format!(
            "expected a decoded frame (dict), not {}",
            type_name(obj)
        )));
    }
    from_py(obj)
}

/// A frame given to `to_reading` / `readings`: a decoded model (dict) or frame data.
enum Frame {
    Model(serde_json::Value),
    Data(Input<'static>),
}

impl Frame {
    fn read(obj: &Bound<'_, PyAny>) -> PyResult<Frame> {
        if obj.is_instance_of::<PyDict>() {
            Ok(Frame::Model(from_py(obj)?))
        } else {
            Ok(Frame::Data(input(obj)?.into_owned()))
        }
    }

    /// The decoded frame: data is decoded with `opts` (in `session` when given), a dict is
    /// read as the model with the error `encode_json` gives for JSON that is not a model.
    fn decoded(
        self,
        opts: &Options,
        session: Option<&mut Session>,
    ) -> Result<Decoded, meterwire::Error> {
        match self {
            Frame::Data(input) => match session {
                Some(session) => session.decode(&input.bytes()?, opts),
                None => decode_input(&input, opts),
            },
            Frame::Model(json) => {
                let mut model: Decoded = serde_json::from_value(json).map_err(|_| {
                    meterwire::Error::new(
                        meterwire::ErrorKind::Malformed,
                        meterwire::Layer::Input,
                        0,
                        meterwire::Detail::Text("not a meterwire JSON model"),
                    )
                })?;
                // A model given as a dict is redacted like a decoded frame.
                if let Some(key) = &opts.redact {
                    meterwire::redact(&mut model, key);
                }
                Ok(model)
            }
        }
    }
}

/// The flat reading of one frame (design §2.1): `decoded` is a dict from `decode`, or frame
/// data (bytes-like or hex) decoded first with `protocol` and `keys`. `timestamp` is the
/// reception time to add.
#[pyfunction]
#[pyo3(
    signature = (
        decoded, *, timestamp = None, protocol = Cow::Borrowed("auto"), keys = None,
        request = None, modbus_profile = None, mqtt_version = None, payload_cipher = None,
        tlv_schema = None, redact_key = None
    ),
    text_signature = "(decoded, *, timestamp=None, protocol='auto', keys=None, request=None, modbus_profile=None, mqtt_version=None, payload_cipher=None, tlv_schema=None, redact_key=None)"
)]
fn to_reading<'py>(
    py: Python<'py>,
    decoded: &Bound<'py, PyAny>,
    timestamp: Option<Cow<'_, str>>,
    protocol: Cow<'_, str>,
    keys: Option<&Bound<'py, PyAny>>,
    request: Option<&Bound<'py, PyAny>>,
    modbus_profile: Option<&Bound<'py, PyAny>>,
    mqtt_version: Option<Cow<'_, str>>,
    payload_cipher: Option<Cow<'_, str>>,
    tlv_schema: Option<&Bound<'py, PyAny>>,
    redact_key: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let args = OptionArgs {
        request,
        profile: modbus_profile,
        mqtt_version: mqtt_version.as_deref(),
        payload_cipher: payload_cipher.as_deref(),
        tlv_schema,
        redact_key,
    };
    let opts = options(py, &protocol, keys, false, args)?;
    let frame = Frame::read(decoded)?
        .decoded(&opts, None)
        .map_err(|e| to_py_err(py, &e))?;
    to_py(py, &meterwire::to_reading(&frame, timestamp.as_deref()))
}

/// Many frames as one table, one row per record: `{column: [values...]}`, the shape
/// `pandas.DataFrame` takes. Each frame is a dict from `decode` or frame data (decoded with
/// `protocol` and `keys`, in one session as `decode_many`); the first one that does not
/// decode raises its error with `.index` set. Decoding runs without the GIL.
#[pyfunction]
#[pyo3(
    signature = (
        frames, *, protocol = Cow::Borrowed("auto"), keys = None, request = None,
        modbus_profile = None, mqtt_version = None, payload_cipher = None,
        tlv_schema = None, redact_key = None
    ),
    text_signature = "(frames, *, protocol='auto', keys=None, request=None, modbus_profile=None, mqtt_version=None, payload_cipher=None, tlv_schema=None, redact_key=None)"
)]
fn readings<'py>(
    py: Python<'py>,
    frames: &Bound<'py, PyAny>,
    protocol: Cow<'_, str>,
    keys: Option<&Bound<'py, PyAny>>,
    request: Option<&Bound<'py, PyAny>>,
    modbus_profile: Option<&Bound<'py, PyAny>>,
    mqtt_version: Option<Cow<'_, str>>,
    payload_cipher: Option<Cow<'_, str>>,
    tlv_schema: Option<&Bound<'py, PyAny>>,
    redact_key: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let args = OptionArgs {
        request,
        profile: modbus_profile,
        mqtt_version: mqtt_version.as_deref(),
        payload_cipher: payload_cipher.as_deref(),
        tlv_schema,
        redact_key,
    };
    let opts = options(py, &protocol, keys, false, args)?;
    let items = frames_of(frames)?
        .map(|item| Frame::read(&item?))
        .collect::<PyResult<Vec<_>>>()?;
    let columns = py.detach(|| {
        let mut session = Session::new();
        let decoded = items
            .into_iter()
            .enumerate()
            .map(|(i, f)| f.decoded(&opts, Some(&mut session)).map_err(|e| (i, e)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(meterwire::readings(&decoded))
    });
    match columns {
        Ok(columns) => {
            let _pause = GcPause::new(py);
            to_py(py, &columns)
        }
        Err((index, e)) => {
            let err = to_py_err(py, &e);
            err.value(py).setattr(intern!(py, "index"), index)?;
            Err(err)
        }
    }
}

/// The items of a `frames` argument: any iterable except a single frame (str, bytes).
fn frames_of<'py>(frames: &Bound<'py, PyAny>) -> PyResult<Bound<'py, pyo3::types::PyIterator>> {
    if frames.is_instance_of::<PyString>()
        || frames.is_instance_of::<PyBytes>()
        || frames.is_instance_of::<PyByteArray>()
        || frames.is_instance_of::<PyDict>()
    {
        return Err(PyTypeError::new_err(
            "frames must be an iterable of frames, not a single frame",
        ));
    }
    frames.try_iter().map_err(|_| {
        PyTypeError::new_err(format!(
            "frames must be an iterable of frames, not {}",
            type_name(frames)
        ))
    })
}

/// The protocols this build decodes (the core's registry, `meterwire::protocols`): a list of
/// `{"name", "title", "encode", "detect"}` dicts in the model's order, so front ends need no
/// list of their own.
#[pyfunction]
fn protocols(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    let list: Vec<meterwire::ProtocolInfo> = meterwire::protocols().collect();
    to_py(py, &list)
}

/// Builds a Modbus master's request from keyword arguments (the core's
/// `modbus::request::RequestSpec`): `function` (the model's `function_name`: `read_coils`,
/// `read_discrete_inputs`, `read_holding_registers`, `read_input_registers`,
/// `write_single_coil`, `write_single_register`, `write_multiple_coils`,
/// `write_multiple_registers`, `read_device_identification`), `unit`, `framing` (`"rtu"`
/// default, `"tcp"`), `transaction`, and the function's `start`/`count`, `address`/`value`/
/// `on`, `values`, `coils`, `code`/`object_id`. A missing or out-of-range parameter raises
/// `FrameError` (kind `malformed`).
#[pyfunction]
#[pyo3(signature = (**spec), text_signature = "(**spec)")]
fn modbus_request<'py>(
    py: Python<'py>,
    spec: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyBytes>> {
    build_from_keywords(
        py,
        spec,
        meterwire::modbus::request::RequestSpec::build_json,
    )
}

/// Builds an IEC 62056-21 message from keyword arguments (the core's
/// `iec62056_21::request::MessageSpec`): `message` (`sign_on`, `option_select`, `ack`,
/// `nak`, `identification`, `password`, `read`, `write`, `execute`, `break`, `error`,
/// `readout`), and its `address`, `value`, `baud`, `mode`, `manufacturer`, `enhanced_id`,
/// `identification`, `type` (password: `"0"`, `"1"`, `"2"`), `data_sets`
/// (`[{"address", "value", "unit"?}]`), `parity` (7E1 parity bits). A missing or invalid
/// parameter raises `FrameError` (kind `malformed`).
#[pyfunction]
#[pyo3(signature = (**spec), text_signature = "(**spec)")]
fn iec62056_21_message<'py>(
    py: Python<'py>,
    spec: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyBytes>> {
    build_from_keywords(
        py,
        spec,
        meterwire::iec62056_21::request::MessageSpec::build_json,
    )
}

/// A frame built by one of the core's spec builders from keyword arguments given as a JSON
/// object (the builder's errors are the core's, raised as `MeterwireError`).
fn build_from_keywords<'py>(
    py: Python<'py>,
    spec: Option<&Bound<'py, PyDict>>,
    build: fn(&str) -> Result<Vec<u8>, meterwire::Error>,
) -> PyResult<Bound<'py, PyBytes>> {
    let json = match spec {
        Some(d) => from_py(d.as_any())?,
        None => serde_json::Value::Object(serde_json::Map::new()),
    };
    let bytes = build(&json.to_string()).map_err(|e| to_py_err(py, &e))?;
    Ok(PyBytes::new(py, &bytes))
}

/// The extension module.
#[pymodule]
fn _meterwire(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add_function(wrap_pyfunction!(decode, m)?)?;
    m.add_function(wrap_pyfunction!(decode_json, m)?)?;
    m.add_function(wrap_pyfunction!(decode_many, m)?)?;
    m.add_function(wrap_pyfunction!(decode_stream, m)?)?;
    m.add_class::<PyDecoder>()?;
    m.add_function(wrap_pyfunction!(encode, m)?)?;
    m.add_function(wrap_pyfunction!(to_reading, m)?)?;
    m.add_function(wrap_pyfunction!(readings, m)?)?;
    #[cfg(feature = "arrow")]
    {
        m.add_function(wrap_pyfunction!(arrow::readings_arrow, m)?)?;
        m.add_function(wrap_pyfunction!(arrow::records_arrow, m)?)?;
    }
    m.add_function(wrap_pyfunction!(protocols, m)?)?;
    m.add_function(wrap_pyfunction!(modbus_request, m)?)?;
    m.add_function(wrap_pyfunction!(iec62056_21_message, m)?)?;
    m.add("MeterwireError", py.get_type::<MeterwireError>())?;
    m.add("FrameError", py.get_type::<FrameError>())?;
    m.add("ChecksumError", py.get_type::<ChecksumError>())?;
    m.add("SecurityError", py.get_type::<SecurityError>())?;
    m.add("UnsupportedError", py.get_type::<UnsupportedError>())?;
    m.add("SCHEMA_VERSION", meterwire::SCHEMA_VERSION)?;
    let kinds = meterwire::ErrorKind::ALL.map(|k| k.as_str());
    m.add("ERROR_KINDS", PyTuple::new(py, kinds)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
