//! Generates `config.rs` from `platforms/<AX_PLATFORM>/platform.toml`; the
//! rules are in `src/generate.rs`.

#[path = "src/generate.rs"]
mod generate;

use std::{env, fs, path::PathBuf};

/// The platform used when `AX_PLATFORM` is unset: the QEMU machine of the
/// target architecture, and aarch64-qemu-virt for host builds (unit tests).
fn default_platform(arch: &str, os: &str) -> &'static str {
    match (arch, os) {
        ("x86_64", "none") => "x86_64-qemu-q35",
        _ => "aarch64-qemu-virt",
    }
}

fn main() {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let arch = env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let os = env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let platform = env::var("AX_PLATFORM").unwrap_or_else(|_| default_platform(&arch, &os).into());
    let path = manifest.join("../../platforms").join(&platform).join("platform.toml");
    let file = path.display().to_string();
    println!("cargo:rerun-if-env-changed=AX_PLATFORM");
    println!("cargo:rerun-if-env-changed=AX_SMP");
    println!("cargo:rerun-if-changed={file}");
    println!("cargo:rerun-if-changed=src/generate.rs");
    let result = fs::read_to_string(&path)
        .map_err(|e| format!("{file}: cannot read the platform file ({e}); AX_PLATFORM={platform}"))
        .and_then(|text| generate::generate(&text, &file, &platform, env::var("AX_SMP").ok().as_deref()));
    match result {
        Ok(out) => fs::write(PathBuf::from(env::var("OUT_DIR").unwrap()).join("config.rs"), out).unwrap(),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
