# The tests/run stage "C unit tests and Jupyter client tests under ASan+UBSan", sourced by
# tests/run (it uses its run_ctest, run_pytest and counters). Builds build-asan/ with
# WARDEN_SANITIZE=ON, then runs every C unit test and a set of Jupyter client and agent tests
# against build-asan/warden.
#
# Every report is fatal: ASan stops at its first error (halt_on_error), UBSan too (the build has
# -fno-sanitize-recover=undefined), LeakSanitizer checks every process that exits through exit()
# (the kernel at shutdown, each C test). A C test's report fails it through its exit status (ctest
# prints it). The kernel's ASan and LSan reports go to files in a directory of their own
# (log_path); UBSan's go to its stderr (gcc's libubsan ignores log_path), which pytest captures.
# tests/conftest.py watches both: a report fails the test during which it appeared
# (tests/harness/sanitizer.py), and any file left at the end fails the stage.
#
# The jail under ASan, without weakening it: the jail's init is a clone of the sanitized kernel
# that never execs, but its code (sandbox/jail, child side) makes system calls only — it never
# allocates, so ASan's allocator and shadow are never touched there — and it leaves through
# _exit(), so LeakSanitizer never checks it. The command (pid 2) sets its rlimits, RLIMIT_AS among
# them (2 GiB, far below the 20 TiB of ASan's reserved shadow: any mmap would now fail), then only
# installs the seccomp filter and execs Python, which replaces the sanitized image: nothing maps
# memory between the two (test_jail's RLIMIT_AS case passes under ASan). ASAN_OPTIONS never
# reaches the worker: the jail's environment is an allowlist.
#
# No suppressions are needed: libzmq, jansson, OpenSSL and libcurl (dlopen'ed at the first model
# request) leave nothing behind that LeakSanitizer counts as lost.

# Chosen for breadth at a few minutes' cost: execution, outputs, interrupts, stdin, the
# lifecycle (restart, shutdown, a dead worker), the protocol's edges, hostile clients and frames,
# history, and the agent's loop, faults and hostile answers against the scripted model server
# (libcurl, SSE, retries). Deselected: the tests that bound the kernel's RSS (ASan keeps freed
# memory in quarantine and shadows all of it: 230 MiB after the 64 MiB messages).
sanitize_pytests=(jupyter/test_e2e_execution.py jupyter/test_e2e_rich_output.py
                  jupyter/test_e2e_interrupts.py jupyter/test_e2e_stdin.py
                  jupyter/test_e2e_lifecycle.py jupyter/test_e2e_protocol.py
                  jupyter/test_e2e_abuse.py jupyter/test_e2e_history.py
                  agent/test_agent_loop.py agent/test_agent_faults.py agent/test_agent_hostile.py
                  -k "not (test_a_64_mib_message or kernel_stays_small)")

run_sanitized() {
  local asan=${WARDEN_ASAN_BUILD:-$repo/build-asan} logs left
  echo "== C unit tests and Jupyter client tests under ASan+UBSan (build: $asan)"
  if ! { cmake -S "$repo" -B "$asan" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWARDEN_SANITIZE=ON \
           >/dev/null && cmake --build "$asan" -j"$(nproc)" >/dev/null; }; then
    failed=$((failed + 1)); stages_failed+=("ASan+UBSan build"); return
  fi
  logs=$(mktemp -d /tmp/warden-sanitizer.XXXXXX)
  # detect_leaks is on by default on x86_64 Linux; written out so that it stays so
  local asan_options="halt_on_error=1:detect_leaks=1:abort_on_error=0:print_summary=1"
  local ubsan_options="halt_on_error=1:print_stacktrace=1"
  ASAN_OPTIONS=$asan_options UBSAN_OPTIONS=$ubsan_options build=$asan \
    CTEST_PARALLEL_LEVEL=$(nproc) run_ctest "C unit tests under ASan+UBSan"
  ASAN_OPTIONS="$asan_options:log_path=$logs/asan" UBSAN_OPTIONS=$ubsan_options \
    WARDEN_SANITIZER_LOGS=$logs WARDEN_BIN=$asan/warden \
    run_pytest "Jupyter client tests under ASan+UBSan" "${sanitize_pytests[@]}" sanitize
  left=$(ls "$logs")
  if [ -n "$left" ]; then
    echo "sanitizer reports: $left"; head -c 20000 "$logs"/*
    failed=$((failed + 1)); stages_failed+=("sanitizer reports")
  fi
  rm -rf "$logs"
}
