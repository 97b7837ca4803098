import Foundation
@testable import FHIR
import SASDomain
import Testing

@Suite("Bundle normalisation — IG examples")
struct NormaliserTests {
    static let psWindow = window("2021-11-04T14:19:35.760+00:00", "2021-11-06T23:59:59.999+00:00")

    @Test func psIndividualBundle() throws {
        let result = try BundleNormaliser.normalise(data: Fixture.data("bundle-psindiv"), flow: .individual,
                                                    window: Self.psWindow, now: Self.psWindow.lowerBound)
        #expect(result.problems.isEmpty, "\(result.problems)")
        #expect(result.dropped.isEmpty)
        #expect(result.declaredTotal == 4)
        #expect(result.entryCount == 12)
        try #require(result.slots.count == 4)
        let thomas = try IDNPS(parsing: "810100050075"), marcel = try IDNPS(parsing: "810002673899")
        #expect(result.slots.map(\.practitioner) == [thomas, thomas, thomas, marcel])
        #expect(result.slots.map(\.start) == [instant("2021-11-05T09:00:00Z"), instant("2021-11-05T10:00:00Z"),
                                               instant("2021-11-05T13:00:00Z"), instant("2021-11-06T08:00:00Z")])

        let s1 = result.slots[0]
        #expect(s1.end == instant("2021-11-05T09:30:00Z"))
        #expect(s1.kinds == [.public])
        #expect(s1.consultationTypes == [.ambulatory, .teleconsultation])
        #expect(s1.reasons == ["Visite de contrôle"])
        #expect(s1.specialties == [SlotSpecialty(system: FHIRSystems.specialtyR38, code: "SM54", label: "Médecine générale"),
                                   SlotSpecialty(system: FHIRSystems.specialtyR38, code: "SM05", label: nil)])
        #expect(s1.bookingMode == .routine)
        #expect(s1.withAppointment)
        #expect(s1.bookingURL == "https://www.editeur.com/agenda/810100050075")
        #expect(s1.site == SlotSite(addressLines: ["25 CHEMIN DE MOUNESTIE"], postalCode: "31840", city: "Aussonne",
                                    phone: "+33561855977"))
        #expect(s1.structures == [SlotStructure(role: .practice, idnst: try IDNST(parsing: "412345678912345"))])
        #expect(s1.structures.first?.idnst?.kind == .rppsRang)
        #expect(s1.practitionerFamilyName == "THOMAS")
        #expect(s1.practitionerGivenName == "Sébastien")
        #expect(s1.source == SlotSourceIDs(slot: "ExampleSlotPSIndiv1", fullUrl: "https://exemple.com/ans-sas/Slot/ExampleSlotPSIndiv1",
                                           schedule: "ExampleSchedule1", practitioner: "ExamplePractitioner2",
                                           practitionerRole: "ExamplePractitionerRoleAgregateur", location: "ExampleLocation"))
        #expect(!s1.assumedLocalTime)

        let s2 = result.slots[1]
        #expect(s2.kinds == [.pro])
        #expect(s2.bookingMode == .walkIn)
        #expect(!s2.withAppointment)
        #expect(s2.bookingURL == nil)
        #expect(s2.reasons == ["Visite urgente"])
        #expect(s2.specialties == [SlotSpecialty(system: FHIRSystems.specialtyR38, code: "SM54", label: "Médecine générale")])
        #expect(s2.site.addressLines == ["1 rue Mme DELMAS"])
        #expect(s2.site.city == "AGEN")
        #expect(s2.structures.first?.idnst?.value == "1810004421")

        let s3 = result.slots[2]
        #expect(s3.kinds == [.public, .pro])
        #expect(s3.consultationTypes == [.teleconsultation])
        #expect(s3.reasons == ["Téléconsultation de suivi", "Renouvellement d'ordonnance"])
        #expect(s3.specialties.map(\.code) == ["SM41", nil])
        #expect(s3.specialties.map(\.label) == ["Pneumologie", "Pneumologie"])
        #expect(s3.bookingMode == nil)
        #expect(s3.withAppointment)

        let s4 = result.slots[3]
        #expect(s4.consultationTypes == [.homeVisit])
        #expect(s4.specialties.map(\.code) == ["SM41", "SM54"])
        #expect(s4.site.addressLines == ["30 rue Mme DELMAS"])
        #expect(s4.structures.first?.idnst?.value == "1810004956")
        #expect(s4.practitionerFamilyName == "MARCEL")
    }

    @Test func standaloneSlotsMapToDomainValues() throws {
        let expectations: [(String, SlotKinds, ConsultationTypes, [String?], BookingMode?)] = [
            ("slot-psindiv-1", [.public], [.ambulatory, .teleconsultation], ["SM54", "SM05"], .routine),
            ("slot-psindiv-2", [.pro], [.ambulatory], ["SM54"], .walkIn),
            ("slot-psindiv-3", [.public, .pro], [.teleconsultation], ["SM41", nil], nil),
            ("slot-psindiv-4", [.public, .pro], [.homeVisit], ["SM41", "SM54"], .routine),
            ("slot-psindiv-5", [.pro], [.ambulatory], [nil], .walkIn),
        ]
        for (name, kinds, types, codes, mode) in expectations {
            let slot = try FHIRJSON.decode(Slot.self, from: Fixture.data(name))
            #expect(SlotMapping.kinds(slot.meta) == kinds, "\(name)")
            #expect(SlotMapping.consultation(slot.serviceType).0 == types, "\(name)")
            #expect(SlotMapping.specialties(slot.specialty).map(\.code) == codes, "\(name)")
            #expect(SlotMapping.bookingMode(slot.appointmentType) == mode, "\(name)")
        }
        let five = try FHIRJSON.decode(Slot.self, from: Fixture.data("slot-psindiv-5"))
        #expect(SlotMapping.specialties(five.specialty) == [SlotSpecialty(label: "Médecine générale")])
    }

    static let cptsWindow = window("2024-06-12T16:20:00.000+02:00", "2024-06-15T16:20:00.000+02:00")

    @Test func cptsBundleOne() throws {
        let result = try BundleNormaliser.normalise(data: Fixture.data("bundle-cpts-1"), flow: .cpts,
                                                    window: Self.cptsWindow, now: Self.cptsWindow.lowerBound)
        #expect(result.problems.isEmpty, "\(result.problems)")
        let slot = try #require(result.slots.first)
        #expect(result.slots.count == 1)
        #expect(slot.practitioner == (try IDNPS(parsing: "810002909371")))
        #expect(slot.start == instant("2024-06-12T14:40:00Z"))
        #expect(slot.end == instant("2024-06-12T15:00:00Z"))
        #expect(slot.kinds == [.public, .cpts])
        #expect(slot.consultationTypes == [.ambulatory])
        #expect(slot.reasons == ["Consultation non programmée"])
        #expect(slot.structures(.practice).map(\.idnst?.value) == ["1810004421"])
        #expect(slot.structures(.cpts) == [SlotStructure(role: .cpts, idnst: try IDNST(parsing: "1950047225"),
                                                         name: "CPTS AXE MAJEUR", phone: "+33102030405")])
        #expect(slot.site.phone == "+33658913859")
    }

    @Test func cptsBundleTwoSharesTheSlotWithTwoCPTS() throws {
        let result = try BundleNormaliser.normalise(data: Fixture.data("bundle-cpts-2"), flow: .cpts,
                                                    window: Self.cptsWindow, now: Self.cptsWindow.lowerBound)
        #expect(result.problems.isEmpty, "\(result.problems)")
        let slot = try #require(result.slots.first)
        #expect(slot.structures(.cpts).map(\.idnst?.value) == ["1950047225", "1950046227"])
        #expect(slot.structures(.cpts).map(\.name) == ["CPTS AXE MAJEUR", "CPTS VAL D OISE CENTRE"])
        #expect(slot.reasons == ["Visite de contrôle"])
        #expect(slot.consultationTypes == [.ambulatory])
    }

    static let sosWindow = window("2023-08-18T09:00:00+02:00", "2023-08-20T08:00:00+02:00")

    @Test func sosBundle() throws {
        let result = try BundleNormaliser.normalise(data: Fixture.data("bundle-sos"), flow: .sos,
                                                    window: Self.sosWindow, now: Self.sosWindow.lowerBound)
        #expect(result.problems.isEmpty, "\(result.problems)")
        #expect(result.declaredTotal == 4)
        try #require(result.slots.count == 4)
        #expect(result.slots.allSatisfy { $0.practitioner == nil && $0.flow == .sos })
        #expect(result.slots.map(\.source.slot) == ["ExampleSlotSOS1", "ExampleSlotSOS2", "ExampleSlotSOS3", "ExampleSlotSOS4"])
        #expect(result.slots.map { $0.structures.first?.idnst?.value } ==
                ["334173748400020", "334173748400020", "392080466300010", "392080466300010"])
        let first = result.slots[0]
        #expect(first.kinds == [.public, .snp])
        #expect(first.consultationTypes == [.ambulatory, .teleconsultation])
        #expect(first.bookingURL == "http://www.editeur.com/agenda-pfg/creneau1")
        #expect(first.site == SlotSite(name: "SOS Médecins Rennes Nord", addressLines: ["12 rue de Saint-Malo"],
                                       postalCode: "35000", city: "Rennes", phone: "+33299000001"))
        #expect(first.structures == [SlotStructure(role: .sosAssociation, idnst: try IDNST(parsing: "334173748400020"),
                                                   name: "SOS Médecins de Rennes")])
        #expect(result.slots[2].site.city == "Lorient")
        #expect(result.slots[2].structures.first?.name == "SOS Médecins Lorient et agglomération")
        #expect(result.slots[3].start == instant("2023-08-19T09:30:00Z"))
    }
}
