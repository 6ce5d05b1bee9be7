//! DL/T 645 recognition, so it is never misread as CJ/T 188.
//!
//! DL/T 645 (the Chinese electricity-meter protocol, 1997 and 2007) shares CJ/T 188's wake-up
//! bytes, start byte, checksum and end byte, and is common on the same RS-485 buses:
//!
//! ```text
//! [FE…] 68 A0 A1 A2 A3 A4 A5 68 C L DATA[L] CS 16        (CS: sum from the first 68)
//! ```
//!
//! meterwire does not decode it: a DL/T 645 frame is reported as `unsupported`.

use crate::error::{Detail, Error, ErrorKind, Layer};

use super::link::{checksum, preamble_len, START, STOP};

/// Offset of the second start byte, counted from the first.
pub const START2: usize = 7;
/// Offset of the L field, counted from the first start byte.
pub const L: usize = 9;
/// Bytes L does not count: 68, address, 68, C, L, CS, 16.
pub const OVERHEAD: usize = 12;

/// A byte of a DL/T 645 address: BCD digits, or the `AA` wildcard.
pub(crate) fn address_byte(b: u8) -> bool {
    b == 0xAA || (b >> 4 <= 9 && b & 0x0F <= 9)
}

/// Whether `body` (starting at its first `68`) has DL/T 645's shape: `68`, six address bytes,
/// `68`. A prefix too short to show the second start byte is not enough.
pub fn shape(body: &[u8]) -> bool {
    body.first() == Some(&START)
        && body.get(START2) == Some(&START)
        && body
            .get(1..START2)
            .is_some_and(|a| a.iter().all(|b| address_byte(*b)))
}

/// The length (wake-up bytes included) the DL/T 645 frame at the start of `buf` claims by its
/// L field; nothing verified yet.
pub fn claimed_len(buf: &[u8]) -> Option<usize> {
    let p = preamble_len(buf);
    let body = buf.get(p..)?;
    if body.first() != Some(&START) || body.get(START2) != Some(&START) {
        return None;
    }
    p.checked_add(OVERHEAD.checked_add(usize::from(*body.get(L)?))?)
}

/// The length (wake-up bytes included) of the complete DL/T 645 frame at the start of `buf`
/// whose length, checksum and end byte verify.
pub fn verified_len(buf: &[u8]) -> Option<usize> {
    let p = preamble_len(buf);
    let body = buf.get(p..)?;
    if body.first() != Some(&START) || body.get(START2) != Some(&START) {
        return None;
    }
    let l = usize::from(*body.get(L)?);
    let len = OVERHEAD.checked_add(l)?;
    let cs_at = len.checked_sub(2)?;
    let frame = body.get(..len)?;
    (frame.get(cs_at) == Some(&checksum(frame.get(..cs_at)?)) && frame.last() == Some(&STOP))
        .then(|| p.saturating_add(len))
}

/// The bytes in all (wake-up bytes included) that the DL/T 645 frame beginning `buf` needs to
/// be whole, while `buf` is a proper beginning of one: start byte, address bytes and second
/// start byte as far as they are there. `None`: whole already, or not DL/T 645.
pub fn needed(buf: &[u8]) -> Option<usize> {
    let p = preamble_len(buf);
    let body = buf.get(p..)?;
    if body.first() != Some(&START) || !body.iter().take(START2).skip(1).all(|b| address_byte(*b)) {
        return None;
    }
    let total = match (body.get(START2), body.get(L)) {
        (None, _) => START2.saturating_add(1),
        (Some(&second), _) if second != START => return None,
        (Some(_), None) => L.saturating_add(1),
        (Some(_), Some(&l)) => OVERHEAD.saturating_add(usize::from(l)),
    };
    (body.len() < total).then(|| p.saturating_add(total))
}

/// The length (wake-up bytes included) of the DL/T 645 frame at the start of `buf` when its
/// start bytes are in place and all its bytes are there; its checksum is not read.
pub fn whole_len(buf: &[u8]) -> Option<usize> {
    let p = preamble_len(buf);
    let body = buf.get(p..)?;
    if body.first() != Some(&START) || body.get(START2) != Some(&START) {
        return None;
    }
    let len = OVERHEAD.checked_add(usize::from(*body.get(L)?))?;
    (body.len() >= len).then(|| p.saturating_add(len))
}

/// The error for a DL/T 645 frame whose start byte is at `offset`.
pub fn unsupported(offset: usize) -> Error {
    Error::new(
        ErrorKind::Unsupported,
        Layer::Input,
        offset,
        Detail::Text(
            "a DL/T 645 frame (68, 6-byte address, 68: the electricity-meter protocol): not CJ/T 188, and not decoded by meterwire",
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hex::parse_hex;

    #[test]
    fn recognises_a_read_request() {
        // DL/T 645-2007 read of DI 00 01 00 00 (+33 each) from meter 000012345678.
        let f = parse_hex("FE FE FE FE 68 78 56 34 12 00 00 68 11 04 33 33 34 33 C6 16").unwrap();
        assert_eq!(verified_len(&f), Some(f.len()));
        assert!(shape(&f[4..]));
        let mut bad = f.clone();
        bad[18] ^= 1;
        assert_eq!(verified_len(&bad), None);
    }
}
