//! Host tests of the VM: building it from a config, its lifecycle, guest
//! memory access, the exit loop (with the scripted vCPU) and the generated
//! device tree.

use crate::arch_mock::{Event, script, set_emulation, take_events};
use crate::{AxVM, AxVMConfig, AxVMCrateConfig, AxVMHal};
use axdevice::ConsoleSink;
use axerrno::{AxError, AxResult};
use axvcpu::{
    AccessFlags, AccessWidth, AxVCpuExitReason, AxVCpuHal, GuestPhysAddr, HostPhysAddr, HostVirtAddr, LastExitFault,
    SysRegAddr,
};
use memory_addr::{PhysAddr, VirtAddr};
use std::alloc::Layout;
use std::string::String;
use std::sync::{Arc, Mutex};
use std::vec::Vec;

pub(crate) struct Paging;

impl page_table_multiarch::PagingHandler for Paging {
    fn alloc_frames(num: usize, align: usize) -> Option<PhysAddr> {
        let layout = Layout::from_size_align(num * 0x1000, align.max(0x1000)).ok()?;
        // SAFETY: non-zero size; the test process owns the memory.
        let p = unsafe { std::alloc::alloc_zeroed(layout) };
        (!p.is_null()).then(|| PhysAddr::from(p as usize))
    }
    fn dealloc_frames(paddr: PhysAddr, num: usize) {
        let layout = Layout::from_size_align(num * 0x1000, 0x1000).unwrap();
        // SAFETY: allocated above with this layout (alignment only matters
        // for the allocator's bookkeeping on the system allocator).
        unsafe { std::alloc::dealloc(paddr.as_usize() as *mut u8, layout) };
    }
    fn phys_to_virt(paddr: PhysAddr) -> VirtAddr {
        VirtAddr::from(paddr.as_usize())
    }
}

std::thread_local! {
    /// The vCPUs the VM asked the host to notify, on this thread.
    pub(crate) static KICKS: std::cell::RefCell<Vec<(usize, usize)>> = const { std::cell::RefCell::new(Vec::new()) };
    /// The guest-owned physical interrupts the VM asked the host to
    /// unmask, on this thread.
    pub(crate) static UNMASKS: std::cell::RefCell<Vec<usize>> = const { std::cell::RefCell::new(Vec::new()) };
}

pub(crate) struct Hal;

impl AxVMHal for Hal {
    type PagingHandler = Paging;
    fn alloc_memory_region_at(_base: HostPhysAddr, _size: usize, _vm_id: usize) -> Result<(), alloc::string::String> {
        Err("the mock host has no memory to reserve".into())
    }
    fn dealloc_memory_region_at(_base: HostPhysAddr, _size: usize) {}
    fn virt_to_phys(vaddr: HostVirtAddr) -> HostPhysAddr {
        HostPhysAddr::from(vaddr.as_usize())
    }
    fn current_time_nanos() -> u64 {
        0
    }
    fn current_ticks() -> u64 {
        0
    }
    fn ticks_per_sec() -> u64 {
        1_000_000_000
    }
    fn wake_no_later_than_ticks(_deadline: u64) {}
    fn current_vm_id() -> usize {
        0
    }
    fn current_vcpu_id() -> usize {
        0
    }
    fn current_pcpu_id() -> usize {
        0
    }
    fn vcpu_resides_on(_vm_id: usize, vcpu_id: usize) -> AxResult<usize> {
        Ok(vcpu_id)
    }
    fn inject_irq_to_vcpu(vm_id: usize, vcpu_id: usize, _irq: usize) -> AxResult {
        KICKS.with(|k| k.borrow_mut().push((vm_id, vcpu_id)));
        Ok(())
    }
}

pub(crate) struct VHal;

impl AxVCpuHal for VHal {
    fn alloc_frame() -> Option<HostPhysAddr> {
        None
    }
    fn dealloc_frame(_paddr: HostPhysAddr) {}
    fn phys_to_virt(paddr: HostPhysAddr) -> HostVirtAddr {
        HostVirtAddr::from(paddr.as_usize())
    }
    fn virt_to_phys(vaddr: HostVirtAddr) -> HostPhysAddr {
        HostPhysAddr::from(vaddr.as_usize())
    }
    fn irq_fetch() -> usize {
        0
    }
    fn handle_host_irq(_irq: usize) {}
    fn current_time_nanos() -> u64 {
        0
    }
    fn unmask_guest_irq(irq: usize) {
        UNMASKS.with(|u| u.borrow_mut().push(irq));
    }
}

