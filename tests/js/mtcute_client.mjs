// mtcute 0.30.3 (npm, layer 227) logging in with its high-level `TelegramClient.start()`
// against the test DC (`test_dc::TestDc`).
//
// Usage: node mtcute_client.mjs --port N --dc D --transport T --api-id N --api-hash H
//                               --phone P --code C [--wrong-code W]
//                               [--password S] [--wrong-password S] [--updates]
//                               [--timeout SECONDS]
//        stdin: JSON {"pem": "<PKCS#1 PEM of the server key>"}
//
// T is one of `intermediate`, `padded` (padded intermediate), `obfuscated` (obfuscated2
// around intermediate) and `obfuscated-padded` (obfuscated2 around padded intermediate):
// every codec mtcute has for TCP.
//
// Trusts the given key (`addPublicKey`; the server offers only its fingerprint), makes DC D
// at 127.0.0.1:N mtcute's primary DC (`defaultDcs`), keeps the session in memory
// (`MemoryStorage`: the SQLite storage's native module is never loaded). Updates are off
// (`disableUpdates`) unless `--updates` is given. mtcute keeps its default reconnection:
// with updates off, a login makes it reset its sessions, which closes the connection and
// opens a new one.
//
// Then `tg.start({ phone, code, password, ... })`, mtcute's whole login: `getMe` first
// (refused: the key is new), `auth.sendCode`, `auth.signIn`, and for an account with a
// password `account.getPassword` + `auth.checkPassword` (mtcute's SRP). `code` and
// `password` are callbacks: with `--wrong-code` (`--wrong-password`) the first call answers
// that, the next ones the right value, so `start` meets the server's refusal and asks again.
// After `start`, `tg.getMe()`.
//
// With `--updates`, the login starts mtcute's updates loop (`updates.getState`, then
// `updates.getDifference`) beside `getMe`; the script waits for its first getDifference to
// be answered before it reports the calls.
//
// Prints one JSON object per step on stdout, each with `ms` since the start: versions,
// code_sent (the `codeSentCallback`), start (the user `start` returned), session (mtcute's
// auth key id and current salt), get_me, calls (every request made through the client's
// `call`, with its outcome: the result's constructor or the RPC error), callbacks (each
// call of code/password/invalidCodeCallback, in order), log (mtcute's warnings and errors,
// and the errors it reported through `onError`), disconnect. Users are given as the high-level
// fields and mtcute's parsed TL object (`raw`): the server answered in layer 227 if mtcute
// could read it at all. Any unexpected failure is an exception: exit status 1 with the stack
// on stderr. Missing packages: exit status 2 and a hint. Set `MTCUTE_CLIENT_LOG=debug` (or
// `verbose`) to see mtcute's own log on stderr.

import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'

const WANTED_VERSION = '0.30.3'

function fail(message) {
    process.stderr.write(`mtcute_client.mjs: ${message}; run \`cargo xtask js-setup\` (or \`cargo xtask test\`)\n`)
    process.exit(2)
}

let mtcute, utils
try {
    mtcute = await import('@mtcute/node')
    utils = await import('@mtcute/core/utils.js')
} catch (e) {
    fail(`the mtcute packages are not installed in tests/js/node_modules (${e.message})`)
}
const {
    TelegramClient,
    MemoryStorage,
    TcpTransport,
    IntermediatePacketCodec,
    PaddedIntermediatePacketCodec,
    ObfuscatedPacketCodec,
    tl,
} = mtcute
const { addPublicKey, LogManager } = utils

const installed = {}
for (const pkg of ['@mtcute/core', '@mtcute/node', '@mtcute/tl-runtime']) {
    const url = new URL(`./node_modules/${pkg}/package.json`, import.meta.url)
    installed[pkg] = JSON.parse(readFileSync(url, 'utf8')).version
    if (installed[pkg] !== WANTED_VERSION) {
        fail(`${pkg} ${installed[pkg]} is installed, the test needs ${WANTED_VERSION}`)
    }
}

