#!/usr/bin/env node
// Bundles the CLI into dist/cli/ (npm run build, after tsc): a CLI call then
// reads a few files instead of resolving and reading hundreds of modules.
//
// - dist/cli/index.js exports the CLI's execute (src/cli/execute.ts, for bin/run.js and
//   bin/vmq-passwd.js) and COMMANDS, which oclif's "explicit" command
//   discovery reads: command id -> class, generated from the compiled files in
//   dist/src/commands/ with the ids oclif's "pattern" discovery gives them, so
//   a new command file is picked up by the next build.
// - What a command loads with import() (the broker for `vmq start`, gRPC for
//   the admin commands) is split into chunks loaded only then; the build fails
//   if the command list itself pulls in such a package (checkEagerImports).
// - Only the packages in BUNDLED are inlined; every other package is imported
//   from node_modules as before (native modules, workers and files a package
//   finds at run time stay where they are).
import { build } from 'esbuild'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { isBuiltin } from 'node:module'
import { join, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const COMMANDS_DIR = join(ROOT, 'dist', 'src', 'commands')
const OUT = join(ROOT, 'dist', 'cli')
const GENERATED = join(ROOT, 'dist', 'cli-entry')
/** The CLI's execute (oclif's run, with our exit code for an unknown command). */
const EXECUTE = join(ROOT, 'dist', 'src', 'cli', 'execute.js')

/** What every CLI call or an admin command loads; the broker's packages are not here. */
const BUNDLED = ['@oclif/core', '@grpc/grpc-js', 'protobufjs', 'cli-table3', '@inquirer/prompts', 'bcryptjs']

/** Packages a bundled package requires only inside a function we never call (grpc-js: channelz and ORCA load proto-loader): left out. */
const LAZY_EXTERNAL = ['@grpc/proto-loader']

/** Worker thread files our code starts with new URL('./name.js', import.meta.url): an entry of their own, next to the chunks. */
const WORKERS = { 'bcrypt-worker': join(ROOT, 'dist', 'src', 'passwd', 'bcrypt-worker.js') }

function commandFiles (dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap(entry => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return commandFiles(path)
    return entry.name.endsWith('.js') && !/\.(test|spec)\.js$/.test(entry.name) ? [path] : []
  }).sort()
}

/** The id oclif gives a command file: its path below commands/ with ':' between the parts, index naming its directory. */
function commandId (file) {
  const parts = relative(COMMANDS_DIR, file).replace(/\.js$/, '').split(sep)
  if (parts.at(-1) === 'index') parts.pop()
  return parts.join(':')
}

function writeEntries () {
  rmSync(GENERATED, { recursive: true, force: true })
  mkdirSync(GENERATED, { recursive: true })
  const files = commandFiles(COMMANDS_DIR)
  if (files.length === 0) throw new Error(`no compiled commands in ${COMMANDS_DIR}: run tsc first`)
  const imports = files.map((file, i) => `import C${i} from ${JSON.stringify(relative(GENERATED, file).split(sep).join('/'))}`)
  const entries = files.map((file, i) => `  ${JSON.stringify(commandId(file))}: C${i}`)
  writeFileSync(join(GENERATED, 'index.js'), [
    `export { execute } from ${JSON.stringify(relative(GENERATED, EXECUTE).split(sep).join('/'))}`, ...imports, '', `export const COMMANDS = {\n${entries.join(',\n')}\n}`, ''
  ].join('\n'))
}

/** A bare import from our own code stays external unless its package is in BUNDLED; packages' own imports follow their package, except LAZY_EXTERNAL. */
const externalPackages = {
  name: 'external-packages',
  setup (b) {
    b.onResolve({ filter: /^[^./]/ }, args => {
      if (args.path.startsWith('node:') || args.kind === 'entry-point') return undefined
      const name = args.path.startsWith('@') ? args.path.split('/').slice(0, 2).join('/') : args.path.split('/')[0]
      if (LAZY_EXTERNAL.includes(name)) return { path: args.path, external: true }
      if (args.importer.includes(`${sep}node_modules${sep}`)) return undefined
      return BUNDLED.includes(name) ? undefined : { path: args.path, external: true }
    })
  }
}

/** The package of a bare specifier or of a path in node_modules. */
function packageOf (specifierOrPath) {
  const rest = specifierOrPath.split('node_modules/').at(-1)
  const match = /^(?:@[^/]+\/)?[^/.][^/]*/.exec(rest)
  return match === null ? undefined : match[0]
}

/**
 * What dist/cli/index.js loads before any command runs (its static imports,
 * transitively) may not hold a package bundled for some commands only (all of
 * BUNDLED but oclif) nor import one from node_modules: every CLI call would pay
 * for it. A command imports those with import() in run().
 */
function checkEagerImports (metafile) {
  const outputs = metafile.outputs
  const eager = new Set()
  const visit = file => {
    if (eager.has(file)) return
    eager.add(file)
    for (const i of outputs[file].imports) if (i.kind === 'import-statement' && !i.external) visit(i.path)
  }
  visit('dist/cli/index.js')
  const inputs = [...eager].flatMap(file => Object.keys(outputs[file].inputs))
  const problems = new Set()
  for (const input of inputs) {
    if (input.includes('node_modules/')) continue
    for (const i of metafile.inputs[input]?.imports ?? []) {
      if (i.kind !== 'import-statement') continue
      const name = packageOf(i.external ? i.path : i.path.includes('node_modules/') ? i.path : '')
      if (name === undefined || isBuiltin(i.original ?? i.path)) continue
      if (i.external || name !== '@oclif/core') problems.add(`${input} imports ${name}`)
    }
  }
  if (problems.size > 0) {
    throw new Error(`loaded on every CLI call (dist/cli/index.js), make these import() where they are used:\n  ${[...problems].join('\n  ')}`)
  }
}

/** Every new URL('…', import.meta.url) left in the bundle must name a file next to it. */
function checkRelativeUrls () {
  const pattern = /new URL\(\s*["'`]([^"'`]+)["'`]\s*,\s*import\.meta\.url\s*\)/g
  for (const name of readdirSync(OUT).filter(n => n.endsWith('.js'))) {
    for (const [, target] of readFileSync(join(OUT, name), 'utf8').matchAll(pattern)) {
      if (!existsSync(join(OUT, target))) throw new Error(`dist/cli/${name} refers to ${target} relative to itself, which the bundle does not have: make it an entry (WORKERS) or import it`)
    }
  }
}

writeEntries()
rmSync(OUT, { recursive: true, force: true })
const result = await build({
  absWorkingDir: ROOT,
  entryPoints: { index: join(GENERATED, 'index.js'), ...WORKERS },
  outdir: OUT,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  chunkNames: 'chunk-[hash]',
  sourcemap: 'linked',
  metafile: true,
  logLevel: 'warning',
  // the bundled CommonJS packages call require() for Node's modules
  banner: { js: "import { createRequire as __vmqCreateRequire } from 'node:module'; const require = __vmqCreateRequire(import.meta.url);" },
  plugins: [externalPackages]
})
checkEagerImports(result.metafile)
checkRelativeUrls()
rmSync(GENERATED, { recursive: true, force: true })
