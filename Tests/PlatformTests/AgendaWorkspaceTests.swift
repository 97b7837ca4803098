import Agenda
import Aggregator
import Directory
import Foundation
import Identity
import Sandbox
import SASDomain
import Search
import Storage
import Testing
@testable import Web

/// Fixed instants for the store tests: "now" is 1 March 2026, before both daylight-saving changes of 2026
/// (29 March and 25 October, the last Sundays).
private let march1 = ParisClock.instant(LocalDay("2026-03-01")!, minute: 8 * 60)

private func day(_ text: String) -> LocalDay { LocalDay(text)! }

private func utc(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

/// A practitioner with one site in Lyon, for the store tests.
private func seedPractitioner(_ db: any Database, _ idnps: IDNPS, family: String = "Roux") async throws -> Int64 {
    let address = PostalAddress(number: "12", streetType: "Rue", streetName: "Paul Bert", postcode: "69003", city: "Lyon")
    let site = DirectoryStore.siteID(idnps: idnps.value, address: address)
    try await db.transaction { tx in
        try await DirectoryStore.upsert([Practitioner(
            idnps: idnps, civility: .madame, exerciseCivility: "DR", familyName: family, givenName: "Anne", professionCode: "10",
            specialtyCodes: ["SM54"], participation: SASParticipation(participates: true, mode: .individual, structure: nil,
                                                                      acceptsExtraPatients: true, forfaitReorientation: false, vacations: []))],
            source: "test", keepParticipation: false, on: tx)
        try await DirectoryStore.upsert([PracticeSite(
            id: site, practitioner: idnps, address: address, postcodeIsSynthetic: false, inseeCode: "69383", departmentCode: "69",
            latitude: 45.7597, longitude: 4.8466, phone: "+33478000005", structure: nil, placeID: nil)], on: tx)
        try await DirectoryStore.bumpVersion(on: tx)
    }
    return site
}

@Suite("SAS agenda: Paris wall-clock time, weekly series across daylight saving, validation, conflicts, capacity")
struct AgendaBookTests {
    static let roux = try! IDNPS(parsing: PSCProfessional.fixtures[4].idnps)

    @Test("Paris wall-clock: the spring gap moves forward, the autumn repeat takes summer time, days and clocks parse")
    func parisClock() {
        #expect(ParisClock.instant(day("2026-03-28"), minute: 9 * 60) == utc("2026-03-28T08:00:00Z"))
        #expect(ParisClock.instant(day("2026-03-29"), minute: 9 * 60) == utc("2026-03-29T07:00:00Z"))
        // 02:30 does not exist on 29 March 2026: 03:30 summer time.
        #expect(ParisClock.instant(day("2026-03-29"), minute: 150) == utc("2026-03-29T01:30:00Z"))
        // 02:30 exists twice on 25 October 2026: the first (summer time, UTC+2).
        #expect(ParisClock.instant(day("2026-10-25"), minute: 150) == utc("2026-10-25T00:30:00Z"))
        #expect(ParisClock.instant(day("2026-10-25"), minute: 9 * 60) == utc("2026-10-25T08:00:00Z"))
        #expect(ParisClock.instant(day("2026-10-24"), minute: 1440) == utc("2026-10-24T22:00:00Z"))
        #expect(ParisClock.day(of: utc("2026-10-24T22:30:00Z")) == day("2026-10-25"))
        #expect(ParisClock.minute(of: utc("2026-03-29T07:00:00Z")) == 9 * 60)
        #expect(day("2026-03-29").weekday == 7 && day("2026-03-30").weekday == 1 && day("2026-03-30").monday == day("2026-03-30"))
        #expect(LocalDay("2026-02-30") == nil && LocalDay("2026-3-1") == nil && LocalDay("hier") == nil)
        #expect(ParisClock.parseClock("9h30") == 570 && ParisClock.parseClock("09:05") == 545 && ParisClock.parseClock("24:00") == 1440)
        #expect(ParisClock.parseClock("25:00") == nil && ParisClock.parseClock("9:75") == nil)
        #expect(AgendaBook.weeklyDays(from: day("2026-03-23"), through: day("2026-04-06")).map(\.description)
                == ["2026-03-23", "2026-03-30", "2026-04-06"])
    }

    @Test("Weekly series across both daylight-saving changes keep their wall-clock time", arguments: TestDatabases.engines)
    func recurrenceAcrossDST(engine: SQLDialect) async throws {
        try await TestDatabases.withDatabase(engine) { db, _ in
            let site = try await seedPractitioner(db, Self.roux)
            let book = AgendaBook(database: db)
            // Every Sunday 09:00–12:00, a range of 4, from 22 March to 1 November 2026.
            let made = try await book.create(SlotDraft(
                practitioner: Self.roux, siteID: site, day: day("2026-03-22"), startMinute: 9 * 60, endMinute: 12 * 60,
                capacity: 4, consultationTypes: [.ambulatory, .homeVisit], repeatUntil: day("2026-11-01")), actor: "medecin", now: march1)
            let series = try #require(made.series)
            #expect(series.weekday == 7)
            #expect(made.occurrences.count == 33)
            let starts = made.occurrences.map(\.start)
            #expect(starts.first == utc("2026-03-22T08:00:00Z"))          // winter time, UTC+1
            #expect(starts[1] == utc("2026-03-29T07:00:00Z"))             // the change day itself: summer time, UTC+2
            #expect(starts.contains(utc("2026-10-18T07:00:00Z")))
            #expect(starts.contains(utc("2026-10-25T08:00:00Z")))         // back to winter time
            #expect(starts.last == utc("2026-11-01T08:00:00Z"))
            let stored = try await book.occurrences(practitioner: Self.roux.value, structure: nil, from: march1, to: utc("2027-01-01T00:00:00Z"))
            #expect(stored.count == 33)
            #expect(stored.allSatisfy { $0.startMinute == 9 * 60 && $0.endMinute == 12 * 60 && $0.capacity == 4 && $0.seriesID == series.id })
            // Every stored occurrence lasts three hours, whatever the offset of its day.
            #expect(stored.allSatisfy { $0.end.timeIntervalSince($0.start) == 3 * 3_600 })

            // A night slot at 02:30 on the spring change day is moved to 03:30 (the gap), its end kept at 04:00.
            let night = try await book.create(SlotDraft(
                practitioner: Self.roux, siteID: site, day: day("2026-03-29"), startMinute: 150, endMinute: 240, capacity: 1,
                consultationTypes: [.homeVisit]), actor: "medecin", now: march1)
            #expect(night.occurrences.first?.start == utc("2026-03-29T01:30:00Z"))
            #expect(night.occurrences.first?.end == utc("2026-03-29T02:00:00Z"))

            // The series is edited from 1 June on: 14:00–15:00, capacity 2; past-June occurrences move, earlier ones stay.
            let june1 = ParisClock.instant(day("2026-06-01"), minute: 0)
            let edited = try await book.updateSeries(series.id, expectedVersion: 1, to: SlotChange(
                day: day("2026-06-07"), startMinute: 14 * 60, endMinute: 15 * 60, capacity: 2, consultationTypes: [.teleconsultation],
                siteID: site), actor: "medecin", now: june1)
            #expect(edited.kept == 0 && edited.series.version == 2)
            let after = try await book.occurrences(practitioner: Self.roux.value, structure: nil, from: june1, to: utc("2027-01-01T00:00:00Z"))
            #expect(after.count == 22 && after.allSatisfy { $0.startMinute == 14 * 60 && $0.capacity == 2 })
            #expect(after.contains { $0.start == utc("2026-10-25T13:00:00Z") })
            let before = try await book.occurrences(practitioner: Self.roux.value, structure: nil, from: march1, to: june1)
                .filter { $0.seriesID == series.id }
            #expect(before.count == 11 && before.allSatisfy { $0.startMinute == 9 * 60 })
            // A stale series version is refused.
            await #expect(throws: AgendaError(.conflict, "Cette récurrence vient d'être modifiée par quelqu'un d'autre : rechargez la semaine et recommencez.")) {
                _ = try await book.updateSeries(series.id, expectedVersion: 1, to: SlotChange(
                    day: day("2026-06-07"), startMinute: 16 * 60, endMinute: 17 * 60, capacity: 2, consultationTypes: [.ambulatory],
                    siteID: site), actor: "medecin", now: june1)
            }
            // Deleting the series removes its future occurrences without patients.
            let removed = try await book.deleteSeries(series.id, actor: "medecin", now: june1)
            #expect(removed.deleted == 22 && removed.kept == 0)
            #expect(try await book.series(series.id) == nil)
            let audit = try await db.query("SELECT action FROM audit_log WHERE action LIKE 'agenda.%' ORDER BY id").compactMap { $0.optionalString("action") }
            #expect(audit == ["agenda.create", "agenda.create", "agenda.series.update", "agenda.series.delete"])
        }
    }

    @Test("Bad input refused in French: overlap, zero capacity, past, series beyond a year, no modality, stale version")
    func validation() async throws {
        try await TestDatabases.withDatabase(.sqlite) { db, _ in
            let site = try await seedPractitioner(db, Self.roux)
            let book = AgendaBook(database: db)
            func draft(_ d: String, _ start: Int, _ end: Int, capacity: Int = 1, types: ConsultationTypes = [.ambulatory],
                       until: String? = nil) -> SlotDraft {
                SlotDraft(practitioner: Self.roux, siteID: site, day: day(d), startMinute: start, endMinute: end, capacity: capacity,
                          consultationTypes: types, repeatUntil: until.map(day))
            }
            let first = try await book.create(draft("2026-03-10", 9 * 60, 10 * 60), actor: "m", now: march1).occurrences[0]
            func refusal(_ d: SlotDraft) async -> AgendaError? {
                do { _ = try await book.create(d, actor: "m", now: march1); return nil } catch let e as AgendaError { return e } catch { return nil }
            }
            let overlap = await refusal(draft("2026-03-10", 9 * 60 + 30, 11 * 60))
            #expect(overlap?.kind == .conflict && overlap?.message.contains("chevauche") == true && overlap?.message.contains("mardi 10 mars 2026") == true)
            // A weekly series clashing on one of its weeks is refused as a whole.
            let seriesOverlap = await refusal(draft("2026-03-03", 9 * 60, 9 * 60 + 15, until: "2026-03-31"))
            #expect(seriesOverlap?.kind == .conflict)
            #expect(try await book.occurrences(practitioner: Self.roux.value, structure: nil, from: march1, to: utc("2026-12-01T00:00:00Z")).count == 1)
            #expect(await refusal(draft("2026-03-10", 10 * 60, 11 * 60)) == nil, "back-to-back is not an overlap")
            #expect(await refusal(draft("2026-03-11", 9 * 60, 10 * 60, capacity: 0))?.message.contains("capacité 0") == true)
            #expect(await refusal(draft("2026-02-27", 9 * 60, 10 * 60))?.message.contains("passé") == true)
            #expect(await refusal(draft("2026-03-11", 9 * 60, 10 * 60, until: "2027-03-12"))?.message.contains("un an") == true)
            #expect(await refusal(draft("2026-03-11", 9 * 60, 10 * 60, until: "2026-03-01"))?.kind == .invalid)
            #expect(await refusal(draft("2026-03-11", 9 * 60, 10 * 60, types: []))?.message.contains("modalité") == true)
            #expect(await refusal(draft("2026-03-11", 10 * 60, 9 * 60))?.message.contains("doit suivre") == true)
            #expect(await refusal(draft("2026-03-11", 9 * 60, 9 * 60 + 2))?.kind == .invalid)
            #expect(await refusal(draft("2026-03-11", 9 * 60, 10 * 60, capacity: 51))?.kind == .invalid)
            var foreignSite = draft("2026-03-12", 9 * 60, 10 * 60)
            foreignSite.siteID = 42
            #expect(await refusal(foreignSite)?.message.contains("lieu d'exercice") == true)

            // Two edits of one occurrence from the same version: the first wins, the second is told.
            let change = SlotChange(day: day("2026-03-10"), startMinute: 8 * 60, endMinute: 9 * 60, capacity: 1,
                                    consultationTypes: [.ambulatory], siteID: site)
            let updated = try await book.update(first.id, expectedVersion: first.version, to: change, actor: "m", now: march1)
            #expect(updated.version == first.version + 1 && updated.startMinute == 8 * 60)
            await #expect(throws: AgendaError.self) {
                _ = try await book.update(first.id, expectedVersion: first.version, to: change, actor: "m", now: march1)
            }
            await #expect(throws: AgendaError.self) { try await book.delete(first.id, expectedVersion: first.version, actor: "m", now: march1) }
            // Nothing half-saved: the refused edits left the row as the winner wrote it.
            let row = try #require(try await book.occurrence(first.id))
            #expect(row == updated)
            await #expect(throws: AgendaError.self) {
                try await book.delete(first.id, expectedVersion: updated.version, actor: "m", now: utc("2026-03-11T00:00:00Z"))
            }
            try await book.delete(first.id, expectedVersion: updated.version, actor: "m", now: march1)
            #expect(try await book.occurrence(first.id) == nil)
        }
    }

    @Test("50 concurrent bookings of a 3-patient range: exactly 3 succeed; a range with patients keeps its time",
          arguments: TestDatabases.engines)
    func capacityUnderConcurrency(engine: SQLDialect) async throws {
        try await TestDatabases.withDatabase(engine) { db, _ in
            let site = try await seedPractitioner(db, Self.roux)
            let book = AgendaBook(database: db)
            let tomorrow = ParisClock.day(of: Date()).adding(days: 1)
            let range = try await book.create(SlotDraft(
                practitioner: Self.roux, siteID: site, day: tomorrow, startMinute: 14 * 60, endMinute: 16 * 60, capacity: 3,
                consultationTypes: [.ambulatory]), actor: "medecin").occurrences[0]
            let orientations = OrientationStore(database: db)
            let outcomes = await withTaskGroup(of: Bool.self) { group in
                for n in 0..<50 {
                    group.addTask {
                        do {
                            _ = try await orientations.orient(OrientationRequest(kind: .agenda, offerName: "Dr Roux", slotID: range.id),
                                                              regulatorID: "r\(n)", regulatorEmail: "r\(n)@sas", sourceAddress: nil)
                            return true
                        } catch { return false }
                    }
                }
                var all: [Bool] = []
                for await ok in group { all.append(ok) }
                return all
            }
            #expect(outcomes.filter { $0 }.count == 3)
            let stored = try #require(try await book.occurrence(range.id))
            #expect(stored.booked == 3 && stored.capacity == 3)
            #expect(try await db.query("SELECT COUNT(*) AS n FROM orientations").first?.int("n") == 3)
            // With patients: no time change, no capacity below 3, no deletion.
            let move = SlotChange(day: tomorrow, startMinute: 15 * 60, endMinute: 17 * 60, capacity: 3, consultationTypes: [.ambulatory], siteID: site)
            await #expect(throws: AgendaError.self) { _ = try await book.update(range.id, expectedVersion: stored.version, to: move, actor: "m") }
            var shrink = move
            (shrink.startMinute, shrink.endMinute, shrink.capacity) = (14 * 60, 16 * 60, 2)
            await #expect(throws: AgendaError.self) { _ = try await book.update(range.id, expectedVersion: stored.version, to: shrink, actor: "m") }
            await #expect(throws: AgendaError.self) { try await book.delete(range.id, expectedVersion: nil, actor: "m") }
            // Growing the range is allowed: two more places.
            var grow = shrink
            grow.capacity = 5
            let grown = try await book.update(range.id, expectedVersion: stored.version, to: grow, actor: "m")
            #expect(grown.capacity == 5 && grown.booked == 3)
        }
    }

    @Test("Workspace storage: participation, unavailability, invitations, managers' perimeter, delegations, concurrent version bumps",
          arguments: TestDatabases.engines)
    func workspaceStore(engine: SQLDialect) async throws {
        try await TestDatabases.withDatabase(engine) { db, _ in
            _ = try await seedPractitioner(db, Self.roux)
            let cpts = try IDNST.finess("690999991")
            try await db.transaction { tx in
                try await DirectoryStore.upsert([Structure(idnst: cpts, kind: .cpts, name: "CPTS Test", departmentCode: "69", latitude: 45.76,
                                                           longitude: 4.84, phone: "+33400000000", interventionArea: .places([]))], on: tx)
            }
            let store = WorkspaceStore(database: db)
            let settings = try #require(try await store.settings(Self.roux.value))
            let saved = try await store.updateParticipation(Self.roux.value, expectedVersion: settings.version, form: .init(
                participates: true, mode: .individual, structure: nil, acceptsExtraPatients: true, forfaitReorientation: true,
                hoursPerWeek: 3, additionalInfo: "Enfants < 6 ans : <b>appeler</b> avant", vendors: ["v1"]), knownVendors: ["v1"], actor: "m")
            #expect(saved.additionalInfo == "Enfants < 6 ans : appeler avant" && saved.vendors == ["v1"] && saved.version == settings.version + 1)
            await #expect(throws: AgendaError.self) {
                _ = try await store.updateParticipation(Self.roux.value, expectedVersion: settings.version, form: .init(
                    participates: false, mode: nil, structure: nil, acceptsExtraPatients: false, forfaitReorientation: false,
                    hoursPerWeek: nil, additionalInfo: nil, vendors: []), knownVendors: [], actor: "m")
            }
            await #expect(throws: AgendaError.self) { _ = try await WorkspaceStore.sanitise(String(repeating: "<a>", count: 10_000)) }
            // Unavailability: whole Paris days, no overlap.
            try await store.addUnavailability(Self.roux.value, from: day("2026-08-03"), through: day("2026-08-09"), actor: "m", now: march1)
            await #expect(throws: AgendaError.self) {
                try await store.addUnavailability(Self.roux.value, from: day("2026-08-09"), through: day("2026-08-12"), actor: "m", now: march1)
            }
            let periods = try #require(try await store.settings(Self.roux.value)).participation.vacations
            #expect(periods == [VacationPeriod(start: utc("2026-08-02T22:00:00Z"), end: utc("2026-08-09T22:00:00Z"))])
            try await store.setVacation(Self.roux.value, on: true, actor: "m")
            #expect(try await store.settings(Self.roux.value)?.onVacation == true)
            // Invitation: nothing changes until he accepts; then he takes part through the CPTS (en sus kept for a CPTS).
            try await store.invite(cpts.value, idnps: Self.roux.value, actor: "gestionnaire")
            #expect(try await store.settings(Self.roux.value)?.participation.mode == .individual)
            #expect(try await store.invitations(of: Self.roux.value).map(\.idnst) == [cpts.value])
            try await store.answer(cpts.value, idnps: Self.roux.value, accept: true, actor: "m")
            let member = try #require(try await store.settings(Self.roux.value))
            #expect(member.participation.mode == .cpts && member.participation.structure == cpts && member.participation.acceptsExtraPatients)
            #expect(try await store.structure(cpts.value)?.members.map(\.idnps) == [Self.roux.value])
            #expect(try await store.invitations(of: Self.roux.value).isEmpty)
            try await store.removeMember(cpts.value, idnps: Self.roux.value, actor: "gestionnaire")
            #expect(try await store.structure(cpts.value)?.members.isEmpty == true)
            // Managers: only structures of the acting manager's departments.
            try await db.query("INSERT INTO accounts (id, email, display_name, status, created_at, updated_at) VALUES ('acc', 'g@x', 'G', 'active', 0, 0)")
            await #expect(throws: AgendaError.self) {
                try await store.setManagedStructures("acc", [cpts.value], departments: ["75"], actor: "referent-75")
            }
            try await store.setManagedStructures("acc", [cpts.value], departments: ["69"], actor: "referent-69")
            #expect(try await store.managedStructures("acc") == [cpts.value])
            let delegation = try await store.grant(.structure(cpts.value), to: "acc", actor: "g")
            await #expect(throws: AgendaError.self) { _ = try await store.grant(.structure(cpts.value), to: "acc", actor: "g") }
            #expect(try await store.delegatedOwners("acc") == [.structure(cpts.value)])
            try await store.revoke(delegation.id, of: .structure(cpts.value), actor: "g")
            #expect(try await store.delegatedOwners("acc").isEmpty)
            // Version bumps from concurrent writers are never lost.
            let before = try await PlatformSettings(db).get("agenda.version").flatMap(Int.init) ?? 0
            await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<20 { group.addTask { try await db.transaction { try await PlatformSettings($0).increment("agenda.version") } } }
            }
            #expect(try await PlatformSettings(db).get("agenda.version").flatMap(Int.init) == before + 20)
        }
    }

    @Test("Another node's directory follows a settings change by a patch, and a new site by a full rebuild",
          arguments: TestDatabases.engines)
    func directoryPatch(engine: SQLDialect) async throws {
        try await TestDatabases.withDatabase(engine) { db, _ in
            let france = try SyntheticFrance.bundled(.init(practitioners: 500, seed: 11))
            let report = try await DirectorySeeder.seed(france, into: db)
            let site = try await seedPractitioner(db, Self.roux)
            let specialties = try ReferenceData.shared().specialties
            let node = DirectoryIndexLoader(database: db, specialties: specialties, logger: TestDatabases.logger)
            #expect(try await node.refreshIfNeeded())
            let number = try #require(node.catalog.idnps.firstIndex(of: Self.roux.value))
            #expect(node.catalog.practitioners[number].flags.contains(.acceptsExtra))
            #expect(node.catalog.index.count == report.sites + 1)
            // Settings written elsewhere: the vacation switch and "en sus" withdrawn.
            let store = WorkspaceStore(database: db)
            try await store.setVacation(Self.roux.value, on: true, actor: "m")
            let settings = try #require(try await store.settings(Self.roux.value))
            _ = try await store.updateParticipation(Self.roux.value, expectedVersion: settings.version, form: .init(
                participates: true, mode: .individual, structure: nil, acceptsExtraPatients: false, forfaitReorientation: false,
                hoursPerWeek: 4, additionalInfo: nil, vendors: []), knownVendors: [], actor: "m")
            #expect(try await node.refreshIfNeeded())
            let patched = node.catalog
            #expect(patched.idnps[number] == Self.roux.value && patched.index.count == report.sites + 1)
            #expect(!patched.practitioners[number].flags.contains(.acceptsExtra))
            #expect(patched.practitioners[number].isAbsent(throughout: Date()...Date().addingTimeInterval(86_400)))
            let gp = try #require(specialties.index(of: "SM54"))
            var filter = SiteFilter(specialties: [gp])
            #expect(patched.index.sites(within: 1, ofLatitude: 45.7597, longitude: 4.8466, matching: filter).contains { $0.siteID == site })
            filter.requiredFlags = [.acceptsExtra]
            #expect(!patched.index.sites(within: 1, ofLatitude: 45.7597, longitude: 4.8466, matching: filter).contains { $0.siteID == site },
                    "the index's own flags follow the patch")
            // A new practice site is not a patch: the node rebuilds and finds it.
            let other = try IDNPS(parsing: "8" + RPPS.withCheckDigit("9970000077"))
            _ = try await seedPractitioner(db, other, family: "Nouveau")
            #expect(try await node.refreshIfNeeded())
            #expect(node.catalog.index.count == report.sites + 2 && node.catalog.idnps.contains(other.value))
            #expect(try await !node.refreshIfNeeded())
        }
    }

    @Test("A slot written on one node is searchable on another at its next search (agenda version)")
    func crossNodeVisibility() async throws {
        try await TestDatabases.withDatabase(.sqlite) { db, _ in
            let site = try await seedPractitioner(db, Self.roux)
            let nodeB = StoredAgenda(database: db)
            let window = Date()...Date().addingTimeInterval(3 * 86_400)
            #expect(try await nodeB.freeSlots(for: [Self.roux], window: window).isEmpty)  // node B caches "no slots"
            let tomorrow = ParisClock.day(of: Date()).adding(days: 1)
            let made = try await AgendaBook(database: db).create(SlotDraft(
                practitioner: Self.roux, siteID: site, day: tomorrow, startMinute: 10 * 60, endMinute: 10 * 60 + 20, capacity: 1,
                consultationTypes: [.teleconsultation]), actor: "node-a")
            try await Task.sleep(for: .milliseconds(StoredAgenda.versionCheckMilliseconds + 50))
            let seen = try await nodeB.freeSlots(for: [Self.roux], window: window)
            #expect(seen.map(\.id) == made.occurrences.map(\.id))
            #expect(seen.first?.consultationTypes == [.teleconsultation])
        }
    }
}

