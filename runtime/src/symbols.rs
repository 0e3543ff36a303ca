//! The runtime's symbol table: the address of each function of
//! `simple_abi::RUNTIME_FUNCTIONS`, for the loader to patch into compiled
//! code.
//!
//! Each entry names the function's Rust signature as a function pointer
//! type, so the compiler checks that the table matches the functions, and
//! the machine signature derived from that type is checked against the ABI
//! table by a test: the runtime provides exactly the declared functions with
//! exactly the declared signatures. ABI types map to Rust types as `I64` =
//! `i64`, `F64` = `f64`, `Bool` = `u8` (0 or 1; never Rust's `bool`, for
//! which other bytes would be undefined behaviour), `Ptr` = `*const u8`.

#[cfg(test)]
use simple_abi::AbiType;

use super::{alloc, dict, format, io, list, math, print, process, strings, text, values};

/// One function the runtime provides.
#[derive(Debug, Clone, Copy)]
pub struct RuntimeSymbol {
    pub name: &'static str,
    pub address: usize,
}

type Str = *const u8;
type Ref = *mut u8;

/// Lists each runtime function once, with its Rust signature as a function
/// pointer type (the cast only compiles if the function has exactly that
/// type); generates the symbol table and, for the test, the table of
/// machine signatures derived from those types.
macro_rules! runtime_table {
    ($($name:literal => $function:path as $type:ty;)*) => {
        const SYMBOL_COUNT: usize = [$($name),*].len();

        /// Every function the runtime provides to compiled code.
        pub fn runtime_symbols() -> [RuntimeSymbol; SYMBOL_COUNT] {
            [$(RuntimeSymbol { name: $name, address: ($function as $type) as usize }),*]
        }

        /// The machine signature of each function, from its Rust type.
        #[cfg(test)]
        fn runtime_signatures() -> [(&'static str, &'static [AbiType], Option<AbiType>); SYMBOL_COUNT] {
            [$(($name, <$type as signature::AbiFn>::PARAMS, <$type as signature::AbiFn>::RET)),*]
        }
    };
}

