//! Finding the meters on a bus: the wildcard search by secondary address (`mbus-tables.md`
//! §14.4) and the poll of primary addresses.
//!
//! The secondary search starts with the all-wildcard mask. A probe selects a mask
//! (SND_UD, CI 52, to address FD): silence means no meter matches; an intact `E5` is
//! confirmed with REQ_UD2 to FD, whose RSP_UD header names the one meter selected; anything
//! else — broken bytes, or a broken RSP_UD to the confirmation — is a collision of several
//! meters, and the search fixes the mask's first wildcard position to each value in turn
//! and probes again: the eight ID digits one by one (`0`–`9`), then, for meters that share an
//! ID, the manufacturer, version and medium bytes (`00`–`FE`; a byte `FF` is the wildcard).
//! A silent probe is sent again as often as the master's timing says (a reply can be lost).

use meterwire::mbus::request::{self, ADDRESS_BROADCAST, ADDRESS_SELECTED};
use meterwire::model::Decoded;

use crate::master::{BusError, BusErrorKind, Master, Reply};
use crate::transport::Transport;

/// A meter found by a scan.
#[derive(Clone, Debug)]
pub struct Found {
    /// Its primary address (the RSP_UD's A field; FD when read by secondary address).
    pub primary: Option<u8>,
    /// Its secondary address as 8 wire bytes (none for a primary poll of a meter whose RSP_UD
    /// has no long header).
    pub secondary: Option<[u8; 8]>,
    /// The RSP_UD it answered with.
    pub decoded: Decoded,
}

impl Found {
    /// One NDJSON line (keys in alphabetical order): `{"id","manufacturer","medium",
    /// "primary":N,"secondary":"IIIIIIIIMMMMVVDD","version"}`.
    pub fn to_json(&self) -> String {
        let mut line = serde_json::Map::new();
        if let Some(s) = &self.secondary {
            line.insert(
                "secondary".into(),
                request::secondary_address_text(s).into(),
            );
        }
        if let Some(p) = self.primary {
            line.insert("primary".into(), p.into());
        }
        if let Some(meter) = &self.decoded.meter {
            line.insert("id".into(), meter.id.as_str().into());
            if let Some(m) = &meter.manufacturer {
                line.insert("manufacturer".into(), m.as_str().into());
            }
            if let Some(v) = meter.version {
                line.insert("version".into(), v.into());
            }
            if let Some(m) = &meter.medium {
                line.insert("medium".into(), m.as_ref().into());
            }
        }
        serde_json::Value::Object(line).to_string()
    }
}

/// What a scan did.
#[derive(Clone, Debug, Default)]
pub struct ScanReport {
    /// The meters found, in the order found.
    pub found: Vec<Found>,
    /// Select probes sent (retries included).
    pub selects: usize,
    /// Every request sent (selects, confirmations, resets, retries).
    pub exchanges: usize,
    /// Masks under which several meters still answered with every position fixed (meters
    /// with the same secondary address).
    pub unresolved: Vec<[u8; 8]>,
}

/// What one probe found.
enum Probe {
    /// No meter matches.
    Nobody,
    /// Exactly one meter matches; its RSP_UD.
    One(Box<Found>),
    /// Several meters answered at once.
    Many,
}

/// Positions of the 8-byte mask a search can fix: the 8 ID digits (most significant first),
/// then the manufacturer bytes, the version and the medium.
const POSITIONS: usize = 12;

/// Finds every meter by the wildcard search (module docs); `on_found` sees each meter as soon
/// as it is confirmed.
pub fn scan_secondary<T: Transport>(
    master: &mut Master<T>,
    on_found: &mut dyn FnMut(&Found),
) -> Result<ScanReport, BusError> {
    let start = master.exchanges();
    let mut report = ScanReport::default();
    // Deselect every meter: SND_NKE to FD (a selected meter may answer) and to FF (nobody does).
    let _ = master.exchange_once(&request::snd_nke(ADDRESS_SELECTED));
    master
        .send_only(&request::snd_nke(ADDRESS_BROADCAST))
        .map_err(|e| io_error(master, &e))?;
    let all = [0xFFu8; 8];
    let mut search = Search {
        master,
        report: &mut report,
        on_found,
        fcb: true,
    };
    match search.probe(&all)? {
        Probe::Nobody => {}
        Probe::One(found) => search.record(*found),
        Probe::Many => search.refine(all, 0)?,
    }
    let _ = search
        .master
        .exchange_once(&request::snd_nke(ADDRESS_SELECTED));
    report.exchanges = master.exchanges().saturating_sub(start);
    Ok(report)
}

/// Polls primary addresses `0..=250` with REQ_UD2 (after SND_NKE) and reports each that
/// answers with an RSP_UD.
pub fn scan_primary<T: Transport>(
    master: &mut Master<T>,
    addresses: impl IntoIterator<Item = u8>,
    on_found: &mut dyn FnMut(&Found),
) -> Result<ScanReport, BusError> {
    let start = master.exchanges();
    let mut report = ScanReport::default();
    for address in addresses {
        match master.read_primary(address) {
            Ok(readout) => {
                let found = Found {
                    primary: Some(address),
                    secondary: readout
                        .telegrams
                        .first()
                        .and_then(|t| request::secondary_address_of(&t.bytes)),
                    decoded: readout.reading,
                };
                on_found(&found);
                report.found.push(found);
            }
            Err(e) if e.kind == BusErrorKind::Io => return Err(e),
            // Silence or a broken reply: nobody (usable) there.
            Err(_) => {}
        }
    }
    report.exchanges = master.exchanges().saturating_sub(start);
    Ok(report)
}

