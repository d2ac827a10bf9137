//! The host kernel's page tables: an identity map (VA = PA), 4 levels.
//!
//! Built by the boot CPU from a static pool of tables, on the boot page
//! tables: the device window (uncached), the kernel image section by
//! section (text RX, rodata R, data/bss RW NX) and the low 1 MiB (R, the
//! trampoline page RW). Later [`map_read`] adds firmware data (PVH start
//! info, ACPI tables) read-only and [`map_ram`] the free RAM (RW NX).
//! Nothing is ever both writable and executable; CR0.WP makes read-only
//! pages hold in ring 0 too.
//!
//! The tables are only written by the boot CPU before any other CPU starts
//! (see the SAFETY notes); after that they are read-only. Entries are only
//! ever added, never changed, so no TLB shootdown is needed.

use super::boot::BOOT_CR3;
use super::trampoline::TRAMPOLINE_ADDR;
use core::ptr::addr_of_mut;
use core::sync::atomic::Ordering;
use x86_64::PhysAddr;
use x86_64::registers::control::{Cr3, Cr3Flags};
use x86_64::structures::paging::page_table::{PageTableEntry, PageTableFlags as F};
use x86_64::structures::paging::{PageTable, PhysFrame};

const PAGE: usize = 0x1000;
const HUGE: usize = 0x20_0000;
/// Virtual address bits one PML4 covers (4-level paging).
const VA_BITS: u32 = 48;
/// The table pool: the PML4, then PDPTs, PDs and PTs as needed.
const POOL: usize = 48;
/// The low 1 MiB: BIOS data, the RSDP, the AP trampoline.
const LOW_MEM_END: usize = 0x10_0000;

/// What a mapping allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Perm {
    /// Read + execute (kernel text).
    ReadExec,
    /// Read only.
    Read,
    /// Read + write, never executed.
    ReadWrite,
    /// Device registers: read + write, never executed, uncached.
    Device,
}

impl Perm {
    fn leaf_flags(self) -> F {
        match self {
            Perm::ReadExec => F::PRESENT,
            Perm::Read => F::PRESENT | F::NO_EXECUTE,
            Perm::ReadWrite => F::PRESENT | F::WRITABLE | F::NO_EXECUTE,
            Perm::Device => F::PRESENT | F::WRITABLE | F::NO_EXECUTE | F::NO_CACHE | F::WRITE_THROUGH,
        }
    }
}

/// Why a range could not be mapped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapError {
    /// Beyond the 48-bit lower half.
    OutOfRange,
    /// The static table pool is used up.
    NoTables,
    /// Part of the range is already mapped differently.
    Conflict,
}

/// The PML4 is the pool's first table; entries hold the tables' physical
/// (= virtual) addresses. All zero at first, so it lives in `.bss`.
struct Tables {
    pool: [PageTable; POOL],
    /// Tables in use besides the PML4.
    used: usize,
}

static mut TABLES: Tables = Tables {
    pool: [const { PageTable::new() }; POOL],
    used: 0,
};

impl Tables {
    /// Pool index of the table entry `i` of table `table` points to,
    /// creating that table if the entry is empty.
    fn child(&mut self, table: usize, i: usize) -> Result<usize, MapError> {
        let e = &self.pool[table][i];
        if !e.is_unused() {
            if e.flags().contains(F::HUGE_PAGE) {
                return Err(MapError::Conflict);
            }
            let base = self.pool.as_ptr() as u64;
            let offset = e.addr().as_u64().wrapping_sub(base) as usize;
            return Some(offset / PAGE)
                .filter(|&n| n <= self.used)
                .ok_or(MapError::Conflict);
        }
        let new = self.used + 1;
        let addr = self.pool.get(new).ok_or(MapError::NoTables)? as *const PageTable as u64;
        self.used += 1;
        self.pool[table][i].set_addr(PhysAddr::new(addr), F::PRESENT | F::WRITABLE);
        Ok(new)
    }

    /// Sets a leaf; an identical one already there is fine.
    fn set_leaf(entry: &mut PageTableEntry, addr: usize, flags: F) -> Result<(), MapError> {
        let mut want = PageTableEntry::new();
        want.set_addr(PhysAddr::new(addr as u64), flags);
        if entry.is_unused() {
            *entry = want;
            Ok(())
        } else if entry.addr() == want.addr() && entry.flags() - (F::ACCESSED | F::DIRTY) == flags {
            Ok(())
        } else {
            Err(MapError::Conflict)
        }
    }

