// SASDomain: domain types and pure rules of the SAS platform (no I/O, Foundation only).

/// Identifier systems (OIDs) and identifier-type codes used by SAS national identifiers.
public enum IdentifierSystem {
    /// National practitioner identifiers (IDNPS: RPPS prefixed `8`, ADELI prefixed `0`, structure staff `3…/…`).
    public static let idnps = "urn:oid:1.2.250.1.71.4.2.1"
    /// National structure identifiers (IDNST: FINESS `1`, SIRET `3`, RPPS rang `4`, ADELI rang `0`).
    public static let idnst = "urn:oid:1.2.250.1.71.4.2.2"
    /// SAS platform OID: technical regulator ids (UUID) and `meta.source` of platform requests.
    public static let sasTechnical = "urn:oid:1.2.250.1.213.3.6"

    /// FR Core identifier-type code system (`IDNPS`, `IDNST`, `INTRN`).
    public static let frV20203 = "http://interopsante.org/fhir/CodeSystem/fr-v2-0203"
    /// FR Core location identifier-type code system (`INTRN`, `IDNST`).
    public static let frLocationIdentifierType = "http://interopsante.org/fhir/CodeSystem/fr-location-identifier-type"
    /// FR Core 2.x identifier-type code system, as baked into the CPTS Organization profile (digest §8.1).
    public static let frCoreV20203 = "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203"

    /// Every code system that vendors use to type an IDNST (digest §8.1): match on the code, accept any of these.
    public static let idnstTypeSystems: Set<String> = [frV20203, frLocationIdentifierType, frCoreV20203]

    /// Identifier-type code for national practitioner ids.
    public static let codeIDNPS = "IDNPS"
    /// Identifier-type code for national structure ids.
    public static let codeIDNST = "IDNST"
    /// Identifier-type code for internal (technical) ids.
    public static let codeINTRN = "INTRN"
}
