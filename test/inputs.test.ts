/**
 * Inputs that must not hurt (issue 11, items 6-14): hostile model folders, write targets that are
 * not regular files, FIFOs, oversized and malformed tensors, keys and API keys in messages, and
 * config files that try to consent or sign. The built CLI in a child process; a real anvil where a
 * chain is involved.
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { lstatSync, mkdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { generatePrivateKey } from 'viem/accounts'
import { type Anvil, startAnvil } from '../src/devnet/startAnvil.js'
import { encryptKeystore } from '../src/signer/keystore.js'
import { client, deployArgs, tempWorkdir } from './helpers/deployFixture.js'
import { writeOnnxModel, writeOnnxWithLocation, writeSingleFile } from './helpers/modelFixtures.js'
import { type CliResult, repoRoot, runCli } from './helpers/runCli.js'

const work = tempWorkdir('imo-inputs-')
after(() => work.cleanup())

/** The error lines (progress lines such as "… loading the model" may come first); exactly one `error:` line and no stack. */
const errorText = (result: CliResult) => {
  const lines = result.stderr.trim().split('\n')
  const at = lines.findIndex((line) => line.startsWith('error:'))
  assert.ok(at >= 0, result.stderr)
  assert.ok(!/\n\s+at /.test(result.stderr), `stack trace: ${result.stderr}`)
  return lines.slice(at).join('\n')
}

/** A folder holding model.onnx whose external data is `location`, plus a second file model.ONNX. */
function caseTwinFolder(name: string, location: string): string {
  const folder = join(work.dir, name)
  writeOnnxWithLocation(folder, 'model.onnx', location)
  writeOnnxWithLocation(folder, 'model.ONNX', 'w.bin')
  writeFileSync(join(folder, 'w.bin'), Buffer.alloc(4))
  return folder
}

describe('model folders: one rule for ONNX files, the escape check always', () => {
  writeFileSync(join(work.dir, 'secret.bin'), 'not part of any model')
  it('refuses external data outside the folder even beside a model.ONNX twin', async () => {
    for (const [location, message] of [
      ['../secret.bin', 'external data location escapes the model folder: ../secret.bin'],
      ['/etc/passwd', 'external data location is absolute: /etc/passwd'],
    ] as const) {
      const folder = caseTwinFolder(`twin-${location.length}`, location)
      const r = await runCli(['hash', folder])
      assert.equal(r.code, 2, r.stderr)
      assert.equal(r.stderr.trim(), `error: ${message} (in ${join(folder, 'model.onnx')})`)
      assert.equal(r.stdout, '')
    }
  })

  it('checks the external data of an ONNX file in any sub-folder and in any case', async () => {
    const folder = join(work.dir, 'nested')
    writeOnnxWithLocation(join(folder, 'sub'), 'other.Onnx', '../../secret.bin')
    writeFileSync(join(folder, 'readme.txt'), 'x')
    const r = await runCli(['hash', folder])
    assert.equal(r.code, 2, r.stderr)
    assert.match(r.stderr, /^error: external data location escapes the model folder: \.\.\/\.\.\/secret\.bin/)
  })
})

describe('write targets that are not regular files (--manifest)', () => {
  const model = writeSingleFile(join(work.dir, 'single'))

  it('writes through a symlink: the link stays a link, its target gets the manifest', async () => {
    const target = join(work.dir, 'real.manifest')
    writeFileSync(target, 'old')
    const link = join(work.dir, 'link.manifest')
    symlinkSync(target, link)
    const r = await runCli(['hash', model, '--manifest', link])
    assert.equal(r.code, 0, r.stderr)
    assert.ok(lstatSync(link).isSymbolicLink())
    assert.equal(readlinkSync(link), target)
    assert.match(readFileSync(target, 'utf8'), /^imo-model-v1\n/)
  })

  it('refuses a FIFO (standing in for a device such as /dev/full), a symlink to one, a folder and a dangling symlink', async () => {
    const fifo = join(work.dir, 'manifest.fifo')
    execFileSync('mkfifo', [fifo])
    const toFifo = join(work.dir, 'to-fifo.manifest')
    symlinkSync(fifo, toFifo)
    const folder = join(work.dir, 'a-folder')
    mkdirSync(folder)
    const dangling = join(work.dir, 'dangling.manifest')
    symlinkSync(join(work.dir, 'nowhere', 'x'), dangling)
    for (const [target, message] of [
      [fifo, `cannot write ${fifo}: it is a FIFO (named pipe), not a regular file; imo only replaces regular files`],
      [toFifo, `cannot write ${toFifo}: it is a symlink to a FIFO (named pipe), not a regular file`],
      [folder, `cannot write ${folder}: it is a folder, not a regular file; imo only replaces regular files`],
      [dangling, `cannot write ${dangling}: it is a symlink to nothing (dangling); remove it or point it at a file`],
    ] as const) {
      const r = await runCli(['hash', model, '--manifest', target])
      assert.equal(r.code, 2, r.stderr)
      assert.equal(r.stderr.trim(), `error: ${message}`)
    }
    assert.ok(lstatSync(fifo).isFIFO(), 'the FIFO is still a FIFO')
    assert.ok(lstatSync(toFifo).isSymbolicLink() && lstatSync(dangling).isSymbolicLink())
    assert.ok(lstatSync(folder).isDirectory())
  })
})

