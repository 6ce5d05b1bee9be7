//! The CoAP server over loopback: a real tokio server, and a client written with std's
//! `UdpSocket` and the core's `coap::build`. Every wait is bounded.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::{SocketAddr, UdpSocket};
use std::sync::mpsc::{channel, Receiver};
use std::time::Duration;

use meterwire::coap::{build, uint_value, uri_path_options, CoapCode, CoapType};
use meterwire::{decode, parse_hex, Options, Protocol};
use meterwire_platform::coap_server::{CoapServer, ServerSettings};
use meterwire_platform::listen::runtime;
use meterwire_platform::Event;

const CJT188: &str = "FEFE6810785634120001008116901F01563412002C000012002C0030081503252000006F16";
const MBUS: &str =
    "68 15 15 68 08 05 72 78 56 34 12 2D 2C 01 07 2A 00 00 00 0C 13 67 45 23 01 0D 16";
const WAIT: Duration = Duration::from_secs(5);

struct Server {
    address: SocketAddr,
    events: Receiver<Event>,
}

impl Server {
    fn start() -> Server {
        Server::start_with(Options::default())
    }

    fn start_with(options: Options) -> Server {
        let (address_sender, address) = channel();
        let (event_sender, events) = channel();
        std::thread::spawn(move || {
            let runtime = runtime().unwrap();
            runtime.block_on(async move {
                let server = CoapServer::bind("127.0.0.1:0", options, ServerSettings::default())
                    .await
                    .unwrap();
                address_sender.send(server.local_addr().unwrap()).unwrap();
                let (sender, mut receiver) = tokio::sync::mpsc::channel(64);
                tokio::spawn(server.run(sender));
                while let Some(event) = receiver.recv().await {
                    if event_sender.send(event).is_err() {
                        return;
                    }
                }
            });
        });
        Server {
            address: address.recv_timeout(WAIT).unwrap(),
            events,
        }
    }

    fn next_event(&self) -> Event {
        self.events.recv_timeout(WAIT).expect("an event within 5 s")
    }

    fn no_event(&self) {
        assert!(self
            .events
            .recv_timeout(Duration::from_millis(300))
            .is_err());
    }
}

fn client() -> UdpSocket {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.set_read_timeout(Some(WAIT)).unwrap();
    socket
}

/// Sends `request` and returns the reply's CoAP model.
fn exchange(socket: &UdpSocket, server: &Server, request: &[u8]) -> meterwire::Decoded {
    socket.send_to(request, server.address).unwrap();
    let mut buffer = [0u8; 1500];
    let (length, _) = socket.recv_from(&mut buffer).expect("a reply within 5 s");
    let options = Options::default().with_protocol(Some(Protocol::Coap));
    decode(&buffer[..length], &options).unwrap()
}

fn post(message_type: CoapType, message_id: u16, token: &[u8], payload: &[u8]) -> Vec<u8> {
    build(
        message_type,
        CoapCode(0x02),
        message_id,
        token,
        uri_path_options("/t/d"),
        payload,
    )
    .unwrap()
}

fn message_json(event: Event) -> serde_json::Value {
    match event {
        Event::Message(message) => serde_json::from_str(&message.model_line(None)).unwrap(),
        other => panic!("expected a message, got {other:?}"),
    }
}

#[test]
fn con_post_gets_a_piggybacked_ack_and_is_decoded() {
    let server = Server::start();
    let socket = client();
    let request = post(
        CoapType::Con,
        0x1001,
        &[0xA1, 0xB2],
        &parse_hex(MBUS).unwrap(),
    );
    let reply = exchange(&socket, &server, &request);
    let link = reply.coap_link().unwrap();
    assert_eq!(link.message_type, CoapType::Ack);
    assert_eq!(link.code.to_string(), "2.04");
    assert_eq!(link.message_id, 0x1001);
    assert_eq!(link.token.as_slice(), &[0xA1, 0xB2]);
    let line = message_json(server.next_event());
    assert_eq!(line["peer"], socket.local_addr().unwrap().to_string());
    assert!(line["received"].as_str().unwrap().ends_with('Z'));
    assert_eq!(line["link"]["type"], "CON");
    assert_eq!(line["payload"]["protocol"], "mbus");
    assert_eq!(line["payload"]["meter"]["id"], "12345678");
    assert_eq!(line["payload"]["records"][0]["exact"], "1234.567");
    assert_eq!(line["payload"]["records"][0]["unit"], "m3");
}

