// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AigcCollection} from "../../../contracts/AigcCollection.sol";
import {ImoToken} from "../../../contracts/ImoToken.sol";
import {TestBase} from "./Vm.sol";

/// @dev A token, a collection bound to it with one EOA attester, and helpers to sign v2 attestations.
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
        token = new ImoToken("I", "I", 1000 ether, holder, MODEL_HASH, "", 50, 1 days, 3, owner);
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

    function _digest(bytes32 modelHash, bytes memory p, bytes memory d, bytes32 c, uint256 chainId, address verifier)
        internal
        view
        returns (bytes32)
    {
        return _digestTo(modelHash, p, d, c, user, chainId, verifier);
    }

    function _digestTo(
        bytes32 modelHash,
        bytes memory p,
        bytes memory d,
        bytes32 c,
        address to,
        uint256 chainId,
        address verifier
    ) internal pure returns (bytes32) {
        bytes32 domain = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256("imo"),
                keccak256("2"),
                chainId,
                verifier
            )
        );
        bytes32 structHash = keccak256(
            abi.encode(
                keccak256(
                    "AigcAttestation(bytes32 modelHash,bytes32 promptHash,bytes32 aigcDataHash,bytes32 commitment,address to)"
                ),
                modelHash,
                keccak256(p),
                keccak256(d),
                c,
                to
            )
        );
        return keccak256(abi.encodePacked("\x19\x01", domain, structHash));
    }

    function _sig(uint256 key, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return abi.encodePacked(r, s, v);
    }

    function _proof(uint256 key, bytes32 modelHash, uint256 chainId, address verifier)
        internal
        view
        returns (bytes memory)
    {
        return abi.encode(
            commitment, user, _sig(key, _digest(modelHash, prompt, aigcData, commitment, chainId, verifier))
        );
    }

    /// @dev A valid attester proof of `prompt`/`aigcData` for recipient `to`.
    function _proofTo(address to) internal view returns (bytes memory) {
        bytes32 digest = _digestTo(MODEL_HASH, prompt, aigcData, commitment, to, block.chainid, address(collection));
        return abi.encode(commitment, to, _sig(ATTESTER_KEY, digest));
    }

    function _validProof() internal view returns (bytes memory) {
        return _proof(ATTESTER_KEY, MODEL_HASH, block.chainid, address(collection));
    }

    function _mint(bytes memory proof) internal returns (uint256) {
        vm.prank(user);
        return collection.mint{value: FEE}(user, prompt, aigcData, "ipfs://out", proof);
    }
}
