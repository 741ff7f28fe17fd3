//! Manifests made from the corpus templates by varying `name` and `version`: the
//! validation benchmark's input, shared with the test that holds it to the fast
//! YAML path (so the two cannot drift apart).

/// `count` manifests cycling through `templates`; the `i`-th gets name suffix `-g{i}`
/// and version `{i % 7}.{i % 13}.{i}`.
pub fn variants(templates: &[String], count: usize) -> Vec<String> {
    (0..count)
        .map(|i| {
            let t = &templates[i % templates.len()];
            let mut out = String::with_capacity(t.len() + 64);
            for line in t.lines() {
                if let Some(rest) = line.strip_prefix("name: ") {
                    out.push_str(&format!("name: {rest}-g{i}"));
                } else if line.starts_with("version: ") {
                    out.push_str(&format!("version: {}.{}.{}", i % 7, i % 13, i));
                } else {
                    out.push_str(line);
                }
                out.push('\n');
            }
            out
        })
        .collect()
}