    /// Maps `[start, end)` (page aligned) 1:1 with `perm`, with 2 MiB pages
    /// where alignment allows and 4 KiB pages elsewhere.
    fn map(&mut self, start: usize, end: usize, perm: Perm) -> Result<(), MapError> {
        if end > 1 << (VA_BITS - 1) || start > end {
            return Err(MapError::OutOfRange);
        }
        let leaf = perm.leaf_flags();
        let mut va = start;
        while va < end {
            let idx = |shift: u32| (va >> shift) % 512;
            let pdpt = self.child(0, idx(39))?;
            let pd = self.child(pdpt, idx(30))?;
            if va.is_multiple_of(HUGE) && end - va >= HUGE {
                Self::set_leaf(&mut self.pool[pd][idx(21)], va, leaf | F::HUGE_PAGE)?;
                va += HUGE;
                continue;
            }
            let pt = self.child(pd, idx(21))?;
            Self::set_leaf(&mut self.pool[pt][idx(12)], va, leaf)?;
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

/// Builds the kernel's map and switches to it. Boot CPU, first thing in
/// Rust (on the boot page tables). Stops the machine if it cannot.
pub(super) fn init_boot_cpu() {
    // SAFETY: the boot CPU is the only one running.
    let t = unsafe { tables() };
    let mmio = axconfig::memory::MMIO_BASE;
    let steps = [
        (mmio, mmio + axconfig::memory::MMIO_SIZE, Perm::Device),
        (addr(&_stext), addr(&_etext), Perm::ReadExec),
        (addr(&_srodata), addr(&_erodata).next_multiple_of(PAGE), Perm::Read),
        (addr(&_sdata), addr(&_ekernel), Perm::ReadWrite),
        // Page 0 stays unmapped: a null pointer faults.
        (PAGE, TRAMPOLINE_ADDR, Perm::Read),
        (TRAMPOLINE_ADDR, TRAMPOLINE_ADDR + PAGE, Perm::ReadWrite),
        (TRAMPOLINE_ADDR + PAGE, LOW_MEM_END, Perm::Read),
    ];
    for (start, end, perm) in steps {
        if start < end && t.map(start, end, perm).is_err() {
            super::power::fail_exit();
        }
    }
    let pml4 = &t.pool[0] as *const PageTable as u64;
    let Ok(cr3) = u32::try_from(pml4) else {
        super::power::fail_exit();
    };
    // SAFETY: the new tables map everything the kernel touches from here
    // on (code, data, stacks, devices) at the same addresses as the boot
    // tables do, so execution continues unchanged.
    unsafe { Cr3::write(PhysFrame::containing_address(PhysAddr::new(pml4)), Cr3Flags::empty()) };
    BOOT_CR3.store(cr3, Ordering::Release);
}

/// Maps firmware data `[start, end)` read-only (rounded out to pages);
/// mapping it again is fine. Boot CPU only, before the secondary CPUs start.
pub(crate) fn map_read(start: usize, end: usize) -> Result<(), MapError> {
    let start = start & !(PAGE - 1);
    let end = end.checked_next_multiple_of(PAGE).ok_or(MapError::OutOfRange)?;
    // SAFETY: called by the boot CPU during init (`platform::init_early`),
    // before any secondary CPU runs, so there is no other reference.
    let t = unsafe { tables() };
    // 4 KiB pages only: a 2 MiB page here could cover RAM mapped later.
    let mut va = start;
    while va < end {
        t.map(va, va + PAGE, Perm::Read)?;
        va += PAGE;
    }
    Ok(())
}

/// Maps free RAM read-write (never executable). Boot CPU only, before the
/// secondary CPUs start.
pub(crate) fn map_ram(start: usize, end: usize) -> Result<(), MapError> {
    // SAFETY: called by the boot CPU during init, before any secondary CPU
    // runs (`axruntime` init order), so there is no other reference.
    unsafe { tables() }.map(start, end, Perm::ReadWrite)
}
