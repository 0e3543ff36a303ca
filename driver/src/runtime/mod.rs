//! The runtime linked into `simple`: the `extern "C"` functions compiled code
//! calls (declared in `simple_abi`), and the fault handling that turns traps
//! into `error:` messages.
