//! Wireless M-Bus (EN 13757-4) with the OMS security layers (`wmbus.md`): the data link layer
//! in format A, B or CRC-free ([`link`]), the extended link layer (ELL, CI 8C–8F), the
//! authentication and fragmentation layer (AFL, CI 90), the transport layer (CI 7A/72/78 and
//! the compact frames 7B/73/79), security modes 0, 5, 7 and 13 ([`security`]), and the
//! EN 13757-3 records shared with wired M-Bus ([`crate::mbus::record`]).
//!
//! Compact frames carry only a format signature and the data; their DIF/VIF layout comes from
//! a full frame seen earlier. A [`Session`] remembers those layouts across the telegrams of
//! one `decode_many` or stream call.

pub mod diehl;
pub mod encode;
pub mod explain;
pub mod link;
pub mod security;
pub mod vendor;
pub mod view;

use alloc::borrow::Cow;
use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::error::{Detail, Error, ErrorKind, Layer, Result};
use crate::framing::{Lead, Search};
use crate::keys::Key;
use crate::mbus::datatypes::bcd_digits;
use crate::mbus::record::{self, Context};
use crate::mbus::tables;
use crate::model::{
    Bytes, Code16, Code8, Decoded, FrameFormat, Link, Meter, Protocol, Record, ShortText, Tpl,
    WmbusAfl, WmbusEll, WmbusLink,
};
use crate::protocol::{Codec, DetectStep, Detection, Framing, Stage};
use crate::reader::Reader;
use crate::Options;
use link::{field, Deframed};

/// The registry entry of wireless M-Bus ([`crate::protocol`]). Telegrams start with their
/// length, not a start byte: detection needs the exact length and a CRC or header that
/// agrees; in a stream a telegram must verify its CRCs unless the caller names `wmbus`.
pub static CODEC: Codec = Codec {
    protocol: Protocol::Wmbus,
    title: "wireless M-Bus / OMS",
    detect: &[DetectStep::new(Stage::Structure, detect)],
    decode,
    encode: Some(encode_model),
    framing: Some(
        Framing::new(
            Search::AlwaysAloneWhenNamed,
            Lead::Second(link::STREAM_C_FIELDS),
            link::scan,
            Framing::no_requests,
        )
        .with_block_filter(link::block_filter),
    ),
};

/// L must fit the input exactly (a length no M-Bus or CJ/T 188 frame can have with the same
/// first byte) and a format-A first block CRC, a format-B CRC, or a known C field with a
/// plausible manufacturer agree.
fn detect(bytes: &[u8]) -> Detection {
    link::commits(bytes).then_some(Ok(Protocol::Wmbus))
}

/// Encodes with the keys of `opts` (security modes 5 and 7, ELL AES-CTR).
fn encode_model(decoded: &Decoded, opts: &Options) -> Result<Vec<u8>> {
    encode::encode(decoded, &opts.keys)
}

/// The largest CRC-free telegram (L is one byte).
const MAX_LEN: usize = 256;

/// The warning of design §3 for payloads flagged encrypted that are already plaintext.
pub const ALREADY_DECRYPTED: &str = "already_decrypted";

/// The DIF/VIF layout of one record of a full frame, for compact frames.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Layout {
    /// DIF, DIFEs, VIF, VIFEs of each record, concatenated.
    headers: Vec<u8>,
    /// Where each record's header ends in `headers`.
    ends: Vec<usize>,
}

/// State kept across the telegrams of one call: the format signatures of full frames seen so
/// far, so later compact frames (CI 79/7B/73) with the same signature can be decoded.
#[derive(Clone, Debug, Default)]
pub struct Session {
    formats: Vec<(u16, Layout)>,
}

impl Session {
    /// An empty session.
    pub fn new() -> Session {
        Session::default()
    }

    /// Decodes one telegram (any protocol; wM-Bus telegrams use and feed the session).
    pub fn decode(&mut self, bytes: &[u8], opts: &Options) -> Result<Decoded> {
        let protocol = match opts.protocol {
            Some(p) => p,
            None => crate::detect(bytes)?,
        };
        if protocol == Protocol::Wmbus {
            let mut result = decode_with(bytes, opts, Some(self));
            crate::redact::apply(&mut result, opts);
            result
        } else {
            crate::decode(bytes, opts)
        }
    }

    /// Decodes one frame that a stream deframer cut as `protocol` (wM-Bus telegrams use and
    /// feed the session).
    pub(crate) fn decode_as(
        &mut self,
        protocol: Protocol,
        bytes: &[u8],
        opts: &Options,
    ) -> Result<Decoded> {
        let mut result = if protocol == Protocol::Wmbus {
            decode_with(bytes, opts, Some(self))
        } else {
            match crate::protocol::codec(protocol) {
                Some(codec) => codec.decode(bytes, opts),
                None => Err(crate::protocol::no_decoder()),
            }
        };
        crate::redact::apply(&mut result, opts);
        result
    }

    /// The number of format signatures learnt.
    pub fn known_formats(&self) -> usize {
        self.formats.len()
    }

    /// Whether `d`, decoded in this session, is a compact frame whose format signature the
    /// session has not learnt: its data was kept as hex, where a session that had seen the
    /// full frame of that format earlier would have read its records. Frames decoded without
    /// this are the same in any session (full frames only feed it), which is what lets a batch
    /// be split between sessions and read in parallel.
    pub fn lacks_format_of(&self, d: &Decoded) -> bool {
        d.wmbus_link()
            .and_then(|l| l.format_signature)
            .is_some_and(|sig| self.layout(sig.0).is_none())
    }

    fn learn(&mut self, d: &Decoded) {
        let Some(layout) = layout_of(d) else {
            return;
        };
        let sig = link::crc16(&layout.headers);
        if let Some(slot) = self.formats.iter_mut().find(|(s, _)| *s == sig) {
            slot.1 = layout;
        } else {
            self.formats.push((sig, layout));
        }
    }

    fn layout(&self, sig: u16) -> Option<&Layout> {
        self.formats.iter().find(|(s, _)| *s == sig).map(|(_, l)| l)
    }
}

