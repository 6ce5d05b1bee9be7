//! Modbus link layers: the checked zero-copy views of the RTU ADU ([`RtuAdu`]) and the TCP
//! ADU ([`TcpAdu`]), and their [`RtuRepr`] / [`TcpRepr`] with `emit`.
//!
//! ```text
//! RTU: unit PDU CRC_lo CRC_hi                       (CRC-16/MODBUS over unit + PDU)
//! TCP: transaction_id(2) protocol_id(2) length(2) unit PDU   (big-endian; length = 1 + PDU)
//! ```
//!
//! An RTU frame carries no length: [`RtuAdu::new_checked`] takes the whole input as one frame
//! and verifies its CRC; the function code rules ([`super::app::adu_lengths`]) only say
//! whether a frame whose CRC fails was cut short or followed by other bytes. After
//! `new_checked` every accessor is infallible.

use crc::{Crc, CRC_16_MODBUS};

use super::app;
use crate::error::{Detail, Error, ErrorKind, Layer, Result};

/// CRC-16/MODBUS: reflected polynomial 0xA001, init 0xFFFF, sent low byte first.
pub const CRC: Crc<u16> = Crc::<u16>::new(&CRC_16_MODBUS);

/// The CRC-16/MODBUS of `bytes`.
pub fn crc16(bytes: &[u8]) -> u16 {
    CRC.checksum(bytes)
}

/// Byte offsets of the RTU ADU; parse and emit both read them from here.
pub mod field {
    /// The unit (slave) address.
    pub const UNIT: usize = 0;
    /// The first byte of the PDU (its function code).
    pub const PDU: usize = 1;
    /// Bytes of the CRC at the end.
    pub const CRC_LEN: usize = 2;
    /// Bytes around the PDU: unit and CRC.
    pub const OVERHEAD: usize = 3;
    /// The shortest ADU: unit, function code, CRC.
    pub const MIN_LEN: usize = 4;
    /// The longest ADU the serial line specification allows.
    pub const MAX_LEN: usize = 256;
}

/// Byte offsets of the TCP ADU (the MBAP header, then the PDU).
pub mod tcp_field {
    use core::ops::Range;

    /// Transaction identifier (big-endian).
    pub const TRANSACTION_ID: Range<usize> = 0..2;
    /// Protocol identifier, 0 for Modbus (big-endian).
    pub const PROTOCOL_ID: Range<usize> = 2..4;
    /// Length of what follows: unit id and PDU (big-endian).
    pub const LENGTH: Range<usize> = 4..6;
    /// Unit identifier.
    pub const UNIT: usize = 6;
    /// The first byte of the PDU (its function code).
    pub const PDU: usize = 7;
    /// Bytes before the part the length field counts.
    pub const LENGTH_BASE: usize = 6;
    /// The MBAP header.
    pub const MBAP_LEN: usize = 7;
    /// The shortest ADU: MBAP and a function code.
    pub const MIN_LEN: usize = 8;
    /// The longest ADU of the TCP specification.
    pub const MAX_LEN: usize = 260;
}

fn be16(buf: &[u8], at: core::ops::Range<usize>) -> u16 {
    match buf.get(at) {
        Some(&[hi, lo]) => u16::from_be_bytes([hi, lo]),
        _ => 0,
    }
}

fn empty() -> Error {
    Error::new(
        ErrorKind::Empty,
        Layer::Input,
        0,
        Detail::Text("no input bytes"),
    )
}

/// Whether the first `len` bytes of `buf` end with their CRC-16/MODBUS (low byte first).
pub fn crc_verifies(buf: &[u8], len: usize) -> bool {
    let Some(body_len) = len.checked_sub(field::CRC_LEN) else {
        return false;
    };
    match (buf.get(..body_len), buf.get(body_len..len)) {
        (Some(body), Some(&[lo, hi])) if body_len >= 2 => {
            crc16(body) == u16::from_le_bytes([lo, hi])
        }
        _ => false,
    }
}

/// The length of the RTU frame that starts `buf` and whose CRC verifies, for a length the
/// function code rules allow (request first, then response), if there is one.
pub fn rtu_verified_len(buf: &[u8]) -> Option<usize> {
    app::adu_lengths(buf.get(field::PDU..)?)
        .into_iter()
        .flatten()
        .filter_map(|pdu_len| pdu_len.checked_add(field::OVERHEAD))
        .find(|&len| len <= buf.len() && crc_verifies(buf, len))
}

