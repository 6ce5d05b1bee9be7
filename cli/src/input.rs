//! Reading frames from hex arguments and files (hex text or binary), one frame per input or
//! cut from a stream.

use std::io::{self, Read};
use std::path::Path;

use meterwire::{Decoder, Detail, Error, ErrorKind, Layer, Options, Session, StreamItem};

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
            in_stream: false,
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
pub(crate) fn hex_text(data: &[u8]) -> Option<&str> {
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

/// The lines of data of hex text with their 1-based numbers: not blank, not a `#` comment,
/// with a log prefix and a trailing comment taken off ([`frame_text`]).
fn hex_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, line)| (i.saturating_add(1), line.trim()))
        .filter(|(_, line)| !line.is_empty() && !line.starts_with('#'))
        .map(|(number, line)| (number, frame_text(line)))
}

/// The hex of one line of a text capture: after a trailing ` # comment` is cut, the hex tokens that end the line when what comes before them
/// is a log prefix — timestamps (`2026-12-06T10:00:01.250Z`, `10:00:01`), a direction word
/// (`RX`, `TX`, `<-`, `->`, `recv`, `send`), or any text ending in `:`, `>`, `]`, `)` or `|`.
/// Lines that fit none of this are returned whole, so a typo is reported, not skipped.
pub fn frame_text(line: &str) -> &str {
    let body = line.split(" #").next().unwrap_or(line).trim_end();
    let tokens: Vec<(usize, &str)> = body
        .split_whitespace()
        .map(|t| (t.as_ptr() as usize - body.as_ptr() as usize, t))
        .collect();
    let hex_from = tokens
        .iter()
        .rposition(|(_, t)| !hex_token(t))
        .map_or(0, |i| i + 1);
    let (prefix, hex) = tokens.split_at(hex_from);
    match (prefix, hex.first()) {
        (_, None) => line,
        ([], Some(_)) => body,
        (prefix, Some((at, _))) if log_prefix(prefix) => body.get(*at..).unwrap_or(line),
        _ => line,
    }
}

/// A token of frame bytes: even-length hex (`0x` allowed), or 2-digit groups joined by `:` or
/// `-` that are not a clock time (`10:00`, `10:00:01`).
fn hex_token(token: &str) -> bool {
    let plain = token
        .strip_prefix("0x")
        .or_else(|| token.strip_prefix("0X"))
        .unwrap_or(token);
    if plain.len() >= 2 && plain.len() % 2 == 0 && plain.bytes().all(|b| b.is_ascii_hexdigit()) {
        return true;
    }
    let groups: Vec<&str> = token.split([':', '-']).collect();
    let grouped = groups.len() >= 2
        && groups
            .iter()
            .all(|g| g.len() == 2 && g.bytes().all(|b| b.is_ascii_hexdigit()));
    let clock = token.contains(':')
        && groups.len() <= 3
        && groups
            .iter()
            .all(|g| g.parse::<u8>().is_ok_and(|v| v <= 59));
    grouped && !clock
}

/// Whether `tokens` (what precedes a line's hex) read as a log prefix (see [`frame_text`]).
fn log_prefix(tokens: &[(usize, &str)]) -> bool {
    const DIRECTIONS: [&str; 14] = [
        "rx", "tx", "in", "out", "recv", "received", "send", "sent", "<-", "->", "<<", ">>", "<",
        ">",
    ];
    let timestamp = |t: &str| {
        t.bytes().any(|b| b.is_ascii_digit())
            && t.bytes()
                .all(|b| b.is_ascii_digit() || b"-:.,/+TZ[]()".contains(&b))
    };
    let Some((_, last)) = tokens.last() else {
        return false;
    };
    last.ends_with([':', '>', ']', ')', '|'])
        || DIRECTIONS.contains(&last.to_ascii_lowercase().as_str())
        || tokens.iter().all(|(_, t)| timestamp(t))
}

/// A frame decoded from `bytes` in the run's session (compact wM-Bus frames use formats seen earlier).
fn one_frame(bytes: Vec<u8>, origin: String, opts: &Options, session: &mut Session) -> Item {
    let result = session.decode(&bytes, opts).map(Box::new);
    Item::Frame(Frame {
        origin,
        source: Source::Bytes(bytes),
        base: 0,
        in_stream: false,
        result,
    })
}

/// A frame whose hex text could not be read.
pub fn hex_error(text: &str, origin: String, error: Error) -> Item {
    Item::Frame(Frame {
        origin,
        source: Source::Text(text.to_owned()),
        base: 0,
        in_stream: false,
        result: Err(error),
    })
}

/// The frames and garbage of a byte stream, in order.
fn from_stream(bytes: &[u8], origin: &str, opts: &Options) -> Vec<Item> {
    let mut decoder = Decoder::new(opts.clone());
    decoder.feed(bytes);
    decoder.finish();
    decoder
        .take_items()
        .map(|item| stream_item(item, origin))
        .collect()
}

/// One item of a stream as the printer's item.
pub fn stream_item(item: StreamItem, origin: &str) -> Item {
    match item {
        StreamItem::Frame {
            start,
            end,
            bytes,
            result,
        } => Item::Frame(Frame {
            origin: format!("{origin} bytes {start}..{end}"),
            source: Source::Bytes(bytes),
            base: start,
            in_stream: true,
            result,
        }),
        StreamItem::Garbage {
            start,
            end,
            bytes,
            reason,
        } => Item::Garbage(Garbage {
            origin: origin.to_owned(),
            start,
            end,
            bytes,
            reason,
        }),
    }
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

    #[test]
    fn log_prefixes_and_comments_are_skipped() {
        for (line, hex) in [
            ("10 7B 05 80 16", "10 7B 05 80 16"),
            (
                "2026-12-06T10:00:01.250Z TX: 10 7B 05 80 16",
                "10 7B 05 80 16",
            ),
            ("2026-12-06 10:00:01 10 7B 05 80 16", "10 7B 05 80 16"),
            ("[10:00:01] <- 107B058016", "107B058016"),
            ("RX E5", "E5"),
            ("recv 0x10 0x7B", "0x10 0x7B"),
            ("port1| 68:03:03:68", "68:03:03:68"),
            ("E5 # the acknowledgement", "E5"),
        ] {
            assert_eq!(frame_text(line), hex, "{line}");
        }
        // No log prefix: the line stays whole and its error is reported.
        for line in ["hello CAFE", "10 7G", "/?!"] {
            assert_eq!(frame_text(line), line);
        }
        // A clock time is not hex bytes.
        assert!(!hex_token("10:00:01"));
        assert!(hex_token("68:03:03:68"));
    }
}
