//! The code cache on disk: compiled functions, keyed by each function's
//! content key (`simple_compiler::persist::fn_key`), and laid-out files,
//! keyed by each file's (`persist::file_key`).
//!
//! Two files per program, `.simple-cache/FILE.fns` and `FILE.objs` next to
//! the entry file `FILE.spl`, each an append-only log: a header (`MAGIC`,
//! format version), then records of key, payload length, blake3 checksum of
//! key and payload, and the payload (a `CachedFn` or a `CachedObject` in
//! postcard form). A build reads each log once and appends what it compiled
//! in one write. The last record of a key wins. When records of functions
//! or files the program no longer has outweigh the live ones, or the log
//! cannot be appended to, the build rewrites it with the live records only,
//! copied as they are (to a temporary file, then a rename).
//!
//! Nothing read is trusted: a record whose checksum fails is a miss, and is
//! rebuilt and appended again; a truncated tail (a build killed mid-append)
//! is ignored until the next rewrite; a file with another header is treated
//! as empty. One log instead of one file per
//! function because opening thousands of files costs more than the build
//! they save.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use rustc_hash::{FxHashMap, FxHashSet};
use serde::Serialize;
use serde::de::DeserializeOwned;
use simple_compiler::persist::FnKey;

const MAGIC: &[u8; 8] = b"SPLFNC\0\x01";
/// Bumped when the payload's encoding changes.
const FORMAT: u32 = 3;
const FILE_HEADER: usize = MAGIC.len() + 4;
const RECORD_HEADER: usize = 32 + 4 + 32;

/// The cache of one program: its two logs.
pub struct Cache {
    /// `CachedFn`s by function key.
    pub fns: Log,
    /// `CachedObject`s by file key.
    pub objects: Log,
}

/// One log file of the cache.
pub struct Log {
    path: PathBuf,
}

/// The records of a cache file, read once, and those appended since.
#[derive(Default)]
pub struct CacheFile {
    /// The file as read. Records are found by offset in the log: `read`,
    /// then `appended` (kept apart so that appending never copies what was
    /// read).
    read: Vec<u8>,
    appended: Vec<u8>,
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

impl Cache {
    /// The cache of the program whose entry file is `entry`.
    pub fn for_program(entry: &Path) -> Cache {
        let dir = entry.parent().unwrap_or(Path::new(".")).join(".simple-cache");
        let name = entry.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let log = |extension| Log { path: dir.join(format!("{name}.{extension}")) };
        Cache { fns: log("fns"), objects: log("objs") }
    }
}

impl Log {
    /// Reads the log; a missing or unreadable one is empty.
    pub fn open(&self) -> CacheFile {
        std::fs::read(&self.path).map(CacheFile::parse).unwrap_or_default()
    }

    /// Adds the `fresh` entries to the log. When superseded records
    /// outnumber the `live_count` live ones, or the file cannot be appended
    /// to, rewrites it instead with the records of the `live` keys only,
    /// copied as they are. `file` is what [`Log::open`] read, kept up to
    /// date by this call. Failures are the caller's to ignore: a cache that
    /// cannot be written only makes the next build slower.
    pub fn store<T: Serialize>(
        &self,
        file: &mut CacheFile,
        fresh: &[(FnKey, T)],
        live_count: usize,
        live: impl FnOnce() -> FxHashSet<FnKey>,
    ) -> std::io::Result<()> {
        if fresh.is_empty() && file.appendable {
            return Ok(());
        }
        let appended = file.appended.len();
        for (key, entry) in fresh {
            file.push(key, entry);
        }
        std::fs::create_dir_all(self.path.parent().unwrap_or(Path::new(".")))?;
        if file.appendable && file.count <= 2 * live_count + 64 {
            let mut out = std::fs::OpenOptions::new().append(true).open(&self.path)?;
            return out.write_all(&file.appended[appended..]);
        }
        let compacted = file.compact(&live());
        let tmp = self.path.with_extension(format!("tmp{}", std::process::id()));
        let result = std::fs::write(&tmp, &compacted.read).and_then(|()| std::fs::rename(&tmp, &self.path));
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
            return result;
        }
        *file = compacted;
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
    fn parse(read: Vec<u8>) -> CacheFile {
        let mut file = CacheFile { read, ..CacheFile::default() };
        let header_ok = file.read.get(..MAGIC.len()) == Some(MAGIC)
            && file.read.get(MAGIC.len()..FILE_HEADER) == Some(&FORMAT.to_le_bytes()[..]);
        if !header_ok {
            return file;
        }
        let mut at = FILE_HEADER;
        while let Some(header) = file.read.get(at..at + RECORD_HEADER) {
            let key: FnKey = header[..32].try_into().unwrap();
            let len = u32::from_le_bytes(header[32..36].try_into().unwrap()) as usize;
            let checksum = header[36..].try_into().unwrap();
            let start = at + RECORD_HEADER;
            let Some(end) = start.checked_add(len).filter(|&end| end <= file.read.len()) else { break };
            file.records.insert(key, Record { start, end, checksum });
            file.count += 1;
            at = end;
        }
        // Bytes left over are the torn tail of an interrupted append; a
        // record appended after them would be lost.
        file.appendable = at == file.read.len();
        file
    }

