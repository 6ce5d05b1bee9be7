//! A CoAP server over UDP (RFC 7252) for meter uploads: POST and PUT requests whose payload
//! the core decodes.
//!
//! Every datagram is parsed by the core's checked view ([`meterwire::coap::link`]) and
//! decoded by [`meterwire::decode`]; every reply is built by [`meterwire::coap::build`]. The
//! core's codec is used rather than a CoAP crate because the server needs exactly what it
//! already checks (header, token, options, payload marker, the RFC 7959 Block options) and
//! the decoded model must be the one `meterwire decode` prints for the same bytes; a CoAP
//! crate would parse each message a second time into another model and add a dependency
//! tree for resource routing and client code the server does not use.
//!
//! Behaviour:
//!
//! * CON POST/PUT → piggybacked ACK `2.04 Changed` (same message id and token), or
//!   `4.00 Bad Request` when the message fails to decode; NON POST/PUT → a NON response with
//!   the same code (RFC 7252 §5.2.3), so clients waiting for one return at once.
//! * Other methods → `4.05 Method Not Allowed` and a failure line. A CON empty message (CoAP
//!   ping) → RST. ACK and RST from peers are ignored. A datagram that is not a CoAP message →
//!   a failure line (and RST when its header says CON).
//! * Retransmissions: a (peer, message id) seen within `EXCHANGE_LIFETIME` (247 s) is not
//!   decoded again; a CON gets the reply it got the first time. The cache is bounded
//!   ([`ServerSettings::dedupe_capacity`], oldest dropped first).
//! * Block1 (RFC 7959): blocks of one upload (same peer, Uri-Path and Request-Tag options,
//!   RFC 9175 §3) are collected in order and answered `2.31 Continue` (echoing the Block1
//!   option), so one peer may send several uploads at once when it tags them apart (no
//!   Request-Tag is a tag of its own, distinct from an empty one); the last block completes the
//!   body, which is decoded as one message (the last block's header and options, Block1 and
//!   Size1 left out). A block out of order → `4.08 Request Entity Incomplete`; a body over
//!   [`ServerSettings::max_body`] → `4.13 Request Entity Too Large`.

use std::collections::{HashMap, VecDeque};
use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use meterwire::coap::link::CoapMessage;
use meterwire::coap::{build, uint_value, CoapCode, CoapType};
use meterwire::{decode, Options, Protocol};
use tokio::net::{ToSocketAddrs, UdpSocket};
use tokio::sync::mpsc;

use crate::message::{Event, Failure, Message, Source};
use crate::time::now_rfc3339;

/// RFC 7252 §4.8.2 EXCHANGE_LIFETIME with the default transmission parameters.
pub const EXCHANGE_LIFETIME: Duration = Duration::from_secs(247);

/// Option numbers the server reads or writes.
mod option {
    /// Uri-Path.
    pub const URI_PATH: u16 = 11;
    /// Block1 (RFC 7959).
    pub const BLOCK1: u16 = 27;
    /// Size1 (RFC 7959).
    pub const SIZE1: u16 = 60;
    /// Request-Tag (RFC 9175 §3.2): repeatable, opaque, 0 to 8 bytes.
    pub const REQUEST_TAG: u16 = 292;
}

/// Codes the server answers with (`class << 5 | detail`).
mod code {
    /// 0.00 empty message.
    pub const EMPTY: u8 = 0x00;
    /// 0.02 POST.
    pub const POST: u8 = 0x02;
    /// 0.03 PUT.
    pub const PUT: u8 = 0x03;
    /// 2.04 Changed.
    pub const CHANGED: u8 = 0x44;
    /// 2.31 Continue.
    pub const CONTINUE: u8 = 0x5F;
    /// 4.00 Bad Request.
    pub const BAD_REQUEST: u8 = 0x80;
    /// 4.05 Method Not Allowed.
    pub const METHOD_NOT_ALLOWED: u8 = 0x85;
    /// 4.08 Request Entity Incomplete.
    pub const INCOMPLETE: u8 = 0x88;
    /// 4.13 Request Entity Too Large.
    pub const TOO_LARGE: u8 = 0x8D;
}

