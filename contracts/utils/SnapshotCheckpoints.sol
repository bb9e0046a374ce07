// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/**
 * @title SnapshotCheckpoints
 * @notice A history of values "as of snapshot N", written at most once per snapshot period.
 *
 * Invariant: for every key k with 1 <= k <= current snapshot id, `lookup(k, ...)` is the value the history
 * had at the end of the second (block timestamp) snapshot k was taken in.
 *
 * How: the value "at snapshot k" is the value at the END of the second snapshot k was taken in (so a value
 * changed and changed back within one transaction is never captured). Period k runs from the end of that
 * second until the end of the second of snapshot k+1. The first time a value changes during period k, the
 * value *before* the change (= its value at snapshot k) is pushed with key k. Later changes in the same
 * period write nothing; changes in snapshot k's own second belong to period k-1 and so still count towards
 * snapshot k. The value at snapshot k is then the value of the first checkpoint whose key is >= k (no change
 * happened between snapshot k and that checkpoint's snapshot), or the current value if there is none (no
 * change since snapshot k). Changes during period 0 (before the first snapshot's second ended) need no
 * checkpoint, since key 0 is never queried. The caller passes the key of the period it is in.
 *
 * Storage: one slot per checkpoint, `entries[i]` = key (bits 0-31) | value (bits 32-159). The caller keeps
 * the header (length, last key) packed into a slot it reads anyway, so that deciding whether a change
 * needs a checkpoint costs no extra storage read.
 */
library SnapshotCheckpoints {
    uint256 private constant KEY_BITS = 32;
    uint256 private constant KEY_MASK = type(uint32).max;

    /// @dev Writes checkpoint number `length` (0-based) with `key` and `value`; the caller bumps its length.
    function push(mapping(uint256 => uint256) storage entries, uint256 length, uint32 key, uint128 value) internal {
        entries[length] = uint256(key) | (uint256(value) << KEY_BITS);
    }

    /**
     * @dev The value at snapshot `key` (>= 1): the value of the first of the `length` checkpoints with a key
     * >= `key` (`lastKey` is the newest one's key), else `current`. No storage read when
     * `lastKey < key`; otherwise a binary search, O(log length) reads.
     */
    function lookup(
        mapping(uint256 => uint256) storage entries,
        uint256 length,
        uint256 lastKey,
        uint256 key,
        uint256 current
    ) internal view returns (uint256) {
        if (length == 0 || lastKey < key) return current;
        // The first entry with entry.key >= key exists in [0, length - 1] because lastKey >= key.
        uint256 low = 0;
        uint256 high = length - 1;
        while (low < high) {
            // Cannot overflow: low and high are below 2**32.
            uint256 mid;
            unchecked {
                mid = (low + high) >> 1;
            }
            if (entries[mid] & KEY_MASK < key) {
                low = mid + 1;
            } else {
                high = mid;
            }
        }
        return entries[low] >> KEY_BITS;
    }
}
