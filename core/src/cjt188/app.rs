//! CJ/T 188 application layer: the data field `DI SER payload` of normal frames, `SER ST` of
//! exception replies, the data-identifier table (digest §6), the payload layouts, the unit
//! codes (§7) and the status word (§8).
//!
//! Each payload is described once, as a [`Layout`] of [`Field`]s; decoding, encoding and
//! explain mode all walk the same layout, so the three cannot drift apart.

use alloc::borrow::Cow;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::link::{address_text, field, Cjt188Frame};
use crate::decimal::Decimal;
use crate::error::Result;
use crate::model::{
    Address, Bytes, Cjt188Direction, Cjt188Function, Cjt188Link, Code16, Code8, Decoded, DiOrder,
    Meter, RawRecord, RecordFields, Status, StatusFlag, StatusFlags, Timestamp, Value,
};
use crate::reader::Reader;

/// The data identifiers meterwire knows (digest §6), for telling the byte order and for
/// labels. Payload layouts are in [`layout`].
pub mod di {
    /// Metering data (计量数据): current and settlement-date totals, clock, status; heat
    /// meters add heat, power, flow, temperatures and operating time.
    pub const METERING: u16 = 0x901F;
    /// History, month −1 (上1月); D121…D12B are months −2…−12.
    pub const HISTORY_FIRST: u16 = 0xD120;
    /// History, month −12.
    pub const HISTORY_LAST: u16 = 0xD12B;
    /// Price table (价格表).
    pub const PRICE_TABLE: u16 = 0x8102;
    /// Settlement day (结算日).
    pub const SETTLEMENT_DAY: u16 = 0x8103;
    /// Reading day (抄表日).
    pub const READING_DAY: u16 = 0x8104;
    /// Purchase amount (购入金额).
    pub const PURCHASE: u16 = 0x8105;
    /// Key version (密钥版本号), function 09H.
    pub const KEY_VERSION: u16 = 0x8106;
    /// Meter address, function 03H.
    pub const ADDRESS: u16 = 0x810A;
    /// Write the price table.
    pub const WRITE_PRICE_TABLE: u16 = 0xA010;
    /// Write the settlement day.
    pub const WRITE_SETTLEMENT_DAY: u16 = 0xA011;
    /// Write the reading day.
    pub const WRITE_READING_DAY: u16 = 0xA012;
    /// Write a purchase.
    pub const WRITE_PURCHASE: u16 = 0xA013;
    /// Write a new key.
    pub const WRITE_KEY: u16 = 0xA014;
    /// Write the standard time (标准时间).
    pub const WRITE_TIME: u16 = 0xA015;
    /// Meter-register synchronisation (机电同步), function 16H.
    pub const WRITE_SYNC: u16 = 0xA016;
    /// Valve control (阀门控制).
    pub const VALVE: u16 = 0xA017;
    /// Write a new address, function 15H.
    pub const WRITE_ADDRESS: u16 = 0xA018;
    /// Factory enable / lock (出厂启用).
    pub const FACTORY_ENABLE: u16 = 0xA019;
}

/// The name of a data identifier of digest §6 (standard and the vendor DIs it lists).
pub fn di_name(di: u16) -> Option<&'static str> {
    Some(match di {
        di::METERING => "metering data",
        di::HISTORY_FIRST..=di::HISTORY_LAST => "history, month -n",
        di::PRICE_TABLE => "price table",
        di::SETTLEMENT_DAY => "settlement day",
        di::READING_DAY => "reading day",
        di::PURCHASE => "purchase amount",
        di::KEY_VERSION => "key version",
        di::ADDRESS => "meter address",
        di::WRITE_PRICE_TABLE => "write price table",
        di::WRITE_SETTLEMENT_DAY => "write settlement day",
        di::WRITE_READING_DAY => "write reading day",
        di::WRITE_PURCHASE => "write purchase",
        di::WRITE_KEY => "write new key",
        di::WRITE_TIME => "write standard time",
        di::WRITE_SYNC => "meter-register synchronisation",
        di::VALVE => "valve control",
        di::WRITE_ADDRESS => "write address",
        di::FACTORY_ENABLE => "factory enable",
        0xA101 => "enter verification mode (2018)",
        0xA102 => "exit verification mode (2018)",
        0xA103 => "communication parameters (2018)",
        0xA104 => "freeze parameters (2018)",
        0xA105 => "remaining-volume alarm (2018)",
        0xA106 => "remaining-money alarm (2018)",
        0xA107 => "modify key (2018)",
        // Single-quantity DIs of one gateway driver's 2018 table (not in the digest).
        0x903F => "heat power (2018, one gateway driver)",
        0x904F => "return temperature (2018, one gateway driver)",
        0x905F => "supply temperature (2018, one gateway driver)",
        0x906F => "operating time (2018, one gateway driver)",
        0x907F => "real time (2018, one gateway driver)",
        0x8108 => "temperature (vendor)",
        0x8209 | 0x820A => "server address (vendor)",
        0x820B => "battery voltage (vendor)",
        0x820E => "signal strength (vendor)",
        0xA201..=0xA205 => "NB-IoT settings (vendor)",
        _ => return None,
    })
}

