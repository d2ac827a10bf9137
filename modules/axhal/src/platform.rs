//! Platform bring-up in the order the runtime calls it: console and device
//! tree first, then memory, then interrupts. Facts come from the device
//! tree; `axconfig` constants fill in what it lacks.

use crate::arch::MapError;
use crate::dtb::{self, List, PhysRange, PlatformInfo, PsciMethod};
use crate::mem::{self, MAX_FREE};
use axconfig::{devices, memory};
use spin::Once;

/// What the runtime's boot argument is, for its messages.
pub const BOOT_INFO_NAME: &str = "device tree";

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
    info.cpus.push(0);
    info
}

fn in_device_window(r: &PhysRange) -> bool {
    let window = memory::MMIO_BASE..memory::MMIO_BASE + memory::MMIO_SIZE;
    r.end().is_some_and(|end| window.contains(&r.base) && end <= window.end)
}

/// Boot CPU, first thing with the MMU on: per-CPU data, console, device
/// tree. Returns a description of what was wrong with the device tree, if
/// anything (the constants are used instead); the caller logs it once the
/// logger is up.
pub fn init_early(cpu_id: usize, dtb_addr: usize) -> Result<(), dtb::DtbError> {
    let areas = crate::percpu::init_areas().unwrap_or(0);
    if areas == 0 {
        crate::power::fail_exit();
    }
    crate::percpu::init_this_cpu(cpu_id, true);
    crate::console::init(devices::UART_BASE);

    let parsed = read_dtb(dtb_addr);
    let mut info = match parsed {
        Ok(i) => i,
        Err(_) => fallback_info(),
    };
    if info.gicd.is_none_or(|r| !in_device_window(&r)) {
        info.gicd = Some(PhysRange {
            base: devices::GICD_BASE,
            size: 0x1_0000,
        });
    }
    if info.gicr.is_none_or(|r| !in_device_window(&r)) {
        info.gicr = Some(PhysRange {
            base: devices::GICR_BASE,
            size: 0x2_0000 * axconfig::cpu::MAX_NUM,
        });
    }
    if let Some(uart) = info.uart.filter(in_device_window)
        && uart.base != devices::UART_BASE
    {
        crate::console::init(uart.base);
    }
    let psci = info.psci.unwrap_or(match devices::PSCI_METHOD {
        "hvc" => PsciMethod::Hvc,
        _ => PsciMethod::Smc,
    });
    crate::power::set_psci_method(psci);
    INFO.call_once(|| info);
    parsed.map(|_| ())
}

fn read_dtb(addr: usize) -> Result<PlatformInfo, dtb::DtbError> {
    const HEADER: usize = 40;
    if addr == 0 || !addr.is_multiple_of(8) {
        return Err(dtb::DtbError::Malformed);
    }
    // SAFETY: the boot loader placed a device tree at `addr` and the boot
    // map covers its header (mapped read-only by `mmu::init_boot_cpu`).
    let header = unsafe { core::slice::from_raw_parts(addr as *const u8, HEADER) };
    let total = u32::from_be_bytes([header[4], header[5], header[6], header[7]]) as usize;
    // SAFETY: the boot map covers the whole blob (it used the same
    // `totalsize` field); the blob is never written.
    let blob = unsafe { core::slice::from_raw_parts(addr as *const u8, total.max(HEADER)) };
    dtb::parse(blob, addr)
}

/// The device tree the machine booted with, when it had a valid one (the
/// hypervisor copies device nodes from it into guests' trees).
pub fn device_tree() -> Option<&'static [u8]> {
    let r = info().dtb;
    if r.base == 0 || r.size == 0 {
        return None;
    }
    // SAFETY: `init_early` parsed a blob of this size at this address; it
    // stays mapped read-only, is reserved from the allocator and is never
    // written.
    Some(unsafe { core::slice::from_raw_parts(r.base as *const u8, r.size) })
}

/// Maps all free RAM and returns it, for the allocator: RAM from the device
/// tree minus the kernel image, the device tree and firmware reservations.
pub fn init_memory() -> List<PhysRange, MAX_FREE> {
    let info = info();
    let mut reserved: List<PhysRange, { dtb::MAX_RANGES + 2 }> = List::default();
    reserved.push(mem::kernel_image());
    reserved.push(info.dtb);
    for r in info.reserved.as_slice() {
        reserved.push(*r);
    }
    let free = mem::free_ranges(info.ram.as_slice(), reserved.as_slice());
    let mut mapped = List::default();
    for r in free.as_slice() {
        // (A range whose end overflows is out of range too; the error's
        // own `Debug` rather than the `Option<Result>`'s, which costs
        // about 1 KiB of code.)
        match r
            .end()
            .map_or(Err(MapError::OutOfRange), |end| crate::arch::map_ram(r.base, end))
        {
            Ok(()) => {
                mapped.push(*r);
            }
            Err(e) => log::warn!("RAM {:#x}+{:#x} left unused: cannot map it ({e:?})", r.base, r.size),
        }
    }
    mapped
}

/// Brings up the interrupt controller (boot CPU, before the others start).
pub fn init_irq_primary(cpu_count: usize) -> bool {
    let info = info();
    let (Some(d), Some(r)) = (info.gicd, info.gicr) else {
        return false;
    };
    crate::arch::gic::init_primary(d.base, r.base, cpu_count, 0).is_ok()
}

/// Per-CPU setup of a secondary CPU: per-CPU register and GIC interface.
pub fn init_secondary(cpu_id: usize) {
    crate::percpu::init_this_cpu(cpu_id, false);
    crate::arch::gic::init_secondary(cpu_id);
}