    pub fn get<T: DeserializeOwned>(&self, key: &FnKey) -> Result<T, Miss> {
        let record = self.records.get(key).ok_or(Miss::Absent)?;
        let payload = self.at(record.start, record.end);
        if checksum(key, payload) != record.checksum {
            return Err(Miss::Damaged);
        }
        match postcard::take_from_bytes::<T>(payload) {
            Ok((entry, [])) => Ok(entry),
            _ => Err(Miss::Damaged),
        }
    }

    /// Whether the log has a record of `key` (not necessarily a sound one).
    pub fn contains(&self, key: &FnKey) -> bool {
        self.records.contains_key(key)
    }

    /// Forgets a damaged record, so that the entry is stored again.
    pub fn forget(&mut self, key: &FnKey) {
        self.records.remove(key);
    }

    /// The bytes at log offsets `start..end`, which a record never
    /// spreads over both `read` and `appended`.
    fn at(&self, start: usize, end: usize) -> &[u8] {
        match start.checked_sub(self.read.len()) {
            None => &self.read[start..end],
            Some(start) => &self.appended[start..end - self.read.len()],
        }
    }

    /// Adds a record in memory, as the last of its key.
    fn push(&mut self, key: &FnKey, entry: &impl Serialize) {
        // Plain data: vectors, strings, numbers and enums, nothing postcard
        // refuses.
        let payload = postcard::to_stdvec(entry).expect("cache entries always serialize");
        let checksum = checksum(key, &payload);
        self.appended.extend_from_slice(key);
        self.appended.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        self.appended.extend_from_slice(&checksum);
        let start = self.read.len() + self.appended.len();
        self.appended.extend_from_slice(&payload);
        self.records.insert(*key, Record { start, end: start + payload.len(), checksum });
        self.count += 1;
    }

    /// A new log with the sound records of the `live` keys, in their order here.
    fn compact(&self, live: &FxHashSet<FnKey>) -> CacheFile {
        let mut kept: Vec<(&FnKey, &Record)> = self
            .records
            .iter()
            .filter(|(key, r)| live.contains(*key) && checksum(key, self.at(r.start, r.end)) == r.checksum)
            .collect();
        kept.sort_by_key(|(_, r)| r.start);
        let mut bytes =
            Vec::with_capacity(FILE_HEADER + kept.iter().map(|(_, r)| r.end - r.start + RECORD_HEADER).sum::<usize>());
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&FORMAT.to_le_bytes());
        let mut records = FxHashMap::default();
        for (key, r) in kept {
            bytes.extend_from_slice(self.at(r.start - RECORD_HEADER, r.end));
            records.insert(*key, Record { start: bytes.len() - (r.end - r.start), end: bytes.len(), ..*r });
        }
        CacheFile { read: bytes, appended: Vec::new(), appendable: true, count: records.len(), records }
    }
}

