//! The steps of one stress run (see [`crate::propagate`] for the model): the attacker's
//! extraction (round 0), then round after round the prices, the lending markets, the protocols'
//! losses and the clearing, and the runs, until nothing moves; then the realized loss, each
//! dollar once, and the per-entity detail.

use crate::clearing::Clearing;
use crate::lending::Position;
use crate::propagate::{AssetOutcome, Outcome, ProtocolOutcome, Realized, Round, StressParams};
use crate::system::{Attack, FailScratch, System};

/// One lending market during a run.
#[derive(Debug, Clone)]
struct MarketState {
    /// `(collateral units, debt USD)` per bucket.
    buckets: Vec<(f64, f64)>,
    repaid: f64,
    bad_exhausted: f64,
    bad_fixed: f64,
    penalties: f64,
}

impl MarketState {
    fn bad_debt(&self) -> f64 {
        self.bad_exhausted + self.bad_fixed
    }
}

/// Running totals over the rounds so far (a round reports the change).
#[derive(Debug, Clone, Copy, Default)]
struct Totals {
    liquidations: f64,
    bad_debt: f64,
    holding_losses: f64,
    claim_losses: f64,
    penalties: f64,
    fire_sale_losses: f64,
}

/// What the attacker did in round 0.
#[derive(Debug, Clone, Copy, Default)]
struct Extraction {
    /// The direct loss: everything the attacker extracted.
    direct: f64,
    /// The part taken from the asset's own holders (drained backing).
    taken_from_holders: f64,
}

/// The proceeds of selling `x` (USD at the pre-stress price) of an asset whose price before
/// impact is `pre` (a ratio of the pre-stress price), `sold` already sold against `depth`.
fn sell(x: f64, pre: f64, sold: f64, depth: Option<f64>, k: f64) -> f64 {
    match depth.filter(|d| *d > 0.0) {
        Some(d) if k > 0.0 => {
            let e0 = (-k * sold / d).exp();
            let e1 = (-k * (sold + x) / d).exp();
            pre * d / k * (e0 - e1)
        }
        _ => x * pre,
    }
}

/// The loss on a fire sale of `x` (USD at the pre-stress price) of an asset whose fundamental
/// value ratio is `fund`: what was given up at fundamental value less the proceeds. Booked
/// against the fundamental value, not the market price at the time of the sale, so it does not
/// depend on who sold first: the total over a market is a function of the volume sold into it
/// (and of what the attacker dumped first), and the price impact an earlier seller leaves is a
/// loss for the next seller, not for nobody. The fundamental loss itself is the holders' line
/// (`depeg_usd`) and is not counted here.
fn sale_loss(x: f64, fund: f64, proceeds: f64) -> f64 {
    (x * fund - proceeds).max(0.0)
}

/// How much (USD at the pre-stress price) must be sold to raise `want` of proceeds, capped at
/// `available`.
fn to_raise(want: f64, available: f64, pre: f64, sold: f64, depth: Option<f64>, k: f64) -> f64 {
    if want <= 0.0 || pre <= 0.0 {
        return 0.0;
    }
    match depth.filter(|d| *d > 0.0) {
        Some(d) if k > 0.0 => {
            let e0 = (-k * sold / d).exp();
            let e1 = e0 - want * k / (pre * d);
            if e1 <= 0.0 {
                available
            } else {
                (-(d / k) * e1.ln() - sold).clamp(0.0, available)
            }
        }
        _ => (want / pre).min(available),
    }
}

/// The state a run carries from round to round.
struct Run<'r, 'm> {
    sys: &'r System<'m>,
    s: &'r FailScratch,
    /// Exponential impact per unit of depth sold.
    k: f64,
    /// Per asset: sold so far (USD at the pre-stress price), units the attacker minted, the
    /// fundamental value ratio (own loss and backing, no market impact anywhere: what a fire
    /// sale is booked against), the price ratio before this asset's own fire-sale impact
    /// (`pre`, which follows the backing's market price) and after it (`ratio`).
    sold: Vec<f64>,
    minted_units: Vec<f64>,
    fund: Vec<f64>,
    pre: Vec<f64>,
    ratio: Vec<f64>,
    markets: Vec<MarketState>,
    /// Per protocol: its own holdings (sold down by forced sales), withdrawals asked for, paid,
    /// raised by forced sales, holdings sold (pre-stress USD), the loss on those sales
    /// (fundamental value less proceeds), their pre-stress value less proceeds, its loss, its
    /// external assets.
    held: Vec<Vec<(usize, f64)>>,
    demand: Vec<f64>,
    paid: Vec<f64>,
    raised: Vec<f64>,
    forced: Vec<f64>,
    sale_loss: Vec<f64>,
    realized_sales: Vec<f64>,
    loss: Vec<f64>,
    e: Vec<f64>,
    /// Liquidators' loss on selling seized collateral (fundamental value less proceeds).
    liquidator_slippage: f64,
    /// Value sold into markets this round.
    round_sales: f64,
    clearing: Clearing,
    totals: Totals,
    defaulted: Vec<bool>,
}

