// SPDX-License-Identifier: MIT
pragma solidity ^0.8.26;

import {TestUsdc} from "../../contracts/test-helpers/TestUsdc.sol";
import {Erc1271Wallet} from "../../contracts/test-helpers/Erc1271Wallet.sol";
import {ERC3009} from "@openzeppelin/contracts/token/ERC20/extensions/draft-ERC3009.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {TestBase, FuzzSelector} from "./utils/Vm.sol";

/// @dev Signing helpers computed here, independently of the contract: the domain separator from its
/// definition, the type hashes as Circle's FiatTokenV2 publishes them.
abstract contract UsdcSigning is TestBase {
    bytes32 internal constant TRANSFER_TYPEHASH = 0x7c7c6cdb67a18743f49ec6fa9b35f50d52ed05cbed4cc592e13b44501c1a2267;
    bytes32 internal constant RECEIVE_TYPEHASH = 0xd099cc98ef71107a616c4f0f941f04c322d8e254fe26b3c6668db87aae413de8;
    bytes32 internal constant CANCEL_TYPEHASH = 0x158b0a9edf7a828aad02f63cd515c68ef2f50ba807396f6d12842833a1597429;
    bytes32 internal constant PERMIT_TYPEHASH = 0x6e71edae12b1b97f4d1f60370fef10105fa2faae0126114a169c64845d6126c9;

    function _domainOf(address token) internal view returns (bytes32) {
        return keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256("USD Coin"),
                keccak256("2"),
                block.chainid,
                token
            )
        );
    }

    function _sign(uint256 key, address token, bytes32 structHash) internal view returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) =
            vm.sign(key, keccak256(abi.encodePacked("\x19\x01", _domainOf(token), structHash)));
        return abi.encodePacked(r, s, v);
    }

    function _transferHash(address from, address to, uint256 value, uint256 validAfter, uint256 validBefore, bytes32 n)
        internal
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(TRANSFER_TYPEHASH, from, to, value, validAfter, validBefore, n));
    }

    function _split(bytes memory sig) internal pure returns (uint8 v, bytes32 r, bytes32 s) {
        assembly {
            r := mload(add(sig, 32))
            s := mload(add(sig, 64))
            v := byte(0, mload(add(sig, 96)))
        }
    }
}

