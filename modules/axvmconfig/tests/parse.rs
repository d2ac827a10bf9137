//! Parsing: both forms, defaults, schema errors with field paths and positions.

mod common;

use axvmconfig::{
    AxVMConfig, AxVMCrateConfig, ConfigFileError, EmulatedDeviceType, ErrorKind, ImageLocation, Location,
    VMInterruptMode, VMType, VmMemFlags, VmMemMappingType,
};
use common::*;

#[test]
fn named_and_positional_forms_give_the_same_config() {
    let named = AxVMConfig::from(parse(GOOD_NAMED));
    let positional = AxVMConfig::from(parse(GOOD_POSITIONAL));
    assert_eq!(named, positional);

    // And the values are the intended ones, not merely equal.
    assert_eq!(named.id(), 1);
    assert_eq!(named.name(), "linux-qemu");
    assert_eq!(named.vm_type(), VMType::Linux);
    assert_eq!(named.cpu_num(), 2);
    assert_eq!(named.bsp_entry(), 0x4020_0000);
    assert_eq!(named.ap_entry(), 0x4020_0000);
    let image = named.image_config();
    assert_eq!(image.kernel_load_gpa, 0x4020_0000);
    assert_eq!(image.dtb_load_gpa, Some(0x4000_0000));
    assert_eq!(image.ramdisk_load_gpa, Some(0x4800_0000));
    assert_eq!(image.bios_load_gpa, None);

    let mem = named.memory_regions();
    assert_eq!(mem.len(), 2);
    assert_eq!((mem[0].gpa, mem[0].size), (0x4000_0000, 0x1000_0000));
    assert_eq!(mem[0].flags, VmMemFlags::READ | VmMemFlags::WRITE | VmMemFlags::EXECUTE);
    assert_eq!(mem[0].map_type, VmMemMappingType::MapAlloc);
    assert_eq!(mem[1].flags, VmMemFlags::READ | VmMemFlags::WRITE | VmMemFlags::DEVICE);
    assert_eq!(mem[1].map_type, VmMemMappingType::MapIdentical);

    let emu = named.emu_devices();
    assert_eq!(emu.len(), 3);
    assert_eq!(emu[0].emu_type, EmulatedDeviceType::GicdV3);
    assert_eq!(emu[1].emu_type, EmulatedDeviceType::GicrV3);
    assert_eq!(emu[1].cfg_list, vec![2]);
    assert_eq!(emu[2].emu_type, EmulatedDeviceType::Pl011);
    assert_eq!(
        (emu[2].base_gpa, emu[2].length, emu[2].irq_id),
        (0x0900_0000, 0x1000, 33)
    );

    let pt = named.pass_through_devices();
    assert_eq!(pt.len(), 1);
    assert_eq!(
        (
            pt[0].name.as_str(),
            pt[0].base_gpa,
            pt[0].base_hpa,
            pt[0].length,
            pt[0].irq_id
        ),
        ("rtc", 0x0901_0000, 0x0901_0000, 0x1000, 34)
    );
    assert_eq!(named.interrupt_mode(), VMInterruptMode::Emulated);
    // Emulated interrupts: no SPIs are handed to the guest.
    assert!(named.pass_through_spis().is_empty());
}

#[test]
fn crate_config_keeps_the_kernel_fields() {
    let c = parse(GOOD_NAMED);
    assert_eq!(c.kernel.kernel_path, "images/Image");
    assert_eq!(c.kernel.dtb_path.as_deref(), Some("images/linux.dtb"));
    assert_eq!(c.kernel.ramdisk_path.as_deref(), Some("images/initrd.gz"));
    assert_eq!(c.kernel.cmdline.as_deref(), Some("console=ttyAMA0 earlycon"));
    assert_eq!(c.kernel.image_location, ImageLocation::Memory);
    assert_eq!(c.base.phys_cpu_sets, Some(vec![1, 2]));
}

