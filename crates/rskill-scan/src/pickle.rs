//! Reading a pickle stream without executing it: a small, bounded walker over the
//! documented opcodes (protocols 0–5, `pickletools`' table) that keeps a symbolic
//! stack just precise enough to name every global the stream imports — `GLOBAL`,
//! `INST`, and `STACK_GLOBAL` when its two arguments are constant strings (anything
//! else is reported as a dynamic import). Nothing is built: large payloads are skipped
//! as they are read, so memory stays bounded on any input. Several pickles in one
//! stream (what `pickle.load` called in a loop reads) are walked one after the other.
//!
//! No crate on crates.io exposes pickle opcodes: `serde-pickle` and `pickled` build
//! values (whole tensors in memory) and keep their opcode tables private, and their
//! object hooks see constructed instances, not every import. Hence this walker; the
//! policy on what it finds lives in [`crate::policy`].

use std::collections::HashMap;
use std::io::{self, BufRead, Read};
use std::rc::Rc;

/// Longest text line an opcode may carry (`GLOBAL`'s module, `INT`'s digits, …).
const MAX_LINE: usize = 64 * 1024;
/// Longest string kept as a possible `STACK_GLOBAL` argument; longer ones are skipped.
const MAX_KEPT_STRING: u64 = 1024;
/// Deepest symbolic stack and largest memo accepted before the stream is called malformed.
const MAX_STACK: usize = 1 << 20;
const MAX_MEMO: usize = 1 << 20;

/// The magic number a legacy (non-zip) `torch.save` file opens with, as its first pickle.
const TORCH_LEGACY_MAGIC: u128 = 0x1950a86a20f9469cfc6c;
/// Pickles in a legacy `torch.save` file before its raw storage bytes.
const TORCH_LEGACY_PICKLES: usize = 5;

/// A global the stream imports (`module.name`), with the opcode that did it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Global {
    pub module: String,
    pub name: String,
}

impl std::fmt::Display for Global {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.module, self.name)
    }
}

/// Something in the stream that is not a plain import but must be judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Oddity {
    /// `STACK_GLOBAL` whose module or name was not a constant string.
    DynamicGlobal { offset: u64 },
    /// `EXT1/2/4`: a global looked up in the copyreg extension registry.
    Extension { code: u32, offset: u64 },
}

/// Why a stream could not be walked to its end.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PickleError {
    #[error("truncated at byte {offset}: {context}")]
    Truncated { offset: u64, context: String },
    #[error("malformed at byte {offset}: {problem}")]
    Malformed { offset: u64, problem: String },
    #[error("read failed at byte {offset}: {message}")]
    Io { offset: u64, message: String },
}

/// What walking a stream found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PickleWalk {
    /// Complete pickles walked (each ended by `STOP`).
    pub pickles: usize,
    /// Highest `PROTO` seen (0 when none).
    pub protocol: u8,
    /// Every global imported, in order of first appearance.
    pub globals: Vec<Global>,
    pub oddities: Vec<Oddity>,
    /// The error that ended the walk, if any (globals found before it are kept).
    pub error: Option<PickleError>,
    /// A stream that continued after its last pickle with bytes that are no pickle.
    pub trailing: Option<String>,
    /// The first pickle was the legacy `torch.save` magic number.
    pub torch_legacy: bool,
    /// Bytes read.
    pub bytes: u64,
}

#[derive(Debug, Clone)]
enum Item {
    Mark,
    Str(Rc<str>),
    Other,
}

struct Reader<R> {
    inner: R,
    offset: u64,
}

impl<R: BufRead> Reader<R> {
    fn eof_err(&self, context: &str) -> PickleError {
        PickleError::Truncated {
            offset: self.offset,
            context: context.to_string(),
        }
    }

