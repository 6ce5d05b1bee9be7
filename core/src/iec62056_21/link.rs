//! IEC 62056-21 link layer: the parity strip of 7E1 captures, the block check character, the
//! DSMR CRC-16, and the checked view [`Message`] that finds a message's parts once.
//!
//! ```text
//! sign-on          / ? [address] ! CR LF
//! identification   / X X X Z [\ W] ident CR LF
//! option select    ACK V Z Y CR LF
//! data             STX data-block ETX|EOT BCC
//! command, break   SOH C D [STX data-block] ETX|EOT BCC
//! ack, nak         ACK | NAK
//! DSMR telegram    / X X X Z [\ W] ident CR LF  data lines  ! [CRC as 4 hex digits] CR LF
//! ```
//!
//! [`Message::new_checked`] takes the text with its parity bits already stripped
//! ([`strip_parity`]) and verifies the structure, the BCC and the CRC; offsets in its errors
//! are offsets of the input (stripping keeps every byte in place). Writing messages is
//! [`super::encode`]'s job: the layout is plain text between these delimiters.

use alloc::borrow::Cow;
use core::ops::Range;

use crc::{Crc, CRC_16_ARC};

use crate::error::{Detail, Error, ErrorKind, Layer, Result};

/// Start of heading: opens a command message.
pub const SOH: u8 = 0x01;
/// Start of text: opens a data block.
pub const STX: u8 = 0x02;
/// End of text: closes the last (or only) block.
pub const ETX: u8 = 0x03;
/// End of transmission: closes a partial block.
pub const EOT: u8 = 0x04;
/// Acknowledgement.
pub const ACK: u8 = 0x06;
/// Negative acknowledgement (repeat request).
pub const NAK: u8 = 0x15;
/// Carriage return.
pub const CR: u8 = b'\r';
/// Line feed.
pub const LF: u8 = b'\n';
/// Start of a sign-on request or an identification line.
pub const SLASH: u8 = b'/';
/// End of a data readout (`! CR LF`) and of a DSMR telegram (`!` CRC CR LF).
pub const END_MARK: u8 = b'!';

/// CRC-16/ARC (poly 0x8005 reflected = 0xA001, init 0), the DSMR P1 telegram CRC.
pub const DSMR_CRC: Crc<u16> = Crc::<u16>::new(&CRC_16_ARC);

/// Whether a character has even parity over all 8 bits (the 7E1 parity bit included).
pub fn even_parity(byte: u8) -> bool {
    byte.count_ones() % 2 == 0
}

/// A 7-bit character with its 7E1 even-parity bit set in bit 7.
pub fn with_parity(byte: u8) -> u8 {
    let low = byte & 0x7F;
    if even_parity(low) {
        low
    } else {
        low | 0x80
    }
}

/// The 7-bit text of a capture: when any byte has bit 7 set the capture still carries its
/// 7E1 parity bits, every byte must then have even parity, and bit 7 is stripped (`true`
/// second). A byte that fails the parity check is `malformed` at its offset.
pub fn strip_parity(bytes: &[u8]) -> Result<(Cow<'_, [u8]>, bool)> {
    if bytes.iter().all(|b| *b < 0x80) {
        return Ok((Cow::Borrowed(bytes), false));
    }
    if let Some(at) = bytes.iter().position(|b| !even_parity(*b)) {
        return Err(Error::new(
            ErrorKind::Malformed,
            Layer::Link,
            at,
            Detail::Text("character fails the 7E1 even-parity check of a capture whose other characters carry parity bits"),
        ));
    }
    Ok((Cow::Owned(bytes.iter().map(|b| b & 0x7F).collect()), true))
}

/// The block check character: XOR of every byte given (the bytes after SOH/STX through
/// ETX/EOT).
pub fn bcc(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0u8, |acc, b| acc ^ b)
}

