// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {TokenFixture} from "./TokenFixture.sol";
import {ImoOffering} from "../../../contracts/ImoOffering.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @dev A token (alice holds the supply) plus helpers to open sales of it and buy from them.
abstract contract OfferingFixture is TokenFixture {
    address internal dave = address(0xDA7E);
    uint256 internal constant PRICE = 0.01 ether; // wei per whole token
    uint256 internal start;
    uint256 internal end;

    function setUp() public virtual override {
        super.setUp();
        start = block.timestamp + 1 hours;
        end = start + 1 days;
        vm.deal(bob, 1_000 ether);
        vm.deal(carol, 1_000 ether);
        vm.deal(dave, 1_000 ether);
    }

    /// @dev Deploys, approves and funds a sale by alice.
    function openSale(
        uint256 amount,
        uint256 startPrice,
        uint256 floorPrice,
        uint256 softCap,
        uint256 maxPerAddress,
        bytes32 root
    ) internal returns (ImoOffering sale) {
        sale = new ImoOffering(
            IERC20(address(token)), alice, amount, startPrice, floorPrice, start, end, softCap, maxPerAddress, root
        );
        vm.startPrank(alice);
        token.approve(address(sale), amount);
        sale.fund();
        vm.stopPrank();
    }

    function fixedSale(uint256 amount, uint256 softCap) internal returns (ImoOffering) {
        return openSale(amount, PRICE, PRICE, softCap, 0, bytes32(0));
    }

    /// @dev Buys `amount` base units as `buyer`, paying `value`; returns the wei actually spent.
    function buyAs(ImoOffering sale, address buyer, uint256 amount, uint256 value) internal returns (uint256 spent) {
        uint256 before = buyer.balance;
        vm.prank(buyer);
        sale.buy{value: value}(amount, type(uint256).max);
        spent = before - buyer.balance;
    }

    function cost(ImoOffering sale, uint256 amount) internal view returns (uint256) {
        return sale.costAt(amount, sale.currentPrice());
    }

    /// @dev Sorted-pair hash, as OpenZeppelin's MerkleProof.
    function hashPair(bytes32 a, bytes32 b) internal pure returns (bytes32) {
        return a < b ? keccak256(abi.encode(a, b)) : keccak256(abi.encode(b, a));
    }

    function leaf(address who, uint256 cap) internal pure returns (bytes32) {
        return keccak256(abi.encode(who, cap));
    }
}
