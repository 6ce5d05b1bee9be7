//! `meterwire`: the command line of the meterwire codec (design §5).
//!
//! `meterwire decode` reads frames from arguments, files or standard input and prints each
//! one as the core's JSON (`decode_json`), as a table for people, or as CSV.

mod bus;
mod csv;
mod encode;
mod explain;
mod follow;
mod input;
mod listen;
mod table;

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use meterwire::{Decoded, Error, GarbageReason, Keys, ModbusProfile, Options, Protocol, Session};
use std::sync::Arc;

/// Examples shown at the end of `meterwire --help`.
const MAIN_EXAMPLES: &str = "\
Examples:
  meterwire decode '68 15 15 68 08 05 72 78 56 34 12 2D 2C 01 07 2A 00 00 00 0C 13 67 45 23 01 0D 16'
  meterwire decode --format table 107B058016 E5
  meterwire decode --file capture.bin --stream --format ndjson";

/// Examples shown at the end of `meterwire decode -h`.
const DECODE_SHORT: &str = "\
Examples:
  meterwire decode 'E5' '10 7B 05 80 16'
  meterwire decode --format table --file frames.txt
  meterwire decode --file capture.bin --stream
  meterwire decode --protocol modbus_rtu --request '01 03 00 00 00 02 C4 0B' \
      --profile profiles/ultrasonic-f32-cdab.json '01 03 04 00 00 C1 48 AB 95'

See 'meterwire decode --help' for the output formats, file reading and exit status.";

