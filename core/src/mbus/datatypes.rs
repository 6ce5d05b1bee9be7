//! EN 13757-3 Annex A data types: BCD (A), integers (B, C, D), real (H) and the date/time
//! types F, G, I and J (`mbus-tables.md` §6).

use crate::model::Timestamp;

/// A type-A BCD number, LSB first: `Some(value)`, negative when the top nibble is `F`;
/// `None` when another nibble is not a decimal digit (meters send all `F` for "no value").
pub fn bcd(data: &[u8]) -> Option<i128> {
    let mut value: i128 = 0;
    let mut negative = false;
    let last = data.len().checked_sub(1)?;
    for (i, &byte) in data.iter().enumerate().rev() {
        let (high, low) = (byte >> 4, byte & 0x0F);
        let high = if i == last && high == 0x0F {
            negative = true;
            0
        } else {
            high
        };
        if high > 9 || low > 9 {
            return None;
        }
        value = value
            .checked_mul(100)?
            .checked_add(i128::from(high.wrapping_mul(10).wrapping_add(low)))?;
    }
    if negative {
        value = value.checked_neg()?;
    }
    Some(value)
}

/// The hex digits of an LSB-first BCD field, most significant first, leading zeros kept
/// (`78 56 34 12` → `12345678`); non-decimal nibbles print as their hex digit.
pub fn bcd_digits(data: &[u8], out: &mut impl core::fmt::Write) -> core::fmt::Result {
    for &b in data.iter().rev() {
        out.write_char(crate::hex::hex_digit(b >> 4))?;
        out.write_char(crate::hex::hex_digit(b))?;
    }
    Ok(())
}

/// A little-endian integer of up to 16 bytes, two's complement when `signed`.
pub fn int_le(data: &[u8], signed: bool) -> Option<i128> {
    if data.len() > 16 {
        return None;
    }
    let mut raw: u128 = 0;
    for &b in data.iter().rev() {
        raw = raw.wrapping_shl(8) | u128::from(b);
    }
    let bits = u32::try_from(data.len()).ok()?.checked_mul(8)?;
    if bits == 0 {
        return Some(0);
    }
    if bits == 128 {
        return Some(if signed {
            i128::from_le_bytes(raw.to_le_bytes())
        } else {
            i128::try_from(raw).ok()?
        });
    }
    let value = i128::try_from(raw).ok()?;
    let sign_bit = 1i128.checked_shl(bits.checked_sub(1)?)?;
    if signed && value & sign_bit != 0 {
        value.checked_sub(1i128.checked_shl(bits)?)
    } else {
        Some(value)
    }
}

/// Full year from the 7-bit year field: a century from the hundred-year bits when the meter
/// sets them, else the compatibility rule (≤ 80 → 20xx, else 19xx).
fn full_year(year: u8, hundred_years: u8) -> u16 {
    let year = u16::from(year);
    if hundred_years > 0 {
        1900u16
            .saturating_add(100u16.saturating_mul(u16::from(hundred_years)))
            .saturating_add(year)
    } else if year <= 80 {
        2000u16.saturating_add(year)
    } else {
        1900u16.saturating_add(year)
    }
}

/// A decoded point in time with its flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimePoint {
    /// The value.
    pub timestamp: Timestamp,
    /// The invalid flag (IV) was set, or the field is all ones.
    pub invalid: bool,
    /// The summer-time flag (SU) was set.
    pub dst: bool,
}

fn year_bits(low_byte: u8, high_byte: u8) -> u8 {
    ((low_byte & 0xE0) >> 5) | ((high_byte & 0xF0) >> 1)
}

/// Type G, date (2 bytes).
pub fn type_g(b: [u8; 2]) -> TimePoint {
    TimePoint {
        timestamp: Timestamp {
            year: Some(full_year(year_bits(b[0], b[1]), 0)),
            month: b[1] & 0x0F,
            day: b[0] & 0x1F,
            hour: None,
            minute: None,
            second: None,
        },
        invalid: b == [0xFF, 0xFF],
        dst: false,
    }
}

