import FHIR
import Foundation
import SASDomain
import Sandbox
import Storage
import TLS
import Testing

/// A sandbox vendor reports its bookings to the platform (INT_R03) like a real vendor: at once, then again until the
/// platform acknowledges, and every status change from its back-office as a conditional PUT.
@Suite("Sandbox vendor INT_R03 reports")
struct SandboxReportTests {
    @Test("a booking made while the platform is down is delivered once it is up; cancellation follows as a conditional PUT")
    func retriesUntilAcknowledged() async throws {
        let port = try freeLoopbackPort()
        let fleet = try await SandboxFleet.start([("agendaplus", "good", SandboxRoster())], prepare: { pki, ca in
            try pki.issue("platform-fhir", with: ca, profile: .server, commonName: "localhost", organizationalUnit: "PLATEFORME SAS",
                          hostNames: ["localhost", "127.0.0.1"])
        }, configure: { configuration in
            configuration.platformFHIRBase = "https://127.0.0.1:\(port)"
            configuration.platformCAPath = configuration.clientCAPath
            configuration.reportRetrySeconds = 0.2
            configuration.webPort = 0
        })
        let sandbox = fleet["agendaplus"]
        let practitioner = try IDNPS(parsing: "810101215225")
        let start = Date().addingTimeInterval(3_600)
        // The platform is not there yet: the first report fails and stays pending.
        let first = await sandbox.recordBooking(id: "rdv-1", operatorType: "IDNPS", operatorSystem: IdentifierSystem.idnps,
                                                operatorValue: "899700000013", operatorLabel: "Dr Test", practitioner: practitioner,
                                                start: start, end: start.addingTimeInterval(1_200))
        #expect(first == nil)
        let pending = try #require(sandbox.appointments.entry("rdv-1"))
        #expect(pending.pending && pending.attempts >= 1)

        let pki = fleet.pki
        let platform = try await RunningPlatform.start(settings: [
            "fhir.port": String(port), "fhir.tls.certificate": pki.certificatePath("platform-fhir"),
            "fhir.tls.key": pki.keyPath("platform-fhir"), "fhir.tls.client_ca": pki.caChainPath,
            "fhir.tls.allowed_clients": "CN=agendaplus.sandbox.localhost/OU=EDITEUR AGENDAPLUS/PARTY=agendaplus",
        ])
        var failure: (any Error)?
        do {
            func stored() async throws -> String? {
                try await platform.app.database.query(
                    "SELECT status FROM appointments WHERE editor_id = 'agendaplus' AND identifier_value = 'rdv-1'"
                ).first?.string("status")
            }
            let deadline = ContinuousClock.now + .seconds(30)
            while try await stored() == nil && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(100)) }
            #expect(try await stored() == "booked", "delivered by the vendor's retries")
            // The platform stored it; the vendor marks it acknowledged when the answer is read.
            while sandbox.appointments.entry("rdv-1")?.pending == true && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(sandbox.appointments.entry("rdv-1")?.pending == false)

            // From the back-office (a user logged in at the vendor): cancelled, reported at once by a conditional PUT.
            var practitionerAccount = FHIR.Practitioner(id: "x")
            practitionerAccount.identifier = [Identifier(system: IdentifierSystem.idnps, value: "899700000013",
                                                         typeSystem: IdentifierSystem.frV20203, typeCode: IdentifierSystem.codeIDNPS)]
            practitionerAccount.name = [HumanName(family: "Test", given: ["Régulateur"])]
            practitionerAccount.telecom = [ContactPoint(system: "email", value: "regul@vendeur.test")]
            practitionerAccount.active = true
            _ = try await sandbox.accounts.create(practitionerAccount)
            let browser = TestBrowser(caPath: pki.caChainPath)
            #expect(try await browser.request(sandbox.webOrigin + "/back-office").location?.contains("/connexion") == true)
            let login = try await browser.request(sandbox.webOrigin + "/connexion", method: .POST, form: [
                "email": "regul@vendeur.test", "password": "bac-a-sable", "retour": "/back-office"])
            #expect(login.status == 303)
            let office = try await browser.request(sandbox.webOrigin + "/back-office")
            #expect(office.body.contains("data-rdv=\"rdv-1\" data-statut=\"booked\" data-transmis=\"oui\""))
            let cancelled = try await browser.request(sandbox.webOrigin + "/back-office/rdv-1/statut", method: .POST,
                                                      form: ["statut": "cancelled"])
            #expect(cancelled.status == 303)
            #expect(try await stored() == "cancelled")
            #expect(sandbox.appointments.entry("rdv-1")?.lastResult?.hasPrefix("PUT") == true)
            #expect(try await browser.request(sandbox.webOrigin + "/back-office").body.contains("data-statut=\"cancelled\" data-transmis=\"oui\""))
            try await browser.shutdown()
            // An unchanged status sends nothing.
            #expect(await sandbox.changeAppointment("rdv-1", to: .cancelled) == nil)
        } catch { failure = error }
        try? await platform.stop()
        try? await fleet.stop()
        if let failure { throw failure }
    }
}
