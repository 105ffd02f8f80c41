//! The replay runner: one scenario, six arms, each on fresh anvil chains.
//!
//! 1. `no-controls`: the steps as real transactions, nothing in the way.
//! 2. `guard`: the off-chain guard — the very daemon of `ringfence watch` ([`Watcher`]: ingest,
//!    decode, engine, store, actions) started on the arm's chains with the guard config the
//!    policy generates — whose actions (the guardian's pause, a cancel) are the ones that config
//!    names. They land in the block after the one that tripped them (sent first in that block:
//!    the chains order transactions first come, first served).
//! 3. `limits`: the on-chain limits alone, no guard (the ablation of arm 4).
//! 4. `guard-and-limits`: the same guard, with the on-chain limits of the policy on the gateway
//!    (token bucket, delay queue) and the guard cancelling queued transfers it flags.
//! 5. `verifier`: the guard, and ringfence as a verifier the gateway requires — k of n attestors
//!    ([`ringfence_attest::run::Attestor`], the code of `ringfence attest`), each reading both
//!    chains through its own quorum of RPC endpoints (real proxies in front of anvil, which lie
//!    for `rpc = "poisoned"` steps). A message is posted with `request`, and paid only with k
//!    attestations through `deliverAttested`. No queue, no bucket.
//! 6. `all`: the guard, the limits and the verifier.
//!
//! Block timestamps follow the steps' `t_s` (`evm_setNextBlockTimestamp` + `evm_mine` on chains
//! started with automine off after setup), so hours replay in seconds; steps with the same `t_s`
//! share a block. A step's source lock or burn (if any) is mined at the same timestamp on the
//! source chain, which the guard reads first.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use alloy::network::TransactionBuilder;
use alloy::primitives::{Address, B256, Bytes, U256, keccak256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::{TransactionReceipt, TransactionRequest};
use alloy::sol;
use alloy::sol_types::{SolCall, SolEvent, SolValue};
use ringfence_attest::config::{AttestorConfig, ChainConfig, EndConfig, RouteConfig};
use ringfence_attest::run::Attestor;
use ringfence_attest::store::Store as AttestStore;
use ringfence_attest::{AttestorKey, attestation::route_id};
use ringfence_chain::{Committed, WatchOptions, Watcher};
use ringfence_guard::document::{
    ActionDoc, Amount, BackingDoc, BridgeDoc, CancelDoc, ChainDoc, EndDoc, GuardDocument,
    MatchItem, MessageMatchDoc, MintRateDoc, OutflowRateDoc, PauseDoc, PrivilegedDoc, Rpc, RuleDoc,
    StoreDoc, Text, TokenDoc, kind, plain,
};
use ringfence_guard::{AlertRecord, FieldTolerance, GuardSpec, Severity};
use ringfence_quorum::RedactedUrl;
use ringfence_quorum::testing::{Lie, LyingProxy};
use tokio::sync::{mpsc, oneshot};

use crate::anvil::Anvil;
use crate::error::{Error, Result, rpc};
use crate::policy::{GuardPolicy, PAUSING_KINDS, Policy, VerifierPolicy};
use crate::report::{ArmReport, FirstTrip, ReplayReport, TripRecord};
use crate::scenario::{AdminAction, Scenario, StepKind};

sol! {
    interface ILabSource {
        function setRoute(bytes32 asset, address token, bool burn_) external;
        function send(bytes32 id, bytes32 asset, uint256 amount, address recipient) external;
        function sendUnlocked(bytes32 id, bytes32 asset, uint256 amount, address recipient) external;
    }

    interface ILabGateway {
        event Delivered(bytes32 indexed id, bytes32 asset, uint256 amount, address recipient, bytes32 queueId, bool queued);
        function setRoute(bytes32 asset, address token, bool mints) external;
        function configureBucket(bytes32 asset, uint256 capacity, uint256 ratePerSecond) external;
        function configureDelay(bytes32 asset, uint256 threshold, uint64 delay) external;
        function setGuardian(address account, bool enabled) external;
        function deliver(bytes32 id, bytes32 asset, uint256 amount, address recipient) external;
        function execute(bytes32 queueId) external;
        function cancel(bytes32 queueId) external;
        function pause() external;
        function unpause() external;
        function requireAttestations(address v, bytes32 route, uint256 srcChain) external;
        function request(bytes32 id, bytes32 asset, uint256 amount, address recipient) external;
    }

    interface ILabVerifier {
        function proposeAttestorSet(address[] attestors_, uint256 threshold_) external;
        function executeAttestorSet() external;
    }

    interface ILabToken {
        function mint(address to, uint256 amount) external;
        function grantRole(bytes32 role, address account) external;
        function approve(address spender, uint256 amount) external returns (bool);
        function totalSupply() external view returns (uint256);
        function balanceOf(address who) external view returns (uint256);
    }
}

/// The `Sent` event of `LabSource`, as the guard config names it.
pub const SOURCE_EVENT: &str =
    "Sent(bytes32 indexed id, bytes32 asset, uint256 amount, address recipient)";
/// The `Requested` event of `LabGateway`: the destination message the attestors check.
pub const REQUEST_EVENT: &str =
    "Requested(bytes32 indexed id, bytes32 asset, uint256 amount, address recipient)";
/// `deliverAttested((bytes32,uint256,bytes32,uint256,bytes32,bytes32,uint256,address),bytes[])`.
const DELIVER_ATTESTED: &str =
    "deliverAttested((bytes32,uint256,bytes32,uint256,bytes32,bytes32,uint256,address),bytes[])";
/// The route id the lab's attestations name (its keccak256).
const ROUTE: &str = "lab";
/// Blocks a verifier-arm message waits for k attestations beyond the confirmation depth before
/// the relayer tries with what it has (and the gateway refuses it).
const ATTEST_PATIENCE_BLOCKS: u64 = 3;
/// Anvil's development account #4, the lab's attacker (public test key): it signs its own
/// attestations once it has made itself the verifier set.
const ATTACKER_KEY: &str = "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a";
/// The `Delivered` event of `LabGateway`, as the guard config names it.
pub const DESTINATION_EVENT: &str = "Delivered(bytes32 indexed id, bytes32 asset, uint256 amount, address recipient, bytes32 queueId, bool queued)";

const GAS: u64 = 2_000_000;
const GAS_PRICE: u128 = 1_000_000_000;
/// Seconds between the end of setup and t0 (a quiet hour the guard watches first).
const LEAD_S: u64 = 3_600;

/// Compiled contracts, embedded so the binary replays from anywhere.
const ARTIFACTS: [(&str, &str); 4] = [
    (
        "RingfenceAttestationVerifier",
        include_str!("../../../contracts/out/RingfenceAttestationVerifier.json"),
    ),
    (
        "GuardedToken",
        include_str!("../../../contracts/out/GuardedToken.json"),
    ),
    (
        "LabSource",
        include_str!("../../../contracts/out/LabSource.json"),
    ),
    (
        "LabGateway",
        include_str!("../../../contracts/out/LabGateway.json"),
    ),
];

/// Progress of a replay: (arm 0..3, blocks done, blocks in the arm).
pub type Progress = Arc<dyn Fn(usize, u64, u64) + Send + Sync>;

/// How to replay.
#[derive(Clone)]
pub struct ReplayOptions {
    /// The policy.
    pub policy: Policy,
    /// Called as blocks are mined.
    pub progress: Option<Progress>,
    /// The arms to run (empty: all six). `no-controls` always runs: it is the baseline; the
    /// report's top-level figures of an arm not run read as no prevention.
    pub arms: Vec<Arm>,
}

impl std::fmt::Debug for ReplayOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplayOptions")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

/// The arms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arm {
    /// Nothing in the way.
    NoControls,
    /// The off-chain guard alone.
    Guard,
    /// The on-chain limits alone.
    Limits,
    /// The guard and the on-chain limits.
    GuardAndLimits,
    /// The guard and ringfence as a required verifier.
    Verifier,
    /// The guard, the limits and the verifier.
    All,
}

/// Every arm, in report order.
pub const ARMS: [Arm; 6] = [
    Arm::NoControls,
    Arm::Guard,
    Arm::Limits,
    Arm::GuardAndLimits,
    Arm::Verifier,
    Arm::All,
];

impl Arm {
    /// The name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::NoControls => "no-controls",
            Self::Guard => "guard",
            Self::Limits => "limits",
            Self::GuardAndLimits => "guard-and-limits",
            Self::Verifier => "verifier",
            Self::All => "all",
        }
    }
    fn guard(self) -> bool {
        !matches!(self, Self::NoControls | Self::Limits)
    }
    fn limits(self) -> bool {
        matches!(self, Self::Limits | Self::GuardAndLimits | Self::All)
    }
    fn verifier(self) -> bool {
        matches!(self, Self::Verifier | Self::All)
    }
}

/// Replays a scenario in three arms and reports.
pub async fn replay(s: &Scenario, opts: &ReplayOptions) -> Result<ReplayReport> {
    let benign_only = s.steps.iter().all(|x| x.kind == StepKind::Benign);
    let mut arms = Vec::new();
    let mut details = Vec::new();
    let chosen = |a: Arm| a == Arm::NoControls || opts.arms.is_empty() || opts.arms.contains(&a);
    for (k, arm) in ARMS.into_iter().enumerate().filter(|(_, a)| chosen(*a)) {
        let _span =
            tracing::info_span!("arm", incident = %s.incident.id, arm = arm.name()).entered();
        // Without an attack step and without a guard nothing can be lost or tripped: benign-only
        // scenarios skip the first arm.
        let (rep, trips) = if benign_only && arm == Arm::NoControls {
            (idle_arm(s, arm), Vec::new())
        } else {
            run_arm(s, &opts.policy, arm, k, opts.progress.as_ref()).await?
        };
        arms.push(rep);
        details.push(trips);
    }
    let l1 = arms[0].loss_usd;
    let share = |l: f64| {
        if l1 > 0.0 {
            (1.0 - l / l1).clamp(0.0, 1.0)
        } else {
            1.0
        }
    };
    for a in &mut arms {
        a.prevented_share = share(a.loss_usd);
    }
    // An arm not run reads as the baseline (no prevention).
    let arm = |x: Arm| arms.iter().find(|a| a.arm == x.name()).unwrap_or(&arms[0]);
    let a3 = arm(Arm::GuardAndLimits);
    let guard_alone = arm(Arm::Guard).loss_usd;
    let bound = adaptive_bound(s, &opts.policy).min(l1);
    Ok(ReplayReport {
        incident: s.incident.id.clone(),
        name: s.incident.name.clone(),
        // Benign traffic is no incident: its rows say which kind of route it ran on.
        class: match (benign_only, s.incident.class.mints()) {
            (true, true) => "benign-mint-route",
            (true, false) => "benign-release-route",
            (false, _) => s.incident.class.name(),
        },
        historical_loss_usd: s.incident.historical_loss_usd,
        replayed_loss_without_guard_usd: l1,
        loss_with_guard_usd: guard_alone,
        loss_with_guard_and_limits_usd: a3.loss_usd,
        prevented_share: share(a3.loss_usd),
        prevented_share_guard_alone: share(guard_alone),
        split_attacker_loss_usd: cents(bound),
        prevented_share_split_attacker: share(bound),
        first_trip: a3.first_trip.clone(),
        trips: arms
            .iter()
            .position(|a| a.arm == Arm::GuardAndLimits.name())
            .and_then(|k| details.into_iter().nth(k))
            .unwrap_or_default(),
        benign_delayed: a3.benign_delayed,
        false_trips: arms.iter().map(|a| a.false_trips).sum(),
        stopped_in_first_block: a3.loss_usd == 0.0,
        steps: s.steps.len(),
        arms,
    })
}

