// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {deployImoToken} from "./utils/Vm.sol";
import {ImoToken} from "../../contracts/ImoToken.sol";
import {IERC7641} from "../../contracts/interfaces/IERC7641.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {TokenFixture, EtherRejecter} from "./utils/TokenFixture.sol";

contract ImoTokenTest is TokenFixture {
    event RevenueReceived(address indexed from, uint256 amount);
    event SnapshotTaken(uint256 indexed id, uint256 claimPool, uint256 toRedemption, uint256 rolledOver);
    event RevenueClaimed(address indexed holder, uint256 indexed snapshotId, uint256 amount);
    event Redeemed(address indexed holder, uint256 burned, uint256 payout);
    event ModelURIUpdated(string uri);
    event Transfer(address indexed from, address indexed to, uint256 value);

    /*////////////////////////////// constructor //////////////////////////////*/

    function test_constructor_setsEverything() public view {
        vm.assertEq(token.name(), "IMO Model", "name");
        vm.assertEq(token.symbol(), "IMO", "symbol");
        vm.assertEq(uint256(token.decimals()), 18, "decimals");
        vm.assertEq(token.totalSupply(), SUPPLY, "supply");
        vm.assertEq(token.balanceOf(alice), SUPPLY, "recipient gets all");
        vm.assertEq(token.modelHash(), MODEL_HASH, "model hash");
        vm.assertEq(token.modelURI(), "ipfs://model", "uri");
        vm.assertEq(uint256(token.percentClaimable()), PERCENT, "percent");
        vm.assertEq(uint256(token.snapshotInterval()), INTERVAL, "interval");
        vm.assertEq(uint256(token.claimWindow()), WINDOW, "window");
        vm.assertEq(token.owner(), owner, "owner");
        vm.assertEq(token.currentSnapshotId(), 0, "no snapshot");
        vm.assertEq(token.lastSnapshotTimestamp(), 0, "no snapshot time");
        vm.assertEq(token.nextSnapshotTimestamp(), deployedAt + INTERVAL, "first snapshot after interval");
        vm.assertEq(token.pendingRevenue(), 0, "pending");
        vm.assertEq(token.redemptionPool(), 0, "redemption");
    }

    function test_constructor_emitsMintTransfer() public {
        vm.expectEmit(true, true, false, true);
        emit Transfer(address(0), alice, 5);
        deploy(5, PERCENT, INTERVAL, WINDOW);
    }

    function test_constructor_revertsOnZeroSupply() public {
        vm.expectRevert(abi.encodeWithSelector(ImoToken.InvalidSupply.selector, 0, uint256(type(uint128).max)));
        deploy(0, PERCENT, INTERVAL, WINDOW);
    }

    function test_constructor_revertsOnSupplyAbove128Bits() public {
        uint256 tooMuch = uint256(type(uint128).max) + 1;
        vm.expectRevert(abi.encodeWithSelector(ImoToken.InvalidSupply.selector, tooMuch, uint256(type(uint128).max)));
        deploy(tooMuch, PERCENT, INTERVAL, WINDOW);
    }

    function test_constructor_acceptsMaxSupply() public {
        ImoToken t = deploy(type(uint128).max, PERCENT, INTERVAL, WINDOW);
        vm.assertEq(t.totalSupply(), type(uint128).max, "max supply");
    }

    function test_constructor_revertsOnPercentAbove100() public {
        vm.expectRevert(abi.encodeWithSelector(ImoToken.InvalidPercent.selector, 101));
        deploy(SUPPLY, 101, INTERVAL, WINDOW);
    }

    function test_constructor_revertsOnZeroInterval() public {
        vm.expectRevert(ImoToken.ZeroSnapshotInterval.selector);
        deploy(SUPPLY, PERCENT, 0, WINDOW);
    }

    function test_constructor_revertsOnZeroWindow() public {
        vm.expectRevert(ImoToken.ZeroClaimWindow.selector);
        deploy(SUPPLY, PERCENT, INTERVAL, 0);
    }

    function test_constructor_revertsOnWindowAbove32() public {
        vm.expectRevert(abi.encodeWithSelector(ImoToken.ClaimWindowTooLong.selector, 33, 32));
        deploy(SUPPLY, PERCENT, INTERVAL, 33);
        vm.assertEq(uint256(deploy(SUPPLY, PERCENT, INTERVAL, 32).claimWindow()), 32, "32 is allowed");
    }

    function test_constructor_revertsOnZeroModelHash() public {
        vm.expectRevert(ImoToken.ZeroModelHash.selector);
        ImoToken(
            payable(deployImoToken(
                    "n", "s", SUPPLY, alice, bytes32(0), "", PERCENT, INTERVAL, WINDOW, owner, new address[](0)
                ))
        );
    }

    function test_constructor_revertsOnZeroRecipient() public {
        vm.expectRevert(abi.encodeWithSelector(IERC20Errors.ERC20InvalidReceiver.selector, address(0)));
        ImoToken(
            payable(deployImoToken(
                    "n", "s", SUPPLY, address(0), MODEL_HASH, "", PERCENT, INTERVAL, WINDOW, owner, new address[](0)
                ))
        );
    }

    function test_constructor_revertsOnZeroOwner() public {
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableInvalidOwner.selector, address(0)));
        ImoToken(
            payable(deployImoToken(
                    "n", "s", SUPPLY, alice, MODEL_HASH, "", PERCENT, INTERVAL, WINDOW, address(0), new address[](0)
                ))
        );
    }

    /*////////////////////////////// receive //////////////////////////////*/

    function test_receive_addsPendingAndEmits() public {
        vm.expectEmit(true, false, false, true, address(token));
        emit RevenueReceived(payer, 3 ether);
        deposit(3 ether);
        deposit(2 ether);
        vm.assertEq(token.pendingRevenue(), 5 ether, "pending");
        vm.assertEq(address(token).balance, 5 ether, "balance");
    }

    function test_receive_revertsAboveBalanceCap() public {
        uint256 cap = token.MAX_BALANCE();
        deposit(cap);
        vm.prank(payer);
        (bool ok, bytes memory ret) = address(token).call{value: 1}("");
        vm.assertFalse(ok, "over cap accepted");
        vm.assertEq(ret, abi.encodeWithSelector(ImoToken.BalanceCapExceeded.selector, cap + 1, cap), "error");
    }

    /// receive() cannot read storage within a 2,300-gas stipend, so it no longer refuses revenue once the
    /// supply is zero; such ether stays locked (no holder can claim or redeem it), as the header states.
    function test_receive_withZeroSupplyIsLocked() public {
        vm.prank(alice);
        token.burn(SUPPLY);
        deposit(1 ether);
        vm.assertEq(token.pendingRevenue(), 1 ether, "pending, but nobody can take it");
        vm.assertEq(token.redeemableOnBurn(1), 0, "no burn can pay it");
        vm.warp(token.nextSnapshotTimestamp());
        vm.expectRevert(ImoToken.NoHolders.selector);
        token.snapshot();
    }

    /*////////////////////////////// snapshot //////////////////////////////*/

    function test_snapshot_revertsBeforeInterval() public {
        vm.warp(deployedAt + INTERVAL - 1);
        vm.expectRevert(abi.encodeWithSelector(ImoToken.SnapshotTooEarly.selector, deployedAt + INTERVAL));
        token.snapshot();
    }

    function test_snapshot_splitsPendingAndEmits() public {
        deposit(10 ether);
        vm.warp(deployedAt + INTERVAL);
        vm.expectEmit(true, false, false, true, address(token));
        emit SnapshotTaken(1, 6 ether, 4 ether, 0);
        uint256 id = token.snapshot();
        vm.assertEq(id, 1, "first id");
        vm.assertEq(token.currentSnapshotId(), 1, "current");
        vm.assertEq(token.pendingRevenue(), 0, "pending cleared");
        vm.assertEq(token.redemptionPool(), 4 ether, "redemption");
        (uint256 p, uint256 c, uint256 supplyAt, uint64 ts, bool expired) = token.snapshotInfo(1);
        vm.assertEq(p, 6 ether, "pool");
        vm.assertEq(c, 0, "claimed");
        vm.assertEq(supplyAt, SUPPLY, "supply at");
        vm.assertEq(uint256(ts), block.timestamp, "timestamp");
        vm.assertFalse(expired, "live");
        vm.assertEq(token.lastSnapshotTimestamp(), block.timestamp, "last ts");
        vm.assertEq(token.nextSnapshotTimestamp(), block.timestamp + INTERVAL, "next ts");
    }

    function test_snapshot_secondRespectsInterval() public {
        snap();
        uint256 t = token.lastSnapshotTimestamp();
        vm.warp(t + INTERVAL - 1);
        vm.expectRevert(abi.encodeWithSelector(ImoToken.SnapshotTooEarly.selector, t + INTERVAL));
        token.snapshot();
        vm.warp(t + INTERVAL);
        vm.assertEq(token.snapshot(), 2, "second id");
    }

    function test_snapshot_withNothingPending() public {
        uint256 id = snap();
        vm.assertEq(pool(id), 0, "empty pool");
        vm.assertEq(token.claimableRevenue(alice, id), 0, "nothing claimable");
    }

    function test_snapshot_revertsWithZeroSupply() public {
        vm.prank(alice);
        token.burn(SUPPLY);
        vm.warp(token.nextSnapshotTimestamp());
        vm.expectRevert(ImoToken.NoHolders.selector);
        token.snapshot();
    }

    function test_snapshot_rollsOverUnclaimedAfterWindow() public {
        send(alice, bob, SUPPLY / 4);
        deposit(10 ether); // pool 1 = 6 ether
        snap();
        uint256 bobShare = claimAs(bob, 1); // 1.5 ether
        vm.assertEq(bobShare, 1.5 ether, "bob share");
        snap();
        snap(); // ids 2, 3: snapshot 1 still live (window 3)
        vm.assertTrue(token.isClaimable(1), "live in window");
        deposit(1 ether);
        vm.warp(token.nextSnapshotTimestamp());
        vm.expectEmit(true, false, false, true, address(token));
        emit SnapshotTaken(4, 0.6 ether + 4.5 ether, 0.4 ether, 4.5 ether);
        token.snapshot();
        vm.warp(block.timestamp + 1);
        vm.assertFalse(token.isClaimable(1), "expired");
        (,,,, bool expired) = token.snapshotInfo(1);
        vm.assertTrue(expired, "info expired");
        vm.assertEq(token.claimableRevenue(alice, 1), 0, "expired claimable is 0");
        // alice can claim her 3/4 of the rolled-over pool in snapshot 4
        vm.assertEq(claimAs(alice, 4), (5.1 ether * 3) / 4, "rolled into 4");
    }

    function test_snapshot_windowOfOneExpiresPreviousAtOnce() public {
        token = deploy(SUPPLY, 100, INTERVAL, 1);
        deposit(1 ether);
        snap();
        snap();
        vm.assertFalse(token.isClaimable(1), "window 1");
        vm.assertEq(pool(2), 1 ether, "all rolled");
    }

    /*////////////////////////////// claim //////////////////////////////*/

    function test_claim_paysShareAtSnapshotAndEmits() public {
        send(alice, bob, SUPPLY / 4);
        deposit(10 ether);
        snap();
        send(bob, carol, SUPPLY / 4); // after the snapshot: bob still claims for his balance at 1
        vm.expectEmit(true, true, false, true, address(token));
        emit RevenueClaimed(bob, 1, 1.5 ether);
        vm.assertEq(claimAs(bob, 1), 1.5 ether, "bob");
        vm.assertEq(claimAs(alice, 1), 4.5 ether, "alice");
        vm.assertEq(claimedOf(1), 6 ether, "claimed");
        vm.assertTrue(token.hasClaimed(bob, 1), "flag");
        vm.assertEq(address(token).balance, 4 ether, "redemption left");
        vm.expectRevert(abi.encodeWithSelector(ImoToken.NothingToClaim.selector, carol, 1));
        vm.prank(carol);
        token.claim(1);
    }

    function test_claim_revertsWhenClaimedTwice() public {
        deposit(1 ether);
        snap();
        claimAs(alice, 1);
        vm.expectRevert(abi.encodeWithSelector(ImoToken.AlreadyClaimed.selector, alice, 1));
        vm.prank(alice);
        token.claim(1);
    }

    /// The claimed flags share the account word with the balance: transfers (which write checkpoints) keep them.
    function test_claim_flagsSurviveTransfersAndCheckpoints() public {
        deposit(1 ether);
        snap();
        claimAs(alice, 1);
        send(alice, bob, 1 ether); // first change of the period: writes a checkpoint into alice's word
        send(bob, alice, 1 ether);
        vm.assertTrue(token.hasClaimed(alice, 1), "still flagged");
        vm.assertEq(token.balanceOf(alice), SUPPLY, "balance intact");
        vm.expectRevert(abi.encodeWithSelector(ImoToken.AlreadyClaimed.selector, alice, 1));
        vm.prank(alice);
        token.claim(1);
    }

    /// With the longest window (32), every live snapshot can be claimed once, in any order.
    function test_claim_anyOrderAcrossTheLongestWindow() public {
        token = deploy(SUPPLY, 100, INTERVAL, 32);
        send(alice, bob, SUPPLY / 2);
        for (uint256 i = 0; i < 40; ++i) {
            deposit(1 ether);
            snap();
        }
        // Live: 9..40. Claim 40 first, then 9 (31 below), then the rest from the middle out.
        // Snapshots 33..40 each carry the unclaimed 1 ether of 1..8, rolled over when those expired.
        vm.assertEq(claimAs(bob, 40), 1 ether, "latest");
        vm.assertEq(claimAs(bob, 9), 0.5 ether, "oldest live, 31 below the latest claim");
        for (uint256 id = 24; id > 9; --id) {
            claimAs(bob, id);
        }
        for (uint256 id = 25; id < 40; ++id) {
            claimAs(bob, id);
        }
        for (uint256 id = 9; id <= 40; ++id) {
            vm.assertTrue(token.hasClaimed(bob, id), "flagged");
            vm.assertEq(token.claimableRevenue(bob, id), 0, "nothing left");
            vm.expectRevert(abi.encodeWithSelector(ImoToken.AlreadyClaimed.selector, bob, id));
            vm.prank(bob);
            token.claim(id);
        }
        vm.assertFalse(token.hasClaimed(bob, 8), "expired, not recorded");
        vm.expectRevert(abi.encodeWithSelector(ImoToken.SnapshotExpired.selector, 8, 40));
        vm.prank(bob);
        token.claim(8);
        vm.assertEq(token.outstandingClaims(), 20 ether, "alice's halves of 9..40");
    }

    function test_claim_revertsOnUnknownSnapshot() public {
        vm.expectRevert(abi.encodeWithSelector(ImoToken.UnknownSnapshot.selector, 0));
        vm.prank(alice);
        token.claim(0);
        snap();
        vm.expectRevert(abi.encodeWithSelector(ImoToken.UnknownSnapshot.selector, 2));
        vm.prank(alice);
        token.claim(2);
    }

    function test_claim_revertsWhenExpired() public {
        deposit(1 ether);
        snap();
        snap();
        snap();
        snap();
        vm.expectRevert(abi.encodeWithSelector(ImoToken.SnapshotExpired.selector, 1, 1 + WINDOW));
        vm.prank(alice);
        token.claim(1);
    }

    function test_claim_revertsWhenPayoutFails() public {
        EtherRejecter rejecter = new EtherRejecter();
        send(alice, address(rejecter), SUPPLY / 2);
        deposit(1 ether);
        snap();
        vm.expectRevert(abi.encodeWithSelector(ImoToken.PayoutFailed.selector, address(rejecter), 0.3 ether));
        rejecter.callToken(address(token), abi.encodeCall(IERC7641.claim, (1)));
        vm.assertFalse(token.hasClaimed(address(rejecter), 1), "not booked");
    }

    function test_claim_afterBurningTokensStillUsesSnapshotBalance() public {
        send(alice, bob, SUPPLY / 2);
        deposit(10 ether);
        snap();
        vm.prank(bob);
        token.burn(SUPPLY / 2);
        vm.assertEq(token.totalSupplyAt(1), SUPPLY, "supply at 1 unchanged");
        vm.assertEq(claimAs(bob, 1), 3 ether, "bob claims after burning");
        vm.assertEq(claimAs(alice, 1), 3 ether, "alice");
    }

    function test_claim_worksForSnapshotsWithZeroSupplyNow() public {
        deposit(10 ether);
        snap();
        vm.prank(alice);
        token.burn(SUPPLY);
        vm.assertEq(claimAs(alice, 1), 6 ether, "claim after burning everything");
        vm.assertEq(address(token).balance, 0, "nothing left");
    }

    /// Issue 21 item 13: the whole supply burned in the snapshot's own second leaves that snapshot with a
    /// supply of 0 (balances count at the end of its second). Its claim pool goes to the burner with the rest
    /// (it would have claimed it all by waiting a second), claimableRevenue and claim do not divide by zero,
    /// and nothing stays locked.
    function test_burnWholeSupplyInSnapshotSecond_paysItsClaimPool() public {
        send(alice, bob, SUPPLY / 4);
        deposit(10 ether);
        vm.warp(token.nextSnapshotTimestamp());
        uint256 id = token.snapshot(); // claim pool 6 ether, redemption pool 4 ether
        deposit(1 ether); // pending
        send(bob, alice, SUPPLY / 4); // still in the snapshot's second: counts towards it
        vm.assertEq(token.redeemableOnBurn(SUPPLY), 11 ether, "quote: redemption + pending + the stranded pool");
        uint256 before = alice.balance;
        vm.expectEmit(true, true, false, true, address(token));
        emit RevenueClaimed(alice, id, 6 ether);
        vm.expectEmit(true, false, false, true, address(token));
        emit Redeemed(alice, SUPPLY, 5 ether);
        vm.prank(alice);
        token.burn(SUPPLY);
        vm.assertEq(alice.balance - before, 11 ether, "everything to the last holder");
        vm.assertEq(address(token).balance, 0, "nothing locked");
        vm.assertEq(token.outstandingClaims(), 0, "no outstanding claims");
        vm.assertEq(claimedOf(id), pool(id), "the pool is booked as claimed");
        vm.assertTrue(token.hasClaimed(alice, id), "by the burner");
        vm.assertEq(token.totalSupplyAt(id), 0, "the snapshot's supply");
        vm.warp(block.timestamp + 1);
        vm.assertEq(token.claimableRevenue(alice, id), 0, "claimableRevenue never reverts");
        vm.assertEq(token.claimableRevenue(bob, id), 0, "nor for another holder");
        vm.expectRevert(abi.encodeWithSelector(ImoToken.AlreadyClaimed.selector, alice, id));
        vm.prank(alice);
        token.claim(id);
        vm.expectRevert(abi.encodeWithSelector(ImoToken.NothingToClaim.selector, bob, id));
        vm.prank(bob);
        token.claim(id);
    }

    /// The same burn a second later is an ordinary whole-supply burn: the snapshot's holders claim its pool.
    function test_burnWholeSupplyAfterSnapshotSecond_leavesThePoolToItsHolders() public {
        deposit(10 ether);
        snap();
        vm.assertEq(token.redeemableOnBurn(SUPPLY), 4 ether, "redemption only");
        vm.prank(alice);
        token.burn(SUPPLY);
        vm.assertEq(token.outstandingClaims(), 6 ether, "owed to the holders at 1");
        vm.assertEq(claimAs(alice, 1), 6 ether, "claimed");
    }

    /*////////////////////////////// claimBatch //////////////////////////////*/

    function test_claimBatch_paysSumOnceAndEmitsPerSnapshot() public {
        send(alice, bob, SUPPLY / 2);
        deposit(10 ether);
        snap();
        deposit(20 ether);
        snap();
        uint256[] memory ids = new uint256[](2);
        ids[0] = 1;
        ids[1] = 2;
        uint256 before = bob.balance;
        vm.expectEmit(true, true, false, true, address(token));
        emit RevenueClaimed(bob, 1, 3 ether);
        vm.expectEmit(true, true, false, true, address(token));
        emit RevenueClaimed(bob, 2, 6 ether);
        vm.prank(bob);
        token.claimBatch(ids);
        vm.assertEq(bob.balance - before, 9 ether, "sum");
        vm.assertTrue(token.hasClaimed(bob, 1) && token.hasClaimed(bob, 2), "flags");
    }

    function test_claimBatch_revertsOnEmpty() public {
        vm.expectRevert(ImoToken.EmptyBatch.selector);
        vm.prank(alice);
        token.claimBatch(new uint256[](0));
    }

    function test_claimBatch_revertsOnDuplicateId() public {
        deposit(1 ether);
        snap();
        uint256[] memory ids = new uint256[](2);
        ids[0] = 1;
        ids[1] = 1;
        vm.expectRevert(abi.encodeWithSelector(ImoToken.AlreadyClaimed.selector, alice, 1));
        vm.prank(alice);
        token.claimBatch(ids);
    }

    function test_claimBatch_isAllOrNothing() public {
        deposit(1 ether);
        snap();
        uint256[] memory ids = new uint256[](2);
        ids[0] = 1;
        ids[1] = 7;
        vm.expectRevert(abi.encodeWithSelector(ImoToken.UnknownSnapshot.selector, 7));
        vm.prank(alice);
        token.claimBatch(ids);
        vm.assertFalse(token.hasClaimed(alice, 1), "nothing booked");
    }

    function test_claimBatch_revertsOnExpiredAndNothingToClaim() public {
        deposit(1 ether);
        snap();
        snap();
        snap();
        snap();
        uint256[] memory ids = new uint256[](1);
        ids[0] = 1;
        vm.expectRevert(abi.encodeWithSelector(ImoToken.SnapshotExpired.selector, 1, 4));
        vm.prank(alice);
        token.claimBatch(ids);
        ids[0] = 4;
        vm.expectRevert(abi.encodeWithSelector(ImoToken.NothingToClaim.selector, bob, 4));
        vm.prank(bob);
        token.claimBatch(ids);
    }

    /*////////////////////////////// burn //////////////////////////////*/

    function test_burn_paysProRataAndEmits() public {
        deposit(10 ether); // 4 ether to redemption
        snap();
        uint256 amount = SUPPLY / 4;
        vm.assertEq(token.redeemableOnBurn(amount), 1 ether, "quote");
        uint256 before = alice.balance;
        vm.expectEmit(true, true, false, true, address(token));
        emit Transfer(alice, address(0), amount);
        vm.expectEmit(true, false, false, true, address(token));
        emit Redeemed(alice, amount, 1 ether);
        vm.prank(alice);
        token.burn(amount);
        vm.assertEq(alice.balance - before, 1 ether, "paid");
        vm.assertEq(token.totalSupply(), SUPPLY - amount, "supply");
        vm.assertEq(token.redemptionPool(), 3 ether, "pool left");
        vm.assertEq(token.redeemableOnBurn(amount), 1 ether, "same price after");
    }

    function test_burn_revertsOnZero() public {
        vm.expectRevert(ImoToken.ZeroBurn.selector);
        vm.prank(alice);
        token.burn(0);
    }

    function test_burn_revertsAboveBalance() public {
        send(alice, bob, 10);
        vm.expectRevert(abi.encodeWithSelector(IERC20Errors.ERC20InsufficientBalance.selector, bob, 10, 11));
        vm.prank(bob);
        token.burn(11);
    }

    function test_burn_withEmptyPoolPaysNothing() public {
        uint256 before = alice.balance;
        vm.expectEmit(true, false, false, true, address(token));
        emit Redeemed(alice, 5, 0);
        vm.prank(alice);
        token.burn(5);
        vm.assertEq(alice.balance, before, "no payout");
    }

    function test_burn_wholeSupplyTakesRedemptionAndPending() public {
        deposit(10 ether);
        snap();
        deposit(1 ether);
        vm.assertEq(token.redeemableOnBurn(SUPPLY), 5 ether, "quote whole");
        uint256 before = alice.balance;
        vm.prank(alice);
        token.burn(SUPPLY);
        vm.assertEq(alice.balance - before, 5 ether, "redemption + pending");
        vm.assertEq(token.totalSupply(), 0, "empty");
        vm.assertEq(token.pendingRevenue(), 0, "pending");
        vm.assertEq(token.redemptionPool(), 0, "pool");
        vm.assertEq(token.redeemableOnBurn(1), 0, "zero supply quote");
        vm.assertEq(address(token).balance, 6 ether, "claim pool stays for holders at 1");
        vm.assertEq(claimAs(alice, 1), 6 ether, "and is claimable");
    }

    function test_burn_revertsWhenPayoutFails() public {
        EtherRejecter rejecter = new EtherRejecter();
        send(alice, address(rejecter), SUPPLY / 2);
        deposit(10 ether);
        snap();
        vm.expectRevert(abi.encodeWithSelector(ImoToken.PayoutFailed.selector, address(rejecter), 2 ether));
        rejecter.callToken(address(token), abi.encodeCall(ImoToken.burn, (SUPPLY / 2)));
    }

    function test_burn_recordsSupplyForEarlierSnapshots() public {
        snap();
        vm.prank(alice);
        token.burn(100);
        snap();
        vm.prank(alice);
        token.burn(50);
        vm.prank(alice);
        token.burn(25);
        snap();
        vm.assertEq(token.totalSupplyAt(1), SUPPLY, "1");
        vm.assertEq(token.totalSupplyAt(2), SUPPLY - 100, "2");
        vm.assertEq(token.totalSupplyAt(3), SUPPLY - 175, "3");
        vm.assertEq(token.balanceOfAt(alice, 2), SUPPLY - 100, "balance 2");
    }

    /*////////////////////////////// views //////////////////////////////*/

    function test_redeemableOnBurn_quotes() public {
        vm.assertEq(token.redeemableOnBurn(SUPPLY), 0, "empty pools");
        deposit(10 ether);
        // As the EIP-7641 reference: the redemption part (40%) of pending revenue is redeemable pro rata.
        vm.assertEq(token.redeemableOnBurn(SUPPLY / 2), 2 ether, "half of the pending redemption part");
        vm.assertEq(token.redeemableOnBurn(SUPPLY), 10 ether, "whole supply takes pending");
        vm.assertEq(token.redeemableOnBurn(SUPPLY + 1), 10 ether, "more than supply: capped quote");
        snap();
        vm.assertEq(token.redeemableOnBurn(SUPPLY / 2), 2 ether, "half of the redemption pool");
        vm.assertEq(token.redeemableOnBurn(0), 0, "zero");
    }

    /// pendingSplit() quotes the next snapshot exactly, also after burns took from pending revenue.
    function test_pendingSplit_quotesTheNextSnapshot() public {
        deposit(10 ether);
        (uint256 toClaim, uint256 toRedemption) = token.pendingSplit();
        vm.assertEq(toClaim, 6 ether, "claim part");
        vm.assertEq(toRedemption, 4 ether, "redemption part");
        vm.prank(alice);
        token.burn(SUPPLY / 4); // takes a quarter of the 4 ether redemption part
        vm.assertEq(token.pendingRevenue(), 9 ether, "pending after the burn");
        (toClaim, toRedemption) = token.pendingSplit();
        vm.assertEq(toClaim, 6 ether, "claim part untouched");
        vm.assertEq(toRedemption, 3 ether, "redemption part less the burn");
        vm.warp(token.nextSnapshotTimestamp());
        vm.expectEmit(true, false, false, true, address(token));
        emit SnapshotTaken(1, 6 ether, 3 ether, 0);
        token.snapshot();
    }

    function test_claimableRevenue_neverReverts() public {
        vm.assertEq(token.claimableRevenue(alice, 0), 0, "id 0");
        vm.assertEq(token.claimableRevenue(alice, 1), 0, "future id");
        deposit(1 ether);
        snap();
        vm.assertEq(token.claimableRevenue(alice, 1), 0.6 ether, "claimable");
        vm.assertEq(token.claimableRevenue(bob, 1), 0, "non-holder");
        claimAs(alice, 1);
        vm.assertEq(token.claimableRevenue(alice, 1), 0, "claimed");
        vm.assertEq(token.claimableRevenue(alice, type(uint256).max), 0, "max id");
    }

    function test_snapshotViews_revertOnUnknownId() public {
        vm.expectRevert(abi.encodeWithSelector(ImoToken.UnknownSnapshot.selector, 1));
        token.snapshotInfo(1);
        vm.expectRevert(abi.encodeWithSelector(ImoToken.UnknownSnapshot.selector, 1));
        token.balanceOfAt(alice, 1);
        vm.expectRevert(abi.encodeWithSelector(ImoToken.UnknownSnapshot.selector, 0));
        token.totalSupplyAt(0);
        vm.assertFalse(token.isClaimable(0), "0");
        vm.assertFalse(token.isClaimable(1), "future");
        vm.assertFalse(token.hasClaimed(alice, 1), "has claimed");
    }

    function test_balanceOfAt_manySnapshotsAndTransfers() public {
        // Balances change in some periods and not others; every snapshot must keep its own value.
        uint256[8] memory expected;
        for (uint256 i = 0; i < 8; ++i) {
            snap();
            expected[i] = token.balanceOf(bob);
            if (i % 3 != 1) send(alice, bob, (i + 1) * 1 ether);
            if (i == 5) send(bob, carol, 2 ether);
        }
        for (uint256 i = 0; i < 8; ++i) {
            vm.assertEq(token.balanceOfAt(bob, i + 1), expected[i], "bob at snapshot");
        }
        vm.assertEq(token.balanceOfAt(carol, 6), 0, "carol before");
        vm.assertEq(token.balanceOfAt(carol, 7), 2 ether, "carol after");
    }

    /// Issue 21 item 16: a fresh holder's first tokens after a snapshot write no checkpoint slot (22,100 gas
    /// saved on the first purchase after a snapshot); its history still reads zero up to then, also once
    /// real checkpoints follow, and after it emptied and refilled its balance.
    function test_freshHolderAfterSnapshot_writesNoCheckpointAndKeepsItsHistory() public {
        address dave = address(0xDA7E);
        snap(); // 1
        snap(); // 2
        send(alice, bob, 1 ether); // alice's checkpoint for this period is written here
        vm.record();
        send(alice, carol, 5 ether); // carol had nothing at snapshots 1 and 2
        (, bytes32[] memory writes) = vm.accesses(address(token));
        vm.assertEq(_distinct(writes), 2, "only the two balance words are written");
        send(alice, dave, 2 ether);
        send(dave, alice, 2 ether); // dave empties its balance in the same period
        snap(); // 3
        send(carol, bob, 5 ether); // carol's first real checkpoint: 5 ether at 3, zero up to 2
        snap(); // 4
        send(alice, carol, 1 ether); // carol: 0 at 4
        send(alice, dave, 3 ether); // dave: still no checkpoint, zero up to 4
        snap(); // 5
        uint256[5] memory carolAt = [uint256(0), 0, 5 ether, 0, 1 ether];
        uint256[5] memory daveAt = [uint256(0), 0, 0, 0, 3 ether];
        for (uint256 i = 0; i < 5; ++i) {
            vm.assertEq(token.balanceOfAt(carol, i + 1), carolAt[i], "carol at snapshot");
            vm.assertEq(token.balanceOfAt(dave, i + 1), daveAt[i], "dave at snapshot");
        }
        deposit(10 ether);
        snap(); // 6: dave holds 3 ether of the supply
        vm.assertEq(token.claimableRevenue(dave, 5), 0, "nothing from 5 (no revenue)");
        vm.assertEq(claimAs(dave, 6), (6 ether * 3 ether) / SUPPLY, "dave's share of 6");
        vm.assertEq(token.claimableRevenue(carol, 6), (6 ether * 1 ether) / SUPPLY, "carol's share of 6");
    }

    /// Issue 21 item 16: pre-paid checkpoint slots (anyone may pre-pay anyone's) turn a later checkpoint into
    /// an overwrite (no new slot), and are never read as history, before or after the checkpoints fill them.
    function test_prepayCheckpoints_laterCheckpointsCreateNoSlotAndHistoryHolds() public {
        snap(); // 1
        send(alice, bob, 10 ether); // bob: zero horizon, alice: a real checkpoint (entry 0) at 1
        vm.prank(carol);
        token.prepayCheckpoints(bob, 3);
        token.prepayCheckpoints(alice, 2); // after alice's first checkpoint: entries 1 and 2
        vm.assertEq(token.balanceOfAt(bob, 1), 0, "pre-paid slots are not history (length 0)");
        vm.assertEq(token.balanceOfAt(alice, 1), SUPPLY, "nor after a checkpoint");
        uint256[4] memory bobAt;
        for (uint256 i = 0; i < 4; ++i) {
            snap(); // 2..5
            bobAt[i] = token.balanceOf(bob);
            uint256 before = vm.snapshotState();
            vm.record();
            send(alice, bob, 1 ether);
            // A checkpoint each (bob's first is entry 0 at snapshot 2): alice's entries 1 and 2 and bob's 0 to
            // 2 were pre-paid, so only alice's checkpoint at 4 and 5 and bob's at 5 create a slot.
            vm.assertEq(slotsCreatedSince(address(token), before), i < 2 ? 0 : i - 1, "created");
            send(alice, bob, 1 ether);
        }
        for (uint256 i = 0; i < 4; ++i) {
            vm.assertEq(token.balanceOfAt(bob, i + 2), bobAt[i], "bob at snapshot");
            vm.assertEq(token.balanceOfAt(alice, i + 2), SUPPLY - bobAt[i], "alice at snapshot");
        }
        vm.assertEq(token.balanceOfAt(bob, 1), 0, "bob's horizon kept");
    }

    function _distinct(bytes32[] memory slots) private pure returns (uint256 n) {
        for (uint256 i = 0; i < slots.length; ++i) {
            bool seen;
            for (uint256 j = 0; j < i; ++j) {
                if (slots[j] == slots[i]) seen = true;
            }
            if (!seen) ++n;
        }
    }

    function test_selfTransferKeepsHistory() public {
        snap();
        send(alice, alice, 1 ether);
        send(alice, bob, 1 ether);
        snap();
        vm.assertEq(token.balanceOfAt(alice, 1), SUPPLY, "1");
        vm.assertEq(token.balanceOfAt(alice, 2), SUPPLY - 1 ether, "2");
    }

    function test_setModelURI_ownerOnly() public {
        vm.expectEmit(false, false, false, true, address(token));
        emit ModelURIUpdated("ar://new");
        vm.prank(owner);
        token.setModelURI("ar://new");
        vm.assertEq(token.modelURI(), "ar://new", "updated");
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, alice));
        vm.prank(alice);
        token.setModelURI("x");
    }

    function test_supportsInterface() public view {
        vm.assertTrue(token.supportsInterface(0xed7b2e4e), "ERC-7641");
        vm.assertTrue(token.supportsInterface(type(IERC7641).interfaceId), "ERC-7641 computed");
        vm.assertTrue(token.supportsInterface(0x01ffc9a7), "ERC-165");
        vm.assertTrue(token.supportsInterface(type(IERC20).interfaceId), "ERC-20");
        vm.assertFalse(token.supportsInterface(0xffffffff), "invalid id");
    }

    function test_permit() public {
        uint256 key = 0xA11CE5;
        address signer = vm.addr(key);
        send(alice, signer, 10);
        bytes32 structHash = keccak256(
            abi.encode(
                keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)"),
                signer,
                bob,
                7,
                0,
                block.timestamp
            )
        );
        bytes32 digest = keccak256(abi.encodePacked("\x19\x01", token.DOMAIN_SEPARATOR(), structHash));
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        token.permit(signer, bob, 7, block.timestamp, v, r, s);
        vm.assertEq(token.allowance(signer, bob), 7, "allowance");
        vm.assertEq(token.nonces(signer), 1, "nonce");
    }

    function test_snapshot_revertsWhenTimestampExceeds32Bits() public {
        vm.warp(uint256(type(uint32).max) + 1);
        vm.expectRevert(
            abi.encodeWithSelector(SafeCast.SafeCastOverflowedUintDowncast.selector, 32, uint256(type(uint32).max) + 1)
        );
        token.snapshot();
    }

    function test_accounting_balanceEqualsLiabilities() public {
        send(alice, bob, 333_333 ether);
        send(alice, carol, 3 ether + 1);
        deposit(1 ether + 7);
        snap();
        claimAs(bob, 1);
        claimAs(carol, 1);
        deposit(3);
        snap();
        vm.prank(bob);
        token.burn(111 ether);
        vm.assertEq(address(token).balance, liabilities(), "exact accounting");
    }
}