#[test]
fn inline_tables_and_arrays_of_tables_are_the_same_named_form() {
    let inline = named_with(&[
        (
            "[[kernel.memory_regions]]\ngpa = 0x4000_0000\nsize = 0x1000_0000\nflags = \"rwx\"\nmap = \"alloc\"\n",
            "",
        ),
        (
            "[[kernel.memory_regions]]\ngpa = 0x0a00_0000\nsize = 0x1000\nflags = \"rwd\"\nmap = \"identical\"\n",
            "",
        ),
        (
            "cmdline = \"console=ttyAMA0 earlycon\"\n",
            "cmdline = \"console=ttyAMA0 earlycon\"\nmemory_regions = [\n  { gpa = 0x4000_0000, size = 0x1000_0000, flags = \"rwx\" },\n  { gpa = 0x0a00_0000, size = 0x1000, flags = 0xb, map = 1 },\n]\n",
        ),
    ]);
    assert_eq!(parse(&inline), parse(GOOD_NAMED));
}

#[test]
fn defaults() {
    let text = r#"
[base]
id = 0
name = "min"
cpu_num = 1
[kernel]
entry_point = 0x8000_0000
kernel_path = "k.bin"
kernel_load_addr = 0x8000_0000
memory_regions = [{ gpa = 0x8000_0000, size = 0x10_0000, flags = "rwx" }]
"#;
    let c = parse(text);
    assert_eq!(c.base.vm_type, VMType::RTOS);
    assert_eq!(c.base.phys_cpu_ids, None);
    assert_eq!(c.kernel.image_location, ImageLocation::Memory);
    assert_eq!(c.kernel.memory_regions[0].map_type, VmMemMappingType::MapAlloc);
    assert_eq!(c.devices.interrupt_mode, VMInterruptMode::Emulated);
    assert!(c.devices.emu_devices.is_empty());

    let vm = AxVMConfig::from(c);
    assert_eq!(vm.get_vcpu_affinities_pcpu_ids(), vec![(0, None, 0)]);
}

#[test]
fn vcpu_affinities() {
    let vm = AxVMConfig::from(parse(&named_with(&[
        ("cpu_num = 2", "cpu_num = 3"),
        ("phys_cpu_ids = [0x0, 0x1]", "phys_cpu_ids = [0x100, 0x101, 0x200]"),
        ("phys_cpu_sets = [0b01, 0b10]", "phys_cpu_sets = [0b01, 0b10, 0b1100]"),
    ])));
    assert_eq!(
        vm.get_vcpu_affinities_pcpu_ids(),
        vec![(0, Some(0b01), 0x100), (1, Some(0b10), 0x101), (2, Some(0b1100), 0x200)]
    );

    let vm = AxVMConfig::from(parse(&named_with(&[
        ("phys_cpu_ids = [0x0, 0x1]\n", ""),
        ("phys_cpu_sets = [0b01, 0b10]\n", ""),
    ])));
    assert_eq!(vm.get_vcpu_affinities_pcpu_ids(), vec![(0, None, 0), (1, None, 1)]);
}

#[test]
fn passthrough_mode_lists_the_spis_of_passthrough_devices() {
    let vm = AxVMConfig::from(parse(&named_with(&[
        ("interrupt_mode = \"emu\"", "interrupt_mode = \"passthrough\""),
        (
            "irq = 34 },",
            "irq = 34 },\n    { name = \"gpio\", gpa = 0x0903_0000, size = 0x1000, irq = 39 },\n    { name = \"dma\", gpa = 0x0904_0000, size = 0x1000 },",
        ),
    ])));
    assert_eq!(vm.interrupt_mode(), VMInterruptMode::Passthrough);
    // INTID 34 is SPI 2, INTID 39 is SPI 7; the device without an irq adds nothing.
    assert_eq!(vm.pass_through_spis(), &[2, 7]);
    // `hpa` left out: identity mapping.
    assert_eq!(vm.pass_through_devices()[1].base_hpa, 0x0903_0000);
}

#[test]
fn interrupt_mode_names() {
    for (name, mode) in [
        ("emu", VMInterruptMode::Emulated),
        ("passthrough", VMInterruptMode::Passthrough),
        ("no_irq", VMInterruptMode::NoIrq),
    ] {
        let text = named_with(&[("interrupt_mode = \"emu\"", &format!("interrupt_mode = \"{name}\""))]);
        assert_eq!(parse(&text).devices.interrupt_mode, mode);
    }
}

#[test]
fn device_types_round_trip_by_name_and_number() {
    for name in [
        "dummy",
        "console",
        "pl011",
        "gicd_v3",
        "test_device",
        "iommu",
        "uart16550",
    ] {
        let t = EmulatedDeviceType::from_name(name).unwrap();
        assert_eq!(t.name(), name);
        assert_eq!(EmulatedDeviceType::from_number(t.number()), Some(t));
    }
    assert_eq!(EmulatedDeviceType::from_name("pl012"), None);
    assert_eq!(EmulatedDeviceType::from_number(0x99), None);
}

