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

    /// The scope of an ASCII path read in place, with no String or array made (a watch batch
    /// asks it of every drifted small file); nil for any other path (`lowercased()` maps some
    /// non-ASCII letters to ASCII ones, so those take the general way). Components are the
    /// non-empty runs between slashes, as `split` makes them.
    static func ascii(_ path: [UInt8]) -> SecretScope? {
        path.withUnsafeBufferPointer { p -> SecretScope? in
            for b in p where b >= 0x80 { return nil }
            // The last non-empty component is the name; every one before it a directory.
            var name: Range<Int>?
            var start = 0
            for i in 0...p.count where i == p.count || p[i] == 0x2F {
                if i > start {
                    if let dir = name, isTestDirectory(p, dir) { return .testFixture }
                    name = start..<i
                }
                start = i + 1
            }
            guard let name else { return .code }
            return isTestFile(p, name) ? .testFixture : .code
        }
    }

    private static let testDirectoryBytes = testDirectories.map { Array($0.utf8) }

    private static func isTestDirectory(_ p: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> Bool {
        testDirectoryBytes.contains { lowerEquals(p, r.lowerBound, r.count, $0) }
    }

    /// Whether the `count` bytes at `at`, ASCII-lowercased, are `b`.
    private static func lowerEquals(_ p: UnsafeBufferPointer<UInt8>, _ at: Int, _ count: Int, _ b: [UInt8]) -> Bool {
        guard count == b.count else { return false }
        for k in 0..<count where lower(p[at + k]) != b[k] { return false }
        return true
    }

    private static func lower(_ x: UInt8) -> UInt8 { x >= 0x41 && x <= 0x5A ? x | 0x20 : x }

    /// `isTestFile(_:)` of an ASCII name (lowercased as it is read).
    private static func isTestFile(_ p: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> Bool {
        func has(_ text: StaticString, at: Int) -> Bool {
            let n = text.utf8CodeUnitCount
            guard at >= r.lowerBound, at + n <= r.upperBound else { return false }
            let t = text.utf8Start
            for k in 0..<n where lower(p[at + k]) != t[k] { return false }
            return true
        }
        if r.count == 11 && has("conftest.py", at: r.lowerBound) { return true }
        if has("test_", at: r.lowerBound) { return true }
        guard let dot = r.first(where: { p[$0] == UInt8(ascii: ".") }), dot != r.lowerBound else { return false }
        if has("_test", at: dot - 5) || has("_tests", at: dot - 6) { return true }
        return has("test.", at: dot + 1) || has("spec.", at: dot + 1)
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
