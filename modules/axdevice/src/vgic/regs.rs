//! The GICv3 register map and bit fields the vGIC emulates (ARM IHI 0069,
//! chapter 12), and the affinity layouts it converts between.
//!
//! The interrupt registers (`IGROUPR` .. `NSACR`) sit at the same offsets in
//! the distributor frame and in a redistributor's `SGI_base` frame; the
//! distributor serves the words of INTIDs 32 and up, the redistributor those
//! of its vCPU's INTIDs 0..31.

/// The size of the distributor (`GICD`) frame in bytes.
pub const GICD_SIZE: usize = 0x1_0000;
/// The size of one redistributor in bytes: its `RD_base` frame and its
/// `SGI_base` frame.
pub const GICR_STRIDE: usize = 0x2_0000;
/// The offset of the `SGI_base` frame in a redistributor.
pub const GICR_SGI_BASE: usize = 0x1_0000;

/// The number of SGIs (INTIDs 0..15).
pub const NR_SGIS: u32 = 16;
/// The number of private interrupts of a vCPU, SGIs and PPIs (INTIDs 0..31).
pub const NR_PRIVATE: u32 = 32;
/// The most SPIs a GICv3 has without the extended range (INTIDs 32..1019).
pub const MAX_SPIS: u32 = 988;
/// The most vCPUs a vGIC serves (their affinity is Aff0 alone, one
/// `ICC_SGI1R_EL1` target list).
pub const MAX_VCPUS: usize = 16;
/// INTIDs per word of a one-bit-per-interrupt register.
pub const INTIDS_PER_WORD: u32 = 32;
/// INTIDs per word of `ICFGR` (two bits each).
pub const INTIDS_PER_CFG_WORD: u32 = 16;

/// The width of the 32-bit registers in bytes.
pub const REG32: usize = 4;
/// The width of the 64-bit registers in bytes.
pub const REG64: usize = 8;

/// `GICD_PIDR2` / `GICR_PIDR2`: ArchRev 3 (GICv3) in bits \[7:4\], JEDEC
/// bit set, the value Linux checks before it uses a frame.
pub const PIDR2_VALUE: u32 = 0x3B;
/// `GICD_IIDR` / `GICR_IIDR`: implementer Arm (JEP106 `0x43B`, as the KVM
/// and QEMU models report), revision and variant 0, ProductID `0x41`
/// (`'A'`, ArceOS).
pub const IIDR_VALUE: u32 = (0x41 << 24) | 0x43B;
/// The first identification register (`PIDR4`) of either frame.
pub const ID_FIRST: usize = 0xFFD0;
/// The last identification register (`CIDR3`) of either frame.
pub const ID_LAST: usize = 0xFFFC;
/// `PIDR2`, the one identification register that is not zero.
pub const PIDR2: usize = 0xFFE8;

/// The value of identification register `offset` (from [`ID_FIRST`] to
/// [`ID_LAST`]): [`PIDR2_VALUE`] for `PIDR2`, zero for the others.
pub const fn id_register(offset: usize) -> u32 {
    if offset == PIDR2 { PIDR2_VALUE } else { 0 }
}

/// The interrupt registers shared by the distributor and the `SGI_base`
/// frame (offsets from the frame).
pub mod irq {
    /// `IGROUPR<n>`: group per INTID (1 = Group 1).
    pub const IGROUPR: usize = 0x080;
    /// `ISENABLER<n>`: write 1 to enable, read the enables.
    pub const ISENABLER: usize = 0x100;
    /// `ICENABLER<n>`: write 1 to disable, read the enables.
    pub const ICENABLER: usize = 0x180;
    /// `ISPENDR<n>`: write 1 to set pending, read the pending state.
    pub const ISPENDR: usize = 0x200;
    /// `ICPENDR<n>`: write 1 to clear pending, read the pending state.
    pub const ICPENDR: usize = 0x280;
    /// `ISACTIVER<n>`: write 1 to activate, read the active state.
    pub const ISACTIVER: usize = 0x300;
    /// `ICACTIVER<n>`: write 1 to deactivate, read the active state.
    pub const ICACTIVER: usize = 0x380;
    /// The end of the one-bit-per-INTID registers.
    pub const BITMAP_END: usize = 0x400;
    /// The size of each one-bit-per-INTID register array (32 words).
    pub const BITMAP_SIZE: usize = 0x80;
    /// `IPRIORITYR<n>`: one priority byte per INTID.
    pub const IPRIORITYR: usize = 0x400;
    /// The end of `IPRIORITYR` (1024 INTIDs).
    pub const IPRIORITYR_END: usize = 0x800;
    /// `ITARGETSR<n>` (distributor only): RAZ/WI with affinity routing.
    pub const ITARGETSR: usize = 0x800;
    /// The end of `ITARGETSR`.
    pub const ITARGETSR_END: usize = 0xC00;
    /// `ICFGR<n>`: two bits per INTID, [`CFG_EDGE`] in each pair.
    pub const ICFGR: usize = 0xC00;
    /// The end of `ICFGR`.
    pub const ICFGR_END: usize = 0xD00;
    /// `IGRPMODR<n>`: group modifier, RAZ/WI (one security state).
    pub const IGRPMODR: usize = 0xD00;
    /// The end of `IGRPMODR`.
    pub const IGRPMODR_END: usize = 0xD80;
    /// `NSACR<n>`: RAZ/WI (one security state).
    pub const NSACR: usize = 0xE00;
    /// The end of `NSACR`.
    pub const NSACR_END: usize = 0xF00;

