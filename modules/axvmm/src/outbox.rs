//! Each VM's console output on its way to the host console: a bounded
//! queue per VM ([`Outbox`]), and the order in which the queues reach the
//! screen ([`Outboxes`]).
//!
//! A VM's output (whole lines, `[name]` prefix included, and the partial
//! line shown when it goes idle) is queued in its own outbox, which holds
//! at most [`Outbox::CAPACITY`] bytes. A VM that writes faster than the
//! host console takes its output loses its own oldest queued lines, never
//! another VM's, and the outbox counts them: the host says so when the
//! drops start and how many lines went when they stop, and `vm info`
//! shows the total.
//!
//! Who prints: the CPU of a VM that wrote prints its own queue, taking
//! turns with the other VMs' queues (one line each per turn), until its
//! own is empty; if another CPU is printing meanwhile, it leaves its lines
//! to that one and returns at once, so a VM that prints a lot pays for the
//! console and a quiet one does not wait behind it. CPU 0 prints a few
//! turns of what is left at each pass of its loop after something was
//! queued, unless a CPU is printing ([`Outboxes::try_drain`]), and everything queued goes out
//! before a line of the hypervisor's own ([`Outboxes::drain`]).

use alloc::{collections::VecDeque, string::String, sync::Arc, vec::Vec};
use core::sync::atomic::{AtomicBool, Ordering};
use kspin::SpinNoIrq;

/// What one outbox holds.
#[derive(Default)]
struct Queue {
    /// Text as the VM's line assembler emitted it, oldest first.
    chunks: VecDeque<String>,
    /// Bytes in `chunks`.
    bytes: usize,
    /// Chunks dropped since the VM was built.
    dropped: u64,
    /// Chunks dropped since the last report.
    unreported: u64,
    /// Drops started and the end has not been reported.
    dropping: bool,
}

/// A change in a VM's drops the host reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DropReport {
    /// Its output started to be dropped.
    Started,
    /// Its queue emptied after drops: this many lines went.
    Stopped(u64),
}

/// One VM's queued console output.
pub struct Outbox {
    /// The VM's id.
    pub id: usize,
    /// The VM's name.
    pub name: String,
    queue: SpinNoIrq<Queue>,
}

impl Outbox {
    /// The most bytes an outbox holds.
    pub const CAPACITY: usize = 16 * 1024;

    /// An empty outbox for VM `id` named `name`.
    pub fn new(id: usize, name: &str) -> Self {
        Self {
            id,
            name: String::from(name),
            queue: SpinNoIrq::new(Queue::default()),
        }
    }

    /// Queues `text`; drops the oldest chunks while more than
    /// [`Self::CAPACITY`] bytes are queued (`text` itself, cut to the
    /// capacity, stays). [`DropReport::Started`] when this began a run of
    /// drops.
    pub fn push(&self, text: &str) -> Option<DropReport> {
        let mut text = String::from(text);
        if text.len() > Self::CAPACITY {
            let mut end = Self::CAPACITY;
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            text.truncate(end);
        }
        let mut q = self.queue.lock();
        q.bytes += text.len();
        q.chunks.push_back(text);
        let mut dropped = 0;
        while q.bytes > Self::CAPACITY {
            let Some(old) = q.chunks.pop_front() else { break };
            q.bytes -= old.len();
            dropped += 1;
        }
        q.dropped += dropped;
        q.unreported += dropped;
        let started = dropped > 0 && !q.dropping;
        if started {
            q.dropping = true;
        }
        started.then_some(DropReport::Started)
    }

    /// Takes the oldest chunk; with it, [`DropReport::Stopped`] when that
    /// emptied the queue after drops.
    pub fn pop(&self) -> Option<(String, Option<DropReport>)> {
        let mut q = self.queue.lock();
        let chunk = q.chunks.pop_front()?;
        q.bytes -= chunk.len();
        let mut report = None;
        if q.chunks.is_empty() && q.dropping {
            q.dropping = false;
            report = Some(DropReport::Stopped(core::mem::take(&mut q.unreported)));
        }
        Some((chunk, report))
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.queue.lock().chunks.is_empty()
    }

    /// Chunks (lines, mostly) dropped since the VM was built.
    pub fn dropped(&self) -> u64 {
        self.queue.lock().dropped
    }
}

/// Every VM's outbox, and who is printing them.
#[derive(Default)]
pub struct Outboxes {
    boxes: SpinNoIrq<Vec<Arc<Outbox>>>,
    /// A CPU is printing queued output.
    printing: AtomicBool,
    /// A chunk may be queued that no [`Self::try_drain`] took (set by
    /// [`Self::push`]; CPU 0's passes look at the queues only then).
    queued: AtomicBool,
}

