/**
 * The devnet's stablecoin: deploys TestUsdc (contracts/test-helpers/TestUsdc.sol: 6 decimals, EIP-2612,
 * EIP-3009, a blacklist, an owner-only `mint`; docs/x402-notes.md section 1) on a local anvil and funds
 * the development accounts with it.
 *
 * The address is the same on every fresh devnet, so docs and `.env` files can name it: the contract is
 * created at nonce 0 of a fixed deployer that no dev account is (anvil lets us send as it by
 * impersonation, so there is no key to keep). A chain where that address already has code (a restored
 * state) keeps its TestUsdc; nothing is deployed twice. The deployer stays TestUsdc's owner: tests
 * impersonate it to `mint` more or to `blacklist` an account.
 */
import type { Address } from 'viem'

/** Sends TestUsdc's creation: keccak256("imo devnet TestUsdc deployer"), last 20 bytes. Not a dev account. */
export const TEST_USDC_DEPLOYER: Address = '0x09E61578C2b9d9B094B9F405FbBF2461dAb92112'
/** TestUsdc's address on a fresh devnet: nonce 0 of TEST_USDC_DEPLOYER. */
export const TEST_USDC_ADDRESS: Address = '0x51935F7e534792A8a2C7571f6b790d364bd532EA'
/** What each funded account gets: 1,000,000 USDC (6 decimals). */
export const TEST_USDC_FUNDING = 1_000_000n * 10n ** 6n

export interface TestUsdcInfo {
  address: Address
  symbol: 'USDC'
  decimals: 6
  /** The owner (may `mint` and `blacklist`; impersonate it on anvil). */
  owner: Address
  /** Each funded account's balance, in the smallest unit. */
  fundedEachWei: bigint
  funded: Address[]
}

/**
 * Deploys TestUsdc at TEST_USDC_ADDRESS (unless it is there already) and mints TEST_USDC_FUNDING to each account.
 * @param rpcUrl - a local anvil (impersonation and anvil_setBalance are anvil's).
 * @param fund - the accounts to fund.
 * @returns the address and what was funded.
 * @throws ImoError when the fixed deployer has already sent transactions but the address holds no code.
 * @example
 * import { deployTestUsdc } from './devnet/deployTestUsdc.js'
 * const usdc = await deployTestUsdc(anvil.rpcUrl, anvil.accounts.map((a) => a.address))
 * usdc.address // '0x51935F7e534792A8a2C7571f6b790d364bd532EA'
 */
export async function deployTestUsdc(rpcUrl: string, fund: readonly Address[]): Promise<TestUsdcInfo> {
  const { createPublicClient, createWalletClient, http } = await import('viem')
  const { testUsdcAbi, testUsdcBytecode } = await import('../../contracts-abi/index.js')
  const { ImoError } = await import('../errors.js')
  const transport = http(rpcUrl)
  const reader = createPublicClient({ transport })
  const chain = {
    id: await reader.getChainId(),
    name: 'devnet',
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
  }
  const wallet = createWalletClient({ account: TEST_USDC_DEPLOYER, chain, transport })
  await reader.request({ method: 'anvil_impersonateAccount', params: [TEST_USDC_DEPLOYER] } as never)
  try {
    await reader.request({ method: 'anvil_setBalance', params: [TEST_USDC_DEPLOYER, '0x56bc75e2d63100000'] } as never) // 100 ETH of gas
    const code = await reader.getCode({ address: TEST_USDC_ADDRESS })
    if (!code || code === '0x') {
      const nonce = await reader.getTransactionCount({ address: TEST_USDC_DEPLOYER })
      if (nonce !== 0)
        throw new ImoError(
          `the TestUsdc deployer ${TEST_USDC_DEPLOYER} has sent transactions but ${TEST_USDC_ADDRESS} holds no code`,
        )
      const hash = await wallet.deployContract({ abi: testUsdcAbi, bytecode: testUsdcBytecode })
      await reader.waitForTransactionReceipt({ hash, pollingInterval: 50 })
    }
    const hashes: `0x${string}`[] = []
    for (const to of fund)
      hashes.push(
        await wallet.writeContract({
          address: TEST_USDC_ADDRESS,
          abi: testUsdcAbi,
          functionName: 'mint',
          args: [to, TEST_USDC_FUNDING],
        }),
      )
    for (const hash of hashes) {
      const receipt = await reader.waitForTransactionReceipt({ hash, pollingInterval: 50 })
      if (receipt.status !== 'success') throw new ImoError(`minting TestUsdc failed in ${hash}`)
    }
  } finally {
    await reader.request({ method: 'anvil_stopImpersonatingAccount', params: [TEST_USDC_DEPLOYER] } as never)
  }
  return {
    address: TEST_USDC_ADDRESS,
    symbol: 'USDC',
    decimals: 6,
    owner: TEST_USDC_DEPLOYER,
    fundedEachWei: TEST_USDC_FUNDING,
    funded: [...fund],
  }
}
