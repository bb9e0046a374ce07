// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AigcCollection} from "../../contracts/AigcCollection.sol";
import {ImoToken} from "../../contracts/ImoToken.sol";
import {TestBase, FuzzSelector} from "./utils/Vm.sol";

/// @dev Drives random requests (few prompts, so collisions happen), fulfilments, refunds, direct mints,
/// fee changes and time jumps, and keeps ghost records of every wei.
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
    mapping(uint256 requestId => bool) public ghostFulfilled;
    mapping(uint256 requestId => bool) public ghostRefunded;

    constructor() {
        token = new ImoToken("I", "I", 1000 ether, address(0xA11CE), MODEL_HASH, "", 50, 1 days, 3, address(this));
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

    function _proof(bytes memory p, address to) internal view returns (bytes memory) {
        bytes32 c = keccak256("c");
        bytes32 digest = collection.attestationDigest(keccak256(p), keccak256("data"), c, to);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(ATTESTER_KEY, digest);
        return abi.encode(c, to, abi.encodePacked(r, s, v));
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
        collection.fulfill(id, "data", _proof(p, r.recipient), "");
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
        bytes4[] memory s = new bytes4[](5);
        s[0] = AigcRequestsHandler.request.selector;
        s[1] = AigcRequestsHandler.fulfill.selector;
        s[2] = AigcRequestsHandler.refund.selector;
        s[3] = AigcRequestsHandler.mintDirect.selector;
        s[4] = AigcRequestsHandler.setRequestFee.selector;
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
}
