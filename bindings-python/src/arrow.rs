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
use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use arrow_array::builder::{
    Float64Builder, ListBuilder, StringBuilder, TimestampMicrosecondBuilder, UInt64Builder,
};
use arrow_array::cast::AsArray;
use arrow_array::types::{
    Int64Type, TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType,
};
use arrow_array::{Array, ArrayRef, Float64Array, RecordBatch, StringArray, StructArray};
use arrow_buffer::{BooleanBuffer, Buffer, NullBuffer, OffsetBuffer, ScalarBuffer};
use arrow_schema::{DataType, Field, Fields, Schema, TimeUnit};
use meterwire::view_reading::{view_frame, ViewField, ViewFrame, ViewScratch};
use meterwire::{Decoded, Options, Reading, ReadingValue, Session};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::types::PyBytes;
use pyo3_arrow::{PyArray, PyChunkedArray, PyTable};
use rustc_hash::FxHashMap;

use crate::convert::type_name;
use crate::{frames_of, input, options, Input, OptionArgs};

/// The frames of a call, borrowed from Arrow buffers where they came as Arrow.
enum Frames {
    /// Items of a Python iterable: `bytes` kept by reference (immutable, alive while held),
    /// others copied while holding the GIL.
    Items(Vec<Item>),
    /// Arrow chunks of a binary or string (hex) type.
    Arrow(Vec<ArrayRef>),
    /// A numpy `S` array: its bytes and item size (values shorter than the item size are
    /// padded with NUL bytes, which numpy drops when reading a value; so does this).
    Fixed { bytes: Vec<u8>, width: usize },
}

/// A frame of a Python iterable.
enum Item {
    /// A `bytes` object (not copied).
    Bytes(PyBackedBytes),
    /// Anything else `input` reads (copied).
    Other(Input<'static>),
}

impl Item {
    fn bytes(&self) -> Result<Cow<'_, [u8]>, meterwire::Error> {
        match self {
            Item::Bytes(b) => Ok(Cow::Borrowed(b)),
            Item::Other(input) => input.bytes(),
        }
    }
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
            .map(|item| {
                let item = item?;
                match item.cast_into::<PyBytes>() {
                    Ok(b) => Ok(Item::Bytes(PyBackedBytes::from(b))),
                    Err(e) => input(&e.into_inner()).map(|i| Item::Other(i.into_owned())),
                }
            })
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

    /// The number of frames.
    fn len(&self) -> usize {
        match self {
            Frames::Items(items) => items.len(),
            Frames::Fixed { bytes, width } => bytes.len().checked_div(*width).unwrap_or(0),
            Frames::Arrow(chunks) => chunks.iter().map(|c| c.len()).sum(),
        }
    }