describe('tensor inputs (imo infer --input)', () => {
  const { onnx } = writeOnnxModel(join(work.dir, 'onnx'))

  it('refuses a FIFO before opening it, in well under the time a hang would take', async () => {
    for (const name of ['in.json', 'x.npy', 'in.imt']) {
      const fifo = join(work.dir, `fifo-${name}`)
      execFileSync('mkfifo', [fifo])
      const started = Date.now()
      const r = await runCli(['infer', '--model', onnx, '--input', fifo, '--out', join(work.dir, 'out-fifo')], {
        timeoutMs: 30_000,
      })
      assert.equal(r.code, 2, r.stderr)
      assert.equal(errorText(r), `error: cannot read input file ${fifo}: it is a FIFO (named pipe), not a regular file`)
      assert.ok(Date.now() - started < 25_000)
    }
  })

  it('refuses a JSON file over 16 MiB before parsing it, with a hint', async () => {
    const big = join(work.dir, 'big.json')
    writeFileSync(big, `{"x": {"type": "float32", "dims": [1], "data": [${'0,'.repeat(8.5 * 1024 * 1024)}0]}}`)
    const r = await runCli(['infer', '--model', onnx, '--input', big])
    assert.equal(r.code, 2, r.stderr)
    assert.match(
      errorText(r),
      /^error: input file .*big\.json is too large: \d+ bytes, more than the 16777216 bytes imo reads for it\nhint: give large tensors as \.npy files/,
    )
  })

  it('refuses ragged data, 1e400 and a lone surrogate with exit 2', async () => {
    const cases = [
      ['{"x": {"type": "float32", "dims": [2, 4], "data": [[1, 2, 3], [4, 5, 6, 7, 8]]}}', /is ragged: data\[0\] has 3 entries/],
      ['{"x": {"type": "float32", "dims": [2, 4], "data": [1, 2, 3, 4, 5, 6, 7, 1e400]}}', /beyond the range of a 64-bit float/],
      ['{"x": {"type": "string", "dims": [1], "data": ["\\udfff"]}}', /lone UTF-16 surrogate/],
    ] as const
    for (const [index, [text, message]] of cases.entries()) {
      const file = join(work.dir, `bad-${index}.json`)
      writeFileSync(file, text)
      const r = await runCli(['infer', '--model', onnx, '--input', file])
      assert.equal(r.code, 2, r.stderr)
      assert.match(errorText(r), message)
    }
  })
})

describe('record files that are not regular files (imo verify)', () => {
  it('a FIFO as mint.json or as the artifact is refused or reported, never waited on', async () => {
    const { onnx } = writeOnnxModel(join(work.dir, 'onnx-verify'))
    const input = join(work.dir, 'verify-in.json')
    writeFileSync(input, JSON.stringify({ x: { type: 'float32', dims: [1, 4], data: [1, 2, 3, 4] } }))
    const out = join(work.dir, 'verify-out')
    assert.equal((await runCli(['infer', '--model', onnx, '--input', input, '--out', out])).code, 0)
    execFileSync('mkfifo', [join(out, 'mint.json')])
    const started = Date.now()
    const r = await runCli(['verify', out], { timeoutMs: 30_000 })
    assert.equal(r.code, 9, r.stderr) // the mint record check fails; nothing hangs
    assert.match(
      errorText(r),
      /^error: verification failed: mint record: cannot read mint record .*mint\.json: it is a FIFO \(named pipe\), not a regular file$/,
    )
    assert.ok(Date.now() - started < 25_000)
  })
})

