//! The `table` format: what a field engineer reads at a glance.

use std::fmt::Write as _;

use meterwire::hex::to_hex_spaced;
use meterwire::model::Cjt188Direction;
use meterwire::{Cjt188Link, Decoded, Error, MbusLink, Record, Value};
use serde::Serialize;

use crate::{Frame, Garbage, Source};

/// Bytes per row of a hex dump.
const ROW: usize = 16;

/// Garbage bytes shown before the rest is only counted.
const GARBAGE_SHOWN: usize = 32;

/// Writes frame number `number`: its decoding, or its error with a caret under the byte.
pub fn frame(out: &mut String, number: usize, frame: &Frame) {
    let _ = write!(out, "frame {number} ({}", frame.origin);
    if let Source::Bytes(bytes) = &frame.source {
        let len = bytes.len();
        let _ = write!(out, ", {len} byte{}", if len == 1 { "" } else { "s" });
    }
    out.push_str("): ");
    match &frame.result {
        Ok(decoded) => self::decoded(out, decoded, ""),
        Err(error) => self::error(out, error, frame),
    }
}

/// Writes bytes between frames of a stream.
pub fn garbage(out: &mut String, garbage: &Garbage) {
    let len = garbage.bytes.len();
    let _ = write!(
        out,
        "garbage ({} bytes {}..{}, {len} byte{}, {}): {}",
        garbage.origin,
        garbage.start,
        garbage.end,
        if len == 1 { "" } else { "s" },
        garbage.reason,
        to_hex_spaced(garbage.bytes.get(..GARBAGE_SHOWN).unwrap_or(&garbage.bytes))
    );
    if len > GARBAGE_SHOWN {
        out.push_str(" ...");
    }
    out.push('\n');
}

/// Writes `error: <kind> at byte <offset>: <message>` and the input with a caret line.
fn error(out: &mut String, error: &Error, frame: &Frame) {
    let _ = writeln!(
        out,
        "error: {} at byte {}: {error}",
        error.kind(),
        error.offset()
    );
    let local = error.offset().saturating_sub(frame.base);
    match &frame.source {
        Source::Text(text) => {
            let shown: String = text
                .chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect();
            let column = text.get(..local).map_or(0, |t| t.chars().count());
            let _ = writeln!(out, "  {shown}");
            let _ = writeln!(out, "  {}^", " ".repeat(column));
        }
        Source::Bytes(bytes) => {
            // Rows of 16 bytes, prefixed with the decimal offset of their first byte in the
            // input (or stream), as in the message; the caret goes under the offending byte,
            // or just past the end for a truncated frame.
            let rows = bytes.len().div_ceil(ROW).max(local / ROW + 1);
            let width = (frame.base + rows * ROW).to_string().len().max(2);
            for row in 0..rows {
                let first = row * ROW;
                let chunk = bytes
                    .get(first..bytes.len().min(first + ROW))
                    .unwrap_or_default();
                let start = frame.base + first;
                let line = format!("  {start:>width$}  {}", to_hex_spaced(chunk));
                let _ = writeln!(out, "{}", line.trim_end());
                if local / ROW == row {
                    let pad = 4 + width + (local % ROW) * 3;
                    let _ = writeln!(out, "{}^^", " ".repeat(pad));
                }
            }
        }
    }
}

/// Writes a decoded frame; `indent` prefixes every line after the first (nested payloads).
fn decoded(out: &mut String, d: &Decoded, indent: &str) {
    let _ = writeln!(out, "{}", header(d));
    if let Some(line) = identity(d) {
        let _ = writeln!(out, "{indent}{line}");
    }
    if !d.records.is_empty() {
        records(out, &d.records, &format!("{indent}  "));
    } else if d.meter.is_some() {
        let _ = writeln!(out, "{indent}no records");
    }
    for warning in &d.warnings {
        let _ = writeln!(out, "{indent}warning: {warning}");
    }
    if let Some(data) = &d.manufacturer_data {
        let _ = writeln!(
            out,
            "{indent}manufacturer data ({} bytes): {}",
            data.len(),
            to_hex_spaced(data.as_slice())
        );
    }
    if d.more_records_follow {
        let _ = writeln!(out, "{indent}more records follow (request again)");
    }
    if let Some(e) = &d.application_error {
        let _ = write!(
            out,
            "{indent}application error: {} (code 0x{:02X})",
            e.name, e.code
        );
        if !e.detail.is_empty() {
            let _ = write!(out, ", detail {}", to_hex_spaced(e.detail.as_slice()));
        }
        out.push('\n');
    }
    if let Some(alarm) = d.alarm {
        let _ = writeln!(out, "{indent}alarm: 0x{alarm:02X}");
    }
    if let Some(data) = &d.application_data {
        let _ = writeln!(
            out,
            "{indent}application data, not decoded ({} bytes): {}",
            data.len(),
            to_hex_spaced(data.as_slice())
        );
    }
    if d.encrypted {
        let len = d.encrypted_data.as_ref().map_or(0, |b| b.len());
        let _ = writeln!(out, "{indent}encrypted: {len} bytes not decrypted (no key)");
    }
    if let Some(payload) = &d.payload {
        let nested = format!("{indent}  ");
        let _ = write!(out, "{indent}payload: ");
        decoded(out, payload, &nested);
    }
}

