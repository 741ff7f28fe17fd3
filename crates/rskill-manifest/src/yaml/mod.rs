//! Safe YAML loading into `serde_json::Value`, with a position for every node.
//!
//! Why not a plain serde YAML deserializer: validation errors must name the line and
//! column of the offending field, duplicate keys must be rejected (not silently
//! overwritten), and untrusted manifests must not be able to blow up memory through
//! alias expansion ("billion laughs"). This module walks the parser's event stream
//! once and enforces all three. Scalars resolve with the YAML 1.2 core schema.
//! yaml-rust2's event parser is the only YAML reader: manifests come from the Hub and
//! are untrusted, so there is no second, hand-written parser to keep in agreement.

use std::collections::HashMap;

use serde_json::{Map, Number, Value};
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// Most nodes a document may expand to (aliases included): far above any real
/// manifest, far below what would hurt.
pub const MAX_NODES: usize = 100_000;
/// Most scalar bytes a document may expand to (aliases included): an alias of a long
/// string costs its length, so a few aliases cannot make gigabytes.
pub const MAX_EXPANDED_BYTES: usize = 4 * 1024 * 1024;
/// Deepest nesting accepted.
pub const MAX_DEPTH: usize = 64;

/// A line and column in the source, both 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

impl Pos {
    fn from_marker(m: Marker) -> Pos {
        Pos {
            line: m.line(),
            column: m.col() + 1,
        }
    }
}

/// Where a node and (for mapping members) its key stand in the source, by JSON pointer.
#[derive(Debug, Default, Clone)]
pub struct Positions {
    values: HashMap<String, Pos>,
    keys: HashMap<String, Pos>,
}

impl Positions {
    /// Position of the value at `pointer` ("" is the document root).
    pub fn value(&self, pointer: &str) -> Option<Pos> {
        self.values.get(pointer).copied()
    }

    /// Position of the key that introduces `pointer`, when it is a mapping member.
    pub fn key(&self, pointer: &str) -> Option<Pos> {
        self.keys.get(pointer).copied()
    }

    /// Position of the value at `pointer`, else of its nearest existing ancestor.
    pub fn nearest(&self, pointer: &str) -> Option<Pos> {
        let mut p = pointer;
        loop {
            if let Some(pos) = self.value(p) {
                return Some(pos);
            }
            match p.rfind('/') {
                Some(i) => p = &p[..i],
                None => return self.value(""),
            }
        }
    }
}

/// A YAML document that could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct YamlError {
    pub message: String,
    pub pos: Option<Pos>,
}

/// Loads one YAML document. `track_positions` builds the position index (cheap, but
/// not free: validating a valid manifest skips it and reloads only when it must report).
pub fn load(text: &str, track_positions: bool) -> Result<(Value, Positions), YamlError> {
    let mut builder = Builder {
        track: track_positions,
        ..Builder::default()
    };
    let mut parser = Parser::new_from_str(text);
    if let Err(e) = parser.load(&mut builder, true) {
        return Err(YamlError {
            message: format!("YAML syntax error: {}", e.info()),
            pos: Some(Pos::from_marker(*e.marker())),
        });
    }
    if let Some(err) = builder.error {
        return Err(err);
    }
    match builder.documents {
        0 => Err(YamlError {
            message: "the file holds no YAML document".into(),
            pos: None,
        }),
        1 => Ok((builder.root.unwrap_or(Value::Null), builder.positions)),
        _ => Err(YamlError {
            message: "the file holds several YAML documents (`---`); a manifest is one document"
                .into(),
            pos: builder.second_document,
        }),
    }
}

/// What a node costs once expanded: nodes and scalar bytes.
#[derive(Debug, Clone, Copy, Default)]
struct Cost {
    nodes: usize,
    bytes: usize,
}

impl Cost {
    fn add(&mut self, other: Cost) {
        self.nodes += other.nodes;
        self.bytes += other.bytes;
    }
}

/// A container being filled, plus what is needed to key and locate its children.
enum Frame {
    Seq {
        items: Vec<Value>,
        anchor: usize,
        pointer: String,
        cost: Cost,
    },
    Map {
        map: Map<String, Value>,
        anchor: usize,
        pointer: String,
        cost: Cost,
        /// The key read, waiting for its value.
        pending_key: Option<(String, Pos)>,
    },
}

