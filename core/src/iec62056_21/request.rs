//! Builders for IEC 62056-21 messages: what a reading head sends (sign-on, option select,
//! password, read, write, execute, break, ACK, NAK) and, for meter simulators, the meter's
//! identification, data and error messages. Each returns the message's bytes, with the BCC
//! computed, and decodes back to the same message.
//!
//! ```
//! use meterwire::iec62056_21::request;
//!
//! // Digest I1 and I13: sign-on without address, break.
//! assert_eq!(request::sign_on("")?, b"/?!\r\n");
//! assert_eq!(request::break_message(), [0x01, b'B', b'0', 0x03, 0x71]);
//! // Digest I10: read data set 8.0.
//! assert_eq!(request::read("8.0", "")?, b"\x01R1\x028.0()\x03\x45");
//! # Ok::<(), meterwire::Error>(())
//! ```
//!
//! Text arguments must be printable ASCII without the characters that delimit their field
//! (`(`, `)`, `*`, `!`, `/`): otherwise a `malformed` error at offset 0.

use alloc::string::String;
use alloc::vec::Vec;

use super::encode::{baud_char, mode_char};
use super::link::{self, ACK, CR, ETX, LF, NAK, SOH, STX};
use crate::error::{Detail, Error, ErrorKind, Layer, Result};

fn bad_input(text: &'static str) -> Error {
    Error::new(ErrorKind::Malformed, Layer::Input, 0, Detail::Text(text))
}

/// Checks a text argument: printable ASCII, none of `forbidden`, at most `max` characters.
fn text<'a>(value: &'a str, forbidden: &[u8], max: usize, what: &'static str) -> Result<&'a str> {
    let ok = value.len() <= max
        && value
            .bytes()
            .all(|b| (0x20..0x7F).contains(&b) && !forbidden.contains(&b));
    ok.then_some(value).ok_or(bad_input(what))
}

/// `/ ? [address] ! CR LF`: the sign-on request (an empty address for the usual point-to-point
/// optical head).
pub fn sign_on(address: &str) -> Result<Vec<u8>> {
    let address = text(
        address,
        b"!/?",
        32,
        "iec62056-21 sign-on: the device address is up to 32 printable characters without ! / ?",
    )?;
    let mut out = Vec::from(&b"/?"[..]);
    out.extend_from_slice(address.as_bytes());
    out.extend_from_slice(b"!\r\n");
    Ok(out)
}

/// The protocol mode C/E option select `ACK V Z Y CR LF`: protocol control `0` (normal),
/// the baud rate's character, and the mode (`data_readout`, `programming`, `binary`).
pub fn option_select(baud: u32, mode: &str) -> Result<Vec<u8>> {
    let z = baud_char(baud).ok_or(bad_input(
        "iec62056-21 option select: baud is one of 300, 600, 1200, 2400, 4800, 9600, 19200",
    ))?;
    let y = mode_char(mode).ok_or(bad_input(
        "iec62056-21 option select: mode is data_readout, programming or binary",
    ))?;
    let v = if y == b'2' { b'2' } else { b'0' };
    Ok(alloc::vec![ACK, v, z, y, CR, LF])
}

/// A lone ACK.
pub fn ack() -> Vec<u8> {
    alloc::vec![ACK]
}

/// A lone NAK (repeat request).
pub fn nak() -> Vec<u8> {
    alloc::vec![NAK]
}

/// `/ XXX Z [\W] ident CR LF`: a meter's identification (`baud` in mode C/E characters).
pub fn identification(
    manufacturer: &str,
    baud: u32,
    enhanced_id: Option<char>,
    ident: &str,
) -> Result<Vec<u8>> {
    if manufacturer.len() != 3 || !manufacturer.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(bad_input(
            "iec62056-21 identification: manufacturer is 3 letters",
        ));
    }
    let z = baud_char(baud).ok_or(bad_input(
        "iec62056-21 identification: baud is one of 300, 600, 1200, 2400, 4800, 9600, 19200",
    ))?;
    let ident = text(
        ident,
        b"/!",
        16,
        "iec62056-21 identification: up to 16 printable characters without / !",
    )?;
    let mut out = alloc::vec![b'/'];
    out.extend_from_slice(manufacturer.as_bytes());
    out.push(z);
    if let Some(w) = enhanced_id {
        let w = u8::try_from(w)
            .ok()
            .filter(u8::is_ascii_digit)
            .ok_or(bad_input(
                "iec62056-21 identification: enhanced id is a digit",
            ))?;
        out.extend_from_slice(&[b'\\', w]);
    }
    out.extend_from_slice(ident.as_bytes());
    out.extend_from_slice(&[CR, LF]);
    Ok(out)
}

