//! CJ/T 188 link layer: the checked zero-copy frame view [`Cjt188Frame`] and its [`FrameRepr`].
//!
//! ```text
//! [FE…] 68 T A0 A1 A2 A3 A4 A5 A6 C L DATA[L] CS 16
//! ```
//!
//! Offsets in [`field`] count from the `68`; the view adds the number of `FE` wake-up bytes in
//! front of it, so every offset it reports (and every error offset) is an offset of the input.
//! `CS` is the byte sum mod 256 of every byte from `68` to the last data byte.
//! [`Cjt188Frame::new_checked`] verifies start, length, checksum and end byte once; the
//! accessors after it cannot fail. [`FrameRepr::emit`] writes the same layout back.

use crate::error::{Detail, Error, ErrorKind, Layer, Result};
use crate::model::{Cjt188Direction, Cjt188Function, Cjt188Link, Code8, ShortText};

/// Wake-up byte sent before the frame (any number of them).
pub const PREAMBLE: u8 = 0xFE;
/// Start byte.
pub const START: u8 = 0x68;
/// End byte.
pub const STOP: u8 = 0x16;
/// Wildcard value of an address byte or of the meter type.
pub const WILDCARD: u8 = 0xAA;

/// Byte offsets of the fixed fields, counted from the start byte `68`; parse and emit both
/// read them from here.
pub mod field {
    use core::ops::{Range, RangeFrom};

    /// Start byte `68`.
    pub const START: usize = 0;
    /// Meter type T.
    pub const T: usize = 1;
    /// Address A0…A6 (A0, the least significant byte, first).
    pub const ADDRESS: Range<usize> = 2..9;
    /// Control code C.
    pub const C: usize = 9;
    /// Data length L.
    pub const L: usize = 10;
    /// The data field.
    pub const DATA: RangeFrom<usize> = 11..;
    /// Bytes from the start byte to the data field.
    pub const HEADER_LEN: usize = 11;
    /// Bytes L does not count: start, T, address, C, L, CS, end.
    pub const OVERHEAD: usize = 13;

    /// Inside the data field of a normal frame: the data identifier.
    pub const DI: Range<usize> = 0..2;
    /// Inside the data field of a normal frame: the sequence number.
    pub const SER: usize = 2;
    /// Inside the data field of a normal frame: the payload after DI and SER.
    pub const PAYLOAD: RangeFrom<usize> = 3..;
}

/// Bits of the control code.
pub mod control {
    /// D7: 1 = slave → master (reply).
    pub const DIRECTION: u8 = 0x80;
    /// D6: 1 = exception reply.
    pub const EXCEPTION: u8 = 0x40;
    /// D5: no defined function uses it; some firmware reads it as a follow-up flag.
    pub const FOLLOW_UP: u8 = 0x20;
    /// D5–D0: the function code.
    pub const FUNCTION: u8 = 0x3F;
    /// D4–D0: the function code as firmware that reads D5 as a flag sees it.
    pub const FUNCTION_NARROW: u8 = 0x1F;
}

pub use crate::framing::checksum;

/// The number of `FE` wake-up bytes that start `buf`.
pub fn preamble_len(buf: &[u8]) -> usize {
    buf.iter().take_while(|b| **b == PREAMBLE).count()
}

pub use crate::framing::Status;

fn link_error(kind: ErrorKind, offset: usize, detail: Detail) -> Error {
    Error::link(kind, offset, detail)
}

/// Finds the extent of the frame that starts `buf` (wake-up bytes included) from its start
/// byte and L field, without reading its checksum: "need more bytes" is not an error, a byte
/// other than `68` after the wake-up bytes is.
pub fn frame_status(buf: &[u8]) -> Result<Status> {
    let p = preamble_len(buf);
    let header_end = p.saturating_add(field::HEADER_LEN);
    match buf.get(p.saturating_add(field::START)) {
        None => {
            return Ok(Status::Incomplete {
                needed: p.saturating_add(field::OVERHEAD),
            })
        }
        Some(&START) => {}
        Some(&found) => {
            return Err(link_error(
                ErrorKind::Start,
                p,
                Detail::Byte {
                    expected: START,
                    found,
                },
            ))
        }
    }
    let Some(&l) = buf.get(p.saturating_add(field::L)) else {
        return Ok(Status::Incomplete {
            needed: header_end.saturating_add(2),
        });
    };
    let total = p
        .saturating_add(field::OVERHEAD)
        .saturating_add(usize::from(l));
    Ok(if buf.len() >= total {
        Status::Complete(total)
    } else {
        Status::Incomplete { needed: total }
    })
}

