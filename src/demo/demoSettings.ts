/**
 * What `imo demo` runs with: its prompts, its bundled models, and the figures of its token, sale,
 * fees, revenue and paid API call. One place, so the stages and the tests agree on them.
 */

export const DEMO_PROMPTS = ['a red spiral', 'ocean waves at dusk', 'a field of neon stars'] as const
/** The prompts of `imo demo --model tinylm`, the bundled text model. */
export const DEMO_TEXT_PROMPTS = ['The river', 'The market opened at', 'A small robot'] as const
/** The prompt the model user pays for with an on-chain request (cppn, tinylm). */
export const DEMO_REQUEST_PROMPTS = { cppn: 'a violet lattice at noon', tinylm: 'The old lighthouse' } as const
/** The prompt the model user pays for through serve's HTTP API (cppn, tinylm). */
export const DEMO_API_PROMPTS = { cppn: 'a golden maze', tinylm: 'The harbour at night' } as const
/** The bundled models the demo can run. */
export const DEMO_MODELS = ['cppn', 'tinylm', 'zk'] as const
export type DemoModel = (typeof DEMO_MODELS)[number]
export const DEMO_SETTINGS = {
  name: 'Pattern Model',
  symbol: 'PAT',
  supply: 1_000_000n,
  mintFee: '0.01',
  /** Fee of a paid request (`imo request`), escrowed until `imo serve` fulfils it. */
  requestFee: '0.005',
  snapshotInterval: 1,
  /** Whole tokens the second holder buys in a short sale (30%). */
  transfer: 300_000n,
  /** Price per token in that sale (ETH). */
  salePrice: '0.000001',
  deposit: '1',
  /** Revenue paid in the devnet's test USDC (a revenue currency of the demo's token). */
  usdcDeposit: '250',
  /** Price of one call of serve's paid HTTP API, in test USDC (x402, settled into the token). */
  apiPrice: '1',
} as const
