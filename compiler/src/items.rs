//! Item collection: the position-independent summary of a file
//! (`file_items`), function sources, signatures and constants.

use std::collections::BTreeMap;
use std::sync::Arc;

use rustc_hash::FxHashMap;

use simple_syntax::Span;
use simple_syntax::ast::{self, ItemKind};

use crate::consts::{self, ConstError, ConstValue, DefaultValue};
use crate::diagnostics::{RelDiagnostic, RelSpan};
use crate::hir::{Adt, AdtKind, Ty};

/// Name of the implicit function holding a script's top-level statements.
pub const SCRIPT_MAIN: &str = "main";

/// What a file declares, without positions: changes only when a name or a
/// signature does.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FileItems {
    /// Functions, then methods (named `Type.method`).
    pub fns: Vec<FnDecl>,
    pub types: Vec<TypeDecl>,
    pub consts: Vec<ConstDecl>,
    pub imports: Vec<ImportDecl>,
    /// The first top-level statement, if any: (item index, span).
    pub first_stmt: Option<(u32, Span)>,
    /// Diagnostics about items, by index of the item in the file.
    pub diagnostics: Vec<(u32, RelDiagnostic)>,
    /// Indices into `fns` and `consts` by name, so lookups do not scan.
    fn_index: FxHashMap<String, usize>,
    const_index: FxHashMap<String, usize>,
    type_index: FxHashMap<String, usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FnDecl {
    pub name: String,
    pub params: Vec<ast::Param>,
    pub ret: Option<ast::TypeExpr>,
    /// The implicit `main` of a script (returns its exit status).
    pub is_script: bool,
    pub is_pub: bool,
    pub name_span: Span,
    /// For a method or static function: the type it belongs to.
    pub owner: Option<String>,
}

/// A struct, class or enum declaration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeDecl {
    pub name: String,
    pub kind: AdtKind,
    pub is_pub: bool,
    /// Struct and class fields.
    pub fields: Vec<ast::FieldDef>,
    /// Enum variants.
    pub variants: Vec<ast::Variant>,
    pub name_span: Span,
    /// Index of the item, to place diagnostics.
    pub item: u32,
}

/// `import a.b [as c]` or `from a.b import x [as y], ...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportDecl {
    /// The module path: `["a", "b"]` for `a.b`, the file `a/b.spl`.
    pub path: Vec<String>,
    pub kind: ImportKind,
    /// Index of the item and span of the path, for diagnostics.
    pub item: u32,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportKind {
    /// `import a.b` binds `a` (reaching `a.b`); `import a.b as c` binds `c`.
    Module { alias: Option<String> },
    /// `from a.b import x as y`: (name in the module, local name, span).
    Names(Vec<(String, String, Span)>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConstDecl {
    pub name: String,
    pub ty: Option<ast::TypeExpr>,
    pub value: ast::Expr,
    pub is_pub: bool,
    /// Index of the item, to place diagnostics.
    pub item: u32,
}

/// The functions a file declares, by name: unlike [`FileItems`], unchanged
/// when a signature changes, so bodies that only need to know a name exists
/// do not depend on every signature.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ModuleNames {
    /// Function name → whether it is a script's implicit `main`.
    fns: BTreeMap<String, bool>,
}

impl ModuleNames {
    pub fn is_fn(&self, name: &str) -> bool {
        self.fns.contains_key(name)
    }

    pub fn is_script(&self, name: &str) -> bool {
        self.fns.get(name).copied().unwrap_or(false)
    }
}

impl FileItems {
    pub fn names(&self) -> ModuleNames {
        ModuleNames { fns: self.fns.iter().map(|f| (f.name.clone(), f.is_script)).collect() }
    }

    pub fn find_fn(&self, name: &str) -> Option<&FnDecl> {
        self.fn_index.get(name).map(|&i| &self.fns[i])
    }

    pub fn fn_names(&self) -> impl Iterator<Item = &str> {
        self.fns.iter().map(|f| f.name.as_str())
    }

    pub fn find_const(&self, name: &str) -> Option<&ConstDecl> {
        self.const_index.get(name).map(|&i| &self.consts[i])
    }

    pub fn find_type(&self, name: &str) -> Option<&TypeDecl> {
        self.type_index.get(name).map(|&i| &self.types[i])
    }
}

/// The name of a method's function: `Type.method`.
pub fn method_name(owner: &str, method: &str) -> String {
    format!("{owner}.{method}")
}

fn unsupported(kind: &ItemKind) -> Option<&'static str> {
    Some(match kind {
        ItemKind::Trait(_) => "traits are not supported yet",
        ItemKind::Impl(def) if def.trait_ref.is_some() => "trait implementations are not supported yet",
        ItemKind::Actor(_) => "actors are not supported yet",
        ItemKind::TypeAlias { .. } => "type aliases are not supported yet",
        ItemKind::Extern(_) => "extern functions are not supported yet",
        ItemKind::HandlePool { .. } => "handle pools are not supported yet",
        ItemKind::Fn(_)
        | ItemKind::Const(_)
        | ItemKind::Stmt(_)
        | ItemKind::Import(_)
        | ItemKind::Struct(_)
        | ItemKind::Class(_)
        | ItemKind::Enum(_)
        | ItemKind::Impl(_) => return None,
    })
}