/// Whether `frame` (wake-up bytes included) ends with a checksum and end byte that verify over
/// a data field of the length the frame actually has: then a disagreeing L field is wrong,
/// rather than the frame cut short or followed by other bytes.
fn tail_fits(frame: &[u8], p: usize) -> Option<usize> {
    let actual = frame.len().checked_sub(p.checked_add(field::OVERHEAD)?)?;
    if actual > usize::from(u8::MAX) || frame.last() != Some(&STOP) {
        return None;
    }
    let cs_at = frame.len().checked_sub(2)?;
    let covered = frame.get(p..cs_at)?;
    (frame.get(cs_at) == Some(&checksum(covered))).then_some(actual)
}

/// The length (wake-up bytes included) the frame at the start of `buf` claims by its L field,
/// when `buf` holds that many bytes; nothing verified yet.
pub fn claimed_len(buf: &[u8]) -> Option<usize> {
    match frame_status(buf) {
        Ok(Status::Complete(len)) => Some(len),
        _ => None,
    }
}

/// The length of the complete frame at the start of `buf` whose link layer verifies (start
/// byte, L, checksum, end byte), if there is one. Used to cut streams and to detect.
pub fn verified_len(buf: &[u8]) -> Option<usize> {
    let Ok(Status::Complete(len)) = frame_status(buf) else {
        return None;
    };
    let frame = buf.get(..len)?;
    Cjt188Frame::new_checked(frame).ok().map(|_| len)
}

/// A checked view of one CJ/T 188 frame, wake-up bytes included.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cjt188Frame<T: AsRef<[u8]>> {
    buffer: T,
    preamble: usize,
}

impl<T: AsRef<[u8]>> Cjt188Frame<T> {
    /// Wraps `buffer` without checking it; accessors return 0 / empty for missing bytes.
    pub fn new_unchecked(buffer: T) -> Self {
        let preamble = preamble_len(buffer.as_ref());
        Cjt188Frame { buffer, preamble }
    }

    /// Wraps `buffer` after [`check`](Self::check).
    pub fn new_checked(buffer: T) -> Result<Self> {
        let frame = Self::new_unchecked(buffer);
        frame.check()?;
        Ok(frame)
    }

    /// Verifies that the buffer is exactly one frame: wake-up bytes, start byte, length,
    /// checksum and end byte.
    ///
    /// Offsets (design §3, counted in the input, wake-up bytes included): empty input → 0;
    /// a start byte that is not `68` → its offset; an input cut short → the input length; an
    /// L field that disagrees with a frame whose checksum and end byte verify at another
    /// length → the L field; bytes after the frame → the first of them; a bad checksum →
    /// the CS byte; a bad end byte → its offset.
    pub fn check(&self) -> Result<()> {
        let buf = self.buffer.as_ref();
        if buf.is_empty() {
            return Err(Error::new(
                ErrorKind::Empty,
                Layer::Input,
                0,
                Detail::Text("no input bytes"),
            ));
        }
        let p = self.preamble;
        let total = match frame_status(buf)? {
            Status::Complete(total) => total,
            Status::Incomplete { needed } => {
                return Err(match tail_fits(buf, p) {
                    Some(actual) if buf.len() > p.saturating_add(field::L) => link_error(
                        ErrorKind::Length,
                        p.saturating_add(field::L),
                        Detail::LengthField {
                            declared: usize::from(self.byte(field::L)),
                            actual,
                        },
                    ),
                    _ => Error::truncated(Layer::Link, needed, buf.len()),
                });
            }
        };
        if buf.len() > total {
            return Err(match tail_fits(buf, p) {
                Some(actual) => link_error(
                    ErrorKind::Length,
                    p.saturating_add(field::L),
                    Detail::LengthField {
                        declared: usize::from(self.byte(field::L)),
                        actual,
                    },
                ),
                None => link_error(
                    ErrorKind::Length,
                    total,
                    Detail::Trailing {
                        frame_len: total,
                        extra: buf.len().saturating_sub(total),
                    },
                ),
            });
        }
        let cs_at = total.saturating_sub(2);
        crate::framing::check_sum_and_stop(buf, p..cs_at, cs_at, STOP)
    }

    /// Consumes the view, returning the buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The number of `FE` wake-up bytes before the start byte.
    pub fn preamble_len(&self) -> usize {
        self.preamble
    }

    /// The absolute offset of a field offset counted from the start byte.
    pub fn offset(&self, at: usize) -> usize {
        self.preamble.saturating_add(at)
    }

