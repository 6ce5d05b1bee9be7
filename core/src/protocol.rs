//! The registry of protocol families: one [`Codec`] per family, listed once in [`CODECS`].
//!
//! Every family (`mbus`, `wmbus`, `cjt188`, …) describes its entry points in one static
//! `CODEC` inside its own module: how its frames are recognised ([`DetectStep`]), decoded,
//! encoded, and cut out of a byte stream ([`Framing`]). [`crate::detect`], [`crate::decode`],
//! [`crate::encode`], [`crate::encode_with`] and [`crate::decode_stream`] only walk this
//! registry, so adding a family is its folder plus one line in [`CODECS`]
//! (`docs/adding-a-protocol.md`).
//!
//! The entries are tables of function pointers rather than trait objects: they live in
//! `static`s without allocation (`no_std`), a family may leave an entry point out (`None`)
//! instead of implementing a method that refuses, and the order of [`CODECS`] stays one
//! visible list.
//!
//! # Detection order
//!
//! Detection runs in [`Stage`]s: first every family's [`Stage::WholeFrame`] steps, then
//! every [`Stage::Structure`] step, then every [`Stage::Fallback`] step; within a stage the
//! families are tried in the order of [`CODECS`]. The first step that answers decides, even
//! with an error (a frame that commits to a structure fails as that protocol, design §3).
//! With the families of today this gives the rules `detect` always had:
//!
//! 1. a whole CJ/T 188 (or DL/T 645) frame whose length, checksum and end byte verify wins
//!    over an M-Bus or wM-Bus look-alike (unless it also verifies as an M-Bus frame);
//! 2. a wM-Bus telegram whose length fits exactly and whose CRC or header agrees;
//! 3. the wired M-Bus starts `E5`, `10 …`, `68 L L 68` (and its prefixes);
//! 4. anything else starting `FE` or `68`: CJ/T 188 by its leading bytes (DL/T 645 refused).

use alloc::string::String;
use alloc::vec::Vec;

use serde::Serialize;

use crate::error::{Detail, Error, ErrorKind, Layer, Result};
use crate::framing::{Block, BlockFilter, Lead, Scan, Search, StreamContext};
use crate::model::{Decoded, Protocol};
use crate::Options;

/// When a [`DetectStep`] runs (see the module docs for the order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stage {
    /// The whole input verifies as one frame (length, checksum, end byte): the strongest
    /// evidence, tried before anything else.
    WholeFrame,
    /// The leading bytes commit to the family's structure (start bytes, length fields, a CRC).
    Structure,
    /// The leading bytes lean towards the family once no structure committed.
    Fallback,
}

impl Stage {
    /// Every stage, in the order detection runs them.
    pub const ALL: [Stage; 3] = [Stage::WholeFrame, Stage::Structure, Stage::Fallback];
}

/// The answer of one detection step: `None` passes to the next step; `Some(Ok(p))` commits
/// to `p`; `Some(Err(e))` commits and fails (e.g. a DL/T 645 frame: `unsupported`).
pub type Detection = Option<Result<Protocol>>;

/// A family's decoder: exactly one frame into the model.
pub type DecodeFn = fn(&[u8], &Options) -> Result<Decoded>;

/// A family's encoder: a model back to its frame, with the options' keys.
pub type EncodeFn = fn(&Decoded, &Options) -> Result<Vec<u8>>;

/// One rule by which a family recognises its frames from their leading bytes.
#[derive(Clone, Copy, Debug)]
pub struct DetectStep {
    /// When the rule runs.
    pub(crate) stage: Stage,
    /// The rule, given the whole (non-empty) input.
    pub(crate) test: fn(&[u8]) -> Detection,
}

impl DetectStep {
    /// A rule that runs at `stage`.
    pub const fn new(stage: Stage, test: fn(&[u8]) -> Detection) -> DetectStep {
        DetectStep { stage, test }
    }

    /// When the rule runs.
    pub fn stage(&self) -> Stage {
        self.stage
    }
}

