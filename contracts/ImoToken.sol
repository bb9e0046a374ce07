// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {ERC165} from "@openzeppelin/contracts/utils/introspection/ERC165.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IERC7641} from "./interfaces/IERC7641.sol";
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
 * | reentrancy                     | no guard                           | guard on `claim`, `claimBatch`, `burn`                                    |
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
contract ImoToken is ERC20, ERC20Permit, IERC7641, ERC165, Ownable, ReentrancyGuardTransient {
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
    // _snapshots
    uint256 private constant CLAIMED_SHIFT = 112;
    uint256 private constant TIMESTAMP_SHIFT = 224;
    // _accounts
    uint256 private constant LAST_KEY_SHIFT = 128;
    uint256 private constant LENGTH_SHIFT = 160;
    uint256 private constant LAST_CLAIMED_SHIFT = 192;
    uint256 private constant CLAIMED_BITS_SHIFT = 224;
    uint256 private constant HEADER_MASK = ((1 << 64) - 1) << LAST_KEY_SHIFT;

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
     * @param owner_ May only update the model URI.
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
        address owner_
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
    function snapshot() external returns (uint256 id) {
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
    }

    /**
     * @notice Pays the caller's share of snapshot `snapshotId`: claimPool * balanceOfAt / totalSupplyAt.
     * Requirements: the snapshot exists ({UnknownSnapshot}), has not expired ({SnapshotExpired}), was taken
     * before this second ({ClaimNotOpen}), was not claimed by the caller ({AlreadyClaimed}), and the share
     * is not zero ({NothingToClaim}); the payment succeeds ({PayoutFailed}).
     * Emits {RevenueClaimed}.
     */
    function claim(uint256 snapshotId) external nonReentrant {
        (uint256 amount, uint256 packed) = _claim(msg.sender, snapshotId, _state, _accounts[msg.sender]);
        _accounts[msg.sender] = packed;
        _bookClaimed(amount);
        _pay(msg.sender, amount);
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
        _burn(msg.sender, amount);
        uint256 payout = fromPool + fromNew;
        emit Redeemed(msg.sender, amount, payout);
        if (payout + stranded != 0) _pay(msg.sender, payout + stranded);
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
    function claimableRevenue(address account, uint256 snapshotId) external view returns (uint256) {
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
    function redeemableOnBurn(uint256 amount) external view returns (uint256) {
        uint256 state = _state;
        uint256 pools = _pools;
        uint256 supply = state >> SUPPLY_SHIFT;
        uint256 burned = pools & BURNED_FLAG == 0 ? 0 : _snapshots[(state & MASK_32) + 1] & MASK_112;
        (uint256 fromPool, uint256 fromNew) = _redeemable(amount, supply, pools, burned);
        if (supply == 0 || amount < supply) return fromPool + fromNew;
        (, uint256 stranded) = _strandedClaimPool(state);
        return fromPool + fromNew + stranded;
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
    function pendingRevenue() external view returns (uint256) {
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
    function pendingSplit() external view returns (uint256 toClaim, uint256 toRedemption) {
        uint256 pools = _pools;
        return _splitRevenue(pools, pools & BURNED_FLAG == 0 ? 0 : _snapshots[(_state & MASK_32) + 1] & MASK_112);
    }

    /// @notice Revenue set aside for burners at past snapshots.
    function redemptionPool() external view returns (uint256) {
        return _pools & MASK_112;
    }

    /// @notice What live snapshots still owe their holders: the sum of (claimPool - claimed) over them.
    function outstandingClaims() external view returns (uint256) {
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
        return interfaceId == type(IERC7641).interfaceId || interfaceId == type(IERC20).interfaceId
            || interfaceId == type(IERC20Permit).interfaceId || super.supportsInterface(interfaceId);
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
