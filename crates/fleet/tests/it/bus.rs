//! Leases, claims and fenced appends against a real three-node JetStream cluster.

use std::time::{Duration, Instant};

use ringfence_fleet::bus::{self as b, Bus, BusOptions};
use ringfence_fleet::claim::{self, Claim, ClaimState, ClaimStep};
use ringfence_fleet::lease::{self, Lease, LeaseStep};
use ringfence_fleet::testing::Nats;

fn opts(ttl: Duration, replicas: usize) -> BusOptions {
    BusOptions {
        replicas,
        lease_ttl: ttl,
        ready_within: Duration::from_secs(30),
    }
}

fn lease_of(m: &str) -> Lease {
    Lease {
        v: 1,
        member: m.into(),
        config: "c".into(),
    }
}

fn claim_of(m: &str, alert: &str, state: ClaimState) -> Claim {
    Claim {
        v: 1,
        alert: alert.into(),
        member: m.into(),
        state,
    }
}

/// A three-node cluster and two members on it, "a" and "b", whose leases live `ttl`.
async fn two_members(ttl: Duration) -> (Nats, Bus, Bus) {
    let nats = Nats::cluster().expect("nats-server: run scripts/setup-nats.sh");
    let a = Bus::connect(&nats.urls(), "a", &opts(ttl, 3))
        .await
        .expect("bus");
    let bb = Bus::connect(&nats.urls(), "b", &opts(ttl, 3))
        .await
        .expect("bus");
    (nats, a, bb)
}

/// A lease is held while renewed, taken over within its TTL once its holder stops, and the old
/// holder's renewal is then refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lease_is_taken_over_within_its_ttl_once_its_holder_stops_renewing() {
    let ttl = Duration::from_secs(2);
    let (_nats, a, bb) = two_members(ttl).await;
    let key = lease::ingest_key("dst");
    let mut rev = b::create(&a.leases, &key, &lease_of("a"))
        .await
        .expect("create")
        .expect("an absent lease is created");
    assert_eq!(
        b::create(&bb.leases, &key, &lease_of("b"))
            .await
            .expect("create"),
        None,
        "a held lease cannot be created again"
    );
    // Renewed for two TTLs: b never gets it.
    let t = Instant::now();
    while t.elapsed() < ttl * 2 {
        let cur = b::entry::<Lease>(&bb.leases, &key).await.expect("read");
        assert_eq!(
            lease::decide("b", cur),
            LeaseStep::HeldBy { member: "a".into() }
        );
        rev = b::update(&a.leases, &key, &lease_of("a"), rev)
            .await
            .expect("renew")
            .expect("the holder renews its revision");
        tokio::time::sleep(ttl / 4).await;
    }
    // a stops renewing (dies); b polls as a member does.
    let stopped = Instant::now();
    loop {
        let cur = b::entry::<Lease>(&bb.leases, &key).await.expect("read");
        if lease::decide("b", cur) == LeaseStep::Acquire
            && b::create(&bb.leases, &key, &lease_of("b"))
                .await
                .expect("create")
                .is_some()
        {
            break;
        }
        assert!(stopped.elapsed() < ttl * 3, "lease not taken over");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let took = stopped.elapsed();
    eprintln!(
        "LEASE TAKEOVER {took:?} after the holder stopped (TTL {ttl:?}, renewed every TTL/4)"
    );
    assert!(
        took >= ttl / 2,
        "taken over in {took:?}: before the lease could expire"
    );
    assert_eq!(
        b::update(&a.leases, &key, &lease_of("a"), rev)
            .await
            .expect("cas"),
        None,
        "the old holder's renewal is refused"
    );
}

