import Foundation
import DriftTestSupport
import Testing
@testable import DriftCore
@testable import DriftGit
@testable import DriftSystem

@Suite("Policy")
struct PolicyTests {
    /// Patterns and paths chosen to hit every gitignore rule: `*`, `**`, `?`, `[...]`,
    /// trailing `/`, leading `/`, `!`, last match wins, parent-directory exclusion.
    static let patterns = [
        "*.log", "!keep.log", "/build", "tmp/", "**/__pycache__/", "docs/**/*.md", "a/**/b",
        "?.txt", "data[0-9].csv", "[!x]y.bin", "foo/*", "!foo/bar", "**/cache", "deep/**",
        "*.pyc", "!important.pyc", "nested/dir/", "lit\\*star", "x/y/z.c", "*.[oa]",
    ]
    static let paths: [(String, Bool)] = [
        ("app.log", false), ("logs/app.log", false), ("keep.log", false), ("logs/keep.log", false),
        ("build", true), ("build/out.o", false), ("src/build", false), ("tmp", true), ("tmp/x", false),
        ("src/tmp", true), ("src/tmp/y", false), ("tmp.txt", false), ("__pycache__", true),
        ("pkg/__pycache__", true), ("pkg/__pycache__/m.pyc", false), ("docs/a.md", false),
        ("docs/x/y/a.md", false), ("docs/x/a.txt", false), ("a/b", false), ("a/x/b", false),
        ("a/x/y/b", false), ("ab", false), ("1.txt", false), ("12.txt", false), ("d/1.txt", false),
        ("data1.csv", false), ("data12.csv", false), ("datax.csv", false), ("zy.bin", false),
        ("xy.bin", false), ("foo/baz", false), ("foo/bar", false), ("foo/deeper/q", false),
        ("cache", false), ("x/cache", true), ("x/cache/y", false), ("deep/a/b/c", false),
        ("m.pyc", false), ("important.pyc", false), ("nested/dir", true), ("nested/dir/f", false),
        ("nested/dirfile", false), ("lit*star", false), ("litXstar", false), ("x/y/z.c", false),
        ("q/x/y/z.c", false), ("k.o", false), ("k.a", false), ("k.so", false),
    ]

    @Test("matcher agrees with git check-ignore on the table")
    func agreesWithGit() throws {
        #expect(try Self.compareWithGit(PolicyTests.patterns, PolicyTests.paths) >= 40)
    }

    /// Name patterns ending in `*` are matched as a prefix of the name (not by wildmatch): the
    /// same answers as git's, for names equal to the prefix, longer, shorter, in a subdirectory,
    /// re-included by a later `!` pattern, and directories only.
    @Test("prefix name patterns agree with git check-ignore")
    func prefixPatternsAgreeWithGit() throws {
        let patterns = [".env.*", "cfg*", "!cfg.keep*", "build.d*/", "sub/x*"]
        let paths: [(String, Bool)] = [
            (".env.", false), (".env.prod", false), (".env", false), ("a/.env.local", false), (".envx", false),
            ("cfg", false), ("cfgx", false), ("d/cfg.yaml", false), ("cf", false), ("xcfg", false),
            ("cfg.keep", false), ("cfg.keep.yaml", false), ("d/cfg.keepme", false), ("build.d", true),
            ("build.d1", true), ("build.dx", false), ("q/build.d2", true), ("sub/x1", false), ("sub/y", false),
            ("q/sub/x1", false),
        ]
        #expect(try Self.compareWithGit(patterns, paths) == paths.count)
        let shapes = try patterns.map { try PathPattern($0).shape }
        #expect(shapes.prefix(4).allSatisfy { $0 == .prefix } && shapes[4] == .general)
    }

    /// Compares `PatternList.matches` with `git check-ignore` for each path; returns how many.
    static func compareWithGit(_ patterns: [String], _ paths: [(String, Bool)]) throws -> Int {
        let dir = try TempDir("policy")
        defer { dir.remove() }
        try sh("git init -q .", cwd: dir.path)
        try write(dir.sub(".gitignore"), patterns.joined(separator: "\n") + "\n")
        for (p, isDir) in paths {
            if isDir {
                try FileManager.default.createDirectory(atPath: dir.sub(p), withIntermediateDirectories: true)
            } else {
                try write(dir.sub(p), "x")
            }
        }
        let list = PatternList(try patterns.map { try PathPattern($0) })
        var compared = 0
        for (p, isDir) in paths {
            let r = try run(["git", "check-ignore", "--no-index", "-v", "--non-matching", p], cwd: dir.path)
            // Output: "<source>:<line>:<pattern>\t<path>"; a `!` pattern means not ignored.
            let fields = r.out.split(separator: "\t", maxSplits: 1).first.map(String.init) ?? ""
            let pattern = fields.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
                .dropFirst(2).first.map(String.init) ?? ""
            let gitIgnored = !pattern.isEmpty && !pattern.hasPrefix("!")
            let ours = list.matches(Array(p.utf8), isDirectory: isDir)
            #expect(ours == gitIgnored, "path \(p): drift says \(ours), git says \(gitIgnored) (\(r.out))")
            compared += 1
        }
        return compared
    }

    @Test("default policy classifies the worker's paths")
    func defaultPolicy() throws {
        let c = Classifier(policy: try Policy.builtIn())
        let table: [(String, FileClass)] = [
            ("worker/main.py", .code),
            ("worker/__pycache__/m.cpython-311.pyc", .code), ("x.pyc", .code),  // bytecode is code (issue 12)
            ("logs/worker.log", .ignore), ("a/b.log", .ignore), (".cache/pip/x", .ignore), ("tmp/f", .ignore),
            (".env", .config), (".env.prod", .config), ("certs/tls.pem", .config), ("k.key", .config),
            ("packages/models/whisper/w.bin", .data), ("packages/other.py", .code), ("start_remote.sh", .code),
        ]
        for (p, want) in table { #expect(c.classify(Array(p.utf8)) == want, "\(p)") }
        #expect(c.isSecret(Array(".env".utf8)))
        #expect(!c.isSecret(Array("worker/main.py".utf8)))
    }

    @Test("policies/default.yaml is the policy compiled into the binary")
    func shippedDefaultMatchesBuiltIn() throws {
        let shipped = try readWholeFile(URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("policies/default.yaml").path)
        #expect(shipped == PackageResources.default_yaml)
    }

    @Test("bad policies are one-line file:line errors", arguments: [
        ("ignore: [unclosed\n", "YAML error"),
        ("ignore:\n  - '*.log'\nbogus:\n  - x\n", ":3: unknown class or key 'bogus'"),
        ("config:\n  - 'a[b'\n", ":2: bad pattern"),
        ("data: 5\n", "must be a list"),
        ("- just\n- a list\n", "must be a mapping"),
    ])
    func badPolicy(yaml: String, expected: String) throws {
        let dir = try TempDir("policy")
        defer { dir.remove() }
        let f = dir.sub("p.yaml")
        try write(f, yaml)
        #expect(throws: DriftError.self) { try Policy.load(path: Array(f.utf8)) }
        do { _ = try Policy.load(path: Array(f.utf8)) } catch let e as DriftError {
            #expect(e.message.contains(expected), "\(e.message)")
            #expect(e.message.hasPrefix(f + ":"))
            #expect(!e.message.contains("\n"))
        }
    }
}
