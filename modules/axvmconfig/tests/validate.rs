//! Validation: each cross-field check names the field it is about.

mod common;

use axvmconfig::{AxVMCrateConfig, ErrorKind, ValidateContext};
use common::*;

#[test]
fn good_configs_are_valid() {
    assert_eq!(validate_errors(GOOD_NAMED), vec![]);
    assert_eq!(validate_errors(GOOD_POSITIONAL), vec![]);
}

// ---- vCPUs ---------------------------------------------------------------

#[test]
fn zero_vcpus() {
    let errors = validate_errors(&named_with(&[
        ("cpu_num = 2", "cpu_num = 0"),
        ("phys_cpu_ids = [0x0, 0x1]\n", ""),
        ("phys_cpu_sets = [0b01, 0b10]\n", ""),
    ]));
    expect_only(&errors, "base.cpu_num", ErrorKind::Cpu, "at least 1");
}

#[test]
fn more_vcpus_than_physical_cpus() {
    let errors = validate_errors_with(GOOD_NAMED, 1, &sizes);
    let e = expect(&errors, "base.cpu_num", ErrorKind::Cpu, "only 1 physical");
    assert!(e.problem().contains("2 vCPUs"), "{e}");
}

#[test]
fn phys_cpu_lists_must_have_one_entry_per_vcpu() {
    let errors = validate_errors(&named_with(&[
        ("phys_cpu_ids = [0x0, 0x1]", "phys_cpu_ids = [0x0, 0x1, 0x2]"),
        ("phys_cpu_sets = [0b01, 0b10]", "phys_cpu_sets = [0b01]"),
    ]));
    assert_eq!(errors.len(), 2, "{errors:#?}");
    expect(
        &errors,
        "base.phys_cpu_ids",
        ErrorKind::Cpu,
        "has 3 entries, but base.cpu_num is 2",
    );
    expect(
        &errors,
        "base.phys_cpu_sets",
        ErrorKind::Cpu,
        "has 1 entries, but base.cpu_num is 2",
    );
}

#[test]
fn bad_cpu_masks_and_duplicate_ids() {
    let errors = validate_errors(&named_with(&[
        ("phys_cpu_ids = [0x0, 0x1]", "phys_cpu_ids = [0x1, 0x1]"),
        ("phys_cpu_sets = [0b01, 0b10]", "phys_cpu_sets = [0b1_0000, 0]"),
    ]));
    assert_eq!(errors.len(), 3, "{errors:#?}");
    expect(&errors, "base.phys_cpu_ids[1]", ErrorKind::Cpu, "vCPU 0");
    expect(&errors, "base.phys_cpu_sets[0]", ErrorKind::Cpu, "beyond the 4");
    expect(
        &errors,
        "base.phys_cpu_sets[1]",
        ErrorKind::Cpu,
        "selects no physical CPU",
    );
}

// ---- memory regions -----------------------------------------------------

#[test]
fn no_memory_regions() {
    let text = "[base]\nid = 1\nname = \"x\"\ncpu_num = 1\n[kernel]\nentry_point = 0\n\
                kernel_path = \"images/Image\"\nkernel_load_addr = 0\nmemory_regions = []\n";
    let errors = validate_errors(text);
    expect(
        &errors,
        "kernel.memory_regions",
        ErrorKind::InvalidValue,
        "at least one RAM region",
    );
    // The entry point is not reported as well: that would only repeat the same problem.
    assert!(errors.iter().all(|e| e.field() != "kernel.entry_point"), "{errors:#?}");
}

#[test]
fn empty_region() {
    let errors = validate_errors(&named_with(&[(
        "size = 0x1000\nflags = \"rwd\"",
        "size = 0\nflags = \"rwd\"",
    )]));
    expect_only(
        &errors,
        "kernel.memory_regions[1].size",
        ErrorKind::InvalidValue,
        "must not be zero",
    );
}

#[test]
fn overflowing_region() {
    let errors = validate_errors(&named_with(&[(
        "gpa = 0x0a00_0000\nsize = 0x1000\n",
        "gpa = 0xffff_ffff_ffff_f000\nsize = 0x2000\n",
    )]));
    expect_only(
        &errors,
        "kernel.memory_regions[1].size",
        ErrorKind::Overflow,
        "overflows",
    );
}

