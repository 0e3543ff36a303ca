mod runtime;

fn main() {}