    fn io_err(&self, e: io::Error, context: &str) -> PickleError {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            self.eof_err(context)
        } else {
            PickleError::Io {
                offset: self.offset,
                message: e.to_string(),
            }
        }
    }

    fn peek(&mut self) -> Result<Option<u8>, PickleError> {
        loop {
            match self.inner.fill_buf() {
                Ok(buf) => return Ok(buf.first().copied()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(self.io_err(e, "peek")),
            }
        }
    }

    fn bytes<const N: usize>(&mut self, context: &str) -> Result<[u8; N], PickleError> {
        let mut b = [0u8; N];
        self.inner
            .read_exact(&mut b)
            .map_err(|e| self.io_err(e, context))?;
        self.offset += N as u64;
        Ok(b)
    }

    fn u8(&mut self, context: &str) -> Result<u8, PickleError> {
        Ok(self.bytes::<1>(context)?[0])
    }

    /// A newline-terminated line, without its newline, bounded.
    fn line(&mut self, context: &str) -> Result<Vec<u8>, PickleError> {
        let mut out = Vec::new();
        let n = (&mut self.inner)
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut out)
            .map_err(|e| self.io_err(e, context))?;
        self.offset += n as u64;
        if out.last() != Some(&b'\n') {
            return Err(if n > MAX_LINE {
                PickleError::Malformed {
                    offset: self.offset,
                    problem: format!("{context}: line longer than {MAX_LINE} bytes"),
                }
            } else {
                self.eof_err(context)
            });
        }
        out.pop();
        if out.last() == Some(&b'\r') {
            out.pop();
        }
        Ok(out)
    }

    /// `len` bytes: kept (as a string) when short, else skipped without allocating.
    fn payload(&mut self, len: u64, context: &str) -> Result<Option<Vec<u8>>, PickleError> {
        if len <= MAX_KEPT_STRING {
            let mut out = Vec::with_capacity(len as usize);
            let n = (&mut self.inner)
                .take(len)
                .read_to_end(&mut out)
                .map_err(|e| self.io_err(e, context))?;
            self.offset += n as u64;
            if (n as u64) < len {
                return Err(self.eof_err(context));
            }
            return Ok(Some(out));
        }
        let n = io::copy(&mut (&mut self.inner).take(len), &mut io::sink())
            .map_err(|e| self.io_err(e, context))?;
        self.offset += n;
        if n < len {
            return Err(self.eof_err(context));
        }
        Ok(None)
    }
}

struct Machine {
    stack: Vec<Item>,
    memo: HashMap<u64, Item>,
    start: u64,
}

impl Machine {
    fn malformed(offset: u64, problem: impl Into<String>) -> PickleError {
        PickleError::Malformed {
            offset,
            problem: problem.into(),
        }
    }

    fn push(&mut self, item: Item, offset: u64) -> Result<(), PickleError> {
        if self.stack.len() >= MAX_STACK {
            return Err(Self::malformed(
                offset,
                format!("stack deeper than {MAX_STACK}"),
            ));
        }
        self.stack.push(item);
        Ok(())
    }

    fn pop(&mut self, offset: u64) -> Result<Item, PickleError> {
        self.stack
            .pop()
            .ok_or_else(|| Self::malformed(offset, "stack underflow"))
    }

    fn pop_n(&mut self, n: usize, offset: u64) -> Result<(), PickleError> {
        for _ in 0..n {
            self.pop(offset)?;
        }
        Ok(())
    }

    fn pop_mark(&mut self, offset: u64) -> Result<Vec<Item>, PickleError> {
        let at = self
            .stack
            .iter()
            .rposition(|i| matches!(i, Item::Mark))
            .ok_or_else(|| Self::malformed(offset, "no MARK on the stack"))?;
        let items = self.stack.split_off(at + 1);
        self.stack.pop();
        Ok(items)
    }

    fn top(&self, offset: u64) -> Result<Item, PickleError> {
        self.stack
            .last()
            .cloned()
            .ok_or_else(|| Self::malformed(offset, "stack underflow"))
    }

    fn put(&mut self, key: u64, offset: u64) -> Result<(), PickleError> {
        let item = self.top(offset)?;
        if self.memo.len() >= MAX_MEMO && !self.memo.contains_key(&key) {
            return Err(Self::malformed(offset, format!("memo over {MAX_MEMO}")));
        }
        self.memo.insert(key, item);
        Ok(())
    }

