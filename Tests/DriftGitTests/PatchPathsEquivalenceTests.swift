import DriftTestSupport
import Testing
@testable import DriftGit
@testable import DriftSystem

/// The patch reader reads lines in place, judges each path and directory once and reads git's
/// hunk headers from bytes (issue 28 round 13): the same paths, the same verdicts and the same
/// refusals as the reader before it (`PatchPathsReference`, kept here as it was), on random patches.
@Suite struct PatchPathsEquivalenceTests {
    /// A seeded generator, so a failing case is named by its seed.
    struct Rng {
        var state: UInt64
        mutating func next(_ n: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(n))
        }
        mutating func pick<T>(_ xs: [T]) -> T { xs[next(xs.count)] }
    }

    static let names: [String] = [
        "a.py", "src/app.py", "src/lib/x.py", "pkg/\u{E9}t/m.py", "pkg/\u{E9}t/n.py", "d/e f/g.txt",
        "/etc/passwd", "../x", "a/../../x", "a//b", ".git/config", "src/.Git/hooks/x", "GIT~1/config",
        "src/.gitignore", "x/", "q\"uote/a", "tab\there/a", "nl\nname/b", "esc\u{1B}x/c", "dev/null",
    ]

    /// A name as a header writes it: plain, C-quoted (as git quotes odd bytes) or badly quoted.
    static func spell(_ name: String, _ r: inout Rng) -> String {
        switch r.next(6) {
        case 0, 1: return name
        case 2, 3:
            var out = "\""
            for b in name.utf8 {
                switch b {
                case 0x22: out += "\\\""
                case 0x5C: out += "\\\\"
                case 0x0A: out += "\\n"
                case 0x09: out += "\\t"
                case 0x20..<0x7F: out += String(UnicodeScalar(b))
                default: out += "\\" + String(b, radix: 8).leftPadded(3)
                }
            }
            return out + "\""
        case 4: return "\"" + name
        default: return "\"" + name + "\\q\""
        }
    }

    static let hunkHeaders = [
        "@@ -0,0 +1 @@", "@@ -1,3 +1,4 @@ func", "@@ -1 +1 @@", "@@  -1,2 +1,2 @@", "@@ -1,2  +1,2 @@",
        "@@ -+1,2 +1,2 @@", "@@ --1 +1 @@", "@@ -1,2,3 +1 @@", "@@ -1,99999999999 +1 @@", "@@ -1 +1 @",
        "@@ -1 +1 @@\u{301}", "@@ -1 +1 @@x\u{301}", "@@ -0001,02 +1,0 @@", "@@ -1 +1,2147483648 @@",
        "@@ -1 +1,1234567890 @@", "@@ -a +1 @@", "@@ -1 +1 @@\r", "@@ -1 +1\r @@", "@@ -1, +1 @@",
        "@@ -1,2 +3,4 @@@", "@@ -1,2 +3,4", "@@ -0,0 +0,0 @@",
    ]

    static func patch(_ r: inout Rng) -> [UInt8] {
        var lines: [String] = []
        for _ in 0..<(1 + r.next(12)) {
            let name = r.pick(names)
            let other = r.next(5) == 0 ? r.pick(names) : name
            switch r.next(10) {
            case 0: lines.append("diff --git a/\(name) b/\(other)")
            case 1: lines.append("diff --git \(spell("a/" + name, &r)) \(spell("b/" + other, &r))")
            case 2: lines.append("rename from \(spell(name, &r))")
            case 3: lines.append("copy to \(spell(name, &r))\t")
            case 4: lines.append(r.next(2) == 0 ? "GIT binary patch" : "Binary files a/x and b/x differ")
            case 5: lines.append(r.pick(hunkHeaders))
            case 6: lines.append(r.pick(["+x", "-y", " z", "\\ No newline at end of file", "", "+++ b/x"]))
            default:
                lines.append("diff --git \(spell("a/" + name, &r)) \(spell("b/" + name, &r))")
                if r.next(2) == 0 { lines.append("new file mode 100644") }
                lines.append("--- " + (r.next(3) == 0 ? "/dev/null" : spell("a/" + name, &r)))
                lines.append("+++ " + spell("b/" + name, &r))
                lines.append(r.pick(hunkHeaders))
                for _ in 0..<r.next(4) { lines.append(r.pick(["+x", "-y", " z", "--- a/q", "+++ b/q", "@@ -1 +1 @@"])) }
            }
        }
        var text = lines.joined(separator: "\n")
        if r.next(2) == 0 { text += "\n" }
        var bytes = Array(text.utf8)
        if r.next(8) == 0, !bytes.isEmpty { bytes[r.next(bytes.count)] = UInt8(0x80 + r.next(0x80)) }
        return bytes
    }

    /// What a reader answers: its paths, or the refusal it throws.
    static func answer(_ read: () throws -> [[UInt8]]) -> Result<[[UInt8]], PatchPaths.Problem> {
        do { return .success(try read()) } catch let p as PatchPaths.Problem { return .failure(p) } catch {
            return .failure(.unreadable("other error \(error)"))
        }
    }

    @Test("random patches: the same paths and the same check verdict as the reader before")
    func samePathsAndVerdicts() throws {
        var checked = 0
        for seed in 0..<3000 {
            var r = Rng(state: UInt64(seed) &* 0x9E37_79B9_7F4A_7C15 &+ 1)
            let p = Self.patch(&r)
            let new = Self.answer { try PatchPaths.paths(p) }
            let old = Self.answer { try PatchPathsReference.paths(p) }
            #expect(new == old, "seed \(seed): \(String(decoding: p, as: UTF8.self))")
            let newCheck = Self.answer { try PatchPaths.check(p); return [] }
            let oldCheck = Self.answer { try PatchPathsReference.check(p); return [] }
            #expect(newCheck == oldCheck, "seed \(seed): \(String(decoding: p, as: UTF8.self))")
            if case .success = oldCheck { checked += 1 }
        }
        // Both verdicts are exercised: some random patches pass, most carry an unsafe name.
        #expect(checked > 100 && checked < 2900)
    }

    @Test("a path's safety remembered by directory: the same verdict as the rule asked path by path")
    func memoAgreesWithRule() {
        var r = Rng(state: 11)
        let parts = ["a", "src", ".git", "..", ".", "", "GIT~1", "\u{E9}t", "x y", ".gitignore", "m.py", "\u{200C}.git"]
        let modes: [GitFileMode] = [.blob, .tree, .executable, .symlink, .commit]
        for _ in 0..<200 {
            var memo = SafePathMemo()
            for _ in 0..<50 {
                let path = Array((0..<(1 + r.next(4))).map { _ in r.pick(parts) }.joined(separator: "/").utf8)
                let mode = r.pick(modes)
                let asked = GitNames.isSafePath(path, mode: mode)
                #expect(memo.isSafe(path, mode: mode) == asked, "\(PathBytes.display(path)) \(mode)")
                #expect(memo.isSafe(path, mode: mode) == asked, "again: \(PathBytes.display(path)) \(mode)")
            }
        }
    }

    @Test("hunk headers: the byte reading agrees with the String reading on every spelling tried")
    func sameHunkCounts() {
        var r = Rng(state: 7)
        let alphabet: [String] = ["@", "@@", " ", "  ", "-", "+", ",", "0", "1", "9", "12", "\u{301}", "x", "\r",
                                  "2147483647", "2147483648", "99999999999999999999"]
        var spellings = Self.hunkHeaders
        for _ in 0..<20000 { spellings.append("@@ " + (0..<r.next(10)).map { _ in r.pick(alphabet) }.joined()) }
        for s in spellings {
            let new = PatchPaths.hunkCounts(Array(s.utf8))
            let old = PatchPathsReference.hunkCounts(Array(s.utf8))
            #expect(new?.old == old?.old && new?.new == old?.new, "\(s.debugDescription)")
        }
    }
}

private extension String {
    func leftPadded(_ n: Int) -> String { String(repeating: "0", count: max(0, n - count)) + self }
}
