//! Values of any type: printing, `str(x)` and structural `==`, driven by
//! the compiler's type descriptions (`simple_abi::type_info`).
//!
//! Compiled code passes a value as a record holding its slots (see
//! `simple_abi::heap_layout`) and the address of its type description in
//! the module's read-only data. Both come from the compiler, which is
//! trusted here as it is for the machine code itself; a description that
//! does not parse prints as `?` rather than failing.

use simple_abi::dict_layout::{KEY_SLOT, VALUE_SLOT};
use simple_abi::heap_layout::RECORD_SLOTS_OFFSET;
use simple_abi::type_info as tag;

use super::heap;
use super::number_text::{f64_text, i64_text};
use super::output::write_stream;
use super::strings::{alloc_str, str_bytes};
use super::{dict, list};

/// A decoded type description.
#[derive(Debug)]
enum Type {
    I64,
    F64,
    Bool,
    Str,
    Nil,
    Tuple(Vec<Type>),
    List(Box<Type>),
    Dict(Box<Type>, Box<Type>),
    Optional {
        nullable: bool,
        inner: Box<Type>,
    },
    Struct {
        name: String,
        fields: Vec<(String, Type)>,
    },
    Class {
        name: String,
        fields: Vec<(String, Type)>,
    },
    Enum {
        name: String,
        payload: bool,
        variants: Vec<Variant>,
    },
    /// The `depth`-th enclosing struct, class or enum.
    Back(u8),
}

#[derive(Debug)]
struct Variant {
    name: String,
    /// Named or positional fields.
    fields: Vec<(Option<String>, Type)>,
}

/// Reads a description; `None` if it is malformed.
struct Reader<'a> {
    bytes: &'a [u8],
}

impl Reader<'_> {
    fn u8(&mut self) -> Option<u8> {
        let (&b, rest) = self.bytes.split_first()?;
        self.bytes = rest;
        Some(b)
    }

    fn u16(&mut self) -> Option<usize> {
        let lo = self.u8()?;
        let hi = self.u8()?;
        Some(usize::from(u16::from_le_bytes([lo, hi])))
    }

    fn name(&mut self) -> Option<String> {
        let len = self.u16()?;
        let bytes = self.bytes.get(..len)?;
        self.bytes = &self.bytes[len..];
        String::from_utf8(bytes.to_vec()).ok()
    }

    fn ty(&mut self) -> Option<Type> {
        Some(match self.u8()? {
            tag::I64 => Type::I64,
            tag::F64 => Type::F64,
            tag::BOOL => Type::Bool,
            tag::STR => Type::Str,
            tag::NIL => Type::Nil,
            tag::TUPLE => {
                let n = self.u16()?;
                Type::Tuple((0..n).map(|_| self.ty()).collect::<Option<_>>()?)
            }
            tag::LIST => Type::List(Box::new(self.ty()?)),
            tag::DICT => Type::Dict(Box::new(self.ty()?), Box::new(self.ty()?)),
            tag::OPTIONAL => {
                let nullable = self.u8()? != 0;
                Type::Optional { nullable, inner: Box::new(self.ty()?) }
            }
            t @ (tag::STRUCT | tag::CLASS) => {
                let name = self.name()?;
                let n = self.u16()?;
                let fields = (0..n).map(|_| Some((self.name()?, self.ty()?))).collect::<Option<_>>()?;
                if t == tag::STRUCT { Type::Struct { name, fields } } else { Type::Class { name, fields } }
            }
            tag::ENUM => {
                let name = self.name()?;
                let payload = self.u8()? != 0;
                let n = self.u16()?;
                let mut variants = Vec::with_capacity(n);
                for _ in 0..n {
                    let vname = self.name()?;
                    let m = self.u16()?;
                    let mut fields = Vec::with_capacity(m);
                    for _ in 0..m {
                        let fname = if self.u8()? != 0 { Some(self.name()?) } else { None };
                        fields.push((fname, self.ty()?));
                    }
                    variants.push(Variant { name: vname, fields });
                }
                Type::Enum { name, payload, variants }
            }
            tag::BACK => Type::Back(self.u8()?),
            _ => return None,
        })
    }
}

