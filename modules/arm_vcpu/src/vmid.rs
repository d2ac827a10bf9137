//! Stage-2 VMIDs: one per VM, from a [`VmidAllocator`].
//!
//! The TLB tags guest translations with the VMID in `VTTBR_EL2`, so two
//! VMs must never run with the same VMID at the same time, and a VMID given
//! to a new VM must carry no translation of the VM that had it before.
//!
//! - A VM holds one VMID for its whole life. Every vCPU of the VM asks for
//!   it by the VM's [`VmKey`] ([`VmidAllocator::acquire`]): the first gets a free VMID,
//!   the others the same one; each vCPU gives it back when it is dropped
//!   ([`VmidAllocator::release`]), and the VMID is free again once the
//!   last vCPU of the VM is gone (the VM retired or failed to build).
//! - VMID 0 is never given (a `VTTBR_EL2` left at reset holds it).
//! - The width is what the CPU has (`ID_AA64MMFR1_EL1.VMIDBits`): 16 bits
//!   where implemented (and `VTCR_EL2.VS` set), else 8, so at most 65535
//!   or 255 VMs exist at once. When none is left, creating a vCPU of a new
//!   VM fails with `ResourceBusy` and a log line naming the problem, and
//!   the VM is not created; nothing else changes.
//! - Free VMIDs are given in a round-robin order (the next free one after
//!   the last given), so a freed VMID is reused as late as possible.
//! - When the last vCPU of a VM releases the VMID, the caller invalidates
//!   every TLB entry of that VMID on every CPU (`TLBI VMALLS12E1IS` with
//!   the VMID loaded) before anything can acquire it again: the next owner
//!   starts clean. (No generation rollover is needed: VMIDs are only
//!   reused after that invalidation.)

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

/// What tells one VM from another here: a number unique to one boot of
/// one VM, shared by its vCPUs. Not the VM id: a restarted VM is a new VM
/// (new stage-2 tables) while vCPUs of its old boot may not be dropped
/// yet, and the two must not share a VMID.
pub type VmKey = u64;

/// A VMID as `VTTBR_EL2.VMID` holds it (8 or 16 bits).
pub type Vmid = u16;

/// Bits per bitmap word.
const WORD_BITS: usize = u64::BITS as usize;

/// One VM's VMID and how many of its vCPUs hold it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Holder {
    vmid: Vmid,
    vcpus: usize,
}

/// What [`VmidAllocator::release`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Released {
    /// Other vCPUs of the VM still hold the VMID.
    StillHeld,
    /// The VM's last vCPU released it: invalidate its TLB entries now.
    Freed(Vmid),
    /// The VM held no VMID (a release without an acquire).
    NotHeld,
}

/// The VMIDs in use and who holds them.
#[derive(Debug)]
pub struct VmidAllocator {
    /// Bit `v` set = VMID `v` in use.
    used: Vec<u64>,
    /// The number of VMIDs, 0 included (256 or 65536).
    count: usize,
    /// Where the search for a free VMID starts.
    next: usize,
    holders: BTreeMap<VmKey, Holder>,
}

impl VmidAllocator {
    /// An allocator of `bits`-bit VMIDs (8 or 16; anything else is taken as
    /// 8, the architectural minimum).
    pub fn new(bits: u32) -> Self {
        let bits = if bits == 16 { 16 } else { 8 };
        let count = 1usize << bits;
        let mut used = alloc::vec![0u64; count / WORD_BITS];
        // VMID 0 is reserved.
        if let Some(w) = used.first_mut() {
            *w |= 1;
        }
        Self {
            used,
            count,
            next: 1,
            holders: BTreeMap::new(),
        }
    }

    /// How many VMIDs can be held at once.
    pub fn capacity(&self) -> usize {
        self.count - 1
    }

    /// How many VMs hold a VMID.
    pub fn in_use(&self) -> usize {
        self.holders.len()
    }

    fn is_used(&self, v: usize) -> bool {
        self.used
            .get(v / WORD_BITS)
            .is_some_and(|w| w & (1 << (v % WORD_BITS)) != 0)
    }

    fn set_used(&mut self, v: usize, used: bool) {
        if let Some(w) = self.used.get_mut(v / WORD_BITS) {
            let bit = 1u64 << (v % WORD_BITS);
            if used {
                *w |= bit;
            } else {
                *w &= !bit;
            }
        }
    }

    /// The VMID of VM `vm` for one more of its vCPUs: the one the VM holds,
    /// or a free one. `None` when the VM holds none and none is free.
    pub fn acquire(&mut self, vm: VmKey) -> Option<Vmid> {
        if let Some(h) = self.holders.get_mut(&vm) {
            h.vcpus = h.vcpus.saturating_add(1);
            return Some(h.vmid);
        }
        let found = (0..self.count)
            .map(|i| (self.next + i) % self.count)
            .find(|&v| v != 0 && !self.is_used(v))?;
        let vmid = Vmid::try_from(found).ok()?;
        self.set_used(found, true);
        self.next = (found + 1) % self.count;
        self.holders.insert(vm, Holder { vmid, vcpus: 1 });
        Some(vmid)
    }

    /// One vCPU of VM `vm` gives its VMID back.
    pub fn release(&mut self, vm: VmKey) -> Released {
        let Some(h) = self.holders.get_mut(&vm) else {
            return Released::NotHeld;
        };
        h.vcpus = h.vcpus.saturating_sub(1);
        if h.vcpus > 0 {
            return Released::StillHeld;
        }
        let vmid = h.vmid;
        self.holders.remove(&vm);
        self.set_used(usize::from(vmid), false);
        Released::Freed(vmid)
    }

    /// The VMID VM `vm` holds, if any.
    pub fn vmid_of(&self, vm: VmKey) -> Option<Vmid> {
        self.holders.get(&vm).map(|h| h.vmid)
    }
}

#[cfg(test)]
mod tests;