const CODECS = {
    intermediate: () => new IntermediatePacketCodec(),
    padded: () => new PaddedIntermediatePacketCodec(),
    obfuscated: () => new ObfuscatedPacketCodec(new IntermediatePacketCodec()),
    'obfuscated-padded': () => new ObfuscatedPacketCodec(new PaddedIntermediatePacketCodec()),
}

const { values: args } = parseArgs({
    options: {
        port: { type: 'string' },
        dc: { type: 'string' },
        transport: { type: 'string' },
        'api-id': { type: 'string' },
        'api-hash': { type: 'string' },
        phone: { type: 'string' },
        code: { type: 'string' },
        'wrong-code': { type: 'string' },
        password: { type: 'string' },
        'wrong-password': { type: 'string' },
        updates: { type: 'boolean', default: false },
        timeout: { type: 'string', default: '60' },
    },
    strict: true,
})
for (const name of ['port', 'dc', 'transport', 'api-id', 'api-hash', 'phone', 'code']) {
    if (args[name] === undefined) throw new Error(`--${name} is required`)
}
if (!(args.transport in CODECS)) throw new Error(`unknown --transport ${args.transport}`)
const port = Number(args.port)
const dcId = Number(args.dc)
const apiId = Number(args['api-id'])

const started = Date.now()
function emit(step, fields = {}) {
    process.stdout.write(`${JSON.stringify({ step, ms: Date.now() - started, ...fields })}\n`)
}

// mtcute objects as JSON: `Long` as a decimal string, bytes as hex.
function plain(value) {
    if (value === null || value === undefined) return value
    if (typeof value === 'bigint') return value.toString()
    if (value instanceof Uint8Array) return Buffer.from(value).toString('hex')
    if (typeof value === 'object' && value.__isLong__) return value.toString()
    if (Array.isArray(value)) return value.map(plain)
    if (typeof value === 'object') {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]))
    }
    return value
}

// A high-level `User`: its accessors, and the TL object mtcute parsed.
function userFields(user) {
    return {
        id: user.id,
        is_self: user.isSelf,
        first_name: user.firstName,
        last_name: user.lastName,
        username: user.username,
        phone: user.phoneNumber,
        raw: plain(user.raw),
    }
}

// mtcute's log: warnings and errors kept (none are expected), everything shown on stderr
// when asked.
const LEVELS = { error: 1, warn: 2, info: 3, debug: 4, verbose: 5 }
const shownLevel = LEVELS[process.env.MTCUTE_CLIENT_LOG ?? 'warn'] ?? LEVELS.warn
const warnings = []
function onLog(_color, level, tag, fmt, logArgs) {
    const text = `${tag} ${fmt} ${JSON.stringify(plain(logArgs))}`
    if (level <= LEVELS.warn) warnings.push(text)
    if (level <= shownLevel) process.stderr.write(`[mtcute ${level}] ${text}\n`)
}

class LoopbackTransport extends TcpTransport {
    packetCodec() {
        return CODECS[args.transport]()
    }
}

