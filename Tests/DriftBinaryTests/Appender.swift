import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Appends one byte at a time to a file on its own thread, from `init` until `stop()`, so
/// anything that reads the file meanwhile races the appends (the moving-target tests).
final class Appender: Sendable {
    private let stopping = Atomic<Bool>(false)
    private let count = Atomic<Int>(0)
    private let done = DispatchSemaphore(value: 0)

    /// Starts appending to `path`; returns once the first byte is written.
    init(path: String) throws {
        let fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)
        guard fd >= 0 else { throw DriftTestError("\(path): cannot open: \(String(cString: strerror(errno)))") }
        let thread = Thread { [self] in
            var b: UInt8 = 0x78
            while !stopping.load(ordering: .relaxed) {
                if write(fd, &b, 1) == 1 { count.add(1, ordering: .relaxed) }
                usleep(200)
            }
            close(fd)
            done.signal()
        }
        thread.start()
        while count.load(ordering: .relaxed) == 0 { usleep(1000) }
    }

    /// Stops the thread and waits for it; returns how many bytes it appended.
    func stop() -> Int {
        stopping.store(true, ordering: .relaxed)
        done.wait()
        return count.load(ordering: .relaxed)
    }
}

/// An error of the test harness itself.
struct DriftTestError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
