//! `meterwire encode`: build requests a master sends, or a frame from a JSON model.

use clap::{Args, Subcommand};
use meterwire::cjt188::link::parse_address;
use meterwire::cjt188::request::Request;
use meterwire::coap::{self, CoapCode, CoapType};
use meterwire::mbus::request::{self, SecondaryAddress};
use meterwire::modbus::request as modbus;
use meterwire::model::Timestamp;
use meterwire::{Decimal, Detail, DiOrder, Error, ErrorKind, Layer, MqttVersion, Options};

/// What to encode.
#[derive(Debug, Subcommand)]
pub enum EncodeCommand {
    /// Wired M-Bus requests (EN 13757-2/-3).
    #[command(subcommand)]
    Mbus(MbusRequest),
    /// CJ/T 188 requests (2004 / 2018), the protocol of Chinese water, heat and gas meters.
    #[command(subcommand)]
    Cjt188(Cjt188Request),
    /// Modbus RTU requests: unit, PDU, CRC (`modbus` alone means RTU).
    #[command(subcommand, name = "modbus_rtu", aliases = ["modbus-rtu", "modbus"])]
    ModbusRtu(ModbusRequest),
    /// Modbus TCP requests: MBAP header (transaction id, protocol 0, length, unit), PDU.
    #[command(name = "modbus_tcp", alias = "modbus-tcp")]
    ModbusTcp(ModbusTcp),
    /// IEC 62056-21 messages of the optical port (GB/T 19897.1): what a reading head sends,
    /// and a meter's identification, readout and error messages (for simulators).
    #[command(name = "iec62056-21", alias = "iec62056_21")]
    Iec62056_21(Iec),
    /// A CoAP message (RFC 7252) around a payload, e.g. a frame another `encode` built.
    Coap(CoapArgs),
    /// An MQTT PUBLISH around a payload, e.g. a frame another `encode` built.
    Mqtt(MqttArgs),
    /// A frame from its JSON model (the output of `meterwire decode`), e.g. a changed reading
    /// for a meter simulator.
    /// With `--key`/`--keys`, a wM-Bus payload flagged for security mode 2, 5 or 7 (or the
    /// ELL's AES-CTR) is encrypted; without, it is written as the model holds it.
    Json {
        /// The JSON model; `-` reads it from standard input.
        json: String,
        #[command(flatten)]
        keys: crate::KeyArgs,
    },
}

/// An IEC 62056-21 message, optionally with 7E1 parity bits.
#[derive(Debug, Args)]
pub struct Iec {
    /// Set 7E1 even-parity bits in bit 7 (for a port that sends 8 data bits).
    #[arg(long, global = true)]
    parity: bool,
    #[command(subcommand)]
    message: IecMessage,
}

/// The IEC 62056-21 messages.
#[derive(Debug, Subcommand)]
pub enum IecMessage {
    /// Sign-on request `/?[address]!` CR LF.
    SignOn {
        /// The device address (up to 32 characters); none for a point-to-point optical head.
        #[arg(long, default_value = "")]
        address: String,
    },
    /// Acknowledgement / option select `ACK 0 Z Y` CR LF (mode C).
    OptionSelect {
        /// The baud rate to switch to: 300, 600, 1200, 2400, 4800, 9600, 19200.
        #[arg(long, default_value_t = 9600)]
        baud: u32,
        /// data_readout, programming or binary.
        #[arg(long, default_value = "data_readout")]
        mode: String,
    },
    /// A lone ACK.
    Ack,
    /// A lone NAK (repeat request).
    Nak,
    /// Password command `SOH P<type> STX (password) ETX BCC`.
    Password {
        /// The password (or operand).
        #[arg(long)]
        password: String,
        /// 0 operand, 1 password, 2 secured algorithm result.
        #[arg(long = "type", default_value = "1")]
        kind: char,
    },
    /// Read command `SOH R1 STX address() ETX BCC`.
    Read {
        /// The data-set address (e.g. 8.0, 1.8.0, C.1.0).
        #[arg(long)]
        address: String,
        /// Text between the parentheses (usually none).
        #[arg(long, default_value = "")]
        option: String,
    },
    /// Write command `SOH W1 STX address(value) ETX BCC`.
    Write {
        /// The data-set address.
        #[arg(long)]
        address: String,
        /// The value text.
        #[arg(long)]
        value: String,
    },
    /// Execute command `SOH E2 STX address(value) ETX BCC`.
    Execute {
        /// The function's address.
        #[arg(long)]
        address: String,
        /// Its argument.
        #[arg(long, default_value = "")]
        value: String,
    },
    /// Break (complete sign-off) `SOH B0 ETX BCC`.
    Break,
    /// A meter's identification `/XXXZ[\W]ident` CR LF.
    Identification {
        /// The 3 manufacturer letters (lower-case third letter: 20 ms reaction time).
        #[arg(long)]
        manufacturer: String,
        /// The baud rate offered (mode C characters).
        #[arg(long, default_value_t = 9600)]
        baud: u32,
        /// The enhanced identification digit (2: binary HDLC mode available).
        #[arg(long)]
        enhanced_id: Option<char>,
        /// The identification text (up to 16 characters).
        #[arg(long)]
        ident: String,
    },
    /// A meter's readout `STX address(value*unit) CR LF … ! CR LF ETX BCC`.
    Readout {
        /// Data sets as ADDRESS=VALUE[*UNIT], e.g. 8.0=001234.567*m3.
        #[arg(required = true)]
        data_sets: Vec<String>,
    },
    /// A meter's error message `STX (text) ETX BCC`.
    Error {
        /// The error text, e.g. ER01.
        #[arg(long)]
        text: String,
    },
}

