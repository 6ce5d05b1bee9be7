//! EN 13757-3 data records: DIF → DIFE* → VIF → VIFE* → data (`mbus-tables.md` §1, §11).

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::datatypes::{self, bcd, bcd_digits, int_le};
use super::view;
use super::vif::{self, Coding, Effect, Meaning};
use crate::decimal::Decimal;
use crate::error::{Detail, Error, ErrorKind, Layer, Result};
use crate::model::{Bytes, Decoded, Function, RawRecord, ReadRecord, Record, RecordFields, Value};
use crate::reader::Reader;

/// At most 10 DIFEs and 10 VIFEs per record (§1.4, §2).
pub const MAX_EXTENSIONS: usize = 10;

/// The idle filler DIF.
pub const FILLER: u8 = 0x2F;

/// How the records of one frame are read.
#[derive(Clone, Copy, Debug, Default)]
pub struct Context {
    /// The frame goes from master to slave (VIFEs 00–0F are object actions, not errors).
    pub master_to_slave: bool,
    /// Multi-byte data fields are sent most significant byte first (CI 76/77, mode 2).
    pub msb_first: bool,
}

/// Reads records until the reader is empty, into `out.records`; DIF `0F`/`1F` put the rest
/// in `out.manufacturer_data`. The record boundaries come from the zero-copy walk
/// ([`view::Records`]), so the view and the model always agree on where a record is.
pub fn parse_records(r: &mut Reader<'_>, ctx: Context, out: &mut Decoded) -> Result<()> {
    // A record takes 3 bytes or more (DIF, VIF, data) and most take 4 or more: reserve once
    // for that many, so the vector of (large) records is never grown and moved.
    out.records.reserve(r.remaining() / 4);
    let mut walk = view::Records::new(r.rest(), r.position());
    for item in &mut walk {
        let found = item?;
        if found.dib() == [0x7F] {
            let mut record = RecordFields::new("global_readout_request");
            record.raw = Some(RawRecord::from_parts(found.fill(), found.bytes(), 1, 0));
            out.records.push(record.into());
            continue;
        }
        if !ctx.msb_first && plain_record(&found, &mut out.records).is_some() {
            continue;
        }
        record_from_view(
            &found,
            ctx,
            found.fill(),
            &mut out.warnings,
            &mut out.records,
        )?;
    }
    out.trailing_fill = walk.trailing_fill();
    if let Some(data) = walk.manufacturer_data() {
        out.manufacturer_data = Some(Bytes::new(data));
        out.more_records_follow = walk.more_records_follow();
    }
    r.take_rest();
    Ok(())
}

/// The common record — fixed-length data and a known VIF without combinable VIFEs: a number
/// the view reads, a date or time (types G, J, F, I) or an identifier — built straight from
/// the walk's view: the same record the general reader ([`record_from_view`]) builds, without
/// reading the DIB and VIB a second time. `None` sends every other record (text, real32 dates
/// and identifiers, invalid BCD, reserved codes, scaling errors, warnings) to the general
/// reader, with `records` unchanged.
#[inline]
fn plain_record(found: &view::RecordView<'_>, records: &mut Vec<Record>) -> Option<()> {
    let meaning = found.meaning();
    if !found.is_plain() || !meaning.known {
        return None;
    }
    // Each kind of value is pushed from its own arm (the macro): the record's writer copies a
    // value of a known variant, field by field, instead of the whole enum's bytes through
    // the stack (wide loads over narrow stores stall the processor).
    macro_rules! push {
        ($quantity:expr, $value:expr, $flags:expr) => {
            Record::push_number_record(
                records,
                ($quantity, meaning.unit),
                $value,
                (found.storage(), found.tariff(), found.subunit()),
                found.function(),
                $flags,
                raw_parts(found),
            )
        };
    }
    match meaning.coding {
        Coding::Date | Coding::Ident => {
            let data = found.data();
            let data_field = found.dif() & 0x0F;
            let is_bcd = matches!(data_field, 0x9..=0xC | 0xE);
            let value = match meaning.coding {
                _ if data_field == 0x5 => return None,
                Coding::Ident if is_bcd => Value::Text(digits(data)),
                Coding::Ident => Value::Text(format!("{}", int_le(data, false)?)),
                _ if is_bcd => return None,
                _ => {
                    let point = datatypes::time_point(data)?;
                    let quantity = date_quantity(meaning.quantity, false, data.len());
                    push!(
                        quantity,
                        Value::Time(point.timestamp),
                        (point.invalid, point.dst)
                    );
                    return Some(());
                }
            };
            push!(meaning.quantity, value, (false, false));
        }
        _ => {
            let number = found.number()?;
            push!(meaning.quantity, Value::Number(number), (false, false));
        }
    }
    Some(())
}

/// The storage number, tariff and subunit accumulated over DIF and DIFEs (§1.4).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Dib {
    pub(crate) data_field: u8,
    pub(crate) function: u8,
    pub(crate) storage: u64,
    pub(crate) tariff: u32,
    pub(crate) subunit: u32,
}

