// Bundles the CLI with esbuild: one small entry chunk for start-up and lazily loaded chunks for the
// heavy capabilities (viem, onnxruntime glue), so `imo --help` stays close to `node -e 0`.
// Builds into a temporary folder and moves each file into dist/ by rename (entry last), so a CLI
// that is running while someone rebuilds never sees a half-written or missing dist/.

import { mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { build } from 'esbuild'

const temporary = `dist.tmp-${process.pid}`
rmSync(temporary, { recursive: true, force: true })
try {
  await build({
    entryPoints: { cli: 'src/cli.ts' },
    outdir: temporary,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: 'linked',
    // Native addon and the solc compiler stay as packages; everything else is bundled and tree-shaken.
    // bullmq and ioredis too: bullmq has no exports map, so bundling would take its CommonJS build.
    external: ['onnxruntime-node', 'solc', 'inquirer', '@inquirer/*', 'bullmq', 'ioredis'],
    banner: {
      js: "import { createRequire as __imoCreateRequire } from 'node:module'; const require = __imoCreateRequire(import.meta.url);",
    },
    logLevel: 'warning',
    legalComments: 'none',
  })
  mkdirSync('dist', { recursive: true })
  const built = readdirSync(temporary).sort((a, b) => Number(a.startsWith('cli.')) - Number(b.startsWith('cli.')))
  for (const file of built) renameSync(join(temporary, file), join('dist', file))
  // Chunks of earlier builds: dropped once they are old enough that no running CLI still needs them.
  const keep = new Set(built)
  for (const file of readdirSync('dist')) {
    if (!keep.has(file) && Date.now() - statSync(join('dist', file)).mtimeMs > 10 * 60_000) rmSync(join('dist', file))
  }
} finally {
  rmSync(temporary, { recursive: true, force: true })
}
