//! `meterwire explain`: every byte of one frame with the model field it went to.

use std::fmt::Write as _;

use meterwire::{decode, parse_hex, Error, Options};

/// Prints the annotated byte table of one frame (hex text), or the error with a caret under
/// the offending byte. Returns whether it decoded.
pub fn explain(hex: &str, opts: &Options, out: &mut String) -> bool {
    let opts = opts.clone().with_explain(true);
    let bytes = match parse_hex(hex) {
        Ok(b) => b,
        Err(e) => {
            let _ = writeln!(out, "error: {} at character {}: {e}", e.kind(), e.offset());
            let _ = writeln!(out, "  {hex}");
            let _ = writeln!(out, "  {}^", " ".repeat(e.offset()));
            return false;
        }
    };
    match decode(&bytes, &opts) {
        Ok(d) => {
            let _ = writeln!(
                out,
                "{:>6}  {:<24}  {:<26}  meaning",
                "offset", "bytes", "field"
            );
            spans(out, &bytes, &d, "");
            let mut level = Some(&d);
            let mut prefix = String::new();
            while let Some(d) = level {
                for w in &d.warnings {
                    let _ = writeln!(out, "warning: {prefix}{w}");
                }
                prefix.push_str("payload: ");
                level = d.payload.as_deref();
            }
            true
        }
        Err(e) => {
            error_with_caret(out, &bytes, &e);
            false
        }
    }
}

/// The rows of `d`'s spans; a nested payload's span is followed by the payload's own spans
/// (offsets in the outermost input), their fields prefixed `payload.`.
fn spans(out: &mut String, bytes: &[u8], d: &meterwire::Decoded, prefix: &str) {
    for span in &d.spans {
        if let (Some(inner), "payload") = (&d.payload, span.path.as_str()) {
            let _ = writeln!(
                out,
                "{:>6}  {:<24}  {:<26}  {}",
                span.start,
                "",
                format!("{prefix}payload"),
                span.label
            );
            spans(out, bytes, inner, &format!("{prefix}payload."));
            continue;
        }
        let slice = bytes.get(span.start..span.end).unwrap_or(&[]);
        // Long runs (text, manufacturer data) wrap at 8 bytes per line.
        for (i, chunk) in slice.chunks(8).enumerate() {
            let hex = meterwire::hex::to_hex_spaced(chunk);
            if i == 0 {
                let _ = writeln!(
                    out,
                    "{:>6}  {hex:<24}  {:<26}  {}",
                    span.start,
                    format!("{prefix}{}", span.path),
                    span.label
                );
            } else {
                let _ = writeln!(out, "{:>6}  {hex:<24}", span.start + i * 8);
            }
        }
    }
}

/// `error: <kind> at byte <offset>: <message>` and the frame in rows of 16 with a caret.
fn error_with_caret(out: &mut String, bytes: &[u8], e: &Error) {
    let _ = writeln!(out, "error: {} at byte {}: {e}", e.kind(), e.offset());
    for (row, chunk) in bytes.chunks(16).enumerate() {
        let start = row * 16;
        let _ = writeln!(out, "{start:>6}  {}", meterwire::hex::to_hex_spaced(chunk));
        let at = e.offset();
        if at >= start && at < start + 16 {
            let _ = writeln!(out, "{:>6}  {}^^", "", "   ".repeat(at - start));
        }
    }
    if e.offset() >= bytes.len() {
        let _ = writeln!(out, "{:>6}  (the problem is at the end of the input)", "");
    }
}
