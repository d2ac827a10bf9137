//! Where guest console output goes: the [`ConsoleSink`] trait the host
//! implements, and [`LinePrefixer`] / [`PrefixingSink`], which tag each line
//! with the name of the VM that wrote it.

use alloc::string::String;
use alloc::vec::Vec;

use kspin::SpinNoIrq;

/// Receives the bytes guests transmit on their emulated UARTs.
///
/// The host implements it (`apps/hv` on its console), usually with a
/// [`PrefixingSink`] so that the output of several VMs stays readable.
/// `write_bytes` is called on the vCPU's physical CPU, outside every device
/// lock; it must not block for long and must not call back into the device.
pub trait ConsoleSink: Send + Sync {
    /// Writes `bytes` that the VM named `vm_name` transmitted.
    fn write_bytes(&self, vm_name: &str, bytes: &[u8]);

    /// Shows what the VM named `vm_name` has written of its current line
    /// so far (a prompt that waits for input has no line end yet). The
    /// host calls it when the VM goes idle. The default does nothing.
    fn show_partial(&self, vm_name: &str) {
        let _ = vm_name;
    }

    /// Like [`show_partial`](Self::show_partial), when the VM named
    /// `vm_name` wrote nothing since the last call: the host calls it at
    /// its periodic ticks for a VM that may wait without telling it (a
    /// prompt then shows within two ticks). The default does nothing.
    fn show_partial_if_still(&self, vm_name: &str) {
        let _ = vm_name;
    }
}

/// Splits one VM's output stream into lines and emits each as
/// `[name] line\n`.
///
/// A partial line stays buffered until its `\n` arrives, or until
/// [`show_partial`](Self::show_partial) prints it early (prefix and text,
/// no line end; the rest of the line then follows without a prefix). The
/// buffer is
/// bounded: a line longer than the limit is emitted in pieces of the limit,
/// each as a line of its own, so a guest that never writes `\n` cannot grow
/// host memory. A `\r` right before the `\n` is dropped (the host console
/// adds its own line ending); other bytes are passed through unchanged.
#[derive(Debug, Clone)]
pub struct LinePrefixer {
    name: String,
    max_line: usize,
    /// The partial line, at most `max_line` bytes.
    line: Vec<u8>,
    /// The formatted line handed to `emit`, kept to reuse its allocation.
    out: Vec<u8>,
    /// How many bytes of `line` [`show_partial`](Self::show_partial)
    /// already emitted (with the prefix); 0 when none.
    shown: usize,
    /// Whether the prefix of the current line was emitted.
    prefixed: bool,
    /// Bytes pushed so far (wrapping), and their count at the last
    /// [`show_partial_if_still`](Self::show_partial_if_still).
    written: u64,
    still_mark: u64,
}

impl LinePrefixer {
    /// The default bound of a buffered line, in bytes.
    pub const DEFAULT_MAX_LINE: usize = 256;

    /// A prefixer for the stream of `name`, with lines bounded to
    /// [`DEFAULT_MAX_LINE`](Self::DEFAULT_MAX_LINE) bytes.
    pub fn new(name: impl Into<String>) -> Self {
        Self::with_max_line(name, Self::DEFAULT_MAX_LINE)
    }

    /// A prefixer whose lines are bounded to `max_line` bytes (at least 1).
    pub fn with_max_line(name: impl Into<String>, max_line: usize) -> Self {
        Self {
            name: name.into(),
            max_line: max_line.max(1),
            line: Vec::new(),
            out: Vec::new(),
            shown: 0,
            prefixed: false,
            written: 0,
            still_mark: 0,
        }
    }

    /// The name each line is prefixed with.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The buffered partial line.
    pub fn pending(&self) -> &[u8] {
        &self.line
    }

    /// Adds `bytes` to the stream, calling `emit` once per completed line
    /// with the whole formatted line (prefix and `\n` included).
    pub fn push<F: FnMut(&[u8])>(&mut self, bytes: &[u8], mut emit: F) {
        self.written = self.written.wrapping_add(bytes.len() as u64);
        for &byte in bytes {
            if byte == b'\n' {
                self.emit_line(true, &mut emit);
            } else {
                if self.line.len() >= self.max_line {
                    self.emit_line(false, &mut emit);
                }
                self.line.push(byte);
            }
        }
    }

