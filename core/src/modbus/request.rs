//! Builders for the requests a Modbus master (client) sends: read coils, discrete inputs,
//! holding and input registers; write a single coil or register; write multiple coils or
//! registers; read device identification. Each is framed as RTU (unit, PDU, CRC) or TCP
//! (MBAP with a transaction id, PDU) by the [`Request`] it is built from, with the link
//! layer's own `emit`, and decodes back to the same request.
//!
//! ```
//! use meterwire::modbus::request::Request;
//!
//! // Digest M1: read 2 holding registers from 0 of unit 1.
//! let rtu = Request::rtu(1).read_holding_registers(0, 2)?;
//! assert_eq!(meterwire::hex::to_hex_spaced(&rtu), "01 03 00 00 00 02 C4 0B");
//! // Digest T1: the same over TCP, transaction 1.
//! let tcp = Request::tcp(1, 1).read_holding_registers(0, 2)?;
//! assert_eq!(meterwire::hex::to_hex_spaced(&tcp), "00 01 00 00 00 06 01 03 00 00 00 02");
//! # Ok::<(), meterwire::Error>(())
//! ```
//!
//! Quantities are checked against the limits of the Modbus Application Protocol (digest §3):
//! 1–2000 coils or inputs read, 1–125 registers read, 1–1968 coils and 1–123 registers
//! written; the last address must not pass 65535. A value out of range is a `malformed`
//! error at offset 0 (the input layer), as for the other request builders.

use alloc::vec;
use alloc::vec::Vec;

use super::app::{fc, MEI_DEVICE_ID};
use super::link::{RtuAdu, RtuRepr, TcpAdu, TcpRepr};
use crate::error::{Detail, Error, ErrorKind, Layer, Result};

/// Most coils or discrete inputs one read may ask for.
pub const MAX_READ_BITS: u16 = 2000;
/// Most registers one read may ask for.
pub const MAX_READ_REGISTERS: u16 = 125;
/// Most coils one write may set.
pub const MAX_WRITE_COILS: u16 = 1968;
/// Most registers one write may set.
pub const MAX_WRITE_REGISTERS: u16 = 123;
/// The value of function 05 that switches a coil on (`0x0000` switches it off).
pub const COIL_ON: u16 = 0xFF00;

fn bad_input(text: &'static str) -> Error {
    Error::new(ErrorKind::Malformed, Layer::Input, 0, Detail::Text(text))
}

/// How a request is framed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// Modbus RTU: `unit PDU CRC_lo CRC_hi`.
    Rtu,
    /// Modbus TCP: `MBAP(7) PDU`, protocol identifier 0.
    Tcp {
        /// The transaction identifier the server echoes.
        transaction_id: u16,
    },
}

/// Who a request goes to and how it is framed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request {
    /// The unit (slave) address: 1–247 on a serial line (0 broadcasts a write), the unit
    /// identifier on TCP (0xFF, or the serial address behind a gateway).
    pub unit_id: u8,
    /// RTU or TCP.
    pub framing: Framing,
}

impl Request {
    /// An RTU request to `unit_id`.
    pub const fn rtu(unit_id: u8) -> Self {
        Request {
            unit_id,
            framing: Framing::Rtu,
        }
    }

    /// A TCP request to `unit_id` with `transaction_id`.
    pub const fn tcp(unit_id: u8, transaction_id: u16) -> Self {
        Request {
            unit_id,
            framing: Framing::Tcp { transaction_id },
        }
    }

    /// Frames a PDU (`function data…`) as this request's ADU.
    pub fn frame(&self, pdu: &[u8]) -> Vec<u8> {
        match self.framing {
            Framing::Rtu => {
                let repr = RtuRepr {
                    unit_id: self.unit_id,
                };
                let mut adu = RtuAdu::new_unchecked(vec![0u8; repr.buffer_len(pdu.len())]);
                repr.emit(&mut adu, pdu);
                adu.into_inner()
            }
            Framing::Tcp { transaction_id } => {
                let repr = TcpRepr {
                    transaction_id,
                    protocol_id: 0,
                    unit_id: self.unit_id,
                };
                let mut adu = TcpAdu::new_unchecked(vec![0u8; repr.buffer_len(pdu.len())]);
                repr.emit(&mut adu, pdu);
                adu.into_inner()
            }
        }
    }