    /// Calls `each(index, frame)` for every frame in order.
    fn for_each(&self, each: impl FnMut(usize, FrameBytes<'_>)) {
        self.for_each_in(0..usize::MAX, each);
    }

    /// Calls `each(index, frame)` for the frames whose index is in `range`, in order.
    fn for_each_in(&self, range: Range<usize>, mut each: impl FnMut(usize, FrameBytes<'_>)) {
        let hex = |t: &str| Some(meterwire::parse_hex(t).map(Cow::Owned));
        let (start, end) = (range.start, range.end);
        match self {
            Frames::Items(items) => {
                let items = items.get(start..end.min(items.len())).unwrap_or(&[]);
                for (i, item) in items.iter().enumerate() {
                    each(start + i, Some(item.bytes()));
                }
            }
            Frames::Fixed { bytes, width } => {
                let values = bytes.chunks(*width.max(&1)).enumerate();
                for (i, value) in values.skip(start).take(end.saturating_sub(start)) {
                    let end = value.iter().rposition(|&b| b != 0).map_or(0, |p| p + 1);
                    each(i, Some(Ok(Cow::Borrowed(&value[..end]))));
                }
            }
            Frames::Arrow(chunks) => {
                let mut i = 0;
                for chunk in chunks {
                    let chunk = chunk.as_ref();
                    if i + chunk.len() <= start {
                        i += chunk.len();
                        continue;
                    }
                    if i >= end {
                        break;
                    }
                    macro_rules! walk {
                        ($values:expr, $read:expr) => {
                            for value in $values {
                                if i >= end {
                                    break;
                                }
                                if i >= start {
                                    each(i, value.and_then($read));
                                }
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

/// One key's column of the readings table: a number is float64 beside its exact decimal text
/// (`<key>_exact`), text is a string column. The kind is that of the key's first value; a
/// later value of the other kind goes in as text (a number as its decimal in a text column;
/// text in a number's `_exact` column, its float null).
///
/// The arrays are laid out in place as rows arrive, in buffers sized once for every row of
/// the batch: the floats in zeroed memory (a row without a value is not written), the text
/// offsets padded up to a row only when the column gets a value there. A wide, sparse table
/// (frames of many meter layouts) thus costs no per-row work for a column without a value,
/// and no buffer is grown and copied.
struct KeyColumn {
    name: String,
    /// A number column's floats (zero where null) and validity bits, one per row.
    floats: Option<(Vec<f64>, Vec<u8>)>,
    /// The floats that are valid.
    valid_floats: usize,
    text: TextColumn,
}

/// A string column laid out in place: the text of every row with a value appended to one
/// string (exact decimals written straight into it), the offsets padded up to a row only when
/// the column gets a value there, validity bits in zeroed memory.
struct TextColumn {
    /// One offset per row so far, plus the first (0).
    offsets: Vec<i32>,
    values: String,
    /// Validity bits for every row of the batch.
    valid: Vec<u8>,
    /// The rows that have a value.
    valid_rows: usize,
}

impl TextColumn {
    fn new(rows: usize) -> TextColumn {
        let mut offsets = Vec::with_capacity(rows + 1);
        offsets.push(0);
        TextColumn {
            offsets,
            values: String::new(),
            valid: vec![0u8; rows.div_ceil(8)],
            valid_rows: 0,
        }
    }

    /// The rows filled so far.
    fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Null rows up to `row` (exclusive).
    fn pad_to(&mut self, row: usize) {
        let end = self.values.len() as i32;
        let missing = row.saturating_sub(self.len());
        self.offsets.extend(std::iter::repeat_n(end, missing));
    }

    /// Ends row `len()` with the text appended since the last row, as a value.
    fn end_value(&mut self) {
        let row = self.len();
        if let Some(byte) = self.valid.get_mut(row / 8) {
            *byte |= 1 << (row % 8);
        }
        self.valid_rows += 1;
        self.offsets.push(self.values.len() as i32);
    }

    fn finish(mut self, rows: usize) -> Result<StringArray, arrow_schema::ArrowError> {
        // The offsets are 32-bit (Arrow `utf8`): they were exact while the text fit.
        if i32::try_from(self.values.len()).is_err() {
            return Err(arrow_schema::ArrowError::ComputeError(
                "a text column of the batch exceeds 2 GiB; pass fewer frames per call".into(),
            ));
        }
        self.pad_to(rows);
        self.valid.truncate(rows.div_ceil(8));
        let nulls = (self.valid_rows < rows)
            .then(|| NullBuffer::new(BooleanBuffer::new(Buffer::from_vec(self.valid), 0, rows)));
        let offsets = OffsetBuffer::new(ScalarBuffer::from(self.offsets));
        StringArray::try_new(offsets, Buffer::from_vec(self.values.into_bytes()), nulls)
    }
}

impl KeyColumn {
    /// A column for a batch of at most `rows` rows.
    fn new(name: &str, number: bool, rows: usize) -> KeyColumn {
        KeyColumn {
            name: name.to_string(),
            // Zeroed memory: the pages of rows without a value stay untouched.
            floats: number.then(|| (vec![0f64; rows], vec![0u8; rows.div_ceil(8)])),
            valid_floats: 0,
            text: TextColumn::new(rows),
        }
    }

    /// The value of row `row`; a key that comes again in the same row keeps its first value
    /// (as the core's `Reading`). Rows come in ascending order.
    fn put(&mut self, row: usize, value: ViewField<'_>) {
        let filled = self.text.len();
        if filled > row {
            return;
        }
        self.text.pad_to(row);
        match value {
            ViewField::Number(d) => {
                if let Some((values, valid)) = &mut self.floats {
                    let float = d.to_f64();
                    if float.is_finite() {
                        if let Some(slot) = values.get_mut(row) {
                            *slot = float;
                        }
                        if let Some(byte) = valid.get_mut(row / 8) {
                            *byte |= 1 << (row % 8);
                        }
                        self.valid_floats += 1;
                    }
                }
                d.push_to(&mut self.text.values);
            }
            ViewField::Text(t) => self.text.values.push_str(t),
        }
        self.text.end_value();
    }

    /// The column's arrays for a table of `rows` rows: its fields and arrays (the float64
    /// then the text for a number, the text alone otherwise).
    fn finish(
        self,
        rows: usize,
        fields: &mut Vec<Field>,
        arrays: &mut Vec<ArrayRef>,
    ) -> Result<(), arrow_schema::ArrowError> {
        let text = self.text.finish(rows)?;
        let name = self.name;
        match self.floats {
            Some((mut values, mut valid)) => {
                values.truncate(rows);
                valid.truncate(rows.div_ceil(8));
                let nulls = (self.valid_floats < rows)
                    .then(|| NullBuffer::new(BooleanBuffer::new(Buffer::from_vec(valid), 0, rows)));
                fields.push(Field::new(&name, DataType::Float64, true));
                arrays.push(Arc::new(Float64Array::try_new(
                    ScalarBuffer::from(values),
                    nulls,
                )?));
                fields.push(Field::new(format!("{name}_exact"), DataType::Utf8, true));
            }
            None => fields.push(Field::new(&name, DataType::Utf8, true)),
        }
        arrays.push(Arc::new(text));
        Ok(())
    }
}

/// `a == b` for reading keys, without a call to `memcmp` for keys of 8 to 16 bytes (most):
/// their first and last eight bytes cover them.
#[inline]
fn same_key(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let word = |s: &[u8], at: usize| {
        s.get(at..at + 8)
            .and_then(|w| <[u8; 8]>::try_from(w).ok())
            .map(u64::from_ne_bytes)
    };
    match a.len() {
        8..=16 => {
            let last = a.len() - 8;
            word(a, 0) == word(b, 0) && word(a, last) == word(b, last)
        }
        _ => a == b,
    }
}

/// Where a value of the flat reading goes in the readings table.
#[derive(Clone, Copy)]
enum Target {
    /// A key column (its index).
    Column(usize),
    /// The `status` list column.
    Status,
    /// Nowhere (`timestamp`: the table's comes from the call).
    Skip,
}

/// The targets of the keys of each frame layout met so far (`ReadingsBuilder::view_row`).
type Layouts = FxHashMap<Box<[u8]>, Box<[Target]>>;

/// The layouts a call keeps at most (per thread): a batch of many meter types has tens to
/// hundreds; frames of layouts met after that are read with their keys.
const MAX_LAYOUTS: usize = 4096;

/// The key columns every readings table starts with, in order (the flat reading's identity).
const LEADING: [&str; 4] = ["protocol", "id", "manufacturer", "media"];

/// The readings table, built one row (frame) at a time.
struct ReadingsBuilder {
    frame: UInt64Builder,
    columns: Vec<KeyColumn>,
    index: FxHashMap<String, usize>,
    /// For the start of a row (0) and each column (its index + 1), the column that came next
    /// the last time: frames of one meter type have the same keys in the same order, so in a
    /// batch of many types most lookups are still one string comparison.
    successor: Vec<usize>,
    /// The current row's last column (its index + 1; 0 at the start of a row).
    previous: usize,
    status: ListBuilder<StringBuilder>,
    errors: Option<ErrorColumn>,
    rows: usize,
    /// The number of frames (every column is sized for that many rows).
    expected_rows: usize,
    /// Whether the current row's status is set (the reading's first `status` key wins).
    status_done: bool,
}

impl ReadingsBuilder {
    fn new(collect: bool, rows: usize) -> ReadingsBuilder {
        let columns: Vec<KeyColumn> = LEADING
            .iter()
            .map(|k| KeyColumn::new(k, false, rows))
            .collect();
        let index = LEADING
            .iter()
            .enumerate()
            .map(|(i, k)| (k.to_string(), i))
            .collect();
        ReadingsBuilder {
            frame: UInt64Builder::with_capacity(rows),
            columns,
            index,
            successor: vec![usize::MAX; LEADING.len() + 1],
            previous: 0,
            status: ListBuilder::new(StringBuilder::new()),
            errors: collect.then(ErrorColumn::default),
            rows: 0,
            expected_rows: rows,
            status_done: false,
        }
    }

    fn column(&mut self, key: &str, value: ViewField<'_>) -> usize {
        let slot = self.previous;
        if let Some(&c) = self.successor.get(slot) {
            if self
                .columns
                .get(c)
                .is_some_and(|col| same_key(&col.name, key))
            {
                self.previous = c + 1;
                return c;
            }
        }
        let c = match self.index.get(key) {
            Some(&c) => c,
            None => {
                let c = self.columns.len();
                let number = matches!(value, ViewField::Number(_));
                self.columns
                    .push(KeyColumn::new(key, number, self.expected_rows));
                self.successor.push(usize::MAX);
                self.index.insert(key.to_string(), c);
                c
            }
        };
        if let Some(next) = self.successor.get_mut(slot) {
            *next = c;
        }
        self.previous = c + 1;
        c
    }

    /// One key of the current row (the reading's keys in order, as `to_reading` or the
    /// core's `view_reading` give them).
    fn field(&mut self, key: &str, value: ViewField<'_>) {
        let target = self.target(key, value);
        self.put(target, value);
    }

    /// Where a value of `key` goes (its column, created with the value's kind if new).
    fn target(&mut self, key: &str, value: ViewField<'_>) -> Target {
        match key {
            "status" => Target::Status,
            "timestamp" => Target::Skip,
            _ => Target::Column(self.column(key, value)),
        }
    }

    /// A value of the current row where `target` says.
    fn put(&mut self, target: Target, value: ViewField<'_>) {
        match (target, value) {
            // The reading's flags, or a profile's register labelled `status` (which the
            // reading keeps in its place) as its decimal text; the first `status` wins.
            (Target::Status, _) if self.status_done => {}
            (Target::Status, ViewField::Text(s)) => {
                for flag in s.split(' ').filter(|f| !f.is_empty() && *f != "OK") {
                    self.status.values().append_value(flag);
                }
                self.status_done = true;
            }
            (Target::Status, ViewField::Number(d)) => {
                self.status.values().append_value(d.to_string());
                self.status_done = true;
            }
            (Target::Skip, _) => {}
            (Target::Column(c), _) => {
                if let Some(col) = self.columns.get_mut(c) {
                    col.put(self.rows, value);
                }
            }
        }
    }

    /// The current row from a frame the core's views read whole. Frames of one layout (one
    /// meter type) have the same keys in the same order (`ViewFrame::layout`): the targets
    /// of a layout's keys are kept in `layouts` the first time, and later frames of the
    /// layout put their values there without their keys being written or looked up.
    fn view_row(&mut self, layouts: &mut Layouts, frame: ViewFrame<'_>) {
        if let Some(targets) = layouts.get(frame.layout()) {
            let mut targets = targets.iter();
            frame.values(|value| {
                if let Some(&target) = targets.next() {
                    self.put(target, value);
                }
            });
            return;
        }
        let layout: Box<[u8]> = frame.layout().into();
        let mut targets = Vec::new();
        frame.fields(|key, value| {
            let target = self.target(key, value);
            targets.push(target);
            self.put(target, value);
        });
        if layouts.len() < MAX_LAYOUTS {
            layouts.insert(layout, targets.into_boxed_slice());
        }
    }

    /// Ends the current row: the frame's index, and its error with `on_error="collect"`.
    fn end_row(&mut self, frame: usize, error: Option<&meterwire::Error>) {
        self.frame.append_value(frame as u64);
        self.status.append(error.is_none());
        if let Some(errors) = &mut self.errors {
            errors.push(error);
        }
        self.rows += 1;
        self.previous = 0;
        self.status_done = false;
    }

    /// A row from the core's `Reading`.
    fn push_reading(&mut self, frame: usize, reading: &Reading) {
        for (key, value) in &reading.fields {
            let value = match value {
                ReadingValue::Number(d) => ViewField::Number(*d),
                ReadingValue::Text(t) => ViewField::Text(t),
            };
            self.field(key, value);
        }
        self.end_row(frame, None);
    }

    fn finish(
        mut self,
        frames: &[u64],
        timestamps: Option<&[Option<i64>]>,
    ) -> Result<RecordBatch, arrow_schema::ArrowError> {
        let mut fields = vec![Field::new("frame", DataType::UInt64, false)];
        let mut arrays: Vec<ArrayRef> = vec![Arc::new(self.frame.finish())];
        for column in self.columns {
            column.finish(self.rows, &mut fields, &mut arrays)?;
        }
        let status = self.status.finish();
        fields.push(Field::new("status", status.data_type().clone(), true));
        arrays.push(Arc::new(status));
        if let Some(times) = timestamps {
            let mut ts =
                TimestampMicrosecondBuilder::with_capacity(frames.len()).with_timezone("UTC");
            for &i in frames {
                ts.append_option(times.get(i as usize).copied().flatten());
            }
            let ts = ts.finish();
            fields.push(Field::new("timestamp", ts.data_type().clone(), true));
            arrays.push(Arc::new(ts));
        }
        if let Some(errors) = self.errors {
            let (field, array) = errors.finish();
            fields.push(field);
            arrays.push(array);
        }
        RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
    }
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
    signature = (
        frames, *, keys = None, protocol = None, on_error = Cow::Borrowed("skip"),
        timestamps = None, threads = None, request = None, modbus_profile = None,
        mqtt_version = None, payload_cipher = None, tlv_schema = None, redact_key = None
    ),
    text_signature = "(frames, *, keys=None, protocol=None, on_error='skip', timestamps=None, threads=None, request=None, modbus_profile=None, mqtt_version=None, payload_cipher=None, tlv_schema=None, redact_key=None)"
)]
pub fn readings_arrow(
    py: Python<'_>,
    frames: &Bound<'_, PyAny>,
    keys: Option<&Bound<'_, PyAny>>,
    protocol: Option<Cow<'_, str>>,
    on_error: Cow<'_, str>,
    timestamps: Option<&Bound<'_, PyAny>>,
    threads: Option<usize>,
    request: Option<&Bound<'_, PyAny>>,
    modbus_profile: Option<&Bound<'_, PyAny>>,
    mqtt_version: Option<Cow<'_, str>>,
    payload_cipher: Option<Cow<'_, str>>,
    tlv_schema: Option<&Bound<'_, PyAny>>,
    redact_key: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyTable> {
    let mode = on_error_of(&on_error)?;
    let args = OptionArgs {
        request,
        profile: modbus_profile,
        mqtt_version: mqtt_version.as_deref(),
        payload_cipher: payload_cipher.as_deref(),
        tlv_schema,
        redact_key,
    };
    let opts = options(py, protocol.as_deref().unwrap_or("auto"), keys, false, args)?;
    let timestamps = timestamps_of(timestamps)?;
    let frames = Frames::read(frames)?;
    let threads = match threads {
        Some(0) => return Err(PyValueError::new_err("threads must be at least 1")),
        Some(n) => n,
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let collect = mode == OnError::Collect;
    let times = timestamps.as_deref();
    let batches = py.detach(|| {
        let n = frames.len();
        let parts = threads.min(n / MIN_FRAMES_PER_THREAD).max(1);
        if parts > 1 {
            let size = n.div_ceil(parts);
            let stop = AtomicBool::new(false);
            let results: Vec<Option<_>> = std::thread::scope(|scope| {
                let handles: Vec<_> = (0..parts)
                    .map(|k| {
                        let (frames, opts, stop) = (&frames, &opts, &stop);
                        let range = k * size..((k + 1) * size).min(n);
                        let part = Part {
                            first: k == 0,
                            stop,
                        };
                        scope
                            .spawn(move || read_readings(frames, range, opts, collect, part, times))
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join().ok().flatten())
                    .collect()
            });
            // A part after the first met a compact wM-Bus frame it could not read alone (its
            // format may be in the frames before it, in the batch's session): read the batch
            // in one piece.
            if let Some(parts) = results.into_iter().collect::<Option<Vec<_>>>() {
                if let Some(merged) = unify(parts) {
                    return Ok(merged);
                }
            }
        }
        let whole = Part {
            first: true,
            stop: &AtomicBool::new(false),
        };
        read_readings(&frames, 0..n, &opts, collect, whole, times)
            .ok_or_else(|| arrow_schema::ArrowError::ComputeError("unreachable".into()))?
            .map(|batch| vec![batch])
    });
    table_of(batches)
}

/// Frames per thread below which `readings_arrow` does not split a batch.
const MIN_FRAMES_PER_THREAD: usize = 16_384;

/// Which part of a split call a thread reads.
#[derive(Clone, Copy)]
struct Part<'a> {
    /// The first part, which decodes in the batch's session.
    first: bool,
    /// Set by a later part that met a compact wM-Bus frame of a format it has not seen: every
    /// part stops, the call is read whole.
    stop: &'a AtomicBool,
}

/// The readings of the frames in `range` as one batch. A later part of a split call returns
/// `None` at its first compact wM-Bus frame whose format it has not seen (the full frame may
/// be in an earlier part, whose session is not at hand), and every part stops then.
fn read_readings(
    frames: &Frames,
    range: Range<usize>,
    opts: &Options,
    collect: bool,
    part: Part<'_>,
    timestamps: Option<&[Option<i64>]>,
) -> Option<Result<RecordBatch, arrow_schema::ArrowError>> {
    let first = part.first;
    let rows = range.end.min(frames.len()).saturating_sub(range.start);
    let mut builder = ReadingsBuilder::new(collect, rows);
    let mut indices = Vec::with_capacity(rows);
    let mut session = Session::new();
    let mut scratch = ViewScratch::new();
    let mut layouts = Layouts::default();
    let mut needs_session = false;
    frames.for_each_in(range, |i, bytes| {
        if needs_session {
            return;
        }
        if i % 1024 == 0 && part.stop.load(Ordering::Relaxed) {
            needs_session = true;
            return;
        }
        let result = match bytes {
            Some(Ok(b)) => {
                // The common wired M-Bus frame straight from the zero-copy views; every other
                // frame through decode and to_reading, in the batch's session.
                if let Some(frame) = view_frame(&b, opts, &mut scratch) {
                    builder.view_row(&mut layouts, frame);
                    builder.end_row(i, None);
                    indices.push(i as u64);
                    return;
                }
                let result = session.decode(&b, opts);
                // A compact wM-Bus frame whose full frame this part has not seen may have
                // had it in an earlier part: only the whole batch's session reads it.
                if !first && matches!(&result, Ok(d) if session.lacks_format_of(d)) {
                    needs_session = true;
                    part.stop.store(true, Ordering::Relaxed);
                    return;
                }
                result
            }
            Some(Err(e)) => Err(e),
            None => session.decode(&[], opts),
        };
        match result {
            Ok(d) => {
                builder.push_reading(i, &meterwire::to_reading(&d, None));
                indices.push(i as u64);
            }
            Err(e) if collect => {
                builder.end_row(i, Some(&e));
                indices.push(i as u64);
            }
            Err(_) => {}
        }
    });
    (!needs_session).then(|| builder.finish(&indices, timestamps))
}

/// The batches of the parts of one call under one schema: the key columns of every part in
/// order of first appearance, then `status`, `timestamp`, `error`; a column a part lacks is
/// all null there. `None` when a key has different types in two parts (a number in one, text
/// in another), which only reading the batch in one piece settles.
fn unify(parts: Vec<Result<RecordBatch, arrow_schema::ArrowError>>) -> Option<Vec<RecordBatch>> {
    let parts = parts.into_iter().collect::<Result<Vec<_>, _>>().ok()?;
    let trailing = ["status", "timestamp", "error"];
    let mut fields: Vec<Arc<Field>> = Vec::new();
    for last in [false, true] {
        for part in &parts {
            for field in part.schema().fields() {
                if trailing.contains(&field.name().as_str()) != last {
                    continue;
                }
                match fields.iter().find(|f| f.name() == field.name()) {
                    Some(known) if known.data_type() != field.data_type() => return None,
                    Some(_) => {}
                    None => fields.push(field.clone()),
                }
            }
        }
    }
    let schema = Arc::new(Schema::new(fields));
    parts
        .into_iter()
        .map(|part| {
            let columns = schema
                .fields()
                .iter()
                .map(|f| match part.column_by_name(f.name()) {
                    Some(c) => c.clone(),
                    None => arrow_array::new_null_array(f.data_type(), part.num_rows()),
                })
                .collect();
            RecordBatch::try_new(schema.clone(), columns).ok()
        })
        .collect()
}

/// One row per record: `frame` (index of the input), `protocol`, `meter_id`, `quantity`,
/// `value`, `exact`, `unit`, `storage`, `tariff`, `function`, `address` and the other columns
/// of `readings`, as an Arrow table.
#[pyfunction]
#[pyo3(
    signature = (
        frames, *, keys = None, protocol = None, on_error = Cow::Borrowed("skip"),
        request = None, modbus_profile = None, mqtt_version = None, payload_cipher = None,
        tlv_schema = None, redact_key = None
    ),
    text_signature = "(frames, *, keys=None, protocol=None, on_error='skip', request=None, modbus_profile=None, mqtt_version=None, payload_cipher=None, tlv_schema=None, redact_key=None)"
)]
pub fn records_arrow(
    py: Python<'_>,
    frames: &Bound<'_, PyAny>,
    keys: Option<&Bound<'_, PyAny>>,
    protocol: Option<Cow<'_, str>>,
    on_error: Cow<'_, str>,
    request: Option<&Bound<'_, PyAny>>,
    modbus_profile: Option<&Bound<'_, PyAny>>,
    mqtt_version: Option<Cow<'_, str>>,
    payload_cipher: Option<Cow<'_, str>>,
    tlv_schema: Option<&Bound<'_, PyAny>>,
    redact_key: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyTable> {
    let mode = on_error_of(&on_error)?;
    let args = OptionArgs {
        request,
        profile: modbus_profile,
        mqtt_version: mqtt_version.as_deref(),
        payload_cipher: payload_cipher.as_deref(),
        tlv_schema,
        redact_key,
    };
    let opts = options(py, protocol.as_deref().unwrap_or("auto"), keys, false, args)?;
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

/// Batches of one schema as a table, or the Arrow error as `ValueError`.
fn table_of(batches: Result<Vec<RecordBatch>, arrow_schema::ArrowError>) -> PyResult<PyTable> {
    let batches = batches.map_err(|e| PyValueError::new_err(format!("arrow: {e}")))?;
    let schema = match batches.first() {
        Some(b) => b.schema(),
        None => Arc::new(Schema::empty()),
    };
    PyTable::try_new(batches, schema)
}

/// A batch as a one-chunk table, or the Arrow error as `ValueError`.
fn table(batch: Result<RecordBatch, arrow_schema::ArrowError>) -> PyResult<PyTable> {
    let batch = batch.map_err(|e| PyValueError::new_err(format!("arrow: {e}")))?;
    let schema = batch.schema();
    PyTable::try_new(vec![batch], schema)
}