/// A checked view of one Modbus RTU ADU: `unit PDU CRC_lo CRC_hi`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RtuAdu<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> RtuAdu<T> {
    /// Wraps `buffer` without checking it; accessors return 0 / empty for missing bytes.
    pub const fn new_unchecked(buffer: T) -> Self {
        RtuAdu { buffer }
    }

    /// Wraps `buffer` after [`check`](Self::check).
    pub fn new_checked(buffer: T) -> Result<Self> {
        let adu = Self::new_unchecked(buffer);
        adu.check()?;
        Ok(adu)
    }

    /// Verifies that the whole buffer is one ADU whose CRC verifies.
    ///
    /// Offsets (design §3): empty → 0; fewer than 4 bytes, or a CRC that fails where every
    /// length the function code allows is longer than the input → `truncated` at the input
    /// length; a CRC that verifies over a shorter allowed length → `length` at the first byte
    /// after it; any other CRC failure → `crc` at the CRC's first byte.
    pub fn check(&self) -> Result<()> {
        let buf = self.buffer.as_ref();
        if buf.is_empty() {
            return Err(empty());
        }
        if buf.len() < field::MIN_LEN {
            return Err(Error::truncated(Layer::Link, field::MIN_LEN, buf.len()));
        }
        let lens = app::adu_lengths(buf.get(field::PDU..).unwrap_or(&[]));
        let lens = lens
            .into_iter()
            .flatten()
            .filter_map(|pdu| pdu.checked_add(field::OVERHEAD));
        let whole = crc_verifies(buf, buf.len());
        let mut allowed = lens.clone().peekable();
        if whole && (allowed.peek().is_none() || allowed.any(|len| len == buf.len())) {
            return Ok(());
        }
        // A frame followed by other bytes. (A CRC also "verifies" over a whole frame plus
        // one 00 byte: the register holds the CRC's high byte after its low byte.)
        if let Some(len) = lens
            .clone()
            .find(|&len| len < buf.len() && crc_verifies(buf, len))
        {
            return Err(Error::link(
                ErrorKind::Length,
                len,
                Detail::Trailing {
                    frame_len: len,
                    extra: buf.len().saturating_sub(len),
                },
            ));
        }
        if whole {
            return Ok(());
        }
        let mut lens = lens.peekable();
        if let Some(&first) = lens.peek() {
            let shortest = lens.fold(first, usize::min);
            if shortest > buf.len() {
                return Err(Error::truncated(Layer::Link, shortest, buf.len()));
            }
        }
        let crc_at = buf.len().saturating_sub(field::CRC_LEN);
        Err(Error::link(
            ErrorKind::Crc,
            crc_at,
            Detail::Crc {
                found: self.crc(),
                computed: crc16(buf.get(..crc_at).unwrap_or(&[])),
            },
        ))
    }

    /// Consumes the view, returning the buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The unit (slave) address.
    pub fn unit_id(&self) -> u8 {
        self.buffer.as_ref().get(field::UNIT).copied().unwrap_or(0)
    }

    /// The PDU: function code and data.
    pub fn pdu(&self) -> &[u8] {
        let buf = self.buffer.as_ref();
        let end = buf.len().saturating_sub(field::CRC_LEN);
        buf.get(field::PDU..end).unwrap_or(&[])
    }

    /// The CRC as carried (its low byte first on the wire).
    pub fn crc(&self) -> u16 {
        let buf = self.buffer.as_ref();
        let at = buf.len().saturating_sub(field::CRC_LEN);
        match buf.get(at..) {
            Some(&[lo, hi]) => u16::from_le_bytes([lo, hi]),
            _ => 0,
        }
    }
}

/// The RTU header fields; [`RtuRepr::emit`] writes unit, PDU and CRC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RtuRepr {
    /// The unit (slave) address.
    pub unit_id: u8,
}

impl RtuRepr {
    /// The ADU length around a PDU of `pdu_len` bytes.
    pub const fn buffer_len(&self, pdu_len: usize) -> usize {
        pdu_len.saturating_add(field::OVERHEAD)
    }

    /// Writes the ADU into `adu`, whose buffer is exactly [`buffer_len`](Self::buffer_len)
    /// bytes long.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, adu: &mut RtuAdu<T>, pdu: &[u8]) {
        let buf = adu.buffer.as_mut();
        if let Some(b) = buf.get_mut(field::UNIT) {
            *b = self.unit_id;
        }
        let end = field::PDU.saturating_add(pdu.len());
        if let Some(dst) = buf.get_mut(field::PDU..end) {
            dst.copy_from_slice(pdu);
        }
        let crc = crc16(buf.get(..end).unwrap_or(&[]));
        if let Some(dst) = buf.get_mut(end..end.saturating_add(field::CRC_LEN)) {
            dst.copy_from_slice(&crc.to_le_bytes());
        }
    }
}

