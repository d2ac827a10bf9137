//! Reading guest memory from the hypervisor: the guest's own page walk
//! (guest virtual to guest physical, [`GuestPageWalkInfo`]) and the nested
//! walk (guest physical to host physical, through the EPT or NPT the VM
//! built).
//!
//! The vCPU needs this for one thing: fetching the instruction at the
//! guest's RIP after an MMIO exit, to decode it. The walks check presence
//! and follow large pages; they do not check permissions, because the CPU
//! already fetched that instruction with the guest's permissions. Every
//! table read goes through [`HostMemory`], so the walks are tested here on
//! a fake memory and run on the hypervisor over its linear map.

/// Host physical memory the walks read (page-table entries, instruction
/// bytes).
pub trait HostMemory {
    /// Reads `buf.len()` bytes at host physical address `hpa` (within one
    /// page); `false` when it cannot.
    fn read(&self, hpa: u64, buf: &mut [u8]) -> bool;
}

/// Why a walk stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WalkError {
    /// An entry at `level` (4 = PML4, 1 = PT) is not present.
    NotPresent {
        /// The level of the entry.
        level: u8,
    },
    /// A table or the data could not be read.
    ReadFailed,
    /// The walk parameters make no sense (an unknown paging level).
    BadMode,
}

/// The format of the nested page table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NestedFormat {
    /// Intel EPT: an entry is present when any of R, W, X (bits 2:0) is set.
    Ept,
    /// AMD NPT: the ordinary x86-64 format, present is bit 0.
    Npt,
}

/// Entry bits shared by the formats.
mod entry {
    /// Present (legacy / NPT).
    pub const PRESENT: u64 = 1 << 0;
    /// EPT read, write, execute.
    pub const EPT_RWX: u64 = 0b111;
    /// Page size: this entry maps a large page (levels 2 and 3).
    pub const PAGE_SIZE: u64 = 1 << 7;
    /// The physical address bits 51:12 of a 64-bit entry.
    pub const ADDR_MASK: u64 = 0x000f_ffff_ffff_f000;
}

const PAGE_SHIFT: u32 = 12;
const PAGE_SIZE: u64 = 1 << PAGE_SHIFT;
/// Index bits per level of a 64-bit table.
const LEVEL_BITS: u32 = 9;

/// Reads the 8-byte entry `index` of the table at `table`.
fn read_entry64(mem: &impl HostMemory, table: u64, index: u64) -> Result<u64, WalkError> {
    let mut b = [0u8; 8];
    if mem.read(table + index * 8, &mut b) {
        Ok(u64::from_le_bytes(b))
    } else {
        Err(WalkError::ReadFailed)
    }
}

/// Walks 64-bit tables of `levels` levels from `root`, with `present`
/// deciding presence and `read` reading an entry.
fn walk64(
    levels: u8,
    root: u64,
    addr: u64,
    present: impl Fn(u64) -> bool,
    read: impl Fn(u64, u64) -> Result<u64, WalkError>,
) -> Result<u64, WalkError> {
    let mut table = root & entry::ADDR_MASK;
    for level in (1..=levels).rev() {
        let shift = PAGE_SHIFT + LEVEL_BITS * u32::from(level - 1);
        let index = (addr >> shift) & ((1 << LEVEL_BITS) - 1);
        let e = read(table, index)?;
        if !present(e) {
            return Err(WalkError::NotPresent { level });
        }
        let base = e & entry::ADDR_MASK;
        // Large pages at levels 2 (2 MiB) and 3 (1 GiB).
        if (level == 2 || level == 3) && e & entry::PAGE_SIZE != 0 {
            let size = 1u64 << shift;
            return Ok((base & !(size - 1)) | (addr & (size - 1)));
        }
        if level == 1 {
            return Ok(base | (addr & (PAGE_SIZE - 1)));
        }
        table = base;
    }
    Err(WalkError::BadMode)
}

/// Translates guest physical `gpa` through the 4-level nested table at
/// host physical `root`.
pub fn nested_translate(mem: &impl HostMemory, format: NestedFormat, root: u64, gpa: u64) -> Result<u64, WalkError> {
    let present = |e: u64| match format {
        NestedFormat::Ept => e & entry::EPT_RWX != 0,
        NestedFormat::Npt => e & entry::PRESENT != 0,
    };
    walk64(4, root, gpa, present, |t, i| read_entry64(mem, t, i))
}

