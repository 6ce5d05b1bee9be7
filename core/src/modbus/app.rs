//! The Modbus PDU (`function data…`) into the model: the function, whether the frame is a
//! request or a response (decided by its length, digest §2), the fields of that layout in
//! `link`, and one record per register or coil value.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::decimal::Decimal;
use crate::model::{
    Address, Bytes, ModbusDirection, ModbusLink, ModbusObject, Name, RawRecord, Record,
    RecordFields, Value,
};

/// The exception bit of the function code byte.
pub const EXCEPTION_BIT: u8 = 0x80;
/// Function 2B's MEI type for Read Device Identification.
pub const MEI_DEVICE_ID: u8 = 0x0E;

/// Public function codes of the Modbus Application Protocol V1.1b3.
pub mod fc {
    /// Read Coils.
    pub const READ_COILS: u8 = 0x01;
    /// Read Discrete Inputs.
    pub const READ_DISCRETE_INPUTS: u8 = 0x02;
    /// Read Holding Registers.
    pub const READ_HOLDING_REGISTERS: u8 = 0x03;
    /// Read Input Registers.
    pub const READ_INPUT_REGISTERS: u8 = 0x04;
    /// Write Single Coil.
    pub const WRITE_SINGLE_COIL: u8 = 0x05;
    /// Write Single Register.
    pub const WRITE_SINGLE_REGISTER: u8 = 0x06;
    /// Write Multiple Coils.
    pub const WRITE_MULTIPLE_COILS: u8 = 0x0F;
    /// Write Multiple Registers.
    pub const WRITE_MULTIPLE_REGISTERS: u8 = 0x10;
    /// Read/Write Multiple Registers.
    pub const READ_WRITE_MULTIPLE_REGISTERS: u8 = 0x17;
    /// Encapsulated Interface Transport (MEI 0E: Read Device Identification).
    pub const ENCAPSULATED_INTERFACE: u8 = 0x2B;
}

/// The name of a function code (without the exception bit); `mei` is function 2B's MEI type.
pub fn function_name(function: u8, mei: Option<u8>) -> Option<&'static str> {
    Some(match function {
        0x01 => "read_coils",
        0x02 => "read_discrete_inputs",
        0x03 => "read_holding_registers",
        0x04 => "read_input_registers",
        0x05 => "write_single_coil",
        0x06 => "write_single_register",
        0x07 => "read_exception_status",
        0x08 => "diagnostics",
        0x0B => "get_comm_event_counter",
        0x0C => "get_comm_event_log",
        0x0F => "write_multiple_coils",
        0x10 => "write_multiple_registers",
        0x11 => "report_server_id",
        0x14 => "read_file_record",
        0x15 => "write_file_record",
        0x16 => "mask_write_register",
        0x17 => "read_write_multiple_registers",
        0x18 => "read_fifo_queue",
        0x2B => match mei {
            Some(MEI_DEVICE_ID) => "read_device_identification",
            Some(0x0D) => "can_open_general_reference",
            _ => "encapsulated_interface_transport",
        },
        _ => return None,
    })
}

/// The name of an exception code (digest §3).
pub fn exception_name(code: u8) -> Option<&'static str> {
    Some(match code {
        0x01 => "illegal_function",
        0x02 => "illegal_data_address",
        0x03 => "illegal_data_value",
        0x04 => "server_device_failure",
        0x05 => "acknowledge",
        0x06 => "server_device_busy",
        0x08 => "memory_parity_error",
        0x0A => "gateway_path_unavailable",
        0x0B => "gateway_target_device_failed_to_respond",
        _ => return None,
    })
}

/// The name of a device identification object id 00–06.
pub fn object_name(id: u8) -> Option<&'static str> {
    Some(match id {
        0x00 => "vendor_name",
        0x01 => "product_code",
        0x02 => "major_minor_revision",
        0x03 => "vendor_url",
        0x04 => "product_name",
        0x05 => "model_name",
        0x06 => "user_application_name",
        _ => return None,
    })
}

fn at(pdu: &[u8], i: usize) -> Option<usize> {
    pdu.get(i).map(|b| usize::from(*b))
}

