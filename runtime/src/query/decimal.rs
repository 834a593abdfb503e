//! Exact comparison of decimal numbers as written: JSON numbers (kept as their text by
//! serde_json's `arbitrary_precision`) and filter values.
//!
//! No crate fits better than these ~200 lines. Only an order is needed, no arithmetic:
//! `rust_decimal` cannot hold the values (96-bit mantissa, at most 28 decimal places:
//! no `123456789012345678901234567890`, no `1e400`, no `1e-400`); `bigdecimal` holds
//! them (a `BigInt` and an `i64` scale) but is a multi-precision library to parse into
//! for every comparison, and its exponent is bounded by `i64` (ours is not). Here a
//! number is compared on its text, in one pass over its digits, without allocating
//! (but for exponents of more than 36 digits): sign, then the position of the first
//! significant digit (the decimal exponent), then the significant digits. So `1e2` = `100` = `100.0` = `0.1e3`, `-0` = `0` = `0e7`, and
//! `123456789012345678901234567890` > `123456789012345678901234567889`.
//!
//! Accepted text: `[+-]digits[.digits][(e|E)[+-]digits]`, at least one digit before or
//! after the point, leading zeros allowed (a filter value is not JSON). The exponent is
//! exact however many digits it has (a request body may write `1e` and a million
//! digits): it is kept as its digits, and two exponents are compared in `i128` when
//! both fit (up to 36 digits), else as signed decimal integers (sign, length, digits)
//! after the exact adjustment for the position of the first significant digit.

use std::cmp::Ordering;

/// A decimal number, borrowed from its text.
#[derive(Clone, Copy, Debug)]
pub struct Decimal<'a> {
    negative: bool,
    /// Significant digits: no leading or trailing zeros (empty for zero).
    int: &'a [u8],
    frac: &'a [u8],
    /// Digits of `int` + `frac` to skip at the start (leading zeros) and to drop at
    /// the end (trailing zeros).
    skip: usize,
    len: usize,
    /// The value is `0.d1d2… × 10^(position + written)` (d1 the first significant
    /// digit).
    exponent: Exponent<'a>,
}

/// `position + written`: the written exponent (`e…`) as its digits, and the position of
/// the first significant digit in the mantissa (bounded by the text's length).
#[derive(Clone, Copy, Debug)]
struct Exponent<'a> {
    position: i64,
    written_negative: bool,
    /// ASCII digits without leading zeros (empty for 0).
    written: &'a [u8],
}

/// Written exponents of at most this many digits are compared in `i128` (10^36 plus
/// an `i64` position is far from `i128::MAX` ≈ 1.7 × 10^38).
const SMALL_DIGITS: usize = 36;

impl Exponent<'_> {
    /// The value in `i128`, when the written part has at most [`SMALL_DIGITS`] digits.
    fn small(&self) -> Option<i128> {
        if self.written.len() > SMALL_DIGITS {
            return None;
        }
        let magnitude = self
            .written
            .iter()
            .fold(0i128, |n, d| n * 10 + i128::from(d - b'0'));
        let written = if self.written_negative {
            -magnitude
        } else {
            magnitude
        };
        Some(written + i128::from(self.position))
    }

    /// The exact value as (negative, ASCII digits without leading zeros; empty for 0).
    fn big(&self) -> (bool, Vec<u8>) {
        let position = self.position.unsigned_abs().to_string().into_bytes();
        let position_negative = self.position < 0;
        if self.written_negative == position_negative {
            return normal(self.written_negative, add(self.written, &position));
        }
        // Opposite signs: the larger magnitude gives the sign.
        if cmp_magnitude(self.written, &position) == Ordering::Less {
            normal(position_negative, subtract(&position, self.written))
        } else {
            normal(self.written_negative, subtract(self.written, &position))
        }
    }

    fn cmp(&self, other: &Self) -> Ordering {
        if let (Some(a), Some(b)) = (self.small(), other.small()) {
            return a.cmp(&b);
        }
        // Only for exponents of more than 36 digits: allocates.
        let (a_negative, a) = self.big();
        let (b_negative, b) = other.big();
        match (a_negative, b_negative) {
            (false, true) => Ordering::Greater,
            (true, false) => Ordering::Less,
            (false, false) => cmp_magnitude(&a, &b),
            (true, true) => cmp_magnitude(&b, &a),
        }
    }
}

/// Strips leading zeros (zero is not negative).
fn normal(negative: bool, mut digits: Vec<u8>) -> (bool, Vec<u8>) {
    let zeros = digits.iter().take_while(|&&d| d == b'0').count();
    digits.drain(..zeros);
    (negative && !digits.is_empty(), digits)
}

