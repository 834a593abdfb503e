//! Support code the generated modules share: the lossless, validated date-time and URI
//! types, the TMF `Error` body used for every failure the framework itself detects, and
//! the request and response plumbing of the server and the clients.

use ::std::string::String;

/// A text type validated when parsed: `$name(String)`, refused as `$invalid(String)`,
/// checked by `$check`; with `parse`, `as_str`, `FromStr`, `Display`, `AsRef<str>`, and
/// serde as a plain string that is checked as it is read.
macro_rules! validated_text {
    ($(#[$doc:meta])* $name:ident, $(#[$invalid_doc:meta])* $invalid:ident, $check:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        $(#[$invalid_doc])*
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub struct $invalid(pub String);

        impl ::std::error::Error for $invalid {}

        impl $name {
            /// Validates and wraps `text`.
            pub fn parse(text: &str) -> ::std::result::Result<Self, $invalid> {
                if $check(text.as_bytes()) {
                    Ok(Self(text.to_owned()))
                } else {
                    Err($invalid(text.to_owned()))
                }
            }

            /// The text as received.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $invalid;
            fn from_str(text: &str) -> ::std::result::Result<Self, Self::Err> {
                Self::parse(text)
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl ::std::convert::AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
                let text = <String as ::serde::Deserialize>::deserialize(deserializer)?;
                Self::parse(&text).map_err(::serde::de::Error::custom)
            }
        }
    };
}

validated_text!(
    /// A date-time kept exactly as written: with an offset (`2019-11-02T14:20:54Z`) or
    /// without one (`2019-11-02T14:20:54`, as the TMF688 user guide writes them), so a
    /// round trip never changes it. It is validated when parsed: it must name a real
    /// instant, not only have the shape of one.
    ///
    /// Accepted: `YYYY-MM-DD` `T` (or `t`, or a space) `hh:mm`, then optionally `:ss` and
    /// a fraction `.f…`, then optionally `Z` (or `z`), `±hh:mm` or `±hhmm` — RFC 3339 with
    /// the seconds and the offset optional. Refused: months outside 01–12, days past the
    /// end of their month (Gregorian leap years: `2024-02-29` exists, `2023-02-29` does
    /// not), hour 24, minute 60, offsets beyond ±23:59. A leap second (`:60`) is accepted
    /// where RFC 3339 places it, at 23:59 UTC (with an offset, in UTC; without one, as
    /// written); whether that day had one is not checked.
    DateTime,
    /// Why a text is not a date-time.
    InvalidDateTime,
    is_date_time
);

impl ::std::fmt::Display for InvalidDateTime {
    fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
        write!(
            f,
            "invalid date-time {:?}: expected a real instant as YYYY-MM-DDThh:mm[:ss[.fff]][Z|±hh:mm]",
            self.0
        )
    }
}

impl DateTime {
    /// Whether it carries an offset (`Z` or `±hh:mm`).
    pub fn has_offset(&self) -> bool {
        let time = &self.0[11..];
        time.ends_with('Z') || time.ends_with('z') || time.contains('+') || time.contains('-')
    }
}

impl DateTime {
    /// The instant it names, for comparing date-times written with different offsets or
    /// precisions (`2026-01-01T12:30:00+02:00` = `2026-01-01T10:30:00.000Z`). A date-time
    /// without an offset is taken as UTC. A leap second (`23:59:60Z`) is the instant after
    /// `23:59:59.999…`, equal to the next day's `00:00:00Z`.
    pub fn instant(&self) -> Instant<'_> {
        let b = self.0.as_bytes();
        let field = |range: ::std::ops::Range<usize>| i64::from(number(&b[range]).unwrap_or(0));
        let (year, month, day) = (field(0..4), field(5..7), field(8..10));
        let (hour, minute) = (field(11..13), field(14..16));
        let mut rest = &self.0[16..];
        let mut second = 0;
        let mut fraction = "";
        if let Some(tail) = rest.strip_prefix(':') {
            second = i64::from(number(&tail.as_bytes()[..2]).unwrap_or(0));
            rest = &tail[2..];
            if let Some(tail) = rest.strip_prefix('.') {
                let n = tail.bytes().take_while(u8::is_ascii_digit).count();
                fraction = tail[..n].trim_end_matches('0');
                rest = &tail[n..];
            }
        }
        let offset_minutes = match rest.as_bytes() {
            [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] | [sign @ (b'+' | b'-'), h1, h2, m1, m2] => {
                let minutes = i64::from(number(&[*h1, *h2]).unwrap_or(0) * 60 + number(&[*m1, *m2]).unwrap_or(0));
                if *sign == b'-' { -minutes } else { minutes }
            }
            _ => 0,
        };
        // Days since 1970-01-01 in the proleptic Gregorian calendar (H. Hinnant's algorithm).
        let y = if month <= 2 { year - 1 } else { year };
        let era = y.div_euclid(400);
        let year_of_era = y - era * 400;
        let day_of_year = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
        let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
        let days = era * 146_097 + day_of_era - 719_468;
        let seconds = days * 86_400 + hour * 3_600 + minute * 60 + second - offset_minutes * 60;
        Instant { seconds, fraction }
    }
}

/// An instant named by a [`DateTime`]: seconds since `1970-01-01T00:00:00Z` and the
/// decimal digits of the fraction of a second, without trailing zeros, so that `.5` and
/// `.500000` are the same instant. Ordered in time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant<'a> {
    /// Whole seconds since 1970-01-01T00:00:00Z (negative before).
    pub seconds: i64,
    /// The fraction of a second as decimal digits (`"5"` for .5), no trailing zeros.
    pub fraction: &'a str,
}

/// The value of a run of ASCII digits (`None` if empty or not all digits).
fn number(bytes: &[u8]) -> ::std::option::Option<u32> {
    if bytes.is_empty() || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(bytes.iter().fold(0, |n, b| n * 10 + u32::from(b - b'0')))
}

/// Days in `month` (1–12) of `year`, Gregorian.
fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => 29,
        2 => 28,
        _ => 0,
    }
}