/// A checked view of one Modbus TCP ADU: `MBAP(7) PDU`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpAdu<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> TcpAdu<T> {
    /// Wraps `buffer` without checking it; accessors return 0 / empty for missing bytes.
    pub const fn new_unchecked(buffer: T) -> Self {
        TcpAdu { buffer }
    }

    /// Wraps `buffer` after [`check`](Self::check).
    pub fn new_checked(buffer: T) -> Result<Self> {
        let adu = Self::new_unchecked(buffer);
        adu.check()?;
        Ok(adu)
    }

    /// Verifies that the whole buffer is one ADU whose length field counts the bytes after it.
    ///
    /// Offsets (design §3): empty → 0; shorter than MBAP + function code → `truncated` at the
    /// input length; a length field that counts more bytes than follow → `truncated` at the
    /// input length, unless the bytes that follow form a whole PDU by the function code
    /// rules (then the field is wrong: `length` at offset 4); a length field that counts
    /// fewer bytes than follow → `length` at offset 4. The protocol identifier is not
    /// checked here (a non-zero one is a warning of the decoder).
    pub fn check(&self) -> Result<()> {
        let buf = self.buffer.as_ref();
        if buf.is_empty() {
            return Err(empty());
        }
        let declared = usize::from(self.length());
        let needed = tcp_field::LENGTH_BASE.saturating_add(declared);
        if buf.len() < tcp_field::MIN_LEN {
            return Err(Error::truncated(
                Layer::Link,
                needed.max(tcp_field::MIN_LEN),
                buf.len(),
            ));
        }
        let actual = buf.len().saturating_sub(tcp_field::LENGTH_BASE);
        if declared == actual {
            return Ok(());
        }
        let wrong_field = Error::link(
            ErrorKind::Length,
            tcp_field::LENGTH.start,
            Detail::LengthField { declared, actual },
        );
        if declared < actual {
            return Err(wrong_field);
        }
        let pdu_len = self.pdu().len();
        let pdu_whole = app::adu_lengths(self.pdu())
            .into_iter()
            .flatten()
            .any(|len| len == pdu_len);
        Err(if pdu_whole {
            wrong_field
        } else {
            Error::truncated(Layer::Link, needed, buf.len())
        })
    }

    /// Consumes the view, returning the buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The transaction identifier.
    pub fn transaction_id(&self) -> u16 {
        be16(self.buffer.as_ref(), tcp_field::TRANSACTION_ID)
    }

    /// The protocol identifier (0 = Modbus).
    pub fn protocol_id(&self) -> u16 {
        be16(self.buffer.as_ref(), tcp_field::PROTOCOL_ID)
    }

    /// The length field (unit id + PDU).
    pub fn length(&self) -> u16 {
        be16(self.buffer.as_ref(), tcp_field::LENGTH)
    }

    /// The unit identifier.
    pub fn unit_id(&self) -> u8 {
        self.buffer
            .as_ref()
            .get(tcp_field::UNIT)
            .copied()
            .unwrap_or(0)
    }

    /// The PDU: function code and data.
    pub fn pdu(&self) -> &[u8] {
        self.buffer.as_ref().get(tcp_field::PDU..).unwrap_or(&[])
    }
}

/// The MBAP fields; [`TcpRepr::emit`] writes them (with the real length) and the PDU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpRepr {
    /// Transaction identifier.
    pub transaction_id: u16,
    /// Protocol identifier.
    pub protocol_id: u16,
    /// Unit identifier.
    pub unit_id: u8,
}

impl TcpRepr {
    /// The ADU length around a PDU of `pdu_len` bytes.
    pub const fn buffer_len(&self, pdu_len: usize) -> usize {
        pdu_len.saturating_add(tcp_field::MBAP_LEN)
    }

    /// Writes the ADU into `adu`, whose buffer is exactly [`buffer_len`](Self::buffer_len)
    /// bytes long; the length field is 1 + the PDU's length (at most 0xFFFF).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, adu: &mut TcpAdu<T>, pdu: &[u8]) {
        let buf = adu.buffer.as_mut();
        let length = u16::try_from(pdu.len().saturating_add(1)).unwrap_or(u16::MAX);
        for (range, value) in [
            (tcp_field::TRANSACTION_ID, self.transaction_id),
            (tcp_field::PROTOCOL_ID, self.protocol_id),
            (tcp_field::LENGTH, length),
        ] {
            if let Some(dst) = buf.get_mut(range) {
                dst.copy_from_slice(&value.to_be_bytes());
            }
        }
        if let Some(b) = buf.get_mut(tcp_field::UNIT) {
            *b = self.unit_id;
        }
        let end = tcp_field::PDU.saturating_add(pdu.len());
        if let Some(dst) = buf.get_mut(tcp_field::PDU..end) {
            dst.copy_from_slice(pdu);
        }
    }
}

