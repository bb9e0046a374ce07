// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {deployImoToken} from "./Vm.sol";
import {TestBase} from "./Vm.sol";
import {ImoToken} from "../../../contracts/ImoToken.sol";

/// @dev Rejects every ether transfer (to test failed payouts).
contract EtherRejecter {
    function callToken(address target, bytes calldata data) external returns (bytes memory) {
        (bool ok, bytes memory ret) = target.call(data);
        if (!ok) {
            assembly {
                revert(add(ret, 32), mload(ret))
            }
        }
        return ret;
    }
}

/// @dev A deployed token with a few holders and helpers to move time and revenue.
abstract contract TokenFixture is TestBase {
    ImoToken internal token;

    address internal alice = address(0xA11CE);
    address internal bob = address(0xB0B);
    address internal carol = address(0xCA401);
    address internal owner = address(0x0E1);
    address internal payer = address(0xFEE);

    uint256 internal constant SUPPLY = 1_000_000 ether;
    bytes32 internal constant MODEL_HASH = keccak256("model");
    uint8 internal constant PERCENT = 60;
    uint64 internal constant INTERVAL = 1 days;
    uint32 internal constant WINDOW = 3;
    uint256 internal deployedAt;

    function setUp() public virtual {
        vm.warp(1_700_000_000);
        deployedAt = block.timestamp;
        token = deploy(SUPPLY, PERCENT, INTERVAL, WINDOW);
        vm.deal(payer, type(uint128).max);
    }

    function deploy(uint256 supply, uint8 percent, uint64 interval, uint32 window) internal returns (ImoToken) {
        return ImoToken(
            payable(deployImoToken(
                    "IMO Model",
                    "IMO",
                    supply,
                    alice,
                    MODEL_HASH,
                    "ipfs://model",
                    percent,
                    interval,
                    window,
                    owner,
                    new address[](0)
                ))
        );
    }

    function deposit(uint256 amount) internal {
        vm.prank(payer);
        (bool ok,) = address(token).call{value: amount}("");
        require(ok, "deposit failed");
    }

    /// @dev Warps to the earliest allowed time, snapshots, and lets that second end (so the snapshot's
    /// balances are final and claims on it are open).
    function snap() internal returns (uint256 id) {
        vm.warp(token.nextSnapshotTimestamp());
        id = token.snapshot();
        vm.warp(block.timestamp + 1);
    }

    function send(address from, address to, uint256 amount) internal {
        vm.prank(from);
        token.transfer(to, amount);
    }

    function claimAs(address holder, uint256 id) internal returns (uint256 paid) {
        uint256 before = holder.balance;
        vm.prank(holder);
        token.claim(id);
        paid = holder.balance - before;
    }

    function pool(uint256 id) internal view returns (uint256 claimPool) {
        (claimPool,,,,) = token.snapshotInfo(id);
    }

    function claimedOf(uint256 id) internal view returns (uint256 claimed) {
        (, claimed,,,) = token.snapshotInfo(id);
    }

    /// @dev pending + redemption + unclaimed remainder of every live snapshot.
    function liabilities() internal view returns (uint256 total) {
        total = token.pendingRevenue() + token.redemptionPool();
        uint256 current = token.currentSnapshotId();
        uint256 window = token.claimWindow();
        uint256 first = current > window ? current - window + 1 : 1;
        for (uint256 id = first; id <= current; ++id) {
            (uint256 p, uint256 c,,,) = token.snapshotInfo(id);
            total += p - c;
        }
    }
}
