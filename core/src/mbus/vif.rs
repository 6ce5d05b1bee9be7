//! Value information: the primary VIF table (§2), the FD (§3, §3.1) and FB (§4) extension
//! tables and the combinable VIFEs (§5, §5.1–5.3) of `shared/spec/mbus-tables.md`.
//!
//! Units are normalised to one unit per quantity family so that columns can be summed without
//! unit juggling: Wh-family energy → `kWh`, J-family energy → `MJ`, W-family power → `kW`,
//! J/h-family power → `MJ/h`, mass → `kg`, volume → `m3`; the VIF's power of ten moves into
//! the exact decimal's exponent.

/// How the data bytes of a record are read (Annex A types, chosen by the VIF).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Coding {
    /// Type B (signed two's complement), BCD or real: a number.
    Signed,
    /// Type C (unsigned integer).
    Unsigned,
    /// Type D (bit field), written as its unsigned integer.
    Bits,
    /// A point in time: type G, J, F or I chosen by the data length.
    Date,
    /// An identifier: BCD digits (leading zeros kept) or a binary number, written as text.
    Ident,
    /// A data container (FD 3B, FD 76): the bytes, as hex.
    Container,
}

/// What a VIF (or the true VIF after FB/FD) means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Meaning {
    /// Record quantity.
    pub quantity: &'static str,
    /// Unit, if the quantity has one.
    pub unit: Option<&'static str>,
    /// Power of ten applied to the data to express it in `unit`.
    pub exponent: i16,
    /// Power of ten of the VIF's own unit expressed in `unit` (for additive corrections,
    /// which are in the VIF's unit: Wh → kWh is −3).
    pub unit_shift: i16,
    /// Extra integer factor on the data (the HCA rating factors' 2⁻¹² is 244140625 × 10⁻¹²).
    pub factor: u32,
    /// How the data is read.
    pub coding: Coding,
    /// `false` for reserved codes.
    pub known: bool,
}

const fn m(quantity: &'static str, unit: &'static str, exponent: i16) -> Meaning {
    Meaning {
        quantity,
        unit: Some(unit),
        exponent,
        unit_shift: 0,
        factor: 1,
        coding: Coding::Signed,
        known: true,
    }
}

const fn plain(quantity: &'static str, coding: Coding) -> Meaning {
    Meaning {
        quantity,
        unit: None,
        exponent: 0,
        unit_shift: 0,
        factor: 1,
        coding,
        known: true,
    }
}

const fn shifted(mut meaning: Meaning, unit_shift: i16) -> Meaning {
    meaning.unit_shift = unit_shift;
    meaning
}

const fn with_coding(mut meaning: Meaning, coding: Coding) -> Meaning {
    meaning.coding = coding;
    meaning
}

/// A reserved or unknown code.
pub const RESERVED: Meaning = Meaning {
    quantity: "other",
    unit: None,
    exponent: 0,
    unit_shift: 0,
    factor: 1,
    coding: Coding::Signed,
    known: false,
};

/// s, min, h, d for the two low bits of time-unit codes.
pub const fn time_unit(nn: u8) -> &'static str {
    match nn & 3 {
        0 => "s",
        1 => "min",
        2 => "h",
        _ => "d",
    }
}

/// h, d, month, year for the `pp` bits of FD 68–6F.
const fn long_time_unit(pp: u8) -> &'static str {
    match pp & 3 {
        0 => "h",
        1 => "d",
        2 => "month",
        _ => "year",
    }
}

/// Low bits of a code as a signed exponent offset.
const fn bits(code: u8, mask: u8) -> i16 {
    (code & mask) as i16
}

/// The primary VIF table (§2), for a VIF with its extension bit cleared: a lookup in a table
/// built at compile time from the rules below.
#[inline]
pub fn primary(vif: u8) -> &'static Meaning {
    lookup(&PRIMARY, vif)
}

/// The FD table (§3), for the byte after `FD` with E cleared (a compile-time table).
#[inline]
pub fn fd(code: u8) -> &'static Meaning {
    lookup(&FD, code)
}

