//! Payload encryption of NB-IoT / Cat.1 meters (the mobile digest §6): an application payload
//! encrypted with AES-128 or SM4 (GB/T 32907, RustCrypto's `aes` and `sm4`), in CBC or ECB
//! mode, padded with PKCS#7, zeros or nothing, with the per-device key of the `keys` option.
//! The scheme is vendor-defined, so the caller names it ([`crate::Options::payload_cipher`],
//! CLI `--cipher sm4-cbc`):
//!
//! ```text
//! <algorithm>-<mode>[-<padding>]     algorithm: aes-128 (or aes), sm4
//!                                    mode:      cbc (IV = 16 zero bytes), ecb
//!                                    padding:   pkcs7 (the default), zero, none
//! ```
//!
//! e.g. `sm4-cbc`, `aes-128-ecb-zero`, `sm4-ecb-none`. Only the block cipher and the CBC mode
//! come from the crates; ECB is the block cipher applied block by block.
//!
//! Zero padding: up to 15 trailing zero bytes are taken as padding (a plaintext that ends in
//! zeros gets them back when it is encrypted again, so the round trip is exact).

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use cbc::cipher::{
    Array, BlockCipherDecrypt, BlockCipherEncrypt, BlockModeDecrypt, BlockModeEncrypt, KeyInit,
    KeyIvInit,
};

use crate::error::{Detail, Error, ErrorKind, Layer, Result};
use crate::keys::Key;

/// The block size of AES-128 and SM4.
pub const BLOCK: usize = 16;

/// The block cipher.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// AES-128 (FIPS 197).
    Aes128,
    /// SM4 (GB/T 32907-2016).
    Sm4,
}

/// The block cipher mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Cipher block chaining with a zero IV.
    Cbc,
    /// Electronic codebook.
    Ecb,
}

/// How the plaintext was padded to whole blocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Padding {
    /// PKCS#7: n bytes of value n (1–16).
    Pkcs7,
    /// Zero bytes (none when the plaintext fills its last block).
    Zero,
    /// None: the plaintext is whole blocks.
    None,
}

/// A payload encryption scheme (module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PayloadCipher {
    /// The block cipher.
    pub algorithm: Algorithm,
    /// The mode.
    pub mode: Mode,
    /// The padding.
    pub padding: Padding,
}

impl fmt::Display for PayloadCipher {
    /// The canonical name: `sm4-cbc-pkcs7`, `aes-128-ecb-zero`, …
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let algorithm = match self.algorithm {
            Algorithm::Aes128 => "aes-128",
            Algorithm::Sm4 => "sm4",
        };
        let mode = match self.mode {
            Mode::Cbc => "cbc",
            Mode::Ecb => "ecb",
        };
        let padding = match self.padding {
            Padding::Pkcs7 => "pkcs7",
            Padding::Zero => "zero",
            Padding::None => "none",
        };
        write!(f, "{algorithm}-{mode}-{padding}")
    }
}

fn bad_name() -> Error {
    Error::new(
        ErrorKind::Malformed,
        Layer::Input,
        0,
        Detail::Text(
            "unknown payload cipher (aes-128|sm4 - cbc|ecb [- pkcs7|zero|none], e.g. sm4-cbc)",
        ),
    )
}

impl PayloadCipher {
    /// Reads a scheme name (module docs); case and `_` for `-` do not matter.
    pub fn parse(text: &str) -> Result<PayloadCipher> {
        let lower: String = text
            .trim()
            .chars()
            .map(|c| {
                if c == '_' {
                    '-'
                } else {
                    c.to_ascii_lowercase()
                }
            })
            .collect();
        let (algorithm, rest) = if let Some(rest) = lower.strip_prefix("aes-128-") {
            (Algorithm::Aes128, rest)
        } else if let Some(rest) = lower.strip_prefix("aes128-") {
            (Algorithm::Aes128, rest)
        } else if let Some(rest) = lower.strip_prefix("aes-") {
            (Algorithm::Aes128, rest)
        } else if let Some(rest) = lower.strip_prefix("sm4-") {
            (Algorithm::Sm4, rest)
        } else {
            return Err(bad_name());
        };
        let mut parts = rest.split('-');
        let mode = match parts.next() {
            Some("cbc") => Mode::Cbc,
            Some("ecb") => Mode::Ecb,
            _ => return Err(bad_name()),
        };
        let padding = match parts.next() {
            None | Some("pkcs7" | "pkcs5") => Padding::Pkcs7,
            Some("zero" | "zeros") => Padding::Zero,
            Some("none" | "nopadding") => Padding::None,
            Some(_) => return Err(bad_name()),
        };
        if parts.next().is_some() {
            return Err(bad_name());
        }
        Ok(PayloadCipher {
            algorithm,
            mode,
            padding,
        })
    }

