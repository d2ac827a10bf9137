//! Reads the VM configs named by `AX_VM_CONFIGS` (comma-separated paths;
//! the Makefile's `VM=`), validates them, and generates `vms.rs`, which
//! embeds each config, parsed here and written out as Rust (axvmconfig's
//! feature `bake`: the kernel carries no TOML parser), and its images. A
//! broken config, or one with keys of another architecture than the
//! build's, stops the build with `file: field: problem` lines; so do two
//! configs whose identical or reserved RAM (host addresses, known here)
//! overlap.

use axvmconfig::{AxVMCrateConfig, ConfigFileError, FsImageSizes, TargetArch, ValidateContext, check_across};
use std::{
    env,
    fmt::Write as _,
    fs,
    path::{Path, PathBuf},
    process::exit,
};

fn fail(msg: impl std::fmt::Display) -> ! {
    eprintln!("error: VM config: {msg}");
    // Also through cargo, so the message shows in the build output.
    for line in msg.to_string().lines() {
        println!("cargo:warning=VM config: {line}");
    }
    exit(1)
}

fn main() {
    println!("cargo:rerun-if-env-changed=AX_VM_CONFIGS");
    println!("cargo:rerun-if-env-changed=AX_SMP");
    println!("cargo:rerun-if-env-changed=AX_POWEROFF_WHEN_IDLE");
    let list = env::var("AX_VM_CONFIGS").unwrap_or_default();
    let smp: usize = env::var("AX_SMP").ok().and_then(|s| s.parse().ok()).unwrap_or(1);
    // The configs are checked for the architecture being built.
    let target = env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let arch = TargetArch::from_target_arch(&target)
        .unwrap_or_else(|| fail(format!("the hypervisor does not build for target_arch {target:?}")));
    let mut out = String::from("/// The VMs built into this image.\npub static VMS: &[EmbeddedVm] = &[\n");
    // One function per VM that builds its config (`EmbeddedVm::config`).
    let mut configs = String::new();
    let mut ids = Vec::new();
    let mut checked: Vec<(String, AxVMCrateConfig)> = Vec::new();
    for path in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        // Absolute, so image paths (relative to the config's folder) are
        // absolute too: `embed!` (include_bytes!) resolves against OUT_DIR otherwise.
        let path = fs::canonicalize(path).unwrap_or_else(|e| fail(format!("{path}: cannot open the file: {e}")));
        let file = path.display().to_string();
        println!("cargo:rerun-if-changed={file}");
        let text = fs::read_to_string(&path).unwrap_or_else(|e| fail(format!("{file}: cannot read the file: {e}")));
        // As written, for the image (what the kernel used to parse at boot);
        // with image paths resolved against the file's folder, for the checks
        // and `embed!`.
        let written = AxVMCrateConfig::parse(&text).unwrap_or_else(|errors| fail(ConfigFileError::new(&file, errors)));
        let mut config = written.clone();
        config.resolve_image_paths(path.parent().unwrap_or_else(|| Path::new("")));
        let ctx = ValidateContext::new(smp, &FsImageSizes).with_arch(arch);
        if let Err(errors) = config.validate(&ctx) {
            fail(ConfigFileError::new(file, errors));
        }
        checked.push((file.clone(), config.clone()));
        let refs: Vec<(&str, &AxVMCrateConfig)> = checked.iter().map(|(f, c)| (f.as_str(), c)).collect();
        if let Some(e) = check_across(&refs).into_iter().next() {
            fail(e);
        }
        if ids.contains(&config.base.id) {
            fail(format!(
                "{file}: base.id: {} is used by another VM of this build",
                config.base.id
            ));
        }
        ids.push(config.base.id);
        let kernel = &config.kernel;
        let embed = |p: &Option<String>| match p {
            Some(p) => {
                println!("cargo:rerun-if-changed={p}");
                format!("Some(embed!({p:?}))")
            }
            None => "None".into(),
        };
        println!("cargo:rerun-if-changed={}", kernel.kernel_path);
        let n = ids.len() - 1;
        writeln!(
            configs,
            "/// `{file}`, as written.\nfn vm_config_{n}() -> axvmconfig::AxVMCrateConfig {}",
            written.to_rust()
        )
        .unwrap();
        writeln!(
            out,
            "    EmbeddedVm {{ file: {file:?}, config: vm_config_{n}, kernel: embed!({:?}), bios: {}, dtb: {}, ramdisk: {} }},",
            kernel.kernel_path,
            embed(&kernel.bios_path),
            embed(&kernel.dtb_path),
            embed(&kernel.ramdisk_path),
        )
        .unwrap();
    }
    out.push_str("];\n");
    out.push_str(&configs);
    // `make POWEROFF_WHEN_IDLE=y`: power off once no VM is left.
    let poweroff = matches!(
        env::var("AX_POWEROFF_WHEN_IDLE").as_deref(),
        Ok("y" | "yes" | "1" | "true")
    );
    writeln!(
        out,
        "/// Power off once no VM is left (else wait for console commands).\npub const POWEROFF_WHEN_IDLE: bool = {poweroff};"
    )
    .unwrap();
    let dest = PathBuf::from(env::var("OUT_DIR").unwrap()).join("vms.rs");
    fs::write(dest, out).unwrap_or_else(|e| fail(format!("cannot write vms.rs: {e}")));
}
