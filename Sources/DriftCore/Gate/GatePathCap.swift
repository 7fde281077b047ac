/// How many paths of one entry the gate's text, annotations and SARIF name (docs/gate.md,
/// "Big entries"): a bulk export (a model unpacked as code) must not bury the other entries
/// nor exceed what CI keeps. `--format json` lists every path.
enum GatePathCap {
    /// Paths named per entry and list (not upstream, withheld); the rest are counted.
    static let perEntry = 20
    /// SARIF results in one run at most: GitHub code scanning keeps 5,000 of a run.
    static let sarifResults = 5000

    /// The paths after the first `perEntry`: how many, and the deepest directory holding
    /// them all (nil when they share none), e.g. `models/llama-mini`.
    static func rest(_ paths: [String]) -> (count: Int, under: String?)? {
        guard paths.count > perEntry else { return nil }
        let hidden = paths[perEntry...]
        return (hidden.count, commonDirectory(hidden))
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

    /// `… and 49980 more under models/llama-mini/` (the words after `more`: `what`).
    static func moreLine(_ rest: (count: Int, under: String?), what: String) -> String {
        "\u{2026} and \(rest.count) more \(what)" + (rest.under.map { " under \($0)/" } ?? "")
    }
}