contract TestUsdcTest is UsdcSigning {
    event Transfer(address indexed from, address indexed to, uint256 value);
    event Approval(address indexed owner, address indexed spender, uint256 value);
    event AuthorizationUsed(address indexed authorizer, bytes32 indexed nonce);
    event AuthorizationCanceled(address indexed authorizer, bytes32 indexed nonce);

    uint256 internal constant ALICE_KEY = 0xA11CE;
    uint256 internal constant BOB_KEY = 0xB0B;
    uint256 internal constant T0 = 1_700_000_000;
    bytes32 internal constant NONCE = keccak256("nonce-1");

    TestUsdc internal usdc;
    Erc1271Wallet internal wallet; // a contract account whose signer is alice
    address internal alice;
    address internal bob;
    address internal relayer = address(0xFACE);

    function setUp() public {
        vm.warp(T0);
        usdc = new TestUsdc();
        alice = vm.addr(ALICE_KEY);
        bob = vm.addr(BOB_KEY);
        wallet = new Erc1271Wallet(alice);
        usdc.mint(alice, 100e6);
        usdc.mint(address(wallet), 100e6);
    }

    /*////////////////////////////// metadata //////////////////////////////*/

    function test_metadata_isUsdcs() public view {
        vm.assertEq(usdc.name(), "USD Coin", "name");
        vm.assertEq(usdc.symbol(), "USDC", "symbol");
        vm.assertEq(uint256(usdc.decimals()), 6, "decimals");
        vm.assertEq(usdc.version(), "2", "version");
        vm.assertEq(usdc.owner(), address(this), "deployer owns");
        vm.assertEq(usdc.DOMAIN_SEPARATOR(), _domainOf(address(usdc)), "domain separator");
        vm.assertEq(usdc.PERMIT_TYPEHASH(), PERMIT_TYPEHASH, "permit type hash");
        (, string memory name, string memory version, uint256 chainId, address verifying,,) = usdc.eip712Domain();
        vm.assertEq(name, "USD Coin", "5267 name");
        vm.assertEq(version, "2", "5267 version");
        vm.assertEq(chainId, block.chainid, "5267 chain");
        vm.assertEq(verifying, address(usdc), "5267 contract");
    }

    /// A signature made outside forge, by viem 2.57.20's `signTypedData` (private key 0xA11CE, chain 31337,
    /// token at the address forge gives the first contract this test deploys): the contract accepts an
    /// independent implementation's EIP-712 encoding, not only the one these tests compute.
    function test_transferWithAuthorization_acceptsViemSignature() public {
        vm.assertEq(address(usdc), 0x5615dEB798BB3E4dFa0139dFa1b3D433Cc23b72f, "deterministic token address");
        vm.assertEq(block.chainid, 31337, "chain id of the vector");
        bytes memory sig =
            hex"3fcca9301e46059c93a96dfa98144116efe920fcdc128e263c505068027f254351faed6a73d34d9576ec5f2187b7915ef32c254c16d44ef7058f0eb51d2c87101b";
        usdc.transferWithAuthorization(alice, bob, 1_500_000, 0, 4_000_000_000, keccak256("x402 vector"), sig);
        vm.assertEq(usdc.balanceOf(bob), 1_500_000, "moved");
    }

    /*////////////////////////////// faucet and owner //////////////////////////////*/

    function test_mint_onlyOwner() public {
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, alice));
        usdc.mint(alice, 1);
        usdc.mint(bob, 7);
        vm.assertEq(usdc.balanceOf(bob), 7, "owner mints");
        vm.assertEq(usdc.totalSupply(), 200e6 + 7, "supply");
    }

    function test_blacklist_onlyOwner() public {
        vm.startPrank(alice);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, alice));
        usdc.blacklist(bob);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, alice));
        usdc.unBlacklist(bob);
        vm.stopPrank();
    }

    /*////////////////////////////// EIP-2612 permit //////////////////////////////*/

    function _permitSig(uint256 key, address owner, address spender, uint256 value, uint256 nonce, uint256 deadline)
        internal
        view
        returns (bytes memory)
    {
        return _sign(key, address(usdc), keccak256(abi.encode(PERMIT_TYPEHASH, owner, spender, value, nonce, deadline)));
    }

    function test_permit_grantsAllowanceAndUsesNonce() public {
        bytes memory sig = _permitSig(ALICE_KEY, alice, bob, 7e6, 0, T0 + 1 hours);
        (uint8 v, bytes32 r, bytes32 s) = _split(sig);
        vm.expectEmit(true, true, false, true, address(usdc));
        emit Approval(alice, bob, 7e6);
        vm.prank(relayer);
        usdc.permit(alice, bob, 7e6, T0 + 1 hours, v, r, s);
        vm.assertEq(usdc.allowance(alice, bob), 7e6, "allowance");
        vm.assertEq(usdc.nonces(alice), 1, "nonce used");
        // The same signature again: the nonce moved on, so it no longer matches.
        vm.expectRevert(abi.encodeWithSelector(TestUsdc.ERC2612InvalidSignature.selector, alice));
        usdc.permit(alice, bob, 7e6, T0 + 1 hours, v, r, s);
        // The next nonce in the bytes form.
        usdc.permit(alice, bob, 1e6, T0 + 1 hours, _permitSig(ALICE_KEY, alice, bob, 1e6, 1, T0 + 1 hours));
        vm.assertEq(usdc.allowance(alice, bob), 1e6, "second permit");
        vm.prank(bob);
        usdc.transferFrom(alice, bob, 1e6);
        vm.assertEq(usdc.balanceOf(bob), 1e6, "spent");
    }

    function test_permit_deadlineIsInclusive() public {
        usdc.permit(alice, bob, 5, T0, _permitSig(ALICE_KEY, alice, bob, 5, 0, T0));
        vm.assertEq(usdc.allowance(alice, bob), 5, "valid at its deadline");
        bytes memory late = _permitSig(ALICE_KEY, alice, bob, 6, 1, T0 - 1);
        vm.expectRevert(abi.encodeWithSelector(TestUsdc.ERC2612ExpiredSignature.selector, T0 - 1));
        usdc.permit(alice, bob, 6, T0 - 1, late);
    }

    function test_permit_rejectsWrongSignerTamperingFutureNonceAndOtherTypes() public {
        bytes4 invalid = TestUsdc.ERC2612InvalidSignature.selector;
        bytes memory byBob = _permitSig(BOB_KEY, alice, bob, 7e6, 0, T0 + 1);
        vm.expectRevert(abi.encodeWithSelector(invalid, alice));
        usdc.permit(alice, bob, 7e6, T0 + 1, byBob);
        bytes memory good = _permitSig(ALICE_KEY, alice, bob, 7e6, 0, T0 + 1);
        vm.expectRevert(abi.encodeWithSelector(invalid, alice));
        usdc.permit(alice, bob, 14e6, T0 + 1, good); // value doubled
        bytes memory future = _permitSig(ALICE_KEY, alice, bob, 7e6, 1, T0 + 1);
        vm.expectRevert(abi.encodeWithSelector(invalid, alice));
        usdc.permit(alice, bob, 7e6, T0 + 1, future);
        // A transfer authorization over the same numbers is not a permit.
        bytes memory transferSig = _sign(ALICE_KEY, address(usdc), _transferHash(alice, bob, 7e6, 0, T0 + 1, 0));
        vm.expectRevert(abi.encodeWithSelector(invalid, alice));
        usdc.permit(alice, bob, 7e6, T0 + 1, transferSig);
        vm.assertEq(usdc.allowance(alice, bob), 0, "nothing granted");
    }

    function test_permit_contractOwnerUsesErc1271InBothForms() public {
        address owner = address(wallet);
        bytes memory sig = _permitSig(ALICE_KEY, owner, bob, 3, 0, T0);
        (uint8 v, bytes32 r, bytes32 s) = _split(sig);
        usdc.permit(owner, bob, 3, T0, v, r, s);
        usdc.permit(owner, bob, 4, T0, _permitSig(ALICE_KEY, owner, bob, 4, 1, T0));
        vm.assertEq(usdc.allowance(owner, bob), 4, "wallet permits");
        vm.expectRevert(abi.encodeWithSelector(TestUsdc.ERC2612InvalidSignature.selector, owner));
        usdc.permit(owner, bob, 5, T0, _permitSig(BOB_KEY, owner, bob, 5, 2, T0));
    }

    /*////////////////////////////// EIP-3009 transferWithAuthorization //////////////////////////////*/

    /// Circle's matrix: an EOA and a contract payer, each with the (v, r, s) and the bytes form.
    function _transfersAndCannotReplay(address from, bool bytesForm) internal {
        uint256 fromBefore = usdc.balanceOf(from);
        bytes memory sig = _sign(ALICE_KEY, address(usdc), _transferHash(from, bob, 7e6, 0, T0 + 60, NONCE));
        vm.assertFalse(usdc.authorizationState(from, NONCE), "unused");
        vm.expectEmit(true, true, false, true, address(usdc));
        emit AuthorizationUsed(from, NONCE);
        vm.expectEmit(true, true, false, true, address(usdc));
        emit Transfer(from, bob, 7e6);
        _submitTransfer(from, bob, 7e6, 0, T0 + 60, NONCE, sig, bytesForm);
        vm.assertEq(usdc.balanceOf(from), fromBefore - 7e6, "payer debited");
        vm.assertEq(usdc.balanceOf(bob), 7e6, "payee credited");
        vm.assertTrue(usdc.authorizationState(from, NONCE), "used");
        // Replay, in either form, and a new authorization that reuses the nonce.
        vm.expectRevert(abi.encodeWithSelector(ERC3009.ERC3009UsedAuthorization.selector, from, NONCE));
        _submitTransfer(from, bob, 7e6, 0, T0 + 60, NONCE, sig, bytesForm);
        vm.expectRevert(abi.encodeWithSelector(ERC3009.ERC3009UsedAuthorization.selector, from, NONCE));
        _submitTransfer(from, bob, 7e6, 0, T0 + 60, NONCE, sig, !bytesForm);
        bytes memory other = _sign(ALICE_KEY, address(usdc), _transferHash(from, bob, 1e6, 0, T0 + 60, NONCE));
        vm.expectRevert(abi.encodeWithSelector(ERC3009.ERC3009UsedAuthorization.selector, from, NONCE));
        _submitTransfer(from, bob, 1e6, 0, T0 + 60, NONCE, other, bytesForm);
        vm.assertEq(usdc.balanceOf(bob), 7e6, "moved once");
    }

    function _submitTransfer(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 n,
        bytes memory sig,
        bool bytesForm
    ) internal {
        vm.prank(relayer); // anyone may submit
        if (bytesForm) {
            usdc.transferWithAuthorization(from, to, value, validAfter, validBefore, n, sig);
        } else {
            (uint8 v, bytes32 r, bytes32 s) = _split(sig);
            usdc.transferWithAuthorization(from, to, value, validAfter, validBefore, n, v, r, s);
        }
    }

    function test_transferWithAuthorization_eoaVrs() public {
        _transfersAndCannotReplay(alice, false);
    }

    function test_transferWithAuthorization_eoaBytes() public {
        _transfersAndCannotReplay(alice, true);
    }

    function test_transferWithAuthorization_contractWalletVrs() public {
        _transfersAndCannotReplay(address(wallet), false);
    }

    function test_transferWithAuthorization_contractWalletBytes() public {
        _transfersAndCannotReplay(address(wallet), true);
    }

    function test_transferWithAuthorization_validityWindowIsExclusive() public {
        uint256 va = T0 + 10;
        uint256 vb = T0 + 20;
        bytes memory sig = _sign(ALICE_KEY, address(usdc), _transferHash(alice, bob, 1, va, vb, NONCE));
        bytes memory notYet = abi.encodeWithSelector(ERC3009.ERC3009InvalidAuthorizationTime.selector, va, vb);
        vm.warp(va); // not yet: valid only strictly after validAfter
        vm.expectRevert(notYet);
        usdc.transferWithAuthorization(alice, bob, 1, va, vb, NONCE, sig);
        vm.warp(vb); // expired: valid only strictly before validBefore
        vm.expectRevert(notYet);
        usdc.transferWithAuthorization(alice, bob, 1, va, vb, NONCE, sig);
        vm.assertFalse(usdc.authorizationState(alice, NONCE), "a refused authorization stays usable");
        vm.warp(vb - 1);
        usdc.transferWithAuthorization(alice, bob, 1, va, vb, NONCE, sig);
        vm.assertEq(usdc.balanceOf(bob), 1, "valid inside the window");
    }

    /// OpenZeppelin's draft reads both bounds with bit 47 set as block numbers; USDC and this token do not.
    function test_transferWithAuthorization_hasNoBlockNumberMode() public {
        uint256 flag = 1 << 47;
        uint256 va = flag; // as a block number: 0; as a timestamp: ~4.5 million years from now
        uint256 vb = flag | (block.number + 100);
        bytes memory sig = _sign(ALICE_KEY, address(usdc), _transferHash(alice, bob, 1, va, vb, NONCE));
        vm.expectRevert(abi.encodeWithSelector(ERC3009.ERC3009InvalidAuthorizationTime.selector, va, vb));
        usdc.transferWithAuthorization(alice, bob, 1, va, vb, NONCE, sig);
    }

    function testFuzz_transferWithAuthorization_validExactlyInsideWindow(uint256 va, uint256 vb, uint256 now_) public {
        va = bound(va, 0, T0 * 2);
        vb = bound(vb, 0, T0 * 2);
        now_ = bound(now_, 1, T0 * 2);
        vm.warp(now_);
        bytes memory sig = _sign(ALICE_KEY, address(usdc), _transferHash(alice, bob, 1, va, vb, NONCE));
        bool inside = va < now_ && now_ < vb;
        if (!inside) {
            vm.expectRevert(abi.encodeWithSelector(ERC3009.ERC3009InvalidAuthorizationTime.selector, va, vb));
        }
        usdc.transferWithAuthorization(alice, bob, 1, va, vb, NONCE, sig);
        vm.assertEq(usdc.balanceOf(bob), inside ? 1 : 0, "moved iff inside");
        vm.assertEq(usdc.authorizationState(alice, NONCE), inside, "used iff moved");
    }

    function test_transferWithAuthorization_rejectsWrongSignerAndTampering() public {
        bytes4 invalid = ERC3009.ERC3009InvalidSignature.selector;
        bytes memory byBob = _sign(BOB_KEY, address(usdc), _transferHash(alice, bob, 7e6, 0, T0 + 60, NONCE));
        vm.expectRevert(invalid);
        usdc.transferWithAuthorization(alice, bob, 7e6, 0, T0 + 60, NONCE, byBob);
        bytes memory good = _sign(ALICE_KEY, address(usdc), _transferHash(alice, bob, 7e6, 0, T0 + 60, NONCE));
        vm.expectRevert(invalid);
        usdc.transferWithAuthorization(alice, bob, 14e6, 0, T0 + 60, NONCE, good); // value
        vm.expectRevert(invalid);
        usdc.transferWithAuthorization(alice, relayer, 7e6, 0, T0 + 60, NONCE, good); // payee
        vm.expectRevert(invalid);
        usdc.transferWithAuthorization(alice, bob, 7e6, 0, T0 + 61, NONCE, good); // window
        vm.expectRevert(invalid);
        usdc.transferWithAuthorization(alice, bob, 7e6, 0, T0 + 60, keccak256("other"), good); // nonce
        // Signed for another token (same name and version, another address): another domain.
        bytes memory otherToken = _sign(ALICE_KEY, address(0xBEEF), _transferHash(alice, bob, 7e6, 0, T0 + 60, NONCE));
        vm.expectRevert(invalid);
        usdc.transferWithAuthorization(alice, bob, 7e6, 0, T0 + 60, NONCE, otherToken);
        // A contract payer is checked by ERC-1271 only: the wallet rejects bob's key.
        bytes memory walletByBob =
            _sign(BOB_KEY, address(usdc), _transferHash(address(wallet), bob, 1, 0, T0 + 60, NONCE));
        vm.expectRevert(invalid);
        usdc.transferWithAuthorization(address(wallet), bob, 1, 0, T0 + 60, NONCE, walletByBob);
        vm.assertEq(usdc.balanceOf(bob), 0, "nothing moved");
        vm.assertFalse(usdc.authorizationState(alice, NONCE), "nonce untouched");
    }

    function test_transferWithAuthorization_revertsOnInsufficientBalanceAndKeepsNonce() public {
        bytes memory sig = _sign(ALICE_KEY, address(usdc), _transferHash(alice, bob, 100e6 + 1, 0, T0 + 60, NONCE));
        vm.expectRevert(abi.encodeWithSelector(IERC20Errors.ERC20InsufficientBalance.selector, alice, 100e6, 100e6 + 1));
        usdc.transferWithAuthorization(alice, bob, 100e6 + 1, 0, T0 + 60, NONCE, sig);
        vm.assertFalse(usdc.authorizationState(alice, NONCE), "reverted as a whole");
    }

    /*////////////////////////////// EIP-3009 receiveWithAuthorization //////////////////////////////*/

    function _receiveHash(address from, address to, uint256 value, bytes32 n) internal pure returns (bytes32) {
        return keccak256(abi.encode(RECEIVE_TYPEHASH, from, to, value, uint256(0), T0 + 60, n));
    }

    function test_receiveWithAuthorization_onlyThePayeeSubmits() public {
        bytes memory sig = _sign(ALICE_KEY, address(usdc), _receiveHash(alice, bob, 5e6, NONCE));
        (uint8 v, bytes32 r, bytes32 s) = _split(sig);
        vm.prank(relayer); // someone who saw it in the mempool
        vm.expectRevert(abi.encodeWithSelector(TestUsdc.CallerNotPayee.selector, relayer, bob));
        usdc.receiveWithAuthorization(alice, bob, 5e6, 0, T0 + 60, NONCE, v, r, s);
        vm.prank(relayer);
        vm.expectRevert(abi.encodeWithSelector(TestUsdc.CallerNotPayee.selector, relayer, bob));
        usdc.receiveWithAuthorization(alice, bob, 5e6, 0, T0 + 60, NONCE, sig);
        vm.expectEmit(true, true, false, true, address(usdc));
        emit AuthorizationUsed(alice, NONCE);
        vm.prank(bob);
        usdc.receiveWithAuthorization(alice, bob, 5e6, 0, T0 + 60, NONCE, v, r, s);
        vm.assertEq(usdc.balanceOf(bob), 5e6, "received");
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(ERC3009.ERC3009UsedAuthorization.selector, alice, NONCE));
        usdc.receiveWithAuthorization(alice, bob, 5e6, 0, T0 + 60, NONCE, sig);
    }

    function test_receiveWithAuthorization_contractPayerBytesForm() public {
        address from = address(wallet);
        bytes memory sig = _sign(ALICE_KEY, address(usdc), _receiveHash(from, bob, 2e6, NONCE));
        vm.prank(bob);
        usdc.receiveWithAuthorization(from, bob, 2e6, 0, T0 + 60, NONCE, sig);
        vm.assertEq(usdc.balanceOf(bob), 2e6, "received from a contract wallet");
    }

    /// The two authorizations have distinct type hashes: neither signature works for the other function.
    function test_receiveAndTransferAuthorizations_areNotInterchangeable() public {
        bytes memory receiveSig = _sign(ALICE_KEY, address(usdc), _receiveHash(alice, bob, 5e6, NONCE));
        vm.expectRevert(ERC3009.ERC3009InvalidSignature.selector);
        usdc.transferWithAuthorization(alice, bob, 5e6, 0, T0 + 60, NONCE, receiveSig);
        bytes memory transferSig = _sign(ALICE_KEY, address(usdc), _transferHash(alice, bob, 5e6, 0, T0 + 60, NONCE));
        vm.prank(bob);
        vm.expectRevert(ERC3009.ERC3009InvalidSignature.selector);
        usdc.receiveWithAuthorization(alice, bob, 5e6, 0, T0 + 60, NONCE, transferSig);
    }

    /// One nonce space per authorizer across transfer, receive and cancel.
    function test_nonceIsSharedAcrossTransferAndReceive() public {
        bytes memory t = _sign(ALICE_KEY, address(usdc), _transferHash(alice, bob, 1, 0, T0 + 60, NONCE));
        usdc.transferWithAuthorization(alice, bob, 1, 0, T0 + 60, NONCE, t);
        bytes memory rcv = _sign(ALICE_KEY, address(usdc), _receiveHash(alice, bob, 1, NONCE));
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(ERC3009.ERC3009UsedAuthorization.selector, alice, NONCE));
        usdc.receiveWithAuthorization(alice, bob, 1, 0, T0 + 60, NONCE, rcv);
    }

    /*////////////////////////////// EIP-3009 cancelAuthorization //////////////////////////////*/

    function _cancelSig(uint256 key, address authorizer, bytes32 n) internal view returns (bytes memory) {
        return _sign(key, address(usdc), keccak256(abi.encode(CANCEL_TYPEHASH, authorizer, n)));
    }

    function test_cancelAuthorization_voidsAnUnusedNonce() public {
        bytes memory transferSig = _sign(ALICE_KEY, address(usdc), _transferHash(alice, bob, 1, 0, T0 + 60, NONCE));
        (uint8 v, bytes32 r, bytes32 s) = _split(_cancelSig(ALICE_KEY, alice, NONCE));
        vm.expectEmit(true, true, false, false, address(usdc));
        emit AuthorizationCanceled(alice, NONCE);
        vm.prank(relayer);
        usdc.cancelAuthorization(alice, NONCE, v, r, s);
        vm.assertTrue(usdc.authorizationState(alice, NONCE), "cancelled counts as used");
        vm.expectRevert(abi.encodeWithSelector(ERC3009.ERC3009UsedAuthorization.selector, alice, NONCE));
        usdc.transferWithAuthorization(alice, bob, 1, 0, T0 + 60, NONCE, transferSig);
        vm.expectRevert(abi.encodeWithSelector(ERC3009.ERC3009UsedAuthorization.selector, alice, NONCE));
        usdc.cancelAuthorization(alice, NONCE, v, r, s);
    }

    function test_cancelAuthorization_cannotCancelAUsedNonceNorBeSignedByAnother() public {
        vm.expectRevert(ERC3009.ERC3009InvalidSignature.selector);
        usdc.cancelAuthorization(alice, NONCE, _cancelSig(BOB_KEY, alice, NONCE));
        usdc.transferWithAuthorization(
            alice,
            bob,
            1,
            0,
            T0 + 60,
            NONCE,
            _sign(ALICE_KEY, address(usdc), _transferHash(alice, bob, 1, 0, T0 + 60, NONCE))
        );
        vm.expectRevert(abi.encodeWithSelector(ERC3009.ERC3009UsedAuthorization.selector, alice, NONCE));
        usdc.cancelAuthorization(alice, NONCE, _cancelSig(ALICE_KEY, alice, NONCE));
    }

    function test_cancelAuthorization_contractWallet() public {
        usdc.cancelAuthorization(address(wallet), NONCE, _cancelSig(ALICE_KEY, address(wallet), NONCE));
        vm.assertTrue(usdc.authorizationState(address(wallet), NONCE), "wallet cancelled");
    }

    /*////////////////////////////// blacklist //////////////////////////////*/

    function test_blacklist_blocksSendingAndReceivingByEveryPath() public {
        usdc.mint(bob, 10e6);
        usdc.blacklist(bob);
        vm.assertTrue(usdc.isBlacklisted(bob), "flag");
        bytes memory blocked = abi.encodeWithSelector(TestUsdc.AccountBlacklisted.selector, bob);
        // receiving
        vm.prank(alice);
        vm.expectRevert(blocked);
        usdc.transfer(bob, 1);
        vm.expectRevert(blocked);
        usdc.mint(bob, 1);
        bytes memory toBob = _sign(ALICE_KEY, address(usdc), _transferHash(alice, bob, 1, 0, T0 + 60, NONCE));
        vm.expectRevert(blocked);
        usdc.transferWithAuthorization(alice, bob, 1, 0, T0 + 60, NONCE, toBob);
        vm.prank(bob);
        vm.expectRevert(blocked);
        usdc.receiveWithAuthorization(
            alice, bob, 1, 0, T0 + 60, NONCE, _sign(ALICE_KEY, address(usdc), _receiveHash(alice, bob, 1, NONCE))
        );
        // sending
        vm.prank(bob);
        vm.expectRevert(blocked);
        usdc.transfer(alice, 1);
        bytes memory fromBob = _sign(BOB_KEY, address(usdc), _transferHash(bob, alice, 1, 0, T0 + 60, NONCE));
        vm.expectRevert(blocked);
        usdc.transferWithAuthorization(bob, alice, 1, 0, T0 + 60, NONCE, fromBob);
        // spending an allowance as a blacklisted spender, and from a blacklisted owner
        vm.prank(alice);
        usdc.approve(bob, 5); // approving a blacklisted spender is allowed, as in FiatTokenV2_2
        vm.prank(bob);
        vm.expectRevert(blocked);
        usdc.transferFrom(alice, relayer, 1);
        vm.prank(bob);
        usdc.approve(relayer, 5);
        vm.prank(relayer);
        vm.expectRevert(blocked);
        usdc.transferFrom(bob, relayer, 1);
        vm.assertEq(usdc.balanceOf(bob), 10e6, "frozen balance unchanged");
        vm.assertFalse(usdc.authorizationState(alice, NONCE), "refused authorizations stay unused");
        // Other holders are unaffected.
        vm.prank(alice);
        usdc.transfer(relayer, 1);
        vm.assertEq(usdc.balanceOf(relayer), 1, "others transfer");
        // Lifted: bob sends again.
        usdc.unBlacklist(bob);
        vm.assertFalse(usdc.isBlacklisted(bob), "flag cleared");
        usdc.transferWithAuthorization(bob, alice, 1, 0, T0 + 60, NONCE, fromBob);
        vm.assertEq(usdc.balanceOf(bob), 10e6 - 1, "sent after unblacklisting");
    }
}

