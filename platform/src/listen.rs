//! The listeners and the publisher put together, as `meterwire listen` runs them: every
//! event is written as one NDJSON line (messages and failures to `out`, connection changes
//! to `log`), and each decoded message's reading is published when a publisher is set.

use std::io::{self, Write};

use meterwire::Options;
use tokio::sync::mpsc;

use crate::coap_server::{CoapServer, ServerSettings};
use crate::message::Event;
use crate::mqtt_listener::{subscribe, MqttSettings};
use crate::publisher::Publisher;

/// Where readings are published.
#[derive(Clone, Debug)]
pub struct PublishSettings {
    /// The broker connection.
    pub broker: MqttSettings,
    /// The topic template (`meterwire/{id}`).
    pub topic: String,
    /// Publish readings as retained messages.
    pub retain: bool,
}

/// What to listen on and what to do with each message.
#[derive(Clone, Debug, Default)]
pub struct ListenConfig {
    /// The CoAP server's address (`0.0.0.0:5683`).
    pub coap: Option<String>,
    /// The CoAP server's limits.
    pub coap_settings: ServerSettings,
    /// The broker to subscribe to, and the topics.
    pub mqtt: Option<(MqttSettings, Vec<String>)>,
    /// Where to publish readings.
    pub publish: Option<PublishSettings>,
    /// Print flat readings instead of models.
    pub reading: bool,
    /// Decoding options (keys, cipher, …).
    pub options: Options,
}

/// A single-threaded runtime with I/O and timers, for [`run`].
pub fn runtime() -> io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

/// Runs the listeners of `config` until they all stop (they stop only on a socket error of
/// the CoAP server); bad messages are lines, never an end.
pub async fn run(config: ListenConfig, out: &mut dyn Write, log: &mut dyn Write) -> io::Result<()> {
    if config.coap.is_none() && config.mqtt.is_none() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "nothing to listen on: give --coap and/or --mqtt",
        ));
    }
    let (sender, mut events) = mpsc::channel::<Event>(4096);
    let mut tasks = tokio::task::JoinSet::new();
    if let Some(address) = &config.coap {
        let server = CoapServer::bind(
            address.as_str(),
            config.options.clone(),
            config.coap_settings.clone(),
        )
        .await
        .map_err(|error| io::Error::new(error.kind(), format!("coap {address}: {error}")))?;
        writeln!(log, "coap: listening on udp {}", server.local_addr()?)?;
        log.flush()?;
        let sender = sender.clone();
        tasks.spawn(async move { server.run(sender).await });
    }
    if let Some((settings, topics)) = &config.mqtt {
        let sender = sender.clone();
        let (settings, topics, options) =
            (settings.clone(), topics.clone(), config.options.clone());
        tasks.spawn(async move {
            subscribe(settings, topics, options, sender).await;
            Ok(())
        });
    }
    let publisher = config
        .publish
        .as_ref()
        .map(|p| Publisher::start(p.broker.clone(), &p.topic, p.retain, sender.clone()));
    drop(sender);
    loop {
        let event = tokio::select! {
            event = events.recv() => match event {
                Some(event) => event,
                None => break,
            },
            Some(joined) = tasks.join_next() => {
                // A listener stopped: only the CoAP server does, on a socket error.
                joined.map_err(io::Error::other)??;
                continue;
            }
        };
        match event {
            Event::Message(message) => {
                let line = if config.reading {
                    message.reading_line()
                } else {
                    message.model_line(config.options.redact.as_ref())
                };
                writeln!(out, "{line}")?;
                out.flush()?;
                if let Some(publisher) = &publisher {
                    if let Err(text) = publisher.publish(&message).await {
                        writeln!(log, "publish: {text}")?;
                    }
                }
            }
            Event::Failure(failure) => {
                writeln!(out, "{}", failure.line(config.options.redact.as_ref()))?;
                out.flush()?;
            }
            Event::Status(text) => {
                writeln!(log, "{text}")?;
                log.flush()?;
            }
        }
    }
    while let Some(joined) = tasks.join_next().await {
        joined.map_err(io::Error::other)??;
    }
    Ok(())
}
