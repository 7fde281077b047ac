import DriftSystem

/// Incident 12, F9: a model unpacked outside `data:` is thousands of *code* files, and an export
/// shipped a 21.6 MB patch of them without a word. scan, status and export name, once, each
/// directory that holds more than `threshold` code files added: likely data the policy misses.
public enum BulkCodeAdds {
    /// More code files added than this under one directory is worth a note.
    public static let threshold = 1000

    /// The notes, one a directory, for the paths of added code files.
    /// - Parameters:
    ///   - paths: the added code files' paths, relative to the root.
    ///   - threshold: the count a directory must exceed (tests pass a small one).
    /// - Returns: lines, each ending in a newline, without a `drift:` prefix.
    public static func notes<S: Sequence>(_ paths: S, threshold: Int = threshold) -> [String]
    where S.Element == [UInt8] {
        var counts: [[UInt8]: Int] = [:]
        // Paths come sorted: a run of one parent is counted once up its ancestors, so a
        // million drifted paths cost a directory's worth of allocations, not four a path.
        var parentOfRun: ArraySlice<UInt8> = []
        var run = 0
        func flush() {
            var end = parentOfRun.endIndex
            if run == 0 || parentOfRun.isEmpty { return }
            counts[Array(parentOfRun), default: 0] += run
            while let slash = parentOfRun[..<end].lastIndex(of: UInt8(ascii: "/")) {
                counts[Array(parentOfRun[..<slash]), default: 0] += run
                end = slash
            }
        }
        for p in paths {
            let dir = p[..<(p.lastIndex(of: UInt8(ascii: "/")) ?? p.startIndex)]
            if run > 0 && dir.elementsEqual(parentOfRun) {
                run += 1
                continue
            }
            flush()
            parentOfRun = ArraySlice(dir)
            run = 1
        }
        flush()
        let big = counts.filter { $0.value > threshold }
        // The highest such directories, each followed down while one subdirectory holds all of
        // its files (models/ -> models/llama-mini/, whose layers each hold a part).
        let tops = big.keys.filter { d in !ancestors(d).contains { big[$0] != nil } }.sorted {
            $0.lexicographicallyPrecedes($1)
        }
        return tops.map { top in
            var dir = top
            let n = big[top] ?? 0
            while let child = big.first(where: { $0.value == n && parent($0.key) == dir }) { dir = child.key }
            let shown = PathBytes.display(dir + [UInt8(ascii: "/")])
            return "\(shown): \(grouped(n)) code files added: data? add `\(shown)` to `data:` in the policy "
                + "(policies/README.md)\n"
        }
    }

    /// The notes for a state's items (`drift status`): added code items, each one path.
    static func notes(items: [DriftState.Item]) -> [String] {
        let added = items.lazy.filter { $0.change == .added && ($0.fileClass ?? .code) == .code && $0.count == nil }
        return notes(added.compactMap { PathBytes.unescape($0.path.utf8) })
    }

    static func parent(_ d: [UInt8]) -> [UInt8] {
        d.lastIndex(of: UInt8(ascii: "/")).map { Array(d[..<$0]) } ?? []
    }

    static func ancestors(_ d: [UInt8]) -> [[UInt8]] {
        var out: [[UInt8]] = []
        var cur = parent(d)
        while !cur.isEmpty {
            out.append(cur)
            cur = parent(cur)
        }
        return out
    }

    /// 50000 as "50,000".
    static func grouped(_ n: Int) -> String {
        let digits = Array(String(n))
        var out = ""
        for (k, ch) in digits.enumerated() {
            if k > 0 && (digits.count - k) % 3 == 0 { out += "," }
            out.append(ch)
        }
        return out
    }
}

extension ScanReport {
    /// `BulkCodeAdds` notes for this report's added code files (`drift scan`).
    public var bulkCodeNotes: [String] {
        let r = rows
        let added = (0..<r.count).lazy.filter { r.change($0) == .added && r.fileClass($0) == .code }
        return BulkCodeAdds.notes(added.map { r.path($0) })
    }
}
