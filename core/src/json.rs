//! The JSON text of the model, written directly (the `decode_json` hot path).
//!
//! The serde `Serialize` impls of `model` define the JSON; this writer produces the same bytes
//! faster for the parts every frame has (M-Bus link, meter, records, status) and hands the
//! rest to serde. Every struct it writes by hand is destructured exhaustively, so adding a
//! field to the model fails to compile here until the writer knows it, and the conformance
//! suite checks `to_json == serde_json::to_string` byte for byte on every test frame.

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;

use serde::Serialize;

use crate::decimal::{digit_pair, digits_before, put_zeros, Decimal, MantissaDigits};

use crate::model::{
    Decoded, Function, Link, MbusLink, Meter, Name, RawRef, Record, Status, StatusFlag, Timestamp,
    Value,
};

/// Bytes a JSON string cannot hold as they are: control characters, `"` and `\\`.
// Evaluated at compile time: an index out of range would be a build error, not a panic.
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
const NEEDS_ESCAPE: [bool; 256] = {
    let mut table = [false; 256];
    let mut i = 0u8;
    loop {
        table[i as usize] = i < 0x20 || i == b'"' || i == b'\\';
        if i == u8::MAX {
            break;
        }
        i += 1;
    }
    table
};

/// Writes `,"<key>":` as one constant (every key after an object's first one; the first,
/// `quantity`, `kind` or `id`, is written with the object's opening brace).
macro_rules! key {
    ($w:expr, $key:literal) => {
        $w.raw(concat!(",\"", $key, "\":"))
    };
}

/// `,"<key>":"<name>"` for the name of one of the model's enums (nothing to escape).
macro_rules! key_plain {
    ($w:expr, $key:literal, $name:expr) => {{
        $w.raw(concat!(",\"", $key, "\":\""));
        $w.raw($name);
        $w.byte(b'"');
    }};
}

/// The number of decimal digits of `v` (1 for 0): a scan of [`POW10`] for the usual few
/// digits (cheaper than `ilog10`, measured), `ilog10` from 10^15 on.
#[inline(always)]
fn digit_count(v: u64) -> usize {
    match POW10.iter().skip(1).position(|&p| v < p) {
        Some(below) => below.saturating_add(1),
        None => v
            .checked_ilog10()
            .map_or(1, |log| usize::try_from(log).unwrap_or(0).saturating_add(1)),
    }
}

/// Every byte's two upper-case hex digits.
// Evaluated at compile time: an index out of range would be a build error, not a panic.
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
const HEX_PAIRS: [[u8; 2]; 256] = {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    let mut table = [[0u8; 2]; 256];
    let mut i = 0usize;
    while i < 256 {
        table[i] = [DIGITS[i >> 4], DIGITS[i & 0x0F]];
        i += 1;
    }
    table
};

/// Powers of ten up to 10^15: the scales of the numbers [`Writer::small_number`] writes.
const POW10: [u64; 16] = [
    1,
    10,
    100,
    1_000,
    10_000,
    100_000,
    1_000_000,
    10_000_000,
    100_000_000,
    1_000_000_000,
    10_000_000_000,
    100_000_000_000,
    1_000_000_000_000,
    10_000_000_000_000,
    100_000_000_000_000,
    1_000_000_000_000_000,
];

/// Mantissas from here on (16 digits) are not [`Writer::small_number`]s.
const MAX_SMALL_MAGNITUDE: u64 = 10u64.pow(15);

/// Where [`Writer::raw_record`]'s template `,"raw":{"dif":"00","vif":"00","data":"` has its
/// DIF's and its VIF's hex digits.
const RAW_HEAD_DIF_AT: usize = ",\"raw\":{\"dif\":\"".len();
#[allow(clippy::arithmetic_side_effects)] // Evaluated at compile time.
const RAW_HEAD_VIF_AT: usize = RAW_HEAD_DIF_AT + "00\",\"vif\":\"".len();

/// The two upper-case hex digits of `b`.
#[inline(always)]
fn hex_pair(b: u8) -> [u8; 2] {
    HEX_PAIRS.get(usize::from(b)).copied().unwrap_or([b'0'; 2])
}