    /// In each two-bit field of `ICFGR`: the interrupt is edge-triggered
    /// (clear: level-sensitive). The other bit is RES0.
    pub const CFG_EDGE: u32 = 0b10;
    /// The `ICFGR` value of sixteen edge-triggered interrupts (the SGIs).
    pub const CFG_ALL_EDGE: u32 = 0xAAAA_AAAA;
    /// The `ICFGR` value of sixteen level-sensitive interrupts (the PPIs).
    pub const CFG_ALL_LEVEL: u32 = 0;
    /// The width of one `ICFGR` field in bits.
    pub const CFG_BITS: u32 = 2;
}

/// Distributor registers (offsets from the `GICD` frame) and fields.
pub mod gicd {
    /// `GICD_CTLR`.
    pub const CTLR: usize = 0x0000;
    /// `GICD_TYPER`.
    pub const TYPER: usize = 0x0004;
    /// `GICD_IIDR`.
    pub const IIDR: usize = 0x0008;
    /// `GICD_TYPER2`: reads 0 (no vPE IDs, no extended ranges).
    pub const TYPER2: usize = 0x000C;
    /// `GICD_STATUSR`: RAZ/WI (no error reporting).
    pub const STATUSR: usize = 0x0010;
    /// `GICD_SGIR`: WI (affinity routing is on; SGIs go through
    /// `ICC_SGI1R_EL1`).
    pub const SGIR: usize = 0x0F00;
    /// `GICD_IROUTER<n>`: 64 bits per INTID, from INTID 32.
    pub const IROUTER: usize = 0x6000;
    /// The end of `GICD_IROUTER` (1020 INTIDs).
    pub const IROUTER_END: usize = 0x7FE0;

    /// `GICD_CTLR.EnableGrp0`.
    pub const CTLR_ENABLE_GRP0: u32 = 1 << 0;
    /// `GICD_CTLR.EnableGrp1`.
    pub const CTLR_ENABLE_GRP1: u32 = 1 << 1;
    /// `GICD_CTLR.ARE`: affinity routing, always on (reads 1).
    pub const CTLR_ARE: u32 = 1 << 4;
    /// `GICD_CTLR.DS`: one security state (reads 1).
    pub const CTLR_DS: u32 = 1 << 6;
    /// `GICD_CTLR.RWP`: a register write is in flight; always 0.
    pub const CTLR_RWP: u32 = 1 << 31;
    /// The writable bits of `GICD_CTLR`.
    pub const CTLR_WRITABLE: u32 = CTLR_ENABLE_GRP0 | CTLR_ENABLE_GRP1;

    /// `GICD_TYPER.ITLinesNumber`, bits \[4:0\]: 32 * (N + 1) INTIDs.
    pub const TYPER_ITLINES_MASK: u32 = 0x1F;
    /// `GICD_TYPER.IDbits`, bits \[23:19\]: INTID bits minus one.
    pub const TYPER_IDBITS_SHIFT: u32 = 19;
    /// The `IDbits` value: 10 INTID bits (INTIDs below 1024).
    pub const TYPER_IDBITS: u32 = 9;

