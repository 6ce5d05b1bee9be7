//! Explain mode for wired M-Bus: one [`Span`] per field, covering every input byte exactly
//! once, with the path of the model key it went to and a label for people.
//!
//! The spans are computed after decoding by walking the frame with the lengths the model
//! keeps (`raw` of each record, header layout by CI), so the decoder's hot path pays nothing
//! when explain mode is off.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::app::{fixed, long_header};
use super::link::field;
use crate::explain::{status_label, Spans};
use crate::model::{Decoded, MbusFrameKind, Record, Span, Tpl, Value};

fn hex_bytes(bytes: &[u8]) -> String {
    crate::hex::to_hex_spaced(bytes)
}

fn data_field_name(df: u8) -> &'static str {
    match df & 0x0F {
        0x0 => "no data",
        0x1 => "8-bit integer",
        0x2 => "16-bit integer",
        0x3 => "24-bit integer",
        0x4 => "32-bit integer",
        0x5 => "32-bit real",
        0x6 => "48-bit integer",
        0x7 => "64-bit integer",
        0x8 => "selection for readout",
        0x9 => "2-digit BCD",
        0xA => "4-digit BCD",
        0xB => "6-digit BCD",
        0xC => "8-digit BCD",
        0xD => "variable length",
        0xE => "12-digit BCD",
        _ => "special function",
    }
}

fn value_text(rec: &Record) -> String {
    let mut text = match &rec.value() {
        Some(Value::Number(d)) => d.to_string(),
        Some(Value::Time(t)) => t.to_string(),
        Some(Value::Text(t)) => format!("\"{t}\""),
        Some(Value::Bytes(b)) => hex_bytes(b.as_slice()),
        None if rec.invalid() => "invalid (not a number)".to_string(),
        None => "no value".to_string(),
    };
    if let Some(unit) = rec.unit().or(rec.unit_text()) {
        text.push(' ');
        text.push_str(unit);
    }
    text
}

fn record_spans(s: &mut Spans, d: &Decoded) {
    for (i, rec) in d.records.iter().enumerate() {
        let Some(raw) = &rec.raw() else { continue };
        if raw.fill > 0 {
            s.add(
                usize::from(raw.fill),
                format!("records[{i}].raw.fill"),
                "idle filler 2F",
            );
        }
        let dif = raw.dif();
        if let Some(&first) = dif.first() {
            let label = if first == 0x7F {
                "DIF 7F: global readout request".to_string()
            } else {
                format!(
                    "DIF {}: {}, {}, storage {}, tariff {}, subunit {}",
                    hex_bytes(dif),
                    data_field_name(first),
                    rec.function().map_or("-", |f| f.as_str()),
                    rec.storage().unwrap_or(0),
                    rec.tariff().unwrap_or(0),
                    rec.subunit().unwrap_or(0)
                )
            };
            s.add(dif.len(), format!("records[{i}].raw.dif"), label);
        }
        let vif = raw.vif();
        if !vif.is_empty() {
            let mut label = format!("VIF {}: {}", hex_bytes(vif), rec.quantity());
            if let Some(unit) = rec.unit() {
                label.push_str(&format!(" in {unit}"));
            }
            if let Some(text) = &rec.unit_text() {
                label.push_str(&format!(", unit text \"{text}\""));
            }
            for m in rec.modifiers() {
                label.push_str(&format!(", {m}"));
            }
            s.add(vif.len(), format!("records[{i}].raw.vif"), label);
        }
        if !raw.data().is_empty() {
            s.add(
                raw.data().len(),
                format!("records[{i}].value"),
                value_text(rec),
            );
        }
    }
    if d.trailing_fill > 0 {
        s.add(
            usize::from(d.trailing_fill),
            "trailing_fill",
            "idle fillers 2F",
        );
    }
    if let Some(m) = &d.manufacturer_data {
        let dif = if d.more_records_follow { "1F" } else { "0F" };
        s.add(
            1,
            "manufacturer_data",
            format!("DIF {dif}: manufacturer-specific data follows"),
        );
        s.add(m.len(), "manufacturer_data", "manufacturer-specific data");
    } else if d.more_records_follow {
        s.add(
            1,
            "more_records_follow",
            "DIF 1F: more records follow in the next telegram",
        );
    }
}