#[test]
fn misaligned_region() {
    let errors = validate_errors(&named_with(&[(
        "gpa = 0x0a00_0000\nsize = 0x1000\n",
        "gpa = 0x0a00_0800\nsize = 0x1800\n",
    )]));
    assert_eq!(errors.len(), 2, "{errors:#?}");
    expect(
        &errors,
        "kernel.memory_regions[1].gpa",
        ErrorKind::Misaligned,
        "0xa000800",
    );
    expect(
        &errors,
        "kernel.memory_regions[1].size",
        ErrorKind::Misaligned,
        "0x1800",
    );
}

#[test]
fn overlapping_regions() {
    let errors = validate_errors(&named_with(&[("gpa = 0x0a00_0000\n", "gpa = 0x4fff_f000\n")]));
    let e = expect_only_field(&errors, "kernel.memory_regions[1]", ErrorKind::Overlap);
    assert!(e.contains("kernel.memory_regions[0]"), "{e}");
}

#[test]
fn adjacent_ranges_do_not_overlap() {
    // RAM right after RAM, and a device right after another.
    let text = named_with(&[
        (
            "gpa = 0x0a00_0000\nsize = 0x1000\nflags = \"rwd\"",
            "gpa = 0x5000_0000\nsize = 0x1000\nflags = \"rw\"",
        ),
        ("gpa = 0x0901_0000, hpa", "gpa = 0x0900_1000, hpa"),
    ]);
    assert_eq!(validate_errors(&text), vec![]);
}

fn expect_only_field(errors: &[axvmconfig::ConfigError], field: &str, kind: ErrorKind) -> String {
    assert_eq!(errors.len(), 1, "{errors:#?}");
    expect(errors, field, kind, "").problem().to_owned()
}

// ---- entry point and images ---------------------------------------------

#[test]
fn entry_point_outside_executable_memory() {
    // Inside RAM, but RAM is not executable.
    let errors = validate_errors(&named_with(&[("flags = \"rwx\"", "flags = \"rw\"")]));
    expect_only(&errors, "kernel.entry_point", ErrorKind::OutsideMemory, "0x40200000");
    // Outside every region.
    let errors = validate_errors(&named_with(&[(
        "entry_point = 0x4020_0000",
        "entry_point = 0x3000_0000",
    )]));
    expect_only(&errors, "kernel.entry_point", ErrorKind::OutsideMemory, "executable");
}

#[test]
fn load_address_outside_ram() {
    let errors = validate_errors(&named_with(&[
        ("kernel_load_addr = 0x4020_0000", "kernel_load_addr = 0x3000_0000"),
        // A device region is not RAM.
        ("dtb_load_addr = 0x4000_0000", "dtb_load_addr = 0x0a00_0000"),
    ]));
    assert_eq!(errors.len(), 2, "{errors:#?}");
    expect(
        &errors,
        "kernel.kernel_load_addr",
        ErrorKind::OutsideMemory,
        "0x30000000",
    );
    expect(&errors, "kernel.dtb_load_addr", ErrorKind::OutsideMemory, "RAM");
}

#[test]
fn image_does_not_fit_its_region() {
    let errors = validate_errors(&named_with(&[(
        "ramdisk_load_addr = 0x4800_0000",
        "ramdisk_load_addr = 0x4fe0_0000",
    )]));
    let e = expect(
        &errors,
        "kernel.ramdisk_load_addr",
        ErrorKind::OutsideMemory,
        "past the end of kernel.memory_regions[0]",
    );
    assert!(e.problem().contains("0x400000 bytes"), "{e}");
    assert_eq!(errors.len(), 1, "{errors:#?}");
}

