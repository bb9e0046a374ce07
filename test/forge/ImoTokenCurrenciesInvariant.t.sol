// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ImoToken} from "../../contracts/ImoToken.sol";
import {TestUsdc} from "../../contracts/test-helpers/TestUsdc.sol";
import {TestToken} from "../../contracts/test-helpers/TestToken.sol";
import {HostileToken} from "../../contracts/test-helpers/HostileToken.sol";
import {TestBase, FuzzSelector, deployImoToken} from "./utils/Vm.sol";

/// @dev Drives every revenue currency at once: payments in native and four ERC-20s (USDC 6 decimals, an
/// 18-decimal token, a fee-on-transfer and a callback token), snapshots, claims per currency, batch claims
/// over snapshots x currencies, burns, transfers, USDC blacklisting and credit withdrawals; books what
/// left the token per currency and every (snapshot, holder, currency) claim.
contract CurrencyHandler is TestBase {
    ImoToken public immutable token;
    TestUsdc public immutable usdc;
    address[] public currencies; // index 0 is native (address(0))
    address[] public actors;
    uint256 public constant WINDOW = 2;

    mapping(uint256 c => uint256) public revenueIn;
    mapping(uint256 c => uint256) public paidOut;
    bool public doubleClaim;
    mapping(uint256 id => mapping(address holder => mapping(uint256 c => bool))) private _claimed;

    constructor() {
        usdc = new TestUsdc();
        currencies.push(address(0));
        currencies.push(address(usdc));
        currencies.push(address(new TestToken("Wrapped Ether", "WETH", 18)));
        currencies.push(address(new HostileToken(HostileToken.Mode.FeeOnTransfer)));
        currencies.push(address(new HostileToken(HostileToken.Mode.Callback)));
        address[] memory list = new address[](4);
        for (uint256 c = 1; c < 5; ++c) {
            list[c - 1] = currencies[c];
        }
        actors.push(address(0x1001));
        actors.push(address(0x1002));
        actors.push(address(0x1003));
        token = ImoToken(
            payable(deployImoToken(
                    "I",
                    "I",
                    1_000_000 ether,
                    actors[0],
                    keccak256("m"),
                    "",
                    37,
                    1 hours,
                    uint32(WINDOW),
                    address(this),
                    list
                ))
        );
        vm.startPrank(actors[0]);
        token.transfer(actors[1], 300_000 ether + 1);
        token.transfer(actors[2], 77_777 ether);
        vm.stopPrank();
    }

    function currencyCount() external view returns (uint256) {
        return currencies.length;
    }

    function _held(uint256 c) internal view returns (uint256) {
        return c == 0 ? address(token).balance : TestToken(currencies[c]).balanceOf(address(token));
    }

    /// @dev Books what left the token in every currency during an action.
    modifier metered() {
        uint256[5] memory before;
        for (uint256 c = 0; c < 5; ++c) {
            before[c] = _held(c);
        }
        _;
        for (uint256 c = 0; c < 5; ++c) {
            uint256 now_ = _held(c);
            if (now_ < before[c]) paidOut[c] += before[c] - now_;
            else revenueIn[c] += now_ - before[c];
        }
    }

    function pay(uint256 currencySeed, uint256 amount) external metered {
        uint256 c = currencySeed % 5;
        amount = bound(amount, 0, c == 1 ? 1e12 : 1_000 ether);
        if (c == 0) {
            vm.deal(address(this), amount);
            (bool ok,) = address(token).call{value: amount}("");
            require(ok, "pay");
        } else if (c == 1) {
            usdc.mint(address(this), amount);
            if (!usdc.isBlacklisted(address(this))) usdc.transfer(address(token), amount);
        } else {
            TestToken(currencies[c]).mint(address(this), amount);
            TestToken(currencies[c]).transfer(address(token), amount);
        }
    }

    function snapshot(uint256 warpBy) external metered {
        vm.warp(block.timestamp + bound(warpBy, 0, 3 hours));
        if (block.timestamp < token.nextSnapshotTimestamp() || token.totalSupply() == 0) return;
        token.snapshot();
    }

    function warp(uint256 by) external {
        vm.warp(block.timestamp + bound(by, 1, 2 hours));
    }

    function transfer(uint256 fromSeed, uint256 toSeed, uint256 amount) external {
        address from = actors[fromSeed % actors.length];
        amount = bound(amount, 0, token.balanceOf(from));
        vm.prank(from);
        token.transfer(actors[toSeed % actors.length], amount);
    }

    function claim(uint256 actorSeed, uint256 idSeed, uint256 currencySeed) external metered {
        address holder = actors[actorSeed % actors.length];
        uint256 current = token.currentSnapshotId();
        if (current == 0) return;
        uint256 id = bound(idSeed, 1, current);
        uint256 c = currencySeed % 5;
        vm.prank(holder);
        token.claim(id, currencies[c]); // reverts (discarded) when not claimable
        _book(id, holder, c);
    }

    function claimBatch(uint256 actorSeed, uint256 fromSeed, uint256 mask) external metered {
        address holder = actors[actorSeed % actors.length];
        uint256 current = token.currentSnapshotId();
        if (current == 0) return;
        uint256 first = bound(fromSeed, current > WINDOW ? current - WINDOW + 1 : 1, current);
        uint256[] memory ids = new uint256[](current - first + 1);
        for (uint256 i = 0; i < ids.length; ++i) {
            ids[i] = first + i;
        }
        mask = bound(mask, 1, 31);
        uint256 n;
        for (uint256 c = 0; c < 5; ++c) {
            if (mask & (1 << c) != 0) ++n;
        }
        address[] memory list = new address[](n);
        uint256[] memory index = new uint256[](n);
        n = 0;
        for (uint256 c = 0; c < 5; ++c) {
            if (mask & (1 << c) != 0) {
                index[n] = c;
                list[n++] = currencies[c];
            }
        }
        bool[][] memory due = new bool[][](ids.length);
        for (uint256 i = 0; i < ids.length; ++i) {
            due[i] = new bool[](n);
            for (uint256 j = 0; j < n; ++j) {
                due[i][j] = token.claimableRevenue(holder, ids[i], list[j]) != 0;
            }
        }
        vm.prank(holder);
        token.claimBatch(ids, list);
        for (uint256 i = 0; i < ids.length; ++i) {
            for (uint256 j = 0; j < n; ++j) {
                if (due[i][j]) _book(ids[i], holder, index[j]);
            }
        }
    }

    function burn(uint256 actorSeed, uint256 amount) external metered {
        address holder = actors[actorSeed % actors.length];
        amount = bound(amount, 1, token.balanceOf(holder) + 1);
        if (amount > token.balanceOf(holder) || amount == token.totalSupply()) return;
        vm.prank(holder);
        token.burn(amount);
    }

    function blacklist(uint256 actorSeed, bool on) external {
        address holder = actors[actorSeed % actors.length];
        if (on) usdc.blacklist(holder);
        else usdc.unBlacklist(holder);
    }

    function withdrawCredit(uint256 actorSeed) external metered {
        vm.prank(actors[actorSeed % actors.length]);
        token.withdrawCredit(address(usdc));
    }

    function _book(uint256 id, address holder, uint256 c) internal {
        if (_claimed[id][holder][c]) doubleClaim = true;
        _claimed[id][holder][c] = true;
    }
}

