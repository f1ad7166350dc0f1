#!/usr/bin/env python3
"""Byte vectors of the generated layer-23 bindings, encoded from Telegram's JSON schema.

Writes `tests/vectors/legacy_layer23.json` (with `--write`; prints it otherwise), which
`tests/tests/codegen_telethon.rs` reads. This is an independent implementation: it reads
`schema/json/api-layer23.json` (Telegram's JSON form, decimal signed ids), not
`schema/legacy/layer23.tl` (which the project's importer generated from that JSON), recomputes
the selection of the `legacy_layer23` binding (the 12 functions listed in
`xtask/src/bindings.rs` and the types they use) with `codegen_tl.select`, and serializes with
the small TL encoder below (`int`/`long` little-endian, `string`/`bytes` with the TL length
prefix and padding, `Bool`, boxed `Vector`, boxed objects written as id + fields). Layer 23
has no `#` flags.

For every generated definition, four vectors with deterministic values (`random.Random`
seeded by name and variant); within one vector every int/long, string and bytes value is
distinct. "dict" has the same form as in `telethon_api.json`: `{"_": TL name, field: value}`,
bytes as `{"bytes": hex}`.

Usage: codegen_legacy_vectors.py [--write]
"""
import json
import random
import struct
import sys

import codegen_tl as tl

SOURCE = tl.ROOT / "schema/json/api-layer23.json"
OUT = tl.ROOT / "tests/vectors/legacy_layer23.json"
VARIANTS = ["seed-1", "seed-2", "seed-3", "seed-4"]
MAX_DEPTH = 3
GENERIC = "auth.sendCode"  # the request written for `!X` fields (the Rust decoders use the same)
VECTOR_ID = 0x1CB5C415
BOOL = {True: 0x997275B5, False: 0xBC799737}
POOL = "aZ0 +\"\\'\0\n\téßЖж漢😀\u0301\u200b\U0010ffff"


def load():
    """Definitions from the JSON schema (ids are signed decimal there)."""
    doc = json.loads(SOURCE.read_text())
    defs = []
    for c in doc["constructors"]:
        params = [tl.Param(p["name"], p["type"]) for p in c["params"]]
        defs.append(tl.Definition(c["predicate"], int(c["id"]) & 0xFFFFFFFF, params, c["type"], False))
    for m in doc["methods"]:
        params = [tl.Param(p["name"], p["type"]) for p in m["params"]]
        defs.append(tl.Definition(m["method"], int(m["id"]) & 0xFFFFFFFF, params, m["type"], True))
    return defs


class Filler:
    def __init__(self, schema, seed):
        self.s = schema
        self.rng = random.Random(seed)
        self.used = set()

    def unique(self, make):
        while True:
            v = make()
            if v not in self.used:
                self.used.add(v)
                return v

    def number(self, bits):
        lo, hi = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
        r = self.rng
        return self.unique(lambda: r.choice([0, -1, lo, hi, r.randint(1, 10**4), r.randint(lo, hi)]))

    def length(self):
        r = self.rng
        return r.choice([0, r.randint(1, 12), r.randint(13, 80), 253, 254, r.randint(250, 260), r.randint(300, 600)])

    def value(self, t, depth):
        n, r = t.name, self.rng
        if t.generic:
            return self.build(self.s["by_name"][GENERIC], depth + 1)
        if n == "int":
            return self.number(32)
        if n == "long":
            return self.number(64)
        if n == "double":
            return self.unique(lambda: r.uniform(-1e9, 1e9))
        if n == "string":
            def make():
                out, size = "", self.length()
                while len(out.encode()) < size:
                    out += r.choice(POOL) if r.random() < 0.5 else chr(r.randint(0x21, 0x7E))
                return out

            return self.unique(make)
        if n == "bytes":
            return {"bytes": self.unique(lambda: bytes(r.getrandbits(8) for _ in range(self.length()))).hex()}
        if n == "Bool":
            return r.random() < 0.5
        if n == "Vector":
            count = 0 if depth > MAX_DEPTH else r.randint(0, 3)
            return [self.value(t.arg, depth + 1) for _ in range(count)]
        cands = self.s["by_type"][n]
        if depth >= MAX_DEPTH:
            low = min(self.s["height"][c.name] for c in cands)
            cands = [c for c in cands if self.s["height"][c.name] == low]
        return self.build(r.choice(cands), depth + 1)

    def build(self, d, depth):
        out = {"_": d.name}
        for p in d.fields():
            out[p.name] = self.value(p.type, depth)
        return out


def encode_object(schema, obj):
    """A boxed object (or function call): the id, then the fields."""
    d = schema["by_name"][obj["_"]]
    out = struct.pack("<I", d.id)
    for p in d.fields():
        out += encode(schema, p.type, obj[p.name])
    return out


def encode(schema, t, v):
    n = t.name
    if t.generic:
        return encode_object(schema, v)
    if n == "int":
        return struct.pack("<i", v)
    if n == "long":
        return struct.pack("<q", v)
    if n == "double":
        return struct.pack("<d", v)
    if n == "string":
        return tl.tl_bytes(v.encode())
    if n == "bytes":
        return tl.tl_bytes(bytes.fromhex(v["bytes"]))
    if n == "Bool":
        return struct.pack("<I", BOOL[v])
    if n == "Vector":
        return struct.pack("<Ii", VECTOR_ID, len(v)) + b"".join(encode(schema, t.arg, x) for x in v)
    return encode_object(schema, v)


def main():
    defs = load()
    generated = tl.select(defs, *tl.binding_patterns("legacy_layer23"))
    schema = {"by_name": {d.name: d for d in generated}, "by_type": {}, "height": tl.heights(generated)}
    for d in generated:
        if not d.function:
            schema["by_type"].setdefault(d.result, []).append(d)
    vectors = []
    for d in generated:
        for variant in VARIANTS:
            obj = Filler(schema, f"{d.name}/{variant}").build(d, 0)
            vectors.append(
                {
                    "name": d.name,
                    "kind": "function" if d.function else "constructor",
                    "boxed_type": None if d.function else d.result,
                    "variant": variant,
                    "id": f"{d.id:#010x}",
                    "hex": encode_object(schema, obj).hex(),
                    "dict": obj,
                }
            )
    doc = {
        "generator": "tests/py/codegen_legacy_vectors.py",
        "schema": "schema/json/api-layer23.json",
        "skipped": [],
        "vectors": vectors,
    }
    text = json.dumps(doc, indent=1, ensure_ascii=True) + "\n"
    if "--write" in sys.argv[1:]:
        OUT.write_text(text)
        print(f"{len(vectors)} vectors", file=sys.stderr)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
