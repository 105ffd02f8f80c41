// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// What a ringfence attestor signs (EIP-712): a destination message and the source event it
/// was checked against. `asset` is a bytes32 id (an address is left-padded).
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

/// A k-of-n set of ringfence attestors. `verify` accepts an attestation only with signatures of
/// at least `threshold` distinct attestors, given in strictly ascending signer order (so a
/// signature cannot be counted twice). The set and the threshold change only through a timelock
/// (`proposeAttestorSet`, then `executeAttestorSet` once `delay` has passed); the delay is fixed
/// at deployment and nothing lets the admin skip verification.
contract RingfenceAttestationVerifier {
    bytes32 public constant ATTESTATION_TYPEHASH = keccak256(
        "Attestation(bytes32 routeId,uint256 srcChainId,bytes32 srcTxHash,uint256 srcLogIndex,bytes32 messageId,bytes32 asset,uint256 amount,address recipient)"
    );
    bytes32 private constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    /// secp256k1n / 2: signatures with a higher `s` are malleable copies and are refused.
    uint256 private constant HALF_N = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0;

    event AttestorSetProposed(address[] attestors, uint256 threshold, uint64 eta);
    event AttestorSetChanged(address[] attestors, uint256 threshold);
    event AttestorSetCancelled();

    address public immutable admin;
    uint64 public immutable delay;
    uint256 public threshold;
    mapping(address => bool) public isAttestor;
    address[] private _attestors;

    address[] private _pendingAttestors;
    uint256 public pendingThreshold;
    /// When the pending change may be executed; 0 when none is pending.
    uint64 public pendingEta;
    /// Timestamp of the last proposal or execution (attestors refuse within `delay` of it).
    uint64 public lastConfigChange;

    constructor(address[] memory attestors_, uint256 threshold_, address admin_, uint64 delay_) {
        require(delay_ > 0, "timelock delay must be > 0");
        admin = admin_;
        delay = delay_;
        _set(attestors_, threshold_);
    }

    function attestors() external view returns (address[] memory) {
        return _attestors;
    }

    function pendingAttestors() external view returns (address[] memory) {
        return _pendingAttestors;
    }

    function domainSeparator() public view returns (bytes32) {
        return keccak256(
            abi.encode(
                DOMAIN_TYPEHASH,
                keccak256("RingfenceAttestationVerifier"),
                keccak256("1"),
                block.chainid,
                address(this)
            )
        );
    }

    function digest(Attestation calldata a) public view returns (bytes32) {
        bytes32 structHash = keccak256(
            abi.encode(
                ATTESTATION_TYPEHASH,
                a.routeId,
                a.srcChainId,
                a.srcTxHash,
                a.srcLogIndex,
                a.messageId,
                a.asset,
                a.amount,
                a.recipient
            )
        );
        return keccak256(abi.encodePacked("\x19\x01", domainSeparator(), structHash));
    }

    /// Returns true when at least `threshold` distinct attestors signed `a`; reverts with the
    /// reason otherwise. Each signature is 65 bytes (r, s, v); signers strictly ascending.
    function verify(Attestation calldata a, bytes[] calldata signatures) external view returns (bool) {
        require(signatures.length >= threshold, "ringfence: too few attestations");
        bytes32 d = digest(a);
        address last = address(0);
        for (uint256 i = 0; i < signatures.length; i++) {
            address signer = _recover(d, signatures[i]);
            require(signer > last, "ringfence: signers not ascending or repeated");
            require(isAttestor[signer], "ringfence: not an attestor");
            last = signer;
        }
        return true;
    }

    function proposeAttestorSet(address[] calldata attestors_, uint256 threshold_) external {
        require(msg.sender == admin, "not admin");
        _check(attestors_, threshold_);
        delete _pendingAttestors;
        for (uint256 i = 0; i < attestors_.length; i++) _pendingAttestors.push(attestors_[i]);
        pendingThreshold = threshold_;
        pendingEta = uint64(block.timestamp) + delay;
        lastConfigChange = uint64(block.timestamp);
        emit AttestorSetProposed(attestors_, threshold_, pendingEta);
    }

    /// Anyone may execute a proposal once its timelock has passed.
    function executeAttestorSet() external {
        require(pendingEta != 0, "nothing pending");
        require(block.timestamp >= pendingEta, "timelock not passed");
        address[] memory next = _pendingAttestors;
        for (uint256 i = 0; i < _attestors.length; i++) isAttestor[_attestors[i]] = false;
        delete _attestors;
        _set(next, pendingThreshold);
        delete _pendingAttestors;
        pendingThreshold = 0;
        pendingEta = 0;
        lastConfigChange = uint64(block.timestamp);
    }

    function cancelAttestorSet() external {
        require(msg.sender == admin, "not admin");
        require(pendingEta != 0, "nothing pending");
        delete _pendingAttestors;
        pendingThreshold = 0;
        pendingEta = 0;
        emit AttestorSetCancelled();
    }

    function _check(address[] memory attestors_, uint256 threshold_) private pure {
        require(threshold_ > 0 && threshold_ <= attestors_.length, "threshold out of range");
        for (uint256 i = 0; i < attestors_.length; i++) {
            require(attestors_[i] != address(0), "zero attestor");
            for (uint256 j = 0; j < i; j++) require(attestors_[i] != attestors_[j], "duplicate attestor");
        }
    }

    function _set(address[] memory attestors_, uint256 threshold_) private {
        _check(attestors_, threshold_);
        for (uint256 i = 0; i < attestors_.length; i++) {
            isAttestor[attestors_[i]] = true;
            _attestors.push(attestors_[i]);
        }
        threshold = threshold_;
        emit AttestorSetChanged(attestors_, threshold_);
    }

    function _recover(bytes32 d, bytes calldata sig) private pure returns (address) {
        require(sig.length == 65, "ringfence: signature must be 65 bytes");
        bytes32 r = bytes32(sig[0:32]);
        bytes32 s = bytes32(sig[32:64]);
        uint8 v = uint8(sig[64]);
        if (v < 27) v += 27;
        require(v == 27 || v == 28, "ringfence: bad signature v");
        require(uint256(s) <= HALF_N, "ringfence: malleable signature");
        address signer = ecrecover(d, v, r, s);
        require(signer != address(0), "ringfence: bad signature");
        return signer;
    }
}
