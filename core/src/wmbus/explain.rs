//! Explain mode for wM-Bus: every input byte once, with its place in the model. Spans are
//! laid out over the CRC-free telegram, then mapped to input offsets; the bytes left over are
//! the block CRCs of format A or B.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::{link, vendor};
use crate::model::{Decoded, FrameFormat, Span, Tpl};

struct Layout {
    n: usize,
    pos: usize,
    spans: Vec<(usize, usize, String, String)>,
}

impl Layout {
    fn push(&mut self, len: usize, path: &str, label: String) {
        let start = self.pos.min(self.n);
        let end = self.pos.saturating_add(len).min(self.n);
        if end > start {
            self.spans.push((start, end, String::from(path), label));
        }
        self.pos = end;
    }
}

/// The spans of a decoded wM-Bus telegram: `input` is the telegram as given, `free` its
/// CRC-free form.
pub fn spans(input: &[u8], free: &[u8], d: &Decoded) -> Vec<Span> {
    let n = free.len();
    let mut l = Layout {
        n,
        pos: 0,
        spans: Vec::new(),
    };
    let b = |i: usize| free.get(i).copied().unwrap_or(0);
    l.push(1, "link.l", format!("L = {}", b(0)));
    l.push(1, "link.c", format!("C 0x{:02X}", b(1)));
    let dll = if d.wmbus_link().is_some_and(|w| w.dll_address.is_some()) {
        "link.dll_address"
    } else {
        "meter"
    };
    l.push(
        2,
        &format!("{dll}.manufacturer"),
        String::from("manufacturer"),
    );
    l.push(
        4,
        &format!("{dll}.id"),
        String::from("identification number"),
    );
    l.push(1, &format!("{dll}.version"), String::from("version"));
    l.push(1, &format!("{dll}.medium"), String::from("device type"));
    if let Some(w) = d.wmbus_link() {
        if let Some(ell) = &w.ell {
            l.push(
                1,
                "link.ell.ci",
                format!("CI 0x{:02X} extended link layer", ell.ci.0),
            );
            l.push(1, "link.ell.cc", String::from("communication control"));
            l.push(1, "link.ell.access_no", String::from("access number"));
            if matches!(ell.ci.0, 0x8E | 0x8F) {
                l.push(8, "link.ell.address", String::from("second address"));
            }
            if matches!(ell.ci.0, 0x8D | 0x8F) {
                l.push(4, "link.ell.session_number", String::from("session number"));
                if !(d.encrypted && w.ci.is_none()) {
                    l.push(2, "link.ell.payload_crc", String::from("payload CRC"));
                }
            }
        }
        if let Some(afl) = &w.afl {
            let afll = usize::from(b(l.pos.saturating_add(1)));
            l.push(
                1,
                "link.afl",
                String::from("CI 0x90 authentication and fragmentation layer"),
            );
            l.push(1, "link.afl", format!("AFL length {afll}"));
            l.push(2, "link.afl.fcl", String::from("fragmentation control"));
            let rest = afll.saturating_sub(2);
            let _ = afl;
            l.push(rest, "link.afl", String::from("MCL, KI, MCR, MAC, ML"));
        }
        if let Some(ci) = w.ci {
            l.push(1, "link.ci", format!("CI 0x{:02X}", ci.0));
            match w.tpl {
                Some(Tpl::Long) => {
                    l.push(4, "meter.id", String::from("identification number"));
                    l.push(2, "meter.manufacturer", String::from("manufacturer"));
                    l.push(1, "meter.version", String::from("version"));
                    l.push(1, "meter.medium", String::from("device type"));
                }
                Some(Tpl::Short) => {}
                _ => {}
            }
            if matches!(w.tpl, Some(Tpl::Long | Tpl::Short)) {
                l.push(1, "link.access_no", String::from("access number"));
                l.push(1, "meter.status", String::from("status"));
                l.push(2, "link.config", String::from("configuration field"));
            }
            if w.config_ext.is_some() {
                l.push(
                    1,
                    "link.config_ext",
                    String::from("configuration field extension"),
                );
            }
        }
        if w.manufacturer_format.as_deref() == Some(vendor::APATOR_NA1) {
            apator_na1(&mut l, n, d);
        } else if d.encrypted {
            l.push(n, "encrypted_data", String::from("encrypted payload"));
        } else if w.format_signature.is_some() {
            let fill = d
                .records
                .first()
                .and_then(|r| r.raw())
                .map_or(d.trailing_fill, |r| r.fill);
            l.push(usize::from(fill), "records", String::from("idle filler 2F"));
            l.push(2, "link.format_signature", String::from("format signature"));
            l.push(2, "link.data_crc", String::from("full-frame data CRC"));
            for (i, rec) in d.records.iter().enumerate() {
                let len = rec.raw().map_or(0, |r| r.data().len());
                l.push(
                    len,
                    &format!("records[{i}].data"),
                    format!("{} data", rec.quantity()),
                );
            }
        } else {
            for (i, rec) in d.records.iter().enumerate() {
                if let Some(raw) = &rec.raw() {
                    l.push(
                        usize::from(raw.fill),
                        &format!("records[{i}].raw.fill"),
                        String::from("idle filler 2F"),
                    );
                    l.push(
                        raw.bytes().len(),
                        &format!("records[{i}]"),
                        format!("{} record", rec.quantity()),
                    );
                }
            }
            l.push(
                usize::from(d.trailing_fill),
                "trailing_fill",
                String::from("idle filler 2F"),
            );
            if d.manufacturer_data.is_some() && w.ci.is_some_and(|c| !(0xA0..=0xB7).contains(&c.0))
            {
                l.push(
                    1,
                    "manufacturer_data",
                    String::from("DIF 0F/1F manufacturer data follows"),
                );
            }
        }
    }
    if l.pos < n {
        let path = if d.manufacturer_data.is_some() {
            "manufacturer_data"
        } else {
            "application_data"
        };
        l.push(n, path, String::from("application data"));
    }
    map_to_input(
        input.len(),
        d.wmbus_link().map_or(FrameFormat::None, |w| w.frame_format),
        l.spans,
    )
}

