//! Builders for the requests a wired M-Bus master sends (EN 13757-2/-3,
//! `mbus-tables.md` §14): link reset, data requests with the frame count bit, primary
//! address change, secondary-address selection with wildcards, application reset and
//! baud-rate switch.

use alloc::vec::Vec;

use super::encode::long_frame;
use super::link::{field, ShortFrame};
use super::tables;
use crate::error::{Detail, Error, ErrorKind, Layer, Result};

/// Primary address that reaches the slave selected by secondary address.
pub const ADDRESS_SELECTED: u8 = 0xFD;
/// Broadcast address: every slave answers (use with one slave on the bus).
pub const ADDRESS_BROADCAST_REPLY: u8 = 0xFE;
/// Broadcast address: no slave answers.
pub const ADDRESS_BROADCAST: u8 = 0xFF;

fn short(c: u8, address: u8) -> [u8; 5] {
    let mut out = [0u8; field::SHORT_LEN];
    ShortFrame::new_unchecked(&mut out[..]).emit(c, address);
    out
}

fn fcb_bit(fcb: bool) -> u8 {
    if fcb {
        0x20
    } else {
        0
    }
}

/// SND_NKE: link reset (`10 40 A CS 16`).
pub fn snd_nke(address: u8) -> [u8; 5] {
    short(0x40, address)
}

/// REQ_UD2: request class 2 data (`10 5B/7B A CS 16`); toggle `fcb` between requests.
pub fn req_ud2(address: u8, fcb: bool) -> [u8; 5] {
    short(0x5B | fcb_bit(fcb), address)
}

/// REQ_UD1: request class 1 (alarm) data (`10 5A/7A A CS 16`).
pub fn req_ud1(address: u8, fcb: bool) -> [u8; 5] {
    short(0x5A | fcb_bit(fcb), address)
}

/// SND_UD with C = 53/73 (FCV set, FCB as given).
fn snd_ud_c(fcb: bool) -> u8 {
    0x53 | fcb_bit(fcb)
}

/// SND_UD, CI 51: write a new primary address (record `01 7A new`).
pub fn set_primary_address(address: u8, new_address: u8, fcb: bool) -> Result<Vec<u8>> {
    long_frame(snd_ud_c(fcb), address, 0x51, &[0x01, 0x7A, new_address])
}

/// SND_UD, CI 50: application reset (control frame).
pub fn application_reset(address: u8, fcb: bool) -> Result<Vec<u8>> {
    long_frame(snd_ud_c(fcb), address, 0x50, &[])
}

/// SND_UD, CI B8–BF: switch the slave's baud rate (control frame). The slave answers `E5` at
/// the old rate, then listens at the new one.
pub fn set_baud_rate(address: u8, baud: u32, fcb: bool) -> Result<Vec<u8>> {
    let ci = match baud {
        300 => 0xB8,
        600 => 0xB9,
        1200 => 0xBA,
        2400 => 0xBB,
        4800 => 0xBC,
        9600 => 0xBD,
        19200 => 0xBE,
        38400 => 0xBF,
        _ => {
            return Err(Error::new(
                ErrorKind::Unsupported,
                Layer::Input,
                0,
                Detail::Text("baud rate must be 300, 600, 1200, 2400, 4800, 9600, 19200 or 38400"),
            ))
        }
    };
    long_frame(snd_ud_c(fcb), address, ci, &[])
}

/// A secondary address mask for selection: ID digits (`F` = any digit) and optional
/// manufacturer, version and medium (absent = any).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SecondaryAddress {
    /// The 8 ID digits, most significant first, each 0–9 or 0xF (wildcard).
    pub id_digits: [u8; 8],
    /// Manufacturer field, or `None` for any (`FF FF`).
    pub manufacturer: Option<u16>,
    /// Version, or `None` for any (`FF`).
    pub version: Option<u8>,
    /// Medium / device type code, or `None` for any (`FF`).
    pub medium: Option<u8>,
}

fn bad_address(text: &'static str) -> Error {
    Error::new(ErrorKind::Malformed, Layer::Input, 0, Detail::Text(text))
}