/// The FB table (§4), for the byte after `FB` with E cleared (a compile-time table).
#[inline]
pub fn fb(code: u8) -> &'static Meaning {
    lookup(&FB, code)
}

#[inline]
fn lookup(table: &'static [Meaning; 128], code: u8) -> &'static Meaning {
    table.get(usize::from(code & 0x7F)).unwrap_or(&RESERVED)
}

/// A table of the 128 codes (E bit cleared) of one of the rule functions, at compile time.
macro_rules! table {
    ($rule:ident) => {{
        let mut table = [RESERVED; 128];
        let mut code = 0u8;
        while code < 128 {
            // In bounds: `code` < 128 = the table's length; evaluated at compile time.
            #[allow(clippy::indexing_slicing)]
            {
                table[code as usize] = $rule(code);
            }
            code = code.wrapping_add(1);
        }
        table
    }};
}

static PRIMARY: [Meaning; 128] = table!(primary_entry);
static FD: [Meaning; 128] = table!(fd_entry);
static FB: [Meaning; 128] = table!(fb_entry);
static FD_SECOND_LEVEL: [Meaning; 128] = table!(second_level_entry);

/// The rule behind [`primary`]. `6C`/`6D` (dates),
/// `7C` (plain text), `7E` (any VIF) and `7F` (manufacturer specific) are returned as such;
/// the record reader handles their special layouts.
const fn primary_entry(vif: u8) -> Meaning {
    let n = bits(vif, 0x07);
    let nn = bits(vif, 0x03);
    match vif & 0x7F {
        0x00..=0x07 => shifted(m("energy", "kWh", n.wrapping_sub(6)), -3),
        0x08..=0x0F => shifted(m("energy", "MJ", n.wrapping_sub(6)), -6),
        0x10..=0x17 => m("volume", "m3", n.wrapping_sub(6)),
        0x18..=0x1F => m("mass", "kg", n.wrapping_sub(3)),
        0x20..=0x23 => m("on_time", time_unit(vif), 0),
        0x24..=0x27 => m("operating_time", time_unit(vif), 0),
        0x28..=0x2F => shifted(m("power", "kW", n.wrapping_sub(6)), -3),
        0x30..=0x37 => shifted(m("power", "MJ/h", n.wrapping_sub(6)), -6),
        0x38..=0x3F => m("volume_flow", "m3/h", n.wrapping_sub(6)),
        0x40..=0x47 => m("volume_flow", "m3/min", n.wrapping_sub(7)),
        0x48..=0x4F => m("volume_flow", "m3/s", n.wrapping_sub(9)),
        0x50..=0x57 => m("mass_flow", "kg/h", n.wrapping_sub(3)),
        0x58..=0x5B => m("flow_temperature", "C", nn.wrapping_sub(3)),
        0x5C..=0x5F => m("return_temperature", "C", nn.wrapping_sub(3)),
        0x60..=0x63 => m("temperature_difference", "K", nn.wrapping_sub(3)),
        0x64..=0x67 => m("external_temperature", "C", nn.wrapping_sub(3)),
        0x68..=0x6B => m("pressure", "bar", nn.wrapping_sub(3)),
        0x6C => plain("date", Coding::Date),
        0x6D => plain("datetime", Coding::Date),
        0x6E => plain("hca", Coding::Signed),
        0x70..=0x73 => m("averaging_duration", time_unit(vif), 0),
        0x74..=0x77 => m("actuality_duration", time_unit(vif), 0),
        0x78 => plain("fabrication_no", Coding::Ident),
        0x79 => plain("enhanced_id", Coding::Ident),
        0x7A => plain("bus_address", Coding::Unsigned),
        0x7E => plain("any", Coding::Signed),
        0x7F => plain("manufacturer_specific", Coding::Signed),
        _ => RESERVED,
    }
}

/// The FD (second, main) extension table (§3), for the byte after `FD` with E cleared.
/// `7D` (second-level table) is returned as reserved; the record reader follows it.
const fn fd_entry(code: u8) -> Meaning {
    let nn = code & 0x03;
    let n4 = bits(code, 0x0F);
    match code & 0x7F {
        0x00..=0x03 => m("credit", "currency", bits(code, 0x03).wrapping_sub(3)),
        0x04..=0x07 => m("debit", "currency", bits(code, 0x03).wrapping_sub(3)),
        0x08 => plain("access_number", Coding::Unsigned),
        0x09 => plain("medium", Coding::Unsigned),
        0x0A => plain("manufacturer", Coding::Unsigned),
        0x0B => plain("parameter_set_id", Coding::Ident),
        0x0C => plain("model_version", Coding::Unsigned),
        0x0D => plain("hardware_version", Coding::Unsigned),
        0x0E => plain("firmware_version", Coding::Unsigned),
        0x0F => plain("software_version", Coding::Unsigned),
        0x10 => plain("customer_location", Coding::Ident),
        0x11 => plain("customer", Coding::Ident),
        0x12 => plain("access_code_user", Coding::Ident),
        0x13 => plain("access_code_operator", Coding::Ident),
        0x14 => plain("access_code_system_operator", Coding::Ident),
        0x15 => plain("access_code_developer", Coding::Ident),
        0x16 => plain("password", Coding::Ident),
        0x17 => plain("error_flags", Coding::Bits),
        0x18 => plain("error_mask", Coding::Bits),
        0x19 => plain("security_key", Coding::Ident),
        0x1A => plain("digital_output", Coding::Bits),
        0x1B => plain("digital_input", Coding::Bits),
        0x1C => with_coding(m("baud_rate", "Bd", 0), Coding::Unsigned),
        0x1D => with_coding(m("response_delay_time", "bit_times", 0), Coding::Unsigned),
        0x1E => plain("retry", Coding::Unsigned),
        0x1F => plain("remote_control", Coding::Bits),
        0x20 => plain("first_storage_number", Coding::Unsigned),
        0x21 => plain("last_storage_number", Coding::Unsigned),
        0x22 => plain("storage_block_size", Coding::Unsigned),
        0x23 => plain("tariff_subunit_descriptor", Coding::Unsigned),
        0x24..=0x27 => with_coding(m("storage_interval", time_unit(nn), 0), Coding::Unsigned),
        0x28 => with_coding(m("storage_interval", "month", 0), Coding::Unsigned),
        0x29 => with_coding(m("storage_interval", "year", 0), Coding::Unsigned),
        0x2A => plain("operator_specific_data", Coding::Signed),
        0x2B => with_coding(m("time_point_second", "s", 0), Coding::Unsigned),
        0x2C..=0x2F => with_coding(
            m("duration_since_last_readout", time_unit(nn), 0),
            Coding::Unsigned,
        ),
        0x30 => plain("tariff_start", Coding::Date),
        0x31..=0x33 => with_coding(m("tariff_duration", time_unit(nn), 0), Coding::Unsigned),
        0x34..=0x37 => with_coding(m("tariff_period", time_unit(nn), 0), Coding::Unsigned),
        0x38 => with_coding(m("tariff_period", "month", 0), Coding::Unsigned),
        0x39 => with_coding(m("tariff_period", "year", 0), Coding::Unsigned),
        0x3A => plain("dimensionless", Coding::Signed),
        0x3B => plain("wmbus_data_container", Coding::Container),
        0x3C..=0x3F => with_coding(
            m("nominal_transmission_period", time_unit(nn), 0),
            Coding::Unsigned,
        ),
        0x40..=0x4F => m("voltage", "V", n4.wrapping_sub(9)),
        0x50..=0x5F => m("current", "A", n4.wrapping_sub(12)),
        0x60 => plain("reset_counter", Coding::Unsigned),
        0x61 => plain("cumulation_counter", Coding::Unsigned),
        0x62 => plain("control_signal", Coding::Bits),
        0x63 => plain("day_of_week", Coding::Unsigned),
        0x64 => plain("week_number", Coding::Unsigned),
        0x65 => plain("day_change_time", Coding::Date),
        0x66 => plain("parameter_activation_state", Coding::Bits),
        0x67 => plain("special_supplier_information", Coding::Signed),
        0x68..=0x6B => with_coding(
            m("duration_since_last_cumulation", long_time_unit(nn), 0),
            Coding::Unsigned,
        ),
        0x6C..=0x6F => with_coding(
            m("battery_operating_time", long_time_unit(nn), 0),
            Coding::Unsigned,
        ),
        0x70 => plain("battery_change_datetime", Coding::Date),
        0x71 => m("signal", "dBm", 0),
        0x72 => plain("daylight_saving", Coding::Bits),
        0x73 => plain("listening_window_management", Coding::Container),
        0x74 => with_coding(m("remaining_battery_life", "d", 0), Coding::Unsigned),
        0x75 => plain("meter_stop_count", Coding::Unsigned),
        0x76 => plain("manufacturer_data_container", Coding::Container),
        _ => RESERVED,
    }
}

/// The FD 7D second-level table (§3.1), for the byte after `FD FD` (a compile-time table).
#[inline]
pub fn fd_second_level(code: u8) -> &'static Meaning {
    lookup(&FD_SECOND_LEVEL, code)
}

