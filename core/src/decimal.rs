//! Exact decimal numbers: an integer mantissa and a power-of-ten exponent.
//!
//! BCD counters and scaled integers keep every digit the meter sent: `1234567 × 10⁻³` prints as
//! `1234.567`, never `1234.5670000000002`. The JSON number (`value`) is obtained by parsing the
//! exact text with Rust's correctly rounding `f64` parser, so every runtime prints the same
//! number. Nothing here multiplies floats.

use core::fmt::{self, Write};
use core::num::NonZeroU64;

/// Largest magnitude of an exponent meterwire produces (VIF scales and corrections stay far
/// below it); it bounds the length of the printed form.
pub const MAX_EXPONENT: i16 = 64;

/// An exact decimal `mantissa × 10^exponent`.
///
/// The exponent is kept as the meter gave it, so trailing zeros that show the meter's
/// resolution are kept too: a 16-bit litre counter of `10000` with VIF `13` is `10.000` m³.
///
/// Laid out in 24 bytes with 8-byte alignment (the mantissa as two words, the exponent biased
/// away from zero), so `Option<Decimal>` is 24 bytes too and a record's value moves in a few
/// registers instead of 48 padded bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Decimal {
    /// Low 64 bits of the `i128` mantissa.
    low: u64,
    /// High 64 bits of the `i128` mantissa.
    high: i64,
    /// `exponent + EXPONENT_BIAS`: never zero, which gives `Option<Decimal>` its niche. A
    /// whole word (the struct's padding either way): written and read back as one 8-byte
    /// word, where a 2-byte field is written alone and read back with its padding by the
    /// 8-byte moves that copy a `Decimal`, which stalls the processor (store forwarding).
    biased_exponent: NonZeroU64,
}

/// Added to the exponent (within ±[`MAX_EXPONENT`]) so the stored form is never zero.
const EXPONENT_BIAS: i16 = 128;

/// The stored form of exponent 0.
const BIASED_ZERO: NonZeroU64 =
    NonZeroU64::MIN.saturating_add(EXPONENT_BIAS.unsigned_abs() as u64 - 1);

/// Powers of ten that fit an `i128`, by checked multiplication.
fn pow10(n: u32) -> Option<i128> {
    10i128.checked_pow(n)
}

impl fmt::Debug for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Decimal")
            .field("mantissa", &self.mantissa())
            .field("exponent", &self.exponent())
            .finish()
    }
}

/// The two words of an `i128`.
const fn split(value: i128) -> (u64, i64) {
    (value as u64, (value >> 64) as i64)
}

/// Whether the finite `value` lies exactly halfway between two neighbouring decimals whose
/// last digit has weight 10^`last` (twice `value` × 10^-`last` an odd integer), computed
/// exactly from the float's bits.
fn f32_halfway(value: f32, last: i16) -> bool {
    let bits = value.to_bits();
    let biased = i32::try_from((bits >> 23) & 0xFF).unwrap_or(0);
    let fraction = bits & 0x7F_FFFF;
    // value = m × 2^q
    let (m, q) = if biased == 0 {
        (fraction, -149)
    } else {
        (fraction | 0x80_0000, biased.saturating_sub(150))
    };
    if m == 0 {
        return false;
    }
    let zeros = i32::try_from(m.trailing_zeros()).unwrap_or(0);
    let odd = m >> zeros;
    // 2 × value × 10^-last = odd × 5^-last × 2^(q + zeros + 1 - last)
    let twos = q
        .saturating_add(zeros)
        .saturating_add(1)
        .saturating_sub(i32::from(last));
    if last <= 0 {
        // odd × 5^k is odd: an odd integer exactly when no power of two is left.
        twos == 0
    } else {
        // Divided by 5^last: an integer only when 5^last divides the odd part.
        twos == 0
            && 5u32
                .checked_pow(u32::from(last.unsigned_abs()))
                .is_some_and(|p| odd.checked_rem(p) == Some(0))
    }
}

/// The room for a mantissa's digits: at most 39 (`i128::MIN`).
const MANTISSA_DIGITS: usize = 40;

