import DriftGit
import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A drift id as a value: lowercase hex, 8 to 64 digits (the ids drift writes have 20, a
/// prefix of `DriftID.compute`'s SHA-256). Text becomes a `DriftID` once, at the edge that
/// read it (`--id`, a trailer, a ref name, a JSON record), through `init(parsing:)`; inside
/// drift an id is never a `String`. Its text form (`hex`) is what every format writes, so
/// JSON, trailers and ref names are byte for byte what they were when ids were strings.
public struct DriftID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The id's text: what trailers, ref names and JSON carry.
    public let hex: String

    /// Parses an id read at an edge.
    /// - Parameter text: the id as read.
    /// - Throws: `DriftError` with code `malformedID` when `text` is not 8 to 64 lowercase hex digits.
    public init(parsing text: String) throws(DriftError) {
        guard Self.isWellFormed(text) else {
            throw DriftError(.malformedID, "'\(PathBytes.display(text: text))' is not a drift id "
                             + "(8 to 64 lowercase hex digits)")
        }
        hex = text
    }

    /// An id from text, nil when it is not one (for checks whose caller says what is wrong).
    public init?(_ text: String) {
        guard Self.isWellFormed(text) else { return nil }
        hex = text
    }

    /// An id drift computed itself (the SHA-256 prefix, well formed by construction).
    init(computed hex: String) { self.hex = hex }

    public var description: String { hex }

    public static func < (a: DriftID, b: DriftID) -> Bool { a.hex < b.hex }

    /// Whether `id` can be a drift id: 8 to 64 lowercase hex digits. The one check for ids
    /// read from bundles, ref names, trailers and `--id`.
    static func isWellFormed(_ id: String) -> Bool {
        let hex: (UInt8) -> Bool = { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
        return (8...64).contains(id.utf8.count) && id.utf8.allSatisfy(hex)
    }
}

/// A drift id is written as its text, a JSON string (`HexStringCodable`).
extension DriftID: HexStringCodable {}

extension DriftID {
    /// The malformed-id error a JSON decoder stopped on (a `DriftID` or `ObjectID` field that
    /// is not one), nil for any other decoding failure: the reader says which record it was.
    static func malformed(in error: any Error) -> DriftError? {
        guard case DecodingError.dataCorrupted(let c) = error, let e = c.underlyingError as? DriftError,
              e.code == .malformedID else { return nil }
        return e
    }
}