fn io_error<T: Transport>(master: &Master<T>, e: &std::io::Error) -> BusError {
    BusError::new(
        BusErrorKind::Io,
        1,
        "scan",
        &[],
        &[],
        &e.to_string(),
        &master.via(),
    )
}

struct Search<'a, T: Transport> {
    master: &'a mut Master<T>,
    report: &'a mut ScanReport,
    on_found: &'a mut dyn FnMut(&Found),
    /// The FCB of the next confirming REQ_UD2 to FD.
    fcb: bool,
}

impl<T: Transport> Search<'_, T> {
    fn record(&mut self, found: Found) {
        (self.on_found)(&found);
        self.report.found.push(found);
    }

    /// Fixes mask position `pos` to each value in turn; recurses where several meters answer.
    fn refine(&mut self, mask: [u8; 8], pos: usize) -> Result<(), BusError> {
        if pos >= POSITIONS {
            self.report.unresolved.push(mask);
            return Ok(());
        }
        let values: Vec<u8> = if pos < 8 {
            (0..=9).collect()
        } else {
            (0..=0xFE).collect()
        };
        for value in values {
            let narrowed = with_position(mask, pos, value);
            match self.probe(&narrowed)? {
                Probe::Nobody => {}
                Probe::One(found) => self.record(*found),
                Probe::Many => self.refine(narrowed, pos.saturating_add(1))?,
            }
        }
        Ok(())
    }

    /// Selects `mask` and tells whether nobody, one or several meters answer.
    fn probe(&mut self, mask: &[u8; 8]) -> Result<Probe, BusError> {
        let what = format!("select {}", request::secondary_address_text(mask));
        let frame = request::select_secondary_bytes(mask, false)
            .map_err(|e| io_error(self.master, &std::io::Error::other(e.to_string())))?;
        let attempts = self.master.timing().retries.saturating_add(1);
        let mut reply = Reply::Silence;
        for _ in 0..attempts {
            self.report.selects = self.report.selects.saturating_add(1);
            reply = self
                .master
                .exchange_once(&frame)
                .map_err(|e| io_error(self.master, &e))?;
            if !matches!(reply, Reply::Silence) {
                break;
            }
        }
        match reply {
            Reply::Silence => Ok(Probe::Nobody),
            r if r.is_ack() => self.confirm(&what),
            // Broken bytes, or an intact frame other than E5: several meters at once.
            _ => Ok(Probe::Many),
        }
    }

    /// After a clean `E5`: REQ_UD2 to FD names the selected meter, or shows a collision (a
    /// broken reply is not asked again: it is what several meters answering at once look
    /// like; a meter alone that was unlucky is found again when the search narrows down).
    fn confirm(&mut self, _what: &str) -> Result<Probe, BusError> {
        let frame = request::req_ud2(ADDRESS_SELECTED, self.fcb);
        let reply = self
            .master
            .exchange_once(&frame)
            .map_err(|e| io_error(self.master, &e))?;
        match reply {
            Reply::Frame { bytes, decoded } => {
                self.fcb = !self.fcb;
                Ok(Probe::One(Box::new(Found {
                    primary: decoded.mbus_link().and_then(|l| l.a),
                    secondary: request::secondary_address_of(&bytes),
                    decoded: *decoded,
                })))
            }
            Reply::Silence => Ok(Probe::Nobody),
            Reply::Broken { .. } | Reply::Undecodable { .. } => Ok(Probe::Many),
        }
    }
}

/// The mask with position `pos` set to `value` (an ID digit, or a whole byte from 8 on).
fn with_position(mut mask: [u8; 8], pos: usize, value: u8) -> [u8; 8] {
    if pos < 8 {
        // ID digits, most significant first: digit 0 is the high nibble of byte 3.
        let byte = 3usize.saturating_sub(pos / 2);
        if let Some(b) = mask.get_mut(byte) {
            *b = if pos % 2 == 0 {
                (value << 4) | (*b & 0x0F)
            } else {
                (*b & 0xF0) | (value & 0x0F)
            };
        }
    } else if let Some(b) = mask.get_mut(pos.saturating_sub(4)) {
        *b = value;
    }
    mask
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_fill_id_digits_then_bytes() {
        let all = [0xFF; 8];
        assert_eq!(
            request::secondary_address_text(&with_position(all, 0, 1)),
            "1FFFFFFFFFFFFFFF"
        );
        assert_eq!(
            request::secondary_address_text(&with_position(with_position(all, 0, 1), 7, 8)),
            "1FFFFFF8FFFFFFFF"
        );
        assert_eq!(
            request::secondary_address_text(&with_position(all, 8, 0x2D)),
            "FFFFFFFF2DFFFFFF"
        );
        assert_eq!(
            request::secondary_address_text(&with_position(all, 11, 0x07)),
            "FFFFFFFFFFFFFF07"
        );
    }
}