/// One entry of the second-level FD table.
const fn second_level_entry(code: u8) -> Meaning {
    match code & 0x7F {
        0x00 => plain("selected_application", Coding::Unsigned),
        0x02 => with_coding(m("remaining_battery_life", "month", 0), Coding::Unsigned),
        0x03 => with_coding(m("remaining_battery_life", "year", 0), Coding::Unsigned),
        0x3E => m("moisture", "%", 0),
        _ => RESERVED,
    }
}

/// 2⁻¹² as 244140625 × 10⁻¹² (exact).
const POW2_MINUS_12: u32 = 244_140_625;

const fn rating(quantity: &'static str) -> Meaning {
    Meaning {
        quantity,
        unit: None,
        exponent: -12,
        unit_shift: 0,
        factor: POW2_MINUS_12,
        coding: Coding::Unsigned,
        known: true,
    }
}

/// The FB (first, alternate) extension table (§4), for the byte after `FB` with E cleared.
/// Where the old (≤ 2004) and 2013/2018 editions differ only by reserving a code, the
/// meaning that exists is decoded; FB 23 follows the old reading (1 US gallon).
const fn fb_entry(code: u8) -> Meaning {
    let n = bits(code, 0x01);
    let nn = bits(code, 0x03);
    let nnn = bits(code, 0x07);
    match code & 0x7F {
        0x00..=0x01 => shifted(m("energy", "kWh", n.wrapping_add(2)), 3),
        0x02..=0x03 => m("reactive_energy", "kvarh", n),
        0x04..=0x05 => m("apparent_energy", "kVAh", n),
        0x08..=0x09 => shifted(m("energy", "MJ", n.wrapping_add(2)), 3),
        0x0C..=0x0F => m("energy", "Mcal", nn.wrapping_sub(1)),
        0x10..=0x11 => m("volume", "m3", n.wrapping_add(2)),
        0x14..=0x17 => m("reactive_power", "kvar", nn.wrapping_sub(3)),
        0x18..=0x19 => shifted(m("mass", "kg", n.wrapping_add(5)), 3),
        0x1A..=0x1B => m("relative_humidity", "%", n.wrapping_sub(1)),
        0x20 => m("volume", "ft3", 0),
        0x21 => m("volume", "ft3", -1),
        0x22 => m("volume", "gal", -1),
        0x23 => m("volume", "gal", 0),
        0x24 => m("volume_flow", "gal/min", -3),
        0x25 => m("volume_flow", "gal/min", 0),
        0x26 => m("volume_flow", "gal/h", 0),
        0x28..=0x29 => shifted(m("power", "kW", n.wrapping_add(2)), 3),
        0x2A => m("phase_angle_voltage_voltage", "deg", -1),
        0x2B => m("phase_angle_voltage_current", "deg", -1),
        0x2C..=0x2F => m("frequency", "Hz", nn.wrapping_sub(3)),
        0x30..=0x31 => shifted(m("power", "MJ/h", n.wrapping_add(2)), 3),
        0x34..=0x37 => m("apparent_power", "kVA", nn.wrapping_sub(3)),
        0x58..=0x5B => m("flow_temperature", "F", nn.wrapping_sub(3)),
        0x5C..=0x5F => m("return_temperature", "F", nn.wrapping_sub(3)),
        0x60..=0x63 => m("temperature_difference", "F", nn.wrapping_sub(3)),
        0x64..=0x67 => m("external_temperature", "F", nn.wrapping_sub(3)),
        0x68 => rating("rating_factor_k"),
        0x69 => m("rating_factor_kq", "W", 0),
        0x6A => rating("rating_factor_kc"),
        0x6B => rating("rating_factor_kcr"),
        0x6C => rating("rating_factor_kch"),
        0x6D => rating("rating_factor_kt"),
        0x6E => rating("rating_factor_kd"),
        0x70..=0x73 => m("temperature_limit", "F", nn.wrapping_sub(3)),
        0x74..=0x77 => m("temperature_limit", "C", nn.wrapping_sub(3)),
        0x78..=0x7F => shifted(m("cumulative_max_power", "kW", nnn.wrapping_sub(6)), -3),
        _ => RESERVED,
    }
}

