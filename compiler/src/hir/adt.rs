//! Structs, classes and enums: their fields and variants, resolved.

use rustc_hash::FxHashSet;

use crate::consts::{self, DefaultValue};
use crate::diagnostics::{RelDiagnostic, RelSpan};
use crate::items::{ConstTable, TypeDecl, TypeNames, resolve_type};

use super::Ty;

/// What a struct, class or enum holds. Read by the type checker (fields,
/// constructors, patterns) and by lowering (layouts).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AdtDef {
    /// A struct's or class's fields, in declaration order.
    pub fields: Vec<FieldDef>,
    /// An enum's variants, in declaration order: a value's tag is the index
    /// of its variant.
    pub variants: Vec<VariantDef>,
    /// Errors in the declaration, relative to its item.
    pub diagnostics: Vec<RelDiagnostic>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldDef {
    /// `None` for a positional variant field (`Pair(i64, i64)`).
    pub name: Option<String>,
    pub ty: Ty,
    pub default: Option<DefaultValue>,
    pub is_pub: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariantDef {
    pub name: String,
    pub fields: Vec<FieldDef>,
}

impl AdtDef {
    pub fn field(&self, name: &str) -> Option<(usize, &FieldDef)> {
        self.fields.iter().enumerate().find(|(_, f)| f.name.as_deref() == Some(name))
    }

    pub fn variant(&self, name: &str) -> Option<(usize, &VariantDef)> {
        self.variants.iter().enumerate().find(|(_, v)| v.name == name)
    }

    /// Whether some variant carries fields (so enum values need a payload).
    pub fn has_payload(&self) -> bool {
        self.variants.iter().any(|v| !v.fields.is_empty())
    }
}

/// Resolves the field and variant types of `decl`.
pub fn adt_def(decl: &TypeDecl, consts: &ConstTable, names: &dyn TypeNames) -> AdtDef {
    let mut def = AdtDef::default();
    let resolve = |ty: &simple_syntax::ast::TypeExpr, diags: &mut Vec<RelDiagnostic>| {
        resolve_type(ty, 0, names).unwrap_or_else(|d| {
            diags.push(d);
            Ty::Error
        })
    };
    let mut seen = FxHashSet::default();
    for field in &decl.fields {
        let ty = resolve(&field.ty, &mut def.diagnostics);
        if !seen.insert(&*field.name.text) {
            let span = RelSpan { part: 0, span: field.name.span };
            def.diagnostics.push(RelDiagnostic::error(span, format!("field `{}` is declared twice", field.name.text)));
            continue;
        }
        let default = field
            .default
            .as_ref()
            .map(|expr| consts::eval_default(expr, &ty, &mut |n| consts.lookup(n), &mut def.diagnostics));
        def.fields.push(FieldDef { name: Some(field.name.text.to_string()), ty, default, is_pub: field.is_pub });
    }
    let mut seen = FxHashSet::default();
    for variant in &decl.variants {
        if !seen.insert(&*variant.name.text) {
            let span = RelSpan { part: 0, span: variant.name.span };
            def.diagnostics
                .push(RelDiagnostic::error(span, format!("variant `{}` is declared twice", variant.name.text)));
            continue;
        }
        let fields = variant
            .fields
            .iter()
            .map(|f| FieldDef {
                name: f.name.as_ref().map(|n| n.text.to_string()),
                ty: resolve(&f.ty, &mut def.diagnostics),
                default: None,
                is_pub: true,
            })
            .collect();
        def.variants.push(VariantDef { name: variant.name.text.to_string(), fields });
    }
    def
}
