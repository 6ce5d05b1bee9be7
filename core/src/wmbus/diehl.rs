//! Diehl Metering radio (IZAR, Hydrus, Sharky; manufacturer codes DME, EWT, HYD, SAP, SPL):
//! the manufacturer's published default keys and its "real data" scrambling.
//!
//! Facts from the public wmbusmeters project (`manufacturer_specificities`), checked here on
//! its public test telegrams:
//!
//! - A short-header telegram (CI 7A, C 44/46) of a Diehl meter whose configuration field has
//!   bit 12 set carries *real data* scrambled with a 32-bit LFSR; the other seven bits of the
//!   configuration field's high byte are a check: `(Σ plaintext bytes) & 0xEF`.
//! - The LFSR starts from the key (`K[0..4] ⊕ K[4..8]`, big-endian words of an 8-byte key)
//!   mixed with three big-endian words of the telegram: bytes 2–5 (M, A), 6–9 (A) and 10–13
//!   (CI, access number, status, configuration low byte). Each payload byte is XORed with the
//!   low byte of the state after 8 steps; a step shifts left and feeds back bits 1, 2, 11, 31.
//! - Without a key the meters open with one of two published LFSR keys; an OMS security
//!   mode 5 payload of a Diehl meter opens with a published AES-128 key.
//!
//! The key that opened a payload is reported by name in `link.default_key` (never its bytes),
//! so encoding scrambles or encrypts again with the same one.

use crate::keys::Key;

/// `link.manufacturer_format` of a Diehl real-data telegram.
pub const REAL_DATA: &str = "diehl_real_data";

/// `link.manufacturer_format` of a Diehl PRIOS telegram (IZAR water meters, CI A0–A7).
pub const PRIOS: &str = "diehl_prios";

/// `link.default_key` of Diehl's published AES-128 key (OMS security mode 5).
pub const DEFAULT_AES: &str = "diehl_aes";

/// Diehl's published AES-128 key for OMS mode 5: the 8 bytes below, twice.
const AES_HALF: [u8; 8] = [0x51, 0x72, 0x89, 0x10, 0xE6, 0x6D, 0x83, 0xF8];

/// Diehl's published LFSR keys, by their `link.default_key` names.
const LFSR_DEFAULTS: [(&str, [u8; 8]); 2] = [
    (
        "diehl_lfsr_1",
        [0x39, 0xBC, 0x8A, 0x10, 0xE6, 0x6D, 0x83, 0xF8],
    ),
    ("diehl_lfsr_2", AES_HALF),
];

/// Whether a manufacturer code (three letters) is one of the Diehl group's.
pub fn is_diehl(manufacturer: &str) -> bool {
    matches!(manufacturer, "DME" | "EWT" | "HYD" | "SAP" | "SPL")
}

/// Diehl's published AES-128 key.
pub fn default_aes_key() -> Key {
    let mut bytes = [0u8; 16];
    for (d, s) in bytes.iter_mut().zip(AES_HALF.iter().chain(AES_HALF.iter())) {
        *d = *s;
    }
    Key::new(bytes)
}

/// Whether a telegram's configuration field marks Diehl real data (bit 12).
pub fn is_real_data(config: u16) -> bool {
    config & 0x1000 != 0
}

/// The LFSR key named by `link.default_key`, or the first 8 bytes of a given key.
fn lfsr_key(given: Option<&Key>, default: Option<&str>) -> Option<[u8; 8]> {
    match (given, default) {
        (Some(k), _) => Some(k.des_bytes()),
        (None, Some(name)) => LFSR_DEFAULTS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, k)| *k),
        (None, None) => None,
    }
}

fn be32(b: &[u8], at: usize) -> u32 {
    let mut w = [0u8; 4];
    for (i, d) in w.iter_mut().enumerate() {
        *d = b.get(at.wrapping_add(i)).copied().unwrap_or(0);
    }
    u32::from_be_bytes(w)
}

/// The LFSR state for `key` and the telegram's bytes 0–13 (CRC-free, as sent).
fn seed(key: &[u8; 8], head: &[u8]) -> u32 {
    be32(key, 0) ^ be32(key, 4) ^ be32(head, 2) ^ be32(head, 6) ^ be32(head, 10)
}

/// XORs `data` with the LFSR stream from `state` (scrambling and unscrambling are the same).
fn apply(mut state: u32, data: &mut [u8]) {
    for b in data {
        for _ in 0..8 {
            let bit = (state.wrapping_shr(1)
                ^ state.wrapping_shr(2)
                ^ state.wrapping_shr(11)
                ^ state.wrapping_shr(31))
                & 1;
            state = state.wrapping_shl(1) | bit;
        }
        *b ^= state.to_le_bytes()[0];
    }
}

