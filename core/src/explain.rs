//! The span builder shared by every protocol's explain mode: a cursor that hands out
//! consecutive byte ranges, so the spans cover each byte once by construction.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::model::{Decoded, Span};

/// Consecutive spans from `pos`, clipped to `end`.
pub(crate) struct Spans {
    pub(crate) spans: Vec<Span>,
    pub(crate) pos: usize,
    pub(crate) end: usize,
}

impl Spans {
    /// A builder for a frame of `end` bytes starting at `pos`.
    pub(crate) fn new(pos: usize, end: usize) -> Self {
        Spans {
            spans: Vec::new(),
            pos,
            end,
        }
    }

    /// Adds `len` bytes at the cursor (clipped to `end`).
    pub(crate) fn add(&mut self, len: usize, path: impl Into<String>, label: impl Into<String>) {
        let start = self.pos;
        let end = start.saturating_add(len).min(self.end);
        if end > start {
            self.spans.push(Span {
                start,
                end,
                path: path.into(),
                label: label.into(),
            });
        }
        self.pos = end;
    }
}

/// The label of a status field: `name`, its raw value in `digits` hex digits and the flags it
/// sets (`no error` when none), or just `name` when the model has no status.
pub(crate) fn status_label(d: &Decoded, name: &str, digits: usize) -> String {
    match &d.status {
        Some(st) if st.flags.is_empty() => {
            format!("{name} 0x{:0digits$X}: no error", st.raw)
        }
        Some(st) => {
            let flags: Vec<&str> = st.flags.iter().map(|f| f.as_str()).collect();
            format!("{name} 0x{:0digits$X}: {}", st.raw, flags.join(", "))
        }
        None => String::from(name),
    }
}
