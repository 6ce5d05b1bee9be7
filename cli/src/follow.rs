//! `meterwire decode --follow`: read a growing capture (a file a logger appends to, or a pipe
//! such as `cat /dev/ttyUSB0 |`) and print each frame and garbage span as soon as it is
//! complete, through one stateful [`Decoder`].

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::thread::sleep;
use std::time::{Duration, Instant};

use meterwire::{Decoder, Options};

use crate::input::{frame_text, hex_error, hex_text, stream_item};
use crate::Item;

/// How often a regular file is polled for new bytes.
const POLL: Duration = Duration::from_millis(100);

/// How the bytes of the capture are read.
enum Mode {
    /// Raw bytes, fed as they come.
    Binary,
    /// Hex text, one frame (or piece of stream) per line; the unfinished last line.
    Text { line: Vec<u8>, number: usize },
}

/// Follows `path` (`-` is standard input) until its end: the end of a pipe, or for a regular
/// file `idle` without new bytes (never when `None`). Calls `print` with the items each read
/// completed (the caller prints and flushes them).
pub fn follow(
    path: &Path,
    opts: &Options,
    idle: Option<Duration>,
    print: &mut dyn FnMut(&[Item]) -> io::Result<()>,
) -> io::Result<()> {
    let (mut reader, name, regular): (Box<dyn Read>, String, bool) = if path.as_os_str() == "-" {
        (Box::new(io::stdin()), "stdin".to_owned(), false)
    } else {
        let file = File::open(path)?;
        let regular = file.metadata()?.is_file();
        (Box::new(file), path.display().to_string(), regular)
    };
    let mut decoder = Decoder::new(opts.clone());
    let mut mode: Option<Mode> = None;
    // The first bytes, kept until they tell text from binary.
    let mut first: Vec<u8> = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    let mut last_bytes = Instant::now();
    loop {
        let n = match reader.read(&mut chunk) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let Some(bytes) = chunk.get(..n).filter(|b| !b.is_empty()) else {
            if !regular || idle.is_some_and(|d| last_bytes.elapsed() >= d) {
                break;
            }
            sleep(POLL);
            continue;
        };
        last_bytes = Instant::now();
        let opening;
        let bytes = if mode.is_none() {
            first.extend_from_slice(bytes);
            let Some(decided) = mode_of(&first, false) else {
                continue;
            };
            mode = Some(decided);
            opening = core::mem::take(&mut first);
            opening.as_slice()
        } else {
            bytes
        };
        let Some(mode) = mode.as_mut() else {
            continue;
        };
        let mut items = Vec::new();
        mode.feed(&mut decoder, bytes, &name, &mut items);
        items.extend(decoder.take_items().map(|item| stream_item(item, &name)));
        if !items.is_empty() {
            print(&items)?;
        }
    }
    let mut items = Vec::new();
    if mode.is_none() && !first.is_empty() {
        // The input ended before the first bytes decided: they decide now.
        let mut decided = mode_of(&first, true).unwrap_or(Mode::Binary);
        decided.feed(&mut decoder, &first, &name, &mut items);
        mode = Some(decided);
    }
    if let Some(Mode::Text { line, number }) = &mut mode {
        feed_line(
            &mut decoder,
            line,
            number.saturating_add(1),
            &name,
            &mut items,
        );
    }
    decoder.finish();
    items.extend(decoder.take_items().map(|item| stream_item(item, &name)));
    print(&items)
}

impl Mode {
    /// Feeds `bytes` to the decoder: as they are, or line by line as hex text (the
    /// unfinished last line is kept).
    fn feed(&mut self, decoder: &mut Decoder, bytes: &[u8], name: &str, items: &mut Vec<Item>) {
        match self {
            Mode::Binary => decoder.feed(bytes),
            Mode::Text { line, number } => {
                for &b in bytes {
                    if b == b'\n' {
                        *number = number.saturating_add(1);
                        feed_line(decoder, line, *number, name, items);
                        line.clear();
                    } else {
                        line.push(b);
                    }
                }
            }
        }
    }
}

/// How to read a capture that begins with `first`, by the rule a whole file is read by
/// ([`hex_text`]): text when its first line of data reads as hex, else binary (an
/// IEC 62056-21 session is printable but no hex). `None` while undecided: no whole line of
/// data yet, no byte that text never holds, and less than 4 KiB (`at_end`: decide now).
fn mode_of(first: &[u8], at_end: bool) -> Option<Mode> {
    let text = Mode::Text {
        line: Vec::new(),
        number: 0,
    };
    if first
        .iter()
        .any(|b| (b.is_ascii_control() && !matches!(b, b'\t' | b'\r' | b'\n')) || *b == 0x7F)
    {
        return Some(Mode::Binary);
    }
    // Up to the end of the first line of data (not blank, not a `#` comment).
    let mut start = 0;
    let mut decided_by = None;
    while let Some(at) = first
        .get(start..)
        .and_then(|rest| rest.iter().position(|b| *b == b'\n'))
    {
        let end = start.saturating_add(at).saturating_add(1);
        let line = String::from_utf8_lossy(first.get(start..end).unwrap_or(&[])).into_owned();
        let line = line.trim();
        if !line.is_empty() && !line.starts_with('#') {
            decided_by = Some(end);
            break;
        }
        start = end;
    }
    let part = match decided_by {
        Some(end) => first.get(..end).unwrap_or(first),
        None if at_end || first.len() >= 4096 => first,
        None => return None,
    };
    Some(if hex_text(part).is_some() {
        text
    } else {
        Mode::Binary
    })
}

/// Feeds the frame bytes of one text line; a line that is not hex becomes an error item.
fn feed_line(decoder: &mut Decoder, line: &[u8], number: usize, name: &str, items: &mut Vec<Item>) {
    let text = String::from_utf8_lossy(line);
    let text = text.trim();
    if text.is_empty() || text.starts_with('#') {
        return;
    }
    let hex = frame_text(text);
    match meterwire::parse_hex(hex) {
        Ok(bytes) => decoder.feed(&bytes),
        Err(error) => {
            // Items finished before this line come first.
            items.extend(decoder.take_items().map(|item| stream_item(item, name)));
            items.push(hex_error(hex, format!("{name} line {number}"), error));
        }
    }
}
