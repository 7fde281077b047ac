/// Who holds a `flock` on a file, as Linux's `/proc/locks` says: for a message that names the
/// holder ("drift watch, pid 21") when a lock stays busy. Best effort: nil when it cannot tell.
public enum LockHolder {
    /// The holder's pid and command line (`/proc/<pid>/cmdline`, arguments as text).
    public struct Holder: Sendable, Equatable {
        public var pid: Int32
        public var arguments: [String]

        /// `drift watch` for drift (its verb), else the program's file name; quoted as every name
        /// that reaches text is (another process's arguments are anyone's bytes).
        public var name: String {
            let program = arguments.first.map { String($0.split(separator: "/").last ?? "") } ?? ""
            if program == "drift", arguments.count > 1, let verb = arguments.dropFirst().first(where: {
                !$0.hasPrefix("-")
            }) {
                return "drift \(PathBytes.display(text: verb))"
            }
            return program.isEmpty ? "a process" : PathBytes.display(text: program)
        }
    }

    /// The process holding a `FLOCK` on `path` (nil: none seen, or not Linux).
    public static func holder(of path: [UInt8]) -> Holder? {
        guard let st = try? FileSystem.lstat(path),
              let table = try? readWholeFile("/proc/locks", limit: 16 << 20) else { return nil }
        let pids = holders(in: String(decoding: table, as: UTF8.self), inode: st.inode, device: st.device)
        guard let pid = pids.first else { return nil }
        let raw = (try? readWholeFile("/proc/\(pid)/cmdline", limit: 1 << 16)) ?? []
        let args = raw.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        return Holder(pid: pid, arguments: args.last == "" ? Array(args.dropLast()) : args)
    }

    /// The pids of `/proc/locks` lines holding (not waiting for: `->`) a FLOCK on the inode;
    /// those on the same device first (an overlay file's lock is listed under its real device).
    static func holders(in table: String, inode: UInt64, device: UInt64) -> [Int32] {
        let major = ((device >> 8) & 0xfff) | ((device >> 32) & ~0xfff)
        let minor = (device & 0xff) | ((device >> 12) & ~0xff)
        var same: [Int32] = [], other: [Int32] = []
        for line in table.split(separator: "\n") {
            let f = line.split(separator: " ")
            // `N: FLOCK  ADVISORY  WRITE <pid> <maj>:<min>:<inode> <start> <end>`
            guard f.count >= 6, f[1] == "FLOCK", let pid = Int32(f[4]), pid > 0 else { continue }
            let id = f[5].split(separator: ":")
            guard id.count == 3, UInt64(id[2]) == inode else { continue }
            if UInt64(id[0], radix: 16) == major && UInt64(id[1], radix: 16) == minor {
                same.append(pid)
            } else {
                other.append(pid)
            }
        }
        return same + other
    }
}