impl<'r, 'm> Run<'r, 'm> {
    fn new(sys: &'r System<'m>, s: &'r FailScratch, k: f64, base: &Clearing) -> Self {
        let na = sys.model.assets.len();
        let np = sys.model.protocols.len();
        let markets = sys
            .markets
            .iter()
            .map(|mk| MarketState {
                buckets: mk.buckets.clone(),
                repaid: 0.0,
                bad_exhausted: 0.0,
                bad_fixed: 0.0,
                penalties: 0.0,
            })
            .collect();
        Self {
            sys,
            s,
            k,
            sold: vec![0.0; na],
            minted_units: vec![0.0; na],
            fund: (0..na).map(|a| fundamental(s, sys.model, a)).collect(),
            pre: vec![1.0; na],
            ratio: vec![1.0; na],
            markets,
            held: sys.own_holdings.clone(),
            demand: vec![0.0; np],
            paid: vec![0.0; np],
            raised: vec![0.0; np],
            forced: vec![0.0; np],
            sale_loss: vec![0.0; np],
            realized_sales: vec![0.0; np],
            loss: vec![0.0; np],
            e: vec![0.0; np],
            liquidator_slippage: 0.0,
            round_sales: 0.0,
            clearing: Clearing::default(),
            totals: Totals::default(),
            defaulted: (0..np).map(|p| base.defaulted(p)).collect(),
        }
    }

    /// Round 0: the attacker's extraction. A drain takes the backing from the asset's own
    /// holders; a mint adds units and dumps them into the asset's market.
    fn extract(&mut self) -> Extraction {
        let (m, s, k) = (self.sys.model, self.s, self.k);
        let mut x = Extraction::default();
        for (a, asset) in m.assets.iter().enumerate() {
            let inherited: f64 = asset.backing.iter().map(|&(b, sh)| sh * s.dep[b]).sum();
            if s.attack[a] == Attack::Drain {
                let d = asset.value_usd * (s.own[a] - inherited).max(0.0);
                x.direct += d;
                x.taken_from_holders += d;
            }
            if s.mint_open[a] {
                let units_usd = match asset.mint_cap {
                    Some((cap, _)) => cap * asset.price_usd,
                    None => f64::INFINITY,
                };
                let proceeds = match asset.depth_usd.filter(|d| *d > 0.0) {
                    Some(depth) => {
                        // Selling x USD (at the pre-stress price) moves the price by
                        // exp(−k x / depth); the seller receives the integral of that.
                        let sold = units_usd.min(depth * 1e6);
                        self.sold[a] += sold;
                        depth / k * (1.0 - (-k * sold / depth).exp())
                    }
                    None => units_usd.min(asset.value_usd),
                };
                if let Some((cap, _)) = asset.mint_cap {
                    self.minted_units[a] = cap;
                }
                // The dump happens at once, before the market reprices a failed backing: the
                // buyers pay the pre-stress curve (so a further failure never lowers the take).
                x.direct += proceeds;
            }
        }
        x
    }

    /// Prices: backing, own loss, fire sales.
    fn reprice(&mut self) {
        let (m, s, k) = (self.sys.model, self.s, self.k);
        for &a in &m.backing_order {
            let asset = &m.assets[a];
            let (mut backed, mut share) = (0.0, 0.0);
            for &(b, sh) in &asset.backing {
                backed += sh * self.ratio[b];
                share += sh;
            }
            backed += (1.0 - share).max(0.0);
            let impact = match asset.depth_usd.filter(|d| *d > 0.0) {
                Some(depth) => (-k * self.sold[a] / depth).exp(),
                None => 1.0,
            };
            self.pre[a] = ((1.0 - s.own[a]) * backed).clamp(0.0, 1.0);
            self.ratio[a] = (self.pre[a] * impact).clamp(0.0, 1.0);
        }
    }