/// The PDU lengths (function code included) the function code rules of digest §2 allow for
/// the PDU that starts `pdu`: `[request, response]`, `None` where the function has no such
/// layout (or is not decoded). When a byte count is not in `pdu` yet, the value is a lower
/// bound, longer than `pdu`.
pub fn adu_lengths(pdu: &[u8]) -> [Option<usize>; 2] {
    let Some(&code) = pdu.first() else {
        return [None, None];
    };
    // A missing byte count: one byte past what is there.
    let bc =
        |i: usize, plus: usize| at(pdu, i).map_or(i.saturating_add(1), |n| n.saturating_add(plus));
    if code & EXCEPTION_BIT != 0 {
        return [None, Some(2)];
    }
    match code {
        0x01..=0x04 => [Some(5), Some(bc(1, 2))],
        0x05 | 0x06 => [Some(5), None],
        0x0F | 0x10 => [Some(bc(5, 6)), Some(5)],
        0x17 => [Some(bc(9, 10)), Some(bc(1, 2))],
        0x2B => match pdu.get(1) {
            None => [Some(4), Some(7)],
            Some(&MEI_DEVICE_ID) => [Some(4), Some(device_id_response_len(pdu))],
            Some(_) => [None, None],
        },
        _ => [None, None],
    }
}

/// The length of a Read Device Identification response from its object list (a lower bound
/// when `pdu` ends inside it).
fn device_id_response_len(pdu: &[u8]) -> usize {
    let Some(n) = pdu.get(6) else {
        return 7;
    };
    let mut pos = 7usize;
    for _ in 0..*n {
        match at(pdu, pos.saturating_add(1)) {
            Some(len) => pos = pos.saturating_add(2).saturating_add(len),
            None => return pos.saturating_add(2),
        }
    }
    pos
}

fn u16_at(data: &[u8], i: usize) -> u16 {
    match data.get(i..i.saturating_add(2)) {
        Some(&[hi, lo]) => u16::from_be_bytes([hi, lo]),
        _ => 0,
    }
}

fn words(bytes: &[u8]) -> Vec<u16> {
    bytes
        .chunks_exact(2)
        .map(|w| match w {
            &[hi, lo] => u16::from_be_bytes([hi, lo]),
            _ => 0,
        })
        .collect()
}

fn bits(bytes: &[u8]) -> Vec<bool> {
    bytes
        .iter()
        .flat_map(|b| (0..8).map(move |i| (b >> i) & 1 == 1))
        .collect()
}

/// What decoding the PDU adds to the model besides `link`.
#[derive(Debug, Default)]
pub struct Pdu {
    /// One record per register or coil value.
    pub records: Vec<Record>,
    /// PDU data without a decoded layout, as hex.
    pub application_data: Option<Bytes>,
    /// Oddities that did not stop decoding.
    pub warnings: Vec<String>,
}

/// Decodes `pdu` (function code and data) into `link` and the returned parts. Never fails:
/// data that fits no layout of its function stays hex in `application_data`, with a warning.
///
/// `answers_request`: the caller knows the frame answers a request (the `request` option
/// names its unit and function), so a frame that fits both layouts is the response, and a
/// 05/06 echo is `response`.
pub fn decode(pdu: &[u8], link: &mut ModbusLink, answers_request: bool) -> Pdu {
    let mut out = Pdu::default();
    let Some((&code, data)) = pdu.split_first() else {
        return out;
    };
    let function = code & !EXCEPTION_BIT;
    link.function = function;
    if code & EXCEPTION_BIT != 0 {
        link.exception = true;
        link.function_name = function_name(function, None).map(Name::Borrowed);
        link.direction = Some(ModbusDirection::Response);
        match data {
            [c] => {
                link.exception_code = Some(*c);
                link.exception_name = exception_name(*c).map(Name::Borrowed);
                if link.exception_name.is_none() {
                    out.warnings.push(format!(
                        "exception code 0x{c:02X} is not a public Modbus exception"
                    ));
                }
            }
            _ => raw(
                &mut out,
                link,
                data,
                format!(
                    "exception response with {} data bytes (one expected): kept as hex",
                    data.len()
                ),
            ),
        }
        return out;
    }
    link.function_name = function_name(function, data.first().copied()).map(Name::Borrowed);
    let decoded = match function {
        fc::READ_COILS..=fc::READ_INPUT_REGISTERS => read(data, link, &mut out, answers_request),
        fc::WRITE_SINGLE_COIL | fc::WRITE_SINGLE_REGISTER => {
            write_single(data, link, &mut out, answers_request)
        }
        fc::WRITE_MULTIPLE_COILS | fc::WRITE_MULTIPLE_REGISTERS => {
            write_multiple(data, link, &mut out)
        }
        fc::READ_WRITE_MULTIPLE_REGISTERS => read_write(data, link, &mut out, answers_request),
        fc::ENCAPSULATED_INTERFACE => encapsulated(data, link, &mut out),
        _ => {
            let what = match link.function_name.as_deref() {
                Some(name) => format!("function code 0x{function:02X} ({name}) is not decoded"),
                None => format!("function code 0x{function:02X} is not a public Modbus function"),
            };
            if data.is_empty() {
                out.warnings.push(what);
            } else {
                raw(
                    &mut out,
                    link,
                    data,
                    format!("{what}: PDU data kept as hex"),
                );
            }
            return out;
        }
    };
    if !decoded {
        raw(
            &mut out,
            link,
            data,
            format!(
                "{} PDU data bytes fit neither the request nor the response layout of function 0x{function:02X}: kept as hex",
                data.len()
            ),
        );
    }
    out
}