/// The text being written, as bytes: every piece is ASCII or a whole `str`, so the bytes are
/// UTF-8, checked once in [`Writer::finish`]. A byte vector takes fixed-size arrays of ASCII
/// (digits, hex pairs, keys) in one copy each, where a `String` would need a UTF-8 check per
/// piece or a push per character; the one check of the whole text costs about half an
/// instruction per byte.
struct Writer {
    out: Vec<u8>,
}

impl Writer {
    fn with_capacity(capacity: usize) -> Writer {
        Writer {
            out: Vec::with_capacity(capacity),
        }
    }

    #[inline(always)]
    fn raw(&mut self, text: &str) {
        self.out.extend_from_slice(text.as_bytes());
    }

    /// An ASCII character.
    #[inline(always)]
    fn byte(&mut self, b: u8) {
        self.out.push(b);
    }

    /// ASCII bytes (digits, hex digits); a fixed-size array is one copy of known length.
    #[inline(always)]
    fn ascii(&mut self, bytes: &[u8]) {
        self.out.extend_from_slice(bytes);
    }

    /// The text: every piece written is ASCII or a whole `str`, so the check always passes
    /// (were it to fail, the lossy conversion would still return the text).
    fn finish(self) -> String {
        String::from_utf8(self.out)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }

    /// A JSON string; strings that need no escaping (every name and code meterwire writes)
    /// are copied, others go through serde_json's escaper.
    fn str(&mut self, s: &str) {
        if !s
            .bytes()
            .any(|b| NEEDS_ESCAPE.get(usize::from(b)).copied().unwrap_or(true))
        {
            self.byte(b'"');
            self.raw(s);
            self.byte(b'"');
        } else {
            self.serde(&s);
        }
    }

    /// A name of one of the model's enums (`"RSP_UD"`, `"instantaneous"`): identifiers with
    /// nothing to escape.
    fn plain(&mut self, s: &'static str) {
        self.byte(b'"');
        self.raw(s);
        self.byte(b'"');
    }

    /// A model name: the static names of meterwire's tables are plain identifiers and units
    /// (nothing to escape) and are copied; names read from JSON go through [`Writer::str`].
    fn name(&mut self, n: &Name) {
        match n {
            Cow::Borrowed(s) => self.plain(s),
            Cow::Owned(s) => self.str(s),
        }
    }

    #[inline]
    fn uint(&mut self, v: u64) {
        // Storage, tariff and subunit numbers are mostly one digit.
        if v < 10 {
            self.byte(b'0'.wrapping_add(u8::try_from(v).unwrap_or(0)));
        } else if let Some(pair) = digit_pair(v) {
            self.ascii(&pair);
        } else {
            self.fixed_digits(v, digit_count(v));
        }
    }

    fn hex(&mut self, bytes: &[u8]) {
        self.byte(b'"');
        self.hex_digits(bytes);
        self.byte(b'"');
    }

    /// Upper-case hex digits: the usual lengths of a record's parts (1, 2 or 4 bytes) in one
    /// fixed-size copy, other lengths one two-byte copy per byte.
    #[inline(always)]
    fn hex_digits(&mut self, bytes: &[u8]) {
        let pair = hex_pair;
        match *bytes {
            [a] => self.ascii(&pair(a)),
            [a, b] => {
                let ([a0, a1], [b0, b1]) = (pair(a), pair(b));
                self.ascii(&[a0, a1, b0, b1]);
            }
            [a, b, c, d] => {
                let ([a0, a1], [b0, b1], [c0, c1], [d0, d1]) = (pair(a), pair(b), pair(c), pair(d));
                self.ascii(&[a0, a1, b0, b1, c0, c1, d0, d1]);
            }
            _ => {
                for &b in bytes {
                    self.ascii(&pair(b));
                }
            }
        }
    }

    /// A timestamp as its `Display` text (`2026-11-23T14:35:07`), quoted: the model's own
    /// rendering ([`Timestamp::write_short`]) piece by piece, or `Display` itself for a field
    /// too wide for its digits.
    fn timestamp(&mut self, t: &Timestamp) {
        self.byte(b'"');
        if !t.write_short(|part| self.ascii(part)) {
            self.raw(&alloc::format!("{t}"));
        }
        self.byte(b'"');
    }

