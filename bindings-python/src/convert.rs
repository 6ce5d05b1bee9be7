//! Generic conversions between the core's serde model and Python objects.
//!
//! Out: [`to_py`] runs any `Serialize` value through a small serde `Serializer` that builds
//! Python objects directly, following serde_json's data model exactly (maps → `dict`,
//! sequences → `list`, unit variants → their name, other variants → `{name: value}`, `None`
//! and non-finite floats → `None`, `f32` through its shortest decimal), so that
//! `to_py(x) == json.loads(serde_json::to_string(x))` for every value. Nothing here knows a
//! field of the model.
//!
//! In: [`from_py`] reads a Python value (dicts, lists, str, int, float, bool, None) into a
//! `serde_json::Value`, which the core's `Deserialize` impls then read.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use pyo3::IntoPyObjectExt;
use serde::ser::{self, Serialize};
use serde_json::{Map, Number, Value as Json};

/// Nesting limit for both directions: deeper input is refused instead of overflowing the
/// stack (serde_json's own limit is 128 too).
const MAX_DEPTH: usize = 128;

/// Converts a serialisable value to the Python object serde_json would produce.
pub fn to_py<'py, T: Serialize + ?Sized>(
    py: Python<'py>,
    value: &T,
) -> PyResult<Bound<'py, PyAny>> {
    Converter::new(py).convert(value)
}

/// Converts many values, sharing one cache of the strings they repeat: dict keys (`"quantity"`,
/// `"unit"`, …) and enum names (`"instantaneous"`, `"RSP_UD"`). A cached string costs a hash
/// lookup and a reference count instead of an allocation, a UTF-8 check and a hash
/// computation in every dict insert. String values (data) are not cached: they rarely repeat.
pub struct Converter<'py> {
    py: Python<'py>,
    /// Map keys by content (their lifetime is not known to serde).
    names: RefCell<Cache<'py, Box<str>>>,
    /// `&'static str` names (struct fields, enum variants) by address and length.
    statics: RefCell<Cache<'py, (usize, usize)>>,
}

/// Python strings by a key, hashed with [`Fx`].
type Cache<'py, K> = HashMap<K, Bound<'py, PyString>, BuildHasherDefault<Fx>>;

/// Most distinct keys the content cache keeps: bounded, so a map with endless distinct keys
/// cannot grow it (the model's keys are a few dozen names).
const MAX_NAMES: usize = 1024;

/// Longest key the content cache keeps (the model's keys are short names).
const MAX_NAME_LEN: usize = 32;

impl<'py> Converter<'py> {
    /// A converter with an empty cache.
    pub fn new(py: Python<'py>) -> Self {
        Converter {
            py,
            // About the distinct names of one typical frame: single `decode` calls stay cheap.
            names: RefCell::new(HashMap::with_capacity_and_hasher(32, Default::default())),
            statics: RefCell::new(HashMap::with_capacity_and_hasher(64, Default::default())),
        }
    }

    /// The Python object serde_json would produce for `value`.
    pub fn convert<T: Serialize + ?Sized>(&self, value: &T) -> PyResult<Bound<'py, PyAny>> {
        value.serialize(ToPy { conv: self }).map_err(|e| e.0)
    }

    /// A Python string for `text`, from the content cache when it is there.
    fn name(&self, text: &str) -> Bound<'py, PyString> {
        if text.len() > MAX_NAME_LEN {
            return PyString::new(self.py, text);
        }
        let mut names = self.names.borrow_mut();
        if let Some(s) = names.get(text) {
            return s.clone();
        }
        let s = PyString::new(self.py, text);
        if names.len() < MAX_NAMES {
            names.insert(text.into(), s.clone());
        }
        s
    }

    /// A Python string for a `&'static str` name: looked up by address, no hashing of text.
    /// Their number is bounded by the program's string constants.
    fn static_name(&self, text: &'static str) -> Bound<'py, PyString> {
        let key = (text.as_ptr() as usize, text.len());
        self.statics
            .borrow_mut()
            .entry(key)
            .or_insert_with(|| PyString::new(self.py, text))
            .clone()
    }
}

/// The Fx hash (rustc's): a word at a time, for short keys in a bounded cache.
#[derive(Default)]
struct Fx(u64);