/// Examples and the output rules shown at the end of `meterwire decode --help`.
const DECODE_EXAMPLES: &str = "\
Output formats:
  json, ndjson  One compact JSON object per frame per line, byte for byte the text of the
                library's decode_json (no wrapper array; json and ndjson are the same). A frame
                that fails prints the error object {\"error\":{\"kind\",\"offset\",\"message\"}}
                on its line instead. With --stream each line is a stream item: a frame as
                {\"start\":N,\"end\":M,\"frame\":{...}} or {\"start\",\"end\",\"error\":{...}},
                bytes between frames as {\"start\",\"end\",\"garbage\":\"HEX\",\"reason\":R}
                with R noise, invalid_frame (+ protocol, kind), truncated (+ protocol) or
                unsolicited_ack (+ protocol); offsets count from the start of the stream.
  table         Per frame: a header line (protocol, frame kind, function, address, CI), the
                meter identity, the records as an aligned table (# is the index in records[],
                '-' marks a field the record does not have), then warnings, manufacturer data
                and application errors. Errors print as 'error: <kind> at byte <offset>:
                <message>' with the frame hex and a caret under the offending byte.
  csv           A header row, then one row per record with the columns
                frame,protocol,meter_id,manufacturer,medium,quantity,value,exact,unit,
                storage,tariff,subunit,function,modifiers,label,error
                'frame' counts the frames from 1; a frame without records has one row with
                empty record columns; a failed frame has one row with 'error' set to
                '<kind> at byte <offset>: <message>'; garbage (--stream) has a row with no
                frame number and 'error' set to 'garbage at bytes S..E (<reason>): <hex>'. 'unit' holds
                the unit or the meter's plain-text unit, 'modifiers' is space-separated.
                Records of a nested payload follow with the payload's protocol and meter.
                'label' names what a manufacturer layout's value is ('end of january',
                'current alarms: leakage'). Record errors and date flags are only in the json
                and table formats.

Files (--file):
  A file of UTF-8 text whose first line of data is hex is read as hex text: one frame per
  non-empty line, lines starting with '#' are comments, and a log prefix before the hex is
  skipped (timestamps such as 2026-12-06T10:00:01.250Z or 10:00:01, a direction word RX, TX,
  <-, ->, or any text ending in ':', '>', ']', ')' or '|'), as is a trailing ' # comment'.
  Anything else is binary and is one frame. With --stream the file (the binary bytes, or all
  hex lines joined) is one byte stream, cut into frames and garbage; every byte is printed as
  part of one or the other. Without --protocol a stream is searched for the frames that
  prove themselves: M-Bus (checksum; an E5 only right after an M-Bus request), CJ/T 188
  (checksum) and wM-Bus (CRCs); --protocol wmbus also takes telegrams without CRCs, and
  Modbus RTU/TCP frames are cut only with --protocol modbus_rtu / modbus_tcp.
  --follow reads a growing file or a pipe and prints items as they complete.

Compact wM-Bus frames (CI 79/7B):
  All frames of one run share one session, in the order given (arguments, then files): a
  compact frame decodes when a full frame with the same format signature came earlier in
  the run; otherwise its data is printed as application_data with a warning.

Modbus (--request, --profile):
  A Modbus read response does not carry its start address: --request gives the request it
  answers (same framing), so its records get addresses, and --profile FILE reads registers
  through a register profile (profiles/README.md) into records with a quantity, an exact
  value and a unit. A request the frame does not answer, or a profile entry only partly in
  the frame, is a warning in the output, never an error.

Exit status:
  0 every frame decoded, 1 at least one frame or hex text failed (the others are still
  printed), 2 bad usage or a file that cannot be read.

Examples:
  meterwire decode 'E5' '10 7B 05 80 16'
  meterwire decode --format table '68 15 15 68 08 05 72 78 56 34 12 2D 2C 01 07 2A 00 00 00 0C 13 67 45 23 01 0D 16'
  meterwire decode --file frames.txt --format csv > readings.csv
  cat capture.bin | meterwire decode --file - --stream
  cat /dev/ttyUSB0 | meterwire decode --file - --follow --format table
  meterwire decode --protocol modbus_rtu --request '01 03 00 00 00 02 C4 0B' \
      --profile profiles/ultrasonic-f32-cdab.json '01 03 04 00 00 C1 48 AB 95'";

/// The command line.
#[derive(Debug, Parser)]
#[command(
    name = "meterwire",
    version,
    about = "Decode the wire frames of smart water meters (wired M-Bus, ...) into one exact model",
    after_help = MAIN_EXAMPLES
)]
struct Cli {
    /// What to do.
    #[command(subcommand)]
    command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
enum Command {
    /// Decode frames and print them as JSON, a table or CSV.
    #[command(
        override_usage = "meterwire decode [OPTIONS] <HEX>...\n       \
                          meterwire decode [OPTIONS] --file <PATH> [<HEX>...]",
        long_about = "Decode frames given as hex arguments, or read from a file or standard \
                      input, and print each one as JSON (the default), a table or CSV.",
        after_help = DECODE_SHORT,
        after_long_help = DECODE_EXAMPLES
    )]
    Decode(DecodeArgs),
    /// Receive meter traffic over CoAP and MQTT, print NDJSON, publish readings.
    #[command(
        long_about = "Receive NB-IoT/Cat.1 meter messages as a CoAP server and/or an MQTT \
                      subscriber, print each decoded message as one NDJSON line, and publish \
                      flat readings to a broker.",
        after_long_help = listen::LISTEN_EXAMPLES
    )]
    Listen(listen::ListenArgs),
    /// Print every byte of one frame with the model field it went to.
    #[command(after_help = "Example:\n  meterwire explain '10 7B 05 80 16'")]
    Explain {
        /// One frame in hex.
        hex: String,
        /// The protocol (auto by default).
        #[arg(short, long, value_name = "P", default_value = "auto", value_parser = parse_protocol)]
        protocol: ProtocolArg,
        #[command(flatten)]
        keys: KeyArgs,
        #[command(flatten)]
        modbus: ModbusArgs,
        #[command(flatten)]
        mqtt: MqttArgs,
    },
    /// Build a frame: a master's request, or a frame from its JSON model. Prints spaced hex.
    #[command(
        subcommand,
        after_help = "Examples:\n  meterwire encode mbus req-ud2 --address 5 --fcb\n  \
                      meterwire encode mbus select --id 1234FFFF --manufacturer KAM\n  \
                      meterwire encode cjt188 read-data --address 00010012345678 --di 901F\n  \
                      meterwire encode cjt188 valve --address 00010012345678 --close\n  \
                      meterwire encode modbus_rtu read-holding --unit 1 --start 0 --count 10\n  \
                      meterwire encode modbus_tcp read-input --unit 1 --start 0 --count 2 --transaction 7\n  \
                      meterwire encode iec62056-21 sign-on --address 12345678\n  \
                      meterwire encode iec62056-21 read --address 8.0\n  \
                      meterwire encode coap --type NON --code POST --message-id 0x1234 --token A1B2 --path /t/d \
                          --content-format 42 --payload \"$(meterwire encode cjt188 read-data --address 00010012345678 --di 901F)\"\n  \
                      meterwire encode mqtt --topic meters/12345678/up --qos 1 --packet-id 10 --payload '10 5B 05 60 16'\n  \
                      meterwire decode 'E5' | meterwire encode json -"
    )]
    Encode(encode::EncodeCommand),
    /// Read one wired M-Bus meter (SND_NKE, REQ_UD2, multi-telegram answers reassembled) over
    /// TCP or a serial port and print its reading as `meterwire decode` prints a frame.
    #[command(
        after_help = "Examples:\n  meterwire read --tcp 127.0.0.1:5000 --address 5\n  \
                      meterwire read --tcp 192.168.1.20:10001 --secondary 12345678 --format table\n  \
                      meterwire read --serial /dev/ttyUSB0 --baud 2400 --secondary 123456782D2C0107"
    )]
    Read(bus::ReadArgs),
    /// Find every meter on a wired M-Bus: wildcard search by secondary address (or --primary:
    /// poll addresses 0-250); one NDJSON line per meter.
    #[command(after_help = "Examples:\n  meterwire scan --tcp 127.0.0.1:5000\n  \
                      meterwire scan --tcp 127.0.0.1:5000 --primary --timeout 200")]
    Scan(bus::ScanArgs),
    /// Simulate a wired M-Bus of meters (NDJSON of decoded models) for `read` and `scan`.
    #[command(
        after_help = "Examples:\n  meterwire decode --file samples/mbus.hex > meters.ndjson\n  \
                      meterwire simulate --listen 127.0.0.1:5000 --meters meters.ndjson --verbose\n  \
                      meterwire simulate --listen 127.0.0.1:5000 --meters meters.ndjson --corrupt-every 3"
    )]
    Simulate(bus::SimulateArgs),
}

