//! Tests of the PL011 model.

use std::sync::Arc;
use std::vec::Vec;

use axvcpu::{AccessWidth, GuestPhysAddr};

use super::regs::{self, Flags, Interrupts, LineControl};
use super::*;
use crate::tests::RecordingSink;

fn uart() -> (Pl011, Arc<RecordingSink>) {
    let sink = Arc::new(RecordingSink::default());
    let ctx = DeviceContext::new("vm7", sink.clone());
    (
        Pl011::new("uart0", GuestPhysAddr::from(0x0900_0000), Some(33), &ctx),
        sink,
    )
}

fn read(u: &Pl011, offset: usize) -> u32 {
    let value = u.handle_read(offset, AccessWidth::Dword).expect("reads never fail");
    u32::try_from(value).expect("32-bit register")
}

fn write(u: &Pl011, offset: usize, value: u32) {
    u.handle_write(offset, AccessWidth::Dword, u64::from(value))
        .expect("writes never fail");
}

fn flags(u: &Pl011) -> Flags {
    Flags::from_bits_retain(read(u, regs::FR))
}

fn ris(u: &Pl011) -> Interrupts {
    Interrupts::from_bits_retain(read(u, regs::RIS))
}

fn mis(u: &Pl011) -> Interrupts {
    Interrupts::from_bits_retain(read(u, regs::MIS))
}

fn enable_fifo(u: &Pl011) {
    write(u, regs::LCR_H, (LineControl::FEN | LineControl::WLEN).bits());
}

#[test]
fn range_is_one_page() {
    let (u, _) = uart();
    assert_eq!(
        u.address_range(),
        DeviceRange::Mmio {
            base: GuestPhysAddr::from(0x0900_0000),
            size: 0x1000
        }
    );
    assert_eq!(u.name(), "uart0");
    assert_eq!(u.irq(), Some(33));
}

#[test]
fn tx_bytes_reach_the_sink_with_the_vm_name() {
    let (u, sink) = uart();
    for &b in b"hi\n" {
        write(&u, regs::DR, u32::from(b));
    }
    // Only the low byte of DR is data.
    write(&u, regs::DR, 0xf00 | u32::from(b'!'));
    u.handle_write(regs::DR, AccessWidth::Byte, u64::from(b'?'))
        .expect("byte write");
    assert_eq!(sink.bytes(), b"hi\n!?");
    let writes = sink.writes.lock().expect("test lock");
    assert!(writes.iter().all(|(vm, _)| vm == "vm7"));
}

#[test]
fn fr_reports_an_idle_empty_uart_after_reset() {
    let (u, _) = uart();
    assert_eq!(flags(&u), Flags::TXFE | Flags::RXFE);
    assert_eq!(read(&u, regs::FR), 0x90);
    assert_eq!(read(&u, regs::CR), 0x300);
    assert_eq!(read(&u, regs::IFLS), 0x12);
    assert_eq!(read(&u, regs::RIS), 0);
    assert!(!u.pending_irq());
}

#[test]
fn rx_fifo_returns_bytes_in_order() {
    let (u, _) = uart();
    enable_fifo(&u);
    for &b in b"abc" {
        assert!(u.push_rx(b));
    }
    assert!(!flags(&u).contains(Flags::RXFE));
    assert_eq!(read(&u, regs::DR), u32::from(b'a'));
    assert_eq!(read(&u, regs::DR), u32::from(b'b'));
    assert!(u.push_rx(b'd'));
    assert_eq!(read(&u, regs::DR), u32::from(b'c'));
    assert_eq!(read(&u, regs::DR), u32::from(b'd'));
    assert!(flags(&u).contains(Flags::RXFE));
    assert_eq!(read(&u, regs::DR), 0, "empty FIFO reads zero");
}

