//! `rskill search [QUERY] [filters…]`: a table of matching skills on stdout (or
//! `--json`), and on stderr what was skipped, tag drift warnings and how to install.

use std::io::IsTerminal;

use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use rskill::cli::{CliError, Outcome, hub_client, paint, runtime, use_color};
use rskill::install::guard::Consent;
use rskill::search::{self, SearchQuery, SortKey};
use rskill_manifest::license::{CommercialUse, LicensePosture};
use rskill_manifest::manifest::{
    ActionVerb, Benchmark, EmbodimentTag, Kind, ModelFamily, Role, Runtime,
};

#[derive(clap::Args)]
pub struct Args {
    /// Words to find in repo ids, descriptions, actions, objects and scenes
    query: Option<String>,
    /// What the skill is
    #[arg(long, value_enum)]
    kind: Option<Kind>,
    /// Where it sits in the control stack
    #[arg(long, value_enum)]
    role: Option<Role>,
    /// Robot the skill must support (repeatable: any of them); `any` skills match too
    #[arg(long, value_enum)]
    embodiment: Vec<EmbodimentTag>,
    /// With --embodiment: leave out embodiment-agnostic (`any`) skills
    #[arg(long)]
    strict_embodiment: bool,
    /// License posture
    #[arg(long, value_enum)]
    license: Option<LicensePosture>,
    /// Only skills cleared for commercial use
    #[arg(long)]
    commercial: bool,
    /// Runtime the weights need
    #[arg(long, value_enum)]
    runtime: Option<Runtime>,
    /// Model family of a learned policy
    #[arg(long, value_enum)]
    model_family: Option<ModelFamily>,
    /// Action verb the skill performs
    #[arg(long, value_enum)]
    action: Option<ActionVerb>,
    /// Only skills whose manifest reports a score on this benchmark (shows the score column)
    #[arg(long, value_enum)]
    benchmark: Option<Benchmark>,
    /// With --benchmark: only skills scoring at least this (0 to 1)
    #[arg(long, requires = "benchmark", value_parser = parse_score)]
    min_score: Option<f64>,
    /// Order: `id` (default) or `benchmark:<key>`, best score first
    #[arg(long, default_value = "id", value_parser = parse_sort)]
    sort: SortKey,
    /// Search every repo of these organisations (repeatable) instead of `rskill`-tagged repos
    #[arg(long)]
    author: Vec<String>,
    #[arg(long)]
    limit: Option<usize>,
    /// Also show skills with no active version, by their newest deprecated one
    #[arg(long)]
    include_deprecated: bool,
    /// Show versions in these statuses (comma-separated: draft, active, deprecated,
    /// deleted) instead of what `rskill install ID` resolves to
    #[arg(long, value_delimiter = ',', value_parser = parse_status)]
    status: Vec<rskill::lifecycle::Status>,
    /// Only skills whose shown version has a recorded scan with this status (clean,
    /// warning, dangerous or error); skills without a record are left out
    #[arg(long, value_parser = parse_scan)]
    scan: Option<rskill_scan::Status>,
    /// Print `[{repo_id, sha, name, version, status, aliases, scan, kind, role, license, commercial_use_allowed, embodiment_tags, runtime, description, benchmarks}]`
    #[arg(long)]
    json: bool,
    /// List the skipped repos with the reason
    #[arg(short, long)]
    verbose: bool,
    /// When some manifests could not be read (rate limited past --max-wait, 5xx,
    /// timeouts), still print the matches found, marked partial (`--json`: an object
    /// `{partial: true, missing, hits}`); the exit code stays 1
    #[arg(long)]
    allow_partial: bool,
    /// Find groups (repos tagged rskill-group) instead of skills; QUERY matches their
    /// id, description and member ids
    #[arg(long)]
    groups: bool,
    /// Hub token (else HF_TOKEN, HF_TOKEN_PATH, $HF_HOME/token)
    #[arg(long)]
    token: Option<String>,
}

