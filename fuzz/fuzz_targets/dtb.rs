//! The device-tree readers: a VM config's own tree (`dtb_path`), fixed up
//! for the VM, and the host tree the passthrough devices' nodes are copied
//! from, with arbitrary bytes in place of a valid blob. The first byte picks
//! the reader.
#![no_main]

use std::sync::OnceLock;

use axvm::AxVMConfig;
use axvmconfig::AxVMCrateConfig;
use libfuzzer_sys::fuzz_target;

/// A Linux VM with an emulated console and two passthrough devices (the
/// host's PL031 and a window with no host node).
const CONFIG: &str = r#"
[base]
id = 1
name = "linux"
vm_type = "linux"
cpu_num = 2

[kernel]
entry_point = 0x4020_0000
kernel_path = "Image"
kernel_load_addr = 0x4020_0000
dtb_load_addr = 0x4000_0000
cmdline = "console=ttyAMA0 earlycon"
memory_regions = [
    { gpa = 0x4000_0000, size = 0x2000_0000, flags = "rwx", map = "alloc" },
]

[devices]
interrupt_mode = "emu"
emu_devices = [
    { name = "uart0", type = "pl011", gpa = 0x0900_0000, size = 0x1000, irq = 33 },
]
passthrough_devices = [
    { name = "rtc", gpa = 0x0901_0000, hpa = 0x0901_0000, size = 0x1000, irq = 34 },
    { name = "win", gpa = 0x0c00_0000, hpa = 0x0c00_0000, size = 0x1000 },
]
"#;

fn config() -> &'static AxVMConfig {
    static CONFIG_ONCE: OnceLock<AxVMConfig> = OnceLock::new();
    CONFIG_ONCE.get_or_init(|| match AxVMCrateConfig::from_toml(CONFIG) {
        Ok(c) => AxVMConfig::from(c),
        Err(e) => panic!("the fuzz target's own config is broken: {e}"),
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, blob)) = data.split_first() else {
        return;
    };
    if which & 1 == 0 {
        let _ = axvm::fdt::fixup(blob, config(), Some((0x4800_0000, 0x1000)));
    } else {
        let _ = axvm::fdt::generate(config(), None, Some(blob));
    }
});
