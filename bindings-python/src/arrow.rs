//! Arrow tables of decoded frames (`readings_arrow`, `records_arrow`), handed to Python
//! through the Arrow PyCapsule interface (`pyo3-arrow`'s `Table`, whose
//! `__arrow_c_stream__` `pyarrow.table()`, `polars.DataFrame()`, DuckDB and pandas read
//! without a copy). Type conversion only: the core decodes (`decode`, `to_reading`,
//! `readings`); this module lays its values out as Arrow columns.
//!
//! Inputs: a Python iterable of frames (bytes-like or hex `str`), an Arrow array or chunked
//! array of binary / large binary / binary view (raw frames) or string / large string /
//! string view (hex) values, or a numpy array of fixed-width bytes (dtype `S`).

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::builder::{
    Float64Builder, ListBuilder, StringBuilder, TimestampMicrosecondBuilder, UInt64Builder,
};
use arrow_array::cast::AsArray;
use arrow_array::types::{
    Int64Type, TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType,
};
use arrow_array::{Array, ArrayRef, RecordBatch, StructArray};
use arrow_schema::{DataType, Field, Fields, Schema, TimeUnit};
use meterwire::{Decoded, Options, Reading, ReadingValue, Session};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use pyo3_arrow::{PyArray, PyChunkedArray, PyTable};

use crate::convert::type_name;
use crate::errors::to_py_err;
use crate::{frames_of, input, keys_of, Input};

/// The frames of a call, borrowed from Arrow buffers where they came as Arrow.
enum Frames {
    /// Items of a Python iterable, copied while holding the GIL.
    Items(Vec<Input<'static>>),
    /// Arrow chunks of a binary or string (hex) type.
    Arrow(Vec<ArrayRef>),
    /// A numpy `S` array: its bytes and item size (values shorter than the item size are
    /// padded with NUL bytes, which numpy drops when reading a value; so does this).
    Fixed { bytes: Vec<u8>, width: usize },
}

/// One frame: its bytes, or the error of its hex text; `None` for a null Arrow value.
type FrameBytes<'a> = Option<Result<Cow<'a, [u8]>, meterwire::Error>>;

impl Frames {
    /// Reads the `frames` argument.
    fn read(frames: &Bound<'_, PyAny>) -> PyResult<Frames> {
        let py = frames.py();
        if frames.hasattr(intern!(py, "__arrow_c_stream__"))? {
            let chunked: PyChunkedArray = frames.extract()?;
            let chunks = chunked.chunks().to_vec();
            return Self::arrow(chunks, chunked.field().data_type());
        }
        if frames.hasattr(intern!(py, "__arrow_c_array__"))? {
            let array: PyArray = frames.extract()?;
            let data_type = array.field().data_type().clone();
            return Self::arrow(vec![array.array().clone()], &data_type);
        }
        if let Ok(dtype) = frames.getattr(intern!(py, "dtype")) {
            let kind: String = dtype.getattr(intern!(py, "kind"))?.extract()?;
            if kind != "S" {
                return Err(PyTypeError::new_err(format!(
                    "a numpy array of frames must have a fixed-width bytes dtype (S), not {}",
                    dtype.str()?
                )));
            }
            let width: usize = dtype.getattr(intern!(py, "itemsize"))?.extract()?;
            let copy = frames.call_method0(intern!(py, "tobytes"))?;
            let bytes = copy.cast::<PyBytes>()?.as_bytes().to_vec();
            return Ok(Frames::Fixed { bytes, width });
        }
        let items = frames_of(frames)?
            .map(|item| input(&item?).map(Input::into_owned))
            .collect::<PyResult<Vec<_>>>()?;
        Ok(Frames::Items(items))
    }

    fn arrow(chunks: Vec<ArrayRef>, data_type: &DataType) -> PyResult<Frames> {
        match data_type {
            DataType::Binary
            | DataType::LargeBinary
            | DataType::BinaryView
            | DataType::Utf8
            | DataType::LargeUtf8
            | DataType::Utf8View => Ok(Frames::Arrow(chunks)),
            other => Err(PyTypeError::new_err(format!(
                "an Arrow array of frames must be binary, large_binary, binary_view (raw bytes) \
                 or string, large_string, string_view (hex), not {other}"
            ))),
        }
    }

