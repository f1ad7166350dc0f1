#!/usr/bin/env python3
"""Byte vectors of the generated layer-230 `api` bindings, serialized by Telethon 1.45 (layer 229).

Writes `tests/vectors/telethon_api.json` (with `--write`; prints it otherwise), which
`tests/tests/codegen_telethon.rs` reads. Nothing here comes from the Rust code: the schema is
read by `codegen_tl.py` (a small TL reader of its own), the selection of generated definitions
is recomputed from the patterns of the `api` binding in `xtask/src/bindings.rs`, and the bytes
are Telethon's own `bytes(obj)`.

For every generated definition (all of `auth.*`, and the other functions and constructors of
the binding) whose constructor id Telethon 1.45 knows, four vectors are made: flags `none`
(every optional field absent), `all` (every optional field present) and two `random` ones.
Values are deterministic (`random.Random` seeded with the name and variant) and, within one
vector, every int/long, string and bytes value is distinct, so a decoder that swapped two
fields of the same type would be caught. Strings mix ASCII, controls, 2/3/4-byte characters;
lengths hit the 253/254 boundary of the TL length prefix and go up to 600 bytes.

"dict" is what the Telethon object holds, read back attribute by attribute in TL field order
and keyed by TL names (not `to_dict()`, which drops constructor identity): `"_"` is the TL name
of the object's `CONSTRUCTOR_ID`; `bytes` are `{"bytes": hex}`; a `flags.N?true` field is a
bool; an absent optional field is null.

Definitions left out (listed in "skipped" with the reason): constructor ids unknown to
Telethon 1.45 (changed or new in layer 230), and definitions whose layer-230 fields Telethon
cannot express. Where layer 230 only added optional fields to a constructor whose id did not
change (`username`), vectors are made with those fields absent ("absent_in_229").

Usage: codegen_telethon_vectors.py [--write]
"""
import inspect
import json
import keyword
import random
import sys

import telethon
from telethon.tl.alltlobjects import LAYER, tlobjects
from telethon.tl.tlobject import TLObject

import codegen_tl as tl

OUT = tl.ROOT / "tests/vectors/telethon_api.json"
GENERIC = "auth.sendCode"  # the request written for `!X` fields (the Rust test uses the same)
MAX_DEPTH = 3
VARIANTS = ["none", "all", "random-1", "random-2"]

POOL = (
    "aZ0 +\"\\'\0\n\t\x7féßЖжמא漢字ー😀🇺𝄞\u0301\u200b\u202e\ufeff\ufffd\U0010ffff"
)


class Skip(Exception):
    pass


def py_name(name):
    """Telethon's argument name for a TL field."""
    if name == "self":
        return "is_self"
    return name + "_" if keyword.iskeyword(name) else name


class Schema:
    def __init__(self):
        defs = tl.parse(tl.ROOT / "schema/api.tl")
        self.generated = tl.select(defs, *tl.binding_patterns("api"))
        self.height = tl.heights(self.generated)
        self.ctors = {d.name: d for d in self.generated if not d.function}
        self.funcs = {d.name: d for d in self.generated if d.function}
        self.by_id = {d.id: d for d in self.generated}
        self.by_type = {}
        for d in self.generated:
            if not d.function:
                self.by_type.setdefault(d.result, []).append(d)
        self.support = {d.name: self.telethon_support(d) for d in self.generated}

    def telethon_support(self, d):
        """(class, fields forced absent) or the reason Telethon cannot build `d`."""
        cls = tlobjects.get(d.id)
        if cls is None:
            return f"id {d.id:#010x} is not in Telethon {telethon.__version__} (layer {LAYER}): changed or new in layer 230"
        if not d.fields():
            return (cls, [])
        sig = {
            n: p
            for n, p in inspect.signature(cls.__init__).parameters.items()
            if n != "self"
        }
        ours = {py_name(p.name) for p in d.fields()}
        absent = []
        for p in d.fields():
            if py_name(p.name) not in sig:
                if p.flag is None:
                    return f"required field `{p.name}` of layer 230 is not in Telethon's class"
                absent.append(p.name)
        for n, sp in sig.items():
            if n not in ours and sp.default is inspect.Parameter.empty:
                return f"Telethon's class requires `{n}`, which layer 230 does not have"
        return (cls, absent)

    def usable(self, name):
        return not isinstance(self.support[name], str)


