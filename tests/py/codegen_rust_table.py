#!/usr/bin/env python3
"""Writes the binding tables of `tests/src/tl_random.rs` (between the `BEGIN/END GENERATED TABLE` marks).

For each generated module of `auth-api` (api, mtproto, legacy_layer23) it lists every TL
definition with its Rust path, read from the doc comments of `auth-api/src/generated/*.rs`
(`/// TL constructor [`name`]`, `/// TL type ...`, `/// TL function ...`). The tests check
that the tables cover exactly what `tl_codegen` selects with `xtask/src/bindings.rs`, so a
stale table fails loudly; rerun `python3 tests/py/codegen_rust_table.py` after a codegen.

Usage: codegen_rust_table.py [--check]   (--check: exit 1 if the file is not up to date)
"""
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TARGET = ROOT / "tests/src/tl_random.rs"
BEGIN = "// BEGIN GENERATED TABLE (tests/py/codegen_rust_table.py)\n"
END = "// END GENERATED TABLE\n"

MODULES = [
    # (macro name, generated file, whether rows name the `grammers-tl-types` 0.11 item too)
    ("api_table", "auth-api/src/generated/api.rs", True),
    ("mtproto_table", "runtime/proto/src/generated/mtproto.rs", True),
    ("layer23_table", "auth-api/src/generated/legacy_layer23.rs", False),
]

# Where grammers-tl-types 0.11 names an item differently (its own case conversion); every
# other item has the same path below `grammers_tl_types::` as ours below the module.
GRAMMERS_NAMES = {
    "types::PasswordKdfAlgoSha256sha256pbkdf2hmacsha512iter100000Sha256ModPow":
        "types::PasswordKdfAlgoSha256Sha256Pbkdf2Hmacsha512iter100000Sha256ModPow",
    "types::SecurePasswordKdfAlgoPbkdf2hmacsha512iter100000":
        "types::SecurePasswordKdfAlgoPbkdf2Hmacsha512iter100000",
    "enums::JsonObjectValue": "enums::JsonobjectValue",
    "enums::JsonValue": "enums::Jsonvalue",
}

DOC = re.compile(r"^\s*/// TL (constructor|type|function) \[`([^`]+)`\]")
ITEM = re.compile(r"^\s*pub (struct|enum) (\w+)(<X>)?")
MOD_OPEN = re.compile(r"^(\s*)pub mod (\w+) \{$")


def entries(path):
    stack = []  # (indent, name)
    pending = None
    out = []
    for line in path.read_text().splitlines():
        m = MOD_OPEN.match(line)
        if m:
            stack.append((len(m.group(1)), m.group(2)))
            continue
        if stack and line.strip() == "}" and len(line) - 1 == stack[-1][0]:
            stack.pop()
            continue
        m = DOC.match(line)
        if m:
            pending = (m.group(1), m.group(2))
            continue
        m = ITEM.match(line)
        if m and pending:
            kind, name = pending
            pending = None
            rust = "::".join([n for _, n in stack] + [m.group(2)])
            tag = {"constructor": "ctor", "type": "ty", "function": "func"}[kind]
            if m.group(3):
                tag = "gfunc"
            out.append((tag, name, rust))
    return out


def render():
    text = BEGIN
    for macro, file, grammers in MODULES:
        rows = entries(ROOT / file)
        also = ", grammers::path" if grammers else ""
        text += (
            f"/// Every definition generated in `{file}`: calls\n"
            f"/// `$callback!` with `(kind, \"tl.name\", path::below::the::module{also})` rows;\n"
            "/// `kind` is `ctor` (bare struct), `ty` (boxed enum), `func` (function) or `gfunc`\n"
            "/// (generic function)"
            + (", and the last path is the `grammers_tl_types` item.\n" if grammers else ".\n")
            + "#[macro_export]\n"
            f"macro_rules! {macro} {{\n"
            "    ($callback:ident) => {\n"
            "        $callback! {\n"
        )
        for tag, name, rust in rows:
            if grammers:
                theirs = GRAMMERS_NAMES.get(rust, rust)
                text += f'            ({tag}, "{name}", {rust}, {theirs}),\n'
            else:
                text += f'            ({tag}, "{name}", {rust}),\n'
        text += "        }\n    };\n}\n"
    return text + END


def main():
    src = TARGET.read_text()
    start = src.index(BEGIN)
    end = src.index(END) + len(END)
    new = src[:start] + render() + src[end:]
    if "--check" in sys.argv[1:]:
        sys.exit(0 if new == src else 1)
    TARGET.write_text(new)


if __name__ == "__main__":
    main()