/// Reads the two DI bytes: the order in which they form a DI of the table, else `fallback`
/// (high byte first unless the caller says otherwise). Every table DI's byte pair differs
/// from every other's reversed pair, so the match is unambiguous.
pub fn read_di(bytes: [u8; 2], fallback: Option<DiOrder>) -> (u16, DiOrder) {
    for order in [DiOrder::HiLo, DiOrder::LoHi] {
        let di = order.read(bytes);
        if di_name(di).is_some() {
            return (di, order);
        }
    }
    let order = fallback.unwrap_or_default();
    (order.read(bytes), order)
}

/// A unit code of digest §7: the quantity it measures, the model's unit and the power of ten
/// the code multiplies by (`2D` = m³×10 → scale 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnitCode {
    /// `volume`, `energy`, `power`, `volume_flow`.
    pub quantity: &'static str,
    /// The model's unit (`m3`, `kWh`, …).
    pub unit: &'static str,
    /// The code's ×10ⁿ.
    pub scale: i16,
}

/// The unit of a unit code (`2C` → m³), or `None` for codes outside the table.
pub fn unit_of(code: u8) -> Option<UnitCode> {
    let (quantity, unit, first) = match code {
        0x01 => ("energy", "J", 0x01),
        0x02..=0x04 => ("energy", "Wh", 0x02),
        0x05..=0x07 => ("energy", "kWh", 0x05),
        0x08..=0x0A => ("energy", "MWh", 0x08),
        0x0B..=0x0D => ("energy", "kJ", 0x0B),
        0x0E..=0x10 => ("energy", "MJ", 0x0E),
        0x11..=0x13 => ("energy", "GJ", 0x11),
        0x14..=0x16 => ("power", "W", 0x14),
        0x17..=0x19 => ("power", "kW", 0x17),
        0x1A..=0x1C => ("power", "MW", 0x1A),
        0x29..=0x2B => ("volume", "L", 0x29),
        0x2C..=0x2E => ("volume", "m3", 0x2C),
        0x32..=0x34 => ("volume_flow", "L/h", 0x32),
        0x35..=0x37 => ("volume_flow", "m3/h", 0x35),
        0x40 => ("power", "J/h", 0x40),
        0x43..=0x45 => ("power", "kJ/h", 0x43),
        0x46..=0x48 => ("power", "MJ/h", 0x46),
        0x49..=0x4B => ("power", "GJ/h", 0x49),
        _ => return None,
    };
    Some(UnitCode {
        quantity,
        unit,
        scale: i16::from(code.wrapping_sub(first)),
    })
}

/// The ×1 unit code of a model unit (`m3` → `2C`).
pub fn unit_code(unit: &str) -> Option<u8> {
    (0u8..=0x4B).find(|code| unit_of(*code).is_some_and(|u| u.unit == unit && u.scale == 0))
}

/// The medium of a meter type (digest §3), or `None` for the `AA` wildcard.
pub fn medium_of(meter_type: u8) -> Option<&'static str> {
    Some(match meter_type {
        0x10 => "cold_water",
        0x11 => "warm_water",
        0x12 => "drinking_water",
        0x13 => "reclaimed_water",
        0x14..=0x19 => "water",
        0x20 | 0x23..=0x29 => "heat",
        0x21 => "cooling",
        0x22 => "heat_cooling",
        0x30..=0x39 => "gas",
        0x40..=0x49 => "other",
        super::link::WILDCARD => return None,
        _ => "unknown",
    })
}

/// The meter type in words, for explain mode.
pub fn meter_type_name(meter_type: u8) -> &'static str {
    match meter_type {
        0x10 => "cold water meter",
        0x11 => "domestic hot water meter",
        0x12 => "drinking water meter",
        0x13 => "reclaimed water meter",
        0x14..=0x19 => "water meter",
        0x20 => "heat meter (heating)",
        0x21 => "heat meter (cooling)",
        0x22 => "heat meter (heating and cooling)",
        0x23..=0x29 => "heat meter",
        0x30..=0x39 => "gas meter",
        0x40..=0x49 => "other / user-defined meter",
        super::link::WILDCARD => "any meter type (wildcard)",
        _ => "meter type outside CJ/T 188's families",
    }
}

