import Foundation

/// A model the fast writer can serialise (every FHIR type of this module).
protocol FHIRJSONWritable {
    func write(to w: inout FHIRJSONWriter)
}

/// Writes the module's FHIR models as compact JSON straight into bytes.
///
/// The output is byte for byte what `JSONEncoder` with ``FHIRJSON/makeEncoder(pretty:)`` followed by the
/// `resourceType` hoisting produced (and still produces, as the reference the equivalence tests compare with): nil
/// elements omitted, members in the encoder's sorted-key order with `resourceType` first, slashes unescaped, control
/// characters escaped the same way, doubles in the same shortest form. Each model writes its members in that order
/// by hand, so nothing is sorted, boxed or re-parsed at run time; this is what makes the sandbox editors and the
/// platform's FHIR server answers cheap (see BENCHMARKS.md).
///
/// Values JSON cannot carry (a non-finite double) mark the writer ``failed``: the caller then falls back to
/// `JSONEncoder`, which reports the error as before.
struct FHIRJSONWriter {
    private(set) var out: [UInt8] = []
    /// Whether the next member or element of the open object/array is its first (no comma before it).
    private var first = true
    private(set) var failed = false

    init(capacity: Int = 4096) { out.reserveCapacity(capacity) }

    /// The encoded bytes of one value, or nil when it holds something only `JSONEncoder` can judge.
    static func data(_ value: some FHIRJSONWritable, capacity: Int = 4096) -> Data? {
        var w = FHIRJSONWriter(capacity: capacity)
        value.write(to: &w)
        return w.failed ? nil : Data(w.out)
    }

    // MARK: Structure

    /// Opens an object; pass the result to ``endObject(_:)``.
    @inline(__always)
    mutating func beginObject() -> Bool {
        out.append(UInt8(ascii: "{"))
        defer { first = true }
        return first
    }

    @inline(__always)
    mutating func endObject(_ saved: Bool) {
        out.append(UInt8(ascii: "}"))
        first = saved
    }

    @inline(__always)
    mutating func beginArray() -> Bool {
        out.append(UInt8(ascii: "["))
        defer { first = true }
        return first
    }

    @inline(__always)
    mutating func endArray(_ saved: Bool) {
        out.append(UInt8(ascii: "]"))
        first = saved
    }

    /// The separator before an array element.
    @inline(__always)
    mutating func element() {
        if !first { out.append(UInt8(ascii: ",")) }
        first = false
    }

    /// `"key":` (keys are ASCII names that need no escaping).
    @inline(__always)
    mutating func key(_ name: StaticString) {
        element()
        out.append(UInt8(ascii: "\""))
        out.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
        out.append(UInt8(ascii: "\""))
        out.append(UInt8(ascii: ":"))
    }

    /// `"key":` for a key known only at run time (JSON objects, extension value names).
    mutating func key(dynamic name: String) {
        element()
        string(name)
        out.append(UInt8(ascii: ":"))
    }

    // MARK: Scalars

    /// A JSON string, escaped as `JSONEncoder` escapes it (with `.withoutEscapingSlashes`).
    mutating func string(_ value: String) {
        out.append(UInt8(ascii: "\""))
        var text = value
        text.withUTF8 { bytes in
            var runStart = 0
            for i in 0..<bytes.count {
                let b = bytes[i]
                guard b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") else { continue }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<i]))
                runStart = i + 1
                out.append(UInt8(ascii: "\\"))
                switch b {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): out.append(b)
                case 0x0A: out.append(UInt8(ascii: "n"))
                case 0x0D: out.append(UInt8(ascii: "r"))
                case 0x09: out.append(UInt8(ascii: "t"))
                case 0x08: out.append(UInt8(ascii: "b"))
                case 0x0C: out.append(UInt8(ascii: "f"))
                default:
                    let hex: [UInt8] = Array("0123456789abcdef".utf8)
                    out.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(b >> 4)], hex[Int(b & 0xF)]])
                }
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<bytes.count]))
        }
        out.append(UInt8(ascii: "\""))
    }

    mutating func bool(_ value: Bool) {
        if value { out.append(contentsOf: [0x74, 0x72, 0x75, 0x65]) } else { out.append(contentsOf: [0x66, 0x61, 0x6C, 0x73, 0x65]) }
    }

    mutating func integer(_ value: Int) { out.append(contentsOf: String(value).utf8) }

    /// A double as `JSONEncoder` writes it (shortest round-trip form, `.0` dropped); non-finite values fail.
    mutating func double(_ value: Double) {
        guard value.isFinite else {
            failed = true
            out.append(UInt8(ascii: "0"))
            return
        }
        var text = value.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        out.append(contentsOf: text.utf8)
    }

    mutating func null() { out.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C]) }

    // MARK: Members (nil omitted)

    @inline(__always)
    mutating func field(_ name: StaticString, _ value: String?) {
        guard let value else { return }
        key(name)
        string(value)
    }

    @inline(__always)
    mutating func field(_ name: StaticString, _ value: Bool?) {
        guard let value else { return }
        key(name)
        bool(value)
    }

    @inline(__always)
    mutating func field(_ name: StaticString, _ value: Int?) {
        guard let value else { return }
        key(name)
        integer(value)
    }

    @inline(__always)
    mutating func field(_ name: StaticString, _ value: Double?) {
        guard let value else { return }
        key(name)
        double(value)
    }

    @inline(__always)
    mutating func field(_ name: StaticString, _ value: FHIRInstant?) {
        guard let value else { return }
        key(name)
        string(value.canonical)
    }

    @inline(__always)
    mutating func field<T: FHIRJSONWritable>(_ name: StaticString, _ value: T?) {
        guard let value else { return }
        key(name)
        value.write(to: &self)
    }

    @inline(__always)
    mutating func field<T: FHIRJSONWritable>(_ name: StaticString, _ values: [T]?) {
        guard let values else { return }
        key(name)
        let saved = beginArray()
        for value in values {
            element()
            value.write(to: &self)
        }
        endArray(saved)
    }

    @inline(__always)
    mutating func field(_ name: StaticString, _ values: [String]?) {
        guard let values else { return }
        key(name)
        let saved = beginArray()
        for value in values {
            element()
            string(value)
        }
        endArray(saved)
    }

    /// Opens a resource object with its `resourceType` first.
    @inline(__always)
    mutating func beginResource(_ type: String) -> Bool {
        let saved = beginObject()
        key("resourceType")
        string(type)
        return saved
    }
}