/// The options of `meterwire decode`.
#[derive(Debug, Args)]
struct DecodeArgs {
    /// Frames in hex, one frame per argument: upper or lower case, bytes separated or not by
    /// spaces, ':', '-', ',' or ';', each group optionally prefixed 0x. Quote a frame
    /// written with spaces: '10 7B 05 80 16'.
    #[arg(value_name = "HEX", required_unless_present = "file")]
    hex: Vec<String>,

    /// Read frames from a file ('-' for standard input): hex text with one frame per line, or
    /// binary bytes (one frame, or a capture with --stream). May be repeated.
    #[arg(short, long, value_name = "PATH")]
    file: Vec<PathBuf>,

    /// Treat each input (argument or file) as a byte stream, e.g. a serial capture: cut it into
    /// frames and garbage and print both in order.
    #[arg(short, long)]
    stream: bool,

    /// Follow the --file as it grows (a logger's file, or a pipe such as `cat /dev/ttyUSB0 |`
    /// with --file -): cut it as a stream and print every frame and garbage span as soon as
    /// it is complete. A pipe ends at its end; a regular file is followed until
    /// --idle-timeout seconds pass without new bytes (default: until interrupted).
    #[arg(long, requires = "file")]
    follow: bool,

    /// With --follow on a regular file: stop after this many seconds without new bytes.
    #[arg(long, value_name = "SECONDS", requires = "follow")]
    idle_timeout: Option<f64>,