/// The parts of an identification line `/ XXX Z [\W] ident CR LF` (offsets of the input).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdentParts {
    /// The three manufacturer letters.
    pub manufacturer: Range<usize>,
    /// The baud-rate character.
    pub baud_char: usize,
    /// The enhanced identification character after `\`, when present.
    pub enhanced_id: Option<usize>,
    /// The identification text.
    pub identification: Range<usize>,
    /// One past the line's LF.
    pub end: usize,
}

/// Where a message's parts are: what [`Message::new_checked`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Layout {
    /// `/ ? address ! CR LF`.
    SignOn {
        /// The device address (possibly empty).
        address: Range<usize>,
    },
    /// `/ XXX Z [\W] ident CR LF`.
    Identification(IdentParts),
    /// `ACK V Z Y CR LF`.
    OptionSelect,
    /// A lone ACK.
    Ack,
    /// A lone NAK.
    Nak,
    /// `STX block ETX|EOT BCC`.
    Data {
        /// The data block between STX and ETX/EOT.
        block: Range<usize>,
        /// Offset of the BCC (ETX/EOT just before it).
        bcc_at: usize,
    },
    /// `SOH C D [STX block] ETX|EOT BCC`.
    Command {
        /// The data block after STX, when there is one.
        block: Option<Range<usize>>,
        /// Offset of the BCC.
        bcc_at: usize,
    },
    /// Identification line, data lines, `!`, an optional CRC, CR LF.
    Dsmr {
        /// The identification line.
        ident: IdentParts,
        /// The data lines (from after the identification line to the `!`).
        body: Range<usize>,
        /// Offset of the `!`.
        end_mark: usize,
        /// Offset of the four CRC hex digits, when the telegram has a CRC.
        crc_at: Option<usize>,
    },
}

/// A checked IEC 62056-21 message over 7-bit text (parity already stripped).
#[derive(Clone, Debug)]
pub struct Message<'a> {
    text: &'a [u8],
    layout: Layout,
}

fn link_error(kind: ErrorKind, at: usize, text: &'static str) -> Error {
    Error::new(kind, Layer::Link, at, Detail::Text(text))
}

fn trailing(frame_len: usize, total: usize) -> Error {
    Error::new(
        ErrorKind::Length,
        Layer::Link,
        frame_len,
        Detail::Trailing {
            frame_len,
            extra: total.saturating_sub(frame_len),
        },
    )
}

/// The offset of the first LF at or after `from`.
fn find_lf(text: &[u8], from: usize) -> Option<usize> {
    text.get(from..)?
        .iter()
        .position(|b| *b == LF)
        .map(|p| p.saturating_add(from))
}

/// The offset of the first ETX or EOT at or after `from`.
fn find_block_end(text: &[u8], from: usize) -> Option<usize> {
    text.get(from..)?
        .iter()
        .position(|b| *b == ETX || *b == EOT)
        .map(|p| p.saturating_add(from))
}

/// The byte at `at`, or 0 past the end.
fn at(text: &[u8], i: usize) -> u8 {
    text.get(i).copied().unwrap_or(0)
}

/// One past the LF of the line that starts at 0 and ends `CR LF`; errors when there is none.
fn line_end(text: &[u8]) -> Result<usize> {
    let lf = find_lf(text, 0).ok_or(Error::truncated(
        Layer::Link,
        text.len().saturating_add(1),
        text.len(),
    ))?;
    if lf == 0 || at(text, lf.saturating_sub(1)) != CR {
        return Err(link_error(
            ErrorKind::Malformed,
            lf,
            "line feed without carriage return: lines end CR LF",
        ));
    }
    Ok(lf.saturating_add(1))
}

/// The parts of the identification line that starts `text` (its CR LF at `end - 2`).
fn ident_parts(text: &[u8], end: usize) -> Result<IdentParts> {
    let cr = end.saturating_sub(2);
    // '/' XXX Z is the least an identification holds.
    if cr < 5 {
        return Err(link_error(
            ErrorKind::Malformed,
            cr,
            "identification needs / + 3 manufacturer letters + baud character",
        ));
    }
    let enhanced = (at(text, 5) == b'\\' && cr >= 7).then_some(6);
    let ident_start = if enhanced.is_some() { 7 } else { 5 };
    Ok(IdentParts {
        manufacturer: 1..4,
        baud_char: 4,
        enhanced_id: enhanced,
        identification: ident_start..cr,
        end,
    })
}

