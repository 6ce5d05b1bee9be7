//! An MQTT subscriber: connects to a broker with `rumqttc`, subscribes with QoS 1 and
//! decodes each PUBLISH's payload as the core decodes an MQTT message.
//!
//! The session is persistent by default (clean session off, a fixed client id), so the
//! broker keeps the subscriptions and queues QoS 1 messages while the listener is away;
//! after an error the listener waits (backoff doubling from 250 ms up to
//! [`MqttSettings::max_backoff`]) and reconnects, subscribing again on every CONNACK.
//!
//! A payload that is hex text (`68 15 15 68 …` or `FEFE68…`, only hex digits and blanks) is
//! read as the bytes it spells; anything else is taken as binary. The bytes are put back
//! into a PUBLISH with the delivered topic, QoS, retain flag and packet id
//! ([`meterwire::mqtt::publish`]) and decoded with the protocol named `mqtt`, so payload
//! detection, nested frames and per-device keys (the topic's segments name the device) are
//! exactly those of `meterwire decode`.
//!
//! QoS 1 messages are acknowledged (PUBACK) only after their event has been handed on, so a
//! message the listener did not take is delivered again rather than lost.
//!
//! [`MqttSettings::version`] chooses MQTT 3.1.1 (the default) or 5.0 (`rumqttc::v5`). With
//! 5.0 the session is kept by a session expiry interval (the longest, unless
//! [`MqttSettings::clean_session`]), and a PUBLISH's properties (content type, user
//! properties, …) are put into the rebuilt packet, so the model shows them.

use std::sync::Arc;
use std::time::Duration;

use meterwire::model::Bytes;
use meterwire::mqtt::{encode, MqttLink, MqttProperty, MqttVersion};
use meterwire::payload::FieldValue;
use meterwire::{decode, parse_hex, Decoded, Link, Options, Protocol};
use rumqttc::v5::mqttbytes::v5::{Packet as PacketV5, PublishProperties};
use rumqttc::v5::mqttbytes::QoS as QoSV5;
use rumqttc::v5::{
    AsyncClient as AsyncClientV5, Event as MqttEventV5, MqttOptions as MqttOptionsV5,
};
use rumqttc::{
    AsyncClient, Event as MqttEvent, MqttOptions, Packet, QoS, TlsConfiguration, Transport,
};
use tokio::sync::mpsc;
use tokio_rustls::rustls::ClientConfig;

use crate::message::{Event, Failure, Message, Source};
use crate::time::now_rfc3339;
use crate::tls::{client_config, TlsFiles};

/// The first wait before reconnecting.
pub const INITIAL_BACKOFF: Duration = Duration::from_millis(250);

/// How to reach a broker.
#[derive(Clone, Debug)]
pub struct MqttSettings {
    /// Broker host name or address.
    pub host: String,
    /// Broker port (1883 when the URL has none, 8883 for `mqtts://`).
    pub port: u16,
    /// The client id (fixed, so the broker finds the persistent session again).
    pub client_id: String,
    /// User name and password, if the broker wants them.
    pub credentials: Option<(String, String)>,
    /// Start a new session on every connection (off: persistent session).
    pub clean_session: bool,
    /// MQTT keep alive.
    pub keep_alive: Duration,
    /// The longest wait between reconnection attempts.
    pub max_backoff: Duration,
    /// TLS (`mqtts://`): the rustls configuration the connection uses; `None` for plain TCP.
    pub tls: Option<Arc<ClientConfig>>,
    /// The protocol version spoken: 3.1.1 (default) or 5.0.
    pub version: MqttVersion,
}

