//! `meterwire listen`: the platform side (crate `meterwire-platform`) on the command line.
//! A CoAP server and/or an MQTT subscriber print one NDJSON line per message; readings can
//! be published to a broker.

use std::io::{self, Write};
use std::path::PathBuf;

use clap::Args;
use meterwire::{Keys, Options};
use meterwire_platform::listen::{run, runtime, ListenConfig, PublishSettings};
use meterwire_platform::mqtt_listener::{parse_broker_url, MqttSettings};
use meterwire_platform::tls::TlsFiles;

/// Examples and output rules shown at the end of `meterwire listen --help`.
pub const LISTEN_EXAMPLES: &str = "\
Output:
  One NDJSON line per message on standard output: the decoded model of the CoAP or MQTT
  message (its frame nested in 'payload') with 'received' (UTC, RFC 3339) and 'peer' first,
  and for MQTT 'topic', 'qos' and 'retain'. With --reading, the flat reading of the carried
  frame instead. A message that fails prints {\"received\",\"peer\",...,\"error\":{...}} and the
  listener goes on. Connection changes go to standard error.

CoAP:
  POST/PUT from meters; CON gets a piggybacked ACK 2.04 Changed (4.00 Bad Request when the
  message fails to decode), NON a NON response. Retransmissions (same peer and message id
  within 247 s) are decoded once; Block1 uploads are reassembled (2.31 Continue per block),
  one per peer, Uri-Path and Request-Tag (RFC 9175), so a meter may send several at once.

MQTT:
  Subscribes with QoS 1 on a persistent session (--client-id, clean session off), so the
  broker queues messages while the listener is away; reconnects with backoff. Payloads are
  binary or hex text. --mqtt-version 5 speaks MQTT 5.0 (to --publish too): the session
  then has the longest expiry interval (none with --clean-session), and each PUBLISH's
  properties (content type, user properties, ...) show in the model's link.

TLS:
  mqtts://HOST[:PORT] (port 8883 by default) connects over TLS 1.2/1.3. The broker's
  certificate must chain to --ca FILE (PEM), or to the system's trusted CAs without it, and
  name HOST (DNS name or IP address). --client-cert/--client-key add a client certificate
  (mutual TLS). One set of TLS options serves every mqtts:// URL, --mqtt and --publish;
  --username/--password work over TLS as over TCP. A failed handshake (unknown CA, wrong
  name) is a line on standard error and the listener retries with backoff.

Examples:
  meterwire listen --coap 0.0.0.0:5683
  meterwire listen --mqtt mqtt://127.0.0.1:1883 --topic 'meters/#'
  meterwire listen --mqtt mqtts://broker.example:8883 --ca ca.pem --username u --password p
  meterwire listen --coap 0.0.0.0:5683 --mqtt mqtt://127.0.0.1:1883 \\
      --publish mqtt://127.0.0.1:1883 --publish-topic 'meterwire/{id}' --retain";

/// The options of `meterwire listen`.
#[derive(Debug, Args)]
pub struct ListenArgs {
    /// Serve CoAP on this UDP address (HOST:PORT, e.g. 0.0.0.0:5683).
    #[arg(long, value_name = "HOST:PORT")]
    coap: Option<String>,
    /// Subscribe to this broker (mqtt://HOST:PORT, or mqtts://HOST:PORT for TLS).
    #[arg(long, value_name = "URL")]
    mqtt: Option<String>,
    /// Topic filters to subscribe to (repeat for more).
    #[arg(long, value_name = "FILTER", default_value = "meters/#")]
    topic: Vec<String>,
    /// MQTT client id (fixed, so the broker keeps the session); readings are published as
    /// ID-pub.
    #[arg(long, value_name = "ID", default_value = "meterwire-listen")]
    client_id: String,
    /// MQTT user name (for --mqtt and --publish).
    #[arg(long, value_name = "NAME", requires = "password")]
    username: Option<String>,
    /// MQTT password.
    #[arg(long, value_name = "PASSWORD", requires = "username")]
    password: Option<String>,
    /// The MQTT version spoken to the brokers of --mqtt and --publish: 3.1.1 (the default)
    /// or 5 (5.0: a PUBLISH's properties show in the model).
    #[arg(long, value_name = "VERSION", default_value = "3.1.1", value_parser = crate::encode::parse_mqtt_version)]
    mqtt_version: meterwire::MqttVersion,
    /// CA certificates (PEM) that sign the broker's certificate, for every mqtts:// URL
    /// (--mqtt and --publish); without it, the system's trusted CAs.
    #[arg(long, value_name = "FILE")]
    ca: Option<PathBuf>,
    /// Client certificate (PEM) for mutual TLS on every mqtts:// URL.
    #[arg(long, value_name = "FILE", requires = "client_key")]
    client_cert: Option<PathBuf>,
    /// The client certificate's private key (PEM).
    #[arg(long, value_name = "FILE", requires = "client_cert")]
    client_key: Option<PathBuf>,
    /// Start a new MQTT session on each connection (messages sent while away are lost).
    #[arg(long)]
    clean_session: bool,
    /// Publish the flat reading of each decoded message to this broker (mqtt://HOST:PORT,
    /// or mqtts://HOST:PORT for TLS).
    #[arg(long, value_name = "URL")]
    publish: Option<String>,
    /// Topic of published readings: {id} is the meter id, {protocol} coap or mqtt.
    #[arg(long, value_name = "TEMPLATE", default_value = "meterwire/{id}")]
    publish_topic: String,
    /// Publish readings as retained messages.
    #[arg(long)]
    retain: bool,
    /// Print flat readings instead of models.
    #[arg(long)]
    reading: bool,
    /// Per-device keys: a file of ID=HEX lines (or one key, or ID=HEX,ID=HEX); '#' starts a
    /// comment line.
    #[arg(long, value_name = "FILE")]
    keys: Option<String>,
    /// Redact for sharing with third parties, as `decode --redact-key`: ids, addresses and
    /// topics in printed and published lines become keyed pseudonyms (HMAC-SHA256 under the
    /// bytes of FILE), a meter's IP address too; raw bytes are dropped.
    #[arg(long, value_name = "FILE", value_parser = crate::parse_redact_key)]
    redact_key: Option<meterwire::RedactKey>,
    /// The scheme encrypted payloads use (sm4-cbc, aes-128-ecb, ...; see decode --help).
    #[arg(long, value_name = "SCHEME", value_parser = crate::parse_cipher)]
    cipher: Option<meterwire::payload::cipher::PayloadCipher>,
}

/// Reads a `--keys` file: `ID=HEX` lines, blank lines and `#` comments.
fn read_keys(path: &str) -> Result<Keys, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    let entries: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .collect();
    Options::parse_keys(&entries.join(",")).map_err(|e| format!("{path}: {e}"))
}