    /// Decrypts `data` with `key`; `decrypt` errors (offset 0 of `data`) for a DES key, a
    /// length that is not whole blocks, or PKCS#7 padding that does not verify.
    pub fn decrypt(&self, key: &Key, data: &[u8]) -> Result<Vec<u8>> {
        if key.is_des() {
            return Err(decrypt_error(
                "payload cipher keys are 16 bytes, not a DES key",
            ));
        }
        if data.len() % BLOCK != 0 || data.is_empty() {
            return Err(decrypt_error(
                "encrypted payload is not a whole number of 16-byte blocks",
            ));
        }
        let mut buf = data.to_vec();
        match self.algorithm {
            Algorithm::Aes128 => apply::<aes::Aes128>(self.mode, key, &mut buf, false),
            Algorithm::Sm4 => apply::<sm4::Sm4>(self.mode, key, &mut buf, false),
        }
        let keep = match self.padding {
            Padding::None => buf.len(),
            Padding::Zero => {
                let zeros = buf
                    .iter()
                    .rev()
                    .take(BLOCK - 1)
                    .take_while(|b| **b == 0)
                    .count();
                buf.len().saturating_sub(zeros)
            }
            Padding::Pkcs7 => {
                let n = usize::from(buf.last().copied().unwrap_or(0));
                let tail = buf.len().checked_sub(n).and_then(|start| buf.get(start..));
                let ok = (1..=BLOCK).contains(&n)
                    && tail.is_some_and(|t| t.iter().all(|b| usize::from(*b) == n));
                if !ok {
                    return Err(decrypt_error(
                        "PKCS#7 padding does not verify after decryption: wrong key or scheme",
                    ));
                }
                buf.len().saturating_sub(n)
            }
        };
        buf.truncate(keep);
        Ok(buf)
    }

    /// Encrypts `plain` with `key` (padded by the scheme).
    pub fn encrypt(&self, key: &Key, plain: &[u8]) -> Result<Vec<u8>> {
        if key.is_des() {
            return Err(decrypt_error(
                "payload cipher keys are 16 bytes, not a DES key",
            ));
        }
        let mut buf = plain.to_vec();
        let rem = buf.len() % BLOCK;
        match self.padding {
            Padding::Pkcs7 => {
                let n = BLOCK.saturating_sub(rem);
                buf.resize(buf.len().saturating_add(n), u8::try_from(n).unwrap_or(0));
            }
            Padding::Zero if rem != 0 => {
                buf.resize(buf.len().saturating_add(BLOCK.saturating_sub(rem)), 0);
            }
            Padding::Zero => {}
            Padding::None if rem != 0 => {
                return Err(Error::model(
                    "payload cipher without padding: the plaintext is not whole 16-byte blocks",
                ));
            }
            Padding::None => {}
        }
        match self.algorithm {
            Algorithm::Aes128 => apply::<aes::Aes128>(self.mode, key, &mut buf, true),
            Algorithm::Sm4 => apply::<sm4::Sm4>(self.mode, key, &mut buf, true),
        }
        Ok(buf)
    }
}

fn decrypt_error(text: &'static str) -> Error {
    Error::new(ErrorKind::Decrypt, Layer::Security, 0, Detail::Text(text))
}