/// @dev Random mints, transfers, signed transfers (fresh and replayed nonces), cancels and blacklist
/// switches over a few accounts, with ghost records of what each did.
contract TestUsdcHandler is UsdcSigning {
    TestUsdc public immutable usdc;
    uint256[3] internal keys = [uint256(0xA11CE), 0xB0B, 0xCA7];
    address[3] public actors;
    bytes32[] public nonces;
    mapping(address => mapping(bytes32 => uint256)) public effects; // successful uses + cancels per nonce
    mapping(address => uint256) public frozenBalance;
    uint256 public minted;
    bool public frozenBalanceMoved;

    constructor() {
        usdc = new TestUsdc();
        for (uint256 i; i < 3; ++i) {
            actors[i] = vm.addr(keys[i]);
        }
    }

    function mint(uint256 who, uint256 amount) external {
        amount = bound(amount, 0, 1e12);
        try usdc.mint(actors[who % 3], amount) {
            minted += amount;
        } catch {}
        _checkFrozen();
    }

    function transfer(uint256 from, uint256 to, uint256 amount) external {
        address f = actors[from % 3];
        vm.prank(f);
        try usdc.transfer(actors[to % 3], bound(amount, 0, usdc.balanceOf(f))) {} catch {}
        _checkFrozen();
    }

    /// A signed transfer with a fresh nonce, or (when `reuse` picks one) a nonce already seen.
    function signedTransfer(uint256 from, uint256 to, uint256 amount, uint256 reuse, bool fresh) external {
        uint256 i = from % 3;
        address f = actors[i];
        bytes32 n = fresh || nonces.length == 0
            ? keccak256(abi.encode(nonces.length, block.timestamp))
            : nonces[reuse % nonces.length];
        if (fresh || nonces.length == 0) nonces.push(n);
        amount = bound(amount, 0, usdc.balanceOf(f));
        address t = actors[to % 3];
        bytes memory sig = _sign(keys[i], address(usdc), _transferHash(f, t, amount, 0, block.timestamp + 1, n));
        try usdc.transferWithAuthorization(f, t, amount, 0, block.timestamp + 1, n, sig) {
            effects[f][n] += 1;
        } catch {}
        _checkFrozen();
    }

    function cancel(uint256 who, uint256 reuse) external {
        if (nonces.length == 0) return;
        uint256 i = who % 3;
        bytes32 n = nonces[reuse % nonces.length];
        bytes memory sig = _sign(keys[i], address(usdc), keccak256(abi.encode(CANCEL_TYPEHASH, actors[i], n)));
        try usdc.cancelAuthorization(actors[i], n, sig) {
            effects[actors[i]][n] += 1;
        } catch {}
    }

    function toggleBlacklist(uint256 who) external {
        address a = actors[who % 3];
        if (usdc.isBlacklisted(a)) {
            usdc.unBlacklist(a);
        } else {
            usdc.blacklist(a);
            frozenBalance[a] = usdc.balanceOf(a);
        }
    }

    function nonceCount() external view returns (uint256) {
        return nonces.length;
    }

    function _checkFrozen() internal {
        for (uint256 i; i < 3; ++i) {
            address a = actors[i];
            if (usdc.isBlacklisted(a) && usdc.balanceOf(a) != frozenBalance[a]) frozenBalanceMoved = true;
        }
    }
}

