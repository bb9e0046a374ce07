#!/usr/bin/env node
// Thin entry: everything lives in the bundled CLI that `npm run build` writes to dist/.
import('../dist/cli.js').then(
  ({ main }) => main(),
  (error) => {
    if (error?.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('cli.js')) {
      process.stderr.write('error: imo is not built yet; run `npm ci` (or `npm run build`) in its folder\n')
      process.exit(1)
    }
    throw error
  },
)
