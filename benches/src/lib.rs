//! The frames the benchmarks decode: about 100-byte wired M-Bus RSP_UD frames — the libmbus
//! `ok` frames of 80–120 bytes from `../shared/vectors` when that folder exists, else the
//! project's own RSP_UD vectors.

use std::path::Path;

/// The benchmark frames, as bytes, and where they came from.
pub fn frames() -> (Vec<Vec<u8>>, &'static str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let shared = root.join("../../shared/vectors/mbus-libmbus.jsonl");
    if let Ok(text) = std::fs::read_to_string(&shared) {
        let frames: Vec<Vec<u8>> = text
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|v| v["expected"]["kind"] == "ok")
            .filter_map(|v| meterwire::parse_hex(v["hex"].as_str()?).ok())
            .filter(|b| (80..=120).contains(&b.len()) && b.get(6) == Some(&0x72))
            .collect();
        if !frames.is_empty() {
            return (
                frames,
                "libmbus ok RSP_UD frames of 80-120 bytes (../shared/vectors)",
            );
        }
    }
    let own =
        std::fs::read_to_string(root.join("../tests/conformance/mbus.jsonl")).unwrap_or_default();
    let frames = own
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["expected"].get("error").is_none())
        .filter_map(|v| meterwire::parse_hex(v["hex"].as_str()?).ok())
        .filter(|b| b.len() >= 40 && b.get(6) == Some(&0x72))
        .collect();
    (frames, "the project's own RSP_UD vectors")
}

/// An ~80-byte CRC-free wM-Bus telegram (short TPL, 11 water-meter records) and the same
/// records in security mode 5, encrypted by meterwire's encoder with `WMBUS_KEY`.
pub const WMBUS_PLAIN: &str = "4F443A637856341201077A2A0000002F2F0C1367452301026C2F330B3B2001004C1311223344426C1F3104FD17000000000A5A15020A5E8201046D32371F1502FD740C0D2F2F2F2F2F2F2F2F2F2F2F2F";
/// The key of the mode-5 form.
pub const WMBUS_KEY: [u8; 16] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];
