import DriftGit
import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// How drift treats a path. `code` is the default for anything no list names.
public enum FileClass: String, Sendable, Codable, CaseIterable, Comparable {
    case code, config, data, ignore

    public static func < (a: FileClass, b: FileClass) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// A parsed policy file (format: policies/README.md).
public struct Policy: Sendable {
    static let schema = "drift.policy/1"

    var ignore = PatternList([])
    public var code = PatternList([])
    var config = PatternList([])
    public var data = PatternList([])
    var secrets = PatternList([])
    /// Environment variable names whose values are secrets (matched upper-cased).
    var secretNames = Policy.defaultSecretNames
    var generated = PatternList([])
    /// Files larger than this are recorded by hash only in the journal.
    var sizeLimit: Int64 = 16 << 20
    /// Parsed when the policy loads: a bad value is a load error naming the file and line.
    public var deadline: PolicyDeadline?
    /// What stops a drifted path's deadline clock: its export (default) or the push of it.
    var deadlineStop: DeadlineStop = .export
    /// Every file is re-hashed at least once every this many scans, stat cache or not.
    var reverifyEvery: Int = ReverifySlice.defaultEvery
    var pipAllow: [String] = []
    /// Whether entries named like git's own directory in a spelling git refuses (`.git`,
    /// `.GIT`, `GIT~1`, `.git.`, …: `GitNames`) are ignored with all below them. On unless a
    /// policy says `ignore_git_dirs: false`; then they are withheld by name instead.
    var ignoreGitDirs = true
    public var waivers: [Waiver] = []
    /// The file's exact bytes (copied into the manifest directory).
    var source: [UInt8] = []

    /// The built-in default policy (policies/default.yaml compiled in).
    static func builtIn() throws -> Policy {
        try Policy.parse(PackageResources.default_yaml, file: Array("<built-in default policy>".utf8))
    }

    /// Loads a policy file; every problem is `file:line: problem`.
    public static func load(path: [UInt8]) throws -> Policy {
        try parse(try readWholeFile(path, limit: 4 << 20), file: path)
    }

    /// `load(path:)` with the file named by text (a test's policy).
    static func load(path: String) throws -> Policy { try load(path: Array(path.utf8)) }

    /// `parse(_:file:)` with the file named by text (a test's policy).
    static func parse(_ bytes: [UInt8], file: String) throws -> Policy {
        try parse(bytes, file: Array(file.utf8))
    }

    /// Parses policy YAML from bytes.
    public static func parse(_ bytes: [UInt8], file: [UInt8]) throws -> Policy {
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw DriftError(.policyInvalid, path: file, line: 1, "policy is not valid UTF-8")
        }
        let node: YAMLNode?
        do throws(YAMLError) {
            node = try YAMLSubset.parse(bytes)
        } catch {
            throw DriftError(.policyInvalid, path: file, line: error.line, error.message)
        }
        var policy = Policy()
        policy.source = bytes
        guard let root = node else { return policy }
        guard let map = root.mapping else {
            throw DriftError(.policyInvalid, path: file, line: line(root),
                "policy must be a mapping of keys (ignore, config, data, code, secrets, ...)")
        }
        for (k, v) in map {
            guard let key = k.string else {
                throw DriftError(.policyInvalid, path: file, line: line(k), "keys must be strings")
            }
            try policy.set(key, v, keyNode: k, file: file)
        }
        return policy
    }

    /// One top-level key: the schema, a class's patterns, `pip`, `waivers`, or a setting.
    private mutating func set(_ key: String, _ v: YAMLNode, keyNode k: YAMLNode, file: [UInt8]) throws {
        switch key {
        case "schema", "version":
            let s = v.string ?? ""
            if key == "schema" && s != Self.schema {
                throw DriftError(.policyInvalid, path: file, line: Self.line(v),
                    "unsupported schema '\(s)' (expected \(Self.schema))")
            }
        case "ignore": ignore = try Self.patterns(v, key, file)
        case "code": code = try Self.patterns(v, key, file)
        case "config": config = try Self.patterns(v, key, file)
        case "data": data = try Self.patterns(v, key, file)
        case "secrets": secrets = try Self.patterns(v, key, file)
        case "generated": generated = try Self.patterns(v, key, file)
        case "secret_names": secretNames = try Self.patterns(v, key, file, upperCased: true)
        case "pip":
            guard let m = v.mapping else {
                throw DriftError(.policyInvalid, path: file, line: Self.line(v), "pip must be a mapping with 'allow'")
            }
            for (pk, pv) in m {
                guard pk.string == "allow" else {
                    throw DriftError(.policyInvalid, path: file, line: Self.line(pk),
                        "unknown key 'pip.\(pk.string ?? "?")'")
                }
                pipAllow = try Self.strings(pv, "pip.allow", file)
            }
        case "waivers":
            waivers = try Self.waivers(v, file)
        default:
            try setSetting(key, v, keyNode: k, file: file)
        }
    }

