//! `rskill search`: find installable skills, filtering on the parsed and validated
//! manifests (authoritative), never on tags alone.
//!
//! Speed comes from the cache, not from trusting tags: each candidate's manifest is
//! fetched once per commit (concurrently, bounded) and kept in the standard Hub cache
//! under `snapshots/<commit>/rskill.yaml`, so a search over an unchanged catalog makes
//! one request per listing page and no manifest request. Offline, the cached
//! manifests are searched with no HTTP at all. What search reads of a manifest is
//! recorded per commit beside it ([`crate::search_facets`]), so a warm search parses no
//! YAML either, and gathered in one index file ([`crate::search_index`]), so it reads
//! one file, not two per skill.

use std::sync::Arc;

use serde::Serialize;

use crate::corpus::MANIFEST_FILE;
use crate::hub::cache::{self, RepoCache};
use crate::hub::ids::{CommitId, RepoPath};
use crate::hub::listing::{ListQuery, ModelListing};
use crate::hub::{HubClient, HubError, RepoId};
use crate::license::LicensePosture;
use crate::manifest::{ActionVerb, Benchmark, EmbodimentTag, Kind, ModelFamily, Role, Runtime};
use crate::search_facets::{self, Facets};
use crate::search_index::SearchIndex;
use crate::{tags, validate};

/// Manifest downloads in flight at once. On a Hub 20 ms away a cold search over 1,000
/// skills is bound by round trips: 16 in flight took 1.7 s, 32 took 0.9–1.0 s
/// (`scripts/bench-search.sh --latency 20`); on loopback the two are alike.
pub const FETCH_CONCURRENCY: usize = 32;
/// Listing page size asked of the Hub (the Hub's largest page).
pub const PAGE_SIZE: usize = 1000;
/// What search reads of each listed repo: its commit, its tags (tag drift) and its
/// file names (whether it has a manifest); `full` would send twice the bytes.
const LISTING_FIELDS: [&str; 3] = ["sha", "tags", "siblings"];

/// What to look for. Every set filter must hold (AND); repeated embodiments are ORed.
#[derive(Debug, Clone, Default)]
pub struct SearchQuery {
    pub text: Option<String>,
    pub kind: Option<Kind>,
    pub role: Option<Role>,
    pub embodiments: Vec<EmbodimentTag>,
    /// Leave out embodiment-agnostic (`any`) skills when filtering by embodiment.
    pub strict_embodiment: bool,
    pub license: Option<LicensePosture>,
    /// Only skills cleared for commercial use.
    pub commercial: bool,
    pub runtime: Option<Runtime>,
    pub model_family: Option<ModelFamily>,
    pub action: Option<ActionVerb>,
    pub authors: Vec<String>,
    /// Only skills whose manifest reports this benchmark (at least `min_score` when set).
    pub benchmark: Option<Benchmark>,
    pub min_score: Option<f64>,
    pub sort: SortKey,
    pub limit: Option<usize>,
    /// Which version statuses are shown (default: what `install ID` resolves to,
    /// active or deprecated).
    pub status: crate::lifecycle::resolve::StatusFilter,
    /// Only skills whose shown version has a recorded scan with this overall status.
    pub scan: Option<rskill_scan::Status>,
}

/// The order of the hits.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub enum SortKey {
    /// By repo id.
    #[default]
    Id,
    /// By the manifest's score on a benchmark, best first; skills without one last.
    Benchmark(Benchmark),
}

impl std::str::FromStr for SortKey {
    type Err = String;
    fn from_str(s: &str) -> Result<SortKey, String> {
        match s.split_once(':') {
            None if s == "id" => Ok(SortKey::Id),
            Some(("benchmark", key)) => Ok(SortKey::Benchmark(key.parse()?)),
            _ => Err(format!(
                "\"{s}\" is not a sort key: use `id` or `benchmark:<key>` (e.g. benchmark:libero_spatial)"
            )),
        }
    }
}