// MARK: - Datatypes

extension Coding: FHIRJSONWritable {
    func write(to w: inout FHIRJSONWriter) {
        let s = w.beginObject()
        w.field("code", code)
        w.field("display", display)
        w.field("system", system)
        w.field("version", version)
        w.endObject(s)
    }
}

extension CodeableConcept: FHIRJSONWritable {
    func write(to w: inout FHIRJSONWriter) {
        let s = w.beginObject()
        w.field("coding", coding)
        w.field("extension", extension_)
        w.field("text", text)
        w.endObject(s)
    }
}

extension Identifier: FHIRJSONWritable {
    func write(to w: inout FHIRJSONWriter) {
        let s = w.beginObject()
        w.field("system", system)
        w.field("type", type)
        w.field("use", use)
        w.field("value", value)
        w.endObject(s)
    }
}

extension Reference: FHIRJSONWritable {
    func write(to w: inout FHIRJSONWriter) {
        let s = w.beginObject()
        w.field("display", display)
        w.field("identifier", identifier)
        w.field("reference", reference)
        w.field("type", type)
        w.endObject(s)
    }
}

extension HumanName: FHIRJSONWritable {
    func write(to w: inout FHIRJSONWriter) {
        let s = w.beginObject()
        w.field("family", family)
        w.field("given", given)
        w.field("prefix", prefix)
        w.field("suffix", suffix)
        w.field("text", text)
        w.field("use", use)
        w.endObject(s)
    }
}

extension ContactPoint: FHIRJSONWritable {
    func write(to w: inout FHIRJSONWriter) {
        let s = w.beginObject()
        w.field("rank", rank)
        w.field("system", system)
        w.field("use", use)
        w.field("value", value)
        w.endObject(s)
    }
}

extension Address: FHIRJSONWritable {
    func write(to w: inout FHIRJSONWriter) {
        let s = w.beginObject()
        w.field("city", city)
        w.field("country", country)
        w.field("district", district)
        w.field("line", line)
        w.field("postalCode", postalCode)
        w.field("state", state)
        w.field("text", text)
        w.field("type", type)
        w.field("use", use)
        w.endObject(s)
    }
}

extension Period: FHIRJSONWritable {
    func write(to w: inout FHIRJSONWriter) {
        let s = w.beginObject()
        w.field("end", end)
        w.field("start", start)
        w.endObject(s)
    }
}

extension Meta: FHIRJSONWritable {
    func write(to w: inout FHIRJSONWriter) {
        let s = w.beginObject()
        w.field("lastUpdated", lastUpdated)
        w.field("profile", profile)
        w.field("security", security)
        w.field("source", source)
        w.field("tag", tag)
        w.field("versionId", versionId)
        w.endObject(s)
    }
}