    fn byte(&self, at: usize) -> u8 {
        self.buffer
            .as_ref()
            .get(self.offset(at))
            .copied()
            .unwrap_or(0)
    }

    /// The meter type T.
    pub fn meter_type(&self) -> u8 {
        self.byte(field::T)
    }

    /// The address bytes in wire order, A0 (least significant) first.
    pub fn address(&self) -> [u8; 7] {
        let mut out = [0u8; 7];
        let start = self.offset(field::ADDRESS.start);
        if let Some(src) = self
            .buffer
            .as_ref()
            .get(start..start.saturating_add(out.len()))
        {
            out.copy_from_slice(src);
        }
        out
    }

    /// The control code C.
    pub fn control(&self) -> u8 {
        self.byte(field::C)
    }

    /// The data length L.
    pub fn length(&self) -> u8 {
        self.byte(field::L)
    }

    /// The absolute offset of the first data byte.
    pub fn data_offset(&self) -> usize {
        self.offset(field::DATA.start)
    }

    fn data_end(&self) -> usize {
        self.data_offset()
            .saturating_add(usize::from(self.length()))
    }

    /// The data field (`DI SER payload` in a normal frame).
    pub fn data(&self) -> &[u8] {
        self.buffer
            .as_ref()
            .get(self.data_offset()..self.data_end())
            .unwrap_or(&[])
    }

    /// The checksum byte.
    pub fn checksum_field(&self) -> u8 {
        self.buffer
            .as_ref()
            .get(self.data_end())
            .copied()
            .unwrap_or(0)
    }

