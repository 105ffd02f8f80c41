//! Lending-market mechanics: Aave v3 health factor, close factor and liquidation bonus; Morpho
//! Blue's liquidation incentive; and the bad debt a fixed oracle lets through.

/// Aave v3: health factor below which the whole debt may be repaid in one liquidation.
pub const CLOSE_FACTOR_HF_THRESHOLD: f64 = 0.95;
/// Aave v3: positions whose collateral or debt is below this (USD) may be fully liquidated.
pub const MIN_BASE_MAX_CLOSE_FACTOR_THRESHOLD: f64 = 2_000.0;
/// Aave v3 default close factor.
pub const DEFAULT_CLOSE_FACTOR: f64 = 0.5;

/// `HF = Σ collateral_usd × LT / debt_usd`; infinite with no debt.
pub fn health_factor(collateral_usd: f64, liquidation_threshold: f64, debt_usd: f64) -> f64 {
    if debt_usd <= 0.0 {
        f64::INFINITY
    } else {
        collateral_usd * liquidation_threshold / debt_usd
    }
}

/// Share of the debt a liquidator may repay in one call: 50 %, or 100 % when `HF < 0.95` or the
/// position (collateral or debt) is under $2,000.
pub fn close_factor(hf: f64, collateral_usd: f64, debt_usd: f64) -> f64 {
    if hf < CLOSE_FACTOR_HF_THRESHOLD
        || collateral_usd < MIN_BASE_MAX_CLOSE_FACTOR_THRESHOLD
        || debt_usd < MIN_BASE_MAX_CLOSE_FACTOR_THRESHOLD
    {
        1.0
    } else {
        DEFAULT_CLOSE_FACTOR
    }
}

/// Close factor under a protocol's liquidation rules: Aave v3 as [`close_factor`]; Morpho Blue,
/// Fluid and Compound v3 let an unhealthy position be closed in full (Morpho: any `repaidShares`;
/// Fluid: liquidation by tick down to the threshold, taken here as the whole position; Compound
/// v3: `absorb` takes the whole account).
pub fn close_factor_for(
    rules: ringfence_model::spec::Liquidation,
    hf: f64,
    collateral_usd: f64,
    debt_usd: f64,
) -> f64 {
    use ringfence_model::spec::Liquidation;
    match rules {
        Liquidation::Aave => close_factor(hf, collateral_usd, debt_usd),
        Liquidation::Morpho | Liquidation::Fluid | Liquidation::Compound => 1.0,
    }
}

/// Morpho Blue liquidation incentive factor: `min(1.15, 1 / (1 − 0.3 (1 − LLTV)))`.
pub fn morpho_incentive(lltv: f64) -> f64 {
    (1.0 / (1.0 - 0.3 * (1.0 - lltv))).min(1.15)
}

/// A borrowing position: collateral units at a price, and debt in USD.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Position {
    /// Collateral units.
    pub collateral: f64,
    /// Price of one collateral unit as the market's oracle sees it (USD).
    pub price: f64,
    /// Liquidation threshold (LT / LLTV).
    pub liquidation_threshold: f64,
    /// Debt (USD).
    pub debt_usd: f64,
}

/// What one liquidation call does.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Liquidation {
    /// Debt repaid by the liquidator (USD).
    pub repaid_usd: f64,
    /// Collateral units seized, bonus included.
    pub seized: f64,
    /// Of which the bonus.
    pub bonus_units: f64,
    /// Debt left with no collateral behind it (USD): bad debt.
    pub bad_debt_usd: f64,
    /// The position afterwards.
    pub after: Position,
}

impl Position {
    /// Collateral value at the oracle price.
    pub fn collateral_usd(&self) -> f64 {
        self.collateral * self.price
    }

    /// Health factor.
    pub fn health_factor(&self) -> f64 {
        health_factor(
            self.collateral_usd(),
            self.liquidation_threshold,
            self.debt_usd,
        )
    }

    /// One Aave-style liquidation call with the given bonus (e.g. 1.05), or `None` if the position
    /// is healthy. Repays `close factor × debt`, seizing `repaid / price × bonus` units; if the
    /// collateral does not cover that, seizes it all and repays what it covers. Debt left with no
    /// collateral is bad debt (Aave 3.3 burns it against reserves).
    pub fn liquidate(&self, bonus: f64) -> Option<Liquidation> {
        self.liquidate_under(bonus, ringfence_model::spec::Liquidation::Aave)
    }

