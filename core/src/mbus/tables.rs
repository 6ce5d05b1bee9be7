//! EN 13757-3 code tables that are not VIFs: medium / device type (§7), manufacturer (§10),
//! status byte (§9.1), application errors (§9.2) and the fixed data structure (§13).
//! Section numbers refer to `shared/spec/mbus-tables.md`.

use crate::model::{ShortText, Status, StatusFlag, StatusFlags};

/// The model's medium name for a device-type byte (§7; design §2 names).
pub fn medium_name(code: u8) -> &'static str {
    match code {
        0x00 => "other",
        0x01 => "oil",
        0x02 => "electricity",
        0x03 => "gas",
        0x04 => "heat",
        0x05 => "steam",
        0x06 => "warm_water",
        0x07 => "water",
        0x08 => "heat_cost_allocator",
        0x09 => "compressed_air",
        0x0A => "cooling",
        0x0B => "cooling_inlet",
        0x0C => "heat_inlet",
        0x0D => "heat_cooling",
        0x0E => "bus_system_component",
        0x0F => "unknown",
        0x14 => "calorific_value",
        0x15 => "hot_water",
        0x16 => "cold_water",
        0x17 => "dual_water",
        0x18 => "pressure",
        0x19 => "ad_converter",
        0x1A => "smoke_detector",
        0x1B => "room_sensor",
        0x1C => "gas_detector",
        0x20 => "breaker",
        0x21 => "valve",
        0x25 => "customer_unit",
        0x28 => "waste_water",
        0x29 => "garbage",
        0x2A => "carbon_dioxide",
        0x31 => "communication_controller",
        0x32 => "unidirectional_repeater",
        0x33 => "repeater",
        0x36 => "radio_converter",
        0x37 => "radio_converter_meter_side",
        _ => "reserved",
    }
}

/// The medium name of the 4-bit medium of the fixed data structure (§13.3).
pub fn fixed_medium_name(code: u8) -> &'static str {
    match code {
        0x0 => "other",
        0x1 => "oil",
        0x2 => "electricity",
        0x3 => "gas",
        0x4 => "heat",
        0x5 => "steam",
        0x6 => "hot_water",
        0x7 => "water",
        0x8 => "heat_cost_allocator",
        0xA => "gas_mode_2",
        0xB => "heat_mode_2",
        0xC => "hot_water_mode_2",
        0xD => "water_mode_2",
        0xE => "heat_cost_allocator_mode_2",
        _ => "reserved",
    }
}

/// The three letters of a manufacturer field (§10), bit 15 masked off. Values outside A–Z are
/// printed as the characters `@`…`_` the formula gives, so the code is still readable.
pub fn manufacturer_letters(code: u16) -> ShortText {
    let m = code & 0x7FFF;
    let mut text = ShortText::default();
    for shift in [10u32, 5, 0] {
        let letter = u8::try_from((m.wrapping_shr(shift)) & 0x1F)
            .unwrap_or(0)
            .wrapping_add(64);
        let _ = core::fmt::Write::write_char(&mut text, char::from(letter));
    }
    text
}

/// The manufacturer field of three letters A–Z, if they are such letters.
pub fn manufacturer_code(letters: &str) -> Option<u16> {
    let bytes = letters.as_bytes();
    if bytes.len() != 3 {
        return None;
    }
    let mut code: u16 = 0;
    for &b in bytes {
        let b = b.to_ascii_uppercase();
        if !(b'@'..=b'_').contains(&b) {
            return None;
        }
        code = code.wrapping_shl(5) | u16::from(b.wrapping_sub(64));
    }
    Some(code)
}

/// The normalised status of a header status byte (§9.1).
pub fn header_status(byte: u8) -> Status {
    let mut flags = StatusFlags::default();
    match byte & 0x03 {
        0x01 => flags.insert(StatusFlag::ApplicationBusy),
        0x02 => flags.insert(StatusFlag::ApplicationError),
        0x03 => flags.insert(StatusFlag::Alarm),
        _ => {}
    }
    if byte & 0x04 != 0 {
        flags.insert(StatusFlag::PowerLow);
    }
    if byte & 0x08 != 0 {
        flags.insert(StatusFlag::PermanentError);
    }
    if byte & 0x10 != 0 {
        flags.insert(StatusFlag::TemporaryError);
    }
    Status {
        raw: u32::from(byte),
        flags,
    }
}

/// The normalised status of the fixed data structure's status byte (§13.2, reading A: bits
/// 2–4 as in the variable structure; bits 0–1 are counter coding, not status).
pub fn fixed_status(byte: u8) -> Status {
    header_status(byte & !0x03)
}

