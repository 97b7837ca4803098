import Agenda
import Directory
import Foundation
import Identity
import SASDomain
import Sandbox
import Storage

/// The demo's workspace: Dr Anne Roux (the demo health professional, a PSC test card) practises in Lyon 3e without a
/// booking vendor, so she publishes on the SAS agenda; a structure manager runs a CPTS of the Rhône; a secretary holds
/// a delegation on Dr Roux's agenda. Written once, kept across restarts.
enum DemoWorkspace {
    static let practitioner = PSCProfessional.fixtures[4].idnps

    static func prepare(database: any Database) async throws {
        let idnps = try IDNPS(parsing: practitioner)
        if try await database.query("SELECT idnps FROM dir_practitioners WHERE idnps = ?", [.text(idnps.value)]).isEmpty {
            let address = PostalAddress(number: "12", streetTypeCode: "R", streetType: "Rue", streetName: "Paul Bert",
                                        postcode: "69003", city: "Lyon")
            let doctor = Practitioner(
                idnps: idnps, civility: .madame, exerciseCivility: "DR", familyName: "ROUX", givenName: "Anne",
                professionCode: "10", specialtyCodes: ["SM54"],
                participation: SASParticipation(participates: true, mode: .individual, structure: nil, acceptsExtraPatients: true,
                                                forfaitReorientation: false, vacations: []))
            let site = PracticeSite(id: DirectoryStore.siteID(idnps: idnps.value, address: address), practitioner: idnps,
                                    address: address, postcodeIsSynthetic: false, inseeCode: "69383", departmentCode: "69",
                                    latitude: 45.7597, longitude: 4.8466, phone: "+33478000005", structure: nil, placeID: nil)
            try await database.transaction { tx in
                try await DirectoryStore.upsert([doctor], source: "demo", keepParticipation: false, on: tx)
                try await DirectoryStore.upsert([site], on: tx)
                try await tx.query("UPDATE dir_practitioners SET hours_per_week = 4 WHERE idnps = ?", [.text(idnps.value)])
                try await DirectoryStore.bumpVersion(on: tx)
            }
        }
        let workspace = WorkspaceStore(database: database)
        let accounts = AccountStore(database: database)
        if let manager = try await accounts.find(email: "gestionnaire@demo.sas.localhost"),
           try await workspace.managedStructures(manager.id).isEmpty,
           let cpts = try await database.query("""
               SELECT idnst FROM dir_structures WHERE kind = 'cpts' AND department = '69' ORDER BY idnst LIMIT 1
               """).first?.optionalString("idnst") {
            try await workspace.setManagedStructures(manager.id, [cpts], actor: "demo")
        }
        if let secretary = try await accounts.find(email: "secretariat@demo.sas.localhost"),
           try await !workspace.delegatedOwners(secretary.id).contains(.practitioner(idnps.value)) {
            _ = try await workspace.grant(.practitioner(idnps.value), to: secretary.id, actor: "demo")
        }
    }
}
