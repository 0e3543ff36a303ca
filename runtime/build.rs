//! Refuses to build the runtime without frame pointers, and names the
//! build of the code `simple` runs programs with (`SIMPLE_RUNTIME_BUILD`).
//!
//! The garbage collector finds the program's roots by following the
//! frame-pointer chain from inside the runtime up to compiled code
//! (`src/heap/roots.rs`), so every runtime frame in between must
//! keep one. Rust keeps frame pointers only with `-C force-frame-pointers`,
//! which `.cargo/config.toml` sets for the workspace. A `RUSTFLAGS` (or
//! `CARGO_ENCODED_RUSTFLAGS`) variable replaces that setting; rather than
//! build a runtime whose collector would walk garbage, stop here.

fn main() {
    name_the_build();
    println!("cargo::rerun-if-env-changed=CARGO_ENCODED_RUSTFLAGS");
    let flags = std::env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
    let flags: Vec<&str> = flags.split('\x1f').collect();
    // `-C force-frame-pointers=yes`, `-Cforce-frame-pointers=yes` or
    // `--codegen force-frame-pointers=yes`, with any spelling of "yes";
    // the last occurrence wins, as for rustc.
    let mut enabled = false;
    for (i, flag) in flags.iter().enumerate() {
        let value = match flag.strip_prefix("-C").or_else(|| flag.strip_prefix("--codegen")) {
            Some("") => flags.get(i + 1).copied(),
            Some(rest) => Some(rest.trim_start_matches('=')),
            None => None,
        };
        if let Some(setting) = value.and_then(|v| v.strip_prefix("force-frame-pointers")) {
            enabled = matches!(setting, "" | "=yes" | "=y" | "=on" | "=true" | "=always");
        }
    }
    if !enabled {
        eprintln!(
            "error: the Simple runtime must be built with `-C force-frame-pointers=yes` (its garbage \
             collector walks frame pointers). .cargo/config.toml sets it; a RUSTFLAGS variable replaces \
             that setting, so add the flag to it: RUSTFLAGS=\"$RUSTFLAGS -C force-frame-pointers=yes\""
        );
        std::process::exit(1);
    }
}

/// `simple` and `simplec` are separate binaries, and `cargo run` (or
/// `cargo build --bin`) rebuilds one of them only. A `simple` left from an
/// older build must not run modules that a newer `simplec` built for a
/// different runtime, loader or ABI; so both binaries carry a hash of the
/// sources of those three crates, which decides whether a module is up to
/// date (`launch::compiler_id`).
fn name_the_build() {
    use std::hash::{Hash, Hasher};
    let mut files = Vec::new();
    for dir in ["src", "../smf/src", "../compiler/abi/src"] {
        println!("cargo::rerun-if-changed={dir}");
        collect_files(std::path::Path::new(dir), &mut files);
    }
    files.sort();
    // SipHash with fixed keys: the same sources give the same name.
    let mut hasher = std::hash::DefaultHasher::new();
    for path in files {
        path.hash(&mut hasher);
        std::fs::read(&path).unwrap_or_default().hash(&mut hasher);
    }
    println!("cargo::rustc-env=SIMPLE_RUNTIME_BUILD={:016x}", hasher.finish());
}

fn collect_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_files(&path, out);
        } else {
            out.push(path);
        }
    }
}
