#!/usr/bin/env node
// Regenerates the configuration table of README.md from src/config/schema.ts.
import { readFileSync, writeFileSync } from 'node:fs'
import { withConfigTable } from '../dist/src/config/docs.js'

const path = new URL('../README.md', import.meta.url)
writeFileSync(path, withConfigTable(readFileSync(path, 'utf8')))
