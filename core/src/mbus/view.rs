//! Zero-copy data records (EN 13757-3 §1–§2, `mbus-tables.md` §1, §11): a checked view over the
//! record bytes of one frame, in the manner of smoltcp's `wire` and httparse. [`Records`] walks
//! the bytes and yields [`RecordView`]s that borrow their DIB, VIB and data; nothing is
//! allocated and nothing is decoded until asked for.
//!
//! The view reads the extent of every record exactly as [`decode`](crate::decode) does (a
//! conformance test checks both against each other on every own and public frame), and gives
//! the record's number from its data field and its VIF's primary meaning. What only the full
//! decoder does: combinable VIFEs (modifiers, extra scaling, record errors), dates, text and
//! identifiers, vendor layouts, and the wording of the model. Use [`decode`](crate::decode)
//! for those; use this view on a hot path that needs the numbers of known meters.

use core::ops::Range;

use super::datatypes::{bcd_u64, int_le_u64};
use super::record::{data_len, lvar_of, FILLER, MAX_EXTENSIONS};
use super::vif::{self, Coding, Meaning};
use crate::decimal::Decimal;
use crate::error::{Detail, Error, ErrorKind, Layer, Result};
use crate::model::Function;

/// The records of one frame's data, walked in place.
#[derive(Clone, Debug)]
pub struct Records<'a> {
    bytes: &'a [u8],
    pos: usize,
    /// Offset of `bytes` in the caller's frame (for error offsets and [`RecordView::offset`]).
    base: usize,
    /// Fillers (`2F`) seen since the last record.
    fill: u16,
    done: bool,
    /// Manufacturer data after DIF 0F / 1F, once the walk reached it.
    manufacturer: Option<&'a [u8]>,
    /// Where that DIF is.
    manufacturer_at: Option<usize>,
}

/// One data record, borrowed from the frame: the record's bytes, where its parts start, and
/// its VIF's table entry (looked up during the walk, which reads the VIF anyway).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordView<'a> {
    /// The whole record: DIB, VIB, LVAR, data.
    record: &'a [u8],
    /// The meaning of the VIF (and FB / FD code), without combinable VIFEs.
    meaning: &'static Meaning,
    offset: usize,
    fill: u16,
    /// Where the VIB starts in `record` (the DIB's length).
    vib_at: u16,
    /// Where the data starts in `record` (after the LVAR byte, if any).
    data_at: u16,
    /// Whether an LVAR byte precedes the data.
    has_lvar: bool,
    /// Fixed-length data and a VIB without combinable VIFEs: a number the view reads.
    plain: bool,
}

#[inline]
fn malformed(at: usize, detail: Detail) -> Error {
    Error::new(ErrorKind::Malformed, Layer::Application, at, detail)
}

impl<'a> Records<'a> {
    /// A walk over `bytes` (the records after the application header), which start at offset
    /// `base` of the frame.
    #[inline]
    pub fn new(bytes: &'a [u8], base: usize) -> Records<'a> {
        Records {
            bytes,
            pos: 0,
            base,
            fill: 0,
            done: false,
            manufacturer: None,
            manufacturer_at: None,
        }
    }

    /// Fillers (`2F`) after the last record (before any DIF 0F/1F), once the walk has ended.
    #[inline]
    pub fn trailing_fill(&self) -> u16 {
        self.fill
    }

    /// Whether the walk ended at DIF 1F (more records follow in the next frame).
    #[inline]
    pub fn more_records_follow(&self) -> bool {
        self.manufacturer.is_some()
            && self
                .manufacturer_at
                .and_then(|at| self.byte(at))
                .is_some_and(|dif| dif == 0x1F)
    }

    /// The manufacturer-specific data after DIF 0F / 1F, once the walk has reached it.
    #[inline]
    pub fn manufacturer_data(&self) -> Option<&'a [u8]> {
        self.manufacturer
    }

    #[inline]
    fn byte(&self, at: usize) -> Option<u8> {
        self.bytes.get(at).copied()
    }

