// mtcute 0.30.3 (npm, layer 227) as a real client against our loopback `TestServer`.
//
// Usage: node mtcute_client.mjs --port N --transport T --api-id N --api-hash H --phone P
//                               --code C --wrong-code W --logout-token HEX [--timeout SECONDS]
//        stdin: JSON {"pem": "<PKCS#1 PEM of the server key>", "probes": {"name": "hex", ...}}
//
// T is one of `intermediate`, `padded` (padded intermediate), `obfuscated` (obfuscated2
// around intermediate) and `obfuscated-padded` (obfuscated2 around padded intermediate):
// every codec mtcute has for TCP.
//
// Trusts the given key (`addPublicKey`; the server offers only its fingerprint), points
// DC 2 at 127.0.0.1:N (`defaultDcs`), keeps the session in memory (`MemoryStorage`: the
// SQLite storage's native module is never loaded, so it need not be built), disables
// updates (every call goes inside `invokeWithoutUpdates`) and reconnection, and makes raw
// calls with `BaseTelegramClient.call`. Prints one JSON object per step on stdout; `hex` is
// mtcute re-serializing what it parsed (its layer-227 writers), so the caller can compare
// it with what the server sent. Any unexpected failure is an exception: exit status 1 with
// the stack on stderr. Missing packages: exit status 2 and a hint. Set
// `MTCUTE_CLIENT_LOG=debug` (or `verbose`) to see mtcute's own log on stderr.
//
// Steps: versions, connect (`tg.connect()`; the auth key is not in the storage yet when it
// returns), help.getNearestDc (the first call, so it goes inside
// invokeWithLayer + initConnection), session (the auth key id and salt mtcute ended up with),
// help.getConfig, auth.sendCode (with the logout token given as hex, which makes mtcute
// gzip it), auth.signIn with the wrong code (expects mtcute's `RpcError`
// PHONE_CODE_INVALID), auth.signIn with the right code, a call the server does not
// implement (help.getCdnConfig), the offline probes (each hex string read with mtcute's own
// layer-227 reader), log (mtcute's `gzipped ...` debug lines, which tell the requests it
// sent as gzip_packed, the framing of its packer, and its warnings), disconnect.

import { readFileSync } from 'node:fs'
import { createHash } from 'node:crypto'
import { parseArgs } from 'node:util'

const WANTED_VERSION = '0.30.3'

function fail(message) {
    process.stderr.write(`mtcute_client.mjs: ${message}; run \`cargo xtask js-setup\` (or \`cargo xtask test\`)\n`)
    process.exit(2)
}

let mtcute, utils, runtime
try {
    mtcute = await import('@mtcute/node')
    utils = await import('@mtcute/core/utils.js')
    runtime = await import('@mtcute/tl-runtime')
} catch (e) {
    fail(`the mtcute packages are not installed in tests/js/node_modules (${e.message})`)
}
const {
    BaseTelegramClient,
    MemoryStorage,
    TcpTransport,
    IntermediatePacketCodec,
    PaddedIntermediatePacketCodec,
    ObfuscatedPacketCodec,
    tl,
} = mtcute
const { addPublicKey, LogManager, __tlReaderMap, __tlWriterMap } = utils
const { TlBinaryReader, TlBinaryWriter } = runtime

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
        transport: { type: 'string' },
        'api-id': { type: 'string' },
        'api-hash': { type: 'string' },
        phone: { type: 'string' },
        code: { type: 'string' },
        'wrong-code': { type: 'string' },
        'logout-token': { type: 'string' },
        timeout: { type: 'string', default: '60' },
    },
    strict: true,
})
const REQUIRED = ['port', 'transport', 'api-id', 'api-hash', 'phone', 'code', 'wrong-code', 'logout-token']
for (const name of REQUIRED) {
    if (args[name] === undefined) throw new Error(`--${name} is required`)
}
if (!(args.transport in CODECS)) throw new Error(`unknown --transport ${args.transport}`)
const port = Number(args.port)
const apiId = Number(args['api-id'])