// ---- schema errors -------------------------------------------------------

#[test]
fn unknown_key_is_named_with_its_path_and_position() {
    let errors = parse_errors(&named_with(&[("cpu_num = 2", "cpu_num = 2\ncpu_count = 2")]));
    let e = expect(&errors, "base.cpu_count", ErrorKind::UnknownKey, "`cpu_count`");
    assert!(e.problem().contains("cpu_num"), "lists the known keys: {e}");
    assert_eq!(e.location(), Some(Location { line: 8, column: 1 }));
}

#[test]
fn unknown_key_in_a_region_and_at_top_level() {
    let errors = parse_errors(&named_with(&[
        ("flags = \"rwd\"", "flags = \"rwd\"\ncolour = \"red\""),
        ("[devices]", "[extra]\nx = 1\n\n[devices]"),
    ]));
    assert_eq!(errors.len(), 2, "{errors:#?}");
    expect(
        &errors,
        "kernel.memory_regions[1].colour",
        ErrorKind::UnknownKey,
        "colour",
    );
    expect(&errors, "extra", ErrorKind::UnknownKey, "extra");
}

#[test]
fn unknown_key_in_an_inline_device() {
    let errors = parse_errors(&named_with(&[(
        "size = 0x1000, irq = 33",
        "size = 0x1000, irq = 33, speed = 9600",
    )]));
    expect_only(&errors, "devices.emu_devices[2].speed", ErrorKind::UnknownKey, "speed");
}

#[test]
fn unknown_vm_type() {
    let errors = parse_errors(&named_with(&[("vm_type = \"linux\"", "vm_type = \"windows\"")]));
    expect_only(&errors, "base.vm_type", ErrorKind::InvalidValue, "\"windows\"");
    let errors = parse_errors(&named_with(&[("vm_type = \"linux\"", "vm_type = 7")]));
    expect_only(&errors, "base.vm_type", ErrorKind::InvalidValue, "0x7");
}

#[test]
fn unknown_interrupt_mode() {
    let errors = parse_errors(&named_with(&[("interrupt_mode = \"emu\"", "interrupt_mode = \"msi\"")]));
    expect_only(&errors, "devices.interrupt_mode", ErrorKind::InvalidValue, "\"msi\"");
}

#[test]
fn unknown_image_location() {
    let errors = parse_errors(&named_with(&[(
        "image_location = \"memory\"",
        "image_location = \"disk\"",
    )]));
    expect_only(&errors, "kernel.image_location", ErrorKind::InvalidValue, "\"disk\"");
}

#[test]
fn unknown_flag_letter() {
    let errors = parse_errors(&named_with(&[("flags = \"rwx\"", "flags = \"rwq\"")]));
    expect_only(
        &errors,
        "kernel.memory_regions[0].flags",
        ErrorKind::InvalidValue,
        "'q'",
    );
}

#[test]
fn unknown_flag_bits_in_positional_form() {
    let text = GOOD_POSITIONAL.replace("0x1000_0000, 0x7, 0]", "0x1000_0000, 0x47, 0]");
    let errors = parse_errors(&text);
    expect_only(
        &errors,
        "kernel.memory_regions[0].flags",
        ErrorKind::InvalidValue,
        "0x40",
    );
}

#[test]
fn flags_without_access() {
    let errors = parse_errors(&named_with(&[("flags = \"rwd\"", "flags = \"d\"")]));
    expect_only(
        &errors,
        "kernel.memory_regions[1].flags",
        ErrorKind::InvalidValue,
        "no access",
    );
}

#[test]
fn unknown_map_type() {
    let errors = parse_errors(&named_with(&[("map = \"identical\"", "map = \"carved\"")]));
    expect_only(
        &errors,
        "kernel.memory_regions[1].map",
        ErrorKind::InvalidValue,
        "\"carved\"",
    );
    let text = GOOD_POSITIONAL.replace("0x1000, 0xb, 1]", "0x1000, 0xb, 5]");
    let errors = parse_errors(&text);
    expect_only(&errors, "kernel.memory_regions[1].map", ErrorKind::InvalidValue, "0x5");
}

