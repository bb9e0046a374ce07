import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { UsageError } from '../errors.js'
import { checkPtau, describePtau } from './checkPtau.js'
import { findPublishedPtau, PUBLISHED_PTAU } from './publishedPtau.js'
import { writeInsecurePtau } from './writeInsecurePtau.js'

let dir: string
let ptau: string
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'imo-ptau-'))
  ptau = join(dir, 'insecure-4.ptau')
  await writeInsecurePtau(ptau, 4)
})
after(() => rmSync(dir, { recursive: true, force: true }))

describe('checkPtau', () => {
  it('refuses a file that is not a published ceremony file, unless insecure is allowed', async () => {
    await assert.rejects(checkPtau(ptau), (error: unknown) => {
      assert.ok(error instanceof UsageError)
      assert.match(
        error.message,
        /^unknown powers-of-tau file .*insecure-4\.ptau \(blake2b-512 [0-9a-f]{16}…\): .*pass --insecure-ptau/,
      )
      return true
    })
    const info = await checkPtau(ptau, { allowInsecure: true })
    assert.equal(info.power, 4)
    assert.equal(info.published, undefined)
    assert.equal(info.blake2b512, createHash('blake2b512').update(readFileSync(ptau)).digest('hex'))
    assert.match(describePtau(info), /^INSECURE ptau /)
  })

  it('refuses a file smaller than the circuit needs, naming the file to use', async () => {
    await assert.rejects(
      checkPtau(ptau, { allowInsecure: true, neededPower: 5 }),
      /holds 2\^4 powers, the circuit needs 2\^5: use powersOfTau28_hez_final_05\.ptau or a larger one/,
    )
  })

  it('refuses files that are not ptau files', async () => {
    const text = join(dir, 'text.ptau')
    writeFileSync(text, 'not a ptau file at all')
    await assert.rejects(checkPtau(text, { allowInsecure: true }), /is not a powers-of-tau \(\.ptau\) file: no "ptau" magic/)
    const truncated = join(dir, 'truncated.ptau')
    writeFileSync(truncated, readFileSync(ptau).subarray(0, 200))
    await assert.rejects(checkPtau(truncated, { allowInsecure: true }), /section \d+ runs past the end/)
    await assert.rejects(checkPtau(join(dir, 'missing.ptau')), /cannot read the powers-of-tau file .*: no such file/)
  })

  it('knows the published Hermez files by digest, not by name', () => {
    assert.equal(PUBLISHED_PTAU.length, 21)
    const fifteen = findPublishedPtau(
      '982372C867D229C236091F767E703253249A9B432C1710B4F326306BFA2428A17B06240359606CFE4D580B10A5A1F63FBED499527069C18AE17060472969AE6E',
    )
    assert.deepEqual(fifteen, {
      power: 15,
      name: 'powersOfTau28_hez_final_15.ptau',
      blake2b512:
        '982372c867d229c236091f767e703253249a9b432c1710b4f326306bfa2428a17b06240359606cfe4d580b10a5a1f63fbed499527069c18ae17060472969ae6e',
    })
    assert.equal(findPublishedPtau('00'.repeat(64)), undefined)
    assert.equal(PUBLISHED_PTAU.at(-1)!.name, 'powersOfTau28_hez_final.ptau')
    assert.equal(new Set(PUBLISHED_PTAU.map((p) => p.blake2b512)).size, 21)
  })

  it('the insecure file is the same bytes on every run', async () => {
    const again = join(dir, 'again.ptau')
    await writeInsecurePtau(again, 4)
    assert.deepEqual(readFileSync(again), readFileSync(ptau))
  })
})
