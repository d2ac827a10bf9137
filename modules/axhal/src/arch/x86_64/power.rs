//! Powering the machine off: ACPI S5 for a clean end (QEMU exits 0) and a
//! failure exit for panics and fatal exceptions.
//!
//! S5 is entered by writing SLP_TYP (from the DSDT's `\_S5`) with SLP_EN to
//! the PM1 control registers the FADT names. ACPI has no "off with a
//! failure status", so the failure exit writes 0 to QEMU's isa-debug-exit
//! device (`-device isa-debug-exit,iobase=0xf4,iosize=0x04`): QEMU exits
//! with status (0 << 1) | 1 = 1, as on aarch64. Without that device (real
//! hardware) the write does nothing and the machine powers off through S5.

use spin::Once;

/// I/O port of QEMU's isa-debug-exit device.
pub const DEBUG_EXIT_PORT: u16 = 0xf4;
/// PM1 control: SLP_TYP (bits 10-12) and SLP_EN (bit 13).
const SLP_TYP_SHIFT: u16 = 10;
const SLP_TYP_MASK: u16 = 0b111 << SLP_TYP_SHIFT;
const SLP_EN: u16 = 1 << 13;

/// Where and how S5 is entered: a PM1 control port and its SLP_TYP.
#[derive(Clone, Copy)]
struct SleepControl {
    port: u16,
    slp_typ: u8,
}

/// PM1a and (where there is one) PM1b, from the ACPI tables.
static S5: Once<(SleepControl, Option<SleepControl>)> = Once::new();

/// Records where S5 is entered: the PM1a (and PM1b) control ports and
/// their SLP_TYP values (from the ACPI tables).
pub(super) fn set_sleep_control(pm1a: u16, pm1b: Option<u16>, (typ_a, typ_b): (u8, u8)) {
    S5.call_once(|| {
        let a = SleepControl {
            port: pm1a,
            slp_typ: typ_a,
        };
        (a, pm1b.map(|port| SleepControl { port, slp_typ: typ_b }))
    });
}

fn enter_s5(c: SleepControl) {
    // SAFETY: the PM1 control register the FADT names; setting SLP_EN
    // with the S5 sleep type powers the machine off, which is the intent.
    unsafe {
        let cnt = x86::io::inw(c.port) & !SLP_TYP_MASK;
        let typ = ((c.slp_typ as u16) << SLP_TYP_SHIFT) & SLP_TYP_MASK;
        x86::io::outw(c.port, cnt | typ | SLP_EN);
    }
}

/// Powers the machine off (QEMU exits 0). Never returns.
pub fn system_off() -> ! {
    crate::cpu::disable_irqs();
    if let Some(&(a, b)) = S5.get() {
        enter_s5(a);
        if let Some(b) = b {
            enter_s5(b);
        }
    }
    park()
}

/// Ends the run with a failure status (QEMU exits 1). Never returns.
pub fn fail_exit() -> ! {
    crate::cpu::disable_irqs();
    // SAFETY: a write to QEMU's isa-debug-exit port, which ends QEMU; on a
    // machine without the device nothing decodes the port.
    unsafe { x86::io::outl(DEBUG_EXIT_PORT, 0) };
    system_off()
}

fn park() -> ! {
    loop {
        x86_64::instructions::hlt();
    }
}
