//! OMS / EN 13757-7 security with the RustCrypto primitives (`aes`, `cbc`, `ctr`, `cmac`,
//! `des`): mode 5 (AES-128-CBC, IV from M, A and the access number), mode 7 (AES-128-CBC with
//! a zero IV and the CMAC key derivation), the ELL's AES-128-CTR (`wmbus.md` §4–§5), and the
//! deprecated mode 2 (DES-CBC, IV = 0).
//!
//! Nothing here is hand-rolled: the block cipher, the modes and the MAC come from the crates.

use aes::Aes128;
use cbc::cipher::{Array, BlockModeDecrypt, BlockModeEncrypt, KeyIvInit, StreamCipher};
use cmac::{Cmac, KeyInit, Mac};
use des::Des;

use crate::keys::Key;

/// The AES block size.
pub const BLOCK: usize = 16;

/// Decrypts `buf` (a whole number of 16-byte blocks; a partial tail is left alone) in place
/// with AES-128-CBC.
pub fn cbc_decrypt(key: &Key, iv: &[u8; 16], buf: &mut [u8]) {
    let (blocks, _) = Array::slice_as_chunks_mut(buf);
    cbc::Decryptor::<Aes128>::new(&Array::from(*key.bytes()), &Array::from(*iv))
        .decrypt_blocks(blocks);
}

/// Encrypts `buf` (whole 16-byte blocks; a partial tail is left alone) in place with
/// AES-128-CBC.
pub fn cbc_encrypt(key: &Key, iv: &[u8; 16], buf: &mut [u8]) {
    let (blocks, _) = Array::slice_as_chunks_mut(buf);
    cbc::Encryptor::<Aes128>::new(&Array::from(*key.bytes()), &Array::from(*iv))
        .encrypt_blocks(blocks);
}

/// Decrypts `buf` (whole 8-byte blocks; a partial tail is left alone) in place with
/// DES-CBC and a zero IV: security mode 2.
pub fn des_cbc_decrypt(key: &[u8; 8], buf: &mut [u8]) {
    let (blocks, _) = Array::slice_as_chunks_mut(buf);
    cbc::Decryptor::<Des>::new(&Array::from(*key), &Array::from([0u8; 8])).decrypt_blocks(blocks);
}

/// Encrypts `buf` (whole 8-byte blocks; a partial tail is left alone) in place with DES-CBC
/// and a zero IV: security mode 2.
pub fn des_cbc_encrypt(key: &[u8; 8], buf: &mut [u8]) {
    let (blocks, _) = Array::slice_as_chunks_mut(buf);
    cbc::Encryptor::<Des>::new(&Array::from(*key), &Array::from([0u8; 8])).encrypt_blocks(blocks);
}

/// Applies the AES-128-CTR keystream (128-bit big-endian counter: the last byte of the
/// initial counter block is the ELL block counter) to `buf` in place. Encrypts and decrypts.
pub fn ctr_apply(key: &Key, counter: &[u8; 16], buf: &mut [u8]) {
    ctr::Ctr128BE::<Aes128>::new(&Array::from(*key.bytes()), &Array::from(*counter))
        .apply_keystream(buf);
}

/// Mode 5 IV: `M(2) ‖ A(6) ‖ ACC × 8`.
pub fn mode5_iv(m_and_a: &[u8; 8], access_no: u8) -> [u8; 16] {
    let mut iv = [access_no; 16];
    for (d, s) in iv.iter_mut().zip(m_and_a) {
        *d = *s;
    }
    iv
}

/// ELL AES-CTR initial counter block: `M(2) ‖ A(6) ‖ CC (H and R cleared) ‖ SN(4) ‖ FN(2)=0 ‖
/// BC=0`.
pub fn ell_counter(m_and_a: &[u8; 8], cc: u8, session_number: [u8; 4]) -> [u8; 16] {
    let mut iv = [0u8; 16];
    let (head, tail) = iv.split_at_mut(8);
    head.copy_from_slice(m_and_a);
    if let Some((first, rest)) = tail.split_first_mut() {
        *first = cc & !0x12;
        for (d, s) in rest.iter_mut().zip(session_number) {
            *d = s;
        }
    }
    iv
}

