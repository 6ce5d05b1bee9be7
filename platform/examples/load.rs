//! A bounded load test over loopback: N simulated meters each send one CoAP CON (an M-Bus
//! frame) to an in-process CoAP server and one MQTT PUBLISH (a CJ/T 188 frame, hex text) via
//! a real broker to an in-process subscriber; every message must be decoded exactly once.
//!
//! ```text
//! cargo run -p meterwire-platform --example load -- --mqtt mqtt://127.0.0.1:1883 --meters 1000
//! ```
//!
//! Prints the messages per second and exits 1 when a message is lost, decoded twice or
//! fails, or when it does not finish within the time limit (25 s).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use meterwire::coap::{build, uri_path_options, CoapCode, CoapType};
use meterwire::Options;
use meterwire_platform::coap_server::{CoapServer, ServerSettings};
use meterwire_platform::listen::runtime;
use meterwire_platform::mqtt_listener::{subscribe, MqttSettings};
use meterwire_platform::tls::TlsFiles;
use meterwire_platform::Event;
use rumqttc::{AsyncClient, QoS};
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, Semaphore};

const LIMIT: Duration = Duration::from_secs(25);
const MQTT_CONNECTIONS: usize = 10;

/// Two BCD digits of `value % 100`.
fn bcd(value: u64) -> u8 {
    (((value / 10 % 10) << 4) | (value % 10)) as u8
}

/// The M-Bus RSP_UD of the brief with meter id `id` (8 digits) and its checksum.
fn mbus_frame(id: u64) -> Vec<u8> {
    let mut frame = vec![0x68, 0x15, 0x15, 0x68, 0x08, 0x05, 0x72];
    frame.extend((0..4).map(|i| bcd(id / 100u64.pow(i))));
    frame.extend([
        0x2D, 0x2C, 0x01, 0x07, 0x2A, 0x00, 0x00, 0x00, 0x0C, 0x13, 0x67, 0x45, 0x23, 0x01,
    ]);
    let checksum = frame[4..].iter().fold(0u8, |s, b| s.wrapping_add(*b));
    frame.extend([checksum, 0x16]);
    frame
}

/// The CJ/T 188 reply of the brief with address `00010000000000 + id` (14 digits).
fn cjt188_frame(id: u64) -> Vec<u8> {
    let address = 10_000_000_000 + id;
    let mut frame = vec![0x68, 0x10];
    frame.extend((0..7).map(|i| bcd(address / 100u64.pow(i))));
    frame.extend([
        0x81, 0x16, 0x90, 0x1F, 0x01, 0x56, 0x34, 0x12, 0x00, 0x2C, 0x00, 0x00, 0x12, 0x00, 0x2C,
        0x00, 0x30, 0x08, 0x15, 0x03, 0x25, 0x20, 0x00, 0x00,
    ]);
    let checksum = frame.iter().fold(0u8, |s, b| s.wrapping_add(*b));
    frame.extend([checksum, 0x16]);
    let mut with_preamble = vec![0xFE, 0xFE];
    with_preamble.extend(frame);
    with_preamble
}

/// One meter's CON exchange: retransmitted (1 s, 4 times) until the ACK comes.
async fn coap_meter(server: std::net::SocketAddr, id: u64) -> bool {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let message_id = (id & 0xFFFF) as u16;
    let request = build(
        CoapType::Con,
        CoapCode(0x02),
        message_id,
        &id.to_be_bytes()[4..],
        uri_path_options("/t/d"),
        &mbus_frame(id),
    )
    .unwrap();
    let mut buffer = [0u8; 256];
    for _ in 0..5 {
        socket.send_to(&request, server).await.unwrap();
        let reply = tokio::time::timeout(Duration::from_secs(1), socket.recv_from(&mut buffer));
        if let Ok(Ok((length, _))) = reply.await {
            return length >= 4 && buffer[1] == 0x44;
        }
    }
    false
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let value = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1).cloned())
    };
    let url = value("--mqtt").unwrap_or_else(|| "mqtt://127.0.0.1:1883".into());
    let meters: u64 = value("--meters").map_or(1000, |n| n.parse().unwrap());
    runtime().unwrap().block_on(run(url, meters))
}

