//! Pieces shared by the link layers: the byte-sum checksum and the check of a frame's
//! checksum and stop byte (wired M-Bus and CJ/T 188 end their frames the same way).

use core::ops::Range;

use crate::error::{Detail, Error, ErrorKind, Layer, Result};

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
