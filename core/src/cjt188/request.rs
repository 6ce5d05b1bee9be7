//! Builders for the frames a CJ/T 188 master sends: read data (any DI), read address with the
//! `AA` wildcard, read key version, valve open / close, write address, set time, settlement
//! and reading day, meter-register synchronisation.
//!
//! ```
//! use meterwire::cjt188::request::Request;
//!
//! // Digest §10 E1: read 901F from cold water meter 00010012345678, SER 1.
//! let frame = Request::to("00010012345678")?.with_ser(1).read_data(0x901F)?;
//! assert_eq!(
//!     meterwire::hex::to_hex_spaced(&frame),
//!     "FE FE 68 10 78 56 34 12 00 01 00 01 03 90 1F 01 41 16"
//! );
//! # Ok::<(), meterwire::Error>(())
//! ```

use alloc::vec::Vec;

use super::app::{self, di};
use super::encode::{bcd_bytes, frame, time_bytes};
use super::link::{self, FrameRepr, WILDCARD};
use crate::decimal::Decimal;
use crate::error::{Detail, Error, ErrorKind, Layer, Result};
use crate::model::{Cjt188Direction, Cjt188Function, DiOrder, Timestamp};

fn bad_input(text: &'static str) -> Error {
    Error::new(ErrorKind::Malformed, Layer::Input, 0, Detail::Text(text))
}

/// The wake-up bytes a request starts with unless told otherwise (the digest's examples).
pub const DEFAULT_PREAMBLE: usize = 2;

/// Who a request goes to and how it is framed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request {
    /// Meter type T (10H cold water, 20H heat, 30H gas, AAH any).
    pub meter_type: u8,
    /// The meter address in wire order (A0 first).
    pub address: [u8; 7],
    /// The sequence number the meter echoes.
    pub ser: u8,
    /// The order the DI is sent in.
    pub di_order: DiOrder,
    /// Number of `FE` wake-up bytes.
    pub preamble_len: usize,
}

impl Request {
    /// A request to the meter of type `meter_type` at `address` (wire order), SER 0, DI high
    /// byte first, two wake-up bytes.
    pub const fn new(meter_type: u8, address: [u8; 7]) -> Self {
        Request {
            meter_type,
            address,
            ser: 0,
            di_order: DiOrder::HiLo,
            preamble_len: DEFAULT_PREAMBLE,
        }
    }

    /// A request to the cold water meter (T = 10H) at `address`, written A6…A0 as 14 digits
    /// (`00010012345678`; shorter decimal text is padded with zeros, `AA` bytes are
    /// wildcards).
    pub fn to(address: &str) -> Result<Self> {
        let a = link::parse_address(address).ok_or(bad_input(
            "a CJ/T 188 address is 14 hex digits A6...A0, or up to 14 decimal digits",
        ))?;
        Ok(Request::new(0x10, a))
    }

    /// A request to every meter (`AA` in every address byte) of type `meter_type` (`AA` for
    /// any type): use with read address on a bus with one meter.
    pub const fn wildcard(meter_type: u8) -> Self {
        Request::new(meter_type, [WILDCARD; 7])
    }

    /// The same request with another meter type.
    pub const fn with_meter_type(mut self, meter_type: u8) -> Self {
        self.meter_type = meter_type;
        self
    }

    /// The same request with another sequence number.
    pub const fn with_ser(mut self, ser: u8) -> Self {
        self.ser = ser;
        self
    }

    /// The same request with the DI sent in `order`.
    pub const fn with_di_order(mut self, order: DiOrder) -> Self {
        self.di_order = order;
        self
    }

    /// The same request with `n` wake-up bytes.
    pub const fn with_preamble(mut self, n: usize) -> Self {
        self.preamble_len = n;
        self
    }

    /// A request frame of `function` for `di` with `payload` after DI and SER.
    pub fn frame(&self, function: Cjt188Function, di: u16, payload: &[u8]) -> Result<Vec<u8>> {
        let control = link::control_code(function, Cjt188Direction::MasterToSlave, false);
        let mut data = Vec::with_capacity(payload.len().saturating_add(3));
        data.extend_from_slice(&self.di_order.bytes(di));
        data.push(self.ser);
        data.extend_from_slice(payload);
        frame(
            FrameRepr {
                preamble_len: self.preamble_len,
                meter_type: self.meter_type,
                address: self.address,
                control,
            },
            &data,
        )
    }

    /// Read data (C = 01H) of any DI: 901FH metering data, D120H…D12BH history, 8102H…8105H
    /// settings, or a vendor DI.
    pub fn read_data(&self, di: u16) -> Result<Vec<u8>> {
        self.frame(Cjt188Function::ReadData, di, &[])
    }

    /// Read address (C = 03H, DI 810AH); send it to [`Request::wildcard`].
    pub fn read_address(&self) -> Result<Vec<u8>> {
        self.frame(Cjt188Function::ReadAddress, di::ADDRESS, &[])
    }

    /// Read key version (C = 09H, DI 8106H).
    pub fn read_key_version(&self) -> Result<Vec<u8>> {
        self.frame(Cjt188Function::ReadKeyVersion, di::KEY_VERSION, &[])
    }

    /// Valve control (C = 04H, DI A017H): `55` open, `99` close.
    pub fn valve(&self, open: bool) -> Result<Vec<u8>> {
        self.valve_command(if open { 0x55 } else { 0x99 })
    }