/// `YYYY-MM-DD[Tt ]hh:mm[:ss[.f+]][Zz|±hh:mm|±hhmm]`, every field in its range (see
/// [`DateTime`]).
fn is_date_time(b: &[u8]) -> bool {
    if b.len() < 16 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') || b[13] != b':' {
        return false;
    }
    let (Some(year), Some(month), Some(day), Some(hour), Some(minute)) =
        (number(&b[0..4]), number(&b[5..7]), number(&b[8..10]), number(&b[11..13]), number(&b[14..16]))
    else {
        return false;
    };
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) || hour > 23 || minute > 59 {
        return false;
    }
    let mut rest = &b[16..];
    let mut second = 0;
    if let [b':', s1, s2, tail @ ..] = rest {
        match number(&[*s1, *s2]) {
            Some(s) if s <= 60 => second = s,
            _ => return false,
        }
        rest = tail;
        if let [b'.', tail @ ..] = rest {
            let n = tail.iter().take_while(|c| c.is_ascii_digit()).count();
            if n == 0 {
                return false;
            }
            rest = &tail[n..];
        }
    }
    // The offset east of UTC, in minutes.
    let offset: i64 = match rest {
        [] | [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] | [sign @ (b'+' | b'-'), h1, h2, m1, m2] => {
            match (number(&[*h1, *h2]), number(&[*m1, *m2])) {
                (Some(h), Some(m)) if h <= 23 && m <= 59 => {
                    let minutes = i64::from(h * 60 + m);
                    if *sign == b'-' { -minutes } else { minutes }
                }
                _ => return false,
            }
        }
        _ => return false,
    };
    // A leap second ends the last minute of a UTC day.
    second < 60 || (i64::from(hour * 60 + minute) - offset).rem_euclid(24 * 60) == 23 * 60 + 59
}

validated_text!(
    /// A URI (`format: uri`) kept exactly as written, validated when parsed: an absolute
    /// URI by the grammar of RFC 3986 (`scheme:` then the rest, e.g.
    /// `https://host:8443/path?query#fragment` or `urn:example:a`), as JSON Schema defines
    /// the format.
    ///
    /// Refused: no scheme (relative references such as `/path` or `../x`), characters
    /// RFC 3986 does not allow unencoded (spaces, control characters, `"`, `<`, `>`, `\`,
    /// `^`, `` ` ``, `{`, `|`, `}`, anything outside ASCII: an IRI must be percent-encoded),
    /// `%` not followed by two hex digits, a port that is not digits, brackets outside an
    /// IP literal host.
    Uri,
    /// Why a text is not a URI.
    InvalidUri,
    is_uri
);

impl ::std::fmt::Display for InvalidUri {
    fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
        write!(f, "invalid URI {:?}: expected an absolute URI (RFC 3986), e.g. https://example.com/path", self.0)
    }
}

impl Uri {
    /// The text, owned.
    pub fn into_string(self) -> String {
        self.0
    }
}

/// RFC 3986 `unreserved`.
fn is_unreserved(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~')
}

/// RFC 3986 `sub-delims`.
fn is_sub_delim(c: u8) -> bool {
    matches!(c, b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b';' | b'=')
}

/// Whether `part` is made of `allowed` characters and well-formed `%HH` escapes.
fn is_encoded(part: &[u8], allowed: impl Fn(u8) -> bool) -> bool {
    let mut i = 0;
    while i < part.len() {
        if part[i] == b'%' {
            if !part.get(i + 1).is_some_and(u8::is_ascii_hexdigit) || !part.get(i + 2).is_some_and(u8::is_ascii_hexdigit) {
                return false;
            }
            i += 3;
        } else if allowed(part[i]) {
            i += 1;
        } else {
            return false;
        }
    }
    true
}

/// RFC 3986 `pchar`, less `%` (see [`is_encoded`]).
fn is_pchar(c: u8) -> bool {
    is_unreserved(c) || is_sub_delim(c) || matches!(c, b':' | b'@')
}

/// `scheme ":" hier-part [ "?" query ] [ "#" fragment ]` (RFC 3986 §3).
fn is_uri(b: &[u8]) -> bool {
    let Some(colon) = b.iter().position(|&c| c == b':') else {
        return false;
    };
    let scheme = &b[..colon];
    if !scheme.first().is_some_and(u8::is_ascii_alphabetic)
        || !scheme.iter().all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'))
    {
        return false;
    }
    let rest = &b[colon + 1..];
    let (rest, fragment) = match rest.iter().position(|&c| c == b'#') {
        Some(hash) => (&rest[..hash], Some(&rest[hash + 1..])),
        None => (rest, None),
    };
    let (hier, query) = match rest.iter().position(|&c| c == b'?') {
        Some(question) => (&rest[..question], Some(&rest[question + 1..])),
        None => (rest, None),
    };
    let query_char = |c: u8| is_pchar(c) || matches!(c, b'/' | b'?');
    if query.is_some_and(|q| !is_encoded(q, query_char)) || fragment.is_some_and(|f| !is_encoded(f, query_char)) {
        return false;
    }
    let path = match hier.strip_prefix(b"//") {
        Some(after) => {
            let end = after.iter().position(|&c| c == b'/').unwrap_or(after.len());
            if !is_authority(&after[..end]) {
                return false;
            }
            &after[end..]
        }
        None => hier,
    };
    is_encoded(path, |c| is_pchar(c) || c == b'/')
}

/// `[ userinfo "@" ] host [ ":" port ]` (RFC 3986 §3.2).
fn is_authority(authority: &[u8]) -> bool {
    let (userinfo, host_port) = match authority.iter().rposition(|&c| c == b'@') {
        Some(at) => (Some(&authority[..at]), &authority[at + 1..]),
        None => (None, authority),
    };
    if userinfo.is_some_and(|u| !is_encoded(u, |c| is_unreserved(c) || is_sub_delim(c) || c == b':')) {
        return false;
    }
    let (host, port) = if host_port.first() == Some(&b'[') {
        // IP-literal: `[` IPv6address / IPvFuture `]`.
        let Some(close) = host_port.iter().position(|&c| c == b']') else {
            return false;
        };
        let inside = &host_port[1..close];
        if inside.is_empty() || !inside.iter().all(|&c| is_unreserved(c) || is_sub_delim(c) || c == b':') {
            return false;
        }
        match &host_port[close + 1..] {
            [] => (&host_port[..0], None),
            [b':', port @ ..] => (&host_port[..0], Some(port)),
            _ => return false,
        }
    } else {
        match host_port.iter().position(|&c| c == b':') {
            Some(colon) => (&host_port[..colon], Some(&host_port[colon + 1..])),
            None => (host_port, None),
        }
    };
    is_encoded(host, |c| is_unreserved(c) || is_sub_delim(c)) && port.is_none_or(|p| p.iter().all(u8::is_ascii_digit))
}

