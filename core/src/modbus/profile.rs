//! Register profiles: what a meter's registers mean.
//!
//! Modbus carries 16-bit registers and nothing else; which registers hold a total, in which
//! type, word order and scale, is each vendor's own map (digest §4). A [`ModbusProfile`]
//! describes such a map; with it, and with register addresses (from the `request` option for
//! a read response, from the frame itself for writes), the registers an entry covers become
//! one model record with the entry's `quantity`, `label`, exact `value`, `unit` and
//! `address`.
//!
//! # The JSON form
//!
//! ```json
//! {"name": "ultrasonic-f32-cdab",
//!  "registers": [
//!    {"quantity": "volume_flow", "label": "flow", "address": 0, "kind": "holding",
//!     "type": "f32", "word_order": "swapped", "unit": "m3/h"},
//!    {"quantity": "battery", "address": 8, "type": "u16", "scale": "0.01", "unit": "V"},
//!    {"quantity": "error_flags", "address": 9, "type": "u16",
//!     "flags": {"0": "dry", "1": "low_battery"}}]}
//! ```
//!
//! Top level: `name` (required), `description` (optional text), `registers` (a non-empty
//! list). Each entry:
//!
//! | key | required | meaning |
//! |---|---|---|
//! | `quantity` | yes | the record's quantity, a snake_case name (`volume`, `volume_flow`, …) |
//! | `label` | no | the record's label (`forward_total`, …) |
//! | `address` | yes | the first register, 0–65535 (the protocol address, as in the PDU) |
//! | `kind` | no, `holding` | `holding` (functions 03, 06, 10, 17) or `input` (04) |
//! | `type` | yes | `u16`, `i16`, `u32`, `i32`, `u64`, `i64`, `f32`, `f64`, `bcd16`, `bcd32` |
//! | `word_order` | no, `big` | see below |
//! | `scale` | no, `"1"` | an exact decimal string the value is multiplied by (`"0.001"`) |
//! | `unit` | no | the record's unit (`m3`, `m3/h`, `m/s`, `V`, …) |
//! | `flags` | no | u16/u32 only: `{"<bit>": "<status flag>"}`, bit 0 = least significant |
//!
//! Registers per type: 1 for `u16`, `i16`, `bcd16`; 2 for `u32`, `i32`, `f32`, `bcd32`; 4 for
//! `u64`, `i64`, `f64`. Two entries of the same kind may not share a register.
//!
//! # Word orders
//!
//! Name the bytes of the value, most significant first, `A B C D` (32-bit; `A`…`H` for
//! 64-bit, `A B` for 16-bit). Each register is sent high byte first (Modbus is big-endian);
//! the word order says which bytes each register holds, in register order:
//!
//! | `word_order` | alias | 32-bit registers | 64-bit | 16-bit | registers | bytes in a register |
//! |---|---|---|---|---|---|---|
//! | `big` | `ABCD` | `AB` `CD` | `AB CD EF GH` | `AB` | most significant first | high first |
//! | `swapped` | `CDAB` | `CD` `AB` | `GH EF CD AB` | `AB` | least significant first | high first |
//! | `little` | `DCBA` | `DC` `BA` | `HG FE DC BA` | `BA` | least significant first | low first |
//! | `byte_swapped` | `BADC` | `BA` `DC` | `BA DC FE HG` | `BA` | most significant first | low first |
//!
//! Digest M2 (`00 00 C1 48`) is `f32` `swapped`: `C1 48 00 00` = −12.5. Digest M4's first
//! two registers (`00 12 D6 87`) are `u32` `big` = 1234567, × `"0.001"` = 1234.567 m3.
//!
//! # Values
//!
//! Integers (and BCD, each nibble one digit 0–9) are multiplied by `scale` exactly: the
//! result's decimals are those of the scale as written (360 × `"0.01"` = `3.60`). Floats
//! become the shortest decimal that reads back to the same float ([`Decimal::from_f32_shortest`],
//! [`Decimal::from_f64_shortest`]), then are multiplied by `scale` exactly. An entry whose
//! registers are not valid BCD, or a NaN or infinite float, is a warning and its registers
//! stay plain register records. `flags`: every set bit named in `flags` adds its status flag
//! to the frame's `status` (`raw` is the first flagged entry's value).

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde_json::{Map, Value as Json};

use crate::decimal::Decimal;
use crate::error::{Detail, Error, ErrorKind, Layer, Result};
use crate::model::{Address, Name, RawRecord, Record, RecordFields, Status, StatusFlag, Value};

/// Which register table an entry reads: holding registers (functions 03, 06, 10, 17) or
/// input registers (04).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RegisterKind {
    /// Holding registers.
    Holding,
    /// Input registers.
    Input,
}

impl RegisterKind {
    /// The profile's name (`holding`, `input`).
    pub const fn as_str(self) -> &'static str {
        match self {
            RegisterKind::Holding => "holding",
            RegisterKind::Input => "input",
        }
    }

    /// The kind of a register record's quantity (`holding_register`, `input_register`).
    fn of_quantity(quantity: &str) -> Option<Self> {
        match quantity {
            "holding_register" => Some(RegisterKind::Holding),
            "input_register" => Some(RegisterKind::Input),
            _ => None,
        }
    }
}

