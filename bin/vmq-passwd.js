#!/usr/bin/env node
// vmq-passwd: the same CLI, always running its `passwd` command.
import { execute } from '../dist/cli/index.js'

await execute({ dir: import.meta.url, args: ['passwd', ...process.argv.slice(2)] })
