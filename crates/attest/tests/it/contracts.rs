//! The verifier contract and the attested gateway on anvil, with signatures from the Rust signer.

use alloy::primitives::{Address, B256, Bytes, U256};
use alloy::providers::Provider;
use ringfence_attest::attestation::{attestation, domain, route_id, signing_hash};
use ringfence_attest::{Attestation, AttestorKey};

use crate::chains::*;

fn keys() -> Vec<AttestorKey> {
    let mut k: Vec<AttestorKey> = ATTESTOR_KEYS[..3]
        .iter()
        .map(|h| AttestorKey::from_hex("TEST", h).expect("key"))
        .collect();
    k.sort_by_key(AttestorKey::address);
    k
}

fn sigs(keys: &[&AttestorKey], a: &Attestation, d: &alloy::sol_types::Eip712Domain) -> Vec<Bytes> {
    let mut s: Vec<(Address, Bytes)> = keys
        .iter()
        .map(|k| {
            let s = k.sign(a, d).expect("sign");
            (s.signer, s.signature)
        })
        .collect();
    s.sort_by_key(|(a, _)| *a);
    s.into_iter().map(|(_, b)| b).collect()
}

// Kept long: one verifier contract taken through every way a delivery can fail, in order, on one chain.
#[tokio::test]
async fn k_attestations_execute_and_nothing_less_does() {
    let dst = Anvil::spawn(4242, None).expect("anvil");
    let admin = dst.as_account(0);
    let relayer = dst.as_account(1);
    let keys = keys();
    let addrs: Vec<Address> = keys.iter().map(AttestorKey::address).collect();
    let route = route_id("lab");
    let d = deploy_destination(&admin, &addrs, 2, 3600, route, 1).await;
    let dom = domain(4242, d.verifier);
    let user = Address::repeat_byte(0x77);
    let amount = U256::from(10u64).pow(U256::from(24u64)); // 1,000,000 tokens of 18 decimals
    let id = B256::repeat_byte(0x01);
    request(&relayer, d.gateway, id, amount, user).await;
    let a = attestation(
        route,
        1,
        B256::repeat_byte(0xcc),
        3,
        id,
        ASSET,
        amount,
        user,
    );

    // The contract's digest is the Rust signer's.
    let v = IVerifier::new(d.verifier, &admin);
    assert_eq!(
        v.digest(to_sol(&a)).call().await.expect("digest"),
        signing_hash(&a, &dom)
    );

    // k-1 signatures revert.
    let e = deliver(&relayer, d.gateway, &a, sigs(&[&keys[0]], &a, &dom))
        .await
        .expect_err("k-1");
    assert!(e.contains("too few attestations"), "{e}");
    // The same attestor twice is one attestor.
    let one = sigs(&[&keys[1]], &a, &dom);
    let e = deliver(
        &relayer,
        d.gateway,
        &a,
        vec![one[0].clone(), one[0].clone()],
    )
    .await
    .expect_err("dup");
    assert!(e.contains("not ascending or repeated"), "{e}");
    // Signatures by keys outside the set (an attacker's) do not count.
    let outsider = AttestorKey::from_hex("TEST", ATTESTOR_KEYS[3]).expect("key");
    let e = deliver(
        &relayer,
        d.gateway,
        &a,
        sigs(&[&keys[0], &outsider], &a, &dom),
    )
    .await
    .expect_err("outsider");
    assert!(e.contains("not an attestor"), "{e}");
    // Signatures over another amount, recipient or domain do not verify this message.
    let mut more = a.clone();
    more.amount += U256::from(1u64);
    let e = deliver(
        &relayer,
        d.gateway,
        &more,
        sigs(&[&keys[0], &keys[1]], &more, &dom),
    )
    .await
    .expect_err("amount");
    assert!(e.contains("no matching request"), "{e}");
    let other_domain = domain(4242, Address::repeat_byte(1));
    let e = deliver(
        &relayer,
        d.gateway,
        &a,
        sigs(&[&keys[0], &keys[1]], &a, &other_domain),
    )
    .await
    .expect_err("domain");
    assert!(
        e.contains("not an attestor") || e.contains("ascending"),
        "{e}"
    );

    // A forged delivery with no request at all can never execute, whatever is signed.
    let forged = attestation(
        route,
        1,
        B256::repeat_byte(0xdd),
        0,
        B256::repeat_byte(0x66),
        ASSET,
        amount,
        user,
    );
    let e = deliver(
        &relayer,
        d.gateway,
        &forged,
        sigs(&keys.iter().collect::<Vec<_>>(), &forged, &dom),
    )
    .await
    .expect_err("forged");
    assert!(e.contains("no matching request"), "{e}");

    // k signatures from the Rust signer: executes, once.
    deliver(
        &relayer,
        d.gateway,
        &a,
        sigs(&[&keys[0], &keys[2]], &a, &dom),
    )
    .await
    .expect("k of n");
    let bal = IToken::new(d.token, &admin)
        .balanceOf(user)
        .call()
        .await
        .expect("balance");
    assert_eq!(bal, amount);
    let e = deliver(
        &relayer,
        d.gateway,
        &a,
        sigs(&[&keys[0], &keys[1]], &a, &dom),
    )
    .await
    .expect_err("replay");
    assert!(e.contains("already delivered"), "{e}");
}

#[tokio::test]
async fn the_attestor_set_changes_only_through_the_timelock() {
    let dst = Anvil::spawn(4243, None).expect("anvil");
    let admin = dst.as_account(0);
    let keys = keys();
    let addrs: Vec<Address> = keys.iter().map(AttestorKey::address).collect();
    let d = deploy_destination(&admin, &addrs, 2, 3600, route_id("lab"), 1).await;
    let v = IVerifier::new(d.verifier, &admin);
    let attacker = Address::repeat_byte(0xee);
    // Only the admin may propose.
    let stranger = IVerifier::new(d.verifier, dst.as_account(2));
    let e = stranger
        .proposeAttestorSet(vec![attacker], U256::from(1u64))
        .call()
        .await
        .expect_err("stranger");
    assert!(e.to_string().contains("not admin"), "{e}");
    // The admin proposes a 1-of-1 set of its own: nothing changes before the timelock.
    let r = mined!(
        v.proposeAttestorSet(vec![attacker], U256::from(1u64)),
        "propose"
    );
    assert!(r.status());
    let e = v.executeAttestorSet().call().await.expect_err("early");
    assert!(e.to_string().contains("timelock not passed"), "{e}");
    assert_eq!(v.threshold().call().await.expect("k"), U256::from(2u64));
    assert!(!v.isAttestor(attacker).call().await.expect("is"));
    // After the delay anyone may execute it (the limit the README states: a compromised admin
    // replaces the set through the timelock; the attestors refuse while it is pending).
    admin
        .raw_request::<_, serde_json::Value>("evm_increaseTime".into(), (3601u64,))
        .await
        .expect("time");
    admin
        .raw_request::<_, serde_json::Value>("evm_mine".into(), ())
        .await
        .expect("mine");
    let r = mined!(v.executeAttestorSet(), "execute");
    assert!(r.status());
    assert!(v.isAttestor(attacker).call().await.expect("is"));
    assert!(!v.isAttestor(addrs[0]).call().await.expect("is"));
}
