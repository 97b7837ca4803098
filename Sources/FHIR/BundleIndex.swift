import Foundation
import SASDomain

/// Where a reference inside a Bundle leads.
public enum ResolvedReference: Sendable {
    /// A bundle entry (index into `entry`) and its resource.
    case entry(index: Int, resource: Resource)
    /// A resource contained in the referring resource (`#id`).
    case contained(resource: Resource)
    /// A logical reference by identifier with no matching resource in the bundle.
    case logical(Identifier)
    /// Nothing matches.
    case unresolved(reason: String)

    /// The target resource, when there is one.
    public var resource: Resource? {
        switch self {
        case .entry(_, let r), .contained(let r): return r
        case .logical, .unresolved: return nil
        }
    }
}

/// Reference-resolution index over one Bundle: `Type/id`, absolute `fullUrl`, fullUrl suffix `Type/id`,
/// contained `#id` and identifier-only logical references. Duplicate ids keep the first entry.
///
/// Keys are looked up by the bytes of the reference (``StringKeyTable``): resolving `Practitioner/p1` builds no
/// string, and building the index hashes each key once with a fast byte hash instead of `Hasher`.
public struct BundleIndex: Sendable {
    /// The entries indexed (in bundle order).
    public let entries: [BundleEntry]
    /// The position in the Bundle of each of `entries` when they are not all of its entries (the fast normaliser
    /// path keeps Slot entries apart); nil: `entries` are the Bundle's. Indices reported (`duplicates`,
    /// ``ResolvedReference/entry(index:resource:)``) are positions in the Bundle.
    private let positions: [Int]?
    /// `Type/id` keys (parts: type, id).
    private var byKey = StringKeyTable()
    /// fullUrls (one part).
    private var byFullUrl = StringKeyTable()
    /// Identifiers (parts: type, system or "" when absent, value; and, with `anySystem`, type and value).
    private var byIdentifier = StringKeyTable()
    /// Entry indices that repeat an already indexed `Type/id` or `fullUrl` (the first occurrence wins).
    public private(set) var duplicates: [Int: String] = [:]

    private static let withSystem: UInt8 = 0, anySystem: UInt8 = 1

    /// Builds the index.
    public init(_ bundle: FHIRBundle) { self.init(entries: bundle.entry ?? []) }

    /// Builds the index over raw entries.
    public init(entries: [BundleEntry]) { self.init(entries: entries, positions: nil) }

    /// Builds the index over `entries`, which are at `positions` in the Bundle (nil: all of them, in order).
    init(entries: [BundleEntry], positions: [Int]?) {
        precondition(positions.map { $0.count == entries.count } ?? true, "one position per entry")
        self.entries = entries
        self.positions = positions
        var indexed = 0 // fast slots come without a resource and are not indexed: size the tables for the others
        for i in entries.indices where entries[i].resource != nil { indexed += 1 }
        byKey.reserve(indexed)
        byFullUrl.reserve(indexed)
        for i in entries.indices { // by index: copying each entry would retain all its fields
            guard let resource = entries[i].resource else { continue }
            let type = resource.resourceType
            let id = resource.id
            let fullUrl = entries[i].fullUrl
            // The entry's keys: `Type/id`, and the fullUrl's `Type/id` suffix when it names another one.
            var first = id.map { (type, $0) }
            var second: (String, String)?
            if let fullUrl {
                if byFullUrl.value(fullUrl) != nil {
                    duplicates[position(i)] = "duplicate fullUrl \(fullUrl)"
                    continue
                }
                // The usual `…/Type/id` names the key already there: checked on the bytes, without building it.
                if let id, Self.fullUrl(fullUrl, endsWith: type, id) {
                } else if let suffix = Self.typeIDSuffix(fullUrl), suffix.type == type, first.map({ $0 != (suffix.type, suffix.id) }) ?? true {
                    if first == nil { first = (suffix.type, suffix.id) } else { second = (suffix.type, suffix.id) }
                }
            }
            if let first, let previous = byKey.value(first.0, first.1) {
                duplicates[position(i)] = "duplicate id \(first.0)/\(first.1) (entry \(position(previous)) wins)"
                continue
            }
            if let fullUrl { byFullUrl.insert(i, fullUrl) }
            if let first { byKey.insert(i, first.0, first.1) }
            if let second { byKey.insert(i, second.0, second.1) } // kept when already there
            // Only these are targets of identifier-only references in SAS bundles (unknown types have none).
            switch resource {
            case .organization, .practitioner, .location, .healthcareService: break
            default: continue
            }
            for identifier in resource.identifiers {
                guard let value = identifier.value else { continue }
                byIdentifier.insert(i, type, identifier.system ?? "", value, kind: Self.withSystem)
                byIdentifier.insert(i, type, value, kind: Self.anySystem)
            }
        }
    }

