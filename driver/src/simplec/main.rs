//! `simplec`: the compiler's command line, which `simple` hands every
//! command to that it does not run itself. With `simple`, the only part of
//! the project that reads files, looks at the clock or runs programs.

mod cache;
mod render;
mod session;
mod stats;
mod watch;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use cache::Cache;
use clap::{Parser, Subcommand, ValueEnum};
use render::ErrorFormat;
use session::{DriverError, Durable, Session};
use simple_compiler::Options;
use simple_runtime::launch;
use stats::Stats;

/// The compiler allocates many small, short-lived objects (syntax trees,
/// query results); mimalloc serves them markedly faster than glibc's malloc.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "simple", version, about = "The Simple compiler: compiles to native code and runs it")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Clone, Copy)]
struct CompileFlags {
    /// How to print diagnostics.
    #[arg(long, value_enum, default_value_t)]
    error_format: ErrorFormat,
    /// Skip MIR optimisations.
    #[arg(long)]
    no_opt: bool,
}

impl CompileFlags {
    fn options(self) -> Options {
        Options { no_opt: self.no_opt, compiler_id: launch::compiler_id() }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Compile FILE (reusing FILE.smf when up to date) and run it; or run
    /// FILE itself if it is an SMF module (`simple run prog.smf`).
    Run {
        file: PathBuf,
        /// Arguments for the program.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
        #[command(flatten)]
        flags: CompileFlags,
    },
    /// Compile FILE to an SMF module.
    Build {
        file: PathBuf,
        /// Output path (default: FILE with extension .smf).
        #[arg(short, long)]
        output: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = Emit::Smf)]
        emit: Emit,
        /// Print how many functions were compiled and reused, and the time
        /// of each stage.
        #[arg(long)]
        stats: bool,
        #[command(flatten)]
        flags: CompileFlags,
    },
    /// Check FILE for errors without generating code.
    Check {
        file: PathBuf,
        #[command(flatten)]
        flags: CompileFlags,
    },
    /// Rebuild FILE on every change to the program's files and run it again.
    Watch {
        file: PathBuf,
        /// Print the time of each stage of every build.
        #[arg(long)]
        stats: bool,
        /// Arguments for the program.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
        #[command(flatten)]
        flags: CompileFlags,
    },
    /// Print an intermediate form of FILE.
    Dump {
        #[arg(value_enum)]
        what: DumpKind,
        file: PathBuf,
        /// Only this function (hir, mir, clif, asm).
        #[arg(long = "fn")]
        function: Option<String>,
        #[command(flatten)]
        flags: CompileFlags,
    },
    /// Work with SMF modules.
    Smf {
        #[command(subcommand)]
        command: SmfCommand,
    },
}

#[derive(Subcommand)]
enum SmfCommand {
    /// Print every part of an SMF module.
    Inspect { file: PathBuf },
}

#[derive(Clone, Copy, ValueEnum)]
enum Emit {
    Smf,
    Obj,
    Exe,
}

#[derive(Clone, Copy, ValueEnum)]
enum DumpKind {
    Tokens,
    Ast,
    Hir,
    Mir,
    Clif,
    Asm,
}

