//! The IOAPIC, set up for later device interrupts: every line masked,
//! line `n` on vector 32 + `n` (the `x86` crate's driver). The legacy 8259
//! PICs are masked too; nothing reaches the CPUs through them.

use kspin::SpinNoIrq;
use x86::apic::ioapic::IoApic;

/// Vector of IOAPIC line 0 (the `x86` crate's fixed offset).
pub const FIRST_VECTOR: u32 = 32;

/// Data ports of the master and slave 8259 PICs (writing one sets the mask).
const PIC1_DATA: u16 = 0x21;
const PIC2_DATA: u16 = 0xa1;

/// The driver and its number of lines.
struct Driver(IoApic, u8);

// SAFETY: the driver holds the IOAPIC's MMIO address, shared by all CPUs by
// design; every use goes through the `IOAPIC` lock.
unsafe impl Send for Driver {}

static IOAPIC: SpinNoIrq<Option<Driver>> = SpinNoIrq::new(None);

/// Masks the PICs, then every line of the IOAPIC at `base`. Boot CPU, once.
/// Returns the number of lines.
pub fn init(base: usize) -> u8 {
    // SAFETY: port writes to the PICs' mask registers, which only mask.
    unsafe {
        x86::io::outb(PIC1_DATA, 0xff);
        x86::io::outb(PIC2_DATA, 0xff);
    }
    // SAFETY: `base` is the IOAPIC named by the ACPI MADT (or the platform
    // constant), inside the device window mapped uncached; this is its only
    // driver.
    let mut io = unsafe { IoApic::new(base) };
    io.disable_all();
    let lines = io.supported_interrupts();
    *IOAPIC.lock() = Some(Driver(io, lines));
    lines
}

/// Unmasks line `line`, edge triggered, to the CPU with APIC ID `apic_id`.
/// False if there is no IOAPIC.
pub fn enable(line: u8, apic_id: u8) -> bool {
    match IOAPIC.lock().as_mut() {
        Some(d) if line < d.1 => {
            d.0.enable(line, apic_id);
            true
        }
        _ => false,
    }
}
