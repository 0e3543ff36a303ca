//! Refuses to build the runtime without frame pointers.
//!
//! The garbage collector finds the program's roots by following the
//! frame-pointer chain from inside the runtime up to compiled code
//! (`src/heap/roots.rs`), so every runtime frame in between must
//! keep one. Rust keeps frame pointers only with `-C force-frame-pointers`,
//! which `.cargo/config.toml` sets for the workspace. A `RUSTFLAGS` (or
//! `CARGO_ENCODED_RUSTFLAGS`) variable replaces that setting; rather than
//! build a runtime whose collector would walk garbage, stop here.

fn main() {
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