    /// Function `function` with a start address and a quantity (01–04).
    fn read(&self, function: u8, start: u16, count: u16, max: u16) -> Result<Vec<u8>> {
        check_range(start, count, max)?;
        let mut pdu = Vec::with_capacity(5);
        pdu.push(function);
        pdu.extend_from_slice(&start.to_be_bytes());
        pdu.extend_from_slice(&count.to_be_bytes());
        Ok(self.frame(&pdu))
    }

    /// Read Coils (01): `count` coils (1–2000) from `start`.
    pub fn read_coils(&self, start: u16, count: u16) -> Result<Vec<u8>> {
        self.read(fc::READ_COILS, start, count, MAX_READ_BITS)
    }

    /// Read Discrete Inputs (02): `count` inputs (1–2000) from `start`.
    pub fn read_discrete_inputs(&self, start: u16, count: u16) -> Result<Vec<u8>> {
        self.read(fc::READ_DISCRETE_INPUTS, start, count, MAX_READ_BITS)
    }

    /// Read Holding Registers (03): `count` registers (1–125) from `start`.
    pub fn read_holding_registers(&self, start: u16, count: u16) -> Result<Vec<u8>> {
        self.read(fc::READ_HOLDING_REGISTERS, start, count, MAX_READ_REGISTERS)
    }

    /// Read Input Registers (04): `count` registers (1–125) from `start`.
    pub fn read_input_registers(&self, start: u16, count: u16) -> Result<Vec<u8>> {
        self.read(fc::READ_INPUT_REGISTERS, start, count, MAX_READ_REGISTERS)
    }

    /// Write Single Coil (05): coil `address` on (`FF00`) or off (`0000`).
    pub fn write_single_coil(&self, address: u16, on: bool) -> Vec<u8> {
        self.write_single(fc::WRITE_SINGLE_COIL, address, if on { COIL_ON } else { 0 })
    }

    /// Write Single Register (06): register `address` := `value`.
    pub fn write_single_register(&self, address: u16, value: u16) -> Vec<u8> {
        self.write_single(fc::WRITE_SINGLE_REGISTER, address, value)
    }

    fn write_single(&self, function: u8, address: u16, value: u16) -> Vec<u8> {
        let mut pdu = Vec::with_capacity(5);
        pdu.push(function);
        pdu.extend_from_slice(&address.to_be_bytes());
        pdu.extend_from_slice(&value.to_be_bytes());
        self.frame(&pdu)
    }

    /// Write Multiple Coils (0F): `coils` (1–1968) from `start`, packed least significant
    /// bit first, unused bits of the last byte clear.
    pub fn write_multiple_coils(&self, start: u16, coils: &[bool]) -> Result<Vec<u8>> {
        let count = quantity(coils.len(), MAX_WRITE_COILS)?;
        check_range(start, count, MAX_WRITE_COILS)?;
        let mut packed = vec![0u8; coils.len().div_ceil(8)];
        for (i, _) in coils.iter().enumerate().filter(|(_, on)| **on) {
            if let Some(byte) = packed.get_mut(i / 8) {
                *byte |= 1 << (i % 8);
            }
        }
        self.write_multiple(fc::WRITE_MULTIPLE_COILS, start, count, &packed)
    }

    /// Write Multiple Registers (10): `values` (1–123 registers) from `start`.
    pub fn write_multiple_registers(&self, start: u16, values: &[u16]) -> Result<Vec<u8>> {
        let count = quantity(values.len(), MAX_WRITE_REGISTERS)?;
        check_range(start, count, MAX_WRITE_REGISTERS)?;
        let data: Vec<u8> = values.iter().flat_map(|v| v.to_be_bytes()).collect();
        self.write_multiple(fc::WRITE_MULTIPLE_REGISTERS, start, count, &data)
    }

    fn write_multiple(&self, function: u8, start: u16, count: u16, data: &[u8]) -> Result<Vec<u8>> {
        // At most 246 bytes (123 registers, 1968 coils): the byte count fits.
        let byte_count =
            u8::try_from(data.len()).map_err(|_| bad_input("too many values for one request"))?;
        let mut pdu = Vec::with_capacity(data.len().saturating_add(6));
        pdu.push(function);
        pdu.extend_from_slice(&start.to_be_bytes());
        pdu.extend_from_slice(&count.to_be_bytes());
        pdu.push(byte_count);
        pdu.extend_from_slice(data);
        Ok(self.frame(&pdu))
    }

