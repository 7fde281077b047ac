#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A sentence naming the file and the problem: drift's error for bad input and failed checks.
///
/// Lower layers add typed errors beside it (`Errno`, `GitError`); which exit code any
/// error gives is decided by the command line alone.
public struct DriftError: Error, Sendable, CustomStringConvertible, Equatable {
    /// One line, suitable to print as is after `drift: `.
    public let message: String

    /// - Parameter message: the sentence; newlines and control characters are neutralised.
    public init(_ message: String) {
        self.message = DriftError.neutralised(message)
    }

    public var description: String { message }

    /// A newline becomes a space (one line per error); any other control character left in
    /// a message (a name some caller forgot to quote) becomes `\ooo`, so no error can carry
    /// a terminal escape or start a line of its own.
    public static func neutralised(_ text: String) -> String {
        var out = ""
        for u in text.unicodeScalars {
            if u == "\n" {
                out += " "
            } else if u.value < 0x20 || (0x7F...0x9F).contains(u.value) {
                out += u.value > 0xFF ? "?" : "\\" + String(u.value, radix: 8).leftPad(3)
            } else {
                out.unicodeScalars.append(u)
            }
        }
        return out
    }
}

extension String {
    func leftPad(_ n: Int) -> String { count >= n ? self : String(repeating: "0", count: n - count) + self }
}

extension DriftError {
    /// An error from a system call on `path`, with `strerror` text.
    public static func posix(_ what: String, _ path: [UInt8], _ code: Int32) -> DriftError {
        DriftError("\(PathBytes.display(path)): \(what) failed: \(errnoText(code))")
    }
}

/// `strerror` text for an errno value.
public func errnoText(_ code: Int32) -> String {
    guard let s = strerror(code) else { return "errno \(code)" }
    return String(cString: s)
}

/// A Swift string from a NUL-terminated `CChar` buffer filled by a C call.
func cBufferString(_ buf: [CChar]) -> String {
    String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
