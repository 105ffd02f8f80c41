// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import "./RingfenceControls.sol";
import "./RingfenceAttestationVerifier.sol";

interface ILabToken {
    function transferFrom(address from, address to, uint256 amount) external returns (bool);
    function transfer(address to, uint256 amount) external returns (bool);
    function mint(address to, uint256 amount) external;
    function burn(uint256 amount) external;
}

/// The incident lab's source side: locks (or burns) a user's tokens and emits `Sent`. The caller
/// chooses the message id so that a replay can reproduce historical (reused) nonces.
contract LabSource {
    event Sent(bytes32 indexed id, bytes32 asset, uint256 amount, address recipient);

    address public owner;
    mapping(bytes32 => address) public tokenOf;
    mapping(bytes32 => bool) public burns;

    constructor() {
        owner = msg.sender;
    }

    function setRoute(bytes32 asset, address token, bool burn_) external {
        require(msg.sender == owner, "not owner");
        tokenOf[asset] = token;
        burns[asset] = burn_;
    }

    function send(bytes32 id, bytes32 asset, uint256 amount, address recipient) external {
        address token = tokenOf[asset];
        require(token != address(0), "unknown asset");
        require(ILabToken(token).transferFrom(msg.sender, address(this), amount), "transfer failed");
        if (burns[asset]) ILabToken(token).burn(amount);
        emit Sent(id, asset, amount, recipient);
    }

    /// Models a source-side bug (QBridge, 2022: a deposit for a zero-address token moved nothing):
    /// the message claims `amount` but nothing is locked.
    function sendUnlocked(bytes32 id, bytes32 asset, uint256 amount, address recipient) external {
        require(tokenOf[asset] != address(0), "unknown asset");
        emit Sent(id, asset, amount, recipient);
    }
}

/// The incident lab's destination side: a bridge gateway that mints (or releases from its own
/// balance) for every message its relayer delivers — it trusts the relayer blindly, like a
/// bridge whose verification was bypassed or whose key leaked — behind the ringfence controls:
/// a pause-only guardian, a token bucket per asset and a delay queue above a size.
///
/// `Delivered` is emitted when a message is accepted, whether it is paid out at once or queued
/// (`queued`, with `queueId` for `cancel`); a queued transfer is paid out by `execute` once ready.
///
/// With `requireAttestations` (set once, by the admin, at deployment) the relayer's word is no
/// longer enough: a message is posted with `request` (`Requested`, what ringfence attestors check
/// against the source chain) and paid only through `deliverAttested`, with k valid attestations
/// of a `RingfenceAttestationVerifier` — the verifier arm of the replay lab.
contract LabGateway is PauseGuardian, TokenBucketLimit, DelayQueue {
    event Delivered(bytes32 indexed id, bytes32 asset, uint256 amount, address recipient, bytes32 queueId, bool queued);
    event Requested(bytes32 indexed id, bytes32 asset, uint256 amount, address recipient);
    event VerifierRequired(address verifier, bytes32 routeId, uint256 srcChainId);

    struct Route {
        address token;
        bool mints;
    }

    address public relayer;
    uint256 public deliveries;
    mapping(bytes32 => Route) public routes;

    RingfenceAttestationVerifier public verifier;
    bytes32 public routeId;
    uint256 public srcChainId;
    /// message id → keccak256(abi.encode(asset, amount, recipient)) of its request.
    mapping(bytes32 => bytes32) public requests;
    mapping(bytes32 => bool) public attestedDelivered;

    constructor(address admin_, address relayer_) PauseGuardian(admin_) {
        relayer = relayer_;
    }

    function setRoute(bytes32 asset, address token, bool mints) external onlyAdmin {
        routes[asset] = Route(token, mints);
    }

    function configureBucket(bytes32 asset, uint256 capacity, uint256 ratePerSecond) external onlyAdmin {
        _configureBucket(asset, capacity, ratePerSecond);
    }

    function configureDelay(bytes32 asset, uint256 threshold, uint64 delay) external onlyAdmin {
        _setDelay(asset, threshold, delay);
    }

    /// From now on every delivery needs the verifier's k attestations. Once set, it cannot be
    /// unset or replaced; the verifier's own attestor set changes only through its timelock.
    function requireAttestations(RingfenceAttestationVerifier v, bytes32 route, uint256 srcChain) external onlyAdmin {
        require(address(verifier) == address(0), "verifier already set");
        require(address(v) != address(0), "no verifier");
        verifier = v;
        routeId = route;
        srcChainId = srcChain;
        emit VerifierRequired(address(v), route, srcChain);
    }

    /// Posts a destination message for the attestors to check (anyone may; only attested ones pay).
    function request(bytes32 id, bytes32 asset, uint256 amount, address recipient) external {
        require(address(verifier) != address(0), "no verifier required");
        require(requests[id] == bytes32(0), "already requested");
        require(routes[asset].token != address(0), "unknown asset");
        requests[id] = keccak256(abi.encode(asset, amount, recipient));
        emit Requested(id, asset, amount, recipient);
    }

    /// Accepts a requested message with k valid attestations naming this route, the source chain
    /// and exactly the requested asset, amount and recipient; then the limits apply as for
    /// `deliver`.
    function deliverAttested(Attestation calldata a, bytes[] calldata signatures) external whenNotPaused {
        require(address(verifier) != address(0), "no verifier required");
        require(a.routeId == routeId && a.srcChainId == srcChainId, "wrong route");
        require(!attestedDelivered[a.messageId], "already delivered");
        bytes32 want = requests[a.messageId];
        require(want != bytes32(0) && want == keccak256(abi.encode(a.asset, a.amount, a.recipient)), "no matching request");
        require(verifier.verify(a, signatures), "ringfence: not verified");
        attestedDelivered[a.messageId] = true;
        _accept(a.messageId, a.asset, a.amount, a.recipient);
    }

    function deliver(bytes32 id, bytes32 asset, uint256 amount, address recipient) external whenNotPaused {
        require(msg.sender == relayer, "not relayer");
        require(address(verifier) == address(0), "attestations required");
        _accept(id, asset, amount, recipient);
    }

    function _accept(bytes32 id, bytes32 asset, uint256 amount, address recipient) private {
        Route memory r = routes[asset];
        require(r.token != address(0), "unknown asset");
        deliveries += 1;
        bytes32 queueId = keccak256(abi.encode(address(this), deliveries));
        if (_mustWait(asset, amount)) {
            _enqueue(queueId, asset, recipient, amount);
            emit Delivered(id, asset, amount, recipient, queueId, true);
            return;
        }
        _consume(asset, amount);
        _payout(r, recipient, amount);
        emit Delivered(id, asset, amount, recipient, queueId, false);
    }

    /// Pays out a queued transfer once its delay has passed (anyone may call). Queued transfers
    /// already waited and were open to cancellation, so they do not draw on the bucket.
    function execute(bytes32 queueId) external whenNotPaused {
        Item memory item = _take(queueId);
        _payout(routes[item.key], item.recipient, item.amount);
    }

    /// The guard's cancel: a guardian drops a queued transfer while it waits.
    function cancel(bytes32 queueId) external onlyGuardian {
        _cancel(queueId);
    }

    function _payout(Route memory r, address recipient, uint256 amount) private {
        if (r.mints) {
            ILabToken(r.token).mint(recipient, amount);
        } else {
            require(ILabToken(r.token).transfer(recipient, amount), "transfer failed");
        }
    }
}
