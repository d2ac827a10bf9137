//! The host kernel's EL2 stage-1 identity map (VA = PA).
//!
//! 39-bit virtual addresses, 4 KiB granule, starting at level 1. Built by
//! the boot CPU with the MMU off from statically allocated tables: the
//! device window, the kernel image section by section (text RX, rodata R,
//! data/bss RW), and the device tree (R). Once the device tree is parsed,
//! [`map_ram`] adds the free RAM (RW, XN). SCTLR_EL2.WXN is set, so no page
//! is ever writable and executable.
//!
//! The tables are only written by the boot CPU before any other CPU starts
//! (see the SAFETY notes); after that they are read-only.

use super::pte::{ADDR_MASK, DESC, MAIR_VALUE, Perm};
use aarch64_cpu::{asm::barrier, registers::*};
use core::ptr::addr_of_mut;

const PAGE: usize = 0x1000;
const BLOCK_2M: usize = 0x20_0000;
const BLOCK_1G: usize = 0x4000_0000;
const ENTRIES: usize = 512;
/// Virtual address bits (T0SZ = 64 - 39).
const VA_BITS: u64 = 39;
/// Level-2 tables: one per GiB of mapped RAM.
const L2_TABLES: usize = 16;
/// Level-3 tables: one per 2 MiB region mapped at page granularity.
const L3_TABLES: usize = 24;

#[repr(C, align(4096))]
#[derive(Clone, Copy)]
struct Table([u64; ENTRIES]);

/// `repr(C)`: `l1` comes first, so the struct's address is TTBR0_EL2's.
#[repr(C)]
struct Tables {
    l1: Table,
    l2: [Table; L2_TABLES],
    l3: [Table; L3_TABLES],
    l2_used: usize,
    l3_used: usize,
}

static mut TABLES: Tables = Tables {
    l1: Table([0; ENTRIES]),
    l2: [Table([0; ENTRIES]); L2_TABLES],
    l3: [Table([0; ENTRIES]); L3_TABLES],
    l2_used: 0,
    l3_used: 0,
};

/// Why a range could not be mapped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapError {
    /// Beyond the 39-bit address space.
    OutOfRange,
    /// The static table pool is used up.
    NoTables,
    /// Part of the range is already mapped in a way that would have to be
    /// split or replaced.
    Conflict,
}

fn table_addr(desc: u64) -> *mut Table {
    (desc & ADDR_MASK) as *mut Table
}

impl Tables {
    fn next_table(&mut self, level: usize) -> Result<*mut Table, MapError> {
        let (pool, used): (&mut [Table], &mut usize) = match level {
            2 => (&mut self.l2, &mut self.l2_used),
            _ => (&mut self.l3, &mut self.l3_used),
        };
        let t = pool.get_mut(*used).ok_or(MapError::NoTables)?;
        *used += 1;
        Ok(t as *mut Table)
    }

    /// The table an entry points to, creating it if the entry is empty.
    fn child(&mut self, entry: *mut u64, level: usize) -> Result<*mut Table, MapError> {
        // SAFETY: `entry` points into one of our own tables.
        let desc = unsafe { entry.read_volatile() };
        if desc & DESC::VALID::SET.value == 0 {
            let t = self.next_table(level)?;
            let d = (DESC::VALID::SET + DESC::TABLE_OR_PAGE::SET).value | (t as u64 & ADDR_MASK);
            // SAFETY: as above.
            unsafe { entry.write_volatile(d) };
            return Ok(t);
        }
        if desc & DESC::TABLE_OR_PAGE::SET.value == 0 {
            return Err(MapError::Conflict); // a block is there
        }
        Ok(table_addr(desc))
    }

    fn set_leaf(entry: *mut u64, value: u64) -> Result<(), MapError> {
        // SAFETY: `entry` points into one of our own tables.
        unsafe {
            if entry.read_volatile() & DESC::VALID::SET.value != 0 {
                return Err(MapError::Conflict);
            }
            entry.write_volatile(value);
        }
        Ok(())
    }

    /// Maps `[start, end)` (page aligned) 1:1 with `perm`, using 1 GiB and
    /// 2 MiB blocks where alignment allows and pages elsewhere.
    fn map(&mut self, start: usize, end: usize, perm: Perm) -> Result<(), MapError> {
        if end > 1 << VA_BITS || start > end {
            return Err(MapError::OutOfRange);
        }
        let leaf = perm.leaf_bits();
        let mut va = start;
        while va < end {
            let l1e = &mut self.l1.0[va / BLOCK_1G] as *mut u64;
            if va.is_multiple_of(BLOCK_1G) && end - va >= BLOCK_1G {
                Self::set_leaf(l1e, leaf | va as u64)?;
                va += BLOCK_1G;
                continue;
            }
            let l2 = self.child(l1e, 2)?;
            // SAFETY: `l2` is one of our tables; the index is < 512.
            let l2e = unsafe { &mut (*l2).0[(va / BLOCK_2M) % ENTRIES] as *mut u64 };
            if va.is_multiple_of(BLOCK_2M) && end - va >= BLOCK_2M {
                Self::set_leaf(l2e, leaf | va as u64)?;
                va += BLOCK_2M;
                continue;
            }
            let l3 = self.child(l2e, 3)?;
            // SAFETY: as above.
            let l3e = unsafe { &mut (*l3).0[(va / PAGE) % ENTRIES] as *mut u64 };
            Self::set_leaf(l3e, leaf | DESC::TABLE_OR_PAGE::SET.value | va as u64)?;
            va += PAGE;
        }
        Ok(())
    }
}

