//! The guest's x87/SSE/AVX state and XCR0.
//!
//! The host kernel is built without SSE (`x86_64-unknown-none` is
//! soft-float), so it never touches these registers: the guest's stay live
//! in the CPU while its vCPU is bound, and are saved (`XSAVE`, or `FXSAVE`
//! without XSAVE) when another vCPU may take the CPU (`unbind`) and loaded
//! again on `bind`. The save area is one 4 KiB frame; the XCR0 the guest
//! may set is limited to the components that fit in it
//! ([`xcr0_fitting`]), which CPUID leaf 0xD reports accordingly.

/// The size of the save area.
pub const AREA_SIZE: usize = 4096;

/// Offsets in the legacy (FXSAVE) region (SDM Vol. 1, table 10-2).
mod legacy {
    /// FCW, the x87 control word.
    pub const FCW: usize = 0;
    /// MXCSR.
    pub const MXCSR: usize = 24;
    /// FCW after FNINIT.
    pub const FCW_INIT: u16 = 0x037f;
    /// MXCSR after reset: all exceptions masked.
    pub const MXCSR_INIT: u32 = 0x1f80;
}

/// Fills `area` with the state of a CPU after reset: everything zero
/// (XSTATE_BV = 0: every component in its initial state), FCW 0x37f and
/// MXCSR 0x1f80 for what `FXRSTOR` and `XRSTOR` read from the legacy
/// region.
pub fn init_area(area: &mut [u8]) {
    area.fill(0);
    if let Some(fcw) = area.get_mut(legacy::FCW..legacy::FCW + 2) {
        fcw.copy_from_slice(&legacy::FCW_INIT.to_le_bytes());
    }
    if let Some(mxcsr) = area.get_mut(legacy::MXCSR..legacy::MXCSR + 4) {
        mxcsr.copy_from_slice(&legacy::MXCSR_INIT.to_le_bytes());
    }
}

/// XCR0 component groups that are all-or-nothing (see
/// [`crate::exit::xcr0_valid`]).
mod group {
    pub const AVX: u64 = 1 << 2;
    pub const MPX: u64 = 0b11 << 3;
    pub const AVX512: u64 = 0b111 << 5;
    /// AMX TILECFG and TILEDATA.
    pub const AMX: u64 = 0b11 << 17;
    /// x87 and SSE live in the legacy region and always fit.
    pub const LEGACY: u64 = 0b11;
}

/// The XCR0 components of `supported` whose save slot (`component(i)` =
/// (offset, size), CPUID.(0xD, i).EBX/EAX) ends within `limit` bytes,
/// keeping the all-or-nothing groups whole.
pub fn xcr0_fitting(supported: u64, component: impl Fn(u32) -> (u32, u32), limit: usize) -> u64 {
    let mut fit = supported & group::LEGACY;
    for i in 2..64 {
        if supported & (1 << i) == 0 {
            continue;
        }
        let (offset, size) = component(i);
        if (offset as usize).saturating_add(size as usize) <= limit {
            fit |= 1 << i;
        }
    }
    for g in [group::MPX, group::AVX512, group::AMX] {
        if fit & g != g {
            fit &= !g;
        }
    }
    if fit & group::AVX == 0 {
        fit &= !group::AVX512;
    }
    fit
}

/// The save area and the XCR0 values, on the hypervisor.
#[cfg(all(target_arch = "x86_64", target_os = "none"))]
pub(crate) mod hw {
    use axerrno::AxResult;
    use axvcpu::AxVCpuHal;
    use core::arch::asm;

    use crate::cpuid::{Leaf1Ecx, host_cpuid, leaf};
    use crate::frame::PhysFrame;

    /// XCR0 on the current CPU.
    fn xgetbv0() -> u64 {
        let (lo, hi): (u32, u32);
        // SAFETY: XGETBV 0 only reads; callers use it with CR4.OSXSAVE set.
        unsafe { asm!("xgetbv", in("ecx") 0, out("eax") lo, out("edx") hi, options(nomem, nostack)) };
        (u64::from(hi) << 32) | u64::from(lo)
    }

    /// Sets XCR0.
    ///
    /// # Safety
    ///
    /// CR4.OSXSAVE is set and `value` is a valid XCR0 for this CPU.
    unsafe fn xsetbv0(value: u64) {
        // SAFETY: the caller's contract.
        unsafe {
            asm!("xsetbv", in("ecx") 0, in("eax") value as u32, in("edx") (value >> 32) as u32, options(nostack))
        };
    }

    /// Whether XSAVE is usable here: the CPU has it and the host enabled
    /// it (CR4.OSXSAVE, set by `hardware_enable`).
    fn xsave_enabled() -> bool {
        /// CR4.OSXSAVE.
        const OSXSAVE: usize = 1 << 18;
        let cpu = Leaf1Ecx::from_bits_retain(host_cpuid(leaf::FEATURES, 0).ecx).contains(Leaf1Ecx::XSAVE);
        // SAFETY: reading CR4 has no side effect.
        let cr4 = unsafe { x86::controlregs::cr4() }.bits();
        cpu && cr4 & OSXSAVE != 0
    }

