//! The PL011 register map and bit fields (ARM PrimeCell UART (PL011)
//! Technical Reference Manual, DDI 0183, chapter 3).
//!
//! Every register is 32 bits wide at a word-aligned offset.

use bitflags::bitflags;

/// `UARTDR`, data register: a write transmits the low byte; a read pops the
/// oldest byte of the receive FIFO (bits 8..11 would hold its error flags,
/// which this model never sets).
pub const DR: usize = 0x000;
/// `UARTRSR` / `UARTECR`, receive status (read) / error clear (write). No
/// receive errors are modelled: reads return zero, writes do nothing.
pub const RSR_ECR: usize = 0x004;
/// `UARTFR`, flag register (read-only): FIFO and line status, [`Flags`].
pub const FR: usize = 0x018;
/// `UARTILPR`, IrDA low-power counter (8 bits, stored only).
pub const ILPR: usize = 0x020;
/// `UARTIBRD`, integer baud rate divisor (16 bits, stored only).
pub const IBRD: usize = 0x024;
/// `UARTFBRD`, fractional baud rate divisor (6 bits, stored only).
pub const FBRD: usize = 0x028;
/// `UARTLCR_H`, line control, [`LineControl`]; `FEN` switches the FIFOs.
pub const LCR_H: usize = 0x02C;
/// `UARTCR`, control, [`Control`] (stored; enables are not enforced).
pub const CR: usize = 0x030;
/// `UARTIFLS`, interrupt FIFO level select: [`IFLS_TXIFLSEL`] and
/// [`IFLS_RXIFLSEL`].
pub const IFLS: usize = 0x034;
/// `UARTIMSC`, interrupt mask set/clear: a set bit enables the interrupt,
/// [`Interrupts`].
pub const IMSC: usize = 0x038;
/// `UARTRIS`, raw interrupt status (read-only), [`Interrupts`].
pub const RIS: usize = 0x03C;
/// `UARTMIS`, masked interrupt status (read-only): `RIS & IMSC`.
pub const MIS: usize = 0x040;
/// `UARTICR`, interrupt clear (write-only): each set bit clears that raw
/// interrupt; reads return zero.
pub const ICR: usize = 0x044;
/// `UARTDMACR`, DMA control, [`DmaControl`] (stored only: no DMA).
pub const DMACR: usize = 0x048;
/// `UARTPeriphID0`; `UARTPeriphID1..3` and `UARTPCellID0..3` follow every 4
/// bytes up to [`ID_LAST`].
pub const ID_FIRST: usize = 0xFE0;
/// `UARTPCellID3`, the last identification register.
pub const ID_LAST: usize = 0xFFC;

/// The identification registers from [`ID_FIRST`]: `UARTPeriphID0..3`
/// (part number `0x011`, designer ARM, revision 1) then `UARTPCellID0..3`
/// (the PrimeCell signature `0xB105F00D`), the values Linux's AMBA bus
/// probes for.
pub const ID_VALUES: [u32; 8] = [0x11, 0x10, 0x14, 0x00, 0x0D, 0xF0, 0x05, 0xB1];

/// The width of a register in bytes.
pub const REG_SIZE: usize = 4;

/// The depth of the receive FIFO, as in the hardware.
pub const FIFO_DEPTH: usize = 16;

/// Reset value of `UARTCR`: transmit and receive enabled, UART disabled.
pub const CR_RESET: Control = Control::TXE.union(Control::RXE);
/// Reset value of `UARTIFLS`: both FIFOs interrupt at half full.
pub const IFLS_RESET: u32 = 0x12;

/// The defined bits of `UARTILPR`.
pub const ILPR_MASK: u32 = 0xFF;
/// The defined bits of `UARTIBRD`.
pub const IBRD_MASK: u32 = 0xFFFF;
/// The defined bits of `UARTFBRD`.
pub const FBRD_MASK: u32 = 0x3F;
/// The defined bits of `UARTIFLS`.
pub const IFLS_MASK: u32 = 0x3F;
/// The byte that `UARTDR` transmits or receives.
pub const DR_DATA_MASK: u32 = 0xFF;

/// A bit field of a register: `width` bits from bit `shift`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    /// The position of the field's lowest bit.
    pub shift: u32,
    /// The number of bits.
    pub width: u32,
}

impl Field {
    /// The field's value in `reg`.
    pub const fn get(self, reg: u32) -> u32 {
        (reg >> self.shift) & ((1 << self.width) - 1)
    }
}

/// `UARTIFLS.TXIFLSEL`: the transmit FIFO level that raises `TX`.
pub const IFLS_TXIFLSEL: Field = Field { shift: 0, width: 3 };
/// `UARTIFLS.RXIFLSEL`: the receive FIFO level that raises `RX`:
/// 0 = 1/8, 1 = 1/4, 2 = 1/2, 3 = 3/4, 4 = 7/8 full; 5..7 are reserved
/// (this model uses 1/2).
pub const IFLS_RXIFLSEL: Field = Field { shift: 3, width: 3 };

