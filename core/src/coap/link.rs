//! The checked zero-copy view of one CoAP message ([`CoapMessage`], RFC 7252 §3) and its
//! [`CoapRepr`] with `emit`.
//!
//! ```text
//! 0: Ver(2)=1 | T(2) | TKL(4)   1: Code   2-3: Message ID (big-endian)
//! Token (TKL bytes) | Options (delta | length nibbles, extended bytes, value) | [FF payload]
//! ```
//!
//! [`CoapMessage::new_checked`] walks the options once; after it every accessor is
//! infallible.

use alloc::vec::Vec;

use crate::error::{Detail, Error, ErrorKind, Layer, Result};

/// Byte offsets and constants of the CoAP header; parse and emit both read them from here.
pub mod field {
    use core::ops::Range;

    /// Version, type and token length.
    pub const VER_T_TKL: usize = 0;
    /// The code (class << 5 | detail).
    pub const CODE: usize = 1;
    /// The message ID (big-endian).
    pub const MESSAGE_ID: Range<usize> = 2..4;
    /// The first token byte.
    pub const TOKEN: usize = 4;
    /// The fixed header.
    pub const HEADER_LEN: usize = 4;
    /// The longest token (TKL 9–15 are reserved).
    pub const MAX_TOKEN_LEN: usize = 8;
    /// The one version this view reads.
    pub const VERSION: u8 = 1;
    /// The byte that ends the options when a payload follows.
    pub const PAYLOAD_MARKER: u8 = 0xFF;
    /// Option delta / length nibble: one extended byte follows (value − 13).
    pub const EXT8: u8 = 13;
    /// Option delta / length nibble: two extended bytes follow (value − 269).
    pub const EXT16: u8 = 14;
    /// Option delta / length nibble reserved for the payload marker.
    pub const RESERVED: u8 = 15;
    /// The offset of one extended byte.
    pub const EXT8_BASE: u32 = 13;
    /// The offset of two extended bytes.
    pub const EXT16_BASE: u32 = 269;
}

/// One option as it sits in the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawOption<'a> {
    /// Its offset in the message (the delta/length byte).
    pub offset: usize,
    /// The option number (the previous number plus the delta).
    pub number: u16,
    /// Bytes of the option header (delta/length byte and extended bytes).
    pub header_len: usize,
    /// The value.
    pub value: &'a [u8],
}

/// What a walk over the options found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Layout {
    /// Where the options end (the payload marker, or the end of the message).
    options_end: usize,
    /// Where the payload starts (after the marker), or the message length.
    payload_start: usize,
}

fn empty() -> Error {
    Error::new(
        ErrorKind::Empty,
        Layer::Input,
        0,
        Detail::Text("no input bytes"),
    )
}

/// Reads one delta or length nibble with its extended bytes at `at`; `Ok((value, bytes))`.
fn extended(buf: &[u8], nibble: u8, at: usize, header: usize) -> Result<(u32, usize)> {
    let truncated = |needed: usize| Error::truncated(Layer::Link, needed, buf.len());
    match nibble {
        field::EXT8 => {
            let b = buf
                .get(at)
                .copied()
                .ok_or_else(|| truncated(at.saturating_add(1)))?;
            Ok((field::EXT8_BASE.saturating_add(u32::from(b)), 1))
        }
        field::EXT16 => match buf.get(at..at.saturating_add(2)) {
            Some(&[hi, lo]) => Ok((
                field::EXT16_BASE.saturating_add(u32::from(u16::from_be_bytes([hi, lo]))),
                2,
            )),
            _ => Err(truncated(at.saturating_add(2))),
        },
        field::RESERVED => Err(Error::link(
            ErrorKind::Malformed,
            header,
            Detail::Text("option nibble 15 is reserved for the payload marker"),
        )),
        n => Ok((u32::from(n), 0)),
    }
}

