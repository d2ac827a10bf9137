//! The bit fields of the A64 load/store encodings this crate decodes, as
//! the ARM ARM (DDI 0487, "Loads and Stores" encoding group) places them.
//!
//! One layout, [`LDST`], names every field the decoder reads; a field only
//! means something in the encoding classes that have it (the doc of each
//! field says which). `register_bitfields!` generates items that cannot
//! carry doc comments; the fields are documented in the source below.

#![allow(missing_docs)]

use tock_registers::register_bitfields;

register_bitfields! {u32,
    /// A load/store instruction word.
    pub LDST [
        /// The transfer register Rt (a W/X register, or a SIMD&FP register
        /// when `V` = 1; 31 is WZR/XZR). For `DC ZVA`, the address register.
        RT OFFSET(0) NUMBITS(5) [],
        /// The base register Rn (31 is SP).
        RN OFFSET(5) NUMBITS(5) [],
        /// The second transfer register Rt2 (pairs, exclusive pairs).
        RT2 OFFSET(10) NUMBITS(5) [],
        /// The index kind of the 9-bit immediate classes (op4): 0b00
        /// unscaled offset, 0b01 post-index, 0b10 unprivileged (or, with
        /// `OP3_TOP` = 1, register offset), 0b11 pre-index.
        OP4 OFFSET(10) NUMBITS(2) [],
        /// The unsigned 12-bit offset, scaled by the access size.
        IMM12 OFFSET(10) NUMBITS(12) [],
        /// Register offset: shift the index by log2(size) when set.
        S OFFSET(12) NUMBITS(1) [],
        /// The signed 9-bit byte offset.
        IMM9 OFFSET(12) NUMBITS(9) [],
        /// Register offset: how the index register is extended (0b010
        /// UXTW, 0b011 LSL, 0b110 SXTW, 0b111 SXTX; others unallocated).
        OPTION OFFSET(13) NUMBITS(3) [],
        /// Exclusive and ordered classes: acquire (loads) / release
        /// (stores) semantics.
        O0 OFFSET(15) NUMBITS(1) [],
        /// The signed 7-bit pair offset, scaled by the register size.
        IMM7 OFFSET(15) NUMBITS(7) [],
        /// The index register Rm (register offset) or the status / compare
        /// register Rs (exclusive, atomic classes).
        RM OFFSET(16) NUMBITS(5) [],
        /// The signed 19-bit word offset of a literal load.
        IMM19 OFFSET(5) NUMBITS(19) [],
        /// Bit 21 (the top bit of op3): register offset and atomic classes
        /// when set; in the exclusive class `o1`, a pair or compare-and-swap.
        OP3_TOP OFFSET(21) NUMBITS(1) [],
        /// Pair and exclusive classes: 1 = load.
        L OFFSET(22) NUMBITS(1) [],
        /// Single-register classes: the operation (store, load, signed
        /// load to X, signed load to W; for SIMD, bit 1 selects 128 bits).
        OPC OFFSET(22) NUMBITS(2) [],
        /// Exclusive class `o2`: ordered (LDAR/STLR) or compare-and-swap.
        O2 OFFSET(23) NUMBITS(1) [],
        /// Pair classes: 0b00 no-allocate offset, 0b01 post-index, 0b10
        /// offset, 0b11 pre-index.
        PAIR_INDEX OFFSET(23) NUMBITS(2) [],
        /// Bit 24 (the top bit of op2): unsigned-offset class in the
        /// register family; not exclusive/literal in the others.
        OP2_TOP OFFSET(24) NUMBITS(1) [],
        /// Bit 25: 0 for every load/store (with `OP1_27` = 1).
        OP0_25 OFFSET(25) NUMBITS(1) [],
        /// Bit 26 (`V`): the transfer registers are SIMD&FP registers.
        V OFFSET(26) NUMBITS(1) [],
        /// Bit 27: 1 for every load/store (with `OP0_25` = 0).
        OP1_27 OFFSET(27) NUMBITS(1) [],
        /// Bits 29:28: the family: 0b00 exclusive/ordered/structures,
        /// 0b01 literal/RCPC/memory copy, 0b10 pairs, 0b11 single
        /// registers.
        FAMILY OFFSET(28) NUMBITS(2) [],
        /// Bits 31:30: the access size (single registers, exclusives) or
        /// `opc` (pairs, literal loads).
        SIZE OFFSET(30) NUMBITS(2) [],
        /// Bits 31:28 (op0): 0b1101 with bit 24 and bit 21 set is the
        /// memory-tagging class.
        OP0 OFFSET(28) NUMBITS(4) []
    ]
}