extension Extension: FHIRJSONWritable {
    func write(to w: inout FHIRJSONWriter) {
        let s = w.beginObject()
        w.field("extension", extension_) // "extension" < "url" < "value…"
        w.key("url")
        w.string(url)
        if let value {
            w.key(dynamic: value.elementName)
            switch value {
            case .reference(let v): v.write(to: &w)
            case .codeableConcept(let v): v.write(to: &w)
            case .coding(let v): v.write(to: &w)
            case .identifier(let v): v.write(to: &w)
            case .string(let v), .code(let v), .uri(let v): w.string(v)
            case .boolean(let v): w.bool(v)
            case .integer(let v): w.integer(v)
            case .dateTime(let v): w.string(v.canonical)
            case .period(let v): v.write(to: &w)
            case .other(_, let json): json.write(to: &w)
            }
        }
        w.endObject(s)
    }
}

extension JSONValue: FHIRJSONWritable {
    func write(to w: inout FHIRJSONWriter) {
        switch self {
        case .null: w.null()
        case .bool(let b): w.bool(b)
        case .number(let n):
            if n.rounded() == n, abs(n) < 9.0e15 { w.integer(Int(Int64(n))) } else { w.double(n) }
        case .string(let s): w.string(s)
        case .array(let values):
            let s = w.beginArray()
            for value in values {
                w.element()
                value.write(to: &w)
            }
            w.endArray(s)
        case .object(let members):
            let s = w.beginObject()
            for key in Self.encoderOrder(members.keys) {
                w.key(dynamic: key)
                members[key]!.write(to: &w) // swiftlint:disable:this force_unwrapping
            }
            w.endObject(s)
        }
    }

    /// `JSONEncoder`'s `.sortedKeys` order (`String` comparison: `B` before `a`, `a10` before `a9`), then `resourceType` hoisted
    /// first as ``JSONKeyOrder`` does. Only unknown resources and extension values carry raw objects.
    static func encoderOrder(_ keys: Dictionary<String, JSONValue>.Keys) -> [String] {
        var sorted = keys.sorted()
        if let i = sorted.firstIndex(of: "resourceType"), i > 0 { sorted.insert(sorted.remove(at: i), at: 0) }
        return sorted
    }
}

// MARK: - Resources

extension Resource: FHIRJSONWritable {
    func write(to w: inout FHIRJSONWriter) {
        switch self {
        case .slot(let r): r.write(to: &w)
        case .schedule(let r): r.write(to: &w)
        case .practitioner(let r): r.write(to: &w)
        case .practitionerRole(let r): r.write(to: &w)
        case .location(let r): r.write(to: &w)
        case .healthcareService(let r): r.write(to: &w)
        case .organization(let r): r.write(to: &w)
        case .appointment(let r): r.write(to: &w)
        case .operationOutcome(let r): r.write(to: &w)
        case .unknown(_, let json): json.write(to: &w)
        }
    }
}

extension Slot: FHIRJSONWritable {
    func write(to w: inout FHIRJSONWriter) {
        let s = w.beginResource(resourceType)
        w.field("appointmentType", appointmentType)
        w.field("comment", comment)
        w.field("end", end)
        w.field("extension", extension_)
        w.field("id", id)
        w.field("identifier", identifier)
        w.field("meta", meta)
        w.field("overbooked", overbooked)
        w.field("schedule", schedule)
        w.field("serviceCategory", serviceCategory)
        w.field("serviceType", serviceType)
        w.field("specialty", specialty)
        w.field("start", start)
        w.field("status", status)
        w.endObject(s)
    }
}

extension Schedule: FHIRJSONWritable {
    func write(to w: inout FHIRJSONWriter) {
        let s = w.beginResource(resourceType)
        w.field("active", active)
        w.field("actor", actor)
        w.field("comment", comment)
        w.field("id", id)
        w.field("identifier", identifier)
        w.field("meta", meta)
        w.field("planningHorizon", planningHorizon)
        w.field("serviceType", serviceType)
        w.field("specialty", specialty)
        w.endObject(s)
    }
}

extension Practitioner: FHIRJSONWritable {
    func write(to w: inout FHIRJSONWriter) {
        let s = w.beginResource(resourceType)
        w.field("active", active)
        w.field("address", address)
        w.field("gender", gender)
        w.field("id", id)
        w.field("identifier", identifier)
        w.field("meta", meta)
        w.field("name", name)
        w.field("telecom", telecom)
        w.endObject(s)
    }
}

extension PractitionerRole: FHIRJSONWritable {
    func write(to w: inout FHIRJSONWriter) {
        let s = w.beginResource(resourceType)
        w.field("active", active)
        w.field("code", code)
        w.field("contained", contained)
        w.field("healthcareService", healthcareService)
        w.field("id", id)
        w.field("identifier", identifier)
        w.field("location", location)
        w.field("meta", meta)
        w.field("organization", organization)
        w.field("practitioner", practitioner)
        w.field("specialty", specialty)
        w.field("telecom", telecom)
        w.endObject(s)
    }
}