/// Limits of the server.
#[derive(Clone, Debug)]
pub struct ServerSettings {
    /// The most (peer, message id) pairs remembered for de-duplication.
    pub dedupe_capacity: usize,
    /// How long a (peer, message id) pair is remembered.
    pub exchange_lifetime: Duration,
    /// The largest Block1 body reassembled, in bytes.
    pub max_body: usize,
    /// The most Block1 uploads in progress at once (oldest dropped first).
    pub max_uploads: usize,
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            dedupe_capacity: 100_000,
            exchange_lifetime: EXCHANGE_LIFETIME,
            max_body: 64 * 1024,
            max_uploads: 1024,
        }
    }
}

/// What handling one datagram gives: a reply to send back and an event to report.
#[derive(Debug, Default)]
pub struct Handled {
    /// The datagram to send to the peer.
    pub reply: Option<Vec<u8>>,
    /// The decoded message or failure.
    pub event: Option<Event>,
}

/// A response code, its options and the event of a request.
type Response = (u8, Vec<(u16, Vec<u8>)>, Option<Event>);

/// A remembered exchange.
#[derive(Debug)]
struct Seen {
    at: Instant,
    reply: Option<Vec<u8>>,
}

/// (peer, message id) pairs seen within the exchange lifetime, bounded.
#[derive(Debug, Default)]
struct DedupeCache {
    seen: HashMap<(SocketAddr, u16), Seen>,
    order: VecDeque<((SocketAddr, u16), Instant)>,
}

impl DedupeCache {
    fn expire(&mut self, now: Instant, lifetime: Duration, capacity: usize) {
        while let Some(&(key, at)) = self.order.front() {
            let old = now.saturating_duration_since(at) >= lifetime;
            if !old && self.order.len() < capacity {
                break;
            }
            self.order.pop_front();
            if self.seen.get(&key).is_some_and(|s| s.at == at) {
                self.seen.remove(&key);
            }
        }
    }

    fn get(&self, key: &(SocketAddr, u16)) -> Option<&Seen> {
        self.seen.get(key)
    }

    fn insert(&mut self, key: (SocketAddr, u16), now: Instant, reply: Option<Vec<u8>>) {
        self.order.push_back((key, now));
        self.seen.insert(key, Seen { at: now, reply });
    }
}

/// What tells Block1 uploads apart: the peer, the Uri-Path and the Request-Tag options in
/// order (none at all is a key of its own, RFC 9175 §3.3).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct UploadKey {
    peer: SocketAddr,
    path: String,
    request_tags: Vec<Vec<u8>>,
}

impl UploadKey {
    fn of(request: &Request) -> UploadKey {
        let values = |number: u16| {
            request
                .options
                .iter()
                .filter(move |(n, _)| *n == number)
                .map(|(_, value)| value.as_slice())
        };
        let path: Vec<&[u8]> = values(option::URI_PATH).collect();
        UploadKey {
            peer: request.peer,
            path: String::from_utf8_lossy(&path.join(&b'/')).into_owned(),
            request_tags: values(option::REQUEST_TAG).map(<[u8]>::to_vec).collect(),
        }
    }
}

/// A Block1 upload in progress.
#[derive(Debug)]
struct Upload {
    body: Vec<u8>,
    next_block: u32,
    started: Instant,
}

/// The decoded value of a Block1/Block2 option.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Block {
    num: u32,
    more: bool,
    szx: u8,
}

impl Block {
    fn parse(value: &[u8]) -> Option<Block> {
        if value.len() > 3 {
            return None;
        }
        let raw = value.iter().fold(0u32, |acc, b| acc << 8 | u32::from(*b));
        let szx = u8::try_from(raw & 0x7).ok()?;
        Some(Block {
            num: raw >> 4,
            more: raw & 0x8 != 0,
            szx,
        })
    }