    /// A record of one DIF (no DIFE) with a VIF of one byte, or FB/FD and one code, without
    /// VIFEs and with fixed-length data that is all there; `None` sends the record to the
    /// general walk (which also reports its errors).
    #[inline]
    fn simple_record(&mut self, at: usize, dif: u8) -> Option<RecordView<'a>> {
        let len = data_len(dif & 0x0F)?;
        let vif_at = at.checked_add(1)?;
        let vif = self.byte(vif_at)?;
        let (vib_len, meaning): (usize, _) = if vif & 0x80 == 0 {
            if vif == 0x7C {
                return None;
            }
            (1, vif::primary(vif))
        } else if vif == 0xFB || vif == 0xFD {
            let code = self.byte(vif_at.checked_add(1)?)?;
            if code & 0x80 != 0 {
                return None;
            }
            (
                2,
                if vif == 0xFB {
                    vif::fb(code)
                } else {
                    vif::fd(code)
                },
            )
        } else {
            return None;
        };
        let data_at = vib_len.wrapping_add(1);
        let record = self.bytes.get(at..)?.get(..data_at.checked_add(len)?)?;
        self.pos = at.wrapping_add(record.len());
        Some(RecordView {
            record,
            meaning,
            offset: self.base.saturating_add(at),
            fill: core::mem::take(&mut self.fill),
            vib_at: 1,
            data_at: data_at as u16,
            has_lvar: false,
            plain: true,
        })
    }
}

/// The bytes a walk reads and where they sit in the frame: what the general record reader
/// needs, passed by value so the walk's own state stays in registers.
#[derive(Clone, Copy, Debug)]
struct RecordBytes<'a> {
    bytes: &'a [u8],
    base: usize,
}

/// The combinable VIFEs of a VIB with VIF FC, `from_vib` being the records' bytes from the FC
/// byte on: before or after the plain-text unit, in the order the walk (and the decoder) read.
pub(crate) fn plain_text_vifes(from_vib: &[u8]) -> Option<&[u8]> {
    let (vifes, _) = RecordBytes {
        bytes: from_vib,
        base: 0,
    }
    .plain_text_layout(1)
    .ok()?;
    from_vib.get(vifes)
}

/// Whether the VIFEs of a VIB with VIF FC come before its plain-text unit (EN 13757-3:2013)
/// rather than after it (older meters), `after_fc` being the record's bytes after the FC
/// byte: the order the walk reads ([`RecordBytes::plain_text_layout`]). When neither order
/// reads, the 2013 order, whose error is the record's.
pub(crate) fn plain_text_vifes_first(after_fc: &[u8]) -> bool {
    RecordBytes {
        bytes: after_fc,
        base: 0,
    }
    .plain_text_layout(0)
    .map_or(true, |(vifes, _)| vifes.start == 0)
}

/// What the general record reader found at a position.
enum Walked<'a> {
    /// A record (its `fill` is the walk's to set).
    Record(RecordView<'a>),
    /// DIF 0F / 1F: manufacturer-specific data follows.
    Manufacturer,
    /// No byte left.
    End,
}

impl<'a> RecordBytes<'a> {
    #[inline]
    fn byte(&self, at: usize) -> Option<u8> {
        self.bytes.get(at).copied()
    }

    /// The end of the VIB that starts at `at`.
    #[inline]
    fn vib_end(&self, at: usize) -> Result<usize> {
        let vif = self
            .byte(at)
            .ok_or_else(|| Error::short_field(self.base.saturating_add(at), "VIF", 1, 0))?;
        let mut i = at.saturating_add(1);
        let mut count = 0usize;
        let mut more = vif & 0x80 != 0;
        match vif {
            0x7C => return self.text_end(i),
            0xFC => return self.plain_text_vifes_end(i),
            0xFB | 0xFD | 0xEF => {
                let code = self.need(i, "VIF extension")?;
                i = i.saturating_add(1);
                count = 1;
                more = code & 0x80 != 0;
                if vif == 0xFD && code == 0xFD {
                    let second = self.need(i, "second-level VIF extension")?;
                    i = i.saturating_add(1);
                    count = 2;
                    more = second & 0x80 != 0;
                }
            }
            _ => {}
        }
        self.vifes_end(i, more, count)
    }

