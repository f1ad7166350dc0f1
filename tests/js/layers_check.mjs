// mtcute 0.30.3's own layer-227 reader and writer as an oracle for test-dc's layer transcoder
// (tests/dc/tests/layers.rs), offline.
//
// Usage: node layers_check.mjs HEX...
//
// Reads each HEX as one boxed object with mtcute's TlBinaryReader (its layer-227 reader map),
// then writes it back with its TlBinaryWriter. Prints one JSON line per argument:
//   {"ok": true, "layer": 227, "name": "auth.authorization", "user": {"name": "user",
//    "id": "...", "first_name": "..."} | null, "consumed": N, "hex": "<re-serialized>"}
// or {"ok": false, "layer": 227, "error": "<class>", "message": "..."} when mtcute cannot read it.
// `consumed` is how many bytes the reader used. Missing or wrong packages: exit status 2 and
// a hint.

import { readFileSync } from 'node:fs'

const WANTED_VERSION = '0.30.3'

function fail(message) {
    process.stderr.write(`layers_check.mjs: ${message}; run \`cargo xtask js-setup\`\n`)
    process.exit(2)
}

let utils, runtime, innerTl
try {
    utils = await import('@mtcute/core/utils.js')
    runtime = await import('@mtcute/tl-runtime')
    // Not exported by the package: read by path to report the layer of the reader map.
    innerTl = await import(new URL('./node_modules/@mtcute/core/tl/inner-tl.js', import.meta.url))
} catch (e) {
    fail(`the mtcute packages are not installed in tests/js/node_modules (${e.message})`)
}
for (const pkg of ['@mtcute/core', '@mtcute/tl-runtime']) {
    const url = new URL(`./node_modules/${pkg}/package.json`, import.meta.url)
    const version = JSON.parse(readFileSync(url, 'utf8')).version
    if (version !== WANTED_VERSION) {
        fail(`${pkg} ${version} is installed, the test needs ${WANTED_VERSION}`)
    }
}
const { __tlReaderMap, __tlWriterMap } = utils
const { TlBinaryReader, TlBinaryWriter } = runtime
const layer = innerTl.LAYER

for (const hex of process.argv.slice(2)) {
    try {
        const reader = new TlBinaryReader(__tlReaderMap, Buffer.from(hex, 'hex'))
        const object = reader.object()
        const user = object.user
            ? { name: object.user._, id: String(object.user.id), first_name: object.user.firstName ?? null }
            : null
        const written = TlBinaryWriter.serializeObject(__tlWriterMap, object)
        console.log(JSON.stringify({
            ok: true,
            layer,
            name: object._,
            user,
            consumed: reader.pos,
            hex: Buffer.from(written).toString('hex'),
        }))
    } catch (e) {
        console.log(JSON.stringify({ ok: false, layer, error: e.constructor.name, message: e.message }))
    }
}
