import DriftSystem

/// `drift diff`'s hash comment lines for non-code drift (data), folded by directory when there
/// are many (incident 12, F2: a 50,000-file model under `data:` printed 50,000 comment lines
/// before a 69-line code diff). Code, config and secret lines are never folded.
struct DiffNoteFold {
    /// More foldable lines than this in one diff: one line a directory, change and class.
    static let threshold = 20

    private var lines: [(path: [UInt8], change: ChangeKind, fileClass: FileClass, line: String)] = []

    /// Keeps one per-path line of a non-code change.
    mutating func add(_ c: FileChange, line: String) {
        lines.append((c.path, c.change, c.fileClass, line))
    }

    /// The lines as they go into the header: per path up to the threshold; above it, one line a
    /// directory (a directory with one such path keeps that path's own line), after a line saying
    /// where each path is still listed.
    func render() -> String {
        if lines.count <= Self.threshold { return lines.map(\.line).joined() }
        struct Key: Hashable {
            var dir: [UInt8]
            var change: ChangeKind
            var fileClass: FileClass
        }
        var order: [Key] = []
        var groups: [Key: [Int]] = [:]
        for (k, l) in lines.enumerated() {
            let key = Key(dir: Self.directory(l.path), change: l.change, fileClass: l.fileClass)
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(k)
        }
        var out = "# drift: \(lines.count) non-code paths summarised by directory "
            + "(each is listed by drift scan --format json)\n"
        for key in order {
            let members = groups[key] ?? []
            if members.count == 1 {
                out += lines[members[0]].line
                continue
            }
            let dir = key.dir.isEmpty ? "./" : PathBytes.display(key.dir + [UInt8(ascii: "/")])
            out += "# drift: \(dir): \(members.count) \(key.change.rawValue) (\(key.fileClass.rawValue))\n"
        }
        return out
    }

    /// The directory a path is directly in ("" for the root).
    static func directory(_ path: [UInt8]) -> [UInt8] {
        guard let slash = path.lastIndex(of: UInt8(ascii: "/")) else { return [] }
        return Array(path[..<slash])
    }
}
