// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {CurrencyFixture} from "./utils/CurrencyFixture.sol";

/// @dev A shares-based ERC-20 whose balances all scale with `index` (stETH/AMPL style): `rebase(1, 2)` halves
/// every balance at once, so a holder of it (the IMO token) ends up holding less than it owes. Tests only.
contract RebasingToken {
    string public constant name = "Rebasing";
    string public constant symbol = "REB";
    uint8 public constant decimals = 18;
    uint256 public index = 1e18;
    uint256 public totalShares;
    mapping(address => uint256) public sharesOf;

    event Transfer(address indexed from, address indexed to, uint256 value);

    function balanceOf(address account) external view returns (uint256) {
        return (sharesOf[account] * index) / 1e18;
    }

    function totalSupply() external view returns (uint256) {
        return (totalShares * index) / 1e18;
    }

    function mint(address to, uint256 amount) external {
        uint256 shares = (amount * 1e18) / index;
        sharesOf[to] += shares;
        totalShares += shares;
        emit Transfer(address(0), to, amount);
    }

    /// @dev Reverts (as OpenZeppelin's ERC-20 does) when the sender's shrunken balance is short.
    function transfer(address to, uint256 amount) external returns (bool) {
        uint256 shares = (amount * 1e18 + index - 1) / index;
        require(sharesOf[msg.sender] >= shares, "insufficient balance");
        sharesOf[msg.sender] -= shares;
        sharesOf[to] += shares;
        emit Transfer(msg.sender, to, amount);
        return true;
    }

    /// @dev Scales every balance by `numerator / denominator`.
    function rebase(uint256 numerator, uint256 denominator) external {
        index = (index * numerator) / denominator;
    }
}

/**
 * A revenue currency whose balances shrink (a negative rebase) after revenue was split: the token then holds
 * less of it than it owes. Claims in it are paid while the balance lasts and credited beyond (never a revert),
 * the other currencies, `snapshot()` and `burn` go on exactly, and new revenue in the shrunken currency first
 * makes up the shortfall (docs/contracts.md, "Fee-on-transfer and rebasing tokens").
 */
