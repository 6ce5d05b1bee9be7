//! EN 13757-3 Annex A data types: BCD (A), integers (B, C, D), real (H) and the date/time
//! types F, G, I and J (`mbus-tables.md` §6).

use crate::model::Timestamp;

/// A type-A BCD number, LSB first: `Some(value)`, negative when the top nibble is `F`;
/// `None` when another nibble is not a decimal digit (meters send all `F` for "no value").
pub fn bcd(data: &[u8]) -> Option<i128> {
    if data.len() <= 8 {
        return bcd_u64(data).map(i128::from);
    }
    bcd_wide(data)
}

/// [`bcd`] digit by digit, for fields of any length.
fn bcd_wide(data: &[u8]) -> Option<i128> {
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

/// Up to 8 bytes, little-endian, zero-extended to a `u64` (fixed-size loads, no copy loop).
#[inline]
fn load_le(data: &[u8]) -> u64 {
    let word = |bytes: [u8; 8]| u64::from_le_bytes(bytes);
    match *data {
        [a] => u64::from(a),
        [a, b] => u64::from(u16::from_le_bytes([a, b])),
        [a, b, c] => word([a, b, c, 0, 0, 0, 0, 0]),
        [a, b, c, d] => u64::from(u32::from_le_bytes([a, b, c, d])),
        [a, b, c, d, e] => word([a, b, c, d, e, 0, 0, 0]),
        [a, b, c, d, e, f] => word([a, b, c, d, e, f, 0, 0]),
        [a, b, c, d, e, f, g] => word([a, b, c, d, e, f, g, 0]),
        [a, b, c, d, e, f, g, h, ..] => word([a, b, c, d, e, f, g, h]),
        [] => 0,
    }
}

/// Every byte read as two BCD digits: `hi × 10 + lo`, or [`NOT_BCD`] when a nibble is above 9.
static BCD_PAIRS: [u8; 256] = {
    let mut table = [NOT_BCD; 256];
    let mut byte = 0usize;
    while byte < 256 {
        let (high, low) = (byte >> 4, byte & 0x0F);
        if high <= 9 && low <= 9 {
            // In bounds: `byte` < 256 = the table's length; evaluated at compile time.
            #[allow(clippy::indexing_slicing)]
            {
                table[byte] = (high * 10 + low) as u8;
            }
        }
        byte += 1;
    }
    table
};

/// The [`BCD_PAIRS`] entry of a byte that is not two decimal digits (its top bit marks it).
const NOT_BCD: u8 = 0x80;

/// [`bcd`] of at most 8 bytes (16 digits; `None` for longer data): one table lookup per byte,
/// the invalid marks gathered and checked once.
#[inline]
pub(crate) fn bcd_u64(data: &[u8]) -> Option<i64> {
    let (&last, rest) = data.split_last()?;
    if rest.len() > 7 {
        return None;
    }
    // The top nibble of the last byte: `F` marks a negative number.
    let negative = last >> 4 == 0x0F;
    let top = if negative { last & 0x0F } else { last };
    let pair = |b: u8| BCD_PAIRS.get(usize::from(b)).copied().unwrap_or(NOT_BCD);
    let first = pair(top);
    let mut invalid = first;
    let mut value = i64::from(first);
    for &b in rest.iter().rev() {
        let p = pair(b);
        invalid |= p;
        value = value.wrapping_mul(100).wrapping_add(i64::from(p));
    }
    if invalid & NOT_BCD != 0 {
        return None;
    }
    // At most 10^16 - 1: no overflow.
    Some(if negative {
        value.wrapping_neg()
    } else {
        value
    })
}

/// [`int_le`] of at most 8 bytes in one 64-bit word (sign-extended when `signed`); longer
/// data is read as its first 8 bytes.
#[inline]
pub(crate) fn int_le_u64(data: &[u8], signed: bool) -> i128 {
    let word = load_le(data);
    let bits = u32::try_from(data.len()).unwrap_or(8).wrapping_mul(8);
    if signed && bits > 0 {
        // Move the sign bit to bit 63, then shift back arithmetically.
        let unused = 64u32.wrapping_sub(bits);
        i128::from(i64::from_le_bytes(word.wrapping_shl(unused).to_le_bytes()).wrapping_shr(unused))
    } else {
        i128::from(word)
    }
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
    if data.len() <= 8 {
        return Some(int_le_u64(data, signed));
    }
    int_le_wide(data, signed)
}

/// [`int_le`] byte by byte, for fields of up to 16 bytes.
fn int_le_wide(data: &[u8], signed: bool) -> Option<i128> {
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
    fn word_readers_agree_with_the_byte_readers() {
        // Every 1- and 2-byte field, and a spread of longer ones (a simple LCG).
        let mut fields: Vec<Vec<u8>> = (0..=255u8).map(|b| vec![b]).collect();
        fields.extend((0..=0xFFFFu16).map(|w| w.to_le_bytes().to_vec()));
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        for len in 3..=8 {
            for _ in 0..20_000 {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let mut field = seed.to_le_bytes()[..len].to_vec();
                // Mostly valid BCD, so the conversion itself is exercised.
                if seed >> 62 != 0 {
                    for b in &mut field {
                        *b = (((*b >> 4) % 10) << 4) | ((*b & 0x0F) % 10);
                    }
                    if seed & 1 == 1 {
                        field[len - 1] |= 0xF0;
                    }
                }
                fields.push(field);
            }
        }
        for field in &fields {
            assert_eq!(
                bcd_u64(field).map(i128::from),
                bcd_wide(field),
                "{field:02X?}"
            );
            for signed in [false, true] {
                assert_eq!(Some(int_le_u64(field, signed)), int_le_wide(field, signed));
            }
        }
        assert_eq!(bcd(&[]), None);
        assert_eq!(bcd(&[0x99; 8]), Some(9_999_999_999_999_999));
        assert_eq!(int_le(&[], true), Some(0));
    }

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