/// The header layout of a decoded full frame's records, if it can be one of a compact frame.
fn layout_of(d: &Decoded) -> Option<Layout> {
    if d.records.is_empty() || d.encrypted {
        return None;
    }
    let mut headers = Vec::new();
    let mut ends = Vec::with_capacity(d.records.len());
    for rec in &d.records {
        let raw = rec.raw()?;
        headers.extend_from_slice(raw.dif());
        headers.extend_from_slice(raw.vif());
        ends.push(headers.len());
    }
    Some(Layout { headers, ends })
}

/// Decodes one wM-Bus telegram (no session: compact frames report their signature).
pub fn decode(bytes: &[u8], opts: &Options) -> Result<Decoded> {
    decode_with(bytes, opts, None)
}

/// Decodes one telegram with an optional session for compact frames.
pub fn decode_with(bytes: &[u8], opts: &Options, session: Option<&mut Session>) -> Result<Decoded> {
    let deframed = Deframed::parse(bytes)?;
    let format = deframed.format;
    let mut out = decode_telegram(&deframed.data, format, opts, session.as_deref())
        .map_err(|e| shift_error(e, format))?;
    if let Some(s) = session {
        if out.wmbus_link().is_some_and(|l| {
            l.format_signature.is_none()
                && matches!(l.tpl, Some(Tpl::Short | Tpl::Long | Tpl::None))
        }) {
            s.learn(&out);
        }
    }
    if opts.explain {
        out.spans = explain::spans(bytes, &deframed.data, &out);
    }
    Ok(out)
}

fn shift_error(e: Error, format: FrameFormat) -> Error {
    if e.layer() == Layer::Link && e.kind() != ErrorKind::Length {
        return e;
    }
    let offset = link::input_offset(format, e.offset());
    Error::new(e.kind(), e.layer(), offset, e.detail())
}

fn byte(b: &[u8], i: usize) -> u8 {
    b.get(i).copied().unwrap_or(0)
}

fn le16(b: &[u8], i: usize) -> u16 {
    u16::from_le_bytes([byte(b, i), byte(b, i.saturating_add(1))])
}

fn le32(b: &[u8], i: usize) -> u32 {
    u32::from_le_bytes([
        byte(b, i),
        byte(b, i.saturating_add(1)),
        byte(b, i.saturating_add(2)),
        byte(b, i.saturating_add(3)),
    ])
}

/// A meter identity from `M(2) ID(4) ver type` (DLL order) or `ID(4) M(2) ver type` (TPL).
fn address(m: u16, id: &[u8], version: u8, device: u8) -> Meter {
    let mut text = ShortText::default();
    let _ = bcd_digits(id, &mut text);
    Meter {
        id: text,
        manufacturer: Some(tables::manufacturer_letters(m)),
        manufacturer_code: Some(Code16(m)),
        version: Some(version),
        medium: Some(Cow::Borrowed(tables::medium_name(device))),
        medium_code: Some(Code8(device)),
        access_no: None,
        status: None,
    }
}

fn dll_address(t: &[u8]) -> Meter {
    address(
        le16(t, field::M.start),
        t.get(field::ID).unwrap_or(&[]),
        byte(t, field::VERSION),
        byte(t, field::DEVICE),
    )
}

pub(crate) fn decrypt_error(at: usize, text: &'static str) -> Error {
    Error::new(ErrorKind::Decrypt, Layer::Security, at, Detail::Text(text))
}

/// What the transport layer after the CI looks like.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Apl {
    /// Records (72/7A/78).
    Full,
    /// Compact frame (73/7B/79).
    Compact,
    /// No application layer (8A/8B).
    Nothing,
}

/// Whether `ci`, the first CI after a telegram's link header, is one a meter's data telegram
/// starts with: the stream search's plausibility test before any CRC. Data with a long,
/// short or no transport header (72, 7A, 78) and its compact forms (73, 7B, 79), application
/// errors and alarms (70, 71, 74, 75), the extended link layer (8C–8F), the authentication
/// and fragmentation layer (90) and manufacturer layouts (A0–B7). Commands to a meter and
/// the rarer CIs decode when the caller names wM-Bus.
fn ci_known(ci: u8) -> bool {
    matches!(
        ci,
        0x70..=0x75 | 0x78..=0x7B | 0x8C..=0x90 | 0xA0..=0xB7
    )
}

fn tpl_of(ci: u8) -> Option<(Tpl, Apl)> {
    Some(match ci {
        0x7A | 0x5A | 0x61 | 0x65 | 0x6A | 0x6E | 0x74 | 0x7D | 0x7F | 0x67 | 0xC1 | 0xC4 => (
            Tpl::Short,
            if ci == 0x7A { Apl::Full } else { Apl::Nothing },
        ),
        0x7B => (Tpl::Short, Apl::Compact),
        0x72 | 0x5B | 0x53 | 0x55 | 0x60 | 0x64 | 0x68 | 0x6B | 0x6F | 0x75 | 0x7C | 0x7E
        | 0x80 | 0x84 | 0x85 | 0x87 | 0x8B | 0xC0 | 0xC2 | 0xC3 | 0xC5 | 0x6C | 0x6D => {
            (Tpl::Long, if ci == 0x72 { Apl::Full } else { Apl::Nothing })
        }
        0x73 => (Tpl::Long, Apl::Compact),
        0x8A | 0x88 => (Tpl::Short, Apl::Nothing),
        0x78 => (Tpl::None, Apl::Full),
        0x79 => (Tpl::None, Apl::Compact),
        _ => return None,
    })
}

