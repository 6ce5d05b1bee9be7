//! What the listeners yield: a decoded [`Message`] or a [`Failure`], each with where it came
//! from and when, and their NDJSON lines.
//!
//! A message line is the core's JSON model of the transport message (the CoAP or MQTT
//! envelope with its nested `payload`) with fields added in front: `received` (UTC, RFC 3339)
//! and `peer` (the meter's `IP:PORT` for CoAP, the broker for MQTT), and for MQTT `topic`,
//! `qos` and `retain`. A failure line has the same added fields and `error` (`kind`,
//! `offset`, `message`, as the core writes errors) in place of the model.

use std::net::SocketAddr;

use meterwire::{to_json, to_reading, Decoded, Error, Reading, RedactKey};

/// Where a message came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// A CoAP request from a meter.
    Coap {
        /// The meter's address and port.
        peer: SocketAddr,
    },
    /// An MQTT PUBLISH delivered by a broker.
    Mqtt {
        /// The broker (`HOST:PORT`).
        broker: String,
        /// The topic the message was published to.
        topic: String,
        /// Its QoS (0, 1 or 2).
        qos: u8,
        /// Whether the broker delivered it as a retained message.
        retain: bool,
    },
}

impl Source {
    /// The added fields of a line, without braces: `"received":…,"peer":…[,"topic":…]`.
    /// With a redaction key a meter's address becomes the pseudonym of its IP address and
    /// the topic's levels are redacted as in the model (the broker is not a meter's).
    fn fields(&self, received: &str, redact: Option<&RedactKey>) -> String {
        let text = |s: &str| serde_json::Value::from(s).to_string();
        match self {
            Source::Coap { peer } => format!(
                "\"received\":{},\"peer\":{}",
                text(received),
                text(&match redact {
                    Some(key) => key.pseudonym(&peer.ip().to_string()),
                    None => peer.to_string(),
                })
            ),
            Source::Mqtt {
                broker,
                topic,
                qos,
                retain,
            } => format!(
                "\"received\":{},\"peer\":{},\"topic\":{},\"qos\":{qos},\"retain\":{retain}",
                text(received),
                text(broker),
                text(&match redact {
                    Some(key) => meterwire::redact::path(topic, key),
                    None => topic.clone(),
                })
            ),
        }
    }

    /// The peer as printed: the meter's `IP:PORT`, or the broker.
    pub fn peer(&self) -> String {
        match self {
            Source::Coap { peer } => peer.to_string(),
            Source::Mqtt { broker, .. } => broker.clone(),
        }
    }
}

/// One decoded message.
#[derive(Clone, Debug)]
pub struct Message {
    /// When it arrived (UTC, RFC 3339).
    pub received: String,
    /// Where it came from.
    pub source: Source,
    /// The core's model of the transport message (CoAP or MQTT, with its nested payload).
    pub decoded: Decoded,
}

impl Message {
    /// The NDJSON line (no newline): the added fields, then the model's fields; `redact` is
    /// the key the model was decoded with, if any (the added fields are redacted alike).
    pub fn model_line(&self, redact: Option<&RedactKey>) -> String {
        splice(
            &self.source.fields(&self.received, redact),
            &to_json(&self.decoded),
        )
    }

    /// The flat reading of the carried frame, with `timestamp` = `received`.
    pub fn reading(&self) -> Reading {
        to_reading(&self.decoded, Some(&self.received))
    }

    /// The flat reading as one JSON object (no newline).
    pub fn reading_line(&self) -> String {
        reading_json(&self.reading())
    }

    /// The meter id the message names: the carried frame's `meter.id`, else `unknown`.
    pub fn meter_id(&self) -> String {
        match self.reading().get("id") {
            Some(meterwire::ReadingValue::Text(id)) => id.clone(),
            _ => String::from("unknown"),
        }
    }
}

/// A flat reading as one JSON object.
pub fn reading_json(reading: &Reading) -> String {
    serde_json::to_string(reading).unwrap_or_else(|_| String::from("{}"))
}

/// A message that could not be decoded, or a request the server does not take.
#[derive(Clone, Debug)]
pub struct Failure {
    /// When it arrived (UTC, RFC 3339).
    pub received: String,
    /// Where it came from.
    pub source: Source,
    /// The error object (`{"kind","offset","message"}`).
    pub error_json: String,
}

impl Failure {
    /// A failure from a core error.
    pub fn from_error(received: String, source: Source, error: &Error) -> Failure {
        Failure {
            received,
            source,
            error_json: meterwire::error_body_json(error),
        }
    }

    /// A failure of the listener's own (`kind` e.g. `method`, at byte `offset`).
    pub fn new(received: String, source: Source, kind: &str, offset: usize, text: &str) -> Failure {
        let error = serde_json::json!({ "kind": kind, "offset": offset, "message": text });
        Failure {
            received,
            source,
            error_json: error.to_string(),
        }
    }

    /// The NDJSON line (no newline): the added fields and `error` (`redact` as for
    /// [`Message::model_line`]).
    pub fn line(&self, redact: Option<&RedactKey>) -> String {
        format!(
            "{{{},\"error\":{}}}",
            self.source.fields(&self.received, redact),
            self.error_json
        )
    }
}

/// What a listener yields for each message it received.
#[derive(Clone, Debug)]
pub enum Event {
    /// A decoded message.
    Message(Box<Message>),
    /// A message that failed.
    Failure(Failure),
    /// A change of a connection (connected, lost, reconnecting), for people (stderr).
    Status(String),
}

/// `{fields,` + the object `model` without its opening brace.
fn splice(fields: &str, model: &str) -> String {
    match model.strip_prefix('{') {
        Some("}") | None => format!("{{{fields}}}"),
        Some(rest) => format!("{{{fields},{rest}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use meterwire::{decode, parse_hex, Options};

    #[test]
    fn lines_have_the_added_fields_first() {
        let frame = parse_hex(
            "68 15 15 68 08 05 72 78 56 34 12 2D 2C 01 07 2A 00 00 00 0C 13 67 45 23 01 0D 16",
        )
        .unwrap();
        let message = Message {
            received: "2026-12-07T00:00:00.000Z".into(),
            source: Source::Coap {
                peer: "127.0.0.1:5683".parse().unwrap(),
            },
            decoded: decode(&frame, &Options::default()).unwrap(),
        };
        let line = message.model_line(None);
        assert!(line.starts_with(
            "{\"received\":\"2026-12-07T00:00:00.000Z\",\"peer\":\"127.0.0.1:5683\",\"schema_version\""
        ));
        let value: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(value["meter"]["id"], "12345678");
        assert_eq!(message.meter_id(), "12345678");
        let reading: serde_json::Value = serde_json::from_str(&message.reading_line()).unwrap();
        assert_eq!(reading["total_m3"], 1234.567);
        assert_eq!(reading["timestamp"], "2026-12-07T00:00:00.000Z");
    }

    #[test]
    fn failure_line() {
        let failure = Failure::new(
            "t".into(),
            Source::Mqtt {
                broker: "b:1".into(),
                topic: "m/1".into(),
                qos: 1,
                retain: false,
            },
            "method",
            0,
            "GET",
        );
        let value: serde_json::Value = serde_json::from_str(&failure.line(None)).unwrap();
        assert_eq!(value["topic"], "m/1");
        assert_eq!(value["error"]["kind"], "method");
    }
}