/// Encrypts or decrypts `buf` (whole blocks) in place.
fn apply<C>(mode: Mode, key: &Key, buf: &mut [u8], encrypt: bool)
where
    C: BlockCipherEncrypt
        + BlockCipherDecrypt
        + KeyInit
        + cbc::cipher::BlockSizeUser<BlockSize = cbc::cipher::consts::U16>,
    C: cbc::cipher::KeySizeUser<KeySize = cbc::cipher::consts::U16>,
{
    let key = Array::from(*key.bytes());
    let (blocks, _) = Array::slice_as_chunks_mut(buf);
    match (mode, encrypt) {
        (Mode::Cbc, true) => {
            cbc::Encryptor::<C>::new(&key, &Array::from([0u8; BLOCK])).encrypt_blocks(blocks)
        }
        (Mode::Cbc, false) => {
            cbc::Decryptor::<C>::new(&key, &Array::from([0u8; BLOCK])).decrypt_blocks(blocks)
        }
        (Mode::Ecb, true) => C::new(&key).encrypt_blocks(blocks),
        (Mode::Ecb, false) => C::new(&key).decrypt_blocks(blocks),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hex::{parse_hex, to_hex};

    /// GB/T 32907-2016 appendix A, example 1: key = plaintext = 0123456789ABCDEFFEDCBA9876543210
    /// → 681EDF34D206965E86B3E94F536E4246 (one block: ECB, and CBC with a zero IV).
    #[test]
    fn gbt_32907_example() {
        let text = "0123456789ABCDEFFEDCBA9876543210";
        let key = Key::parse(text).unwrap();
        let plain = parse_hex(text).unwrap();
        for name in ["sm4-ecb-none", "sm4-cbc-none"] {
            let c = PayloadCipher::parse(name).unwrap();
            let sealed = c.encrypt(&key, &plain).unwrap();
            assert_eq!(
                to_hex(&sealed),
                "681EDF34D206965E86B3E94F536E4246",
                "{name}"
            );
            assert_eq!(c.decrypt(&key, &sealed).unwrap(), plain);
        }
        // With PKCS#7 a whole block of 0x10 follows.
        let c = PayloadCipher::parse("SM4_ECB").unwrap();
        let sealed = c.encrypt(&key, &plain).unwrap();
        assert_eq!(sealed.len(), 32);
        assert_eq!(to_hex(&sealed[..16]), "681EDF34D206965E86B3E94F536E4246");
        assert_eq!(c.decrypt(&key, &sealed).unwrap(), plain);
    }

    /// FIPS 197 appendix C.1: AES-128 key 000102…0F, plaintext 00112233…FF →
    /// 69C4E0D86A7B0430D8CDB78070B4C55A.
    #[test]
    fn fips_197_example() {
        let key = Key::parse("000102030405060708090A0B0C0D0E0F").unwrap();
        let plain = parse_hex("00112233445566778899AABBCCDDEEFF").unwrap();
        let c = PayloadCipher::parse("aes-128-ecb-none").unwrap();
        let sealed = c.encrypt(&key, &plain).unwrap();
        assert_eq!(to_hex(&sealed), "69C4E0D86A7B0430D8CDB78070B4C55A");
    }

    #[test]
    fn padding_and_errors() {
        let key = Key::new([7; 16]);
        let frame = parse_hex("10 5B 05 60 16").unwrap();
        for name in [
            "sm4-cbc",
            "sm4-ecb-zero",
            "aes-cbc-pkcs7",
            "aes128-ecb-zero",
        ] {
            let c = PayloadCipher::parse(name).unwrap();
            let sealed = c.encrypt(&key, &frame).unwrap();
            assert_eq!(sealed.len(), 16);
            assert_eq!(c.decrypt(&key, &sealed).unwrap(), frame, "{name}");
            assert_eq!(
                c.encrypt(&key, &c.decrypt(&key, &sealed).unwrap()).unwrap(),
                sealed
            );
        }
        let c = PayloadCipher::parse("sm4-cbc").unwrap();
        let sealed = c.encrypt(&key, &frame).unwrap();
        let e = c.decrypt(&Key::new([8; 16]), &sealed).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Decrypt);
        assert_eq!(
            c.decrypt(&key, &sealed[..15]).unwrap_err().kind(),
            ErrorKind::Decrypt
        );
        assert!(c.decrypt(&Key::des([1; 8]), &sealed).is_err());
        assert_eq!(c.to_string(), "sm4-cbc-pkcs7");
        for bad in [
            "des-cbc",
            "sm4",
            "sm4-ofb",
            "sm4-cbc-iso",
            "sm4-cbc-pkcs7-x",
        ] {
            assert!(PayloadCipher::parse(bad).is_err(), "{bad}");
        }
    }
}
