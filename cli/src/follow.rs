//! `meterwire decode --follow`: read a growing capture (a file a logger appends to, or a pipe
//! such as `cat /dev/ttyUSB0 |`) and print each frame and garbage span as soon as it is
//! complete, through one stateful [`Decoder`].

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::thread::sleep;
use std::time::{Duration, Instant};

use meterwire::{Decoder, Options};

use crate::input::{frame_text, hex_error, stream_item};
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
        let mode = mode.get_or_insert_with(|| mode_of(bytes));
        let mut items = Vec::new();
        match mode {
            Mode::Binary => decoder.feed(bytes),
            Mode::Text { line, number } => {
                for &b in bytes {
                    if b == b'\n' {
                        *number = number.saturating_add(1);
                        feed_line(&mut decoder, line, *number, &name, &mut items);
                        line.clear();
                    } else {
                        line.push(b);
                    }
                }
            }
        }
        items.extend(decoder.take_items().map(|item| stream_item(item, &name)));
        if !items.is_empty() {
            print(&items)?;
        }
    }
    let mut items = Vec::new();
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

/// Text when the first bytes are printable ASCII and white space (a log of hex lines), else
/// binary.
fn mode_of(first: &[u8]) -> Mode {
    let text = first
        .iter()
        .all(|b| b.is_ascii_graphic() || matches!(b, b' ' | b'\t' | b'\r' | b'\n'));
    if text {
        Mode::Text {
            line: Vec::new(),
            number: 0,
        }
    } else {
        Mode::Binary
    }
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