/// The name of a CI this decoder does not read further (`mbus-tables.md` §8).
fn ci_name(ci: u8) -> &'static str {
    match ci {
        0x50..=0x55 | 0x5C => "application reset / select / command to device",
        0x5A | 0x5B => "command to device",
        0x60 | 0x61 | 0x7C | 0x7D => "DLMS/COSEM application layer",
        0x64 | 0x65 | 0x7E | 0x7F => "OBIS-based application layer",
        0x66..=0x68 => "response of selected application",
        0x69..=0x6B => "format frame",
        0x6C | 0x6D => "time synchronisation",
        0x6E..=0x70 => "application error",
        0x71 | 0x74 | 0x75 => "alarm",
        0x80 | 0x84 | 0x85 | 0x8A | 0x8B => "transport layer only",
        0x81 => "network layer",
        0x82 | 0x83 | 0x87..=0x89 => "network management",
        0x86 => "extended link layer V",
        0xA0..=0xB7 => "manufacturer specific",
        0xB8..=0xBF => "set baud rate",
        0xC0..=0xC2 => "image transfer",
        0xC3..=0xC5 => "security information transfer",
        _ => "reserved",
    }
}

/// Everything known about the telegram while its layers are read.
struct State {
    /// `M ‖ A` of the DLL.
    dll: [u8; 8],
    /// The DLL's manufacturer is of the Diehl group (published default keys apply).
    diehl: bool,
    warnings: Vec<String>,
}