/// Reads the option at `at` after option number `previous`; `None` at the end or the marker.
fn option_at(buf: &[u8], at: usize, previous: u16) -> Result<Option<RawOption<'_>>> {
    let Some(&first) = buf.get(at) else {
        return Ok(None);
    };
    if first == field::PAYLOAD_MARKER {
        return Ok(None);
    }
    let mut pos = at.saturating_add(1);
    let (delta, n) = extended(buf, first >> 4, pos, at)?;
    pos = pos.saturating_add(n);
    let (len, n) = extended(buf, first & 0x0F, pos, at)?;
    pos = pos.saturating_add(n);
    let number = u32::from(previous)
        .checked_add(delta)
        .and_then(|n| u16::try_from(n).ok())
        .ok_or(Error::link(
            ErrorKind::Malformed,
            at,
            Detail::Text("option number over 65535"),
        ))?;
    let len = usize::try_from(len).unwrap_or(usize::MAX);
    let end = pos.saturating_add(len);
    let value = buf
        .get(pos..end)
        .ok_or(Error::truncated(Layer::Link, end, buf.len()))?;
    Ok(Some(RawOption {
        offset: at,
        number,
        header_len: pos.saturating_sub(at),
        value,
    }))
}

fn layout(buf: &[u8]) -> Result<Layout> {
    if buf.is_empty() {
        return Err(empty());
    }
    if buf.len() < field::HEADER_LEN {
        return Err(Error::truncated(Layer::Link, field::HEADER_LEN, buf.len()));
    }
    let first = buf.get(field::VER_T_TKL).copied().unwrap_or(0);
    if first >> 6 != field::VERSION {
        return Err(Error::link(
            ErrorKind::Unsupported,
            field::VER_T_TKL,
            Detail::Text("CoAP version is not 1"),
        ));
    }
    let tkl = usize::from(first & 0x0F);
    if tkl > field::MAX_TOKEN_LEN {
        return Err(Error::link(
            ErrorKind::Malformed,
            field::VER_T_TKL,
            Detail::Text("token length 9-15 is reserved"),
        ));
    }
    let mut pos = field::TOKEN.saturating_add(tkl);
    if pos > buf.len() {
        return Err(Error::truncated(Layer::Link, pos, buf.len()));
    }
    let mut number = 0u16;
    while let Some(option) = option_at(buf, pos, number)? {
        number = option.number;
        pos = pos
            .saturating_add(option.header_len)
            .saturating_add(option.value.len());
    }
    if buf.get(pos) == Some(&field::PAYLOAD_MARKER) {
        let payload_start = pos.saturating_add(1);
        if payload_start >= buf.len() {
            return Err(Error::link(
                ErrorKind::Malformed,
                pos,
                Detail::Text("payload marker followed by no payload"),
            ));
        }
        return Ok(Layout {
            options_end: pos,
            payload_start,
        });
    }
    Ok(Layout {
        options_end: pos,
        payload_start: buf.len(),
    })
}

/// A checked view of one CoAP message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CoapMessage<T: AsRef<[u8]>> {
    buffer: T,
    layout: Layout,
}

impl<T: AsRef<[u8]>> CoapMessage<T> {
    /// Wraps `buffer` after checking that it is one whole message: version 1, a token length
    /// of at most 8, options whose extended bytes and values are all there, no reserved
    /// nibble, numbers up to 65535, and a payload marker only before a payload.
    ///
    /// Errors (design §3): empty → `empty`; shorter than the header, the token, an option →
    /// `truncated` at the input length; another version → `unsupported` at 0; TKL 9–15 →
    /// `malformed` at 0; nibble 15 or a number over 65535 → `malformed` at the option; a
    /// marker with nothing after it → `malformed` at the marker.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let layout = layout(buffer.as_ref())?;
        Ok(CoapMessage { buffer, layout })
    }

    fn byte(&self, at: usize) -> u8 {
        self.buffer.as_ref().get(at).copied().unwrap_or(0)
    }

    /// The message type bits (0 CON, 1 NON, 2 ACK, 3 RST).
    pub fn type_bits(&self) -> u8 {
        (self.byte(field::VER_T_TKL) >> 4) & 0x03
    }

    /// The token length.
    pub fn token_len(&self) -> usize {
        usize::from(self.byte(field::VER_T_TKL) & 0x0F)
    }

    /// The code byte.
    pub fn code(&self) -> u8 {
        self.byte(field::CODE)
    }

    /// The message ID.
    pub fn message_id(&self) -> u16 {
        u16::from_be_bytes([self.byte(2), self.byte(3)])
    }

    /// The token.
    pub fn token(&self) -> &[u8] {
        let end = field::TOKEN.saturating_add(self.token_len());
        self.buffer.as_ref().get(field::TOKEN..end).unwrap_or(&[])
    }

    /// Where the options start.
    pub fn options_start(&self) -> usize {
        field::TOKEN.saturating_add(self.token_len())
    }

    /// The options, in wire order.
    pub fn options(&self) -> Options<'_> {
        Options {
            buf: self
                .buffer
                .as_ref()
                .get(..self.layout.options_end)
                .unwrap_or(&[]),
            pos: self.options_start(),
            number: 0,
        }
    }

    /// The payload marker's offset, when the message has a payload.
    pub fn marker(&self) -> Option<usize> {
        (self.layout.payload_start < self.buffer.as_ref().len()).then_some(self.layout.options_end)
    }

    /// The offset of the payload's first byte (the message length when there is none).
    pub fn payload_start(&self) -> usize {
        self.layout.payload_start
    }

    /// The payload (empty when there is none).
    pub fn payload(&self) -> &[u8] {
        self.buffer
            .as_ref()
            .get(self.layout.payload_start..)
            .unwrap_or(&[])
    }
}