/// The TLS files of `args` (for every `mqtts://` URL).
fn tls_files(args: &ListenArgs) -> TlsFiles {
    TlsFiles {
        ca: args.ca.clone(),
        client_cert: args.client_cert.clone(),
        client_key: args.client_key.clone(),
    }
}

/// The broker settings of `url` with the shared client options.
fn broker(args: &ListenArgs, url: &str, client_id: &str) -> Result<MqttSettings, String> {
    let mut settings = MqttSettings::from_url(url, client_id, &tls_files(args))?;
    settings.clean_session = args.clean_session;
    settings.version = args.mqtt_version;
    if let (Some(user), Some(password)) = (&args.username, &args.password) {
        settings.credentials = Some((user.clone(), password.clone()));
    }
    Ok(settings)
}

/// The configuration `args` give.
fn config(args: &ListenArgs) -> Result<ListenConfig, String> {
    if args.coap.is_none() && args.mqtt.is_none() {
        return Err("give --coap HOST:PORT and/or --mqtt mqtt://HOST:PORT".into());
    }
    let urls = [&args.mqtt, &args.publish];
    let any_tls = urls
        .into_iter()
        .flatten()
        .any(|url| parse_broker_url(url).is_ok_and(|broker| broker.tls));
    if !tls_files(args).is_empty() && !any_tls {
        return Err(
            "--ca, --client-cert and --client-key apply to mqtts:// URLs, and none is given".into(),
        );
    }
    let keys = match &args.keys {
        Some(path) => read_keys(path)?,
        None => Keys::None,
    };
    let mqtt = match &args.mqtt {
        Some(url) => Some((broker(args, url, &args.client_id)?, args.topic.clone())),
        None => None,
    };
    let publish = match &args.publish {
        Some(url) => Some(PublishSettings {
            broker: broker(args, url, &format!("{}-pub", args.client_id))?,
            topic: args.publish_topic.clone(),
            retain: args.retain,
        }),
        None => None,
    };
    Ok(ListenConfig {
        coap: args.coap.clone(),
        mqtt,
        publish,
        reading: args.reading,
        options: Options::default()
            .with_keys(keys)
            .with_payload_cipher(args.cipher)
            .with_redact(args.redact_key.clone()),
        ..ListenConfig::default()
    })
}

