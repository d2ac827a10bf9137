//! Address types shared by every crate of the virtualisation stack.
//!
//! Guest addresses are distinct types so that a guest physical address can
//! never be passed where a host one is expected. Host addresses are the
//! `memory_addr` types the host modules already use, so `axhal` and the page
//! tables need no conversion.

use memory_addr::{def_usize_addr, def_usize_addr_formatter};

/// A host physical address (what the host's MMU and page tables use).
pub type HostPhysAddr = memory_addr::PhysAddr;

/// A host virtual address (what a pointer in the hypervisor holds).
pub type HostVirtAddr = memory_addr::VirtAddr;

def_usize_addr! {
    /// A guest physical address: an intermediate physical address on
    /// aarch64, a guest physical address translated by EPT/NPT on x86.
    pub type GuestPhysAddr;

    /// A guest virtual address, translated by the guest's own page tables.
    pub type GuestVirtAddr;
}

def_usize_addr_formatter! {
    GuestPhysAddr = "GPA:{}";
    GuestVirtAddr = "GVA:{}";
}

#[cfg(test)]
mod tests {
    use super::*;
    use memory_addr::MemoryAddr;

    #[test]
    fn guest_addresses_format_with_their_kind() {
        assert_eq!(std::format!("{:?}", GuestPhysAddr::from(0x4000_0000)), "GPA:0x40000000");
        assert_eq!(std::format!("{:x}", GuestVirtAddr::from(0xabc)), "GVA:0xabc");
        assert_eq!(std::format!("{:?}", HostPhysAddr::from(0x10)), "PA:0x10");
    }

    #[test]
    fn guest_addresses_support_checked_arithmetic() {
        let top = GuestPhysAddr::from(usize::MAX - 1);
        assert_eq!(top.checked_add(2), None);
        assert_eq!(
            GuestPhysAddr::from(0x1000).checked_add(0x10),
            Some(GuestPhysAddr::from(0x1010))
        );
    }
}