#[derive(Default)]
pub(crate) struct Console(pub(crate) Mutex<Vec<u8>>);

impl ConsoleSink for Console {
    fn write_bytes(&self, vm_name: &str, bytes: &[u8]) {
        let mut out = self.0.lock().unwrap();
        out.extend_from_slice(vm_name.as_bytes());
        out.push(b':');
        out.extend_from_slice(bytes);
    }
}

pub(crate) const CONFIG: &str = r#"
[base]
id = 3
name = "unit"
cpu_num = 2

[kernel]
entry_point = 0x4008_0000
kernel_path = "k.bin"
kernel_load_addr = 0x4008_0000
dtb_load_addr = 0x4000_0000
cmdline = "console=ttyAMA0"
memory_regions = [{ gpa = 0x4000_0000, size = 0x20_0000, flags = "rwx", map = "alloc" }]

[devices]
emu_devices = [
    { name = "uart0", type = "pl011", gpa = 0x0900_0000, size = 0x1000 },
    { name = "testdev", type = "test_device", gpa = 0x0a00_0000, size = 0x1000 },
]
"#;

pub(crate) type Vm = AxVM<Hal, VHal>;

fn config() -> AxVMConfig {
    AxVMConfig::from(AxVMCrateConfig::from_toml(CONFIG).unwrap())
}

fn vm() -> (Arc<Vm>, Arc<Console>) {
    let console = Arc::new(Console::default());
    let vm = Vm::new(config(), console.clone()).unwrap();
    let entries = take_events();
    assert_eq!(
        entries,
        [Event::Entry(0x4008_0000), Event::Entry(0x4008_0000)],
        "setup sets each vCPU's entry"
    );
    (vm, console)
}

#[test]
fn built_from_config() {
    let (vm, _) = vm();
    assert_eq!((vm.id(), vm.name(), vm.vcpu_num()), (3, "unit", 2));
    assert_eq!(vm.bsp_entry(), GuestPhysAddr::from(0x4008_0000));
    assert_eq!(vm.devices().len(), 4, "UART, test device, GICD, GICR");
    assert!(vm.vcpu(2).is_none());
}

#[test]
fn boot_and_shutdown_are_one_way() {
    let (vm, _) = vm();
    assert!(!vm.running());
    vm.boot().unwrap();
    assert_eq!(vm.boot(), Err(AxError::BadState));
    assert!(vm.running());
    vm.shutdown().unwrap();
    assert_eq!(vm.shutdown(), Err(AxError::BadState));
    assert!(!vm.running());
    assert_eq!(vm.boot(), Err(AxError::BadState));
}

#[test]
fn guest_memory_round_trip_and_bounds() {
    let (vm, _) = vm();
    let data: Vec<u8> = (0..0x3000u32).map(|i| i as u8).collect();
    // Spans pages (frames are not contiguous on the host).
    vm.write_guest(GuestPhysAddr::from(0x4000_0800), &data).unwrap();
    let mut back = vec![0u8; data.len()];
    vm.read_guest(GuestPhysAddr::from(0x4000_0800), &mut back).unwrap();
    assert_eq!(back, data);
    // Past the end of RAM: refused, nothing written.
    let end = 0x4020_0000;
    assert!(vm.write_guest(GuestPhysAddr::from(end - 4), &[1; 8]).is_err());
    let mut tail = [0u8; 4];
    vm.read_guest(GuestPhysAddr::from(end - 4), &mut tail).unwrap();
    assert_eq!(tail, [0; 4]);
    assert!(vm.read_guest(GuestPhysAddr::from(usize::MAX - 1), &mut tail).is_err());
    assert!(vm.write_guest(GuestPhysAddr::from(0x1000), &[0]).is_err());
}

#[test]
fn bad_vcpu_id_is_invalid_input() {
    let (vm, _) = vm();
    assert_eq!(vm.run_vcpu(2, None), Err(AxError::InvalidInput));
}

pub(crate) fn mmio_read(
    addr: usize,
    width: AccessWidth,
    reg: usize,
    signed_ext: bool,
    reg_width: AccessWidth,
) -> AxVCpuExitReason {
    AxVCpuExitReason::MmioRead {
        addr: GuestPhysAddr::from(addr),
        width,
        reg,
        reg_width,
        signed_ext,
    }
}

pub(crate) const STOP: AxVCpuExitReason = AxVCpuExitReason::Halt;