#[test]
fn full_fifo_refuses_and_reports_full() {
    let (u, _) = uart();
    enable_fifo(&u);
    for i in 0..regs::FIFO_DEPTH {
        assert!(!flags(&u).contains(Flags::RXFF), "not full at {i}");
        assert!(u.push_rx(u8::try_from(i).expect("small")));
    }
    assert!(flags(&u).contains(Flags::RXFF));
    assert!(!flags(&u).contains(Flags::RXFE));
    assert!(!u.push_rx(0xee), "full FIFO refuses");
    assert_eq!(read(&u, regs::DR), 0);
    assert!(!flags(&u).contains(Flags::RXFF));
    assert!(u.push_rx(0xee));
    let rest: Vec<u32> = (0..regs::FIFO_DEPTH).map(|_| read(&u, regs::DR)).collect();
    let mut want: Vec<u32> = (1..regs::FIFO_DEPTH as u32).collect();
    want.push(0xee);
    assert_eq!(rest, want, "the refused byte was not stored");
}

#[test]
fn without_fifos_the_holding_register_takes_one_byte() {
    let (u, _) = uart();
    assert!(u.push_rx(b'x'));
    assert_eq!(flags(&u) & (Flags::RXFF | Flags::RXFE), Flags::RXFF);
    assert!(!u.push_rx(b'y'));
    // One byte is enough to raise RX with FIFOs off.
    assert!(ris(&u).contains(Interrupts::RX));
    assert_eq!(read(&u, regs::DR), u32::from(b'x'));
    assert!(!ris(&u).contains(Interrupts::RX));
}

#[test]
fn tx_flags_never_block_the_guest() {
    let (u, _) = uart();
    for _ in 0..100 {
        write(&u, regs::DR, u32::from(b'.'));
    }
    let fr = flags(&u);
    assert!(fr.contains(Flags::TXFE));
    assert!(!fr.intersects(Flags::TXFF | Flags::BUSY));
}

#[test]
fn rx_interrupt_follows_the_trigger_level() {
    let (u, _) = uart();
    enable_fifo(&u);
    // RXIFLSEL = 1: a quarter full, 4 bytes.
    write(&u, regs::IFLS, 1 << 3);
    for _ in 0..3 {
        u.push_rx(b'.');
    }
    assert!(!ris(&u).contains(Interrupts::RX), "below the trigger level");
    assert!(ris(&u).contains(Interrupts::RT), "timeout for the waiting bytes");
    u.push_rx(b'.');
    assert!(ris(&u).contains(Interrupts::RX), "reached the trigger level");
    read(&u, regs::DR);
    assert!(!ris(&u).contains(Interrupts::RX), "read below the level");
    assert!(ris(&u).contains(Interrupts::RT), "bytes still wait");
    for _ in 0..3 {
        read(&u, regs::DR);
    }
    assert!(!ris(&u).contains(Interrupts::RT), "FIFO empty");
}

#[test]
fn masked_status_and_pending_irq_follow_imsc() {
    let (u, _) = uart();
    enable_fifo(&u);
    u.push_rx(b'a');
    assert_eq!(ris(&u), Interrupts::RT);
    assert_eq!(mis(&u), Interrupts::empty(), "all masked after reset");
    assert!(!u.pending_irq());
    write(&u, regs::IMSC, Interrupts::TX.bits());
    assert!(!u.pending_irq(), "RT still masked");
    write(&u, regs::IMSC, (Interrupts::RX | Interrupts::RT).bits());
    assert_eq!(read(&u, regs::IMSC), 0x50);
    assert_eq!(mis(&u), Interrupts::RT);
    assert!(u.pending_irq());
    // Undefined IMSC bits are not stored.
    write(&u, regs::IMSC, u32::MAX);
    assert_eq!(read(&u, regs::IMSC), 0x7ff);
}

#[test]
fn icr_clears_only_the_bits_written() {
    let (u, _) = uart();
    write(
        &u,
        regs::IMSC,
        (Interrupts::TX | Interrupts::RT | Interrupts::RX).bits(),
    );
    assert!(u.push_rx(b'a'));
    write(&u, regs::DR, u32::from(b'b'));
    assert_eq!(ris(&u), Interrupts::RX | Interrupts::TX | Interrupts::RT);
    write(&u, regs::ICR, Interrupts::TX.bits());
    assert_eq!(ris(&u), Interrupts::RX | Interrupts::RT);
    assert!(u.pending_irq());
    write(&u, regs::ICR, (Interrupts::RX | Interrupts::RT).bits());
    assert_eq!(ris(&u), Interrupts::empty());
    assert_eq!(mis(&u), Interrupts::empty());
    assert!(!u.pending_irq());
    // Clearing does not drop data, and ICR reads as zero.
    assert_eq!(read(&u, regs::DR), u32::from(b'a'));
    assert_eq!(read(&u, regs::ICR), 0);
}

