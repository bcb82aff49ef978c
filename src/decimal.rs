//! Exact amounts of money. 万元 amounts are written with up to four decimal places
//! (0.0001 万元 = 1 元); they are kept as integers of ten-thousandths, never as floats.

use std::fmt;

/// The number of decimal places a [`Decimal`] can hold.
pub const MAX_SCALE: u32 = 4;

/// The largest whole part a [`Decimal`] holds: 14 digits, so that any ten such values
/// still add up within 64 bits (no count or amount in a report comes near it).
pub const MAX_WHOLE_DIGITS: usize = 14;

/// An exact decimal: `units / 10^4`, remembering how many places the author wrote.
///
/// Packed to 12 bytes: a report holds hundreds of cells and a provincial portal tens of
/// thousands of reports, and with the padding of an `i128` a cell took 64 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(C, packed(4))]
pub struct Decimal {
    units: i64,
    scale: u8,
}

/// Why a text is not a decimal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecimalError {
    NotANumber,
    TooManyPlaces(usize),
    /// More than [`MAX_WHOLE_DIGITS`] digits before the point.
    TooLarge,
}

impl Decimal {
    pub fn zero() -> Decimal {
        Decimal { units: 0, scale: 0 }
    }

    pub fn from_int(v: i64) -> Decimal {
        Decimal {
            units: v.saturating_mul(10i64.pow(MAX_SCALE)),
            scale: 0,
        }
    }

    /// Parses `123`, `-4`, `2595.45`, `0.0001`. No exponent, no thousands separators.
    pub fn parse(text: &str) -> Result<Decimal, DecimalError> {
        // Most cells are a few digits: read without the general path's passes.
        let b = text.as_bytes();
        if !b.is_empty() && b.len() <= MAX_WHOLE_DIGITS && b.iter().all(u8::is_ascii_digit) {
            let units = b.iter().fold(0i64, |n, &d| n * 10 + i64::from(d - b'0'));
            return Ok(Decimal {
                units: units * 10i64.pow(MAX_SCALE),
                scale: 0,
            });
        }
        let t = text.trim();
        let (neg, digits) = match t.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, t.strip_prefix('+').unwrap_or(t)),
        };
        let (int_part, frac_part) = match digits.split_once('.') {
            Some((i, f)) => (i, f),
            None => (digits, ""),
        };
        if int_part.is_empty()
            || !int_part.bytes().all(|b| b.is_ascii_digit())
            || !frac_part.bytes().all(|b| b.is_ascii_digit())
            || (digits.contains('.') && frac_part.is_empty())
        {
            return Err(DecimalError::NotANumber);
        }
        if frac_part.len() > MAX_SCALE as usize {
            return Err(DecimalError::TooManyPlaces(frac_part.len()));
        }
        if int_part.trim_start_matches('0').len() > MAX_WHOLE_DIGITS {
            return Err(DecimalError::TooLarge);
        }
        // At most 14 + 4 digits: within i64.
        let mut units: i64 = 0;
        for b in int_part.bytes().chain(frac_part.bytes()) {
            units = units * 10 + i64::from(b - b'0');
        }
        units *= 10i64.pow(MAX_SCALE - frac_part.len() as u32);
        Ok(Decimal {
            units: if neg { -units } else { units },
            scale: frac_part.len() as u8,
        })
    }

    pub fn is_negative(&self) -> bool {
        self.units < 0
    }

    /// |self − other|, with the wider scale.
    pub fn abs_diff(self, other: Decimal) -> Decimal {
        let d = self - other;
        Decimal {
            units: d.units.saturating_abs(),
            scale: d.scale,
        }
    }

    /// The value as a whole number, when it was written without a decimal point.
    pub fn whole(&self) -> Option<i64> {
        let (units, scale) = (self.units, self.scale);
        (scale == 0).then(|| units / 10i64.pow(MAX_SCALE))
    }

    /// The value as it is held (its units and places), for a key to hash in one piece.
    pub fn key_bytes(&self) -> [u8; 9] {
        let mut out = [0; 9];
        out[..8].copy_from_slice(&self.units.to_le_bytes());
        out[8] = self.scale;
        out
    }

    /// The value in ten-thousandths, for arithmetic (wide, so products cannot overflow).
    pub fn units(&self) -> i128 {
        i128::from(self.units)
    }
}

impl std::ops::Sub for Decimal {
    type Output = Decimal;

    fn sub(self, other: Decimal) -> Decimal {
        Decimal {
            // Saturates rather than wraps: a sum that large fails its check instead.
            units: self.units.saturating_sub(other.units),
            scale: self.scale.max(other.scale),
        }
    }
}

impl std::ops::Add for Decimal {
    type Output = Decimal;