#[test]
fn mmio_reads_complete_the_register_with_extension() {
    let (vm, _) = vm();
    script([
        mmio_read(0x0a00_0000, AccessWidth::Qword, 5, false, AccessWidth::Qword),
        mmio_read(0x0a00_0010, AccessWidth::Byte, 6, true, AccessWidth::Qword),
        mmio_read(0x0a00_0010, AccessWidth::Word, 7, true, AccessWidth::Dword),
        STOP,
    ]);
    assert_eq!(vm.run_vcpu(0, None), Ok(STOP), "handled exits do not reach the caller");
    assert_eq!(
        take_events(),
        [
            Event::Gpr(5, 0x5445_5354_4445_5631),
            Event::Gpr(6, 0xffff_ffff_ffff_ff80),
            Event::Gpr(7, 0xffff_8080),
        ]
    );
}

#[test]
fn a_hypercall_answer_is_set_before_the_next_entry() {
    let (vm, _) = vm();
    script([STOP]);
    assert_eq!(vm.run_vcpu(0, Some(0x1234)), Ok(STOP));
    assert_eq!(take_events(), [Event::Gpr(0, 0x1234)]);
}

#[test]
fn mmio_write_reaches_the_device_and_the_console() {
    let (vm, console) = vm();
    let write = |addr: usize, data: u64| AxVCpuExitReason::MmioWrite {
        addr: GuestPhysAddr::from(addr),
        width: AccessWidth::Byte,
        data,
    };
    script([write(0x0900_0000, b'h' as u64), write(0x0900_0000, b'\n' as u64), STOP]);
    assert_eq!(vm.run_vcpu(0, None), Ok(STOP));
    assert!(take_events().is_empty());
    let out = String::from_utf8(console.0.lock().unwrap().clone()).unwrap();
    assert!(out.contains('h') && out.starts_with("unit:"), "{out:?}");
}

#[test]
fn accesses_nothing_answers_become_guest_faults() {
    let (vm, _) = vm();
    script([
        mmio_read(0x2000_0000, AccessWidth::Dword, 1, false, AccessWidth::Dword),
        AxVCpuExitReason::MmioWrite {
            addr: GuestPhysAddr::from(0x0a00_0ffc),
            width: AccessWidth::Qword,
            data: 0,
        },
        AxVCpuExitReason::SysRegRead {
            addr: SysRegAddr::new(0x3a_3016),
            reg: 2,
        },
        AxVCpuExitReason::NestedPageFault {
            addr: GuestPhysAddr::from(0x3000_0000),
            access_flags: AccessFlags::READ,
        },
        STOP,
    ]);
    assert_eq!(vm.run_vcpu(0, None), Ok(STOP));
    assert_eq!(
        take_events(),
        [
            Event::Fault(LastExitFault::Access),
            Event::Fault(LastExitFault::Access),
            Event::Fault(LastExitFault::Undefined),
            Event::Fault(LastExitFault::Access),
        ]
    );
}

#[test]
fn a_guest_that_cannot_take_its_fault_stops_the_run() {
    let (vm, _) = vm();
    vm.vcpu(1).unwrap().lock().get_arch_vcpu().refuse_faults = true;
    script([mmio_read(0x2000_0000, AccessWidth::Dword, 1, false, AccessWidth::Dword)]);
    assert_eq!(vm.run_vcpu(1, None), Err(AxError::BadState));
}

/// A device access without syndrome at the test device's scratch register.
const NO_SYNDROME_WRITE: AxVCpuExitReason = AxVCpuExitReason::NestedPageFault {
    addr: GuestPhysAddr::from_usize(0x0a00_0008),
    access_flags: AccessFlags::WRITE,
};

#[test]
fn device_access_without_syndrome_is_emulated_by_the_vcpu() {
    let (vm, _) = vm();
    vm.write_guest(GuestPhysAddr::from(0x4000_1000), &0xa941_0861u32.to_le_bytes())
        .unwrap();
    // "The instruction": fetched from RAM, then two device writes (a pair).
    set_emulation(Some(|bus| {
        assert_eq!(bus.read_insn(0x4000_1000), Some(0xa941_0861));
        // Device pages, holes and the end of RAM are no instruction memory.
        assert_eq!(bus.read_insn(0x0a00_0000), None);
        assert_eq!(bus.read_insn(0x3000_0000), None);
        assert_eq!(bus.read_insn(0x4020_0000 - 2), None);
        bus.device_access(0x0a00_0008, AccessWidth::Dword, true, 0x1122_3344)
            .unwrap();
        bus.device_access(0x0a00_000c, AccessWidth::Dword, true, 0x5566_7788)
            .unwrap();
        assert_eq!(
            bus.device_access(0x0a00_0008, AccessWidth::Qword, false, 0),
            Ok(0x5566_7788_1122_3344)
        );
        Ok(())
    }));
    script([NO_SYNDROME_WRITE, STOP]);
    let result = vm.run_vcpu(0, None);
    set_emulation(None);
    assert_eq!(result, Ok(STOP));
    assert_eq!(take_events(), []);
    assert_eq!(
        vm.devices()
            .handle_mmio_read(GuestPhysAddr::from(0x0a00_0008), AccessWidth::Qword),
        Ok(0x5566_7788_1122_3344)
    );
}