impl SearchQuery {
    /// The benchmark whose score the results show: the filter's, else the sort key's.
    pub fn shown_benchmark(&self) -> Option<Benchmark> {
        self.benchmark.or(match self.sort {
            SortKey::Benchmark(b) => Some(b),
            SortKey::Id => None,
        })
    }
}

/// One skill found.
#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    pub repo_id: String,
    pub sha: String,
    pub name: String,
    pub version: String,
    pub kind: Kind,
    pub role: Role,
    pub license: LicensePosture,
    pub commercial_use_allowed: bool,
    pub embodiment_tags: Vec<EmbodimentTag>,
    pub runtime: Runtime,
    pub description: String,
    /// The manifest's benchmark scores.
    pub benchmarks: std::collections::BTreeMap<String, f64>,
    /// Matched an `--embodiment` filter only through `any`.
    #[serde(skip)]
    pub agnostic_match: bool,
    /// The status of `version` (`active` without a registry file).
    pub status: crate::lifecycle::Status,
    /// The skill's aliases (alias → version).
    pub aliases: std::collections::BTreeMap<String, String>,
    /// The repo carries an OMS signature (`model.sig`); verified only by install.
    pub signed: bool,
    /// The key id the signature names (unverified here).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// The scan recorded for the shown version's commit, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scan: Option<HitScan>,
}

/// A recorded scan as search shows it: the commit, the overall status, the record.
#[derive(Debug, Clone, Serialize)]
pub struct HitScan {
    pub commit: String,
    pub status: rskill_scan::Status,
    #[serde(flatten)]
    pub record: crate::lifecycle::model::ScanRecord,
    /// The `scan.<type>.<field>` view.
    pub records: std::collections::BTreeMap<String, String>,
}

/// A candidate left out, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Skipped {
    pub repo_id: String,
    pub reason: String,
}

/// A repo whose reserved tags disagree with its manifest.
#[derive(Debug, Clone, Serialize)]
pub struct TagDrift {
    pub repo_id: String,
    pub missing: Vec<String>,
    pub unexpected: Vec<String>,
}

/// Why a candidate could not be used.
#[derive(Debug, Clone)]
enum Unusable {
    /// Its files could not be read (429 after the waits allowed, 5xx, a timeout): the
    /// answer is incomplete without it.
    Missing(String),
    /// Read, and not a usable skill (an invalid manifest or registry file).
    Invalid(String),
}

/// Everything a search produced.
#[derive(Debug, Clone, Default)]
pub struct SearchOutcome {
    pub hits: Vec<Hit>,
    /// Candidates read and left out (no valid manifest), with the reason.
    pub skipped: Vec<Skipped>,
    /// Candidates whose files could not be read, with the reason: when any, the hits
    /// are a partial answer, never to be shown as the whole one.
    pub missing: Vec<Skipped>,
    pub drifted: Vec<TagDrift>,
    pub candidates: usize,
    /// Listing pages requested (0 offline).
    pub listing_pages: usize,
    /// Manifests downloaded (0 when all came from the cache).
    pub manifests_fetched: usize,
    /// Manifests parsed from YAML (0 when every facet record was in the cache).
    pub manifests_parsed: usize,
    /// Registry files downloaded (0 when all came from the cache).
    pub registries_fetched: usize,
    /// Skills left out for their status (draft, deleted, no active version).
    pub hidden: usize,
    pub offline: bool,
    /// Catalog indexes read (`ORG/rskill-index`) and the skills their entries served.
    pub indexes_read: usize,
    pub index_entries_used: usize,
    /// Said on stderr: catalog indexes refused (and why); the search went on without them.
    pub notes: Vec<String>,
}

/// A candidate repo at a commit.
struct Candidate {
    repo: RepoId,
    /// The commit, when the listing or the cache said it.
    sha: Option<CommitId>,
    /// Tags from the listing (None offline).
    tags: Option<Vec<String>>,
    /// Whether the listing says the repo holds a manifest (None when unknown).
    has_manifest: Option<bool>,
    /// Whether the listing says the repo holds a registry file (None when unknown).
    has_registry: Option<bool>,
    /// Whether it holds a signature file.
    signed: bool,
}

