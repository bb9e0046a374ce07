import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { maskQueueUrl, parseQueueUrl, resolveQueueUrl } from './connectRedis.js'

/** A long password and one too short for the redaction list: neither may appear in any message. */
const PASSWORDS = ['Sup3rS3cretPw', 'Zq9']

/**
 * 6 schemes x 6 ways to give credentials x 9 hosts = 324 `--queue` forms, valid and broken (issue 21
 * item 7: 40 of 144 forms printed the password: port 99999, no host, `redis//`, broken IPv6
 * brackets, a password given as the user name).
 */
function forms(password: string): string[] {
  const schemes = ['redis://', 'rediss://', 'redis//', 'redis:', 'http://', '']
  const credentials = [
    `:${password}@`,
    `user:${password}@`,
    `${password}@`,
    `:${password}@@`,
    `:${password}%zz@`,
    `:${password}:x@`,
  ]
  const hosts = [
    '10.0.0.5:6379/0',
    '10.0.0.5:99999/0',
    '/0',
    '[::1]:6379/0',
    '[::1:6379/0',
    '::1]:6379/0',
    'host:6379/db',
    'host:6379/0?x=1',
    'host:-1',
  ]
  return schemes.flatMap((scheme) => credentials.flatMap((cred) => hosts.map((host) => `${scheme}${cred}${host}`)))
}

const folder = mkdtempSync(join(tmpdir(), 'imo-queue-url-'))
after(() => rmSync(folder, { recursive: true, force: true }))

describe('parseQueueUrl', () => {
  it('never quotes the password, in the error of a URL that does not parse nor in the display of one that does', () => {
    let refused = 0
    for (const password of PASSWORDS)
      for (const url of forms(password)) {
        let text: string
        try {
          text = parseQueueUrl(url).display
        } catch (error) {
          refused++
          text = (error as Error).message
        }
        assert.ok(!text.includes(password), `${url} -> ${text}`)
      }
    assert.ok(refused > 300, `${refused} refused`) // most forms are broken on purpose
  })

  it('shows what it can: host, port and database, the user name beside a hidden password', () => {
    assert.equal(parseQueueUrl('rediss://worker:p%40ss@redis.example:6380/3').display, 'rediss://worker:***@redis.example:6380/3')
    assert.equal(parseQueueUrl('redis://Sup3rS3cretPw@10.0.0.5:6379/0').display, 'redis://***@10.0.0.5:6379/0')
    assert.equal(maskQueueUrl('redis://:Secret@[::1:6379/0'), 'redis://***@[::1:6379/0')
    assert.equal(maskQueueUrl('redis//:Secret@host'), '***@host')
    assert.throws(() => parseQueueUrl('redis://:pw@10.0.0.5:99999/0'), {
      message: '--queue "redis://***@10.0.0.5:99999/0" is not a URL: use redis://HOST:PORT/DB (rediss:// for TLS)',
    })
  })
})

describe('resolveQueueUrl', () => {
  it('warns about a password on the command line only', async () => {
    const warnings: string[] = []
    const warn = (message: string) => warnings.push(message)
    await resolveQueueUrl({ queue: 'redis://:Sup3rS3cretPw@10.0.0.5:6379/0' }, { source: 'env', warn })
    await resolveQueueUrl({ queue: 'redis://10.0.0.5:6379/0' }, { source: 'cli', warn })
    assert.deepEqual(warnings, [])
    await resolveQueueUrl({ queue: 'redis://:Sup3rS3cretPw@10.0.0.5:6379/0' }, { source: 'cli', warn })
    assert.match(warnings[0]!, /^a Redis password on the command line is visible to other users/)
  })

  it('puts the password of --queue-password-file in, refuses it twice or without --queue', async () => {
    const file = join(folder, 'password')
    writeFileSync(file, 'p@ss word\n')
    assert.equal(
      await resolveQueueUrl({ queue: 'redis://10.0.0.5:6379/2', queuePasswordFile: file }),
      'redis://:p%40ss%20word@10.0.0.5:6379/2',
    )
    assert.equal(
      parseQueueUrl((await resolveQueueUrl({ queue: 'redis://10.0.0.5/2', queuePasswordFile: file }))!).password,
      'p@ss word',
    )
    await assert.rejects(resolveQueueUrl({ queue: 'redis://:other@10.0.0.5/2', queuePasswordFile: file }), /pass it once/)
    await assert.rejects(resolveQueueUrl({ queuePasswordFile: file }), /needs --queue/)
    await assert.rejects(resolveQueueUrl({ queue: 'redis://h/0', queuePasswordFile: '/dev/null' }), /not a regular file/)
  })
})
