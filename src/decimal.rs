//! Exact amounts of money. 万元 amounts are written with up to four decimal places
//! (0.0001 万元 = 1 元); they are kept as integers of ten-thousandths, never as floats.

use std::fmt;

/// The number of decimal places a [`Decimal`] can hold.
pub const MAX_SCALE: u32 = 4;

/// An exact decimal: `units / 10^4`, remembering how many places the author wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Decimal {
    units: i128,
    scale: u32,
}

/// Why a text is not a decimal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecimalError {
    NotANumber,
    TooManyPlaces(usize),
}

impl Decimal {
    pub fn zero() -> Decimal {
        Decimal { units: 0, scale: 0 }
    }

    pub fn from_int(v: i128) -> Decimal {
        Decimal {
            units: v * 10i128.pow(MAX_SCALE),
            scale: 0,
        }
    }

    /// Parses `123`, `-4`, `2595.45`, `0.0001`. No exponent, no thousands separators.
    pub fn parse(text: &str) -> Result<Decimal, DecimalError> {
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
            || int_part.len() > 24
        {
            return Err(DecimalError::NotANumber);
        }
        if frac_part.len() > MAX_SCALE as usize {
            return Err(DecimalError::TooManyPlaces(frac_part.len()));
        }
        let mut units: i128 = int_part.parse().map_err(|_| DecimalError::NotANumber)?;
        units *= 10i128.pow(MAX_SCALE);
        if !frac_part.is_empty() {
            let f: i128 = frac_part.parse().map_err(|_| DecimalError::NotANumber)?;
            units += f * 10i128.pow(MAX_SCALE - frac_part.len() as u32);
        }
        Ok(Decimal {
            units: if neg { -units } else { units },
            scale: frac_part.len() as u32,
        })
    }

    pub fn is_negative(&self) -> bool {
        self.units < 0
    }

    /// |self − other|, with the wider scale.
    pub fn abs_diff(self, other: Decimal) -> Decimal {
        Decimal {
            units: (self.units - other.units).abs(),
            scale: self.scale.max(other.scale),
        }
    }

    /// The value in ten-thousandths, for arithmetic.
    pub fn units(&self) -> i128 {
        self.units
    }
}

impl std::ops::Sub for Decimal {
    type Output = Decimal;

    fn sub(self, other: Decimal) -> Decimal {
        Decimal {
            units: self.units - other.units,
            scale: self.scale.max(other.scale),
        }
    }
}

impl std::ops::Add for Decimal {
    type Output = Decimal;

    /// The sum keeps the wider of the two scales, so `1.5 + 0.25` prints `1.75`.
    fn add(self, other: Decimal) -> Decimal {
        Decimal {
            units: self.units + other.units,
            scale: self.scale.max(other.scale),
        }
    }
}

impl fmt::Display for Decimal {
    /// Prints as many places as the author wrote (`2595.45` stays `2595.45`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let abs = self.units.unsigned_abs();
        let Ok(small) = u64::try_from(abs) else {
            let sign = if self.units < 0 { "-" } else { "" };
            let base = 10u128.pow(MAX_SCALE);
            let int = abs / base;
            if self.scale == 0 {
                return write!(f, "{sign}{int}");
            }
            let frac = (abs % base) / 10u128.pow(MAX_SCALE - self.scale);
            return write!(f, "{sign}{int}.{frac:0width$}", width = self.scale as usize);
        };
        // Every cell of every page and data file is printed, so without `write!` or
        // 128-bit division: digits into a buffer, right to left.
        let mut buf = [0u8; 32];
        let mut at = buf.len();
        let mut push = |d: u8| {
            at -= 1;
            buf[at] = d;
        };
        let base = 10u64.pow(MAX_SCALE);
        if self.scale > 0 {
            let mut frac = (small % base) / 10u64.pow(MAX_SCALE - self.scale);
            for _ in 0..self.scale {
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
        if self.units < 0 {
            push(b'-');
        }
        // Only ASCII digits, a point and a sign were written.
        f.write_str(std::str::from_utf8(&buf[at..]).unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_exactly() {
        for s in [
            "0",
            "2595.45",
            "0.0001",
            "12.3400",
            "-3",
            "100",
            "-0.5",
            "-12.0",
            "18446744073709",
            "-99999999999999999999.5",
        ] {
            assert_eq!(Decimal::parse(s).expect(s).to_string(), s);
        }
        assert_eq!(Decimal::parse("2595.45").map(|d| d.units()), Ok(25_954_500));
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
    }

    #[test]
    fn adds_keeping_the_wider_scale() {
        let a = Decimal::parse("1.5").expect("a");
        let b = Decimal::parse("0.25").expect("b");
        assert_eq!((a + b).to_string(), "1.75");
    }
}
