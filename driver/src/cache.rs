//! The per-function code cache on disk, keyed by each function's content key
//! (`simple_compiler::persist::fn_key`).
//!
//! One file per program, `.simple-cache/FILE.fns` next to the entry file
//! `FILE.spl`, as an append-only log: a header (`MAGIC`, format version),
//! then records of key, payload length, blake3 checksum of key and payload,
//! and the payload (a `CachedFn` in postcard form). A build reads the file
//! once and appends the functions it compiled in one write. The last record
//! of a key wins. When records of functions the program no longer has
//! outweigh the live ones, or anything is damaged, the build rewrites the
//! file with the live records only (to a temporary file, then a rename).
//!
//! Nothing read is trusted: a record whose checksum fails is a miss and is
//! rebuilt; a truncated tail (a build killed mid-append) is ignored; a file
//! with another header is treated as empty. One file instead of one per
//! function because opening thousands of files costs more than the build
//! they save.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustc_hash::FxHashMap;
use simple_compiler::persist::{CachedFn, FnKey};

const MAGIC: &[u8; 8] = b"SPLFNC\0\x01";
/// Bumped when the payload's encoding changes.
const FORMAT: u32 = 2;
const FILE_HEADER: usize = MAGIC.len() + 4;
const RECORD_HEADER: usize = 32 + 4 + 32;

pub struct FnCache {
    path: PathBuf,
}

/// The records of a cache file, read once.
#[derive(Default)]
pub struct CacheFile {
    bytes: Vec<u8>,
    /// Whether records can be appended: the file exists, has this format's
    /// header and no torn tail.
    appendable: bool,
    /// Payload range and checksum of the last record of each key.
    records: FxHashMap<FnKey, Record>,
    /// Records in the file, superseded ones included.
    count: usize,
}

#[derive(Clone, Copy)]
struct Record {
    start: usize,
    end: usize,
    checksum: [u8; 32],
}

impl FnCache {
    /// The cache of the program whose entry file is `entry`.
    pub fn for_program(entry: &Path) -> FnCache {
        let dir = entry.parent().unwrap_or(Path::new("."));
        let name = entry.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        FnCache { path: dir.join(".simple-cache").join(format!("{name}.fns")) }
    }

    /// Reads the cache file; a missing or unreadable one is empty.
    pub fn open(&self) -> CacheFile {
        std::fs::read(&self.path).map(CacheFile::parse).unwrap_or_default()
    }

    /// Brings the file up to date with the program's functions: appends
    /// the `fresh` entries, or, when superseded records outnumber the
    /// `live_count` live ones or `damaged`, rewrites the file with the
    /// `live` entries (one per function the program has). `file` is what [`FnCache::open`] read,
    /// kept up to date by this call. Failures are the caller's to ignore: a
    /// cache that cannot be written only makes the next build slower.
    pub fn store(
        &self,
        file: &mut CacheFile,
        fresh: &[(FnKey, CachedFn)],
        live_count: usize,
        live: impl FnOnce() -> Vec<(FnKey, Arc<CachedFn>)>,
        damaged: bool,
    ) -> std::io::Result<()> {
        if fresh.is_empty() && !damaged {
            return Ok(());
        }
        std::fs::create_dir_all(self.path.parent().unwrap_or(Path::new(".")))?;
        if file.appendable && !damaged && file.count + fresh.len() <= 2 * live_count + 64 {
            let mut out = Vec::new();
            for (key, entry) in fresh {
                encode_record(&mut out, key, entry);
            }
            std::fs::OpenOptions::new().append(true).open(&self.path)?.write_all(&out)?;
            file.count += fresh.len();
            return Ok(());
        }
        let mut out = Vec::with_capacity(file.bytes.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT.to_le_bytes());
        let live = live();
        let count = live.len();
        for (key, entry) in &live {
            encode_record(&mut out, key, entry);
        }
        let tmp = self.path.with_extension(format!("tmp{}", std::process::id()));
        let result = std::fs::write(&tmp, &out).and_then(|()| std::fs::rename(&tmp, &self.path));
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
            return result;
        }
        *file = CacheFile { bytes: Vec::new(), appendable: true, records: FxHashMap::default(), count };
        Ok(())
    }
}

/// Why an entry was not used.
#[derive(Debug, PartialEq, Eq)]
pub enum Miss {
    Absent,
    /// The record exists but is damaged.
    Damaged,
}

impl CacheFile {
    fn parse(bytes: Vec<u8>) -> CacheFile {
        let mut file = CacheFile { bytes, appendable: false, records: FxHashMap::default(), count: 0 };
        let header_ok = file.bytes.get(..MAGIC.len()) == Some(MAGIC)
            && file.bytes.get(MAGIC.len()..FILE_HEADER) == Some(&FORMAT.to_le_bytes()[..]);
        if !header_ok {
            return file;
        }
        let mut at = FILE_HEADER;
        while let Some(header) = file.bytes.get(at..at + RECORD_HEADER) {
            let key: FnKey = header[..32].try_into().unwrap();
            let len = u32::from_le_bytes(header[32..36].try_into().unwrap()) as usize;
            let checksum = header[36..].try_into().unwrap();
            let start = at + RECORD_HEADER;
            let Some(end) = start.checked_add(len).filter(|&end| end <= file.bytes.len()) else { break };
            file.records.insert(key, Record { start, end, checksum });
            file.count += 1;
            at = end;
        }
        // Bytes left over are the torn tail of an interrupted append; a
        // record appended after them would be lost.
        file.appendable = at == file.bytes.len();
        file
    }