    /// Emits the part of the current line not yet shown, without a line
    /// end: the prefix first if this line has none yet. A `\r` at its end
    /// is held back: it may be the first half of the guest's `\r\n`, which
    /// the host replaces with its own line ending (shown, it would end the
    /// line in `\r\r\n`).
    pub fn show_partial<F: FnMut(&[u8])>(&mut self, mut emit: F) {
        let end = without_final_cr(&self.line).len();
        if self.shown >= end {
            return;
        }
        self.out.clear();
        if !self.prefixed {
            self.push_prefix();
        }
        let new = self.line.get(self.shown..end).unwrap_or_default();
        self.out.extend_from_slice(new);
        emit(&self.out);
        self.shown = end;
        self.prefixed = true;
    }

    /// [`show_partial`](Self::show_partial) when nothing was pushed since
    /// the last call (the line stands still: likely a prompt).
    pub fn show_partial_if_still<F: FnMut(&[u8])>(&mut self, emit: F) {
        if self.written == self.still_mark {
            self.show_partial(emit);
        }
        self.still_mark = self.written;
    }

    fn push_prefix(&mut self) {
        self.out.push(b'[');
        self.out.extend_from_slice(self.name.as_bytes());
        self.out.push(b']');
        self.out.push(b' ');
    }

    /// Emits the buffered partial line, if any, as a line of its own.
    pub fn flush<F: FnMut(&[u8])>(&mut self, mut emit: F) {
        if !self.line.is_empty() {
            self.emit_line(false, &mut emit);
        }
    }

    /// Formats the buffered line as `[name] text\n` (`[name]\n` when
    /// empty), hands it to `emit` and clears the buffer.
    fn emit_line<F: FnMut(&[u8])>(&mut self, at_newline: bool, emit: &mut F) {
        let text: &[u8] = if at_newline {
            without_final_cr(&self.line)
        } else {
            &self.line
        };
        self.out.clear();
        if self.prefixed {
            self.out.extend_from_slice(text.get(self.shown..).unwrap_or_default());
        } else {
            self.out.push(b'[');
            self.out.extend_from_slice(self.name.as_bytes());
            self.out.push(b']');
            if !text.is_empty() {
                self.out.push(b' ');
                self.out.extend_from_slice(text);
            }
        }
        self.out.push(b'\n');
        emit(&self.out);
        self.line.clear();
        self.shown = 0;
        self.prefixed = false;
    }
}

/// `line` without a `\r` at its end (the guest's half of a `\r\n`).
fn without_final_cr(line: &[u8]) -> &[u8] {
    match line {
        [head @ .., b'\r'] => head,
        line => line,
    }
}

/// A [`ConsoleSink`] that prefixes every line with the name of its VM and
/// hands whole lines to `out` (for example the host console's write).
///
/// It keeps one [`LinePrefixer`] per VM name, so interleaved output of
/// several VMs never mixes within a line. `out` is called under the sink's
/// lock, one line at a time; it must not call back into the sink.
pub struct PrefixingSink<F> {
    out: F,
    max_line: usize,
    streams: SpinNoIrq<Vec<LinePrefixer>>,
}

impl<F: Fn(&[u8]) + Send + Sync> PrefixingSink<F> {
    /// A sink that writes prefixed lines to `out`, with lines bounded to
    /// [`LinePrefixer::DEFAULT_MAX_LINE`].
    pub fn new(out: F) -> Self {
        Self::with_max_line(out, LinePrefixer::DEFAULT_MAX_LINE)
    }

    /// A sink whose lines are bounded to `max_line` bytes.
    pub fn with_max_line(out: F, max_line: usize) -> Self {
        Self {
            out,
            max_line,
            streams: SpinNoIrq::new(Vec::new()),
        }
    }

    /// Emits every VM's buffered partial line.
    pub fn flush_all(&self) {
        let mut streams = self.streams.lock();
        for stream in streams.iter_mut() {
            stream.flush(|line| (self.out)(line));
        }
    }
}