#[test]
fn non_post_gets_a_non_response_and_is_decoded() {
    let server = Server::start();
    let socket = client();
    let request = post(CoapType::Non, 0x2002, &[0x07], &parse_hex(CJT188).unwrap());
    let reply = exchange(&socket, &server, &request);
    let link = reply.coap_link().unwrap();
    assert_eq!(link.message_type, CoapType::Non);
    assert_eq!(link.code.to_string(), "2.04");
    assert_eq!(link.token.as_slice(), &[0x07]);
    let line = message_json(server.next_event());
    assert_eq!(line["payload"]["protocol"], "cjt188");
    assert_eq!(line["payload"]["meter"]["id"], "00010012345678");
    assert_eq!(line["payload"]["records"][0]["exact"], "1234.56");
}

#[test]
fn retransmissions_are_decoded_once_and_get_the_same_ack() {
    let server = Server::start();
    let socket = client();
    let request = post(CoapType::Con, 0x3003, &[0x01], &parse_hex(MBUS).unwrap());
    let first = exchange(&socket, &server, &request);
    let again = exchange(&socket, &server, &request);
    assert_eq!(first.coap_link(), again.coap_link());
    message_json(server.next_event());
    server.no_event();
    // A new message id from the same peer is a new message.
    let next = post(CoapType::Con, 0x3004, &[0x01], &parse_hex(MBUS).unwrap());
    exchange(&socket, &server, &next);
    message_json(server.next_event());
}

#[test]
fn block1_uploads_are_reassembled() {
    let server = Server::start();
    let socket = client();
    let frame = parse_hex(CJT188).unwrap();
    let blocks: Vec<&[u8]> = frame.chunks(16).collect();
    assert_eq!(blocks.len(), 3);
    for (num, block) in blocks.iter().enumerate() {
        let more = num + 1 < blocks.len();
        let value = (num as u64) << 4 | u64::from(more) << 3; // SZX 0: 16 bytes
        let mut options = uri_path_options("/t/d");
        options.push((27, uint_value(value)));
        let message_id = 0x4000 + num as u16;
        let request = build(
            CoapType::Con,
            CoapCode(0x02),
            message_id,
            &[0x0B],
            options,
            block,
        )
        .unwrap();
        let reply = exchange(&socket, &server, &request);
        let link = reply.coap_link().unwrap();
        assert_eq!(link.message_id, message_id);
        let block1 = link.options.iter().find(|o| o.number == 27).unwrap();
        assert_eq!(block1.block.as_ref().unwrap().num, num as u32);
        if more {
            assert_eq!(link.code.to_string(), "2.31");
            server.no_event();
        } else {
            assert_eq!(link.code.to_string(), "2.04");
        }
    }
    let line = message_json(server.next_event());
    assert_eq!(line["payload"]["meter"]["id"], "00010012345678");
    assert_eq!(line["payload"]["records"][0]["exact"], "1234.56");
    assert!(line["link"]["options"]
        .as_array()
        .unwrap()
        .iter()
        .all(|o| o["number"] != 27));
}

