//! A simulated wired M-Bus: meters that answer a master as real slaves do, for tests and for
//! trying `meterwire read` / `meterwire scan` without hardware.
//!
//! The meters come from NDJSON of decoded M-Bus models, as `meterwire decode` prints them
//! (other lines — requests, `E5`, error objects — are skipped):
//! each RSP_UD line is one meter answering at its `link.a` and, when its header is long
//! (CI 72), at its secondary address. A line that follows a telegram with
//! `more_records_follow` of the same primary address is that meter's next telegram.
//!
//! Each slave keeps the EN 13757-2 state a master relies on: SND_NKE clears its frame count
//! bit and its place in a multi-telegram answer; REQ_UD2 with FCB toggled (or the first after
//! SND_NKE) sends the next telegram, with the same FCB the same telegram again; a select
//! (SND_UD, CI 52, to FD) whose mask matches selects it (it answers `E5`), one that does not
//! deselects it; SND_NKE to FD deselects. Address FE reaches every slave, FF every slave and
//! none answers. When several slaves answer one request their replies overlap on the line:
//! the simulator sends the bitwise OR of their bytes, with the checksum broken when the
//! replies differ (two `E5` look like one; two RSP_UDs make a frame that does not verify),
//! which is what a master sees as a collision.

use std::io;
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use meterwire::mbus::link::{Frame, ACK, STOP};
use meterwire::mbus::request::{
    self, ADDRESS_BROADCAST, ADDRESS_BROADCAST_REPLY, ADDRESS_SELECTED,
};
use meterwire::{Decoder, Options, Protocol, StreamItem};

use crate::transport::{TcpTransport, Transport};

/// One simulated slave.
#[derive(Clone, Debug)]
pub struct SimulatedMeter {
    /// Primary address.
    pub primary: u8,
    /// Secondary address (8 wire bytes), when its RSP_UD has a long header.
    pub secondary: Option<[u8; 8]>,
    /// Its RSP_UD telegrams, in order.
    pub telegrams: Vec<Vec<u8>>,
    /// The ID as text (for `--silent`).
    pub id: String,
    selected: bool,
    last_fcb: Option<bool>,
    index: usize,
}

impl SimulatedMeter {
    /// The telegram a REQ_UD2 with `fcb` gets (FCV set): the next one when the bit toggled or
    /// after SND_NKE, the same one again when it did not.
    fn answer(&mut self, fcb: bool) -> Vec<u8> {
        match self.last_fcb {
            None => self.index = 0,
            Some(last) if last != fcb => {
                self.index = self.index.saturating_add(1) % self.telegrams.len().max(1);
            }
            Some(_) => {}
        }
        self.last_fcb = Some(fcb);
        self.telegrams.get(self.index).cloned().unwrap_or_default()
    }

    fn reset(&mut self) {
        self.last_fcb = None;
        self.index = 0;
    }
}

/// Faults to inject.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    /// Every n-th reply has a bit flipped (its checksum no longer verifies).
    pub corrupt_every: Option<usize>,
    /// Meters (by ID text) that never answer.
    pub silent: Vec<String>,
}

/// The simulated bus: its meters, faults and counters.
#[derive(Clone, Debug)]
pub struct SimulatedBus {
    meters: Vec<SimulatedMeter>,
    faults: Faults,
    replies: usize,
    requests: usize,
    skipped: usize,
}