/// Every number below 100 as two ASCII digits.
// Evaluated at compile time: an index out of range would be a build error, not a panic.
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
const DIGIT_PAIRS: [[u8; 2]; 100] = {
    let mut table = [[0u8; 2]; 100];
    let mut i = 0usize;
    while i < 100 {
        table[i] = [b'0' + (i / 10) as u8, b'0' + (i % 10) as u8];
        i += 1;
    }
    table
};

/// The two ASCII digits of `v` below 100 (`07`), none from 100.
#[inline(always)]
pub(crate) fn digit_pair(v: u64) -> Option<[u8; 2]> {
    DIGIT_PAIRS.get(usize::try_from(v).ok()?).copied()
}

/// Writes the decimal digits of `v` (at least one) into `buf` so that they end at `end`,
/// two digits a step, and returns where they start (`end` less the digits that fit).
#[inline]
pub(crate) fn digits_before(buf: &mut [u8], end: usize, v: u64) -> usize {
    let mut i = end;
    let mut rest = v;
    while rest >= 100 && i >= 2 {
        i = i.saturating_sub(2);
        if let (Some(slot), Some(pair)) =
            (buf.get_mut(i..i.saturating_add(2)), digit_pair(rest % 100))
        {
            slot.copy_from_slice(&pair);
        }
        rest /= 100;
    }
    match digit_pair(rest) {
        Some(pair) if rest >= 10 && i >= 2 => {
            i = i.saturating_sub(2);
            if let Some(slot) = buf.get_mut(i..i.saturating_add(2)) {
                slot.copy_from_slice(&pair);
            }
        }
        _ if i >= 1 => {
            i = i.saturating_sub(1);
            if let Some(slot) = buf.get_mut(i) {
                *slot = b'0'.wrapping_add(u8::try_from(rest % 10).unwrap_or(0));
            }
        }
        _ => {}
    }
    i
}

/// `count` zeros, handed to `put` in pieces of at most 64.
pub(crate) fn put_zeros(count: usize, put: &mut impl FnMut(&[u8])) {
    const ZEROS: [u8; 64] = [b'0'; 64];
    let mut left = count;
    while left > 0 {
        let n = left.min(ZEROS.len());
        put(ZEROS.get(..n).unwrap_or(&[]));
        left = left.saturating_sub(n);
    }
}

/// The decimal digits of a [`Decimal`]'s mantissa (its magnitude; the sign and the exponent
/// stay with the `Decimal`), from [`Decimal::mantissa_digits`].
#[derive(Clone, Copy, Debug)]
pub struct MantissaDigits {
    buf: [u8; MANTISSA_DIGITS],
    start: usize,
}

impl MantissaDigits {
    /// The digits, most significant first; `0` for zero.
    pub fn as_bytes(&self) -> &[u8] {
        self.buf.get(self.start..MANTISSA_DIGITS).unwrap_or(&[])
    }
}

impl Decimal {
    /// `mantissa × 10^exponent`; `None` when the exponent is beyond ±[`MAX_EXPONENT`].
    #[inline]
    pub fn new(mantissa: i128, exponent: i16) -> Option<Self> {
        if exponent.unsigned_abs() > MAX_EXPONENT.unsigned_abs() {
            return None;
        }
        // In 64..=192 after the check above: positive, never zero.
        let biased = NonZeroU64::new(exponent.wrapping_add(EXPONENT_BIAS) as u64)?;
        let (low, high) = split(mantissa);
        Some(Decimal {
            low,
            high,
            biased_exponent: biased,
        })
    }

    /// An integer.
    #[inline]
    pub const fn from_int(value: i128) -> Self {
        let (low, high) = split(value);
        Decimal {
            low,
            high,
            biased_exponent: BIASED_ZERO,
        }
    }

    /// The integer mantissa.
    #[inline]
    pub const fn mantissa(&self) -> i128 {
        ((self.high as i128) << 64) | self.low as i128
    }

    /// The power of ten.
    #[inline]
    pub const fn exponent(&self) -> i16 {
        (self.biased_exponent.get() as i16).wrapping_sub(EXPONENT_BIAS)
    }

