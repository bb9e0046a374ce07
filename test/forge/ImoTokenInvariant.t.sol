// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ImoToken} from "../../contracts/ImoToken.sol";
import {TestBase, FuzzSelector} from "./utils/Vm.sol";

/// @dev Drives random deposits, transfers, snapshots, claims, batch claims, burns and time jumps (which make
/// snapshots expire and roll over), and keeps ghost records to check against.
contract ImoTokenHandler is TestBase {
    ImoToken public immutable token;
    address[] public actors;
    uint256 public constant WINDOW = 2;

    uint256 public revenueIn;
    uint256 public claimedOut;
    uint256 public redeemedOut;
    bool public doubleClaim;
    bool public wrongShare;
    bool public wrongRedemption;

    // Balances and supply recorded at the moment each snapshot was taken.
    mapping(uint256 id => mapping(address => uint256)) public balanceAtSnap;
    mapping(uint256 id => uint256) public supplyAtSnap;
    mapping(uint256 id => mapping(address => bool)) public ghostClaimed;

    constructor() {
        actors.push(address(0x1001));
        actors.push(address(0x1002));
        actors.push(address(0x1003));
        actors.push(address(0x1004));
        token = new ImoToken("I", "I", 1_000_000 ether, actors[0], keccak256("m"), "", 37, 1 hours, uint32(WINDOW), address(this));
        // Spread the supply unevenly before the first snapshot.
        vm.startPrank(actors[0]);
        token.transfer(actors[1], 300_000 ether + 1);
        token.transfer(actors[2], 77_777 ether);
        token.transfer(actors[3], 3);
        vm.stopPrank();
    }

    function actorCount() external view returns (uint256) {
        return actors.length;
    }

    function _actor(uint256 seed) private view returns (address) {
        return actors[seed % actors.length];
    }

    function deposit(uint256 amount) external {
        amount = bound(amount, 0, 1_000 ether);
        if (token.totalSupply() == 0) return;
        vm.deal(address(this), amount);
        (bool ok,) = address(token).call{value: amount}("");
        require(ok, "deposit");
        revenueIn += amount;
    }

    function transfer(uint256 fromSeed, uint256 toSeed, uint256 amount) external {
        address from = _actor(fromSeed);
        amount = bound(amount, 0, token.balanceOf(from));
        vm.prank(from);
        token.transfer(_actor(toSeed), amount);
    }

    function snapshot(uint256 warpBy) external {
        vm.warp(block.timestamp + bound(warpBy, 0, 3 hours));
        if (block.timestamp < token.nextSnapshotTimestamp() || token.totalSupply() == 0) return;
        uint256 id = token.snapshot();
        for (uint256 i = 0; i < actors.length; ++i) {
            balanceAtSnap[id][actors[i]] = token.balanceOf(actors[i]);
        }
        supplyAtSnap[id] = token.totalSupply();
    }

    function claim(uint256 actorSeed, uint256 idSeed) external {
        address holder = _actor(actorSeed);
        uint256 current = token.currentSnapshotId();
        if (current == 0) return;
        uint256 id = bound(idSeed, 1, current);
        uint256 expected = token.claimableRevenue(holder, id);
        uint256 before = holder.balance;
        vm.prank(holder);
        token.claim(id); // reverts (and is discarded) when not claimable
        uint256 paid = holder.balance - before;
        _book(holder, id, paid, expected);
    }

    function claimBatch(uint256 actorSeed, uint256 fromSeed, uint256 count) external {
        address holder = _actor(actorSeed);
        uint256 current = token.currentSnapshotId();
        if (current == 0) return;
        uint256 first = bound(fromSeed, 1, current);
        count = bound(count, 1, current - first + 1);
        uint256[] memory ids = new uint256[](count);
        uint256[] memory expected = new uint256[](count);
        uint256 total;
        for (uint256 i = 0; i < count; ++i) {
            ids[i] = first + i;
            expected[i] = token.claimableRevenue(holder, ids[i]);
            total += expected[i];
        }
        uint256 before = holder.balance;
        vm.prank(holder);
        token.claimBatch(ids);
        uint256 paid = holder.balance - before;
        if (paid != total) wrongShare = true;
        for (uint256 i = 0; i < count; ++i) {
            _book(holder, ids[i], expected[i], expected[i]);
        }
    }

    function _book(address holder, uint256 id, uint256 paid, uint256 expected) private {
        if (ghostClaimed[id][holder]) doubleClaim = true;
        ghostClaimed[id][holder] = true;
        (uint256 claimPool,,,,) = token.snapshotInfo(id);
        uint256 share = (claimPool * balanceAtSnap[id][holder]) / supplyAtSnap[id];
        if (paid != share || paid != expected || paid == 0) wrongShare = true;
        claimedOut += paid;
    }

    function burn(uint256 actorSeed, uint256 amount) external {
        address holder = _actor(actorSeed);
        uint256 balance = token.balanceOf(holder);
        if (balance == 0) return;
        // Sometimes the whole balance (and, for the last holder, the whole supply).
        amount = amount % 4 == 0 ? balance : bound(amount, 1, balance);
        uint256 quote = token.redeemableOnBurn(amount);
        uint256 before = holder.balance;
        vm.prank(holder);
        token.burn(amount);
        uint256 paid = holder.balance - before;
        if (paid != quote) wrongRedemption = true;
        redeemedOut += paid;
    }

    function warp(uint256 by) external {
        vm.warp(block.timestamp + bound(by, 0, 12 hours));
    }

    receive() external payable {}
}

