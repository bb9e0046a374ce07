// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {deployImoToken} from "./Vm.sol";
import {AigcCollection} from "../../../contracts/AigcCollection.sol";
import {ImoToken} from "../../../contracts/ImoToken.sol";
import {TestBase} from "./Vm.sol";

/// @dev A token, a collection bound to it with one EOA attester, and helpers to sign its two proof kinds
/// (domain version 3).
abstract contract CollectionFixture is TestBase {
    bytes32 internal constant MODEL_HASH = keccak256("model");
    uint256 internal constant FEE = 0.01 ether;
    uint256 internal constant REQUEST_FEE = 0.002 ether;
    uint256 internal constant TIMEOUT = 1 hours;
    uint256 internal constant ATTESTER_KEY = 0xA77E57;
    uint256 internal constant OTHER_KEY = 0xBAD;
    uint256 internal constant SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;

    ImoToken internal token;
    AigcCollection internal collection;
    address internal attester;
    address internal owner = address(0x0E1);
    address internal user = address(0x05E4);
    address internal holder = address(0xA11CE);

    bytes internal prompt = "a watercolor fox in a snowy pine forest.";
    bytes internal aigcData = abi.encodePacked(sha256("output"));
    bytes32 internal commitment = keccak256("commitment");

    function setUp() public virtual {
        attester = vm.addr(ATTESTER_KEY);
        token = ImoToken(
            payable(deployImoToken(
                    "I", "I", 1000 ether, holder, MODEL_HASH, "", 50, 1 days, 3, owner, new address[](0)
                ))
        );
        collection = _deployCollection(MODEL_HASH, _one(attester));
        vm.deal(user, 100 ether);
    }

    function _one(address a) internal pure returns (address[] memory list) {
        list = new address[](1);
        list[0] = a;
    }

    function _deployCollection(bytes32 modelHash, address[] memory attesters_) internal returns (AigcCollection) {
        return new AigcCollection(
            "AIGC", "AIGC", modelHash, payable(address(token)), 500, FEE, REQUEST_FEE, TIMEOUT, attesters_, owner
        );
    }

    /// @dev The proof kinds, from the type strings of docs/formats.md section 5 (not read from the contract).
    bytes32 internal constant MINT_KIND =
        keccak256("AigcMint(bytes32 modelHash,bytes32 promptHash,bytes32 aigcDataHash,bytes32 commitment,address to)");
    bytes32 internal constant FULFILMENT_KIND = keccak256(
        "AigcFulfilment(uint256 requestId,bytes32 modelHash,bytes32 promptHash,bytes32 aigcDataHash,bytes32 commitment,address to)"
    );

    function _domain(uint256 chainId, address verifier) internal pure returns (bytes32) {
        return keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256("imo"),
                keccak256("3"),
                chainId,
                verifier
            )
        );
    }

    /// @dev The EIP-712 digest of an AigcMint attestation for `user`.
    function _digest(bytes32 modelHash, bytes memory p, bytes memory d, bytes32 c, uint256 chainId, address verifier)
        internal
        view
        returns (bytes32)
    {
        return _digestTo(modelHash, p, d, c, user, chainId, verifier);
    }

    /// @dev The EIP-712 digest of an AigcMint attestation.
    function _digestTo(
        bytes32 modelHash,
        bytes memory p,
        bytes memory d,
        bytes32 c,
        address to,
        uint256 chainId,
        address verifier
    ) internal pure returns (bytes32) {
        bytes32 structHash = keccak256(abi.encode(MINT_KIND, modelHash, keccak256(p), keccak256(d), c, to));
        return keccak256(abi.encodePacked("\x19\x01", _domain(chainId, verifier), structHash));
    }

    /// @dev The EIP-712 digest of an AigcFulfilment attestation of request `requestId`.
    function _fulfilmentDigestTo(
        uint256 requestId,
        bytes32 modelHash,
        bytes memory p,
        bytes memory d,
        bytes32 c,
        address to,
        uint256 chainId,
        address verifier
    ) internal pure returns (bytes32) {
        bytes32 structHash =
            keccak256(abi.encode(FULFILMENT_KIND, requestId, modelHash, keccak256(p), keccak256(d), c, to));
        return keccak256(abi.encodePacked("\x19\x01", _domain(chainId, verifier), structHash));
    }

    function _sig(uint256 key, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return abi.encodePacked(r, s, v);
    }

    /// @dev The bytes of an AigcMint proof: abi.encode(kind, commitment, to, signature).
    function _mintProofBytes(bytes32 c, address to, bytes memory signature) internal pure returns (bytes memory) {
        return abi.encode(MINT_KIND, c, to, signature);
    }

    /// @dev The bytes of an AigcFulfilment proof: abi.encode(kind, requestId, commitment, to, signature).
    function _fulfilmentProofBytes(uint256 requestId, bytes32 c, address to, bytes memory signature)
        internal
        pure
        returns (bytes memory)
    {
        return abi.encode(FULFILMENT_KIND, requestId, c, to, signature);
    }

    /// @dev An AigcMint proof of `prompt`/`aigcData` for `user`, signed with `key` for that model, chain and collection.
    function _proof(uint256 key, bytes32 modelHash, uint256 chainId, address verifier)
        internal
        view
        returns (bytes memory)
    {
        return _mintProofBytes(
            commitment, user, _sig(key, _digest(modelHash, prompt, aigcData, commitment, chainId, verifier))
        );
    }

    /// @dev A valid attester AigcMint proof of `prompt`/`aigcData` for recipient `to`.
    function _proofTo(address to) internal view returns (bytes memory) {
        bytes32 digest = _digestTo(MODEL_HASH, prompt, aigcData, commitment, to, block.chainid, address(collection));
        return _mintProofBytes(commitment, to, _sig(ATTESTER_KEY, digest));
    }

    function _validProof() internal view returns (bytes memory) {
        return _proof(ATTESTER_KEY, MODEL_HASH, block.chainid, address(collection));
    }

    /// @dev A valid attester AigcFulfilment proof of request `requestId` (of `prompt`/`aigcData`) for `to`.
    function _fulfilmentProofTo(uint256 requestId, address to) internal view returns (bytes memory) {
        bytes32 digest = _fulfilmentDigestTo(
            requestId, MODEL_HASH, prompt, aigcData, commitment, to, block.chainid, address(collection)
        );
        return _fulfilmentProofBytes(requestId, commitment, to, _sig(ATTESTER_KEY, digest));
    }

    function _fulfilmentProof(uint256 requestId) internal view returns (bytes memory) {
        return _fulfilmentProofTo(requestId, user);
    }

    function _mint(bytes memory proof) internal returns (uint256) {
        vm.prank(user);
        return collection.mint{value: FEE}(user, prompt, aigcData, "ipfs://out", proof);
    }
}