    /// Lending markets, bucket by bucket: a fixed oracle carries bad debt, a market oracle
    /// liquidates unhealthy buckets and sells the seized collateral. Returns the bad debt of each
    /// protocol's markets.
    fn lend(&mut self) -> Vec<f64> {
        let m = self.sys.model;
        let mut bad_by_protocol = vec![0.0; m.protocols.len()];
        for (mk, st) in self.sys.markets.iter().zip(self.markets.iter_mut()) {
            let c = mk.collateral;
            let p0 = m.assets[c].price_usd;
            let price = p0 * self.ratio[c];
            if mk.frozen {
                // Nothing can be seized: the borrower's whole debt is bad debt.
                st.bad_fixed = st.buckets.iter().map(|&(_, debt)| debt).sum();
            } else if mk.fixed_oracle {
                st.bad_fixed = st
                    .buckets
                    .iter()
                    .map(|&(coll, debt)| (debt - coll * price).max(0.0))
                    .sum();
            } else {
                for b in &mut st.buckets {
                    let mut pos = Position {
                        collateral: b.0,
                        price,
                        liquidation_threshold: mk.threshold,
                        debt_usd: b.1,
                    };
                    if price <= 0.0 && pos.debt_usd > 0.0 {
                        st.bad_exhausted += pos.debt_usd;
                        pos.debt_usd = 0.0;
                    }
                    for _ in 0..200 {
                        let Some(l) = pos.liquidate_under(mk.bonus, mk.rules) else {
                            break;
                        };
                        st.repaid += l.repaid_usd;
                        st.bad_exhausted += l.bad_debt_usd;
                        // The bonus units, valued like the fire sale below at the collateral's
                        // fundamental value: a price an earlier dump has depressed lowers what the
                        // liquidator pays for them, not what the borrower gives up.
                        st.penalties += l.bonus_units * p0 * self.fund[c];
                        let seized_usd = l.seized * p0;
                        let proceeds = sell(
                            seized_usd,
                            self.pre[c],
                            self.sold[c],
                            m.assets[c].depth_usd,
                            self.k,
                        );
                        self.liquidator_slippage += sale_loss(seized_usd, self.fund[c], proceeds);
                        self.sold[c] += seized_usd;
                        self.round_sales += seized_usd;
                        pos = l.after;
                        if l.repaid_usd <= 1e-9 && l.bad_debt_usd <= 0.0 {
                            break;
                        }
                    }
                    *b = (pos.collateral, pos.debt_usd);
                }
            }
            bad_by_protocol[mk.protocol] += st.bad_debt();
        }
        bad_by_protocol
    }

    /// Protocol losses before claims (holdings marked to market, sales, bad debt), the clearing,
    /// and the shortfalls on claims. Returns `(holding losses, claim losses)`.
    fn losses_and_clearing(
        &mut self,
        bad_by_protocol: &[f64],
        params: &StressParams,
        base: &Clearing,
    ) -> (f64, f64) {
        let sys = self.sys;
        let m = sys.model;
        let mut holding_losses = 0.0;
        for (p, h) in self.held.iter().enumerate() {
            let marked: f64 = h
                .iter()
                .map(|&(a, units)| units * m.assets[a].price_usd * (1.0 - self.ratio[a]))
                .sum();
            let hl = marked + self.realized_sales[p];
            holding_losses += hl;
            self.loss[p] = hl + bad_by_protocol[p];
            self.e[p] = (sys.base_assets[p] - self.loss[p]).max(0.0);
        }
        // Nothing lost (the network as given): the clearing is the baseline's, exactly.
        if self.e == sys.base_assets {
            self.clearing.clone_from(base);
        } else {
            // Length is right by construction.
            let _ = sys
                .network
                .clear_into(&self.e, &params.clearing, &mut self.clearing);
        }
        let mut claim_losses = 0.0;
        for (p, l) in self.loss.iter_mut().enumerate() {
            let c = (base.received[p] - self.clearing.received[p]).max(0.0);
            claim_losses += c;
            *l = (*l + c).min(sys.total_assets[p]);
        }
        (holding_losses, claim_losses)
    }

