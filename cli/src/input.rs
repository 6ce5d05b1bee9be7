//! Reading frames from hex arguments and files (hex text or binary), one frame per input or
//! cut from a stream.

use std::io::{self, Read};
use std::path::Path;

use meterwire::{Detail, Error, ErrorKind, Layer, Options, Session, StreamItem};

use crate::{Frame, Garbage, Item, Source};

/// The items of one hex argument: one frame, or with `stream` the frames and garbage of the
/// bytes it holds.
pub fn from_hex(
    text: &str,
    origin: &str,
    stream: bool,
    opts: &Options,
    session: &mut Session,
) -> Vec<Item> {
    match meterwire::parse_hex(text) {
        Ok(bytes) if stream => from_stream(&bytes, origin, opts),
        Ok(bytes) => vec![one_frame(bytes, origin.to_owned(), opts, session)],
        Err(error) => vec![hex_error(text, origin.to_owned(), error)],
    }
}

/// The items of a file (`-` is standard input): hex text gives one frame per line, binary
/// content one frame; with `stream` the content is cut into frames and garbage.
pub fn from_file(
    path: &Path,
    stream: bool,
    opts: &Options,
    session: &mut Session,
) -> io::Result<Vec<Item>> {
    let (data, name) = if path.as_os_str() == "-" {
        let mut data = Vec::new();
        io::stdin().lock().read_to_end(&mut data)?;
        (data, "stdin".to_owned())
    } else {
        (std::fs::read(path)?, path.display().to_string())
    };
    let Some(text) = hex_text(&data) else {
        return Ok(if stream {
            from_stream(&data, &name, opts)
        } else {
            vec![one_frame(data, name, opts, session)]
        });
    };
    let mut items = Vec::new();
    let mut joined = Vec::new();
    for (number, line) in hex_lines(text) {
        let origin = format!("{name} line {number}");
        match meterwire::parse_hex(line) {
            Ok(bytes) if stream => joined.extend_from_slice(&bytes),
            Ok(bytes) => items.push(one_frame(bytes, origin, opts, session)),
            Err(error) => items.push(hex_error(line, origin, error)),
        }
    }
    if stream && !joined.is_empty() {
        items.extend(from_stream(&joined, &name, opts));
    } else if items.is_empty() {
        items.push(Item::Frame(Frame {
            origin: name,
            source: Source::Bytes(Vec::new()),
            base: 0,
            result: Err(Error::new(
                ErrorKind::Empty,
                Layer::Input,
                0,
                Detail::Text("the file holds no frame"),
            )),
        }));
    }
    Ok(items)
}

/// `data` as hex text, if it is: UTF-8 with no control characters but line breaks and tabs,
/// and a first line of data (not blank, not a `#` comment) that reads as hex. A file of only
/// comments and blank lines is hex text with no frame; an empty file is binary.
fn hex_text(data: &[u8]) -> Option<&str> {
    if data.is_empty() {
        return None;
    }
    let text = std::str::from_utf8(data).ok()?;
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\t' | '\r' | '\n'))
    {
        return None;
    }
    match hex_lines(text).next() {
        Some((_, line)) if meterwire::parse_hex(line).is_err() => None,
        _ => Some(text),
    }
}

/// The lines of data of hex text with their 1-based numbers: not blank, not a `#` comment.
fn hex_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, line)| (i.saturating_add(1), line.trim()))
        .filter(|(_, line)| !line.is_empty() && !line.starts_with('#'))
}

/// A frame decoded from `bytes` in the run's session (compact wM-Bus frames use formats seen earlier).
fn one_frame(bytes: Vec<u8>, origin: String, opts: &Options, session: &mut Session) -> Item {
    let result = session.decode(&bytes, opts).map(Box::new);
    Item::Frame(Frame {
        origin,
        source: Source::Bytes(bytes),
        base: 0,
        result,
    })
}

/// A frame whose hex text could not be read.
fn hex_error(text: &str, origin: String, error: Error) -> Item {
    Item::Frame(Frame {
        origin,
        source: Source::Text(text.to_owned()),
        base: 0,
        result: Err(error),
    })
}

/// The frames and garbage of a byte stream, in order.
fn from_stream(bytes: &[u8], origin: &str, opts: &Options) -> Vec<Item> {
    meterwire::decode_stream(bytes, opts)
        .into_iter()
        .map(|item| match item {
            StreamItem::Frame { start, end, result } => Item::Frame(Frame {
                origin: format!("{origin} bytes {start}..{end}"),
                source: Source::Bytes(bytes.get(start..end).unwrap_or_default().to_vec()),
                base: start,
                result,
            }),
            StreamItem::Garbage { start, end } => Item::Garbage(Garbage {
                origin: origin.to_owned(),
                start,
                end,
                bytes: bytes.get(start..end).unwrap_or_default().to_vec(),
            }),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_text_detection() {
        assert!(hex_text(b"# frames\n10 7B 05 80 16\n\nE5\n").is_some());
        assert!(hex_text(b"# only a comment\n").is_some());
        assert!(hex_text(b"").is_none());
        assert!(hex_text(&[0x10, 0x7B, 0x05, 0x80, 0x16]).is_none());
        assert!(hex_text(&[0xE5]).is_none());
        // Printable text that is not hex (an IEC 62056-21 sign-on) is binary.
        assert!(hex_text(b"/?!\r\n").is_none());
        // A typo on a later line is reported as a hex error, not read as binary.
        assert!(hex_text(b"E5\n10 7G\n").is_some());
    }

    #[test]
    fn lines_skip_comments_and_blanks() {
        let lines: Vec<_> = hex_lines("# c\n\n  E5 \n#x\n10 7B 05 80 16").collect();
        assert_eq!(lines, [(3, "E5"), (5, "10 7B 05 80 16")]);
    }
}