/// The receive trigger level in bytes for each `RXIFLSEL` value 0..=4.
pub const RX_TRIGGER_LEVELS: [usize; 5] = [
    FIFO_DEPTH / 8,
    FIFO_DEPTH / 4,
    FIFO_DEPTH / 2,
    FIFO_DEPTH * 3 / 4,
    FIFO_DEPTH * 7 / 8,
];

bitflags! {
    /// `UARTFR` bits.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Flags: u32 {
        /// Clear to send (modem input; always 0 here).
        const CTS = 1 << 0;
        /// Data set ready (modem input; always 0 here).
        const DSR = 1 << 1;
        /// Data carrier detect (modem input; always 0 here).
        const DCD = 1 << 2;
        /// The UART is transmitting; 0 here, transmission is instantaneous.
        const BUSY = 1 << 3;
        /// The receive FIFO (or holding register with FIFOs off) is empty.
        const RXFE = 1 << 4;
        /// The transmit FIFO is full; never, transmission is instantaneous.
        const TXFF = 1 << 5;
        /// The receive FIFO (or holding register) is full.
        const RXFF = 1 << 6;
        /// The transmit FIFO is empty; always, transmission is instantaneous.
        const TXFE = 1 << 7;
        /// Ring indicator (modem input; always 0 here).
        const RI = 1 << 8;
    }

    /// The interrupt bits shared by `UARTIMSC`, `UARTRIS`, `UARTMIS` and
    /// `UARTICR`. Only `RX`, `TX` and `RT` are ever raised by this model.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Interrupts: u32 {
        /// nUARTRI modem interrupt.
        const RIM = 1 << 0;
        /// nUARTCTS modem interrupt.
        const CTSM = 1 << 1;
        /// nUARTDCD modem interrupt.
        const DCDM = 1 << 2;
        /// nUARTDSR modem interrupt.
        const DSRM = 1 << 3;
        /// Receive: the receive FIFO reached its trigger level (with FIFOs
        /// off: the holding register filled).
        const RX = 1 << 4;
        /// Transmit: the transmit FIFO drained to its trigger level (here:
        /// after every transmitted byte).
        const TX = 1 << 5;
        /// Receive timeout: data waits in the receive FIFO.
        const RT = 1 << 6;
        /// Framing error.
        const FE = 1 << 7;
        /// Parity error.
        const PE = 1 << 8;
        /// Break error.
        const BE = 1 << 9;
        /// Overrun error.
        const OE = 1 << 10;
    }

    /// `UARTLCR_H` bits.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct LineControl: u32 {
        /// Send break.
        const BRK = 1 << 0;
        /// Parity enable.
        const PEN = 1 << 1;
        /// Even parity select.
        const EPS = 1 << 2;
        /// Two stop bits.
        const STP2 = 1 << 3;
        /// FIFOs enabled; when clear the FIFOs are one-byte holding
        /// registers.
        const FEN = 1 << 4;
        /// Word length (2 bits: 5, 6, 7 or 8 data bits).
        const WLEN = 0b11 << 5;
        /// Stick parity select.
        const SPS = 1 << 7;
    }

    /// `UARTCR` bits.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Control: u32 {
        /// UART enable.
        const UARTEN = 1 << 0;
        /// SIR (IrDA) enable.
        const SIREN = 1 << 1;
        /// SIR low-power mode.
        const SIRLP = 1 << 2;
        /// Loopback enable (not modelled).
        const LBE = 1 << 7;
        /// Transmit enable.
        const TXE = 1 << 8;
        /// Receive enable.
        const RXE = 1 << 9;
        /// Data transmit ready.
        const DTR = 1 << 10;
        /// Request to send.
        const RTS = 1 << 11;
        /// Out1 modem output.
        const OUT1 = 1 << 12;
        /// Out2 modem output.
        const OUT2 = 1 << 13;
        /// RTS hardware flow control.
        const RTSEN = 1 << 14;
        /// CTS hardware flow control.
        const CTSEN = 1 << 15;
    }

    /// `UARTDMACR` bits.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct DmaControl: u32 {
        /// Receive DMA enable.
        const RXDMAE = 1 << 0;
        /// Transmit DMA enable.
        const TXDMAE = 1 << 1;
        /// DMA on error.
        const DMAONERR = 1 << 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ifls_fields_split_the_register() {
        assert_eq!(IFLS_RXIFLSEL.get(IFLS_RESET), 2);
        assert_eq!(IFLS_TXIFLSEL.get(IFLS_RESET), 2);
        assert_eq!(IFLS_RXIFLSEL.get(0b100_001), 4);
        assert_eq!(IFLS_TXIFLSEL.get(0b100_001), 1);
    }

    #[test]
    fn trigger_levels_follow_the_fractions() {
        assert_eq!(RX_TRIGGER_LEVELS, [2, 4, 8, 12, 14]);
    }

    #[test]
    fn id_registers_span_the_last_eight_words() {
        assert_eq!(ID_FIRST + (ID_VALUES.len() - 1) * REG_SIZE, ID_LAST);
        assert_eq!(CR_RESET.bits(), 0x300);
    }
}
