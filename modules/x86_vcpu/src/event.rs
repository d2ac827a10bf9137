//! Events waiting to be injected into the guest ([`PendingEvents`]) and the
//! rule that picks what to inject before an entry ([`next_injection`]).
//!
//! External interrupts are kept as a 256-bit set, like a local APIC's IRR:
//! bounded, no allocation, and a vector injected twice before the guest
//! takes it is delivered once, as on hardware. The highest vector goes
//! first. An exception the vCPU raises itself (#GP, #UD from emulation)
//! goes before any interrupt.
//!
//! An interrupt can only be delivered when the guest accepts one (RFLAGS.IF
//! set, no STI / MOV SS shadow). Otherwise the vCPU asks the hardware to
//! exit as soon as it does: the interrupt window on VMX, a virtual
//! interrupt (V_IRQ) with the VINTR intercept on SVM.

/// An exception vector with its error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exception {
    /// The vector (0..=31).
    pub vector: u8,
    /// The error code pushed with it, for the exceptions that have one.
    pub error_code: Option<u32>,
}

/// Exception vectors the vCPU injects (SDM Vol. 3A, 6.3.1).
pub mod vector {
    /// #UD, invalid opcode.
    pub const UD: u8 = 6;
    /// #GP, general protection (error code).
    pub const GP: u8 = 13;
    /// NMI.
    pub const NMI: u8 = 2;
}

impl Exception {
    /// #GP(0).
    pub const GP0: Self = Self {
        vector: vector::GP,
        error_code: Some(0),
    };
    /// #UD.
    pub const UD: Self = Self {
        vector: vector::UD,
        error_code: None,
    };
}

/// The events waiting for the guest.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PendingEvents {
    /// Pending external interrupts, bit `v` for vector `v`.
    irr: [u64; 4],
    /// An exception to deliver before anything else.
    exception: Option<Exception>,
}

impl PendingEvents {
    /// Nothing pending.
    pub const fn new() -> Self {
        Self {
            irr: [0; 4],
            exception: None,
        }
    }

    /// Marks external interrupt `vector` pending.
    pub fn push_interrupt(&mut self, vector: u8) {
        self.irr[usize::from(vector / 64)] |= 1 << (vector % 64);
    }

    /// The highest pending interrupt vector.
    pub fn highest_interrupt(&self) -> Option<u8> {
        (0..4)
            .rev()
            .find(|&i| self.irr[i] != 0)
            .map(|i| (i * 64) as u8 + (63 - self.irr[i].leading_zeros()) as u8)
    }

    /// Removes `vector` from the pending interrupts (it was delivered).
    pub fn clear_interrupt(&mut self, vector: u8) {
        self.irr[usize::from(vector / 64)] &= !(1 << (vector % 64));
    }

    /// Whether any interrupt is pending.
    pub fn has_interrupt(&self) -> bool {
        self.irr.iter().any(|&w| w != 0)
    }

    /// Queues `e`; an exception already queued is kept (the vCPU raises at
    /// most one per exit).
    pub fn set_exception(&mut self, e: Exception) {
        self.exception.get_or_insert(e);
    }

    /// Takes the queued exception.
    pub fn take_exception(&mut self) -> Option<Exception> {
        self.exception.take()
    }

    /// The queued exception, if any.
    pub fn exception(&self) -> Option<Exception> {
        self.exception
    }
}

/// Whether the guest can take an external interrupt now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GuestInterruptibility {
    /// RFLAGS.IF.
    pub interrupts_enabled: bool,
    /// Blocking by STI or MOV SS (one instruction).
    pub shadow: bool,
    /// An event is already being injected on this entry (an IDT-vectoring
    /// re-injection).
    pub event_in_flight: bool,
}

/// What to do about the pending events before entering the guest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Injection {
    /// Nothing is pending (or an event is already in flight and nothing
    /// else is).
    None,
    /// Inject this exception now.
    Exception(Exception),
    /// Inject this external interrupt now (and clear it from the set).
    Interrupt(u8),
    /// An interrupt is pending but the guest cannot take it: ask for an
    /// exit when it can (interrupt window / V_IRQ).
    RequestWindow,
}

/// Picks the event to inject on the next entry.
pub fn next_injection(pending: &PendingEvents, guest: GuestInterruptibility) -> Injection {
    if guest.event_in_flight {
        // One event per entry; the rest waits for the next exit.
        return if pending.exception().is_some() || pending.has_interrupt() {
            Injection::RequestWindow
        } else {
            Injection::None
        };
    }
    if let Some(e) = pending.exception() {
        return Injection::Exception(e);
    }
    match pending.highest_interrupt() {
        None => Injection::None,
        Some(v) if guest.interrupts_enabled && !guest.shadow => Injection::Interrupt(v),
        Some(_) => Injection::RequestWindow,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPEN: GuestInterruptibility = GuestInterruptibility {
        interrupts_enabled: true,
        shadow: false,
        event_in_flight: false,
    };

    #[test]
    fn interrupts_highest_first_and_deduplicated() {
        let mut p = PendingEvents::new();
        assert_eq!(p.highest_interrupt(), None);
        for v in [0x20, 0xff, 0x41, 0x41, 0] {
            p.push_interrupt(v);
        }
        let mut order = std::vec::Vec::new();
        while let Some(v) = p.highest_interrupt() {
            order.push(v);
            p.clear_interrupt(v);
        }
        assert_eq!(order, [0xff, 0x41, 0x20, 0]);
        assert!(!p.has_interrupt());
    }

    #[test]
    fn exception_goes_first_and_the_first_one_stays() {
        let mut p = PendingEvents::new();
        p.push_interrupt(0x30);
        p.set_exception(Exception::UD);
        p.set_exception(Exception::GP0);
        assert_eq!(next_injection(&p, OPEN), Injection::Exception(Exception::UD));
        assert_eq!(p.take_exception(), Some(Exception::UD));
        assert_eq!(next_injection(&p, OPEN), Injection::Interrupt(0x30));
    }

    #[test]
    fn blocked_guest_gets_a_window() {
        let mut p = PendingEvents::new();
        p.push_interrupt(0x30);
        let cli = GuestInterruptibility {
            interrupts_enabled: false,
            ..OPEN
        };
        let shadow = GuestInterruptibility { shadow: true, ..OPEN };
        let busy = GuestInterruptibility {
            event_in_flight: true,
            ..OPEN
        };
        assert_eq!(next_injection(&p, cli), Injection::RequestWindow);
        assert_eq!(next_injection(&p, shadow), Injection::RequestWindow);
        assert_eq!(next_injection(&p, busy), Injection::RequestWindow);
        p.clear_interrupt(0x30);
        assert_eq!(next_injection(&p, cli), Injection::None);
        assert_eq!(next_injection(&p, busy), Injection::None);
        // An exception does not wait for IF.
        p.set_exception(Exception::GP0);
        assert_eq!(next_injection(&p, cli), Injection::Exception(Exception::GP0));
    }
}