fn raw(out: &mut Pdu, link: &mut ModbusLink, data: &[u8], warning: String) {
    link.direction = None;
    if !data.is_empty() {
        out.application_data = Some(Bytes::new(data));
    }
    out.warnings.push(warning);
}

/// The record quantity of a value of `function`.
fn quantity_of(function: u8) -> &'static str {
    match function {
        fc::READ_COILS | fc::WRITE_SINGLE_COIL | fc::WRITE_MULTIPLE_COILS => "coil",
        fc::READ_DISCRETE_INPUTS => "discrete_input",
        fc::READ_INPUT_REGISTERS => "input_register",
        _ => "holding_register",
    }
}

fn register_records(out: &mut Pdu, function: u8, raw: &[u8], start: Option<u16>) {
    for (i, w) in raw.chunks_exact(2).enumerate() {
        let value = match w {
            &[hi, lo] => u16::from_be_bytes([hi, lo]),
            _ => 0,
        };
        let mut r = RecordFields::new(quantity_of(function));
        r.value = Some(Value::Number(Decimal::from_int(i128::from(value))));
        r.address = address(start, i);
        r.raw = Some(RawRecord::from_parts(0, w, 0, 0));
        out.records.push(r.into());
    }
}

fn coil_records(out: &mut Pdu, function: u8, coils: &[bool], start: Option<u16>) {
    for (i, on) in coils.iter().enumerate() {
        let mut r = RecordFields::new(quantity_of(function));
        r.value = Some(Value::Number(Decimal::from_int(i128::from(u8::from(*on)))));
        r.address = address(start, i);
        out.records.push(r.into());
    }
}

fn address(start: Option<u16>, i: usize) -> Option<Address> {
    let i = u32::try_from(i).ok()?;
    start.map(|s| Address::Number(u32::from(s).saturating_add(i)))
}

/// 01–04: `start qty` (request) or `byte_count data` (response).
fn read(data: &[u8], link: &mut ModbusLink, out: &mut Pdu, answers_request: bool) -> bool {
    let f = link.function;
    let registers = matches!(f, fc::READ_HOLDING_REGISTERS | fc::READ_INPUT_REGISTERS);
    let response = match data.split_first() {
        Some((&bc, rest)) => rest.len() == usize::from(bc) && (!registers || bc % 2 == 0),
        None => false,
    };
    let request = data.len() == 4 && !(response && answers_request);
    if request {
        let (start, qty) = (u16_at(data, 0), u16_at(data, 2));
        link.direction = Some(ModbusDirection::Request);
        link.start_address = Some(start);
        link.quantity = Some(qty);
        let max = if registers { 125 } else { 2000 };
        if qty == 0 || qty > max {
            out.warnings
                .push(format!("quantity {qty} is outside 1…{max}"));
        }
        if response {
            out.warnings.push(String::from(
                "the frame also reads as a response of 3 data bytes; taken as a request",
            ));
        }
        return true;
    }
    let Some((&bc, rest)) = data.split_first().filter(|_| response) else {
        return false;
    };
    link.direction = Some(ModbusDirection::Response);
    link.byte_count = Some(bc);
    if registers {
        link.registers = words(rest);
        register_records(out, f, rest, None);
    } else {
        link.coils = bits(rest);
        let coils = core::mem::take(&mut link.coils);
        coil_records(out, f, &coils, None);
        link.coils = coils;
    }
    true
}

