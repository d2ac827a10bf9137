//! The VMID allocator of this machine ([`crate::vmid`]) and the TLB
//! invalidation of a VMID given back.

use super::regs::{read_sysreg, write_sysreg};
use crate::vmid::{Released, VmKey, Vmid, VmidAllocator};
use axvcpu::VMId;
use kspin::SpinNoIrq;

/// Made on first use, with the width of the CPU that uses it first (every
/// CPU of a machine has the same).
static ALLOCATOR: SpinNoIrq<Option<VmidAllocator>> = SpinNoIrq::new(None);

/// VTTBR_EL2.VMID shift.
pub(super) const VTTBR_VMID_SHIFT: u64 = 48;

/// The VMID of the VM `key` (VM id `vm`) for one of its vCPUs; `None`
/// when every VMID is held by another VM.
pub(super) fn acquire(key: VmKey, vm: VMId, bits: u32) -> Option<Vmid> {
    let mut guard = ALLOCATOR.lock();
    let alloc = guard.get_or_insert_with(|| VmidAllocator::new(bits));
    let vmid = alloc.acquire(key);
    if vmid.is_none() {
        log::error!(
            "VM {vm}: no VMID left ({} VMs hold all {} of the {bits}-bit VMIDs); the VM cannot be created",
            alloc.in_use(),
            alloc.capacity()
        );
    }
    vmid
}

/// One vCPU of the VM `key` gives its VMID back; the last one invalidates
/// the VMID's TLB entries on every CPU before anyone can acquire it again.
pub(super) fn release(key: VmKey) {
    let mut guard = ALLOCATOR.lock();
    let Some(alloc) = guard.as_mut() else {
        return;
    };
    if let Released::Freed(vmid) = alloc.release(key) {
        invalidate_vmid(vmid);
    }
}

/// Invalidates every stage-1 and stage-2 TLB entry tagged with `vmid`, in
/// the inner shareable domain (every CPU).
fn invalidate_vmid(vmid: Vmid) {
    let saved = read_sysreg!(vttbr_el2);
    write_sysreg!(vttbr_el2, u64::from(vmid) << VTTBR_VMID_SHIFT);
    // SAFETY: TLB maintenance for the VMID just loaded (no VM runs with it:
    // its last vCPU is being dropped), then the VTTBR_EL2 of whatever is
    // bound here is put back. EL2's own translation does not use VTTBR_EL2.
    unsafe { core::arch::asm!("isb", "tlbi vmalls12e1is", "dsb ish", "isb", options(nostack)) };
    write_sysreg!(vttbr_el2, saved);
    // SAFETY: a barrier only.
    unsafe { core::arch::asm!("isb", options(nostack)) };
}
