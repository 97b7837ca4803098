import Foundation
import SASDomain

/// Pure mappings from FHIR elements to SAS domain values (codes, identifiers, sites).
enum SlotMapping {
    /// Slot kinds from `meta.security` (matched on the TRE_R314 code, whatever the system spelling).
    static func kinds(_ meta: Meta?) -> SlotKinds {
        var kinds = SlotKinds()
        for coding in meta?.security ?? [] {
            if let code = coding.code, let kind = SlotKind(code: code) { kinds.insert(kind) }
        }
        return kinds
    }

    /// Whether a serviceType concept designates a CPTS (TRE_R66 `604` in any URL variant, or the R5 extension).
    static func isCPTSConcept(_ concept: CodeableConcept) -> Bool {
        if concept.extension_?.contains(where: { $0.url.trimmedASCII == FHIRSystems.slotServiceTypeExtension }) == true {
            return true
        }
        return concept.coding?.contains {
            $0.code == FHIRSystems.cptsCategoryCode
                && ($0.system.map { FHIRSystems.establishmentCategoryVariants.contains($0) || $0.utf8.starts(with: "https://mos.esante.gouv.fr/NOS/TRE_R66".utf8) } ?? true)
        } ?? false
    }

    /// Consultation types and reasons from `serviceType` (CPTS concepts excluded).
    static func consultation(_ serviceTypes: [CodeableConcept]?) -> (ConsultationTypes, [String]) {
        var types = ConsultationTypes()
        var reasons: [String] = []
        for concept in serviceTypes ?? [] where !isCPTSConcept(concept) {
            for coding in concept.coding ?? [] {
                if let code = coding.code, let type = ConsultationType(code: code) { types.insert(type) }
            }
            if let text = concept.text?.trimmedASCII, !text.isEmpty {
                reasons.append(text)
            }
        }
        return (types, reasons)
    }

    /// Specialties: one per coding (label = display or the concept text), or one text-only specialty.
    static func specialties(_ concepts: [CodeableConcept]?) -> [SlotSpecialty] {
        var out: [SlotSpecialty] = []
        for concept in concepts ?? [] {
            let codings = concept.coding ?? []
            if codings.isEmpty {
                if let text = concept.text, !text.isEmpty { out.append(SlotSpecialty(label: text)) }
                continue
            }
            for coding in codings where coding.code != nil || coding.display != nil {
                out.append(SlotSpecialty(system: coding.system, code: coding.code, label: coding.display ?? concept.text))
            }
        }
        return out
    }

    /// Booking mode from `appointmentType`.
    static func bookingMode(_ concept: CodeableConcept?) -> BookingMode? {
        for coding in concept?.coding ?? [] {
            if let code = coding.code, let mode = BookingMode(code: code) { return mode }
        }
        return nil
    }

    /// The booking URL, when `comment` is an http(s) URL.
    static func bookingURL(_ comment: String?) -> String? {
        guard let text = comment?.trimmedASCII else { return nil }
        let head = text.utf8.prefix(8).map { $0 | 0x20 } // ASCII lower-case
        return head.starts(with: "https://".utf8) || head.starts(with: "http://".utf8) ? text : nil
    }

    /// The IDNPS among identifiers (by system or by `IDNPS` type); RPPS preferred. Throws on a malformed one.
    static func idnps(_ identifiers: [Identifier]) throws -> IDNPS? {
        var found: [IDNPS] = []
        var firstError: (any Error)?
        for identifier in identifiers
        where identifier.system == IdentifierSystem.idnps || identifier.isTyped(IdentifierSystem.codeIDNPS) {
            guard let value = identifier.value else { continue }
            do { found.append(try IDNPS(parsing: value)) } catch { firstError = firstError ?? error }
        }
        if let rpps = found.first(where: { $0.kind == .rpps }) { return rpps }
        if let any = found.first { return any }
        if let firstError { throw firstError }
        return nil
    }

    /// The IDNST from an identifier: system `…4.2.2`, or an `IDNST` type in any of the three code systems, or untyped.
    static func idnst(_ identifier: Identifier?) throws -> IDNST? {
        guard let identifier, let value = identifier.value else { return nil }
        let typedIDNST = identifier.type?.coding?.contains {
            $0.code == IdentifierSystem.codeIDNST && ($0.system.map(IdentifierSystem.idnstTypeSystems.contains) ?? true)
        } ?? false
        guard identifier.system == IdentifierSystem.idnst || typedIDNST || (identifier.system == nil && identifier.type == nil) else {
            return nil
        }
        return try IDNST(parsing: value)
    }

    /// The first IDNST among identifiers.
    static func idnst(_ identifiers: [Identifier]?) throws -> IDNST? {
        var firstError: (any Error)?
        for identifier in identifiers ?? [] {
            do { if let id = try idnst(identifier) { return id } } catch { firstError = firstError ?? error }
        }
        if let firstError { throw firstError }
        return nil
    }

    /// First phone number among contact points.
    static func phone(_ telecom: [ContactPoint]?) -> String? {
        telecom?.first { $0.system == "phone" && $0.value?.isEmpty == false }?.value
    }

    /// The consultation site of a Location.
    static func site(_ location: Location?, fallbackPhone: String?) -> SlotSite {
        guard let location else { return SlotSite(phone: fallbackPhone) }
        let address = location.address
        return SlotSite(name: location.name, addressLines: address?.line ?? [], postalCode: address?.postalCode,
                        city: address?.city, phone: phone(location.telecom) ?? fallbackPhone,
                        latitude: location.position?.latitude, longitude: location.position?.longitude)
    }
}