    /// A byte code as `"0x08"`, a 16-bit code as `"0x2C2D"`.
    fn code(&mut self, v: u16, digits: u32) {
        let [[h0, h1], [l0, l1]] = v.to_be_bytes().map(hex_pair);
        if digits > 2 {
            self.ascii(&[b'"', b'0', b'x', h0, h1, l0, l1, b'"']);
        } else {
            self.ascii(&[b'"', b'0', b'x', l0, l1, b'"']);
        }
    }

    /// `,"value":<double>,"exact":"<text>"` of a number: the double's shortest text as
    /// serde_json writes it (no `value` beyond the double's range) and the exact text, both
    /// from one rendering of the mantissa's digits.
    fn number(&mut self, d: &Decimal) {
        if self.small_number(d) {
            return;
        }
        let digits = d.mantissa_digits();
        if !self.value_from_digits(d, &digits) {
            let v = d.to_f64();
            if v.is_finite() {
                key!(self, "value");
                self.f64(v);
            }
        }
        key!(self, "exact");
        self.byte(b'"');
        d.write_exact(&digits, |piece| self.ascii(piece));
        self.byte(b'"');
    }

    /// [`Writer::number`] for the usual meter value, a mantissa of at most 15 digits and an
    /// exponent from -15 to 0 (`false`, nothing written, for the rest), written from the
    /// integer and fraction parts of the mantissa without a digit buffer. The exact text is
    /// `Display`'s (`-12.50`, `0.031`, `2516`); the double's shortest text is the same
    /// digits with the fraction's trailing zeros dropped (`-12.5`, `0.0`) or `.0` after an
    /// integer (`2516.0`): the digits [`Writer::value_from_digits`] writes, under its
    /// conditions (at most 15 significant digits; the first digit's power is at most 14, and
    /// at least -5 unless the magnitude is below 10^(scale - 5): those take the general
    /// path).
    fn small_number(&mut self, d: &Decimal) -> bool {
        let Ok(magnitude) = u64::try_from(d.mantissa().unsigned_abs()) else {
            return false;
        };
        let exponent = d.exponent();
        let frac_len = usize::from(exponent.unsigned_abs());
        let Some(&scale) = POW10.get(frac_len) else {
            return false;
        };
        let fixed = magnitude == 0
            || frac_len <= 5
            || POW10
                .get(frac_len.saturating_sub(5))
                .is_some_and(|&low| magnitude >= low);
        if exponent > 0 || magnitude >= MAX_SMALL_MAGNITUDE || !fixed {
            return false;
        }
        let (Some(int_part), Some(frac_part)) =
            (magnitude.checked_div(scale), magnitude.checked_rem(scale))
        else {
            return false;
        };
        let negative = d.mantissa() < 0;
        key!(self, "value");
        if frac_len == 0 {
            self.decimal(negative, int_part, 0, 0);
            self.raw(".0");
        } else {
            // The fraction without its trailing zeros, at least one digit.
            let (mut frac, mut len) = (frac_part, frac_len);
            while len > 1 && frac % 10 == 0 {
                frac /= 10;
                len = len.saturating_sub(1);
            }
            self.decimal(negative, int_part, frac, len);
        }
        self.raw(",\"exact\":\"");
        self.decimal(negative, int_part, frac_part, frac_len);
        self.byte(b'"');
        true
    }

    /// `[-]int[.frac]`, the fraction's `frac_len` digits zero-padded (none: no point).
    #[inline(always)]
    fn decimal(&mut self, negative: bool, int_part: u64, frac_part: u64, frac_len: usize) {
        if negative {
            self.byte(b'-');
        }
        self.fixed_digits(int_part, digit_count(int_part));
        if frac_len > 0 {
            self.byte(b'.');
            self.fixed_digits(frac_part, frac_len);
        }
    }

