// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ImoOffering} from "../../contracts/ImoOffering.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {OfferingFixture} from "./utils/OfferingFixture.sol";

/// @dev Calls the sale; when paid, re-enters it once with `reentryData` and records what happened.
contract OfferingAttacker {
    ImoOffering public sale;
    bytes public reentryData;
    uint256 public attempts;
    bool public reentrySucceeded;
    bytes public reentryError;

    function setSale(ImoOffering sale_) external {
        sale = sale_;
    }

    function run(bytes calldata outer, bytes calldata reentry, uint256 value) external payable {
        reentryData = reentry;
        (bool ok, bytes memory ret) = address(sale).call{value: value}(outer);
        if (!ok) {
            assembly {
                revert(add(ret, 32), mload(ret))
            }
        }
    }

    function approveAndFund(IERC20 token, uint256 amount) external {
        token.approve(address(sale), amount);
        sale.fund();
    }

    receive() external payable {
        if (attempts > 0 || msg.sender != address(sale)) return;
        ++attempts;
        (bool ok, bytes memory ret) = address(sale).call{value: 0}(reentryData);
        reentrySucceeded = ok;
        reentryError = ret;
    }
}

contract ImoOfferingReentrancyTest is OfferingFixture {
    OfferingAttacker internal attacker;
    bytes internal guardError = abi.encodeWithSelector(ReentrancyGuardTransient.ReentrancyGuardReentrantCall.selector);

    function setUp() public override {
        super.setUp();
        attacker = new OfferingAttacker();
        vm.deal(address(attacker), 100 ether);
    }

    function _assertBlocked() internal view {
        vm.assertEq(attacker.attempts(), 1, "re-entry attempted");
        vm.assertFalse(attacker.reentrySucceeded(), "re-entry succeeded");
        vm.assertEq(attacker.reentryError(), guardError, "blocked by the guard");
    }

    /// The change sent back by buy re-enters buy: blocked, and the attacker got exactly its tokens and change.
    function test_buy_changeReentersBuy() public {
        ImoOffering sale = fixedSale(1_000 ether, 0);
        attacker.setSale(sale);
        vm.warp(start);
        uint256 before = address(attacker).balance;
        bytes memory call = abi.encodeCall(ImoOffering.buy, (100 ether, PRICE));
        attacker.run(call, call, 5 ether);
        _assertBlocked();
        vm.assertEq(token.balanceOf(address(attacker)), 100 ether, "bought once");
        vm.assertEq(before - address(attacker).balance, 1 ether, "paid once, change returned");
        vm.assertEq(address(sale).balance, 1 ether, "the sale holds the cost");
    }

    /// refund re-enters refund: blocked, refunded exactly once.
    function test_refund_reentersRefund() public {
        ImoOffering sale = fixedSale(1_000 ether, 9 ether);
        attacker.setSale(sale);
        vm.warp(start);
        attacker.run(abi.encodeCall(ImoOffering.buy, (100 ether, PRICE)), "", 1 ether);
        buyAs(sale, bob, 100 ether, 1 ether);
        vm.warp(end);
        sale.finalize();
        uint256 before = address(attacker).balance;
        bytes memory call = abi.encodeCall(ImoOffering.refund, ());
        attacker.run(call, call, 0);
        _assertBlocked();
        vm.assertEq(address(attacker).balance - before, 1 ether, "refunded once");
        vm.assertEq(address(sale).balance, 1 ether, "bob's refund still covered");
        vm.assertEq(sale.owedWei(), 1 ether, "owed to bob");
    }

    /// withdraw (by a seller contract) re-enters withdraw: blocked, paid exactly once.
    function test_withdraw_reentersWithdraw() public {
        send(alice, address(attacker), 1_000 ether);
        ImoOffering sale = new ImoOffering(
            IERC20(address(token)), address(attacker), 1_000 ether, PRICE, PRICE, start, end, 0, 0, bytes32(0)
        );
        attacker.setSale(sale);
        attacker.approveAndFund(IERC20(address(token)), 1_000 ether);
        vm.warp(start);
        buyAs(sale, bob, 300 ether, 3 ether);
        uint256 before = address(attacker).balance;
        bytes memory call = abi.encodeCall(ImoOffering.withdraw, ());
        attacker.run(call, call, 0);
        _assertBlocked();
        vm.assertEq(address(attacker).balance - before, 3 ether, "withdrawn once");
        vm.assertEq(sale.withdrawn(), 3 ether, "booked once");
        vm.assertEq(address(sale).balance, 0, "nothing left");
    }
}
