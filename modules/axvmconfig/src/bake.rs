//! Writing a parsed configuration out as Rust (feature `bake`): the build
//! script of `apps/hv` puts each VM's [`AxVMCrateConfig`] into the image as
//! code, so the kernel neither carries nor runs the TOML parser.
//!
//! The trait is [`databake::Bake`] (ICU4X), whose impls for strings,
//! vectors, options and integers write the leaves. The enums, the bitflags
//! ([`VmMemFlags`](crate::VmMemFlags), by hand) and the structs of plain
//! values derive or implement it where they are defined. The structs that
//! own a `String` or a `Vec` cannot derive it: `databake-derive` 0.2 also
//! derives `BakeSize`, which databake 0.2.1 does not implement for owned
//! strings and vectors (and the orphan rule keeps this crate from adding
//! it). They get `bake_struct!`'s impls here, which destructure the
//! struct completely, so a field added to one of them and not listed is a
//! compile error rather than a value silently left at its default.

use alloc::string::{String, ToString};

use databake::{Bake, CrateEnv, TokenStream};

use crate::AxVMCrateConfig;

/// `impl Bake` for structs of the crate root, writing
/// `axvmconfig::Type { field: value, .. }` with every field listed.
macro_rules! bake_struct {
    ($($ty:ident { $($field:ident),+ $(,)? })+) => {$(
        impl Bake for crate::$ty {
            fn bake(&self, env: &CrateEnv) -> TokenStream {
                env.insert("axvmconfig");
                // Exhaustive: no `..`.
                let Self { $($field),+ } = self;
                $(let $field = $field.bake(env);)+
                databake::quote! { axvmconfig::$ty { $($field: #$field),+ } }
            }
        }
    )+};
}

bake_struct! {
    AxVMCrateConfig { base, kernel, devices }
    VMBaseConfig { id, name, vm_type, cpu_num, phys_cpu_ids, phys_cpu_sets, autostart }
    VMKernelConfig {
        entry_point, entry_mode, kernel_path, kernel_load_addr, bios_path, bios_load_addr, dtb_path,
        dtb_load_addr, ramdisk_path, ramdisk_load_addr, image_location, cmdline, disk_path, linux_image,
        memory_regions,
    }
    VMDevicesConfig {
        emu_devices, passthrough_devices, passthrough_nodes, excluded_devices, passthrough_addresses,
        interrupt_mode, console,
    }
    EmulatedDeviceConfig { name, base_gpa, length, irq_id, emu_type, cfg_list }
    PassThroughDeviceConfig { name, base_gpa, base_hpa, length, irq_id }
    PassThroughNode { index, path }
}

impl AxVMCrateConfig {
    /// The configuration as a Rust block expression of type
    /// `axvmconfig::AxVMCrateConfig` that builds an equal value.
    ///
    /// The code where it is pasted must have the crates `axvmconfig` and
    /// `alloc` in scope (a `no_std` crate: `extern crate alloc;`); strings
    /// are `"…".to_owned()`, and the block imports `ToOwned` for them.
    pub fn to_rust(&self) -> String {
        let expr = self.bake(&CrateEnv::default());
        databake::quote! {{
            use alloc::borrow::ToOwned as _;
            #expr
        }}
        .to_string()
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use crate::{
        AxVMCrateConfig, ConsoleMode, EmulatedDeviceConfig, EmulatedDeviceType, EntryMode, ImageLocation,
        PassThroughAddressConfig, PassThroughDeviceConfig, PassThroughNode, VMBaseConfig, VMDevicesConfig,
        VMInterruptMode, VMKernelConfig, VMType, VmMemConfig, VmMemFlags, VmMemMappingType,
    };

    /// Every field set, none to its default where it has a choice: the baked
    /// expression evaluates to a value that bakes to the same expression.
    #[test]
    fn a_full_config_bakes_to_itself() {
        databake::test_bake!(
            AxVMCrateConfig,
            crate::AxVMCrateConfig {
                base: crate::VMBaseConfig {
                    id: 3usize,
                    name: "demo".to_owned(),
                    vm_type: crate::VMType::Linux,
                    cpu_num: 2usize,
                    phys_cpu_ids: Some(alloc::vec![0usize, 1usize]),
                    phys_cpu_sets: Some(alloc::vec![5usize, 2usize]),
                    autostart: false,
                },
                kernel: crate::VMKernelConfig {
                    entry_point: Some(1074266112usize),
                    entry_mode: Some(crate::EntryMode::Real),
                    kernel_path: "/images/Image".to_owned(),
                    kernel_load_addr: None,
                    bios_path: Some("bios.bin".to_owned()),
                    bios_load_addr: Some(4096usize),
                    dtb_path: None,
                    dtb_load_addr: Some(1207959552usize),
                    ramdisk_path: Some("initrd.gz".to_owned()),
                    ramdisk_load_addr: Some(1224736768usize),
                    image_location: crate::ImageLocation::Fs,
                    cmdline: Some("console=ttyAMA0 \"quoted\"".to_owned()),
                    disk_path: None,
                    linux_image: true,
                    memory_regions: alloc::vec![
                        crate::VmMemConfig {
                            gpa: 1073741824usize,
                            size: 268435456usize,
                            flags: crate::VmMemFlags::from_bits_retain(7usize),
                            map_type: crate::VmMemMappingType::MapIdentical,
                            small_pages: false,
                        },
                        crate::VmMemConfig {
                            gpa: 150994944usize,
                            size: 4096usize,
                            flags: crate::VmMemFlags::from_bits_retain(11usize),
                            map_type: crate::VmMemMappingType::MapReserved,
                            small_pages: false,
                        },
                    ],
                },
                devices: crate::VMDevicesConfig {
                    emu_devices: alloc::vec![crate::EmulatedDeviceConfig {
                        name: "uart".to_owned(),
                        base_gpa: 150994944usize,
                        length: 4096usize,
                        irq_id: 33usize,
                        emu_type: crate::EmulatedDeviceType::Pl011,
                        cfg_list: alloc::vec![1usize, 2usize],
                    }],
                    passthrough_devices: alloc::vec![crate::PassThroughDeviceConfig {
                        name: "rtc".to_owned(),
                        base_gpa: 151060480usize,
                        base_hpa: 151060480usize,
                        length: 4096usize,
                        irq_id: 34usize,
                    }],
                    passthrough_nodes: alloc::vec![crate::PassThroughNode {
                        index: 1usize,
                        path: "/pl031@9010000".to_owned(),
                    }],
                    excluded_devices: alloc::vec!["/pl011@9000000".to_owned()],
                    passthrough_addresses: alloc::vec![crate::PassThroughAddressConfig {
                        base_gpa: 268435456usize,
                        length: 65536usize,
                    }],
                    interrupt_mode: crate::VMInterruptMode::Passthrough,
                    console: crate::ConsoleMode::None,
                },
            },
            axvmconfig,
            [alloc],
        );
    }

    /// Each enum variant and flag bit bakes to itself (the full config
    /// above names one variant of each).
    #[test]
    fn every_variant_bakes_to_itself() {
        use databake::test_bake;
        test_bake!(VMType, crate::VMType::HostVM, axvmconfig);
        test_bake!(VMType, crate::VMType::RTOS, axvmconfig);
        test_bake!(ImageLocation, crate::ImageLocation::Memory, axvmconfig);
        test_bake!(VMInterruptMode, crate::VMInterruptMode::NoIrq, axvmconfig);
        test_bake!(VMInterruptMode, crate::VMInterruptMode::Emulated, axvmconfig);
        test_bake!(ConsoleMode, crate::ConsoleMode::Default, axvmconfig);
        test_bake!(VmMemMappingType, crate::VmMemMappingType::MapAlloc, axvmconfig);
        test_bake!(EntryMode, crate::EntryMode::Protected32, axvmconfig);
        test_bake!(EmulatedDeviceType, crate::EmulatedDeviceType::VirtioConsole, axvmconfig);
        test_bake!(VmMemFlags, crate::VmMemFlags::from_bits_retain(63usize), axvmconfig);
        // The types named only inside the full config, so that an unused
        // import would tell if it stopped naming one.
        let _ = (
            VmMemConfig::default(),
            VMBaseConfig::default(),
            VMKernelConfig::default(),
            VMDevicesConfig::default(),
            EmulatedDeviceConfig::default(),
            PassThroughDeviceConfig::default(),
            PassThroughNode::default(),
            PassThroughAddressConfig::default(),
        );
    }

    /// The TOML files of a folder of the repository, sorted.
    fn tomls(dir: &str) -> Vec<PathBuf> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(dir);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|entry| entry.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        files.sort();
        files
    }

    /// Every shipped config that parses bakes to a well-formed Rust
    /// expression that names the VM, its id and its memory regions.
    #[test]
    fn shipped_configs_bake_to_well_formed_rust() {
        let mut baked = 0;
        for dir in ["configs/vms", "tests/configs", "tests/configs/axvisor"] {
            for path in tomls(dir) {
                let text = std::fs::read_to_string(&path).unwrap();
                let Ok(config) = AxVMCrateConfig::from_toml(&text) else {
                    continue;
                };
                let file = path.display();
                let rust = config.to_rust();
                let expr: syn::Expr = syn::parse_str(&rust).unwrap_or_else(|e| panic!("{file}: {e}\n{rust}"));
                assert!(matches!(expr, syn::Expr::Block(_)), "{file}: not a block: {rust}");
                let name = format!("name : {:?} . to_owned ()", config.base.name);
                assert!(rust.contains(&name), "{file}: no `{name}` in {rust}");
                let id = format!("id : {}usize", config.base.id);
                assert!(rust.contains(&id), "{file}: no `{id}` in {rust}");
                assert!(!config.kernel.memory_regions.is_empty(), "{file}: no memory regions");
                for region in &config.kernel.memory_regions {
                    let size = format!("size : {}usize", region.size);
                    assert!(rust.contains(&size), "{file}: no `{size}` in {rust}");
                }
                baked += 1;
            }
        }
        assert!(baked >= 20, "only {baked} configs baked: were the folders moved?");
    }
}