impl MqttSettings {
    /// Settings for `mqtt://HOST[:PORT]` or `mqtts://HOST[:PORT]` with `client_id` and a
    /// persistent session; `tls` (the trusted CAs, a client certificate) is used for
    /// `mqtts://` only.
    pub fn from_url(url: &str, client_id: &str, tls: &TlsFiles) -> Result<MqttSettings, String> {
        let broker = parse_broker_url(url)?;
        let tls = if broker.tls {
            Some(client_config(tls).map_err(|error| format!("{url}: {error}"))?)
        } else {
            None
        };
        Ok(MqttSettings {
            host: broker.host,
            port: broker.port,
            client_id: client_id.to_string(),
            credentials: None,
            clean_session: false,
            keep_alive: Duration::from_secs(30),
            max_backoff: Duration::from_secs(5),
            tls,
            version: MqttVersion::V311,
        })
    }

    /// `HOST:PORT` as printed in `peer`.
    pub fn broker(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    /// The transport of these settings: TLS with their configuration, or TCP.
    fn transport(&self) -> Transport {
        match &self.tls {
            Some(config) => {
                Transport::tls_with_config(TlsConfiguration::Rustls(Arc::clone(config)))
            }
            None => Transport::Tcp,
        }
    }

    /// The `rumqttc` MQTT 5.0 options of these settings (a persistent session lasts as
    /// long as the broker allows).
    pub fn client_options_v5(&self) -> MqttOptionsV5 {
        let mut options = MqttOptionsV5::new(&self.client_id, &self.host, self.port);
        options
            .set_clean_start(self.clean_session)
            .set_session_expiry_interval((!self.clean_session).then_some(u32::MAX))
            .set_keep_alive(self.keep_alive)
            .set_max_packet_size(Some(256 * 1024))
            .set_transport(self.transport());
        if let Some((user, password)) = &self.credentials {
            options.set_credentials(user, password);
        }
        options
    }

    /// The `rumqttc` MQTT 3.1.1 options of these settings.
    pub fn client_options(&self) -> MqttOptions {
        let mut options = MqttOptions::new(&self.client_id, &self.host, self.port);
        options
            .set_clean_session(self.clean_session)
            .set_keep_alive(self.keep_alive)
            .set_max_packet_size(256 * 1024, 256 * 1024);
        if let Some((user, password)) = &self.credentials {
            options.set_credentials(user, password);
        }
        options.set_transport(self.transport());
        options
    }
}

/// A broker URL, read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BrokerUrl {
    /// Host name or address (IPv6 without brackets).
    pub host: String,
    /// Port: given, or 1883 (`mqtt`), 8883 (`mqtts`).
    pub port: u16,
    /// Whether the connection is TLS (`mqtts://`, `ssl://`).
    pub tls: bool,
}

/// Reads `mqtt://HOST[:PORT]`, `mqtts://HOST[:PORT]` (TLS) or `HOST[:PORT]` (`[v6]:PORT`
/// for IPv6 addresses); `tcp://` and `ssl://` are the same as `mqtt://` and `mqtts://`.
pub fn parse_broker_url(url: &str) -> Result<BrokerUrl, String> {
    let (rest, tls) = match url.split_once("://") {
        Some(("mqtt" | "tcp", rest)) => (rest, false),
        Some(("mqtts" | "ssl", rest)) => (rest, true),
        Some((scheme, _)) => {
            return Err(format!(
                "unsupported scheme '{scheme}': use mqtt://HOST:PORT or mqtts://HOST:PORT"
            ))
        }
        None => (url, false),
    };
    let rest = rest.trim_end_matches('/');
    let (host, port) = match rest.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(':') && !port.contains(']') => {
            let port = port
                .parse::<u16>()
                .map_err(|_| format!("bad port '{port}' in '{url}'"))?;
            (host, port)
        }
        _ => (rest, if tls { 8883 } else { 1883 }),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Err(format!("no host in '{url}'"));
    }
    Ok(BrokerUrl {
        host: host.to_string(),
        port,
        tls,
    })
}

/// The bytes of a payload: hex text read as what it spells, anything else as it is.
pub fn payload_bytes(payload: &[u8]) -> Vec<u8> {
    let is_hex_text = payload.iter().any(u8::is_ascii_hexdigit)
        && payload
            .iter()
            .all(|b| b.is_ascii_hexdigit() || b.is_ascii_whitespace());
    if is_hex_text {
        if let Ok(text) = std::str::from_utf8(payload) {
            if let Ok(bytes) = parse_hex(text) {
                return bytes;
            }
        }
    }
    payload.to_vec()
}

