//! wM-Bus encoding: a [`Decoded`] model back to a telegram in format A, B or CRC-free, with
//! the payload encrypted in security mode 2, 5 or 7 (and the ELL's AES-CTR) when a key is
//! given.
//!
//! Without a key, a payload the model holds as `encrypted_data` is written back as it was, and
//! a payload the model holds as records is written as plaintext (the "already decrypted" form
//! of logs). So `encode(decode(x)) == x` for every telegram decoded without a key, and
//! `encode_with(decode(x, key), key) == x` for every telegram decrypted with it.

use alloc::vec::Vec;

use super::{diehl, link, security, vendor, ALREADY_DECRYPTED};
use crate::error::{Error, Result};
use crate::keys::{Key, Keys};
use crate::mbus::encode::{emit_address, emit_body};
use crate::mbus::record::{Context, FILLER};
use crate::model::{Decoded, Meter, Tpl};

/// An error about the model given to `encode`.
fn model_error(text: &'static str) -> Error {
    Error::model(text)
}

/// `M(2) ID(4) ver type` (the DLL order) of a meter identity.
fn dll_order(meter: &Meter, out: &mut Vec<u8>) -> Result<()> {
    let mut tmp = Vec::with_capacity(8);
    emit_address(meter, false, false, &mut tmp)?;
    // emit_address writes `ID(4) M(2) ver type`.
    out.extend_from_slice(tmp.get(4..6).unwrap_or(&[0, 0]));
    out.extend_from_slice(tmp.get(0..4).unwrap_or(&[0; 4]));
    out.extend_from_slice(tmp.get(6..8).unwrap_or(&[0, 0]));
    Ok(())
}

fn set_le16(t: &mut [u8], at: usize, v: u16) {
    if let Some(slot) = t.get_mut(at..at.saturating_add(2)) {
        slot.copy_from_slice(&v.to_le_bytes());
    }
}