pub(crate) fn read_dib(r: &mut Reader<'_>) -> Result<Dib> {
    let dif = r.u8("DIF")?;
    let mut dib = Dib {
        data_field: dif & 0x0F,
        function: (dif >> 4) & 0x03,
        storage: u64::from((dif >> 6) & 1),
        ..Dib::default()
    };
    let mut more = dif & 0x80 != 0;
    let mut k: u32 = 0;
    while more {
        if k as usize == MAX_EXTENSIONS {
            return Err(Error::new(
                ErrorKind::Malformed,
                Layer::Application,
                r.position(),
                Detail::TooMany {
                    what: "DIFEs in one record",
                    max: MAX_EXTENSIONS,
                },
            ));
        }
        let dife = r.u8("DIFE")?;
        let storage_shift = k.wrapping_mul(4).wrapping_add(1);
        dib.storage |= u64::from(dife & 0x0F).wrapping_shl(storage_shift);
        dib.tariff |= u32::from((dife >> 4) & 0x03).wrapping_shl(k.wrapping_mul(2));
        dib.subunit |= u32::from((dife >> 6) & 0x01).wrapping_shl(k);
        more = dife & 0x80 != 0;
        k = k.wrapping_add(1);
    }
    Ok(dib)
}

/// Everything the VIB says about the record.
pub(crate) struct Vib {
    pub(crate) meaning: Meaning,
    pub(crate) unit: Option<&'static str>,
    /// Unit suffixes of combinable VIFEs (`/h`, `/L`, …), applied when the record is built.
    pub(crate) unit_suffixes: Names<2>,
    pub(crate) unit_text: Option<String>,
    pub(crate) exponent: i16,
    pub(crate) additive: Option<Decimal>,
    pub(crate) modifiers: Names<6>,
    pub(crate) label: Option<&'static str>,
    pub(crate) record_error: Option<&'static str>,
    pub(crate) action: Option<&'static str>,
    pub(crate) manufacturer_specific: bool,
}

/// Up to `N` static names without allocating (a VIB has at most 10 VIFEs).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Names<const N: usize> {
    items: [&'static str; N],
    len: u8,
}

impl<const N: usize> Names<N> {
    pub(crate) const EMPTY: Self = Names {
        items: [""; N],
        len: 0,
    };

    pub(crate) fn push(&mut self, name: &'static str) {
        if let Some(slot) = self.items.get_mut(usize::from(self.len)) {
            *slot = name;
            self.len = self.len.saturating_add(1);
        }
    }

    pub(crate) fn as_slice(&self) -> &[&'static str] {
        self.items.get(..usize::from(self.len)).unwrap_or(&[])
    }
}

impl Vib {
    /// Sets the VIB to a new meaning without rewriting its name arrays.
    fn reset(&mut self, meaning: Meaning) {
        self.meaning = meaning;
        self.unit = meaning.unit;
        self.unit_suffixes.len = 0;
        self.unit_text = None;
        self.exponent = meaning.exponent;
        self.additive = None;
        self.modifiers.len = 0;
        self.label = None;
        self.record_error = None;
        self.action = None;
        self.manufacturer_specific = meaning.quantity == "manufacturer_specific";
    }

    pub(crate) fn new(meaning: Meaning) -> Vib {
        Vib {
            meaning,
            unit: meaning.unit,
            unit_suffixes: Names::EMPTY,
            unit_text: None,
            exponent: meaning.exponent,
            additive: None,
            modifiers: Names::EMPTY,
            label: None,
            record_error: None,
            action: None,
            manufacturer_specific: meaning.quantity == "manufacturer_specific",
        }
    }
}

fn too_many_vifes(r: &Reader<'_>) -> Error {
    Error::new(
        ErrorKind::Malformed,
        Layer::Application,
        r.position(),
        Detail::TooMany {
            what: "VIFEs in one record",
            max: MAX_EXTENSIONS,
        },
    )
}

/// Reads the plain-text unit of VIF 7C/FC: a length byte and the text, last character first.
fn read_plain_text(r: &mut Reader<'_>) -> Result<String> {
    let len = r.u8("plain-text unit length")?;
    let text = r.take(usize::from(len), "plain-text unit")?;
    Ok(reversed_text(text))
}

/// Text sent last character first (plain-text units, LVAR strings), each byte one character
/// (Latin-1), in one allocation of the right size for ASCII.
pub(crate) fn reversed_text(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(bytes.len());
    for &b in bytes.iter().rev() {
        text.push(char::from(b));
    }
    text
}

pub(crate) fn read_vib(
    r: &mut Reader<'_>,
    ctx: Context,
    warnings: &mut Vec<String>,
) -> Result<Vib> {
    let mut vib = Vib::new(vif::RESERVED);
    read_vib_into(r, ctx, warnings, &mut vib)?;
    Ok(vib)
}

