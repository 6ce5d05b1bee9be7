//! Modbus encoding: a [`Decoded`] model back to an RTU or TCP ADU.
//!
//! The PDU is written from `link` alone (records are derived from it and not read): the
//! function, `direction` choosing the request or response layout, and that layout's fields.
//! Byte counts, the TCP length field and the RTU CRC are computed. A PDU kept as hex
//! (`application_data`, no `direction`) is written back as it was. So `encode(decode(x)) == x`
//! for every frame that decodes.
//!
//! The writer records which model field every byte came from ([`Field`]); explain mode walks
//! the same list, so its spans and the encoder cannot disagree.

use alloc::vec::Vec;

use super::app::{fc, EXCEPTION_BIT, MEI_DEVICE_ID};
use super::link::{RtuAdu, RtuRepr, TcpAdu, TcpRepr};
use crate::error::{Detail, Error, ErrorKind, Layer, Result};
use crate::model::{Decoded, ModbusDirection, ModbusLink};

/// The model field a run of PDU bytes was written from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    /// The function code byte (with the exception bit of an exception response).
    Function,
    /// The exception code.
    ExceptionCode,
    /// `start_address`.
    StartAddress,
    /// `quantity`.
    Quantity,
    /// `write_start_address`.
    WriteStartAddress,
    /// `write_quantity`.
    WriteQuantity,
    /// `byte_count`.
    ByteCount,
    /// `registers[i]`.
    Register(usize),
    /// `values[i]`.
    Value(usize),
    /// The coil bytes (`coils`), packed least significant bit first.
    CoilBytes,
    /// `mei_type`.
    MeiType,
    /// `read_device_id_code`.
    ReadDeviceIdCode,
    /// `object_id`.
    ObjectId,
    /// `conformity_level`.
    ConformityLevel,
    /// `more_follows`.
    MoreFollows,
    /// `next_object_id`.
    NextObjectId,
    /// The number of objects (`objects.len()`).
    ObjectCount,
    /// `objects[i]`: id, length and value.
    Object(usize),
    /// `application_data`.
    ApplicationData,
}

/// A PDU and where each of its fields lies.
#[derive(Debug, Default)]
pub struct PduWriter {
    /// The PDU bytes.
    pub bytes: Vec<u8>,
    /// `(field, length)` in order: the runs cover `bytes` exactly.
    pub parts: Vec<(Field, usize)>,
}

impl PduWriter {
    fn put(&mut self, field: Field, bytes: &[u8]) {
        self.bytes.extend_from_slice(bytes);
        self.parts.push((field, bytes.len()));
    }

    fn u16(&mut self, field: Field, value: Option<u16>, missing: &'static str) -> Result<()> {
        let v = value.ok_or(Error::model(missing))?;
        self.put(field, &v.to_be_bytes());
        Ok(())
    }

    /// The link's start address (reads, writes).
    fn start_address(&mut self, link: &ModbusLink) -> Result<()> {
        self.u16(
            Field::StartAddress,
            link.start_address,
            "link.start_address is missing",
        )
    }

    /// The link's start address and quantity (reads, multiple writes).
    fn start_and_quantity(&mut self, link: &ModbusLink) -> Result<()> {
        self.start_address(link)?;
        self.u16(Field::Quantity, link.quantity, "link.quantity is missing")
    }

    fn u8(&mut self, field: Field, value: Option<u8>, missing: &'static str) -> Result<()> {
        let v = value.ok_or(Error::model(missing))?;
        self.put(field, &[v]);
        Ok(())
    }

    fn byte_count(&mut self, len: usize) -> Result<()> {
        let bc = u8::try_from(len).map_err(|_| {
            Error::new(
                ErrorKind::Length,
                Layer::Application,
                0,
                Detail::TooMany {
                    what: "data bytes after one byte count",
                    max: 255,
                },
            )
        })?;
        self.put(Field::ByteCount, &[bc]);
        Ok(())
    }

    fn words(&mut self, list: &[u16], field: fn(usize) -> Field) -> Result<()> {
        self.byte_count(list.len().saturating_mul(2))?;
        for (i, w) in list.iter().enumerate() {
            self.put(field(i), &w.to_be_bytes());
        }
        Ok(())
    }

    fn coils(&mut self, coils: &[bool]) -> Result<()> {
        let packed = pack(coils);
        self.byte_count(packed.len())?;
        if !packed.is_empty() {
            self.put(Field::CoilBytes, &packed);
        }
        Ok(())
    }
}

/// Coils packed eight to a byte, the first coil in the least significant bit.
pub fn pack(coils: &[bool]) -> Vec<u8> {
    coils
        .chunks(8)
        .map(|c| {
            c.iter()
                .enumerate()
                .fold(0u8, |acc, (i, on)| acc | (u8::from(*on) << i))
        })
        .collect()
}

