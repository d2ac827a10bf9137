//! The real-mode start of a secondary CPU.
//!
//! A STARTUP IPI starts a CPU in real mode at `vector << 12`, which must lie
//! below 1 MiB; the kernel lives above. So these few instructions are
//! assembled into the image as data and copied to [`TRAMPOLINE_ADDR`]
//! before the first SIPI. They load a flat 32-bit GDT, turn protected mode
//! on and jump to `ap_entry32` in the kernel (`boot.rs`), which goes on to
//! long mode the way the boot CPU did. The code runs with paging off, so the
//! copy is never executed through the page tables.

use core::arch::global_asm;

/// Physical address the trampoline is copied to: page aligned, below
/// 1 MiB, in conventional memory the BIOS leaves free.
pub const TRAMPOLINE_ADDR: usize = 0x8000;
/// The STARTUP IPI vector that starts a CPU there.
pub const SIPI_VECTOR: u8 = (TRAMPOLINE_ADDR >> 12) as u8;

global_asm!(
    r#"
.pushsection .rodata.ap_trampoline, "a"
.p2align 4
.global ap_trampoline_start
ap_trampoline_start:
.code16
    cli
    cld
    mov     %cs, %ax
    mov     %ax, %ds
    lgdtl   (tramp_gdt_ptr - ap_trampoline_start)
    mov     %cr0, %eax
    or      $1, %eax
    mov     %eax, %cr0
    ljmpl   $0x08, ${addr} + (tramp_pm32 - ap_trampoline_start)
.code32
tramp_pm32:
    mov     $0x10, %ax
    mov     %ax, %ds
    mov     %ax, %es
    mov     %ax, %ss
    mov     $ap_entry32, %eax
    jmp     *%eax
.code64
.p2align 3
// null, flat 32-bit code (0x08), flat data (0x10)
tramp_gdt:
    .quad 0
    .quad 0x00cf9b000000ffff
    .quad 0x00cf93000000ffff
tramp_gdt_ptr:
    .word tramp_gdt_ptr - tramp_gdt - 1
    .long {addr} + (tramp_gdt - ap_trampoline_start)
.global ap_trampoline_end
ap_trampoline_end:
.popsection
"#,
    addr = const TRAMPOLINE_ADDR,
    options(att_syntax)
);

unsafe extern "C" {
    safe static ap_trampoline_start: [u8; 0];
    safe static ap_trampoline_end: [u8; 0];
}

/// The trampoline's bytes, to copy to [`TRAMPOLINE_ADDR`].
pub fn code() -> &'static [u8] {
    let start = ap_trampoline_start.as_ptr();
    let len = ap_trampoline_end.as_ptr() as usize - start as usize;
    // SAFETY: both symbols delimit the trampoline in `.rodata`, which is
    // mapped read-only and never written.
    unsafe { core::slice::from_raw_parts(start, len) }
}
