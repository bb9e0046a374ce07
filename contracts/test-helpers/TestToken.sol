// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/**
 * @title TestToken: a plain ERC-20 with any number of decimals and an open faucet, for tests only
 * @notice Anyone may mint. Invariant: the sum of all balances equals `totalSupply`.
 */
contract TestToken is ERC20 {
    uint8 private immutable _decimals;

    constructor(string memory name_, string memory symbol_, uint8 decimals_) ERC20(name_, symbol_) {
        _decimals = decimals_;
    }

    /// @notice The decimals given at deployment.
    function decimals() public view override returns (uint8) {
        return _decimals;
    }

    /// @notice Creates `amount` for `to` (tests only: anyone may call it).
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}