    /// The protocol to decode as (help text: [`protocol_help`], from the model's names).
    #[arg(
        short,
        long,
        value_name = "P",
        default_value = "auto",
        value_parser = parse_protocol,
        help = protocol_help()
    )]
    protocol: ProtocolArg,

    /// CJ/T 188: the byte order of data identifiers found in neither order in the DI table
    /// (vendor DIs): hi-lo (the default) or lo-hi. Table DIs are read in the order they match.
    #[arg(long, value_name = "ORDER", value_parser = encode::parse_di_order)]
    cjt188_di_order: Option<meterwire::DiOrder>,

    /// Output format (see below).
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = Format::Json)]
    format: Format,

    #[command(flatten)]
    keys: KeyArgs,

    /// Redact for sharing with third parties: meter ids, addresses, device ids and topics
    /// become keyed pseudonyms (HMAC-SHA256 under the bytes of FILE, at least 16 bytes; the
    /// same id gives the same pseudonym), raw bytes and garbage bytes are dropped.
    #[arg(long, value_name = "FILE", value_parser = parse_redact_key)]
    redact_key: Option<meterwire::RedactKey>,

    #[command(flatten)]
    modbus: ModbusArgs,

    #[command(flatten)]
    mqtt: MqttArgs,
}

/// `--mqtt-version`, `--cipher`, `--tlv-schema`: how CoAP and MQTT messages are read.
#[derive(Debug, Args)]
struct MqttArgs {
    /// MQTT: the version packets are read as, 3.1.1 (the default) or 5.0. A PUBLISH does not
    /// say which version sent it; 5.0 reads its properties.
    #[arg(long, value_name = "VERSION", value_parser = encode::parse_mqtt_version)]
    mqtt_version: Option<meterwire::MqttVersion>,
    /// CoAP / MQTT: the scheme payloads are encrypted with — sm4-cbc, sm4-ecb, aes-128-cbc,
    /// aes-128-ecb, each optionally -pkcs7 (default), -zero or -none — opened with --key, or
    /// with the --keys entry of the device id in the topic or Uri-Path.
    #[arg(long, value_name = "SCHEME", value_parser = parse_cipher)]
    cipher: Option<meterwire::payload::cipher::PayloadCipher>,
    /// CoAP / MQTT: a vendor TLV layout (JSON file, see profiles/tlv/vendor-tlv-example.json)
    /// that turns payloads which are no frame and no JSON into records.
    #[arg(long, value_name = "FILE", value_parser = parse_tlv_schema)]
    tlv_schema: Option<TlvSchemaArg>,
}

/// A read `--tlv-schema`.
#[derive(Clone, Debug)]
struct TlvSchemaArg(Arc<meterwire::payload::tlv_schema::TlvSchema>);

/// Reads the `--tlv-schema` file with the library's reader.
fn parse_tlv_schema(path: &str) -> Result<TlvSchemaArg, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    meterwire::payload::tlv_schema::TlvSchema::from_json(&text)
        .map(|s| TlvSchemaArg(Arc::new(s)))
        .map_err(|e| format!("{path}: {e}"))
}

impl MqttArgs {
    /// `opts` with these options.
    fn apply(&self, opts: Options) -> Options {
        opts.with_mqtt_version(self.mqtt_version)
            .with_payload_cipher(self.cipher)
            .with_tlv_schema(self.tlv_schema.as_ref().map(|s| Arc::clone(&s.0)))
    }
}

/// Reads `--cipher` with the library's parser.
fn parse_cipher(text: &str) -> Result<meterwire::payload::cipher::PayloadCipher, String> {
    meterwire::payload::cipher::PayloadCipher::parse(text).map_err(|e| e.to_string())
}

