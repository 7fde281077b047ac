@testable import DriftSystem
import Foundation
import DriftTestSupport
import Testing

/// DriftSystem's scoped wrappers the domain layer uses instead of raw calls.
@Suite struct SystemCallTests {
    /// What this process's open descriptors point at (`pipe:[inode]`, paths).
    private func openTargets() throws -> Set<String> {
        var out: Set<String> = []
        for fd in try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") {
            let link = "/proc/self/fd/" + fd
            if let t = try? FileManager.default.destinationOfSymbolicLink(atPath: link) { out.insert(t) }
        }
        return out
    }

    @Test("Subprocess: stdin bytes in, stdout bytes out, both at once (4 MiB through cat)")
    func subprocessExchangesWhileReading() throws {
        // cat answers while it reads: a runner that wrote all of stdin before reading would
        // block for ever once both pipe buffers (64 KiB each) are full.
        var input = [UInt8](repeating: 0, count: 4 << 20)
        for i in input.indices { input[i] = UInt8(truncatingIfNeeded: i &* 31 &+ i >> 11) }
        let r = try Subprocess.run("/bin/cat", arguments: [], environment: [], input: input)
        #expect(r.termination == .exited(0))
        #expect(r.succeeded)
        #expect(r.standardOutput == input)
    }

    @Test("Subprocess: the child gets only stdin, stdout and /dev/null as stderr; no descriptor leaks")
    func subprocessDescriptorHygiene() throws {
        let dir = try TempDir()
        // A descriptor drift holds without O_CLOEXEC must still not reach the child.
        let held = open(dir.path + "/held", O_RDWR | O_CREAT, 0o600)
        #expect(held >= 0)
        defer { close(held) }
        // The shell's descriptors, listed by a child of it (`; true`: no exec in place of sh).
        let script = "ls -l /proc/$$/fd; true"
        let r = try Subprocess.run("/bin/sh", arguments: ["-c", script], environment: ["LC_ALL=C"],
                                   input: Array("x".utf8))
        #expect(r.succeeded)
        // "lr-x------ 1 u g 64 date 0 -> pipe:[123]" becomes "0 pipe:[123]".
        let fds = String(decoding: r.standardOutput, as: UTF8.self).split(separator: "\n").compactMap { line in
            line.range(of: " -> ").map { arrow in
                "\(line[..<arrow.lowerBound].split(separator: " ").last ?? "") \(line[arrow.upperBound...])"
            }
        }.sorted()
        #expect(fds.count == 3, "\(fds)")
        guard fds.count == 3 else { return }
        #expect(fds[0].hasPrefix("0 pipe:[") && fds[1].hasPrefix("1 pipe:[") && fds[2] == "2 /dev/null", "\(fds)")
        // Both pipes the child had are closed here too (other tests' descriptors come and go).
        let pipes = fds.prefix(2).compactMap { $0.split(separator: " ").last.map(String.init) }
        let open = try openTargets()
        #expect(open.isDisjoint(with: pipes), "\(pipes)")
    }

    @Test("Subprocess: empty signal mask and default dispositions in the child, though drift ignores SIGPIPE")
    func subprocessSignalsReset() throws {
        var block = sigset_t()
        sigemptyset(&block)
        sigaddset(&block, SIGUSR1)
        var old = sigset_t()
        pthread_sigmask(SIG_BLOCK, &block, &old)
        defer { pthread_sigmask(SIG_SETMASK, &old, nil) }
        let r = try Subprocess.run("/bin/grep", arguments: ["-E", "^Sig(Blk|Ign):", "/proc/self/status"],
                                   environment: [], input: [])
        #expect(r.succeeded)
        // Signals 1-31 (the low 31 bits): glibc keeps its own real-time signals (32, 33) to itself.
        let text = String(decoding: r.standardOutput, as: UTF8.self)
        let masks = text.split(separator: "\n").compactMap { UInt64($0.split(separator: "\t").last ?? "", radix: 16) }
        #expect(masks.count == 2, "\(text)")
        #expect(masks.allSatisfy { $0 & 0x7FFF_FFFF == 0 }, "\(text)")
    }

    @Test("Subprocess: exit status and death by signal are told apart; a child that stops reading ends the input")
    func subprocessTermination() throws {
        let failed = try Subprocess.run("/bin/sh", arguments: ["-c", "exit 3"], environment: [], input: [])
        #expect(failed.termination == .exited(3))
        #expect(!failed.succeeded)
        let killed = try Subprocess.run("/bin/sh", arguments: ["-c", "kill -9 $$"], environment: [], input: [])
        #expect(killed.termination == .signalled(SIGKILL))
        // `head -c 1` exits after one byte: the rest of 1 MiB meets EPIPE, which must not kill us.
        let early = try Subprocess.run("/usr/bin/head", arguments: ["-c", "1"], environment: [],
                                       input: [UInt8](repeating: 65, count: 1 << 20))
        #expect(early.standardOutput == [65])
        #expect(early.succeeded)
        #expect(throws: Subprocess.Failure.spawn(.noSuchFileOrDirectory)) {
            try Subprocess.run("/nonexistent/python3", arguments: [], environment: [], input: [])
        }
    }

    @Test("FileLock: one holder at a time; waits out its deadline; deinit releases; never through a symlink")
    func fileLock() throws {
        let dir = try TempDir()
        let path = dir.path + "/lock"
        var first: FileLock? = try FileLock(path: path)
        #expect(first != nil)
        #expect(throws: FileLock.Failure.busy) { try FileLock(path: path) }
        #expect(throws: FileLock.Failure.busy) { try FileLock(path: path, wait: 0.2) }
        first = nil
        let second = try FileLock(path: path, wait: 0)
        _ = second
        try FileManager.default.createSymbolicLink(atPath: dir.path + "/link", withDestinationPath: path)
        #expect(throws: FileLock.Failure.open(.tooManySymbolicLinkLevels)) { try FileLock(path: dir.path + "/link") }
        let mode = try FileSystem.lstat(path).mode & 0o777
        #expect(mode == 0o600)
    }

    @Test("FileLock: a waiter gets the lock once its holder lets go")
    func fileLockWaits() throws {
        let dir = try TempDir()
        let path = dir.path + "/lock"
        let acquired = DispatchSemaphore(value: 0)
        let holding = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            let holder = try? FileLock(path: path)
            acquired.signal()
            withExtendedLifetime(holder) { _ = holding.wait(timeout: .now() + 0.1) }
        }
        acquired.wait()
        let waiter = try FileLock(path: path, wait: .infinity)
        _ = waiter
    }

    @Test("StagedDirectory: a new output appears whole, 0700 with 0600 files; an existing one gets the files")
    func stagedDirectory() throws {
        let dir = try TempDir()
        let out = dir.path + "/out/export"
        let staged = StagedDirectory(prefix: ".test-stage-")
        try staged.publish([(name: "a", bytes: [1]), (name: "b", bytes: [2, 3])], to: out)
        #expect(try FileManager.default.contentsOfDirectory(atPath: out).sorted() == ["a", "b"])
        #expect(try FileSystem.lstat(out).mode & 0o777 == 0o700)
        #expect(try FileSystem.lstat(out + "/b").mode & 0o777 == 0o600)
        #expect(FileManager.default.contents(atPath: out + "/b") == Data([2, 3]))
        try staged.publish([(name: "b", bytes: [4])], to: out)
        #expect(FileManager.default.contents(atPath: out + "/b") == Data([4]))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path + "/out") == ["export"])
    }

    @Test("StagedDirectory: a dead process's stage is removed; a live one's, and other names, are kept")
    func stagedDirectoryRemovesStale() throws {
        let dir = try TempDir()
        let dead = try Subprocess.run("/bin/sh", arguments: ["-c", "echo $$"], environment: [], input: [])
        let deadPID = String(decoding: dead.standardOutput, as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(SystemProcess.isGone(Int32(deadPID) ?? 0))
        let stale = dir.path + "/.test-stage-\(deadPID)-1"
        let live = dir.path + "/.test-stage-1-2"
        let other = dir.path + "/.test-stagex"
        for d in [stale, live, other] {
            try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: false)
        }
        try StagedDirectory(prefix: ".test-stage-").publish([(name: "f", bytes: [])], to: dir.path + "/o")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        #expect(names == [".test-stage-1-2", ".test-stagex", "o"])
    }

    @Test("FileSystem: typed lstat/stat/unlink/rename; absence is ENOENT only")
    func pathCalls() throws {
        let dir = try TempDir()
        let f = dir.path + "/f"
        #expect(FileSystem.isAbsent(f))
        #expect(throws: Errno.noSuchFileOrDirectory) { try FileSystem.lstat(f) }
        try AtomicFile.write([1, 2, 3], to: f, mode: 0o640)
        #expect(try FileSystem.lstat(f).size == 3)
        try FileManager.default.createSymbolicLink(atPath: dir.path + "/l", withDestinationPath: f)
        #expect(try FileSystem.lstat(dir.path + "/l").kind == .symlink)
        #expect(try FileSystem.stat(dir.path + "/l").kind == .regular)
        #expect(!FileSystem.isAbsent(f + "/below") && !FileSystem.isDirectory(f))
        #expect(FileSystem.isDirectory(dir.path))
        try FileSystem.rename(f, to: dir.path + "/g")
        #expect(FileSystem.isAbsent(f))
        try FileSystem.unlink(dir.path + "/g")
        #expect(throws: Errno.noSuchFileOrDirectory) { try FileSystem.unlink(dir.path + "/g") }
        #expect("\(Errno.noSuchFileOrDirectory)" == "No such file or directory")
    }

    @Test("AppendFile: appends lines; refuses a hard-linked or symlinked log")
    func appendFile() throws {
        let dir = try TempDir()
        let log = dir.path + "/log"
        try AppendFile.append(Array("a\n".utf8), to: log)
        try AppendFile.append(Array("b\n".utf8), to: log)
        #expect(FileManager.default.contents(atPath: log) == Data("a\nb\n".utf8))
        try FileManager.default.linkItem(atPath: log, toPath: dir.path + "/hard")
        #expect(throws: AppendFile.Failure.notPlainFile) { try AppendFile.append([1], to: log) }
        try FileManager.default.createSymbolicLink(atPath: dir.path + "/sym", withDestinationPath: dir.path + "/x")
        #expect(throws: AppendFile.Failure.open(.tooManySymbolicLinkLevels)) {
            try AppendFile.append([1], to: dir.path + "/sym")
        }
    }

    @Test("AtomicFile with a temporary path of its own leaves nothing behind")
    func atomicFileTemporaryPath() throws {
        let dir = try TempDir()
        let f = dir.path + "/watch.json"
        try AtomicFile.write(Array("{}".utf8), to: f, mode: 0o600, syncDirectory: false, temporaryPath: f + ".new")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["watch.json"])
        #expect(try FileSystem.lstat(f).mode & 0o777 == 0o600)
    }
}