    fn get(&mut self, key: u64, offset: u64) -> Result<(), PickleError> {
        let item = self
            .memo
            .get(&key)
            .cloned()
            .ok_or_else(|| Self::malformed(offset, format!("memo key {key} not defined")))?;
        self.push(item, offset)
    }
}

fn text(bytes: Vec<u8>, offset: u64, what: &str) -> Result<String, PickleError> {
    String::from_utf8(bytes).map_err(|_| Machine::malformed(offset, format!("{what} is not UTF-8")))
}

fn str_item(bytes: Option<Vec<u8>>) -> Item {
    match bytes.map(String::from_utf8) {
        Some(Ok(s)) => Item::Str(Rc::from(s)),
        _ => Item::Other,
    }
}

/// Walks every pickle in `input` (read once, front to back) and reports what they import.
pub fn walk<R: Read>(input: R) -> PickleWalk {
    let mut reader = Reader {
        inner: io::BufReader::with_capacity(64 * 1024, input),
        offset: 0,
    };
    let mut walk = PickleWalk::default();
    loop {
        match reader.peek() {
            Ok(None) if walk.pickles > 0 => break,
            Ok(None) => {
                walk.error = Some(reader.eof_err("empty stream"));
                break;
            }
            Ok(Some(_)) => {}
            Err(e) => {
                walk.error = Some(e);
                break;
            }
        }
        if walk.torch_legacy && walk.pickles == TORCH_LEGACY_PICKLES {
            // torch reads the raw storage bytes that follow by their sizes; they are
            // never unpickled.
            walk.trailing = Some(format!(
                "raw tensor storage of a legacy torch.save file from byte {}",
                reader.offset
            ));
            break;
        }
        let start = reader.offset;
        let mut machine = Machine {
            stack: Vec::new(),
            memo: HashMap::new(),
            start,
        };
        match one(&mut reader, &mut machine, &mut walk) {
            Ok(long) => {
                if walk.pickles == 0 && long == Some(TORCH_LEGACY_MAGIC) {
                    walk.torch_legacy = true;
                }
                walk.pickles += 1;
            }
            Err(e @ PickleError::Malformed { offset, .. })
                if walk.pickles > 0 && offset == machine.start =>
            {
                // Not even one opcode: bytes after the last pickle that are no pickle.
                walk.trailing = Some(format!(
                    "bytes after pickle {} are no pickle ({e})",
                    walk.pickles
                ));
                break;
            }
            Err(e) => {
                walk.error = Some(e);
                break;
            }
        }
    }
    walk.bytes = reader.offset;
    walk
}