/// A JSON number (`type: number`, whatever its `format`) kept exactly as written: every
/// digit, any size (`123456789012345678901234567890`, `1e400`, `1e-400`, `-0`,
/// `0.1000000000000000000001`), never rounded through `f64` (serde_json's
/// `arbitrary_precision`, on in this crate). It is written back with the text it was
/// read with, except that serde_json spells an exponent as `e` with its sign
/// (`1E2` → `1e+2`): the same number.
///
/// Equality and hashing are on the exact value: `1e2` = `100` = `100.0`, `-0` = `0`.
/// Read it with [`Number::as_i64`] / [`Number::as_u64`] (`None` unless the value is an
/// integer in range), [`Number::to_f64_lossy`] (the nearest `f64`, rounded) or
/// [`Number::as_str`] (the text, for a decimal type of your choice).
#[derive(Clone)]
pub struct Number(::serde_json::Number);

/// An integer (`type: integer`, whatever its `format`) kept exactly as written, of any
/// size. As in JSON Schema, an integer is any JSON number whose value has no fractional
/// part: `12`, `-0`, `1e2`, `1.0`, `123456789012345678901234567890`, `1e400`. Any other
/// number (`1.5`, `1e-400`) is refused when read (`invalid value: number 1.5, expected
/// an integer …`; a request body's error names its JSON path).
///
/// Equality and hashing are on the exact value (`1e2` = `100`). Read it with
/// [`Integer::as_i64`] / [`Integer::as_u64`] (`None` out of range),
/// [`Integer::to_f64_lossy`] or [`Integer::as_str`].
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Integer(Number);

/// Why a text or a value is not a [`Number`] (not JSON number text, not finite) or not
/// an [`Integer`] (a fractional part).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidNumber {
    text: String,
    expected: &'static str,
}

impl InvalidNumber {
    /// The text (or value) refused.
    pub fn text(&self) -> &str {
        &self.text
    }
}

impl ::std::fmt::Display for InvalidNumber {
    fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
        write!(f, "invalid number {:?}: expected {}", self.text, self.expected)
    }
}

impl ::std::error::Error for InvalidNumber {}

/// What an [`Integer`] must be.
const EXPECTED_INTEGER: &str = "an integer (a JSON number with no fractional part, e.g. 12, 1e2 or 1.0)";

impl Number {
    /// The number as JSON text (see [`Number`] on the exponent's spelling).
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// Whether its value has no fractional part (`1e2` and `1.0` are integers).
    pub fn is_integer(&self) -> bool {
        Exact::of(self.as_str()).is_integer()
    }

    /// The value as an `i64`, if it is an integer within `i64` (`1e2` → 100; `1.5`,
    /// `1e19` → `None`).
    pub fn as_i64(&self) -> ::std::option::Option<i64> {
        self.integer_text()?.parse().ok()
    }

    /// The value as a `u64`, if it is an integer within `u64`.
    pub fn as_u64(&self) -> ::std::option::Option<u64> {
        self.integer_text()?.parse().ok()
    }

    /// The nearest `f64` (rounded: `0.1000000000000000000001` → `0.1`; ±infinity beyond
    /// ±1.8e308, ±0 below 5e-324). Lossy by design: compare and store the [`Number`].
    pub fn to_f64_lossy(&self) -> f64 {
        // JSON number text is always Rust float syntax; overflow parses as infinity.
        self.as_str().parse().unwrap_or(f64::NAN)
    }

    /// The serde_json number it wraps.
    pub fn as_json(&self) -> &::serde_json::Number {
        &self.0
    }

    /// The integer value in decimal digits, when it is an integer of at most 40 digits.
    fn integer_text(&self) -> ::std::option::Option<String> {
        let exact = Exact::of(self.as_str());
        if exact.digits.is_empty() {
            return Some("0".to_owned());
        }
        let zeros: usize = exact.exponent.parse().ok().filter(|zeros| exact.digits.len() + zeros <= 40)?;
        let sign = if exact.negative { "-" } else { "" };
        Some(format!("{sign}{}{}", exact.digits, "0".repeat(zeros)))
    }
}

impl Integer {
    /// The integer as JSON text (see [`Number`] on the exponent's spelling).
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The value as an `i64`, if within `i64` (`1e2` → 100).
    pub fn as_i64(&self) -> ::std::option::Option<i64> {
        self.0.as_i64()
    }

    /// The value as a `u64`, if within `u64`.
    pub fn as_u64(&self) -> ::std::option::Option<u64> {
        self.0.as_u64()
    }

    /// The nearest `f64` (rounded beyond 2^53; infinite beyond 1.8e308).
    pub fn to_f64_lossy(&self) -> f64 {
        self.0.to_f64_lossy()
    }

    /// The same value as a [`Number`].
    pub fn as_number(&self) -> &Number {
        &self.0
    }
}

/// The exact value of JSON number text: `digits` × 10^`exponent`, with the significant
/// digits free of leading and trailing zeros (empty for zero, either sign) and the
/// exponent as canonical decimal text of any size (`-3`, `0`, `400`), so that equal
/// values are equal parts.
#[derive(PartialEq, Eq, Hash)]
struct Exact {
    negative: bool,
    digits: String,
    exponent: String,
}

