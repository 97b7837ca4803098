import Crypto
import Foundation

/// Argon2id password hashes in the PHC string format (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`, unpadded base64),
/// so that the parameters travel with each hash and can be raised later (``needsRehash(_:)``).
public struct PasswordHasher: Sendable {
    /// Argon2id cost.
    public var memoryKiB: Int
    public var iterations: Int
    public var parallelism: Int

    /// The platform's cost: 19 MiB, 2 passes, 1 lane (OWASP's first Argon2id setting); `sas bench` reports its time.
    public static let standard = PasswordHasher(memoryKiB: 19_456, iterations: 2, parallelism: 1)

    public init(memoryKiB: Int, iterations: Int, parallelism: Int = 1) {
        self.memoryKiB = memoryKiB
        self.iterations = iterations
        self.parallelism = parallelism
    }

    /// A new hash of `password` with a random 16-byte salt.
    public func hash(_ password: String) -> String {
        var salt = [UInt8](repeating: 0, count: 16)
        var generator = SystemRandomNumberGenerator()
        for i in salt.indices { salt[i] = generator.next() }
        let tag = Argon2(variant: .id, memoryKiB: memoryKiB, iterations: iterations, parallelism: parallelism)
            .hash(password: Array(password.utf8), salt: salt)
        return "$argon2id$v=19$m=\(memoryKiB),t=\(iterations),p=\(parallelism)$\(Self.b64(salt))$\(Self.b64(tag))"
    }

    /// True when `password` matches `encoded` (compared in constant time); false for a malformed hash.
    public func verify(_ password: String, against encoded: String) -> Bool {
        guard let parsed = Self.parse(encoded) else { return false }
        let tag = Argon2(variant: parsed.variant, memoryKiB: parsed.memoryKiB, iterations: parsed.iterations,
                         parallelism: parsed.parallelism)
            .hash(password: Array(password.utf8), salt: parsed.salt, tagLength: parsed.tag.count)
        var difference: UInt8 = 0
        for (a, b) in zip(tag, parsed.tag) { difference |= a ^ b }
        return difference == 0 && tag.count == parsed.tag.count
    }

    /// Burns the time of one verification (unknown accounts), so that timing does not reveal which e-mails exist.
    public func dummyVerify(_ password: String) {
        _ = Argon2(variant: .id, memoryKiB: memoryKiB, iterations: iterations, parallelism: parallelism)
            .hash(password: Array(password.utf8), salt: Array(repeating: 0x5a, count: 16))
    }

    /// True when `encoded` was made with other parameters than this hasher's (to be re-hashed at next login).
    public func needsRehash(_ encoded: String) -> Bool {
        guard let parsed = Self.parse(encoded) else { return true }
        return parsed.variant != .id || parsed.memoryKiB != memoryKiB || parsed.iterations != iterations
            || parsed.parallelism != parallelism
    }

    struct Parsed {
        var variant: Argon2.Variant
        var memoryKiB: Int
        var iterations: Int
        var parallelism: Int
        var salt: [UInt8]
        var tag: [UInt8]
    }

    static func parse(_ encoded: String) -> Parsed? {
        let parts = encoded.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0].isEmpty, parts[2] == "v=19" else { return nil }
        let variant: Argon2.Variant
        switch parts[1] {
        case "argon2id": variant = .id
        case "argon2i": variant = .i
        case "argon2d": variant = .d
        default: return nil
        }
        var values: [String: Int] = [:]
        for item in parts[3].split(separator: ",") {
            let pair = item.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, let value = Int(pair[1]) else { return nil }
            values[String(pair[0])] = value
        }
        guard let m = values["m"], let t = values["t"], let p = values["p"],
              (1...1 << 22).contains(m), (1...64).contains(t), (1...16).contains(p), m >= 8 * p,
              let salt = unb64(String(parts[4])), salt.count >= 8,
              let tag = unb64(String(parts[5])), (16...64).contains(tag.count) else { return nil }
        return Parsed(variant: variant, memoryKiB: m, iterations: t, parallelism: p, salt: salt, tag: tag)
    }

    static func b64(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "=", with: "")
    }

    static func unb64(_ text: String) -> [UInt8]? {
        var padded = text
        while padded.count % 4 != 0 { padded += "=" }
        return Data(base64Encoded: padded).map { [UInt8]($0) }
    }
}

/// The password rules (CNIL's recommendation for a password alone: at least 12 characters mixing character classes).
public struct PasswordPolicy: Sendable {
    public var minimumLength = 12
    public var maximumLength = 128

    public init() {}

    /// The French reasons `password` is refused (empty when it is acceptable).
    public func problems(_ password: String, email: String? = nil) -> [String] {
        var problems: [String] = []
        if password.count < minimumLength {
            problems.append("Le mot de passe doit contenir au moins \(minimumLength) caractères.")
        }
        if password.count > maximumLength {
            problems.append("Le mot de passe ne doit pas dépasser \(maximumLength) caractères.")
        }
        var classes = 0
        if password.contains(where: { $0.isLowercase }) { classes += 1 }
        if password.contains(where: { $0.isUppercase }) { classes += 1 }
        if password.contains(where: { $0.isNumber }) { classes += 1 }
        if password.contains(where: { !$0.isLetter && !$0.isNumber }) { classes += 1 }
        if classes < 3 {
            problems.append("Le mot de passe doit mêler au moins trois types de caractères parmi : minuscules, majuscules, chiffres, caractères spéciaux.")
        }
        if let email, let local = email.split(separator: "@").first, local.count >= 4,
           password.lowercased().contains(local.lowercased()) {
            problems.append("Le mot de passe ne doit pas contenir votre identifiant.")
        }
        if Set(password).count < 5 {
            problems.append("Le mot de passe est trop répétitif.")
        }
        return problems
    }
}
