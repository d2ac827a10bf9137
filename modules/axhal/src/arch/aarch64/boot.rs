//! Entry points: the arm64 Image header, the boot CPU's and the secondary
//! CPUs' first instructions, and their stacks.
//!
//! QEMU (and a Linux-style boot loader) loads the image at RAM base +
//! `text_offset`, enters at EL2 with the MMU off and the device tree address
//! in x0. Secondary CPUs enter at [`secondary_entry`] through PSCI CPU_ON
//! with their logical id in x0.

use axconfig::{cpu, memory};
use core::arch::naked_asm;

/// Image header flags: little endian, 4 KiB pages, placed 2 MiB aligned
/// close to the start of RAM.
const IMAGE_FLAGS: usize = 0b0010;
/// Offset of the kernel from the start of RAM.
const TEXT_OFFSET: usize = memory::KERNEL_BASE - memory::PHYS_BASE;

/// Boot stacks of every CPU, one after the other.
#[unsafe(link_section = ".bss.stack")]
static mut BOOT_STACKS: [u8; cpu::STACK_SIZE * cpu::MAX_NUM] = [0; cpu::STACK_SIZE * cpu::MAX_NUM];

/// The first instruction of the image (the arm64 Image header, then code).
///
/// # Safety
///
/// Entered only by the boot loader, once, with the MMU off.
#[unsafe(naked)]
#[unsafe(no_mangle)]
#[unsafe(link_section = ".text.boot")]
unsafe extern "C" fn _start() -> ! {
    naked_asm!(
        // arm64 Image header (Documentation/arch/arm64/booting.rst).
        "b       2f",                 // code0: jump over the header
        ".word   0",                  // code1
        ".quad   {text_offset}",      // text_offset
        ".quad   _kernel_image_size", // image_size (non-zero: text_offset valid)
        ".quad   {flags}",            // flags
        ".quad   0, 0, 0",            // res2..res4
        ".ascii  \"ARM\\x64\"",       // magic
        ".word   0",                  // res5
        "2:",
        "mov     x19, x0",            // device tree address
        "bl      {check_el2}",
        // sp = top of CPU 0's stack
        "adrp    x9, {stacks}",
        "add     x9, x9, :lo12:{stacks}",
        "mov     x10, {stack_size}",
        "add     sp, x9, x10",
        // zero .bss (our stack is in it; nothing is on it yet)
        "adrp    x9, _sbss",
        "add     x9, x9, :lo12:_sbss",
        "adrp    x10, _ebss",
        "add     x10, x10, :lo12:_ebss",
        "3: cmp  x9, x10",
        "b.hs    4f",
        "stp     xzr, xzr, [x9], #16",
        "b       3b",
        "4:",
        "bl      {init_mmu}",         // build the tables, MMU + caches on
        "mov     x0, x19",
        "b       {primary_main}",
        text_offset = const TEXT_OFFSET,
        flags = const IMAGE_FLAGS,
        check_el2 = sym check_el2,
        stacks = sym BOOT_STACKS,
        stack_size = const cpu::STACK_SIZE,
        init_mmu = sym super::mmu::init_boot_cpu,
        primary_main = sym super::primary_main,
    )
}

/// Entry of a secondary CPU started by PSCI CPU_ON; x0 = its logical id.
///
/// # Safety
///
/// Entered only by the firmware on behalf of `start_secondary_cpu`, with the
/// MMU off, after the boot CPU built the page tables.
#[unsafe(naked)]
pub(crate) unsafe extern "C" fn secondary_entry() -> ! {
    naked_asm!(
        "mov     x19, x0",
        "bl      {check_el2}",
        // sp = top of this CPU's stack: stacks + (id + 1) * size
        "adrp    x9, {stacks}",
        "add     x9, x9, :lo12:{stacks}",
        "add     x10, x19, #1",
        "mov     x11, {stack_size}",
        "madd    x9, x10, x11, x9",
        "mov     sp, x9",
        "bl      {enable_mmu}",
        "mov     x0, x19",
        "b       {secondary_main}",
        check_el2 = sym check_el2,
        stacks = sym BOOT_STACKS,
        stack_size = const cpu::STACK_SIZE,
        enable_mmu = sym super::mmu::enable_on_this_cpu,
        secondary_main = sym super::secondary_main,
    )
}

/// Returns if running at EL2; otherwise prints why the hypervisor cannot run
/// and stops the machine. Uses no stack (none is set up yet).
#[unsafe(naked)]
unsafe extern "C" fn check_el2() {
    naked_asm!(
        "mrs     x9, CurrentEL",
        "ubfx    x9, x9, #2, #2",
        "cmp     x9, #2",
        "b.ne    1f",
        "ret",
        "1:",
        "mov     x20, x9",            // the EL we are at
        // ADRP + ADD reach ±4 GiB: the message may be far past the code
        // (an app can embed tens of MiB of guest images in between).
        "adrp    x9, {msg}",
        "add     x9, x9, :lo12:{msg}",
        "mov     x10, {uart}",
        "2: ldrb w11, [x9], #1",
        "cbz     w11, 3f",
        "strb    w11, [x10]",         // PL011 DR; QEMU's FIFO never fills
        "b       2b",
        "3: add  w11, w20, #'0'",
        "strb    w11, [x10]",
        "mov     w11, #'\\n'",
        "strb    w11, [x10]",
        "b       {fatal_stop}",
        msg = sym NOT_EL2_MSG,
        uart = const axconfig::devices::UART_BASE,
        fatal_stop = sym super::power::fatal_stop_asm,
    )
}

#[unsafe(no_mangle)]
static NOT_EL2_MSG: [u8; 71] = *b"FATAL: the hypervisor must be entered at EL2, but it was entered at EL\0";