/// Maps CRC-free spans to input offsets, splitting them at CRC blocks, and labels the CRCs.
/// The fields of an Apator NA-1 payload (`vendor.rs`).
fn apator_na1(l: &mut Layout, n: usize, d: &Decoded) {
    l.push(1, "link.access_no", String::from("access number"));
    let find = |quantity: &str, storage: u64, label: &str| {
        d.records
            .iter()
            .position(|r| {
                r.quantity() == quantity
                    && r.storage() == Some(storage)
                    && r.label().is_none_or(|l| l.starts_with(label))
            })
            .map_or_else(
                || String::from("manufacturer_data"),
                |i| format!("records[{i}]"),
            )
    };
    l.push(
        1,
        &find("error_flags", 0, "frame"),
        String::from("frame status flags"),
    );
    if d.encrypted {
        l.push(
            n,
            "encrypted_data",
            String::from("AES-128-CBC encrypted payload"),
        );
        return;
    }
    let fields: [(usize, String, &str); 7] = [
        (
            1,
            String::from("manufacturer_data"),
            "check byte 2F (decrypted)",
        ),
        (
            4,
            find("volume", 0, ""),
            "total volume, packed digits and multiplier",
        ),
        (
            4,
            find("datetime", 0, ""),
            "meter clock, seconds since 2000-01-01",
        ),
        (
            2,
            find("stored_value_age", 1, ""),
            "age of the stored reading, h (and delta bits 1-0)",
        ),
        (
            3,
            find("volume", 1, ""),
            "stored reading: distance below the total",
        ),
        (1, find("error_flags", 0, "current"), "current status flags"),
        (1, find("error_flags", 1, "stored"), "stored status flags"),
    ];
    for (len, path, label) in fields {
        l.push(len, &path, String::from(label));
    }
}

fn map_to_input(
    len: usize,
    format: FrameFormat,
    free: Vec<(usize, usize, String, String)>,
) -> Vec<Span> {
    let mut out: Vec<Span> = Vec::with_capacity(free.len().saturating_add(8));
    let mut next = 0usize;
    let emit_gap = |out: &mut Vec<Span>, next: &mut usize, to: usize| {
        if to > *next {
            out.push(Span {
                start: *next,
                end: to,
                path: String::from("link.crc"),
                label: String::from("block CRC (CRC-16/EN-13757)"),
            });
            *next = to;
        }
    };
    for (start, end, path, label) in free {
        let mut s = start;
        while s < end {
            // Extend while the input offsets stay contiguous.
            let is = link::input_offset(format, s);
            let mut e = s.saturating_add(1);
            while e < end && link::input_offset(format, e) == is.saturating_add(e.saturating_sub(s))
            {
                e = e.saturating_add(1);
            }
            emit_gap(&mut out, &mut next, is);
            let ie = is.saturating_add(e.saturating_sub(s));
            out.push(Span {
                start: is,
                end: ie,
                path: path.clone(),
                label: label.clone(),
            });
            next = ie;
            s = e;
        }
    }
    emit_gap(&mut out, &mut next, len);
    out
}
