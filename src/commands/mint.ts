import { Command } from 'commander'
import type { ChainOptionValues } from '../chain/connect.js'
import { withExamples } from '../cli/help.js'
import { addOptionGroups, deploymentOptions, rpcOptions, signerOptions, txOptions } from '../cli/options.js'
import { type MintOptionValues, mintOptions, mintSettingsFrom } from '../mint/options.js'

/** `imo mint RECORD`: mints an inference record as an ERC-7007 token with its proof. */
export function mintCommand(): Command {
  const command = new Command('mint')
    .description(
      "mint an inference record (from imo infer) as an ERC-7007 token on the deployment's collection, with its signed proof",
    )
    .argument('<RECORD>', 'record.json, or the folder holding it')
  addOptionGroups(command, mintOptions, rpcOptions, signerOptions, txOptions, deploymentOptions)
  command.action(async (recordPath: string, _options: unknown, cmd: Command) => {
    const options = cmd.opts() as MintOptionValues & ChainOptionValues
    const settings = await mintSettingsFrom(options) // malformed flags fail before any inference or RPC
    if (options.out !== undefined) (await import('../util/checkOutFolder.js')).checkOutFolder(options.out)
    const { connectDeployment } = await import('../cli/connectDeployment.js')
    const { readCheckedRecord } = await import('../mint/readCheckedRecord.js')
    const { aigcDataBytes } = await import('../inference/erc7007.js')
    const { mintRecords } = await import('../mint/mintRecords.js')
    const { printMint } = await import('../mint/renderMint.js')
    const { withSpinner } = await import('../cli/ui.js')
    const { keccak256 } = await import('viem')
    const { ctx, deployment } = await connectDeployment(cmd, { signer: true })
    // Every hash re-checked from the files and the model; these exact bytes are signed and sent.
    const payload = await withSpinner(
      'checking the record',
      () => readCheckedRecord(recordPath, deployment.modelHash),
      () => 'record checked',
    )
    let { record, aigcData } = payload
    if (options.aigcData && options.aigcData !== record.aigcDataMode) {
      aigcData = aigcDataBytes(payload.artifactBytes, options.aigcData)
      record = { ...record, aigcDataMode: options.aigcData, aigcDataHash: keccak256(aigcData) }
    }
    // A zk collection mints with the record's PLONK proof (imo infer --prove), which anyone may send.
    const { existsSync } = await import('node:fs')
    const { join } = await import('node:path')
    const { readZkProof, ZK_PROOF_FILE } = await import('../zk/proveInference.js')
    const proofPath = join(payload.dir, ZK_PROOF_FILE)
    const zkProof = deployment.proofScheme === 'zk' && existsSync(proofPath) ? readZkProof(proofPath) : undefined
    const result = await withSpinner(
      'minting',
      (progress) =>
        mintRecords(
          ctx,
          [{ ...payload, record, aigcData, outDir: options.out ?? payload.dir, ...(zkProof ? { zkProof } : {}) }],
          {
            deployment,
            ...settings,
            onProgress: (text) => progress.update(text),
          },
        ),
      (r) => (r.outcomes[0]!.status === 'existing' ? 'already minted' : ctx.tx.dryRun ? 'simulated' : 'minted'),
    )
    printMint(result, ctx.nativeSymbol)
  })
  return withExamples(command, [
    'imo mint out/3fa2b4c1d9e0',
    'imo mint out/run1/record.json --to 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 --token-uri-mode data',
    'imo mint out/run1 --dry-run --json',
    "imo mint out/zk1   # a zk collection: the record's proof.json (imo infer --prove) is the proof; anyone may send it",
  ])
}