/// Reads a VIB into `vib`.
fn read_vib_into(
    r: &mut Reader<'_>,
    ctx: Context,
    warnings: &mut Vec<String>,
    vib: &mut Vib,
) -> Result<()> {
    let vif_at = r.position();
    let vif = r.u8("VIF")?;
    let mut count = 0usize;
    let mut unit_text = None;
    let mut plain_text_after_vifes = false;
    let (meaning, more) = match vif {
        0xFB | 0xFD => {
            let code = r.u8("VIF extension")?;
            count = 1;
            let meaning = if vif == 0xFB {
                *vif::fb(code)
            } else if code & 0x7F == 0x7D && code & 0x80 != 0 {
                let second = r.u8("second-level VIF extension")?;
                count = 2;
                let meaning = *vif::fd_second_level(second);
                if !meaning.known {
                    warnings.push(format!(
                        "reserved VIF FD 7D {second:02X} at offset {vif_at}"
                    ));
                }
                vib.reset(meaning);
                return finish_vib(r, ctx, second & 0x80 != 0, count, None, warnings, vib);
            } else {
                *vif::fd(code)
            };
            if !meaning.known {
                warnings.push(format!(
                    "reserved VIF {vif:02X} {code:02X} at offset {vif_at}"
                ));
            }
            (meaning, code & 0x80 != 0)
        }
        0xEF => {
            let code = r.u8("VIF extension")?;
            count = 1;
            warnings.push(format!(
                "VIF EF (reserved third extension table) {code:02X} at offset {vif_at}"
            ));
            (vif::RESERVED, code & 0x80 != 0)
        }
        0x7C => {
            unit_text = Some(read_plain_text(r)?);
            (PLAIN_TEXT, false)
        }
        0xFC => {
            plain_text_after_vifes = true;
            (PLAIN_TEXT, true)
        }
        _ => {
            let meaning = *vif::primary(vif);
            if !meaning.known {
                warnings.push(format!("reserved VIF {vif:02X} at offset {vif_at}"));
            }
            (meaning, vif & 0x80 != 0)
        }
    };
    if plain_text_after_vifes {
        return plain_text_with_vifes(r, ctx, count, warnings, vib);
    }
    vib.reset(meaning);
    finish_vib(r, ctx, more, count, unit_text, warnings, vib)
}

/// VIF FC: a plain-text unit with VIFEs. EN 13757-3:2013+ (C.2) sends the VIFEs first, then
/// the length and the text; older meters (and libmbus, jmbus) send the text right after FC and
/// the VIFEs after it. The walk decides which order reads whole, printable text, the 2013
/// order when both do ([`view::plain_text_vifes_first`]); the VIB is read once, in that order.
fn plain_text_with_vifes(
    r: &mut Reader<'_>,
    ctx: Context,
    count: usize,
    warnings: &mut Vec<String>,
    vib: &mut Vib,
) -> Result<()> {
    let text_first = !view::plain_text_vifes_first(r.rest());
    let early_text = if text_first {
        Some(read_plain_text(r)?)
    } else {
        None
    };
    vib.reset(PLAIN_TEXT);
    let (mut more, mut count) = (true, count);
    combinable_chain_into(r, ctx, vib, &mut more, &mut count, warnings)?;
    let text = match early_text {
        Some(text) => {
            warnings.push(String::from(
                "VIF FC: plain text read before the VIFEs (pre-2013 order)",
            ));
            text
        }
        None => read_plain_text(r)?,
    };
    vib.unit_text = Some(text);
    vib.unit = None;
    Ok(())
}

/// The meaning of a plain-text unit (VIF 7C, FC): quantity `other`, no unit — the reserved
/// code's meaning, but known.
pub(crate) const PLAIN_TEXT: Meaning = Meaning {
    known: true,
    ..vif::RESERVED
};

/// Reads the combinable VIFEs after the (true) VIF into `vib`, already set to its meaning.
fn finish_vib(
    r: &mut Reader<'_>,
    ctx: Context,
    more: bool,
    count: usize,
    unit_text: Option<String>,
    warnings: &mut Vec<String>,
    vib: &mut Vib,
) -> Result<()> {
    let (mut more, mut count) = (more, count);
    combinable_chain_into(r, ctx, vib, &mut more, &mut count, warnings)?;
    if unit_text.is_some() {
        vib.unit = None;
        vib.unit_text = unit_text;
    }
    Ok(())
}

/// Applies the combinable VIFEs that follow while `more` is set to `vib`, already set to its
/// meaning (in place: no moves of the large struct).
fn combinable_chain_into(
    r: &mut Reader<'_>,
    ctx: Context,
    vib: &mut Vib,
    more: &mut bool,
    count: &mut usize,
    warnings: &mut Vec<String>,
) -> Result<()> {
    let mut chain = VifeChain::new(vib);
    while *more {
        if *count >= MAX_EXTENSIONS {
            return Err(too_many_vifes(r));
        }
        let at = r.position();
        let vife = r.u8("VIFE")?;
        *count = count.saturating_add(1);
        *more = vife & 0x80 != 0;
        apply_vife(vib, vife, ctx, &mut chain, at, warnings);
    }
    Ok(())
}

