//! Host tests of the guest device tree: the generated tree parsed back with
//! the `fdt` crate, passthrough copies from a QEMU `virt` tree, and the
//! fixup of a given tree.

use super::{DtbError, fixup, generate};
use crate::{AxVMConfig, AxVMCrateConfig};
use ::fdt::{Fdt, node::FdtNode};
use std::vec::Vec;

/// QEMU 7.2 `virt,gic-version=3 -smp 4 -m 2G`, dumped with `dumpdtb`.
const QEMU_DTB: &[u8] = include_bytes!("../../../axhal/testdata/qemu-virt-gicv3-smp4-2g.dtb");

const LINUX: &str = r#"
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
    { gpa = 0x1_0000_0000, size = 0x100_0000, flags = "rwx", map = "alloc" },
    { gpa = 0x0c00_0000, size = 0x1000, flags = "rwd", map = "identical" },
]

[devices]
interrupt_mode = "emu"
emu_devices = [
    { name = "uart0", type = "pl011", gpa = 0x0900_0000, size = 0x1000, irq = 33 },
]
"#;

fn config_from(toml: &str) -> AxVMConfig {
    AxVMConfig::from(AxVMCrateConfig::from_toml(toml).unwrap())
}

fn linux() -> AxVMConfig {
    config_from(LINUX)
}

/// The Linux config with these passthrough device entries.
fn with_passthrough(entries: &str) -> AxVMConfig {
    config_from(&format!("{LINUX}passthrough_devices = [\n{entries}\n]\n"))
}

fn cells(node: FdtNode<'_, '_>, name: &str) -> Vec<u32> {
    let value = node
        .property(name)
        .unwrap_or_else(|| panic!("{} has no {name}", node.name))
        .value;
    value
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes(c.try_into().unwrap()))
        .collect()
}

fn u64s(node: FdtNode<'_, '_>, name: &str) -> Vec<u64> {
    cells(node, name)
        .chunks_exact(2)
        .map(|c| (u64::from(c[0]) << 32) | u64::from(c[1]))
        .collect()
}

fn strings<'a>(node: FdtNode<'_, 'a>, name: &str) -> Vec<&'a str> {
    let value = node.property(name).unwrap().value;
    value
        .strip_suffix(&[0])
        .unwrap()
        .split(|&b| b == 0)
        .map(|s| std::str::from_utf8(s).unwrap())
        .collect()
}

fn phandle(node: FdtNode<'_, '_>) -> u32 {
    cells(node, "phandle")[0]
}

fn memory(fdt: &Fdt<'_>) -> Vec<(usize, Option<usize>)> {
    fdt.all_nodes()
        .filter(|n| n.property("device_type").and_then(|p| p.as_str()) == Some("memory"))
        .flat_map(|n| n.reg().unwrap())
        .map(|r| (r.starting_address as usize, r.size))
        .collect()
}

#[test]
fn gic_is_the_root_interrupt_parent() {
    let blob = generate(&linux(), None, None).unwrap();
    let fdt = Fdt::new(&blob).unwrap();
    let gic = fdt.find_node("/intc@8000000").unwrap();
    assert_eq!(strings(gic, "compatible"), ["arm,gic-v3"]);
    assert_eq!(cells(gic, "#interrupt-cells"), [3]);
    assert!(gic.property("interrupt-controller").is_some());
    assert!(gic.property("ranges").unwrap().value.is_empty());
    assert_eq!(cells(gic, "#redistributor-regions"), [1]);
    // Distributor, then one redistributor frame pair per vCPU.
    assert_eq!(u64s(gic, "reg"), [0x0800_0000, 0x1_0000, 0x080a_0000, 2 * 0x2_0000]);
    assert_eq!(cells(gic, "interrupts"), [1, 9, 4]);
    let root = fdt.find_node("/").unwrap();
    assert_eq!(cells(root, "interrupt-parent"), [phandle(gic)]);
    assert_eq!(fdt.find_phandle(phandle(gic)).unwrap().name, "intc@8000000");
}

#[test]
fn timer_has_the_four_ppis() {
    let blob = generate(&linux(), None, None).unwrap();
    let fdt = Fdt::new(&blob).unwrap();
    let timer = fdt.find_node("/timer").unwrap();
    assert_eq!(strings(timer, "compatible"), ["arm,armv8-timer"]);
    assert_eq!(cells(timer, "interrupts"), [1, 13, 4, 1, 14, 4, 1, 11, 4, 1, 10, 4]);
    assert!(timer.property("always-on").is_none());
}

