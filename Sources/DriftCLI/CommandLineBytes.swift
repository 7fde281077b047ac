import DriftGit
import DriftSystem
import Synchronization

/// The command line's bytes behind the strings ArgumentParser parses, so a path argument
/// reaches the file system as the bytes it was given. ArgumentParser takes `String`s, and a
/// `String` cannot hold a name that is not UTF-8: such an argument is parsed in its repaired
/// form (U+FFFD for each bad byte) and mapped back here to its bytes by `path(_:)`.
enum CommandLineBytes {
    /// Repaired text → the byte strings that repair to it (more than one: ambiguous).
    private static let repaired = Mutex<[String: Set<[UInt8]>]>([:])

    /// Records the arguments (after argv[0]) and returns them as the strings to parse.
    static func strings(_ raw: [[UInt8]]) -> [String] {
        var table: [String: Set<[UInt8]>] = [:]
        func note(_ bytes: [UInt8]) {
            let text = String(decoding: bytes, as: UTF8.self)
            // Only text that repair could have produced can stand for other bytes.
            guard text.unicodeScalars.contains("\u{FFFD}") else { return }
            table[text, default: []].insert(bytes)
        }
        for arg in raw {
            note(arg)
            // `--root=VALUE`: ArgumentParser hands over VALUE alone.
            if arg.starts(with: Array("--".utf8)), let eq = arg.firstIndex(of: UInt8(ascii: "=")) {
                note(Array(arg[(eq + 1)...]))
            }
        }
        repaired.withLock { $0 = table }
        return raw.map { String(decoding: $0, as: UTF8.self) }
    }

    /// The bytes a parsed path argument was given as: its own UTF-8, or the bytes it was
    /// repaired from.
    /// - Throws: `DriftError` (bad input) when two different byte strings on the command line
    ///   read as this same text, so which one is meant cannot be told.
    static func path(_ argument: String) throws -> [UInt8] {
        guard let candidates = repaired.withLock({ $0[argument] }) else { return Array(argument.utf8) }
        guard candidates.count == 1, let only = candidates.first else {
            throw DriftError(.usage, path: Array(argument.utf8),
                             "two arguments differ only in bytes that are not UTF-8; give the path as a unique name")
        }
        return only
    }

    /// A remote argument (`scan --upstream`, `export --push`, `push`'s REMOTE) as its bytes:
    /// a URL as text, a local repository whose name is not UTF-8 as bytes (`GitRemote`).
    /// - Throws: `DriftError` (bad input) for a remote that is not UTF-8 and reads as a URL.
    static func remote(_ argument: String) throws -> GitRemote {
        try GitRemote(argument: path(argument))
    }
}
