// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IERC7641} from "./interfaces/IERC7641.sol";

/// @dev What the offering uses of ImoToken beyond EIP-7641: the latest snapshot id (ids start at 1), the
/// snapshot interval, and pre-paying a holder's balance-checkpoint slots.
interface IERC7641Snapshots {
    function currentSnapshotId() external view returns (uint256);
    function snapshotInterval() external view returns (uint64);
    function prepayCheckpoints(address account, uint256 count) external;
}

/**
 * @title ImoOffering: one sale of an IMO token (ERC-7641) for the native currency
 * @notice Invariants (checked by test/forge/ImoOfferingInvariant.t.sol):
 * - ether: everything that came in (payments net of change returned at purchase, revenue claimed, ether
 *   forced in) = `refunded` + `withdrawn` + the contract's balance;
 * - tokens: `amountForSale` (moved in by {fund}) + tokens sent in directly = `delivered` + `returned` + the
 *   contract's token balance;
 * - the balance always covers what is owed: ether balance >= `owedWei` (refunds), token balance >= `owedTokens`
 *   (deliveries); so after {finalize}, {withdraw}, every {refund} and every {deliver}, nothing is left, and
 *   whatever arrives later is the seller's and leaves by {withdraw} (ether) or {sweep} (tokens).
 *
 * Rule for what nobody bought: everything here that no buyer is owed belongs to the seller. Ether: proceeds,
 * revenue and ether forced in, by {withdraw}. The token for sale: unsold or returned tokens and tokens sent in
 * directly before {finalize} go back at {finalize}; tokens sent in after it, by {sweep} (counted in
 * `returned`). Any other ERC-20 sent here: by {sweep}, at any time. Anyone may call {sweep}; it only ever
 * pays the seller.
 *
 * The seller deploys the sale, approves it and calls {fund}, which moves `amountForSale` tokens in. Between
 * `startTime` (inclusive) and `endTime` (exclusive) anyone (or, with an allowlist, anyone on it) buys at the
 * price of its block: fixed when `startPrice == floorPrice`, else falling linearly from `startPrice` at
 * `startTime` to `floorPrice` at `endTime`, never below the floor. Prices are in wei per whole token
 * (10**decimals base units); the cost of a purchase and the price both round up, so every rounding favours
 * the contract.
 *
 * Without a soft cap, tokens are delivered at purchase and the seller may {withdraw} the proceeds at any time.
 * With a soft cap, tokens stay here until {finalize} (after `endTime`, or once everything is sold): soft cap
 * missed, every buyer gets its payment back with {refund} and all the tokens return to the seller; met, the
 * seller withdraws and buyers' tokens are delivered with {deliver} (anyone may call it for any buyer).
 * Unsold tokens return to the seller at {finalize}.
 *
 * While tokens sit here, the contract is an ERC-7641 holder: revenue snapshotted during the sale is claimed by
 * {finalize} (and {claimRevenue}, callable by anyone, for later snapshots) and belongs to the seller, who
 * receives it with {withdraw}. Payouts are pulled, never pushed, so no recipient can block {finalize}.
 *
 * Caps: `maxPerAddress` (0 = none) and, with an allowlist, a per-address cap in each Merkle leaf
 * `keccak256(abi.encode(address, cap))` (cap in base units, 0 = only `maxPerAddress`); the lower one applies.
 * Leaves are 64 bytes like inner nodes; a forged leaf would need an inner node whose left half is an address
 * (96 leading zero bits), which is infeasible.
 *
 * Storage: `_state` packs sold (120 bits) | status (8) | raised (128); one word per buyer packs undelivered or
 * bought tokens (128) | paid wei (128), written only when a soft cap or a cap needs it.
 *
 * Gas: the token keeps every holder's balance as of each snapshot, so the first purchase after a snapshot
 * changes the sale's balance and writes its checkpoint. Without a soft cap, {fund} pre-pays those slots (the
 * seller pays for the sale's revenue bookkeeping, see {MAX_PREPAID_CHECKPOINTS}), and a purchase pays only
 * for the buyer's own balance.
 */
