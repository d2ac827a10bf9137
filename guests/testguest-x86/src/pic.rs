//! The legacy 8259 PICs of bare QEMU: moved off the exception vectors and
//! masked, so that the firmware's PIT tick (IRQ 0, left unmasked by
//! SeaBIOS at vector 8) does not reach the guest. Not used under the
//! hypervisor, whose contract has no PIC.

use crate::platform::PIC_VECTOR_BASE;
use crate::port;

/// The first PIC's command port.
const PIC1_COMMAND: u16 = 0x20;
/// The first PIC's data port.
const PIC1_DATA: u16 = 0x21;
/// The second PIC's command port.
const PIC2_COMMAND: u16 = 0xA0;
/// The second PIC's data port.
const PIC2_DATA: u16 = 0xA1;
/// ICW1: initialise, ICW4 follows.
const ICW1_INIT_ICW4: u8 = 0x11;
/// ICW3 of the first PIC: the second is on IRQ 2.
const ICW3_PIC1_CASCADE: u8 = 1 << 2;
/// ICW3 of the second PIC: its cascade identity.
const ICW3_PIC2_IDENTITY: u8 = 2;
/// ICW4: 8086 mode.
const ICW4_8086: u8 = 0x01;
/// OCW1 masking every line.
const MASK_ALL: u8 = 0xFF;
/// Lines per PIC.
const LINES: u8 = 8;

/// Moves both PICs to [`PIC_VECTOR_BASE`] and masks every line.
pub fn disable() {
    let writes = [
        (PIC1_COMMAND, ICW1_INIT_ICW4),
        (PIC2_COMMAND, ICW1_INIT_ICW4),
        (PIC1_DATA, PIC_VECTOR_BASE),
        (PIC2_DATA, PIC_VECTOR_BASE + LINES),
        (PIC1_DATA, ICW3_PIC1_CASCADE),
        (PIC2_DATA, ICW3_PIC2_IDENTITY),
        (PIC1_DATA, ICW4_8086),
        (PIC2_DATA, ICW4_8086),
        (PIC1_DATA, MASK_ALL),
        (PIC2_DATA, MASK_ALL),
    ];
    for (port, value) in writes {
        // SAFETY: the 8259 initialisation sequence on the PICs' own ports,
        // on bare QEMU, with interrupts off.
        unsafe { port::outb(port, value) };
    }
}