/// The length of the TCP ADU that starts `buf` (protocol identifier 0, a whole PDU by the
/// function code rules), for `decode_stream` when the caller names `modbus_tcp`.
pub fn tcp_frame_len(buf: &[u8]) -> Option<usize> {
    let adu = TcpAdu::new_unchecked(buf);
    if buf.len() < tcp_field::MIN_LEN || adu.protocol_id() != 0 {
        return None;
    }
    let len = tcp_field::LENGTH_BASE.checked_add(usize::from(adu.length()))?;
    let pdu_len = len.checked_sub(tcp_field::PDU)?;
    let frame = buf.get(..len)?;
    let fits = app::adu_lengths(frame.get(tcp_field::PDU..)?)
        .into_iter()
        .flatten()
        .any(|l| l == pdu_len);
    fits.then_some(len)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hex::parse_hex;

    #[test]
    fn crc_check_value_and_worked_examples() {
        assert_eq!(crc16(b"123456789"), 0x4B37);
        // Digest M1: CRC 0x0BC4 sent C4 0B; running the CRC over data + CRC gives 0.
        let m1 = parse_hex("01 03 00 00 00 02 C4 0B").unwrap();
        assert_eq!(crc16(&m1[..6]), 0x0BC4);
        assert_eq!(crc16(&m1), 0);
        let adu = RtuAdu::new_checked(&m1[..]).unwrap();
        assert_eq!(
            (adu.unit_id(), adu.pdu(), adu.crc()),
            (1, &m1[1..6], 0x0BC4)
        );
    }

    #[test]
    fn rtu_errors_name_their_offsets() {
        let cases = [
            ("", ErrorKind::Empty, 0),
            ("01 03 C4", ErrorKind::Truncated, 3),
            // M1 with a bad CRC.
            ("01 03 00 00 00 02 C4 0C", ErrorKind::Crc, 6),
            // M4 cut after 6 bytes: request 8 and response 13 are both longer.
            ("11 03 08 00 12 D6", ErrorKind::Truncated, 6),
            // M1 and one more byte.
            ("01 03 00 00 00 02 C4 0B 00", ErrorKind::Length, 8),
            ("01 03 00 00 00 02 C4 0B 55 AA", ErrorKind::Length, 8),
        ];
        for (hex, kind, offset) in cases {
            let bytes = parse_hex(hex).unwrap_or_default();
            let e = RtuAdu::new_checked(&bytes[..]).unwrap_err();
            assert_eq!((e.kind(), e.offset()), (kind, offset), "{hex}");
        }
        let e =
            RtuAdu::new_checked(&parse_hex("01 03 00 00 00 02 C4 0C").unwrap()[..]).unwrap_err();
        assert_eq!(e.to_string(), "CRC 0x0CC4, computed 0x0BC4");
    }

    #[test]
    fn tcp_errors_name_their_offsets() {
        let cases = [
            ("00 01 00 00 00 06 01", ErrorKind::Truncated, 7),
            // T1 with length 7: the PDU is whole, the field is wrong.
            ("00 01 00 00 00 07 01 03 00 00 00 02", ErrorKind::Length, 4),
            // T1 with length 5: fewer bytes than follow.
            ("00 01 00 00 00 05 01 03 00 00 00 02", ErrorKind::Length, 4),
            // T2 cut short.
            ("00 01 00 00 00 07 01 03 04 00 12", ErrorKind::Truncated, 11),
        ];
        for (hex, kind, offset) in cases {
            let bytes = parse_hex(hex).unwrap();
            let e = TcpAdu::new_checked(&bytes[..]).unwrap_err();
            assert_eq!((e.kind(), e.offset()), (kind, offset), "{hex}");
        }
        let t1 = parse_hex("00 01 00 00 00 06 01 03 00 00 00 02").unwrap();
        let adu = TcpAdu::new_checked(&t1[..]).unwrap();
        assert_eq!(
            (
                adu.transaction_id(),
                adu.protocol_id(),
                adu.length(),
                adu.unit_id()
            ),
            (1, 0, 6, 1)
        );
        assert_eq!(tcp_frame_len(&t1), Some(12));
    }

    #[test]
    fn emit_writes_the_same_layout() {
        let pdu = [0x03, 0x00, 0x00, 0x00, 0x02];
        let repr = RtuRepr { unit_id: 1 };
        let mut out = [0u8; 8];
        repr.emit(&mut RtuAdu::new_unchecked(&mut out[..]), &pdu);
        assert_eq!(out, [0x01, 0x03, 0x00, 0x00, 0x00, 0x02, 0xC4, 0x0B]);
        let repr = TcpRepr {
            transaction_id: 1,
            protocol_id: 0,
            unit_id: 1,
        };
        let mut out = [0u8; 12];
        repr.emit(&mut TcpAdu::new_unchecked(&mut out[..]), &pdu);
        assert_eq!(out, [0, 1, 0, 0, 0, 6, 1, 3, 0, 0, 0, 2]);
    }
}