fn iec62056_21(msg: &Iec) -> Result<Vec<u8>, Error> {
    use meterwire::iec62056_21::request as iec;
    let bytes = match &msg.message {
        IecMessage::SignOn { address } => iec::sign_on(address)?,
        IecMessage::OptionSelect { baud, mode } => iec::option_select(*baud, mode)?,
        IecMessage::Ack => iec::ack(),
        IecMessage::Nak => iec::nak(),
        IecMessage::Password { password, kind } => iec::password(*kind, password)?,
        IecMessage::Read { address, option } => iec::read(address, option)?,
        IecMessage::Write { address, value } => iec::write(address, value)?,
        IecMessage::Execute { address, value } => iec::execute(address, value)?,
        IecMessage::Break => iec::break_message(),
        IecMessage::Identification {
            manufacturer,
            baud,
            enhanced_id,
            ident,
        } => iec::identification(manufacturer, *baud, *enhanced_id, ident)?,
        IecMessage::Readout { data_sets } => {
            let mut triples = Vec::with_capacity(data_sets.len());
            for set in data_sets {
                let (address, rest) = set.split_once('=').ok_or(bad_argument(
                    "a data set is ADDRESS=VALUE or ADDRESS=VALUE*UNIT",
                ))?;
                let (value, unit) = rest.split_once('*').unwrap_or((rest, ""));
                triples.push((address, value, unit));
            }
            iec::readout(&triples)?
        }
        IecMessage::Error { text } => iec::error_message(text)?,
    };
    Ok(if msg.parity {
        iec::with_parity(bytes)
    } else {
        bytes
    })
}

/// A CoAP message: header, token, options, payload.
#[derive(Debug, Args)]
pub struct CoapArgs {
    /// CON, NON, ACK or RST.
    #[arg(long = "type", value_name = "TYPE", default_value = "CON", value_parser = parse_coap_type)]
    message_type: CoapType,
    /// The code: a method (GET, POST, PUT, DELETE, FETCH, PATCH, iPATCH), a response name
    /// (content, changed, …) or class.detail (2.05).
    #[arg(long, default_value = "POST", value_parser = parse_coap_code)]
    code: CoapCode,
    /// The message ID (0-65535 or 0x0000-0xFFFF).
    #[arg(long, default_value = "0", value_parser = parse_u16)]
    message_id: u16,
    /// The token in hex (0-8 bytes).
    #[arg(long, value_name = "HEX", default_value = "", value_parser = parse_hex_arg)]
    token: HexArg,
    /// Uri-Path options from a path (/19/0/0).
    #[arg(long, value_name = "PATH")]
    path: Option<String>,
    /// A Uri-Query option (ep=860000000000001); may be repeated.
    #[arg(long, value_name = "TEXT")]
    query: Vec<String>,
    /// The Content-Format option (42 octet-stream, 50 JSON, 11542 LwM2M TLV, …).
    #[arg(long, value_name = "N")]
    content_format: Option<u16>,
    /// The Observe option (0 registers, a sequence number in notifications).
    #[arg(long, value_name = "N")]
    observe: Option<u32>,
    /// The payload in hex (an encoded frame); none when absent.
    #[arg(long, value_name = "HEX", default_value = "", value_parser = parse_hex_arg)]
    payload: HexArg,
}