pub fn run(args: Args) -> Result<Outcome, CliError> {
    if args.groups {
        let client = hub_client(args.token.as_deref())?;
        let (hits, skipped) = runtime()?.block_on(rskill::search_groups::search_groups(
            &client,
            args.query.as_deref(),
        ))?;
        if args.json {
            println!("{}", serde_json::to_string_pretty(&hits).expect("JSON"));
        } else {
            for h in &hits {
                println!("{} {}  {}", h.repo_id, h.version, h.description);
                for m in &h.members {
                    println!("    {m}");
                }
            }
        }
        eprintln!(
            "{} group(s){}",
            hits.len(),
            if skipped > 0 {
                format!(
                    ", {skipped} tagged repo(s) without a valid {} skipped",
                    rskill_manifest::group::GROUP_FILE
                )
            } else {
                String::new()
            }
        );
        return Ok(Outcome::Success);
    }
    let query = SearchQuery {
        text: args.query,
        kind: args.kind,
        role: args.role,
        embodiments: args.embodiment,
        strict_embodiment: args.strict_embodiment,
        license: args.license,
        commercial: args.commercial,
        runtime: args.runtime,
        model_family: args.model_family,
        action: args.action,
        authors: args.author,
        benchmark: args.benchmark,
        min_score: args.min_score,
        sort: args.sort,
        limit: args.limit,
        status: rskill::lifecycle::resolve::StatusFilter {
            only: (!args.status.is_empty()).then_some(args.status),
            include_deprecated: args.include_deprecated,
        },
        scan: args.scan,
    };
    let client = hub_client(args.token.as_deref())?;
    let outcome = runtime()?.block_on(search::search(&client, &query))?;
    let err_color = use_color(std::io::stderr().is_terminal());
    let partial = !outcome.missing.is_empty();
    if partial {
        // Never a shorter table shown as the whole answer.
        eprintln!(
            "{} {} repo(s) could not be read, so the answer is incomplete:",
            paint("error:", "1;31", err_color),
            outcome.missing.len()
        );
        for m in &outcome.missing {
            eprintln!("  {}: {}", m.repo_id, m.reason);
        }
        if !args.allow_partial {
            eprintln!(
                "hint: run again (what was read is cached), raise --max-wait, or pass \
                 --allow-partial to see the {} match(es) found so far",
                outcome.hits.len()
            );
            return Ok(Outcome::Failure);
        }
    }
    if args.json {
        let shown = if partial {
            serde_json::json!({
                "partial": true,
                "missing": outcome.missing,
                "hits": outcome.hits,
            })
        } else {
            serde_json::to_value(&outcome.hits).expect("JSON")
        };
        println!("{}", serde_json::to_string_pretty(&shown).expect("JSON"));
    } else {
        print_table(&outcome.hits, query.shown_benchmark());
        if partial {
            println!(
                "PARTIAL: {} repo(s) could not be read; this table may lack matches",
                outcome.missing.len()
            );
        }
    }
    if outcome.offline {
        eprintln!(
            "offline (HF_HUB_OFFLINE): searched {} cached manifest(s), no HTTP",
            outcome.candidates
        );
    }
    for note in &outcome.notes {
        eprintln!("{} {note}", paint("warning:", "33", err_color));
    }
    for d in &outcome.drifted {
        let mut what = Vec::new();
        if !d.missing.is_empty() {
            what.push(format!("missing {}", d.missing.join(", ")));
        }
        if !d.unexpected.is_empty() {
            what.push(format!("unexpected {}", d.unexpected.join(", ")));
        }
        eprintln!(
            "{} {}: reserved tags disagree with its manifest ({}); results follow the manifest",
            paint("warning:", "33", err_color),
            d.repo_id,
            what.join("; ")
        );
    }
    if outcome.hidden > 0 {
        eprintln!(
            "{} skill(s) hidden for their status (draft, deleted or no active version; --include-deprecated or --status shows them)",
            outcome.hidden
        );
    }
    if !outcome.skipped.is_empty() {
        eprintln!(
            "{} repo(s) skipped: no valid manifest{}",
            outcome.skipped.len(),
            if args.verbose {
                ":"
            } else {
                " (-v lists them)"
            }
        );
        if args.verbose {
            for s in &outcome.skipped {
                eprintln!("  {}: {}", s.repo_id, s.reason);
            }
        }
    }
    if partial {
        return Ok(Outcome::Failure);
    }
    if !args.json {
        // Suggest a hit the license guard would let through as things stand.
        let consent = Consent::from_flags(false, false, false);
        match search::install_suggestion(&outcome.hits, &consent) {
            _ if outcome.hits.is_empty() => eprintln!("no skill matches"),
            Some((h, false)) => eprintln!(
                "{} match(es); install one with: rskill install {}",
                outcome.hits.len(),
                h.repo_id
            ),
            Some((h, true)) => eprintln!(
                "{} match(es); install one with: rskill install {} --yes (license `{}` is not cleared for commercial use)",
                outcome.hits.len(),
                h.repo_id,
                h.license
            ),
            None => eprintln!(
                "{} match(es), all non-commercial: installing one needs --non-commercial (research use only)",
                outcome.hits.len()
            ),
        }
        if outcome.hits.iter().any(|h| h.agnostic_match) {
            eprintln!(
                "* embodiment-agnostic skill (runs on any robot); --strict-embodiment leaves these out"
            );
        }
    }
    Ok(Outcome::Success)
}