/// The header line: protocol, link kind and function, then address, CI and the other link
/// fields as `key=value`.
fn header(d: &Decoded) -> String {
    let mut line = d.protocol.as_str().to_owned();
    let fields = match d.mbus_link() {
        Some(link) => {
            line.push(' ');
            line.push_str(&name(&link.kind));
            if let Some(function) = &link.function {
                line.push(' ');
                line.push_str(&name(function));
            }
            mbus_fields(link)
        }
        None if d.cjt188_link().is_some() => d.cjt188_link().map_or_else(Vec::new, |link| {
            if let Some(function) = &link.function {
                line.push(' ');
                line.push_str(&name(function));
            }
            line.push_str(match (link.direction, link.exception) {
                (Cjt188Direction::MasterToSlave, _) => " request",
                (Cjt188Direction::SlaveToMaster, false) => " reply",
                (Cjt188Direction::SlaveToMaster, true) => " exception reply",
            });
            cjt188_fields(link)
        }),
        // Protocols without a curated line: their link fields as key=value.
        None => match serde_json::to_value(&d.link) {
            Ok(serde_json::Value::Object(map)) => map
                .iter()
                .map(|(key, value)| format!("{key}={}", plain(value)))
                .collect(),
            _ => Vec::new(),
        },
    };
    for field in fields {
        line.push_str("  ");
        line.push_str(&field);
    }
    line
}

/// The CJ/T 188 link fields after function and direction, most telling first.
fn cjt188_fields(link: &Cjt188Link) -> Vec<String> {
    let mut parts = vec![
        format!("address={}", link.address),
        format!("meter_type={}", link.meter_type),
    ];
    if let Some(c) = link.control {
        parts.push(format!("control={c}"));
    }
    if let Some(di) = link.di {
        let order = link
            .di_order
            .map_or_else(String::new, |o| format!(" ({})", name(&o)));
        parts.push(format!("di={di}{order}"));
    }
    if let Some(ser) = link.ser {
        parts.push(format!("ser={ser}"));
    }
    parts.push(format!("length={}", link.length));
    parts.push(format!("preamble_len={}", link.preamble_len));
    parts
}

/// The wired M-Bus link fields after kind and function, most telling first.
fn mbus_fields(link: &MbusLink) -> Vec<String> {
    let mut parts = Vec::new();
    if let Some(a) = link.a {
        parts.push(format!("a={a}"));
    }
    if let Some(c) = link.c {
        parts.push(format!("c={c}"));
    }
    if let Some(ci) = link.ci {
        let mut text = format!("ci={ci}");
        if let Some(tpl) = &link.tpl {
            let _ = write!(text, " ({} header)", name(tpl));
        }
        parts.push(text);
    }
    if let Some(config) = link.config {
        parts.push(format!("config={config}"));
    }
    if let Some(order) = &link.byte_order {
        parts.push(order.to_string());
    }
    for (label, bit) in [
        ("fcb", link.fcb),
        ("fcv", link.fcv),
        ("acd", link.acd),
        ("dfc", link.dfc),
    ] {
        if let Some(bit) = bit {
            parts.push(format!("{label}={}", u8::from(bit)));
        }
    }
    parts
}

