#if canImport(Glibc)
import Glibc
#endif

/// This process and others, by pid: the few calls the domain needs, so it never imports the
/// C library for them.
public enum SystemProcess {
    /// This process's pid.
    public static var currentID: Int32 { getpid() }

    /// This process's effective uid (whom a local socket's peer must be).
    public static var effectiveUserID: UInt32 { geteuid() }

    /// Whether a process `pid` exists: `kill(pid, 0)` succeeds, or fails for want of
    /// permission (it exists, owned by someone else). A pid that is not positive names a
    /// process group or every process, never one process: false.
    public static func exists(_ pid: Int32) -> Bool {
        guard pid > 0 else { return false }
        return kill(pid, 0) == 0 || errno == EPERM
    }

    /// Whether `pid` certainly names no process (`kill(pid, 0)` fails with `ESRCH`); any
    /// doubt (alive, not ours, not a valid pid) is false.
    public static func isGone(_ pid: Int32) -> Bool {
        guard pid > 0 else { return false }
        return kill(pid, 0) != 0 && errno == ESRCH
    }

    /// Sleeps the calling thread for about `seconds` (a signal may end it early).
    public static func sleep(seconds: Double) {
        guard seconds > 0 else { return }
        let micros = min(seconds, 3600) * 1_000_000
        _ = usleep(useconds_t(micros))
    }

    /// Seconds on the monotonic clock (timers that never jump with the wall clock).
    public static func monotonicSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}

/// Sleeps in `poll(2)` until one of `fds` is readable, a signal arrives, or `milliseconds`
/// pass (negative descriptors are ignored).
public func waitReadable(_ fds: [Int32], milliseconds: Int32) {
    var polled = fds.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
    _ = poll(&polled, nfds_t(polled.count), milliseconds)
}