/// Whether a meter type is in the heat family (20H–29H).
fn is_heat(meter_type: u8) -> bool {
    (0x20..=0x29).contains(&meter_type)
}

/// How a field is coded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A BCD number of `bytes` bytes (LSB first) with `decimals` fixed decimals, then a unit
    /// code byte (§7) that also says which quantity it is.
    Measured {
        /// Bytes of the number.
        bytes: u8,
        /// Fixed decimals.
        decimals: u8,
    },
    /// A BCD number of `bytes` bytes (LSB first) with `decimals` decimals in a fixed unit.
    Bcd {
        /// Bytes of the number.
        bytes: u8,
        /// Fixed decimals.
        decimals: u8,
        /// The unit, if the field has one.
        unit: Option<&'static str>,
    },
    /// One binary byte.
    Byte,
    /// Real time, 7 BCD bytes `ss mm hh DD MM YYlo YYhi`.
    DateTime,
    /// The status word ST0 ST1 (one byte in some meters); goes to the model's `status`.
    Status,
    /// A meter address, 7 bytes A0…A6.
    Address,
    /// A valve command byte (`55` open, `99` close, `AA` exercise, `77` half open).
    Valve,
    /// Bytes meterwire does not interpret.
    Raw {
        /// How many.
        bytes: u8,
    },
}

impl Kind {
    /// Bytes the field takes on the wire (the status word: 2, or 1 in some meters).
    pub const fn wire_len(self) -> usize {
        match self {
            Kind::Measured { bytes, .. } => (bytes as usize).saturating_add(1),
            Kind::Bcd { bytes, .. } | Kind::Raw { bytes } => bytes as usize,
            Kind::Byte | Kind::Valve => 1,
            Kind::DateTime | Kind::Address => 7,
            Kind::Status => 2,
        }
    }
}

/// Which storage number a field's record gets (design §2: current 0, settlement date 1,
/// history month −n → n).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Storage {
    /// No storage number (settings, commands).
    None,
    /// 0: the current value.
    Current,
    /// 1: the value at the last settlement date.
    Settlement,
    /// n for DI D11FH + n (history month −n).
    History,
}

impl Storage {
    fn number(self, di: u16) -> Option<u64> {
        match self {
            Storage::None => None,
            Storage::Current => Some(0),
            Storage::Settlement => Some(1),
            Storage::History => {
                Some(u64::from(di.saturating_sub(di::HISTORY_FIRST)).saturating_add(1))
            }
        }
    }
}

/// One field of a payload layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Field {
    /// The record's `label`: the field's name in the standard, in snake_case.
    pub label: &'static str,
    /// The record's quantity (a unit code of a [`Kind::Measured`] field may override it).
    pub quantity: &'static str,
    /// How it is coded.
    pub kind: Kind,
    /// Storage number rule.
    pub storage: Storage,
    /// Tariff (price step) number.
    pub tariff: Option<u32>,
    /// A field whose absence is a normal variant (the status of a write reply, the repeated
    /// address of a read-address reply): no warning when the payload ends before it.
    pub optional: bool,
}

/// A payload layout: the fields after DI and SER, in wire order.
pub type Layout = &'static [Field];

const fn field(label: &'static str, quantity: &'static str, kind: Kind, storage: Storage) -> Field {
    Field {
        label,
        quantity,
        kind,
        storage,
        tariff: None,
        optional: false,
    }
}

/// `XXXXXX.XX` + unit code: 4 BCD bytes, 2 decimals.
const fn total(label: &'static str, quantity: &'static str, storage: Storage) -> Field {
    field(
        label,
        quantity,
        Kind::Measured {
            bytes: 4,
            decimals: 2,
        },
        storage,
    )
}

const fn bcd(
    label: &'static str,
    quantity: &'static str,
    bytes: u8,
    decimals: u8,
    unit: Option<&'static str>,
) -> Field {
    field(
        label,
        quantity,
        Kind::Bcd {
            bytes,
            decimals,
            unit,
        },
        Storage::None,
    )
}

const fn tariff(mut fld: Field, n: u32) -> Field {
    fld.tariff = Some(n);
    fld
}

const fn optional(mut fld: Field) -> Field {
    fld.optional = true;
    fld
}

const STATUS: Field = field("status", "status", Kind::Status, Storage::None);
const REAL_TIME: Field = field("real_time", "datetime", Kind::DateTime, Storage::Current);

