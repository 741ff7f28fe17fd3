//! `hf://org/repo[@rev][/path]` URIs, the way manifests name upstream Hub repos and
//! files: parsed here once for the publisher (pinning revisions) and the seeder.

/// An `hf://org/repo[@rev][/path]` URI taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HfUri {
    pub repo: String,
    pub revision: Option<String>,
    pub path: Option<String>,
}

impl HfUri {
    pub fn parse(uri: &str) -> Option<HfUri> {
        let rest = uri.strip_prefix("hf://")?;
        let mut parts = rest.splitn(3, '/');
        let org = parts.next()?;
        let name_rev = parts.next()?;
        let path = parts.next().map(str::to_owned);
        let (name, revision) = match name_rev.split_once('@') {
            Some((n, r)) => (n, Some(r.to_string())),
            None => (name_rev, None),
        };
        Some(HfUri {
            repo: format!("{org}/{name}"),
            revision,
            path,
        })
    }

    pub fn render(&self) -> String {
        let mut s = format!("hf://{}", self.repo);
        if let Some(r) = &self.revision {
            s.push('@');
            s.push_str(r);
        }
        if let Some(p) = &self.path {
            s.push('/');
            s.push_str(p);
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_round_trip() {
        for u in [
            "hf://lerobot/smolvla_base",
            "hf://lerobot/smolvla_base@v1.0",
            "hf://lerobot/smolvla_base@abc/policy_preprocessor.json",
            "hf://a/b/dir/file.json",
        ] {
            assert_eq!(HfUri::parse(u).unwrap().render(), u);
        }
        let p = HfUri::parse("hf://a/b@v1/x/y.json").unwrap();
        assert_eq!(p.repo, "a/b");
        assert_eq!(p.revision.as_deref(), Some("v1"));
        assert_eq!(p.path.as_deref(), Some("x/y.json"));
        assert!(HfUri::parse("local://x").is_none());
    }
}
