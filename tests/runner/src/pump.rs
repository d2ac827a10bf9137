//! Reading a child's output as it arrives, as one stream of lines.
//!
//! Each stream (the runner passes one pipe that both stdout and stderr write
//! to) gets a thread that reads it as bytes arrive, splits the bytes into
//! lines and sends them down one channel; the runner takes them out with a
//! deadline so it can keep watching the clock and the child.

use std::{
    io::{ErrorKind, Read},
    sync::mpsc::{self, Receiver, RecvTimeoutError, Sender},
    thread,
    time::Instant,
};

use crate::lines::{LineSplitter, Piece};

/// Bytes read from a stream at a time.
const READ_CHUNK: usize = 4096;

enum Event {
    Piece(Piece),
    /// One stream was closed (or could no longer be read).
    Eof,
}

/// The merged output of a child.
pub struct Pump {
    rx: Receiver<Event>,
    /// Kept so `rx` never reports a disconnect, only timeouts: waiting on a
    /// closed pump then sleeps instead of spinning.
    _tx: Sender<Event>,
    open: usize,
}

impl Pump {
    /// Starts one reader thread per stream.
    pub fn new<I>(streams: I) -> Self
    where
        I: IntoIterator<Item = Box<dyn Read + Send>>,
    {
        let (tx, rx) = mpsc::channel();
        let mut open = 0;
        for stream in streams {
            let tx = tx.clone();
            thread::spawn(move || read_stream(stream, &tx));
            open += 1;
        }
        Self { rx, _tx: tx, open }
    }

    /// Whether every stream has been read to its end and every line handed
    /// out.
    pub fn is_closed(&self) -> bool {
        self.open == 0
    }

    /// The next piece of output, or `None` if none arrives before `until` or
    /// the last stream has just closed.
    pub fn next(&mut self, until: Instant) -> Option<Piece> {
        loop {
            let wait = until.checked_duration_since(Instant::now())?;
            match self.rx.recv_timeout(wait) {
                Ok(Event::Piece(piece)) => return Some(piece),
                Ok(Event::Eof) => {
                    self.open = self.open.saturating_sub(1);
                    // Each reader sends its EOF last, so nothing can follow.
                    if self.open == 0 {
                        return None;
                    }
                }
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => return None,
            }
        }
    }

    /// Hands out what is left until every stream is closed or `until`
    /// passes (a process that escaped may hold a stream open forever).
    pub fn drain(&mut self, until: Instant, mut each: impl FnMut(Piece)) {
        while !self.is_closed() {
            match self.next(until) {
                Some(piece) => each(piece),
                None => return,
            }
        }
    }
}

fn read_stream(mut stream: Box<dyn Read + Send>, tx: &Sender<Event>) {
    let mut splitter = LineSplitter::default();
    let mut buf = [0u8; READ_CHUNK];
    let mut pieces = Vec::new();
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                splitter.push(&buf[..n], &mut pieces);
                for piece in pieces.drain(..) {
                    if tx.send(Event::Piece(piece)).is_err() {
                        return;
                    }
                }
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            // A read error ends the stream like EOF; the child's exit status
            // still decides the test.
            Err(_) => break,
        }
    }
    if let Some(last) = splitter.finish() {
        let _ = tx.send(Event::Piece(Piece::Line(last)));
    }
    let _ = tx.send(Event::Eof);
}

#[cfg(test)]
mod tests {
    use std::{io::Cursor, time::Duration};

    use super::*;

    #[test]
    fn merges_streams_until_closed() {
        let a: Box<dyn Read + Send> = Box::new(Cursor::new(b"a1\na2\n".to_vec()));
        let b: Box<dyn Read + Send> = Box::new(Cursor::new(b"b1".to_vec()));
        let start = Instant::now();
        let mut pump = Pump::new([a, b]);
        let mut lines = Vec::new();
        pump.drain(Instant::now() + Duration::from_secs(5), |piece| {
            if let Piece::Line(line) = piece {
                lines.push(line);
            }
        });
        assert!(pump.is_closed());
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "drain waited for its deadline"
        );
        lines.sort();
        assert_eq!(lines, ["a1", "a2", "b1"]);
        // A closed pump waits out the deadline instead of failing.
        assert_eq!(pump.next(Instant::now() + Duration::from_millis(10)), None);
    }
}