/// 901FH reply of water and gas meters (T = 1xH, 3xH): L = 16H.
pub const WATER_METERING: Layout = &[
    total("current_cumulative_flow", "volume", Storage::Current),
    total(
        "settlement_date_cumulative_flow",
        "volume",
        Storage::Settlement,
    ),
    REAL_TIME,
    STATUS,
];

/// 901FH reply of heat meters (T = 2xH): L = 2EH.
pub const HEAT_METERING: Layout = &[
    total("settlement_date_heat", "energy", Storage::Settlement),
    total("current_heat", "energy", Storage::Current),
    total("heat_power", "power", Storage::Current),
    field(
        "flow_rate",
        "volume_flow",
        Kind::Measured {
            bytes: 4,
            decimals: 4,
        },
        Storage::Current,
    ),
    total("cumulative_flow", "volume", Storage::Current),
    field(
        "supply_temperature",
        "flow_temperature",
        Kind::Bcd {
            bytes: 3,
            decimals: 2,
            unit: Some("C"),
        },
        Storage::Current,
    ),
    field(
        "return_temperature",
        "return_temperature",
        Kind::Bcd {
            bytes: 3,
            decimals: 2,
            unit: Some("C"),
        },
        Storage::Current,
    ),
    field(
        "cumulative_operating_time",
        "operating_time",
        Kind::Bcd {
            bytes: 3,
            decimals: 0,
            unit: Some("h"),
        },
        Storage::Current,
    ),
    REAL_TIME,
    STATUS,
];

/// Payload bytes of [`WATER_METERING`].
pub const WATER_METERING_LEN: usize = 19;
/// Payload bytes of [`HEAT_METERING`].
pub const HEAT_METERING_LEN: usize = 43;

/// D120H…D12BH reply: the cumulative flow of month −n.
pub const HISTORY: Layout = &[total("history_cumulative_flow", "volume", Storage::History)];

/// 8102H reply / A010H request: three prices and the two volume steps between them.
pub const PRICE_TABLE: Layout = &[
    tariff(bcd("price_1", "price", 3, 2, None), 1),
    tariff(bcd("volume_1", "volume_threshold", 3, 0, Some("m3")), 1),
    tariff(bcd("price_2", "price", 3, 2, None), 2),
    tariff(bcd("volume_2", "volume_threshold", 3, 0, Some("m3")), 2),
    tariff(bcd("price_3", "price", 3, 2, None), 3),
];

/// 8103H reply / A011H request.
pub const SETTLEMENT_DAY: Layout = &[bcd("settlement_day", "settlement_day", 1, 0, None)];

/// 8104H reply / A012H request.
pub const READING_DAY: Layout = &[bcd("reading_day", "reading_day", 1, 0, None)];

/// 8105H reply: purchase number, this purchase, total purchased, remaining, status.
pub const PURCHASE: Layout = &[
    bcd("purchase_no", "purchase_no", 1, 0, None),
    bcd("this_purchase", "money", 4, 2, None),
    bcd("total_purchased", "money", 4, 2, None),
    bcd("remaining", "money", 4, 2, None),
    STATUS,
];

/// A013H request: purchase number and amount.
pub const WRITE_PURCHASE: Layout = &[
    bcd("purchase_no", "purchase_no", 1, 0, None),
    bcd("this_purchase", "money", 4, 2, None),
];

/// 8106H reply: the key version.
pub const KEY_VERSION: Layout = &[field(
    "key_version",
    "key_version",
    Kind::Byte,
    Storage::None,
)];

/// A014H request: key version and the new 8-byte key.
pub const WRITE_KEY: Layout = &[
    field("key_version", "key_version", Kind::Byte, Storage::None),
    field("new_key", "other", Kind::Raw { bytes: 8 }, Storage::None),
];

/// 810AH reply: nothing, or (one driver) the address repeated.
pub const ADDRESS_REPLY: Layout = &[optional(field(
    "address",
    "bus_address",
    Kind::Address,
    Storage::None,
))];

/// A015H request: the standard time.
pub const WRITE_TIME: Layout = &[field(
    "standard_time",
    "datetime",
    Kind::DateTime,
    Storage::None,
)];

/// A016H request: the register value the electronics take over.
pub const WRITE_SYNC: Layout = &[total("cumulative_flow", "volume", Storage::Current)];

/// A017H request: the valve command.
pub const VALVE: Layout = &[field("valve_command", "valve", Kind::Valve, Storage::None)];

/// A018H request: the new address.
pub const WRITE_ADDRESS: Layout = &[field(
    "new_address",
    "bus_address",
    Kind::Address,
    Storage::None,
)];

/// Reply to a write (84H, 95H, 96H): the status word, two bytes or one, or none.
pub const WRITE_REPLY: Layout = &[optional(STATUS)];