/// `SOH C D STX data ETX BCC`.
fn command(c: u8, d: u8, data: &[u8]) -> Vec<u8> {
    let mut out = alloc::vec![SOH, c, d, STX];
    out.extend_from_slice(data);
    out.push(ETX);
    let bcc = link::bcc(out.get(1..).unwrap_or(&[]));
    out.push(bcc);
    out
}

/// `address(value)` with checked parts.
fn data_set(address: &str, value: &str) -> Result<Vec<u8>> {
    let address = text(
        address,
        b"()/!",
        16,
        "iec62056-21: a data-set address is up to 16 printable characters without ( ) / !",
    )?;
    let value = text(
        value,
        b"()/!",
        128,
        "iec62056-21: a value is printable characters without ( ) / !",
    )?;
    let mut out = Vec::with_capacity(address.len().saturating_add(value.len()).saturating_add(2));
    out.extend_from_slice(address.as_bytes());
    out.push(b'(');
    out.extend_from_slice(value.as_bytes());
    out.push(b')');
    Ok(out)
}

/// `SOH P d STX (password) ETX BCC`: `kind` `0` operand, `1` password, `2` secured result.
pub fn password(kind: char, password: &str) -> Result<Vec<u8>> {
    let d = match kind {
        '0' | '1' | '2' => kind as u8,
        _ => return Err(bad_input("iec62056-21 password: type is 0, 1 or 2")),
    };
    Ok(command(b'P', d, &data_set("", password)?))
}

/// `SOH R1 STX address(option) ETX BCC`: read a data set (`option` is usually empty).
pub fn read(address: &str, option: &str) -> Result<Vec<u8>> {
    Ok(command(b'R', b'1', &data_set(address, option)?))
}

/// `SOH W1 STX address(value) ETX BCC`: write a data set.
pub fn write(address: &str, value: &str) -> Result<Vec<u8>> {
    Ok(command(b'W', b'1', &data_set(address, value)?))
}

/// `SOH E2 STX address(value) ETX BCC`: execute a function.
pub fn execute(address: &str, value: &str) -> Result<Vec<u8>> {
    Ok(command(b'E', b'2', &data_set(address, value)?))
}

/// `SOH B0 ETX BCC`: break (complete sign-off).
pub fn break_message() -> Vec<u8> {
    let mut out = alloc::vec![SOH, b'B', b'0', ETX];
    let bcc = link::bcc(out.get(1..).unwrap_or(&[]));
    out.push(bcc);
    out
}

/// `STX (text) ETX BCC`: an error message (`ER01`).
pub fn error_message(error: &str) -> Result<Vec<u8>> {
    let data = data_set("", error)?;
    Ok(data_message_of(&data))
}

fn data_message_of(block: &[u8]) -> Vec<u8> {
    let mut out = alloc::vec![STX];
    out.extend_from_slice(block);
    out.push(ETX);
    let bcc = link::bcc(out.get(1..).unwrap_or(&[]));
    out.push(bcc);
    out
}

/// `STX address(value*unit) CR LF … ! CR LF ETX BCC`: a readout data message from
/// `(address, value, unit)` triples (empty unit: none written).
pub fn readout(data_sets: &[(&str, &str, &str)]) -> Result<Vec<u8>> {
    let mut block = Vec::new();
    for (address, value, unit) in data_sets {
        let mut value_unit = String::from(*value);
        if !unit.is_empty() {
            value_unit.push('*');
            value_unit.push_str(unit);
        }
        block.extend_from_slice(&data_set(address, &value_unit)?);
        block.extend_from_slice(&[CR, LF]);
    }
    block.extend_from_slice(b"!\r\n");
    Ok(data_message_of(&block))
}

/// Sets 7E1 even-parity bits on every byte (for a port that sends 8 data bits).
pub fn with_parity(mut message: Vec<u8>) -> Vec<u8> {
    for b in &mut message {
        *b = link::with_parity(*b);
    }
    message
}

