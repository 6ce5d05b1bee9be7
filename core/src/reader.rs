//! A cursor over the variable parts of a frame (DIF → DIFE* → VIF → VIFE* → data, CJ/T 188
//! data identifiers). Every read is checked; errors carry the absolute offset in the input.

use crate::error::{Error, Result};

/// A checked cursor over `buf`, whose first byte is at absolute offset `base` of the input.
#[derive(Clone, Copy, Debug)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    base: usize,
}

impl<'a> Reader<'a> {
    /// A reader over `buf`, which starts at absolute offset `base` of the input.
    pub const fn new(buf: &'a [u8], base: usize) -> Self {
        Reader { buf, pos: 0, base }
    }

    /// The absolute offset of the next byte.
    pub fn position(&self) -> usize {
        self.base.saturating_add(self.pos)
    }

    /// The offset of the next byte within `buf`.
    pub const fn local_position(&self) -> usize {
        self.pos
    }

    /// Bytes left.
    pub fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    /// Whether every byte was read.
    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// The next byte without consuming it.
    pub fn peek(&self) -> Option<u8> {
        self.buf.get(self.pos).copied()
    }

    /// The unread rest, without consuming it.
    pub fn rest(&self) -> &'a [u8] {
        self.buf.get(self.pos..).unwrap_or(&[])
    }

    /// The bytes of `buf` from local offset `start` to the cursor.
    pub fn since(&self, start: usize) -> &'a [u8] {
        self.buf.get(start..self.pos).unwrap_or(&[])
    }

    /// Consumes `n` bytes; a `malformed` error naming `what` if fewer remain.
    pub fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n);
        match end.and_then(|end| self.buf.get(self.pos..end).map(|s| (s, end))) {
            Some((slice, end)) => {
                self.pos = end;
                Ok(slice)
            }
            None => Err(Error::short_field(
                self.position(),
                what,
                n,
                self.remaining(),
            )),
        }
    }

    /// Consumes one byte.
    pub fn u8(&mut self, what: &'static str) -> Result<u8> {
        let b = self.take(1, what)?;
        Ok(b.first().copied().unwrap_or(0))
    }

    /// Consumes everything left.
    pub fn take_rest(&mut self) -> &'a [u8] {
        let rest = self.rest();
        self.pos = self.buf.len();
        rest
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn reads_and_reports_absolute_offsets() {
        let mut r = Reader::new(&[1, 2, 3], 10);
        assert_eq!(r.u8("a").unwrap(), 1);
        assert_eq!(r.position(), 11);
        assert_eq!(r.take(2, "b").unwrap(), &[2, 3]);
        let e = r.take(1, "c").unwrap_err();
        assert_eq!((e.kind(), e.offset()), (ErrorKind::Malformed, 13));
        assert_eq!(e.to_string(), "c needs 1 byte, only 0 remain");
    }
}