    #[inline]
    fn need(&self, at: usize, what: &'static str) -> Result<u8> {
        self.byte(at)
            .ok_or_else(|| Error::short_field(self.base.saturating_add(at), what, 1, 0))
    }

    /// The end of a chain of extension bytes (DIFEs or VIFEs: bit 7 says another follows)
    /// starting at `at` while `more`, `count` already read; at most 10 in a record.
    #[inline]
    fn extensions_end(
        &self,
        mut at: usize,
        mut more: bool,
        mut count: usize,
        (name, too_many): (&'static str, &'static str),
    ) -> Result<usize> {
        while more {
            if count >= MAX_EXTENSIONS {
                return Err(malformed(
                    self.base.saturating_add(at),
                    Detail::TooMany {
                        what: too_many,
                        max: MAX_EXTENSIONS,
                    },
                ));
            }
            more = self.need(at, name)? & 0x80 != 0;
            at = at.saturating_add(1);
            count = count.saturating_add(1);
        }
        Ok(at)
    }

    /// The end of a chain of VIFEs.
    #[inline]
    fn vifes_end(&self, at: usize, more: bool, count: usize) -> Result<usize> {
        self.extensions_end(at, more, count, ("VIFE", "VIFEs in one record"))
    }

    /// The end of a plain-text unit (length byte and text) at `at`.
    #[inline]
    fn text_end(&self, at: usize) -> Result<usize> {
        let len = usize::from(self.need(at, "plain-text unit length")?);
        let end = at.saturating_add(1).saturating_add(len);
        if end > self.bytes.len() {
            return Err(Error::short_field(
                self.base.saturating_add(at).saturating_add(1),
                "plain-text unit",
                len,
                self.bytes.len().saturating_sub(at.saturating_add(1)),
            ));
        }
        Ok(end)
    }

    /// VIF FC: VIFEs then the text (EN 13757-3:2013), or the text then the VIFEs (older
    /// meters); the order whose text is whole and printable wins, 2013 first — as the full
    /// decoder reads it. `at` is just after the FC byte; the answer is where the VIFEs are
    /// and where the VIB ends.
    #[inline]
    fn plain_text_layout(&self, at: usize) -> Result<(Range<usize>, usize)> {
        let printable = |from: usize, to: usize| {
            self.bytes
                .get(from.saturating_add(1)..to)
                .is_some_and(|t| t.iter().all(|b| (b' '..=b'~').contains(b)))
        };
        let new = self
            .vifes_end(at, true, 0)
            .and_then(|text_at| Ok((text_at, self.text_end(text_at)?)));
        let new_ok = matches!(new, Ok((from, to)) if printable(from, to));
        let old = self
            .text_end(at)
            .and_then(|vifes_at| Ok((vifes_at, self.vifes_end(vifes_at, true, 0)?)));
        let old_ok = matches!(old, Ok((text_end, _)) if printable(at, text_end));
        if new_ok || !old_ok {
            new.map(|(text_at, end)| (at..text_at, end))
        } else {
            old.map(|(vifes_at, end)| (vifes_at..end, end))
        }
    }

    /// The end of a VIB with VIF FC ([`RecordBytes::plain_text_layout`]).
    #[inline]
    fn plain_text_vifes_end(&self, at: usize) -> Result<usize> {
        self.plain_text_layout(at).map(|(_, end)| end)
    }

