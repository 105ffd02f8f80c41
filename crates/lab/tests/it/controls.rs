//! The reference controls (contracts/src/RingfenceControls.sol, through LabGateway) on anvil:
//! token bucket (and its config-update pitfall avoided), delay queue with guardian cancel, and the
//! pause-only guardian.

use alloy::network::TransactionBuilder;
use alloy::primitives::{Address, B256, Bytes, U256, keccak256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::TransactionRequest;
use alloy::sol;
use alloy::sol_types::{SolCall, SolValue};
use ringfence_lab::anvil::{self, Anvil};

use crate::require_anvil;

sol! {
    interface IGateway {
        function setRoute(bytes32 asset, address token, bool mints) external;
        function configureBucket(bytes32 asset, uint256 capacity, uint256 ratePerSecond) external;
        function configureDelay(bytes32 asset, uint256 threshold, uint64 delay) external;
        function setGuardian(address account, bool enabled) external;
        function deliver(bytes32 id, bytes32 asset, uint256 amount, address recipient) external;
        function execute(bytes32 queueId) external;
        function cancel(bytes32 queueId) external;
        function pause() external;
        function unpause() external;
        function paused() external view returns (bool);
        function available(bytes32 key) external view returns (uint256);
        function deliveries() external view returns (uint256);
    }
    interface IToken {
        function mint(address to, uint256 amount) external;
        function grantRole(bytes32 role, address account) external;
        function balanceOf(address who) external view returns (uint256);
    }
}

struct Lab {
    _anvil: Anvil,
    p: DynProvider,
    admin: Address,
    guardian: Address,
    relayer: Address,
    user: Address,
    gateway: Address,
    token: Address,
}

const ASSET: &str = "USDX";

fn key() -> B256 {
    keccak256(ASSET)
}

impl Lab {
    async fn new() -> Self {
        require_anvil();
        let anvil = anvil::spawn(31_337, true).expect("anvil");
        let p = ProviderBuilder::new()
            .connect_http(anvil.http().parse().expect("url"))
            .erased();
        let accts = p.get_accounts().await.expect("accounts");
        let (admin, guardian, relayer, user) = (accts[0], accts[1], accts[2], accts[3]);
        let mut lab = Self {
            _anvil: anvil,
            p,
            admin,
            guardian,
            relayer,
            user,
            gateway: Address::ZERO,
            token: Address::ZERO,
        };
        lab.gateway = lab
            .deploy("LabGateway", (admin, relayer).abi_encode_params())
            .await;
        lab.token = lab
            .deploy(
                "GuardedToken",
                (ASSET.to_owned(), ASSET.to_owned(), U256::from(18u8), admin).abi_encode_params(),
            )
            .await;
        lab.ok(
            admin,
            lab.token,
            IToken::grantRoleCall {
                role: keccak256("MINTER_ROLE"),
                account: lab.gateway,
            }
            .abi_encode(),
        )
        .await;
        lab.gateway_ok(
            admin,
            IGateway::setRouteCall {
                asset: key(),
                token: lab.token,
                mints: true,
            },
        )
        .await;
        lab.gateway_ok(
            admin,
            IGateway::setGuardianCall {
                account: guardian,
                enabled: true,
            },
        )
        .await;
        lab
    }

    async fn deploy(&self, name: &str, args: Vec<u8>) -> Address {
        let mut code = ringfence_quorum::testing::bytecode(name).to_vec();
        code.extend(args);
        let tx = TransactionRequest::default()
            .from(self.admin)
            .with_deploy_code(code);
        let r = self
            .p
            .send_transaction(tx)
            .await
            .expect("send")
            .get_receipt()
            .await
            .expect("receipt");
        assert!(r.status(), "deploy {name}");
        r.contract_address.expect("address")
    }

    async fn call(&self, from: Address, to: Address, data: Vec<u8>) -> bool {
        let tx = TransactionRequest::default()
            .from(from)
            .to(to)
            .input(Bytes::from(data).into())
            .gas_limit(1_000_000);
        self.p
            .send_transaction(tx)
            .await
            .expect("send")
            .get_receipt()
            .await
            .expect("receipt")
            .status()
    }

    /// `from` sends `call` to the gateway; whether it went through.
    async fn gateway_call(&self, from: Address, call: impl SolCall) -> bool {
        self.call(from, self.gateway, call.abi_encode()).await
    }

    /// `from` sends `call` to the gateway, which must go through.
    async fn gateway_ok(&self, from: Address, call: impl SolCall) {
        self.ok(from, self.gateway, call.abi_encode()).await;
    }

    /// The admin sets the gateway's token bucket: `capacity`, refilled at `rate` a second.
    async fn configure_bucket(&self, capacity: U256, rate: U256) {
        let call = IGateway::configureBucketCall {
            asset: key(),
            capacity,
            ratePerSecond: rate,
        };
        self.gateway_ok(self.admin, call).await;
    }

    /// The admin holds transfers above `threshold` tokens for `delay` seconds.
    async fn configure_delay(&self, threshold: u64, delay: u64) {
        let data = IGateway::configureDelayCall {
            asset: key(),
            threshold: units(threshold),
            delay,
        }
        .abi_encode();
        self.ok(self.admin, self.gateway, data).await;
    }

    /// The user executes queued transfer `q` at the gateway; whether it went through.
    async fn execute(&self, q: B256) -> bool {
        let data = IGateway::executeCall { queueId: q }.abi_encode();
        self.call(self.user, self.gateway, data).await
    }

    /// `from` cancels queued transfer `q` at the gateway; whether it went through.
    async fn cancel(&self, from: Address, q: B256) -> bool {
        let data = IGateway::cancelCall { queueId: q }.abi_encode();
        self.call(from, self.gateway, data).await
    }

    async fn ok(&self, from: Address, to: Address, data: Vec<u8>) {
        assert!(self.call(from, to, data).await, "transaction reverted");
    }

    async fn view(&self, to: Address, data: Vec<u8>) -> U256 {
        let out = self
            .p
            .call(
                TransactionRequest::default()
                    .to(to)
                    .input(Bytes::from(data).into()),
            )
            .await
            .expect("call");
        U256::try_from_be_slice(&out[..32]).expect("word")
    }

    async fn warp(&self, seconds: u64) {
        let _: serde_json::Value = self
            .p
            .raw_request("evm_increaseTime".into(), (seconds,))
            .await
            .expect("increaseTime");
        let _: serde_json::Value = self
            .p
            .raw_request("evm_mine".into(), ())
            .await
            .expect("mine");
    }

    async fn deliver(&self, n: u64) -> bool {
        let id = keccak256(n.to_be_bytes());
        self.call(
            self.relayer,
            self.gateway,
            IGateway::deliverCall {
                id,
                asset: key(),
                amount: units(n),
                recipient: self.user,
            }
            .abi_encode(),
        )
        .await
    }

    async fn balance(&self) -> U256 {
        self.view(
            self.token,
            IToken::balanceOfCall { who: self.user }.abi_encode(),
        )
        .await
    }

    async fn available(&self) -> U256 {
        self.view(
            self.gateway,
            IGateway::availableCall { key: key() }.abi_encode(),
        )
        .await
    }

    /// The queue id of the n-th delivery (1-based), as the gateway derives it.
    fn queue_id(&self, n: u64) -> B256 {
        keccak256((self.gateway, U256::from(n)).abi_encode())
    }
}

fn units(n: u64) -> U256 {
    U256::from(n) * U256::from(10u64).pow(U256::from(18u8))
}

#[tokio::test]
async fn token_bucket_caps_a_burst_and_refills_at_its_rate() {
    let lab = Lab::new().await;
    // capacity 1,000, 1 token per second
    lab.configure_bucket(units(1000), units(1)).await;
    assert!(lab.deliver(600).await);
    assert!(
        !lab.deliver(600).await,
        "the second 600 exceeds the 400 left"
    );
    assert!(lab.deliver(400).await);
    assert_eq!(lab.balance().await, units(1000));
    lab.warp(100).await;
    let a = lab.available().await;
    assert!(
        a >= units(100) && a <= units(102),
        "refilled about 100, got {a}"
    );
    lab.warp(5000).await;
    assert_eq!(lab.available().await, units(1000), "never above capacity");
}

#[tokio::test]
async fn regression_config_update_never_refills_the_bucket() {
    let lab = Lab::new().await;
    lab.configure_bucket(units(1000), U256::ZERO).await;
    assert!(lab.deliver(900).await);
    assert_eq!(lab.available().await, units(100));
    // Raising the capacity (or re-sending the same config) must not reset the bucket to full.
    lab.configure_bucket(units(2000), U256::ZERO).await;
    assert_eq!(
        lab.available().await,
        units(100),
        "an update settles and clamps, it never refills"
    );
    assert!(!lab.deliver(500).await);
    // Lowering it clamps.
    lab.configure_bucket(units(50), U256::ZERO).await;
    assert_eq!(lab.available().await, units(50));
}

#[tokio::test]
async fn delay_queue_holds_large_transfers_and_the_guardian_cancels_them() {
    let lab = Lab::new().await;
    lab.configure_delay(100, 3600).await;
    assert!(lab.deliver(50).await, "small transfers pass at once");
    assert_eq!(lab.balance().await, units(50));
    assert!(
        lab.deliver(500).await,
        "a large transfer is accepted into the queue"
    );
    assert!(lab.deliver(700).await);
    assert_eq!(lab.balance().await, units(50), "nothing paid yet");
    let (q500, q700) = (lab.queue_id(2), lab.queue_id(3));
    assert!(!lab.execute(q500).await, "still delayed");
    assert!(!lab.cancel(lab.user, q700).await, "only a guardian cancels");
    assert!(lab.cancel(lab.guardian, q700).await, "the guardian cancels");
    lab.warp(3601).await;
    assert!(lab.execute(q500).await, "paid once the delay passed");
    assert!(!lab.execute(q500).await, "paid once");
    assert!(!lab.execute(q700).await, "cancelled stays cancelled");
    assert_eq!(lab.balance().await, units(550));
}

#[tokio::test]
async fn pause_is_guardian_only_and_only_the_admin_unpauses() {
    let lab = Lab::new().await;
    lab.configure_delay(100, 60).await;
    assert!(lab.deliver(500).await);
    assert!(
        !lab.gateway_call(lab.user, IGateway::pauseCall {}).await,
        "anyone else cannot pause"
    );
    assert!(
        !lab.gateway_call(lab.admin, IGateway::pauseCall {}).await,
        "the admin is not a guardian"
    );
    lab.gateway_ok(lab.guardian, IGateway::pauseCall {}).await;
    lab.gateway_ok(lab.guardian, IGateway::pauseCall {}).await; // idempotent
    assert!(!lab.deliver(1).await, "paused: no delivery");
    lab.warp(61).await;
    assert!(
        !lab.execute(lab.queue_id(1)).await,
        "paused: queued transfers frozen"
    );
    assert!(
        !lab.gateway_call(lab.guardian, IGateway::unpauseCall {})
            .await,
        "a guardian cannot unpause"
    );
    assert!(
        !lab.gateway_call(
            lab.guardian,
            IGateway::configureBucketCall {
                asset: key(),
                capacity: U256::ZERO,
                ratePerSecond: U256::ZERO
            }
        )
        .await,
        "nor reconfigure"
    );
    lab.gateway_ok(lab.admin, IGateway::unpauseCall {}).await;
    assert!(lab.execute(lab.queue_id(1)).await, "unpaused: paid");
    assert_eq!(lab.balance().await, units(500));
}