@Suite("Health professional's and structure's workspace: pages, roles, delegation, participation, search")
struct WorkspaceHTTPTests {
    static let roux = AgendaBookTests.roux

    static func form(_ env: IdentityEnvironment, _ browser: TestBrowser, _ path: String, _ fields: [String: String]) async throws -> TestBrowser.Page {
        let csrf = try await RegulatorWorkspaceTests.csrf(env, browser)
        var all = fields
        all["_csrf"] = csrf
        return try await browser.request(env.base + path, method: .POST, form: all)
    }

    @Test("Practitioner adds a slot in the week view; the regulator finds it in the next search and books it; roles and CSRF enforced")
    func addSlotThenSearch() async throws {
        try await IdentityEnvironment.with { env in
            let db = env.platform.app.database
            _ = try await seedPractitioner(db, Self.roux)
            try await env.platform.app.directory.refreshIfNeeded()
            let doctor = TestBrowser(caPath: nil)
            defer { Task { try? await doctor.shutdown() } }
            try await env.login("medecin@test.sas", browser: doctor)
            let home = try await doctor.request(env.base + "/espace")
            #expect(home.status == 303 && home.location?.hasSuffix("/espace/agenda/ps/\(Self.roux.value)") == true, "\(home.location ?? "-")")
            let week = try await doctor.request(env.base + "/espace/agenda/ps/\(Self.roux.value)")
            #expect(week.status == 200 && week.body.contains("table class=\"semaine\"") && week.body.contains("/static/agenda.js"))
            #expect(try await doctor.request(env.base + "/static/agenda.js").status == 200)

            // A regulator first searches (his node now knows Dr Roux has no slot).
            try await env.login("regul@test.sas")
            let query = "/api/v1/search?what=generaliste&where=Lyon%203e&page_size=50"
            let before = try await env.browser.request(env.base + query)
            #expect(before.status == 200 && !before.body.contains("\"agendaSlotID\""), "\(before.body.prefix(400))")

            // CSRF is required on the workspace forms.
            let tomorrow = ParisClock.day(of: Date()).adding(days: 1)
            let slot = ["jour": tomorrow.description, "debut": "10:00", "fin": "10:20", "type": "creneau", "modalite": "cabinet"]
            let forged = try await doctor.request(env.base + "/espace/agenda/ps/\(Self.roux.value)/creneaux", method: .POST, form: slot)
            #expect(forged.status == 403)
            let added = try await Self.form(env, doctor, "/espace/agenda/ps/\(Self.roux.value)/creneaux", slot)
            #expect(added.status == 303 && added.location?.contains("message=") == true, "\(added.status) \(added.body.prefix(600))")
            // The same slot again: refused in French with the form kept.
            let twice = try await Self.form(env, doctor, "/espace/agenda/ps/\(Self.roux.value)/creneaux", slot)
            #expect(twice.status == 409 && twice.body.contains("chevauche") && twice.body.contains("value=\"10:00\""))
            let zero = try await Self.form(env, doctor, "/espace/agenda/ps/\(Self.roux.value)/creneaux",
                                           slot.merging(["type": "plage", "capacite": "0", "debut": "11:00", "fin": "12:00"]) { $1 })
            #expect(zero.status == 422 && zero.body.contains("capacité 0"))

            // The next search shows it, bookable as a SAS-agenda slot.
            let after = try await env.browser.request(env.base + query)
            let object = try JSONSerialization.jsonObject(with: Data(after.body.utf8)) as? [String: Any]
            let cards = (object?["results"] as? [[String: Any]]) ?? []
            let card = try #require(cards.first { $0["idnps"] as? String == Self.roux.value }, "\(after.body.prefix(800))")
            let slots = try #require(card["slots"] as? [[String: Any]])
            let slotID = try #require(slots.first?["agendaSlotID"] as? String)
            #expect(slots.first?["consultationTypes"] as? [String] == ["AMB"])
            let csrf = try await RegulatorWorkspaceTests.csrf(env, env.browser)
            let booked = try await RegulatorWorkspaceTests.post(env, env.browser, ["kind": "agenda", "slot": slotID, "name": "Dr Roux"], csrf: csrf)
            #expect(booked.status == 201, "\(booked.body)")
            // The week view shows it taken.
            let taken = try await doctor.request(env.base + "/espace/agenda/ps/\(Self.roux.value)?semaine=\(tomorrow.monday)")
            #expect(taken.body.contains("· pris"))

            // Roles: a regulator has no workspace; another practitioner's agenda is closed.
            #expect(try await env.browser.request(env.base + "/espace").status == 403)
            let other = try IDNPS(parsing: "8" + RPPS.withCheckDigit("9970000099"))
            _ = try await seedPractitioner(db, other, family: "Autre")
            #expect(try await doctor.request(env.base + "/espace/agenda/ps/\(other.value)").status == 403)
            #expect(try await db.query("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'agenda.create' AND actor = 'medecin@test.sas'").first?.int("n") == 1)
        }
    }