#[allow(clippy::too_many_lines)]
fn decode_telegram(
    t: &[u8],
    format: FrameFormat,
    opts: &Options,
    session: Option<&Session>,
) -> Result<Decoded> {
    let n = t.len();
    let mut work = [0u8; MAX_LEN];
    work.get_mut(..n)
        .ok_or(Error::short_field(0, "telegram", MAX_LEN, n))?
        .copy_from_slice(t);
    let mut dll = [0u8; 8];
    dll.copy_from_slice(
        t.get(field::ADDRESS)
            .ok_or(Error::short_field(2, "DLL address", 8, n))?,
    );
    let c = byte(t, field::C);
    let mut wl = WmbusLink {
        frame_format: format,
        l: byte(t, field::L),
        c: Code8(c),
        function: link::function_name(c).map(Cow::Borrowed),
        ..WmbusLink::default()
    };
    let mut out = Decoded::new(Protocol::Wmbus, Link::Wmbus(WmbusLink::default()));
    let mut meter = dll_address(t);
    let mut st = State {
        dll,
        diehl: meter
            .manufacturer
            .as_ref()
            .is_some_and(|m| diehl::is_diehl(m.as_str())),
        warnings: Vec::new(),
    };
    if wl.function.is_none() {
        st.warnings
            .push(format!("C field 0x{c:02X} names no EN 13757-4 function"));
    }
    let mut pos = field::CI;
    let mut message_counter: Option<u32> = None;
    let result = (|| -> Result<()> {
        // Extended link layer.
        let mut ci = byte(&work, pos);
        if pos >= n {
            return Ok(());
        }
        if (0x8C..=0x8F).contains(&ci) {
            let ell_len = match ci {
                0x8C => 2,
                0x8D => 8,
                0x8E => 10,
                _ => 16,
            };
            let h = work
                .get(pos.saturating_add(1)..pos.saturating_add(1).saturating_add(ell_len))
                .ok_or(Error::short_field(
                    pos,
                    "extended link layer",
                    ell_len,
                    n.saturating_sub(pos),
                ))?;
            let mut ell = WmbusEll {
                ci: Code8(ci),
                cc: Code8(byte(h, 0)),
                access_no: byte(h, 1),
                ..WmbusEll::default()
            };
            let mut at = 2usize;
            if matches!(ci, 0x8E | 0x8F) {
                ell.address = Some(address(
                    le16(h, 2),
                    h.get(4..8).unwrap_or(&[]),
                    byte(h, 8),
                    byte(h, 9),
                ));
                at = 10;
            }
            let mut sn_crc: Option<(u32, usize)> = None;
            if matches!(ci, 0x8D | 0x8F) {
                let sn = le32(h, at);
                ell.session_number = Some(sn);
                sn_crc = Some((
                    sn,
                    pos.saturating_add(1).saturating_add(at).saturating_add(4),
                ));
            }
            // The ELL's access number stands in for the TPL's when there is none.
            wl.access_no = Some(ell.access_no);
            if let Some((sn, crc_at)) = sn_crc {
                let payload = work.get_mut(crc_at..n).unwrap_or(&mut []);
                let stored = le16(payload, 0);
                let crc_ok =
                    |p: &[u8]| p.len() >= 2 && link::crc16(p.get(2..).unwrap_or(&[])) == le16(p, 0);
                let encryption = (sn >> 29) & 0x07;
                if encryption == 1 {
                    if crc_ok(payload) {
                        st.warnings.push(String::from(ALREADY_DECRYPTED));
                    } else if let Some(key) = key_for(opts, &meter) {
                        if key.is_des() {
                            return Err(decrypt_error(
                                crc_at,
                                "ELL AES-128-CTR needs a 16-byte AES-128 key",
                            ));
                        }
                        let mut sn_bytes = [0u8; 4];
                        sn_bytes.copy_from_slice(&sn.to_le_bytes());
                        let counter = security::ell_counter(&st.dll, ell.cc.0, sn_bytes);
                        security::ctr_apply(key, &counter, payload);
                        if !crc_ok(payload) {
                            return Err(decrypt_error(
                                crc_at,
                                "ELL payload CRC does not verify after AES-CTR decryption: wrong key",
                            ));
                        }
                    } else {
                        out.encrypted = true;
                        out.encrypted_data = Some(Bytes::new(payload));
                        st.warnings.push(String::from(
                            "payload encrypted with ELL AES-128-CTR: no key given",
                        ));
                        wl.ell = Some(Box::new(ell));
                        return Ok(());
                    }
                } else if encryption != 0 {
                    out.encrypted = true;
                    out.encrypted_data = Some(Bytes::new(payload));
                    st.warnings.push(format!(
                        "ELL encryption {encryption} is not supported: payload kept as is"
                    ));
                    wl.ell = Some(Box::new(ell));
                    return Ok(());
                } else if !crc_ok(payload) {
                    st.warnings.push(format!(
                        "ELL payload CRC 0x{stored:04X} does not match the payload"
                    ));
                }
                ell.payload_crc = Some(Code16(le16(payload, 0)));
                pos = crc_at.saturating_add(2);
            } else {
                pos = pos.saturating_add(1).saturating_add(ell_len);
            }
            wl.ell = Some(Box::new(ell));
            if pos >= n {
                return Ok(());
            }
            ci = byte(&work, pos);
        }
        // Authentication and fragmentation layer.
        if ci == 0x90 {
            let afll = usize::from(byte(&work, pos.saturating_add(1)));
            let start = pos.saturating_add(2);
            let h = work
                .get(start..start.saturating_add(afll))
                .filter(|_| start.saturating_add(afll) <= n)
                .ok_or(Error::short_field(
                    pos,
                    "AFL",
                    afll.saturating_add(2),
                    n.saturating_sub(pos),
                ))?;
            let fcl = le16(h, 0);
            let mut afl = WmbusAfl {
                fcl: Code16(fcl),
                fragment_id: u8::try_from(fcl & 0xFF).unwrap_or(0),
                more_fragments: fcl & 0x4000 != 0,
                ..WmbusAfl::default()
            };
            let mut r = Reader::new(h, start);
            r.take(2, "AFL FCL")?;
            let mut mcl = None;
            if fcl & 0x2000 != 0 {
                let m = r.u8("AFL MCL")?;
                afl.mcl = Some(Code8(m));
                mcl = Some(m);
            }
            if fcl & 0x0200 != 0 {
                let k = r.take(2, "AFL KI")?;
                afl.key_info = Some(Code16(le16(k, 0)));
            }
            if fcl & 0x0800 != 0 {
                let m = r.take(4, "AFL MCR")?;
                afl.message_counter = Some(le32(m, 0));
                message_counter = afl.message_counter;
            }
            if fcl & 0x0400 != 0 {
                let len = match mcl.map(|m| m & 0x0F) {
                    Some(3) => 2,
                    Some(4) => 4,
                    Some(5) => 8,
                    Some(6) | Some(8) => 12,
                    Some(7) => 16,
                    _ => r
                        .remaining()
                        .saturating_sub(if fcl & 0x1000 != 0 { 2 } else { 0 }),
                };
                afl.mac = Some(Bytes::new(r.take(len, "AFL MAC")?));
                st.warnings.push(String::from(
                    "AFL MAC present and not verified (its exact input is not confirmed by a published vector)",
                ));
            }
            if fcl & 0x1000 != 0 {
                let m = r.take(2, "AFL ML")?;
                afl.message_length = Some(le16(m, 0));
            }
            if !r.is_empty() {
                st.warnings
                    .push(String::from("AFL: bytes after its last field"));
            }
            if afl.more_fragments {
                st.warnings.push(String::from(
                    "AFL: more fragments follow; this telegram carries one fragment",
                ));
            }
            wl.afl = Some(Box::new(afl));
            pos = start.saturating_add(afll);
            if pos >= n {
                return Ok(());
            }
            ci = byte(&work, pos);
        }
        wl.ci = Some(Code8(ci));
        let body_start = pos.saturating_add(1);
        let Some((tpl, apl)) = tpl_of(ci) else {
            let manufacturer = meter.manufacturer.clone().unwrap_or_default();
            // PRIOS: a 4-byte header after the CI, then at least one scrambled byte.
            if diehl::is_prios(manufacturer.as_str(), c, ci) && n > body_start.saturating_add(4) {
                return diehl_prios(
                    t, &mut work, n, opts, &mut meter, &mut wl, &mut out, &mut st,
                );
            }
            if vendor::is_apator_na1(&meter, ci) {
                let payload = work.get_mut(body_start..n).unwrap_or(&mut []);
                let key = key_for(opts, &meter);
                if vendor::decode_apator_na1(
                    payload,
                    body_start,
                    &st.dll,
                    key,
                    &mut wl,
                    &mut out,
                    &mut st.warnings,
                )? {
                    meter.access_no = wl.access_no;
                    return Ok(());
                }
            }
            let data = work.get(body_start..n).unwrap_or(&[]);
            if let Some((format, records)) = vendor::manufacturer_ci(&meter, ci, data) {
                wl.manufacturer_format = Some(Cow::Borrowed(format));
                out.manufacturer_data = Some(Bytes::new(data));
                out.records = records.into_iter().map(Record::from).collect();
                return Ok(());
            }
            match ci {
                0xA0..=0xB7 => {
                    out.manufacturer_data = Some(Bytes::new(data));
                    st.warnings.push(format!(
                        "CI 0x{ci:02X}: manufacturer-specific application layer, kept as hex"
                    ));
                }
                0x70 => {
                    out.application_data = Some(Bytes::new(data));
                    st.warnings
                        .push(String::from("CI 0x70: application error, kept as hex"));
                }
                _ => {
                    if !data.is_empty() {
                        out.application_data = Some(Bytes::new(data));
                    }
                    st.warnings.push(format!(
                        "CI 0x{ci:02X} ({}) is not decoded; its data is kept as hex",
                        ci_name(ci)
                    ));
                }
            }
            return Ok(());
        };
        wl.tpl = Some(tpl);
        let mut r = Reader::new(work.get(body_start..n).unwrap_or(&[]), body_start);
        let mut config = None;
        match tpl {
            Tpl::Long => {
                let h = r.take(12, "long transport header")?;
                let tpl_meter = address(
                    le16(h, 4),
                    h.get(0..4).unwrap_or(&[]),
                    byte(h, 6),
                    byte(h, 7),
                );
                wl.dll_address = Some(Box::new(core::mem::replace(&mut meter, tpl_meter)));
                meter.access_no = Some(byte(h, 8));
                meter.status = Some(byte(h, 9));
                config = Some(le16(h, 10));
            }
            Tpl::Short => {
                let h = r.take(4, "short transport header")?;
                meter.access_no = Some(byte(h, 0));
                meter.status = Some(byte(h, 1));
                config = Some(le16(h, 2));
            }
            _ => {}
        }
        if let Some(sts) = meter.status {
            out.status = Some(tables::header_status(sts));
        }
        if meter.access_no.is_some() {
            wl.access_no = meter.access_no;
        }
        if apl == Apl::Nothing {
            let data = r.take_rest();
            if !data.is_empty() {
                out.application_data = Some(Bytes::new(data));
            }
            st.warnings.push(format!(
                "CI 0x{ci:02X} ({}) is not decoded; its data is kept as hex",
                ci_name(ci)
            ));
            if let Some(cfg) = config {
                wl.config = Some(Code16(cfg));
            }
            return Ok(());
        }
        let mut enc_len = 0usize;
        let mut real_data_check = None;
        if let Some(cfg) = config {
            wl.config = Some(Code16(cfg));
            let mode = u8::try_from((cfg >> 8) & 0x1F).unwrap_or(0);
            wl.security_mode = Some(mode);
            match mode {
                0 => {}
                2 | 5 | 7 => {
                    let blocks = u8::try_from((cfg >> 4) & 0x0F).unwrap_or(0);
                    wl.encrypted_blocks = Some(blocks);
                    if mode == 7 {
                        wl.config_ext = Some(Code8(r.u8("configuration field extension")?));
                    }
                    enc_len = usize::from(blocks).saturating_mul(16);
                    if enc_len > r.remaining() {
                        st.warnings.push(format!(
                            "configuration field names {blocks} encrypted blocks but only {} bytes follow",
                            r.remaining()
                        ));
                        enc_len = r.remaining() & !0x0F;
                    }
                }
                13 => {
                    out.encrypted = true;
                    out.encrypted_data = Some(Bytes::new(r.take_rest()));
                    st.warnings.push(String::from(
                        "security mode 13 (OMS TLS): payload kept opaque",
                    ));
                    return Ok(());
                }
                _ if ci == 0x7A
                    && body_start == field::CI.saturating_add(1)
                    && diehl::is_real_data(cfg)
                    && st.diehl
                    && matches!(c, 0x44 | 0x46) =>
                {
                    // Diehl real data (CI 7A right after the address, no ELL): the bits of
                    // "mode" are the LFSR check (`diehl.rs`).
                    wl.manufacturer_format = Some(Cow::Borrowed(diehl::REAL_DATA));
                    real_data_check = Some(cfg.to_be_bytes()[0]);
                }
                other => {
                    out.encrypted = true;
                    out.encrypted_data = Some(Bytes::new(r.take_rest()));
                    st.warnings.push(if other == 3 {
                        String::from(
                            "security mode 3 (DES-CBC, IV not zero) is not supported: no published vector confirms its IV; payload kept as is",
                        )
                    } else {
                        format!("security mode {other} is not supported: payload kept as is")
                    });
                    return Ok(());
                }
            }
        }
        let apl_start = r.position();
        if let Some(high) = real_data_check {
            let head = t.get(..apl_start.min(14)).unwrap_or(&[]);
            let payload = work.get_mut(apl_start..n).unwrap_or(&mut []);
            match diehl::open_real_data(head, payload, high, key_for(opts, &meter)) {
                diehl::Opened::Key(default) => wl.default_key = default.map(Cow::Borrowed),
                diehl::Opened::AlreadyPlain => st.warnings.push(String::from(ALREADY_DECRYPTED)),
                diehl::Opened::Closed if key_for(opts, &meter).is_some() => {
                    return Err(decrypt_error(
                        apl_start,
                        "Diehl real data: the given key does not open it (its check bits differ): wrong key",
                    ));
                }
                diehl::Opened::Closed => {
                    out.encrypted = true;
                    out.encrypted_data = Some(Bytes::new(t.get(apl_start..n).unwrap_or(&[])));
                    st.warnings.push(String::from(
                        "Diehl real data scrambled (LFSR): no key given and no published default key opens it",
                    ));
                    return Ok(());
                }
            }
        }
        if enc_len > 0 {
            let mode = wl.security_mode.unwrap_or(0);
            let region = work
                .get_mut(apl_start..apl_start.saturating_add(enc_len))
                .unwrap_or(&mut []);
            let mut key_buf = None;
            let diehl_default = (mode == 5 && st.diehl && key_for(opts, &meter).is_none())
                .then(diehl::default_aes_key);
            let given = key_for(opts, &meter).or(diehl_default.as_ref());
            if let Some(k) = given {
                if k.is_des() != (mode == 2) {
                    return Err(decrypt_error(
                        apl_start,
                        if mode == 2 {
                            "security mode 2 (DES) needs an 8-byte key"
                        } else {
                            "security modes 5 and 7 need a 16-byte AES-128 key"
                        },
                    ));
                }
            }
            let key = match given {
                Some(k) if mode == 7 => match message_counter {
                    Some(mcr) => {
                        let mut id = [0u8; 4];
                        id.copy_from_slice(tpl_id(t, body_start, tpl));
                        key_buf = Some(security::derive_key(k, 0x00, mcr, id));
                        key_buf.as_ref()
                    }
                    None => {
                        return Err(decrypt_error(
                            apl_start,
                            "security mode 7 needs the AFL message counter",
                        ))
                    }
                },
                other => other,
            };
            let mut decrypted = false;
            if let Some(key) = key {
                let iv = if mode == 7 {
                    [0u8; 16]
                } else {
                    let mut ma = st.dll;
                    if tpl == Tpl::Long {
                        // M and A of the long header: `M(2) ID(4) ver type`.
                        let h = t
                            .get(body_start..body_start.saturating_add(8))
                            .unwrap_or(&[]);
                        let reordered = [
                            byte(h, 4),
                            byte(h, 5),
                            byte(h, 0),
                            byte(h, 1),
                            byte(h, 2),
                            byte(h, 3),
                            byte(h, 6),
                            byte(h, 7),
                        ];
                        ma = reordered;
                    }
                    security::mode5_iv(&ma, meter.access_no.unwrap_or(0))
                };
                let mut copy = [0u8; MAX_LEN];
                let saved = copy.get_mut(..region.len()).unwrap_or(&mut []);
                saved.copy_from_slice(region);
                if mode == 2 {
                    security::des_cbc_decrypt(&key.des_bytes(), region);
                } else {
                    security::cbc_decrypt(key, &iv, region);
                }
                if region.starts_with(&[0x2F, 0x2F]) {
                    decrypted = true;
                    if diehl_default.is_some() {
                        wl.default_key = Some(Cow::Borrowed(diehl::DEFAULT_AES));
                    }
                } else if saved.starts_with(&[0x2F, 0x2F]) || diehl_default.is_some() {
                    // Sent already decrypted, or not under the published default key (then it
                    // stays encrypted, as without a key).
                    region.copy_from_slice(saved);
                } else {
                    return Err(decrypt_error(
                        apl_start,
                        "decrypted payload does not start with 2F 2F: wrong key",
                    ));
                }
                let _ = &key_buf;
            }
            let plain = region.starts_with(&[0x2F, 0x2F]);
            if !decrypted {
                if plain {
                    st.warnings.push(String::from(ALREADY_DECRYPTED));
                } else {
                    out.encrypted = true;
                    out.encrypted_data = Some(Bytes::new(work.get(apl_start..n).unwrap_or(&[])));
                    st.warnings.push(format!(
                        "payload encrypted with security mode {mode}: no key given"
                    ));
                    return Ok(());
                }
            }
        }
        let mut r = Reader::new(work.get(apl_start..n).unwrap_or(&[]), apl_start);
        let ctx = Context {
            master_to_slave: matches!(c, 0x40 | 0x53 | 0x73 | 0x5A | 0x7A | 0x5B | 0x7B),
            msb_first: false,
        };
        match apl {
            Apl::Full => {
                let parsed = record::parse_records(&mut r, ctx, &mut out);
                if parsed.is_ok() {
                    let layout = out
                        .manufacturer_data
                        .as_ref()
                        .and_then(|m| vendor::manufacturer_data(&meter, m.as_slice()));
                    if let Some((format, records)) = layout {
                        wl.manufacturer_format = Some(Cow::Borrowed(format));
                        out.records.extend(records.into_iter().map(Record::from));
                    }
                }
                // A Qundis walk-by record reads even when records after it break the rules.
                if let Some(records) = vendor::qundis_walk_by(&meter, &out.records) {
                    wl.manufacturer_format = Some(Cow::Borrowed(vendor::QUNDIS_WALK_BY));
                    out.records.extend(records.into_iter().map(Record::from));
                }
                if let Err(e) = parsed {
                    // Keep what was read: records before the problem, the rest as hex.
                    let consumed =
                        out.records
                            .iter()
                            .filter_map(|rec| rec.raw())
                            .fold(0usize, |acc, raw| {
                                acc.saturating_add(usize::from(raw.fill))
                                    .saturating_add(raw.bytes().len())
                            });
                    let start = apl_start.saturating_add(consumed);
                    out.trailing_fill = 0;
                    out.manufacturer_data = None;
                    out.more_records_follow = false;
                    out.application_data = Some(Bytes::new(work.get(start..n).unwrap_or(&[])));
                    st.warnings.push(format!(
                        "records: {e} (byte {} of the CRC-free telegram); the rest is kept as application_data",
                        e.offset()
                    ));
                }
                Ok(())
            }
            Apl::Compact => compact(&mut r, ctx, session, &mut wl, &mut st, &mut out),
            Apl::Nothing => Ok(()),
        }
    })();
    out.meter = Some(meter);
    let mut warnings = st.warnings;
    warnings.append(&mut out.warnings);
    out.warnings = warnings;
    out.link = Link::Wmbus(wl);
    result.map(|()| out)
}

