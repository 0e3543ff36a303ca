//! Textual dumps of the intermediate forms, for `simple dump` and tests.

use crate::SourceFile;
use crate::db::{self, Db};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Hir,
    Mir,
    Clif,
    Asm,
}

/// Dumps every function of `file` (or only `only`) at `stage`.
pub fn dump_functions(db: &dyn Db, file: SourceFile, only: Option<&str>, stage: Stage) -> Result<String, String> {
    let fns: Vec<_> = db::file_fns(db, file).iter().copied().filter(|f| only.is_none_or(|n| f.name(db) == n)).collect();
    if fns.is_empty() {
        return Err(match only {
            Some(name) => format!("no function named `{name}`"),
            None => "the file has no functions".to_string(),
        });
    }
    let mut out = String::new();
    for f in fns {
        let text = match stage {
            Stage::Hir => crate::hir::pretty(db::fn_hir(db, f)),
            _ => {
                let body = db::fn_mir(db, f).as_ref().ok_or("the function has errors")?;
                match stage {
                    Stage::Mir => simple_mir::pretty(body),
                    Stage::Clif => {
                        let isa = crate::isa()?;
                        simple_codegen::dump_clif(body, &*isa).map_err(|e| e.to_string())?
                    }
                    _ => {
                        let isa = crate::isa()?;
                        simple_codegen::dump_asm(body, &*isa).map_err(|e| e.to_string())?
                    }
                }
            }
        };
        out.push_str(&text);
        out.push('\n');
    }
    Ok(out)
}