#[test]
fn unknown_device_type() {
    let errors = parse_errors(&named_with(&[("type = \"pl011\"", "type = \"pl012\"")]));
    expect_only(
        &errors,
        "devices.emu_devices[2].type",
        ErrorKind::InvalidValue,
        "\"pl012\"",
    );
    let text = GOOD_POSITIONAL.replace("33, 0x30, []]", "33, 0x99, []]");
    let errors = parse_errors(&text);
    expect_only(&errors, "devices.emu_devices[2].type", ErrorKind::InvalidValue, "0x99");
}

#[test]
fn positional_entry_of_the_wrong_length() {
    let text = GOOD_POSITIONAL.replace("[0x0a00_0000, 0x1000, 0xb, 1]", "[0x0a00_0000, 0x1000, 0xb]");
    let errors = parse_errors(&text);
    expect_only(&errors, "kernel.memory_regions[1]", ErrorKind::WrongType, "found 3");
    let text = GOOD_POSITIONAL.replace(
        "[\"rtc\", 0x0901_0000, 0x0901_0000, 0x1000, 34]",
        "[\"rtc\", 0x0901_0000]",
    );
    let errors = parse_errors(&text);
    expect_only(
        &errors,
        "devices.passthrough_devices[0]",
        ErrorKind::WrongType,
        "[name, base_gpa, base_hpa, length, irq_id]",
    );
}

#[test]
fn positional_emu_device_may_leave_out_cfg_list() {
    let text = GOOD_POSITIONAL.replace(
        "[\"uart0\", 0x0900_0000, 0x1000, 33, 0x30, []]",
        "[\"uart0\", 0x0900_0000, 0x1000, 33, \"pl011\"]",
    );
    assert_eq!(parse(&text), parse(GOOD_POSITIONAL));
}

#[test]
fn entry_of_the_wrong_type() {
    let errors = parse_errors(&named_with(&[(
        "passthrough_devices = [",
        "passthrough_devices = [\n    \"rtc\",",
    )]));
    expect_only(
        &errors,
        "devices.passthrough_devices[0]",
        ErrorKind::WrongType,
        "found string",
    );
}

#[test]
fn missing_keys_and_tables() {
    let errors = parse_errors(&named_with(&[("cpu_num = 2\n", "")]));
    expect_only(&errors, "base.cpu_num", ErrorKind::MissingKey, "required");
    let errors = parse_errors(&named_with(&[("size = 0x1000_0000\n", "")]));
    expect_only(
        &errors,
        "kernel.memory_regions[0].size",
        ErrorKind::MissingKey,
        "required",
    );
    let errors = parse_errors(&named_with(&[("type = \"pl011\", ", "")]));
    expect_only(
        &errors,
        "devices.emu_devices[2].type",
        ErrorKind::MissingKey,
        "required",
    );

    let text = "[base]\nid = 1\nname = \"x\"\ncpu_num = 1\n";
    let errors = parse_errors(text);
    expect_only(&errors, "kernel", ErrorKind::MissingKey, "required");
}

#[test]
fn wrong_value_types() {
    let errors = parse_errors(&named_with(&[("cpu_num = 2", "cpu_num = \"two\"")]));
    expect_only(
        &errors,
        "base.cpu_num",
        ErrorKind::WrongType,
        "expected an integer, found string",
    );
    let errors = parse_errors(&named_with(&[("kernel_path = \"images/Image\"", "kernel_path = 3")]));
    expect_only(&errors, "kernel.kernel_path", ErrorKind::WrongType, "expected a string");
    let errors = parse_errors(&named_with(&[(
        "phys_cpu_ids = [0x0, 0x1]",
        "phys_cpu_ids = [0x0, \"one\"]",
    )]));
    expect_only(&errors, "base.phys_cpu_ids[1]", ErrorKind::WrongType, "integer");
    let errors = parse_errors(&named_with(&[("[base]", "base = 1\n[x]")]));
    assert!(
        errors
            .iter()
            .any(|e| e.kind() == ErrorKind::UnknownKey && e.field() == "x")
    );
}

#[test]
fn negative_numbers_are_rejected() {
    let errors = parse_errors(&named_with(&[("id = 1", "id = -1")]));
    expect_only(&errors, "base.id", ErrorKind::InvalidValue, "-1");
}

