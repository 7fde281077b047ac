import DriftGit
import DriftSystem

/// The lines of `/proc/self/mountinfo` whose mount point is the root, inside it, or one of
/// its ancestors: a mount made there after the watches were added hides or replaces what they
/// watch without a single event, so the watcher answers no query until a full scan has seen it.
struct MountSnapshot: Equatable {
    var lines: [[UInt8]]

    /// nil when `/proc` cannot be read (then nothing can be compared: the caller refuses).
    static func take(root: [UInt8]) -> MountSnapshot? {
        guard let b = try? readWholeFile("/proc/self/mountinfo", limit: 16 << 20) else { return nil }
        var out: [[UInt8]] = []
        for line in b.split(separator: UInt8(ascii: "\n")) {
            let fields = line.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
            // Field 5 is the mount point, with space, tab, newline and backslash as octal escapes.
            guard fields.count > 4 else { continue }
            let point = unescape(Array(fields[4]))
            if point == [UInt8(ascii: "/")] || PathBytes.isWithin(point, root) || PathBytes.isWithin(root, point) {
                // Without the mount id and parent id (fields 1, 2): the same mounts, renumbered, are no change.
                out.append(Array(fields.dropFirst(2).joined(separator: [UInt8(ascii: " ")])))
            }
        }
        return MountSnapshot(lines: out)
    }

    private static func unescape(_ s: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var i = 0
        while i < s.count {
            if s[i] == UInt8(ascii: "\\"), i + 3 < s.count,
               let v = UInt8(String(decoding: s[(i + 1)...(i + 3)], as: UTF8.self), radix: 8) {
                out.append(v)
                i += 4
            } else {
                out.append(s[i])
                i += 1
            }
        }
        return out
    }
}
