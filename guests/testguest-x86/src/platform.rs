//! The machine the guest is written against: the contract in this crate's
//! `README.md` (addresses, ports, vectors), in one place.

/// I/O port base of the 16550 UART (COM1).
pub const UART_PORT: u16 = 0x3F8;
/// Physical base of the hypervisor's test device (one 4 KiB page).
pub const TEST_DEVICE_BASE: usize = 0xD000_0000;
/// Physical base of the local APIC's xAPIC registers.
pub const LAPIC_BASE: usize = 0xFEE0_0000;

/// The power-off port: PM1a control of the ACPI PM block (QEMU q35's ICH9
/// at `0x600`, and the hypervisor's emulation of it).
pub const POWER_OFF_PORT: u16 = 0x604;
/// What the 16-bit write to [`POWER_OFF_PORT`] holds: `SLP_EN` with
/// `SLP_TYP` 0 (S5 on QEMU and in the contract).
pub const POWER_OFF_VALUE: u16 = 0x2000;
/// QEMU's `isa-debug-exit` device as `run-bare.sh` places it: written only
/// when no hypervisor is there and the power-off port did not stop QEMU.
pub const ISA_DEBUG_EXIT_PORT: u16 = 0xF4;

/// The page below 1 MiB the second vCPU starts in (real mode, `CS` =
/// `0x0800`, `IP` = 0): SIPI vector [`TRAMPOLINE_VECTOR`].
pub const TRAMPOLINE_ADDR: usize = 0x8000;
/// The SIPI vector that starts a vCPU at [`TRAMPOLINE_ADDR`].
pub const TRAMPOLINE_VECTOR: u8 = (TRAMPOLINE_ADDR >> 12) as u8;
/// The local APIC ID of the second vCPU.
pub const SECOND_APIC_ID: u8 = 1;

/// Where the outside-memory check reads and writes: 4 GiB, far above the
/// RAM of any shipped config and mapped (uncached) by the boot page tables
/// (which cover 0 to 5 GiB). Nothing is there under the hypervisor, nor on
/// QEMU with less than about 2.75 GiB of RAM.
pub const UNMAPPED_BASE: usize = 0x1_0000_0000;

/// The interrupt vector of the local APIC timer.
pub const TIMER_VECTOR: u8 = 0x40;
/// The local APIC's spurious-interrupt vector (low four bits all ones, as
/// old APICs require).
pub const SPURIOUS_VECTOR: u8 = 0xFF;
/// The first vector the legacy PICs are moved to on bare QEMU (see
/// `pic.rs`): they raise nothing while masked, except perhaps a spurious
/// IRQ 7 or 15.
pub const PIC_VECTOR_BASE: u8 = 0x20;