/// The hit to suggest installing: the first the license guard lets through with
/// `consent` as it stands, else the first it would let through with `--yes` (the
/// `bool`); none when every hit is non-commercial and that use was not declared.
pub fn install_suggestion<'a>(
    hits: &'a [Hit],
    consent: &crate::install::guard::Consent,
) -> Option<(&'a Hit, bool)> {
    use crate::install::guard::{Decision, license_decision};
    let yes = crate::install::guard::Consent {
        yes: true,
        ..*consent
    };
    let passes = |h: &&Hit, c| !matches!(license_decision(h.license, c), Decision::Refuse { .. });
    hits.iter()
        .find(|h| passes(h, consent))
        .map(|h| (h, false))
        .or_else(|| hits.iter().find(|h| passes(h, &yes)).map(|h| (h, true)))
}

/// Runs a search against the client's Hub (or its cache when offline).
pub async fn search(client: &HubClient, query: &SearchQuery) -> Result<SearchOutcome, HubError> {
    let mut outcome = SearchOutcome {
        offline: client.env().offline,
        ..SearchOutcome::default()
    };
    let candidates = if outcome.offline {
        offline_candidates(client, query)
    } else {
        let (c, pages) = online_candidates(client, query).await?;
        outcome.listing_pages = pages;
        c
    };
    // The orgs' catalog indexes are no skills: their commits are kept aside.
    let mut index_shas = std::collections::HashMap::new();
    let candidates: Vec<Candidate> = candidates
        .into_iter()
        .filter(|c| {
            if !crate::catalog_index::is_index_repo(&c.repo) || c.has_manifest != Some(false) {
                return true;
            }
            if let Some(sha) = &c.sha {
                index_shas.insert(c.repo.org().to_string(), sha.clone());
            }
            false
        })
        .collect();
    outcome.candidates = candidates.len();

    // A warm search finds every candidate's facets in the index: one read in all.
    let mut index = SearchIndex::load(client.env());
    if !outcome.offline {
        org_indexes(client, &candidates, &index_shas, &mut index, &mut outcome).await;
    }
    let mut loaded = Vec::new();
    // Candidates the index served: nothing new to record for them.
    let mut from_index = std::collections::HashSet::new();
    let limit = Arc::new(tokio::sync::Semaphore::new(FETCH_CONCURRENCY));
    let mut set = tokio::task::JoinSet::new();
    for (i, c) in candidates.into_iter().enumerate() {
        if c.has_manifest != Some(false)
            && let Some((facets, registry)) = c
                .sha
                .as_ref()
                .and_then(|sha| index.lookup(c.repo.as_str(), sha))
        {
            from_index.insert(i);
            loaded.push((i, c, Ok(Some(((facets, false, false), (registry, false))))));
            continue;
        }
        let client = client.clone();
        let limit = limit.clone();
        set.spawn(async move {
            let _permit = limit.acquire_owned().await;
            let fetched = load_manifest(&client, &c).await;
            let governance = match &fetched {
                Ok(Some(_)) => load_registry(&client, &c).await,
                _ => Ok((None, false)),
            };
            (i, c, fetched.and_then(|f| Ok(f.zip(Some(governance?)))))
        });
    }
    while let Some(joined) = set.join_next().await {
        // A task that died took its candidate with it: the answer would be short.
        let (i, c, fetched) =
            joined.map_err(|e| HubError::Other(format!("a manifest read failed: {e}")))?;
        loaded.push((i, c, fetched));
    }
    loaded.sort_by_key(|(i, _, _)| *i);

    for (i, c, fetched) in loaded {
        let ((manifest, downloaded, parsed), (registry, registry_fetched)) = match fetched {
            Ok(Some(v)) => v,
            Ok(None) => {
                outcome.skipped.push(Skipped {
                    repo_id: c.repo.to_string(),
                    reason: "no rskill.yaml".into(),
                });
                continue;
            }
            Err(Unusable::Invalid(reason)) => {
                outcome.skipped.push(Skipped {
                    repo_id: c.repo.to_string(),
                    reason,
                });
                continue;
            }
            Err(Unusable::Missing(reason)) => {
                outcome.missing.push(Skipped {
                    repo_id: c.repo.to_string(),
                    reason,
                });
                continue;
            }
        };
        outcome.manifests_fetched += usize::from(downloaded);
        outcome.manifests_parsed += usize::from(parsed);
        outcome.registries_fetched += usize::from(registry_fetched);
        if let Some(sha) = &c.sha
            && !from_index.contains(&i)
        {
            index.record(c.repo.as_str(), sha, &manifest, registry.as_ref());
        }
        if manifest.name != c.repo.as_str() {
            outcome.skipped.push(Skipped {
                repo_id: c.repo.to_string(),
                reason: format!("manifest names another repo ({})", manifest.name),
            });
            continue;
        }
        // A card without reserved tags does not disagree with its manifest; one that
        // has some must have them right.
        if let Some(listed) = c.tags.as_ref().filter(|t| {
            t.iter()
                .any(|t| tags::is_reserved(t) && t != tags::RSKILL_TAG)
        }) {
            let drift = tag_drift(listed, &manifest);
            if !drift.missing.is_empty() || !drift.unexpected.is_empty() {
                outcome.drifted.push(TagDrift {
                    repo_id: c.repo.to_string(),
                    ..drift
                });
            }
        }
        let version = manifest.version.clone();
        let Some(mut hit) = matches(query, &c, manifest) else {
            continue;
        };
        match crate::lifecycle::resolve::search_view(registry.as_ref(), &version, &query.status) {
            Some(view) => {
                hit.version = view.version;
                hit.status = view.status;
                hit.aliases = view.aliases;
                hit.scan = registry
                    .as_ref()
                    .and_then(|r| r.scan_for_version(&hit.version))
                    .map(|(commit, record)| HitScan {
                        commit: commit.to_string(),
                        status: record.status(),
                        records: record.records(),
                        record: record.clone(),
                    });
                if let Some(want) = query.scan
                    && hit.scan.as_ref().map(|s| s.status) != Some(want)
                {
                    continue;
                }
                outcome.hits.push(hit);
            }
            None => outcome.hidden += 1,
        }
    }
    outcome.hits.sort_by(|a, b| a.repo_id.cmp(&b.repo_id));
    if let SortKey::Benchmark(bench) = query.sort {
        // Best first; a stable sort keeps ties (and skills without a score) by id.
        let score = |h: &Hit| h.benchmarks.get(bench.as_str()).copied();
        outcome.hits.sort_by(|a, b| match (score(a), score(b)) {
            (Some(x), Some(y)) => y.total_cmp(&x),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        });
    }
    if let Some(n) = query.limit {
        outcome.hits.truncate(n);
    }
    outcome
        .missing
        .extend(signing_keys(client, &mut outcome.hits, &mut index).await);
    tokio::task::spawn_blocking(move || index.save())
        .await
        .map_err(|e| HubError::Other(format!("writing the search index failed: {e}")))?;
    Ok(outcome)
}