impl Fx {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for Fx {
    fn finish(&self) -> u64 {
        // The multiply leaves its entropy in the high bits; hash tables index by the low ones.
        self.0.rotate_left(26)
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word.iter_mut().zip(rest).for_each(|(w, b)| *w = *b);
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
}

/// Reads a Python value into JSON, for the core's `Deserialize` impls.
pub fn from_py(obj: &Bound<'_, PyAny>) -> PyResult<Json> {
    from_py_at(obj, 0)
}

fn from_py_at(obj: &Bound<'_, PyAny>, depth: usize) -> PyResult<Json> {
    if depth > MAX_DEPTH {
        return Err(PyValueError::new_err(
            "value nested too deeply (more than 128 levels)",
        ));
    }
    let depth = depth.saturating_add(1);
    if obj.is_none() {
        return Ok(Json::Null);
    }
    // bool before int: Python's bool is a subclass of int.
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(Json::Bool(b.is_true()));
    }
    if obj.is_instance_of::<PyInt>() {
        if let Ok(v) = obj.extract::<u64>() {
            return Ok(Json::from(v));
        }
        if let Ok(v) = obj.extract::<i64>() {
            return Ok(Json::from(v));
        }
        return Err(PyValueError::new_err(
            "integer out of range (the model's integers fit in 64 bits)",
        ));
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        return Number::from_f64(f.value())
            .map(Json::Number)
            .ok_or_else(|| PyValueError::new_err("NaN and infinity are not model values"));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Json::String(s.to_cow()?.into_owned()));
    }
    if let Ok(d) = obj.cast::<PyDict>() {
        let mut map = Map::new();
        for (k, v) in d.iter() {
            let key = k.cast::<PyString>().map_err(|_| {
                PyTypeError::new_err(format!("dict keys must be str, not {}", type_name(&k)))
            })?;
            map.insert(key.to_cow()?.into_owned(), from_py_at(&v, depth)?);
        }
        return Ok(Json::Object(map));
    }
    if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        let items = obj
            .try_iter()?
            .map(|item| from_py_at(&item?, depth))
            .collect::<PyResult<Vec<_>>>()?;
        return Ok(Json::Array(items));
    }
    Err(PyTypeError::new_err(format!(
        "expected dict, list, str, int, float, bool or None, not {}",
        type_name(obj)
    )))
}

/// The Python type name of `obj`, for messages.
pub fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".to_owned())
}

/// A Python exception carried through serde.
#[derive(Debug)]
pub struct Error(pub PyErr);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error(PyValueError::new_err(msg.to_string()))
    }
}

impl From<PyErr> for Error {
    fn from(e: PyErr) -> Self {
        Error(e)
    }
}

type Result<T> = std::result::Result<T, Error>;

/// The serde `Serializer` that builds Python objects.
#[derive(Clone, Copy)]
struct ToPy<'a, 'py> {
    conv: &'a Converter<'py>,
}

impl<'a, 'py> ToPy<'a, 'py> {
    fn py(self) -> Python<'py> {
        self.conv.py
    }

    fn obj<T: IntoPyObject<'py>>(self, v: T) -> Result<Bound<'py, PyAny>> {
        v.into_bound_py_any(self.py()).map_err(Error)
    }

    fn float(self, v: f64) -> Result<Bound<'py, PyAny>> {
        if v.is_finite() {
            self.obj(v)
        } else {
            // serde_json writes NaN and infinities as null.
            Ok(self.py().None().into_bound(self.py()))
        }
    }

    /// `{variant: value}`: serde_json's externally tagged enum form.
    fn tagged(self, variant: &'static str, value: Bound<'py, PyAny>) -> Result<Bound<'py, PyAny>> {
        let dict = PyDict::new(self.py());
        dict.set_item(self.conv.static_name(variant), value)?;
        Ok(dict.into_any())
    }
}

impl<'a, 'py> ser::Serializer for ToPy<'a, 'py> {
    type Ok = Bound<'py, PyAny>;
    type Error = Error;
    type SerializeSeq = Seq<'a, 'py>;
    type SerializeTuple = Seq<'a, 'py>;
    type SerializeTupleStruct = Seq<'a, 'py>;
    type SerializeTupleVariant = Seq<'a, 'py>;
    type SerializeMap = Dict<'a, 'py>;
    type SerializeStruct = Dict<'a, 'py>;
    type SerializeStructVariant = Dict<'a, 'py>;