/// What one combinable VIFE (§5) does to a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// 00–0F, 15–1C: a record error (slave → master) or object action (master → slave).
    ErrorOrAction(u8),
    /// A qualifier with no effect on the value.
    Modifier(&'static str),
    /// A qualifier that divides or multiplies the unit (`per_hour` → `/h`).
    UnitSuffix(&'static str, &'static str),
    /// The data becomes a point in time (start date, date of a limit exceed).
    Date(&'static str),
    /// The data becomes a count (number of limit exceeds).
    Count(&'static str),
    /// The data becomes a duration in the given unit.
    Duration(&'static str, &'static str),
    /// Multiply the value by 10^n.
    Scale(i16),
    /// Add 10^n in the VIF's unit.
    Additive(i16),
    /// The next VIFE is from the extension table (§5.3).
    Extension,
    /// The rest of the VIFEs and the data are manufacturer specific.
    ManufacturerSpecific,
    /// Reserved code.
    Reserved,
}

/// The meaning of a combinable VIFE (E cleared), §5.
pub fn combinable(code: u8) -> Effect {
    let code = code & 0x7F;
    match code {
        0x00..=0x0F | 0x15..=0x1C => Effect::ErrorOrAction(code),
        0x12 => Effect::Modifier("average"),
        0x13 => Effect::Modifier("inverse_compact_profile"),
        0x14 => Effect::Modifier("relative_deviation"),
        0x1D => Effect::Modifier("standard_conform"),
        0x1E => Effect::Modifier("compact_profile_with_registers"),
        0x1F => Effect::Modifier("compact_profile"),
        0x20 => Effect::UnitSuffix("per_second", "/s"),
        0x21 => Effect::UnitSuffix("per_minute", "/min"),
        0x22 => Effect::UnitSuffix("per_hour", "/h"),
        0x23 => Effect::UnitSuffix("per_day", "/d"),
        0x24 => Effect::UnitSuffix("per_week", "/week"),
        0x25 => Effect::UnitSuffix("per_month", "/month"),
        0x26 => Effect::UnitSuffix("per_year", "/year"),
        0x27 => Effect::Modifier("per_revolution"),
        0x28 => Effect::Modifier("per_input_pulse_channel_0"),
        0x29 => Effect::Modifier("per_input_pulse_channel_1"),
        0x2A => Effect::Modifier("per_output_pulse_channel_0"),
        0x2B => Effect::Modifier("per_output_pulse_channel_1"),
        0x2C => Effect::UnitSuffix("per_litre", "/L"),
        0x2D => Effect::UnitSuffix("per_m3", "/m3"),
        0x2E => Effect::UnitSuffix("per_kg", "/kg"),
        0x2F => Effect::UnitSuffix("per_kelvin", "/K"),
        0x30 => Effect::UnitSuffix("per_kwh", "/kWh"),
        0x31 => Effect::UnitSuffix("per_gj", "/GJ"),
        0x32 => Effect::UnitSuffix("per_kw", "/kW"),
        0x33 => Effect::UnitSuffix("per_kelvin_litre", "/(K*L)"),
        0x34 => Effect::UnitSuffix("per_volt", "/V"),
        0x35 => Effect::UnitSuffix("per_ampere", "/A"),
        0x36 => Effect::UnitSuffix("times_second", "*s"),
        0x37 => Effect::UnitSuffix("times_second_per_volt", "*s/V"),
        0x38 => Effect::UnitSuffix("times_second_per_ampere", "*s/A"),
        0x39 => Effect::Date("start_date"),
        0x3A => Effect::Modifier("uncorrected"),
        0x3B => Effect::Modifier("forward_flow"),
        0x3C => Effect::Modifier("backward_flow"),
        0x3D => Effect::Modifier("non_metric"),
        0x3E => Effect::Modifier("base_conditions"),
        0x3F => Effect::Modifier("obis_declaration"),
        0x40 => Effect::Modifier("lower_limit"),
        0x48 => Effect::Modifier("upper_limit"),
        0x41 => Effect::Count("lower_limit_exceed_count"),
        0x49 => Effect::Count("upper_limit_exceed_count"),
        0x42 => Effect::Date("lower_limit_exceed_first_begin"),
        0x43 => Effect::Date("lower_limit_exceed_first_end"),
        0x46 => Effect::Date("lower_limit_exceed_last_begin"),
        0x47 => Effect::Date("lower_limit_exceed_last_end"),
        0x4A => Effect::Date("upper_limit_exceed_first_begin"),
        0x4B => Effect::Date("upper_limit_exceed_first_end"),
        0x4E => Effect::Date("upper_limit_exceed_last_begin"),
        0x4F => Effect::Date("upper_limit_exceed_last_end"),
        0x50..=0x5F => {
            let which = match code & 0x0C {
                0x00 => "lower_limit_exceed_first_duration",
                0x04 => "lower_limit_exceed_last_duration",
                0x08 => "upper_limit_exceed_first_duration",
                _ => "upper_limit_exceed_last_duration",
            };
            Effect::Duration(which, time_unit(code))
        }
        0x60..=0x67 => {
            let which = if code & 0x04 == 0 {
                "first_duration"
            } else {
                "last_duration"
            };
            Effect::Duration(which, time_unit(code))
        }
        0x68 => Effect::Modifier("value_during_lower_limit_exceed"),
        0x6C => Effect::Modifier("value_during_upper_limit_exceed"),
        0x69 => Effect::Modifier("leakage"),
        0x6D => Effect::Modifier("overflow"),
        0x6A => Effect::Date("first_begin"),
        0x6B => Effect::Date("first_end"),
        0x6E => Effect::Date("last_begin"),
        0x6F => Effect::Date("last_end"),
        0x70..=0x77 => Effect::Scale(bits(code, 0x07).wrapping_sub(6)),
        0x78..=0x7B => Effect::Additive(bits(code, 0x03).wrapping_sub(3)),
        0x7C => Effect::Extension,
        0x7D => Effect::Scale(3),
        0x7E => Effect::Modifier("future_value"),
        0x7F => Effect::ManufacturerSpecific,
        _ => Effect::Reserved,
    }
}

/// The extension of combinable VIFEs (§5.3), after a combinable `7C`/`FC`.
pub fn combinable_extension(code: u8) -> Option<&'static str> {
    Some(match code & 0x7F {
        0x01 => "at_phase_l1",
        0x02 => "at_phase_l2",
        0x03 => "at_phase_l3",
        0x04 => "at_neutral",
        0x05 => "between_phases_l1_l2",
        0x06 => "between_phases_l2_l3",
        0x07 => "between_phases_l3_l1",
        0x08 => "at_quadrant_q1",
        0x09 => "at_quadrant_q2",
        0x0A => "at_quadrant_q3",
        0x0B => "at_quadrant_q4",
        0x0C => "delta_import_export",
        0x10 => "absolute_count",
        0x11 => "unsigned",
        0x12 => "bit_field",
        0x14 => "partner_to_meter",
        0x15 => "meter_to_partner",
        _ => return None,
    })
}

/// The record error of a combinable VIFE 00–1F sent by a meter (§5.1).
pub fn record_error(code: u8) -> &'static str {
    match code {
        0x00 => "none",
        0x01 => "too_many_difes",
        0x02 => "storage_not_implemented",
        0x03 => "subunit_not_implemented",
        0x04 => "tariff_not_implemented",
        0x05 => "function_not_implemented",
        0x06 => "data_class_not_implemented",
        0x07 => "data_size_not_implemented",
        0x0B => "too_many_vifes",
        0x0C => "illegal_vif_group",
        0x0D => "illegal_vif_exponent",
        0x0E => "vif_dif_mismatch",
        0x0F => "unimplemented_action",
        0x15 => "no_data_available",
        0x16 => "data_overflow",
        0x17 => "data_underflow",
        0x18 => "data_error",
        0x1C => "premature_end_of_record",
        _ => "reserved",
    }
}

