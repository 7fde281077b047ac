import Foundation
import DriftTestSupport
import Testing
@testable import DriftCore
@testable import DriftGit
@testable import DriftSystem

/// Fast in-process tests of one layer each, so a failure names its cause: the default
/// policy's classes, deadlines and overdue, push credentials and their redaction.
@Suite("Policy classes")
struct PolicyClassTests {
    /// Every pattern of Sources/DriftCore/Resources/default.yaml, at the top and nested,
    /// and the precedence ignore > config > data > code.
    @Test("the default policy classifies each of its patterns, top-level and nested", arguments: [
        ("logs/w.log", FileClass.ignore, false), ("logs", .code, false), ("a/logs/x.py", .ignore, false),
        ("x.log", .ignore, false), ("deep/er/x.log", .ignore, false), ("x.log.1", .code, false),
        (".cache/pip/wheel", .ignore, false), ("a/.cache/x", .ignore, false),
        ("tmp/f", .ignore, false), ("src/tmp/y", .ignore, false), ("tmp.txt", .code, false),
        (".env", .config, true), ("a/.env", .config, true), (".env.production", .config, true),
        ("x.env", .code, false), (".envrc", .code, false),
        ("certs/tls.pem", .config, true), ("k.key", .config, true), ("a/b/c.key", .config, true),
        ("keys/id_rsa", .code, false), ("k.keys", .code, false),
        ("packages/models/whisper.bin", .data, false), ("packages/models/a/b.bin", .data, false),
        ("packages/models", .code, false), ("x/packages/models/w.bin", .code, false),
        ("packages/other.py", .code, false),
        ("worker/main.py", .code, false), ("start_remote.sh", .code, false),
        ("worker/__pycache__/m.cpython-311.pyc", .code, false),
        // `logs/` names directories only: a file called `logs` is code (as in .gitignore).
        // Precedence: an ignored directory wins over config; secrecy is kept regardless.
        ("logs/.env", .ignore, true), ("tmp/server.key", .ignore, true),
        ("packages/models/.env", .config, true), ("packages/models/m.pem", .config, true),
    ])
    func defaultClasses(path: String, want: FileClass, secret: Bool) throws {
        let c = Classifier(policy: try Policy.builtIn())
        let (got, isSecret) = c.classifyAll(Array(path.utf8), isDirectory: false)
        #expect(got == want, "\(path)")
        #expect(isSecret == secret, "\(path) secret")
    }

    @Test("ignored directories are not entered; the policy's other settings")
    func defaultSettings() throws {
        let p = try Policy.builtIn()
        let c = Classifier(policy: p)
        for d in ["logs", "a/logs", ".cache", "tmp", "x/tmp"] { #expect(!c.shouldDescend(Array(d.utf8)), "\(d)") }
        for d in ["worker", "packages/models", "certs", "logsx"] { #expect(c.shouldDescend(Array(d.utf8)), "\(d)") }
        #expect(p.sizeLimit == 16 << 20)
        #expect(p.deadline == nil)
        #expect(p.source == PackageResources.default_yaml)
    }

    @Test("byte names: invalid UTF-8 and newlines classify by their bytes")
    func byteNames() throws {
        let c = Classifier(policy: try Policy.builtIn())
        #expect(c.classify(Array("caf".utf8) + [0xFF] + Array(".key".utf8)) == .config)
        #expect(c.classify(Array("a\nb.log".utf8)) == .ignore)
        #expect(c.classify([0xC3, 0xA9] + Array("/x.py".utf8)) == .code)
    }
}

@Suite("Deadlines")
struct DeadlineTests {
    @Test("durations and end-of-day parse; everything else is refused", arguments: [
        ("24h", Deadline.duration(86_400) as Deadline?), ("90m", .duration(5_400)), ("2d", .duration(172_800)),
        ("3600s", .duration(3_600)), ("1.5h", .duration(5_400)), (" 24h ", .duration(86_400)),
        ("end-of-day", .endOfDay(zone: "UTC")), ("end-of-day UTC", .endOfDay(zone: "UTC")),
        ("0h", nil), ("-1h", nil), ("h", nil), ("24", nil), ("24w", nil), ("1e308d", nil), ("nanh", nil),
        ("infd", nil), ("102years", nil), ("end-of-day Mars/Olympus_Mons", nil), ("end-of-day ../../etc", nil),
    ])
    func parse(text: String, want: Deadline?) {
        #expect(Deadline.parse(text) == want, "\(text)")
    }

    @Test("due times: durations add, end-of-day is the next midnight in its zone")
    func due() throws {
        let t = try #require(Timestamp.parse("2026-03-28T22:30:00Z"))
        #expect(Deadline.duration(3_600).due(after: t) == Timestamp.parse("2026-03-28T23:30:00Z"))
        #expect(Deadline.endOfDay(zone: "UTC").due(after: t) == Timestamp.parse("2026-03-29T00:00:00Z"))
        let midnight = try #require(Timestamp.parse("2026-03-29T00:00:00Z"))
        #expect(Deadline.endOfDay(zone: "UTC").due(after: midnight) == Timestamp.parse("2026-03-30T00:00:00Z"))
        if Deadline.parse("end-of-day Europe/Berlin") != nil {
            // 22:30Z is 23:30 CET; the next midnight is 00:00 CET = 23:00Z the same day.
            #expect(Deadline.endOfDay(zone: "Europe/Berlin").due(after: t) == Timestamp.parse("2026-03-28T23:00:00Z"))
            // Across the spring-forward night the next local midnight is 22:00Z (CEST).
            let sunday = try #require(Timestamp.parse("2026-03-29T10:00:00Z"))
            #expect(Deadline.endOfDay(zone: "Europe/Berlin").due(after: sunday)
                == Timestamp.parse("2026-03-29T22:00:00Z"))
        }
    }

    @Test("overdue is due <= now, counted in the report, and --fail-on overdue passes younger drift")
    func overdue() throws {
        let first = try #require(Timestamp.parse("2026-11-01T00:00:00Z"))
        func change(_ p: String, _ seen: Date) -> FileChange {
            FileChange(path: Array(p.utf8), change: .modified, fileClass: .code, secret: false, old: nil, new: nil,
                       firstSeen: seen)
        }
        func report(now: Date, _ changes: [FileChange]) -> ScanReport {
            ScanReport(commit: String(repeating: "a", count: 40), root: Array("/w".utf8), host: "h", scannedAt: now,
                       changes: changes, pip: [], issues: [], checked: 1, hashed: 1, deadline: .duration(86_400),
                       now: now)
        }
        let young = first.addingTimeInterval(86_399)
        let r1 = report(now: young, [change("a.py", first)])
        #expect(r1.files.first?.overdue == false && r1.summary.overdue == 0)
        #expect(r1.outcome == .drift && r1.outcome(failingOn: .overdue) == .clean)
        let r2 = report(now: first.addingTimeInterval(86_400), [change("a.py", first), change("b.py", young)])
        #expect(r2.files.map(\.overdue) == [true, false] && r2.summary.overdue == 1)
        #expect(r2.outcome(failingOn: .overdue) == .drift)
        #expect(r2.summary.oldestFirstSeen == "2026-11-01T00:00:00Z")
    }

    @Test("a policy's deadline is checked when it loads: one line naming file and line")
    func policyDeadline() throws {
        let ok = try Policy.parse(Array("deadline: 36h\n".utf8), file: "p.yaml")
        #expect(ok.deadline?.rule == .duration(129_600))
        for bad in ["deadline: 36\n", "deadline: tomorrow\n", "deadline: 1e400h\n", "deadline: [1h]\n"] {
            do {
                _ = try Policy.parse(Array(bad.utf8), file: "p.yaml")
                Issue.record("accepted: \(bad)")
            } catch let e as DriftError {
                #expect(e.message.hasPrefix("p.yaml:1: ") && !e.message.contains("\n"), "\(e.message)")
            }
        }
    }
}

@Suite("Credentials")
struct CredentialUnitTests {
    static let env = ["DRIFT_GIT_USERNAME": "envuser", "DRIFT_GIT_PASSWORD": "env-pass-9Q", "DRIFT_GIT_TOKEN": "",
                      "DRIFT_GIT_SSH_KEY": "/k", "DRIFT_GIT_KNOWN_HOSTS": "/kh", "DRIFT_GIT_CA_FILE": "/ca",
                      "GIT_PASSWORD": "not-ours"]
    /// `env` as `GitCredentials.load` reads an environment: each variable's bytes.
    static func env(_ name: String) -> [UInt8]? { env[name].map { Array($0.utf8) } }

