#!/usr/bin/env node
// vmq and vmq-admin: one oclif CLI.
import { execute } from '@oclif/core'

await execute({ dir: import.meta.url })