    /// The last `len` digits of `v`, zero-padded: up to four in one fixed-size copy of digit
    /// pairs, more through a buffer written right to left.
    #[inline(always)]
    fn fixed_digits(&mut self, v: u64, len: usize) {
        let pair = |v: u64| digit_pair(v % 100).unwrap_or([b'0'; 2]);
        let digit = |v: u64| b'0'.wrapping_add(u8::try_from(v % 10).unwrap_or(0));
        match len {
            1 => self.byte(digit(v)),
            2 => self.ascii(&pair(v)),
            3 => {
                let [t, u] = pair(v);
                self.ascii(&[digit(v / 100), t, u]);
            }
            4 => {
                let ([h, i], [t, u]) = (pair(v / 100), pair(v));
                self.ascii(&[h, i, t, u]);
            }
            _ => {
                // Zero-filled: the digits' padding up to `len`.
                let mut buf = [b'0'; 20];
                let end = buf.len();
                digits_before(&mut buf, end, v);
                self.ascii(buf.get(end.saturating_sub(len)..).unwrap_or(&[]));
            }
        }
    }

    /// `,"value":<double>` written from the number's own digits, where they are the double's
    /// shortest text: a decimal of at most 15 significant digits survives the round trip
    /// through a double (`f64::DIGITS`), so no shorter decimal rounds to the same double and
    /// the shortest text has exactly these digits; serde_json's formatter (zmij) writes them
    /// in fixed notation when the power of ten of the first digit is -5 to 15 (`1234.5`,
    /// `5000.0`, `0.000012`). Anything else (`false`) goes through the double.
    fn value_from_digits(&mut self, d: &Decimal, digits: &MantissaDigits) -> bool {
        let all = digits.as_bytes();
        let significant_len = all
            .len()
            .saturating_sub(all.iter().rev().take_while(|&&b| b == b'0').count());
        let Some(significant) = all.get(..significant_len) else {
            return false;
        };
        if significant.is_empty() {
            self.raw(",\"value\":0.0");
            return true;
        }
        if significant.len() > 15 {
            return false;
        }
        // The power of ten of the first digit; both terms are small (≤ 39 digits, |exponent|
        // ≤ 64).
        let first = i32::try_from(all.len())
            .unwrap_or(i32::MAX)
            .saturating_sub(1)
            .saturating_add(i32::from(d.exponent()));
        if !(-5..=15).contains(&first) {
            return false;
        }
        key!(self, "value");
        if d.mantissa() < 0 {
            self.byte(b'-');
        }
        let point = usize::try_from(first.saturating_add(1)).unwrap_or(0);
        if first < 0 {
            self.raw("0.");
            put_zeros(
                usize::try_from(first.saturating_neg().saturating_sub(1)).unwrap_or(0),
                &mut |z| self.ascii(z),
            );
            self.ascii(significant);
        } else if point >= significant.len() {
            self.ascii(significant);
            put_zeros(point.saturating_sub(significant.len()), &mut |z| {
                self.ascii(z)
            });
            self.raw(".0");
        } else {
            let (int_part, frac_part) = significant.split_at(point);
            self.ascii(int_part);
            self.byte(b'.');
            self.ascii(frac_part);
        }
        true
    }

    /// Anything else, through serde (identical to the serde path by construction).
    fn serde<T: Serialize + ?Sized>(&mut self, v: &T) {
        if let Ok(text) = serde_json::to_string(v) {
            self.raw(&text);
        }
    }

    /// A finite double exactly as serde_json writes it (serde_json formats with zmij).
    fn f64(&mut self, v: f64) {
        let mut buffer = zmij::Buffer::new();
        self.raw(buffer.format_finite(v));
    }