/// The description at `info`: its length (`u32`), then its encoding.
///
/// # Safety
/// `info` must point to a description the compiler wrote (in the module's
/// read-only data, which stays mapped while the program runs).
unsafe fn decode(info: i64) -> Option<Type> {
    let start = info as *const u8;
    // SAFETY: per the contract, a length and that many bytes follow.
    let bytes = unsafe {
        let len = start.cast::<u32>().read_unaligned() as usize;
        std::slice::from_raw_parts(start.add(4), len)
    };
    Reader { bytes }.ty()
}

/// Types being walked: what `Back` refers to.
type Enclosing<'t> = Vec<&'t Type>;

/// The number of slots a value of `ty` takes.
fn slot_count<'t>(ty: &'t Type, enclosing: &mut Enclosing<'t>) -> usize {
    match ty {
        Type::I64 | Type::F64 | Type::Bool | Type::Str | Type::List(_) | Type::Dict(..) | Type::Class { .. } => 1,
        Type::Nil => 0,
        Type::Tuple(elems) => elems.iter().map(|t| slot_count(t, enclosing)).sum(),
        Type::Optional { nullable, inner } => usize::from(!nullable) + slot_count(inner, enclosing),
        Type::Struct { fields, .. } => {
            enclosing.push(ty);
            let n = fields.iter().map(|(_, t)| slot_count(t, enclosing)).sum();
            enclosing.pop();
            n
        }
        Type::Enum { payload, .. } => 1 + usize::from(*payload),
        Type::Back(depth) => match resolve(*depth, enclosing) {
            Some(t) => {
                let mut outer = enclosing.clone();
                slot_count(t, &mut outer)
            }
            None => 0,
        },
    }
}

fn resolve<'t>(depth: u8, enclosing: &Enclosing<'t>) -> Option<&'t Type> {
    enclosing.iter().rev().nth(usize::from(depth)).copied()
}

/// The slots of the record at `object`.
///
/// # Safety
/// `object` must be a live record with at least `n` slots.
unsafe fn record_slots<'a>(object: u64, n: usize) -> &'a [u64] {
    // SAFETY: per the contract.
    unsafe { std::slice::from_raw_parts((object as *const u8).add(RECORD_SLOTS_OFFSET).cast(), n) }
}

/// How deep printing follows references before writing `...`: a cycle of
/// objects must not recurse without end.
const MAX_DEPTH: usize = 64;

struct Printer<'t> {
    out: String,
    enclosing: Enclosing<'t>,
    depth: usize,
}