#[test]
fn several_schema_errors_are_all_reported_in_source_order() {
    let errors = parse_errors(&named_with(&[
        ("vm_type = \"linux\"", "vm_type = \"beos\""),
        ("flags = \"rwx\"", "flags = \"rwz\""),
        ("type = \"pl011\"", "type = \"pl012\""),
        ("kernel_load_addr = 0x4020_0000", "kernel_load_adr = 0x4020_0000"),
    ]));
    // kernel_load_addr may be left out (an arm64 Image gives it): the
    // checker, not the parser, requires it for a raw binary.
    assert_eq!(errors.len(), 4, "{errors:#?}");
    expect(&errors, "base.vm_type", ErrorKind::InvalidValue, "beos");
    expect(
        &errors,
        "kernel.kernel_load_adr",
        ErrorKind::UnknownKey,
        "kernel_load_adr",
    );
    expect(
        &errors,
        "kernel.memory_regions[0].flags",
        ErrorKind::InvalidValue,
        "'z'",
    );
    expect(&errors, "devices.emu_devices[2].type", ErrorKind::InvalidValue, "pl012");
    let lines: Vec<usize> = errors.iter().map(|e| e.location().unwrap().line).collect();
    assert!(lines.is_sorted(), "not in source order: {errors:#?}");
}

#[test]
fn from_toml_returns_the_first_problem() {
    let text = named_with(&[
        ("vm_type = \"linux\"", "vm_type = \"beos\""),
        ("type = \"pl011\"", "type = \"pl012\""),
    ]);
    let e = AxVMCrateConfig::from_toml(&text).unwrap_err();
    assert_eq!(e.field(), "base.vm_type");
    assert_eq!(e.to_string(), format!("base.vm_type: {}", e.problem()));
}

#[test]
fn syntax_error_has_a_position() {
    let text = "[base]\nid = 1\nname = \"x\n";
    let e = AxVMCrateConfig::from_toml(text).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Syntax);
    assert_eq!(e.field(), "");
    assert_eq!(e.location().map(|l| l.line), Some(3));
    assert!(e.problem().starts_with("invalid TOML"), "{e}");

    let e = AxVMCrateConfig::from_toml("[base]\nid = 1\nid = 2\n").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Syntax);
    assert_eq!(e.location().map(|l| l.line), Some(3), "{e}");
}

#[test]
fn file_error_prints_file_position_field_and_problem() {
    let errors = parse_errors(&named_with(&[
        ("cpu_num = 2", "cpu_num = 2\ncpu_count = 2"),
        ("interrupt_mode = \"emu\"", "interrupt_mode = \"msi\""),
    ]));
    let file_error = ConfigFileError::new("configs/vms/linux.toml", errors);
    let text = file_error.to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines[0].starts_with("configs/vms/linux.toml:8:1: base.cpu_count: unknown key `cpu_count`"),
        "{text}"
    );
    assert!(
        lines[1].starts_with("configs/vms/linux.toml:")
            && lines[1].contains(": devices.interrupt_mode: unknown value \"msi\""),
        "{text}"
    );
}

#[test]
fn autostart_defaults_to_true_and_can_be_turned_off() {
    assert!(parse(GOOD_NAMED).base.autostart);
    let off = named_with(&[("cpu_num = 2", "cpu_num = 2\nautostart = false")]);
    assert!(!parse(&off).base.autostart);
    let bad = named_with(&[("cpu_num = 2", "cpu_num = 2\nautostart = \"no\"")]);
    let errors = parse_errors(&bad);
    expect(&errors, "base.autostart", ErrorKind::WrongType, "true or false");
}

#[test]
fn small_pages_is_a_boolean_of_the_named_form() {
    let cfg = parse(&named_with(&[(
        "map = \"alloc\"",
        "map = \"alloc\"\nsmall_pages = true",
    )]));
    let regions = &cfg.kernel.memory_regions;
    assert!(regions[0].small_pages);
    assert!(!regions[1].small_pages, "off unless asked for");
    let errors = parse_errors(&named_with(&[(
        "map = \"alloc\"",
        "map = \"alloc\"\nsmall_pages = \"yes\"",
    )]));
    expect_only(
        &errors,
        "kernel.memory_regions[0].small_pages",
        ErrorKind::WrongType,
        "true or false",
    );
}