/// The report of an arm that needs no chain: no attack, no controls.
fn idle_arm(s: &Scenario, arm: Arm) -> ArmReport {
    let _ = s;
    ArmReport {
        arm: arm.name(),
        loss_usd: 0.0,
        prevented_share: 1.0,
        benign_refused: 0,
        verifier_delay_blocks: None,
        attack_signatures: 0,
        attestor_refusals: BTreeMap::new(),
        admin: Vec::new(),
        first_block_loss_usd: 0.0,
        attack_paid: 0,
        attack_queued: 0,
        attack_executed_after_delay: 0,
        attack_cancelled: 0,
        attack_rejected: 0,
        benign_delayed: 0,
        benign_blocked: 0,
        trips: 0,
        false_trips: 0,
        first_trip: None,
        paused_at_t_s: None,
    }
}

/// One chain of an arm.
struct Chain {
    _anvil: Anvil,
    p: DynProvider,
    nonces: HashMap<Address, u64>,
}

impl Chain {
    async fn rpc(
        &self,
        method: &'static str,
        params: serde_json::Value,
    ) -> Result<serde_json::Value> {
        self.p
            .raw_request(method.into(), params)
            .await
            .map_err(|e| rpc(method, e))
    }

    async fn send(&mut self, from: Address, to: Address, data: Vec<u8>) -> Result<B256> {
        let tx = TransactionRequest::default()
            .to(to)
            .input(Bytes::from(data).into())
            .gas_limit(GAS);
        self.submit(from, tx).await
    }

    /// Signs `tx` from `from` with the next nonce this runner tracks for it (asked of the chain
    /// once), and sends it.
    async fn submit(&mut self, from: Address, tx: TransactionRequest) -> Result<B256> {
        let nonce = match self.nonces.get(&from) {
            Some(n) => *n,
            None => self
                .p
                .get_transaction_count(from)
                .pending()
                .await
                .map_err(|e| rpc("eth_getTransactionCount", e))?,
        };
        let tx = tx.from(from).with_gas_price(GAS_PRICE).nonce(nonce);
        let pending = self
            .p
            .send_transaction(tx)
            .await
            .map_err(|e| rpc("eth_sendTransaction", e))?;
        self.nonces.insert(from, nonce + 1);
        Ok(*pending.tx_hash())
    }

    /// Sends and waits for success (setup, automine on).
    async fn must(
        &mut self,
        from: Address,
        to: Address,
        data: Vec<u8>,
        what: &str,
    ) -> Result<TransactionReceipt> {
        let h = self.send(from, to, data).await?;
        let r = self.receipt(h).await?;
        if !r.status() {
            return Err(rpc(what, "setup transaction reverted"));
        }
        Ok(r)
    }

    async fn receipt(&self, h: B256) -> Result<TransactionReceipt> {
        for _ in 0..200 {
            if let Some(r) = self
                .p
                .get_transaction_receipt(h)
                .await
                .map_err(|e| rpc("eth_getTransactionReceipt", e))?
            {
                return Ok(r);
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        Err(rpc(
            "eth_getTransactionReceipt",
            format!("no receipt for {h}"),
        ))
    }

    async fn deploy(&mut self, from: Address, name: &str, args: Vec<u8>) -> Result<Address> {
        let mut code = bytecode(name)?;
        code.extend(args);
        let tx = TransactionRequest::default()
            .with_deploy_code(code)
            .gas_limit(8_000_000);
        let hash = self.submit(from, tx).await?;
        let r = self.receipt(hash).await?;
        match (r.status(), r.contract_address) {
            (true, Some(a)) => Ok(a),
            _ => Err(rpc("deploy", format!("{name} did not deploy"))),
        }
    }

    async fn mine_at(&self, ts: u64) -> Result<u64> {
        self.rpc("evm_setNextBlockTimestamp", serde_json::json!([ts]))
            .await?;
        self.rpc("evm_mine", serde_json::json!([])).await?;
        self.p
            .get_block_number()
            .await
            .map_err(|e| rpc("eth_blockNumber", e))
    }
}

fn bytecode(name: &str) -> Result<Vec<u8>> {
    let path = std::path::PathBuf::from(format!("contracts/out/{name}.json"));
    let text = ARTIFACTS
        .iter()
        .find(|a| a.0 == name)
        .map(|a| a.1)
        .ok_or_else(|| Error::Artifact {
            path: path.clone(),
            message: "unknown contract".into(),
        })?;
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| Error::Artifact {
        path: path.clone(),
        message: e.to_string(),
    })?;
    let hex = v["bytecode"].as_str().ok_or_else(|| Error::Artifact {
        path: path.clone(),
        message: "no bytecode".into(),
    })?;
    alloy::primitives::hex::decode(hex).map_err(|e| Error::Artifact {
        path,
        message: e.to_string(),
    })
}

/// The asset key the lab contracts use: keccak256 of the symbol.
pub fn asset_key(symbol: &str) -> B256 {
    keccak256(symbol.as_bytes())
}

/// What a transaction was for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tag {
    Source(usize),
    Request(usize),
    Admin(usize),
    Deliver(usize),
    Execute(usize),
    Pause,
    Cancel(usize),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Pending,
    Paid,
    Queued(B256),
    Executed,
    Cancelled,
    Rejected,
}

enum Act {
    Step(usize),
    Execute(usize, B256),
}

struct Accounts {
    admin: Address,
    guardian: Address,
    relayer: Address,
    user: Address,
    attacker: Address,
    holders: Address,
}

struct Deployment {
    source: Address,
    gateway: Address,
    /// The `RingfenceAttestationVerifier` the gateway requires (verifier arms).
    verifier: Option<Address>,
    src_tokens: Vec<Address>,
    dst_tokens: Vec<Address>,
}

async fn connect(url: &str) -> Result<DynProvider> {
    let p = ProviderBuilder::new()
        .disable_recommended_fillers()
        .connect(url)
        .await
        .map_err(|e| rpc("connect", e))?;
    Ok(p.erased())
}

/// Runs one arm of a scenario on fresh chains: deploy, start the arm's controls, play the
/// schedule block by block, and account for what was paid.
async fn run_arm(
    s: &Scenario,
    policy: &Policy,
    arm: Arm,
    arm_idx: usize,
    progress: Option<&Progress>,
) -> Result<(ArmReport, Vec<TripRecord>)> {
    let mut run = ArmRun::start(s, policy, arm).await?;
    let total_ticks = run.schedule.len() as u64;
    let mut ticks_done = 0u64;
    while let Some((ts, acts, scheduled)) = run.next_block() {
        ticks_done += u64::from(scheduled);
        run.pending_txs = 0;
        for act in acts {
            run.act(ts, act).await?;
        }
        let blocks = run.mine(ts).await?;
        run.read_receipts(ts, &blocks).await?;
        run.guard_round(&blocks).await?;
        run.verifier_round(&blocks).await?;
        if let Some(p) = progress {
            p(arm_idx, ticks_done, total_ticks.max(ticks_done));
        }
    }
    run.finish(arm).await
}

/// One arm in flight: its chains and controls, the schedule still to play, and what has
/// happened to every step so far.
struct ArmRun<'a> {
    s: &'a Scenario,
    policy: &'a Policy,
    chains: Vec<Chain>,
    src: usize,
    dst: usize,
    a: Accounts,
    dep: Deployment,
    chain_ids: Vec<u64>,
    /// Each step's message id.
    ids: Vec<B256>,
    /// The scenario's t = 0 (block timestamp).
    t0: u64,
    last_ts: u64,
    /// Each chain's last mined block.
    heads: Vec<u64>,
    guard: Option<LabGuard>,
    verifier: Option<LabVerifier>,
    schedule: BTreeMap<u64, Vec<Act>>,
    outcome: Vec<Outcome>,
    /// tx → (chain, what it was).
    tags: HashMap<B256, (usize, Tag)>,
    /// Transactions the controls sent that land in the next block.
    pending_txs: usize,
    /// Verifier arms: requested messages waiting for k attestations (step → block it was
    /// requested in, 0 until mined).
    awaiting: BTreeMap<usize, u64>,
    /// Blocks each benign transfer waited for its attestations.
    delays: Vec<u64>,
    /// Attestations the attackers' messages got from honest attestors.
    attack_signatures: usize,
    /// When the attacker's own attestor set was proposed (block timestamp).
    proposed_at: Option<u64>,
    /// Whether it has been executed: from then on the attacker signs his own messages.
    captured: bool,
    admin_log: Vec<crate::report::AdminOutcome>,
    paused_at: Option<u64>,
    cancelled_sent: Vec<usize>,
    trips: Vec<TripRecord>,
    first_trip: Option<FirstTrip>,
    first_attack_ts: Option<u64>,
    first_block_paid: Vec<usize>,
}

