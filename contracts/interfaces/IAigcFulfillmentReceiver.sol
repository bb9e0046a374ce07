// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";

/**
 * @title IAigcFulfillmentReceiver: the callback a paid request's recipient contract may declare
 * @notice A recipient contract that declares this interface through ERC-165 is called once, by
 * `AigcCollection.fulfill`, after its token was minted, with the gas limit chosen at request time. The call's
 * outcome (revert, out of gas, return data) is ignored: it never blocks the mint or the fee.
 * Note: the ERC-165 identifier for this interface is `onAigcFulfilled(uint256,uint256,bytes)`'s selector.
 */
interface IAigcFulfillmentReceiver is IERC165 {
    /**
     * @dev Called after request `requestId` was fulfilled by minting token `tokenId` (whose AIGC data is
     * `aigcData`) to this contract.
     */
    function onAigcFulfilled(uint256 requestId, uint256 tokenId, bytes calldata aigcData) external;
}
