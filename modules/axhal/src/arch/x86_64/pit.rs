//! The 8254 PIT, only to measure other clocks against: channel 2 (the one
//! gated through port 0x61, with no interrupt) counts down at 1.193182 MHz.

/// The PIT's input clock in Hz.
pub const HZ: u64 = 1_193_182;

const CHANNEL2_DATA: u16 = 0x42;
const COMMAND: u16 = 0x43;
/// Port 0x61: bit 0 gates channel 2, bit 1 drives the speaker from it.
const GATE_PORT: u16 = 0x61;
const GATE_ON: u8 = 1 << 0;
const SPEAKER_ON: u8 = 1 << 1;
/// Command: channel 2, low then high byte, mode 0 (count down once), binary.
const CMD_CH2_LOHI_MODE0: u8 = 0b1011_0000;
/// Command: latch channel 2's count.
const CMD_CH2_LATCH: u8 = 0b1000_0000;

/// Starts channel 2 counting down from 0xffff (about 55 ms), speaker off.
pub fn start() {
    // SAFETY: port I/O to the PIT and its gate, used by nothing else.
    unsafe {
        let gate = x86::io::inb(GATE_PORT);
        x86::io::outb(GATE_PORT, (gate & !SPEAKER_ON) & !GATE_ON);
        x86::io::outb(COMMAND, CMD_CH2_LOHI_MODE0);
        x86::io::outb(CHANNEL2_DATA, 0xff);
        x86::io::outb(CHANNEL2_DATA, 0xff);
        x86::io::outb(GATE_PORT, (gate & !SPEAKER_ON) | GATE_ON);
    }
}

/// Channel 2's current count.
pub fn count() -> u16 {
    // SAFETY: as in `start`; latching then reading two bytes is the PIT's
    // read protocol.
    unsafe {
        x86::io::outb(COMMAND, CMD_CH2_LATCH);
        let lo = x86::io::inb(CHANNEL2_DATA);
        let hi = x86::io::inb(CHANNEL2_DATA);
        u16::from_le_bytes([lo, hi])
    }
}