/// The tables, for the boot CPU while it is the only CPU running.
///
/// # Safety
///
/// Only the boot CPU calls this, before any secondary CPU is started, so
/// there is no other reference.
unsafe fn tables() -> &'static mut Tables {
    // SAFETY: per this function's contract there is no other reference.
    unsafe { &mut *addr_of_mut!(TABLES) }
}

unsafe extern "C" {
    safe static _stext: [u8; 0];
    safe static _etext: [u8; 0];
    safe static _srodata: [u8; 0];
    safe static _erodata: [u8; 0];
    safe static _sdata: [u8; 0];
    safe static _ekernel: [u8; 0];
}

fn addr(s: &[u8; 0]) -> usize {
    s.as_ptr() as usize
}

/// Size in bytes of a device tree, from its header (`totalsize`, big endian
/// at offset 4), or 0 if `dtb` is null or not 4-byte aligned.
fn dtb_size(dtb: usize) -> usize {
    const FDT_MAGIC: u32 = 0xd00d_feed;
    if dtb == 0 || !dtb.is_multiple_of(4) {
        return 0;
    }
    // SAFETY: the boot loader put a device tree at `dtb` (Linux boot
    // protocol); both reads are aligned 32-bit loads of its header.
    let (magic, size) = unsafe {
        (
            (dtb as *const u32).read_volatile(),
            ((dtb + 4) as *const u32).read_volatile(),
        )
    };
    if u32::from_be(magic) != FDT_MAGIC {
        0
    } else {
        u32::from_be(size) as usize
    }
}

/// Builds the boot map and turns the MMU on. Called from `_start` with the
/// MMU off, a stack, and `.bss` zeroed; x0 (`dtb`) is the device tree.
///
/// Stops the machine with a message if the map cannot be built.
pub(super) extern "C" fn init_boot_cpu(dtb: usize) {
    // SAFETY: the boot CPU is the only one running.
    let t = unsafe { tables() };
    let dtb_end = (dtb + dtb_size(dtb)).next_multiple_of(PAGE);
    let mmio = axconfig::memory::MMIO_BASE;
    let steps = [
        (mmio, mmio + axconfig::memory::MMIO_SIZE, Perm::Device),
        (addr(&_stext), addr(&_etext), Perm::ReadExec),
        (addr(&_srodata), addr(&_erodata), Perm::Read),
        (addr(&_sdata), addr(&_ekernel), Perm::ReadWrite),
        (dtb & !(PAGE - 1), dtb_end, Perm::Read),
    ];
    for (start, end, perm) in steps {
        if start < end && t.map(start, end, perm).is_err() {
            super::power::fatal_stop();
        }
    }
    // The walker reads the tables through the cache once the MMU is on;
    // drop any stale lines over them.
    clean_invalidate(addr_of_mut!(TABLES) as usize, core::mem::size_of::<Tables>());
    enable_on_this_cpu();
}

fn clean_invalidate(start: usize, size: usize) {
    const LINE: usize = 64;
    let mut a = start & !(LINE - 1);
    while a < start + size {
        // SAFETY: data cache maintenance by VA on our own static tables.
        unsafe { core::arch::asm!("dc civac, {}", in(reg) a) };
        a += LINE;
    }
    barrier::dsb(barrier::SY);
}

/// Physical address range size for TCR_EL2.PS, from what the CPU supports,
/// capped at 48 bits.
fn tcr_ps() -> u64 {
    ID_AA64MMFR0_EL1.read(ID_AA64MMFR0_EL1::PARange).min(0b101)
}

/// Programs MAIR/TCR/TTBR0 and turns on the MMU and caches on this CPU.
/// Also the secondary CPUs' path, with the tables the boot CPU built.
pub(super) extern "C" fn enable_on_this_cpu() {
    MAIR_EL2.set(MAIR_VALUE);
    TCR_EL2.write(
        TCR_EL2::T0SZ.val(64 - VA_BITS)
            + TCR_EL2::IRGN0::WriteBack_ReadAlloc_WriteAlloc_Cacheable
            + TCR_EL2::ORGN0::WriteBack_ReadAlloc_WriteAlloc_Cacheable
            + TCR_EL2::SH0::Inner
            + TCR_EL2::TG0::KiB_4
            + TCR_EL2::PS.val(tcr_ps()),
    );
    // TCR_EL2 bits 31 and 23 are RES1 (E2H = 0).
    const TCR_RES1: u64 = (1 << 31) | (1 << 23);
    TCR_EL2.set(TCR_EL2.get() | TCR_RES1);
    TTBR0_EL2.set_baddr(addr_of_mut!(TABLES) as u64);
    barrier::dsb(barrier::SY);
    // SAFETY: invalidating all EL2 TLB entries is always allowed.
    unsafe { core::arch::asm!("tlbi alle2", "dsb nsh", "isb") };
    SCTLR_EL2.modify(SCTLR_EL2::M::Enable + SCTLR_EL2::C::Cacheable + SCTLR_EL2::I::Cacheable + SCTLR_EL2::SA::Enable);
    // SCTLR_EL2.WXN (bit 19): writable implies execute-never.
    const WXN: u64 = 1 << 19;
    SCTLR_EL2.set(SCTLR_EL2.get() | WXN);
    barrier::isb(barrier::SY);
}

/// Maps free RAM read-write (never executable). Boot CPU only, before the
/// secondary CPUs start.
pub(crate) fn map_ram(start: usize, end: usize) -> Result<(), MapError> {
    // SAFETY: called by the boot CPU during init, before any secondary CPU
    // runs (`axruntime` init order), so there is no other reference.
    let t = unsafe { tables() };
    let r = t.map(start, end, Perm::ReadWrite);
    barrier::dsb(barrier::ISHST);
    barrier::isb(barrier::SY);
    r
}
