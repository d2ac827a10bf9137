//! Host tests of a VM built from a config that leaves out its device tree
//! address and its console: x0 of the vCPUs, the default PL011 the VM
//! really gets (its model, its node in the generated tree) and the log
//! lines at creation.

use crate::arch_mock::take_events;
use crate::fdt::generate;
use crate::tests::{Console, Vm};
use crate::{AxVMConfig, AxVMCrateConfig};
use axvcpu::{AccessWidth, AxVCpuExitReason, GuestPhysAddr};
use std::cell::RefCell;
use std::string::{String, ToString};
use std::sync::Arc;
use std::vec::Vec;

/// A Linux VM with the kernel at the start of its only RAM region (16 MiB),
/// no device tree keys and no `[devices]`.
const MINIMAL: &str = r#"
[base]
id = 9
name = "bare"
vm_type = "linux"
cpu_num = 2

[kernel]
entry_point = 0x4000_0000
kernel_path = "Image"
kernel_load_addr = 0x4000_0000
memory_regions = [{ gpa = 0x4000_0000, size = 0x100_0000, flags = "rwx" }]
"#;

std::thread_local! {
    /// The log lines of this thread (level, message).
    static LINES: RefCell<Vec<(log::Level, String)>> = const { RefCell::new(Vec::new()) };
}

/// Records every log line on the thread that logs it.
struct ThreadLog;

impl log::Log for ThreadLog {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        LINES.with(|l| l.borrow_mut().push((record.level(), record.args().to_string())));
    }
    fn flush(&self) {}
}

static LOGGER: ThreadLog = ThreadLog;

/// Builds a VM from `toml`, returning it and the lines logged meanwhile.
fn build(toml: &str) -> (Arc<Vm>, Arc<Console>, Vec<(log::Level, String)>) {
    // Another test may have installed it already: one logger per process.
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(log::LevelFilter::Trace);
    LINES.with(|l| l.borrow_mut().clear());
    let console = Arc::new(Console::default());
    let config = AxVMConfig::from(AxVMCrateConfig::from_toml(toml).unwrap());
    let vm = Vm::new(config, console.clone()).unwrap();
    take_events();
    let lines = LINES.with(|l| core::mem::take(&mut *l.borrow_mut()));
    (vm, console, lines)
}

fn x0(vm: &Vm, vcpu: usize) -> usize {
    vm.vcpu(vcpu).unwrap().lock().get_arch_vcpu().x0
}

fn has_line(lines: &[(log::Level, String)], want: &str) -> bool {
    lines
        .iter()
        .any(|(level, line)| *level == log::Level::Info && line == want)
}

#[test]
fn x0_points_at_the_default_place_of_the_tree() {
    // The kernel takes the start of RAM: the tree goes in its last 64 KiB.
    let (vm, _, lines) = build(MINIMAL);
    assert_eq!(vm.image_config().dtb_load_gpa, Some(0x40ff_0000));
    assert_eq!((x0(&vm, 0), x0(&vm, 1)), (0x40ff_0000, 0x40ff_0000));
    assert!(
        has_line(
            &lines,
            "VM 9 (bare): no dtb_load_addr in the config; the generated device tree goes at 0x40ff0000 \
             (the last 0x10000 bytes of kernel.memory_regions[0])"
        ),
        "{lines:#?}"
    );

    // The kernel elsewhere: the tree at the start of RAM.
    let moved = MINIMAL
        .replace("entry_point = 0x4000_0000", "entry_point = 0x4020_0000")
        .replace("kernel_load_addr = 0x4000_0000", "kernel_load_addr = 0x4020_0000");
    let (vm, _, _) = build(&moved);
    assert_eq!(x0(&vm, 0), 0x4000_0000);

    // A given address wins, and is not announced as a default.
    let given = MINIMAL.replace(
        "kernel_load_addr = 0x4000_0000",
        "kernel_load_addr = 0x4000_0000\ndtb_load_addr = 0x4080_0000",
    );
    let (vm, _, lines) = build(&given);
    assert_eq!(x0(&vm, 0), 0x4080_0000);
    assert!(!lines.iter().any(|(_, l)| l.contains("dtb_load_addr")), "{lines:#?}");

    // A guest that is not Linux gets no tree unless asked: x0 = 0.
    let (vm, _, _) = build(&MINIMAL.replace("vm_type = \"linux\"", "vm_type = \"rtos\""));
    assert_eq!(x0(&vm, 0), 0);
}

#[test]
fn a_vm_without_a_console_gets_the_default_pl011() {
    let (vm, console, lines) = build(MINIMAL);
    assert!(
        has_line(
            &lines,
            "VM 9 (bare): no console device in the config; using the default emulated PL011 at 0x9000000"
        ),
        "{lines:#?}"
    );
    assert_eq!(vm.devices().pl011s().len(), 1, "the VM really has the model");
    assert_eq!(vm.devices().len(), 3, "PL011, GICD, GICR");

    // The guest's writes reach the VM's console.
    let write = |data: u8| AxVCpuExitReason::MmioWrite {
        addr: GuestPhysAddr::from(0x0900_0000),
        width: AccessWidth::Byte,
        data: u64::from(data),
    };
    crate::arch_mock::script([write(b'o'), write(b'k'), write(b'\n'), AxVCpuExitReason::Halt]);
    assert_eq!(vm.run_vcpu(0, None), Ok(AxVCpuExitReason::Halt));
    let out = String::from_utf8(console.0.lock().unwrap().clone()).unwrap();
    assert_eq!(out, "bare:obare:kbare:\n", "each byte reaches the VM's console sink");

    // And the generated tree describes it, with its SPI, as the console.
    let blob = generate(vm.config(), None, None).unwrap();
    let fdt = fdt::Fdt::new(&blob).unwrap();
    let uart = fdt.find_node("/pl011@9000000").expect("the default console's node");
    let irq = uart.property("interrupts").unwrap().value;
    assert_eq!(
        irq,
        [0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 4],
        "SPI 1 (INTID 33), level high"
    );
    assert_eq!(fdt.chosen().stdout().map(|n| n.name), Some("pl011@9000000"));
}

#[test]
fn console_none_gives_no_uart_and_no_line() {
    let (vm, _, lines) = build(&format!("{MINIMAL}\n[devices]\nconsole = \"none\"\n"));
    assert!(vm.devices().pl011s().is_empty());
    assert!(!lines.iter().any(|(_, l)| l.contains("console")), "{lines:#?}");
    let blob = generate(vm.config(), None, None).unwrap();
    let fdt = fdt::Fdt::new(&blob).unwrap();
    assert!(fdt.find_node("/pl011@9000000").is_none());
    assert!(fdt.chosen().stdout().is_none());
}

#[test]
fn a_listed_uart_is_the_console() {
    let listed = format!(
        "{MINIMAL}\n[devices]\nemu_devices = [{{ name = \"ser\", type = \"pl011\", gpa = 0x0c00_0000, size = 0x1000, irq = 40 }}]\n"
    );
    let (vm, _, lines) = build(&listed);
    assert_eq!(vm.devices().pl011s().len(), 1);
    assert!(!lines.iter().any(|(_, l)| l.contains("console")), "{lines:#?}");
    let blob = generate(vm.config(), None, None).unwrap();
    let fdt = fdt::Fdt::new(&blob).unwrap();
    assert!(fdt.find_node("/pl011@9000000").is_none());
    assert_eq!(fdt.chosen().stdout().map(|n| n.name), Some("pl011@c000000"));
}
