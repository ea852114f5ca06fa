// One pino logger per process, configured from the log.* keys. Text format is
// one line per record: `<time> [<level>] <message> key=value ...`.
import { existsSync, mkdirSync, statSync } from 'node:fs'
import { dirname } from 'node:path'
import { spawn } from 'node:child_process'
import { Writable } from 'node:stream'
import pino, { type Logger, type StreamEntry, type DestinationStream } from 'pino'
import type { Settings } from '../config/settings.js'
import { LogFile } from './log-file.js'

export type { Logger }

/** VerneMQ (lager) level names -> pino levels. */
const LEVELS: Record<string, pino.LevelWithSilent> = {
  debug: 'debug', info: 'info', notice: 'info', warning: 'warn', error: 'error',
  critical: 'fatal', alert: 'fatal', emergency: 'fatal', none: 'silent'
}
const PINO_NAMES: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warning', 50: 'error', 60: 'critical' }
const SYSLOG_SEVERITY: Record<number, number> = { 10: 7, 20: 7, 30: 6, 40: 4, 50: 3, 60: 2 }
const SYSLOG_FACILITY: Record<string, number> = {
  kern: 0, user: 1, mail: 2, daemon: 3, auth: 4, syslog: 5, lpr: 6, news: 7, uucp: 8, cron: 9, authpriv: 10, ftp: 11,
  local0: 16, local1: 17, local2: 18, local3: 19, local4: 20, local5: 21, local6: 22, local7: 23
}
/** The local syslog socket; VMQ_SYSLOG_SOCKET names another (containers that mount it elsewhere, tests). */
export function syslogSocket (env: NodeJS.ProcessEnv = process.env): string {
  return env.VMQ_SYSLOG_SOCKET ?? '/dev/log'
}

export class LogSetupError extends Error {}

export function pinoLevel (level: string): pino.LevelWithSilent {
  return LEVELS[level] ?? 'info'
}

export function createLogger (settings: Settings): Logger {
  const level = pinoLevel(settings.string('log.console.level'))
  const streams: StreamEntry[] = []
  const add = (streamLevel: pino.LevelWithSilent, stream: DestinationStream): void => {
    if (streamLevel !== 'silent') streams.push({ level: streamLevel, stream })
  }
  const where = settings.string('log.console')
  if (where === 'console' || where === 'both') {
    add(level, formatted(process.stdout, settings.string('log.console.console.format')))
  }
  const files: LogFile[] = []
  if (where === 'file' || where === 'both') {
    const file = logFile(settings, 'log.console')
    files.push(file)
    add(level, formatted(file, settings.string('log.console.file.format')))
  }
  if (settings.flag('log.error')) {
    const file = logFile(settings, 'log.error')
    files.push(file)
    add('error', formatted(file, settings.string('log.error.file.format')))
  }
  reopenOnHangup(files)
  if (settings.flag('log.syslog')) {
    add(pinoLevel(settings.string('log.syslog.level')), syslogStream(settings))
  }
  const lowest = streams.length === 0 ? 'silent' : lowestLevel(streams)
  return pino({ level: lowest, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, pino.multistream(streams))
}

function logFile (settings: Settings, handler: 'log.console' | 'log.error'): LogFile {
  const path = settings.string(`${handler}.file`)
  try {
    mkdirSync(dirname(path), { recursive: true })
    return new LogFile(path, {
      size: settings.number(`${handler}.rotation.size`),
      keep: settings.number(`${handler}.rotation.keep`),
      compress: settings.flag(`${handler}.rotation.compress_on_rotate`)
    })
  } catch (err) {
    throw new LogSetupError(`${handler}.file = ${path}: cannot open the log file: ${(err as Error).message}`)
  }
}

let hangupFiles: LogFile[] = []

/** logrotate moves the files, then sends SIGHUP: write to the paths again (one handler per process). */
function reopenOnHangup (files: LogFile[]): void {
  if (hangupFiles.length === 0 && files.length > 0) {
    process.on('SIGHUP', () => {
      for (const file of hangupFiles) {
        try { file.reopen() } catch { /* the next write reports nothing either: a log must not stop the node */ }
      }
    })
  }
  hangupFiles = hangupFiles.concat(files)
}

/** Wraps a destination so that pino's JSON records are written as text lines when asked. */
function formatted (dest: DestinationStream | NodeJS.WritableStream, format: string): DestinationStream {
  if (format === 'json') return dest as DestinationStream
  return { write: (line: string) => { dest.write(textLine(line)) } }
}

export function textLine (json: string): string {
  let record: Record<string, unknown>
  try {
    record = JSON.parse(json)
  } catch {
    return json
  }
  const { time, level, msg, ...rest } = record
  const extras = Object.entries(rest).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
  return `${String(time)} [${PINO_NAMES[level as number] ?? String(level)}] ${String(msg ?? '')}${extras.length > 0 ? ' ' + extras.join(' ') : ''}\n`
}

/**
 * The local syslog socket is a datagram unix socket, which Node cannot open;
 * util-linux `logger` relays our lines to it, each with its own priority prefix.
 */
function syslogStream (settings: Settings): DestinationStream {
  const socket = syslogSocket()
  if (!existsSync(socket) || !statSync(socket).isSocket()) {
    throw new LogSetupError(`log.syslog = on but there is no syslog socket at ${socket}; start a syslog daemon or set log.syslog = off`)
  }
  const facility = SYSLOG_FACILITY[settings.string('log.syslog.facility')] ?? 3
  const child = spawn('logger', ['--prio-prefix', '--socket', socket, '-t', settings.string('log.syslog.ident')], { stdio: ['pipe', 'ignore', 'inherit'] })
  child.on('error', () => { /* reported once at startup through the missing socket check */ })
  child.unref()
  const input = child.stdin as Writable
  return {
    write: (json: string) => {
      const level = (JSON.parse(json) as { level: number }).level
      const pri = facility * 8 + (SYSLOG_SEVERITY[level] ?? 6)
      input.write(`<${pri}>${textLine(json).replace(/^\S+ /, '')}`)
    }
  }
}

function lowestLevel (streams: StreamEntry[]): pino.Level {
  const order: pino.Level[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal']
  return order[Math.min(...streams.map(s => order.indexOf(s.level as pino.Level)))]
}
