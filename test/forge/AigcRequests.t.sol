// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AigcCollection} from "../../contracts/AigcCollection.sol";
import {IAigcFulfillmentReceiver} from "../../contracts/interfaces/IAigcFulfillmentReceiver.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {CollectionFixture} from "./utils/CollectionFixture.sol";

/// @dev A recipient contract declaring the callback; its behaviour on `onAigcFulfilled` is chosen by the test.
contract CallbackReceiver is IAigcFulfillmentReceiver {
    enum Mode {
        Record,
        Revert,
        BurnGas,
        Reenter
    }

    Mode public mode;
    uint256 public calls;
    uint256 public lastRequestId;
    uint256 public lastTokenId;
    bytes public lastData;
    uint256 public gasAtEntry;
    bytes public reentryCall;
    bool public reentrySucceeded;
    bytes public reentryError;

    function setMode(Mode mode_, bytes calldata reentry) external {
        mode = mode_;
        reentryCall = reentry;
    }

    function supportsInterface(bytes4 id) external pure returns (bool) {
        return id == type(IAigcFulfillmentReceiver).interfaceId || id == type(IERC165).interfaceId;
    }

    function onAigcFulfilled(uint256 requestId, uint256 tokenId, bytes calldata aigcData) external {
        gasAtEntry = gasleft();
        if (mode == Mode.Revert) revert("no thanks");
        if (mode == Mode.BurnGas) {
            while (true) {}
        }
        if (mode == Mode.Reenter) {
            (bool ok, bytes memory ret) = msg.sender.call(reentryCall);
            reentrySucceeded = ok;
            reentryError = ret;
        }
        ++calls;
        lastRequestId = requestId;
        lastTokenId = tokenId;
        lastData = aigcData;
    }
}

/// @dev A requester contract whose `receive` re-enters the collection when refunded.
contract ReentrantRequester {
    AigcCollection public immutable collection;
    bytes public reentryCall;
    bool public reentrySucceeded;
    bytes public reentryError;
    uint256 public received;

    constructor(AigcCollection collection_) {
        collection = collection_;
    }

    function makeRequest(bytes calldata prompt, address recipient) external payable returns (uint256) {
        return collection.request{value: msg.value}(prompt, recipient);
    }

    function setReentry(bytes calldata data) external {
        reentryCall = data;
    }

    receive() external payable {
        received += msg.value;
        (bool ok, bytes memory ret) = address(collection).call(reentryCall);
        reentrySucceeded = ok;
        reentryError = ret;
    }
}