contract ImoOffering is ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /*//////////////////////////////////////////////////////////////
                                 ERRORS
    //////////////////////////////////////////////////////////////*/

    /// @notice `endTime` must be after `startTime` and in the future.
    error InvalidSchedule(uint256 startTime, uint256 endTime, uint256 now_);
    /// @notice Prices must be positive and the floor at most the start price.
    error InvalidPrices(uint256 startPrice, uint256 floorPrice);
    /// @notice The amount must be between 1 and `max` base units.
    error InvalidAmount(uint256 amount, uint256 max);
    /// @notice The soft cap is more than selling everything at the start price raises.
    error SoftCapUnreachable(uint256 softCap, uint256 maxRaise);
    /// @notice An address argument was the zero address.
    error ZeroAddress();
    /// @notice Only the seller may call this.
    error NotSeller(address caller);
    /// @notice {fund} was already called.
    error AlreadyFunded();
    /// @notice The tokens were not moved in yet ({fund}).
    error NotFunded();
    /// @notice Buying opens at `startTime`.
    error SaleNotStarted(uint256 startTime);
    /// @notice Buying closed at `endTime`, or the sale was finalized.
    error SaleEnded(uint256 endTime);
    /// @notice {finalize} before `endTime` with tokens left.
    error SaleNotOver(uint256 endTime, uint256 left);
    /// @notice {finalize} was already called.
    error AlreadyFinalized();
    /// @notice This needs {finalize} first.
    error NotFinalized();
    /// @notice Buying zero tokens.
    error ZeroPurchase();
    /// @notice Only `available` tokens are left for sale.
    error NotEnoughLeft(uint256 requested, uint256 available);
    /// @notice The price of this block is above the buyer's limit.
    error PriceAboveMax(uint256 price, uint256 maxPrice);
    /// @notice The payment does not cover the cost.
    error PaymentTooLow(uint256 cost, uint256 sent);
    /// @notice The purchase would take `buyer` over its cap: `remaining` tokens are left for it.
    error CapExceeded(address buyer, uint256 requested, uint256 remaining);
    /// @notice The proof does not show (`buyer`, `cap`) on the allowlist.
    error NotAllowlisted(address buyer, uint256 cap);
    /// @notice The sale has an allowlist: use {buyAllowlisted}.
    error AllowlistRequired();
    /// @notice Refunds are open only after {finalize} of a sale that missed its soft cap.
    error RefundsClosed();
    /// @notice Deliveries after {finalize} exist only for a sale that met its soft cap.
    error NoDeliveries();
    /// @notice `buyer` has nothing to refund.
    error NothingToRefund(address buyer);
    /// @notice `buyer` has no undelivered tokens.
    error NothingToDeliver(address buyer);
    /// @notice There is no ether for the seller to withdraw.
    error NothingToWithdraw();
    /// @notice With a soft cap, proceeds are withdrawn after {finalize}.
    error WithdrawBeforeFinalize();
    /// @notice Sending `amount` wei to `to` failed.
    error PayoutFailed(address to, uint256 amount);
    /// @notice Plain ether is accepted only from the token (claimed revenue).
    error UnexpectedEther(address from);
    /// @notice This sale holds nothing of `asset` that is not owed to buyers.
    error NothingToSweep(address asset);

    /*//////////////////////////////////////////////////////////////
                                 EVENTS
    //////////////////////////////////////////////////////////////*/

    /// @notice The seller moved `amount` tokens in; the sale can open.
    event Funded(uint256 amount, uint256 firstSnapshotId);
    /// @notice `buyer` bought `amount` tokens at `price` wei per token for `cost` wei.
    event Purchased(address indexed buyer, uint256 amount, uint256 price, uint256 cost, bool delivered);
    /// @notice The sale ended: `returned` tokens went back to the seller.
    event Finalized(bool softCapMet, uint256 sold, uint256 raised, uint256 returned);
    /// @notice `buyer` got `amount` wei back for `tokens` tokens it will not receive.
    event Refunded(address indexed buyer, uint256 amount, uint256 tokens);
    /// @notice `buyer`'s `amount` tokens were delivered after a met soft cap.
    event Delivered(address indexed buyer, uint256 amount);
    /// @notice The seller withdrew `amount` wei (proceeds and revenue).
    event Withdrawn(address indexed seller, uint256 amount);
    /// @notice `amount` wei of revenue was claimed for snapshots up to `lastId`.
    event RevenueCollected(uint256 lastId, uint256 amount);
    /// @notice `amount` of the ERC-20 `asset`, owed to no buyer, went to the seller.
    event Swept(address indexed asset, uint256 amount);

    /*//////////////////////////////////////////////////////////////
                                 STORAGE
    //////////////////////////////////////////////////////////////*/

    /// @notice The token for sale.
    IERC20 public immutable token;
    /// @notice Who funds the sale and receives proceeds, revenue and unsold tokens.
    address public immutable seller;
    /// @notice Tokens for sale, in base units.
    uint256 public immutable amountForSale;
    /// @notice Wei per whole token at `startTime`.
    uint256 public immutable startPrice;
    /// @notice Wei per whole token at `endTime`; the price never goes below it.
    uint256 public immutable floorPrice;
    uint256 public immutable startTime;
    uint256 public immutable endTime;
    /// @notice Wei to raise for the sale to succeed; 0 = none (tokens delivered at purchase).
    uint256 public immutable softCap;
    /// @notice Most tokens (base units) one address may buy; 0 = no cap.
    uint256 public immutable maxPerAddress;
    /// @notice Root of the allowlist Merkle tree; zero = no allowlist.
    bytes32 public immutable merkleRoot;
    /// @notice Base units per whole token (10**decimals).
    uint256 public immutable unit;
    bool private immutable _tracksBuyers;

    /// @dev sold (120) | status (8) | raised (128).
    uint256 private _state;
    /// @dev Per buyer: tokens bought and not yet delivered or refunded (128) | wei paid (128).
    mapping(address buyer => uint256) private _buyers;

    /// @notice Wei paid back to buyers by {refund}.
    uint256 public refunded;
    /// @notice Wei paid to the seller by {withdraw}.
    uint256 public withdrawn;
    /// @notice Wei of revenue claimed from the token.
    uint256 public revenueCollected;
    /// @notice Tokens delivered by {deliver} (deliveries at purchase are `sold` without a soft cap).
    uint256 public deliveredLater;
    /// @notice Tokens sent back to the seller (by {finalize} and {sweep}).
    uint256 public returned;
    /// @notice Wei still owed to buyers as refunds.
    uint256 public owedWei;
    /// @notice Tokens still owed to buyers after a met soft cap.
    uint256 public owedTokens;
    /// @notice The next snapshot id whose revenue is to be claimed.
    uint256 public revenueCursor;

    /*//////////////////////////////////////////////////////////////
                                CONSTANTS
    //////////////////////////////////////////////////////////////*/

    /// @notice Most snapshot ids one revenue collection looks at, so that many snapshots (a short snapshot
    /// interval, or someone taking them on purpose) can never make {finalize} run out of gas; {claimRevenue}
    /// continues from `revenueCursor`.
    uint256 public constant MAX_SNAPSHOTS_PER_COLLECTION = 256;

    /// @notice Most checkpoint slots of the sale's token balance that {fund} pre-pays (about 22,100 gas each):
    /// one per snapshot that can fall before `endTime` plus one for {finalize}. A longer sale's later
    /// snapshots make their first purchase pay 17,100 gas more, unless someone pre-pays more slots with the
    /// token's `prepayCheckpoints(sale, count)`.
    uint256 public constant MAX_PREPAID_CHECKPOINTS = 64;

    uint256 private constant MASK_120 = type(uint120).max;
    uint256 private constant MASK_128 = type(uint128).max;
    uint256 private constant STATUS_SHIFT = 120;
    uint256 private constant RAISED_SHIFT = 128;
    uint256 private constant STATUS_FUNDED = 1 << STATUS_SHIFT;
    uint256 private constant STATUS_FINALIZED = 2 << STATUS_SHIFT;
    uint256 private constant STATUS_MASK = 0xff << STATUS_SHIFT;

    /*//////////////////////////////////////////////////////////////
                               CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    /**
     * @param token_ The ERC-7641 token for sale.
     * @param seller_ Who funds the sale and receives its proceeds.
     * @param amount_ Tokens for sale, base units (1 to 2**120 - 1).
     * @param startPrice_ Wei per whole token at the start (> 0).
     * @param floorPrice_ Wei per whole token at the end (> 0, <= start price; equal = fixed price).
     * @param startTime_ First second of the sale (unix time).
     * @param endTime_ First second after the sale (> start, in the future).
     * @param softCap_ Wei to raise for success, 0 = none; at most `amount * startPrice`.
     * @param maxPerAddress_ Most tokens (base units) per address, 0 = none.
     * @param merkleRoot_ Allowlist root, zero = anyone may buy.
     */
    constructor(
        IERC20 token_,
        address seller_,
        uint256 amount_,
        uint256 startPrice_,
        uint256 floorPrice_,
        uint256 startTime_,
        uint256 endTime_,
        uint256 softCap_,
        uint256 maxPerAddress_,
        bytes32 merkleRoot_
    ) {
        if (address(token_) == address(0) || seller_ == address(0)) revert ZeroAddress();
        if (amount_ == 0 || amount_ > MASK_120) revert InvalidAmount(amount_, MASK_120);
        if (floorPrice_ == 0 || floorPrice_ > startPrice_) revert InvalidPrices(startPrice_, floorPrice_);
        if (endTime_ <= startTime_ || endTime_ <= block.timestamp) {
            revert InvalidSchedule(startTime_, endTime_, block.timestamp);
        }
        uint256 unit_ = 10 ** IERC20Metadata(address(token_)).decimals();
        uint256 maxRaise = Math.mulDiv(amount_, startPrice_, unit_, Math.Rounding.Ceil);
        if (maxRaise > MASK_128) revert InvalidPrices(startPrice_, floorPrice_);
        if (softCap_ > maxRaise) revert SoftCapUnreachable(softCap_, maxRaise);
        token = token_;
        seller = seller_;
        amountForSale = amount_;
        startPrice = startPrice_;
        floorPrice = floorPrice_;
        startTime = startTime_;
        endTime = endTime_;
        softCap = softCap_;
        maxPerAddress = maxPerAddress_;
        merkleRoot = merkleRoot_;
        unit = unit_;
        _tracksBuyers = softCap_ != 0 || maxPerAddress_ != 0 || merkleRoot_ != bytes32(0);
    }

    /*//////////////////////////////////////////////////////////////
                                EXTERNAL
    //////////////////////////////////////////////////////////////*/

    /**
     * @notice Moves `amountForSale` tokens from the seller in (after the seller's `approve`); opens the sale.
     * Without a soft cap, also pre-pays the token's checkpoint slots for the sale's balance (see
     * {MAX_PREPAID_CHECKPOINTS}), so that the first purchase after a snapshot does not pay for them.
     * Requirements: called by the seller ({NotSeller}), once ({AlreadyFunded}), before `endTime` ({SaleEnded}).
     * Emits {Funded}.
     */
    function fund() external nonReentrant {
        if (msg.sender != seller) revert NotSeller(msg.sender);
        if (_state & STATUS_MASK != 0) revert AlreadyFunded();
        if (block.timestamp >= endTime) revert SaleEnded(endTime);
        _state = STATUS_FUNDED;
        uint256 first = IERC7641Snapshots(address(token)).currentSnapshotId() + 1;
        revenueCursor = first;
        token.safeTransferFrom(msg.sender, address(this), amountForSale);
        if (softCap == 0) _prepayCheckpoints();
        emit Funded(amountForSale, first);
    }

    /**
     * @notice Buys `amount` tokens (base units) at this block's price; change above the cost is sent back.
     * Requirements: no allowlist ({AllowlistRequired}); see {buyAllowlisted} for the rest.
     * Emits {Purchased}.
     */
    function buy(uint256 amount, uint256 maxPrice) external payable nonReentrant {
        if (merkleRoot != bytes32(0)) revert AllowlistRequired();
        _buy(amount, maxPrice, 0);
    }

    /**
     * @notice Buys as {buy}, proving that (`msg.sender`, `cap`) is on the allowlist.
     * Requirements: the proof holds ({NotAllowlisted}); the sale is funded ({NotFunded}), open ({SaleNotStarted},
     * {SaleEnded}); `amount` > 0 ({ZeroPurchase}) and left ({NotEnoughLeft}); the price is at most `maxPrice`
     * ({PriceAboveMax}); the buyer stays within its cap ({CapExceeded}); `msg.value` covers the cost
     * ({PaymentTooLow}).
     * Emits {Purchased}.
     */
    function buyAllowlisted(uint256 amount, uint256 maxPrice, uint256 cap, bytes32[] calldata proof)
        external
        payable
        nonReentrant
    {
        bytes32 leaf = keccak256(abi.encode(msg.sender, cap));
        if (!MerkleProof.verifyCalldata(proof, merkleRoot, leaf)) revert NotAllowlisted(msg.sender, cap);
        _buy(amount, maxPrice, cap);
    }

    /**
     * @notice Ends the sale: returns unsold tokens (all tokens when the soft cap was missed) to the seller,
     * opens refunds or deliveries, and claims the revenue the tokens here earned (the seller's, via {withdraw}).
     * Anyone may call it.
     * Requirements: funded ({NotFunded}), not finalized ({AlreadyFinalized}), `endTime` passed or all sold
     * ({SaleNotOver}).
     * Emits {Finalized} (and {RevenueCollected}).
     */
    function finalize() external nonReentrant {
        uint256 state = _state;
        uint256 status = state & STATUS_MASK;
        if (status == 0) revert NotFunded();
        if (status == STATUS_FINALIZED) revert AlreadyFinalized();
        uint256 sold = state & MASK_120;
        if (block.timestamp < endTime && sold < amountForSale) revert SaleNotOver(endTime, amountForSale - sold);
        _state = (state & ~STATUS_MASK) | STATUS_FINALIZED;
        uint256 raised = state >> RAISED_SHIFT;
        bool met = raised >= softCap;
        if (!met) owedWei = raised;
        else if (softCap != 0) owedTokens = sold;
        uint256 back = token.balanceOf(address(this)) - (met ? owedTokens : 0);
        returned += back;
        if (back != 0) token.safeTransfer(seller, back);
        emit Finalized(met, sold, raised, back);
        _collectRevenue();
    }

    /**
     * @notice Pays the caller back what it paid, after a sale that missed its soft cap.
     * Requirements: finalized with the soft cap missed ({RefundsClosed}); the caller paid something
     * ({NothingToRefund}); the payment succeeds ({PayoutFailed}).
     * Emits {Refunded}.
     */
    function refund() external nonReentrant {
        if (!_refundsOpen()) revert RefundsClosed();
        uint256 record = _buyers[msg.sender];
        uint256 paid = record >> 128;
        if (paid == 0) revert NothingToRefund(msg.sender);
        delete _buyers[msg.sender];
        owedWei -= paid;
        refunded += paid;
        emit Refunded(msg.sender, paid, record & MASK_128);
        _pay(msg.sender, paid);
    }

    /**
     * @notice Delivers `buyer`'s tokens after a sale that met its soft cap; anyone may call it.
     * Requirements: finalized ({NotFinalized}) with a soft cap that was met ({NoDeliveries}); `buyer` has tokens
     * waiting ({NothingToDeliver}).
     * Emits {Delivered}.
     */
    function deliver(address buyer) external nonReentrant {
        uint256 state = _state;
        if (state & STATUS_MASK != STATUS_FINALIZED) revert NotFinalized();
        if (softCap == 0 || state >> RAISED_SHIFT < softCap) revert NoDeliveries();
        uint256 tokens = _buyers[buyer] & MASK_128;
        if (tokens == 0) revert NothingToDeliver(buyer);
        delete _buyers[buyer];
        owedTokens -= tokens;
        deliveredLater += tokens;
        emit Delivered(buyer, tokens);
        token.safeTransfer(buyer, tokens);
    }

    /**
     * @notice Pays the seller everything here that is not owed to buyers: proceeds (unless refunds are due),
     * revenue, and ether forced in.
     * Requirements: called by the seller ({NotSeller}); without a soft cap any time, with one after {finalize}
     * ({WithdrawBeforeFinalize}); something to pay ({NothingToWithdraw}); the payment succeeds ({PayoutFailed}).
     * Emits {Withdrawn}.
     */
    function withdraw() external nonReentrant {
        if (msg.sender != seller) revert NotSeller(msg.sender);
        if (softCap != 0 && _state & STATUS_MASK != STATUS_FINALIZED) revert WithdrawBeforeFinalize();
        uint256 amount = address(this).balance - owedWei;
        if (amount == 0) revert NothingToWithdraw();
        withdrawn += amount;
        emit Withdrawn(msg.sender, amount);
        _pay(msg.sender, amount);
    }

    /**
     * @notice Claims the revenue of snapshots taken since the last collection (the seller's, via {withdraw});
     * anyone may call it, e.g. for snapshots taken after {finalize} while buyers' tokens wait for delivery.
     * Requirements: funded ({NotFunded}).
     * Emits {RevenueCollected} when something was claimed.
     */
    function claimRevenue() external nonReentrant {
        if (_state & STATUS_MASK == 0) revert NotFunded();
        _collectRevenue();
    }

    /**
     * @notice Sends the seller what this sale holds of the ERC-20 `asset` beyond what buyers are owed: of the
     * token for sale, the balance above `owedTokens` once finalized (tokens sent in after {finalize}); of any
     * other token, the whole balance. Anyone may call it.
     * Requirements: for the token for sale, finalized ({NotFinalized}: before, {finalize} returns them);
     * something to send ({NothingToSweep}); the transfer succeeds (SafeERC20FailedOperation).
     * Emits {Swept}.
     */
    function sweep(IERC20 asset) external nonReentrant {
        uint256 amount = asset.balanceOf(address(this));
        if (asset == token) {
            if (_state & STATUS_MASK != STATUS_FINALIZED) revert NotFinalized();
            // Cannot underflow: the token balance covers the owed tokens (header invariant).
            amount -= owedTokens;
            returned += amount;
        }
        if (amount == 0) revert NothingToSweep(address(asset));
        emit Swept(address(asset), amount);
        asset.safeTransfer(seller, amount);
    }

    /// @notice Accepts claimed revenue from the token only.
    receive() external payable {
        if (msg.sender != address(token)) revert UnexpectedEther(msg.sender);
    }

    /*//////////////////////////////////////////////////////////////
                                  VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @notice The price (wei per whole token) a purchase in a block with `timestamp` pays.
    function priceAt(uint256 timestamp) public view returns (uint256) {
        if (startPrice == floorPrice || timestamp <= startTime) return startPrice;
        if (timestamp >= endTime) return floorPrice;
        // The decrease rounds down, so the price rounds up (in the contract's favour) and stays >= floor.
        // No overflow: (startPrice - floorPrice) <= 2**128 by the constructor's maxRaise check times a duration.
        return startPrice - Math.mulDiv(startPrice - floorPrice, timestamp - startTime, endTime - startTime);
    }

    /// @notice The price of the current block.
    function currentPrice() external view returns (uint256) {
        return priceAt(block.timestamp);
    }

    /// @notice What `amount` tokens cost at `price` (rounded up).
    function costAt(uint256 amount, uint256 price) public view returns (uint256) {
        return Math.mulDiv(amount, price, unit, Math.Rounding.Ceil);
    }

    /// @notice Tokens sold, wei raised, and whether the sale is funded and finalized.
    function progress() external view returns (uint256 sold, uint256 raised, bool funded, bool finalized) {
        uint256 state = _state;
        sold = state & MASK_120;
        raised = state >> RAISED_SHIFT;
        funded = state & STATUS_MASK != 0;
        finalized = state & STATUS_MASK == STATUS_FINALIZED;
    }

    /// @notice `buyer`'s tokens awaiting delivery or refund (or bought, with a cap) and the wei it paid.
    /// Without a soft cap or caps, purchases are not recorded here (see the {Purchased} events).
    function purchaseOf(address buyer) external view returns (uint256 tokens, uint256 paid) {
        uint256 record = _buyers[buyer];
        return (record & MASK_128, record >> 128);
    }

    /// @notice The cap that applies to `buyer` with allowlist cap `leafCap` (0 = none): the lower nonzero one.
    function capFor(uint256 leafCap) public view returns (uint256) {
        if (leafCap == 0) return maxPerAddress;
        if (maxPerAddress == 0) return leafCap;
        return Math.min(leafCap, maxPerAddress);
    }

    /*//////////////////////////////////////////////////////////////
                                INTERNAL
    //////////////////////////////////////////////////////////////*/

    function _buy(uint256 amount, uint256 maxPrice, uint256 leafCap) private {
        uint256 state = _state;
        uint256 status = state & STATUS_MASK;
        if (status == 0) revert NotFunded();
        if (block.timestamp < startTime) revert SaleNotStarted(startTime);
        if (block.timestamp >= endTime || status == STATUS_FINALIZED) revert SaleEnded(endTime);
        if (amount == 0) revert ZeroPurchase();
        uint256 sold = state & MASK_120;
        // No underflow: sold <= amountForSale always.
        unchecked {
            if (amount > amountForSale - sold) revert NotEnoughLeft(amount, amountForSale - sold);
        }
        uint256 price = priceAt(block.timestamp);
        if (price > maxPrice) revert PriceAboveMax(price, maxPrice);
        uint256 cost = costAt(amount, price);
        if (msg.value < cost) revert PaymentTooLow(cost, msg.value);
        // No overflow: sold + amount <= amountForSale < 2**120, and raised <= amountForSale * startPrice
        // (rounded up) < 2**128 by the constructor's check; the price only falls.
        unchecked {
            _state = (sold + amount) | status | (((state >> RAISED_SHIFT) + cost) << RAISED_SHIFT);
        }
        if (_tracksBuyers) {
            uint256 record = _buyers[msg.sender];
            uint256 bought = record & MASK_128;
            uint256 cap = capFor(leafCap);
            if (cap != 0 && bought + amount > cap) {
                revert CapExceeded(msg.sender, amount, cap > bought ? cap - bought : 0);
            }
            // No overflow: both halves are bounded as `sold` and `raised` are.
            unchecked {
                _buyers[msg.sender] = record + amount + (cost << 128);
            }
        }
        bool delivered = softCap == 0;
        emit Purchased(msg.sender, amount, price, cost, delivered);
        if (delivered) token.safeTransfer(msg.sender, amount);
        // No underflow: checked above.
        unchecked {
            if (msg.value > cost) _pay(msg.sender, msg.value - cost);
        }
    }

    /// @dev Pre-pays a checkpoint slot for each period in which purchases can change the sale's balance: one
    /// per snapshot that can be taken before `endTime` (at most one per interval, the first possibly now),
    /// plus one for {finalize}.
    function _prepayCheckpoints() private {
        IERC7641Snapshots snapshots = IERC7641Snapshots(address(token));
        uint256 count = (endTime - block.timestamp) / snapshots.snapshotInterval() + 2;
        snapshots.prepayCheckpoints(address(this), Math.min(count, MAX_PREPAID_CHECKPOINTS));
    }

    function _refundsOpen() private view returns (bool) {
        uint256 state = _state;
        return state & STATUS_MASK == STATUS_FINALIZED && state >> RAISED_SHIFT < softCap;
    }

    /// @dev Claims every snapshot from `revenueCursor` on (at most MAX_SNAPSHOTS_PER_COLLECTION) that has revenue for
    /// this contract; stops at the first claim the token refuses (e.g. a snapshot claimable only from the next block)
    /// so a later call retries it.
    function _collectRevenue() private {
        uint256 id = revenueCursor;
        uint256 last = IERC7641Snapshots(address(token)).currentSnapshotId();
        if (last >= id + MAX_SNAPSHOTS_PER_COLLECTION) last = id + MAX_SNAPSHOTS_PER_COLLECTION - 1;
        uint256 before = address(this).balance;
        for (; id <= last; ++id) {
            if (IERC7641(address(token)).claimableRevenue(address(this), id) == 0) continue;
            try IERC7641(address(token)).claim(id) {}
            catch {
                break;
            }
        }
        // The latest snapshot is looked at again next time: its claim may open only in a later block.
        revenueCursor = id > last && last != 0 ? last : id;
        uint256 gained = address(this).balance - before;
        if (gained != 0) {
            revenueCollected += gained;
            emit RevenueCollected(id - 1, gained);
        }
    }

    /// @dev Sends `amount` wei to `to` with all gas; effects are done before.
    function _pay(address to, uint256 amount) private {
        (bool ok,) = payable(to).call{value: amount}("");
        if (!ok) revert PayoutFailed(to, amount);
    }
}
