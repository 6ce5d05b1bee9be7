//! EN 13757-4 data link layer: frame formats A and B with their CRC-16/EN-13757 blocks, or the
//! CRC-free form of logs (`wmbus.md` §1–§2).
//!
//! [`Deframed::parse`] finds which form was given, verifies and strips every block CRC and
//! keeps the mapping from the CRC-free bytes back to input offsets (for errors and spans).

use alloc::borrow::Cow;
use alloc::vec::Vec;

use crc::{Crc, Table, CRC_16_EN_13757};

use crate::error::{Detail, Error, ErrorKind, Layer, Result};
use crate::framing::{Scan, StreamContext};
use crate::model::FrameFormat;

/// CRC-16/EN-13757: polynomial 0x3D65, init 0, final XOR 0xFFFF. Slice-by-16 tables (8 KiB):
/// the stream search computes it at many candidate positions.
pub static CRC: Crc<u16, Table<16>> = Crc::<u16, Table<16>>::new(&CRC_16_EN_13757);

/// The CRC-16/EN-13757 of `bytes`.
pub fn crc16(bytes: &[u8]) -> u16 {
    CRC.checksum(bytes)
}

/// Field offsets of the CRC-free telegram (the first block of both formats).
pub mod field {
    use core::ops::Range;
    /// L field.
    pub const L: usize = 0;
    /// C field.
    pub const C: usize = 1;
    /// Manufacturer (2 bytes LE).
    pub const M: Range<usize> = 2..4;
    /// Identification number (4 bytes BCD, LSB first).
    pub const ID: Range<usize> = 4..8;
    /// Version.
    pub const VERSION: usize = 8;
    /// Device type / medium.
    pub const DEVICE: usize = 9;
    /// `M ‖ A`: the 8 address bytes (IV and ELL counter input).
    pub const ADDRESS: Range<usize> = 2..10;
    /// The CI field, first byte after the data link layer.
    pub const CI: usize = 10;
    /// Length of the first block without its CRC.
    pub const BLOCK1: usize = 10;
    /// Format A: bytes per following block.
    pub const A_BLOCK: usize = 16;
    /// Format B: bytes covered by the first CRC (blocks 1 and 2).
    pub const B_BLOCK2_END: usize = 126;
}

/// The number of CRC-covered blocks of a format-A telegram whose L field is `l`.
pub fn format_a_blocks(l: usize) -> usize {
    let rest = l.saturating_add(1).saturating_sub(field::BLOCK1);
    1usize.saturating_add(rest.div_ceil(field::A_BLOCK))
}

/// The wire length of a format-A telegram with L field `l`.
pub fn format_a_len(l: usize) -> usize {
    l.saturating_add(1)
        .saturating_add(format_a_blocks(l).saturating_mul(2))
}

/// A telegram with its block CRCs verified and removed.
#[derive(Clone, Debug)]
pub struct Deframed<'a> {
    /// Which form the input had.
    pub format: FrameFormat,
    /// The CRC-free telegram (`L C M A CI …`), borrowed when the input had no CRCs.
    pub data: Cow<'a, [u8]>,
}

fn crc_error(offset: usize, found: u16, computed: u16) -> Error {
    Error::new(
        ErrorKind::Crc,
        Layer::Link,
        offset,
        Detail::Crc { found, computed },
    )
}

fn check_crc(bytes: &[u8], covered: core::ops::Range<usize>) -> Result<()> {
    let end = covered.end;
    let computed = crc16(bytes.get(covered).unwrap_or(&[]));
    let found = bytes.get(end..end.saturating_add(2)).map_or(0, |b| {
        u16::from_be_bytes([
            b.first().copied().unwrap_or(0),
            b.get(1).copied().unwrap_or(0),
        ])
    });
    if found == computed {
        Ok(())
    } else {
        Err(crc_error(end, found, computed))
    }
}

/// Whether the first block (`L C M A`) of a format-A telegram carries a valid CRC.
pub fn first_block_crc_ok(bytes: &[u8]) -> bool {
    bytes.len() >= field::BLOCK1.saturating_add(2) && check_crc(bytes, 0..field::BLOCK1).is_ok()
}

