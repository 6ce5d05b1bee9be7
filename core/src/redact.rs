//! Redaction for sharing decoded data with third parties (the `redact` option, design §4):
//! every identity a frame carries is replaced by a keyed pseudonym, and every byte string
//! that could carry one is dropped.
//!
//! The pseudonym of an identity is the first 12 bytes of HMAC-SHA256 under the caller's
//! secret key over the identity's text as the unredacted model writes it (`"12345678"`), in
//! lower-case hex: 24 characters, the same for the same text and key (so partners can join
//! tables by it), unlinkable without the key. Anyone holding the key can recompute it from a
//! known id (`hmac.new(key, b"12345678", "sha256").hexdigest()[:24]` in Python).
//!
//! What is an identity, field by field (docs/model.md, "Redaction", keeps the same list):
//!
//! * `meter.id`, and the `id` of wM-Bus `link.dll_address` and `link.ell.address`: pseudonym
//!   (manufacturer, version and medium stay: they name a product, not a meter);
//! * CJ/T 188 `link.address`: pseudonym;
//! * M-Bus `link.a` (primary address): dropped — a bus position of 0–250 that many
//!   installations share, so a pseudonym of it would join unrelated meters. Modbus
//!   `link.unit_id` stays for the same reason (it is a required field);
//! * IEC 62056-21 `link.device_address` and `link.identification`: pseudonym;
//! * MQTT `link.topic`, CoAP `link.uri_path`, the values of the Uri-Host, Uri-Path,
//!   Uri-Query, Location-*, Proxy-* options and every text property of MQTT 5: each path
//!   level that is not a plain word (letters, `_`, `-`, `$`, `+`, `#`) is replaced by its
//!   pseudonym, and in `name=value` levels the value only (`meters/<p>/up`, `ep=<p>`);
//! * records that carry an identity — quantities `fabrication_no`, `enhanced_id`,
//!   `bus_address`, `customer`, `customer_location`, `serial_number` (M-Bus VIF 78/79/7A,
//!   IEC 62056-21 data sets 0.0.x, C.1.x and 96.1.x, LwM2M /3/0/2), and JSON payload members
//!   whose name is an id (`imei`, `imsi`, `iccid`, `sn`, `deviceid`, …), and M-Bus records
//!   whose plain-text unit names one (`cust. ID`, `Serial No`): the value becomes the
//!   pseudonym of its text;
//! * Modbus device identification objects other than vendor, product code, revision, vendor
//!   URL, product and model name (ids 6 and up): the value becomes a pseudonym;
//! * dropped: every record's `raw`, `spans`, `application_data`, `manufacturer_data`,
//!   `encrypted_data`, an application error's `detail`, the CoAP `token` and options' `raw`,
//!   the wM-Bus AFL `mac`; stream items lose their frame and garbage bytes;
//! * warnings and record texts: any identity text found above is replaced by its pseudonym.
//!
//! A nested frame (`payload`) is redacted the same way. The walk reads and writes only these
//! model fields; every other field (values, units, status, codes) is left as decoded.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::error::{Detail, Error, ErrorKind, Layer, Result};
use crate::model::{
    Bytes, Decoded, Link, Meter, ModbusObject, Record, ShortText, Value, WmbusLink,
};
use crate::payload::FieldValue;

/// The shortest secret accepted, in bytes: shorter keys would let a partner try every key.
pub const MIN_KEY_LEN: usize = 16;

/// The number of HMAC bytes a pseudonym keeps (written as twice as many hex digits).
pub const PSEUDONYM_BYTES: usize = 12;

/// A caller's secret for [`redact`]: any bytes, at least [`MIN_KEY_LEN`] long. Cheap to
/// clone; `Debug` never prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct RedactKey(Arc<[u8]>);

impl fmt::Debug for RedactKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RedactKey(..)")
    }
}

impl RedactKey {
    /// A key of these bytes; `malformed` when shorter than [`MIN_KEY_LEN`].
    pub fn new(secret: &[u8]) -> Result<RedactKey> {
        if secret.len() < MIN_KEY_LEN {
            return Err(Error::new(
                ErrorKind::Malformed,
                Layer::Input,
                0,
                Detail::Text("redaction key shorter than 16 bytes"),
            ));
        }
        Ok(RedactKey(Arc::from(secret)))
    }

