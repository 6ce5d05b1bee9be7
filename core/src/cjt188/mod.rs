//! CJ/T 188 (2004 and 2018): the household-meter protocol Chinese water, heat and gas meters
//! speak on M-Bus, RS-485, IR and as the payload of NB-IoT messages.
//!
//! Layers: [`link`] holds the checked frame view `FE* 68 T A0…A6 C L DATA CS 16` with `emit`;
//! [`app`] reads the data field (`DI SER payload`, or `SER ST` of an exception reply) into
//! the model; [`encode`] writes the model back; [`request`] builds a master's requests;
//! [`explain`] annotates every byte; [`dlt645`] recognises DL/T 645 frames so they are
//! reported as `unsupported` rather than misread.
//!
//! ```
//! use meterwire::{decode, parse_hex, Options};
//!
//! // Digest §10 E2: reply to a 901F read of cold water meter 00010012345678.
//! let frame = parse_hex(
//!     "FE FE 68 10 78 56 34 12 00 01 00 81 16 90 1F 01 56 34 12 00 2C 00 00 12 00 2C \
//!      00 30 08 15 03 25 20 00 00 6F 16",
//! )?;
//! let d = decode(&frame, &Options::default())?;
//! assert_eq!(d.meter.as_ref().unwrap().id.as_str(), "00010012345678");
//! assert_eq!(d.records[0].number().unwrap().to_string(), "1234.56");
//! assert_eq!(d.records[1].storage(), Some(1)); // settlement-date total
//! # Ok::<(), meterwire::Error>(())
//! ```
//!
//! # Mapping into the model
//!
//! * `link`: design §2.2 — `preamble_len`, `meter_type`, `address` (A6…A0, 14 hex digits:
//!   BCD digits, `AA` for wildcard bytes, any other byte as its hex), `control`,
//!   `direction`, `exception`, `function` (omitted for codes CJ/T 188 does not define),
//!   `length` (the L field), `di`, `di_order`, `ser`.
//! * `meter.id` is the 14-digit address; `meter.medium` comes from T: 10H `cold_water`,
//!   11H (domestic hot water, 生活热水) `warm_water` (its usual 30–90 °C range is EN 13757's
//!   warm water), 12H `drinking_water`, 13H `reclaimed_water`, 14H–19H `water`, 20H `heat`,
//!   21H `cooling`, 22H `heat_cooling`, 23H–29H `heat`, 30H–39H `gas`, 40H–49H `other`;
//!   the `AA` wildcard has no medium; other codes are `unknown` (with a warning).
//!   `meter.medium_code` keeps T.
//! * `records`: one per value, in wire order, each with `label` (the field's name in the
//!   standard, e.g. `current_cumulative_flow`), `address` (the DI, `"0x901F"`) and `raw.data`
//!   (the field's bytes, value and unit code together). Storage numbers: current values 0,
//!   settlement-date values 1, history month −n (D11FH + n) n. The meter clock (real time)
//!   is a `datetime` record with storage 0; the time written by A015H has none.
//! * Values are exact decimals: `XXXXXX.XX` fields are 4 BCD bytes with 2 decimals, the heat
//!   meter's flow rate `XXXX.XXXX` 4 decimals, temperatures `XXXX.XX` °C, operating time
//!   whole hours. The unit code multiplies: `2D` (m³×10) makes `56 34 12 00` 12345.6 m3.
//! * Units (digest §7): J, Wh, kWh, MWh, kJ, MJ, GJ (quantity `energy`); W, kW, MW, J/h,
//!   kJ/h, MJ/h, GJ/h (`power`); L, m3 (`volume`); L/h, m3/h (`volume_flow`); the ×10 and
//!   ×100 codes scale the value. The unit code decides the quantity of a measured field (a gas
//!   meter reporting kWh gets `energy`). A code outside the table keeps the value unscaled,
//!   without unit, with a warning; encoding writes the code back.
//! * `status`: `raw` = ST0 | ST1 << 8; flags from ST0: D1–D0 `00` `valve_open`, `01`
//!   `valve_closed`, `11` `valve_fault` (`10` is undefined: a warning), D2 `low_battery`.
//!   ST1 and the manufacturer bits stay in `raw`.
//! * Payloads without a layout (vendor DIs such as 8108H or A201H, the 2018 additions
//!   A101H–A107H and A019H whose payloads are not public, any DI outside the table) become
//!   one record with quantity `other`, the DI as `address` and the bytes in `raw.data`.
//!   Control codes with no CJ/T 188 function keep the whole data field in
//!   `application_data`. Bytes after a known layout also go to `application_data`, with a
//!   warning.
//!
//! # Choices where the digest is lenient or silent
//!
//! * **DI byte order.** Both orders are accepted: the two bytes are matched against the DI
//!   table (901FH, D120H–D12BH, 8102H–8106H, 810AH, A010H–A019H, A101H–A107H, the vendor
//!   DIs the digest lists, and 903FH–907FH of one public gateway driver's 2018 table, whose
//!   payloads stay raw), high byte first tried first; `di_order` says which matched. A DI
//!   in neither order is read high byte first unless
//!   [`Options::with_cjt188_di_order`](crate::Options::with_cjt188_di_order) says otherwise.
//!   Encoding writes the DI in `di_order` (high byte first when absent), so
//!   `encode(decode(x)) == x`.
//! * **901FH layout.** A 19-byte payload is the water/gas layout, a 43-byte payload the heat
//!   layout, whatever T says; other lengths follow T (20H–29H heat). A payload that ends
//!   early decodes the fields it has, with a warning.
//! * **Non-BCD digits** (meters that send `FF` filler): the record gets `invalid: true`, no
//!   value, its bytes in `raw`, and a warning naming the byte offset; the frame still decodes.
//! * **Exception replies** (D6 = 1): `SER ST0 ST1` (L = 3); `SER ST0` (L = 2); `SER` (L = 1);
//!   with L = 4 or 5 and a table DI in front, `DI SER ST…`. Longer data: `SER ST0 ST1`, the
//!   rest in `application_data`.
//! * **Write replies** (84H, 95H, 96H): `DI SER ST0 ST1` (L = 5) or `DI SER ST0` (L = 4) or
//!   `DI SER`. The encoder writes two status bytes unless `link.length` is one less than that
//!   gives (the one-byte variant).
//! * **Read-address replies** (83H): `DI SER`, or (one driver) `DI SER A0…A6` — then a
//!   `bus_address` record.
//! * **Control code D5**: no defined function uses it; when set, the function is read from
//!   D4–D0 (firmware that borrows DL/T 645's follow-up flag), with a warning.
//! * **Price table (8102H, A010H)** [unconfirmed layout]: `price` records with 2 decimals and
//!   no unit (currency per m³) and `volume_threshold` records in whole m3, `tariff` 1–3.
//!   Purchases (8105H, A013H): `money` records with 2 decimals. Settlement and reading day:
//!   quantities `settlement_day`, `reading_day`. Key version: `key_version` (a binary byte);
//!   the new key of A014H is a record with quantity `other` and its 8 bytes in `raw`.
//! * **Valve commands (A017H)**: a `valve` record whose value is `open` (55H), `close`
//!   (99H), `exercise` (AAH), `half_open` (77H), or `0xNN` for another byte.
//! * **Addresses in payloads** (A018H, the repeated 810AH address): `bus_address` records
//!   whose value is the 14-digit text.
//! * **Wake-up bytes**: any number; a frame of only `FE` bytes is `truncated`.
//! * **Length errors**: an L field that disagrees with a frame whose checksum and end byte
//!   verify at another length is `length` at the L field; bytes after a complete frame are
//!   `length` at the first of them; an input that ends early is `truncated` at its length.
//!
//! # Detection
//!
//! [`crate::detect`] tells CJ/T 188 (`FE* 68 T A0…A6 C L`) from wired M-Bus (`68 L L 68`) and
//! DL/T 645 (`FE* 68 A0…A5 68 C L`): a whole frame whose structure verifies decides; for
//! broken frames the leading bytes do (`FE` commits to CJ/T 188 or DL/T 645, a second `68`
//! after six address bytes to DL/T 645, `68 L L 68` to M-Bus as before). DL/T 645 frames are
//! `unsupported` with a message naming DL/T 645.