/// The OMS / EN 13757-7 (cl. 9.6.1) key derivation:
/// `CMAC(master, DC ‖ MCR(4, LE) ‖ ID(4, LE) ‖ 07 × 7)`.
///
/// `dc` is `0x00` for Kenc meter → other, `0x01` Kmac meter → other, `0x10` / `0x11` for the
/// other direction.
pub fn derive_key(master: &Key, dc: u8, message_counter: u32, id: [u8; 4]) -> Key {
    let mut input = [0x07u8; 16];
    let mut at = 0usize;
    for b in core::iter::once(dc)
        .chain(message_counter.to_le_bytes())
        .chain(id)
    {
        if let Some(slot) = input.get_mut(at) {
            *slot = b;
        }
        at = at.saturating_add(1);
    }
    let mut mac = <Cmac<Aes128> as KeyInit>::new(&Array::from(*master.bytes()));
    mac.update(&input);
    let out: [u8; 16] = mac.finalize().into_bytes().into();
    Key::new(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hex::parse_hex;

    fn key(hex: &str) -> Key {
        Key::from_slice(&parse_hex(hex).unwrap()).unwrap()
    }

    #[test]
    fn kdf_reproduces_digest_k1() {
        let master = key("000102030405060708090A0B0C0D0E0F");
        let id = [0x78, 0x56, 0x34, 0x12];
        assert_eq!(
            derive_key(&master, 0x00, 1, id).bytes(),
            parse_hex("4A30486D9789C23387F94E92FDEA7CC0")
                .unwrap()
                .as_slice()
        );
        assert_eq!(
            derive_key(&master, 0x01, 1, id).bytes(),
            parse_hex("7CF38139560E8CFFD01084F6EAB807C1")
                .unwrap()
                .as_slice()
        );
    }

    #[test]
    fn oms_annex_n_mode5_decrypts() {
        let k = key("0102030405060708090A0B0C0D0E0F11");
        let iv = mode5_iv(&[0x93, 0x15, 0x78, 0x56, 0x34, 0x12, 0x33, 0x03], 0x2A);
        let mut data =
            parse_hex("5923C95AAA26D1B2E7493B 013EC4A6F6D3529B520EDFF0EA6DEFC9 9D6D69EBF3")
                .unwrap();
        cbc_decrypt(&k, &iv, &mut data);
        assert_eq!(
            &data[..19],
            parse_hex("2F2F0C1427048502046D32371F1502FD170000").unwrap()
        );
        cbc_encrypt(&k, &iv, &mut data);
        assert_eq!(data[0], 0x59);
    }

    /// The mode-2 telegram of wmbusmeters' actislink test (key 0102030405060708, public):
    /// DES-CBC with a zero IV gives `2F 2F`, then volume 04 13 E8 03 00 00 = 1000 L, then
    /// fillers.
    #[test]
    fn des_mode2_decrypts_and_round_trips() {
        let key = [1, 2, 3, 4, 5, 6, 7, 8];
        let cipher = parse_hex("BBD1EAFD0222F871CB70DA16C78AE098").unwrap();
        let mut data = cipher.clone();
        des_cbc_decrypt(&key, &mut data);
        assert_eq!(data, parse_hex("2F2F0413E80300002F2F2F2F2F2F2F2F").unwrap());
        des_cbc_encrypt(&key, &mut data);
        assert_eq!(data, cipher);
    }

    #[test]
    fn ctr_round_trips() {
        let k = key("000102030405060708090A0B0C0D0E0F");
        let c = ell_counter(&[1, 2, 3, 4, 5, 6, 7, 8], 0x30, [1, 2, 3, 4]);
        assert_eq!(c[8], 0x20);
        let mut data = [0x2Fu8; 40];
        ctr_apply(&k, &c, &mut data);
        assert_ne!(data, [0x2F; 40]);
        ctr_apply(&k, &c, &mut data);
        assert_eq!(data, [0x2F; 40]);
    }
}
