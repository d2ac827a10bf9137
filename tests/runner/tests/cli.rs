//! Runs the `qemu-runner` binary against specs whose `make` is
//! `fixtures/fake-make.sh`, which acts out a scenario chosen by a make
//! variable (`SCENARIO=pass`, `sleep`, `exit3`, `panic`, `prompt`).

use std::{
    fs,
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    process::{Command, Output},
    sync::OnceLock,
    time::{Duration, Instant},
};

/// The fake make, copied once to the target directory and made executable
/// (the copy is made before any test starts a process, so no child can hold
/// it open for writing when it is executed).
fn fake_make() -> &'static Path {
    static FAKE_MAKE: OnceLock<PathBuf> = OnceLock::new();
    FAKE_MAKE.get_or_init(|| {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fake-make.sh");
        let dst = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fake-make.sh");
        fs::copy(&src, &dst).expect("copy fake-make.sh");
        fs::set_permissions(&dst, fs::Permissions::from_mode(0o755)).expect("chmod fake-make.sh");
        dst
    })
}

/// A scratch directory for one test, holding its spec files.
struct Scratch {
    dir: PathBuf,
}

impl Scratch {
    fn new(test: &str) -> Self {
        fake_make();
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("qemu-runner").join(test);
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("create scratch dir");
        Self { dir }
    }

    /// Writes a spec file and returns its name (relative to the directory).
    fn spec(&self, file: &str, text: &str) -> String {
        fs::write(self.dir.join(file), text).expect("write spec");
        file.to_owned()
    }

    /// Runs the runner in the scratch directory.
    fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_qemu-runner"));
        cmd.args(args)
            .current_dir(&self.dir)
            .env("QEMU_RUNNER_MAKE", fake_make())
            .env_remove("QEMU_RUNNER_TIMEOUT_SCALE");
        for (key, value) in env {
            cmd.env(key, value);
        }
        let start = Instant::now();
        let output = cmd.output().expect("run qemu-runner");
        Run::new(output, start.elapsed())
    }
}

struct Run {
    stdout: String,
    stderr: String,
    status: Option<i32>,
    elapsed: Duration,
}

impl Run {
    fn new(output: Output, elapsed: Duration) -> Self {
        let run = Self {
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            status: output.status.code(),
            elapsed,
        };
        // Shown when an assertion fails.
        println!("--- stdout\n{}--- stderr\n{}---", run.stdout, run.stderr);
        run
    }

    fn summary(&self) -> &str {
        self.stdout.lines().last().unwrap_or_default()
    }

    fn line_starting(&self, prefix: &str) -> &str {
        self.stdout
            .lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no line starting with {prefix:?}"))
    }
}

#[test]
fn pass_merges_stderr_and_strips_escapes() {
    let s = Scratch::new("pass");
    let spec = s.spec(
        "pass.toml",
        r#"
        name = "pass"
        make = ["SCENARIO=pass"]
        expect = ["^booting$", "^hello from the guest$", "shutting down"]
        "#,
    );
    let run = s.run(&[&spec], &[]);
    assert_eq!(run.status, Some(0));
    assert!(run.line_starting("PASS pass (").ends_with(" s)"));
    assert_eq!(run.summary(), "1 passed, 0 failed");
    // Output is not echoed for a passing test.
    assert!(!run.stdout.contains("  | "));
}

#[test]
fn verbose_echoes_output() {
    let s = Scratch::new("verbose");
    let spec = s.spec("pass.toml", "name = \"pass\"\nmake = [\"SCENARIO=pass\"]");
    let run = s.run(&["--verbose", &spec], &[]);
    assert_eq!(run.status, Some(0));
    assert!(run.stdout.contains("  | booting\n"));
}

