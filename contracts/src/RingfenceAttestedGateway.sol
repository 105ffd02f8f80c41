// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import "./RingfenceAttestationVerifier.sol";

interface IAttestedToken {
    function transfer(address to, uint256 amount) external returns (bool);
    function mint(address to, uint256 amount) external;
}

/// A bridge gateway (release from its balance) or a stablecoin minter (mint) that executes a
/// message only with k valid ringfence attestations. Anyone may post a message with `request`
/// (the destination message the attestors check against the source chain); `deliver` pays it
/// out once, and only when the verifier accepts attestations that name this route, the source
/// chain and exactly the requested asset, amount and recipient. No role can pay out otherwise.
contract RingfenceAttestedGateway {
    event Requested(bytes32 indexed id, bytes32 asset, uint256 amount, address recipient);
    event Delivered(bytes32 indexed id, bytes32 asset, uint256 amount, address recipient);

    struct Route {
        address token;
        bool mints;
    }

    RingfenceAttestationVerifier public immutable verifier;
    bytes32 public immutable routeId;
    uint256 public immutable srcChainId;
    address public immutable admin;
    mapping(bytes32 => Route) public routes;
    /// message id → keccak256(abi.encode(asset, amount, recipient)) of its request.
    mapping(bytes32 => bytes32) public requests;
    mapping(bytes32 => bool) public delivered;

    constructor(RingfenceAttestationVerifier verifier_, bytes32 routeId_, uint256 srcChainId_, address admin_) {
        verifier = verifier_;
        routeId = routeId_;
        srcChainId = srcChainId_;
        admin = admin_;
    }

    function setRoute(bytes32 asset, address token, bool mints) external {
        require(msg.sender == admin, "not admin");
        routes[asset] = Route(token, mints);
    }

    function request(bytes32 id, bytes32 asset, uint256 amount, address recipient) external {
        require(requests[id] == bytes32(0), "already requested");
        require(routes[asset].token != address(0), "unknown asset");
        requests[id] = keccak256(abi.encode(asset, amount, recipient));
        emit Requested(id, asset, amount, recipient);
    }

    function deliver(Attestation calldata a, bytes[] calldata signatures) external {
        require(a.routeId == routeId, "wrong route");
        require(a.srcChainId == srcChainId, "wrong source chain");
        require(!delivered[a.messageId], "already delivered");
        require(
            requests[a.messageId] != bytes32(0)
                && requests[a.messageId] == keccak256(abi.encode(a.asset, a.amount, a.recipient)),
            "no matching request"
        );
        require(verifier.verify(a, signatures), "ringfence: not verified");
        delivered[a.messageId] = true;
        Route memory r = routes[a.asset];
        if (r.mints) {
            IAttestedToken(r.token).mint(a.recipient, a.amount);
        } else {
            require(IAttestedToken(r.token).transfer(a.recipient, a.amount), "transfer failed");
        }
        emit Delivered(a.messageId, a.asset, a.amount, a.recipient);
    }
}
