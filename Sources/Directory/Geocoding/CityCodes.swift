/// The only postcodes and INSEE codes the offline geocoder resolves to a city: Paris, Lyon and Marseille
/// and their arrondissements, whose numbering is structural (no lookup table is shipped for the others).
enum CityCodes {
    /// A city with arrondissements, and the arrondissement number when the code designates one.
    struct Target: Equatable {
        /// Normalised city key: "paris", "lyon" or "marseille".
        let city: String
        /// 1…20 (Paris), 1…9 (Lyon), 1…16 (Marseille); nil for the whole city.
        let arrondissement: Int?

        /// Normalised key of the arrondissement place alias ("lyon 3") or of the city.
        var key: String { arrondissement.map { "\(city) \($0)" } ?? city }
    }

    private static let cities: [(city: String, department: String, count: Int, insee: String, inseeBase: Int)] = [
        ("paris", "75", 20, "75056", 75100),
        ("lyon", "69", 9, "69123", 69380),
        ("marseille", "13", 16, "13055", 13200),
    ]

    /// Paris 750NN (and 75116), Lyon 6900N, Marseille 130NN.
    static func postcode(_ code: String) -> Target? {
        guard code.count == 5, let n = Int(code) else { return nil }
        if n == 75116 { return Target(city: "paris", arrondissement: 16) }
        for c in cities {
            let base = Int(c.department)! * 1000
            if n > base, n <= base + c.count { return Target(city: c.city, arrondissement: n - base) }
        }
        return nil
    }

    /// Paris 75056 / 751NN, Lyon 69123 / 6938N, Marseille 13055 / 132NN.
    static func insee(_ code: String) -> Target? {
        guard code.count == 5, let n = Int(code) else { return nil }
        for c in cities {
            if code == c.insee { return Target(city: c.city, arrondissement: nil) }
            if n > c.inseeBase, n <= c.inseeBase + c.count { return Target(city: c.city, arrondissement: n - c.inseeBase) }
        }
        return nil
    }

    /// The department of a city key ("lyon" → "69").
    static func department(ofCity city: String) -> String? {
        cities.first { $0.city == city }?.department
    }

    /// The normalised arrondissement alias of a place key ("paris 15 vaugirard" → "paris 15", "lyon 3" → "lyon 3").
    static func arrondissementAlias(ofKey key: String) -> String? {
        let tokens = key.split(separator: " ")
        guard tokens.count >= 2, let n = Int(tokens[1]),
              let c = cities.first(where: { $0.city == tokens[0] }), (1...c.count).contains(n) else { return nil }
        return "\(c.city) \(n)"
    }
}
