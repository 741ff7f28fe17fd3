//! `rskill-publisher group [PATH…] [--publish] [--public] [--collection TITLE]`: the
//! terminal side of publishing groups. Every group file is validated and every member
//! of every group checked on the Hub before the first write request.

use std::path::PathBuf;

use rskill::cli::{self, CliError, hub_client, runtime};
use rskill::publish::group::{self as pgroup, GroupPublishError};
use rskill_manifest::group::{self, Group};

#[derive(clap::Args)]
pub struct Args {
    /// Group folders, rskill-group.yaml files, or a folder of groups [default: groups/]
    paths: Vec<PathBuf>,
    /// Publish for real (without it: validate the files and touch no network)
    #[arg(long)]
    publish: bool,
    /// Make a new group repo public (else it stays private)
    #[arg(long)]
    public: bool,
    /// Mirror each group to a Hub collection in its namespace with this title
    /// [default: the group's repo name]
    #[arg(long)]
    collection: Option<String>,
    /// Do not mirror to a collection
    #[arg(long, conflicts_with = "collection")]
    no_collection: bool,
    /// Machine-readable output on stdout
    #[arg(long)]
    json: bool,
    /// Hub token (else HF_TOKEN, HF_TOKEN_PATH, $HF_HOME/token)
    #[arg(long)]
    token: Option<String>,
}

fn to_cli(e: GroupPublishError) -> CliError {
    let hint = e.hint();
    let mut err = CliError::new(e.to_string());
    err.hint = hint;
    err
}

pub fn run(args: Args) -> Result<cli::Outcome, CliError> {
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(group::DEFAULT_GROUPS_DIR)]
    } else {
        args.paths
    };
    let mut files = Vec::new();
    for p in &paths {
        let found = group::discover(p);
        if found.is_empty() {
            return Err(
                CliError::usage(format!("{}: no {} here", p.display(), group::GROUP_FILE))
                    .hint("name a group folder (groups/<name>/) or its rskill-group.yaml"),
            );
        }
        files.extend(found);
    }
    let mut groups: Vec<Group> = Vec::new();
    let mut invalid = Vec::new();
    for f in &files {
        let check = group::check_file(f);
        match check.group {
            Some(g) if check.violations.is_empty() => groups.push(g),
            _ => invalid.extend(
                check
                    .violations
                    .iter()
                    .map(|v| format!("{} [{}]", v.render(&f.display().to_string()), v.rule)),
            ),
        }
    }
    if !invalid.is_empty() {
        return Err(CliError::usage(format!(
            "invalid group file(s), nothing was sent:\n  {}",
            invalid.join("\n  ")
        ))
        .hint("run `rskill validate groups/`"));
    }
    if !args.publish {
        for g in &groups {
            println!(
                "ready   {} {} ({} member(s))",
                g.name,
                g.version,
                g.members.len()
            );
            for m in &g.members {
                println!("    member {} {}", m.id, m.version);
            }
        }
        eprintln!(
            "dry run: {} group(s); nothing was sent (use --publish)",
            groups.len()
        );
        return Ok(cli::Outcome::Success);
    }
    let client = hub_client(args.token.as_deref())?;
    let rt = runtime()?;
    rt.block_on(crate::check_token(&client))?;
    // Every member of every group first: no write while any group would be refused.
    let mut resolved = Vec::new();
    for g in &groups {
        resolved.push(
            rt.block_on(pgroup::resolve_members(&client, g))
                .map_err(to_cli)?,
        );
    }
    let mut outs = Vec::new();
    for g in &resolved {
        let title = if args.no_collection {
            None
        } else {
            Some(
                args.collection
                    .clone()
                    .unwrap_or_else(|| g.name.split('/').nth(1).unwrap_or(&g.name).to_string()),
            )
        };
        let out = rt
            .block_on(pgroup::publish_group(
                &client,
                g,
                args.public,
                title.as_deref(),
            ))
            .map_err(to_cli)?;
        eprintln!(
            "{} {} {} at {}{}",
            if out.created {
                "published"
            } else {
                "unchanged"
            },
            out.group,
            out.version,
            &out.commit[..out.commit.len().min(10)],
            out.collection
                .as_deref()
                .map(|c| format!("; collection {c}"))
                .unwrap_or_default()
        );
        outs.push(out);
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&outs).expect("JSON"));
    } else {
        for o in &outs {
            println!("{} {} {}", o.group, o.version, o.commit);
        }
    }
    Ok(cli::Outcome::Success)
}
