//! Explain mode for IEC 62056-21: one [`Span`] per delimiter, link field and data-set piece,
//! covering every input byte exactly once. Built after decoding from the checked message's
//! layout and the records' `raw.data` (whose lengths tile each data block).

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::link::{IdentParts, Layout, Message, EOT};
use crate::explain::Spans;
use crate::model::{Decoded, Record, Span, Value};

fn record_label(rec: &Record) -> String {
    let value = match &rec.value() {
        Some(Value::Number(d)) => d.to_string(),
        Some(Value::Time(t)) => t.to_string(),
        Some(Value::Text(t)) => format!("\"{t}\""),
        Some(Value::Bytes(b)) => crate::hex::to_hex_spaced(b.as_slice()),
        None => "no value".to_string(),
    };
    let unit = rec
        .unit()
        .or(rec.unit_text())
        .map(|u| format!(" {u}"))
        .unwrap_or_default();
    let address = match &rec.address() {
        Some(crate::model::Address::Text(a)) => format!("data set {a}: "),
        _ => String::new(),
    };
    format!("{address}{} {value}{unit}", rec.quantity())
}

fn ident_spans(s: &mut Spans, m: &Message<'_>, ident: &IdentParts) {
    s.add(1, "link.start", "start /");
    s.add(
        3,
        "link.manufacturer",
        format!("manufacturer {}", m.str(ident.manufacturer.clone())),
    );
    s.add(
        1,
        "link.baud_char",
        format!("baud character {}", char::from(m.byte(ident.baud_char))),
    );
    if let Some(e) = ident.enhanced_id {
        s.add(
            2,
            "link.enhanced_id",
            format!("enhanced identification \\{}", char::from(m.byte(e))),
        );
    }
    s.add(
        ident.identification.len(),
        "link.identification",
        format!("identification {}", m.str(ident.identification.clone())),
    );
    s.add(2, "link.end", "CR LF");
}

fn record_spans(s: &mut Spans, records: &[Record]) {
    for (i, rec) in records.iter().enumerate() {
        let n = rec.raw().map_or(0, |r| r.data().len());
        s.add(n, format!("records[{i}].raw"), record_label(rec));
    }
}

fn close_spans(s: &mut Spans, m: &Message<'_>, bcc_at: usize) {
    let end = m.byte(bcc_at.saturating_sub(1));
    s.add(
        bcc_at.saturating_sub(1).saturating_sub(s.pos),
        "application_data",
        "data not decoded",
    );
    s.add(
        1,
        "link.partial",
        if end == EOT {
            "EOT: partial block"
        } else {
            "ETX: end of text"
        },
    );
    s.add(
        1,
        "link.bcc",
        format!(
            "BCC 0x{:02X} (XOR after SOH/STX through ETX)",
            m.byte(bcc_at)
        ),
    );
}

/// The spans of one decoded message.
pub fn spans(m: &Message<'_>, d: &Decoded) -> Vec<Span> {
    let total = m.text().len();
    let mut s = Spans::new(0, total);
    let Some(link) = d.iec62056_21_link() else {
        return s.spans;
    };
    match m.layout_ref() {
        Layout::SignOn { address } => {
            s.add(2, "link.start", "sign-on request /?");
            s.add(
                address.len(),
                "link.device_address",
                format!("device address {}", m.str(address.clone())),
            );
            s.add(3, "link.end", "! CR LF");
        }
        Layout::Identification(ident) => ident_spans(&mut s, m, ident),
        Layout::OptionSelect => {
            s.add(1, "link.message", "ACK: option select");
            s.add(1, "link.protocol_char", "protocol control character V");
            s.add(
                1,
                "link.baud_char",
                format!("baud character: {} Bd", link.baud.unwrap_or(0)),
            );
            s.add(
                1,
                "link.mode_char",
                format!("mode control: {}", link.mode.as_deref().unwrap_or("")),
            );
            s.add(2, "link.end", "CR LF");
        }
        Layout::Ack => s.add(1, "link.message", "ACK: acknowledged"),
        Layout::Nak => s.add(1, "link.message", "NAK: repeat request"),
        Layout::Data { bcc_at, .. } => {
            s.add(1, "link.message", "STX: start of text");
            if link.error_text.is_some() {
                s.add(
                    bcc_at.saturating_sub(2),
                    "link.error_text",
                    format!("error message {}", link.error_text.as_deref().unwrap_or("")),
                );
            } else {
                record_spans(&mut s, &d.records);
                if link.end_mark {
                    s.add(3, "link.end_mark", "end of readout ! CR LF");
                }
            }
            close_spans(&mut s, m, *bcc_at);
        }
        Layout::Command { block, bcc_at } => {
            s.add(1, "link.message", "SOH: start of heading");
            s.add(
                1,
                "link.command",
                format!(
                    "command {}: {}",
                    char::from(m.byte(1)),
                    link.command_name.as_deref().unwrap_or("not defined")
                ),
            );
            s.add(1, "link.command_type", "command type");
            if block.is_some() {
                s.add(1, "link.empty_data", "STX: start of data");
                record_spans(&mut s, &d.records);
            }
            close_spans(&mut s, m, *bcc_at);
        }
        Layout::Dsmr {
            ident,
            end_mark,
            crc_at,
            ..
        } => {
            ident_spans(&mut s, m, ident);
            record_spans(&mut s, &d.records);
            s.add(
                end_mark.saturating_sub(s.pos),
                "application_data",
                "data not decoded",
            );
            s.add(1, "link.end_mark", "end of telegram !");
            if let Some(at) = crc_at {
                s.add(
                    4,
                    "link.crc",
                    format!(
                        "CRC-16 {} (over / through !)",
                        m.str(*at..at.saturating_add(4))
                    ),
                );
            }
            s.add(2, "link.end", "CR LF");
        }
    }
    s.add(
        total.saturating_sub(s.pos),
        "application_data",
        "data not decoded",
    );
    s.spans
}