    /// This number times `10^delta` (exact: only the exponent moves).
    pub fn scaled(self, delta: i16) -> Option<Self> {
        Decimal::new(self.mantissa(), self.exponent().checked_add(delta)?)
    }

    /// The exact sum, at the finer of the two exponents.
    pub fn checked_add(self, other: Decimal) -> Option<Self> {
        let exponent = self.exponent().min(other.exponent());
        let a = self.rescaled_mantissa(exponent)?;
        let b = other.rescaled_mantissa(exponent)?;
        Decimal::new(a.checked_add(b)?, exponent)
    }

    fn rescaled_mantissa(self, exponent: i16) -> Option<i128> {
        let shift = u32::try_from(self.exponent().checked_sub(exponent)?).ok()?;
        self.mantissa().checked_mul(pow10(shift)?)
    }

    /// The shortest decimal that reads back to the same `f32` (`12.3f32` → `12.3`).
    /// `None` for NaN and infinities.
    pub fn from_f32_shortest(value: f32) -> Option<Self> {
        if !value.is_finite() {
            return None;
        }
        // zmij's shortest digits are Rust's except where two shortest candidates are equally
        // near (`value` halfway between them): there Rust's own formatting decides.
        let fast = Self::parse_shortest(zmij::Buffer::new().format_finite(value))?;
        if !f32_halfway(value, fast.exponent()) {
            return Some(fast);
        }
        let mut buf = StackText::new();
        write!(buf, "{value:e}").ok()?;
        Self::parse_shortest(buf.as_str())
    }

    /// The shortest decimal that reads back to the same `f64`. `None` for NaN and infinities.
    pub fn from_f64_shortest(value: f64) -> Option<Self> {
        if !value.is_finite() {
            return None;
        }
        let mut buf = StackText::new();
        write!(buf, "{value:e}").ok()?;
        Self::parse_shortest(buf.as_str())
    }

