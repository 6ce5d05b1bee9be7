//! The byte pipes a master talks through: a TCP connection (an M-Bus level converter or
//! gateway with a TCP port, or `meterwire simulate`) and, with the `serial` feature, a serial
//! port (a USB M-Bus master). Both read with a deadline, so no exchange can hang.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// A bidirectional byte pipe to an M-Bus line.
pub trait Transport {
    /// Sends all of `bytes`.
    fn send(&mut self, bytes: &[u8]) -> io::Result<()>;

    /// Reads what has arrived into `buf`, waiting at most until `deadline`; `Ok(0)` when the
    /// deadline passed with nothing to read.
    fn receive(&mut self, buf: &mut [u8], deadline: Instant) -> io::Result<usize>;

    /// Throws away bytes that are already waiting (a late reply to an earlier request).
    fn discard_input(&mut self) -> io::Result<()> {
        let mut buf = [0u8; 256];
        let now = Instant::now();
        while self.receive(&mut buf, now)? > 0 {}
        Ok(())
    }

    /// Where the pipe leads, for messages (`tcp 127.0.0.1:5000`, `serial /dev/ttyUSB0`).
    fn describe(&self) -> String;
}

/// A TCP connection to an M-Bus gateway (or the simulator).
#[derive(Debug)]
pub struct TcpTransport {
    stream: TcpStream,
    peer: SocketAddr,
}

impl TcpTransport {
    /// Connects to `address` (`HOST:PORT`), giving up after `timeout`.
    pub fn connect(address: &str, timeout: Duration) -> io::Result<TcpTransport> {
        let mut last = io::Error::new(io::ErrorKind::NotFound, "the address resolves to nothing");
        for peer in address.to_socket_addrs()? {
            match TcpStream::connect_timeout(&peer, timeout) {
                Ok(stream) => {
                    stream.set_nodelay(true)?;
                    return Ok(TcpTransport { stream, peer });
                }
                Err(e) => last = e,
            }
        }
        Err(last)
    }
}

impl TcpTransport {
    /// Wraps an accepted connection (the simulator's side).
    pub fn from_stream(stream: TcpStream) -> io::Result<TcpTransport> {
        stream.set_nodelay(true)?;
        let peer = stream.peer_addr()?;
        Ok(TcpTransport { stream, peer })
    }
}

impl Transport for TcpTransport {
    fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes)?;
        self.stream.flush()
    }

    fn receive(&mut self, buf: &mut [u8], deadline: Instant) -> io::Result<usize> {
        let wait = deadline.saturating_duration_since(Instant::now());
        if wait.is_zero() {
            // Only what is already there.
            self.stream.set_nonblocking(true)?;
            let got = self.stream.read(buf);
            self.stream.set_nonblocking(false)?;
            return match got {
                Ok(0) => Err(closed()),
                Ok(n) => Ok(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(0),
                Err(e) => Err(e),
            };
        }
        self.stream.set_read_timeout(Some(wait))?;
        match self.stream.read(buf) {
            Ok(0) => Err(closed()),
            Ok(n) => Ok(n),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                Ok(0)
            }
            Err(e) => Err(e),
        }
    }

    fn describe(&self) -> String {
        format!("tcp {}", self.peer)
    }
}

/// The error of a peer that closed the connection.
fn closed() -> io::Error {
    io::Error::new(
        io::ErrorKind::ConnectionAborted,
        "the other side closed the connection",
    )
}

/// A serial port (feature `serial`): 8 data bits, even parity and one stop bit as EN 13757-2
/// prescribes, unless told otherwise.
#[cfg(feature = "serial")]
pub struct SerialTransport {
    port: Box<dyn serialport::SerialPort>,
    path: String,
}

/// The parity of a serial line.
#[cfg(feature = "serial")]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Parity {
    /// Even parity (EN 13757-2).
    Even,
    /// Odd parity.
    Odd,
    /// No parity bit.
    None,
}

#[cfg(feature = "serial")]
impl SerialTransport {
    /// Opens `path` at `baud` with `parity`.
    pub fn open(path: &str, baud: u32, parity: Parity) -> io::Result<SerialTransport> {
        let parity = match parity {
            Parity::Even => serialport::Parity::Even,
            Parity::Odd => serialport::Parity::Odd,
            Parity::None => serialport::Parity::None,
        };
        let port = serialport::new(path, baud)
            .data_bits(serialport::DataBits::Eight)
            .parity(parity)
            .stop_bits(serialport::StopBits::One)
            .timeout(Duration::from_millis(100))
            .open()
            .map_err(io::Error::from)?;
        Ok(SerialTransport {
            port,
            path: path.to_owned(),
        })
    }
}

#[cfg(feature = "serial")]
impl Transport for SerialTransport {
    fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.port.write_all(bytes)?;
        self.port.flush()
    }

    fn receive(&mut self, buf: &mut [u8], deadline: Instant) -> io::Result<usize> {
        let wait = deadline
            .saturating_duration_since(Instant::now())
            .max(Duration::from_millis(1));
        self.port.set_timeout(wait).map_err(io::Error::from)?;
        match self.port.read(buf) {
            Ok(n) => Ok(n),
            Err(e) if e.kind() == io::ErrorKind::TimedOut => Ok(0),
            Err(e) => Err(e),
        }
    }

    fn describe(&self) -> String {
        format!("serial {}", self.path)
    }
}