/// The snake_case name of an application error code (§9.2).
pub fn application_error_name(code: u8) -> &'static str {
    match code {
        0x00 => "unspecified_error",
        0x01 => "unimplemented_ci",
        0x02 => "buffer_too_long",
        0x03 => "too_many_records",
        0x04 => "premature_end_of_record",
        0x05 => "too_many_difes",
        0x06 => "too_many_vifes",
        0x08 => "application_busy",
        0x09 => "too_many_readouts",
        _ => "reserved",
    }
}

/// Unit of a fixed-structure counter (§13.4): quantity, unit and power of ten.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FixedUnit {
    /// The record quantity.
    pub quantity: &'static str,
    /// The unit, or `None` for dimensionless / time / date counters.
    pub unit: Option<&'static str>,
    /// Power of ten on the counter.
    pub exponent: i16,
}

/// The unit code of a fixed-structure counter (§13.4). `None` for reserved codes and for
/// `3E` ("same unit as counter 1, historic"), which the caller resolves.
pub fn fixed_unit(code: u8) -> Option<FixedUnit> {
    const GROUPS: [(u8, &str, &str, i16); 18] = [
        (0x02, "energy", "Wh", 0),
        (0x05, "energy", "kWh", 0),
        (0x08, "energy", "MWh", 0),
        (0x0B, "energy", "kJ", 0),
        (0x0E, "energy", "MJ", 0),
        (0x11, "energy", "GJ", 0),
        (0x14, "power", "W", 0),
        (0x17, "power", "kW", 0),
        (0x1A, "power", "MW", 0),
        (0x1D, "power", "kJ/h", 0),
        (0x20, "power", "MJ/h", 0),
        (0x23, "power", "GJ/h", 0),
        (0x26, "volume", "L", -3),
        (0x29, "volume", "L", 0),
        (0x2C, "volume", "m3", 0),
        (0x2F, "volume_flow", "L/h", -3),
        (0x32, "volume_flow", "L/h", 0),
        (0x35, "volume_flow", "m3/h", 0),
    ];
    for (first, quantity, unit, base) in GROUPS {
        let step = code.wrapping_sub(first);
        if step <= 2 {
            return Some(FixedUnit {
                quantity,
                unit: Some(unit),
                exponent: base.saturating_add(i16::from(step)),
            });
        }
    }
    match code {
        0x00 => Some(FixedUnit {
            quantity: "time",
            unit: None,
            exponent: 0,
        }),
        0x01 => Some(FixedUnit {
            quantity: "date",
            unit: None,
            exponent: 0,
        }),
        0x38 => Some(FixedUnit {
            quantity: "temperature",
            unit: Some("C"),
            exponent: -3,
        }),
        0x39 => Some(FixedUnit {
            quantity: "hca",
            unit: None,
            exponent: 0,
        }),
        0x3F => Some(FixedUnit {
            quantity: "other",
            unit: None,
            exponent: 0,
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manufacturer_letters_both_ways() {
        assert_eq!(manufacturer_letters(0x2C2D).as_str(), "KAM");
        assert_eq!(manufacturer_letters(0x1593).as_str(), "ELS");
        // Bit 15 set (first letter sent in lower case): masked, letters unchanged.
        assert_eq!(manufacturer_letters(0xAC2D).as_str(), "KAM");
        assert_eq!(manufacturer_code("KAM"), Some(0x2C2D));
        assert_eq!(manufacturer_code("ELS"), Some(0x1593));
        assert_eq!(manufacturer_code("@@@"), Some(0));
        assert_eq!(manufacturer_code("K1M"), None);
    }

    #[test]
    fn status_bits() {
        let s = header_status(0x04);
        assert!(s.flags.contains(StatusFlag::PowerLow));
        let s = header_status(0x13);
        assert!(s.flags.contains(StatusFlag::Alarm));
        assert!(s.flags.contains(StatusFlag::TemporaryError));
        assert!(header_status(0xE0).flags.is_empty());
    }

    #[test]
    fn fixed_units_follow_the_x1_x10_x100_pattern() {
        assert_eq!(fixed_unit(0x29).unwrap().unit, Some("L"));
        assert_eq!(fixed_unit(0x2A).unwrap().exponent, 1);
        assert_eq!(
            fixed_unit(0x0D).unwrap(),
            FixedUnit {
                quantity: "energy",
                unit: Some("kJ"),
                exponent: 2
            }
        );
        assert_eq!(fixed_unit(0x05).unwrap().unit, Some("kWh"));
        assert_eq!(fixed_unit(0x3E), None);
        assert_eq!(fixed_unit(0x3A), None);
    }
}