/// Walks one pickle to its `STOP`. Returns the integer it consisted of, when it was a
/// lone long (the legacy torch magic number).
fn one<R: BufRead>(
    r: &mut Reader<R>,
    m: &mut Machine,
    walk: &mut PickleWalk,
) -> Result<Option<u128>, PickleError> {
    // The magic-number pickle is PROTO, LONG1, STOP: one value opcode, a long.
    let mut long: Option<u128> = None;
    let mut values = 0u64;
    loop {
        let at = r.offset;
        let op = r.u8("opcode")?;
        if !matches!(op, b'.' | 0x80 | 0x95) {
            values += 1;
        }
        match op {
            b'.' => {
                // `STOP` returns the top of the stack: an empty one is no pickle.
                m.top(at)?;
                return Ok(if values == 1 { long } else { None });
            }
            0x80 => {
                let v = r.u8("PROTO")?;
                if v > 5 {
                    return Err(Machine::malformed(at, format!("unknown protocol {v}")));
                }
                walk.protocol = walk.protocol.max(v);
            }
            0x95 => {
                r.bytes::<8>("FRAME")?;
            }
            b'(' => m.push(Item::Mark, at)?,
            b'0' => {
                m.pop(at)?;
            }
            b'1' => {
                m.pop_mark(at)?;
            }
            b'2' => {
                let t = m.top(at)?;
                m.push(t, at)?;
            }
            // Text scalars.
            b'F' | b'I' | b'L' => {
                r.line("number")?;
                m.push(Item::Other, at)?;
            }
            b'S' => {
                let line = r.line("STRING")?;
                let inner = line
                    .strip_prefix(b"'")
                    .and_then(|l| l.strip_suffix(b"'"))
                    .or_else(|| line.strip_prefix(b"\"").and_then(|l| l.strip_suffix(b"\"")));
                let item = match inner {
                    Some(s) if !s.contains(&b'\\') => str_item(Some(s.to_vec())),
                    _ => Item::Other,
                };
                m.push(item, at)?;
            }
            b'V' => {
                let line = r.line("UNICODE")?;
                let item = if line.contains(&b'\\') {
                    Item::Other
                } else {
                    str_item(Some(line))
                };
                m.push(item, at)?;
            }
            // Binary scalars.
            b'J' => {
                r.bytes::<4>("BININT")?;
                m.push(Item::Other, at)?;
            }
            b'K' => {
                r.bytes::<1>("BININT1")?;
                m.push(Item::Other, at)?;
            }
            b'M' => {
                r.bytes::<2>("BININT2")?;
                m.push(Item::Other, at)?;
            }
            b'G' => {
                r.bytes::<8>("BINFLOAT")?;
                m.push(Item::Other, at)?;
            }
            b'N' | 0x88 | 0x89 => m.push(Item::Other, at)?,
            0x8a => {
                let n = r.u8("LONG1")? as u64;
                let bytes = r.payload(n, "LONG1")?;
                if n <= 16 {
                    let mut v = [0u8; 16];
                    if let Some(b) = &bytes {
                        v[..b.len()].copy_from_slice(b);
                    }
                    long = Some(u128::from_le_bytes(v));
                }
                m.push(Item::Other, at)?;
            }
            0x8b => {
                let n = u32::from_le_bytes(r.bytes::<4>("LONG4")?) as u64;
                r.payload(n, "LONG4")?;
                m.push(Item::Other, at)?;
            }
            // Strings and bytes.
            b'T' | b'B' | b'X' => {
                let n = u32::from_le_bytes(r.bytes::<4>("string length")?) as u64;
                let bytes = r.payload(n, "string")?;
                m.push(
                    if op == b'X' {
                        str_item(bytes)
                    } else {
                        Item::Other
                    },
                    at,
                )?;
            }
            b'U' | b'C' | 0x8c => {
                let n = r.u8("short string length")? as u64;
                let bytes = r.payload(n, "short string")?;
                m.push(
                    if op == 0x8c || op == b'U' {
                        str_item(bytes)
                    } else {
                        Item::Other
                    },
                    at,
                )?;
            }
            0x8d | 0x8e | 0x96 => {
                let n = u64::from_le_bytes(r.bytes::<8>("8-byte length")?);
                let bytes = r.payload(n, "8-byte string")?;
                m.push(
                    if op == 0x8d {
                        str_item(bytes)
                    } else {
                        Item::Other
                    },
                    at,
                )?;
            }
            // Containers.
            b')' | b']' | b'}' | 0x8f => m.push(Item::Other, at)?,
            b'l' | b't' | b'd' | 0x91 => {
                m.pop_mark(at)?;
                m.push(Item::Other, at)?;
            }
            0x85..=0x87 => {
                m.pop_n((op - 0x84) as usize, at)?;
                m.push(Item::Other, at)?;
            }
            b'a' => {
                m.pop(at)?;
            }
            b'e' | b'u' | 0x90 => {
                m.pop_mark(at)?;
            }
            b's' => m.pop_n(2, at)?,
            // Imports and calls.
            b'c' => {
                let module = text(r.line("GLOBAL module")?, at, "GLOBAL module")?;
                let name = text(r.line("GLOBAL name")?, at, "GLOBAL name")?;
                note_global(walk, module, name);
                m.push(Item::Other, at)?;
            }
            b'i' => {
                let module = text(r.line("INST module")?, at, "INST module")?;
                let name = text(r.line("INST name")?, at, "INST name")?;
                note_global(walk, module, name);
                m.pop_mark(at)?;
                m.push(Item::Other, at)?;
            }
            0x93 => {
                let name = m.pop(at)?;
                let module = m.pop(at)?;
                match (module, name) {
                    (Item::Str(module), Item::Str(name)) => {
                        note_global(walk, module.to_string(), name.to_string())
                    }
                    _ => walk.oddities.push(Oddity::DynamicGlobal { offset: at }),
                }
                m.push(Item::Other, at)?;
            }
            0x82 => {
                let code = r.u8("EXT1")? as u32;
                walk.oddities.push(Oddity::Extension { code, offset: at });
                m.push(Item::Other, at)?;
            }
            0x83 => {
                let code = u16::from_le_bytes(r.bytes::<2>("EXT2")?) as u32;
                walk.oddities.push(Oddity::Extension { code, offset: at });
                m.push(Item::Other, at)?;
            }
            0x84 => {
                let code = u32::from_le_bytes(r.bytes::<4>("EXT4")?);
                walk.oddities.push(Oddity::Extension { code, offset: at });
                m.push(Item::Other, at)?;
            }
            b'R' | 0x81 => {
                m.pop_n(2, at)?;
                m.push(Item::Other, at)?;
            }
            0x92 => {
                m.pop_n(3, at)?;
                m.push(Item::Other, at)?;
            }
            b'o' => {
                m.pop_mark(at)?;
                m.push(Item::Other, at)?;
            }
            b'b' => {
                m.pop(at)?;
                m.top(at)?;
            }
            b'P' => {
                r.line("PERSID")?;
                m.push(Item::Other, at)?;
            }
            b'Q' => {
                m.pop(at)?;
                m.push(Item::Other, at)?;
            }
            // Memo.
            b'p' => {
                let line = r.line("PUT")?;
                let key = parse_key(&line, at)?;
                m.put(key, at)?;
            }
            b'q' => {
                let key = r.u8("BINPUT")? as u64;
                m.put(key, at)?;
            }
            b'r' => {
                let key = u32::from_le_bytes(r.bytes::<4>("LONG_BINPUT")?) as u64;
                m.put(key, at)?;
            }
            0x94 => {
                let key = m.memo.len() as u64;
                m.put(key, at)?;
            }
            b'g' => {
                let line = r.line("GET")?;
                let key = parse_key(&line, at)?;
                m.get(key, at)?;
            }
            b'h' => {
                let key = r.u8("BINGET")? as u64;
                m.get(key, at)?;
            }
            b'j' => {
                let key = u32::from_le_bytes(r.bytes::<4>("LONG_BINGET")?) as u64;
                m.get(key, at)?;
            }
            // Out-of-band buffers (protocol 5).
            0x97 => m.push(Item::Other, at)?,
            0x98 => {
                m.top(at)?;
            }
            other => {
                return Err(Machine::malformed(
                    at,
                    format!("unknown opcode 0x{other:02x}"),
                ));
            }
        }
    }
}