    /// Runs: depositors ask for `deposits × min(1, sensitivity × loss / capital)`; the liquid
    /// part is paid at once, the rest as far as fire sales of holdings raise it. Returns the
    /// withdrawals paid this round.
    fn withdrawals(&mut self) -> f64 {
        let sys = self.sys;
        let mut round_out = 0.0;
        for (p, proto) in sys.model.protocols.iter().enumerate() {
            if proto.deposits_usd <= 0.0 || proto.outflow_sensitivity <= 0.0 {
                continue;
            }
            let cap = proto
                .capital_usd
                .filter(|c| *c > 0.0)
                .unwrap_or(sys.total_assets[p]);
            let h = if cap > 0.0 {
                (self.loss[p] / cap).min(1.0)
            } else if self.loss[p] > 0.0 {
                1.0
            } else {
                0.0
            };
            let want = proto.deposits_usd * (proto.outflow_sensitivity * h).min(1.0);
            if want <= self.demand[p] + 1e-6 {
                continue;
            }
            self.demand[p] = want;
            let liquid = sys.liquid[p];
            let need = (want - liquid).max(0.0) - self.raised[p];
            // A lending market cannot sell its borrowers' loans: past its liquid reserves
            // (100 % utilisation) withdrawals stop. Other protocols sell what they hold.
            if need > 1e-6 && !sys.lending[p] {
                self.forced_sale(p, need);
            }
            let new_paid = want.min(liquid + self.raised[p]).min(proto.deposits_usd);
            if new_paid > self.paid[p] {
                round_out += new_paid - self.paid[p];
                self.paid[p] = new_paid;
            }
        }
        round_out
    }

    /// Protocol `p` sells its holdings, pro rata to their market value, to raise `need`.
    fn forced_sale(&mut self, p: usize, mut need: f64) {
        let m = self.sys.model;
        let value: f64 = self.held[p]
            .iter()
            .map(|&(a, u)| u * m.assets[a].price_usd * self.ratio[a])
            .sum();
        if value <= 0.0 {
            return;
        }
        let goal = need;
        for (a, units) in self.held[p].iter_mut() {
            let a = *a;
            let p0 = m.assets[a].price_usd;
            let w = *units * p0 * self.ratio[a] / value * goal;
            let depth = m.assets[a].depth_usd;
            let x = to_raise(
                w.min(need),
                *units * p0,
                self.pre[a],
                self.sold[a],
                depth,
                self.k,
            );
            if x <= 0.0 {
                continue;
            }
            let proceeds = sell(x, self.pre[a], self.sold[a], depth, self.k);
            self.sold[a] += x;
            self.round_sales += x;
            self.forced[p] += x;
            self.sale_loss[p] += sale_loss(x, self.fund[a], proceeds);
            self.realized_sales[p] += (x - proceeds).max(0.0);
            self.raised[p] += proceeds;
            need -= proceeds;
            *units = (*units - x / p0).max(0.0);
        }
    }

    /// Closes a round: updates the totals and, with `detail`, records the round. Returns whether
    /// anything moved.
    fn close_round(
        &mut self,
        round: usize,
        (holding_losses, claim_losses): (f64, f64),
        round_out: f64,
        detail: Option<&mut Vec<Round>>,
    ) -> bool {
        // `+ 0.0`: an empty float sum is -0.0, which would print as "-0.0" in the JSON.
        let now = Totals {
            liquidations: self.markets.iter().map(|st| st.repaid).sum::<f64>() + 0.0,
            bad_debt: self.markets.iter().map(MarketState::bad_debt).sum::<f64>() + 0.0,
            holding_losses,
            claim_losses,
            penalties: self.markets.iter().map(|st| st.penalties).sum::<f64>() + 0.0,
            fire_sale_losses: self.liquidator_slippage + self.sale_loss.iter().sum::<f64>() + 0.0,
        };
        let was = self.totals;
        self.totals = now;
        let d_liq = now.liquidations - was.liquidations;
        let d_bad = now.bad_debt - was.bad_debt;
        let d_hold = now.holding_losses - was.holding_losses;
        let d_claim = now.claim_losses - was.claim_losses;
        let mut new_defaults = Vec::new();
        for (p, was) in self.defaulted.iter_mut().enumerate() {
            if self.clearing.defaulted(p) && !*was {
                *was = true;
                if detail.is_some() {
                    new_defaults.push(self.sys.model.protocols[p].id.clone());
                }
            }
        }
        let sales = self.round_sales;
        let moved = d_liq.abs() + d_bad.abs() + d_hold.abs() + d_claim.abs() + round_out + sales;
        if let Some(rounds) = detail
            && (moved > 1e-6 || round == 1)
        {
            rounds.push(Round {
                round,
                liquidations_usd: d_liq,
                bad_debt_usd: d_bad,
                outflows_usd: round_out,
                holding_losses_usd: d_hold,
                claim_losses_usd: d_claim,
                fire_sales_usd: sales,
                liquidation_penalties_usd: now.penalties - was.penalties,
                fire_sale_losses_usd: now.fire_sale_losses - was.fire_sale_losses,
                new_defaults,
                ..Round::default()
            });
        }
        moved > 1e-6
    }

