//! How values of each type are laid out: as MIR locals, in heap records,
//! and as the runtime's type descriptions.
//!
//! A value is flattened into *leaves*, one machine value each, in order:
//! - `i64`, `f64`, `bool`: one leaf of that type; `str`: one `Str`;
//!   `nil`: none;
//! - a tuple or struct: its fields' leaves, concatenated (structs are
//!   values: copying one copies its leaves);
//! - a class, list or dict: one `Ref` to the heap object;
//! - an enum: an `I64` tag (the variant's index) and, if some variant has
//!   fields, a `Ref` to a record of the variant's fields' leaves (0 for a
//!   variant without fields);
//! - `T?`: if `T` is a single reference (not itself optional), that
//!   reference, 0 for nil; otherwise a `Bool` (present) and `T`'s leaves.
//!
//! In a heap record every leaf takes one 8-byte slot, in the same order.

use rustc_hash::FxHashSet;
use simple_abi::{heap_layout, type_info};
use simple_mir as mir;

use crate::hir::{Adt, AdtDef, AdtKind, Scope, Ty};

/// What layouts are computed from.
pub trait LayoutSource {
    /// The fields or variants of a type (`None` if it is gone).
    fn adt_def(&self, adt: &Adt) -> Option<&AdtDef>;
    /// The leaves of a struct, memoized per struct (the `type_layout`
    /// query), or `None` to compute them here.
    fn struct_leaves(&self, adt: &Adt) -> Option<&[mir::Ty]>;
}

/// Type definitions alone: layouts computed from scratch.
pub struct Definitions<'a>(pub &'a dyn Scope);

impl LayoutSource for Definitions<'_> {
    fn adt_def(&self, adt: &Adt) -> Option<&AdtDef> {
        self.0.adt_def(adt)
    }

    fn struct_leaves(&self, _: &Adt) -> Option<&[mir::Ty]> {
        None
    }
}

/// Layout questions about the types of one function.
pub struct Layouts<'a> {
    source: &'a dyn LayoutSource,
}

impl<'a> Layouts<'a> {
    pub fn new(source: &'a dyn LayoutSource) -> Layouts<'a> {
        Layouts { source }
    }

    pub fn adt_def(&self, adt: &Adt) -> &'a AdtDef {
        static EMPTY: AdtDef = AdtDef { fields: Vec::new(), variants: Vec::new(), diagnostics: Vec::new() };
        self.source.adt_def(adt).unwrap_or(&EMPTY)
    }

    /// The leaves of a value of `ty`.
    pub fn leaves(&self, ty: &Ty) -> Vec<mir::Ty> {
        let mut out = Vec::new();
        self.push_leaves(ty, &mut out, &mut Vec::new());
        out
    }

    /// `visiting` holds the structs being flattened: a struct that contains
    /// itself by value has no layout (the type checker reports it); it
    /// stops the recursion here.
    fn push_leaves(&self, ty: &Ty, out: &mut Vec<mir::Ty>, visiting: &mut Vec<Adt>) {
        match ty {
            Ty::I64 => out.push(mir::Ty::I64),
            Ty::F64 => out.push(mir::Ty::F64),
            Ty::Bool => out.push(mir::Ty::Bool),
            Ty::Str => out.push(mir::Ty::Str),
            Ty::Nil | Ty::Never | Ty::Error => {}
            Ty::Tuple(elems) => elems.iter().for_each(|t| self.push_leaves(t, out, visiting)),
            Ty::List(_) | Ty::Dict(_) => out.push(mir::Ty::Ref),
            Ty::Optional(inner) => {
                if !self.nullable(inner) {
                    out.push(mir::Ty::Bool);
                }
                self.push_leaves(inner, out, visiting);
            }
            Ty::Adt(adt) => match adt.kind() {
                AdtKind::Class => out.push(mir::Ty::Ref),
                AdtKind::Enum => {
                    out.push(mir::Ty::I64);
                    if self.adt_def(adt).has_payload() {
                        out.push(mir::Ty::Ref);
                    }
                }
                AdtKind::Struct => {
                    if let Some(leaves) = self.source.struct_leaves(adt) {
                        out.extend_from_slice(leaves);
                        return;
                    }
                    if visiting.contains(adt) {
                        return;
                    }
                    visiting.push(adt.clone());
                    for f in &self.adt_def(adt).fields {
                        self.push_leaves(&f.ty, out, visiting);
                    }
                    visiting.pop();
                }
            },
        }
    }

    /// Whether `inner?` is represented by a reference that is 0 for nil.
    pub fn nullable(&self, inner: &Ty) -> bool {
        !matches!(inner, Ty::Optional(_)) && matches!(self.leaves(inner).as_slice(), [mir::Ty::Str | mir::Ty::Ref])
    }

    /// The leaves of field `index` of a struct, class or tuple, as a range
    /// of the leaves of the whole value (for a class, of its record's
    /// slots).
    pub fn field_range(&self, ty: &Ty, index: u32) -> std::ops::Range<usize> {
        let fields = self.field_types(ty);
        let start: usize = fields.iter().take(index as usize).map(|t| self.leaves(t).len()).sum();
        let len = fields.get(index as usize).map_or(0, |t| self.leaves(t).len());
        start..start + len
    }

