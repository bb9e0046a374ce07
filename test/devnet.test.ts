import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { isProcessAlive } from '../src/util/isProcessAlive.js'
import { tempWorkdir } from './helpers/deployFixture.js'
import { cleanEnv, imoBin, runCli } from './helpers/runCli.js'

describe('imo devnet', () => {
  it('runs anvil, is the default chain and signer of other commands, and stops on Ctrl-C with exit 0', async () => {
    const work = tempWorkdir()
    const child = spawn(process.execPath, [imoBin, 'devnet', '--json'], {
      cwd: work.dir,
      env: cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => {
      stdout += chunk
    })
    child.stderr.on('data', (chunk) => {
      stderr += chunk
    })
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
    try {
      const deadline = Date.now() + 20_000
      while (!stdout.trim().endsWith('}') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50))
      const data = JSON.parse(stdout)
      assert.match(data.rpcUrl, /^http:\/\/127\.0\.0\.1:\d+$/)
      assert.equal(data.chainId, 31337)
      assert.equal(data.accounts[0].address, '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266')
      const file = JSON.parse(readFileSync(join(work.dir, '.imo', 'devnet.json'), 'utf8'))
      assert.equal(file.rpcUrl, data.rpcUrl)
      const deploy = await runCli(
        ['deploy', '--model', work.model, '--name', 'Dev', '--symbol', 'DEV', '--supply', '10', '--json'],
        { cwd: work.dir },
      )
      assert.equal(deploy.code, 0, deploy.stderr)
      assert.match(
        deploy.stderr,
        /using the devnet's first development account 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266 \(no signer configured\)/,
      )
      assert.equal(JSON.parse(deploy.stdout).parameters.owner, '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266')
      // A second devnet in the same folder would strand the first: refused, naming it.
      const second = await runCli(['devnet'], { cwd: work.dir })
      assert.equal(second.code, 2)
      assert.equal(
        second.stderr,
        `error: a devnet already runs for this folder at ${data.rpcUrl} (pid ${file.pid})\nhint: other commands use it as it is; to start afresh, stop it with \`kill ${file.pid}\`\n`,
      )
      child.kill('SIGINT')
      assert.equal(await exited, 0, stderr)
      assert.equal(existsSync(join(work.dir, '.imo', 'devnet.json')), false)
      const after = await runCli(['deploy', '--model', work.model, '--name', 'Dev', '--symbol', 'DEV', '--supply', '10'], {
        cwd: work.dir,
      })
      assert.equal(after.code, 2)
      assert.match(after.stderr, /no RPC URL/)
    } finally {
      child.kill('SIGKILL')
      work.cleanup()
    }
  })

  it('a malformed --port or --block-time is exit 2 naming the flag, with no node started', async () => {
    const work = tempWorkdir()
    try {
      const port = await runCli(['devnet', '--port', '0x10'], { cwd: work.dir })
      assert.equal(port.code, 2)
      assert.equal(port.stderr, 'error: --port must be a whole number, not "0x10"\n')
      const high = await runCli(['devnet', '--port', '70000'], { cwd: work.dir })
      assert.equal(high.code, 2)
      assert.equal(high.stderr, 'error: --port must be at most 65535\n')
      const blockTime = await runCli(['devnet', '--block-time', '1.5'], { cwd: work.dir })
      assert.equal(blockTime.code, 2)
      assert.equal(blockTime.stderr, 'error: --block-time must be a whole number, not "1.5"\n')
      assert.equal(existsSync(join(work.dir, '.imo', 'devnet.json')), false)
    } finally {
      work.cleanup()
    }
  })

  it('killed with SIGKILL, it takes its anvil down too (a watchdog sees the pipe close)', async () => {
    const work = tempWorkdir()
    const child = spawn(process.execPath, [imoBin, 'devnet', '--json'], {
      cwd: work.dir,
      env: cleanEnv(),
      stdio: ['ignore', 'pipe', 'ignore'],
    })
    let stdout = ''
    child.stdout.on('data', (chunk) => {
      stdout += chunk
    })
    let anvilPid = 0
    try {
      const deadline = Date.now() + 20_000
      while (!stdout.trim().endsWith('}') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50))
      anvilPid = JSON.parse(stdout).pid
      assert.ok(isProcessAlive(anvilPid))
      child.kill('SIGKILL')
      const gone = Date.now() + 10_000
      while (isProcessAlive(anvilPid) && Date.now() < gone) await new Promise((resolve) => setTimeout(resolve, 100))
      assert.equal(isProcessAlive(anvilPid), false, 'anvil outlived the devnet killed with SIGKILL')
    } finally {
      child.kill('SIGKILL')
      if (anvilPid && isProcessAlive(anvilPid)) process.kill(anvilPid, 'SIGKILL')
      work.cleanup()
    }
  })
})