    /// The flows and totals of the settled run.
    fn totals_into(&self, base: &Clearing, out: &mut Outcome) {
        let sys = self.sys;
        out.liquidations_usd = self.totals.liquidations;
        out.bad_debt_usd = self.totals.bad_debt;
        out.holding_losses_usd = self.totals.holding_losses;
        out.claim_losses_usd = self.totals.claim_losses;
        out.outflows_usd = self.paid.iter().sum::<f64>() + 0.0;
        out.withdrawals_blocked_usd = self
            .demand
            .iter()
            .zip(&self.paid)
            .map(|(d, p)| (d - p).max(0.0))
            .sum::<f64>()
            + 0.0;
        out.forced_sales_usd = self.forced.iter().sum::<f64>() + 0.0;
        out.default_costs_usd = (default_costs(sys, &self.e, &self.clearing)
            - default_costs(sys, &sys.base_assets, base))
        .max(0.0);
    }

    /// Realized loss, each dollar once, and the multipliers.
    fn realized_into(&self, x: Extraction, out: &mut Outcome) {
        let (m, s) = (self.sys.model, self.s);
        let mut holders = 0.0;
        let mut minted_value = 0.0;
        for (a, asset) in m.assets.iter().enumerate() {
            if s.own[a] <= 0.0 {
                continue;
            }
            // The asset's own loss on its pre-stress supply at fundamental value (before fire
            // sales, which are transient): value × own × what its backing is still worth.
            let backed = backing_worth(s, m, a);
            holders += asset.value_usd * s.own[a] * backed;
            minted_value += self.minted_units[a] * asset.price_usd * (1.0 - s.own[a]) * backed;
        }
        let compromised_bad_debt: f64 = self
            .sys
            .markets
            .iter()
            .zip(&self.markets)
            .map(|(mk, st)| {
                if mk.frozen {
                    st.bad_debt()
                } else if s.dep[mk.collateral] > 0.0 {
                    // Only what the collateral's fundamental loss explains is the holders' loss:
                    // bad debt from fire-sale impact on top of it is a loss of its own.
                    st.bad_debt().min(self.fundamental_bad_debt(mk))
                } else {
                    0.0
                }
            })
            .sum();
        // Holders of compromised assets lose `holders` in all; the attacker's take from them is
        // the direct loss, and the bad debt on compromised collateral is the part lenders carry
        // (within what the holders lost: beyond it, e.g. a drained collateral, the bad debt is
        // already inside the direct loss).
        let holders_net = (holders - x.taken_from_holders - minted_value).max(0.0);
        let within = compromised_bad_debt.min(holders_net);
        let other_bad_debt = (out.bad_debt_usd - compromised_bad_debt).max(0.0);
        out.realized = Realized {
            depeg_usd: holders_net - within + 0.0,
            bad_debt_usd: within + other_bad_debt + 0.0,
            liquidation_penalties_usd: self.totals.penalties,
            fire_sale_usd: self.totals.fire_sale_losses,
            clearing_costs_usd: out.default_costs_usd,
        };
        let secondary = out.realized.total();
        out.realized_loss_usd = out.direct_loss_usd + secondary;
        out.disrupted_value_usd = out.liquidations_usd + out.outflows_usd;
        out.secondary_damage_usd = secondary;
        out.loss_multiplier = (out.direct_loss_usd > 0.0).then(|| secondary / out.direct_loss_usd);
        out.disruption_multiplier =
            (out.direct_loss_usd > 0.0).then(|| out.disrupted_value_usd / out.direct_loss_usd);
        out.multiplier = out.loss_multiplier;
    }

    /// The bad debt a market's positions would carry with its collateral at fundamental value
    /// (the failure's loss, no market impact): `Σ max(0, debt − collateral × fundamental price)`.
    fn fundamental_bad_debt(&self, mk: &crate::system::MarketRef) -> f64 {
        let c = mk.collateral;
        let price = self.sys.model.assets[c].price_usd * self.fund[c];
        mk.buckets
            .iter()
            .map(|&(coll, debt)| (debt - coll * price).max(0.0))
            .sum()
    }