/// An MQTT PUBLISH.
#[derive(Debug, Args)]
pub struct MqttArgs {
    /// The topic name.
    #[arg(long)]
    topic: String,
    /// Quality of service: 0, 1 or 2.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=2))]
    qos: u8,
    /// The packet identifier (QoS 1 and 2).
    #[arg(long, value_parser = parse_u16, default_value = "1")]
    packet_id: u16,
    /// Set the RETAIN flag.
    #[arg(long)]
    retain: bool,
    /// Set the DUP flag.
    #[arg(long)]
    dup: bool,
    /// 3.1.1 (the default) or 5.0 (writes an empty property list).
    #[arg(long, value_name = "VERSION", default_value = "3.1.1", value_parser = parse_mqtt_version)]
    mqtt_version: MqttVersion,
    /// The payload in hex (an encoded frame); none when absent.
    #[arg(long, value_name = "HEX", default_value = "", value_parser = parse_hex_arg)]
    payload: HexArg,
}

/// Bytes given as hex.
#[derive(Clone, Debug)]
pub struct HexArg(Vec<u8>);

fn parse_hex_arg(text: &str) -> Result<HexArg, String> {
    if text.trim().is_empty() {
        return Ok(HexArg(Vec::new()));
    }
    meterwire::parse_hex(text)
        .map(HexArg)
        .map_err(|e| format!("{} at offset {}: {e}", e.kind(), e.offset()))
}

fn parse_coap_type(text: &str) -> Result<CoapType, String> {
    match text.to_ascii_uppercase().as_str() {
        "CON" => Ok(CoapType::Con),
        "NON" => Ok(CoapType::Non),
        "ACK" => Ok(CoapType::Ack),
        "RST" => Ok(CoapType::Rst),
        _ => Err(format!("{text:?} is not a CoAP type (CON, NON, ACK, RST)")),
    }
}

fn parse_coap_code(text: &str) -> Result<CoapCode, String> {
    CoapCode::parse(text).ok_or_else(|| {
        format!("{text:?} is not a CoAP code (GET, POST, …, content, … or class.detail like 2.05)")
    })
}

/// Reads an MQTT version: 3.1.1 or 5.0.
pub fn parse_mqtt_version(text: &str) -> Result<MqttVersion, String> {
    MqttVersion::from_name(text)
        .ok_or_else(|| format!("{text:?} is not an MQTT version (3.1.1, 5.0)"))
}

fn coap(args: &CoapArgs) -> Result<Vec<u8>, Error> {
    let mut options = args
        .path
        .as_deref()
        .map(coap::uri_path_options)
        .unwrap_or_default();
    options.extend(args.query.iter().map(|q| (15u16, q.as_bytes().to_vec())));
    if let Some(cf) = args.content_format {
        options.push((12, coap::uint_value(u64::from(cf))));
    }
    if let Some(n) = args.observe {
        options.push((6, coap::uint_value(u64::from(n))));
    }
    coap::build(
        args.message_type,
        args.code,
        args.message_id,
        &args.token.0,
        options,
        &args.payload.0,
    )
}

/// A Modbus TCP request and its transaction id.
#[derive(Debug, Args)]
pub struct ModbusTcp {
    /// The transaction identifier the server echoes (0-65535).
    #[arg(long, global = true, default_value_t = 1, value_parser = parse_u16)]
    transaction: u16,
    #[command(subcommand)]
    request: ModbusRequest,
}