    @Test("Edit one occurrence of a series, then the series; delete one, then the series; stale versions refused")
    func editAndDelete() async throws {
        try await IdentityEnvironment.with { env in
            let db = env.platform.app.database
            _ = try await seedPractitioner(db, Self.roux)
            let doctor = TestBrowser(caPath: nil)
            defer { Task { try? await doctor.shutdown() } }
            try await env.login("medecin@test.sas", browser: doctor)
            let base = "/espace/agenda/ps/\(Self.roux.value)"
            let first = ParisClock.day(of: Date()).adding(days: 2)
            let made = try await Self.form(env, doctor, base + "/creneaux", [
                "jour": first.description, "debut": "18:00", "fin": "19:00", "type": "plage", "capacite": "3", "modalite": "domicile",
                "repeter": "1", "jusqu_au": first.adding(days: 21).description])
            #expect(made.status == 303, "\(made.body.prefix(500))")
            let book = AgendaBook(database: db)
            let all = try await book.occurrences(practitioner: Self.roux.value, structure: nil, from: Date(), to: Date().addingTimeInterval(40 * 86_400))
            #expect(all.count == 4 && all.allSatisfy { $0.capacity == 3 && $0.consultationTypes == [.homeVisit] && $0.seriesID != nil })
            let edit = try await doctor.request(env.base + base + "/creneaux/\(all[1].id)")
            #expect(edit.status == 200 && edit.body.contains("Toute la récurrence"))
            // One occurrence: 19:00–20:00, it leaves the series.
            let one = try await Self.form(env, doctor, base + "/creneaux/\(all[1].id)", [
                "jour": all[1].day.description, "debut": "19:00", "fin": "20:00", "type": "plage", "capacite": "4",
                "modalite": "domicile", "version": "\(all[1].version)", "portee": "occurrence"])
            #expect(one.status == 303, "\(one.body.prefix(500))")
            let stale = try await Self.form(env, doctor, base + "/creneaux/\(all[1].id)", [
                "jour": all[1].day.description, "debut": "19:30", "fin": "20:00", "type": "creneau", "modalite": "domicile",
                "version": "\(all[1].version)", "portee": "occurrence"])
            #expect(stale.status == 409 && stale.body.contains("rechargez la semaine"))
            // The series: 17:00–18:00 from now on; the detached occurrence is not touched.
            let seriesID = try #require(all[0].seriesID)
            let series = try #require(try await book.series(seriesID))
            let whole = try await Self.form(env, doctor, base + "/creneaux/\(all[0].id)", [
                "jour": all[0].day.description, "debut": "17:00", "fin": "18:00", "type": "plage", "capacite": "2",
                "modalite": "cabinet", "version": "\(all[0].version)", "version_serie": "\(series.version)", "portee": "serie"])
            #expect(whole.status == 303, "\(whole.body.prefix(500))")
            let now = try await book.occurrences(practitioner: Self.roux.value, structure: nil, from: Date(), to: Date().addingTimeInterval(40 * 86_400))
            #expect(now.filter { $0.seriesID == series.id }.count == 3)
            #expect(now.filter { $0.seriesID == series.id }.allSatisfy { $0.startMinute == 17 * 60 && $0.capacity == 2 })
            #expect(now.contains { $0.seriesID == nil && $0.startMinute == 19 * 60 && $0.capacity == 4 })
            // Delete one occurrence of the series, then the series.
            let target = try #require(now.first { $0.seriesID == series.id })
            #expect(try await Self.form(env, doctor, base + "/creneaux/\(target.id)/supprimer", ["portee": "occurrence", "version": "\(target.version)"]).status == 303)
            let remaining = try await book.occurrences(practitioner: Self.roux.value, structure: nil, from: Date(), to: Date().addingTimeInterval(40 * 86_400))
            let rest = try #require(remaining.first { $0.seriesID == series.id })
            #expect(try await Self.form(env, doctor, base + "/creneaux/\(rest.id)/supprimer", ["portee": "serie"]).status == 303)
            let left = try await book.occurrences(practitioner: Self.roux.value, structure: nil, from: Date(), to: Date().addingTimeInterval(40 * 86_400))
            #expect(left.count == 1 && left[0].seriesID == nil)
        }
    }

