import Testing
@testable import Identity

private func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

/// Known answers: RFC 7693 / RFC 9106 vectors, and values computed by the reference C implementation
/// (through Python's argon2-cffi and hashlib) for the other shapes.
@Suite struct Argon2Tests {
    @Test func blake2bKnownAnswers() {
        #expect(hex(Blake2b.hash(Array("abc".utf8))) ==
            "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d17d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923")
        #expect(hex(Blake2b.hash(Array(repeating: UInt8(ascii: "x"), count: 300), outputLength: 20)) ==
            "5cdff8b6d7145ae42f4dabf69e299160b8ce7a30")
        #expect(hex(Blake2b.hash([])).hasPrefix("786a02f742015903c6c6fd852552d272"))
    }

    @Test func rfc9106Argon2idVector() {
        let tag = Argon2(variant: .id, memoryKiB: 32, iterations: 3, parallelism: 4).hash(
            password: Array(repeating: 1, count: 32), salt: Array(repeating: 2, count: 16),
            secret: Array(repeating: 3, count: 8), associatedData: Array(repeating: 4, count: 12))
        #expect(hex(tag) == "0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659")
    }

    @Test func rfc9106Argon2iAndArgon2dVectors() {
        let input = (password: [UInt8](repeating: 1, count: 32), salt: [UInt8](repeating: 2, count: 16),
                     secret: [UInt8](repeating: 3, count: 8), ad: [UInt8](repeating: 4, count: 12))
        let i = Argon2(variant: .i, memoryKiB: 32, iterations: 3, parallelism: 4)
            .hash(password: input.password, salt: input.salt, secret: input.secret, associatedData: input.ad)
        #expect(hex(i) == "c814d9d1dc7f37aa13f0d77f2494bda1c8de6b016dd388d29952a4c4672b6ce8")
        let d = Argon2(variant: .d, memoryKiB: 32, iterations: 3, parallelism: 4)
            .hash(password: input.password, salt: input.salt, secret: input.secret, associatedData: input.ad)
        #expect(hex(d) == "512b391b6f1162975371d30919734294f868e3be3984f3c1a13a4db9fabe4acb")
    }

    @Test func referenceImplementationShapes() {
        #expect(hex(Argon2(variant: .id, memoryKiB: 64, iterations: 2, parallelism: 1)
            .hash(password: Array("password".utf8), salt: Array("somesalt".utf8))) ==
            "16a1a498734609dd01456da406de9f3d9da93e6c86c300a12fc1465214ce4922")
        #expect(hex(Argon2(variant: .id, memoryKiB: 256, iterations: 3, parallelism: 4)
            .hash(password: Array("Correct-Horse-9".utf8), salt: Array("0123456789abcdef".utf8))) ==
            "19dedcf43256cfb603289c268eac1c0b306406eb2dae75885af3db8e123e3b7a")
        #expect(hex(Argon2(variant: .i, memoryKiB: 1024, iterations: 2, parallelism: 2)
            .hash(password: Array("password".utf8), salt: Array("somesalt".utf8), tagLength: 24)) ==
            "8b3f5e2da454f8717c50dcc25b2db84eb3ace3c5ffd00da8")
        #expect(hex(Argon2(variant: .d, memoryKiB: 16, iterations: 1, parallelism: 2)
            .hash(password: Array("p".utf8), salt: Array("saltsalt".utf8), tagLength: 72)) ==
            "d4d57e3a2c9c357f31df6c64423a46f14c262eede056769c7d2d40e41f08655efdad1d8934d2278bd2d787b449963f9d214b754758a76d39417493d8f952ce19f9d234ba3fbab6af")
    }

    @Test func phcStringsVerifyAndRefuse() {
        let hasher = PasswordHasher(memoryKiB: 64, iterations: 1)
        let encoded = hasher.hash("Un-mot-de-passe-2026")
        #expect(encoded.hasPrefix("$argon2id$v=19$m=64,t=1,p=1$"))
        #expect(hasher.verify("Un-mot-de-passe-2026", against: encoded))
        #expect(!hasher.verify("un-mot-de-passe-2026", against: encoded))
        #expect(hasher.hash("Un-mot-de-passe-2026") != encoded, "a fresh salt each time")
        #expect(!hasher.needsRehash(encoded))
        #expect(PasswordHasher(memoryKiB: 128, iterations: 1).needsRehash(encoded))
        // Hashes from the reference implementation verify too.
        #expect(hasher.verify("password", against: "$argon2id$v=19$m=64,t=2,p=1$c29tZXNhbHQ$FqGkmHNGCd0BRW2kBt6fPZ2pPmyGwwChL8FGUhTOSSI"))
        for malformed in ["", "$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ", "$argon2id$v=16$m=64,t=1,p=1$c29tZXNhbHQ$FqGkmHNGCd0BRW2kBt6fPZ2pPmyGwwChL8FGUhTOSSI",
                          "$argon2id$v=19$m=1,t=1,p=1$c29tZXNhbHQ$FqGkmHNGCd0BRW2kBt6fPZ2pPmyGwwChL8FGUhTOSSI", "$bcrypt$x"] {
            #expect(!hasher.verify("password", against: malformed))
        }
    }

    @Test func passwordRulesAreExplainedInFrench() {
        let policy = PasswordPolicy()
        #expect(policy.problems("Court-1").contains { $0.contains("12 caractères") })
        #expect(policy.problems("toutenminusculesici").contains { $0.contains("trois types") })
        #expect(policy.problems("Marie.Dupont-2026!", email: "marie.dupont@exemple.fr").contains { $0.contains("identifiant") })
        #expect(policy.problems("Aaaaaaaaaaaa1!").contains { $0.contains("répétitif") })
        #expect(policy.problems("Régulation-Lyon-2026").isEmpty)
    }
}
