#if canImport(Glibc)
import Glibc
#endif

/// SIGTERM, SIGINT and SIGHUP turned into bytes on a pipe the event loop polls.
///
/// A self-pipe rather than `signalfd`: signalfd needs the signals blocked in every thread,
/// and Dispatch may have started threads before `drift watch` runs. A handler installed
/// with `sigaction` runs in whichever thread gets the signal; it only writes one byte.
public final class SignalPipe {
    /// The write end, for the handler (a C function cannot capture context).
    nonisolated(unsafe) static var writeFD: Int32 = -1

    public let readFD: Int32
    /// SIGHUP, as `drain` reports it (reload); the others ask to stop.
    public static let hangup = SIGHUP
    private let writeFD: Int32

    public init() throws {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw DriftError(.io, "cannot create the signal pipe", errno: .current) }
        for fd in fds {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        readFD = fds[0]
        writeFD = fds[1]
        Self.writeFD = fds[1]
        for sig in [SIGTERM, SIGINT, SIGHUP] {
            var sa = sigaction()
            sa.__sigaction_handler.sa_handler = signalPipeHandler
            // Restart interrupted reads and writes: a scan in progress is not disturbed.
            sa.sa_flags = SA_RESTART
            sigemptyset(&sa.sa_mask)
            sigaction(sig, &sa, nil)
        }
        // A parent may have started us with these blocked (the mask survives exec).
        var set = sigset_t()
        sigemptyset(&set)
        for sig in [SIGTERM, SIGINT, SIGHUP] { sigaddset(&set, sig) }
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }

    deinit {
        for sig in [SIGTERM, SIGINT, SIGHUP] { signal(sig, SIG_DFL) }
        Self.writeFD = -1
        close(readFD)
        close(writeFD)
    }

    /// Signals received since the last call, in order.
    public func drain() -> [Int32] {
        var out: [Int32] = []
        var buf = [UInt8](repeating: 0, count: 64)
        while true {
            let n = buf.withUnsafeMutableBytes { read(readFD, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            out += buf[0..<n].map { Int32($0) }
        }
        return out
    }
}

/// Async-signal-safe: one `write(2)`, errno preserved.
private func signalPipeHandler(_ sig: Int32) {
    let saved = errno
    var b = UInt8(truncatingIfNeeded: sig)
    _ = write(SignalPipe.writeFD, &b, 1)
    errno = saved
}
