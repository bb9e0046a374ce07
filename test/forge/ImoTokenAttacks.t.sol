// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ImoToken} from "../../contracts/ImoToken.sol";
import {TokenFixture} from "./utils/TokenFixture.sol";
import {FlashLender, FlashBorrower, StipendPayer, ForcedSender} from "./utils/Attackers.sol";

/// @notice Audit findings (issue 10 items 1-2): flash-loan snapshot capture and 2,300-gas payments.
contract ImoTokenAttacksTest is TokenFixture {
    FlashLender internal lender;
    FlashBorrower internal borrower;

    function setUp() public override {
        super.setUp();
        lender = new FlashLender(token);
        borrower = new FlashBorrower(token, lender);
        // The lending pool holds 90% of the supply; alice keeps 10%.
        send(alice, address(lender), (SUPPLY * 9) / 10);
    }

    /// Item 1: holding 0 tokens before and after the transaction, the borrower must get nothing.
    function test_flashLoanSnapshotCapture_paysTheBorrowerNothing() public {
        deposit(10 ether);
        vm.roll(block.number + 1);
        vm.warp(token.nextSnapshotTimestamp());
        borrower.attack((SUPPLY * 9) / 10);
        vm.assertEq(token.balanceOf(address(borrower)), 0, "borrower holds nothing after the tx");
        uint256 id = borrower.snapshotId();
        vm.assertEq(id, 1, "the borrower took snapshot 1");

        // Later blocks: the snapshot holds the balances at the end of the second it was taken in.
        vm.roll(block.number + 1);
        vm.warp(block.timestamp + 1);
        uint256 before = address(borrower).balance;
        bool claimed = borrower.tryClaim();
        // Before the fix the borrower took 90% of the 6 ether claim pool here.
        vm.assertEq(address(borrower).balance - before, 0, "borrower took a share of the claim pool");
        vm.assertFalse(claimed, "claim reverts (nothing to claim)");
        vm.assertEq(borrower.claimable(), 0, "nothing claimable");
        vm.assertEq(token.balanceOfAt(address(borrower), id), 0, "borrowed tokens are not in the snapshot");
        vm.assertEq(token.balanceOfAt(address(lender), id), (SUPPLY * 9) / 10, "the lender's are");
        vm.assertEq(claimAs(alice, id), (6 ether * 1) / 10, "alice's share of the pool is intact");
    }

    /// Transfers in the snapshot's own second (before or after the snapshot call) count towards it.
    function test_snapshotHoldsBalancesAtTheEndOfItsSecond() public {
        deposit(10 ether);
        vm.warp(token.nextSnapshotTimestamp());
        send(alice, bob, 1 ether); // before the call, same second
        uint256 id = token.snapshot();
        send(alice, carol, 2 ether); // after the call, same second
        send(bob, carol, 0.5 ether);
        vm.assertEq(token.balanceOfAt(bob, id), 0.5 ether, "bob at end of second (tentative)");
        vm.warp(block.timestamp + 1);
        send(carol, bob, 2.5 ether); // next second: does not count
        vm.assertEq(token.balanceOfAt(bob, id), 0.5 ether, "bob at snapshot");
        vm.assertEq(token.balanceOfAt(carol, id), 2.5 ether, "carol at snapshot");
        vm.assertEq(token.balanceOfAt(alice, id), SUPPLY / 10 - 3 ether, "alice at snapshot");
        vm.assertEq(token.balanceOf(bob), 3 ether, "bob now");
    }

    /// A burn in the snapshot's second lowers the supply at the snapshot (shares still sum to the pool).
    function test_burnInTheSnapshotSecondLowersItsSupply() public {
        vm.warp(token.nextSnapshotTimestamp());
        uint256 id = token.snapshot();
        vm.prank(alice);
        token.burn(1 ether);
        vm.warp(block.timestamp + 1);
        vm.prank(alice);
        token.burn(1 ether);
        vm.assertEq(token.totalSupplyAt(id), SUPPLY - 1 ether, "supply at the end of the second");
        vm.assertEq(token.totalSupply(), SUPPLY - 2 ether, "supply now");
    }

    /// Claims on a snapshot open in the next second (same block and same second both refused).
    function test_claimOpensAfterTheSnapshotSecond() public {
        deposit(10 ether);
        vm.warp(token.nextSnapshotTimestamp());
        uint256 id = token.snapshot();
        vm.assertEq(token.claimableRevenue(alice, id), 0, "not yet claimable");
        vm.assertFalse(token.isClaimable(id), "not yet open");
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(ImoToken.ClaimNotOpen.selector, id, block.timestamp + 1));
        token.claim(id);
        vm.roll(block.number + 1); // a later block in the same second (several blocks a second on some L2s)
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(ImoToken.ClaimNotOpen.selector, id, block.timestamp + 1));
        token.claim(id);
        vm.warp(block.timestamp + 1);
        vm.assertTrue(token.isClaimable(id), "open");
        vm.assertEq(claimAs(alice, id), 0.6 ether, "alice's 10% of 6 ether");
    }

    /// Item 2: `transfer` and `send` (2,300 gas) to the token succeed, and the revenue is split at the next snapshot.
    function test_receive_acceptsStipendTransferAndSend() public {
        StipendPayer p = new StipendPayer();
        vm.deal(address(p), 3 ether);
        p.payByTransfer(payable(address(token)), 1 ether);
        vm.assertTrue(p.payBySend(payable(address(token)), 2 ether), "send returned false");
        vm.assertEq(token.pendingRevenue(), 3 ether, "pending");
        uint256 id = snap();
        vm.assertEq(pool(id), 1.8 ether, "60% to the claim pool");
        vm.assertEq(token.redemptionPool(), 1.2 ether, "40% to redemption");
        vm.warp(block.timestamp + 1);
        vm.assertEq(claimAs(alice, id), 0.18 ether, "alice claims her 10%");
        vm.assertEq(address(token).balance, liabilities(), "balance = liabilities");
    }

    /// Forced ether (SELFDESTRUCT, no call) counts as revenue at the next snapshot.
    function test_forcedEtherIsRevenue() public {
        new ForcedSender{value: 5 ether}(payable(address(token)));
        vm.assertEq(token.pendingRevenue(), 5 ether, "pending");
        uint256 id = snap();
        vm.assertEq(pool(id), 3 ether, "claim pool");
        vm.assertEq(token.redemptionPool(), 2 ether, "redemption");
    }

    /// Forced ether beyond MAX_BALANCE is never counted, so no pool can overflow.
    function test_balanceAboveCapIsClampedAtSnapshot() public {
        uint256 cap = token.MAX_BALANCE();
        vm.deal(address(token), cap + 10 ether);
        vm.assertEq(token.pendingRevenue(), cap, "pending is clamped");
        uint256 id = snap();
        vm.assertEq(pool(id) + token.redemptionPool(), cap, "split of the cap");
    }
}
