import packageJson from '../package.json' with { type: 'json' }

/** imo's own version, from package.json (inlined by the bundler). */
export const version: string = packageJson.version