/// `--request` / `--profile`: Modbus options.
#[derive(Debug, Args)]
struct ModbusArgs {
    /// Modbus: the request the frames answer, in hex, framed like them (RTU with its CRC, TCP
    /// with its MBAP). Read responses' records get register addresses (request start +
    /// index); a request a frame does not answer is a warning.
    #[arg(long, value_name = "HEX", value_parser = parse_request)]
    request: Option<RequestArg>,
    /// Modbus: a register profile (JSON file, see profiles/README.md) that turns registers
    /// into values: quantity, exact value, unit. Needs addresses (--request for read
    /// responses).
    #[arg(long, value_name = "FILE", value_parser = parse_profile)]
    profile: Option<ProfileArg>,
}

impl ModbusArgs {
    /// `opts` with these options.
    fn apply(&self, opts: Options) -> Options {
        opts.with_request(self.request.as_ref().map(|r| r.0.clone()))
            .with_modbus_profile(self.profile.as_ref().map(|p| Arc::clone(&p.0)))
    }
}

/// A parsed `--request`.
#[derive(Clone, Debug)]
struct RequestArg(Vec<u8>);

/// Reads `--request` with the library's hex parser.
fn parse_request(text: &str) -> Result<RequestArg, String> {
    meterwire::parse_hex(text)
        .map(RequestArg)
        .map_err(|e| format!("{} at offset {}: {e}", e.kind(), e.offset()))
}

/// A read `--profile`.
#[derive(Clone, Debug)]
struct ProfileArg(Arc<ModbusProfile>);

/// Reads the `--profile` file: JSON syntax errors with their line and column, profile errors
/// with the library's message (naming the entry).
fn parse_profile(path: &str) -> Result<ProfileArg, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{path} is not JSON: {e}"))?;
    ModbusProfile::from_value(&json)
        .map(|p| ProfileArg(Arc::new(p)))
        .map_err(|e| format!("{path}: {e}"))
}

/// `--key` / `--keys`: keys for encrypted wM-Bus payloads (never printed).
#[derive(Debug, Args)]
pub(crate) struct KeyArgs {
    /// One key for every meter: AES-128 (32 hex digits), or DES for security mode 2 (16).
    #[arg(long, value_name = "HEX", value_parser = parse_keys, conflicts_with = "keys")]
    key: Option<KeysArg>,
    /// One key per meter id: ID=HEX,ID=HEX,...
    #[arg(long, value_name = "ID=HEX,...", value_parser = parse_keys)]
    keys: Option<KeysArg>,
}

impl KeyArgs {
    /// The keys given, or none.
    pub(crate) fn get(&self) -> Keys {
        self.key
            .as_ref()
            .or(self.keys.as_ref())
            .map_or(Keys::None, |k| k.0.clone())
    }
}

/// Parsed keys (their `Debug` shows no key bytes).
#[derive(Clone, Debug)]
pub(crate) struct KeysArg(Keys);

/// Reads `--key` / `--keys` with the library's own parser; the message never echoes the key.
fn parse_keys(text: &str) -> Result<KeysArg, String> {
    Options::parse_keys(text)
        .map(KeysArg)
        .map_err(|e| e.to_string())
}

/// Reads `--redact-key FILE`: the key is the file's bytes; the message never echoes them.
fn parse_redact_key(path: &str) -> Result<meterwire::RedactKey, String> {
    let secret = std::fs::read(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    meterwire::RedactKey::new(&secret).map_err(|e| format!("{path}: {e}"))
}

/// A parsed `--protocol`: `None` auto-detects.
#[derive(Clone, Copy, Debug)]
struct ProtocolArg(Option<Protocol>);

/// The help of `decode --protocol`: every name the option takes, from [`Protocol::ALL`], so a
/// new protocol needs no edit here.
fn protocol_help() -> String {
    let names: Vec<&str> = Protocol::ALL.iter().map(|p| p.as_str()).collect();
    format!(
        "The protocol to decode as: auto (detect from the leading bytes), {} (hyphen spellings \
         accepted)",
        names.join(", ")
    )
}

/// Reads `--protocol` with the library's own parser.
fn parse_protocol(text: &str) -> Result<ProtocolArg, String> {
    Options::parse_protocol(text)
        .map(ProtocolArg)
        .map_err(|e| e.to_string())
}

/// The output formats of `decode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Format {
    /// One compact JSON object per frame per line (the text of decode_json).
    Json,
    /// The same as json: one JSON object per line.
    Ndjson,
    /// A table for people.
    Table,
    /// Comma-separated values, one row per record.
    Csv,
}