    /// The sum keeps the wider of the two scales, so `1.5 + 0.25` prints `1.75`.
    fn add(self, other: Decimal) -> Decimal {
        Decimal {
            units: self.units.saturating_add(other.units),
            scale: self.scale.max(other.scale),
        }
    }
}

impl Decimal {
    /// The text of the value, written into `buf` without allocating: pages and data files
    /// print every cell, hundreds per report. As many places as the author wrote
    /// (`2595.45` stays `2595.45`).
    pub fn format<'b>(&self, buf: &'b mut [u8; 24]) -> &'b str {
        let (units, scale) = (self.units, u32::from(self.scale));
        const DIGITS: [&str; 10] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
        let base = 10i64.pow(MAX_SCALE);
        if scale == 0 && (0..10 * base).contains(&units) {
            // Most cells of a report are 0 or a small count.
            return DIGITS[(units / base) as usize];
        }
        let small = units.unsigned_abs();
        // Right to left, without `write!` or 128-bit division. At most 20 digits, a
        // point and a sign.
        let mut at = buf.len();
        let mut push = |d: u8| {
            at -= 1;
            buf[at] = d;
        };
        let base = base.unsigned_abs();
        if scale > 0 {
            let mut frac = (small % base) / 10u64.pow(MAX_SCALE - scale);
            for _ in 0..scale {
                push(b'0' + (frac % 10) as u8);
                frac /= 10;
            }
            push(b'.');
        }
        let mut int = small / base;
        loop {
            push(b'0' + (int % 10) as u8);
            int /= 10;
            if int == 0 {
                break;
            }
        }
        if units < 0 {
            push(b'-');
        }
        // Only ASCII digits, a point and a sign were written.
        std::str::from_utf8(&buf[at..]).unwrap_or_default()
    }

    /// Appends the value's text to `out` (see [`Decimal::format`]).
    pub fn push_to(&self, out: &mut String) {
        out.push_str(self.format(&mut [0; 24]));
    }
}

/// Appends `v` in decimal digits, without the formatting machinery (pages print
/// thousands of numbers that are not cells: years, counts, percentages).
pub fn push_digits(out: &mut String, v: u128) {
    let Ok(mut v) = u64::try_from(v) else {
        out.push_str(&v.to_string());
        return;
    };
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend(digits[at..].iter().map(|&b| char::from(b)));
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.format(&mut [0; 24]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_alone_read_as_the_general_path_reads_them() {
        // `+` sends a text down the general path.
        for text in [
            "0",
            "7",
            "0012",
            "24523",
            "99999999999999",
            "00000000000000",
        ] {
            assert_eq!(
                Decimal::parse(text),
                Decimal::parse(&format!("+{text}")),
                "{text}"
            );
        }
        assert_eq!(
            Decimal::parse("000000000000001"),
            Decimal::parse("+000000000000001")
        );
        assert!(Decimal::parse("999999999999999").is_err());
    }

    #[test]
    fn parses_and_prints_exactly() {
        for s in [
            "0",
            "9",
            "10",
            "-9",
            "7.0",
            "2595.45",
            "0.0001",
            "12.3400",
            "-3",
            "100",
            "-0.5",
            "-12.0",
            "18446744073709",
            "-99999999999999.9999",
        ] {
            assert_eq!(Decimal::parse(s).expect(s).to_string(), s);
        }
        assert_eq!(Decimal::parse("2595.45").map(|d| d.units()), Ok(25_954_500));
        // Leading zeros do not count towards the digits a decimal can hold.
        assert_eq!(
            Decimal::parse("00000000000000000001").map(|d| d.to_string()),
            Ok("1".to_owned())
        );
    }

    #[test]
    fn rejects_what_is_not_an_exact_decimal() {
        assert_eq!(
            Decimal::parse("1.23456"),
            Err(DecimalError::TooManyPlaces(5))
        );
        for s in ["", "1e3", "1,000", "abc", "1.", ".5", "--1"] {
            assert_eq!(Decimal::parse(s), Err(DecimalError::NotANumber), "{s}");
        }
        assert_eq!(
            Decimal::parse("123456789012345"),
            Err(DecimalError::TooLarge)
        );
    }

    #[test]
    fn saturates_instead_of_wrapping() {
        let big = Decimal::parse("99999999999999").expect("big");
        let mut sum = Decimal::zero();
        for _ in 0..2000 {
            sum = sum + big;
        }
        assert_eq!(sum.units(), i128::from(i64::MAX));
        assert_eq!(std::mem::size_of::<Decimal>(), 12);
    }

    #[test]
    fn adds_keeping_the_wider_scale() {
        let a = Decimal::parse("1.5").expect("a");
        let b = Decimal::parse("0.25").expect("b");
        assert_eq!((a + b).to_string(), "1.75");
    }
}
