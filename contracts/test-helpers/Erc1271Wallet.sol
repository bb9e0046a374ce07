// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/**
 * @title Erc1271Wallet: a minimal ERC-1271 contract signer, for tests
 * @notice Invariant: `isValidSignature(hash, sig)` returns the magic value iff `sig` is a 65-byte ECDSA
 * signature of `hash` by `signer`. Not for production use.
 */
contract Erc1271Wallet is IERC1271 {
    /// @notice The EOA whose signatures the wallet accepts.
    address public immutable signer;

    /// @param signer_ The EOA whose signatures the wallet accepts.
    constructor(address signer_) {
        signer = signer_;
    }

    /// @notice ERC-1271: the magic value 0x1626ba7e iff `signature` is `signer`'s signature of `hash`.
    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecoverCalldata(hash, signature);
        return err == ECDSA.RecoverError.NoError && recovered == signer ? IERC1271.isValidSignature.selector : bytes4(0);
    }
}
