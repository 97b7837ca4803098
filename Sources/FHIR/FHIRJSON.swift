import Foundation

/// Entry points of the fast FHIR JSON decoder (and the matching encoder settings).
public enum FHIRJSON {
    /// Payloads larger than this are rejected before parsing (editors' bundles are far smaller).
    public static let defaultMaxBytes = 64 * 1024 * 1024

    /// Decodes a Bundle tolerantly: broken entries are kept as entries with a `decodingIssue`.
    /// Throws only for whole-document failures (not JSON, truncated, not a Bundle, …).
    public static func decodeBundle(_ data: Data, maxBytes: Int = defaultMaxBytes) throws(FHIRDecodingError) -> FHIRBundle {
        try decodeBundle(data, maxBytes: maxBytes, entryReader: BundleEntry.readTolerantly, reserving: true)
    }

    /// Same as ``decodeBundle(_:maxBytes:)`` with a custom reader for each `entry` element, which may keep an element
    /// for itself (nil: not in `Bundle.entry`); `entryArray` is told when an `entry` array begins; `reserving`: make
    /// room ahead for about one entry per KB. The reader runs inside the buffer scope, so it may remember byte
    /// offsets of the document while the decode lasts.
    static func decodeBundle(_ data: Data, maxBytes: Int = defaultMaxBytes, entryReader: (inout JSONReader) throws -> BundleEntry?,
                             entryArray: () -> Void = {}, reserving: Bool = false) throws(FHIRDecodingError) -> FHIRBundle {
        let resource = try read(data, maxBytes: maxBytes, expected: "Bundle") { r, type -> Any in
            if type == "Bundle" {
                return try FHIRBundle(reading: &r, entryReader: entryReader, entryArray: entryArray, reserving: reserving)
            }
            return try Resource(reading: &r)
        }
        if let bundle = resource as? FHIRBundle { return bundle }
        let other = resource as? Resource
        throw .unexpectedResourceType(expected: "Bundle", found: other?.resourceType ?? "?", outcome: other?.operationOutcome)
    }

    /// Decodes any single resource (unknown types come back as `.unknown`).
    public static func decodeResource(_ data: Data, maxBytes: Int = defaultMaxBytes) throws(FHIRDecodingError) -> Resource {
        let value = try read(data, maxBytes: maxBytes, expected: "resource") { r, _ -> Any in try Resource(reading: &r) }
        return value as! Resource // swiftlint:disable:this force_cast
    }

    /// Decodes a resource of a given model type (e.g. `Appointment.self`); another resourceType is an error.
    public static func decode<T: Sendable>(_ type: T.Type, from data: Data,
                                           maxBytes: Int = defaultMaxBytes) throws(FHIRDecodingError) -> T {
        let resource = try decodeResource(data, maxBytes: maxBytes)
        let payload: Any
        switch resource {
        case .slot(let v): payload = v
        case .schedule(let v): payload = v
        case .practitioner(let v): payload = v
        case .practitionerRole(let v): payload = v
        case .location(let v): payload = v
        case .healthcareService(let v): payload = v
        case .organization(let v): payload = v
        case .appointment(let v): payload = v
        case .operationOutcome(let v): payload = v
        case .unknown: payload = resource
        }
        if let value = payload as? T { return value }
        throw .unexpectedResourceType(expected: String(describing: T.self), found: resource.resourceType,
                                      outcome: resource.operationOutcome)
    }

    /// A JSON encoder configured for FHIR output (nil fields omitted, slashes unescaped, keys sorted).
    public static func makeEncoder(pretty: Bool = false) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.withoutEscapingSlashes, .prettyPrinted, .sortedKeys]
                                          : [.withoutEscapingSlashes, .sortedKeys]
        return encoder
    }

    /// Encodes a model as FHIR JSON: deterministic, and (compact form) with `resourceType` first in every resource.
    /// The module's models go through ``FHIRJSONWriter`` (same bytes, several times faster); anything else, and
    /// values the writer declines, through `JSONEncoder`.
    public static func encode(_ value: some Encodable, pretty: Bool = false) throws -> Data {
        if !pretty, let writable = value as? any FHIRJSONWritable, let data = FHIRJSONWriter.data(writable) { return data }
        return try encodeWithFoundation(value, pretty: pretty)
    }

    /// The reference encoding (`JSONEncoder`, sorted keys, then `resourceType` hoisted), kept for values the fast
    /// writer declines and as what the equivalence tests compare the writer with.
    static func encodeWithFoundation(_ value: some Encodable, pretty: Bool = false) throws -> Data {
        let data = try makeEncoder(pretty: pretty).encode(value)
        return pretty ? data : try JSONKeyOrder.hoistResourceType(data)
    }

    private static func read(_ data: Data, maxBytes: Int, expected: String,
                             _ body: (inout JSONReader, String) throws -> Any) throws(FHIRDecodingError) -> Any {
        guard !data.isEmpty else { throw .empty }
        guard data.count <= maxBytes else { throw .tooLarge(bytes: data.count, limit: maxBytes) }
        do {
            return try data.withUnsafeBytes { buffer in
                var r = JSONReader(buffer)
                r.memo = DocumentMemo()
                if r.count >= 3, r.base[0] == 0xEF, r.base[1] == 0xBB, r.base[2] == 0xBF { r.pos = 3 } // UTF-8 BOM
                let start = r.pos
                guard try r.peek() == UInt8(ascii: "{") else {
                    try r.skipValue() // throws when it is not JSON at all
                    throw FHIRDecodingError.notAResource
                }
                let type = try topLevelResourceType(&r)
                r.pos = start
                r.depth = 0
                let value = try body(&r, type)
                r.skipWhitespace()
                guard r.pos == r.count else {
                    throw JSONReadError.syntax(offset: r.pos, reason: "unexpected data after the document")
                }
                return value
            }
        } catch let error as FHIRDecodingError {
            throw error
        } catch let error as JSONReadError {
            throw error.publicError
        } catch {
            throw .invalidJSON(offset: 0, reason: String(describing: error))
        }
    }

    private enum T: String, CaseIterable, Sendable { case resourceType }
    private static let typeTable = KeyTable<T>()

    /// Finds the top-level `resourceType`, validating the whole document's syntax on the way only when needed.
    private static func topLevelResourceType(_ r: inout JSONReader) throws -> String {
        _ = try r.beginObject()
        var first = true
        while let key = try r.nextKey(&first, typeTable) {
            if key == .resourceType {
                guard let type = try? r.readString() else { throw FHIRDecodingError.notAResource }
                return type
            }
            try r.skipValue()
        }
        throw FHIRDecodingError.notAResource
    }
}