/// 05, 06: `address value`, the same in the request and its echo.
fn write_single(data: &[u8], link: &mut ModbusLink, out: &mut Pdu, answers_request: bool) -> bool {
    if data.len() != 4 {
        return false;
    }
    let (addr, value) = (u16_at(data, 0), u16_at(data, 2));
    link.direction = Some(if answers_request {
        ModbusDirection::Response
    } else {
        ModbusDirection::RequestOrEcho
    });
    link.start_address = Some(addr);
    link.values = alloc::vec![value];
    if link.function == fc::WRITE_SINGLE_COIL {
        match value {
            0xFF00 => link.coils = alloc::vec![true],
            0x0000 => link.coils = alloc::vec![false],
            _ => out.warnings.push(format!(
                "coil value 0x{value:04X} is neither 0xFF00 (on) nor 0x0000 (off)"
            )),
        }
        let coils = core::mem::take(&mut link.coils);
        coil_records(out, link.function, &coils, Some(addr));
        link.coils = coils;
    } else {
        register_records(
            out,
            link.function,
            data.get(2..4).unwrap_or(&[]),
            Some(addr),
        );
    }
    true
}

/// 0F, 10: `start qty byte_count data` (request) or `start qty` (response).
fn write_multiple(data: &[u8], link: &mut ModbusLink, out: &mut Pdu) -> bool {
    let f = link.function;
    let (start, qty) = (u16_at(data, 0), u16_at(data, 2));
    if data.len() == 4 {
        link.direction = Some(ModbusDirection::Response);
        link.start_address = Some(start);
        link.quantity = Some(qty);
        return true;
    }
    let Some((&bc, payload)) = data.get(4..).and_then(|d| d.split_first()) else {
        return false;
    };
    let registers = f == fc::WRITE_MULTIPLE_REGISTERS;
    if payload.len() != usize::from(bc) || (registers && bc % 2 != 0) {
        return false;
    }
    link.direction = Some(ModbusDirection::Request);
    link.start_address = Some(start);
    link.quantity = Some(qty);
    link.byte_count = Some(bc);
    if registers {
        link.values = words(payload);
        if usize::from(qty) != link.values.len() {
            out.warnings.push(format!(
                "quantity {qty} but {} register values follow",
                link.values.len()
            ));
        }
        register_records(out, f, payload, Some(start));
    } else {
        let all = bits(payload);
        let q = usize::from(qty);
        let fits = q > 0 && q.div_ceil(8) == payload.len();
        let padding_clear = all.get(q..).is_some_and(|p| p.iter().all(|b| !b));
        link.coils = if fits && padding_clear {
            all.into_iter().take(q).collect()
        } else {
            out.warnings.push(format!(
                "quantity {qty} does not fill {bc} coil bytes with clear unused bits: every bit kept"
            ));
            all
        };
        let coils = core::mem::take(&mut link.coils);
        coil_records(out, f, &coils, Some(start));
        link.coils = coils;
    }
    true
}

/// 17: `read_start read_qty write_start write_qty byte_count values` (request) or
/// `byte_count registers` (response).
fn read_write(data: &[u8], link: &mut ModbusLink, out: &mut Pdu, answers_request: bool) -> bool {
    let f = link.function;
    let response = data
        .first()
        .is_some_and(|&bc| bc % 2 == 0 && data.len() == 1usize.saturating_add(usize::from(bc)));
    let request = data
        .get(8)
        .is_some_and(|&bc| bc % 2 == 0 && data.len() == 9usize.saturating_add(usize::from(bc)))
        && !(response && answers_request);
    if request {
        let payload = data.get(9..).unwrap_or(&[]);
        let write_start = u16_at(data, 4);
        link.direction = Some(ModbusDirection::Request);
        link.start_address = Some(u16_at(data, 0));
        link.quantity = Some(u16_at(data, 2));
        link.write_start_address = Some(write_start);
        link.write_quantity = Some(u16_at(data, 6));
        link.byte_count = data.get(8).copied();
        link.values = words(payload);
        register_records(out, f, payload, Some(write_start));
        if response {
            out.warnings.push(String::from(
                "the frame also reads as a response; taken as a request",
            ));
        }
        return true;
    }
    let Some((&bc, rest)) = data.split_first().filter(|_| response) else {
        return false;
    };
    link.direction = Some(ModbusDirection::Response);
    link.byte_count = Some(bc);
    link.registers = words(rest);
    register_records(out, f, rest, None);
    true
}