/// The state of a chain of combinable VIFEs: an extension VIFE says the next one is read from
/// the extension table; a manufacturer-specific one makes the rest opaque.
pub(crate) struct VifeChain {
    extension_next: bool,
    opaque: bool,
}

impl VifeChain {
    /// The state before the first VIFE after `vib`'s VIF.
    pub(crate) fn new(vib: &Vib) -> VifeChain {
        VifeChain {
            extension_next: false,
            opaque: vib.manufacturer_specific,
        }
    }
}

/// Applies one combinable VIFE (at offset `at`) of a chain to the VIB: the one place where
/// the decoder and the flat reading from the views read VIFEs.
pub(crate) fn apply_vife(
    vib: &mut Vib,
    vife: u8,
    ctx: Context,
    chain: &mut VifeChain,
    at: usize,
    warnings: &mut Vec<String>,
) {
    if chain.opaque {
        return;
    }
    if chain.extension_next {
        chain.extension_next = false;
        match vif::combinable_extension(vife) {
            Some(name) => vib.modifiers.push(name),
            None => warnings.push(format!("reserved VIFE extension {vife:02X} at offset {at}")),
        }
        return;
    }
    apply_effect(
        vib,
        vif::combinable(vife),
        ctx,
        &mut chain.extension_next,
        &mut chain.opaque,
        at,
        warnings,
    );
}

/// Applies one combinable VIFE's effect to the VIB (EN 13757-3 §5: modifiers, unit
/// suffixes, date, count and duration meanings, scaling, additive corrections, record errors
/// and object actions).
fn apply_effect(
    vib: &mut Vib,
    effect: Effect,
    ctx: Context,
    extension_next: &mut bool,
    opaque: &mut bool,
    at: usize,
    warnings: &mut Vec<String>,
) {
    match effect {
        Effect::ErrorOrAction(code) => {
            if ctx.master_to_slave && code <= 0x0F {
                vib.action = Some(vif::object_action(code));
            } else {
                vib.record_error = Some(vif::record_error(code));
            }
        }
        Effect::Modifier(name) => vib.modifiers.push(name),
        Effect::UnitSuffix(name, suffix) => {
            vib.modifiers.push(name);
            vib.unit_suffixes.push(suffix);
        }
        Effect::Date(name) => {
            vib.modifiers.push(name);
            vib.label = Some(vib.meaning.quantity);
            vib.meaning.coding = Coding::Date;
            vib.unit = None;
        }
        Effect::Count(name) => {
            vib.modifiers.push(name);
            vib.meaning.coding = Coding::Unsigned;
            vib.unit = None;
            vib.exponent = 0;
        }
        Effect::Duration(name, unit) => {
            vib.modifiers.push(name);
            vib.meaning.coding = Coding::Unsigned;
            vib.unit = Some(unit);
            vib.unit_suffixes = Names::EMPTY;
            vib.exponent = 0;
        }
        Effect::Scale(n) => vib.exponent = vib.exponent.saturating_add(n),
        Effect::Additive(n) => {
            let shift = n.saturating_add(vib.meaning.unit_shift);
            let add = Decimal::new(1, shift);
            vib.additive = match (vib.additive, add) {
                (Some(a), Some(b)) => a.checked_add(b),
                (None, b) => b,
                (a, None) => a,
            };
        }
        Effect::Extension => *extension_next = true,
        Effect::ManufacturerSpecific => {
            vib.modifiers.push("manufacturer_specific");
            *opaque = true;
        }
        Effect::Reserved => warnings.push(format!("reserved VIFE at offset {at}")),
    }
}

/// The data length of a DIF data field, or `None` for variable length (D).
pub(crate) fn data_len(data_field: u8) -> Option<usize> {
    Some(match data_field {
        0x0 | 0x8 => 0,
        0x1 | 0x9 => 1,
        0x2 | 0xA => 2,
        0x3 | 0xB => 3,
        0x4 | 0x5 | 0xC => 4,
        0x6 | 0xE => 6,
        0x7 => 8,
        _ => return None,
    })
}

/// How the bytes after an LVAR byte are coded (§6.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Lvar {
    Text,
    Bcd { negative: bool },
    Binary,
}

/// What an LVAR byte announces: the coding and the length of the data after it; `None` for
/// reserved values.
pub(crate) fn lvar_of(lvar: u8) -> Option<(Lvar, usize)> {
    let n = usize::from(lvar);
    Some(match lvar {
        0x00..=0xBF => (Lvar::Text, n),
        0xC0..=0xC9 => (Lvar::Bcd { negative: false }, n.wrapping_sub(0xC0)),
        0xD0..=0xD9 => (Lvar::Bcd { negative: true }, n.wrapping_sub(0xD0)),
        0xE0..=0xEF => (Lvar::Binary, n.wrapping_sub(0xE0)),
        0xF0..=0xF4 => (Lvar::Binary, n.wrapping_sub(0xEC).wrapping_mul(4)),
        0xF5 => (Lvar::Binary, 48),
        0xF6 => (Lvar::Binary, 64),
        _ => return None,
    })
}