    fn size(self) -> usize {
        16usize << self.szx
    }

    fn value(self) -> Vec<u8> {
        uint_value(u64::from(self.num) << 4 | u64::from(self.more) << 3 | u64::from(self.szx))
    }
}

/// The request state of a server: de-duplication cache, uploads, settings and decoding
/// options. Handling is synchronous ([`CoapHandler::handle`]); [`CoapServer`] feeds it.
#[derive(Debug)]
pub struct CoapHandler {
    options: Options,
    settings: ServerSettings,
    dedupe: DedupeCache,
    uploads: HashMap<UploadKey, Upload>,
    next_message_id: u16,
}

/// The parts of a request the handler keeps after the borrow of the datagram ends.
struct Request {
    peer: SocketAddr,
    message_type: CoapType,
    code: u8,
    message_id: u16,
    token: Vec<u8>,
    options: Vec<(u16, Vec<u8>)>,
    payload: Vec<u8>,
}

impl CoapHandler {
    /// A handler decoding payloads with `options` (keys, cipher, …; the protocol is set to
    /// CoAP).
    pub fn new(options: Options, settings: ServerSettings) -> CoapHandler {
        CoapHandler {
            options: options.with_protocol(Some(Protocol::Coap)),
            settings,
            dedupe: DedupeCache::default(),
            uploads: HashMap::new(),
            next_message_id: 1,
        }
    }

    /// Handles one datagram from `peer` received at `now`.
    pub fn handle(&mut self, datagram: &[u8], peer: SocketAddr, now: Instant) -> Handled {
        let source = Source::Coap { peer };
        let message = match CoapMessage::new_checked(datagram) {
            Ok(message) => message,
            Err(error) => {
                let reply = match datagram {
                    [first, _, id_high, id_low, ..] if first >> 4 == 0b0100 => build(
                        CoapType::Rst,
                        CoapCode(code::EMPTY),
                        u16::from_be_bytes([*id_high, *id_low]),
                        &[],
                        Vec::new(),
                        &[],
                    )
                    .ok(),
                    _ => None,
                };
                return Handled {
                    reply,
                    event: Some(Event::Failure(Failure::from_error(
                        now_rfc3339(),
                        source,
                        &error,
                    ))),
                };
            }
        };
        let request = Request {
            peer,
            message_type: CoapType::from_bits(message.type_bits()),
            code: message.code(),
            message_id: message.message_id(),
            token: message.token().to_vec(),
            options: message
                .options()
                .map(|o| (o.number, o.value.to_vec()))
                .collect(),
            payload: message.payload().to_vec(),
        };
        match (request.message_type, request.code) {
            (CoapType::Ack | CoapType::Rst, _) => return Handled::default(),
            (CoapType::Con, code::EMPTY) => {
                let reply = build(
                    CoapType::Rst,
                    CoapCode(code::EMPTY),
                    request.message_id,
                    &[],
                    Vec::new(),
                    &[],
                )
                .ok();
                return Handled { reply, event: None };
            }
            _ => {}
        }
        let key = (peer, request.message_id);
        self.dedupe.expire(
            now,
            self.settings.exchange_lifetime,
            self.settings.dedupe_capacity.max(1),
        );
        if let Some(seen) = self.dedupe.get(&key) {
            let reply = match request.message_type {
                CoapType::Con => seen.reply.clone(),
                _ => None,
            };
            return Handled { reply, event: None };
        }
        let (response_code, response_options, event) =
            self.respond(&request, datagram, source, now);
        let reply = self.reply(&request, response_code, response_options);
        self.dedupe.insert(key, now, reply.clone());
        Handled { reply, event }
    }

