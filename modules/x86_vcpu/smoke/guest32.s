.code32
.intel_syntax noprefix
// Loaded at GPA 0x1000, entered in flat 32-bit protected mode, paging off.
start:
    mov esp, 0x8000
    lgdt [gdt_ptr]
    lidt [idt_ptr]
    mov dx, 0x3f8
    mov al, 'G'
    out dx, al
    mov eax, 0x12345678
    mov dword ptr [0xfee00000], eax
    mov ebx, dword ptr [0xfee00010]
    mov dword ptr [0x7000], ebx
    or dword ptr [0xfee00020], 0x80
    in al, 0x60
    mov byte ptr [0x7004], al
    mov eax, 0x40000000
    cpuid
    mov dword ptr [0x7008], ebx
    mov eax, 0x1234
    mov ebx, 1
    vmmcall
    mov dword ptr [0x700c], eax
    sti
    hlt
    mov eax, 0xdead
    vmmcall
    hlt
handler:
    mov dx, 0x3f8
    mov al, 'I'
    out dx, al
    iret
.p2align 3
idt:
    .fill 0x20, 8, 0
    // vector 0x20: 32-bit interrupt gate, selector 0x10, handler
    .word handler
    .word 0x10
    .word 0x8e00
    .word 0
idt_end:
idt_ptr:
    .word idt_end - idt - 1
    .long idt
.p2align 3
gdt:
    .quad 0
    .quad 0
    .quad 0x00cf9b000000ffff
    .quad 0x00cf93000000ffff
gdt_end:
gdt_ptr:
    .word gdt_end - gdt - 1
    .long gdt