    @Test("Participation settings, vacation switch and unavailability change what regulators find; info sanitised; delegation granted, used, revoked")
    func participationAndDelegation() async throws {
        try await IdentityEnvironment.with { env in
            let db = env.platform.app.database
            let site = try await seedPractitioner(db, Self.roux)
            try await EditorStore(database: db).add(Editor(id: "agendaplus", name: "AgendaPlus", baseURL: "https://agendaplus.example/fhir",
                                                           flows: [.r01]), actor: "test")
            let tomorrow = ParisClock.day(of: Date()).adding(days: 1)
            _ = try await AgendaBook(database: db).create(SlotDraft(
                practitioner: Self.roux, siteID: site, day: tomorrow, startMinute: 9 * 60, endMinute: 9 * 60 + 15, capacity: 1,
                consultationTypes: [.ambulatory]), actor: "test")
            let doctor = TestBrowser(caPath: nil)
            defer { Task { try? await doctor.shutdown() } }
            try await env.login("medecin@test.sas", browser: doctor)
            let path = "/espace/participation/\(Self.roux.value)"
            let page = try await doctor.request(env.base + path)
            #expect(page.status == 200 && page.body.contains("AgendaPlus"))
            let version = try #require(page.hidden("version"))
            let tooFew = try await Self.form(env, doctor, path, ["version": version, "participe": "1", "via": "1", "heures": "1"])
            #expect(tooFew.status == 422 && tooFew.body.contains("au moins 2 heures"))
            let saved = try await Self.form(env, doctor, path, [
                "version": version, "participe": "1", "via": "1", "heures": "6", "en_sus": "1", "forfait": "1", "logiciel": "agendaplus",
                "infos": "Parking devant le cabinet.<script>alert(1)</script>\u{0007} Sonner deux fois."])
            #expect(saved.status == 303, "\(saved.body.prefix(500))")
            let settings = try #require(try await WorkspaceStore(database: db).settings(Self.roux.value))
            #expect(settings.hoursPerWeek == 6 && settings.participation.forfaitReorientation && settings.vendors == ["agendaplus"])
            #expect(settings.additionalInfo == "Parking devant le cabinet. alert(1) Sonner deux fois.")
            let stale = try await Self.form(env, doctor, path, ["version": version, "participe": "0"])
            #expect(stale.status == 409)
            let unknownVendor = try await Self.form(env, doctor, path, ["version": "\(settings.version)", "participe": "1", "via": "1", "heures": "6", "logiciel": "inconnu"])
            #expect(unknownVendor.status == 422 && unknownVendor.body.contains("inconnu"))
            let tooLong = try await Self.form(env, doctor, path, ["version": "\(settings.version)", "participe": "1", "via": "1", "heures": "6",
                                                                 "infos": String(repeating: "a", count: 1_001)])
            #expect(tooLong.status == 422 && tooLong.body.contains("1 000"))

            // The regulator sees the information on the card; after the vacation switch, no more card.
            try await env.login("regul@test.sas")
            let query = env.base + "/api/v1/search?what=generaliste&where=Lyon%203e&page_size=50"
            func card() async throws -> [String: Any]? {
                let body = try await env.browser.request(query).body
                let object = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
                return ((object?["results"] as? [[String: Any]]) ?? []).first { $0["idnps"] as? String == Self.roux.value }
            }
            #expect(try await card()?["additionalInfo"] as? String == "Parking devant le cabinet. alert(1) Sonner deux fois.")
            #expect(try await Self.form(env, doctor, path + "/vacances", ["actif": "1"]).status == 303)
            #expect(try await card() == nil)
            #expect(try await Self.form(env, doctor, path + "/vacances", ["actif": "0"]).status == 303)
            #expect(try await card() != nil)
            // An unavailability covering tomorrow removes tomorrow's slot.
            let added = try await Self.form(env, doctor, path + "/indisponibilites", ["du": tomorrow.description, "au": tomorrow.description])
            #expect(added.status == 303, "\(added.body.prefix(400))")
            let absent = try await card()
            #expect(absent == nil || (absent?["slots"] as? [Any])?.isEmpty == true)
            let backwards = try await Self.form(env, doctor, path + "/indisponibilites", ["du": tomorrow.description, "au": tomorrow.adding(days: -1).description])
            #expect(backwards.status == 422 && backwards.body.contains("précède"))
            let periods = try #require(try await WorkspaceStore(database: db).settings(Self.roux.value)).participation.vacations
            let firstPeriod = try #require(periods.first)
            let start = String(Int64((firstPeriod.start.timeIntervalSince1970 * 1000).rounded()))
            #expect(try await Self.form(env, doctor, path + "/indisponibilites/supprimer", ["debut": start]).status == 303)
            #expect(try await (card()?["slots"] as? [Any])?.count == 1)

            // Delegation: to an account with the delegate role only; the delegate then manages the agenda; revoked, no more.
            try await env.platform.app.identity.accounts.create(
                email: "secretariat@test.sas", displayName: "Secrétariat", idnps: nil, roles: [.delegate], territories: ["69"],
                passwordHash: IdentityEnvironment.hasher.hash("Mot-de-passe-secret-2026"), actor: "test", now: env.clock.date)
            let owner = AgendaOwner.practitioner(Self.roux.value).key
            let wrongRole = try await Self.form(env, doctor, "/espace/delegations/\(owner)", ["email": "regul@test.sas"])
            #expect(wrongRole.status == 422 && wrongRole.body.contains("Délégataire"))
            #expect(try await Self.form(env, doctor, "/espace/delegations/\(owner)", ["email": "secretariat@test.sas"]).status == 303)
            let secretary = TestBrowser(caPath: nil)
            defer { Task { try? await secretary.shutdown() } }
            try await env.login("secretariat@test.sas", password: "Mot-de-passe-secret-2026", browser: secretary)
            #expect(try await secretary.request(env.base + "/espace").location?.hasSuffix("/espace/agenda/ps/\(Self.roux.value)") == true)
            let bySecretary = try await Self.form(env, secretary, "/espace/agenda/ps/\(Self.roux.value)/creneaux", [
                "jour": tomorrow.adding(days: 1).description, "debut": "08:00", "fin": "08:15", "type": "creneau", "modalite": "teleconsultation"])
            #expect(bySecretary.status == 303)
            #expect(try await secretary.request(env.base + "/espace/delegations/\(owner)").status == 403, "a delegate cannot delegate")
            let delegation = try #require(try await WorkspaceStore(database: db).delegations(.practitioner(Self.roux.value)).first)
            #expect(try await Self.form(env, doctor, "/espace/delegations/\(owner)/\(delegation.id)/revoquer", [:]).status == 303)
            #expect(try await secretary.request(env.base + "/espace/agenda/ps/\(Self.roux.value)").status == 403)
            let actions = try await db.query("SELECT action, actor FROM audit_log WHERE action LIKE 'delegation.%' OR (action = 'agenda.create' AND actor = 'secretariat@test.sas') ORDER BY id")
                .map { "\($0.optionalString("action") ?? "")/\($0.optionalString("actor") ?? "")" }
            #expect(actions == ["delegation.grant/medecin@test.sas", "agenda.create/secretariat@test.sas", "delegation.revoke/medecin@test.sas"])
        }
    }

