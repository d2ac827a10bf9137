//! AxVisor's keys: its QEMU configs as written, the kernel placement from an
//! arm64 Image header, node-path passthrough, excluded devices, identity
//! windows, the mapping types, and everything refused by name.

mod common;

use axvmconfig::{
    AxVMConfig, AxVMCrateConfig, ConfigError, ErrorKind, ImageSizes, TargetArch, ValidateContext, VmMemMappingType,
    check_across,
};
use common::*;

/// AxVisor's `linux-aarch64-qemu-smp1.toml`, its comments left out.
const AXVISOR_LINUX: &str = r#"
[base]
id = 1
name = "linux-qemu"
vm_type = 1
cpu_num = 1

[kernel]
image_location = "memory"
kernel_path = "tmp/Image"
memory_regions = [
  [0x8000_0000, 0x1000_0000, 0x7, 1],
]

[devices]
passthrough_devices = [
    ["/"],
]
passthrough_addresses = [
]
excluded_devices = [
]
emu_devices = [
]
interrupt_mode = "passthrough"
"#;

/// The first 64 bytes of an arm64 Image with this text_offset.
fn image_header(text_offset: u64) -> Vec<u8> {
    let mut h = vec![0u8; 64];
    h[8..16].copy_from_slice(&text_offset.to_le_bytes());
    h[16..24].copy_from_slice(&0x200_0000u64.to_le_bytes());
    h[0x38..0x3c].copy_from_slice(b"ARM\x64");
    h
}

/// Image files for the tests: `tmp/Image` is an arm64 Image, `raw.bin` a
/// raw binary.
struct Images;

impl ImageSizes for Images {
    fn image_size(&self, path: &str) -> Option<u64> {
        match path {
            "tmp/Image" | "raw.bin" => Some(0x200_0000),
            other => sizes(other),
        }
    }

    fn image_head(&self, path: &str) -> Option<Vec<u8>> {
        match path {
            "tmp/Image" => Some(image_header(0)),
            "raw.bin" => Some(vec![0x14; 64]),
            _ => None,
        }
    }
}

fn check(text: &str, arch: TargetArch) -> Vec<ConfigError> {
    let ctx = ValidateContext::new(PHYS_CPUS, &Images).with_arch(arch);
    match parse(text).validate(&ctx) {
        Ok(()) => Vec::new(),
        Err(errors) => errors,
    }
}

fn check_a64(text: &str) -> Vec<ConfigError> {
    check(text, TargetArch::Aarch64)
}

fn linux_with(edits: &[(&str, &str)]) -> String {
    let mut text = AXVISOR_LINUX.to_owned();
    for (from, to) in edits {
        assert_eq!(text.matches(from).count(), 1, "`{from}` must occur once");
        text = text.replace(from, to);
    }
    text
}

#[test]
fn axvisor_linux_config_parses_and_validates_as_written() {
    let config = parse(AXVISOR_LINUX);
    assert_eq!(config.kernel.entry_point, None);
    assert_eq!(config.kernel.kernel_load_addr, None);
    assert_eq!(config.kernel.memory_regions[0].map_type, VmMemMappingType::MapIdentical);
    let nodes = &config.devices.passthrough_nodes;
    assert_eq!(nodes.len(), 1);
    assert!(nodes[0].is_root());
    assert!(config.devices.passthrough_devices.is_empty());
    assert_eq!(check_a64(AXVISOR_LINUX), vec![]);
}