/// Summarises a parsed file.
pub fn collect(file: &ast::SourceFile) -> FileItems {
    let mut out = FileItems::default();
    let mut names: BTreeMap<&str, ()> = BTreeMap::new();
    let mut first_stmt: Option<(u32, Span)> = None;
    let mut has_main_fn = false;
    let mut impls: Vec<(u32, &ast::ImplDef)> = Vec::new();
    let mut methods: Vec<(u32, &str, &ast::FnDef)> = Vec::new();
    for (index, top) in file.items.iter().enumerate() {
        let index = index as u32;
        let span = RelSpan { part: 0, span: top.item.span };
        if let Some(message) = unsupported(&top.item.kind) {
            out.diagnostics.push((index, RelDiagnostic::error(span, message)));
            continue;
        }
        if let ItemKind::Import(import) = &top.item.kind {
            out.imports.push(import_decl(import, index));
            continue;
        }
        let name = match &top.item.kind {
            ItemKind::Fn(def) => &def.name,
            ItemKind::Const(def) => &def.name,
            ItemKind::Struct(def) | ItemKind::Class(def) => &def.name,
            ItemKind::Enum(def) => &def.name,
            ItemKind::Stmt(stmt) => {
                first_stmt.get_or_insert((index, stmt.span));
                continue;
            }
            ItemKind::Impl(def) => {
                impls.push((index, def));
                continue;
            }
            _ => continue,
        };
        if names.insert(&name.text, ()).is_some() {
            let span = RelSpan { part: 0, span: name.span };
            out.diagnostics.push((
                index,
                RelDiagnostic::error(span, format!("the name `{}` is defined multiple times", name.text))
                    .with_label(format!("`{}` redefined here", name.text)),
            ));
            continue;
        }
        match &top.item.kind {
            ItemKind::Fn(def) => {
                has_main_fn |= &*def.name.text == SCRIPT_MAIN;
                if !def.generics.is_empty() {
                    let span = RelSpan { part: 0, span: def.generics[0].name.span };
                    out.diagnostics
                        .push((index, RelDiagnostic::error(span, "generic functions are not supported yet")));
                }
                out.fns.push(FnDecl {
                    name: def.name.text.to_string(),
                    params: def.params.clone(),
                    ret: def.ret.clone(),
                    is_script: false,
                    is_pub: top.item.is_pub,
                    name_span: def.name.span,
                    owner: None,
                });
            }
            ItemKind::Struct(def) | ItemKind::Class(def) => {
                let kind = if matches!(top.item.kind, ItemKind::Struct(_)) { AdtKind::Struct } else { AdtKind::Class };
                if let Some(g) = def.generics.first() {
                    let span = RelSpan { part: 0, span: g.name.span };
                    out.diagnostics.push((index, RelDiagnostic::error(span, "generic types are not supported yet")));
                }
                out.types.push(TypeDecl {
                    name: def.name.text.to_string(),
                    kind,
                    is_pub: top.item.is_pub,
                    fields: def.fields.clone(),
                    variants: Vec::new(),
                    name_span: def.name.span,
                    item: index,
                });
                methods.extend(def.methods.iter().map(|m| (index, &*def.name.text, m)));
            }
            ItemKind::Enum(def) => {
                if let Some(g) = def.generics.first() {
                    let span = RelSpan { part: 0, span: g.name.span };
                    out.diagnostics.push((index, RelDiagnostic::error(span, "generic types are not supported yet")));
                }
                out.types.push(TypeDecl {
                    name: def.name.text.to_string(),
                    kind: AdtKind::Enum,
                    is_pub: top.item.is_pub,
                    fields: Vec::new(),
                    variants: def.variants.clone(),
                    name_span: def.name.span,
                    item: index,
                });
                methods.extend(def.methods.iter().map(|m| (index, &*def.name.text, m)));
            }
            ItemKind::Const(def) => out.consts.push(ConstDecl {
                name: def.name.text.to_string(),
                ty: def.ty.clone(),
                value: def.value.clone(),
                is_pub: top.item.is_pub,
                item: index,
            }),
            _ => {}
        }
    }
    for (index, def) in impls {
        let span = RelSpan { part: 0, span: def.self_ty.span };
        let owner = match impl_owner(def) {
            Some(owner) => owner,
            None => {
                let d = RelDiagnostic::error(span, "`impl` needs the name of a struct, class or enum of this file");
                out.diagnostics.push((index, d));
                continue;
            }
        };
        if !out.types.iter().any(|t| t.name == owner) {
            let d = RelDiagnostic::error(span, format!("cannot find type `{owner}` in this file"))
                .with_help("methods can be added only to types declared in the same file");
            out.diagnostics.push((index, d));
            continue;
        }
        methods.extend(def.methods.iter().map(|m| (index, owner, m)));
    }
    for (index, owner, def) in methods {
        let name = method_name(owner, &def.name.text);
        if out.fns.iter().any(|f| f.name == name) {
            let span = RelSpan { part: 0, span: def.name.span };
            out.diagnostics.push((
                index,
                RelDiagnostic::error(span, format!("`{owner}` has two methods named `{}`", def.name.text)),
            ));
            continue;
        }
        if let Some(g) = def.generics.first() {
            let span = RelSpan { part: 0, span: g.name.span };
            out.diagnostics.push((index, RelDiagnostic::error(span, "generic functions are not supported yet")));
        }
        out.fns.push(FnDecl {
            name,
            params: def.params.clone(),
            ret: def.ret.clone(),
            is_script: false,
            is_pub: def.is_pub,
            name_span: def.name.span,
            owner: Some(owner.to_string()),
        });
    }
    out.first_stmt = first_stmt;
    if let Some((index, span)) = first_stmt {
        if has_main_fn {
            let span = RelSpan { part: 0, span };
            out.diagnostics.push((
                index,
                RelDiagnostic::error(span, "top-level statements are not allowed in a file with `fn main`")
                    .with_help("move these statements into `main`"),
            ));
        } else {
            out.fns.push(FnDecl {
                name: SCRIPT_MAIN.to_string(),
                params: Vec::new(),
                ret: None,
                is_script: true,
                is_pub: false,
                name_span: Span::default(),
                owner: None,
            });
        }
    }
    out.fn_index = out.fns.iter().enumerate().map(|(i, f)| (f.name.clone(), i)).collect();
    out.const_index = out.consts.iter().enumerate().map(|(i, c)| (c.name.clone(), i)).collect();
    out.type_index = out.types.iter().enumerate().map(|(i, t)| (t.name.clone(), i)).collect();
    out
}