/// Reads the catalog index (`ORG/rskill-index`, [`crate::catalog_index`]) of each
/// org with candidates this machine's search index cannot serve, and records in the
/// search index every entry made for the very commit the listing names (and agreeing
/// with the listing on which files the commit holds): those skills then need no
/// manifest, registry or signature request. An org is asked when its index commit came
/// with the listing (one request) and one candidate is missing, or else when three are
/// (then two requests: the index repo's info and the file). An index that is refused
/// (a signature that fails for an org whose governance key this machine trusts, an
/// oversize file, another org's index) is left unused and said in `notes`.
async fn org_indexes(
    client: &HubClient,
    candidates: &[Candidate],
    index_shas: &std::collections::HashMap<String, CommitId>,
    local: &mut SearchIndex,
    outcome: &mut SearchOutcome,
) {
    use futures::StreamExt;
    let mut misses: std::collections::BTreeMap<&str, usize> = Default::default();
    for c in candidates {
        if c.has_manifest != Some(false)
            && let Some(sha) = &c.sha
            && !local.has(c.repo.as_str(), sha)
        {
            *misses.entry(c.repo.org()).or_default() += 1;
        }
    }
    let orgs: Vec<(String, Option<CommitId>)> = misses
        .into_iter()
        .filter_map(|(org, n)| {
            let sha = index_shas.get(org).cloned();
            (n >= if sha.is_some() { 1 } else { 3 }).then(|| (org.to_string(), sha))
        })
        .collect();
    if orgs.is_empty() {
        return;
    }
    let trust = match crate::trust::Policy::load() {
        Ok(t) => t,
        Err(e) => {
            outcome.notes.push(format!(
                "catalog indexes not used: the trust policy cannot be read ({e})"
            ));
            return;
        }
    };
    let read: Vec<_> = futures::stream::iter(orgs)
        .map(|(org, sha)| {
            let keys = trust.for_org(&org).governance_public_keys();
            async move {
                let index = crate::catalog_index::read(client, &org, sha, &keys).await;
                (org, index)
            }
        })
        .buffer_unordered(8)
        .collect()
        .await;
    let by_id: std::collections::HashMap<&str, &Candidate> =
        candidates.iter().map(|c| (c.repo.as_str(), c)).collect();
    for (org, index) in read {
        let index = match index {
            Ok(i) => i,
            Err(crate::catalog_index::NotUsed::Absent) => continue,
            Err(crate::catalog_index::NotUsed::Refused(why)) => {
                outcome.notes.push(format!(
                    "catalog index not used: {why}; {org}'s manifests were read instead"
                ));
                continue;
            }
        };
        outcome.indexes_read += 1;
        for (id, e) in &index.skills {
            let Some(c) = by_id.get(id.as_str()) else {
                continue;
            };
            let Some(sha) = &c.sha else {
                continue;
            };
            let agrees = &e.sha == sha
                && c.has_manifest != Some(false)
                && c.has_registry.is_none_or(|has| has == e.registry.is_some())
                && c.signed == e.signed;
            if !agrees || local.has(c.repo.as_str(), sha) {
                continue;
            }
            let registry = match &e.registry {
                None => None,
                Some(file) => match crate::lifecycle::Registry::from_file(file) {
                    Ok(r) => Some(r),
                    Err(_) => continue,
                },
            };
            local.record(c.repo.as_str(), sha, &e.facets, registry.as_ref());
            if let Some(key) = &e.key_id {
                local.set_key_id(c.repo.as_str(), sha, key);
            }
            outcome.index_entries_used += 1;
        }
    }
}