impl Exact {
    fn of(text: &str) -> Self {
        let (negative, unsigned) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
            Some(at) => (&unsigned[..at], &unsigned[at + 1..]),
            None => (unsigned, "0"),
        };
        let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let all = format!("{whole}{fraction}");
        let significant = all.trim_start_matches('0');
        let digits = significant.trim_end_matches('0');
        if digits.is_empty() {
            return Self { negative: false, digits: String::new(), exponent: "0".to_owned() };
        }
        // all × 10^(exponent − |fraction|) = digits × 10^(exponent − |fraction| + trailing zeros)
        let shift = (significant.len() - digits.len()) as i128 - fraction.len() as i128;
        Self { negative, digits: digits.to_owned(), exponent: add_to_exponent(exponent, shift) }
    }

    fn is_integer(&self) -> bool {
        !self.exponent.starts_with('-')
    }
}

/// `exponent` (JSON exponent digits, optionally signed, of any length) + `shift`, as
/// canonical decimal text. Exponents of peers are not bounded: a billion-digit
/// exponent is still compared exactly.
fn add_to_exponent(exponent: &str, shift: i128) -> String {
    let (negative, magnitude) = match exponent.as_bytes().first() {
        Some(b'-') => (true, &exponent[1..]),
        Some(b'+') => (false, &exponent[1..]),
        _ => (false, exponent),
    };
    let magnitude = magnitude.trim_start_matches('0');
    if magnitude.len() <= 30 {
        let value: i128 = magnitude.parse().unwrap_or(0);
        return (if negative { -value } else { value } + shift).to_string();
    }
    // Beyond 10^30, far beyond any shift (which is at most the text's length): the sign
    // stays the exponent's and the magnitude moves by |shift|, digit by digit.
    let grows = (shift < 0) == negative;
    let mut digits: ::std::vec::Vec<u8> = magnitude.bytes().map(|b| b - b'0').collect();
    let mut carry = shift.unsigned_abs();
    for digit in digits.iter_mut().rev() {
        if carry == 0 {
            break;
        }
        let low = (carry % 10) as u8;
        carry /= 10;
        if grows {
            let sum = *digit + low;
            *digit = sum % 10;
            carry += u128::from(sum / 10);
        } else if *digit >= low {
            *digit -= low;
        } else {
            *digit += 10 - low;
            carry += 1;
        }
    }
    let mut text = if carry > 0 { carry.to_string() } else { String::new() };
    text.extend(digits.iter().map(|d| char::from(b'0' + d)));
    let text = text.trim_start_matches('0');
    if negative { format!("-{text}") } else { text.to_owned() }
}

impl ::std::cmp::PartialEq for Number {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str() || Exact::of(self.as_str()) == Exact::of(other.as_str())
    }
}

impl ::std::cmp::Eq for Number {}

impl ::std::hash::Hash for Number {
    fn hash<H: ::std::hash::Hasher>(&self, state: &mut H) {
        Exact::of(self.as_str()).hash(state);
    }
}

impl ::std::fmt::Debug for Number {
    fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
        write!(f, "Number({})", self.as_str())
    }
}

impl ::std::fmt::Debug for Integer {
    fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
        write!(f, "Integer({})", self.as_str())
    }
}

impl ::std::fmt::Display for Number {
    fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl ::std::fmt::Display for Integer {
    fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl ::std::str::FromStr for Number {
    type Err = InvalidNumber;
    /// JSON number text (`-12`, `0.5`, `1e400`); no whitespace, no `+`, `NaN` or `Infinity`.
    fn from_str(text: &str) -> ::std::result::Result<Self, Self::Err> {
        let refused = || InvalidNumber { text: text.to_owned(), expected: "JSON number text, e.g. -12, 0.5 or 1e-3" };
        if text.starts_with('+') || !text.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E')) {
            return Err(refused());
        }
        ::serde_json::from_str(text).map(Self).map_err(|_| refused())
    }
}

impl ::std::str::FromStr for Integer {
    type Err = InvalidNumber;
    /// JSON number text with no fractional part (`12`, `1e2`, `1.0`).
    fn from_str(text: &str) -> ::std::result::Result<Self, Self::Err> {
        Self::try_from(text.parse::<Number>()?)
    }
}

impl ::std::convert::TryFrom<Number> for Integer {
    type Error = InvalidNumber;
    fn try_from(number: Number) -> ::std::result::Result<Self, Self::Error> {
        if number.is_integer() {
            Ok(Self(number))
        } else {
            Err(InvalidNumber { text: number.as_str().to_owned(), expected: EXPECTED_INTEGER })
        }
    }
}

impl ::std::convert::TryFrom<f64> for Number {
    type Error = InvalidNumber;
    /// A finite `f64`, written as the shortest text that reads back as it.
    fn try_from(value: f64) -> ::std::result::Result<Self, Self::Error> {
        ::serde_json::Number::from_f64(value)
            .map(Self)
            .ok_or_else(|| InvalidNumber { text: value.to_string(), expected: "a finite number" })
    }
}

impl ::std::convert::TryFrom<f64> for Integer {
    type Error = InvalidNumber;
    /// A finite `f64` with no fractional part.
    fn try_from(value: f64) -> ::std::result::Result<Self, Self::Error> {
        Self::try_from(Number::try_from(value)?)
    }
}

impl ::std::convert::From<Integer> for Number {
    fn from(integer: Integer) -> Self {
        integer.0
    }
}

/// `From` every primitive integer, for both number types.
macro_rules! from_primitive_integers {
    ($($primitive:ty),*) => {
        $(
            impl ::std::convert::From<$primitive> for Number {
                fn from(value: $primitive) -> Self {
                    Self(::serde_json::Number::from(value))
                }
            }

            impl ::std::convert::From<$primitive> for Integer {
                fn from(value: $primitive) -> Self {
                    Self(Number::from(value))
                }
            }
        )*
    };
}

from_primitive_integers!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize);

impl ::serde::Serialize for Number {
    fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
        ::serde::Serialize::serialize(&self.0, serializer)
    }
}

impl ::serde::Serialize for Integer {
    fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
        ::serde::Serialize::serialize(&self.0, serializer)
    }
}

impl<'de> ::serde::Deserialize<'de> for Number {
    fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
        <::serde_json::Number as ::serde::Deserialize>::deserialize(deserializer).map(Self)
    }
}