    /// `GICD_IROUTER.Interrupt_Routing_Mode`, bit 31: route to any one
    /// participating PE (the model picks vCPU 0).
    pub const IROUTER_IRM: u64 = 1 << 31;
    /// The stored bits of `GICD_IROUTER`: Aff3 \[39:32\], IRM \[31\], Aff2
    /// \[23:16\], Aff1 \[15:8\], Aff0 \[7:0\]; the rest is RES0.
    pub const IROUTER_MASK: u64 = super::AFF_MASK | IROUTER_IRM;
}

/// Redistributor registers (offsets from `RD_base`) and fields.
pub mod gicr {
    /// `GICR_CTLR`: RAZ/WI (no LPIs; RWP reads 0).
    pub const CTLR: usize = 0x0000;
    /// `GICR_IIDR`.
    pub const IIDR: usize = 0x0004;
    /// `GICR_TYPER` (64 bits).
    pub const TYPER: usize = 0x0008;
    /// `GICR_STATUSR`: RAZ/WI.
    pub const STATUSR: usize = 0x0010;
    /// `GICR_WAKER`.
    pub const WAKER: usize = 0x0014;
    /// `GICR_PROPBASER` (64 bits): RAZ/WI, no LPIs.
    pub const PROPBASER: usize = 0x0070;
    /// `GICR_PENDBASER` (64 bits): RAZ/WI, no LPIs.
    pub const PENDBASER: usize = 0x0078;

    /// `GICR_TYPER.Last`: the last redistributor of the block.
    pub const TYPER_LAST: u64 = 1 << 4;
    /// `GICR_TYPER.Processor_Number`, bits \[23:8\].
    pub const TYPER_PROCESSOR_SHIFT: u32 = 8;
    /// `GICR_TYPER.Affinity_Value`, bits \[63:32\]: Aff3.Aff2.Aff1.Aff0.
    pub const TYPER_AFFINITY_SHIFT: u32 = 32;

    /// `GICR_WAKER.ProcessorSleep`.
    pub const WAKER_PROCESSOR_SLEEP: u32 = 1 << 1;
    /// `GICR_WAKER.ChildrenAsleep` (reads as `ProcessorSleep`).
    pub const WAKER_CHILDREN_ASLEEP: u32 = 1 << 2;
}

/// `ICC_SGI1R_EL1` fields.
pub mod sgi1r {
    /// `TargetList`, bits \[15:0\]: Aff0 = RS * 16 + bit.
    pub const TARGET_LIST_MASK: u64 = 0xFFFF;
    /// `Aff1`, bits \[23:16\].
    pub const AFF1_SHIFT: u32 = 16;
    /// `INTID`, bits \[27:24\].
    pub const INTID_SHIFT: u32 = 24;
    /// The width mask of `INTID` (after shifting).
    pub const INTID_MASK: u64 = 0xF;
    /// `Aff2`, bits \[39:32\].
    pub const AFF2_SHIFT: u32 = 32;
    /// `IRM`, bit 40: every PE but the sender.
    pub const IRM: u64 = 1 << 40;
    /// `RS`, bits \[47:44\]: which 16 Aff0 values `TargetList` covers.
    pub const RS_SHIFT: u32 = 44;
    /// The width mask of `RS` (after shifting).
    pub const RS_MASK: u64 = 0xF;
    /// `Aff3`, bits \[55:48\].
    pub const AFF3_SHIFT: u32 = 48;
    /// The width mask of one affinity level (after shifting).
    pub const AFF_LEVEL_MASK: u64 = 0xFF;
    /// The number of targets one `TargetList` names.
    pub const TARGETS_PER_LIST: u64 = 16;
}

/// Aff0 in the MPIDR layout, bits \[7:0\].
pub const AFF0_MASK: u64 = 0xFF;
/// Aff1..Aff0 of the MPIDR layout, bits \[23:0\] (Aff2, Aff1, Aff0).
pub const AFF210_MASK: u64 = 0xFF_FFFF;
/// Aff3 in the MPIDR layout, bits \[39:32\].
pub const AFF3_SHIFT: u32 = 32;
/// The affinity bits of the MPIDR layout: Aff3 \[39:32\], Aff2 \[23:16\],
/// Aff1 \[15:8\], Aff0 \[7:0\] (also the layout of `GICD_IROUTER`).
pub const AFF_MASK: u64 = (0xFF << AFF3_SHIFT) | AFF210_MASK;
/// Where Aff3 goes in the packed 32-bit `Aff3.Aff2.Aff1.Aff0` form.
pub const PACKED_AFF3_SHIFT: u32 = 24;
