//! Shared helpers of meterwire's conformance runners: where the vectors are, how to read
//! them, and how to compare a decoded value with another decoder's value in its own unit.

use std::path::{Path, PathBuf};

use meterwire::{Decimal, Record, Value};
use serde_json::Value as Json;

/// The project's own cross-runtime vectors (`tests/conformance`).
pub fn own_vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance")
}

/// The public corpora folder `../shared/vectors` beside the checkout, if it exists.
/// `MW_SHARED_VECTORS` overrides the place.
pub fn shared_vectors_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("MW_SHARED_VECTORS") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors"),
    };
    dir.is_dir().then_some(dir)
}

/// The protocol option a vector line names in its `protocol` field (`None`: `auto`, absent,
/// or a name that is not a protocol of the model, e.g. a corpus's `wmbus-kdf`).
///
/// Every runner decodes a vector with it: families that auto-detection cannot find (Modbus
/// RTU) are only decoded when named.
pub fn line_protocol(line: &Json) -> Option<meterwire::Protocol> {
    line["protocol"]
        .as_str()
        .and_then(|name| meterwire::Options::parse_protocol(name).ok().flatten())
}

/// The repository's root (vector lines name profile files relative to it).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The decoding options a line of the own vectors asks for (design §6, and the documented
/// additions of `tests/conformance/README.md`): `protocol` (`auto` when absent), `key`,
/// `request` (the Modbus request the frame answers, hex), `profile` (a Modbus register
/// profile file, relative to the repository root), `mqtt_version` (`3.1.1` or `5.0`) and
/// `cipher` (a payload cipher scheme, `sm4-cbc`), `tlv_schema` (a vendor TLV layout file,
/// relative to the repository root). A line that names a bad option panics:
/// vectors are test data.
pub fn line_options(line: &Json) -> meterwire::Options {
    let name = line["name"].as_str().unwrap_or("?");
    let protocol = line["protocol"].as_str().unwrap_or("auto");
    let keys = meterwire::Options::parse_keys(line["key"].as_str().unwrap_or(""))
        .unwrap_or_else(|e| panic!("{name}: key: {e}"));
    let request = line["request"]
        .as_str()
        .map(|hex| meterwire::parse_hex(hex).unwrap_or_else(|e| panic!("{name}: request: {e}")));
    let profile = line["profile"].as_str().map(|file| {
        let path = repo_root().join(file);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{name}: cannot read {}: {e}", path.display()));
        let profile = meterwire::ModbusProfile::from_json(&text)
            .unwrap_or_else(|e| panic!("{name}: {}: {e}", path.display()));
        std::sync::Arc::new(profile)
    });
    let mqtt_version =
        meterwire::Options::parse_mqtt_version(line["mqtt_version"].as_str().unwrap_or(""))
            .unwrap_or_else(|e| panic!("{name}: mqtt_version: {e}"));
    let cipher = meterwire::Options::parse_payload_cipher(line["cipher"].as_str().unwrap_or(""))
        .unwrap_or_else(|e| panic!("{name}: cipher: {e}"));
    let tlv_schema = line["tlv_schema"].as_str().map(|file| {
        let path = repo_root().join(file);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{name}: cannot read {}: {e}", path.display()));
        std::sync::Arc::new(
            meterwire::payload::tlv_schema::TlvSchema::from_json(&text)
                .unwrap_or_else(|e| panic!("{name}: {}: {e}", path.display())),
        )
    });
    meterwire::Options::default()
        .with_tlv_schema(tlv_schema)
        .with_mqtt_version(mqtt_version)
        .with_payload_cipher(cipher)
        .with_protocol(
            meterwire::Options::parse_protocol(protocol)
                .unwrap_or_else(|e| panic!("{name}: protocol: {e}")),
        )
        .with_keys(keys)
        .with_request(request)
        .with_modbus_profile(profile)
}

/// Every line of a JSON-lines file, parsed.
pub fn read_jsonl(path: &Path) -> Vec<Json> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, l)| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("{}:{}: {e}", path.display(), i + 1))
        })
        .collect()
}

/// The exact value of a record converted to a target unit spelled the way other decoders
/// spell it (`Wh`, `J`, `m^3`, `m^3/h`, `W`, `°C`, `K`, `V`, `A`, `s`, `l`), or `None` when
/// the record has no number or its unit does not convert.
pub fn value_in(record: &Record, target: &str) -> Option<f64> {
    let Some(Value::Number(d)) = &record.value() else {
        return None;
    };
    let unit = record.unit()?;
    let (factor_num, shift): (i128, i16) = match (unit, target) {
        ("kWh", "Wh") => (1, 3),
        ("MWh", "Wh") => (1, 6),
        ("Wh", "Wh") => (1, 0),
        ("MJ", "J") => (1, 6),
        ("kJ", "J") => (1, 3),
        ("GJ", "J") => (1, 9),
        ("kWh", "J") => (36, 5),
        ("MJ", "Wh") => return None,
        ("m3", "m^3") => (1, 0),
        ("L", "m^3") => (1, -3),
        ("L", "l") => (1, 0),
        ("m3", "l") => (1, 3),
        ("m3/h", "m^3/h") => (1, 0),
        ("m3/min", "m^3/h") => (60, 0),
        ("m3/s", "m^3/h") => (36, 2),
        ("m3/min", "m^3/min") | ("m3/s", "m^3/s") => (1, 0),
        ("kW", "W") => (1, 3),
        ("W", "W") => (1, 0),
        ("MJ/h", "J/h") => (1, 6),
        ("C", "°C") | ("K", "K") | ("V", "V") | ("A", "A") | ("bar", "bar") => (1, 0),
        ("s", "s") => (1, 0),
        ("min", "s") => (60, 0),
        ("h", "s") => (3600, 0),
        ("d", "s") => (86400, 0),
        ("kg", "kg") => (1, 0),
        ("kWh", "kWh") => (1, 0),
        _ => return None,
    };
    let scaled =
        Decimal::new(d.mantissa().checked_mul(factor_num)?, d.exponent())?.scaled(shift)?;
    Some(scaled.to_f64())
}

/// Whether two printed values agree: equal, or equal to the other decoder's printed
/// precision (libmbus prints `%f`, six decimals).
pub fn close(a: f64, b: f64) -> bool {
    let diff = (a - b).abs();
    diff <= 5e-7 || diff <= b.abs().max(a.abs()) * 1e-9
}

/// The keys of a vector line in the order the files keep them: name, protocol, hex, the
/// options, then `expected` last.
pub const LINE_KEYS: [&str; 11] = [
    "name",
    "protocol",
    "hex",
    "note",
    "key",
    "request",
    "profile",
    "mqtt_version",
    "cipher",
    "tlv_schema",
    "expected",
];

/// One vector line as the files hold it: compact JSON with the keys of [`LINE_KEYS`] in that
/// order (the `regenerate` tests write every line through this).
pub fn line_text(line: &Json) -> String {
    let parts: Vec<String> = LINE_KEYS
        .iter()
        .filter_map(|key| {
            let value = serde_json::to_string(line.get(*key)?).ok()?;
            Some(format!("{}:{value}", serde_json::json!(key)))
        })
        .collect();
    format!("{{{}}}", parts.join(","))
}