    /// Read Device Identification (2B / MEI 0E): `code` 1 basic, 2 regular, 3 extended
    /// (stream access from `object_id`), 4 the one object `object_id`.
    pub fn read_device_identification(&self, code: u8, object_id: u8) -> Result<Vec<u8>> {
        if !(1..=4).contains(&code) {
            return Err(bad_input(
                "read device id code must be 1 (basic), 2 (regular), 3 (extended) or 4 (one object)",
            ));
        }
        Ok(self.frame(&[fc::ENCAPSULATED_INTERFACE, MEI_DEVICE_ID, code, object_id]))
    }
}

/// A number of values as a Modbus quantity, 1–`max`.
fn quantity(len: usize, max: u16) -> Result<u16> {
    u16::try_from(len)
        .ok()
        .filter(|n| (1..=max).contains(n))
        .ok_or(bad_input("quantity out of the function's range"))
}

/// `count` (1–`max`) values from `start` stay within addresses 0–65535.
fn check_range(start: u16, count: u16, max: u16) -> Result<()> {
    if !(1..=max).contains(&count) {
        return Err(bad_input("quantity out of the function's range"));
    }
    // start + count - 1 <= 0xFFFF
    if u32::from(start).saturating_add(u32::from(count)) > 0x1_0000 {
        return Err(bad_input("the last address passes 65535"));
    }
    Ok(())
}

/// A request described as data: what the bindings' `modbus_request` (Python) and
/// `modbusRequest` (Node, WASM) take, so every runtime builds requests with these builders
/// and no logic of its own. JSON form:
/// `{"framing": "rtu" | "tcp", "unit": 1, "transaction"?: 1, "function": "read_holding_registers",
/// "start"?, "count"?, "address"?, "value"?, "on"?, "values"?, "coils"?, "code"?, "object_id"?}`;
/// `function` is the model's `function_name` of a request [`Request`] builds.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestSpec {
    /// `rtu` (default) or `tcp`.
    #[serde(default)]
    pub framing: Option<alloc::string::String>,
    /// The unit (slave) address.
    pub unit: u8,
    /// TCP only: the transaction identifier (default 1).
    #[serde(default)]
    pub transaction: Option<u16>,
    /// The model's function name (`read_holding_registers`, `write_single_coil`, …).
    pub function: alloc::string::String,
    /// First address of a read or a multiple write.
    #[serde(default)]
    pub start: Option<u16>,
    /// How many coils or registers a read asks for.
    #[serde(default)]
    pub count: Option<u16>,
    /// The address of a single write.
    #[serde(default)]
    pub address: Option<u16>,
    /// The value of a single register write.
    #[serde(default)]
    pub value: Option<u16>,
    /// The state of a single coil write.
    #[serde(default)]
    pub on: Option<bool>,
    /// The values of a multiple register write.
    #[serde(default)]
    pub values: Option<Vec<u16>>,
    /// The states of a multiple coil write.
    #[serde(default)]
    pub coils: Option<Vec<bool>>,
    /// Read device identification: the access code (1 basic … 4 one object; default 1).
    #[serde(default)]
    pub code: Option<u8>,
    /// Read device identification: the first object (default 0).
    #[serde(default)]
    pub object_id: Option<u8>,
}

impl RequestSpec {
    /// Builds the request's frame; a missing or out-of-range parameter is a `malformed` error
    /// at offset 0.
    pub fn build(&self) -> Result<Vec<u8>> {
        let to = match self.framing.as_deref().unwrap_or("rtu") {
            "rtu" | "modbus_rtu" => Request::rtu(self.unit),
            "tcp" | "modbus_tcp" => Request::tcp(self.unit, self.transaction.unwrap_or(1)),
            _ => return Err(bad_input("modbus request: `framing` is not rtu or tcp")),
        };
        let need = |v: Option<u16>, what: &'static str| v.ok_or(bad_input(what));
        let start = || need(self.start, "modbus request: `start` is missing");
        let count = || need(self.count, "modbus request: `count` is missing");
        let address = || need(self.address, "modbus request: `address` is missing");
        match self.function.as_str() {
            "read_coils" => to.read_coils(start()?, count()?),
            "read_discrete_inputs" => to.read_discrete_inputs(start()?, count()?),
            "read_holding_registers" => to.read_holding_registers(start()?, count()?),
            "read_input_registers" => to.read_input_registers(start()?, count()?),
            "write_single_coil" => Ok(to.write_single_coil(
                address()?,
                self.on
                    .ok_or(bad_input("modbus request: `on` is missing"))?,
            )),
            "write_single_register" => Ok(to.write_single_register(
                address()?,
                need(self.value, "modbus request: `value` is missing")?,
            )),
            "write_multiple_coils" => to.write_multiple_coils(
                start()?,
                self.coils
                    .as_deref()
                    .ok_or(bad_input("modbus request: `coils` is missing"))?,
            ),
            "write_multiple_registers" => to.write_multiple_registers(
                start()?,
                self.values
                    .as_deref()
                    .ok_or(bad_input("modbus request: `values` is missing"))?,
            ),
            "read_device_identification" => {
                to.read_device_identification(self.code.unwrap_or(1), self.object_id.unwrap_or(0))
            }
            _ => Err(bad_input(
                "modbus request: `function` is not one of read_coils, read_discrete_inputs, read_holding_registers, read_input_registers, write_single_coil, write_single_register, write_multiple_coils, write_multiple_registers, read_device_identification",
            )),
        }
    }

