// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// ringfence reference controls: what a protocol puts in front of its mint and release paths so
/// that an exploit is bounded in its very first block, before any off-chain guard can act.
///
/// - `PauseGuardian`: a pause that only a pause-only guardian role can set (guardians can stop,
///   never move funds, unpause or reconfigure); only the admin unpauses.
/// - `TokenBucketLimit`: a CCIP-style token bucket per asset (capacity, refill per second). A
///   config update settles the bucket at the old rate and clamps it to the new capacity: it never
///   refills it (the "update resets the bucket to full" pitfall lets an attacker who can trigger or
///   wait for a config change drain one extra full bucket).
/// - `DelayQueue`: transfers above a size wait `delaySeconds` (Wormhole Governor-style); a
///   guardian can cancel a queued transfer while it waits.

/// Pause-only guardian role; the admin alone unpauses and manages guardians.
abstract contract PauseGuardian {
    event Paused(address account);
    event Unpaused(address account);
    event GuardianSet(address indexed account, bool enabled);
    event AdminChanged(address previousAdmin, address newAdmin);

    address public admin;
    mapping(address => bool) public isGuardian;
    bool public paused;

    constructor(address admin_) {
        admin = admin_;
    }

    modifier onlyAdmin() {
        require(msg.sender == admin, "not admin");
        _;
    }

    modifier onlyGuardian() {
        require(isGuardian[msg.sender], "not guardian");
        _;
    }

    modifier whenNotPaused() {
        require(!paused, "paused");
        _;
    }

    /// Guardians can only stop the contract. Pausing twice is a no-op, so two guards racing to
    /// pause never revert each other.
    function pause() external onlyGuardian {
        if (!paused) {
            paused = true;
            emit Paused(msg.sender);
        }
    }

    function unpause() external onlyAdmin {
        paused = false;
        emit Unpaused(msg.sender);
    }

    function setGuardian(address account, bool enabled) external onlyAdmin {
        isGuardian[account] = enabled;
        emit GuardianSet(account, enabled);
    }

    function setAdmin(address newAdmin) external onlyAdmin {
        emit AdminChanged(admin, newAdmin);
        admin = newAdmin;
    }
}

/// CCIP-style token bucket per key: `capacity` tokens, refilled at `rate` per second.
abstract contract TokenBucketLimit {
    struct Bucket {
        uint256 tokens;
        uint256 capacity;
        uint256 rate;
        uint64 lastUpdated;
        bool enabled;
        bool configured;
    }

    event BucketConfigured(bytes32 indexed key, uint256 capacity, uint256 rate, uint256 tokens);
    event BucketConsumed(bytes32 indexed key, uint256 amount, uint256 left);

    error RateLimited(bytes32 key, uint256 requested, uint256 available);

    mapping(bytes32 => Bucket) internal buckets;

    /// Tokens available now.
    function available(bytes32 key) public view returns (uint256) {
        Bucket storage b = buckets[key];
        if (!b.enabled) return type(uint256).max;
        return _refilled(b);
    }

    function bucket(bytes32 key) external view returns (uint256 tokens, uint256 capacity, uint256 rate, bool enabled) {
        Bucket storage b = buckets[key];
        return (_refilled(b), b.capacity, b.rate, b.enabled);
    }

    function _refilled(Bucket storage b) private view returns (uint256) {
        uint256 elapsed = block.timestamp - b.lastUpdated;
        uint256 t = b.tokens + elapsed * b.rate;
        return t < b.capacity ? t : b.capacity;
    }

    /// A first configuration starts full; every later one settles the bucket at the old rate,
    /// then clamps it to the new capacity. It never refills it.
    function _configureBucket(bytes32 key, uint256 capacity, uint256 rate) internal {
        Bucket storage b = buckets[key];
        uint256 tokens;
        if (!b.configured) {
            tokens = capacity;
        } else {
            tokens = b.enabled ? _refilled(b) : 0;
            if (tokens > capacity) tokens = capacity;
        }
        b.tokens = tokens;
        b.capacity = capacity;
        b.rate = rate;
        b.lastUpdated = uint64(block.timestamp);
        b.enabled = capacity > 0;
        b.configured = true;
        emit BucketConfigured(key, capacity, rate, tokens);
    }

    /// Takes `amount` or reverts with `RateLimited`.
    function _consume(bytes32 key, uint256 amount) internal {
        Bucket storage b = buckets[key];
        if (!b.enabled) return;
        uint256 tokens = _refilled(b);
        if (amount > tokens) revert RateLimited(key, amount, tokens);
        b.tokens = tokens - amount;
        b.lastUpdated = uint64(block.timestamp);
        emit BucketConsumed(key, amount, b.tokens);
    }
}

/// Transfers above a per-key size wait `delaySeconds`; guardians may cancel them meanwhile.
abstract contract DelayQueue {
    enum State {
        None,
        Queued,
        Executed,
        Cancelled
    }

    struct Item {
        bytes32 key;
        address recipient;
        uint256 amount;
        uint64 readyAt;
        State state;
    }

    event Queued(bytes32 indexed queueId, uint64 readyAt);
    event Executed(bytes32 indexed queueId);
    event Cancelled(bytes32 indexed queueId, address by);
    event DelayConfigured(bytes32 indexed key, uint256 threshold, uint64 delaySeconds);

    mapping(bytes32 => Item) public queue;
    mapping(bytes32 => uint256) public delayThreshold;
    uint64 public delaySeconds;

    function _setDelay(bytes32 key, uint256 threshold, uint64 delay) internal {
        delayThreshold[key] = threshold;
        delaySeconds = delay;
        emit DelayConfigured(key, threshold, delay);
    }

    /// Whether a transfer of `amount` under `key` must wait.
    function _mustWait(bytes32 key, uint256 amount) internal view returns (bool) {
        uint256 t = delayThreshold[key];
        return t != 0 && amount > t;
    }

    function _enqueue(bytes32 queueId, bytes32 key, address recipient, uint256 amount) internal returns (uint64 readyAt) {
        require(queue[queueId].state == State.None, "queue id used");
        readyAt = uint64(block.timestamp) + delaySeconds;
        queue[queueId] = Item(key, recipient, amount, readyAt, State.Queued);
        emit Queued(queueId, readyAt);
    }

    /// Marks a ready item executed and returns it; the caller pays it out.
    function _take(bytes32 queueId) internal returns (Item memory item) {
        item = queue[queueId];
        require(item.state == State.Queued, "not queued");
        require(block.timestamp >= item.readyAt, "still delayed");
        queue[queueId].state = State.Executed;
        emit Executed(queueId);
    }

    function _cancel(bytes32 queueId) internal {
        require(queue[queueId].state == State.Queued, "not queued");
        queue[queueId].state = State.Cancelled;
        emit Cancelled(queueId, msg.sender);
    }
}
