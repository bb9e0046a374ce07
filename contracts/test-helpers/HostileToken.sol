// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice What an ERC-777-style recipient implements: called by {HostileToken} after each transfer to it.
interface ITokensReceived {
    function tokensReceived(address from, uint256 amount) external;
}

/**
 * @title HostileToken: an 18-decimal ERC-20 that misbehaves on demand, for tests only
 * @notice Modes: `Callback` calls `tokensReceived` on a recipient with code after every transfer (ERC-777
 * style, so the recipient can re-enter the payer; a failing hook is ignored); `FeeOnTransfer` burns `FEE_BPS` of every transfer from
 * the amount received; `BurnGas` makes `transfer` loop until it runs out of gas; `RevertBalanceOf` makes
 * `balanceOf` revert. Anyone may mint and set the mode.
 */
contract HostileToken is ERC20 {
    enum Mode {
        None,
        Callback,
        FeeOnTransfer,
        BurnGas,
        RevertBalanceOf
    }

    /// @notice The fee of `FeeOnTransfer`, in basis points of the amount.
    uint256 public constant FEE_BPS = 100;
    Mode public mode;

    constructor(Mode mode_) ERC20("Hostile", "HST") {
        mode = mode_;
    }

    /// @notice Switches the misbehaviour.
    function setMode(Mode mode_) external {
        mode = mode_;
    }

    /// @notice Creates `amount` for `to`.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @inheritdoc ERC20
    function balanceOf(address account) public view override returns (uint256) {
        if (mode == Mode.RevertBalanceOf) revert("balanceOf disabled");
        return super.balanceOf(account);
    }

    /// @inheritdoc ERC20
    function transfer(address to, uint256 value) public override returns (bool) {
        if (mode == Mode.BurnGas) {
            uint256 i;
            while (gasleft() > 0) {
                ++i;
            }
        }
        return super.transfer(to, value);
    }

    function _update(address from, address to, uint256 value) internal override {
        if (mode == Mode.FeeOnTransfer && from != address(0) && to != address(0)) {
            uint256 fee = (value * FEE_BPS) / 10_000;
            super._update(from, address(0), fee);
            value -= fee;
        }
        super._update(from, to, value);
        if (mode == Mode.Callback && to != address(0) && to.code.length != 0) {
            // As an ERC-777 hook with an unregistered recipient: a recipient without the hook is fine.
            (bool ok,) = to.call(abi.encodeCall(ITokensReceived.tokensReceived, (from, value)));
            ok; // the recipient's outcome is its business (the test reads what it recorded)
        }
    }
}
