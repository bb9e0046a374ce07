// SPDX-License-Identifier: MIT
pragma solidity ^0.8.26;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC3009} from "@openzeppelin/contracts/token/ERC20/extensions/draft-ERC3009.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";

/**
 * @title TestUsdc: a development stand-in for Circle's USDC (FiatTokenV2_2), for local chains and tests
 * @notice Same external behaviour as USDC where imo and x402 touch it: 6 decimals; EIP-712 domain
 * `{name: "USD Coin", version: "2", chainId, verifyingContract}` (USDC's on Ethereum and Base, so the
 * `extra.name`/`extra.version` an x402 server reads from `name()` and `version()` are the real ones);
 * EIP-2612 `permit`; EIP-3009 `transferWithAuthorization`, `receiveWithAuthorization` and
 * `cancelAuthorization` with random 32-byte nonces and `authorizationState`, each in the `(v, r, s)` and
 * the `bytes signature` form; signatures checked as FiatTokenV2_2 checks them (ECDSA for an account
 * without code, ERC-1271 only for one with code, in both forms); validity `validAfter < now < validBefore`
 * in seconds (OpenZeppelin's block-number mode is switched off, USDC has none); a blacklist that blocks
 * an account from sending, receiving and spending an allowance, but not from approving or being
 * approved (FiatTokenV2_2 dropped those checks). Only the deployer (`owner`) mints and blacklists. Not
 * for production use: no pause, no minter allowances, no upgrades.
 *
 * Invariants: the sum of all balances equals `totalSupply`, which only `mint` raises; an authorization
 * `(authorizer, nonce)` takes effect at most once: `authorizationState` only ever goes from false to
 * true, by exactly one successful transfer, receive or cancel; no balance of a blacklisted account
 * changes.
 */
