//! Physical frames the hardware reads: VMXON region, VMCS, VMCB, host save
//! area, intercept bitmaps ([`PhysFrame`], [`ContiguousFrames`]).
//!
//! They come from [`AxVCpuHal::alloc_frame`], are zeroed on allocation,
//! reached through the host's linear map ([`AxVCpuHal::phys_to_virt`]) and
//! freed on drop. The SVM I/O and MSR permission maps must be physically
//! contiguous (12 and 8 KiB), which `alloc_frame` (one 4 KiB frame at a
//! time) does not promise: [`ContiguousFrames`] allocates single frames
//! until it holds a run of consecutive ones and frees the rest. A HAL call
//! for contiguous frames would make that exact (see the crate doc).

use core::marker::PhantomData;

use axerrno::{AxError, AxResult};
use axvcpu::{AxVCpuHal, HostPhysAddr};

/// The size of a frame.
pub const FRAME_SIZE: usize = 4096;

/// Zeroes `len` bytes of host physical memory at `paddr`.
///
/// # Safety
///
/// `paddr..paddr + len` must be frames this crate owns (allocated from
/// `H` and not freed).
unsafe fn zero<H: AxVCpuHal>(paddr: HostPhysAddr, len: usize) {
    let ptr = H::phys_to_virt(paddr).as_mut_ptr();
    // SAFETY: the caller owns the frames; the linear map covers them.
    unsafe { core::ptr::write_bytes(ptr, 0, len) };
}

/// One 4 KiB frame, zeroed when allocated, freed on drop.
pub struct PhysFrame<H: AxVCpuHal> {
    paddr: HostPhysAddr,
    _hal: PhantomData<fn() -> H>,
}

impl<H: AxVCpuHal> PhysFrame<H> {
    /// Allocates a zeroed frame; `NoMemory` when the host has none.
    pub fn alloc_zero() -> AxResult<Self> {
        let paddr = H::alloc_frame().ok_or(AxError::NoMemory)?;
        // SAFETY: the frame was just allocated for us.
        unsafe { zero::<H>(paddr, FRAME_SIZE) };
        Ok(Self {
            paddr,
            _hal: PhantomData,
        })
    }

    /// The frame's host physical address.
    pub fn paddr(&self) -> HostPhysAddr {
        self.paddr
    }

    /// A typed view of the frame's start.
    ///
    /// # Safety
    ///
    /// `T` must fit in a frame, need at most 4 KiB alignment, and be valid
    /// for any bit pattern (a plain `#[repr(C)]` struct of integers).
    pub unsafe fn view_mut<T>(&mut self) -> &mut T {
        // SAFETY: the frame is ours and mapped; the caller vouches for `T`.
        unsafe { &mut *H::phys_to_virt(self.paddr).as_mut_ptr().cast::<T>() }
    }
}

impl<H: AxVCpuHal> AsRef<[u8]> for PhysFrame<H> {
    fn as_ref(&self) -> &[u8] {
        // SAFETY: the frame is ours, mapped and 4 KiB long; the slice
        // borrows `self`, so the frame outlives it.
        unsafe { core::slice::from_raw_parts(H::phys_to_virt(self.paddr).as_ptr(), FRAME_SIZE) }
    }
}

impl<H: AxVCpuHal> AsMut<[u8]> for PhysFrame<H> {
    fn as_mut(&mut self) -> &mut [u8] {
        // SAFETY: as for `as_ref`, and `&mut self` makes it exclusive.
        unsafe { core::slice::from_raw_parts_mut(H::phys_to_virt(self.paddr).as_mut_ptr(), FRAME_SIZE) }
    }
}

impl<H: AxVCpuHal> Drop for PhysFrame<H> {
    fn drop(&mut self) {
        H::dealloc_frame(self.paddr);
    }
}

/// `N` physically consecutive frames, zeroed, freed on drop.
pub struct ContiguousFrames<H: AxVCpuHal, const N: usize> {
    paddr: HostPhysAddr,
    _hal: PhantomData<fn() -> H>,
}

/// How many single frames [`ContiguousFrames::alloc_zero`] tries before it
/// gives up.
const MAX_TRIES: usize = 64;

