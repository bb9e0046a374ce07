/**
 * "One authorization runs the model once and settles once": the x402 SDK verifies each request on its
 * own, so two requests carrying the same EIP-3009 authorization at the same moment both pass (the nonce
 * is unused on chain until the first settles) and both would run the model. The server therefore
 * claims `(asset, payer, nonce)` in memory before it verifies: a second request with a claimed
 * authorization is refused at once (402), whether the first is still running or has settled (a settled
 * claim is kept until the authorization's `validBefore`). A claim whose call failed before settlement
 * is released, so the payer may retry with it. Across restarts the chain decides: the server reads
 * `authorizationState(payer, nonce)` before claiming, and the facilitator's simulation refuses a used
 * nonce too. (Several serve processes behind one balancer would need the claim in Redis: not built.)
 */
import type { Address, Hex } from 'viem'
import type { ChainContext } from '../chain/connect.js'
import type { PaidAuthorization } from './paymentGate.js'

const AUTHORIZATION_STATE_ABI = [
  {
    type: 'function',
    name: 'authorizationState',
    stateMutability: 'view',
    inputs: [
      { name: 'authorizer', type: 'address' },
      { name: 'nonce', type: 'bytes32' },
    ],
    outputs: [{ type: 'bool' }],
  },
] as const

/** Why a claim was refused. */
export type ClaimRefusal = 'in-flight' | 'settled' | 'used-on-chain'

export interface AuthorizationClaims {
  /** Claims an authorization for one call, or says why not. */
  claim(authorization: PaidAuthorization): Promise<{ release(): void; settled(): void } | { refused: ClaimRefusal }>
}

/**
 * The claims of one serve process over one currency.
 * @param ctx - for `authorizationState` reads.
 * @param asset - the currency's address.
 * @example
 * const claims = createAuthorizationClaims(ctx, usdc)
 * const claim = await claims.claim(authorization)
 * if ('refused' in claim) return reply402(claim.refused)
 */
export function createAuthorizationClaims(ctx: Pick<ChainContext, 'publicClient'>, asset: Address): AuthorizationClaims {
  const claims = new Map<string, { state: 'in-flight' | 'settled'; until: number }>()
  const sweep = () => {
    const now = Date.now() / 1000
    for (const [key, value] of claims) if (value.state === 'settled' && value.until < now) claims.delete(key)
  }
  return {
    async claim(authorization) {
      sweep()
      const key = `${authorization.from.toLowerCase()}:${authorization.nonce}`
      const held = claims.get(key)
      if (held) return { refused: held.state }
      // Held from here on (set before the read, so a concurrent twin sees it while the read is pending).
      claims.set(key, { state: 'in-flight', until: authorization.validBefore })
      const used = await ctx.publicClient
        .readContract({
          address: asset,
          abi: AUTHORIZATION_STATE_ABI,
          functionName: 'authorizationState',
          args: [authorization.from, authorization.nonce as Hex],
        })
        .catch(() => false) // unreadable: the facilitator's verify and simulation still decide
      if (used) {
        claims.set(key, { state: 'settled', until: authorization.validBefore })
        return { refused: 'used-on-chain' }
      }
      return {
        release: () => {
          if (claims.get(key)?.state === 'in-flight') claims.delete(key)
        },
        settled: () => claims.set(key, { state: 'settled', until: authorization.validBefore }) && undefined,
      }
    },
  }
}