/// Fills in the key id of each signed hit from its signature file (read through the
/// per-commit cache, so a warm search reads no network for it); the hits whose file
/// could not be read are returned as missing.
async fn signing_keys(
    client: &HubClient,
    hits: &mut [Hit],
    index: &mut SearchIndex,
) -> Vec<Skipped> {
    use futures::StreamExt;
    let path: RepoPath = rskill_signing::SIGNATURE_FILE
        .parse()
        .expect("a valid repo path");
    let mut wanted: Vec<(usize, RepoId, CommitId)> = Vec::new();
    for (i, h) in hits.iter_mut().enumerate().filter(|(_, h)| h.signed) {
        let (Ok(repo), Ok(sha)) = (h.repo_id.parse::<RepoId>(), h.sha.parse::<CommitId>()) else {
            continue;
        };
        // What an earlier search read of this commit's signature.
        match index.key_id(repo.as_str(), &sha) {
            Some(key) => h.key_id = Some(key.to_string()),
            None => wanted.push((i, repo, sha)),
        }
    }
    type Found = (usize, RepoId, CommitId, Result<Option<String>, HubError>);
    let found: Vec<Found> = futures::stream::iter(wanted)
        .map(|(i, repo, sha)| {
            let path = path.clone();
            async move {
                // A signature that was read and does not parse has no key to show; one
                // that could not be read leaves the answer incomplete.
                let key = match client.read_file_cached(&repo, &sha, &path).await {
                    Ok(b) => Ok(rskill_signing::Bundle::parse(&b)
                        .ok()
                        .and_then(|b| b.key_hint().map(str::to_string))),
                    Err(HubError::EntryNotFound { .. }) => Ok(None),
                    Err(e) => Err(e),
                };
                (i, repo, sha, key)
            }
        })
        .buffer_unordered(FETCH_CONCURRENCY)
        .collect()
        .await;
    let mut missing = Vec::new();
    for (i, repo, sha, key) in found {
        let key = match key {
            Ok(key) => key,
            Err(e) => {
                missing.push(Skipped {
                    repo_id: repo.to_string(),
                    reason: format!("{}: {e}", rskill_signing::SIGNATURE_FILE),
                });
                None
            }
        };
        if let Some(key) = &key {
            index.set_key_id(repo.as_str(), &sha, key);
        }
        hits[i].key_id = key;
    }
    missing
}

