// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {ERC165} from "@openzeppelin/contracts/utils/introspection/ERC165.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IERC7641} from "./interfaces/IERC7641.sol";
import {IImoRevenueCurrencies} from "./interfaces/IImoRevenueCurrencies.sol";
import {SnapshotCheckpoints} from "./utils/SnapshotCheckpoints.sol";

/**
 * @title ImoToken: the ERC-7641 Intrinsic RevShare Token of an Initial Model Offering
 * @notice Invariant: the contract's ether balance always covers what it owes, i.e.
 * `balance >= redemptionPool + outstandingClaims`, where `outstandingClaims` is the sum over live snapshots
 * of (claimPool - claimed); the rest of the balance is pending revenue (`pendingRevenue()`).
 *
 * Revenue (native currency) is whatever the balance holds beyond what is owed: `receive()` only emits
 * {RevenueReceived}, so it succeeds with the 2,300-gas stipend of Solidity's `transfer`/`send` (some
 * marketplaces pay ERC-2981 royalties that way). Ether forced in without a call (SELFDESTRUCT, block rewards)
 * therefore counts as revenue too, from the next snapshot on. Each `snapshot()` (at most one per
 * `snapshotInterval` seconds) splits the revenue received since the previous one, R:
 * `percentClaimable`% of R to that snapshot's claim pool, shared pro rata by balances at the snapshot, the
 * rest to the redemption pool, paid out on `burn` pro rata to the live supply. A snapshot stays claimable for
 * `claimWindow` snapshots: taking snapshot N expires snapshot N - claimWindow and rolls its unclaimed
 * remainder into snapshot N's pool (O(1)). Payouts round down, so the dust stays in the contract and no
 * later payout can exceed its pool.
 *
 * Snapshot rule (flash loans): a snapshot taken at block timestamp T holds the balances and the supply as
 * they are at the END of second T (the end of its block, or of the last block with timestamp T on chains
 * with several blocks a second); transfers and burns in that second, before or after the `snapshot()` call,
 * still count. Claims on it open at T + 1 ({ClaimNotOpen} before). Tokens borrowed and repaid within one
 * transaction are therefore never in a snapshot: a flash borrower who calls `snapshot()` holds 0 at the
 * end of the second and can claim nothing.
 *
 * Burn (as the EIP-7641 reference): burning `amount` of supply S pays `amount / S` of the redemption pool
 * plus `amount / S` of what is left of the redemption part ((100 - percentClaimable)% of R) of the revenue
 * received since the last snapshot; the claim part of R goes to the next snapshot's claim pool whole.
 *
 * Empty supply: the whole supply is minted at deployment and only `burn` reduces it. The burn that takes
 * the supply to zero pays out the redemption pool and all pending revenue (the burner then holds 100%).
 * When that burn happens in the second of the latest snapshot, it also pays out what is left of that
 * snapshot's claim pool, booked as the burner's claim ({RevenueClaimed}): the snapshot holds the balances
 * at the end of its second, when nobody holds anything, so no one else could ever claim it, and the burner
 * gets exactly what waiting one second, claiming, then burning would have paid it. With zero supply
 * `snapshot()` reverts with {NoHolders}; live snapshots then never expire and stay claimable by their
 * holders. Ether arriving after that (which `receive()` cannot refuse within a stipend) stays locked in the
 * contract.
 *
 * Limits: the supply fits in 128 bits (checked at deployment); `receive()` refuses a payment that would take
 * the balance above MAX_BALANCE = 2**112 - 1 wei, and any balance above it (forced ether) is never counted,
 * so every pool fits in 112 bits; `claimWindow` is at most 32 (claimed flags live in the holder's balance
 * word, see STORAGE); snapshot timestamps are stored as uint32 (good until the year 2106).
 *
 * Revenue currencies (ERC-20s, {IImoRevenueCurrencies}): besides ether, the token shares revenue in up to
 * MAX_REVENUE_CURRENCIES = 7 ERC-20s listed at deployment. The list is fixed: never added to, never removed
 * from, so what a holder is owed can never change under it. Every per-currency function takes `address(0)`
 * for ether. For each listed currency c, with the same rules as ether:
 * - Revenue is balance-based: the token's balance of c beyond what it owes in c (redemption pool +
 *   outstanding claims + credits) is pending revenue, so a plain `transfer` or an EIP-3009
 *   `transferWithAuthorization` to the token pays it; no approval, no callback. Each `snapshot()` splits it
 *   with `percentClaimable`, the claim window and rollover, and the same balances at the end of the
 *   snapshot's second (the flash-loan rule holds for every currency at once).
 * - Claims are per currency, with their own claimed flags (one word per holder holds those of all seven);
 *   `claimBatch(ids, currencies)` pays one transfer per currency. `burn` pays the redemption share of every
 *   currency, computed as for ether, and (whole supply) all of it.
 * - Invariants, per currency: balance >= redemptionPool + outstandingClaims + credits; revenue in = paid
 *   out (claimed + redeemed + credits withdrawn) + still claimable (live pools, which hold what expired and
 *   rolled over) + credits + redemptionPool + pending; no (snapshot, holder, currency) is paid twice. Shares
 *   round down in every currency (6 or 18 decimals alike): dust stays in the pools and rolls over.
 * - A payout that fails (a USDC-blacklisted holder; a `transfer` that reverts, returns false or uses more
 *   than CURRENCY_TRANSFER_GAS) is credited to the holder ({PayoutCredited}): still owed, never revenue again,
 *   withdrawn by the holder with `withdrawCredit` once the token lets it. It never blocks the holder's other
 *   currencies nor `burn`. A `balanceOf` that fails (or uses more than CURRENCY_READ_GAS) reads as no new
 *   revenue, so it never blocks `snapshot()` or `burn` either.
 * - Reentrancy: `snapshot`, `claim`, both `claimBatch`, `burn`, `withdrawCredit` and `recoverUnlistedToken`
 *   share one transient guard and book everything before paying, so a currency with transfer hooks
 *   (ERC-777 style) cannot re-enter, nor make a snapshot count a payout that is still owed as revenue.
 * - Fee-on-transfer and rebasing currencies cannot be detected at deployment (nothing is transferred then):
 *   revenue is what arrives; a holder receives its share less the currency's fee; a positive rebase is
 *   revenue; after a negative one the balance can fall below what is owed: pending revenue reads 0 and
 *   payouts the balance cannot cover are credited until it can. The deployer vouches for the listed
 *   currencies (a currency that lies about balances can only misreport its own revenue).
 * - ERC-20s that are not listed are never revenue: anyone may call `recoverUnlistedToken`, which sends the
 *   token's whole balance of one to `owner()`. Amounts count up to MAX_BALANCE, as ether.
 * - Gas: a transfer of this token touches no currency; `snapshot()` reads every listed currency's balance
 *   and writes its records only in pre-paid slots (see STORAGE).
 *
 * Deliberate differences from the EIP-7641 reference implementation (assets/erc-7641 of ethereum/ERCs):
 *
 * | case                           | reference                          | ImoToken                                                                  |
 * |--------------------------------|------------------------------------|---------------------------------------------------------------------------|
 * | snapshot rate limit            | 1,000 blocks, `require`            | `snapshotInterval` seconds, {SnapshotTooEarly}                            |
 * | balances a snapshot holds      | at the `snapshot()` call           | at the end of its second (flash-loan safe)                                |
 * | claim in the snapshot's second | allowed                            | {ClaimNotOpen}; `claimableRevenue` 0                                      |
 * | unknown snapshot id            | `claim`, `claimableRevenue` revert | `claim` {UnknownSnapshot}; `claimableRevenue` 0                           |
 * | nothing to claim               | "ERC7641: no claimable ETH"        | {NothingToClaim} or {AlreadyClaimed}                                      |
 * | claim window                   | none (claimable forever)           | 1-32 snapshots, then {SnapshotExpired}, rollover                          |
 * | `claimBatch([])`               | succeeds, does nothing             | {EmptyBatch}                                                              |
 * | `claimBatch`                   | one payment per snapshot           | one payment; all or nothing                                               |
 * | `burn(0)`                      | succeeds, pays 0                   | {ZeroBurn}                                                                |
 * | burning the whole supply       | its redemption share               | redemption pool + all pending revenue (+ a snapshot pool in its second)   |
 * | zero supply                    | views divide by zero (panic)       | `snapshot` reverts {NoHolders}; a zero-supply snapshot shares nothing     |
 * | revenue                        | balance-based, `receive()`         | same, capped at MAX_BALANCE                                               |
 * | reentrancy                     | no guard                           | guard on `snapshot`, `claim`, `claimBatch`, `burn`                        |
 * | revenue currencies             | ether only                         | ether + up to 7 ERC-20s fixed at deployment (above)                       |
 * | failed payout                  | require(ok)                        | {PayoutFailed}                                                            |
 * | extras                         | none                               | `hasClaimed`, `snapshotInfo`, `outstandingClaims`, `pendingSplit`, events |
 *
 * Storage layout (after OpenZeppelin's ERC20, EIP712/Nonces, Ownable; bit layouts in the STORAGE section):
 * the ERC-20 balances and total supply live in this contract's packed words, not in OpenZeppelin's
 * `_balances`/`_totalSupply` (unused), so that one slot per account holds its balance, its checkpoint
 * header and its claimed flags, and one slot holds the snapshot id, its timestamp, the supply and the
 * supply-checkpoint header. Every balance change still goes through `_update` with ERC20's checks, errors
 * and events.
 */
