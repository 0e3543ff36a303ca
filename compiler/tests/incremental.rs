//! The incremental invariants of DESIGN.md, proved from Salsa's event log:
//! which queries executed after an edit.

use salsa::Setter;
use salsa::plumbing::AsId;
use simple_compiler::{Database, FnId, Project, SourceFile, db};

const PROGRAM: &str = "\
fn a(x: i64) -> i64:
    return x + 1

fn b(x: i64) -> i64:
    return x * 2

fn c(s: str) -> str:
    return s + \"!\"

fn main() -> i64:
    println(c(\"hi\"))
    return a(b(20))
";

struct Fixture {
    db: Database,
    file: SourceFile,
    project: Project,
}

impl Fixture {
    fn new(text: &str) -> Fixture {
        let db = Database::with_event_log();
        let file = SourceFile::new(&db, "test.spl".into(), text.to_string());
        let project = Project::new(&db, file, vec![file]);
        let fixture = Fixture { db, file, project };
        fixture.build();
        fixture.db.take_executions();
        fixture
    }

    fn build(&self) -> Vec<u8> {
        match db::link_smf(&self.db, self.project) {
            Ok(bytes) => bytes.clone(),
            Err(e) => panic!("build failed: {e}: {:?}", db::diagnostics(&self.db, self.project)),
        }
    }

    fn edit(&mut self, text: String) {
        self.file.set_text(&mut self.db).to(text);
    }

    fn text(&self) -> String {
        self.file.text(&self.db).clone()
    }

    /// Names of the functions of [`PROGRAM`] a query executed for.
    fn executed(&self, query: &str, log: &[(String, salsa::Id)]) -> Vec<String> {
        self.executed_of(&["a", "b", "c", "main"], query, log)
    }

    /// Which of the functions `names` a query executed for.
    fn executed_of(&self, names: &[&str], query: &str, log: &[(String, salsa::Id)]) -> Vec<String> {
        let mut out: Vec<String> = log
            .iter()
            .filter(|(q, _)| q == query)
            .map(|(_, id)| {
                names
                    .iter()
                    .find(|n| FnId::new(&self.db, self.file, n.to_string()).as_id() == *id)
                    .map_or_else(|| format!("{id:?}"), |n| n.to_string())
            })
            .collect();
        out.sort();
        out
    }
}

fn clean_build(text: &str) -> Vec<u8> {
    Fixture::new(text).build()
}

#[test]
fn editing_one_body_recompiles_that_function_only() {
    let mut fx = Fixture::new(PROGRAM);
    fx.edit(fx.text().replace("x * 2", "x * 3"));
    let bytes = fx.build();
    let log = fx.db.take_executions();
    for query in ["fn_hir", "fn_mir_base"] {
        assert_eq!(fx.executed(query, &log), ["b"], "{query} executions: {log:?}");
    }
    // `main` inlines `b`: its code changes too, its checking does not.
    for query in ["fn_mir", "codegen_fn"] {
        assert_eq!(fx.executed(query, &log), ["b", "main"], "{query} executions: {log:?}");
    }
    assert_eq!(bytes, clean_build(&fx.text()), "incremental build differs from a clean one");
}

#[test]
fn blank_lines_and_comments_above_functions_recompile_nothing() {
    let mut fx = Fixture::new(PROGRAM);
    let before = simple_smf::read(&fx.build()).expect("valid module");
    let edited = format!("# a comment\n\n{}", fx.text().replace("fn b(", "# about b\n\n\nfn b("));
    fx.edit(edited);
    let bytes = fx.build();
    let log = fx.db.take_executions();
    for query in ["fn_hir", "fn_mir", "codegen_fn"] {
        assert_eq!(fx.executed(query, &log), Vec::<String>::new(), "{query} executions: {log:?}");
    }
    // The line table moved with the source: `a` by two lines, `b` by five.
    let after = simple_smf::read(&bytes).expect("valid module");
    let lines = |m: &simple_smf::Module| m.line_table.iter().map(|e| e.line).collect::<Vec<_>>();
    assert_ne!(lines(&before), lines(&after));
    assert_eq!(before.code, after.code);
    assert_eq!(bytes, clean_build(&fx.text()));
}

#[test]
fn changing_a_signature_rechecks_its_callers_only() {
    let mut fx = Fixture::new(PROGRAM);
    fx.edit(
        fx.text()
            .replace("fn a(x: i64) -> i64:\n    return x + 1", "fn a(x: i64, y: i64 = 5) -> i64:\n    return x + y"),
    );
    let bytes = fx.build();
    let log = fx.db.take_executions();
    assert_eq!(fx.executed("fn_hir", &log), ["a", "main"], "{log:?}");
    assert!(!fx.executed("codegen_fn", &log).contains(&"c".to_string()));
    assert_eq!(bytes, clean_build(&fx.text()));
}

#[test]
fn output_is_deterministic() {
    assert_eq!(clean_build(PROGRAM), clean_build(PROGRAM));
}

/// Two files: editing a body in one recompiles nothing in the other; a
/// signature change re-checks only the callers that use it.
mod across_files {
    use super::*;

    const LIB: &str = "pub fn double(x: i64) -> i64:\n    return x * 2\n\npub fn unused() -> i64: 7\n";
    const MAIN: &str = "import lib\n\nfn other() -> i64: 1\n\nfn main() -> i64:\n    return lib.double(20) + other()\n";

    fn setup() -> (Database, SourceFile, SourceFile, Project) {
        let db = Database::with_event_log();
        let main = SourceFile::new(&db, "main.spl".into(), MAIN.to_string());
        let lib = SourceFile::new(&db, "lib.spl".into(), LIB.to_string());
        let project = Project::new(&db, main, vec![main, lib]);
        db::link_smf(&db, project).as_ref().expect("builds");
        db.take_executions();
        (db, main, lib, project)
    }

    fn names(db: &Database, files: &[SourceFile], log: &[(String, salsa::Id)], query: &str) -> Vec<String> {
        let mut out: Vec<String> = log
            .iter()
            .filter(|(q, _)| q == query)
            .filter_map(|(_, id)| {
                files.iter().find_map(|&file| {
                    db::file_fns(db, file)
                        .iter()
                        .find(|f| f.as_id() == *id)
                        .map(|f| format!("{}:{}", file.path(db).display(), f.name(db)))
                })
            })
            .collect();
        out.sort();
        out
    }

    #[test]
    fn a_body_edit_in_one_file_recompiles_nothing_in_the_other() {
        let (mut db, main, lib, project) = setup();
        lib.set_text(&mut db).to(LIB.replace("x * 2", "x + x"));
        db::link_smf(&db, project).as_ref().expect("builds");
        let log = db.take_executions();
        for query in ["fn_hir", "fn_mir", "codegen_fn"] {
            assert_eq!(names(&db, &[main, lib], &log, query), ["lib.spl:double"], "{query}: {log:?}");
        }
        // The link lays out the edited file again and copies the other's object.
        let objects: Vec<salsa::Id> = log.iter().filter(|(q, _)| q == "file_object").map(|(_, id)| *id).collect();
        assert_eq!(objects, [lib.as_id()], "{log:?}");
    }

    #[test]
    fn a_signature_change_rechecks_only_its_callers() {
        let (mut db, main, lib, project) = setup();
        lib.set_text(&mut db).to(LIB.replace("double(x: i64)", "double(x: i64, y: i64 = 2)").replace("x * 2", "x * y"));
        db::link_smf(&db, project).as_ref().expect("builds");
        let log = db.take_executions();
        assert_eq!(names(&db, &[main, lib], &log, "fn_hir"), ["lib.spl:double", "main.spl:main"], "{log:?}");
    }
}

const TYPES: &str = "\
struct A:
    x: i64
    y: i64

struct B:
    n: i64

struct Outer:
    a: A
    tag: str

fn uses_a(a: A) -> i64:
    return a.x + a.y

fn uses_outer(o: Outer) -> i64:
    return o.a.x

fn uses_b(b: B) -> i64:
    return b.n * 2

fn main() -> i64:
    return uses_b(B(3))
";

#[test]
fn changing_a_struct_recompiles_only_the_functions_that_use_it() {
    let names = ["uses_a", "uses_outer", "uses_b", "main"];
    let mut fx = Fixture::new(TYPES);
    fx.edit(fx.text().replace("    y: i64", "    y: f64\n    z: bool"));
    fx.edit(fx.text().replace("return a.x + a.y", "return a.x"));
    let bytes = fx.build();
    let log = fx.db.take_executions();
    // `uses_a`'s body changed too; `uses_outer` only through `Outer`'s
    // layout, which holds an `A`.
    assert_eq!(fx.executed_of(&names, "fn_mir", &log), ["uses_a", "uses_outer"], "{log:?}");
    assert_eq!(fx.executed_of(&names, "codegen_fn", &log), ["uses_a", "uses_outer"], "{log:?}");
    assert_eq!(bytes, clean_build(&fx.text()));
}