fn checksum(key: &FnKey, payload: &[u8]) -> [u8; 32] {
    let mut hasher = blake3::Hasher::new();
    hasher.update(key);
    hasher.update(payload);
    *hasher.finalize().as_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use simple_compiler::diagnostics::RelDiagnostic;
    use simple_compiler::persist::{CachedFn, CompiledFn, Literal};

    fn entry(symbol: &str) -> CachedFn {
        CachedFn {
            code: CompiledFn {
                symbol: symbol.into(),
                content_hash: [3; 16],
                code: vec![0x55, 0x48, 0x89, 0xe5, 0xc3],
                relocs: Vec::new(),
                literals: vec![Literal::Str("hello".into())],
                lines: vec![(0, Default::default())],
                inlined: Vec::new(),
                traps: Vec::new(),
                stack_maps: Vec::new(),
            },
            warnings: vec![RelDiagnostic::warning(Default::default(), "unreachable code")],
        }
    }

    fn image(entries: &[(FnKey, CachedFn)]) -> Vec<u8> {
        let mut file = CacheFile::parse([&MAGIC[..], &FORMAT.to_le_bytes()].concat());
        for (key, e) in entries {
            file.push(key, e);
        }
        [file.read, file.appended].concat()
    }

    #[test]
    fn the_last_record_of_a_key_wins() {
        let file = CacheFile::parse(image(&[([1; 32], entry("a")), ([2; 32], entry("b")), ([1; 32], entry("c"))]));
        assert_eq!(file.get::<CachedFn>(&[1; 32]), Ok(entry("c")));
        assert_eq!(file.get::<CachedFn>(&[2; 32]), Ok(entry("b")));
        assert_eq!(file.get::<CachedFn>(&[3; 32]), Err(Miss::Absent));
    }

    /// Whatever `file` yields is exactly what was stored.
    fn assert_trustworthy(file: &CacheFile, what: &str) {
        for (key, symbol) in [([1; 32], "a"), ([2; 32], "b")] {
            if let Ok(e) = file.get::<CachedFn>(&key) {
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
            assert!(file.get::<CachedFn>(&[2; 32]).is_err(), "truncated to {len}");
        }
        for i in 0..bytes.len() {
            let mut damaged = bytes.clone();
            damaged[i] ^= 0x10;
            let file = CacheFile::parse(damaged);
            assert_trustworthy(&file, &format!("byte {i} flipped"));
            assert!(
                file.get::<CachedFn>(&[1; 32]).is_err() || file.get::<CachedFn>(&[2; 32]).is_err(),
                "byte {i} flipped"
            );
        }
    }

    #[test]
    fn stores_append_and_compact() {
        let dir = std::env::temp_dir().join(format!("simple-fn-cache-{}", std::process::id()));
        let log = Cache::for_program(&dir.join("prog.spl")).fns;
        let (a, b, c) = (([1; 32], entry("a")), ([2; 32], entry("b")), ([3; 32], entry("c")));
        let live = |keys: &[FnKey]| keys.iter().copied().collect::<FxHashSet<FnKey>>();
        let get = |file: &CacheFile, key| file.get::<CachedFn>(key);
        let mut file = log.open();
        assert_eq!(get(&file, &a.0), Err(Miss::Absent));
        // No file yet: written whole.
        log.store(&mut file, std::slice::from_ref(&a), 1, || live(&[a.0])).unwrap();
        let mut file = log.open();
        log.store(&mut file, std::slice::from_ref(&b), 2, || panic!("appends")).unwrap();
        let file = log.open();
        assert_eq!((get(&file, &a.0), get(&file, &b.0), file.count), (Ok(a.1.clone()), Ok(b.1.clone()), 2));

        // A torn tail (an interrupted append) forces a rewrite, with the
        // live entries only.
        std::fs::write(&log.path, &file.read[..file.read.len() - 1]).unwrap();
        let mut file = log.open();
        log.store(&mut file, std::slice::from_ref(&c), 2, || live(&[a.0, c.0])).unwrap();
        let file = log.open();
        assert_eq!(
            (get(&file, &a.0), get(&file, &b.0), get(&file, &c.0), file.count),
            (Ok(a.1.clone()), Err(Miss::Absent), Ok(c.1.clone()), 2)
        );

        // Superseded records are dropped once they outnumber the live ones.
        let mut file = log.open();
        for i in 0..100 {
            log.store(&mut file, &[(a.0, entry(&format!("a{i}")))], 1, || live(&[a.0])).unwrap();
            assert!(file.count <= 2 + 64 + 1, "{} records after {i} stores", file.count);
            assert_eq!(get(&file, &a.0), Ok(entry(&format!("a{i}"))), "in memory after {i} stores");
        }
        let file = log.open();
        assert_eq!((get(&file, &a.0), get(&file, &c.0)), (Ok(entry("a99")), Err(Miss::Absent)));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