/// Where queued output goes: `(outbox, chunk)`, and drop reports.
pub trait Printer {
    /// Prints `chunk`, from `outbox`.
    fn chunk(&mut self, outbox: &Outbox, chunk: &str);
    /// Reports a change in `outbox`'s drops.
    fn report(&mut self, outbox: &Outbox, report: DropReport);
}

impl Outboxes {
    /// None yet.
    pub const fn new() -> Self {
        Self {
            boxes: SpinNoIrq::new(Vec::new()),
            printing: AtomicBool::new(false),
            queued: AtomicBool::new(false),
        }
    }

    /// Queues `text` in `outbox` (one of these: [`Outbox::push`]) for the
    /// next drain.
    pub fn push(&self, outbox: &Outbox, text: &str) -> Option<DropReport> {
        let report = outbox.push(text);
        self.queued.store(true, Ordering::Release);
        report
    }

    /// Whether a chunk may be queued that no [`Self::try_drain`] took.
    pub fn maybe_queued(&self) -> bool {
        self.queued.load(Ordering::Acquire)
    }

    /// The outbox of VM `id` (made, named `name`, if it has none; a VM
    /// built again keeps it, and what it still holds).
    pub fn of(&self, id: usize, name: &str) -> Arc<Outbox> {
        let mut boxes = self.boxes.lock();
        if let Some(b) = boxes.iter().find(|b| b.id == id) {
            return b.clone();
        }
        let b = Arc::new(Outbox::new(id, name));
        boxes.push(b.clone());
        b
    }

    /// The outbox of VM `id`, if it has one.
    pub fn get(&self, id: usize) -> Option<Arc<Outbox>> {
        self.boxes.lock().iter().find(|b| b.id == id).cloned()
    }

    /// VM `id` is gone: its outbox goes (after what it holds is printed).
    pub fn forget(&self, id: usize, out: &mut dyn Printer) {
        self.drain(usize::MAX, out);
        self.boxes.lock().retain(|b| b.id != id);
    }

    /// After VM `mine` queued output: prints the queues in turns (one
    /// chunk of each per turn) until `mine` is empty, unless another CPU
    /// is printing (it or CPU 0 prints this output then).
    pub fn print_own(&self, mine: &Outbox, out: &mut dyn Printer) {
        if self.printing.swap(true, Ordering::AcqRel) {
            return;
        }
        while !mine.is_empty() {
            if !self.turn(out) {
                break;
            }
        }
        self.printing.store(false, Ordering::Release);
    }

    /// Prints at most `turns` turns of every queue (CPU 0's pass, and
    /// before a line of the hypervisor's own), waiting for a CPU that is
    /// printing to finish.
    pub fn drain(&self, turns: usize, out: &mut dyn Printer) {
        while self
            .printing
            .compare_exchange_weak(false, true, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            core::hint::spin_loop();
        }
        for _ in 0..turns {
            if !self.turn(out) {
                break;
            }
        }
        self.printing.store(false, Ordering::Release);
    }

    /// Prints at most `turns` turns of every queue unless another CPU is
    /// printing (CPU 0's pass: what that CPU leaves, the next pass takes).
    /// Looks at the queues only when [`Self::push`] queued something
    /// since the last time it did.
    pub fn try_drain(&self, turns: usize, out: &mut dyn Printer) {
        if self.printing.swap(true, Ordering::AcqRel) {
            return;
        }
        if self.queued.swap(false, Ordering::AcqRel) {
            let mut emptied = false;
            for _ in 0..turns {
                if !self.turn(out) {
                    emptied = true;
                    break;
                }
            }
            if !emptied {
                // Turns left over for the next pass.
                self.queued.store(true, Ordering::Release);
            }
        }
        self.printing.store(false, Ordering::Release);
    }

