//! The JSON Schemas rskill checks documents against, embedded in the binary and
//! compiled once per process: the manifest (`schemas/rskill.schema.json`) and the
//! benchmark result files (`schemas/rskill-eval.schema.json`); and the translation of
//! their errors into messages that name the field and the rule in the author's terms.

use std::sync::OnceLock;

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::{ValidationError, Validator};
use serde_json::Value;

use crate::diagnostic::Violation;

/// The manifest schema text, as shipped.
pub const SCHEMA_JSON: &str = include_str!("../../../schemas/rskill.schema.json");
/// The schema of `eval/*.json` benchmark result files, as shipped.
pub const EVAL_SCHEMA_JSON: &str = include_str!("../../../schemas/rskill-eval.schema.json");
/// The schema of group definitions (`rskill-group.yaml`), as shipped.
pub const GROUP_SCHEMA_JSON: &str = include_str!("../../../schemas/rskill-group.schema.json");

struct Compiled {
    schema: Value,
    validator: Validator,
}

impl Compiled {
    fn new(text: &str) -> Compiled {
        let schema: Value = serde_json::from_str(text).expect("embedded schema is JSON");
        let validator = jsonschema::draft202012::new(&schema).expect("embedded schema compiles");
        Compiled { schema, validator }
    }

    fn check(&self, instance: &Value) -> Vec<Violation> {
        if self.validator.is_valid(instance) {
            return Vec::new();
        }
        let mut out = Vec::new();
        for err in self.validator.iter_errors(instance) {
            translate(&self.schema, &err, &mut out);
        }
        out
    }
}

fn compiled() -> &'static Compiled {
    static COMPILED: OnceLock<Compiled> = OnceLock::new();
    COMPILED.get_or_init(|| Compiled::new(SCHEMA_JSON))
}

fn compiled_eval() -> &'static Compiled {
    static COMPILED: OnceLock<Compiled> = OnceLock::new();
    COMPILED.get_or_init(|| Compiled::new(EVAL_SCHEMA_JSON))
}

fn compiled_group() -> &'static Compiled {
    static COMPILED: OnceLock<Compiled> = OnceLock::new();
    COMPILED.get_or_init(|| Compiled::new(GROUP_SCHEMA_JSON))
}

/// Checks a group definition (`rskill-group.yaml`) against its schema.
pub fn check_group(instance: &Value) -> Vec<Violation> {
    compiled_group().check(instance)
}

/// The parsed manifest schema document.
pub fn schema() -> &'static Value {
    &compiled().schema
}

/// Checks a manifest document against the schema; every error becomes a violation.
pub fn check(instance: &Value) -> Vec<Violation> {
    compiled().check(instance)
}

/// Checks a benchmark result file (`eval/*.json`) against its schema.
pub fn check_eval_result(instance: &Value) -> Vec<Violation> {
    compiled_eval().check(instance)
}

fn translate(schema: &Value, err: &ValidationError<'_>, out: &mut Vec<Violation>) {
    let pointer = err.instance_path().as_str().to_owned();
    let instance = err.instance();
    let rule = format!("schema/{}", err.kind().keyword());
    let message = match err.kind() {
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            let allowed = allowed_properties(schema, err.schema_path().as_str());
            for key in unexpected {
                let mut msg = format!("unknown key \"{key}\"");
                if let Some(best) = closest(key, &allowed) {
                    msg.push_str(&format!(" (did you mean \"{best}\"?)"));
                } else if !allowed.is_empty() && allowed.len() <= 12 {
                    msg.push_str(&format!("; allowed keys: {}", allowed.join(", ")));
                } else if !allowed.is_empty() {
                    msg.push_str(" (not a field of this format; see schemas/)");
                }
                let child = format!("{pointer}/{}", crate::yaml::escape_pointer(key));
                out.push(Violation::at(child, rule.clone(), msg));
            }
            return;
        }
        ValidationErrorKind::Required { property } => {
            let name = property.as_str().unwrap_or_default();
            let child = format!("{pointer}/{}", crate::yaml::escape_pointer(name));
            let mut v = Violation::at(child, rule, "required field is missing");
            // Point at the enclosing mapping, which exists.
            v.pointer = pointer;
            out.push(v);
            return;
        }
        ValidationErrorKind::PropertyNames { error } => {
            // The key itself broke a rule (e.g. an unknown benchmark name).
            let key = error.instance().as_str().unwrap_or_default().to_string();
            let reason = match error.kind() {
                ValidationErrorKind::Enum { options } => {
                    format!("is not one of {}", list(options))
                }
                _ => error.to_string(),
            };
            let child = format!("{pointer}/{}", crate::yaml::escape_pointer(&key));
            out.push(Violation::at(
                child,
                rule,
                format!("key \"{key}\" {reason}"),
            ));
            return;
        }
        ValidationErrorKind::Enum { options } => {
            format!("{} is not one of {}", show(instance), list(options))
        }
        ValidationErrorKind::Constant { expected_value } => {
            format!(
                "{} must be exactly {}",
                show(instance),
                show(expected_value)
            )
        }
        ValidationErrorKind::Type { kind } => {
            let expected = match kind {
                TypeKind::Single(t) => t.to_string(),
                TypeKind::Multiple(set) => set
                    .iter()
                    .map(|t| t.to_string())
                    .collect::<Vec<_>>()
                    .join(" or "),
            };
            match instance.as_ref() {
                Value::Null | Value::Bool(_) => format!("expected {expected}, found {instance}"),
                _ => format!(
                    "expected {expected}, found {} {}",
                    json_type(instance),
                    show(instance)
                ),
            }
        }
        ValidationErrorKind::Pattern { pattern } => {
            format!(
                "{} does not match the required pattern {pattern}",
                show(instance)
            )
        }
        ValidationErrorKind::Minimum { limit } => format!("{} must be >= {limit}", show(instance)),
        ValidationErrorKind::Maximum { limit } => format!("{} must be <= {limit}", show(instance)),
        ValidationErrorKind::ExclusiveMinimum { limit } => {
            format!("{} must be > {limit}", show(instance))
        }
        ValidationErrorKind::ExclusiveMaximum { limit } => {
            format!("{} must be < {limit}", show(instance))
        }
        ValidationErrorKind::MinLength { limit } => format!(
            "is {} characters long; at least {limit} required",
            char_len(instance)
        ),
        ValidationErrorKind::MaxLength { limit } => format!(
            "is {} characters long; at most {limit} allowed",
            char_len(instance)
        ),
        ValidationErrorKind::MinItems { limit } => format!(
            "has {} item(s); at least {limit} required",
            instance.as_array().map_or(0, Vec::len)
        ),
        ValidationErrorKind::MaxItems { limit } => format!(
            "has {} item(s); at most {limit} allowed",
            instance.as_array().map_or(0, Vec::len)
        ),
        _ => err.to_string(),
    };
    out.push(Violation::at(pointer, rule, message));
}

