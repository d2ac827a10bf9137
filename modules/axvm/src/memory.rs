//! The VM's stage-2 address space, built from its config, and guest memory
//! access for the host (loading images, reading the guest's buffers).

use crate::arch::{Stage2, new_stage2};
use crate::{AxVMConfig, AxVMHal};
use alloc::vec::Vec;
use axaddrspace::{GuestPhysAddr as AsGpa, MappingFlags};
use axerrno::{AxError, AxResult};
use axvcpu::HostPhysAddr;
use axvmconfig::{VmMemConfig, VmMemFlags, VmMemMappingType};
use memory_addr::PhysAddr;
use page_table_multiarch::PagingHandler;

/// Guest physical addresses span 39 bits (VTCR_EL2.T0SZ = 25).
pub(crate) const GPA_BITS: usize = 39;

/// Mapping flags of a config region.
pub(crate) fn mapping_flags(flags: VmMemFlags) -> MappingFlags {
    let mut f = MappingFlags::empty();
    for (from, to) in [
        (VmMemFlags::READ, MappingFlags::READ),
        (VmMemFlags::WRITE, MappingFlags::WRITE),
        (VmMemFlags::EXECUTE, MappingFlags::EXECUTE),
        (VmMemFlags::DEVICE, MappingFlags::DEVICE),
        (VmMemFlags::UNCACHED, MappingFlags::UNCACHED),
        (VmMemFlags::USER, MappingFlags::USER),
    ] {
        if flags.contains(from) {
            f |= to;
        }
    }
    f
}

/// Size of a page, and the most pages an `alloc` region takes in one
/// contiguous host chunk (64 MiB), and the pages of a stage-2 block (2 MiB).
const PAGE: usize = 0x1000;
const MAX_CHUNK_PAGES: usize = 1 << 14;
const BLOCK_PAGES: usize = 512;

/// The address space plus the host memory it owns: the identical ranges it
/// reserved, and the chunks backing its `alloc` regions.
pub(crate) struct GuestMemory<H: AxVMHal> {
    pub(crate) aspace: Stage2<H::PagingHandler>,
    reserved: Vec<(usize, usize)>,
    /// The chunks of `alloc` RAM, by guest address.
    chunks: Vec<Chunk>,
}

/// A contiguous piece of host memory backing `alloc` RAM.
#[derive(Clone, Copy)]
struct Chunk {
    /// Its first guest physical address.
    gpa: usize,
    /// The host physical address mapped at `gpa`.
    hpa: usize,
    /// How many pages are mapped.
    pages: usize,
    /// Pages allocated before `hpa` and never mapped (0, or 1 for a
    /// `small_pages` region: see [`GuestMemory::map_alloc`]).
    lead: usize,
}

impl<H: AxVMHal> GuestMemory<H> {
    /// Maps every memory region and passthrough device of `config`.
    pub(crate) fn new(config: &AxVMConfig) -> AxResult<Self> {
        let aspace = new_stage2(1 << GPA_BITS)?;
        let mut mem = Self {
            aspace,
            reserved: Vec::new(),
            chunks: Vec::new(),
        };
        for (i, region) in config.memory_regions().iter().enumerate() {
            mem.map_config_region(config.id(), i, region)?;
        }
        let flags = MappingFlags::DEVICE | MappingFlags::READ | MappingFlags::WRITE;
        // An empty window carries only an interrupt of a host node.
        for dev in config.pass_through_devices().iter().filter(|d| d.length > 0) {
            mem.aspace.map_linear(
                AsGpa::from(dev.base_gpa),
                PhysAddr::from(dev.base_hpa),
                dev.length,
                flags,
            )?;
        }
        for w in config.pass_through_addresses() {
            mem.aspace
                .map_linear(AsGpa::from(w.base_gpa), PhysAddr::from(w.base_gpa), w.length, flags)?;
        }
        Ok(mem)
    }

