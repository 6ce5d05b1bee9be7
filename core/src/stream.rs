//! Cutting byte streams into frames and garbage (design §1 "deframe", §4 `decode_stream`).
//!
//! A serial capture, a TCP session or a radio receiver's output is a run of bytes in which
//! frames of several protocols sit among noise. [`Decoder`] takes such bytes in pieces of any
//! size and hands out [`StreamItem`]s in stream order: a frame with its byte range and its
//! decoding, or a garbage span with its range, its bytes and the [`GarbageReason`]. Together
//! the items cover every byte fed exactly once. [`decode_stream`] does the same for one
//! buffer.
//!
//! # Which frames are found
//!
//! Each protocol family joins through its registration ([`crate::protocol::Framing`]): the
//! bytes its frames open with ([`Lead`]), when it is searched ([`Search`]) and a `scan`
//! function telling what starts at a position ([`Scan`]). Without a named protocol a stream is
//! searched for the families whose frames prove themselves: wired M-Bus short, control and
//! long frames (checksum and stop byte), CJ/T 188 frames (checksum and end byte) and wM-Bus
//! telegrams (a known C field, manufacturer and CI, then every block CRC of format A or the
//! CRCs of format B). A lone M-Bus `E5` is an acknowledgement only right after an M-Bus
//! request (the frame just before it, no byte between); elsewhere it is garbage with the
//! reason `unsolicited_ack` (right after another frame) or noise. Naming `wmbus` searches only wM-Bus, at
//! every byte, and also takes telegrams without CRCs (`L + 1` bytes); naming `modbus_rtu` or
//! `modbus_tcp` is the only way to cut Modbus frames (no start byte, and a 2-byte CRC alone
//! matches noise too often).
//!
//! At each position the families are asked in registry order; the first whole verified frame
//! wins. A candidate whose check fails is not a frame: the search goes on at its second byte,
//! so a broken frame never swallows a valid one starting inside it. When no family has a frame
//! but one could still have it with more bytes ([`Scan::Incomplete`]), the decoder waits
//! ([`Decoder::needed`]); at the end of the stream ([`Decoder::finish`]) such a beginning is
//! garbage with the reason `truncated`.
//!
//! # Garbage spans
//!
//! Garbage bytes are grouped: a span starts where a broken frame starts (reason
//! `invalid_frame` with the protocol and the failed check, covering the bytes the frame would
//! have had, unless a valid frame starts inside), where a frame is cut off by the end of the
//! stream (`truncated`), at an unsolicited acknowledgement, or where noise follows one of
//! those; runs of noise (`noise`) are one span up to [`MAX_GARBAGE_SPAN`] bytes, so a decoder
//! fed only noise holds a bounded buffer.
//!
//! # Session
//!
//! A [`Decoder`] is also the session of one source: wM-Bus compact frames (CI 79/7B/73) are
//! decoded with the format signatures learnt from the full frames before them, per-meter keys
//! come from its options, and the last M-Bus request decides whether an `E5` is an
//! acknowledgement. A Modbus frame right after a Modbus request (no byte between) that
//! answers it ([`crate::modbus::pair::answered_by`]) is decoded with that request as its
//! `request` option, so a read response's registers get their addresses; a `request` named in
//! the options wins, and [`Decoder::sent`] gives the request a master sent. [`Decoder::decode`]
//! decodes one frame that is already cut (a line of a log) in the same session.

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

use crate::error::{ErrorKind, Result};
use crate::framing::{Block, Lead, Scan, Search, StreamContext, BLOCK_VIEWS};
use crate::modbus;
use crate::model::{Decoded, ModbusDirection, ModbusLink, Protocol};
use crate::protocol::{self, Framing};
use crate::wmbus::Session;
use crate::{hex, Options};
use wide::u8x16;

/// The longest garbage span of noise: a longer run is reported as several spans, so a decoder
/// never holds more than this many bytes of noise.
pub const MAX_GARBAGE_SPAN: usize = 65_536;

/// Why bytes of a stream are garbage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GarbageReason {
    /// No frame of a searched family starts in these bytes.
    Noise,
    /// A frame's whole structure whose check failed (`checksum`, `crc`).
    InvalidFrame {
        /// The family whose structure the bytes have.
        protocol: Protocol,
        /// What failed.
        kind: ErrorKind,
    },
    /// The beginning of a frame that the end of the stream cut off.
    Truncated {
        /// The family whose frame it begins.
        protocol: Protocol,
    },
    /// A one-byte acknowledgement (M-Bus `E5`) right after a frame that was not a request.
    UnsolicitedAck {
        /// The family of the acknowledgement.
        protocol: Protocol,
    },
}

impl GarbageReason {
    /// The reason's JSON name: `noise`, `invalid_frame`, `truncated`, `unsolicited_ack`.
    pub const fn as_str(&self) -> &'static str {
        match self {
            GarbageReason::Noise => "noise",
            GarbageReason::InvalidFrame { .. } => "invalid_frame",
            GarbageReason::Truncated { .. } => "truncated",
            GarbageReason::UnsolicitedAck { .. } => "unsolicited_ack",
        }
    }

    /// The family the reason names, if any.
    pub const fn protocol(&self) -> Option<Protocol> {
        match self {
            GarbageReason::Noise => None,
            GarbageReason::InvalidFrame { protocol, .. }
            | GarbageReason::Truncated { protocol }
            | GarbageReason::UnsolicitedAck { protocol } => Some(*protocol),
        }
    }
}

impl core::fmt::Display for GarbageReason {
    /// For people: `noise`, `invalid mbus frame (checksum)`, `truncated cjt188 frame`,
    /// `unsolicited mbus acknowledgement`.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            GarbageReason::Noise => f.write_str("noise"),
            GarbageReason::InvalidFrame { protocol, kind } => {
                write!(f, "invalid {} frame ({})", protocol.as_str(), kind.as_str())
            }
            GarbageReason::Truncated { protocol } => {
                write!(f, "truncated {} frame", protocol.as_str())
            }
            GarbageReason::UnsolicitedAck { protocol } => {
                write!(f, "unsolicited {} acknowledgement", protocol.as_str())
            }
        }
    }
}