/// The block check of `text[from..=end]` against the byte at `end + 1`.
fn check_bcc(text: &[u8], from: usize, end: usize) -> Result<usize> {
    let bcc_at = end.saturating_add(1);
    let Some(&found) = text.get(bcc_at) else {
        return Err(Error::truncated(
            Layer::Link,
            bcc_at.saturating_add(1),
            text.len(),
        ));
    };
    if text.len() > bcc_at.saturating_add(1) {
        return Err(trailing(bcc_at.saturating_add(1), text.len()));
    }
    let computed = bcc(text.get(from..=end).unwrap_or(&[]));
    if found != computed {
        return Err(Error::new(
            ErrorKind::Checksum,
            Layer::Link,
            bcc_at,
            Detail::Checksum { found, computed },
        ));
    }
    Ok(bcc_at)
}

/// The value of 4 hex digits (either case).
fn hex4(digits: &[u8]) -> Option<u16> {
    let text = core::str::from_utf8(digits).ok()?;
    // DSMR writes the CRC in upper-case hex digits.
    if text.len() != 4
        || !text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))
    {
        return None;
    }
    u16::from_str_radix(text, 16).ok()
}

/// The `!` that ends a DSMR telegram whose body starts at `from`: the first `!` at the start
/// of a line.
fn find_dsmr_end(text: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    loop {
        if at(text, i) == END_MARK && i < text.len() {
            return Some(i);
        }
        i = find_lf(text, i)?.saturating_add(1);
    }
}

