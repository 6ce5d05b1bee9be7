//! A zero-copy view of a wireless M-Bus telegram (EN 13757-4 / OMS), for hot paths: the
//! checked header fields of a CRC-free telegram with CI 72, 7A or 78 (TPL long, short, none),
//! and its records as [`Records`] — borrowed in place when the payload is plaintext, or
//! decrypted (security mode 5) into a buffer the caller owns. Nothing is allocated.
//!
//! The view covers the common telegram of a meter reading; ELL / AFL layers, compact frames,
//! mode 7, manufacturer layouts and telegrams with CRCs still in go through
//! [`decode`](crate::decode), which reads everything into the model (and which a conformance
//! test compares this view with).

use super::security;
use crate::error::{Detail, Error, ErrorKind, Layer, Result};
use crate::keys::Key;
use crate::mbus::view::Records;

/// Offset of the CI field in a CRC-free telegram (`L C M M A A A A A A CI`).
const CI_AT: usize = 10;

/// A checked view of a CRC-free wM-Bus telegram.
#[derive(Clone, Copy, Debug)]
pub struct Telegram<'a> {
    bytes: &'a [u8],
    /// Where the transport header (after the CI) ends and the application data starts.
    payload_at: usize,
}

#[inline]
fn error(kind: ErrorKind, at: usize, text: &'static str) -> Error {
    Error::new(kind, Layer::Link, at, Detail::Text(text))
}

#[inline]
fn byte(b: &[u8], at: usize) -> u8 {
    b.get(at).copied().unwrap_or(0)
}

impl<'a> Telegram<'a> {
    /// Checks `bytes` as a CRC-free telegram (`L` = length − 1) with CI 72, 7A or 78 and a
    /// complete transport header.
    #[inline]
    pub fn new_checked(bytes: &'a [u8]) -> Result<Telegram<'a>> {
        let Some(&l) = bytes.first() else {
            return Err(Error::truncated(Layer::Link, 1, 0));
        };
        if bytes.len() <= CI_AT {
            return Err(Error::truncated(
                Layer::Link,
                CI_AT.saturating_add(1),
                bytes.len(),
            ));
        }
        if usize::from(l).saturating_add(1) != bytes.len() {
            return Err(error(
                ErrorKind::Length,
                0,
                "L does not match the length of a CRC-free telegram",
            ));
        }
        let header = match byte(bytes, CI_AT) {
            0x78 => 0,
            0x7A => 4,
            0x72 => 12,
            _ => {
                return Err(error(
                    ErrorKind::Unsupported,
                    CI_AT,
                    "the telegram view reads CI 72, 7A and 78; decode reads the others",
                ))
            }
        };
        let payload_at = CI_AT.saturating_add(1).saturating_add(header);
        if payload_at > bytes.len() {
            return Err(Error::truncated(Layer::Link, payload_at, bytes.len()));
        }
        Ok(Telegram { bytes, payload_at })
    }

    /// The C field.
    #[inline]
    pub fn c(&self) -> u8 {
        byte(self.bytes, 1)
    }

    /// The manufacturer code of the data-link address (`0x2C2D` = `KAM`).
    #[inline]
    pub fn manufacturer_code(&self) -> u16 {
        u16::from_le_bytes([byte(self.bytes, 2), byte(self.bytes, 3)])
    }

    /// The three letters of the manufacturer code.
    #[inline]
    pub fn manufacturer(&self) -> [u8; 3] {
        let code = self.manufacturer_code();
        let letter = |shift: u16| {
            u8::try_from((code >> shift) & 0x1F)
                .unwrap_or(0)
                .wrapping_add(64)
        };
        [letter(10), letter(5), letter(0)]
    }

    /// The identification number's BCD bytes as sent (least significant first).
    #[inline]
    pub fn id_bytes(&self) -> [u8; 4] {
        [
            byte(self.bytes, 4),
            byte(self.bytes, 5),
            byte(self.bytes, 6),
            byte(self.bytes, 7),
        ]
    }

    /// The identification number read as BCD (`78 56 34 12` → 12345678); `None` when a
    /// nibble is not a decimal digit.
    #[inline]
    pub fn id(&self) -> Option<u32> {
        self.id_bytes().iter().rev().try_fold(0u32, |acc, &b| {
            let (hi, lo) = (b >> 4, b & 0x0F);
            (hi <= 9 && lo <= 9).then(|| {
                acc.wrapping_mul(100)
                    .wrapping_add(u32::from(hi.wrapping_mul(10).wrapping_add(lo)))
            })
        })
    }

    /// The version byte.
    #[inline]
    pub fn version(&self) -> u8 {
        byte(self.bytes, 8)
    }

    /// The device type (medium) byte.
    #[inline]
    pub fn device_type(&self) -> u8 {
        byte(self.bytes, 9)
    }

    /// The CI field (72, 7A or 78).
    #[inline]
    pub fn ci(&self) -> u8 {
        byte(self.bytes, CI_AT)
    }

    /// The transport header's access number, status and configuration field (CI 72/7A).
    #[inline]
    fn tpl_tail(&self) -> Option<&'a [u8]> {
        match self.ci() {
            0x78 => None,
            _ => self
                .bytes
                .get(self.payload_at.saturating_sub(4)..self.payload_at),
        }
    }

