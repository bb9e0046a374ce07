// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AigcCollection} from "../../contracts/AigcCollection.sol";
import {Erc1271Wallet} from "../../contracts/test-helpers/Erc1271Wallet.sol";
import {IERC7007} from "../../contracts/interfaces/IERC7007.sol";
import {IERC7007Enumerable} from "../../contracts/interfaces/IERC7007Enumerable.sol";
import {IERC721Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {CollectionFixture} from "./utils/CollectionFixture.sol";

contract AigcCollectionTest is CollectionFixture {
    // docs/formats.md section 5 (also src/mint/mint.unit.test.ts).
    bytes32 internal constant GOLDEN_MINT_DIGEST = 0xa8a7c2ad72f6e73466bd5ebe3d5aad9b3ffdee8b3d53a84802d86631469192b8;
    bytes32 internal constant GOLDEN_FULFILMENT_DIGEST =
        0x7de16d6f435d2f9a1ccbd56d5d7a3863c2c72fac3e0e126a287a4efe7c7a5219;

    event AigcData(uint256 indexed tokenId, bytes indexed prompt, bytes indexed aigcData, bytes proof);
    event AttesterAdded(address indexed attester);
    event AttesterRemoved(address indexed attester);
    event MintFeeChanged(uint256 oldFee, uint256 newFee);
    event RevenueReceived(address indexed from, uint256 amount);

    /*////////////////////////////// attestation //////////////////////////////*/

    function test_verify_validProof() public view {
        vm.assertTrue(collection.verify(prompt, aigcData, _validProof()), "valid proof");
        bytes32 digest = _digest(MODEL_HASH, prompt, aigcData, commitment, block.chainid, address(collection));
        vm.assertEq(collection.mintDigest(keccak256(prompt), keccak256(aigcData), commitment, user), digest, "digest");
        vm.assertEq(collection.proofRecipient(_validProof()), user, "recipient");
        (bytes32 kind, uint256 requestId) = collection.proofKind(_validProof());
        vm.assertEq(kind, MINT_KIND, "kind");
        vm.assertEq(requestId, 0, "no request");
    }

    function test_verify_rejectsWrongModelHash() public view {
        bytes memory proof = _proof(ATTESTER_KEY, keccak256("other model"), block.chainid, address(collection));
        vm.assertFalse(collection.verify(prompt, aigcData, proof), "wrong model hash");
    }

    function test_verify_rejectsWrongSigner() public view {
        bytes memory proof = _proof(OTHER_KEY, MODEL_HASH, block.chainid, address(collection));
        vm.assertFalse(collection.verify(prompt, aigcData, proof), "wrong signer");
    }

    function test_verify_rejectsOtherChain() public {
        bytes memory proof = _proof(ATTESTER_KEY, MODEL_HASH, block.chainid + 1, address(collection));
        vm.assertFalse(collection.verify(prompt, aigcData, proof), "signed for another chain");
        // and a proof made on this chain stops verifying if the chain id changes (fork replay)
        bytes memory here = _validProof();
        vm.chainId(block.chainid + 7);
        vm.assertFalse(collection.verify(prompt, aigcData, here), "replayed on a fork");
    }

    function test_verify_rejectsOtherCollection() public {
        AigcCollection other = _deployCollection(MODEL_HASH, _one(attester));
        bytes memory proof = _proof(ATTESTER_KEY, MODEL_HASH, block.chainid, address(other));
        vm.assertTrue(other.verify(prompt, aigcData, proof), "valid for the other collection");
        vm.assertFalse(collection.verify(prompt, aigcData, proof), "not for this one");
    }

    function test_verify_rejectsHighS() public view {
        bytes32 digest = _digest(MODEL_HASH, prompt, aigcData, commitment, block.chainid, address(collection));
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(ATTESTER_KEY, digest);
        bytes32 highS = bytes32(SECP256K1_N - uint256(s));
        uint8 flippedV = v == 27 ? 28 : 27;
        // The malleable twin recovers the same signer with ecrecover ...
        vm.assertEq(ecrecover(digest, flippedV, r, highS), attester, "twin recovers the attester");
        // ... but is rejected.
        bytes memory proof = _mintProofBytes(commitment, user, abi.encodePacked(r, highS, flippedV));
        vm.assertFalse(collection.verify(prompt, aigcData, proof), "high-s accepted");
    }

    function test_verify_rejectsRemovedAttester() public {
        bytes memory proof = _validProof();
        vm.prank(owner);
        collection.removeAttester(attester);
        vm.assertFalse(collection.verify(prompt, aigcData, proof), "removed attester");
        vm.expectRevert(AigcCollection.InvalidProof.selector);
        _mint(proof);
    }

    function test_verify_rejectsTamperedInputs() public view {
        bytes memory proof = _validProof();
        vm.assertFalse(collection.verify("another prompt", aigcData, proof), "prompt");
        vm.assertFalse(collection.verify(prompt, hex"00", proof), "aigcData");
        bytes memory sig =
            _sig(ATTESTER_KEY, _digest(MODEL_HASH, prompt, aigcData, commitment, block.chainid, address(collection)));
        vm.assertFalse(collection.verify(prompt, aigcData, _mintProofBytes(keccak256("x"), user, sig)), "commitment");
    }

    function test_verify_malformedProofsReturnFalse() public view {
        bytes memory proof = _validProof();
        vm.assertFalse(collection.verify(prompt, aigcData, ""), "empty");
        vm.assertFalse(collection.verify(prompt, aigcData, hex"1234"), "short");
        vm.assertFalse(collection.verify(prompt, aigcData, abi.encodePacked(proof, bytes32(0))), "trailing word");
        bytes memory badOffset = proof;
        badOffset[127] = 0xa0; // offset 0xa0 instead of 0x80
        vm.assertFalse(collection.verify(prompt, aigcData, badOffset), "non-canonical offset");
        bytes memory hugeLength = _validProof();
        hugeLength[128] = 0xff; // length far beyond the data
        vm.assertFalse(collection.verify(prompt, aigcData, hugeLength), "length overflow");
        // A 64-byte signature (ERC-2098 compact) is neither ECDSA-65 nor a canonical wallet encoding.
        bytes memory sig =
            _sig(ATTESTER_KEY, _digest(MODEL_HASH, prompt, aigcData, commitment, block.chainid, address(collection)));
        bytes memory sig64 = new bytes(64);
        for (uint256 i = 0; i < 64; ++i) {
            sig64[i] = sig[i];
        }
        vm.assertFalse(collection.verify(prompt, aigcData, _mintProofBytes(commitment, user, sig64)), "64-byte sig");
    }

    function test_verify_erc1271Attester() public {
        uint256 walletOwnerKey = 0x5AFE;
        Erc1271Wallet wallet = new Erc1271Wallet(vm.addr(walletOwnerKey));
        bytes32 digest = _digest(MODEL_HASH, prompt, aigcData, commitment, block.chainid, address(collection));
        bytes memory proof =
            _mintProofBytes(commitment, user, abi.encode(address(wallet), _sig(walletOwnerKey, digest)));
        vm.assertFalse(collection.verify(prompt, aigcData, proof), "wallet not yet an attester");
        vm.prank(owner);
        collection.addAttester(address(wallet));
        vm.assertTrue(collection.verify(prompt, aigcData, proof), "ERC-1271 attester");
        // wrong inner signature
        bytes memory bad = _mintProofBytes(commitment, user, abi.encode(address(wallet), _sig(OTHER_KEY, digest)));
        vm.assertFalse(collection.verify(prompt, aigcData, bad), "wallet rejects the signature");
        // an EOA attester named as a contract signer is not accepted through ERC-1271
        bytes memory eoa = _mintProofBytes(commitment, user, abi.encode(attester, _sig(ATTESTER_KEY, digest)));
        vm.assertFalse(collection.verify(prompt, aigcData, eoa), "EOA via 1271 path");
        // dirty upper bits in the signer word
        bytes memory dirty = _mintProofBytes(
            commitment, user, abi.encode(uint256(uint160(address(wallet))) | (1 << 200), _sig(walletOwnerKey, digest))
        );
        vm.assertFalse(collection.verify(prompt, aigcData, dirty), "dirty signer word");
        uint256 id = _mint(proof);
        vm.assertEq(collection.ownerOf(id), user, "minted with a wallet attestation");
    }

    /// The golden vectors of docs/formats.md section 5 (also checked by src/mint/mint.unit.test.ts), computed
    /// here from the EIP-712 formula independently of the TypeScript.
    function test_goldenDigest() public pure {
        bytes32 digest = _digestTo(
            keccak256("model"),
            "a red spiral",
            "data",
            keccak256("commitment"),
            0x70997970C51812dc3A010C7d01b50e0d17dc79C8,
            31337,
            0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512
        );
        vm.assertEq(digest, GOLDEN_MINT_DIGEST, "golden AigcMint digest");
        bytes32 fulfilment = _fulfilmentDigestTo(
            7,
            keccak256("model"),
            "a red spiral",
            "data",
            keccak256("commitment"),
            0x70997970C51812dc3A010C7d01b50e0d17dc79C8,
            31337,
            0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512
        );
        vm.assertEq(fulfilment, GOLDEN_FULFILMENT_DIGEST, "golden AigcFulfilment digest (request 7)");
    }

    /*////////////////////////////// proof kinds //////////////////////////////*/

    /// Issue 21 item 4: each kind is valid only where its name says. A fulfilment proof never mints directly
    /// or adds data; a mint proof never fulfils; `verify` accepts both (a fulfilled token's event holds one).
    function test_kinds_fulfilmentProofIsNotAMintProof() public {
        bytes memory fulfilment = _fulfilmentProof(1);
        vm.assertTrue(collection.verify(prompt, aigcData, fulfilment), "verify accepts a fulfilment proof");
        (bytes32 kind, uint256 requestId) = collection.proofKind(fulfilment);
        vm.assertEq(kind, FULFILMENT_KIND, "its kind");
        vm.assertEq(requestId, 1, "its request");
        vm.assertEq(collection.proofRecipient(fulfilment), user, "its recipient");
        vm.expectRevert(abi.encodeWithSelector(AigcCollection.ProofKindMismatch.selector, MINT_KIND, FULFILMENT_KIND));
        _mint(fulfilment);
        vm.deal(attester, FEE);
        vm.prank(attester);
        uint256 id = collection.mint{value: FEE}(user, prompt, "", "", "");
        vm.expectRevert(abi.encodeWithSelector(AigcCollection.ProofKindMismatch.selector, MINT_KIND, FULFILMENT_KIND));
        vm.prank(user);
        collection.addAigcData(id, prompt, aigcData, fulfilment);
    }

    /// The kind word selects the struct that was signed: relabelling a proof as another kind breaks it, and a
    /// kind the collection does not know (here a would-be HTTP API response attestation bound to a payer,
    /// signed by the attester over the same hashes) never verifies.
    function test_kinds_relabelledOrUnknownKindsDoNotVerify() public view {
        bytes memory sig =
            _sig(ATTESTER_KEY, _digest(MODEL_HASH, prompt, aigcData, commitment, block.chainid, address(collection)));
        vm.assertTrue(collection.verify(prompt, aigcData, _mintProofBytes(commitment, user, sig)), "as signed");
        vm.assertFalse(
            collection.verify(prompt, aigcData, _fulfilmentProofBytes(0, commitment, user, sig)), "relabelled"
        );
        bytes32 apiKind = keccak256(
            "AigcApiResponse(bytes32 modelHash,bytes32 promptHash,bytes32 aigcDataHash,bytes32 commitment,address payer)"
        );
        bytes32 apiDigest = keccak256(
            abi.encodePacked(
                "\x19\x01",
                _domain(block.chainid, address(collection)),
                keccak256(abi.encode(apiKind, MODEL_HASH, keccak256(prompt), keccak256(aigcData), commitment, user))
            )
        );
        bytes memory apiProof = abi.encode(apiKind, commitment, user, _sig(ATTESTER_KEY, apiDigest));
        vm.assertFalse(collection.verify(prompt, aigcData, apiProof), "unknown kind");
        vm.assertEq(collection.proofRecipient(apiProof), address(0), "not decoded");
        (bytes32 kind,) = collection.proofKind(apiProof);
        vm.assertEq(kind, bytes32(0), "no kind");
    }

    /*////////////////////////////// canonical proofs //////////////////////////////*/

    /// Before v2, the 31 padding bytes after the 65-byte signature were not checked: each of these byte
    /// strings verified for one attestation. Now only the canonical encoding does.
    function test_verify_rejectsNonCanonicalPadding() public {
        bytes memory proof = _validProof();
        vm.assertEq(proof.length, 160 + 96, "abi.encode(bytes32, bytes32, address, 65 bytes)");
        for (uint256 i = 160 + 65; i < proof.length; ++i) {
            bytes memory padded = _validProof();
            padded[i] = 0x01;
            vm.assertFalse(collection.verify(prompt, aigcData, padded), "dirty padding byte");
        }
        bytes memory last = _validProof();
        last[last.length - 1] = 0xff;
        vm.expectRevert(AigcCollection.InvalidProof.selector);
        _mint(last);
        vm.assertTrue(collection.verify(prompt, aigcData, proof), "the canonical proof still verifies");
    }

    function test_verify_rejectsTrailingBytesAndDirtyRecipientWord() public {
        bytes memory proof = _validProof();
        vm.assertFalse(collection.verify(prompt, aigcData, abi.encodePacked(proof, bytes1(0))), "one trailing byte");
        vm.assertFalse(collection.verify(prompt, aigcData, abi.encodePacked(proof, bytes32(0))), "trailing word");
        bytes memory dirty = _validProof();
        dirty[64] = 0x01; // upper byte of the `to` word
        vm.assertFalse(collection.verify(prompt, aigcData, dirty), "dirty recipient word");
        vm.assertEq(collection.proofRecipient(dirty), address(0), "no recipient for a malformed proof");
        vm.expectRevert(AigcCollection.InvalidProof.selector);
        _mint(abi.encodePacked(proof, bytes32(0)));
    }

    function test_verify_rejectsNonCanonicalErc1271Padding() public {
        uint256 walletOwnerKey = 0x5AFE;
        Erc1271Wallet wallet = new Erc1271Wallet(vm.addr(walletOwnerKey));
        vm.prank(owner);
        collection.addAttester(address(wallet));
        bytes32 digest = _digest(MODEL_HASH, prompt, aigcData, commitment, block.chainid, address(collection));
        bytes memory proof =
            _mintProofBytes(commitment, user, abi.encode(address(wallet), _sig(walletOwnerKey, digest)));
        vm.assertTrue(collection.verify(prompt, aigcData, proof), "canonical wallet proof");
        bytes memory padded =
            _mintProofBytes(commitment, user, abi.encode(address(wallet), _sig(walletOwnerKey, digest)));
        padded[padded.length - 1] = 0x01; // inner padding after the wallet's 65-byte signature
        vm.assertFalse(collection.verify(prompt, aigcData, padded), "dirty inner padding");
        bytes memory inner = abi.encodePacked(abi.encode(address(wallet), _sig(walletOwnerKey, digest)), bytes32(0));
        vm.assertFalse(
            collection.verify(prompt, aigcData, _mintProofBytes(commitment, user, inner)), "inner trailing word"
        );
    }

    /*////////////////////////////// recipient binding //////////////////////////////*/

    /// A proof copied from a pending mint (here: signed for `user`) cannot mint the token to anyone else.
    function test_mint_copiedProofToAnotherAddressReverts() public {
        address thief = address(0x7E1F);
        vm.deal(thief, 1 ether);
        bytes memory proof = _validProof();
        vm.assertTrue(collection.verify(prompt, aigcData, proof), "the proof is valid (for user)");
        vm.expectRevert(abi.encodeWithSelector(AigcCollection.ProofRecipientMismatch.selector, thief, user));
        vm.prank(thief);
        collection.mint{value: FEE}(thief, prompt, aigcData, "", proof);
        // Rewriting `to` inside the proof breaks the signature.
        bytes memory rewritten = _mintProofBytes(
            commitment,
            thief,
            _sig(ATTESTER_KEY, _digest(MODEL_HASH, prompt, aigcData, commitment, block.chainid, address(collection)))
        );
        vm.expectRevert(AigcCollection.InvalidProof.selector);
        vm.prank(thief);
        collection.mint{value: FEE}(thief, prompt, aigcData, "", rewritten);
        vm.assertEq(_mint(proof), uint256(keccak256(prompt)), "the intended recipient still mints");
    }

    function test_addAigcData_proofMustNameTheHolder() public {
        vm.deal(attester, FEE);
        vm.prank(attester);
        uint256 id = collection.mint{value: FEE}(user, prompt, "", "", "");
        bytes memory forOther = _proofTo(address(0xBEEF));
        vm.expectRevert(abi.encodeWithSelector(AigcCollection.ProofRecipientMismatch.selector, user, address(0xBEEF)));
        vm.prank(user);
        collection.addAigcData(id, prompt, aigcData, forOther);
    }

    /*////////////////////////////// mint //////////////////////////////*/

    function test_mint_mintsVerifiesForwardsFeeAndEmits() public {
        bytes memory proof = _validProof();
        uint256 expectedId = uint256(keccak256(prompt));
        vm.expectEmit(true, true, true, true, address(collection));
        emit AigcData(expectedId, prompt, aigcData, proof);
        vm.expectEmit(true, false, false, true, address(token));
        emit RevenueReceived(address(collection), FEE);
        uint256 id = _mint(proof);
        vm.assertEq(id, expectedId, "token id = keccak(prompt)");
        vm.assertEq(collection.tokenId(prompt), id, "tokenId(prompt)");
        vm.assertEq(collection.prompt(id), prompt, "prompt(tokenId)");
        vm.assertEq(collection.ownerOf(id), user, "owner");
        vm.assertEq(collection.tokenURI(id), "ipfs://out", "uri");
        vm.assertEq(collection.aigcDataHash(id), keccak256(aigcData), "data hash");
        vm.assertEq(collection.totalMinted(), 1, "count");
        vm.assertEq(token.pendingRevenue(), FEE, "fee became revenue");
        vm.assertEq(address(collection).balance, 0, "nothing kept");
    }

    function test_mint_rejectsDuplicatePrompt() public {
        bytes memory proof = _validProof();
        uint256 id = _mint(proof);
        vm.expectRevert(abi.encodeWithSelector(AigcCollection.PromptAlreadyMinted.selector, id));
        _mint(proof);
    }

    function test_mint_rejectsWrongFee() public {
        bytes memory proof = _validProof();
        vm.expectRevert(abi.encodeWithSelector(AigcCollection.WrongMintFee.selector, FEE, FEE - 1));
        vm.prank(user);
        collection.mint{value: FEE - 1}(user, prompt, aigcData, "", proof);
    }

    function test_mint_rejectsInvalidProofAndEmptyPrompt() public {
        vm.expectRevert(AigcCollection.InvalidProof.selector);
        _mint(_proof(OTHER_KEY, MODEL_HASH, block.chainid, address(collection)));
        vm.expectRevert(AigcCollection.InvalidProof.selector);
        vm.prank(user);
        collection.mint{value: FEE}(user, prompt, aigcData, "", "");
        vm.expectRevert(AigcCollection.EmptyPrompt.selector);
        vm.prank(user);
        collection.mint{value: FEE}(user, "", aigcData, "", "");
    }

    function test_mint_feeForwardFailure() public {
        // The token refuses revenue that would take its balance above MAX_BALANCE (it can no longer refuse
        // revenue for an empty supply: receive() must fit a 2,300-gas stipend, see ImoToken's header).
        vm.deal(address(token), token.MAX_BALANCE());
        bytes memory proof = _validProof();
        vm.expectRevert(AigcCollection.FeeForwardFailed.selector);
        _mint(proof);
    }

    function test_mint_toNonReceiverContractReverts() public {
        bytes memory proof = _proofTo(address(token));
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721InvalidReceiver.selector, address(token)));
        vm.prank(user);
        collection.mint{value: FEE}(address(token), prompt, aigcData, "", proof);
    }

    /*////////////////////////////// addAigcData //////////////////////////////*/

    function test_mint_datalessNeedsAttester() public {
        vm.deal(attester, FEE);
        vm.expectRevert(abi.encodeWithSelector(AigcCollection.NotAttester.selector, user));
        vm.prank(user);
        collection.mint{value: FEE}(user, prompt, "", "", "");
        vm.prank(attester);
        uint256 id = collection.mint{value: FEE}(user, prompt, "", "", "");
        vm.assertEq(collection.ownerOf(id), user, "attester reserved the prompt for user");
    }

    function test_addAigcData_afterDatalessMint() public {
        vm.deal(attester, FEE);
        vm.prank(attester);
        uint256 id = collection.mint{value: FEE}(user, prompt, "", "", "");
        vm.assertEq(collection.aigcDataHash(id), bytes32(0), "no data yet");
        vm.assertEq(collection.tokenURI(id), "", "no uri");
        bytes memory proof = _validProof();
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721InsufficientApproval.selector, address(this), id));
        collection.addAigcData(id, prompt, aigcData, proof);
        vm.expectRevert(AigcCollection.InvalidProof.selector);
        vm.prank(user);
        collection.addAigcData(id, prompt, hex"00", proof);
        vm.prank(user);
        collection.approve(address(this), id);
        vm.expectEmit(true, true, true, true, address(collection));
        emit AigcData(id, prompt, aigcData, proof);
        collection.addAigcData(id, prompt, aigcData, proof); // approved operator
        vm.assertEq(collection.aigcDataHash(id), keccak256(aigcData), "data hash");
        vm.expectRevert(abi.encodeWithSelector(AigcCollection.AigcDataAlreadyAdded.selector, id));
        vm.prank(user);
        collection.addAigcData(id, prompt, aigcData, proof);
    }

    function test_addAigcData_rejectsMismatchAndNonexistent() public {
        uint256 id = uint256(keccak256(prompt));
        bytes memory proof = _validProof();
        vm.expectRevert(abi.encodeWithSelector(AigcCollection.PromptMismatch.selector, id + 1, id));
        collection.addAigcData(id + 1, prompt, aigcData, proof);
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721NonexistentToken.selector, id));
        collection.addAigcData(id, prompt, aigcData, proof);
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721NonexistentToken.selector, id));
        collection.prompt(id);
    }

    function test_addAigcData_rejectsTokenMintedWithData() public {
        uint256 id = _mint(_validProof());
        bytes memory proof = _validProof();
        vm.expectRevert(abi.encodeWithSelector(AigcCollection.AigcDataAlreadyAdded.selector, id));
        vm.prank(user);
        collection.addAigcData(id, prompt, aigcData, proof);
    }

    /*////////////////////////////// admin //////////////////////////////*/

    function test_attesters_management() public {
        address a2 = address(0xA2);
        vm.expectEmit(true, false, false, false, address(collection));
        emit AttesterAdded(a2);
        vm.prank(owner);
        collection.addAttester(a2);
        vm.assertTrue(collection.isAttester(a2), "added");
        vm.assertEq(collection.attesters().length, 2, "listed");
        vm.expectRevert(abi.encodeWithSelector(AigcCollection.AlreadyAttester.selector, a2));
        vm.prank(owner);
        collection.addAttester(a2);
        vm.expectRevert(AigcCollection.ZeroAttester.selector);
        vm.prank(owner);
        collection.addAttester(address(0));
        vm.expectEmit(true, false, false, false, address(collection));
        emit AttesterRemoved(a2);
        vm.prank(owner);
        collection.removeAttester(a2);
        vm.assertFalse(collection.isAttester(a2), "removed");
        vm.expectRevert(abi.encodeWithSelector(AigcCollection.NotAttester.selector, a2));
        vm.prank(owner);
        collection.removeAttester(a2);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, user));
        vm.prank(user);
        collection.addAttester(a2);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, user));
        vm.prank(user);
        collection.removeAttester(attester);
    }

    function test_setMintFee() public {
        vm.expectEmit(false, false, false, true, address(collection));
        emit MintFeeChanged(FEE, 0);
        vm.prank(owner);
        collection.setMintFee(0);
        vm.assertEq(collection.mintFee(), 0, "fee");
        vm.prank(user);
        collection.mint(user, prompt, aigcData, "", _validProof()); // free mint, nothing forwarded
        vm.assertEq(token.pendingRevenue(), 0, "no fee");
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, user));
        vm.prank(user);
        collection.setMintFee(1);
    }

    function test_constructor() public {
        vm.assertEq(collection.modelHash(), MODEL_HASH, "model hash");
        vm.assertEq(collection.imoToken(), address(token), "token");
        vm.assertEq(collection.mintFee(), FEE, "fee");
        vm.assertEq(collection.owner(), owner, "owner");
        vm.assertTrue(collection.isAttester(attester), "attester");
        (, string memory name, string memory version, uint256 chainId, address verifier,,) = collection.eip712Domain();
        vm.assertEq(name, "imo", "domain name");
        vm.assertEq(version, "3", "domain version");
        vm.assertEq(chainId, block.chainid, "chain");
        vm.assertEq(verifier, address(collection), "verifier");
        vm.assertEq(collection.MINT_TYPEHASH(), MINT_KIND, "AigcMint type hash");
        vm.assertEq(collection.FULFILMENT_TYPEHASH(), FULFILMENT_KIND, "AigcFulfilment type hash");
        vm.expectRevert(abi.encodeWithSelector(AigcCollection.ModelHashMismatch.selector, keccak256("x"), MODEL_HASH));
        _deployCollection(keccak256("x"), _one(attester));
        address[] memory dup = new address[](2);
        dup[0] = attester;
        dup[1] = attester;
        vm.expectRevert(abi.encodeWithSelector(AigcCollection.AlreadyAttester.selector, attester));
        _deployCollection(MODEL_HASH, dup);
    }

    function test_royaltiesGoToToken() public {
        uint256 id = _mint(_validProof());
        (address receiver, uint256 amount) = collection.royaltyInfo(id, 1 ether);
        vm.assertEq(receiver, address(token), "receiver");
        vm.assertEq(amount, 0.05 ether, "5%");
        vm.prank(user);
        (bool ok,) = receiver.call{value: amount}("");
        vm.assertTrue(ok, "royalty accepted");
        vm.assertEq(token.pendingRevenue(), FEE + amount, "royalty is revenue");
    }

    function test_supportsInterface() public view {
        vm.assertTrue(collection.supportsInterface(0x702c55a6), "ERC-7007");
        vm.assertTrue(collection.supportsInterface(type(IERC7007).interfaceId), "ERC-7007 computed");
        vm.assertTrue(collection.supportsInterface(0xfa1a557a), "ERC-7007 Enumerable");
        vm.assertTrue(collection.supportsInterface(type(IERC7007Enumerable).interfaceId), "enumerable computed");
        vm.assertTrue(collection.supportsInterface(0x80ac58cd), "ERC-721");
        vm.assertTrue(collection.supportsInterface(0x5b5e139f), "ERC-721 metadata");
        vm.assertTrue(collection.supportsInterface(0x2a55205a), "ERC-2981");
        vm.assertTrue(collection.supportsInterface(0x49064906), "ERC-4906");
        vm.assertTrue(collection.supportsInterface(0x01ffc9a7), "ERC-165");
        vm.assertFalse(collection.supportsInterface(0xffffffff), "invalid");
    }
}
