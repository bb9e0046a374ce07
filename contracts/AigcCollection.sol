// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {ERC721URIStorage} from "@openzeppelin/contracts/token/ERC721/extensions/ERC721URIStorage.sol";
import {ERC2981} from "@openzeppelin/contracts/token/common/ERC2981.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {EnumerableSet} from "@openzeppelin/contracts/utils/structs/EnumerableSet.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {IERC7007} from "./interfaces/IERC7007.sol";
import {IERC7007Enumerable} from "./interfaces/IERC7007Enumerable.sol";

/// @dev The part of ImoToken the collection checks at deployment.
interface IModelBound {
    function modelHash() external view returns (bytes32);
}

/**
 * @title AigcCollection: ERC-7007 verifiable AI-generated content bound to one model
 * @notice Invariant: every token's id is uint256(keccak256(prompt)) of its stored prompt, and every token
 * that has AIGC data had it accepted by `verify` against this collection's immutable model hash.
 *
 * Proof format: `proof = abi.encode(bytes32 commitment, bytes signature)`, where `signature` is an EIP-712
 * signature over `AigcAttestation(bytes32 modelHash,bytes32 promptHash,bytes32 aigcDataHash,bytes32
 * commitment)` in the domain {name: "imo", version: "1", chainId, verifyingContract: this collection}, with
 * promptHash = keccak256(prompt) and aigcDataHash = keccak256(aigcData):
 * - exactly 65 bytes (r, s, v): an ECDSA signature by an attester EOA (high-s rejected by OZ ECDSA);
 * - otherwise `abi.encode(address signer, bytes signerSignature)` (always a multiple of 32 bytes, >= 96,
 *   so never 65): `signer` is an attester contract and `signerSignature` is checked with its ERC-1271
 *   `isValidSignature(digest, signerSignature)`.
 * Encodings must be canonical (exact lengths); anything else verifies as false.
 *
 * Tokens: `mint` with data verifies the proof and emits {AigcData}; `mint` with empty `aigcData` and
 * `proof` only claims the prompt, and its holder (or an approved operator) adds the data later with
 * `addAigcData`. The mint fee is forwarded to the IMO token, and ERC-2981 royalties name the IMO token,
 * so both become revenue of its holders.
 *
 * Storage layout (after OpenZeppelin's ERC721, ERC721URIStorage, ERC2981, EIP712, Ownable):
 * `mintFee`, `totalMinted`, `_attesters` (EnumerableSet), `_prompts[tokenId]` (bytes),
 * `aigcDataHash[tokenId]` (keccak256 of the accepted aigcData, 0 while none).
 */
