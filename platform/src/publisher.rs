//! Publishes the flat reading of each decoded message as JSON to a broker: the shape
//! wmbusmeters' MQTT output gives Home Assistant, Node-RED or Telegraf.
//!
//! The topic is a template: `{id}` becomes the meter id of the carried frame (`unknown` when
//! it has none) and `{protocol}` the transport's protocol (`coap`, `mqtt`). Readings are
//! published with QoS 1 over a persistent session of its own (client id + `-pub`), so
//! readings queued while the broker is away are sent when it is back. The connection speaks
//! the MQTT version of its settings (3.1.1 or 5.0).

use std::time::Duration;

use meterwire::MqttVersion;
use rumqttc::v5::mqttbytes::v5::Packet as PacketV5;
use rumqttc::v5::mqttbytes::QoS as QoSV5;
use rumqttc::v5::AsyncClient as AsyncClientV5;
use rumqttc::{AsyncClient, Packet, QoS};
use tokio::sync::mpsc;

use crate::message::{reading_json, Event, Message};
use crate::mqtt_listener::{MqttSettings, INITIAL_BACKOFF};

/// The topic of a reading: `template` with `{id}` and `{protocol}` filled in.
pub fn topic_for(template: &str, meter_id: &str, protocol: &str) -> String {
    template
        .replace("{id}", meter_id)
        .replace("{protocol}", protocol)
}

/// The client of either MQTT version.
#[derive(Clone, Debug)]
enum Client {
    V311(AsyncClient),
    V5(AsyncClientV5),
}

/// What a publishing connection's event loop reports, and the wait before it reconnects.
struct Reconnect {
    broker: String,
    backoff: Duration,
    max_backoff: Duration,
    status: mpsc::Sender<Event>,
}

impl Reconnect {
    /// Reports one poll of the event loop (`Ok(true)`: a CONNACK; an error: wait, then the
    /// next poll reconnects); false once nobody listens any more.
    async fn report(&mut self, polled: Result<bool, String>) -> bool {
        match polled {
            Ok(false) => true,
            Ok(true) => {
                self.backoff = INITIAL_BACKOFF;
                let text = format!("publish {}: connected", self.broker);
                self.status.send(Event::Status(text)).await.is_ok()
            }
            Err(error) => {
                let text = format!(
                    "publish {}: {error}; reconnecting in {:?}",
                    self.broker, self.backoff
                );
                if self.status.send(Event::Status(text)).await.is_err() {
                    return false;
                }
                tokio::time::sleep(self.backoff).await;
                self.backoff = self.backoff.saturating_mul(2).min(self.max_backoff);
                true
            }
        }
    }
}

/// A connection that publishes readings.
#[derive(Clone, Debug)]
pub struct Publisher {
    client: Client,
    topic_template: String,
    retain: bool,
}

impl Publisher {
    /// Connects (in the background, reconnecting with backoff) with `settings`; connection
    /// changes are sent to `status` as [`Event::Status`].
    pub fn start(
        settings: MqttSettings,
        topic_template: &str,
        retain: bool,
        status: mpsc::Sender<Event>,
    ) -> Publisher {
        let mut reconnect = Reconnect {
            broker: settings.broker(),
            backoff: INITIAL_BACKOFF,
            max_backoff: settings.max_backoff,
            status,
        };
        let client = match settings.version {
            MqttVersion::V311 => {
                let (client, mut event_loop) = AsyncClient::new(settings.client_options(), 4096);
                tokio::spawn(async move {
                    loop {
                        let polled = event_loop.poll().await;
                        let polled = polled
                            .map(|event| {
                                matches!(event, rumqttc::Event::Incoming(Packet::ConnAck(_)))
                            })
                            .map_err(|error| error.to_string());
                        if !reconnect.report(polled).await {
                            return;
                        }
                    }
                });
                Client::V311(client)
            }
            MqttVersion::V5 => {
                let (client, mut event_loop) =
                    AsyncClientV5::new(settings.client_options_v5(), 4096);
                tokio::spawn(async move {
                    loop {
                        let polled = event_loop.poll().await;
                        let polled = polled
                            .map(|event| {
                                matches!(event, rumqttc::v5::Event::Incoming(PacketV5::ConnAck(_)))
                            })
                            .map_err(|error| error.to_string());
                        if !reconnect.report(polled).await {
                            return;
                        }
                    }
                });
                Client::V5(client)
            }
        };
        Publisher {
            client,
            topic_template: topic_template.to_string(),
            retain,
        }
    }

    /// Queues the reading of `message` for publishing; returns its topic.
    pub async fn publish(&self, message: &Message) -> Result<String, String> {
        let reading = message.reading();
        let id = match reading.get("id") {
            Some(meterwire::ReadingValue::Text(id)) => id.clone(),
            _ => String::from("unknown"),
        };
        let topic = topic_for(&self.topic_template, &id, message.decoded.protocol.as_str());
        let payload = reading_json(&reading);
        let published = match &self.client {
            Client::V311(client) => client
                .publish(topic.as_str(), QoS::AtLeastOnce, self.retain, payload)
                .await
                .map_err(|error| error.to_string()),
            Client::V5(client) => client
                .publish(topic.as_str(), QoSV5::AtLeastOnce, self.retain, payload)
                .await
                .map_err(|error| error.to_string()),
        };
        published.map_err(|error| format!("cannot publish to {topic}: {error}"))?;
        Ok(topic)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics() {
        assert_eq!(
            topic_for("meterwire/{protocol}/{id}", "12345678", "coap"),
            "meterwire/coap/12345678"
        );
    }
}
