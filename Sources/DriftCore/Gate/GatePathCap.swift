/// How many paths of one entry the gate's text, annotations and SARIF name (docs/gate.md,
/// "Big entries"): a bulk export (a model unpacked as code) must not bury the other entries
/// nor exceed what CI keeps. `--format json` lists every path.
enum GatePathCap {
    /// Paths named per entry and list (not upstream, withheld); the rest are counted.
    static let perEntry = 20
    /// SARIF results in one run at most: GitHub code scanning keeps 5,000 of a run.
    static let sarifResults = 5000

    /// The paths after the first `perEntry`: how many, and the deepest directory holding
    /// them all, e.g. `models/llama-mini` — or, when they share none, the one holding most of
    /// them (more than half, by their first two components) with how many (`share`).
    static func rest(_ paths: [String]) -> Rest? {
        guard paths.count > perEntry else { return nil }
        let hidden = paths[perEntry...]
        if let all = commonDirectory(hidden) { return Rest(count: hidden.count, under: all, share: nil) }
        // Only a group of more than half of them, none quoted, can be named: with half or more
        // quoted none can, and grouping 100,000 quoted names (Characters) would be for nothing.
        let quoted = hidden.reduce(0) { $0 + ($1.hasPrefix("\"") ? 1 : 0) }
        guard (hidden.count - quoted) * 2 > hidden.count else {
            return Rest(count: hidden.count, under: nil, share: nil)
        }
        var groups: [String: [String]] = [:]
        for p in hidden {
            let key = p.split(separator: "/").dropLast().prefix(2).joined(separator: "/")
            groups[key, default: []].append(p)
        }
        guard let top = groups.max(by: { $0.value.count < $1.value.count }), top.value.count * 2 > hidden.count,
              let under = commonDirectory(top.value) else {
            return Rest(count: hidden.count, under: nil, share: nil)
        }
        return Rest(count: hidden.count, under: under, share: top.value.count)
    }

    /// An entry's paths past the cap.
    struct Rest {
        var count: Int
        /// The directory holding all of them (`share` nil) or `share` of them; nil: none.
        var under: String?
        var share: Int?
    }

    /// The longest run of whole leading components every path shares, short of the last.
    static func commonDirectory<C: Collection>(_ paths: C) -> String? where C.Element == String {
        // A quoted path (odd bytes) has no plain directory to name.
        guard let first = paths.first, !paths.contains(where: { $0.hasPrefix("\"") }) else { return nil }
        var common = Array(first.split(separator: "/", omittingEmptySubsequences: false).dropLast())
        for p in paths.dropFirst() where !common.isEmpty {
            let dirs = p.split(separator: "/", omittingEmptySubsequences: false).dropLast()
            var n = 0
            for (a, b) in zip(common, dirs) {
                guard a == b else { break }
                n += 1
            }
            common.removeLast(common.count - n)
        }
        return common.isEmpty ? nil : common.joined(separator: "/")
    }

    /// `… and 49980 more not upstream under models/llama-mini/`, or `… and 49982 more not
    /// upstream (49980 under models/llama-mini/)` (the words after `more`: `what`).
    static func moreLine(_ rest: Rest, what: String) -> String {
        let head = "\u{2026} and \(rest.count) more \(what)"
        guard let under = rest.under else { return head }
        return rest.share.map { head + " (\($0) under \(under)/)" } ?? head + " under \(under)/"
    }
}