function emit(step, fields = {}) {
    process.stdout.write(`${JSON.stringify({ step, ...fields })}\n`)
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

function reserialize(object) {
    return Buffer.from(TlBinaryWriter.serializeObject(__tlWriterMap, object)).toString('hex')
}

function errorFields(error) {
    return {
        error: error.constructor.name,
        is_rpc_error: tl.RpcError.is(error),
        code: error.code,
        text: error.text,
        message: error.message,
    }
}

// mtcute's log: kept (the caller looks at the `gzipped` lines and the warnings), and shown
// on stderr when asked.
const LEVELS = { error: 1, warn: 2, info: 3, debug: 4, verbose: 5 }
const shownLevel = LEVELS[process.env.MTCUTE_CLIENT_LOG ?? 'warn'] ?? LEVELS.warn
const gzipped = []
const warnings = []
function onLog(_color, level, tag, fmt, logArgs) {
    if (fmt.includes('gzipped %s')) {
        const [method, from, to] = logArgs
        gzipped.push({ method, from, to })
    }
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

    const dc = { id: 2, ipAddress: '127.0.0.1', port }
    const tg = new BaseTelegramClient({
        apiId,
        apiHash: args['api-hash'],
        storage: new MemoryStorage(),
        transport: new LoopbackTransport(),
        defaultDcs: { main: dc, media: dc },
        disableUpdates: true,
        reconnectionStrategy: () => false,
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
    // Our key only; mtcute's own table also has Telegram's keys, which the server never offers.
    addPublicKey(tg.mt.crypto, input.pem)

    await tg.connect()
    emit('connect', { connected: tg.isConnected })

    const nearest = await tg.call({ _: 'help.getNearestDc' })
    emit('get_nearest_dc', { object: plain(nearest), hex: reserialize(nearest) })

    // mtcute internals (0.30.3): the key in the storage (written once the key exchange is
    // done), the current salt of the primary DC.
    const key = await tg.mt.storage.provider.authKeys.get(dc.id)
    const keyId = createHash('sha1').update(key).digest().readBigInt64LE(12)
    emit('session', {
        auth_key_id: keyId.toString(),
        auth_key_len: key.length,
        salt: tg.mt.network._primaryDc._salts.currentSalt.toString(),
    })

    const config = await tg.call({ _: 'help.getConfig' })
    emit('get_config', {
        this_dc: config.thisDc,
        test_mode: config.testMode,
        dc_options: config.dcOptions.map((o) => [o.id, o.ipAddress, o.port, Boolean(o.ipv6)]),
        me_url_prefix: config.meUrlPrefix,
        hex: reserialize(config),
    })

    const sent = await tg.call({
        _: 'auth.sendCode',
        phoneNumber: args.phone,
        apiId,
        apiHash: args['api-hash'],
        // A compressible logout token makes the request long enough (over 128 bytes) for
        // mtcute to send it as gzip_packed.
        settings: { _: 'codeSettings', logoutTokens: [Buffer.from(args['logout-token'], 'hex')] },
    })
    emit('send_code', { object: plain(sent), hex: reserialize(sent) })

    try {
        await tg.call({
            _: 'auth.signIn',
            phoneNumber: args.phone,
            phoneCodeHash: sent.phoneCodeHash,
            phoneCode: args['wrong-code'],
        })
        throw new Error('auth.signIn with the wrong code did not fail')
    } catch (e) {
        if (!tl.RpcError.is(e)) throw e
        emit('sign_in_wrong_code', { ...errorFields(e), is_phone_code_invalid: e.is('PHONE_CODE_INVALID') })
    }

    const authorization = await tg.call({
        _: 'auth.signIn',
        phoneNumber: args.phone,
        phoneCodeHash: sent.phoneCodeHash,
        phoneCode: args.code,
    })
    emit('sign_in', { object: plain(authorization), hex: reserialize(authorization) })

    try {
        await tg.call({ _: 'help.getCdnConfig' })
        throw new Error('help.getCdnConfig got an answer')
    } catch (e) {
        if (!tl.RpcError.is(e)) throw e
        emit('unsupported_call', errorFields(e))
    }

    // Offline: our bytes read with mtcute's reader, no network involved.
    for (const [name, hex] of Object.entries(input.probes ?? {})) {
        try {
            const object = TlBinaryReader.deserializeObject(__tlReaderMap, Buffer.from(hex, 'hex'))
            emit('probe', { name, ok: true, object: plain(object), hex: reserialize(object) })
        } catch (e) {
            emit('probe', { name, ok: false, error: e.constructor.name, message: e.message })
        }
    }

    // The framing of mtcute's "gzip" (the first two bytes of what it packs): `1f8b` is gzip,
    // `78..` zlib.
    const packed = tg.mt.crypto.gzip(new Uint8Array(1024), 1024)
    const framing = Buffer.from(packed.subarray(0, 2)).toString('hex')

    await tg.destroy()
    emit('log', { gzipped, framing, warnings })
    emit('disconnect', { connected: tg.isConnected })
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
