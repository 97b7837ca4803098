import Foundation
@testable import FHIR
import SASDomain
import Testing

/// One test per inconsistency listed in §8 of the IG digest (and the vendor habits of §2.1).
@Suite("Bundle normalisation — vendor and spec quirks")
struct QuirkTests {
    let cpts = NormaliserTests.cptsWindow
    let ps = NormaliserTests.psWindow

    @Test func threeCPTSIdentifierTypeSystemsAreAllAccepted() throws {
        let result = try BundleNormaliser.normalise(data: Fixture.data("quirk-cpts-identifier-type-systems"), flow: .cpts,
                                                    window: cpts, now: cpts.lowerBound)
        #expect(result.problems.isEmpty, "\(result.problems)")
        let slot = try #require(result.slots.first)
        #expect(slot.kinds == [.cpts])
        #expect(slot.structures(.cpts).map(\.idnst?.value) == ["1950047225", "1950046227", "1950045229"])
    }

    @Test func treR66URLVariantsAndExtensionOnlyConceptsDesignateCPTS() throws {
        let result = try BundleNormaliser.normalise(data: Fixture.data("quirk-tre-r66-variants"), flow: .cpts,
                                                    window: cpts, now: cpts.lowerBound)
        #expect(result.problems.isEmpty, "\(result.problems)")
        let slot = try #require(result.slots.first)
        #expect(slot.structures(.cpts).map(\.name) == ["CPTS A", "CPTS B", "CPTS C"])
        #expect(slot.reasons.isEmpty) // "CPTS C" is the label of a CPTS reference, not a consultation reason
        #expect(slot.consultationTypes == [.ambulatory])
    }

    @Test func textOnlySpecialtiesAreKept() throws {
        let result = try BundleNormaliser.normalise(data: Fixture.data("quirk-text-only-specialty"), flow: .individual,
                                                    window: ps, now: ps.lowerBound)
        let slot = try #require(result.slots.first)
        #expect(slot.specialties == [SlotSpecialty(label: "ORL"), SlotSpecialty(label: "Médecine générale")])
    }

    @Test func sosRevincludeLeaksAreDroppedAndCounted() throws {
        let sos = NormaliserTests.sosWindow
        let result = try BundleNormaliser.normalise(data: Fixture.data("quirk-sos-revinclude-leak"), flow: .sos,
                                                    window: sos, now: sos.lowerBound)
        #expect(result.problems.isEmpty, "\(result.problems)")
        #expect(result.slots.map(\.source.slot) == ["ExampleSlotSOS1", "ExampleSlotSOS4"])
        #expect(result.dropped == [.notFree: 2, .outsideWindow: 2, .endNotAfterStart: 2])
        #expect(result.declaredTotal == 8)
    }

    @Test func missingSearchModeAndTotalAreIrrelevant() throws {
        let result = try BundleNormaliser.normalise(data: Fixture.data("quirk-missing-search-mode-and-total"), flow: .individual,
                                                    window: ps, now: ps.lowerBound)
        #expect(result.problems.isEmpty, "\(result.problems)")
        #expect(result.declaredTotal == nil)
        #expect(result.slots.map(\.practitioner?.value) == ["810100050075", "810002673899"])
    }

    @Test func absoluteReferencesAndHistoryURLsResolve() throws {
        let result = try BundleNormaliser.normalise(data: Fixture.data("quirk-absolute-references"), flow: .individual,
                                                    window: ps, now: ps.lowerBound)
        #expect(result.problems.isEmpty, "\(result.problems)")
        let slot = try #require(result.slots.first)
        #expect(slot.practitioner?.value == "810100050075")
        #expect(slot.site.city == "Aussonne")
        #expect(slot.structures.first?.idnst?.value == "1810004421")
        #expect(slot.source.practitionerRole == "AbsRole")
    }

    @Test func everyInstantFormIsNormalised() throws {
        let result = try BundleNormaliser.normalise(data: Fixture.data("quirk-instant-forms"), flow: .individual,
                                                    window: ps, now: ps.lowerBound)
        #expect(result.problems.isEmpty, "\(result.problems)")
        #expect(result.slots.map(\.start) == [instant("2021-11-05T09:00:00Z"), instant("2021-11-05T09:00:00Z"),
                                               instant("2021-11-05T10:00:00.123456Z"), instant("2021-11-05T11:00:00Z"),
                                               instant("2021-11-05T11:00:00Z")])
        #expect(result.slots.map(\.assumedLocalTime) == [false, false, false, true, false])
        #expect(result.slots[2].end == instant("2021-11-05T10:30:00.5Z"))
    }

    @Test func unprefixedIdentifiersAreNormalised() throws {
        let result = try BundleNormaliser.normalise(data: Fixture.data("quirk-unprefixed-identifiers"), flow: .cpts,
                                                    window: cpts, now: cpts.lowerBound)
        #expect(result.problems.isEmpty, "\(result.problems)")
        let slot = try #require(result.slots.first)
        #expect(slot.practitioner?.value == "810100050075")
        #expect(slot.structures(.practice).first?.idnst?.value == "1810004421")
        #expect(slot.structures(.cpts).first?.idnst?.value == "1950047225")
    }

    @Test func slotsBeforeNowAreDropped() throws {
        let now = instant("2021-11-05T12:00:00Z")
        let result = try BundleNormaliser.normalise(data: Fixture.data("bundle-psindiv"), flow: .individual, window: ps, now: now)
        #expect(result.slots.map(\.source.slot) == ["ExampleSlotPSIndiv3", "ExampleSlotPSIndiv4"])
        #expect(result.dropped == [.startsInPast: 2])
    }

    @Test func nonSearchsetBundlesAreReportedNotRejected() throws {
        let data = try Fixture.edited("bundle-psindiv") { $0["type"] = "collection" }
        let result = try BundleNormaliser.normalise(data: data, flow: .individual, window: ps, now: ps.lowerBound)
        #expect(result.slots.count == 4)
        #expect(result.problems.map(\.reason) == [.bundleStructure])
    }
}
