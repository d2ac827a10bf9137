//! Running one test: `make build`, then `make justrun` watched line by line.

use std::{
    ffi::OsString,
    io::{self, Read, Write},
    os::unix::process::{CommandExt, ExitStatusExt},
    path::PathBuf,
    process::{Child, ChildStdin, Command, ExitStatus, Stdio},
    time::{Duration, Instant},
};

use crate::{
    group::Group,
    lines::{Piece, Tail},
    matcher::Matcher,
    pump::Pump,
    spec::Spec,
    verdict::{self, Ending, Exit},
};

/// Lines of build output shown when the build fails.
const BUILD_TAIL_LINES: usize = 40;
/// Lines of run output shown when the test fails.
const RUN_TAIL_LINES: usize = 60;
/// How often the child is checked for having exited.
const POLL: Duration = Duration::from_millis(20);
/// How long to wait for the last output once the run has ended or been
/// killed.
const DRAIN_GRACE: Duration = Duration::from_secs(2);

/// How tests are run, the same for every spec.
#[derive(Debug, Clone)]
pub struct Options {
    /// The make program (`QEMU_RUNNER_MAKE`, default `make`).
    pub make: OsString,
    /// Where make runs (`--root`).
    pub root: PathBuf,
    /// Echo output as it arrives (`--verbose`).
    pub verbose: bool,
    /// Multiplies every spec's timeout (`QEMU_RUNNER_TIMEOUT_SCALE`).
    pub timeout_scale: f64,
}

/// The outcome of one test.
#[derive(Debug)]
pub struct Report {
    /// Wall time of `justrun` (of `build` if the build failed).
    pub elapsed: Duration,
    /// `Err` holds the reason for the failure.
    pub result: Result<(), String>,
    /// What `tail` holds: "build output" or "output".
    pub tail_of: &'static str,
    /// The last lines of output, to show when the test failed.
    pub tail: Tail,
}

/// Builds and runs the test described by `spec`.
pub fn run_test(spec: &Spec, opts: &Options) -> Report {
    if opts.verbose {
        say!("RUN {} ({})", spec.name, spec.path.display());
    }
    if let Some(report) = build(spec, opts) {
        return report;
    }
    justrun(spec, opts)
}

fn make_command(spec: &Spec, opts: &Options, target: &str) -> Command {
    let mut cmd = Command::new(&opts.make);
    cmd.arg("-s").args(&spec.make).arg(target).current_dir(&opts.root);
    cmd
}

/// The command line, for messages.
fn describe(spec: &Spec, opts: &Options, target: &str) -> String {
    let mut words = vec![opts.make.to_string_lossy().into_owned(), "-s".into()];
    words.extend(spec.make.iter().cloned());
    words.push(target.into());
    format!("`{}`", words.join(" "))
}

fn echo(opts: &Options, line: &str) {
    if opts.verbose {
        say!("  | {line}");
    }
}

/// Starts `cmd` with stdout and stderr both writing into one pipe, as `2>&1`
/// does, so lines of the two keep the order they were written in (two pipes
/// read by two threads could swap them); the pump reads that pipe.
fn spawn_merged(mut cmd: Command) -> io::Result<(Child, Pump)> {
    let (reader, writer) = io::pipe()?;
    let for_stderr = writer.try_clone()?;
    cmd.stdout(writer).stderr(for_stderr);
    let child = cmd.spawn();
    // Closes the runner's copies of the write end, so the pump sees EOF once
    // every process of the run is done with it.
    drop(cmd);
    let streams: [Box<dyn Read + Send>; 1] = [Box::new(reader)];
    Ok((child?, Pump::new(streams)))
}

fn exit_of(status: ExitStatus) -> Exit {
    match (status.code(), status.signal()) {
        (Some(code), _) => Exit::Code(code),
        (None, Some(signal)) => Exit::Signal(signal),
        // Neither is possible for a terminated process on Unix.
        (None, None) => Exit::Code(-1),
    }
}