#[test]
fn kernel_placement_comes_from_the_image_header() {
    let mut config = parse(AXVISOR_LINUX);
    let placement = config
        .apply_kernel_placement(&image_header(0x8_0000), TargetArch::Aarch64)
        .unwrap()
        .expect("taken from the header");
    assert_eq!(
        placement.load_addr, 0x8008_0000,
        "RAM base (2 MiB aligned) + text_offset"
    );
    assert_eq!(placement.entry_point, 0x8008_0000);
    assert!(placement.to_string().contains("text_offset 0x80000"), "{placement}");
    assert!(config.kernel.linux_image);
    // A Linux image gets a generated tree, at the end of the region (the
    // kernel is at its start).
    let vm = AxVMConfig::from(config);
    assert_eq!(vm.bsp_entry(), 0x8008_0000);
    assert_eq!(vm.image_config().kernel_load_gpa, 0x8008_0000);
    assert_eq!(
        vm.image_config().dtb_load_gpa,
        Some(0x8000_0000),
        "before the kernel at +0x80000"
    );

    // A RAM region that does not start on 2 MiB: the next boundary.
    let mut config = parse(&linux_with(&[(
        "[0x8000_0000, 0x1000_0000, 0x7, 1]",
        "[0x8010_0000, 0x1000_0000, 0x7, 1]",
    )]));
    let p = config
        .apply_kernel_placement(&image_header(0), TargetArch::Aarch64)
        .unwrap()
        .unwrap();
    assert_eq!(p.load_addr, 0x8020_0000);

    // What the config gives is kept: only the missing key is derived.
    let mut config = parse(&linux_with(&[(
        "kernel_path",
        "kernel_load_addr = 0x8040_0000\nkernel_path",
    )]));
    let p = config
        .apply_kernel_placement(&image_header(0), TargetArch::Aarch64)
        .unwrap()
        .unwrap();
    assert_eq!((p.load_addr, p.entry_point), (0x8040_0000, 0x8040_0000));
}

#[test]
fn a_raw_binary_needs_entry_point_and_load_address() {
    let errors = check_a64(&linux_with(&[("\"tmp/Image\"", "\"raw.bin\"")]));
    assert_eq!(errors.len(), 2, "{errors:#?}");
    for field in ["kernel.entry_point", "kernel.kernel_load_addr"] {
        expect(
            &errors,
            field,
            ErrorKind::MissingKey,
            "required for a raw binary kernel",
        );
    }
    let errors = check_a64(&linux_with(&[(
        "\"tmp/Image\"",
        "\"raw.bin\"\nentry_point = 0x8000_0000",
    )]));
    expect_only(&errors, "kernel.kernel_load_addr", ErrorKind::MissingKey, "raw binary");
    let mut config = parse(&linux_with(&[("\"tmp/Image\"", "\"raw.bin\"")]));
    assert!(config.apply_kernel_placement(&[0x14; 64], TargetArch::Aarch64).is_err());
}

#[test]
fn an_unknown_image_on_x86_needs_both_keys() {
    let ctx = ValidateContext::new(PHYS_CPUS, &Images).with_arch(TargetArch::X86_64);
    let errors = parse(AXVISOR_LINUX)
        .kernel_placement(Some(&image_header(0)), ctx.arch())
        .unwrap_err();
    assert_eq!(errors.len(), 2);
    assert!(
        errors.iter().all(|e| e.problem() == "is required but missing"),
        "{errors:#?}"
    );
}

#[test]
fn header_placement_is_checked_like_a_written_one() {
    // 1 MiB of RAM cannot hold a 32 MiB kernel at its first 2 MiB boundary.
    let errors = check_a64(&linux_with(&[("0x1000_0000, 0x7, 1]", "0x10_0000, 0x7, 1]")]));
    assert!(
        errors
            .iter()
            .any(|e| e.field() == "kernel.kernel_load_addr" && e.kind() == ErrorKind::OutsideMemory),
        "{errors:#?}"
    );
}

#[test]
fn emulated_device_types_without_a_model_are_refused_by_name() {
    for (code, name) in [
        ("0xE1", "virtio-blk"),
        ("0xE2", "virtio-net"),
        ("0xE3", "virtio-console"),
        ("0xA", "ivc-channel"),
        ("0x22", "gppt-its"),
        ("0x6", "iommu"),
    ] {
        let text = linux_with(&[(
            "emu_devices = [\n]",
            &format!(
                "emu_devices = [\n  [\"ok\", 0x0a00_0000, 0x1000, 0, 0x0, []],\n  [\"x\", 0x0b00_0000, 0x1000, 0, {code}, []],\n]"
            ),
        )]);
        let errors = check_a64(&text);
        let problem = format!("type {code} ({name}");
        expect_only(&errors, "devices.emu_devices[1]", ErrorKind::InvalidValue, &problem);
        assert!(errors[0].problem().ends_with("is not supported yet"), "{errors:#?}");
    }
}

