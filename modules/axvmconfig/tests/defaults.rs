//! What the hypervisor fills in when a config leaves it out: the place of a
//! Linux VM's generated device tree and the default console, as the
//! checker, the runtime config and the log line see them.

mod common;

use axvmconfig::{
    AppliedDefault, AxVMConfig, ConfigFileError, ConsoleMode, DEFAULT_CONSOLE, DefaultDtbPlace, DtbPlacement,
    EmulatedDeviceType, ErrorKind, GENERATED_DTB_MAX_SIZE, Location,
};
use common::*;

/// A Linux VM with the kernel at the start of its only RAM region, a
/// ramdisk, and nothing else: no device tree keys, no `[devices]`.
const MINIMAL: &str = r#"
[base]
id = 1
name = "min"
vm_type = "linux"
cpu_num = 1

[kernel]
entry_point = 0x4000_0000
kernel_path = "images/Image"
kernel_load_addr = 0x4000_0000
ramdisk_path = "images/initrd.gz"
ramdisk_load_addr = 0x4800_0000
memory_regions = [{ gpa = 0x4000_0000, size = 0x1000_0000, flags = "rwx" }]
"#;

/// `MINIMAL` with each `from` (which must occur once) replaced by `to`.
fn minimal_with(edits: &[(&str, &str)]) -> String {
    let mut text = MINIMAL.to_owned();
    for (from, to) in edits {
        assert_eq!(text.matches(from).count(), 1, "`{from}` must occur once");
        text = text.replace(from, to);
    }
    text
}

fn vm(text: &str) -> AxVMConfig {
    AxVMConfig::from(parse(text))
}

// ---- the device tree's default place ----------------------------------

#[test]
fn kernel_at_ram_start_puts_the_tree_at_the_end_of_ram() {
    let config = parse(MINIMAL);
    let place = DefaultDtbPlace {
        gpa: 0x5000_0000 - GENERATED_DTB_MAX_SIZE,
        region: 0,
        at_end: true,
    };
    assert_eq!(config.dtb_placement(), DtbPlacement::Default(place));
    assert_eq!(validate_errors(MINIMAL), vec![], "the default place is free");

    let vm = AxVMConfig::from(config);
    assert_eq!(vm.image_config().dtb_load_gpa, Some(0x4fff_0000));
    assert_eq!(vm.applied_defaults()[0], AppliedDefault::DtbLoadAddr(place));
    assert_eq!(
        vm.applied_defaults()[0].to_string(),
        "no dtb_load_addr in the config; the generated device tree goes at 0x4fff0000 \
         (the last 0x10000 bytes of kernel.memory_regions[0])"
    );
}

#[test]
fn kernel_elsewhere_puts_the_tree_at_the_start_of_ram() {
    let text = minimal_with(&[
        ("entry_point = 0x4000_0000", "entry_point = 0x4020_0000"),
        ("kernel_load_addr = 0x4000_0000", "kernel_load_addr = 0x4020_0000"),
    ]);
    let place = DefaultDtbPlace {
        gpa: 0x4000_0000,
        region: 0,
        at_end: false,
    };
    assert_eq!(parse(&text).dtb_placement(), DtbPlacement::Default(place));
    assert_eq!(validate_errors(&text), vec![]);
    let vm = vm(&text);
    assert_eq!(vm.image_config().dtb_load_gpa, Some(0x4000_0000));
    assert!(
        vm.applied_defaults()[0]
            .to_string()
            .ends_with("(the first 0x10000 bytes of kernel.memory_regions[0])")
    );
}

#[test]
fn the_start_is_taken_only_by_an_image_loaded_in_the_trees_room() {
    // A ramdisk right after the room (0x4000_0000 + 0x1_0000) leaves the start free.
    let after = minimal_with(&[
        ("entry_point = 0x4000_0000", "entry_point = 0x4100_0000"),
        ("kernel_load_addr = 0x4000_0000", "kernel_load_addr = 0x4100_0000"),
        ("ramdisk_load_addr = 0x4800_0000", "ramdisk_load_addr = 0x4001_0000"),
    ]);
    assert_eq!(parse(&after).dtb_placement().gpa(), Some(0x4000_0000));
    assert_eq!(validate_errors(&after), vec![]);
    // One byte earlier it starts inside it: the tree goes to the end.
    let inside = after.replace("ramdisk_load_addr = 0x4001_0000", "ramdisk_load_addr = 0x4000_f000");
    assert_eq!(parse(&inside).dtb_placement().gpa(), Some(0x4fff_0000));
}

