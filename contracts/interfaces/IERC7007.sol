// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";

/**
 * @title ERC-7007 Verifiable AI-Generated Content Token (final)
 * @dev Required interface of an ERC-7007 compliant contract, as the final EIP states it.
 * Note: the ERC-165 identifier for this interface is 0x702c55a6.
 */
interface IERC7007 is IERC165, IERC721 {
    /**
     * @dev Emitted when AI Generated Content (AIGC) data is added to token at `tokenId`. As in the final EIP,
     * `prompt` and `aigcData` are indexed, so the log holds their keccak256 as topics 2 and 3.
     */
    event AigcData(uint256 indexed tokenId, bytes indexed prompt, bytes indexed aigcData, bytes proof);

    /**
     * @dev Add AIGC data to token at `tokenId` given `prompt`, `aigcData` and `proof`.
     */
    function addAigcData(uint256 tokenId, bytes calldata prompt, bytes calldata aigcData, bytes calldata proof) external;

    /**
     * @dev Verify the `prompt`, `aigcData` and `proof`.
     */
    function verify(bytes calldata prompt, bytes calldata aigcData, bytes calldata proof)
        external
        view
        returns (bool success);
}
