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
 * Zero horizon: a history that has no checkpoint yet and whose value was zero at snapshot k (a fresh
 * account receiving its first tokens in period k) needs no checkpoint slot: the caller records k as its last
 * key with a length of 0, which reads as "zero at every snapshot up to k" (no change happened in periods
 * 1..k-1, or it would have a checkpoint, so its value was the same zero then). While the length stays 0,
 * later zero-valued changes move the horizon up the same way. The first real checkpoint carries the horizon
 * along in entry 0 (`zeroUntil`), so lookups of keys up to it still give zero. This saves the one new
 * storage slot (22,100 gas) that a fresh holder's first change after a snapshot would otherwise write.
 *
 * Storage: one slot per checkpoint, `entries[i]` = key (bits 0-31) | value (bits 32-159) | zeroUntil (bits
 * 160-191, entry 0 only; 0 = no horizon). The caller keeps the header (length, last key) packed into a slot
 * it reads anyway, so that deciding whether a change needs a checkpoint costs no extra storage read.
 *
 * Pre-paid slots: {prepay} writes a marker (bit 255) into entries not written yet, so that the {push} that
 * later fills one overwrites a non-zero slot (5,000 gas cold) instead of creating one (22,100). Entries at
 * or beyond the length are never read, so the marker is never seen, and {push} overwrites the whole word.
 */
library SnapshotCheckpoints {
    uint256 private constant KEY_BITS = 32;
    uint256 private constant KEY_MASK = type(uint32).max;
    uint256 private constant VALUE_MASK = type(uint128).max;
    uint256 private constant ZERO_UNTIL_SHIFT = 160;
    uint256 private constant PREPAID = 1 << 255;

    /**
     * @dev Writes checkpoint number `length` (0-based) with `key` and `value`; the caller bumps its length.
     * `zeroUntil` is the zero horizon (the caller's last key while its length was 0), written with entry 0
     * only; pass 0 otherwise.
     */
    function push(
        mapping(uint256 => uint256) storage entries,
        uint256 length,
        uint32 key,
        uint128 value,
        uint32 zeroUntil
    ) internal {
        entries[length] =
            uint256(key) | (uint256(value) << KEY_BITS) | (uint256(zeroUntil) << ZERO_UNTIL_SHIFT);
    }

    /**
     * @dev Pre-pays entries `length` to `length + count - 1` (the next `count` checkpoints): each one not
     * written yet gets the marker, so that its {push} costs a non-zero-to-non-zero write.
     */
    function prepay(mapping(uint256 => uint256) storage entries, uint256 length, uint256 count) internal {
        uint256 stop = length + count;
        for (uint256 i = length; i < stop; ++i) {
            if (entries[i] == 0) entries[i] = PREPAID;
        }
    }

    /**
     * @dev The value at snapshot `key` (>= 1): the value of the first of the `length` checkpoints with a key
     * >= `key` (`lastKey` is the newest one's key; with no checkpoint, the zero horizon), else `current`;
     * zero for a key up to the zero horizon. No storage read when `lastKey < key` or `length == 0`;
     * otherwise a binary search, O(log length) reads.
     */
    function lookup(
        mapping(uint256 => uint256) storage entries,
        uint256 length,
        uint256 lastKey,
        uint256 key,
        uint256 current
    ) internal view returns (uint256) {
        if (lastKey < key) return current;
        // No checkpoint, and `key` is within the zero horizon.
        if (length == 0) return 0;
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
        uint256 entry = entries[low];
        // Only entry 0 has a horizon, and it is below that entry's key: a key up to it finds entry 0.
        if (key <= entry >> ZERO_UNTIL_SHIFT) return 0;
        return (entry >> KEY_BITS) & VALUE_MASK;
    }
}