    /// The general walk: DIFEs, VIFEs, plain-text units, LVAR data, DIF 0F/1F/7F, the end,
    /// and every error (kept out of line so the common path inlines into the caller's loop).
    /// `at` is not a filler (the walk skips those first).
    #[inline(never)]
    fn general(self, at: usize) -> Result<Walked<'a>> {
        let Some(dif) = self.byte(at) else {
            return Ok(Walked::End);
        };
        match dif {
            0x0F | 0x1F => return Ok(Walked::Manufacturer),
            0x7F => {
                let view = RecordView {
                    record: self.bytes.get(at..at.saturating_add(1)).unwrap_or(&[]),
                    meaning: &vif::RESERVED,
                    offset: self.base.saturating_add(at),
                    fill: 0,
                    vib_at: 1,
                    data_at: 1,
                    has_lvar: false,
                    plain: false,
                };
                return Ok(Walked::Record(view));
            }
            d if d & 0x0F == 0x0F => {
                return Err(malformed(
                    self.base.saturating_add(at),
                    Detail::Code {
                        what: "reserved DIF",
                        value: d,
                    },
                ));
            }
            _ => {}
        }
        // DIF and DIFEs.
        let vib_at = self.extensions_end(
            at.saturating_add(1),
            dif & 0x80 != 0,
            0,
            ("DIFE", "DIFEs in one record"),
        )?;
        if vib_at >= self.bytes.len() {
            return Err(malformed(
                self.base.saturating_add(vib_at),
                Detail::Text("premature end of record: a VIF must follow the DIF"),
            ));
        }
        let data_at = self.vib_end(vib_at)?;
        let (lvar, data_from, len) = match data_len(dif & 0x0F) {
            Some(n) => (None, data_at, n),
            None => {
                let lvar = self.need(data_at, "LVAR")?;
                let n = lvar_len(lvar).ok_or_else(|| {
                    malformed(
                        self.base.saturating_add(data_at),
                        Detail::Code {
                            what: "reserved LVAR",
                            value: lvar,
                        },
                    )
                })?;
                (Some(lvar), data_at.saturating_add(1), n)
            }
        };
        let end = data_from.saturating_add(len);
        let data = self.bytes.get(data_from..end).ok_or_else(|| {
            Error::short_field(
                self.base.saturating_add(data_from),
                "record data",
                len,
                self.bytes.len().saturating_sub(data_from),
            )
        })?;
        let vib = self.bytes.get(vib_at..data_at).unwrap_or(&[]);
        // Offsets inside one record: a DIB of at most 11 bytes, a VIB of at most 11
        // bytes and a 255-byte text, one LVAR byte.
        let inside = |to: usize| u16::try_from(to.saturating_sub(at)).unwrap_or(u16::MAX);
        Ok(Walked::Record(RecordView {
            record: self.bytes.get(at..end).unwrap_or(&[]),
            meaning: meaning_of(vib),
            offset: self.base.saturating_add(at),
            fill: 0,
            vib_at: inside(vib_at),
            data_at: inside(data_from),
            has_lvar: lvar.is_some(),
            plain: lvar.is_none() && !combinable_vifes(vib) && !data.is_empty(),
        }))
    }
}

/// The meaning of a VIB's VIF (primary table, or FB / FD), without its combinable VIFEs.
#[inline]
fn meaning_of(vib: &[u8]) -> &'static Meaning {
    match *vib {
        [0xFD, 0xFD, second, ..] => vif::fd_second_level(second),
        [0xFD, code, ..] => vif::fd(code),
        [0xFB, code, ..] => vif::fb(code),
        [0xEF | 0x7C | 0xFC, ..] | [] => &vif::RESERVED,
        [first, ..] => vif::primary(first),
    }
}

/// Storage bits above the DIF's, tariff and subunit, gathered from the DIFEs of a DIB (kept
/// out of line: most records have no DIFE).
#[inline(never)]
fn dife_fields(dib: &[u8]) -> (u64, u32, u32) {
    (0u32..)
        .zip(dib.iter().skip(1))
        .fold((0, 0, 0), |(storage, tariff, subunit), (k, &d)| {
            (
                storage | u64::from(d & 0x0F).wrapping_shl(k.wrapping_mul(4).wrapping_add(1)),
                tariff | u32::from((d >> 4) & 0x03).wrapping_shl(k.wrapping_mul(2)),
                subunit | u32::from((d >> 6) & 0x01).wrapping_shl(k),
            )
        })
}