impl<'a> Message<'a> {
    /// Checks one whole message: its start, structure, BCC or CRC, and that nothing follows.
    ///
    /// Errors (design §3): `empty`; `start` at 0 for a first byte no message starts with;
    /// `truncated` at the input length for a message that has not ended; `checksum` at the
    /// BCC; `crc` at the first CRC digit; `length` at the first byte after a complete message;
    /// `malformed` where the structure breaks.
    pub fn new_checked(text: &'a [u8]) -> Result<Message<'a>> {
        let layout = Self::layout(text)?;
        Ok(Message { text, layout })
    }

    fn layout(text: &[u8]) -> Result<Layout> {
        let Some(&first) = text.first() else {
            return Err(Error::new(
                ErrorKind::Empty,
                Layer::Input,
                0,
                Detail::Text("no input bytes"),
            ));
        };
        let len = text.len();
        match first {
            SLASH if len == 1 => Err(Error::truncated(Layer::Link, 5, 1)),
            SLASH if at(text, 1) == b'?' => {
                let end = line_end(text)?;
                let bang = end.saturating_sub(3);
                if bang < 2 || at(text, bang) != END_MARK {
                    return Err(link_error(
                        ErrorKind::Malformed,
                        end.saturating_sub(2),
                        "a sign-on request ends ! CR LF",
                    ));
                }
                if len > end {
                    return Err(trailing(end, len));
                }
                Ok(Layout::SignOn { address: 2..bang })
            }
            SLASH => {
                let end = line_end(text)?;
                let ident = ident_parts(text, end)?;
                if len == end {
                    return Ok(Layout::Identification(ident));
                }
                Self::dsmr(text, ident)
            }
            ACK if len == 1 => Ok(Layout::Ack),
            ACK => {
                if len < 6 {
                    return Err(Error::truncated(Layer::Link, 6, len));
                }
                if at(text, 4) != CR || at(text, 5) != LF {
                    return Err(link_error(
                        ErrorKind::Malformed,
                        4,
                        "an option select is ACK V Z Y CR LF",
                    ));
                }
                if len > 6 {
                    return Err(trailing(6, len));
                }
                Ok(Layout::OptionSelect)
            }
            NAK if len == 1 => Ok(Layout::Nak),
            NAK => Err(trailing(1, len)),
            STX => {
                let end = find_block_end(text, 1).ok_or(Error::truncated(
                    Layer::Link,
                    len.saturating_add(2),
                    len,
                ))?;
                let bcc_at = check_bcc(text, 1, end)?;
                Ok(Layout::Data {
                    block: 1..end,
                    bcc_at,
                })
            }
            SOH => {
                if len < 4 {
                    return Err(Error::truncated(Layer::Link, 5, len));
                }
                let block = match at(text, 3) {
                    STX => Some(
                        4..find_block_end(text, 4).ok_or(Error::truncated(
                            Layer::Link,
                            len.saturating_add(2),
                            len,
                        ))?,
                    ),
                    ETX | EOT => None,
                    _ => {
                        return Err(link_error(
                            ErrorKind::Malformed,
                            3,
                            "a command is SOH C D, then STX data or ETX",
                        ))
                    }
                };
                let end = block.as_ref().map_or(3, |b| b.end);
                let bcc_at = check_bcc(text, 1, end)?;
                Ok(Layout::Command { block, bcc_at })
            }
            found => Err(start_error(found)),
        }
    }

    /// A DSMR telegram after its identification line.
    fn dsmr(text: &[u8], ident: IdentParts) -> Result<Layout> {
        let len = text.len();
        let body_start = ident.end;
        let end_mark = find_dsmr_end(text, body_start).ok_or(Error::truncated(
            Layer::Link,
            len.saturating_add(3),
            len,
        ))?;
        let after = end_mark.saturating_add(1);
        let (crc_at, end) = if at(text, after) == CR
            && text
                .get(after..after.saturating_add(4))
                .and_then(hex4)
                .is_none()
        {
            (None, after)
        } else {
            (Some(after), after.saturating_add(4))
        };
        let total = end.saturating_add(2);
        if len < total {
            return Err(Error::truncated(Layer::Link, total, len));
        }
        if let Some(crc_at) = crc_at {
            let digits = text.get(crc_at..end).unwrap_or(&[]);
            let found = hex4(digits).ok_or(link_error(
                ErrorKind::Malformed,
                crc_at,
                "a DSMR CRC is 4 hex digits after !",
            ))?;
            let computed = DSMR_CRC.checksum(text.get(..=end_mark).unwrap_or(&[]));
            if found != computed {
                return Err(Error::new(
                    ErrorKind::Crc,
                    Layer::Link,
                    crc_at,
                    Detail::Crc { found, computed },
                ));
            }
        }
        if at(text, end) != CR || at(text, end.saturating_add(1)) != LF {
            return Err(link_error(
                ErrorKind::Malformed,
                end,
                "a DSMR telegram ends ! [CRC] CR LF",
            ));
        }
        if len > total {
            return Err(trailing(total, len));
        }
        Ok(Layout::Dsmr {
            ident,
            body: body_start..end_mark,
            end_mark,
            crc_at,
        })
    }

    /// The message's parts.
    pub fn layout_ref(&self) -> &Layout {
        &self.layout
    }

    /// The 7-bit text.
    pub fn text(&self) -> &'a [u8] {
        self.text
    }

    /// The text in `range` as a string (the checked text is 7-bit ASCII when parity was
    /// stripped; other bytes come out as replacement-free lossy text).
    pub fn str(&self, range: Range<usize>) -> &'a str {
        self.text
            .get(range)
            .and_then(|b| core::str::from_utf8(b).ok())
            .unwrap_or("")
    }

    /// The byte at `i` (0 past the end).
    pub fn byte(&self, i: usize) -> u8 {
        at(self.text, i)
    }
}

/// Whether `byte` (parity bit ignored) starts a message: `/`, SOH, STX, ACK or NAK.
pub fn starts_message(byte: u8) -> bool {
    matches!(byte & 0x7F, SLASH | STX | SOH | ACK | NAK)
}