    /// Reads a shortest round-trip text (`1234.5`, `100.0`, `1e20`, `-1.5e-7`, Rust's
    /// `1.2345e3`) into the decimal with no trailing zeros in its mantissa (`100.0` is 1 × 10²).
    fn parse_shortest(text: &str) -> Option<Self> {
        let (digits, exp) = text.split_once('e').unwrap_or((text, "0"));
        let exp: i16 = exp.parse().ok()?;
        let (negative, digits) = match digits.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, digits),
        };
        let (int_part, frac_part) = digits.split_once('.').unwrap_or((digits, ""));
        // Shortest texts of doubles have at most 17 digits: the mantissa fits in 64 bits
        // (no 128-bit multiplications and divisions per digit).
        let mut mantissa: u64 = 0;
        for c in int_part.bytes().chain(frac_part.bytes()) {
            let d = u64::from(c.checked_sub(b'0').filter(|d| *d <= 9)?);
            mantissa = mantissa.checked_mul(10)?.checked_add(d)?;
        }
        let mut exponent = exp.checked_sub(i16::try_from(frac_part.len()).ok()?)?;
        if mantissa == 0 {
            exponent = 0;
        }
        while mantissa != 0 && mantissa % 10 == 0 {
            mantissa /= 10;
            exponent = exponent.checked_add(1)?;
        }
        let mantissa = i128::from(mantissa);
        let mantissa = if negative {
            mantissa.checked_neg()?
        } else {
            mantissa
        };
        Decimal::new(mantissa, exponent)
    }

    /// Parses a plain decimal string such as `-1234.567` or `10.000` (the `exact` form).
    pub fn parse(text: &str) -> Option<Self> {
        let (negative, body) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (int_part, frac_part) = body.split_once('.').unwrap_or((body, ""));
        if int_part.is_empty() || (body.contains('.') && frac_part.is_empty()) {
            return None;
        }
        let mut mantissa: i128 = 0;
        for c in int_part.bytes().chain(frac_part.bytes()) {
            let d = i128::from(c.checked_sub(b'0').filter(|d| *d <= 9)?);
            mantissa = mantissa.checked_mul(10)?.checked_add(d)?;
        }
        if negative {
            mantissa = mantissa.checked_neg()?;
        }
        let frac_len = i16::try_from(frac_part.len()).ok()?;
        Decimal::new(mantissa, frac_len.checked_neg()?)
    }

    /// The exact decimal text (the same as `Display`: `1234.567`, `-14.5`, `5000`), handed to
    /// `put` in pieces (sign, digits, point, zeros) from the mantissa's `digits` (this
    /// number's [`mantissa_digits`](Self::mantissa_digits)): for JSON and tables of many
    /// values, without the formatting machinery.
    pub fn write_exact(&self, digits: &MantissaDigits, mut put: impl FnMut(&[u8])) {
        let digits = digits.as_bytes();
        if self.mantissa() < 0 {
            put(b"-");
        }
        let exponent = self.exponent();
        if exponent >= 0 {
            put(digits);
            put_zeros(usize::from(exponent.unsigned_abs()), &mut put);
            return;
        }
        let frac = usize::from(exponent.unsigned_abs());
        match digits.len().checked_sub(frac) {
            Some(int_len) if int_len > 0 => {
                let (int_part, frac_part) = digits.split_at(int_len);
                put(int_part);
                put(b".");
                put(frac_part);
            }
            _ => {
                put(b"0.");
                put_zeros(frac.saturating_sub(digits.len()), &mut put);
                put(digits);
            }
        }
    }

    /// Appends the exact decimal text (see [`write_exact`](Self::write_exact)) to `out`.
    pub fn push_to(&self, out: &mut alloc::string::String) {
        self.write_exact(&self.mantissa_digits(), |piece| {
            piece.iter().for_each(|b| out.push(char::from(*b)));
        });
    }

    /// The decimal digits of the mantissa's magnitude (`1234567` for -1234.567), written once
    /// for the texts a writer makes of the number (the JSON writer makes two: the double's
    /// shortest text and the exact text).
    pub fn mantissa_digits(&self) -> MantissaDigits {
        let mut digits = MantissaDigits {
            buf: [b'0'; MANTISSA_DIGITS],
            start: MANTISSA_DIGITS,
        };
        let mut i = MANTISSA_DIGITS;
        let mut m = self.mantissa().unsigned_abs();
        // 128-bit division is a library call per digit: the high digits of mantissas over
        // 64 bits take it, the rest (every meter value) run in 64 bits, two digits a step.
        while m > u128::from(u64::MAX) && i > 0 {
            i = i.saturating_sub(1);
            if let Some(slot) = digits.buf.get_mut(i) {
                *slot = b'0'.wrapping_add(u8::try_from(m % 10).unwrap_or(0));
            }
            m /= 10;
        }
        let small = u64::try_from(m).unwrap_or(0);
        i = digits_before(&mut digits.buf, i, small);
        digits.start = i;
        digits
    }

    /// The JSON number: the exact text parsed with correct rounding.
    ///
    /// Fast path (Clinger): a mantissa below 2^53 and a power of ten up to 10^22 are both
    /// exact doubles, so one IEEE multiplication or division rounds correctly — the same
    /// double the parser gives. Everything else goes through the parser.
    pub fn to_f64(&self) -> f64 {
        const POW10: [f64; 23] = [
            1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
            1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
        ];
        const EXACT: i128 = 1 << 53;
        if self.mantissa().unsigned_abs() <= EXACT.unsigned_abs() {
            if let Some(&p) = POW10.get(usize::from(self.exponent().unsigned_abs())) {
                // From 64 bits when it fits (one instruction; 128 bits is a library call).
                #[allow(clippy::cast_precision_loss)]
                let m = match i64::try_from(self.mantissa()) {
                    Ok(m) => m as f64,
                    Err(_) => self.mantissa() as f64,
                };
                #[allow(clippy::arithmetic_side_effects)]
                return if self.exponent() >= 0 { m * p } else { m / p };
            }
        }
        let mut buf = StackText::new();
        if write!(buf, "{self}").is_err() {
            return f64::NAN;
        }
        buf.as_str().parse().unwrap_or(f64::NAN)
    }

    /// The value as an integer, when it is one exactly.
    pub fn to_i128(&self) -> Option<i128> {
        if self.exponent() >= 0 {
            self.mantissa()
                .checked_mul(pow10(u32::try_from(self.exponent()).ok()?)?)
        } else {
            let div = pow10(u32::from(self.exponent().unsigned_abs()))?;
            if self.mantissa().checked_rem(div)? == 0 {
                self.mantissa().checked_div(div)
            } else {
                None
            }
        }
    }
}