extension Location: FHIRJSONWritable {
    func write(to w: inout FHIRJSONWriter) {
        let s = w.beginResource(resourceType)
        w.field("address", address)
        w.field("description", description)
        w.field("hoursOfOperation", hoursOfOperation)
        w.field("id", id)
        w.field("identifier", identifier)
        w.field("managingOrganization", managingOrganization)
        w.field("meta", meta)
        w.field("name", name)
        w.field("partOf", partOf)
        w.field("position", position)
        w.field("status", status)
        w.field("telecom", telecom)
        w.endObject(s)
    }
}

extension Location.Position: FHIRJSONWritable {
    func write(to w: inout FHIRJSONWriter) {
        let s = w.beginObject()
        w.field("altitude", altitude)
        w.field("latitude", latitude)
        w.field("longitude", longitude)
        w.endObject(s)
    }
}

extension Location.HoursOfOperation: FHIRJSONWritable {
    func write(to w: inout FHIRJSONWriter) {
        let s = w.beginObject()
        w.field("allDay", allDay)
        w.field("closingTime", closingTime)
        w.field("daysOfWeek", daysOfWeek)
        w.field("openingTime", openingTime)
        w.endObject(s)
    }
}

extension HealthcareService: FHIRJSONWritable {
    func write(to w: inout FHIRJSONWriter) {
        let s = w.beginResource(resourceType)
        w.field("active", active)
        w.field("id", id)
        w.field("identifier", identifier)
        w.field("location", location)
        w.field("meta", meta)
        w.field("name", name)
        w.field("providedBy", providedBy)
        w.field("specialty", specialty)
        w.field("telecom", telecom)
        w.field("type", type)
        w.endObject(s)
    }
}

extension Organization: FHIRJSONWritable {
    func write(to w: inout FHIRJSONWriter) {
        let s = w.beginResource(resourceType)
        w.field("active", active)
        w.field("address", address)
        w.field("id", id)
        w.field("identifier", identifier)
        w.field("meta", meta)
        w.field("name", name)
        w.field("partOf", partOf)
        w.field("telecom", telecom)
        w.field("type", type)
        w.endObject(s)
    }
}

extension Appointment: FHIRJSONWritable {
    func write(to w: inout FHIRJSONWriter) {
        let s = w.beginResource(resourceType)
        w.field("appointmentType", appointmentType)
        w.field("comment", comment)
        w.field("created", created)
        w.field("description", description)
        w.field("end", end)
        w.field("extension", extension_)
        w.field("id", id)
        w.field("identifier", identifier)
        w.field("meta", meta)
        w.field("participant", participant)
        w.field("serviceType", serviceType)
        w.field("specialty", specialty)
        w.field("start", start)
        w.field("status", status)
        w.endObject(s)
    }
}

extension Appointment.Participant: FHIRJSONWritable {
    func write(to w: inout FHIRJSONWriter) {
        let s = w.beginObject()
        w.field("actor", actor)
        w.field("required", required)
        w.field("status", status)
        w.field("type", type)
        w.endObject(s)
    }
}

extension OperationOutcome: FHIRJSONWritable {
    func write(to w: inout FHIRJSONWriter) {
        let s = w.beginResource(resourceType)
        w.field("id", id)
        w.field("issue", issue)
        w.field("meta", meta)
        w.endObject(s)
    }
}

extension OperationOutcome.Issue: FHIRJSONWritable {
    func write(to w: inout FHIRJSONWriter) {
        let s = w.beginObject()
        w.field("code", code)
        w.field("details", details)
        w.field("diagnostics", diagnostics)
        w.field("expression", expression)
        w.field("severity", severity)
        w.endObject(s)
    }
}

extension FHIRBundle: FHIRJSONWritable {
    func write(to w: inout FHIRJSONWriter) {
        let s = w.beginResource(resourceType)
        w.field("entry", entry)
        w.field("id", id)
        w.field("link", link)
        w.field("meta", meta)
        w.field("timestamp", timestamp)
        w.field("total", total)
        w.field("type", type)
        w.endObject(s)
    }
}

extension FHIRBundle.Link: FHIRJSONWritable {
    func write(to w: inout FHIRJSONWriter) {
        let s = w.beginObject()
        w.field("relation", relation)
        w.field("url", url)
        w.endObject(s)
    }
}

extension BundleEntry: FHIRJSONWritable {
    func write(to w: inout FHIRJSONWriter) {
        let s = w.beginObject()
        w.field("fullUrl", fullUrl)
        w.field("resource", resource)
        w.field("search", search)
        w.endObject(s)
    }
}

extension BundleEntry.Search: FHIRJSONWritable {
    func write(to w: inout FHIRJSONWriter) {
        let s = w.beginObject()
        w.field("mode", mode)
        w.field("score", score)
        w.endObject(s)
    }
}