impl<F: Fn(&[u8]) + Send + Sync> ConsoleSink for PrefixingSink<F> {
    fn show_partial(&self, vm_name: &str) {
        let mut streams = self.streams.lock();
        if let Some(stream) = streams.iter_mut().find(|s| s.name() == vm_name) {
            stream.show_partial(|text| (self.out)(text));
        }
    }

    fn show_partial_if_still(&self, vm_name: &str) {
        let mut streams = self.streams.lock();
        if let Some(stream) = streams.iter_mut().find(|s| s.name() == vm_name) {
            stream.show_partial_if_still(|text| (self.out)(text));
        }
    }

    fn write_bytes(&self, vm_name: &str, bytes: &[u8]) {
        let mut streams = self.streams.lock();
        if !streams.iter().any(|s| s.name() == vm_name) {
            streams.push(LinePrefixer::with_max_line(vm_name, self.max_line));
        }
        if let Some(stream) = streams.iter_mut().find(|s| s.name() == vm_name) {
            stream.push(bytes, |line| (self.out)(line));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;
    use std::sync::Mutex;
    use std::vec;

    fn lines_of(prefixer: &mut LinePrefixer, bytes: &[u8]) -> Vec<String> {
        let mut lines = Vec::new();
        prefixer.push(bytes, |l| lines.push(String::from_utf8_lossy(l).into_owned()));
        lines
    }

    #[test]
    fn complete_lines_get_the_prefix() {
        let mut p = LinePrefixer::new("vm1");
        assert_eq!(
            lines_of(&mut p, b"hello\nworld\n"),
            vec!["[vm1] hello\n".to_string(), "[vm1] world\n".to_string()]
        );
        assert!(p.pending().is_empty());
    }

    #[test]
    fn partial_lines_are_buffered_until_newline() {
        let mut p = LinePrefixer::new("g");
        assert!(lines_of(&mut p, b"par").is_empty());
        assert_eq!(p.pending(), b"par");
        assert!(lines_of(&mut p, b"tial").is_empty());
        assert_eq!(lines_of(&mut p, b" line\nnext"), vec!["[g] partial line\n"]);
        assert_eq!(p.pending(), b"next");
    }

    #[test]
    fn carriage_return_before_newline_is_dropped() {
        let mut p = LinePrefixer::new("g");
        assert_eq!(lines_of(&mut p, b"a\r\nb\rc\n"), vec!["[g] a\n", "[g] b\rc\n"]);
        // Only a `\r` that ends a line is dropped, not one at a flush.
        assert!(lines_of(&mut p, b"d\r").is_empty());
        let mut flushed = Vec::new();
        p.flush(|l| flushed.push(l.to_vec()));
        assert_eq!(flushed, vec![b"[g] d\r\n".to_vec()]);
    }

    #[test]
    fn empty_lines_have_no_trailing_space() {
        let mut p = LinePrefixer::new("g");
        assert_eq!(lines_of(&mut p, b"\n\r\n"), vec!["[g]\n", "[g]\n"]);
    }

    #[test]
    fn long_lines_are_split_at_the_bound() {
        let mut p = LinePrefixer::with_max_line("g", 4);
        assert_eq!(lines_of(&mut p, b"abcd"), Vec::<String>::new());
        assert_eq!(p.pending(), b"abcd");
        // A newline right at the bound ends the line normally.
        assert_eq!(lines_of(&mut p, b"\n"), vec!["[g] abcd\n"]);
        assert_eq!(
            lines_of(&mut p, b"abcdefghij\n"),
            vec!["[g] abcd\n", "[g] efgh\n", "[g] ij\n"]
        );
    }

    #[test]
    fn default_bound_keeps_the_buffer_small() {
        let mut p = LinePrefixer::new("g");
        let lines = lines_of(&mut p, &[b'x'; 1000]);
        assert_eq!(lines.len(), 3);
        assert!(lines.iter().all(|l| l.len() == "[g] \n".len() + 256));
        assert_eq!(p.pending().len(), 1000 - 3 * 256);
    }

    #[test]
    fn flush_emits_the_partial_line_once() {
        let mut p = LinePrefixer::new("g");
        let mut lines = Vec::new();
        p.push(b"tail", |_| panic!("no complete line yet"));
        p.flush(|l| lines.push(l.to_vec()));
        p.flush(|l| lines.push(l.to_vec()));
        assert_eq!(lines, vec![b"[g] tail\n".to_vec()]);
    }

    #[test]
    fn a_shown_prompt_is_continued_without_a_second_prefix() {
        let mut p = LinePrefixer::new("g");
        let mut out = Vec::new();
        p.push(b"done\nsh# ", |l| out.push(l.to_vec()));
        p.show_partial(|l| out.push(l.to_vec()));
        p.show_partial(|l| out.push(l.to_vec())); // nothing new
        p.push(b"ec", |l| out.push(l.to_vec()));
        p.show_partial(|l| out.push(l.to_vec()));
        p.push(b"ho\r\nnext\n", |l| out.push(l.to_vec()));
        let text: Vec<String> = out.iter().map(|l| String::from_utf8_lossy(l).into_owned()).collect();
        assert_eq!(text, vec!["[g] done\n", "[g] sh# ", "ec", "ho\n", "[g] next\n"]);
    }

    /// A line shown early right after its `\r` (the guest's `\r\n` split
    /// across two pushes) ends in one line ending, not `\r` and then the
    /// host's; a lone `\r` goes out with what follows it.
    #[test]
    fn a_line_is_shown_once_it_stood_still_for_a_call() {
        let mut p = LinePrefixer::new("vm");
        let mut out = Vec::new();
        p.push(b"~ # ", |l| out.push(l.to_vec()));
        p.show_partial_if_still(|l| out.push(l.to_vec()));
        assert!(out.is_empty(), "written since the last look: not shown yet");
        p.show_partial_if_still(|l| out.push(l.to_vec()));
        assert_eq!(out, [b"[vm] ~ # ".to_vec()]);
        p.push(b"l", |l| out.push(l.to_vec()));
        p.show_partial_if_still(|l| out.push(l.to_vec()));
        assert_eq!(out.len(), 1, "it moved again");
        p.push(b"s\n", |l| out.push(l.to_vec()));
        assert_eq!(out[1], b"ls\n".to_vec(), "the rest follows without a prefix");
    }

    #[test]
    fn a_shown_line_keeps_a_trailing_carriage_return_back() {
        let mut p = LinePrefixer::new("g");
        let mut out = Vec::new();
        p.push(b"4 CPUs online\r", |l| out.push(l.to_vec()));
        p.show_partial(|l| out.push(l.to_vec()));
        p.push(b"\n50%\r", |l| out.push(l.to_vec()));
        p.show_partial(|l| out.push(l.to_vec()));
        p.push(b"100%\n", |l| out.push(l.to_vec()));
        let text: Vec<String> = out.iter().map(|l| String::from_utf8_lossy(l).into_owned()).collect();
        assert_eq!(text, vec!["[g] 4 CPUs online", "\n", "[g] 50%", "\r100%\n"]);
    }

    #[test]
    fn a_shown_line_cut_at_the_bound_goes_on_without_a_prefix() {
        let mut p = LinePrefixer::with_max_line("g", 4);
        let mut out = Vec::new();
        p.push(b"ab", |l| out.push(l.to_vec()));
        p.show_partial(|l| out.push(l.to_vec()));
        p.push(b"cdef\n", |l| out.push(l.to_vec()));
        let text: Vec<String> = out.iter().map(|l| String::from_utf8_lossy(l).into_owned()).collect();
        assert_eq!(text, vec!["[g] ab", "cd\n", "[g] ef\n"]);
    }

    #[test]
    fn prefixing_sink_keeps_vms_apart() {
        let out = std::sync::Arc::new(Mutex::new(Vec::<String>::new()));
        let sink_out = out.clone();
        let sink = PrefixingSink::new(move |l: &[u8]| {
            sink_out
                .lock()
                .expect("test lock")
                .push(String::from_utf8_lossy(l).into_owned())
        });
        sink.write_bytes("a", b"from ");
        sink.write_bytes("b", b"other\n");
        sink.write_bytes("a", b"a\nrest");
        assert_eq!(*out.lock().expect("test lock"), vec!["[b] other\n", "[a] from a\n"]);
        sink.flush_all();
        assert_eq!(
            out.lock().expect("test lock").last().map(String::as_str),
            Some("[a] rest\n")
        );
    }
}
