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
import {IAigcFulfillmentReceiver} from "./interfaces/IAigcFulfillmentReceiver.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {ERC165Checker} from "@openzeppelin/contracts/utils/introspection/ERC165Checker.sol";

/// @dev The part of ImoToken the collection checks at deployment.
interface IModelBound {
    function modelHash() external view returns (bytes32);
}

/**
 * @title AigcCollection: ERC-7007 verifiable AI-generated content bound to one model, with paid requests
 * @notice Invariants:
 * - every token's id is uint256(keccak256(prompt)) of its stored prompt, and every token that has AIGC data
 *   had it accepted by the attestation check against this collection's immutable model hash, bound to the
 *   address the token was minted to (or, for `addAigcData`, its holder) and made for the way it was minted:
 *   an `AigcMint` proof by `mint`/`addAigcData`, an `AigcFulfilment` proof of that very request by `fulfill`;
 * - `address(this).balance == openEscrow` == the sum of the fees of the requests whose status is Open. The
 *   direct mint fee never stays: `mint` forwards `msg.value` to the IMO token in the same call (or reverts),
 *   and there is no `receive`/`fallback`. Only ether forced in without a call (SELFDESTRUCT, a block reward)
 *   can make the balance exceed `openEscrow`; no function counts or pays it.
 *
 * Proof kinds (DESIGN section 4, docs/formats.md section 5 byte for byte): an attester signs an EIP-712 struct
 * whose type name says what the proof may be used for, in the domain {name: "imo", version: "3", chainId,
 * verifyingContract: this collection}, with promptHash = keccak256(prompt), aigcDataHash = keccak256(aigcData)
 * and `to` the token's recipient (so a proof copied from the mempool cannot mint to anyone else):
 * - `AigcMint(bytes32 modelHash,bytes32 promptHash,bytes32 aigcDataHash,bytes32 commitment,address to)`: valid
 *   in `mint` and `addAigcData` only;
 * - `AigcFulfilment(uint256 requestId,bytes32 modelHash,bytes32 promptHash,bytes32 aigcDataHash,bytes32
 *   commitment,address to)`: valid only in `fulfill` of request `requestId`, so a proof made for a paid request
 *   can never mint its prompt directly and skip the request's fee.
 * The proof bytes name their kind first: `abi.encode(bytes32 kind, <the struct's fields that the call does not
 * supply, in the struct's order>, bytes signature)`, where `kind` is the struct's EIP-712 type hash
 * ({MINT_TYPEHASH}, {FULFILMENT_TYPEHASH}): `abi.encode(MINT_TYPEHASH, commitment, to, signature)` and
 * `abi.encode(FULFILMENT_TYPEHASH, requestId, commitment, to, signature)`. A kind this contract does not know
 * verifies as false: a new kind is a new type name, so a new type hash, which no proof of another kind carries
 * and no signature of another kind matches. `verify` accepts both kinds above (both stand in {AigcData} events).
 * `signature` is:
 * - exactly 65 bytes (r, s, v): an ECDSA signature by an attester EOA (high-s rejected by OZ ECDSA);
 * - otherwise `abi.encode(address signer, bytes signerSignature)` (always a multiple of 32 bytes, >= 96,
 *   so never 65): `signer` is an attester contract and `signerSignature` is checked with its ERC-1271
 *   `isValidSignature(digest, signerSignature)`.
 * Both encodings must be exactly canonical: head offsets as `abi.encode` writes them, address words with
 * zero upper bytes, zero padding after the bytes, no trailing bytes. Anything else verifies as false, so one
 * attestation has exactly one proof byte string.
 *
 * Tokens: `mint` with data verifies the proof (its `to` must be the recipient) and emits {AigcData};
 * `mint` with empty `aigcData` and `proof` only claims the prompt (attesters only), and its holder (or an
 * approved operator) adds the data later with `addAigcData` (the proof's `to` must be the holder). The mint
 * fee is forwarded to the IMO token, and ERC-2981 royalties name the IMO token, so both become revenue of
 * its holders.
 *
 * Paid requests (DESIGN section 8) live on the collection itself rather than in a contract beside it: a
 * fulfilment then mints with an internal call (no minter role to manage, no second address for `imo serve`
 * to follow, gas close to a direct mint), and the attesters, owner and model hash are the ones `mint`
 * already trusts. `request` escrows exactly `requestFee` and stores the prompt; `requestWithTerms` also takes
 * the longest timeout the requester accepts, so an owner who front-runs it with `setRequestTimeout` cannot
 * lock its fee for longer than it saw (the fee is pinned by `msg.value == requestFee`); neither accepts a
 * request while no attester could fulfil it. `fulfill` (anyone holding a valid `AigcFulfilment` proof of
 * that request, bound to its recipient, before `expiresAt`) mints to the
 * recipient, forwards the escrowed fee to the IMO token and, when the recipient is a contract declaring
 * {IAigcFulfillmentReceiver} through ERC-165, calls it back with the gas limit chosen at request time (its
 * outcome ignored); `refund` returns the fee to the requester from `expiresAt` on, or at once when the
 * prompt was minted meanwhile or no attester is left (nobody could fulfil it). Status moves Open -> Fulfilled or Open -> Refunded, never back, so fulfil
 * and refund exclude each other. `fulfill` mints with `_mint`, not `_safeMint`: the requester named the
 * recipient, and a recipient contract that rejects ERC-721 tokens must not keep the fee in escrow; contracts
 * learn of their token through the callback. Prompts of requests are at most {MAX_REQUEST_PROMPT_BYTES}.
 *
 * Storage layout (after OpenZeppelin's ERC721, ERC721URIStorage, ERC2981, EIP712, Ownable):
 * `mintFee`, `totalMinted`, `_attesters` (EnumerableSet), `_prompts[tokenId]` (bytes; written by `mint`, or
 * by `request` before the token exists), `aigcDataHash[tokenId]` (keccak256 of the accepted aigcData, 0 while
 * none), `requestFee` (uint96) + `requestTimeout` (uint64), `requestCount`, `openEscrow`,
 * `_requests[requestId]` (three slots: requester, expiresAt, callbackGasLimit, status | recipient, fee |
 * promptHash).
 */
