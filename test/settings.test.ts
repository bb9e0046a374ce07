/**
 * The one precedence order (README "Settings, signers and chains"), end to end through the built CLI:
 * flag > environment (IMO_*, then ETH_RPC_URL for the RPC URL) > .env > imo.config.json. An unreachable RPC URL makes the winner
 * visible: the error names the URL it tried (exit 6).
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { runCli } from './helpers/runCli.js'

// Nothing listens on port 1 (privileged, never used by tests), so each URL fails fast with exit 6.
const url = (tag: string) => `http://127.0.0.${tag}:1`

describe('settings precedence', () => {
  let cwd: string
  before(() => {
    cwd = mkdtempSync(join(tmpdir(), 'imo-settings-'))
  })
  after(() => rmSync(cwd, { recursive: true, force: true }))

  const triedUrl = async (args: string[], env: Record<string, string> = {}) => {
    const { code, stderr } = await runCli(['claimable', '0x70997970C51812dc3A010C7d01b50e0d17dc79C8', ...args], { cwd, env })
    assert.equal(code, 6, stderr)
    return /cannot reach the RPC at (\S+)/.exec(stderr)?.[1]
  }

  it('imo.config.json fills what nothing else sets', async () => {
    writeFileSync(join(cwd, 'imo.config.json'), JSON.stringify({ rpcUrl: url('4') }))
    assert.equal(await triedUrl([]), url('4'))
  })

  it('.env beats imo.config.json, and comments and quotes in .env are understood', async () => {
    writeFileSync(join(cwd, '.env'), `# operator settings\nIMO_RPC_URL="${url('3')}"\n`)
    assert.equal(await triedUrl([]), url('3'))
  })

  it('the environment beats .env (dotenv never overrides it)', async () => {
    assert.equal(await triedUrl([], { IMO_RPC_URL: url('2') }), url('2'))
  })

  it('a flag beats everything', async () => {
    assert.equal(await triedUrl(['--rpc-url', url('1')], { IMO_RPC_URL: url('2') }), url('1'))
  })

  it('ETH_RPC_URL is read as cast reads it: after IMO_RPC_URL, before imo.config.json, below a flag', async () => {
    writeFileSync(join(cwd, '.env'), '')
    writeFileSync(join(cwd, 'imo.config.json'), JSON.stringify({ rpcUrl: url('4') }))
    assert.equal(await triedUrl([], { ETH_RPC_URL: url('6') }), url('6'))
    assert.equal(await triedUrl([], { ETH_RPC_URL: url('6'), IMO_RPC_URL: url('2') }), url('2'))
    assert.equal(await triedUrl(['--rpc-url', url('1')], { ETH_RPC_URL: url('6') }), url('1'))
    writeFileSync(join(cwd, '.env'), `ETH_RPC_URL=${url('7')}\n`)
    assert.equal(await triedUrl([]), url('7'))
  })

  it("a command's own section of imo.config.json applies to it alone", async () => {
    writeFileSync(join(cwd, '.env'), '')
    writeFileSync(join(cwd, 'imo.config.json'), JSON.stringify({ rpcUrl: url('4'), claimable: { rpcUrl: url('5') } }))
    assert.equal(await triedUrl([]), url('5'))
    const { code, stderr } = await runCli(['status'], { cwd })
    assert.equal(code, 6)
    assert.match(stderr, new RegExp(`cannot reach the RPC at ${url('4').replaceAll('.', '\\.')}`))
  })

  it('a malformed imo.config.json is a one-line usage error', async () => {
    writeFileSync(join(cwd, 'imo.config.json'), '{ not json')
    const { code, stderr } = await runCli(['status'], { cwd })
    assert.equal(code, 2)
    assert.match(stderr, /^error: imo.config.json is not valid: /)
    assert.equal(stderr.trim().split('\n').length, 1)
  })
})