impl<'t> Printer<'t> {
    /// Writes the value of `ty` in `slots`; `nested` inside a container
    /// (strings are then quoted).
    ///
    /// # Safety
    /// `slots` must hold a value of `ty` as compiled code lays it out.
    unsafe fn value(&mut self, ty: &'t Type, slots: &[u64], nested: bool) {
        if self.depth > MAX_DEPTH {
            self.out.push_str("...");
            return;
        }
        let first = slots.first().copied().unwrap_or(0);
        match ty {
            Type::I64 => self.out.push_str(std::str::from_utf8(i64_text(first as i64).as_bytes()).unwrap_or("?")),
            Type::F64 => {
                self.out.push_str(std::str::from_utf8(f64_text(f64::from_bits(first)).as_bytes()).unwrap_or("?"))
            }
            Type::Bool => self.out.push_str(if first & 1 != 0 { "true" } else { "false" }),
            Type::Nil => self.out.push_str("nil"),
            Type::Str => {
                // SAFETY: a `str` slot holds a live string.
                let bytes = unsafe { str_bytes(first as *const u8) };
                let text = String::from_utf8_lossy(bytes);
                if nested { quote(&text, &mut self.out) } else { self.out.push_str(&text) }
            }
            Type::Tuple(elems) => {
                self.out.push('(');
                let mut at = 0;
                for (i, t) in elems.iter().enumerate() {
                    if i > 0 {
                        self.out.push_str(", ");
                    }
                    let n = slot_count(t, &mut self.enclosing);
                    // SAFETY: the tuple's slots hold its elements in order.
                    unsafe { self.value(t, slots.get(at..at + n).unwrap_or(&[]), true) };
                    at += n;
                }
                self.out.push(')');
            }
            Type::Optional { nullable, inner } => {
                let (present, rest) =
                    if *nullable { (first != 0, slots) } else { (first & 1 != 0, &slots[1.min(slots.len())..]) };
                if present {
                    // SAFETY: a present optional holds its value.
                    unsafe { self.value(inner, rest, nested) }
                } else {
                    self.out.push_str("nil")
                }
            }
            Type::Struct { name, fields } => {
                self.enclosing.push(ty);
                // SAFETY: a struct's slots hold its fields in order.
                unsafe { self.fields(name, fields.iter().map(|(n, t)| (Some(n.as_str()), t)), slots) };
                self.enclosing.pop();
            }
            Type::Class { name, fields } => {
                self.enclosing.push(ty);
                let n = fields.iter().map(|(_, t)| slot_count(t, &mut self.enclosing)).sum();
                // SAFETY: a class slot holds a live record of its fields.
                let inner = unsafe { record_slots(first, n) };
                self.depth += 1;
                // SAFETY: as above.
                unsafe { self.fields(name, fields.iter().map(|(n, t)| (Some(n.as_str()), t)), inner) };
                self.depth -= 1;
                self.enclosing.pop();
            }
            Type::Enum { name, payload, variants } => {
                self.enclosing.push(ty);
                match variants.get(first as usize) {
                    Some(Variant { name: vname, fields }) if fields.is_empty() || !payload => {
                        self.out.push_str(&format!("{name}::{vname}"));
                    }
                    Some(Variant { name: vname, fields }) => {
                        let n = fields.iter().map(|(_, t)| slot_count(t, &mut self.enclosing)).sum();
                        // SAFETY: a variant with fields has a record of them.
                        let inner = unsafe { record_slots(slots.get(1).copied().unwrap_or(0), n) };
                        self.depth += 1;
                        let label = format!("{name}::{vname}");
                        // SAFETY: as above.
                        unsafe { self.fields(&label, fields.iter().map(|(n, t)| (n.as_deref(), t)), inner) };
                        self.depth -= 1;
                    }
                    None => self.out.push('?'),
                }
                self.enclosing.pop();
            }
            Type::Back(depth) => match resolve(*depth, &self.enclosing) {
                Some(t) => {
                    // The referenced type is walked with its own enclosing
                    // types, the ones outside it.
                    let saved = self.enclosing.clone();
                    let keep = self.enclosing.len() - 1 - usize::from(*depth);
                    self.enclosing.truncate(keep);
                    // SAFETY: the slots hold a value of the referenced type.
                    unsafe { self.value(t, slots, nested) };
                    self.enclosing = saved;
                }
                None => self.out.push('?'),
            },
            Type::List(elem) => {
                // SAFETY: a list slot holds a live list.
                let (len, words) = unsafe { list::elements(first as *mut u8) };
                let n = slot_count(elem, &mut self.enclosing);
                self.depth += 1;
                self.out.push('[');
                for i in 0..len {
                    if i > 0 {
                        self.out.push_str(", ");
                    }
                    // SAFETY: element `i` holds a value of the element type.
                    unsafe { self.value(elem, words.get(i * n..i * n + n).unwrap_or(&[]), true) };
                }
                self.out.push(']');
                self.depth -= 1;
            }
            Type::Dict(key, value) => {
                self.depth += 1;
                self.out.push('{');
                // SAFETY: a dict slot holds a live dict.
                for (i, entry) in unsafe { dict::entries(first as *mut u8) }.enumerate() {
                    if i > 0 {
                        self.out.push_str(", ");
                    }
                    // SAFETY: an entry holds its hash, its key and its value.
                    unsafe {
                        self.value(key, &entry[KEY_SLOT..=KEY_SLOT], true);
                        self.out.push_str(": ");
                        self.value(value, &entry[VALUE_SLOT..], true);
                    }
                }
                self.out.push('}');
                self.depth -= 1;
            }
        }
    }

