/// Where content lives, as far as the credential rules care. The generic `secret assignment`
/// rule (a secret-sounding name and a random-looking value: the heuristic of last resort) does
/// not fire in a test fixture, where hand-made tokens that look random by every measure are the
/// norm (measured: docs/secrets.md, "False positives, measured"). Every known-format rule and
/// every secret value drift learns from a source (environment, PID 1, supervisord, secret
/// files) still applies there: a real key pasted into `tests/` is withheld like anywhere else.
public enum SecretScope: Sendable, Hashable {
    /// Code, config or data outside any test fixture: every rule applies.
    case code
    /// A file of a test suite (`tests/…`, `test_*.py`, `*_test.go`, `conftest.py`, …).
    case testFixture

    /// Directories whose files are a test suite's.
    static let testDirectories: Set<String> = ["test", "tests", "testing", "__tests__", "testdata"]

    /// The scope of a workspace-relative path (`/`-separated bytes); a path that is not valid
    /// UTF-8 in its test-naming parts simply is not a fixture.
    public init(path: [UInt8]) {
        if let fast = Self.ascii(path) {
            self = fast
            return
        }
        let parts = path.split(separator: 0x2F).map { String(decoding: $0, as: UTF8.self).lowercased() }
        guard let name = parts.last else {
            self = .code
            return
        }
        if parts.dropLast().contains(where: Self.testDirectories.contains) || Self.isTestFile(name) {
            self = .testFixture
        } else {
            self = .code
        }
    }

    /// The scope of an ASCII path without a String per component (a watch batch asks it of
    /// every drifted small file); nil for any other path (`lowercased()` maps some non-ASCII
    /// letters to ASCII ones, so those take the general way).
    private static func ascii(_ path: [UInt8]) -> SecretScope? {
        guard path.allSatisfy({ $0 < 0x80 }) else { return nil }
        let parts = path.split(separator: 0x2F)
        guard let name = parts.last else { return .code }
        for dir in parts.dropLast() where testDirectoryBytes.contains(where: { lowerEquals(dir, $0) }) {
            return .testFixture
        }
        return isTestFile(String(decoding: name, as: UTF8.self).lowercased()) ? .testFixture : .code
    }

    private static let testDirectoryBytes = testDirectories.map { Array($0.utf8) }

    private static func lowerEquals(_ a: ArraySlice<UInt8>, _ b: [UInt8]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { x, y in
            (x >= 0x41 && x <= 0x5A ? x | 0x20 : x) == y
        }
    }

    /// `test_x.py`, `x_test.go`, `x_tests.rs`, `x.test.js`, `x.spec.ts`, `conftest.py`.
    static func isTestFile(_ name: String) -> Bool {
        if name == "conftest.py" || name.hasPrefix("test_") { return true }
        guard let dot = name.firstIndex(of: "."), dot != name.startIndex else { return false }
        let stem = name[..<dot]
        if stem.hasSuffix("_test") || stem.hasSuffix("_tests") { return true }
        let rest = name[name.index(after: dot)...]
        return rest.hasPrefix("test.") || rest.hasPrefix("spec.")
    }
}
