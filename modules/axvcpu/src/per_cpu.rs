//! Per-physical-CPU virtualisation state: [`AxArchPerCpu`] and the checked
//! wrapper [`AxPerCpu`].

use axerrno::{AxError, AxResult};

/// The per-physical-CPU state an architecture needs to run guests (VMXON
/// region on VMX, host-save area on SVM, EL2 vector setup on aarch64).
pub trait AxArchPerCpu: Sized {
    /// Creates the state for physical CPU `cpu_id` without enabling
    /// anything.
    fn new(cpu_id: usize) -> AxResult<Self>;

    /// Whether hardware virtualisation is enabled on the current CPU.
    fn is_enabled(&self) -> bool;

    /// Enables hardware virtualisation on the current CPU.
    fn hardware_enable(&mut self) -> AxResult;

    /// Disables hardware virtualisation on the current CPU.
    fn hardware_disable(&mut self) -> AxResult;
}

/// The host's per-CPU virtualisation state: an [`AxArchPerCpu`] that may not
/// be initialised yet, with the lifecycle checked.
///
/// `new_uninit` is `const`, so the host can keep one in a per-CPU static and
/// call [`AxPerCpu::init`] on each CPU at boot. Every misuse (use before
/// `init`, a second `init`, enabling twice, disabling when disabled) returns
/// [`AxError::BadState`] instead of panicking. The enabled state is the one
/// [`AxArchPerCpu::is_enabled`] reports: the arch layer reads the hardware,
/// so there is no second copy here that could disagree with it.
pub struct AxPerCpu<A: AxArchPerCpu> {
    /// The CPU this state belongs to, `None` until [`AxPerCpu::init`].
    cpu_id: Option<usize>,
    /// The architecture state, `None` until [`AxPerCpu::init`].
    arch: Option<A>,
}

impl<A: AxArchPerCpu> AxPerCpu<A> {
    /// Creates an uninitialised per-CPU state.
    pub const fn new_uninit() -> Self {
        Self {
            cpu_id: None,
            arch: None,
        }
    }

    /// Initialises the state for physical CPU `cpu_id`.
    ///
    /// Returns [`AxError::BadState`] if it is already initialised, and the
    /// arch layer's error (leaving it uninitialised) if that fails.
    pub fn init(&mut self, cpu_id: usize) -> AxResult {
        if self.arch.is_some() {
            return Err(AxError::BadState);
        }
        self.arch = Some(A::new(cpu_id)?);
        self.cpu_id = Some(cpu_id);
        Ok(())
    }

    /// Whether [`AxPerCpu::init`] has succeeded.
    pub fn is_initialized(&self) -> bool {
        self.arch.is_some()
    }

    /// The physical CPU this state was initialised for.
    pub fn cpu_id(&self) -> Option<usize> {
        self.cpu_id
    }

    /// The architecture state, or [`AxError::BadState`] before `init`.
    pub fn arch(&self) -> AxResult<&A> {
        self.arch.as_ref().ok_or(AxError::BadState)
    }

    /// The architecture state, or [`AxError::BadState`] before `init`.
    pub fn arch_mut(&mut self) -> AxResult<&mut A> {
        self.arch.as_mut().ok_or(AxError::BadState)
    }

    /// Whether hardware virtualisation is enabled (`false` before `init`).
    pub fn is_enabled(&self) -> bool {
        self.arch.as_ref().is_some_and(A::is_enabled)
    }

    /// Enables hardware virtualisation on the current CPU.
    ///
    /// Returns [`AxError::BadState`] before `init` or when already enabled,
    /// and the arch layer's error if enabling fails.
    pub fn hardware_enable(&mut self) -> AxResult {
        let arch = self.arch_mut()?;
        if arch.is_enabled() {
            return Err(AxError::BadState);
        }
        arch.hardware_enable()
    }

    /// Disables hardware virtualisation on the current CPU.
    ///
    /// Returns [`AxError::BadState`] before `init` or when not enabled, and
    /// the arch layer's error if disabling fails.
    pub fn hardware_disable(&mut self) -> AxResult {
        let arch = self.arch_mut()?;
        if !arch.is_enabled() {
            return Err(AxError::BadState);
        }
        arch.hardware_disable()
    }
}

impl<A: AxArchPerCpu> Default for AxPerCpu<A> {
    fn default() -> Self {
        Self::new_uninit()
    }
}