impl fmt::Display for Decimal {
    /// The exact decimal text: `1234.567`, `-14.5`, `10.000`, `5000` (no exponent notation).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut digits = StackText::new();
        let magnitude = self.mantissa().unsigned_abs();
        // Most meter values fit 64 bits, whose formatting is several times faster than u128's.
        match u64::try_from(magnitude) {
            Ok(small) => write!(digits, "{small}")?,
            Err(_) => write!(digits, "{magnitude}")?,
        }
        let digits = digits.as_str();
        if self.mantissa() < 0 {
            f.write_char('-')?;
        }
        if self.exponent() >= 0 {
            f.write_str(digits)?;
            for _ in 0..self.exponent() {
                f.write_char('0')?;
            }
            return Ok(());
        }
        let frac = usize::from(self.exponent().unsigned_abs());
        if digits.len() > frac {
            let split = digits.len().saturating_sub(frac);
            let (int_part, frac_part) = digits.split_at(split);
            f.write_str(int_part)?;
            f.write_char('.')?;
            f.write_str(frac_part)
        } else {
            f.write_str("0.")?;
            for _ in 0..frac.saturating_sub(digits.len()) {
                f.write_char('0')?;
            }
            f.write_str(digits)
        }
    }
}

/// A fixed-capacity text buffer on the stack, for formatting without allocating.
pub(crate) struct StackText {
    buf: [u8; 192],
    len: usize,
}

impl StackText {
    pub(crate) const fn new() -> Self {
        StackText {
            buf: [0; 192],
            len: 0,
        }
    }

    pub(crate) fn as_str(&self) -> &str {
        self.buf
            .get(..self.len)
            .and_then(|b| core::str::from_utf8(b).ok())
            .unwrap_or("")
    }
}