/// One delivered PUBLISH.
#[derive(Clone, Copy, Debug)]
pub struct Delivery<'a> {
    /// The broker it came from (`HOST:PORT`).
    pub broker: &'a str,
    /// Its topic.
    pub topic: &'a str,
    /// Its QoS.
    pub qos: u8,
    /// Its retain flag.
    pub retain: bool,
    /// Its packet id (QoS 1 and 2).
    pub packet_id: u16,
    /// Its payload.
    pub payload: &'a [u8],
    /// The version it was delivered with.
    pub version: MqttVersion,
    /// Its MQTT 5.0 properties (none for 3.1.1).
    pub properties: &'a [MqttProperty],
}

/// Decodes one delivered PUBLISH (module docs) into its event.
pub fn decode_delivery(delivery: Delivery<'_>, options: &Options) -> Event {
    let received = now_rfc3339();
    let source = Source::Mqtt {
        broker: delivery.broker.to_string(),
        topic: delivery.topic.to_string(),
        qos: delivery.qos,
        retain: delivery.retain,
    };
    let bytes = payload_bytes(delivery.payload);
    let link = MqttLink {
        packet_type: "PUBLISH".into(),
        version: delivery.version,
        dup: Some(false),
        qos: Some(delivery.qos),
        retain: Some(delivery.retain),
        topic: Some(delivery.topic.to_string()),
        packet_id: Some(delivery.packet_id).filter(|_| delivery.qos > 0),
        properties: delivery.properties.to_vec(),
        ..MqttLink::default()
    };
    let mut rebuilt = Decoded::new(Protocol::Mqtt, Link::Mqtt(link));
    if !bytes.is_empty() {
        rebuilt.application_data = Some(Bytes::new(&bytes));
    }
    let decoded = encode(&rebuilt, &Options::default()).and_then(|packet| {
        let options = options
            .clone()
            .with_protocol(Some(Protocol::Mqtt))
            .with_mqtt_version(Some(delivery.version));
        decode(&packet, &options)
    });
    match decoded {
        Ok(decoded) => Event::Message(Box::new(Message {
            received,
            source,
            decoded,
        })),
        Err(error) => Event::Failure(Failure::from_error(received, source, &error)),
    }
}

/// The MQTT 5.0 properties of a delivered PUBLISH, as the core's model names them (in the
/// order of the property identifiers; the broker's own order is not kept by `rumqttc`).
pub fn model_properties(properties: Option<&PublishProperties>) -> Vec<MqttProperty> {
    let Some(properties) = properties else {
        return Vec::new();
    };
    let property = |id: u8, name: &'static str, value: FieldValue| MqttProperty {
        id,
        name: Some(name.into()),
        key: None,
        value,
    };
    let hex = |data: &[u8]| data.iter().map(|b| format!("{b:02X}")).collect::<String>();
    let mut list = Vec::new();
    if let Some(indicator) = properties.payload_format_indicator {
        let value = FieldValue::Number(u64::from(indicator));
        list.push(property(0x01, "payload_format_indicator", value));
    }
    if let Some(interval) = properties.message_expiry_interval {
        let value = FieldValue::Number(u64::from(interval));
        list.push(property(0x02, "message_expiry_interval", value));
    }
    if let Some(content_type) = &properties.content_type {
        let value = FieldValue::Text(content_type.clone());
        list.push(property(0x03, "content_type", value));
    }
    if let Some(topic) = &properties.response_topic {
        list.push(property(
            0x08,
            "response_topic",
            FieldValue::Text(topic.clone()),
        ));
    }
    if let Some(data) = &properties.correlation_data {
        list.push(property(
            0x09,
            "correlation_data",
            FieldValue::Text(hex(data)),
        ));
    }
    for identifier in &properties.subscription_identifiers {
        let value = FieldValue::Number(*identifier as u64);
        list.push(property(0x0B, "subscription_identifier", value));
    }
    if let Some(alias) = properties.topic_alias {
        list.push(property(
            0x23,
            "topic_alias",
            FieldValue::Number(u64::from(alias)),
        ));
    }
    for (key, value) in &properties.user_properties {
        list.push(MqttProperty {
            key: Some(key.clone()),
            ..property(0x26, "user_property", FieldValue::Text(value.clone()))
        });
    }
    list
}