    /// The position in the Bundle of `entries[i]`.
    @inline(__always) func position(_ i: Int) -> Int { positions?[i] ?? i }

    /// The entry at `position` in the Bundle, if it is indexed here.
    func entry(atPosition position: Int) -> BundleEntry? {
        guard let positions else { return entries.indices.contains(position) ? entries[position] : nil }
        var (lo, hi) = (0, positions.count) // positions are increasing
        while lo < hi {
            let mid = (lo + hi) / 2
            if positions[mid] < position { lo = mid + 1 } else { hi = mid }
        }
        return lo < positions.count && positions[lo] == position ? entries[lo] : nil
    }

    /// A `Type/id` pair.
    struct TypeID: Hashable, Sendable {
        var type: String
        var id: String
    }

    /// Resolves `reference` made from inside `container` (needed for `#id`); checks the target type when given.
    public func resolve(_ reference: Reference, in container: Resource? = nil, expecting type: String? = nil) -> ResolvedReference {
        resolve(reference, contained: container.flatMap(Self.containedResources), expecting: type)
    }

    /// Resolves `reference` made from a resource whose contained resources are `contained` (for `#id`).
    func resolve(_ reference: Reference, contained: [Resource]?, expecting type: String? = nil) -> ResolvedReference {
        let result = resolveUnchecked(reference, contained: contained, expecting: type ?? reference.type)
        if let type, let resource = result.resource, resource.resourceType != type {
            return .unresolved(reason: "\(reference.reference ?? "?") is a \(resource.resourceType), expected \(type)")
        }
        return result
    }

    private func resolveUnchecked(_ reference: Reference, contained: [Resource]?, expecting type: String?) -> ResolvedReference {
        guard let literal = reference.reference, !literal.isEmpty else {
            guard let identifier = reference.identifier, let value = identifier.value else {
                return .unresolved(reason: "empty reference")
            }
            if let type {
                if let i = byIdentifier.value(type, identifier.system ?? "", value, kind: Self.withSystem)
                    ?? byIdentifier.value(type, value, kind: Self.anySystem),
                   let resource = entries[i].resource {
                    return .entry(index: position(i), resource: resource)
                }
            }
            return .logical(identifier)
        }
        if literal.first == "#" {
            let id = literal.dropFirst()
            if let resource = contained?.first(where: { $0.id.map { $0[...] == id } ?? false }) {
                return .contained(resource: resource)
            }
            return .unresolved(reason: "no contained resource \(literal)")
        }
        if let i = byFullUrl.value(literal) ?? byKey.value(suffixOf: literal), let resource = entries[i].resource {
            return .entry(index: position(i), resource: resource)
        }
        return .unresolved(reason: "no entry for \(literal)")
    }

    /// Resolves a chain of `next` hops, stopping at the first resource where `accept` holds; detects cycles.
    public func follow(from start: Resource, maxHops: Int = 8, next: (Resource) -> Reference?,
                       accept: (Resource) -> Bool) -> Result<Resource, ReferenceWalkError> {
        var current = start
        var seen: Set<String> = []
        for _ in 0...maxHops {
            if accept(current) { return .success(current) }
            seen.insert(current.resourceType + "/" + (current.id ?? "?"))
            guard let reference = next(current) else { return .failure(.deadEnd) }
            guard let target = resolve(reference, expecting: current.resourceType).resource else { return .failure(.deadEnd) }
            if seen.contains(target.resourceType + "/" + (target.id ?? "?")) { return .failure(.cycle) }
            current = target
        }
        return .failure(.tooLong)
    }

