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

use crate::error::Result;
use crate::model::{Decoded, Link, Protocol};
use crate::Options;
use link::{field, Frame};

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
