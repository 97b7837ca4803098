import Foundation

/// FHIR `Bundle` (named `FHIRBundle` to avoid clashing with `Foundation.Bundle`).
///
/// Decoding is tolerant per entry: an entry whose resource cannot be decoded keeps `resource == nil` and records
/// why in ``BundleEntry/decodingIssue``; the rest of the bundle is unaffected.
public struct FHIRBundle: Hashable, Sendable, Codable {
    public var resourceType: String = "Bundle"
    public var id: String?
    public var meta: Meta?
    public var type: String?
    public var timestamp: FHIRInstant?
    public var total: Int?
    public var link: [Link]?
    public var entry: [BundleEntry]?
    /// Bundle-level elements that had to be ignored while decoding (never encoded).
    public var decodingIssues: [EntryDecodingIssue] = []

    enum CodingKeys: String, CodingKey { case resourceType, id, meta, type, timestamp, total, link, entry }

    public init(type: String? = "searchset", id: String? = nil) {
        self.type = type
        self.id = id
    }

    /// `Bundle.link`.
    public struct Link: Hashable, Sendable, Codable {
        public var relation: String
        public var url: String

        public init(relation: String, url: String) {
            self.relation = relation
            self.url = url
        }
    }

    /// The `self` link URL.
    public var selfLink: String? { link?.first { $0.relation == "self" }?.url }

    /// The resources of all decodable entries, in order.
    public var resources: [Resource] { (entry ?? []).compactMap(\.resource) }
}

/// `Bundle.entry`.
public struct BundleEntry: Hashable, Sendable, Codable {
    public var fullUrl: String?
    public var resource: Resource?
    public var search: Search?
    /// Why the resource could not be decoded (never encoded; set by the decoders).
    public var decodingIssue: EntryDecodingIssue?

    public init(fullUrl: String? = nil, resource: Resource? = nil, search: Search? = nil) {
        self.fullUrl = fullUrl
        self.resource = resource
        self.search = search
    }

    /// `Bundle.entry.search`.
    public struct Search: Hashable, Sendable, Codable {
        /// `match`, `include` or `outcome`.
        public var mode: String?
        public var score: Double?

        public init(mode: String? = nil, score: Double? = nil) {
            self.mode = mode
            self.score = score
        }
    }

    enum CodingKeys: String, CodingKey { case fullUrl, resource, search }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        fullUrl = try? c.decodeIfPresent(String.self, forKey: .fullUrl)
        search = try? c.decodeIfPresent(Search.self, forKey: .search)
        do {
            resource = try c.decodeIfPresent(Resource.self, forKey: .resource)
        } catch {
            resource = nil
            let type = (try? c.nestedContainer(keyedBy: AnyKey.self, forKey: .resource))
                .flatMap { try? $0.decode(String.self, forKey: AnyKey("resourceType")) }
            decodingIssue = EntryDecodingIssue(resourceType: type, message: String(describing: error))
        }
    }
}

/// Why one bundle entry's resource could not be decoded.
public struct EntryDecodingIssue: Hashable, Sendable, Codable, CustomStringConvertible {
    /// `resourceType` of the entry, when readable.
    public var resourceType: String?
    /// JSON path of the failure inside the resource, when known (e.g. `start`).
    public var path: String?
    /// English detail for logs.
    public var message: String

    public init(resourceType: String?, path: String? = nil, message: String) {
        self.resourceType = resourceType
        self.path = path
        self.message = message
    }

    public var description: String {
        "\(resourceType ?? "?")\(path.map { "." + $0 } ?? ""): \(message)"
    }
}