    fn decoded(&mut self, d: &Decoded) {
        let Decoded {
            schema_version,
            protocol,
            link,
            meter,
            records,
            status,
            application_error,
            alarm,
            manufacturer_data,
            more_records_follow,
            application_data,
            trailing_fill,
            encrypted,
            encrypted_data,
            payload,
            warnings,
            spans,
        } = d;
        self.raw("{\"schema_version\":");
        self.uint(u64::from(*schema_version));
        self.raw(",\"protocol\":");
        self.plain(protocol.as_str());
        self.raw(",\"link\":");
        match link {
            Link::Mbus(l) => self.mbus_link(l),
            #[allow(unreachable_patterns)]
            other => self.serde(other),
        }
        if let Some(m) = meter {
            self.raw(",\"meter\":");
            self.meter(m);
        }
        self.raw(",\"records\":[");
        let mut records = records.iter();
        if let Some(first) = records.next() {
            self.record(first);
        }
        for r in records {
            self.byte(b',');
            self.record(r);
        }
        self.byte(b']');
        if let Some(s) = status {
            self.raw(",\"status\":");
            self.status(s);
        }
        if let Some(e) = application_error {
            self.raw(",\"application_error\":");
            self.serde(e);
        }
        if let Some(a) = alarm {
            self.raw(",\"alarm\":");
            self.uint(u64::from(*a));
        }
        if let Some(m) = manufacturer_data {
            self.raw(",\"manufacturer_data\":");
            self.hex(m.as_slice());
        }
        if *more_records_follow {
            self.raw(",\"more_records_follow\":true");
        }
        if let Some(a) = application_data {
            self.raw(",\"application_data\":");
            self.hex(a.as_slice());
        }
        if *trailing_fill != 0 {
            self.raw(",\"trailing_fill\":");
            self.uint(u64::from(*trailing_fill));
        }
        if *encrypted {
            self.raw(",\"encrypted\":true");
        }
        if let Some(e) = encrypted_data {
            self.raw(",\"encrypted_data\":");
            self.hex(e.as_slice());
        }
        if let Some(p) = payload {
            self.raw(",\"payload\":");
            self.decoded(p);
        }
        if !warnings.is_empty() {
            self.raw(",\"warnings\":[");
            for (i, w) in warnings.iter().enumerate() {
                if i > 0 {
                    self.byte(b',');
                }
                self.str(w);
            }
            self.byte(b']');
        }
        if !spans.is_empty() {
            self.raw(",\"spans\":");
            self.serde(spans);
        }
        self.byte(b'}');
    }

    fn mbus_link(&mut self, l: &MbusLink) {
        let MbusLink {
            kind,
            c,
            function,
            fcb,
            fcv,
            acd,
            dfc,
            a,
            ci,
            tpl,
            config,
            byte_order,
        } = l;
        self.raw("{\"kind\":");
        self.plain(kind.as_str());
        if let Some(c) = c {
            key!(self, "c");
            self.code(u16::from(c.0), 2);
        }
        if let Some(f) = function {
            key_plain!(self, "function", f.as_str());
        }
        // Each flag's key and value as one constant.
        macro_rules! flag {
            ($key:literal, $value:expr) => {
                match $value {
                    Some(true) => self.raw(concat!(",\"", $key, "\":true")),
                    Some(false) => self.raw(concat!(",\"", $key, "\":false")),
                    None => {}
                }
            };
        }
        flag!("fcb", fcb);
        flag!("fcv", fcv);
        flag!("acd", acd);
        flag!("dfc", dfc);
        if let Some(a) = a {
            key!(self, "a");
            self.uint(u64::from(*a));
        }
        if let Some(ci) = ci {
            key!(self, "ci");
            self.code(u16::from(ci.0), 2);
        }
        if let Some(t) = tpl {
            key!(self, "tpl");
            self.plain(t.as_str());
        }
        if let Some(c) = config {
            key!(self, "config");
            self.code(c.0, 4);
        }
        if let Some(b) = byte_order {
            key!(self, "byte_order");
            self.str(b);
        }
        self.byte(b'}');
    }