#[derive(Default)]
struct Builder {
    track: bool,
    stack: Vec<Frame>,
    root: Option<Value>,
    documents: usize,
    second_document: Option<Pos>,
    anchors: HashMap<usize, (Value, Cost)>,
    total: Cost,
    positions: Positions,
    error: Option<YamlError>,
}

impl Builder {
    fn fail(&mut self, message: String, mark: Marker) {
        if self.error.is_none() {
            self.error = Some(YamlError {
                message,
                pos: Some(Pos::from_marker(mark)),
            });
        }
    }

    /// The JSON pointer the next value will have, or `None` if the next scalar is a key.
    fn next_pointer(&self) -> Option<String> {
        match self.stack.last() {
            None => Some(String::new()),
            Some(Frame::Seq { items, pointer, .. }) => Some(format!("{pointer}/{}", items.len())),
            Some(Frame::Map {
                pointer,
                pending_key: Some((k, _)),
                ..
            }) => Some(format!("{pointer}/{}", escape_pointer(k))),
            Some(Frame::Map {
                pending_key: None, ..
            }) => None,
        }
    }

    fn count(&mut self, cost: Cost, mark: Marker) -> bool {
        self.total.add(cost);
        if self.total.nodes > MAX_NODES || self.total.bytes > MAX_EXPANDED_BYTES {
            self.fail(
                format!(
                    "the document expands to more than {MAX_NODES} nodes or {} MiB (alias bomb?); refusing to load it",
                    MAX_EXPANDED_BYTES >> 20
                ),
                mark,
            );
            return false;
        }
        true
    }

    /// Attaches a finished value (with its node count) to the current container.
    fn push_value(&mut self, value: Value, cost: Cost, anchor: usize, mark: Marker) {
        if anchor > 0 {
            self.anchors.insert(anchor, (value.clone(), cost));
        }
        match self.stack.last_mut() {
            None => self.root = Some(value),
            Some(Frame::Seq { items, cost: c, .. }) => {
                items.push(value);
                c.add(cost);
            }
            Some(Frame::Map {
                map,
                pending_key,
                cost: c,
                ..
            }) => match pending_key.take() {
                Some((k, _)) => {
                    map.insert(k, value);
                    c.add(cost);
                }
                None => {
                    self.fail(
                        "mapping keys must be plain strings, not lists or mappings".into(),
                        mark,
                    );
                }
            },
        }
    }

    fn on_scalar(
        &mut self,
        text: String,
        style: TScalarStyle,
        anchor: usize,
        tag: Option<Tag>,
        mark: Marker,
    ) {
        // A scalar in key position of a mapping.
        if let Some(Frame::Map {
            map,
            pointer,
            pending_key: pending @ None,
            ..
        }) = self.stack.last_mut()
        {
            if map.contains_key(&text) {
                let first = self
                    .positions
                    .key(&format!("{pointer}/{}", escape_pointer(&text)))
                    .map(|p| format!(" (first defined at line {})", p.line))
                    .unwrap_or_default();
                let msg = format!("duplicate key \"{text}\"{first}");
                self.fail(msg, mark);
                return;
            }
            let pos = Pos::from_marker(mark);
            if self.track {
                let ptr = format!("{pointer}/{}", escape_pointer(&text));
                self.positions.keys.insert(ptr, pos);
            }
            *pending = Some((text, pos));
            return;
        }
        let cost = Cost {
            nodes: 1,
            bytes: text.len(),
        };
        if !self.count(cost, mark) {
            return;
        }
        let value = match resolve_scalar(text, style, tag.as_ref()) {
            Ok(v) => v,
            Err(msg) => {
                self.fail(msg, mark);
                return;
            }
        };
        if self.track
            && let Some(ptr) = self.next_pointer()
        {
            self.positions.values.insert(ptr, Pos::from_marker(mark));
        }
        self.push_value(value, cost, anchor, mark);
    }

