// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {deployImoToken} from "./utils/Vm.sol";
import {ImoToken} from "../../contracts/ImoToken.sol";
import {TestBase, FuzzSelector} from "./utils/Vm.sol";
import {FlashLender, FlashBorrower, StipendPayer, ForcedSender} from "./utils/Attackers.sol";

/// @dev Drives random deposits (by call, by 2,300-gas `transfer`, and forced by SELFDESTRUCT), transfers,
/// snapshots (also taken by a flash borrower holding borrowed tokens), claims, batch claims, burns (also
/// between a deposit and the next snapshot), pre-paid checkpoint slots and time jumps (which make snapshots
/// expire and roll over), and keeps ghost records to check against.
contract ImoTokenHandler is TestBase {
    ImoToken public immutable token;
    FlashLender public immutable lender;
    FlashBorrower public immutable borrower;
    StipendPayer public immutable stipendPayer;
    address[] public actors;
    uint256 public constant WINDOW = 2;
    uint256 public constant PERCENT = 37;

    uint256 public revenueIn;
    uint256 public claimedOut;
    uint256 public redeemedOut;
    bool public doubleClaim;
    bool public wrongShare;
    bool public wrongRedemption;

    // Balances and supply at the end of the second each snapshot was taken in, recorded by _settle().
    mapping(uint256 id => mapping(address => uint256)) public balanceAtSnap;
    mapping(uint256 id => uint256) public supplyAtSnap;
    mapping(uint256 id => mapping(address => bool)) public ghostClaimed;
    /// Snapshots up to this id have final (recorded) balances.
    uint256 public settledId;
    /// Wei paid to burners out of the revenue received since the latest snapshot (the reference's `_burned`).
    uint256 public burnedSinceSnapshot;

    constructor() {
        actors.push(address(0x1001));
        actors.push(address(0x1002));
        actors.push(address(0x1003));
        actors.push(address(0x1004));
        token = ImoToken(
            payable(deployImoToken(
                    "I",
                    "I",
                    1_000_000 ether,
                    actors[0],
                    keccak256("m"),
                    "",
                    uint8(PERCENT),
                    1 hours,
                    uint32(WINDOW),
                    address(this),
                    new address[](0)
                ))
        );
        lender = new FlashLender(token);
        borrower = new FlashBorrower(token, lender);
        stipendPayer = new StipendPayer();
        actors.push(address(lender)); // a holder like the others (its tokens move and are claimable)
        // Spread the supply unevenly before the first snapshot.
        vm.startPrank(actors[0]);
        token.transfer(actors[1], 300_000 ether + 1);
        token.transfer(actors[2], 77_777 ether);
        token.transfer(actors[3], 3);
        token.transfer(address(lender), 400_000 ether);
        vm.stopPrank();
    }

    /// @dev Records the balances of the latest snapshot once its second has ended (no action in a later
    /// second has run yet, so they are those at the end of its second).
    modifier settles() {
        _settle();
        _;
        _settle();
    }

    function _settle() private {
        uint256 current = token.currentSnapshotId();
        if (current == settledId || block.timestamp == token.lastSnapshotTimestamp()) return;
        for (uint256 i = 0; i < actors.length; ++i) {
            balanceAtSnap[current][actors[i]] = token.balanceOf(actors[i]);
        }
        balanceAtSnap[current][address(borrower)] = token.balanceOf(address(borrower));
        supplyAtSnap[current] = token.totalSupply();
        settledId = current;
    }

    function actorCount() external view returns (uint256) {
        return actors.length;
    }

    function _actor(uint256 seed) private view returns (address) {
        return actors[seed % actors.length];
    }

    function deposit(uint256 amount) external settles {
        amount = bound(amount, 0, 1_000 ether);
        vm.deal(address(this), amount);
        (bool ok,) = address(token).call{value: amount}("");
        require(ok, "deposit");
        revenueIn += amount;
    }

    /// A marketplace paying a royalty with Solidity's `transfer` (2,300 gas).
    function depositByTransfer(uint256 amount) external settles {
        amount = bound(amount, 0, 1_000 ether);
        vm.deal(address(stipendPayer), amount);
        stipendPayer.payByTransfer(payable(address(token)), amount);
        revenueIn += amount;
    }

    /// Ether forced in without a call; it counts as revenue.
    function forceDeposit(uint256 amount) external settles {
        amount = bound(amount, 0, 100 ether);
        vm.deal(address(this), amount);
        new ForcedSender{value: amount}(payable(address(token)));
        revenueIn += amount;
    }

    function transfer(uint256 fromSeed, uint256 toSeed, uint256 amount) external settles {
        address from = _actor(fromSeed);
        amount = bound(amount, 0, token.balanceOf(from));
        vm.prank(from);
        token.transfer(_actor(toSeed), amount);
    }

    function snapshot(uint256 warpBy) external settles {
        vm.warp(block.timestamp + bound(warpBy, 0, 3 hours));
        _settle();
        if (block.timestamp < token.nextSnapshotTimestamp() || token.totalSupply() == 0) return;
        token.snapshot();
        burnedSinceSnapshot = 0;
    }

    /// Borrows the lender's tokens, snapshots while holding them and repays, all in one call.
    function flashSnapshot(uint256 amount) external settles {
        uint256 next = token.nextSnapshotTimestamp();
        if (block.timestamp < next) vm.warp(next);
        _settle();
        if (token.totalSupply() == 0) return;
        amount = bound(amount, 0, token.balanceOf(address(lender)));
        borrower.attack(amount);
        burnedSinceSnapshot = 0;
    }

    function claim(uint256 actorSeed, uint256 idSeed) external settles {
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

    /// The flash borrower tries to claim the snapshots it took; it never holds tokens at a second's end.
    function borrowerClaim(uint256 idSeed) external settles {
        uint256 current = token.currentSnapshotId();
        if (current == 0) return;
        uint256 id = bound(idSeed, 1, current);
        uint256 before = address(borrower).balance;
        borrower.claimId(id);
        if (address(borrower).balance != before) wrongShare = true;
    }

    function claimBatch(uint256 actorSeed, uint256 fromSeed, uint256 count) external settles {
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
        // Claims open only once the snapshot's second has ended, i.e. on settled snapshots.
        if (id > settledId) wrongShare = true;
        uint256 share = (claimPool * balanceAtSnap[id][holder]) / supplyAtSnap[id];
        if (paid != share || paid != expected || paid == 0) wrongShare = true;
        claimedOut += paid;
    }

    /// Burns at any time, also between a deposit and the next snapshot; checks the payout against the
    /// EIP-7641 reference formula computed here from the public pools.
    function burn(uint256 actorSeed, uint256 amount) external settles {
        address holder = _actor(actorSeed);
        uint256 balance = token.balanceOf(holder);
        if (balance == 0) return;
        // Sometimes the whole balance (and, for the last holder, the whole supply).
        amount = amount % 4 == 0 ? balance : bound(amount, 1, balance);
        _burn(holder, amount);
    }

    /// Gathers the whole supply on one holder in the second of a new snapshot and burns it there (issue 21
    /// item 13: that snapshot's supply becomes zero; its pool goes to the burner). Rare: it ends the run's
    /// revenue sharing.
    function burnAllInSnapshotSecond(uint256 actorSeed) external settles {
        if (actorSeed % 8 != 0 || token.totalSupply() == 0) return;
        uint256 next = token.nextSnapshotTimestamp();
        if (block.timestamp < next) vm.warp(next);
        _settle();
        token.snapshot();
        burnedSinceSnapshot = 0;
        address holder = _actor(actorSeed / 8);
        for (uint256 i = 0; i < actors.length; ++i) {
            uint256 balance = token.balanceOf(actors[i]);
            if (actors[i] == holder || balance == 0) continue;
            vm.prank(actors[i]);
            token.transfer(holder, balance);
        }
        _burn(holder, token.totalSupply());
    }

    /// Sends tokens to an address that never held any (a first checkpoint of a fresh account).
    function transferToFresh(uint256 fromSeed, uint256 amount) external settles {
        if (actors.length >= 16) return;
        address from = _actor(fromSeed);
        address fresh = address(uint160(0x2000 + actors.length));
        actors.push(fresh);
        amount = bound(amount, 0, token.balanceOf(from));
        vm.prank(from);
        token.transfer(fresh, amount);
    }

    /// Anyone pre-pays a holder's next checkpoint slots: balances, history and claims must not notice.
    function prepayCheckpoints(uint256 actorSeed, uint256 count) external settles {
        token.prepayCheckpoints(_actor(actorSeed), bound(count, 0, 4));
    }

    function _burn(address holder, uint256 amount) private {
        uint256 supply = token.totalSupply();
        uint256 redemption = token.redemptionPool();
        uint256 pending = token.pendingRevenue();
        uint256 expected;
        uint256 fromNew;
        uint256 stranded;
        uint256 current = token.currentSnapshotId();
        if (amount == supply) {
            expected = redemption + pending;
            // The latest snapshot, taken in this second, ends with no supply: its pool goes to this burner.
            if (current != 0 && block.timestamp == token.lastSnapshotTimestamp()) {
                (uint256 claimPool, uint256 claimed,,,) = token.snapshotInfo(current);
                stranded = claimPool - claimed;
                if (stranded != 0) {
                    if (ghostClaimed[current][holder]) doubleClaim = true;
                    ghostClaimed[current][holder] = true;
                }
                expected += stranded;
            }
        } else {
            uint256 revenue = pending + burnedSinceSnapshot; // the reference's newRevenue
            fromNew = (amount * (revenue * (100 - PERCENT) - burnedSinceSnapshot * 100)) / 100 / supply;
            expected = (amount * redemption) / supply + fromNew;
        }
        uint256 quote = token.redeemableOnBurn(amount);
        uint256 before = holder.balance;
        vm.prank(holder);
        token.burn(amount);
        uint256 paid = holder.balance - before;
        if (paid != quote || paid != expected) wrongRedemption = true;
        burnedSinceSnapshot += fromNew;
        claimedOut += stranded;
        redeemedOut += paid - stranded;
    }

    function warp(uint256 by) external settles {
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
        bytes4[] memory s = new bytes4[](15);
        s[0] = ImoTokenHandler.deposit.selector;
        s[1] = ImoTokenHandler.transfer.selector;
        s[2] = ImoTokenHandler.snapshot.selector;
        s[3] = ImoTokenHandler.claim.selector;
        s[4] = ImoTokenHandler.claimBatch.selector;
        s[5] = ImoTokenHandler.burn.selector;
        s[6] = ImoTokenHandler.warp.selector;
        s[7] = ImoTokenHandler.depositByTransfer.selector;
        s[8] = ImoTokenHandler.forceDeposit.selector;
        s[9] = ImoTokenHandler.flashSnapshot.selector;
        s[10] = ImoTokenHandler.borrowerClaim.selector;
        s[11] = ImoTokenHandler.burn.selector; // burns twice as likely: they interleave with deposits
        s[12] = ImoTokenHandler.burnAllInSnapshotSecond.selector;
        s[13] = ImoTokenHandler.transferToFresh.selector;
        s[14] = ImoTokenHandler.prepayCheckpoints.selector;
        selectors = new FuzzSelector[](1);
        selectors[0] = FuzzSelector({addr: address(handler), selectors: s});
    }

    /// @dev pending + redemption + unclaimed remainder of every live snapshot.
    function _liabilities() internal view returns (uint256 total) {
        uint256 current = token.currentSnapshotId();
        uint256 window = token.claimWindow();
        uint256 first = current > window ? current - window + 1 : 1;
        for (uint256 id = first; id <= current; ++id) {
            (uint256 p, uint256 c,,,) = token.snapshotInfo(id);
            vm.assertLe(c, p, "claimed exceeds pool");
            total += p - c;
        }
        vm.assertEq(token.outstandingClaims(), total, "outstanding != sum of live remainders");
        total += token.pendingRevenue() + token.redemptionPool();
    }

    /// The header invariant: the balance covers what is still claimable plus the redemption pool (and pending).
    function invariant_balanceCoversLiabilities() public view {
        vm.assertGe(address(token).balance, token.outstandingClaims() + token.redemptionPool(), "balance < liabilities");
        vm.assertGe(address(token).balance, _liabilities(), "balance < liabilities + pending");
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

    /// Balances and supply at a snapshot are those at the end of its second and never change after.
    function invariant_snapshotBalancesAreFrozen() public view {
        uint256 settled = handler.settledId();
        uint256 n = handler.actorCount();
        uint256 sum;
        for (uint256 id = 1; id <= settled; ++id) {
            vm.assertEq(token.balanceOfAt(address(handler.borrower()), id), 0, "a flash borrower is in a snapshot");
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
        vm.assertEq(token.balanceOf(address(handler.borrower())), 0, "the flash borrower kept tokens");
        vm.assertEq(address(handler.borrower()).balance, 0, "the flash borrower was paid");
    }
}
