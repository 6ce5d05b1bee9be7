//! `meterwire read`, `meterwire scan` and `meterwire simulate`: the M-Bus master and meter
//! simulator of the `meterwire-bus` crate on a TCP connection or (feature `serial`) a serial
//! port.

use std::io::{self, BufWriter, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::Args;
use meterwire::mbus::request::SecondaryAddress;
use meterwire_bus::master::{Master, Timing};
use meterwire_bus::scan::{scan_primary, scan_secondary, Found};
use meterwire_bus::simulator::{serve, Faults, SimulatedBus};
use meterwire_bus::transport::{TcpTransport, Transport};

use crate::{Format, Frame, Item, Printer, Source};

/// Where the M-Bus line is.
#[derive(Debug, Args)]
pub struct LineArgs {
    /// An M-Bus gateway (or `meterwire simulate`) at HOST:PORT.
    #[arg(long, value_name = "HOST:PORT", conflicts_with = "serial")]
    tcp: Option<String>,
    /// A serial M-Bus master (level converter) at PATH (needs the `serial` feature).
    #[arg(long, value_name = "PATH")]
    serial: Option<String>,
    /// Serial speed.
    #[arg(long, default_value_t = 2400)]
    baud: u32,
    /// Serial parity: even (EN 13757-2), odd or none.
    #[arg(long, default_value = "even", value_parser = ["even", "odd", "none"])]
    parity: String,
    /// How long to wait for a reply to start and for each byte of it, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 500)]
    timeout: u64,
    /// How often a request is repeated after no reply or a broken one.
    #[arg(long, default_value_t = 2)]
    retries: u32,
}

impl LineArgs {
    fn timing(&self) -> Timing {
        Timing {
            timeout: Duration::from_millis(self.timeout.max(1)),
            retries: self.retries,
            ..Timing::default()
        }
    }

    /// Runs `job` with a master on the chosen line.
    fn with_master(
        &self,
        job: &mut dyn FnMut(&mut dyn MasterJob) -> io::Result<u8>,
    ) -> io::Result<u8> {
        match (&self.tcp, &self.serial) {
            (Some(address), _) => {
                let t = match TcpTransport::connect(address, Duration::from_secs(5)) {
                    Ok(t) => t,
                    Err(e) => {
                        eprintln!("meterwire: cannot connect to {address}: {e}");
                        return Ok(2);
                    }
                };
                job(&mut Master::new(t, self.timing()))
            }
            (None, Some(path)) => self.with_serial(path, job),
            (None, None) => {
                eprintln!(
                    "meterwire: say where the M-Bus line is: --tcp HOST:PORT or --serial PATH"
                );
                Ok(2)
            }
        }
    }

    #[cfg(feature = "serial")]
    fn with_serial(
        &self,
        path: &str,
        job: &mut dyn FnMut(&mut dyn MasterJob) -> io::Result<u8>,
    ) -> io::Result<u8> {
        use meterwire_bus::transport::{Parity, SerialTransport};
        let parity = match self.parity.as_str() {
            "odd" => Parity::Odd,
            "none" => Parity::None,
            _ => Parity::Even,
        };
        match SerialTransport::open(path, self.baud, parity) {
            Ok(t) => job(&mut Master::new(t, self.timing())),
            Err(e) => {
                eprintln!("meterwire: cannot open {path}: {e}");
                Ok(2)
            }
        }
    }

    #[cfg(not(feature = "serial"))]
    fn with_serial(
        &self,
        path: &str,
        _: &mut dyn FnMut(&mut dyn MasterJob) -> io::Result<u8>,
    ) -> io::Result<u8> {
        eprintln!(
            "meterwire: cannot open {path}: this meterwire was built without serial ports \
             (cargo build -p meterwire-cli --features serial)"
        );
        Ok(2)
    }
}

/// What the subcommands ask of a master, whatever its transport.
pub trait MasterJob {
    /// Reads one meter; the readout or the error text.
    fn read(&mut self, target: &Target) -> Result<meterwire_bus::master::Readout, String>;
    /// Scans; the meters found (printed through `on_found` as they come) and a summary.
    fn scan(&mut self, primary: bool, on_found: &mut dyn FnMut(&Found)) -> Result<String, String>;
}

impl<T: Transport> MasterJob for Master<T> {
    fn read(&mut self, target: &Target) -> Result<meterwire_bus::master::Readout, String> {
        match target {
            Target::Primary(a) => self.read_primary(*a),
            Target::Secondary(mask) => self.read_secondary(mask),
        }
        .map_err(|e| e.to_string())
    }

    fn scan(&mut self, primary: bool, on_found: &mut dyn FnMut(&Found)) -> Result<String, String> {
        let started = std::time::Instant::now();
        let report = if primary {
            scan_primary(self, 0..=250, on_found)
        } else {
            scan_secondary(self, on_found)
        }
        .map_err(|e| e.to_string())?;
        let mut summary = format!(
            "scan: {} meter(s), {} request(s) in {} ms",
            report.found.len(),
            report.exchanges,
            started.elapsed().as_millis()
        );
        if !primary {
            summary.push_str(&format!(" ({} select probes)", report.selects));
        }
        for mask in &report.unresolved {
            summary.push_str(&format!(
                "; several meters share the secondary address {}",
                meterwire::mbus::request::secondary_address_text(mask)
            ));
        }
        Ok(summary)
    }
}

/// The meter to read.
pub enum Target {
    /// By primary address.
    Primary(u8),
    /// By secondary address mask.
    Secondary(SecondaryAddress),
}

/// `meterwire read` arguments.
#[derive(Debug, Args)]
pub struct ReadArgs {
    #[command(flatten)]
    line: LineArgs,
    /// The meter's primary address (0-250).
    #[arg(
        long,
        value_name = "N",
        conflicts_with = "secondary",
        required_unless_present = "secondary"
    )]
    address: Option<u8>,
    /// The meter's secondary address: 16 hex digits IIIIIIIIMMMMVVDD (ID, manufacturer bytes in
    /// wire order, version, medium), F nibbles of the ID and FF bytes as wildcards; or just
    /// the 8 ID digits.
    #[arg(long, value_name = "ID")]
    secondary: Option<String>,
    /// Output format, as `meterwire decode`.
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = Format::Json)]
    format: Format,
}

