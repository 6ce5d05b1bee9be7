//! # meterwire-bus
//!
//! Talking to wired M-Bus meters with the meterwire codec: an M-Bus [`master`] (read a meter
//! by primary or secondary address, multi-telegram readout, timeouts and retries), a bus
//! [`scan`] (wildcard secondary search with collision handling, or a poll of primary
//! addresses) and a meter [`simulator`] that answers like real slaves, over TCP or (feature
//! `serial`) a serial port ([`transport`]).
//!
//! The protocol work is the core's: requests come from `meterwire::mbus::request`, replies
//! are cut and decoded by `meterwire::Decoder`. This crate adds sockets, ports, clocks and
//! the dialogue rules of EN 13757-2, which need `std` and so stay out of the `no_std` core.
//!
//! ```no_run
//! use meterwire_bus::master::{Master, Timing};
//! use meterwire_bus::transport::TcpTransport;
//!
//! let transport = TcpTransport::connect("127.0.0.1:5000", std::time::Duration::from_secs(2))?;
//! let mut master = Master::new(transport, Timing::default());
//! let readout = master.read_primary(5)?;
//! println!("{}", meterwire::to_json(&readout.reading));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

pub mod master;
pub mod scan;
pub mod simulator;
pub mod transport;