/// One piece of a byte stream ([`Decoder`], [`decode_stream`]).
#[derive(Clone, Debug, PartialEq)]
pub enum StreamItem {
    /// A frame at `start..end` of the stream and its decoding (errors carry stream offsets).
    Frame {
        /// First byte of the frame in the stream.
        start: usize,
        /// One past its last byte.
        end: usize,
        /// The frame's bytes.
        bytes: Vec<u8>,
        /// The decoded frame or its error.
        result: Result<Box<Decoded>>,
    },
    /// Bytes that belong to no frame.
    Garbage {
        /// First byte in the stream.
        start: usize,
        /// One past the last byte.
        end: usize,
        /// The bytes.
        bytes: Vec<u8>,
        /// Why they are no frame.
        reason: GarbageReason,
    },
}

impl StreamItem {
    /// The item's byte range in the stream.
    pub fn range(&self) -> core::ops::Range<usize> {
        match self {
            StreamItem::Frame { start, end, .. } | StreamItem::Garbage { start, end, .. } => {
                *start..*end
            }
        }
    }

    /// The item's JSON text (design §4): `{"start","end","frame":<model>}`,
    /// `{"start","end","error":{…}}` (offsets in the stream) or
    /// `{"start","end","garbage":"HEX","reason":…,"protocol"?,"kind"?}`.
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        self.write_json(&mut out);
        out
    }

    /// Appends [`to_json`](Self::to_json)'s text to `out`.
    pub fn write_json(&self, out: &mut String) {
        match self {
            StreamItem::Frame {
                start, end, result, ..
            } => {
                write_frame_json(out, *start, *end, result.as_ref().map(Box::as_ref));
            }
            StreamItem::Garbage {
                start,
                end,
                bytes,
                reason,
            } => write_garbage_json(out, *start, *end, bytes, reason),
        }
    }
}

/// Appends a frame item's JSON: `{"start","end","frame":<model>}` or
/// `{"start","end","error":{…}}` (for front ends that keep frames in their own types).
pub fn write_frame_json(
    out: &mut String,
    start: usize,
    end: usize,
    result: core::result::Result<&Decoded, &crate::Error>,
) {
    // Writing to a String cannot fail.
    let _ = write!(out, "{{\"start\":{start},\"end\":{end},");
    match result {
        Ok(d) => {
            out.push_str("\"frame\":");
            out.push_str(&crate::to_json(d));
        }
        Err(e) => {
            out.push_str("\"error\":");
            out.push_str(&crate::error_body_json(e));
        }
    }
    out.push('}');
}

/// Appends a garbage item's JSON:
/// `{"start","end","garbage":"HEX","reason":…,"protocol"?,"kind"?}`.
pub fn write_garbage_json(
    out: &mut String,
    start: usize,
    end: usize,
    bytes: &[u8],
    reason: &GarbageReason,
) {
    let _ = write!(out, "{{\"start\":{start},\"end\":{end},\"garbage\":\"");
    hex::push_hex(out, bytes);
    let _ = write!(out, "\",\"reason\":\"{}\"", reason.as_str());
    if let Some(p) = reason.protocol() {
        let _ = write!(out, ",\"protocol\":\"{}\"", p.as_str());
    }
    if let GarbageReason::InvalidFrame { kind, .. } = reason {
        let _ = write!(out, ",\"kind\":\"{}\"", kind.as_str());
    }
    out.push('}');
}

/// Cuts one byte stream (a serial capture) into frames and garbage, with one session: every
/// input byte ends up in exactly one item (module docs).
pub fn decode_stream(bytes: &[u8], opts: &Options) -> Vec<StreamItem> {
    // The whole stream is there: the decoder reads it in place instead of copying it.
    let mut decoder = Decoder::new(opts.clone());
    decoder.finish_on(bytes);
    decoder.items.into()
}

/// [`decode_stream`] as one JSON array of the items' texts ([`StreamItem::to_json`]).
pub fn decode_stream_json(bytes: &[u8], opts: &Options) -> String {
    items_json(&decode_stream(bytes, opts))
}

/// A JSON array of items.
pub fn items_json(items: &[StreamItem]) -> String {
    array_json(items.iter())
}

/// The JSON array of `items`' texts.
fn array_json<'a>(items: impl Iterator<Item = &'a StreamItem>) -> String {
    let mut out = String::from("[");
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push(',');
        }
        item.write_json(&mut out);
    }
    out.push(']');
    out
}

/// The first 16 positions of `rest` as a [`Block`], when the `BLOCK_VIEWS + 15` bytes it reads
/// are there.
#[inline(always)]
fn block_at(rest: &[u8]) -> Option<Block> {
    let bytes: &[u8; BLOCK_VIEWS + 15] = rest.first_chunk()?;
    // Views a filter does not read are not loaded: the block test is inlined (see
    // `protocol::default_block_test`).
    Some(core::array::from_fn(|k| {
        let lanes = bytes
            .get(k..)
            .and_then(|b| b.first_chunk::<16>())
            .copied()
            .unwrap_or_default();
        u8x16::new(lanes)
    }))
}

/// One searched family of a decoder.
#[derive(Clone, Copy, Debug)]
struct Family {
    protocol: Protocol,
    framing: &'static Framing,
}

/// The garbage span being collected: `start..` up to the current position.
#[derive(Clone, Copy, Debug)]
struct OpenSpan {
    /// First byte (stream offset).
    start: usize,
    /// The span keeps every byte before this offset (the bytes a broken frame would have had).
    claimed_end: usize,
    reason: GarbageReason,
}

/// What the families found at one position.
enum Found {
    /// A verified frame of family `.0`, `.1` bytes long.
    Frame(usize, usize),
    /// A frame may start here: this many bytes in all are needed.
    Wait(usize),
    /// No frame: garbage with this reason claiming bytes up to this offset of the buffer.
    Garbage(Option<(GarbageReason, usize)>),
}

