//! The platform side of meterwire: where the CoAP and MQTT messages of NB-IoT/Cat.1 water
//! meters arrive, get decoded by the core, and leave as readings on a broker.
//!
//! * [`coap_server`]: a CoAP server over UDP that accepts POST/PUT uploads (piggybacked
//!   ACKs, retransmission de-duplication, Block1 reassembly);
//! * [`mqtt_listener`]: an MQTT subscriber with a persistent session that reconnects with
//!   backoff;
//! * [`publisher`]: the flat reading of each decoded message published as JSON;
//! * [`tls`]: the TLS configuration of `mqtts://` brokers (CA, client certificate);
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
//! * `rumqttc` (feature `use-rustls-no-provider`): a maintained MQTT 3.1.1 and 5.0 client
//!   whose event loop keeps the session state (in-flight QoS 1 packets, packet ids) and
//!   reconnects when polled again after an error, which is what a persistent session that
//!   loses no QoS 1 message needs; its TLS transport takes a rustls configuration.
//! * `tokio-rustls` (features `ring`, `tls12`, `logging`): the rustls of that transport,
//!   with `ring` as the crypto provider: it builds in seconds, where rustls' default
//!   (aws-lc-rs) adds over a minute of C compilation. See [`tls`].
//! * `rustls-native-certs`: the system's trusted CAs for `mqtts://` without `--ca` (already
//!   a dependency of rumqttc's TLS).
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
pub mod tls;

pub use message::{Event, Failure, Message, Source};
