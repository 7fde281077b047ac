import DriftGit
import DriftSystem
/// A value of drift's YAML subset (policies/README.md): every scalar is a string (no type
/// resolution: `16MiB`, `24h` and `2026-12-31` stay text), `line` numbers are 1-based.
enum YAMLNode: Sendable, Equatable {
    case scalar(YAMLScalar)
    case sequence([YAMLNode], line: Int)
    case mapping([YAMLPair], line: Int)

    /// The line the node starts on (a collection: its first entry or its opening bracket).
    var line: Int {
        switch self {
        case .scalar(let s): return s.line
        case .sequence(_, let line), .mapping(_, let line): return line
        }
    }

    /// The scalar's text; nil for a collection.
    var string: String? {
        if case .scalar(let s) = self { return s.string }
        return nil
    }

    /// The entries of a sequence; nil for anything else.
    var sequence: [YAMLNode]? {
        if case .sequence(let items, _) = self { return items }
        return nil
    }

    /// The pairs of a mapping in file order; nil for anything else.
    var mapping: [(key: YAMLNode, value: YAMLNode)]? {
        guard case .mapping(let pairs, _) = self else { return nil }
        return pairs.map { (key: YAMLNode.scalar($0.key), value: $0.value) }
    }
}

/// A scalar: plain, 'single-quoted' or "double-quoted" (escapes resolved). An empty value
/// (`key:` or `- `) is the empty string, as `~` and `null` stay their own text.
struct YAMLScalar: Sendable, Equatable {
    var string: String
    var line: Int
}

/// One `key: value` of a mapping; keys are unique within their mapping.
struct YAMLPair: Sendable, Equatable {
    var key: YAMLScalar
    var value: YAMLNode
}

/// Why a document is not in the subset; `message` starts with `YAML error:` (not YAML) or
/// `unsupported YAML:` (YAML drift does not read, e.g. anchors).
struct YAMLError: Error, Sendable, Equatable {
    var line: Int
    var message: String

    static func syntax(_ line: Int, _ problem: String) -> YAMLError {
        YAMLError(line: line, message: "YAML error: " + problem)
    }

    static func unsupported(_ line: Int, _ problem: String) -> YAMLError {
        YAMLError(line: line, message: "unsupported YAML: " + problem)
    }
}
