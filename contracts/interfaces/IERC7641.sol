// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/**
 * @title ERC-7641 Intrinsic RevShare Token
 * @dev The interface exactly as EIP-7641 states it. Its ERC-165 identifier (the XOR of the five selectors
 * below, inherited IERC20 functions excluded) is 0xed7b2e4e.
 */
interface IERC7641 is IERC20 {
    /**
     * @dev Amount of ETH claimable by `account` at snapshot `snapshotId`.
     * @param account The address of the token holder
     * @param snapshotId The snapshot id
     * @return The amount of revenue claimable
     */
    function claimableRevenue(address account, uint256 snapshotId) external view returns (uint256);

    /**
     * @dev Claims ETH based on the caller's token balance at snapshot `snapshotId`.
     * @param snapshotId The snapshot id
     */
    function claim(uint256 snapshotId) external;

    /**
     * @dev Snapshots the token balances and the claimable revenue.
     * @return The snapshot id
     * @notice Should have `require` to avoid ddos attack
     */
    function snapshot() external returns (uint256);

    /**
     * @dev Amount of ETH redeemable upon burning `amount` tokens.
     * @param amount The amount of token to burn
     * @return The amount of revenue ETH redeemable
     */
    function redeemableOnBurn(uint256 amount) external view returns (uint256);

    /**
     * @dev Burns `amount` tokens of the caller and redeems the corresponding amount of revenue.
     * @param amount The amount of token to burn
     */
    function burn(uint256 amount) external;
}