fn qos_number_v5(qos: QoSV5) -> u8 {
    match qos {
        QoSV5::AtMostOnce => 0,
        QoSV5::AtLeastOnce => 1,
        QoSV5::ExactlyOnce => 2,
    }
}

fn qos_number(qos: QoS) -> u8 {
    match qos {
        QoS::AtMostOnce => 0,
        QoS::AtLeastOnce => 1,
        QoS::ExactlyOnce => 2,
    }
}

/// Subscribes to `topics` (QoS 1) and sends an event for every delivered message until
/// `events` is closed. Connection changes are [`Event::Status`] events; the listener never
/// gives up on a broker.
pub async fn subscribe(
    settings: MqttSettings,
    topics: Vec<String>,
    options: Options,
    events: mpsc::Sender<Event>,
) {
    match settings.version {
        MqttVersion::V311 => subscribe_v311(settings, topics, options, events).await,
        MqttVersion::V5 => subscribe_v5(settings, topics, options, events).await,
    }
}

/// The status line of a CONNACK.
fn connected_text(settings: &MqttSettings, session_present: bool, topics: &[String]) -> String {
    format!(
        "mqtt {}: connected{} with MQTT {} as {} (session present: {session_present}), topics {}",
        settings.broker(),
        if settings.tls.is_some() {
            " over TLS"
        } else {
            ""
        },
        match settings.version {
            MqttVersion::V311 => "3.1.1",
            MqttVersion::V5 => "5.0",
        },
        settings.client_id,
        topics.join(" ")
    )
}

/// Reports a lost connection and waits `backoff`; the next backoff, or `None` when nobody
/// listens any more.
async fn lost(
    events: &mpsc::Sender<Event>,
    broker: &str,
    error: String,
    backoff: Duration,
    settings: &MqttSettings,
) -> Option<Duration> {
    let text = format!("mqtt {broker}: {error}; reconnecting in {backoff:?}");
    events.send(Event::Status(text)).await.ok()?;
    tokio::time::sleep(backoff).await;
    Some(backoff.saturating_mul(2).min(settings.max_backoff))
}

/// [`subscribe`] with MQTT 5.0.
async fn subscribe_v5(
    settings: MqttSettings,
    topics: Vec<String>,
    options: Options,
    events: mpsc::Sender<Event>,
) {
    let broker = settings.broker();
    let mut client_options = settings.client_options_v5();
    client_options.set_manual_acks(true);
    let (client, mut event_loop) = AsyncClientV5::new(client_options, 1024);
    let mut backoff = INITIAL_BACKOFF;
    loop {
        let polled = tokio::select! {
            polled = event_loop.poll() => polled,
            () = events.closed() => return,
        };
        let event = match polled {
            Ok(MqttEventV5::Incoming(PacketV5::ConnAck(ack))) => {
                backoff = INITIAL_BACKOFF;
                for topic in &topics {
                    if let Err(error) = client.try_subscribe(topic.as_str(), QoSV5::AtLeastOnce) {
                        let text = format!("mqtt {broker}: cannot subscribe to {topic}: {error}");
                        let _ = events.send(Event::Status(text)).await;
                    }
                }
                Event::Status(connected_text(&settings, ack.session_present, &topics))
            }
            Ok(MqttEventV5::Incoming(PacketV5::Publish(delivered))) => {
                let topic = String::from_utf8_lossy(&delivered.topic);
                let properties = model_properties(delivered.properties.as_ref());
                let event = decode_delivery(
                    Delivery {
                        broker: &broker,
                        topic: &topic,
                        qos: qos_number_v5(delivered.qos),
                        retain: delivered.retain,
                        packet_id: delivered.pkid,
                        payload: &delivered.payload,
                        version: MqttVersion::V5,
                        properties: &properties,
                    },
                    &options,
                );
                if events.send(event).await.is_err() {
                    return;
                }
                let _ = client.try_ack(&delivered);
                continue;
            }
            Ok(_) => continue,
            Err(error) => match lost(&events, &broker, error.to_string(), backoff, &settings).await
            {
                Some(next) => {
                    backoff = next;
                    continue;
                }
                None => return,
            },
        };
        if events.send(event).await.is_err() {
            return;
        }
    }
}

