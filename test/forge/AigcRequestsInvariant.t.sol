// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {deployImoToken} from "./utils/Vm.sol";
import {AigcCollection} from "../../contracts/AigcCollection.sol";
import {ImoToken} from "../../contracts/ImoToken.sol";
import {TestBase, FuzzSelector} from "./utils/Vm.sol";

/// @dev Drives random requests (few prompts, so collisions happen; some bounded by the timeout they accept),
/// fulfilments, refunds, direct mints, fee and timeout changes, the attester's removal and return, time jumps,
/// and a requester copying a fulfilment proof into `mint` (issue 21 item 4), and keeps ghost records of every
/// wei.
contract AigcRequestsHandler is TestBase {
    uint256 internal constant ATTESTER_KEY = 0xA77E57;
    bytes32 internal constant MODEL_HASH = keccak256("model");
    ImoToken public immutable token;
    AigcCollection public immutable collection;
    address[] internal actors;

    uint256 public paidIn;
    uint256 public refundedOut;
    uint256 public forwardedOut;
    uint256 public mintFeesIn;
    bool public fulfilledAndRefunded;
    /// A fulfilment proof minted directly (the request's fee could then be evaded).
    bool public feeEvaded;
    /// A bounded request was accepted with a longer timeout than its bound.
    bool public boundBroken;
    mapping(uint256 requestId => bool) public ghostFulfilled;
    mapping(uint256 requestId => bool) public ghostRefunded;

    constructor() {
        token = ImoToken(
            payable(deployImoToken(
                    "I",
                    "I",
                    1000 ether,
                    address(0xA11CE),
                    MODEL_HASH,
                    "",
                    50,
                    1 days,
                    3,
                    address(this),
                    new address[](0)
                ))
        );
        address[] memory a = new address[](1);
        a[0] = vm.addr(ATTESTER_KEY);
        collection = new AigcCollection(
            "A", "A", MODEL_HASH, payable(address(token)), 500, 0.001 ether, 0.01 ether, 1 hours, a, address(this)
        );
        actors.push(address(0x2001));
        actors.push(address(0x2002));
        actors.push(address(0x2003));
    }

    function _prompt(uint256 seed) internal pure returns (bytes memory) {
        return abi.encodePacked("prompt ", uint8(seed % 6));
    }

    /// @dev An AigcMint proof (for `mint`).
    function _proof(bytes memory p, address to) internal view returns (bytes memory) {
        bytes32 c = keccak256("c");
        bytes32 digest = collection.mintDigest(keccak256(p), keccak256("data"), c, to);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(ATTESTER_KEY, digest);
        return abi.encode(collection.MINT_TYPEHASH(), c, to, abi.encodePacked(r, s, v));
    }

    /// @dev An AigcFulfilment proof of request `id` (for `fulfill`).
    function _fulfilmentProof(uint256 id, bytes memory p, address to) internal view returns (bytes memory) {
        bytes32 c = keccak256("c");
        bytes32 digest = collection.fulfilmentDigest(id, keccak256(p), keccak256("data"), c, to);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(ATTESTER_KEY, digest);
        return abi.encode(collection.FULFILMENT_TYPEHASH(), id, c, to, abi.encodePacked(r, s, v));
    }

    function request(uint256 actorSeed, uint256 promptSeed, uint256 recipientSeed) external {
        address who = actors[actorSeed % actors.length];
        uint256 fee = collection.requestFee();
        vm.deal(who, fee);
        vm.prank(who);
        collection.request{value: fee}(_prompt(promptSeed), actors[recipientSeed % actors.length]);
        paidIn += fee;
    }

    function fulfill(uint256 idSeed) external {
        uint256 count = collection.requestCount();
        if (count == 0) return;
        uint256 id = bound(idSeed, 1, count);
        AigcCollection.Request memory r = collection.getRequest(id);
        bytes memory p = collection.requestPrompt(id);
        collection.fulfill(id, "data", _fulfilmentProof(id, p, r.recipient), "");
        if (ghostRefunded[id] || ghostFulfilled[id]) fulfilledAndRefunded = true;
        ghostFulfilled[id] = true;
        forwardedOut += r.fee;
    }

    function refund(uint256 idSeed, uint256 warpBy) external {
        vm.warp(block.timestamp + bound(warpBy, 0, 2 hours));
        uint256 count = collection.requestCount();
        if (count == 0) return;
        uint256 id = bound(idSeed, 1, count);
        AigcCollection.Request memory r = collection.getRequest(id);
        collection.refund(id);
        if (ghostRefunded[id] || ghostFulfilled[id]) fulfilledAndRefunded = true;
        ghostRefunded[id] = true;
        refundedOut += r.fee;
    }

    function mintDirect(uint256 promptSeed, uint256 actorSeed) external {
        address to = actors[actorSeed % actors.length];
        bytes memory p = _prompt(promptSeed);
        uint256 fee = collection.mintFee();
        vm.deal(address(this), fee);
        collection.mint{value: fee}(to, p, "data", "", _proof(p, to));
        mintFeesIn += fee;
    }

    function setRequestFee(uint256 fee) external {
        collection.setRequestFee(bound(fee, 0, 1 ether));
    }

    function setRequestTimeout(uint256 timeout) external {
        collection.setRequestTimeout(bound(timeout, 1, 3 hours));
    }

    /// A request that accepts at most `maxTimeout` seconds (the terms it read).
    function requestBounded(uint256 actorSeed, uint256 promptSeed, uint256 recipientSeed, uint256 maxTimeout) external {
        address who = actors[actorSeed % actors.length];
        maxTimeout = bound(maxTimeout, 1, 3 hours);
        uint256 fee = collection.requestFee();
        vm.deal(who, fee);
        vm.prank(who);
        uint256 id = collection.requestWithTerms{value: fee}(
            _prompt(promptSeed), actors[recipientSeed % actors.length], 0, maxTimeout
        );
        if (collection.getRequest(id).expiresAt > block.timestamp + maxTimeout) boundBroken = true;
        paidIn += fee;
    }

    /// The owner removes the only attester, or adds it back.
    function toggleAttester() external {
        address a = vm.addr(ATTESTER_KEY);
        if (collection.isAttester(a)) collection.removeAttester(a);
        else collection.addAttester(a);
    }

    /// A requester copies the fulfilment proof of an open request (as the operator's pending `fulfill` shows
    /// it) into a direct `mint`, hoping to keep the token and refund the fee.
    function mintWithFulfilmentProof(uint256 idSeed) external {
        uint256 count = collection.requestCount();
        if (count == 0) return;
        uint256 id = bound(idSeed, 1, count);
        AigcCollection.Request memory r = collection.getRequest(id);
        bytes memory p = collection.requestPrompt(id);
        bytes memory copied = _fulfilmentProof(id, p, r.recipient);
        uint256 fee = collection.mintFee();
        vm.deal(address(this), fee);
        try collection.mint{value: fee}(r.recipient, p, "data", "", copied) {
            feeEvaded = true;
            mintFeesIn += fee;
        } catch {}
    }

    /// @dev Sum of the fees of the Open requests, read request by request.
    function openFees() external view returns (uint256 total) {
        uint256 count = collection.requestCount();
        for (uint256 id = 1; id <= count; ++id) {
            AigcCollection.Request memory r = collection.getRequest(id);
            if (r.status == AigcCollection.RequestStatus.Open) total += r.fee;
        }
    }
}