/// Property names allowed where an `additionalProperties` error was raised, found by
/// walking the schema path (following local `$ref`s) to the object schema.
fn allowed_properties(schema: &Value, schema_path: &str) -> Vec<String> {
    let mut node = schema;
    let segments: Vec<&str> = schema_path.split('/').skip(1).collect();
    // The last segment is the `additionalProperties` keyword itself.
    for seg in &segments[..segments.len().saturating_sub(1)] {
        if *seg == "$ref" {
            match node
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix('#'))
            {
                Some(target) => match schema.pointer(target) {
                    Some(n) => node = n,
                    None => return Vec::new(),
                },
                None => return Vec::new(),
            }
            continue;
        }
        let seg = seg.replace("~1", "/").replace("~0", "~");
        node = match node {
            Value::Object(m) => match m.get(&seg) {
                Some(n) => n,
                None => return Vec::new(),
            },
            Value::Array(a) => match seg.parse::<usize>().ok().and_then(|i| a.get(i)) {
                Some(n) => n,
                None => return Vec::new(),
            },
            _ => return Vec::new(),
        };
    }
    node.get("properties")
        .and_then(Value::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

/// The allowed key closest to a misspelt one, if it is close enough to be a typo.
fn closest<'a>(key: &str, allowed: &'a [String]) -> Option<&'a str> {
    allowed
        .iter()
        .map(|a| (edit_distance(key, a), a))
        .filter(|(d, a)| *d <= 2.max(a.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, a)| a.as_str())
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

fn show(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 60 {
        let cut: String = s.chars().take(57).collect();
        format!("{cut}...")
    } else {
        s
    }
}

fn list(options: &Value) -> String {
    match options.as_array() {
        Some(items) => items
            .iter()
            .map(|o| match o {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect::<Vec<_>>()
            .join(", "),
        None => options.to_string(),
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "list",
        Value::Object(_) => "mapping",
    }
}

fn char_len(v: &Value) -> usize {
    v.as_str().map_or(0, |s| s.chars().count())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn embedded_schema_compiles_and_is_2020_12() {
        assert_eq!(
            schema()["$schema"],
            json!("https://json-schema.org/draft/2020-12/schema")
        );
    }

    #[test]
    fn embedded_eval_schema_compiles() {
        assert!(check_eval_result(&json!({})).len() >= 3);
    }

    #[test]
    fn unknown_keys_get_a_suggestion() {
        let v = check(&json!({"nmae": "a/b"}));
        let unknown = v.iter().find(|v| v.field == "nmae").unwrap();
        assert!(
            unknown.message.contains("did you mean \"name\""),
            "{unknown:?}"
        );
    }

    #[test]
    fn closest_is_conservative() {
        let allowed = vec!["name".to_string(), "version".to_string()];
        assert_eq!(closest("verison", &allowed), Some("version"));
        assert_eq!(closest("zzzzzz", &allowed), None);
    }
}