/// The error of a first byte no message starts with: `start` at 0.
pub fn start_error(found: u8) -> Error {
    Error::new(
        ErrorKind::Start,
        Layer::Link,
        0,
        Detail::Code {
            what: "IEC 62056-21 start character (/ SOH STX ACK NAK)",
            value: found,
        },
    )
}

/// Whether every byte of `text` is printable ASCII or one of `extra`.
fn printable(text: &[u8], extra: &[u8]) -> bool {
    text.iter()
        .all(|b| (0x20..0x7F).contains(b) || extra.contains(b))
}

/// Whether `text` (7-bit, parity stripped) is a message whose structure verifies strictly
/// enough to be told from other protocols' frames: a BCC or CRC that verifies over text
/// characters, a line message of printable characters, or a lone ACK/NAK.
pub fn verifies_strictly(text: &[u8]) -> bool {
    let Ok(m) = Message::new_checked(text) else {
        return false;
    };
    let lines = [CR, LF];
    match m.layout_ref() {
        Layout::Ack | Layout::Nak => true,
        Layout::OptionSelect => {
            at(text, 1).is_ascii_digit()
                && at(text, 2).is_ascii_alphanumeric()
                && at(text, 3).is_ascii_digit()
        }
        Layout::SignOn { .. } => printable(text, &lines),
        Layout::Identification(ident) | Layout::Dsmr { ident, .. } => {
            text.get(ident.manufacturer.clone())
                .is_some_and(|m| m.iter().all(u8::is_ascii_alphabetic))
                && printable(text, &lines)
        }
        Layout::Data { bcc_at, .. } | Layout::Command { bcc_at, .. } => {
            let body = text.get(1..bcc_at.saturating_sub(1)).unwrap_or(&[]);
            printable(body, &[CR, LF, STX])
                && (text.first() != Some(&SOH) || at(text, 1).is_ascii_uppercase())
        }
    }
}

/// The longest message the stream search waits for (a DSMR telegram relaying four M-Bus
/// channels is about 1.5 KB): a start byte with no end within this many bytes is noise.
pub const MAX_STREAM_MESSAGE: usize = 4096;

/// The bytes an IEC 62056-21 message can open with in a stream, with and without their 7E1
/// parity bit: `/` (a DSMR telegram; sign-on and identification when the protocol is named),
/// STX (a data message), SOH (a command).
pub const STREAM_LEAD: &[u8] = &[SLASH, SLASH | 0x80, STX, STX | 0x80, SOH, SOH | 0x80];

/// The positions where [`scan`] (searched among other families, so not named) can find
/// something, parity bits ignored: `/` before an upper-case letter and two letters (a DSMR
/// telegram's manufacturer), STX before a printable character, SOH before a command letter
/// (B, E, P, R, W) and a digit — the same first tests the scan makes.
#[inline]
pub fn block_filter(w: &crate::framing::Block) -> wide::u8x16 {
    use crate::framing::in_range;
    use wide::u8x16;
    let s = u8x16::splat;
    let [b0, b1, b2, b3, ..] = *w;
    let [c0, c1, c2, c3] = [b0, b1, b2, b3].map(|b| b & s(0x7F));
    let letter = |c: u8x16| in_range(c | s(0x20), b'a', b'z');
    let slash = c0.cmp_eq(s(SLASH)) & in_range(c1, b'A', b'Z') & letter(c2) & letter(c3);
    let data = c0.cmp_eq(s(STX)) & in_range(c1, 0x20, 0x7E);
    let command_letter = b"BEPRW"
        .iter()
        .fold(u8x16::ZERO, |acc, l| acc | c1.cmp_eq(s(*l)));
    let command = c0.cmp_eq(s(SOH)) & command_letter & in_range(c2, b'0', b'9');
    slash | data | command
}