    /// A key given as hex text (spaces allowed), at least 16 bytes.
    pub fn from_hex(text: &str) -> Result<RedactKey> {
        RedactKey::new(&crate::hex::parse_hex(text)?)
    }

    /// The pseudonym of `identity`: 24 lower-case hex digits (module docs).
    pub fn pseudonym(&self, identity: &str) -> String {
        let mut out = String::with_capacity(PSEUDONYM_BYTES.saturating_mul(2));
        // HMAC takes keys of any length, so this cannot fail.
        if let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0) {
            mac.update(identity.as_bytes());
            let tag = mac.finalize().into_bytes();
            for byte in tag.iter().take(PSEUDONYM_BYTES) {
                let _ = fmt::Write::write_fmt(&mut out, format_args!("{byte:02x}"));
            }
        }
        out
    }
}

/// Record quantities whose value is an identity.
const IDENTITY_QUANTITIES: [&str; 6] = [
    "fabrication_no",
    "enhanced_id",
    "bus_address",
    "customer",
    "customer_location",
    "serial_number",
];

/// JSON payload member names (lower case, without `_` and `-`) that hold an identity.
const IDENTITY_LABELS: [&str; 24] = [
    "id",
    "meterid",
    "meterno",
    "meternumber",
    "meteraddr",
    "meteraddress",
    "deviceid",
    "devid",
    "devicename",
    "imei",
    "imsi",
    "iccid",
    "msisdn",
    "sn",
    "serial",
    "serialno",
    "serialnumber",
    "addr",
    "address",
    "deveui",
    "devaddr",
    "mac",
    "nodeid",
    "equipmentid",
];

/// Whether a label (a JSON path such as `device.imei` or `ids[0]`) names an identity.
fn is_identity_label(label: &str) -> bool {
    let last = label.rsplit('.').next().unwrap_or(label);
    let last = last.split('[').next().unwrap_or(last);
    let mut key = String::with_capacity(last.len());
    for c in last.chars().filter(|c| *c != '_' && *c != '-') {
        key.push(c.to_ascii_lowercase());
    }
    IDENTITY_LABELS.contains(&key.as_str())
}

/// Words of an M-Bus plain-text unit (VIF 7C/FC) that name an identity (`cust. ID`,
/// `Serial No`).
const IDENTITY_UNIT_WORDS: [&str; 12] = [
    "id", "ident", "serial", "sn", "cust", "customer", "addr", "address", "no", "nr", "imei",
    "iccid",
];

/// Whether a plain-text unit names an identity: one of its words (letters and digits, case
/// ignored) is in [`IDENTITY_UNIT_WORDS`].
fn is_identity_unit_text(text: &str) -> bool {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .any(|word| {
            IDENTITY_UNIT_WORDS
                .iter()
                .any(|w| word.eq_ignore_ascii_case(w))
        })
}

/// The walk's state: the key and every identity text replaced so far (for warnings).
struct Redactor<'k> {
    key: &'k RedactKey,
    seen: Vec<(String, String)>,
}

