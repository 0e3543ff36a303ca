//! Links `simple` and `simplec` without `-pie`. A position-independent
//! executable has every pointer in its read-only data relocated by the
//! dynamic loader at startup, which writes (and so makes resident) each page
//! holding one: a megabyte for the compiler, before any work. The code is
//! still compiled as position-independent; only the final link resolves it
//! at a fixed address.

fn main() {
    if std::env::var("CARGO_CFG_TARGET_OS").is_ok_and(|os| os == "linux") {
        println!("cargo::rustc-link-arg-bins=-no-pie");
    }
}