#[test]
fn device_access_without_syndrome_that_fails_becomes_a_guest_abort() {
    let (vm, _) = vm();
    // The instruction reaches past the device (RAM or nothing): the bus
    // refuses, the vCPU reports it, the guest takes the access abort and
    // the VM runs on.
    set_emulation(Some(|bus| {
        assert!(bus.device_access(0x3000_0000, AccessWidth::Qword, true, 0).is_err());
        assert!(bus.device_access(0x4000_0000, AccessWidth::Qword, false, 0).is_err());
        Err(arm_vcpu::a64::NotEmulated::Exec(arm_vcpu::a64::ExecError::Access {
            va: 0x3000_0000,
        }))
    }));
    script([NO_SYNDROME_WRITE, STOP]);
    let result = vm.run_vcpu(0, None);
    set_emulation(None);
    assert_eq!(result, Ok(STOP));
    assert_eq!(take_events(), [Event::Fault(LastExitFault::Access)]);
    // An exit the vCPU cannot emulate at all (not a data abort): the same.
    script([NO_SYNDROME_WRITE, STOP]);
    assert_eq!(vm.run_vcpu(0, None), Ok(STOP));
    assert_eq!(take_events(), [Event::Fault(LastExitFault::Access)]);
}

#[test]
fn other_exits_go_to_the_caller() {
    let (vm, _) = vm();
    let hc = AxVCpuExitReason::Hypercall {
        nr: 0xc600_0000,
        args: [0; 6],
    };
    script([hc.clone(), AxVCpuExitReason::SystemDown]);
    assert_eq!(vm.run_vcpu(0, None), Ok(hc));
    assert_eq!(vm.run_vcpu(0, None), Ok(AxVCpuExitReason::SystemDown));
}

#[test]
fn broken_configs_are_refused() {
    let console: Arc<dyn ConsoleSink> = Arc::new(Console::default());
    let zero = CONFIG.replace("cpu_num = 2", "cpu_num = 0");
    let cfg = AxVMConfig::from(AxVMCrateConfig::from_toml(&zero).unwrap());
    assert_eq!(Vm::new(cfg, console.clone()).err(), Some(AxError::InvalidInput));
    let overlap = CONFIG.replace("gpa = 0x0a00_0000", "gpa = 0x0900_0800");
    let cfg = AxVMConfig::from(AxVMCrateConfig::from_toml(&overlap).unwrap());
    assert!(Vm::new(cfg, console).is_err());
}

#[test]
fn generated_device_tree_describes_the_vm() {
    let blob = crate::fdt::generate(&config(), Some((0x4100_0000, 0x1000)), None).unwrap();
    let fdt = fdt::Fdt::new(&blob).unwrap();
    let mem: Vec<_> = fdt
        .memory()
        .regions()
        .map(|r| (r.starting_address as usize, r.size))
        .collect();
    assert_eq!(mem, [(0x4000_0000, Some(0x20_0000))]);
    assert_eq!(fdt.cpus().count(), 2);
    let chosen = fdt.chosen();
    assert_eq!(chosen.bootargs(), Some("console=ttyAMA0"));
    assert_eq!(chosen.stdout().map(|n| n.name), Some("pl011@9000000"));
    let initrd = fdt.find_node("/chosen").unwrap();
    assert_eq!(
        initrd.property("linux,initrd-start").and_then(|p| p.as_usize()),
        Some(0x4100_0000)
    );
    assert_eq!(
        fdt.find_node("/psci").unwrap().property("method").unwrap().as_str(),
        Some("hvc")
    );
}