    /// Per-protocol and per-asset detail.
    fn detail_into(&self, out: &mut Outcome) {
        let (sys, m) = (self.sys, self.sys.model);
        out.protocols = m
            .protocols
            .iter()
            .enumerate()
            .map(|(p, proto)| {
                let (mut bad, mut liq) = (0.0, 0.0);
                for (mk, st) in sys.markets.iter().zip(&self.markets) {
                    if mk.protocol == p {
                        bad += st.bad_debt();
                        liq += st.repaid;
                    }
                }
                let c = &self.clearing;
                ProtocolOutcome {
                    id: proto.id.clone(),
                    loss_usd: self.loss[p],
                    assets_usd: sys.total_assets[p],
                    defaulted: c.defaulted(p),
                    clearing_payment_usd: c.payments.get(p).copied().unwrap_or(0.0),
                    equity_usd: c.equity.get(p).copied().unwrap_or(0.0),
                    wave: c.wave.get(p).copied().unwrap_or(0),
                    outflows_usd: self.paid[p],
                    withdrawals_blocked_usd: (self.demand[p] - self.paid[p]).max(0.0),
                    forced_sales_usd: self.forced[p],
                    fire_sale_loss_usd: self.sale_loss[p],
                    bad_debt_usd: bad,
                    liquidations_usd: liq,
                }
            })
            .collect();
        out.assets = m
            .assets
            .iter()
            .enumerate()
            .map(|(a, asset)| AssetOutcome {
                id: asset.id.clone(),
                price_before_usd: asset.price_usd,
                price_after_usd: asset.price_usd * self.ratio[a],
                loss_share: self.s.dep[a],
            })
            .collect();
    }
}

impl System<'_> {
    /// A scenario, step by step: round 0, then rounds until nothing moves, then the accounts.
    pub(crate) fn run_with(
        &self,
        failed: &[ringfence_model::ComponentIdx],
        params: &StressParams,
        base: &Clearing,
        s: &mut FailScratch,
        detail: bool,
    ) -> Outcome {
        let m = self.model;
        self.evaluate(failed, s);
        let k = -(1.0 - params.impact.clamp(0.0, 0.999_999)).ln();
        let mut out = Outcome {
            failed: failed
                .iter()
                .filter_map(|&c| m.components.get(c as usize).map(|c| c.id.clone()))
                .collect(),
            converged: true,
            ..Outcome::default()
        };
        let mut run = Run::new(self, s, k, base);
        let x = run.extract();
        out.direct_loss_usd = x.direct;
        if detail {
            out.rounds.push(Round {
                round: 0,
                direct_usd: x.direct,
                ..Round::default()
            });
        }
        let mut round = 0;
        loop {
            round += 1;
            run.round_sales = 0.0;
            run.reprice();
            let bad_by_protocol = run.lend();
            let losses = run.losses_and_clearing(&bad_by_protocol, params, base);
            let round_out = run.withdrawals();
            let rounds = detail.then_some(&mut out.rounds);
            if !run.close_round(round, losses, round_out, rounds) {
                break;
            }
            if round >= params.max_rounds {
                out.converged = false;
                break;
            }
        }
        run.totals_into(base, &mut out);
        run.realized_into(x, &mut out);
        if detail {
            run.detail_into(&mut out);
        }
        out
    }
}

fn default_costs(sys: &System<'_>, e: &[f64], c: &Clearing) -> f64 {
    (0..sys.network.len())
        .filter(|&p| c.defaulted(p))
        .map(|p| (e[p] + c.received[p] - c.payments[p]).max(0.0))
        .sum()
}

/// What an asset's backing is still worth, as a ratio: `Σ share × fundamental(backing)` plus the
/// unbacked share at par.
fn backing_worth(s: &FailScratch, m: &ringfence_model::Model, a: usize) -> f64 {
    let (mut backed, mut share) = (0.0, 0.0);
    for &(b, sh) in &m.assets[a].backing {
        backed += sh * fundamental(s, m, b);
        share += sh;
    }
    backed + (1.0 - share).max(0.0)
}

/// Fundamental value ratio of an asset: `(1 − own) × what its backing is worth`, no fire sales.
fn fundamental(s: &FailScratch, m: &ringfence_model::Model, a: usize) -> f64 {
    // `dep` is `max(own, inherited)`; the fundamental ratio multiplies instead, so recompute
    // along the backing (backing graphs are shallow and acyclic).
    ((1.0 - s.own[a]) * backing_worth(s, m, a)).clamp(0.0, 1.0)
}