impl<H: AxVCpuHal, const N: usize> ContiguousFrames<H, N> {
    /// Allocates `N` consecutive zeroed frames; `NoMemory` when no run
    /// turns up among the first frames the host gives.
    pub fn alloc_zero() -> AxResult<Self> {
        let mut got = [0usize; MAX_TRIES];
        let mut count = 0;
        let mut found = None;
        while count < MAX_TRIES && found.is_none() {
            let Some(f) = H::alloc_frame() else { break };
            got[count] = f.as_usize();
            count += 1;
            found = run_start(&got[..count], N);
        }
        for &f in &got[..count] {
            let in_run = found.is_some_and(|s: usize| (s..s + N * FRAME_SIZE).contains(&f));
            if !in_run {
                H::dealloc_frame(HostPhysAddr::from(f));
            }
        }
        let first = HostPhysAddr::from(found.ok_or(AxError::NoMemory)?);
        // SAFETY: the N frames of the run were allocated for us above.
        unsafe { zero::<H>(first, N * FRAME_SIZE) };
        Ok(Self {
            paddr: first,
            _hal: PhantomData,
        })
    }

    /// The first frame's host physical address.
    pub fn paddr(&self) -> HostPhysAddr {
        self.paddr
    }
}

/// The start of `n` consecutive frames among `frames` (in any order).
fn run_start(frames: &[usize], n: usize) -> Option<usize> {
    frames.iter().copied().find(|&start| {
        (0..n).all(|i| {
            i.checked_mul(FRAME_SIZE)
                .and_then(|off| start.checked_add(off))
                .is_some_and(|f| frames.contains(&f))
        })
    })
}

impl<H: AxVCpuHal, const N: usize> AsRef<[u8]> for ContiguousFrames<H, N> {
    fn as_ref(&self) -> &[u8] {
        // SAFETY: the N frames are ours, consecutive in physical memory and
        // so in the linear map.
        unsafe { core::slice::from_raw_parts(H::phys_to_virt(self.paddr).as_ptr(), N * FRAME_SIZE) }
    }
}

impl<H: AxVCpuHal, const N: usize> AsMut<[u8]> for ContiguousFrames<H, N> {
    fn as_mut(&mut self) -> &mut [u8] {
        // SAFETY: as for `as_ref`, exclusive through `&mut self`.
        unsafe { core::slice::from_raw_parts_mut(H::phys_to_virt(self.paddr).as_mut_ptr(), N * FRAME_SIZE) }
    }
}

impl<H: AxVCpuHal, const N: usize> Drop for ContiguousFrames<H, N> {
    fn drop(&mut self) {
        for i in 0..N {
            H::dealloc_frame(self.paddr + i * FRAME_SIZE);
        }
    }
}

/// Host physical memory read through the host's linear map, for the page
/// walks of [`crate::paging`].
pub struct HalMemory<H: AxVCpuHal>(PhantomData<fn() -> H>);

impl<H: AxVCpuHal> HalMemory<H> {
    /// The host's memory.
    pub const fn new() -> Self {
        Self(PhantomData)
    }
}

impl<H: AxVCpuHal> Default for HalMemory<H> {
    fn default() -> Self {
        Self::new()
    }
}

