// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {deployImoToken} from "./utils/Vm.sol";
import {ImoOffering} from "../../contracts/ImoOffering.sol";
import {ImoToken} from "../../contracts/ImoToken.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {OfferingFixture} from "./utils/OfferingFixture.sol";

contract ImoOfferingTest is OfferingFixture {
    uint256 internal constant AMOUNT = 1_000 ether; // 1,000 tokens

    function test_fixedPrice_severalBuyers_deliveredAtPurchase() public {
        ImoOffering sale = fixedSale(AMOUNT, 0);
        vm.warp(start);
        uint256 spentBob = buyAs(sale, bob, 100 ether, 5 ether); // change returned
        uint256 spentCarol = buyAs(sale, carol, 250 ether, 2.5 ether);
        vm.assertEq(spentBob, 1 ether, "bob pays 100 * 0.01");
        vm.assertEq(spentCarol, 2.5 ether, "carol pays 250 * 0.01");
        vm.assertEq(token.balanceOf(bob), 100 ether, "bob has his tokens");
        vm.assertEq(token.balanceOf(carol), 250 ether, "carol has hers");
        (uint256 sold, uint256 raised,,) = sale.progress();
        vm.assertEq(sold, 350 ether, "sold");
        vm.assertEq(raised, 3.5 ether, "raised");
        // No soft cap: the seller may withdraw before the end.
        uint256 before = alice.balance;
        vm.prank(alice);
        sale.withdraw();
        vm.assertEq(alice.balance - before, 3.5 ether, "proceeds");
        vm.warp(end);
        sale.finalize();
        vm.assertEq(token.balanceOf(address(sale)), 0, "unsold returned");
        vm.assertEq(sale.returned(), 650 ether, "returned");
        vm.assertEq(address(sale).balance, 0, "no ether left");
    }

    function test_descendingPrice_buyersPayTheirBlock_neverBelowFloor() public {
        ImoOffering sale = openSale(AMOUNT, 0.1 ether, 0.02 ether, 0, 0, bytes32(0));
        vm.assertEq(sale.priceAt(start - 1), 0.1 ether, "before start");
        vm.assertEq(sale.priceAt(start), 0.1 ether, "start");
        vm.assertEq(sale.priceAt(start + 12 hours), 0.06 ether, "halfway");
        vm.assertEq(sale.priceAt(end), 0.02 ether, "end");
        vm.assertEq(sale.priceAt(end + 365 days), 0.02 ether, "after end");
        vm.warp(start);
        vm.assertEq(buyAs(sale, bob, 10 ether, 10 ether), 1 ether, "bob at the start price");
        vm.warp(start + 12 hours);
        vm.assertEq(buyAs(sale, carol, 10 ether, 10 ether), 0.6 ether, "carol at half way");
        vm.warp(end - 1);
        uint256 last = sale.currentPrice();
        vm.assertGe(last, 0.02 ether, "above floor");
        vm.assertEq(buyAs(sale, dave, 10 ether, 10 ether), sale.costAt(10 ether, last), "dave near the floor");
    }

    function testFuzz_priceBetweenFloorAndStart_monotone(uint256 a, uint256 b, uint256 startPrice, uint256 floorPrice)
        public
    {
        startPrice = bound(startPrice, 1, 1e30);
        floorPrice = bound(floorPrice, 1, startPrice);
        ImoOffering sale = openSale(1 ether, startPrice, floorPrice, 0, 0, bytes32(0));
        a = bound(a, 0, end + 10 days);
        b = bound(b, a, end + 10 days);
        uint256 pa = sale.priceAt(a);
        uint256 pb = sale.priceAt(b);
        vm.assertGe(pb, floorPrice, "never below floor");
        vm.assertLe(pa, startPrice, "never above start");
        vm.assertGe(pa, pb, "never rises");
    }

    function testFuzz_costRoundsUp(uint256 amount, uint256 price) public {
        ImoOffering sale = fixedSale(AMOUNT, 0);
        amount = bound(amount, 1, AMOUNT);
        price = bound(price, 1, 1e24);
        uint256 c = sale.costAt(amount, price);
        vm.assertGe(c * 1e18, amount * price, "cost covers the exact price");
        vm.assertLe(c * 1e18, amount * price + 1e18 - 1, "by less than one wei");
    }

    function test_softCapMissed_refundsAndTokensBack() public {
        ImoOffering sale = fixedSale(AMOUNT, 5 ether);
        vm.warp(start);
        buyAs(sale, bob, 100 ether, 1 ether);
        buyAs(sale, carol, 200 ether, 2 ether);
        vm.assertEq(token.balanceOf(bob), 0, "not delivered before finalize");
        vm.prank(alice);
        vm.expectRevert(ImoOffering.WithdrawBeforeFinalize.selector);
        sale.withdraw();
        vm.warp(end);
        sale.finalize();
        vm.assertEq(token.balanceOf(alice), SUPPLY, "all tokens back with the seller");
        uint256 before = bob.balance;
        vm.prank(bob);
        sale.refund();
        vm.assertEq(bob.balance - before, 1 ether, "bob refunded");
        vm.prank(carol);
        sale.refund();
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(ImoOffering.NothingToRefund.selector, bob));
        sale.refund();
        vm.expectRevert(ImoOffering.NoDeliveries.selector);
        sale.deliver(bob);
        vm.assertEq(address(sale).balance, 0, "all refunded");
        vm.assertEq(sale.refunded(), 3 ether, "refunded total");
    }

    function test_softCapMet_withdrawDeliverUnsoldBack() public {
        ImoOffering sale = fixedSale(AMOUNT, 2 ether);
        vm.warp(start);
        buyAs(sale, bob, 100 ether, 1 ether);
        buyAs(sale, carol, 150 ether, 1.5 ether);
        vm.expectRevert(abi.encodeWithSelector(ImoOffering.SaleNotOver.selector, end, 750 ether));
        sale.finalize();
        vm.warp(end);
        sale.finalize();
        vm.assertEq(token.balanceOf(alice), SUPPLY - 250 ether, "unsold back");
        vm.prank(bob);
        vm.expectRevert(ImoOffering.RefundsClosed.selector);
        sale.refund();
        uint256 before = alice.balance;
        vm.prank(alice);
        sale.withdraw();
        vm.assertEq(alice.balance - before, 2.5 ether, "proceeds");
        sale.deliver(bob);
        vm.prank(carol);
        sale.deliver(carol);
        vm.assertEq(token.balanceOf(bob), 100 ether, "bob delivered");
        vm.assertEq(token.balanceOf(carol), 150 ether, "carol delivered");
        vm.assertEq(token.balanceOf(address(sale)), 0, "no tokens left");
        vm.assertEq(address(sale).balance, 0, "no ether left");
        vm.expectRevert(abi.encodeWithSelector(ImoOffering.NothingToDeliver.selector, bob));
        sale.deliver(bob);
    }

    /// Issue 21 item 15: tokens that reach a finalized sale are the seller's and leave by sweep (anyone may
    /// call it; it pays only the seller), never below what buyers are still owed.
    function test_tokensSentAfterFinalize_areSweptToTheSeller() public {
        ImoOffering sale = fixedSale(AMOUNT, 2 ether);
        vm.warp(start);
        buyAs(sale, bob, 300 ether, 3 ether);
        vm.expectRevert(ImoOffering.NotFinalized.selector);
        sale.sweep(IERC20(address(token))); // before finalize, finalize returns what nobody bought
        vm.warp(end);
        sale.finalize();
        vm.assertEq(sale.owedTokens(), 300 ether, "bob's tokens wait for delivery");
        vm.expectRevert(abi.encodeWithSelector(ImoOffering.NothingToSweep.selector, address(token)));
        sale.sweep(IERC20(address(token)));
        send(alice, address(sale), 7 ether); // sent by mistake after the end
        uint256 sellerBefore = token.balanceOf(alice);
        uint256 returnedBefore = sale.returned();
        vm.prank(carol); // anyone
        sale.sweep(IERC20(address(token)));
        vm.assertEq(token.balanceOf(alice) - sellerBefore, 7 ether, "to the seller");
        vm.assertEq(sale.returned() - returnedBefore, 7 ether, "counted as returned");
        vm.assertEq(token.balanceOf(address(sale)), 300 ether, "bob's tokens stay");
        sale.deliver(bob);
        vm.assertEq(token.balanceOf(address(sale)), 0, "nothing is left");
        vm.assertEq(sale.returned() + 300 ether, AMOUNT + 7 ether, "tokens in = delivered + returned");
    }

    /// Any other ERC-20 sent to a sale goes to the seller by sweep, at any time.
    function test_otherTokensAreSweptToTheSeller() public {
        ImoOffering sale = fixedSale(AMOUNT, 0);
        ImoToken other = ImoToken(
            payable(deployImoToken(
                    "O", "O", 100 ether, bob, keccak256("other"), "", 50, INTERVAL, WINDOW, owner, new address[](0)
                ))
        );
        vm.prank(bob);
        other.transfer(address(sale), 40 ether);
        vm.prank(dave);
        sale.sweep(IERC20(address(other)));
        vm.assertEq(other.balanceOf(alice), 40 ether, "to the seller");
        vm.assertEq(other.balanceOf(address(sale)), 0, "none left");
        vm.assertEq(sale.returned(), 0, "not the token for sale");
        vm.expectRevert(abi.encodeWithSelector(ImoOffering.NothingToSweep.selector, address(other)));
        sale.sweep(IERC20(address(other)));
    }

    function test_soldOut_finalizesEarly() public {
        ImoOffering sale = fixedSale(10 ether, 0.05 ether);
        vm.warp(start);
        buyAs(sale, bob, 10 ether, 0.1 ether);
        vm.expectRevert(abi.encodeWithSelector(ImoOffering.NotEnoughLeft.selector, 1, 0));
        buyAs(sale, carol, 1, 1 ether);
        sale.finalize();
        sale.deliver(bob);
        vm.assertEq(token.balanceOf(bob), 10 ether, "delivered");
    }

    function test_perAddressCap_namesWhatIsLeft() public {
        ImoOffering sale = openSale(AMOUNT, PRICE, PRICE, 0, 100 ether, bytes32(0));
        vm.warp(start);
        buyAs(sale, bob, 60 ether, 1 ether);
        vm.expectRevert(abi.encodeWithSelector(ImoOffering.CapExceeded.selector, bob, 50 ether, 40 ether));
        buyAs(sale, bob, 50 ether, 1 ether);
        buyAs(sale, bob, 40 ether, 1 ether);
        buyAs(sale, carol, 100 ether, 1 ether);
    }

    function test_allowlist_proofForAnotherAddressFails() public {
        bytes32 lb = leaf(bob, 50 ether);
        bytes32 lc = leaf(carol, 0);
        bytes32 root = hashPair(lb, lc);
        ImoOffering sale = openSale(AMOUNT, PRICE, PRICE, 0, 80 ether, root);
        vm.warp(start);
        bytes32[] memory proofBob = new bytes32[](1);
        proofBob[0] = lc;
        bytes32[] memory proofCarol = new bytes32[](1);
        proofCarol[0] = lb;
        vm.expectRevert(ImoOffering.AllowlistRequired.selector);
        buyAs(sale, bob, 1 ether, 1 ether);
        // dave uses bob's proof and cap
        vm.prank(dave);
        vm.expectRevert(abi.encodeWithSelector(ImoOffering.NotAllowlisted.selector, dave, 50 ether));
        sale.buyAllowlisted{value: 1 ether}(1 ether, PRICE, 50 ether, proofBob);
        // bob claims a higher cap than his leaf
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(ImoOffering.NotAllowlisted.selector, bob, 80 ether));
        sale.buyAllowlisted{value: 1 ether}(1 ether, PRICE, 80 ether, proofBob);
        vm.prank(bob);
        sale.buyAllowlisted{value: 1 ether}(50 ether, PRICE, 50 ether, proofBob);
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(ImoOffering.CapExceeded.selector, bob, 1, 0));
        sale.buyAllowlisted{value: 1 ether}(1, PRICE, 50 ether, proofBob);
        // carol's leaf has no own cap: the global 80 applies
        vm.prank(carol);
        vm.expectRevert(abi.encodeWithSelector(ImoOffering.CapExceeded.selector, carol, 81 ether, 80 ether));
        sale.buyAllowlisted{value: 1 ether}(81 ether, PRICE, 0, proofCarol);
    }

    function test_revenueSnapshottedDuringSale_endsWithSeller() public {
        ImoOffering sale = fixedSale(AMOUNT * 100, 0); // 100,000 of 1,000,000 tokens: 10 % of the supply
        vm.warp(start);
        buyAs(sale, bob, 1_000 ether, 10 ether);
        deposit(10 ether); // 60 % claimable: pool 6 ether
        uint256 id = snap();
        vm.roll(block.number + 1);
        uint256 share = token.claimableRevenue(address(sale), id);
        vm.assertEq(share, 0.594 ether, "the sale's share: 99,000 / 1,000,000 of 6");
        vm.warp(end);
        sale.finalize();
        vm.assertEq(sale.revenueCollected(), share, "collected at finalize");
        uint256 before = alice.balance;
        vm.prank(alice);
        sale.withdraw();
        vm.assertEq(alice.balance - before, share + 10 ether, "revenue and proceeds with the seller");
        vm.assertEq(address(sale).balance, 0, "nothing stuck");
    }

    function test_buyWindowAndGuards() public {
        ImoOffering sale = fixedSale(AMOUNT, 0);
        vm.expectRevert(abi.encodeWithSelector(ImoOffering.SaleNotStarted.selector, start));
        buyAs(sale, bob, 1 ether, 1 ether);
        vm.warp(start);
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(ImoOffering.PriceAboveMax.selector, PRICE, PRICE - 1));
        sale.buy{value: 1 ether}(1 ether, PRICE - 1);
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(ImoOffering.PaymentTooLow.selector, 0.01 ether, 0.01 ether - 1));
        sale.buy{value: 0.01 ether - 1}(1 ether, PRICE);
        vm.expectRevert(ImoOffering.ZeroPurchase.selector);
        buyAs(sale, bob, 0, 1 ether);
        vm.warp(end);
        vm.expectRevert(abi.encodeWithSelector(ImoOffering.SaleEnded.selector, end));
        buyAs(sale, bob, 1 ether, 1 ether);
        vm.prank(bob);
        (bool ok,) = address(sale).call{value: 1}("");
        vm.assertFalse(ok, "plain ether refused");
    }

    function test_constructorAndFundChecks() public {
        IERC20 t = IERC20(address(token));
        vm.expectRevert(abi.encodeWithSelector(ImoOffering.InvalidSchedule.selector, end, start, block.timestamp));
        new ImoOffering(t, alice, AMOUNT, PRICE, PRICE, end, start, 0, 0, bytes32(0));
        vm.expectRevert(abi.encodeWithSelector(ImoOffering.InvalidPrices.selector, PRICE, PRICE + 1));
        new ImoOffering(t, alice, AMOUNT, PRICE, PRICE + 1, start, end, 0, 0, bytes32(0));
        vm.expectRevert(abi.encodeWithSelector(ImoOffering.InvalidAmount.selector, 0, type(uint120).max));
        new ImoOffering(t, alice, 0, PRICE, PRICE, start, end, 0, 0, bytes32(0));
        vm.expectRevert(abi.encodeWithSelector(ImoOffering.SoftCapUnreachable.selector, 11 ether, 10 ether));
        new ImoOffering(t, alice, AMOUNT, PRICE, PRICE, start, end, 11 ether, 0, bytes32(0));
        ImoOffering sale = new ImoOffering(t, alice, AMOUNT, PRICE, PRICE, start, end, 0, 0, bytes32(0));
        vm.expectRevert(abi.encodeWithSelector(ImoOffering.NotSeller.selector, bob));
        vm.prank(bob);
        sale.fund();
        vm.warp(start);
        vm.expectRevert(ImoOffering.NotFunded.selector);
        buyAs(sale, bob, 1 ether, 1 ether);
        vm.startPrank(alice);
        token.approve(address(sale), AMOUNT);
        sale.fund();
        vm.expectRevert(ImoOffering.AlreadyFunded.selector);
        sale.fund();
        vm.stopPrank();
    }

    /// Many snapshots during a sale cannot make finalize run out of gas: it looks at a bounded number of
    /// them, and claimRevenue continues where it stopped; the revenue still ends with the seller.
    function test_manySnapshots_boundedCollection() public {
        ImoOffering sale = fixedSale(AMOUNT * 100, 0);
        uint256 first = sale.revenueCursor();
        deposit(10 ether);
        uint256 firstId = snap(); // the sale holds 10 % at this one
        vm.assertEq(firstId, first, "first snapshot after funding");
        // WINDOW = 3: each expiry rolls the unclaimed pool forward
        for (uint256 i = 0; i < 300; ++i) {
            snap();
        }
        vm.roll(block.number + 1);
        vm.warp(end);
        sale.finalize();
        vm.assertEq(sale.revenueCursor(), first + sale.MAX_SNAPSHOTS_PER_COLLECTION() - 1, "bounded");
        sale.claimRevenue();
        vm.assertEq(sale.revenueCursor(), token.currentSnapshotId(), "caught up, the latest looked at again");
        // Nobody claimed, so the 6 ether pool rolled over snapshot after snapshot; the sale's 10 % of it is
        // collected from the live one and goes to the seller.
        vm.assertEq(sale.revenueCollected(), 0.6 ether, "the sale's share of the rolled-over pool");
        uint256 before = alice.balance;
        vm.prank(alice);
        sale.withdraw();
        vm.assertEq(alice.balance - before, 0.6 ether, "with the seller");
    }

    /// Issue 21 item 16: after a snapshot taken during the sale, a purchase creates a storage slot (22,100 gas)
    /// only for the buyer's own balance: a fresh buyer its balance word, a returning buyer its checkpoint.
    /// The sale's own checkpoint goes into a slot {fund} pre-paid; without that, each of these wrote two.
    function test_buyAfterSnapshotDuringSale_createsSlotsOnlyForTheBuyer() public {
        end = start + 10 days;
        ImoOffering sale = fixedSale(AMOUNT, 0);
        vm.warp(start);
        buyAs(sale, bob, 10 ether, 1 ether);
        uint256 first = snap();
        vm.assertEq(_slotsCreatedByBuy(sale, carol, 0.2 ether), 1, "fresh buyer, with change: its balance word");
        snap();
        vm.assertEq(_slotsCreatedByBuy(sale, bob, 0.1 ether), 1, "returning buyer: its own checkpoint");
        snap();
        // The pre-paid slots are never read as history: the sale's balance at each snapshot is what it held.
        vm.assertEq(token.balanceOfAt(address(sale), first), AMOUNT - 10 ether, "at the first");
        vm.assertEq(token.balanceOfAt(address(sale), first + 1), AMOUNT - 20 ether, "at the second");
        vm.assertEq(token.balanceOfAt(address(sale), first + 2), AMOUNT - 30 ether, "at the third");
        vm.assertEq(token.balanceOfAt(bob, first + 1), 10 ether, "bob at the second");
        vm.assertEq(token.balanceOfAt(bob, first + 2), 20 ether, "bob at the third");
    }

    /// {fund} pre-pays one checkpoint slot per snapshot that can fall in the sale plus one for finalize, at
    /// most MAX_PREPAID_CHECKPOINTS, and none with a soft cap (the sale's balance then changes only at
    /// finalize and deliver). Besides them, fund creates one token slot: the sale's balance word.
    function test_fund_prepaysOneCheckpointSlotPerPossibleSnapshot() public {
        // INTERVAL is 1 day; the sale opens in an hour.
        vm.assertEq(_slotsCreatedByFund(1 days, 0), 1 + 3, "a 1-day sale: 25 hours / 1 day + 2");
        vm.assertEq(_slotsCreatedByFund(10 days, 0), 1 + 12, "a 10-day sale");
        vm.assertEq(_slotsCreatedByFund(365 days, 0), 1 + 64, "capped");
        vm.assertEq(_slotsCreatedByFund(10 days, 1 ether), 1, "with a soft cap, none");
    }

    function _slotsCreatedByFund(uint256 duration, uint256 softCap) private returns (uint256 created) {
        end = start + duration;
        ImoOffering sale =
            new ImoOffering(IERC20(address(token)), alice, AMOUNT, PRICE, PRICE, start, end, softCap, 0, bytes32(0));
        vm.startPrank(alice);
        token.approve(address(sale), AMOUNT);
        uint256 before = vm.snapshotState();
        vm.record();
        sale.fund();
        created = slotsCreatedSince(address(token), before);
        vm.stopPrank();
    }

    /// @dev Buys 10 tokens as `buyer`; returns how many storage slots of the token the purchase created.
    function _slotsCreatedByBuy(ImoOffering sale, address buyer, uint256 value) private returns (uint256 created) {
        uint256 before = vm.snapshotState();
        vm.record();
        buyAs(sale, buyer, 10 ether, value);
        created = slotsCreatedSince(address(token), before);
        buyAs(sale, buyer, 10 ether, value);
    }
}
