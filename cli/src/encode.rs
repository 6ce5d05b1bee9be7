//! `meterwire encode`: build requests a master sends, or a frame from a JSON model.

use clap::{Args, Subcommand};
use meterwire::mbus::request::{self, SecondaryAddress};
use meterwire::Error;

/// What to encode.
#[derive(Debug, Subcommand)]
pub enum EncodeCommand {
    /// Wired M-Bus requests (EN 13757-2/-3).
    #[command(subcommand)]
    Mbus(MbusRequest),
    /// A frame from its JSON model (the output of `meterwire decode`), e.g. a changed reading
    /// for a meter simulator.
    Json {
        /// The JSON model; `-` reads it from standard input.
        json: String,
    },
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
        EncodeCommand::Json { json } => {
            let text = if json == "-" {
                std::io::read_to_string(std::io::stdin()).unwrap_or_default()
            } else {
                json.clone()
            };
            meterwire::encode_json(&text)
        }
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