    /// [`RequestSpec::build`] of the JSON text of a spec; text that is not a spec is a
    /// `malformed` error at offset 0.
    pub fn build_json(text: &str) -> Result<Vec<u8>> {
        serde_json::from_str::<RequestSpec>(text)
            .map_err(|_| bad_input("modbus request: not a request spec (see RequestSpec)"))?
            .build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hex::{parse_hex, to_hex_spaced};
    use crate::model::ModbusDirection;
    use crate::{decode, Options, Protocol};

    fn hex(bytes: &[u8]) -> String {
        to_hex_spaced(bytes)
    }

    #[test]
    fn digest_worked_examples() {
        let u1 = Request::rtu(1);
        // M1, M3: read holding registers.
        assert_eq!(
            hex(&u1.read_holding_registers(0, 2).unwrap()),
            "01 03 00 00 00 02 C4 0B"
        );
        assert_eq!(
            hex(&u1.read_holding_registers(0, 10).unwrap()),
            "01 03 00 00 00 0A C5 CD"
        );
        // M5: register 10 := 1.
        assert_eq!(
            hex(&u1.write_single_register(10, 1)),
            "01 06 00 0A 00 01 68 08"
        );
        // M6: registers 1, 2 := 000A, 0102.
        assert_eq!(
            hex(&u1.write_multiple_registers(1, &[0x000A, 0x0102]).unwrap()),
            "01 10 00 01 00 02 04 00 0A 01 02 92 30"
        );
        // M8: coil 3 on.
        assert_eq!(
            hex(&u1.write_single_coil(3, true)),
            "01 05 00 03 FF 00 7C 3A"
        );
        // M9: read 8 coils.
        assert_eq!(
            hex(&u1.read_coils(0, 8).unwrap()),
            "01 01 00 00 00 08 3D CC"
        );
        // M11: read device identification, basic, from object 0.
        assert_eq!(
            hex(&u1.read_device_identification(1, 0).unwrap()),
            "01 2B 0E 01 00 70 77"
        );
        // M12: write 10 coils CD 01.
        let m12 = [
            true, false, true, true, false, false, true, true, true, false,
        ];
        assert_eq!(
            hex(&u1.write_multiple_coils(0, &m12).unwrap()),
            "01 0F 00 00 00 0A 02 CD 01 70 68"
        );
        // M13: read 2 input registers; M14: read 16 discrete inputs.
        assert_eq!(
            hex(&u1.read_input_registers(0, 2).unwrap()),
            "01 04 00 00 00 02 71 CB"
        );
        assert_eq!(
            hex(&u1.read_discrete_inputs(0, 16).unwrap()),
            "01 02 00 00 00 10 79 C6"
        );
        // T1: TCP, transaction 1.
        assert_eq!(
            hex(&Request::tcp(1, 1).read_holding_registers(0, 2).unwrap()),
            "00 01 00 00 00 06 01 03 00 00 00 02"
        );
        // Coil off (digest §3: 0000).
        assert_eq!(
            hex(&Request::rtu(2).write_single_coil(7, false)),
            hex(&parse_hex("02 05 00 07 00 00 7C 38").unwrap())
        );
    }

    #[test]
    fn limits() {
        let r = Request::rtu(1);
        assert!(r.read_holding_registers(0, 0).is_err());
        assert!(r.read_holding_registers(0, 125).is_ok());
        assert!(r.read_holding_registers(0, 126).is_err());
        assert!(r.read_coils(0, 2000).is_ok());
        assert!(r.read_coils(0, 2001).is_err());
        assert!(r.read_input_registers(65535, 1).is_ok());
        assert!(r.read_input_registers(65535, 2).is_err());
        assert!(r.write_multiple_registers(0, &[]).is_err());
        assert!(r.write_multiple_registers(0, &[0; 123]).is_ok());
        assert!(r.write_multiple_registers(0, &[0; 124]).is_err());
        assert!(r.write_multiple_coils(0, &[true; 1968]).is_ok());
        assert!(r.write_multiple_coils(0, &[true; 1969]).is_err());
        assert!(r.read_device_identification(0, 0).is_err());
        assert!(r.read_device_identification(5, 0).is_err());
        let e = r.read_holding_registers(0, 0).unwrap_err();
        assert_eq!((e.kind(), e.offset()), (ErrorKind::Malformed, 0));
    }

    #[test]
    fn requests_decode_back_as_requests() {
        for (request, protocol) in [
            (Request::rtu(17), Protocol::ModbusRtu),
            (Request::tcp(255, 0xBEEF), Protocol::ModbusTcp),
        ] {
            let frames = [
                request.read_coils(5, 20).unwrap(),
                request.read_discrete_inputs(0, 16).unwrap(),
                request.read_holding_registers(100, 125).unwrap(),
                request.read_input_registers(0, 15).unwrap(),
                request.write_single_coil(9, true),
                request.write_single_register(4, 0xABCD),
                request
                    .write_multiple_coils(3, &[true, false, true])
                    .unwrap(),
                request.write_multiple_registers(8, &[1, 2, 3]).unwrap(),
                request.read_device_identification(4, 0x81).unwrap(),
            ];
            let opts = Options::default().with_protocol(Some(protocol));
            for frame in &frames {
                let d = decode(frame, &opts).unwrap();
                let link = d.modbus_link().unwrap();
                assert_eq!(link.unit_id, request.unit_id);
                assert!(matches!(
                    link.direction,
                    Some(ModbusDirection::Request | ModbusDirection::RequestOrEcho)
                ));
                assert!(d.warnings.is_empty(), "{:?}", d.warnings);
                if let Framing::Tcp { transaction_id } = request.framing {
                    assert_eq!(link.transaction_id, Some(transaction_id));
                }
                assert_eq!(&crate::encode(&d).unwrap(), frame);
            }
        }
    }

    #[test]
    fn specs_build_the_digest_requests() {
        let cases = [
            (
                r#"{"unit":1,"function":"read_holding_registers","start":0,"count":2}"#,
                "01 03 00 00 00 02 C4 0B",
            ),
            (
                r#"{"framing":"tcp","unit":1,"function":"read_holding_registers","start":0,"count":2}"#,
                "00 01 00 00 00 06 01 03 00 00 00 02",
            ),
            (
                r#"{"unit":1,"function":"write_single_register","address":10,"value":1}"#,
                "01 06 00 0A 00 01 68 08",
            ),
            (
                r#"{"unit":1,"function":"write_single_coil","address":3,"on":true}"#,
                "01 05 00 03 FF 00 7C 3A",
            ),
            (
                r#"{"unit":1,"function":"read_device_identification"}"#,
                "01 2B 0E 01 00 70 77",
            ),
            (
                r#"{"unit":1,"function":"read_input_registers","start":0,"count":2}"#,
                "01 04 00 00 00 02 71 CB",
            ),
        ];
        for (spec, hex) in cases {
            let bytes = RequestSpec::build_json(spec).unwrap();
            assert_eq!(crate::hex::to_hex_spaced(&bytes), hex, "{spec}");
        }
        for bad in [
            r#"{"unit":1,"function":"read_holding_registers","start":0}"#,
            r#"{"unit":1,"function":"read_everything","start":0,"count":1}"#,
            r#"{"unit":1,"function":"read_coils","start":0,"count":1,"colour":2}"#,
            r#"{"unit":1,"framing":"ascii","function":"read_coils","start":0,"count":1}"#,
            r#"{"unit":1,"function":"read_holding_registers","start":0,"count":200}"#,
            "not json",
        ] {
            let e = RequestSpec::build_json(bad).unwrap_err();
            assert_eq!((e.kind(), e.offset()), (ErrorKind::Malformed, 0), "{bad}");
        }
    }
}