fn import_decl(import: &ast::ImportDef, item: u32) -> ImportDecl {
    let (path, kind) = match import {
        ast::ImportDef::Module { path, alias } => {
            (path, ImportKind::Module { alias: alias.as_ref().map(|a| a.text.to_string()) })
        }
        ast::ImportDef::From { path, names } => {
            let names = names
                .iter()
                .map(|(name, alias)| {
                    let local = alias.as_ref().unwrap_or(name);
                    (name.text.to_string(), local.text.to_string(), name.span)
                })
                .collect();
            (path, ImportKind::Names(names))
        }
    };
    let span = match (path.first(), path.last()) {
        (Some(first), Some(last)) => first.span.to(last.span),
        _ => Span::default(),
    };
    ImportDecl { path: path.iter().map(|n| n.text.to_string()).collect(), kind, item, span }
}

/// The file holding module `path`, relative to the entry file's directory:
/// `a.b` is `a/b.spl`.
pub fn module_file(entry_dir: &std::path::Path, path: &[String]) -> std::path::PathBuf {
    let mut file = entry_dir.to_path_buf();
    for part in path {
        file.push(part);
    }
    file.set_extension("spl");
    file
}

/// The source of a function: its syntax and the text of each part, with
/// every span relative to its part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FnSource {
    pub kind: FnSourceKind,
    pub parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FnSourceKind {
    /// Shared with the file's syntax tree.
    Def(Arc<ast::FnDef>),
    /// The top-level statements of a script; statement `i` is part `i`.
    Script(Vec<ast::Stmt>),
}

