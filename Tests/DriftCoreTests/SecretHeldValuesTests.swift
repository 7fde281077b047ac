import DriftTestSupport
import Foundation
import Testing
@testable import DriftCore
@testable import DriftSystem

/// `SecretIndex.flag` names the source values flagged content holds (incident 12 attack, #1):
/// each in any searched form, a file that is a value whole by its hash, and no value the content
/// does not hold.
@Suite struct SecretHeldValuesTests {
    @Test("flag returns the values the flagged content holds: plain, base64, by hash; not the others")
    func heldValues() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let a = "Zq8vX2mN4pL7rT1wY6kBc3Hd", b = "Pw9cR4tY7uI2oK5lJ8hG3fDs", c = "Mn2bV5cX8zL1kJ4hG7fD0sAq"
        let bodies: [(String, String)] = [
            ("plain.py", "X = \"\(a)\"\n"),
            ("encoded.py", "B = \"\(Data(b.utf8).base64EncodedString())\"\n"),
            ("whole.txt", c + "\n"),
            ("honest.py", "Y = 1\n"),
        ]
        var changes: [FileChange] = []
        for (name, text) in bodies {
            let body = Array(text.utf8)
            try Data(body).write(to: URL(fileURLWithPath: dir.sub(name)))
            let new = EntryState(kind: .regular, executable: false, size: Int64(body.count),
                                 digest: try SHA256Hasher.digest(body))
            changes.append(FileChange(path: Array(name.utf8), change: .added, fileClass: .code, secret: false,
                                      old: nil, new: new, firstSeen: StateFoldTests.now))
        }
        let vars = [("A_TOKEN", a), ("B_TOKEN", b), ("C_TOKEN", c), ("UNUSED_TOKEN", "Qa1Ws2Ed3Rf4Tg5Yh6Uj7Ik8")]
        let manifest = Manifest(commit: "0", root: Array(dir.path.utf8), policySHA256: try SHA256Hasher.digest([]),
                                entries: [])
        let walk = TreeWalk(entries: [], issues: [], unreadableDirectories: [])
        let reader = FileReader(root: Array(dir.path.utf8))
        let index = try SecretIndex(walk: walk, manifest: manifest, changes: [], reader: reader,
                                    environment: SecretEnvironment(variables: vars.map {
                                        SecretEnvironment.Variable(name: Array($0.0.utf8), value: Array($0.1.utf8),
                                                                   origin: .drift)
                                    }))
        let held = index.flag(&changes, walk: walk, reader: reader, sizeLimit: 1 << 20)
        #expect(changes.map(\.secrecy) == [.content, .content, .content, .none])
        #expect(held.map { String(decoding: $0.name, as: UTF8.self) } == ["A_TOKEN", "B_TOKEN", "C_TOKEN"])
    }
}