impl Redactor<'_> {
    /// The pseudonym of `identity`, remembered for the text pass.
    fn pseudonym(&mut self, identity: &str) -> String {
        if let Some((_, p)) = self.seen.iter().find(|(id, _)| id == identity) {
            return p.clone();
        }
        let p = self.key.pseudonym(identity);
        self.seen.push((identity.into(), p.clone()));
        p
    }

    fn short(&mut self, text: &ShortText) -> ShortText {
        if text.as_str().is_empty() {
            return ShortText::default();
        }
        let p = self.pseudonym(text.as_str());
        ShortText::new(&p).unwrap_or_default()
    }

    fn meter(&mut self, meter: &mut Meter) {
        meter.id = self.short(&meter.id);
    }

    /// A topic or path: every level that is not a plain word becomes its pseudonym (module
    /// docs); in `name=value` levels the value only.
    fn path(&mut self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        loop {
            let (level, sep, tail) = match rest.find(['/', '&']) {
                Some(at) => (
                    rest.get(..at).unwrap_or(""),
                    rest.get(at..at.saturating_add(1)).unwrap_or(""),
                    rest.get(at.saturating_add(1)..).unwrap_or(""),
                ),
                None => (rest, "", ""),
            };
            match level.split_once('=') {
                Some((name, value)) => {
                    out.push_str(name);
                    out.push('=');
                    out.push_str(&self.level(value));
                }
                None => out.push_str(&self.level(level)),
            }
            if sep.is_empty() {
                return out;
            }
            out.push_str(sep);
            rest = tail;
        }
    }

    fn level(&mut self, level: &str) -> String {
        let word = level
            .chars()
            .all(|c| c.is_ascii_alphabetic() || matches!(c, '_' | '-' | '$' | '+' | '#' | '.'));
        if word || level.is_empty() {
            level.into()
        } else {
            self.pseudonym(level)
        }
    }

    fn field_value(&mut self, value: &mut FieldValue) {
        if let FieldValue::Text(text) = value {
            *text = self.path(text);
        }
    }

    fn link(&mut self, link: &mut Link) {
        match link {
            Link::Mbus(l) => l.a = None,
            Link::Cjt188(l) => l.address = self.short(&l.address),
            Link::Wmbus(l) => self.wmbus(l),
            Link::Modbus(l) => {
                for object in &mut l.objects {
                    self.modbus_object(object);
                }
            }
            Link::Iec62056_21(l) => {
                for text in [&mut l.device_address, &mut l.identification]
                    .into_iter()
                    .flatten()
                {
                    if !text.is_empty() {
                        *text = self.pseudonym(text);
                    }
                }
            }
            Link::Coap(l) => {
                l.token = Bytes::EMPTY;
                if let Some(path) = &mut l.uri_path {
                    *path = self.path(path);
                }
                for option in &mut l.options {
                    option.raw = None;
                    let names_a_place = matches!(option.number, 3 | 8 | 11 | 15 | 20 | 35 | 39);
                    if names_a_place {
                        self.field_value(&mut option.value);
                    }
                }
            }
            Link::Mqtt(l) => {
                if let Some(topic) = &mut l.topic {
                    *topic = self.path(topic);
                }
                for property in &mut l.properties {
                    self.field_value(&mut property.value);
                }
            }
        }
    }

    fn wmbus(&mut self, link: &mut WmbusLink) {
        if let Some(meter) = link.dll_address.as_deref_mut() {
            self.meter(meter);
        }
        if let Some(ell) = link.ell.as_deref_mut() {
            if let Some(meter) = &mut ell.address {
                self.meter(meter);
            }
        }
        if let Some(afl) = link.afl.as_deref_mut() {
            afl.mac = None;
        }
    }

    fn modbus_object(&mut self, object: &mut ModbusObject) {
        // 0–5: vendor name, product code, revision, vendor URL, product name, model name.
        if object.id <= 5 {
            return;
        }
        let text = match (&object.value, &object.hex) {
            (Some(value), _) => Some(value.clone()),
            (None, Some(hex)) => Some(crate::hex::to_hex(hex.as_slice())),
            (None, None) => None,
        };
        object.hex = None;
        object.value = text.map(|t| self.pseudonym(&t));
    }

    /// The only place that reads or writes a record: `quantity`, `label` and `unit_text`
    /// decide, `value` is replaced for an identity; `raw` is dropped.
    fn record(&mut self, record: &mut Record) {
        record.clear_raw();
        let identity = IDENTITY_QUANTITIES.contains(&record.quantity())
            || record.label().is_some_and(is_identity_label)
            || record.unit_text().is_some_and(is_identity_unit_text);
        if !identity {
            return;
        }
        let text = match &record.value() {
            Some(Value::Number(n)) => Some(alloc::format!("{n}")),
            Some(Value::Text(t)) => Some(t.clone()),
            Some(Value::Bytes(b)) => Some(crate::hex::to_hex(b.as_slice())),
            Some(Value::Time(_)) | None => None,
        };
        if let Some(text) = text {
            record.set_value(Some(Value::Text(self.pseudonym(&text))));
        }
    }

    fn decoded(&mut self, d: &mut Decoded) {
        self.link(&mut d.link);
        if let Some(meter) = &mut d.meter {
            self.meter(meter);
        }
        for record in &mut d.records {
            self.record(record);
        }
        if let Some(error) = &mut d.application_error {
            error.detail = Bytes::EMPTY;
        }
        d.manufacturer_data = None;
        d.application_data = None;
        d.encrypted_data = None;
        d.spans.clear();
        if let Some(inner) = d.payload.as_deref_mut() {
            self.decoded(inner);
        }
    }

    /// Replaces every identity text seen in `text` by its pseudonym.
    fn scrub(&self, text: &mut String) {
        for (identity, pseudonym) in &self.seen {
            // Short texts (a one-digit id) would replace digits of unrelated numbers.
            if identity.len() >= 4 && text.contains(identity.as_str()) {
                *text = text.replace(identity.as_str(), pseudonym);
            }
        }
    }

    fn scrub_texts(&self, d: &mut Decoded) {
        for warning in &mut d.warnings {
            self.scrub(warning);
        }
        for record in &mut d.records {
            if let Some(Value::Text(t)) = record.value_mut() {
                self.scrub(t);
            }
        }
        if let Some(inner) = d.payload.as_deref_mut() {
            self.scrub_texts(inner);
        }
    }
}

