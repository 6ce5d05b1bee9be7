//! The platform side of meterwire: where the CoAP and MQTT messages of NB-IoT/Cat.1 water
//! meters arrive, get decoded by the core, and leave as readings on a broker.
//!
//! * [`coap_server`]: a CoAP server over UDP that accepts POST/PUT uploads (piggybacked
//!   ACKs, retransmission de-duplication, Block1 reassembly);
//! * [`mqtt_listener`]: an MQTT subscriber with a persistent session that reconnects with
//!   backoff;
//! * [`publisher`]: the flat reading of each decoded message published as JSON;
//! * [`message`]: what both listeners yield ([`Event`]) and its NDJSON lines;
//! * [`listen`]: the three put together, as `meterwire listen` runs them.
//!
//! The `no_std` core stays free of sockets and runtimes: this crate holds all of it.
//!
//! # Dependencies
//!
//! * `tokio` (features `rt`, `net`, `time`, `macros`, `sync` only): the async runtime for
//!   the UDP socket, the broker connections, timers and channels. It is the runtime
//!   `rumqttc` is written for, so one runtime serves both transports.
//! * `rumqttc` (default features off, so no TLS stack): a maintained MQTT 3.1.1 client
//!   whose event loop keeps the session state (in-flight QoS 1 packets, packet ids) and
//!   reconnects when polled again after an error, which is what a persistent session that
//!   loses no QoS 1 message needs.
//! * `serde_json`: writing the added top-level fields and flat readings.
//!
//! CoAP needs no crate: the core's own codec parses every request and builds every reply
//! (see [`coap_server`] for why).

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod coap_server;
pub mod listen;
pub mod message;
pub mod mqtt_listener;
pub mod publisher;
pub mod time;

pub use message::{Event, Failure, Message, Source};
