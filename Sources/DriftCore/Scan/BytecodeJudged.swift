import DriftSystem

/// The pieces of `BytecodeCheck.apply`: sorting the changes by role, then verifying the
/// `__pycache__` pycs against their sources and the sourceless ones, each by an interpreter.
extension BytecodeCheck {
    /// One `apply` in progress: the changes passed on or flagged, the issues, the verdicts to cache.
    struct Judged {
        var out: [FileChange] = []
        var issues: [WalkIssue] = []
        var fresh = StatCache()
        /// Pycs handed to an interpreter.
        var verified = 0

        /// A pyc Python would load that is not what its source compiles to: `bytecode` drift.
        mutating func flag(_ c: FileChange) {
            var c = c
            c.change = .bytecode
            out.append(c)
        }

        /// A pyc found legitimate: its stat and hash are cached, so this version is not checked again.
        mutating func remember(_ c: FileChange, _ st: FileStat) {
            guard let d = c.new?.digest else { return }
            fresh.entries.append(StatCache.Record(path: c.path, entry: StatCache.Entry(
                size: st.size, mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs, inode: st.inode,
                device: st.device, digest: d)))
        }
    }

    /// Sorts the changes by role: non-bytecode passes through, noise and cached verdicts are
    /// settled here, the rest is returned to verify (`__pycache__` pycs, sourceless ones).
    func triage(_ changes: [FileChange], stats: [[UInt8]: FileStat], _ v: inout Judged)
        -> (pending: [(FileChange, PycName, FileStat)], sourceless: [(FileChange, FileStat)]) {
        var pending: [(FileChange, PycName, FileStat)] = []
        var sourceless: [(FileChange, FileStat)] = []
        var cursor = StatCache.Cursor()
        let directory = RootDirectory(path: root)
        func exists(_ rel: [UInt8]) -> Bool {
            if case .success = directory.lstat(rel) { return true }
            return false
        }
        /// The stat of a pyc to verify; nil when there is none or its cached verdict still holds (kept).
        func toVerify(_ c: FileChange, _ new: EntryState) -> FileStat? {
            guard let st = stats[c.path] else { return nil }
            if let hit = cursor.digest(cache, c.path, st), hit.digest == new.digest,
               reverify?.contains(c.path) != true {
                v.fresh.entries.append(StatCache.Record(path: c.path, entry: hit))
                return nil
            }
            return st
        }
        for c in changes {
            guard let role = Self.role(c.path) else {
                v.out.append(c)
                continue
            }
            // A pyc removed (or only its mode changed) is nothing Python runs: never upstream material.
            guard let new = c.new, c.change != .deleted, c.change != .mode else { continue }
            switch role {
            case .noise:
                continue
            case .cached(let name):
                // Python's open() follows a symlink; anything but a regular file is never legitimate.
                if new.kind != .regular {
                    if exists(name.source) { v.flag(c) }
                    continue
                }
                guard let st = toVerify(c, new) else { continue }
                pending.append((c, name, st))
            case .sourceless(let source):
                if exists(source) { continue }
                if new.kind != .regular {
                    v.flag(c)
                    continue
                }
                guard let st = toVerify(c, new) else { continue }
                sourceless.append((c, st))
            }
        }
        return (pending, sourceless)
    }

    /// `__pycache__` pycs: each read with its source and judged by an interpreter of its cache tag.
    func verifyCached(_ pending: [(FileChange, PycName, FileStat)], reader: FileReader, _ v: inout Judged) {
        var byTag: [String: [(FileChange, PycName, FileStat, [UInt8], [UInt8], FileStat)]] = [:]
        for (c, name, st) in pending {
            let pair: Pair?
            do { pair = try Self.readPair(reader, source: name.source, pyc: c.path) } catch {
                let why = "cannot read bytecode to verify it: \(readFailureReason(error))"
                v.issues.append(WalkIssue(path: c.path, message: why))
                continue
            }
            guard let pair else { continue }
            byTag[name.tag, default: []].append((c, name, st, pair.pyc, pair.source, pair.sourceStat))
        }
        for (tag, items) in byTag.sorted(by: { $0.key < $1.key }) {
            guard let verdicts = verify(tag: tag, items.map { ($0.1, $0.3, $0.4, $0.5) }) else {
                for it in items {
                    v.issues.append(WalkIssue(path: it.0.path, message: Self.noInterpreter(tag)))
                }
                continue
            }
            v.verified += items.count
            for (k, it) in items.enumerated() {
                if verdicts.codes[k] == UInt8(ascii: "F") { v.flag(it.0) } else { v.remember(it.0, it.2) }
            }
        }
    }

    /// Sourceless pycs: forged when any trusted interpreter would load them.
    func verifySourceless(_ sourceless: [(FileChange, FileStat)], reader: FileReader, _ v: inout Judged) {
        if sourceless.isEmpty { return }
        var bytes: [(FileChange, FileStat, [UInt8])] = []
        for (c, st) in sourceless {
            do { bytes.append((c, st, try reader.readAll(c.path, limit: Self.pycLimit))) } catch {
                let why = "cannot read bytecode to verify it: \(readFailureReason(error))"
                v.issues.append(WalkIssue(path: c.path, message: why))
            }
        }
        if let loadable = verifySourceless(bytes.map(\.2)) {
            v.verified += bytes.count
            for (k, it) in bytes.enumerated() {
                if loadable[k] { v.flag(it.0) } else { v.remember(it.0, it.1) }
            }
        } else {
            for it in bytes { v.issues.append(WalkIssue(path: it.0.path, message: Self.noInterpreter(nil))) }
        }
    }
}