/// A message described as data: what `iec62056_21_message` (Python) and `iec62056Message`
/// (Node, WASM) take. JSON form:
/// `{"message": "sign_on" | "option_select" | "ack" | "nak" | "identification" | "password" |
/// "read" | "write" | "execute" | "break" | "error" | "readout", "address"?, "value"?,
/// "baud"?, "mode"?, "manufacturer"?, "enhanced_id"?, "identification"?, "type"?,
/// "data_sets"?: [{"address", "value", "unit"?}], "parity"?}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageSpec {
    /// Which message.
    pub message: String,
    /// Sign-on: the device address; read, write, execute: the data-set address.
    #[serde(default)]
    pub address: Option<String>,
    /// Write, execute: the value; password: the password; error: the error text; read: the
    /// option between the parentheses.
    #[serde(default)]
    pub value: Option<String>,
    /// Option select, identification: the baud rate (default 9600).
    #[serde(default)]
    pub baud: Option<u32>,
    /// Option select: `data_readout` (default), `programming`, `binary`.
    #[serde(default)]
    pub mode: Option<String>,
    /// Identification: the 3 manufacturer letters.
    #[serde(default)]
    pub manufacturer: Option<String>,
    /// Identification: the enhanced identification digit.
    #[serde(default)]
    pub enhanced_id: Option<String>,
    /// Identification: the identification text.
    #[serde(default)]
    pub identification: Option<String>,
    /// Password: `0`, `1` (default) or `2`.
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    /// Readout: the data sets.
    #[serde(default)]
    pub data_sets: Option<Vec<DataSetSpec>>,
    /// Set 7E1 even-parity bits on every byte.
    #[serde(default)]
    pub parity: bool,
}

/// One data set of a readout [`MessageSpec`].
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataSetSpec {
    /// The data-set address.
    pub address: String,
    /// The value text.
    pub value: String,
    /// The unit text (none when absent).
    #[serde(default)]
    pub unit: Option<String>,
}

impl MessageSpec {
    /// Builds the message; a missing or invalid parameter is a `malformed` error at offset 0.
    pub fn build(&self) -> Result<Vec<u8>> {
        let address = || self.address.as_deref().unwrap_or("");
        let value = || self.value.as_deref().unwrap_or("");
        let bytes = match self.message.replace('-', "_").as_str() {
            "sign_on" => sign_on(address())?,
            "option_select" | "ack_option_select" => option_select(
                self.baud.unwrap_or(9600),
                self.mode.as_deref().unwrap_or("data_readout"),
            )?,
            "ack" => ack(),
            "nak" => nak(),
            "identification" => {
                let enhanced = match self.enhanced_id.as_deref() {
                    None | Some("") => None,
                    Some(e) => {
                        let mut chars = e.chars();
                        match (chars.next(), chars.next()) {
                            (Some(c), None) => Some(c),
                            _ => {
                                return Err(bad_input(
                                    "iec62056-21 identification: enhanced id is a digit",
                                ))
                            }
                        }
                    }
                };
                identification(
                    self.manufacturer.as_deref().unwrap_or(""),
                    self.baud.unwrap_or(9600),
                    enhanced,
                    self.identification.as_deref().unwrap_or(""),
                )?
            }
            "password" => {
                let kind = self.kind.as_deref().unwrap_or("1");
                let mut chars = kind.chars();
                let k = match (chars.next(), chars.next()) {
                    (Some(k), None) => k,
                    _ => return Err(bad_input("iec62056-21 password: type is 0, 1 or 2")),
                };
                password(k, value())?
            }
            "read" => read(address(), value())?,
            "write" => write(address(), value())?,
            "execute" => execute(address(), value())?,
            "break" => break_message(),
            "error" => error_message(value())?,
            "readout" => {
                let sets = self.data_sets.as_deref().unwrap_or(&[]);
                let triples: Vec<(&str, &str, &str)> = sets
                    .iter()
                    .map(|s| {
                        (
                            s.address.as_str(),
                            s.value.as_str(),
                            s.unit.as_deref().unwrap_or(""),
                        )
                    })
                    .collect();
                readout(&triples)?
            }
            _ => {
                return Err(bad_input(
                    "iec62056-21 message: `message` is not one of sign_on, option_select, ack, nak, identification, password, read, write, execute, break, error, readout",
                ))
            }
        };
        Ok(if self.parity {
            with_parity(bytes)
        } else {
            bytes
        })
    }

    /// [`MessageSpec::build`] of the JSON text of a spec; text that is not a spec is a
    /// `malformed` error at offset 0.
    pub fn build_json(text: &str) -> Result<Vec<u8>> {
        serde_json::from_str::<MessageSpec>(text)
            .map_err(|_| bad_input("iec62056-21 message: not a message spec (see MessageSpec)"))?
            .build()
    }
}
