//! From the 32-bit entry to 64-bit Rust: the multiboot header, `.bss`, the
//! stacks, the identity page tables, the GDT and the switch to long mode.
//!
//! `_start`, the first byte of the image (`0x10_0000`), is entered in
//! 32-bit protected mode with flat code and data segments, paging off and
//! interrupts off (the contract; QEMU's multiboot loader gives the same,
//! with `EAX` = the multiboot magic and `EBX` = its information, which the
//! guest ignores). It zeroes `.bss`, takes the boot stack, maps the first
//! [`MAPPED_GIB`] GiB one to one with 2 MiB pages (uncached from
//! [`UNCACHED_FROM_GIB`] GiB up: the test device, the local APIC and the
//! outside-memory probe at 4 GiB), loads the GDT, turns on PAE, long mode
//! (`EFER.LME`) and paging, and jumps to the 64-bit code segment, which
//! calls [`primary_main`](crate::primary_main).
//!
//! The second vCPU comes through `ap_entry32` (from the real-mode
//! trampoline, `trampoline.rs`) onto the same path, with its own stack and
//! the page tables the first vCPU built, and calls
//! [`secondary_main`](crate::smp::secondary_main).
//!
//! The GDT: `0x08` 64-bit code, `0x10` flat data, `0x18` flat 32-bit code
//! (the trampoline's way into protected mode).

use core::arch::global_asm;

/// The multiboot 1 header magic.
const MULTIBOOT_MAGIC: u32 = 0x1BAD_B002;
/// Multiboot header flags: bit 16, the address fields are valid (the image
/// is a flat binary, not an ELF the loader could read).
const MULTIBOOT_FLAGS: u32 = 1 << 16;

/// Page table entry bits.
const PTE_PRESENT: u32 = 1 << 0;
/// Writable.
const PTE_WRITABLE: u32 = 1 << 1;
/// Page-level write-through.
const PTE_PWT: u32 = 1 << 3;
/// Page-level cache disable.
const PTE_PCD: u32 = 1 << 4;
/// A 2 MiB page (in a page directory entry).
const PTE_HUGE: u32 = 1 << 7;

/// How many GiB the identity map covers: one page directory each.
const MAPPED_GIB: u32 = 5;
/// Page directory entries per table.
const ENTRIES: u32 = 512;
/// The first GiB mapped uncached (PCD | PWT): 3 GiB up holds the devices.
const UNCACHED_FROM_GIB: u32 = 3;

/// `CR4.PAE`.
const CR4_PAE: u32 = 1 << 5;
/// `CR0.PE`.
const CR0_PE: u32 = 1 << 0;
/// `CR0.PG`.
const CR0_PG: u32 = 1 << 31;
/// The `IA32_EFER` MSR.
const MSR_EFER: u32 = 0xC000_0080;
/// `EFER.LME`.
const EFER_LME: u32 = 1 << 8;

/// The 64-bit code segment selector.
pub const CODE64_SELECTOR: u16 = 0x08;
/// The flat data segment selector.
const DATA_SELECTOR: u16 = 0x10;
/// The flat 32-bit code segment selector.
const CODE32_SELECTOR: u16 = 0x18;

/// The first vCPU's stack, in bytes.
const BOOT_STACK_SIZE: usize = 64 * 1024;
/// The second vCPU's stack, in bytes.
const AP_STACK_SIZE: usize = 16 * 1024;