/// The object action of a combinable VIFE 00–0F sent by a master (§5.2).
pub fn object_action(code: u8) -> &'static str {
    match code {
        0x00 => "write",
        0x01 => "add_value",
        0x02 => "subtract_value",
        0x03 => "or",
        0x04 => "and",
        0x05 => "xor",
        0x06 => "and_not",
        0x07 => "clear",
        0x08 => "add_entry",
        0x09 => "delete_entry",
        0x0A => "delayed_action",
        0x0B => "freeze_data",
        0x0C => "add_to_readout_list",
        0x0D => "delete_from_readout_list",
        _ => "reserved",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primary_scales() {
        // 13 = litres: 10^-3 m3.
        assert_eq!(*primary(0x13), m("volume", "m3", -3));
        // 06 = kWh: exponent 0 in kWh; additive corrections are in Wh (shift -3).
        let e = primary(0x06);
        assert_eq!((e.unit, e.exponent, e.unit_shift), (Some("kWh"), 0, -3));
        // 5A = 0.1 degC flow temperature.
        assert_eq!(*primary(0x5A), m("flow_temperature", "C", -1));
        // 3B = l/h.
        assert_eq!(*primary(0x3B), m("volume_flow", "m3/h", -3));
        assert_eq!(primary(0x22).unit, Some("h"));
        assert_eq!(*primary(0x6F), RESERVED);
    }

    #[test]
    fn extension_tables() {
        assert_eq!(fd(0x17).quantity, "error_flags");
        assert_eq!(*fd(0x46), m("voltage", "V", -3));
        assert_eq!(*fd(0x59), m("current", "A", -3));
        assert_eq!(fd(0x74).unit, Some("d"));
        assert_eq!(fb(0x09).exponent, 3); // 1 GJ = 10^3 MJ
        assert_eq!(*fb(0x1A), m("relative_humidity", "%", -1));
        assert_eq!(fb(0x68).factor, 244_140_625);
    }

    #[test]
    fn combinable_codes() {
        assert_eq!(combinable(0x3C), Effect::Modifier("backward_flow"));
        assert_eq!(combinable(0xF3), Effect::Scale(-3));
        assert_eq!(combinable(0x7D), Effect::Scale(3));
        assert_eq!(combinable(0x79), Effect::Additive(-2));
        assert_eq!(combinable(0x15), Effect::ErrorOrAction(0x15));
        assert_eq!(record_error(0x15), "no_data_available");
        assert_eq!(
            combinable(0x53),
            Effect::Duration("lower_limit_exceed_first_duration", "d")
        );
    }
}