impl<'de> ::serde::Deserialize<'de> for Integer {
    fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
        let number = <Number as ::serde::Deserialize>::deserialize(deserializer)?;
        Self::try_from(number).map_err(|refused| {
            <D::Error as ::serde::de::Error>::invalid_value(
                ::serde::de::Unexpected::Other(&format!("number {}", refused.text())),
                &EXPECTED_INTEGER,
            )
        })
    }
}

/// Deserializes a nullable optional attribute so that `null` (`Some(None)`) stays
/// distinct from absent (`None`).
pub fn double_option<'de, T, D>(deserializer: D) -> ::std::result::Result<::std::option::Option<::std::option::Option<T>>, D::Error>
where
    T: ::serde::Deserialize<'de>,
    D: ::serde::Deserializer<'de>,
{
    <::std::option::Option<T> as ::serde::Deserialize>::deserialize(deserializer).map(Some)
}

/// The TMF `Error` body (TMF630): what every failure answers with.
#[derive(Clone, Debug, PartialEq, ::serde::Serialize, ::serde::Deserialize)]
pub struct ErrorBody {
    /// Application relevant detail (e.g. `"400"` or a domain code).
    pub code: String,
    /// Short explanation.
    pub reason: String,
    /// Details and corrective actions.
    #[serde(default, skip_serializing_if = "::std::option::Option::is_none")]
    pub message: ::std::option::Option<String>,
    /// The HTTP status, as text.
    #[serde(default, skip_serializing_if = "::std::option::Option::is_none")]
    pub status: ::std::option::Option<String>,
    /// The TMF class name.
    #[serde(rename = "@type", default, skip_serializing_if = "::std::option::Option::is_none")]
    pub at_type: ::std::option::Option<String>,
}

/// A failure: the HTTP status and the TMF `Error` body to answer with. Boxed so that
/// `Result<_, ApiError>` stays small.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiError {
    /// HTTP status to answer with.
    pub http_status: ::http::StatusCode,
    /// The body.
    pub body: ::std::boxed::Box<ErrorBody>,
}

impl ApiError {
    /// An error with `status`, a reason and a message.
    pub fn new(status: ::http::StatusCode, reason: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            http_status: status,
            body: ::std::boxed::Box::new(ErrorBody {
                code: status.as_u16().to_string(),
                reason: reason.into(),
                message: Some(message.into()),
                status: Some(status.as_u16().to_string()),
                at_type: Some("Error".into()),
            }),
        }
    }

    /// Replaces the application code (default: the HTTP status).
    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.body.code = code.into();
        self
    }

    /// The message, or the reason when there is none.
    pub fn message(&self) -> &str {
        self.body.message.as_deref().unwrap_or(&self.body.reason)
    }

    /// 400: the request is malformed.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(::http::StatusCode::BAD_REQUEST, "Bad Request", message)
    }

    /// 404: nothing at this id or path.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(::http::StatusCode::NOT_FOUND, "Not Found", message)
    }

    /// 409: the request conflicts with the current state.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(::http::StatusCode::CONFLICT, "Conflict", message)
    }

    /// 500: our fault; the message should not leak internals.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(::http::StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error", message)
    }
}

impl ::std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
        write!(f, "{} {}", self.http_status, self.body.reason)?;
        if let Some(message) = &self.body.message {
            write!(f, ": {message}")?;
        }
        Ok(())
    }
}

impl ::std::error::Error for ApiError {}

{% if server %}
use ::axum::response::IntoResponse as _;

impl ::axum::response::IntoResponse for ApiError {
    fn into_response(self) -> ::axum::response::Response {
        json_response(self.http_status, &*self.body)
    }
}

/// A JSON response with `status`.
pub fn json_response<T: ::serde::Serialize>(status: ::http::StatusCode, body: &T) -> ::axum::response::Response {
    match ::serde_json::to_vec(body) {
        Ok(bytes) => {
            let mut response = ::axum::response::Response::new(::axum::body::Body::from(bytes));
            *response.status_mut() = status;
            response.headers_mut().insert(
                ::http::header::CONTENT_TYPE,
                ::http::HeaderValue::from_static("application/json;charset=utf-8"),
            );
            response
        }
        Err(error) => ApiError::internal(format!("response body could not be serialized: {error}")).into_response(),
    }
}

/// An empty response with `status`.
pub fn empty_response(status: ::http::StatusCode) -> ::axum::response::Response {
    let mut response = ::axum::response::Response::new(::axum::body::Body::empty());
    *response.status_mut() = status;
    response
}

/// Sets a response header from a value's text, when there is one that HTTP accepts.
pub fn set_header<T: ::std::fmt::Display>(response: &mut ::axum::response::Response, name: &'static str, value: ::std::option::Option<&T>) {
    if let Some(Ok(value)) = value.map(|v| ::http::HeaderValue::from_str(&v.to_string())) {
        response.headers_mut().insert(name, value);
    }
}

/// Turns a handler's outcome into a response.
pub fn respond<R: ::axum::response::IntoResponse>(outcome: ::std::result::Result<R, ApiError>) -> ::axum::response::Response {
    match outcome {
        Ok(response) => response.into_response(),
        Err(error) => error.into_response(),
    }
}

/// The answer to a path no route matches.
pub async fn not_found(uri: ::http::Uri) -> ApiError {
    ApiError::not_found(format!("no resource at {}", uri.path()))
}

/// The answer to a method a route does not support.
pub async fn method_not_allowed(method: ::http::Method, uri: ::http::Uri) -> ApiError {
    ApiError::new(
        ::http::StatusCode::METHOD_NOT_ALLOWED,
        "Method Not Allowed",
        format!("{method} is not supported on {}", uri.path()),
    )
}

/// What a handler knows about the request besides its typed inputs: headers (incl.
/// credentials), extensions (where authentication middleware puts the caller's
/// identity), and the base path the router was mounted under (for `href`s).
#[derive(Debug)]
pub struct RequestContext {
    /// HTTP method.
    pub method: ::http::Method,
    /// The URI as received (before any nesting stripped a prefix).
    pub uri: ::http::Uri,
    /// Request headers.
    pub headers: ::http::HeaderMap,
    /// Request extensions (e.g. the authenticated principal).
    pub extensions: ::http::Extensions,
    /// The prefix the router is nested under (e.g. `/tmf-api/event/v4`), or empty.
    pub base_path: String,
    /// The operation being called.
    pub operation: &'static crate::operations::OperationInfo,
}