#[test]
fn uart_has_its_spi_and_clocks() {
    let blob = generate(&linux(), None, None).unwrap();
    let fdt = Fdt::new(&blob).unwrap();
    let uart = fdt.find_node("/pl011@9000000").unwrap();
    assert_eq!(strings(uart, "compatible"), ["arm,pl011", "arm,primecell"]);
    assert_eq!(u64s(uart, "reg"), [0x0900_0000, 0x1000]);
    assert_eq!(cells(uart, "interrupts"), [0, 1, 4], "INTID 33 is SPI 1");
    assert_eq!(strings(uart, "clock-names"), ["uartclk", "apb_pclk"]);
    let clocks = cells(uart, "clocks");
    assert_eq!(clocks.len(), 2);
    for c in clocks {
        let clock = fdt.find_phandle(c).unwrap();
        assert_eq!(clock.name, "apb-pclk");
        assert_eq!(strings(clock, "compatible"), ["fixed-clock"]);
        assert_eq!(cells(clock, "#clock-cells"), [0]);
        assert_eq!(cells(clock, "clock-frequency"), [24_000_000]);
    }
    assert_eq!(fdt.chosen().stdout().map(|n| n.name), Some("pl011@9000000"));
}

#[test]
fn one_cpu_node_per_vcpu() {
    for n in [1, 2, 4] {
        let cfg = config_from(&LINUX.replace("cpu_num = 2", &format!("cpu_num = {n}")));
        let blob = generate(&cfg, None, None).unwrap();
        let fdt = Fdt::new(&blob).unwrap();
        let ids: Vec<usize> = fdt.cpus().map(|c| c.ids().first()).collect();
        assert_eq!(ids, (0..n).collect::<Vec<_>>());
        for cpu in fdt.cpus() {
            assert_eq!(cpu.property("enable-method").and_then(|p| p.as_str()), Some("psci"));
        }
        let gic = fdt.find_node("/intc").unwrap();
        assert_eq!(u64s(gic, "reg")[3], n as u64 * 0x2_0000, "a redistributor per vCPU");
    }
}

#[test]
fn memory_bootargs_and_initrd() {
    let blob = generate(&linux(), Some((0x4800_0000, 0x10_8000)), None).unwrap();
    let fdt = Fdt::new(&blob).unwrap();
    assert_eq!(
        memory(&fdt),
        [(0x4000_0000, Some(0x2000_0000)), (0x1_0000_0000, Some(0x100_0000))],
        "RAM regions only, not the device region"
    );
    assert_eq!(fdt.chosen().bootargs(), Some("console=ttyAMA0 earlycon"));
    let chosen = fdt.find_node("/chosen").unwrap();
    assert_eq!(u64s(chosen, "linux,initrd-start"), [0x4800_0000]);
    assert_eq!(u64s(chosen, "linux,initrd-end"), [0x4810_8000]);
    assert_eq!(strings(fdt.find_node("/psci").unwrap(), "method"), ["hvc"]);
}