/// Magnitudes without leading zeros: the longer is larger, else the first differing
/// digit decides.
fn cmp_magnitude(a: &[u8], b: &[u8]) -> Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// `a + b` of ASCII digit strings.
fn add(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(a.len().max(b.len()) + 1);
    let (mut i, mut j, mut carry) = (a.len(), b.len(), 0u8);
    while i > 0 || j > 0 || carry > 0 {
        let mut sum = carry;
        if i > 0 {
            i -= 1;
            sum += a[i] - b'0';
        }
        if j > 0 {
            j -= 1;
            sum += b[j] - b'0';
        }
        out.push(b'0' + sum % 10);
        carry = sum / 10;
    }
    out.reverse();
    out
}

/// `a - b` of ASCII digit strings, `a` ≥ `b`.
fn subtract(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(a.len());
    let (mut j, mut borrow) = (b.len(), 0u8);
    for &digit in a.iter().rev() {
        let mut minuend = digit - b'0';
        let subtrahend = if j > 0 {
            j -= 1;
            b[j] - b'0'
        } else {
            0
        } + borrow;
        borrow = u8::from(minuend < subtrahend);
        minuend += 10 * borrow;
        out.push(b'0' + (minuend - subtrahend));
    }
    out.reverse();
    out
}

impl<'a> Decimal<'a> {
    /// Parses `text`; `None` when it is not a decimal number.
    pub fn parse(text: &'a str) -> Option<Self> {
        let bytes = text.as_bytes();
        let (negative, rest) = match bytes.first()? {
            b'-' => (true, &bytes[1..]),
            b'+' => (false, &bytes[1..]),
            _ => (false, bytes),
        };
        let int_len = rest.iter().take_while(|c| c.is_ascii_digit()).count();
        let int = &rest[..int_len];
        let mut rest = &rest[int_len..];
        let mut frac: &[u8] = &[];
        if let [b'.', tail @ ..] = rest {
            let n = tail.iter().take_while(|c| c.is_ascii_digit()).count();
            frac = &tail[..n];
            rest = &tail[n..];
        }
        if int.is_empty() && frac.is_empty() {
            return None;
        }
        let mut written_negative = false;
        let mut written: &[u8] = &[];
        if let [b'e' | b'E', tail @ ..] = rest {
            let (minus, digits) = match tail {
                [b'-', d @ ..] => (true, d),
                [b'+', d @ ..] => (false, d),
                d => (false, d),
            };
            if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
                return None;
            }
            let zeros = digits.iter().take_while(|&&d| d == b'0').count();
            written = &digits[zeros..];
            written_negative = minus && !written.is_empty();
            rest = &[];
        }
        if !rest.is_empty() {
            return None;
        }
        let all = int.len() + frac.len();
        let digit = |i: usize| {
            if i < int.len() {
                int[i]
            } else {
                frac[i - int.len()]
            }
        };
        let skip = (0..all).take_while(|&i| digit(i) == b'0').count();
        let trailing = (skip..all).rev().take_while(|&i| digit(i) == b'0').count();
        let len = all - skip - trailing;
        // `int` has int.len() digits before the point: the first significant digit at
        // index `skip` sits at 10^(int.len() - skip - 1), i.e. 0.d × 10^(int.len() - skip).
        let position =
            i64::try_from(int.len()).unwrap_or(i64::MAX) - i64::try_from(skip).unwrap_or(i64::MAX);
        Some(Self {
            negative,
            int,
            frac,
            skip,
            len,
            exponent: Exponent {
                position,
                written_negative,
                written,
            },
        })
    }

    fn is_zero(&self) -> bool {
        self.len == 0
    }

    fn digits(&self) -> impl Iterator<Item = u8> + '_ {
        self.int
            .iter()
            .chain(self.frac)
            .copied()
            .skip(self.skip)
            .take(self.len)
    }

    fn cmp_magnitude(&self, other: &Self) -> Ordering {
        match (self.is_zero(), other.is_zero()) {
            (true, true) => return Ordering::Equal,
            (true, false) => return Ordering::Less,
            (false, true) => return Ordering::Greater,
            (false, false) => {}
        }
        self.exponent
            .cmp(&other.exponent)
            .then_with(|| self.digits().cmp(other.digits()))
    }
}

impl Ord for Decimal<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        let sign = |d: &Self| {
            if d.is_zero() {
                0
            } else if d.negative {
                -1
            } else {
                1
            }
        };
        match sign(self).cmp(&sign(other)) {
            Ordering::Equal if sign(self) < 0 => other.cmp_magnitude(self),
            Ordering::Equal => self.cmp_magnitude(other),
            unequal => unequal,
        }
    }
}