global_asm!(
    r#"
    .section .text.boot, "ax"
    .code32
    .global _start
_start:
    jmp     .Lentry32

    .p2align 2
.Lmultiboot_header:
    .long   {mb_magic}
    .long   {mb_flags}
    .long   -({mb_magic} + {mb_flags})
    .long   .Lmultiboot_header          // header_addr
    .long   _start                      // load_addr
    .long   0                           // load_end_addr: the whole file
    .long   __bss_end                   // bss_end_addr
    .long   _start                      // entry_addr

.Lentry32:
    cli
    cld
    mov     $__bss_start, %edi
    mov     $__bss_end, %ecx
    sub     %edi, %ecx
    xor     %eax, %eax
    rep stosb
    mov     $boot_stack_top, %esp

    // PML4[0] -> the page directory pointer table.
    mov     $boot_pdpt, %eax
    or      ${table_flags}, %eax
    mov     %eax, boot_pml4

    // PDPT[i] -> page directory i.
    xor     %ecx, %ecx
.Lfill_pdpt:
    mov     %ecx, %eax
    shl     $12, %eax
    add     $boot_pd, %eax
    or      ${table_flags}, %eax
    mov     %eax, boot_pdpt(,%ecx,8)
    inc     %ecx
    cmp     ${mapped_gib}, %ecx
    jb      .Lfill_pdpt

    // Page directory entry j maps j * 2 MiB (its high half: j >> 11).
    xor     %ecx, %ecx
.Lfill_pd:
    mov     %ecx, %eax
    shl     $21, %eax
    or      ${huge_flags}, %eax
    cmp     ${uncached_first}, %ecx
    jb      .Lcached
    or      ${uncached_flags}, %eax
.Lcached:
    mov     %eax, boot_pd(,%ecx,8)
    mov     %ecx, %edx
    shr     $11, %edx
    mov     %edx, boot_pd+4(,%ecx,8)
    inc     %ecx
    cmp     ${pd_entries}, %ecx
    jb      .Lfill_pd

    mov     ${primary_main}, %edi
    jmp     .Lenter_long_mode

// The second vCPU, from the trampoline: protected mode, CS = 0x18.
    .global ap_entry32
ap_entry32:
    mov     ${data_sel}, %eax
    mov     %eax, %ds
    mov     %eax, %es
    mov     %eax, %ss
    mov     $ap_stack_top, %esp
    mov     ${secondary_main}, %edi

// ESP = the stack top, EDI = the Rust function to call in 64-bit mode.
.Lenter_long_mode:
    lgdt    boot_gdt_ptr
    mov     ${data_sel}, %eax
    mov     %eax, %ds
    mov     %eax, %es
    mov     %eax, %ss
    mov     %cr4, %eax
    or      ${cr4_pae}, %eax
    mov     %eax, %cr4
    mov     $boot_pml4, %eax
    mov     %eax, %cr3
    mov     ${msr_efer}, %ecx
    rdmsr
    or      ${efer_lme}, %eax
    wrmsr
    mov     %cr0, %eax
    or      ${cr0_pg_pe}, %eax
    mov     %eax, %cr0
    ljmp    ${code64_sel}, $.Llong_mode64

    .code64
.Llong_mode64:
    xor     %eax, %eax
    mov     %eax, %fs
    mov     %eax, %gs
    // The upper halves of the registers are undefined after the switch.
    mov     %esp, %esp
    mov     %edi, %edi
    and     $-16, %rsp
    xor     %ebp, %ebp
    call    *%rdi
.Lpark:
    cli
    hlt
    jmp     .Lpark

    .section .data.boot_gdt, "aw"
    .p2align 4
    .global boot_gdt, boot_gdt_end
boot_gdt:
    .quad   0
    .quad   0x00AF9B000000FFFF          // 0x08: 64-bit code, accessed
    .quad   0x00CF93000000FFFF          // 0x10: flat data, accessed
    .quad   0x00CF9B000000FFFF          // 0x18: flat 32-bit code, accessed
boot_gdt_end:
    .p2align 2
    .word   0
boot_gdt_ptr:
    .word   boot_gdt_end - boot_gdt - 1
    .long   boot_gdt

    .section .bss.boot_tables, "aw", @nobits
    .p2align 12
boot_pml4:
    .skip   4096
boot_pdpt:
    .skip   4096
boot_pd:
    .skip   4096 * {mapped_gib}

    .section .bss.boot_stacks, "aw", @nobits
    .p2align 12
    .skip   {boot_stack_size}
boot_stack_top:
    .skip   {ap_stack_size}
ap_stack_top:

    .text
"#,
    mb_magic = const MULTIBOOT_MAGIC,
    mb_flags = const MULTIBOOT_FLAGS,
    table_flags = const PTE_PRESENT | PTE_WRITABLE,
    huge_flags = const PTE_PRESENT | PTE_WRITABLE | PTE_HUGE,
    uncached_flags = const PTE_PCD | PTE_PWT,
    uncached_first = const UNCACHED_FROM_GIB * ENTRIES,
    mapped_gib = const MAPPED_GIB,
    pd_entries = const MAPPED_GIB * ENTRIES,
    data_sel = const DATA_SELECTOR,
    code64_sel = const CODE64_SELECTOR,
    cr4_pae = const CR4_PAE,
    msr_efer = const MSR_EFER,
    efer_lme = const EFER_LME,
    cr0_pg_pe = const CR0_PG | CR0_PE,
    boot_stack_size = const BOOT_STACK_SIZE,
    ap_stack_size = const AP_STACK_SIZE,
    primary_main = sym crate::primary_main,
    secondary_main = sym crate::smp::secondary_main,
    options(att_syntax)
);

/// The selector of the flat 32-bit code segment the trampoline jumps to.
pub const TRAMPOLINE_CODE_SELECTOR: u16 = CODE32_SELECTOR;