#[test]
fn missing_image_file() {
    let no_dtb = |path: &str| {
        if path == "images/linux.dtb" { None } else { sizes(path) }
    };
    let errors = validate_errors_with(GOOD_NAMED, PHYS_CPUS, &no_dtb);
    expect_only(
        &errors,
        "kernel.dtb_path",
        ErrorKind::MissingImage,
        "\"images/linux.dtb\"",
    );

    // Images read from the target's filesystem: the build cannot check
    // them, and this hypervisor has no filesystem, which is the one error.
    let fs = named_with(&[("image_location = \"memory\"", "image_location = \"fs\"")]);
    let errors = validate_errors_with(&fs, PHYS_CPUS, &no_dtb);
    expect_only(
        &errors,
        "kernel.image_location",
        ErrorKind::InvalidValue,
        "no filesystem",
    );
}

#[test]
fn image_path_without_load_address() {
    let errors = validate_errors(&named_with(&[("dtb_load_addr = 0x4000_0000\n", "")]));
    expect_only(
        &errors,
        "kernel.dtb_load_addr",
        ErrorKind::MissingKey,
        "kernel.dtb_path",
    );
}

#[test]
fn bios_image_is_checked_too() {
    let errors = validate_errors(&named_with(&[(
        "image_location",
        "bios_path = \"images/bios.bin\"\nbios_load_addr = 0x4020_8000\nimage_location",
    )]));
    let e = expect(&errors, "kernel.bios_load_addr", ErrorKind::Overlap, "kernel image");
    assert!(e.problem().starts_with("bios image"), "{e}");
}

#[test]
fn overlapping_images() {
    let errors = validate_errors(&named_with(&[(
        "dtb_load_addr = 0x4000_0000",
        "dtb_load_addr = 0x409f_f000",
    )]));
    let e = expect(
        &errors,
        "kernel.dtb_load_addr",
        ErrorKind::Overlap,
        "overlaps the kernel image",
    );
    assert!(e.problem().contains("[0x40200000, 0x40a00000)"), "{e}");
    assert_eq!(errors.len(), 1, "{errors:#?}");
}

// ---- devices ------------------------------------------------------------

#[test]
fn devices_overlapping_each_other() {
    let errors = validate_errors(&named_with(&[
        // The UART on top of the distributor.
        (
            "gpa = 0x0900_0000, size = 0x1000, irq = 33",
            "gpa = 0x0800_f000, size = 0x1000, irq = 33",
        ),
        // The passthrough RTC on top of the UART's old place: no longer overlapping.
    ]));
    let e = expect(
        &errors,
        "devices.emu_devices[2]",
        ErrorKind::Overlap,
        "devices.emu_devices[0]",
    );
    assert!(e.problem().contains("[0x800f000, 0x8010000)"), "{e}");
    assert_eq!(errors.len(), 1, "{errors:#?}");

    let errors = validate_errors(&named_with(&[("gpa = 0x0901_0000, hpa", "gpa = 0x0800_0000, hpa")]));
    expect_only(
        &errors,
        "devices.passthrough_devices[0]",
        ErrorKind::Overlap,
        "devices.emu_devices[0]",
    );
}

#[test]
fn devices_overlapping_memory() {
    let errors = validate_errors(&named_with(&[("gpa = 0x0901_0000, hpa", "gpa = 0x4fff_f000, hpa")]));
    expect_only(
        &errors,
        "devices.passthrough_devices[0]",
        ErrorKind::Overlap,
        "RAM region kernel.memory_regions[0]",
    );

    // An emulated device must not sit in a device memory region either.
    let errors = validate_errors(&named_with(&[(
        "gpa = 0x0900_0000, size = 0x1000, irq = 33",
        "gpa = 0x0a00_0000, size = 0x1000, irq = 33",
    )]));
    expect_only(
        &errors,
        "devices.emu_devices[2]",
        ErrorKind::Overlap,
        "kernel.memory_regions[1]",
    );

    // A passthrough device may sit in a device memory region.
    let errors = validate_errors(&named_with(&[("gpa = 0x0901_0000, hpa", "gpa = 0x0a00_0000, hpa")]));
    assert_eq!(errors, vec![]);
}

