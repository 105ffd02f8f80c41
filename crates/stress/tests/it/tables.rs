//! The CSV path at scale: a synthetic network written as `protocols.csv` and `claims.csv`, read
//! the way `ringfence stress --protocols --claims` reads it (tables over 1 MB, so in chunks on
//! every core), clears exactly as the same network handed to the engine directly.

use ringfence_model::Model;
use ringfence_stress::columnar::{Table, add_tables};
use ringfence_stress::report::{LIST_EVERY_PROTOCOL_UP_TO, Scenario};
use ringfence_stress::{Clearing, ClearingParams, System};

#[test]
fn a_synthetic_network_from_csv_clears_exactly_as_the_engine() {
    let s = ringfence_stress::synth::random_network(20_000, 5, 0.1, 7);
    let g = &s.network;
    let mut protocols =
        String::from("id,kind,chain,external_assets_usd,external_liabilities_usd\n");
    let mut claims = String::from("debtor,creditor,amount_usd\n");
    for i in 0..g.len() {
        protocols += &format!(
            "p{i},vault,ethereum,{},{}\n",
            s.shocked_assets[i],
            g.external_liabilities()[i]
        );
        for (j, a) in g.claims_of(i) {
            claims += &format!("p{i},p{j},{a}\n");
        }
    }
    assert!(claims.len() > 1 << 20 && protocols.len() > 1 << 20);
    let mut model = Model::from_str("chain.toml", "[[chain]]\nid = \"ethereum\"\nchain_id = 1\n")
        .expect("valid");
    let (np, nc) = add_tables(
        &mut model,
        Some(Table {
            label: "protocols.csv",
            bytes: protocols.as_bytes(),
        }),
        Some(Table {
            label: "claims.csv",
            bytes: claims.as_bytes(),
        }),
    )
    .expect("valid tables");
    assert_eq!((np, nc), (g.len(), g.claim_count()));

    let mut want = Clearing::default();
    g.clear_into(
        &s.shocked_assets,
        &ClearingParams::eisenberg_noe(),
        &mut want,
    )
    .expect("right length");
    assert!(want.waves > 1, "a cascade");

    let sys = System::new(&model).expect("stress-ready");
    let mut report = sys.report(&Scenario::default(), &|_| {}).expect("runs");
    let all = report.outcome.protocols.clone();
    assert_eq!(all.len(), g.len());
    for (i, p) in all.iter().enumerate() {
        assert_eq!(p.clearing_payment_usd, want.payments[i], "{}", p.id);
        assert_eq!(p.defaulted, want.defaulted(i), "{}", p.id);
        assert_eq!(p.wave, want.wave[i], "{}", p.id);
    }
    // The long report lists the defaulted ones and sums the rest to the same total.
    assert!(all.len() > LIST_EVERY_PROTOCOL_UP_TO);
    report.only_touched_protocols();
    let o = &report.outcome;
    let left = o.protocols_left_out.expect("summarised");
    assert_eq!(o.protocols.len(), want.defaulted_nodes().len());
    assert_eq!(left.left_out + o.protocols.len(), g.len());
    let total: f64 = o
        .protocols
        .iter()
        .map(|p| p.clearing_payment_usd)
        .sum::<f64>()
        + left.clearing_payment_usd;
    let expected: f64 = want.payments.iter().sum();
    assert!(
        (total - expected).abs() <= 1e-9 * expected,
        "{total} vs {expected}"
    );
}
