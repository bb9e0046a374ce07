// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {ERC721URIStorage} from "@openzeppelin/contracts/token/ERC721/extensions/ERC721URIStorage.sol";
import {ERC2981} from "@openzeppelin/contracts/token/common/ERC2981.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";
import {IERC7007} from "../interfaces/IERC7007.sol";
import {IERC7007Enumerable} from "../interfaces/IERC7007Enumerable.sol";
import {IModelBound} from "../AigcCollection.sol";

/**
 * @title ZkAigcCollection: ERC-7007 content whose proof the chain itself checks (a PLONK zk-SNARK)
 * @notice Invariant: every token that has AIGC data had it accepted by the model's PLONK verifier with the public
 * signals this contract computed itself from the token's prompt, that aigcData, this collection's immutable model
 * hash and the address the token was minted to (or, for `addAigcData`, its holder). No attester is trusted: anyone
 * holding a valid proof may mint, and a proof is only valid for its own model, prompt, output and recipient.
 * The mint fee never stays: `mint` forwards `msg.value` to the IMO token in the same call (or reverts).
 *
 * Proof and signals (docs/formats.md section 11): `proof = abi.encode(address to, uint256[24] plonkProof)`, exactly
 * 800 bytes with the address word's upper 12 bytes zero. `aigcData` is the model's artifact (a BMP image): the
 * fixed `aigcPrefix` (headers, palette) then `payloadLength` output bytes. The verifier is called with
 * `verifyProof(uint256[24], uint256[K + 3])` and the public signals
 *   [ payload packed 31 bytes per field element (big-endian; the last holds the rest), K of them,
 *     uint256(modelHash) >> 8, uint256(keccak256(prompt)) >> 8, uint160(to) ]
 * which the model's circuit (compiled by `imo zk compile`) constrains: the first K to its output bytes on the
 * latent derived from the prompt field, the model field to the hash of the model it was compiled from.
 *
 * Tokens: `mint` with data verifies the proof (its `to` must be the recipient: a proof copied from the mempool
 * cannot mint to anyone else) and emits {AigcData}; `mint` with empty `aigcData` and `proof` only reserves the
 * prompt (owner only, so nobody can front-run a genuine mint by reserving its prompt), and its holder (or an
 * approved operator) adds the data later with `addAigcData` (the proof's `to` must be the holder). ERC-2981
 * royalties name the IMO token.
 *
 * Storage layout (after OpenZeppelin's ERC721, ERC721URIStorage, ERC2981, Ownable): `mintFee`, `totalMinted`,
 * `_prompts[tokenId]`, `aigcDataHash[tokenId]` (keccak256 of the accepted aigcData, 0 while none).
 */