/// The text of one part and its first line relative to part 0's first line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub text: String,
    pub line_delta: u32,
}

/// The items each function is made of, by name: its `fn` item (the first,
/// if the name is defined twice), or for a script's implicit `main` every
/// top-level statement. Built once per parse, so looking up one function
/// does not scan the file.
pub fn fn_item_index(file: &ast::SourceFile) -> BTreeMap<String, Vec<u32>> {
    let mut index: BTreeMap<String, Vec<u32>> = BTreeMap::new();
    let mut stmts = Vec::new();
    for (i, top) in file.items.iter().enumerate() {
        match &top.item.kind {
            ItemKind::Fn(def) => {
                index.entry(def.name.text.to_string()).or_insert_with(|| vec![i as u32]);
            }
            ItemKind::Stmt(_) => stmts.push(i as u32),
            kind => {
                if let Some((owner, methods)) = owned_methods(kind) {
                    for m in methods {
                        index.entry(method_name(owner, &m.name.text)).or_insert_with(|| vec![i as u32]);
                    }
                }
            }
        }
    }
    if !stmts.is_empty() {
        index.entry(SCRIPT_MAIN.to_string()).or_insert(stmts);
    }
    index
}

/// The type a struct, class, enum or impl item adds methods to, and the
/// methods.
fn owned_methods(kind: &ItemKind) -> Option<(&str, &[ast::FnDef])> {
    match kind {
        ItemKind::Struct(def) | ItemKind::Class(def) => Some((&def.name.text, &def.methods)),
        ItemKind::Enum(def) => Some((&def.name.text, &def.methods)),
        ItemKind::Impl(def) if def.trait_ref.is_none() => Some((impl_owner(def)?, &def.methods)),
        _ => None,
    }
}

/// The type name an `impl` block names, if it names one plainly.
fn impl_owner(def: &ast::ImplDef) -> Option<&str> {
    match &def.self_ty.kind {
        ast::TypeExprKind::Named { path, args } if path.len() == 1 && args.is_empty() => Some(&path[0].text),
        _ => None,
    }
}

/// The source of the function `name` made of `items` (see
/// [`fn_item_index`]).
pub fn fn_source(file: &ast::SourceFile, text: &str, name: &str, items: &[u32]) -> Option<FnSource> {
    let mut stmts = Vec::new();
    let mut def = None;
    for &index in items {
        match &file.items.get(index as usize)?.item.kind {
            ItemKind::Stmt(stmt) => stmts.push(stmt.clone()),
            ItemKind::Fn(d) => {
                def = Some(d.clone());
                break;
            }
            kind => {
                if let Some((owner, methods)) = owned_methods(kind) {
                    def = methods.iter().find(|m| method_name(owner, &m.name.text) == name).cloned().map(Arc::new);
                    break;
                }
            }
        }
    }
    let kind = match def {
        Some(def) => FnSourceKind::Def(def),
        None if !stmts.is_empty() => FnSourceKind::Script(stmts),
        None => return None,
    };
    Some(FnSource { kind, parts: fn_parts(file, text, items) })
}

/// The text of each item of a function, with its line offset.
pub fn fn_parts(file: &ast::SourceFile, text: &str, items: &[u32]) -> Vec<Part> {
    let mut parts = Vec::new();
    let mut line_delta = 0;
    let mut previous_start = None;
    for top in items.iter().filter_map(|&i| file.items.get(i as usize)) {
        let start = top.base as usize;
        if let Some(previous) = previous_start {
            line_delta += text.get(previous..start).map_or(0, |s| s.matches('\n').count() as u32);
        }
        previous_start = Some(start);
        let item_text = text.get(start..start + top.len as usize).unwrap_or("");
        parts.push(Part { text: item_text.to_string(), line_delta });
    }
    parts
}