/// A topic or URI path as [`redact()`] writes one: every level that is not a plain word
/// becomes its pseudonym (`meters/12345678/up` → `meters/<pseudonym>/up`), for front ends
/// that print a transport's topic beside the model.
pub fn path(text: &str, key: &RedactKey) -> String {
    Redactor {
        key,
        seen: Vec::new(),
    }
    .path(text)
}

/// Redacts a decoded frame in place with `key` (module docs list what changes). Decoding with
/// [`Options::redact`](crate::Options::redact) set applies it to every frame it returns; call
/// it directly on a model decoded without the option (apply it once: a pseudonym's
/// pseudonym is another text).
pub fn redact(decoded: &mut Decoded, key: &RedactKey) {
    let mut redactor = Redactor {
        key,
        seen: Vec::new(),
    };
    redactor.decoded(decoded);
    redactor.scrub_texts(decoded);
}

/// Whether [`apply`] changes a decoding result under `opts`: a key is given and the input is
/// the caller's (nested payloads are redacted with their enclosing frame).
pub(crate) fn applies(opts: &crate::Options) -> bool {
    opts.redact.is_some() && opts.payload_depth == 0
}

/// Applies `opts.redact` to a decoding result of the caller's input (not to nested payloads,
/// which their enclosing frame redacts).
pub(crate) fn apply(result: &mut Result<Decoded>, opts: &crate::Options) {
    // In place: a decoded frame is large, and most calls have no key.
    if let (Some(key), 0, Ok(decoded)) = (&opts.redact, opts.payload_depth, result) {
        redact(decoded, key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4231 test case 2 is for a 4-byte key; this checks the HMAC against a value computed
    /// with Python's `hmac` module: `hmac.new(b"0123456789abcdef", b"12345678",
    /// "sha256").hexdigest()[:24]`.
    #[test]
    fn pseudonym_is_truncated_hmac_sha256() {
        let key = RedactKey::new(b"0123456789abcdef").unwrap();
        assert_eq!(key.pseudonym("12345678"), "c8bc656c80235b84f3546c1a");
    }

    #[test]
    fn short_keys_are_refused() {
        assert_eq!(
            RedactKey::new(b"short").unwrap_err().kind(),
            ErrorKind::Malformed
        );
        assert!(format!("{:?}", RedactKey::new(&[7; 16]).unwrap()).contains(".."));
    }

    #[test]
    fn paths_keep_words_and_replace_ids() {
        let key = RedactKey::new(b"0123456789abcdef").unwrap();
        let mut r = Redactor {
            key: &key,
            seen: Vec::new(),
        };
        let p = key.pseudonym("860000000000001");
        assert_eq!(
            r.path("meters/860000000000001/up"),
            alloc::format!("meters/{p}/up")
        );
        assert_eq!(r.path("ep=860000000000001&lt=300"), {
            let q = key.pseudonym("300");
            alloc::format!("ep={p}&lt={q}")
        });
        assert!(is_identity_label("device.IMEI"));
        assert!(is_identity_label("ids.serial_no"));
        assert!(!is_identity_label("vol"));
        assert!(is_identity_unit_text("cust. ID"));
        assert!(!is_identity_unit_text("m3 x 10"));
    }
}
