#if canImport(Glibc)
import Glibc
#endif
import CSys

/// Runs a program with bytes on its stdin and collects its stdout: `posix_spawn`, not
/// Foundation's `Process` (full Foundation; the dist binary links FoundationEssentials only).
///
/// Descriptor and signal hygiene, so the child sees only what it is given:
/// - both pipes are made `O_CLOEXEC` atomically, and the child closes every descriptor from 3
///   up before exec: nothing drift holds (state lock, journal, root directory) leaks into it;
/// - stdin and stdout are the pipes, stderr is `/dev/null`;
/// - the child starts with an empty signal mask and every signal at its default disposition
///   (drift ignores SIGPIPE; the child must not inherit that);
/// - stdin is written while stdout is read (`poll`), so a child that answers before it has
///   read everything cannot deadlock either side; a child that stops reading ends the input
///   (EPIPE), it does not kill drift;
/// - every call is retried on EINTR, and every descriptor is closed on every path.
public enum Subprocess {
    /// How the child ended.
    public enum Termination: Sendable, Equatable {
        /// `exit(code)`.
        case exited(Int32)
        /// Killed by a signal.
        case signalled(Int32)
    }

    /// What a run produced.
    public struct Outcome: Sendable {
        public var termination: Termination
        /// Everything the child wrote to stdout.
        public var standardOutput: [UInt8]
        /// Whether it exited with status 0.
        public var succeeded: Bool { termination == .exited(0) }
    }

    /// Why no outcome: the child was never started, or its pipes failed.
    public enum Failure: Error, Sendable, Equatable {
        case pipe(Errno)
        case spawn(Errno)
        case io(Errno)
    }

    /// Runs `executable` (an absolute path, no `PATH` search) with `arguments` (argv[1...];
    /// argv[0] is `executable`) and exactly `environment` (`NAME=value` strings).
    public static func run(_ executable: String, arguments: [String], environment: [String],
                           input: [UInt8]) throws(Failure) -> Outcome {
        // A write into a pipe whose reader died must fail with EPIPE, not kill drift.
        signal(SIGPIPE, SIG_IGN)
        var inFds: [Int32] = [-1, -1]
        var outFds: [Int32] = [-1, -1]
        guard drift_pipe_cloexec(&inFds) == 0 else { throw .pipe(.current) }
        guard drift_pipe_cloexec(&outFds) == 0 else {
            let e = Errno.current
            closeAll(inFds)
            throw .pipe(e)
        }
        let pid: pid_t
        do {
            pid = try spawn(executable, [executable] + arguments, environment, stdin: inFds[0], stdout: outFds[1])
        } catch {
            closeAll(inFds + outFds)
            throw error
        }
        close(inFds[0])
        close(outFds[1])
        let exchanged = exchange(input, into: inFds[1], from: outFds[0])
        let status = wait(pid)
        switch exchanged {
        case .success(let out): return Outcome(termination: status, standardOutput: out)
        case .failure(let e): throw .io(e)
        }
    }

    private static func closeAll(_ fds: [Int32]) {
        for fd in fds where fd >= 0 { close(fd) }
    }

    private static func spawn(_ exe: String, _ args: [String], _ vars: [String],
                              stdin: Int32, stdout: Int32) throws(Failure) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // dup2 clears close-on-exec on the copy (also when the numbers are equal, glibc ≥ 2.29).
        posix_spawn_file_actions_adddup2(&actions, stdin, 0)
        posix_spawn_file_actions_adddup2(&actions, stdout, 1)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        drift_spawn_close_from(&actions, 3)
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attr, &none)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigdefault(&attr, &all)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = vars.map { strdup($0) } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid = pid_t()
        let rc = posix_spawn(&pid, exe, &actions, &attr, argv, envp)
        guard rc == 0 else { throw .spawn(Errno(rc)) }
        return pid
    }

    /// Writes `input` to `inFd` while reading `outFd` to its end; closes both.
    private static func exchange(_ input: [UInt8], into inFd: Int32, from outFd: Int32) -> Result<[UInt8], Errno> {
        var inOpen = true
        defer {
            if inOpen { close(inFd) }
            close(outFd)
        }
        var written = 0
        if input.isEmpty {
            close(inFd)
            inOpen = false
        } else {
            _ = fcntl(inFd, F_SETFL, fcntl(inFd, F_GETFL) | O_NONBLOCK)
        }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65_536)
        while true {
            var fds = [pollfd(fd: outFd, events: Int16(POLLIN), revents: 0)]
            if inOpen { fds.append(pollfd(fd: inFd, events: Int16(POLLOUT), revents: 0)) }
            if poll(&fds, nfds_t(fds.count), -1) < 0 {
                if errno == EINTR { continue }
                return .failure(.current)
            }
            if inOpen && fds[1].revents != 0 {
                let n = input.withUnsafeBytes { write(inFd, $0.baseAddress! + written, $0.count - written) }
                if n > 0 {
                    written += n
                } else if n < 0 && (errno == EINTR || errno == EAGAIN) {
                    continue
                }
                // All written, or the child stopped reading (EPIPE): its exit status tells.
                if n <= 0 || written == input.count {
                    close(inFd)
                    inOpen = false
                }
            }
            if fds[0].revents != 0 {
                let n = buf.withUnsafeMutableBytes { read(outFd, $0.baseAddress, $0.count) }
                if n > 0 {
                    out += buf[0..<n]
                } else if n == 0 {
                    return .success(out)
                } else if errno != EINTR && errno != EAGAIN {
                    return .failure(.current)
                }
            }
        }
    }

    /// Reaps `pid`, retrying on EINTR.
    private static func wait(_ pid: pid_t) -> Termination {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 {
            // ECHILD (someone else reaped it) cannot tell how it ended: as if killed.
            if errno != EINTR { return .signalled(SIGKILL) }
        }
        let signal = status & 0x7f
        return signal == 0 ? .exited((status >> 8) & 0xff) : .signalled(signal)
    }
}