    /// `Name(a: 1, b: 2)`, or `Name(1, 2)` for unnamed fields.
    ///
    /// # Safety
    /// `slots` must hold the fields in order.
    unsafe fn fields<'f>(
        &mut self,
        name: &str,
        fields: impl Iterator<Item = (Option<&'f str>, &'t Type)>,
        slots: &[u64],
    ) {
        self.out.push_str(name);
        self.out.push('(');
        let mut at = 0;
        for (i, (fname, t)) in fields.enumerate() {
            if i > 0 {
                self.out.push_str(", ");
            }
            if let Some(fname) = fname {
                self.out.push_str(fname);
                self.out.push_str(": ");
            }
            let n = slot_count(t, &mut self.enclosing);
            // SAFETY: per the contract.
            unsafe { self.value(t, slots.get(at..at + n).unwrap_or(&[]), true) };
            at += n;
        }
        self.out.push(')');
    }
}

/// `s` in double quotes, with `"`, `\`, newline, tab, carriage return and
/// NUL escaped (the escapes a Simple string literal has).
fn quote(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// The text of the value in `record` (its slots) of the type at `info`.
///
/// # Safety
/// `info` must be a description the compiler wrote and `record` a record
/// holding a value of that type.
unsafe fn text(info: i64, record: *mut u8) -> String {
    // SAFETY: per the contract.
    let Some(ty) = (unsafe { decode(info) }) else { return "?".into() };
    let mut printer = Printer { out: String::new(), enclosing: Vec::new(), depth: 0 };
    let n = slot_count(&ty, &mut Vec::new());
    // SAFETY: the record holds the value's slots.
    let slots = unsafe { record_slots(record as u64, n) };
    // SAFETY: as above.
    unsafe { printer.value(&ty, slots, false) };
    printer.out
}

/// Prints a value of any type.
///
/// # Safety
/// See [`text`].
pub unsafe extern "C" fn spl_print_value(stream: i64, info: i64, record: *mut u8) {
    // SAFETY: per the contract.
    let text = unsafe { text(info, record) };
    write_stream(stream, text.as_bytes());
}

/// `str(x)` for a value of any type.
///
/// # Safety
/// See [`text`].
pub unsafe extern "C" fn spl_str_value(info: i64, record: *mut u8) -> *const u8 {
    heap::maybe_collect(&[record.cast()]);
    // SAFETY: per the contract.
    alloc_str(unsafe { text(info, record) }.as_bytes())
}

/// Structural `==` of two values of the type at `info`, each in a record:
/// 1 or 0. Class objects are equal only if they are the same object.
///
/// # Safety
/// See [`text`]; both records hold values of the type.
pub unsafe extern "C" fn spl_values_equal(info: i64, a: *mut u8, b: *mut u8) -> u8 {
    // SAFETY: per the contract.
    let Some(ty) = (unsafe { decode(info) }) else { return 0 };
    let n = slot_count(&ty, &mut Vec::new());
    // SAFETY: both records hold the value's slots.
    let (x, y) = unsafe { (record_slots(a as u64, n), record_slots(b as u64, n)) };
    // SAFETY: as above.
    u8::from(unsafe { equal(&ty, x, y, &mut Vec::new()) })
}

/// # Safety
/// `x` and `y` must hold values of `ty`.
unsafe fn equal<'t>(ty: &'t Type, x: &[u64], y: &[u64], enclosing: &mut Enclosing<'t>) -> bool {
    let (a, b) = (x.first().copied().unwrap_or(0), y.first().copied().unwrap_or(0));
    match ty {
        Type::I64 | Type::Class { .. } => a == b,
        Type::Bool => a & 1 == b & 1,
        Type::F64 => f64::from_bits(a) == f64::from_bits(b),
        Type::Nil => true,
        // SAFETY: string slots hold live strings.
        Type::Str => a == b || unsafe { str_bytes(a as *const u8) == str_bytes(b as *const u8) },
        Type::Tuple(elems) => {
            let mut at = 0;
            elems.iter().all(|t| {
                let n = slot_count(t, enclosing);
                let r = x.get(at..at + n).zip(y.get(at..at + n));
                at += n;
                // SAFETY: the slots hold the elements in order.
                r.is_some_and(|(p, q)| unsafe { equal(t, p, q, enclosing) })
            })
        }
        Type::Optional { nullable, inner } => {
            let (pa, pb) = if *nullable { (a != 0, b != 0) } else { (a & 1 != 0, b & 1 != 0) };
            let skip = usize::from(!nullable);
            // SAFETY: present optionals hold their values.
            pa == pb && (!pa || unsafe { equal(inner, &x[skip.min(x.len())..], &y[skip.min(y.len())..], enclosing) })
        }
        Type::Struct { fields, .. } => {
            enclosing.push(ty);
            let tys: Vec<&Type> = fields.iter().map(|(_, t)| t).collect();
            // SAFETY: a struct's slots hold its fields.
            let r = unsafe { all_equal(&tys, x, y, enclosing) };
            enclosing.pop();
            r
        }
        Type::Enum { payload, variants, .. } => {
            if a != b {
                return false;
            }
            let Some(Variant { fields, .. }) = variants.get(a as usize) else { return false };
            if !payload || fields.is_empty() {
                return true;
            }
            enclosing.push(ty);
            let tys: Vec<&Type> = fields.iter().map(|(_, t)| t).collect();
            let n = tys.iter().map(|t| slot_count(t, enclosing)).sum();
            let (pa, pb) = (x.get(1).copied().unwrap_or(0), y.get(1).copied().unwrap_or(0));
            // SAFETY: a variant with fields has a record of them.
            let r = unsafe { all_equal(&tys, record_slots(pa, n), record_slots(pb, n), enclosing) };
            enclosing.pop();
            r
        }
        Type::Back(depth) => match resolve(*depth, enclosing) {
            Some(t) => {
                let keep = enclosing.len() - 1 - usize::from(*depth);
                let mut outer = enclosing[..keep].to_vec();
                // SAFETY: the slots hold a value of the referenced type.
                unsafe { equal(t, x, y, &mut outer) }
            }
            None => false,
        },
        Type::List(elem) => {
            if a == b {
                return true;
            }
            // SAFETY: list slots hold live lists.
            let ((n, xs), (m, ys)) = unsafe { (list::elements(a as *mut u8), list::elements(b as *mut u8)) };
            let k = slot_count(elem, enclosing);
            // SAFETY: both hold elements of the element type.
            n == m && (k == 0 || xs.chunks(k).zip(ys.chunks(k)).all(|(p, q)| unsafe { equal(elem, p, q, enclosing) }))
        }
        Type::Dict(_, value) => {
            if a == b {
                return true;
            }
            let (x, y) = (a as *mut u8, b as *mut u8);
            // SAFETY: dict slots hold live dicts of one type; every key of
            // one is a key of the other's kind.
            unsafe {
                dict::len(x) == dict::len(y)
                    && dict::entries(x).all(|entry| match dict::lookup(y, entry[KEY_SLOT]) {
                        Some(other) => equal(value, &entry[VALUE_SLOT..], other, enclosing),
                        None => false,
                    })
            }
        }
    }
}