/// The Modbus requests (functions 01-06, 0F, 10, 2B/0E).
#[derive(Debug, Subcommand)]
pub enum ModbusRequest {
    /// Read Coils (01): 1-2000 coils.
    ReadCoils(ModbusRead),
    /// Read Discrete Inputs (02): 1-2000 inputs.
    ReadDiscreteInputs(ModbusRead),
    /// Read Holding Registers (03): 1-125 registers.
    ReadHolding(ModbusRead),
    /// Read Input Registers (04): 1-125 registers.
    ReadInput(ModbusRead),
    /// Write Single Coil (05): --on (FF00) or --off (0000).
    WriteCoil {
        #[command(flatten)]
        unit: ModbusUnit,
        /// The coil's address (0-65535, as sent in the PDU).
        #[arg(long, value_parser = parse_u16)]
        address: u16,
        /// Switch the coil on.
        #[arg(long, conflicts_with = "off", required_unless_present = "off")]
        on: bool,
        /// Switch the coil off.
        #[arg(long)]
        off: bool,
    },
    /// Write Single Register (06).
    WriteRegister {
        #[command(flatten)]
        unit: ModbusUnit,
        /// The register's address (0-65535, as sent in the PDU).
        #[arg(long, value_parser = parse_u16)]
        address: u16,
        /// The value (0-65535 or 0x0000-0xFFFF).
        #[arg(long, value_parser = parse_u16)]
        value: u16,
    },
    /// Write Multiple Coils (0F): 1-1968 coils.
    WriteCoils {
        #[command(flatten)]
        unit: ModbusUnit,
        /// The first coil's address.
        #[arg(long, value_parser = parse_u16)]
        start: u16,
        /// The coils, 1 or 0, comma-separated (1,0,1).
        #[arg(long, value_delimiter = ',', required = true, value_parser = parse_bit)]
        coils: Vec<bool>,
    },
    /// Write Multiple Registers (10): 1-123 registers.
    WriteRegisters {
        #[command(flatten)]
        unit: ModbusUnit,
        /// The first register's address.
        #[arg(long, value_parser = parse_u16)]
        start: u16,
        /// The values, comma-separated (10,0x0102).
        #[arg(long, value_delimiter = ',', required = true, value_parser = parse_u16)]
        values: Vec<u16>,
    },
    /// Read Device Identification (2B / MEI 0E).
    ReadDeviceId {
        #[command(flatten)]
        unit: ModbusUnit,
        /// basic (1), regular (2), extended (3) or one (4: the one object --object).
        #[arg(long, default_value = "basic", value_parser = parse_device_id_code)]
        code: u8,
        /// The first object (or the one object) to read.
        #[arg(long, default_value = "0", value_parser = parse_byte)]
        object: u8,
    },
}

/// The unit a Modbus request goes to.
#[derive(Debug, Args)]
pub struct ModbusUnit {
    /// Unit address: 1-247 on a serial line (0 broadcasts a write); on TCP the unit
    /// identifier (0xFF, or the serial address behind a gateway).
    #[arg(long, short, value_parser = parse_byte)]
    unit: u8,
}

/// A Modbus read: unit, start address, count.
#[derive(Debug, Args)]
pub struct ModbusRead {
    #[command(flatten)]
    unit: ModbusUnit,
    /// The first address (0-65535, as sent in the PDU: no 40001 offset).
    #[arg(long, value_parser = parse_u16)]
    start: u16,
    /// How many coils, inputs or registers.
    #[arg(long, value_parser = parse_u16)]
    count: u16,
}

impl ModbusRequest {
    fn unit(&self) -> u8 {
        match self {
            ModbusRequest::ReadCoils(r)
            | ModbusRequest::ReadDiscreteInputs(r)
            | ModbusRequest::ReadHolding(r)
            | ModbusRequest::ReadInput(r) => r.unit.unit,
            ModbusRequest::WriteCoil { unit, .. }
            | ModbusRequest::WriteRegister { unit, .. }
            | ModbusRequest::WriteCoils { unit, .. }
            | ModbusRequest::WriteRegisters { unit, .. }
            | ModbusRequest::ReadDeviceId { unit, .. } => unit.unit,
        }
    }

    fn encode(&self, to: modbus::Request) -> Result<Vec<u8>, Error> {
        match self {
            ModbusRequest::ReadCoils(r) => to.read_coils(r.start, r.count),
            ModbusRequest::ReadDiscreteInputs(r) => to.read_discrete_inputs(r.start, r.count),
            ModbusRequest::ReadHolding(r) => to.read_holding_registers(r.start, r.count),
            ModbusRequest::ReadInput(r) => to.read_input_registers(r.start, r.count),
            ModbusRequest::WriteCoil { address, on, .. } => Ok(to.write_single_coil(*address, *on)),
            ModbusRequest::WriteRegister { address, value, .. } => {
                Ok(to.write_single_register(*address, *value))
            }
            ModbusRequest::WriteCoils { start, coils, .. } => {
                to.write_multiple_coils(*start, coils)
            }
            ModbusRequest::WriteRegisters { start, values, .. } => {
                to.write_multiple_registers(*start, values)
            }
            ModbusRequest::ReadDeviceId { code, object, .. } => {
                to.read_device_identification(*code, *object)
            }
        }
    }
}

