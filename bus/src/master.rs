//! The M-Bus master: request/response exchanges with timeouts and retries (EN 13757-2), a
//! meter's readout by primary or secondary address with the frame count bit toggled and
//! multi-telegram answers reassembled.
//!
//! Every request is built by the core's builders (`meterwire::mbus::request`) and every reply
//! is cut and decoded by the core's stream [`Decoder`], told what was sent so that an `E5`
//! counts as the acknowledgement it is.
//!
//! The frame count bit (FCB): a meter clears it on SND_NKE; the master then sends REQ_UD2 with
//! FCB = 1 and toggles it after every reply it received intact. A request repeated after a
//! missing or broken reply keeps its FCB, so the meter sends the same telegram again; a
//! toggled FCB asks for the next telegram of a multi-telegram answer (DIF `1F`: more records
//! follow).

use std::fmt;
use std::io;
use std::time::{Duration, Instant};

use meterwire::mbus::request::{self, SecondaryAddress, ADDRESS_SELECTED};
use meterwire::model::{Decoded, LinkFunction, MbusFrameKind};
use meterwire::{Decoder, GarbageReason, Options, Protocol, StreamItem};

use crate::transport::Transport;

/// How long to wait and how often to try.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timing {
    /// How long to wait for a reply to start, and for each further byte of it.
    pub timeout: Duration,
    /// How often a request is sent again after no reply or a broken one.
    pub retries: u32,
    /// After a whole reply, how long to listen for more bytes (two slaves answering at once).
    pub settle: Duration,
}

impl Default for Timing {
    /// 500 ms per reply (EN 13757-2 asks a slave to answer within 330 bit times + 50 ms:
    /// 190 ms at 2400 baud; gateways add their own delay), 2 retries (3 attempts), 30 ms
    /// to catch a colliding reply.
    fn default() -> Self {
        Timing {
            timeout: Duration::from_millis(500),
            retries: 2,
            settle: Duration::from_millis(30),
        }
    }
}

/// What went wrong in an exchange.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BusErrorKind {
    /// The transport failed (connection refused or closed, port error).
    Io,
    /// No reply after every attempt.
    Timeout,
    /// Bytes that are no single intact frame: a checksum that fails, a cut-off reply, or
    /// several slaves answering at once.
    BadReply,
    /// An intact frame, but not the one the request asks for (an `E5` where an RSP_UD was due).
    Unexpected,
    /// An intact RSP_UD that meterwire cannot decode.
    Decode,
}

/// A failed exchange: what was sent, what came back, and why it is not the answer.
#[derive(Debug)]
pub struct BusError {
    /// The kind of failure.
    pub kind: BusErrorKind,
    /// How many times the request was sent.
    pub attempts: u32,
    context: Box<Context>,
}

/// The words and bytes of a [`BusError`].
#[derive(Debug)]
struct Context {
    request: String,
    sent: Vec<u8>,
    received: Vec<u8>,
    detail: String,
    via: String,
}

impl BusError {
    /// A failure of `kind` after `attempts`: the request in words and bytes, the last reply's
    /// bytes, what happened, and the transport.
    pub fn new(
        kind: BusErrorKind,
        attempts: u32,
        request: &str,
        sent: &[u8],
        received: &[u8],
        detail: &str,
        via: &str,
    ) -> BusError {
        BusError {
            kind,
            attempts,
            context: Box::new(Context {
                request: request.to_owned(),
                sent: sent.to_vec(),
                received: received.to_vec(),
                detail: detail.to_owned(),
                via: via.to_owned(),
            }),
        }
    }

    /// The request in words (`REQ_UD2 to address 5`).
    pub fn request(&self) -> &str {
        &self.context.request
    }

    /// The request's bytes.
    pub fn sent(&self) -> &[u8] {
        &self.context.sent
    }

    /// The bytes of the last reply (empty when there was none).
    pub fn received(&self) -> &[u8] {
        &self.context.received
    }

    /// What happened, in words.
    pub fn detail(&self) -> &str {
        &self.context.detail
    }

    /// The transport (`tcp 127.0.0.1:5000`).
    pub fn via(&self) -> &str {
        &self.context.via
    }
}