/// Writes the PDU of `link` (with `application_data` for a PDU kept as hex).
pub fn pdu(link: &ModbusLink, application_data: Option<&[u8]>) -> Result<PduWriter> {
    let mut w = PduWriter::default();
    let f = link.function;
    if f & EXCEPTION_BIT != 0 {
        return Err(Error::model(
            "link.function is the code without the exception bit (0x00-0x7F)",
        ));
    }
    let raw = application_data.unwrap_or(&[]);
    if link.exception {
        w.put(Field::Function, &[f | EXCEPTION_BIT]);
        match link.exception_code {
            Some(code) => w.put(Field::ExceptionCode, &[code]),
            None if !raw.is_empty() => w.put(Field::ApplicationData, raw),
            None => {}
        }
        return Ok(w);
    }
    w.put(Field::Function, &[f]);
    let Some(direction) = link.direction else {
        if !raw.is_empty() {
            w.put(Field::ApplicationData, raw);
        }
        return Ok(w);
    };
    let request = direction != ModbusDirection::Response;
    match f {
        fc::READ_COILS..=fc::READ_INPUT_REGISTERS if request => {
            w.start_and_quantity(link)?;
        }
        fc::READ_COILS | fc::READ_DISCRETE_INPUTS => w.coils(&link.coils)?,
        fc::READ_HOLDING_REGISTERS | fc::READ_INPUT_REGISTERS => {
            w.words(&link.registers, Field::Register)?
        }
        fc::WRITE_SINGLE_COIL | fc::WRITE_SINGLE_REGISTER => {
            w.start_address(link)?;
            let coil = link
                .coils
                .first()
                .filter(|_| f == fc::WRITE_SINGLE_COIL)
                .map(|on| if *on { 0xFF00 } else { 0x0000 });
            let value = link.values.first().copied().or(coil);
            w.u16(
                Field::Value(0),
                value,
                "link.values holds no value to write",
            )?;
        }
        fc::WRITE_MULTIPLE_COILS | fc::WRITE_MULTIPLE_REGISTERS => {
            w.start_and_quantity(link)?;
            if request {
                if f == fc::WRITE_MULTIPLE_COILS {
                    w.coils(&link.coils)?;
                } else {
                    w.words(&link.values, Field::Value)?;
                }
            }
        }
        fc::READ_WRITE_MULTIPLE_REGISTERS if request => {
            w.start_and_quantity(link)?;
            w.u16(
                Field::WriteStartAddress,
                link.write_start_address,
                "link.write_start_address is missing",
            )?;
            w.u16(
                Field::WriteQuantity,
                link.write_quantity,
                "link.write_quantity is missing",
            )?;
            w.words(&link.values, Field::Value)?;
        }
        fc::READ_WRITE_MULTIPLE_REGISTERS => w.words(&link.registers, Field::Register)?,
        fc::ENCAPSULATED_INTERFACE => {
            let mei = link.mei_type.unwrap_or(MEI_DEVICE_ID);
            if mei != MEI_DEVICE_ID {
                return Err(Error::model(
                    "function 2B with an MEI type other than 0E needs application_data and no direction",
                ));
            }
            w.put(Field::MeiType, &[mei]);
            w.u8(
                Field::ReadDeviceIdCode,
                link.read_device_id_code,
                "link.read_device_id_code is missing",
            )?;
            if request {
                w.u8(Field::ObjectId, link.object_id, "link.object_id is missing")?;
            } else {
                w.u8(
                    Field::ConformityLevel,
                    link.conformity_level,
                    "link.conformity_level is missing",
                )?;
                w.put(Field::MoreFollows, &[link.more_follows.unwrap_or(0)]);
                w.put(Field::NextObjectId, &[link.next_object_id.unwrap_or(0)]);
                let n = u8::try_from(link.objects.len())
                    .map_err(|_| Error::model("more than 255 objects"))?;
                w.put(Field::ObjectCount, &[n]);
                for (i, o) in link.objects.iter().enumerate() {
                    let value = match (&o.value, &o.hex) {
                        (Some(text), _) => text.as_bytes(),
                        (None, Some(hex)) => hex.as_slice(),
                        (None, None) => &[],
                    };
                    let len = u8::try_from(value.len())
                        .map_err(|_| Error::model("an object value longer than 255 bytes"))?;
                    let mut bytes = Vec::with_capacity(value.len().saturating_add(2));
                    bytes.extend_from_slice(&[o.id, len]);
                    bytes.extend_from_slice(value);
                    w.put(Field::Object(i), &bytes);
                }
            }
        }
        _ => {
            return Err(Error::model(
                "meterwire has no layout for this function: give application_data and no direction",
            ))
        }
    }
    Ok(w)
}

fn modbus_link(d: &Decoded) -> Result<&ModbusLink> {
    d.modbus_link()
        .ok_or(Error::model("link fields are not Modbus link fields"))
}

/// Encodes a Modbus RTU ADU from the model.
pub fn encode_rtu(d: &Decoded) -> Result<Vec<u8>> {
    let link = modbus_link(d)?;
    let pdu = pdu(link, d.application_data.as_ref().map(|b| b.as_slice()))?;
    let repr = RtuRepr {
        unit_id: link.unit_id,
    };
    let mut out = alloc::vec![0u8; repr.buffer_len(pdu.bytes.len())];
    repr.emit(&mut RtuAdu::new_unchecked(&mut out[..]), &pdu.bytes);
    Ok(out)
}

/// Encodes a Modbus TCP ADU from the model (the length field is computed).
pub fn encode_tcp(d: &Decoded) -> Result<Vec<u8>> {
    let link = modbus_link(d)?;
    let pdu = pdu(link, d.application_data.as_ref().map(|b| b.as_slice()))?;
    if pdu.bytes.len() >= usize::from(u16::MAX) {
        return Err(Error::model("the PDU does not fit the MBAP length field"));
    }
    let repr = TcpRepr {
        transaction_id: link.transaction_id.unwrap_or(0),
        protocol_id: link.protocol_id.unwrap_or(0),
        unit_id: link.unit_id,
    };
    let mut out = alloc::vec![0u8; repr.buffer_len(pdu.bytes.len())];
    repr.emit(&mut TcpAdu::new_unchecked(&mut out[..]), &pdu.bytes);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packs_coils_lsb_first() {
        assert_eq!(pack(&[true, false, true]), [0x05]);
        let ten = [
            true, false, true, true, false, false, true, true, true, false,
        ];
        assert_eq!(pack(&ten), [0xCD, 0x01]);
        assert!(pack(&[]).is_empty());
    }
}
