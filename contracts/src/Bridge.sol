// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

interface IToken {
    function transferFrom(address from, address to, uint256 amount) external returns (bool);
    function transfer(address to, uint256 amount) external returns (bool);
    function mint(address to, uint256 amount) external;
}

/// Source side of a lock-and-release bridge: holds the locked asset and emits `Locked`.
contract Lockbox {
    event Locked(bytes32 indexed id, address token, uint256 amount, address recipient);

    address public owner;
    uint256 public nonce;

    constructor() {
        owner = msg.sender;
    }

    function lock(address token, uint256 amount, address recipient) external returns (bytes32 id) {
        require(IToken(token).transferFrom(msg.sender, address(this), amount), "transfer failed");
        id = keccak256(abi.encode(block.chainid, address(this), nonce));
        nonce += 1;
        emit Locked(id, token, amount, recipient);
    }

    /// The owner (a bridge key) can move locked funds: a compromised key drains the lockbox.
    function unlock(address token, uint256 amount, address to) external {
        require(msg.sender == owner, "not owner");
        require(IToken(token).transfer(to, amount), "transfer failed");
    }
}

/// Destination side: a relayer releases (mints) the wrapped asset for a message and emits
/// `Released`. It trusts the relayer blindly, like a bridge whose verifier is compromised.
contract BridgeEndpoint {
    event Released(bytes32 indexed id, address token, uint256 amount, address recipient);
    event Paused(address account);

    address public owner;
    address public relayer;
    address public guardian;
    bool public paused;

    constructor(address relayer_, address guardian_) {
        owner = msg.sender;
        relayer = relayer_;
        guardian = guardian_;
    }

    function release(bytes32 id, address token, uint256 amount, address recipient) external {
        require(msg.sender == relayer, "not relayer");
        require(!paused, "paused");
        IToken(token).mint(recipient, amount);
        emit Released(id, token, amount, recipient);
    }

    function pause() external {
        require(msg.sender == guardian || msg.sender == owner, "not guardian");
        require(!paused, "paused");
        paused = true;
        emit Paused(msg.sender);
    }
}
