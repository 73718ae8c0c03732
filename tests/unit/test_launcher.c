/* The launcher watch (kernel/launcher.c): which JPY_PARENT_PID values are trusted, and that the
 * launcher's death is seen, through its pidfd and (the fallback) without one. Each case is a
 * small process tree: this test forks a "launcher", which forks a "kernel" that watches it and
 * says through a pipe what it saw once the launcher is killed. */
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "kernel/launcher.h"

#define GONE_DEADLINE_MS 20000 /* the fallback looks once a second; a loaded machine is slow */

enum seen {
    SEEN_WATCHING = 'w',
    SEEN_NOT_WATCHED = 'n',
    SEEN_GONE = 'g',
    SEEN_NEVER_GONE = 's',
    SEEN_GONE_TOO_EARLY = 'e', /* the launcher was alive */
};

static void test_parse(void)
{
    CHECK(launcher_parse_pid("1234") == 1234);
    CHECK(launcher_parse_pid("2") == 2);
    const char *bad[] = {"", "0", "1", "-5", "+5", " 5", "5 ", "12ab", "0x10", "99999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(launcher_parse_pid(bad[i]) == 0);
    CHECK(launcher_parse_pid(NULL) == 0);
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void say(int fd, enum seen what)
{
    char c = (char)what;
    if (write(fd, &c, 1) != 1)
        _exit(3);
}

/* The "kernel": watches JPY_PARENT_PID=`watched`, then waits for the launcher to go. */
static void __attribute__((noreturn)) kernel_side(int out, pid_t watched, bool keep_pidfd)
{
    char value[32];
    snprintf(value, sizeof value, "%d", (int)watched);
    setenv("JPY_PARENT_PID", value, 1);
    struct launcher_watch w;
    launcher_watch_start(&w);
    if (!w.pid) {
        say(out, SEEN_NOT_WATCHED);
        _exit(0);
    }
    if (!keep_pidfd && w.pidfd >= 0) { /* what a kernel without pidfd_open does */
        close(w.pidfd);
        w.pidfd = -1;
    }
    /* the launcher is alive until this process has said it watches it */
    say(out, launcher_watch_gone(&w) ? SEEN_GONE_TOO_EARLY : SEEN_WATCHING);
    long long deadline = now_ms() + GONE_DEADLINE_MS;
    while (now_ms() < deadline) {
        if (launcher_watch_gone(&w)) {
            say(out, SEEN_GONE);
            _exit(0);
        }
        /* as the kernel's loop waits: on the pidfd, or for the fallback's period */
        struct pollfd p = {.fd = launcher_watch_fd(&w), .events = POLLIN};
        int wait = launcher_watch_poll_ms(&w);
        poll(&p, p.fd >= 0 ? 1 : 0, wait < 0 ? 1000 : wait);
    }
    say(out, SEEN_NEVER_GONE);
    _exit(0);
}

/* What the kernel saw: `ancestor` watches its own launcher, otherwise a sibling's pid. */
static void run_case(bool ancestor, bool keep_pidfd, char *first, char *last)
{
    int fds[2];
    *first = *last = '?';
    if (pipe(fds) != 0)
        return;
    pid_t sibling = fork();
    if (sibling == 0) {
        pause();
        _exit(0);
    }
    pid_t launcher = fork();
    if (launcher == 0) {
        close(fds[0]);
        pid_t me = getpid();
        if (fork() == 0)
            kernel_side(fds[1], ancestor ? me : sibling, keep_pidfd);
        pause();
        _exit(0);
    }
    close(fds[1]);
    if (read(fds[0], first, 1) == 1 && *first == SEEN_WATCHING) {
        kill(launcher, SIGKILL);
        if (read(fds[0], last, 1) != 1)
            *last = '?';
    } else {
        kill(launcher, SIGKILL);
    }
    kill(sibling, SIGKILL);
    waitpid(launcher, NULL, 0);
    waitpid(sibling, NULL, 0);
    close(fds[0]);
}

static void test_launcher_death_is_seen(void)
{
    char first, last;
    run_case(true, true, &first, &last);
    CHECK(first == SEEN_WATCHING && last == SEEN_GONE);
    run_case(true, false, &first, &last); /* no pidfd: the ancestry is looked at */
    CHECK(first == SEEN_WATCHING && last == SEEN_GONE);
}

static void test_a_pid_that_is_not_an_ancestor_is_not_watched(void)
{
    char first, last;
    run_case(false, true, &first, &last);
    CHECK(first == SEEN_NOT_WATCHED);
}

static void test_no_variable_no_watch(void)
{
    unsetenv("JPY_PARENT_PID");
    struct launcher_watch w;
    launcher_watch_start(&w);
    CHECK(w.pid == 0 && launcher_watch_fd(&w) == -1 && launcher_watch_poll_ms(&w) == -1);
    CHECK(!launcher_watch_gone(&w));
    setenv("JPY_PARENT_PID", "12ab", 1);
    launcher_watch_start(&w);
    CHECK(w.pid == 0);
    unsetenv("JPY_PARENT_PID");
}

int main(void)
{
    test_parse();
    test_no_variable_no_watch();
    test_launcher_death_is_seen();
    test_a_pid_that_is_not_an_ancestor_is_not_watched();
    return check_summary("launcher");
}
