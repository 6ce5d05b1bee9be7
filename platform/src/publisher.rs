//! Publishes the flat reading of each decoded message as JSON to a broker: the shape
//! wmbusmeters' MQTT output gives Home Assistant, Node-RED or Telegraf.
//!
//! The topic is a template: `{id}` becomes the meter id of the carried frame (`unknown` when
//! it has none) and `{protocol}` the transport's protocol (`coap`, `mqtt`). Readings are
//! published with QoS 1 over a persistent session of its own (client id + `-pub`), so
//! readings queued while the broker is away are sent when it is back.

use rumqttc::{AsyncClient, QoS};
use tokio::sync::mpsc;

use crate::message::{reading_json, Event, Message};
use crate::mqtt_listener::{MqttSettings, INITIAL_BACKOFF};

/// The topic of a reading: `template` with `{id}` and `{protocol}` filled in.
pub fn topic_for(template: &str, meter_id: &str, protocol: &str) -> String {
    template
        .replace("{id}", meter_id)
        .replace("{protocol}", protocol)
}

/// A connection that publishes readings.
#[derive(Clone, Debug)]
pub struct Publisher {
    client: AsyncClient,
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
        let broker = settings.broker();
        let (client, mut event_loop) = AsyncClient::new(settings.client_options(), 4096);
        let max_backoff = settings.max_backoff;
        tokio::spawn(async move {
            let mut backoff = INITIAL_BACKOFF;
            loop {
                match event_loop.poll().await {
                    Ok(rumqttc::Event::Incoming(rumqttc::Packet::ConnAck(_))) => {
                        backoff = INITIAL_BACKOFF;
                        let text = format!("publish {broker}: connected");
                        if status.send(Event::Status(text)).await.is_err() {
                            return;
                        }
                    }
                    Ok(_) => {}
                    Err(error) => {
                        let text =
                            format!("publish {broker}: {error}; reconnecting in {backoff:?}");
                        if status.send(Event::Status(text)).await.is_err() {
                            return;
                        }
                        tokio::time::sleep(backoff).await;
                        backoff = backoff.saturating_mul(2).min(max_backoff);
                    }
                }
            }
        });
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
        self.client
            .publish(
                topic.as_str(),
                QoS::AtLeastOnce,
                self.retain,
                reading_json(&reading),
            )
            .await
            .map_err(|error| format!("cannot publish to {topic}: {error}"))?;
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
