//! Hex text in and out.
//!
//! [`parse_hex`] is the lenient reader of design §4: upper or lower case digits, separated or
//! not by spaces, tabs, newlines, `:`, `-`, `,` or `;`, each group optionally prefixed `0x`.
//! A group must hold whole bytes (an even number of digits), so `"6 8"` is refused rather than
//! silently read as `0x68`. Errors carry the offset of the offending character in the text.

use alloc::string::String;
use alloc::vec::Vec;

use crate::error::{Detail, Error, ErrorKind, Layer, Result};

/// The upper-case hex digit of the low four bits of `n`.
pub(crate) fn hex_digit(n: u8) -> char {
    let n = n & 0x0F;
    char::from(if n < 10 {
        b'0'.wrapping_add(n)
    } else {
        b'A'.wrapping_add(n.wrapping_sub(10))
    })
}

fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c.wrapping_sub(b'0')),
        b'a'..=b'f' => Some(c.wrapping_sub(b'a').wrapping_add(10)),
        b'A'..=b'F' => Some(c.wrapping_sub(b'A').wrapping_add(10)),
        _ => None,
    }
}

fn is_separator(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n' | b':' | b'-' | b',' | b';')
}

/// Reads hex text into bytes (see the module docs for what is accepted).
///
/// Errors: [`ErrorKind::Empty`] when the text holds no digit, [`ErrorKind::Hex`] with the
/// offset of a character that is not a digit or separator, or of the last digit of a group
/// with an odd number of digits.
pub fn parse_hex(text: &str) -> Result<Vec<u8>> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len() / 2);
    let mut i = 0usize;
    while let Some(&c) = bytes.get(i) {
        if is_separator(c) {
            i = i.saturating_add(1);
            continue;
        }
        // One group: optional 0x prefix, then digit pairs up to the next separator.
        if c == b'0' && matches!(bytes.get(i.saturating_add(1)), Some(b'x' | b'X')) {
            i = i.saturating_add(2);
        }
        let mut high: Option<(u8, usize)> = None;
        while let Some(&d) = bytes.get(i) {
            if is_separator(d) {
                break;
            }
            let Some(v) = nibble(d) else {
                let found = text.get(i..).and_then(|s| s.chars().next()).unwrap_or('?');
                return Err(Error::new(
                    ErrorKind::Hex,
                    Layer::Input,
                    i,
                    Detail::HexDigit { found },
                ));
            };
            match high.take() {
                None => high = Some((v, i)),
                Some((h, _)) => out.push((h << 4) | v),
            }
            i = i.saturating_add(1);
        }
        if let Some((_, at)) = high {
            return Err(Error::new(
                ErrorKind::Hex,
                Layer::Input,
                at,
                Detail::Text("odd number of hex digits in a group: a byte needs two digits"),
            ));
        }
    }
    if out.is_empty() {
        return Err(Error::new(
            ErrorKind::Empty,
            Layer::Input,
            0,
            Detail::Text("no hex digits in the input"),
        ));
    }
    Ok(out)
}

/// Appends `bytes` as upper-case hex digits without separators.
pub fn push_hex(out: &mut String, bytes: &[u8]) {
    out.reserve(bytes.len().saturating_mul(2));
    for &b in bytes {
        out.push(hex_digit(b >> 4));
        out.push(hex_digit(b));
    }
}

/// `bytes` as upper-case hex digits without separators.
pub fn to_hex(bytes: &[u8]) -> String {
    let mut s = String::new();
    push_hex(&mut s, bytes);
    s
}

/// `bytes` as upper-case hex with one space between bytes (for people).
pub fn to_hex_spaced(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len().saturating_mul(3));
    for (i, &b) in bytes.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        s.push(hex_digit(b >> 4));
        s.push(hex_digit(b));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_every_documented_style() {
        let want = vec![0x68, 0x04, 0x04, 0x68];
        for text in [
            "68040468",
            "68 04 04 68",
            "68:04:04:68",
            "68-04-04-68",
            "0x68 0x04 0x04 0x68",
            "0x68040468",
            "  68\t04\r\n04 68\n",
            "6804 0468",
            "68,04;04,68",
        ] {
            assert_eq!(parse_hex(text).unwrap(), want, "{text:?}");
        }
        assert_eq!(parse_hex("e5").unwrap(), vec![0xE5]);
    }

    #[test]
    fn bad_digit_reports_its_offset() {
        let e = parse_hex("68 0G").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Hex);
        assert_eq!(e.offset(), 4);
        assert_eq!(e.to_string(), "not a hex digit: 'G'");
    }

    #[test]
    fn odd_group_reports_the_lone_digit() {
        // The libmbus file manual_frame1 starts with a single digit "D".
        let e = parse_hex("D 04 04 68").unwrap_err();
        assert_eq!((e.kind(), e.offset()), (ErrorKind::Hex, 0));
        let e = parse_hex("680").unwrap_err();
        assert_eq!((e.kind(), e.offset()), (ErrorKind::Hex, 2));
    }

    #[test]
    fn empty_text_is_empty() {
        assert_eq!(parse_hex("").unwrap_err().kind(), ErrorKind::Empty);
        assert_eq!(parse_hex(" \n:").unwrap_err().kind(), ErrorKind::Empty);
    }

    #[test]
    fn writes_upper_case() {
        assert_eq!(to_hex(&[0x0a, 0xff, 0x00]), "0AFF00");
        assert_eq!(to_hex_spaced(&[0x68, 0x16]), "68 16");
    }
}
