/**
 * "One authorization runs the model once and settles once": the x402 SDK verifies each request on its
 * own, so two requests carrying the same EIP-3009 authorization at the same moment both pass (the nonce
 * is unused on chain until the first settles) and both would run the model. The server therefore
 * claims `(asset, payer, nonce)` in memory before it verifies: a second request with a claimed
 * authorization is refused at once (402), whether the first is still running or has settled (a settled
 * claim is kept until the authorization's `validBefore`). A claim whose call failed before settlement
 * is released, so the payer may retry with it. Across restarts the chain decides: the server reads
 * `authorizationState(payer, nonce)` before claiming, and the facilitator's simulation refuses a used
 * nonce too. Several serve processes behind one balancer (`--queue`) keep the claims in the queue's
 * Redis instead (redisClaimStore.ts: SET NX, expiring with the authorization), so a payment sent to two
 * of them at once runs and settles once.
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
  claim(
    authorization: PaidAuthorization,
  ): Promise<{ release(): Promise<void>; settled(): Promise<void> } | { refused: ClaimRefusal }>
  /** Releases what the claims hold (a Redis connection). */
  close(): Promise<void>
}

/** Where claims are kept: this process's memory, or Redis shared by several serve processes. */
export interface ClaimStore {
  /** Takes `key` for a call in flight (until `ttlMs`), or says who holds it. */
  take(key: string, ttlMs: number): Promise<{ taken: true; token: string } | { taken: false; state: 'in-flight' | 'settled' }>
  /** Marks `key` settled (kept `ttlMs`). */
  settle(key: string, ttlMs: number): Promise<void>
  /** Frees `key` if it is still the in-flight claim `token`. */
  release(key: string, token: string): Promise<void>
  close(): Promise<void>
}

/** A claim lasts until the authorization's validBefore, at least a minute and at most a day (then the chain refuses a used nonce). */
const claimTtlMs = (validBefore: number) => Math.min(Math.max(validBefore * 1000 - Date.now(), 60_000), 86_400_000)

/**
 * The claims of one currency, in `store` (default: this process's memory).
 * @param ctx - for `authorizationState` reads.
 * @param asset - the currency's address.
 * @param store - memoryClaimStore() or redisClaimStore(url).
 * @example
 * const claims = createAuthorizationClaims(ctx, usdc)
 * const claim = await claims.claim(authorization)
 * if ('refused' in claim) return reply402(claim.refused)
 */
export function createAuthorizationClaims(
  ctx: Pick<ChainContext, 'publicClient'>,
  asset: Address,
  store: ClaimStore = memoryClaimStore(),
): AuthorizationClaims {
  return {
    close: () => store.close(),
    async claim(authorization) {
      const key = `${asset.toLowerCase()}:${authorization.from.toLowerCase()}:${authorization.nonce.toLowerCase()}`
      const ttlMs = claimTtlMs(authorization.validBefore)
      // Held from here on (taken before the read, so a concurrent twin sees it while the read is pending).
      const held = await store.take(key, ttlMs)
      if (!held.taken) return { refused: held.state }
      const used = await ctx.publicClient
        .readContract({
          address: asset,
          abi: AUTHORIZATION_STATE_ABI,
          functionName: 'authorizationState',
          args: [authorization.from, authorization.nonce as Hex],
        })
        .catch(() => false) // unreadable: the facilitator's verify and simulation still decide
      if (used) {
        await store.settle(key, ttlMs)
        return { refused: 'used-on-chain' }
      }
      return { release: () => store.release(key, held.token), settled: () => store.settle(key, ttlMs) }
    },
  }
}

/**
 * Claims in this process's memory (one serve process).
 * @example
 * const claims = createAuthorizationClaims(ctx, usdc, memoryClaimStore())
 */
export function memoryClaimStore(): ClaimStore {
  const claims = new Map<string, { state: 'in-flight' | 'settled'; token: string; until: number }>()
  let next = 0
  return {
    async take(key, ttlMs) {
      const now = Date.now()
      for (const [k, v] of claims) if (v.until < now) claims.delete(k)
      const held = claims.get(key)
      if (held) return { taken: false, state: held.state }
      const token = String(++next)
      claims.set(key, { state: 'in-flight', token, until: now + ttlMs })
      return { taken: true, token }
    },
    async settle(key, ttlMs) {
      claims.set(key, { state: 'settled', token: '', until: Date.now() + ttlMs })
    },
    async release(key, token) {
      const held = claims.get(key)
      if (held?.state === 'in-flight' && held.token === token) claims.delete(key)
    },
    async close() {},
  }
}
