#!/usr/bin/env node
// vmq and vmq-admin: one oclif CLI, run from its bundle (scripts/bundle-cli.js).
import { execute } from '../dist/cli/index.js'

await execute({ dir: import.meta.url })
