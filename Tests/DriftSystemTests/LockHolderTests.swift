import Testing
@testable import DriftSystem

/// The lock holder named in a message is another process's arguments: quoted, never raw bytes.
@Suite struct LockHolderTests {
    @Test("a holder's program name and verb reach text quoted")
    func nameQuoted() {
        let evil = LockHolder.Holder(pid: 7, arguments: ["/tmp/\u{1B}[2Jx\nforged", "run"])
        #expect(!evil.name.unicodeScalars.contains { $0.value < 0x20 })
        #expect(evil.name.hasPrefix("\""))
        let drift = LockHolder.Holder(pid: 8, arguments: ["/usr/local/bin/drift", "wa\u{7}tch"])
        #expect(drift.name == "drift \"wa\\atch\"")
        let watch = LockHolder.Holder(pid: 9, arguments: ["/usr/local/bin/drift", "watch", "--manifest", "m"])
        #expect(watch.name == "drift watch")
        #expect(LockHolder.Holder(pid: 1, arguments: []).name == "a process")
    }

    @Test("holders are read from /proc/locks lines: FLOCK holders of the inode, its device first")
    func parse() {
        let table = """
            1: FLOCK  ADVISORY  WRITE 321 fd:01:4242 0 EOF
            2: FLOCK  ADVISORY  WRITE 123 08:02:4242 0 EOF
            3: POSIX  ADVISORY  WRITE 555 08:02:4242 0 EOF
            4: -> FLOCK  ADVISORY  WRITE 777 08:02:4242 0 EOF
            """
        #expect(LockHolder.holders(in: table, inode: 4242, device: 0x0802) == [123, 321])
    }
}