impl<'a> ArmRun<'a> {
    /// Fresh chains, the deployment, the arm's guard and attestors, and the schedule.
    async fn start(s: &'a Scenario, policy: &'a Policy, arm: Arm) -> Result<Self> {
        let mut chains = spawn_chains(s.incident.class.single_chain()).await?;
        let (src, dst) = (0usize, chains.len() - 1);
        let a = accounts(&chains[0]).await?;

        // Setup runs with automine on.
        let keys = if arm.verifier() {
            lab_attestor_keys(policy.verifier.attestors)?
        } else {
            Vec::new()
        };
        let attestors: Vec<Address> = keys.iter().map(AttestorKey::address).collect();
        let chain_ids = chain_ids(&chains).await?;
        let dep = setup(
            s,
            policy,
            arm,
            &mut chains,
            (src, dst),
            chain_ids[src],
            &a,
            &attestors,
        )
        .await?;
        for c in &chains {
            c.rpc("evm_setAutomine", serde_json::json!([false])).await?;
        }
        // The guard and the attestors start reading at the block after these heads; the
        // scenario starts LEAD_S after the latest of them.
        let (heads, last_ts) = heads(&chains).await?;
        let t0 = last_ts + LEAD_S;

        let guard = if arm.guard() {
            Some(start_guard(s, policy, &chains, src, &a, &dep, &heads).await?)
        } else {
            None
        };
        // k of n attestors, each behind its own RPC endpoints.
        let verifier = match dep.verifier {
            Some(v) => {
                Some(LabVerifier::start(s, policy, &chains, &heads, src, &dep, v, keys).await?)
            }
            None => None,
        };

        Ok(Self {
            s,
            policy,
            chains,
            src,
            dst,
            a,
            dep,
            chain_ids,
            ids: message_ids(s),
            t0,
            last_ts,
            heads,
            guard,
            verifier,
            schedule: schedule(s, t0),
            outcome: vec![Outcome::Pending; s.steps.len()],
            tags: HashMap::new(),
            pending_txs: 0,
            awaiting: BTreeMap::new(),
            delays: Vec::new(),
            attack_signatures: 0,
            proposed_at: None,
            captured: false,
            admin_log: Vec::new(),
            paused_at: None,
            cancelled_sent: Vec::new(),
            trips: Vec::new(),
            first_trip: None,
            first_attack_ts: s
                .steps
                .iter()
                .find(|x| x.kind == StepKind::Attack)
                .map(|x| t0 + x.t_s),
            first_block_paid: Vec::new(),
        })
    }

    /// The next block's timestamp and what is sent in it (and whether it is a scheduled
    /// tick): the next scheduled time, unless transactions of the controls or messages
    /// awaiting attestations need a block first. `None` when the scenario is over.
    fn next_block(&mut self) -> Option<(u64, Vec<Act>, bool)> {
        let block_time = self.s.incident.block_time_s.max(1);
        let next = self.schedule.keys().next().copied();
        let busy = self.pending_txs > 0 || !self.awaiting.is_empty();
        match next {
            Some(t) if !busy || t <= self.last_ts + block_time => {
                let acts = self.schedule.remove(&t).unwrap_or_default();
                Some((t.max(self.last_ts + 1), acts, true))
            }
            _ if busy => Some((self.last_ts + block_time, Vec::new(), false)),
            _ => None,
        }
    }

    /// Sends the transactions of one scheduled act.
    async fn act(&mut self, ts: u64, act: Act) -> Result<()> {
        match act {
            Act::Step(i) if self.s.steps[i].kind == StepKind::Admin => self.admin_step(ts, i).await,
            Act::Step(i) => self.transfer_step(i).await,
            Act::Execute(i, q) => {
                let who = self.sender_of(i);
                let data = ILabGateway::executeCall { queueId: q }.abi_encode();
                let h = self.chains[self.dst]
                    .send(who, self.dep.gateway, data)
                    .await?;
                self.tags.insert(h, (self.dst, Tag::Execute(i)));
                Ok(())
            }
        }
    }

    fn sender_of(&self, i: usize) -> Address {
        if self.s.steps[i].kind == StepKind::Attack {
            self.a.attacker
        } else {
            self.a.user
        }
    }

    async fn admin_step(&mut self, ts: u64, i: usize) -> Result<()> {
        // An execution past the timelock makes the attacker the verifier set within this very
        // block: his messages later in the block carry his signature.
        if self.s.steps[i].action == Some(AdminAction::ExecuteVerifier)
            && self
                .proposed_at
                .is_some_and(|p| ts >= p + self.policy.verifier.timelock_s)
        {
            self.captured = true;
        }
        for (to, data) in admin_calls(self.s, i, &self.a, &self.dep) {
            let h = self.chains[self.dst].send(self.a.admin, to, data).await?;
            self.tags.insert(h, (self.dst, Tag::Admin(i)));
        }
        Ok(())
    }

    /// A transfer (benign or attack): the source event if the step has one, then the
    /// destination side: a request for attestations in verifier arms, else the relayer's
    /// delivery.
    async fn transfer_step(&mut self, i: usize) -> Result<()> {
        let (s, src, dst) = (self.s, self.src, self.dst);
        let st = &s.steps[i];
        let key = asset_key(&s.assets[st.asset].symbol);
        let recipient = recipient_of(st, &self.a);
        let id = self.ids[i];
        let src_call = if st.source_claims_amount {
            Some(
                ILabSource::sendUnlockedCall {
                    id,
                    asset: key,
                    amount: st.amount,
                    recipient,
                }
                .abi_encode(),
            )
        } else if !st.source_amount.is_zero() {
            Some(
                ILabSource::sendCall {
                    id,
                    asset: key,
                    amount: st.source_amount,
                    recipient,
                }
                .abi_encode(),
            )
        } else {
            None
        };
        if let Some(data) = src_call {
            let sender = self.sender_of(i);
            let h = self.chains[src].send(sender, self.dep.source, data).await?;
            self.tags.insert(h, (src, Tag::Source(i)));
        }
        let (Some(v), Some(vaddr)) = (self.verifier.as_ref(), self.dep.verifier) else {
            let data = ILabGateway::deliverCall {
                id,
                asset: key,
                amount: st.amount,
                recipient,
            }
            .abi_encode();
            self.relay(data, Tag::Deliver(i)).await?;
            return Ok(());
        };
        if st.rpc_poisoned {
            v.poison(
                self.heads[src] + 1,
                self.dep.source,
                id,
                key,
                st.amount,
                recipient,
            );
        }
        let data = ILabGateway::requestCall {
            id,
            asset: key,
            amount: st.amount,
            recipient,
        }
        .abi_encode();
        self.relay(data, Tag::Request(i)).await?;
        if self.captured && st.kind == StepKind::Attack {
            // The attacker is the verifier set now: he signs his own message.
            let att = self.unsigned(i);
            let sig = attacker_signature(&att, self.chain_ids[dst], vaddr)?;
            let data = deliver_attested(&att, vec![sig]);
            self.relay(data, Tag::Deliver(i)).await?;
        } else {
            self.awaiting.insert(i, 0);
        }
        Ok(())
    }

    /// The relayer sends `data` to the gateway; its receipt will tell what `tag` did.
    async fn relay(&mut self, data: Vec<u8>, tag: Tag) -> Result<()> {
        let h = self.chains[self.dst]
            .send(self.a.relayer, self.dep.gateway, data)
            .await?;
        self.tags.insert(h, (self.dst, tag));
        Ok(())
    }

    /// Step i's message as an attestation with no source event behind it (what an attacker
    /// who is the verifier set signs, or what a relayer tries when no k attestors signed).
    fn unsigned(&self, i: usize) -> ringfence_attest::Attestation {
        let st = &self.s.steps[i];
        ringfence_attest::attestation::attestation(
            route_id(ROUTE),
            self.chain_ids[self.src],
            B256::ZERO,
            0,
            self.ids[i],
            asset_key(&self.s.assets[st.asset].symbol),
            st.amount,
            recipient_of(st, &self.a),
        )
    }

    /// Mines every chain at `ts`; the new heads.
    async fn mine(&mut self, ts: u64) -> Result<Vec<u64>> {
        let mut blocks = Vec::with_capacity(self.chains.len());
        for c in &self.chains {
            blocks.push(c.mine_at(ts).await?);
        }
        self.heads.clone_from(&blocks);
        self.last_ts = ts;
        Ok(blocks)
    }

    /// What the mined blocks did to the steps.
    async fn read_receipts(&mut self, ts: u64, blocks: &[u64]) -> Result<()> {
        for (ci, &block) in blocks.iter().enumerate() {
            let receipts = self.chains[ci]
                .p
                .get_block_receipts(block.into())
                .await
                .map_err(|e| rpc("eth_getBlockReceipts", e))?
                .unwrap_or_default();
            for r in receipts {
                if let Some(&(_, tag)) = self.tags.get(&r.transaction_hash) {
                    self.on_receipt(ts, block, tag, &r);
                }
            }
        }
        Ok(())
    }

    fn on_receipt(&mut self, ts: u64, block: u64, tag: Tag, r: &TransactionReceipt) {
        let ok = r.status();
        match tag {
            Tag::Deliver(i) => {
                if !ok {
                    self.outcome[i] = Outcome::Rejected;
                    return;
                }
                let queued = r.inner.logs().iter().find_map(|l| {
                    ILabGateway::Delivered::decode_raw_log(
                        l.topics().iter().copied(),
                        &l.data().data,
                    )
                    .ok()
                    .filter(|d| d.queued)
                    .map(|d| d.queueId)
                });
                match queued {
                    Some(q) => {
                        self.outcome[i] = Outcome::Queued(q);
                        self.schedule
                            .entry(ts + self.policy.limits.delay_s)
                            .or_default()
                            .push(Act::Execute(i, q));
                    }
                    None => {
                        self.outcome[i] = Outcome::Paid;
                        if Some(ts) == self.first_attack_ts {
                            self.first_block_paid.push(i);
                        }
                    }
                }
            }
            Tag::Execute(i) if ok => self.outcome[i] = Outcome::Executed,
            Tag::Cancel(i) if ok => self.outcome[i] = Outcome::Cancelled,
            Tag::Pause if ok && self.paused_at.is_none() => {
                self.paused_at = Some(ts - self.t0);
            }
            Tag::Request(i) => {
                if ok {
                    // Waiting for attestations from this block on (an attacker who is the
                    // verifier set delivered at once: not waiting).
                    if let Some(at) = self.awaiting.get_mut(&i) {
                        *at = block;
                    }
                } else {
                    self.awaiting.remove(&i);
                    self.outcome[i] = Outcome::Rejected;
                }
            }
            Tag::Admin(i) => {
                let action = self.s.steps[i].action;
                if ok && action == Some(AdminAction::ReplaceVerifier) {
                    self.proposed_at = Some(ts);
                }
                if !ok && action == Some(AdminAction::ExecuteVerifier) {
                    self.captured = false;
                }
                match self.admin_log.iter_mut().find(|x| x.step == i + 1) {
                    // A limit step is two transactions: it succeeded if both did.
                    Some(x) => x.succeeded &= ok,
                    None => self.admin_log.push(crate::report::AdminOutcome {
                        step: i + 1,
                        action: action.map_or("?", AdminAction::name),
                        succeeded: ok,
                    }),
                }
            }
            Tag::Execute(_) | Tag::Cancel(_) | Tag::Pause | Tag::Source(_) => {}
        }
    }