pub(crate) fn read_lvar(r: &mut Reader<'_>) -> Result<(Lvar, usize)> {
    let at = r.position();
    let lvar = r.u8("LVAR")?;
    lvar_of(lvar).ok_or_else(|| {
        Error::new(
            ErrorKind::Malformed,
            Layer::Application,
            at,
            Detail::Code {
                what: "reserved LVAR",
                value: lvar,
            },
        )
    })
}

/// Reads the one record at the reader (no fillers before it), advancing past it.
pub(crate) fn parse_record(
    r: &mut Reader<'_>,
    ctx: Context,
    fill: u16,
    warnings: &mut Vec<String>,
) -> Result<Record> {
    let mut walk = view::Records::new(r.rest(), r.position());
    let found = match walk.next() {
        Some(item) => item?,
        None => return Err(Error::malformed(r.position(), "no record here")),
    };
    let mut one = Vec::with_capacity(1);
    record_from_view(&found, ctx, fill, warnings, &mut one)?;
    r.take(found.fill().into(), "fillers")?;
    r.take(found.bytes().len(), "record")?;
    one.pop()
        .ok_or_else(|| Error::malformed(r.position(), "no record here"))
}

/// The source bytes of the record the walk found, as `(fill, record, dif_len, vif_len)`.
fn raw_parts<'a>(found: &view::RecordView<'a>) -> (u16, &'a [u8], usize, usize) {
    (
        found.fill(),
        found.bytes(),
        found.dib().len(),
        found.vib().len(),
    )
}

/// Reads the record the walk found — the DIB, the VIB with its combinable VIFEs, and the
/// value — and appends it to `records` with its source bytes ([`raw_parts`]) after `fill`
/// idle fillers (the walk's count, or the caller's where it read the fillers apart).
fn record_from_view(
    found: &view::RecordView<'_>,
    ctx: Context,
    fill: u16,
    warnings: &mut Vec<String>,
    records: &mut Vec<Record>,
) -> Result<()> {
    let record_at = found.offset();
    let dib = read_dib(&mut Reader::new(found.dib(), record_at))?;
    let vib_at = record_at.saturating_add(found.dib().len());
    let mut vib_reader = Reader::new(found.vib(), vib_at);
    let mut vib = Vib::new(vif::RESERVED);
    read_vib_into(&mut vib_reader, ctx, warnings, &mut vib)?;
    if !vib_reader.is_empty() {
        return Err(Error::malformed(
            vib_reader.position(),
            "VIB longer than its VIF and VIFEs read",
        ));
    }
    let lvar = found.lvar().and_then(lvar_of).map(|(kind, _)| kind);
    let data = found.data();
    let owned_unit = match (vib.unit, vib.unit_suffixes.as_slice()) {
        (Some(unit), suffixes @ [_, ..]) => {
            let mut text = String::from(unit);
            suffixes.iter().for_each(|s| text.push_str(s));
            Some(text)
        }
        _ => None,
    };
    let mut ordered = [0u8; 16];
    let data: &[u8] = if ctx.msb_first && data.len() > 1 && data.len() <= 16 && lvar.is_none() {
        let dst = ordered.get_mut(..data.len()).unwrap_or(&mut []);
        for (d, s) in dst.iter_mut().zip(data.iter().rev()) {
            *d = *s;
        }
        dst
    } else {
        data
    };

    let mut quantity = vib.meaning.quantity;
    let (mut invalid, mut dst) = (false, false);
    let value = match read_data(data, lvar, dib.data_field, &vib) {
        DataValue::Nothing => None,
        DataValue::InvalidBcd => {
            invalid = true;
            None
        }
        DataValue::NotANumber => {
            invalid = true;
            warnings.push(format!(
                "real32 value is not a number at offset {record_at}"
            ));
            None
        }
        DataValue::Number(d) => Some(Value::Number(d)),
        DataValue::OutOfRange => {
            return Err(Error::malformed(
                record_at,
                "value out of range after scaling",
            ))
        }
        DataValue::Time(tp) => {
            invalid = tp.invalid;
            dst = tp.dst;
            quantity = date_quantity(vib.meaning.quantity, vib.label.is_some(), data.len());
            Some(Value::Time(tp.timestamp))
        }
        DataValue::DateAsNumber(v) => {
            warnings.push(format!(
                "date/time record of {} bytes at offset {record_at}: read as a number",
                data.len()
            ));
            v.map(|v| Value::Number(Decimal::from_int(v)))
        }
        DataValue::ReversedText(text) => Some(Value::Text(reversed_text(text))),
        DataValue::Digits(bcd_data) => Some(Value::Text(digits(bcd_data))),
        DataValue::Integer(v) => Some(Value::Text(format!("{v}"))),
        DataValue::Bytes(bytes) => Some(Value::Bytes(Bytes::new(bytes))),
    };
    let (_, bytes, dif_len, vif_len) = raw_parts(found);
    Record::push_read_record(
        records,
        ReadRecord {
            quantity,
            unit: vib.unit,
            owned_unit,
            unit_text: vib.unit_text.take(),
            value,
            storage: dib.storage,
            tariff: dib.tariff,
            subunit: dib.subunit,
            function: match dib.function {
                0 => Function::Instantaneous,
                1 => Function::Maximum,
                2 => Function::Minimum,
                _ => Function::Error,
            },
            invalid,
            dst,
            label: vib.label,
            modifiers: vib.modifiers.as_slice(),
            record_error: vib.record_error,
            action: vib.action,
            raw: (fill, bytes, dif_len, vif_len),
        },
    );
    Ok(())
}