#[test]
fn zero_size_and_overflowing_devices() {
    let errors = validate_errors(&named_with(&[
        ("gpa = 0x0900_0000, size = 0x1000", "gpa = 0x0900_0000, size = 0"),
        (
            "hpa = 0x0901_0000, size = 0x1000",
            "hpa = 0xffff_ffff_ffff_f000, size = 0x2000",
        ),
    ]));
    assert_eq!(errors.len(), 2, "{errors:#?}");
    expect(
        &errors,
        "devices.emu_devices[2].size",
        ErrorKind::InvalidValue,
        "must not be zero",
    );
    expect(
        &errors,
        "devices.passthrough_devices[0].hpa",
        ErrorKind::Overflow,
        "overflows",
    );
}

#[test]
fn port_io_devices_live_in_their_own_space() {
    let x86 = "[base]\nid = 2\nname = \"x86\"\ncpu_num = 1\n[kernel]\nentry_point = 0x10_0000\n\
               kernel_path = \"images/Image\"\nkernel_load_addr = 0x10_0000\n\
               memory_regions = [{ gpa = 0, size = 0x1000_0000, flags = \"rwx\" }]\n[devices]\n";
    // COM1 at port 0x3f8 does not collide with RAM at guest address 0x3f8.
    let good =
        format!("{x86}emu_devices = [{{ name = \"com1\", type = \"uart16550\", gpa = 0x3f8, size = 8, irq = 4 }}]\n");
    assert_eq!(validate_errors_x86(&good), vec![]);

    let bad = format!(
        "{x86}emu_devices = [\n  {{ name = \"com1\", type = \"uart16550\", gpa = 0x3f8, size = 8 }},\n  \
         {{ name = \"com9\", type = \"uart16550\", gpa = 0xfffc, size = 8 }},\n  \
         {{ name = \"com2\", type = \"uart16550\", gpa = 0x3fc, size = 8 }},\n]\n"
    );
    let errors = validate_errors_x86(&bad);
    assert_eq!(errors.len(), 2, "{errors:#?}");
    expect(
        &errors,
        "devices.emu_devices[1].size",
        ErrorKind::InvalidValue,
        "0xffff",
    );
    expect(
        &errors,
        "devices.emu_devices[2]",
        ErrorKind::Overlap,
        "devices.emu_devices[0]",
    );
}

// ---- all at once ---------------------------------------------------------

#[test]
fn several_problems_are_all_reported() {
    let errors = validate_errors_with(
        &named_with(&[
            ("size = 0x1000\nflags = \"rwd\"", "size = 0x1001\nflags = \"rwd\""),
            ("dtb_load_addr = 0x4000_0000", "dtb_load_addr = 0x3000_0000"),
            ("gpa = 0x0900_0000, size = 0x1000", "gpa = 0x0900_0000, size = 0"),
        ]),
        1,
        &sizes,
    );
    let mut fields: Vec<&str> = errors.iter().map(|e| e.field()).collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        [
            "base.cpu_num",
            "base.phys_cpu_sets[1]",
            "devices.emu_devices[2].size",
            "kernel.dtb_load_addr",
            "kernel.memory_regions[1].size",
        ],
        "{errors:#?}"
    );
}

#[test]
fn validate_accepts_a_trait_object_of_any_image_source() {
    struct Fixed;
    impl axvmconfig::ImageSizes for Fixed {
        fn image_size(&self, _: &str) -> Option<u64> {
            Some(0x1000)
        }
    }
    let config: AxVMCrateConfig = parse(GOOD_NAMED);
    assert_eq!(config.validate(&ValidateContext::new(2, &Fixed)), Ok(()));
}

#[test]
fn small_pages_only_for_alloc_regions() {
    let errors = validate_errors(&named_with(&[(
        "map = \"identical\"",
        "map = \"identical\"\nsmall_pages = true",
    )]));
    expect_only(
        &errors,
        "kernel.memory_regions[1].small_pages",
        ErrorKind::InvalidValue,
        "map = \"identical\"",
    );
    let good = named_with(&[("map = \"alloc\"", "map = \"alloc\"\nsmall_pages = true")]);
    assert_eq!(validate_errors(&good), [], "an alloc region may ask for it");
}
