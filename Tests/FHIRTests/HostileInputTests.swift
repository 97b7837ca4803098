import Foundation
@testable import FHIR
import SASDomain
import Testing

@Suite("Hostile inputs")
struct HostileInputTests {
    let ps = NormaliserTests.psWindow

    @Test func wholeDocumentFailuresAreTyped() throws {
        let good = try Fixture.data("bundle-psindiv")
        #expect(throws: FHIRDecodingError.empty) { try FHIRJSON.decodeBundle(Data()) }
        #expect(throws: FHIRDecodingError.notAResource) { try FHIRJSON.decodeBundle(Data("[1,2]".utf8)) }
        #expect(throws: FHIRDecodingError.notAResource) { try FHIRJSON.decodeBundle(Data(#"{"type":"searchset"}"#.utf8)) }
        #expect(throws: FHIRDecodingError.tooLarge(bytes: good.count, limit: 1000)) {
            try FHIRJSON.decodeBundle(good, maxBytes: 1000)
        }
        for bad in ["<html><body>502</body></html>", "{\"resourceType\":\"Bundle\",}", "{\"resourceType\":\"Bundle\"} x"] {
            do {
                _ = try FHIRJSON.decodeBundle(Data(bad.utf8))
                Issue.record("accepted \(bad)")
            } catch {
                guard case .invalidJSON = error else { Issue.record("\(bad): \(error)"); continue }
            }
        }
        let patient = #"{"resourceType":"Patient","id":"p"}"#
        #expect(throws: FHIRDecodingError.unexpectedResourceType(expected: "Bundle", found: "Patient", outcome: nil)) {
            try FHIRJSON.decodeBundle(Data(patient.utf8))
        }
    }

    @Test(arguments: [0.1, 0.33, 0.5, 0.77, 0.999])
    func truncatedDocumentsAreTyped(fraction: Double) throws {
        let good = try Fixture.data("bundle-psindiv")
        let cut = good.prefix(Int(Double(good.count) * fraction))
        do {
            _ = try BundleNormaliser.normalise(data: cut, flow: .individual, window: ps, now: ps.lowerBound)
            Issue.record("truncated document accepted")
        } catch {
            switch error {
            case .truncated, .invalidJSON: break
            default: Issue.record("unexpected \(error)")
            }
            #expect(!error.message.isEmpty)
        }
    }

    @Test func wrongTypesStayInsideTheirEntry() throws {
        let data = try Fixture.edited("bundle-psindiv") { root in
            var entries = try #require(root["entry"] as? [[String: Any]])
            var r1 = try #require(entries[1]["resource"] as? [String: Any])
            r1["start"] = 123
            entries[1]["resource"] = r1
            var r2 = try #require(entries[2]["resource"] as? [String: Any])
            r2["meta"] = "oops"
            entries[2]["resource"] = r2
            entries[8]["fullUrl"] = ["not": "a string"]
            root["entry"] = entries
            root["total"] = "four"
        }
        let bundle = try FHIRJSON.decodeBundle(data)
        #expect(bundle.entry?.count == 12)
        #expect(bundle.entry?[1].decodingIssue?.resourceType == "Slot")
        #expect(bundle.entry?[1].decodingIssue?.path == "start")
        #expect(bundle.total == nil)
        let result = BundleNormaliser.normalise(bundle: bundle, flow: .individual, window: ps, now: ps.lowerBound)
        #expect(result.slots.map(\.source.slot) == ["ExampleSlotPSIndiv1"])
        #expect(result.problems.filter { $0.reason == .undecodableEntry }.compactMap(\.entryIndex) == [1, 2, 8])
        #expect(result.problems.filter { $0.reason == .bundleStructure }.count == 1) // total
        // Practitioner3 (entry 8) was lost, so slot 4 (entry 3) has no practitioner left: a problem, not a slot.
        #expect(result.problems(.unresolvedPractitioner).compactMap(\.entryIndex) == [3])
    }

    @Test func unresolvablePractitionersBecomeProblems() throws {
        let data = try Fixture.edited("bundle-psindiv") { root in
            let entries = try #require(root["entry"] as? [[String: Any]])
            // Drop Practitioner3 and PractitionerRole3: Schedule3 leads nowhere.
            root["entry"] = entries.filter {
                let id = ($0["resource"] as? [String: Any])?["id"] as? String
                return id != "ExamplePractitioner3" && id != "ExamplePractitionerRoleAgregateur3"
            }
        }
        let result = try BundleNormaliser.normalise(data: data, flow: .individual, window: ps, now: ps.lowerBound)
        #expect(result.slots.count == 3)
        let problem = try #require(result.problems(.unresolvedPractitioner).first)
        #expect(problem.entryIndex == 3)
        #expect(problem.fullUrl == "https://exemple.com/ans-sas/Slot/ExampleSlotPSIndiv4")
    }

    @Test func unknownResourceTypesAreCountedNotFatal() throws {
        let data = try Fixture.edited("bundle-psindiv") { root in
            var entries = try #require(root["entry"] as? [[String: Any]])
            entries.insert(["fullUrl": "https://x/Basic/1", "resource": ["resourceType": "Basic", "id": "1", "code": ["text": "?"]]], at: 0)
            entries.append(["resource": ["resourceType": "Bundle", "type": "collection", "entry": []]])
            root["entry"] = entries
        }
        let result = try BundleNormaliser.normalise(data: data, flow: .individual, window: ps, now: ps.lowerBound)
        #expect(result.slots.count == 4)
        #expect(result.unknownResourceTypes == ["Basic": 1, "Bundle": 1])
        #expect(result.problems.isEmpty)
    }

    @Test func duplicateIDsKeepTheFirstAndReport() throws {
        let data = try Fixture.edited("bundle-psindiv") { root in
            var entries = try #require(root["entry"] as? [[String: Any]])
            var copy = entries[0]
            copy["fullUrl"] = "https://exemple.com/ans-sas/Slot/ExampleSlotPSIndiv1-copy"
            entries.append(copy)
            var schedule = entries[4] // ExampleSchedule1, pointing elsewhere
            var resource = try #require(schedule["resource"] as? [String: Any])
            resource["actor"] = [["reference": "Practitioner/ExamplePractitioner3"]]
            schedule["resource"] = resource
            schedule["fullUrl"] = "https://exemple.com/ans-sas/Schedule/ExampleSchedule1-bis"
            entries.append(schedule)
            root["entry"] = entries
        }
        let result = try BundleNormaliser.normalise(data: data, flow: .individual, window: ps, now: ps.lowerBound)
        #expect(result.slots.count == 4)
        #expect(result.droppedCount(.duplicate) == 1)
        #expect(result.problems(.duplicateID).compactMap(\.entryIndex) == [12, 13])
        #expect(result.slots[0].practitioner?.value == "810100050075") // first Schedule1 wins
    }

    @Test func referenceCyclesAreDetected() throws {
        let data = try Fixture.edited("bundle-psindiv") { root in
            var entries = try #require(root["entry"] as? [[String: Any]])
            var roleEntry = entries[9]
            var role = try #require(roleEntry["resource"] as? [String: Any])
            role["location"] = [["reference": "Location/A"]]
            roleEntry["resource"] = role
            entries[9] = roleEntry
            entries.append(["resource": ["resourceType": "Location", "id": "A", "partOf": ["reference": "Location/B"]]])
            entries.append(["resource": ["resourceType": "Location", "id": "B", "partOf": ["reference": "Location/A"]]])
            root["entry"] = entries
        }
        let result = try BundleNormaliser.normalise(data: data, flow: .individual, window: ps, now: ps.lowerBound)
        #expect(result.slots.count == 4)
        #expect(result.problems(.referenceCycle).count == 1)
        #expect(result.slots[0].site.addressLines.isEmpty)
    }

    @Test func deepNestingIsBoundedNeverACrash() throws {
        func nested(_ depth: Int) -> String { String(repeating: "[", count: depth) + "1" + String(repeating: "]", count: depth) }
        // 50 levels inside an unknown element: skipped, the slot survives.
        let fifty = try Fixture.edited("bundle-psindiv") { root in
            var entries = try #require(root["entry"] as? [[String: Any]])
            var slot = try #require(entries[0]["resource"] as? [String: Any])
            slot["vendorExtra"] = try JSONSerialization.jsonObject(with: Data(nested(50).utf8))
            // 50 levels of modelled extensions: beyond the model depth limit, the entry becomes a problem.
            var ext: [String: Any] = ["url": "urn:leaf", "valueString": "x"]
            for i in 0..<50 { ext = ["url": "urn:level\(i)", "extension": [ext]] }
            var other = try #require(entries[1]["resource"] as? [String: Any])
            other["extension"] = [ext]
            entries[0]["resource"] = slot
            entries[1]["resource"] = other
            root["entry"] = entries
        }
        let result = try BundleNormaliser.normalise(data: fifty, flow: .individual, window: ps, now: ps.lowerBound)
        #expect(result.slots.map(\.source.slot) == ["ExampleSlotPSIndiv1", "ExampleSlotPSIndiv3", "ExampleSlotPSIndiv4"])
        #expect(result.problems(.undecodableEntry).map(\.entryIndex) == [1])

        // 100 000 levels: rejected as a whole, without exhausting the stack (29-byte prefix + 4096 open brackets).
        let abyss = Data((#"{"resourceType":"Bundle","x":"# + nested(100_000) + "}").utf8)
        #expect(throws: FHIRDecodingError.nestingTooDeep(offset: 29 + 4_096, limit: JSONReader.skipDepthLimit)) {
            try FHIRJSON.decodeBundle(abyss)
        }
    }

    @Test func tenMegabyteBundleStaysWithinMemoryBudget() throws {
        let shape = SyntheticBundles.Shape(practitioners: 150, days: 7, slotsPerDay: 10)
        let start = FHIRBenchmark.referenceStart
        let data = SyntheticBundles.individualSearchsetData(shape: shape, seed: 9, start: start)
        #expect(data.count > 10_000_000)
        let before = residentBytes()
        let result = try BundleNormaliser.normalise(data: data, flow: .individual,
                                                    window: start...start.addingTimeInterval(8 * 86_400), now: start)
        let after = residentBytes()
        #expect(result.slots.count > 9_000)
        #expect(result.problems.isEmpty)
        if let before, let after {
            #expect(after - before < 64 * 1024 * 1024, "RSS grew by \((after - before) / 1_048_576) MB")
        }
    }
}