/// The meter identity and status line, when the frame has either.
fn identity(d: &Decoded) -> Option<String> {
    let mut parts = Vec::new();
    if let Some(m) = &d.meter {
        parts.push(format!("meter {}", m.id));
        match (&m.manufacturer, m.manufacturer_code) {
            (Some(letters), _) => parts.push(format!("manufacturer {letters}")),
            (None, Some(code)) => parts.push(format!("manufacturer {code}")),
            (None, None) => {}
        }
        if let Some(v) = m.version {
            parts.push(format!("version {v}"));
        }
        match (&m.medium, m.medium_code) {
            (Some(medium), Some(code)) => parts.push(format!("medium {medium} ({code})")),
            (Some(medium), None) => parts.push(format!("medium {medium}")),
            (None, Some(code)) => parts.push(format!("medium {code}")),
            (None, None) => {}
        }
        if let Some(a) = m.access_no {
            parts.push(format!("access_no {a}"));
        }
    }
    let raw = d
        .status
        .map(|s| s.raw)
        .or_else(|| d.meter.as_ref().and_then(|m| m.status).map(u32::from));
    if let Some(raw) = raw {
        let mut text = format!("status 0x{raw:02X}");
        if let Some(status) = &d.status {
            let flags: Vec<&str> = status.flags.iter().map(|f| f.as_str()).collect();
            let _ = write!(
                text,
                " ({})",
                if flags.is_empty() {
                    "ok".to_owned()
                } else {
                    flags.join(" ")
                }
            );
        }
        parts.push(text);
    }
    (!parts.is_empty()).then(|| parts.join("  "))
}

/// The records as an aligned table.
fn records(out: &mut String, records: &[Record], indent: &str) {
    const HEAD: [&str; 9] = [
        "#", "quantity", "value", "unit", "storage", "tariff", "subunit", "function", "notes",
    ];
    let rows: Vec<[String; 9]> = records
        .iter()
        .enumerate()
        .map(|(i, r)| {
            [
                i.to_string(),
                r.quantity().to_string(),
                r.value().map_or_else(|| "-".to_owned(), value),
                r.unit()
                    .or(r.unit_text())
                    .map(str::to_owned)
                    .unwrap_or_else(|| "-".to_owned()),
                opt(r.storage()),
                opt(r.tariff()),
                opt(r.subunit()),
                r.function().as_ref().map_or_else(|| "-".to_owned(), name),
                notes(r),
            ]
        })
        .collect();
    let mut widths = HEAD.map(|h| h.chars().count());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let head = HEAD.map(str::to_owned);
    for row in std::iter::once(&head).chain(&rows) {
        let mut line = indent.to_owned();
        for (col, (cell, width)) in row.iter().zip(widths).enumerate() {
            if col > 0 {
                line.push_str("  ");
            }
            let pad = width.saturating_sub(cell.chars().count());
            // The index is right-aligned, the other columns left-aligned.
            if col == 0 {
                line.push_str(&" ".repeat(pad));
                line.push_str(cell);
            } else {
                line.push_str(cell);
                line.push_str(&" ".repeat(pad));
            }
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
}

/// The notes of a record: label, modifiers, record error, action, date flags, address.
fn notes(r: &Record) -> String {
    let mut notes: Vec<String> = Vec::new();
    if let Some(label) = &r.label() {
        notes.push(label.to_string());
    }
    notes.extend(r.modifiers().iter().map(|m| m.to_string()));
    if let Some(e) = &r.record_error() {
        notes.push(format!("record_error={e}"));
    }
    if let Some(a) = &r.action() {
        notes.push(format!("action={a}"));
    }
    if r.invalid() {
        notes.push("invalid".to_owned());
    }
    if r.dst() {
        notes.push("dst".to_owned());
    }
    if let Some(address) = &r.address() {
        if let Ok(v) = serde_json::to_value(address) {
            notes.push(format!("address={}", plain(&v)));
        }
    }
    notes.join(" ")
}

/// A record's value as people read it: exact decimals, ISO dates, text, hex bytes.
pub fn value(v: &Value) -> String {
    match v {
        Value::Number(d) => d.to_string(),
        Value::Time(t) => t.to_string(),
        Value::Text(t) => t.clone(),
        Value::Bytes(b) => meterwire::hex::to_hex(b.as_slice()),
    }
}

/// An optional number, `-` when absent.
fn opt<T: ToString>(v: Option<T>) -> String {
    v.map_or_else(|| "-".to_owned(), |v| v.to_string())
}

/// The JSON name of a model enum (`RSP_UD`, `long`, `instantaneous`).
pub fn name<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

/// A JSON value without the quotes of a string.
fn plain(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
