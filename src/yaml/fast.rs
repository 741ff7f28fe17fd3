//! A fast loader for the regular part of YAML that manifests are written in.
//!
//! Why: the authoritative loader (the parent module, on yaml-rust2's event stream)
//! scans char by char through a token queue and costs most of a manifest's
//! validation time. Manifests use a small, regular part of YAML, so this byte-level
//! loader reads that part directly and declines (`None`) on anything else: anchors,
//! aliases, tags, multi-line plain or quoted scalars, tabs, unusual indentation,
//! duplicate keys, escapes it does not know. Every declined document, and every
//! error message, is left to the full loader. Scalars resolve through the same
//! function as the full loader, and `tests/yaml_fast_path.rs` holds the two loaders
//! equal on the corpus, on a table of edge cases and on fuzzed mutants.

use serde_json::{Map, Value};
use yaml_rust2::scanner::TScalarStyle;

use super::{MAX_DEPTH, MAX_NODES, resolve_scalar};

/// Larger documents are not manifests; the full loader (with its budgets) reads them.
const MAX_FAST_BYTES: usize = 256 * 1024;
/// Longest plain block key (in the event parser, a longer one is a syntax error).
const MAX_KEY_LEN: usize = 1024;

/// Loads `text` when it lies wholly in the supported subset; `None` means "use the
/// full loader", never "invalid".
pub fn load(text: &str) -> Option<Value> {
    if !plain_text(text) {
        return None;
    }
    let mut loader = Loader {
        lines: text.split_terminator('\n').collect(),
        line: 0,
        nodes: 0,
    };
    if loader.skip_blank()? != 0 {
        return None;
    }
    let root = loader.mapping(0, 0)?;
    match loader.skip_blank() {
        None => Some(Value::Object(root)),
        Some(_) => None,
    }
}

/// Text the line-based reader can take: ends with a line break, no tabs or carriage
/// returns, no control or special line-break characters, no BOM, no document markers
/// or directives.
fn plain_text(text: &str) -> bool {
    let b = text.as_bytes();
    if b.len() > MAX_FAST_BYTES || b.last() != Some(&b'\n') {
        return false;
    }
    let mut line_start = true;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if line_start && (c == b'%' || b[i..].starts_with(b"---") || b[i..].starts_with(b"...")) {
            return false;
        }
        line_start = c == b'\n';
        match c {
            b'\n' => {}
            0..=0x1f | 0x7f => return false,
            // C1 controls, NEL.
            0xc2 if matches!(b.get(i + 1), Some(0x80..=0x9f)) => return false,
            // Line and paragraph separators.
            0xe2 if b.get(i + 1) == Some(&0x80) && matches!(b.get(i + 2), Some(0xa8 | 0xa9)) => {
                return false;
            }
            // BOM, non-characters.
            0xef if matches!(
                (b.get(i + 1), b.get(i + 2)),
                (Some(0xbb), Some(0xbf)) | (Some(0xbf), Some(0xbe | 0xbf))
            ) =>
            {
                return false;
            }
            _ => {}
        }
        i += 1;
    }
    true
}

struct Loader<'a> {
    lines: Vec<&'a str>,
    /// The line being read.
    line: usize,
    nodes: usize,
}

