//! Generates `config.rs` from `platforms/<AX_PLATFORM>/platform.toml`.
//!
//! Every top-level key becomes a `pub const`, every table a `pub mod` with its
//! keys as consts. Key names are upper-cased with `-` turned into `_`.
//! Integers become `usize`, strings `&str`, booleans `bool`. Anything else is
//! rejected with a message naming the file and the field.

use std::{env, fmt::Write as _, fs, path::PathBuf};

/// The platform used when `AX_PLATFORM` is unset: the QEMU machine of the
/// target architecture, and aarch64-qemu-virt for host builds (unit tests).
fn default_platform(arch: &str, os: &str) -> &'static str {
    match (arch, os) {
        ("x86_64", "none") => "x86_64-qemu-q35",
        _ => "aarch64-qemu-virt",
    }
}

fn const_name(key: &str) -> String {
    key.replace('-', "_").to_uppercase()
}

fn emit_value(out: &mut String, file: &str, field: &str, key: &str, v: &toml::Value, indent: &str) {
    let name = const_name(key);
    match v {
        toml::Value::Integer(i) if *i >= 0 => {
            writeln!(out, "{indent}pub const {name}: usize = {i:#x};").unwrap();
        }
        toml::Value::String(s) => {
            writeln!(out, "{indent}pub const {name}: &str = {s:?};").unwrap();
        }
        toml::Value::Boolean(b) => {
            writeln!(out, "{indent}pub const {name}: bool = {b};").unwrap();
        }
        _ => panic!("{file}: {field}: expected a non-negative integer, a string or a boolean"),
    }
}

fn main() {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest.join("../..");
    let arch = env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let os = env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let platform = env::var("AX_PLATFORM").unwrap_or_else(|_| default_platform(&arch, &os).into());
    let path = root.join("platforms").join(&platform).join("platform.toml");
    let file = path.display().to_string();
    println!("cargo:rerun-if-env-changed=AX_PLATFORM");
    println!("cargo:rerun-if-env-changed=AX_SMP");
    println!("cargo:rerun-if-changed={file}");

    let text = fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{file}: cannot read the platform file ({e}); AX_PLATFORM={platform}"));
    let table: toml::Table = text.parse().unwrap_or_else(|e| panic!("{file}: {e}"));

    let mut out = String::new();
    writeln!(out, "/// Name of the platform these constants describe.").unwrap();
    writeln!(out, "pub const PLATFORM: &str = {platform:?};").unwrap();
    let mut max_cpus = None;
    for (key, value) in &table {
        if let toml::Value::Table(t) = value {
            writeln!(
                out,
                "/// `[{key}]` of the platform file.\npub mod {} {{",
                key.replace('-', "_")
            )
            .unwrap();
            for (k, v) in t {
                emit_value(&mut out, &file, &format!("{key}.{k}"), k, v, "    ");
                if key == "cpu" && k == "max-num" {
                    max_cpus = v.as_integer();
                }
            }
            writeln!(out, "}}").unwrap();
        } else {
            emit_value(&mut out, &file, key, key, value, "");
        }
    }
    let max_cpus = max_cpus.unwrap_or_else(|| panic!("{file}: cpu.max-num: missing"));
    let smp = match env::var("AX_SMP") {
        Ok(s) => s
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=max_cpus).contains(n))
            .unwrap_or_else(|| panic!("AX_SMP={s}: must be a number from 1 to cpu.max-num ({max_cpus}) of {file}")),
        Err(_) => 1,
    };
    writeln!(
        out,
        "/// CPUs the image is built for (`make SMP=`); the device tree may report fewer."
    )
    .unwrap();
    writeln!(out, "pub const SMP: usize = {smp};").unwrap();

    let dest = PathBuf::from(env::var("OUT_DIR").unwrap()).join("config.rs");
    fs::write(dest, out).unwrap();
}
