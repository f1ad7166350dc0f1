"""A small TL reader shared by the codegen vector scripts (`codegen_*_vectors.py`).

It is written for these tests and shares no code with the Rust generator (`codegen/`): it reads
TL lines with plain string splitting, and computes the generated selection (the patterns of a
binding in `xtask/src/bindings.rs`, plus the transitive closure of the types used) on its own.
"""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Constructors of these types map to Rust primitives and are never generated.
PRIMITIVE_TYPES = {"Bool", "True", "Vector"}
SCALARS = {"int", "long", "double", "int128", "int256", "bytes", "string", "Bool", "true"}


class TlType:
    """A type reference: `int`, `Vector<long>`, `flags.N?...` is in `Param`, `!X`, `%T`."""

    def __init__(self, text):
        self.text = text
        self.generic = text.startswith("!")
        text = text.lstrip("!")
        self.percent = text.startswith("%")
        text = text.lstrip("%")
        m = re.fullmatch(r"(\w+)<(.+)>", text)
        if m:
            self.name, self.arg = m.group(1), TlType(m.group(2))
        else:
            self.name, self.arg = text, None

    def refs(self):
        if not self.generic:
            yield self.name
        if self.arg:
            yield from self.arg.refs()

    def is_bare(self):
        return self.percent or self.name.split(".")[-1][:1].islower()


class Param:
    def __init__(self, name, text):
        self.name = name
        self.flags_word = text == "#"
        self.flag = None  # (word, bit)
        m = re.fullmatch(r"(\w+)\.(\d+)\?(.+)", text)
        if m:
            self.flag = (m.group(1), int(m.group(2)))
            text = m.group(3)
        self.type = None if self.flags_word else TlType(text)

    def is_true_flag(self):
        return self.flag is not None and self.type.text == "true"


class Definition:
    def __init__(self, name, cid, params, result, function):
        self.name, self.id, self.params, self.result, self.function = name, cid, params, result, function

    def fields(self):
        """The parameters that are values (not `#` words)."""
        return [p for p in self.params if not p.flags_word]


def parse(path):
    """Every declaration with an explicit `#id` in a TL file, in file order."""
    defs = []
    function = False
    for raw in Path(path).read_text().splitlines():
        line = raw.split("//", 1)[0].strip()
        if line == "---functions---":
            function = True
            continue
        if line == "---types---":
            function = False
            continue
        if "=" not in line or not line.endswith(";"):
            continue
        left, result = line[:-1].split("=", 1)
        tokens = left.split()
        m = re.fullmatch(r"([\w.]+)#([0-9a-f]+)", tokens[0])
        if not m or "[" in tokens:
            continue  # built-ins (`int ? = Int`, `vector ... # [ t ]`)
        params = []
        for tok in tokens[1:]:
            if tok.startswith("{"):
                continue  # {X:Type}
            name, text = tok.split(":", 1)
            params.append(Param(name, text))
        defs.append(Definition(m.group(1), int(m.group(2), 16), params, result.strip(), function))
    return defs


def binding_patterns(module):
    """(function patterns or None for all, type patterns) of a binding in xtask/src/bindings.rs."""
    text = (ROOT / "xtask/src/bindings.rs").read_text()
    block = text.split(f'module: "{module}"', 1)[1].split("Binding {", 1)[0]
    fm = re.search(r"functions:\s*(None|Some\(&\[(.*?)\]\))", block, re.S)
    tm = re.search(r"types:\s*&\[(.*?)\]", block, re.S)
    functions = None if fm.group(1) == "None" else re.findall(r'"([^"]+)"', fm.group(2))
    return functions, re.findall(r'"([^"]+)"', tm.group(1))


def matches(pattern, name):
    if pattern.endswith(".*"):
        return "." in name and name.rsplit(".", 1)[0] == pattern[:-2]
    return pattern == name


def select(defs, functions, types):
    """The generated definitions: the selected ones and every type they use, in file order."""
    cands = [d for d in defs if d.function or d.result not in PRIMITIVE_TYPES]
    if functions is None:
        return cands
    by_type, by_ctor = {}, {}
    for d in cands:
        if not d.function:
            by_type.setdefault(d.result, []).append(d)
            by_ctor[d.name] = d
    work = [d for d in cands if d.function and any(matches(p, d.name) for p in functions)]
    work += [
        d
        for d in cands
        if not d.function and any(matches(p, d.name) or matches(p, d.result) for p in types)
    ]
    chosen = set()
    while work:
        d = work.pop()
        if id(d) in chosen:
            continue
        chosen.add(id(d))
        refs = [r for p in d.fields() for r in p.type.refs()]
        if d.function:
            refs += list(TlType(d.result).refs())
        for r in refs:
            work += by_type.get(r, [])
            if r in by_ctor:
                work.append(by_ctor[r])
    return [d for d in cands if id(d) in chosen]


def heights(defs):
    """Smallest nesting a value of each constructor needs with flags unset and vectors empty."""
    ctors = [d for d in defs if not d.function]
    by_type = {}
    for d in ctors:
        by_type.setdefault(d.result, []).append(d)
    h = {}
    inf = 10**9

    def type_height(t):
        if t.generic or t.name in SCALARS or t.name in ("Vector", "vector"):
            return 0
        if t.name in h:
            return h[t.name]
        return min((h.get(c.name, inf) for c in by_type.get(t.name, [])), default=inf)

    changed = True
    while changed:
        changed = False
        for d in ctors:
            new = 1 + max([type_height(p.type) for p in d.fields() if p.flag is None] or [0])
            if new < h.get(d.name, inf):
                h[d.name] = new
                changed = True
    return h


def tl_bytes(data):
    """TL `bytes`/`string`: length prefix (1 byte, or 254 + 3 bytes), data, zero padding to 4."""
    if len(data) <= 253:
        head = bytes([len(data)])
    else:
        head = bytes([254]) + len(data).to_bytes(3, "little")
    body = head + data
    return body + b"\0" * (-len(body) % 4)