impl<'a> Loader<'a> {
    fn current(&self) -> &'a str {
        self.lines[self.line]
    }

    /// Moves past blank and comment lines; the indentation of the next content line.
    fn skip_blank(&mut self) -> Option<usize> {
        while let Some(line) = self.lines.get(self.line) {
            let indent = indent(line);
            if indent < line.len() && line.as_bytes()[indent] != b'#' {
                return Some(indent);
            }
            self.line += 1;
        }
        None
    }

    /// Counts a node; `None` past the full loader's budgets, so that it reports them.
    fn node(&mut self, depth: usize) -> Option<()> {
        self.nodes += 1;
        (self.nodes < MAX_NODES && depth + 1 < MAX_DEPTH).then_some(())
    }

    /// A block mapping whose keys stand at column `n`, starting on the current line
    /// (whose key may follow a `- ` indicator).
    fn mapping(&mut self, n: usize, depth: usize) -> Option<Map<String, Value>> {
        self.node(depth)?;
        let mut map = Map::new();
        loop {
            let line = self.current();
            let (key, after) = split_key(line, n)?;
            let value = self.value(line, after, n, depth + 1, true)?;
            if map.insert(key.to_owned(), value).is_some() {
                return None;
            }
            match self.skip_blank() {
                Some(i) if i == n => {}
                Some(i) if i > n => return None,
                _ => return Some(map),
            }
        }
    }

    /// A block sequence whose `-` indicators stand at column `m`.
    fn sequence(&mut self, m: usize, depth: usize) -> Option<Vec<Value>> {
        self.node(depth)?;
        let mut items = Vec::new();
        loop {
            let line = self.current();
            if !is_item(line, m) {
                return None;
            }
            let col = m + 1 + indent(&line[m + 1..]);
            let item = if col > m + 1 && split_key(line, col).is_some() {
                Value::Object(self.mapping(col, depth + 1)?)
            } else {
                self.value(line, m + 1, m, depth + 1, false)?
            };
            items.push(item);
            match self.skip_blank() {
                Some(i) if i == m && is_item(self.current(), m) => {}
                Some(i) if i > m => return None,
                _ => return Some(items),
            }
        }
    }

    /// The value that follows `key:` or `-` at byte `start` of `line` (the current
    /// line), inside a collection at column `n`. Leaves `self.line` after the value.
    fn value(
        &mut self,
        line: &'a str,
        start: usize,
        n: usize,
        depth: usize,
        in_mapping: bool,
    ) -> Option<Value> {
        let at = start + indent(&line[start..]);
        let rest = &line[at..];
        let Some(&first) = rest.as_bytes().first() else {
            self.line += 1;
            return self.nested(n, depth, in_mapping);
        };
        let second = rest.as_bytes().get(1).copied();
        match first {
            b'#' => {
                self.line += 1;
                self.nested(n, depth, in_mapping)
            }
            b'[' | b'{' => {
                let mut pos = at;
                let value = self.flow_node(&mut pos, n, depth)?;
                self.end_of_line(pos).then_some(())?;
                self.line += 1;
                Some(value)
            }
            b'|' | b'>' => self.block_scalar(rest, n, depth),
            b'"' | b'\'' => {
                self.node(depth)?;
                let (text, end) = quoted(line, at)?;
                self.end_of_line(end).then_some(())?;
                self.line += 1;
                Some(Value::String(text))
            }
            b'-' if second.is_none_or(|c| c == b' ') => None,
            b'?' | b':' | b',' | b']' | b'}' | b'&' | b'*' | b'!' | b'%' | b'@' | b'`' => None,
            _ => {
                self.node(depth)?;
                let bytes = line.as_bytes();
                let mut end = bytes.len();
                for i in at..bytes.len() {
                    match bytes[i] {
                        b':' if bytes.get(i + 1).is_none_or(|&c| c == b' ') => return None,
                        b'#' if bytes[i - 1] == b' ' => {
                            end = i;
                            break;
                        }
                        _ => {}
                    }
                }
                self.line += 1;
                scalar(line[at..end].trim_end_matches(' '))
            }
        }
    }

    /// The block node below a `key:` or `-` that has nothing after it on its line.
    fn nested(&mut self, n: usize, depth: usize, in_mapping: bool) -> Option<Value> {
        let Some(i) = self.skip_blank() else {
            self.node(depth)?;
            return scalar("");
        };
        let line = self.current();
        if i > n {
            if is_item(line, i) {
                return self.sequence(i, depth).map(Value::Array);
            }
            if split_key(line, i).is_some() {
                return self.mapping(i, depth).map(Value::Object);
            }
            return None;
        }
        // A mapping's value may be a sequence at the mapping's own indentation.
        if i == n && in_mapping && is_item(line, i) {
            return self.sequence(i, depth).map(Value::Array);
        }
        self.node(depth)?;
        scalar("")
    }

    /// `|`, `|-`, `>` or `>-` (header in `header`), content on the following lines.
    fn block_scalar(&mut self, header: &str, n: usize, depth: usize) -> Option<Value> {
        self.node(depth)?;
        let h = header.as_bytes();
        let literal = h[0] == b'|';
        let strip = h.get(1) == Some(&b'-');
        let after = if strip { 2 } else { 1 };
        let tail = &header[after..];
        let tail_trimmed = tail.trim_start_matches(' ');
        if !(tail_trimmed.is_empty()
            || (tail_trimmed.starts_with('#') && tail_trimmed.len() < tail.len()))
        {
            return None;
        }
        let mut i = self.line + 1;
        let first = self.lines.get(i)?;
        let m = indent(first);
        if m <= n || m == first.len() {
            return None;
        }
        let mut out = String::new();
        let mut breaks = 0usize;
        let mut any = false;
        while let Some(&line) = self.lines.get(i) {
            if line.is_empty() {
                breaks += 1;
                i += 1;
                continue;
            }
            let ind = indent(line);
            if ind == line.len() {
                return None;
            }
            if ind < m {
                break;
            }
            let content = &line[m..];
            if !literal && (ind > m || content.ends_with(' ')) {
                return None;
            }
            if any {
                if literal {
                    out.push('\n');
                    out.extend(std::iter::repeat_n('\n', breaks));
                } else if breaks == 0 {
                    out.push(' ');
                } else {
                    out.extend(std::iter::repeat_n('\n', breaks));
                }
            }
            out.push_str(content);
            any = true;
            breaks = 0;
            i += 1;
        }
        if !strip {
            out.push('\n');
        }
        self.line = i;
        Some(Value::String(out))
    }

    /// A flow collection or a scalar inside one, at byte `*pos` of the current line.
    /// Collections may run over several lines, each indented past column `n`.
    fn flow_node(&mut self, pos: &mut usize, n: usize, depth: usize) -> Option<Value> {
        self.node(depth)?;
        let line = self.current();
        let bytes = line.as_bytes();
        match bytes[*pos] {
            b'[' => {
                *pos += 1;
                let mut items = Vec::new();
                if self.flow_skip(pos, n)? == b']' {
                    *pos += 1;
                    return Some(Value::Array(items));
                }
                loop {
                    items.push(self.flow_node(pos, n, depth + 1)?);
                    match self.flow_skip(pos, n)? {
                        b',' => {
                            *pos += 1;
                            if self.flow_skip(pos, n)? == b']' {
                                return None;
                            }
                        }
                        b']' => {
                            *pos += 1;
                            return Some(Value::Array(items));
                        }
                        _ => return None,
                    }
                }
            }
            b'{' => {
                *pos += 1;
                let mut map = Map::new();
                if self.flow_skip(pos, n)? == b'}' {
                    *pos += 1;
                    return Some(Value::Object(map));
                }
                loop {
                    let key = self.flow_key(pos)?;
                    if matches!(self.flow_skip(pos, n)?, b',' | b'}') {
                        return None;
                    }
                    let value = self.flow_node(pos, n, depth + 1)?;
                    if map.insert(key, value).is_some() {
                        return None;
                    }
                    match self.flow_skip(pos, n)? {
                        b',' => {
                            *pos += 1;
                            if self.flow_skip(pos, n)? == b'}' {
                                return None;
                            }
                        }
                        b'}' => {
                            *pos += 1;
                            return Some(Value::Object(map));
                        }
                        _ => return None,
                    }
                }
            }
            b'"' | b'\'' => {
                let (text, end) = quoted(line, *pos)?;
                *pos = end;
                Some(Value::String(text))
            }
            _ => {
                let text = flow_plain(line, pos)?;
                scalar(text)
            }
        }
    }

    /// A flow mapping key (plain or quoted) and its `: `, leaving `*pos` after them.
    fn flow_key(&mut self, pos: &mut usize) -> Option<String> {
        let line = self.current();
        let key = match line.as_bytes()[*pos] {
            b'"' | b'\'' => {
                let (text, end) = quoted(line, *pos)?;
                *pos = end;
                text
            }
            _ => flow_plain(line, pos)?.to_owned(),
        };
        let bytes = line.as_bytes();
        if bytes.get(*pos) != Some(&b':') || bytes.get(*pos + 1).is_some_and(|&c| c != b' ') {
            return None;
        }
        *pos += 1;
        Some(key)
    }

    /// Skips spaces, continuing on the next line at its end; the byte reached.
    /// Comments and blank lines inside flow collections are left to the full loader.
    fn flow_skip(&mut self, pos: &mut usize, n: usize) -> Option<u8> {
        loop {
            let bytes = self.current().as_bytes();
            while bytes.get(*pos) == Some(&b' ') {
                *pos += 1;
            }
            match bytes.get(*pos) {
                Some(b'#') => return None,
                Some(&c) => return Some(c),
                None => {
                    self.line += 1;
                    let next = self.lines.get(self.line)?;
                    let ind = indent(next);
                    if ind <= n || ind == next.len() {
                        return None;
                    }
                    *pos = ind;
                }
            }
        }
    }

    /// Whether only spaces or a comment follow byte `pos` of the current line.
    fn end_of_line(&self, pos: usize) -> bool {
        let tail = &self.current()[pos..];
        let trimmed = tail.trim_start_matches(' ');
        trimmed.is_empty() || (trimmed.starts_with('#') && trimmed.len() < tail.len())
    }
}