    fn map_config_region(&mut self, vm_id: usize, index: usize, r: &VmMemConfig) -> AxResult {
        let flags = mapping_flags(r.flags);
        match r.map_type {
            VmMemMappingType::MapAlloc => self.map_alloc(r.gpa, r.size, flags, r.small_pages),
            // Memory the host keeps out of its allocator (a reserved-memory
            // carve-out, memory outside the RAM it was given): mapped at the
            // same address, neither allocated nor returned.
            VmMemMappingType::MapReserved => {
                if let Err(why) = H::check_reserved_region(HostPhysAddr::from(r.gpa), r.size) {
                    log::error!(
                        "VM {vm_id}: kernel.memory_regions[{index}] (reserved at [{:#x}, {:#x})): {why}",
                        r.gpa,
                        r.gpa.saturating_add(r.size)
                    );
                    return Err(AxError::InvalidInput);
                }
                self.aspace
                    .map_linear(AsGpa::from(r.gpa), PhysAddr::from(r.gpa), r.size, flags)
            }
            VmMemMappingType::MapIdentical => {
                if r.flags.is_ram() {
                    if let Err(why) = H::alloc_memory_region_at(HostPhysAddr::from(r.gpa), r.size, vm_id) {
                        log::error!(
                            "VM {vm_id}: kernel.memory_regions[{index}] ({} at [{:#x}, {:#x})) cannot have its host memory: {why}",
                            r.map_type,
                            r.gpa,
                            r.gpa.saturating_add(r.size)
                        );
                        return Err(AxError::NoMemory);
                    }
                    self.reserved.push((r.gpa, r.size));
                }
                self.aspace
                    .map_linear(AsGpa::from(r.gpa), PhysAddr::from(r.gpa), r.size, flags)
            }
        }
    }

    /// The end of the `alloc` chunk that contains `gpa`, if one does.
    fn chunk_end(&self, gpa: usize) -> Option<usize> {
        let i = self.chunks.partition_point(|c| c.gpa <= gpa).checked_sub(1)?;
        let c = self.chunks.get(i)?;
        let end = c.gpa.checked_add(c.pages * PAGE)?;
        (gpa < end).then_some(end)
    }

    /// Backs `[gpa, gpa + size)` with fresh zeroed host memory in
    /// contiguous chunks (as large as the host allocator and the guest
    /// address's alignment allow, up to 64 MiB), mapped with 2 MiB stage-2
    /// blocks where both sides are aligned: a few allocations and a few
    /// hundred table entries for a Linux guest's RAM instead of one of each
    /// per 4 KiB page. Falls back to smaller chunks when the host memory is
    /// fragmented.
    ///
    /// With `small_pages` the stage-2 table gets 4 KiB pages only: each
    /// chunk is allocated one page longer (aligned as any chunk, to 2 MiB
    /// when it is that large) and mapped from its second page, so that no
    /// guest address aligned to 2 MiB meets a host address aligned to
    /// 2 MiB (a block needs both). One page per chunk is lost.
    fn map_alloc(&mut self, gpa: usize, size: usize, flags: MappingFlags, small_pages: bool) -> AxResult {
        if !gpa.is_multiple_of(PAGE) || !size.is_multiple_of(PAGE) {
            return Err(AxError::InvalidInput);
        }
        let mut gpa = gpa;
        let mut left = size / PAGE;
        while left > 0 {
            // Not beyond what the guest address's alignment lets line up.
            let gpa_align = 1usize << (gpa / PAGE).trailing_zeros().min(usize::BITS - 1);
            let mut pages = prev_power_of_two(left.min(MAX_CHUNK_PAGES)).min(gpa_align);
            let lead = usize::from(small_pages);
            let base = loop {
                let align = pages.min(BLOCK_PAGES) * PAGE;
                if let Some(base) = H::PagingHandler::alloc_frames(pages + lead, align) {
                    break base.as_usize();
                }
                if pages == 1 {
                    return Err(AxError::NoMemory);
                }
                pages /= 2;
            };
            let hpa = base + lead * PAGE;
            let at = self.chunks.partition_point(|c| c.gpa < gpa);
            self.chunks.insert(at, Chunk { gpa, hpa, pages, lead });
            self.aspace
                .map_linear(AsGpa::from(gpa), PhysAddr::from(hpa), pages * PAGE, flags)?;
            gpa += pages * PAGE;
            left -= pages;
        }
        Ok(())
    }

    /// Copies `data` into guest memory at `gpa`. Fails (writing nothing)
    /// unless the whole range is mapped.
    pub(crate) fn write(&self, gpa: usize, data: &[u8]) -> AxResult {
        let mut chunks = self.chunks(gpa, data.len())?;
        let mut off = 0;
        for c in chunks.iter_mut() {
            let n = c.len();
            c.copy_from_slice(&data[off..off + n]);
            off += n;
        }
        Ok(())
    }

