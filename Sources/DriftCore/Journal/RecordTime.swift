import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A time in a record: a `Date` in memory, RFC 3339 UTC text in JSON (`Timestamp`, whole
/// seconds). Text that is not such a time is a decoding error, never "now".
@propertyWrapper
struct RFC3339: Codable, Sendable, Equatable {
    var wrappedValue: Date

    init(wrappedValue: Date) { self.wrappedValue = wrappedValue }

    init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let date = Timestamp.parse(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "not an RFC 3339 time"))
        }
        wrappedValue = date
    }

    func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(Timestamp.format(wrappedValue))
    }
}

extension Date {
    /// The time as a record keeps it (whole seconds), so what is held in memory equals what
    /// is read back.
    var wholeSeconds: Date { Date(timeIntervalSince1970: timeIntervalSince1970.rounded(.down)) }
}
