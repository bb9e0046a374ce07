// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC7007} from "./IERC7007.sol";

/**
 * @title ERC-7007 optional enumeration extension
 * @dev Note: the ERC-165 identifier for this interface is 0xfa1a557a (`tokenId(bytes)` XOR `prompt(uint256)`).
 * The EIP declares `prompt` as returning `string`; this declaration returns `bytes`, which has the same
 * selector and the same ABI encoding, because prompts here may be binary (tensor encodings).
 */
interface IERC7007Enumerable is IERC7007 {
    /**
     * @dev Returns the token ID given `prompt`.
     */
    function tokenId(bytes calldata prompt) external view returns (uint256);

    /**
     * @dev Returns the prompt given `tokenId`.
     */
    function prompt(uint256 tokenId) external view returns (bytes memory);
}
