//! What a module is built from: the compiler version, the options and the
//! source texts. The compiler stores [`hash_sources`] in every module it
//! builds; `simple run` recomputes it to decide whether a module is up to
//! date, which is why it lives here and not in the compiler, which `simple`
//! does not link.

use std::path::Path;

/// Part of every content hash: a new compiler never trusts old output.
/// The ABI part must follow [`crate::ABI_VERSION`] (a test checks it).
pub const COMPILER_VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "+abi", "2");

/// Options that change the generated code; part of every content hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Options {
    /// Skip MIR optimisations (`--no-opt`).
    pub no_opt: bool,
    /// Identifies the compiler build beyond [`COMPILER_VERSION`]: the
    /// driver sets it from the compiler's executable, so a rebuilt compiler
    /// never trusts output cached by an older one.
    pub compiler_id: u64,
}

/// Every source file's path and text hash (blake3), the compiler version
/// and the options: all a module depends on. The files are the entry then
/// its imports, as the module's file table lists them, so a module can be
/// checked without parsing anything.
pub fn hash_sources<'a>(options: Options, files: impl IntoIterator<Item = (&'a Path, [u8; 32])>) -> [u8; 32] {
    let mut hasher = blake3::Hasher::new();
    hasher.update(COMPILER_VERSION.as_bytes());
    hasher.update(format!("{options:?}").as_bytes());
    for (path, text_hash) in files {
        let path = path.display().to_string();
        hasher.update(&(path.len() as u64).to_le_bytes());
        hasher.update(path.as_bytes());
        hasher.update(&text_hash);
    }
    *hasher.finalize().as_bytes()
}

#[cfg(test)]
mod tests {
    #[test]
    fn compiler_version_names_the_abi_version() {
        let abi = format!("+abi{}", crate::ABI_VERSION);
        assert!(super::COMPILER_VERSION.ends_with(&abi), "{}", super::COMPILER_VERSION);
    }
}
