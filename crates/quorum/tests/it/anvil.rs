//! The workspace's anvil harness (`ringfence_quorum::testing::Anvil`) and a contract that emits
//! `Sent` logs (the lab's source, from the committed artifacts).

use alloy::primitives::{Address, B256, U256};
use alloy::providers::DynProvider;
use alloy::sol;

sol! {
    #[sol(rpc)]
    interface ILabSource {
        event Sent(bytes32 indexed id, bytes32 asset, uint256 amount, address recipient);
        function setRoute(bytes32 asset, address token, bool burn_) external;
        function sendUnlocked(bytes32 id, bytes32 asset, uint256 amount, address recipient) external;
    }
}

pub(crate) use ringfence_quorum::mined;
pub(crate) use ringfence_quorum::testing::Anvil;
use ringfence_quorum::testing::deploy;

/// Deploys the lab's `LabSource` with one route and returns it.
pub(crate) async fn deploy_source(p: &DynProvider) -> Address {
    let addr = deploy(p, "LabSource", Vec::new()).await;
    mined!(
        ILabSource::new(addr, p).setRoute(B256::repeat_byte(0xa5), Address::repeat_byte(1), false),
        "route"
    );
    addr
}

/// Emits a `Sent` and returns its block number.
pub(crate) async fn emit_sent(p: &DynProvider, source: Address, id: u8, amount: u64) -> u64 {
    let r = mined!(
        ILabSource::new(source, p).sendUnlocked(
            B256::repeat_byte(id),
            B256::repeat_byte(0xa5),
            U256::from(amount),
            Address::repeat_byte(7),
        ),
        "receipt"
    );
    assert!(r.status());
    r.block_number.expect("block")
}

pub(crate) fn sent_topic() -> B256 {
    use alloy::sol_types::SolEvent;
    ILabSource::Sent::SIGNATURE_HASH
}