    fn meter(&mut self, m: &Meter) {
        let Meter {
            id,
            manufacturer,
            manufacturer_code,
            version,
            medium,
            medium_code,
            access_no,
            status,
        } = m;
        self.raw("{\"id\":");
        self.str(id.as_str());
        if let Some(v) = manufacturer {
            key!(self, "manufacturer");
            self.str(v.as_str());
        }
        if let Some(v) = manufacturer_code {
            key!(self, "manufacturer_code");
            self.code(v.0, 4);
        }
        if let Some(v) = version {
            key!(self, "version");
            self.uint(u64::from(*v));
        }
        if let Some(v) = medium {
            key!(self, "medium");
            self.name(v);
        }
        if let Some(v) = medium_code {
            key!(self, "medium_code");
            self.code(u16::from(v.0), 2);
        }
        if let Some(v) = access_no {
            key!(self, "access_no");
            self.uint(u64::from(*v));
        }
        if let Some(v) = status {
            key!(self, "status");
            self.uint(u64::from(*v));
        }
        self.byte(b'}');
    }

    fn status(&mut self, s: &Status) {
        let Status { raw, flags } = s;
        self.raw("{\"raw\":");
        self.uint(u64::from(*raw));
        self.raw(",\"flags\":[");
        for (i, f) in flags.iter().enumerate() {
            if i > 0 {
                self.byte(b',');
            }
            self.plain(StatusFlag::as_str(f));
        }
        self.raw("]}");
    }

    fn record(&mut self, r: &Record) {
        let names = r.static_names();
        match names {
            Some((quantity, _)) => {
                // A static name needs no escaping: the opening quote goes with the key.
                self.raw("{\"quantity\":\"");
                self.raw(quantity);
                self.byte(b'"');
            }
            None => {
                self.raw("{\"quantity\":");
                self.str(r.quantity());
            }
        }
        match r.value() {
            Some(Value::Number(d)) => self.number(d),
            Some(Value::Time(t)) => {
                key!(self, "value");
                self.timestamp(t);
            }
            Some(Value::Text(t)) => {
                key!(self, "value");
                self.str(t);
            }
            Some(Value::Bytes(b)) => {
                key!(self, "value");
                self.hex(b.as_slice());
            }
            None => {}
        }
        match names {
            Some((_, Some(unit))) => key_plain!(self, "unit", unit),
            Some((_, None)) => {}
            None => {
                if let Some(u) = r.unit() {
                    key!(self, "unit");
                    self.str(u);
                }
            }
        }
        if let Some(u) = r.unit_text() {
            key!(self, "unit_text");
            self.str(u);
        }
        match r.storage() {
            // Storage 0 to 9, key and digit in one copy.
            Some(v @ 0..=9) => {
                let mut text = *b",\"storage\":0";
                if let Some(digit) = text.last_mut() {
                    *digit = digit.wrapping_add(u8::try_from(v).unwrap_or(0));
                }
                self.ascii(&text);
            }
            Some(v) => {
                key!(self, "storage");
                self.uint(v);
            }
            None => {}
        }
        self.tariff_subunit_function(r.tariff(), r.subunit(), r.function());
        if let Some(l) = r.label() {
            key!(self, "label");
            self.str(l);
        }
        if !r.modifiers().is_empty() {
            key!(self, "modifiers");
            self.byte(b'[');
            for (i, m) in r.modifiers().iter().enumerate() {
                if i > 0 {
                    self.byte(b',');
                }
                self.name(m);
            }
            self.byte(b']');
        }
        if let Some(e) = r.record_error() {
            key!(self, "record_error");
            self.str(e);
        }
        if let Some(a) = r.action() {
            key!(self, "action");
            self.str(a);
        }
        if r.invalid() {
            key!(self, "invalid");
            self.raw("true");
        }
        if r.dst() {
            key!(self, "dst");
            self.raw("true");
        }
        if let Some(a) = r.address() {
            key!(self, "address");
            self.serde(a);
        }
        match r.raw() {
            Some(raw) => self.raw_record(&raw),
            None => self.byte(b'}'),
        }
    }