    /// The guard daemon reads the blocks and acts; waits until it has committed them and sent
    /// what its trips' actions ask for, and records the trips.
    async fn guard_round(&mut self, blocks: &[u64]) -> Result<()> {
        let Some(g) = self.guard.as_mut() else {
            return Ok(());
        };
        let n = self.chains.len();
        let want: Vec<(String, u64)> = blocks
            .iter()
            .enumerate()
            .map(|(ci, &b)| (chain_id(ci, self.src, n).to_owned(), b))
            .collect();
        let mut alerts = g.wait(&want).await?;
        // Deterministic order whatever order the daemon read the chains in: source chain
        // first, then log order, then rule order.
        let spec = g.spec.clone();
        alerts.sort_by_key(|r| {
            (
                spec.chain_idx(&r.chain),
                r.block,
                r.log_index,
                spec.rule_idx(&r.rule),
            )
        });
        for al in alerts.into_iter().filter(|x| x.severity == Severity::Trip) {
            self.record_trip(&al);
        }
        Ok(())
    }

    fn record_trip(&mut self, al: &AlertRecord) {
        let s = self.s;
        let step = al
            .tx
            .and_then(|t| self.tags.get(&t))
            .and_then(|(_, t)| match t {
                Tag::Source(i) | Tag::Deliver(i) | Tag::Execute(i) => Some(*i),
                _ => None,
            });
        let rec = TripRecord {
            rule: al.rule.clone(),
            kind: al.kind.to_string(),
            reason: al.reason.to_string(),
            chain: al.chain.clone(),
            block: al.block,
            t_s: al.timestamp.saturating_sub(self.t0),
            step: step.map(|i| i + 1),
            benign: step.is_some_and(|i| s.steps[i].kind == StepKind::Benign),
        };
        if self.first_trip.is_none() {
            self.first_trip = Some(FirstTrip {
                rule: rec.rule.clone(),
                reason: rec.reason.clone(),
                step: rec.step,
                t_s: rec.t_s,
                block: rec.block,
                historical_block: step.and_then(|i| s.steps[i].block),
            });
        }
        self.trips.push(rec);
        // The transactions the daemon sent for the trip's actions: they land in the next block.
        let dst = self.dst;
        for act in &al.actions {
            let Some(h) = act.tx else { continue };
            match act.kind.as_str() {
                "pause" => {
                    self.tags.insert(h, (dst, Tag::Pause));
                    self.pending_txs += 1;
                }
                "cancel" => {
                    let Some(i) = act
                        .arg
                        .and_then(|q| self.outcome.iter().position(|o| *o == Outcome::Queued(q)))
                    else {
                        continue;
                    };
                    self.tags.insert(h, (dst, Tag::Cancel(i)));
                    if !self.cancelled_sent.contains(&i) {
                        self.cancelled_sent.push(i);
                    }
                    self.pending_txs += 1;
                }
                _ => {}
            }
        }
    }

    /// The attestors read the new blocks; a message with k attestations on one attestation is
    /// delivered in the next block, one that waited past the depth and the patience is tried
    /// with what it has (and refused by the gateway).
    async fn verifier_round(&mut self, blocks: &[u64]) -> Result<()> {
        let Some(v) = self.verifier.as_mut() else {
            return Ok(());
        };
        v.step().await?;
        let (s, policy, dst) = (self.s, self.policy, self.dst);
        let now = blocks[dst];
        let patience = policy.verifier.confirmations + ATTEST_PATIENCE_BLOCKS;
        let mut ready = Vec::new();
        for (&i, &at) in &self.awaiting {
            if at == 0 {
                continue;
            }
            let st = &s.steps[i];
            let got = v.collect(self.ids[i])?;
            let waited = now.saturating_sub(at);
            let enough = got.sigs.len() >= policy.verifier.threshold;
            let own = self.captured && st.kind == StepKind::Attack && !enough;
            if !enough && !own && waited <= patience {
                continue;
            }
            if st.kind == StepKind::Attack {
                self.attack_signatures += got.signers;
            } else if enough {
                self.delays.push(waited);
            }
            ready.push((i, own, got));
        }
        for (i, own, got) in ready {
            self.awaiting.remove(&i);
            let unsigned = self.unsigned(i);
            let (att, sigs) = match (own, self.dep.verifier) {
                (true, Some(vaddr)) => {
                    let sig = attacker_signature(&unsigned, self.chain_ids[dst], vaddr)?;
                    (unsigned, vec![sig])
                }
                _ => (got.attestation.unwrap_or(unsigned), got.sigs),
            };
            let data = deliver_attested(&att, sigs);
            self.relay(data, Tag::Deliver(i)).await?;
            self.pending_txs += 1;
        }
        Ok(())
    }

    /// Stops the controls and accounts for every step.
    async fn finish(mut self, arm: Arm) -> Result<(ArmReport, Vec<TripRecord>)> {
        if let Some(g) = self.guard.take() {
            g.stop().await?;
        }
        let attestor_refusals = self.verifier.take().map(|v| v.refusals).unwrap_or_default();
        let s = self.s;
        let outcome = &self.outcome;
        let paid_usd = |i: usize| {
            let st = &s.steps[i];
            let a = &s.assets[st.asset];
            a.usd(st.amount.saturating_sub(if st.source_claims_amount {
                U256::ZERO
            } else {
                a.to_dst(st.source_amount)
            }))
        };
        let of_kind = |k: StepKind| -> Vec<usize> {
            (0..s.steps.len())
                .filter(|&i| s.steps[i].kind == k)
                .collect()
        };
        let (attack, benign) = (of_kind(StepKind::Attack), of_kind(StepKind::Benign));
        let paid = |o: Outcome| matches!(o, Outcome::Paid | Outcome::Executed);
        let was_queued = |i: usize| {
            matches!(
                outcome[i],
                Outcome::Queued(_) | Outcome::Executed | Outcome::Cancelled
            ) || self.cancelled_sent.contains(&i)
        };
        let count =
            |steps: &[usize], f: &dyn Fn(usize) -> bool| steps.iter().filter(|&&i| f(i)).count();
        let loss_usd = cents(
            attack
                .iter()
                .filter(|&&i| paid(outcome[i]))
                .map(|&i| paid_usd(i))
                .sum(),
        );
        let first_block_loss_usd = cents(
            self.first_block_paid
                .iter()
                .filter(|&&i| s.steps[i].kind == StepKind::Attack)
                .map(|&i| paid_usd(i))
                .sum(),
        );
        let report = ArmReport {
            arm: arm.name(),
            loss_usd,
            prevented_share: 0.0,
            benign_refused: count(&benign, &|i| !paid(outcome[i])),
            verifier_delay_blocks: crate::report::DelayBlocks::of(self.delays),
            attack_signatures: self.attack_signatures,
            attestor_refusals,
            admin: self.admin_log,
            first_block_loss_usd,
            attack_paid: count(&attack, &|i| outcome[i] == Outcome::Paid),
            attack_queued: count(&attack, &was_queued),
            attack_executed_after_delay: count(&attack, &|i| outcome[i] == Outcome::Executed),
            attack_cancelled: count(&attack, &|i| outcome[i] == Outcome::Cancelled),
            attack_rejected: count(&attack, &|i| outcome[i] == Outcome::Rejected),
            benign_delayed: count(&benign, &was_queued),
            benign_blocked: count(&benign, &|i| {
                matches!(
                    outcome[i],
                    Outcome::Rejected | Outcome::Cancelled | Outcome::Queued(_)
                )
            }),
            trips: self.trips.len(),
            false_trips: self.trips.iter().filter(|t| t.benign).count(),
            first_trip: self.first_trip,
            paused_at_t_s: self.paused_at,
        };
        tracing::info!(arm = arm.name(), loss_usd, trips = report.trips, "arm done");
        Ok((report, self.trips))
    }
}

/// The arm's fresh anvil chains: one for a single-chain incident, else source and destination.
async fn spawn_chains(single: bool) -> Result<Vec<Chain>> {
    let mut chains = Vec::new();
    for i in 0..if single { 1 } else { 2 } {
        let a = crate::anvil::spawn(31_337 + i, true)?;
        let p = connect(&a.http()).await?;
        chains.push(Chain {
            _anvil: a,
            p,
            nonces: HashMap::new(),
        });
    }
    Ok(chains)
}

/// Each chain's EVM chain id.
async fn chain_ids(chains: &[Chain]) -> Result<Vec<u64>> {
    let mut ids = Vec::with_capacity(chains.len());
    for c in chains {
        ids.push(
            c.p.get_chain_id()
                .await
                .map_err(|e| rpc("eth_chainId", e))?,
        );
    }
    Ok(ids)
}

/// Each chain's head block, and the latest of their timestamps.
async fn heads(chains: &[Chain]) -> Result<(Vec<u64>, u64)> {
    let mut heads = Vec::with_capacity(chains.len());
    let mut last_ts = 0;
    for c in chains {
        let b =
            c.p.get_block_number()
                .await
                .map_err(|e| rpc("eth_blockNumber", e))?;
        if let Some(blk) =
            c.p.get_block_by_number(b.into())
                .await
                .map_err(|e| rpc("eth_getBlockByNumber", e))?
        {
            last_ts = last_ts.max(blk.header.timestamp);
        }
        heads.push(b);
    }
    Ok((heads, last_ts))
}

/// The guard arms' daemon, once anvil's account #1 is known to be the lab guardian whose key
/// the guard signs with.
async fn start_guard(
    s: &Scenario,
    policy: &Policy,
    chains: &[Chain],
    src: usize,
    a: &Accounts,
    dep: &Deployment,
    heads: &[u64],
) -> Result<LabGuard> {
    if a.guardian != guardian_address() {
        return Err(rpc(
            "eth_accounts",
            "anvil's account #1 is not the lab guardian whose key the guard signs with",
        ));
    }
    LabGuard::start(s, policy, chains, src, dep, heads).await
}

/// The scenario's steps by block timestamp, the first at `t0` plus its offset.
fn schedule(s: &Scenario, t0: u64) -> BTreeMap<u64, Vec<Act>> {
    let mut schedule: BTreeMap<u64, Vec<Act>> = BTreeMap::new();
    for (i, st) in s.steps.iter().enumerate() {
        schedule.entry(t0 + st.t_s).or_default().push(Act::Step(i));
    }
    schedule
}

/// Each step's message id: the incident's own where it has one, else one derived from the
/// incident, the step's kind and its index.
fn message_ids(s: &Scenario) -> Vec<B256> {
    (0..s.steps.len())
        .map(|i| {
            s.steps[i].source_id.unwrap_or_else(|| {
                let kind = if s.steps[i].kind == StepKind::Attack {
                    "attack"
                } else {
                    "benign"
                };
                keccak256(format!("{}/{kind}/{i}", s.incident.id))
            })
        })
        .collect()
}

