import ArgumentParser
import Foundation
import Identity

/// `sas bench password`: the time of one Argon2id verification at the configured cost (what a login costs the node
/// and what a guess costs an attacker holding a stolen hash).
struct PasswordBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "password",
        abstract: "Coût d'un hachage Argon2id (mot de passe) au réglage choisi.")

    @Option(name: .customLong("memory-kib"), help: "Mémoire Argon2id en Kio (password.memory_kib).") var memoryKiB = PasswordHasher.standard.memoryKiB
    @Option(help: "Passes.") var iterations = PasswordHasher.standard.iterations
    @Option(help: "Nombre de vérifications mesurées.") var count = 20
    @Option(help: "Écrit l'enregistrement JSON dans ce fichier.") var json: String?

    func run() async throws {
        Bench.warnIfDebug()
        let hasher = PasswordHasher(memoryKiB: memoryKiB, iterations: iterations)
        let encoded = hasher.hash("Mesure-du-coût-2026!")
        var samples: [Double] = []
        for _ in 0..<count {
            let start = ContinuousClock.now
            guard hasher.verify("Mesure-du-coût-2026!", against: encoded) else { throw ExitCode(1) }
            let elapsed = ContinuousClock.now - start
            samples.append(Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15)
        }
        samples.sort()
        let mean = samples.reduce(0, +) / Double(samples.count)
        let p50 = samples[samples.count / 2]
        print(String(format: "Argon2id m=%d KiB t=%d p=1 : %.1f ms par vérification (p50 %.1f, max %.1f), %.1f vérifications/s par cœur, pic mémoire %.0f Mio",
                     memoryKiB, iterations, mean, p50, samples.last ?? 0, 1000 / mean, Bench.peakRSSMiB()))
        try Bench.record(["bench": "password", "memory_kib": memoryKiB, "iterations": iterations, "count": count,
                          "mean_ms": mean, "p50_ms": p50, "max_ms": samples.last ?? 0, "peak_rss_mib": Bench.peakRSSMiB()], to: json)
    }
}