/// A request being taken apart for a handler.
#[derive(Debug)]
pub struct Call {
    parts: ::http::request::Parts,
    path: ::std::vec::Vec<(String, String)>,
    body: ::axum::body::Bytes,
}

impl Call {
    /// Reads the request (body included, within the router's body limit).
    pub async fn read(request: ::axum::extract::Request) -> ::std::result::Result<Self, ApiError> {
        use ::axum::RequestExt as _;
        use ::axum::RequestPartsExt as _;
        // `with_limited_body` applies the router's `DefaultBodyLimit` (2 MiB unless set).
        let (mut parts, body) = request.with_limited_body().into_parts();
        let path = match parts.extract::<::axum::extract::Path<::std::vec::Vec<(String, String)>>>().await {
            Ok(::axum::extract::Path(path)) => path,
            Err(rejection) => return Err(ApiError::bad_request(rejection.body_text())),
        };
        let body = match ::axum::body::to_bytes(body, usize::MAX).await {
            Ok(bytes) => bytes,
            Err(error) => {
                let text = format!("{error}: {}", ::std::error::Error::source(&error).map(|s| s.to_string()).unwrap_or_default());
                if text.contains("length limit") {
                    return Err(ApiError::new(
                        ::http::StatusCode::PAYLOAD_TOO_LARGE,
                        "Payload Too Large",
                        "request body exceeds the size limit",
                    ));
                }
                return Err(ApiError::bad_request(format!("request body could not be read: {text}")));
            }
        };
        Ok(Self { parts, path, body })
    }

    /// The `index`-th path parameter of `route` (as in `OperationInfo::route`) as sent,
    /// still percent-encoded: a style's delimiters are told from data before decoding.
    pub fn raw_path_param(&self, route: &str, index: usize, name: &str) -> ::std::result::Result<String, ApiError> {
        // (Spelled this way: the template language reads a doubled brace.)
        let placeholder = format!("{}{index}{}", "{p", "}");
        let route: ::std::vec::Vec<&str> = route.split('/').collect();
        let path: ::std::vec::Vec<&str> = self.parts.uri.path().split('/').collect();
        if route.len() == path.len()
            && let Some(at) = route.iter().position(|segment| *segment == placeholder)
        {
            return Ok(path[at].to_owned());
        }
        // A parameter sharing its segment with literal text: the router's decoded value,
        // encoded again (its own delimiters, if any, are then data).
        self.path
            .get(index)
            .map(|(_, value)| crate::params::encode_component(value))
            .ok_or_else(|| ApiError::bad_request(format!("missing path parameter `{name}`")))
    }

    /// The query string's pairs, names decoded and values as sent.
    pub fn raw_query(&self) -> ::std::result::Result<crate::params::RawPairs, ApiError> {
        crate::params::RawPairs::query(self.parts.uri.query())
    }

    /// The request headers (header and cookie parameters are read from them).
    pub fn headers(&self) -> &::http::HeaderMap {
        &self.parts.headers
    }

    /// The JSON body, parsed; `None` when the body is empty.
    pub fn json_body<T: ::serde::de::DeserializeOwned>(&self) -> ::std::result::Result<::std::option::Option<T>, ApiError> {
        if self.body.is_empty() {
            return Ok(None);
        }
        if let Some(content_type) = self.parts.headers.get(::http::header::CONTENT_TYPE) {
            let content_type = content_type.to_str().unwrap_or_default();
            let essence = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
            if essence != "application/json" && !essence.ends_with("+json") {
                return Err(ApiError::new(
                    ::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "Unsupported Media Type",
                    format!("expected an application/json body, got {content_type:?}"),
                ));
            }
        }
        match ::serde_json::from_slice(&self.body) {
            Ok(value) => Ok(Some(value)),
            // Bad input only: parsed again, tracking the path, to say where it failed
            // (tracking on every request would cost the good ones).
            Err(error) => Err(ApiError::bad_request(json_error_message::<T>(&self.body, &error))),
        }
    }

    /// The JSON body, which must be there.
    pub fn required_json_body<T: ::serde::de::DeserializeOwned>(&self) -> ::std::result::Result<T, ApiError> {
        self.json_body()?.ok_or_else(|| ApiError::bad_request("a JSON request body is required"))
    }

    /// The raw body.
    pub fn raw_body(&self) -> ::axum::body::Bytes {
        self.body.clone()
    }

    /// The prefix the router is nested under (e.g. `/psi-api/event/v2`), or empty.
    pub fn base_path(&self) -> &str {
        self.parts
            .extensions
            .get::<::axum::extract::NestedPath>()
            .map(|nested| nested.as_str().trim_end_matches('/'))
            .unwrap_or_default()
    }

    /// The context handed to the handler of `operation`.
    pub fn context(self, operation: &'static crate::operations::OperationInfo) -> RequestContext {
        let base_path = self.base_path().to_owned();
        let uri = self
            .parts
            .extensions
            .get::<::axum::extract::OriginalUri>()
            .map(|original| original.0.clone())
            .unwrap_or(self.parts.uri);
        RequestContext {
            method: self.parts.method,
            uri,
            headers: self.parts.headers,
            extensions: self.parts.extensions,
            base_path,
            operation,
        }
    }
}
{% endif %}

/// A resource as answered to a request with `fields=`: whole, or only the selected
/// attributes (TMF630 attribute selection keeps `id`, `href` and `@type` even where the
/// schema makes other attributes required, so a projection is not a `T`).
///
/// Read through a `serde_json::Value` rather than serde's `untagged` buffering, which
/// cannot carry serde_json's exact (`arbitrary_precision`) numbers into typed fields.
#[derive(Clone, Debug, PartialEq, ::serde::Serialize)]
#[serde(untagged)]
pub enum Projection<T> {
    /// The whole resource.
    Full(T),
    /// Only some attributes.
    Partial(::serde_json::Map<String, ::serde_json::Value>),
}