/// The 4 ID bytes for the mode-7 KDF: the long header's when there is one, else the DLL's.
fn tpl_id(t: &[u8], body_start: usize, tpl: Tpl) -> &[u8] {
    if tpl == Tpl::Long {
        t.get(body_start..body_start.saturating_add(4))
            .unwrap_or(&[0; 4])
    } else {
        t.get(field::ID).unwrap_or(&[0; 4])
    }
}

/// A Diehl PRIOS telegram (CI A0–A7 at 10): the address in Diehl's order, then the payload
/// after the 4-byte header unscrambled with the given or a published key (`diehl.rs`) and
/// read as the PRIOS layout (`vendor::diehl_prios_records`).
#[allow(clippy::too_many_arguments)]
fn diehl_prios(
    t: &[u8],
    work: &mut [u8],
    n: usize,
    opts: &Options,
    meter: &mut Meter,
    wl: &mut WmbusLink,
    out: &mut Decoded,
    st: &mut State,
) -> Result<()> {
    let manufacturer = meter.manufacturer.clone().unwrap_or_default();
    if diehl::prios_address_swapped(manufacturer.as_str()) {
        // Sent as version, device type, identification number.
        *meter = address(
            le16(t, field::M.start),
            t.get(6..10).unwrap_or(&[]),
            byte(t, 4),
            byte(t, 5),
        );
    } else {
        st.warnings.push(String::from(
            "SAP PRIOS: the version and device-type bytes carry part of the serial number (the meter is a water meter)",
        ));
    }
    wl.manufacturer_format = Some(Cow::Borrowed(diehl::PRIOS));
    let body = field::CI.saturating_add(1);
    let payload = work.get_mut(body..n).unwrap_or(&mut []);
    let head = t.get(..body.saturating_add(4)).unwrap_or(&[]);
    let given = key_for(opts, meter);
    let opened = match payload.get_mut(4..) {
        Some(scrambled) if !scrambled.is_empty() => diehl::open_prios(head, scrambled, given),
        _ => None,
    };
    match opened {
        Some(default) => {
            wl.default_key = default.map(Cow::Borrowed);
            out.records = vendor::diehl_prios_records(payload)
                .into_iter()
                .map(Record::from)
                .collect();
            out.manufacturer_data = Some(Bytes::new(payload));
        }
        None if given.is_some() => {
            return Err(decrypt_error(
                body.saturating_add(4),
                "Diehl PRIOS: the given key does not open it (the plaintext does not start 4B): wrong key",
            ));
        }
        None => {
            out.encrypted = true;
            out.encrypted_data = Some(Bytes::new(t.get(body..n).unwrap_or(&[])));
            st.warnings.push(String::from(
                "Diehl PRIOS payload scrambled (LFSR): no key given and no published default key opens it",
            ));
        }
    }
    Ok(())
}