#[test]
fn out_of_order_fails() {
    let s = Scratch::new("order");
    let spec = s.spec(
        "order.toml",
        r#"
        name = "order"
        make = ["SCENARIO=pass"]
        expect = ["hello", "booting"]
        "#,
    );
    let run = s.run(&[&spec], &[]);
    assert_eq!(run.status, Some(1));
    let fail = run.line_starting("FAIL order (");
    assert!(
        fail.ends_with(r#"): expect[1] "booting" never matched (matched: expect[0] on line 2)"#),
        "{fail}"
    );
    // The output of a failed test is shown.
    assert!(run.stdout.contains("  | booting\n"));
    assert_eq!(run.summary(), "0 passed, 1 failed");
}

#[test]
fn timeout_kills_the_whole_group_quickly() {
    let s = Scratch::new("timeout");
    let spec = s.spec(
        "sleep.toml",
        r#"
        name = "sleep"
        make = ["SCENARIO=sleep"]
        timeout_s = 1
        expect = ["started", "woke up"]
        "#,
    );
    let run = s.run(&[&spec], &[]);
    assert!(run.elapsed < Duration::from_secs(15), "took {:?}", run.elapsed);
    assert_eq!(run.status, Some(1));
    let fail = run.line_starting("FAIL sleep (");
    assert!(
        fail.contains("): timed out after 1.0 s; expect[1] \"woke up\" never matched"),
        "{fail}"
    );
    assert!(!run.stdout.contains("woke up\n"));

    // The grandchild (`sleep 30`) was killed with the group.
    let pid = fs::read_to_string(s.dir.join("sleep.pid")).expect("sleep.pid");
    let stat = Path::new("/proc").join(pid.trim()).join("stat");
    let deadline = Instant::now() + Duration::from_secs(5);
    while is_running(&stat) {
        assert!(Instant::now() < deadline, "sleep {} still runs", pid.trim());
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Whether the process whose `/proc/PID/stat` is `stat` exists and is not a
/// zombie waiting to be reaped.
fn is_running(stat: &Path) -> bool {
    match fs::read_to_string(stat) {
        Ok(text) => text.rsplit_once(") ").is_some_and(|(_, rest)| !rest.starts_with('Z')),
        Err(_) => false,
    }
}

#[test]
fn timeout_scale_applies() {
    let s = Scratch::new("scale");
    let spec = s.spec(
        "sleep.toml",
        "name = \"sleep\"\nmake = [\"SCENARIO=sleep\"]\ntimeout_s = 4",
    );
    let run = s.run(&[&spec], &[("QEMU_RUNNER_TIMEOUT_SCALE", "0.25")]);
    assert!(run.elapsed < Duration::from_secs(15), "took {:?}", run.elapsed);
    assert!(run.line_starting("FAIL sleep (").contains("timed out after 1.0 s"));

    let run = s.run(&[&spec], &[("QEMU_RUNNER_TIMEOUT_SCALE", "fast")]);
    assert_eq!(run.status, Some(2));
    assert!(run.stderr.contains("QEMU_RUNNER_TIMEOUT_SCALE"));
}

#[test]
fn exit_code_is_checked() {
    let s = Scratch::new("exit");
    let wrong = s.spec("wrong.toml", "name = \"wrong\"\nmake = [\"SCENARIO=exit3\"]");
    let right = s.spec(
        "right.toml",
        "name = \"right\"\nmake = [\"SCENARIO=exit3\"]\nexit_code = 3",
    );
    let run = s.run(&[&wrong, &right], &[]);
    assert_eq!(run.status, Some(1));
    assert!(run.line_starting("FAIL wrong (").ends_with("): exit code 3, wanted 0"));
    run.line_starting("PASS right (");
    assert_eq!(run.summary(), "1 passed, 1 failed");
}

#[test]
fn forbidden_line_fails_at_once() {
    let s = Scratch::new("forbid");
    let spec = s.spec(
        "panic.toml",
        "name = \"panic\"\nmake = [\"SCENARIO=panic\"]\ntimeout_s = 60",
    );
    let run = s.run(&[&spec], &[]);
    // The child sleeps 30 s after the panic line; it must be killed.
    assert!(run.elapsed < Duration::from_secs(15), "took {:?}", run.elapsed);
    assert_eq!(run.status, Some(1));
    let fail = run.line_starting("FAIL panic (");
    assert!(
        fail.ends_with(
            r#"): forbidden output on line 2 (matches forbid (built-in) "panicked at"): "panicked at src/main.rs:10:5: oh no""#
        ),
        "{fail}"
    );
}

#[test]
fn input_is_sent_at_prompts() {
    let s = Scratch::new("input");
    let spec = s.spec(
        "prompt.toml",
        r#"
        name = "prompt"
        make = ["SCENARIO=prompt"]
        timeout_s = 10
        expect = ["welcome root", "ran ls"]

        [[input]]
        after = "^login: $"
        send = "root\n"

        [[input]]
        after = '^\$ $'
        send = "ls\n"
        "#,
    );
    let run = s.run(&[&spec], &[]);
    assert_eq!(run.status, Some(0));
    run.line_starting("PASS prompt (");
}

#[test]
fn build_failure_shows_build_output() {
    let s = Scratch::new("build");
    let spec = s.spec(
        "build.toml",
        "name = \"build\"\nmake = [\"SCENARIO=pass\", \"BUILD=fail\"]",
    );
    let run = s.run(&[&spec], &[]);
    assert_eq!(run.status, Some(1));
    let fail = run.line_starting("FAIL build (");
    assert!(fail.contains("build failed: `"), "{fail}");
    assert!(
        fail.ends_with("SCENARIO=pass BUILD=fail build` ended with exit code 2"),
        "{fail}"
    );
    assert!(run.stdout.contains("  | error[E0425]: cannot find value\n"));
}

#[test]
fn missing_make_program_is_reported() {
    let s = Scratch::new("nomake");
    let spec = s.spec("pass.toml", "name = \"pass\"\nmake = [\"SCENARIO=pass\"]");
    let run = s.run(&[&spec], &[("QEMU_RUNNER_MAKE", "/nonexistent/make")]);
    assert_eq!(run.status, Some(1));
    assert!(
        run.line_starting("FAIL pass (")
            .contains("cannot start `/nonexistent/make -s")
    );
}

#[test]
fn bad_spec_stops_before_running_anything() {
    let s = Scratch::new("badspec");
    let good = s.spec("good.toml", "name = \"good\"\nmake = [\"SCENARIO=pass\"]");
    let bad = s.spec("bad.toml", "name = \"bad\"\nexpect = [\"(\"]");
    let unknown = s.spec("unknown.toml", "name = \"unknown\"\ntimeout = 3");
    let run = s.run(&[&good, &bad, &unknown], &[]);
    assert_eq!(run.status, Some(2));
    assert!(run.stdout.is_empty());
    assert!(run.stderr.contains("bad.toml: field `expect[0]`: invalid regex"));
    assert!(run.stderr.contains("unknown.toml: invalid spec"));
    assert!(run.stderr.contains("unknown field `timeout`"));
    assert!(run.stderr.contains("2 bad spec file(s)"));
}

#[test]
fn filter_and_list() {
    let s = Scratch::new("filter");
    let a = s.spec("a.toml", "name = \"hello-aarch64\"\nmake = [\"SCENARIO=pass\"]");
    let b = s.spec("b.toml", "name = \"hello-x86_64\"\nmake = [\"SCENARIO=exit3\"]");
    let run = s.run(&["--list", &a, &b], &[]);
    assert_eq!(run.stdout, "hello-aarch64\nhello-x86_64\n");
    let run = s.run(&["--filter", "aarch64", &a, &b], &[]);
    assert_eq!(run.status, Some(0));
    run.line_starting("PASS hello-aarch64 (");
    assert!(!run.stdout.contains("x86_64"));
    assert_eq!(run.summary(), "1 passed, 0 failed");
}

#[test]
fn duplicate_names_are_rejected() {
    let s = Scratch::new("dup");
    let a = s.spec("a.toml", "name = \"same\"");
    let b = s.spec("b.toml", "name = \"same\"");
    let run = s.run(&[&a, &b], &[]);
    assert_eq!(run.status, Some(2));
    assert!(
        run.stderr
            .contains("b.toml: field `name`: \"same\" is already the name of a.toml")
    );
}