/// `T` from a JSON value, numbers exactly as they are in it.
///
/// Reading a model from a `Value` hands an integer beyond 64 bits to serde as a
/// `u128`/`i128`, which the buffering of the models' `#[serde(flatten)]` attributes
/// cannot hold (an error), and `-0` as the integer 0. Such values are read from their
/// text instead, where serde_json passes every number on exactly; the others (the usual
/// case) straight from the value.
pub fn from_value_exact<T: ::serde::de::DeserializeOwned>(value: &::serde_json::Value) -> ::std::result::Result<T, ::serde_json::Error> {
    fn needs_text(value: &::serde_json::Value) -> bool {
        match value {
            ::serde_json::Value::Number(n) => {
                // Beyond 64 bits, or `-0` (no `u64`, the `i64` 0).
                n.as_u64().is_none()
                    && (n.as_i64() == Some(0) || (n.as_i64().is_none() && (n.as_u128().is_some() || n.as_i128().is_some())))
            }
            ::serde_json::Value::Array(items) => items.iter().any(needs_text),
            ::serde_json::Value::Object(map) => map.values().any(needs_text),
            _ => false,
        }
    }
    if needs_text(value) {
        ::serde_json::from_str(&value.to_string())
    } else {
        T::deserialize(value)
    }
}

/// [`from_value_exact`], and when `value` is not a `T`, an error that ends with where
/// (``invalid value: number 1.5, expected an integer … at `items[0].quantity` ``). Only
/// bad input pays for tracking the path: the value is read again, from its text.
pub fn from_value_exact_at<T: ::serde::de::DeserializeOwned>(value: &::serde_json::Value) -> ::std::result::Result<T, ::serde_json::Error> {
    from_value_exact(value).map_err(|error| {
        let text = value.to_string();
        let deserializer = &mut ::serde_json::Deserializer::from_str(&text);
        match ::serde_path_to_error::deserialize::<_, T>(deserializer) {
            Err(tracked) if tracked.path().to_string() != "." => {
                <::serde_json::Error as ::serde::de::Error>::custom(format!("{} at `{}`", tracked.inner(), tracked.path()))
            }
            _ => error,
        }
    })
}

impl<'de, T: ::serde::de::DeserializeOwned> ::serde::Deserialize<'de> for Projection<T> {
    fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
        let value = <::serde_json::Value as ::serde::Deserialize>::deserialize(deserializer)?;
        if let Ok(full) = from_value_exact::<T>(&value) {
            return Ok(Self::Full(full));
        }
        match value {
            ::serde_json::Value::Object(map) => Ok(Self::Partial(map)),
            other => Err(::serde::de::Error::custom(format!("expected an object, got {other}"))),
        }
    }
}

impl<T> Projection<T> {
    /// The whole resource, if it is one.
    pub fn full(self) -> ::std::option::Option<T> {
        match self {
            Self::Full(value) => Some(value),
            Self::Partial(_) => None,
        }
    }

    /// The whole resource, by reference, if it is one.
    pub fn as_full(&self) -> ::std::option::Option<&T> {
        match self {
            Self::Full(value) => Some(value),
            Self::Partial(_) => None,
        }
    }
}

impl<T> ::std::convert::From<T> for Projection<T> {
    fn from(value: T) -> Self {
        Self::Full(value)
    }
}

/// Parses one parameter value: as JSON for numbers and booleans, else as a string, else
/// (integers) as the decimal integer it spells where JSON would not read it: `05`, `+5`,
/// `-0` are 5, 5 and 0 (URL parameters are text, not JSON; TMF630 writes `limit=5`).
/// The type decides: a string parameter keeps `05` as written.
pub fn parse_param<T: ::serde::de::DeserializeOwned>(name: &str, raw: &str) -> ::std::result::Result<T, ApiError> {
    if !raw.starts_with('"')
        && let Ok(value) = ::serde_json::from_str::<T>(raw)
    {
        return Ok(value);
    }
    ::serde_json::from_value(::serde_json::Value::String(raw.to_owned()))
        .or_else(|error| match decimal_integer(raw) {
            Some(canonical) => ::serde_json::from_str::<T>(&canonical).map_err(|_| error),
            None => Err(error),
        })
        .map_err(|error| ApiError::bad_request(format!("parameter `{name}` = {raw:?} is not valid: {error}")))
}

/// `[+-]digits` as JSON writes the integer (no `+`, no leading zeros, `-0` as `0`); `None`
/// for anything else.
pub fn decimal_integer(raw: &str) -> ::std::option::Option<String> {
    let (negative, digits) = match raw.as_bytes().first() {
        Some(b'-') => (true, &raw[1..]),
        Some(b'+') => (false, &raw[1..]),
        _ => (false, raw),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let digits = digits.trim_start_matches('0');
    Some(match (negative, digits.is_empty()) {
        (_, true) => "0".to_owned(),
        (true, false) => format!("-{digits}"),
        (false, false) => digits.to_owned(),
    })
}

{% if client %}
/// What can go wrong calling a remote API.
#[derive(Debug)]
pub enum ClientError {
    /// The request could not be sent or the response not received.
    Transport(::reqwest::Error),
    /// The status is not one the spec documents for the operation.
    UnexpectedStatus {
        /// The status.
        status: ::http::StatusCode,
        /// The body, as text.
        body: String,
    },
    /// The body does not match the documented schema.
    Decode {
        /// The status.
        status: ::http::StatusCode,
        /// What did not match.
        message: String,
    },
    /// A request value could not be encoded.
    Encode(String),
    /// A callback (`CallbackClient`) was not reached or did not answer in time.
    Callback(CallbackError),
}

impl ::std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
        match self {
            Self::Transport(error) => write!(f, "request failed: {error}"),
            Self::UnexpectedStatus { status, body } => write!(f, "undocumented status {status}: {body}"),
            Self::Decode { status, message } => write!(f, "response ({status}) does not match the spec: {message}"),
            Self::Encode(message) => write!(f, "request could not be encoded: {message}"),
            Self::Callback(error) => ::std::fmt::Display::fmt(error, f),
        }
    }
}