/// A record's data read by EN 13757-3's rules (data field, LVAR and the VIB's coding), before
/// the model ([`record_from_view`]) or the flat reading from the views formats it: the one
/// place that decides what a data field holds.
pub(crate) enum DataValue<'a> {
    /// No data (data field 0 or 8), or no number where one was to be read (a fixed binary
    /// field wider than 128 bits, a negative BCD number out of range).
    Nothing,
    /// Invalid BCD (a nibble A–F): no value, the record's `invalid` flag.
    InvalidBcd,
    /// A real32 that is not a number: no value, `invalid`.
    NotANumber,
    /// A number in the VIB's unit (scaled, with its additive correction).
    Number(Decimal),
    /// A number the VIB's scaling takes out of range.
    OutOfRange,
    /// A date or time (types G, J, F, I) with its flags.
    Time(datatypes::TimePoint),
    /// A date field of a length no date type has, read as an unsigned integer.
    DateAsNumber(Option<i128>),
    /// LVAR text, sent last character first.
    ReversedText(&'a [u8]),
    /// An identifier's BCD digits (the data field, last byte first).
    Digits(&'a [u8]),
    /// A binary identifier.
    Integer(i128),
    /// Bytes with no numeric reading (a container, or binary data too wide for a number).
    Bytes(&'a [u8]),
}

/// Reads a record's data field (`data`, in wire order for least-significant-first frames)
/// by its LVAR kind, DIF data field and VIB.
pub(crate) fn read_data<'a>(
    data: &'a [u8],
    lvar: Option<Lvar>,
    data_field: u8,
    vib: &Vib,
) -> DataValue<'a> {
    let coding = vib.meaning.coding;
    let number = |v: Option<i128>| match v {
        Some(v) => match scale(Decimal::from_int(v), vib) {
            Some(d) => DataValue::Number(d),
            None => DataValue::OutOfRange,
        },
        None => DataValue::Nothing,
    };
    let is_bcd = matches!(data_field, 0x9..=0xC | 0xE);
    match (lvar, data_field) {
        (_, 0x0 | 0x8) => DataValue::Nothing,
        (Some(Lvar::Text), _) => match coding {
            Coding::Container => DataValue::Bytes(data),
            _ => DataValue::ReversedText(data),
        },
        (Some(Lvar::Bcd { negative }), _) => match coding {
            Coding::Ident => DataValue::Digits(data),
            _ => match bcd(data) {
                Some(v) => number(if negative { v.checked_neg() } else { Some(v) }),
                None => DataValue::InvalidBcd,
            },
        },
        (Some(Lvar::Binary), _) => match (coding, int_le(data, coding == Coding::Signed)) {
            (Coding::Container, _) | (_, None) => DataValue::Bytes(data),
            (Coding::Ident, Some(v)) => DataValue::Integer(v),
            (_, Some(v)) => number(Some(v)),
        },
        (None, 0x5) => {
            let bytes: [u8; 4] = data.try_into().unwrap_or([0; 4]);
            match Decimal::from_f32_shortest(f32::from_le_bytes(bytes)) {
                // Out of range after scaling: no value (as a real number has no exact scale).
                Some(d) => scale(d, vib).map_or(DataValue::Nothing, DataValue::Number),
                None => DataValue::NotANumber,
            }
        }
        (None, _) => match coding {
            Coding::Date if !is_bcd => match datatypes::time_point(data) {
                Some(tp) => DataValue::Time(tp),
                None => DataValue::DateAsNumber(int_le(data, false)),
            },
            Coding::Ident if is_bcd => DataValue::Digits(data),
            Coding::Ident => match int_le(data, false) {
                Some(v) => DataValue::Integer(v),
                None => DataValue::Nothing,
            },
            _ if is_bcd => match bcd(data) {
                Some(v) => number(Some(v)),
                None => DataValue::InvalidBcd,
            },
            _ => number(int_le(data, coding == Coding::Signed)),
        },
    }
}