#[test]
fn gic_partial_passthrough_and_interrupt_controller_entries_are_accepted() {
    let text = linux_with(&[(
        "emu_devices = [\n]",
        "emu_devices = [\n  [\"gppt-gicd\", 0x0800_0000, 0x1_0000, 0, 0x21, []],\n  \
         [\"gppt-gicr\", 0x080a_0000, 0x2_0000, 0, 0x20, [1, 0x2_0000, 0]],\n  [\"vgic\", 0x0800_0000, 0x1_0000, 0, 0x1, []],\n]",
    )]);
    let errors = check_a64(&text);
    // Only the two entries placing one distributor collide.
    assert!(errors.iter().all(|e| e.kind() == ErrorKind::Overlap), "{errors:#?}");
    assert_eq!(errors.len(), 1, "{errors:#?}");
}

#[test]
fn parameter_lists_that_would_be_ignored_are_refused() {
    // The redistributors' [vcpus, stride, first host CPU] must describe the
    // emulated ones: one per vCPU (the Linux config has 1) every 0x20000.
    for (cfg, ok) in [
        ("[]", true),
        ("[1]", true),
        ("[1, 0x2_0000, 3]", true),
        ("[2, 0x2_0000, 0]", false),
        ("[1, 0x1_0000, 0]", false),
        ("[1, 0x2_0000, 0, 9]", false),
    ] {
        let text = linux_with(&[(
            "emu_devices = [\n]",
            &format!("emu_devices = [\n  [\"gppt-gicr\", 0x080a_0000, 0x2_0000, 0, 0x20, {cfg}],\n]"),
        )]);
        let errors = check_a64(&text);
        if ok {
            assert_eq!(errors, vec![], "{cfg}");
        } else {
            expect_only(&errors, "devices.emu_devices[0].cfg_list", ErrorKind::InvalidValue, "");
        }
    }
    // A device that takes no parameters.
    let text = linux_with(&[(
        "emu_devices = [\n]",
        "emu_devices = [\n  [\"uart\", 0x0a00_0000, 0x1000, 33, 0x2, [115200]],\n]",
    )]);
    expect_only(
        &check_a64(&text),
        "devices.emu_devices[0].cfg_list",
        ErrorKind::InvalidValue,
        "takes no parameters",
    );
}

#[test]
fn images_on_a_filesystem_and_disks_are_refused() {
    let errors = check_a64(&linux_with(&[(
        "image_location = \"memory\"",
        "image_location = \"fs\"",
    )]));
    expect(
        &errors,
        "kernel.image_location",
        ErrorKind::InvalidValue,
        "no filesystem",
    );
    let errors = check_a64(&linux_with(&[("kernel_path", "disk_path = \"disk.img\"\nkernel_path")]));
    expect_only(
        &errors,
        "kernel.disk_path",
        ErrorKind::InvalidValue,
        "not supported yet",
    );
}

#[test]
fn mapping_types_by_number_and_name() {
    let config = parse(&linux_with(&[(
        "[0x8000_0000, 0x1000_0000, 0x7, 1],",
        "[0x8000_0000, 0x1000_0000, 0x7, 1],\n  [0x9000_0000, 0x10_0000, 0x7, 2],\n  { gpa = 0xa000_0000, size = 0x1000, flags = \"rw\", map = \"reserved\" },",
    )]));
    let types: Vec<_> = config.kernel.memory_regions.iter().map(|r| r.map_type).collect();
    assert_eq!(
        types,
        [
            VmMemMappingType::MapIdentical,
            VmMemMappingType::MapReserved,
            VmMemMappingType::MapReserved
        ]
    );
    let errors = parse_errors(&linux_with(&[("0x7, 1]", "0x7, 3]")]));
    expect_only(&errors, "kernel.memory_regions[0].map", ErrorKind::InvalidValue, "0x3");
}