impl ::std::error::Error for ClientError {
    fn source(&self) -> ::std::option::Option<&(dyn ::std::error::Error + 'static)> {
        match self {
            Self::Transport(error) => Some(error),
            Self::Callback(error) => error.source(),
            _ => None,
        }
    }
}

impl ::std::convert::From<::reqwest::Error> for ClientError {
    fn from(error: ::reqwest::Error) -> Self {
        Self::Transport(error)
    }
}

impl ::std::convert::From<CallbackError> for ClientError {
    fn from(error: CallbackError) -> Self {
        Self::Callback(error)
    }
}

/// What kind of [`CallbackError`] it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CallbackErrorKind {
    /// The callback is not a URL the client can send to.
    Url,
    /// No connection could be made: resolving (including a resolver's refusal),
    /// connecting, the connect timeout or the TLS handshake.
    Connect,
    /// The request timeout passed before the answer (and its kept body) arrived.
    Timeout,
    /// The connection failed while the request was sent or the answer's head read.
    Request,
    /// The connection failed while the answer's body was read.
    Body,
    /// The client could not be built (e.g. the platform's certificate verifier).
    Setup,
}

/// Why a callback was not reached or did not answer: its kind and the underlying
/// error (its `source` chain says what failed, e.g. `Connection refused`).
#[derive(Debug)]
pub struct CallbackError {
    kind: CallbackErrorKind,
    source: ::std::option::Option<::std::boxed::Box<dyn ::std::error::Error + Send + Sync>>,
}

impl CallbackError {
    /// An error of `kind`, caused by `source`.
    pub fn new(kind: CallbackErrorKind, source: ::std::option::Option<::std::boxed::Box<dyn ::std::error::Error + Send + Sync>>) -> Self {
        Self { kind, source }
    }

    /// The error of hyper-util's client: a connect error or one of the request.
    pub fn from_client(error: ::hyper_util::client::legacy::Error) -> Self {
        let kind = if error.is_connect() { CallbackErrorKind::Connect } else { CallbackErrorKind::Request };
        Self::new(kind, Some(::std::boxed::Box::new(error)))
    }

    /// Its kind.
    pub fn kind(&self) -> CallbackErrorKind {
        self.kind
    }

    /// Whether the request timeout passed.
    pub fn is_timeout(&self) -> bool {
        self.kind == CallbackErrorKind::Timeout
    }

    /// Whether no connection could be made.
    pub fn is_connect(&self) -> bool {
        self.kind == CallbackErrorKind::Connect
    }
}

impl ::std::fmt::Display for CallbackError {
    fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
        f.write_str(match self.kind {
            CallbackErrorKind::Url => "invalid callback URL",
            CallbackErrorKind::Connect => "connection failed",
            CallbackErrorKind::Timeout => "timeout",
            CallbackErrorKind::Request => "request failed",
            CallbackErrorKind::Body => "reading the answer failed",
            CallbackErrorKind::Setup => "the callback client could not be set up",
        })
    }
}

impl ::std::error::Error for CallbackError {
    fn source(&self) -> ::std::option::Option<&(dyn ::std::error::Error + 'static)> {
        self.source.as_deref().map(|error| error as &(dyn ::std::error::Error + 'static))
    }
}

/// A received response, before it is matched to a documented status.
#[derive(Debug)]
pub struct RawResponse {
    /// Status.
    pub status: ::http::StatusCode,
    /// Headers.
    pub headers: ::http::HeaderMap,
    /// Body.
    pub body: ::bytes::Bytes,
}

impl RawResponse {
    /// Receives the whole response.
    pub async fn receive(response: ::reqwest::Response) -> ::std::result::Result<Self, ClientError> {
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await?;
        Ok(Self { status, headers, body })
    }

    /// The body as the documented type.
    pub fn json<T: ::serde::de::DeserializeOwned>(&self) -> ::std::result::Result<T, ClientError> {
        ::serde_json::from_slice(&self.body).map_err(|error| ClientError::Decode {
            status: self.status,
            message: json_error_message::<T>(&self.body, &error),
        })
    }

    /// A documented header, parsed; `None` when absent.
    pub fn header<T: ::serde::de::DeserializeOwned>(&self, name: &str) -> ::std::result::Result<::std::option::Option<T>, ClientError> {
        let Some(value) = self.headers.get(name) else {
            return Ok(None);
        };
        let text = value.to_str().map_err(|_| ClientError::Decode {
            status: self.status,
            message: format!("header {name} is not text"),
        })?;
        parse_param(name, text).map(Some).map_err(|error| ClientError::Decode {
            status: self.status,
            message: error.message().to_owned(),
        })
    }

    /// A documented header that must be there.
    pub fn required_header<T: ::serde::de::DeserializeOwned>(&self, name: &str) -> ::std::result::Result<T, ClientError> {
        self.header(name)?.ok_or_else(|| ClientError::Decode {
            status: self.status,
            message: format!("required header {name} is missing"),
        })
    }

    /// The error for a status the operation does not document.
    pub fn unexpected(self) -> ClientError {
        ClientError::UnexpectedStatus {
            status: self.status,
            body: String::from_utf8_lossy(&self.body).into_owned(),
        }
    }
}

/// Percent-encodes one path segment (everything but RFC 3986 `unreserved`). Clients
/// write path parameters with [`crate::params::write_path`], which also refuses empty
/// and dot segments.
pub fn encode_path_segment(segment: &str) -> String {
    crate::params::encode_component(segment)
}
{% endif %}

/// Why `body` is not a `T`, naming where: `invalid JSON body at `event.id`: ...`.
/// `error` is what the plain parse said; the body is parsed again with the path
/// tracked (only bad input pays for that).
fn json_error_message<T: ::serde::de::DeserializeOwned>(body: &[u8], error: &::serde_json::Error) -> String {
    let deserializer = &mut ::serde_json::Deserializer::from_slice(body);
    match ::serde_path_to_error::deserialize::<_, T>(deserializer) {
        Err(tracked) if tracked.path().to_string() != "." => {
            format!("invalid JSON body at `{}`: {}", tracked.path(), tracked.inner())
        }
        // At the top level, or only trailing characters (the tracked parse stops
        // after the value): the plain parse's message says it.
        _ => format!("invalid JSON body: {error}"),
    }
}
