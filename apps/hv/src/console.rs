//! The VMs' consoles on the host's: output prefixed with the VM name line
//! by line, input to the VM that has focus (Ctrl-A then `n` moves it on).

use alloc::{sync::Arc, vec::Vec};
use axdevice::{ConsoleSink, PrefixingSink};
use core::sync::atomic::{AtomicBool, AtomicU16, AtomicUsize, Ordering};
use kspin::SpinNoIrq;

/// Each VM's console sink (its UARTs and its putchar hypercall share it, so
/// their bytes join the same lines).
static SINKS: SpinNoIrq<Vec<(usize, Arc<dyn ConsoleSink>)>> = SpinNoIrq::new(Vec::new());

/// Creates the console sink of VM `vm_id`.
pub fn new_sink(vm_id: usize) -> Arc<dyn ConsoleSink> {
    // Through the logger's print lock, so a guest line never interleaves
    // with a log line from another CPU.
    let sink: Arc<dyn ConsoleSink> = Arc::new(PrefixingSink::new(|line: &[u8]| {
        axlog::ax_print!("{}", alloc::string::String::from_utf8_lossy(line));
    }));
    SINKS.lock().push((vm_id, sink.clone()));
    sink
}

/// VM `vm_id`'s console sink (taken out of the table's lock).
fn sink_of(vm_id: usize) -> Option<Arc<dyn ConsoleSink>> {
    SINKS.lock().iter().find(|(id, _)| *id == vm_id).map(|(_, s)| s.clone())
}

/// Writes a byte from VM `vm_id` (the putchar hypercall).
pub fn putchar(vm_id: usize, vm_name: &str, b: u8) {
    if let Some(sink) = sink_of(vm_id) {
        sink.write_bytes(vm_name, &[b]);
    }
}

/// Shows VM `vm_id`'s unfinished output line (a shell prompt) now: called
/// when the VM waits for an interrupt.
pub fn show_partial(vm_id: usize, vm_name: &str) {
    if let Some(sink) = sink_of(vm_id) {
        sink.show_partial(vm_name);
    }
}

/// Index (in the VM table) of the VM that gets console input.
static FOCUS: AtomicUsize = AtomicUsize::new(0);
/// Ctrl-A was typed; the next key is a command.
static ESCAPE: AtomicBool = AtomicBool::new(false);
const CTRL_A: u8 = 0x01;

/// A byte the focused UART refused (its FIFO was full), offered again
/// before any new one: `NO_BYTE` when there is none.
static HELD: AtomicU16 = AtomicU16::new(NO_BYTE);
const NO_BYTE: u16 = 0x100;

/// Offers `b` to the focused VM's first UART; false if its FIFO is full.
fn deliver(b: u8) -> bool {
    let Some(vm) = crate::vmm::vm_at(FOCUS.load(Ordering::Acquire)) else {
        return true; // no VM to take it: dropped
    };
    let Some(uart) = vm.devices().pl011s().first().cloned() else {
        return true;
    };
    let taken = uart.push_rx(b);
    // The byte may have raised the UART's interrupt line.
    vm.deliver_pending_irqs();
    taken
}

/// Moves host console input to the focused VM's first UART. Called from
/// CPU 0 between guest runs. A byte the guest's FIFO has no room for is
/// held (and host input is left in the host UART) until there is room.
pub fn poll_input() {
    let held = HELD.swap(NO_BYTE, Ordering::AcqRel);
    if held != NO_BYTE && !deliver(held as u8) {
        HELD.store(held, Ordering::Release);
        return;
    }
    while let Some(b) = axhal::console::getchar() {
        if ESCAPE.swap(false, Ordering::AcqRel) {
            if b == b'n' {
                let n = crate::vmm::vm_count().max(1);
                let f = (FOCUS.load(Ordering::Acquire) + 1) % n;
                FOCUS.store(f, Ordering::Release);
                if let Some(vm) = crate::vmm::vm_at(f) {
                    axlog::ax_println!("\n[hv] console input goes to {}", vm.describe());
                }
                continue;
            }
            if b != CTRL_A {
                continue;
            }
        } else if b == CTRL_A {
            ESCAPE.store(true, Ordering::Release);
            continue;
        }
        if !deliver(b) {
            HELD.store(u16::from(b), Ordering::Release);
            return;
        }
    }
}
