#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Dispatch
import DriftSystem
import Synchronization

/// One self-rewriting progress line on stderr while files are hashed — only when stderr is
/// a terminal (never on a pipe, in a log, or under cron) and `NO_PROGRESS` is unset.
final class Progress: Sendable {
    private let stopped = Atomic<Bool>(false)
    private let started = Date()
    /// What the hashers count; handed to the verb that hashes.
    let counters = ProgressCounters()

    /// Starts the line, or returns nil when stderr is not a terminal.
    static func start() -> Progress? {
        guard Output.isTerminal(fd: 2), ProcessEnvironment.values["NO_PROGRESS"] == nil else { return nil }
        return Progress()
    }

    private init() {
        DispatchQueue.global(qos: .utility).async { [weak self] in self?.loop() }
    }

    private func loop() {
        var shown = false
        while !stopped.load(ordering: .relaxed) {
            SystemProcess.sleep(seconds: 0.25)
            let c = counters
            let f = c.files.load(ordering: .relaxed), b = c.bytes.load(ordering: .relaxed)
            let tf = c.totalFiles.load(ordering: .relaxed)
            if tf == 0 || stopped.load(ordering: .relaxed) { continue }
            let secs = max(0.001, Date().timeIntervalSince(started))
            let eta = f > 0 ? Double(tf - f) * secs / Double(f) : 0
            let mb = (Double(b) / 1e5).rounded() / 10
            let rate = Int((Double(b) / secs / 1e6).rounded())
            let etaSeconds = Int(max(0, eta).rounded())
            Output.stderr("\r\u{1B}[Khashing \(f)/\(tf) files, \(mb) MB, \(rate) MB/s, ETA \(etaSeconds)s")
            shown = true
        }
        if shown { Output.stderr("\r\u{1B}[K") }
    }

    /// Clears the line.
    func stop() {
        stopped.store(true, ordering: .relaxed)
        SystemProcess.sleep(seconds: 0.3)
    }
}