    /// Reads guest memory at `gpa` into `buf`.
    pub(crate) fn read(&self, gpa: usize, buf: &mut [u8]) -> AxResult {
        let chunks = self.chunks(gpa, buf.len())?;
        let mut off = 0;
        for c in chunks {
            let n = c.len();
            buf[off..off + n].copy_from_slice(c);
            off += n;
        }
        Ok(())
    }

    /// Whether `[gpa, gpa + len)` lies inside one RAM region of the VM: an
    /// `alloc` chunk or a reserved `identical` RAM region (not a device
    /// region, whose host address may not be in the host's linear map).
    /// (Used by the aarch64 instruction fetch; x86 decodes in its vCPU.)
    #[cfg_attr(all(target_arch = "x86_64", target_os = "none"), allow(dead_code))]
    fn is_ram(&self, gpa: usize, len: usize) -> bool {
        let Some(end) = gpa.checked_add(len) else {
            return false;
        };
        let in_chunk = self.chunk_end(gpa).is_some_and(|chunk_end| end <= chunk_end);
        in_chunk
            || self
                .reserved
                .iter()
                .any(|&(base, size)| base <= gpa && base.checked_add(size).is_some_and(|e| end <= e))
    }

    /// Reads guest RAM at `gpa` into `buf`; `InvalidInput` unless the whole
    /// range is RAM of the VM ([`Self::is_ram`]).
    #[cfg_attr(all(target_arch = "x86_64", target_os = "none"), allow(dead_code))]
    pub(crate) fn read_ram(&self, gpa: usize, buf: &mut [u8]) -> AxResult {
        if !self.is_ram(gpa, buf.len()) {
            return Err(AxError::InvalidInput);
        }
        self.read(gpa, buf)
    }

    fn chunks(&self, gpa: usize, len: usize) -> AxResult<Vec<&'static mut [u8]>> {
        if len == 0 {
            return Ok(Vec::new());
        }
        let end = gpa
            .checked_add(len)
            .filter(|end| *end <= 1 << GPA_BITS)
            .ok_or(AxError::InvalidInput)?;
        // axaddrspace's translated_byte_buffer panics on a hole: check
        // every page first.
        let mut page = gpa & !(PAGE - 1);
        while page < end {
            self.aspace.translate(AsGpa::from(page)).ok_or(AxError::InvalidInput)?;
            page += PAGE;
        }
        // axaddrspace serves one mapped area per call, and each `alloc`
        // chunk is its own area: ask chunk by chunk (any other region is a
        // single area).
        let mut chunks = Vec::new();
        let mut at = gpa;
        while at < end {
            let piece_end = self.chunk_end(at).unwrap_or(end).min(end);
            let piece = self
                .aspace
                .translated_byte_buffer(AsGpa::from(at), piece_end - at)
                .ok_or(AxError::InvalidInput)?;
            chunks.extend(piece);
            at = piece_end;
        }
        if chunks.iter().map(|c| c.len()).sum::<usize>() != len {
            return Err(AxError::InvalidInput);
        }
        Ok(chunks)
    }
}

impl<H: AxVMHal> Drop for GuestMemory<H> {
    fn drop(&mut self) {
        self.aspace.clear();
        for c in &self.chunks {
            H::PagingHandler::dealloc_frames(PhysAddr::from(c.hpa - c.lead * PAGE), c.pages + c.lead);
        }
        for &(base, size) in &self.reserved {
            H::dealloc_memory_region_at(HostPhysAddr::from(base), size);
        }
    }
}

/// The largest power of two not above `n` (`n` > 0).
fn prev_power_of_two(n: usize) -> usize {
    1 << (usize::BITS - 1 - n.max(1).leading_zeros())
}

#[cfg(test)]
mod tests {
    use super::prev_power_of_two;

    #[test]
    fn powers_of_two_below() {
        assert_eq!(prev_power_of_two(1), 1);
        assert_eq!(prev_power_of_two(3), 2);
        assert_eq!(prev_power_of_two(4096), 4096);
        assert_eq!(prev_power_of_two(6000), 4096);
        assert_eq!(prev_power_of_two(usize::MAX), 1 << (usize::BITS - 1));
    }
}