class Filler:
    """Deterministic field values for one vector."""

    def __init__(self, schema, seed, mode):
        self.s = schema
        self.rng = random.Random(seed)
        self.mode = mode
        self.used = set()

    def unique(self, make):
        for _ in range(1000):
            v = make()
            if v not in self.used:
                self.used.add(v)
                return v
        raise RuntimeError("cannot find a distinct value")

    def int_in(self, bits):
        lo, hi = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
        edges = [0, -1, 1, lo, hi, lo + 1, hi - 1]
        r = self.rng
        return self.unique(
            lambda: r.choice(edges) if r.random() < 0.3 else r.choice(
                [r.randint(2, 10**4), r.randint(lo, hi)]
            )
        )

    def length(self):
        r = self.rng
        return r.choice(
            [0, r.randint(1, 12), r.randint(1, 12), r.randint(13, 100), 253, 254, r.randint(250, 260), r.randint(300, 600)]
        )

    def text(self):
        def make():
            n = self.length()
            out = ""
            while len(out.encode()) < n:
                out += self.rng.choice(POOL) if self.rng.random() < 0.5 else chr(self.rng.randint(0x21, 0x7E))
            return out

        return self.unique(make)

    def data(self):
        return self.unique(lambda: bytes(self.rng.getrandbits(8) for _ in range(self.length())))

    def double(self):
        return self.unique(
            lambda: self.rng.choice([0.5, -0.0, 1e300, -2.5e-300, 5e-324, self.rng.uniform(-1e9, 1e9)])
        )

    def present(self, depth):
        if depth > MAX_DEPTH or self.mode == "none":
            return False
        return True if self.mode == "all" else self.rng.random() < 0.5

    def count(self, depth):
        if depth > MAX_DEPTH:
            return 0
        return self.rng.randint(1, 3) if self.mode == "all" else self.rng.randint(0, 3)

    def value(self, t, depth):
        n = t.name
        if t.generic:
            return self.build(self.s.funcs[GENERIC], depth + 1)
        if n == "int":
            return self.int_in(32)
        if n == "long":
            return self.int_in(64)
        if n == "double":
            return self.double()
        if n == "string":
            return self.text()
        if n == "bytes":
            return self.data()
        if n == "Bool":
            return self.rng.random() < 0.5
        if n in ("Vector", "vector"):
            return [self.value(t.arg, depth + 1) for _ in range(self.count(depth))]
        if t.is_bare():
            raise Skip(f"bare type {t.text}")
        cands = [c for c in self.s.by_type.get(n, []) if self.s.usable(c.name)]
        if not cands:
            raise Skip(f"no constructor of {n} that Telethon can build")
        if depth >= MAX_DEPTH:
            low = min(self.s.height[c.name] for c in cands)
            cands = [c for c in cands if self.s.height[c.name] == low]
        return self.build(self.rng.choice(cands), depth + 1)

    def build(self, d, depth):
        support = self.s.support[d.name]
        if isinstance(support, str):
            raise Skip(support)
        cls, absent = support
        on = {}
        for p in d.fields():
            if p.flag is not None and p.flag not in on:
                on[p.flag] = self.present(depth)
        # A bit is only set if every field on it can be set (fields Telethon lacks stay absent).
        for p in d.fields():
            if p.name in absent:
                on[p.flag] = False
        kwargs = {}
        for p in d.fields():
            if p.name in absent:
                continue
            if p.flag is not None and not on[p.flag]:
                kwargs[py_name(p.name)] = None
            elif p.is_true_flag():
                kwargs[py_name(p.name)] = True
            else:
                kwargs[py_name(p.name)] = self.value(p.type, depth)
        return cls(**kwargs)


def to_json(schema, obj):
    d = schema.by_id[type(obj).CONSTRUCTOR_ID]
    out = {"_": d.name}
    for p in d.fields():
        v = getattr(obj, py_name(p.name), None)
        out[p.name] = bool(v) if p.is_true_flag() else convert(schema, v)
    return out


def convert(schema, v):
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if isinstance(v, bytes):
        return {"bytes": v.hex()}
    if isinstance(v, list):
        return [convert(schema, x) for x in v]
    if isinstance(v, TLObject):
        return to_json(schema, v)
    raise TypeError(f"unexpected value {v!r}")


def main():
    schema = Schema()
    vectors, skipped = [], []
    for d in schema.generated:
        try:
            made = []
            for variant in VARIANTS:
                obj = Filler(schema, f"{d.name}/{variant}", variant).build(d, 0)
                support = schema.support[d.name]
                entry = {
                    "name": d.name,
                    "kind": "function" if d.function else "constructor",
                    "boxed_type": None if d.function else d.result,
                    "variant": variant,
                    "id": f"{d.id:#010x}",
                    "hex": bytes(obj).hex(),
                    "dict": to_json(schema, obj),
                }
                if support[1]:
                    entry["absent_in_229"] = support[1]
                made.append(entry)
            vectors += made
        except Skip as e:
            skipped.append({"name": d.name, "reason": str(e)})
    doc = {
        "generator": "tests/py/codegen_telethon_vectors.py",
        "telethon": telethon.__version__,
        "telethon_layer": LAYER,
        "schema": "schema/api.tl",
        "generic_query": GENERIC,
        "skipped": skipped,
        "vectors": vectors,
    }
    text = json.dumps(doc, indent=1, ensure_ascii=True) + "\n"
    if "--write" in sys.argv[1:]:
        OUT.parent.mkdir(parents=True, exist_ok=True)
        OUT.write_text(text)
        print(f"{len(vectors)} vectors, {len(skipped)} skipped", file=sys.stderr)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