    /// One chunk of each non-empty queue; false if all were empty.
    fn turn(&self, out: &mut dyn Printer) -> bool {
        // Box by box (no copy of the list: CPU 0 asks on every pass, and
        // mostly nothing is queued); a box added meanwhile waits for the
        // next turn.
        let mut any = false;
        let count = self.boxes.lock().len();
        for i in 0..count {
            let Some(b) = self.boxes.lock().get(i).cloned() else {
                break;
            };
            if let Some((chunk, report)) = b.pop() {
                any = true;
                out.chunk(&b, &chunk);
                if let Some(r) = report {
                    out.report(&b, r);
                }
            }
        }
        any
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::{format, vec};

    #[derive(Default)]
    struct Term {
        lines: Vec<String>,
        reports: Vec<(usize, DropReport)>,
    }
    impl Printer for Term {
        fn chunk(&mut self, _outbox: &Outbox, chunk: &str) {
            self.lines.push(String::from(chunk));
        }
        fn report(&mut self, outbox: &Outbox, report: DropReport) {
            self.reports.push((outbox.id, report));
        }
    }

    /// CPU 0's pass looks at the queues only when something was queued
    /// since, and leaves what its turns did not take to the next pass.
    #[test]
    fn a_pass_drains_only_after_a_push_and_keeps_what_is_left() {
        let boxes = Outboxes::new();
        let a = boxes.of(1, "a");
        let mut term = Term::default();
        a.push("[a] behind its back\n");
        boxes.try_drain(4, &mut term);
        assert!(term.lines.is_empty(), "nothing queued through the boxes: not looked at");
        for n in 0..3 {
            boxes.push(&a, &format!("[a] {n}\n"));
        }
        boxes.try_drain(2, &mut term);
        assert_eq!(term.lines, ["[a] behind its back\n", "[a] 0\n"]);
        boxes.try_drain(4, &mut term);
        assert_eq!(term.lines.len(), 4, "the rest at the next pass");
        boxes.try_drain(4, &mut term);
        assert_eq!(term.lines.len(), 4);
        assert!(!boxes.maybe_queued());
    }

    /// A VM that writes more than its outbox holds loses its oldest lines,
    /// counted; the newest ones stay, in order.
    #[test]
    fn a_full_outbox_drops_the_oldest_lines_and_counts_them() {
        let b = Outbox::new(7, "flood");
        let line = |n: usize| format!("[flood] line {n:05} {}\n", "x".repeat(100));
        let per_line = line(0).len();
        let total = Outbox::CAPACITY / per_line + 10;
        let mut reports = Vec::new();
        for n in 0..total {
            reports.extend(b.push(&line(n)));
        }
        assert_eq!(reports, [DropReport::Started], "reported once when drops start");
        let kept = Outbox::CAPACITY / per_line;
        assert_eq!(b.dropped(), (total - kept) as u64);
        let mut out = Vec::new();
        let mut last = None;
        while let Some((chunk, report)) = b.pop() {
            out.push(chunk);
            last = report.or(last);
        }
        assert_eq!(out.len(), kept);
        assert_eq!(out.first(), Some(&line(total - kept)), "the oldest went");
        assert_eq!(out.last(), Some(&line(total - 1)), "the newest stayed");
        assert_eq!(last, Some(DropReport::Stopped((total - kept) as u64)));
    }

    /// One VM's flood never drops another VM's output.
    #[test]
    fn a_flood_drops_only_its_own_output() {
        let boxes = Outboxes::new();
        let quiet = boxes.of(1, "quiet");
        let flood = boxes.of(2, "flood");
        quiet.push("[quiet] hello\n");
        for n in 0..Outbox::CAPACITY {
            flood.push(&format!("[flood] {n}\n"));
        }
        assert_eq!(quiet.dropped(), 0);
        assert!(flood.dropped() > 0);
        let mut t = Term::default();
        boxes.drain(1, &mut t);
        assert_eq!(t.lines.first().map(String::as_str), Some("[quiet] hello\n"));
        assert_eq!(t.lines.len(), 2, "one turn: one chunk of each");
    }

    /// The printing VM takes turns with the others: a quiet VM's line goes
    /// out among the first, not after the whole flood.
    #[test]
    fn the_printing_vm_prints_the_others_in_turns() {
        let boxes = Outboxes::new();
        let flood = boxes.of(2, "flood");
        let quiet = boxes.of(1, "quiet");
        for n in 0..5 {
            flood.push(&format!("[flood] {n}\n"));
        }
        quiet.push("[quiet] hello\n");
        let mut t = Term::default();
        boxes.print_own(&flood, &mut t);
        assert_eq!(
            t.lines,
            vec![
                "[flood] 0\n",
                "[quiet] hello\n",
                "[flood] 1\n",
                "[flood] 2\n",
                "[flood] 3\n",
                "[flood] 4\n"
            ]
        );
        assert!(quiet.is_empty() && flood.is_empty());
    }

    /// A CPU that finds another one printing leaves its output to it.
    #[test]
    fn a_writer_does_not_wait_for_another_printer() {
        let boxes = Outboxes::new();
        let quiet = boxes.of(1, "quiet");
        quiet.push("[quiet] hello\n");
        boxes.printing.store(true, Ordering::Release);
        let mut t = Term::default();
        boxes.print_own(&quiet, &mut t);
        assert!(t.lines.is_empty());
        boxes.printing.store(false, Ordering::Release);
        boxes.drain(usize::MAX, &mut t);
        assert_eq!(t.lines, ["[quiet] hello\n"]);
    }
}