/// @notice Per-currency invariants of ImoToken's revenue currencies (issue 22).
contract ImoTokenCurrenciesInvariantTest is TestBase {
    CurrencyHandler internal handler;
    ImoToken internal token;

    function setUp() public {
        vm.warp(1_700_000_000);
        handler = new CurrencyHandler();
        token = handler.token();
    }

    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    function targetSelectors() public view returns (FuzzSelector[] memory selectors) {
        bytes4[] memory s = new bytes4[](11);
        s[0] = CurrencyHandler.pay.selector;
        s[1] = CurrencyHandler.pay.selector;
        s[2] = CurrencyHandler.snapshot.selector;
        s[3] = CurrencyHandler.claim.selector;
        s[4] = CurrencyHandler.claim.selector;
        s[5] = CurrencyHandler.claimBatch.selector;
        s[6] = CurrencyHandler.burn.selector;
        s[7] = CurrencyHandler.transfer.selector;
        s[8] = CurrencyHandler.blacklist.selector;
        s[9] = CurrencyHandler.withdrawCredit.selector;
        s[10] = CurrencyHandler.warp.selector;
        selectors = new FuzzSelector[](1);
        selectors[0] = FuzzSelector({addr: address(handler), selectors: s});
    }

    function _held(address currency) internal view returns (uint256) {
        return currency == address(0) ? address(token).balance : TestToken(currency).balanceOf(address(token));
    }

    /// @dev Sum over live snapshots of (claimPool - claimed) in `currency`: what is still claimable, including
    /// the remainders rolled over from expired snapshots.
    function _stillClaimable(address currency) internal view returns (uint256 total) {
        uint256 current = token.currentSnapshotId();
        uint256 window = token.claimWindow();
        uint256 first = current > window ? current - window + 1 : 1;
        for (uint256 id = first; id <= current; ++id) {
            (uint256 p, uint256 c,) = token.snapshotInfo(id, currency);
            vm.assertLe(c, p, "claimed exceeds pool");
            total += p - c;
        }
    }

    /// balance >= redemption pool + outstanding claims (+ credits), in every currency.
    function invariant_balanceCoversWhatIsOwed() public view {
        for (uint256 c = 0; c < handler.currencyCount(); ++c) {
            address currency = handler.currencies(c);
            vm.assertGe(
                _held(currency),
                token.redemptionPool(currency) + token.outstandingClaims(currency) + token.totalCredits(currency),
                "balance < owed"
            );
        }
    }

    /// revenue in = paid out (claimed + redeemed + credits withdrawn) + still claimable (live pools, including
    /// what expired and rolled over) + credits + redemption pool + pending, in every currency; and the
    /// running outstanding total equals the live pools' remainders.
    function invariant_revenueConservation() public view {
        for (uint256 c = 0; c < handler.currencyCount(); ++c) {
            address currency = handler.currencies(c);
            uint256 live = _stillClaimable(currency);
            vm.assertEq(token.outstandingClaims(currency), live, "outstanding != live remainders");
            vm.assertEq(
                handler.revenueIn(c),
                handler.paidOut(c) + live + token.totalCredits(currency) + token.redemptionPool(currency)
                    + token.pendingRevenue(currency),
                "revenue not conserved"
            );
        }
    }

    /// No (snapshot, holder, currency) is ever paid twice.
    function invariant_noDoubleClaimAcrossCurrencies() public view {
        vm.assertFalse(handler.doubleClaim(), "double claim");
    }
}