pub mod app;
pub mod dlt645;
pub mod encode;
pub mod explain;
pub mod link;
pub mod request;

use alloc::vec::Vec;

use crate::error::{ErrorKind, Result};
use crate::framing::{in_range, Block, Lead, Scan, Search, Status, StreamContext};
use crate::model::{Decoded, Link, Protocol};
use crate::protocol::{Codec, DetectStep, Detection, Framing, Stage};
use crate::Options;
use link::Cjt188Frame;
use wide::u8x16;

/// The registry entry of CJ/T 188 ([`crate::protocol`]). DL/T 645 frames are recognised here
/// too, so they are reported as `unsupported` rather than misread.
pub static CODEC: Codec = Codec {
    protocol: Protocol::Cjt188,
    title: "CJ/T 188",
    detect: &[
        DetectStep::new(Stage::WholeFrame, detect_whole_frame),
        DetectStep::new(Stage::Fallback, detect_leading_bytes),
    ],
    decode,
    encode: Some(encode_model),
    framing: Some(
        Framing::new(
            Search::Always,
            Lead::First(&[link::PREAMBLE, link::START]),
            scan,
            Framing::no_requests,
        )
        .with_block_filter(block_filter),
    ),
};

/// A whole CJ/T 188 (or DL/T 645) frame whose length, checksum and end byte verify is that,
/// even when its bytes look like M-Bus `68 L L 68` (address bytes can) or like a wM-Bus
/// telegram (a 105-byte CJ/T 188 frame of meter type 44H starts like an SND_NR of L = 68H);
/// a frame that also verifies as wired M-Bus stays M-Bus.
fn detect_whole_frame(bytes: &[u8]) -> Detection {
    match bytes {
        [link::PREAMBLE | link::START, ..]
            if whole_frame(bytes) && crate::mbus::link::Frame::parse(bytes).is_err() =>
        {
            Some(detect(bytes))
        }
        _ => None,
    }
}