contract AigcRequestsTest is CollectionFixture {
    event Requested(
        uint256 indexed requestId,
        address indexed requester,
        address indexed recipient,
        bytes32 promptHash,
        bytes prompt,
        uint256 fee,
        uint256 expiresAt
    );
    event Fulfilled(uint256 indexed requestId, uint256 indexed tokenId);
    event Refunded(uint256 indexed requestId, address indexed requester, uint256 fee);
    event FulfillmentCallback(uint256 indexed requestId, address indexed recipient, bool success);
    event RevenueReceived(address indexed from, uint256 amount);

    address internal requester = address(0x12E9);
    address internal operator = address(0x09E7);
    bytes internal guardError = abi.encodeWithSelector(ReentrancyGuardTransient.ReentrancyGuardReentrantCall.selector);

    function setUp() public override {
        super.setUp();
        vm.deal(requester, 100 ether);
    }

    function _request(address recipient) internal returns (uint256) {
        vm.prank(requester);
        return collection.request{value: REQUEST_FEE}(prompt, recipient);
    }

    function _fulfill(uint256 id, bytes memory proof) internal returns (uint256) {
        vm.prank(operator);
        return collection.fulfill(id, aigcData, proof, "ipfs://out");
    }

    /*////////////////////////////// request //////////////////////////////*/

    function test_request_escrowsAndEmits() public {
        vm.expectEmit(true, true, true, true, address(collection));
        emit Requested(1, requester, user, keccak256(prompt), prompt, REQUEST_FEE, block.timestamp + TIMEOUT);
        uint256 id = _request(user);
        vm.assertEq(id, 1, "first id");
        vm.assertEq(collection.requestCount(), 1, "count");
        vm.assertEq(address(collection).balance, REQUEST_FEE, "escrowed");
        vm.assertEq(collection.openEscrow(), REQUEST_FEE, "open escrow");
        AigcCollection.Request memory r = collection.getRequest(id);
        vm.assertEq(r.requester, requester, "requester");
        vm.assertEq(r.recipient, user, "recipient");
        vm.assertEq(r.fee, REQUEST_FEE, "fee");
        vm.assertEq(r.expiresAt, block.timestamp + TIMEOUT, "expiresAt");
        vm.assertEq(r.callbackGasLimit, collection.DEFAULT_CALLBACK_GAS_LIMIT(), "callback gas");
        vm.assertEq(r.promptHash, keccak256(prompt), "prompt hash");
        vm.assertTrue(r.status == AigcCollection.RequestStatus.Open, "open");
        vm.assertEq(collection.requestPrompt(id), prompt, "prompt stored");
        vm.assertEq(collection.requestPrompt(99), "", "unknown prompt");
        vm.assertFalse(collection.isRefundable(id), "not refundable yet");
        vm.assertEq(_request(user), 2, "a second request of the same prompt is allowed");
    }

    function test_request_badInput() public {
        vm.startPrank(requester);
        vm.expectRevert(abi.encodeWithSelector(AigcCollection.WrongRequestFee.selector, REQUEST_FEE, REQUEST_FEE + 1));
        collection.request{value: REQUEST_FEE + 1}(prompt, user);
        vm.expectRevert(abi.encodeWithSelector(AigcCollection.WrongRequestFee.selector, REQUEST_FEE, 0));
        collection.request(prompt, user);
        vm.expectRevert(AigcCollection.EmptyPrompt.selector);
        collection.request{value: REQUEST_FEE}("", user);
        vm.expectRevert(AigcCollection.ZeroRecipient.selector);
        collection.request{value: REQUEST_FEE}(prompt, address(0));
        bytes memory long = new bytes(4097);
        vm.expectRevert(abi.encodeWithSelector(AigcCollection.PromptTooLong.selector, 4097, 4096));
        collection.request{value: REQUEST_FEE}(long, user);
        collection.request{value: REQUEST_FEE}(new bytes(4096), user); // the maximum is accepted
        vm.expectRevert(abi.encodeWithSelector(AigcCollection.CallbackGasLimitTooHigh.selector, 1_000_001, 1_000_000));
        collection.requestWithTerms{value: REQUEST_FEE}(prompt, user, 1_000_001, TIMEOUT);
        vm.stopPrank();
        _mint(_validProof());
        vm.expectRevert(abi.encodeWithSelector(AigcCollection.PromptAlreadyMinted.selector, uint256(keccak256(prompt))));
        _request(user);
    }

    /*////////////////////////////// fulfill //////////////////////////////*/

    function test_fulfill_mintsToRecipientAndForwardsFee() public {
        uint256 id = _request(user);
        bytes memory proof = _fulfilmentProof(id);
        uint256 tokenId = uint256(keccak256(prompt));
        vm.expectEmit(true, true, true, true, address(collection));
        emit AigcCollectionEvents.AigcData(tokenId, prompt, aigcData, proof);
        vm.expectEmit(true, true, false, false, address(collection));
        emit Fulfilled(id, tokenId);
        vm.expectEmit(true, false, false, true, address(token));
        emit RevenueReceived(address(collection), REQUEST_FEE);
        vm.assertEq(_fulfill(id, proof), tokenId, "token id");
        vm.assertEq(collection.ownerOf(tokenId), user, "recipient owns it");
        vm.assertEq(collection.prompt(tokenId), prompt, "prompt");
        vm.assertEq(collection.aigcDataHash(tokenId), keccak256(aigcData), "data");
        vm.assertEq(collection.tokenURI(tokenId), "ipfs://out", "uri");
        vm.assertEq(collection.totalMinted(), 1, "count");
        vm.assertEq(token.pendingRevenue(), REQUEST_FEE, "fee is revenue");
        vm.assertEq(address(collection).balance, 0, "no escrow left");
        vm.assertEq(collection.openEscrow(), 0, "open escrow");
        vm.assertTrue(collection.getRequest(id).status == AigcCollection.RequestStatus.Fulfilled, "fulfilled");
        vm.assertTrue(collection.verify(prompt, aigcData, proof), "the proof of its AigcData event verifies");
        // at most once
        vm.expectRevert(
            abi.encodeWithSelector(AigcCollection.RequestNotOpen.selector, id, AigcCollection.RequestStatus.Fulfilled)
        );
        _fulfill(id, proof);
        // and it cannot be refunded
        vm.warp(block.timestamp + TIMEOUT);
        vm.expectRevert(
            abi.encodeWithSelector(AigcCollection.RequestNotOpen.selector, id, AigcCollection.RequestStatus.Fulfilled)
        );
        collection.refund(id);
    }

    /// A proof copied from a pending fulfilment (bound to the request's recipient) is useless for another
    /// recipient: a request naming the thief cannot be fulfilled with it.
    function test_fulfill_copiedProofForAnotherRecipientReverts() public {
        address thief = address(0x7E1F);
        vm.deal(thief, 1 ether);
        vm.prank(thief);
        uint256 stolen = collection.request{value: REQUEST_FEE}(prompt, thief);
        bytes memory proof = _fulfilmentProof(stolen); // for user
        vm.expectRevert(abi.encodeWithSelector(AigcCollection.ProofRecipientMismatch.selector, thief, user));
        _fulfill(stolen, proof);
        uint256 id = _request(user);
        _fulfill(id, _fulfilmentProof(id));
        vm.assertEq(collection.ownerOf(uint256(keccak256(prompt))), user, "minted to the attested recipient");
    }

    function test_fulfill_rejections() public {
        vm.expectRevert(abi.encodeWithSelector(AigcCollection.UnknownRequest.selector, 7));
        _fulfill(7, _fulfilmentProof(7));
        uint256 id = _request(user);
        bytes32 digest =
            _fulfilmentDigestTo(id, MODEL_HASH, prompt, aigcData, commitment, user, block.chainid, address(collection));
        vm.expectRevert(AigcCollection.InvalidProof.selector);
        _fulfill(id, _fulfilmentProofBytes(id, commitment, user, _sig(OTHER_KEY, digest)));
        vm.expectRevert(AigcCollection.InvalidProof.selector);
        vm.prank(operator);
        collection.fulfill(id, hex"00", _fulfilmentProof(id), "");
        vm.warp(block.timestamp + TIMEOUT);
        vm.expectRevert(abi.encodeWithSelector(AigcCollection.RequestExpired.selector, id, block.timestamp));
        _fulfill(id, _fulfilmentProof(id));
    }

    function test_fulfill_feeForwardFailureReverts() public {
        uint256 id = _request(user);
        // The token refuses revenue that would take its balance above MAX_BALANCE (it can no longer refuse
        // revenue for an empty supply: receive() must fit a 2,300-gas stipend, see ImoToken's header).
        vm.deal(address(token), token.MAX_BALANCE());
        vm.expectRevert(AigcCollection.FeeForwardFailed.selector);
        _fulfill(id, _fulfilmentProof(id));
        vm.assertEq(address(collection).balance, REQUEST_FEE, "still escrowed");
    }

    /*////////////////////////////// refund //////////////////////////////*/

    function test_refund_afterExpiry() public {
        uint256 id = _request(user);
        vm.expectRevert(
            abi.encodeWithSelector(AigcCollection.RequestNotRefundable.selector, id, block.timestamp + TIMEOUT)
        );
        collection.refund(id);
        vm.warp(block.timestamp + TIMEOUT - 1);
        vm.expectRevert(abi.encodeWithSelector(AigcCollection.RequestNotRefundable.selector, id, block.timestamp + 1));
        collection.refund(id);
        vm.warp(block.timestamp + 1);
        vm.assertTrue(collection.isRefundable(id), "refundable at expiresAt");
        uint256 before = requester.balance;
        vm.expectEmit(true, true, false, true, address(collection));
        emit Refunded(id, requester, REQUEST_FEE);
        collection.refund(id); // anyone may trigger it; the requester is paid
        vm.assertEq(requester.balance - before, REQUEST_FEE, "fee back");
        vm.assertEq(address(collection).balance, 0, "nothing kept");
        vm.expectRevert(
            abi.encodeWithSelector(AigcCollection.RequestNotOpen.selector, id, AigcCollection.RequestStatus.Refunded)
        );
        collection.refund(id);
        vm.expectRevert(
            abi.encodeWithSelector(AigcCollection.RequestNotOpen.selector, id, AigcCollection.RequestStatus.Refunded)
        );
        _fulfill(id, _fulfilmentProof(id));
        vm.expectRevert(abi.encodeWithSelector(AigcCollection.UnknownRequest.selector, 42));
        collection.refund(42);
    }

    function test_refund_atOnceAfterPromptCollision() public {
        uint256 first = _request(user);
        uint256 second = _request(user);
        _fulfill(first, _fulfilmentProof(first));
        vm.assertTrue(collection.isRefundable(second), "its prompt is minted");
        vm.expectRevert(abi.encodeWithSelector(AigcCollection.PromptAlreadyMinted.selector, uint256(keccak256(prompt))));
        _fulfill(second, _fulfilmentProof(second));
        uint256 before = requester.balance;
        collection.refund(second);
        vm.assertEq(requester.balance - before, REQUEST_FEE, "refunded before expiry");
        // a direct mint of a requested prompt also makes the request refundable at once
        bytes memory otherPrompt = "another prompt";
        vm.prank(requester);
        uint256 third = collection.request{value: REQUEST_FEE}(otherPrompt, user);
        bytes32 digest =
            _digestTo(MODEL_HASH, otherPrompt, aigcData, commitment, user, block.chainid, address(collection));
        vm.prank(user);
        collection.mint{value: FEE}(
            user, otherPrompt, aigcData, "", _mintProofBytes(commitment, user, _sig(ATTESTER_KEY, digest))
        );
        collection.refund(third);
        vm.assertEq(address(collection).balance, 0, "no escrow left");
    }

    /*////////////////////////////// callbacks //////////////////////////////*/

    function _callbackRequest(CallbackReceiver receiver, uint32 gasLimit) internal returns (uint256 id) {
        vm.prank(requester);
        id = collection.requestWithTerms{value: REQUEST_FEE}(prompt, address(receiver), gasLimit, TIMEOUT);
    }

    function test_callback_calledWithItsGasLimit() public {
        CallbackReceiver receiver = new CallbackReceiver();
        uint256 id = _callbackRequest(receiver, 200_000);
        vm.expectEmit(true, true, false, true, address(collection));
        emit FulfillmentCallback(id, address(receiver), true);
        _fulfill(id, _fulfilmentProofTo(id, address(receiver)));
        vm.assertEq(receiver.calls(), 1, "called once");
        vm.assertEq(receiver.lastRequestId(), id, "request id");
        vm.assertEq(receiver.lastTokenId(), uint256(keccak256(prompt)), "token id");
        vm.assertEq(receiver.lastData(), aigcData, "aigcData");
        vm.assertLe(receiver.gasAtEntry(), 200_000, "no more than the limit");
        vm.assertGe(receiver.gasAtEntry(), 199_000, "the full limit");
    }

    function test_callback_revertingOrGasBurningNeverBlocks() public {
        for (uint256 m = 1; m <= 2; ++m) {
            setUp();
            CallbackReceiver receiver = new CallbackReceiver();
            receiver.setMode(CallbackReceiver.Mode(m), "");
            uint256 id = _callbackRequest(receiver, 300_000);
            vm.expectEmit(true, true, false, true, address(collection));
            emit FulfillmentCallback(id, address(receiver), false);
            _fulfill(id, _fulfilmentProofTo(id, address(receiver)));
            vm.assertEq(collection.ownerOf(uint256(keccak256(prompt))), address(receiver), "minted anyway");
            vm.assertEq(token.pendingRevenue(), REQUEST_FEE, "fee forwarded anyway");
        }
    }

    /// 63/64 rule: a fulfiller cannot starve the callback by sending just enough gas for the rest.
    function test_callback_insufficientGasRevertsInsteadOfStarving() public {
        CallbackReceiver receiver = new CallbackReceiver();
        uint256 id = _callbackRequest(receiver, 500_000);
        bytes memory proof = _fulfilmentProofTo(id, address(receiver));
        vm.prank(operator);
        (bool ok, bytes memory ret) =
            address(collection).call{gas: 300_000}(abi.encodeCall(AigcCollection.fulfill, (id, aigcData, proof, "")));
        vm.assertFalse(ok, "starved fulfilment reverts");
        vm.assertEq(bytes4(ret), AigcCollection.InsufficientGasForCallback.selector, "named error");
        vm.assertTrue(collection.getRequest(id).status == AigcCollection.RequestStatus.Open, "still open");
        _fulfill(id, proof);
        vm.assertEq(receiver.calls(), 1, "called with enough gas");
    }

    function test_callback_skippedForZeroLimitAndNonReceivers() public {
        CallbackReceiver receiver = new CallbackReceiver();
        uint256 id = _callbackRequest(receiver, 0);
        _fulfill(id, _fulfilmentProofTo(id, address(receiver)));
        vm.assertEq(receiver.calls(), 0, "no callback with limit 0");
        // a contract that does not declare the interface (the token itself) still receives its token
        vm.prank(requester);
        uint256 id2 = collection.request{value: REQUEST_FEE}("p2", address(token));
        bytes32 digest = _fulfilmentDigestTo(
            id2, MODEL_HASH, "p2", aigcData, commitment, address(token), block.chainid, address(collection)
        );
        _fulfill(id2, _fulfilmentProofBytes(id2, commitment, address(token), _sig(ATTESTER_KEY, digest)));
        vm.assertEq(collection.ownerOf(uint256(keccak256("p2"))), address(token), "minted without safe-transfer check");
    }

    /*////////////////////////////// reentrancy //////////////////////////////*/

    function test_reentrancy_callbackCannotReenter() public {
        for (uint256 i = 0; i < 3; ++i) {
            setUp();
            CallbackReceiver receiver = new CallbackReceiver();
            uint256 id = _callbackRequest(receiver, 300_000);
            uint256 other = _request(user);
            bytes memory reentry = i == 0
                ? abi.encodeCall(AigcCollection.refund, (other))
                : i == 1
                    ? abi.encodeCall(AigcCollection.fulfill, (other, aigcData, _fulfilmentProof(other), ""))
                    : abi.encodeCall(AigcCollection.request, (bytes("x"), address(receiver)));
            receiver.setMode(CallbackReceiver.Mode.Reenter, reentry);
            _fulfill(id, _fulfilmentProofTo(id, address(receiver)));
            vm.assertFalse(receiver.reentrySucceeded(), "re-entry blocked");
            vm.assertEq(receiver.reentryError(), guardError, "by the guard");
            vm.assertEq(address(collection).balance, collection.openEscrow(), "escrow intact");
            vm.assertEq(address(collection).balance, REQUEST_FEE, "the other request's fee is still there");
        }
    }

    function test_reentrancy_refundCannotReenter() public {
        ReentrantRequester r = new ReentrantRequester(collection);
        vm.deal(address(r), 1 ether);
        uint256 id = r.makeRequest{value: REQUEST_FEE}(prompt, user);
        uint256 id2 = r.makeRequest{value: REQUEST_FEE}(prompt, user);
        r.setReentry(abi.encodeCall(AigcCollection.refund, (id2)));
        vm.warp(block.timestamp + TIMEOUT);
        collection.refund(id);
        vm.assertFalse(r.reentrySucceeded(), "re-entry blocked");
        vm.assertEq(r.reentryError(), guardError, "by the guard");
        vm.assertEq(r.received(), REQUEST_FEE, "paid once");
        r.setReentry(abi.encodeCall(AigcCollection.refund, (id)));
        collection.refund(id2);
        vm.assertEq(r.received(), 2 * REQUEST_FEE, "each paid once");
        vm.assertEq(address(collection).balance, 0, "empty");
    }

    /*////////////////////////////// admin //////////////////////////////*/

    function test_setters() public {
        vm.prank(owner);
        collection.setRequestFee(1 ether);
        vm.assertEq(collection.requestFee(), 1 ether, "fee");
        vm.prank(owner);
        collection.setRequestTimeout(60);
        vm.assertEq(collection.requestTimeout(), 60, "timeout");
        vm.expectRevert(abi.encodeWithSelector(AigcCollection.InvalidRequestTimeout.selector, 0, 365 days));
        vm.prank(owner);
        collection.setRequestTimeout(0);
        vm.expectRevert(abi.encodeWithSelector(AigcCollection.InvalidRequestTimeout.selector, 365 days + 1, 365 days));
        vm.prank(owner);
        collection.setRequestTimeout(365 days + 1);
        uint256 tooHigh = uint256(type(uint96).max) + 1;
        vm.expectRevert(abi.encodeWithSelector(AigcCollection.RequestFeeTooHigh.selector, tooHigh, type(uint96).max));
        vm.prank(owner);
        collection.setRequestFee(tooHigh);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, user));
        vm.prank(user);
        collection.setRequestFee(0);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, user));
        vm.prank(user);
        collection.setRequestTimeout(10);
        // an open request keeps its fee and expiry
        vm.prank(requester);
        uint256 id = collection.request{value: 1 ether}(prompt, user);
        vm.prank(owner);
        collection.setRequestFee(0);
        vm.assertEq(collection.getRequest(id).fee, 1 ether, "kept");
    }

    function test_freeRequest() public {
        vm.prank(owner);
        collection.setRequestFee(0);
        vm.prank(requester);
        uint256 id = collection.request(prompt, user);
        _fulfill(id, _fulfilmentProof(id));
        vm.assertEq(token.pendingRevenue(), 0, "nothing forwarded");
    }

    /*////////////////////////////// proof kinds (issue 21 item 4) //////////////////////////////*/

    /// The attack of issue 21 item 4: with a free direct mint, the requester copies the operator's pending
    /// fulfil proof into `mint` to keep the token and get its fee back by `refund`. The proof names its
    /// request, so `mint` refuses it; the fee can only end as revenue (fulfil) or, after the timeout, refunded
    /// without a token.
    function test_fulfilmentProofCopiedIntoMint_feeCannotBeEvaded() public {
        vm.prank(owner);
        collection.setMintFee(0);
        uint256 id = _request(user);
        bytes memory pending = _fulfilmentProof(id); // what the operator's pending fulfill carries
        vm.expectRevert(abi.encodeWithSelector(AigcCollection.ProofKindMismatch.selector, MINT_KIND, FULFILMENT_KIND));
        vm.prank(requester);
        collection.mint(user, prompt, aigcData, "", pending);
        vm.assertFalse(collection.isRefundable(id), "the request is not refundable");
        vm.expectRevert(
            abi.encodeWithSelector(AigcCollection.RequestNotRefundable.selector, id, block.timestamp + TIMEOUT)
        );
        collection.refund(id);
        _fulfill(id, pending);
        vm.assertEq(collection.ownerOf(uint256(keccak256(prompt))), user, "minted by the fulfilment");
        vm.assertEq(token.pendingRevenue(), REQUEST_FEE, "the fee became revenue");
    }

    /// A mint proof never fulfils, and a fulfilment proof fulfils only its own request.
    function test_fulfill_takesOnlyAProofOfThisRequest() public {
        uint256 first = _request(user);
        uint256 second = _request(user); // same prompt, same recipient
        vm.expectRevert(abi.encodeWithSelector(AigcCollection.ProofKindMismatch.selector, FULFILMENT_KIND, MINT_KIND));
        _fulfill(first, _validProof());
        vm.expectRevert(abi.encodeWithSelector(AigcCollection.ProofRequestMismatch.selector, second, first));
        _fulfill(second, _fulfilmentProof(first));
        _fulfill(second, _fulfilmentProof(second));
        vm.assertTrue(collection.isRefundable(first), "the other request is refundable");
    }

    /*////////////////////////////// request terms (issue 21 item 14) //////////////////////////////*/

    /// The owner front-runs a request with a year-long timeout: a request bounded by the terms it saw reverts
    /// (no fee taken); one that accepts the new terms, or shorter ones, goes through.
    function test_requestWithTerms_frontRunTimeoutReverts() public {
        vm.prank(owner);
        collection.setRequestTimeout(365 days);
        vm.expectRevert(abi.encodeWithSelector(AigcCollection.RequestTimeoutAboveBound.selector, 365 days, TIMEOUT));
        vm.prank(requester);
        collection.requestWithTerms{value: REQUEST_FEE}(prompt, user, 100_000, TIMEOUT);
        vm.assertEq(address(collection).balance, 0, "no fee taken");
        vm.prank(owner);
        collection.setRequestTimeout(TIMEOUT / 2);
        vm.prank(requester);
        uint256 id = collection.requestWithTerms{value: REQUEST_FEE}(prompt, user, 100_000, TIMEOUT);
        vm.assertEq(collection.getRequest(id).expiresAt, block.timestamp + TIMEOUT / 2, "a shorter timeout is fine");
    }

    /// With no attester, nobody could fulfil: a new request is refused and an open one is refundable at once
    /// (the owner removing the attester after a request cannot lock its fee until it expires).
    function test_noAttesterLeft_requestsRefusedAndRefundableAtOnce() public {
        uint256 id = _request(user);
        vm.prank(owner);
        collection.removeAttester(attester);
        vm.assertTrue(collection.isRefundable(id), "refundable at once");
        vm.expectRevert(AigcCollection.NoAttesters.selector);
        _request(user);
        vm.expectRevert(AigcCollection.NoAttesters.selector);
        vm.prank(requester);
        collection.requestWithTerms{value: REQUEST_FEE}(prompt, user, 0, TIMEOUT);
        uint256 before = requester.balance;
        collection.refund(id);
        vm.assertEq(requester.balance - before, REQUEST_FEE, "fee back before expiry");
        vm.prank(owner);
        collection.addAttester(attester);
        uint256 next = _request(user);
        vm.assertFalse(collection.isRefundable(next), "an attester again: the usual rules");
    }
}

/// @dev The ERC-7007 event, for expectEmit.
library AigcCollectionEvents {
    event AigcData(uint256 indexed tokenId, bytes indexed prompt, bytes indexed aigcData, bytes proof);
}