    /// The `Type/id` at the end of an absolute or relative URL (skipping `/_history/n`), scanning bytes backwards.
    static func typeIDSuffix(_ url: String) -> TypeID? {
        var copy = url
        return copy.withUTF8 { b -> TypeID? in
            guard let (type, id) = typeIDSuffix(b) else { return nil }
            return TypeID(type: String(decoding: UnsafeBufferPointer(rebasing: b[type]), as: UTF8.self),
                          id: String(decoding: UnsafeBufferPointer(rebasing: b[id]), as: UTF8.self))
        }
    }

    /// The byte ranges of the `Type` and `id` at the end of the URL bytes `b` (as the `String` version).
    /// Works on UTF-8 bytes ('/' and ':' are ASCII, so every cut is on a scalar boundary).
    static func typeIDSuffix(_ b: UnsafeBufferPointer<UInt8>) -> (type: Range<Int>, id: Range<Int>)? {
        /// The last `/`-separated segment of `lo..<hi` and what precedes its slash (empty when there is none).
        func lastSegment(_ range: Range<Int>) -> (segment: Range<Int>, rest: Range<Int>)? {
            var i = range.upperBound
            while i > range.lowerBound {
                if b[i - 1] == UInt8(ascii: "/") { return (i..<range.upperBound, range.lowerBound..<(i - 1)) }
                i -= 1
            }
            return range.isEmpty ? nil : (range, range.lowerBound..<range.lowerBound)
        }
        func equals(_ r: Range<Int>, _ word: StaticString) -> Bool {
            r.count == word.utf8CodeUnitCount && memcmp(b.baseAddress! + r.lowerBound, word.utf8Start, r.count) == 0
        }
        var end = b.count
        while end > 0, b[end - 1] == UInt8(ascii: "/") { end -= 1 }
        guard var (id, rest) = lastSegment(0..<end), !id.isEmpty, var (type, rest2) = lastSegment(rest) else { return nil }
        if equals(type, "_history") {
            guard let (realID, r1) = lastSegment(rest2), let (realType, r2) = lastSegment(r1) else { return nil }
            (id, type, rest, rest2) = (realID, realType, r1, r2)
        }
        guard let first = type.first.map({ b[$0] }), first >= UInt8(ascii: "A"), first <= UInt8(ascii: "Z"),
              !type.contains(where: { b[$0] == UInt8(ascii: ":") }), !id.isEmpty else { return nil }
        return (type, id)
    }

    /// Whether `url` is `Type/id` or ends with `/Type/id`, with a non-empty, slash-free id: then
    /// ``typeIDSuffix(_:)`` of it is exactly `Type/id` (a resource type is never `_history` nor contains `:`).
    static func fullUrl(_ url: String, endsWith type: String, _ id: String) -> Bool {
        var (u, t, i) = (url, type, id)
        return u.withUTF8 { u in
            t.withUTF8 { t in
                i.withUTF8 { i in
                    let n = t.count + 1 + i.count
                    guard !i.isEmpty, !t.isEmpty, u.count >= n, !i.contains(UInt8(ascii: "/")) else { return false }
                    let start = u.count - n
                    guard start == 0 || u[start - 1] == UInt8(ascii: "/"), u[start + t.count] == UInt8(ascii: "/") else {
                        return false
                    }
                    return memcmp(u.baseAddress! + start, t.baseAddress!, t.count) == 0
                        && memcmp(u.baseAddress! + start + t.count + 1, i.baseAddress!, i.count) == 0
                }
            }
        }
    }

    static func containedResources(_ resource: Resource) -> [Resource]? {
        if case .practitionerRole(let role) = resource { return role.contained }
        return nil
    }
}

/// Why a reference chain could not be followed.
public enum ReferenceWalkError: Error, Hashable, Sendable {
    /// A reference leads back to a resource already visited.
    case cycle
    /// A reference is missing or unresolvable.
    case deadEnd
    /// Too many hops.
    case tooLong
}