/// Whether a VIB carries combinable VIFEs after its VIF (and FB / FD code).
#[inline]
fn combinable_vifes(vib: &[u8]) -> bool {
    let head = match vib {
        [0xFD, 0xFD, _, ..] => 3,
        [0xFB | 0xFD | 0xEF, ..] => 2,
        // A plain-text unit: VIF FC always has VIFEs (with the text before or after them);
        // 7C has none.
        [0x7C, ..] => return false,
        [0xFC, ..] => return true,
        _ => 1,
    };
    vib.len() > head
}

/// The data length an LVAR byte announces (§6.4), `None` for reserved values.
#[inline]
fn lvar_len(lvar: u8) -> Option<usize> {
    lvar_of(lvar).map(|(_, n)| n)
}

impl<'a> Iterator for Records<'a> {
    type Item = Result<RecordView<'a>>;

    /// The next record; after an error the walk ends.
    #[inline(always)]
    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        // Fillers, then the common record (one DIF, a VIF or FB/FD and one code without
        // VIFEs, fixed data) straight into the item; anything else takes the general walk.
        let mut dif = self.byte(self.pos)?;
        if dif == FILLER {
            let rest = self.bytes.get(self.pos..).unwrap_or(&[]);
            let fillers = rest.iter().take_while(|&&b| b == FILLER).count();
            self.pos = self.pos.wrapping_add(fillers);
            self.fill = self
                .fill
                .saturating_add(u16::try_from(fillers).unwrap_or(u16::MAX));
            dif = self.byte(self.pos)?;
        }
        if dif & 0x80 == 0 && dif & 0x0F != 0x0F {
            if let Some(view) = self.simple_record(self.pos, dif) {
                return Some(Ok(view));
            }
        }
        let bytes = RecordBytes {
            bytes: self.bytes,
            base: self.base,
        };
        match bytes.general(self.pos) {
            Ok(Walked::Record(mut view)) => {
                view.fill = core::mem::take(&mut self.fill);
                self.pos = self.pos.saturating_add(view.record.len());
                Some(Ok(view))
            }
            Ok(Walked::Manufacturer) => {
                let data = self.pos.saturating_add(1);
                self.manufacturer = Some(self.bytes.get(data..).unwrap_or(&[]));
                self.manufacturer_at = Some(self.pos);
                self.pos = self.bytes.len();
                self.done = true;
                None
            }
            Ok(Walked::End) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

impl<'a> RecordView<'a> {
    /// Offset of the record's DIF in the frame.
    #[inline]
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// Idle fillers (`2F`) directly before the record.
    #[inline]
    pub fn fill(&self) -> u16 {
        self.fill
    }

    /// The whole record: DIF, DIFEs, VIB, any LVAR byte and the data.
    #[inline]
    pub fn bytes(&self) -> &'a [u8] {
        self.record
    }

    /// The DIF and DIFEs.
    #[inline]
    pub fn dib(&self) -> &'a [u8] {
        self.record.get(..usize::from(self.vib_at)).unwrap_or(&[])
    }

