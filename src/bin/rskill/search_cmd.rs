//! `rskill search [QUERY] [filters…]`: a table of matching skills on stdout (or
//! `--json`), and on stderr what was skipped, tag drift warnings and how to install.

use std::io::IsTerminal;
use std::process::ExitCode;

use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use rskill::cli::{CliError, hub_client, paint, runtime, use_color};
use rskill::license::{CommercialUse, LicensePosture};
use rskill::manifest::{ActionVerb, EmbodimentTag, Kind, ModelFamily, Role, Runtime};
use rskill::search::{self, SearchQuery};

fn parse<T: std::str::FromStr<Err = String>>(s: &str) -> Result<T, String> {
    s.parse()
}

#[derive(clap::Args)]
pub struct Args {
    /// Words to find in repo ids, descriptions, actions, objects and scenes
    query: Option<String>,
    #[arg(long, value_parser = parse::<Kind>)]
    kind: Option<Kind>,
    #[arg(long, value_parser = parse::<Role>)]
    role: Option<Role>,
    /// Robot the skill must support (repeatable: any of them); `any` skills match too
    #[arg(long, value_parser = parse::<EmbodimentTag>)]
    embodiment: Vec<EmbodimentTag>,
    /// With --embodiment: leave out embodiment-agnostic (`any`) skills
    #[arg(long)]
    strict_embodiment: bool,
    /// License posture
    #[arg(long, value_parser = parse::<LicensePosture>)]
    license: Option<LicensePosture>,
    /// Only skills cleared for commercial use
    #[arg(long)]
    commercial: bool,
    #[arg(long, value_parser = parse::<Runtime>)]
    runtime: Option<Runtime>,
    #[arg(long, value_parser = parse::<ModelFamily>)]
    model_family: Option<ModelFamily>,
    #[arg(long, value_parser = parse::<ActionVerb>)]
    action: Option<ActionVerb>,
    /// Search every repo of these organisations (repeatable) instead of `rskill`-tagged repos
    #[arg(long)]
    author: Vec<String>,
    #[arg(long)]
    limit: Option<usize>,
    /// Print `[{repo_id, sha, name, version, kind, role, license, commercial_use_allowed, embodiment_tags, runtime, description}]`
    #[arg(long)]
    json: bool,
    /// List the skipped repos with the reason
    #[arg(short, long)]
    verbose: bool,
    /// Hub token (else HF_TOKEN, HF_TOKEN_PATH, $HF_HOME/token)
    #[arg(long)]
    token: Option<String>,
}

pub fn run(args: Args) -> Result<ExitCode, CliError> {
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
        limit: args.limit,
    };
    let client = hub_client(args.token.as_deref())?;
    let outcome = runtime()?.block_on(search::search(&client, &query))?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&outcome.hits).expect("JSON")
        );
    } else {
        print_table(&outcome.hits);
    }
    let err_color = use_color(std::io::stderr().is_terminal());
    if outcome.offline {
        eprintln!(
            "offline (HF_HUB_OFFLINE): searched {} cached manifest(s), no HTTP",
            outcome.candidates
        );
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
    if !args.json {
        match outcome.hits.first() {
            Some(h) => eprintln!(
                "{} match(es); install one with: rskill install {}",
                outcome.hits.len(),
                h.repo_id
            ),
            None => eprintln!("no skill matches"),
        }
        if outcome.hits.iter().any(|h| h.agnostic_match) {
            eprintln!(
                "* embodiment-agnostic skill (runs on any robot); --strict-embodiment leaves these out"
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_table(hits: &[search::Hit]) {
    let color = use_color(std::io::stdout().is_terminal());
    let mut table = Table::new();
    table.load_style(UTF8_FULL_CONDENSED);
    table.set_header(vec![
        "repo",
        "version",
        "kind",
        "role",
        "license",
        "embodiments",
        "description",
    ]);
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
        table.add_row(vec![
            h.repo_id.clone(),
            h.version.clone(),
            h.kind.to_string(),
            h.role.to_string(),
            license,
            embodiments.join(", "),
            elide(&h.description, 60),
        ]);
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
