//! Textual dumps of the intermediate forms, for `simple dump` and tests.

use crate::db::{self, Db};
use crate::{Project, SourceFile};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Hir,
    Mir,
    Clif,
    Asm,
}

/// Dumps every function of `file` at `stage`, or only `only`: a function
/// of `file` by name, or one of the program's modules by symbol
/// (`util.strings.shout`).
pub fn dump_functions(db: &dyn Db, file: SourceFile, only: Option<&str>, stage: Stage) -> Result<String, String> {
    let fns: Vec<_> = match only {
        None => db::file_fns(db, file).clone(),
        Some(name) => {
            let files = Project::try_get(db).map_or_else(|| vec![file], |project| project.files(db).clone());
            let fns = files.into_iter().flat_map(|f| db::file_fns(db, f).iter().copied());
            fns.filter(|&f| (f.file(db) == file && f.name(db) == name) || db::fn_symbol(db, f) == name).collect()
        }
    };
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