runtime_table! {
    "spl_print_str" => print::spl_print_str as unsafe extern "C" fn(i64, Str);
    "spl_print_i64" => print::spl_print_i64 as extern "C" fn(i64, i64);
    "spl_print_f64" => print::spl_print_f64 as extern "C" fn(i64, f64);
    "spl_print_bool" => print::spl_print_bool as extern "C" fn(i64, u8);
    "spl_print_nil" => print::spl_print_nil as extern "C" fn(i64);
    "spl_str_from_i64" => strings::spl_str_from_i64 as extern "C" fn(i64) -> Str;
    "spl_str_from_f64" => strings::spl_str_from_f64 as extern "C" fn(f64) -> Str;
    "spl_str_from_bool" => strings::spl_str_from_bool as extern "C" fn(u8) -> Str;
    "spl_str_concat" => strings::spl_str_concat as unsafe extern "C" fn(Str, Str) -> Str;
    "spl_str_eq" => strings::spl_str_eq as unsafe extern "C" fn(Str, Str) -> u8;
    "spl_str_cmp" => strings::spl_str_cmp as unsafe extern "C" fn(Str, Str) -> i64;
    "spl_str_len" => strings::spl_str_len as unsafe extern "C" fn(Str) -> i64;
    "spl_assert_message" => process::spl_assert_message as extern "C" fn(Str);
    "spl_exit" => process::spl_exit as extern "C" fn(i64);
    "spl_clock" => process::spl_clock as extern "C" fn() -> f64;
    "spl_fmod" => math::spl_fmod as extern "C" fn(f64, f64) -> f64;
    "spl_fpow" => math::spl_fpow as extern "C" fn(f64, f64) -> f64;
    "spl_alloc_record" => alloc::spl_alloc_record as extern "C" fn(i64) -> Ref;
    "spl_print_value" => values::spl_print_value as unsafe extern "C" fn(i64, i64, Ref);
    "spl_str_value" => values::spl_str_value as unsafe extern "C" fn(i64, Ref) -> Str;
    "spl_values_equal" => values::spl_values_equal as unsafe extern "C" fn(i64, Ref, Ref) -> u8;
    "spl_list_new" => list::spl_list_new as unsafe extern "C" fn(i64, i64) -> Ref;
    "spl_list_grow" => list::spl_list_grow as unsafe extern "C" fn(Ref) -> i64;
    "spl_list_insert" => list::spl_list_insert as unsafe extern "C" fn(Ref, i64) -> i64;
    "spl_list_remove" => list::spl_list_remove as unsafe extern "C" fn(Ref, i64);
    "spl_list_slice" => list::spl_list_slice as unsafe extern "C" fn(Ref, i64, i64, i64) -> Ref;
    "spl_list_concat" => list::spl_list_concat as unsafe extern "C" fn(Ref, Ref) -> Ref;
    "spl_list_contains" => list::spl_list_contains as unsafe extern "C" fn(i64, Ref, Ref) -> u8;
    "spl_dict_new" => dict::spl_dict_new as unsafe extern "C" fn(i64, i64) -> Ref;
    "spl_dict_find_int" => dict::spl_dict_find_int as unsafe extern "C" fn(Ref, i64) -> i64;
    "spl_dict_find_str" => dict::spl_dict_find_str as unsafe extern "C" fn(Ref, Str) -> i64;
    "spl_dict_insert_int" => dict::spl_dict_insert_int as unsafe extern "C" fn(Ref, i64) -> i64;
    "spl_dict_insert_str" => dict::spl_dict_insert_str as unsafe extern "C" fn(Ref, Str) -> i64;
    "spl_dict_remove_at" => dict::spl_dict_remove_at as unsafe extern "C" fn(Ref, i64);
    "spl_dict_project" => dict::spl_dict_project as unsafe extern "C" fn(Ref, i64, i64, i64) -> Ref;
    "spl_args" => io::spl_args as extern "C" fn() -> Ref;
    "spl_read_line" => io::spl_read_line as extern "C" fn() -> Str;
    "spl_read_file" => io::spl_read_file as unsafe extern "C" fn(Str) -> Str;
    "spl_write_file" => io::spl_write_file as unsafe extern "C" fn(Str, Str) -> u8;
    "spl_str_contains" => text::spl_str_contains as unsafe extern "C" fn(Str, Str) -> u8;
    "spl_str_starts_with" => text::spl_str_starts_with as unsafe extern "C" fn(Str, Str) -> u8;
    "spl_str_ends_with" => text::spl_str_ends_with as unsafe extern "C" fn(Str, Str) -> u8;
    "spl_str_find" => text::spl_str_find as unsafe extern "C" fn(Str, Str) -> i64;
    "spl_str_split" => text::spl_str_split as unsafe extern "C" fn(Str, Str) -> Ref;
    "spl_str_split_whitespace" => text::spl_str_split_whitespace as unsafe extern "C" fn(Str) -> Ref;
    "spl_str_join" => text::spl_str_join as unsafe extern "C" fn(Str, Ref) -> Str;
    "spl_str_trim" => text::spl_str_trim as unsafe extern "C" fn(Str) -> Str;
    "spl_str_to_upper" => text::spl_str_to_upper as unsafe extern "C" fn(Str) -> Str;
    "spl_str_to_lower" => text::spl_str_to_lower as unsafe extern "C" fn(Str) -> Str;
    "spl_str_replace" => text::spl_str_replace as unsafe extern "C" fn(Str, Str, Str) -> Str;
    "spl_str_chars" => text::spl_str_chars as unsafe extern "C" fn(Str) -> Ref;
    "spl_str_slice" => text::spl_str_slice as unsafe extern "C" fn(Str, i64, i64, i64) -> Str;
    "spl_str_char_at" => text::spl_str_char_at as unsafe extern "C" fn(Str, i64) -> Str;
    "spl_str_to_int" => text::spl_str_to_int as unsafe extern "C" fn(Str) -> i64;
    "spl_str_is_int" => text::spl_str_is_int as unsafe extern "C" fn(Str) -> u8;
    "spl_str_to_float" => text::spl_str_to_float as unsafe extern "C" fn(Str) -> f64;
    "spl_str_is_float" => text::spl_str_is_float as unsafe extern "C" fn(Str) -> u8;
    "spl_str_repeat" => text::spl_str_repeat as unsafe extern "C" fn(Str, i64) -> Str;
    "spl_format_i64" => format::spl_format_i64 as unsafe extern "C" fn(i64, Str) -> Str;
    "spl_format_f64" => format::spl_format_f64 as unsafe extern "C" fn(f64, Str) -> Str;
    "spl_format_str" => format::spl_format_str as unsafe extern "C" fn(Str, Str) -> Str;
    "spl_format_bool" => format::spl_format_bool as unsafe extern "C" fn(u8, Str) -> Str;
}