    /// The whole frame, wake-up bytes included.
    pub fn as_bytes(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    /// The link fields of the model (design §2.2) that the header carries; `di`, `di_order`
    /// and `ser` are filled in by the application layer.
    pub fn link(&self) -> Cjt188Link {
        let c = self.control();
        Cjt188Link {
            preamble_len: u32::try_from(self.preamble).unwrap_or(u32::MAX),
            meter_type: Code8(self.meter_type()),
            address: address_text(&self.address()),
            control: Some(Code8(c)),
            direction: direction_of(c),
            exception: c & control::EXCEPTION != 0,
            function: function_of(c),
            length: self.length(),
            di: None,
            di_order: None,
            ser: None,
        }
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Cjt188Frame<T> {
    fn set(&mut self, at: usize, value: u8) {
        let at = self.offset(at);
        if let Some(b) = self.buffer.as_mut().get_mut(at) {
            *b = value;
        }
    }

    /// Writes `n` wake-up bytes at the start of the buffer; later fields move behind them.
    pub fn set_preamble(&mut self, n: usize) {
        for b in self.buffer.as_mut().iter_mut().take(n) {
            *b = PREAMBLE;
        }
        self.preamble = n;
    }

    /// Writes the start byte.
    pub fn set_start(&mut self) {
        self.set(field::START, START);
    }

    /// Sets the meter type.
    pub fn set_meter_type(&mut self, value: u8) {
        self.set(field::T, value);
    }

    /// Sets the address (wire order, A0 first).
    pub fn set_address(&mut self, address: [u8; 7]) {
        for (i, b) in address.into_iter().enumerate() {
            self.set(field::ADDRESS.start.saturating_add(i), b);
        }
    }

    /// Sets the control code.
    pub fn set_control(&mut self, value: u8) {
        self.set(field::C, value);
    }

    /// Sets the L field.
    pub fn set_length(&mut self, value: u8) {
        self.set(field::L, value);
    }

    /// The data field (as long as L says), writable.
    pub fn data_mut(&mut self) -> &mut [u8] {
        let (start, end) = (self.data_offset(), self.data_end());
        self.buffer.as_mut().get_mut(start..end).unwrap_or(&mut [])
    }

    /// Computes and writes the checksum over start byte … data, then the end byte.
    pub fn fill_checksum(&mut self) {
        let end = self.data_end();
        let cs = checksum(self.buffer.as_ref().get(self.preamble..end).unwrap_or(&[]));
        let buf = self.buffer.as_mut();
        if let Some(b) = buf.get_mut(end) {
            *b = cs;
        }
        if let Some(b) = buf.get_mut(end.saturating_add(1)) {
            *b = STOP;
        }
    }
}

/// The header of a frame as values: what [`FrameRepr::emit`] writes around a data field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameRepr {
    /// Number of `FE` wake-up bytes.
    pub preamble_len: usize,
    /// Meter type T.
    pub meter_type: u8,
    /// Address, wire order (A0 first).
    pub address: [u8; 7],
    /// Control code C.
    pub control: u8,
}

impl FrameRepr {
    /// The header of a checked frame.
    pub fn parse<T: AsRef<[u8]>>(frame: &Cjt188Frame<T>) -> FrameRepr {
        FrameRepr {
            preamble_len: frame.preamble_len(),
            meter_type: frame.meter_type(),
            address: frame.address(),
            control: frame.control(),
        }
    }

    /// The frame length for `data_len` data bytes.
    pub fn buffer_len(&self, data_len: usize) -> usize {
        self.preamble_len
            .saturating_add(field::OVERHEAD)
            .saturating_add(data_len)
    }

    /// Writes the whole frame into `frame` (whose buffer is [`buffer_len`](Self::buffer_len)
    /// long): wake-up bytes, header, `data`, checksum and end byte. `data` longer than 255
    /// bytes is cut to 255 (L is one byte); the encoder refuses such data before.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, frame: &mut Cjt188Frame<T>, data: &[u8]) {
        let data = data.get(..usize::from(u8::MAX)).unwrap_or(data);
        frame.set_preamble(self.preamble_len);
        frame.set_start();
        frame.set_meter_type(self.meter_type);
        frame.set_address(self.address);
        frame.set_control(self.control);
        frame.set_length(u8::try_from(data.len()).unwrap_or(u8::MAX));
        let dst = frame.data_mut();
        if let Some(dst) = dst.get_mut(..data.len()) {
            dst.copy_from_slice(data);
        }
        frame.fill_checksum();
    }
}

/// The transfer direction of a control code (D7).
pub fn direction_of(c: u8) -> Cjt188Direction {
    if c & control::DIRECTION != 0 {
        Cjt188Direction::SlaveToMaster
    } else {
        Cjt188Direction::MasterToSlave
    }
}

/// The function of a control code: D5–D0, or D4–D0 when D5 is set and D5–D0 name no
/// function (firmware that reads D5 as a follow-up flag).
pub fn function_of(c: u8) -> Option<Cjt188Function> {
    Cjt188Function::from_code(c & control::FUNCTION)
        .or_else(|| Cjt188Function::from_code(c & control::FUNCTION_NARROW))
}

/// The control code of a function, direction and exception flag.
pub fn control_code(function: Cjt188Function, direction: Cjt188Direction, exception: bool) -> u8 {
    let mut c = function.code();
    if direction == Cjt188Direction::SlaveToMaster {
        c |= control::DIRECTION;
    }
    if exception {
        c |= control::EXCEPTION;
    }
    c
}

/// The address A6…A0 as 14 upper-case hex digits (the BCD digits of a normal address).
pub fn address_text(address: &[u8; 7]) -> ShortText {
    let mut text = ShortText::default();
    for b in address.iter().rev() {
        let _ = core::fmt::Write::write_fmt(&mut text, format_args!("{b:02X}"));
    }
    text
}

/// Reads an address written A6…A0 as 14 hex digits (`00010012345678`, `AAAAAAAAAAAAAA`)
/// into wire order (A0 first). Shorter all-decimal text is padded with leading zeros.
pub fn parse_address(text: &str) -> Option<[u8; 7]> {
    let text = text.trim();
    if text.is_empty() || text.len() > 14 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    if text.len() < 14 && !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut digits = [0u8; 14];
    let pad = 14usize.saturating_sub(text.len());
    for (i, c) in text.chars().enumerate() {
        let d = c.to_digit(16).and_then(|d| u8::try_from(d).ok())?;
        *digits.get_mut(pad.saturating_add(i))? = d;
    }
    let mut out = [0u8; 7];
    for (i, slot) in out.iter_mut().enumerate() {
        // A0 (out[0]) holds the last two digits.
        let hi_at = 12usize.checked_sub(i.checked_mul(2)?)?;
        let hi = *digits.get(hi_at)?;
        let lo = *digits.get(hi_at.checked_add(1)?)?;
        *slot = (hi << 4) | lo;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hex::parse_hex;

    // Digest §10 E1: read 901F, 2004 order, two wake-up bytes.
    const E1: &str = "FE FE 68 10 78 56 34 12 00 01 00 01 03 90 1F 01 41 16";

    #[test]
    fn fields_of_e1() {
        let bytes = parse_hex(E1).unwrap();
        let f = Cjt188Frame::new_checked(&bytes[..]).unwrap();
        assert_eq!(f.preamble_len(), 2);
        assert_eq!(f.meter_type(), 0x10);
        assert_eq!(f.address(), [0x78, 0x56, 0x34, 0x12, 0x00, 0x01, 0x00]);
        assert_eq!(address_text(&f.address()).as_str(), "00010012345678");
        assert_eq!((f.control(), f.length()), (0x01, 3));
        assert_eq!(f.data(), &[0x90, 0x1F, 0x01]);
        assert_eq!(f.checksum_field(), 0x41);
        assert_eq!(f.data_offset(), 13);
        let link = f.link();
        assert_eq!(link.function, Some(Cjt188Function::ReadData));
        assert_eq!(link.direction, Cjt188Direction::MasterToSlave);
    }

    #[test]
    fn emit_writes_what_parse_reads() {
        let bytes = parse_hex(E1).unwrap();
        let f = Cjt188Frame::new_checked(&bytes[..]).unwrap();
        let repr = FrameRepr::parse(&f);
        let mut out = alloc::vec![0u8; repr.buffer_len(f.data().len())];
        repr.emit(&mut Cjt188Frame::new_unchecked(&mut out[..]), f.data());
        assert_eq!(out, bytes);
    }

    #[test]
    fn addresses_read_back() {
        let a = parse_address("00010012345678").unwrap();
        assert_eq!(a, [0x78, 0x56, 0x34, 0x12, 0x00, 0x01, 0x00]);
        assert_eq!(
            parse_address("12345678").unwrap(),
            [0x78, 0x56, 0x34, 0x12, 0x00, 0x00, 0x00]
        );
        assert_eq!(parse_address("AAAAAAAAAAAAAA").unwrap(), [0xAA; 7]);
        assert_eq!(parse_address("AA"), None);
        assert_eq!(parse_address("000100123456789"), None);
        assert_eq!(address_text(&[0xAA; 7]).as_str(), "AAAAAAAAAAAAAA");
    }

    #[test]
    fn errors_name_kind_and_offset() {
        let good = parse_hex(E1).unwrap();
        let n = good.len();
        let with = |at: usize, v: u8| {
            let mut b = good.clone();
            b[at] = v;
            b
        };
        let mut longer = good.clone();
        longer.push(0x00);
        // L says 4, but the checksum and end byte verify with 3 data bytes.
        let mut wrong_l = with(12, 0x04);
        let cs = checksum(&wrong_l[2..n - 2]);
        wrong_l[n - 2] = cs;
        let cases: [(Vec<u8>, ErrorKind, usize); 7] = [
            (with(n - 2, 0x42), ErrorKind::Checksum, n - 2),
            (with(n - 1, 0x17), ErrorKind::Stop, n - 1),
            (good[..10].to_vec(), ErrorKind::Truncated, 10),
            (with(2, 0x69), ErrorKind::Start, 2),
            (longer, ErrorKind::Length, n),
            (wrong_l, ErrorKind::Length, 12),
            (alloc::vec![0xFE, 0xFE], ErrorKind::Truncated, 2),
        ];
        for (bytes, kind, offset) in cases {
            let e = Cjt188Frame::new_checked(&bytes[..]).unwrap_err();
            assert_eq!((e.kind(), e.offset()), (kind, offset), "{bytes:02X?}: {e}");
        }
        let e = Cjt188Frame::new_checked(&with(n - 2, 0x42)[..]).unwrap_err();
        assert_eq!(e.to_string(), "checksum 0x42, computed 0x41");
    }

    #[test]
    fn stream_status_waits_for_more() {
        assert_eq!(
            frame_status(&[0xFE, 0xFE, 0x68]).unwrap(),
            Status::Incomplete { needed: 15 }
        );
        let e1 = parse_hex(E1).unwrap();
        assert_eq!(frame_status(&e1).unwrap(), Status::Complete(e1.len()));
        assert_eq!(verified_len(&e1), Some(e1.len()));
        assert_eq!(frame_status(&[0xFE, 0x42]).unwrap_err().offset(), 1);
    }

    #[test]
    fn control_codes() {
        assert_eq!(function_of(0xC1), Some(Cjt188Function::ReadData));
        assert_eq!(function_of(0x21), Some(Cjt188Function::ReadData));
        assert_eq!(function_of(0x95), Some(Cjt188Function::WriteAddress));
        assert_eq!(function_of(0x00), None);
        assert_eq!(
            control_code(
                Cjt188Function::WriteSync,
                Cjt188Direction::SlaveToMaster,
                false
            ),
            0x96
        );
    }
}
