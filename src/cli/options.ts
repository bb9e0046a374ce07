/**
 * Every shared flag, defined once (Foundry `cast` style option groups) with its IMO_* variable on
 * it, and attached to each command that needs it. A test checks that commands share these very
 * objects, so `--rpc-url` cannot drift between commands.
 *
 * Precedence of a setting: flag > environment (IMO_*, then a fallback such as ETH_RPC_URL) > .env > imo.config.json
 * > interactive prompt (TTY only) > default. Commander applies flag and environment; .env is loaded
 * into the environment first without overriding it (src/cli/settings.ts), and the config file fills
 * what is still unset.
 */
import { type Command, Option } from 'commander'

const env = (option: Option, variable: string): Option => option.env(variable)

/**
 * Another tool's variable a flag also reads, after its own IMO_* one (commander reads only one):
 * `--rpc-url` falls back to Foundry's ETH_RPC_URL, as `cast` reads it. Applied by applyEnvFallbacks
 * (src/cli/settings.ts) with the environment's precedence, so a config file never beats it.
 */
export const envFallbacks = new Map<Option, string>()

const envThen = (option: Option, variable: string, fallback: string): Option => {
  envFallbacks.set(option, fallback)
  return env(option, variable)
}

/** Output flags; global, so they work before or after the command name. */
export const outputOptions = {
  json: new Option('--json', 'print exactly one JSON document on stdout (human text goes to stderr)'),
  quiet: new Option('-q, --quiet', 'print only results and errors'),
  verbose: new Option('-v, --verbose', 'print details, and stack traces on errors'),
  noColor: new Option('--no-color', 'disable colours (NO_COLOR is honoured too)'),
} as const

/** RPC connection. */
export const rpcOptions = {
  rpcUrl: envThen(
    new Option(
      '--rpc-url <URL>',
      'JSON-RPC endpoint; several comma-separated URLs give read fallbacks (sends use the first); without IMO_RPC_URL, ETH_RPC_URL as cast reads it',
    ),
    'IMO_RPC_URL',
    'ETH_RPC_URL',
  ),
  chainId: env(new Option('--chain-id <ID>', 'refuse to act unless the node serves this chain id'), 'IMO_CHAIN_ID'),
} as const

/** Where the signing key comes from; exactly one source is used (see src/chain/signer). */
export const signerOptions = {
  privateKey: env(
    new Option(
      '--private-key <HEX>',
      'raw private key (visible to other users in the process list: prefer IMO_PRIVATE_KEY or a file)',
    ),
    'IMO_PRIVATE_KEY',
  ),
  privateKeyFile: env(new Option('--private-key-file <FILE>', 'file holding a hex private key'), 'IMO_PRIVATE_KEY_FILE'),
  keystore: env(new Option('--keystore <FILE>', 'Ethereum V3 JSON keystore file'), 'IMO_KEYSTORE'),
  account: env(new Option('--account <NAME>', 'Foundry keystore ~/.foundry/keystores/NAME'), 'IMO_ACCOUNT'),
  passwordFile: env(
    new Option('--password-file <FILE>', 'file holding the keystore password (else IMO_KEYSTORE_PASSWORD, else a hidden prompt)'),
    'IMO_PASSWORD_FILE',
  ),
  mnemonicFile: env(new Option('--mnemonic-file <FILE>', 'file holding a BIP-39 mnemonic'), 'IMO_MNEMONIC_FILE'),
  mnemonicIndex: env(
    new Option('--mnemonic-index <N>', "account index on the mnemonic's path m/44'/60'/0'/0/N (default 0)"),
    'IMO_MNEMONIC_INDEX',
  ),
} as const

/** Transaction behaviour for every sending command. */
export const txOptions = {
  dryRun: new Option('--dry-run', 'simulate, estimate gas and cost, print; send nothing'),
  yes: new Option('-y, --yes', 'skip confirmations (needed without a terminal for actions that cannot be undone)'),
  confirmations: env(new Option('--confirmations <N>', 'blocks to wait after inclusion (default 1)'), 'IMO_CONFIRMATIONS'),
  timeout: env(new Option('--timeout <SECONDS>', 'how long to wait for a receipt before exiting 5 (default 120)'), 'IMO_TIMEOUT'),
  gasLimit: new Option('--gas-limit <GAS>', 'gas limit instead of the estimate (refused below the estimate unless --force)'),
  force: new Option('--force', "send with a --gas-limit below the simulation's estimate"),
  maxFeePerGas: env(new Option('--max-fee-per-gas <GWEI>', 'EIP-1559 max fee per gas, in gwei'), 'IMO_MAX_FEE_PER_GAS'),
  maxPriorityFeePerGas: env(
    new Option('--max-priority-fee-per-gas <GWEI>', 'EIP-1559 priority fee per gas, in gwei'),
    'IMO_MAX_PRIORITY_FEE_PER_GAS',
  ),
  gasPrice: env(new Option('--gas-price <GWEI>', 'legacy gas price in gwei (chains without EIP-1559)'), 'IMO_GAS_PRICE'),
  key: env(
    new Option(
      '--key <KEY>',
      'idempotency key: a deposit, burn, snapshot or claim is done at most once per key; a re-run with it reports the earlier result (e.g. --key "$CI_PIPELINE_ID")',
    ),
    'IMO_IDEMPOTENCY_KEY',
  ),
} as const

/** Which recorded deployment a command acts on. */
export const deploymentOptions = {
  deployment: env(
    new Option('--deployment <FILE>', 'deployment file (default: the one recorded for the chain under .imo/deployments/)'),
    'IMO_DEPLOYMENT',
  ),
} as const

/** Which sale the `imo offer` commands act on. */
export const offerOptions = {
  sale: env(
    new Option('--sale <ADDRESS>', 'the sale contract (default: the offering imo offer create recorded beside the deployment)'),
    'IMO_SALE',
  ),
} as const