async fn online_candidates(
    client: &HubClient,
    query: &SearchQuery,
) -> Result<(Vec<Candidate>, usize), HubError> {
    let base = ListQuery {
        expand: LISTING_FIELDS.to_vec(),
        limit: Some(PAGE_SIZE),
        ..ListQuery::default()
    };
    let mut listings: Vec<ModelListing> = Vec::new();
    let mut pages = 0;
    if query.authors.is_empty() {
        let (items, p) = client
            .list_models(&ListQuery {
                filters: vec![tags::RSKILL_TAG.to_string()],
                ..base
            })
            .await?;
        listings.extend(items);
        pages += p;
    } else {
        for author in &query.authors {
            let (items, p) = client
                .list_models(&ListQuery {
                    author: Some(author.clone()),
                    ..base.clone()
                })
                .await?;
            listings.extend(items);
            pages += p;
        }
    }
    let mut seen = std::collections::HashSet::new();
    let candidates = listings
        .into_iter()
        .filter(|l| seen.insert(l.id.clone()))
        .filter_map(|l| {
            let repo: RepoId = l.id.parse().ok()?;
            Some(Candidate {
                repo,
                sha: l.sha.clone(),
                has_manifest: l
                    .siblings
                    .as_ref()
                    .map(|s| s.iter().any(|f| f.rfilename == MANIFEST_FILE)),
                has_registry: l.siblings.as_ref().map(|s| {
                    s.iter()
                        .any(|f| f.rfilename == crate::lifecycle::remote::REGISTRY_FILE)
                }),
                signed: l.siblings.as_ref().is_some_and(|s| {
                    s.iter()
                        .any(|f| f.rfilename == rskill_signing::SIGNATURE_FILE)
                }),
                tags: Some(l.tags),
            })
        })
        .collect();
    Ok((candidates, pages))
}

/// Offline: every cached repo with a manifest at the commit `main` last pointed to.
fn offline_candidates(client: &HubClient, query: &SearchQuery) -> Vec<Candidate> {
    let root = &client.env().hub_cache;
    cache::cached_repos(root)
        .into_iter()
        .filter(|r| query.authors.is_empty() || query.authors.iter().any(|a| a == r.org()))
        .filter_map(|repo| {
            let cache = RepoCache::new(root, &repo);
            let sha = cache.read_ref(&main_ref())?;
            cache.lookup(&sha, &manifest_path())?;
            let signed = rskill_signing::SIGNATURE_FILE
                .parse::<RepoPath>()
                .ok()
                .is_some_and(|p| cache.lookup(&sha, &p).is_some());
            Some(Candidate {
                repo,
                sha: Some(sha),
                tags: None,
                has_manifest: Some(true),
                has_registry: None,
                signed,
            })
        })
        .collect()
}

