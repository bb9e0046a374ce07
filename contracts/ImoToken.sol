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
import {BitMaps} from "@openzeppelin/contracts/utils/structs/BitMaps.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IERC7641} from "./interfaces/IERC7641.sol";
import {SnapshotCheckpoints} from "./utils/SnapshotCheckpoints.sol";

/**
 * @title ImoToken: the ERC-7641 Intrinsic RevShare Token of an Initial Model Offering
 * @notice Invariant: the contract's ether balance always covers what it owes, i.e.
 * `balance >= pendingRevenue + redemptionPool + sum over live snapshots of (claimPool - claimed)`.
 *
 * Revenue (native currency) arrives through `receive()` and waits in `pendingRevenue`. Each `snapshot()`
 * (at most one per `snapshotInterval` seconds) splits it: `percentClaimable`% to that snapshot's claim pool,
 * shared pro rata by balances at the snapshot, the rest to the redemption pool, paid out on `burn` pro
 * rata to the live supply. A snapshot stays claimable for `claimWindow` snapshots: taking snapshot N
 * expires snapshot N - claimWindow and rolls its unclaimed remainder into snapshot N's pool (O(1)).
 * Payouts round down, so the dust stays in the contract and no later payout can exceed its pool.
 *
 * Empty supply: the whole supply is minted at deployment and only `burn` reduces it. The burn that takes
 * the supply to zero pays out the redemption pool and the pending revenue (the burner then holds 100%).
 * With zero supply, `receive()` and `snapshot()` revert with {NoHolders}, so no revenue can arrive that
 * nobody could ever claim; live snapshots then never expire and stay claimable by their holders.
 *
 * Limits: the supply fits in 128 bits (checked at deployment); `receive()` refuses revenue that would take
 * the contract's balance above 2**112 - 1 wei, so every pool fits in 112 bits; snapshot timestamps are
 * stored as uint32 (good until the year 2106). Ether forced in without a call (SELFDESTRUCT, block
 * rewards) is not revenue and is never paid out.
 *
 * Storage layout (after OpenZeppelin's ERC20, EIP712/Nonces, Ownable; bit layouts in the STORAGE section):
 * the ERC-20 balances and total supply live in this contract's packed words, not in OpenZeppelin's
 * `_balances`/`_totalSupply` (unused), so that one slot per account holds its balance and its checkpoint
 * header, and one slot holds the snapshot id, its timestamp, the supply and the supply-checkpoint header.
 * Every balance change still goes through `_update` with ERC20's checks, errors and events.
 */