    @Test("the environment alone; an empty variable is unset; the file overrides key by key")
    func environmentAndFile() throws {
        let c = try GitCredentials.load(file: nil, environment: Self.env(_:))
        #expect(c.username == "envuser" && c.password == "env-pass-9Q" && c.token == nil)
        #expect(c.sshKey == Array("/k".utf8) && c.knownHosts == Array("/kh".utf8) && c.caFile == Array("/ca".utf8))
        #expect(try GitCredentials.load(file: nil, environment: { _ in nil }).username == nil)
        let dir = try TempDir("creds")
        defer { dir.remove() }
        try write(dir.sub("c"), "token = file-tok\nusername=fileuser\n")
        let f = try GitCredentials.load(file: dir.sub("c"), environment: Self.env(_:))
        #expect(f.username == "fileuser" && f.token == "file-tok" && f.password == "env-pass-9Q")
        #expect(f.sshKey == Array("/k".utf8))
        // A missing file is an error naming it, whatever the environment holds.
        #expect(throws: DriftError.self) { try GitCredentials.load(file: dir.sub("absent"), environment: Self.env(_:)) }
    }

    @Test("redaction: secrets and their percent-encodings are scrubbed, URL user-info hidden")
    func redaction() throws {
        let c = GitCredentials(username: "u", password: "p@ss word/1", token: "tok3n")
        let text = "https://u:p%40ss%20word%2F1@h/r failed: p@ss word/1 tok3n"
        #expect(c.scrub(text) == "https://u:***@h/r failed: *** ***")
        #expect(GitCredentials(username: "u").scrub("u stays") == "u stays")
        #expect(redact("https://u:secret@example.com/r.git") == "https://u:***@example.com/r.git")
        #expect(redact("https://ghp_token@example.com/r.git") == "https://***@example.com/r.git")
        #expect(redact("ssh://git@host:22/r") == "ssh://git@host:22/r")
        #expect(redact("ssh://git:pw@host:22/r") == "ssh://git:***@host:22/r")
        #expect(redact("https://example.com/a@b") == "https://example.com/a@b")
        #expect(redact("/srv/git/r.git") == "/srv/git/r.git")
        let g = GitError(code: -16, klass: 34, message: "auth tok3n refused", function: "git_remote_push",
                         context: "https://x:tok3n@h/r").scrubbed(c.scrub)
        #expect(!g.description.contains("tok3n") && g.code == -16 && g.klass == 34)
    }
}