/// The candidate's manifest facets, from their record, the cached manifest or the Hub:
/// `Ok(None)` when the repo has none, `Err` when it cannot be used (could not be read,
/// or read and invalid); the flags say whether the manifest was downloaded and whether
/// it was parsed.
async fn load_manifest(
    client: &HubClient,
    c: &Candidate,
) -> Result<Option<(Facets, bool, bool)>, Unusable> {
    if c.has_manifest == Some(false) {
        return Ok(None);
    }
    let cache = RepoCache::new(&client.env().hub_cache, &c.repo);
    if let Some(sha) = &c.sha
        && let Some(facets) = search_facets::read(&cache, sha)
    {
        remember_main(&cache, sha);
        return Ok(Some((facets, false, false)));
    }
    let cached = c.sha.as_ref().and_then(|sha| {
        cache
            .read_small(sha, &manifest_path())
            .map(|b| (b, sha.clone()))
    });
    let (bytes, downloaded, sha) = match cached {
        Some((b, sha)) => (b, false, sha),
        _ if client.env().offline => return Err(Unusable::Missing("not in the cache".into())),
        _ => {
            let sha = match &c.sha {
                Some(sha) => sha.clone(),
                None => match client.repo_info(&c.repo, None).await {
                    Ok(info) => info.sha,
                    Err(e) => return Err(Unusable::Missing(e.to_string())),
                },
            };
            match client
                .read_file_cached(&c.repo, &sha, &manifest_path())
                .await
            {
                Ok(b) => (b, true, sha),
                Err(HubError::EntryNotFound { .. }) => return Ok(None),
                // A private repo this token cannot read is skipped, never an error.
                Err(HubError::RepoNotFound { .. }) => {
                    return Err(Unusable::Invalid("not readable with this token".into()));
                }
                Err(e) => return Err(Unusable::Missing(e.to_string())),
            }
        }
    };
    // Parsing, validating and the cache writes (fsyncs) leave the async threads, so
    // they overlap one another and the downloads still in flight.
    let parsed = tokio::task::spawn_blocking(move || {
        remember_main(&cache, &sha);
        let text = String::from_utf8_lossy(&bytes);
        let m = validate::parse_valid(&text).map_err(|v| {
            Unusable::Invalid(format!(
                "invalid manifest: {}",
                v.first()
                    .map(|v| v.render(MANIFEST_FILE))
                    .unwrap_or_default()
            ))
        })?;
        let facets = Facets::of(&m);
        search_facets::write(&cache, &sha, &facets);
        Ok(facets)
    })
    .await
    .map_err(|e| Unusable::Missing(format!("reading the manifest failed: {e}")))?;
    parsed.map(|facets| Some((facets, downloaded, true)))
}

/// The candidate's validated registry file at its commit (cached per commit like the
/// manifest): `Ok((None, _))` without one; `Err` for a file that does not validate (the
/// skill is skipped, naming the problem) or could not be read (the answer is
/// incomplete). The flag says whether it was downloaded.
async fn load_registry(
    client: &HubClient,
    c: &Candidate,
) -> Result<(Option<crate::lifecycle::Registry>, bool), Unusable> {
    let Some(sha) = &c.sha else {
        return Ok((None, false));
    };
    if c.has_registry == Some(false) {
        return Ok((None, false));
    }
    let path: RepoPath = crate::lifecycle::remote::REGISTRY_FILE
        .parse()
        .expect("a safe path");
    let cache = RepoCache::new(&client.env().hub_cache, &c.repo);
    let (bytes, fetched) = match cache.read_small(sha, &path) {
        Some(b) => (b, false),
        // Offline, or unknown presence: only what the cache holds.
        None if client.env().offline || c.has_registry.is_none() => return Ok((None, false)),
        None => match client.read_file_cached(&c.repo, sha, &path).await {
            Ok(b) => (b, true),
            Err(HubError::EntryNotFound { .. }) => return Ok((None, false)),
            Err(e) => {
                return Err(Unusable::Missing(format!(
                    "{}: {e}",
                    crate::lifecycle::remote::REGISTRY_FILE
                )));
            }
        },
    };
    crate::lifecycle::Registry::parse(&bytes)
        .map(|r| (Some(r), fetched))
        .map_err(|e| Unusable::Invalid(format!("{}: {e}", crate::lifecycle::remote::REGISTRY_FILE)))
}