/// Runs `make build`; `Some` report if it failed.
fn build(spec: &Spec, opts: &Options) -> Option<Report> {
    let start = Instant::now();
    let what = describe(spec, opts, "build");
    let mut tail = Tail::new(BUILD_TAIL_LINES);
    let fail = |tail, reason| {
        Some(Report {
            elapsed: start.elapsed(),
            result: Err(reason),
            tail_of: "build output",
            tail,
        })
    };
    let mut cmd = make_command(spec, opts, "build");
    cmd.stdin(Stdio::null());
    let (mut child, mut pump) = match spawn_merged(cmd) {
        Ok(started) => started,
        Err(e) => return fail(tail, format!("cannot start {what}: {e}")),
    };
    let mut keep = |piece| {
        if let Piece::Line(line) = piece {
            echo(opts, &line);
            tail.push(line);
        }
    };
    // The build is not timed: wait as long as it takes.
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Ok(status),
            Ok(None) => {}
            Err(e) => break Err(e),
        }
        if let Some(piece) = pump.next(Instant::now() + POLL) {
            keep(piece);
        }
    };
    pump.drain(Instant::now() + DRAIN_GRACE, &mut keep);
    match status {
        Ok(status) if status.success() => None,
        Ok(status) => {
            let how = match exit_of(status) {
                Exit::Code(code) => format!("exit code {code}"),
                Exit::Signal(signal) => format!("signal {signal}"),
            };
            fail(tail, format!("build failed: {what} ended with {how}"))
        }
        Err(e) => fail(tail, format!("cannot wait for {what}: {e}")),
    }
}

/// Writes input rule `index` to the child; a failure becomes a note.
fn send(spec: &Spec, opts: &Options, stdin: &mut Option<ChildStdin>, index: usize, notes: &mut Vec<String>) {
    let text = &spec.input[index].send;
    if opts.verbose {
        say!("  > input[{index}]: {text:?}");
    }
    let result = match stdin {
        Some(pipe) => pipe.write_all(text.as_bytes()).and_then(|()| pipe.flush()),
        None => return,
    };
    if let Err(e) = result {
        notes.push(format!("could not send input[{index}] {text:?}: {e}"));
        *stdin = None;
    }
}

/// Runs `make justrun` and judges its output.
fn justrun(spec: &Spec, opts: &Options) -> Report {
    let timeout = spec.timeout.mul_f64(opts.timeout_scale);
    let what = describe(spec, opts, "justrun");
    let mut tail = Tail::new(RUN_TAIL_LINES);
    let start = Instant::now();
    let deadline = start + timeout;
    let report = |tail, result| Report {
        elapsed: start.elapsed(),
        result,
        tail_of: "output",
        tail,
    };

    let mut cmd = make_command(spec, opts, "justrun");
    cmd.stdin(Stdio::piped()).process_group(0);
    let (mut child, mut pump) = match spawn_merged(cmd) {
        Ok(started) => started,
        Err(e) => return report(tail, Err(format!("cannot start {what}: {e}"))),
    };
    let group = match Group::new(child.id()) {
        Ok(group) => group,
        Err(e) => {
            let _ = child.kill();
            let _ = child.wait();
            return report(tail, Err(e));
        }
    };
    let mut stdin = child.stdin.take();
    let mut matcher = Matcher::new(spec);
    let mut notes = Vec::new();

    let mut next_check = Instant::now();
    let ending = loop {
        let now = Instant::now();
        if now >= deadline {
            break Ending::TimedOut(timeout);
        }
        if now >= next_check {
            if group.leader_exited() {
                // Placeholder: the real status is read once reaped.
                break Ending::Exited(Exit::Code(0));
            }
            next_check = now + POLL;
        }
        match pump.next(deadline.min(next_check)) {
            None => {}
            Some(Piece::Line(line)) => {
                echo(opts, &line);
                let step = matcher.feed_line(&line);
                tail.push(line);
                if let Some(index) = step.send {
                    send(spec, opts, &mut stdin, index, &mut notes);
                }
                if step.forbidden {
                    break Ending::Forbidden;
                }
            }
            Some(Piece::Partial(partial)) => {
                if let Some(index) = matcher.feed_partial(&partial) {
                    send(spec, opts, &mut stdin, index, &mut notes);
                }
            }
        }
    };

    // Whatever happened, nothing of the run may outlive it: QEMU or a helper
    // may still run even after make itself has exited.
    if let Err(e) = group.kill() {
        notes.push(e);
    }
    drop(stdin);
    let exited = matches!(ending, Ending::Exited(_));
    pump.drain(Instant::now() + DRAIN_GRACE, |piece| {
        if let Piece::Line(line) = piece {
            echo(opts, &line);
            // Output the run printed before exiting still counts; after a
            // kill it is only context.
            if exited {
                matcher.feed_line(&line);
            }
            tail.push(line);
        }
    });
    group.release();
    let status = child.wait();
    let elapsed = start.elapsed();

    let ending = match (ending, status) {
        (Ending::Exited(_), Ok(status)) => Ending::Exited(exit_of(status)),
        (Ending::Exited(_), Err(e)) => {
            return report(tail, Err(format!("cannot wait for {what}: {e}")));
        }
        (ending, _) => ending,
    };
    Report {
        elapsed,
        result: verdict::judge(spec, &matcher, ending, &notes),
        tail_of: "output",
        tail,
    }
}