    @Test("Structure manager: settings, members, the structure's agenda for a member, SOS places; only his structures")
    func structureManager() async throws {
        try await IdentityEnvironment.with { env in
            let db = env.platform.app.database
            let fixture = try await SearchFixture.seed(db)
            _ = fixture
            _ = try await seedPractitioner(db, Self.roux)
            try await env.platform.app.identity.accounts.create(
                email: "cpts@test.sas", displayName: "Coordination", idnps: nil, roles: [.structureManager], territories: ["69"],
                passwordHash: IdentityEnvironment.hasher.hash("Mot-de-passe-cpts-2026"), actor: "test", now: env.clock.date)
            let manager = try #require(try await env.platform.app.identity.accounts.find(email: "cpts@test.sas"))
            let cpts = try IDNST.finess("690999991").value, sos = try IDNST.siret("77889900011122").value
            // Attached by an account manager through the user page.
            let admin = TestBrowser(caPath: nil)
            defer { Task { try? await admin.shutdown() } }
            try await env.login("admin@test.sas", browser: admin)
            let userPage = try await admin.request(env.base + "/admin/utilisateurs/\(manager.id)")
            #expect(userPage.body.contains("form-structures"))
            let attach = try await admin.request(env.base + "/admin/utilisateurs/\(manager.id)/structures", method: .POST,
                                                 form: ["_csrf": try #require(userPage.hidden("_csrf")), "structures": "\(cpts), \(sos)"])
            #expect(attach.status == 303, "\(attach.body.prefix(300))")
            let browser = TestBrowser(caPath: nil)
            defer { Task { try? await browser.shutdown() } }
            try await env.login("cpts@test.sas", password: "Mot-de-passe-cpts-2026", browser: browser)
            let list = try await browser.request(env.base + "/espace")
            #expect(list.status == 200 && list.body.contains("CPTS Lyon Rive Gauche") && list.body.contains("SOS Médecins Lyon"))
            let settings = try await browser.request(env.base + "/espace/structure/\(cpts)")
            #expect(settings.status == 200 && settings.body.contains("Chevalier") == false && settings.body.contains("Garnier"))
            // Dr Roux is invited by RPPS (11 digits); she becomes a member when she accepts, from her own page.
            let member = try await Self.form(env, browser, "/espace/structure/\(cpts)/membres", ["idnps": Self.roux.unprefixed])
            #expect(member.status == 303, "\(member.body.prefix(400))")
            #expect(try await WorkspaceStore(database: db).structure(cpts)?.members.contains { $0.idnps == Self.roux.value } == false)
            #expect(try await Self.form(env, browser, "/espace/structure/\(cpts)/membres", ["idnps": Self.roux.unprefixed]).status == 409)
            let doctor = TestBrowser(caPath: nil)
            defer { Task { try? await doctor.shutdown() } }
            try await env.login("medecin@test.sas", browser: doctor)
            let invited = try await doctor.request(env.base + "/espace/participation/\(Self.roux.value)")
            #expect(invited.body.contains("CPTS Lyon Rive Gauche") && invited.body.contains("vous invite"))
            let accepted = try await Self.form(env, doctor, "/espace/participation/\(Self.roux.value)/invitations/\(cpts)", ["reponse": "accepter"])
            #expect(accepted.status == 303, "\(accepted.body.prefix(400))")
            #expect(try await WorkspaceStore(database: db).settings(Self.roux.value)?.participation.mode == .cpts)
            let tomorrow = ParisClock.day(of: Date()).adding(days: 1)
            let noMember = try await Self.form(env, browser, "/espace/agenda/structure/\(cpts)/creneaux", [
                "jour": tomorrow.description, "debut": "13:00", "fin": "14:00", "type": "plage", "capacite": "5", "modalite": "cabinet"])
            #expect(noMember.status == 422 && noMember.body.contains("professionnel de la structure"))
            let slot = try await Self.form(env, browser, "/espace/agenda/structure/\(cpts)/creneaux", [
                "jour": tomorrow.description, "debut": "13:00", "fin": "14:00", "type": "plage", "capacite": "5", "modalite": "cabinet",
                "praticien": Self.roux.value])
            #expect(slot.status == 303, "\(slot.body.prefix(400))")
            let stored = try await AgendaBook(database: db).occurrences(practitioner: nil, structure: cpts, from: Date(), to: Date().addingTimeInterval(3 * 86_400))
            #expect(stored.count == 1 && stored[0].practitioner == Self.roux.value && stored[0].capacity == 5)
            // Structure settings: participation needs hours; switching it off hides the CPTS from the catalog.
            let version = try #require(settings.hidden("version"))
            #expect(try await Self.form(env, browser, "/espace/structure/\(cpts)", ["version": version, "participe": "1"]).status == 422)
            #expect(try await Self.form(env, browser, "/espace/structure/\(sos)", ["version": "0", "participe": "1", "heures": "60",
                                                                              "infos": "Point fixe ouvert jusqu'à minuit."]).status == 303)
            #expect(env.platform.app.directory.catalog.structureInfo[sos] == "Point fixe ouvert jusqu'à minuit.")
            #expect(try await Self.form(env, browser, "/espace/structure/\(cpts)", ["version": version, "heures": "20"]).status == 303)
            #expect(env.platform.app.directory.catalog.cpts.contains { $0.idnst.value == cpts } == false)
            // SOS fixed place, geocoded from its postcode.
            let place = try await Self.form(env, browser, "/espace/structure/\(sos)/lieux", ["nom": "Point fixe Part-Dieu", "adresse": "5 place Charles Béraudier", "code_postal": "69003", "ville": "Lyon"])
            #expect(place.status == 303, "\(place.body.prefix(300))")
            #expect(env.platform.app.directory.catalog.sosAssociations.first { $0.idnst.value == sos }?.consultationPlaces.count == 2)
            let badPlace = try await Self.form(env, browser, "/espace/structure/\(sos)/lieux", ["nom": "X", "adresse": "Y", "code_postal": "ABCDE"])
            #expect(badPlace.status == 422)
            #expect(try await Self.form(env, browser, "/espace/structure/\(sos)/lieux/supprimer", ["nom": "Point fixe Guillotière"]).status == 303)
            #expect(env.platform.app.directory.catalog.sosAssociations.first { $0.idnst.value == sos }?.consultationPlaces.map(\.name) == ["Point fixe Part-Dieu"])
            #expect(try await Self.form(env, browser, "/espace/structure/\(sos)/lieux/supprimer", ["nom": "Point fixe Guillotière"]).status == 404)
            // Removing the member takes his future structure slots out of the structure's agenda.
            #expect(try await Self.form(env, browser, "/espace/structure/\(cpts)/membres/\(Self.roux.value)/retirer", [:]).status == 303)
            #expect(try await AgendaBook(database: db).occurrences(practitioner: nil, structure: cpts, from: Date(), to: Date().addingTimeInterval(3 * 86_400)).isEmpty)
            // Another structure is closed to him.
            #expect(try await browser.request(env.base + "/espace/structure/1690000009").status == 403)
        }
    }
}
