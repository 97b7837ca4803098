import Directory
import Foundation

/// The radii a search tries, smallest first.
///
/// - Address, city or coordinates: the department's default radius (`departments.csv`, the live platform's
///   `cityDefaultRadius`), then ×1.5, ×2, ×3, ×4, and finally the department radius (`countyRadius`), each ring
///   tried only while fewer than K offers with slots are found. Where the table has no default radius (973, 976:
///   0 km, which makes the live platform fail), 50 km; where it has no department radius (overseas: 0 km), the last
///   ring is twice the default.
/// - Department: one ring, the department disc (its radius around its barycentre); overseas, where the table has
///   none, 50 km around the most populous place, which covers each island.
public struct RadiusPlan: Sendable, Hashable, Codable {
    /// Radii in km, increasing.
    public let rings: [Double]
    /// The department's default (first ring).
    public let defaultKm: Double
    /// Why these rings, in French.
    public let basis: String

    /// Multipliers of the default radius tried before the department radius.
    public static let multipliers: [Double] = [1, 1.5, 2, 3, 4]
    /// Fallback radius where the table has none.
    public static let fallbackKm = 50.0

    /// Builds the plan for a place of the given precision in `department`.
    public static func plan(precision: String, department: Department?) -> RadiusPlan {
        let name = department.map { "\($0.name) (\($0.code))" } ?? "département inconnu"
        if precision == "department" {
            let r = (department?.departmentRadiusKm ?? 0) > 0 ? department!.departmentRadiusKm : fallbackKm
            return RadiusPlan(rings: [r], defaultKm: r,
                              basis: "Recherche départementale : disque de \(format(r)) km couvrant \(name).")
        }
        let r = (department?.defaultRadiusKm ?? 0) > 0 ? department!.defaultRadiusKm : fallbackKm
        let county = department?.departmentRadiusKm ?? 0
        let cap = county > r ? county : 2 * r
        var rings = multipliers.map { $0 * r }.filter { $0 < cap }
        rings.append(cap)
        return RadiusPlan(rings: rings, defaultKm: r,
                          basis: "Rayon par défaut de \(name) : \(format(r)) km, élargissable jusqu'à \(format(cap)) km.")
    }

    /// A plan fixed to one radius (next pages keep the radius of the first).
    public static func fixed(_ km: Double, defaultKm: Double) -> RadiusPlan {
        RadiusPlan(rings: [km], defaultKm: defaultKm, basis: "Rayon conservé de la première page : \(format(km)) km.")
    }

    /// "7,5" / "10".
    public static func format(_ km: Double) -> String {
        if km == km.rounded() { return String(Int(km)) }
        // Tenths by integer arithmetic (`String(format:)` and a Foundation replacement cost ~4 % of the search bench:
        // every card's distance goes through here).
        let tenths = Int((km * 10).rounded())
        return "\(tenths / 10),\(tenths % 10)"
    }
}
