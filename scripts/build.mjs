// Bundles the CLI with esbuild: one small entry chunk for start-up and lazily loaded chunks for the
// heavy capabilities (viem, onnxruntime glue), so `imo --help` stays close to `node -e 0`.

import { rmSync } from 'node:fs'
import { build } from 'esbuild'

rmSync('dist', { recursive: true, force: true })
await build({
  entryPoints: { cli: 'src/cli.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  // Native addon and the solc compiler stay as packages; everything else is bundled and tree-shaken.
  external: ['onnxruntime-node', 'solc', 'inquirer', '@inquirer/*'],
  banner: {
    js: "import { createRequire as __imoCreateRequire } from 'node:module'; const require = __imoCreateRequire(import.meta.url);",
  },
  logLevel: 'warning',
  legalComments: 'none',
})