    /// `,"tariff":…,"subunit":…,"function":"…"`. Most records have tariff 0, subunit 0 and a
    /// function: that run is one constant per function (each arm pushes its own literal, so
    /// the copy has a length known at compile time).
    fn tariff_subunit_function(
        &mut self,
        tariff: Option<u32>,
        subunit: Option<u32>,
        function: Option<Function>,
    ) {
        if let (Some(0), Some(0), Some(f)) = (tariff, subunit, function) {
            macro_rules! zeros_and {
                ($name:literal) => {
                    self.raw(concat!(
                        ",\"tariff\":0,\"subunit\":0,\"function\":\"",
                        $name,
                        "\""
                    ))
                };
            }
            match f {
                Function::Instantaneous => zeros_and!("instantaneous"),
                Function::Maximum => zeros_and!("maximum"),
                Function::Minimum => zeros_and!("minimum"),
                Function::Error => zeros_and!("error"),
            }
            return;
        }
        if let Some(v) = tariff {
            key!(self, "tariff");
            self.uint(u64::from(v));
        }
        if let Some(v) = subunit {
            key!(self, "subunit");
            self.uint(u64::from(v));
        }
        if let Some(f) = function {
            key_plain!(self, "function", f.as_str());
        }
    }

    /// `,"raw":{…}}`, closing the record too: the keys go with the quotes and brace around them
    /// (`,"raw":{"dif":"`, `","vif":"`, `","data":"`, `"}}`), one constant each.
    fn raw_record(&mut self, raw: &RawRef<'_>) {
        let (dif, vif) = (raw.dif(), raw.vif());
        if let (0, &[dif], &[vif]) = (raw.fill, dif, vif) {
            // The usual one-byte DIF and VIF: everything up to the data's digits is one copy
            // of a template with the two hex pairs filled in.
            let mut head = *b",\"raw\":{\"dif\":\"00\",\"vif\":\"00\",\"data\":\"";
            for (at, byte) in [(RAW_HEAD_DIF_AT, dif), (RAW_HEAD_VIF_AT, vif)] {
                if let Some(slot) = head.get_mut(at..at.saturating_add(2)) {
                    slot.copy_from_slice(&hex_pair(byte));
                }
            }
            self.ascii(&head);
        } else {
            self.raw_record_head(raw.fill, dif, vif);
        }
        self.hex_digits(raw.data());
        self.raw("\"}}");
    }

    /// [`Writer::raw_record`] up to the data's digits, for any filler count, DIF and VIF.
    fn raw_record_head(&mut self, fill: u16, dif: &[u8], vif: &[u8]) {
        if fill != 0 {
            self.raw(",\"raw\":{\"fill\":");
            self.uint(u64::from(fill));
            self.byte(b',');
            if !dif.is_empty() {
                self.raw("\"dif\":\"");
            }
        } else if !dif.is_empty() {
            self.raw(",\"raw\":{\"dif\":\"");
        } else {
            self.raw(",\"raw\":{");
        }
        match (dif.is_empty(), vif.is_empty()) {
            (false, false) => {
                self.hex_digits(dif);
                self.raw("\",\"vif\":\"");
                self.hex_digits(vif);
                self.raw("\",\"data\":\"");
            }
            (false, true) => {
                self.hex_digits(dif);
                self.raw("\",\"data\":\"");
            }
            (true, false) => {
                self.raw("\"vif\":\"");
                self.hex_digits(vif);
                self.raw("\",\"data\":\"");
            }
            (true, true) => self.raw("\"data\":\""),
        }
    }
}