/// The frame's bytes and link when `result` is a Modbus request of `protocol` (what a stream
/// decoder keeps for the frame after it).
fn modbus_request_of(
    protocol: Protocol,
    bytes: &[u8],
    result: &Result<Decoded>,
) -> Option<(Protocol, Vec<u8>, ModbusLink)> {
    let link = result.as_ref().ok()?.modbus_link()?;
    (link.direction == Some(ModbusDirection::Request))
        .then(|| (protocol, bytes.to_vec(), link.clone()))
}

/// A stateful stream decoder: feed bytes in pieces of any size, take finished items
/// (module docs). "Need more bytes" is not garbage: bytes that may begin a frame stay buffered
/// until the frame is whole or proven not to be one.
///
/// ```
/// use meterwire::{Decoder, Options, StreamItem};
///
/// let mut decoder = Decoder::new(Options::default());
/// // Noise, then an M-Bus SND_NKE split across two reads.
/// decoder.feed(&[0x00, 0x10, 0x40]);
/// assert!(decoder.needed().is_some()); // the short frame is not whole yet
/// assert_eq!(decoder.next_item(), None);
/// decoder.feed(&[0x05, 0x45, 0x16]);
/// let items: Vec<StreamItem> = decoder.take_items().collect();
/// assert_eq!(items.len(), 2);
/// assert_eq!(items[0].range(), 0..1); // garbage
/// assert_eq!(items[1].range(), 1..6); // the frame
/// ```
#[derive(Debug)]
pub struct Decoder {
    opts: Options,
    families: Vec<Family>,
    /// Per byte value: bit i set when family i's frames may open with it.
    first: [u16; 256],
    /// Per byte value: bit i set when family i's frames may have it second.
    second: [u16; 256],
    /// Bits of the families with a second-byte lead.
    second_families: u16,
    /// Per byte value: bit 0 when some family's frames may open with it, bit 1 when some
    /// family's frames may have it second (the hot loop's one lookup per byte).
    lead: [u8; 256],
    /// How blocks of 16 positions are tested at once (not when a family is searched alone:
    /// then every byte is a candidate).
    blocks: bool,
    /// The last block tested: its first stream offset and its lanes that may start a frame.
    block_hits: Option<(usize, u32)>,
    /// The named family is searched alone (permissive form).
    alone: bool,
    /// Unconsumed bytes; `buf[0]` is stream offset `base`.
    buf: Vec<u8>,
    base: usize,
    /// Next position to look at (index into `buf`).
    pos: usize,
    open: Option<OpenSpan>,
    after_request: Option<Protocol>,
    /// The frame just before, when it was a Modbus request: its protocol, bytes and link. The
    /// next frame, if it answers it ([`modbus::pair::answered_by`]), is decoded with it as
    /// the `request` option (a read response's registers get their addresses).
    modbus_request: Option<(Protocol, Vec<u8>, ModbusLink)>,
    session: Session,
    items: VecDeque<StreamItem>,
    /// Stream offset the pending candidate needs the stream to reach.
    waiting: Option<usize>,
}

impl Decoder {
    /// A decoder for one stream with `opts` (protocol, keys, explain, …).
    pub fn new(opts: Options) -> Decoder {
        let mut families = Vec::new();
        let mut first = [0u16; 256];
        let mut second = [0u16; 256];
        let mut second_families = 0u16;
        let mut alone = false;
        for (i, (protocol, framing, searched_alone)) in
            protocol::framings(opts.protocol).take(16).enumerate()
        {
            let bit = 1u16 << i;
            alone |= searched_alone;
            match (searched_alone, framing.lead) {
                (true, _) => first.iter_mut().for_each(|m| *m |= bit),
                (false, Lead::First(bytes)) => bytes.iter().for_each(|b| {
                    if let Some(m) = first.get_mut(usize::from(*b)) {
                        *m |= bit;
                    }
                }),
                (false, Lead::Second(bytes)) => {
                    second_families |= bit;
                    bytes.iter().for_each(|b| {
                        if let Some(m) = second.get_mut(usize::from(*b)) {
                            *m |= bit;
                        }
                    });
                }
            }
            families.push(Family { protocol, framing });
        }
        let mut lead = [0u8; 256];
        for ((l, f), s) in lead.iter_mut().zip(first.iter()).zip(second.iter()) {
            *l = u8::from(*f != 0) | (u8::from(*s != 0) << 1);
        }
        // Without a family searched alone the families are the default search's, whose block
        // test the registry compiles into one function.
        let blocks = !alone;
        Decoder {
            opts,
            families,
            first,
            second,
            second_families,
            lead,
            blocks,
            block_hits: None,
            alone,
            buf: Vec::new(),
            base: 0,
            pos: 0,
            open: None,
            after_request: None,
            modbus_request: None,
            session: Session::new(),
            items: VecDeque::new(),
            waiting: None,
        }
    }

    /// The options the decoder decodes with.
    pub fn options(&self) -> &Options {
        &self.opts
    }