fn main() -> ExitCode {
    launch::follow_watcher();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run { file, args, flags } => run(&file, &args, flags),
        Command::Build { file, output, emit, stats, flags } => build(&file, output, emit, stats, flags),
        Command::Check { file, flags } => check(&file, flags),
        Command::Watch { file, args, stats, flags } => watch::watch(&file, &args, stats, flags),
        Command::Dump { what, file, function, flags } => dump(what, &file, function.as_deref(), flags),
        Command::Smf { command: SmfCommand::Inspect { file } } => inspect(&file),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

/// Reports a session's diagnostics; false if it has errors.
fn report(session: &Session, flags: CompileFlags) -> bool {
    let diags = session.diagnostics();
    if !diags.is_empty() {
        render::emit(diags, flags.error_format, &|p| session.text_of(p));
    }
    !session.has_errors()
}

/// Opens a session with the program's function cache loaded and reports its
/// diagnostics; `None` if it has errors.
fn compile(file: &Path, flags: CompileFlags) -> Result<Option<Session>, DriverError> {
    let mut session = Session::open(file, flags.options())?;
    session.load_cache(Cache::for_program(file));
    if report(&session, flags) {
        return Ok(Some(session));
    }
    leak(session);
    Ok(None)
}

/// Drops a session without freeing its memory, for a process about to
/// exit: freeing every syntax tree and query result one at a time only
/// delays the exit (by a tenth of a big build).
fn leak(session: Session) {
    std::mem::forget(session);
}

fn check(file: &Path, flags: CompileFlags) -> Result<ExitCode, DriverError> {
    Ok(match compile(file, flags)? {
        Some(session) => {
            leak(session);
            ExitCode::SUCCESS
        }
        None => ExitCode::from(1),
    })
}

fn build(
    file: &Path,
    output: Option<PathBuf>,
    emit: Emit,
    show_stats: bool,
    flags: CompileFlags,
) -> Result<ExitCode, DriverError> {
    if !matches!(emit, Emit::Smf) {
        return Err(DriverError::Usage("`--emit obj` and `--emit exe` are not supported yet".into()));
    }
    let mut stats = Stats::start();
    let mut session = Session::open(file, flags.options())?;
    stats.stage("read and parse");
    stats.cache = session.load_cache(Cache::for_program(file));
    stats.stage("cache lookup");
    let ok = report(&session, flags);
    stats.stage("check");
    if !ok {
        leak(session);
        return Ok(ExitCode::from(1));
    }
    session.codegen();
    stats.stage("codegen");
    let bytes = session.link()?;
    stats.stage("link");
    let out = output.unwrap_or_else(|| launch::smf_path(file));
    session::write_atomic(&out, bytes, Durable::Yes)?;
    stats.stage("write module");
    stats.compiled = session.store_cache();
    stats.stage("cache store");
    if show_stats {
        eprint!("{}", stats.report(session.function_count()));
    }
    leak(session);
    Ok(ExitCode::SUCCESS)
}

fn run(file: &Path, args: &[String], flags: CompileFlags) -> Result<ExitCode, DriverError> {
    let load_error = |path: &Path, source: simple_smf::LoadError| DriverError::Load { path: path.to_owned(), source };
    if file.extension().is_some_and(|e| e == "smf") {
        let module = launch::load(file).map_err(|e| load_error(file, e.without_path()))?;
        return Ok(launch::run(&module, args));
    }
    // Checking a built module needs the sources, not a compilation.
    if let Some(module) = launch::load_up_to_date(file, flags.options()) {
        return Ok(launch::run(&module, args));
    }
    let mut session = Session::open(file, flags.options())?;
    session.load_cache(Cache::for_program(file));
    if !report(&session, flags) {
        return Ok(ExitCode::from(1));
    }
    let bytes = session.link()?;
    let smf = launch::smf_path(file);
    if let Err(e) = session::write_atomic(&smf, bytes, Durable::CacheOnly) {
        eprintln!("warning: {e}; running the program from memory");
    }
    session.store_cache();
    let module = simple_smf::load_bytes(bytes, &simple_runtime::resolve, simple_abi::ABI_VERSION)
        .map_err(|source| load_error(&smf, source))?;
    Ok(launch::run(&module, args))
}

fn dump(what: DumpKind, file: &Path, function: Option<&str>, flags: CompileFlags) -> Result<ExitCode, DriverError> {
    let text = session::read_source(file)?;
    let out = match what {
        DumpKind::Tokens => {
            let (tokens, _) = simple_syntax::lex(&text);
            simple_syntax::dump_tokens(&text, &tokens)
        }
        DumpKind::Ast => simple_syntax::dump_ast(&simple_syntax::parse(&text).file),
        DumpKind::Hir | DumpKind::Mir | DumpKind::Clif | DumpKind::Asm => {
            let Some(session) = compile(file, flags)? else { return Ok(ExitCode::from(1)) };
            simple_compiler::dump::dump_functions(
                &session.db,
                session.entry,
                function,
                match what {
                    DumpKind::Hir => simple_compiler::dump::Stage::Hir,
                    DumpKind::Mir => simple_compiler::dump::Stage::Mir,
                    DumpKind::Clif => simple_compiler::dump::Stage::Clif,
                    _ => simple_compiler::dump::Stage::Asm,
                },
            )
            .map_err(DriverError::Usage)?
        }
    };
    write_stdout(&out);
    Ok(ExitCode::SUCCESS)
}

/// Prints a command's output. A reader that goes away early (`| head`) is
/// not an error; `print!` would panic.
fn write_stdout(text: &str) {
    use std::io::Write;
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

fn inspect(file: &Path) -> Result<ExitCode, DriverError> {
    let bytes = std::fs::read(file).map_err(|source| DriverError::Read { path: file.to_owned(), source })?;
    match simple_smf::inspect_bytes(&bytes) {
        Ok(text) => {
            write_stdout(&text);
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => Err(DriverError::Usage(format!("`{}` is not a valid SMF module: {e}", file.display()))),
    }
}
