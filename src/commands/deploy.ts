import { Command, Option } from 'commander'
import { withExamples } from '../cli/help.js'
import { addOptionGroups, deploymentOptions, rpcOptions, signerOptions, txOptions, zkOptions } from '../cli/options.js'

/** `imo deploy`: the model's ERC-7641 token and ERC-7007 collection, recorded under .imo/deployments/. */
export function deployCommand(): Command {
  const command = new Command('deploy')
    .description("deploy the model's ERC-7641 revenue token and ERC-7007 collection, and record the deployment")
    .addOption(
      new Option('--model <PATH>', 'the model (.onnx file or folder); its imo-model-v1 hash is bound to the contracts').env(
        'IMO_MODEL',
      ),
    )
    .addOption(new Option('--model-hash <HASH>', 'bytes32 model hash, instead of hashing --model'))
    .addOption(new Option('--model-uri <URI>', 'where the model can be fetched (stored on the token)'))
    .addOption(new Option('--name <NAME>', 'token name, e.g. "Pattern Model"'))
    .addOption(new Option('--symbol <SYMBOL>', 'token symbol, e.g. PAT'))
    .addOption(new Option('--supply <WHOLE_TOKENS>', 'initial supply in whole tokens (18 decimals)'))
    .addOption(new Option('--recipient <ADDRESS>', 'receives the initial supply (default: the signer)'))
    .addOption(
      new Option(
        '--percent-claimable <PERCENT>',
        "percent of each snapshot's revenue claimable by holders, 0-100 (default 50; the rest backs redemption on burn)",
      ),
    )
    .addOption(
      new Option('--snapshot-interval <SECONDS>', 'minimum seconds between snapshots (default 86400; 60 on local chains)'),
    )
    .addOption(new Option('--claim-window <SNAPSHOTS>', 'snapshots a claim stays open before rolling over (1-32, default 12)'))
    .addOption(new Option('--royalty-bps <BPS>', 'ERC-2981 royalty paid to the token, in basis points (default 500 = 5%)'))
    .addOption(new Option('--mint-fee <ETH>', 'fee per mint forwarded to the token, in the native unit (default 0)'))
    .addOption(
      new Option(
        '--request-fee <ETH>',
        'fee a user pays per paid request (`request`), escrowed until fulfilled (then revenue) or refunded (default 0.001)',
      ),
    )
    .addOption(
      new Option(
        '--request-timeout <SECONDS>',
        'seconds a paid request stays fulfillable before its fee can be refunded, 1 to 31536000 (default 3600)',
      ),
    )
    .addOption(new Option('--attester <ADDRESS...>', 'addresses allowed to sign inference proofs (default: the signer)'))
    .addOption(
      new Option(
        '--revenue-currency <ADDRESS>',
        'an ERC-20 the token shares as revenue beside the native currency, e.g. USDC (repeatable, at most 7; fixed at deployment)',
      ).argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]),
    )
    .addOption(
      new Option(
        '--proof-scheme <SCHEME>',
        "attestation: an attester signs each token; zk: the model's PLONK verifier checks each token's proof on chain, anyone may mint (a zk model folder; --ptau the first time)",
      )
        .choices(['attestation', 'zk'])
        .default('attestation'),
    )
  addOptionGroups(command, rpcOptions, signerOptions, txOptions, deploymentOptions, zkOptions)
  command.action(async (_args, cmd: Command) => {
    const { runDeploy } = await import('../deployment/runDeploy.js')
    const { printResult } = await import('../cli/ui.js')
    const result = await runDeploy(cmd.opts(), (key) => cmd.getOptionValueSource(key))
    printResult(result.data, () => result.human)
  })
  return withExamples(command, [
    'imo deploy --model ./models/cppn --name "Pattern Model" --symbol PAT --supply 1000000',
    'imo deploy --model ./model.onnx --name M --symbol M --supply 1000 --percent-claimable 80 --rpc-url https://sepolia.example --account deployer',
    'imo deploy --model ./model.onnx --name M --symbol M --supply 1000 --dry-run --json',
    'imo deploy --model ./models/cppn --name P --symbol P --supply 1000 --request-fee 0.002 --request-timeout 7200',
    'imo deploy --model ./models/cppn --name P --symbol P --supply 1000 --revenue-currency 0x51935F7e534792A8a2C7571f6b790d364bd532EA',
    'imo deploy --model ./models/zkcppn --name Z --symbol Z --supply 1000 --proof-scheme zk --ptau powersOfTau28_hez_final_15.ptau',
    'imo deploy --model-hash 0x5f… --name M --symbol M --supply 1000 --deployment .imo/deployments/31337/second.json',
  ])
}