impl<A: AxArchPerCpu> Drop for AxPerCpu<A> {
    /// Disables virtualisation if it is still enabled; a failure is logged,
    /// since `drop` cannot return it.
    fn drop(&mut self) {
        if self.is_enabled()
            && let Err(err) = self.hardware_disable()
        {
            log::error!(
                "failed to disable virtualisation on CPU {:?}: {}",
                self.cpu_id,
                crate::ErrorName(err)
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use std::{
        string::String,
        sync::{Arc, Mutex},
        vec::Vec,
    };

    use super::*;

    type Log = Arc<Mutex<Vec<String>>>;

    std::thread_local! {
        /// The log the next `MockPerCpu::new` records into (the trait's
        /// `new` takes only a CPU id).
        static NEXT_LOG: std::cell::RefCell<Option<Log>> = const { std::cell::RefCell::new(None) };
    }

    struct MockPerCpu {
        enabled: bool,
        fail_enable: bool,
        log: Log,
    }

    impl AxArchPerCpu for MockPerCpu {
        fn new(cpu_id: usize) -> AxResult<Self> {
            if cpu_id == usize::MAX {
                return Err(AxError::NoMemory);
            }
            let log = NEXT_LOG.with(|l| l.borrow().clone()).unwrap_or_default();
            log.lock().unwrap().push(std::format!("new({cpu_id})"));
            Ok(Self {
                enabled: false,
                fail_enable: false,
                log,
            })
        }

        fn is_enabled(&self) -> bool {
            self.enabled
        }

        fn hardware_enable(&mut self) -> AxResult {
            self.log.lock().unwrap().push("enable".into());
            if self.fail_enable {
                return Err(AxError::Unsupported);
            }
            self.enabled = true;
            Ok(())
        }

        fn hardware_disable(&mut self) -> AxResult {
            self.log.lock().unwrap().push("disable".into());
            self.enabled = false;
            Ok(())
        }
    }

    fn with_log() -> Log {
        let log = Log::default();
        NEXT_LOG.with(|l| *l.borrow_mut() = Some(log.clone()));
        log
    }

    #[test]
    fn use_before_init_is_bad_state() {
        let mut percpu = AxPerCpu::<MockPerCpu>::new_uninit();
        assert!(!percpu.is_initialized());
        assert!(!percpu.is_enabled());
        assert_eq!(percpu.cpu_id(), None);
        assert_eq!(percpu.hardware_enable(), Err(AxError::BadState));
        assert_eq!(percpu.hardware_disable(), Err(AxError::BadState));
        assert!(percpu.arch().is_err());
        assert!(percpu.arch_mut().is_err());
    }

    #[test]
    fn enable_then_disable() {
        let log = with_log();
        let mut percpu = AxPerCpu::<MockPerCpu>::new_uninit();
        percpu.init(3).unwrap();
        assert_eq!(percpu.cpu_id(), Some(3));
        assert!(!percpu.is_enabled());
        percpu.hardware_enable().unwrap();
        assert!(percpu.is_enabled());
        percpu.hardware_disable().unwrap();
        assert!(!percpu.is_enabled());
        assert_eq!(*log.lock().unwrap(), ["new(3)", "enable", "disable"]);
    }

    #[test]
    fn double_init_enable_and_disable_are_bad_state() {
        let log = with_log();
        let mut percpu = AxPerCpu::<MockPerCpu>::new_uninit();
        percpu.init(0).unwrap();
        assert_eq!(percpu.init(1), Err(AxError::BadState));
        assert_eq!(percpu.cpu_id(), Some(0));
        assert_eq!(percpu.hardware_disable(), Err(AxError::BadState));
        percpu.hardware_enable().unwrap();
        assert_eq!(percpu.hardware_enable(), Err(AxError::BadState));
        assert!(percpu.is_enabled());
        // The refused calls never reached the arch layer.
        assert_eq!(*log.lock().unwrap(), ["new(0)", "enable"]);
    }

    #[test]
    fn failed_init_leaves_it_uninitialised() {
        let mut percpu = AxPerCpu::<MockPerCpu>::new_uninit();
        assert_eq!(percpu.init(usize::MAX), Err(AxError::NoMemory));
        assert!(!percpu.is_initialized());
        assert_eq!(percpu.cpu_id(), None);
        percpu.init(1).unwrap();
        assert!(percpu.is_initialized());
    }

    #[test]
    fn arch_enable_error_is_returned_and_state_stays_disabled() {
        let mut percpu = AxPerCpu::<MockPerCpu>::default();
        percpu.init(0).unwrap();
        percpu.arch_mut().unwrap().fail_enable = true;
        assert_eq!(percpu.hardware_enable(), Err(AxError::Unsupported));
        assert!(!percpu.is_enabled());
    }

    #[test]
    fn drop_disables_an_enabled_cpu() {
        let log = with_log();
        {
            let mut percpu = AxPerCpu::<MockPerCpu>::new_uninit();
            percpu.init(0).unwrap();
            percpu.hardware_enable().unwrap();
        }
        assert_eq!(*log.lock().unwrap(), ["new(0)", "enable", "disable"]);
    }
}
