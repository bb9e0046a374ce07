// Minimal types for the untyped zk packages imo uses (snarkjs 0.7.6, circom2 0.2.23): only what src/zk calls.

declare module 'snarkjs' {
  export type Logger = {
    info(message: string): void
    debug(message: string): void
    warn(message: string): void
    error(message: string): void
  }
  export interface PlonkProof {
    A: string[]
    B: string[]
    C: string[]
    Z: string[]
    T1: string[]
    T2: string[]
    T3: string[]
    Wxi: string[]
    Wxiw: string[]
    eval_a: string
    eval_b: string
    eval_c: string
    eval_s1: string
    eval_s2: string
    eval_zw: string
    protocol: string
    curve: string
  }
  export type VerificationKey = Record<string, unknown> & { protocol: string; nPublic: number; power: number }
  export const plonk: {
    setup(r1cs: string, ptau: string, zkey: string, logger?: Logger): Promise<unknown>
    prove(
      zkey: string,
      witness: string | { type: 'mem'; data?: Uint8Array },
      logger?: Logger,
    ): Promise<{ proof: PlonkProof; publicSignals: string[] }>
    verify(vk: VerificationKey, publicSignals: (string | bigint)[], proof: PlonkProof, logger?: Logger): Promise<boolean>
  }
  export const wtns: {
    calculate(input: Record<string, unknown>, wasm: string, witness: string | { type: 'mem'; data?: Uint8Array }): Promise<void>
    exportJson(witness: string | { type: 'mem'; data?: Uint8Array }): Promise<(bigint | string)[]>
  }
  export const zKey: {
    exportVerificationKey(zkey: string, logger?: Logger): Promise<VerificationKey>
    exportSolidityVerifier(zkey: string, templates: Record<string, string>, logger?: Logger): Promise<string>
  }
  export const r1cs: {
    info(r1cs: string, logger?: Logger): Promise<{ nConstraints: number; nVars: number; nOutputs: number; nPubInputs: number }>
  }
  export interface G {
    g: Uint8Array
    F: { n8: number }
    timesFr(point: Uint8Array, scalar: Uint8Array): Uint8Array
    toAffine(point: Uint8Array): Uint8Array
    toRprLEM(buffer: Uint8Array, offset: number, point: Uint8Array): void
  }
  export interface Fr {
    one: Uint8Array
    w: Uint8Array[]
    e(value: bigint | number | string): Uint8Array
    add(a: Uint8Array, b: Uint8Array): Uint8Array
    sub(a: Uint8Array, b: Uint8Array): Uint8Array
    mul(a: Uint8Array, b: Uint8Array): Uint8Array
    div(a: Uint8Array, b: Uint8Array): Uint8Array
    exp(a: Uint8Array, e: number | bigint): Uint8Array
    batchInverse(values: Uint8Array[]): Uint8Array[]
  }
  export interface Curve {
    q: bigint
    r: bigint
    G1: G
    G2: G
    Fr: Fr
    terminate(): Promise<void>
  }
  export const curves: {
    getCurveFromName(name: string, options?: { singleThread?: boolean }): Promise<Curve>
  }
}

declare module 'circom2' {
  export const bindings: Record<string, unknown>
  export class CircomRunner {
    constructor(options: {
      args: string[]
      env: Record<string, string>
      preopens: Record<string, string>
      bindings: Record<string, unknown>
    })
    execute(wasm: Uint8Array): Promise<unknown>
  }
}
