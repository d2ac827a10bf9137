//! Boot: the PVH entry (QEMU `-kernel` enters it in 32-bit protected mode),
//! an identity map of the first GiB with 2 MiB pages, long mode, a stack,
//! then `rust_main`.

use core::arch::global_asm;

global_asm!(
    r#"
.pushsection .note.Xen, "a", @note
.p2align 2
.long 4
.long 8
.long 18
.asciz "Xen"
.p2align 2
.quad pvh_entry32
.popsection

.pushsection .data.boot_page_table, "aw"
.p2align 12
pml4:
    .quad pdpt + 3
    .fill 511, 8, 0
pdpt:
    .quad pd + 3
    .fill 511, 8, 0
pd:
    .set i, 0
    .rept 512
    .quad (i << 21) | 0x83
    .set i, i + 1
    .endr
.popsection

.pushsection .rodata
.p2align 3
gdt:
    .quad 0
    .quad 0x00af9b000000ffff
    .quad 0x00cf93000000ffff
gdt_ptr:
    .word gdt_ptr - gdt - 1
    .quad gdt
.popsection

.pushsection .text.boot, "ax"
.code32
.global pvh_entry32
pvh_entry32:
    cli
    lgdt    gdt_ptr
    mov     %cr4, %eax
    or      $0x20, %eax
    mov     %eax, %cr4
    mov     $pml4, %eax
    mov     %eax, %cr3
    mov     $0xc0000080, %ecx
    rdmsr
    or      $0x100, %eax
    wrmsr
    mov     %cr0, %eax
    or      $0x80000001, %eax
    mov     %eax, %cr0
    ljmp    $0x08, $entry64
.code64
entry64:
    mov     $0x10, %ax
    mov     %ax, %ds
    mov     %ax, %es
    mov     %ax, %ss
    mov     %ax, %fs
    mov     %ax, %gs
    lea     stack_top(%rip), %rsp
    call    rust_main
1:  hlt
    jmp 1b
.popsection

.pushsection .bss
.p2align 12
stack_bottom:
    .fill 65536, 1, 0
stack_top:
.popsection
"#,
    options(att_syntax)
);
