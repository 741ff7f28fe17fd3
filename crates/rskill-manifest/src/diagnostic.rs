//! One broken rule, said so that a skill author can act on it: which field (as a YAML
//! path), which rule, what is wrong, and where in the file (line:column).

use serde::Serialize;

use crate::yaml::Positions;

/// A single validation finding.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Violation {
    /// YAML path of the field, e.g. `actuators_required[0].kind`; empty for the whole document.
    pub field: String,
    pub message: String,
    /// Which rule: `schema/<keyword>`, `rule/<n>`, `yaml`, `file`, `card/<check>` or `tags`.
    pub rule: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// JSON pointer of the field, used to locate it.
    #[serde(skip)]
    pub pointer: String,
}

impl Violation {
    /// A finding about the field at `pointer` (JSON pointer into the manifest).
    pub fn at(
        pointer: impl Into<String>,
        rule: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        let pointer = pointer.into();
        Violation {
            field: field_path(&pointer),
            message: message.into(),
            rule: rule.into(),
            line: None,
            column: None,
            pointer,
        }
    }

    /// A finding about the whole file (no field).
    pub fn file(rule: impl Into<String>, message: impl Into<String>) -> Self {
        Violation::at("", rule, message)
    }

    /// Fills `line` / `column` from the position index: the key for an unknown-key or
    /// a duplicate, the value otherwise, else the nearest enclosing node.
    pub fn locate(&mut self, positions: &Positions) {
        if self.line.is_some() {
            return;
        }
        let pos = if self.rule == "schema/additionalProperties" {
            positions.key(&self.pointer)
        } else {
            positions
                .value(&self.pointer)
                .or_else(|| positions.key(&self.pointer))
        }
        .or_else(|| positions.nearest(&self.pointer));
        if let Some(p) = pos {
            self.line = Some(p.line);
            self.column = Some(p.column);
        }
    }

    /// `file:line:col: field: message` (the parts that are known).
    pub fn render(&self, file: &str) -> String {
        let mut out = String::from(file);
        if let Some(line) = self.line {
            out.push_str(&format!(":{line}"));
            if let Some(col) = self.column {
                out.push_str(&format!(":{col}"));
            }
        }
        out.push_str(": ");
        if !self.field.is_empty() {
            out.push_str(&self.field);
            out.push_str(": ");
        }
        out.push_str(&self.message);
        out
    }
}

/// Turns a JSON pointer into the YAML path authors read: `/a/0/b` → `a[0].b`.
pub fn field_path(pointer: &str) -> String {
    let mut out = String::new();
    for seg in pointer.split('/').skip(1) {
        let seg = seg.replace("~1", "/").replace("~0", "~");
        if !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_digit()) && !out.is_empty() {
            out.push_str(&format!("[{seg}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&seg);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_become_yaml_paths() {
        assert_eq!(field_path(""), "");
        assert_eq!(field_path("/kind"), "kind");
        assert_eq!(
            field_path("/actuators_required/0/control_mode_semantics/mode"),
            "actuators_required[0].control_mode_semantics.mode"
        );
        assert_eq!(
            field_path("/action_contract/slots/2/range/1"),
            "action_contract.slots[2].range[1]"
        );
        assert_eq!(field_path("/a~1b"), "a/b");
    }

    #[test]
    fn renders_like_a_compiler() {
        let mut v = Violation::at("/kind", "schema/enum", "\"vlaa\" is not one of vla, wam");
        assert_eq!(
            v.render("x.yaml"),
            "x.yaml: kind: \"vlaa\" is not one of vla, wam"
        );
        v.line = Some(14);
        v.column = Some(7);
        assert_eq!(
            v.render("x.yaml"),
            "x.yaml:14:7: kind: \"vlaa\" is not one of vla, wam"
        );
    }
}