contract AigcCollection is ERC721URIStorage, IERC7007Enumerable, ERC2981, EIP712, Ownable {
    using EnumerableSet for EnumerableSet.AddressSet;

    /*//////////////////////////////////////////////////////////////
                                 ERRORS
    //////////////////////////////////////////////////////////////*/

    /// @notice The proof does not verify.
    error InvalidProof();
    /// @notice The prompt was minted already, as `tokenId`.
    error PromptAlreadyMinted(uint256 tokenId);
    /// @notice `sent` wei were sent, the mint fee is `expected`.
    error WrongMintFee(uint256 expected, uint256 sent);
    /// @notice `account` is not an attester.
    error NotAttester(address account);
    /// @notice `account` is an attester already.
    error AlreadyAttester(address account);
    /// @notice The zero address cannot be an attester.
    error ZeroAttester();
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

    /*//////////////////////////////////////////////////////////////
                                 EVENTS
    //////////////////////////////////////////////////////////////*/

    /// @notice `attester` may now sign attestations.
    event AttesterAdded(address indexed attester);
    /// @notice `attester` may no longer sign attestations; proofs it signed stop verifying.
    event AttesterRemoved(address indexed attester);
    /// @notice The mint fee changed from `oldFee` to `newFee` wei.
    event MintFeeChanged(uint256 oldFee, uint256 newFee);

    /*//////////////////////////////////////////////////////////////
                                 STORAGE
    //////////////////////////////////////////////////////////////*/

    /// @notice Wei that `mint` requires, forwarded to the IMO token.
    uint256 public mintFee;
    /// @notice Number of tokens minted so far (no token is ever burned).
    uint256 public totalMinted;
    EnumerableSet.AddressSet private _attesters;
    mapping(uint256 tokenId => bytes) private _prompts;
    /// @notice keccak256 of the AIGC data accepted for `tokenId`; zero while it has none.
    mapping(uint256 tokenId => bytes32) public aigcDataHash;

    /*//////////////////////////////////////////////////////////////
                                CONSTANTS
    //////////////////////////////////////////////////////////////*/

    /// @notice EIP-712 type hash of the attestation (section 4 of DESIGN).
    bytes32 public constant ATTESTATION_TYPEHASH = keccak256(
        "AigcAttestation(bytes32 modelHash,bytes32 promptHash,bytes32 aigcDataHash,bytes32 commitment)"
    );
    /// @dev Length of an ECDSA signature (r, s, v).
    uint256 private constant ECDSA_SIGNATURE_LENGTH = 65;
    /// @dev Bytes in one ABI word.
    uint256 private constant WORD = 32;
    /// @dev Head of `abi.encode(bytes32|address, bytes)`: word, offset (= 2 words), length.
    uint256 private constant HEAD_AND_BYTES_TAIL = 3 * WORD;

    /// @notice The model whose outputs this collection holds.
    bytes32 public immutable modelHash;
    /// @notice The ERC-7641 token that receives mint fees and royalties.
    address payable public immutable imoToken;

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
     * @param attesters_ Initial attesters (no zero address, no duplicates).
     * @param owner_ Manages attesters and the mint fee.
     */
    constructor(
        string memory name_,
        string memory symbol_,
        bytes32 modelHash_,
        address payable imoToken_,
        uint96 royaltyBps_,
        uint256 mintFee_,
        address[] memory attesters_,
        address owner_
    ) ERC721(name_, symbol_) EIP712("imo", "1") Ownable(owner_) {
        bytes32 tokenModelHash = IModelBound(imoToken_).modelHash();
        if (tokenModelHash != modelHash_) revert ModelHashMismatch(modelHash_, tokenModelHash);
        modelHash = modelHash_;
        imoToken = imoToken_;
        _setDefaultRoyalty(imoToken_, royaltyBps_);
        mintFee = mintFee_;
        emit MintFeeChanged(0, mintFee_);
        for (uint256 i = 0; i < attesters_.length; ++i) {
            _addAttester(attesters_[i]);
        }
    }

    /*//////////////////////////////////////////////////////////////
                                EXTERNAL
    //////////////////////////////////////////////////////////////*/

    /**
     * @notice Mints the token of `prompt_` to `to` and, unless `aigcData` and `proof` are both empty, adds
     * its AIGC data in the same transaction.
     * Requirements: `msg.value == mintFee` ({WrongMintFee}); the prompt is not empty ({EmptyPrompt}) and not
     * minted ({PromptAlreadyMinted}); the proof verifies ({InvalidProof}), or, for a mint without data, the
     * caller is an attester ({NotAttester}); `to` accepts ERC-721 tokens;
     * forwarding the fee to the IMO token succeeds ({FeeForwardFailed}).
     * Emits {Transfer}, {MetadataUpdate} when `uri` is not empty, {AigcData} when data is added.
     * @return tokenId_ uint256(keccak256(prompt_)).
     */
    function mint(
        address to,
        bytes calldata prompt_,
        bytes calldata aigcData,
        string calldata uri,
        bytes calldata proof
    ) external payable returns (uint256 tokenId_) {
        if (msg.value != mintFee) revert WrongMintFee(mintFee, msg.value);
        if (prompt_.length == 0) revert EmptyPrompt();
        tokenId_ = uint256(keccak256(prompt_));
        if (_ownerOf(tokenId_) != address(0)) revert PromptAlreadyMinted(tokenId_);
        bool withData = aigcData.length != 0 || proof.length != 0;
        // A data-less mint reserves a prompt's token id without any proof; left open, anyone could
        // front-run a genuine mint by reserving its prompt first. Only an attester may reserve.
        if (!withData && !_attesters.contains(msg.sender)) revert NotAttester(msg.sender);
        if (withData) {
            if (!verify(prompt_, aigcData, proof)) revert InvalidProof();
            aigcDataHash[tokenId_] = keccak256(aigcData);
        }
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
     * @notice Adds AIGC data to token `tokenId_`, minted earlier without data (ERC-7007).
     * Requirements: `tokenId_ == uint256(keccak256(prompt_))` ({PromptMismatch}); the token exists
     * (ERC721NonexistentToken); the caller owns it or is approved (ERC721InsufficientApproval); it has no
     * data yet ({AigcDataAlreadyAdded}); the proof verifies ({InvalidProof}).
     * Emits {AigcData}.
     */
    function addAigcData(uint256 tokenId_, bytes calldata prompt_, bytes calldata aigcData, bytes calldata proof)
        external
    {
        uint256 promptTokenId = uint256(keccak256(prompt_));
        if (tokenId_ != promptTokenId) revert PromptMismatch(tokenId_, promptTokenId);
        address owner_ = _requireOwned(tokenId_);
        _checkAuthorized(owner_, msg.sender, tokenId_);
        if (aigcDataHash[tokenId_] != bytes32(0)) revert AigcDataAlreadyAdded(tokenId_);
        if (!verify(prompt_, aigcData, proof)) revert InvalidProof();
        aigcDataHash[tokenId_] = keccak256(aigcData);
        emit AigcData(tokenId_, prompt_, aigcData, proof);
    }

    /**
     * @notice Sets the mint fee.
     * Requirements: caller is the owner.
     * Emits {MintFeeChanged}.
     */
    function setMintFee(uint256 newFee) external onlyOwner {
        emit MintFeeChanged(mintFee, newFee);
        mintFee = newFee;
    }

    /**
     * @notice Authorises `attester` (an EOA, or a contract implementing ERC-1271) to sign attestations.
     * Requirements: caller is the owner; `attester` is not zero ({ZeroAttester}) nor already one
     * ({AlreadyAttester}).
     * Emits {AttesterAdded}.
     */
    function addAttester(address attester) external onlyOwner {
        _addAttester(attester);
    }

    /**
     * @notice Revokes `attester`; proofs it signed no longer verify (minted tokens stay).
     * Requirements: caller is the owner; `attester` is an attester ({NotAttester}).
     * Emits {AttesterRemoved}.
     */
    function removeAttester(address attester) external onlyOwner {
        if (!_attesters.remove(attester)) revert NotAttester(attester);
        emit AttesterRemoved(attester);
    }

    /// @notice Whether `account` is an attester.
    function isAttester(address account) external view returns (bool) {
        return _attesters.contains(account);
    }

    /// @notice All attesters, in no particular order.
    function attesters() external view returns (address[] memory) {
        return _attesters.values();
    }

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
     * @notice Whether `proof` attests that `aigcData` is the output of this collection's model on `prompt_`
     * (format in the contract documentation). Never reverts on malformed input: returns false.
     */
    function verify(bytes calldata prompt_, bytes calldata aigcData, bytes calldata proof)
        public
        view
        returns (bool)
    {
        (bool ok, bytes32 commitment, bytes calldata signature) = _decodeWordAndBytes(proof);
        if (!ok) return false;
        bytes32 digest = attestationDigest(keccak256(prompt_), keccak256(aigcData), commitment);
        if (signature.length == ECDSA_SIGNATURE_LENGTH) {
            (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecoverCalldata(digest, signature);
            return err == ECDSA.RecoverError.NoError && _attesters.contains(recovered);
        }
        (bool ok2, bytes32 signerWord, bytes calldata signerSignature) = _decodeWordAndBytes(signature);
        if (!ok2 || uint256(signerWord) >> 160 != 0) return false;
        address signer = address(uint160(uint256(signerWord)));
        return _attesters.contains(signer)
            && SignatureChecker.isValidERC1271SignatureNowCalldata(signer, digest, signerSignature);
    }

    /// @notice The EIP-712 digest an attester signs for the given hashes.
    function attestationDigest(bytes32 promptHash, bytes32 aigcDataHash_, bytes32 commitment)
        public
        view
        returns (bytes32)
    {
        return _hashTypedDataV4(
            keccak256(abi.encode(ATTESTATION_TYPEHASH, modelHash, promptHash, aigcDataHash_, commitment))
        );
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

    function _addAttester(address attester) private {
        if (attester == address(0)) revert ZeroAttester();
        if (!_attesters.add(attester)) revert AlreadyAttester(attester);
        emit AttesterAdded(attester);
    }

    /**
     * @dev Decodes a canonical `abi.encode(bytes32 head, bytes tail)`: offset exactly 64, total length exactly
     * 96 + the tail length rounded up to 32. Returns ok = false instead of reverting.
     */
    function _decodeWordAndBytes(bytes calldata data)
        private
        pure
        returns (bool ok, bytes32 head, bytes calldata tail)
    {
        tail = data[0:0];
        if (data.length < HEAD_AND_BYTES_TAIL) return (false, bytes32(0), tail);
        head = bytes32(data[0:WORD]);
        uint256 offset = uint256(bytes32(data[WORD:2 * WORD]));
        uint256 length = uint256(bytes32(data[2 * WORD:HEAD_AND_BYTES_TAIL]));
        if (offset != 2 * WORD || length > data.length) return (false, bytes32(0), tail);
        // Cannot overflow: length <= data.length.
        uint256 padded;
        unchecked {
            padded = ((length + WORD - 1) / WORD) * WORD;
        }
        if (data.length != HEAD_AND_BYTES_TAIL + padded) return (false, bytes32(0), tail);
        return (true, head, data[HEAD_AND_BYTES_TAIL:HEAD_AND_BYTES_TAIL + length]);
    }
}