/// The quantity of a date or time record by its data length (types G, J, F, I): a `date`
/// VIF with a time in it is a `datetime`, a `datetime` VIF with 3 bytes a `time`; a record
/// that a combinable VIFE made a date (`labelled`: its own quantity is then its label) is
/// named by its length alone.
pub(crate) fn date_quantity(meaning: &'static str, labelled: bool, len: usize) -> &'static str {
    match (meaning, len) {
        ("date", l) if l != 2 => "datetime",
        ("datetime", 3) => "time",
        _ if !labelled => meaning,
        (_, 2) => "date",
        (_, 3) => "time",
        _ => "datetime",
    }
}

fn digits(data: &[u8]) -> String {
    let mut s = String::with_capacity(data.len().saturating_mul(2));
    let _ = bcd_digits(data, &mut s);
    s
}

/// `d` times the meaning's factor and the VIB's power of ten, plus its additive correction
/// (`None` when out of range).
pub(crate) fn scale(d: Decimal, vib: &Vib) -> Option<Decimal> {
    let d = if vib.meaning.factor == 1 {
        d
    } else {
        Decimal::new(
            d.mantissa().checked_mul(i128::from(vib.meaning.factor))?,
            d.exponent(),
        )?
    };
    let d = d.scaled(vib.exponent)?;
    match vib.additive {
        Some(a) => d.checked_add(a),
        None => Some(d),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Link, MbusLink, Protocol, Timestamp};
    use alloc::string::ToString;

    fn records(bytes: &[u8]) -> Decoded {
        let mut d = Decoded::new(Protocol::Mbus, Link::Mbus(MbusLink::default()));
        let mut r = Reader::new(bytes, 0);
        parse_records(&mut r, Context::default(), &mut d).unwrap();
        d
    }

    fn exact(rec: &Record) -> String {
        rec.number().unwrap().to_string()
    }

    /// The view's shortcut ([`plain_record`]) and the general reader build the same record
    /// for every record the shortcut takes: numbers, dates of types G, J, F and I (also with
    /// the invalid and summer-time flags), BCD and binary identifiers, storage/tariff/subunit.
    #[test]
    fn plain_records_equal_the_general_reader() {
        let cases: &[&[u8]] = &[
            &[0x0C, 0x13, 0x67, 0x45, 0x23, 0x01], // BCD volume, 1234.567 m3
            &[0x84, 0x40, 0x13, 0x45, 0xC6, 0x09, 0x00], // subunit 1
            &[0x42, 0x6C, 0x5F, 0x2C],             // date (G), storage 1
            &[0x04, 0x6D, 0x19, 0x0E, 0x5F, 0x2C], // date-time (F) -> datetime
            &[0x04, 0x6D, 0x19, 0x8E, 0x5F, 0x2C], // F with the summer-time flag
            &[0x04, 0x6D, 0x99, 0x0E, 0x5F, 0x2C], // F with the invalid flag
            &[0x03, 0x6D, 0x19, 0x0E, 0x0C],       // 3 bytes (J) -> time
            &[0x06, 0x6D, 0x05, 0x19, 0x0E, 0x1F, 0x0C, 0x26], // 6 bytes (I)
            &[0x02, 0x6C, 0x5F, 0x2C],             // date (G)
            &[0x0C, 0x78, 0x89, 0x60, 0x00, 0x01], // BCD fabrication number
            &[0x04, 0x78, 0x15, 0xCD, 0x5B, 0x07], // binary fabrication number
            &[0x09, 0xFD, 0x0E, 0x23],             // FD 0E, BCD identifier
            &[0x01, 0xFD, 0x1B, 0x05],             // FD 1B (digital input)
        ];
        for bytes in cases {
            let walk = view::Records::new(bytes, 0);
            let found = walk.into_iter().next().unwrap().unwrap();
            let mut shortcut = Vec::new();
            plain_record(&found, &mut shortcut).expect("the shortcut takes this record");
            let mut general = Vec::new();
            let mut warnings = Vec::new();
            let fill = found.fill();
            record_from_view(
                &found,
                Context::default(),
                fill,
                &mut warnings,
                &mut general,
            )
            .unwrap();
            assert_eq!(shortcut, general, "record {bytes:02X?}");
            assert!(warnings.is_empty());
        }
        let d = records(&[0x04, 0x6D, 0x19, 0x8E, 0x5F, 0x2C]);
        assert_eq!(d.records[0].quantity(), "datetime");
        assert!(d.records[0].dst());
        assert_eq!(
            d.records[0].value(),
            Some(Value::Time(Timestamp::parse("2018-12-31T14:25").unwrap())).as_ref()
        );
    }

    #[test]
    fn r1_dife_accumulation_and_bcd_volume() {
        let d = records(&[0xCC, 0x92, 0x01, 0x13, 0x67, 0x45, 0x23, 0x01]);
        let rec = &d.records[0];
        assert_eq!(
            (rec.storage(), rec.tariff(), rec.subunit()),
            (Some(37), Some(1), Some(0))
        );
        assert_eq!(rec.quantity(), "volume");
        assert_eq!(rec.unit(), Some("m3"));
        assert_eq!(exact(rec), "1234.567");
    }

    #[test]
    fn r2_backward_flow_int32() {
        let d = records(&[0x04, 0x93, 0x3C, 0x10, 0x27, 0x00, 0x00]);
        let rec = &d.records[0];
        assert_eq!(exact(rec), "10.000");
        assert_eq!(rec.modifiers(), ["backward_flow"]);
    }

    #[test]
    fn r3_negative_bcd() {
        let d = records(&[0x0A, 0x66, 0x45, 0xF1]);
        assert_eq!(d.records[0].quantity(), "external_temperature");
        assert_eq!(exact(&d.records[0]), "-14.5");
        assert_eq!(d.records[0].unit(), Some("C"));
    }

    #[test]
    fn r4_r5_dates() {
        let d = records(&[
            0x04, 0x6D, 0x32, 0x37, 0x1F, 0x15, 0x06, 0x6D, 0xBB, 0x32, 0xD7, 0x1F, 0x15, 0x16,
        ]);
        assert_eq!(d.records[0].quantity(), "datetime");
        assert_eq!(
            d.records[0].value(),
            Some(Value::Time(Timestamp {
                year: Some(2008),
                month: 5,
                day: 31,
                hour: Some(23),
                minute: Some(50),
                second: None
            }))
            .as_ref()
        );
        match &d.records[1].value() {
            Some(Value::Time(t)) => assert_eq!(t.to_string(), "2008-05-31T23:50:59"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn r6_plain_text_unit_and_text_value() {
        let d = records(&[
            0x0D, 0x7C, 0x08, 0x44, 0x49, 0x20, 0x2E, 0x74, 0x73, 0x75, 0x63, 0x0A, 0x30, 0x30,
            0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30,
        ]);
        let rec = &d.records[0];
        assert_eq!(rec.unit_text(), Some("cust. ID"));
        assert_eq!(rec.unit(), None);
        assert_eq!(rec.value(), Some(Value::Text("0000000000".into())).as_ref());
    }

    /// VIF FC with VIFE 74 (×10⁻²) and the unit `%RH` (sent `HR%`): the 2013 order (VIFEs,
    /// then the text) and the older order (text, then VIFEs) give the same record; only the
    /// older one is reported.
    #[test]
    fn plain_text_unit_with_vifes_in_both_orders() {
        let new_order = records(&[0x02, 0xFC, 0x74, 0x03, 0x48, 0x52, 0x25, 0x10, 0x27]);
        let old_order = records(&[0x02, 0xFC, 0x03, 0x48, 0x52, 0x25, 0x74, 0x10, 0x27]);
        for d in [&new_order, &old_order] {
            let rec = &d.records[0];
            assert_eq!(rec.unit_text(), Some("%RH"));
            assert_eq!(rec.quantity(), "other");
            // 0x2710 = 10000, scaled by 10^-2.
            assert_eq!(exact(rec), "100.00");
        }
        assert!(new_order.warnings.is_empty());
        assert_eq!(
            old_order.warnings,
            ["VIF FC: plain text read before the VIFEs (pre-2013 order)"]
        );
        // Neither order reads whole (a 9-byte text with one byte left; a 0x74-byte text): the
        // record is an error.
        assert!(parse_records(
            &mut Reader::new(&[0x02, 0xFC, 0x74, 0x09, 0x48], 0),
            Context::default(),
            &mut Decoded::new(Protocol::Mbus, Link::Mbus(MbusLink::default())),
        )
        .is_err());
    }

    #[test]
    fn multiplicative_and_additive_corrections() {
        // VIF 96 (m3, exponent 0) + VIFE 73 (x10^-3): 1234 -> 1.234 m3.
        let d = records(&[0x02, 0x96, 0x73, 0xD2, 0x04]);
        assert_eq!(exact(&d.records[0]), "1.234");
        // VIF 86 (kWh) + VIFE 7B (+10^0 Wh = +0.001 kWh): 5 kWh -> 5.001 kWh.
        let d = records(&[0x01, 0x86, 0x7B, 0x05]);
        assert_eq!(exact(&d.records[0]), "5.001");
    }

    #[test]
    fn fillers_manufacturer_data_and_errors() {
        let d = records(&[0x2F, 0x2F, 0x01, 0xFD, 0x1B, 0x00, 0x2F, 0x0F, 0xAA, 0xBB]);
        assert_eq!(d.records.len(), 1);
        assert_eq!(d.records[0].raw().unwrap().fill, 2);
        assert_eq!(d.records[0].quantity(), "digital_input");
        assert_eq!(d.trailing_fill, 1);
        assert_eq!(
            d.manufacturer_data.as_ref().unwrap().as_slice(),
            &[0xAA, 0xBB]
        );
        // VIFE 15 from a meter: no data available.
        let d = records(&[0x04, 0x93, 0x15, 0, 0, 0, 0]);
        assert_eq!(d.records[0].record_error(), Some("no_data_available"));
    }

    #[test]
    fn too_many_difes_is_malformed_at_the_eleventh() {
        let mut bytes = alloc::vec![0x8C];
        bytes.extend([0x80u8; 10]);
        bytes.extend([0x00, 0x13, 0, 0, 0, 0]);
        let mut d = Decoded::new(Protocol::Mbus, Link::Mbus(MbusLink::default()));
        let e = parse_records(&mut Reader::new(&bytes, 0), Context::default(), &mut d).unwrap_err();
        assert_eq!((e.kind(), e.offset()), (ErrorKind::Malformed, 11));
    }
}