/// A request that carries nothing after DI and SER.
pub const EMPTY: Layout = &[];

/// The layout of a normal (not exception) frame's payload, or `None` when meterwire does not
/// know it (private DIs and functions): the payload then becomes one raw record.
///
/// `payload_len` chooses between the water and the heat layout of 901FH when it matches one
/// of them exactly; otherwise the meter type decides.
pub fn layout(
    function: Cjt188Function,
    direction: Cjt188Direction,
    di: u16,
    meter_type: u8,
    payload_len: Option<usize>,
) -> Option<Layout> {
    use Cjt188Function as F;
    let reply = direction == Cjt188Direction::SlaveToMaster;
    match (reply, function) {
        (true, F::WriteData | F::WriteAddress | F::WriteSync) => Some(WRITE_REPLY),
        (true, F::ReadData | F::ReadAddress | F::ReadKeyVersion) => Some(match di {
            di::METERING => {
                let heat = match payload_len {
                    Some(WATER_METERING_LEN) => false,
                    Some(HEAT_METERING_LEN) => true,
                    _ => is_heat(meter_type),
                };
                if heat {
                    HEAT_METERING
                } else {
                    WATER_METERING
                }
            }
            di::HISTORY_FIRST..=di::HISTORY_LAST => HISTORY,
            di::PRICE_TABLE => PRICE_TABLE,
            di::SETTLEMENT_DAY => SETTLEMENT_DAY,
            di::READING_DAY => READING_DAY,
            di::PURCHASE => PURCHASE,
            di::KEY_VERSION => KEY_VERSION,
            di::ADDRESS => ADDRESS_REPLY,
            _ => return None,
        }),
        (false, F::ReadData | F::ReadAddress | F::ReadKeyVersion) => {
            di_name(di).is_some().then_some(EMPTY)
        }
        (false, F::WriteData | F::WriteAddress | F::WriteSync) => Some(match di {
            di::WRITE_PRICE_TABLE => PRICE_TABLE,
            di::WRITE_SETTLEMENT_DAY => SETTLEMENT_DAY,
            di::WRITE_READING_DAY => READING_DAY,
            di::WRITE_PURCHASE => WRITE_PURCHASE,
            di::WRITE_KEY => WRITE_KEY,
            di::WRITE_TIME => WRITE_TIME,
            di::WRITE_SYNC => WRITE_SYNC,
            di::VALVE => VALVE,
            di::WRITE_ADDRESS => WRITE_ADDRESS,
            _ => return None,
        }),
    }
}

/// The DI as the model writes it (`"0x901F"`).
pub fn di_text(di: u16) -> String {
    format!("{}", Code16(di))
}

/// The value of LSB-first BCD bytes, or `None` at the first nibble above 9 (with its byte
/// index).
pub fn bcd_value(bytes: &[u8]) -> core::result::Result<i128, usize> {
    let mut m: i128 = 0;
    for (i, b) in bytes.iter().enumerate().rev() {
        let (hi, lo) = (b >> 4, b & 0x0F);
        if hi > 9 || lo > 9 {
            return Err(i);
        }
        m = m
            .saturating_mul(100)
            .saturating_add(i128::from(hi).saturating_mul(10))
            .saturating_add(i128::from(lo));
    }
    Ok(m)
}

/// The valve command of a byte, by name.
pub fn valve_name(code: u8) -> Option<&'static str> {
    Some(match code {
        0x55 => "open",
        0x99 => "close",
        0xAA => "exercise",
        0x77 => "half_open",
        _ => return None,
    })
}

/// The byte of a valve command name (or of `0xNN` text).
pub fn valve_code(name: &str) -> Option<u8> {
    match name {
        "open" => Some(0x55),
        "close" => Some(0x99),
        "exercise" => Some(0xAA),
        "half_open" => Some(0x77),
        _ => name
            .strip_prefix("0x")
            .and_then(|h| u8::from_str_radix(h, 16).ok()),
    }
}

/// The normalised status of ST0 (and ST1): valve bits D1–D0, battery bit D2; the raw value
/// is `ST0 | ST1 << 8`.
pub fn status_of(st: &[u8]) -> Status {
    let st0 = st.first().copied().unwrap_or(0);
    let st1 = st.get(1).copied().unwrap_or(0);
    let mut flags = StatusFlags::default();
    match st0 & 0x03 {
        0x00 => flags.insert(StatusFlag::ValveOpen),
        0x01 => flags.insert(StatusFlag::ValveClosed),
        0x03 => flags.insert(StatusFlag::ValveFault),
        _ => {}
    }
    if st0 & 0x04 != 0 {
        flags.insert(StatusFlag::LowBattery);
    }
    Status {
        raw: u32::from(st0) | (u32::from(st1) << 8),
        flags,
    }
}