fn header_spans(s: &mut Spans, d: &Decoded, tpl: Option<Tpl>) {
    let meter = d.meter.as_ref();
    let link = d.mbus_link();
    let config = link
        .and_then(|l| l.config)
        .map(|c| c.to_string())
        .unwrap_or_default();
    match tpl {
        Some(Tpl::Long) | Some(Tpl::None)
            if meter.is_some_and(|m| m.manufacturer_code.is_some()) =>
        {
            let m = meter.cloned().unwrap_or_default();
            s.add(
                4,
                "meter.id",
                format!("identification number {} (BCD, LSB first)", m.id),
            );
            s.add(
                2,
                "meter.manufacturer",
                format!(
                    "manufacturer {} ({})",
                    m.manufacturer
                        .as_ref()
                        .map_or("any".to_string(), |x| x.to_string()),
                    m.manufacturer_code
                        .map(|c| c.to_string())
                        .unwrap_or_default()
                ),
            );
            s.add(
                1,
                "meter.version",
                format!(
                    "version {}",
                    m.version.map_or("any".to_string(), |v| v.to_string())
                ),
            );
            s.add(
                1,
                "meter.medium",
                format!("medium {}", m.medium.as_deref().unwrap_or("any")),
            );
            if tpl == Some(Tpl::Long) {
                s.add(
                    1,
                    "meter.access_no",
                    format!("access number {}", m.access_no.unwrap_or(0)),
                );
                s.add(1, "meter.status", status_label(d, "status", 2));
                s.add(2, "link.config", format!("configuration field {config}"));
            }
            debug_assert_eq!(long_header::LEN, 12);
        }
        Some(Tpl::Short) => {
            let access = meter.and_then(|m| m.access_no).unwrap_or(0);
            s.add(1, "meter.access_no", format!("access number {access}"));
            s.add(1, "meter.status", status_label(d, "status", 2));
            s.add(2, "link.config", format!("configuration field {config}"));
        }
        Some(Tpl::Fixed) => {
            let m = meter.cloned().unwrap_or_default();
            s.add(
                4,
                "meter.id",
                format!("identification number {} (BCD)", m.id),
            );
            s.add(
                1,
                "meter.access_no",
                format!("access number {}", m.access_no.unwrap_or(0)),
            );
            s.add(1, "meter.status", status_label(d, "status", 2));
            s.add(1, "meter.medium", "medium bits 1-0 and counter 1 unit");
            s.add(
                1,
                "meter.medium",
                format!(
                    "medium bits 3-2 and counter 2 unit: {}",
                    m.medium.as_deref().unwrap_or("")
                ),
            );
            for (i, rec) in d.records.iter().enumerate().take(2) {
                s.add(
                    4,
                    format!("records[{i}].value"),
                    format!("counter {}: {}", i.saturating_add(1), value_text(rec)),
                );
            }
            debug_assert_eq!(fixed::LEN, 16);
        }
        _ => {}
    }
}