#[test]
fn the_tree_goes_in_the_first_ram_region_not_a_device_region() {
    let text = minimal_with(&[(
        "memory_regions = [",
        "memory_regions = [{ gpa = 0x0a00_0000, size = 0x1000, flags = \"rwd\", map = \"identical\" }, ",
    )]);
    match parse(&text).dtb_placement() {
        DtbPlacement::Default(place) => assert_eq!((place.gpa, place.region), (0x4fff_0000, 1)),
        other => panic!("{other:?}"),
    }
    assert_eq!(validate_errors(&text), vec![]);
}

#[test]
fn a_given_address_is_kept_and_only_linux_gets_a_default() {
    let given = minimal_with(&[("ramdisk_path", "dtb_load_addr = 0x4c00_0000\nramdisk_path")]);
    assert_eq!(parse(&given).dtb_placement(), DtbPlacement::Given(0x4c00_0000));
    let vm = vm(&given);
    assert_eq!(vm.image_config().dtb_load_gpa, Some(0x4c00_0000));
    assert!(
        !vm.applied_defaults()
            .iter()
            .any(|d| matches!(d, AppliedDefault::DtbLoadAddr(_)))
    );

    // Other guests get a tree only where the config asks for one (x0 = 0).
    let rtos = minimal_with(&[("vm_type = \"linux\"", "vm_type = \"rtos\"")]);
    assert_eq!(parse(&rtos).dtb_placement(), DtbPlacement::None);
    assert_eq!(vm_dtb(&rtos), None);
    assert_eq!(validate_errors(&rtos), vec![]);

    // A given tree file still needs its address.
    let file = minimal_with(&[("ramdisk_path", "dtb_path = \"images/linux.dtb\"\nramdisk_path")]);
    assert_eq!(parse(&file).dtb_placement(), DtbPlacement::None);
    expect_only(
        &validate_errors(&file),
        "kernel.dtb_load_addr",
        ErrorKind::MissingKey,
        "kernel.dtb_path",
    );
}

fn vm_dtb(text: &str) -> Option<usize> {
    vm(text).image_config().dtb_load_gpa
}

// ---- what the checker refuses -----------------------------------------

#[test]
fn default_place_overlapping_an_image_is_refused() {
    // Kernel at the start, ramdisk at the very end: no room left.
    let text = minimal_with(&[("ramdisk_load_addr = 0x4800_0000", "ramdisk_load_addr = 0x4fc0_0000")]);
    let errors = validate_errors(&text);
    let e = expect(&errors, "kernel.dtb_load_addr", ErrorKind::Overlap, "not set");
    assert_eq!(
        e.problem(),
        "not set, and the default place of the generated device tree, [0x4fff0000, 0x50000000) \
         (the last 0x10000 bytes of kernel.memory_regions[0]), overlaps the ramdisk image \
         [0x4fc00000, 0x50000000); set kernel.dtb_load_addr to free RAM"
    );
    assert_eq!(errors.len(), 1, "{errors:#?}");
    // Giving it a free place is the fix.
    let fixed = text.replace("ramdisk_path", "dtb_load_addr = 0x4c00_0000\nramdisk_path");
    assert_eq!(validate_errors(&fixed), vec![]);
}

#[test]
fn generated_tree_overlapping_an_image_is_refused() {
    // The tree's room at 0x4000_0000 reaches the kernel at 0x4000_8000.
    let text = minimal_with(&[
        ("entry_point = 0x4000_0000", "entry_point = 0x4000_8000"),
        (
            "kernel_load_addr = 0x4000_0000",
            "kernel_load_addr = 0x4000_8000\ndtb_load_addr = 0x4000_0000",
        ),
    ]);
    let errors = validate_errors(&text);
    expect_only(
        &errors,
        "kernel.dtb_load_addr",
        ErrorKind::Overlap,
        "generated device tree [0x40000000, 0x40010000) overlaps the kernel image [0x40008000, 0x40808000)",
    );
    // Any VM type: the room is kept wherever a generated tree goes.
    let rtos = text.replace("vm_type = \"linux\"", "vm_type = \"rtos\"");
    expect_only(
        &validate_errors(&rtos),
        "kernel.dtb_load_addr",
        ErrorKind::Overlap,
        "kernel image",
    );
}

