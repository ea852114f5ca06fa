// Headless chromium for the tests of the status page (playwright-core drives
// the system's chromium; it downloads no browser of its own).
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { chromium, type Browser } from 'playwright-core'
import { REPO } from './processes.js'

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
export const ARTIFACTS = join(REPO, 'test', 'artifacts')

/** Launches headless chromium; a missing executable is a failure naming what to install, never a skip. */
export async function launchChromium (): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`chromium not found at ${CHROMIUM}: install it (Debian: apt-get install chromium; .ci/run does) or set CHROMIUM_PATH to a chromium executable`)
  }
  return await chromium.launch({ executablePath: CHROMIUM, headless: true, timeout: 60000 })
}

/** Where a test saves a screenshot (test/artifacts/NAME.png). */
export function artifact (name: string): string {
  mkdirSync(ARTIFACTS, { recursive: true })
  return join(ARTIFACTS, name)
}
