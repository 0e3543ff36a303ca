//! Which calls the compiler may inline, chosen so the per-function code
//! cache stays correct.
//!
//! A function's cache key ([`crate::persist::fn_key`]) covers its own
//! source and the interfaces it sees, not other functions' bodies. A caller
//! that inlines a callee depends on the callee's body too, so the key must
//! cover it, and the key is computed from the syntax alone (no type
//! checking). So a callee is offered for inlining only if it is an
//! *inline candidate* — a non-generic function of the caller's own file
//! whose source is at most [`MAX_SOURCE_BYTES`] long — that the caller's
//! source *mentions* by name (as a whole word). The key of every function
//! includes the source of the candidates it mentions; a mention that is not
//! a call only costs a recompilation when that candidate changes. The same
//! file means the same scope, which the key covers already, and lets the
//! linker place the callee's positions (see `simple_mir::Loc`).
//!
//! Whether a candidate is really inlined is then up to the MIR
//! (`simple_mir::inline`): it must be small there too.

use rustc_hash::FxHashSet;
use simple_syntax::ast;

use crate::db::{self, Db, FnId, SourceFile};
use crate::items::FnSourceKind;

/// The longest function source, signature included, offered for inlining.
pub const MAX_SOURCE_BYTES: u32 = 400;

/// The inline candidates of `file`, by symbol, in source order.
#[salsa::tracked(returns(ref))]
pub fn candidates<'db>(db: &'db dyn Db, file: SourceFile) -> Vec<(String, FnId<'db>)> {
    db::file_fns(db, file)
        .iter()
        .filter(|&&f| db::fn_source(db, f).as_ref().is_some_and(|source| is_small_def(&source.kind)))
        .map(|&f| (db::fn_symbol(db, f), f))
        .collect()
}

fn is_small_def(kind: &FnSourceKind) -> bool {
    match kind {
        FnSourceKind::Def(def) => is_small(def),
        FnSourceKind::Script(_) => false,
    }
}

fn is_small(def: &ast::FnDef) -> bool {
    def.generics.is_empty() && def.body.is_some() && def.span.end - def.span.start <= MAX_SOURCE_BYTES
}

/// The candidates of `f`'s file other than `f` whose name (a method's
/// without its type) occurs in `f`'s source, by symbol: the functions `f`
/// may inline. A query, as both `fn_key` and `fn_mir` ask.
#[salsa::tracked(returns(ref))]
pub fn mentioned<'db>(db: &'db dyn Db, f: FnId<'db>) -> Vec<(String, FnId<'db>)> {
    let file = f.file(db);
    let candidates = candidates(db, file);
    if candidates.is_empty() {
        return Vec::new();
    }
    let Some(source) = db::fn_source(db, f) else { return Vec::new() };
    let words: FxHashSet<&str> = source.parts.iter().flat_map(|part| words(&part.text)).collect();
    candidates
        .iter()
        .filter(|(_, g)| *g != f)
        .filter(|(_, g)| {
            let name = g.name(db);
            words.contains(name.rsplit('.').next().unwrap_or(name))
        })
        .cloned()
        .collect()
}

/// The whole words of `text` (runs of letters, digits and `_`); those in
/// comments and strings count too, which only costs recompilations.
fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_')).filter(|w| !w.is_empty())
}

#[cfg(test)]
mod tests {
    use super::words;

    #[test]
    fn a_mention_is_a_whole_word() {
        let mentions = |text: &str, name: &str| words(text).any(|w| w == name);
        assert!(mentions("return 2 * square(x)", "square"));
        assert!(mentions("v.square()", "square"));
        assert!(mentions("square", "square"));
        assert!(!mentions("twice_square(3) + squares + squared", "square"));
        assert!(mentions("twice_square(3) + square", "square"));
    }
}