#[test]
fn bad_messages_are_failures_and_the_server_goes_on() {
    // Payloads encrypted with AES-128-CBC (PKCS#7): a block the key does not open.
    let cipher = meterwire::payload::cipher::PayloadCipher::parse("aes-128-cbc").unwrap();
    let key = meterwire::Key::parse("000102030405060708090A0B0C0D0E0F").unwrap();
    let options = Options::default()
        .with_payload_cipher(Some(cipher))
        .with_key(key);
    let server = Server::start_with(options.clone());
    let socket = client();
    let request = post(CoapType::Con, 0x5005, &[], &[0u8; 16]);
    let reply = exchange(&socket, &server, &request);
    assert_eq!(reply.coap_link().unwrap().code.to_string(), "4.00");
    match server.next_event() {
        Event::Failure(failure) => {
            let line: serde_json::Value = serde_json::from_str(&failure.line(None)).unwrap();
            assert_eq!(line["peer"], socket.local_addr().unwrap().to_string());
            assert!(line["error"]["kind"].is_string());
        }
        other => panic!("expected a failure, got {other:?}"),
    }
    let server = Server::start();
    // Not CoAP at all (version 0): a failure line, no reply.
    socket.send_to(&[0x00, 0x01], server.address).unwrap();
    assert!(matches!(server.next_event(), Event::Failure(_)));
    // A GET: 4.05.
    let get = build(CoapType::Con, CoapCode(0x01), 0x5006, &[], Vec::new(), &[]).unwrap();
    let reply = exchange(&socket, &server, &get);
    assert_eq!(reply.coap_link().unwrap().code.to_string(), "4.05");
    assert!(matches!(server.next_event(), Event::Failure(_)));
    // The server still decodes.
    let request = post(CoapType::Con, 0x5007, &[], &parse_hex(MBUS).unwrap());
    assert_eq!(
        exchange(&socket, &server, &request)
            .coap_link()
            .unwrap()
            .code
            .to_string(),
        "2.04"
    );
    let line = message_json(server.next_event());
    assert_eq!(line["payload"]["meter"]["id"], "12345678");
}

/// A CON POST to `/t/d` carrying one Block1 block, written byte by byte (RFC 7252 §3, §3.1;
/// RFC 7959 §2.2; RFC 9175 §3.2): header `0x41` (version 1, CON, token length 1), code
/// `0x02` (0.02 POST), the message id, a one-byte token; options in number order as
/// delta/length nibbles: Uri-Path 11 `0xB1 't'`, Uri-Path again `0x01 'd'`, Block1 27
/// (delta 16: nibble 13, then 16 - 13 = 3) `0xD1 0x03 value`, and each Request-Tag 292
/// (delta 265 from 27, then 0 from the previous tag: nibble 13 with 265 - 13 = 0xFC, or
/// nibble 0); then the payload marker `0xFF` and the block.
fn block1_by_hand(
    message_id: u16,
    token: u8,
    block_value: u8,
    request_tags: &[&[u8]],
    block: &[u8],
) -> Vec<u8> {
    let mut message = vec![0x41, 0x02];
    message.extend_from_slice(&message_id.to_be_bytes());
    message.extend_from_slice(&[token, 0xB1, b't', 0x01, b'd', 0xD1, 0x03, block_value]);
    for (index, tag) in request_tags.iter().enumerate() {
        assert!(tag.len() <= 8, "a Request-Tag is 0 to 8 bytes");
        if index == 0 {
            message.extend_from_slice(&[0xD0 | tag.len() as u8, 0xFC]);
        } else {
            message.push(tag.len() as u8);
        }
        message.extend_from_slice(tag);
    }
    message.push(0xFF);
    message.extend_from_slice(block);
    message
}

/// The Block1 option value of block `num` of 16 bytes (SZX 0): NUM << 4 | M << 3 | SZX.
fn block_value(num: u8, more: bool) -> u8 {
    num << 4 | u8::from(more) << 3
}

/// Sends one block and returns the reply's code (`2.31`, `2.04`, …).
fn send_block(socket: &UdpSocket, server: &Server, request: &[u8]) -> String {
    exchange(socket, server, request)
        .coap_link()
        .unwrap()
        .code
        .to_string()
}

#[test]
fn hand_built_block1_messages_match_the_codec() {
    // The bytes written by hand are the ones the core's encoder writes for the same request.
    let mut options = uri_path_options("/t/d");
    options.push((27, uint_value(0x18)));
    options.push((292, vec![0xA1]));
    options.push((292, Vec::new()));
    let built = build(
        CoapType::Con,
        CoapCode(0x02),
        0x6001,
        &[0x0C],
        options,
        b"abc",
    )
    .unwrap();
    assert_eq!(
        block1_by_hand(0x6001, 0x0C, 0x18, &[&[0xA1], &[]], b"abc"),
        built
    );
    let decoded = decode(
        &built,
        &Options::default().with_protocol(Some(Protocol::Coap)),
    )
    .unwrap();
    let numbers: Vec<u16> = decoded
        .coap_link()
        .unwrap()
        .options
        .iter()
        .map(|o| o.number)
        .collect();
    assert_eq!(numbers, [11, 11, 27, 292, 292]);
}

