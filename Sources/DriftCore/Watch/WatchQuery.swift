import DriftGit
import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What a `drift scan` says about the watcher it asked (report field `watcher`, `--log`
/// field `watcher`): whether the scan took the watcher's answer instead of walking the tree,
/// or why it did not (docs/operations.md, "Cron scans with a running watcher").
public struct WatcherUse: Codable, Sendable, Equatable {
    /// True: the watcher's answer (its model brought up to the query, the re-verification
    /// slice run) is this scan's result; no walk of the tree.
    public var used: Bool
    /// Why a normal scan ran instead (nil when `used`).
    public var reason: WatchFallback?
    /// The watcher's clean-point token the answer (or refusal) carried.
    public var token: String?
    /// Paths the watcher rescanned for this query (events not yet recorded), and cached files
    /// it re-hashed as this scan's re-verification slice.
    public var rescanned: Int?
    public var reverified: Int?
    /// How many of `reverified` the watcher re-hashed ahead, in its idle time since the last
    /// query (`AheadVerification`); the answer only stat-checked those.
    public var reverifiedAhead: Int?

    enum CodingKeys: String, CodingKey {
        case used, reason, token, rescanned, reverified
        case reverifiedAhead = "reverified_ahead"
    }

    public init(used: Bool, reason: WatchFallback? = nil, token: String? = nil) {
        self.used = used
        self.reason = reason
        self.token = token
    }
}

/// Why a scan did not use the watcher: each one means "walk everything" (git's fsmonitor
/// answering "/" for a token it does not know).
public enum WatchFallback: String, Codable, Sendable {
    /// `watch.json` says stopped, or the process it names is gone or is another process.
    case stopped
    /// The watcher has not finished its first scan.
    case starting
    /// Degraded (watch limit, unreadable directory, failed batch...): it relies on full scans itself.
    case degraded
    /// Events were lost (`IN_Q_OVERFLOW`) since the watcher's last periodic full scan.
    case overflow
    /// The token this state dir last used is not the watcher's (restarted, or a clean point
    /// broken since); the normal scan that follows adopts the new token.
    case restarted
    /// A mount appeared or went away at, below or above the root since the watcher's last
    /// full scan (a bind mount hides what the watches see).
    case mounts
    /// No answer on `SDIR/watch.sock` in time, or not from the process `watch.json` names.
    case noAnswer = "no-answer"
    /// The watcher watches another manifest directory, key or root than this scan's.
    case otherManifest = "other-manifest"
    /// The watcher could not bring its model up to the query (its batch failed).
    case error
    /// A file over a batch's hash budget is still being hashed: its verdict is not known yet.
    case examining
}

/// The query a scan sends on `SDIR/watch.sock` (one JSON line) and the watcher's answer (JSON,
/// then end of stream).
enum WatchQuery {
    static let socketName = "watch.sock"
    /// The token the last scan with this state dir used (written by scans only).
    static let tokenFile = "watch.token"
    /// How long a scan waits for the answer: the watcher answers between batches, so a long
    /// batch or full scan in progress makes this scan walk for itself instead.
    static let answerTimeout = 5.0

    struct Request: Codable {
        var schema = "drift.watch-query/1"
        var token: String?
        /// Canonical MDIR path, key path and `--root` of the asking scan (the key's and the
        /// root's bytes percent-escaped, `PathBytes.escape`: exact whatever their names).
        var manifest: String
        var publicKey: String?
        var root: String?
        enum CodingKeys: String, CodingKey {
            case schema, token, manifest, root
            case publicKey = "public_key"
        }
    }

    struct Answer: Codable {
        var schema = "drift.watch-answer/1"
        var token: String
        var reason: WatchFallback?
        var rescanned = 0
        var reverified = 0
        /// Optional: an answer from a watcher older than this field still decodes.
        var reverifiedAhead: Int?
        var report: ScanReport?
        enum CodingKeys: String, CodingKey {
            case schema, token, reason, rescanned, reverified, report
            case reverifiedAhead = "reverified_ahead"
        }
    }

    static func canonical(_ path: [UInt8]) -> String { PathBytes.escape(canonicalPath(path) ?? path) }

    /// A root (or key file) as the request carries it: canonical, then escaped (bytes, never decoded).
    static func rootToken(_ root: [UInt8]) -> String { PathBytes.escape(canonicalPath(root) ?? root) }

    /// Asks the running watcher for this scan's result.
    /// - Returns: the report and how it was obtained, or (nil, why not); nil, nil when no
    ///   watcher has ever used this state dir (nothing to say in the report).
    static func ask(state: StateDirectory, manifestDir: ManifestDirectory,
                    root: [UInt8]?) -> (ScanReport?, WatcherUse?) {
        guard let w = WatchStatus.read(state) else { return (nil, nil) }
        if w.phase == "stopped" || !w.isAlive { return (nil, WatcherUse(used: false, reason: .stopped)) }
        if w.phase != "watching" { return (nil, WatcherUse(used: false, reason: .starting)) }
        let known = (try? readWholeFile(state.file(tokenFile), limit: 4096, followSymlinks: false))
            .map { String(decoding: $0, as: UTF8.self) }
        let request = Request(token: known, manifest: canonical(manifestDir.path),
                              publicKey: manifestDir.publicKey.map(rootToken), root: root.map(rootToken))
        guard let line = try? JSONCoding.encode(request, pretty: false),
              let answer = exchange(state: state, watcher: w, line: oneLine(line)) else {
            return (nil, WatcherUse(used: false, reason: .noAnswer))
        }
        if let why = answer.reason { return (nil, WatcherUse(used: false, reason: why, token: answer.token)) }
        guard let report = answer.report else { return (nil, WatcherUse(used: false, reason: .error)) }
        var use = WatcherUse(used: true, token: answer.token)
        use.rescanned = answer.rescanned
        use.reverified = answer.reverified
        use.reverifiedAhead = answer.reverifiedAhead
        return (report, use)
    }

    /// The request as exactly one line: a byte left unread when the watcher closes would reset the answer.
    private static func oneLine(_ json: [UInt8]) -> [UInt8] {
        var b = json
        while b.last == UInt8(ascii: "\n") { b.removeLast() }
        return b + [UInt8(ascii: "\n")]
    }

    /// One connection: the peer must be the process `watch.json` names (pid and start time,
    /// from the kernel's `SO_PEERCRED`), running as this user or root.
    private static func exchange(state: StateDirectory, watcher w: WatchStatus, line: [UInt8]) -> Answer? {
        guard let s = try? UnixSocket.connect(path: state.file(socketName)),
              let peer = s.peer(), peer.pid == w.pid, peer.uid == SystemProcess.effectiveUserID || peer.uid == 0,
              let ticks = w.startTicks, WatchStatus.startTicks(of: peer.pid) == ticks,
              s.send(line) else { return nil }
        guard let bytes = s.receiveAll(limit: 1 << 28, timeout: answerTimeout) else { return nil }
        return try? JSONDecoder().decode(Answer.self, from: Data(bytes))
    }

    /// After a normal scan that a watcher refused (or could not be asked): the token it
    /// named becomes this state dir's, since this scan saw everything itself.
    static func adopt(_ use: WatcherUse?, state: StateDirectory) {
        guard let t = use?.token, !use!.used else { return }
        try? AtomicFile.write(Array(t.utf8), to: state.file(tokenFile), mode: 0o600, syncDirectory: false)
    }
}

extension ScanRunner {
    /// Asks a running `drift watch` for this scan's result instead of walking the tree (git's
    /// fsmonitor): the report when it answered, and what to say about the watcher either way
    /// (nil when no watcher ever used the state dir). Never for `--full` or `--upstream`.
    /// - Throws: `DriftError` for a `--log`/`--metrics` file inside the root (as `run` does).
    public func askWatcher() throws -> (report: ScanReport?, use: WatcherUse?) {
        if full || upstream != nil { return (nil, nil) }
        let (report, use) = WatchQuery.ask(state: state, manifestDir: manifestDir, root: root)
        if report != nil, !writeTargets.isEmpty {
            // The watcher answers only for this scan's root: `--root`, or the root of the same
            // manifest it verified (the report's `root` is display text, not a path).
            guard let rootBytes = root ?? manifestDir.unverifiedRoot() else {
                throw DriftError(.manifestInvalid, path: manifestDir.file(ManifestDirectory.manifestFile),
                                 "manifest has no root")
            }
            for t in writeTargets { try refuseWriteUnder(root: rootBytes, target: t.path, what: t.what) }
        }
        return (report, use)
    }

    /// After a normal scan the watcher declined: its token becomes this state dir's.
    public func adoptWatcherToken(_ use: WatcherUse?) {
        WatchQuery.adopt(use, state: state)
    }
}
