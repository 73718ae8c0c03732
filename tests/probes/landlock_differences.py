"""What the Landlock jail cannot hold, probe by probe (issue 12). The probes run against it in the
stage of tests/run where a reproduced container (tests/container/as-container) refuses the
namespaces; each probe named here asserts, in that mode, the different outcome written here
instead of the namespace jail's (probe_helpers.differs). Nothing is skipped: a probe that is not
here must hold in both jails unchanged, and one that is here must show exactly this difference.
test_probe_differences.py checks that every key names a probe that consults it.

Key: the probe's test function name (unique across tests/probes).
Value: what differs, and why the Landlock jail cannot do otherwise. "Stricter" entries are where
the Landlock jail refuses more than the namespace jail (the probe asserts the refusal)."""

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
        "the worker' as a pid namespace does. As an ordinary "
        "user no bomb is started (tasks are not limited: test_fork_loop_hits_task_limit).",
    "test_fork_loop_hits_task_limit":
        "as root, the same (RLIMIT_NPROC on the jail's own uid). Started by an ordinary user, "
        "the worker has that user's uid, RLIMIT_NPROC would count all the user's processes, and "
        "the jail sets none: tasks are NOT limited but by the container's pids cgroup "
        "(docker run --pids-limit, Kubernetes podPidsLimit). The probe asserts RLIMIT_NPROC is "
        "the one the kernel was started with and starts no bomb: here, unbounded, one filled the host's 32768 pids.",
    "test_thread_exhaustion":
        "as root, the same; as an ordinary user, threads are tasks not limited either (see "
        "test_fork_loop_hits_task_limit).",
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
}
