//! `simple`: runs an up-to-date built module itself and hands every other
//! command to the compiler, `simplec`, beside it.
//!
//! Why two binaries: a process that links the compiler (Salsa, Cranelift,
//! clap, mimalloc) needs several MB more before it runs a line of the
//! program than one that links only the runtime and the loader. Running a
//! built program is the common case (`simple run` after an unchanged build,
//! every run `simple watch` starts), so it takes the small process.

use std::ffi::OsString;
use std::path::Path;
use std::process::{Command, ExitCode};

use simple_abi::build::Options;
use simple_runtime::launch;

fn main() -> ExitCode {
    launch::follow_watcher();
    let argv: Vec<OsString> = std::env::args_os().skip(1).collect();
    // Started by the `simple watch` of another build (see
    // `launch::RUNTIME_BUILD`): that `simplec` runs the module itself.
    let other_build = std::env::var_os(launch::EXPECTED_BUILD_ENV).is_some_and(|b| b != launch::RUNTIME_BUILD);
    if !other_build
        && let Some(run) = RunArgs::parse(&argv)
        && let Some(status) = run.run_if_built()
    {
        return status;
    }
    simplec(&argv)
}

/// `simple run [--no-opt] FILE [--] [ARG ...]`, read the way `simplec`'s
/// command line reads it. Any other shape (more options, an argument after
/// FILE that starts with `-` without a `--` before it, which `simplec` may
/// take as an option) goes to `simplec`, so the two never disagree on what a
/// command means.
#[derive(Debug, PartialEq)]
struct RunArgs<'a> {
    no_opt: bool,
    file: &'a Path,
    args: Vec<String>,
}

impl<'a> RunArgs<'a> {
    fn parse(argv: &'a [OsString]) -> Option<RunArgs<'a>> {
        let (command, mut rest) = argv.split_first()?;
        if command != "run" {
            return None;
        }
        let no_opt = rest.first().is_some_and(|a| a == "--no-opt");
        if no_opt {
            rest = &rest[1..];
        }
        let (file, mut args) = rest.split_first()?;
        let is_option = |a: &OsString| a.as_encoded_bytes().starts_with(b"-");
        if is_option(file) {
            return None;
        }
        if args.first().is_some_and(|a| a == "--") {
            args = &args[1..];
        } else if args.first().is_some_and(is_option) {
            return None;
        }
        let args = args.iter().map(|a| a.to_str().map(str::to_owned)).collect::<Option<_>>()?;
        Some(RunArgs { no_opt, file: Path::new(file), args })
    }

    /// Runs FILE if it is a module, or FILE's module if that is up to date;
    /// `None` if there is nothing to run without the compiler, including a
    /// module that fails to load (`simplec` reports or rebuilds it).
    fn run_if_built(&self) -> Option<ExitCode> {
        if self.file.extension().is_some_and(|e| e == "smf") {
            let module = launch::load(self.file).ok()?;
            return Some(launch::run(&module, &self.args));
        }
        let options = Options { no_opt: self.no_opt, compiler_id: launch::compiler_id() };
        let module = launch::load_up_to_date(self.file, options)?;
        Some(launch::run(&module, &self.args))
    }
}

/// Hands the command to `simplec`: replaces this process on Unix, so the
/// program's exit status and signals are `simplec`'s own.
fn simplec(argv: &[OsString]) -> ExitCode {
    let error = match launch::compiler_exe() {
        Ok(exe) => {
            let mut command = Command::new(&exe);
            command.args(argv);
            #[cfg(unix)]
            let error = std::os::unix::process::CommandExt::exec(&mut command);
            #[cfg(not(unix))]
            let error = match command.status() {
                Ok(status) => return ExitCode::from(status.code().unwrap_or(1) as u8),
                Err(e) => e,
            };
            format!("cannot start the compiler `{}`: {error}", exe.display())
        }
        Err(e) => format!("cannot find the compiler: {e}"),
    };
    eprintln!("error: {error}");
    ExitCode::from(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(argv: &[&str]) -> Option<(bool, String, Vec<String>)> {
        let argv: Vec<OsString> = argv.iter().map(OsString::from).collect();
        RunArgs::parse(&argv).map(|r| (r.no_opt, r.file.display().to_string(), r.args))
    }

    #[test]
    fn recognises_only_what_simplec_reads_the_same_way() {
        let run = |no_opt, file: &str, args: &[&str]| {
            Some((no_opt, file.to_owned(), args.iter().map(|a| a.to_string()).collect()))
        };
        assert_eq!(parse(&["run", "a.spl"]), run(false, "a.spl", &[]));
        assert_eq!(parse(&["run", "--no-opt", "a.spl", "x", "-y"]), run(true, "a.spl", &["x", "-y"]));
        assert_eq!(parse(&["run", "a.smf", "x", "--no-opt"]), run(false, "a.smf", &["x", "--no-opt"]));
        // clap reads an option after FILE as an option of `run`.
        assert_eq!(parse(&["run", "a.spl", "--no-opt"]), None);
        assert_eq!(parse(&["run", "a.spl", "--", "-x"]), run(false, "a.spl", &["-x"]));
        assert_eq!(parse(&["run", "a.spl", "--", "--", "x"]), run(false, "a.spl", &["--", "x"]));
        assert_eq!(parse(&["run", "a.spl", "--"]), run(false, "a.spl", &[]));
        assert_eq!(parse(&["run", "--error-format", "json", "a.spl"]), None);
        assert_eq!(parse(&["run", "--no-opt", "--no-opt", "a.spl"]), None);
        assert_eq!(parse(&["run", "-h"]), None);
        assert_eq!(parse(&["run"]), None);
        assert_eq!(parse(&["build", "a.spl"]), None);
        assert_eq!(parse(&[]), None);
    }
}