    /// Adds the next bytes of the stream and cuts every item they complete.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
        let buf = core::mem::take(&mut self.buf);
        self.run(&buf, false);
        self.buf = buf;
        self.compact();
    }

    /// Ends the stream: bytes still waiting for more become frames if they are whole, else
    /// garbage (`truncated`, `noise`). Feeding again starts a new stream at the next offset
    /// with the same session.
    pub fn finish(&mut self) {
        let mut buf = core::mem::take(&mut self.buf);
        self.finish_on(&buf);
        buf.clear();
        self.buf = buf;
    }

    /// [`finish`](Self::finish) with the unconsumed bytes in `buf` (the decoder's own buffer,
    /// or a whole stream the decoder reads in place).
    fn finish_on(&mut self, buf: &[u8]) {
        self.run(buf, true);
        let end = self.offset_of(buf.len());
        self.close_open(buf, end);
        self.base = end;
        self.pos = 0;
        self.waiting = None;
        self.after_request = None;
        self.modbus_request = None;
    }

    /// The next finished item, in stream order; `None` when every finished item was taken
    /// (more bytes, or [`finish`](Self::finish), may complete more).
    pub fn next_item(&mut self) -> Option<StreamItem> {
        self.items.pop_front()
    }

    /// Every finished item, in stream order.
    pub fn take_items(&mut self) -> impl Iterator<Item = StreamItem> + '_ {
        self.items.drain(..)
    }

    /// Every finished item as one JSON array ([`StreamItem::to_json`]), for front ends that
    /// hand JSON text on.
    pub fn take_items_json(&mut self) -> String {
        let out = array_json(self.items.iter());
        self.items.clear();
        out
    }

    /// How many more bytes the frame that may begin at the current position needs before the
    /// decoder can decide (a lower bound while its length is unknown); `None` when nothing is
    /// pending on a frame.
    pub fn needed(&self) -> Option<usize> {
        let have = self.offset_of(self.buf.len());
        self.waiting
            .map(|w| w.saturating_sub(have))
            .filter(|n| *n > 0)
    }

    /// Bytes fed but not yet in a finished item.
    pub fn pending(&self) -> usize {
        let first = self.open.map_or(self.offset_of(self.pos), |o| o.start);
        self.offset_of(self.buf.len()).saturating_sub(first)
    }

    /// The stream offset of the next byte to be fed.
    pub fn stream_len(&self) -> usize {
        self.offset_of(self.buf.len())
    }

    /// Tells the decoder that this side sent `frame` on the same line (a master's request):
    /// the next bytes may answer it, so an M-Bus `E5` right after it is an acknowledgement,
    /// and a Modbus response right after it is read with it (its registers' addresses).
    pub fn sent(&mut self, frame: &[u8]) {
        self.after_request = self
            .families
            .iter()
            .find(|f| f.framing.search != Search::OnlyNamed && (f.framing.request)(frame))
            .map(|f| f.protocol);
        // A Modbus request (this decoder reads a Modbus framing): its answer gets addresses.
        let modbus = self
            .families
            .iter()
            .map(|f| f.protocol)
            .find(|p| matches!(p, Protocol::ModbusRtu | Protocol::ModbusTcp));
        self.modbus_request = modbus.and_then(|protocol| {
            let result = self.session.decode_as(protocol, frame, &self.opts);
            modbus_request_of(protocol, frame, &result)
        });
    }

    /// Decodes one frame that is already cut (a line of a log) in this decoder's session:
    /// wM-Bus compact frames use the formats of full frames decoded before.
    pub fn decode(&mut self, frame: &[u8]) -> Result<Decoded> {
        self.session.decode(frame, &self.opts)
    }

    /// The wM-Bus session (format signatures learnt so far).
    pub fn session(&self) -> &Session {
        &self.session
    }

    fn offset_of(&self, index: usize) -> usize {
        self.base.saturating_add(index)
    }

    /// Cuts items from `buf[pos..]`; with `at_end` nothing more will come.
    fn run(&mut self, buf: &[u8], at_end: bool) {
        self.waiting = None;
        // Bytes before `accounted` are in items or the open span. Candidates that turn out to
        // be noise are not counted one by one: the noise up to the next frame, broken frame
        // or stop is counted at once (the same spans, fewer steps).
        let mut accounted = self.pos;
        loop {
            let Some(p) = self.next_candidate(buf, self.pos) else {
                // No family can start a frame before the end of the buffer; the last byte
                // waits when it may be the length byte of a frame known by its second byte.
                let len = buf.len();
                let keep = usize::from(!at_end && self.second_families != 0 && len > self.pos);
                let stop = len.saturating_sub(keep).max(accounted);
                self.noise(buf, self.offset_of(accounted), self.offset_of(stop));
                self.pos = stop;
                if keep == 1 {
                    self.waiting = Some(self.offset_of(len.saturating_add(1)));
                }
                return;
            };
            if p > self.pos {
                // An acknowledgement answers only the frame right before it.
                self.after_request = None;
                self.modbus_request = None;
            }
            self.pos = p;
            match self.scan_at(buf, p, at_end, accounted < p) {
                Found::Frame(family, len) => {
                    self.noise(buf, self.offset_of(accounted), self.offset_of(p));
                    self.frame(buf, family, p, len);
                    self.pos = p.saturating_add(len);
                    accounted = self.pos;
                }
                Found::Wait(needed) => {
                    self.noise(buf, self.offset_of(accounted), self.offset_of(p));
                    self.waiting = Some(self.offset_of(p.saturating_add(needed)));
                    return;
                }
                Found::Garbage(None) => {
                    self.after_request = None;
                    self.modbus_request = None;
                    self.pos = p.saturating_add(1);
                }
                Found::Garbage(reason) => {
                    self.noise(buf, self.offset_of(accounted), self.offset_of(p));
                    self.garbage_at(buf, p, reason);
                    self.pos = p.saturating_add(1);
                    accounted = self.pos;
                }
            }
        }
    }

    /// The families whose lead matches at `p` (bit i: family i).
    fn lead_mask(&self, buf: &[u8], p: usize, at_end: bool) -> u16 {
        let Some(&b) = buf.get(p) else {
            return 0;
        };
        let mut mask = self.first.get(usize::from(b)).copied().unwrap_or(0);
        if self.second_families != 0 {
            mask |= match buf.get(p.saturating_add(1)) {
                Some(&next) => self.second.get(usize::from(next)).copied().unwrap_or(0),
                None if !at_end => self.second_families,
                None => 0,
            };
        }
        mask
    }

    /// The first position at or after `from` (an index of `buf`) where some family may start
    /// a frame, by the block test or, in the last bytes, the lead (the last
    /// byte of the buffer is left to the caller when it may only lead by its successor).
    fn next_candidate(&mut self, buf: &[u8], from: usize) -> Option<usize> {
        // Blocks of 16 positions at once while `BLOCK_VIEWS + 15` bytes are there (the
        // registry's block test: each family's filter, or its lead bytes); a block's result
        // is kept, so the candidates of one block cost one test.
        let mut start = from;
        if self.blocks {
            // The lanes left in the last block tested, when `from` lies in it.
            let mut index = from;
            if let Some((block, hits)) = self.block_hits {
                let at = self.offset_of(from);
                if (block..block.saturating_add(16)).contains(&at) {
                    let lane = u32::try_from(at.saturating_sub(block)).unwrap_or(0);
                    let left = hits
                        .checked_shr(lane)
                        .unwrap_or(0)
                        .checked_shl(lane)
                        .unwrap_or(0);
                    if left != 0 {
                        let lane = usize::try_from(left.trailing_zeros()).unwrap_or(0);
                        return Some(block.saturating_add(lane).saturating_sub(self.base));
                    }
                    index = block.saturating_add(16).saturating_sub(self.base);
                }
            }
            // Then block after block until one has a candidate (most have none).
            while let Some(block) = buf.get(index..).and_then(block_at) {
                let hits = u32::try_from(protocol::default_block_test(&block).move_mask())
                    .unwrap_or(u32::MAX);
                if hits != 0 {
                    self.block_hits = Some((self.offset_of(index), hits));
                    let lane = usize::try_from(hits.trailing_zeros()).unwrap_or(0);
                    return Some(index.saturating_add(lane));
                }
                index = index.saturating_add(16);
            }
            start = index;
        }
        // The tail, byte by byte: position i is a candidate when byte i opens a frame (bit 0
        // of its lead) or byte i + 1 is some family's second byte (bit 1).
        let rest = buf.get(from..)?;
        let mut start = start.saturating_sub(from);
        let lead = |b: &u8| self.lead.get(usize::from(*b)).copied().unwrap_or(0);
        loop {
            let tail = rest.get(start..)?;
            let j = start.saturating_add(tail.iter().position(|b| lead(b) != 0)?);
            let bits = rest.get(j).map_or(0, lead);
            if bits & 2 != 0 && j > 0 {
                return Some(from.saturating_add(j).saturating_sub(1));
            }
            if bits & 1 != 0 {
                return Some(from.saturating_add(j));
            }
            // A second byte at `from`: its frame would start before `from`, already asked.
            start = j.saturating_add(1);
        }
    }

    /// Asks the families whose lead matches at `p`, in registry order; `after_noise` when noise
    /// not yet counted comes right before `p`.
    fn scan_at(&self, buf: &[u8], p: usize, at_end: bool, after_noise: bool) -> Found {
        let rest = buf.get(p..).unwrap_or(&[]);
        let mask = self.lead_mask(buf, p, at_end);
        let ctx = StreamContext {
            named: self.alone,
            after_request: self.after_request,
            at_end,
        };
        let mut wait: Option<usize> = None;
        let mut reason: Option<(GarbageReason, usize)> = None;
        for (i, family) in self.families.iter().enumerate() {
            if mask & (1u16 << i) == 0 {
                continue;
            }
            match (family.framing.scan)(rest, &ctx) {
                Scan::Frame(len) if len > 0 && len <= rest.len() => {
                    return Found::Frame(i, len);
                }
                Scan::Frame(_) | Scan::None => {}
                Scan::Incomplete(needed) if !at_end && needed > rest.len() => {
                    wait = Some(wait.map_or(needed, |w| w.min(needed)));
                }
                Scan::Incomplete(_) => {
                    let protocol = family.protocol;
                    reason.get_or_insert((GarbageReason::Truncated { protocol }, buf.len()));
                }
                Scan::Invalid { len, kind } => {
                    let protocol = family.protocol;
                    let end = p.saturating_add(len).min(buf.len());
                    reason.get_or_insert((GarbageReason::InvalidFrame { protocol, kind }, end));
                }
                Scan::Unrequested => {
                    // Reported only right after a frame: inside noise it is noise.
                    if self.open.is_none() && !after_noise {
                        let protocol = family.protocol;
                        reason.get_or_insert((
                            GarbageReason::UnsolicitedAck { protocol },
                            p.saturating_add(1),
                        ));
                    }
                }
            }
        }
        match wait {
            Some(needed) => Found::Wait(needed),
            None => Found::Garbage(reason),
        }
    }

    /// Emits the frame of family `family` at `buf[p..p + len]`.
    fn frame(&mut self, buf: &[u8], family: usize, p: usize, len: usize) {
        let start = self.offset_of(p);
        self.close_open(buf, start);
        let Some(Family { protocol, framing }) = self.families.get(family).copied() else {
            return;
        };
        let end = p.saturating_add(len);
        let bytes = buf.get(p..end).unwrap_or(&[]);
        self.after_request = (framing.request)(bytes).then_some(protocol);
        let result = self
            .decode_paired(protocol, bytes)
            .map(Box::new)
            .map_err(|e| e.shifted(start));
        // Redaction drops the frame's bytes with the model's raw parts.
        let bytes = if self.opts.redact.is_some() {
            Vec::new()
        } else {
            bytes.to_vec()
        };
        self.items.push_back(StreamItem::Frame {
            start,
            end: self.offset_of(end),
            bytes,
            result,
        });
    }

    /// Decodes a frame in the session; a Modbus frame that answers the request just before it
    /// is decoded with that request (unless the options name one), and a Modbus request is
    /// kept for the frame after it.
    fn decode_paired(&mut self, protocol: Protocol, bytes: &[u8]) -> Result<Decoded> {
        let mut result = self.session.decode_as(protocol, bytes, &self.opts);
        if let (Some((asked_as, request, asked)), Ok(d)) = (self.modbus_request.take(), &result) {
            let answers = asked_as == protocol
                && self.opts.request.is_none()
                && d.modbus_link()
                    .is_some_and(|link| modbus::pair::answered_by(&asked, link));
            if answers {
                let opts = self.opts.clone().with_request(Some(request));
                result = self.session.decode_as(protocol, bytes, &opts);
            }
        }
        self.modbus_request = modbus_request_of(protocol, bytes, &result);
        result
    }

    /// Counts the byte at `p` as garbage with `reason` (noise when `None`).
    fn garbage_at(&mut self, buf: &[u8], p: usize, reason: Option<(GarbageReason, usize)>) {
        let at = self.offset_of(p);
        let Some((reason, claimed_end)) = reason else {
            self.noise(buf, at, at.saturating_add(1));
            return;
        };
        let claimed_end = self.offset_of(claimed_end);
        self.after_request = None;
        self.modbus_request = None;
        match self.open {
            // Inside the bytes a broken frame claims: they stay in its span, unless a whole
            // frame structure that failed its check starts inside a frame cut off by the end
            // (the stronger evidence gets its own span).
            Some(open)
                if at < open.claimed_end
                    && !(matches!(open.reason, GarbageReason::Truncated { .. })
                        && matches!(reason, GarbageReason::InvalidFrame { .. })) => {}
            _ => {
                self.close_open(buf, at);
                self.open = Some(OpenSpan {
                    start: at,
                    claimed_end,
                    reason,
                });
            }
        }
    }

    /// Counts the stream bytes `from..to` as garbage: in the open span while it claims them or
    /// while both are noise (up to [`MAX_GARBAGE_SPAN`]), else in new noise spans.
    fn noise(&mut self, buf: &[u8], mut from: usize, to: usize) {
        if from < to {
            // An acknowledgement answers only the frame right before it.
            self.after_request = None;
            self.modbus_request = None;
        }
        while from < to {
            match self.open {
                Some(open) if from < open.claimed_end => from = to.min(open.claimed_end),
                Some(open)
                    if open.reason == GarbageReason::Noise
                        && from.saturating_sub(open.start) < MAX_GARBAGE_SPAN =>
                {
                    from = to.min(open.start.saturating_add(MAX_GARBAGE_SPAN));
                }
                Some(_) => self.close_open(buf, from),
                None => {
                    self.open = Some(OpenSpan {
                        start: from,
                        claimed_end: from,
                        reason: GarbageReason::Noise,
                    });
                }
            }
        }
    }

    /// Emits the open garbage span as ending at stream offset `end`.
    fn close_open(&mut self, buf: &[u8], end: usize) {
        let Some(open) = self.open.take() else {
            return;
        };
        if end <= open.start {
            return;
        }
        let from = open.start.saturating_sub(self.base);
        let to = end.saturating_sub(self.base);
        self.items.push_back(StreamItem::Garbage {
            start: open.start,
            end,
            bytes: if self.opts.redact.is_some() {
                Vec::new()
            } else {
                buf.get(from..to).unwrap_or(&[]).to_vec()
            },
            reason: open.reason,
        });
    }

    /// Drops the bytes no item needs any more.
    fn compact(&mut self) {
        let keep_from = self.open.map_or(self.pos, |o| {
            o.start.saturating_sub(self.base).min(self.pos)
        });
        if keep_from > 0 && keep_from.saturating_mul(2) >= self.buf.len() {
            self.buf.drain(..keep_from);
            self.base = self.base.saturating_add(keep_from);
            self.pos = self.pos.saturating_sub(keep_from);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hex::parse_hex;

    /// The registry's block test lets through every position where some family of the
    /// default search, asked because its lead matches, answers anything but `Scan::None`: windows of noise with beginnings
    /// of every family's frames planted at random positions (and single bytes changed).
    #[test]
    fn block_test_keeps_every_position_a_scan_answers() {
        let frames: Vec<Vec<u8>> = [
            "68 15 15 68 08 05 72 78 56 34 12 2D 2C 01 07 2A 00 00 00 0C 13 67 45 23 01 0D 16",
            "10 7B 05 80 16",
            "E5",
            "FEFE6810785634120001008116901F01563412002C000012002C0030081503252000006F16",
            "1D443A63785634120107EA447A2A0000000C1367452301026C2F330B4D333B2001008560",
            "02302E302E30283132333435363738290D0A210D0A0329",
            "01 52 31 02 31 2E 38 2E 30 28 29 03 5A",
            "2F 49 53 4B 35 5C 32 4D 35 35 30 54 2D 31 30 31 32 0D 0A 0D 0A 21 0D 0A",
        ]
        .iter()
        .map(|h| parse_hex(h).unwrap())
        .collect();
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        let mut next = || {
            seed ^= seed >> 12;
            seed ^= seed << 25;
            seed ^= seed >> 27;
            seed.wrapping_mul(0x2545_F491_4F6C_DD1D)
        };
        let mut answered = 0usize;
        for _ in 0..40_000 {
            let mut window: Vec<u8> = (0..96).map(|_| next() as u8).collect();
            let frame = &frames[(next() % frames.len() as u64) as usize];
            let at = (next() % 16) as usize;
            for (i, b) in frame.iter().enumerate() {
                if let Some(slot) = window.get_mut(at + i) {
                    *slot = *b;
                }
            }
            if next() % 3 == 0 {
                let i = (next() % 96) as usize;
                window[i] = next() as u8;
            }
            let hits = protocol::default_block_test(&block_at(&window).unwrap()).to_array();
            for lane in 0..16 {
                for after_request in [None, Some(Protocol::Mbus)] {
                    let ctx = StreamContext {
                        named: false,
                        after_request,
                        at_end: false,
                    };
                    for (protocol, framing, _) in protocol::framings(None) {
                        // The decoder asks a family only where its lead matches.
                        let leads = match framing.lead {
                            Lead::First(bytes) => bytes.contains(&window[lane]),
                            Lead::Second(bytes) => bytes.contains(&window[lane + 1]),
                        };
                        if !leads || matches!((framing.scan)(&window[lane..], &ctx), Scan::None) {
                            continue;
                        }
                        answered += 1;
                        assert_eq!(
                            hits[lane], 0xFF,
                            "{protocol:?} answers at lane {lane} of {window:02X?}"
                        );
                    }
                }
            }
        }
        // The planted beginnings make the scans answer often enough to test the filters.
        assert!(answered > 10_000, "{answered}");
    }

    /// (start, end, "frame"/reason) of each item.
    fn shape(items: &[StreamItem]) -> Vec<(usize, usize, &'static str)> {
        items
            .iter()
            .map(|item| match item {
                StreamItem::Frame { start, end, .. } => (*start, *end, "frame"),
                StreamItem::Garbage {
                    start, end, reason, ..
                } => (*start, *end, reason.as_str()),
            })
            .collect()
    }

    /// Feeding in every split of two pieces gives the items of one feed.
    fn assert_chunking_invariant(stream: &[u8], opts: &Options) {
        let whole = decode_stream(stream, opts);
        for cut in 0..=stream.len() {
            let mut d = Decoder::new(opts.clone());
            d.feed(&stream[..cut]);
            d.feed(&stream[cut..]);
            d.finish();
            let items: Vec<StreamItem> = d.take_items().collect();
            assert_eq!(items, whole, "split at {cut}");
        }
        let mut d = Decoder::new(opts.clone());
        for b in stream {
            d.feed(core::slice::from_ref(b));
        }
        d.finish();
        assert_eq!(d.take_items().collect::<Vec<_>>(), whole, "byte by byte");
    }

    #[test]
    fn frames_noise_and_a_truncated_tail() {
        // Noise, a lone E5 inside noise, REQ_UD2, then the start of a long frame.
        let stream = [0x00, 0xE5, 0x10, 0x7B, 0x05, 0x80, 0x16, 0x68, 0x03];
        let items = decode_stream(&stream, &Options::default());
        assert_eq!(
            shape(&items),
            [(0, 2, "noise"), (2, 7, "frame"), (7, 9, "truncated")]
        );
        assert_eq!(
            items[2].to_json(),
            r#"{"start":7,"end":9,"garbage":"6803","reason":"truncated","protocol":"mbus"}"#
        );
        assert_chunking_invariant(&stream, &Options::default());
    }

    #[test]
    fn e5_is_an_acknowledgement_only_after_a_request() {
        // SND_NKE to address 5, its E5; then an RSP_UD (not a request) and an E5.
        let mut stream = parse_hex("10 40 05 45 16 E5").unwrap();
        let rsp = parse_hex("68 03 03 68 08 05 72 7F 16").unwrap();
        stream.extend_from_slice(&rsp);
        stream.push(0xE5);
        let items = decode_stream(&stream, &Options::default());
        assert_eq!(
            shape(&items),
            [
                (0, 5, "frame"),
                (5, 6, "frame"),
                (6, 15, "frame"),
                (15, 16, "unsolicited_ack")
            ]
        );
        let StreamItem::Frame {
            result: Ok(ack), ..
        } = &items[1]
        else {
            panic!("E5 decoded");
        };
        assert_eq!(ack.protocol, Protocol::Mbus);
        assert_eq!(
            items[3].to_json(),
            r#"{"start":15,"end":16,"garbage":"E5","reason":"unsolicited_ack","protocol":"mbus"}"#
        );
        assert_chunking_invariant(&stream, &Options::default());
    }

    #[test]
    fn a_broken_frame_never_swallows_a_valid_one_inside_it() {
        // A long frame (L = 10) whose checksum is wrong; its data holds a whole REQ_UD2.
        let broken = parse_hex("68 0A 0A 68 08 05 72 10 7B 05 80 16 00 00 00 16").unwrap();
        let items = decode_stream(&broken, &Options::default());
        assert_eq!(
            shape(&items),
            [(0, 7, "invalid_frame"), (7, 12, "frame"), (12, 16, "noise")]
        );
        assert_eq!(
            items[0].to_json(),
            r#"{"start":0,"end":7,"garbage":"680A0A68080572","reason":"invalid_frame","protocol":"mbus","kind":"checksum"}"#
        );
        assert_chunking_invariant(&broken, &Options::default());
    }

    #[test]
    fn wmbus_format_a_is_found_in_noise_by_its_crcs() {
        // wmbus.md W1 (format A) and W2 (format B) between noise bytes, no protocol named.
        let a =
            parse_hex("1D443A63785634120107EA447A2A0000000C1367452301026C2F330B4D333B2001008560")
                .unwrap();
        let b =
            parse_hex("1F443A637856341201077A2A0000000C1367452301026C2F330B3B2001002C44").unwrap();
        let mut stream = vec![0x44, 0x00, 0x13];
        stream.extend_from_slice(&a);
        stream.extend_from_slice(&[0xFF, 0x44]);
        stream.extend_from_slice(&b);
        let items = decode_stream(&stream, &Options::default());
        let a_end = 3 + a.len();
        let b_start = a_end + 2;
        assert_eq!(
            shape(&items),
            [
                (0, 3, "noise"),
                (3, a_end, "frame"),
                (a_end, b_start, "noise"),
                (b_start, b_start + b.len(), "frame")
            ]
        );
        for item in &items {
            if let StreamItem::Frame { result, .. } = item {
                let d = result.as_ref().unwrap();
                assert_eq!(d.protocol, Protocol::Wmbus);
                assert_eq!(d.meter.as_ref().unwrap().id.as_str(), "12345678");
                assert_eq!(d.records[0].number().unwrap().to_string(), "1234.567");
            }
        }
        assert_chunking_invariant(&stream, &Options::default());
        // A CRC-free capture is cut only when wM-Bus is named.
        let plain =
            parse_hex("1D443A637856341201077A2A0000000C1367452301026C2F330B3B200100").unwrap();
        let unnamed = decode_stream(&plain, &Options::default());
        assert_eq!(shape(&unnamed), [(0, plain.len(), "noise")]);
        let named = Options::default().with_protocol(Some(Protocol::Wmbus));
        assert_eq!(
            shape(&decode_stream(&plain, &named)),
            [(0, plain.len(), "frame")]
        );
        assert_chunking_invariant(&plain, &named);
    }

    #[test]
    fn need_more_bytes_is_not_garbage() {
        let mut d = Decoder::new(Options::default());
        d.feed(&[0x68, 0x03]);
        assert_eq!(d.next_item(), None);
        assert_eq!(
            d.needed(),
            Some(2),
            "68 L L 68 needs two more bytes to show its length"
        );
        d.feed(&[0x03, 0x68, 0x08]);
        // M-Bus needs 9 bytes in all, but a DL/T 645 frame (68, six BCD address bytes, 68)
        // could still start here: its second start byte is the 8th.
        assert_eq!(d.needed(), Some(3));
        assert_eq!(d.pending(), 5);
        d.feed(&[0x05, 0x72, 0x7F, 0x16, 0xAB]);
        let items: Vec<StreamItem> = d.take_items().collect();
        assert_eq!(shape(&items), [(0, 9, "frame")]);
        assert_eq!(d.pending(), 1);
        d.finish();
        assert_eq!(
            shape(&d.take_items().collect::<Vec<_>>()),
            [(9, 10, "noise")]
        );
        // Offsets go on after finish.
        d.feed(&[0xE5]);
        d.finish();
        assert_eq!(
            shape(&d.take_items().collect::<Vec<_>>()),
            [(10, 11, "unsolicited_ack")]
        );
    }

    #[test]
    fn a_master_tells_the_decoder_what_it_sent() {
        // The master sent SND_NKE; only its reply comes in on the line.
        let mut d = Decoder::new(Options::default());
        d.sent(&[0x10, 0x40, 0x05, 0x45, 0x16]);
        d.feed(&[0xE5]);
        assert_eq!(
            shape(&d.take_items().collect::<Vec<_>>()),
            [(0, 1, "frame")]
        );
        // Without it, the same byte is no acknowledgement.
        let mut d = Decoder::new(Options::default());
        d.feed(&[0xE5]);
        d.finish();
        assert_eq!(
            shape(&d.take_items().collect::<Vec<_>>()),
            [(0, 1, "unsolicited_ack")]
        );
    }

    #[test]
    fn noise_spans_are_bounded() {
        let noise = vec![0x01u8; MAX_GARBAGE_SPAN * 2 + 5];
        let mut d = Decoder::new(Options::default());
        d.feed(&noise);
        assert!(d.pending() <= MAX_GARBAGE_SPAN);
        d.finish();
        let items: Vec<StreamItem> = d.take_items().collect();
        assert_eq!(
            shape(&items),
            [
                (0, MAX_GARBAGE_SPAN, "noise"),
                (MAX_GARBAGE_SPAN, 2 * MAX_GARBAGE_SPAN, "noise"),
                (2 * MAX_GARBAGE_SPAN, noise.len(), "noise")
            ]
        );
    }

    #[test]
    fn modbus_is_cut_only_when_named() {
        // Modbus digest M1 (read 2 holding registers) twice.
        let m1 = parse_hex("01 03 00 00 00 02 C4 0B").unwrap();
        let stream = [m1.clone(), m1.clone()].concat();
        assert_eq!(
            shape(&decode_stream(&stream, &Options::default())),
            [(0, 16, "noise")]
        );
        let named = Options::default().with_protocol(Some(Protocol::ModbusRtu));
        assert_eq!(
            shape(&decode_stream(&stream, &named)),
            [(0, 8, "frame"), (8, 16, "frame")]
        );
        assert_chunking_invariant(&stream, &named);
    }

    /// The register addresses of each frame item's records (`None` for a record without one).
    fn addresses(items: &[StreamItem]) -> Vec<Vec<Option<u32>>> {
        items
            .iter()
            .filter_map(|item| match item {
                StreamItem::Frame { result: Ok(d), .. } => Some(
                    d.records
                        .iter()
                        .map(|r| match r.address() {
                            Some(crate::model::Address::Number(n)) => Some(*n),
                            _ => None,
                        })
                        .collect(),
                ),
                _ => None,
            })
            .collect()
    }

    /// A Modbus response right after its request (no byte between) is read with it: its
    /// registers get the addresses the request asked for (modbus.md M1: read 2 holding
    /// registers from 0) — on RTU and on TCP (same transaction), with the request cut from
    /// the stream or told with `sent`. Not after a byte of noise, not on TCP with another
    /// transaction id, and a `request` option the caller gives wins.
    #[test]
    fn a_modbus_response_is_read_with_the_request_just_before_it() {
        let rtu = Options::default().with_protocol(Some(Protocol::ModbusRtu));
        let request = parse_hex("01 03 00 00 00 02 C4 0B").unwrap();
        let response = parse_hex("01 03 04 00 00 C1 48 AB 95").unwrap();
        let stream = [request.clone(), response.clone()].concat();
        let items = decode_stream(&stream, &rtu);
        assert_eq!(shape(&items), [(0, 8, "frame"), (8, 17, "frame")]);
        assert_eq!(addresses(&items), [vec![], vec![Some(0), Some(1)]]);
        let StreamItem::Frame { result: Ok(d), .. } = &items[1] else {
            panic!("a frame")
        };
        assert!(d.warnings.is_empty(), "{:?}", d.warnings);
        assert_eq!(
            d.records[1].number().map(|n| n.to_string()).as_deref(),
            Some("49480")
        );
        assert_chunking_invariant(&stream, &rtu);
        // A byte between: no pairing.
        let apart = [request.clone(), vec![0x00], response.clone()].concat();
        assert_eq!(
            addresses(&decode_stream(&apart, &rtu)),
            [vec![], vec![None, None]]
        );
        // The caller's request option wins (here one asking from register 16: 0x0010).
        let other = crate::modbus::request::Request::rtu(1)
            .read_holding_registers(16, 2)
            .unwrap();
        let told = rtu.clone().with_request(Some(other));
        assert_eq!(
            addresses(&decode_stream(&stream, &told)),
            [vec![], vec![Some(16), Some(17)]]
        );
        // A master tells the decoder what it sent: the response alone gets the addresses.
        let mut master = Decoder::new(rtu.clone());
        master.sent(&request);
        master.feed(&response);
        master.finish();
        let items: Vec<StreamItem> = master.take_items().collect();
        assert_eq!(addresses(&items), [vec![Some(0), Some(1)]]);
        // TCP: the same read (transaction 1), then a response of another transaction.
        let tcp = Options::default().with_protocol(Some(Protocol::ModbusTcp));
        let tcp_request = parse_hex("0001 0000 0006 01 03 0000 0002").unwrap();
        let tcp_response = parse_hex("0001 0000 0007 01 03 04 0000 C148").unwrap();
        let stream = [tcp_request.clone(), tcp_response].concat();
        assert_eq!(
            addresses(&decode_stream(&stream, &tcp)),
            [vec![], vec![Some(0), Some(1)]]
        );
        assert_chunking_invariant(&stream, &tcp);
        let other_transaction = parse_hex("0002 0000 0007 01 03 04 0000 C148").unwrap();
        let stream = [tcp_request, other_transaction].concat();
        assert_eq!(
            addresses(&decode_stream(&stream, &tcp)),
            [vec![], vec![None, None]]
        );
    }
}