impl SecondaryAddress {
    /// A mask from ID text (1–8 characters of `0`–`9` or `F`/`f`, right-aligned; missing
    /// leading digits are wildcards), a manufacturer (three letters), a version and a medium.
    pub fn new(
        id: &str,
        manufacturer: Option<&str>,
        version: Option<u8>,
        medium: Option<u8>,
    ) -> Result<Self> {
        if id.is_empty() || id.len() > 8 {
            return Err(bad_address("the ID mask has 1 to 8 digits"));
        }
        let mut id_digits = [0x0Fu8; 8];
        let pad = 8usize.saturating_sub(id.len());
        for (i, c) in id.chars().enumerate() {
            let d = match c {
                '0'..='9' => c
                    .to_digit(10)
                    .and_then(|d| u8::try_from(d).ok())
                    .unwrap_or(0),
                'F' | 'f' => 0x0F,
                _ => return Err(bad_address("ID mask digits are 0-9 or F (wildcard)")),
            };
            if let Some(slot) = id_digits.get_mut(pad.saturating_add(i)) {
                *slot = d;
            }
        }
        let manufacturer = match manufacturer {
            Some(m) => Some(
                tables::manufacturer_code(m)
                    .ok_or(bad_address("manufacturer must be three letters"))?,
            ),
            None => None,
        };
        Ok(SecondaryAddress {
            id_digits,
            manufacturer,
            version,
            medium,
        })
    }

    /// The libmbus / pyMeterBus text form `IIIIIIIIMMMMVVDD`: ID as read, the two
    /// manufacturer bytes in wire order, version and medium, `F` for wildcards.
    pub fn parse(text: &str) -> Result<Self> {
        let text = text.trim();
        if text.len() != 16 || !text.is_ascii() {
            return Err(bad_address(
                "a secondary address is 16 hex characters IIIIIIIIMMMMVVDD",
            ));
        }
        let (id, rest) = text.split_at(8);
        let byte = |at: usize| {
            rest.get(at..at.saturating_add(2))
                .and_then(|s| u8::from_str_radix(s, 16).ok())
                .ok_or(bad_address("not hex"))
        };
        let m = u16::from_le_bytes([byte(0)?, byte(2)?]);
        let version = byte(4)?;
        let medium = byte(6)?;
        let mut addr = SecondaryAddress::new(id, None, None, None)?;
        addr.manufacturer = (m != 0xFFFF).then_some(m);
        addr.version = (version != 0xFF).then_some(version);
        addr.medium = (medium != 0xFF).then_some(medium);
        Ok(addr)
    }

    /// The 8 bytes on the wire.
    pub fn to_bytes(&self) -> [u8; 8] {
        let d = &self.id_digits;
        let pair = |hi: u8, lo: u8| (hi << 4) | (lo & 0x0F);
        let m = self.manufacturer.unwrap_or(0xFFFF).to_le_bytes();
        [
            pair(d[6], d[7]),
            pair(d[4], d[5]),
            pair(d[2], d[3]),
            pair(d[0], d[1]),
            m[0],
            m[1],
            self.version.unwrap_or(0xFF),
            self.medium.unwrap_or(0xFF),
        ]
    }
}

/// Whether a slave with the secondary address `address` (the 8 wire bytes of its CI 72
/// header) matches the selection `mask` (8 wire bytes of a CI 52 select): each ID nibble `F`
/// and each manufacturer, version or medium byte `FF` is a wildcard (`mbus-tables.md` §14.1).
pub fn secondary_matches(mask: &[u8; 8], address: &[u8; 8]) -> bool {
    mask.iter().zip(address).enumerate().all(|(i, (&m, &a))| {
        if i < 4 {
            // BCD digits: each nibble on its own.
            [(0xF0u8, 4u32), (0x0F, 0)]
                .iter()
                .all(|&(bits, shift)| (m & bits) >> shift == 0x0F || m & bits == a & bits)
        } else {
            m == 0xFF || m == a
        }
    })
}

/// The secondary address (8 wire bytes: ID, manufacturer, version, medium) of a slave's reply
/// with a long header (CI 72), as a select mask names it; `None` for other frames.
pub fn secondary_address_of(frame: &[u8]) -> Option<[u8; 8]> {
    match super::link::Frame::parse(frame).ok()? {
        super::link::Frame::Long(long) if long.ci_field() == 0x72 => {
            long.user_data().get(..8)?.try_into().ok()
        }
        _ => None,
    }
}

/// The text form `IIIIIIIIMMMMVVDD` of 8 secondary-address wire bytes (libmbus, pyMeterBus:
/// the ID as read, the manufacturer bytes in wire order, version, medium).
pub fn secondary_address_text(address: &[u8; 8]) -> alloc::string::String {
    let [i0, i1, i2, i3, m0, m1, v, d] = *address;
    alloc::format!("{i3:02X}{i2:02X}{i1:02X}{i0:02X}{m0:02X}{m1:02X}{v:02X}{d:02X}")
}

/// SND_UD to address FD, CI 52: select the slave(s) matching `mask`; a match answers `E5`.
pub fn select_secondary(mask: &SecondaryAddress, fcb: bool) -> Result<Vec<u8>> {
    select_secondary_bytes(&mask.to_bytes(), fcb)
}