#[test]
fn no_irq_vm_has_no_interrupt_controller() {
    let cfg = config_from(&LINUX.replace(r#"interrupt_mode = "emu""#, r#"interrupt_mode = "no_irq""#));
    let blob = generate(&cfg, None, None).unwrap();
    let fdt = Fdt::new(&blob).unwrap();
    assert!(fdt.find_node("/intc").is_none());
    assert!(fdt.find_node("/timer").is_none());
    assert!(fdt.find_node("/").unwrap().property("interrupt-parent").is_none());
    assert!(
        fdt.find_node("/pl011@9000000")
            .unwrap()
            .property("interrupts")
            .is_none()
    );
}

#[test]
fn passthrough_rtc_is_copied_with_its_clock() {
    let cfg = with_passthrough(r#"{ name = "rtc", gpa = 0x0b00_0000, hpa = 0x0901_0000, size = 0x1000, irq = 34 },"#);
    let blob = generate(&cfg, None, Some(QEMU_DTB)).unwrap();
    let fdt = Fdt::new(&blob).unwrap();
    let rtc = fdt.find_node("/pl031@b000000").unwrap();
    assert_eq!(strings(rtc, "compatible"), ["arm,pl031", "arm,primecell"]);
    assert_eq!(u64s(rtc, "reg"), [0x0b00_0000, 0x1000]);
    assert_eq!(
        cells(rtc, "interrupts"),
        [0, 2, 4],
        "INTID 34, level-high as on the host"
    );
    assert!(rtc.property("interrupt-parent").is_none());
    assert_eq!(strings(rtc, "clock-names"), ["apb_pclk"]);
    let clock = fdt.find_phandle(cells(rtc, "clocks")[0]).unwrap();
    assert_eq!(strings(clock, "compatible"), ["fixed-clock"]);
    assert_eq!(strings(clock, "clock-output-names"), ["clk24mhz"]);
    assert_eq!(cells(clock, "clock-frequency"), [24_000_000]);
    assert_ne!(clock.name, "apb-pclk", "the generated UART clock keeps its name");
    let gic = fdt.find_node("/intc").unwrap();
    assert_ne!(phandle(clock), phandle(gic));
    // Nothing else of the host's tree came along.
    assert!(fdt.find_node("/pl031@9010000").is_none());
    assert!(fdt.find_node("/pl061").is_none());
}

#[test]
fn passthrough_devices_share_one_clock_copy_and_lose_foreign_phandles() {
    let cfg = with_passthrough(
        r#"{ name = "rtc", gpa = 0x0901_0000, size = 0x1000, irq = 34 },
           { name = "gpio", gpa = 0x0903_0000, size = 0x1000 },
           { name = "virtio0", gpa = 0x0a00_0000, size = 0x200, irq = 48 },"#,
    );
    let blob = generate(&cfg, None, Some(QEMU_DTB)).unwrap();
    let fdt = Fdt::new(&blob).unwrap();
    let rtc = fdt.find_node("/pl031@9010000").unwrap();
    let gpio = fdt.find_node("/pl061@9030000").unwrap();
    assert_eq!(cells(rtc, "clocks"), cells(gpio, "clocks"));
    let copies = fdt
        .all_nodes()
        .filter(|n| n.property("clock-output-names").is_some())
        .count();
    assert_eq!(copies, 1);
    // The GPIO controller's own phandle is the host's: dropped; no irq: no interrupts.
    assert!(gpio.property("phandle").is_none());
    assert!(gpio.property("interrupts").is_none());
    assert!(gpio.property("gpio-controller").is_some());
    // virtio-mmio is edge-triggered on the host (flags 1).
    let virtio = fdt.find_node("/virtio_mmio@a000000").unwrap();
    assert_eq!(cells(virtio, "interrupts"), [0, 16, 1]);
    assert!(virtio.property("dma-coherent").is_some());
}

#[test]
fn passthrough_device_missing_from_the_host_is_left_out() {
    let cfg = with_passthrough(r#"{ name = "nothing", gpa = 0x0b00_0000, hpa = 0x0b00_0000, size = 0x1000 },"#);
    let blob = generate(&cfg, None, Some(QEMU_DTB)).unwrap();
    let fdt = Fdt::new(&blob).unwrap();
    assert!(fdt.find_node("/pl011@9000000").is_some());
    assert_eq!(fdt.all_nodes().filter(|n| n.name.contains("b000000")).count(), 0);
    // Without the host's tree nothing is copied either.
    let blob = generate(&cfg, None, None).unwrap();
    assert!(Fdt::new(&blob).is_ok());
    // A broken host tree is an error.
    assert!(matches!(
        generate(&cfg, None, Some(b"not a tree")),
        Err(DtbError::Malformed(_))
    ));
}

#[test]
fn fixup_replaces_memory_and_chosen_and_keeps_the_rest() {
    let blob = fixup(QEMU_DTB, &linux(), Some((0x4800_0000, 0x1000))).unwrap();
    let fdt = Fdt::new(&blob).unwrap();
    assert_eq!(
        memory(&fdt),
        [(0x4000_0000, Some(0x2000_0000)), (0x1_0000_0000, Some(0x100_0000))]
    );
    let chosen = fdt.find_node("/chosen").unwrap();
    assert_eq!(fdt.chosen().bootargs(), Some("console=ttyAMA0 earlycon"));
    assert_eq!(u64s(chosen, "linux,initrd-start"), [0x4800_0000]);
    assert_eq!(u64s(chosen, "linux,initrd-end"), [0x4800_1000]);
    // The tree's own /chosen properties and every other node stay.
    assert_eq!(
        chosen.property("stdout-path").and_then(|p| p.as_str()),
        Some("/pl011@9000000")
    );
    assert!(chosen.property("kaslr-seed").is_some());
    assert_eq!(fdt.cpus().count(), 4);
    let gic = fdt.find_node("/intc@8000000").unwrap();
    assert_eq!(phandle(gic), 0x8005);
    assert_eq!(cells(fdt.find_node("/").unwrap(), "interrupt-parent"), [0x8005]);
    assert!(fdt.find_node("/intc@8000000/its@8080000").is_some());
    assert_eq!(strings(fdt.find_node("/psci").unwrap(), "method"), ["smc"]);
    let rtc = fdt.find_node("/pl031@9010000").unwrap();
    assert_eq!(fdt.find_phandle(cells(rtc, "clocks")[0]).unwrap().name, "apb-pclk");
    // Same nodes, less the one memory node, plus the VM's two.
    let before = Fdt::new(QEMU_DTB).unwrap().all_nodes().count();
    assert_eq!(fdt.all_nodes().count(), before + 1);
}

#[test]
fn fixup_keeps_bootargs_without_a_cmdline_and_drops_a_stale_initrd() {
    let with_initrd = generate(&linux(), Some((0x4800_0000, 0x1000)), None).unwrap();
    let bare = config_from(&LINUX.replace("cmdline = \"console=ttyAMA0 earlycon\"\n", ""));
    assert_eq!(bare.cmdline(), None);
    let blob = fixup(&with_initrd, &bare, None).unwrap();
    let fdt = Fdt::new(&blob).unwrap();
    assert_eq!(fdt.chosen().bootargs(), Some("console=ttyAMA0 earlycon"));
    let chosen = fdt.find_node("/chosen").unwrap();
    assert!(chosen.property("linux,initrd-start").is_none());
    assert!(chosen.property("linux,initrd-end").is_none());
    // A tree without /chosen gets one.
    let no_chosen = {
        let mut w = vm_fdt::FdtWriter::new().unwrap();
        let root = w.begin_node("").unwrap();
        w.property_u32("#address-cells", 1).unwrap();
        w.property_u32("#size-cells", 1).unwrap();
        w.end_node(root).unwrap();
        w.finish().unwrap()
    };
    let cfg = config_from(&LINUX.replace(
        "    { gpa = 0x1_0000_0000, size = 0x100_0000, flags = \"rwx\", map = \"alloc\" },\n",
        "",
    ));
    let blob = fixup(&no_chosen, &cfg, None).unwrap();
    let fdt = Fdt::new(&blob).unwrap();
    assert_eq!(fdt.chosen().bootargs(), Some("console=ttyAMA0 earlycon"));
    assert_eq!(
        memory(&fdt),
        [(0x4000_0000, Some(0x2000_0000))],
        "in 1-cell addresses and sizes"
    );
    // RAM above 4 GiB does not fit in 1 cell.
    assert!(matches!(
        fixup(&no_chosen, &linux(), None),
        Err(DtbError::CellsTooSmall { cells: 1, .. })
    ));
}

#[test]
fn fixup_refuses_what_is_not_a_tree() {
    assert!(matches!(
        fixup(b"\xd0\x0d\xfe\xed", &linux(), None),
        Err(DtbError::Malformed(_))
    ));
    assert!(matches!(fixup(&[0u8; 64], &linux(), None), Err(DtbError::Malformed(_))));
}

#[test]
fn a_tree_larger_than_its_room_is_refused() {
    // Thousands of 4 KiB RAM regions: far more than 64 KiB of memory nodes.
    let mut cfg = linux();
    for i in 0..2000 {
        cfg.add_memory_region(axvmconfig::VmMemConfig {
            gpa: 0x2_0000_0000 + i * 0x2000,
            size: 0x1000,
            flags: axvmconfig::VmMemFlags::READ | axvmconfig::VmMemFlags::WRITE,
            map_type: axvmconfig::VmMemMappingType::MapAlloc,
            small_pages: false,
        });
    }
    match generate(&cfg, None, None) {
        Err(DtbError::TooLarge { size }) => assert!(size > axvmconfig::GENERATED_DTB_MAX_SIZE, "{size:#x}"),
        other => panic!("expected TooLarge, got {:?}", other.map(|b| b.len())),
    }
    // The usual tree is far below the limit.
    assert!(generate(&linux(), None, None).unwrap().len() < 0x1000);
}
