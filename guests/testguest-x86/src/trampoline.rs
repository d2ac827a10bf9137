//! The second vCPU's real-mode start: 16-bit code that is copied to
//! [`TRAMPOLINE_ADDR`], a page below 1 MiB that a SIPI can name.
//!
//! A SIPI with vector `V` starts the vCPU in real mode at `CS` = `V << 8`,
//! `IP` = 0. The trampoline points `DS` at itself, loads the guest's GDT
//! (its pointer is kept inside the trampoline, the only memory real mode
//! reaches without knowing where it was copied), sets `CR0.PE` and jumps to
//! `ap_entry32` (`boot.rs`) in the flat 32-bit code segment, which goes on
//! to long mode with the page tables the first vCPU built.

use core::arch::global_asm;
use core::ptr;

use crate::boot::TRAMPOLINE_CODE_SELECTOR;
use crate::platform::TRAMPOLINE_ADDR;

/// The size of the page the trampoline is copied to.
const TRAMPOLINE_PAGE_SIZE: usize = 4096;

global_asm!(
    r#"
    .section .text.trampoline, "ax"
    .code16
    .global ap_trampoline_start, ap_trampoline_end
ap_trampoline_start:
    cli
    cld
    mov     %cs, %ax
    mov     %ax, %ds
    lgdtl   .Ltrampoline_gdt_ptr - ap_trampoline_start
    mov     %cr0, %eax
    or      $1, %eax
    mov     %eax, %cr0
    ljmpl   ${code32_sel}, $ap_entry32

    .p2align 2
.Ltrampoline_gdt_ptr:
    .word   boot_gdt_end - boot_gdt - 1
    .long   boot_gdt
ap_trampoline_end:

    .code64
    .text
"#,
    code32_sel = const TRAMPOLINE_CODE_SELECTOR,
    options(att_syntax)
);

unsafe extern "C" {
    /// The first byte of the trampoline in the image; never called.
    static ap_trampoline_start: u8;
    /// One past its last byte.
    static ap_trampoline_end: u8;
}

/// Copies the trampoline to [`TRAMPOLINE_ADDR`]; returns its length.
pub fn install() -> usize {
    let start = ptr::addr_of!(ap_trampoline_start);
    let len = ptr::addr_of!(ap_trampoline_end) as usize - start as usize;
    assert!(len <= TRAMPOLINE_PAGE_SIZE, "the trampoline does not fit its page");
    // SAFETY: the source is the trampoline's bytes in the image; the
    // destination is the RAM page at TRAMPOLINE_ADDR, below the image and
    // identity-mapped, which no Rust object occupies (nothing is placed
    // below 1 MiB), and the two do not overlap.
    unsafe { ptr::copy_nonoverlapping(start, TRAMPOLINE_ADDR as *mut u8, len) };
    len
}