contract ImoToken is ERC20, ERC20Permit, IERC7641, IImoRevenueCurrencies, ERC165, Ownable, ReentrancyGuardTransient {
    /*//////////////////////////////////////////////////////////////
                                 ERRORS
    //////////////////////////////////////////////////////////////*/

    /// @notice `snapshot()` was called before `nextAllowedAt`.
    error SnapshotTooEarly(uint256 nextAllowedAt);
    /// @notice `holder`'s share of snapshot `snapshotId` is zero.
    error NothingToClaim(address holder, uint256 snapshotId);
    /// @notice `holder` already claimed snapshot `snapshotId`.
    error AlreadyClaimed(address holder, uint256 snapshotId);
    /// @notice Snapshot `snapshotId` expired when snapshot `expiredAtId` was taken.
    error SnapshotExpired(uint256 snapshotId, uint256 expiredAtId);
    /// @notice Snapshot `snapshotId` was taken in the current second; claims on it open at `opensAt`.
    error ClaimNotOpen(uint256 snapshotId, uint256 opensAt);
    /// @notice No snapshot `id` exists (ids start at 1 and end at `currentSnapshotId()`).
    error UnknownSnapshot(uint256 id);
    /// @notice `percentClaimable` must be at most 100.
    error InvalidPercent(uint256 percent);
    /// @notice The claim window must be at least one snapshot.
    error ZeroClaimWindow();
    /// @notice The claim window must be at most `max` snapshots.
    error ClaimWindowTooLong(uint256 window, uint256 max);
    /// @notice The snapshot interval must be at least one second.
    error ZeroSnapshotInterval();
    /// @notice The model hash must not be zero.
    error ZeroModelHash();
    /// @notice The initial supply must be between 1 and `max`.
    error InvalidSupply(uint256 supply, uint256 max);
    /// @notice Sending `amount` wei to `to` failed.
    error PayoutFailed(address to, uint256 amount);
    /// @notice The supply is zero, so no revenue can be shared.
    error NoHolders();
    /// @notice Accepting the revenue would take the balance to `balance`, above `max`.
    error BalanceCapExceeded(uint256 balance, uint256 max);
    /// @notice Burning zero tokens.
    error ZeroBurn();
    /// @notice `claimBatch` was called with no snapshot ids.
    error EmptyBatch();

    /*//////////////////////////////////////////////////////////////
                                 EVENTS
    //////////////////////////////////////////////////////////////*/

    /// @notice `amount` wei of revenue arrived from `from` through `receive()` (forced ether emits nothing).
    event RevenueReceived(address indexed from, uint256 amount);
    /// @notice Snapshot `id` was taken: `claimPool` (including `rolledOver` from the expired snapshot) is
    /// claimable by holders at `id`, `toRedemption` went to the redemption pool.
    event SnapshotTaken(uint256 indexed id, uint256 claimPool, uint256 toRedemption, uint256 rolledOver);
    /// @notice `holder` claimed `amount` wei from snapshot `snapshotId`.
    event RevenueClaimed(address indexed holder, uint256 indexed snapshotId, uint256 amount);
    /// @notice `holder` burned `burned` tokens and received `payout` wei.
    event Redeemed(address indexed holder, uint256 burned, uint256 payout);
    /// @notice The owner set the model URI to `uri`.
    event ModelURIUpdated(string uri);

    /*//////////////////////////////////////////////////////////////
                                 STORAGE
    //////////////////////////////////////////////////////////////*/

    // Hot state is packed by hand into whole words (one SLOAD and at most one SSTORE per word per call).
    // Bit layouts are given by the *_SHIFT constants below.

    /// @dev currentId (32) | lastSnapshotTimestamp (32) | supplyLastKey (32) | supplyLength (32) | supply (128).
    uint256 private _state;
    /// @dev redemptionPool (112) | outstandingClaims (112) | burnedFlag (1): burnedFlag says that
    /// `_snapshots[currentId + 1]` holds, until that snapshot is taken, the wei paid to burners out of the
    /// revenue received since the current snapshot.
    uint256 private _pools;
    /// @dev Per snapshot: claimPool (112) | claimed (112) | timestamp (32).
    mapping(uint256 id => uint256) private _snapshots;
    /// @dev Per account: balance (128) | lastKey (32) | length (32) of its checkpoint history | lastClaimed
    /// (32) | claimedBits (32), where bit j of claimedBits says that snapshot lastClaimed - j was claimed;
    /// with a length of 0, lastKey is the zero horizon ({SnapshotCheckpoints}). The ERC-20 balance lives here, next to its checkpoint header; OpenZeppelin's own balance storage is
    /// unused. Every live snapshot id is within 32 of the account's latest claimed id (claimWindow <= 32).
    mapping(address account => uint256) private _accounts;
    /// @dev Per account checkpoints, {SnapshotCheckpoints} entries.
    mapping(address account => mapping(uint256 index => uint256)) private _balanceEntries;
    /// @dev Total-supply checkpoints (written by the first burn of a period), {SnapshotCheckpoints} entries.
    mapping(uint256 index => uint256) private _supplyEntries;
    string private _modelURI;
    /// @dev Per ERC-20 currency index k: redemptionPool (112) | owed (112) | burnedFlag (1) | SLOT_USED, as
    /// `_pools`, where owed is the outstanding claims of live snapshots plus the credits of failed payouts
    /// (`_creditTotals`).
    mapping(uint256 k => uint256) private _currencyPools;
    /// @dev Per ERC-20 currency index k, per snapshot id, at index id % (claimWindow + 1) (a ring: the live ids
    /// and currentId + 1 are claimWindow + 1 consecutive ids, so they never share a slot): claimPool (112) |
    /// claimed (112) | SLOT_USED (bit 255); at currentId + 1, the burned amount while the burnedFlag of
    /// `_currencyPools[k]` is set, as `_snapshots`. Every slot is written non-zero at deployment and never
    /// zeroed (SLOT_USED), so a snapshot pays 5,000 gas per currency for it, not 22,100.
    mapping(uint256 k => mapping(uint256 id => uint256)) private _currencySnapshots;
    /// @dev Per account: lastClaimed (32) | 7 lanes of 32 claimed bits, lane k for ERC-20 currency k: bit j of
    /// lane k says that snapshot lastClaimed - j was claimed in currency k (as the native flags in `_accounts`).
    mapping(address account => uint256) private _currencyClaimed;
    /// @dev Failed ERC-20 payouts owed to an account, per currency index.
    mapping(address account => mapping(uint256 k => uint256)) private _credits;
    /// @dev Sum of `_credits[*][k]` (also inside owed of `_currencyPools[k]`).
    mapping(uint256 k => uint256) private _creditTotals;

    /*//////////////////////////////////////////////////////////////
                                CONSTANTS
    //////////////////////////////////////////////////////////////*/

    /// @notice Denominator of `percentClaimable`.
    uint256 public constant PERCENT_DENOMINATOR = 100;
    /// @notice The most wei the contract accepts to hold (and counts), so that every pool fits in 112 bits.
    uint256 public constant MAX_BALANCE = type(uint112).max;
    /// @notice The largest initial supply, so that balances fit in 128-bit checkpoints.
    uint256 public constant MAX_SUPPLY = type(uint128).max;
    /// @notice The longest claim window, in snapshots.
    uint256 public constant MAX_CLAIM_WINDOW = 32;
    /// @inheritdoc IImoRevenueCurrencies
    uint256 public constant MAX_REVENUE_CURRENCIES = 7;
    /// @notice Gas allowed to a revenue currency's `transfer` in a payout; beyond it the payout is credited.
    uint256 public constant CURRENCY_TRANSFER_GAS = 200_000;
    /// @notice Gas allowed to a revenue currency's `balanceOf`; beyond it the currency reads as holding 0.
    uint256 public constant CURRENCY_READ_GAS = 50_000;

    uint256 private constant MASK_32 = type(uint32).max;
    uint256 private constant MASK_112 = type(uint112).max;
    uint256 private constant MASK_128 = type(uint128).max;
    // _state
    uint256 private constant LAST_TS_SHIFT = 32;
    uint256 private constant SUPPLY_LAST_KEY_SHIFT = 64;
    uint256 private constant SUPPLY_LENGTH_SHIFT = 96;
    uint256 private constant SUPPLY_SHIFT = 128;
    // _pools
    uint256 private constant OUTSTANDING_SHIFT = 112;
    uint256 private constant BURNED_FLAG = 1 << 224;
    // _currencyPools, _currencySnapshots: set in every slot from deployment on, so none is ever zero again.
    uint256 private constant SLOT_USED = 1 << 255;
    // _snapshots
    uint256 private constant CLAIMED_SHIFT = 112;
    uint256 private constant TIMESTAMP_SHIFT = 224;
    // _accounts
    uint256 private constant LAST_KEY_SHIFT = 128;
    uint256 private constant LENGTH_SHIFT = 160;
    uint256 private constant LAST_CLAIMED_SHIFT = 192;
    uint256 private constant CLAIMED_BITS_SHIFT = 224;
    uint256 private constant HEADER_MASK = ((1 << 64) - 1) << LAST_KEY_SHIFT;
    // _currencyClaimed: lane k starts at bit 32 + 32k; LANE_ONES has bit 0 of every lane (lanes shifted down).
    uint256 private constant LANES_SHIFT = 32;
    uint256 private constant LANES_MASK = (1 << 224) - 1;
    uint256 private constant LANE_ONES = 0x00000001000000010000000100000001000000010000000100000001;

    /// @notice Hash of the model this token offers (`imo-model-v1`, section 2 of DESIGN).
    bytes32 public immutable modelHash;
    /// @notice Percentage (0-100) of each snapshot's new revenue that goes to its claim pool.
    uint8 public immutable percentClaimable;
    /// @notice Minimum number of seconds between two snapshots (and from deployment to the first).
    uint64 public immutable snapshotInterval;
    /// @notice Number of snapshots for which a snapshot stays claimable (1-32).
    uint32 public immutable claimWindow;
    /// @dev Deployment time: the first snapshot is allowed `snapshotInterval` seconds after it.
    uint256 private immutable _deployedAt;
    /// @dev The ERC-20 revenue currencies (immutables, so that finding one costs no storage read).
    uint256 private immutable _currencyCount;
    /// @dev claimWindow + 1: the size of each currency's ring of snapshot records.
    uint256 private immutable _ring;
    address private immutable _currency0;
    address private immutable _currency1;
    address private immutable _currency2;
    address private immutable _currency3;
    address private immutable _currency4;
    address private immutable _currency5;
    address private immutable _currency6;

    /*//////////////////////////////////////////////////////////////
                               CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    /**
     * @param name_ ERC-20 name (also the EIP-712 domain name for permit).
     * @param symbol_ ERC-20 symbol.
     * @param initialSupply Whole supply in wei units (18 decimals), minted to `recipient`; 1 .. MAX_SUPPLY.
     * @param recipient Receives the whole supply.
     * @param modelHash_ Model hash, non-zero.
     * @param modelURI_ Where the model can be fetched; the owner may change it.
     * @param percentClaimable_ 0-100.
     * @param snapshotInterval_ Seconds between snapshots, >= 1.
     * @param claimWindow_ Snapshots a snapshot stays claimable, 1 .. MAX_CLAIM_WINDOW.
     * @param owner_ May only update the model URI; receives unlisted ERC-20s ({recoverUnlistedToken}).
     * @param revenueCurrencies_ The ERC-20 revenue currencies (at most MAX_REVENUE_CURRENCIES, distinct,
     * contracts with a working `balanceOf`), fixed for the token's life; empty for native revenue only.
     */
    constructor(
        string memory name_,
        string memory symbol_,
        uint256 initialSupply,
        address recipient,
        bytes32 modelHash_,
        string memory modelURI_,
        uint8 percentClaimable_,
        uint64 snapshotInterval_,
        uint32 claimWindow_,
        address owner_,
        address[] memory revenueCurrencies_
    ) ERC20(name_, symbol_) ERC20Permit(name_) Ownable(owner_) {
        if (initialSupply == 0 || initialSupply > MAX_SUPPLY) {
            revert InvalidSupply(initialSupply, MAX_SUPPLY);
        }
        if (modelHash_ == bytes32(0)) revert ZeroModelHash();
        if (percentClaimable_ > PERCENT_DENOMINATOR) revert InvalidPercent(percentClaimable_);
        if (snapshotInterval_ == 0) revert ZeroSnapshotInterval();
        if (claimWindow_ == 0) revert ZeroClaimWindow();
        if (claimWindow_ > MAX_CLAIM_WINDOW) revert ClaimWindowTooLong(claimWindow_, MAX_CLAIM_WINDOW);
        modelHash = modelHash_;
        percentClaimable = percentClaimable_;
        snapshotInterval = snapshotInterval_;
        claimWindow = claimWindow_;
        _deployedAt = block.timestamp;
        _modelURI = modelURI_;
        uint256 count = revenueCurrencies_.length;
        if (count > MAX_REVENUE_CURRENCIES) revert TooManyCurrencies(count, MAX_REVENUE_CURRENCIES);
        for (uint256 i = 0; i < count; ++i) {
            address currency = revenueCurrencies_[i];
            _requireErc20(currency);
            for (uint256 j = 0; j < i; ++j) {
                if (revenueCurrencies_[j] == currency) revert DuplicateCurrency(currency);
            }
        }
        _currencyCount = count;
        uint256 ring = uint256(claimWindow_) + 1;
        _ring = ring;
        // Pre-pay every record slot and the pools word of each currency (see STORAGE).
        for (uint256 k = 0; k < count; ++k) {
            _currencyPools[k] = SLOT_USED;
            for (uint256 j = 0; j < ring; ++j) {
                _currencySnapshots[k][j] = SLOT_USED;
            }
        }
        _currency0 = count > 0 ? revenueCurrencies_[0] : address(0);
        _currency1 = count > 1 ? revenueCurrencies_[1] : address(0);
        _currency2 = count > 2 ? revenueCurrencies_[2] : address(0);
        _currency3 = count > 3 ? revenueCurrencies_[3] : address(0);
        _currency4 = count > 4 ? revenueCurrencies_[4] : address(0);
        _currency5 = count > 5 ? revenueCurrencies_[5] : address(0);
        _currency6 = count > 6 ? revenueCurrencies_[6] : address(0);
        _mint(recipient, initialSupply);
    }

    /*//////////////////////////////////////////////////////////////
                                EXTERNAL
    //////////////////////////////////////////////////////////////*/

    /**
     * @notice Accepts revenue in native currency; it is split at the next snapshot. Reads and writes no
     * storage, so a 2,300-gas stipend (`transfer`/`send`) is enough.
     * Requirements: the balance stays <= MAX_BALANCE ({BalanceCapExceeded}).
     * Emits {RevenueReceived}.
     */
    receive() external payable {
        uint256 balance = address(this).balance;
        if (balance > MAX_BALANCE) revert BalanceCapExceeded(balance, MAX_BALANCE);
        emit RevenueReceived(msg.sender, msg.value);
    }

    /**
     * @notice Takes a snapshot of balances (as they are at the end of this second) and splits the revenue
     * received since the previous one; anyone may call it.
     * Requirements: `nextSnapshotTimestamp()` has passed ({SnapshotTooEarly}); the supply is not zero
     * ({NoHolders}).
     * Emits {SnapshotTaken}.
     * @return id The new snapshot id (the first is 1).
     */
    function snapshot() external nonReentrant returns (uint256 id) {
        uint256 state = _state;
        uint256 nextAllowedAt = _nextSnapshotTimestamp(state);
        if (block.timestamp < nextAllowedAt) revert SnapshotTooEarly(nextAllowedAt);
        if (state >> SUPPLY_SHIFT == 0) revert NoHolders();
        // Ids and timestamps must fit in 32 bits (SafeCastOverflowedUintDowncast otherwise).
        id = SafeCast.toUint32((state & MASK_32) + 1);
        uint256 timestamp = SafeCast.toUint32(block.timestamp);

        uint256 pools = _pools;
        (uint256 toClaim, uint256 toRedemption) =
            _splitRevenue(pools, pools & BURNED_FLAG == 0 ? 0 : _snapshots[id] & MASK_112);
        uint256 rolledOver;
        uint256 claimPool;
        // No overflow or underflow: every amount is at most MAX_BALANCE = 2**112 - 1, and the expired
        // snapshot's claims are at most its pool.
        unchecked {
            if (id > claimWindow) {
                uint256 expiring = _snapshots[id - claimWindow];
                rolledOver = (expiring & MASK_112) - ((expiring >> CLAIMED_SHIFT) & MASK_112);
            }
            claimPool = toClaim + rolledOver;
            // The rolled-over remainder was outstanding already; it moves from the expired snapshot to `id`.
            _pools = ((pools & MASK_112) + toRedemption)
                | ((((pools >> OUTSTANDING_SHIFT) & MASK_112) + toClaim) << OUTSTANDING_SHIFT);
        }
        _snapshots[id] = claimPool | (timestamp << TIMESTAMP_SHIFT);
        _state = (state & ~(MASK_32 | (MASK_32 << LAST_TS_SHIFT))) | id | (timestamp << LAST_TS_SHIFT);

        emit SnapshotTaken(id, claimPool, toRedemption, rolledOver);
        uint256 count = _currencyCount;
        for (uint256 k = 0; k < count; ++k) {
            _snapshotCurrency(k, id);
        }
    }

    /**
     * @notice Pays the caller's share of snapshot `snapshotId`: claimPool * balanceOfAt / totalSupplyAt.
     * Requirements: the snapshot exists ({UnknownSnapshot}), has not expired ({SnapshotExpired}), was taken
     * before this second ({ClaimNotOpen}), was not claimed by the caller ({AlreadyClaimed}), and the share
     * is not zero ({NothingToClaim}); the payment succeeds ({PayoutFailed}).
     * Emits {RevenueClaimed}.
     */
    function claim(uint256 snapshotId) external nonReentrant {
        _claimNative(snapshotId);
    }

    /**
     * @notice Claims several snapshots in one transaction with one payment; all or nothing.
     * Requirements: `snapshotIds` is not empty ({EmptyBatch}); every id passes the checks of {claim}
     * (a repeated id fails with {AlreadyClaimed}).
     * Emits {RevenueClaimed} once per snapshot.
     */
    function claimBatch(uint256[] calldata snapshotIds) external nonReentrant {
        if (snapshotIds.length == 0) revert EmptyBatch();
        uint256 state = _state;
        uint256 packed = _accounts[msg.sender];
        uint256 total;
        for (uint256 i = 0; i < snapshotIds.length; ++i) {
            uint256 amount;
            (amount, packed) = _claim(msg.sender, snapshotIds[i], state, packed);
            // Cannot overflow: every amount is paid from the balance, which is <= MAX_BALANCE.
            unchecked {
                total += amount;
            }
        }
        _accounts[msg.sender] = packed;
        _bookClaimed(total);
        _pay(msg.sender, total);
    }

    /**
     * @notice Burns `amount` of the caller's tokens and pays `redeemableOnBurn(amount)`: its share of the
     * redemption pool and of the redemption part of the revenue received since the last snapshot. Burning
     * the whole remaining supply pays the redemption pool and all pending revenue, and, in the second the
     * latest snapshot was taken in, that snapshot's unclaimed pool (see the header).
     * Requirements: `amount` > 0 ({ZeroBurn}) and <= the caller's balance (ERC20InsufficientBalance); the
     * payment succeeds ({PayoutFailed}).
     * Emits {Transfer} to the zero address, {RevenueClaimed} for a snapshot pool paid out with the whole
     * supply, and {Redeemed} (its `payout` excludes that pool).
     */
    function burn(uint256 amount) external nonReentrant {
        if (amount == 0) revert ZeroBurn();
        uint256 state = _state;
        uint256 supply = state >> SUPPLY_SHIFT;
        uint256 pools = _pools;
        uint256 nextId = (state & MASK_32) + 1;
        uint256 burned = pools & BURNED_FLAG == 0 ? 0 : _snapshots[nextId] & MASK_112;
        (uint256 fromPool, uint256 fromNew) = _redeemable(amount, supply, pools, burned);
        uint256 stranded;
        if (amount >= supply) {
            // The whole supply (a larger amount fails in _burn): everything not owed to claimants, and the
            // claim pool of a snapshot taken in this second, whose supply this burn makes zero (header).
            uint256 id;
            (id, stranded) = _strandedClaimPool(state);
            if (stranded != 0) {
                _accounts[msg.sender] = _markClaimed(msg.sender, _accounts[msg.sender], id);
                // Cannot carry out of the claimed bits: stranded = claimPool - claimed.
                unchecked {
                    _snapshots[id] += stranded << CLAIMED_SHIFT;
                }
                emit RevenueClaimed(msg.sender, id, stranded);
            }
            // Cannot underflow: stranded is part of the outstanding claims.
            unchecked {
                _pools = (pools & (MASK_112 << OUTSTANDING_SHIFT)) - (stranded << OUTSTANDING_SHIFT);
            }
        } else {
            // Cannot underflow: amount < supply, so fromPool <= redemption.
            unchecked {
                pools -= fromPool;
            }
            if (fromNew != 0) {
                // Remembered until the next snapshot, which leaves it out of the redemption pool.
                _snapshots[nextId] = SafeCast.toUint112(burned + fromNew);
                pools |= BURNED_FLAG;
            }
            _pools = pools;
        }
        uint256 count = _currencyCount;
        uint256[] memory payouts = new uint256[](count);
        for (uint256 k = 0; k < count; ++k) {
            payouts[k] = _redeemCurrency(k, amount, supply, state);
        }
        _burn(msg.sender, amount);
        uint256 payout = fromPool + fromNew;
        emit Redeemed(msg.sender, amount, payout);
        for (uint256 k = 0; k < count; ++k) {
            if (payouts[k] != 0) _payCurrency(msg.sender, k, _currencyAt(k), payouts[k]);
        }
        if (payout + stranded != 0) _pay(msg.sender, payout + stranded);
    }

    /// @inheritdoc IImoRevenueCurrencies
    function claim(uint256 snapshotId, address currency) external nonReentrant {
        if (currency == address(0)) return _claimNative(snapshotId);
        uint256 k = _currencyIndex(currency);
        uint256 state = _state;
        _requireClaimable(snapshotId, state);
        _currencyClaimed[msg.sender] = _markCurrencyClaimed(msg.sender, _currencyClaimed[msg.sender], snapshotId, k);
        uint256 record = _currencySnapshots[k][snapshotId % _ring];
        uint256 amount = _share(msg.sender, _accounts[msg.sender], snapshotId, record & MASK_112, state);
        if (amount == 0) revert NothingToClaim(msg.sender, snapshotId);
        // Cannot carry out of the claimed bits: the shares of all holders at `id` sum to at most claimPool.
        unchecked {
            _currencySnapshots[k][snapshotId % _ring] = record + (amount << CLAIMED_SHIFT);
            // Cannot underflow: owed includes the unclaimed remainder of every live snapshot.
            _currencyPools[k] -= amount << OUTSTANDING_SHIFT;
        }
        emit CurrencyRevenueClaimed(msg.sender, snapshotId, currency, amount);
        _payCurrency(msg.sender, k, currency, amount);
    }

    /// @inheritdoc IImoRevenueCurrencies
    function claimBatch(uint256[] calldata snapshotIds, address[] calldata currencies) external nonReentrant {
        if (snapshotIds.length == 0 || currencies.length == 0) revert EmptyBatch();
        uint256 state = _state;
        for (uint256 i = 0; i < snapshotIds.length; ++i) {
            _requireClaimable(snapshotIds[i], state);
        }
        uint256 packed = _accounts[msg.sender];
        uint256 flags = _currencyClaimed[msg.sender];
        uint256[] memory totals = new uint256[](currencies.length);
        uint256 nativeTotal;
        bool any;
        for (uint256 c = 0; c < currencies.length; ++c) {
            address currency = currencies[c];
            if (currency == address(0)) {
                uint256 total;
                (total, packed) = _claimNativeSkipping(snapshotIds, state, packed);
                nativeTotal += total;
                any = any || total != 0;
            } else {
                uint256 k = _currencyIndex(currency);
                uint256 total;
                (total, flags) = _claimCurrencySkipping(snapshotIds, state, packed, flags, k, currency);
                totals[c] = total;
                any = any || total != 0;
            }
        }
        if (!any) revert NothingClaimed(msg.sender);
        _accounts[msg.sender] = packed;
        _currencyClaimed[msg.sender] = flags;
        for (uint256 c = 0; c < currencies.length; ++c) {
            if (totals[c] != 0) _payCurrency(msg.sender, _currencyIndex(currencies[c]), currencies[c], totals[c]);
        }
        if (nativeTotal != 0) {
            _bookClaimed(nativeTotal);
            _pay(msg.sender, nativeTotal);
        }
    }

    /// @inheritdoc IImoRevenueCurrencies
    function withdrawCredit(address currency) external nonReentrant {
        if (currency == address(0)) revert NothingToWithdraw(msg.sender, currency);
        uint256 k = _currencyIndex(currency);
        uint256 credit = _credits[msg.sender][k];
        if (credit == 0) revert NothingToWithdraw(msg.sender, currency);
        _credits[msg.sender][k] = 0;
        // Cannot underflow: every credit is in the total and in owed.
        unchecked {
            _creditTotals[k] -= credit;
            _currencyPools[k] -= credit << OUTSTANDING_SHIFT;
        }
        emit CreditWithdrawn(msg.sender, currency, credit);
        SafeERC20.safeTransfer(IERC20(currency), msg.sender, credit);
    }

    /// @inheritdoc IImoRevenueCurrencies
    function recoverUnlistedToken(address token) external nonReentrant {
        if (token == address(0) || token == address(this) || _findCurrency(token) != type(uint256).max) {
            revert ListedCurrency(token);
        }
        uint256 amount = IERC20(token).balanceOf(address(this));
        address to = owner();
        emit UnlistedTokenRecovered(token, to, amount);
        SafeERC20.safeTransfer(IERC20(token), to, amount);
    }

    /**
     * @notice Pre-pays the storage of `account`'s next `count` balance checkpoints (one is written by the
     * first change of its balance in a snapshot period): the caller pays for the slots now (about 22,100 gas
     * each), and the transfers that later write them pay 5,000 instead of 22,100. Anyone may pre-pay for
     * anyone; nothing else changes (balances, history and claims read no pre-paid slot). {ImoOffering}
     * pre-pays the sale's own checkpoints at `fund`, so that no buyer pays for the sale's revenue bookkeeping.
     */
    function prepayCheckpoints(address account, uint256 count) external {
        SnapshotCheckpoints.prepay(_balanceEntries[account], (_accounts[account] >> LENGTH_SHIFT) & MASK_32, count);
    }

    /**
     * @notice Sets the model URI.
     * Requirements: caller is the owner (OwnableUnauthorizedAccount).
     * Emits {ModelURIUpdated}.
     */
    function setModelURI(string calldata uri) external onlyOwner {
        _modelURI = uri;
        emit ModelURIUpdated(uri);
    }

    /**
     * @notice What `account` can claim from snapshot `snapshotId` now; 0 (never a revert) when the snapshot
     * is unknown, expired, not yet open (taken this second) or already claimed by `account`.
     */
    function claimableRevenue(address account, uint256 snapshotId) public view returns (uint256) {
        uint256 state = _state;
        uint256 packed = _accounts[account];
        if (!_isLive(snapshotId, state) || !_isOpen(snapshotId, state) || _hasClaimed(packed, snapshotId)) {
            return 0;
        }
        return _share(account, packed, snapshotId, _snapshots[snapshotId] & MASK_112, state);
    }

    /**
     * @notice What burning `amount` tokens would pay now: amount / totalSupply of the redemption pool plus
     * of the redemption part of the revenue received since the last snapshot (less what burners took from
     * it); the redemption pool plus all pending revenue for the whole supply (or more), plus, in the second
     * of the latest snapshot, that snapshot's unclaimed pool; 0 when the supply is zero.
     */
    function redeemableOnBurn(uint256 amount) public view returns (uint256) {
        uint256 state = _state;
        uint256 pools = _pools;
        uint256 supply = state >> SUPPLY_SHIFT;
        uint256 burned = pools & BURNED_FLAG == 0 ? 0 : _snapshots[(state & MASK_32) + 1] & MASK_112;
        (uint256 fromPool, uint256 fromNew) = _redeemable(amount, supply, pools, burned);
        if (supply == 0 || amount < supply) return fromPool + fromNew;
        (, uint256 stranded) = _strandedClaimPool(state);
        return fromPool + fromNew + stranded;
    }

    /// @inheritdoc IImoRevenueCurrencies
    function claimableRevenue(address account, uint256 snapshotId, address currency) external view returns (uint256) {
        uint256 state = _state;
        if (currency == address(0)) return claimableRevenue(account, snapshotId);
        uint256 k = _currencyIndex(currency);
        if (
            !_isLive(snapshotId, state) || !_isOpen(snapshotId, state)
                || _hasCurrencyClaimed(_currencyClaimed[account], snapshotId, k)
        ) return 0;
        return
            _share(account, _accounts[account], snapshotId, _currencySnapshots[k][snapshotId % _ring] & MASK_112, state);
    }

    /// @inheritdoc IImoRevenueCurrencies
    function hasClaimed(address account, uint256 id, address currency) external view returns (bool) {
        if (currency == address(0)) return _hasClaimed(_accounts[account], id);
        return _hasCurrencyClaimed(_currencyClaimed[account], id, _currencyIndex(currency));
    }

    /// @inheritdoc IImoRevenueCurrencies
    function redeemableOnBurn(uint256 amount, address currency) public view returns (uint256) {
        if (currency == address(0)) return redeemableOnBurn(amount);
        uint256 k = _currencyIndex(currency);
        uint256 state = _state;
        uint256 pools = _currencyPools[k];
        uint256 supply = state >> SUPPLY_SHIFT;
        (uint256 fromPool, uint256 fromNew) =
            _currencyRedeemable(k, amount, supply, pools, _currencyBurned(k, pools, (state & MASK_32) + 1));
        if (supply == 0 || amount < supply) return fromPool + fromNew;
        (, uint256 stranded) = _strandedCurrencyPool(k, state);
        return fromPool + fromNew + stranded;
    }

    /// @inheritdoc IImoRevenueCurrencies
    function redeemableOnBurnAll(uint256 amount)
        external
        view
        returns (address[] memory currencies, uint256[] memory amounts)
    {
        uint256 count = _currencyCount;
        currencies = new address[](count + 1);
        amounts = new uint256[](count + 1);
        amounts[0] = redeemableOnBurn(amount);
        for (uint256 k = 0; k < count; ++k) {
            currencies[k + 1] = _currencyAt(k);
            amounts[k + 1] = redeemableOnBurn(amount, currencies[k + 1]);
        }
    }

    /// @inheritdoc IImoRevenueCurrencies
    function pendingRevenue(address currency) external view returns (uint256) {
        if (currency == address(0)) return pendingRevenue();
        uint256 k = _currencyIndex(currency);
        return _currencyPending(k, _currencyPools[k]);
    }

    /// @inheritdoc IImoRevenueCurrencies
    function pendingSplit(address currency) external view returns (uint256 toClaim, uint256 toRedemption) {
        if (currency == address(0)) return pendingSplit();
        uint256 k = _currencyIndex(currency);
        uint256 pools = _currencyPools[k];
        return _splitCurrency(k, pools, _currencyBurned(k, pools, (_state & MASK_32) + 1));
    }

    /// @inheritdoc IImoRevenueCurrencies
    function redemptionPool(address currency) external view returns (uint256) {
        if (currency == address(0)) return redemptionPool();
        return _currencyPools[_currencyIndex(currency)] & MASK_112;
    }

    /// @inheritdoc IImoRevenueCurrencies
    function outstandingClaims(address currency) external view returns (uint256) {
        if (currency == address(0)) return outstandingClaims();
        uint256 k = _currencyIndex(currency);
        return ((_currencyPools[k] >> OUTSTANDING_SHIFT) & MASK_112) - _creditTotals[k];
    }

    /// @inheritdoc IImoRevenueCurrencies
    function totalCredits(address currency) external view returns (uint256) {
        if (currency == address(0)) return 0;
        return _creditTotals[_currencyIndex(currency)];
    }

    /// @inheritdoc IImoRevenueCurrencies
    function creditOf(address account, address currency) external view returns (uint256) {
        if (currency == address(0)) return 0;
        return _credits[account][_currencyIndex(currency)];
    }

    /// @inheritdoc IImoRevenueCurrencies
    function snapshotInfo(uint256 id, address currency)
        external
        view
        returns (uint256 claimPool, uint256 claimed, bool expired)
    {
        uint256 state = _state;
        _requireKnown(id, state);
        if (currency != address(0)) {
            uint256 k = _currencyIndex(currency);
            // An expired snapshot's slot may hold a later record: report it as recycled.
            if (!_isLive(id, state)) return (0, 0, true);
            uint256 slot = _currencySnapshots[k][id % _ring];
            return (slot & MASK_112, (slot >> CLAIMED_SHIFT) & MASK_112, false);
        }
        uint256 record = _snapshots[id];
        return (record & MASK_112, (record >> CLAIMED_SHIFT) & MASK_112, !_isLive(id, state));
    }

    /// @inheritdoc IImoRevenueCurrencies
    function revenueCurrencies() external view returns (address[] memory currencies) {
        uint256 count = _currencyCount;
        currencies = new address[](count);
        for (uint256 k = 0; k < count; ++k) {
            currencies[k] = _currencyAt(k);
        }
    }

    /// @inheritdoc IImoRevenueCurrencies
    function isRevenueCurrency(address currency) external view returns (bool) {
        return currency == address(0) || _findCurrency(currency) != type(uint256).max;
    }

    /// @notice Where the model can be fetched.
    function modelURI() external view returns (string memory) {
        return _modelURI;
    }

    /// @notice The latest snapshot id; 0 before the first snapshot.
    function currentSnapshotId() external view returns (uint256) {
        return _state & MASK_32;
    }

    /// @notice When the latest snapshot was taken; 0 before the first snapshot.
    function lastSnapshotTimestamp() external view returns (uint256) {
        return (_state >> LAST_TS_SHIFT) & MASK_32;
    }

    /// @notice The earliest block timestamp at which `snapshot()` succeeds.
    function nextSnapshotTimestamp() external view returns (uint256) {
        return _nextSnapshotTimestamp(_state);
    }

    /// @notice Revenue received since the latest snapshot and not yet split, less what burners took from it:
    /// the balance (up to MAX_BALANCE) beyond the redemption pool and the outstanding claims.
    function pendingRevenue() public view returns (uint256) {
        uint256 pools = _pools;
        // Cannot underflow: the header invariant.
        unchecked {
            return _countedBalance() - (pools & MASK_112) - ((pools >> OUTSTANDING_SHIFT) & MASK_112);
        }
    }

    /**
     * @notice How the next snapshot would split the revenue received so far: `toClaim` to its claim pool
     * (before any rollover) and `toRedemption` to the redemption pool. They sum to `pendingRevenue()`; after
     * burns from pending revenue the claim part is still `percentClaimable`% of all revenue received since
     * the latest snapshot, so `toClaim` can exceed `pendingRevenue() * percentClaimable / 100`.
     */
    function pendingSplit() public view returns (uint256 toClaim, uint256 toRedemption) {
        uint256 pools = _pools;
        return _splitRevenue(pools, pools & BURNED_FLAG == 0 ? 0 : _snapshots[(_state & MASK_32) + 1] & MASK_112);
    }

    /// @notice Revenue set aside for burners at past snapshots.
    function redemptionPool() public view returns (uint256) {
        return _pools & MASK_112;
    }

    /// @notice What live snapshots still owe their holders: the sum of (claimPool - claimed) over them.
    function outstandingClaims() public view returns (uint256) {
        return (_pools >> OUTSTANDING_SHIFT) & MASK_112;
    }

    /**
     * @notice Everything about snapshot `id`.
     * Requirements: the snapshot exists ({UnknownSnapshot}).
     * @return claimPool Wei shared by holders at `id` (new revenue share plus rollover).
     * @return claimed Wei claimed so far (frozen once expired; the remainder rolled over).
     * @return totalSupplyAt_ Total supply at the snapshot (tentative during the second it was taken in).
     * @return timestamp When the snapshot was taken.
     * @return expired Whether the snapshot is no longer claimable.
     */
    function snapshotInfo(uint256 id)
        external
        view
        returns (uint256 claimPool, uint256 claimed, uint256 totalSupplyAt_, uint64 timestamp, bool expired)
    {
        uint256 state = _state;
        _requireKnown(id, state);
        uint256 record = _snapshots[id];
        return (
            record & MASK_112,
            (record >> CLAIMED_SHIFT) & MASK_112,
            _supplyAt(id, state),
            uint64(record >> TIMESTAMP_SHIFT),
            !_isLive(id, state)
        );
    }

    /// @notice Balance of `account` at snapshot `id` (tentative during the second it was taken in).
    /// Requirements: the snapshot exists.
    function balanceOfAt(address account, uint256 id) external view returns (uint256) {
        _requireKnown(id, _state);
        return _balanceAt(account, _accounts[account], id);
    }

    /// @notice Total supply at snapshot `id` (tentative during the second it was taken in).
    /// Requirements: the snapshot exists.
    function totalSupplyAt(uint256 id) external view returns (uint256) {
        uint256 state = _state;
        _requireKnown(id, state);
        return _supplyAt(id, state);
    }

    /// @notice Whether `account` has claimed snapshot `id`. Kept for the 32 ids up to the account's latest
    /// claim (which covers every live snapshot); false for older ones, which are expired.
    function hasClaimed(address account, uint256 id) external view returns (bool) {
        return _hasClaimed(_accounts[account], id);
    }

    /// @notice Whether snapshot `id` can be claimed now: it exists, has not expired, and was taken before
    /// this second.
    function isClaimable(uint256 id) external view returns (bool) {
        uint256 state = _state;
        return _isLive(id, state) && _isOpen(id, state);
    }

    /// @inheritdoc ERC20
    function balanceOf(address account) public view virtual override(ERC20, IERC20) returns (uint256) {
        return _accounts[account] & MASK_128;
    }

    /// @inheritdoc ERC20
    function totalSupply() public view virtual override(ERC20, IERC20) returns (uint256) {
        return _state >> SUPPLY_SHIFT;
    }

    /// @inheritdoc IERC165
    function supportsInterface(bytes4 interfaceId) public view virtual override returns (bool) {
        return interfaceId == type(IERC7641).interfaceId || interfaceId == type(IImoRevenueCurrencies).interfaceId
            || interfaceId == type(IERC20).interfaceId || interfaceId == type(IERC20Permit).interfaceId
            || super.supportsInterface(interfaceId);
    }

    /*//////////////////////////////////////////////////////////////
                                INTERNAL
    //////////////////////////////////////////////////////////////*/

    /// @dev Checks and books one claim by `holder` (account word `packed`); returns the amount to pay and the
    /// account word with `id` marked claimed. `state` is the current state.
    function _claim(address holder, uint256 id, uint256 state, uint256 packed)
        private
        returns (uint256 amount, uint256)
    {
        _requireKnown(id, state);
        if (!_isLive(id, state)) revert SnapshotExpired(id, id + claimWindow);
        if (!_isOpen(id, state)) revert ClaimNotOpen(id, block.timestamp + 1);
        packed = _markClaimed(holder, packed, id);
        uint256 record = _snapshots[id];
        amount = _share(holder, packed, id, record & MASK_112, state);
        if (amount == 0) revert NothingToClaim(holder, id);
        // Cannot carry out of the claimed bits: the shares of all holders at `id` sum to at most claimPool.
        unchecked {
            _snapshots[id] = record + (amount << CLAIMED_SHIFT);
        }
        emit RevenueClaimed(holder, id, amount);
        return (amount, packed);
    }

    /// @dev The native claim of `snapshotId` by the caller (EIP-7641's `claim`).
    function _claimNative(uint256 snapshotId) private {
        (uint256 amount, uint256 packed) = _claim(msg.sender, snapshotId, _state, _accounts[msg.sender]);
        _accounts[msg.sender] = packed;
        _bookClaimed(amount);
        _pay(msg.sender, amount);
    }

    /// @dev Reverts unless snapshot `id` exists, has not expired and was taken before this second.
    function _requireClaimable(uint256 id, uint256 state) private view {
        _requireKnown(id, state);
        if (!_isLive(id, state)) revert SnapshotExpired(id, id + claimWindow);
        if (!_isOpen(id, state)) revert ClaimNotOpen(id, block.timestamp + 1);
    }

    /// @dev Books the caller's native claims of `ids` (checked claimable), skipping those already claimed or
    /// with a zero share; returns their total and the account word with them marked claimed.
    function _claimNativeSkipping(uint256[] calldata ids, uint256 state, uint256 packed)
        private
        returns (uint256 total, uint256)
    {
        for (uint256 i = 0; i < ids.length; ++i) {
            uint256 id = ids[i];
            if (_hasClaimed(packed, id)) continue;
            uint256 record = _snapshots[id];
            uint256 amount = _share(msg.sender, packed, id, record & MASK_112, state);
            if (amount == 0) continue;
            packed = _markClaimed(msg.sender, packed, id);
            // As in _claim; the total is paid from the balance, <= MAX_BALANCE.
            unchecked {
                _snapshots[id] = record + (amount << CLAIMED_SHIFT);
                total += amount;
            }
            emit RevenueClaimed(msg.sender, id, amount);
        }
        return (total, packed);
    }

    /// @dev As {_claimNativeSkipping} in ERC-20 currency `k`, on the claimed flags `flags`; takes the total off
    /// the currency's owed amount.
    function _claimCurrencySkipping(
        uint256[] calldata ids,
        uint256 state,
        uint256 packed,
        uint256 flags,
        uint256 k,
        address currency
    ) private returns (uint256 total, uint256) {
        for (uint256 i = 0; i < ids.length; ++i) {
            uint256 id = ids[i];
            if (_hasCurrencyClaimed(flags, id, k)) continue;
            uint256 record = _currencySnapshots[k][id % _ring];
            uint256 amount = _share(msg.sender, packed, id, record & MASK_112, state);
            if (amount == 0) continue;
            flags = _markCurrencyClaimed(msg.sender, flags, id, k);
            // As in claim(uint256, address).
            unchecked {
                _currencySnapshots[k][id % _ring] = record + (amount << CLAIMED_SHIFT);
                total += amount;
            }
            emit CurrencyRevenueClaimed(msg.sender, id, currency, amount);
        }
        if (total != 0) {
            // Cannot underflow: owed includes the unclaimed remainder of every live snapshot.
            unchecked {
                _currencyPools[k] -= total << OUTSTANDING_SHIFT;
            }
        }
        return (total, flags);
    }

    /// @dev Splits ERC-20 currency `k`'s revenue at new snapshot `id` and rolls over its expired snapshot, as
    /// `snapshot()` does for ether; writes nothing for a currency with no revenue, burn or rollover.
    function _snapshotCurrency(uint256 k, uint256 id) private {
        uint256 pools = _currencyPools[k];
        uint256 burned = _currencyBurned(k, pools, id);
        (uint256 toClaim, uint256 toRedemption) = _splitCurrency(k, pools, burned);
        uint256 rolledOver;
        uint256 claimPool;
        // No overflow or underflow: as in snapshot(); owed + toClaim + redemption + toRedemption <= MAX_BALANCE.
        unchecked {
            if (id > claimWindow) {
                uint256 expiring = _currencySnapshots[k][(id - claimWindow) % _ring];
                rolledOver = (expiring & MASK_112) - ((expiring >> CLAIMED_SHIFT) & MASK_112);
            }
            claimPool = toClaim + rolledOver;
            // The slot holds a record of an expired snapshot or the burned amount: always overwrite it.
            _currencySnapshots[k][id % _ring] = claimPool | SLOT_USED;
            if (toClaim != 0 || toRedemption != 0 || pools & BURNED_FLAG != 0) {
                _currencyPools[k] = ((pools & MASK_112) + toRedemption)
                    | ((((pools >> OUTSTANDING_SHIFT) & MASK_112) + toClaim) << OUTSTANDING_SHIFT) | SLOT_USED;
            }
        }
        if (claimPool != 0 || toRedemption != 0) {
            emit CurrencySnapshotTaken(id, _currencyAt(k), claimPool, toRedemption, rolledOver);
        }
    }

    /**
     * @dev As {_splitRevenue} for ERC-20 currency `k`. `burned` can exceed the redemption part only after the
     * balance fell below what was expected (a negative rebase): the claim part then takes what is left.
     */
    function _splitCurrency(uint256 k, uint256 pools, uint256 burned)
        private
        view
        returns (uint256 toClaim, uint256 toRedemption)
    {
        // No overflow: amounts <= 2**112; toClaim <= revenue, and burned <= revenue.
        unchecked {
            uint256 revenue = _currencyPending(k, pools) + burned;
            toClaim = (revenue * percentClaimable) / PERCENT_DENOMINATOR;
            uint256 rest = revenue - toClaim;
            if (burned > rest) return (revenue - burned, 0);
            toRedemption = rest - burned;
        }
    }

    /// @dev What burners took from ERC-20 currency `k`'s revenue since the latest snapshot (`nextId` - 1).
    function _currencyBurned(uint256 k, uint256 pools, uint256 nextId) private view returns (uint256) {
        return pools & BURNED_FLAG == 0 ? 0 : _currencySnapshots[k][nextId % _ring] & MASK_112;
    }

    /// @dev Pending revenue of ERC-20 currency `k`: its counted balance beyond what is owed, or 0 when below.
    function _currencyPending(uint256 k, uint256 pools) private view returns (uint256) {
        uint256 balance = _currencyBalance(_currencyAt(k));
        // No overflow: both parts are < 2**112.
        uint256 owed = (pools & MASK_112) + ((pools >> OUTSTANDING_SHIFT) & MASK_112);
        return balance > owed ? balance - owed : 0;
    }

    /**
     * @dev The token's balance of `currency`, at most MAX_BALANCE; a `balanceOf` that reverts, runs out of
     * its gas allowance or returns less than a word reads as 0 (so a broken currency never blocks
     * `snapshot()` or `burn`: it just has no pending revenue).
     */
    function _currencyBalance(address currency) private view returns (uint256 held) {
        assembly ("memory-safe") {
            mstore(0x00, 0x70a0823100000000000000000000000000000000000000000000000000000000)
            mstore(0x04, address())
            let ok := staticcall(CURRENCY_READ_GAS, currency, 0x00, 0x24, 0x00, 0x20)
            held := mload(0x00)
            if or(iszero(ok), lt(returndatasize(), 0x20)) { held := 0 }
        }
        if (held > MAX_BALANCE) held = MAX_BALANCE;
    }

    /**
     * @dev Books the burn of `amount` of `supply` for ERC-20 currency `k`, as `burn` does for ether (with the
     * stranded pool of a snapshot taken this second when burning the whole supply); returns what to pay.
     */
    function _redeemCurrency(uint256 k, uint256 amount, uint256 supply, uint256 state)
        private
        returns (uint256 payout)
    {
        uint256 pools = _currencyPools[k];
        uint256 nextId = (state & MASK_32) + 1;
        uint256 burned = _currencyBurned(k, pools, nextId);
        (uint256 fromPool, uint256 fromNew) = _currencyRedeemable(k, amount, supply, pools, burned);
        address currency = _currencyAt(k);
        uint256 stranded;
        if (amount >= supply) {
            stranded = _takeStrandedCurrencyPool(k, currency, pools, state);
        } else if (fromPool != 0 || fromNew != 0) {
            // Cannot underflow: amount < supply, so fromPool <= redemption.
            unchecked {
                pools -= fromPool;
            }
            if (fromNew != 0) {
                _currencySnapshots[k][nextId % _ring] = SafeCast.toUint112(burned + fromNew) | SLOT_USED;
                pools |= BURNED_FLAG;
            }
            _currencyPools[k] = pools;
        }
        payout = fromPool + fromNew;
        if (payout != 0) emit CurrencyRedeemed(msg.sender, currency, amount, payout);
        return payout + stranded;
    }

    /// @dev The whole supply is being burned: empties currency `k`'s redemption pool and books what is left of
    /// the claim pool of a snapshot taken this second as the caller's claim (as `burn`); returns that amount.
    function _takeStrandedCurrencyPool(uint256 k, address currency, uint256 pools, uint256 state)
        private
        returns (uint256 stranded)
    {
        uint256 id;
        (id, stranded) = _strandedCurrencyPool(k, state);
        if (stranded != 0) {
            _currencyClaimed[msg.sender] = _markCurrencyClaimed(msg.sender, _currencyClaimed[msg.sender], id, k);
            // Cannot carry out of the claimed bits: stranded = claimPool - claimed.
            unchecked {
                _currencySnapshots[k][id % _ring] += stranded << CLAIMED_SHIFT;
            }
            emit CurrencyRevenueClaimed(msg.sender, id, currency, stranded);
        }
        // Cannot underflow: stranded is part of owed.
        unchecked {
            _currencyPools[k] =
                ((pools & (MASK_112 << OUTSTANDING_SHIFT)) - (stranded << OUTSTANDING_SHIFT)) | SLOT_USED;
        }
    }

    /// @dev As {_redeemable} for ERC-20 currency `k` (pending revenue 0 when the balance is below what is owed).
    function _currencyRedeemable(uint256 k, uint256 amount, uint256 supply, uint256 pools, uint256 burned)
        private
        view
        returns (uint256 fromPool, uint256 fromNew)
    {
        if (supply == 0) return (0, 0);
        uint256 redemption = pools & MASK_112;
        uint256 pending = _currencyPending(k, pools);
        if (amount >= supply) return (redemption, pending);
        // No overflow: pools <= 2**112, amount < supply <= 2**128, revenue * 100 < 2**119.
        unchecked {
            uint256 revenue = pending + burned;
            fromPool = (redemption * amount) / supply;
            uint256 gross = revenue * (PERCENT_DENOMINATOR - percentClaimable);
            uint256 taken = burned * PERCENT_DENOMINATOR;
            if (gross > taken) fromNew = (amount * (gross - taken)) / (PERCENT_DENOMINATOR * supply);
        }
    }

    /// @dev As {_strandedClaimPool} for ERC-20 currency `k`.
    function _strandedCurrencyPool(uint256 k, uint256 state) private view returns (uint256 id, uint256 stranded) {
        id = state & MASK_32;
        if (id == 0 || (state >> LAST_TS_SHIFT) & MASK_32 != block.timestamp) return (id, 0);
        uint256 record = _currencySnapshots[k][id % _ring];
        // Cannot underflow: claims never exceed the pool.
        unchecked {
            stranded = (record & MASK_112) - ((record >> CLAIMED_SHIFT) & MASK_112);
        }
    }

    /**
     * @dev Sends `amount` of ERC-20 currency `k` to `to` with at most CURRENCY_TRANSFER_GAS; when the transfer
     * reverts, returns false or runs out of that gas (a blocklisted holder, a broken token), credits it to `to`
     * instead (still owed, never revenue again) so that nothing else in the transaction is blocked.
     */
    function _payCurrency(address to, uint256 k, address currency, uint256 amount) private {
        bool ok;
        assembly ("memory-safe") {
            let fmp := mload(0x40)
            mstore(0x00, 0xa9059cbb00000000000000000000000000000000000000000000000000000000)
            mstore(0x04, to)
            mstore(0x24, amount)
            ok := call(CURRENCY_TRANSFER_GAS, currency, 0, 0x00, 0x44, 0x00, 0x20)
            // Success: no return data (non-compliant tokens such as USDT; the code exists, checked at
            // deployment) or a word that is exactly 1.
            if ok { ok := or(iszero(returndatasize()), and(gt(returndatasize(), 0x1f), eq(mload(0x00), 1))) }
            mstore(0x40, fmp)
        }
        if (ok) return;
        // No overflow: the amount was just taken off owed (or the redemption pool), both < 2**112.
        unchecked {
            _credits[to][k] += amount;
            _creditTotals[k] += amount;
            _currencyPools[k] += amount << OUTSTANDING_SHIFT;
        }
        emit PayoutCredited(to, currency, amount);
    }

    /// @dev `flags` with snapshot `id` (live) marked claimed in currency `k`; reverts with {AlreadyClaimed} if
    /// it was. All lanes share lastClaimed: moving it up shifts every lane (flags that fall out are expired).
    function _markCurrencyClaimed(address holder, uint256 flags, uint256 id, uint256 k) private pure returns (uint256) {
        uint256 last = flags & MASK_32;
        uint256 lanes = flags >> LANES_SHIFT;
        if (id > last) {
            uint256 by = id - last;
            // Shift every lane up by `by`, dropping the bits that cross into the next lane.
            lanes = by >= 32 ? 0 : ((lanes << by) & ~(((1 << by) - 1) * LANE_ONES)) & LANES_MASK;
            last = id;
        }
        // last - id < 32: id is live and last <= currentId (see _markClaimed).
        uint256 bit = 1 << (32 * k + last - id);
        if (lanes & bit != 0) revert AlreadyClaimed(holder, id);
        return last | ((lanes | bit) << LANES_SHIFT);
    }

    function _hasCurrencyClaimed(uint256 flags, uint256 id, uint256 k) private pure returns (bool) {
        uint256 last = flags & MASK_32;
        if (id > last || last - id >= 32) return false;
        return (flags >> (LANES_SHIFT + 32 * k + last - id)) & 1 == 1;
    }

    /// @dev The index of listed ERC-20 `currency`; reverts with {UnknownCurrency} otherwise.
    function _currencyIndex(address currency) private view returns (uint256 k) {
        k = _findCurrency(currency);
        if (k == type(uint256).max) revert UnknownCurrency(currency);
    }

    /// @dev The index of `currency` in the list, or type(uint256).max.
    function _findCurrency(address currency) private view returns (uint256) {
        if (currency != address(0)) {
            uint256 count = _currencyCount;
            for (uint256 k = 0; k < count; ++k) {
                if (currency == _currencyAt(k)) return k;
            }
        }
        return type(uint256).max;
    }

    function _currencyAt(uint256 k) private view returns (address) {
        if (k == 0) return _currency0;
        if (k == 1) return _currency1;
        if (k == 2) return _currency2;
        if (k == 3) return _currency3;
        if (k == 4) return _currency4;
        if (k == 5) return _currency5;
        return _currency6;
    }

    /**
     * @dev Deployment check of a revenue currency: not zero, not this token, a contract whose `balanceOf` and
     * `totalSupply` return a word. Fee-on-transfer and rebasing behaviour cannot be seen from here (header).
     */
    function _requireErc20(address currency) private view {
        if (currency == address(0) || currency == address(this) || currency.code.length == 0) {
            revert InvalidCurrency(currency);
        }
        (bool ok, bytes memory data) = currency.staticcall(abi.encodeCall(IERC20.balanceOf, (address(this))));
        if (!ok || data.length < 32) revert InvalidCurrency(currency);
        (ok, data) = currency.staticcall(abi.encodeCall(IERC20.totalSupply, ()));
        if (!ok || data.length < 32) revert InvalidCurrency(currency);
    }

    /// @dev Takes `amount` claimed wei off the outstanding claims.
    function _bookClaimed(uint256 amount) private {
        // Cannot underflow: outstanding includes the unclaimed remainder of every live snapshot.
        unchecked {
            _pools -= amount << OUTSTANDING_SHIFT;
        }
    }

    /// @dev `packed` with snapshot `id` (live, so within 32 of the latest claimed id) marked claimed;
    /// reverts with {AlreadyClaimed} if it was.
    function _markClaimed(address holder, uint256 packed, uint256 id) private pure returns (uint256) {
        uint256 last = (packed >> LAST_CLAIMED_SHIFT) & MASK_32;
        uint256 bits = packed >> CLAIMED_BITS_SHIFT;
        if (id > last) {
            // Shift the window up to `id`; flags that fall out are of expired snapshots.
            uint256 by = id - last;
            bits = by >= 32 ? 0 : (bits << by) & MASK_32;
            last = id;
        }
        // last - id < 32: id is live (> currentId - claimWindow >= currentId - 32) and last <= currentId.
        uint256 bit = 1 << (last - id);
        if (bits & bit != 0) revert AlreadyClaimed(holder, id);
        return (packed & ~(uint256(type(uint64).max) << LAST_CLAIMED_SHIFT)) | (last << LAST_CLAIMED_SHIFT)
            | ((bits | bit) << CLAIMED_BITS_SHIFT);
    }

    function _hasClaimed(uint256 packed, uint256 id) private pure returns (bool) {
        uint256 last = (packed >> LAST_CLAIMED_SHIFT) & MASK_32;
        if (id > last || last - id >= 32) return false;
        return (packed >> (CLAIMED_BITS_SHIFT + last - id)) & 1 == 1;
    }

    /// @dev claimPool * balanceOfAt(holder, id) / totalSupplyAt(id), rounded down.
    function _share(address holder, uint256 packed, uint256 id, uint256 claimPool, uint256 state)
        private
        view
        returns (uint256)
    {
        if (claimPool == 0) return 0;
        // snapshot() requires a non-zero supply, but burns in its own second still count towards it: burning
        // the whole supply then leaves it with none (its pool went to that burner, see `burn`).
        uint256 supply = _supplyAt(id, state);
        if (supply == 0) return 0;
        // No overflow: 2**112 * 2**128 < 2**256.
        unchecked {
            return (claimPool * _balanceAt(holder, packed, id)) / supply;
        }
    }

    /// @dev The latest snapshot `id` and, when it was taken in this second (so burning the whole supply now
    /// leaves it with a supply of zero), what is left of its claim pool; else 0.
    function _strandedClaimPool(uint256 state) private view returns (uint256 id, uint256 stranded) {
        id = state & MASK_32;
        if (id == 0 || (state >> LAST_TS_SHIFT) & MASK_32 != block.timestamp) return (id, 0);
        uint256 record = _snapshots[id];
        // Cannot underflow: claims never exceed the pool.
        unchecked {
            stranded = (record & MASK_112) - ((record >> CLAIMED_SHIFT) & MASK_112);
        }
    }

    function _balanceAt(address account, uint256 packed, uint256 id) private view returns (uint256) {
        return SnapshotCheckpoints.lookup(
            _balanceEntries[account],
            (packed >> LENGTH_SHIFT) & MASK_32,
            (packed >> LAST_KEY_SHIFT) & MASK_32,
            id,
            packed & MASK_128
        );
    }

    /// @dev Total supply at snapshot `id` (known): no burn since then means the current supply.
    function _supplyAt(uint256 id, uint256 state) private view returns (uint256) {
        return SnapshotCheckpoints.lookup(
            _supplyEntries,
            (state >> SUPPLY_LENGTH_SHIFT) & MASK_32,
            (state >> SUPPLY_LAST_KEY_SHIFT) & MASK_32,
            id,
            state >> SUPPLY_SHIFT
        );
    }

    /**
     * @dev Splits the revenue received since the last snapshot: revenue = pending + burned (the gross amount,
     * `burned` being what burners took from it); toClaim = revenue * percent / 100; toRedemption = the rest
     * less `burned`.
     */
    function _splitRevenue(uint256 pools, uint256 burned) private view returns (uint256 toClaim, uint256 toRedemption) {
        // No overflow or underflow: the counted balance covers redemption + outstanding (header invariant),
        // amounts are <= 2**112, and burned <= revenue * (100 - percent) / 100 <= revenue - toClaim.
        unchecked {
            uint256 revenue =
                _countedBalance() + burned - (pools & MASK_112) - ((pools >> OUTSTANDING_SHIFT) & MASK_112);
            toClaim = (revenue * percentClaimable) / PERCENT_DENOMINATOR;
            toRedemption = revenue - toClaim - burned;
        }
    }

    /// @dev The balance as far as it counts: at most MAX_BALANCE (forced ether above it is ignored).
    function _countedBalance() private view returns (uint256 balance) {
        balance = address(this).balance;
        if (balance > MAX_BALANCE) balance = MAX_BALANCE;
    }

    /**
     * @dev What burning `amount` of `supply` pays, as the EIP-7641 reference: from the redemption pool
     * (redemption * amount / supply) and from the revenue received since the last snapshot (of gross amount
     * revenue = pending + burned, its redemption part (100 - percent)% less `burned`, times amount / supply).
     * The whole supply takes the redemption pool and all pending revenue.
     */
    function _redeemable(uint256 amount, uint256 supply, uint256 pools, uint256 burned)
        private
        view
        returns (uint256 fromPool, uint256 fromNew)
    {
        if (supply == 0) return (0, 0);
        uint256 redemption = pools & MASK_112;
        // No overflow or underflow: the header invariant; pools are <= 2**112 and amount < supply <= 2**128 in
        // the division branch; burned <= revenue * (100 - percent) / 100 (each burn takes at most its share).
        unchecked {
            uint256 pending = _countedBalance() - redemption - ((pools >> OUTSTANDING_SHIFT) & MASK_112);
            if (amount >= supply) return (redemption, pending);
            uint256 revenue = pending + burned;
            fromPool = (redemption * amount) / supply;
            fromNew = (amount * (revenue * (PERCENT_DENOMINATOR - percentClaimable) - burned * PERCENT_DENOMINATOR))
                / (PERCENT_DENOMINATOR * supply);
        }
    }

    function _requireKnown(uint256 id, uint256 state) private pure {
        if (id == 0 || id > state & MASK_32) revert UnknownSnapshot(id);
    }

    /// @dev Whether snapshot `id` exists and has not expired.
    function _isLive(uint256 id, uint256 state) private view returns (bool) {
        uint256 current = state & MASK_32;
        return id != 0 && id <= current && id + claimWindow > current;
    }

    /// @dev Whether claims on existing snapshot `id` are open: only the latest can still be in its second.
    function _isOpen(uint256 id, uint256 state) private view returns (bool) {
        return id != state & MASK_32 || (state >> LAST_TS_SHIFT) & MASK_32 != block.timestamp;
    }

    function _nextSnapshotTimestamp(uint256 state) private view returns (uint256) {
        return (state & MASK_32 == 0 ? _deployedAt : (state >> LAST_TS_SHIFT) & MASK_32) + snapshotInterval;
    }

    /// @dev Sends `amount` wei to `to`, with all gas; reverts with {PayoutFailed}. Effects are done before.
    function _pay(address to, uint256 amount) private {
        (bool ok,) = payable(to).call{value: amount}("");
        if (!ok) revert PayoutFailed(to, amount);
    }

    /**
     * @dev The one hook every balance change goes through (OpenZeppelin's ERC20 routes mint, burn and
     * transfer here). Same checks, errors and event as ERC20._update, on the packed storage: before a
     * balance changes for the first time after the second of the latest snapshot ended, its value as of that
     * snapshot is checkpointed (once per account per period; on a burn, the total supply likewise). Changes
     * in the snapshot's own second write no checkpoint for it, so they still count towards it.
     */
    function _update(address from, address to, uint256 value) internal virtual override {
        uint256 state = _state;
        // The latest snapshot whose second has ended: changes from now on no longer count towards it.
        uint256 id = state & MASK_32;
        if (id != 0 && (state >> LAST_TS_SHIFT) & MASK_32 == block.timestamp) {
            unchecked {
                --id;
            }
        }
        if (from == address(0)) {
            // Only the constructor mints, once, after checking initialSupply <= MAX_SUPPLY.
            state += value << SUPPLY_SHIFT;
        } else {
            uint256 packed = _accounts[from];
            uint256 balance = packed & MASK_128;
            if (balance < value) revert ERC20InsufficientBalance(from, balance, value);
            packed = _checkpoint(from, packed, id);
            // Cannot underflow: checked just above.
            unchecked {
                _accounts[from] = packed - value;
            }
        }
        if (to == address(0)) {
            if (id != 0 && (state >> SUPPLY_LAST_KEY_SHIFT) & MASK_32 != id) {
                uint256 length = (state >> SUPPLY_LENGTH_SHIFT) & MASK_32;
                // forge-lint: disable-next-line(unsafe-typecast) fit: ids are uint32 (snapshot() checks), the supply <= MAX_SUPPLY < 2**128
                SnapshotCheckpoints.push(_supplyEntries, length, uint32(id), uint128(state >> SUPPLY_SHIFT), 0);
                state = (state & ~((MASK_32 << SUPPLY_LAST_KEY_SHIFT) | (MASK_32 << SUPPLY_LENGTH_SHIFT)))
                    | (id << SUPPLY_LAST_KEY_SHIFT) | ((length + 1) << SUPPLY_LENGTH_SHIFT);
            }
            // Cannot underflow: value <= balance(from) <= supply.
            unchecked {
                state -= value << SUPPLY_SHIFT;
            }
        } else {
            uint256 packed = _checkpoint(to, _accounts[to], id);
            // Cannot overflow: the sum of all balances is the supply, <= MAX_SUPPLY = 2**128 - 1.
            unchecked {
                _accounts[to] = packed + value;
            }
        }
        if (from == address(0) || to == address(0)) _state = state;
        emit Transfer(from, to, value);
    }

    /// @dev Checkpoints `account`'s balance (in `packed`) as of snapshot `id` unless done this period or
    /// `id` is 0; returns `packed` with the checkpoint header updated (the claimed flags are kept). An
    /// account with no checkpoint and a zero balance (a fresh holder) writes none: its last key becomes the
    /// zero horizon ({SnapshotCheckpoints}).
    function _checkpoint(address account, uint256 packed, uint256 id) private returns (uint256) {
        uint256 lastKey = (packed >> LAST_KEY_SHIFT) & MASK_32;
        if (id == 0 || lastKey == id) return packed;
        uint256 length = (packed >> LENGTH_SHIFT) & MASK_32;
        if (length == 0 && packed & MASK_128 == 0) return (packed & ~HEADER_MASK) | (id << LAST_KEY_SHIFT);
        // The horizon travels with the first checkpoint only.
        // forge-lint: disable-next-line(unsafe-typecast) fits: the horizon is an earlier id, a uint32
        uint32 zeroUntil = length == 0 ? uint32(lastKey) : 0;
        // forge-lint: disable-next-line(unsafe-typecast) fit: ids are uint32 (snapshot() checks), balances <= MAX_SUPPLY
        SnapshotCheckpoints.push(_balanceEntries[account], length, uint32(id), uint128(packed), zeroUntil);
        // Cannot overflow: at most one checkpoint per snapshot id, and ids are uint32.
        unchecked {
            return (packed & ~HEADER_MASK) | (id << LAST_KEY_SHIFT) | ((length + 1) << LENGTH_SHIFT);
        }
    }
}