/// Records the commit `main` points to (what offline search reads), writing only when
/// it changed: a warm search must not rewrite (and fsync) one file per candidate.
fn remember_main(cache: &RepoCache, sha: &CommitId) {
    if cache.read_ref(&main_ref()).as_ref() != Some(sha) {
        let _ = cache.write_ref(&main_ref(), sha);
    }
}

fn main_ref() -> RepoPath {
    "main".parse().expect("a safe ref name")
}

fn manifest_path() -> RepoPath {
    RepoPath::manifest()
}

/// Reserved tags the listing shows vs those the manifest projects.
fn tag_drift(listed: &[String], m: &Facets) -> TagDrift {
    let want = &m.reserved_tags;
    let have: Vec<&String> = listed.iter().filter(|t| tags::is_reserved(t)).collect();
    TagDrift {
        repo_id: String::new(),
        missing: want.iter().filter(|t| !have.contains(t)).cloned().collect(),
        unexpected: have
            .into_iter()
            .filter(|t| !want.contains(t))
            .cloned()
            .collect(),
    }
}

/// The hit, if the manifest satisfies every filter.
fn matches(q: &SearchQuery, c: &Candidate, m: Facets) -> Option<Hit> {
    if q.kind.is_some_and(|k| k != m.kind)
        || q.role.is_some_and(|r| r != m.role)
        || q.license.is_some_and(|l| l != m.license)
        || (q.commercial && !m.license.commercial_use_allowed())
        || q.runtime.is_some_and(|r| r != m.runtime)
        || q.model_family.is_some_and(|f| Some(f) != m.model_family)
        || q.action.is_some_and(|a| !m.actions.contains(&a))
    {
        return None;
    }
    if let Some(bench) = q.benchmark {
        match m.benchmarks.get(bench.as_str()) {
            None => return None,
            Some(score) if q.min_score.is_some_and(|min| *score < min) => return None,
            Some(_) => {}
        }
    }
    let mut agnostic_match = false;
    if !q.embodiments.is_empty() {
        let direct = q.embodiments.iter().any(|e| m.embodiment_tags.contains(e));
        if !direct {
            if q.strict_embodiment || !m.is_embodiment_agnostic() {
                return None;
            }
            agnostic_match = true;
        }
    }
    if let Some(text) = &q.text
        && !text_matches(text, c.repo.as_str(), &m)
    {
        return None;
    }
    Some(Hit {
        repo_id: c.repo.to_string(),
        sha: c.sha.as_ref().map(ToString::to_string).unwrap_or_default(),
        commercial_use_allowed: m.license.commercial_use_allowed(),
        name: m.name,
        version: m.version,
        kind: m.kind,
        role: m.role,
        license: m.license,
        embodiment_tags: m.embodiment_tags,
        runtime: m.runtime,
        description: m.description,
        benchmarks: m.benchmarks,
        agnostic_match,
        status: crate::lifecycle::Status::Active,
        aliases: Default::default(),
        signed: c.signed,
        key_id: None,
        scan: None,
    })
}

/// Every word of the query appears (case-insensitively) in the repo id, description,
/// actions, objects or scenes.
fn text_matches(text: &str, repo_id: &str, m: &Facets) -> bool {
    let mut haystack = format!("{repo_id}\n{}\n", m.description);
    for a in &m.actions {
        haystack.push_str(a.as_str());
        haystack.push('\n');
    }
    for s in m.objects.iter().chain(&m.scenes) {
        haystack.push_str(s);
        haystack.push('\n');
    }
    let haystack = haystack.to_lowercase();
    text.split_whitespace()
        .all(|w| haystack.contains(&w.to_lowercase()))
}
