//! Exact token amounts: decimal strings to base units and back, and a lossy USD view.

use alloy::primitives::U256;

/// Parses a decimal string in token units (`"1000000"`, `"2.5"`, `"1_000"`) into base units for a
/// token with `decimals` decimals. Returns `None` when the text is not a non-negative decimal,
/// has more fractional digits than the token or overflows 256 bits.
pub fn parse_units(text: &str, decimals: u8) -> Option<U256> {
    let text: String = text.trim().chars().filter(|c| *c != '_').collect();
    let (int, frac) = match text.split_once('.') {
        Some((i, f)) => (i, f),
        None => (text.as_str(), ""),
    };
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    if !int.chars().all(|c| c.is_ascii_digit()) || !frac.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    if frac.len() > usize::from(decimals) {
        return None;
    }
    let mut digits = String::with_capacity(int.len() + usize::from(decimals));
    digits.push_str(if int.is_empty() { "0" } else { int });
    digits.push_str(frac);
    for _ in frac.len()..usize::from(decimals) {
        digits.push('0');
    }
    U256::from_str_radix(&digits, 10).ok()
}

/// Formats base units as a decimal string in token units, without trailing fractional zeros.
pub fn format_units(amount: U256, decimals: u8) -> String {
    let s = amount.to_string();
    let d = usize::from(decimals);
    if d == 0 {
        return s;
    }
    let (int, frac) = if s.len() > d {
        let (i, f) = s.split_at(s.len() - d);
        (i.to_owned(), f.to_owned())
    } else {
        ("0".to_owned(), format!("{s:0>d$}"))
    };
    let frac = frac.trim_end_matches('0');
    if frac.is_empty() {
        int
    } else {
        format!("{int}.{frac}")
    }
}

/// Base units as an `f64` number of tokens (lossy; for USD figures and velocity only).
pub fn to_f64(amount: U256, decimals: u8) -> f64 {
    let limbs = amount.as_limbs();
    let mut v = 0.0_f64;
    for (i, limb) in limbs.iter().enumerate() {
        if *limb != 0 {
            v += (*limb as f64) * 2f64.powi(64 * i as i32);
        }
    }
    v / 10f64.powi(i32::from(decimals))
}

/// `10^decimals` as a `U256`.
pub fn pow10(decimals: u8) -> U256 {
    U256::from(10u8).pow(U256::from(decimals))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_formats_table() {
        let cases = [
            ("1000000", 18, Some("1000000")),
            ("2.5", 6, Some("2.5")),
            ("0.000001", 6, Some("0.000001")),
            ("1_000", 0, Some("1000")),
            (".5", 1, Some("0.5")),
            ("1.2345", 2, None),
            ("-1", 18, None),
            ("", 18, None),
            ("1e5", 18, None),
        ];
        for (text, dec, want) in cases {
            let got = parse_units(text, dec).map(|v| format_units(v, dec));
            assert_eq!(got.as_deref(), want, "{text} with {dec} decimals");
        }
    }

    #[test]
    fn to_f64_scales_by_decimals() {
        let v = parse_units("1234.5", 18).expect("valid");
        assert!((to_f64(v, 18) - 1234.5).abs() < 1e-9);
        assert_eq!(to_f64(U256::MAX, 0), 2f64.powi(256));
    }
}