/// Anvil's development accounts in the roles the lab gives them.
async fn accounts(chain: &Chain) -> Result<Accounts> {
    let accts: Vec<Address> =
        serde_json::from_value(chain.rpc("eth_accounts", serde_json::json!([])).await?)
            .map_err(|e| rpc("eth_accounts", e))?;
    let acct = |i: usize| {
        accts
            .get(i)
            .copied()
            .ok_or_else(|| rpc("eth_accounts", "anvil has too few accounts"))
    };
    Ok(Accounts {
        admin: acct(0)?,
        guardian: acct(1)?,
        relayer: acct(2)?,
        user: acct(3)?,
        attacker: acct(4)?,
        holders: acct(5)?,
    })
}

/// Deploys the scenario's contracts on fresh chains: the source and the gateway, two tokens per
/// asset with their routes and balances, the arm's limits, and in verifier arms the attestation
/// verifier the gateway requires.
#[allow(clippy::too_many_arguments)]
async fn setup(
    s: &Scenario,
    policy: &Policy,
    arm: Arm,
    chains: &mut [Chain],
    (src, dst): (usize, usize),
    src_chain_id: u64,
    a: &Accounts,
    attestors: &[Address],
) -> Result<Deployment> {
    let source = chains[src].deploy(a.admin, "LabSource", Vec::new()).await?;
    let gateway = chains[dst]
        .deploy(
            a.admin,
            "LabGateway",
            (a.admin, a.relayer).abi_encode_params(),
        )
        .await?;
    chains[dst]
        .must(
            a.admin,
            gateway,
            ILabGateway::setGuardianCall {
                account: a.guardian,
                enabled: true,
            }
            .abi_encode(),
            "setGuardian",
        )
        .await?;
    let mut dep = Deployment {
        source,
        gateway,
        verifier: None,
        src_tokens: Vec::new(),
        dst_tokens: Vec::new(),
    };
    for (ai, asset) in s.assets.iter().enumerate() {
        let (st, dt) = deploy_asset(s, asset, chains, (src, dst), a, &dep).await?;
        dep.src_tokens.push(st);
        dep.dst_tokens.push(dt);
        fund_asset(s, ai, chains, (src, dst), a, &dep).await?;
        if arm.limits() {
            configure_limits(s, policy, asset, &mut chains[dst], a, gateway).await?;
        }
    }
    if arm.verifier() {
        dep.verifier = Some(
            deploy_verifier(
                policy,
                &mut chains[dst],
                a,
                gateway,
                attestors,
                src_chain_id,
            )
            .await?,
        );
    }
    Ok(dep)
}

/// An asset's token on each chain and its routes through the source and the gateway.
async fn deploy_asset(
    s: &Scenario,
    asset: &crate::scenario::Asset,
    chains: &mut [Chain],
    (src, dst): (usize, usize),
    a: &Accounts,
    dep: &Deployment,
) -> Result<(Address, Address)> {
    let class = s.incident.class;
    let (source, gateway) = (dep.source, dep.gateway);
    let key = asset_key(&asset.symbol);
    let dec = U256::from(asset.decimals);
    let src_sym = format!("{}.src", asset.symbol);
    let st = chains[src]
        .deploy(
            a.admin,
            "GuardedToken",
            (
                src_sym.clone(),
                src_sym,
                U256::from(asset.source_decimals),
                a.admin,
            )
                .abi_encode_params(),
        )
        .await?;
    let dt = chains[dst]
        .deploy(
            a.admin,
            "GuardedToken",
            (asset.symbol.clone(), asset.symbol.clone(), dec, a.admin).abi_encode_params(),
        )
        .await?;
    chains[src]
        .must(
            a.admin,
            source,
            ILabSource::setRouteCall {
                asset: key,
                token: st,
                burn_: !class.mints(),
            }
            .abi_encode(),
            "source route",
        )
        .await?;
    chains[dst]
        .must(
            a.admin,
            gateway,
            ILabGateway::setRouteCall {
                asset: key,
                token: dt,
                mints: class.mints(),
            }
            .abi_encode(),
            "gateway route",
        )
        .await?;
    Ok((st, dt))
}

/// The balances at t0: backing or lockbox, holders, the user's benign funds and what the
/// attacker paid, with both approving the source.
async fn fund_asset(
    s: &Scenario,
    ai: usize,
    chains: &mut [Chain],
    (src, dst): (usize, usize),
    a: &Accounts,
    dep: &Deployment,
) -> Result<()> {
    let class = s.incident.class;
    let asset = &s.assets[ai];
    let (source, gateway) = (dep.source, dep.gateway);
    let (st, dt) = (dep.src_tokens[ai], dep.dst_tokens[ai]);
    let minter = keccak256("MINTER_ROLE");
    let steps = || s.steps.iter().filter(|x| x.asset == ai);
    let benign_total = steps()
        .filter(|x| x.kind == StepKind::Benign)
        .fold(U256::ZERO, |acc, x| acc + x.source_amount);
    let attack_paid = steps()
        .filter(|x| x.kind == StepKind::Attack && !x.source_claims_amount)
        .fold(U256::ZERO, |acc, x| acc + x.source_amount);
    let mint = |to: Address, amount: U256| ILabToken::mintCall { to, amount }.abi_encode();
    if class.mints() {
        // Fully backed at t0: the source holds `supply`, holders hold the wrapped supply.
        chains[src]
            .must(
                a.admin,
                st,
                mint(source, asset.to_src(asset.supply)),
                "back",
            )
            .await?;
        chains[dst]
            .must(
                a.admin,
                dt,
                ILabToken::grantRoleCall {
                    role: minter,
                    account: gateway,
                }
                .abi_encode(),
                "grant",
            )
            .await?;
        chains[dst]
            .must(a.admin, dt, mint(a.holders, asset.supply), "supply")
            .await?;
        if !benign_total.is_zero() {
            chains[src]
                .must(a.admin, st, mint(a.user, benign_total), "user funds")
                .await?;
        }
    } else {
        // The lockbox holds `locked`; its representation on the source chain has that supply.
        chains[dst]
            .must(a.admin, dt, mint(gateway, asset.locked), "lockbox")
            .await?;
        let locked_src = asset.to_src(asset.locked);
        let to_user = benign_total.min(locked_src);
        if !to_user.is_zero() {
            chains[src]
                .must(a.admin, st, mint(a.user, to_user), "user funds")
                .await?;
        }
        let rest = locked_src - to_user;
        if !rest.is_zero() {
            chains[src]
                .must(a.admin, st, mint(a.holders, rest), "representation")
                .await?;
        }
    }
    if !attack_paid.is_zero() {
        // What the attacker really paid on the source side (Nomad's 0.01 WBTC).
        chains[src]
            .must(a.admin, st, mint(a.attacker, attack_paid), "attacker funds")
            .await?;
    }
    for who in [a.user, a.attacker] {
        chains[src]
            .must(
                who,
                st,
                ILabToken::approveCall {
                    spender: source,
                    amount: U256::MAX,
                }
                .abi_encode(),
                "approve",
            )
            .await?;
    }
    Ok(())
}

/// The gateway's rate-limit bucket and large-transfer delay for one asset, from the policy.
async fn configure_limits(
    s: &Scenario,
    policy: &Policy,
    asset: &crate::scenario::Asset,
    chain: &mut Chain,
    a: &Accounts,
    gateway: Address,
) -> Result<()> {
    let key = asset_key(&asset.symbol);
    let v = s.at_risk(asset);
    let cap = share_of(v, policy.limits.bucket_capacity_share);
    let rate = (cap / U256::from(policy.limits.bucket_refill_s.max(1))).max(U256::from(1u8));
    chain
        .must(
            a.admin,
            gateway,
            ILabGateway::configureBucketCall {
                asset: key,
                capacity: cap,
                ratePerSecond: rate,
            }
            .abi_encode(),
            "bucket",
        )
        .await?;
    let by_share = share_of(v, policy.limits.delay_above_share);
    let by_usd = usd_to_units(
        policy.limits.delay_above_usd,
        asset.price_usd,
        asset.decimals,
    );
    let threshold = by_share.min(by_usd).max(U256::from(1u8));
    chain
        .must(
            a.admin,
            gateway,
            ILabGateway::configureDelayCall {
                asset: key,
                threshold,
                delay: policy.limits.delay_s,
            }
            .abi_encode(),
            "delay",
        )
        .await?;
    Ok(())
}

/// The attestation verifier (the attestors' keys, k, the admin and its timelock), required by
/// the gateway for the lab's route.
async fn deploy_verifier(
    policy: &Policy,
    chain: &mut Chain,
    a: &Accounts,
    gateway: Address,
    attestors: &[Address],
    src_chain_id: u64,
) -> Result<Address> {
    let mut set = attestors.to_vec();
    set.sort();
    let v = chain
        .deploy(
            a.admin,
            "RingfenceAttestationVerifier",
            (
                set,
                U256::from(policy.verifier.threshold),
                a.admin,
                policy.verifier.timelock_s,
            )
                .abi_encode_params(),
        )
        .await?;
    chain
        .must(
            a.admin,
            gateway,
            ILabGateway::requireAttestationsCall {
                v,
                route: route_id(ROUTE),
                srcChain: U256::from(src_chain_id),
            }
            .abi_encode(),
            "requireAttestations",
        )
        .await?;
    Ok(v)
}

/// The calls an admin step makes with the admin key: (contract, calldata); none when the arm
/// has nothing it acts on (no verifier to replace).
fn admin_calls(s: &Scenario, i: usize, a: &Accounts, dep: &Deployment) -> Vec<(Address, Vec<u8>)> {
    let st = &s.steps[i];
    let asset = &s.assets[st.asset];
    let key = asset_key(&asset.symbol);
    let all = s.at_risk(asset);
    let limits = |capacity: U256, threshold: U256| {
        vec![
            (
                dep.gateway,
                ILabGateway::configureBucketCall {
                    asset: key,
                    capacity,
                    ratePerSecond: capacity,
                }
                .abi_encode(),
            ),
            (
                dep.gateway,
                ILabGateway::configureDelayCall {
                    asset: key,
                    threshold,
                    delay: 0,
                }
                .abi_encode(),
            ),
        ]
    };
    match st.action {
        None => Vec::new(),
        // Everything at risk may leave at once, and nothing waits.
        Some(AdminAction::RaiseLimit) => limits(all, all),
        Some(AdminAction::DisableLimit) => limits(U256::ZERO, U256::ZERO),
        Some(AdminAction::RemoveGuardian) => vec![(
            dep.gateway,
            ILabGateway::setGuardianCall {
                account: a.guardian,
                enabled: false,
            }
            .abi_encode(),
        )],
        Some(AdminAction::Unpause) => {
            vec![(dep.gateway, ILabGateway::unpauseCall {}.abi_encode())]
        }
        Some(AdminAction::ReplaceVerifier) => dep
            .verifier
            .map(|v| {
                (
                    v,
                    ILabVerifier::proposeAttestorSetCall {
                        attestors_: vec![a.attacker],
                        threshold_: U256::from(1u8),
                    }
                    .abi_encode(),
                )
            })
            .into_iter()
            .collect(),
        Some(AdminAction::ExecuteVerifier) => dep
            .verifier
            .map(|v| (v, ILabVerifier::executeAttestorSetCall {}.abi_encode()))
            .into_iter()
            .collect(),
    }
}

