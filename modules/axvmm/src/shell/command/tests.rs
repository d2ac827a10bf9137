use super::*;
use crate::lifecycle::VmState;
use crate::shell::tests::MockManager;
use alloc::vec;

/// Runs `line`; its text, which must come with `Outcome::Stay`.
fn stay(mgr: &MockManager, line: &str) -> String {
    let reply = run(line, mgr);
    assert_eq!(reply.outcome, Outcome::Stay, "{line}");
    reply.text
}

#[test]
fn lines_parse_into_commands() {
    let some = |c| Ok(Some(c));
    assert_eq!(parse(""), Ok(None));
    assert_eq!(parse(" \t "), Ok(None));
    assert_eq!(parse("help"), some(Command::Help));
    assert_eq!(parse("  vm   list  "), some(Command::List { json: false }));
    assert_eq!(parse("vm list --json"), some(Command::List { json: true }));
    assert_eq!(parse("vm info 3"), some(Command::Info { id: 3, json: false }));
    assert_eq!(parse("vm info --json 3"), some(Command::Info { id: 3, json: true }));
    assert_eq!(parse("vm info 3 --json"), some(Command::Info { id: 3, json: true }));
    let create = |name: &str, id| Command::Create {
        name: name.to_string(),
        id,
    };
    assert_eq!(parse("vm create linux"), some(create("linux", None)));
    assert_eq!(parse("vm create linux 7"), some(create("linux", Some(7))));
    for request in Request::ALL {
        let line = format!("vm {} 12", request.name());
        assert_eq!(parse(&line), some(Command::Request { id: 12, request }), "{line}");
    }
    assert_eq!(parse("vm console 0"), some(Command::Console { id: 0 }));
    assert_eq!(parse("mem"), some(Command::Mem));
    assert_eq!(parse("exit"), some(Command::Exit));
    assert_eq!(parse("quit"), some(Command::Exit));
}

#[test]
fn bad_lines_are_refused_with_a_message_naming_the_command_and_problem() {
    let cases = [
        ("foo", "unknown command \"foo\"; \"help\" lists the commands"),
        ("VM list", "unknown command \"VM\"; \"help\" lists the commands"),
        ("help me", "help: unexpected argument \"me\""),
        ("mem x", "mem: unexpected argument \"x\""),
        ("exit now", "exit: unexpected argument \"now\""),
        ("quit 1", "quit: unexpected argument \"1\""),
        ("vm", "vm: missing subcommand; \"help\" lists them"),
        ("vm jump", "vm: unknown subcommand \"jump\""),
        ("vm jump 1", "vm: unknown subcommand \"jump\""),
        ("vm list x", "vm list: unexpected argument \"x\""),
        ("vm list --yaml", "vm list: unknown option \"--yaml\""),
        ("vm info", "vm info: missing VM id"),
        ("vm info --json", "vm info: missing VM id"),
        ("vm info x", "vm info: \"x\" is not a VM id"),
        ("vm info 1 2", "vm info: unexpected argument \"2\""),
        ("vm pause", "vm pause: missing VM id"),
        ("vm pause x", "vm pause: \"x\" is not a VM id"),
        ("vm pause -1", "vm pause: \"-1\" is not a VM id"),
        ("vm pause +1", "vm pause: \"+1\" is not a VM id"),
        (
            "vm pause 99999999999999999999999",
            "vm pause: \"99999999999999999999999\" is not a VM id",
        ),
        ("vm pause 1 --json", "vm pause: unknown option \"--json\""),
        ("vm stop 1 2", "vm stop: unexpected argument \"2\""),
        ("vm console", "vm console: missing VM id"),
        ("vm console 1 x", "vm console: unexpected argument \"x\""),
        ("vm create", "vm create: missing config name"),
        ("vm create linux x", "vm create: \"x\" is not a VM id"),
        ("vm create linux 1 2", "vm create: unexpected argument \"2\""),
        ("vm create --json linux", "vm create: unknown option \"--json\""),
        // Quoted words are escaped (as in JSON), so odd input cannot drive
        // the terminal.
        (
            "\u{1b}[2J",
            "unknown command \"\\u001b[2J\"; \"help\" lists the commands",
        ),
        ("vm info a\"b\\\u{9b}", "vm info: \"a\\\"b\\\\\\u009b\" is not a VM id"),
    ];
    for (line, message) in cases {
        assert_eq!(parse(line), Err(message.to_string()), "{line}");
        let mgr = MockManager::new();
        assert_eq!(stay(&mgr, line), format!("{message}\n"), "{line}");
        assert_eq!(mgr.list(), MockManager::new().list(), "{line} changed something");
    }
}

#[test]
fn blank_lines_do_nothing() {
    let mgr = MockManager::new();
    assert_eq!(
        run("   ", &mgr),
        Reply {
            text: String::new(),
            outcome: Outcome::Stay
        }
    );
}