    fn open(&mut self, is_map: bool, anchor: usize, mark: Marker) {
        if self.stack.len() >= MAX_DEPTH {
            self.fail(format!("nesting deeper than {MAX_DEPTH} levels"), mark);
            return;
        }
        let one = Cost { nodes: 1, bytes: 0 };
        if !self.count(one, mark) {
            return;
        }
        if let Some(Frame::Map {
            pending_key: None, ..
        }) = self.stack.last()
        {
            self.fail(
                "mapping keys must be plain strings, not lists or mappings".into(),
                mark,
            );
            return;
        }
        // Pointers are only needed for the position index.
        let pointer = if self.track {
            self.next_pointer().unwrap_or_default()
        } else {
            String::new()
        };
        if self.track {
            // A container is best shown by the key that introduces it.
            let pos = match self.stack.last() {
                Some(Frame::Map {
                    pending_key: Some((_, key_pos)),
                    ..
                }) => *key_pos,
                _ => Pos::from_marker(mark),
            };
            self.positions.values.insert(pointer.clone(), pos);
        }
        self.stack.push(if is_map {
            Frame::Map {
                map: Map::new(),
                anchor,
                pointer,
                cost: one,
                pending_key: None,
            }
        } else {
            Frame::Seq {
                items: Vec::new(),
                anchor,
                pointer,
                cost: one,
            }
        });
    }

    fn close(&mut self, mark: Marker) {
        let (value, cost, anchor) = match self.stack.pop() {
            Some(Frame::Seq {
                items,
                anchor,
                cost,
                ..
            }) => (Value::Array(items), cost, anchor),
            Some(Frame::Map {
                map, anchor, cost, ..
            }) => (Value::Object(map), cost, anchor),
            None => return,
        };
        self.push_value(value, cost, anchor, mark);
    }

    fn on_alias(&mut self, id: usize, mark: Marker) {
        let Some((value, cost)) = self.anchors.get(&id).cloned() else {
            self.fail("alias to an unknown anchor".into(), mark);
            return;
        };
        if let Some(Frame::Map {
            pending_key: None, ..
        }) = self.stack.last()
        {
            self.fail("aliases cannot be used as mapping keys".into(), mark);
            return;
        }
        if !self.count(cost, mark) {
            return;
        }
        if self.track
            && let Some(ptr) = self.next_pointer()
        {
            self.positions.values.insert(ptr, Pos::from_marker(mark));
        }
        self.push_value(value, cost, 0, mark);
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        if self.error.is_some() {
            return;
        }
        match ev {
            Event::DocumentStart => {
                self.documents += 1;
                if self.documents == 2 {
                    self.second_document = Some(Pos::from_marker(mark));
                }
            }
            Event::Scalar(text, style, anchor, tag) => {
                self.on_scalar(text, style, anchor, tag, mark)
            }
            Event::SequenceStart(anchor, _) => self.open(false, anchor, mark),
            Event::MappingStart(anchor, _) => self.open(true, anchor, mark),
            Event::SequenceEnd | Event::MappingEnd => self.close(mark),
            Event::Alias(id) => self.on_alias(id, mark),
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => {}
        }
    }
}

/// Escapes a mapping key for use in a JSON pointer (RFC 6901).
pub fn escape_pointer(key: &str) -> String {
    if key.contains(['~', '/']) {
        key.replace('~', "~0").replace('/', "~1")
    } else {
        key.to_owned()
    }
}

/// YAML 1.2 core schema resolution of one scalar.
fn resolve_scalar(text: String, style: TScalarStyle, tag: Option<&Tag>) -> Result<Value, String> {
    // yaml-rust2 expands the `!!` shorthand to the core-schema prefix.
    if let Some(tag) = tag
        && (tag.handle == "!!" || tag.handle == "tag:yaml.org,2002:")
    {
        return match tag.suffix.as_str() {
            "str" => Ok(Value::String(text)),
            "null" | "bool" | "int" | "float" => {
                let v = resolve_plain(&text).unwrap_or(Value::String(text.clone()));
                let ok = matches!(
                    (tag.suffix.as_str(), &v),
                    ("null", Value::Null) | ("bool", Value::Bool(_))
                ) || (tag.suffix == "int" && v.as_i64().is_some())
                    || (tag.suffix == "float" && v.is_number());
                if ok {
                    Ok(v)
                } else {
                    Err(format!("\"{text}\" is not a valid !!{}", tag.suffix))
                }
            }
            other => Err(format!("unsupported YAML tag !!{other}")),
        };
    }
    if let Some(tag) = tag {
        return Err(format!(
            "unsupported YAML tag {}{}: a manifest is plain data",
            tag.handle, tag.suffix
        ));
    }
    if style != TScalarStyle::Plain {
        return Ok(Value::String(text));
    }
    match resolve_plain(&text) {
        Some(v) => Ok(v),
        None if is_non_finite(&text) => Err(format!(
            "{text} is not a finite number (JSON has no infinity or NaN)"
        )),
        None => Ok(Value::String(text)),
    }
}