/// 2B: MEI 0E `code object_id` (request) or `code conformity more next n {id len value}…`
/// (response); other MEI types stay hex.
fn encapsulated(data: &[u8], link: &mut ModbusLink, out: &mut Pdu) -> bool {
    let Some((&mei, rest)) = data.split_first() else {
        return false;
    };
    if mei != MEI_DEVICE_ID {
        raw(
            out,
            link,
            data,
            format!("MEI type 0x{mei:02X} is not decoded: PDU data kept as hex"),
        );
        link.mei_type = Some(mei);
        return true;
    }
    if let [code, object] = rest {
        link.direction = Some(ModbusDirection::Request);
        link.mei_type = Some(mei);
        link.read_device_id_code = Some(*code);
        link.object_id = Some(*object);
        return true;
    }
    let [code, conformity, more, next, n, objects @ ..] = rest else {
        return false;
    };
    let mut list = Vec::new();
    let mut pos = objects;
    for _ in 0..*n {
        let [id, len, tail @ ..] = pos else {
            return false;
        };
        let Some((value, after)) = tail.split_at_checked(usize::from(*len)) else {
            return false;
        };
        let text = value.iter().all(|b| (0x20..0x7F).contains(b));
        list.push(ModbusObject {
            id: *id,
            name: object_name(*id).map(Name::Borrowed),
            value: text.then(|| value.iter().map(|b| char::from(*b)).collect()),
            hex: (!text).then(|| Bytes::new(value)),
        });
        pos = after;
    }
    if !pos.is_empty() {
        return false;
    }
    link.direction = Some(ModbusDirection::Response);
    link.mei_type = Some(mei);
    link.read_device_id_code = Some(*code);
    link.conformity_level = Some(*conformity);
    link.more_follows = Some(*more);
    link.next_object_id = Some(*next);
    link.objects = list;
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hex::parse_hex;

    fn pdu(hex: &str) -> (ModbusLink, Pdu) {
        let mut link = ModbusLink::default();
        let out = decode(&parse_hex(hex).unwrap(), &mut link, false);
        (link, out)
    }

    #[test]
    fn lengths_follow_the_function_code_rules() {
        let cases: &[(&str, [Option<usize>; 2])] = &[
            ("03", [Some(5), Some(2)]),
            ("03 08", [Some(5), Some(10)]),
            ("06", [Some(5), None]),
            ("10 00 01 00 02", [Some(6), Some(5)]),
            ("10 00 01 00 02 04", [Some(10), Some(5)]),
            ("17 02", [Some(10), Some(4)]),
            ("2B 0E 01 00", [Some(4), Some(7)]),
            ("83", [None, Some(2)]),
            ("41", [None, None]),
        ];
        for (hex, want) in cases {
            assert_eq!(&adu_lengths(&parse_hex(hex).unwrap()), want, "{hex}");
        }
    }

    #[test]
    fn requests_and_responses_by_length() {
        let (l, _) = pdu("03 00 00 00 02");
        assert_eq!(l.direction, Some(ModbusDirection::Request));
        assert_eq!((l.start_address, l.quantity), (Some(0), Some(2)));
        let (l, p) = pdu("03 04 00 00 C1 48");
        assert_eq!(l.direction, Some(ModbusDirection::Response));
        assert_eq!(l.registers, [0x0000, 0xC148]);
        assert_eq!(p.records.len(), 2);
        assert!(p.records.iter().all(|r| r.address().is_none()));
        let (l, p) = pdu("06 00 0A 00 01");
        assert_eq!(l.direction, Some(ModbusDirection::RequestOrEcho));
        assert_eq!(p.records[0].address(), Some(Address::Number(10)).as_ref());
        let (l, _) = pdu("01 01 05");
        assert_eq!(
            l.coils,
            [true, false, true, false, false, false, false, false]
        );
        let (l, p) = pdu("0F 00 00 00 0A 02 CD 01");
        assert_eq!(l.coils.len(), 10);
        assert_eq!(p.records[9].address(), Some(Address::Number(9)).as_ref());
        let (l, p) = pdu("03 05 00 00 00 00 00");
        assert_eq!(l.direction, None);
        assert!(p.application_data.is_some() && !p.warnings.is_empty());
    }

    #[test]
    fn device_identification_response() {
        let (l, p) = pdu("2B 0E 01 01 00 00 02 00 03 41 42 43 01 02 00 FF");
        assert_eq!(l.direction, Some(ModbusDirection::Response));
        assert_eq!(l.objects.len(), 2);
        assert_eq!(l.objects[0].value.as_deref(), Some("ABC"));
        assert_eq!(
            l.objects[1].hex.as_ref().map(|b| b.as_slice()),
            Some(&[0x00, 0xFF][..])
        );
        assert!(p.warnings.is_empty());
    }
}
