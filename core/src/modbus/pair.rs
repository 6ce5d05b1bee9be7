//! The `request` option: pairing a response with the request it answers.
//!
//! A read response does not carry the address of its first register or coil; the request
//! does. Given the request (same framing as the response), [`request_link`] decodes it and
//! [`apply`] checks that the frame answers it — same unit, same function, on TCP the same
//! transaction id, and a byte count that fits the quantity asked for — and then gives each
//! register or coil record its `address`. A request that does not fit is a warning naming
//! the mismatch; the records then keep no address. Never an error.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::app::{fc, function_name};
use crate::model::{Address, Decoded, ModbusDirection, ModbusLink, Protocol, Record};
use crate::{Options, Result};

/// The end of every mismatch warning: what the mismatch means for the records.
const NO_ADDRESSES: &str = "records without addresses";

/// Decodes the `request` option's bytes with `decode` (the same framing as the response) and
/// returns its link fields, or the warning that says why it cannot be used.
pub fn request_link(
    bytes: &[u8],
    protocol: Protocol,
    decode: fn(&[u8], &Options) -> Result<Decoded>,
) -> core::result::Result<ModbusLink, String> {
    let opts = Options::default().with_protocol(Some(protocol));
    let decoded = decode(bytes, &opts).map_err(|e| {
        format!(
            "the request option does not decode as {} ({} at byte {}: {e}): {NO_ADDRESSES}",
            protocol.as_str(),
            e.kind(),
            e.offset()
        )
    })?;
    let Some(link) = decoded.modbus_link() else {
        return Err(format!(
            "the request option is not a Modbus frame: {NO_ADDRESSES}"
        ));
    };
    match link.direction {
        Some(ModbusDirection::Request | ModbusDirection::RequestOrEcho) => Ok(link.clone()),
        Some(ModbusDirection::Response) => Err(format!(
            "the request option decodes as a response, not a request: {NO_ADDRESSES}"
        )),
        None => Err(format!(
            "the request option's PDU fits no request layout of function 0x{:02X}: {NO_ADDRESSES}",
            link.function
        )),
    }
}

/// Whether a frame of `unit` whose function byte is `code` answers `request`: then a frame
/// that fits both the request and the response layout is taken as the response.
pub fn answers(request: &ModbusLink, unit: u8, code: Option<u8>) -> bool {
    request.unit_id == unit
        && code.map(|c| c & !super::app::EXCEPTION_BIT) == Some(request.function)
}

/// Whether `frame`, decoded on its own, is the answer to `request` in a capture of one line:
/// not itself a request, from the unit and of the function asked (an exception response
/// too), and on TCP with the request's transaction id. A stream decoder then decodes it again
/// with the request as the `request` option.
pub fn answered_by(request: &ModbusLink, frame: &ModbusLink) -> bool {
    frame.direction != Some(ModbusDirection::Request)
        && answers(request, frame.unit_id, Some(frame.function))
        && frame.transaction_id == request.transaction_id
}

fn name(function: u8) -> String {
    match function_name(function, None) {
        Some(n) => format!("0x{function:02X} ({n})"),
        None => format!("0x{function:02X}"),
    }
}

/// Checks that the frame (`link`, its `records`) answers `request` and gives the register or
/// coil records of a read response their addresses (request start + index). Coil records past
/// the quantity asked for (the padding bits of the last data byte) are dropped. Mismatches
/// become warnings and leave the records without addresses.
pub fn apply(
    request: &ModbusLink,
    link: &ModbusLink,
    records: &mut Vec<Record>,
    warnings: &mut Vec<String>,
) {
    let mut warn = |text: String| warnings.push(format!("request option mismatch: {text}"));
    match link.direction {
        Some(ModbusDirection::Request) => {
            warnings.push(String::from(
                "the frame is itself a request: the request option is not used",
            ));
            return;
        }
        // A PDU kept as hex already carries its warning.
        None => return,
        Some(_) => {}
    }
    if request.unit_id != link.unit_id {
        return warn(format!(
            "the request is for unit {}, the response is from unit {}: {NO_ADDRESSES}",
            request.unit_id, link.unit_id
        ));
    }
    if request.function != link.function {
        return warn(format!(
            "the request is function {}, the response function {}: {NO_ADDRESSES}",
            name(request.function),
            name(link.function)
        ));
    }
    if let (Some(a), Some(b)) = (request.transaction_id, link.transaction_id) {
        if a != b {
            return warn(format!(
                "the request is transaction {a}, the response transaction {b}: {NO_ADDRESSES}"
            ));
        }
    }
    if link.exception {
        return;
    }
    let start = request.start_address.unwrap_or(0);
    let qty = request.quantity.unwrap_or(0);
    let bc = link.byte_count.unwrap_or(0);
    match link.function {
        fc::READ_COILS | fc::READ_DISCRETE_INPUTS => {
            let needed = qty.div_ceil(8);
            if u16::from(bc) != needed {
                return warn(format!(
                    "the request asks for {qty} coils ({needed} bytes), the response's byte count is {bc}: {NO_ADDRESSES}"
                ));
            }
            let asked = usize::from(qty);
            if link
                .coils
                .get(asked..)
                .is_some_and(|rest| rest.iter().any(|b| *b))
            {
                warnings.push(format!(
                    "bits after the {qty} coils asked for are set (they should be zero padding)"
                ));
            }
            records.truncate(asked);
            set_addresses(records, start);
        }
        fc::READ_HOLDING_REGISTERS
        | fc::READ_INPUT_REGISTERS
        | fc::READ_WRITE_MULTIPLE_REGISTERS => {
            if usize::from(qty) != link.registers.len() {
                return warn(format!(
                    "the request asks for {qty} registers, the response's byte count {bc} holds {}: {NO_ADDRESSES}",
                    link.registers.len()
                ));
            }
            set_addresses(records, start);
        }
        fc::WRITE_SINGLE_COIL | fc::WRITE_SINGLE_REGISTER
            if request.start_address != link.start_address || request.values != link.values =>
        {
            let word = |v: Option<&u16>| v.map_or(String::from("none"), |v| format!("0x{v:04X}"));
            warn(format!(
                    "the response does not echo the request (address {} value {}, the request's address {} value {})",
                    link.start_address.unwrap_or(0),
                    word(link.values.first()),
                    request.start_address.unwrap_or(0),
                    word(request.values.first())
                ));
        }
        fc::WRITE_MULTIPLE_COILS | fc::WRITE_MULTIPLE_REGISTERS
            if (request.start_address, request.quantity) != (link.start_address, link.quantity) =>
        {
            warn(format!(
                    "the response confirms start {} quantity {}, the request wrote start {start} quantity {qty}",
                    link.start_address.unwrap_or(0),
                    link.quantity.unwrap_or(0)
                ));
        }
        _ => {}
    }
}

fn set_addresses(records: &mut [Record], start: u16) {
    for (i, r) in records.iter_mut().enumerate() {
        let i = u32::try_from(i).unwrap_or(u32::MAX);
        r.set_address(Some(Address::Number(u32::from(start).saturating_add(i))));
    }
}