    /// One liquidation call under a protocol's close-factor rules ([`close_factor_for`]).
    pub fn liquidate_under(
        &self,
        bonus: f64,
        rules: ringfence_model::spec::Liquidation,
    ) -> Option<Liquidation> {
        let hf = self.health_factor();
        if hf >= 1.0 || self.price <= 0.0 {
            return None;
        }
        let cf = close_factor_for(rules, hf, self.collateral_usd(), self.debt_usd);
        let bonus = bonus.max(1.0);
        let mut repaid = cf * self.debt_usd;
        let mut seized = repaid / self.price * bonus;
        if seized > self.collateral {
            seized = self.collateral;
            repaid = seized * self.price / bonus;
        }
        let collateral = self.collateral - seized;
        let mut debt = self.debt_usd - repaid;
        let mut bad = 0.0;
        if collateral <= 1e-12 * self.collateral.max(1.0) && debt > 0.0 {
            bad = debt;
            debt = 0.0;
        }
        Some(Liquidation {
            repaid_usd: repaid,
            seized,
            bonus_units: seized - seized / bonus,
            bad_debt_usd: bad,
            after: Position {
                collateral,
                debt_usd: debt,
                ..*self
            },
        })
    }
}

/// Bad debt per collateral unit that a fixed (or slow) oracle lets a borrower create:
/// `max(0, LLTV × oracle_price − market_price)` — borrow at the stale price, walk away from
/// collateral worth the market price.
pub fn fixed_oracle_bad_debt_per_unit(lltv: f64, oracle_price: f64, market_price: f64) -> f64 {
    (lltv * oracle_price - market_price).max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aave_health_factor() {
        assert!((health_factor(10_000.0, 0.80, 6_000.0) - 1.333_333_333_3).abs() < 1e-9);
        assert_eq!(health_factor(1.0, 0.8, 0.0), f64::INFINITY);
    }

    #[test]
    fn aave_worked_case() {
        let p = Position {
            collateral: 1.0,
            price: 1_800.0,
            liquidation_threshold: 0.825,
            debt_usd: 1_500.0,
        };
        assert!((p.health_factor() - 0.99).abs() < 1e-12);
        // Under $2,000: full close factor.
        assert_eq!(close_factor(0.99, 1_800.0, 1_500.0), 1.0);
        let l = p.liquidate(1.05).expect("valid input");
        assert!((l.repaid_usd - 1_500.0).abs() < 1e-9);
        assert!((l.seized - 0.875).abs() < 1e-12);
        assert!((l.seized - l.bonus_units - 0.833_333_333_3).abs() < 1e-9);
        assert!((l.bonus_units - 0.041_666_666_7).abs() < 1e-9);
        assert_eq!(l.bad_debt_usd, 0.0);
    }

    #[test]
    fn close_factor_rules() {
        assert_eq!(close_factor(0.97, 1e6, 1e6), 0.5);
        assert_eq!(close_factor(0.94, 1e6, 1e6), 1.0);
        assert_eq!(close_factor(0.97, 1e6, 1_000.0), 1.0);
    }

    #[test]
    fn liquidation_past_insolvency_leaves_bad_debt() {
        let p = Position {
            collateral: 1.0,
            price: 1_000.0,
            liquidation_threshold: 0.8,
            debt_usd: 1_500.0,
        };
        let l = p.liquidate(1.05).expect("valid input");
        assert_eq!(l.seized, 1.0);
        assert!((l.repaid_usd - 1_000.0 / 1.05).abs() < 1e-9);
        assert!((l.bad_debt_usd - (1_500.0 - 1_000.0 / 1.05)).abs() < 1e-9);
        assert!(
            Position {
                debt_usd: 100.0,
                ..p
            }
            .liquidate(1.05)
            .is_none()
        );
    }

    #[test]
    fn close_factor_by_protocol() {
        use ringfence_model::spec::Liquidation;
        assert_eq!(close_factor_for(Liquidation::Aave, 0.97, 1e6, 1e6), 0.5);
        for rules in [
            Liquidation::Morpho,
            Liquidation::Fluid,
            Liquidation::Compound,
        ] {
            assert_eq!(close_factor_for(rules, 0.97, 1e6, 1e6), 1.0);
        }
        let p = Position {
            collateral: 1_000_000.0,
            price: 1.0,
            liquidation_threshold: 0.86,
            debt_usd: 900_000.0,
        };
        let aave = p
            .liquidate_under(1.04, Liquidation::Aave)
            .expect("unhealthy");
        let morpho = p
            .liquidate_under(morpho_incentive(0.86), Liquidation::Morpho)
            .expect("unhealthy");
        assert!((aave.repaid_usd - 450_000.0).abs() < 1e-6);
        assert!((morpho.repaid_usd - 900_000.0).abs() < 1e-6);
    }

    #[test]
    fn morpho_incentives() {
        for (lltv, want) in [(0.77, 1.0741), (0.86, 1.0438413), (0.945, 1.0167768)] {
            let got = morpho_incentive(lltv);
            let tol = if lltv == 0.77 { 1e-4 } else { 1e-7 };
            assert!((got - want).abs() < tol, "{lltv}: {got}");
        }
        assert_eq!(morpho_incentive(0.0), 1.15);
    }

    #[test]
    fn fixed_oracle_bad_debt() {
        assert!((fixed_oracle_bad_debt_per_unit(0.86, 1.0, 0.1) - 0.76).abs() < 1e-12);
        assert_eq!(fixed_oracle_bad_debt_per_unit(0.86, 1.0, 0.95), 0.0);
    }
}
