//! The VM config reader: TOML text (named and positional forms) through the
//! parser, the checker for both architectures, the conversion to the
//! runtime config, and the device tree generated from it.
#![no_main]

use axvm::AxVMConfig;
use axvmconfig::{AxVMCrateConfig, TargetArch, ValidateContext};
use libfuzzer_sys::fuzz_target;

/// Every image "exists", with a size taken from its path (so that
/// placement checks see large and small images).
fn image_size(path: &str) -> Option<u64> {
    let h = path
        .bytes()
        .fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
    (h % 7 != 0).then_some(h % 0x100_0000)
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(config) = AxVMCrateConfig::parse(text) else {
        return;
    };
    let sizes = image_size;
    let mut valid = false;
    for arch in [TargetArch::Aarch64, TargetArch::X86_64] {
        let ctx = ValidateContext::new(4, &sizes).with_arch(arch);
        valid |= config.validate(&ctx).is_ok();
    }
    if valid {
        let vm = AxVMConfig::from(config);
        let _ = axvm::fdt::generate(&vm, Some((0x4800_0000, 0x1000)), None);
    }
});