    /// Calls `each(index, frame)` for every frame in order.
    fn for_each(&self, mut each: impl FnMut(usize, FrameBytes<'_>)) {
        let hex = |t: &str| Some(meterwire::parse_hex(t).map(Cow::Owned));
        match self {
            Frames::Items(items) => {
                for (i, item) in items.iter().enumerate() {
                    each(i, Some(item.bytes()));
                }
            }
            Frames::Fixed { bytes, width } => {
                for (i, value) in bytes.chunks(*width.max(&1)).enumerate() {
                    let end = value.iter().rposition(|&b| b != 0).map_or(0, |p| p + 1);
                    each(i, Some(Ok(Cow::Borrowed(&value[..end]))));
                }
            }
            Frames::Arrow(chunks) => {
                let mut i = 0;
                for chunk in chunks {
                    let chunk = chunk.as_ref();
                    macro_rules! walk {
                        ($values:expr, $read:expr) => {
                            for value in $values {
                                each(i, value.and_then($read));
                                i += 1;
                            }
                        };
                    }
                    match chunk.data_type() {
                        DataType::Binary => walk!(chunk.as_binary::<i32>().iter(), |b: &[u8]| {
                            Some(Ok(Cow::Borrowed(b)))
                        }),
                        DataType::LargeBinary => {
                            walk!(chunk.as_binary::<i64>().iter(), |b: &[u8]| {
                                Some(Ok(Cow::Borrowed(b)))
                            })
                        }
                        DataType::BinaryView => {
                            walk!(chunk.as_binary_view().iter(), |b: &[u8]| {
                                Some(Ok(Cow::Borrowed(b)))
                            })
                        }
                        DataType::Utf8 => walk!(chunk.as_string::<i32>().iter(), hex),
                        DataType::LargeUtf8 => walk!(chunk.as_string::<i64>().iter(), hex),
                        DataType::Utf8View => walk!(chunk.as_string_view().iter(), hex),
                        _ => {}
                    }
                }
            }
        }
    }
}

/// What to do with a frame that does not decode.
#[derive(Clone, Copy, PartialEq, Eq)]
enum OnError {
    Skip,
    Collect,
}

fn on_error_of(on_error: &str) -> PyResult<OnError> {
    match on_error {
        "skip" => Ok(OnError::Skip),
        "collect" => Ok(OnError::Collect),
        other => Err(PyValueError::new_err(format!(
            "on_error must be \"skip\" or \"collect\", not {other:?}"
        ))),
    }
}

/// The core's options for `protocol` and `keys`.
fn options_of(
    py: Python<'_>,
    protocol: Option<&str>,
    keys: Option<&Bound<'_, PyAny>>,
) -> PyResult<Options> {
    let protocol =
        Options::parse_protocol(protocol.unwrap_or("auto")).map_err(|e| to_py_err(py, &e))?;
    Ok(Options::default()
        .with_protocol(protocol)
        .with_keys(keys_of(py, keys)?))
}

/// Decodes every frame in one session (as `decode_many`), calling `each` with the frame's
/// index and its result; a null Arrow value is the error of an empty frame.
fn decode_all(
    frames: &Frames,
    opts: &Options,
    mut each: impl FnMut(usize, Result<Decoded, meterwire::Error>),
) {
    let mut session = Session::new();
    frames.for_each(|i, bytes| {
        let result = match bytes {
            Some(Ok(b)) => session.decode(&b, opts),
            Some(Err(e)) => Err(e),
            None => session.decode(&[], opts),
        };
        each(i, result);
    });
}

/// The `error` column of `on_error="collect"`: `struct<kind, offset, message>`.
#[derive(Default)]
struct ErrorColumn {
    kind: StringBuilder,
    offset: UInt64Builder,
    message: StringBuilder,
    valid: Vec<bool>,
}

impl ErrorColumn {
    fn push(&mut self, error: Option<&meterwire::Error>) {
        match error {
            Some(e) => {
                self.kind.append_value(e.kind().as_str());
                self.offset.append_value(e.offset() as u64);
                self.message.append_value(e.to_string());
            }
            None => {
                self.kind.append_null();
                self.offset.append_null();
                self.message.append_null();
            }
        }
        self.valid.push(error.is_some());
    }

