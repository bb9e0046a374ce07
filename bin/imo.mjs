#!/usr/bin/env node
// The old name of the entry, kept for scripts that call it: bin/imo.cjs is the entry (package.json "bin").
import { createRequire } from 'node:module'

createRequire(import.meta.url)('./imo.cjs').run()
