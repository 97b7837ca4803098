import Foundation
import SASDomain

/// INT_R02 regulator-account bodies (`FrPractitionerRegul`) and request paths.
public enum PractitionerRegul {
    /// Path of the create interaction (`POST [base]/Practitioner`).
    public static let createPath = "Practitioner"

    /// The FrPractitionerRegul body: `meta.source` = SAS OID, one identifier (IDNPS or INTRN), active, name, email.
    public static func body(identifier: RegulatorIdentifier, active: Bool, familyName: String, givenName: String,
                            email: String, id: String? = nil) -> Practitioner {
        var practitioner = Practitioner(id: id)
        practitioner.meta = Meta(profile: [FHIRSystems.Profile.practitionerRegul], source: IdentifierSystem.sasTechnical)
        practitioner.identifier = [Identifier(system: identifier.system, value: identifier.value,
                                              typeSystem: IdentifierSystem.frV20203, typeCode: identifier.typeCode)]
        practitioner.active = active
        practitioner.name = [HumanName(family: familyName, given: [givenName])]
        practitioner.telecom = [ContactPoint(system: "email", value: email)]
        return practitioner
    }

    /// Path and query of the conditional update (`PUT [base]/Practitioner?identifier=system%7Cvalue`).
    /// Pass the identifier the editor knows the account by (the *old* one when the id changes).
    public static func conditionalUpdatePath(identifier: RegulatorIdentifier) -> String {
        "Practitioner?identifier=" + SearchURLBuilder.encode(identifier.token)
    }

    /// Reads the regulator identifier back from a body (either slice), preferring the national id.
    public static func regulatorIdentifier(of practitioner: Practitioner) -> RegulatorIdentifier? {
        let ids = practitioner.identifier ?? []
        let ordered = ids.filter { $0.system == IdentifierSystem.idnps } + ids.filter { $0.system != IdentifierSystem.idnps }
        for identifier in ordered {
            if let value = identifier.value, let id = try? RegulatorIdentifier(system: identifier.system, value: value) {
                return id
            }
        }
        return nil
    }
}