/// Type F, date and time (4 bytes).
pub fn type_f(b: [u8; 4]) -> TimePoint {
    TimePoint {
        timestamp: Timestamp {
            year: Some(full_year(year_bits(b[2], b[3]), (b[1] >> 5) & 0x03)),
            month: b[3] & 0x0F,
            day: b[2] & 0x1F,
            hour: Some(b[1] & 0x1F),
            minute: Some(b[0] & 0x3F),
            second: None,
        },
        invalid: b[0] & 0x80 != 0,
        dst: b[1] & 0x80 != 0,
    }
}

/// Type I, date and time with seconds (6 bytes).
pub fn type_i(b: [u8; 6]) -> TimePoint {
    TimePoint {
        timestamp: Timestamp {
            year: Some(full_year(year_bits(b[3], b[4]), 0)),
            month: b[4] & 0x0F,
            day: b[3] & 0x1F,
            hour: Some(b[2] & 0x1F),
            minute: Some(b[1] & 0x3F),
            second: Some(b[0] & 0x3F),
        },
        invalid: b[1] & 0x80 != 0,
        dst: b[0] & 0x40 != 0,
    }
}

/// Type J, time of day (3 bytes).
pub fn type_j(b: [u8; 3]) -> TimePoint {
    TimePoint {
        timestamp: Timestamp {
            year: None,
            month: 0,
            day: 0,
            hour: Some(b[2] & 0x1F),
            minute: Some(b[1] & 0x3F),
            second: Some(b[0] & 0x3F),
        },
        invalid: false,
        dst: false,
    }
}

/// A point in time chosen by the data length: 2 → G, 3 → J, 4 → F, 6 → I.
pub fn time_point(data: &[u8]) -> Option<TimePoint> {
    match *data {
        [a, b] => Some(type_g([a, b])),
        [a, b, c] => Some(type_j([a, b, c])),
        [a, b, c, d] => Some(type_f([a, b, c, d])),
        [a, b, c, d, e, f] => Some(type_i([a, b, c, d, e, f])),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::{String, ToString};

    #[test]
    fn bcd_values() {
        assert_eq!(bcd(&[0x67, 0x45, 0x23, 0x01]), Some(1234567));
        // R3: F1 45 -> -145 (top nibble F = negative).
        assert_eq!(bcd(&[0x45, 0xF1]), Some(-145));
        assert_eq!(bcd(&[0xFF, 0xFF]), None);
        assert_eq!(bcd(&[0x1A]), None);
        let mut s = String::new();
        bcd_digits(&[0x78, 0x56, 0x34, 0x12], &mut s).unwrap();
        assert_eq!(s, "12345678");
    }

    #[test]
    fn integers() {
        assert_eq!(int_le(&[0x10, 0x27, 0x00, 0x00], true), Some(10000));
        assert_eq!(int_le(&[0xFF, 0xFF], true), Some(-1));
        assert_eq!(int_le(&[0xFF, 0xFF], false), Some(65535));
        assert_eq!(int_le(&[0x80], true), Some(-128));
        assert_eq!(int_le(&[0xFF; 8], false), Some(i128::from(u64::MAX)));
    }

    #[test]
    fn dates_from_the_digest() {
        // R4: 32 37 1F 15 -> 2008-05-31 23:50 (hundred-year bits 01).
        let t = type_f([0x32, 0x37, 0x1F, 0x15]);
        assert_eq!(t.timestamp.to_string(), "2008-05-31T23:50");
        assert!(!t.invalid && !t.dst);
        // R5: BB 32 D7 1F 15 16 -> 2008-05-31 23:50:59.
        let t = type_i([0xBB, 0x32, 0xD7, 0x1F, 0x15, 0x16]);
        assert_eq!(t.timestamp.to_string(), "2008-05-31T23:50:59");
        // G: 0000 is the "not set" date libmbus prints 2000-00-00.
        assert_eq!(type_g([0, 0]).timestamp.to_string(), "2000-00-00");
        assert!(type_g([0xFF, 0xFF]).invalid);
        assert_eq!(type_j([0x07, 0x23, 0x0E]).timestamp.to_string(), "14:35:07");
    }
}
