//! Wired M-Bus link layer (EN 13757-2, FT1.2 frames): checked zero-copy views.
//!
//! | frame   | layout                                   | length  |
//! |---------|------------------------------------------|---------|
//! | ack     | `E5`                                     | 1       |
//! | short   | `10 C A CS 16`                           | 5       |
//! | control | `68 03 03 68 C A CI CS 16`               | 9       |
//! | long    | `68 L L 68 C A CI data… CS 16`           | L + 6   |
//!
//! `L` counts C, A, CI and the data; `CS` is the byte sum mod 256 of those bytes.
//! [`LongFrame::new_checked`] and [`ShortFrame::new_checked`] verify everything once; the
//! accessors after it cannot fail. The setters on `AsMut` buffers and
//! [`LongFrame::fill_checksum`] write the same layout back.

use crate::error::{Detail, Error, ErrorKind, Layer, Result};
use crate::model::{Code8, LinkFunction, MbusFrameKind, MbusLink};

/// The single-character acknowledgement.
pub const ACK: u8 = 0xE5;
/// Start byte of a short frame.
pub const SHORT_START: u8 = 0x10;
/// Start byte (both of them) of a control or long frame.
pub const LONG_START: u8 = 0x68;
/// Stop byte of short, control and long frames.
pub const STOP: u8 = 0x16;

/// Byte offsets of every fixed field; parse and emit both read them from here.
pub mod field {
    use core::ops::RangeFrom;

    /// Start byte (all frames).
    pub const START: usize = 0;
    /// First L field (long/control).
    pub const L1: usize = 1;
    /// Second L field (long/control).
    pub const L2: usize = 2;
    /// Second start byte (long/control).
    pub const START2: usize = 3;
    /// C field (long/control).
    pub const C: usize = 4;
    /// A field (long/control).
    pub const A: usize = 5;
    /// CI field (long/control).
    pub const CI: usize = 6;
    /// User data after the CI (long).
    pub const USER_DATA: RangeFrom<usize> = 7..;
    /// Bytes of a long frame that L does not count: 68 L L 68 … CS 16.
    pub const LONG_OVERHEAD: usize = 6;
    /// The smallest L: C, A and CI.
    pub const MIN_L: u8 = 3;

    /// C field (short).
    pub const SHORT_C: usize = 1;
    /// A field (short).
    pub const SHORT_A: usize = 2;
    /// Checksum (short).
    pub const SHORT_CS: usize = 3;
    /// Stop byte (short).
    pub const SHORT_STOP: usize = 4;
    /// Length of a short frame.
    pub const SHORT_LEN: usize = 5;
}

pub use crate::framing::checksum;

pub use crate::framing::Status;

fn link_error(kind: ErrorKind, offset: usize, detail: Detail) -> Error {
    Error::link(kind, offset, detail)
}

/// Finds the extent of the frame that starts `buf` from its start byte and L fields, without
/// reading its checksum. Distinguishes "need more bytes" from a malformed start, so a serial
/// reader can wait for more input or resynchronise.
pub fn frame_status(buf: &[u8]) -> Result<Status> {
    let Some(&start) = buf.first() else {
        return Ok(Status::Incomplete { needed: 1 });
    };
    match start {
        ACK => Ok(Status::Complete(1)),
        SHORT_START => Ok(if buf.len() >= field::SHORT_LEN {
            Status::Complete(field::SHORT_LEN)
        } else {
            Status::Incomplete {
                needed: field::SHORT_LEN,
            }
        }),
        LONG_START => {
            let (Some(&l1), Some(&l2), Some(&start2)) = (
                buf.get(field::L1),
                buf.get(field::L2),
                buf.get(field::START2),
            ) else {
                return Ok(Status::Incomplete {
                    needed: field::START2.saturating_add(1),
                });
            };
            if start2 != LONG_START {
                return Err(link_error(
                    ErrorKind::Start,
                    field::START2,
                    Detail::Byte {
                        expected: LONG_START,
                        found: start2,
                    },
                ));
            }
            if l1 != l2 {
                return Err(link_error(
                    ErrorKind::Length,
                    field::L2,
                    Detail::LengthMismatch {
                        first: usize::from(l1),
                        second: usize::from(l2),
                    },
                ));
            }
            if l1 < field::MIN_L {
                return Err(link_error(
                    ErrorKind::Length,
                    field::L1,
                    Detail::Text("L field below 3: a frame needs at least C, A and CI"),
                ));
            }
            let total = usize::from(l1).saturating_add(field::LONG_OVERHEAD);
            Ok(if buf.len() >= total {
                Status::Complete(total)
            } else {
                Status::Incomplete { needed: total }
            })
        }
        other => Err(link_error(
            ErrorKind::Start,
            field::START,
            Detail::Code {
                what: "not an M-Bus start byte (E5, 10 or 68):",
                value: other,
            },
        )),
    }
}