    /// Valve control with any command byte (vendors add `AA` exercise, `77` half open).
    pub fn valve_command(&self, code: u8) -> Result<Vec<u8>> {
        self.frame(Cjt188Function::WriteData, di::VALVE, &[code])
    }

    /// Write address (C = 15H, DI A018H): give the meter `new_address` (wire order).
    pub fn write_address(&self, new_address: [u8; 7]) -> Result<Vec<u8>> {
        self.frame(
            Cjt188Function::WriteAddress,
            di::WRITE_ADDRESS,
            &new_address,
        )
    }

    /// Write standard time (C = 04H, DI A015H).
    pub fn set_time(&self, time: &Timestamp) -> Result<Vec<u8>> {
        self.frame(
            Cjt188Function::WriteData,
            di::WRITE_TIME,
            &time_bytes(time)?,
        )
    }

    /// Write the settlement day (C = 04H, DI A011H), a day of the month 1–31.
    pub fn settlement_day(&self, day: u8) -> Result<Vec<u8>> {
        self.frame(
            Cjt188Function::WriteData,
            di::WRITE_SETTLEMENT_DAY,
            &[day_byte(day)?],
        )
    }

    /// Write the reading day (C = 04H, DI A012H), a day of the month 1–31.
    pub fn reading_day(&self, day: u8) -> Result<Vec<u8>> {
        self.frame(
            Cjt188Function::WriteData,
            di::WRITE_READING_DAY,
            &[day_byte(day)?],
        )
    }

    /// Meter-register synchronisation (C = 16H, DI A016H): the cumulative flow the
    /// electronics take over from the mechanical register, `XXXXXX.XX` in `unit` (`m3`,
    /// `L`, …).
    pub fn sync(&self, value: Decimal, unit: &str) -> Result<Vec<u8>> {
        let code = app::unit_code(unit).ok_or(bad_input("the unit has no CJ/T 188 unit code"))?;
        let m = value
            .scaled(2)
            .and_then(|v| v.to_i128())
            .ok_or(bad_input("the value has more than 2 decimals"))?;
        let mut payload = bcd_bytes(m, 4)?;
        payload.push(code);
        self.frame(Cjt188Function::WriteSync, di::WRITE_SYNC, &payload)
    }
}

fn day_byte(day: u8) -> Result<u8> {
    if !(1..=31).contains(&day) {
        return Err(bad_input("a day of the month is 1 to 31"));
    }
    Ok(((day / 10) << 4) | (day % 10))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hex::parse_hex;

    fn meter() -> Request {
        Request::to("00010012345678").unwrap()
    }

    #[test]
    fn digest_examples() {
        // §10 E1, E3, E4, E5, E8, E9: frames computed by the digest's script.
        assert_eq!(
            meter().with_ser(1).read_data(0x901F).unwrap(),
            parse_hex("FE FE 68 10 78 56 34 12 00 01 00 01 03 90 1F 01 41 16").unwrap()
        );
        assert_eq!(
            meter()
                .with_ser(2)
                .with_di_order(DiOrder::LoHi)
                .with_preamble(0)
                .read_data(0x901F)
                .unwrap(),
            parse_hex("68 10 78 56 34 12 00 01 00 01 03 1F 90 02 42 16").unwrap()
        );
        assert_eq!(
            Request::wildcard(0x10).with_ser(3).read_address().unwrap(),
            parse_hex("FE FE 68 10 AA AA AA AA AA AA AA 03 03 81 0A 03 B2 16").unwrap()
        );
        assert_eq!(
            meter().with_ser(4).valve(false).unwrap(),
            parse_hex("FE FE 68 10 78 56 34 12 00 01 00 04 04 A0 17 04 99 E9 16").unwrap()
        );
        assert_eq!(
            meter().with_ser(7).read_data(0xD120).unwrap(),
            parse_hex("FE FE 68 10 78 56 34 12 00 01 00 01 03 D1 20 07 89 16").unwrap()
        );
        let t = Timestamp::parse("2025-06-01T12:00:00").unwrap();
        assert_eq!(
            meter().with_ser(8).set_time(&t).unwrap(),
            parse_hex("FE FE 68 10 78 56 34 12 00 01 00 04 0A A0 15 08 00 00 12 01 06 25 20 B6 16")
                .unwrap()
        );
    }

    #[test]
    fn other_requests_decode_back() {
        let new = link::parse_address("00010012345679").unwrap();
        let frames = [
            meter().valve(true).unwrap(),
            meter().write_address(new).unwrap(),
            meter().settlement_day(15).unwrap(),
            meter().reading_day(1).unwrap(),
            meter().read_key_version().unwrap(),
            meter()
                .sync(Decimal::parse("1234.5").unwrap(), "m3")
                .unwrap(),
        ];
        for f in frames {
            let d = crate::decode(&f, &crate::Options::default()).unwrap();
            assert!(d.warnings.is_empty(), "{:?}", d.warnings);
            assert_eq!(crate::encode(&d).unwrap(), f);
        }
        assert!(meter().settlement_day(32).is_err());
        assert!(meter()
            .sync(Decimal::parse("1.234").unwrap(), "m3")
            .is_err());
        assert!(Request::to("12AB").is_err());
    }
}
