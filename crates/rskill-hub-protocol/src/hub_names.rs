//! The Hub's naming rules for repo ids, in one place that the client (`hub`) and the
//! server (`hub_server`) both use, so the client never accepts an id the server would
//! refuse (nor the other way round). Owners and repo names: 1 to 96 of
//! `[A-Za-z0-9._-]`, not starting or ending with `-` or `.`, without `--` or `..` (the
//! cache layout uses `--` as its separator); a few owner names are reserved for routes,
//! and a repo name cannot end with `.git`.

/// Owner names that are routes of the Hub's URL space.
pub const RESERVED_OWNERS: &[&str] = &[
    "api",
    "models",
    "datasets",
    "spaces",
    "collections",
    "resolve",
    "settings",
];

/// Longest owner or repo name.
pub const MAX_NAME_LEN: usize = 96;

/// Why `s` cannot be an owner or a repo name, if it cannot.
pub fn check_segment(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("is empty".into());
    }
    if s.len() > MAX_NAME_LEN {
        return Err(format!("is longer than {MAX_NAME_LEN} characters"));
    }
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        return Err(format!(
            "contains {c:?} (allowed: letters, digits, `-`, `_`, `.`)"
        ));
    }
    if s.starts_with(['-', '.']) || s.ends_with(['-', '.']) {
        return Err("cannot start or end with `-` or `.`".into());
    }
    if s.contains("--") || s.contains("..") {
        return Err("cannot contain `--` or `..`".into());
    }
    Ok(())
}

/// Why `owner` cannot own repos (the segment rule, and not a reserved name), if it cannot.
pub fn check_owner(owner: &str) -> Result<(), String> {
    check_segment(owner)?;
    if RESERVED_OWNERS.contains(&owner.to_ascii_lowercase().as_str()) {
        return Err(format!("`{owner}` is a reserved name"));
    }
    Ok(())
}

/// Why `owner/name` cannot be a repo id, if it cannot; the reason names the part.
pub fn check_repo_id(owner: &str, name: &str) -> Result<(), String> {
    check_owner(owner).map_err(|r| format!("owner {r}"))?;
    check_segment(name).map_err(|r| format!("name {r}"))?;
    if name.to_ascii_lowercase().ends_with(".git") {
        return Err("a name cannot end with `.git`".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hub_rules() {
        for ok in [("acme", "rskill-x"), ("a", "b.c_d-e"), ("Org1", "Model_2")] {
            assert!(check_repo_id(ok.0, ok.1).is_ok(), "{ok:?}");
        }
        for bad in [
            ("acme", "a--b"),
            ("acme", "a..b"),
            ("-acme", "x"),
            ("acme", "x."),
            ("api", "x"),
            ("acme", "x.git"),
            ("acme", ""),
            ("acme", "a b"),
            ("acme", &"x".repeat(97)),
        ] {
            assert!(check_repo_id(bad.0, bad.1).is_err(), "{bad:?}");
        }
    }
}
