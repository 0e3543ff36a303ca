//! Snapshot tests of the textual MIR: what lowering and the optimiser make
//! of small programs. Review changes with `cargo insta review`.

use simple_compiler::dump::{Stage, dump_functions};
use simple_compiler::{Database, Options, SourceFile};

fn dump(text: &str, stage: Stage, options: Options) -> String {
    let mut db = Database::default();
    db.set_options(options);
    let file = SourceFile::new(&db, "t.spl".into(), text.to_string());
    dump_functions(&db, file, None, stage).unwrap_or_else(|e| panic!("dump failed: {e}"))
}

const LOOPS: &str = "\
fn sum_to(n: i64) -> i64:
    var total = 0
    for i in 1..=n:
        if i % 3 == 0 or i % 5 == 0:
            total += i
    return total

fn main():
    let limit = 2 * 5
    println(\"sum {sum_to(limit)}\")
";

const EXPRESSIONS: &str = "\
const SCALE: f64 = 2.5

fn classify(x: f64, lo: f64 = 0.0) -> str:
    let s = if lo < x < 10.0: \"small\" else: \"big\"
    return s + \"!\"

fn main() -> i64:
    assert(classify(SCALE * 2.0) == \"small!\", \"scale\")
    return (3.9 as i64) + 1
";

#[test]
fn mir_of_loops() {
    insta::assert_snapshot!(dump(LOOPS, Stage::Mir, Options::default()));
}

#[test]
fn mir_of_loops_unoptimised() {
    insta::assert_snapshot!(dump(LOOPS, Stage::Mir, Options { no_opt: true, ..Options::default() }));
}

#[test]
fn hir_of_loops_and_expressions() {
    insta::assert_snapshot!(
        dump(LOOPS, Stage::Hir, Options::default()) + &dump(EXPRESSIONS, Stage::Hir, Options::default())
    );
}

#[test]
fn mir_of_expressions() {
    insta::assert_snapshot!(dump(EXPRESSIONS, Stage::Mir, Options::default()));
}

#[test]
fn clif_of_a_checked_add() {
    let clif = dump("fn add(a: i64, b: i64) -> i64:\n    return a + b\n", Stage::Clif, Options::default());
    // The overflow check must be there; the exact instruction text is
    // Cranelift's and may change between versions.
    assert!(clif.contains("sadd_overflow"), "{clif}");
    assert!(clif.contains("trapnz"), "{clif}");
}
