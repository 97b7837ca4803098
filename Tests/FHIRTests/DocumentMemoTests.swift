import Foundation
@testable import FHIR
import Testing

/// The per-document memo hands out an already decoded `meta` or `CodeableConcept` for identical bytes; decoding also
/// depends on the depth those bytes sit at (the model depth limit), so a value decoded at one depth must not be
/// handed out deeper, where decoding it would fail.
@Suite("Document memo")
struct DocumentMemoTests {
    static let concept = #"{"coding":[{"system":"http://example.org/cs","code":"AMB","display":"Ambulatoire"}],"text":"t"}"#

    /// A Slot whose `extension` nests `levels` extensions, the innermost carrying `concept`.
    static func deepSlot(id: String, levels: Int) -> String {
        var ext = #"{"url":"http://example.org/leaf","valueCodeableConcept":\#(concept)}"#
        for _ in 0..<levels { ext = #"{"url":"http://example.org/node","extension":[\#(ext)]}"# }
        return #"{"resource":{"resourceType":"Slot","id":"\#(id)","status":"free","extension":[\#(ext)]}}"#
    }

    static let shallowSlot =
        #"{"resource":{"resourceType":"Slot","id":"shallow","status":"free","serviceType":[\#(concept)],"meta":{"profile":["p"]}}}"#

    static func decode(_ entries: [String]) throws -> [EntryDecodingIssue?] {
        let json = #"{"resourceType":"Bundle","type":"searchset","entry":["# + entries.joined(separator: ",") + "]}"
        return try FHIRJSON.decodeBundle(Data(json.utf8)).entry?.map(\.decodingIssue) ?? []
    }

    @Test func aConceptSeenShallowIsNotHandedOutWhereItIsTooDeep() throws {
        var failing = 0, passing = 0
        for levels in 20...34 {
            let alone = try Self.decode([Self.deepSlot(id: "deep", levels: levels)])
            let afterShallow = try Self.decode([Self.shallowSlot, Self.deepSlot(id: "deep", levels: levels)])
            let beforeShallow = try Self.decode([Self.deepSlot(id: "deep", levels: levels), Self.shallowSlot])
            #expect(afterShallow.count == 2 && beforeShallow.count == 2)
            #expect(afterShallow[0] == nil && beforeShallow[1] == nil, "the shallow slot decodes")
            let deepFails = alone[0] != nil
            #expect((afterShallow[1] != nil) == deepFails, "\(levels) levels after a shallow twin")
            #expect((beforeShallow[0] != nil) == deepFails, "\(levels) levels before a shallow twin")
            if deepFails { failing += 1 } else { passing += 1 }
        }
        #expect(failing > 0 && passing > 0, "the range must cross the depth limit (\(failing) failing, \(passing) passing)")
    }

    @Test func repeatedSubValuesDecodeAlikeEverywhere() throws {
        // The same meta and concept on many resources, at two depths (resource and contained resource).
        let role = #"{"resource":{"resourceType":"PractitionerRole","id":"R","meta":{"profile":["p"]},"#
            + #""contained":[{"resourceType":"Location","id":"L","meta":{"profile":["p"]},"#
            + #""identifier":[{"type":\#(Self.concept),"value":"1"}]}],"code":[\#(Self.concept)]}}"#
        let json = #"{"resourceType":"Bundle","entry":["# + Array(repeating: role, count: 5).joined(separator: ",") + "]}"
        let entries = try FHIRJSON.decodeBundle(Data(json.utf8)).entry ?? []
        #expect(entries.count == 5)
        for entry in entries {
            guard case .practitionerRole(let r)? = entry.resource, case .location(let l)? = r.contained?.first else {
                Issue.record("undecoded \(String(describing: entry.decodingIssue))")
                continue
            }
            #expect(r.meta?.profile == ["p"] && l.meta?.profile == ["p"])
            #expect(l.identifier?.first?.type?.coding?.first?.code == "AMB" && l.identifier?.first?.type?.text == "t")
        }
    }
}