#[test]
fn generated_tree_past_the_end_of_ram_is_refused() {
    let text = minimal_with(&[("ramdisk_path", "dtb_load_addr = 0x4fff_8000\nramdisk_path")]);
    expect_only(
        &validate_errors(&text),
        "kernel.dtb_load_addr",
        ErrorKind::OutsideMemory,
        "generated device tree of up to 0x10000 bytes at 0x4fff8000 ends at 0x50008000, \
         past the end of kernel.memory_regions[0] at 0x50000000",
    );
}

#[test]
fn ram_too_small_for_the_default_place_is_refused() {
    let tiny = |path: &str| (path == "images/Image").then_some(0x1000);
    let text = minimal_with(&[
        (
            "ramdisk_path = \"images/initrd.gz\"\nramdisk_load_addr = 0x4800_0000\n",
            "",
        ),
        ("size = 0x1000_0000", "size = 0x8000"),
    ]);
    assert_eq!(parse(&text).dtb_placement(), DtbPlacement::NoRoom);
    assert_eq!(vm_dtb(&text), None);
    let errors = validate_errors_with(&text, PHYS_CPUS, &tiny);
    expect_only(
        &errors,
        "kernel.dtb_load_addr",
        ErrorKind::OutsideMemory,
        "not set, and the generated device tree (up to 0x10000 bytes) does not fit in \
         kernel.memory_regions[0], the first RAM region, of 0x8000 bytes; set kernel.dtb_load_addr",
    );
    // Exactly the tree's size is enough.
    let exact = text.replace("size = 0x8000", "size = 0x1_1000");
    assert_eq!(validate_errors_with(&exact, PHYS_CPUS, &tiny), vec![]);
}

#[test]
fn no_ram_region_for_the_default_place_is_refused() {
    let text = minimal_with(&[
        (
            "ramdisk_path = \"images/initrd.gz\"\nramdisk_load_addr = 0x4800_0000\n",
            "",
        ),
        ("flags = \"rwx\"", "flags = \"rwd\""),
    ]);
    let errors = validate_errors(&text);
    expect(
        &errors,
        "kernel.dtb_load_addr",
        ErrorKind::OutsideMemory,
        "no RAM region",
    );
}

#[test]
fn misaligned_tree_address_is_refused() {
    let text = minimal_with(&[("ramdisk_path", "dtb_load_addr = 0x4c00_0004\nramdisk_path")]);
    expect_only(
        &validate_errors(&text),
        "kernel.dtb_load_addr",
        ErrorKind::Misaligned,
        "0x4c000004 is not 8-byte aligned",
    );
}

#[test]
fn refusals_print_as_file_field_problem() {
    let text = minimal_with(&[("ramdisk_load_addr = 0x4800_0000", "ramdisk_load_addr = 0x4fc0_0000")]);
    let file = ConfigFileError::new("vm.toml", validate_errors(&text));
    assert!(
        file.to_string()
            .starts_with("vm.toml: kernel.dtb_load_addr: not set, and the default place of the generated device tree"),
        "{file}"
    );
}

// ---- the default console ------------------------------------------------

#[test]
fn a_vm_without_a_console_gets_the_default_pl011() {
    let config = parse(MINIMAL);
    assert_eq!(config.devices.console, ConsoleMode::Default);
    assert_eq!(config.default_console(), Some(DEFAULT_CONSOLE));
    let vm = AxVMConfig::from(config);
    let uart = vm.emu_devices().last().unwrap();
    assert_eq!(
        (
            uart.name.as_str(),
            uart.emu_type,
            uart.base_gpa,
            uart.length,
            uart.irq_id
        ),
        ("uart0", EmulatedDeviceType::Pl011, 0x0900_0000, 0x1000, 33),
        "as configs/vms/linux-aarch64.toml declares it"
    );
    assert_eq!(vm.emu_devices().len(), 1);
    assert_eq!(vm.applied_defaults()[1], AppliedDefault::Console(DEFAULT_CONSOLE));
    assert_eq!(
        vm.applied_defaults()[1].to_string(),
        "no console device in the config; using the default emulated PL011 at 0x9000000"
    );
}