/// The data type of an entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DataType {
    /// Unsigned 16-bit integer (1 register).
    U16,
    /// Signed (two's complement) 16-bit integer (1 register).
    I16,
    /// Unsigned 32-bit integer (2 registers).
    U32,
    /// Signed 32-bit integer (2 registers).
    I32,
    /// Unsigned 64-bit integer (4 registers).
    U64,
    /// Signed 64-bit integer (4 registers).
    I64,
    /// IEEE 754 binary32 (2 registers).
    F32,
    /// IEEE 754 binary64 (4 registers).
    F64,
    /// Four BCD digits (1 register).
    Bcd16,
    /// Eight BCD digits (2 registers).
    Bcd32,
}

impl DataType {
    /// Every type, in the order of the docs.
    pub const ALL: [DataType; 10] = [
        DataType::U16,
        DataType::I16,
        DataType::U32,
        DataType::I32,
        DataType::U64,
        DataType::I64,
        DataType::F32,
        DataType::F64,
        DataType::Bcd16,
        DataType::Bcd32,
    ];

    /// The profile's name (`u16`, `f32`, `bcd32`, …).
    pub const fn as_str(self) -> &'static str {
        match self {
            DataType::U16 => "u16",
            DataType::I16 => "i16",
            DataType::U32 => "u32",
            DataType::I32 => "i32",
            DataType::U64 => "u64",
            DataType::I64 => "i64",
            DataType::F32 => "f32",
            DataType::F64 => "f64",
            DataType::Bcd16 => "bcd16",
            DataType::Bcd32 => "bcd32",
        }
    }

    /// The number of registers a value of this type takes.
    pub const fn registers(self) -> u16 {
        match self {
            DataType::U16 | DataType::I16 | DataType::Bcd16 => 1,
            DataType::U32 | DataType::I32 | DataType::F32 | DataType::Bcd32 => 2,
            DataType::U64 | DataType::I64 | DataType::F64 => 4,
        }
    }
}

/// How the bytes of a multi-register value are spread over its registers (module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WordOrder {
    /// `ABCD`: most significant register first, high byte first (Modbus-natural).
    Big,
    /// `DCBA`: least significant register first, low byte first (fully little-endian).
    Little,
    /// `CDAB`: least significant register first, high byte first ("word-swapped").
    Swapped,
    /// `BADC`: most significant register first, low byte first ("byte-swapped").
    ByteSwapped,
}

impl WordOrder {
    /// Every order.
    pub const ALL: [WordOrder; 4] = [
        WordOrder::Big,
        WordOrder::Little,
        WordOrder::Swapped,
        WordOrder::ByteSwapped,
    ];

    /// The profile's name (`big`, `little`, `swapped`, `byte_swapped`).
    pub const fn as_str(self) -> &'static str {
        match self {
            WordOrder::Big => "big",
            WordOrder::Little => "little",
            WordOrder::Swapped => "swapped",
            WordOrder::ByteSwapped => "byte_swapped",
        }
    }

    /// The byte-letter alias (`ABCD`, `DCBA`, `CDAB`, `BADC`).
    pub const fn letters(self) -> &'static str {
        match self {
            WordOrder::Big => "ABCD",
            WordOrder::Little => "DCBA",
            WordOrder::Swapped => "CDAB",
            WordOrder::ByteSwapped => "BADC",
        }
    }

    const fn least_significant_register_first(self) -> bool {
        matches!(self, WordOrder::Little | WordOrder::Swapped)
    }

    const fn low_byte_first(self) -> bool {
        matches!(self, WordOrder::Little | WordOrder::ByteSwapped)
    }
}

/// One entry of a profile: the registers of one value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProfileRegister {
    /// The record's quantity.
    pub quantity: Name,
    /// The record's label.
    pub label: Option<Name>,
    /// The first register's address.
    pub address: u16,
    /// Holding or input registers.
    pub kind: RegisterKind,
    /// The data type.
    pub data_type: DataType,
    /// The word order.
    pub word_order: WordOrder,
    /// The exact factor the value is multiplied by.
    pub scale: Decimal,
    /// The record's unit.
    pub unit: Option<Name>,
    /// Status flags for set bits (bit 0 = least significant), in bit order.
    pub flags: Vec<(u8, StatusFlag)>,
}

impl ProfileRegister {
    /// The registers this entry covers.
    pub fn range(&self) -> core::ops::Range<u32> {
        let start = u32::from(self.address);
        start..start.saturating_add(u32::from(self.data_type.registers()))
    }

    /// The value of the entry's `registers` (in wire order, as many as the type takes):
    /// the typed value times `scale`, exactly. `None` for invalid BCD, NaN or infinite floats
    /// and values out of the decimal's range.
    pub fn value(&self, registers: &[u16]) -> Option<Decimal> {
        let bytes = arrange(registers, self.word_order)?;
        let be2 = || bytes.first_chunk::<2>().copied();
        let be4 = || bytes.first_chunk::<4>().copied();
        let raw = match self.data_type {
            DataType::U16 => Decimal::from_int(i128::from(u16::from_be_bytes(be2()?))),
            DataType::I16 => Decimal::from_int(i128::from(i16::from_be_bytes(be2()?))),
            DataType::U32 => Decimal::from_int(i128::from(u32::from_be_bytes(be4()?))),
            DataType::I32 => Decimal::from_int(i128::from(i32::from_be_bytes(be4()?))),
            DataType::U64 => Decimal::from_int(i128::from(u64::from_be_bytes(bytes))),
            DataType::I64 => Decimal::from_int(i128::from(i64::from_be_bytes(bytes))),
            DataType::F32 => Decimal::from_f32_shortest(f32::from_be_bytes(be4()?))?,
            DataType::F64 => Decimal::from_f64_shortest(f64::from_be_bytes(bytes))?,
            DataType::Bcd16 => bcd(&be2()?)?,
            DataType::Bcd32 => bcd(&be4()?)?,
        };
        Decimal::new(
            raw.mantissa().checked_mul(self.scale.mantissa())?,
            raw.exponent().checked_add(self.scale.exponent())?,
        )
    }