/// @notice The header's invariants over random sequences of handler actions.
contract TestUsdcInvariantTest is TestBase {
    TestUsdcHandler internal handler;
    TestUsdc internal usdc;

    function setUp() public {
        vm.warp(1_700_000_000);
        handler = new TestUsdcHandler();
        usdc = handler.usdc();
    }

    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    function targetSelectors() public view returns (FuzzSelector[] memory selectors) {
        bytes4[] memory s = new bytes4[](6);
        s[0] = TestUsdcHandler.mint.selector;
        s[1] = TestUsdcHandler.transfer.selector;
        s[2] = TestUsdcHandler.signedTransfer.selector;
        s[3] = TestUsdcHandler.signedTransfer.selector; // twice as likely: the interesting path
        s[4] = TestUsdcHandler.cancel.selector;
        s[5] = TestUsdcHandler.toggleBlacklist.selector;
        selectors = new FuzzSelector[](1);
        selectors[0] = FuzzSelector({addr: address(handler), selectors: s});
    }

    /// The sum of all balances equals totalSupply, which only mint raises.
    function invariant_supplyIsMintedAndHeld() public view {
        uint256 sum;
        for (uint256 i; i < 3; ++i) {
            sum += usdc.balanceOf(handler.actors(i));
        }
        vm.assertEq(usdc.totalSupply(), handler.minted(), "supply != minted");
        vm.assertEq(sum, usdc.totalSupply(), "balances != supply");
    }

    /// An authorization takes effect at most once, and authorizationState says whether it has.
    function invariant_authorizationTakesEffectAtMostOnce() public view {
        for (uint256 j; j < handler.nonceCount(); ++j) {
            bytes32 n = handler.nonces(j);
            for (uint256 i; i < 3; ++i) {
                address a = handler.actors(i);
                uint256 e = handler.effects(a, n);
                vm.assertLe(e, 1, "used twice");
                vm.assertEq(usdc.authorizationState(a, n), e == 1, "state disagrees with effects");
            }
        }
    }

    /// No balance of a blacklisted account changes.
    function invariant_blacklistedBalancesAreFrozen() public view {
        vm.assertFalse(handler.frozenBalanceMoved(), "a blacklisted balance moved");
    }
}