impl PartialOrd for Decimal<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Decimal<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Decimal<'_> {}

/// The order of two decimal texts; `None` when either is not a number.
pub fn compare(a: &str, b: &str) -> Option<Ordering> {
    Some(Decimal::parse(a)?.cmp(&Decimal::parse(b)?))
}

/// Whether two JSON values are the same, numbers compared on their exact value (`1e2`
/// = `100`, `-0` = `0`; `…890` ≠ `…891` however many digits), objects whatever the
/// order of their keys.
pub fn same_json(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value;
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            x.as_str() == y.as_str() || compare(x.as_str(), y.as_str()) == Some(Ordering::Equal)
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_json(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(key, x)| y.get(key).is_some_and(|y| same_json(x, y)))
        }
        (x, y) => x == y,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_exactly() {
        use Ordering::*;
        let rows: &[(&str, &str, Ordering)] = &[
            ("1e2", "100", Equal),
            ("1E+2", "100.000", Equal),
            ("0.1e3", "100", Equal),
            ("-0", "0", Equal),
            ("-0.0", "0e7", Equal),
            (
                "123456789012345678901234567890",
                "123456789012345678901234567889",
                Greater,
            ),
            (
                "123456789012345678901234567890",
                "1.2345678901234568e+29",
                Less,
            ),
            (
                "-123456789012345678901234567890",
                "-123456789012345678901234567889",
                Less,
            ),
            ("1E+400", "1e399", Greater),
            ("1E+400", "10e399", Equal),
            ("1e-400", "0", Greater),
            ("1e-400", "1e-401", Greater),
            ("-1e-400", "0", Less),
            ("0.1", "0.10000000000000001", Less),
            ("2.5", "2.50", Equal),
            ("007", "7", Equal),
            ("-5", "3", Less),
            ("9", "10", Less),
            ("0.09", "0.1", Less),
            // Exponents of any length (issue 12 review item 7), exact.
            ("1e100000000000000000", "1e100000000000000001", Less),
            ("10e100000000000000000", "1e100000000000000001", Equal),
            ("1e100000000000000001", "1e100000000000000001", Equal),
            ("-1e100000000000000000", "-1e100000000000000001", Greater),
            ("1e-100000000000000000", "1e-100000000000000001", Greater),
            ("0.1e-100000000000000000", "1e-100000000000000001", Equal),
            ("1e99999999999999999999999", "1e100000000000000000", Greater),
            (
                "1e000000000000000000000000000000000000000000005",
                "100000",
                Equal,
            ),
            (
                "1e99999999999999999999999999999999999999999",
                "1e100000000000000000000000000000000000000000",
                Less,
            ),
            (
                "10e99999999999999999999999999999999999999999",
                "1e100000000000000000000000000000000000000000",
                Equal,
            ),
            // A carry and a borrow across the whole exponent.
            (
                "1000e99999999999999999999999999999999999999997",
                "1e100000000000000000000000000000000000000000",
                Equal,
            ),
            (
                "0.001e100000000000000000000000000000000000000000",
                "1e99999999999999999999999999999999999999997",
                Equal,
            ),
            (
                "0.001e100000000000000000000000000000000000000000",
                "1e99999999999999999999999999999999999999998",
                Less,
            ),
            (
                "1e-99999999999999999999999999999999999999999",
                "1e-100000000000000000000000000000000000000000",
                Greater,
            ),
            (
                "100e-100000000000000000000000000000000000000002",
                "1e-100000000000000000000000000000000000000000",
                Equal,
            ),
            // One long exponent against a short one, either sign.
            ("1e100000000000000000000000000000000000000", "1e5", Greater),
            ("1e-100000000000000000000000000000000000000", "1e-5", Less),
            ("1e-100000000000000000000000000000000000000", "0", Greater),
            ("-1e100000000000000000000000000000000000000", "-1e5", Less),
            ("0e100000000000000000000000000000000000000", "0", Equal),
        ];
        for (a, b, expected) in rows {
            assert_eq!(compare(a, b), Some(*expected), "{a} vs {b}");
            assert_eq!(compare(b, a), Some(expected.reverse()), "{b} vs {a}");
        }
        for bad in [
            "", "-", ".", "1e", "1e+", "abc", "1.2.3", "0x10", "1 ", "NaN", "inf",
        ] {
            assert!(Decimal::parse(bad).is_none(), "{bad:?}");
        }
    }
}
