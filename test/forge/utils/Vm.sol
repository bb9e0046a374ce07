// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @dev A log recorded by `recordLogs` (forge's Vm.Log).
struct VmLog {
    bytes32[] topics;
    bytes data;
    address emitter;
}

/// @dev The forge cheatcodes these tests use, declared here (forge-std from npm is too old to use).
interface Vm {
    function warp(uint256 newTimestamp) external;
    function roll(uint256 newHeight) external;
    function chainId(uint256 newChainId) external;
    function prank(address msgSender) external;
    function startPrank(address msgSender) external;
    function stopPrank() external;
    function deal(address account, uint256 newBalance) external;
    function snapshotState() external returns (uint256 snapshotId);
    function revertToState(uint256 snapshotId) external returns (bool success);
    function addr(uint256 privateKey) external pure returns (address);
    function sign(uint256 privateKey, bytes32 digest) external pure returns (uint8 v, bytes32 r, bytes32 s);
    function expectRevert(bytes calldata revertData) external;
    function expectRevert(bytes4 revertData) external;
    function expectRevert() external;
    function expectEmit(bool checkTopic1, bool checkTopic2, bool checkTopic3, bool checkData) external;
    function expectEmit(bool checkTopic1, bool checkTopic2, bool checkTopic3, bool checkData, address emitter) external;
    function assume(bool condition) external pure;
    function label(address account, string calldata newLabel) external;
    function assertEq(uint256 left, uint256 right, string calldata err) external pure;
    function assertEq(address left, address right, string calldata err) external pure;
    function assertEq(bytes32 left, bytes32 right, string calldata err) external pure;
    function assertEq(bytes calldata left, bytes calldata right, string calldata err) external pure;
    function assertEq(string calldata left, string calldata right, string calldata err) external pure;
    function assertEq(bool left, bool right, string calldata err) external pure;
    function assertTrue(bool condition, string calldata err) external pure;
    function assertFalse(bool condition, string calldata err) external pure;
    function assertLe(uint256 left, uint256 right, string calldata err) external pure;
    function assertGe(uint256 left, uint256 right, string calldata err) external pure;
    function assertApproxEqAbs(uint256 left, uint256 right, uint256 maxDelta, string calldata err) external pure;
    function assertLt(uint256 left, uint256 right, string calldata err) external pure;
    function record() external;
    function load(address target, bytes32 slot) external view returns (bytes32 data);
    function recordLogs() external;
    function getRecordedLogs() external returns (VmLog[] memory logs);
    function deployCode(string calldata artifactPath, bytes calldata constructorArgs) external returns (address);
    function accesses(address target) external returns (bytes32[] memory readSlots, bytes32[] memory writeSlots);
}

/// @dev Selectors for forge's invariant runner (same shape as forge-std's StdInvariant.FuzzSelector).
struct FuzzSelector {
    address addr;
    bytes4[] selectors;
}

/// @dev Base for tests: the `vm` handle and a few helpers.
abstract contract TestBase {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    /// @dev Bounds `x` into [min, max] (uniform enough for fuzzing; keeps edge values reachable).
    function bound(uint256 x, uint256 min, uint256 max) internal pure returns (uint256) {
        require(min <= max, "bound: min > max");
        if (x >= min && x <= max) return x;
        uint256 size = max - min + 1;
        if (size == 0) return x; // full range
        return min + (x % size);
    }

    /// @dev Storage slots of `target` that the calls recorded since `vm.record()` created: written, and zero
    /// in state `before` (each such write is a zero-to-non-zero SSTORE, 22,100 gas cold). Leaves the state at
    /// `before`, so the caller repeats the calls to keep their effects.
    function slotsCreatedSince(address target, uint256 before) internal returns (uint256 created) {
        (, bytes32[] memory writes) = vm.accesses(target);
        vm.revertToState(before);
        for (uint256 i = 0; i < writes.length; ++i) {
            bool seen;
            for (uint256 j = 0; j < i; ++j) {
                if (writes[j] == writes[i]) seen = true;
            }
            if (!seen && vm.load(target, writes[i]) == bytes32(0)) ++created;
        }
    }
}

/// @dev Deploys an ImoToken from forge's artifact, so that a test contract does not embed ImoToken's creation
/// code (a large test contract plus that code overflows solc's 16-bit jump tags: "Tag too large").
function deployImoToken(
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
) returns (address) {
    return Vm(address(uint160(uint256(keccak256("hevm cheat code")))))
        .deployCode(
            "ImoToken.sol:ImoToken",
            abi.encode(
                name_,
                symbol_,
                initialSupply,
                recipient,
                modelHash_,
                modelURI_,
                percentClaimable_,
                snapshotInterval_,
                claimWindow_,
                owner_,
                revenueCurrencies_
            )
        );
}
