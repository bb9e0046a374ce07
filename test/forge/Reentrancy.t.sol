// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC7641} from "../../contracts/interfaces/IERC7641.sol";
import {ImoToken} from "../../contracts/ImoToken.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {TokenFixture} from "./utils/TokenFixture.sol";

/// @dev ImoToken's native claimBatch, named apart from its (snapshots x currencies) overload.
interface INativeClaimBatch {
    function claimBatch(uint256[] calldata snapshotIds) external;
}

/// @dev Holds tokens; when paid, re-enters the token with `reentryData` (claim, claimBatch or burn).
contract ReentrancyAttacker {
    ImoToken public immutable token;
    bytes public reentryData;
    bool public swallow; // true: catch the re-entry's failure so the outer call can complete
    uint256 public attempts;
    bool public reentrySucceeded;
    bytes public reentryError;

    constructor(ImoToken token_) {
        token = token_;
    }

    function attack(bytes calldata outer, bytes calldata reentry, bool swallow_) external {
        reentryData = reentry;
        swallow = swallow_;
        (bool ok, bytes memory ret) = address(token).call(outer);
        if (!ok) {
            assembly {
                revert(add(ret, 32), mload(ret))
            }
        }
    }

    receive() external payable {
        if (attempts > 0) return;
        ++attempts;
        (bool ok, bytes memory ret) = address(token).call(reentryData);
        reentrySucceeded = ok;
        reentryError = ret;
        if (!ok && !swallow) {
            assembly {
                revert(add(ret, 32), mload(ret))
            }
        }
    }
}

contract ReentrancyTest is TokenFixture {
    ReentrancyAttacker internal attacker;
    bytes internal guardError = abi.encodeWithSelector(ReentrancyGuardTransient.ReentrancyGuardReentrantCall.selector);

    function setUp() public override {
        super.setUp();
        attacker = new ReentrancyAttacker(token);
        send(alice, address(attacker), SUPPLY / 2);
        deposit(10 ether); // snapshot 1: pool 6, redemption 4
        snap();
        deposit(10 ether); // snapshot 2: pool 6, redemption 8
        snap();
    }

    function _ids(uint256 a, uint256 b) internal pure returns (uint256[] memory ids) {
        ids = new uint256[](2);
        ids[0] = a;
        ids[1] = b;
    }

    function _check(bytes memory outer, bytes memory reentry, uint256 expectedPaid) internal {
        uint256 tokenBefore = address(token).balance;
        attacker.attack(outer, reentry, true);
        vm.assertEq(attacker.attempts(), 1, "re-entry attempted");
        vm.assertFalse(attacker.reentrySucceeded(), "re-entry succeeded");
        vm.assertEq(attacker.reentryError(), guardError, "blocked by the guard");
        vm.assertEq(address(attacker).balance, expectedPaid, "paid exactly once");
        vm.assertEq(tokenBefore - address(token).balance, expectedPaid, "token paid exactly once");
        vm.assertEq(address(token).balance, liabilities(), "accounting intact");
    }

    function test_claim_reenterClaim() public {
        _check(abi.encodeCall(IERC7641.claim, (1)), abi.encodeCall(IERC7641.claim, (1)), 3 ether);
        vm.assertTrue(token.hasClaimed(address(attacker), 1), "booked");
        vm.assertFalse(token.hasClaimed(address(attacker), 2), "other snapshot untouched");
    }

    function test_claim_reenterClaimOtherSnapshot() public {
        _check(abi.encodeCall(IERC7641.claim, (1)), abi.encodeCall(IERC7641.claim, (2)), 3 ether);
    }

    function test_claim_reenterBurn() public {
        _check(abi.encodeCall(IERC7641.claim, (1)), abi.encodeCall(ImoToken.burn, (SUPPLY / 2)), 3 ether);
        vm.assertEq(token.balanceOf(address(attacker)), SUPPLY / 2, "nothing burned");
    }

    function test_claimBatch_reenterClaimBatch() public {
        _check(
            abi.encodeCall(INativeClaimBatch.claimBatch, (_ids(1, 2))),
            abi.encodeCall(INativeClaimBatch.claimBatch, (_ids(1, 2))),
            6 ether
        );
    }

    function test_claimBatch_reenterClaim() public {
        _check(abi.encodeCall(INativeClaimBatch.claimBatch, (_ids(1, 2))), abi.encodeCall(IERC7641.claim, (1)), 6 ether);
    }

    function test_burn_reenterBurn() public {
        _check(abi.encodeCall(ImoToken.burn, (SUPPLY / 4)), abi.encodeCall(ImoToken.burn, (SUPPLY / 4)), 2 ether);
        vm.assertEq(token.balanceOf(address(attacker)), SUPPLY / 4, "burned once");
    }

    function test_burn_reenterClaim() public {
        _check(abi.encodeCall(ImoToken.burn, (SUPPLY / 4)), abi.encodeCall(IERC7641.claim, (1)), 2 ether);
    }

    function test_unswallowedReentryRevertsWholeCall() public {
        vm.expectRevert(abi.encodeWithSelector(ImoToken.PayoutFailed.selector, address(attacker), 3 ether));
        attacker.attack(abi.encodeCall(IERC7641.claim, (1)), abi.encodeCall(IERC7641.claim, (1)), false);
        vm.assertFalse(token.hasClaimed(address(attacker), 1), "rolled back");
    }

    /// After the outer claim completes, the guard is released: a second claim is rejected by the
    /// bookkeeping itself, not by the guard.
    function test_secondClaimAfterwardsIsAlreadyClaimed() public {
        attacker.attack(abi.encodeCall(IERC7641.claim, (1)), abi.encodeCall(IERC7641.claim, (1)), true);
        vm.expectRevert(abi.encodeWithSelector(ImoToken.AlreadyClaimed.selector, address(attacker), 1));
        attacker.attack(abi.encodeCall(IERC7641.claim, (1)), "", true);
    }
}