/** Where the inference queue's Redis is, for every command that reads or uses it. */
export const queueConnectionOptions = {
  queue: env(
    new Option(
      '--queue <URL>',
      'Redis of the inference queue, redis://HOST:PORT/DB (rediss:// for TLS); a password here is visible in the process list: prefer IMO_QUEUE or --queue-password-file',
    ),
    'IMO_QUEUE',
  ),
  queuePasswordFile: env(
    new Option('--queue-password-file <FILE>', "file holding the queue's Redis password (its first line)"),
    'IMO_QUEUE_PASSWORD_FILE',
  ),
} as const

/** The BullMQ queue between `imo serve --queue` (the dispatcher) and `imo worker`. */
export const queueOptions = {
  ...queueConnectionOptions,
  artifactDir: env(
    new Option(
      '--artifact-dir <DIR>',
      'folder shared by workers and dispatcher for results whose output tensors exceed 1 MiB (smaller ones go through Redis)',
    ),
    'IMO_ARTIFACT_DIR',
  ),
} as const

/** `imo serve --queue`: how the dispatcher checks the workers' results (README, "What a queue dispatcher attests"). */
export const dispatcherOptions = {
  auditRate: env(
    new Option(
      '--audit-rate <R>',
      'with --queue: share of worker results serve re-executes before signing, 0 to 1 (default 0.1; 1 re-runs every result)',
    ),
    'IMO_AUDIT_RATE',
  ),
} as const

/** Which ONNX file of a model folder runs, when it holds several. Committed with the output (config.onnxFile). */
export const variantOptions = {
  variant: env(
    new Option(
      '--variant <NAME>',
      "the ONNX file of a folder that holds several: fp32 (model.onnx, the default), fp16, q8 (model_quantized.onnx), int8, uint8, q4, q4f16, bnb4, or the file's path inside the folder",
    ),
    'IMO_VARIANT',
  ),
} as const

/** Text generation, for causal-lm models (imo.pipeline.json). Committed with the output. */
export const generationOptions = {
  maxNewTokens: new Option(
    '--max-new-tokens <N>',
    'causal-lm: generate at most N tokens (default: imo.pipeline.json, else generation_config.json, else 64)',
  ),
  temperature: new Option('--temperature <T>', 'causal-lm: sampling temperature; 0 = greedy, the default'),
  topK: new Option('--top-k <K>', 'causal-lm: sample among the K most likely tokens (0 = all, the default)'),
  topP: new Option('--top-p <P>', 'causal-lm: sample among the most likely tokens up to probability P, 0 < P <= 1 (default 1)'),
  seed: new Option('--seed <N>', 'causal-lm: sampling seed, 0 to 2^53-1 (default 0); a re-run with it gives the same tokens'),
  stream: new Option('--stream', 'causal-lm: print the text as it is generated (to stderr with --json)'),
} as const

/** zk proofs (docs/formats.md section 11): the powers-of-tau file of the PLONK setup. */
export const zkOptions = {
  ptau: env(
    new Option(
      '--ptau <FILE>',
      'powers-of-tau file for the PLONK setup: a published powersOfTau28_hez_final_NN.ptau (checked by its BLAKE2b-512); needed once per model, the keys are then cached',
    ),
    'IMO_ZK_PTAU',
  ),
  insecurePtau: new Option(
    '--insecure-ptau',
    'accept a --ptau file that is not a published ceremony file, or keys made earlier from one (tests only: whoever made it can forge proofs)',
  ),
} as const

/** Attaches every option of the given groups to a command, in order. */
export function addOptionGroups<C extends { addOption(option: Option): unknown }>(
  command: C,
  ...groups: Record<string, Option>[]
): C {
  for (const group of groups) for (const option of Object.values(group)) command.addOption(option)
  return command
}

/** The shared groups a `.env` or a CI script may set for any command. */
export const sharedOptionGroups: ReadonlyArray<Record<string, Option>> = [rpcOptions, signerOptions, txOptions, deploymentOptions]

/** Hidden copies made by acceptSharedOptions, each mapped to the one shared option it copies. */
const acceptedCopies = new WeakMap<Option, Option>()

/**
 * The shared option an option stands for: itself, or the original of a copy made by acceptSharedOptions.
 * @example
 * sharedOriginal(verifyCommand.options.find((o) => o.long === '--private-key-file')) === signerOptions.privateKeyFile // true
 */
export function sharedOriginal(option: Option): Option {
  return acceptedCopies.get(option) ?? option
}

/**
 * Makes a command accept, hidden and ignored, every shared flag it does not use, so one `.env` or CI
 * script serves every command (`imo verify --token 1 --private-key-file F` is not an unknown option).
 * The copies take the flags and description of the one definition above (no environment variable:
 * an ignored flag reads nothing), and a line in --help says so.
 * @param command - a command without subcommands.
 * @returns the command.
 * @example
 * acceptSharedOptions(hashCommand()) // `imo hash m --rpc-url URL --yes` parses
 */
export function acceptSharedOptions<C extends Command>(command: C): C {
  const taken = new Set(command.options.map((option) => option.long))
  let added = false
  for (const group of sharedOptionGroups)
    for (const option of Object.values(group)) {
      if (taken.has(option.long)) continue
      const copy = new Option(option.flags, option.description).hideHelp()
      acceptedCopies.set(copy, option)
      command.addOption(copy)
      added = true
    }
  if (added)
    command.addHelpText(
      'after',
      'The shared chain, signer and transaction flags (--rpc-url, --private-key-file, --yes, --key, ...) are accepted\nand ignored where this command does not need them, so one .env or CI script serves every command.\n',
    )
  return command
}