/// [`subscribe`] with MQTT 3.1.1.
async fn subscribe_v311(
    settings: MqttSettings,
    topics: Vec<String>,
    options: Options,
    events: mpsc::Sender<Event>,
) {
    let broker = settings.broker();
    let mut client_options = settings.client_options();
    // A QoS 1 message is acknowledged only once its event is handed on (below).
    client_options.set_manual_acks(true);
    let (client, mut event_loop) = AsyncClient::new(client_options, 1024);
    let mut backoff = INITIAL_BACKOFF;
    loop {
        let polled = tokio::select! {
            polled = event_loop.poll() => polled,
            () = events.closed() => return,
        };
        let event = match polled {
            Ok(MqttEvent::Incoming(Packet::ConnAck(ack))) => {
                backoff = INITIAL_BACKOFF;
                for topic in &topics {
                    if let Err(error) = client.try_subscribe(topic.as_str(), QoS::AtLeastOnce) {
                        let text = format!("mqtt {broker}: cannot subscribe to {topic}: {error}");
                        let _ = events.send(Event::Status(text)).await;
                    }
                }
                Event::Status(connected_text(&settings, ack.session_present, &topics))
            }
            Ok(MqttEvent::Incoming(Packet::Publish(delivered))) => {
                let event = decode_delivery(
                    Delivery {
                        broker: &broker,
                        topic: &delivered.topic,
                        qos: qos_number(delivered.qos),
                        retain: delivered.retain,
                        packet_id: delivered.pkid,
                        payload: &delivered.payload,
                        version: MqttVersion::V311,
                        properties: &[],
                    },
                    &options,
                );
                if events.send(event).await.is_err() {
                    return;
                }
                // Not acknowledged (the request queue is full): the broker sends it again.
                let _ = client.try_ack(&delivered);
                continue;
            }
            Ok(_) => continue,
            Err(error) => match lost(&events, &broker, error.to_string(), backoff, &settings).await
            {
                Some(next) => {
                    backoff = next;
                    continue;
                }
                None => return,
            },
        };
        if events.send(event).await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(host: &str, port: u16, tls: bool) -> BrokerUrl {
        BrokerUrl {
            host: host.to_string(),
            port,
            tls,
        }
    }

    #[test]
    fn broker_urls() {
        assert_eq!(
            parse_broker_url("mqtt://127.0.0.1:1884").unwrap(),
            url("127.0.0.1", 1884, false)
        );
        assert_eq!(
            parse_broker_url("broker.local").unwrap(),
            url("broker.local", 1883, false)
        );
        assert_eq!(
            parse_broker_url("mqtt://[::1]:1885").unwrap(),
            url("::1", 1885, false)
        );
        assert_eq!(
            parse_broker_url("mqtts://h:8884").unwrap(),
            url("h", 8884, true)
        );
        assert_eq!(
            parse_broker_url("mqtts://broker.example/").unwrap(),
            url("broker.example", 8883, true)
        );
        assert_eq!(
            parse_broker_url("ssl://[::1]").unwrap(),
            url("::1", 8883, true)
        );
        assert!(parse_broker_url("ws://h:80").is_err());
        assert!(parse_broker_url("mqtts://h:88830").is_err());
        assert!(parse_broker_url("mqtts://:8883").is_err());
    }

    #[test]
    fn v5_deliveries_keep_their_properties() {
        let delivered = PublishProperties {
            payload_format_indicator: Some(0),
            content_type: Some("application/octet-stream".into()),
            correlation_data: Some(vec![0xAB, 0x01].into()),
            user_properties: vec![("imei".into(), "860000000000001".into())],
            ..PublishProperties::default()
        };
        let properties = model_properties(Some(&delivered));
        let mbus = parse_hex("68151568080572785634122D2C01072A0000000C13674523010D16").unwrap();
        let delivery = Delivery {
            broker: "b:1883",
            topic: "meters/v5",
            qos: 1,
            retain: false,
            packet_id: 3,
            payload: &mbus,
            version: MqttVersion::V5,
            properties: &properties,
        };
        let Event::Message(message) = decode_delivery(delivery, &Options::default()) else {
            panic!("not decoded");
        };
        let line: serde_json::Value = serde_json::from_str(&message.model_line(None)).unwrap();
        assert_eq!(line["link"]["version"], "5.0");
        assert_eq!(line["link"]["packet_id"], 3);
        let names: Vec<&str> = line["link"]["properties"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "payload_format_indicator",
                "content_type",
                "correlation_data",
                "user_property"
            ]
        );
        assert_eq!(line["link"]["properties"][2]["value"], "AB01");
        assert_eq!(line["link"]["properties"][3]["key"], "imei");
        assert_eq!(line["link"]["properties"][3]["value"], "860000000000001");
        assert_eq!(line["payload"]["meter"]["id"], "12345678");
    }

    #[test]
    fn tls_is_set_for_mqtts_only() {
        let files = TlsFiles {
            ca: Some(
                std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/test-ca.pem"),
            ),
            ..TlsFiles::default()
        };
        let plain = MqttSettings::from_url("mqtt://127.0.0.1:1883", "c", &files).unwrap();
        assert!(plain.tls.is_none());
        assert!(matches!(plain.client_options().transport(), Transport::Tcp));
        let secure = MqttSettings::from_url("mqtts://127.0.0.1", "c", &files).unwrap();
        assert_eq!(secure.port, 8883);
        assert!(secure.tls.is_some());
        assert!(matches!(
            secure.client_options().transport(),
            Transport::Tls(TlsConfiguration::Rustls(_))
        ));
        let missing = TlsFiles {
            ca: Some("/nonexistent/ca.pem".into()),
            ..TlsFiles::default()
        };
        let error = MqttSettings::from_url("mqtts://h", "c", &missing).unwrap_err();
        assert!(
            error.starts_with("mqtts://h: cannot read CA file"),
            "{error}"
        );
    }

    #[test]
    fn hex_and_binary_payloads_decode_alike() {
        let hex = "FEFE6810785634120001008116901F01563412002C000012002C0030081503252000006F16";
        let binary = parse_hex(hex).unwrap();
        for payload in [hex.as_bytes(), binary.as_slice()] {
            let delivery = Delivery {
                broker: "b:1883",
                topic: "meters/00010012345678",
                qos: 1,
                retain: false,
                packet_id: 7,
                payload,
                version: MqttVersion::V311,
                properties: &[],
            };
            let Event::Message(message) = decode_delivery(delivery, &Options::default()) else {
                panic!("not decoded");
            };
            let reading: serde_json::Value = serde_json::from_str(&message.reading_line()).unwrap();
            assert_eq!(reading["id"], "00010012345678");
            assert_eq!(reading["protocol"], "mqtt");
            let line: serde_json::Value = serde_json::from_str(&message.model_line(None)).unwrap();
            assert_eq!(line["topic"], "meters/00010012345678");
            assert_eq!(line["payload"]["protocol"], "cjt188");
        }
    }
}
