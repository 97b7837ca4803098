@testable import Directory
import Foundation

/// Reference tables and a geocoder shared by the tests (loaded once from the module bundle).
enum Fixtures {
    static let places = try! Places.load()
    static let departments = try! Departments.load()
    static let specialties = try! Specialties.load()
    static let geocoder = OfflineGeocoder(places: places, departments: departments)

    static func distanceKm(_ r: GeocodeResult, _ lat: Double, _ lon: Double) -> Double {
        Haversine.distanceKm(r.latitude, r.longitude, lat, lon)
    }

    /// A small generated directory shared by the generator tests.
    static let synthetic = SyntheticFrance(configuration: .init(practitioners: 6_000, seed: 7), places: places,
                                           departments: departments, specialties: specialties)
    static let directory = synthetic.generate()
}
