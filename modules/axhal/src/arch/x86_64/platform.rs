//! Platform bring-up in the order the runtime calls it: per-CPU data,
//! console and clocks first, then the boot information (the PVH start
//! info's memory map, the ACPI tables), then memory, then interrupts.
//! `axconfig` constants fill in what the firmware does not say.

use super::{acpi, lapic, mmu, power, timer};
use crate::dtb::{List, MAX_CPUS, MAX_RANGES, PhysRange};
use crate::mem::{self, MAX_FREE};
use axconfig::{devices, memory};
use core::fmt;
use spin::Once;

/// What the runtime's boot argument is, for its messages.
pub const BOOT_INFO_NAME: &str = "PVH start info";

/// The platform facts the host kernel uses.
#[derive(Clone, Copy, Debug, Default)]
pub struct PlatformInfo {
    /// RAM banks (the memory map's "RAM" entries).
    pub ram: List<PhysRange, MAX_RANGES>,
    /// Local APIC IDs of the CPUs, the boot CPU first.
    pub cpus: List<u64, MAX_CPUS>,
    /// Base of the IOAPIC.
    pub ioapic: usize,
}

/// What was wrong with the boot information (the constants are used
/// instead).
#[derive(Debug)]
pub enum BootInfoError {
    /// The start info or its memory map could not be mapped.
    Unmapped,
    /// The start info's magic is not `0x336ec578`.
    BadMagic(u32),
    /// A version 0 start info: no memory map.
    NoMemoryMap,
    /// No RSDP address.
    NoRsdp,
    /// The ACPI tables could not be read.
    Acpi(::acpi::AcpiError),
    /// The PIT does not count, so the clock rates are unknown.
    NoPit,
}

impl fmt::Display for BootInfoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unmapped => f.write_str("cannot map it"),
            Self::BadMagic(m) => write!(f, "bad magic {m:#x}"),
            Self::NoMemoryMap => f.write_str("no memory map (start info version 0)"),
            Self::NoRsdp => f.write_str("no ACPI RSDP"),
            Self::Acpi(e) => write!(f, "ACPI tables: {e:?}"),
            Self::NoPit => f.write_str("the PIT does not count: clock rates unknown"),
        }
    }
}

/// The PVH start info (Xen's `struct hvm_start_info`, version 1).
#[repr(C)]
#[derive(Clone, Copy)]
struct StartInfo {
    magic: u32,
    version: u32,
    flags: u32,
    nr_modules: u32,
    modlist_paddr: u64,
    cmdline_paddr: u64,
    rsdp_paddr: u64,
    memmap_paddr: u64,
    memmap_entries: u32,
    reserved: u32,
}

/// One memory map entry (`struct hvm_memmap_table_entry`).
#[repr(C)]
#[derive(Clone, Copy)]
struct MemmapEntry {
    addr: u64,
    size: u64,
    kind: u32,
    reserved: u32,
}

const START_INFO_MAGIC: u32 = 0x336e_c578;
/// Memory map entry type of usable RAM.
const MEMMAP_RAM: u32 = 1;
/// The low 1 MiB is left to the BIOS data and the AP trampoline.
const LOW_MEM_END: usize = 0x10_0000;

static INFO: Once<PlatformInfo> = Once::new();

/// The platform facts (after [`init_early`]; fallbacks before).
pub fn info() -> &'static PlatformInfo {
    INFO.call_once(fallback_info)
}

fn fallback_info() -> PlatformInfo {
    let mut info = PlatformInfo::default();
    info.ram.push(PhysRange {
        base: memory::PHYS_BASE,
        size: memory::PHYS_SIZE,
    });
    info.cpus.push(lapic::id() as u64);
    info.ioapic = devices::IOAPIC_BASE;
    info
}

/// Reads a `T` from firmware memory at `addr`, mapping it read-only first.
fn read_firmware<T: Copy>(addr: usize) -> Option<T> {
    let end = addr.checked_add(size_of::<T>())?;
    mmu::map_read(addr, end).ok()?;
    // SAFETY: the boot loader's structure at `addr`, just mapped
    // read-only; an unaligned read copies it out.
    Some(unsafe { (addr as *const T).read_unaligned() })
}

