//! Writes the scan corpus (hostile and benign weights) into a folder, with a
//! `corpus.tsv` of `name, hostile, family`; with `--large BYTES`, also a large zip
//! checkpoint (`large-checkpoint.pt`) and a large pickle stream (`large-stream.pkl`)
//! for throughput measurements. Used by `scripts/bench-scan.sh`.

use std::io::Write;
use std::path::PathBuf;

use rskill_test_support::scan_corpus;

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().unwrap_or_else(|| "scan-corpus".into()));
    let mut large = None;
    while let Some(a) = args.next() {
        if a == "--large" {
            large = args.next().and_then(|v| v.parse::<u64>().ok());
        }
    }
    let files = scan_corpus::write_corpus(&dir.join("files"))?;
    let mut tsv = std::fs::File::create(dir.join("corpus.tsv"))?;
    for f in &files {
        writeln!(tsv, "{}\t{}\t{}", f.name, f.hostile, f.family)?;
    }
    if let Some(bytes) = large {
        let big = dir.join("large");
        std::fs::create_dir_all(&big)?;
        scan_corpus::write_large_zip_checkpoint(&big.join("large-checkpoint.pt"), bytes)?;
        scan_corpus::write_large_pickle(&big.join("large-stream.pkl"), bytes)?;
    }
    eprintln!("wrote {} corpus files into {}", files.len(), dir.display());
    Ok(())
}