/// How a family's frames are found in a byte stream ([`crate::stream`]).
#[derive(Clone, Copy, Debug)]
pub struct Framing {
    /// When the family is looked for.
    pub(crate) search: Search,
    /// The bytes its frames open with (ignored when it is searched alone: then every byte is
    /// a candidate).
    pub(crate) lead: Lead,
    /// What starts at the first byte of `rest`.
    pub(crate) scan: fn(&[u8], &StreamContext) -> Scan,
    /// Whether a verified frame of the family is a request that a one-byte acknowledgement
    /// can answer (the M-Bus `E5` rule).
    pub(crate) request: fn(&[u8]) -> bool,
    /// A test of 16 positions at once that narrows the lead in noise (optional).
    pub(crate) block: Option<BlockFilter>,
}

impl Framing {
    /// A stream framing (see the field docs of this type).
    pub const fn new(
        search: Search,
        lead: Lead,
        scan: fn(&[u8], &StreamContext) -> Scan,
        request: fn(&[u8]) -> bool,
    ) -> Framing {
        Framing {
            search,
            lead,
            scan,
            request,
            block: None,
        }
    }

    /// The same framing with a block filter: SIMD tests of 16 positions that let fewer
    /// positions of noise through to `scan` than the lead does ([`BlockFilter`]).
    pub const fn with_block_filter(self, block: BlockFilter) -> Framing {
        Framing {
            block: Some(block),
            ..self
        }
    }

    /// For families with no acknowledgement rule: no frame is such a request.
    pub fn no_requests(_: &[u8]) -> bool {
        false
    }

    /// When the family is looked for.
    pub fn search(&self) -> Search {
        self.search
    }
}

/// One protocol family's entry points, registered in [`CODECS`].
#[derive(Clone, Copy, Debug)]
pub struct Codec {
    /// The model's protocol this family decodes to.
    pub(crate) protocol: Protocol,
    /// A human title (`"wired M-Bus (EN 13757-2/-3)"`), for front ends.
    pub(crate) title: &'static str,
    /// The family's detection rules; empty when its frames have no structural signature
    /// (the caller must name the protocol).
    pub(crate) detect: &'static [DetectStep],
    /// Decodes exactly one frame (explain spans included when `opts.explain`).
    pub(crate) decode: DecodeFn,
    /// Encodes a model of this protocol back to its frame (`opts.keys` encrypts where the
    /// family supports it); `None` for decode-only families.
    pub(crate) encode: Option<EncodeFn>,
    /// How frames are cut from a stream; `None`: never cut from a stream.
    pub(crate) framing: Option<Framing>,
}

impl Codec {
    /// The model's protocol of this family.
    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// A human title for front ends.
    pub fn title(&self) -> &'static str {
        self.title
    }

    /// Whether this family can encode models back to frames.
    pub fn can_encode(&self) -> bool {
        self.encode.is_some()
    }

    /// Whether auto-detection can choose this family.
    pub fn detectable(&self) -> bool {
        !self.detect.is_empty()
    }

    /// The family's detection rules.
    pub fn detect_steps(&self) -> &'static [DetectStep] {
        self.detect
    }

    /// Decodes one frame as this family.
    pub fn decode(&self, bytes: &[u8], opts: &Options) -> Result<Decoded> {
        (self.decode)(bytes, opts)
    }

    /// Encodes a model as this family (`unsupported` when the family has no encoder).
    pub fn encode(&self, decoded: &Decoded, opts: &Options) -> Result<Vec<u8>> {
        match self.encode {
            Some(encode) => encode(decoded, opts),
            None => Err(no_encoder()),
        }
    }
}

/// The registered families, in the order detection tries them within a [`Stage`].
///
/// Adding a family: its folder under `core/src/`, a `pub static CODEC: Codec` in its
/// `mod.rs`, and one line here.
pub static CODECS: &[&Codec] = &[
    &crate::wmbus::CODEC,
    &crate::mbus::CODEC,
    &crate::cjt188::CODEC,
    &crate::modbus::CODEC_RTU,
    &crate::modbus::CODEC_TCP,
    &crate::iec62056_21::CODEC,
    &crate::coap::CODEC,
    &crate::mqtt::CODEC,
];