contract ZkAigcCollection is ERC721URIStorage, IERC7007Enumerable, ERC2981, Ownable, ReentrancyGuardTransient {
    /*//////////////////////////////////////////////////////////////
                                 ERRORS
    //////////////////////////////////////////////////////////////*/

    /// @notice The proof does not verify (malformed, wrong aigcData layout, or rejected by the verifier).
    error InvalidProof();
    /// @notice The proof is bound to `attested`, the recipient is `recipient`.
    error ProofRecipientMismatch(address recipient, address attested);
    /// @notice The prompt was minted already, as `tokenId`.
    error PromptAlreadyMinted(uint256 tokenId);
    /// @notice `sent` wei were sent, the mint fee is `expected`.
    error WrongMintFee(uint256 expected, uint256 sent);
    /// @notice Only the owner may reserve a prompt without data; `account` is not the owner.
    error NotOwner(address account);
    /// @notice Forwarding the mint fee to the IMO token failed.
    error FeeForwardFailed();
    /// @notice The prompt is empty.
    error EmptyPrompt();
    /// @notice `tokenId` is not keccak256 of the prompt, which gives `promptTokenId`.
    error PromptMismatch(uint256 tokenId, uint256 promptTokenId);
    /// @notice Token `tokenId` has AIGC data already.
    error AigcDataAlreadyAdded(uint256 tokenId);
    /// @notice The IMO token's model hash `actual` differs from the collection's `expected`.
    error ModelHashMismatch(bytes32 expected, bytes32 actual);
    /// @notice The verifier `verifier` has no code.
    error VerifierWithoutCode(address verifier);
    /// @notice The payload length `length` is zero or longer than {MAX_PAYLOAD_BYTES}.
    error InvalidPayloadLength(uint256 length);

    /*//////////////////////////////////////////////////////////////
                                 EVENTS
    //////////////////////////////////////////////////////////////*/

    /// @notice The mint fee changed from `oldFee` to `newFee` wei.
    event MintFeeChanged(uint256 oldFee, uint256 newFee);

    /*//////////////////////////////////////////////////////////////
                                 STORAGE
    //////////////////////////////////////////////////////////////*/

    /// @notice Wei that `mint` requires, forwarded to the IMO token.
    uint256 public mintFee;
    /// @notice Number of tokens minted so far (no token is ever burned).
    uint256 public totalMinted;
    mapping(uint256 tokenId => bytes) private _prompts;
    /// @notice keccak256 of the AIGC data accepted for `tokenId`; zero while it has none.
    mapping(uint256 tokenId => bytes32) public aigcDataHash;

    /*//////////////////////////////////////////////////////////////
                                CONSTANTS
    //////////////////////////////////////////////////////////////*/

    /// @notice Bytes of a proof: the recipient word and the 24 words of a snarkjs PLONK proof.
    uint256 public constant PROOF_BYTES = 25 * 32;
    /// @notice Output bytes packed into one public field element (31 bytes stay below the bn128 scalar field).
    uint256 public constant BYTES_PER_FIELD = 31;
    /// @notice Longest payload accepted (256 public output field elements).
    uint256 public constant MAX_PAYLOAD_BYTES = 256 * BYTES_PER_FIELD;

    /// @notice The model whose outputs this collection holds (imo-model-v1 hash of the quantized zk model).
    bytes32 public immutable modelHash;
    /// @notice The ERC-7641 token that receives mint fees and royalties.
    address payable public immutable imoToken;
    /// @notice The model's PLONK verifier (snarkjs-generated; its constants are the model's verification key).
    address public immutable verifier;
    /// @notice keccak256 of the fixed bytes every aigcData starts with, and their length.
    bytes32 public immutable aigcPrefixHash;
    uint256 public immutable aigcPrefixLength;
    /// @notice Output bytes after the prefix; every aigcData is exactly `aigcPrefixLength + payloadLength` bytes.
    uint256 public immutable payloadLength;
    /// @dev Selector of `verifyProof(uint256[24],uint256[N])` for this model's N public signals.
    bytes4 private immutable _verifySelector;
    /// @dev Number of packed output field elements (K).
    uint256 private immutable _outputFields;

    /*//////////////////////////////////////////////////////////////
                               CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    /**
     * @param name_ ERC-721 name.
     * @param symbol_ ERC-721 symbol.
     * @param modelHash_ Must equal `imoToken_.modelHash()` ({ModelHashMismatch}).
     * @param imoToken_ Receives mint fees and royalties.
     * @param royaltyBps_ ERC-2981 royalty in basis points (<= 10000).
     * @param mintFee_ Wei required by `mint`.
     * @param verifier_ The model's PLONK verifier ({VerifierWithoutCode} when it has no code).
     * @param aigcPrefix_ The fixed bytes every aigcData starts with (the image headers).
     * @param payloadLength_ The output bytes after them (1 to {MAX_PAYLOAD_BYTES}, {InvalidPayloadLength}).
     * @param owner_ Sets the mint fee and may reserve prompts.
     */
    constructor(
        string memory name_,
        string memory symbol_,
        bytes32 modelHash_,
        address payable imoToken_,
        uint96 royaltyBps_,
        uint256 mintFee_,
        address verifier_,
        bytes memory aigcPrefix_,
        uint256 payloadLength_,
        address owner_
    ) ERC721(name_, symbol_) Ownable(owner_) {
        bytes32 tokenModelHash = IModelBound(imoToken_).modelHash();
        if (tokenModelHash != modelHash_) revert ModelHashMismatch(modelHash_, tokenModelHash);
        if (verifier_.code.length == 0) revert VerifierWithoutCode(verifier_);
        if (payloadLength_ == 0 || payloadLength_ > MAX_PAYLOAD_BYTES) revert InvalidPayloadLength(payloadLength_);
        modelHash = modelHash_;
        imoToken = imoToken_;
        verifier = verifier_;
        aigcPrefixHash = keccak256(aigcPrefix_);
        aigcPrefixLength = aigcPrefix_.length;
        payloadLength = payloadLength_;
        uint256 fields = (payloadLength_ + BYTES_PER_FIELD - 1) / BYTES_PER_FIELD;
        _outputFields = fields;
        _verifySelector =
            bytes4(keccak256(abi.encodePacked("verifyProof(uint256[24],uint256[", Strings.toString(fields + 3), "])")));
        _setDefaultRoyalty(imoToken_, royaltyBps_);
        mintFee = mintFee_;
        emit MintFeeChanged(0, mintFee_);
    }

    /*//////////////////////////////////////////////////////////////
                                  MINT
    //////////////////////////////////////////////////////////////*/

    /**
     * @notice Mints the token of `prompt_` to `to` and, unless `aigcData` and `proof` are both empty, adds its AIGC
     * data in the same transaction. Anyone may call it with a valid proof.
     * Requirements: `msg.value == mintFee` ({WrongMintFee}); the prompt is not empty ({EmptyPrompt}) and not minted
     * ({PromptAlreadyMinted}); the proof verifies ({InvalidProof}) and is bound to `to` ({ProofRecipientMismatch}),
     * or, for a mint without data, the caller is the owner ({NotOwner}); `to` accepts ERC-721 tokens; forwarding
     * the fee to the IMO token succeeds ({FeeForwardFailed}).
     * Emits {Transfer}, {MetadataUpdate} when `uri` is not empty, {AigcData} when data is added.
     * @return tokenId_ uint256(keccak256(prompt_)).
     */
    function mint(
        address to,
        bytes calldata prompt_,
        bytes calldata aigcData,
        string calldata uri,
        bytes calldata proof
    ) external payable nonReentrant returns (uint256 tokenId_) {
        if (msg.value != mintFee) revert WrongMintFee(mintFee, msg.value);
        if (prompt_.length == 0) revert EmptyPrompt();
        bytes32 promptHash = keccak256(prompt_);
        tokenId_ = uint256(promptHash);
        if (_ownerOf(tokenId_) != address(0)) revert PromptAlreadyMinted(tokenId_);
        bool withData = aigcData.length != 0 || proof.length != 0;
        if (!withData && msg.sender != owner()) revert NotOwner(msg.sender);
        if (withData) _storeProvenData(to, promptHash, aigcData, proof);
        _prompts[tokenId_] = prompt_;
        // Cannot overflow: one increment per distinct prompt.
        unchecked {
            ++totalMinted;
        }
        _safeMint(to, tokenId_);
        if (bytes(uri).length != 0) _setTokenURI(tokenId_, uri);
        if (withData) emit AigcData(tokenId_, prompt_, aigcData, proof);
        if (msg.value != 0) {
            (bool ok,) = imoToken.call{value: msg.value}("");
            if (!ok) revert FeeForwardFailed();
        }
    }

    /**
     * @notice Adds AIGC data to token `tokenId_`, reserved earlier without data (ERC-7007).
     * Requirements: `tokenId_ == uint256(keccak256(prompt_))` ({PromptMismatch}); the token exists
     * (ERC721NonexistentToken); the caller owns it or is approved (ERC721InsufficientApproval); it has no data yet
     * ({AigcDataAlreadyAdded}); the proof verifies ({InvalidProof}) and is bound to the holder
     * ({ProofRecipientMismatch}).
     * Emits {AigcData}.
     */
    function addAigcData(uint256 tokenId_, bytes calldata prompt_, bytes calldata aigcData, bytes calldata proof)
        external
    {
        bytes32 promptHash = keccak256(prompt_);
        if (tokenId_ != uint256(promptHash)) revert PromptMismatch(tokenId_, uint256(promptHash));
        address owner_ = _requireOwned(tokenId_);
        _checkAuthorized(owner_, msg.sender, tokenId_);
        if (aigcDataHash[tokenId_] != bytes32(0)) revert AigcDataAlreadyAdded(tokenId_);
        _storeProvenData(owner_, promptHash, aigcData, proof);
        emit AigcData(tokenId_, prompt_, aigcData, proof);
    }

    /*//////////////////////////////////////////////////////////////
                                 ADMIN
    //////////////////////////////////////////////////////////////*/

    /**
     * @notice Sets the mint fee.
     * Requirements: caller is the owner.
     * Emits {MintFeeChanged}.
     */
    function setMintFee(uint256 newFee) external onlyOwner {
        emit MintFeeChanged(mintFee, newFee);
        mintFee = newFee;
    }

    /*//////////////////////////////////////////////////////////////
                                 VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @notice The token id of `prompt_`: uint256(keccak256(prompt_)), minted or not (ERC-7007 Enumerable).
    function tokenId(bytes calldata prompt_) external pure returns (uint256) {
        return uint256(keccak256(prompt_));
    }

    /// @notice The prompt of `tokenId_` (ERC-7007 Enumerable; raw bytes, ABI-identical to `string`).
    /// Requirements: the token exists (ERC721NonexistentToken).
    function prompt(uint256 tokenId_) external view returns (bytes memory) {
        _requireOwned(tokenId_);
        return _prompts[tokenId_];
    }

    /**
     * @notice Whether `proof` proves that `aigcData` is this collection's model's output on `prompt_`, for the
     * recipient the proof names (`proofRecipient`). Never reverts on malformed input: returns false.
     */
    function verify(bytes calldata prompt_, bytes calldata aigcData, bytes calldata proof)
        external
        view
        returns (bool)
    {
        (bool ok,) = _verify(keccak256(prompt_), aigcData, proof);
        return ok;
    }

    /// @notice The recipient `to` a well-formed proof is bound to, or the zero address when `proof` is malformed.
    function proofRecipient(bytes calldata proof) external pure returns (address) {
        (bool ok, address to) = _decodeRecipient(proof);
        return ok ? to : address(0);
    }

    /**
     * @notice The public signals the verifier gets for these bytes (empty when `aigcData` has the wrong layout),
     * so anyone can check a proof off chain against the same numbers.
     */
    function publicSignals(bytes calldata prompt_, bytes calldata aigcData, address to)
        external
        view
        returns (uint256[] memory signals)
    {
        if (!_layoutOk(aigcData)) return signals;
        uint256 fields = _outputFields;
        signals = new uint256[](fields + 3);
        bytes calldata payload = aigcData[aigcPrefixLength:];
        for (uint256 i = 0; i < fields; ++i) {
            signals[i] = _packed(payload, i);
        }
        signals[fields] = uint256(modelHash) >> 8;
        signals[fields + 1] = uint256(keccak256(prompt_)) >> 8;
        signals[fields + 2] = uint256(uint160(to));
    }

    /// @notice ERC-165: ERC-7007 (0x702c55a6), ERC-7007 Enumerable (0xfa1a557a), ERC-721, ERC-721 Metadata,
    /// ERC-4906, ERC-2981, ERC-165.
    function supportsInterface(bytes4 interfaceId)
        public
        view
        override(ERC721URIStorage, ERC2981, IERC165)
        returns (bool)
    {
        return interfaceId == type(IERC7007).interfaceId || interfaceId == type(IERC7007Enumerable).interfaceId
            || super.supportsInterface(interfaceId);
    }

    /*//////////////////////////////////////////////////////////////
                                INTERNAL
    //////////////////////////////////////////////////////////////*/

    /// @dev Verifies `proof` for the prompt, `aigcData` and recipient `to`, then records the data hash.
    function _storeProvenData(address to, bytes32 promptHash, bytes calldata aigcData, bytes calldata proof) private {
        (bool ok, address attested) = _verify(promptHash, aigcData, proof);
        if (!ok) revert InvalidProof();
        if (attested != to) revert ProofRecipientMismatch(to, attested);
        aigcDataHash[uint256(promptHash)] = keccak256(aigcData);
    }

    /// @dev Whether `proof` is well formed and the verifier accepts it for these bytes; and the recipient it names.
    function _verify(bytes32 promptHash, bytes calldata aigcData, bytes calldata proof)
        private
        view
        returns (bool ok, address to)
    {
        (ok, to) = _decodeRecipient(proof);
        if (!ok || !_layoutOk(aigcData)) return (false, to);
        uint256 fields = _outputFields;
        // verifyProof(uint256[24] proof, uint256[fields + 3] signals): both static arrays, so the call data is the
        // selector, the 24 proof words, then the signals, each one word.
        bytes memory callData = new bytes(4 + 32 * (24 + fields + 3));
        bytes4 selector = _verifySelector;
        bytes calldata payload = aigcData[aigcPrefixLength:];
        uint256 modelField = uint256(modelHash) >> 8;
        uint256 promptField = uint256(promptHash) >> 8;
        assembly ("memory-safe") {
            let at := add(callData, 32)
            mstore(at, selector)
            calldatacopy(add(at, 4), add(proof.offset, 32), 768)
            at := add(at, 772)
            for { let i := 0 } lt(i, fields) { i := add(i, 1) } {
                let start := mul(i, 31)
                let size := sub(payload.length, start)
                if gt(size, 31) { size := 31 }
                // The chunk's bytes as a big-endian integer: load 32 bytes and keep the first `size`.
                mstore(at, shr(mul(sub(32, size), 8), calldataload(add(payload.offset, start))))
                at := add(at, 32)
            }
            mstore(at, modelField)
            mstore(add(at, 32), promptField)
            mstore(add(at, 64), to)
        }
        (bool success, bytes memory result) = verifier.staticcall(callData);
        ok = success && result.length == 32 && abi.decode(result, (bool));
    }

    /// @dev The recipient of a proof: exactly PROOF_BYTES, the first word an address (upper 12 bytes zero).
    function _decodeRecipient(bytes calldata proof) private pure returns (bool ok, address to) {
        if (proof.length != PROOF_BYTES) return (false, address(0));
        uint256 word = uint256(bytes32(proof[0:32]));
        if (word >> 160 != 0) return (false, address(0));
        return (true, address(uint160(word)));
    }

    /// @dev Whether `aigcData` is the fixed prefix followed by exactly `payloadLength` bytes.
    function _layoutOk(bytes calldata aigcData) private view returns (bool) {
        return
            aigcData.length == aigcPrefixLength + payloadLength
                && keccak256(aigcData[:aigcPrefixLength]) == aigcPrefixHash;
    }

    /// @dev Payload bytes [31 i, 31 i + 31) (fewer for the last) as a big-endian integer.
    function _packed(bytes calldata payload, uint256 i) private pure returns (uint256 v) {
        uint256 end = (i + 1) * BYTES_PER_FIELD;
        if (end > payload.length) end = payload.length;
        for (uint256 j = i * BYTES_PER_FIELD; j < end; ++j) {
            v = (v << 8) | uint8(payload[j]);
        }
    }
}