/// The timestamp of 7 BCD bytes `ss mm hh DD MM YYlo YYhi`, or the index of the first
/// non-BCD byte.
pub fn datetime_of(bytes: &[u8]) -> core::result::Result<Timestamp, usize> {
    let mut v = [0u8; 7];
    for (i, slot) in v.iter_mut().enumerate() {
        let b = bytes.get(i).copied().ok_or(i)?;
        let (hi, lo) = (b >> 4, b & 0x0F);
        if hi > 9 || lo > 9 {
            return Err(i);
        }
        *slot = hi.saturating_mul(10).saturating_add(lo);
    }
    let [second, minute, hour, day, month, year_lo, year_hi] = v;
    Ok(Timestamp {
        year: Some(
            u16::from(year_hi)
                .saturating_mul(100)
                .saturating_add(u16::from(year_lo)),
        ),
        month,
        day,
        hour: Some(hour),
        minute: Some(minute),
        second: Some(second),
    })
}

/// The record of one field's bytes (`bytes` is exactly [`Kind::wire_len`] long). Problems that do
/// not stop decoding (non-BCD digits, unknown unit codes) become warnings; `offset` is the
/// field's first byte in the input.
pub fn record_of(
    fld: &Field,
    bytes: &[u8],
    di: u16,
    offset: usize,
    warnings: &mut Vec<String>,
) -> RecordFields {
    let mut rec = RecordFields::new(fld.quantity);
    rec.label = Some(Cow::Borrowed(fld.label));
    rec.storage = fld.storage.number(di);
    rec.tariff = fld.tariff;
    rec.address = Some(Address::Text(Cow::Owned(di_text(di))));
    rec.raw = Some(RawRecord::new(0, &[], &[], bytes));
    let not_bcd = |at: usize, warnings: &mut Vec<String>| {
        warnings.push(format!(
            "{} (DI {}): byte {} is not BCD: no value",
            fld.label,
            di_text(di),
            offset.saturating_add(at)
        ));
    };
    match fld.kind {
        Kind::Measured { bytes: n, decimals } => {
            let n = usize::from(n);
            let value = bytes.get(..n).unwrap_or(&[]);
            let code = bytes.get(n).copied().unwrap_or(0);
            let scale = match unit_of(code) {
                Some(u) => {
                    rec.quantity = Cow::Borrowed(u.quantity);
                    rec.unit = Some(Cow::Borrowed(u.unit));
                    u.scale
                }
                None => {
                    warnings.push(format!(
                        "{} (DI {}): unit code 0x{code:02X} at byte {} is not in the CJ/T 188 table: value kept unscaled, no unit",
                        fld.label,
                        di_text(di),
                        offset.saturating_add(n)
                    ));
                    0
                }
            };
            match bcd_value(value) {
                Ok(m) => {
                    let exponent = scale.saturating_sub(i16::from(decimals));
                    rec.value = Decimal::new(m, exponent).map(Value::Number);
                }
                Err(at) => {
                    rec.invalid = true;
                    not_bcd(at, warnings);
                }
            }
        }
        Kind::Bcd { decimals, unit, .. } => {
            rec.unit = unit.map(Cow::Borrowed);
            match bcd_value(bytes) {
                Ok(m) => {
                    rec.value = Decimal::new(m, 0i16.saturating_sub(i16::from(decimals)))
                        .map(Value::Number);
                }
                Err(at) => {
                    rec.invalid = true;
                    not_bcd(at, warnings);
                }
            }
        }
        Kind::Byte => {
            let b = bytes.first().copied().unwrap_or(0);
            rec.value = Some(Value::Number(Decimal::from_int(i128::from(b))));
        }
        Kind::DateTime => match datetime_of(bytes) {
            Ok(ts) => rec.value = Some(Value::Time(ts)),
            Err(at) => {
                rec.invalid = true;
                not_bcd(at, warnings);
            }
        },
        Kind::Address => {
            let mut a = [0u8; 7];
            if let Some(src) = bytes.get(..7) {
                a.copy_from_slice(src);
            }
            rec.value = Some(Value::Text(String::from(address_text(&a).as_str())));
        }
        Kind::Valve => {
            let b = bytes.first().copied().unwrap_or(0);
            rec.value = Some(Value::Text(match valve_name(b) {
                Some(name) => String::from(name),
                None => {
                    warnings.push(format!(
                        "valve command 0x{b:02X} at byte {offset} is not one of 55 (open), 99 (close), AA (exercise), 77 (half open)"
                    ));
                    format!("0x{b:02X}")
                }
            }));
        }
        Kind::Raw { .. } | Kind::Status => {}
    }
    rec
}

