//! Project chores, run as `cargo xtask <task>` (an alias for
//! `cargo run --release --package xtask --`).
//!
//! Tasks:
//! - `bench`: run testdata/bench in Simple beside its peers (gcc -O2, python3,
//!   lua5.4, luajit) and print medians and ratios; see `cargo xtask bench --help`.
//! - `gen-project`: write a synthetic multi-file Simple project of about N
//!   lines (modules calling each other, a line marked `# EDIT` in
//!   `edit_target()`) and a C project computing the same output; see
//!   `cargo xtask gen-project --help`.
//! - `bench-incremental`: on generated projects of 10k and 100k lines, time
//!   a cold `simple build`, a fresh build after a one-function edit, the
//!   edit-to-output latency of `simple watch` and its peak memory, beside
//!   `make` of the C peer; see `cargo xtask bench-incremental --help`.
//!
//! Only std and libc (for wait4, which reports a run's peak memory) are used,
//! so the task builds quickly and never waits on the network.

mod bench;
mod bench_incremental;
mod gen_project;
mod json;

use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <task> [options]

tasks:
  bench              run testdata/bench in Simple and its peers; `cargo xtask bench --help`
  gen-project        write a synthetic multi-file Simple project and its C peer;
                     `cargo xtask gen-project --help`
  bench-incremental  time cold builds, builds after a one-function edit, `simple watch`
                     and the C peer's make on generated projects;
                     `cargo xtask bench-incremental --help`
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(task) = args.first() else {
        eprint!("{USAGE}");
        return ExitCode::from(2);
    };
    let rest = &args[1..];
    let result = match task.as_str() {
        "bench" => match bench::Options::parse(rest) {
            Ok(Some(opts)) => bench::run(&workspace_root(), opts),
            Ok(None) => {
                print!("{}", bench::USAGE);
                return ExitCode::SUCCESS;
            }
            Err(e) => {
                eprintln!("error: {e}\n\n{}", bench::USAGE);
                return ExitCode::from(2);
            }
        },
        "gen-project" => match gen_project::Options::parse(rest) {
            Ok(Some(opts)) => gen_project::run(&workspace_root(), opts),
            Ok(None) => {
                print!("{}", gen_project::USAGE);
                return ExitCode::SUCCESS;
            }
            Err(e) => {
                eprintln!("error: {e}\n\n{}", gen_project::USAGE);
                return ExitCode::from(2);
            }
        },
        "bench-incremental" => match bench_incremental::Options::parse(rest) {
            Ok(Some(opts)) => bench_incremental::run(&workspace_root(), opts),
            Ok(None) => {
                print!("{}", bench_incremental::USAGE);
                return ExitCode::SUCCESS;
            }
            Err(e) => {
                eprintln!("error: {e}\n\n{}", bench_incremental::USAGE);
                return ExitCode::from(2);
            }
        },
        "help" | "--help" | "-h" => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        other => {
            eprintln!("error: unknown task `{other}`\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

/// The workspace root: the xtask crate lives at `<root>/xtask`.
fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}