#[test]
fn a_listed_console_suppresses_the_default_and_other_devices_do_not() {
    let with = |devices: &str| format!("{MINIMAL}\n[devices]\n{devices}\n");
    for uart in [
        r#"{ name = "ser", type = "pl011", gpa = 0x0c00_0000, size = 0x1000 }"#,
        r#"{ name = "com1", type = "uart16550", gpa = 0x3f8, size = 8 }"#,
        r#"{ name = "vc", type = "virtio_console", gpa = 0x0c00_0000, size = 0x1000 }"#,
    ] {
        let vm = vm(&with(&format!("emu_devices = [{uart}]")));
        assert_eq!(vm.emu_devices().len(), 1, "{uart}");
        assert!(
            !vm.applied_defaults()
                .iter()
                .any(|d| matches!(d, AppliedDefault::Console(_)))
        );
    }
    let test_device = with(r#"emu_devices = [{ name = "t", type = "test_device", gpa = 0x0a00_0000, size = 0x1000 }]"#);
    let vm = vm(&test_device);
    assert_eq!(vm.emu_devices().len(), 2);
    assert_eq!(vm.emu_devices()[1].emu_type, EmulatedDeviceType::Pl011);
    assert_eq!(validate_errors(&test_device), vec![]);
}

#[test]
fn console_none_is_honoured() {
    let text = format!("{MINIMAL}\n[devices]\nconsole = \"none\"\n");
    let config = parse(&text);
    assert_eq!(config.devices.console, ConsoleMode::None);
    assert_eq!(config.default_console(), None);
    let vm = AxVMConfig::from(config);
    assert!(vm.emu_devices().is_empty());
    assert_eq!(
        vm.applied_defaults().len(),
        1,
        "only the tree's place: {:?}",
        vm.applied_defaults()
    );
    assert_eq!(validate_errors(&text), vec![]);
    // "default" is the default, written out.
    let written = format!("{MINIMAL}\n[devices]\nconsole = \"default\"\n");
    assert_eq!(vm_len(&written), 1);
}

fn vm_len(text: &str) -> usize {
    vm(text).emu_devices().len()
}

#[test]
fn bad_console_values_are_refused() {
    let text = format!("{MINIMAL}\n[devices]\nconsole = \"off\"\n");
    let errors = parse_errors(&text);
    let e = expect(
        &errors,
        "devices.console",
        ErrorKind::InvalidValue,
        "unknown value \"off\" (expected one of: \"default\", \"none\")",
    );
    assert_eq!(e.location(), Some(Location { line: 17, column: 11 }));
    assert_eq!(errors.len(), 1);

    let errors = parse_errors(&format!("{MINIMAL}\n[devices]\nconsole = 0\n"));
    expect_only(&errors, "devices.console", ErrorKind::WrongType, "expected a string");
}

#[test]
fn default_console_overlapping_a_device_or_memory_is_refused() {
    let rtc = format!(
        "{MINIMAL}\n[devices]\npassthrough_devices = [{{ name = \"uart\", gpa = 0x0900_0000, size = 0x1000 }}]\n"
    );
    let errors = validate_errors(&rtc);
    expect_only(
        &errors,
        "devices.console",
        ErrorKind::Overlap,
        "\"default\" (no console device in devices.emu_devices), but the default PL011 [0x9000000, 0x9001000) \
         overlaps devices.passthrough_devices[0] [0x9000000, 0x9001000); list the console in \
         devices.emu_devices or set devices.console = \"none\"",
    );
    let none = rtc.replace("[devices]\n", "[devices]\nconsole = \"none\"\n");
    assert_eq!(validate_errors(&none), vec![]);

    let mapped = minimal_with(&[(
        "memory_regions = [",
        "memory_regions = [{ gpa = 0x0800_0000, size = 0x200_0000, flags = \"rwd\", map = \"identical\" }, ",
    )]);
    expect_only(
        &validate_errors(&mapped),
        "devices.console",
        ErrorKind::Overlap,
        "overlaps kernel.memory_regions[0] [0x8000000, 0xa000000)",
    );
}