/// [`select_secondary`] from the 8 mask bytes as they go on the wire (a search narrowing a
/// mask byte by byte keeps it in this form).
pub fn select_secondary_bytes(mask: &[u8; 8], fcb: bool) -> Result<Vec<u8>> {
    long_frame(snd_ud_c(fcb), ADDRESS_SELECTED, 0x52, mask)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hex::parse_hex;

    #[test]
    fn secondary_masks_match_per_digit_and_per_byte() {
        // A KAM water meter 12345678, version 1 (mbus-tables.md §14.1's second select).
        let meter = [0x78, 0x56, 0x34, 0x12, 0x2D, 0x2C, 0x01, 0x07];
        let mask = |text: &str| SecondaryAddress::parse(text).unwrap().to_bytes();
        assert!(secondary_matches(&mask("FFFFFFFFFFFFFFFF"), &meter));
        assert!(secondary_matches(&mask("12345678FFFFFFFF"), &meter));
        assert!(secondary_matches(&mask("1FFFFFFFFFFFFFFF"), &meter));
        assert!(secondary_matches(&mask("FFFFFFF8FFFFFFFF"), &meter));
        assert!(secondary_matches(&mask("123456782D2C0107"), &meter));
        assert!(!secondary_matches(&mask("2FFFFFFFFFFFFFFF"), &meter));
        assert!(!secondary_matches(&mask("FFFFFFF7FFFFFFFF"), &meter));
        assert!(!secondary_matches(&mask("12345678FFFF02FF"), &meter));
        assert!(!secondary_matches(&mask("123456782D2D0107"), &meter));
        assert_eq!(secondary_address_text(&meter), "123456782D2C0107");
        assert_eq!(mask("123456782D2C0107"), meter);
        // The RSP_UD of mbus.md: KAM 12345678, version 1, water.
        let rsp = parse_hex(
            "68 15 15 68 08 05 72 78 56 34 12 2D 2C 01 07 2A 00 00 00 0C 13 67 45 23 01 0D 16",
        )
        .unwrap();
        assert_eq!(secondary_address_of(&rsp), Some(meter));
        assert_eq!(secondary_address_of(&[0xE5]), None);
    }

    #[test]
    fn short_requests() {
        assert_eq!(req_ud2(5, true), [0x10, 0x7B, 0x05, 0x80, 0x16]);
        assert_eq!(req_ud2(0xFD, false), [0x10, 0x5B, 0xFD, 0x58, 0x16]);
        assert_eq!(snd_nke(0xFD), [0x10, 0x40, 0xFD, 0x3D, 0x16]);
        assert_eq!(req_ud1(1, false), [0x10, 0x5A, 0x01, 0x5B, 0x16]);
    }

    #[test]
    fn selection_frames_of_the_digest() {
        // mbus-tables.md §14.1, frames computed by the digest's script.
        let m = SecondaryAddress::new("12345678", None, None, None).unwrap();
        assert_eq!(
            select_secondary(&m, false).unwrap(),
            parse_hex("68 0B 0B 68 53 FD 52 78 56 34 12 FF FF FF FF B2 16").unwrap()
        );
        let m = SecondaryAddress::new("12345678", Some("KAM"), Some(1), Some(7)).unwrap();
        assert_eq!(
            select_secondary(&m, false).unwrap(),
            parse_hex("68 0B 0B 68 53 FD 52 78 56 34 12 2D 2C 01 07 17 16").unwrap()
        );
        // libmbus issue #61's logged frame: mask 000267FF, C = 73.
        let m = SecondaryAddress::parse("000267FFFFFFFFFF").unwrap();
        assert_eq!(
            select_secondary(&m, true).unwrap(),
            parse_hex("68 0B 0B 68 73 FD 52 FF 67 02 00 FF FF FF FF 26 16").unwrap()
        );
        assert_eq!(
            SecondaryAddress::parse("123456782D2C0107")
                .unwrap()
                .manufacturer,
            Some(0x2C2D)
        );
    }

    #[test]
    fn long_requests() {
        assert_eq!(
            set_primary_address(0xFE, 8, false).unwrap(),
            parse_hex("68 06 06 68 53 FE 51 01 7A 08 25 16").unwrap()
        );
        assert_eq!(
            application_reset(1, false).unwrap(),
            parse_hex("68 03 03 68 53 01 50 A4 16").unwrap()
        );
        assert_eq!(
            set_baud_rate(0xFE, 9600, false).unwrap(),
            parse_hex("68 03 03 68 53 FE BD 0E 16").unwrap()
        );
        assert_eq!(
            set_baud_rate(1, 1234, false).unwrap_err().kind(),
            ErrorKind::Unsupported
        );
    }
}
