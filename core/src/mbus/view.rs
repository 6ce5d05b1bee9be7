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

use super::datatypes::{bcd, int_le};
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

/// One data record, borrowed from the frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordView<'a> {
    offset: usize,
    fill: u16,
    /// The whole record: DIB, VIB, LVAR, data.
    record: &'a [u8],
    dib: &'a [u8],
    vib: &'a [u8],
    data: &'a [u8],
    /// The LVAR byte of a variable-length record.
    lvar: Option<u8>,
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
    /// decoder reads it.
    #[inline]
    fn plain_text_vifes_end(&self, at: usize) -> Result<usize> {
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
            .and_then(|vifes_at| self.vifes_end(vifes_at, true, 0));
        let old_ok = matches!(old, Ok(end) if printable(at, self.text_end(at).unwrap_or(end)));
        if new_ok || !old_ok {
            new.map(|(_, end)| end)
        } else {
            old
        }
    }

    /// A record of one DIF (no DIFE) with a VIF of one byte, or FB/FD and one code, without
    /// VIFEs and with fixed-length data that is all there; `None` sends the record to the
    /// general walk (which also reports its errors).
    #[inline]
    fn simple_record(&mut self, at: usize, dif: u8) -> Option<RecordView<'a>> {
        let len = data_len(dif & 0x0F)?;
        let vif_at = at.checked_add(1)?;
        let vif = self.byte(vif_at)?;
        let vib_len = if vif & 0x80 == 0 {
            if vif == 0x7C {
                return None;
            }
            1
        } else if vif == 0xFB || vif == 0xFD {
            let code = self.byte(vif_at.checked_add(1)?)?;
            if code & 0x80 != 0 {
                return None;
            }
            2
        } else {
            return None;
        };
        let data_at = vif_at.checked_add(vib_len)?;
        let end = data_at.checked_add(len)?;
        let record = self.bytes.get(at..end)?;
        let (dib, rest) = record.split_at_checked(1)?;
        let (vib, data) = rest.split_at_checked(vib_len)?;
        self.pos = end;
        Some(RecordView {
            offset: self.base.saturating_add(at),
            fill: core::mem::take(&mut self.fill),
            record,
            dib,
            vib,
            data,
            lvar: None,
        })
    }

    fn next_record(&mut self) -> Result<Option<RecordView<'a>>> {
        loop {
            let at = self.pos;
            let Some(dif) = self.byte(at) else {
                return Ok(None);
            };
            match dif {
                FILLER => {
                    self.pos = at.saturating_add(1);
                    self.fill = self.fill.saturating_add(1);
                    continue;
                }
                0x0F | 0x1F => {
                    self.manufacturer = Some(self.bytes.get(at.saturating_add(1)..).unwrap_or(&[]));
                    self.manufacturer_at = Some(at);
                    self.pos = self.bytes.len();
                    return Ok(None);
                }
                0x7F => {
                    self.pos = at.saturating_add(1);
                    let dib = self.bytes.get(at..self.pos).unwrap_or(&[]);
                    let view = RecordView {
                        offset: self.base.saturating_add(at),
                        fill: core::mem::take(&mut self.fill),
                        record: dib,
                        dib,
                        vib: &[],
                        data: &[],
                        lvar: None,
                    };
                    return Ok(Some(view));
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
            self.pos = end;
            return Ok(Some(RecordView {
                offset: self.base.saturating_add(at),
                fill: core::mem::take(&mut self.fill),
                record: self.bytes.get(at..end).unwrap_or(&[]),
                dib: self.bytes.get(at..vib_at).unwrap_or(&[]),
                vib: self.bytes.get(vib_at..data_at).unwrap_or(&[]),
                data,
                lvar,
            }));
        }
    }
}

/// The data length an LVAR byte announces (§6.4), `None` for reserved values.
#[inline]
fn lvar_len(lvar: u8) -> Option<usize> {
    lvar_of(lvar).map(|(_, n)| n)
}

impl<'a> Iterator for Records<'a> {
    type Item = Result<RecordView<'a>>;

    /// The next record; after an error the walk ends.
    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        // Fillers, then the common record (one DIF, a VIF or FB/FD and one code without
        // VIFEs, fixed data) straight into the item; anything else takes the general walk.
        while self.byte(self.pos) == Some(FILLER) {
            self.pos = self.pos.saturating_add(1);
            self.fill = self.fill.saturating_add(1);
        }
        if let Some(dif) = self.byte(self.pos) {
            if dif & 0x80 == 0 && dif & 0x0F != 0x0F {
                if let Some(view) = self.simple_record(self.pos, dif) {
                    return Some(Ok(view));
                }
            }
        }
        match self.next_record() {
            Ok(Some(view)) => Some(Ok(view)),
            Ok(None) => {
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
        self.dib
    }

    /// The VIF, VIFEs and any plain-text unit.
    #[inline]
    pub fn vib(&self) -> &'a [u8] {
        self.vib
    }

