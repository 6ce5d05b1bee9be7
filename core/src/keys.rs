//! Keys for encrypted payloads (design §4 `keys`): none, one key for every meter, or a map
//! meter id → key. A key is AES-128 (16 bytes: security modes 5 and 7, the ELL) or, for the
//! deprecated security mode 2, DES (8 bytes). Key bytes never appear in `Debug` output,
//! errors or the model.

use alloc::vec::Vec;
use core::fmt;

use crate::error::{Detail, Error, ErrorKind, Layer, Result};
use crate::model::ShortText;

/// One AES-128 or DES key. `Debug` prints `Key(..)`, never the bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct Key {
    /// The key bytes; a DES key uses the first 8 and leaves the rest zero.
    bytes: [u8; 16],
    /// 16 (AES-128) or 8 (DES).
    len: u8,
}

impl Key {
    /// An AES-128 key from exactly 16 bytes.
    pub fn new(bytes: [u8; 16]) -> Key {
        Key { bytes, len: 16 }
    }

    /// A DES key (security mode 2) from exactly 8 bytes.
    pub fn des(bytes: [u8; 8]) -> Key {
        let mut all = [0u8; 16];
        for (d, s) in all.iter_mut().zip(bytes) {
            *d = s;
        }
        Key { bytes: all, len: 8 }
    }

    /// A key from a slice: 16 bytes are an AES-128 key, 8 bytes a DES key.
    pub fn from_slice(bytes: &[u8]) -> Result<Key> {
        if let Ok(aes) = <[u8; 16]>::try_from(bytes) {
            return Ok(Key::new(aes));
        }
        <[u8; 8]>::try_from(bytes)
            .map(Key::des)
            .map_err(|_| key_error())
    }

    /// A key from hex text (32 hex digits for AES-128, 16 for DES; spaces and separators
    /// allowed).
    pub fn parse(text: &str) -> Result<Key> {
        let bytes = crate::hex::parse_hex(text).map_err(|_| key_error())?;
        Key::from_slice(&bytes)
    }

    /// Whether this is an 8-byte DES key (security mode 2) rather than AES-128.
    pub fn is_des(&self) -> bool {
        self.len == 8
    }

    /// The AES-128 key bytes (for the cipher; callers check [`Key::is_des`] first).
    pub(crate) fn bytes(&self) -> &[u8; 16] {
        &self.bytes
    }

    /// The DES key bytes.
    pub(crate) fn des_bytes(&self) -> [u8; 8] {
        let mut out = [0u8; 8];
        for (d, s) in out.iter_mut().zip(self.bytes) {
            *d = s;
        }
        out
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Key(..)")
    }
}

fn key_error() -> Error {
    Error::new(
        ErrorKind::Hex,
        Layer::Input,
        0,
        Detail::Text("a key must be 32 hex digits (AES-128) or 16 (DES)"),
    )
}

/// The keys of design §4: `Keys::None`, one key for all meters, or one per meter id.
#[derive(Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Keys {
    /// No key: encrypted payloads are reported as `encrypted` with their bytes.
    #[default]
    None,
    /// One key for every meter.
    One(Key),
    /// A key per meter id (the model's `meter.id`, e.g. `"12345678"`).
    ById(Vec<(ShortText, Key)>),
}

impl fmt::Debug for Keys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Keys::None => f.write_str("Keys::None"),
            Keys::One(_) => f.write_str("Keys::One(..)"),
            Keys::ById(map) => {
                let mut list = f.debug_list();
                for (id, _) in map {
                    list.entry(&format_args!("{id}=.."));
                }
                list.finish()
            }
        }
    }
}

impl Keys {
    /// Reads the CLI / binding text forms: one key as hex (`0102…0F`), or a list
    /// `ID=HEX,ID=HEX` (commas or semicolons; an empty text means no key).
    pub fn parse(text: &str) -> Result<Keys> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(Keys::None);
        }
        if !text.contains('=') {
            return Key::parse(text).map(Keys::One);
        }
        let mut map = Vec::new();
        for part in text
            .split([',', ';'])
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            let (id, key) = part.split_once('=').ok_or_else(key_error)?;
            map.push((Keys::id(id.trim())?, Key::parse(key)?));
        }
        Ok(Keys::ById(map))
    }

    /// A map from `(meter id, hex key)` pairs (the binding dictionary form).
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<Keys> {
        let mut map = Vec::new();
        for (id, key) in pairs {
            map.push((Keys::id(id.trim())?, Key::parse(key)?));
        }
        Ok(Keys::ById(map))
    }

    fn id(text: &str) -> Result<ShortText> {
        ShortText::new(text)
            .filter(|t| !t.as_str().is_empty())
            .ok_or(Error::new(
                ErrorKind::Malformed,
                Layer::Input,
                0,
                Detail::Text("a meter id in the key map is empty or too long"),
            ))
    }

    /// Whether no key is given.
    pub fn is_empty(&self) -> bool {
        match self {
            Keys::None => true,
            Keys::One(_) => false,
            Keys::ById(map) => map.is_empty(),
        }
    }

    /// The key for meter `id`: the single key, or the map's entry (leading zeros of either
    /// side do not matter, letters compare case-insensitively).
    pub fn for_meter(&self, id: &str) -> Option<&Key> {
        match self {
            Keys::None => None,
            Keys::One(k) => Some(k),
            Keys::ById(map) => map
                .iter()
                .find(|(i, _)| same_id(i.as_str(), id))
                .map(|(_, k)| k),
        }
    }
}

fn same_id(a: &str, b: &str) -> bool {
    let a = a.trim_start_matches('0');
    let b = b.trim_start_matches('0');
    a.eq_ignore_ascii_case(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_forms_and_hides_bytes() {
        let one = Keys::parse("000102030405060708090A0B0C0D0E0F").unwrap();
        assert!(matches!(one, Keys::One(_)));
        assert_eq!(alloc::format!("{one:?}"), "Keys::One(..)");
        let map = Keys::parse(
            "12345678=000102030405060708090A0B0C0D0E0F, 00000001=0102030405060708090A0B0C0D0E0F11",
        )
        .unwrap();
        let dbg = alloc::format!("{map:?}");
        assert!(!dbg.contains("0102") && dbg.contains("12345678"), "{dbg}");
        assert!(map.for_meter("12345678").is_some());
        assert!(map.for_meter("1").is_some());
        assert!(map.for_meter("2").is_none());
        assert_eq!(Keys::parse("0102").unwrap_err().kind(), ErrorKind::Hex);
        assert!(Keys::parse("").unwrap().is_empty());
    }
}
