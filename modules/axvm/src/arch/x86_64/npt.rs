//! AMD nested page tables: the x86 VM's stage-2 table under SVM.
//!
//! An NPT is an ordinary x86-64 4-level page table walked with the guest
//! physical address; the walk is a user-mode access, so every entry has
//! U/S set (tables get it from `page_table_entry`'s `X64PTE::new_table`,
//! leaves from [`MappingFlags::USER`], added here). `axaddrspace` 0.3 only
//! builds Intel EPT tables for x86_64, so this is its counterpart, with the
//! same methods the VM's memory code calls on `axaddrspace::AddrSpace`.
//! Every mapping is linear (the VM allocates its RAM itself); there are no
//! lazily filled areas, so a nested page fault is never resolved here.

use alloc::vec::Vec;
use axaddrspace::{GuestPhysAddr, MappingFlags};
use axerrno::{AxError, AxResult};
use memory_addr::{MemoryAddr, PhysAddr};
use page_table_entry::x86_64::X64PTE;
use page_table_multiarch::{PageTable64, PagingHandler, PagingMetaData};

/// Page size.
const PAGE: usize = 0x1000;

/// The NPT format: 4 levels, 48-bit guest physical addresses, 52-bit host
/// physical addresses.
pub(crate) struct NptMetadata;

impl PagingMetaData for NptMetadata {
    const LEVELS: usize = 4;
    const PA_MAX_BITS: usize = 52;
    const VA_MAX_BITS: usize = 48;
    type VirtAddr = GuestPhysAddr;

    /// Guest-physical addresses are not in the host's TLB: the vCPU
    /// flushes its guest's TLB (all ASIDs) when it is bound.
    fn flush_tlb(_vaddr: Option<GuestPhysAddr>) {}

    /// Guest physical addresses start at 0 and are not sign-extended.
    fn vaddr_is_valid(vaddr: usize) -> bool {
        vaddr >> Self::VA_MAX_BITS == 0
    }
}

/// An NPT and the linear ranges mapped in it.
pub(crate) struct NptSpace<H: PagingHandler> {
    pt: PageTable64<NptMetadata, X64PTE, H>,
    /// `[start, end)` of each mapping, for `clear`.
    mapped: Vec<(usize, usize)>,
    /// The end of the guest physical space.
    limit: usize,
}

impl<H: PagingHandler> NptSpace<H> {
    /// An empty table for guest physical addresses below `limit`.
    pub(crate) fn new(limit: usize) -> AxResult<Self> {
        Ok(Self {
            pt: PageTable64::try_new().map_err(|_| AxError::NoMemory)?,
            mapped: Vec::new(),
            limit,
        })
    }

    /// The root table's host physical address (the VMCB's N_CR3).
    pub(crate) fn page_table_root(&self) -> PhysAddr {
        self.pt.root_paddr()
    }

    fn check(&self, gpa: usize, size: usize) -> AxResult<usize> {
        let end = gpa
            .checked_add(size)
            .filter(|&e| e <= self.limit)
            .ok_or(AxError::InvalidInput)?;
        if !gpa.is_multiple_of(PAGE) || !size.is_multiple_of(PAGE) || size == 0 {
            return Err(AxError::InvalidInput);
        }
        Ok(end)
    }

    /// Maps `[gpa, gpa + size)` to `[hpa, hpa + size)` (2 MiB and 1 GiB
    /// pages where both sides are aligned).
    pub(crate) fn map_linear(
        &mut self,
        gpa: GuestPhysAddr,
        hpa: PhysAddr,
        size: usize,
        flags: MappingFlags,
    ) -> AxResult {
        let start = gpa.as_usize();
        let end = self.check(start, size)?;
        if !hpa.is_aligned_4k() {
            return Err(AxError::InvalidInput);
        }
        if self.mapped.iter().any(|&(s, e)| start < e && s < end) {
            return Err(AxError::AlreadyExists);
        }
        let base = hpa.as_usize();
        self.pt
            .cursor()
            .map_region(
                gpa,
                |va| PhysAddr::from(va.as_usize() - start + base),
                size,
                flags | MappingFlags::USER,
                true,
            )
            .map_err(|_| AxError::BadState)?;
        self.mapped.push((start, end));
        Ok(())
    }

    /// Unmaps `[gpa, gpa + size)`, which must be whole mappings.
    pub(crate) fn unmap(&mut self, gpa: GuestPhysAddr, size: usize) -> AxResult {
        let start = gpa.as_usize();
        let end = self.check(start, size)?;
        self.pt
            .cursor()
            .unmap_region(gpa, size)
            .map_err(|_| AxError::BadState)?;
        self.mapped.retain(|&(s, e)| !(s >= start && e <= end));
        Ok(())
    }

    /// Unmaps everything.
    pub(crate) fn clear(&mut self) {
        for (s, e) in core::mem::take(&mut self.mapped) {
            let _ = self.pt.cursor().unmap_region(GuestPhysAddr::from(s), e - s);
        }
    }

    /// Never resolves a fault: every mapping is made up front.
    pub(crate) fn handle_page_fault(&mut self, _gpa: GuestPhysAddr, _flags: MappingFlags) -> bool {
        false
    }