/// After wM-Bus and M-Bus had their say: `FE* 68 T A…` is CJ/T 188, `FE* 68 A×6 68` DL/T 645
/// (`unsupported`), another `68 …` unknown.
fn detect_leading_bytes(bytes: &[u8]) -> Detection {
    match bytes {
        [link::PREAMBLE | link::START, ..] => Some(detect(bytes)),
        _ => None,
    }
}

fn encode_model(decoded: &Decoded, _: &Options) -> Result<Vec<u8>> {
    encode::encode(decoded)
}

/// Decodes exactly one CJ/T 188 frame (wake-up bytes included).
pub fn decode(bytes: &[u8], opts: &Options) -> Result<Decoded> {
    let frame = match Cjt188Frame::new_checked(bytes) {
        Ok(frame) => frame,
        Err(e) => {
            // A DL/T 645 frame given to this decoder: say what it is.
            if e.kind() != ErrorKind::Empty && dlt645::verified_len(bytes) == Some(bytes.len()) {
                return Err(dlt645::unsupported(link::preamble_len(bytes)));
            }
            return Err(e);
        }
    };
    let mut out = Decoded::new(Protocol::Cjt188, Link::Cjt188(frame.link()));
    app::decode(&frame, opts.cjt188_di_order, &mut out)?;
    if opts.explain {
        out.spans = explain::spans(bytes, &out);
    }
    Ok(out)
}

/// Whether a frame that verifies both as CJ/T 188 and as DL/T 645 reads sensibly as CJ/T 188:
/// a meter type of its families and a control code naming a function.
fn plausible(body: &[u8]) -> bool {
    let t = body.get(link::field::T).copied().unwrap_or(0);
    let c = body.get(link::field::C).copied().unwrap_or(0);
    app::medium_of(t) != Some("unknown") && link::function_of(c).is_some()
}

/// Whether `body` (from its `68`) starts like CJ/T 188: a meter type of the families (or
/// `AA`), then address bytes that are BCD or `AA`, as far as the input goes.
fn shape(body: &[u8]) -> bool {
    let Some(&t) = body.get(link::field::T) else {
        return body.first() == Some(&link::START);
    };
    body.first() == Some(&link::START)
        && app::medium_of(t) != Some("unknown")
        && body
            .get(link::field::ADDRESS.start..)
            .unwrap_or(&[])
            .iter()
            .take(7)
            .all(|b| dlt645::address_byte(*b))
}

/// Detection among the protocols that start `FE* 68` (design §3):
/// a whole frame whose structure verifies decides; otherwise the leading bytes do. DL/T 645
/// is `unsupported`.
fn detect(bytes: &[u8]) -> Result<Protocol> {
    let p = link::preamble_len(bytes);
    let body = bytes.get(p..).unwrap_or(&[]);
    let whole = Some(bytes.len());
    match (
        link::verified_len(bytes) == whole,
        dlt645::verified_len(bytes) == whole,
    ) {
        (true, false) => return Ok(Protocol::Cjt188),
        (false, true) => return Err(dlt645::unsupported(p)),
        (true, true) if plausible(body) => return Ok(Protocol::Cjt188),
        (true, true) => return Err(dlt645::unsupported(p)),
        (false, false) => {}
    }
    // A broken or cut frame: a second 68 after six address bytes is DL/T 645, unless the
    // frame is also CJ/T-shaped and its length fits CJ/T 188's L.
    let cjt_length_fits = body
        .get(link::field::L)
        .is_some_and(|l| body.len() == link::field::OVERHEAD.saturating_add(usize::from(*l)));
    if dlt645::shape(body) && !(shape(body) && cjt_length_fits) {
        return Err(dlt645::unsupported(p));
    }
    if p > 0 || shape(body) {
        return Ok(Protocol::Cjt188);
    }
    Err(crate::protocol::unknown_protocol())
}