/// The options of a checked message ([`CoapMessage::options`]).
#[derive(Clone, Debug)]
pub struct Options<'a> {
    buf: &'a [u8],
    pos: usize,
    number: u16,
}

impl<'a> Iterator for Options<'a> {
    type Item = RawOption<'a>;

    fn next(&mut self) -> Option<RawOption<'a>> {
        let option = option_at(self.buf, self.pos, self.number).ok().flatten()?;
        self.number = option.number;
        self.pos = self
            .pos
            .saturating_add(option.header_len)
            .saturating_add(option.value.len());
        Some(option)
    }
}

/// The parts of a CoAP message, written back by [`CoapRepr::emit`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CoapRepr<'a> {
    /// Type bits (0–3).
    pub type_bits: u8,
    /// Code byte.
    pub code: u8,
    /// Message ID.
    pub message_id: u16,
    /// Token (0–8 bytes).
    pub token: &'a [u8],
    /// Options as (number, value), in ascending number order.
    pub options: Vec<(u16, Vec<u8>)>,
    /// Payload (written after the marker when not empty).
    pub payload: &'a [u8],
}

/// The nibble and extended bytes of a delta or length.
fn nibble(value: u32) -> (u8, Option<u8>, Option<[u8; 2]>) {
    if value < field::EXT8_BASE {
        (u8::try_from(value).unwrap_or(0), None, None)
    } else if value < field::EXT16_BASE {
        let ext = u8::try_from(value.saturating_sub(field::EXT8_BASE)).unwrap_or(0);
        (field::EXT8, Some(ext), None)
    } else {
        let ext = u16::try_from(value.saturating_sub(field::EXT16_BASE)).unwrap_or(u16::MAX);
        (field::EXT16, None, Some(ext.to_be_bytes()))
    }
}

impl CoapRepr<'_> {
    /// Writes the message. Errors (`malformed`, offset 0): a token over 8 bytes, options out
    /// of ascending order, an option value over 65804 bytes.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<()> {
        let tkl = u8::try_from(self.token.len())
            .ok()
            .filter(|&n| usize::from(n) <= field::MAX_TOKEN_LEN)
            .ok_or(Error::model("CoAP token longer than 8 bytes"))?;
        out.push(field::VERSION << 6 | (self.type_bits & 0x03) << 4 | tkl);
        out.push(self.code);
        out.extend_from_slice(&self.message_id.to_be_bytes());
        out.extend_from_slice(self.token);
        let mut previous = 0u16;
        for (number, value) in &self.options {
            let delta = number.checked_sub(previous).ok_or(Error::model(
                "CoAP options must be in ascending number order",
            ))?;
            let len = u32::try_from(value.len())
                .ok()
                .filter(|&l| l <= field::EXT16_BASE.saturating_add(u32::from(u16::MAX)))
                .ok_or(Error::model("CoAP option value longer than 65804 bytes"))?;
            let (d, d8, d16) = nibble(u32::from(delta));
            let (l, l8, l16) = nibble(len);
            out.push(d << 4 | l);
            out.extend(d8);
            out.extend(d16.iter().flatten());
            out.extend(l8);
            out.extend(l16.iter().flatten());
            out.extend_from_slice(value);
            previous = *number;
        }
        if !self.payload.is_empty() {
            out.push(field::PAYLOAD_MARKER);
            out.extend_from_slice(self.payload);
        }
        Ok(())
    }
}