contract AigcCollection is ERC721URIStorage, IERC7007Enumerable, ERC2981, EIP712, Ownable, ReentrancyGuardTransient {
    using EnumerableSet for EnumerableSet.AddressSet;

    /*//////////////////////////////////////////////////////////////
                                 TYPES
    //////////////////////////////////////////////////////////////*/

    /// @notice Life cycle of a paid request: None (unknown id) -> Open -> Fulfilled | Refunded.
    enum RequestStatus {
        None,
        Open,
        Fulfilled,
        Refunded
    }

    /// @notice A paid request (three storage slots). The prompt is `prompt(tokenId)`'s storage, keyed by
    /// `tokenId = uint256(promptHash)`; `requestPrompt(requestId)` reads it.
    struct Request {
        address requester;
        uint40 expiresAt;
        uint32 callbackGasLimit;
        RequestStatus status;
        address recipient;
        uint96 fee;
        bytes32 promptHash;
    }

    /*//////////////////////////////////////////////////////////////
                                 ERRORS
    //////////////////////////////////////////////////////////////*/

    /// @notice The proof does not verify.
    error InvalidProof();
    /// @notice The proof is of kind `actual` (its EIP-712 type hash); this call takes kind `expected`.
    error ProofKindMismatch(bytes32 expected, bytes32 actual);
    /// @notice The proof attests a fulfilment of request `attested`, not of request `requestId`.
    error ProofRequestMismatch(uint256 requestId, uint256 attested);
    /// @notice The proof attests the token for `attested`, the recipient is `recipient`.
    error ProofRecipientMismatch(address recipient, address attested);
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
    /// @notice Forwarding the mint or request fee to the IMO token failed.
    error FeeForwardFailed();
    /// @notice The prompt is empty.
    error EmptyPrompt();
    /// @notice `tokenId` is not keccak256 of the prompt, which gives `promptTokenId`.
    error PromptMismatch(uint256 tokenId, uint256 promptTokenId);
    /// @notice Token `tokenId` has AIGC data already.
    error AigcDataAlreadyAdded(uint256 tokenId);
    /// @notice The IMO token's model hash `actual` differs from the collection's `expected`.
    error ModelHashMismatch(bytes32 expected, bytes32 actual);
    /// @notice `sent` wei were sent, the request fee is `expected`.
    error WrongRequestFee(uint256 expected, uint256 sent);
    /// @notice A request's prompt is `length` bytes, at most `max` are accepted.
    error PromptTooLong(uint256 length, uint256 max);
    /// @notice A request needs a non-zero recipient.
    error ZeroRecipient();
    /// @notice The callback gas limit `limit` exceeds `max`.
    error CallbackGasLimitTooHigh(uint256 limit, uint256 max);
    /// @notice No request has id `requestId`.
    error UnknownRequest(uint256 requestId);
    /// @notice Request `requestId` is `status`, not Open.
    error RequestNotOpen(uint256 requestId, RequestStatus status);
    /// @notice Request `requestId` expired at `expiresAt`: it can only be refunded.
    error RequestExpired(uint256 requestId, uint256 expiresAt);
    /// @notice Request `requestId` can be refunded from `expiresAt` on (or once its prompt is minted).
    error RequestNotRefundable(uint256 requestId, uint256 expiresAt);
    /// @notice Paying `amount` wei back to `requester` failed.
    error RefundFailed(address requester, uint256 amount);
    /// @notice The recipient's callback needs `needed` gas at the call, `available` were left.
    error InsufficientGasForCallback(uint256 needed, uint256 available);
    /// @notice The request fee `fee` exceeds `max` (it is stored in 96 bits).
    error RequestFeeTooHigh(uint256 fee, uint256 max);
    /// @notice The request timeout `timeout` is outside [1, `max`] seconds.
    error InvalidRequestTimeout(uint256 timeout, uint256 max);
    /// @notice The request timeout is now `timeout` seconds, longer than the `maxTimeout` the requester accepted.
    error RequestTimeoutAboveBound(uint256 timeout, uint256 maxTimeout);
    /// @notice No attester is left, so no request could be fulfilled.
    error NoAttesters();

    /*//////////////////////////////////////////////////////////////
                                 EVENTS
    //////////////////////////////////////////////////////////////*/

    /// @notice `attester` may now sign attestations.
    event AttesterAdded(address indexed attester);
    /// @notice `attester` may no longer sign attestations; proofs it signed stop verifying.
    event AttesterRemoved(address indexed attester);
    /// @notice The mint fee changed from `oldFee` to `newFee` wei.
    event MintFeeChanged(uint256 oldFee, uint256 newFee);
    /// @notice The request fee changed from `oldFee` to `newFee` wei (open requests keep theirs).
    event RequestFeeChanged(uint256 oldFee, uint256 newFee);
    /// @notice The request timeout changed from `oldTimeout` to `newTimeout` seconds (open requests keep theirs).
    event RequestTimeoutChanged(uint256 oldTimeout, uint256 newTimeout);
    /// @notice `requester` paid `fee` wei for the model's output on `prompt`, minted to `recipient`, by `expiresAt`.
    event Requested(
        uint256 indexed requestId,
        address indexed requester,
        address indexed recipient,
        bytes32 promptHash,
        bytes prompt,
        uint256 fee,
        uint256 expiresAt
    );
    /// @notice Request `requestId` was fulfilled by minting `tokenId`; its fee went to the IMO token.
    event Fulfilled(uint256 indexed requestId, uint256 indexed tokenId);
    /// @notice Request `requestId`'s `fee` went back to `requester`.
    event Refunded(uint256 indexed requestId, address indexed requester, uint256 fee);
    /// @notice The recipient's `onAigcFulfilled` callback for `requestId` ran; `success` is its outcome (ignored).
    event FulfillmentCallback(uint256 indexed requestId, address indexed recipient, bool success);

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
    /// @notice Wei that `request` requires (escrowed, then forwarded to the IMO token or refunded).
    uint96 public requestFee;
    /// @notice Seconds a new request stays fulfillable; from then on it is refundable.
    uint64 public requestTimeout;
    /// @notice Number of requests so far; ids run from 1 to `requestCount`.
    uint256 public requestCount;
    /// @notice Sum of the fees of the Open requests; equals this contract's balance (header invariant).
    uint256 public openEscrow;
    mapping(uint256 requestId => Request) private _requests;

    /*//////////////////////////////////////////////////////////////
                                CONSTANTS
    //////////////////////////////////////////////////////////////*/

    /// @notice EIP-712 type hash of a direct-mint attestation, and the kind word of its proofs: valid in `mint`
    /// and `addAigcData` only.
    bytes32 public constant MINT_TYPEHASH =
        keccak256("AigcMint(bytes32 modelHash,bytes32 promptHash,bytes32 aigcDataHash,bytes32 commitment,address to)");
    /// @notice EIP-712 type hash of a request's fulfilment attestation, and the kind word of its proofs: valid
    /// in `fulfill` of that request only.
    bytes32 public constant FULFILMENT_TYPEHASH = keccak256(
        "AigcFulfilment(uint256 requestId,bytes32 modelHash,bytes32 promptHash,bytes32 aigcDataHash,bytes32 commitment,address to)"
    );
    /// @notice Longest prompt `request` accepts (4 KiB: a long text prompt or a small tensor encoding; the
    /// requester pays its storage).
    uint256 public constant MAX_REQUEST_PROMPT_BYTES = 4096;
    /// @notice Callback gas limit of `request(prompt, recipient)`.
    uint32 public constant DEFAULT_CALLBACK_GAS_LIMIT = 100_000;
    /// @notice Highest callback gas limit a requester may choose (the fulfiller pays for it).
    uint32 public constant MAX_CALLBACK_GAS_LIMIT = 1_000_000;
    /// @notice Longest request timeout the owner may set (a year), so an escrow is never locked for long.
    uint64 public constant MAX_REQUEST_TIMEOUT = 365 days;
    /// @dev Gas kept back for the CALL itself and what follows it, on top of the callback's 64/63.
    uint256 private constant CALLBACK_GAS_RESERVE = 10_000;
    /// @dev Length of an ECDSA signature (r, s, v).
    uint256 private constant ECDSA_SIGNATURE_LENGTH = 65;
    /// @dev Bytes in one ABI word.
    uint256 private constant WORD = 32;

    /// @notice The model whose outputs this collection holds.
    bytes32 public immutable modelHash;
    /// @notice The ERC-7641 token that receives mint fees, request fees and royalties.
    address payable public immutable imoToken;

    /*//////////////////////////////////////////////////////////////
                               CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    /**
     * @param name_ ERC-721 name.
     * @param symbol_ ERC-721 symbol.
     * @param modelHash_ Must equal `imoToken_.modelHash()` ({ModelHashMismatch}).
     * @param imoToken_ Receives mint fees, request fees and royalties.
     * @param royaltyBps_ ERC-2981 royalty in basis points (<= 10000).
     * @param mintFee_ Wei required by `mint`.
     * @param requestFee_ Wei required by `request` ({RequestFeeTooHigh} above 2^96 - 1).
     * @param requestTimeout_ Seconds a request stays fulfillable ({InvalidRequestTimeout} outside [1, a year]).
     * @param attesters_ Initial attesters (no zero address, no duplicates).
     * @param owner_ Manages attesters and the fees.
     */
    constructor(
        string memory name_,
        string memory symbol_,
        bytes32 modelHash_,
        address payable imoToken_,
        uint96 royaltyBps_,
        uint256 mintFee_,
        uint256 requestFee_,
        uint256 requestTimeout_,
        address[] memory attesters_,
        address owner_
    ) ERC721(name_, symbol_) EIP712("imo", "3") Ownable(owner_) {
        bytes32 tokenModelHash = IModelBound(imoToken_).modelHash();
        if (tokenModelHash != modelHash_) revert ModelHashMismatch(modelHash_, tokenModelHash);
        modelHash = modelHash_;
        imoToken = imoToken_;
        _setDefaultRoyalty(imoToken_, royaltyBps_);
        mintFee = mintFee_;
        emit MintFeeChanged(0, mintFee_);
        _setRequestFee(requestFee_);
        _setRequestTimeout(requestTimeout_);
        for (uint256 i = 0; i < attesters_.length; ++i) {
            _addAttester(attesters_[i]);
        }
    }

    /*//////////////////////////////////////////////////////////////
                              DIRECT MINT
    //////////////////////////////////////////////////////////////*/

    /**
     * @notice Mints the token of `prompt_` to `to` and, unless `aigcData` and `proof` are both empty, adds
     * its AIGC data in the same transaction.
     * Requirements: `msg.value == mintFee` ({WrongMintFee}); the prompt is not empty ({EmptyPrompt}) and not
     * minted ({PromptAlreadyMinted}); the proof verifies ({InvalidProof}), is an `AigcMint` proof
     * ({ProofKindMismatch}: a fulfilment proof is valid only in `fulfill`) and attests `to`
     * ({ProofRecipientMismatch}), or, for a mint without data, the caller is an attester ({NotAttester});
     * `to` accepts ERC-721 tokens; forwarding the fee to the IMO token succeeds ({FeeForwardFailed}).
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
        tokenId_ = uint256(keccak256(prompt_));
        if (_ownerOf(tokenId_) != address(0)) revert PromptAlreadyMinted(tokenId_);
        bool withData = aigcData.length != 0 || proof.length != 0;
        // A data-less mint reserves a prompt's token id without any proof; left open, anyone could
        // front-run a genuine mint by reserving its prompt first. Only an attester may reserve.
        if (!withData && !_attesters.contains(msg.sender)) revert NotAttester(msg.sender);
        if (withData) _storeAttestedData(MINT_TYPEHASH, 0, to, tokenId_, aigcData, proof);
        _prompts[tokenId_] = prompt_;
        // Cannot overflow: one increment per distinct prompt.
        unchecked {
            ++totalMinted;
        }
        _safeMint(to, tokenId_);
        if (bytes(uri).length != 0) _setTokenURI(tokenId_, uri);
        if (withData) _emitAigcData(tokenId_, bytes32(tokenId_), aigcDataHash[tokenId_], proof);
        if (msg.value != 0) _forwardToToken(msg.value);
    }

    /**
     * @notice Adds AIGC data to token `tokenId_`, minted earlier without data (ERC-7007).
     * Requirements: `tokenId_ == uint256(keccak256(prompt_))` ({PromptMismatch}); the token exists
     * (ERC721NonexistentToken); the caller owns it or is approved (ERC721InsufficientApproval); it has no
     * data yet ({AigcDataAlreadyAdded}); the proof verifies ({InvalidProof}), is an `AigcMint` proof
     * ({ProofKindMismatch}) and attests the token's holder ({ProofRecipientMismatch}).
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
        _storeAttestedData(MINT_TYPEHASH, 0, owner_, tokenId_, aigcData, proof);
        _emitAigcData(tokenId_, promptHash, aigcDataHash[tokenId_], proof);
    }

    /*//////////////////////////////////////////////////////////////
                             PAID REQUESTS
    //////////////////////////////////////////////////////////////*/

    /**
     * @notice Pays `requestFee` for the model's output on `prompt_`, to be minted to `recipient`, on the terms
     * in force when it is included (any timeout up to {MAX_REQUEST_TIMEOUT}: use {requestWithTerms} to bound
     * it); the callback (if `recipient` declares {IAigcFulfillmentReceiver}) gets {DEFAULT_CALLBACK_GAS_LIMIT}
     * gas.
     * Requirements and effects: see {requestWithTerms}.
     * @return requestId The new request's id.
     */
    function request(bytes calldata prompt_, address recipient) external payable returns (uint256 requestId) {
        return _request(prompt_, recipient, DEFAULT_CALLBACK_GAS_LIMIT, MAX_REQUEST_TIMEOUT);
    }

    /**
     * @notice Pays `requestFee` for the model's output on `prompt_`, to be minted to `recipient`, if the request
     * timeout is at most `maxTimeout` seconds (the terms the requester saw: the fee is pinned by `msg.value`);
     * `recipient`'s {IAigcFulfillmentReceiver} callback (if declared) gets `callbackGasLimit` gas (0: none).
     * Requirements: `msg.value == requestFee` ({WrongRequestFee}); `requestTimeout <= maxTimeout`
     * ({RequestTimeoutAboveBound}); an attester exists ({NoAttesters}); the prompt is not empty
     * ({EmptyPrompt}), at most {MAX_REQUEST_PROMPT_BYTES} ({PromptTooLong}) and not minted
     * ({PromptAlreadyMinted}); `recipient` is not zero ({ZeroRecipient}); `callbackGasLimit <=
     * MAX_CALLBACK_GAS_LIMIT` ({CallbackGasLimitTooHigh}). Several open requests may name the same prompt: the
     * first fulfilment mints it, the others become refundable at once.
     * Emits {Requested}; the fee stays escrowed here until `fulfill` or `refund`.
     * @return requestId The new request's id (1, 2, ...).
     */
    function requestWithTerms(bytes calldata prompt_, address recipient, uint32 callbackGasLimit, uint256 maxTimeout)
        external
        payable
        returns (uint256 requestId)
    {
        return _request(prompt_, recipient, callbackGasLimit, maxTimeout);
    }

    /**
     * @notice Fulfils request `requestId`: mints its prompt's token with `aigcData` to its recipient and
     * forwards its fee to the IMO token. Anyone holding a valid proof may call it.
     * Requirements: the request exists ({UnknownRequest}), is Open ({RequestNotOpen}) and not expired
     * ({RequestExpired}); its prompt is not minted yet ({PromptAlreadyMinted}: refund it instead); the proof
     * verifies for the stored prompt ({InvalidProof}), is an `AigcFulfilment` proof ({ProofKindMismatch}) of
     * this request ({ProofRequestMismatch}) and attests the request's recipient ({ProofRecipientMismatch});
     * forwarding the fee succeeds ({FeeForwardFailed}); when a callback is due,
     * enough gas is left to give it its full limit ({InsufficientGasForCallback}).
     * Emits {Transfer}, {MetadataUpdate} when `uri` is not empty, {AigcData}, {Fulfilled}, and
     * {FulfillmentCallback} when the recipient was called back.
     * @return tokenId_ The minted token, uint256(keccak256(prompt)).
     */
    function fulfill(uint256 requestId, bytes calldata aigcData, bytes calldata proof, string calldata uri)
        external
        nonReentrant
        returns (uint256 tokenId_)
    {
        Request storage r = _openRequest(requestId);
        if (block.timestamp >= r.expiresAt) revert RequestExpired(requestId, r.expiresAt);
        // Effects first (a revert below undoes them): the request is closed before any external call.
        r.status = RequestStatus.Fulfilled;
        uint256 fee = r.fee;
        openEscrow -= fee;
        address recipient = r.recipient;
        tokenId_ = _mintRequested(requestId, recipient, r.promptHash, aigcData, proof, uri);
        emit Fulfilled(requestId, tokenId_);
        if (fee != 0) _forwardToToken(fee);
        uint256 callbackGasLimit = r.callbackGasLimit;
        if (callbackGasLimit != 0 && recipient.code.length != 0) {
            _callBack(requestId, tokenId_, recipient, callbackGasLimit, aigcData);
        }
    }

    /**
     * @notice Pays request `requestId`'s fee back to its requester (anyone may call it).
     * Requirements: the request exists ({UnknownRequest}) and is Open ({RequestNotOpen}); it has expired
     * (`block.timestamp >= expiresAt`), or its prompt was minted meanwhile, or no attester is left
     * ({RequestNotRefundable}); the payment succeeds ({RefundFailed}).
     * Emits {Refunded}.
     */
    function refund(uint256 requestId) external nonReentrant {
        Request storage r = _openRequest(requestId);
        if (!_refundable(r)) revert RequestNotRefundable(requestId, r.expiresAt);
        address requester = r.requester;
        uint256 fee = r.fee;
        r.status = RequestStatus.Refunded;
        openEscrow -= fee;
        emit Refunded(requestId, requester, fee);
        if (fee != 0) {
            (bool ok,) = requester.call{value: fee}("");
            if (!ok) revert RefundFailed(requester, fee);
        }
    }

    /// @notice Request `requestId` (all fields zero, status None, when unknown).
    function getRequest(uint256 requestId) external view returns (Request memory) {
        return _requests[requestId];
    }

    /// @notice The prompt of request `requestId` (empty when unknown).
    function requestPrompt(uint256 requestId) external view returns (bytes memory) {
        Request storage r = _requests[requestId];
        if (r.status == RequestStatus.None) return "";
        return _prompts[uint256(r.promptHash)];
    }

    /// @notice Whether `refund(requestId)` would pay now (Open, and expired, its prompt minted or no attester
    /// left).
    function isRefundable(uint256 requestId) external view returns (bool) {
        Request storage r = _requests[requestId];
        return r.status == RequestStatus.Open && _refundable(r);
    }

    /**
     * @notice Sets the request fee for new requests (open ones keep the fee they paid).
     * Requirements: caller is the owner; `newFee < 2^96` ({RequestFeeTooHigh}).
     * Emits {RequestFeeChanged}.
     */
    function setRequestFee(uint256 newFee) external onlyOwner {
        _setRequestFee(newFee);
    }

    /**
     * @notice Sets the timeout of new requests (open ones keep their `expiresAt`).
     * Requirements: caller is the owner; 1 <= `newTimeout` <= {MAX_REQUEST_TIMEOUT} ({InvalidRequestTimeout}).
     * Emits {RequestTimeoutChanged}.
     */
    function setRequestTimeout(uint256 newTimeout) external onlyOwner {
        _setRequestTimeout(newTimeout);
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
     * @notice Revokes `attester`; proofs it signed no longer verify (minted tokens stay). Removing the last one
     * makes every open request refundable at once: add a new attester before removing the old one.
     * Requirements: caller is the owner; `attester` is an attester ({NotAttester}).
     * Emits {AttesterRemoved}.
     */
    function removeAttester(address attester) external onlyOwner {
        if (!_attesters.remove(attester)) revert NotAttester(attester);
        emit AttesterRemoved(attester);
    }

    /*//////////////////////////////////////////////////////////////
                                 VIEWS
    //////////////////////////////////////////////////////////////*/

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
     * (format in the contract documentation): an `AigcMint` or an `AigcFulfilment` proof (the two kinds a
     * token's {AigcData} event can hold), for the recipient it names (`proofRecipient`). Never reverts on
     * malformed input or an unknown kind: returns false.
     */
    function verify(bytes calldata prompt_, bytes calldata aigcData, bytes calldata proof)
        external
        view
        returns (bool)
    {
        (bool ok,,,) = _verify(keccak256(prompt_), keccak256(aigcData), proof);
        return ok;
    }

    /// @notice The recipient `to` a canonical proof names, or the zero address when `proof` is malformed.
    function proofRecipient(bytes calldata proof) external pure returns (address) {
        (bool ok,,,, address to,) = _decodeProof(proof);
        return ok ? to : address(0);
    }

    /// @notice The kind of a canonical proof ({MINT_TYPEHASH} or {FULFILMENT_TYPEHASH}) and, for a fulfilment,
    /// the request it is bound to (0 otherwise); zero and 0 when `proof` is malformed or of an unknown kind.
    function proofKind(bytes calldata proof) external pure returns (bytes32 kind, uint256 requestId) {
        (, kind, requestId,,,) = _decodeProof(proof);
    }

    /// @notice The EIP-712 digest an attester signs for an `AigcMint` attestation of the hashes and recipient.
    function mintDigest(bytes32 promptHash, bytes32 aigcDataHash_, bytes32 commitment, address to)
        public
        view
        returns (bytes32)
    {
        return _hashTypedDataV4(
            keccak256(abi.encode(MINT_TYPEHASH, modelHash, promptHash, aigcDataHash_, commitment, to))
        );
    }

    /// @notice The EIP-712 digest an attester signs for an `AigcFulfilment` attestation of request `requestId`.
    function fulfilmentDigest(
        uint256 requestId,
        bytes32 promptHash,
        bytes32 aigcDataHash_,
        bytes32 commitment,
        address to
    ) public view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(abi.encode(FULFILMENT_TYPEHASH, requestId, modelHash, promptHash, aigcDataHash_, commitment, to))
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

    function _request(bytes calldata prompt_, address recipient, uint32 callbackGasLimit, uint256 maxTimeout)
        private
        nonReentrant
        returns (uint256 requestId)
    {
        uint256 fee = requestFee;
        if (msg.value != fee) revert WrongRequestFee(fee, msg.value);
        uint256 timeout = requestTimeout;
        if (timeout > maxTimeout) revert RequestTimeoutAboveBound(timeout, maxTimeout);
        if (_attesters.length() == 0) revert NoAttesters();
        if (prompt_.length == 0) revert EmptyPrompt();
        if (prompt_.length > MAX_REQUEST_PROMPT_BYTES) revert PromptTooLong(prompt_.length, MAX_REQUEST_PROMPT_BYTES);
        if (recipient == address(0)) revert ZeroRecipient();
        if (callbackGasLimit > MAX_CALLBACK_GAS_LIMIT) {
            revert CallbackGasLimitTooHigh(callbackGasLimit, MAX_CALLBACK_GAS_LIMIT);
        }
        bytes32 promptHash = keccak256(prompt_);
        uint256 tokenId_ = uint256(promptHash);
        if (_ownerOf(tokenId_) != address(0)) revert PromptAlreadyMinted(tokenId_);
        // Same prompt, same bytes: an earlier request of this prompt stored them already.
        if (_prompts[tokenId_].length == 0) _prompts[tokenId_] = prompt_;
        // Cannot overflow: one per request; block.timestamp + a year fits 40 bits until the year 36812.
        unchecked {
            requestId = ++requestCount;
        }
        // forge-lint: disable-next-line(unsafe-typecast) fits: now + at most a year < 2^40 s until the year 36812
        uint40 expiresAt = uint40(block.timestamp + timeout);
        _requests[requestId] = Request({
            requester: msg.sender,
            expiresAt: expiresAt,
            callbackGasLimit: callbackGasLimit,
            status: RequestStatus.Open,
            recipient: recipient,
            // forge-lint: disable-next-line(unsafe-typecast) fits: fee == requestFee, a uint96
            fee: uint96(fee),
            promptHash: promptHash
        });
        openEscrow += fee;
        emit Requested(requestId, msg.sender, recipient, promptHash, prompt_, fee, expiresAt);
    }

    /// @dev Whether open request `r` may be refunded now: expired, its prompt minted, or no attester left.
    function _refundable(Request storage r) private view returns (bool) {
        return
            block.timestamp >= r.expiresAt || _ownerOf(uint256(r.promptHash)) != address(0) || _attesters.length() == 0;
    }

    /// @dev Request `requestId`, which must be Open ({UnknownRequest}, {RequestNotOpen}).
    function _openRequest(uint256 requestId) private view returns (Request storage r) {
        r = _requests[requestId];
        RequestStatus status = r.status;
        if (status != RequestStatus.Open) {
            if (status == RequestStatus.None) revert UnknownRequest(requestId);
            revert RequestNotOpen(requestId, status);
        }
    }

    /// @dev Mints the requested prompt's token (its prompt stored by `request`) with data attested for request
    /// `requestId` to `recipient`.
    function _mintRequested(
        uint256 requestId,
        address recipient,
        bytes32 promptHash,
        bytes calldata aigcData,
        bytes calldata proof,
        string calldata uri
    ) private returns (uint256 tokenId_) {
        tokenId_ = uint256(promptHash);
        if (_ownerOf(tokenId_) != address(0)) revert PromptAlreadyMinted(tokenId_);
        _storeAttestedData(FULFILMENT_TYPEHASH, requestId, recipient, tokenId_, aigcData, proof);
        // Cannot overflow: one increment per distinct prompt.
        unchecked {
            ++totalMinted;
        }
        _mint(recipient, tokenId_);
        if (bytes(uri).length != 0) _setTokenURI(tokenId_, uri);
        _emitAigcData(tokenId_, promptHash, aigcDataHash[tokenId_], proof);
    }

    /// @dev Calls `recipient.onAigcFulfilled` with exactly `gasLimit` gas when it declares the interface;
    /// its outcome and return data are ignored (no copy: a return-data bomb costs nothing).
    function _callBack(uint256 requestId, uint256 tokenId_, address recipient, uint256 gasLimit, bytes calldata data)
        private
    {
        if (!ERC165Checker.supportsInterface(recipient, type(IAigcFulfillmentReceiver).interfaceId)) return;
        bytes memory callData = abi.encodeCall(IAigcFulfillmentReceiver.onAigcFulfilled, (requestId, tokenId_, data));
        // 63/64 rule: the CALL forwards at most 63/64 of what is left, so a fulfiller could otherwise starve
        // the callback on purpose. Require enough for the full limit, or revert the whole fulfilment.
        uint256 needed = gasLimit + gasLimit / 63 + CALLBACK_GAS_RESERVE;
        uint256 available = gasleft();
        if (available < needed) revert InsufficientGasForCallback(needed, available);
        bool success;
        assembly ("memory-safe") {
            success := call(gasLimit, recipient, 0, add(callData, 0x20), mload(callData), 0, 0)
        }
        emit FulfillmentCallback(requestId, recipient, success);
    }

    function _forwardToToken(uint256 amount) private {
        (bool ok,) = imoToken.call{value: amount}("");
        if (!ok) revert FeeForwardFailed();
    }

    /// @dev Emits {AigcData} from the hashes (what its indexed `bytes` topics hold), so `fulfill` need not
    /// load the stored prompt.
    function _emitAigcData(uint256 tokenId_, bytes32 promptHash, bytes32 dataHash, bytes calldata proof) private {
        bytes32 topic0 = IERC7007.AigcData.selector;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            let len := proof.length
            mstore(ptr, 0x20)
            mstore(add(ptr, 0x20), len)
            // zero the padding word first, then copy the bytes over its start
            mstore(add(add(ptr, 0x40), len), 0)
            calldatacopy(add(ptr, 0x40), proof.offset, len)
            let size := add(0x40, and(add(len, 31), not(31)))
            log4(ptr, size, topic0, tokenId_, promptHash, dataHash)
        }
    }

    /// @dev Verifies that `proof` is of kind `kind` (for a fulfilment, of request `requestId`) for token
    /// `tokenId_`'s prompt, `aigcData` and recipient `to`, then records the data hash.
    function _storeAttestedData(
        bytes32 kind,
        uint256 requestId,
        address to,
        uint256 tokenId_,
        bytes calldata aigcData,
        bytes calldata proof
    ) private {
        bytes32 dataHash = keccak256(aigcData);
        (bool ok, bytes32 provenKind, uint256 provenRequest, address provenTo) =
            _verify(bytes32(tokenId_), dataHash, proof);
        if (!ok) revert InvalidProof();
        if (provenKind != kind) revert ProofKindMismatch(kind, provenKind);
        if (provenRequest != requestId) revert ProofRequestMismatch(requestId, provenRequest);
        if (provenTo != to) revert ProofRecipientMismatch(to, provenTo);
        aigcDataHash[tokenId_] = dataHash;
    }

    /// @dev Whether `proof` is a canonical, valid attestation of the hashes; its kind, its request (0 for a
    /// mint) and the recipient it attests.
    function _verify(bytes32 promptHash, bytes32 dataHash, bytes calldata proof)
        private
        view
        returns (bool ok, bytes32 kind, uint256 requestId, address to)
    {
        bytes32 digest;
        bytes calldata signature;
        {
            bytes32 commitment;
            (ok, kind, requestId, commitment, to, signature) = _decodeProof(proof);
            if (!ok) return (false, bytes32(0), 0, address(0));
            digest = kind == MINT_TYPEHASH
                ? mintDigest(promptHash, dataHash, commitment, to)
                : fulfilmentDigest(requestId, promptHash, dataHash, commitment, to);
        }
        if (signature.length == ECDSA_SIGNATURE_LENGTH) {
            (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecoverCalldata(digest, signature);
            return (err == ECDSA.RecoverError.NoError && _attesters.contains(recovered), kind, requestId, to);
        }
        (bool ok2, bytes32 signerWord, bytes calldata signerSignature) = _decodeWordsAndBytes(signature, 1);
        if (!ok2 || uint256(signerWord) >> 160 != 0) return (false, kind, requestId, to);
        address signer = address(uint160(uint256(signerWord)));
        ok = _attesters.contains(signer)
            && SignatureChecker.isValidERC1271SignatureNowCalldata(signer, digest, signerSignature);
    }

    /**
     * @dev Decodes a canonical proof. Its first word is its kind: {MINT_TYPEHASH} for `abi.encode(kind,
     * commitment, to, signature)`, {FULFILMENT_TYPEHASH} for `abi.encode(kind, requestId, commitment, to,
     * signature)`; any other kind, or a non-canonical encoding, gives ok = false (and zeros).
     */
    function _decodeProof(bytes calldata proof)
        private
        pure
        returns (bool ok, bytes32 kind, uint256 requestId, bytes32 commitment, address to, bytes calldata signature)
    {
        signature = proof[0:0];
        if (proof.length < WORD) return (false, bytes32(0), 0, bytes32(0), address(0), signature);
        kind = bytes32(proof[0:WORD]);
        // The static words that follow the kind: (commitment, to), or (requestId, commitment, to).
        uint256 heads;
        if (kind == MINT_TYPEHASH) heads = 3;
        else if (kind == FULFILMENT_TYPEHASH) heads = 4;
        else return (false, bytes32(0), 0, bytes32(0), address(0), signature);
        bytes32 toWord;
        (ok, toWord, signature) = _decodeWordsAndBytes(proof, heads);
        if (!ok || uint256(toWord) >> 160 != 0) return (false, bytes32(0), 0, bytes32(0), address(0), signature);
        if (heads == 4) requestId = uint256(bytes32(proof[WORD:2 * WORD]));
        commitment = bytes32(proof[(heads - 2) * WORD:(heads - 1) * WORD]);
        to = address(uint160(uint256(toWord)));
    }

    /**
     * @dev Decodes a canonical `abi.encode(w_1, ..., w_heads, bytes tail)` (static words, then one `bytes`):
     * offset word exactly 32 * (heads + 1), total length exactly that + 32 + the tail length rounded up to
     * 32, padding bytes zero. Returns the last static word and the tail; ok = false instead of reverting.
     */
    function _decodeWordsAndBytes(bytes calldata data, uint256 heads)
        private
        pure
        returns (bool ok, bytes32 lastHead, bytes calldata tail)
    {
        tail = data[0:0];
        uint256 start = (heads + 1) * WORD; // where the length word sits
        if (data.length < start + WORD) return (false, bytes32(0), tail);
        lastHead = bytes32(data[(heads - 1) * WORD:heads * WORD]);
        uint256 offset = uint256(bytes32(data[heads * WORD:start]));
        uint256 length = uint256(bytes32(data[start:start + WORD]));
        if (offset != start || length > data.length) return (false, bytes32(0), tail);
        // Cannot overflow: length <= data.length.
        uint256 padded;
        unchecked {
            padded = ((length + WORD - 1) / WORD) * WORD;
        }
        uint256 body = start + WORD;
        if (data.length != body + padded) return (false, bytes32(0), tail);
        if (padded != length) {
            // The last word's bytes after the tail must be zero.
            uint256 lastWord = uint256(bytes32(data[body + padded - WORD:body + padded]));
            if (lastWord << ((length % WORD) * 8) != 0) return (false, bytes32(0), tail);
        }
        return (true, lastHead, data[body:body + length]);
    }

    function _addAttester(address attester) private {
        if (attester == address(0)) revert ZeroAttester();
        if (!_attesters.add(attester)) revert AlreadyAttester(attester);
        emit AttesterAdded(attester);
    }

    function _setRequestFee(uint256 newFee) private {
        if (newFee > type(uint96).max) revert RequestFeeTooHigh(newFee, type(uint96).max);
        emit RequestFeeChanged(requestFee, newFee);
        // forge-lint: disable-next-line(unsafe-typecast) checked just above
        requestFee = uint96(newFee);
    }

    function _setRequestTimeout(uint256 newTimeout) private {
        if (newTimeout == 0 || newTimeout > MAX_REQUEST_TIMEOUT) {
            revert InvalidRequestTimeout(newTimeout, MAX_REQUEST_TIMEOUT);
        }
        emit RequestTimeoutChanged(requestTimeout, newTimeout);
        // forge-lint: disable-next-line(unsafe-typecast) checked just above (<= a year)
        requestTimeout = uint64(newTimeout);
    }
}
