//! Sparse claim networks: who owes whom, stored both by debtor (CSR) and by creditor (CSC) so that
//! clearing and DebtRank touch only the edges that exist. Nothing here is ever `n × n`.
//!
//! Conventions follow the reference page: `L[i][j]` is what node `i` owes node `j`,
//! `pbar_i = Σ_j L[i][j] + external_liabilities_i`, and `e_i` are the external assets.

use crate::error::{Error, Result, check_amount};

/// How a node's external liabilities rank against its network debts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Seniority {
    /// External and network creditors share losses pro rata (Eisenberg–Noe's convention).
    #[default]
    PariPassu,
    /// External creditors are paid in full before any network creditor receives anything.
    Senior,
}

/// An immutable sparse claim network with per-node external assets and liabilities.
///
/// Amounts are USD in `f64`: the engines are analytics over published figures, not ledgers, and
/// `f64` keeps ~15 significant digits, far beyond the precision of any input.
#[derive(Debug, Clone)]
pub struct ClaimNetwork {
    n: usize,
    /// CSR by debtor: out-edges of `i` are `out_start[i]..out_start[i + 1]`.
    out_start: Vec<u32>,
    out_creditor: Vec<u32>,
    out_amount: Vec<f64>,
    /// CSC by creditor: in-edges of `j` are `in_start[j]..in_start[j + 1]`.
    in_start: Vec<u32>,
    in_debtor: Vec<u32>,
    in_amount: Vec<f64>,
    /// Share of the debtor's network payout that goes to this creditor (`L[i][j] / Σ_k L[i][k]`),
    /// aligned with the CSC arrays.
    in_share: Vec<f64>,
    network_liabilities: Vec<f64>,
    external_assets: Vec<f64>,
    external_liabilities: Vec<f64>,
    seniority: Vec<Seniority>,
}

/// Collects claims and per-node figures, then builds a [`ClaimNetwork`]. Duplicate claims between
/// the same pair are summed.
#[derive(Debug, Clone)]
pub struct ClaimNetworkBuilder {
    n: usize,
    edges: Vec<(u32, u32, f64)>,
    external_assets: Vec<f64>,
    external_liabilities: Vec<f64>,
    seniority: Vec<Seniority>,
}

impl ClaimNetworkBuilder {
    /// A builder for `n` nodes with no claims and zero external figures.
    pub fn new(n: usize) -> Self {
        Self {
            n,
            edges: Vec::new(),
            external_assets: vec![0.0; n],
            external_liabilities: vec![0.0; n],
            seniority: vec![Seniority::PariPassu; n],
        }
    }

    /// Reserve room for `m` claims.
    pub fn with_capacity(mut self, m: usize) -> Self {
        self.edges.reserve(m);
        self
    }

    fn check_node(&self, index: usize) -> Result<()> {
        if index < self.n {
            Ok(())
        } else {
            Err(Error::NodeOutOfRange { index, len: self.n })
        }
    }

    /// `debtor` owes `creditor` `amount` USD.
    pub fn claim(&mut self, debtor: usize, creditor: usize, amount: f64) -> Result<&mut Self> {
        self.check_node(debtor)?;
        self.check_node(creditor)?;
        if debtor == creditor {
            return Err(Error::SelfClaim(debtor));
        }
        check_amount(|| format!("claim {debtor} -> {creditor}"), amount)?;
        if amount > 0.0 {
            self.edges.push((debtor as u32, creditor as u32, amount));
        }
        Ok(self)
    }

    /// Set a node's external assets.
    pub fn external_assets(&mut self, node: usize, amount: f64) -> Result<&mut Self> {
        self.check_node(node)?;
        self.external_assets[node] = check_amount(|| format!("external assets of {node}"), amount)?;
        Ok(self)
    }

    /// Set a node's external liabilities and their seniority.
    pub fn external_liabilities(
        &mut self,
        node: usize,
        amount: f64,
        seniority: Seniority,
    ) -> Result<&mut Self> {
        self.check_node(node)?;
        self.external_liabilities[node] =
            check_amount(|| format!("external liabilities of {node}"), amount)?;
        self.seniority[node] = seniority;
        Ok(self)
    }