    fn finish(mut self) -> (Field, ArrayRef) {
        let fields = Fields::from(vec![
            Field::new("kind", DataType::Utf8, true),
            Field::new("offset", DataType::UInt64, true),
            Field::new("message", DataType::Utf8, true),
        ]);
        let array = StructArray::new(
            fields.clone(),
            vec![
                Arc::new(self.kind.finish()) as ArrayRef,
                Arc::new(self.offset.finish()),
                Arc::new(self.message.finish()),
            ],
            Some(self.valid.into()),
        );
        (
            Field::new("error", DataType::Struct(fields), true),
            Arc::new(array),
        )
    }
}

/// One column of the readings table, by the kind of its values.
enum ValueColumn {
    /// A number: float64 beside its exact decimal text (`<key>_exact`).
    Number(Float64Builder, StringBuilder),
    /// Text (ids, dates).
    Text(StringBuilder),
}

/// The key columns every readings table starts with, in order (the flat reading's identity).
const LEADING: [&str; 4] = ["protocol", "id", "manufacturer", "media"];

/// Builds the readings table: rows are `(frame index, reading or error)`.
fn readings_batch(
    rows: &[(usize, Result<Reading, meterwire::Error>)],
    timestamps: Option<&[Option<i64>]>,
    collect: bool,
) -> Result<RecordBatch, arrow_schema::ArrowError> {
    // Columns in order of first appearance, after the leading identity keys; a key that is
    // text in any row is a text column throughout (numbers as their exact decimal).
    let mut order: Vec<&str> = LEADING.to_vec();
    let mut is_text: HashMap<&str, bool> = LEADING.iter().map(|k| (*k, true)).collect();
    for (_, row) in rows {
        let Ok(reading) = row else { continue };
        for (key, value) in &reading.fields {
            if key == "status" || key == "timestamp" {
                continue;
            }
            let text = matches!(value, ReadingValue::Text(_));
            match is_text.get_mut(key.as_str()) {
                Some(t) => *t |= text,
                None => {
                    order.push(key);
                    is_text.insert(key, text);
                }
            }
        }
    }
    let index: HashMap<&str, usize> = order.iter().enumerate().map(|(i, k)| (*k, i)).collect();
    let n = rows.len();
    let mut columns: Vec<ValueColumn> = order
        .iter()
        .map(|k| {
            if is_text.get(k).copied().unwrap_or(true) {
                ValueColumn::Text(StringBuilder::with_capacity(n, n * 8))
            } else {
                ValueColumn::Number(
                    Float64Builder::with_capacity(n),
                    StringBuilder::with_capacity(n, n * 8),
                )
            }
        })
        .collect();
    let mut frame = UInt64Builder::with_capacity(n);
    let mut status = ListBuilder::new(StringBuilder::new());
    let mut errors = ErrorColumn::default();
    let mut filled = vec![false; order.len()];
    let mut exact = String::new();
    for (i, row) in rows {
        frame.append_value(*i as u64);
        filled.iter_mut().for_each(|f| *f = false);
        match row {
            Ok(reading) => {
                for (key, value) in &reading.fields {
                    if key == "status" {
                        if let ReadingValue::Text(s) = value {
                            for flag in s.split(' ').filter(|f| !f.is_empty() && *f != "OK") {
                                status.values().append_value(flag);
                            }
                        }
                        continue;
                    }
                    let Some(&c) = index.get(key.as_str()) else {
                        continue;
                    };
                    filled[c] = true;
                    match (&mut columns[c], value) {
                        (ValueColumn::Number(f, e), ReadingValue::Number(d)) => {
                            f.append_option(Some(d.to_f64()).filter(|v| v.is_finite()));
                            exact.clear();
                            use std::fmt::Write;
                            let _ = write!(exact, "{d}");
                            e.append_value(&exact);
                        }
                        (ValueColumn::Text(t), ReadingValue::Number(d)) => {
                            t.append_value(d.to_string())
                        }
                        (ValueColumn::Text(t), ReadingValue::Text(s)) => t.append_value(s),
                        (ValueColumn::Number(f, e), ReadingValue::Text(_)) => {
                            // Not reached: a key with text anywhere is a text column.
                            f.append_null();
                            e.append_null();
                        }
                    }
                }
                status.append(true);
                if collect {
                    errors.push(None);
                }
            }
            Err(e) => {
                status.append(false);
                errors.push(Some(e));
            }
        }
        for (column, done) in columns.iter_mut().zip(&filled) {
            if !done {
                match column {
                    ValueColumn::Number(f, e) => {
                        f.append_null();
                        e.append_null();
                    }
                    ValueColumn::Text(t) => t.append_null(),
                }
            }
        }
    }
    let mut fields = vec![Field::new("frame", DataType::UInt64, false)];
    let mut arrays: Vec<ArrayRef> = vec![Arc::new(frame.finish())];
    for (key, column) in order.iter().zip(columns) {
        match column {
            ValueColumn::Number(mut f, mut e) => {
                fields.push(Field::new(*key, DataType::Float64, true));
                arrays.push(Arc::new(f.finish()));
                fields.push(Field::new(format!("{key}_exact"), DataType::Utf8, true));
                arrays.push(Arc::new(e.finish()));
            }
            ValueColumn::Text(mut t) => {
                fields.push(Field::new(*key, DataType::Utf8, true));
                arrays.push(Arc::new(t.finish()));
            }
        }
    }
    let status = status.finish();
    fields.push(Field::new("status", status.data_type().clone(), true));
    arrays.push(Arc::new(status));
    if let Some(times) = timestamps {
        let mut ts = TimestampMicrosecondBuilder::with_capacity(n).with_timezone("UTC");
        for (i, _) in rows {
            ts.append_option(times.get(*i).copied().flatten());
        }
        let ts = ts.finish();
        fields.push(Field::new("timestamp", ts.data_type().clone(), true));
        arrays.push(Arc::new(ts));
    }
    if collect {
        let (field, array) = errors.finish();
        fields.push(field);
        arrays.push(array);
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
}

/// The `timestamps` argument as microseconds since the epoch (UTC), one per frame: an Arrow
/// timestamp or int64 array, or a Python sequence of ints (microseconds) and `None`s (the
/// Python package turns `datetime`s into microseconds before calling).
fn timestamps_of(timestamps: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Vec<Option<i64>>>> {
    let Some(t) = timestamps.filter(|t| !t.is_none()) else {
        return Ok(None);
    };
    let py = t.py();
    let chunks: Vec<ArrayRef> = if t.hasattr(intern!(py, "__arrow_c_stream__"))? {
        t.extract::<PyChunkedArray>()?.chunks().to_vec()
    } else if t.hasattr(intern!(py, "__arrow_c_array__"))? {
        vec![t.extract::<PyArray>()?.array().clone()]
    } else {
        let values = t
            .try_iter()?
            .map(|v| v?.extract::<Option<i64>>())
            .collect::<PyResult<Vec<_>>>()
            .map_err(|_| {
                PyTypeError::new_err(format!(
                    "timestamps must be a sequence of datetimes or ints (microseconds since the \
                     epoch) or an Arrow timestamp array, not {}",
                    type_name(t)
                ))
            })?;
        return Ok(Some(values));
    };
    let mut out = Vec::new();
    for chunk in chunks {
        let (values, per_us): (Vec<Option<i64>>, f64) = match chunk.data_type() {
            DataType::Timestamp(TimeUnit::Second, _) => (
                chunk.as_primitive::<TimestampSecondType>().iter().collect(),
                1e-6,
            ),
            DataType::Timestamp(TimeUnit::Millisecond, _) => (
                chunk
                    .as_primitive::<TimestampMillisecondType>()
                    .iter()
                    .collect(),
                1e-3,
            ),
            DataType::Timestamp(TimeUnit::Microsecond, _) => (
                chunk
                    .as_primitive::<TimestampMicrosecondType>()
                    .iter()
                    .collect(),
                1.0,
            ),
            DataType::Timestamp(TimeUnit::Nanosecond, _) => (
                chunk
                    .as_primitive::<TimestampNanosecondType>()
                    .iter()
                    .collect(),
                1e3,
            ),
            DataType::Int64 => (chunk.as_primitive::<Int64Type>().iter().collect(), 1.0),
            other => {
                return Err(PyTypeError::new_err(format!(
                    "timestamps: an Arrow array must be of a timestamp type or int64, not {other}"
                )))
            }
        };
        out.extend(values.into_iter().map(|v| {
            v.map(|v| {
                if per_us >= 1.0 {
                    v / per_us as i64
                } else {
                    v.saturating_mul((1.0 / per_us) as i64)
                }
            })
        }));
    }
    Ok(Some(out))
}

/// One row per frame: the flat reading (design §2.1) as an Arrow table. See the Python
/// docstring in `python/meterwire/__init__.pyi`.
#[pyfunction]
#[pyo3(
    signature = (frames, *, keys = None, protocol = None, on_error = Cow::Borrowed("skip"), timestamps = None),
    text_signature = "(frames, *, keys=None, protocol=None, on_error='skip', timestamps=None)"
)]
pub fn readings_arrow(
    py: Python<'_>,
    frames: &Bound<'_, PyAny>,
    keys: Option<&Bound<'_, PyAny>>,
    protocol: Option<Cow<'_, str>>,
    on_error: Cow<'_, str>,
    timestamps: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyTable> {
    let mode = on_error_of(&on_error)?;
    let opts = options_of(py, protocol.as_deref(), keys)?;
    let timestamps = timestamps_of(timestamps)?;
    let frames = Frames::read(frames)?;
    let batch = py.detach(|| {
        let mut rows = Vec::new();
        decode_all(&frames, &opts, |i, result| {
            let row = result.map(|d| meterwire::to_reading(&d, None));
            if row.is_ok() || mode == OnError::Collect {
                rows.push((i, row));
            }
        });
        readings_batch(&rows, timestamps.as_deref(), mode == OnError::Collect)
    });
    table(batch)
}

/// One row per record: `frame` (index of the input), `protocol`, `meter_id`, `quantity`,
/// `value`, `exact`, `unit`, `storage`, `tariff`, `function`, `address` and the other columns
/// of `readings`, as an Arrow table.
#[pyfunction]
#[pyo3(
    signature = (frames, *, keys = None, protocol = None, on_error = Cow::Borrowed("skip")),
    text_signature = "(frames, *, keys=None, protocol=None, on_error='skip')"
)]
pub fn records_arrow(
    py: Python<'_>,
    frames: &Bound<'_, PyAny>,
    keys: Option<&Bound<'_, PyAny>>,
    protocol: Option<Cow<'_, str>>,
    on_error: Cow<'_, str>,
) -> PyResult<PyTable> {
    let mode = on_error_of(&on_error)?;
    let opts = options_of(py, protocol.as_deref(), keys)?;
    let frames = Frames::read(frames)?;
    let batch = py.detach(|| {
        let mut decoded = Vec::new();
        let mut index = Vec::new();
        let mut failed = Vec::new();
        decode_all(&frames, &opts, |i, result| match result {
            Ok(d) => {
                decoded.push(d);
                index.push(i as u64);
            }
            Err(e) => failed.push((i as u64, e)),
        });
        records_batch(&meterwire::readings(&decoded), &index, &failed, mode)
    });
    table(batch)
}

/// The core's columnar `readings` as an Arrow batch; `frame` becomes the input's index.
/// With `collect`, each failing frame adds a row with only `frame` and `error` set.
fn records_batch(
    columns: &meterwire::Columns,
    index: &[u64],
    failed: &[(u64, meterwire::Error)],
    mode: OnError,
) -> Result<RecordBatch, arrow_schema::ArrowError> {
    use meterwire::Column;
    let extra = if mode == OnError::Collect {
        failed.len()
    } else {
        0
    };
    let mut fields = Vec::new();
    let mut arrays: Vec<ArrayRef> = Vec::new();
    for (name, column) in &columns.columns {
        let array: ArrayRef = match column {
            Column::Int(v) => {
                let mut b = UInt64Builder::with_capacity(v.len() + extra);
                for x in v {
                    let x = if *name == "frame" {
                        x.and_then(|k| index.get(k as usize).copied())
                    } else {
                        *x
                    };
                    b.append_option(x);
                }
                if *name == "frame" {
                    failed
                        .iter()
                        .take(extra)
                        .for_each(|(i, _)| b.append_value(*i));
                } else {
                    b.append_nulls(extra);
                }
                Arc::new(b.finish())
            }
            Column::Float(v) => {
                let mut b = Float64Builder::with_capacity(v.len() + extra);
                b.extend(v.iter().copied());
                b.append_nulls(extra);
                Arc::new(b.finish())
            }
            Column::Text(v) => {
                let mut b = StringBuilder::new();
                b.extend(v.iter().map(|s| s.as_deref()));
                (0..extra).for_each(|_| b.append_null());
                Arc::new(b.finish())
            }
        };
        fields.push(Field::new(*name, array.data_type().clone(), true));
        arrays.push(array);
    }
    if mode == OnError::Collect {
        let mut errors = ErrorColumn::default();
        let records = arrays.first().map_or(0, |a| a.len() - extra);
        (0..records).for_each(|_| errors.push(None));
        failed.iter().for_each(|(_, e)| errors.push(Some(e)));
        let (field, array) = errors.finish();
        fields.push(field);
        arrays.push(array);
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
}

/// A batch as a one-chunk table, or the Arrow error as `ValueError`.
fn table(batch: Result<RecordBatch, arrow_schema::ArrowError>) -> PyResult<PyTable> {
    let batch = batch.map_err(|e| PyValueError::new_err(format!("arrow: {e}")))?;
    let schema = batch.schema();
    PyTable::try_new(vec![batch], schema)
}