/// What starts `rest` in a stream ([`crate::framing::Scan`]). Searched among other families
/// only messages that prove themselves: data messages and commands whose BCC verifies over
/// printable text, and DSMR telegrams with a CRC that verifies. When the caller names
/// IEC 62056-21, every message [`stream_frame_len`] accepts (sign-on, identification, option
/// select, DSMR without CRC) is cut too. A message whose end is not there yet is waited for,
/// up to [`MAX_STREAM_MESSAGE`] bytes.
pub fn scan(rest: &[u8], ctx: &crate::framing::StreamContext) -> crate::framing::Scan {
    use crate::framing::Scan;
    let seven = |i: usize| rest.get(i).map(|b| b & 0x7F);
    let Some(first) = seven(0) else {
        return Scan::Incomplete(1);
    };
    // Cheap tests of the first characters before any search for the end.
    let plausible = match first {
        SLASH => match seven(1) {
            None => return Scan::Incomplete(2),
            Some(b'?') => ctx.named(),
            // Identification or DSMR: three manufacturer letters.
            Some(c) => {
                c.is_ascii_uppercase()
                    && match (seven(2), seven(3)) {
                        (Some(a), Some(b)) => a.is_ascii_alphabetic() && b.is_ascii_alphabetic(),
                        _ => return Scan::Incomplete(4),
                    }
            }
        },
        STX => seven(1).is_none_or(|c| (0x20..0x7F).contains(&c)),
        SOH => match (seven(1), seven(2)) {
            (Some(c), Some(d)) => b"PWREB".contains(&c) && d.is_ascii_digit(),
            (Some(c), None) => b"PWREB".contains(&c),
            _ => true,
        },
        ACK => ctx.named() && seven(1).is_none_or(|v| v.is_ascii_digit()),
        _ => false,
    };
    if !plausible {
        return Scan::None;
    }
    let window = rest
        .get(..rest.len().min(MAX_STREAM_MESSAGE))
        .unwrap_or(rest);
    // Where the message would end: a line's LF for `/` and ACK (for DSMR the LF after the
    // `!` line), the BCC after ETX/EOT for STX and SOH. Every character on the way must be
    // text (printable, CR, LF; STX inside a command) with consistent parity bits: noise fails
    // that within a few bytes, so a start byte in noise costs little.
    let end = match first {
        STX | SOH => match text_until(window, 1, |c| matches!(c, ETX | EOT)) {
            TextRun::End(e) => Some(e.saturating_add(2)),
            TextRun::NotText => return Scan::None,
            TextRun::Open => None,
        },
        SLASH if ctx.named() && seven(1) != Some(b'?') => {
            // An identification line alone, or the first line of a DSMR telegram: the byte
            // after the line tells (data lines start with CR or a letter or digit).
            match text_until(window, 1, |c| c == LF) {
                TextRun::NotText => return Scan::None,
                TextRun::Open => None,
                TextRun::End(lf) => {
                    let line = lf.saturating_add(1);
                    match window.get(line).map(|b| b & 0x7F) {
                        None if !ctx.at_end() => return Scan::Incomplete(line.saturating_add(1)),
                        Some(next) if next == CR || next.is_ascii_alphanumeric() => {
                            dsmr_end(window)
                        }
                        _ => Some(line),
                    }
                }
            }
        }
        _ if ctx.named() => match text_until(window, 1, |c| c == LF) {
            TextRun::End(lf) => Some(lf.saturating_add(1)),
            TextRun::NotText => return Scan::None,
            TextRun::Open => None,
        },
        // A DSMR telegram: its identification line must be text before the rest is read.
        _ => match text_until(window, 1, |c| c == LF) {
            TextRun::NotText => return Scan::None,
            _ => dsmr_end(window),
        },
    };
    let Some(end) = end else {
        return if rest.len() < MAX_STREAM_MESSAGE && !ctx.at_end() {
            Scan::Incomplete(rest.len().saturating_add(1))
        } else {
            Scan::None
        };
    };
    if end > rest.len() {
        return Scan::Incomplete(end);
    }
    // A DSMR telegram is one message for the search, its identification line another.
    let frame_len = if first == SLASH && !ctx.named() {
        rest.get(..end)
            .filter(|frame| verified(frame) && has_dsmr_crc(frame))
            .map(|_| end)
    } else {
        stream_frame_len(rest).filter(|&len| len <= end)
    };
    match frame_len {
        Some(len) => Scan::Frame(len),
        None => Scan::None,
    }
}