/// The address of the runtime function called `name`, for the loader.
pub fn resolve(name: &str) -> Option<usize> {
    runtime_symbols().into_iter().find(|symbol| symbol.name == name).map(|symbol| symbol.address)
}

/// Machine signatures of Rust function pointer types, for the test.
#[cfg(test)]
mod signature {
    use simple_abi::AbiType;

    /// A Rust type passed as an ABI value.
    pub trait AbiValue {
        const TYPE: AbiType;
    }

    impl AbiValue for i64 {
        const TYPE: AbiType = AbiType::I64;
    }
    impl AbiValue for f64 {
        const TYPE: AbiType = AbiType::F64;
    }
    impl AbiValue for u8 {
        const TYPE: AbiType = AbiType::Bool;
    }
    impl AbiValue for *const u8 {
        const TYPE: AbiType = AbiType::Ptr;
    }
    impl AbiValue for *mut u8 {
        const TYPE: AbiType = AbiType::Ref;
    }

    /// A Rust return type: `()` for none, or an [`AbiValue`].
    pub trait AbiResult {
        const TYPE: Option<AbiType>;
    }

    impl AbiResult for () {
        const TYPE: Option<AbiType> = None;
    }

    macro_rules! abi_results {
        ($($t:ty),*) => {
            $(impl AbiResult for $t {
                const TYPE: Option<AbiType> = Some(<$t as AbiValue>::TYPE);
            })*
        };
    }
    abi_results!(i64, f64, u8, *const u8, *mut u8);

    /// A function pointer type whose machine signature is made of ABI types.
    pub trait AbiFn {
        const PARAMS: &'static [AbiType];
        const RET: Option<AbiType>;
    }

    macro_rules! abi_fns {
        ($($p:ident),*) => {
            impl<R: AbiResult, $($p: AbiValue),*> AbiFn for extern "C" fn($($p),*) -> R {
                const PARAMS: &'static [AbiType] = &[$($p::TYPE),*];
                const RET: Option<AbiType> = R::TYPE;
            }
            impl<R: AbiResult, $($p: AbiValue),*> AbiFn for unsafe extern "C" fn($($p),*) -> R {
                const PARAMS: &'static [AbiType] = &[$($p::TYPE),*];
                const RET: Option<AbiType> = R::TYPE;
            }
        };
    }
    abi_fns!();
    abi_fns!(A);
    abi_fns!(A, B);
    abi_fns!(A, B, C);
    abi_fns!(A, B, C, D);
}

#[cfg(test)]
mod tests {
    use super::*;
    use simple_abi::RUNTIME_FUNCTIONS;

    #[test]
    fn runtime_provides_exactly_the_abi_functions() {
        let signatures = runtime_signatures();
        for declared in RUNTIME_FUNCTIONS {
            let Some(&(_, params, ret)) = signatures.iter().find(|s| s.0 == declared.name) else {
                panic!("the runtime does not provide {}", declared.name);
            };
            assert_eq!(params, declared.params, "parameters of {}", declared.name);
            assert_eq!(ret, declared.ret, "result of {}", declared.name);
            assert!(resolve(declared.name).is_some_and(|address| address != 0));
        }
        for symbol in runtime_symbols() {
            assert!(
                RUNTIME_FUNCTIONS.iter().any(|f| f.name == symbol.name),
                "the runtime provides {}, which the ABI does not declare",
                symbol.name
            );
        }
        assert_eq!(SYMBOL_COUNT, RUNTIME_FUNCTIONS.len(), "a name appears twice");
    }

    #[test]
    fn unknown_names_do_not_resolve() {
        assert_eq!(resolve("spl_nope"), None);
        assert_eq!(resolve(""), None);
    }
}