/// A record for a payload meterwire has no layout for (private DIs, 2018 additions with
/// unknown payloads): quantity `other`, the DI as address, the bytes in `raw`.
pub fn raw_record(di: u16, bytes: &[u8]) -> RecordFields {
    let mut rec = RecordFields::new("other");
    rec.address = Some(Address::Text(Cow::Owned(di_text(di))));
    rec.raw = Some(RawRecord::new(0, &[], &[], bytes));
    rec
}

fn status_warning(st: &[u8], offset: usize, warnings: &mut Vec<String>) {
    if st.first().is_some_and(|b| b & 0x03 == 0x02) {
        warnings.push(format!(
            "status byte ST0 at {offset}: valve bits D1-D0 = 10 are undefined"
        ));
    }
}

/// Reads the payload `r` along `fields` into records and status, as far as it goes.
fn decode_layout(fields: Layout, di: u16, r: &mut Reader<'_>, out: &mut Decoded) -> Result<()> {
    for fld in fields {
        let remaining = r.remaining();
        if remaining == 0 && fld.optional {
            break;
        }
        if fld.kind == Kind::Status {
            if remaining == 0 {
                out.warnings.push(format!(
                    "DI {}: the payload ends before the status word",
                    di_text(di)
                ));
                break;
            }
            let at = r.position();
            let st = r.take(remaining.min(2), "status word")?;
            status_warning(st, at, &mut out.warnings);
            out.status = Some(status_of(st));
            continue;
        }
        let n = fld.kind.wire_len();
        if remaining < n {
            out.warnings.push(format!(
                "DI {}: the payload ends before {} ({n} bytes, {remaining} left)",
                di_text(di),
                fld.label
            ));
            break;
        }
        let at = r.position();
        let bytes = r.take(n, fld.label)?;
        let rec = record_of(fld, bytes, di, at, &mut out.warnings);
        out.records.push(rec.into());
    }
    Ok(())
}

/// What is left after the known structure: kept as `application_data`, with a warning.
fn keep_rest(r: &mut Reader<'_>, what: &str, out: &mut Decoded) {
    if r.is_empty() {
        return;
    }
    let at = r.position();
    let rest = r.take_rest();
    out.warnings.push(format!(
        "{} byte(s) at {at} after {what}: kept in application_data",
        rest.len()
    ));
    out.application_data = Some(Bytes::new(rest));
}

/// Decodes the application layer of a checked frame into `out` (whose link and meter it
/// fills in). `di_order` is the order assumed for DIs outside the table.
pub fn decode(
    frame: &Cjt188Frame<&[u8]>,
    di_order: Option<DiOrder>,
    out: &mut Decoded,
) -> Result<()> {
    let mut link: Cjt188Link = frame.link();
    let t = frame.meter_type();
    out.meter = Some(Meter {
        id: link.address.clone(),
        medium: medium_of(t).map(Cow::Borrowed),
        medium_code: Some(Code8(t)),
        ..Meter::default()
    });
    if medium_of(t) == Some("unknown") {
        out.warnings.push(format!(
            "meter type 0x{t:02X} is outside CJ/T 188's families"
        ));
    }
    let c = frame.control();
    let data = frame.data();
    let mut r = Reader::new(data, frame.data_offset());
    match link.function {
        None => {
            out.warnings.push(format!(
                "control code 0x{c:02X} names no CJ/T 188 function: data kept as application_data"
            ));
            if !data.is_empty() {
                out.application_data = Some(Bytes::new(data));
            }
        }
        Some(function) => {
            if c & super::link::control::FUNCTION != function.code() {
                out.warnings.push(format!(
                    "control code 0x{c:02X}: D5 set, read as the follow-up flag"
                ));
            }
            if link.exception {
                decode_exception(&mut r, di_order, &mut link, out)?;
            } else if data.len() < field::PAYLOAD.start {
                out.warnings
                    .push(String::from("the data field is too short for DI and SER"));
                keep_rest(&mut r, "the header", out);
            } else {
                let di_bytes = r.take(2, "DI")?;
                let (di, order) = read_di(
                    [
                        di_bytes.first().copied().unwrap_or(0),
                        di_bytes.get(1).copied().unwrap_or(0),
                    ],
                    di_order,
                );
                link.di = Some(Code16(di));
                link.di_order = Some(order);
                link.ser = Some(r.u8("SER")?);
                match layout(function, link.direction, di, t, Some(r.remaining())) {
                    Some(fields) => {
                        decode_layout(fields, di, &mut r, out)?;
                        keep_rest(&mut r, "the DI's layout", out);
                    }
                    None => {
                        if !r.is_empty() {
                            let rest = r.take_rest();
                            out.records.push(raw_record(di, rest).into());
                        }
                    }
                }
            }
        }
    }
    out.link = crate::model::Link::Cjt188(link);
    Ok(())
}