/// Two members racing to claim the same alerts: each is claimed by exactly one. A stalled claim
/// is taken over by one of two members that try at once; a sent one by none. Then a whole node
/// is killed and claims still work.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_two_racing_members_exactly_one_claims_each_alert() {
    let ttl = Duration::from_secs(3);
    let (mut nats, a, bb) = two_members(ttl).await;
    let ids: Vec<String> = (0..40)
        .map(|i| format!("wbtc-messages-dst-{i}-0xabc-{i}"))
        .collect();
    let race = |bus: Bus, me: &'static str, ids: Vec<String>| {
        tokio::spawn(async move {
            let mut won = Vec::new();
            for id in ids {
                let c = claim_of(me, &id, ClaimState::Claimed);
                if b::create(&bus.claims, &claim::key(&id), &c)
                    .await
                    .expect("claim")
                    .is_some()
                {
                    won.push(id);
                }
            }
            won
        })
    };
    let (wa, wb) = (
        race(a.clone(), "a", ids.clone()),
        race(bb.clone(), "b", ids.clone()),
    );
    let (wa, wb) = (wa.await.expect("task"), wb.await.expect("task"));
    // Read back as members do: of the creates that went through, each alert is held by one.
    let mut held = 0;
    for id in &ids {
        let key = claim::key(id);
        let (oa, ob) = tokio::join!(
            b::still_ours(&a.claims, &key, "a", Duration::ZERO),
            b::still_ours(&bb.claims, &key, "b", Duration::ZERO),
        );
        let (oa, ob) = (oa.expect("read"), ob.expect("read"));
        assert!(!(oa && ob), "{id} held by both");
        assert!(
            !oa || wa.contains(id),
            "{id}: a holds a claim it did not create"
        );
        assert!(
            !ob || wb.contains(id),
            "{id}: b holds a claim it did not create"
        );
        held += usize::from(oa || ob);
    }
    assert_eq!(held, ids.len(), "every alert claimed");
    if wa.len() + wb.len() > ids.len() {
        eprintln!(
            "CAS RACE: {} creates of {} went through twice",
            wa.len() + wb.len() - ids.len(),
            ids.len()
        );
    }

    // A claim left `claimed` (its holder died): both a and b see it stalled; one takes it.
    let id = "stalled";
    let key = claim::key(id);
    b::create(&a.claims, &key, &claim_of("dead", id, ClaimState::Claimed))
        .await
        .expect("claim")
        .expect("created");
    let t = Duration::from_secs(10);
    let cur = b::entry::<Claim>(&a.claims, &key).await.expect("read");
    let ClaimStep::Take { revision } = claim::decide(cur, t, t) else {
        panic!("a stalled claim is taken over")
    };
    let (ca, cb) = (
        claim_of("a", id, ClaimState::Claimed),
        claim_of("b", id, ClaimState::Claimed),
    );
    let (ta, tb) = tokio::join!(
        b::update(&a.claims, &key, &ca, revision),
        b::update(&bb.claims, &key, &cb, revision),
    );
    let (ta, tb) = (ta.expect("cas"), tb.expect("cas"));
    assert!(ta.is_some() || tb.is_some(), "one takes it over");
    if ta.is_some() && tb.is_some() {
        // nats-server 2.9.10 on a replicated bucket: both compare-and-sets went through.
        eprintln!("CAS RACE: both writes with revision {revision} succeeded: {ta:?} {tb:?}");
    }
    // What members go by: the claim read back after the settle time. Exactly one holds it.
    let (oa, ob) = tokio::join!(
        b::still_ours(&a.claims, &key, "a", b::SETTLE),
        b::still_ours(&bb.claims, &key, "b", b::SETTLE),
    );
    let (oa, ob) = (oa.expect("read back"), ob.expect("read back"));
    assert!(oa != ob, "exactly one member goes on: a {oa}, b {ob}");
    let (winner, rev) = if oa {
        (&a, ta.expect("a wrote"))
    } else {
        (&bb, tb.expect("b wrote"))
    };
    b::update(
        &winner.claims,
        &key,
        &claim_of("w", id, ClaimState::Sent),
        rev,
    )
    .await
    .expect("cas")
    .expect("settled");
    let cur = b::entry::<Claim>(&bb.claims, &key).await.expect("read");
    assert_eq!(claim::decide(cur, t * 100, t), ClaimStep::Leave);

    // One node of three killed: the buckets (three replicas) keep answering.
    nats.kill(0);
    let t0 = Instant::now();
    let id = "after-a-node-died";
    let created = claim_retrying(&bb.claims, "b", id, t0).await;
    assert!(created.is_some());
    let again = claim_retrying(&a.claims, "a", id, t0).await;
    assert_eq!(again, None, "still claimed once with a node down");
    eprintln!("NODE KILLED: claims answer again after {:?}", t0.elapsed());
}

/// An append that expects another last sequence of the subject (a member that lost the chain's
/// lease) is refused; the log keeps one writer per chain.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn appends_are_fenced_by_the_subjects_last_sequence() {
    let nats = Nats::single().expect("nats-server: run scripts/setup-nats.sh");
    let bus = Bus::connect(&nats.urls(), "a", &opts(Duration::from_secs(3), 1))
        .await
        .expect("bus");
    let s = "ringfence.blocks.dst";
    let s1 = bus
        .append(s, b"one".to_vec(), 0)
        .await
        .expect("append")
        .expect("first append");
    assert_eq!(
        bus.append(s, b"two".to_vec(), 0).await.expect("append"),
        None
    );
    let s2 = bus
        .append(s, b"two".to_vec(), s1)
        .await
        .expect("append")
        .expect("continues the log");
    // Another chain's subject has its own sequence.
    assert!(
        bus.append("ringfence.blocks.src", b"x".to_vec(), 0)
            .await
            .expect("append")
            .is_some()
    );
    assert_eq!(
        bus.last(s).await.expect("last"),
        Some((s2, b"two".to_vec()))
    );
    assert_eq!(bus.last("ringfence.blocks.none").await.expect("last"), None);
}

/// `member` claims `id` (`b::create`: the revision, or `None` when already claimed), retried
/// while the bus does not answer (a node just died), for 20 s from `t0` at most.
async fn claim_retrying(
    claims: &async_nats::jetstream::kv::Store,
    member: &str,
    id: &str,
    t0: Instant,
) -> Option<u64> {
    loop {
        match b::create(
            claims,
            &claim::key(id),
            &claim_of(member, id, ClaimState::Claimed),
        )
        .await
        {
            Ok(r) => return r,
            Err(e) => {
                assert!(
                    t0.elapsed() < Duration::from_secs(20),
                    "{member}'s claim got no answer after a node died: {e}"
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
}