    fn serialize_bool(self, v: bool) -> Result<Self::Ok> {
        self.obj(v)
    }
    fn serialize_i8(self, v: i8) -> Result<Self::Ok> {
        self.obj(v)
    }
    fn serialize_i16(self, v: i16) -> Result<Self::Ok> {
        self.obj(v)
    }
    fn serialize_i32(self, v: i32) -> Result<Self::Ok> {
        self.obj(v)
    }
    fn serialize_i64(self, v: i64) -> Result<Self::Ok> {
        self.obj(v)
    }
    fn serialize_i128(self, v: i128) -> Result<Self::Ok> {
        self.obj(v)
    }
    fn serialize_u8(self, v: u8) -> Result<Self::Ok> {
        self.obj(v)
    }
    fn serialize_u16(self, v: u16) -> Result<Self::Ok> {
        self.obj(v)
    }
    fn serialize_u32(self, v: u32) -> Result<Self::Ok> {
        self.obj(v)
    }
    fn serialize_u64(self, v: u64) -> Result<Self::Ok> {
        self.obj(v)
    }
    fn serialize_u128(self, v: u128) -> Result<Self::Ok> {
        self.obj(v)
    }
    fn serialize_f32(self, v: f32) -> Result<Self::Ok> {
        // serde_json prints an f32 as its shortest decimal; JSON readers parse that as f64.
        let shortest: f64 = v.to_string().parse().unwrap_or(f64::NAN);
        self.float(shortest)
    }
    fn serialize_f64(self, v: f64) -> Result<Self::Ok> {
        self.float(v)
    }
    fn serialize_char(self, v: char) -> Result<Self::Ok> {
        self.obj(v)
    }
    fn serialize_str(self, v: &str) -> Result<Self::Ok> {
        Ok(PyString::new(self.py(), v).into_any())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<Self::Ok> {
        // serde_json writes bytes as an array of numbers.
        Ok(PyList::new(self.py(), v)?.into_any())
    }
    fn serialize_none(self) -> Result<Self::Ok> {
        Ok(self.py().None().into_bound(self.py()))
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Self::Ok> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Self::Ok> {
        self.serialize_none()
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<Self::Ok> {
        self.serialize_none()
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<Self::Ok> {
        Ok(self.conv.static_name(variant).into_any())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<Self::Ok> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Self::Ok> {
        let inner = value.serialize(self)?;
        self.tagged(variant, inner)
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Self::SerializeSeq> {
        Ok(Seq::new(self, len, None))
    }
    fn serialize_tuple(self, len: usize) -> Result<Self::SerializeTuple> {
        Ok(Seq::new(self, Some(len), None))
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleStruct> {
        Ok(Seq::new(self, Some(len), None))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleVariant> {
        Ok(Seq::new(self, Some(len), Some(variant)))
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap> {
        Ok(Dict::new(self, None))
    }
    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Self::SerializeStruct> {
        Ok(Dict::new(self, None))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant> {
        Ok(Dict::new(self, Some(variant)))
    }
}

/// A list being built (sequences, tuples, tuple variants).
struct Seq<'a, 'py> {
    ser: ToPy<'a, 'py>,
    items: Vec<Bound<'py, PyAny>>,
    variant: Option<&'static str>,
}

impl<'a, 'py> Seq<'a, 'py> {
    fn new(ser: ToPy<'a, 'py>, len: Option<usize>, variant: Option<&'static str>) -> Self {
        // The length hint comes from the value being serialised: cap what it may reserve.
        let items = Vec::with_capacity(len.unwrap_or(0).min(4096));
        Seq {
            ser,
            items,
            variant,
        }
    }

    fn push<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.items.push(value.serialize(self.ser)?);
        Ok(())
    }

    fn finish(self) -> Result<Bound<'py, PyAny>> {
        let list = PyList::new(self.ser.py(), self.items)?.into_any();
        match self.variant {
            Some(variant) => self.ser.tagged(variant, list),
            None => Ok(list),
        }
    }
}

/// The serde sequence traits, all of which push each element into the list being built.
macro_rules! seq_impls {
    ($($trait:ident :: $method:ident),*) => {
        $(impl<'a, 'py> ser::$trait for Seq<'a, 'py> {
            type Ok = Bound<'py, PyAny>;
            type Error = Error;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
                self.push(value)
            }
            fn end(self) -> Result<Self::Ok> {
                self.finish()
            }
        })*
    };
}

seq_impls!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

/// A dict being built (maps, structs, struct variants).
struct Dict<'a, 'py> {
    ser: ToPy<'a, 'py>,
    dict: Bound<'py, PyDict>,
    key: Option<Bound<'py, PyAny>>,
    variant: Option<&'static str>,
}

impl<'a, 'py> Dict<'a, 'py> {
    fn new(ser: ToPy<'a, 'py>, variant: Option<&'static str>) -> Self {
        Dict {
            ser,
            dict: PyDict::new(ser.py()),
            key: None,
            variant,
        }
    }

    fn finish(self) -> Result<Bound<'py, PyAny>> {
        let dict = self.dict.into_any();
        match self.variant {
            Some(variant) => self.ser.tagged(variant, dict),
            None => Ok(dict),
        }
    }

    fn field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<()> {
        let value = value.serialize(self.ser)?;
        self.dict.set_item(self.ser.conv.static_name(key), value)?;
        Ok(())
    }
}

/// Map keys as serde_json writes them: strings (through the cache), integers and chars as
/// their text; anything else is an error.
struct KeySer<'a, 'py> {
    conv: &'a Converter<'py>,
}

fn key_error() -> Error {
    Error(PyValueError::new_err("map keys must be strings"))
}

macro_rules! int_keys {
    ($($method:ident: $ty:ty),*) => {
        $(fn $method(self, v: $ty) -> Result<Self::Ok> {
            Ok(self.conv.name(&v.to_string()).into_any())
        })*
    };
}

impl<'a, 'py> ser::Serializer for KeySer<'a, 'py> {
    type Ok = Bound<'py, PyAny>;
    type Error = Error;
    type SerializeSeq = ser::Impossible<Self::Ok, Error>;
    type SerializeTuple = ser::Impossible<Self::Ok, Error>;
    type SerializeTupleStruct = ser::Impossible<Self::Ok, Error>;
    type SerializeTupleVariant = ser::Impossible<Self::Ok, Error>;
    type SerializeMap = ser::Impossible<Self::Ok, Error>;
    type SerializeStruct = ser::Impossible<Self::Ok, Error>;
    type SerializeStructVariant = ser::Impossible<Self::Ok, Error>;

    int_keys!(serialize_i8: i8, serialize_i16: i16, serialize_i32: i32, serialize_i64: i64,
        serialize_i128: i128, serialize_u8: u8, serialize_u16: u16, serialize_u32: u32,
        serialize_u64: u64, serialize_u128: u128, serialize_char: char);

    fn serialize_str(self, v: &str) -> Result<Self::Ok> {
        Ok(self.conv.name(v).into_any())
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<Self::Ok> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<Self::Ok> {
        value.serialize(self)
    }
    fn serialize_bool(self, _v: bool) -> Result<Self::Ok> {
        Err(key_error())
    }
    fn serialize_f32(self, _v: f32) -> Result<Self::Ok> {
        Err(key_error())
    }
    fn serialize_f64(self, _v: f64) -> Result<Self::Ok> {
        Err(key_error())
    }
    fn serialize_bytes(self, _v: &[u8]) -> Result<Self::Ok> {
        Err(key_error())
    }
    fn serialize_none(self) -> Result<Self::Ok> {
        Err(key_error())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _value: &T) -> Result<Self::Ok> {
        Err(key_error())
    }
    fn serialize_unit(self) -> Result<Self::Ok> {
        Err(key_error())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<Self::Ok> {
        Err(key_error())
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<Self::Ok> {
        Err(key_error())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq> {
        Err(key_error())
    }
    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple> {
        Err(key_error())
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct> {
        Err(key_error())
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant> {
        Err(key_error())
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap> {
        Err(key_error())
    }
    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Self::SerializeStruct> {
        Err(key_error())
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant> {
        Err(key_error())
    }
}

impl<'a, 'py> ser::SerializeMap for Dict<'a, 'py> {
    type Ok = Bound<'py, PyAny>;
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<()> {
        self.key = Some(key.serialize(KeySer {
            conv: self.ser.conv,
        })?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        let key = self
            .key
            .take()
            .ok_or_else(|| Error(PyValueError::new_err("map value without a key")))?;
        self.dict.set_item(key, value.serialize(self.ser)?)?;
        Ok(())
    }
    fn end(self) -> Result<Self::Ok> {
        self.finish()
    }
}

impl<'a, 'py> ser::SerializeStruct for Dict<'a, 'py> {
    type Ok = Bound<'py, PyAny>;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<()> {
        self.field(key, value)
    }
    fn end(self) -> Result<Self::Ok> {
        self.finish()
    }
}

impl<'a, 'py> ser::SerializeStructVariant for Dict<'a, 'py> {
    type Ok = Bound<'py, PyAny>;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<()> {
        self.field(key, value)
    }
    fn end(self) -> Result<Self::Ok> {
        self.finish()
    }
}
