//! Locks the hypervisor's CPUs share, waited for without holding the
//! holder back.
//!
//! The locks are kspin's; only the wait differs. kspin waits with
//! [`core::hint::spin_loop`], which is `ISB` on aarch64: the waiting CPU
//! goes on executing. Where the emulated CPUs take turns on one host
//! thread (QEMU's TCG with `-icount`, where every benchmark of this
//! project runs) a CPU keeps its turn until it waits for an interrupt,
//! yields, or the machine's next timer deadline comes. When a deadline
//! ends the turn of a CPU that holds a lock, a CPU that then waits for the
//! lock spins until the following deadline, up to a host tick (10 ms),
//! before the holder runs again and releases a lock it holds for a few
//! hundred instructions. Under a hypervisor below this one, a vCPU that
//! holds a lock can be descheduled in the same way.
//!
//! [`lock`] waits with the architecture's yield hint instead: `YIELD` on
//! aarch64 (QEMU ends the CPU's turn there, so the holder runs), and
//! `PAUSE` on x86_64, which is what `spin_loop` emits there already (and
//! where QEMU ends the turn as well). On hardware both are hints without
//! architectural effect.
//!
//! Use it for the locks that CPUs contend on while guests run: a
//! virtual GIC's state, which every vCPU of a VM takes at its exits and
//! its SGIs. Found by a test guest's SGI round trip that took 10 ms once
//! every few thousand round trips under `-icount`: vCPU 0's CPU waited for
//! the virtual GIC's lock for 536,589 counter ticks while vCPU 1's CPU,
//! which held it, did not run.

#![cfg_attr(not(test), no_std)]
#![deny(missing_docs)]

use kernel_guard::BaseGuard;
use kspin::{BaseSpinLock, BaseSpinLockGuard};

/// Takes `lock`, waiting with [`relax`] while another CPU holds it. The
/// guard kind `G` is the lock's own (with [`kspin::SpinNoIrq`], IRQs are
/// off while the lock is held, as with its `lock`).
#[inline]
pub fn lock<G: BaseGuard, T: ?Sized>(lock: &BaseSpinLock<G, T>) -> BaseSpinLockGuard<'_, G, T> {
    loop {
        if let Some(guard) = lock.try_lock() {
            return guard;
        }
        while lock.is_locked() {
            relax();
        }
    }
}

/// One turn of a wait for another CPU: the yield hint.
#[inline(always)]
pub fn relax() {
    #[cfg(target_arch = "aarch64")]
    // SAFETY: YIELD is a hint: it changes no register, memory or state
    // the program can see.
    unsafe {
        core::arch::asm!("yield", options(nomem, nostack, preserves_flags))
    };
    #[cfg(not(target_arch = "aarch64"))]
    core::hint::spin_loop();
}

#[cfg(test)]
mod tests {
    use super::lock;
    use kspin::SpinRaw;
    use std::sync::Arc;

    /// Four threads add to one counter a read and a write apart: any
    /// increment the lock lets two of them make at once is lost.
    #[test]
    fn excludes_other_threads() {
        const PER_THREAD: u64 = 20_000;
        let counter = Arc::new(SpinRaw::new(0u64));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let counter = counter.clone();
                std::thread::spawn(move || {
                    for _ in 0..PER_THREAD {
                        let mut c = lock(&counter);
                        let v = *c;
                        std::thread::yield_now();
                        *c = v + 1;
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(*lock(&counter), 4 * PER_THREAD);
    }

    /// A lock that is free is taken at once, and free again when the
    /// guard is dropped.
    #[test]
    fn a_free_lock_is_taken_and_given_back() {
        let l = SpinRaw::new(5);
        {
            let g = lock(&l);
            assert_eq!(*g, 5);
            assert!(l.is_locked());
        }
        assert!(!l.is_locked());
    }
}