/// How a run of text characters from a start byte ends.
enum TextRun {
    /// At this offset, a character the caller waits for.
    End(usize),
    /// A byte that is no text character of a message (or breaks the parity).
    NotText,
    /// The window ends first.
    Open,
}

/// Reads `window` from `from` up to the first character `stop` accepts, as long as every
/// character is text (printable, CR, LF or STX) and, when bit 7 is set, has even parity.
fn text_until(window: &[u8], from: usize, stop: impl Fn(u8) -> bool) -> TextRun {
    for (i, &b) in window.iter().enumerate().skip(from) {
        if b >= 0x80 && !even_parity(b) {
            return TextRun::NotText;
        }
        let c = b & 0x7F;
        if stop(c) {
            return TextRun::End(i);
        }
        if !((0x20..0x7F).contains(&c) || matches!(c, CR | LF | STX)) {
            return TextRun::NotText;
        }
    }
    TextRun::Open
}

/// One past the LF that ends the `!` line of a DSMR telegram at the start of `window` (the
/// identification line, data lines, then `!`), if the window holds it.
fn dsmr_end(window: &[u8]) -> Option<usize> {
    let mut line = window
        .iter()
        .position(|b| b & 0x7F == LF)?
        .saturating_add(1);
    loop {
        let lf = window
            .get(line..)?
            .iter()
            .position(|b| b & 0x7F == LF)?
            .saturating_add(line);
        if window.get(line).map(|b| b & 0x7F) == Some(END_MARK) {
            return Some(lf.saturating_add(1));
        }
        line = lf.saturating_add(1);
    }
}

/// Whether a DSMR telegram's `!` is followed by four hex digits (a CRC to verify).
fn has_dsmr_crc(frame: &[u8]) -> bool {
    let Some(mark) = frame.iter().rposition(|b| b & 0x7F == END_MARK) else {
        return false;
    };
    frame
        .get(mark.saturating_add(1)..mark.saturating_add(5))
        .is_some_and(|d| d.iter().all(|b| (b & 0x7F).is_ascii_hexdigit()))
}

/// The length of the message that starts a stream at `rest` and verifies strictly
/// ([`verifies_strictly`]), parity bits allowed; lone ACK and NAK bytes are not cut from a
/// stream (one byte cannot be told from noise).
pub fn stream_frame_len(rest: &[u8]) -> Option<usize> {
    let seven = |i: usize| rest.get(i).map(|b| b & 0x7F);
    let candidate = match seven(0)? {
        SLASH => {
            let lf = rest.iter().position(|b| b & 0x7F == LF)?;
            let line = lf.saturating_add(1);
            // A DSMR telegram (identification line followed by data lines) is preferred
            // over its identification line alone.
            let dsmr = (seven(1) != Some(b'?'))
                .then(|| dsmr_candidate(rest, line))
                .flatten()
                .filter(|n| verified(rest.get(..*n).unwrap_or(&[])));
            dsmr.unwrap_or(line)
        }
        ACK => 6,
        STX | SOH => {
            let from = if seven(0) == Some(SOH) && seven(3) == Some(STX) {
                4
            } else if seven(0) == Some(SOH) {
                3
            } else {
                1
            };
            let end = rest
                .get(from..)?
                .iter()
                .position(|b| matches!(b & 0x7F, ETX | EOT))?;
            from.saturating_add(end).saturating_add(2)
        }
        _ => return None,
    };
    let frame = rest.get(..candidate)?;
    (frame.len() > 1 && verified(frame)).then_some(candidate)
}