contract ImoToken is ERC20, ERC20Permit, IERC7641, ERC165, Ownable, ReentrancyGuardTransient {
    using BitMaps for BitMaps.BitMap;

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
    /// @notice No snapshot `id` exists (ids start at 1 and end at `currentSnapshotId()`).
    error UnknownSnapshot(uint256 id);
    /// @notice `percentClaimable` must be at most 100.
    error InvalidPercent(uint256 percent);
    /// @notice The claim window must be at least one snapshot.
    error ZeroClaimWindow();
    /// @notice The snapshot interval must be at least one second.
    error ZeroSnapshotInterval();
    /// @notice The model hash must not be zero.
    error ZeroModelHash();
    /// @notice The initial supply must be between 1 and `max`.
    error InvalidSupply(uint256 supply, uint256 max);
    /// @notice Sending `amount` wei to `to` failed.
    error PayoutFailed(address to, uint256 amount);
    /// @notice The supply is zero, so no revenue can be accepted or shared.
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

    /// @notice `amount` wei of revenue arrived from `from`.
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
    /// @dev pendingRevenue (128) | redemptionPool (128).
    uint256 private _pools;
    /// @dev Per snapshot: claimPool (112) | claimed (112) | timestamp (32).
    mapping(uint256 id => uint256) private _snapshots;
    /// @dev Per account: balance (128) | lastKey (32) | length (32) of its checkpoint history. The ERC-20
    /// balance lives here, next to its checkpoint header; OpenZeppelin's own balance storage is unused.
    mapping(address account => uint256) private _accounts;
    /// @dev Per account checkpoints, {SnapshotCheckpoints} entries.
    mapping(address account => mapping(uint256 index => uint256)) private _balanceEntries;
    /// @dev Total-supply checkpoints (written by the first burn of a period), {SnapshotCheckpoints} entries.
    mapping(uint256 index => uint256) private _supplyEntries;
    /// @dev Claimed snapshot ids per account.
    mapping(address account => BitMaps.BitMap) private _claimed;
    string private _modelURI;

    /*//////////////////////////////////////////////////////////////
                                CONSTANTS
    //////////////////////////////////////////////////////////////*/

    /// @notice Denominator of `percentClaimable`.
    uint256 public constant PERCENT_DENOMINATOR = 100;
    /// @notice The most wei the contract accepts to hold, so that every pool fits in 112 bits.
    uint256 public constant MAX_BALANCE = type(uint112).max;
    /// @notice The largest initial supply, so that balances fit in 128-bit checkpoints.
    uint256 public constant MAX_SUPPLY = type(uint128).max;

    uint256 private constant MASK_32 = type(uint32).max;
    uint256 private constant MASK_112 = type(uint112).max;
    uint256 private constant MASK_128 = type(uint128).max;
    // _state
    uint256 private constant LAST_TS_SHIFT = 32;
    uint256 private constant SUPPLY_LAST_KEY_SHIFT = 64;
    uint256 private constant SUPPLY_LENGTH_SHIFT = 96;
    uint256 private constant SUPPLY_SHIFT = 128;
    // _pools
    uint256 private constant REDEMPTION_SHIFT = 128;
    // _snapshots
    uint256 private constant CLAIMED_SHIFT = 112;
    uint256 private constant TIMESTAMP_SHIFT = 224;
    // _accounts
    uint256 private constant LAST_KEY_SHIFT = 128;
    uint256 private constant LENGTH_SHIFT = 160;

    /// @notice Hash of the model this token offers (`imo-model-v1`, section 2 of DESIGN).
    bytes32 public immutable modelHash;
    /// @notice Percentage (0-100) of each snapshot's new revenue that goes to its claim pool.
    uint8 public immutable percentClaimable;
    /// @notice Minimum number of seconds between two snapshots (and from deployment to the first).
    uint64 public immutable snapshotInterval;
    /// @notice Number of snapshots for which a snapshot stays claimable.
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
     * @param claimWindow_ Snapshots a snapshot stays claimable, >= 1.
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
        if (initialSupply == 0 || initialSupply > MAX_SUPPLY) revert InvalidSupply(initialSupply, MAX_SUPPLY);
        if (modelHash_ == bytes32(0)) revert ZeroModelHash();
        if (percentClaimable_ > PERCENT_DENOMINATOR) revert InvalidPercent(percentClaimable_);
        if (snapshotInterval_ == 0) revert ZeroSnapshotInterval();
        if (claimWindow_ == 0) revert ZeroClaimWindow();
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
     * @notice Accepts revenue in native currency; it is split at the next snapshot.
     * Requirements: the supply is not zero ({NoHolders}); the balance stays <= MAX_BALANCE
     * ({BalanceCapExceeded}).
     * Emits {RevenueReceived}.
     */
    receive() external payable {
        if (_state >> SUPPLY_SHIFT == 0) revert NoHolders();
        uint256 balance = address(this).balance;
        if (balance > MAX_BALANCE) revert BalanceCapExceeded(balance, MAX_BALANCE);
        // Cannot overflow into the redemption bits: pending <= balance <= MAX_BALANCE < 2**128.
        unchecked {
            _pools += msg.value;
        }
        emit RevenueReceived(msg.sender, msg.value);
    }

    /**
     * @notice Takes a snapshot of balances and splits the pending revenue; anyone may call it.
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
        uint256 pending = pools & MASK_128;
        uint256 toClaim;
        uint256 toRedemption;
        uint256 rolledOver;
        uint256 claimPool;
        // No overflow: every amount here is part of the balance, <= MAX_BALANCE = 2**112 - 1.
        unchecked {
            toClaim = (pending * percentClaimable) / PERCENT_DENOMINATOR;
            toRedemption = pending - toClaim;
            if (id > claimWindow) {
                uint256 expiring = _snapshots[id - claimWindow];
                rolledOver = (expiring & MASK_112) - ((expiring >> CLAIMED_SHIFT) & MASK_112);
            }
            claimPool = toClaim + rolledOver;
            _pools = ((pools >> REDEMPTION_SHIFT) + toRedemption) << REDEMPTION_SHIFT;
        }
        _snapshots[id] = claimPool | (timestamp << TIMESTAMP_SHIFT);
        _state = (state & ~(MASK_32 | (MASK_32 << LAST_TS_SHIFT))) | id | (timestamp << LAST_TS_SHIFT);

        emit SnapshotTaken(id, claimPool, toRedemption, rolledOver);
    }

    /**
     * @notice Pays the caller's share of snapshot `snapshotId`: claimPool * balanceOfAt / totalSupplyAt.
     * Requirements: the snapshot exists ({UnknownSnapshot}), has not expired ({SnapshotExpired}), was not
     * claimed by the caller ({AlreadyClaimed}), and the share is not zero ({NothingToClaim}); the payment
     * succeeds ({PayoutFailed}).
     * Emits {RevenueClaimed}.
     */
    function claim(uint256 snapshotId) external nonReentrant {
        uint256 amount = _claim(msg.sender, snapshotId, _state);
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
        uint256 total;
        for (uint256 i = 0; i < snapshotIds.length; ++i) {
            // Cannot overflow: every amount is paid from the balance, which is <= MAX_BALANCE.
            unchecked {
                total += _claim(msg.sender, snapshotIds[i], state);
            }
        }
        _pay(msg.sender, total);
    }

    /**
     * @notice Burns `amount` of the caller's tokens and pays `redeemableOnBurn(amount)` from the redemption pool.
     * Burning the whole remaining supply also pays the pending revenue.
     * Requirements: `amount` > 0 ({ZeroBurn}) and <= the caller's balance (ERC20InsufficientBalance); the
     * payment succeeds ({PayoutFailed}).
     * Emits {Transfer} to the zero address and {Redeemed}.
     */
    function burn(uint256 amount) external nonReentrant {
        if (amount == 0) revert ZeroBurn();
        uint256 supply = _state >> SUPPLY_SHIFT;
        uint256 payout = _redeemable(amount, supply, _pools);
        if (amount >= supply) {
            // The whole supply (a larger amount fails in _burn): everything not owed to claimants.
            _pools = 0;
        } else {
            // Cannot underflow: amount < supply, so payout <= redemption.
            unchecked {
                _pools -= payout << REDEMPTION_SHIFT;
            }
        }
        _burn(msg.sender, amount);
        emit Redeemed(msg.sender, amount, payout);
        if (payout != 0) _pay(msg.sender, payout);
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
     * is unknown, expired or already claimed by `account`.
     */
    function claimableRevenue(address account, uint256 snapshotId) external view returns (uint256) {
        uint256 state = _state;
        if (!_isClaimable(snapshotId, state) || _claimed[account].get(snapshotId)) return 0;
        return _share(account, snapshotId, _snapshots[snapshotId] & MASK_112, state);
    }

    /**
     * @notice What burning `amount` tokens would pay now: redemptionPool * amount / totalSupply, or the
     * redemption pool plus the pending revenue for the whole supply (or more); 0 when the supply is zero.
     */
    function redeemableOnBurn(uint256 amount) external view returns (uint256) {
        return _redeemable(amount, _state >> SUPPLY_SHIFT, _pools);
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

    /// @notice Revenue received since the latest snapshot, not yet split.
    function pendingRevenue() external view returns (uint256) {
        return _pools & MASK_128;
    }

    /// @notice Revenue set aside for burners.
    function redemptionPool() external view returns (uint256) {
        return _pools >> REDEMPTION_SHIFT;
    }

    /**
     * @notice Everything about snapshot `id`.
     * Requirements: the snapshot exists ({UnknownSnapshot}).
     * @return claimPool Wei shared by holders at `id` (new revenue share plus rollover).
     * @return claimed Wei claimed so far (frozen once expired; the remainder rolled over).
     * @return totalSupplyAt_ Total supply when the snapshot was taken.
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
            !_isClaimable(id, state)
        );
    }

    /// @notice Balance of `account` when snapshot `id` was taken. Requirements: the snapshot exists.
    function balanceOfAt(address account, uint256 id) external view returns (uint256) {
        _requireKnown(id, _state);
        return _balanceAt(account, id);
    }

    /// @notice Total supply when snapshot `id` was taken. Requirements: the snapshot exists.
    function totalSupplyAt(uint256 id) external view returns (uint256) {
        uint256 state = _state;
        _requireKnown(id, state);
        return _supplyAt(id, state);
    }

    /// @notice Whether `account` has claimed snapshot `id`.
    function hasClaimed(address account, uint256 id) external view returns (bool) {
        return _claimed[account].get(id);
    }

    /// @notice Whether snapshot `id` exists and has not expired.
    function isClaimable(uint256 id) external view returns (bool) {
        return _isClaimable(id, _state);
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

    /// @dev Checks and books one claim by `holder`; returns the amount to pay. `state` is the current state.
    function _claim(address holder, uint256 id, uint256 state) private returns (uint256 amount) {
        _requireKnown(id, state);
        if (!_isClaimable(id, state)) revert SnapshotExpired(id, id + claimWindow);
        BitMaps.BitMap storage claimedBy = _claimed[holder];
        if (claimedBy.get(id)) revert AlreadyClaimed(holder, id);
        uint256 record = _snapshots[id];
        amount = _share(holder, id, record & MASK_112, state);
        if (amount == 0) revert NothingToClaim(holder, id);
        claimedBy.set(id);
        // Cannot carry out of the claimed bits: the shares of all holders at `id` sum to at most claimPool.
        unchecked {
            _snapshots[id] = record + (amount << CLAIMED_SHIFT);
        }
        emit RevenueClaimed(holder, id, amount);
    }

    /// @dev claimPool * balanceOfAt(holder, id) / totalSupplyAt(id), rounded down.
    function _share(address holder, uint256 id, uint256 claimPool, uint256 state) private view returns (uint256) {
        if (claimPool == 0) return 0;
        // supplyAt > 0: snapshot() requires a non-zero supply. No overflow: 2**112 * 2**128 < 2**256.
        unchecked {
            return (claimPool * _balanceAt(holder, id)) / _supplyAt(id, state);
        }
    }

    function _balanceAt(address account, uint256 id) private view returns (uint256) {
        uint256 packed = _accounts[account];
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

    function _redeemable(uint256 amount, uint256 supply, uint256 pools) private pure returns (uint256) {
        if (supply == 0) return 0;
        uint256 redemption = pools >> REDEMPTION_SHIFT;
        // No overflow: pools are <= 2**112 and amount < supply <= 2**128 in the division branch.
        unchecked {
            if (amount >= supply) return redemption + (pools & MASK_128);
            return (redemption * amount) / supply;
        }
    }

    function _requireKnown(uint256 id, uint256 state) private pure {
        if (id == 0 || id > state & MASK_32) revert UnknownSnapshot(id);
    }

    function _isClaimable(uint256 id, uint256 state) private view returns (bool) {
        uint256 current = state & MASK_32;
        return id != 0 && id <= current && id + claimWindow > current;
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
     * balance changes for the first time in a snapshot period, its value as of the current snapshot is
     * checkpointed (once per account per period; on a burn, the total supply likewise).
     */
    function _update(address from, address to, uint256 value) internal virtual override {
        uint256 state = _state;
        uint256 id = state & MASK_32;
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
                SnapshotCheckpoints.push(_supplyEntries, length, uint32(id), uint128(state >> SUPPLY_SHIFT));
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
    /// `id` is 0; returns `packed` with the header updated.
    function _checkpoint(address account, uint256 packed, uint256 id) private returns (uint256) {
        if (id == 0 || (packed >> LAST_KEY_SHIFT) & MASK_32 == id) return packed;
        uint256 length = (packed >> LENGTH_SHIFT) & MASK_32;
        SnapshotCheckpoints.push(_balanceEntries[account], length, uint32(id), uint128(packed));
        // Cannot overflow: at most one checkpoint per snapshot id, and ids are uint32.
        unchecked {
            return (packed & MASK_128) | (id << LAST_KEY_SHIFT) | ((length + 1) << LENGTH_SHIFT);
        }
    }
}