/// Encodes one wM-Bus telegram; `keys` encrypts payloads flagged for modes 2/5/7 and ELL CTR.
pub fn encode(d: &Decoded, keys: &Keys) -> Result<Vec<u8>> {
    let wl = d
        .wmbus_link()
        .ok_or(model_error("link fields are not wM-Bus link fields"))?;
    let meter = d.meter.as_ref();
    let dll = wl.dll_address.as_deref().or(meter).ok_or(model_error(
        "a wM-Bus telegram needs meter (or link.dll_address)",
    ))?;
    let key_meter = meter.unwrap_or(dll);
    let given = keys.for_meter(key_meter.id.as_str());
    // Without a key, the manufacturer's published key that opened the payload on decoding.
    let default_aes = (given.is_none() && wl.default_key.as_deref() == Some(diehl::DEFAULT_AES))
        .then(diehl::default_aes_key);
    let key = given.or(default_aes.as_ref());
    let already = d.warnings.iter().any(|w| w == ALREADY_DECRYPTED);
    let mut t: Vec<u8> = Vec::with_capacity(256);
    t.push(0);
    t.push(wl.c.0);
    dll_order(dll, &mut t)?;
    let prios = wl.manufacturer_format.as_deref() == Some(diehl::PRIOS);
    if prios && diehl::prios_address_swapped(dll.manufacturer.as_ref().map_or("", |m| m.as_str())) {
        // Diehl PRIOS sends the address as version, device type, identification number.
        if let Some(a) = t.get_mut(4..10) {
            a.rotate_right(2);
        }
    }
    let mut m_and_a = [0u8; 8];
    m_and_a.copy_from_slice(t.get(2..10).unwrap_or(&[0; 8]));

    // Extended link layer.
    let mut ell_crc: Option<(usize, bool, u8, u32)> = None;
    if let Some(ell) = &wl.ell {
        t.push(ell.ci.0);
        t.push(ell.cc.0);
        t.push(ell.access_no);
        if matches!(ell.ci.0, 0x8E | 0x8F) {
            let a = ell
                .address
                .as_ref()
                .ok_or(model_error("ELL III/IV needs ell.address"))?;
            dll_order(a, &mut t)?;
        }
        if matches!(ell.ci.0, 0x8D | 0x8F) {
            let sn = ell.session_number.unwrap_or(0);
            t.extend_from_slice(&sn.to_le_bytes());
            let enc = (sn >> 29) & 0x07 == 1;
            ell_crc = Some((t.len(), enc, ell.cc.0, sn));
            if d.encrypted && wl.ci.is_none() {
                // The ELL payload (CRC and all) is the encrypted data.
                if let Some(e) = &d.encrypted_data {
                    t.extend_from_slice(e.as_slice());
                }
                return link::emit(wl.frame_format, &t);
            }
            t.extend_from_slice(&[0, 0]);
        }
    }

    // Authentication and fragmentation layer.
    if let Some(afl) = &wl.afl {
        t.push(0x90);
        let afll_at = t.len();
        t.push(0);
        t.extend_from_slice(&afl.fcl.0.to_le_bytes());
        if let Some(m) = afl.mcl {
            t.push(m.0);
        }
        if let Some(k) = afl.key_info {
            t.extend_from_slice(&k.0.to_le_bytes());
        }
        if let Some(m) = afl.message_counter {
            t.extend_from_slice(&m.to_le_bytes());
        }
        if let Some(m) = &afl.mac {
            t.extend_from_slice(m.as_slice());
        }
        if let Some(m) = afl.message_length {
            t.extend_from_slice(&m.to_le_bytes());
        }
        let afll = t.len().saturating_sub(afll_at).saturating_sub(1);
        if let Some(slot) = t.get_mut(afll_at) {
            *slot = u8::try_from(afll).map_err(|_| model_error("AFL too long"))?;
        }
    }

    // Transport layer and application data.
    if let Some(ci) = wl.ci {
        t.push(ci.0);
        match wl.tpl {
            Some(Tpl::Long) => {
                let m = meter.ok_or(model_error("a long transport header needs meter"))?;
                emit_address(m, false, false, &mut t)?;
                t.push(m.access_no.or(wl.access_no).unwrap_or(0));
                t.push(m.status.unwrap_or(0));
                t.extend_from_slice(&wl.config.map_or(0, |c| c.0).to_le_bytes());
            }
            Some(Tpl::Short) => {
                t.push(
                    meter
                        .and_then(|m| m.access_no)
                        .or(wl.access_no)
                        .unwrap_or(0),
                );
                t.push(meter.and_then(|m| m.status).unwrap_or(0));
                t.extend_from_slice(&wl.config.map_or(0, |c| c.0).to_le_bytes());
            }
            _ => {}
        }
        if let Some(x) = wl.config_ext {
            t.push(x.0);
        }
        let apl_start = t.len();
        if d.encrypted {
            if let Some(e) = &d.encrypted_data {
                t.extend_from_slice(e.as_slice());
            }
        } else if let Some(sig) = wl.format_signature {
            let fill = d
                .records
                .first()
                .and_then(|r| r.raw())
                .map_or(d.trailing_fill, |r| r.fill);
            t.extend(core::iter::repeat_n(FILLER, usize::from(fill)));
            t.extend_from_slice(&sig.0.to_le_bytes());
            t.extend_from_slice(&wl.data_crc.map_or(0, |c| c.0).to_le_bytes());
            for rec in &d.records {
                let raw = rec
                    .raw()
                    .ok_or(model_error("compact frame records need raw"))?;
                t.extend_from_slice(raw.data());
            }
            if let Some(a) = &d.application_data {
                t.extend_from_slice(a.as_slice());
            }
        } else if wl.tpl.is_some() {
            emit_body(d, Context::default(), &mut t)?;
            if let Some(a) = &d.application_data {
                t.extend_from_slice(a.as_slice());
            }
            if wl.manufacturer_format.as_deref() == Some(diehl::REAL_DATA) && !already {
                scramble_diehl_real_data(&mut t, apl_start, given, wl.default_key.as_deref())?;
            }
        } else {
            if let Some(m) = &d.manufacturer_data {
                t.extend_from_slice(m.as_slice());
            }
            if let Some(a) = &d.application_data {
                t.extend_from_slice(a.as_slice());
            }
            // Diehl PRIOS: the payload after its 4-byte header is scrambled again.
            if prios && !d.encrypted {
                let start = apl_start.saturating_add(4).min(t.len());
                let (head, payload) = t.split_at_mut(start);
                if !diehl::scramble(head, payload, given, wl.default_key.as_deref()) {
                    return Err(model_error(
                        "Diehl PRIOS: give the key, or keep link.default_key of the decoded telegram",
                    ));
                }
            }
            // A manufacturer layout read decrypted is encrypted again with the key.
            if wl.manufacturer_format.as_deref() == Some(vendor::APATOR_NA1) && !already {
                if let Some(k) = key {
                    let payload = t.get_mut(apl_start..).unwrap_or(&mut []);
                    vendor::encrypt_apator_na1(payload, &m_and_a, k)?;
                }
            }
        }
        // TPL encryption.
        let mode = wl.security_mode.unwrap_or(0);
        let blocks = usize::from(wl.encrypted_blocks.unwrap_or(0));
        if !d.encrypted && !already && matches!(mode, 2 | 5 | 7) && blocks > 0 {
            if let Some(k) = key {
                if k.is_des() != (mode == 2) {
                    return Err(model_error(
                        "the key does not fit the security mode (mode 2 takes an 8-byte DES key, modes 5 and 7 a 16-byte AES-128 key)",
                    ));
                }
                let enc_len = blocks.saturating_mul(16);
                while t.len() < apl_start.saturating_add(enc_len) {
                    t.push(FILLER);
                }
                let region = t
                    .get_mut(apl_start..apl_start.saturating_add(enc_len))
                    .unwrap_or(&mut []);
                if mode == 2 {
                    security::des_cbc_encrypt(&k.des_bytes(), region);
                } else if mode == 5 {
                    let mut ma = m_and_a;
                    if wl.tpl == Some(Tpl::Long) {
                        let mut h = Vec::with_capacity(8);
                        if let Some(m) = meter {
                            dll_order(m, &mut h)?;
                        }
                        ma.copy_from_slice(h.get(..8).unwrap_or(&[0; 8]));
                    }
                    let acc = meter.and_then(|m| m.access_no).unwrap_or(0);
                    security::cbc_encrypt(k, &security::mode5_iv(&ma, acc), region);
                } else {
                    let mcr = wl
                        .afl
                        .as_ref()
                        .and_then(|a| a.message_counter)
                        .ok_or(model_error("security mode 7 needs afl.message_counter"))?;
                    // The KDF's ID: the long header's when there is one, else the DLL's.
                    let mut id = [0u8; 4];
                    let idm = meter.unwrap_or(dll);
                    let mut tmp = Vec::with_capacity(8);
                    emit_address(idm, false, false, &mut tmp)?;
                    id.copy_from_slice(tmp.get(..4).unwrap_or(&[0; 4]));
                    let kenc = security::derive_key(k, 0x00, mcr, id);
                    security::cbc_encrypt(&kenc, &[0u8; 16], region);
                }
            }
        }
    }

    // ELL payload CRC, then its AES-CTR.
    if let Some((crc_at, enc, cc, sn)) = ell_crc {
        let crc = link::crc16(t.get(crc_at.saturating_add(2)..).unwrap_or(&[]));
        set_le16(&mut t, crc_at, crc);
        if enc && !already {
            if let Some(k) = key.filter(|k| !k.is_des()) {
                let counter = security::ell_counter(&m_and_a, cc, sn.to_le_bytes());
                security::ctr_apply(k, &counter, t.get_mut(crc_at..).unwrap_or(&mut []));
            }
        }
    }
    link::emit(wl.frame_format, &t)
}

/// Diehl real data: the configuration field's check bits over the plaintext (so an edited
/// model stays readable), then the LFSR with the given key or the published one the model
/// names (`diehl.rs`).
fn scramble_diehl_real_data(
    t: &mut [u8],
    apl_start: usize,
    given: Option<&Key>,
    default: Option<&str>,
) -> Result<()> {
    let check = diehl::check_bits(t.get(apl_start..).unwrap_or(&[]));
    let high = t.get_mut(apl_start.wrapping_sub(1)).ok_or(model_error(
        "Diehl real data needs a short transport header",
    ))?;
    *high = (*high & 0x10) | check;
    let (head, payload) = t.split_at_mut(apl_start);
    if !diehl::scramble(head, payload, given, default) {
        return Err(model_error(
            "Diehl real data: give the key, or keep link.default_key of the decoded telegram",
        ));
    }
    Ok(())
}