#[test]
fn concurrent_block1_uploads_from_one_peer_are_told_apart_by_request_tag() {
    let server = Server::start();
    let socket = client();
    let cjt188 = parse_hex(CJT188).unwrap(); // 37 bytes: blocks of 16, 16, 5
    let mbus = parse_hex(MBUS).unwrap(); // 27 bytes: blocks of 16, 11
    let (a, b): (&[u8], &[u8]) = (&[0x0A], &[0x0B]);
    // Interleaved: A0 B0 A1 B1 (B complete) A2 (A complete), same peer and Uri-Path.
    let a0 = block1_by_hand(0x7000, 1, block_value(0, true), &[a], &cjt188[..16]);
    assert_eq!(send_block(&socket, &server, &a0), "2.31");
    let b0 = block1_by_hand(0x7001, 2, block_value(0, true), &[b], &mbus[..16]);
    assert_eq!(send_block(&socket, &server, &b0), "2.31");
    let a1 = block1_by_hand(0x7002, 1, block_value(1, true), &[a], &cjt188[16..32]);
    assert_eq!(send_block(&socket, &server, &a1), "2.31");
    server.no_event();
    let b1 = block1_by_hand(0x7003, 2, block_value(1, false), &[b], &mbus[16..]);
    assert_eq!(send_block(&socket, &server, &b1), "2.04");
    let line = message_json(server.next_event());
    assert_eq!(line["payload"]["protocol"], "mbus");
    assert_eq!(line["payload"]["meter"]["id"], "12345678");
    assert_eq!(line["payload"]["records"][0]["exact"], "1234.567");
    // The reassembled message keeps its Request-Tag, not its Block1.
    let options = line["link"]["options"].as_array().unwrap();
    assert!(options.iter().all(|o| o["number"] != 27));
    assert!(options
        .iter()
        .any(|o| o["number"] == 292 && o["name"] == "Request-Tag"));
    let a2 = block1_by_hand(0x7004, 1, block_value(2, false), &[a], &cjt188[32..]);
    assert_eq!(send_block(&socket, &server, &a2), "2.04");
    let line = message_json(server.next_event());
    assert_eq!(line["payload"]["protocol"], "cjt188");
    assert_eq!(line["payload"]["meter"]["id"], "00010012345678");
    assert_eq!(line["payload"]["records"][0]["exact"], "1234.56");
    server.no_event();
}

#[test]
fn no_request_tag_and_an_empty_one_are_different_uploads() {
    let server = Server::start();
    let socket = client();
    let mbus = parse_hex(MBUS).unwrap();
    let untagged = block1_by_hand(0x7100, 1, block_value(0, true), &[], &mbus[..16]);
    assert_eq!(send_block(&socket, &server, &untagged), "2.31");
    let empty_tag = block1_by_hand(0x7101, 2, block_value(0, true), &[&[]], &mbus[..16]);
    assert_eq!(send_block(&socket, &server, &empty_tag), "2.31");
    let untagged = block1_by_hand(0x7102, 1, block_value(1, false), &[], &mbus[16..]);
    assert_eq!(send_block(&socket, &server, &untagged), "2.04");
    assert_eq!(
        message_json(server.next_event())["payload"]["meter"]["id"],
        "12345678"
    );
    let empty_tag = block1_by_hand(0x7103, 2, block_value(1, false), &[&[]], &mbus[16..]);
    assert_eq!(send_block(&socket, &server, &empty_tag), "2.04");
    assert_eq!(
        message_json(server.next_event())["payload"]["meter"]["id"],
        "12345678"
    );
    // A block of an upload nobody started (another tag): 4.08 and a failure line.
    let stray = block1_by_hand(0x7104, 3, block_value(1, false), &[&[0x99]], &mbus[16..]);
    assert_eq!(send_block(&socket, &server, &stray), "4.08");
    assert!(matches!(server.next_event(), Event::Failure(_)));
}