impl Write for StackText {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len.checked_add(s.len()).ok_or(fmt::Error)?;
        let dst = self.buf.get_mut(self.len..end).ok_or(fmt::Error)?;
        dst.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shortest decimals of `f32`s through zmij (with Rust's formatting for exact
    /// halfway cases) equal those of Rust's own `{:e}` formatting: 400,000 bit patterns,
    /// edge values and known halfway cases.
    #[test]
    fn shortest_f32_decimals_match_rusts_formatting() {
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut values: Vec<f32> = (0..400_000)
            .map(|_| f32::from_bits(next() as u32))
            .collect();
        // Values with few fraction bits near 2^21..2^25 are where halfway cases live:
        // 3065919.25 (a halfway case: 3065919.2 and 3065919.3 are equally near) and on.
        let halfway = f32::from_bits(0x4A3B_20FD);
        values.extend((0..60_000u16).map(|i| halfway + f32::from(i) * 0.25));
        values.extend((0..50_000).map(|i| 16_777_216.0 + i as f32 * 2.0));
        values.extend([
            0.0,
            -0.0,
            1.0,
            0.1,
            1e-45,
            f32::MAX,
            f32::MIN_POSITIVE,
            -halfway,
        ]);
        for v in values.into_iter().filter(|v| v.is_finite()) {
            let reference = Decimal::parse_shortest(&format!("{v:e}"));
            assert_eq!(Decimal::from_f32_shortest(v), reference, "{v:e}");
        }
        assert_eq!(
            Decimal::from_f32_shortest(100.0)
                .map(|d| d.to_string())
                .as_deref(),
            Some("100")
        );
        assert_eq!(
            Decimal::from_f32_shortest(-0.5)
                .map(|d| d.to_string())
                .as_deref(),
            Some("-0.5")
        );
        assert!(f32_halfway(halfway, -1));
        assert!(!f32_halfway(halfway + 0.25, -1));
    }
    use alloc::string::ToString;

    fn d(m: i128, e: i16) -> Decimal {
        Decimal::new(m, e).unwrap()
    }

    #[test]
    fn prints_exact_digits() {
        assert_eq!(d(1234567, -3).to_string(), "1234.567");
        assert_eq!(d(10000, -3).to_string(), "10.000");
        assert_eq!(d(-145, -1).to_string(), "-14.5");
        assert_eq!(d(5, -3).to_string(), "0.005");
        assert_eq!(d(-5, -3).to_string(), "-0.005");
        assert_eq!(d(42, 2).to_string(), "4200");
        assert_eq!(d(0, -2).to_string(), "0.00");
        assert_eq!(
            d(i128::from(u64::MAX), 0).to_string(),
            "18446744073709551615"
        );
    }

    #[test]
    fn value_is_correctly_rounded_not_multiplied() {
        assert_eq!(d(1234567, -3).to_f64(), 1234.567);
        // The float shortcut gives 1.0010000000000001; parsing the exact text does not.
        assert_ne!(1001f64 * 0.001, 1.001);
        assert_eq!(d(1001, -3).to_f64(), 1.001);
        assert_eq!(d(123456789012345678, -3).to_string(), "123456789012345.678");
    }

    #[test]
    fn fast_path_agrees_with_the_parser() {
        let mantissas = [
            0i128,
            1,
            -1,
            7,
            1001,
            1234567,
            -145,
            9_007_199_254_740_992,
            -9_007_199_254_740_991,
            123_456_789_012_345,
        ];
        for m in mantissas {
            for e in -22i16..=22 {
                let d = d(m, e);
                let parsed: f64 = d.to_string().parse().unwrap();
                assert_eq!(d.to_f64().to_bits(), parsed.to_bits(), "{d}");
            }
        }
    }

    #[test]
    fn real32_shortest_form() {
        assert_eq!(
            Decimal::from_f32_shortest(12.3).unwrap().to_string(),
            "12.3"
        );
        assert_eq!(
            Decimal::from_f32_shortest(-0.5).unwrap().to_string(),
            "-0.5"
        );
        assert_eq!(
            Decimal::from_f32_shortest(1e20).unwrap().to_string(),
            "100000000000000000000"
        );
        assert_eq!(Decimal::from_f32_shortest(f32::NAN), None);
        assert_eq!(Decimal::from_f32_shortest(12.3).unwrap().to_f64(), 12.3);
    }

    #[test]
    fn additive_correction_aligns_exponents() {
        let sum = d(1234, -1).checked_add(d(1, -3)).unwrap();
        assert_eq!(sum.to_string(), "123.401");
    }

    #[test]
    fn parses_its_own_text() {
        for s in ["1234.567", "-14.5", "10.000", "0.005", "4200", "-0.005"] {
            assert_eq!(
                Decimal::parse(s).unwrap().to_f64(),
                s.parse::<f64>().unwrap()
            );
        }
        assert_eq!(Decimal::parse("1."), None);
        assert_eq!(Decimal::parse("x"), None);
    }

    #[test]
    fn push_to_writes_what_display_writes() {
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        let mut text = String::new();
        for exponent in -12i16..=6 {
            for mantissa in [
                0i128,
                1,
                -1,
                7,
                10,
                -14,
                12345,
                -1234567,
                i128::MAX,
                i128::MIN + 1,
            ] {
                let Some(d) = Decimal::new(mantissa, exponent) else {
                    continue;
                };
                text.clear();
                d.push_to(&mut text);
                assert_eq!(text, d.to_string(), "{mantissa}e{exponent}");
            }
            for _ in 0..200 {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let Some(d) = Decimal::new(i128::from(seed as i64 >> (seed % 60)), exponent) else {
                    continue;
                };
                text.clear();
                d.push_to(&mut text);
                assert_eq!(text, d.to_string());
            }
        }
    }
}