fn parse_u16(text: &str) -> Result<u16, String> {
    let parsed = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u16::from_str_radix(hex, 16),
        None => text.parse(),
    };
    parsed.map_err(|_| format!("{text:?} is not a 16-bit number (0-65535 or 0x0000-0xFFFF)"))
}

fn parse_bit(text: &str) -> Result<bool, String> {
    match text.trim() {
        "1" | "on" | "true" => Ok(true),
        "0" | "off" | "false" => Ok(false),
        _ => Err(format!("{text:?} is not a coil value (1 or 0)")),
    }
}

fn parse_device_id_code(text: &str) -> Result<u8, String> {
    match text.to_ascii_lowercase().as_str() {
        "basic" | "1" => Ok(1),
        "regular" | "2" => Ok(2),
        "extended" | "3" => Ok(3),
        "one" | "individual" | "4" => Ok(4),
        _ => Err(format!(
            "{text:?} is not a read device id code (basic, regular, extended, one or 1-4)"
        )),
    }
}

/// The wired M-Bus requests.
#[derive(Debug, Subcommand)]
pub enum MbusRequest {
    /// SND_NKE: link reset.
    SndNke(Address),
    /// REQ_UD2: request the meter's data (class 2).
    ReqUd2(AddressFcb),
    /// REQ_UD1: request alarm data (class 1).
    ReqUd1(AddressFcb),
    /// SND_UD CI 51: give the meter a new primary address.
    SetAddress {
        #[command(flatten)]
        to: AddressFcb,
        /// The new primary address (1-250).
        #[arg(long)]
        new: u8,
    },
    /// SND_UD CI 52 to address FD: select a meter by secondary address (F = any digit).
    Select {
        /// ID mask, up to 8 digits, F for wildcards (e.g. 1234FFFF); or the 16-character
        /// libmbus form IIIIIIIIMMMMVVDD.
        #[arg(long)]
        id: String,
        /// Manufacturer letters (e.g. KAM); any when absent.
        #[arg(long)]
        manufacturer: Option<String>,
        /// Version byte; any when absent.
        #[arg(long)]
        version: Option<u8>,
        /// Medium code (e.g. 7 or 0x07 for water); any when absent.
        #[arg(long, value_parser = parse_byte)]
        medium: Option<u8>,
        /// Set the frame count bit (C = 73 instead of 53).
        #[arg(long)]
        fcb: bool,
    },
    /// SND_UD CI 50: application reset.
    Reset(AddressFcb),
    /// SND_UD CI B8-BF: switch the meter's baud rate.
    Baud {
        #[command(flatten)]
        to: AddressFcb,
        /// 300, 600, 1200, 2400, 4800, 9600, 19200 or 38400.
        #[arg(long)]
        baud: u32,
    },
}

/// A primary address.
#[derive(Debug, Args)]
pub struct Address {
    /// Primary address: 0-250, 253 (selected slave), 254 (broadcast with reply), 255.
    #[arg(long, short)]
    address: u8,
}

/// A primary address and the frame count bit.
#[derive(Debug, Args)]
pub struct AddressFcb {
    /// Primary address: 0-250, 253 (selected slave), 254 (broadcast with reply), 255.
    #[arg(long, short)]
    address: u8,
    /// Set the frame count bit (toggle it between successive requests).
    #[arg(long)]
    fcb: bool,
}