/// Number of leading spaces.
fn indent(line: &str) -> usize {
    line.bytes().take_while(|&b| b == b' ').count()
}

/// Whether `line` holds a block sequence item whose `-` is at column `m`.
fn is_item(line: &str, m: usize) -> bool {
    let b = line.as_bytes();
    indent(line) == m && b.get(m) == Some(&b'-') && b.get(m + 1).is_none_or(|&c| c == b' ')
}

/// A plain key at byte `n` followed by `:` and a space or the end of the line:
/// the key and the byte after the colon.
fn split_key(line: &str, n: usize) -> Option<(&str, usize)> {
    let b = line.as_bytes();
    if !b
        .get(n)
        .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
    {
        return None;
    }
    let mut i = n + 1;
    while i < b.len() && (b[i].is_ascii_alphanumeric() || matches!(b[i], b'_' | b'.' | b'-' | b'/'))
    {
        i += 1;
    }
    // The event parser looks at most 1,024 characters ahead for a key's colon.
    if i - n > MAX_KEY_LEN || b.get(i) != Some(&b':') || b.get(i + 1).is_some_and(|&c| c != b' ') {
        return None;
    }
    Some((&line[n..i], i + 1))
}

/// A single-line quoted scalar opening at byte `at`: its text and the byte after
/// the closing quote. Multi-line scalars and unknown escapes are declined.
fn quoted(line: &str, at: usize) -> Option<(String, usize)> {
    let b = line.as_bytes();
    let quote = b[at];
    let mut out = String::new();
    let mut run = at + 1;
    let mut i = at + 1;
    while i < b.len() {
        match b[i] {
            b'\'' if quote == b'\'' => {
                out.push_str(&line[run..i]);
                if b.get(i + 1) == Some(&b'\'') {
                    out.push('\'');
                    i += 2;
                    run = i;
                    continue;
                }
                return Some((out, i + 1));
            }
            b'"' if quote == b'"' => {
                out.push_str(&line[run..i]);
                return Some((out, i + 1));
            }
            b'\\' if quote == b'"' => {
                out.push_str(&line[run..i]);
                out.push(match b.get(i + 1)? {
                    b'n' => '\n',
                    b't' => '\t',
                    b'r' => '\r',
                    b'0' => '\0',
                    b'\\' => '\\',
                    b'"' => '"',
                    b'/' => '/',
                    _ => return None,
                });
                i += 2;
                run = i;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// A plain scalar inside a flow collection, from `*pos` to the next `,`, `]`, `}`,
/// `: ` or the end of the line; `*pos` is left on that byte.
fn flow_plain<'l>(line: &'l str, pos: &mut usize) -> Option<&'l str> {
    let b = line.as_bytes();
    let start = *pos;
    let first = *b.get(start)?;
    let second = b.get(start + 1).copied();
    if first == b'-' && second.is_none_or(|c| c == b' ') {
        return None;
    }
    if matches!(
        first,
        b'?' | b':'
            | b','
            | b']'
            | b'}'
            | b'['
            | b'{'
            | b'#'
            | b'&'
            | b'*'
            | b'!'
            | b'|'
            | b'>'
            | b'%'
            | b'@'
            | b'`'
    ) {
        return None;
    }
    let mut i = start;
    while i < b.len() {
        match b[i] {
            b',' | b']' | b'}' => break,
            b'[' | b'{' => return None,
            // A word may not start with `-` before a flow indicator.
            b'-' if (i == start || b[i - 1] == b' ')
                && b.get(i + 1).is_some_and(|c| b",[]{}".contains(c)) =>
            {
                return None;
            }
            b':' if b
                .get(i + 1)
                .is_none_or(|&c| matches!(c, b' ' | b',' | b']' | b'}')) =>
            {
                break;
            }
            b'#' if b[i - 1] == b' ' => return None,
            _ => {}
        }
        i += 1;
    }
    *pos = i;
    Some(line[start..i].trim_end_matches(' '))
}

/// Resolves a plain scalar as the full loader does (YAML 1.2 core schema); values
/// it would reject (`.inf`, …) are declined so that it reports them.
fn scalar(text: &str) -> Option<Value> {
    resolve_scalar(text.to_owned(), TScalarStyle::Plain, None).ok()
}