#[test]
fn map_and_unmap_regions_at_run_time() {
    let (vm, _) = vm();
    let gpa = GuestPhysAddr::from(0x5000_0000);
    assert!(vm.write_guest(gpa, &[7]).is_err(), "nothing there yet");
    // Back the new region with a host buffer (the tests' host "RAM").
    let frame = <Paging as page_table_multiarch::PagingHandler>::alloc_frames(2, 0x1000).unwrap();
    let flags = axaddrspace::MappingFlags::READ | axaddrspace::MappingFlags::WRITE;
    vm.map_region(gpa, HostPhysAddr::from(frame.as_usize()), 0x2000, flags)
        .unwrap();
    vm.write_guest(GuestPhysAddr::from(0x5000_0ffe), &[1, 2, 3, 4]).unwrap();
    let mut back = [0u8; 4];
    vm.read_guest(GuestPhysAddr::from(0x5000_0ffe), &mut back).unwrap();
    assert_eq!(
        back,
        [1, 2, 3, 4],
        "the write crossed into the second page of the host buffer"
    );
    assert!(
        vm.map_region(gpa, HostPhysAddr::from(frame.as_usize()), 0x1000, flags)
            .is_err(),
        "already mapped"
    );
    vm.unmap_region(gpa, 0x2000).unwrap();
    assert!(vm.read_guest(gpa, &mut back).is_err());
    <Paging as page_table_multiarch::PagingHandler>::dealloc_frames(frame, 2);
}

#[test]
fn alloc_regions_of_any_alignment_are_backed_in_chunks() {
    // 3 MiB + 12 KiB at an address aligned to 4 KiB only: chunks of 1, 2,
    // ... pages up to the alignment, all readable and writable across their
    // boundaries.
    let cfg = CONFIG.replace(
        "{ gpa = 0x4000_0000, size = 0x20_0000, flags = \"rwx\", map = \"alloc\" }",
        "{ gpa = 0x4000_1000, size = 0x30_3000, flags = \"rwx\", map = \"alloc\" }",
    );
    let cfg = cfg.replace("dtb_load_addr = 0x4000_0000", "dtb_load_addr = 0x4000_1000");
    let vm = Vm::new(
        AxVMConfig::from(AxVMCrateConfig::from_toml(&cfg).unwrap()),
        Arc::new(Console::default()),
    )
    .unwrap();
    take_events();
    let data: Vec<u8> = (0..0x30_3000u32).map(|i| (i % 251) as u8).collect();
    vm.write_guest(GuestPhysAddr::from(0x4000_1000), &data).unwrap();
    let mut back = vec![0u8; data.len()];
    vm.read_guest(GuestPhysAddr::from(0x4000_1000), &mut back).unwrap();
    assert!(back == data, "every byte round-trips");
    let mut one = [0u8; 1];
    assert!(
        vm.read_guest(GuestPhysAddr::from(0x4000_0fff), &mut one).is_err(),
        "below the region"
    );
    assert!(
        vm.read_guest(GuestPhysAddr::from(0x4030_4000), &mut one).is_err(),
        "past the region"
    );
}

#[test]
fn small_pages_regions_get_no_stage2_blocks() {
    // A 2 MiB block needs a guest and a host address both aligned to 2 MiB:
    // with small_pages no 2 MiB-aligned guest address maps to one.
    const BLOCK: usize = 0x20_0000;
    let region = "{ gpa = 0x4000_0000, size = 0x20_0000, flags = \"rwx\", map = \"alloc\" }";
    for small in [false, true] {
        let four_mib = format!(
            "{{ gpa = 0x4000_0000, size = 0x40_0000, flags = \"rwx\", map = \"alloc\", small_pages = {small} }}"
        );
        let cfg = CONFIG.replace(region, &four_mib);
        let vm = Vm::new(
            AxVMConfig::from(AxVMCrateConfig::from_toml(&cfg).unwrap()),
            Arc::new(Console::default()),
        )
        .unwrap();
        take_events();
        for gpa in [0x4000_0000, 0x4020_0000] {
            let hpa = vm.host_address_of(gpa).expect("mapped");
            assert_eq!(
                hpa.is_multiple_of(BLOCK),
                !small,
                "small_pages = {small}: {gpa:#x} -> {hpa:#x}"
            );
        }
        // Every byte round-trips either way.
        let data: Vec<u8> = (0..0x40_0000u32).map(|i| (i % 253) as u8).collect();
        vm.write_guest(GuestPhysAddr::from(0x4000_0000), &data).unwrap();
        let mut back = vec![0u8; data.len()];
        vm.read_guest(GuestPhysAddr::from(0x4000_0000), &mut back).unwrap();
        assert!(back == data, "small_pages = {small}");
    }
}
