//! Which vCPU is bound to the current physical CPU.
//!
//! [`AxVCpu::bind`](crate::AxVCpu::bind) records its vCPU in a per-CPU slot
//! and [`AxVCpu::unbind`](crate::AxVCpu::unbind) clears it; the host reads
//! it with [`current_vcpu`] (for example in an interrupt handler that must
//! know whose guest was interrupted). The slot holds the vCPU's identity,
//! not a pointer, so reading it is safe from anywhere.
//!
//! The slot is one `u64`, so that writing it is a single store and an
//! interrupt handler on the same CPU never sees half of an update:
//! bit 63 says the slot is occupied, bits 32..63 hold the VM id and bits
//! 0..32 the vCPU id. That limits the ids a vCPU can have; [`fits_slot`]
//! checks them and [`AxVCpu::new`](crate::AxVCpu::new) refuses others.
//!
//! Backends: with `target_os = "none"` (the hypervisor) the slot is a
//! `percpu` static (the host initialises the per-CPU areas, as `axhal`
//! does); on a hosted target (the unit tests) it is a thread-local, a thread
//! standing for a physical CPU.

use crate::{VCpuId, VMId};

/// The vCPU bound to the current physical CPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CurrentVCpu {
    /// The VM the vCPU belongs to.
    pub vm_id: VMId,
    /// The vCPU's id inside its VM.
    pub vcpu_id: VCpuId,
}

/// Bit 63: the slot holds a vCPU.
const SLOT_OCCUPIED: u64 = 1 << 63;
/// Where the VM id starts in the slot.
const SLOT_VM_ID_SHIFT: u32 = 32;
/// The largest VM id the slot can hold (31 bits).
pub const MAX_SLOT_VM_ID: VMId = (1 << 31) - 1;
/// The largest vCPU id the slot can hold (32 bits).
pub const MAX_SLOT_VCPU_ID: VCpuId = u32::MAX as VCpuId;
/// The mask of the vCPU id in the slot.
const SLOT_VCPU_ID_MASK: u64 = u32::MAX as u64;

/// Whether a vCPU with these ids can be recorded in the per-CPU slot.
pub fn fits_slot(vm_id: VMId, vcpu_id: VCpuId) -> bool {
    vm_id <= MAX_SLOT_VM_ID && vcpu_id <= MAX_SLOT_VCPU_ID
}

/// Encodes `vcpu` into a slot value, `None` if its ids do not fit.
fn encode(vcpu: CurrentVCpu) -> Option<u64> {
    if !fits_slot(vcpu.vm_id, vcpu.vcpu_id) {
        return None;
    }
    let vm_id = u64::try_from(vcpu.vm_id).ok()?;
    let vcpu_id = u64::try_from(vcpu.vcpu_id).ok()?;
    Some(SLOT_OCCUPIED | (vm_id << SLOT_VM_ID_SHIFT) | vcpu_id)
}

/// Decodes a slot value.
fn decode(slot: u64) -> Option<CurrentVCpu> {
    if slot & SLOT_OCCUPIED == 0 {
        return None;
    }
    let vm_id = (slot & !SLOT_OCCUPIED) >> SLOT_VM_ID_SHIFT;
    let vcpu_id = slot & SLOT_VCPU_ID_MASK;
    Some(CurrentVCpu {
        vm_id: VMId::try_from(vm_id).ok()?,
        vcpu_id: VCpuId::try_from(vcpu_id).ok()?,
    })
}

/// The vCPU bound to the current physical CPU, if any.
pub fn current_vcpu() -> Option<CurrentVCpu> {
    decode(backend::load())
}

/// Records `vcpu` as bound to the current physical CPU. Returns `false`
/// (and records nothing) if its ids do not fit the slot.
pub(crate) fn set_current_vcpu(vcpu: CurrentVCpu) -> bool {
    match encode(vcpu) {
        Some(slot) => {
            backend::store(slot);
            true
        }
        None => false,
    }
}

/// Clears the slot if it names `vcpu`; leaves another vCPU's record alone.
pub(crate) fn clear_current_vcpu(vcpu: CurrentVCpu) {
    if current_vcpu() == Some(vcpu) {
        backend::store(0);
    }
}

/// The slot on the hypervisor: a `percpu` static.
///
/// `read_current`/`write_current` are single loads and stores of the
/// per-CPU `u64`, so an interrupt on this CPU sees the old or the new value.
/// The caller keeps the vCPU's runner on one physical CPU from `bind` to
/// `unbind` (VMX needs that anyway), so the CPU cannot change in between.
#[cfg(target_os = "none")]
mod backend {
    #[percpu::def_percpu]
    static CURRENT_VCPU_SLOT: u64 = 0;

    pub(super) fn load() -> u64 {
        CURRENT_VCPU_SLOT.read_current()
    }

    pub(super) fn store(slot: u64) {
        CURRENT_VCPU_SLOT.write_current(slot);
    }
}

/// The slot on a hosted target: a thread-local.
#[cfg(not(target_os = "none"))]
mod backend {
    use core::cell::Cell;

    std::thread_local! {
        static CURRENT_VCPU_SLOT: Cell<u64> = const { Cell::new(0) };
    }

    pub(super) fn load() -> u64 {
        CURRENT_VCPU_SLOT.with(Cell::get)
    }

    pub(super) fn store(slot: u64) {
        CURRENT_VCPU_SLOT.with(|s| s.set(slot));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slot_round_trips_extreme_ids() {
        for (vm_id, vcpu_id) in [
            (0, 0),
            (1, 2),
            (MAX_SLOT_VM_ID, 0),
            (0, MAX_SLOT_VCPU_ID),
            (MAX_SLOT_VM_ID, MAX_SLOT_VCPU_ID),
        ] {
            let vcpu = CurrentVCpu { vm_id, vcpu_id };
            assert_eq!(decode(encode(vcpu).unwrap()), Some(vcpu));
        }
    }

    #[test]
    fn ids_too_large_do_not_fit() {
        assert!(!fits_slot(MAX_SLOT_VM_ID + 1, 0));
        assert!(!fits_slot(0, MAX_SLOT_VCPU_ID + 1));
        assert!(!set_current_vcpu(CurrentVCpu {
            vm_id: MAX_SLOT_VM_ID + 1,
            vcpu_id: 0,
        }));
        assert_eq!(current_vcpu(), None);
    }

    #[test]
    fn empty_slot_decodes_to_none() {
        assert_eq!(decode(0), None);
        assert_eq!(current_vcpu(), None);
    }

    #[test]
    fn set_and_clear() {
        let a = CurrentVCpu { vm_id: 1, vcpu_id: 0 };
        let b = CurrentVCpu { vm_id: 1, vcpu_id: 1 };
        assert!(set_current_vcpu(a));
        assert_eq!(current_vcpu(), Some(a));
        // Clearing for another vCPU leaves the record alone.
        clear_current_vcpu(b);
        assert_eq!(current_vcpu(), Some(a));
        clear_current_vcpu(a);
        assert_eq!(current_vcpu(), None);
    }

    #[test]
    fn each_thread_has_its_own_slot() {
        let a = CurrentVCpu { vm_id: 2, vcpu_id: 3 };
        assert!(set_current_vcpu(a));
        let seen_elsewhere = std::thread::spawn(current_vcpu).join().unwrap();
        assert_eq!(seen_elsewhere, None);
        assert_eq!(current_vcpu(), Some(a));
        clear_current_vcpu(a);
    }
}