/// The attacker's signature on his own attestation, once he is the verifier set.
fn attacker_signature(
    att: &ringfence_attest::Attestation,
    chain_id: u64,
    verifier: Address,
) -> Result<Bytes> {
    let k = AttestorKey::from_hex("lab attacker", ATTACKER_KEY)
        .map_err(|e| Error::Verifier(e.to_string()))?;
    let sig = k
        .sign(
            att,
            &ringfence_attest::attestation::domain(chain_id, verifier),
        )
        .map_err(|e| Error::Verifier(e.to_string()))?;
    Ok(sig.signature)
}

/// Calldata of `deliverAttested(attestation, signatures)`.
fn deliver_attested(a: &ringfence_attest::Attestation, sigs: Vec<Bytes>) -> Vec<u8> {
    let selector = &keccak256(DELIVER_ATTESTED.as_bytes())[..4];
    let mut data = selector.to_vec();
    data.extend((a.clone(), sigs).abi_encode_params());
    data
}

/// Where a step pays: its recipient, else the lab's attacker or user.
fn recipient_of(st: &crate::scenario::Step, a: &Accounts) -> Address {
    st.recipient.unwrap_or(if st.kind == StepKind::Attack {
        a.attacker
    } else {
        a.user
    })
}

/// The lab's attestor keys: fixed, derived from their index (local test keys, never funds).
fn lab_attestor_keys(n: usize) -> Result<Vec<AttestorKey>> {
    (0..n)
        .map(|i| {
            let k = keccak256(format!("ringfence lab attestor {i}"));
            AttestorKey::from_hex("lab attestor", &k.to_string())
                .map_err(|e| Error::Verifier(e.to_string()))
        })
        .collect()
}

/// What the attestors signed for one message: the attestation most of them signed, its
/// signatures in ascending signer order, and how many attestors signed anything for it.
struct Collected {
    attestation: Option<ringfence_attest::Attestation>,
    sigs: Vec<Bytes>,
    signers: usize,
}

/// The verifier arms' attestors: the code of `ringfence attest` ([`Attestor`]), stepped after
/// each mined block, each reading every chain through `endpoints` real proxies in front of
/// anvil with a `quorum`.
struct LabVerifier {
    attestors: Vec<Attestor>,
    /// Each attestor's alert lines (attested, refused, waiting, RPC disagreements).
    alerts: Vec<mpsc::UnboundedReceiver<serde_json::Value>>,
    /// Refusals by reason, over all attestors and messages.
    refusals: BTreeMap<String, usize>,
    stores: Vec<AttestStore>,
    /// proxies[attestor][chain][endpoint]
    proxies: Vec<Vec<Vec<LyingProxy>>>,
    src: usize,
    _dir: tempfile::TempDir,
}

impl LabVerifier {
    #[allow(clippy::too_many_arguments)]
    async fn start(
        s: &Scenario,
        policy: &Policy,
        chains: &[Chain],
        heads: &[u64],
        src: usize,
        dep: &Deployment,
        verifier: Address,
        keys: Vec<AttestorKey>,
    ) -> Result<Self> {
        let dir = tempfile::tempdir().map_err(|source| Error::Io {
            path: std::env::temp_dir(),
            source,
        })?;
        let max_amount = verifier_max_amount(s, policy);
        let mut alerts = Vec::with_capacity(keys.len());
        let mut attestors = Vec::with_capacity(keys.len());
        let mut stores = Vec::with_capacity(keys.len());
        let mut proxies = Vec::with_capacity(keys.len());
        for (i, key) in keys.into_iter().enumerate() {
            let (per_chain, cfg_chains) =
                attestor_chains(&policy.verifier, chains, heads, src).await?;
            let route = attestor_route(
                s,
                &policy.verifier,
                chains.len(),
                src,
                dep,
                verifier,
                max_amount,
            )?;
            let cfg = AttestorConfig {
                key_env: format!("RINGFENCE_LAB_ATTESTOR_KEY_{i}"),
                listen: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
                store: dir.path().join(format!("attestor-{i}.db")),
                poll_ms: 0,
                chains: cfg_chains,
                routes: vec![route],
            };
            let (tx, rx) = mpsc::unbounded_channel();
            alerts.push(rx);
            let att = Attestor::new(&cfg, key, tx)
                .await
                .map_err(|e| Error::Verifier(format!("attestor {i}: {e}")))?;
            stores.push(att.store());
            attestors.push(att);
            proxies.push(per_chain);
        }
        Ok(Self {
            attestors,
            alerts,
            refusals: BTreeMap::new(),
            stores,
            proxies,
            src,
            _dir: dir,
        })
    }

    /// `rpc = "poisoned"`: the source chain's endpoints report a `Sent` for the message in
    /// `block` that never happened — every endpoint of the first attestor, the first endpoint
    /// of each other one (the attacker's reach, as at KelpDAO, where the DVN's own nodes lied).
    fn poison(
        &self,
        block: u64,
        source: Address,
        id: B256,
        asset: B256,
        amount: U256,
        recipient: Address,
    ) {
        let lie = Lie::InjectLog {
            block,
            address: source,
            topics: vec![
                keccak256("Sent(bytes32,bytes32,uint256,address)".as_bytes()),
                id,
            ],
            data: (asset, amount, recipient).abi_encode_params().into(),
        };
        for (i, per_chain) in self.proxies.iter().enumerate() {
            let Some(ps) = per_chain.get(self.src) else {
                continue;
            };
            let reach = if i == 0 { ps.len() } else { 1 };
            for p in ps.iter().take(reach) {
                p.lie(lie.clone());
            }
        }
    }

    /// Every attestor reads up to the chains' heads and decides (`ringfence attest`'s step),
    /// all at once as separate operators would.
    async fn step(&mut self) -> Result<()> {
        let results =
            futures_util::future::join_all(self.attestors.iter_mut().map(Attestor::step)).await;
        for (i, r) in results.into_iter().enumerate() {
            r.map_err(|e| Error::Verifier(format!("attestor {i}: {e}")))?;
        }
        for (i, rx) in self.alerts.iter_mut().enumerate() {
            while let Ok(line) = rx.try_recv() {
                tracing::debug!(attestor = i, %line, "attestor");
                // Each attestor reports a (message, reason) once; the normal wait for depth is
                // not a refusal.
                let reason = line["refusal"]["reason"].as_str().unwrap_or("?");
                if (line["kind"] == "refused" || line["kind"] == "waiting")
                    && reason != "not-yet-confirmed"
                {
                    *self.refusals.entry(reason.to_owned()).or_default() += 1;
                }
            }
        }
        Ok(())
    }

    fn collect(&self, id: B256) -> Result<Collected> {
        let mut groups: Vec<(ringfence_attest::Attestation, Vec<ringfence_attest::Signed>)> =
            Vec::new();
        let mut signers = 0;
        for st in &self.stores {
            let Some(r) = st.get(id).map_err(|e| Error::Verifier(e.to_string()))? else {
                continue;
            };
            signers += 1;
            match groups.iter_mut().find(|g| g.0 == r.attestation) {
                Some(g) => g.1.push(r.signed),
                None => groups.push((r.attestation, vec![r.signed])),
            }
        }
        let best = groups.into_iter().max_by_key(|g| g.1.len());
        Ok(match best {
            Some((att, mut signed)) => {
                signed.sort_by_key(|x| x.signer);
                Collected {
                    attestation: Some(att),
                    sigs: signed.into_iter().map(|x| x.signature).collect(),
                    signers,
                }
            }
            None => Collected {
                attestation: None,
                sigs: Vec::new(),
                signers,
            },
        })
    }
}

/// The verifier route's rate cap: only where one asset is at stake (the window sums raw
/// amounts), from the guard's own daily share of what is at risk.
fn verifier_max_amount(s: &Scenario, policy: &Policy) -> Option<(U256, u64)> {
    match s.assets.as_slice() {
        [only] => {
            let (share, window) = if s.incident.class.mints() {
                (
                    policy.guard.mint_max_share_of_supply,
                    policy.guard.mint_window_s,
                )
            } else {
                (
                    policy.guard.outflow_max_share_of_locked,
                    policy.guard.outflow_window_s,
                )
            };
            Some((share_of(s.at_risk(only), share), window))
        }
        _ => None,
    }
}

/// One attestor's view of the chains: `v.endpoints` fresh proxies in front of each chain's
/// anvil (`[chain][endpoint]`), and the chain configs that read through them with the quorum,
/// from the block after each chain's head.
async fn attestor_chains(
    v: &VerifierPolicy,
    chains: &[Chain],
    heads: &[u64],
    src: usize,
) -> Result<(Vec<Vec<LyingProxy>>, Vec<ChainConfig>)> {
    let n = chains.len();
    let mut per_chain = Vec::with_capacity(n);
    let mut cfg_chains = Vec::with_capacity(n);
    for (ci, c) in chains.iter().enumerate() {
        let mut ps = Vec::with_capacity(v.endpoints);
        for _ in 0..v.endpoints {
            ps.push(
                LyingProxy::start(&c._anvil.http())
                    .await
                    .map_err(|e| Error::Verifier(format!("RPC proxy: {e}")))?,
            );
        }
        cfg_chains.push(ChainConfig {
            id: chain_id(ci, src, n).to_owned(),
            chain_id: None,
            rpc: ps.iter().map(|p| RedactedUrl::new(p.url())).collect(),
            quorum: Some(v.quorum),
            start_block: Some(heads[ci] + 1),
        });
        per_chain.push(ps);
    }
    Ok((per_chain, cfg_chains))
}