fn parse_status(s: &str) -> Result<rskill::lifecycle::Status, String> {
    s.parse()
        .map_err(|e: rskill::lifecycle::GovError| e.to_string())
}

fn parse_scan(s: &str) -> Result<rskill_scan::Status, String> {
    serde_json::from_value(serde_json::Value::String(s.into()))
        .map_err(|_| format!("\"{s}\" is not a scan status: clean, warning, dangerous or error"))
}

fn parse_score(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if (0.0..=1.0).contains(&v) => Ok(v),
        _ => Err(format!("\"{s}\" is not a score between 0 and 1")),
    }
}

fn parse_sort(s: &str) -> Result<SortKey, String> {
    s.parse()
}

fn print_table(hits: &[search::Hit], benchmark: Option<Benchmark>) {
    let color = use_color(std::io::stdout().is_terminal());
    let mut table = Table::new();
    table.load_style(UTF8_FULL_CONDENSED);
    let mut header = vec!["repo", "version", "kind", "role", "license", "embodiments"];
    if let Some(b) = benchmark {
        header.push(b.as_str());
    }
    header.push("description");
    table.set_header(header);
    for h in hits {
        let license = match h.license.commercial_use() {
            CommercialUse::Allowed => paint(h.license.as_str(), "32", color),
            CommercialUse::NonCommercial => paint(h.license.as_str(), "31", color),
            CommercialUse::Unclear => paint(h.license.as_str(), "33", color),
        };
        let mut embodiments: Vec<String> =
            h.embodiment_tags.iter().map(|e| e.to_string()).collect();
        if h.agnostic_match {
            embodiments = embodiments.into_iter().map(|e| format!("{e}*")).collect();
        }
        let version = match h.status {
            rskill::lifecycle::Status::Active => h.version.clone(),
            st => paint(&format!("{} ({st})", h.version), "33", color),
        };
        let mut row = vec![
            h.repo_id.clone(),
            version,
            h.kind.to_string(),
            h.role.to_string(),
            license,
            embodiments.join(", "),
        ];
        if let Some(b) = benchmark {
            row.push(
                h.benchmarks
                    .get(b.as_str())
                    .map_or_else(|| "-".to_string(), |s| format!("{s:.3}")),
            );
        }
        row.push(elide(&h.description, 60));
        table.add_row(row);
    }
    println!("{table}");
}

fn elide(s: &str, max: usize) -> String {
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() <= max {
        s
    } else {
        format!("{}…", s.chars().take(max - 1).collect::<String>())
    }
}