    /// The XCR0 components a guest may enable on this CPU.
    pub fn xcr0_supported() -> u64 {
        if !xsave_enabled() {
            return 0;
        }
        /// CPUID leaf 0xD: XSAVE features.
        const XSAVE_LEAF: u32 = 0xd;
        let r = host_cpuid(XSAVE_LEAF, 0);
        let supported = (u64::from(r.edx) << 32) | u64::from(r.eax);
        super::xcr0_fitting(
            supported,
            |i| {
                let c = host_cpuid(XSAVE_LEAF, i);
                (c.ebx, c.eax)
            },
            super::AREA_SIZE,
        )
    }

    /// A vCPU's FP/SIMD state while it is not bound, and its XCR0.
    pub struct FpState<H: AxVCpuHal> {
        area: PhysFrame<H>,
        xsave: bool,
        /// The guest's XCR0 (x87 only after reset).
        guest_xcr0: u64,
        /// The host's XCR0, put back on `save`.
        host_xcr0: u64,
        /// The XCR0 bits a guest may set.
        supported: u64,
    }

    impl<H: AxVCpuHal> FpState<H> {
        /// A reset state.
        pub fn new() -> AxResult<Self> {
            let mut area = PhysFrame::<H>::alloc_zero()?;
            super::init_area(area.as_mut());
            Ok(Self {
                area,
                xsave: xsave_enabled(),
                guest_xcr0: 1,
                host_xcr0: 1,
                supported: xcr0_supported(),
            })
        }

        /// The XCR0 bits a guest may set (0 without XSAVE).
        pub fn supported(&self) -> u64 {
            self.supported
        }

        /// Makes `xcr0` (validated against [`FpState::supported`]) the
        /// guest's, now: the vCPU is bound.
        pub fn set_guest_xcr0(&mut self, xcr0: u64) {
            if self.xsave {
                self.guest_xcr0 = xcr0;
                // SAFETY: OSXSAVE is on (`xsave`), `xcr0` passed
                // `xcr0_valid` against the supported bits.
                unsafe { xsetbv0(xcr0) };
            }
        }

        /// Loads the guest's state into the CPU (on `bind`).
        pub fn load(&mut self) {
            let ptr = self.area.as_mut().as_mut_ptr();
            if self.xsave {
                self.host_xcr0 = xgetbv0();
                // SAFETY: the area is a 4 KiB frame (64-byte aligned) laid
                // out by `init_area` or a previous XSAVE with the same XCR0
                // bits; XCR0 is valid (see `set_guest_xcr0`).
                unsafe {
                    xsetbv0(self.guest_xcr0);
                    asm!("xrstor64 [{}]", in(reg) ptr, in("eax") u32::MAX, in("edx") u32::MAX, options(nostack));
                }
            } else {
                // SAFETY: a 512-byte FXSAVE image at a 16-byte aligned
                // address, from `init_area` or FXSAVE.
                unsafe { asm!("fxrstor64 [{}]", in(reg) ptr, options(nostack)) };
            }
        }

        /// Saves the guest's state from the CPU and gives the host its XCR0
        /// back (on `unbind`).
        pub fn save(&mut self) {
            let ptr = self.area.as_mut().as_mut_ptr();
            if self.xsave {
                // SAFETY: the area is ours, 4 KiB, 64-byte aligned and large
                // enough for every component of `supported`; the host's
                // XCR0 was valid when `load` read it.
                unsafe {
                    asm!("xsave64 [{}]", in(reg) ptr, in("eax") u32::MAX, in("edx") u32::MAX, options(nostack));
                    xsetbv0(self.host_xcr0);
                }
            } else {
                // SAFETY: 512 bytes at a 16-byte aligned address we own.
                unsafe { asm!("fxsave64 [{}]", in(reg) ptr, options(nostack)) };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reset_area() {
        let mut area = [0xffu8; 1024];
        init_area(&mut area);
        assert_eq!(&area[0..2], &[0x7f, 0x03]);
        assert_eq!(&area[24..28], &[0x80, 0x1f, 0, 0]);
        assert!(area[28..].iter().all(|&b| b == 0), "XSTATE_BV = 0");
        assert!(area[2..24].iter().all(|&b| b == 0));
    }

    /// A Skylake-SP-like layout: AVX at 576 (256 bytes), MPX at 960/1024,
    /// AVX-512 at 1088 (64), 1152 (512), 1664 (1024), PKRU at 2688, AMX
    /// tile data at 2816 (8192).
    fn layout(i: u32) -> (u32, u32) {
        match i {
            2 => (576, 256),
            3 => (960, 64),
            4 => (1024, 64),
            5 => (1088, 64),
            6 => (1152, 512),
            7 => (1664, 1024),
            9 => (2688, 8),
            17 => (2752, 64),
            18 => (2816, 8192),
            _ => (0, 0),
        }
    }

    #[test]
    fn components_that_fit_a_page() {
        let all = 0b110_0000_0010_1111_1111;
        // Everything but the AMX tile data fits 4 KiB, and AMX goes whole.
        assert_eq!(xcr0_fitting(all, layout, 4096), all & !(0b11 << 17));
        // With 2 KiB, AVX-512's third part does not fit: the whole group
        // goes, and PKRU and AMX too.
        assert_eq!(xcr0_fitting(all, layout, 2048), 0b1_1111);
        // Without AVX, AVX-512 cannot stay.
        assert_eq!(xcr0_fitting(0b1110_0011, layout, 4096), 0b11);
        assert_eq!(xcr0_fitting(0, layout, 4096), 0);
    }
}