/// The attestors' one route for every asset: the source's `Sent` matched with the gateway's
/// request, checked by `verifier`, capped by `max_amount`.
fn attestor_route(
    s: &Scenario,
    v: &VerifierPolicy,
    n: usize,
    src: usize,
    dep: &Deployment,
    verifier: Address,
    max_amount: Option<(U256, u64)>,
) -> Result<RouteConfig> {
    let event = |sig: &str| {
        alloy::json_abi::Event::parse(sig).map_err(|e| Error::Verifier(format!("{sig}: {e}")))
    };
    Ok(RouteConfig {
        id: ROUTE.to_owned(),
        source: EndConfig {
            chain: chain_id(src, src, n).to_owned(),
            contract: dep.source,
            event: event(SOURCE_EVENT)?,
        },
        destination: EndConfig {
            chain: "dst".to_owned(),
            contract: dep.gateway,
            event: event(REQUEST_EVENT)?,
        },
        match_on: ["id", "asset", "amount", "recipient"]
            .map(str::to_owned)
            .to_vec(),
        tolerance: vec![
            FieldTolerance::default(),
            FieldTolerance::default(),
            FieldTolerance {
                scale: route_scale(s),
                fee_bps: route_fee_bps(s),
            },
        ],
        key: "id".to_owned(),
        asset: "asset".to_owned(),
        amount: "amount".to_owned(),
        recipient: "recipient".to_owned(),
        verifier,
        verifier_timelock_s: v.timelock_s,
        max_amount,
        confirmations: v.confirmations,
    })
}

/// Per attacked asset, the lesser of the attack and the bucket's capacity, in USD.
fn adaptive_bound(s: &Scenario, policy: &Policy) -> f64 {
    s.assets
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let attack = s
                .steps
                .iter()
                .filter(|x| x.asset == i && x.kind == StepKind::Attack)
                .fold(U256::ZERO, |acc, x| acc + x.amount);
            a.usd(attack.min(share_of(s.at_risk(a), policy.limits.bucket_capacity_share)))
        })
        .sum()
}

/// USD rounded to cents, never `-0.0`.
fn cents(x: f64) -> f64 {
    (x * 100.0).round() / 100.0 + 0.0
}

/// `share` (0..=1) of `v`, exactly to a millionth.
pub fn share_of(v: U256, share: f64) -> U256 {
    let ppm = (share.clamp(0.0, 1.0) * 1e6).round() as u64;
    v * U256::from(ppm) / U256::from(1_000_000u64)
}

/// USD as base units of a token at `price`.
pub fn usd_to_units(usd: f64, price: f64, decimals: u8) -> U256 {
    let tokens = usd / price;
    if !tokens.is_finite() || tokens <= 0.0 {
        return U256::ZERO;
    }
    // Whole tokens (integer part) times 10^decimals, plus the fraction to 6 places.
    let whole = tokens.trunc();
    let frac = ((tokens - whole) * 1e6).round() as u64;
    let scale = U256::from(10u8).pow(U256::from(decimals));
    let whole = U256::from(whole as u128) * scale;
    whole + U256::from(frac) * scale / U256::from(1_000_000u64)
}

/// The guardian's key: anvil's well-known development account #1 (public test key; the lab's
/// chains are local anvil chains started with anvil's default mnemonic).
const GUARDIAN_KEY: &str = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
/// The environment name the generated config gives for it (the lab hands the key over through
/// [`WatchOptions::secrets`]; the environment is never read).
const GUARDIAN_KEY_ENV: &str = "RINGFENCE_LAB_GUARDIAN_KEY";
/// How long the lab waits for the daemon to read a block and send its actions.
const GUARD_WAIT: Duration = Duration::from_secs(120);

fn guardian_address() -> Address {
    alloy::primitives::address!("70997970C51812dc3A010C7d01b50e0d17dc79C8")
}

/// The config id of chain `i` of an arm.
fn chain_id(i: usize, src: usize, n: usize) -> &'static str {
    if i == src && n == 2 { "src" } else { "dst" }
}

/// The guard daemon of `ringfence watch`, running on the arm's chains.
struct LabGuard {
    spec: Arc<GuardSpec>,
    alerts: mpsc::UnboundedReceiver<AlertRecord>,
    progress: mpsc::UnboundedReceiver<Committed>,
    seen: HashSet<String>,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<ringfence_chain::Result<()>>,
    _dir: tempfile::TempDir,
}

impl LabGuard {
    async fn start(
        s: &Scenario,
        policy: &Policy,
        chains: &[Chain],
        src: usize,
        dep: &Deployment,
        heads: &[u64],
    ) -> Result<Self> {
        let dir = tempfile::tempdir().map_err(|source| Error::Io {
            path: std::env::temp_dir(),
            source,
        })?;
        let starts: Vec<u64> = heads.iter().map(|h| h + 1).collect();
        let ports: Vec<u16> = chains.iter().map(|c| c._anvil.port).collect();
        let text = guard_config(&guard_document(
            s,
            policy,
            &ports,
            src,
            dep,
            &dir.path().join("guard.db"),
            &starts,
        ))?;
        let spec =
            ringfence_guard::config::parse(std::path::Path::new("<generated guard config>"), &text)
                .map_err(|d| Error::GuardConfig(format!("{d:?}\n{text}")))?;
        let spec = Arc::new(spec);
        let (alerts_tx, alerts) = mpsc::unbounded_channel();
        let (progress_tx, progress) = mpsc::unbounded_channel();
        let mut secrets = HashMap::new();
        secrets.insert(GUARDIAN_KEY_ENV.to_owned(), GUARDIAN_KEY.into());
        let opts = WatchOptions {
            alerts: Some(alerts_tx),
            progress: Some(progress_tx),
            secrets,
            ..WatchOptions::default()
        };
        let (stop, rx) = oneshot::channel::<()>();
        let watcher = Watcher::new(spec.clone(), opts);
        let task = tokio::spawn(watcher.run(async {
            let _ = rx.await;
        }));
        Ok(Self {
            spec,
            alerts,
            progress,
            seen: HashSet::new(),
            stop: Some(stop),
            task,
            _dir: dir,
        })
    }

    /// Waits until the daemon committed block `n` of each chain (config id, n) and sent the
    /// actions of the trips it found; returns the alerts it reported meanwhile.
    async fn wait(&mut self, blocks: &[(String, u64)]) -> Result<Vec<AlertRecord>> {
        let mut need: HashMap<&str, u64> = blocks.iter().map(|(c, n)| (c.as_str(), *n)).collect();
        let mut dispatched: HashSet<String> = HashSet::new();
        let deadline = tokio::time::Instant::now() + GUARD_WAIT;
        while !need.is_empty() {
            match tokio::time::timeout_at(deadline, self.progress.recv()).await {
                Ok(Some(c)) => {
                    if need.get(c.chain.as_str()).is_some_and(|n| c.block >= *n) {
                        need.remove(c.chain.as_str());
                    }
                    dispatched.extend(c.dispatched);
                }
                Ok(None) => return Err(self.failed().await),
                Err(_) => {
                    return Err(Error::Guard(format!(
                        "the guard daemon did not ingest {need:?} within {} s",
                        GUARD_WAIT.as_secs()
                    )));
                }
            }
        }
        let mut out = Vec::new();
        loop {
            while let Ok(a) = self.alerts.try_recv() {
                self.take(a, &mut dispatched, &mut out);
            }
            if dispatched.is_empty() {
                return Ok(out);
            }
            match tokio::time::timeout_at(deadline, self.alerts.recv()).await {
                Ok(Some(a)) => self.take(a, &mut dispatched, &mut out),
                Ok(None) => return Err(self.failed().await),
                Err(_) => {
                    return Err(Error::Guard(format!(
                        "the guard daemon did not send the actions of {dispatched:?} within {} s",
                        GUARD_WAIT.as_secs()
                    )));
                }
            }
        }
    }

    fn take(
        &mut self,
        a: AlertRecord,
        dispatched: &mut HashSet<String>,
        out: &mut Vec<AlertRecord>,
    ) {
        dispatched.remove(&a.id);
        if !a.retracted && self.seen.insert(a.id.clone()) {
            out.push(a);
        }
    }

    /// Why the daemon stopped.
    async fn failed(&mut self) -> Error {
        match (&mut self.task).await {
            Ok(Err(e)) => Error::Guard(format!("the guard daemon failed: {e}")),
            Ok(Ok(())) => Error::Guard("the guard daemon stopped".into()),
            Err(e) => Error::Guard(format!("the guard daemon panicked: {e}")),
        }
    }

    async fn stop(mut self) -> Result<()> {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        match tokio::time::timeout(Duration::from_secs(10), &mut self.task).await {
            Ok(Ok(Ok(()))) | Err(_) => Ok(()),
            Ok(Ok(Err(e))) => Err(Error::Guard(format!("the guard daemon failed: {e}"))),
            Ok(Err(e)) => Err(Error::Guard(format!("the guard daemon panicked: {e}"))),
        }
    }
}

/// The guard config the policy gives for a deployed scenario (TOML, parsed and validated by the
/// guard crate exactly as `ringfence watch` parses a config file).
fn guard_config(doc: &GuardDocument) -> Result<String> {
    toml::to_string(doc).map_err(|e| Error::GuardConfig(e.to_string()))
}

/// The document of [`guard_config`] for a deployed scenario on chains listening on `ports`:
/// its store at `db`, each chain read from `starts[i]`.
fn guard_document(
    s: &Scenario,
    policy: &Policy,
    ports: &[u16],
    src: usize,
    dep: &Deployment,
    db: &std::path::Path,
    starts: &[u64],
) -> GuardDocument {
    let src_id = if ports.len() == 2 { "src" } else { "dst" };
    GuardDocument {
        store: StoreDoc {
            path: plain(db.display().to_string()),
        },
        chain: guard_chains(ports, src, starts),
        token: guard_tokens(s, dep, src_id),
        bridge: guard_bridge(s, dep, src_id),
        action: guard_actions(dep),
        rule: guard_rules(s, &policy.guard, dep),
    }
}

/// A text value of the generated document.
fn text(v: &str) -> Text {
    plain(v.to_owned())
}

/// A list of text values of the generated document.
fn texts(v: &[String]) -> Option<Vec<Text>> {
    Some(v.iter().map(|x| text(x)).collect())
}

/// `[[chain]]`: each arm chain, read over WebSocket from its start block.
fn guard_chains(ports: &[u16], src: usize, starts: &[u64]) -> Vec<ChainDoc> {
    ports
        .iter()
        .enumerate()
        .map(|(i, port)| ChainDoc {
            id: text(chain_id(i, src, ports.len())),
            // WebSocket: the daemon wakes on each new head instead of polling.
            rpc: plain(Rpc::One(format!("ws://127.0.0.1:{port}"))),
            quorum: None,
            confirmations: Some(0),
            poll_ms: None,
            start_block: Some(starts.get(i).copied().unwrap_or(1)),
            max_block_range: None,
            stale_after_s: Some(86_400),
        })
        .collect()
}