/// Runs `meterwire read`: the reading printed as `meterwire decode` prints a frame.
pub fn read(args: &ReadArgs) -> io::Result<u8> {
    let target = match (&args.address, &args.secondary) {
        (Some(a), _) => Target::Primary(*a),
        (None, Some(text)) => {
            let parsed = if text.len() == 16 {
                SecondaryAddress::parse(text)
            } else {
                SecondaryAddress::new(text, None, None, None)
            };
            match parsed {
                Ok(mask) => Target::Secondary(mask),
                Err(e) => {
                    eprintln!("meterwire: --secondary {text}: {e}");
                    return Ok(2);
                }
            }
        }
        (None, None) => return Ok(2),
    };
    let format = args.format;
    args.line
        .with_master(&mut |master| match master.read(&target) {
            Ok(readout) => {
                let stdout = io::stdout();
                let mut printer = Printer::new(BufWriter::new(stdout.lock()), format, None)?;
                let bytes: Vec<u8> = readout
                    .telegrams
                    .iter()
                    .flat_map(|t| t.bytes.clone())
                    .collect();
                printer.item(&Item::Frame(Frame {
                    origin: format!("{} telegram(s)", readout.telegrams.len()),
                    source: Source::Bytes(bytes),
                    base: 0,
                    in_stream: false,
                    result: Ok(Box::new(readout.reading)),
                }))?;
                printer.out.flush()?;
                Ok(0)
            }
            Err(e) => {
                eprintln!("meterwire: read failed: {e}");
                Ok(1)
            }
        })
}

/// `meterwire scan` arguments.
#[derive(Debug, Args)]
pub struct ScanArgs {
    #[command(flatten)]
    line: LineArgs,
    /// Poll primary addresses 0-250 instead of the secondary wildcard search.
    #[arg(long)]
    primary: bool,
}

/// Runs `meterwire scan`: one NDJSON line per meter found, a summary on standard error.
pub fn scan(args: &ScanArgs) -> io::Result<u8> {
    let primary = args.primary;
    args.line.with_master(&mut |master| {
        let stdout = io::stdout();
        let mut out = stdout.lock();
        let mut write_error = None;
        let result = master.scan(primary, &mut |found| {
            if let Err(e) = writeln!(out, "{}", found.to_json()).and_then(|()| out.flush()) {
                write_error.get_or_insert(e);
            }
        });
        if let Some(e) = write_error {
            return Err(e);
        }
        match result {
            Ok(summary) => {
                eprintln!("meterwire: {summary}");
                Ok(0)
            }
            Err(e) => {
                eprintln!("meterwire: scan failed: {e}");
                Ok(1)
            }
        }
    })
}