#[test]
fn passthrough_entries_by_node_path_in_both_forms() {
    let config = parse(&linux_with(&[(
        "[\"/\"],",
        "[\"/\"],\n    { node = \"/pl061@9030000\" },\n    [\"rtc\", 0x0901_0000, 0x0901_0000, 0x1000, 34],",
    )]));
    let nodes = &config.devices.passthrough_nodes;
    assert_eq!(
        nodes.iter().map(|n| (n.index, n.path.as_str())).collect::<Vec<_>>(),
        [(0, "/"), (1, "/pl061@9030000")]
    );
    assert_eq!(config.devices.passthrough_devices.len(), 1);
    assert_eq!(
        check_a64(&linux_with(&[("[\"/\"],", "[\"/\"], { node = \"/pl061@9030000\" },")])),
        vec![]
    );

    let errors = parse_errors(&linux_with(&[("[\"/\"],", "[\"/\", 0x1000],")]));
    expect_only(
        &errors,
        "devices.passthrough_devices[0]",
        ErrorKind::WrongType,
        "or [node path]",
    );
    let errors = parse_errors(&linux_with(&[("[\"/\"],", "[1],")]));
    expect_only(
        &errors,
        "devices.passthrough_devices[0]",
        ErrorKind::WrongType,
        "a string",
    );
}

#[test]
fn malformed_node_paths_are_refused() {
    let errors = check_a64(&linux_with(&[(
        "[\"/\"],",
        "[\"/\"], [\"pl031@9010000\"], [\"/a//b\"], [\"/\"],",
    )]));
    assert_eq!(errors.len(), 3, "{errors:#?}");
    expect(
        &errors,
        "devices.passthrough_devices[1]",
        ErrorKind::InvalidValue,
        "not a host device-tree node path",
    );
    expect(
        &errors,
        "devices.passthrough_devices[2]",
        ErrorKind::InvalidValue,
        "\"/a//b\"",
    );
    expect(
        &errors,
        "devices.passthrough_devices[3]",
        ErrorKind::InvalidValue,
        "listed twice",
    );
}

#[test]
fn excluded_devices_in_both_forms_and_refused_when_pointless() {
    let config = parse(&linux_with(&[(
        "excluded_devices = [\n]",
        "excluded_devices = [\n  [\"/pcie@10000000\"],\n  \"/flash@0\",\n]",
    )]));
    assert_eq!(config.devices.excluded_devices, ["/pcie@10000000", "/flash@0"]);
    let errors = check_a64(&linux_with(&[(
        "excluded_devices = [\n]",
        "excluded_devices = [[\"pcie\"], [\"/\"]]",
    )]));
    expect(
        &errors,
        "devices.excluded_devices[0]",
        ErrorKind::InvalidValue,
        "not a host device-tree node path",
    );
    expect(
        &errors,
        "devices.excluded_devices[1]",
        ErrorKind::InvalidValue,
        "below the root",
    );
    let errors = check_a64(&linux_with(&[
        ("[\"/\"],", "[\"/pl031@9010000\"],"),
        ("excluded_devices = [\n]", "excluded_devices = [[\"/flash@0\"]]"),
    ]));
    expect_only(
        &errors,
        "devices.excluded_devices[0]",
        ErrorKind::InvalidValue,
        "has no [\"/\"]",
    );
    let errors = parse_errors(&linux_with(&[(
        "excluded_devices = [\n]",
        "excluded_devices = [[\"/a\", \"/b\"]]",
    )]));
    expect_only(
        &errors,
        "devices.excluded_devices[0]",
        ErrorKind::WrongType,
        "2 elements",
    );
}

