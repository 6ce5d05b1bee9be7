//! Pieces shared by the link layers: the byte-sum checksum and the check of a frame's
//! checksum and stop byte (wired M-Bus and CJ/T 188 end their frames the same way).

use core::ops::Range;

use crate::error::{Detail, Error, ErrorKind, Layer, Result};
use crate::model::Protocol;

/// The byte sum mod 256 (EN 13757-2 and CJ/T 188 checksums).
pub fn checksum(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0u8, |acc, b| acc.wrapping_add(*b))
}

/// Verifies the checksum at `cs_at` over `covered`, then the stop byte right after it.
/// Offsets (design §3): a checksum error at the checksum byte, a stop error at the stop byte.
pub fn check_sum_and_stop(buf: &[u8], covered: Range<usize>, cs_at: usize, stop: u8) -> Result<()> {
    let computed = checksum(buf.get(covered).unwrap_or(&[]));
    let found = buf.get(cs_at).copied().unwrap_or(0);
    if found != computed {
        return Err(Error::new(
            ErrorKind::Checksum,
            Layer::Link,
            cs_at,
            Detail::Checksum { found, computed },
        ));
    }
    let stop_at = cs_at.saturating_add(1);
    let found = buf.get(stop_at).copied().unwrap_or(0);
    if found != stop {
        return Err(Error::new(
            ErrorKind::Stop,
            Layer::Link,
            stop_at,
            Detail::Byte {
                expected: stop,
                found,
            },
        ));
    }
    Ok(())
}

/// Whether a byte stream holds a whole frame at its start: what the link layers'
/// `frame_status` functions return, so a serial reader can wait for more bytes or cut a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// A frame of this many bytes (wake-up bytes included) starts the buffer; its checksum is
    /// not yet verified.
    Complete(usize),
    /// The buffer is a frame's beginning; at least `needed` bytes in all are required.
    Incomplete {
        /// Bytes the frame needs in total (a lower bound while the length is unknown).
        needed: usize,
    },
}

/// What a protocol family finds at one position of a byte stream (the stream deframer,
/// [`crate::stream`], asks each family whose [`Lead`] matches there).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scan {
    /// A whole frame of this many bytes whose link layer verifies (checksum, CRC, end byte).
    Frame(usize),
    /// The bytes so far are the beginning of a possible frame: at least this many bytes in
    /// all are needed to decide.
    Incomplete(usize),
    /// A frame's whole structure (start bytes, length, end byte) whose check fails: this many
    /// bytes would have been the frame. Reported as garbage with the reason.
    Invalid {
        /// The bytes the frame would have had.
        len: usize,
        /// What failed (`checksum`, `crc`).
        kind: ErrorKind,
    },
    /// A frame that is valid only as the answer to a request, with no request before it
    /// (a lone M-Bus `E5`).
    Unrequested,
    /// No frame of this family starts here.
    None,
}

/// What the deframer knows when it asks a family to [`Scan`] a position.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StreamContext {
    /// The caller named this family's protocol: its permissive form applies (wM-Bus
    /// captures without CRCs).
    pub(crate) named: bool,
    /// The protocol of the previous frame of the stream, when that frame was a request that
    /// a one-byte acknowledgement can answer.
    pub(crate) after_request: Option<Protocol>,
    /// The stream ends with the bytes given: nothing more will come.
    pub(crate) at_end: bool,
}

impl StreamContext {
    /// Whether the caller named this family's protocol.
    pub fn named(&self) -> bool {
        self.named
    }

    /// Whether the stream ends with the bytes given (a frame cannot grow any more).
    pub fn at_end(&self) -> bool {
        self.at_end
    }

    /// The protocol of the previous frame when it was a request.
    pub fn after_request(&self) -> Option<Protocol> {
        self.after_request
    }
}

/// The bytes that can open a family's frame, so the deframer skips the others without asking.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lead {
    /// The frame's first byte is one of these (start bytes, wake-up bytes).
    First(&'static [u8]),
    /// The frame's second byte is one of these (frames that open with a length byte, such as
    /// wM-Bus `L C …`, are recognised by their C field).
    Second(&'static [u8]),
}

/// Thirteen views of 16 positions of a stream: `block[k]` holds the bytes that start `k` after
/// each position (the first byte in `block[0]`, the second in `block[1]`, …).
pub type Block = [wide::u8x16; BLOCK_VIEWS];

/// How many bytes of each position a [`Block`] shows.
pub const BLOCK_VIEWS: usize = 13;

/// A family's test of 16 positions at once
/// ([`crate::protocol::Framing::with_block_filter`]): lane `i` set when a frame of the family
/// may start at position `i`. It must accept every position at which the family's `scan`
/// finds anything but [`Scan::None`]; it only narrows what the family's [`Lead`] lets
/// through, so noise costs fewer scans.
pub type BlockFilter = fn(&Block) -> wide::u8x16;

/// Lanes whose byte lies in `low..=high` (empty when `high < low`): one subtraction moves the
/// range to `0..=high - low`, where a byte is in range when the minimum keeps it.
#[inline(always)]
pub fn in_range(v: wide::u8x16, low: u8, high: u8) -> wide::u8x16 {
    if high < low {
        return wide::u8x16::ZERO;
    }
    // Lane-wise wrapping subtraction (`psubb`): bytes below `low` wrap to the top.
    let shifted = core::ops::Sub::sub(v, wide::u8x16::splat(low));
    shifted
        .min(wide::u8x16::splat(high.wrapping_sub(low)))
        .cmp_eq(shifted)
}

/// When the deframer looks for a family's frames.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Search {
    /// In every stream: the frames prove themselves (start byte and checksum). Naming the
    /// protocol changes nothing (M-Bus, CJ/T 188).
    Always,
    /// In every stream by its verified form; naming the protocol searches only this family,
    /// at every byte, in its permissive form (wM-Bus: CRC-free captures).
    AlwaysAloneWhenNamed,
    /// Only when the caller names the protocol, and then only this family, at every byte
    /// (Modbus RTU: no start byte, and a 2-byte CRC alone matches noise too often).
    OnlyNamed,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every byte value against the scalar range test, for ranges at both ends and inside.
    #[test]
    fn in_range_matches_the_scalar_test_for_every_byte() {
        let ranges = [
            (0, 0),
            (0, 255),
            (1, 26),
            (10, 255),
            (0x20, 0x7E),
            (b'B', b'W'),
            (255, 255),
            (5, 4),
        ];
        for (low, high) in ranges {
            for chunk in 0..16u8 {
                let lanes: [u8; 16] = core::array::from_fn(|i| chunk * 16 + i as u8);
                let got = in_range(wide::u8x16::new(lanes), low, high).to_array();
                for (byte, lane) in lanes.iter().zip(got) {
                    let want = if (low..=high).contains(byte) { 0xFF } else { 0 };
                    assert_eq!(lane, want, "{byte:#04X} in {low}..={high}");
                }
            }
        }
    }
}