    /// The host physical address `gpa` maps to.
    pub(crate) fn translate(&self, gpa: GuestPhysAddr) -> Option<PhysAddr> {
        if gpa.as_usize() >= self.limit {
            return None;
        }
        self.pt.query(gpa).ok().map(|(pa, _, _)| pa)
    }

    /// The host memory behind `[gpa, gpa + len)`, a slice per page (or
    /// large page); `None` unless all of it is mapped.
    pub(crate) fn translated_byte_buffer(&self, gpa: GuestPhysAddr, len: usize) -> Option<Vec<&'static mut [u8]>> {
        let mut at = gpa.as_usize();
        let end = at.checked_add(len).filter(|&e| e <= self.limit)?;
        let mut out = Vec::new();
        while at < end {
            let (pa, _, size) = self.pt.query(GuestPhysAddr::from(at)).ok()?;
            let page: usize = size.into();
            let piece_end = (at & !(page - 1)).checked_add(page)?.min(end);
            let va = H::phys_to_virt(pa);
            // SAFETY: `pa` is guest RAM this VM owns (mapped by
            // `map_linear` from frames the VM allocated, or a range it
            // reserved), `phys_to_virt` gives the host's mapping of it, and
            // the piece stays inside the page it translates in.
            #[allow(unsafe_code)]
            let slice = unsafe { core::slice::from_raw_parts_mut(va.as_mut_ptr(), piece_end - at) };
            out.push(slice);
            at = piece_end;
        }
        Some(out)
    }
}

#[cfg(test)]
#[allow(unsafe_code)]
mod tests {
    use super::*;
    use memory_addr::VirtAddr;
    use std::alloc::{Layout, alloc_zeroed, dealloc};

    struct Heap;
    impl PagingHandler for Heap {
        fn alloc_frames(num: usize, align: usize) -> Option<PhysAddr> {
            let layout = Layout::from_size_align(num * PAGE, align.max(PAGE)).ok()?;
            // SAFETY: a non-zero size.
            let p = unsafe { alloc_zeroed(layout) };
            (!p.is_null()).then(|| PhysAddr::from(p as usize))
        }
        fn dealloc_frames(paddr: PhysAddr, num: usize) {
            let layout = Layout::from_size_align(num * PAGE, PAGE).unwrap();
            // SAFETY: allocated above with this layout (tables are single frames).
            unsafe { dealloc(paddr.as_usize() as *mut u8, layout) };
        }
        fn phys_to_virt(paddr: PhysAddr) -> VirtAddr {
            VirtAddr::from(paddr.as_usize())
        }
    }

    /// Reads entry `index` of the table at `pa`.
    fn entry(pa: usize, index: usize) -> u64 {
        // SAFETY: `pa` is a table frame of the test's heap.
        unsafe { (pa as *const u64).add(index).read() }
    }

    #[test]
    fn every_level_is_present_writable_and_user() {
        let mut npt = NptSpace::<Heap>::new(1 << 39).unwrap();
        let ram = Heap::alloc_frames(1, PAGE).unwrap();
        let flags = MappingFlags::READ | MappingFlags::WRITE | MappingFlags::EXECUTE;
        npt.map_linear(GuestPhysAddr::from(0x10_0000), ram, PAGE, flags)
            .unwrap();
        let root = npt.page_table_root().as_usize();
        let l4 = entry(root, 0);
        let l3 = entry((l4 & 0x000f_ffff_ffff_f000) as usize, 0);
        let l2 = entry((l3 & 0x000f_ffff_ffff_f000) as usize, 0);
        let l1 = entry((l2 & 0x000f_ffff_ffff_f000) as usize, 0x100);
        for e in [l4, l3, l2, l1] {
            assert_eq!(e & 0b111, 0b111, "P, RW, US in {e:#x}");
        }
        assert_eq!(l1 & 0x000f_ffff_ffff_f000, ram.as_usize() as u64);
        assert_eq!(l1 >> 63, 0, "executable");
        assert_eq!(npt.translate(GuestPhysAddr::from(0x10_0123)), Some(ram + 0x123));
        assert_eq!(npt.translate(GuestPhysAddr::from(0x20_0000)), None);
        let buf = npt
            .translated_byte_buffer(GuestPhysAddr::from(0x10_0ff0), 0x10)
            .unwrap();
        assert_eq!(buf.len(), 1);
        assert!(
            npt.translated_byte_buffer(GuestPhysAddr::from(0x10_0ff0), 0x11)
                .is_none()
        );
        // Overlaps, misalignment and the limit are refused.
        assert!(
            npt.map_linear(GuestPhysAddr::from(0x10_0000), ram, PAGE, flags)
                .is_err()
        );
        assert!(
            npt.map_linear(GuestPhysAddr::from(0x10_0800), ram, PAGE, flags)
                .is_err()
        );
        assert!(npt.map_linear(GuestPhysAddr::from(1 << 39), ram, PAGE, flags).is_err());
        npt.clear();
        assert_eq!(npt.translate(GuestPhysAddr::from(0x10_0000)), None);
        Heap::dealloc_frames(ram, 1);
    }
}