/// Format B's CRC positions for L field `l`: (end of block 2, end of block 3 if any), as
/// offsets of the CRC bytes in the wire telegram.
fn format_b_crcs(l: usize) -> (usize, Option<usize>) {
    let total = l.saturating_add(1);
    if total <= field::B_BLOCK2_END.saturating_add(2) {
        (total.saturating_sub(2), None)
    } else {
        (field::B_BLOCK2_END, Some(total.saturating_sub(2)))
    }
}

fn format_b_ok(bytes: &[u8], l: usize) -> Result<()> {
    let (crc2, crc3) = format_b_crcs(l);
    check_crc(bytes, 0..crc2)?;
    if let Some(crc3) = crc3 {
        check_crc(bytes, crc2.saturating_add(2)..crc3)?;
    }
    Ok(())
}

impl<'a> Deframed<'a> {
    /// Finds the form of `bytes` (format A, format B, or CRCs removed), verifies the CRCs and
    /// returns the CRC-free telegram.
    ///
    /// The input length decides: `L + 1 + 2·blocks` is format A (every CRC must verify);
    /// `L + 1` is format B when its CRC verifies, else a telegram whose CRCs were removed.
    pub fn parse(bytes: &'a [u8]) -> Result<Deframed<'a>> {
        let Some(&l) = bytes.first() else {
            return Err(Error::truncated(Layer::Link, 1, 0));
        };
        let l = usize::from(l);
        let plain_len = l.saturating_add(1);
        if l < field::BLOCK1 {
            return Err(Error::new(
                ErrorKind::Length,
                Layer::Link,
                0,
                Detail::Short {
                    what: "wM-Bus telegram (L field)",
                    needed: field::BLOCK1.saturating_add(1),
                    available: plain_len,
                },
            ));
        }
        let a_len = format_a_len(l);
        if bytes.len() == a_len {
            return Self::strip_a(bytes, l).map(|data| Deframed {
                format: FrameFormat::A,
                data: Cow::Owned(data),
            });
        }
        if bytes.len() == plain_len {
            if l >= 12 && format_b_ok(bytes, l).is_ok() {
                return Ok(Deframed {
                    format: FrameFormat::B,
                    data: Cow::Owned(Self::strip_b(bytes, l)),
                });
            }
            return Ok(Deframed {
                format: FrameFormat::None,
                data: Cow::Borrowed(bytes),
            });
        }
        if bytes.len() < plain_len {
            // The shortest form the L field allows is missing bytes.
            return Err(Error::truncated(Layer::Link, plain_len, bytes.len()));
        }
        if bytes.len() < a_len && first_block_crc_ok(bytes) {
            // A format-A telegram cut short.
            return Err(Error::truncated(Layer::Link, a_len, bytes.len()));
        }
        Err(Error::new(
            ErrorKind::Length,
            Layer::Link,
            0,
            Detail::Trailing {
                frame_len: if bytes.len() > a_len {
                    a_len
                } else {
                    plain_len
                },
                extra: bytes.len().saturating_sub(if bytes.len() > a_len {
                    a_len
                } else {
                    plain_len
                }),
            },
        ))
    }

    fn strip_a(bytes: &[u8], l: usize) -> Result<Vec<u8>> {
        let mut out = Vec::with_capacity(l.saturating_add(1));
        let mut start = 0usize;
        let mut block = field::BLOCK1;
        let plain_len = l.saturating_add(1);
        while out.len() < plain_len {
            let take = block.min(plain_len.saturating_sub(out.len()));
            let end = start.saturating_add(take);
            check_crc(bytes, start..end)?;
            out.extend_from_slice(bytes.get(start..end).unwrap_or(&[]));
            start = end.saturating_add(2);
            block = field::A_BLOCK;
        }
        Ok(out)
    }

    fn strip_b(bytes: &[u8], l: usize) -> Vec<u8> {
        let (crc2, crc3) = format_b_crcs(l);
        let mut out = Vec::with_capacity(l);
        out.extend_from_slice(bytes.get(..crc2).unwrap_or(&[]));
        if let Some(crc3) = crc3 {
            out.extend_from_slice(bytes.get(crc2.saturating_add(2)..crc3).unwrap_or(&[]));
        }
        out
    }
}

/// The input offset of byte `i` of the CRC-free telegram.
pub fn input_offset(format: FrameFormat, i: usize) -> usize {
    match format {
        FrameFormat::None => i,
        FrameFormat::A => {
            if i < field::BLOCK1 {
                i
            } else {
                let k = (i.saturating_sub(field::BLOCK1)) / field::A_BLOCK;
                i.saturating_add(2).saturating_add(k.saturating_mul(2))
            }
        }
        FrameFormat::B => {
            if i < field::B_BLOCK2_END {
                i
            } else {
                i.saturating_add(2)
            }
        }
    }
}

/// Wraps CRC-free telegram bytes (`L C M A CI …`) into `format` with CRCs. `data[0]` is
/// rewritten to the L field of that format.
pub fn emit(format: FrameFormat, data: &[u8]) -> Result<Vec<u8>> {
    let len = data.len();
    let l_value = match format {
        FrameFormat::None | FrameFormat::A => len.saturating_sub(1),
        FrameFormat::B => {
            let crcs = if len > field::B_BLOCK2_END { 4 } else { 2 };
            len.saturating_sub(1).saturating_add(crcs)
        }
    };
    let l = u8::try_from(l_value).map_err(|_| {
        Error::new(
            ErrorKind::Length,
            Layer::Link,
            0,
            Detail::TooMany {
                what: "bytes after the L field",
                max: 255,
            },
        )
    })?;
    if len < field::BLOCK1 {
        return Err(Error::truncated(Layer::Link, field::BLOCK1, len));
    }
    let mut body = data.to_vec();
    if let Some(first) = body.first_mut() {
        *first = l;
    }
    let mut out = Vec::with_capacity(len.saturating_add(40));
    match format {
        FrameFormat::None => out = body,
        FrameFormat::A => {
            let (first, rest) = body.split_at(field::BLOCK1.min(body.len()));
            out.extend_from_slice(first);
            out.extend_from_slice(&crc16(first).to_be_bytes());
            for chunk in rest.chunks(field::A_BLOCK) {
                out.extend_from_slice(chunk);
                out.extend_from_slice(&crc16(chunk).to_be_bytes());
            }
        }
        FrameFormat::B => {
            let (first, rest) = body.split_at(field::B_BLOCK2_END.min(body.len()));
            out.extend_from_slice(first);
            out.extend_from_slice(&crc16(first).to_be_bytes());
            if !rest.is_empty() {
                out.extend_from_slice(rest);
                out.extend_from_slice(&crc16(rest).to_be_bytes());
            }
        }
    }
    Ok(out)
}

/// Whether a plausible manufacturer field: three letters `A`–`Z` (bit 15 may flag a code that
/// is not FLAG-registered).
fn plausible_manufacturer(m: u16) -> bool {
    [10u32, 5, 0]
        .iter()
        .all(|s| (1..=26).contains(&(m.wrapping_shr(*s) & 0x1F)))
}

/// Auto-detection (design §3): whether `bytes` commits to a wM-Bus telegram. The input length
/// must be exactly what L gives for one of the forms, and then a format-A first-block CRC, a
/// format-B CRC, or a usual meter C field with a plausible manufacturer must agree.
pub fn commits(bytes: &[u8]) -> bool {
    let Some(&l) = bytes.first() else {
        return false;
    };
    let l = usize::from(l);
    if l < field::BLOCK1 || bytes.len() < field::BLOCK1.saturating_add(1) {
        return false;
    }
    if bytes.len() == format_a_len(l) {
        return first_block_crc_ok(bytes);
    }
    if bytes.len() != l.saturating_add(1) {
        return false;
    }
    if l >= 12 && format_b_ok(bytes, l).is_ok() {
        return true;
    }
    let c = bytes.get(field::C).copied().unwrap_or(0);
    let m = u16::from_le_bytes([
        bytes.get(2).copied().unwrap_or(0),
        bytes.get(3).copied().unwrap_or(0),
    ]);
    matches!(
        c,
        0x44 | 0x46 | 0x08 | 0x18 | 0x28 | 0x38 | 0x47 | 0x48 | 0x06
    ) && plausible_manufacturer(m)
}

/// The C fields of the telegrams a stream is searched for without naming wM-Bus (`wmbus.md`
/// §2): what meters send — SND_NR, SND_IR, RSP_UD (with its FCB/ACD bits), ACC_NR and
/// ACC_DMD. A master's commands (SND_UD, REQ_UD1/2, SND_NKE) and the link-only ACK and CNF_IR
/// are found when the caller names wM-Bus: every C field a candidate opens with costs the
/// search over noise a check at that many more positions.
pub const STREAM_C_FIELDS: &[u8] = &[0x44, 0x46, 0x08, 0x18, 0x28, 0x38, 0x47, 0x48];

/// The positions where [`scan`] (searched among other families) can find something: an L
/// field of at least 10 before one of [`STREAM_C_FIELDS`], a manufacturer field whose first
/// and last letters are letters (`plausible_manufacturer` checks all three), and a CI the
/// search knows where format B (byte 10) or format A (byte 12) puts it.
#[inline]
pub fn block_filter(w: &crate::framing::Block) -> wide::u8x16 {
    use crate::framing::in_range;
    use wide::u8x16;
    let [b0, b1, b2, b3, _, _, _, _, _, _, ci_b, _, ci_a, ..] = *w;
    let c_field = STREAM_C_FIELDS
        .iter()
        .fold(u8x16::ZERO, |acc, c| acc | b1.cmp_eq(u8x16::splat(*c)));
    // M = b2 | b3 << 8: letter 3 is b2's bits 4..0, letter 1 is b3's bits 6..2.
    let last = in_range(b2 & u8x16::splat(0x1F), 1, 26);
    let first = in_range(b3 & u8x16::splat(0x7C), 0x04, 26 << 2);
    c_field
        & in_range(b0, 10, u8::MAX)
        & last
        & first
        & (ci_known_lanes(ci_b) | ci_known_lanes(ci_a))
}

/// `super::ci_known` for 16 bytes at once: lanes of the CIs the stream search knows.
#[inline]
fn ci_known_lanes(ci: wide::u8x16) -> wide::u8x16 {
    use crate::framing::in_range;
    in_range(ci, 0x70, 0x75)
        | in_range(ci, 0x78, 0x7B)
        | in_range(ci, 0x8C, 0x90)
        | in_range(ci, 0xA0, 0xB7)
}

/// Where format A puts the CI field: after the first block's CRC.
const FORMAT_A_CI: usize = field::CI + 2;

/// What starts `rest` in a stream. Searched among other families, a telegram must prove
/// itself: a plausible manufacturer and a CI field the decoder knows, then every block CRC of
/// format A, or the CRCs of format B. When the caller names wM-Bus the search is permissive,
/// as for one frame: format A when its CRCs verify, else `L + 1` bytes (format B or a capture
/// with the CRCs removed).
pub fn scan(rest: &[u8], ctx: &StreamContext) -> Scan {
    let Some(&l) = rest.first() else {
        return Scan::Incomplete(1);
    };
    let l = usize::from(l);
    if l < field::BLOCK1 {
        return Scan::None;
    }
    let plain = l.saturating_add(1);
    if ctx.named() {
        return scan_named(rest, l, ctx.at_end());
    }
    let (m, ci_b, ci_a) = match rest.get(..=FORMAT_A_CI) {
        Some(&[_, _, lo, hi, _, _, _, _, _, _, ci_b, _, ci_a]) => {
            (u16::from_le_bytes([lo, hi]), ci_b, ci_a)
        }
        _ => {
            // Not all 13 header bytes yet: rule out what the ones there already rule out.
            let m = match rest.get(field::M) {
                Some(&[lo, hi]) => u16::from_le_bytes([lo, hi]),
                _ => return Scan::Incomplete(field::M.end),
            };
            if !plausible_manufacturer(m) {
                return Scan::None;
            }
            return Scan::Incomplete(FORMAT_A_CI.saturating_add(1));
        }
    };
    // A plausible manufacturer and a CI the decoder reads where format A or B puts it.
    let (a_ci, b_ci) = (super::ci_known(ci_a), super::ci_known(ci_b));
    if !(a_ci || b_ci) || !plausible_manufacturer(m) {
        return Scan::None;
    }
    let ci_at = |at: usize| Some(if at == FORMAT_A_CI { a_ci } else { b_ci });
    // Format A: a known CI after the first block, the first block's CRC, then every block.
    match ci_at(FORMAT_A_CI) {
        None => return Scan::Incomplete(FORMAT_A_CI.saturating_add(1)),
        Some(true) if first_block_crc_ok(rest) => {
            let a_len = format_a_len(l);
            return match rest.get(..a_len) {
                Some(frame) if Deframed::parse(frame).is_ok() => Scan::Frame(a_len),
                Some(_) => Scan::Invalid {
                    len: a_len,
                    kind: ErrorKind::Crc,
                },
                None => Scan::Incomplete(a_len),
            };
        }
        Some(_) => {}
    }
    // Format B: a known CI right after the link header, then its CRCs.
    if ci_at(field::CI) != Some(true) || l < 12 {
        return Scan::None;
    }
    match rest.get(..plain) {
        None => Scan::Incomplete(plain),
        Some(frame) if format_b_ok(frame, l).is_ok() => Scan::Frame(plain),
        Some(_) => Scan::None,
    }
}

/// [`scan`] when the caller named wM-Bus: format A when its CRCs verify, else `L + 1` bytes.
fn scan_named(rest: &[u8], l: usize, at_end: bool) -> Scan {
    let plain = l.saturating_add(1);
    let crc_end = field::BLOCK1.saturating_add(2);
    if rest.len() < crc_end && !(at_end && rest.len() >= plain) {
        return Scan::Incomplete(crc_end);
    }
    if first_block_crc_ok(rest) {
        let a_len = format_a_len(l);
        match rest.get(..a_len) {
            Some(frame) if Deframed::parse(frame).is_ok() => return Scan::Frame(a_len),
            Some(_) => {}
            None => return Scan::Incomplete(a_len),
        }
    }
    if rest.len() >= plain {
        Scan::Frame(plain)
    } else {
        Scan::Incomplete(plain)
    }
}

/// The name of a wM-Bus C field's function (`wmbus.md` §2).
pub fn function_name(c: u8) -> Option<&'static str> {
    Some(match c {
        0x44 => "SND_NR",
        0x46 => "SND_IR",
        0x08 | 0x18 | 0x28 | 0x38 => "RSP_UD",
        0x53 | 0x73 => "SND_UD",
        0x5A | 0x7A => "REQ_UD1",
        0x5B | 0x7B => "REQ_UD2",
        0x40 => "SND_NKE",
        0x47 => "ACC_NR",
        0x48 => "ACC_DMD",
        0x00 => "ACK",
        0x06 => "CNF_IR",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hex::parse_hex;

    /// The vector CI test and the scalar one agree on every byte value.
    #[test]
    fn ci_lanes_match_ci_known() {
        for chunk in 0..16u8 {
            let lanes: [u8; 16] = core::array::from_fn(|i| chunk * 16 + i as u8);
            let got = ci_known_lanes(wide::u8x16::new(lanes)).to_array();
            for (ci, lane) in lanes.iter().zip(got) {
                assert_eq!(lane == 0xFF, super::super::ci_known(*ci), "CI {ci:#04X}");
            }
        }
    }

    #[test]
    fn crc_check_value() {
        assert_eq!(crc16(b"123456789"), 0xC2B7);
    }

    #[test]
    fn formats_a_b_none() {
        let a = parse_hex(
            "1D443A63785634120107EA44 7A2A0000000C13674523 01026C2F330B4D33 3B200100 8560",
        )
        .unwrap();
        let d = Deframed::parse(&a).unwrap();
        assert_eq!(d.format, FrameFormat::A);
        assert_eq!(d.data.len(), 0x1E);
        assert_eq!(emit(FrameFormat::A, &d.data).unwrap(), a);
        let b = parse_hex("1F443A63785634120107 7A2A0000000C13674523 01026C2F330B3B200100 2C44")
            .unwrap();
        let d = Deframed::parse(&b).unwrap();
        assert_eq!(d.format, FrameFormat::B);
        assert_eq!(emit(FrameFormat::B, &d.data).unwrap(), b);
        let mut bad = a.clone();
        bad[11] ^= 1;
        let e = Deframed::parse(&bad).unwrap_err();
        assert_eq!((e.kind(), e.offset()), (ErrorKind::Crc, 10));
        assert_eq!(input_offset(FrameFormat::A, 10), 12);
        assert_eq!(input_offset(FrameFormat::A, 26), 30);
    }
}