/// The registered family that decodes `protocol`, if any.
pub fn codec(protocol: Protocol) -> Option<&'static Codec> {
    CODECS.iter().copied().find(|c| c.protocol == protocol)
}

/// What front ends show of a decodable protocol ([`protocols`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ProtocolInfo {
    /// The protocol.
    #[serde(skip)]
    pub protocol: Protocol,
    /// Its model name (`"mbus"`), the `protocol` option's value.
    pub name: &'static str,
    /// A human title (`"wired M-Bus (EN 13757-2/-3)"`).
    pub title: &'static str,
    /// Whether `encode` writes frames of it.
    pub encode: bool,
    /// Whether auto-detection recognises it (otherwise the caller must name it).
    pub detect: bool,
}

/// The protocols this build decodes, in the model's order ([`Protocol::ALL`]).
pub fn protocols() -> impl Iterator<Item = ProtocolInfo> {
    Protocol::ALL.into_iter().filter_map(|p| {
        codec(p).map(|c| ProtocolInfo {
            protocol: p,
            name: p.as_str(),
            title: c.title,
            encode: c.can_encode(),
            detect: c.detectable(),
        })
    })
}

/// [`protocols`] as a JSON array: `[{"name":"mbus","title":…,"encode":true,"detect":true},…]`.
pub fn protocols_json() -> String {
    let list: Vec<ProtocolInfo> = protocols().collect();
    // Static strings and booleans: serialisation cannot fail.
    serde_json::to_string(&list).unwrap_or_default()
}

/// Detects the protocol of one non-empty frame by the registered rules (module docs).
pub(crate) fn detect(bytes: &[u8]) -> Result<Protocol> {
    for stage in Stage::ALL {
        for codec in CODECS {
            for step in codec.detect.iter().filter(|s| s.stage == stage) {
                if let Some(answer) = (step.test)(bytes) {
                    return answer;
                }
            }
        }
    }
    Err(unknown_protocol())
}

/// The error of an input no registered family recognises.
pub(crate) fn unknown_protocol() -> Error {
    Error::new(
        ErrorKind::UnknownProtocol,
        Layer::Input,
        0,
        Detail::Text("no supported protocol starts like this; pass the protocol option"),
    )
}

/// The error of a protocol without a registered family.
pub(crate) fn no_decoder() -> Error {
    Error::new(
        ErrorKind::Unsupported,
        Layer::Input,
        0,
        Detail::Text("this protocol has no decoder in this version of meterwire"),
    )
}

/// The error of a protocol whose family cannot encode (or that has none).
pub(crate) fn no_encoder() -> Error {
    Error::new(
        ErrorKind::Unsupported,
        Layer::Input,
        0,
        Detail::Text("this protocol has no encoder in this version of meterwire"),
    )
}

/// The families a stream is searched for when the caller names `protocol` (or none), in
/// registry order, with whether each is searched alone (every byte a candidate, permissive).
pub(crate) fn framings(
    protocol: Option<Protocol>,
) -> impl Iterator<Item = (Protocol, &'static Framing, bool)> {
    // A family searched alone when named excludes the others.
    let alone = protocol
        .and_then(codec)
        .filter(|c| c.framing.is_some_and(|f| f.search != Search::Always))
        .map(|c| c.protocol);
    CODECS.iter().filter_map(move |c| {
        let framing = c.framing.as_ref()?;
        let active = match alone {
            Some(p) => c.protocol == p,
            None => framing.search != Search::OnlyNamed,
        };
        active.then_some((c.protocol, framing, alone.is_some()))
    })
}

