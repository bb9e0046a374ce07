// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ImoToken} from "../../contracts/ImoToken.sol";
import {IImoRevenueCurrencies} from "../../contracts/interfaces/IImoRevenueCurrencies.sol";
import {TestToken} from "../../contracts/test-helpers/TestToken.sol";
import {HostileToken, ITokensReceived} from "../../contracts/test-helpers/HostileToken.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {CurrencyFixture} from "./utils/CurrencyFixture.sol";
import {deployImoToken, VmLog} from "./utils/Vm.sol";

/// @dev A holder whose ERC-777-style hook re-enters the token with `reentry` when paid in a currency.
contract ReenteringHolder is ITokensReceived {
    ImoToken public immutable token;
    bytes public reentry;
    bool public reentered;
    bytes public reentryError;

    constructor(ImoToken token_) {
        token = token_;
    }

    function setReentry(bytes calldata data) external {
        reentry = data;
    }

    function act(bytes calldata data) external {
        (bool ok, bytes memory ret) = address(token).call(data);
        if (!ok) {
            assembly {
                revert(add(ret, 32), mload(ret))
            }
        }
    }

    function tokensReceived(address, uint256) external {
        if (reentry.length == 0) return;
        (bool ok, bytes memory ret) = address(token).call(reentry);
        reentered = ok;
        reentryError = ret;
    }

    receive() external payable {}
}

