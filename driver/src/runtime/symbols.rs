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

use super::{math, objects, print, process, strings};

/// One function the runtime provides.
#[derive(Debug, Clone, Copy)]
pub struct RuntimeSymbol {
    pub name: &'static str,
    pub address: usize,
}

type Str = *const u8;

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
    "spl_alloc_record" => objects::spl_alloc_record as unsafe extern "C" fn(Str) -> Str;
    "spl_alloc_array" => objects::spl_alloc_array as unsafe extern "C" fn(Str, i64) -> Str;
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
    abi_results!(i64, f64, u8, *const u8);

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
