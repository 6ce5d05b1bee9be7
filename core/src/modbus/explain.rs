//! Explain mode for Modbus: one [`Span`] per field, covering every input byte exactly once.
//!
//! The PDU's spans come from the encoder's own record of which field every byte was written
//! from ([`encode::pdu`]), so decoding pays nothing when explain mode is off and the spans
//! follow the exact layout the round trip uses.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::encode::{self, Field};
use super::link::{field, tcp_field};
use crate::explain::Spans;
use crate::hex::to_hex_spaced;
use crate::model::{Decoded, ModbusLink, Span};

fn be16(bytes: &[u8]) -> u16 {
    match bytes {
        &[hi, lo] => u16::from_be_bytes([hi, lo]),
        _ => 0,
    }
}

fn label(f: Field, bytes: &[u8], link: &ModbusLink) -> (String, String) {
    let word = be16(bytes);
    let byte = bytes.first().copied().unwrap_or(0);
    match f {
        Field::Function => {
            let name = link.function_name.as_deref().unwrap_or("unknown function");
            let text = if link.exception {
                format!(
                    "function 0x{byte:02X}: exception response to 0x{:02X} {name}",
                    link.function
                )
            } else {
                format!("function 0x{byte:02X}: {name}")
            };
            ("link.function".into(), text)
        }
        Field::ExceptionCode => (
            "link.exception_code".into(),
            format!(
                "exception code 0x{byte:02X}: {}",
                link.exception_name
                    .as_deref()
                    .unwrap_or("not a public exception")
            ),
        ),
        Field::StartAddress => ("link.start_address".into(), format!("start address {word}")),
        Field::Quantity => ("link.quantity".into(), format!("quantity {word}")),
        Field::WriteStartAddress => (
            "link.write_start_address".into(),
            format!("write start address {word}"),
        ),
        Field::WriteQuantity => (
            "link.write_quantity".into(),
            format!("write quantity {word}"),
        ),
        Field::ByteCount => ("link.byte_count".into(), format!("byte count {byte}")),
        Field::Register(i) => (
            format!("link.registers[{i}]"),
            format!("register {i}: 0x{word:04X} = {word}"),
        ),
        Field::Value(i) => (
            format!("link.values[{i}]"),
            format!("value written: 0x{word:04X} = {word}"),
        ),
        Field::CoilBytes => (
            "link.coils".into(),
            format!("{} coil byte(s), first coil in bit 0", bytes.len()),
        ),
        Field::MeiType => ("link.mei_type".into(), format!("MEI type 0x{byte:02X}")),
        Field::ReadDeviceIdCode => (
            "link.read_device_id_code".into(),
            format!("read device id code {byte}"),
        ),
        Field::ObjectId => ("link.object_id".into(), format!("object id {byte}")),
        Field::ConformityLevel => (
            "link.conformity_level".into(),
            format!("conformity level 0x{byte:02X}"),
        ),
        Field::MoreFollows => (
            "link.more_follows".into(),
            format!("more follows 0x{byte:02X}"),
        ),
        Field::NextObjectId => (
            "link.next_object_id".into(),
            format!("next object id {byte}"),
        ),
        Field::ObjectCount => ("link.objects".into(), format!("{byte} object(s)")),
        Field::Object(i) => {
            let name = link
                .objects
                .get(i)
                .and_then(|o| o.name.as_deref())
                .unwrap_or("object");
            (
                format!("link.objects[{i}]"),
                format!(
                    "{name}: id, length, {} value byte(s)",
                    bytes.len().saturating_sub(2)
                ),
            )
        }
        Field::ApplicationData => (
            "application_data".into(),
            format!("PDU data not decoded: {}", to_hex_spaced(bytes)),
        ),
    }
}

/// The spans of one decoded Modbus ADU (`tcp`: the MBAP header instead of the RTU CRC).
pub fn spans(bytes: &[u8], d: &Decoded, tcp: bool) -> Vec<Span> {
    let mut s = Spans::new(0, bytes.len());
    let Some(link) = d.modbus_link() else {
        return s.spans;
    };
    if tcp {
        let tid = link.transaction_id.unwrap_or(0);
        let pid = link.protocol_id.unwrap_or(0);
        let len = link.length.unwrap_or(0);
        s.add(2, "link.transaction_id", format!("transaction id {tid}"));
        s.add(2, "link.protocol_id", format!("protocol id {pid}"));
        s.add(2, "link.length", format!("length {len}: unit id and PDU"));
        s.add(1, "link.unit_id", format!("unit id {}", link.unit_id));
    } else {
        s.add(1, "link.unit_id", format!("unit address {}", link.unit_id));
    }
    let pdu_start = if tcp { tcp_field::PDU } else { field::PDU };
    let pdu_end = if tcp {
        bytes.len()
    } else {
        bytes.len().saturating_sub(field::CRC_LEN)
    };
    let pdu_bytes = bytes.get(pdu_start..pdu_end).unwrap_or(&[]);
    let app = d.application_data.as_ref().map(|b| b.as_slice());
    match encode::pdu(link, app) {
        Ok(w) if w.bytes == pdu_bytes => {
            let mut at = 0usize;
            for (f, len) in w.parts {
                let end = at.saturating_add(len);
                let (path, text) = label(f, w.bytes.get(at..end).unwrap_or(&[]), link);
                s.add(len, path, text);
                at = end;
            }
        }
        _ => s.add(pdu_bytes.len(), "link", "PDU"),
    }
    if !tcp {
        let crc = bytes.get(pdu_end..).unwrap_or(&[]);
        s.add(
            field::CRC_LEN,
            "link.crc",
            format!("CRC-16/MODBUS {} (low byte first)", to_hex_spaced(crc)),
        );
    }
    s.spans
}