    /// A scalar setting: `size_limit`, `reverify_every`, `deadline`, `deadline_stop`,
    /// `ignore_git_dirs`; any other key is unknown.
    private mutating func setSetting(_ key: String, _ v: YAMLNode, keyNode k: YAMLNode, file: [UInt8]) throws {
        func bad(_ what: String) -> DriftError { DriftError(.policyInvalid, path: file, line: Self.line(v), what) }
        switch key {
        case "size_limit":
            guard let s = v.string, let n = Self.parseSize(s) else {
                throw bad("size_limit must be a size like 16MiB or 1048576")
            }
            sizeLimit = n
        case "reverify_every":
            let lo = ReverifySlice.minimumEvery
            guard let s = v.string, let n = Int(s), (lo...1_000_000).contains(n) else {
                throw bad("reverify_every must be a number of scans from \(lo) to 1000000")
            }
            reverifyEvery = n
        case "deadline":
            guard let s = v.string else { throw bad("deadline must be like 24h, 90m, 2d or end-of-day [TZ]") }
            do {
                deadline = try PolicyDeadline(parsing: s)
            } catch let e as DriftError {
                throw bad(e.message)
            }
        case "deadline_stop":
            guard let s = v.string, let stop = DeadlineStop(rawValue: s) else {
                throw bad("deadline_stop must be export or push")
            }
            deadlineStop = stop
        case "ignore_git_dirs":
            guard let b = v.string.flatMap(Self.bool) else { throw bad("ignore_git_dirs must be true or false") }
            ignoreGitDirs = b
        default:
            throw DriftError(.policyInvalid, path: file, line: Self.line(k), "unknown class or key '\(key)' " +
                "(classes: ignore, config, data, code; " +
                "keys: secrets, secret_names, generated, size_limit, reverify_every, deadline, "
                + "deadline_stop, pip, waivers, ignore_git_dirs)")
        }
    }

    private static func line(_ n: YAMLNode) -> Int { n.line }

    private static func bool(_ s: String) -> Bool? {
        switch s {
        case "true": return true
        case "false": return false
        default: return nil
        }
    }

    private static func isNullScalar(_ s: String) -> Bool { s.isEmpty || s == "~" || s == "null" }

    private static func strings(_ v: YAMLNode, _ key: String, _ file: [UInt8]) throws -> [String] {
        if case .scalar(let s) = v, isNullScalar(s.string) { return [] }
        guard let seq = v.sequence else {
            throw DriftError(.policyInvalid, path: file, line: line(v), "'\(key)' must be a list of strings")
        }
        return try seq.map { item in
            guard case .scalar(let s) = item else {
                throw DriftError(.policyInvalid, path: file, line: line(item), "'\(key)' entries must be strings")
            }
            return s.string
        }
    }

    /// Secret-named environment variables when the policy has no `secret_names`
    /// (policies/default.yaml lists the same; policies/README.md).
    public static let defaultSecretNameTexts = [
        "*_KEY", "*_KEYS", "*_TOKEN", "*_TOKENS", "*_SECRET", "*SECRET_*", "*PASSWORD*", "*PASSWD*", "*_PASS",
        "*_PWD", "*_DSN", "*CREDENTIAL*", "*_AUTH", "*APIKEY*", "*API_KEY*", "*PRIVATE_KEY*", "*_SAS",
        "*_CONNECTION_STRING",
    ]

    public static let defaultSecretNames = PatternList(defaultSecretNameTexts.compactMap { try? PathPattern($0) })

    private static func patterns(_ v: YAMLNode, _ key: String, _ file: [UInt8],
                                 upperCased: Bool = false) throws -> PatternList {
        if case .scalar(let s) = v, isNullScalar(s.string) { return PatternList([]) }
        guard let seq = v.sequence else {
            throw DriftError(.policyInvalid, path: file, line: line(v), "'\(key)' must be a list of patterns")
        }
        return PatternList(try seq.map { item in
            guard case .scalar(let s) = item else {
                throw DriftError(.policyInvalid, path: file, line: line(item), "'\(key)' entries must be strings")
            }
            do {
                return try PathPattern(upperCased ? s.string.uppercased() : s.string, line: line(item))
            } catch let e as PatternError {
                throw DriftError(.policyInvalid, path: file, line: line(item), "bad pattern in '\(key)': \(e.problem)")
            }
        })
    }

    private static func waivers(_ v: YAMLNode, _ file: [UInt8]) throws -> [Waiver] {
        guard let seq = v.sequence else {
            throw DriftError(.policyInvalid, path: file, line: line(v),
                "'waivers' must be a list of {id, reason, expires}")
        }
        return try seq.map { item in
            guard let m = item.mapping else {
                throw DriftError(.policyInvalid, path: file, line: line(item),
                    "a waiver must be a mapping {id, reason, expires}")
            }
            var id: String?, reason = "", expires: String?
            var expiresLine = line(item)
            for (k, val) in m {
                switch k.string {
                case "id": id = val.string
                case "reason": reason = val.string ?? ""
                case "expires":
                    expires = val.string
                    expiresLine = line(val)
                default: throw DriftError(.policyInvalid, path: file, line: line(k),
                    "unknown waiver key '\(k.string ?? "?")'")
                }
            }
            guard let i = id, !i.isEmpty else {
                throw DriftError(.policyInvalid, path: file, line: line(item), "waiver without an id")
            }
            guard let e = expires else {
                throw DriftError(.policyInvalid, path: file, line: line(item), "waiver '\(i)' needs expires as " +
                    "an RFC 3339 time or a YYYY-MM-DD date")
            }
            do {
                return try Waiver(id: i, reason: reason, expires: e)
            } catch let err as DriftError {
                throw DriftError(.policyInvalid, path: file, line: expiresLine, err.message)
            }
        }
    }

    /// Parses `16MiB`, `512KiB`, `1G`, `1048576`.
    static func parseSize(_ s: String) -> Int64? {
        let t = s.trimmingSpaces()
        let units: [(String, Int64)] = [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10),
                                        ("GB", 1_000_000_000), ("MB", 1_000_000), ("KB", 1000),
                                        ("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10), ("B", 1)]
        for (u, m) in units where t.hasSuffix(u) {
            guard let n = Int64(t.dropLast(u.count).trimmingSpaces()), n >= 0 else { return nil }
            // Checked: 9999999999GiB is an error, not a trap.
            let (v, overflow) = n.multipliedReportingOverflow(by: m)
            return overflow ? nil : v
        }
        guard let n = Int64(t), n >= 0 else { return nil }
        return n
    }
}