/// Whether any of `values` (each the slots of one value) equals the value
/// in `record`, all of the type at `info`.
///
/// # Safety
/// See [`spl_values_equal`].
pub unsafe fn any_equal<'v>(info: i64, mut values: impl Iterator<Item = &'v [u64]>, record: *mut u8) -> bool {
    // SAFETY: per the contract.
    let Some(ty) = (unsafe { decode(info) }) else { return false };
    let n = slot_count(&ty, &mut Vec::new());
    // SAFETY: the record holds the value's slots.
    let value = unsafe { record_slots(record as u64, n) };
    // SAFETY: every item holds a value of the type.
    values.any(|v| unsafe { equal(&ty, v, value, &mut Vec::new()) })
}

/// # Safety
/// `x` and `y` must hold values of `tys`, one after the other.
unsafe fn all_equal<'t>(tys: &[&'t Type], x: &[u64], y: &[u64], enclosing: &mut Enclosing<'t>) -> bool {
    let mut at = 0;
    for t in tys {
        let n = slot_count(t, enclosing);
        let (Some(p), Some(q)) = (x.get(at..at + n), y.get(at..at + n)) else { return false };
        // SAFETY: per the contract.
        if !unsafe { equal(t, p, q, enclosing) } {
            return false;
        }
        at += n;
    }
    true
}