    /// Build the network.
    pub fn build(self) -> Result<ClaimNetwork> {
        if self.n >= u32::MAX as usize {
            return Err(Error::NodeOutOfRange {
                index: self.n,
                len: u32::MAX as usize,
            });
        }
        let n = self.n;
        // Sort by (debtor, creditor), stably (duplicates are summed in the order given), and
        // merge duplicates: a counting sort by debtor, then each debtor's few claims by creditor
        // — linear in claims, where a comparison sort of 500,000 claims was half the set-up.
        let mut start = vec![0u32; n + 1];
        for &(i, _, _) in &self.edges {
            start[i as usize + 1] += 1;
        }
        for k in 0..n {
            start[k + 1] += start[k];
        }
        let sorted = if self.edges.is_sorted_by_key(|e| e.0) {
            // Already grouped by debtor (tables usually are): no scatter needed.
            self.edges
        } else {
            let mut sorted = vec![(0u32, 0u32, 0.0f64); self.edges.len()];
            let mut fill = start.clone();
            for &e in &self.edges {
                let slot = &mut fill[e.0 as usize];
                sorted[*slot as usize] = e;
                *slot += 1;
            }
            sorted
        };
        let mut sorted = sorted;
        for k in 0..n {
            sorted[start[k] as usize..start[k + 1] as usize].sort_by_key(|e| e.1);
        }
        let mut merged: Vec<(u32, u32, f64)> = Vec::with_capacity(sorted.len());
        for (i, j, a) in sorted {
            match merged.last_mut() {
                Some(last) if last.0 == i && last.1 == j => last.2 += a,
                _ => merged.push((i, j, a)),
            }
        }
        let m = merged.len();
        let mut out_start = vec![0u32; n + 1];
        let mut in_count = vec![0u32; n + 1];
        let mut network_liabilities = vec![0.0; n];
        for &(i, j, a) in &merged {
            out_start[i as usize + 1] += 1;
            in_count[j as usize + 1] += 1;
            network_liabilities[i as usize] += a;
        }
        for k in 0..n {
            out_start[k + 1] += out_start[k];
            in_count[k + 1] += in_count[k];
        }
        let in_start = in_count.clone();
        let mut fill = in_count;
        let out_creditor: Vec<u32> = merged.iter().map(|e| e.1).collect();
        let out_amount: Vec<f64> = merged.iter().map(|e| e.2).collect();
        let mut in_debtor = vec![0u32; m];
        let mut in_amount = vec![0.0; m];
        let mut in_share = vec![0.0; m];
        for &(i, j, a) in &merged {
            let slot = fill[j as usize] as usize;
            fill[j as usize] += 1;
            in_debtor[slot] = i;
            in_amount[slot] = a;
            let total = network_liabilities[i as usize];
            in_share[slot] = if total > 0.0 { a / total } else { 0.0 };
        }
        Ok(ClaimNetwork {
            n,
            out_start,
            out_creditor,
            out_amount,
            in_start,
            in_debtor,
            in_amount,
            in_share,
            network_liabilities,
            external_assets: self.external_assets,
            external_liabilities: self.external_liabilities,
            seniority: self.seniority,
        })
    }
}

impl ClaimNetwork {
    /// Build from a dense liability matrix (`l[i][j]` = what `i` owes `j`), for small published
    /// examples. External liabilities are pari passu.
    pub fn from_dense(
        l: &[Vec<f64>],
        external_assets: &[f64],
        external_liabilities: &[f64],
    ) -> Result<Self> {
        let n = l.len();
        for (what, v) in [
            ("external_assets", external_assets.len()),
            ("external_liabilities", external_liabilities.len()),
        ] {
            if v != n {
                return Err(Error::LengthMismatch {
                    what,
                    got: v,
                    expected: n,
                });
            }
        }
        let mut b = ClaimNetworkBuilder::new(n);
        for (i, row) in l.iter().enumerate() {
            if row.len() != n {
                return Err(Error::LengthMismatch {
                    what: "liability matrix row",
                    got: row.len(),
                    expected: n,
                });
            }
            for (j, &a) in row.iter().enumerate() {
                if i != j {
                    b.claim(i, j, a)?;
                } else if a != 0.0 {
                    return Err(Error::SelfClaim(i));
                }
            }
            b.external_assets(i, external_assets[i])?;
            b.external_liabilities(i, external_liabilities[i], Seniority::PariPassu)?;
        }
        b.build()
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.n
    }