    /// The unsigned integer of a `u16` or `u32` entry's registers (before `scale`): the
    /// status word that `flags` reads.
    pub fn unsigned(&self, registers: &[u16]) -> Option<u32> {
        let bytes = arrange(registers, self.word_order)?;
        match self.data_type {
            DataType::U16 => bytes
                .first_chunk::<2>()
                .map(|b| u32::from(u16::from_be_bytes(*b))),
            DataType::U32 => bytes.first_chunk::<4>().map(|b| u32::from_be_bytes(*b)),
            _ => None,
        }
    }

    /// The name used in warnings: the label, else the quantity, and the address.
    fn describe(&self) -> String {
        format!(
            "profile entry {} (register {})",
            self.label.as_deref().unwrap_or(&self.quantity),
            self.address
        )
    }
}

/// The value's bytes, most significant first, at the front of 8 bytes (the rest zero).
fn arrange(registers: &[u16], order: WordOrder) -> Option<[u8; 8]> {
    let mut words = [0u16; 4];
    let n = registers.len();
    for (slot, r) in words.iter_mut().zip(registers) {
        *slot = if order.low_byte_first() {
            r.swap_bytes()
        } else {
            *r
        };
    }
    let used = words.get_mut(..n)?;
    if order.least_significant_register_first() {
        used.reverse();
    }
    let mut bytes = [0u8; 8];
    for (slot, w) in bytes.chunks_exact_mut(2).zip(used.iter()) {
        slot.copy_from_slice(&w.to_be_bytes());
    }
    Some(bytes)
}

/// Unsigned BCD digits, most significant byte first (register order), through the project's
/// one BCD reader (which takes the least significant byte first and reads a top `F` nibble
/// as a sign: register BCD has none, so that nibble is refused here).
fn bcd(be_bytes: &[u8]) -> Option<Decimal> {
    if be_bytes.first().is_some_and(|b| b >> 4 == 0x0F) {
        return None;
    }
    let mut lsb_first = [0u8; 4];
    let lsb_first = lsb_first.get_mut(..be_bytes.len())?;
    for (d, s) in lsb_first.iter_mut().zip(be_bytes.iter().rev()) {
        *d = *s;
    }
    crate::mbus::datatypes::bcd(lsb_first).map(Decimal::from_int)
}

/// A register map: what each register of a meter means (module docs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModbusProfile {
    /// The profile's name.
    pub name: String,
    /// A description, if the profile gives one.
    pub description: Option<String>,
    /// The entries, in the profile's order.
    pub registers: Vec<ProfileRegister>,
}

/// A profile error: `malformed` at offset 0 (there are no frame bytes), naming the entry.
const fn bad(entry: Option<usize>, what: &'static str) -> Error {
    Error::new(
        ErrorKind::Malformed,
        Layer::Input,
        0,
        Detail::Profile { entry, what },
    )
}

const ENTRY_KEYS: [&str; 9] = [
    "quantity",
    "label",
    "address",
    "kind",
    "type",
    "word_order",
    "scale",
    "unit",
    "flags",
];

impl ModbusProfile {
    /// Reads a profile from its JSON text (module docs). Errors are `malformed` at offset 0,
    /// with a message naming the entry (`registers[2]`) and what is wrong with it.
    pub fn from_json(text: &str) -> Result<Self> {
        let value: Json = serde_json::from_str(text)
            .map_err(|_| bad(None, "the profile is not valid JSON text"))?;
        Self::from_value(&value)
    }

    /// Reads a profile from parsed JSON (for bindings that hold a dict or object).
    pub fn from_value(value: &Json) -> Result<Self> {
        let top = value
            .as_object()
            .ok_or(bad(None, "the profile is not a JSON object"))?;
        if top
            .keys()
            .any(|k| !matches!(k.as_str(), "name" | "description" | "registers"))
        {
            return Err(bad(
                None,
                "unknown key (the profile's keys are name, description, registers)",
            ));
        }
        let name = top
            .get("name")
            .and_then(Json::as_str)
            .ok_or(bad(None, "`name` is missing or not a string"))?
            .to_string();
        let description = match top.get("description") {
            None => None,
            Some(d) => Some(
                d.as_str()
                    .ok_or(bad(None, "`description` is not a string"))?
                    .to_string(),
            ),
        };
        let list = top
            .get("registers")
            .and_then(Json::as_array)
            .ok_or(bad(None, "`registers` is missing or not a list"))?;
        if list.is_empty() {
            return Err(bad(None, "`registers` is empty"));
        }
        let mut registers: Vec<ProfileRegister> = Vec::with_capacity(list.len());
        for (i, item) in list.iter().enumerate() {
            let entry = entry(i, item)?;
            let range = entry.range();
            if range.end > 0x1_0000 {
                return Err(bad(
                    Some(i),
                    "the value's registers run past register 65535",
                ));
            }
            if registers.iter().any(|e| {
                e.kind == entry.kind && e.range().start < range.end && range.start < e.range().end
            }) {
                return Err(bad(
                    Some(i),
                    "shares a register with an earlier entry of the same kind",
                ));
            }
            registers.push(entry);
        }
        Ok(ModbusProfile {
            name,
            description,
            registers,
        })
    }
}