/// Absolute offsets of the parts of the function made of `items`.
pub fn fn_part_bases(file: &ast::SourceFile, items: &[u32]) -> Vec<u32> {
    items.iter().filter_map(|&i| file.items.get(i as usize).map(|t| t.base)).collect()
}

/// A function's parameters and result, resolved.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Signature {
    pub params: Vec<ParamSig>,
    pub ret: Ty,
    /// For a method: how it takes `self` (its first parameter).
    pub self_kind: Option<SelfKind>,
    pub diagnostics: Vec<RelDiagnostic>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SelfKind {
    /// `self`: a copy of a struct, or a reference to a class object.
    Value,
    /// `mut self`: a struct method that assigns to fields of the caller's
    /// value.
    Mut,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamSig {
    pub name: String,
    pub ty: Ty,
    /// Default arguments are constant expressions (or `[]`, `{}`),
    /// evaluated once here and inserted at each call site that omits them.
    pub default: Option<DefaultValue>,
}

/// The structs, classes and enums a type written in source may name.
pub trait TypeNames {
    /// The type `path` names (`Point`, `geometry.Point`), or why none.
    fn named_type(&self, path: &[String]) -> Result<Adt, String>;
}

/// Where no struct, class or enum can be named: constant expressions.
pub struct NoTypes;

impl TypeNames for NoTypes {
    fn named_type(&self, path: &[String]) -> Result<Adt, String> {
        Err(format!("cannot find type `{}` in this scope", path.join(".")))
    }
}

/// Resolves a type written in source.
pub fn resolve_type(ty: &ast::TypeExpr, part: u32, names: &dyn TypeNames) -> Result<Ty, RelDiagnostic> {
    let span = RelSpan { part, span: ty.span };
    let what = match &ty.kind {
        ast::TypeExprKind::Named { path, args } if args.is_empty() => {
            if let [name] = path.as_slice() {
                match &*name.text {
                    "i64" | "int" => return Ok(Ty::I64),
                    "f64" | "float" => return Ok(Ty::F64),
                    "bool" => return Ok(Ty::Bool),
                    "str" => return Ok(Ty::Str),
                    "nil" => return Ok(Ty::Nil),
                    _ => {}
                }
            }
            let path: Vec<String> = path.iter().map(|n| n.text.to_string()).collect();
            return names.named_type(&path).map(Ty::Adt).map_err(|message| RelDiagnostic::error(span, message));
        }
        ast::TypeExprKind::Named { .. } => "generic types are",
        ast::TypeExprKind::Optional(inner) => return Ok(Ty::optional(resolve_type(inner, part, names)?)),
        ast::TypeExprKind::List(elem) => return Ok(Ty::list(resolve_type(elem, part, names)?)),
        ast::TypeExprKind::Dict(key, value) => {
            let k = resolve_type(key, part, names)?;
            if !matches!(k, Ty::Str | Ty::I64 | Ty::Bool) {
                let span = RelSpan { part, span: key.span };
                return Err(RelDiagnostic::error(span, format!("`{k}` cannot be a dict key"))
                    .with_help("dict keys are `str`, `i64` or `bool`"));
            }
            return Ok(Ty::dict(k, resolve_type(value, part, names)?));
        }
        ast::TypeExprKind::Tuple(elems) => {
            let mut tys = elems.iter().map(|e| resolve_type(e, part, names)).collect::<Result<Vec<Ty>, _>>()?;
            return Ok(match tys.len() {
                0 => Ty::Nil,
                1 => tys.pop().expect("one element"),
                _ => Ty::tuple(tys),
            });
        }
        ast::TypeExprKind::Fn { .. } => "function types are",
        ast::TypeExprKind::Dyn(_) => "trait objects are",
        ast::TypeExprKind::Pointer { .. } | ast::TypeExprKind::BorrowMut(_) => "pointer types are",
    };
    Err(RelDiagnostic::error(span, format!("{what} not supported yet")))
}

pub fn signature(items: &FileItems, consts: &ConstTable, name: &str, names: &dyn TypeNames) -> Signature {
    let Some(decl) = items.find_fn(name) else { return Signature::default() };
    let mut sig = Signature::default();
    if decl.is_script {
        sig.ret = Ty::I64;
        return sig;
    }
    for (i, param) in decl.params.iter().enumerate() {
        let ty = match (&param.ty, &decl.owner) {
            (Some(ty), _) => resolve_type(ty, 0, names).unwrap_or_else(|d| {
                sig.diagnostics.push(d);
                Ty::Error
            }),
            (None, Some(owner)) if i == 0 => {
                sig.self_kind = Some(if param.is_mut { SelfKind::Mut } else { SelfKind::Value });
                names.named_type(std::slice::from_ref(owner)).map_or(Ty::Error, Ty::Adt)
            }
            (None, _) => {
                let span = RelSpan { part: 0, span: param.name.span };
                let message = if decl.owner.is_some() {
                    "`self` must be the first parameter"
                } else {
                    "`self` is only allowed in methods"
                };
                sig.diagnostics.push(RelDiagnostic::error(span, message));
                Ty::Error
            }
        };
        let default = param
            .default
            .as_ref()
            .map(|expr| consts::eval_default(expr, &ty, &mut |n| consts.lookup(n), &mut sig.diagnostics));
        sig.params.push(ParamSig { name: param.name.text.to_string(), ty, default });
    }
    sig.ret = match &decl.ret {
        Some(ty) => resolve_type(ty, 0, names).unwrap_or_else(|d| {
            sig.diagnostics.push(d);
            Ty::Error
        }),
        None => Ty::Nil,
    };
    if name == SCRIPT_MAIN && (!sig.params.is_empty() || !matches!(sig.ret, Ty::I64 | Ty::Nil | Ty::Error)) {
        let span = RelSpan { part: 0, span: decl.name_span };
        sig.diagnostics.push(RelDiagnostic::error(span, "`main` must take no parameters and return `i64` or nothing"));
    }
    sig
}

/// The constants of a file, evaluated. A constant with an error has no value
/// (its uses type-check as errors without further diagnostics).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConstTable {
    pub values: BTreeMap<String, Result<ConstValue, Ty>>,
    pub diagnostics: Vec<(u32, RelDiagnostic)>,
}

