//! The host's GICv3: distributor, one redistributor per CPU, and the CPU
//! interface through the ICC system registers.
//!
//! Uses the `arm-gic` crate (maintained by trustedfirmware.org) with its
//! `el2` feature for the register work; this module only owns the one
//! driver instance, the order of bring-up and the acknowledge/EOI path.

use arm_gic::{
    IntId, InterruptGroup, UniqueMmioPointer,
    gicv3::{
        GicCpuInterface, GicV3, SgiTarget, SgiTargetGroup,
        registers::{Gicd, GicrSgi},
    },
};
use core::ptr::NonNull;
use kspin::SpinNoIrq;

/// Lowest priority: the mask that lets every interrupt through.
const PRIORITY_MASK_ALL: u8 = 0xff;

struct Gic(GicV3<'static>);

// SAFETY: the driver holds pointers to the GIC's MMIO frames, which are
// shared by all CPUs by design; every use goes through the `GIC` lock.
unsafe impl Send for Gic {}

static GIC: SpinNoIrq<Option<Gic>> = SpinNoIrq::new(None);

/// Why the GIC could not be brought up.
#[derive(Debug)]
pub struct GicInitError;

/// Brings up the distributor and every redistributor, and this CPU's
/// interface. Boot CPU only, before the other CPUs start. `gicd` and `gicr`
/// are the frames' physical (= virtual) addresses, inside the device map.
pub fn init_primary(gicd: usize, gicr: usize, cpu_count: usize, cpu_id: usize) -> Result<(), GicInitError> {
    let (Some(d), Some(r)) = (NonNull::new(gicd as *mut Gicd), NonNull::new(gicr as *mut GicrSgi)) else {
        return Err(GicInitError);
    };
    // SAFETY: `gicd`/`gicr` come from the device tree (or the platform
    // constants), lie in the identity-mapped device window, and nothing else
    // in the kernel maps or drives the GIC: this is the only instance.
    let mut gic = unsafe { GicV3::new(UniqueMmioPointer::new(d), r, cpu_count) }.map_err(|_| GicInitError)?;
    GicCpuInterface::enable_system_register_el2(true);
    gic.setup(cpu_id);
    GicCpuInterface::set_priority_mask(PRIORITY_MASK_ALL);
    split_eoi();
    *GIC.lock() = Some(Gic(gic));
    Ok(())
}

/// Brings up this secondary CPU's redistributor and interface.
pub fn init_secondary(cpu_id: usize) {
    GicCpuInterface::enable_system_register_el2(true);
    if let Some(g) = GIC.lock().as_mut() {
        g.0.init_cpu(cpu_id);
    }
    GicCpuInterface::enable_group1(true);
    GicCpuInterface::set_priority_mask(PRIORITY_MASK_ALL);
    split_eoi();
}

/// ICC_CTLR_EL1.EOImode (bit 1): a write to ICC_EOIR1_EL1 only drops the
/// running priority; ICC_DIR_EL1 deactivates. The split lets the host leave
/// an interrupt it forwards to a guest active, for the guest's deactivation
/// (through a list register linked to it) to end it.
const ICC_CTLR_EOIMODE: u64 = 1 << 1;

/// Splits priority drop and deactivation on this CPU.
fn split_eoi() {
    let ctlr: u64;
    // SAFETY: ICC_CTLR_EL1 (S3_0_C12_C12_4) is this CPU's interface control,
    // accessible at EL2 once ICC_SRE_EL2.SRE is set (done above); setting
    // EOImode changes only how the EOI path of this module works.
    unsafe {
        core::arch::asm!("mrs {}, S3_0_C12_C12_4", out(reg) ctlr, options(nomem, nostack));
        core::arch::asm!("msr S3_0_C12_C12_4, {}", "isb", in(reg) ctlr | ICC_CTLR_EOIMODE, options(nostack));
    }
}

/// Enables or disables an interrupt. For SGIs and PPIs `cpu_id` names the
/// CPU whose redistributor is changed. Returns false for an INTID the GIC
/// does not have.
pub fn set_enable(intid: u32, cpu_id: usize, enable: bool) -> bool {
    let Some(id) = to_intid(intid) else { return false };
    let cpu = id.is_private().then_some(cpu_id);
    GIC.lock()
        .as_mut()
        .is_some_and(|g| g.0.enable_interrupt(id, cpu, enable).is_ok())
}

/// Acknowledges the highest priority pending interrupt; `None` if spurious.
pub fn acknowledge() -> Option<u32> {
    GicCpuInterface::get_and_acknowledge_interrupt(InterruptGroup::Group1).map(|i| i.into())
}

/// Drops the running priority of an acknowledged interrupt (EOImode 1:
/// it stays active until [`deactivate`]).
pub fn priority_drop(intid: u32) {
    if let Some(id) = to_intid(intid) {
        GicCpuInterface::end_interrupt(id, InterruptGroup::Group1);
    }
}

/// Deactivates an interrupt (ICC_DIR_EL1). For an SPI this works from any
/// CPU; an interrupt that is not active is left as it is.
pub fn deactivate(intid: u32) {
    if to_intid(intid).is_none() {
        return;
    }
    // SAFETY: ICC_DIR_EL1 (S3_0_C12_C11_1) takes an INTID and only changes
    // that interrupt's active state; the INTID was checked above.
    unsafe { core::arch::asm!("msr S3_0_C12_C11_1, {}", "isb", in(reg) u64::from(intid), options(nostack)) };
}

/// Routes SPI `intid` to the CPU with affinity `mpidr`.
pub fn route_spi(intid: u32, mpidr: u64) -> bool {
    let Some(id) = to_intid(intid).filter(|_| intid >= SPI_START) else {
        return false;
    };
    GIC.lock()
        .as_mut()
        .is_some_and(|g| g.0.distributor().set_routing(id, Some(mpidr)).is_ok())
}

/// First INTID of each class, and the first special INTID.
const PPI_START: u32 = 16;
const SPI_START: u32 = 32;
const SPECIAL_START: u32 = 1020;

/// An SGI, PPI or SPI number as the driver's type; `None` for anything else
/// (the driver's constructors panic on out-of-range numbers).
fn to_intid(raw: u32) -> Option<IntId> {
    match raw {
        0..PPI_START => Some(IntId::sgi(raw)),
        PPI_START..SPI_START => Some(IntId::ppi(raw - PPI_START)),
        SPI_START..SPECIAL_START => Some(IntId::spi(raw - SPI_START)),
        _ => None,
    }
}

/// Sends SGI `sgi` (0..15) to the CPU with affinity `mpidr`.
pub fn send_sgi(sgi: u32, mpidr: u64) -> bool {
    const AFF_BITS: u64 = 0xff;
    if sgi >= PPI_START || mpidr & AFF_BITS >= 16 {
        return false;
    }
    let target = SgiTarget::List {
        affinity3: ((mpidr >> 32) & AFF_BITS) as u8,
        affinity2: ((mpidr >> 16) & AFF_BITS) as u8,
        affinity1: ((mpidr >> 8) & AFF_BITS) as u8,
        target_list: 1 << (mpidr & AFF_BITS),
    };
    GicCpuInterface::send_sgi(IntId::sgi(sgi), target, SgiTargetGroup::CurrentGroup1).is_ok()
}