/// How the default search tests one family's positions in a block.
#[derive(Clone, Copy)]
enum BlockEntry {
    /// Not searched by default.
    Off,
    /// The family's block filter.
    Filter(BlockFilter),
    /// The family's lead bytes, compared with the first (`false`) or second (`true`) byte.
    Lead(&'static [u8], bool),
}

/// The block test entries of [`CODECS`], computed at compile time.
const DEFAULT_BLOCK_TEST: [BlockEntry; CODECS.len()] = default_block_entries();

// Evaluated only at compile time: an index out of range would be a build error, not a panic.
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
const fn default_block_entries() -> [BlockEntry; CODECS.len()] {
    let mut out = [BlockEntry::Off; CODECS.len()];
    let mut rest: &[&Codec] = CODECS;
    let mut i = 0;
    while let Some((codec, tail)) = rest.split_first() {
        if let Some(framing) = &codec.framing {
            if !matches!(framing.search, Search::OnlyNamed) {
                let entry = match (framing.block, framing.lead) {
                    (Some(filter), _) => BlockEntry::Filter(filter),
                    (None, Lead::First(bytes)) => BlockEntry::Lead(bytes, false),
                    (None, Lead::Second(bytes)) => BlockEntry::Lead(bytes, true),
                };
                out[i] = entry;
            }
        }
        rest = tail;
        i += 1;
    }
    out
}

/// The lanes of `block` where a family of the default search ([`framings`] without a family
/// searched alone) may start a frame: each family's block filter, or its lead bytes. The
/// entries come from [`CODECS`] at compile time, so the walk is unrolled and every filter is
/// inlined into this one function (no call per family and block).
#[inline]
pub(crate) fn default_block_test(block: &Block) -> wide::u8x16 {
    use wide::u8x16;
    let mut hits = u8x16::ZERO;
    for entry in DEFAULT_BLOCK_TEST {
        hits |= match entry {
            BlockEntry::Off => u8x16::ZERO,
            BlockEntry::Filter(filter) => filter(block),
            BlockEntry::Lead(bytes, second) => {
                let Some(view) = block.get(usize::from(second)) else {
                    continue;
                };
                bytes
                    .iter()
                    .fold(u8x16::ZERO, |acc, b| acc | view.cmp_eq(u8x16::splat(*b)))
            }
        };
    }
    hits
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hex::parse_hex;

    #[test]
    fn every_codec_has_its_own_protocol() {
        for (i, a) in CODECS.iter().enumerate() {
            for b in CODECS.iter().skip(i + 1) {
                assert_ne!(a.protocol, b.protocol);
            }
            assert_eq!(codec(a.protocol).map(|c| c.protocol), Some(a.protocol));
            assert!(!a.title.is_empty());
        }
    }

    #[test]
    fn protocols_lists_the_registered_families_in_model_order() {
        let names: Vec<&str> = protocols().map(|p| p.name).collect();
        assert_eq!(
            names,
            [
                "mbus",
                "wmbus",
                "cjt188",
                "modbus_rtu",
                "modbus_tcp",
                "iec62056_21",
                "coap",
                "mqtt"
            ]
        );
        assert!(protocols().all(|p| p.encode));
        // Modbus RTU has no structural signature: the caller names it.
        assert!(protocols().all(|p| p.detect == (p.protocol != Protocol::ModbusRtu)));
        assert_eq!(
            protocols_json(),
            r#"[{"name":"mbus","title":"wired M-Bus (EN 13757-2/-3)","encode":true,"detect":true},{"name":"wmbus","title":"wireless M-Bus / OMS","encode":true,"detect":true},{"name":"cjt188","title":"CJ/T 188","encode":true,"detect":true},{"name":"modbus_rtu","title":"Modbus RTU","encode":true,"detect":false},{"name":"modbus_tcp","title":"Modbus TCP","encode":true,"detect":true},{"name":"iec62056_21","title":"IEC 62056-21 (optical)","encode":true,"detect":true},{"name":"coap","title":"CoAP (RFC 7252)","encode":true,"detect":true},{"name":"mqtt","title":"MQTT (3.1.1 / 5.0)","encode":true,"detect":true}]"#
        );
    }

    /// The detection order of the registry gives what `detect` gave as hand-written arms.
    #[test]
    fn detection_order_reproduces_the_rules() {
        let cases: &[(&str, core::result::Result<Protocol, ErrorKind>)] = &[
            ("E5", Ok(Protocol::Mbus)),
            ("68 03 03 68", Ok(Protocol::Mbus)),
            ("68 03", Ok(Protocol::Mbus)),
            ("68", Ok(Protocol::Mbus)),
            ("10 7B 05 80 16", Ok(Protocol::Mbus)),
            ("42 00", Err(ErrorKind::UnknownProtocol)),
            ("E5 00", Err(ErrorKind::UnknownProtocol)),
            // A whole CJ/T 188 frame to address 00000000006810 looks like 68 10 10 68.
            (
                "68 10 10 68 00 00 00 00 00 01 03 90 1F 25 C8 16",
                Ok(Protocol::Cjt188),
            ),
            // A whole M-Bus frame that reads as CJ/T 188 T 15 stays M-Bus.
            (
                "68 15 15 68 08 05 72 78 56 34 12 2D 2C 01 07 2A 00 00 00 0C 13 67 45 23 01 0D 16",
                Ok(Protocol::Mbus),
            ),
            // Broken M-Bus frames stay M-Bus.
            ("68 03 03 68 53 01 50 00 16", Ok(Protocol::Mbus)),
            ("68 1F 1F 68", Ok(Protocol::Mbus)),
            // 68 L L ? with a damaged second start byte, everything else verifying.
            ("68 03 03 00 53 01 50 A4 16", Ok(Protocol::Mbus)),
            // CJ/T 188 prefixes, wake-up bytes and broken frames.
            ("FE FE 68 10 78", Ok(Protocol::Cjt188)),
            ("68 10 78 56 34 12", Ok(Protocol::Cjt188)),
            ("FE", Ok(Protocol::Cjt188)),
            // DL/T 645: unsupported.
            (
                "68 78 56 34 12 00 00 68 11 04 33 33 34 33 C7 16",
                Err(ErrorKind::Unsupported),
            ),
            // wM-Bus commits before the 68-start and 10-start rules.
            (
                "1D443A63785634120107EA447A2A0000000C1367452301026C2F330B4D333B2001008560",
                Ok(Protocol::Wmbus),
            ),
            ("10443A637856341201077A2A00000002FD", Ok(Protocol::Wmbus)),
            ("10 44 3A 7E 16", Ok(Protocol::Mbus)),
            // Modbus TCP: a whole ADU with protocol id 0 and an exact length, after every
            // other family; Modbus RTU is never detected.
            (
                "00 01 00 00 00 06 01 03 00 00 00 02",
                Ok(Protocol::ModbusTcp),
            ),
            ("00 01 00 00 00 03 01 83 02", Ok(Protocol::ModbusTcp)),
            (
                "00 01 00 01 00 06 01 03 00 00 00 02",
                Err(ErrorKind::UnknownProtocol),
            ),
            (
                "00 01 00 00 00 07 01 03 00 00 00 02",
                Err(ErrorKind::UnknownProtocol),
            ),
            (
                "00 01 00 00 00 06 01 41 00 00 00 02",
                Err(ErrorKind::UnknownProtocol),
            ),
            ("01 03 00 00 00 02 C4 0B", Err(ErrorKind::UnknownProtocol)),
            // A transaction id that starts like another family's frame: that family.
            (
                "68 01 00 00 00 06 01 03 00 00 00 02",
                Err(ErrorKind::UnknownProtocol),
            ),
            ("10 01 00 00 00 06 01 03 00 00 00 02", Ok(Protocol::Mbus)),
            // IEC 62056-21: whole messages (parity bits allowed), then leading characters
            // when no family committed; Modbus TCP and RTU frames that start 01/02/06 stay
            // theirs.
            ("2F 3F 21 0D 0A", Ok(Protocol::Iec62056_21)),
            ("AF 3F 21 8D 0A", Ok(Protocol::Iec62056_21)),
            ("06", Ok(Protocol::Iec62056_21)),
            ("15", Ok(Protocol::Iec62056_21)),
            ("06 30 35 30 0D 0A", Ok(Protocol::Iec62056_21)),
            ("01 42 30 03 71", Ok(Protocol::Iec62056_21)),
            ("01 42 30 03 70", Ok(Protocol::Iec62056_21)),
            ("02 28 31 29", Ok(Protocol::Iec62056_21)),
            ("2F 3F", Ok(Protocol::Iec62056_21)),
            (
                "02 01 00 00 00 06 01 03 00 00 00 02",
                Ok(Protocol::ModbusTcp),
            ),
            (
                "2F 01 00 00 00 06 01 03 00 00 00 02",
                Ok(Protocol::ModbusTcp),
            ),
            ("02 03 00 00 00 02 C4 38", Err(ErrorKind::UnknownProtocol)),
            ("06 03 00 00 00 02 C4 38", Err(ErrorKind::UnknownProtocol)),
            ("15 03 00 00", Err(ErrorKind::UnknownProtocol)),
            // CoAP and MQTT: whole consistent messages only, after every other family.
            (
                "42 45 00 42 01 02 61 05 61 2A FF 00 01 02 03 04",
                Ok(Protocol::Coap),
            ),
            ("60 00 00 01", Ok(Protocol::Coap)),
            ("60 01 00 01", Err(ErrorKind::UnknownProtocol)),
            ("42 45 00", Err(ErrorKind::UnknownProtocol)),
            ("30 03 00 01 61", Ok(Protocol::Mqtt)),
            ("30 04 00 01 61", Err(ErrorKind::UnknownProtocol)),
            ("C0 00", Err(ErrorKind::UnknownProtocol)),
        ];
        for (hex, expected) in cases {
            let bytes = parse_hex(hex).unwrap();
            let got = crate::detect(&bytes).map_err(|e| e.kind());
            assert_eq!(&got, expected, "{hex}");
        }
        assert_eq!(crate::detect(&[]).unwrap_err().kind(), ErrorKind::Empty);
    }

    /// Stages run in their declared order, and every family but Modbus RTU is auto-detected.
    #[test]
    fn stages_are_ordered() {
        assert!(Stage::ALL.windows(2).all(|w| w[0] < w[1]));
        for c in CODECS {
            assert_eq!(
                c.detectable(),
                c.protocol != Protocol::ModbusRtu,
                "{}",
                c.protocol
            );
        }
    }

    #[test]
    fn every_model_protocol_is_registered() {
        for p in Protocol::ALL {
            assert!(codec(p).is_some(), "{p:?} has no registered family");
        }
        assert_eq!(protocols().count(), Protocol::ALL.len());
        // What a front end gets for a family without a decoder or an encoder keeps its text.
        assert_eq!(no_decoder().kind(), ErrorKind::Unsupported);
        assert!(no_decoder()
            .to_string()
            .contains("this protocol has no decoder in this version of meterwire"));
        assert!(no_encoder()
            .to_string()
            .contains("this protocol has no encoder in this version of meterwire"));
    }

    #[test]
    fn stream_search_sets() {
        let names = |p| -> Vec<(Protocol, bool)> {
            framings(p)
                .map(|(protocol, _, alone)| (protocol, alone))
                .collect()
        };
        // Unnamed: the families whose frames prove themselves.
        let all = [
            (Protocol::Wmbus, false),
            (Protocol::Mbus, false),
            (Protocol::Cjt188, false),
            (Protocol::Iec62056_21, false),
        ];
        assert_eq!(names(None), all);
        assert_eq!(names(Some(Protocol::Cjt188)), all);
        // wM-Bus named: alone and permissive (CRC-free captures).
        assert_eq!(names(Some(Protocol::Wmbus)), [(Protocol::Wmbus, true)]);
        // Modbus RTU and TCP frames are cut only when named, and then alone.
        assert_eq!(
            names(Some(Protocol::ModbusRtu)),
            [(Protocol::ModbusRtu, true)]
        );
        assert_eq!(
            names(Some(Protocol::ModbusTcp)),
            [(Protocol::ModbusTcp, true)]
        );
        // IEC 62056-21 named: alone, with the messages that carry no check.
        assert_eq!(
            names(Some(Protocol::Iec62056_21)),
            [(Protocol::Iec62056_21, true)]
        );
        // MQTT packets only in a capture named MQTT (no start byte), then alone.
        assert_eq!(names(Some(Protocol::Mqtt)), [(Protocol::Mqtt, true)]);
        // A family without stream framing (CoAP datagrams come one by one): the default set.
        assert_eq!(names(Some(Protocol::Coap)), all);
    }
}
