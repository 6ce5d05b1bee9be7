//! Wired M-Bus: EN 13757-2 link layer ([`link`]) and EN 13757-3 application layer
//! ([`app`], [`record`], [`vif`], [`datatypes`], [`tables`]).

pub mod app;
pub mod datatypes;
pub mod encode;
pub mod explain;
pub mod link;
pub mod record;
pub mod request;
pub mod tables;
pub mod view;
pub mod vif;

use alloc::format;
use alloc::vec::Vec;

use crate::error::Result;
use crate::framing::{Block, Lead, Scan, Search, StreamContext};
use crate::model::{Decoded, Link, Protocol};
use crate::protocol::{Codec, DetectStep, Detection, Framing, Stage};
use crate::Options;
use link::{field, Frame};
use wide::u8x16;

/// The registry entry of wired M-Bus ([`crate::protocol`]).
pub static CODEC: Codec = Codec {
    protocol: Protocol::Mbus,
    title: "wired M-Bus (EN 13757-2/-3)",
    detect: &[DetectStep::new(Stage::Structure, detect)],
    decode,
    encode: Some(encode_model),
    framing: Some(
        Framing::new(
            Search::Always,
            Lead::First(&[link::ACK, link::SHORT_START, link::LONG_START]),
            scan,
            is_request,
        )
        .with_block_filter(block_filter),
    ),
};

/// Detection (design §3): `E5`, `10 …`, and `68 L L 68` (a prefix of it too) commit to M-Bus.
fn detect(bytes: &[u8]) -> Detection {
    let mbus = Some(Ok(Protocol::Mbus));
    match bytes {
        [link::ACK] | [link::SHORT_START, ..] | [link::LONG_START] => mbus,
        [link::LONG_START, l1, rest @ ..] => match rest {
            [] => mbus,
            [l2] if l2 == l1 => mbus,
            [_, link::LONG_START, ..] => mbus,
            // 68 L L ?: a long frame whose second start byte is damaged still commits when
            // everything else of its structure verifies (length, checksum, stop byte).
            [l2, _, ..] if l2 == l1 && body_verifies(bytes, *l1) => mbus,
            // 68 T A…: CJ/T 188, 68 A×6 68: DL/T 645 (their fallback step), else unknown.
            _ => None,
        },
        _ => None,
    }
}

/// Whether `bytes` is `68 L L ? C … CS 16` with a matching length, checksum and stop byte.
fn body_verifies(bytes: &[u8], l: u8) -> bool {
    let end = usize::from(l).saturating_add(4);
    bytes.len() == end.saturating_add(2)
        && bytes.last() == Some(&link::STOP)
        && bytes.get(4..end).map(link::checksum) == bytes.get(end).copied()
}

fn encode_model(decoded: &Decoded, _: &Options) -> Result<Vec<u8>> {
    encode::encode(decoded)
}

/// What starts `rest` in a stream: a short, control or long frame whose checksum and stop
/// byte verify; an `E5` only right after an M-Bus request (elsewhere a lone `E5` is far more
/// often noise than an acknowledgement).
fn scan(rest: &[u8], ctx: &StreamContext) -> Scan {
    if rest.first() == Some(&link::ACK) {
        return if ctx.after_request() == Some(Protocol::Mbus) {
            Scan::Frame(1)
        } else {
            Scan::Unrequested
        };
    }
    match link::frame_status(rest) {
        Ok(link::Status::Complete(len)) => {
            let frame = rest.get(..len).unwrap_or(&[]);
            match Frame::parse(frame) {
                Ok(_) => Scan::Frame(len),
                // The structure is whole up to the stop byte: a broken frame, not noise.
                Err(e) if frame.last() == Some(&link::STOP) => Scan::Invalid {
                    len,
                    kind: e.kind(),
                },
                Err(_) => Scan::None,
            }
        }
        Ok(link::Status::Incomplete { needed }) => Scan::Incomplete(needed),
        Err(_) => Scan::None,
    }
}

/// The positions where [`scan`] can find something: `68 L L 68`, `10` with a stop byte four
/// bytes on, and `E5`.
#[inline]
fn block_filter(w: &Block) -> u8x16 {
    let [b0, b1, b2, b3, b4, ..] = *w;
    let s = u8x16::splat;
    let long = b0.cmp_eq(s(link::LONG_START)) & b3.cmp_eq(s(link::LONG_START)) & b1.cmp_eq(b2);
    let short = b0.cmp_eq(s(link::SHORT_START)) & b4.cmp_eq(s(link::STOP));
    long | short | b0.cmp_eq(s(link::ACK))
}

/// A frame from the master (C field with the PRM bit): an `E5` may answer it.
fn is_request(frame: &[u8]) -> bool {
    let c = match frame.first() {
        Some(&link::SHORT_START) => frame.get(1),
        Some(&link::LONG_START) => frame.get(4),
        _ => None,
    };
    c.is_some_and(|c| c & 0x40 != 0)
}

/// Decodes exactly one wired M-Bus frame (E5, short, control or long).
pub fn decode(bytes: &[u8], opts: &Options) -> Result<Decoded> {
    let frame = Frame::parse(bytes)?;
    let link = frame.link();
    let mut out = Decoded::new(Protocol::Mbus, Link::Mbus(link));
    match frame {
        Frame::Ack => {}
        Frame::Short(f) => {
            if link::function_of(f.c_field()).is_none() {
                out.warnings.push(format!(
                    "C field 0x{:02X} names no EN 13757-2 function",
                    f.c_field()
                ));
            }
        }
        Frame::Long(f) => {
            if link::function_of(f.c_field()).is_none() {
                out.warnings.push(format!(
                    "C field 0x{:02X} names no EN 13757-2 function",
                    f.c_field()
                ));
            }
            app::decode(
                f.ci_field(),
                f.user_data(),
                field::USER_DATA.start,
                f.c_field(),
                &mut out,
            )?;
        }
    }
    if opts.explain {
        out.spans = explain::spans(bytes, &out);
    }
    Ok(out)
}
