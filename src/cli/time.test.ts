import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { formatDuration, formatLocalIso, formatRelative, formatWhen, parseTime } from './time.js'

describe('formatDuration', () => {
  it('uses at most two units, dropping a zero second unit', () => {
    assert.equal(formatDuration(0), '0 s')
    assert.equal(formatDuration(42), '42 s')
    assert.equal(formatDuration(60), '1 min')
    assert.equal(formatDuration(303), '5 min 3 s')
    assert.equal(formatDuration(11_520), '3 h 12 min')
    assert.equal(formatDuration(11_521), '3 h 12 min')
    assert.equal(formatDuration(3600 + 59), '1 h')
    assert.equal(formatDuration(86_400 * 3 + 3600 * 4 + 5), '3 d 4 h')
    assert.equal(formatDuration(-90), '1 min 30 s')
  })
})

describe('formatRelative', () => {
  it('says in / ago / now', () => {
    assert.equal(formatRelative(1_700_000_600, 1_700_000_000), 'in 10 min')
    assert.equal(formatRelative(1_700_000_000, 1_700_000_061), '1 min 1 s ago')
    assert.equal(formatRelative(5, 5), 'now')
  })
})

describe('formatLocalIso', () => {
  it('prints the local time with its UTC offset', () => {
    const saved = process.env.TZ
    try {
      process.env.TZ = 'UTC'
      assert.equal(formatLocalIso(1_700_000_000), '2023-11-14T22:13:20+00:00')
      assert.equal(formatWhen(1_700_000_600, 1_700_000_000), '2023-11-14T22:23:20+00:00 (in 10 min)')
      process.env.TZ = 'Asia/Kolkata'
      assert.equal(formatLocalIso(1_700_000_000), '2023-11-15T03:43:20+05:30')
      process.env.TZ = 'America/New_York'
      assert.equal(formatLocalIso(1_700_000_000), '2023-11-14T17:13:20-05:00')
    } finally {
      if (saved === undefined) delete process.env.TZ
      else process.env.TZ = saved
    }
  })
})

describe('parseTime', () => {
  it('takes now, relative offsets and ISO 8601', async () => {
    assert.equal(await parseTime('now', 1_700_000_000, '--start'), 1_700_000_000)
    assert.equal(await parseTime('+90s', 1_700_000_000, '--start'), 1_700_000_090)
    assert.equal(await parseTime('+30m', 1_700_000_000, '--start'), 1_700_001_800)
    assert.equal(await parseTime('+2h', 1_700_000_000, '--start'), 1_700_007_200)
    assert.equal(await parseTime('+1d', 1_700_000_000, '--start'), 1_700_086_400)
    assert.equal(await parseTime('2026-06-01T14:00:00Z', 0, '--start'), 1_780_322_400)
    assert.equal(await parseTime('2026-06-01T16:00:00+02:00', 0, '--start'), 1_780_322_400)
  })
  it('names the flag on bad input', async () => {
    await assert.rejects(parseTime('tomorrow', 0, '--end'), /--end must be an ISO 8601 date-time .* not "tomorrow"/)
    await assert.rejects(parseTime('+2 weeks', 0, '--end'), /--end must be/)
  })
})