/// RAM banks and the RSDP from the PVH start info at `addr`.
fn read_start_info(addr: usize, info: &mut PlatformInfo) -> Result<usize, BootInfoError> {
    let si: StartInfo = read_firmware(addr).ok_or(BootInfoError::Unmapped)?;
    if si.magic != START_INFO_MAGIC {
        return Err(BootInfoError::BadMagic(si.magic));
    }
    if si.version < 1 || si.memmap_entries == 0 {
        return Err(BootInfoError::NoMemoryMap);
    }
    let mut ram = List::default();
    for i in 0..si.memmap_entries as usize {
        let at = (si.memmap_paddr as usize).saturating_add(i * size_of::<MemmapEntry>());
        let e: MemmapEntry = read_firmware(at).ok_or(BootInfoError::Unmapped)?;
        if e.kind == MEMMAP_RAM && e.size != 0 {
            ram.push(PhysRange {
                base: e.addr as usize,
                size: e.size as usize,
            });
        }
    }
    info.ram = ram;
    match si.rsdp_paddr as usize {
        0 => Err(BootInfoError::NoRsdp),
        rsdp => Ok(rsdp),
    }
}

/// CPUs, IOAPIC and the power-off registers from the ACPI tables.
fn read_acpi(rsdp: usize, info: &mut PlatformInfo) -> Result<(), BootInfoError> {
    let acpi = acpi::read(rsdp).map_err(BootInfoError::Acpi)?;
    let boot_cpu = lapic::id() as u64;
    let mut cpus = List::default();
    cpus.push(boot_cpu);
    for &id in acpi.apic_ids.as_slice().iter().filter(|&&id| id != boot_cpu) {
        cpus.push(id);
    }
    info.cpus = cpus;
    if let Some(base) = acpi.ioapic {
        info.ioapic = base;
    }
    if let Some(pm1a) = acpi.pm1a_cnt {
        power::set_sleep_control(pm1a, acpi.pm1b_cnt, acpi.s5.unwrap_or((0, 0)));
    }
    Ok(())
}

/// Boot CPU, first thing in the runtime: per-CPU data, console, clocks,
/// memory map, ACPI. Returns what was wrong with the boot information, if
/// anything (the constants are used instead); the caller logs it once the
/// logger is up.
pub fn init_early(cpu_id: usize, start_info: usize) -> Result<(), BootInfoError> {
    let areas = crate::percpu::init_areas().unwrap_or(0);
    if areas == 0 {
        power::fail_exit();
    }
    crate::percpu::init_this_cpu(cpu_id, true);
    crate::console::init(devices::UART_BASE);
    if let Some(what) = super::cpu::missing_feature() {
        crate::console::print_fmt_emergency(format_args!("FATAL: the hypervisor needs {what}\n"));
        power::fail_exit();
    }
    let clock = timer::calibrate().map_err(|_| BootInfoError::NoPit);

    let mut info = fallback_info();
    let parsed = read_start_info(start_info, &mut info).and_then(|rsdp| read_acpi(rsdp, &mut info));
    INFO.call_once(|| info);
    clock.and(parsed)
}

/// Maps all free RAM and returns it, for the allocator: RAM from the
/// memory map minus the kernel image and the low 1 MiB.
pub fn init_memory() -> List<PhysRange, MAX_FREE> {
    let reserved = [
        mem::kernel_image(),
        PhysRange {
            base: 0,
            size: LOW_MEM_END,
        },
    ];
    let free = mem::free_ranges(info().ram.as_slice(), &reserved);
    let mut mapped = List::default();
    for r in free.as_slice() {
        match r.end().map(|end| mmu::map_ram(r.base, end)) {
            Some(Ok(())) => {
                mapped.push(*r);
            }
            other => log::warn!("RAM {:#x}+{:#x} left unused: cannot map it ({other:?})", r.base, r.size),
        }
    }
    mapped
}

/// Brings up the interrupt controllers (boot CPU, before the others
/// start): this CPU's local APIC is on already; the legacy PICs and every
/// IOAPIC line are masked.
pub fn init_irq_primary(_cpu_count: usize) -> bool {
    log::info!(
        "clock: TSC {} kHz, local APIC timer {} kHz (measured against the PIT)",
        timer::frequency() / 1000,
        timer::lapic_frequency() / 1000
    );
    let lines = super::ioapic::init(info().ioapic);
    log::debug!("IOAPIC at {:#x}: {lines} lines, all masked", info().ioapic);
    true
}

/// Per-CPU setup of a secondary CPU: the per-CPU register (its local APIC
/// was set up on entry).
pub fn init_secondary(cpu_id: usize) {
    crate::percpu::init_this_cpu(cpu_id, false);
}