    /// The VIF, VIFEs and any plain-text unit.
    #[inline]
    pub fn vib(&self) -> &'a [u8] {
        let end = usize::from(self.data_at).saturating_sub(usize::from(self.has_lvar));
        self.record
            .get(usize::from(self.vib_at)..end)
            .unwrap_or(&[])
    }

    /// The LVAR byte of a variable-length record (DIF data field D).
    #[inline]
    pub fn lvar(&self) -> Option<u8> {
        if !self.has_lvar {
            return None;
        }
        self.record
            .get(usize::from(self.data_at).wrapping_sub(1))
            .copied()
    }

    /// The data bytes (after the LVAR byte of a variable-length record).
    #[inline]
    pub fn data(&self) -> &'a [u8] {
        self.record.get(usize::from(self.data_at)..).unwrap_or(&[])
    }

    /// The DIF (first byte of the DIB).
    #[inline]
    pub(crate) fn dif(&self) -> u8 {
        self.record.first().copied().unwrap_or(0)
    }

    /// Storage number from the DIF and DIFEs.
    #[inline]
    pub fn storage(&self) -> u64 {
        let lsb = u64::from((self.dif() >> 6) & 1);
        if self.vib_at == 1 {
            return lsb;
        }
        lsb | dife_fields(self.dib()).0
    }

    /// Tariff from the DIFEs.
    #[inline]
    pub fn tariff(&self) -> u32 {
        if self.vib_at == 1 {
            return 0;
        }
        dife_fields(self.dib()).1
    }

    /// Subunit from the DIFEs.
    #[inline]
    pub fn subunit(&self) -> u32 {
        if self.vib_at == 1 {
            return 0;
        }
        dife_fields(self.dib()).2
    }

    /// The function field of the DIF.
    #[inline]
    pub fn function(&self) -> Function {
        match (self.dif() >> 4) & 0x03 {
            0 => Function::Instantaneous,
            1 => Function::Maximum,
            2 => Function::Minimum,
            _ => Function::Error,
        }
    }

    /// Whether the VIB carries combinable VIFEs (which only [`decode`](crate::decode) applies).
    #[inline]
    pub fn has_combinable_vifes(&self) -> bool {
        combinable_vifes(self.vib())
    }

    /// Whether the record has fixed-length data (at most 8 bytes) and a VIB without
    /// combinable VIFEs: the records [`RecordView::number`] reads.
    #[inline]
    pub fn is_plain(&self) -> bool {
        self.plain
    }

    /// The meaning of the VIF (primary table, or FB / FD), without its combinable VIFEs.
    #[inline]
    pub fn meaning(&self) -> &'static Meaning {
        self.meaning
    }

    /// What is measured (`volume`, `energy`, …), as the model names it.
    #[inline]
    pub fn quantity(&self) -> &'static str {
        self.meaning().quantity
    }

    /// The unit of [`RecordView::number`] (`m3`, `kWh`, …).
    #[inline]
    pub fn unit(&self) -> Option<&'static str> {
        self.meaning().unit
    }

    /// The record's number in [`RecordView::unit`], exact: integers and BCD (negative with a
    /// top `F` nibble) of fixed length, and real32. `None` for no data, dates, text,
    /// identifiers, variable-length data, invalid BCD, and VIBs with combinable VIFEs.
    #[inline]
    pub fn number(&self) -> Option<Decimal> {
        self.number_as(self.meaning())
    }

    /// The VIF's meaning (quantity, unit) and the number at once.
    #[inline]
    pub fn value(&self) -> RecordValue {
        RecordValue {
            meaning: self.meaning,
            number: self.number_as(self.meaning),
        }
    }

    #[inline(always)]
    fn number_as(&self, meaning: &Meaning) -> Option<Decimal> {
        if !self.plain {
            return None;
        }
        // Fixed-length data of at most 8 bytes (`plain`): read in one 64-bit word.
        let data = self.data();
        let field = DATA_FIELDS
            .get(usize::from(self.dif() & 0x0F))
            .copied()
            .unwrap_or(DataField::Other);
        let raw = match (field, meaning.coding) {
            (_, Coding::Date | Coding::Ident | Coding::Container) | (DataField::Other, _) => {
                return None
            }
            (DataField::Integer, Coding::Signed) => int_le_u64(data, true),
            (DataField::Integer, _) => int_le_u64(data, false),
            (DataField::Bcd, _) => i128::from(bcd_u64(data)?),
            (DataField::Real, _) => return real_number(data, meaning),
        };
        if meaning.factor != 1 {
            return with_factor(Decimal::from_int(raw), meaning);
        }
        Decimal::new(raw, meaning.exponent)
    }
}

/// How a DIF's data field codes a number (EN 13757-3 Table 4).
#[derive(Clone, Copy)]
enum DataField {
    /// 8–64-bit integer (type B / C / D by the VIF's coding).
    Integer,
    /// 2–12-digit BCD (type A).
    Bcd,
    /// 32-bit real (type H).
    Real,
    /// No data, selection for readout, variable length, or reserved.
    Other,
}

/// [`DataField`] by the DIF's data field code `0`–`F`.
const DATA_FIELDS: [DataField; 16] = {
    use DataField::{Bcd, Integer, Other, Real};
    [
        Other, Integer, Integer, Integer, Integer, Real, Integer, Integer, Other, Bcd, Bcd, Bcd,
        Bcd, Other, Bcd, Other,
    ]
};

