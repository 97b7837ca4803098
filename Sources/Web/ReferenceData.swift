import Directory
import Foundation
import NIOConcurrencyHelpers

/// Reference data loaded once per process: specialties, departments, places and the geocoder built on them.
public struct ReferenceData: Sendable {
    public let specialties: Specialties
    public let departments: Departments
    public let geocoder: OfflineGeocoder

    private static let cache = NIOLockedValueBox<ReferenceData?>(nil)

    /// The process-wide instance (loading takes ~100 ms, so it is done once).
    public static func shared() throws -> ReferenceData {
        try cache.withLockedValue { cached in
            if let cached { return cached }
            let departments = try Departments.load()
            let data = ReferenceData(specialties: try Specialties.load(), departments: departments,
                                     geocoder: OfflineGeocoder(places: try Places.load(), departments: departments))
            cached = data
            return data
        }
    }
}