/// The CJ/T 188 requests.
#[derive(Debug, Subcommand)]
pub enum Cjt188Request {
    /// Read data (C 01) of a data identifier: 901F metering data, D120-D12B history (month
    /// -1 to -12), 8102-8105 settings, or a vendor DI.
    ReadData {
        #[command(flatten)]
        to: Cjt188Target,
        /// The data identifier, hex (901F, 0xD120).
        #[arg(long, value_parser = parse_di)]
        di: u16,
    },
    /// Read address (C 03, DI 810A), by default to the wildcard address AAAAAAAAAAAAAA (one
    /// meter on the bus).
    ReadAddress {
        /// Meter address, 14 digits A6...A0; AA bytes are wildcards.
        #[arg(long, short, default_value = "AAAAAAAAAAAAAA", value_parser = parse_cjt188_address)]
        address: [u8; 7],
        #[command(flatten)]
        framing: Cjt188Framing,
    },
    /// Read key version (C 09, DI 8106).
    ReadKeyVersion(Cjt188Target),
    /// Valve control (C 04, DI A017): --open (55) or --close (99).
    Valve {
        #[command(flatten)]
        to: Cjt188Target,
        /// Open the valve.
        #[arg(long, conflicts_with = "close", required_unless_present = "close")]
        open: bool,
        /// Close the valve.
        #[arg(long)]
        close: bool,
    },
    /// Write address (C 15, DI A018): give the meter a new address.
    WriteAddress {
        #[command(flatten)]
        to: Cjt188Target,
        /// The new address, 14 digits A6...A0.
        #[arg(long, value_parser = parse_cjt188_address)]
        new: [u8; 7],
    },
    /// Write standard time (C 04, DI A015).
    SetTime {
        #[command(flatten)]
        to: Cjt188Target,
        /// The meter's local time, YYYY-MM-DDTHH:MM:SS.
        #[arg(long)]
        time: String,
    },
    /// Write the settlement day (C 04, DI A011), day of the month 1-31.
    SettlementDay {
        #[command(flatten)]
        to: Cjt188Target,
        /// Day of the month.
        #[arg(long)]
        day: u8,
    },
    /// Write the reading day (C 04, DI A012), day of the month 1-31.
    ReadingDay {
        #[command(flatten)]
        to: Cjt188Target,
        /// Day of the month.
        #[arg(long)]
        day: u8,
    },
    /// Meter-register synchronisation (C 16, DI A016): the cumulative flow the electronics
    /// take over, up to 2 decimals.
    Sync {
        #[command(flatten)]
        to: Cjt188Target,
        /// The register value, e.g. 1234.56.
        #[arg(long)]
        value: String,
        /// Its unit: m3 (default), L, or another unit of the CJ/T 188 unit table.
        #[arg(long, default_value = "m3")]
        unit: String,
    },
}

/// A CJ/T 188 meter and the framing of the request.
#[derive(Debug, Args)]
pub struct Cjt188Target {
    /// Meter address, 14 digits A6...A0 as printed on the meter (e.g. 00010012345678);
    /// shorter decimal numbers are padded with zeros, AA bytes are wildcards.
    #[arg(long, short, value_parser = parse_cjt188_address)]
    address: [u8; 7],
    #[command(flatten)]
    framing: Cjt188Framing,
}

/// How a CJ/T 188 request is framed.
#[derive(Debug, Args)]
pub struct Cjt188Framing {
    /// Meter type T: 0x10 cold water, 0x11 domestic hot water, 0x20 heat, 0x30 gas, 0xAA
    /// any.
    #[arg(long, short = 't', default_value = "0x10", value_parser = parse_byte)]
    meter_type: u8,
    /// Sequence number SER, echoed by the meter.
    #[arg(long, default_value = "0", value_parser = parse_byte)]
    ser: u8,
    /// DI byte order: hi-lo (90 1F, most 2004 meters) or lo-hi (1F 90, 2018 per one vendor).
    #[arg(long, default_value = "hi-lo", value_parser = parse_di_order)]
    di_order: DiOrder,
    /// Number of FE wake-up bytes before the frame.
    #[arg(long, default_value_t = 2)]
    preamble: usize,
}

impl Cjt188Framing {
    fn request(&self, address: [u8; 7]) -> Request {
        Request::new(self.meter_type, address)
            .with_ser(self.ser)
            .with_di_order(self.di_order)
            .with_preamble(self.preamble)
    }
}

impl Cjt188Target {
    fn request(&self) -> Request {
        self.framing.request(self.address)
    }
}

fn parse_cjt188_address(text: &str) -> Result<[u8; 7], String> {
    parse_address(text).ok_or_else(|| {
        format!("{text:?} is not a CJ/T 188 address (14 hex digits A6...A0, or up to 14 decimal digits)")
    })
}

fn parse_di(text: &str) -> Result<u16, String> {
    let hex = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))
        .unwrap_or(text);
    u16::from_str_radix(hex, 16)
        .map_err(|_| format!("{text:?} is not a DI (4 hex digits, e.g. 901F)"))
}

