#!/usr/bin/env node
// vmq-passwd: the same CLI, always running its `passwd` command.
// oclif's check of its own engines field cannot find its package.json in the
// bundle; skipping it saves loading semver for nothing.
process.env.OCLIF_DISABLE_ENGINE_WARNING ??= '1'
const { execute } = await import('../dist/cli/index.js')

await execute({ dir: import.meta.url, args: ['passwd', ...process.argv.slice(2)] })