    /// The code, options and event of a request seen for the first time.
    fn respond(
        &mut self,
        request: &Request,
        datagram: &[u8],
        source: Source,
        now: Instant,
    ) -> Response {
        let received = now_rfc3339();
        if request.code != code::POST && request.code != code::PUT {
            let text = format!(
                "method {} not accepted: meters upload with POST or PUT",
                CoapCode(request.code)
            );
            let failure = Failure::new(received, source, "method", 1, &text);
            return (
                code::METHOD_NOT_ALLOWED,
                Vec::new(),
                Some(Event::Failure(failure)),
            );
        }
        let block = request
            .options
            .iter()
            .find(|(number, _)| *number == option::BLOCK1)
            .map(|(_, value)| Block::parse(value));
        let whole: Vec<u8>;
        let mut response_options = Vec::new();
        let bytes = match block {
            None => datagram,
            Some(None) | Some(Some(Block { szx: 7, .. })) => {
                let failure = Failure::new(received, source, "block", 0, "bad Block1 option");
                return (code::BAD_REQUEST, Vec::new(), Some(Event::Failure(failure)));
            }
            Some(Some(block)) => match self.add_block(request, block, now) {
                Err((reply_code, text)) => {
                    let failure = Failure::new(received, source, "block", 0, text);
                    return (reply_code, Vec::new(), Some(Event::Failure(failure)));
                }
                Ok(None) => {
                    return (code::CONTINUE, vec![(option::BLOCK1, block.value())], None);
                }
                Ok(Some(body)) => {
                    response_options.push((option::BLOCK1, block.value()));
                    let options = request
                        .options
                        .iter()
                        .filter(|(n, _)| *n != option::BLOCK1 && *n != option::SIZE1)
                        .cloned()
                        .collect();
                    match build(
                        request.message_type,
                        CoapCode(request.code),
                        request.message_id,
                        &request.token,
                        options,
                        &body,
                    ) {
                        Ok(message) => {
                            whole = message;
                            &whole
                        }
                        Err(error) => {
                            let failure = Failure::from_error(received, source, &error);
                            return (
                                code::BAD_REQUEST,
                                response_options,
                                Some(Event::Failure(failure)),
                            );
                        }
                    }
                }
            },
        };
        match decode(bytes, &self.options) {
            Ok(decoded) => {
                let message = Message {
                    received,
                    source,
                    decoded,
                };
                (
                    code::CHANGED,
                    response_options,
                    Some(Event::Message(Box::new(message))),
                )
            }
            Err(error) => {
                let failure = Failure::from_error(received, source, &error);
                (
                    code::BAD_REQUEST,
                    response_options,
                    Some(Event::Failure(failure)),
                )
            }
        }
    }

    /// Adds one Block1 block: `Ok(None)` when more follow, `Ok(Some(body))` when complete.
    fn add_block(
        &mut self,
        request: &Request,
        block: Block,
        now: Instant,
    ) -> Result<Option<Vec<u8>>, (u8, &'static str)> {
        let lifetime = self.settings.exchange_lifetime;
        self.uploads
            .retain(|_, upload| now.saturating_duration_since(upload.started) < lifetime);
        let key = UploadKey::of(request);
        if block.num == 0 {
            if self.uploads.len() >= self.settings.max_uploads {
                let oldest = self
                    .uploads
                    .iter()
                    .min_by_key(|(_, upload)| upload.started)
                    .map(|(key, _)| key.clone());
                if let Some(oldest) = oldest {
                    self.uploads.remove(&oldest);
                }
            }
            self.uploads.insert(
                key.clone(),
                Upload {
                    body: Vec::new(),
                    next_block: 0,
                    started: now,
                },
            );
        }
        let Some(upload) = self.uploads.get_mut(&key) else {
            return Err((code::INCOMPLETE, "a Block1 upload must start with block 0"));
        };
        let offset = usize::try_from(block.num)
            .ok()
            .and_then(|num| num.checked_mul(block.size()));
        if block.num != upload.next_block || offset != Some(upload.body.len()) {
            self.uploads.remove(&key);
            return Err((code::INCOMPLETE, "Block1 block out of order"));
        }
        if block.more && request.payload.len() != block.size() {
            self.uploads.remove(&key);
            return Err((
                code::BAD_REQUEST,
                "a Block1 block before the last must be full",
            ));
        }
        if upload.body.len().saturating_add(request.payload.len()) > self.settings.max_body {
            self.uploads.remove(&key);
            return Err((code::TOO_LARGE, "Block1 body too large"));
        }
        upload.body.extend_from_slice(&request.payload);
        upload.next_block = upload.next_block.saturating_add(1);
        if block.more {
            return Ok(None);
        }
        Ok(self.uploads.remove(&key).map(|upload| upload.body))
    }

