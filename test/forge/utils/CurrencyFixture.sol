// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ImoToken} from "../../../contracts/ImoToken.sol";
import {TestUsdc} from "../../../contracts/test-helpers/TestUsdc.sol";
import {TestToken} from "../../../contracts/test-helpers/TestToken.sol";
import {HostileToken} from "../../../contracts/test-helpers/HostileToken.sol";
import {TokenFixture} from "./TokenFixture.sol";
import {deployImoToken} from "./Vm.sol";

/// @dev The token fixture with four ERC-20 revenue currencies: USDC (6 decimals, blacklist), an 18-decimal
/// token, a fee-on-transfer token and an ERC-777-style callback token (both HostileToken).
abstract contract CurrencyFixture is TokenFixture {
    TestUsdc internal usdc;
    TestToken internal weth;
    HostileToken internal fot;
    HostileToken internal hook;
    address[] internal currencies;

    function setUp() public virtual override {
        super.setUp();
        usdc = new TestUsdc();
        weth = new TestToken("Wrapped Ether", "WETH", 18);
        fot = new HostileToken(HostileToken.Mode.FeeOnTransfer);
        hook = new HostileToken(HostileToken.Mode.Callback);
        currencies = [address(usdc), address(weth), address(fot), address(hook)];
        deployWith(currencies);
    }

    /// @dev Deploys `token` listing `list`, with alice 50%, bob 30%, carol 20%.
    function deployWith(address[] memory list) internal {
        token = ImoToken(
            payable(deployImoToken(
                    "IMO Model",
                    "IMO",
                    SUPPLY,
                    alice,
                    MODEL_HASH,
                    "ipfs://model",
                    PERCENT,
                    INTERVAL,
                    WINDOW,
                    owner,
                    list
                ))
        );
        deployedAt = block.timestamp;
        // alice 50%, bob 30%, carol 20%.
        send(alice, bob, (SUPPLY * 3) / 10);
        send(alice, carol, (SUPPLY * 2) / 10);
    }

    /// @dev Pays `amount` of `currency` to the token with a plain transfer (revenue).
    function pay(address currency, uint256 amount) internal {
        mintTo(currency, payer, amount);
        vm.prank(payer);
        (bool ok,) = currency.call(abi.encodeWithSignature("transfer(address,uint256)", address(token), amount));
        require(ok, "payment failed");
    }

    function mintTo(address currency, address to, uint256 amount) internal {
        if (currency == address(usdc)) usdc.mint(to, amount);
        else TestToken(currency).mint(to, amount); // same selector on HostileToken
    }

    function balanceIn(address currency, address account) internal view returns (uint256) {
        return TestToken(currency).balanceOf(account);
    }

    function claimIn(address holder, uint256 id, address currency) internal {
        vm.prank(holder);
        token.claim(id, currency);
    }

    /// @dev What the token owes in `currency`: redemption pool + outstanding claims + credits.
    function owedIn(address currency) internal view returns (uint256) {
        return token.redemptionPool(currency) + token.outstandingClaims(currency) + token.totalCredits(currency);
    }
}
