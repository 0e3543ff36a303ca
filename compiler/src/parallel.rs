//! Code generation on every core.
//!
//! `link_smf` asks for each function's code in turn. Before it does, the
//! driver calls [`codegen_all`], which runs `codegen_fn` for every function
//! on worker threads with clones of the database; `link_smf` then finds the
//! results memoized. Output does not depend on scheduling: every query is a
//! pure function of the inputs.

use crate::db::{self, Database, FnId, Project, SourceFile};
use crate::persist;

/// Functions per worker below which threads cost more than they save.
const MIN_FNS_PER_THREAD: usize = 16;

pub fn codegen_all(db: &Database, project: Project) {
    let jobs: Vec<(SourceFile, String)> = project
        .files(db)
        .iter()
        .flat_map(|&file| db::file_fns(db, file).iter().map(move |&f| (file, f)))
        .filter(|&(_, f)| persist::fn_cached(db, f).is_none())
        .map(|(file, f)| (file, f.name(db).clone()))
        .collect();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = cores.min(jobs.len() / MIN_FNS_PER_THREAD);
    if threads <= 1 {
        return;
    }
    std::thread::scope(|scope| {
        for worker in 0..threads {
            let db = db.clone();
            let jobs = &jobs;
            scope.spawn(move || {
                for (file, name) in jobs.iter().skip(worker).step_by(threads) {
                    // Errors are reported by `link_smf`, which reads the memo.
                    let _ = db::codegen_fn(&db, FnId::new(&db, *file, name.clone()));
                }
            });
        }
    });
}
