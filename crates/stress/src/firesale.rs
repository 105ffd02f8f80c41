//! Exponential fire-sale price impact, as in the Oxford INET system-wide stress test.
//!
//! Selling a fraction `f` of an asset's float moves its price from `old` to `old · exp(−β f)`,
//! with `β = −10 ln(1 − impact)`: selling 10 % of the float moves the price by `impact`.
//! The impact is path-independent: selling `f₁` then `f₂` lands where selling `f₁ + f₂` does.
//!
//! In the DeFi engine an asset's `depth_usd` plays the role of its float (valued at the pre-stress
//! price): selling `depth_usd × 10 %` moves the price by `impact` (default 10 %).

/// Default impact of selling 10 % of the float.
pub const DEFAULT_IMPACT: f64 = 0.1;

/// `β = −10 ln(1 − impact)`, the exponent per unit fraction of float sold. `impact` is clamped to
/// `[0, 1)`.
pub fn beta_from_impact(impact: f64) -> f64 {
    let impact = if impact.is_finite() {
        impact.clamp(0.0, 1.0 - 1e-12)
    } else {
        0.0
    };
    -10.0 * (1.0 - impact).ln()
}

/// Price after selling a fraction `fraction_sold` of the float, starting from `old`.
pub fn exponential_impact(old: f64, fraction_sold: f64, impact: f64) -> f64 {
    old * (-beta_from_impact(impact) * fraction_sold.max(0.0)).exp()
}

/// Proceeds (in price units × float) of selling the fraction `from..to` of the float along the
/// exponential curve starting at `p0`: `∫ p0 e^{−βx} dx`, times `float`. This is what a seller
/// dumping into the market actually receives; it is bounded by `p0 · float / β` however much is
/// sold.
pub fn sale_proceeds(p0: f64, float: f64, from: f64, to: f64, impact: f64) -> f64 {
    let beta = beta_from_impact(impact);
    let (from, to) = (from.max(0.0), to.max(from.max(0.0)));
    if beta <= 0.0 {
        return p0 * float * (to - from);
    }
    p0 * float / beta * ((-beta * from).exp() - (-beta * to).exp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_table() {
        for (f, want) in [
            (0.01, 0.98951926),
            (0.05, 0.94868330),
            (0.10, 0.9),
            (0.20, 0.81),
        ] {
            let got = exponential_impact(1.0, f, 0.1);
            assert!((got - want).abs() < 1e-8, "f = {f}: {got}");
        }
    }

    #[test]
    fn path_independent_and_proceeds_bounded() {
        let a = exponential_impact(exponential_impact(2.0, 0.03, 0.1), 0.07, 0.1);
        assert!((a - exponential_impact(2.0, 0.10, 0.1)).abs() < 1e-12);
        let beta = beta_from_impact(0.1);
        let all = sale_proceeds(1.0, 100.0, 0.0, 1e9, 0.1);
        assert!((all - 100.0 / beta).abs() < 1e-9);
        let small = sale_proceeds(1.0, 100.0, 0.0, 0.001, 0.1);
        assert!((small - 0.1).abs() < 1e-3);
        assert_eq!(exponential_impact(1.0, 0.5, 0.0), 1.0);
    }
}