impl SimulatedBus {
    /// A bus of the meters in `ndjson` (module docs).
    pub fn from_ndjson(ndjson: &str, faults: Faults) -> Result<SimulatedBus, String> {
        let mut meters: Vec<SimulatedMeter> = Vec::new();
        let mut continues: Option<usize> = None;
        let mut skipped = 0usize;
        for (number, line) in ndjson.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let at = |e: &dyn std::fmt::Display| format!("line {}: {e}", number.saturating_add(1));
            // Error lines and frames other than a meter's RSP_UD (requests, E5) are no meter.
            if line.starts_with("{\"error\"") {
                skipped = skipped.saturating_add(1);
                continue;
            }
            let decoded = meterwire::model_from_json(line).map_err(|e| at(&e))?;
            let Some(link) = decoded
                .mbus_link()
                .filter(|l| l.function == Some(meterwire::model::LinkFunction::RspUd))
            else {
                skipped = skipped.saturating_add(1);
                continue;
            };
            let primary = link.a.ok_or_else(|| at(&"no primary address (link.a)"))?;
            let bytes = meterwire::encode(&decoded).map_err(|e| at(&e))?;
            let more = decoded.more_records_follow;
            match continues
                .and_then(|i| meters.get_mut(i))
                .filter(|m| m.primary == primary)
            {
                Some(meter) => meter.telegrams.push(bytes),
                None => {
                    meters.push(SimulatedMeter {
                        primary,
                        secondary: request::secondary_address_of(&bytes),
                        id: decoded
                            .meter
                            .as_ref()
                            .map(|m| m.id.as_str().to_owned())
                            .unwrap_or_default(),
                        telegrams: vec![bytes],
                        selected: false,
                        last_fcb: None,
                        index: 0,
                    });
                }
            }
            continues = more.then(|| meters.len().saturating_sub(1));
        }
        if meters.is_empty() {
            return Err("no M-Bus RSP_UD in the file".to_owned());
        }
        Ok(SimulatedBus {
            meters,
            faults,
            replies: 0,
            requests: 0,
            skipped,
        })
    }

    /// The meters.
    pub fn meters(&self) -> &[SimulatedMeter] {
        &self.meters
    }

    /// Lines of the file that are no meter's RSP_UD (requests, `E5`, errors, other protocols).
    pub fn skipped(&self) -> usize {
        self.skipped
    }

    /// Requests handled so far.
    pub fn requests(&self) -> usize {
        self.requests
    }

    /// The bytes the bus sends back for one request frame (empty: silence).
    pub fn handle(&mut self, request: &[u8]) -> Vec<u8> {
        self.requests = self.requests.saturating_add(1);
        let replies: Vec<(String, Vec<u8>)> = match Frame::parse(request) {
            Ok(Frame::Short(f)) => self.short(f.c_field(), f.a_field()),
            Ok(Frame::Long(f)) => self.long(f.c_field(), f.a_field(), f.ci_field(), f.user_data()),
            _ => Vec::new(),
        };
        let replies: Vec<Vec<u8>> = replies
            .into_iter()
            .filter(|(id, _)| !self.faults.silent.iter().any(|s| s == id))
            .map(|(_, bytes)| bytes)
            .collect();
        let mut out: Vec<u8> = Vec::new();
        for bytes in &replies {
            // Replies on the line at once: the bits of each add up (wired OR).
            for (i, b) in bytes.iter().enumerate() {
                match out.get_mut(i) {
                    Some(o) => *o |= b,
                    None => out.push(*b),
                }
            }
        }
        // Different replies at once also break the characters' framing: the master reads a
        // frame that does not verify (identical ones, such as two E5, read as one).
        if replies.windows(2).any(|w| matches!(w, [a, b] if a != b)) {
            corrupt(&mut out);
        }
        if !out.is_empty() {
            self.replies = self.replies.saturating_add(1);
            if self
                .faults
                .corrupt_every
                .is_some_and(|n| n > 0 && self.replies % n == 0)
            {
                corrupt(&mut out);
            }
        }
        out
    }

    /// The slaves a frame to address `a` reaches.
    fn targets(&self, a: u8) -> Vec<usize> {
        (0..self.meters.len())
            .filter(|&i| {
                self.meters.get(i).is_some_and(|m| match a {
                    ADDRESS_SELECTED => m.selected,
                    ADDRESS_BROADCAST_REPLY | ADDRESS_BROADCAST => true,
                    _ => m.primary == a,
                })
            })
            .collect()
    }

    fn short(&mut self, c: u8, a: u8) -> Vec<(String, Vec<u8>)> {
        let targets = self.targets(a);
        let mut replies = Vec::new();
        for i in targets {
            let Some(meter) = self.meters.get_mut(i) else {
                continue;
            };
            let reply = match c {
                // SND_NKE: reset; to FD it also ends the selection.
                0x40 => {
                    meter.reset();
                    if a == ADDRESS_SELECTED {
                        meter.selected = false;
                    }
                    vec![ACK]
                }
                // REQ_UD2 with FCV (FCB clear or set).
                0x5B | 0x7B => meter.answer(c & 0x20 != 0),
                _ => continue,
            };
            if a != ADDRESS_BROADCAST {
                replies.push((meter.id.clone(), reply));
            }
        }
        replies
    }

    fn long(&mut self, c: u8, a: u8, ci: u8, data: &[u8]) -> Vec<(String, Vec<u8>)> {
        let snd_ud = matches!(c, 0x53 | 0x73);
        if !snd_ud {
            return Vec::new();
        }
        if a == ADDRESS_SELECTED && ci == 0x52 {
            let Some(mask) = data.get(..8).and_then(|m| <[u8; 8]>::try_from(m).ok()) else {
                return Vec::new();
            };
            let mut replies = Vec::new();
            for meter in &mut self.meters {
                meter.selected = meter
                    .secondary
                    .is_some_and(|s| request::secondary_matches(&mask, &s));
                if meter.selected {
                    replies.push((meter.id.clone(), vec![ACK]));
                }
            }
            return replies;
        }
        // Any other SND_UD is accepted with E5.
        self.targets(a)
            .into_iter()
            .filter_map(|i| self.meters.get(i))
            .filter(|_| a != ADDRESS_BROADCAST)
            .map(|m| (m.id.clone(), vec![ACK]))
            .collect()
    }
}