/// Checks that `buf` is exactly one frame of `expected` bytes (from [`frame_status`]).
fn check_extent(buf: &[u8]) -> Result<usize> {
    match frame_status(buf)? {
        Status::Incomplete { needed } => Err(Error::truncated(Layer::Link, needed, buf.len())),
        Status::Complete(len) if buf.len() > len => Err(link_error(
            ErrorKind::Length,
            len,
            Detail::Trailing {
                frame_len: len,
                extra: buf.len().saturating_sub(len),
            },
        )),
        Status::Complete(len) => Ok(len),
    }
}

fn check_tail(buf: &[u8], covered: core::ops::Range<usize>, cs_at: usize) -> Result<()> {
    crate::framing::check_sum_and_stop(buf, covered, cs_at, STOP)
}

/// A checked view of a control or long frame `68 L L 68 C A CI data CS 16`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LongFrame<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> LongFrame<T> {
    /// Wraps `buffer` without checking it; accessors return 0 / empty for missing bytes.
    pub const fn new_unchecked(buffer: T) -> Self {
        LongFrame { buffer }
    }

    /// Wraps `buffer` after [`check`](Self::check).
    pub fn new_checked(buffer: T) -> Result<Self> {
        let frame = Self::new_unchecked(buffer);
        frame.check()?;
        Ok(frame)
    }

    /// Verifies start bytes, both L fields, the total length, the checksum and the stop byte.
    ///
    /// Offsets (design §3): start → 0 or 3; L mismatch → 2; truncation → input length;
    /// trailing bytes → the first byte after the frame; checksum → its own byte; stop → its own.
    pub fn check(&self) -> Result<()> {
        let buf = self.buffer.as_ref();
        if buf.first() != Some(&LONG_START) {
            return Err(link_error(
                ErrorKind::Start,
                field::START,
                Detail::Byte {
                    expected: LONG_START,
                    found: buf.first().copied().unwrap_or(0),
                },
            ));
        }
        let len = check_extent(buf)?;
        let cs_at = len.saturating_sub(2);
        check_tail(buf, field::C..cs_at, cs_at)
    }

    /// Consumes the view, returning the buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The total frame length for a given number of user data bytes (after the CI).
    pub const fn buffer_len(user_data_len: usize) -> usize {
        user_data_len.saturating_add(9)
    }

    fn byte(&self, at: usize) -> u8 {
        self.buffer.as_ref().get(at).copied().unwrap_or(0)
    }

    /// The L field.
    pub fn l_field(&self) -> u8 {
        self.byte(field::L1)
    }

    /// The C field.
    pub fn c_field(&self) -> u8 {
        self.byte(field::C)
    }

    /// The A field (primary address).
    pub fn a_field(&self) -> u8 {
        self.byte(field::A)
    }

    /// The CI field.
    pub fn ci_field(&self) -> u8 {
        self.byte(field::CI)
    }

    /// Whether this is a control frame (L = 3, no user data).
    pub fn is_control(&self) -> bool {
        self.l_field() == field::MIN_L
    }

    fn user_data_end(&self) -> usize {
        usize::from(self.l_field()).saturating_add(field::START2.saturating_add(1))
    }

    /// The user data after the CI field.
    pub fn user_data(&self) -> &[u8] {
        self.buffer
            .as_ref()
            .get(field::USER_DATA.start..self.user_data_end())
            .unwrap_or(&[])
    }

    /// The checksum byte.
    pub fn checksum_field(&self) -> u8 {
        self.byte(self.user_data_end())
    }

    /// The whole frame.
    pub fn as_bytes(&self) -> &[u8] {
        self.buffer.as_ref()
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> LongFrame<T> {
    fn set(&mut self, at: usize, value: u8) {
        if let Some(b) = self.buffer.as_mut().get_mut(at) {
            *b = value;
        }
    }

    /// Writes start bytes, both L fields (from the buffer length) and the stop byte.
    pub fn set_envelope(&mut self) {
        let len = self.buffer.as_ref().len();
        let l = u8::try_from(len.saturating_sub(field::LONG_OVERHEAD)).unwrap_or(u8::MAX);
        self.set(field::START, LONG_START);
        self.set(field::L1, l);
        self.set(field::L2, l);
        self.set(field::START2, LONG_START);
        self.set(len.saturating_sub(1), STOP);
    }

    /// Sets the C field.
    pub fn set_c_field(&mut self, value: u8) {
        self.set(field::C, value);
    }

    /// Sets the A field.
    pub fn set_a_field(&mut self, value: u8) {
        self.set(field::A, value);
    }

    /// Sets the CI field.
    pub fn set_ci_field(&mut self, value: u8) {
        self.set(field::CI, value);
    }

    /// The user data after the CI, writable.
    pub fn user_data_mut(&mut self) -> &mut [u8] {
        let end = self.user_data_end();
        self.buffer
            .as_mut()
            .get_mut(field::USER_DATA.start..end)
            .unwrap_or(&mut [])
    }

    /// Computes and writes the checksum over C … data.
    pub fn fill_checksum(&mut self) {
        let end = self.user_data_end();
        let cs = checksum(self.buffer.as_ref().get(field::C..end).unwrap_or(&[]));
        self.set(end, cs);
    }
}

/// A checked view of a short frame `10 C A CS 16`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShortFrame<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> ShortFrame<T> {
    /// Wraps `buffer` without checking it.
    pub const fn new_unchecked(buffer: T) -> Self {
        ShortFrame { buffer }
    }

    /// Wraps `buffer` after [`check`](Self::check).
    pub fn new_checked(buffer: T) -> Result<Self> {
        let frame = Self::new_unchecked(buffer);
        frame.check()?;
        Ok(frame)
    }

    /// Verifies start byte, length, checksum and stop byte.
    pub fn check(&self) -> Result<()> {
        let buf = self.buffer.as_ref();
        if buf.first() != Some(&SHORT_START) {
            return Err(link_error(
                ErrorKind::Start,
                field::START,
                Detail::Byte {
                    expected: SHORT_START,
                    found: buf.first().copied().unwrap_or(0),
                },
            ));
        }
        check_extent(buf)?;
        check_tail(buf, field::SHORT_C..field::SHORT_CS, field::SHORT_CS)
    }

    fn byte(&self, at: usize) -> u8 {
        self.buffer.as_ref().get(at).copied().unwrap_or(0)
    }

    /// The C field.
    pub fn c_field(&self) -> u8 {
        self.byte(field::SHORT_C)
    }

    /// The A field.
    pub fn a_field(&self) -> u8 {
        self.byte(field::SHORT_A)
    }

    /// The checksum byte.
    pub fn checksum_field(&self) -> u8 {
        self.byte(field::SHORT_CS)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> ShortFrame<T> {
    /// Writes the whole frame: start, C, A, checksum, stop.
    pub fn emit(&mut self, c: u8, a: u8) {
        let buf = self.buffer.as_mut();
        for (i, v) in [SHORT_START, c, a, c.wrapping_add(a), STOP]
            .into_iter()
            .enumerate()
        {
            if let Some(b) = buf.get_mut(i) {
                *b = v;
            }
        }
    }
}

/// One checked wired M-Bus frame of any kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Frame<'a> {
    /// `E5`.
    Ack,
    /// `10 C A CS 16`.
    Short(ShortFrame<&'a [u8]>),
    /// `68 L L 68 C A CI … CS 16` (control frames included).
    Long(LongFrame<&'a [u8]>),
}

impl<'a> Frame<'a> {
    /// Checks `buf` as exactly one frame of any kind.
    pub fn parse(buf: &'a [u8]) -> Result<Frame<'a>> {
        match buf.first() {
            None => Err(Error::new(
                ErrorKind::Empty,
                Layer::Input,
                0,
                Detail::Text("no input bytes"),
            )),
            Some(&ACK) => {
                check_extent(buf)?;
                Ok(Frame::Ack)
            }
            Some(&SHORT_START) => Ok(Frame::Short(ShortFrame::new_checked(buf)?)),
            Some(_) => Ok(Frame::Long(LongFrame::new_checked(buf)?)),
        }
    }

    /// The link fields of the model (design §2.2).
    pub fn link(&self) -> MbusLink {
        match self {
            Frame::Ack => MbusLink {
                kind: MbusFrameKind::Ack,
                ..MbusLink::default()
            },
            Frame::Short(f) => {
                let mut link = link_for_c(f.c_field());
                link.kind = MbusFrameKind::Short;
                link.a = Some(f.a_field());
                link
            }
            Frame::Long(f) => {
                let mut link = link_for_c(f.c_field());
                link.kind = if f.is_control() {
                    MbusFrameKind::Control
                } else {
                    MbusFrameKind::Long
                };
                link.a = Some(f.a_field());
                link.ci = Some(Code8(f.ci_field()));
                link
            }
        }
    }
}

/// Bits of the C field.
mod c_bits {
    /// PRM: 1 = the frame goes from master to slave.
    pub const PRM: u8 = 0x40;
    /// FCB (master → slave) / ACD (slave → master).
    pub const FCB_ACD: u8 = 0x20;
    /// FCV (master → slave) / DFC (slave → master).
    pub const FCV_DFC: u8 = 0x10;
    /// The function code.
    pub const FUNCTION: u8 = 0x0F;
}

/// Whether a C field is sent by the master (PRM bit).
pub fn is_master_to_slave(c: u8) -> bool {
    c & c_bits::PRM != 0
}

/// The link function a C field names, if it is one of EN 13757-2's.
pub fn function_of(c: u8) -> Option<LinkFunction> {
    match (is_master_to_slave(c), c & c_bits::FUNCTION) {
        (true, 0x0) => Some(LinkFunction::SndNke),
        (true, 0x3) => Some(LinkFunction::SndUd),
        (true, 0xA) => Some(LinkFunction::ReqUd1),
        (true, 0xB) => Some(LinkFunction::ReqUd2),
        (false, 0x8) => Some(LinkFunction::RspUd),
        _ => None,
    }
}

fn link_for_c(c: u8) -> MbusLink {
    let mut link = MbusLink {
        c: Some(Code8(c)),
        function: function_of(c),
        ..MbusLink::default()
    };
    let high = c & c_bits::FCB_ACD != 0;
    let low = c & c_bits::FCV_DFC != 0;
    if is_master_to_slave(c) {
        link.fcb = Some(high);
        link.fcv = Some(low);
    } else {
        link.acd = Some(high);
        link.dfc = Some(low);
    }
    link
}

#[cfg(test)]
mod tests {
    use super::*;

    // REQ_UD2 to address 5 (EN 13757-2): 10 7B 05 80 16.
    const REQ_UD2: [u8; 5] = [0x10, 0x7B, 0x05, 0x80, 0x16];
    // A control frame: application reset CI 50 to address 1, C = 53.
    const CONTROL: [u8; 9] = [0x68, 0x03, 0x03, 0x68, 0x53, 0x01, 0x50, 0xA4, 0x16];

    #[test]
    fn short_frame_fields() {
        let f = ShortFrame::new_checked(&REQ_UD2[..]).unwrap();
        assert_eq!(
            (f.c_field(), f.a_field(), f.checksum_field()),
            (0x7B, 5, 0x80)
        );
        let link = Frame::Short(f).link();
        assert_eq!(link.function, Some(LinkFunction::ReqUd2));
        assert_eq!((link.fcb, link.fcv), (Some(true), Some(true)));
    }

    #[test]
    fn control_frame_fields() {
        let f = LongFrame::new_checked(&CONTROL[..]).unwrap();
        assert!(f.is_control());
        assert_eq!((f.c_field(), f.a_field(), f.ci_field()), (0x53, 1, 0x50));
        assert!(f.user_data().is_empty());
        assert_eq!(Frame::Long(f).link().kind, MbusFrameKind::Control);
    }

    #[test]
    fn emit_writes_what_parse_reads() {
        let mut buf = [0u8; 5];
        ShortFrame::new_unchecked(&mut buf[..]).emit(0x7B, 5);
        assert_eq!(buf, REQ_UD2);

        let mut long = [0u8; 9];
        let mut f = LongFrame::new_unchecked(&mut long[..]);
        f.set_envelope();
        f.set_c_field(0x53);
        f.set_a_field(1);
        f.set_ci_field(0x50);
        f.fill_checksum();
        assert_eq!(long, CONTROL);
    }

    #[test]
    fn errors_name_kind_and_offset() {
        let cases: [(&[u8], ErrorKind, usize); 8] = [
            (
                &[0x68, 0x03, 0x03, 0x68, 0x53, 0x01, 0x50, 0xA5, 0x16],
                ErrorKind::Checksum,
                7,
            ),
            (
                &[0x68, 0x03, 0x03, 0x68, 0x53, 0x01, 0x50, 0xA4, 0x17],
                ErrorKind::Stop,
                8,
            ),
            (
                &[0x68, 0x03, 0x04, 0x68, 0x53, 0x01, 0x50, 0xA4, 0x16],
                ErrorKind::Length,
                2,
            ),
            (
                &[0x68, 0x03, 0x03, 0x68, 0x53, 0x01],
                ErrorKind::Truncated,
                6,
            ),
            (
                &[0x68, 0x03, 0x03, 0x69, 0x53, 0x01, 0x50, 0xA4, 0x16],
                ErrorKind::Start,
                3,
            ),
            (
                &[0x68, 0x03, 0x03, 0x68, 0x53, 0x01, 0x50, 0xA4, 0x16, 0x00],
                ErrorKind::Length,
                9,
            ),
            (&[0x10, 0x7B, 0x05, 0x81, 0x16], ErrorKind::Checksum, 3),
            (&[0x10, 0x7B, 0x05], ErrorKind::Truncated, 3),
        ];
        for (bytes, kind, offset) in cases {
            let e = Frame::parse(bytes).unwrap_err();
            assert_eq!((e.kind(), e.offset()), (kind, offset), "{bytes:02X?}: {e}");
        }
        let e = Frame::parse(&[0x68, 0x03, 0x03, 0x68, 0x53, 0x01, 0x50, 0xA5, 0x16]).unwrap_err();
        assert_eq!(e.to_string(), "checksum 0xA5, computed 0xA4");
    }

    #[test]
    fn stream_status_waits_for_more() {
        assert_eq!(
            frame_status(&[0x68, 0x1F]).unwrap(),
            Status::Incomplete { needed: 4 }
        );
        assert_eq!(
            frame_status(&[0x68, 0x1F, 0x1F, 0x68]).unwrap(),
            Status::Incomplete { needed: 0x1F + 6 }
        );
        assert_eq!(frame_status(&[0xE5, 0x10]).unwrap(), Status::Complete(1));
        assert_eq!(frame_status(&[0x42]).unwrap_err().kind(), ErrorKind::Start);
    }
}