fn key_for<'k>(opts: &'k Options, meter: &Meter) -> Option<&'k Key> {
    opts.keys.for_meter(meter.id.as_str())
}

/// A compact frame: format signature, full-frame data CRC, then the data of the records whose
/// DIF/VIF layout a full frame with that signature gave earlier.
fn compact(
    r: &mut Reader<'_>,
    ctx: Context,
    session: Option<&Session>,
    wl: &mut WmbusLink,
    st: &mut State,
    out: &mut Decoded,
) -> Result<()> {
    // Idle fillers from the decryption check come first.
    let mut fill = 0u16;
    while r.peek() == Some(record::FILLER) && r.remaining() > 4 {
        r.u8("filler")?;
        fill = fill.saturating_add(1);
    }
    let h = r.take(4, "compact frame header")?;
    let sig = le16(h, 0);
    wl.format_signature = Some(Code16(sig));
    wl.data_crc = Some(Code16(le16(h, 2)));
    let data_start = r.position();
    let data = r.take_rest();
    let Some(layout) = session.and_then(|s| s.layout(sig)) else {
        st.warnings.push(format!(
            "compact frame with format signature 0x{sig:04X}: no full frame with this format seen earlier, data kept as hex"
        ));
        out.application_data = Some(Bytes::new(data));
        out.trailing_fill = fill;
        return Ok(());
    };
    // Rebuild the full records: each header followed by its data.
    let mut full = Vec::with_capacity(layout.headers.len().saturating_add(data.len()));
    let mut d = Reader::new(data, data_start);
    let mut start = 0usize;
    for &end in &layout.ends {
        let header = layout.headers.get(start..end).unwrap_or(&[]);
        start = end;
        full.extend_from_slice(header);
        let dif = header.first().copied().unwrap_or(0);
        let len = match record::data_len(dif & 0x0F) {
            Some(len) => len,
            None => {
                let mut peek = d;
                let (_, len) = record::read_lvar(&mut peek)?;
                len.saturating_add(1)
            }
        };
        full.extend_from_slice(d.take(len, "compact frame data")?);
    }
    if !d.is_empty() {
        st.warnings
            .push(String::from("compact frame: bytes after the last record"));
        out.application_data = Some(Bytes::new(d.take_rest()));
    }
    let mut fr = Reader::new(&full, data_start);
    record::parse_records(&mut fr, ctx, out)?;
    if let Some(first) = out.records.first_mut() {
        let before = first.raw().map_or(0, |raw| raw.fill);
        first.set_fill(before.saturating_add(fill));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hex::parse_hex;
    use crate::keys::Keys;
    use crate::model::{WmbusAfl, WmbusLink};
    use proptest::prelude::*;

    const W1: &str = "1D443A63785634120107EA447A2A0000000C1367452301026C2F330B4D333B2001008560";

    /// A compact frame (signature 0xEAE9) is read only in a session that has seen its full
    /// frame; `lacks_format_of` says which of its decodings kept the data as hex.
    #[test]
    fn a_session_lacks_the_format_of_a_compact_frame_until_it_sees_the_full_frame() {
        let full = parse_hex("14442D2C78563412010778041339300000025B1400").unwrap();
        let compact = parse_hex("14442D2C78563412010779E9EA20C7393000001400").unwrap();
        let opts = Options::default();
        let mut session = Session::new();
        let alone = session.decode(&compact, &opts).unwrap();
        assert!(alone.records.is_empty());
        assert!(session.lacks_format_of(&alone));
        let full_frame = session.decode(&full, &opts).unwrap();
        assert!(!session.lacks_format_of(&full_frame));
        let read = session.decode(&compact, &opts).unwrap();
        assert_eq!(read.records.len(), 2);
        assert_eq!(
            read.records[0].number().map(|n| n.to_string()).as_deref(),
            Some("12.345")
        );
        assert!(!session.lacks_format_of(&read));
    }

    fn opts_with(key: &str) -> Options {
        Options::default()
            .with_protocol(Some(Protocol::Wmbus))
            .with_keys(Keys::parse(key).unwrap())
    }

    /// Mode 7 (AFL with MCR, zero IV, CMAC-derived key): encrypt with the encoder, decrypt.
    #[test]
    fn mode7_round_trip() {
        let mut plain = decode(&parse_hex(W1).unwrap(), &Options::default()).unwrap();
        // Encrypted OMS payloads start with 2F 2F (the decryption check).
        plain.records[0].set_fill(2);
        let mut d = plain.clone();
        let mut wl: WmbusLink = d.wmbus_link().unwrap().clone();
        wl.frame_format = FrameFormat::B;
        wl.config = Some(Code16(0x0710));
        wl.config_ext = Some(Code8(0x10));
        wl.security_mode = Some(7);
        wl.encrypted_blocks = Some(1);
        wl.afl = Some(Box::new(WmbusAfl {
            fcl: Code16(0x2800),
            mcl: Some(Code8(0x20)),
            message_counter: Some(1),
            ..WmbusAfl::default()
        }));
        d.link = Link::Wmbus(wl);
        let key = "000102030405060708090A0B0C0D0E0F";
        let opts = opts_with(key);
        let bytes = crate::encode_with(&d, &opts).unwrap();
        let back = decode(&bytes, &opts).unwrap();
        assert_eq!(back.records, plain.records);
        assert!(
            !back.encrypted && back.warnings.is_empty(),
            "{:?}",
            back.warnings
        );
        // Without the key it stays encrypted; with another key it is a decrypt error.
        assert!(
            decode(
                &bytes,
                &Options::default().with_protocol(Some(Protocol::Wmbus))
            )
            .unwrap()
            .encrypted
        );
        let e = decode(&bytes, &opts_with("0F0E0D0C0B0A09080706050403020100")).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Decrypt);
        // And the ciphertext really is the digest's KDF at work: re-encoding is exact.
        assert_eq!(crate::encode_with(&back, &opts).unwrap(), bytes);
    }

    #[test]
    fn detection_is_strict_and_keeps_mbus() {
        use crate::detect;
        assert_eq!(detect(&parse_hex(W1).unwrap()).unwrap(), Protocol::Wmbus);
        // M-Bus frames keep their protocol.
        for hex in [
            "E5",
            "107B058016",
            "6803036853015054 16",
            "68 15 15 68 08 05 72 78 56 34 12 2D 2C 01 07 2A 00 00 00 0C 13 67 45 23 01 0D 16",
        ] {
            assert_eq!(
                detect(&parse_hex(hex).unwrap()).unwrap(),
                Protocol::Mbus,
                "{hex}"
            );
        }
        // Built to confuse: a CRC-free wM-Bus telegram whose L is 0x10 (the M-Bus short
        // start byte) is still wM-Bus by its exact length, C 44 and manufacturer.
        let mut t = parse_hex("10443A637856341201077A2A00000002FD1700").unwrap();
        t.truncate(17);
        assert_eq!(detect(&t).unwrap(), Protocol::Wmbus);
        // ... and an M-Bus short frame is not wM-Bus: L = 0x10 needs 17 bytes.
        assert_eq!(
            detect(&[0x10, 0x44, 0x3A, 0x7E, 0x16]).unwrap(),
            Protocol::Mbus
        );
        // A telegram-like byte string with an unknown C and no CRC is not committed.
        let mut u = parse_hex(W1).unwrap();
        u.truncate(12);
        u[0] = 11;
        u[1] = 0x99;
        assert_eq!(detect(&u).unwrap_err().kind(), ErrorKind::UnknownProtocol);
        // A format-A telegram with a damaged data block still commits (first block CRC) and
        // fails with a CRC error.
        let mut bad = parse_hex(W1).unwrap();
        bad[20] ^= 1;
        let e = crate::decode(&bad, &Options::default()).unwrap_err();
        assert_eq!((e.kind(), e.offset()), (ErrorKind::Crc, 28));
    }

    #[test]
    fn compact_frame_after_full_frame_in_one_call() {
        let full =
            parse_hex("1D443A637856341201077A2A0000000C1367452301026C2F330B3B200100").unwrap();
        let d = decode(&full, &Options::default()).unwrap();
        let layout = layout_of(&d).unwrap();
        let sig = link::crc16(&layout.headers);
        // The compact form: CI 7B, signature, data CRC, the data only.
        let mut compact = parse_hex("00443A637856341201077B2B000000").unwrap();
        compact.extend_from_slice(&sig.to_le_bytes());
        compact.extend_from_slice(&[0, 0]);
        compact.extend_from_slice(&parse_hex("674523012F33200100").unwrap());
        compact[0] = u8::try_from(compact.len() - 1).unwrap();
        let opts = Options::default();
        let alone = crate::decode(&compact, &opts).unwrap();
        assert!(alone.records.is_empty());
        assert_eq!(
            alone.wmbus_link().unwrap().format_signature,
            Some(Code16(sig))
        );
        let many = crate::decode_many(&[&full, &compact], &opts);
        let second = many[1].as_ref().unwrap();
        assert_eq!(second.records.len(), 3);
        assert_eq!(second.records[0].number().unwrap().to_string(), "1234.567");
        assert_eq!(crate::encode(second).unwrap(), compact);
    }

    proptest! {
        /// Encrypt → decrypt gives the same records, in mode 5 (AES) or mode 2 (DES) and in
        /// both CRC formats, for random volumes, access numbers and keys.
        #[test]
        fn encrypt_then_decrypt_gives_the_same_records(
            key in proptest::array::uniform16(any::<u8>()),
            acc in any::<u8>(),
            volume in 0u32..99_999_999,
            flow in 0u32..0xFF_FFFF,
            format_b in any::<bool>(),
            des in any::<bool>(),
        ) {
            let digits = alloc::format!("{volume:08}");
            let bcd: Vec<u8> = (0..4)
                .map(|i| {
                    let hi = digits.as_bytes()[6 - 2 * i] - b'0';
                    let lo = digits.as_bytes()[7 - 2 * i] - b'0';
                    (hi << 4) | lo
                })
                .collect();
            let mut t = parse_hex("00443A637856341201077A000000052F2F0C13").unwrap();
            t[11] = acc;
            t.extend_from_slice(&bcd);
            t.extend_from_slice(&[0x0B, 0x3B]);
            t.extend_from_slice(&flow.to_le_bytes()[..3]);
            t.resize(15 + 16, 0x2F);
            t[0] = u8::try_from(t.len() - 1).unwrap();
            let plain = decode(&t, &Options::default()).unwrap();
            let mut d = plain.clone();
            if let Link::Wmbus(wl) = &mut d.link {
                let mode: u8 = if des { 2 } else { 5 };
                wl.config = Some(Code16(u16::from(mode) << 8 | 0x10));
                wl.security_mode = Some(mode);
                wl.encrypted_blocks = Some(1);
                wl.frame_format = if format_b { FrameFormat::B } else { FrameFormat::A };
            }
            d.warnings.clear();
            let key = if des {
                Key::des(key[..8].try_into().unwrap())
            } else {
                Key::new(key)
            };
            let opts = Options::default().with_key(key);
            let wire = crate::encode_with(&d, &opts).unwrap();
            let back = crate::decode(&wire, &opts).unwrap();
            prop_assert_eq!(&back.records, &plain.records);
            prop_assert!(back.warnings.is_empty());
            prop_assert_eq!(crate::encode_with(&back, &opts).unwrap(), wire);
        }
    }

    #[test]
    fn a_diehl_prios_header_without_payload_is_kept_as_manufacturer_data() {
        // DME, CI A2 and its 4-byte header, no scrambled byte: no PRIOS reading, and no error
        // offset beyond the telegram (found by the fuzzer in a stream).
        let t = crate::hex::parse_hex("0E44A511780778563412A2011D0013").unwrap();
        let opts = Options::default().with_key(crate::Key::new([0x5A; 16]));
        let d = crate::decode(&t, &opts).unwrap();
        assert!(d.records.is_empty());
        assert_eq!(
            d.manufacturer_data.as_ref().map(|m| m.as_slice()),
            Some(&[0x01, 0x1D, 0x00, 0x13][..])
        );
    }
}