/// Flips a bit so the reply no longer verifies: the checksum of a frame, or the `E5` itself.
fn corrupt(bytes: &mut [u8]) {
    let at = match bytes.last() {
        Some(&STOP) if bytes.len() >= 2 => bytes.len().saturating_sub(2),
        _ => 0,
    };
    if let Some(b) = bytes.get_mut(at) {
        *b ^= 0x01;
    }
}

/// Serves `bus` on `listener` until `stop` is set: one master connection at a time; each
/// request frame cut from the connection's bytes gets the bus's reply. `log` sees each
/// exchange (`request hex -> reply hex`).
pub fn serve(
    listener: &TcpListener,
    bus: &Arc<Mutex<SimulatedBus>>,
    stop: &Arc<AtomicBool>,
    log: &mut dyn FnMut(&str),
) -> io::Result<()> {
    listener.set_nonblocking(true)?;
    while !stop.load(Ordering::Relaxed) {
        match listener.accept() {
            Ok((stream, peer)) => {
                log(&format!("master connected from {peer}"));
                stream.set_nonblocking(false)?;
                let served = TcpTransport::from_stream(stream)
                    .and_then(|mut t| serve_transport(&mut t, bus, stop, log));
                if let Err(e) = served {
                    log(&format!("connection ended: {e}"));
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Answers the requests arriving on `transport` (a master's TCP connection, or a serial port
/// such as one end of a pseudo-terminal pair) until it closes or `stop` is set.
pub fn serve_transport<T: Transport>(
    transport: &mut T,
    bus: &Arc<Mutex<SimulatedBus>>,
    stop: &Arc<AtomicBool>,
    log: &mut dyn FnMut(&str),
) -> io::Result<()> {
    let mut decoder = Decoder::new(Options::default().with_protocol(Some(Protocol::Mbus)));
    let mut buf = [0u8; 1024];
    while !stop.load(Ordering::Relaxed) {
        let n = transport.receive(&mut buf, Instant::now() + Duration::from_millis(50))?;
        if n == 0 {
            continue;
        }
        decoder.feed(buf.get(..n).unwrap_or(&[]));
        for item in decoder.take_items() {
            let StreamItem::Frame { bytes, .. } = item else {
                continue;
            };
            let reply = bus
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .handle(&bytes);
            log(&format!(
                "{} -> {}",
                meterwire::hex::to_hex_spaced(&bytes),
                if reply.is_empty() {
                    "(silence)".to_owned()
                } else {
                    meterwire::hex::to_hex_spaced(&reply)
                }
            ));
            if !reply.is_empty() {
                transport.send(&reply)?;
            }
        }
    }
    Ok(())
}
