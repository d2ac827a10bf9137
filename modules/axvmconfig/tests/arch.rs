//! Keys of one architecture in a config checked for the other.

mod common;

use axvmconfig::{ConfigError, ErrorKind, TargetArch, ValidateContext};
use common::*;

/// The shipped x86 test guest's config, with an image size for its kernel.
const X86: &str = r#"
[base]
id = 1
name = "x86"
cpu_num = 2

[kernel]
entry_point = 0x10_0000
kernel_path = "images/bios.bin"
kernel_load_addr = 0x10_0000
memory_regions = [{ gpa = 0x0, size = 0x400_0000, flags = "rwx" }]

[devices]
emu_devices = [
    { name = "com1", type = "uart16550", gpa = 0x3f8, size = 8 },
    { name = "testdev", type = "test_device", gpa = 0xd000_0000, size = 0x1000 },
]
"#;

fn errors_for(text: &str, arch: TargetArch) -> Vec<ConfigError> {
    let config = parse(text);
    match config.validate(&ValidateContext::new(PHYS_CPUS, &sizes).with_arch(arch)) {
        Ok(()) => Vec::new(),
        Err(errors) => errors,
    }
}

#[test]
fn arch_names() {
    assert_eq!(TargetArch::from_target_arch("x86_64"), Some(TargetArch::X86_64));
    assert_eq!(TargetArch::from_target_arch("aarch64"), Some(TargetArch::Aarch64));
    assert_eq!(TargetArch::from_target_arch("riscv64"), None);
    assert_eq!(TargetArch::default(), TargetArch::Aarch64);
}

#[test]
fn each_good_config_is_valid_for_its_arch() {
    assert_eq!(errors_for(X86, TargetArch::X86_64), vec![]);
    assert_eq!(errors_for(GOOD_NAMED, TargetArch::Aarch64), vec![]);
}

#[test]
fn an_x86_config_on_aarch64_names_its_port_device() {
    let errors = errors_for(X86, TargetArch::Aarch64);
    expect_only(
        &errors,
        "devices.emu_devices[0].type",
        ErrorKind::InvalidValue,
        "`uart16550` does not exist on aarch64",
    );
}

#[test]
fn an_aarch64_config_on_x86_names_every_aarch64_key() {
    let errors = errors_for(GOOD_NAMED, TargetArch::X86_64);
    expect(&errors, "kernel.dtb_path", ErrorKind::InvalidValue, "no device tree");
    expect(
        &errors,
        "kernel.dtb_load_addr",
        ErrorKind::InvalidValue,
        "no device tree",
    );
    let gic = errors
        .iter()
        .filter(|e| e.problem().contains("`gicd_v3` does not exist on x86_64"))
        .count();
    assert_eq!(gic, 1, "{errors:#?}");
    let pl011 = errors
        .iter()
        .filter(|e| e.problem().contains("`pl011` does not exist on x86_64"))
        .count();
    assert_eq!(pl011, 1, "{errors:#?}");
}

#[test]
fn x86_refuses_passthrough_interrupts_and_a_missing_console() {
    let text = X86
        .replace("[devices]\n", "[devices]\ninterrupt_mode = \"passthrough\"\n")
        .replace(
            "    { name = \"com1\", type = \"uart16550\", gpa = 0x3f8, size = 8 },\n",
            "",
        );
    let errors = errors_for(&text, TargetArch::X86_64);
    assert_eq!(errors.len(), 2, "{errors:#?}");
    expect(
        &errors,
        "devices.interrupt_mode",
        ErrorKind::InvalidValue,
        "\"passthrough\"",
    );
    expect(
        &errors,
        "devices.emu_devices",
        ErrorKind::InvalidValue,
        "no default console",
    );
    // Without a console on purpose: fine.
    let none = text.replace("interrupt_mode = \"passthrough\"\n", "console = \"none\"\n");
    assert_eq!(errors_for(&none, TargetArch::X86_64), vec![]);
}

#[test]
fn entry_mode_is_x86_only_and_real_mode_must_start_below_one_mib() {
    use axvmconfig::{AxVMConfig, EntryMode};
    // Default: 32-bit protected mode.
    assert_eq!(AxVMConfig::from(parse(X86)).entry_mode(), EntryMode::Protected32);
    let real = X86.replace("entry_point = 0x10_0000", "entry_point = 0x7c00\nentry_mode = \"real\"");
    assert!(errors_for(&real, TargetArch::X86_64).is_empty());
    assert_eq!(AxVMConfig::from(parse(&real)).entry_mode(), EntryMode::Real);
    // Real mode above the first MiB.
    let high = X86.replace(
        "entry_point = 0x10_0000",
        "entry_point = 0x10_0000\nentry_mode = \"real\"",
    );
    let errors = errors_for(&high, TargetArch::X86_64);
    expect_only(
        &errors,
        "kernel.entry_point",
        ErrorKind::InvalidValue,
        "out of reach of real mode",
    );
    // An unknown mode.
    let bad = X86.replace(
        "entry_point = 0x10_0000",
        "entry_point = 0x10_0000\nentry_mode = \"long\"",
    );
    let errors = parse_errors(&bad);
    expect_only(
        &errors,
        "kernel.entry_mode",
        ErrorKind::InvalidValue,
        "\"protected32\", \"real\"",
    );
    // On aarch64 the key does not exist.
    let arm = named_with(&[(
        "entry_point = 0x4020_0000",
        "entry_point = 0x4020_0000\nentry_mode = \"real\"",
    )]);
    let errors = errors_for(&arm, TargetArch::Aarch64);
    expect(
        &errors,
        "kernel.entry_mode",
        ErrorKind::InvalidValue,
        "does not exist on aarch64",
    );
}