#[test]
fn node_paths_do_not_exist_on_x86() {
    let errors = check(AXVISOR_LINUX, TargetArch::X86_64);
    expect(
        &errors,
        "devices.passthrough_devices",
        ErrorKind::InvalidValue,
        "no device tree",
    );
}

#[test]
fn passthrough_addresses_in_both_forms_and_their_checks() {
    let config = parse(&linux_with(&[(
        "passthrough_addresses = [\n]",
        "passthrough_addresses = [[0x2804_1000, 0x100_0000], { gpa = 0x3000_0000, size = 0x1000 }]",
    )]));
    let w = &config.devices.passthrough_addresses;
    assert_eq!(
        (w[0].base_gpa, w[0].length, w[1].base_gpa),
        (0x2804_1000, 0x100_0000, 0x3000_0000)
    );
    let vm = AxVMConfig::from(config);
    assert_eq!(vm.pass_through_addresses().len(), 2);

    let errors = check_a64(&linux_with(&[(
        "passthrough_addresses = [\n]",
        "passthrough_addresses = [[0x2804_1000, 0], [0x2810_0800, 0x1000], [0x8fff_f000, 0x2000], [0x2804_2000, 0x2000], [0x2804_3000, 0x1000]]",
    )]));
    assert_eq!(errors.len(), 4, "{errors:#?}");
    expect(
        &errors,
        "devices.passthrough_addresses[0].size",
        ErrorKind::InvalidValue,
        "zero",
    );
    expect(
        &errors,
        "devices.passthrough_addresses[1]",
        ErrorKind::Misaligned,
        "4 KiB",
    );
    expect(
        &errors,
        "devices.passthrough_addresses[2]",
        ErrorKind::Overlap,
        "kernel.memory_regions[0]",
    );
    expect(
        &errors,
        "devices.passthrough_addresses[4]",
        ErrorKind::Overlap,
        "passthrough_addresses[3]",
    );
    let errors = parse_errors(&linux_with(&[(
        "passthrough_addresses = [\n]",
        "passthrough_addresses = [[0x1000]]",
    )]));
    expect_only(
        &errors,
        "devices.passthrough_addresses[0]",
        ErrorKind::WrongType,
        "[base_gpa, length]",
    );
}

#[test]
fn identical_ram_of_two_configs_must_not_overlap() {
    let a = parse(AXVISOR_LINUX);
    let b = parse(&linux_with(&[(
        "[0x8000_0000, 0x1000_0000, 0x7, 1]",
        "[0x8800_0000, 0x1000_0000, 0x7, 2]",
    )]));
    let alloc = parse(&linux_with(&[("0x7, 1]", "0x7, 0]")]));
    let apart = parse(&linux_with(&[(
        "[0x8000_0000, 0x1000_0000, 0x7, 1]",
        "[0x9000_0000, 0x1000_0000, 0x7, 1]",
    )]));
    assert_eq!(
        check_across(&[("a.toml", &a), ("alloc.toml", &alloc), ("apart.toml", &apart)]),
        vec![]
    );
    let errors = check_across(&[("a.toml", &a), ("apart.toml", &apart), ("b.toml", &b)]);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    let text = errors[0].to_string();
    assert_eq!(
        text,
        "b.toml: kernel.memory_regions[0]: reserved host memory [0x88000000, 0x98000000) overlaps a.toml's \
         kernel.memory_regions[0] [0x80000000, 0x90000000): two VMs cannot have the same host memory\n\
         b.toml: kernel.memory_regions[0]: reserved host memory [0x88000000, 0x98000000) overlaps apart.toml's \
         kernel.memory_regions[0] [0x90000000, 0xa0000000): two VMs cannot have the same host memory"
    );
}

#[test]
fn phys_cpu_ids_as_axvisor_writes_them() {
    let config = parse(&linux_with(&[("cpu_num = 1", "cpu_num = 1\nphys_cpu_ids = [0]")]));
    assert_eq!(config.base.phys_cpu_ids.as_deref(), Some(&[0][..]));
    let _ = AxVMCrateConfig::default();
}