impl<H: AxVCpuHal> crate::paging::HostMemory for HalMemory<H> {
    /// The addresses come from a nested page table the VM built, so they
    /// are frames of the VM's memory, which the host's linear map covers
    /// (a requirement on the host, see the crate doc). A read that would
    /// cross a page is refused.
    fn read(&self, hpa: u64, buf: &mut [u8]) -> bool {
        let Ok(addr) = usize::try_from(hpa) else { return false };
        let in_page = FRAME_SIZE - addr % FRAME_SIZE;
        if buf.len() > in_page {
            return false;
        }
        let src = H::phys_to_virt(HostPhysAddr::from(addr)).as_ptr();
        // SAFETY: `src..src + buf.len()` lies in one page of guest memory
        // mapped by the host's linear map (see above); the guest may write
        // it concurrently from another vCPU, so it is read as plain bytes
        // that any value is valid for, into a buffer we own.
        unsafe { core::ptr::copy_nonoverlapping(src, buf.as_mut_ptr(), buf.len()) };
        true
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use axvcpu::HostVirtAddr;
    use std::{cell::RefCell, vec::Vec};

    /// A 1 MiB arena of frames; "physical" addresses are offsets from its
    /// base plus `PHYS_BASE`.
    const ARENA_FRAMES: usize = 256;
    const PHYS_BASE: usize = 0x10_0000;

    std::thread_local! {
        /// One frame more than needed, so that a 4 KiB-aligned base fits.
        static ARENA: RefCell<Vec<u8>> = RefCell::new(std::vec![0xaa; (ARENA_FRAMES + 1) * FRAME_SIZE]);
        /// The frame numbers `alloc_frame` hands out next, in order.
        static PLAN: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
        static FREED: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
    }

    fn arena_base() -> usize {
        let start = ARENA.with(|a| a.borrow_mut().as_mut_ptr() as usize);
        start.next_multiple_of(FRAME_SIZE)
    }

    /// A HAL whose frames come from a thread-local arena in a planned order.
    pub(crate) struct MockHal;

    impl MockHal {
        pub(crate) fn plan(frames: &[usize]) {
            PLAN.with(|p| *p.borrow_mut() = frames.iter().rev().copied().collect());
            FREED.with(|f| f.borrow_mut().clear());
        }

        fn freed() -> Vec<usize> {
            FREED.with(|f| f.borrow().clone())
        }
    }

    impl AxVCpuHal for MockHal {
        fn alloc_frame() -> Option<HostPhysAddr> {
            let n = PLAN.with(|p| p.borrow_mut().pop())?;
            Some(HostPhysAddr::from(PHYS_BASE + n * FRAME_SIZE))
        }
        fn dealloc_frame(paddr: HostPhysAddr) {
            FREED.with(|f| f.borrow_mut().push((paddr.as_usize() - PHYS_BASE) / FRAME_SIZE));
        }
        fn phys_to_virt(paddr: HostPhysAddr) -> HostVirtAddr {
            HostVirtAddr::from(arena_base() + paddr.as_usize() - PHYS_BASE)
        }
        fn virt_to_phys(vaddr: HostVirtAddr) -> HostPhysAddr {
            HostPhysAddr::from(vaddr.as_usize() - arena_base() + PHYS_BASE)
        }
        fn irq_fetch() -> usize {
            0
        }
        fn handle_host_irq(_irq: usize) {}
        fn current_time_nanos() -> u64 {
            0
        }
    }

    #[test]
    fn a_frame_is_zeroed_and_freed() {
        MockHal::plan(&[5]);
        {
            let mut f = PhysFrame::<MockHal>::alloc_zero().unwrap();
            assert_eq!(f.paddr().as_usize(), PHYS_BASE + 5 * FRAME_SIZE);
            assert!(f.as_ref().iter().all(|&b| b == 0));
            f.as_mut()[4095] = 7;
            assert_eq!(f.as_ref()[4095], 7);
        }
        assert_eq!(MockHal::freed(), [5]);
        assert_eq!(PhysFrame::<MockHal>::alloc_zero().err(), Some(AxError::NoMemory));
    }

    #[test]
    fn contiguous_frames_from_scattered_ones() {
        // 9, 3, 11, 10 arrive: 9..=11 is a run of three, 3 goes back.
        MockHal::plan(&[9, 3, 11, 10, 50]);
        {
            let m = ContiguousFrames::<MockHal, 3>::alloc_zero().unwrap();
            assert_eq!(m.paddr().as_usize(), PHYS_BASE + 9 * FRAME_SIZE);
            assert_eq!(m.as_ref().len(), 3 * FRAME_SIZE);
            assert!(m.as_ref().iter().all(|&b| b == 0));
            assert_eq!(MockHal::freed(), [3]);
        }
        assert_eq!(MockHal::freed(), [3, 9, 10, 11]);
    }

    #[test]
    fn no_run_means_no_memory_and_nothing_leaks() {
        MockHal::plan(&[1, 3, 5, 7]);
        assert_eq!(
            ContiguousFrames::<MockHal, 2>::alloc_zero().err(),
            Some(AxError::NoMemory)
        );
        assert_eq!(MockHal::freed(), [1, 3, 5, 7]);
    }

    #[test]
    fn hal_memory_reads_within_a_page() {
        use crate::paging::HostMemory;
        MockHal::plan(&[7]);
        let mut f = PhysFrame::<MockHal>::alloc_zero().unwrap();
        f.as_mut()[0xff0..0xff4].copy_from_slice(&[1, 2, 3, 4]);
        let mem = HalMemory::<MockHal>::new();
        let mut buf = [0u8; 4];
        assert!(mem.read(f.paddr().as_usize() as u64 + 0xff0, &mut buf));
        assert_eq!(buf, [1, 2, 3, 4]);
        let mut big = [0u8; 32];
        assert!(!mem.read(f.paddr().as_usize() as u64 + 0xff0, &mut big));
    }

    #[test]
    fn run_detection() {
        assert_eq!(run_start(&[0x3000, 0x1000, 0x2000], 3), Some(0x1000));
        assert_eq!(run_start(&[0x1000, 0x3000], 2), None);
        assert_eq!(run_start(&[usize::MAX - 0xfff], 2), None);
    }
}
