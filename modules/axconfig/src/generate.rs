//! The generator behind `build.rs`: platform TOML in, Rust constants out.
//! Shared with the build script through `#[path]`, so it is unit-tested.
//!
//! Every top-level key becomes a `pub const`, every table a `pub mod` with
//! its keys as consts. Key names are upper-cased with `-` turned into `_`.
//! Integers become `usize`, strings `&str`, booleans `bool`. Anything else
//! is rejected with a message naming the file and the field.

use std::fmt::Write as _;

fn const_name(key: &str) -> String {
    key.replace('-', "_").to_uppercase()
}

fn emit(out: &mut String, file: &str, field: &str, key: &str, v: &toml::Value, indent: &str) -> Result<(), String> {
    let name = const_name(key);
    match v {
        toml::Value::Integer(i) if *i >= 0 => writeln!(out, "{indent}pub const {name}: usize = {i:#x};"),
        toml::Value::String(s) => writeln!(out, "{indent}pub const {name}: &str = {s:?};"),
        toml::Value::Boolean(b) => writeln!(out, "{indent}pub const {name}: bool = {b};"),
        _ => {
            return Err(format!(
                "{file}: {field}: expected a non-negative integer, a string or a boolean"
            ));
        }
    }
    .map_err(|e| e.to_string())
}

/// Generates the constants of platform `platform` from the text of its
/// `platform.toml` (`file` is its path, for messages); `smp` is `AX_SMP`.
pub fn generate(text: &str, file: &str, platform: &str, smp: Option<&str>) -> Result<String, String> {
    let table: toml::Table = text.parse().map_err(|e| format!("{file}: {e}"))?;
    let mut out = String::new();
    writeln!(out, "/// Name of the platform these constants describe.").map_err(|e| e.to_string())?;
    writeln!(out, "pub const PLATFORM: &str = {platform:?};").map_err(|e| e.to_string())?;
    for (key, value) in &table {
        if let toml::Value::Table(t) = value {
            writeln!(
                out,
                "/// `[{key}]` of the platform file.\npub mod {} {{",
                key.replace('-', "_")
            )
            .map_err(|e| e.to_string())?;
            for (k, v) in t {
                emit(&mut out, file, &format!("{key}.{k}"), k, v, "    ")?;
            }
            writeln!(out, "}}").map_err(|e| e.to_string())?;
        } else {
            emit(&mut out, file, key, key, value, "")?;
        }
    }
    let max_cpus = table
        .get("cpu")
        .and_then(|c| c.get("max-num"))
        .and_then(toml::Value::as_integer)
        .ok_or_else(|| format!("{file}: cpu.max-num: missing"))?;
    let smp = match smp {
        Some(s) => s
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=max_cpus).contains(n))
            .ok_or_else(|| format!("AX_SMP={s}: must be a number from 1 to cpu.max-num ({max_cpus}) of {file}"))?,
        None => 1,
    };
    writeln!(
        out,
        "/// CPUs the image is built for (`make SMP=`); the device tree may report fewer."
    )
    .map_err(|e| e.to_string())?;
    writeln!(out, "pub const SMP: usize = {smp};").map_err(|e| e.to_string())?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::generate;

    const GOOD: &str = "arch = \"aarch64\"\n[cpu]\nmax-num = 4\n[devices]\nuart-base = 0x0900_0000\nfast = true\n";

    #[test]
    fn tables_become_modules_and_keys_constants() {
        let out = generate(GOOD, "p.toml", "test-plat", Some("2")).unwrap();
        assert!(out.contains("pub const PLATFORM: &str = \"test-plat\";"));
        assert!(out.contains("pub const ARCH: &str = \"aarch64\";"));
        assert!(out.contains("pub mod devices {"));
        assert!(out.contains("    pub const UART_BASE: usize = 0x9000000;"));
        assert!(out.contains("    pub const FAST: bool = true;"));
        assert!(out.contains("pub const SMP: usize = 2;"));
    }

    #[test]
    fn bad_values_name_the_file_and_field() {
        let e = generate("[cpu]\nmax-num = 4\nbase = -1\n", "p.toml", "x", None).unwrap_err();
        assert_eq!(
            e,
            "p.toml: cpu.base: expected a non-negative integer, a string or a boolean"
        );
        let e = generate("[cpu]\nlist = [1]\nmax-num = 4\n", "p.toml", "x", None).unwrap_err();
        assert!(e.starts_with("p.toml: cpu.list:"), "{e}");
        let e = generate("arch = 1\n", "p.toml", "x", None).unwrap_err();
        assert_eq!(e, "p.toml: cpu.max-num: missing");
        assert!(
            generate("[cpu\n", "p.toml", "x", None)
                .unwrap_err()
                .starts_with("p.toml: ")
        );
    }

    #[test]
    fn smp_must_be_within_the_platform_limit() {
        assert!(generate(GOOD, "p.toml", "x", Some("4")).is_ok());
        for bad in ["0", "5", "four"] {
            let e = generate(GOOD, "p.toml", "x", Some(bad)).unwrap_err();
            assert!(
                e.starts_with(&format!("AX_SMP={bad}: must be a number from 1 to cpu.max-num (4)")),
                "{e}"
            );
        }
        assert!(
            generate(GOOD, "p.toml", "x", None)
                .unwrap()
                .contains("pub const SMP: usize = 1;")
        );
    }
}
