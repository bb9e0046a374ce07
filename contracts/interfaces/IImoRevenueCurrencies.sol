// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/**
 * @title Revenue in ERC-20 currencies for an ERC-7641 token (ImoToken's extension)
 * @notice A token shares revenue in its native currency (EIP-7641, unchanged) and in a list of up to
 * `MAX_REVENUE_CURRENCIES` ERC-20 **revenue currencies** fixed at deployment (never added, never removed).
 *
 * Currency addresses: every function below that takes a `currency` takes `address(0)` for the native
 * currency (the same amounts as the EIP-7641 function of the same name) or a listed ERC-20; any other
 * address reverts with {UnknownCurrency} (views included). `revenueCurrencies()` lists the ERC-20s only, in
 * deployment order; the native currency is implicit and always accepted as `address(0)`.
 *
 * Revenue in an ERC-20 is balance-based, as ether: whatever the token holds of it beyond what it owes
 * (redemption pool + outstanding claims + credits) is pending revenue, split at the next `snapshot()` into
 * that currency's claim and redemption pools with the same `percentClaimable`, claim window, rollover and
 * flash-loan rule as ether. Paying needs no approval or callback: a plain `transfer` or an EIP-3009
 * `transferWithAuthorization` to the token is revenue. Unlisted ERC-20s sent to the token are never counted
 * ({recoverUnlistedToken}).
 *
 * Failed ERC-20 payouts (e.g. a USDC-blacklisted holder): the amount is **credited** to the holder
 * ({PayoutCredited}, `creditOf`) and stays owed (never counted as revenue again) until the holder withdraws
 * it with {withdrawCredit}; a failing currency never blocks the holder's other currencies nor `burn`.
 * A failed native payout still reverts with PayoutFailed, as in EIP-7641.
 */
interface IImoRevenueCurrencies {
    /*//////////////////////////////////////////////////////////////
                                 ERRORS
    //////////////////////////////////////////////////////////////*/

    /// @notice `currency` is neither `address(0)` (native) nor a listed revenue currency.
    error UnknownCurrency(address currency);
    /// @notice More than `max` ERC-20 revenue currencies at deployment.
    error TooManyCurrencies(uint256 count, uint256 max);
    /// @notice `currency` appears twice in the deployment list.
    error DuplicateCurrency(address currency);
    /// @notice `currency` cannot be a revenue currency: the zero address, the token itself, no code, or no
    /// working `balanceOf`/`totalSupply`.
    error InvalidCurrency(address currency);
    /// @notice `token` is a revenue currency (or native), so it cannot be recovered: it is revenue.
    error ListedCurrency(address token);
    /// @notice `holder` has no credit in `currency`.
    error NothingToWithdraw(address holder, address currency);
    /// @notice A batch claim found nothing to pay `holder` in any of the requested currencies.
    error NothingClaimed(address holder);

    /*//////////////////////////////////////////////////////////////
                                 EVENTS
    //////////////////////////////////////////////////////////////*/

    /// @notice Snapshot `id` split `currency`'s revenue (ERC-20s only, emitted when any amount is non-zero; the
    /// native split is EIP-7641's SnapshotTaken): `claimPool` (including `rolledOver`) for holders at `id`,
    /// `toRedemption` to the redemption pool.
    event CurrencySnapshotTaken(
        uint256 indexed id, address indexed currency, uint256 claimPool, uint256 toRedemption, uint256 rolledOver
    );
    /// @notice `holder` claimed `amount` of `currency` (an ERC-20) from snapshot `snapshotId`.
    event CurrencyRevenueClaimed(
        address indexed holder, uint256 indexed snapshotId, address indexed currency, uint256 amount
    );
    /// @notice `holder` burned `burned` tokens and was owed `payout` of `currency` (an ERC-20) for them.
    event CurrencyRedeemed(address indexed holder, address indexed currency, uint256 burned, uint256 payout);
    /// @notice Paying `amount` of `currency` to `holder` failed; it is credited to `holder` ({withdrawCredit}).
    event PayoutCredited(address indexed holder, address indexed currency, uint256 amount);
    /// @notice `holder` withdrew `amount` of `currency` previously credited.
    event CreditWithdrawn(address indexed holder, address indexed currency, uint256 amount);
    /// @notice `amount` of the unlisted ERC-20 `token` was sent to `to` (the owner).
    event UnlistedTokenRecovered(address indexed token, address indexed to, uint256 amount);

    /*//////////////////////////////////////////////////////////////
                                 WRITES
    //////////////////////////////////////////////////////////////*/

    /**
     * @notice Pays the caller's share of snapshot `snapshotId` in `currency` (`address(0)`: exactly
     * EIP-7641's `claim(uint256)`). Same checks and errors as `claim(uint256)` (UnknownSnapshot,
     * SnapshotExpired, ClaimNotOpen, AlreadyClaimed, NothingToClaim); an ERC-20 payout that fails is
     * credited ({PayoutCredited}) instead of reverting. Claimed flags are per currency: claiming one currency
     * never marks or pays another.
     * Emits {CurrencyRevenueClaimed} (RevenueClaimed for native).
     */
    function claim(uint256 snapshotId, address currency) external;

    /**
     * @notice Claims every (snapshot, currency) pair of `snapshotIds` x `currencies` with one payment per
     * currency. Pairs already claimed or with a zero share are skipped; an unknown, expired or not yet open
     * snapshot, an unknown currency or an empty list reverts (UnknownSnapshot, SnapshotExpired,
     * ClaimNotOpen, {UnknownCurrency}, EmptyBatch); nothing to pay at all reverts ({NothingClaimed}).
     * Failed ERC-20 payouts are credited; a failed native payout reverts (PayoutFailed).
     * Emits {CurrencyRevenueClaimed} / RevenueClaimed per pair paid.
     */
    function claimBatch(uint256[] calldata snapshotIds, address[] calldata currencies) external;

    /**
     * @notice Pays the caller everything credited to it in `currency` (an ERC-20) after failed payouts.
     * Requirements: a non-zero credit ({NothingToWithdraw}); the transfer succeeds (else it reverts and the
     * credit stays).
     * Emits {CreditWithdrawn}.
     */
    function withdrawCredit(address currency) external;

    /**
     * @notice Sends the token's whole balance of `token`, an ERC-20 that is not a revenue currency (sent by
     * mistake; never counted as revenue), to `owner()`. Anyone may call it.
     * Requirements: `token` is not listed, not native and not this token ({ListedCurrency}).
     * Emits {UnlistedTokenRecovered}.
     */
    function recoverUnlistedToken(address token) external;

    /*//////////////////////////////////////////////////////////////
                                 VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @notice The most ERC-20 revenue currencies a token can list (7: the claimed flags of all of them fit in one
    /// storage word per holder).
    function MAX_REVENUE_CURRENCIES() external view returns (uint256);

    /// @notice The ERC-20 revenue currencies, in deployment order (native, `address(0)`, is implicit).
    function revenueCurrencies() external view returns (address[] memory);

    /// @notice Whether `currency` is `address(0)` or a listed ERC-20 revenue currency.
    function isRevenueCurrency(address currency) external view returns (bool);

    /// @notice What `account` can claim from snapshot `snapshotId` in `currency` now; 0 when the snapshot is
    /// unknown, expired, not yet open or already claimed in that currency.
    function claimableRevenue(address account, uint256 snapshotId, address currency) external view returns (uint256);

    /// @notice Whether `account` has claimed snapshot `id` in `currency` (kept for every live snapshot).
    function hasClaimed(address account, uint256 id, address currency) external view returns (bool);

    /// @notice What burning `amount` tokens would pay now in `currency` (native: `redeemableOnBurn(amount)`).
    function redeemableOnBurn(uint256 amount, address currency) external view returns (uint256);

    /// @notice What burning `amount` tokens would pay now in every currency: `currencies[0]` is `address(0)`
    /// (native), then `revenueCurrencies()` in order; `amounts[i]` is paid in `currencies[i]`.
    function redeemableOnBurnAll(uint256 amount)
        external
        view
        returns (address[] memory currencies, uint256[] memory amounts);

    /// @notice Revenue in `currency` received since the latest snapshot and not yet split (0 when the balance
    /// is below what is owed, e.g. after a negative rebase).
    function pendingRevenue(address currency) external view returns (uint256);

    /// @notice How the next snapshot would split `currency`'s pending revenue (see `pendingSplit()`).
    function pendingSplit(address currency) external view returns (uint256 toClaim, uint256 toRedemption);

    /// @notice `currency` set aside for burners at past snapshots.
    function redemptionPool(address currency) external view returns (uint256);

    /// @notice What live snapshots still owe their holders in `currency`.
    function outstandingClaims(address currency) external view returns (uint256);

    /// @notice The sum of all credits in `currency` (failed payouts not yet withdrawn; 0 for native).
    function totalCredits(address currency) external view returns (uint256);

    /// @notice What failed payouts credited `account` in `currency` (0 for native).
    function creditOf(address account, address currency) external view returns (uint256);

    /**
     * @notice Snapshot `id` in `currency`.
     * Requirements: the snapshot exists (UnknownSnapshot); `currency` is known ({UnknownCurrency}).
     * @return claimPool Shared by holders at `id` (new revenue share plus rollover); for an expired snapshot
     * of an ERC-20 currency it may read 0 (its record can be recycled).
     * @return claimed Claimed so far (same caveat).
     * @return expired Whether the snapshot is no longer claimable.
     */
    function snapshotInfo(uint256 id, address currency)
        external
        view
        returns (uint256 claimPool, uint256 claimed, bool expired);
}