    /// The LVAR byte of a variable-length record (DIF data field D).
    #[inline]
    pub fn lvar(&self) -> Option<u8> {
        self.lvar
    }

    /// The data bytes (after the LVAR byte of a variable-length record).
    #[inline]
    pub fn data(&self) -> &'a [u8] {
        self.data
    }

    #[inline]
    fn dif(&self) -> u8 {
        self.dib.first().copied().unwrap_or(0)
    }

    #[inline]
    fn difes(&self) -> impl Iterator<Item = (u32, u8)> + 'a {
        (0u32..).zip(self.dib.iter().skip(1).copied())
    }

    /// Storage number from the DIF and DIFEs.
    #[inline]
    pub fn storage(&self) -> u64 {
        self.difes()
            .fold(u64::from((self.dif() >> 6) & 1), |acc, (k, d)| {
                acc | u64::from(d & 0x0F).wrapping_shl(k.wrapping_mul(4).wrapping_add(1))
            })
    }

    /// Tariff from the DIFEs.
    #[inline]
    pub fn tariff(&self) -> u32 {
        self.difes().fold(0, |acc, (k, d)| {
            acc | u32::from((d >> 4) & 0x03).wrapping_shl(k.wrapping_mul(2))
        })
    }

    /// Subunit from the DIFEs.
    #[inline]
    pub fn subunit(&self) -> u32 {
        self.difes().fold(0, |acc, (k, d)| {
            acc | u32::from((d >> 6) & 0x01).wrapping_shl(k)
        })
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
        let head = match self.vib.first() {
            Some(0xFB | 0xFD | 0xEF) => match self.vib.get(..3) {
                Some([0xFD, 0xFD, _]) => 3,
                _ => 2,
            },
            _ => 1,
        };
        match self.vib.first() {
            // A plain-text unit: VIF FC always has VIFEs (with the text before or after them).
            Some(0x7C) => false,
            Some(0xFC) => true,
            _ => self.vib.len() > head,
        }
    }

    /// The meaning of the VIF (primary table, or FB / FD), without its combinable VIFEs.
    #[inline]
    pub fn meaning(&self) -> Meaning {
        match self.vib {
            [0xFD, 0xFD, second, ..] => vif::fd_second_level(*second),
            [0xFD, code, ..] => vif::fd(*code),
            [0xFB, code, ..] => vif::fb(*code),
            [first, ..] if !matches!(first, 0xEF | 0x7C | 0xFC) => vif::primary(*first),
            _ => vif::RESERVED,
        }
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
        self.number_as(&self.meaning())
    }

    /// Quantity, unit and number at once (the VIF is looked up once).
    #[inline]
    pub fn value(&self) -> RecordValue {
        let meaning = self.meaning();
        RecordValue {
            quantity: meaning.quantity,
            unit: meaning.unit,
            number: self.number_as(&meaning),
        }
    }

    #[inline]
    fn number_as(&self, meaning: &Meaning) -> Option<Decimal> {
        if self.lvar.is_some() || self.has_combinable_vifes() {
            return None;
        }
        let signed = match meaning.coding {
            Coding::Signed => true,
            Coding::Unsigned | Coding::Bits => false,
            Coding::Date | Coding::Ident | Coding::Container => return None,
        };
        let raw = match self.dif() & 0x0F {
            0x0 | 0x8 | 0xD | 0xF => return None,
            0x5 => {
                let bytes: [u8; 4] = self.data.try_into().ok()?;
                Decimal::from_f32_shortest(f32::from_le_bytes(bytes))?
            }
            0x9..=0xC | 0xE => Decimal::from_int(bcd(self.data)?),
            _ => Decimal::from_int(int_le(self.data, signed)?),
        };
        let raw = if meaning.factor == 1 {
            raw
        } else {
            Decimal::new(
                raw.mantissa().checked_mul(i128::from(meaning.factor))?,
                raw.exponent(),
            )?
        };
        raw.scaled(meaning.exponent)
    }
}

/// A record's quantity, unit and number, as [`RecordView::value`] reads them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordValue {
    /// What is measured, as the model names it.
    pub quantity: &'static str,
    /// The unit of `number`.
    pub unit: Option<&'static str>,
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