async fn run(url: String, meters: u64) -> ExitCode {
    let run_id = std::process::id();
    let (sender, mut events) = mpsc::channel::<Event>(8192);
    let server = CoapServer::bind("127.0.0.1:0", Options::default(), ServerSettings::default())
        .await
        .unwrap();
    let coap_address = server.local_addr().unwrap();
    tokio::spawn(server.run(sender.clone()));
    let mut settings = MqttSettings::from_url(
        &url,
        &format!("meterwire-load-{run_id}"),
        &TlsFiles::default(),
    )
    .unwrap();
    settings.clean_session = true;
    let prefix = format!("load/{run_id}");
    tokio::spawn(subscribe(
        settings.clone(),
        vec![format!("{prefix}/#")],
        Options::default(),
        sender,
    ));

    // Publishing connections (each a gateway of meters/MQTT_CONNECTIONS meters).
    let mut clients = Vec::new();
    for n in 0..MQTT_CONNECTIONS {
        let mut publisher = settings.clone();
        publisher.client_id = format!("meterwire-load-{run_id}-meters-{n}");
        let (client, mut event_loop) = AsyncClient::new(publisher.client_options(), 2048);
        tokio::spawn(async move {
            loop {
                if event_loop.poll().await.is_err() {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        });
        clients.push(client);
    }

    // Wait until the subscription delivers (probe messages, bounded).
    let probe_topic = format!("{prefix}/probe");
    let deadline = Instant::now() + Duration::from_secs(10);
    'probe: loop {
        if Instant::now() > deadline {
            eprintln!("load: the subscription never delivered a probe");
            return ExitCode::FAILURE;
        }
        clients[0]
            .publish(probe_topic.as_str(), QoS::AtLeastOnce, false, "probe")
            .await
            .unwrap();
        let wait = tokio::time::sleep(Duration::from_millis(300));
        tokio::pin!(wait);
        loop {
            tokio::select! {
                Some(event) = events.recv() => {
                    if let Event::Message(m) = &event {
                        if matches!(&m.source, meterwire_platform::Source::Mqtt { topic, .. } if topic == &probe_topic) {
                            break 'probe;
                        }
                    }
                }
                () = &mut wait => break,
            }
        }
    }
    // Late probe deliveries are ignored below (topic filter).

    let start = Instant::now();
    let limiter = Arc::new(Semaphore::new(200));
    let mut coap_tasks = tokio::task::JoinSet::new();
    for id in 0..meters {
        let limiter = Arc::clone(&limiter);
        coap_tasks.spawn(async move {
            let _permit = limiter.acquire_owned().await.unwrap();
            coap_meter(coap_address, 10_000_000 + id).await
        });
    }
    for id in 0..meters {
        let client = clients[id as usize % MQTT_CONNECTIONS].clone();
        let topic = format!("{prefix}/{id}");
        let payload = meterwire::hex::to_hex(&cjt188_frame(id));
        tokio::spawn(async move {
            client
                .publish(topic, QoS::AtLeastOnce, false, payload)
                .await
                .unwrap();
        });
    }

    let mut coap_seen: HashMap<String, u32> = HashMap::new();
    let mut mqtt_seen: HashMap<String, u32> = HashMap::new();
    let mut failures = 0u32;
    let expected = meters as usize;
    let deadline = tokio::time::Instant::now() + LIMIT;
    let mut decoded = 0usize;
    while coap_seen.len() < expected || mqtt_seen.len() < expected {
        let event = match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Some(event)) => event,
            _ => break,
        };
        match event {
            Event::Message(message) => {
                let id = message.meter_id();
                match &message.source {
                    meterwire_platform::Source::Coap { .. } => {
                        *coap_seen.entry(id).or_default() += 1;
                    }
                    meterwire_platform::Source::Mqtt { topic, .. } if topic != &probe_topic => {
                        *mqtt_seen.entry(id).or_default() += 1;
                    }
                    meterwire_platform::Source::Mqtt { .. } => continue,
                }
                decoded += 1;
            }
            Event::Failure(failure) => {
                eprintln!("load: failure {}", failure.line(None));
                failures += 1;
            }
            Event::Status(_) => {}
        }
    }
    let elapsed = start.elapsed();
    let mut acked = 0;
    while let Some(joined) = coap_tasks.join_next().await {
        acked += usize::from(joined.unwrap_or(false));
    }
    // Any late duplicate shows within a short grace period.
    let grace = tokio::time::Instant::now() + Duration::from_millis(300);
    while let Ok(Some(event)) = tokio::time::timeout_at(grace, events.recv()).await {
        if let Event::Message(message) = event {
            let id = message.meter_id();
            match &message.source {
                meterwire_platform::Source::Coap { .. } => *coap_seen.entry(id).or_default() += 1,
                meterwire_platform::Source::Mqtt { topic, .. } if topic != &probe_topic => {
                    *mqtt_seen.entry(id).or_default() += 1
                }
                _ => {}
            }
        }
    }
    let duplicates = coap_seen
        .values()
        .chain(mqtt_seen.values())
        .filter(|n| **n > 1)
        .count();
    let coap_ids_ok =
        (0..meters).all(|id| coap_seen.get(&(10_000_000 + id).to_string()) == Some(&1));
    let mqtt_ids_ok =
        (0..meters).all(|id| mqtt_seen.get(&format!("{:014}", 10_000_000_000 + id)) == Some(&1));
    let seconds = elapsed.as_secs_f64();
    println!(
        "load: {meters} meters, {decoded} messages decoded in {seconds:.2} s = {:.0} messages/s \
         (CoAP {} decoded, {acked} ACKed; MQTT {} decoded; duplicates {duplicates}, failures {failures})",
        decoded as f64 / seconds,
        coap_seen.len(),
        mqtt_seen.len(),
    );
    if coap_ids_ok && mqtt_ids_ok && duplicates == 0 && failures == 0 && acked == expected {
        println!("load: every message decoded exactly once, none lost");
        ExitCode::SUCCESS
    } else {
        println!("load: FAILED (coap ids ok: {coap_ids_ok}, mqtt ids ok: {mqtt_ids_ok})");
        ExitCode::FAILURE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_match_the_brief() {
        assert_eq!(
            meterwire::hex::to_hex(&mbus_frame(12_345_678)),
            "68151568080572785634122D2C01072A0000000C13674523010D16"
        );
        assert_eq!(
            meterwire::hex::to_hex(&cjt188_frame(12_345_678)),
            "FEFE6810785634120001008116901F01563412002C000012002C0030081503252000006F16"
        );
    }
}
