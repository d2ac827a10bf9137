//! The VM's stage-2 address space, built from its config, and guest memory
//! access for the host (loading images, reading the guest's buffers).

use crate::{AxVMConfig, AxVMHal};
use alloc::vec::Vec;
use axaddrspace::{AddrSpace, GuestPhysAddr as AsGpa, MappingFlags};
use axerrno::{AxError, AxResult};
use axvcpu::HostPhysAddr;
use axvmconfig::{VmMemConfig, VmMemFlags, VmMemMappingType};
use memory_addr::PhysAddr;

/// Guest physical addresses span 39 bits (VTCR_EL2.T0SZ = 25).
pub(crate) const GPA_BITS: usize = 39;
/// Stage-2 translation levels: 3 on aarch64 (walk starts at level 1);
/// axaddrspace's x86 EPT (used by the host unit tests) only has 4.
#[cfg(target_arch = "aarch64")]
const LEVELS: usize = 3;
#[cfg(not(target_arch = "aarch64"))]
const LEVELS: usize = 4;

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

/// The address space plus the identical ranges it reserved from the host.
pub(crate) struct GuestMemory<H: AxVMHal> {
    pub(crate) aspace: AddrSpace<H::PagingHandler>,
    reserved: Vec<(usize, usize)>,
}

impl<H: AxVMHal> GuestMemory<H> {
    /// Maps every memory region and passthrough device of `config`.
    pub(crate) fn new(config: &AxVMConfig) -> AxResult<Self> {
        let aspace = AddrSpace::new_empty(LEVELS, AsGpa::from(0), 1 << GPA_BITS)?;
        let mut mem = Self {
            aspace,
            reserved: Vec::new(),
        };
        for region in config.memory_regions() {
            mem.map_config_region(region)?;
        }
        for dev in config.pass_through_devices() {
            let flags = MappingFlags::DEVICE | MappingFlags::READ | MappingFlags::WRITE;
            mem.aspace.map_linear(
                AsGpa::from(dev.base_gpa),
                PhysAddr::from(dev.base_hpa),
                dev.length,
                flags,
            )?;
        }
        Ok(mem)
    }

    fn map_config_region(&mut self, r: &VmMemConfig) -> AxResult {
        let flags = mapping_flags(r.flags);
        match r.map_type {
            VmMemMappingType::MapAlloc => self.aspace.map_alloc(AsGpa::from(r.gpa), r.size, flags, true),
            VmMemMappingType::MapIdentical => {
                if r.flags.is_ram() {
                    if !H::alloc_memory_region_at(HostPhysAddr::from(r.gpa), r.size) {
                        log::error!("identical region {:#x}+{:#x} is not free host memory", r.gpa, r.size);
                        return Err(AxError::NoMemory);
                    }
                    self.reserved.push((r.gpa, r.size));
                }
                self.aspace
                    .map_linear(AsGpa::from(r.gpa), PhysAddr::from(r.gpa), r.size, flags)
            }
        }
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
        const PAGE: usize = 0x1000;
        let mut page = gpa & !(PAGE - 1);
        while page < end {
            self.aspace.translate(AsGpa::from(page)).ok_or(AxError::InvalidInput)?;
            page += PAGE;
        }
        let chunks = self
            .aspace
            .translated_byte_buffer(AsGpa::from(gpa), len)
            .ok_or(AxError::InvalidInput)?;
        if chunks.iter().map(|c| c.len()).sum::<usize>() != len {
            return Err(AxError::InvalidInput);
        }
        Ok(chunks)
    }
}

impl<H: AxVMHal> Drop for GuestMemory<H> {
    fn drop(&mut self) {
        self.aspace.clear();
        for &(base, size) in &self.reserved {
            H::dealloc_memory_region_at(HostPhysAddr::from(base), size);
        }
    }
}