    /// The types of the fields of a struct, class or tuple.
    pub fn field_types(&self, ty: &Ty) -> Vec<Ty> {
        match ty {
            Ty::Tuple(elems) => elems.to_vec(),
            Ty::Adt(adt) => self.adt_def(adt).fields.iter().map(|f| f.ty.clone()).collect(),
            _ => Vec::new(),
        }
    }

    /// The types of the fields of variant `index` of an enum.
    pub fn variant_types(&self, adt: &Adt, index: u32) -> Vec<Ty> {
        self.adt_def(adt)
            .variants
            .get(index as usize)
            .map_or_else(Vec::new, |v| v.fields.iter().map(|f| f.ty.clone()).collect())
    }

    /// The leaves of several values one after the other: the slots of a
    /// record holding them.
    pub fn record_leaves(&self, tys: &[Ty]) -> Vec<mir::Ty> {
        tys.iter().flat_map(|t| self.leaves(t)).collect()
    }

    /// The heap descriptor of a record with these slots.
    pub fn record_desc(leaves: &[mir::Ty]) -> Vec<u8> {
        let refs: Vec<bool> = leaves.iter().map(|t| t.is_gc_ref()).collect();
        heap_layout::encode_desc(heap_layout::KIND_RECORD, &refs)
    }

    /// The runtime's description of `ty` (see `simple_abi::type_info`):
    /// its length as a `u32`, then its encoding.
    pub fn type_info(&self, ty: &Ty) -> Vec<u8> {
        let mut out = vec![0; 4];
        self.encode(ty, &mut Vec::new(), &mut out);
        let len = (out.len() - 4) as u32;
        out[..4].copy_from_slice(&len.to_le_bytes());
        out
    }

    fn encode(&self, ty: &Ty, enclosing: &mut Vec<Adt>, out: &mut Vec<u8>) {
        let count =
            |out: &mut Vec<u8>, n: usize| out.extend_from_slice(&(n.min(u16::MAX as usize) as u16).to_le_bytes());
        let name = |out: &mut Vec<u8>, s: &str| {
            count(out, s.len());
            out.extend_from_slice(&s.as_bytes()[..s.len().min(u16::MAX as usize)]);
        };
        match ty {
            Ty::I64 => out.push(type_info::I64),
            Ty::F64 => out.push(type_info::F64),
            Ty::Bool => out.push(type_info::BOOL),
            Ty::Str => out.push(type_info::STR),
            Ty::Nil | Ty::Never | Ty::Error => out.push(type_info::NIL),
            Ty::Tuple(elems) => {
                out.push(type_info::TUPLE);
                count(out, elems.len());
                elems.iter().for_each(|t| self.encode(t, enclosing, out));
            }
            Ty::List(elem) => {
                out.push(type_info::LIST);
                self.encode(elem, enclosing, out);
            }
            Ty::Dict(kv) => {
                out.push(type_info::DICT);
                self.encode(&kv.0, enclosing, out);
                self.encode(&kv.1, enclosing, out);
            }
            Ty::Optional(inner) => {
                out.push(type_info::OPTIONAL);
                out.push(u8::from(self.nullable(inner)));
                self.encode(inner, enclosing, out);
            }
            Ty::Adt(adt) => {
                if let Some(depth) = enclosing.iter().rev().position(|a| a == adt) {
                    out.push(type_info::BACK);
                    out.push(depth.min(255) as u8);
                    return;
                }
                enclosing.push(adt.clone());
                let def = self.adt_def(adt);
                match adt.kind() {
                    AdtKind::Struct | AdtKind::Class => {
                        out.push(if adt.kind() == AdtKind::Struct { type_info::STRUCT } else { type_info::CLASS });
                        name(out, adt.name());
                        count(out, def.fields.len());
                        for f in &def.fields {
                            name(out, f.name.as_deref().unwrap_or(""));
                            self.encode(&f.ty, enclosing, out);
                        }
                    }
                    AdtKind::Enum => {
                        out.push(type_info::ENUM);
                        name(out, adt.name());
                        out.push(u8::from(def.has_payload()));
                        count(out, def.variants.len());
                        for v in &def.variants {
                            name(out, &v.name);
                            count(out, v.fields.len());
                            for f in &v.fields {
                                out.push(u8::from(f.name.is_some()));
                                if let Some(n) = &f.name {
                                    name(out, n);
                                }
                                self.encode(&f.ty, enclosing, out);
                            }
                        }
                    }
                }
                enclosing.pop();
            }
        }
    }
}

/// Whether the struct `adt` contains itself by value (through fields,
/// tuples and non-reference optionals), so no layout can hold it.
pub fn is_infinite_struct(scope: &dyn Scope, adt: &Adt) -> bool {
    fn reaches(scope: &dyn Scope, ty: &Ty, target: &Adt, seen: &mut FxHashSet<Adt>) -> bool {
        match ty {
            Ty::Tuple(elems) => elems.iter().any(|t| reaches(scope, t, target, seen)),
            Ty::Optional(inner) => reaches(scope, inner, target, seen),
            Ty::Adt(adt) if adt.kind() == AdtKind::Struct => {
                if adt == target {
                    return true;
                }
                if !seen.insert(adt.clone()) {
                    return false;
                }
                scope.adt_def(adt).is_some_and(|d| d.fields.iter().any(|f| reaches(scope, &f.ty, target, seen)))
            }
            _ => false,
        }
    }
    let mut seen = FxHashSet::default();
    scope.adt_def(adt).is_some_and(|d| d.fields.iter().any(|f| reaches(scope, &f.ty, adt, &mut seen)))
}
