import DriftTestSupport
import Foundation
import Testing
@testable import DriftCore
@testable import DriftGit
@testable import DriftSystem

/// Ids are values (issue 25.4): `DriftID` and `ObjectID` inside drift, text only at the edges,
/// parsed once there with a coded error; every format writes them as before, byte for byte.
@Suite struct TypedIDTests {
    static let id = "0123456789abcdef0123"
    static let base = "5f0c6f4ad3b4e7b1a2c3d4e5f60718293a4b5c6d"

    /// A snapshot record as drift wrote it before ids were typed (golden bytes: a change in
    /// the encoding of `drift_id` or `base` fails here).
    static let record = """
        {
          "base" : "5f0c6f4ad3b4e7b1a2c3d4e5f60718293a4b5c6d",
          "drift_id" : "0123456789abcdef0123",
          "drift_id_inputs" : [
            "modified .env secret"
          ],
          "entries" : [
            {
              "change" : "modified",
              "class" : "code",
              "first_seen" : "2026-11-30T05:00:00Z",
              "path" : "worker/util.py",
              "recorded" : "content"
            }
          ],
          "host" : "web-1",
          "pip" : [

          ],
          "schema" : "drift.snapshot/1",
          "time" : "2026-11-30T06:00:00Z"
        }

        """

    @Test("a snapshot record reads into DriftID/ObjectID and is written back byte for byte")
    func recordRoundTrip() throws {
        let info = try SnapshotRecord.decode(Array(Self.record.utf8), context: "t")
        #expect(info.id == (try DriftID(parsing: Self.id)))
        #expect(info.base == (try ObjectID(parsing: Self.base)))
        let again = try SnapshotRecord(info).encoded()
        #expect(String(decoding: again, as: UTF8.self) == Self.record)
    }

    @Test("report.json writes commit, snapshot, drift_id and follows as the strings it always did")
    func exportReportBytes() throws {
        let info = try SnapshotRecord.decode(Array(Self.record.utf8), context: "t")
        let snapshot = try ObjectID(parsing: "8be554086c5a7a28fe1316984558b10e223749e6")
        let report = ExportReport(info, snapshot: snapshot, host: "web-1", follows: try DriftID(parsing: "89abcdef"))
        let text = String(decoding: try JSONCoding.encode(report), as: UTF8.self)
        #expect(text == """
            {
              "commit" : "\(Self.base)",
              "drift_id" : "\(Self.id)",
              "drift_id_inputs" : [
                "modified .env secret"
              ],
              "files" : [
                {
                  "change" : "modified",
                  "class" : "code",
                  "first_seen" : "2026-11-30T05:00:00Z",
                  "path" : "worker/util.py",
                  "recorded" : "content"
                }
              ],
              "follows" : "89abcdef",
              "host" : "web-1",
              "pip" : [

              ],
              "recorded_at" : "2026-11-30T06:00:00Z",
              "schema" : "drift.export/1",
              "snapshot" : "8be554086c5a7a28fe1316984558b10e223749e6",
              "withheld" : [

              ]
            }

            """, "\(text)")
    }

    @Test("a record whose drift_id or base is not an id is refused with code malformedID, naming the record")
    func recordMalformedID() throws {
        let bad = [("\"drift_id\" : \"\(Self.id)\"", "\"drift_id\" : \"../../heads/main\""),
                   ("\"drift_id\" : \"\(Self.id)\"", "\"drift_id\" : \"0123456789ABCDEF0123\""),
                   ("\"base\" : \"\(Self.base)\"", "\"base\" : \"5f0c6f4a\""),
                   ("\"base\" : \"\(Self.base)\"", "\"base\" : \"\(Self.base.uppercased())\"")]
        for (from, to) in bad {
            let text = Self.record.replacingOccurrences(of: from, with: to)
            #expect(text != Self.record)
            do {
                _ = try SnapshotRecord.decode(Array(text.utf8), context: "journal.git: snapshot abc")
                Issue.record("accepted \(to)")
            } catch let e as DriftError {
                #expect(e.code == .malformedID, "\(to): \(e.message)")
                #expect(e.message.hasPrefix("journal.git: snapshot abc: snapshot record: "), "\(e.message)")
            }
        }
    }

    @Test("DriftID parses 8 to 64 lowercase ASCII hex digits only; ObjectID 40 lowercase ones")
    func parsing() throws {
        for ok in ["01234567", Self.id, String(repeating: "f", count: 64)] {
            #expect(try DriftID(parsing: ok).hex == ok)
        }
        for bad in ["", "0123456", String(repeating: "a", count: 65), "0123456789ABCDEF", "../../x", "01234567\n",
                    "０１２３４５６７", "0123456789abcdeg", "@{-1}aaaaaaaa"] {
            #expect(DriftID(bad) == nil, "\(bad)")
            #expect(throws: DriftError.self) { try DriftID(parsing: bad) }
            do { _ = try DriftID(parsing: bad) } catch { #expect(error.code == .malformedID) }
        }
        #expect(try ObjectID(parsing: Self.base).hex == Self.base)
        for bad in [String(Self.base.dropLast()), Self.base.uppercased(), Self.base + "0", ""] {
            do {
                _ = try ObjectID(parsing: bad)
                Issue.record("accepted \(bad)")
            } catch { #expect(error.code == .malformedID) }
        }
    }

    @Test("trailers parse ids at the edge: a malformed Drift-Id, Drift-Follows or Drift-Base is no id")
    func trailerIDs() throws {
        let ok = DriftTrailers("x\n\nDrift-Id: \(Self.id)\nDrift-Follows: 89abcdef\nDrift-Base: \(Self.base)\n")
        #expect(ok.id?.hex == Self.id && ok.follows?.hex == "89abcdef" && ok.base?.hex == Self.base)
        let bad = DriftTrailers("x\n\nDrift-Id: ../x\nDrift-Follows: ZZ\nDrift-Base: 5f0c\n")
        #expect(bad.id == nil && bad.follows == nil && bad.base == nil && bad.ids.isEmpty)
    }

    @Test("the gate's JSON writes id and base as the strings it always did")
    func gateEntryJSON() throws {
        let r = Gate.EntryResult(id: try DriftID(parsing: Self.id), entry: "e", host: "h",
                                 base: try ObjectID(parsing: Self.base), firstSeen: nil, ageSeconds: nil,
                                 status: .missing, reason: nil, missing: [], supersededBy: DriftID("89abcdef"))
        let json = String(decoding: try JSONCoding.encode(r, pretty: false), as: UTF8.self)
        #expect(json == "{\"base\":\"\(Self.base)\",\"entry\":\"e\",\"host\":\"h\",\"id\":\"\(Self.id)\","
                + "\"missing\":[],\"status\":\"missing\",\"superseded_by\":\"89abcdef\"}\n", "\(json)")
    }
}