contract ImoTokenRebasingTest is CurrencyFixture {
    RebasingToken internal reb;

    function setUp() public override {
        super.setUp();
        reb = new RebasingToken();
        deployWith(_list()); // instead of the fixture's four currencies
    }

    function _list() private view returns (address[] memory list) {
        list = new address[](2);
        list[0] = address(weth);
        list[1] = address(reb);
    }

    /// @dev Claims `id` in the rebasing currency for `holder`; returns what was transferred and what credited.
    function _claimReb(address holder, uint256 id) private returns (uint256 paid, uint256 credited) {
        uint256 held = reb.balanceOf(holder);
        uint256 credit = token.creditOf(holder, address(reb));
        claimIn(holder, id, address(reb));
        paid = reb.balanceOf(holder) - held;
        credited = token.creditOf(holder, address(reb)) - credit;
    }

    function test_negativeRebase_claimsPaidWhileTheBalanceLasts_restCredited_othersUnaffected() public {
        pay(address(reb), 100 ether);
        pay(address(weth), 100 ether);
        deposit(1 ether);
        uint256 id = snap();
        vm.assertEq(owedIn(address(reb)), 100 ether, "60 to claims, 40 to redemption");

        reb.rebase(1, 2);
        vm.assertEq(reb.balanceOf(address(token)), 50 ether, "the token now holds half of what it owes");
        vm.assertEq(token.pendingRevenue(address(reb)), 0, "no revenue below what is owed");
        vm.assertEq(token.claimableRevenue(carol, id, address(reb)), 12 ether, "shares are as booked");

        // alice (30) and bob (18) are paid from the 50 held; carol's 12 is more than the 2 left: credited.
        (uint256 paid, uint256 credited) = _claimReb(alice, id);
        vm.assertEq(paid, 30 ether, "alice paid");
        vm.assertEq(credited, 0, "alice not credited");
        (paid, credited) = _claimReb(bob, id);
        vm.assertEq(paid, 18 ether, "bob paid");
        (paid, credited) = _claimReb(carol, id);
        vm.assertEq(paid, 0, "carol: nothing transferable");
        vm.assertEq(credited, 12 ether, "carol credited her whole share");

        // The other currencies are exact.
        claimIn(carol, id, address(weth));
        vm.assertEq(weth.balanceOf(carol), 12 ether, "weth share");
        vm.assertEq(claimAs(carol, id), 0.12 ether, "ether share");

        // snapshot() goes on: weth revenue is split, the shrunken currency has none.
        pay(address(weth), 10 ether);
        uint256 next = snap();
        (uint256 claimPool,,) = token.snapshotInfo(next, address(weth));
        vm.assertEq(claimPool, 6 ether, "weth split");
        (claimPool,,) = token.snapshotInfo(next, address(reb));
        vm.assertEq(claimPool, 0, "nothing new in reb");

        // burn goes on: ether and weth paid; the reb redemption share (10 % of 40) exceeds the 2 held: credited.
        uint256 amount = SUPPLY / 10;
        uint256 rebOnBurn = token.redeemableOnBurn(amount, address(reb));
        vm.assertEq(rebOnBurn, 4 ether, "a tenth of the reb redemption pool");
        uint256 wethOnBurn = token.redeemableOnBurn(amount, address(weth));
        uint256 wethBefore = weth.balanceOf(alice);
        vm.prank(alice);
        token.burn(amount);
        vm.assertEq(weth.balanceOf(alice) - wethBefore, wethOnBurn, "weth redeemed");
        vm.assertEq(token.creditOf(alice, address(reb)), 4 ether, "reb redemption credited");

        // A credit the balance cannot cover stays owed; new reb revenue first makes up the shortfall.
        vm.expectRevert();
        vm.prank(carol);
        token.withdrawCredit(address(reb));
        vm.assertEq(token.creditOf(carol, address(reb)), 12 ether, "kept");
        pay(address(reb), 20 ether); // 22 held, 52 owed (36 redemption + 12 + 4 credits)
        vm.assertEq(token.pendingRevenue(address(reb)), 0, "still short: not revenue");
        vm.prank(carol);
        token.withdrawCredit(address(reb));
        vm.assertEq(reb.balanceOf(carol), 12 ether, "carol made whole");
    }

    function test_negativeRebase_bricksNeitherClaimBatchNorAWholeSupplyBurn() public {
        pay(address(reb), 100 ether);
        pay(address(weth), 100 ether);
        deposit(1 ether);
        uint256 id = snap();
        reb.rebase(1, 10); // 10 held, 100 owed

        uint256[] memory ids = new uint256[](1);
        ids[0] = id;
        address[] memory list = new address[](3);
        list[0] = address(0);
        list[1] = address(reb);
        list[2] = address(weth);
        vm.prank(alice);
        token.claimBatch(ids, list);
        vm.assertEq(weth.balanceOf(alice), 30 ether, "weth paid in the batch");
        vm.assertEq(alice.balance, 0.3 ether, "ether paid in the batch");
        vm.assertEq(token.creditOf(alice, address(reb)), 30 ether, "reb credited, the batch did not revert");

        // Everyone burns everything: each gets its reb redemption share, transferred while the balance
        // lasts and credited beyond; weth and ether are paid exactly.
        address[3] memory holders = [bob, carol, alice];
        for (uint256 i = 0; i < holders.length; ++i) {
            address holder = holders[i];
            uint256 amount = token.balanceOf(holder);
            uint256 rebOwed = token.redeemableOnBurn(amount, address(reb));
            uint256 wethOwed = token.redeemableOnBurn(amount, address(weth));
            uint256 rebHeld = reb.balanceOf(holder);
            uint256 credit = token.creditOf(holder, address(reb));
            uint256 wethHeld = weth.balanceOf(holder);
            vm.prank(holder);
            token.burn(amount);
            vm.assertEq(
                reb.balanceOf(holder) - rebHeld + token.creditOf(holder, address(reb)) - credit, rebOwed, "reb share"
            );
            vm.assertEq(weth.balanceOf(holder) - wethHeld, wethOwed, "weth share");
        }
        vm.assertEq(token.totalSupply(), 0, "all burned");
        vm.assertEq(token.redemptionPool(address(reb)), 0, "the reb redemption pool is all paid or credited");
    }
}
