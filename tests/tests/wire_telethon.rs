//! Telethon 1.45.0 as an independent oracle: its writer must produce our bytes, and its
//! reader must read ours back, for random `bytes`, `string`, `long`, `int128`, vectors of
//! `Bool` and `gzip_packed`.
//!
//! Runs the oracle Python of `project_tests` (`.venv`, made by `cargo xtask py-setup`). A
//! missing interpreter is a failure, never a skip.

use project_tests::Oracle;
use tl_wire::{gzip, Deserialize, Reader, Serialize};

/// Reads one request per line on stdin and answers one line per request on stdout.
const SCRIPT: &str = r#"
import json, sys
from telethon.extensions import BinaryReader
from telethon.tl.core import GzipPacked
from telethon.tl.tlobject import TLObject

for line in sys.stdin:
    kind, *args = line.rstrip("\n").split(" ")
    raw = [bytes.fromhex(a) for a in args]
    if kind == "B":  # value, ours
        value, ours = raw
        back = BinaryReader(ours).tgread_bytes()
        out = [TLObject.serialize_bytes(value).hex(), back.hex()]
    elif kind == "S":
        value, ours = raw
        back = BinaryReader(ours).tgread_string()
        out = [TLObject.serialize_bytes(value.decode("utf-8")).hex(), back.encode("utf-8").hex()]
    elif kind == "L":
        out = [str(BinaryReader(raw[0]).read_long())]
    elif kind == "I":
        out = [str(BinaryReader(raw[0]).read_large_int(128, signed=False))]
    elif kind == "V":
        out = [json.dumps(BinaryReader(raw[0]).tgread_object(), separators=(",", ":"))]
    elif kind == "G":  # body, our gzip_packed of it
        body, ours = raw
        out = [bytes(GzipPacked(body)).hex(), GzipPacked.read(BinaryReader(ours)).hex()]
    else:
        raise SystemExit("unknown request " + kind)
    print(" ".join(out) or "-", flush=True)
"#;

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// SplitMix64: deterministic, so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }

    fn string(&mut self, chars: usize) -> String {
        const POOL: &[char] = &[
            'a',
            'Z',
            '0',
            ' ',
            '\0',
            'é',
            'ß',
            'Ж',
            '€',
            '中',
            '😀',
            '\u{10ffff}',
        ];
        (0..chars).map(|_| POOL[self.below(POOL.len())]).collect()
    }
}

/// Lengths at and around every boundary of the encoding, plus random ones.
fn lengths(rng: &mut Rng) -> Vec<usize> {
    let mut v = vec![
        0, 1, 2, 3, 4, 5, 251, 252, 253, 254, 255, 256, 257, 300, 1000, 65535, 65536, 70001,
    ];
    v.extend((0..150).map(|_| rng.below(700)));
    v
}

fn bools_json(v: &[Vec<bool>]) -> String {
    let inner: Vec<String> = v
        .iter()
        .map(|row| {
            let items: Vec<&str> = row
                .iter()
                .map(|b| if *b { "true" } else { "false" })
                .collect();
            format!("[{}]", items.join(","))
        })
        .collect();
    format!("[{}]", inner.join(","))
}

/// A request line for the script and a check of its answer.
type Case = (String, Box<dyn Fn(&[&str])>);

fn cases() -> Vec<Case> {
    let mut rng = Rng(0x7e1e_7409);
    let mut cases: Vec<Case> = Vec::new();
    for len in lengths(&mut rng) {
        let value = rng.bytes(len);
        let ours = value.to_bytes();
        let line = format!("B {} {}", hex(&value), hex(&ours));
        cases.push((
            line,
            Box::new(move |out| {
                assert_eq!(
                    out[0],
                    hex(&ours),
                    "Telethon writes {len} bytes differently"
                );
                assert_eq!(
                    out[1],
                    hex(&value),
                    "Telethon reads our {len} bytes differently"
                );
            }),
        ));
    }
    for len in lengths(&mut rng) {
        // Up to 4 bytes per char: the byte length crosses 253/254 as well.
        let value = rng.string(len / 2);
        let ours = value.to_bytes();
        let line = format!("S {} {}", hex(value.as_bytes()), hex(&ours));
        cases.push((
            line,
            Box::new(move |out| {
                assert_eq!(out[0], hex(&ours), "Telethon writes {value:?} differently");
                assert_eq!(
                    out[1],
                    hex(value.as_bytes()),
                    "Telethon reads {value:?} differently"
                );
                assert_eq!(String::from_bytes(&unhex(out[0])).unwrap(), value);
            }),
        ));
    }
    for _ in 0..50 {
        let long = rng.next() as i64;
        let n128: [u8; 16] = rng.bytes(16).try_into().unwrap();
        let (l, i) = (long.to_bytes(), n128.to_bytes());
        cases.push((
            format!("L {}", hex(&l)),
            Box::new(move |out| assert_eq!(out[0], long.to_string())),
        ));
        cases.push((
            format!("I {}", hex(&i)),
            Box::new(move |out| assert_eq!(out[0], u128::from_le_bytes(n128).to_string())),
        ));
    }
    for _ in 0..30 {
        let rows = rng.below(4);
        let value: Vec<Vec<bool>> = (0..rows)
            .map(|_| (0..rng.below(5)).map(|_| rng.next() & 1 == 1).collect())
            .collect();
        let line = format!("V {}", hex(&value.to_bytes()));
        cases.push((
            line,
            Box::new(move |out| assert_eq!(out[0], bools_json(&value))),
        ));
    }
    for _ in 0..20 {
        let strings: Vec<String> = (0..rng.below(60))
            .map(|_| {
                let chars = rng.below(40);
                rng.string(chars)
            })
            .collect();
        let body = strings.to_bytes();
        let ours = gzip::pack(&body);
        let line = format!("G {} {}", hex(&body), hex(&ours));
        cases.push((
            line,
            Box::new(move |out| {
                let theirs = unhex(out[0]);
                assert_eq!(Vec::<String>::from_bytes(&theirs).unwrap(), strings);
                // Also through read_boxed directly: the inflated object, id included.
                let inflated = Reader::new(&theirs)
                    .read_boxed(|id, r| {
                        let mut v = id.to_le_bytes().to_vec();
                        v.extend_from_slice(r.read_rest());
                        Ok(v)
                    })
                    .unwrap();
                assert_eq!(inflated, body);
                assert_eq!(out[1], hex(&body), "Telethon cannot unpack our gzip_packed");
            }),
        ));
    }
    cases
}

#[test]
fn telethon_agrees() {
    let cases = cases();
    let mut oracle = Oracle::start(SCRIPT);
    for (line, check) in &cases {
        let request: Vec<String> = line.split(' ').map(str::to_owned).collect();
        let answer = oracle.ask(&request);
        let fields: Vec<&str> = answer.iter().map(String::as_str).collect();
        check(&fields);
    }
}
