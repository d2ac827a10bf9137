//! What the host kernel reads from the ACPI tables, through the `acpi`
//! crate (no allocation): the CPUs and IOAPIC from the MADT, the PM1
//! control registers from the FADT and the S5 sleep type from the DSDT.
//! Tables are mapped read-only on demand as the crate asks for them.

use super::mmu;
use crate::acpi_s5;
use crate::dtb::{List, MAX_CPUS};
use acpi::address::{AddressSpace, GenericAddress};
use acpi::fadt::Fadt;
use acpi::madt::{Madt, MadtEntry};
use acpi::{AcpiError, AcpiHandler, AcpiTables, PhysicalMapping};
use core::ptr::NonNull;

/// MADT processor flags: the CPU is enabled.
const MADT_CPU_ENABLED: u32 = 1 << 0;

/// The facts taken from the tables.
#[derive(Clone, Copy, Debug, Default)]
pub struct AcpiInfo {
    /// Local APIC IDs of the enabled CPUs, in MADT order.
    pub apic_ids: List<u64, MAX_CPUS>,
    /// Base of the IOAPIC that serves global interrupt 0.
    pub ioapic: Option<usize>,
    /// The PM1a / PM1b control registers (I/O ports).
    pub pm1a_cnt: Option<u16>,
    pub pm1b_cnt: Option<u16>,
    /// SLP_TYPa / SLP_TYPb for S5 (soft off).
    pub s5: Option<(u8, u8)>,
}

/// The identity map: a table's physical address is its virtual address
/// once [`mmu::map_read`] mapped it.
#[derive(Clone, Copy)]
struct IdentityMap;

impl AcpiHandler for IdentityMap {
    unsafe fn map_physical_region<T>(&self, phys: usize, size: usize) -> PhysicalMapping<Self, T> {
        let mapped = phys.checked_add(size).map(|end| mmu::map_read(phys, end));
        let Some(Ok(())) = mapped else {
            crate::console::print_fmt_emergency(format_args!("ACPI: cannot map {phys:#x}+{size:#x}: {mapped:?}\n"));
            super::power::fail_exit();
        };
        let Some(ptr) = NonNull::new(phys as *mut T) else {
            crate::console::print_fmt_emergency(format_args!("ACPI: a table at address 0\n"));
            super::power::fail_exit();
        };
        // SAFETY: `[phys, phys + size)` is now mapped read-only at the same
        // address; the crate only reads through the mapping.
        unsafe { PhysicalMapping::new(phys, ptr, size, size, *self) }
    }

    fn unmap_physical_region<T>(_region: &PhysicalMapping<Self, T>) {}
}

/// An I/O port from a FADT register address, if it is one.
fn io_port(a: &GenericAddress) -> Option<u16> {
    match a.address_space {
        AddressSpace::SystemIo => u16::try_from(a.address).ok().filter(|&p| p != 0),
        _ => None,
    }
}

/// Reads the tables the RSDP at `rsdp` leads to. Boot CPU, before the
/// secondary CPUs start.
pub fn read(rsdp: usize) -> Result<AcpiInfo, AcpiError> {
    // SAFETY: `rsdp` is the RSDP's physical address the boot loader passed
    // (PVH start info); the handler maps whatever the crate reads.
    let tables = unsafe { AcpiTables::from_rsdp(IdentityMap, rsdp)? };
    let mut info = AcpiInfo::default();

    let madt = tables.find_table::<Madt>()?;
    for entry in madt.get().entries() {
        match entry {
            MadtEntry::LocalApic(e) if { e.flags } & MADT_CPU_ENABLED != 0 => {
                info.apic_ids.push(e.apic_id as u64);
            }
            MadtEntry::LocalX2Apic(e) if { e.flags } & MADT_CPU_ENABLED != 0 => {
                info.apic_ids.push({ e.x2apic_id } as u64);
            }
            MadtEntry::IoApic(e) if { e.global_system_interrupt_base } == 0 => {
                info.ioapic = Some({ e.io_apic_address } as usize);
            }
            _ => {}
        }
    }

    let fadt = tables.find_table::<Fadt>()?;
    info.pm1a_cnt = fadt.pm1a_control_block().ok().as_ref().and_then(io_port);
    info.pm1b_cnt = fadt.pm1b_control_block().ok().flatten().as_ref().and_then(io_port);
    drop(fadt);

    if let Ok(dsdt) = tables.dsdt() {
        let end = dsdt.address.checked_add(dsdt.length as usize);
        if end.is_some_and(|end| mmu::map_read(dsdt.address, end).is_ok()) {
            // SAFETY: the DSDT's body, just mapped read-only; firmware
            // tables are never written.
            let aml = unsafe { core::slice::from_raw_parts(dsdt.address as *const u8, dsdt.length as usize) };
            info.s5 = acpi_s5::sleep_types(aml);
        }
    }
    Ok(info)
}