impl fmt::Display for BusError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.context;
        write!(
            f,
            "{} ({}) via {}: {}",
            c.request,
            meterwire::hex::to_hex_spaced(&c.sent),
            c.via,
            c.detail
        )?;
        if self.attempts > 1 {
            write!(f, " (after {} attempts)", self.attempts)?;
        }
        if !c.received.is_empty() {
            write!(
                f,
                "; received {}",
                meterwire::hex::to_hex_spaced(&c.received)
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for BusError {}

/// The reply to one request.
#[derive(Clone, Debug)]
pub enum Reply {
    /// One intact frame, decoded.
    Frame {
        /// Its bytes.
        bytes: Vec<u8>,
        /// Its model.
        decoded: Box<Decoded>,
    },
    /// Nothing before the timeout.
    Silence,
    /// Bytes that are not one intact frame.
    Broken {
        /// Everything received.
        bytes: Vec<u8>,
        /// Why, in words (`bad checksum from the meter`, `two replies at once`).
        why: String,
    },
    /// One intact frame that meterwire cannot decode.
    Undecodable {
        /// Its bytes.
        bytes: Vec<u8>,
        /// The core's error.
        error: meterwire::Error,
    },
}

impl Reply {
    /// Whether the reply is the single-character acknowledgement `E5`.
    pub fn is_ack(&self) -> bool {
        matches!(self, Reply::Frame { decoded, .. }
            if decoded.mbus_link().is_some_and(|l| l.kind == MbusFrameKind::Ack))
    }
}

/// One telegram of a readout.
#[derive(Clone, Debug)]
pub struct Telegram {
    /// The RSP_UD's bytes.
    pub bytes: Vec<u8>,
    /// Its model.
    pub decoded: Decoded,
}

/// A meter's readout: its telegrams and the reading they make together.
#[derive(Clone, Debug)]
pub struct Readout {
    /// The RSP_UD telegrams in order (more than one when the meter sent DIF `1F`).
    pub telegrams: Vec<Telegram>,
    /// The first telegram's model with the records of every telegram, in order, and
    /// `more_records_follow` cleared: one reading.
    pub reading: Decoded,
}

/// The most telegrams one readout takes (a meter that always says "more follows").
pub const MAX_TELEGRAMS: usize = 64;

/// An M-Bus master on one transport.
pub struct Master<T: Transport> {
    transport: T,
    timing: Timing,
    /// The FCB of the next REQ_UD2 per primary address (`None`: send SND_NKE first).
    exchanges: usize,
}

impl<T: Transport> Master<T> {
    /// A master on `transport` with `timing`.
    pub fn new(transport: T, timing: Timing) -> Master<T> {
        Master {
            transport,
            timing,
            exchanges: 0,
        }
    }

    /// How many requests were sent so far (retries included).
    pub fn exchanges(&self) -> usize {
        self.exchanges
    }

    /// The timing in use.
    pub fn timing(&self) -> Timing {
        self.timing
    }

    /// Where the master's transport leads.
    pub fn via(&self) -> String {
        self.transport.describe()
    }

    /// Sends `request` and returns what came back, once: no retry.
    pub fn exchange_once(&mut self, request: &[u8]) -> io::Result<Reply> {
        self.transport.discard_input()?;
        self.transport.send(request)?;
        self.exchanges = self.exchanges.saturating_add(1);
        let mut decoder = Decoder::new(Options::default().with_protocol(Some(Protocol::Mbus)));
        decoder.sent(request);
        let mut received = Vec::new();
        let mut items: Vec<StreamItem> = Vec::new();
        let mut buf = [0u8; 512];
        let mut deadline = Instant::now() + self.timing.timeout;
        loop {
            let n = self.transport.receive(&mut buf, deadline)?;
            let Some(chunk) = buf.get(..n).filter(|c| !c.is_empty()) else {
                break;
            };
            received.extend_from_slice(chunk);
            decoder.feed(chunk);
            items.extend(decoder.take_items());
            let whole = decoder.pending() == 0
                && items.iter().any(|i| matches!(i, StreamItem::Frame { .. }));
            // A whole reply: listen a little longer for a second slave answering too.
            let wait = if whole {
                self.timing.settle
            } else {
                self.timing.timeout
            };
            deadline = Instant::now() + wait;
        }
        decoder.finish();
        items.extend(decoder.take_items());
        Ok(classify(received, items))
    }

    /// Sends `request` until an intact frame comes back, at most `1 + retries` times.
    pub fn exchange(&mut self, what: &str, request: &[u8]) -> Result<Reply, BusError> {
        let attempts = self.timing.retries.saturating_add(1);
        let mut last = Reply::Silence;
        for attempt in 1..=attempts {
            let reply = self.exchange_once(request).map_err(|e| {
                self.error(
                    BusErrorKind::Io,
                    what,
                    request,
                    &[],
                    attempt,
                    &e.to_string(),
                )
            })?;
            match reply {
                Reply::Frame { .. } | Reply::Undecodable { .. } => return Ok(reply),
                Reply::Silence | Reply::Broken { .. } => last = reply,
            }
        }
        Err(match last {
            Reply::Broken { bytes, why } => self.error(
                BusErrorKind::BadReply,
                what,
                request,
                &bytes,
                attempts,
                &why,
            ),
            _ => self.error(
                BusErrorKind::Timeout,
                what,
                request,
                &[],
                attempts,
                &format!("no reply within {} ms", self.timing.timeout.as_millis()),
            ),
        })
    }

    /// Sends `request` and does not wait for a reply (broadcasts to address FF).
    pub fn send_only(&mut self, request: &[u8]) -> io::Result<()> {
        self.exchanges = self.exchanges.saturating_add(1);
        self.transport.send(request)
    }

    /// SND_NKE to `address`: the meter clears its frame count bit and answers `E5`.
    pub fn reset(&mut self, address: u8) -> Result<(), BusError> {
        let what = format!("SND_NKE to address {address}");
        let frame = request::snd_nke(address);
        let reply = self.exchange(&what, &frame)?;
        self.expect_ack(&what, &frame, reply)
    }

    /// Selects the meter(s) matching `mask` (SND_UD, CI 52, to address FD): `E5` expected.
    pub fn select(&mut self, mask: &SecondaryAddress) -> Result<(), BusError> {
        let what = format!(
            "select {}",
            request::secondary_address_text(&mask.to_bytes())
        );
        let frame = request::select_secondary(mask, false)
            .map_err(|e| self.error(BusErrorKind::Io, &what, &[], &[], 0, &e.to_string()))?;
        let reply = self.exchange(&what, &frame)?;
        self.expect_ack(&what, &frame, reply)
    }

    /// Reads the meter at primary `address`: SND_NKE, then REQ_UD2 (FCB 1, toggled after
    /// each telegram) until a telegram without "more records follow".
    pub fn read_primary(&mut self, address: u8) -> Result<Readout, BusError> {
        // A meter that misses the SND_NKE still answers REQ_UD2; its failure is reported there.
        let _ = self.reset(address);
        self.read_telegrams(address)
    }

    /// Reads the meter selected by `mask`: deselect all (SND_NKE to FD), select, read at
    /// address FD as [`read_primary`](Self::read_primary) does, deselect.
    pub fn read_secondary(&mut self, mask: &SecondaryAddress) -> Result<Readout, BusError> {
        let _ = self.reset(ADDRESS_SELECTED);
        self.select(mask)?;
        let readout = self.read_telegrams(ADDRESS_SELECTED);
        let _ = self.reset(ADDRESS_SELECTED);
        readout
    }

    /// REQ_UD2 to `address` until the meter has no more records to send.
    fn read_telegrams(&mut self, address: u8) -> Result<Readout, BusError> {
        let mut fcb = true;
        let mut telegrams: Vec<Telegram> = Vec::new();
        while telegrams.len() < MAX_TELEGRAMS {
            let what = format!(
                "REQ_UD2 to address {address}{}",
                if telegrams.is_empty() {
                    String::new()
                } else {
                    format!(" (telegram {})", telegrams.len().saturating_add(1))
                }
            );
            let frame = request::req_ud2(address, fcb);
            match self.exchange(&what, &frame)? {
                Reply::Frame { bytes, decoded } => {
                    let rsp_ud = decoded
                        .mbus_link()
                        .is_some_and(|l| l.function == Some(LinkFunction::RspUd));
                    if !rsp_ud {
                        return Err(self.error(
                            BusErrorKind::Unexpected,
                            &what,
                            &frame,
                            &bytes,
                            1,
                            "the reply is not an RSP_UD",
                        ));
                    }
                    fcb = !fcb;
                    let more = decoded.more_records_follow;
                    telegrams.push(Telegram {
                        bytes,
                        decoded: *decoded,
                    });
                    if !more {
                        break;
                    }
                }
                Reply::Undecodable { bytes, error } => {
                    return Err(self.error(
                        BusErrorKind::Decode,
                        &what,
                        &frame,
                        &bytes,
                        1,
                        &format!(
                            "the meter's RSP_UD does not decode: {} at byte {}: {error}",
                            error.kind(),
                            error.offset()
                        ),
                    ));
                }
                // `exchange` returns only intact frames.
                Reply::Silence | Reply::Broken { .. } => {}
            }
        }
        let reading = merge(&telegrams);
        Ok(Readout { telegrams, reading })
    }

    fn expect_ack(&self, what: &str, frame: &[u8], reply: Reply) -> Result<(), BusError> {
        if reply.is_ack() {
            return Ok(());
        }
        let bytes = match &reply {
            Reply::Frame { bytes, .. } | Reply::Undecodable { bytes, .. } => bytes.clone(),
            Reply::Broken { bytes, .. } => bytes.clone(),
            Reply::Silence => Vec::new(),
        };
        Err(self.error(
            BusErrorKind::Unexpected,
            what,
            frame,
            &bytes,
            1,
            "the reply is not the acknowledgement E5",
        ))
    }

    fn error(
        &self,
        kind: BusErrorKind,
        what: &str,
        sent: &[u8],
        received: &[u8],
        attempts: u32,
        detail: &str,
    ) -> BusError {
        BusError::new(
            kind,
            attempts,
            what,
            sent,
            received,
            detail,
            &self.transport.describe(),
        )
    }
}

/// What the items cut from a reply amount to.
fn classify(received: Vec<u8>, items: Vec<StreamItem>) -> Reply {
    let frames = items
        .iter()
        .filter(|i| matches!(i, StreamItem::Frame { .. }))
        .count();
    if items.is_empty() {
        return Reply::Silence;
    }
    if let [StreamItem::Frame { bytes, result, .. }] = items.as_slice() {
        return match result {
            Ok(decoded) => Reply::Frame {
                bytes: bytes.clone(),
                decoded: decoded.clone(),
            },
            Err(error) => Reply::Undecodable {
                bytes: bytes.clone(),
                error: *error,
            },
        };
    }
    let why = if frames > 1 {
        "more than one reply at once (a collision)".to_owned()
    } else {
        items
            .iter()
            .find_map(|i| match i {
                StreamItem::Garbage {
                    reason: GarbageReason::InvalidFrame { kind, .. },
                    ..
                } => Some(format!(
                    "a broken frame from the meter ({kind} does not verify)"
                )),
                StreamItem::Garbage {
                    reason: GarbageReason::Truncated { .. },
                    ..
                } => Some("a reply cut off before its end".to_owned()),
                _ => None,
            })
            .unwrap_or_else(|| "bytes that are no M-Bus frame (noise or a collision)".to_owned())
    };
    Reply::Broken {
        bytes: received,
        why,
    }
}

/// One reading from the telegrams of a multi-telegram answer.
fn merge(telegrams: &[Telegram]) -> Decoded {
    let mut iter = telegrams.iter();
    let Some(first) = iter.next() else {
        return Decoded::new(
            Protocol::Mbus,
            meterwire::model::Link::Mbus(meterwire::model::MbusLink::default()),
        );
    };
    let mut reading = first.decoded.clone();
    for t in iter {
        reading.records.extend(t.decoded.records.iter().cloned());
        reading.warnings.extend(t.decoded.warnings.iter().cloned());
        if t.decoded.manufacturer_data.is_some() {
            reading.manufacturer_data = t.decoded.manufacturer_data.clone();
        }
    }
    reading.more_records_follow = false;
    reading
}