/// Whether `frame` strips and verifies strictly.
fn verified(frame: &[u8]) -> bool {
    strip_parity(frame).is_ok_and(|(text, _)| verifies_strictly(&text))
}

/// The length of a DSMR telegram whose identification line ends at `line` (one past LF):
/// through the CR LF after the `!` line, when the bytes after the identification line start
/// like data lines.
fn dsmr_candidate(rest: &[u8], line: usize) -> Option<usize> {
    let next = rest.get(line)? & 0x7F;
    if !(next == CR || next.is_ascii_alphanumeric()) {
        return None;
    }
    let mut i = line;
    loop {
        if rest.get(i)? & 0x7F == END_MARK {
            let lf = rest.get(i..)?.iter().position(|b| b & 0x7F == LF)?;
            return Some(i.saturating_add(lf).saturating_add(1));
        }
        let lf = rest.get(i..)?.iter().position(|b| b & 0x7F == LF)?;
        i = i.saturating_add(lf).saturating_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hex::parse_hex;

    #[test]
    fn bcc_of_the_digest_examples() {
        // I8: P0 (1234567), BCC 'P'; I13: B0, BCC 'q'.
        let i8 = parse_hex("01 50 30 02 28 31 32 33 34 35 36 37 29 03 50").unwrap();
        assert_eq!(bcc(&i8[1..14]), 0x50);
        let i13 = parse_hex("01 42 30 03 71").unwrap();
        assert_eq!(bcc(&i13[1..4]), 0x71);
        assert!(matches!(
            Message::new_checked(&i13).unwrap().layout_ref(),
            Layout::Command {
                block: None,
                bcc_at: 4
            }
        ));
    }

    #[test]
    fn dsmr_crc_is_crc16_arc() {
        // CRC-16/ARC check value of "123456789".
        assert_eq!(DSMR_CRC.checksum(b"123456789"), 0xBB3D);
    }

    #[test]
    fn parity_is_stripped_and_checked() {
        // "/?!" CR LF with 7E1 parity: '/' (0x2F, five ones) carries bit 7.
        let (text, parity) = strip_parity(&[0xAF, 0x3F, 0x21, 0x8D, 0x0A]).unwrap();
        assert!(parity);
        assert_eq!(&text[..], b"/?!\r\n");
        let e = strip_parity(&[0xAF, 0x2F]).unwrap_err();
        assert_eq!((e.kind(), e.offset()), (ErrorKind::Malformed, 1));
        assert_eq!(with_parity(b'/'), 0xAF);
        assert_eq!(with_parity(STX), 0x82);
        assert_eq!(with_parity(ACK), 0x06);
    }

    #[test]
    fn errors_name_kind_and_offset() {
        let cases: &[(&[u8], ErrorKind, usize)] = &[
            (b"", ErrorKind::Empty, 0),
            (b"X", ErrorKind::Start, 0),
            (b"/?!", ErrorKind::Truncated, 3),
            (b"/?1\r\n", ErrorKind::Malformed, 3),
            (b"/?!\r\nX", ErrorKind::Length, 5),
            (b"\x02(1)\x03\x00", ErrorKind::Checksum, 5),
            (b"\x02(1)", ErrorKind::Truncated, 4),
            (b"\x02(1)\x03", ErrorKind::Truncated, 5),
            (b"\x02(1)\x03\x2A\x00", ErrorKind::Length, 6),
            (b"\x01P0X", ErrorKind::Malformed, 3),
            (b"\x060", ErrorKind::Truncated, 2),
            (b"\x06050\r\r", ErrorKind::Malformed, 4),
            (b"\x15\x15", ErrorKind::Length, 1),
            (b"/AB\r\n", ErrorKind::Malformed, 3),
        ];
        for (bytes, kind, offset) in cases {
            let e = Message::new_checked(bytes).unwrap_err();
            assert_eq!(
                (e.kind(), e.offset()),
                (*kind, *offset),
                "{bytes:02X?}: {e}"
            );
        }
    }
}