/// The JSON text of a decoded frame: the same bytes as `serde_json::to_string(decoded)`.
pub fn to_json(decoded: &Decoded) -> String {
    let mut w =
        Writer::with_capacity(320usize.saturating_add(decoded.records.len().saturating_mul(300)));
    w.decoded(decoded);
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;

    /// What the serde path writes for a number: the double through serde_json (when finite)
    /// and the exact text through `Display`.
    fn serde_number(d: &Decimal) -> String {
        let v = d.to_f64();
        let value = if v.is_finite() {
            format!(
                ",\"value\":{}",
                serde_json::to_string(&v).unwrap_or_default()
            )
        } else {
            String::new()
        };
        format!("{value},\"exact\":\"{d}\"")
    }

    fn written_number(d: &Decimal) -> String {
        let mut w = Writer::with_capacity(8);
        w.number(d);
        w.finish()
    }

    #[test]
    fn tariff_subunit_function_constants_spell_the_function_names() {
        for f in [
            Function::Instantaneous,
            Function::Maximum,
            Function::Minimum,
            Function::Error,
        ] {
            let mut w = Writer::with_capacity(0);
            w.tariff_subunit_function(Some(0), Some(0), Some(f));
            assert_eq!(
                w.finish(),
                format!(
                    ",\"tariff\":0,\"subunit\":0,\"function\":\"{}\"",
                    f.as_str()
                )
            );
        }
        // Other numbers take the key-by-key path.
        let mut w = Writer::with_capacity(0);
        w.tariff_subunit_function(Some(0), Some(12), Some(Function::Error));
        assert_eq!(
            w.finish(),
            ",\"tariff\":0,\"subunit\":12,\"function\":\"error\""
        );
    }

    #[test]
    fn timestamps_are_written_as_display_writes_them() {
        let mut checked = 0;
        for t in crate::model::edge_timestamps() {
            let mut w = Writer::with_capacity(0);
            w.timestamp(&t);
            assert_eq!(w.finish(), format!("\"{t}\""), "{t:?}");
            checked += 1;
        }
        assert_eq!(checked, 8 * 6 * 6 * 5 * 5 * 6);
    }

    #[test]
    fn codes_and_small_numbers_are_written_as_serde_writes_them() {
        for v in [0u64, 9, 10, 37, 99, 100, 255, 65_535, u64::MAX] {
            let mut w = Writer::with_capacity(0);
            w.uint(v);
            assert_eq!(w.finish(), format!("{v}"));
        }
        for (v, digits, text) in [(0x08, 2, "\"0x08\""), (0x2C2D, 4, "\"0x2C2D\"")] {
            let mut w = Writer::with_capacity(0);
            w.code(v, digits);
            assert_eq!(w.finish(), text);
        }
    }

    #[test]
    fn hex_digits_are_upper_case_pairs() {
        let bytes = [0x00, 0x0F, 0xA5, 0xFF, 0x10, 0x9C, 0x7E, 0x01, 0xE0];
        // Every length: the one-, two- and four-byte copies and the byte-by-byte rest.
        for len in 0..=bytes.len() {
            let part = &bytes[..len];
            let mut w = Writer::with_capacity(0);
            w.hex(part);
            let expected: String = part.iter().map(|b| format!("{b:02X}")).collect();
            assert_eq!(w.finish(), format!("\"{expected}\""));
        }
    }

    #[test]
    fn numbers_are_written_as_serde_writes_them() {
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            seed
        };
        let mut checked = 0;
        let mut from_digits = 0;
        for exponent in -24i16..=24 {
            // Edge mantissas: zero, one digit, 15 and 16 significant digits, trailing zeros,
            // the 64-bit and 128-bit limits.
            let mut mantissas: Vec<i128> = [
                0,
                1,
                -1,
                9,
                10,
                100_000,
                999_999_999_999_999,
                -999_999_999_999_999,
                1_000_000_000_000_000,
                9_999_999_999_999_999,
                123_456_789_012_345_000,
                i128::from(u64::MAX),
                i128::from(i64::MIN),
                i128::MAX,
                i128::MIN + 1,
            ]
            .to_vec();
            for _ in 0..2000 {
                let r = next();
                // Mantissas of 1 to 19 digits, some with trailing zeros.
                let digits = u32::try_from(r % 19).unwrap_or(0) + 1;
                let m = i128::from((r >> 8) % 10u64.pow(digits));
                let m = m * 10i128.pow(u32::try_from((r >> 60) % 4).unwrap_or(0));
                mantissas.push(if r & 0x80 != 0 { -m } else { m });
            }
            for m in mantissas {
                let Some(d) = Decimal::new(m, exponent) else {
                    continue;
                };
                assert_eq!(written_number(&d), serde_number(&d), "{m}e{exponent}");
                let mut w = Writer::with_capacity(0);
                if w.value_from_digits(&d, &d.mantissa_digits()) {
                    from_digits += 1;
                }
                checked += 1;
            }
        }
        // Most numbers take the digits path; the rest go through the double.
        assert!(checked > 90_000, "{checked}");
        assert!(from_digits > checked / 3, "{from_digits} of {checked}");
    }
}
