.code16
.intel_syntax noprefix
start:
    xor ax, ax
    mov ds, ax
    mov ss, ax
    mov sp, 0x7000
    mov word ptr [13*4], offset gp_handler
    mov word ptr [13*4+2], 0
    mov dx, 0x3f8
    mov al, 'R'
    out dx, al
    mov ecx, 0xc0000080
    rdmsr
    mov dword ptr [0x6000], eax
    mov ecx, 0x12345
    rdmsr
    mov eax, 0xdead
    vmmcall
gp_handler:
    mov dx, 0x3f8
    mov al, 'E'
    out dx, al
    mov bp, sp
    add word ptr [bp], 2
    iret