/// `meterwire simulate` arguments.
#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Listen for a master on HOST:PORT (port 0: any free port; the address is printed).
    #[arg(long, value_name = "HOST:PORT", required_unless_present = "serial")]
    listen: Option<String>,
    /// Answer on a serial port or pseudo-terminal instead (needs the `serial` feature).
    #[arg(long, value_name = "PATH", conflicts_with = "listen")]
    serial: Option<String>,
    /// NDJSON of decoded M-Bus RSP_UD models, as `meterwire decode` prints them: one meter per
    /// line; a line after one with more_records_follow is that meter's next telegram.
    #[arg(long, value_name = "FILE")]
    meters: PathBuf,
    /// Corrupt every N-th reply (its checksum no longer verifies).
    #[arg(long, value_name = "N")]
    corrupt_every: Option<usize>,
    /// A meter (by ID) that never answers. May be repeated.
    #[arg(long, value_name = "ID")]
    silent: Vec<String>,
    /// Print every request and reply on standard error.
    #[arg(long)]
    verbose: bool,
}

/// Runs `meterwire simulate` until interrupted.
pub fn simulate(args: &SimulateArgs) -> io::Result<u8> {
    let text = match std::fs::read_to_string(&args.meters) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("meterwire: cannot read {}: {e}", args.meters.display());
            return Ok(2);
        }
    };
    let faults = Faults {
        corrupt_every: args.corrupt_every,
        silent: args.silent.clone(),
    };
    let bus = match SimulatedBus::from_ndjson(&text, faults) {
        Ok(bus) => bus,
        Err(e) => {
            eprintln!("meterwire: {}: {e}", args.meters.display());
            return Ok(2);
        }
    };
    let meters = bus.meters().len();
    if bus.skipped() > 0 {
        eprintln!(
            "meterwire: {}: {} line(s) skipped (not an M-Bus RSP_UD)",
            args.meters.display(),
            bus.skipped()
        );
    }
    let bus = Arc::new(Mutex::new(bus));
    let stop = Arc::new(AtomicBool::new(false));
    let verbose = args.verbose;
    let mut log = |line: &str| {
        if verbose {
            eprintln!("simulate: {line}");
        }
    };
    if let Some(path) = &args.serial {
        return simulate_serial(path, meters, &bus, &stop, &mut log);
    }
    let address = args.listen.as_deref().unwrap_or("127.0.0.1:0");
    let listener = match TcpListener::bind(address) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("meterwire: cannot listen on {address}: {e}");
            return Ok(2);
        }
    };
    eprintln!(
        "meterwire: simulating {meters} meter(s) on {} (Ctrl-C to stop)",
        listener.local_addr()?
    );
    serve(&listener, &bus, &stop, &mut log)?;
    Ok(0)
}

#[cfg(feature = "serial")]
fn simulate_serial(
    path: &str,
    meters: usize,
    bus: &Arc<Mutex<SimulatedBus>>,
    stop: &Arc<AtomicBool>,
    log: &mut dyn FnMut(&str),
) -> io::Result<u8> {
    use meterwire_bus::transport::{Parity, SerialTransport};
    let mut port = match SerialTransport::open(path, 2400, Parity::Even) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("meterwire: cannot open {path}: {e}");
            return Ok(2);
        }
    };
    eprintln!("meterwire: simulating {meters} meter(s) on {path} (Ctrl-C to stop)");
    meterwire_bus::simulator::serve_transport(&mut port, bus, stop, log)?;
    Ok(0)
}

#[cfg(not(feature = "serial"))]
fn simulate_serial(
    path: &str,
    _: usize,
    _: &Arc<Mutex<SimulatedBus>>,
    _: &Arc<AtomicBool>,
    _: &mut dyn FnMut(&str),
) -> io::Result<u8> {
    eprintln!(
        "meterwire: cannot open {path}: this meterwire was built without serial ports \
         (cargo build -p meterwire-cli --features serial)"
    );
    Ok(2)
}