/// The spans of one decoded wired M-Bus frame.
pub fn spans(bytes: &[u8], d: &Decoded) -> Vec<Span> {
    let mut s = Spans::new(0, bytes.len());
    let Some(link) = d.mbus_link() else {
        return s.spans;
    };
    let c_label = || {
        let c = link.c.map(|c| c.to_string()).unwrap_or_default();
        let function = link.function.map_or("unknown function", |f| f.as_str());
        let bits = match (link.fcb, link.fcv, link.acd, link.dfc) {
            (Some(fcb), Some(fcv), _, _) => format!("FCB {}, FCV {}", u8::from(fcb), u8::from(fcv)),
            (_, _, Some(acd), Some(dfc)) => format!("ACD {}, DFC {}", u8::from(acd), u8::from(dfc)),
            _ => String::new(),
        };
        format!("C {c}: {function} ({bits})")
    };
    match link.kind {
        MbusFrameKind::Ack => s.add(1, "link.kind", "E5: acknowledgement"),
        MbusFrameKind::Short => {
            s.add(1, "link.kind", "start 0x10: short frame");
            s.add(1, "link.c", c_label());
            s.add(
                1,
                "link.a",
                format!("primary address {}", link.a.unwrap_or(0)),
            );
            s.add(1, "link.checksum", "checksum (sum of C and A)");
            s.add(1, "link.stop", "stop 0x16");
        }
        MbusFrameKind::Control | MbusFrameKind::Long => {
            let l = bytes.get(field::L1).copied().unwrap_or(0);
            s.add(
                1,
                "link.kind",
                format!("start 0x68: {} frame", link.kind.as_str()),
            );
            s.add(
                1,
                "link.l",
                format!("L = {l}: bytes from C to the end of the data"),
            );
            s.add(1, "link.l", "L repeated");
            s.add(1, "link.kind", "second start 0x68");
            s.add(1, "link.c", c_label());
            s.add(
                1,
                "link.a",
                format!("primary address {}", link.a.unwrap_or(0)),
            );
            let ci = link.ci.map(|c| c.to_string()).unwrap_or_default();
            let header = link.tpl.map_or("no header".to_string(), |t| {
                format!("{} header", t.as_str())
            });
            s.add(1, "link.ci", format!("CI {ci}: {header}"));
            let user_end = bytes.len().saturating_sub(2);
            header_spans(&mut s, d, link.tpl);
            if d.encrypted {
                let n = user_end.saturating_sub(s.pos);
                s.add(n, "encrypted_data", "encrypted payload (no key)");
            } else if let Some(e) = &d.application_error {
                s.add(
                    1,
                    "application_error.code",
                    format!("application error {}: {}", e.code, e.name),
                );
                s.add(e.detail.len(), "application_error.detail", "error detail");
            } else if let Some(alarm) = d.alarm {
                s.add(1, "alarm", format!("alarm 0x{alarm:02X}"));
            }
            if link.tpl != Some(Tpl::Fixed) {
                record_spans(&mut s, d);
            }
            let rest = user_end.saturating_sub(s.pos);
            if rest > 0 {
                let path = if d.manufacturer_data.is_some() && d.records.is_empty() {
                    "manufacturer_data"
                } else {
                    "application_data"
                };
                s.add(rest, path, "application data");
            }
            s.add(1, "link.checksum", "checksum (sum of C … data)");
            s.add(1, "link.stop", "stop 0x16");
        }
    }
    s.spans
}

#[cfg(test)]
mod tests {
    use crate::hex::parse_hex;
    use crate::{decode, Options};

    fn covered(hex: &str) {
        let bytes = parse_hex(hex).unwrap();
        let d = decode(&bytes, &Options::default().with_explain(true)).unwrap();
        let mut next = 0;
        for span in &d.spans {
            assert_eq!(
                span.start, next,
                "{hex}: gap or overlap at {next}: {:?}",
                d.spans
            );
            assert!(span.end > span.start);
            next = span.end;
        }
        assert_eq!(next, bytes.len(), "{hex}: spans stop at {next}");
    }

    #[test]
    fn every_byte_once() {
        covered("E5");
        covered("10 7B 05 80 16");
        covered("68 03 03 68 53 01 50 A4 16");
        covered("68 15 15 68 08 05 72 78 56 34 12 2D 2C 01 07 2A 00 00 00 0C 13 67 45 23 01 0D 16");
        covered("68 0B 0B 68 53 FD 52 78 56 34 12 FF FF FF FF B2 16");
    }

    #[test]
    fn labels_say_what_bytes_are() {
        let bytes = parse_hex(
            "68 15 15 68 08 05 72 78 56 34 12 2D 2C 01 07 2A 00 00 00 0C 13 67 45 23 01 0D 16",
        )
        .unwrap();
        let d = decode(&bytes, &Options::default().with_explain(true)).unwrap();
        let value = d
            .spans
            .iter()
            .find(|s| s.path == "records[0].value")
            .unwrap();
        assert_eq!((value.start, value.end), (21, 25));
        assert_eq!(value.label, "1234.567 m3");
        let id = d.spans.iter().find(|s| s.path == "meter.id").unwrap();
        assert_eq!((id.start, id.end), (7, 11));
    }
}