/// One frame to print: where it came from, its input and its decoding.
#[derive(Debug)]
pub struct Frame {
    /// Where the frame came from, for people: `argument 1`, `meters.txt line 3`,
    /// `capture.bin bytes 1..7`.
    pub origin: String,
    /// The frame's bytes, or the hex text that could not be read.
    pub source: Source,
    /// The offset in the stream of the frame's first byte: error offsets count from the start
    /// of the stream, so `offset - base` is the byte within `source` (0 outside `--stream`).
    pub base: usize,
    /// The frame was cut from a stream: JSON output is the stream item (`start`, `end`).
    pub in_stream: bool,
    /// The decoded frame or the error.
    pub result: Result<Box<Decoded>, Error>,
}

/// The input of a [`Frame`].
#[derive(Debug)]
pub enum Source {
    /// Frame bytes.
    Bytes(Vec<u8>),
    /// Hex text that could not be read (the error's offset is a position in it).
    Text(String),
}

/// Bytes of a stream that belong to no frame.
#[derive(Debug)]
pub struct Garbage {
    /// Where the stream came from, for people.
    pub origin: String,
    /// First byte in the stream.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
    /// The bytes.
    pub bytes: Vec<u8>,
    /// Why they are no frame.
    pub reason: GarbageReason,
}

/// One piece of output, in input order.
#[derive(Debug)]
pub enum Item {
    /// A frame (decoded or failed).
    Frame(Frame),
    /// Garbage between frames of a stream.
    Garbage(Garbage),
}

/// Writes items in one format and remembers what the exit status must be.
struct Printer<W: Write> {
    /// Where the output goes.
    out: W,
    /// The format.
    format: Format,
    /// The `--protocol` given, for CSV rows of failed frames.
    protocol: Option<Protocol>,
    /// Frames printed so far.
    frames: usize,
    /// Whether a frame failed.
    failed: bool,
}

impl<W: Write> Printer<W> {
    /// A printer writing `format` to `out`; prints the CSV header.
    fn new(mut out: W, format: Format, protocol: Option<Protocol>) -> io::Result<Self> {
        if format == Format::Csv {
            out.write_all(csv::header().as_bytes())?;
        }
        Ok(Printer {
            out,
            format,
            protocol,
            frames: 0,
            failed: false,
        })
    }

    /// Prints one item.
    fn item(&mut self, item: &Item) -> io::Result<()> {
        let mut text = String::new();
        match item {
            Item::Frame(frame) => {
                self.frames = self.frames.saturating_add(1);
                if frame.result.is_err() {
                    self.failed = true;
                }
                match self.format {
                    Format::Json | Format::Ndjson => {
                        match (&frame.result, &frame.source) {
                            (result, Source::Bytes(bytes)) if frame.in_stream => {
                                meterwire::stream::write_frame_json(
                                    &mut text,
                                    frame.base,
                                    frame.base.saturating_add(bytes.len()),
                                    result.as_ref().map(Box::as_ref),
                                );
                            }
                            (Ok(decoded), _) => text = meterwire::to_json(decoded),
                            (Err(e), _) => text = meterwire::error_json(e),
                        }
                        text.push('\n');
                    }
                    Format::Table => {
                        if self.frames > 1 {
                            text.push('\n');
                        }
                        table::frame(&mut text, self.frames, frame);
                    }
                    Format::Csv => csv::frame(&mut text, self.frames, frame, self.protocol),
                }
            }
            Item::Garbage(garbage) => match self.format {
                Format::Json | Format::Ndjson => {
                    meterwire::stream::write_garbage_json(
                        &mut text,
                        garbage.start,
                        garbage.end,
                        &garbage.bytes,
                        &garbage.reason,
                    );
                    text.push('\n');
                }
                Format::Table => {
                    if self.frames > 0 {
                        text.push('\n');
                    }
                    table::garbage(&mut text, garbage);
                }
                Format::Csv => csv::garbage(&mut text, garbage),
            },
        }
        self.out.write_all(text.as_bytes())
    }
}