#[test]
fn help_lists_every_command() {
    let mgr = MockManager::new();
    let text = stay(&mgr, "help");
    let mut words = vec![
        "help",
        "vm list [--json]",
        "vm info ID [--json]",
        "vm create NAME [ID]",
        "vm console ID",
        "mem",
    ];
    let requests: Vec<String> = Request::ALL.iter().map(|r| format!("vm {} ID", r.name())).collect();
    words.extend(requests.iter().map(String::as_str));
    words.extend(["exit", "quit", "Ctrl-D", "Ctrl-A n", "Ctrl-A m", "Ctrl-A twice"]);
    for word in words {
        assert!(text.contains(word), "help lacks {word:?}");
    }
}

#[test]
fn list_and_info_print_text_or_json() {
    let mgr = MockManager::new();
    assert_eq!(stay(&mgr, "vm list"), format::vm_table(&mgr.list()));
    assert!(stay(&mgr, "vm list").starts_with("ID  NAME"));
    assert_eq!(stay(&mgr, "vm list --json"), format::vms_json(&mgr.list()));
    let vm2 = &mgr.list()[1];
    assert_eq!(stay(&mgr, "vm info 2"), format::vm_info(vm2));
    assert!(stay(&mgr, "vm info 2").starts_with("id: 2\nname: testguest\n"));
    assert_eq!(stay(&mgr, "vm info --json 2"), format::vm_json(vm2));
    assert_eq!(stay(&mgr, "vm info 9"), "vm info: no VM 9\n");
    assert_eq!(stay(&mgr, "vm info 9 --json"), "vm info: no VM 9\n");
}

#[test]
fn create_builds_a_vm_from_a_built_in_config() {
    let mgr = MockManager::new();
    assert_eq!(
        stay(&mgr, "vm create linux"),
        "VM 0 (linux) created; \"vm start 0\" runs it\n"
    );
    assert_eq!(
        stay(&mgr, "vm create testguest 7"),
        "VM 7 (testguest) created; \"vm start 7\" runs it\n"
    );
    assert_eq!(mgr.state_of(0), Some(VmState::Created));
    assert_eq!(mgr.state_of(7), Some(VmState::Created));
    let before = mgr.list();
    assert_eq!(stay(&mgr, "vm create linux 1"), "vm create: VM id 1 is taken\n");
    assert_eq!(
        stay(&mgr, "vm create nosuch"),
        "vm create: no config named \"nosuch\"; built in: linux, testguest\n"
    );
    assert_eq!(mgr.list(), before);
    let mut empty = MockManager::new();
    empty.images.clear();
    assert_eq!(
        stay(&empty, "vm create linux"),
        "vm create: no config named \"linux\"; built in: none\n"
    );
}

#[test]
fn requests_go_to_the_manager_and_its_refusals_are_printed() {
    let mgr = MockManager::new();
    let steps = [
        ("vm pause 1", "VM 1: pause done\n", Some(VmState::Paused)),
        (
            "vm pause 1",
            "vm pause: VM 1 is already paused\n",
            Some(VmState::Paused),
        ),
        (
            "vm start 1",
            "vm start: VM 1 is paused; `vm resume 1` runs it again\n",
            Some(VmState::Paused),
        ),
        ("vm resume 1", "VM 1: resume done\n", Some(VmState::Running)),
        ("vm stop 1", "VM 1: stop done\n", Some(VmState::Stopped)),
        (
            "vm stop 1",
            "vm stop: VM 1 is already stopped\n",
            Some(VmState::Stopped),
        ),
        ("vm start 1", "VM 1: start done\n", Some(VmState::Running)),
        ("vm restart 1", "VM 1: restart done\n", Some(VmState::Running)),
        ("vm destroy 1", "VM 1: destroy done\n", None),
        ("vm destroy 1", "vm destroy: no VM 1\n", None),
        ("vm start 9", "vm start: no VM 9\n", None),
    ];
    for (line, text, state) in steps {
        assert_eq!(stay(&mgr, line), text, "{line}");
        assert_eq!(mgr.state_of(1), state, "{line}");
    }
    // The other VMs were not touched.
    assert_eq!(mgr.state_of(2), Some(VmState::Paused));
    assert_eq!(mgr.state_of(5), Some(VmState::Stopped));
}

#[test]
fn console_focuses_a_vm_and_leaves() {
    let mgr = MockManager::new();
    let reply = run("vm console 1", &mgr);
    assert_eq!(reply.outcome, Outcome::Focus(1));
    assert_eq!(
        reply.text,
        "console input goes to VM 1 (linux); Ctrl-A m comes back here\n"
    );
    assert_eq!(mgr.focused.get(), Some(1));
    // The odd name is shown with its control characters replaced.
    let reply = run("vm console 5", &mgr);
    assert_eq!(reply.outcome, Outcome::Focus(5));
    assert!(reply.text.contains("(odd \"one\"\\??é)"), "{}", reply.text);
    // A refused focus stays in the shell and keeps the old focus.
    assert_eq!(stay(&mgr, "vm console 9"), "vm console: no VM 9\n");
    assert_eq!(mgr.focused.get(), Some(5));
}

#[test]
fn mem_and_exit() {
    let mgr = MockManager::new();
    assert_eq!(stay(&mgr, "mem"), format::memory(&mgr.memory()));
    for word in ["exit", "quit", "  exit  "] {
        let reply = run(word, &mgr);
        assert_eq!(reply.outcome, Outcome::Leave);
        assert_eq!(reply.text, "left the management shell; Ctrl-A m opens it again\n");
    }
}