/// Runs `meterwire listen`: exit status 2 for bad options or a socket that cannot be
/// bound; otherwise it runs until killed.
pub fn listen(args: &ListenArgs) -> io::Result<u8> {
    let config = match config(args) {
        Ok(config) => config,
        Err(text) => {
            eprintln!("meterwire listen: {text}");
            return Ok(2);
        }
    };
    let runtime = runtime()?;
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let mut log = io::stderr();
    match runtime.block_on(run(config, &mut out, &mut log)) {
        Ok(()) => Ok(0),
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => Err(error),
        Err(error) => {
            let _ = writeln!(log, "meterwire listen: {error}");
            Ok(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_files_take_id_lines_and_comments() {
        let path = std::env::temp_dir().join(format!("meterwire-keys-{}.txt", std::process::id()));
        std::fs::write(
            &path,
            "# keys\n860000000000001=000102030405060708090A0B0C0D0E0F\n\n12345678 = 0F0E0D0C0B0A09080706050403020100\n",
        )
        .unwrap();
        let keys = read_keys(path.to_str().unwrap()).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert!(keys.for_meter("860000000000001").is_some());
        assert!(keys.for_meter("12345678").is_some());
        assert!(keys.for_meter("1").is_none());
        assert!(read_keys("/nonexistent/keys.txt").is_err());
    }

    fn args(list: &[&str]) -> ListenArgs {
        use clap::Parser;
        #[derive(Parser)]
        struct Command {
            #[command(flatten)]
            listen: ListenArgs,
        }
        let argv = std::iter::once("listen").chain(list.iter().copied());
        Command::try_parse_from(argv).unwrap().listen
    }

    fn test_ca() -> String {
        format!(
            "{}/../platform/tests/data/test-ca.pem",
            env!("CARGO_MANIFEST_DIR")
        )
    }

    #[test]
    fn tls_options_apply_to_mqtts_urls() {
        let ca = test_ca();
        let config = config(&args(&[
            "--mqtt",
            "mqtts://127.0.0.1:8884",
            "--publish",
            "mqtt://127.0.0.1:1883",
            "--ca",
            &ca,
            "--username",
            "u",
            "--password",
            "p",
        ]))
        .unwrap();
        let (listener, _topics) = config.mqtt.unwrap();
        assert_eq!((listener.host.as_str(), listener.port), ("127.0.0.1", 8884));
        assert!(listener.tls.is_some());
        assert_eq!(listener.credentials, Some(("u".into(), "p".into())));
        assert_eq!(listener.version, meterwire::MqttVersion::V311);
        let publisher = config.publish.unwrap().broker;
        assert!(publisher.tls.is_none());
        assert_eq!(publisher.credentials, Some(("u".into(), "p".into())));
    }

    #[test]
    fn mqtt_version_applies_to_both_connections() {
        let config = config(&args(&[
            "--mqtt",
            "mqtt://127.0.0.1",
            "--publish",
            "mqtt://127.0.0.1",
            "--mqtt-version",
            "5",
        ]))
        .unwrap();
        assert_eq!(config.mqtt.unwrap().0.version, meterwire::MqttVersion::V5);
        assert_eq!(
            config.publish.unwrap().broker.version,
            meterwire::MqttVersion::V5
        );
    }

    #[test]
    fn tls_options_without_mqtts_are_refused() {
        let ca = test_ca();
        let error = config(&args(&["--mqtt", "mqtt://127.0.0.1", "--ca", &ca])).unwrap_err();
        assert!(error.contains("apply to mqtts://"), "{error}");
        let error = config(&args(&[
            "--mqtt",
            "mqtts://127.0.0.1",
            "--ca",
            "/nonexistent/ca.pem",
        ]))
        .unwrap_err();
        assert!(
            error.contains("cannot read CA file /nonexistent/ca.pem"),
            "{error}"
        );
    }
}