async function main(input) {
    emit('versions', { mtcute: installed, layer: tl.LAYER, node: process.versions.node })

    const dc = { id: dcId, ipAddress: '127.0.0.1', port }
    const tg = new TelegramClient({
        apiId,
        apiHash: args['api-hash'],
        storage: new MemoryStorage(),
        transport: new LoopbackTransport(),
        defaultDcs: { main: dc, media: dc },
        disableUpdates: !args.updates,
        initConnectionOptions: {
            deviceModel: 'interop-test',
            systemVersion: 'loopback',
            appVersion: '0.1',
            systemLangCode: 'en-US',
            langPack: '',
            langCode: 'en',
        },
    })
    tg.log.mgr.level = LogManager.DEBUG
    tg.log.mgr.handler = onLog
    const reported = []
    tg.onError.add((e) => reported.push(`${e?.constructor?.name}: ${e?.message ?? e}`))
    // Our key only; mtcute's own table also has Telegram's keys, which the server never offers.
    addPublicKey(tg._client.mt.crypto, input.pem)

    // Every request of the high-level layer (`start` and its helpers call the base client's
    // `call`), with what came back.
    const calls = []
    const settled = []
    const base = tg._client
    const call = base.call.bind(base)
    base.call = (message, params) => {
        const entry = { method: message._ }
        calls.push(entry)
        const outcome = call(message, params).then(
            (result) => {
                entry.result = Array.isArray(result) ? result.map((r) => r?._) : result?._ ?? result
                return result
            },
            (e) => {
                entry.error = e.constructor.name
                entry.is_rpc_error = tl.RpcError.is(e)
                entry.code = e.code
                entry.text = e.text
                throw e
            },
        )
        settled.push(outcome.then(() => entry, () => entry))
        return outcome
    }

    // The callbacks `start` calls, in order.
    const callbacks = []
    let codes = 0
    let passwords = 0
    const me = await tg.start({
        phone: args.phone,
        code: async () => {
            codes += 1
            const wrong = codes === 1 && args['wrong-code'] !== undefined
            callbacks.push({ callback: 'code', wrong })
            return wrong ? args['wrong-code'] : args.code
        },
        password: async () => {
            passwords += 1
            if (args.password === undefined) throw new Error('mtcute asked for a password')
            const wrong = passwords === 1 && args['wrong-password'] !== undefined
            callbacks.push({ callback: 'password', wrong })
            return wrong ? args['wrong-password'] : args.password
        },
        codeSentCallback: async (sent) => {
            callbacks.push({ callback: 'code_sent' })
            emit('code_sent', {
                type: sent.type,
                length: sent.length,
                timeout: sent.timeout,
                phone_code_hash: sent.phoneCodeHash,
                next_type: sent.nextType,
            })
        },
        invalidCodeCallback: async (kind) => {
            callbacks.push({ callback: 'invalid', kind })
        },
    })
    emit('start', { user: userFields(me) })

    // mtcute internals (0.30.3): the key in the storage, the current salt of the primary DC.
    const key = await base.mt.storage.provider.authKeys.get(dcId)
    emit('session', {
        auth_key_id: createHash('sha1').update(key).digest().readBigInt64LE(12).toString(),
        auth_key_len: key.length,
        salt: base.mt.network._primaryDc._salts.currentSalt.toString(),
    })

    const again = await tg.getMe()
    emit('get_me', { user: userFields(again) })

    // With updates on, the login started mtcute's updates loop beside `getMe`: wait (at most
    // 20 s) until its first `updates.getDifference` has its answer, so that every call it
    // made is reported with its outcome.
    if (args.updates) {
        const deadline = Date.now() + 20_000
        for (;;) {
            await Promise.all(settled)
            const done = calls.some(
                (c) => c.method === 'updates.getDifference' && ('result' in c || 'error' in c),
            )
            if (done || Date.now() > deadline) break
            await new Promise((resolve) => setTimeout(resolve, 50))
        }
    }

    emit('calls', { calls })
    emit('callbacks', { callbacks })

    await tg.destroy()
    emit('log', { warnings, reported })
    emit('disconnect', { connected: tg._client.isConnected })
}

const input = JSON.parse(readFileSync(0, 'utf8'))
const timer = setTimeout(() => {
    process.stderr.write(`mtcute_client.mjs: no result within ${args.timeout} s\n`)
    process.exit(3)
}, Number(args.timeout) * 1000)
try {
    await main(input)
} catch (e) {
    process.stderr.write(`mtcute_client.mjs (${args.transport}): ${e?.stack ?? e}\n`)
    process.exit(1)
}
clearTimeout(timer)
// mtcute may keep timers alive after close: end here.
process.exit(0)