impl ConstTable {
    /// `Ok(value)`, or `Err(type)` for a known constant without a value
    /// (`Ty::Error` if it failed), or `None` if there is no such constant.
    pub fn lookup(&self, name: &str) -> Option<Result<ConstValue, Ty>> {
        self.values.get(name).cloned()
    }
}

pub fn eval_consts(items: &FileItems) -> ConstTable {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        InProgress,
        Done,
    }
    struct Evaluator<'a> {
        items: &'a FileItems,
        state: BTreeMap<String, State>,
        table: ConstTable,
    }
    impl Evaluator<'_> {
        fn get(&mut self, name: &str) -> Option<Result<ConstValue, Ty>> {
            let items = self.items;
            let decl = items.find_const(name)?;
            match self.state.get(name) {
                Some(State::Done) => return self.table.lookup(name),
                Some(State::InProgress) => {
                    let span = RelSpan { part: 0, span: decl.value.span };
                    self.table
                        .diagnostics
                        .push((decl.item, RelDiagnostic::error(span, format!("cycle in constant `{name}`"))));
                    return Some(Err(Ty::Error));
                }
                None => {}
            }
            self.state.insert(name.to_string(), State::InProgress);
            let result = consts::eval(&decl.value, 0, &mut |n| self.get(n));
            let value = match result {
                Ok(value) => match decl.ty.as_ref().map(|t| resolve_type(t, 0, &NoTypes)) {
                    Some(Ok(ty)) if ty != value.ty() => {
                        let span = RelSpan { part: 0, span: decl.value.span };
                        let d = RelDiagnostic::error(
                            span,
                            format!("mismatched types: expected `{ty}`, found `{}`", value.ty()),
                        );
                        self.table.diagnostics.push((decl.item, d));
                        Err(Ty::Error)
                    }
                    Some(Err(d)) => {
                        self.table.diagnostics.push((decl.item, d));
                        Err(Ty::Error)
                    }
                    _ => Ok(value),
                },
                Err(ConstError::New(d)) => {
                    self.table.diagnostics.push((decl.item, d));
                    Err(Ty::Error)
                }
                Err(ConstError::Reported) => Err(Ty::Error),
            };
            self.state.insert(name.to_string(), State::Done);
            self.table.values.insert(name.to_string(), value.clone());
            Some(value)
        }
    }
    let mut evaluator = Evaluator { items, state: BTreeMap::new(), table: ConstTable::default() };
    for decl in &items.consts {
        evaluator.get(&decl.name);
    }
    evaluator.table
}