/// @notice Invariants of ImoToken over random sequences of handler actions.
contract ImoTokenInvariantTest is TestBase {
    ImoTokenHandler internal handler;
    ImoToken internal token;

    function setUp() public {
        vm.warp(1_700_000_000);
        handler = new ImoTokenHandler();
        token = handler.token();
    }

    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    function targetSelectors() public view returns (FuzzSelector[] memory selectors) {
        bytes4[] memory s = new bytes4[](7);
        s[0] = ImoTokenHandler.deposit.selector;
        s[1] = ImoTokenHandler.transfer.selector;
        s[2] = ImoTokenHandler.snapshot.selector;
        s[3] = ImoTokenHandler.claim.selector;
        s[4] = ImoTokenHandler.claimBatch.selector;
        s[5] = ImoTokenHandler.burn.selector;
        s[6] = ImoTokenHandler.warp.selector;
        selectors = new FuzzSelector[](1);
        selectors[0] = FuzzSelector({addr: address(handler), selectors: s});
    }

    /// @dev pending + redemption + unclaimed remainder of every live snapshot.
    function _liabilities() internal view returns (uint256 total) {
        total = token.pendingRevenue() + token.redemptionPool();
        uint256 current = token.currentSnapshotId();
        uint256 window = token.claimWindow();
        uint256 first = current > window ? current - window + 1 : 1;
        for (uint256 id = first; id <= current; ++id) {
            (uint256 p, uint256 c,,,) = token.snapshotInfo(id);
            vm.assertLe(c, p, "claimed exceeds pool");
            total += p - c;
        }
    }

    /// The header invariant: the balance covers what is still claimable plus the redemption pool (and pending).
    function invariant_balanceCoversLiabilities() public view {
        vm.assertGe(address(token).balance, _liabilities(), "balance < liabilities");
    }

    /// Revenue in = claimed + redeemed + still claimable + redemption pool + pending (+ dust kept inside).
    function invariant_revenueConservation() public view {
        uint256 paid = handler.claimedOut() + handler.redeemedOut();
        vm.assertLe(paid, handler.revenueIn(), "paid out more than received");
        vm.assertEq(handler.revenueIn(), paid + address(token).balance, "ether leaked");
        // Rounding remainders roll over or stay in the pools, so no dust is unaccounted here.
        vm.assertEq(address(token).balance, _liabilities(), "unaccounted dust");
    }

    function invariant_noDoubleClaimAndExactShares() public view {
        vm.assertFalse(handler.doubleClaim(), "claimed the same snapshot twice");
        vm.assertFalse(handler.wrongShare(), "a claim paid other than its share");
        vm.assertFalse(handler.wrongRedemption(), "a burn paid other than its quote");
    }

    /// Balances and supply at a snapshot never change after later transfers and burns.
    function invariant_snapshotBalancesAreFrozen() public view {
        uint256 current = token.currentSnapshotId();
        uint256 n = handler.actorCount();
        uint256 sum;
        for (uint256 id = 1; id <= current; ++id) {
            vm.assertEq(token.totalSupplyAt(id), handler.supplyAtSnap(id), "supply at snapshot changed");
            for (uint256 i = 0; i < n; ++i) {
                address a = handler.actors(i);
                vm.assertEq(token.balanceOfAt(a, id), handler.balanceAtSnap(id, a), "balance at snapshot changed");
            }
        }
        for (uint256 i = 0; i < n; ++i) {
            sum += token.balanceOf(handler.actors(i));
        }
        vm.assertEq(sum, token.totalSupply(), "sum of balances != total supply");
    }
}