    pub fn get(&self, key: &FnKey) -> Result<CachedFn, Miss> {
        let record = self.records.get(key).ok_or(Miss::Absent)?;
        let payload = &self.bytes[record.start..record.end];
        if checksum(key, payload) != record.checksum {
            return Err(Miss::Damaged);
        }
        match postcard::take_from_bytes::<CachedFn>(payload) {
            Ok((entry, [])) => Ok(entry),
            _ => Err(Miss::Damaged),
        }
    }
}

fn checksum(key: &FnKey, payload: &[u8]) -> [u8; 32] {
    let mut hasher = blake3::Hasher::new();
    hasher.update(key);
    hasher.update(payload);
    *hasher.finalize().as_bytes()
}

fn encode_record(out: &mut Vec<u8>, key: &FnKey, entry: &CachedFn) {
    let payload = postcard::to_stdvec(entry).expect("a CachedFn always serializes");
    out.extend_from_slice(key);
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&checksum(key, &payload));
    out.extend_from_slice(&payload);
}

#[cfg(test)]
mod tests {
    use super::*;
    use simple_compiler::diagnostics::RelDiagnostic;
    use simple_compiler::persist::CompiledFn;

    fn entry(symbol: &str) -> CachedFn {
        CachedFn {
            code: CompiledFn {
                symbol: symbol.into(),
                content_hash: [3; 16],
                code: vec![0x55, 0x48, 0x89, 0xe5, 0xc3],
                relocs: Vec::new(),
                strings: vec!["hello".into()],
                lines: vec![(0, Default::default())],
                traps: Vec::new(),
            },
            warnings: vec![RelDiagnostic::warning(Default::default(), "unreachable code")],
        }
    }

    fn image(entries: &[(FnKey, CachedFn)]) -> Vec<u8> {
        let mut bytes = [&MAGIC[..], &FORMAT.to_le_bytes()].concat();
        for (key, e) in entries {
            encode_record(&mut bytes, key, e);
        }
        bytes
    }

    #[test]
    fn the_last_record_of_a_key_wins() {
        let file = CacheFile::parse(image(&[([1; 32], entry("a")), ([2; 32], entry("b")), ([1; 32], entry("c"))]));
        assert_eq!(file.get(&[1; 32]), Ok(entry("c")));
        assert_eq!(file.get(&[2; 32]), Ok(entry("b")));
        assert_eq!(file.get(&[3; 32]), Err(Miss::Absent));
    }

    /// Whatever `file` yields is exactly what was stored.
    fn assert_trustworthy(file: &CacheFile, what: &str) {
        for (key, symbol) in [([1; 32], "a"), ([2; 32], "b")] {
            if let Ok(e) = file.get(&key) {
                assert_eq!(e, entry(symbol), "{what}");
            }
        }
    }

    #[test]
    fn damage_is_never_trusted() {
        let bytes = image(&[([1; 32], entry("a")), ([2; 32], entry("b"))]);
        for len in 0..bytes.len() {
            let file = CacheFile::parse(bytes[..len].to_vec());
            assert_trustworthy(&file, &format!("truncated to {len}"));
            assert!(file.get(&[2; 32]).is_err(), "truncated to {len}");
        }
        for i in 0..bytes.len() {
            let mut damaged = bytes.clone();
            damaged[i] ^= 0x10;
            let file = CacheFile::parse(damaged);
            assert_trustworthy(&file, &format!("byte {i} flipped"));
            assert!(file.get(&[1; 32]).is_err() || file.get(&[2; 32]).is_err(), "byte {i} flipped");
        }
    }

    #[test]
    fn stores_append_and_compact() {
        let dir = std::env::temp_dir().join(format!("simple-fn-cache-{}", std::process::id()));
        let cache = FnCache::for_program(&dir.join("prog.spl"));
        let (a, b) = (([1; 32], entry("a")), ([2; 32], entry("b")));
        let live = |entries: &[&(FnKey, CachedFn)]| entries.iter().map(|(k, e)| (*k, Arc::new(e.clone()))).collect();
        let mut file = cache.open();
        assert_eq!(file.get(&a.0), Err(Miss::Absent));
        // No file yet: written whole.
        cache.store(&mut file, std::slice::from_ref(&a), 1, || live(&[&a]), false).unwrap();
        let mut file = cache.open();
        cache.store(&mut file, std::slice::from_ref(&b), 2, || panic!("appends"), false).unwrap();
        let mut file = cache.open();
        assert_eq!((file.get(&a.0), file.get(&b.0), file.count), (Ok(a.1.clone()), Ok(b.1.clone()), 2));
        let appended = file.bytes.len();
        // Damage forces a rewrite with the live entries only.
        cache.store(&mut file, &[], 1, || live(&[&b]), true).unwrap();
        let file = cache.open();
        assert_eq!((file.get(&a.0), file.get(&b.0), file.count), (Err(Miss::Absent), Ok(b.1), 1));
        assert!(file.bytes.len() < appended);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