contract AigcRequestsInvariantTest is TestBase {
    AigcRequestsHandler internal handler;

    function setUp() public {
        vm.warp(1_700_000_000);
        handler = new AigcRequestsHandler();
    }

    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    function targetSelectors() public view returns (FuzzSelector[] memory selectors) {
        bytes4[] memory s = new bytes4[](9);
        s[0] = AigcRequestsHandler.request.selector;
        s[1] = AigcRequestsHandler.fulfill.selector;
        s[2] = AigcRequestsHandler.refund.selector;
        s[3] = AigcRequestsHandler.mintDirect.selector;
        s[4] = AigcRequestsHandler.setRequestFee.selector;
        s[5] = AigcRequestsHandler.setRequestTimeout.selector;
        s[6] = AigcRequestsHandler.requestBounded.selector;
        s[7] = AigcRequestsHandler.toggleAttester.selector;
        s[8] = AigcRequestsHandler.mintWithFulfilmentProof.selector;
        selectors = new FuzzSelector[](1);
        selectors[0] = FuzzSelector(address(handler), s);
    }

    /// The header invariant: the balance is exactly the escrow of the Open requests.
    function invariant_balanceEqualsOpenEscrow() public view {
        AigcCollection c = handler.collection();
        vm.assertEq(address(c).balance, c.openEscrow(), "balance == openEscrow");
        vm.assertEq(c.openEscrow(), handler.openFees(), "openEscrow == sum of open fees");
    }

    /// Every wei paid in is escrowed, refunded or forwarded; mint fees never stay.
    function invariant_everyWeiAccounted() public view {
        AigcCollection c = handler.collection();
        vm.assertEq(
            handler.paidIn(), address(c).balance + handler.refundedOut() + handler.forwardedOut(), "conservation"
        );
        vm.assertEq(
            address(handler.token()).balance, handler.forwardedOut() + handler.mintFeesIn(), "the token got fees only"
        );
    }

    function invariant_fulfilAndRefundExclusive() public view {
        vm.assertFalse(handler.fulfilledAndRefunded(), "a request was closed twice");
    }

    /// Issue 21 items 4 and 14: a fulfilment proof never mints directly; no request outlives its bound.
    function invariant_feesCannotBeEvadedAndBoundsHold() public view {
        vm.assertFalse(handler.feeEvaded(), "a fulfilment proof minted directly");
        vm.assertFalse(handler.boundBroken(), "a request accepted a longer timeout than its bound");
    }
}