describe('API keys in RPC URLs', () => {
  it('prints scheme, host and port only, in plain, --verbose and --json output', async () => {
    const key = 'd41d8cd98f00b204e9800998ecf8427e'
    for (const extra of [[], ['--verbose'], ['--json']]) {
      const r = await runCli([
        'claimable',
        '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
        '--rpc-url',
        `http://user:pass-${key}@127.0.0.1:1/v3/${key}?apikey=${key}`,
        ...extra,
      ])
      assert.equal(r.code, 6, r.stderr)
      assert.match(r.stderr, /cannot reach the RPC at http:\/\/127\.0\.0\.1:1\b/)
      for (const text of [r.stdout, r.stderr]) {
        assert.ok(!text.includes(key), `API key printed: ${text}`)
        assert.ok(!text.includes('/v3'), `URL path printed: ${text}`)
      }
    }
  })
})

describe('imo.config.json cannot consent or carry secrets', () => {
  const cases: [string, unknown, string][] = [
    ['yes', { yes: true }, 'imo.config.json: "yes" cannot be set in a config file (it skips confirmations)'],
    [
      'yes in a section',
      { redeem: { yes: true } },
      'imo.config.json: "yes" in section "redeem" cannot be set in a config file (it skips confirmations)',
    ],
    [
      'a private key',
      { privateKey: generatePrivateKey() },
      'imo.config.json: "privateKey" cannot be set in a config file (it is a secret)',
    ],
    [
      'trustPipeline',
      { verify: { trustPipeline: true } },
      'imo.config.json: "trustPipeline" in section "verify" cannot be set in a config file (it consents to running the model author\'s code)',
    ],
    ['an unknown key', { rpcURL: 'http://x' }, 'imo.config.json: unknown key "rpcURL" (neither an option nor a command section)'],
    [
      'an unknown key in a section',
      { deploy: { modle: 'x' } },
      'imo.config.json: unknown key "modle" in section "deploy" (not an option of imo deploy)',
    ],
  ]
  for (const [what, config, message] of cases)
    it(`refuses ${what}`, async () => {
      const dir = join(work.dir, `config-${what.replaceAll(' ', '-')}`)
      mkdirSync(dir)
      writeFileSync(join(dir, 'imo.config.json'), JSON.stringify(config))
      const r = await runCli(['hash', join(repoRoot, 'models', 'cppn')], { cwd: dir })
      assert.equal(r.code, 2, r.stderr)
      assert.equal(r.stderr.split('\n')[0], `error: ${message}`)
      if (what === 'a private key') assert.ok(!r.stderr.includes((config as { privateKey: string }).privateKey.slice(2)))
    })
  it('refuses prototype keys (__proto__, constructor, prototype), at the top and in sections', async () => {
    const dir = join(work.dir, 'config-proto')
    mkdirSync(dir)
    for (const [text, message] of <const>[
      ['{"__proto__": {"yes": true}}', 'imo.config.json: key "__proto__" is not allowed'],
      ['{"redeem": {"__proto__": {"yes": true}}}', 'imo.config.json: key "__proto__" in section "redeem" is not allowed'],
      ['{"constructor": 1}', 'imo.config.json: key "constructor" is not allowed'],
    ]) {
      writeFileSync(join(dir, 'imo.config.json'), text)
      const r = await runCli(['hash', join(repoRoot, 'models', 'cppn')], { cwd: dir })
      assert.equal(r.code, 2, r.stderr)
      assert.equal(r.stderr.trim(), `error: ${message}`)
    }
  })
})