    /// The access number of the transport header.
    #[inline]
    pub fn access_no(&self) -> Option<u8> {
        self.tpl_tail().map(|t| byte(t, 0))
    }

    /// The status byte of the transport header.
    #[inline]
    pub fn status(&self) -> Option<u8> {
        self.tpl_tail().map(|t| byte(t, 1))
    }

    /// The configuration field of the transport header.
    #[inline]
    pub fn config(&self) -> Option<u16> {
        self.tpl_tail()
            .map(|t| u16::from_le_bytes([byte(t, 2), byte(t, 3)]))
    }

    /// The security mode (configuration field bits 12–8; 0 without a transport header).
    #[inline]
    pub fn security_mode(&self) -> u8 {
        self.config()
            .map_or(0, |c| u8::try_from((c >> 8) & 0x1F).unwrap_or(0))
    }

    /// The application data after the transport header, as sent.
    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        self.bytes.get(self.payload_at..).unwrap_or(&[])
    }

    /// The records of a plaintext payload (no security, or flagged encrypted but already
    /// decrypted: it starts `2F 2F`). An encrypted payload is a `decrypt` error: use
    /// [`Telegram::decrypt`].
    #[inline]
    pub fn records(&self) -> Result<Records<'a>> {
        let payload = self.payload();
        if self.security_mode() != 0 && !payload.starts_with(&[0x2F, 0x2F]) {
            return Err(error(
                ErrorKind::Decrypt,
                self.payload_at,
                "the payload is encrypted: decrypt it with a key",
            ));
        }
        Ok(Records::new(payload, self.payload_at))
    }

    /// `M(2) ‖ A(6)` for the IV: the long transport header's address when there is one.
    #[inline]
    fn m_and_a(&self) -> [u8; 8] {
        let b = self.bytes;
        if self.ci() == 0x72 {
            let h = CI_AT.saturating_add(1);
            let at = |i: usize| byte(b, h.saturating_add(i));
            [at(4), at(5), at(0), at(1), at(2), at(3), at(6), at(7)]
        } else {
            [
                byte(b, 2),
                byte(b, 3),
                byte(b, 4),
                byte(b, 5),
                byte(b, 6),
                byte(b, 7),
                byte(b, 8),
                byte(b, 9),
            ]
        }
    }

    /// Decrypts a security-mode-5 payload into `buf` (at least the payload's length) and
    /// returns its records. A payload that is already plaintext is copied as it is. Errors:
    /// `unsupported` for other modes, `length` when `buf` is too small, `decrypt` for a key
    /// of the wrong kind or a plaintext that does not start `2F 2F` (wrong key).
    #[inline]
    pub fn decrypt<'b>(&self, key: &Key, buf: &'b mut [u8]) -> Result<Records<'b>> {
        let payload = self.payload();
        let out = buf.get_mut(..payload.len()).ok_or(error(
            ErrorKind::Length,
            self.payload_at,
            "the buffer is shorter than the payload",
        ))?;
        out.copy_from_slice(payload);
        match self.security_mode() {
            0 => {}
            5 => {
                if key.is_des() {
                    return Err(error(
                        ErrorKind::Decrypt,
                        self.payload_at,
                        "security mode 5 needs a 16-byte AES-128 key",
                    ));
                }
                let blocks = usize::from(self.config().map_or(0, |c| (c >> 4) & 0x0F));
                let len = blocks.saturating_mul(16).min(out.len() & !0x0F);
                let region = out.get_mut(..len).unwrap_or(&mut []);
                let iv = security::mode5_iv(&self.m_and_a(), self.access_no().unwrap_or(0));
                security::cbc_decrypt(key, &iv, region);
                // As `decode`: a plaintext that does not start 2F 2F is a wrong key, unless the
                // payload as sent does (it was already decrypted): then it stands as sent.
                if !region.starts_with(&[0x2F, 0x2F]) {
                    if payload.starts_with(&[0x2F, 0x2F]) {
                        out.copy_from_slice(payload);
                        return Ok(Records::new(out, self.payload_at));
                    }
                    return Err(error(
                        ErrorKind::Decrypt,
                        self.payload_at,
                        "decrypted payload does not start with 2F 2F: wrong key",
                    ));
                }
            }
            _ => {
                return Err(error(
                    ErrorKind::Unsupported,
                    self.payload_at,
                    "the telegram view decrypts security mode 5; decode reads the others",
                ))
            }
        }
        Ok(Records::new(out, self.payload_at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hex::parse_hex;

    /// OMS Vol. 2 Annex N (wmbus.md W0) without its CRCs: mode 5, short header, key
    /// 0102…0F11.
    const ANNEX_N: &str = "2444931578563412 3303 7A2A002025 5923C95AAA26D1B2E7493B013EC4A6F6D3529B520EDFF0EA6DEFC99D6D69EBF3";

    #[test]
    fn reads_the_header_and_decrypts_mode_5() {
        let t = parse_hex(ANNEX_N).unwrap();
        let mut bytes = t.clone();
        bytes[0] = u8::try_from(bytes.len() - 1).unwrap();
        let view = Telegram::new_checked(&bytes).unwrap();
        assert_eq!(view.manufacturer(), *b"ELS");
        assert_eq!(view.id(), Some(12_345_678));
        assert_eq!((view.version(), view.device_type()), (0x33, 0x03));
        assert_eq!((view.access_no(), view.security_mode()), (Some(0x2A), 5));
        assert_eq!(view.records().unwrap_err().kind(), ErrorKind::Decrypt);
        let key = Key::parse("0102030405060708090A0B0C0D0E0F11").unwrap();
        let mut buf = [0u8; 256];
        let mut records = view.decrypt(&key, &mut buf).unwrap();
        // 0C 14 27048502: 8-digit BCD, VIF 14 = 0.01 m3 → 28504.27 m3.
        let first = records.next().unwrap().unwrap();
        assert_eq!(first.quantity(), "volume");
        assert_eq!(first.number().unwrap().to_string(), "28504.27");
        assert_eq!(first.offset(), 17);
        let wrong = Key::parse("0102030405060708090A0B0C0D0E0F12").unwrap();
        let e = view.decrypt(&wrong, &mut buf).unwrap_err();
        assert_eq!((e.kind(), e.offset()), (ErrorKind::Decrypt, 15));
    }

    #[test]
    fn an_already_decrypted_payload_stands_as_sent() {
        // Flagged mode 5 (CFG 0x0520) but sent as plaintext: 2F 2F, then 0C 13 = 1234.567 m3.
        let bytes = parse_hex(
            "2E443A637856341201077A2B0020052F2F0C1367452301026C2F330B3B2001002F2F2F2F2F2F2F2F2F2F2F2F2F2F2F",
        )
        .unwrap();
        let view = Telegram::new_checked(&bytes).unwrap();
        assert_eq!(view.security_mode(), 5);
        let key = Key::parse("000102030405060708090A0B0C0D0E0F").unwrap();
        let mut buf = [0u8; 256];
        let first = view
            .decrypt(&key, &mut buf)
            .unwrap()
            .next()
            .unwrap()
            .unwrap();
        assert_eq!(first.number().unwrap().to_string(), "1234.567");
        let first = view.records().unwrap().next().unwrap().unwrap();
        assert_eq!(first.number().unwrap().to_string(), "1234.567");
    }

    #[test]
    fn refuses_what_it_does_not_read() {
        let e = Telegram::new_checked(&parse_hex("05443A637856").unwrap()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Truncated);
        // L one too large.
        let e = Telegram::new_checked(&parse_hex("0B443A63785634120107 78").unwrap()).unwrap_err();
        assert_eq!((e.kind(), e.offset()), (ErrorKind::Length, 0));
        // ELL CI 8C goes through decode.
        let e = Telegram::new_checked(&parse_hex("0A443A637856341201078C").unwrap()).unwrap_err();
        assert_eq!((e.kind(), e.offset()), (ErrorKind::Unsupported, 10));
    }
}
