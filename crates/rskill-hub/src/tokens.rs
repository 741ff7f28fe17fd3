//! Access tokens: who a token speaks for (a user and the organizations they belong to)
//! and whether it may write, and manage (change a skill's governance files,
//! `rskill.registry.json`: version statuses and aliases, and its signed state
//! `rskill.registry.sig`; delete or move release tags and delete governed or released
//! repos, `immutable.rs`). Tokens are created from the command line
//! (`rskill-hub token create`) or by [`create`]; only their SHA-256 is kept on disk, in
//! `DIR/tokens.json`, which a running server re-reads when it changes. User and
//! organization names are unique regardless of case (as on the Hub): a token for `ACME`
//! is refused while `acme` names a user, an organization or a repo namespace.

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::RwLock;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use super::errors::HubError;
use super::names;
use super::objects::sha256_hex;
use super::timefmt;

/// Who a valid token speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub user: String,
    pub orgs: Vec<String>,
    pub write: bool,
    /// May commit changes to the governance file, delete or move release tags and delete
    /// governed or released repos (implies `write`).
    pub manage: bool,
}

/// What a token may do besides reading.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rights {
    pub write: bool,
    /// Change statuses and aliases, release tags and governed repos; implies `write`.
    pub manage: bool,
}

impl Identity {
    /// Whether this identity is `owner` or a member of it.
    pub fn member_of(&self, owner: &str) -> bool {
        self.user == owner || self.orgs.iter().any(|o| o == owner)
    }