fn text<'a>(
    i: usize,
    map: &'a Map<String, Json>,
    key: &str,
    what: &'static str,
) -> Result<Option<&'a str>> {
    match map.get(key) {
        None => Ok(None),
        Some(v) => v.as_str().map(Some).ok_or(bad(Some(i), what)),
    }
}

/// Names that water-meter profiles use again and again (quantities, labels and units of the
/// model), lent from this table so that a profile's records need no allocation for them.
const KNOWN_NAMES: [&str; 36] = [
    "volume",
    "volume_flow",
    "flow_velocity",
    "error_flags",
    "voltage",
    "current",
    "pressure",
    "energy",
    "power",
    "flow_temperature",
    "return_temperature",
    "external_temperature",
    "operating_time",
    "other",
    "flow",
    "velocity",
    "total",
    "forward_total",
    "reverse_total",
    "net_total",
    "status",
    "battery",
    "m3",
    "m3/h",
    "L",
    "L/h",
    "m/s",
    "V",
    "A",
    "C",
    "K",
    "bar",
    "kWh",
    "kW",
    "s",
    "h",
];

/// `name` as a model name: lent from [`KNOWN_NAMES`] when it is there, owned otherwise.
fn known_name(name: &str) -> Name {
    match KNOWN_NAMES.iter().find(|known| **known == name) {
        Some(known) => Name::Borrowed(known),
        None => Name::Owned(name.to_string()),
    }
}

fn entry(i: usize, item: &Json) -> Result<ProfileRegister> {
    let map = item
        .as_object()
        .ok_or(bad(Some(i), "the entry is not a JSON object"))?;
    if map.keys().any(|k| !ENTRY_KEYS.contains(&k.as_str())) {
        return Err(bad(
            Some(i),
            "unknown key (an entry's keys are quantity, label, address, kind, type, word_order, scale, unit, flags)",
        ));
    }
    let quantity = text(i, map, "quantity", "`quantity` is not a string")?
        .ok_or(bad(Some(i), "`quantity` is missing"))?;
    let snake = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    };
    if !snake(quantity) {
        return Err(bad(
            Some(i),
            "`quantity` is not a snake_case name (a-z, 0-9, _)",
        ));
    }
    let label = text(i, map, "label", "`label` is not a string")?;
    let address = map
        .get("address")
        .ok_or(bad(Some(i), "`address` is missing"))?
        .as_u64()
        .and_then(|a| u16::try_from(a).ok())
        .ok_or(bad(Some(i), "`address` is not an integer 0-65535"))?;
    let kind = match text(i, map, "kind", "`kind` is not a string")? {
        None | Some("holding") => RegisterKind::Holding,
        Some("input") => RegisterKind::Input,
        Some(_) => return Err(bad(Some(i), "`kind` is not holding or input")),
    };
    let type_name =
        text(i, map, "type", "`type` is not a string")?.ok_or(bad(Some(i), "`type` is missing"))?;
    let data_type = DataType::ALL
        .into_iter()
        .find(|t| t.as_str() == type_name)
        .ok_or(bad(
            Some(i),
            "`type` is not one of u16, i16, u32, i32, u64, i64, f32, f64, bcd16, bcd32",
        ))?;
    let word_order = match text(i, map, "word_order", "`word_order` is not a string")? {
        None => WordOrder::Big,
        Some(o) => WordOrder::ALL
            .into_iter()
            .find(|w| w.as_str() == o || w.letters() == o)
            .ok_or(bad(
                Some(i),
                "`word_order` is not one of big (ABCD), little (DCBA), swapped (CDAB), byte_swapped (BADC)",
            ))?,
    };
    let scale = match map.get("scale") {
        None => Decimal::from_int(1),
        Some(Json::String(s)) => Decimal::parse(s).ok_or(bad(
            Some(i),
            "`scale` is not a decimal number such as \"0.001\"",
        ))?,
        Some(Json::Number(n)) => n
            .as_i64()
            .map(|n| Decimal::from_int(i128::from(n)))
            .ok_or(bad(
                Some(i),
                "`scale` is a JSON number with a fraction: write it as a string such as \"0.001\" (exact)",
            ))?,
        Some(_) => return Err(bad(Some(i), "`scale` is not a decimal string")),
    };
    let unit = text(i, map, "unit", "`unit` is not a string")?;
    if unit.is_some_and(str::is_empty) {
        return Err(bad(Some(i), "`unit` is empty"));
    }
    let mut flags = Vec::new();
    if let Some(f) = map.get("flags") {
        let f = f
            .as_object()
            .ok_or(bad(Some(i), "`flags` is not an object of bit: flag"))?;
        let width: u8 = match data_type {
            DataType::U16 => 16,
            DataType::U32 => 32,
            _ => return Err(bad(Some(i), "`flags` needs type u16 or u32")),
        };
        for (bit, flag) in f {
            let bit = bit.parse::<u8>().ok().filter(|b| *b < width).ok_or(bad(
                Some(i),
                "a `flags` key is not a bit number of the type (0-15 for u16, 0-31 for u32)",
            ))?;
            let flag = flag
                .as_str()
                .and_then(|name| StatusFlag::ALL.into_iter().find(|f| f.as_str() == name))
                .ok_or(bad(
                    Some(i),
                    "a `flags` value is not a status flag (valve_open, valve_closed, valve_fault, low_battery, power_low, leak, burst, reverse_flow, tamper, dry, temporary_error, permanent_error, application_busy, application_error, alarm)",
                ))?;
            flags.push((bit, flag));
        }
        flags.sort_by_key(|(bit, _)| *bit);
    }
    Ok(ProfileRegister {
        quantity: known_name(quantity),
        label: label.map(known_name),
        address,
        kind,
        data_type,
        word_order,
        scale,
        unit: unit.map(known_name),
        flags,
    })
}

