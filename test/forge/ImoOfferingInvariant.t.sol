// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {deployImoToken} from "./utils/Vm.sol";
import {ImoToken} from "../../contracts/ImoToken.sol";
import {ImoOffering} from "../../contracts/ImoOffering.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {TestBase, FuzzSelector} from "./utils/Vm.sol";

/// @dev Drives random purchases (with change), time, revenue and snapshots, finalize, refunds, deliveries,
/// withdrawals, tokens sent in directly (before and after finalize) and sweeps on one descending-price sale, keeping ghost totals of what went in and out.
contract OfferingHandler is TestBase {
    ImoToken public immutable token;
    ImoOffering public immutable sale;
    address public constant SELLER = address(0x5E11);
    /// Sends tokens to the sale directly, at any time (also after finalize).
    address public constant DONOR = address(0xD0D0);
    address[] public buyers;

    uint256 public etherIn; // net payments + revenue claimed
    uint256 public etherOut; // refunds + withdrawals
    uint256 public tokensIn;
    uint256 public tokensOut;
    bool public overpaid; // a payout above what was owed

    constructor(uint256 softCap) {
        token = ImoToken(
            payable(deployImoToken(
                    "I",
                    "I",
                    1_000_000 ether,
                    SELLER,
                    keccak256("m"),
                    "",
                    50,
                    1 hours,
                    3,
                    address(this),
                    new address[](0)
                ))
        );
        sale = new ImoOffering(
            IERC20(address(token)),
            SELLER,
            10_000 ether,
            0.003 ether + 7,
            0.001 ether + 3,
            block.timestamp + 10,
            block.timestamp + 3 days,
            softCap,
            4_000 ether,
            bytes32(0)
        );
        vm.startPrank(SELLER);
        token.approve(address(sale), type(uint256).max);
        sale.fund();
        token.transfer(DONOR, 1_000 ether);
        vm.stopPrank();
        tokensIn = 10_000 ether;
        buyers.push(address(0xB001));
        buyers.push(address(0xB002));
        buyers.push(address(0xB003));
    }

    function buyerCount() external view returns (uint256) {
        return buyers.length;
    }

    function buy(uint256 who, uint256 amount, uint256 extra) external {
        address buyer = buyers[who % buyers.length];
        amount = bound(amount, 1, 4_000 ether);
        uint256 cost = sale.costAt(amount, sale.currentPrice());
        uint256 value = cost + bound(extra, 0, 1 ether);
        vm.deal(buyer, value);
        uint256 tokensBefore = token.balanceOf(buyer);
        vm.prank(buyer);
        try sale.buy{value: value}(amount, type(uint256).max) {
            uint256 spent = value - buyer.balance;
            if (spent != cost) overpaid = true;
            etherIn += spent;
            tokensOut += token.balanceOf(buyer) - tokensBefore;
        } catch {}
    }

    function warp(uint256 by) external {
        vm.warp(block.timestamp + bound(by, 0, 12 hours));
        vm.roll(block.number + 1);
    }

    function revenue(uint256 amount) external {
        amount = bound(amount, 0, 10 ether);
        vm.deal(address(0xFEE), amount);
        vm.prank(address(0xFEE));
        (bool ok,) = address(token).call{value: amount}("");
        require(ok, "deposit");
        if (block.timestamp >= token.nextSnapshotTimestamp()) token.snapshot();
        vm.roll(block.number + 1);
    }

    function _trackRevenue(uint256 collectedBefore) private {
        etherIn += sale.revenueCollected() - collectedBefore;
    }

    function finalize() external {
        uint256 before = sale.revenueCollected();
        uint256 sellerTokens = token.balanceOf(SELLER);
        try sale.finalize() {
            tokensOut += token.balanceOf(SELLER) - sellerTokens;
            _trackRevenue(before);
        } catch {}
    }

    function claimRevenue() external {
        uint256 before = sale.revenueCollected();
        try sale.claimRevenue() {
            _trackRevenue(before);
        } catch {}
    }

    function refund(uint256 who) external {
        address buyer = buyers[who % buyers.length];
        (, uint256 paid) = sale.purchaseOf(buyer);
        uint256 before = buyer.balance;
        vm.prank(buyer);
        try sale.refund() {
            uint256 got = buyer.balance - before;
            if (got != paid) overpaid = true;
            etherOut += got;
        } catch {}
    }

    function deliver(uint256 who) external {
        address buyer = buyers[who % buyers.length];
        uint256 before = token.balanceOf(buyer);
        try sale.deliver(buyer) {
            tokensOut += token.balanceOf(buyer) - before;
        } catch {}
    }

    function sendTokensIn(uint256 amount) external {
        amount = bound(amount, 0, token.balanceOf(DONOR));
        vm.prank(DONOR);
        token.transfer(address(sale), amount);
        tokensIn += amount;
    }

    function sweep() external {
        uint256 before = token.balanceOf(SELLER);
        try sale.sweep(IERC20(address(token))) {
            tokensOut += token.balanceOf(SELLER) - before;
        } catch {}
    }

    function withdraw() external {
        uint256 before = SELLER.balance;
        vm.prank(SELLER);
        try sale.withdraw() {
            etherOut += SELLER.balance - before;
        } catch {}
    }

    /// @dev Ends the sale and settles everything, as the last step of the run.
    function settleAll() external {
        if (block.timestamp < sale.endTime()) vm.warp(sale.endTime());
        vm.roll(block.number + 1);
        (,,, bool finalized) = sale.progress();
        if (!finalized) this.finalize();
        this.sendTokensIn(1 ether); // a late arrival, which only sweep returns
        vm.roll(block.number + 1);
        this.claimRevenue();
        for (uint256 i = 0; i < buyers.length; ++i) {
            this.refund(i);
            this.deliver(i);
        }
        this.sweep();
        this.withdraw();
    }
}