/// Runs `decode`; returns the exit status.
fn decode(args: &DecodeArgs) -> io::Result<u8> {
    let opts = args.mqtt.apply(
        args.modbus.apply(
            Options::default()
                .with_protocol(args.protocol.0)
                .with_keys(args.keys.get())
                .with_redact(args.redact_key.clone())
                .with_cjt188_di_order(args.cjt188_di_order),
        ),
    );
    let stdout = io::stdout();
    let mut printer = Printer::new(BufWriter::new(stdout.lock()), args.format, args.protocol.0)?;
    let mut unreadable = false;
    // One session for every frame of the run, as `decode_many`: a compact wM-Bus frame
    // decodes when an earlier frame of the run gave its format.
    let mut session = Session::new();
    for (i, hex) in args.hex.iter().enumerate() {
        let origin = format!("argument {}", i.saturating_add(1));
        for item in input::from_hex(hex, &origin, args.stream, &opts, &mut session) {
            printer.item(&item)?;
        }
    }
    if args.follow {
        let idle = args
            .idle_timeout
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map(std::time::Duration::from_secs_f64);
        for path in &args.file {
            let printed = follow::follow(path, &opts, idle, &mut |items| {
                for item in items {
                    printer.item(item)?;
                }
                printer.out.flush()
            });
            if let Err(e) = printed {
                if e.kind() == io::ErrorKind::BrokenPipe {
                    return Err(e);
                }
                printer.out.flush()?;
                eprintln!("meterwire: cannot read {}: {e}", path.display());
                unreadable = true;
            }
        }
        printer.out.flush()?;
        return Ok(if unreadable {
            2
        } else {
            u8::from(printer.failed)
        });
    }
    for path in &args.file {
        match input::from_file(path, args.stream, &opts, &mut session) {
            Ok(items) => {
                for item in &items {
                    printer.item(item)?;
                }
            }
            Err(e) => {
                printer.out.flush()?;
                eprintln!("meterwire: cannot read {}: {e}", path.display());
                unreadable = true;
            }
        }
    }
    printer.out.flush()?;
    Ok(if unreadable {
        2
    } else {
        u8::from(printer.failed)
    })
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Decode(args) => decode(args),
        Command::Listen(args) => listen::listen(args),
        Command::Explain {
            hex,
            protocol,
            keys,
            modbus,
            mqtt,
        } => {
            let mut out = String::new();
            let opts = mqtt.apply(
                modbus.apply(
                    Options::default()
                        .with_protocol(protocol.0)
                        .with_keys(keys.get()),
                ),
            );
            let ok = explain::explain(hex, &opts, &mut out);
            print!("{out}");
            Ok(u8::from(!ok))
        }
        Command::Read(args) => bus::read(args),
        Command::Scan(args) => bus::scan(args),
        Command::Simulate(args) => bus::simulate(args),
        Command::Encode(cmd) => match encode::encode(cmd) {
            Ok(bytes) => {
                println!("{}", meterwire::hex::to_hex_spaced(&bytes));
                Ok(0)
            }
            Err(e) => {
                eprintln!("meterwire: cannot encode: {e}");
                Ok(1)
            }
        },
    };
    match result {
        Ok(code) => ExitCode::from(code),
        // The reader went away (`| head`): stop quietly.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("meterwire: cannot write the output: {e}");
            ExitCode::from(2)
        }
    }
}
