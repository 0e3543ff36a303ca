//! Work on every core, with clones of the database.
//!
//! Queries are pure functions of the inputs, so running them on worker
//! threads changes nothing but speed: whatever a worker computes is
//! memoized in the shared storage, and the caller then finds it there.

use crate::db::{self, Database, FnId, SourceFile};
use crate::persist;

/// Functions per worker below which threads cost more than they save.
const MIN_FNS_PER_THREAD: usize = 16;

/// Calls `work` on every item, spread over the cores (one thread unless
/// each gets at least `min_per_thread` items), each worker with its own
/// database clone. Returns the results in item order.
pub fn map<T: Sync, R: Send>(
    db: &Database,
    items: &[T],
    min_per_thread: usize,
    work: impl Fn(&Database, &T) -> R + Sync,
) -> Vec<R> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = cores.min(items.len() / min_per_thread.max(1));
    if threads <= 1 {
        return items.iter().map(|item| work(db, item)).collect();
    }
    let mut results: Vec<Option<R>> = std::iter::repeat_with(|| None).take(items.len()).collect();
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|worker| {
                let db = db.clone();
                let work = &work;
                // Interleaved, so that runs of big items spread over the workers.
                scope.spawn(move || {
                    (worker..items.len()).step_by(threads).map(|i| (i, work(&db, &items[i]))).collect::<Vec<_>>()
                })
            })
            .collect();
        for worker in workers {
            match worker.join() {
                Ok(done) => done.into_iter().for_each(|(i, result)| results[i] = Some(result)),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
    });
    results.into_iter().map(|r| r.expect("every item has a worker")).collect()
}

/// Type-checks every function of `files` not in the code cache, so that
/// `diagnostics`, which asks for each function's HIR in turn, finds it
/// memoized.
pub fn check(db: &Database, files: &[SourceFile]) {
    for_uncached_fns(db, files, |db, f| {
        let _ = db::fn_hir(db, f);
    });
}

/// Runs `codegen_fn` for every function of `files` not in the code cache,
/// then lays out the files' objects, so that `link_smf` finds both
/// memoized. Ask only for files without errors.
pub fn codegen(db: &Database, files: &[SourceFile]) {
    for_uncached_fns(db, files, |db, f| {
        // Errors are reported by `link_smf`, which reads the memo.
        let _ = db::codegen_fn(db, f);
    });
    map(db, files, 2, |db, &file| {
        let _ = db::file_object(db, file);
    });
}

/// Calls `work` for every function of `files` not in the code cache (as a
/// function, or with its whole file).
fn for_uncached_fns(db: &Database, files: &[SourceFile], work: impl Fn(&Database, FnId<'_>) + Sync) {
    let jobs: Vec<_> = files
        .iter()
        .filter(|&&file| persist::file_cached_object(db, file).is_none())
        .flat_map(|&file| {
            let fns = db::file_fns(db, file).iter().zip(persist::file_cached(db, file));
            fns.filter(|(_, cached)| cached.is_none()).map(move |(f, _)| (file, f.name(db).clone()))
        })
        .collect();
    map(db, &jobs, MIN_FNS_PER_THREAD, |db, (file, name)| work(db, FnId::new(db, *file, name.clone())));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_keeps_item_order_on_every_core() {
        let db = Database::default();
        let items: Vec<usize> = (0..1000).collect();
        let squares = map(&db, &items, 1, |_, &i| i * i);
        assert_eq!(squares, items.iter().map(|i| i * i).collect::<Vec<_>>());
        assert!(map(&db, &[] as &[usize], 1, |_, &i| i).is_empty());
    }

    #[test]
    #[should_panic(expected = "item 7")]
    fn a_panicking_worker_panics_the_caller() {
        let db = Database::default();
        let items: Vec<usize> = (0..100).collect();
        map(&db, &items, 1, |_, &i| if i == 7 { panic!("item 7") } else { i });
    }
}
