//! Explain mode for CJ/T 188: one [`Span`] per field, covering every input byte exactly once,
//! with the path of the model key it went to and a label for people.
//!
//! The spans are computed after decoding by walking the frame along the same layout the
//! decoder used ([`app::layout`]) with the records the model keeps, so decoding pays nothing
//! when explain mode is off.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::app::{self, Kind};
use super::link::{self, field};
use crate::explain::{status_label, Spans};
use crate::model::{Cjt188Direction, Decoded, Record, Span, Value};

fn value_text(rec: &Record) -> String {
    let mut text = match &rec.value() {
        Some(Value::Number(d)) => d.to_string(),
        Some(Value::Time(t)) => t.to_string(),
        Some(Value::Text(t)) => t.clone(),
        Some(Value::Bytes(b)) => crate::hex::to_hex_spaced(b.as_slice()),
        None if rec.invalid() => "not BCD: no value".to_string(),
        None => "not interpreted".to_string(),
    };
    if let Some(unit) = rec.unit() {
        text.push(' ');
        text.push_str(unit);
    }
    if let Some(label) = rec.label() {
        text = format!("{label}: {text}");
    }
    text
}

/// The spans of one decoded CJ/T 188 frame.
pub fn spans(bytes: &[u8], d: &Decoded) -> Vec<Span> {
    let mut s = Spans::new(0, bytes.len());
    let Some(link) = d.cjt188_link() else {
        return s.spans;
    };
    let p = usize::try_from(link.preamble_len).unwrap_or(0);
    s.add(p, "link.preamble_len", format!("{p} wake-up byte(s) FE"));
    s.add(1, "link.start", "start 0x68");
    let t = link.meter_type.0;
    s.add(
        1,
        "link.meter_type",
        format!(
            "meter type {}: {}",
            link.meter_type,
            app::meter_type_name(t)
        ),
    );
    s.add(
        7,
        "link.address",
        format!("address {} (A0 first)", link.address),
    );
    let c = link.control.map_or(0, |c| c.0);
    s.add(
        1,
        "link.control",
        format!(
            "control 0x{c:02X}: {}, {}, {}",
            match link.direction {
                Cjt188Direction::MasterToSlave => "request (master to slave)",
                Cjt188Direction::SlaveToMaster => "reply (slave to master)",
            },
            if link.exception {
                "exception"
            } else {
                "normal"
            },
            link.function.map_or("unknown function", |f| f.as_str())
        ),
    );
    s.add(1, "link.length", format!("L = {} data bytes", link.length));
    let data_end = p
        .saturating_add(field::HEADER_LEN)
        .saturating_add(usize::from(link.length));
    let app_len = d.application_data.as_ref().map_or(0, |a| a.len());
    let body_end = data_end.saturating_sub(app_len);
    if let Some(di) = link.di {
        let order = link.di_order.unwrap_or_default();
        let name = app::di_name(di.0).unwrap_or("not in the CJ/T 188 table");
        s.add(
            2,
            "link.di",
            format!("DI {di}: {name} (sent {})", order.as_str()),
        );
    }
    if let Some(ser) = link.ser {
        s.add(1, "link.ser", format!("sequence number SER {ser}"));
    }
    if link.exception {
        s.add(
            body_end.saturating_sub(s.pos),
            "status",
            status_label(d, "status ST", 4),
        );
    } else if let (Some(function), Some(di)) = (link.function, link.di) {
        let payload_len = data_end.saturating_sub(s.pos);
        let mut records = d.records.iter().enumerate();
        match app::layout(function, link.direction, di.0, t, Some(payload_len)) {
            Some(fields) => {
                for fld in fields {
                    if fld.kind == Kind::Status {
                        if d.status.is_none() {
                            break;
                        }
                        s.add(
                            body_end.saturating_sub(s.pos),
                            "status",
                            status_label(d, "status ST", 4),
                        );
                        continue;
                    }
                    let Some((i, rec)) = records.next() else {
                        break;
                    };
                    let path = format!("records[{i}].value");
                    match fld.kind {
                        Kind::Measured { bytes: n, .. } => {
                            s.add(usize::from(n), path, value_text(rec));
                            let code = bytes.get(s.pos).copied().unwrap_or(0);
                            let unit = app::unit_of(code).map_or("not in the table", |u| u.unit);
                            let scale = app::unit_of(code).map_or(0, |u| u.scale);
                            let times = match scale {
                                1 => " x10",
                                2 => " x100",
                                _ => "",
                            };
                            s.add(
                                1,
                                format!("records[{i}].unit"),
                                format!("unit code 0x{code:02X}: {unit}{times}"),
                            );
                        }
                        kind => s.add(kind.wire_len(), path, value_text(rec)),
                    }
                }
            }
            None => {
                for (i, rec) in records {
                    let n = rec.raw().map_or(0, |r| r.data().len());
                    s.add(
                        n,
                        format!("records[{i}].raw"),
                        format!("DI {di}: payload not interpreted"),
                    );
                }
            }
        }
    }
    s.add(
        data_end.saturating_sub(s.pos),
        "application_data",
        "data not decoded",
    );
    s.add(1, "link.checksum", "checksum (sum of 68 ... data)");
    s.add(1, "link.stop", "end 0x16");
    debug_assert_eq!(link::STOP, 0x16);
    s.spans
}

#[cfg(test)]
mod tests {
    use crate::hex::parse_hex;
    use crate::{decode, Options};

    fn covered(hex: &str) -> alloc::vec::Vec<crate::model::Span> {
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
        d.spans
    }

    #[test]
    fn every_byte_once() {
        covered("FE FE 68 10 78 56 34 12 00 01 00 01 03 90 1F 01 41 16");
        let spans = covered(
            "FE FE 68 10 78 56 34 12 00 01 00 81 16 90 1F 01 56 34 12 00 2C 00 00 12 00 2C 00 30 08 15 03 25 20 00 00 6F 16",
        );
        let unit = spans.iter().find(|s| s.path == "records[0].unit").unwrap();
        assert_eq!((unit.start, unit.end), (20, 21));
        assert_eq!(unit.label, "unit code 0x2C: m3");
        let value = spans.iter().find(|s| s.path == "records[0].value").unwrap();
        assert_eq!(value.label, "current_cumulative_flow: 1234.56 m3");
        covered("FE FE 68 10 78 56 34 12 00 01 00 C1 03 05 03 00 59 16");
        covered("FE FE 68 10 78 56 34 12 00 01 00 84 05 A0 17 04 01 00 D2 16");
    }
}
