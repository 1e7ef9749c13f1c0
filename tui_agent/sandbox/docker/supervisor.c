/* tui-agent's in-container pid 1, built by the host (gcc -static, content-addressed) and bound read-only.
 *
 * It reads one command from stdin, runs it with /bin/sh -c, frames its output and exit code on stdout.
 * Static, so that nothing of the image takes part in it: no dynamic loader (LD_PRELOAD, /etc/ld.so.preload,
 * LD_LIBRARY_PATH are never read), no python3 of the image, no entrypoint, and the child gets only the
 * environment the host sent (the image's ENV is dropped).
 *
 * Host -> supervisor (stdin): 4-byte big-endian length, then: 8-byte big-endian output cap, 4-byte big-endian
 *   count N, N NUL-terminated "NAME=value" strings, then the command (the rest, no NUL in it).
 * Supervisor -> host (stdout), frames: 1 tag byte, 4-byte big-endian length, payload.
 *   'O' stdout bytes, 'E' stderr bytes, 'X' {"code": int, "truncated": bool} (the trailer, last).
 * Only this process writes to the container's stdout: the child gets fresh pipes and never holds our fds, and
 * we are not dumpable, so /proc/1/fd/1 is closed to the child (same uid, no capabilities). Frames carry
 * lengths, so nothing the child prints can be read as a trailer. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHUNK 65536
#define MAX_REQUEST (16u << 20)

static uint64_t cap, sent;
static int truncated;

static void read_exact(int fd, void *buf, size_t n) {
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, (char *)buf + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) _exit(0); /* the host went away before sending a command: nothing to do */
        got += (size_t)r;
    }
}

static void write_all(int fd, const void *buf, size_t n) {
    const char *p = buf;
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) _exit(125);
        p += w;
        n -= (size_t)w;
    }
}

static void frame(char tag, const void *payload, uint32_t n) {
    unsigned char head[5] = {(unsigned char)tag, n >> 24, n >> 16, n >> 8, n};
    write_all(1, head, 5);
    write_all(1, payload, n);
}

static void kill_all(void) { kill(-1, SIGKILL); } /* every other process of this pid namespace */

static uint64_t be(const unsigned char *p, int n) {
    uint64_t v = 0;
    for (int i = 0; i < n; i++) v = (v << 8) | p[i];
    return v;
}

/* Read what the child wrote to fd; 0 at end of file. */
static int pump(int fd, char tag) {
    static char buf[CHUNK];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0) return errno == EAGAIN || errno == EINTR;
    if (n == 0) return 0;
    if (truncated) return 1;
    uint64_t room = cap - sent;
    if ((uint64_t)n > room) {
        n = (ssize_t)room;
        truncated = 1;
        kill_all();
    }
    if (n) {
        sent += (uint64_t)n;
        frame(tag, buf, (uint32_t)n);
    }
    return 1;
}

static void child(const char *cmd, char **envp, int out_w, int err_w, sigset_t *old) {
    setsid();
    sigprocmask(SIG_SETMASK, old, NULL);
    for (int sig = 1; sig < 32; sig++) signal(sig, SIG_DFL);
    prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
    int adj = open("/proc/self/oom_score_adj", O_WRONLY);
    if (adj >= 0) {
        write(adj, "1000", 4); /* killed first under memory pressure */
        close(adj);
    }
    int null = open("/dev/null", O_RDONLY);
    if (null < 0 || dup2(null, 0) < 0 || dup2(out_w, 1) < 0 || dup2(err_w, 2) < 0) _exit(127);
    syscall(SYS_close_range, 3, ~0U, 0); /* ours are close-on-exec anyway; this is for anything inherited */
    char *argv[] = {"/bin/sh", "-c", (char *)cmd, NULL};
    execve("/bin/sh", argv, envp);
    _exit(127);
}

int main(void) {
    if (getpid() != 1) { /* kill(-1) below is only safe as the init of a pid namespace of its own */
        static const char why[] = "tui-agent-supervisor: not pid 1 of a container; refusing to run\n";
        write_all(2, why, sizeof why - 1);
        return 125;
    }
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    unsigned char head[4];
    read_exact(0, head, 4);
    uint32_t length = (uint32_t)be(head, 4);
    if (length < 12 || length > MAX_REQUEST) return 125;
    char *req = malloc(length + 1);
    if (!req) return 125;
    read_exact(0, req, length);
    req[length] = 0;
    cap = be((unsigned char *)req, 8);
    uint32_t count = (uint32_t)be((unsigned char *)req + 8, 4);
    if (count > 4096) return 125;
    char **envp = calloc(count + 1, sizeof *envp);
    char *p = req + 12, *end = req + length;
    for (uint32_t i = 0; i < count; i++) {
        char *nul = memchr(p, 0, (size_t)(end - p));
        if (!nul) return 125;
        envp[i] = p;
        p = nul + 1;
    }
    const char *cmd = p; /* up to req[length], which is NUL */

    sigset_t mask, old;
    sigemptyset(&mask);
    sigaddset(&mask, SIGCHLD);
    sigprocmask(SIG_BLOCK, &mask, &old);
    int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    int out[2], err[2];
    if (sfd < 0 || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC)) return 125;
    pid_t pid = fork();
    if (pid < 0) return 125;
    if (pid == 0) child(cmd, envp, out[1], err[1], &old);
    close(out[1]);
    close(err[1]);
    fcntl(out[0], F_SETFL, O_NONBLOCK);
    fcntl(err[0], F_SETFL, O_NONBLOCK);

    struct pollfd fds[4] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}, {sfd, POLLIN, 0}, {0, POLLIN, 0}};
    const char tags[2] = {'O', 'E'};
    int status = 0, done = 0;
    while (!done) {
        if (poll(fds, 4, -1) < 0) {
            if (errno == EINTR) continue;
            return 125;
        }
        for (int i = 0; i < 2; i++)
            if (fds[i].fd >= 0 && fds[i].revents && !pump(fds[i].fd, tags[i])) fds[i].fd = -1;
        if (fds[3].revents) {
            char junk[512];
            ssize_t n = read(0, junk, sizeof junk);
            if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) { /* the host went away: stop */
                kill_all();
                _exit(137);
            }
        }
        if (fds[2].revents) {
            struct signalfd_siginfo info;
            while (read(sfd, &info, sizeof info) > 0) {}
        }
        for (;;) { /* reap everything; our own child decides */
            int st;
            pid_t got = waitpid(-1, &st, WNOHANG);
            if (got <= 0) break;
            if (got == pid) {
                status = st;
                done = 1;
            }
        }
    }
    kill_all(); /* the run is over: orphans (daemonised sleepers) go now, before the trailer */
    for (int i = 0; i < 2; i++) /* drain what was written before the exit, without waiting for writers */
        while (fds[i].fd >= 0) {
            struct pollfd one = {fds[i].fd, POLLIN, 0};
            if (poll(&one, 1, 0) <= 0 || !pump(fds[i].fd, tags[i])) break;
        }
    int code = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
    char trailer[64];
    int n = snprintf(trailer, sizeof trailer, "{\"code\": %d, \"truncated\": %s}", code, truncated ? "true" : "false");
    frame('X', trailer, (uint32_t)n);
    _exit(code & 0xFF);
}