fn parse_key(line: &[u8], at: u64) -> Result<u64, PickleError> {
    std::str::from_utf8(line)
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .ok_or_else(|| Machine::malformed(at, "memo key is not a number"))
}

fn note_global(walk: &mut PickleWalk, module: String, name: String) {
    let g = Global { module, name };
    if !walk.globals.contains(&g) {
        walk.globals.push(g);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(m: &str, n: &str) -> Global {
        Global {
            module: m.into(),
            name: n.into(),
        }
    }

    #[test]
    fn protocol_0_global_and_reduce() {
        let w = walk(&b"cos\nsystem\n(S'echo hi'\ntR."[..]);
        assert_eq!(w.error, None);
        assert_eq!(w.pickles, 1);
        assert_eq!(w.globals, vec![g("os", "system")]);
    }

    #[test]
    fn stack_global_with_constant_and_memo_strings() {
        // proto 4: SHORT_BINUNICODE "builtins" MEMOIZE, SHORT_BINUNICODE "exec" MEMOIZE,
        // STACK_GLOBAL, then BINGET both again and STACK_GLOBAL.
        let mut p = vec![0x80, 4, 0x8c, 8];
        p.extend_from_slice(b"builtins");
        p.extend_from_slice(&[0x94, 0x8c, 4]);
        p.extend_from_slice(b"exec");
        p.extend_from_slice(&[0x94, 0x93, b'0', b'h', 0, b'h', 1, 0x93, b'.']);
        let w = walk(&p[..]);
        assert_eq!(w.error, None, "{w:?}");
        assert_eq!(w.protocol, 4);
        assert_eq!(w.globals, vec![g("builtins", "exec")]);
    }

    #[test]
    fn dynamic_stack_global_is_an_oddity() {
        // STACK_GLOBAL over a REDUCE result.
        let p = b"\x80\x04cbuiltins\nstr\n(X\x02\x00\x00\x00ostR\x8c\x06system\x93.";
        let w = walk(&p[..]);
        assert_eq!(w.error, None, "{w:?}");
        assert!(matches!(w.oddities[..], [Oddity::DynamicGlobal { .. }]));
    }

    #[test]
    fn second_pickle_is_walked_and_garbage_after_is_trailing() {
        let mut p = b"\x80\x02}q\x00.".to_vec();
        p.extend_from_slice(b"cposix\nsystem\n(S'id'\ntR.");
        let w = walk(&p[..]);
        assert_eq!(w.pickles, 2);
        assert_eq!(w.globals, vec![g("posix", "system")]);
        let mut q = b"\x80\x02}q\x00.".to_vec();
        q.extend_from_slice(&[0xff, 0xfe]);
        let w = walk(&q[..]);
        assert_eq!((w.pickles, w.error.is_none()), (1, true));
        assert!(w.trailing.is_some());
    }

    #[test]
    fn large_payloads_are_skipped_not_kept() {
        let mut p = vec![0x80, 4, 0x8e];
        p.extend_from_slice(&(4096u64).to_le_bytes());
        p.extend(std::iter::repeat_n(7u8, 4096));
        p.push(b'.');
        let w = walk(&p[..]);
        assert_eq!((w.pickles, w.error.is_none()), (1, true));
    }

    #[test]
    fn truncated_and_malformed_streams_are_errors_never_panics() {
        let full = b"\x80\x02cos\nsystem\nq\x00X\x02\x00\x00\x00idq\x01\x85q\x02Rq\x03.";
        for n in 0..full.len() {
            let w = walk(&full[..n]);
            assert!(w.error.is_some(), "prefix {n} accepted");
        }
        assert!(walk(&full[..]).error.is_none());
        // Every single-byte corruption: no panic, whatever the verdict.
        for i in 0..full.len() {
            for b in [0u8, 0x28, 0x2e, 0x68, 0x93, 0xff] {
                let mut c = full.to_vec();
                c[i] = b;
                let _ = walk(&c[..]);
            }
        }
        assert!(matches!(
            walk(&b"\x80\x07."[..]).error,
            Some(PickleError::Malformed { .. })
        ));
        assert!(matches!(
            walk(&b"h\x05."[..]).error,
            Some(PickleError::Malformed { .. })
        ));
        assert!(matches!(
            walk(&b"."[..]).error,
            Some(PickleError::Malformed { .. })
        ));
        // Lone STOPs after a pickle are trailing bytes, not more pickles.
        let w = walk(&b"N....."[..]);
        assert_eq!((w.pickles, w.error.is_none()), (1, true));
        assert!(w.trailing.is_some());
    }

    #[test]
    fn legacy_torch_magic_stops_before_raw_storage() {
        let mut p = vec![0x80, 2, 0x8a, 10];
        p.extend_from_slice(&TORCH_LEGACY_MAGIC.to_le_bytes()[..10]);
        p.push(b'.');
        for _ in 0..4 {
            p.extend_from_slice(b"\x80\x02}q\x00.");
        }
        // Raw storage that would parse as an os.system import if it were unpickled.
        p.extend_from_slice(b"cos\nsystem\n.");
        let w = walk(&p[..]);
        assert!(w.torch_legacy);
        assert_eq!(w.pickles, 5);
        assert!(w.globals.is_empty());
        assert!(w.trailing.is_some());
    }
}
