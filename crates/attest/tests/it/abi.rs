//! The ABI of the contracts the attestor tests and the demo drive (contracts/src): the tests'
//! `chains` module and `examples/attest_demo.rs` include this one file.

use alloy::sol;

sol! {
    #[sol(rpc)]
    #[derive(Debug)]
    interface IToken {
        function mint(address to, uint256 amount) external;
        function grantRole(bytes32 role, address account) external;
        function approve(address spender, uint256 amount) external returns (bool);
        function balanceOf(address who) external view returns (uint256);
    }

    #[sol(rpc)]
    #[derive(Debug)]
    interface ISource {
        event Sent(bytes32 indexed id, bytes32 asset, uint256 amount, address recipient);
        function setRoute(bytes32 asset, address token, bool burn_) external;
        function send(bytes32 id, bytes32 asset, uint256 amount, address recipient) external;
    }

    #[derive(Debug)]
    struct Attestation {
        bytes32 routeId;
        uint256 srcChainId;
        bytes32 srcTxHash;
        uint256 srcLogIndex;
        bytes32 messageId;
        bytes32 asset;
        uint256 amount;
        address recipient;
    }

    #[sol(rpc)]
    #[derive(Debug)]
    interface IVerifier {
        function digest(Attestation calldata a) external view returns (bytes32);
        function verify(Attestation calldata a, bytes[] calldata signatures) external view returns (bool);
        function proposeAttestorSet(address[] calldata attestors_, uint256 threshold_) external;
        function executeAttestorSet() external;
        function threshold() external view returns (uint256);
        function isAttestor(address a) external view returns (bool);
    }

    #[sol(rpc)]
    #[derive(Debug)]
    interface IGateway {
        event Requested(bytes32 indexed id, bytes32 asset, uint256 amount, address recipient);
        function setRoute(bytes32 asset, address token, bool mints) external;
        function request(bytes32 id, bytes32 asset, uint256 amount, address recipient) external;
        function deliver(Attestation calldata a, bytes[] calldata signatures) external;
        function delivered(bytes32 id) external view returns (bool);
    }
}

/// The attestor's attestation as the contracts' `Attestation`.
pub(crate) fn to_sol(a: &ringfence_attest::Attestation) -> Attestation {
    Attestation {
        routeId: a.routeId,
        srcChainId: a.srcChainId,
        srcTxHash: a.srcTxHash,
        srcLogIndex: a.srcLogIndex,
        messageId: a.messageId,
        asset: a.asset,
        amount: a.amount,
        recipient: a.recipient,
    }
}