/// Guest memory seen through a nested table: guest physical reads.
pub struct NestedMemory<'a, M> {
    /// The host memory.
    pub host: &'a M,
    /// The nested table's format.
    pub format: NestedFormat,
    /// The nested table's root (host physical).
    pub root: u64,
}

impl<M: HostMemory> HostMemory for NestedMemory<'_, M> {
    /// Here `hpa` is a guest physical address.
    fn read(&self, gpa: u64, buf: &mut [u8]) -> bool {
        nested_translate(self.host, self.format, self.root, gpa).is_ok_and(|hpa| self.host.read(hpa, buf))
    }
}

/// What the guest's own page walk needs to know (the seed's
/// `GuestPageWalkInfo`), taken from the guest's CR0, CR3, CR4 and EFER at
/// the exit.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct GuestPageWalkInfo {
    /// CR3: the guest physical address of the top table.
    pub top_entry: u64,
    /// Paging levels: 0 = paging off, 2 = 32-bit, 3 = PAE, 4 = 4-level,
    /// 5 = 5-level.
    pub level: u8,
    /// Entry width in bits: 32 (32-bit paging) or 64.
    pub width: u8,
    /// The access was made at CPL 3.
    pub is_user_mode_access: bool,
    /// The access was a write.
    pub is_write_access: bool,
    /// The access was an instruction fetch.
    pub is_inst_fetch: bool,
    /// CR4.PSE: 4 MiB pages in 32-bit paging.
    pub pse: bool,
    /// CR0.WP.
    pub wp: bool,
    /// EFER.NXE.
    pub nxe: bool,
    /// CR4.SMAP.
    pub is_smap_on: bool,
    /// CR4.SMEP.
    pub is_smep_on: bool,
}

/// Control-register bits the paging mode depends on.
mod ctl {
    pub const CR0_PG: u64 = 1 << 31;
    pub const CR0_WP: u64 = 1 << 16;
    pub const CR4_PSE: u64 = 1 << 4;
    pub const CR4_PAE: u64 = 1 << 5;
    pub const CR4_LA57: u64 = 1 << 12;
    pub const CR4_SMEP: u64 = 1 << 20;
    pub const CR4_SMAP: u64 = 1 << 21;
    pub const EFER_LMA: u64 = 1 << 10;
    pub const EFER_NXE: u64 = 1 << 11;
}

impl GuestPageWalkInfo {
    /// The walk for an instruction fetch at privilege `cpl`, from the
    /// guest's control registers.
    pub fn for_fetch(cr0: u64, cr3: u64, cr4: u64, efer: u64, cpl: u8) -> Self {
        let (level, width) = if cr0 & ctl::CR0_PG == 0 {
            (0, 64)
        } else if efer & ctl::EFER_LMA != 0 {
            (if cr4 & ctl::CR4_LA57 != 0 { 5 } else { 4 }, 64)
        } else if cr4 & ctl::CR4_PAE != 0 {
            (3, 64)
        } else {
            (2, 32)
        };
        Self {
            top_entry: cr3,
            level,
            width,
            is_user_mode_access: cpl == 3,
            is_write_access: false,
            is_inst_fetch: true,
            pse: cr4 & ctl::CR4_PSE != 0,
            wp: cr0 & ctl::CR0_WP != 0,
            nxe: efer & ctl::EFER_NXE != 0,
            is_smap_on: cr4 & ctl::CR4_SMAP != 0,
            is_smep_on: cr4 & ctl::CR4_SMEP != 0,
        }
    }
}