/// @notice ERC-20 revenue currencies (issue 22): per-currency split, claim, batch, burn, credits, hostile tokens.
contract ImoTokenCurrenciesTest is CurrencyFixture {
    /*////////////////////////////// deployment //////////////////////////////*/

    function _deployWith(address[] memory list) internal returns (address) {
        return deployImoToken("n", "s", SUPPLY, alice, MODEL_HASH, "", PERCENT, INTERVAL, WINDOW, owner, list);
    }

    function test_constructor_listsTheCurrenciesInOrder() public view {
        address[] memory listed = token.revenueCurrencies();
        vm.assertEq(listed.length, 4, "four currencies");
        for (uint256 i = 0; i < 4; ++i) {
            vm.assertEq(listed[i], currencies[i], "in order");
            vm.assertTrue(token.isRevenueCurrency(currencies[i]), "listed");
        }
        vm.assertTrue(token.isRevenueCurrency(address(0)), "native is implicit");
        vm.assertFalse(token.isRevenueCurrency(address(this)), "anything else is not");
        vm.assertTrue(token.supportsInterface(type(IImoRevenueCurrencies).interfaceId), "ERC-165");
    }

    function test_constructor_refusesBadLists() public {
        address[] memory list = new address[](2);
        list[0] = address(usdc);
        list[1] = address(usdc);
        vm.expectRevert(abi.encodeWithSelector(IImoRevenueCurrencies.DuplicateCurrency.selector, address(usdc)));
        _deployWith(list);

        list[1] = address(0);
        vm.expectRevert(abi.encodeWithSelector(IImoRevenueCurrencies.InvalidCurrency.selector, address(0)));
        _deployWith(list);

        list[1] = address(0xBEEF); // no code
        vm.expectRevert(abi.encodeWithSelector(IImoRevenueCurrencies.InvalidCurrency.selector, address(0xBEEF)));
        _deployWith(list);

        list[1] = address(new HostileToken(HostileToken.Mode.RevertBalanceOf));
        vm.expectRevert(abi.encodeWithSelector(IImoRevenueCurrencies.InvalidCurrency.selector, list[1]));
        _deployWith(list);

        address[] memory many = new address[](8);
        for (uint256 i = 0; i < 8; ++i) {
            many[i] = address(new TestToken("t", "t", 18));
        }
        vm.expectRevert(abi.encodeWithSelector(IImoRevenueCurrencies.TooManyCurrencies.selector, 8, 7));
        _deployWith(many);
        address[] memory seven = new address[](7);
        for (uint256 i = 0; i < 7; ++i) {
            seven[i] = many[i];
        }
        vm.assertEq(ImoToken(payable(_deployWith(seven))).revenueCurrencies().length, 7, "seven are allowed");
    }

    /*////////////////////////////// revenue, split, claim //////////////////////////////*/

    function test_plainTransferIsRevenue_splitAtSnapshot_claimedPerCurrency() public {
        pay(address(usdc), 1_000e6);
        pay(address(weth), 3 ether);
        deposit(2 ether);
        vm.assertEq(token.pendingRevenue(address(usdc)), 1_000e6, "usdc pending");
        uint256 id = snap();
        vm.assertEq(token.pendingRevenue(address(usdc)), 0, "split");
        (uint256 claimPool,, bool expired) = token.snapshotInfo(id, address(usdc));
        vm.assertEq(claimPool, 600e6, "60% to the claim pool");
        vm.assertFalse(expired, "live");
        vm.assertEq(token.redemptionPool(address(usdc)), 400e6, "40% to redemption");
        vm.assertEq(token.claimableRevenue(bob, id, address(usdc)), 180e6, "bob 30% of 600");

        claimIn(bob, id, address(usdc));
        vm.assertEq(usdc.balanceOf(bob), 180e6, "bob paid in usdc");
        vm.assertEq(bob.balance, 0, "not in ether");
        vm.assertTrue(token.hasClaimed(bob, id, address(usdc)), "usdc claimed");
        vm.assertFalse(token.hasClaimed(bob, id, address(weth)), "weth not claimed");
        vm.assertFalse(token.hasClaimed(bob, id), "native not claimed");
        vm.assertEq(token.claimableRevenue(bob, id, address(usdc)), 0, "nothing left in usdc");
        vm.assertEq(token.claimableRevenue(bob, id, address(weth)), 0.54 ether, "weth still claimable");

        // No double claim in a currency; other currencies unaffected.
        vm.expectRevert(abi.encodeWithSelector(ImoToken.AlreadyClaimed.selector, bob, id));
        claimIn(bob, id, address(usdc));
        claimIn(bob, id, address(weth));
        vm.assertEq(weth.balanceOf(bob), 0.54 ether, "bob paid in weth");
        claimIn(bob, id, address(0));
        vm.assertEq(bob.balance, 0.36 ether, "native through claim(id, address(0))");
        vm.expectRevert(abi.encodeWithSelector(ImoToken.AlreadyClaimed.selector, bob, id));
        vm.prank(bob);
        token.claim(id);
        vm.assertEq(token.outstandingClaims(address(usdc)), 420e6, "usdc outstanding");
    }

    function test_transferWithAuthorizationIsRevenue() public {
        uint256 key = 0xA11CE5;
        address signer = vm.addr(key);
        usdc.mint(signer, 50e6);
        bytes32 nonce = keccak256("x402");
        bytes32 structHash = keccak256(
            abi.encode(
                keccak256(
                    "TransferWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)"
                ),
                signer,
                address(token),
                50e6,
                0,
                block.timestamp + 1 hours,
                nonce
            )
        );
        (uint8 v, bytes32 r, bytes32 s) =
            vm.sign(key, keccak256(abi.encodePacked("\x19\x01", usdc.DOMAIN_SEPARATOR(), structHash)));
        usdc.transferWithAuthorization(signer, address(token), 50e6, 0, block.timestamp + 1 hours, nonce, v, r, s);
        vm.assertEq(token.pendingRevenue(address(usdc)), 50e6, "an EIP-3009 payment is revenue");
        uint256 id = snap();
        vm.assertEq(token.claimableRevenue(alice, id, address(usdc)), 15e6, "alice 50% of 30");
    }

    function test_unlistedTokenIsNeverRevenue_recoveredToTheOwner() public {
        TestToken stray = new TestToken("Stray", "STR", 18);
        stray.mint(address(token), 7 ether);
        vm.expectRevert(abi.encodeWithSelector(IImoRevenueCurrencies.UnknownCurrency.selector, address(stray)));
        token.pendingRevenue(address(stray));
        uint256 id = snap();
        vm.expectRevert(abi.encodeWithSelector(IImoRevenueCurrencies.UnknownCurrency.selector, address(stray)));
        claimIn(alice, id, address(stray));

        vm.prank(bob); // anyone
        token.recoverUnlistedToken(address(stray));
        vm.assertEq(stray.balanceOf(owner), 7 ether, "sent to the owner");
        vm.expectRevert(abi.encodeWithSelector(IImoRevenueCurrencies.ListedCurrency.selector, address(usdc)));
        token.recoverUnlistedToken(address(usdc));
        vm.expectRevert(abi.encodeWithSelector(IImoRevenueCurrencies.ListedCurrency.selector, address(0)));
        token.recoverUnlistedToken(address(0));
        vm.expectRevert(abi.encodeWithSelector(IImoRevenueCurrencies.ListedCurrency.selector, address(token)));
        token.recoverUnlistedToken(address(token));
    }

    function test_claimBatch_snapshotsTimesCurrencies_onePaymentEach() public {
        pay(address(usdc), 100e6);
        deposit(1 ether);
        uint256 first = snap();
        pay(address(usdc), 200e6);
        pay(address(weth), 1 ether);
        uint256 second = snap();
        uint256[] memory ids = new uint256[](2);
        ids[0] = first;
        ids[1] = second;
        address[] memory list = new address[](3);
        list[0] = address(usdc);
        list[1] = address(weth);
        list[2] = address(0);

        vm.recordLogs();
        vm.prank(carol);
        token.claimBatch(ids, list);
        vm.assertEq(usdc.balanceOf(carol), (60e6 * 2) / 10 + (120e6 * 2) / 10, "both usdc shares");
        vm.assertEq(weth.balanceOf(carol), 0.12 ether, "weth share (first snapshot had none: skipped)");
        vm.assertEq(carol.balance, 0.12 ether, "native share");
        uint256 usdcTransfers;
        bytes32 transferTopic = keccak256("Transfer(address,address,uint256)");
        VmLog[] memory logs = vm.getRecordedLogs();
        for (uint256 i = 0; i < logs.length; ++i) {
            if (logs[i].emitter == address(usdc) && logs[i].topics[0] == transferTopic) ++usdcTransfers;
        }
        vm.assertEq(usdcTransfers, 1, "one usdc payment for two snapshots");

        vm.expectRevert(abi.encodeWithSelector(IImoRevenueCurrencies.NothingClaimed.selector, carol));
        vm.prank(carol);
        token.claimBatch(ids, list);
    }

    function test_claimBatch_refusesBadInput() public {
        uint256 id = snap();
        uint256[] memory ids = new uint256[](1);
        ids[0] = id + 1;
        address[] memory list = new address[](1);
        list[0] = address(usdc);
        vm.expectRevert(abi.encodeWithSelector(ImoToken.UnknownSnapshot.selector, id + 1));
        vm.prank(alice);
        token.claimBatch(ids, list);
        ids[0] = id;
        list[0] = address(this);
        vm.expectRevert(abi.encodeWithSelector(IImoRevenueCurrencies.UnknownCurrency.selector, address(this)));
        vm.prank(alice);
        token.claimBatch(ids, list);
        vm.expectRevert(ImoToken.EmptyBatch.selector);
        vm.prank(alice);
        token.claimBatch(ids, new address[](0));
    }

    /*////////////////////////////// rollover //////////////////////////////*/

    function test_rollover_perCurrency() public {
        pay(address(usdc), 100e6);
        uint256 first = snap();
        claimIn(alice, first, address(usdc)); // 30e6 of 60e6
        for (uint256 i = 1; i < WINDOW; ++i) {
            snap();
        }
        uint256 expiring = snap(); // expires `first`
        (uint256 claimPool,,) = token.snapshotInfo(expiring, address(usdc));
        vm.assertEq(claimPool, 30e6, "bob's and carol's unclaimed 30e6 rolled over");
        vm.expectRevert(abi.encodeWithSelector(ImoToken.SnapshotExpired.selector, first, first + WINDOW));
        claimIn(bob, first, address(usdc));
        claimIn(bob, expiring, address(usdc));
        vm.assertEq(usdc.balanceOf(bob), 9e6, "bob's share of the rolled pool");
    }

    function test_claimOpensAfterTheSnapshotSecond_perCurrency() public {
        pay(address(usdc), 100e6);
        vm.warp(token.nextSnapshotTimestamp());
        uint256 id = token.snapshot();
        vm.assertEq(token.claimableRevenue(alice, id, address(usdc)), 0, "not yet");
        vm.expectRevert(abi.encodeWithSelector(ImoToken.ClaimNotOpen.selector, id, block.timestamp + 1));
        claimIn(alice, id, address(usdc));
        vm.warp(block.timestamp + 1);
        vm.assertEq(token.claimableRevenue(alice, id, address(usdc)), 30e6, "open");
    }

    function test_expiredSnapshotInfo_readsRecycled() public {
        pay(address(usdc), 100e6);
        uint256 first = snap();
        for (uint256 i = 0; i < WINDOW; ++i) {
            pay(address(usdc), 10e6);
            snap();
        }
        (uint256 claimPool, uint256 claimed, bool expired) = token.snapshotInfo(first, address(usdc));
        vm.assertTrue(expired, "expired");
        vm.assertEq(claimPool + claimed, 0, "its slot is recycled, reported as 0");
        vm.assertEq(token.claimableRevenue(alice, first, address(usdc)), 0, "nothing claimable");
    }

    /*////////////////////////////// burn //////////////////////////////*/

    function test_burn_paysEveryCurrency() public {
        pay(address(usdc), 1_000e6);
        pay(address(weth), 10 ether);
        deposit(10 ether);
        snap();
        pay(address(usdc), 500e6); // pending: burn takes 20% of its redemption part too
        uint256 amount = SUPPLY / 10;
        (address[] memory listed, uint256[] memory expected) = token.redeemableOnBurnAll(amount);
        vm.assertEq(listed[0], address(0), "native first");
        vm.assertEq(listed[1], address(usdc), "then the list");
        vm.assertEq(expected[1], 400e6 / 10 + 200e6 / 10, "usdc: pool and pending redemption part");
        vm.assertEq(token.redeemableOnBurn(amount, address(weth)), 0.4 ether, "weth");
        vm.prank(alice);
        token.burn(amount);
        vm.assertEq(alice.balance, expected[0], "native");
        vm.assertEq(usdc.balanceOf(alice), expected[1], "usdc");
        vm.assertEq(weth.balanceOf(alice), expected[2], "weth");
        // The next snapshot splits only what is left of the pending usdc.
        (uint256 toClaim, uint256 toRedemption) = token.pendingSplit(address(usdc));
        vm.assertEq(toClaim, 300e6, "claim part of the gross revenue");
        vm.assertEq(toRedemption, 200e6 - 20e6, "redemption part less what the burn took");
    }

    function test_burnOfTheWholeSupply_paysEverythingInEveryCurrency() public {
        pay(address(usdc), 1_000e6);
        uint256 id = snap();
        send(bob, alice, token.balanceOf(bob));
        send(carol, alice, token.balanceOf(carol));
        claimIn(alice, id, address(usdc)); // 50% of 600
        pay(address(usdc), 10e6);
        uint256 supply = token.totalSupply();
        vm.prank(alice);
        token.burn(supply);
        // Alice holds 100% after the transfers but only 50% at the snapshot; bob's and carol's shares stay.
        vm.assertEq(usdc.balanceOf(alice), 300e6 + 400e6 + 10e6, "claim + redemption pool + pending");
        vm.assertEq(usdc.balanceOf(address(token)), 300e6, "bob's and carol's claims remain");
        vm.assertEq(owedIn(address(usdc)), 300e6, "and are owed");
    }

    /// Burning the whole supply in the snapshot's second also pays that snapshot's pool in every currency.
    function test_wholeSupplyBurnInTheSnapshotSecond_paysTheStrandedPoolPerCurrency() public {
        send(bob, alice, token.balanceOf(bob));
        send(carol, alice, token.balanceOf(carol));
        pay(address(usdc), 100e6);
        vm.warp(token.nextSnapshotTimestamp());
        uint256 id = token.snapshot();
        vm.prank(alice);
        token.burn(SUPPLY);
        vm.assertEq(usdc.balanceOf(alice), 100e6, "claim pool + redemption pool");
        vm.assertTrue(token.hasClaimed(alice, id, address(usdc)), "booked as alice's claim");
        vm.assertEq(usdc.balanceOf(address(token)), 0, "nothing left");
        vm.assertEq(owedIn(address(usdc)), 0, "nothing owed");
    }

    /*////////////////////////////// failing payouts //////////////////////////////*/

    function test_blacklistedHolder_creditedNotBlocked() public {
        pay(address(usdc), 1_000e6);
        pay(address(weth), 1 ether);
        deposit(1 ether);
        uint256 id = snap();
        usdc.blacklist(bob);

        claimIn(bob, id, address(usdc)); // credited, does not revert
        vm.assertEq(token.creditOf(bob, address(usdc)), 180e6, "credited");
        vm.assertEq(token.totalCredits(address(usdc)), 180e6, "total");
        vm.assertEq(usdc.balanceOf(address(token)), 1_000e6, "still held");
        claimIn(bob, id, address(weth));
        vm.assertEq(weth.balanceOf(bob), 0.18 ether, "weth unaffected");

        uint256 amount = SUPPLY / 10;
        uint256 usdcOnBurn = token.redeemableOnBurn(amount, address(usdc));
        vm.prank(bob);
        token.burn(amount); // not blocked
        vm.assertEq(bob.balance, 0.04 ether, "native redeemed");
        vm.assertEq(token.creditOf(bob, address(usdc)), 180e6 + usdcOnBurn, "usdc redemption credited");

        // Paid into no pool: the next snapshot sees no revenue in usdc.
        vm.assertEq(token.pendingRevenue(address(usdc)), 0, "credits are owed, not revenue");
        vm.expectRevert();
        vm.prank(bob);
        token.withdrawCredit(address(usdc)); // still blacklisted: reverts, credit kept
        vm.assertEq(token.creditOf(bob, address(usdc)), 180e6 + usdcOnBurn, "kept");

        usdc.unBlacklist(bob);
        vm.prank(bob);
        token.withdrawCredit(address(usdc));
        vm.assertEq(usdc.balanceOf(bob), 180e6 + usdcOnBurn, "withdrawn");
        vm.assertEq(token.totalCredits(address(usdc)), 0, "none left");
        vm.expectRevert(abi.encodeWithSelector(IImoRevenueCurrencies.NothingToWithdraw.selector, bob, address(usdc)));
        vm.prank(bob);
        token.withdrawCredit(address(usdc));
    }

    function test_gasBurningCurrency_doesNotBlockBurn() public {
        pay(address(weth), 1 ether);
        pay(address(hook), 1 ether);
        deposit(1 ether);
        snap();
        hook.setMode(HostileToken.Mode.BurnGas);
        uint256 amount = SUPPLY / 10;
        uint256 hookOwed = token.redeemableOnBurn(amount, address(hook));
        vm.prank(alice);
        token.burn{gas: 2_000_000}(amount);
        vm.assertEq(weth.balanceOf(alice), 0.04 ether, "weth paid");
        vm.assertEq(token.creditOf(alice, address(hook)), hookOwed, "gas burner credited");
    }

    function test_brokenBalanceOf_doesNotBlockSnapshotOrBurn() public {
        pay(address(hook), 1 ether);
        pay(address(weth), 1 ether);
        hook.setMode(HostileToken.Mode.RevertBalanceOf);
        uint256 id = snap();
        (uint256 claimPool,,) = token.snapshotInfo(id, address(weth));
        vm.assertEq(claimPool, 0.6 ether, "weth split");
        (claimPool,,) = token.snapshotInfo(id, address(hook));
        vm.assertEq(claimPool, 0, "the broken currency has no revenue this time");
        vm.prank(alice);
        token.burn(1 ether);
        hook.setMode(HostileToken.Mode.Callback);
        uint256 next = snap();
        (claimPool,,) = token.snapshotInfo(next, address(hook));
        vm.assertEq(claimPool, 0.6 ether, "split once it works again");
    }

    /*////////////////////////////// fee on transfer //////////////////////////////*/

    /// Fee-on-transfer: revenue is what arrives; a holder receives the claim less the token's fee (documented).
    function test_feeOnTransfer_holdersGetTheirShareLessTheFee() public {
        pay(address(fot), 100 ether); // 1 ether fee: 99 arrive
        vm.assertEq(token.pendingRevenue(address(fot)), 99 ether, "what arrived");
        uint256 id = snap();
        claimIn(bob, id, address(fot));
        uint256 share = (59.4 ether * 3) / 10;
        vm.assertEq(fot.balanceOf(bob), share - share / 100, "share less the fee");
        vm.assertGe(fot.balanceOf(address(token)), owedIn(address(fot)), "still covers what it owes");
    }

    /*////////////////////////////// reentrancy //////////////////////////////*/

    function test_callbackCurrency_cannotReenter() public {
        ReenteringHolder holder = new ReenteringHolder(token);
        send(alice, address(holder), SUPPLY / 10);
        pay(address(hook), 10 ether);
        uint256 id = snap();
        bytes[4] memory attempts = [
            abi.encodeWithSignature("claim(uint256,address)", id, address(hook)),
            abi.encodeWithSignature("burn(uint256)", 1 ether),
            abi.encodeWithSignature("snapshot()"),
            abi.encodeWithSignature("claim(uint256,address)", id, address(0))
        ];
        for (uint256 i = 0; i < attempts.length; ++i) {
            holder.setReentry(attempts[i]);
            uint256 state = vm.snapshotState();
            holder.act(abi.encodeWithSignature("claim(uint256,address)", id, address(hook)));
            vm.assertFalse(holder.reentered(), "re-entry refused");
            vm.assertEq(
                bytes4(holder.reentryError()),
                ReentrancyGuardTransient.ReentrancyGuardReentrantCall.selector,
                "by the guard"
            );
            vm.assertEq(hook.balanceOf(address(holder)), 0.6 ether, "paid once");
            vm.revertToState(state);
        }
        // burn pays through the hook too
        holder.setReentry(abi.encodeWithSignature("claim(uint256,address)", id, address(hook)));
        holder.act(abi.encodeWithSignature("burn(uint256)", SUPPLY / 20));
        vm.assertFalse(holder.reentered(), "re-entry from burn refused");
    }

    /*////////////////////////////// flash loans //////////////////////////////*/

    function test_flashLoanInTheSnapshotSecond_getsNothingInAnyCurrency() public {
        pay(address(usdc), 100e6);
        pay(address(weth), 1 ether);
        address borrower = address(0xF1A5);
        vm.warp(token.nextSnapshotTimestamp());
        send(alice, borrower, SUPPLY / 4); // borrowed in the snapshot's second...
        vm.prank(borrower);
        uint256 id = token.snapshot();
        send(borrower, alice, SUPPLY / 4); // ...and repaid in it
        vm.warp(block.timestamp + 1);
        for (uint256 i = 0; i < currencies.length; ++i) {
            vm.assertEq(token.claimableRevenue(borrower, id, currencies[i]), 0, "nothing");
        }
        vm.expectRevert(abi.encodeWithSelector(ImoToken.NothingToClaim.selector, borrower, id));
        claimIn(borrower, id, address(usdc));
        vm.assertEq(token.claimableRevenue(alice, id, address(usdc)), 30e6, "alice keeps her 50%");
    }

    /*////////////////////////////// decimals and rounding //////////////////////////////*/

    /// 6 and 18 decimals: every share rounds down, so all holders together never take more than the pool.
    function testFuzz_roundingFavoursTheContract(uint256 usdcAmount, uint256 wethAmount, uint256 split) public {
        usdcAmount = bound(usdcAmount, 1, 1e15);
        wethAmount = bound(wethAmount, 1, 1e27);
        split = bound(split, 1, SUPPLY / 2 - 1);
        send(alice, bob, split); // odd balances
        pay(address(usdc), usdcAmount);
        pay(address(weth), wethAmount);
        uint256 id = snap();
        address[3] memory holders = [alice, bob, carol];
        address[2] memory pair = [address(usdc), address(weth)];
        for (uint256 c = 0; c < 2; ++c) {
            uint256 paid;
            for (uint256 h = 0; h < 3; ++h) {
                uint256 share = token.claimableRevenue(holders[h], id, pair[c]);
                if (share == 0) continue;
                claimIn(holders[h], id, pair[c]);
                paid += share;
            }
            (uint256 claimPool,,) = token.snapshotInfo(id, pair[c]);
            vm.assertLe(paid, claimPool, "never more than the pool");
            vm.assertGe(balanceIn(pair[c], address(token)), owedIn(pair[c]), "covered");
        }
    }
}
