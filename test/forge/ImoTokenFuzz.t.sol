// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {deployImoToken} from "./utils/Vm.sol";
import {ImoToken} from "../../contracts/ImoToken.sol";
import {TokenFixture} from "./utils/TokenFixture.sol";

/// @notice Fuzz tests of the revenue arithmetic.
contract ImoTokenFuzzTest is TokenFixture {
    /// The split of each snapshot is exact: claim pool + redemption = pending, claim pool = floor(pct%).
    function testFuzz_split(uint256 revenue, uint8 percent) public {
        percent = uint8(bound(percent, 0, 100));
        revenue = bound(revenue, 0, token.MAX_BALANCE());
        token = deploy(SUPPLY, percent, INTERVAL, WINDOW);
        deposit(revenue);
        uint256 id = snap();
        vm.assertEq(pool(id), (revenue * percent) / 100, "claim pool");
        vm.assertEq(pool(id) + token.redemptionPool(), revenue, "split loses nothing");
        vm.assertEq(token.pendingRevenue(), 0, "pending cleared");
    }

    /// Shares round down, sum to at most the pool, every holder with a share can claim in any order,
    /// and the rounding remainder rolls into the next pool on expiry.
    function testFuzz_sharesAndDust(uint256 revenue, uint256 b1, uint256 b2, uint256 b3, bool reverse) public {
        revenue = bound(revenue, 1, 1e30);
        uint256 supply = 1_000_003;
        token = ImoToken(
            payable(deployImoToken("I", "I", supply, alice, MODEL_HASH, "", 100, INTERVAL, 1, owner, new address[](0)))
        );
        b1 = bound(b1, 0, supply);
        b2 = bound(b2, 0, supply - b1);
        b3 = bound(b3, 0, supply - b1 - b2);
        send(alice, bob, b1);
        send(alice, carol, b2);
        send(alice, owner, b3);
        deposit(revenue);
        snap();
        address[4] memory holders = [alice, bob, carol, owner];
        uint256 paid;
        for (uint256 k = 0; k < 4; ++k) {
            address h = holders[reverse ? 3 - k : k];
            uint256 expected = (revenue * token.balanceOf(h)) / supply;
            vm.assertEq(token.claimableRevenue(h, 1), expected, "quote");
            if (expected == 0) continue;
            vm.assertEq(claimAs(h, 1), expected, "paid");
            paid += expected;
        }
        vm.assertLe(paid, revenue, "over-paid");
        vm.assertLe(revenue - paid, 3, "dust below one wei per holder");
        snap(); // window 1: snapshot 1 expires, its dust rolls over
        vm.assertEq(pool(2), revenue - paid, "dust rolled over");
        vm.assertEq(address(token).balance, liabilities(), "all accounted");
    }

    /// Redemptions are pro rata to the live supply, never exceed the pool, and the last burn empties it.
    function testFuzz_redemption(uint256 revenue, uint256 first, uint256 second) public {
        revenue = bound(revenue, 0, 1e30);
        token = deploy(SUPPLY, 0, INTERVAL, WINDOW);
        first = bound(first, 1, SUPPLY - 1);
        second = bound(second, 1, SUPPLY - first);
        send(alice, bob, second);
        deposit(revenue);
        snap();
        uint256 r = token.redemptionPool();
        vm.assertEq(r, revenue, "all to redemption at 0%");
        uint256 before = alice.balance;
        vm.prank(alice);
        token.burn(first);
        uint256 p1 = alice.balance - before;
        vm.assertEq(p1, (r * first) / SUPPLY, "first pro rata");
        uint256 r2 = token.redemptionPool();
        uint256 s2 = token.totalSupply();
        before = bob.balance;
        vm.prank(bob);
        token.burn(second);
        uint256 p2 = bob.balance - before;
        vm.assertEq(p2, second == s2 ? r2 : (r2 * second) / s2, "second pro rata of the live supply");
        vm.assertLe(p1 + p2, revenue, "never more than the pool");
        if (token.totalSupply() != 0) {
            uint256 rest = token.totalSupply();
            vm.prank(alice);
            token.burn(rest);
        }
        vm.assertEq(address(token).balance, 0, "last burn empties the pools");
    }

    /// Claims after many snapshots with transfers in between pay exactly pool * balanceAt / supplyAt.
    function testFuzz_claimAfterTransfers(uint256 seed, uint8 rounds) public {
        rounds = uint8(bound(rounds, 1, 6));
        token = deploy(SUPPLY, 50, INTERVAL, 10);
        uint256[8] memory bobAt;
        for (uint256 i = 0; i < rounds; ++i) {
            deposit(uint256(keccak256(abi.encode(seed, i))) % 100 ether);
            snap();
            bobAt[i] = token.balanceOf(bob);
            uint256 amount = uint256(keccak256(abi.encode(seed, i, "t"))) % (token.balanceOf(alice) + 1);
            send(alice, bob, amount);
            if (i % 2 == 1) send(bob, carol, token.balanceOf(bob) / 3);
        }
        for (uint256 i = 0; i < rounds; ++i) {
            uint256 expected = (pool(i + 1) * bobAt[i]) / SUPPLY;
            vm.assertEq(token.claimableRevenue(bob, i + 1), expected, "claimable");
            if (expected != 0) vm.assertEq(claimAs(bob, i + 1), expected, "claim");
        }
    }
}