    /// Whether this identity may write repos of `owner`.
    pub fn can_write(&self, owner: &str) -> bool {
        self.write && self.member_of(owner)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TokenRecord {
    sha256: String,
    user: String,
    orgs: Vec<String>,
    write: bool,
    #[serde(default)]
    manage: bool,
    created_at: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct TokenFile {
    tokens: Vec<TokenRecord>,
}

fn tokens_path(data_dir: &Path) -> PathBuf {
    data_dir.join("tokens.json")
}

/// Creates a token for `user`, member of `orgs`, with write rights if `write`, and
/// returns it. This is the only time the token is visible: the server keeps its hash.
pub fn create(
    data_dir: &Path,
    user: &str,
    orgs: &[String],
    write: bool,
) -> Result<String, HubError> {
    create_with(
        data_dir,
        user,
        orgs,
        Rights {
            write,
            manage: false,
        },
    )
}

/// [`create`] with explicit rights; `manage` implies `write`.
pub fn create_with(
    data_dir: &Path,
    user: &str,
    orgs: &[String],
    rights: Rights,
) -> Result<String, HubError> {
    let write = rights.write || rights.manage;
    names::check_account_name(user)?;
    for org in orgs {
        names::check_account_name(org)?;
    }
    std::fs::create_dir_all(data_dir).map_err(HubError::io_with(format!(
        "creating {}",
        data_dir.display()
    )))?;
    let lock_path = data_dir.join("tokens.lock");
    let lock = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(HubError::io_with(format!(
            "opening {}",
            lock_path.display()
        )))?;
    lock.lock().map_err(HubError::io_with(format!(
        "locking {}",
        lock_path.display()
    )))?;
    let path = tokens_path(data_dir);
    let mut file: TokenFile = if path.exists() {
        super::storage::read_json(&path)?
    } else {
        TokenFile::default()
    };
    check_collisions(data_dir, &file, user, orgs)?;
    let token = new_token()?;
    let mut orgs_sorted: Vec<String> = orgs.to_vec();
    orgs_sorted.sort();
    orgs_sorted.dedup();
    file.tokens.push(TokenRecord {
        sha256: sha256_hex(token.as_bytes()),
        user: user.to_owned(),
        orgs: orgs_sorted,
        write,
        manage: rights.manage,
        created_at: timefmt::now(),
    });
    let bytes = super::storage::to_json(&file)?;
    crate::fsutil::write_atomic(&path, &bytes)
        .map_err(HubError::io_with(format!("writing {}", path.display())))?;
    Ok(token)
}

/// Refuses names that differ only in case from an account already known (in tokens or
/// as a repo namespace on disk), or from each other.
fn check_collisions(
    data_dir: &Path,
    file: &TokenFile,
    user: &str,
    orgs: &[String],
) -> Result<(), HubError> {
    let mut known: Vec<String> = file
        .tokens
        .iter()
        .flat_map(|t| std::iter::once(t.user.clone()).chain(t.orgs.iter().cloned()))
        .collect();
    for kind in ["models", "datasets"] {
        let dir = data_dir.join("repos").join(kind);
        if let Ok(entries) = std::fs::read_dir(&dir) {
            known.extend(
                entries
                    .flatten()
                    .filter_map(|e| e.file_name().to_str().map(str::to_owned)),
            );
        }
    }
    for name in std::iter::once(user).chain(orgs.iter().map(String::as_str)) {
        if let Some(existing) = known
            .iter()
            .find(|k| k.as_str() != name && k.eq_ignore_ascii_case(name))
        {
            return Err(HubError::AccountNameTaken {
                name: name.to_owned(),
                existing: existing.clone(),
            });
        }
        known.push(name.to_owned());
    }
    Ok(())
}

/// `hf_` and 34 random letters and digits, the shape of Hub user access tokens.
fn new_token() -> Result<String, HubError> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut out = String::from("hf_");
    while out.len() < 37 {
        let mut buf = [0u8; 64];
        getrandom::fill(&mut buf).map_err(|e| {
            HubError::io(
                "drawing a random token",
                std::io::Error::other(e.to_string()),
            )
        })?;
        for b in buf {
            // Rejection sampling keeps every character equally likely.
            if (b as usize) < 248 && out.len() < 37 {
                out.push(ALPHABET[b as usize % ALPHABET.len()] as char);
            }
        }
    }
    Ok(out)
}

/// When and how large the tokens file was when last read.
type Stamp = Option<(SystemTime, u64)>;

/// The tokens file as a running server sees it, reloaded whenever it changes on disk.
pub struct TokenStore {
    path: PathBuf,
    cache: RwLock<(Stamp, HashMap<String, Identity>)>,
}

impl TokenStore {
    pub fn new(data_dir: &Path) -> Self {
        TokenStore {
            path: tokens_path(data_dir),
            cache: RwLock::new((None, HashMap::new())),
        }
    }

    fn stamp(&self) -> Stamp {
        let m = std::fs::metadata(&self.path).ok()?;
        Some((m.modified().ok()?, m.len()))
    }

    /// Who `token` speaks for, if it is a valid token.
    pub fn lookup(&self, token: &str) -> Result<Option<Identity>, HubError> {
        let stamp = self.stamp();
        let hash = sha256_hex(token.as_bytes());
        {
            let cache = self.cache.read().unwrap_or_else(|e| e.into_inner());
            if cache.0 == stamp {
                return Ok(cache.1.get(&hash).cloned());
            }
        }
        let map = if stamp.is_some() {
            let file: TokenFile = super::storage::read_json(&self.path)?;
            file.tokens
                .into_iter()
                .map(|t| {
                    (
                        t.sha256,
                        Identity {
                            user: t.user,
                            orgs: t.orgs,
                            write: t.write || t.manage,
                            manage: t.manage,
                        },
                    )
                })
                .collect()
        } else {
            HashMap::new()
        };
        let found = map.get(&hash).cloned();
        *self.cache.write().unwrap_or_else(|e| e.into_inner()) = (stamp, map);
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_tokens_are_found_and_only_hashes_are_stored() {
        let dir = tempfile::tempdir().unwrap();
        let store = TokenStore::new(dir.path());
        assert_eq!(store.lookup("hf_nothing").unwrap(), None);
        let t = create(dir.path(), "alice", &["acme".into(), "acme".into()], true).unwrap();
        assert!(t.starts_with("hf_") && t.len() == 37);
        let id = store.lookup(&t).unwrap().expect("token is known");
        assert_eq!(id.user, "alice");
        assert_eq!(id.orgs, vec!["acme"]);
        assert!(id.can_write("acme") && id.can_write("alice") && !id.can_write("other"));
        let r = create(dir.path(), "bob", &[], false).unwrap();
        let bob = store.lookup(&r).unwrap().unwrap();
        assert!(bob.member_of("bob") && !bob.can_write("bob"));
        let on_disk = std::fs::read_to_string(dir.path().join("tokens.json")).unwrap();
        assert!(!on_disk.contains(&t) && !on_disk.contains(&r));
        assert!(create(dir.path(), "bad name", &[], false).is_err());
        assert!(matches!(
            create(dir.path(), "dave", &["ACME".into()], false),
            Err(HubError::AccountNameTaken { .. })
        ));
        assert!(create(dir.path(), "erin", &["Erin".into()], false).is_err());
        assert!(create(dir.path(), "alice", &[], false).is_ok());
        assert!(!id.manage);
        let m = create_with(
            dir.path(),
            "mia",
            &[],
            Rights {
                write: false,
                manage: true,
            },
        )
        .unwrap();
        let mia = store.lookup(&m).unwrap().unwrap();
        assert!(mia.manage && mia.write, "manage implies write");
    }
}