/// 32-bit paging (SDM Vol. 3A, 4.3): 4-byte entries, 10+10+12 bits.
fn walk32(mem: &impl HostMemory, info: &GuestPageWalkInfo, gva: u64) -> Result<u64, WalkError> {
    const INDEX_MASK: u64 = 0x3ff;
    const ADDR_4K: u64 = 0xffff_f000;
    const ADDR_4M: u64 = 0xffc0_0000;
    /// PSE-36: PDE bits 20:13 are physical address bits 39:32.
    const PSE36_SHIFT: u32 = 13;
    const PSE36_MASK: u64 = 0xff;
    let read = |table: u64, index: u64| {
        let mut b = [0u8; 4];
        if mem.read((table & ADDR_4K) + index * 4, &mut b) {
            Ok(u64::from(u32::from_le_bytes(b)))
        } else {
            Err(WalkError::ReadFailed)
        }
    };
    let gva = gva & 0xffff_ffff;
    let pde = read(info.top_entry, (gva >> 22) & INDEX_MASK)?;
    if pde & entry::PRESENT == 0 {
        return Err(WalkError::NotPresent { level: 2 });
    }
    if info.pse && pde & entry::PAGE_SIZE != 0 {
        let high = ((pde >> PSE36_SHIFT) & PSE36_MASK) << 32;
        return Ok(high | (pde & ADDR_4M) | (gva & !ADDR_4M));
    }
    let pte = read(pde, (gva >> PAGE_SHIFT) & INDEX_MASK)?;
    if pte & entry::PRESENT == 0 {
        return Err(WalkError::NotPresent { level: 1 });
    }
    Ok((pte & ADDR_4K) | (gva & (PAGE_SIZE - 1)))
}

/// PAE paging (SDM 4.4): a 4-entry PDPT at CR3 bits 31:5, then 64-bit
/// page directory and table.
fn walk_pae(mem: &impl HostMemory, info: &GuestPageWalkInfo, gva: u64) -> Result<u64, WalkError> {
    const PDPT_MASK: u64 = 0xffff_ffe0;
    let gva = gva & 0xffff_ffff;
    let mut b = [0u8; 8];
    if !mem.read((info.top_entry & PDPT_MASK) + ((gva >> 30) & 3) * 8, &mut b) {
        return Err(WalkError::ReadFailed);
    }
    let pdpte = u64::from_le_bytes(b);
    if pdpte & entry::PRESENT == 0 {
        return Err(WalkError::NotPresent { level: 3 });
    }
    let present = |e: u64| e & entry::PRESENT != 0;
    walk64(2, pdpte, gva, present, |t, i| read_entry64(mem, t, i))
}

/// Translates guest virtual `gva` to guest physical with the guest's page
/// tables; `mem` reads guest physical memory.
pub fn guest_translate(mem: &impl HostMemory, info: &GuestPageWalkInfo, gva: u64) -> Result<u64, WalkError> {
    match (info.level, info.width) {
        (0, _) => Ok(gva),
        (2, 32) => walk32(mem, info, gva),
        (3, 64) => walk_pae(mem, info, gva),
        (4 | 5, 64) => walk64(
            info.level,
            info.top_entry,
            gva,
            |e| e & entry::PRESENT != 0,
            |t, i| read_entry64(mem, t, i),
        ),
        _ => Err(WalkError::BadMode),
    }
}

/// Reads `buf.len()` bytes of guest virtual memory at `gva`, page by page;
/// returns how many leading bytes it could read (an instruction may end on
/// a page that is not mapped).
pub fn read_guest_virt(mem: &impl HostMemory, info: &GuestPageWalkInfo, gva: u64, buf: &mut [u8]) -> usize {
    let mut done = 0;
    while done < buf.len() {
        let addr = gva.wrapping_add(done as u64);
        let in_page = (PAGE_SIZE - (addr & (PAGE_SIZE - 1))) as usize;
        let n = in_page.min(buf.len() - done);
        let ok = guest_translate(mem, info, addr).is_ok_and(|gpa| mem.read(gpa, &mut buf[done..done + n]));
        if !ok {
            break;
        }
        done += n;
    }
    done
}

/// The (up to 15) bytes of the instruction at guest linear address
/// `linear`, through the guest's page tables and then `mem` (guest
/// physical memory), and how many could be read.
pub fn fetch_instruction(
    mem: &impl HostMemory,
    info: &GuestPageWalkInfo,
    linear: u64,
) -> ([u8; crate::decode::MAX_INSTRUCTION_LEN], usize) {
    let mut bytes = [0u8; crate::decode::MAX_INSTRUCTION_LEN];
    let n = read_guest_virt(mem, info, linear, &mut bytes);
    (bytes, n)
}

#[cfg(test)]
mod tests;