/// `[[token]]`: each asset on the source chain (`src-SYMBOL`) and on the destination (`SYMBOL`).
fn guard_tokens(s: &Scenario, dep: &Deployment, src_id: &str) -> Vec<TokenDoc> {
    let mut token = Vec::new();
    for (i, a) in s.assets.iter().enumerate() {
        for (id, chain, address, decimals) in [
            (
                format!("src-{}", a.symbol),
                src_id,
                dep.src_tokens[i],
                a.source_decimals,
            ),
            (a.symbol.clone(), "dst", dep.dst_tokens[i], a.decimals),
        ] {
            token.push(TokenDoc {
                id: plain(id),
                chain: text(chain),
                address: plain(address.to_string()),
                decimals: plain(decimals),
                price_usd: Some(plain(a.price_usd)),
            });
        }
    }
    token
}

/// `[[bridge]]`: the lab route, source `Sent` to destination delivery.
fn guard_bridge(s: &Scenario, dep: &Deployment, src_id: &str) -> Vec<BridgeDoc> {
    let end = |chain: &str, contract: Address, event: &str| EndDoc {
        chain: text(chain),
        contract: plain(contract.to_string()),
        event: text(event),
    };
    vec![BridgeDoc {
        id: text("lab"),
        source: end(src_id, dep.source, SOURCE_EVENT),
        destination: end("dst", dep.gateway, DESTINATION_EVENT),
        match_on: plain(vec![
            plain(MatchItem::name("id")),
            plain(MatchItem::name("asset")),
            plain(MatchItem {
                name: text("amount"),
                scale: Some(plain(i64::from(route_scale(s)))),
                fee_bps: Some(plain(i64::from(route_fee_bps(s)))),
            }),
            plain(MatchItem::name("recipient")),
        ]),
        key: None,
    }]
}

/// `[[action]]`: the guardian pauses the gateway, and cancels a flagged delivery while it waits
/// in the delay queue (skipped when the delivery was not queued).
fn guard_actions(dep: &Deployment) -> Vec<ActionDoc> {
    vec![
        ActionDoc::Pause(PauseDoc {
            id: text("pause-gateway"),
            chain: Some(text("dst")),
            contract: Some(plain(dep.gateway.to_string())),
            call: Some(text("pause()")),
            key_env: Some(text(GUARDIAN_KEY_ENV)),
            gas_limit: None,
        }),
        ActionDoc::Cancel(CancelDoc {
            id: text("cancel-queued"),
            chain: Some(text("dst")),
            contract: Some(plain(dep.gateway.to_string())),
            call: Some(text("cancel(bytes32)")),
            arg: Some(text("queueId")),
            only_if: Some(text("queued")),
            key_env: Some(text(GUARDIAN_KEY_ENV)),
            gas_limit: None,
        }),
    ]
}

/// The actions of a rule of `kind`: `extra`, after `pause-gateway` when the policy pauses on
/// that kind and the kind may pause.
fn rule_actions(g: &GuardPolicy, kind: &str, extra: &[&str]) -> Option<Vec<Text>> {
    let mut v: Vec<Text> = extra.iter().map(|x| text(x)).collect();
    if g.pause_on.iter().any(|k| k == kind) && PAUSING_KINDS.contains(&kind) {
        v.insert(0, text("pause-gateway"));
    }
    Some(v)
}

/// `[[rule]]`: message matching (when the policy has it), the admin-changes rule, then each
/// asset's rules.
fn guard_rules(s: &Scenario, g: &GuardPolicy, dep: &Deployment) -> Vec<RuleDoc> {
    let mut rule = Vec::new();
    if g.message_match {
        rule.push(RuleDoc::MessageMatch(MessageMatchDoc {
            id: text("messages"),
            actions: rule_actions(g, kind::MESSAGE_MATCH, &["cancel-queued"]),
            bridge: Some(text("lab")),
            timeout_s: Some(3600),
            relay_delay_s: Some(0),
            source_wait_s: None,
        }));
    }
    rule.push(admin_rule(g, dep));
    for a in &s.assets {
        asset_rules(s, g, dep, a, &mut rule);
    }
    rule
}

/// The gateway's (and its verifier's) own configuration: an admin who lifts a limit, removes
/// the guardian, unpauses or proposes another attestor set is the first step of an attack.
fn admin_rule(g: &GuardPolicy, dep: &Deployment) -> RuleDoc {
    let mut watched = vec![dep.gateway.to_string()];
    if let Some(v) = dep.verifier {
        watched.push(v.to_string());
    }
    let admin_events: Vec<String> = LAB_ADMIN_EVENTS.iter().map(|e| (*e).to_owned()).collect();
    RuleDoc::Privileged(PrivilegedDoc {
        id: text("admin-changes"),
        actions: rule_actions(g, kind::PRIVILEGED, &[]),
        chain: Some(text("dst")),
        contracts: texts(&watched),
        changes: None,
        extra_events: texts(&admin_events),
        layers: None,
        severity: None,
    })
}

/// One asset's rules, pushed onto `rule`: its backing (when the policy has it), then its mint
/// rate (minting incidents) or its outflow rate.
fn asset_rules(
    s: &Scenario,
    g: &GuardPolicy,
    dep: &Deployment,
    a: &crate::scenario::Asset,
    rule: &mut Vec<RuleDoc>,
) {
    let mints = s.incident.class.mints();
    let sym = &a.symbol;
    if g.backing {
        let (token, backing, holder) = if mints {
            (sym.clone(), format!("src-{sym}"), dep.source)
        } else {
            (format!("src-{sym}"), sym.clone(), dep.gateway)
        };
        rule.push(RuleDoc::Backing(BackingDoc {
            id: plain(format!("backing-{sym}")),
            actions: rule_actions(g, kind::BACKING, &[]),
            token: Some(plain(token)),
            backing_token: Some(plain(backing)),
            holder: Some(plain(holder.to_string())),
            tolerance: Some(plain(Amount("0".to_owned()))),
            relay_delay_s: Some(0),
        }));
    }
    if mints {
        rule.push(RuleDoc::MintRate(MintRateDoc {
            id: plain(format!("mint-rate-{sym}")),
            actions: rule_actions(g, kind::MINT_RATE, &[]),
            token: Some(text(sym)),
            window_s: Some(plain(g.mint_window_s)),
            max_amount: None,
            max_share_of_supply: Some(plain(g.mint_max_share_of_supply)),
            max_per_minter: None,
        }));
    } else {
        let max_usd = a.usd(a.locked) * g.outflow_max_share_of_locked;
        rule.push(RuleDoc::OutflowRate(OutflowRateDoc {
            id: plain(format!("outflow-{sym}")),
            actions: rule_actions(g, kind::OUTFLOW_RATE, &[]),
            chain: Some(text("dst")),
            contract: Some(plain(dep.gateway.to_string())),
            tokens: Some(vec![text(sym)]),
            window_s: Some(plain(g.outflow_window_s)),
            max_usd: Some(plain(max_usd.max(1.0))),
            big_transfer_usd: None,
        }));
    }
}

/// The lab route's decimal scale (the lab has one route: the scenario parser makes its assets
/// share one scale).
fn route_scale(s: &Scenario) -> i8 {
    s.assets.first().map_or(0, crate::scenario::Asset::scale)
}

/// The lab route's fee tolerance: the largest fee of its assets (the lab has one route).
fn route_fee_bps(s: &Scenario) -> u16 {
    s.assets.iter().map(|a| a.fee_bps).max().unwrap_or(0)
}

/// The lab contracts' configuration events the generated `privileged` rule watches on top of
/// its defaults (`RingfenceControls.sol`, `LabGateway`; the verifier's `AttestorSetProposed` and
/// `AttestorSetChanged` are among the rule's built-in messaging-layer events).
const LAB_ADMIN_EVENTS: [&str; 5] = [
    "GuardianSet(address indexed account, bool enabled)",
    "Unpaused(address account)",
    "BucketConfigured(bytes32 indexed key, uint256 capacity, uint256 rate, uint256 tokens)",
    "DelayConfigured(bytes32 indexed key, uint256 threshold, uint64 delaySeconds)",
    "VerifierRequired(address verifier, bytes32 routeId, uint256 srcChainId)",
];

#[cfg(test)]
mod tests {
    use super::*;

    /// The generated guard config of every incident, on one chain and on two, with and
    /// without a verifier: its TOML reads back as the same document, and resolves.
    #[test]
    fn generated_guard_configs_round_trip() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../incidents");
        let scenarios = Scenario::load_dir(&dir).unwrap_or_else(|e| panic!("{e}"));
        assert!(!scenarios.is_empty());
        let policy = Policy::default();
        let addr = Address::repeat_byte;
        for s in &scenarios {
            let n = s.assets.len();
            for (ports, verifier) in [(vec![8545u16, 8546], None), (vec![8546], Some(addr(9)))] {
                let dep = Deployment {
                    source: addr(1),
                    gateway: addr(2),
                    verifier,
                    src_tokens: (0..n).map(|i| addr(0x10 + i as u8)).collect(),
                    dst_tokens: (0..n).map(|i| addr(0x40 + i as u8)).collect(),
                };
                let db = std::path::Path::new("/tmp/lab guard \"x\".db");
                let doc = guard_document(s, &policy, &ports, 0, &dep, db, &[5, 7]);
                let text = guard_config(&doc).unwrap_or_else(|e| panic!("{e}"));
                let path = std::path::Path::new("lab.toml");
                let read = ringfence_guard::config::parse_document(path, &text)
                    .unwrap_or_else(|e| panic!("{}: {e}\n{text}", s.incident.id));
                assert_eq!(read, doc, "{text}");
                let spec = ringfence_guard::config::parse(path, &text).expect("resolves");
                assert_eq!(spec.store.path, db);
                assert_eq!(spec.chains.len(), ports.len());
                assert!(spec.rules.iter().any(|r| r.id == "admin-changes"));
            }
        }
    }

    #[test]
    fn shares_and_usd_are_exact_enough() {
        let v = U256::from(102_000_000u64) * U256::from(10u8).pow(U256::from(18u8));
        assert_eq!(
            share_of(v, 0.01),
            U256::from(1_020_000u64) * U256::from(10u8).pow(U256::from(18u8))
        );
        assert_eq!(
            usd_to_units(5_000_000.0, 2.5, 6),
            U256::from(2_000_000_000_000u64)
        );
        assert_eq!(usd_to_units(-1.0, 2.5, 6), U256::ZERO);
    }
}
