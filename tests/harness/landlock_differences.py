"""What the Landlock jail cannot hold, test by test (issue 12). The probes (tests/probes) and the
end-to-end Jupyter and agent suites (tests/jupyter/test_e2e_*.py, tests/agent) run against it in
the stages of tests/run where a reproduced container (tests/container/as-container) refuses the
namespaces (WARDEN_EXPECT_JAIL=landlock); each test named here asserts, in that mode, the
different outcome written here instead of the namespace jail's (harness.jail.differs). Nothing is
skipped: a test that is not here must hold in both jails unchanged, and one that is here must show
exactly this difference. tests/probes/test_probe_differences.py checks that every key names a test
that consults it.

Key: the test function name (unique across tests/probes, tests/jupyter and tests/agent).
Value: what differs, and why the Landlock jail cannot do otherwise. "Stricter" entries are where
the Landlock jail refuses more than the namespace jail (the test asserts the refusal)."""

DIFFERENCES = {
    # processes: no pid namespace
    "test_kill_init_from_inside":
        "pid 1 is the host's init, not the jail's: the signals are refused (EPERM: another uid, "
        "and Landlock's signal scope) instead of delivered to a jail init that ignores them.",
    "test_clone3_enosys_but_threads_and_processes_work":
        "no pid namespace: the worker has a host pid, not 2, and /proc/1 is the host's init, not "
        "jail-init. clone3 is ENOSYS and threads and children work, as in the namespace jail.",
    "test_fork_bomb_and_kill_minus_one":
        "no pid namespace: the jail's processes are counted by its own uid, not as the pids of "
        "a namespace, and kill(-1, SIGKILL) kills the bomb while the worker and its init (outside "
        "the worker's Landlock domain) go on; the process list cannot show 'only init and "
        "the worker' as a pid namespace does. The uid is shared (the kernel's own, or the one "
        "every root-run jail gets), so RLIMIT_NPROC is what it ran at the worker's start plus "
        "the budget: the bound is 256 beyond the uid's processes already there.",
    "test_proc_environ_and_cmdline_of_every_process":
        "no pid namespace and no private /proc: every host process is listed and its command "
        "line readable (the kernel's own shows its connection file's path; Linux makes "
        "/proc/<pid>/cmdline world-readable unless /proc is mounted hidepid=). Environments "
        "stay unreadable (another uid or Landlock) and no secret appears.",
    # filesystem: no mount namespace, so no private / with its own /tmp and /home
    "test_writes_outside_allowed_dirs":
        "no private /tmp or /home/warden: the scratch directory is a private directory of its "
        "own, HOME = TMPDIR (under /run/warden-jail). Writes there work; /tmp and /home/warden "
        "are refused like everything else outside.",
    "test_symlinks_to_host_paths":
        "the host's / is the jail's / (no pivot_root): links to host paths resolve to the host's "
        "files, and Landlock refuses them (EACCES) instead of their being absent; /home is "
        "refused, not a directory holding only 'warden'.",
    "test_tmp_is_size_capped":
        "no tmpfs of its own: statvfs of the scratch directory shows the host's filesystem, and "
        "/dev/shm is refused. Its size is measured by the supervisor, which ends the worker "
        "over the limit (test_disk_fill_tmp).",
    "test_disk_fill_tmp":
        "the scratch directory is no tmpfs that answers ENOSPC: the supervisor measures it and "
        "ends the worker once it holds more than sandbox.tmpfs, with the words of the other "
        "limits ('scratch space limit of 32 MiB reached').",
    "test_file_size_limit":
        "the same RLIMIT_FSIZE, written in the scratch directory (TMPDIR): /tmp is refused.",
    "test_connection_file_and_key_invisible":
        "no mount namespace: the connection file's directory exists and may be stat'ed (Landlock "
        "restricts opening, not path lookup), but neither it nor the file can be read.",
    "test_real_home_and_passwd":
        "the host's /etc/passwd is the one Python reads (one of the few /etc files allowed: "
        "getpwuid and ~ work), so the host's user names are listed; /home is refused; ~ is the "
        "scratch directory.",
    # network: no network namespace
    "test_only_loopback":
        "no network namespace: the host's interfaces and routes are listed in /proc/net. None "
        "can be used: TCP connect and bind are refused by Landlock, every other socket family "
        "by seccomp (test_tcp_outside, test_udp_outside, test_socket_families_denied).",
    "test_udp_outside":
        "stricter: an AF_INET/AF_INET6 datagram socket cannot even be created (seccomp EPERM), "
        "where the namespace jail creates it and the send finds no route (ENETUNREACH).",
    "test_no_host_unix_sockets":
        "stricter: no unix socket can be created at all (seccomp EPERM; abstract names are the "
        "host's, and a path socket could reach a host service), where the namespace jail has "
        "its own empty abstract namespace.",
    # privilege
    "test_no_capabilities_no_new_privs":
        "no user namespace: the worker runs as a host uid of its own when warden is root (with "
        "CAP_SETUID, as in a default container), else as the kernel's own uid, instead of uid "
        "1000 mapped. No capability, no_new_privs and seccomp as in the namespace jail; started by "
        "an ordinary user, the bounding set is the container's (dropping it needs CAP_SETPCAP), "
        "harmless with nothing permitted and no_new_privs.",
    "test_pty_of_its_own_and_no_tiocsti":
        "no devpts of its own: /dev/ptmx is refused (it would open a terminal in the host's "
        "devpts), so os.openpty fails with EACCES. TIOCSTI stays refused by seccomp "
        "(test_dangerous_syscall_denied[tiocsti]).",
    # the notebook directory (tests/jupyter/test_e2e_workdir.py, test_e2e_lifecycle.py): no
    # user or mount namespace, so no idmapped mount and no read-only bind
    "test_a_private_directory_is_read_read_only":
        "no user namespace: /proc/self/uid_map is the host's identity map ('0 0 4294967295'), and "
        "the worker's uid is a host uid (the kernel's own for an ordinary user; as root the "
        "directory's owner, 1234 here, since only it may enter the 0700 directory and nothing "
        "can show its files as another uid's without a mount namespace). The directory is "
        "read-only by a Landlock rule, so a write fails with EACCES, not a read-only mount's "
        "EROFS; nothing is written either way.",
    "test_writable_mode_writes_belong_to_the_directory_owner":
        "no idmapped mount: the worker writes as the directory's owner itself (the kernel's uid "
        "for an ordinary user; as root the owner's uid, 1234 here, which the worker takes: "
        "jail_landlock_choose_ids), so os.getuid() and the new file's owner are that host uid, "
        "not the namespace jail's uid 1000; on the host the files belong to the owner, as in "
        "the namespace jail, and the worker is never host root with a capability.",
    "test_doctor_names_how_the_notebook_directory_is_shown":
        "warden doctor's notebook directory line says 'read-only through a Landlock rule, as uid "
        "N' (the uid the worker takes), not an idmapped or plain read-only bind: there is no mount "
        "namespace to bind into.",
    "test_private_notebook_dir_as_root_is_explained":
        "the test's own set-up, a ramfs mount, is refused in a container (no CAP_SYS_ADMIN; the "
        "seccomp profile refuses mount), and the Landlock jail needs no idmapped mount: a 0700 "
        "directory only root may enter is used as uid 0 holding no capability in any set, with "
        "securebits locked (Landlock ABI >= 6; below it the cell is refused with what to "
        "chmod). Asserted instead: such a directory, root's own, runs its cell as uid 0 with no "
        "capability, and a write outside the notebook directory is refused.",
}
