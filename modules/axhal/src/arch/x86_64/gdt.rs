//! Per-CPU GDT and TSS: the kernel's code and data segments, and a TSS
//! whose first interrupt stack takes double faults, so that a kernel stack
//! overflow still gets its report.

use axconfig::cpu::MAX_NUM;
use spin::Once;
use x86_64::VirtAddr;
use x86_64::instructions::segmentation::{CS, DS, ES, SS, Segment};
use x86_64::instructions::tables::load_tss;
use x86_64::structures::gdt::{Descriptor, GlobalDescriptorTable, SegmentSelector};
use x86_64::structures::tss::TaskStateSegment;

/// IST slot (0-based) of the double-fault stack.
pub const DOUBLE_FAULT_IST_INDEX: u16 = 0;
const IST_STACK_SIZE: usize = 0x4000;

#[repr(C, align(16))]
struct IstStacks([[u8; IST_STACK_SIZE]; MAX_NUM]);

/// Only the CPU addresses its own stack; Rust never references it.
static mut IST_STACKS: IstStacks = IstStacks([[0; IST_STACK_SIZE]; MAX_NUM]);

struct Gdt {
    table: GlobalDescriptorTable,
    code: SegmentSelector,
    data: SegmentSelector,
    tss: SegmentSelector,
}

static TSS: [Once<TaskStateSegment>; MAX_NUM] = [const { Once::new() }; MAX_NUM];
static GDT: [Once<Gdt>; MAX_NUM] = [const { Once::new() }; MAX_NUM];

/// Loads CPU `cpu_id`'s GDT and TSS and reloads the segment registers
/// (FS and GS are left alone: GS's base holds the per-CPU area).
pub fn init_this_cpu(cpu_id: usize) {
    let (Some(tss), Some(gdt)) = (TSS.get(cpu_id), GDT.get(cpu_id)) else {
        super::power::fail_exit();
    };
    let tss = tss.call_once(|| {
        let stack = core::ptr::addr_of!(IST_STACKS) as u64 + ((cpu_id + 1) * IST_STACK_SIZE) as u64;
        let mut t = TaskStateSegment::new();
        t.interrupt_stack_table[DOUBLE_FAULT_IST_INDEX as usize] = VirtAddr::new(stack);
        t
    });
    let gdt = gdt.call_once(|| {
        let mut table = GlobalDescriptorTable::new();
        let code = table.append(Descriptor::kernel_code_segment());
        let data = table.append(Descriptor::kernel_data_segment());
        let tss = table.append(Descriptor::tss_segment(tss));
        Gdt { table, code, data, tss }
    });
    gdt.table.load();
    // SAFETY: the selectors index the table just loaded: a 64-bit code
    // segment, a data segment and an available TSS of this CPU.
    unsafe {
        CS::set_reg(gdt.code);
        SS::set_reg(gdt.data);
        DS::set_reg(gdt.data);
        ES::set_reg(gdt.data);
        load_tss(gdt.tss);
    }
}