/// Whether the whole input is a CJ/T 188 or DL/T 645 frame whose structure verifies.
fn whole_frame(bytes: &[u8]) -> bool {
    let whole = Some(bytes.len());
    // The lengths the headers claim first: the checksums only when one is the whole input.
    (link::claimed_len(bytes) == whole && link::verified_len(bytes) == whole)
        || (dlt645::claimed_len(bytes) == whole && dlt645::verified_len(bytes) == whole)
}

/// The length of the CJ/T 188 or DL/T 645 frame (wake-up bytes included) that starts a
/// stream at `rest` and verifies, for `decode_stream`.
fn stream_frame_len(rest: &[u8]) -> Option<usize> {
    match (link::verified_len(rest), dlt645::verified_len(rest)) {
        (Some(c), Some(d)) => {
            let body = rest.get(link::preamble_len(rest)..).unwrap_or(&[]);
            Some(if plausible(body) { c } else { d })
        }
        (c, d) => c.or(d),
    }
}

/// Whether a meter type byte is one CJ/T 188 defines (10H–49H) or the wildcard `AA`: a
/// frame in a stream must have one.
fn stream_meter_type(t: u8) -> bool {
    (0x10..=0x49).contains(&t) || t == link::WILDCARD
}

/// The positions where [`scan`] can find something: a wake-up byte before another or before
/// `68`; `68` before a meter type [`stream_meter_type`] accepts; `68` with a second `68` seven
/// bytes on (DL/T 645).
#[inline]
fn block_filter(w: &Block) -> u8x16 {
    let [b0, b1, _, _, _, _, _, b7, ..] = *w;
    let s = u8x16::splat;
    let start = s(link::START);
    let wake = b0.cmp_eq(s(link::PREAMBLE)) & (b1.cmp_eq(s(link::PREAMBLE)) | b1.cmp_eq(start));
    let meter_type = in_range(b1, 0x10, 0x49) | b1.cmp_eq(s(link::WILDCARD));
    wake | (b0.cmp_eq(start) & (meter_type | b7.cmp_eq(start)))
}

/// The most wake-up bytes a frame in a stream may start with. A longer run's first bytes are
/// garbage, and no position counts a long run again, so the search stays linear.
const MAX_STREAM_PREAMBLE: usize = 16;

/// What starts `rest` in a stream: a CJ/T 188 (or DL/T 645) frame whose length, checksum and
/// end byte verify; the beginning of one; or a whole plausible frame whose checksum fails.
fn scan(rest: &[u8], _: &StreamContext) -> Scan {
    let p = rest
        .iter()
        .take(MAX_STREAM_PREAMBLE.saturating_add(1))
        .take_while(|b| **b == link::PREAMBLE)
        .count();
    if p > MAX_STREAM_PREAMBLE {
        return Scan::None;
    }
    let body = rest.get(p..).unwrap_or(&[]);
    let dlt645_shape = body.get(dlt645::START2) == Some(&link::START);
    if body.get(1).is_some_and(|t| !stream_meter_type(*t)) && !dlt645_shape && body.len() > 7 {
        return Scan::None;
    }
    let cjt188 = link::frame_status(rest);
    // Checksums are summed only where an end byte stands at the end (noise rarely has one).
    let ends = |len: usize| len.checked_sub(1).and_then(|i| rest.get(i)) == Some(&link::STOP);
    let cjt188_whole = matches!(cjt188, Ok(Status::Complete(len)) if ends(len));
    if cjt188_whole || dlt645::whole_len(rest).is_some_and(ends) {
        if let Some(len) = stream_frame_len(rest) {
            return Scan::Frame(len);
        }
    }
    let cjt188_needed = match cjt188 {
        Ok(Status::Incomplete { needed }) => Some(needed),
        _ => None,
    };
    if let Some(needed) = [cjt188_needed, dlt645::needed(rest)]
        .into_iter()
        .flatten()
        .min()
    {
        return Scan::Incomplete(needed);
    }
    match cjt188 {
        Ok(Status::Complete(len)) if cjt188_whole && plausible(rest.get(p..).unwrap_or(&[])) => {
            Scan::Invalid {
                len,
                kind: ErrorKind::Checksum,
            }
        }
        _ => Scan::None,
    }
}