/// An exception reply: `SER ST0 ST1` (L = 3), `SER ST0`, `SER`, or `DI SER ST…` when the
/// first two bytes are a table DI and L is 4 or 5.
fn decode_exception(
    r: &mut Reader<'_>,
    di_order: Option<DiOrder>,
    link: &mut Cjt188Link,
    out: &mut Decoded,
) -> Result<()> {
    let data = r.rest();
    if matches!(data.len(), 4 | 5) {
        let pair = [
            data.first().copied().unwrap_or(0),
            data.get(1).copied().unwrap_or(0),
        ];
        let (di, order) = read_di(pair, di_order);
        if di_name(di).is_some() {
            r.take(2, "DI")?;
            link.di = Some(Code16(di));
            link.di_order = Some(order);
        }
    }
    if r.is_empty() {
        return Ok(());
    }
    link.ser = Some(r.u8("SER")?);
    if !r.is_empty() {
        let at = r.position();
        let st = r.take(r.remaining().min(2), "status word")?;
        status_warning(st, at, &mut out.warnings);
        out.status = Some(status_of(st));
    }
    keep_rest(r, "the exception status", out);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_di_reads_in_both_orders() {
        let mut dis: Vec<u16> = (0..=u16::MAX).filter(|d| di_name(*d).is_some()).collect();
        dis.sort_unstable();
        assert!(dis.len() > 40);
        for d in dis {
            for order in [DiOrder::HiLo, DiOrder::LoHi] {
                assert_eq!(read_di(order.bytes(d), None), (d, order), "{d:04X}");
            }
        }
        // Not in the table: high byte first unless told otherwise.
        assert_eq!(read_di([0x12, 0x34], None), (0x1234, DiOrder::HiLo));
        assert_eq!(
            read_di([0x12, 0x34], Some(DiOrder::LoHi)),
            (0x3412, DiOrder::LoHi)
        );
    }

    #[test]
    fn unit_codes() {
        assert_eq!(unit_of(0x2C).unwrap().unit, "m3");
        assert_eq!(unit_of(0x2E).unwrap().scale, 2);
        assert_eq!(unit_of(0x17).unwrap().quantity, "power");
        assert_eq!(unit_of(0x4B).unwrap().unit, "GJ/h");
        assert_eq!(unit_of(0x41), None);
        assert_eq!(unit_code("m3"), Some(0x2C));
        assert_eq!(unit_code("kWh"), Some(0x05));
        assert_eq!(unit_code("J/h"), Some(0x40));
        assert_eq!(unit_code("furlong"), None);
        let defined = (0..=u8::MAX).filter(|c| unit_of(*c).is_some()).count();
        assert_eq!(defined, 19 + 9 + 6 + 6 + 10);
    }

    #[test]
    fn status_bits() {
        let s = status_of(&[0x05, 0x00]);
        assert_eq!(s.raw, 5);
        assert!(s.flags.contains(StatusFlag::ValveClosed));
        assert!(s.flags.contains(StatusFlag::LowBattery));
        assert!(status_of(&[0x03, 0x80])
            .flags
            .contains(StatusFlag::ValveFault));
        assert_eq!(status_of(&[0x03, 0x80]).raw, 0x8003);
        assert!(status_of(&[0x00]).flags.contains(StatusFlag::ValveOpen));
    }

    #[test]
    fn bcd_and_time() {
        assert_eq!(bcd_value(&[0x56, 0x34, 0x12, 0x00]), Ok(123456));
        assert_eq!(bcd_value(&[0x56, 0xFF]), Err(1));
        let t = datetime_of(&[0x31, 0x01, 0x22, 0x11, 0x05, 0x15, 0x20]).unwrap();
        assert_eq!(
            alloc::string::ToString::to_string(&t),
            "2015-05-11T22:01:31"
        );
    }

    #[test]
    fn layout_lengths() {
        let len = |l: Layout| l.iter().map(|f| f.kind.wire_len()).sum::<usize>();
        assert_eq!(len(WATER_METERING), WATER_METERING_LEN);
        assert_eq!(len(HEAT_METERING), HEAT_METERING_LEN);
        assert_eq!(len(HISTORY), 5);
        assert_eq!(len(PURCHASE), 15);
        assert_eq!(len(PRICE_TABLE), 15);
    }
}