/// Reads a DI order: `hi-lo` or `lo-hi`.
pub fn parse_di_order(text: &str) -> Result<DiOrder, String> {
    match text.to_ascii_lowercase().replace('_', "-").as_str() {
        "hi-lo" => Ok(DiOrder::HiLo),
        "lo-hi" => Ok(DiOrder::LoHi),
        _ => Err(format!("{text:?} is not a DI order (hi-lo or lo-hi)")),
    }
}

fn bad_argument(text: &'static str) -> Error {
    Error::new(ErrorKind::Malformed, Layer::Input, 0, Detail::Text(text))
}

fn cjt188(req: &Cjt188Request) -> Result<Vec<u8>, Error> {
    match req {
        Cjt188Request::ReadData { to, di } => to.request().read_data(*di),
        Cjt188Request::ReadAddress { address, framing } => framing.request(*address).read_address(),
        Cjt188Request::ReadKeyVersion(to) => to.request().read_key_version(),
        Cjt188Request::Valve { to, open, .. } => to.request().valve(*open),
        Cjt188Request::WriteAddress { to, new } => to.request().write_address(*new),
        Cjt188Request::SetTime { to, time } => {
            let ts = Timestamp::parse(time)
                .filter(|t| t.year.is_some() && t.hour.is_some())
                .ok_or(bad_argument("--time must be YYYY-MM-DDTHH:MM:SS"))?;
            to.request().set_time(&ts)
        }
        Cjt188Request::SettlementDay { to, day } => to.request().settlement_day(*day),
        Cjt188Request::ReadingDay { to, day } => to.request().reading_day(*day),
        Cjt188Request::Sync { to, value, unit } => {
            let value =
                Decimal::parse(value).ok_or(bad_argument("--value must be a decimal number"))?;
            to.request().sync(value, unit)
        }
    }
}

fn parse_byte(text: &str) -> Result<u8, String> {
    let parsed = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u8::from_str_radix(hex, 16),
        None => text.parse(),
    };
    parsed.map_err(|_| format!("{text:?} is not a byte (0-255 or 0x00-0xFF)"))
}

/// The bytes of the requested frame.
pub fn encode(cmd: &EncodeCommand) -> Result<Vec<u8>, Error> {
    match cmd {
        EncodeCommand::Json { json, keys } => {
            let text = if json == "-" {
                std::io::read_to_string(std::io::stdin()).unwrap_or_default()
            } else {
                json.clone()
            };
            let model = meterwire::model_from_json(&text)?;
            meterwire::encode_with(&model, &Options::default().with_keys(keys.get()))
        }
        EncodeCommand::Cjt188(req) => cjt188(req),
        EncodeCommand::Iec62056_21(msg) => iec62056_21(msg),
        EncodeCommand::Coap(args) => coap(args),
        EncodeCommand::Mqtt(args) => meterwire::mqtt::publish(
            &args.topic,
            args.qos,
            Some(args.packet_id),
            args.retain,
            args.dup,
            args.mqtt_version,
            &args.payload.0,
        ),
        EncodeCommand::ModbusRtu(req) => req.encode(modbus::Request::rtu(req.unit())),
        EncodeCommand::ModbusTcp(tcp) => tcp
            .request
            .encode(modbus::Request::tcp(tcp.request.unit(), tcp.transaction)),
        EncodeCommand::Mbus(req) => match req {
            MbusRequest::SndNke(a) => Ok(request::snd_nke(a.address).to_vec()),
            MbusRequest::ReqUd2(a) => Ok(request::req_ud2(a.address, a.fcb).to_vec()),
            MbusRequest::ReqUd1(a) => Ok(request::req_ud1(a.address, a.fcb).to_vec()),
            MbusRequest::SetAddress { to, new } => {
                request::set_primary_address(to.address, *new, to.fcb)
            }
            MbusRequest::Select {
                id,
                manufacturer,
                version,
                medium,
                fcb,
            } => {
                let mask = if id.len() == 16 {
                    SecondaryAddress::parse(id)?
                } else {
                    SecondaryAddress::new(id, manufacturer.as_deref(), *version, *medium)?
                };
                request::select_secondary(&mask, *fcb)
            }
            MbusRequest::Reset(a) => request::application_reset(a.address, a.fcb),
            MbusRequest::Baud { to, baud } => request::set_baud_rate(to.address, *baud, to.fcb),
        },
    }
}
