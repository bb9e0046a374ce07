// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC7641} from "../../../contracts/interfaces/IERC7641.sol";
import {ImoToken} from "../../../contracts/ImoToken.sol";

/// @dev A minimal flash lender: lends its whole token balance for the duration of one call and checks that
/// it got every token back before the call returns.
contract FlashLender {
    ImoToken public immutable token;

    constructor(ImoToken token_) {
        token = token_;
    }

    function flashLoan(uint256 amount, bytes calldata data) external {
        uint256 before = token.balanceOf(address(this));
        token.transfer(msg.sender, amount);
        FlashBorrower(payable(msg.sender)).onFlashLoan(amount, data);
        require(token.balanceOf(address(this)) >= before, "not repaid");
    }
}

/// @dev Borrows the lender's tokens, calls `snapshot()` while holding them, repays in the same transaction,
/// and later tries to claim that snapshot.
contract FlashBorrower {
    ImoToken public immutable token;
    FlashLender public immutable lender;
    uint256 public snapshotId;

    constructor(ImoToken token_, FlashLender lender_) {
        token = token_;
        lender = lender_;
    }

    function attack(uint256 amount) external {
        lender.flashLoan(amount, "");
    }

    function onFlashLoan(uint256 amount, bytes calldata) external {
        snapshotId = token.snapshot();
        token.transfer(address(lender), amount);
    }

    function claimable() external view returns (uint256) {
        return token.claimableRevenue(address(this), snapshotId);
    }

    function tryClaim() external returns (bool ok) {
        return claimId(snapshotId);
    }

    function claimId(uint256 id) public returns (bool ok) {
        (ok,) = address(token).call(abi.encodeCall(IERC7641.claim, (id)));
    }

    receive() external payable {}
}

/// @dev Pays the token with Solidity's 2,300-gas `transfer` and `send`, as some marketplaces pay royalties.
contract StipendPayer {
    function payByTransfer(address payable to, uint256 amount) external {
        to.transfer(amount);
    }

    function payBySend(address payable to, uint256 amount) external returns (bool) {
        return to.send(amount);
    }

    receive() external payable {}
}

/// @dev Leaves its balance to `to` by SELFDESTRUCT (forced ether: no call to the token).
contract ForcedSender {
    constructor(address payable to) payable {
        selfdestruct(to);
    }
}
