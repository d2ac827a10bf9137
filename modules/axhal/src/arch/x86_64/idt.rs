//! The interrupt descriptor table, shared by every CPU: each of the 256
//! vectors goes to its entry stub in `trap.rs`; a double fault runs on its
//! own stack (IST, see `gdt.rs`).

use super::gdt::DOUBLE_FAULT_IST_INDEX;
use super::trap::stub_addr;
use spin::Once;
use x86_64::VirtAddr;
use x86_64::structures::idt::InterruptDescriptorTable;

static IDT: Once<InterruptDescriptorTable> = Once::new();

fn build() -> InterruptDescriptorTable {
    let mut idt = InterruptDescriptorTable::new();
    let stub = |v: u8| VirtAddr::new(stub_addr(v));
    // SAFETY: every address set below is the entry stub of that vector,
    // which handles the frame the CPU pushes for it (with or without an
    // error code) and returns with IRETQ.
    unsafe {
        // Exceptions that push an error code (or never return) have typed
        // fields of their own.
        idt.double_fault
            .set_handler_addr(stub(8))
            .set_stack_index(DOUBLE_FAULT_IST_INDEX);
        idt.invalid_tss.set_handler_addr(stub(10));
        idt.segment_not_present.set_handler_addr(stub(11));
        idt.stack_segment_fault.set_handler_addr(stub(12));
        idt.general_protection_fault.set_handler_addr(stub(13));
        idt.page_fault.set_handler_addr(stub(14));
        idt.alignment_check.set_handler_addr(stub(17));
        idt.machine_check.set_handler_addr(stub(18));
        idt.cp_protection_exception.set_handler_addr(stub(21));
        idt.vmm_communication_exception.set_handler_addr(stub(29));
        idt.security_exception.set_handler_addr(stub(30));
        // The others are indexable; the reserved vectors stay absent.
        for v in [0, 1, 2, 3, 4, 5, 6, 7, 9, 16, 19, 20, 28] {
            idt[v].set_handler_addr(stub(v));
        }
        for v in 32..=255 {
            idt[v].set_handler_addr(stub(v));
        }
    }
    idt
}

/// Loads the IDT on this CPU (built by the first caller).
pub fn init_this_cpu() {
    IDT.call_once(build).load();
}