/// A real32 record's number (shortest decimal of the `f32`), in the meaning's unit.
#[inline(never)]
fn real_number(data: &[u8], meaning: &Meaning) -> Option<Decimal> {
    let bytes: [u8; 4] = data.try_into().ok()?;
    with_factor(
        Decimal::from_f32_shortest(f32::from_le_bytes(bytes))?,
        meaning,
    )
}

/// `raw` times the meaning's factor and power of ten (the HCA rating factors' 2⁻¹²; kept out
/// of the common path, whose factor is 1).
#[inline(never)]
fn with_factor(raw: Decimal, meaning: &Meaning) -> Option<Decimal> {
    Decimal::new(
        raw.mantissa().checked_mul(i128::from(meaning.factor))?,
        raw.exponent(),
    )?
    .scaled(meaning.exponent)
}

/// A record's meaning and number, as [`RecordView::value`] reads them (32 bytes: the meaning
/// is a reference into the VIF tables).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordValue {
    /// What is measured (`meaning.quantity`, as the model names it) and in which unit
    /// (`meaning.unit`, the unit of `number`).
    pub meaning: &'static Meaning,
    /// The number, when the view reads one (see [`RecordView::number`]).
    pub number: Option<Decimal>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hex::parse_hex;

    #[test]
    fn walks_records_in_place() {
        // 2F filler, volume 0C 13 (BCD 12345678 L), flow temperature 02 5B (20 C, signed),
        // DIFE storage 1 tariff 1: 8C 50 13, then DIF 0F manufacturer data.
        let bytes = parse_hex("2F 0C13 78563412 025B 1400 CC50 13 01000000 0F AABB").unwrap();
        let mut records = Records::new(&bytes, 19);
        let first = records.next().unwrap().unwrap();
        assert_eq!(first.offset(), 20);
        assert_eq!(first.fill(), 1);
        assert_eq!(first.quantity(), "volume");
        assert_eq!(first.unit(), Some("m3"));
        assert_eq!(first.number().unwrap().to_string(), "12345.678");
        let second = records.next().unwrap().unwrap();
        assert_eq!(second.quantity(), "flow_temperature");
        assert_eq!(second.number().unwrap().to_string(), "20");
        let third = records.next().unwrap().unwrap();
        assert_eq!(
            (third.storage(), third.tariff(), third.subunit()),
            (1, 1, 1)
        );
        assert_eq!(third.dib(), [0xCC, 0x50]);
        assert_eq!(third.number().unwrap().to_string(), "0.001");
        assert!(records.next().is_none());
        assert_eq!(records.manufacturer_data(), Some(&[0xAA, 0xBB][..]));
    }

    #[test]
    fn errors_carry_the_offset_and_end_the_walk() {
        let bytes = parse_hex("0C13 7856").unwrap();
        let mut records = Records::new(&bytes, 10);
        let e = records.next().unwrap().unwrap_err();
        assert_eq!((e.kind(), e.offset()), (ErrorKind::Malformed, 12));
        assert!(records.next().is_none());
        let bytes = parse_hex("3F13").unwrap();
        let e = Records::new(&bytes, 0).next().unwrap().unwrap_err();
        assert_eq!((e.kind(), e.offset()), (ErrorKind::Malformed, 0));
    }

    #[test]
    fn vifes_and_plain_text_are_skipped_whole() {
        // VIF 93 VIFE 3C (backward flow): the number is left to the full decoder; then VIF FC
        // with a VIFE and the text "m3" read reversed, 2013 order.
        let bytes = parse_hex("0C93 3C 01000000 02FC 74 02 336D 0500").unwrap();
        let mut records = Records::new(&bytes, 0);
        let first = records.next().unwrap().unwrap();
        assert!(first.has_combinable_vifes());
        assert_eq!(first.number(), None);
        let second = records.next().unwrap().unwrap();
        assert_eq!(second.vib(), [0xFC, 0x74, 0x02, 0x33, 0x6D]);
        assert_eq!(second.data(), [0x05, 0x00]);
    }
}