    /// The reply datagram to a request: a piggybacked ACK for CON, a NON response for NON.
    fn reply(
        &mut self,
        request: &Request,
        response_code: u8,
        options: Vec<(u16, Vec<u8>)>,
    ) -> Option<Vec<u8>> {
        let (message_type, message_id) = match request.message_type {
            CoapType::Con => (CoapType::Ack, request.message_id),
            _ => {
                self.next_message_id = self.next_message_id.wrapping_add(1);
                (CoapType::Non, self.next_message_id)
            }
        };
        build(
            message_type,
            CoapCode(response_code),
            message_id,
            &request.token,
            options,
            &[],
        )
        .ok()
    }
}

/// A CoAP server bound to a UDP socket.
#[derive(Debug)]
pub struct CoapServer {
    socket: UdpSocket,
    handler: CoapHandler,
}

impl CoapServer {
    /// Binds the server to `address` (`0.0.0.0:5683`, `127.0.0.1:0`, …).
    pub async fn bind(
        address: impl ToSocketAddrs,
        options: Options,
        settings: ServerSettings,
    ) -> io::Result<CoapServer> {
        Ok(CoapServer {
            socket: UdpSocket::bind(address).await?,
            handler: CoapHandler::new(options, settings),
        })
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.socket.local_addr()
    }

    /// Serves until `events` is closed, sending each message's event there. Socket errors a
    /// peer causes (ICMP port unreachable reported on the next receive) are skipped.
    pub async fn run(mut self, events: mpsc::Sender<Event>) -> io::Result<()> {
        let mut buffer = vec![0u8; 65_535];
        loop {
            let (length, peer) = tokio::select! {
                received = self.socket.recv_from(&mut buffer) => match received {
                    Ok(received) => received,
                    Err(error) if peer_caused(&error) => continue,
                    Err(error) => return Err(error),
                },
                () = events.closed() => return Ok(()),
            };
            let datagram = buffer.get(..length).unwrap_or_default();
            let handled = self.handler.handle(datagram, peer, Instant::now());
            if let Some(reply) = handled.reply {
                if let Err(error) = self.socket.send_to(&reply, peer).await {
                    if !peer_caused(&error) {
                        return Err(error);
                    }
                }
            }
            if let Some(event) = handled.event {
                if events.send(event).await.is_err() {
                    return Ok(());
                }
            }
        }
    }
}

/// Errors of one peer that must not stop the server.
fn peer_caused(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::HostUnreachable
            | io::ErrorKind::NetworkUnreachable
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_option_values() {
        let block = Block::parse(&[0x1E]).unwrap();
        assert_eq!(
            block,
            Block {
                num: 1,
                more: true,
                szx: 6
            }
        );
        assert_eq!(block.size(), 1024);
        assert_eq!(block.value(), vec![0x1E]);
        assert_eq!(
            Block::parse(&[]).unwrap(),
            Block {
                num: 0,
                more: false,
                szx: 0
            }
        );
    }

    #[test]
    fn dedupe_cache_is_bounded_and_expires() {
        let mut cache = DedupeCache::default();
        let peer: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let start = Instant::now();
        for id in 0..10u16 {
            cache.expire(start, EXCHANGE_LIFETIME, 4);
            cache.insert((peer, id), start, None);
        }
        assert_eq!(cache.seen.len(), 4);
        assert!(cache.get(&(peer, 9)).is_some());
        cache.expire(start + EXCHANGE_LIFETIME, EXCHANGE_LIFETIME, 4);
        assert!(cache.seen.is_empty());
    }
}