describe('on a real chain', () => {
  let anvil: Anvil
  before(async () => {
    anvil = await startAnvil()
  })
  after(async () => {
    await anvil.stop()
  })

  it('imo deploy of a model.onnx + model.ONNX folder with escaping external data sends nothing', async () => {
    const rpc = client(anvil.rpcUrl)
    const folder = caseTwinFolder('deploy-twin', '../secret.bin')
    const r = await runCli(
      ['deploy', '--model', folder, '--name', 'M', '--symbol', 'M', '--supply', '1000', '--rpc-url', anvil.rpcUrl, '--yes'],
      { cwd: work.dir, env: { IMO_PRIVATE_KEY: anvil.accounts[5].privateKey } },
    )
    assert.equal(r.code, 2, r.stderr)
    assert.match(r.stderr, /^error: external data location escapes the model folder: \.\.\/secret\.bin/)
    assert.equal(await rpc.getTransactionCount({ address: anvil.accounts[5].address }), 0)
  })

  it('a FIFO as --deployment, --prompts or keystore is refused, never waited on', async () => {
    const fifo = join(work.dir, 'chain.fifo')
    execFileSync('mkfifo', [fifo])
    const env = { IMO_PRIVATE_KEY: anvil.accounts[6].privateKey }
    for (const args of [
      ['status', '--deployment', fifo, '--rpc-url', anvil.rpcUrl],
      ['infer-and-mint', '--prompts', fifo, '--deployment', fifo, '--rpc-url', anvil.rpcUrl],
      ['claimable', '--keystore', fifo, '--rpc-url', anvil.rpcUrl],
    ]) {
      const r = await runCli(args, { cwd: work.dir, env, timeoutMs: 30_000 })
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
      assert.match(errorText(r), /it is a FIFO \(named pipe\), not a regular file/, args.join(' '))
    }
  })

  it('{"yes": true} (also through __proto__) in imo.config.json does not let imo redeem burn', async () => {
    const dir = join(work.dir, 'redeem-config')
    mkdirSync(dir)
    const deployer = anvil.accounts[7]
    const env = { IMO_PRIVATE_KEY: deployer.privateKey }
    const deployed = await runCli(deployArgs(anvil.rpcUrl, ['--json']), { cwd: dir, env })
    assert.equal(deployed.code, 0, deployed.stderr)
    const rpc = client(anvil.rpcUrl)
    const nonce = await rpc.getTransactionCount({ address: deployer.address })
    for (const text of ['{"yes": true}', '{"__proto__": {"yes": true}}', '{"redeem": {"yes": true}}']) {
      writeFileSync(join(dir, 'imo.config.json'), text)
      const r = await runCli(['redeem', '1', '--rpc-url', anvil.rpcUrl], { cwd: dir, env })
      assert.equal(r.code, 2, r.stderr)
      assert.match(errorText(r), /^error: imo\.config\.json: /)
    }
    assert.equal(await rpc.getTransactionCount({ address: deployer.address }), nonce, 'nothing was sent')
  })

  it('a keystore holding an invalid key: no key-derived value in plain, --verbose or --json output', async () => {
    const order = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n
    const keystore = await encryptKeystore(`0x${'22'.repeat(32)}`, 'pw', { n: 2 ** 12 })
    // Re-encrypt the curve order in place of the key (encryptKeystore refuses invalid keys).
    const { createCipheriv, scryptSync } = await import('node:crypto')
    const { keccak256 } = await import('viem')
    const { salt } = keystore.crypto.kdfparams as { salt: string }
    const derived = scryptSync(Buffer.from('pw'), Buffer.from(salt, 'hex'), 32, { N: 2 ** 12, r: 8, p: 1 })
    const cipher = createCipheriv('aes-128-ctr', derived.subarray(0, 16), Buffer.from(keystore.crypto.cipherparams.iv, 'hex'))
    const ciphertext = Buffer.concat([cipher.update(Buffer.from(order.toString(16), 'hex')), cipher.final()])
    keystore.crypto.ciphertext = ciphertext.toString('hex')
    keystore.crypto.mac = keccak256(Buffer.concat([derived.subarray(16, 32), ciphertext])).slice(2)
    const file = join(work.dir, 'secrets', 'invalid-key.json')
    writeFileSync(file, JSON.stringify(keystore))
    writeFileSync(join(work.dir, 'secrets', 'pw'), 'pw')
    for (const extra of [[], ['--verbose'], ['--json']]) {
      const r = await runCli(
        [
          'deploy',
          '--model-hash',
          `0x${'ab'.repeat(32)}`,
          '--name',
          'M',
          '--symbol',
          'M',
          '--supply',
          '1',
          '--rpc-url',
          anvil.rpcUrl,
          '--dry-run',
          '--keystore',
          file,
          '--password-file',
          join(work.dir, 'secrets', 'pw'),
          ...extra,
        ],
        { cwd: work.dir },
      )
      assert.equal(r.code, 2, r.stderr)
      assert.match(r.stderr, /keystore .*invalid-key\.json decrypts to a value that is not a valid secp256k1 private key/)
      for (const text of [r.stdout, r.stderr]) {
        assert.ok(!text.includes(order.toString()), `decimal key printed: ${text}`)
        assert.ok(!text.toLowerCase().includes(order.toString(16)), `hex key printed: ${text}`)
      }
    }
  })
})