/// The 7-bit check a real-data payload carries in the configuration field's high byte.
pub fn check_bits(plain: &[u8]) -> u8 {
    let sum = plain.iter().fold(0u8, |acc, &b| acc.wrapping_add(b));
    sum & 0xEF
}

/// Unscrambles a PRIOS payload in place (the bytes after its 4-byte header): the given key,
/// else each published key, the first whose plaintext starts `4B`. `None` (payload as sent)
/// when none does; `Some(name)` names the published key (`None` inside: the given one).
pub fn open_prios(
    head: &[u8],
    payload: &mut [u8],
    given: Option<&Key>,
) -> Option<Option<&'static str>> {
    open_with(head, payload, given, |plain| {
        plain.first() == Some(&PRIOS_MARK)
    })
}

/// Unscrambles `payload` in place with the given key, else each published key, the first
/// whose plaintext `opens`; `Some(name)` of the key (`None` inside: the given one), or `None`
/// with the payload left as sent.
fn open_with(
    head: &[u8],
    payload: &mut [u8],
    given: Option<&Key>,
    opens: impl Fn(&[u8]) -> bool,
) -> Option<Option<&'static str>> {
    let given_key = given.map(|k| (None, k.des_bytes()));
    let defaults = LFSR_DEFAULTS
        .iter()
        .filter(|_| given.is_none())
        .map(|(name, key)| (Some(*name), *key));
    for (name, key) in given_key.into_iter().chain(defaults) {
        apply(seed(&key, head), payload);
        if opens(payload) {
            return Some(name);
        }
        // Undo: the stream is its own inverse.
        apply(seed(&key, head), payload);
    }
    None
}

/// The first plaintext byte of a PRIOS payload.
const PRIOS_MARK: u8 = 0x4B;

/// Whether a telegram is Diehl PRIOS: a Diehl manufacturer, C 44/46, CI A0–A7.
pub fn is_prios(manufacturer: &str, c: u8, ci: u8) -> bool {
    is_diehl(manufacturer) && matches!(c, 0x44 | 0x46) && (0xA0..=0xA7).contains(&ci)
}

/// Whether a PRIOS telegram's address field is sent as version, device type, identification
/// number (every Diehl manufacturer but SAP, whose PRIOS meters keep the standard order).
pub fn prios_address_swapped(manufacturer: &str) -> bool {
    manufacturer != "SAP"
}

/// How a real-data payload was opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Opened {
    /// Unscrambled with the given key (`None`) or the named published key.
    Key(Option<&'static str>),
    /// The payload was sent already unscrambled (its check holds as sent).
    AlreadyPlain,
    /// No key made the check hold: the payload is left as sent.
    Closed,
}

/// Unscrambles a real-data payload in place: the given key, else each published key, the
/// first whose plaintext meets the check in `config_high`; a payload that meets it as sent
/// and under no key was sent already unscrambled.
pub fn open_real_data(
    head: &[u8],
    payload: &mut [u8],
    config_high: u8,
    given: Option<&Key>,
) -> Opened {
    let check = config_high & 0xEF;
    if let Some(name) = open_with(head, payload, given, |plain| check_bits(plain) == check) {
        return Opened::Key(name);
    }
    if check_bits(payload) == check {
        Opened::AlreadyPlain
    } else {
        Opened::Closed
    }
}

/// Scrambles a real-data or PRIOS payload in place with the given key, else the published key
/// named by `default` (the inverse of [`open_real_data`] and [`open_prios`]); `false` when
/// there is no key.
pub fn scramble(
    head: &[u8],
    payload: &mut [u8],
    given: Option<&Key>,
    default: Option<&str>,
) -> bool {
    match lfsr_key(given, default) {
        Some(key) => {
            apply(seed(&key, head), payload);
            true
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hex::parse_hex;

    #[test]
    fn lfsr_stream_is_its_own_inverse_and_keyed_by_the_header() {
        let head = parse_hex("5344242320042560926837004575").unwrap();
        let mut data = *b"2F2F0C06 records";
        let key = LFSR_DEFAULTS[0].1;
        apply(seed(&key, &head), &mut data);
        assert_ne!(&data, b"2F2F0C06 records");
        apply(seed(&key, &head), &mut data);
        assert_eq!(&data, b"2F2F0C06 records");
    }

    #[test]
    fn default_aes_key_is_the_half_key_twice() {
        let k = default_aes_key();
        assert!(!k.is_des());
        assert_eq!(k.des_bytes(), AES_HALF);
    }
}