/// Applies `profile` to a frame's `records`: the register records (with addresses) an entry
/// covers become one record in place of the first; `status` gets the flags of set bits.
/// Entries only partly in the frame, values that do not decode and register records without
/// addresses are warnings.
pub fn apply(
    profile: &ModbusProfile,
    records: &mut Vec<Record>,
    status: &mut Option<Status>,
    warnings: &mut Vec<String>,
) {
    // (kind, address, register value, index) of every register record.
    let mut registers = Vec::new();
    let mut unaddressed = false;
    for (i, r) in records.iter().enumerate() {
        let Some(kind) = RegisterKind::of_quantity(r.quantity()) else {
            continue;
        };
        let word = r
            .raw()
            .as_ref()
            .and_then(|raw| raw.data().first_chunk::<2>().copied())
            .map(u16::from_be_bytes);
        match (&r.address(), word) {
            (Some(Address::Number(a)), Some(w)) => registers.push((kind, *a, w, i)),
            _ => unaddressed = true,
        }
    }
    if unaddressed {
        warnings.push(format!(
            "modbus profile {}: the registers have no addresses (a read response needs the request option): not applied",
            profile.name
        ));
        return;
    }
    // Replacements: (index of the first register, the record), and every index replaced.
    let mut replaced: Vec<(usize, Option<Record>)> = Vec::new();
    let mut taken: Vec<usize> = Vec::new();
    for entry in &profile.registers {
        // The entry's registers (at most 4) and their records, on the stack.
        let mut words = [0u16; 4];
        let mut indices = [usize::MAX; 4];
        let mut present = 0usize;
        for (slot, a) in entry.range().enumerate() {
            let hit = registers
                .iter()
                .find(|(k, addr, _, _)| *k == entry.kind && *addr == a);
            if let (Some((_, _, w, i)), Some(word), Some(index)) =
                (hit, words.get_mut(slot), indices.get_mut(slot))
            {
                *word = *w;
                *index = *i;
                present = present.saturating_add(1);
            }
        }
        if present == 0 {
            continue;
        }
        let needed = usize::from(entry.data_type.registers());
        if present != needed {
            warnings.push(format!(
                "{}: {present} of its {needed} registers are in the frame: left as registers",
                entry.describe(),
            ));
            continue;
        }
        let words = words.get(..needed).unwrap_or(&[]);
        let found = indices.get(..needed).unwrap_or(&[]);
        let Some(value) = entry.value(words) else {
            let why = match entry.data_type {
                DataType::Bcd16 | DataType::Bcd32 => "not BCD digits",
                DataType::F32 | DataType::F64 => "not a finite number",
                _ => "out of range",
            };
            warnings.push(format!(
                "{}: the registers are {why}: left as registers",
                entry.describe()
            ));
            continue;
        };
        let mut bytes = [0u8; 8];
        for (pair, w) in bytes.chunks_exact_mut(2).zip(words) {
            pair.copy_from_slice(&w.to_be_bytes());
        }
        let bytes = bytes.get(..needed.saturating_mul(2)).unwrap_or(&[]);
        let mut record = RecordFields::new(entry.quantity.clone());
        record.value = Some(Value::Number(value));
        record.unit = entry.unit.clone();
        record.label = entry.label.clone();
        record.address = Some(Address::Number(u32::from(entry.address)));
        record.raw = Some(RawRecord::from_parts(0, bytes, 0, 0));
        if !entry.flags.is_empty() {
            let raw = entry.unsigned(words).unwrap_or(0);
            let s = status.get_or_insert(Status {
                raw,
                ..Status::default()
            });
            for (bit, flag) in &entry.flags {
                if raw.checked_shr(u32::from(*bit)).unwrap_or(0) & 1 == 1 {
                    s.flags.insert(*flag);
                }
            }
        }
        let first = found.iter().copied().min().unwrap_or(0);
        replaced.push((first, Some(record.into())));
        taken.extend_from_slice(found);
    }
    if replaced.is_empty() {
        return;
    }
    let old = core::mem::take(records);
    for (i, r) in old.into_iter().enumerate() {
        if let Some((_, record)) = replaced.iter_mut().find(|(first, _)| *first == i) {
            records.extend(record.take());
        } else if !taken.contains(&i) {
            records.push(r);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hex::parse_hex;
    use crate::{decode, ErrorKind, Options, Protocol};
    use alloc::sync::Arc;

    fn entry(data_type: DataType, word_order: WordOrder, scale: &str) -> ProfileRegister {
        ProfileRegister {
            quantity: "volume".into(),
            label: None,
            address: 0,
            kind: RegisterKind::Holding,
            data_type,
            word_order,
            scale: Decimal::parse(scale).unwrap(),
            unit: None,
            flags: Vec::new(),
        }
    }

    /// Every type in every word order. The registers are written by hand from the value's
    /// bytes `A B C D …` (most significant first) by the table of the module docs, and the
    /// expected decimals by hand from those bytes.
    #[test]
    fn every_type_in_every_word_order() {
        use DataType::*;
        use WordOrder::*;
        let cases: &[(DataType, WordOrder, &[u16], &str, &str)] = &[
            // u16 0x1234 = 4660; read low byte first: 0x3412 = 13330.
            (U16, Big, &[0x1234], "1", "4660"),
            (U16, Swapped, &[0x1234], "1", "4660"),
            (U16, Little, &[0x1234], "1", "13330"),
            (U16, ByteSwapped, &[0x1234], "1", "13330"),
            // i16 0xFF38 = -200; low byte first 0x38FF = 14591.
            (I16, Big, &[0xFF38], "1", "-200"),
            (I16, Swapped, &[0xFF38], "1", "-200"),
            (I16, Little, &[0xFF38], "1", "14591"),
            (I16, ByteSwapped, &[0xFF38], "1", "14591"),
            // bcd16 digits 1234 × 0.1; low byte first: 3412 × 0.1.
            (Bcd16, Big, &[0x1234], "0.1", "123.4"),
            (Bcd16, Swapped, &[0x1234], "0.1", "123.4"),
            (Bcd16, Little, &[0x1234], "0.1", "341.2"),
            (Bcd16, ByteSwapped, &[0x1234], "0.1", "341.2"),
            // u32 00 12 D6 87 = 1234567 × 0.001 (digest M4).
            (U32, Big, &[0x0012, 0xD687], "0.001", "1234.567"),
            (U32, Swapped, &[0xD687, 0x0012], "0.001", "1234.567"),
            (U32, Little, &[0x87D6, 0x1200], "0.001", "1234.567"),
            (U32, ByteSwapped, &[0x1200, 0x87D6], "0.001", "1234.567"),
            // i32 FF FF FF 85 = -123 × 0.01.
            (I32, Big, &[0xFFFF, 0xFF85], "0.01", "-1.23"),
            (I32, Swapped, &[0xFF85, 0xFFFF], "0.01", "-1.23"),
            (I32, Little, &[0x85FF, 0xFFFF], "0.01", "-1.23"),
            (I32, ByteSwapped, &[0xFFFF, 0x85FF], "0.01", "-1.23"),
            // f32 C1 48 00 00 = -12.5 (digest M2 is the swapped form).
            (F32, Big, &[0xC148, 0x0000], "1", "-12.5"),
            (F32, Swapped, &[0x0000, 0xC148], "1", "-12.5"),
            (F32, Little, &[0x0000, 0x48C1], "1", "-12.5"),
            (F32, ByteSwapped, &[0x48C1, 0x0000], "1", "-12.5"),
            // f32 3D CC CC CD = 0.1f32: the shortest decimal, not 0.100000001490116.
            (F32, Big, &[0x3DCC, 0xCCCD], "1", "0.1"),
            (F32, Swapped, &[0xCCCD, 0x3DCC], "1", "0.1"),
            (F32, Little, &[0xCDCC, 0xCC3D], "1", "0.1"),
            (F32, ByteSwapped, &[0xCC3D, 0xCDCC], "1", "0.1"),
            // bcd32 digits 12345678 × 0.001.
            (Bcd32, Big, &[0x1234, 0x5678], "0.001", "12345.678"),
            (Bcd32, Swapped, &[0x5678, 0x1234], "0.001", "12345.678"),
            (Bcd32, Little, &[0x7856, 0x3412], "0.001", "12345.678"),
            (Bcd32, ByteSwapped, &[0x3412, 0x7856], "0.001", "12345.678"),
            // u64 00 00 00 02 54 0B E3 FF = 9999999999 × 0.001.
            (
                U64,
                Big,
                &[0x0000, 0x0002, 0x540B, 0xE3FF],
                "0.001",
                "9999999.999",
            ),
            (
                U64,
                Swapped,
                &[0xE3FF, 0x540B, 0x0002, 0x0000],
                "0.001",
                "9999999.999",
            ),
            (
                U64,
                Little,
                &[0xFFE3, 0x0B54, 0x0200, 0x0000],
                "0.001",
                "9999999.999",
            ),
            (
                U64,
                ByteSwapped,
                &[0x0000, 0x0200, 0x0B54, 0xFFE3],
                "0.001",
                "9999999.999",
            ),
            // u64 all ones: 2^64 - 1, exact beyond 2^53.
            (U64, Big, &[0xFFFF; 4], "1", "18446744073709551615"),
            // i64 FF FF FF FF FF FF FF FE = -2.
            (I64, Big, &[0xFFFF, 0xFFFF, 0xFFFF, 0xFFFE], "1", "-2"),
            (I64, Swapped, &[0xFFFE, 0xFFFF, 0xFFFF, 0xFFFF], "1", "-2"),
            (I64, Little, &[0xFEFF, 0xFFFF, 0xFFFF, 0xFFFF], "1", "-2"),
            (
                I64,
                ByteSwapped,
                &[0xFFFF, 0xFFFF, 0xFFFF, 0xFEFF],
                "1",
                "-2",
            ),
            // f64 40 93 4A 44 9B A5 E3 54 = 1234.567.
            (F64, Big, &[0x4093, 0x4A44, 0x9BA5, 0xE354], "1", "1234.567"),
            (
                F64,
                Swapped,
                &[0xE354, 0x9BA5, 0x4A44, 0x4093],
                "1",
                "1234.567",
            ),
            (
                F64,
                Little,
                &[0x54E3, 0xA59B, 0x444A, 0x9340],
                "1",
                "1234.567",
            ),
            (
                F64,
                ByteSwapped,
                &[0x9340, 0x444A, 0xA59B, 0x54E3],
                "1",
                "1234.567",
            ),
            // Scale keeps its decimals: 360 × 0.01 = 3.60; a float times a scale.
            (U16, Big, &[0x0168], "0.01", "3.60"),
            (F32, Swapped, &[0x0000, 0xC148], "0.001", "-0.0125"),
        ];
        for (t, o, regs, scale, want) in cases {
            let e = entry(*t, *o, scale);
            assert_eq!(usize::from(t.registers()), regs.len(), "{t:?}");
            let got = e.value(regs).map(|d| d.to_string());
            assert_eq!(got.as_deref(), Some(*want), "{t:?} {o:?} {regs:04X?}");
        }
        // Every combination is in the table.
        for t in DataType::ALL {
            for o in WordOrder::ALL {
                assert!(
                    cases.iter().any(|(ct, co, ..)| *ct == t && *co == o),
                    "{t:?} {o:?}"
                );
            }
        }
        // Not BCD, not finite.
        assert_eq!(entry(Bcd16, Big, "1").value(&[0x12A4]), None);
        assert_eq!(entry(F32, Big, "1").value(&[0x7FC0, 0x0000]), None);
    }

    const M4_PROFILE: &str = r#"{"name": "m4", "registers": [
        {"quantity": "volume", "label": "forward_total", "address": 0, "kind": "holding",
         "type": "u32", "word_order": "big", "scale": "0.001", "unit": "m3"},
        {"quantity": "volume", "label": "total_integer", "address": 2, "type": "u16", "unit": "m3"},
        {"quantity": "volume", "label": "total_fraction", "address": 3, "type": "u16", "unit": "L"}]}"#;

    fn opts(profile: &str, request: Option<&str>) -> Options {
        Options::default()
            .with_protocol(Some(Protocol::ModbusRtu))
            .with_request(request.map(|r| parse_hex(r).unwrap()))
            .with_modbus_profile(Some(Arc::new(ModbusProfile::from_json(profile).unwrap())))
    }

    fn summary(d: &crate::Decoded) -> Vec<String> {
        d.records
            .iter()
            .map(|r| {
                format!(
                    "{} {} {} {} @{:?}",
                    r.quantity(),
                    r.label().unwrap_or("-"),
                    r.number().map(|n| n.to_string()).unwrap_or_default(),
                    r.unit().unwrap_or("-"),
                    r.address()
                )
            })
            .collect()
    }

    #[test]
    fn digest_m4_as_u32_and_as_split_integer_and_fraction() {
        let frame = parse_hex("11 03 08 00 12 D6 87 04 D2 02 37 B5 41").unwrap();
        let d = decode(&frame, &opts(M4_PROFILE, Some("11 03 00 00 00 04 46 99"))).unwrap();
        assert_eq!(
            summary(&d),
            [
                "volume forward_total 1234.567 m3 @Some(Number(0))",
                "volume total_integer 1234 m3 @Some(Number(2))",
                "volume total_fraction 567 L @Some(Number(3))",
            ]
        );
        assert!(d.warnings.is_empty(), "{:?}", d.warnings);
        assert_eq!(d.records[0].raw().unwrap().data(), [0x00, 0x12, 0xD6, 0x87]);
        // The link (and so the round trip) is untouched.
        assert_eq!(crate::encode(&d).unwrap(), frame);
    }

    #[test]
    fn digest_m2_swapped_float() {
        let profile = r#"{"name": "m2", "registers": [{"quantity": "flow_velocity",
            "address": 0, "type": "f32", "word_order": "CDAB", "unit": "m/s"}]}"#;
        let m2 = parse_hex("01 03 04 00 00 C1 48 AB 95").unwrap();
        let d = decode(&m2, &opts(profile, Some("01 03 00 00 00 02 C4 0B"))).unwrap();
        assert_eq!(summary(&d), ["flow_velocity - -12.5 m/s @Some(Number(0))"]);
        // Without the request the registers have no addresses: a warning, plain registers.
        let d = decode(&m2, &opts(profile, None)).unwrap();
        assert_eq!(d.records.len(), 2);
        assert!(
            d.warnings.iter().any(|w| w.contains("request option")),
            "{:?}",
            d.warnings
        );
        // Registers 1-2 asked for: the entry at 0 has only register 1 in the frame.
        let d = decode(&m2, &opts(profile, Some("01 03 00 01 00 02 95 CB"))).unwrap();
        assert_eq!(d.records.len(), 2);
        assert!(
            d.warnings
                .iter()
                .any(|w| w.contains("1 of its 2 registers")),
            "{:?}",
            d.warnings
        );
    }

    #[test]
    fn writes_input_registers_and_status_flags() {
        // M6 writes 0x000A, 0x0102 to registers 1-2: addresses from the frame itself.
        let profile = r#"{"name": "w", "registers": [{"quantity": "other", "address": 1,
            "type": "u32", "scale": "0.01"}]}"#;
        let m6 = parse_hex("01 10 00 01 00 02 04 00 0A 01 02 92 30").unwrap();
        let d = decode(&m6, &opts(profile, None)).unwrap();
        assert_eq!(summary(&d), ["other - 6556.18 - @Some(Number(1))"]);
        // Input registers need kind input; a holding entry does not apply to them.
        let input = r#"{"name": "i", "registers": [
            {"quantity": "error_flags", "label": "status", "address": 0, "kind": "input",
             "type": "u16", "flags": {"0": "dry", "3": "reverse_flow", "14": "low_battery"}},
            {"quantity": "battery", "address": 1, "kind": "input", "type": "u16",
             "scale": "0.01", "unit": "V"}]}"#;
        let frame = parse_hex("01 04 04 40 09 01 68").unwrap();
        let mut frame_crc = frame.clone();
        let crc = super::super::link::crc16(&frame);
        frame_crc.extend_from_slice(&crc.to_le_bytes());
        let d = decode(&frame_crc, &opts(input, Some("01 04 00 00 00 02 71 CB"))).unwrap();
        assert_eq!(
            summary(&d),
            [
                "error_flags status 16393 - @Some(Number(0))",
                "battery - 3.60 V @Some(Number(1))"
            ]
        );
        let status = d.status.unwrap();
        assert_eq!(status.raw, 0x4009);
        let flags: Vec<_> = status.flags.iter().map(StatusFlag::as_str).collect();
        assert_eq!(flags, ["low_battery", "reverse_flow", "dry"]);
        let holding = input.replace("\"input\"", "\"holding\"");
        let d = decode(&frame_crc, &opts(&holding, Some("01 04 00 00 00 02 71 CB"))).unwrap();
        assert_eq!(d.records.len(), 2);
        assert!(d.records.iter().all(|r| r.quantity() == "input_register"));
        assert!(d.status.is_none());
    }

    #[test]
    fn bad_profiles_name_the_entry() {
        let ok = r#"{"quantity": "volume", "address": 0, "type": "u16"}"#;
        let cases = [
            (
                "not json",
                "modbus profile: the profile is not valid JSON text",
            ),
            ("[]", "not a JSON object"),
            (r#"{"registers": []}"#, "`name` is missing"),
            (r#"{"name": "x", "registers": []}"#, "`registers` is empty"),
            (
                r#"{"name": "x", "extra": 1, "registers": []}"#,
                "unknown key",
            ),
        ];
        for (text, needle) in cases {
            let e = ModbusProfile::from_json(text).unwrap_err();
            assert_eq!((e.kind(), e.offset()), (ErrorKind::Malformed, 0));
            assert!(e.to_string().contains(needle), "{text}: {e}");
        }
        let entries = [
            (
                r#"{"quantity": "volume", "address": 2, "type": "u128"}"#,
                "`type` is not one of",
            ),
            (
                r#"{"quantity": "volume", "address": 2, "type": "u32", "word_order": "middle"}"#,
                "`word_order` is not one of",
            ),
            (
                r#"{"quantity": "volume", "address": 2, "type": "u16", "kind": "coil"}"#,
                "`kind`",
            ),
            (
                r#"{"quantity": "volume", "address": 70000, "type": "u16"}"#,
                "`address`",
            ),
            (
                r#"{"quantity": "volume", "type": "u16"}"#,
                "`address` is missing",
            ),
            (
                r#"{"quantity": "Volume", "address": 2, "type": "u16"}"#,
                "snake_case",
            ),
            (
                r#"{"quantity": "volume", "address": 2, "type": "u16", "scale": 0.001}"#,
                "write it as a string",
            ),
            (
                r#"{"quantity": "volume", "address": 2, "type": "u16", "scale": "1/1000"}"#,
                "`scale`",
            ),
            (
                r#"{"quantity": "volume", "address": 2, "type": "u16", "flags": {"3": "flooded"}}"#,
                "not a status flag",
            ),
            (
                r#"{"quantity": "volume", "address": 2, "type": "u16", "flags": {"16": "dry"}}"#,
                "bit number",
            ),
            (
                r#"{"quantity": "volume", "address": 2, "type": "f32", "flags": {"1": "dry"}}"#,
                "u16 or u32",
            ),
            (
                r#"{"quantity": "volume", "address": 2, "type": "u16", "wordorder": "big"}"#,
                "unknown key",
            ),
            (
                r#"{"quantity": "volume", "address": 0, "type": "u16"}"#,
                "shares a register",
            ),
            (
                r#"{"quantity": "volume", "address": 65535, "type": "u32"}"#,
                "past register 65535",
            ),
        ];
        for (bad_entry, needle) in entries {
            let text = format!(r#"{{"name": "x", "registers": [{ok}, {bad_entry}]}}"#);
            let e = ModbusProfile::from_json(&text).unwrap_err();
            assert_eq!((e.kind(), e.offset()), (ErrorKind::Malformed, 0));
            let msg = e.to_string();
            assert!(msg.starts_with("modbus profile registers[1]: "), "{msg}");
            assert!(msg.contains(needle), "{bad_entry}: {msg}");
        }
        // The same registers as input registers do not overlap holding ones; aliases work.
        let text = format!(
            r#"{{"name": "x", "registers": [{ok}, {{"quantity": "volume", "address": 0, "kind": "input", "type": "u32", "word_order": "DCBA", "scale": 10}}]}}"#
        );
        let p = ModbusProfile::from_json(&text).unwrap();
        assert_eq!(p.registers[1].word_order, WordOrder::Little);
        assert_eq!(p.registers[1].scale, Decimal::from_int(10));
    }
}