abstract contract OfferingInvariantBase is TestBase {
    OfferingHandler internal handler;
    ImoOffering internal sale;
    ImoToken internal token;

    function softCap() internal pure virtual returns (uint256);

    function setUp() public {
        vm.warp(1_700_000_000);
        handler = new OfferingHandler(softCap());
        sale = handler.sale();
        token = handler.token();
    }

    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    function targetSelectors() public view returns (FuzzSelector[] memory selectors) {
        bytes4[] memory s = new bytes4[](10);
        s[0] = OfferingHandler.buy.selector;
        s[1] = OfferingHandler.warp.selector;
        s[2] = OfferingHandler.revenue.selector;
        s[3] = OfferingHandler.finalize.selector;
        s[4] = OfferingHandler.refund.selector;
        s[5] = OfferingHandler.deliver.selector;
        s[6] = OfferingHandler.withdraw.selector;
        s[7] = OfferingHandler.claimRevenue.selector;
        s[8] = OfferingHandler.sendTokensIn.selector;
        s[9] = OfferingHandler.sweep.selector;
        selectors = new FuzzSelector[](1);
        selectors[0] = FuzzSelector({addr: address(handler), selectors: s});
    }

    /// ether in = refunded + withdrawn + held; the contract's own counters agree with the ghosts.
    function invariant_etherConserved() public view {
        vm.assertEq(handler.etherIn(), handler.etherOut() + address(sale).balance, "ether in != out + held");
        vm.assertEq(handler.etherOut(), sale.refunded() + sale.withdrawn(), "out != refunded + withdrawn");
        vm.assertGe(address(sale).balance, sale.owedWei(), "cannot cover refunds");
        vm.assertFalse(handler.overpaid(), "a payment or payout differed from what was due");
    }

    /// tokens in = delivered + returned + held.
    function invariant_tokensConserved() public view {
        vm.assertEq(handler.tokensIn(), handler.tokensOut() + token.balanceOf(address(sale)), "tokens in != out + held");
        vm.assertGe(token.balanceOf(address(sale)), sale.owedTokens(), "cannot cover deliveries");
    }

    /// After finalize, every refund, delivery, withdrawal and a sweep of tokens sent in late, nothing is left.
    function invariant_nothingLeftAfterSettlement() public {
        uint256 snap = vm.snapshotState();
        handler.settleAll();
        vm.assertEq(address(sale).balance, 0, "ether left");
        vm.assertEq(token.balanceOf(address(sale)), 0, "tokens left");
        vm.assertEq(handler.etherIn(), handler.etherOut(), "ether in != out");
        vm.assertEq(handler.tokensIn(), handler.tokensOut(), "tokens in != out");
        vm.revertToState(snap);
    }
}

contract OfferingInvariantNoSoftCapTest is OfferingInvariantBase {
    function softCap() internal pure override returns (uint256) {
        return 0;
    }
}

contract OfferingInvariantSoftCapTest is OfferingInvariantBase {
    function softCap() internal pure override returns (uint256) {
        return 12 ether; // met or missed depending on the run
    }
}