fn is_non_finite(t: &str) -> bool {
    matches!(
        t,
        ".inf"
            | ".Inf"
            | ".INF"
            | "+.inf"
            | "+.Inf"
            | "+.INF"
            | "-.inf"
            | "-.Inf"
            | "-.INF"
            | ".nan"
            | ".NaN"
            | ".NAN"
    )
}

fn resolve_plain(t: &str) -> Option<Value> {
    match t {
        "" | "~" | "null" | "Null" | "NULL" => return Some(Value::Null),
        "true" | "True" | "TRUE" => return Some(Value::Bool(true)),
        "false" | "False" | "FALSE" => return Some(Value::Bool(false)),
        _ => {}
    }
    let first = t.as_bytes()[0];
    if !(first.is_ascii_digit() || matches!(first, b'-' | b'+' | b'.')) {
        return None;
    }
    if let Some(hex) = t.strip_prefix("0x") {
        return i64::from_str_radix(hex, 16).ok().map(Value::from);
    }
    if let Some(oct) = t.strip_prefix("0o") {
        return i64::from_str_radix(oct, 8).ok().map(Value::from);
    }
    let body = t.strip_prefix(['-', '+']).unwrap_or(t);
    if !body.is_empty()
        && body.bytes().all(|b| b.is_ascii_digit())
        && let Ok(i) = t.parse::<i64>()
    {
        return Some(Value::from(i));
    }
    // Core schema float: [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?
    if is_core_float(body) {
        return t
            .parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .map(Value::Number);
    }
    None
}

fn is_core_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    let int_digits = digits(&mut i);
    let mut frac_digits = 0;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        frac_digits = digits(&mut i);
    }
    if int_digits == 0 && frac_digits == 0 {
        return false;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn value(text: &str) -> Value {
        load(text, false).unwrap().0
    }

    #[test]
    fn resolves_core_schema_scalars() {
        let v = value(
            "a: 1\nb: -2.5\nc: true\nd: ~\ne: '1'\nf: 1.0.0\ng: 0x1f\nh: 1e3\ni: \"x\"\nj: .5\nk: yes\n",
        );
        assert_eq!(
            v,
            json!({"a":1,"b":-2.5,"c":true,"d":null,"e":"1","f":"1.0.0","g":31,"h":1000.0,"i":"x","j":0.5,"k":"yes"})
        );
    }

    #[test]
    fn tracks_key_and_value_positions() {
        let (_, pos) = load("name: x\nlist:\n  - a\n  - b: 1\n", true).unwrap();
        assert_eq!(pos.key("/name"), Some(Pos { line: 1, column: 1 }));
        assert_eq!(pos.value("/name"), Some(Pos { line: 1, column: 7 }));
        assert_eq!(pos.value("/list/1/b"), Some(Pos { line: 4, column: 8 }));
        assert_eq!(
            pos.nearest("/list/1/b/zzz"),
            Some(Pos { line: 4, column: 8 })
        );
        assert_eq!(pos.value("/list"), Some(Pos { line: 2, column: 1 }));
    }

    #[test]
    fn rejects_duplicate_keys_with_both_lines() {
        let err = load("a: 1\nb: 2\na: 3\n", false).unwrap_err();
        assert!(err.message.contains("duplicate key \"a\""), "{err:?}");
        assert_eq!(err.pos.unwrap().line, 3);
    }

    #[test]
    fn rejects_alias_bombs() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let p = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let err = load(&text, false).unwrap_err();
        assert!(err.message.contains("alias bomb"), "{err:?}");
    }

    #[test]
    fn small_aliases_are_expanded() {
        assert_eq!(value("a: &x [1, 2]\nb: *x\n"), json!({"a":[1,2],"b":[1,2]}));
    }

    #[test]
    fn syntax_errors_carry_a_position() {
        let err = load("a: [1, 2\nb: 3\n", false).unwrap_err();
        assert!(err.message.starts_with("YAML syntax error"), "{err:?}");
        assert!(err.pos.is_some());
    }

    #[test]
    fn empty_and_multi_documents_are_errors() {
        assert!(load("", false).is_err());
        assert!(load("# only a comment\n", false).is_err());
        assert!(load("a: 1\n---\nb: 2\n", false).is_err());
    }

    #[test]
    fn non_finite_numbers_and_complex_keys_are_errors() {
        assert!(load("a: .inf\n", false).is_err());
        assert!(load("? [a, b]\n: 1\n", false).is_err());
    }
}
