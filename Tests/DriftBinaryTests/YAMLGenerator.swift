import Foundation
@testable import DriftCore
@testable import DriftGit
@testable import DriftSystem

/// Random documents of the YAML subset for the round-trip property: a random tree, written
/// out in randomly chosen styles (block or flow, compact entries, plain or quoted scalars,
/// comments, blank lines, multi-line flow), must parse back to the same tree.
struct YAMLGenerator {
    indirect enum Tree {
        case text(String)
        case list([Tree])
        case map([(String, Tree)])

        /// The same rendering as `yamlRender` gives a parsed node.
        var rendered: String {
            switch self {
            case .text(let s): return "\"" + s + "\""
            case .list(let items): return "[" + items.map(\.rendered).joined(separator: ", ") + "]"
            case .map(let pairs): return "{" + pairs.map { $0.0 + ": " + $0.1.rendered }.joined(separator: ", ") + "}"
            }
        }
    }

    var rng: Fuzz.RNG
    private static let pieces = ["a", "Z", "7", "/", ".", "-", "*", "é", " ", "#", ":", "'", "\"", "\\", "\t", "[",
                                 "!", "ü", "😀", "~", ",", "{", "b", "c", "x", "9", "Ω", "q", "r"]

    mutating func chance(_ n: Int) -> Bool { rng.below(n) == 0 }

    mutating func tree(depth: Int) -> Tree {
        switch depth > 5 ? 0 : rng.below(depth < 3 ? 3 : 5) {
        case 1: return .list((0..<rng.below(5)).map { _ in tree(depth: depth + 1) })
        case 2:
            let keys = Set((0..<rng.below(5)).map { _ in "k\(rng.below(50))" })
            return .map(keys.sorted().map { ($0, tree(depth: depth + 1)) })
        default:
            return .text((0..<rng.below(8)).map { _ in Self.pieces[rng.below(Self.pieces.count)] }.joined())
        }
    }

    /// A whole document whose top level is `root` (a mapping or a list).
    mutating func document(_ root: Tree) -> String {
        var out = chance(4) ? "---\n" : ""
        for line in block(root, indent: 0) {
            out += line + (chance(6) ? "   # note" : "") + "\n"
            if chance(8) { out += chance(2) ? "\n" : String(repeating: " ", count: rng.below(6)) + "# comment\n" }
        }
        return out
    }

    /// Lines of a non-empty collection in block style at `indent`.
    mutating func block(_ t: Tree, indent: Int) -> [String] {
        let pad = String(repeating: " ", count: indent)
        var lines: [String] = []
        switch t {
        case .map(let pairs):
            for (k, v) in pairs {
                let key = chance(5) ? "\"" + k + "\"" : k
                lines += entry(pad + key + ":", v, indent: indent, sameIndentList: true)
            }
        case .list(let items):
            for v in items { lines += entry(pad + "-", v, indent: indent, sameIndentList: false) }
        case .text(let s):
            lines.append(pad + scalar(s, inFlow: false))
        }
        return lines
    }

    /// `head` (`key:` or `-`) followed by the value inline, compact or on the next lines.
    mutating func entry(_ head: String, _ v: Tree, indent: Int, sameIndentList: Bool) -> [String] {
        if case .text(let s) = v {
            return [s.isEmpty && chance(2) ? head : head + " " + scalar(s, inFlow: false)]
        }
        if v.isEmpty || chance(3) { return [head + " " + flow(v)] }
        if !sameIndentList && chance(2) {
            var nested = block(v, indent: indent + 2)
            nested[0] = head + " " + nested[0].dropFirst(indent + 2)
            return nested
        }
        if case .list = v, sameIndentList, chance(2) { return [head] + block(v, indent: indent) }
        return [head] + block(v, indent: indent + 2 + rng.below(3))
    }

    mutating func flow(_ t: Tree) -> String {
        let sep = chance(4) ? ",\n   " : ", "
        switch t {
        case .text(let s): return scalar(s, inFlow: true)
        case .list(let items): return "[" + items.map { flow($0) }.joined(separator: sep) + "]"
        case .map(let pairs): return "{" + pairs.map { $0.0 + ": " + flow($0.1) }.joined(separator: sep) + "}"
        }
    }

    /// Plain when safe, else 'single' or "double" quoted (with escapes).
    mutating func scalar(_ s: String, inFlow: Bool) -> String {
        let safe = s.unicodeScalars.allSatisfy {
            $0.properties.isAlphabetic || ("0"..."9").contains($0) || "/.".unicodeScalars.contains($0)
        }
        if !s.isEmpty && safe && chance(2) { return s }
        if chance(2) { return "'" + s.replacingOccurrences(of: "'", with: "''") + "'" }
        var out = "\""
        for ch in s.unicodeScalars {
            switch ch {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\t": out += chance(2) ? "\\t" : "\t"
            case "é": out += chance(2) ? "\\u00e9" : "é"
            case "😀": out += chance(2) ? "\\U0001F600" : "😀"
            default: out.unicodeScalars.append(ch)
            }
        }
        return out + "\""
    }
}

extension YAMLGenerator.Tree {
    var isEmpty: Bool {
        switch self {
        case .text: return false
        case .list(let items): return items.isEmpty
        case .map(let pairs): return pairs.isEmpty
        }
    }
}