contract TestUsdc is ERC20, EIP712, ERC3009, IERC20Permit, Nonces, Ownable {
    /*////////////////////////////// errors //////////////////////////////*/

    /// @notice `account` is blacklisted (USDC: "Blacklistable: account is blacklisted").
    error AccountBlacklisted(address account);
    /// @notice The permit's `deadline` has passed (USDC: "FiatTokenV2: permit is expired").
    error ERC2612ExpiredSignature(uint256 deadline);
    /// @notice The permit is not signed by `owner` (USDC: "EIP2612: invalid signature").
    error ERC2612InvalidSignature(address owner);
    /// @notice `receiveWithAuthorization` called by someone else than the payee (USDC: "caller must be the payee").
    error CallerNotPayee(address caller, address payee);

    /*////////////////////////////// events //////////////////////////////*/

    /// @notice `account` can no longer send, receive or spend an allowance.
    event Blacklisted(address indexed account);
    /// @notice `account` can send, receive and spend allowances again.
    event UnBlacklisted(address indexed account);

    /*////////////////////////////// storage //////////////////////////////*/

    /// @dev Slot order after the inherited ones: blacklist flags only.
    mapping(address account => bool) private _blacklisted;

    /*////////////////////////////// constants //////////////////////////////*/

    /// @notice EIP-2612's permit type hash (the same constant as USDC's `PERMIT_TYPEHASH`).
    bytes32 public constant PERMIT_TYPEHASH =
        keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)");

    /*////////////////////////////// constructor //////////////////////////////*/

    /// @notice The deployer becomes the owner, the only account that mints and blacklists.
    constructor() ERC20("USD Coin", "USDC") EIP712("USD Coin", "2") Ownable(msg.sender) {}

    /*////////////////////////////// ERC-20 metadata //////////////////////////////*/

    /// @notice 6, as USDC.
    function decimals() public pure override returns (uint8) {
        return 6;
    }

    /// @notice The EIP-712 domain version, "2", as USDC's `version()`; x402 facilitators read it.
    function version() external pure returns (string memory) {
        return "2";
    }

    /*////////////////////////////// owner: faucet and blacklist //////////////////////////////*/

    /**
     * @notice Creates `amount` (6-decimal units) for `to`, e.g. a development account.
     * @dev Requirements: caller is the owner; `to` is not blacklisted. Emits {Transfer} from address(0).
     */
    function mint(address to, uint256 amount) external onlyOwner {
        _mint(to, amount);
    }

    /**
     * @notice Blocks `account` from sending, receiving and spending allowances (its balance is frozen).
     * @dev Requirements: caller is the owner. Emits {Blacklisted}.
     */
    function blacklist(address account) external onlyOwner {
        _blacklisted[account] = true;
        emit Blacklisted(account);
    }

    /**
     * @notice Lifts the block on `account`.
     * @dev Requirements: caller is the owner. Emits {UnBlacklisted}.
     */
    function unBlacklist(address account) external onlyOwner {
        _blacklisted[account] = false;
        emit UnBlacklisted(account);
    }

    /// @notice Whether `account` is blacklisted.
    function isBlacklisted(address account) external view returns (bool) {
        return _blacklisted[account];
    }

    /*////////////////////////////// ERC-20 //////////////////////////////*/

    /**
     * @notice ERC-20 `transferFrom`; as USDC, the spender must not be blacklisted either.
     * @dev Requirements: caller, `from` and `to` not blacklisted; allowance and balance suffice.
     */
    function transferFrom(address from, address to, uint256 value) public override returns (bool) {
        _requireNotBlacklisted(_msgSender());
        return super.transferFrom(from, to, value);
    }

    /*////////////////////////////// EIP-2612 //////////////////////////////*/

    /// @inheritdoc IERC20Permit
    // solhint-disable-next-line func-name-mixedcase
    function DOMAIN_SEPARATOR() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /// @inheritdoc IERC20Permit
    function nonces(address owner) public view override(IERC20Permit, Nonces) returns (uint256) {
        return super.nonces(owner);
    }

    /**
     * @notice EIP-2612: sets `spender`'s allowance over `owner`'s tokens to `value` by `owner`'s signature.
     * @dev Requirements: `deadline` not passed; signed by `owner` (ERC-1271 if `owner` has code) over
     * `owner`'s current nonce. Emits {Approval}.
     */
    function permit(address owner, address spender, uint256 value, uint256 deadline, uint8 v, bytes32 r, bytes32 s)
        external
    {
        _permit(owner, spender, value, deadline, abi.encodePacked(r, s, v));
    }

    /// @notice {permit} with the signature as bytes (USDC's form for contract wallets).
    function permit(address owner, address spender, uint256 value, uint256 deadline, bytes memory signature) external {
        _permit(owner, spender, value, deadline, signature);
    }

    /*////////////////////////////// EIP-3009 //////////////////////////////*/

    /**
     * @notice EIP-3009: anyone submits `from`'s signed authorization to move `value` to `to`.
     * @dev Requirements: `validAfter < block.timestamp < validBefore`; nonce unused and not cancelled;
     * signed by `from` (ERC-1271 if `from` has code); neither blacklisted; balance suffices.
     * Emits {AuthorizationUsed} and {Transfer}.
     */
    function transferWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) public override {
        transferWithAuthorization(from, to, value, validAfter, validBefore, nonce, abi.encodePacked(r, s, v));
    }

    /// @notice {transferWithAuthorization} with the signature as bytes.
    function transferWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        bytes memory signature
    ) public {
        _requireSignedBy(
            from,
            keccak256(
                abi.encode(TRANSFER_WITH_AUTHORIZATION_TYPEHASH, from, to, value, validAfter, validBefore, nonce)
            ),
            signature
        );
        _transferWithAuthorization(from, to, value, validAfter, validBefore, nonce);
    }

    /**
     * @notice EIP-3009: the payee `to` itself submits `from`'s authorization, so nobody can front-run it
     * out of the mempool and make the transfer happen outside the payee's own transaction.
     * @dev Requirements: caller is `to`; otherwise as {transferWithAuthorization} (with its own type hash,
     * so a transfer authorization cannot be used here nor the reverse). Emits {AuthorizationUsed}, {Transfer}.
     */
    function receiveWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) public override {
        receiveWithAuthorization(from, to, value, validAfter, validBefore, nonce, abi.encodePacked(r, s, v));
    }

    /// @notice {receiveWithAuthorization} with the signature as bytes.
    function receiveWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        bytes memory signature
    ) public {
        require(to == _msgSender(), CallerNotPayee(_msgSender(), to));
        _requireSignedBy(
            from,
            keccak256(abi.encode(RECEIVE_WITH_AUTHORIZATION_TYPEHASH, from, to, value, validAfter, validBefore, nonce)),
            signature
        );
        _transferWithAuthorization(from, to, value, validAfter, validBefore, nonce);
    }

    /**
     * @notice EIP-3009: `authorizer` voids an authorization it signed but that was not used yet.
     * @dev Requirements: nonce unused and not cancelled; signed by `authorizer`. Emits {AuthorizationCanceled}.
     */
    function cancelAuthorization(address authorizer, bytes32 nonce, uint8 v, bytes32 r, bytes32 s) public override {
        cancelAuthorization(authorizer, nonce, abi.encodePacked(r, s, v));
    }

    /// @notice {cancelAuthorization} with the signature as bytes.
    function cancelAuthorization(address authorizer, bytes32 nonce, bytes memory signature) public {
        _requireSignedBy(authorizer, keccak256(abi.encode(CANCEL_AUTHORIZATION_TYPEHASH, authorizer, nonce)), signature);
        _cancelAuthorization(authorizer, nonce);
    }

    /*////////////////////////////// internal //////////////////////////////*/

    /// @dev Every balance change passes here: neither side may be blacklisted (mint has from = 0).
    function _update(address from, address to, uint256 value) internal override {
        _requireNotBlacklisted(from);
        _requireNotBlacklisted(to);
        super._update(from, to, value);
    }

    /// @dev Timestamps only, strictly inside the window, as USDC (OpenZeppelin also has a block-number mode).
    function _checkValidity(uint256 validAfter, uint256 validBefore) internal view override {
        require(
            block.timestamp > validAfter && block.timestamp < validBefore,
            ERC3009InvalidAuthorizationTime(validAfter, validBefore)
        );
    }

    function _permit(address owner, address spender, uint256 value, uint256 deadline, bytes memory signature) private {
        require(block.timestamp <= deadline, ERC2612ExpiredSignature(deadline));
        bytes32 structHash = keccak256(abi.encode(PERMIT_TYPEHASH, owner, spender, value, _useNonce(owner), deadline));
        require(
            SignatureChecker.isValidSignatureNow(owner, _hashTypedDataV4(structHash), signature),
            ERC2612InvalidSignature(owner)
        );
        _approve(owner, spender, value);
    }

    /// @dev FiatTokenV2_2's rule: ECDSA when `signer` has no code, ERC-1271 alone when it has.
    function _requireSignedBy(address signer, bytes32 structHash, bytes memory signature) private view {
        require(
            SignatureChecker.isValidSignatureNow(signer, _hashTypedDataV4(structHash), signature),
            ERC3009InvalidSignature()
        );
    }

    function _requireNotBlacklisted(address account) private view {
        require(!_blacklisted[account], AccountBlacklisted(account));
    }
}
