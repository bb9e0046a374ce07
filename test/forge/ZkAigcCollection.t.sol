// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {deployImoToken} from "./utils/Vm.sol";
import {ZkAigcCollection} from "../../contracts/zk/ZkAigcCollection.sol";
import {ZkTestVerifier} from "../../contracts/test-helpers/ZkTestVerifier.sol";
import {ImoToken} from "../../contracts/ImoToken.sol";
import {IERC7007} from "../../contracts/interfaces/IERC7007.sol";
import {IERC7007Enumerable} from "../../contracts/interfaces/IERC7007Enumerable.sol";
import {IERC721Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {TestBase} from "./utils/Vm.sol";
import {ZkProofFixture} from "./utils/ZkProofFixture.sol";

/// @dev The zk collection with a real PLONK proof (scripts/build-zk-fixture.ts): a genuine output mints for anyone;
/// one output byte changed, another prompt, another model or a replay to another recipient are rejected.
contract ZkAigcCollectionTest is TestBase {
    event AigcData(uint256 indexed tokenId, bytes indexed prompt, bytes indexed aigcData, bytes proof);

    uint256 internal constant FEE = 0.01 ether;
    address internal owner = address(0x0E1);
    address internal holder = address(0xA11CE);
    address internal user = ZkProofFixture.RECIPIENT;
    address internal stranger = address(0x5742);

    ImoToken internal token;
    ZkTestVerifier internal verifier;
    ZkAigcCollection internal collection;
    bytes internal prompt = ZkProofFixture.prompt();
    bytes internal aigcData = ZkProofFixture.aigcData();
    bytes internal proof = ZkProofFixture.proof();

    function setUp() public {
        token = ImoToken(
            payable(deployImoToken(
                    "I", "I", 1000 ether, holder, ZkProofFixture.MODEL_HASH, "", 50, 1 days, 3, owner, new address[](0)
                ))
        );
        verifier = new ZkTestVerifier();
        collection = _deploy(token, address(verifier));
        vm.deal(stranger, 10 ether);
        vm.deal(user, 10 ether);
    }

    function _deploy(ImoToken token_, address verifier_) internal returns (ZkAigcCollection) {
        return new ZkAigcCollection(
            "ZK",
            "ZK",
            token_.modelHash(),
            payable(address(token_)),
            500,
            FEE,
            verifier_,
            ZkProofFixture.aigcPrefix(),
            ZkProofFixture.PAYLOAD_LENGTH,
            owner
        );
    }

    function _mint(address caller, address to, bytes memory p, bytes memory d, bytes memory pr) internal {
        vm.prank(caller);
        collection.mint{value: FEE}(to, p, d, "", pr);
    }

    function _withProofWord(uint256 index, uint256 value) internal view returns (bytes memory changed) {
        changed = bytes.concat(proof);
        assembly {
            mstore(add(add(changed, 32), mul(index, 32)), value)
        }
    }

    /*////////////////////////////// genuine //////////////////////////////*/

    function test_genuineProof_verifies() public view {
        vm.assertTrue(collection.verify(prompt, aigcData, proof), "genuine proof");
        vm.assertEq(collection.proofRecipient(proof), user, "recipient");
        uint256[] memory signals = collection.publicSignals(prompt, aigcData, user);
        vm.assertEq(signals.length, 4, "1 packed output + model + prompt + recipient");
        vm.assertEq(signals[1], uint256(ZkProofFixture.MODEL_HASH) >> 8, "model field");
        vm.assertEq(signals[2], uint256(keccak256(prompt)) >> 8, "prompt field");
        vm.assertEq(signals[3], uint256(uint160(user)), "recipient field");
    }

    function test_genuineProof_anyoneMints_andPaysTheFeeToTheToken() public {
        uint256 tokenBalance = address(token).balance;
        uint256 id = uint256(keccak256(prompt));
        vm.expectEmit(true, true, true, true, address(collection));
        emit AigcData(id, prompt, aigcData, proof);
        _mint(stranger, user, prompt, aigcData, proof);
        vm.assertEq(collection.ownerOf(id), user, "minted to the proof's recipient");
        vm.assertEq(collection.aigcDataHash(id), keccak256(aigcData), "data hash");
        vm.assertEq(collection.prompt(id), prompt, "prompt stored");
        vm.assertEq(collection.totalMinted(), 1, "count");
        vm.assertEq(address(token).balance, tokenBalance + FEE, "fee forwarded");
        vm.assertEq(address(collection).balance, 0, "nothing stays");
    }

    function test_verificationGas_isWithinTarget() public view {
        // Load the arguments from this test's storage first: only the call is measured.
        (bytes memory p, bytes memory d, bytes memory pr) = (prompt, aigcData, proof);
        uint256 before = gasleft();
        bool ok = collection.verify(p, d, pr);
        uint256 used = before - gasleft();
        vm.assertTrue(ok, "genuine");
        vm.assertLe(used, 350_000, "verification gas per mint");
    }

    /*////////////////////////////// rejected //////////////////////////////*/

    function test_rejects_oneOutputByteChanged() public {
        bytes memory changed = bytes.concat(aigcData);
        changed[changed.length - 1] = bytes1(uint8(changed[changed.length - 1]) ^ 1);
        vm.assertFalse(collection.verify(prompt, changed, proof), "last pixel");
        changed = bytes.concat(aigcData);
        changed[ZkProofFixture.aigcPrefix().length] = bytes1(uint8(changed[ZkProofFixture.aigcPrefix().length]) ^ 0x80);
        vm.assertFalse(collection.verify(prompt, changed, proof), "first pixel");
        vm.expectRevert(ZkAigcCollection.InvalidProof.selector);
        _mint(stranger, user, prompt, changed, proof);
    }

    function test_rejects_prefixOrLengthChanged() public view {
        bytes memory changed = bytes.concat(aigcData);
        changed[20] = bytes1(uint8(changed[20]) ^ 1);
        vm.assertFalse(collection.verify(prompt, changed, proof), "header byte");
        vm.assertFalse(collection.verify(prompt, bytes.concat(aigcData, hex"00"), proof), "one byte more");
        vm.assertFalse(collection.verify(prompt, hex"", proof), "empty");
    }

    function test_rejects_anotherPrompt() public {
        vm.assertFalse(collection.verify("a blue square", aigcData, proof), "other prompt");
        vm.expectRevert(ZkAigcCollection.InvalidProof.selector);
        _mint(stranger, user, "a blue square", aigcData, proof);
    }

    function test_rejects_anotherModel() public {
        ImoToken otherToken = ImoToken(
            payable(deployImoToken(
                    "O", "O", 1000 ether, holder, keccak256("another model"), "", 50, 1 days, 3, owner, new address[](0)
                ))
        );
        ZkAigcCollection other = _deploy(otherToken, address(verifier));
        vm.assertFalse(other.verify(prompt, aigcData, proof), "same verifier, another model hash");
        vm.prank(stranger);
        vm.expectRevert(ZkAigcCollection.InvalidProof.selector);
        other.mint{value: FEE}(user, prompt, aigcData, "", proof);
    }

    function test_rejects_replayToAnotherRecipient() public {
        // Front-running: the proof seen in the mempool, sent with the attacker as recipient ...
        vm.expectRevert(abi.encodeWithSelector(ZkAigcCollection.ProofRecipientMismatch.selector, stranger, user));
        _mint(stranger, stranger, prompt, aigcData, proof);
        // ... or with its recipient word rewritten: the verifier gets another public signal.
        bytes memory rebound = _withProofWord(0, uint256(uint160(stranger)));
        vm.assertEq(collection.proofRecipient(rebound), stranger, "rebound recipient");
        vm.assertFalse(collection.verify(prompt, aigcData, rebound), "rebound proof");
        vm.expectRevert(ZkAigcCollection.InvalidProof.selector);
        _mint(stranger, stranger, prompt, aigcData, rebound);
    }

    function test_rejects_malformedProofs_withoutReverting() public view {
        vm.assertFalse(
            collection.verify(prompt, aigcData, _withProofWord(0, uint256(uint160(user)) | (1 << 200))), "dirty"
        );
        vm.assertEq(collection.proofRecipient(_withProofWord(0, 1 << 200)), address(0), "no recipient");
        vm.assertFalse(collection.verify(prompt, aigcData, bytes.concat(proof, hex"00")), "longer");
        vm.assertFalse(collection.verify(prompt, aigcData, hex""), "empty");
        vm.assertFalse(collection.verify(prompt, aigcData, _withProofWord(24, 12345)), "an evaluation changed");
        vm.assertFalse(collection.verify(prompt, aigcData, _withProofWord(1, 1)), "a point not on the curve");
    }

    function test_rejects_twice() public {
        _mint(stranger, user, prompt, aigcData, proof);
        vm.expectRevert(
            abi.encodeWithSelector(ZkAigcCollection.PromptAlreadyMinted.selector, uint256(keccak256(prompt)))
        );
        _mint(stranger, user, prompt, aigcData, proof);
    }

    /*////////////////////////////// reserve, then add data //////////////////////////////*/

    function test_reserveThenAddAigcData() public {
        vm.expectRevert(abi.encodeWithSelector(ZkAigcCollection.NotOwner.selector, stranger));
        _mint(stranger, user, prompt, "", "");
        vm.deal(owner, 1 ether);
        _mint(owner, user, prompt, "", "");
        uint256 id = uint256(keccak256(prompt));
        vm.assertEq(collection.aigcDataHash(id), bytes32(0), "no data yet");
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721InsufficientApproval.selector, stranger, id));
        collection.addAigcData(id, prompt, aigcData, proof);
        vm.prank(user);
        collection.addAigcData(id, prompt, aigcData, proof);
        vm.assertEq(collection.aigcDataHash(id), keccak256(aigcData), "data added");
        vm.prank(user);
        vm.expectRevert(abi.encodeWithSelector(ZkAigcCollection.AigcDataAlreadyAdded.selector, id));
        collection.addAigcData(id, prompt, aigcData, proof);
    }

    function test_addAigcData_needsAProofBoundToTheHolder() public {
        vm.deal(owner, 1 ether);
        _mint(owner, stranger, prompt, "", "");
        uint256 id = uint256(keccak256(prompt));
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(ZkAigcCollection.ProofRecipientMismatch.selector, stranger, user));
        collection.addAigcData(id, prompt, aigcData, proof);
    }

    /*////////////////////////////// deployment //////////////////////////////*/

    function test_constructor_checks() public {
        ImoToken otherToken = ImoToken(
            payable(deployImoToken(
                    "O", "O", 1000 ether, holder, keccak256("another model"), "", 50, 1 days, 3, owner, new address[](0)
                ))
        );
        vm.expectRevert(
            abi.encodeWithSelector(
                ZkAigcCollection.ModelHashMismatch.selector, ZkProofFixture.MODEL_HASH, keccak256("another model")
            )
        );
        new ZkAigcCollection(
            "ZK",
            "ZK",
            ZkProofFixture.MODEL_HASH,
            payable(address(otherToken)),
            500,
            FEE,
            address(verifier),
            "",
            16,
            owner
        );
        vm.expectRevert(abi.encodeWithSelector(ZkAigcCollection.VerifierWithoutCode.selector, address(0xDEAD)));
        new ZkAigcCollection(
            "ZK", "ZK", ZkProofFixture.MODEL_HASH, payable(address(token)), 500, FEE, address(0xDEAD), "", 16, owner
        );
        vm.expectRevert(abi.encodeWithSelector(ZkAigcCollection.InvalidPayloadLength.selector, 0));
        new ZkAigcCollection(
            "ZK", "ZK", ZkProofFixture.MODEL_HASH, payable(address(token)), 500, FEE, address(verifier), "", 0, owner
        );
    }

    function test_supportsInterface() public view {
        vm.assertTrue(collection.supportsInterface(type(IERC7007).interfaceId), "ERC-7007");
        vm.assertTrue(collection.supportsInterface(0x702c55a6), "ERC-7007 id");
        vm.assertTrue(collection.supportsInterface(type(IERC7007Enumerable).interfaceId), "enumerable");
        vm.assertTrue(collection.supportsInterface(0x2a55205a), "ERC-2981");
    }
}
