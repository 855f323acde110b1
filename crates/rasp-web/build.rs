//! The WebAssembly module gets a larger stack than the linker's 1 MiB: the
//! interpreter recurses as deeply as Python lets a RASP program recurse (it
//! counts the reference's frames and stops at its limit), and natively it
//! runs on a large stack too. Native builds are left alone.

/// Bytes of stack for the interpreter in the browser.
const WASM_STACK_BYTES: u64 = 32 * 1024 * 1024;

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32") {
        println!("cargo::rustc-cdylib-link-arg=-zstack-size={WASM_STACK_BYTES}");
    }
}
