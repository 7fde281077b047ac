import CLibGit2
import DriftSystem

/// The trailers of a commit message: the `Key: value` lines of its last paragraph, as git
/// reads them (libgit2's `git_message_trailers`). The one parser every verb uses (gate,
/// push, export, journal): a `Drift-Id:` line anywhere else in a message is text, not a
/// trailer, so no name or body line can forge one.
public struct Trailers: Sendable {
    /// In message order; a key may repeat.
    public var pairs: [(key: String, value: String)]

    /// Parses `message`; a message without a trailer block has none.
    public init(_ message: String) {
        ensureLibgit2()
        var arr = git_message_trailer_array()
        pairs = []
        guard git_message_trailers(&arr, message) == 0 else { return }
        defer { git_message_trailer_array_free(&arr) }
        for i in 0..<arr.count {
            let t = arr.trailers[i]
            guard let k = t.key, let v = t.value else { continue }
            pairs.append((String(cString: k), String(cString: v)))
        }
    }

    /// Every value of `key` (git compares trailer keys case-insensitively).
    public func values(_ key: String) -> [String] {
        pairs.filter { $0.key.lowercased() == key.lowercased() }.map(\.value)
    }

    /// The value of `key` when the message has exactly one such trailer.
    public func single(_ key: String) -> String? {
        let v = values(key)
        return v.count == 1 ? v[0] : nil
    }
}