#[test]
fn tx_interrupt_is_raised_by_transmission_not_reset() {
    let (u, _) = uart();
    write(&u, regs::IMSC, Interrupts::TX.bits());
    assert!(!u.pending_irq());
    write(&u, regs::DR, u32::from(b'a'));
    assert_eq!(mis(&u), Interrupts::TX);
    assert!(u.pending_irq());
}

#[test]
fn id_registers_read_as_a_pl011() {
    let (u, _) = uart();
    let ids: Vec<u32> = (0..8).map(|i| read(&u, 0xfe0 + 4 * i)).collect();
    assert_eq!(ids, [0x11, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1]);
    // Read-only.
    write(&u, 0xfe0, 0);
    assert_eq!(read(&u, 0xfe0), 0x11);
}

#[test]
fn control_registers_store_their_defined_bits() {
    let (u, _) = uart();
    for (reg, mask) in [
        (regs::IBRD, 0xffff),
        (regs::FBRD, 0x3f),
        (regs::ILPR, 0xff),
        (regs::LCR_H, 0xff),
        (regs::IFLS, 0x3f),
        (regs::DMACR, 0x7),
        (regs::CR, 0xff87),
    ] {
        write(&u, reg, u32::MAX);
        assert_eq!(read(&u, reg), mask, "register {reg:#x}");
    }
    write(&u, regs::IBRD, 0x1a);
    assert_eq!(read(&u, regs::IBRD), 0x1a);
    // Read-only registers ignore writes.
    write(&u, regs::FR, 0);
    assert_eq!(read(&u, regs::FR), 0x90);
    write(&u, regs::RIS, u32::MAX);
    assert_eq!(read(&u, regs::RIS), 0);
}

#[test]
fn narrow_accesses_see_the_low_bytes() {
    let (u, _) = uart();
    assert_eq!(u.handle_read(regs::CR, AccessWidth::Byte), Ok(0));
    assert_eq!(u.handle_read(regs::CR, AccessWidth::Word), Ok(0x300));
    u.handle_write(regs::IBRD, AccessWidth::Word, 0xffff_1234)
        .expect("write");
    assert_eq!(read(&u, regs::IBRD), 0x1234);
    assert!(u.push_rx(b'z'));
    assert_eq!(u.handle_read(regs::DR, AccessWidth::Byte), Ok(u64::from(b'z')));
}

#[test]
fn unknown_offsets_and_widths_read_zero_and_are_ignored() {
    let (u, sink) = uart();
    assert!(!u.unhandled.has_logged());
    assert_eq!(read(&u, 0x00c), 0, "reserved offset");
    assert!(u.unhandled.has_logged());
    assert_eq!(read(&u, 0x800), 0);
    assert_eq!(read(&u, 0xffc + 3), 0, "unaligned");
    assert_eq!(u.handle_read(usize::MAX, AccessWidth::Byte), Ok(0));
    // A 64-bit access would span two registers.
    assert_eq!(u.handle_read(regs::FR, AccessWidth::Qword), Ok(0));
    assert!(u.push_rx(b'q'));
    assert_eq!(u.handle_read(regs::DR, AccessWidth::Qword), Ok(0));
    assert_eq!(read(&u, regs::DR), u32::from(b'q'), "not popped");
    // Writes there change nothing: no output, no register.
    u.handle_write(regs::DR, AccessWidth::Qword, u64::from(b'x'))
        .expect("ignored");
    u.handle_write(regs::DR + 1, AccessWidth::Byte, u64::from(b'x'))
        .expect("ignored");
    write(&u, 0x00c, u32::MAX);
    assert!(sink.bytes().is_empty());
    assert_eq!(read(&u, 0x00c), 0);
}