    /// Whether the network has no nodes.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Number of (merged) claims.
    pub fn claim_count(&self) -> usize {
        self.out_creditor.len()
    }

    /// External assets `e`.
    pub fn external_assets(&self) -> &[f64] {
        &self.external_assets
    }

    /// External liabilities.
    pub fn external_liabilities(&self) -> &[f64] {
        &self.external_liabilities
    }

    /// Seniority of each node's external liabilities.
    pub fn seniority(&self) -> &[Seniority] {
        &self.seniority
    }

    /// What each node owes the network, `Σ_j L[i][j]`.
    pub fn network_liabilities(&self) -> &[f64] {
        &self.network_liabilities
    }

    /// Total obligations `pbar_i`.
    pub fn total_liabilities(&self, i: usize) -> f64 {
        self.network_liabilities[i] + self.external_liabilities[i]
    }

    /// What each node is owed by the network, `Σ_j L[j][i]` (nominal).
    pub fn network_receivable(&self, i: usize) -> f64 {
        self.in_range(i).map(|k| self.in_amount[k]).sum()
    }

    /// The claims of debtor `i`: `(creditor, amount)`.
    pub fn claims_of(&self, i: usize) -> impl Iterator<Item = (usize, f64)> + '_ {
        let r = self.out_start[i] as usize..self.out_start[i + 1] as usize;
        r.map(move |k| (self.out_creditor[k] as usize, self.out_amount[k]))
    }

    /// The claims held by creditor `j`: `(debtor, amount)`.
    pub fn claims_on(&self, j: usize) -> impl Iterator<Item = (usize, f64)> + '_ {
        self.in_range(j)
            .map(move |k| (self.in_debtor[k] as usize, self.in_amount[k]))
    }

    pub(crate) fn in_range(&self, j: usize) -> std::ops::Range<usize> {
        self.in_start[j] as usize..self.in_start[j + 1] as usize
    }

    pub(crate) fn in_edge(&self, k: usize) -> (usize, f64) {
        (self.in_debtor[k] as usize, self.in_share[k])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_duplicates_and_indexes_both_ways() {
        let mut b = ClaimNetworkBuilder::new(3);
        b.claim(0, 1, 1.0).expect("valid input");
        b.claim(0, 1, 2.0).expect("valid input");
        b.claim(2, 1, 4.0).expect("valid input");
        b.claim(0, 2, 1.0).expect("valid input");
        let net = b.build().expect("valid input");
        assert_eq!(net.claim_count(), 3);
        assert_eq!(
            net.claims_of(0).collect::<Vec<_>>(),
            vec![(1, 3.0), (2, 1.0)]
        );
        assert_eq!(
            net.claims_on(1).collect::<Vec<_>>(),
            vec![(0, 3.0), (2, 4.0)]
        );
        assert_eq!(net.network_liabilities(), &[4.0, 0.0, 4.0]);
        assert_eq!(net.network_receivable(1), 7.0);
    }

    #[test]
    fn rejects_bad_input() {
        let mut b = ClaimNetworkBuilder::new(2);
        assert!(matches!(
            b.claim(0, 2, 1.0),
            Err(Error::NodeOutOfRange { .. })
        ));
        assert!(matches!(b.claim(1, 1, 1.0), Err(Error::SelfClaim(1))));
        assert!(matches!(
            b.claim(0, 1, f64::NAN),
            Err(Error::InvalidAmount { .. })
        ));
        assert!(matches!(
            b.external_assets(0, -1.0),
            Err(Error::InvalidAmount { .. })
        ));
        assert!(ClaimNetwork::from_dense(&[vec![0.0, 1.0]], &[0.0], &[0.0]).is_err());
    }
}