/// An [`IrqSink`] that records every call.
#[derive(Default)]
struct RecordingIrq {
    calls: std::sync::Mutex<Vec<(u32, bool)>>,
}

impl RecordingIrq {
    fn calls(&self) -> Vec<(u32, bool)> {
        self.calls.lock().expect("test lock").clone()
    }
}

impl IrqSink for RecordingIrq {
    fn set_level(&self, intid: u32, level: bool) {
        self.calls.lock().expect("test lock").push((intid, level));
    }
}

#[test]
fn a_connected_sink_hears_each_change_of_the_line() {
    let (u, _) = uart();
    let irq = Arc::new(RecordingIrq::default());
    u.connect_irq(irq.clone());
    assert_eq!(irq.calls(), [(33, false)], "the level when connected");
    write(&u, regs::IMSC, (Interrupts::RX | Interrupts::RT).bits());
    assert_eq!(irq.calls().len(), 1, "no change, no call");
    assert!(u.push_rx(b'a'));
    assert_eq!(irq.calls(), [(33, false), (33, true)]);
    assert!(!u.push_rx(b'b'), "FIFOs off: full");
    assert_eq!(irq.calls().len(), 2);
    assert_eq!(read(&u, regs::DR), u32::from(b'a'));
    assert_eq!(irq.calls()[2..], [(33, false)], "the DR read cleared RX and RT");
    // TX after a transmission, cleared by ICR.
    write(&u, regs::IMSC, Interrupts::TX.bits());
    write(&u, regs::DR, u32::from(b'x'));
    assert_eq!(irq.calls()[3..], [(33, true)]);
    write(&u, regs::ICR, Interrupts::TX.bits());
    assert_eq!(irq.calls()[4..], [(33, false)]);
    // Masking a raised interrupt lowers the line too.
    write(&u, regs::DR, u32::from(b'y'));
    write(&u, regs::IMSC, 0);
    assert_eq!(irq.calls()[5..], [(33, true), (33, false)]);
    assert!(!u.pending_irq());
}

#[test]
fn a_uart_without_an_interrupt_reports_nothing() {
    let sink = Arc::new(RecordingSink::default());
    let ctx = DeviceContext::new("vm7", sink);
    let u = Pl011::new("uart0", GuestPhysAddr::from(0x0900_0000), None, &ctx);
    let irq = Arc::new(RecordingIrq::default());
    u.connect_irq(irq.clone());
    write(&u, regs::IMSC, Interrupts::RX.bits());
    assert!(u.push_rx(b'a'));
    assert!(u.pending_irq());
    assert!(irq.calls().is_empty());
}

#[test]
fn the_uart_drives_a_vgic_spi() {
    use crate::vgic::regs::{gicd, irq as gic};
    let (u, _) = uart();
    let vgic = crate::Vgic::new(crate::VgicLayout {
        gicd_base: GuestPhysAddr::from(0x0800_0000),
        gicr_base: GuestPhysAddr::from(0x080A_0000),
        nr_vcpus: 1,
        nr_spis: 32,
    })
    .expect("layout");
    let gicd_dev = vgic.distributor();
    let enable = |offset: usize, value: u32| {
        gicd_dev
            .handle_write(offset, AccessWidth::Dword, u64::from(value))
            .expect("write");
    };
    enable(gicd::CTLR, gicd::CTLR_ENABLE_GRP0);
    enable(gic::ISENABLER + 4, 1 << (33 - 32));
    u.connect_irq(vgic.clone());
    write(&u, regs::IMSC, Interrupts::RX.bits());
    assert!(u.push_rx(b'a'));
    assert_eq!(vgic.take_kicks(), 1);
    assert!(vgic.has_deliverable(0));
    let pending = gicd_dev
        .handle_read(gic::ISPENDR + 4, AccessWidth::Dword)
        .expect("read");
    assert_eq!(pending, 1 << (33 - 32));
    read(&u, regs::DR);
    assert!(!vgic.has_deliverable(0), "the line went low");
}
